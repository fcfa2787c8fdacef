/* io/checkpoint_file.c — any Keras checkpoint as a tree of layers and variables (see
 * kcb/checkpoint_file.h and doc/checkpoint-layouts.md). Knows Keras's layouts and naming rules,
 * not layers: a class it has never heard of is listed with index-named variables. */
#include "io/checkpoint_file_internal.h"
#include "io/checkpoint_source.h"
#include "io/json_python.h"
#include "model/bounds.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* ---- dtypes ------------------------------------------------------------------------------ */

static const char *const dtype_names[KCB_DTYPE_COUNT] = {"unknown", "float16", "float32", "float64", "int8",   "int16",   "int32",
                                                         "int64",   "uint8",   "uint16",  "uint32",  "uint64", "bfloat16"};
static const size_t dtype_sizes[KCB_DTYPE_COUNT] = {0, 2, 4, 8, 1, 2, 4, 8, 1, 2, 4, 8, 2};

const char *kcb_var_dtype_name(kcb_var_dtype d) { return d >= 0 && d < KCB_DTYPE_COUNT ? dtype_names[d] : "unknown"; }
size_t kcb_var_dtype_size(kcb_var_dtype d) { return d >= 0 && d < KCB_DTYPE_COUNT ? dtype_sizes[d] : 0; }

static kcb_var_dtype dtype_of(const kcb__h5_dataset_desc *d) {
  if (d->cls == H5T_FLOAT) return d->size == 2 ? KCB_DTYPE_FLOAT16 : d->size == 4 ? KCB_DTYPE_FLOAT32 : d->size == 8 ? KCB_DTYPE_FLOAT64 : KCB_DTYPE_UNKNOWN;
  if (d->cls != H5T_INTEGER) return KCB_DTYPE_UNKNOWN;
  switch (d->size) {
  case 1: return d->is_signed ? KCB_DTYPE_INT8 : KCB_DTYPE_UINT8;
  case 2: return d->is_signed ? KCB_DTYPE_INT16 : KCB_DTYPE_UINT16;
  case 4: return d->is_signed ? KCB_DTYPE_INT32 : KCB_DTYPE_UINT32;
  case 8: return d->is_signed ? KCB_DTYPE_INT64 : KCB_DTYPE_UINT64;
  default: return KCB_DTYPE_UNKNOWN;
  }
}

hid_t kcb__dtype_file_type(kcb_var_dtype d) {
  switch (d) {
  case KCB_DTYPE_FLOAT32: return H5T_IEEE_F32LE;
  case KCB_DTYPE_FLOAT64: return H5T_IEEE_F64LE;
  case KCB_DTYPE_INT8: return H5T_STD_I8LE;
  case KCB_DTYPE_INT16: return H5T_STD_I16LE;
  case KCB_DTYPE_INT32: return H5T_STD_I32LE;
  case KCB_DTYPE_INT64: return H5T_STD_I64LE;
  case KCB_DTYPE_UINT8: return H5T_STD_U8LE;
  case KCB_DTYPE_UINT16: return H5T_STD_U16LE;
  case KCB_DTYPE_UINT32: return H5T_STD_U32LE;
  case KCB_DTYPE_UINT64: return H5T_STD_U64LE;
  default: return H5I_INVALID_HID; /* float16: a type made on demand (kcb__dtype_half) */
  }
}

/* IEEE half precision as numpy stores it (h5py writes a custom 16-bit float type). */
hid_t kcb__dtype_half(void) {
  hid_t t = H5Tcopy(H5T_IEEE_F32LE);
  if (t < 0) return t;
  if (H5Tset_fields(t, 15, 10, 5, 0, 10) < 0 || H5Tset_size(t, 2) < 0 || H5Tset_ebias(t, 15) < 0) {
    H5Tclose(t);
    return H5I_INVALID_HID;
  }
  return t;
}

/* ---- names ------------------------------------------------------------------------------- */

void kcb__keras_snake_case(const char *name, char *out, size_t size) {
  /* Keras's to_snake_case: drop non-word characters; "_" before each capitalised word that
   * follows something ("MaxPooling" -> "Max_Pooling", "LSTMCell" -> "LSTM_Cell"); "_" between a
   * lower-case letter and a capital; lower-case all. */
  char a[256], b[512];
  size_t n = 0;
  for (size_t i = 0; name[i] && n + 1 < sizeof a; i++)
    if (kcb__is_alnum((unsigned char)name[i]) || name[i] == '_') a[n++] = name[i];
  a[n] = '\0';
  size_t m = 0, free_from = 0;
  for (size_t i = 0; i < n && m + 2 < sizeof b; i++) {
    if (i >= 1 && i - 1 >= free_from && kcb__is_upper((unsigned char)a[i]) && kcb__is_lower((unsigned char)a[i + 1])) {
      b[m++] = '_';
      size_t j = i + 1;
      while (j < n && kcb__is_lower((unsigned char)a[j])) j++;
      free_from = j;
    }
    b[m++] = a[i];
  }
  b[m] = '\0';
  size_t k = 0;
  for (size_t i = 0; i < m && k + 2 < size; i++) {
    out[k++] = (char)kcb__to_lower((unsigned char)b[i]);
    if (kcb__is_lower((unsigned char)b[i]) && kcb__is_upper((unsigned char)b[i + 1])) {
      out[k++] = '_';
      out[k++] = (char)kcb__to_lower((unsigned char)b[i + 1]);
      i++;
    }
  }
  out[k] = '\0';
}

/* What kcb knows of a layer class: its variables' names (trainable ones first, as Keras orders
 * them) and how many trailing ones are non-trainable. */
typedef struct class_vars {
  const char *class_name;
  const char *names[4];
  int n_non_trainable; /* the last ones */
} class_vars;

static const class_vars known_classes[] = {
    {"Dense", {"kernel", "bias"}, 0},
    {"EinsumDense", {"kernel", "bias"}, 0},
    {"Conv1D", {"kernel", "bias"}, 0},
    {"Conv2D", {"kernel", "bias"}, 0},
    {"Conv3D", {"kernel", "bias"}, 0},
    {"Conv1DTranspose", {"kernel", "bias"}, 0},
    {"Conv2DTranspose", {"kernel", "bias"}, 0},
    {"Conv3DTranspose", {"kernel", "bias"}, 0},
    {"DepthwiseConv1D", {"kernel", "bias"}, 0},
    {"DepthwiseConv2D", {"kernel", "bias"}, 0},
    {"SeparableConv1D", {"depthwise_kernel", "pointwise_kernel", "bias"}, 0},
    {"SeparableConv2D", {"depthwise_kernel", "pointwise_kernel", "bias"}, 0},
    {"BatchNormalization", {"gamma", "beta", "moving_mean", "moving_variance"}, 2},
    {"LayerNormalization", {"gamma", "beta"}, 0},
    {"GroupNormalization", {"gamma", "beta"}, 0},
    {"RMSNormalization", {"scale"}, 0},
    {"Embedding", {"embeddings"}, 0},
    {"ReversibleEmbedding", {"embeddings", "reverse_embeddings"}, 0}, /* the second unless tie_weights */
    {"PReLU", {"alpha"}, 0},
    {"AdditiveAttention", {"scale"}, 0}, /* its one variable, with use_scale */
    {"Attention", {"scale", "concat_score_weight"}, 0}, /* each as its settings ask (name_vars) */
    {"Normalization", {"mean", "variance", "count"}, 3},
    {"LSTMCell", {"kernel", "recurrent_kernel", "bias"}, 0},
    {"GRUCell", {"kernel", "recurrent_kernel", "bias"}, 0},
    {"SimpleRNNCell", {"kernel", "recurrent_kernel", "bias"}, 0},
    {"ConvLSTMCell", {"kernel", "recurrent_kernel", "bias"}, 0}, /* ConvLSTM1D/2D/3D's cell */
    /* weightless classes, so that a weights-only file still names them */
    {"InputLayer", {NULL}, 0},
    {"Activation", {NULL}, 0},
    {"Dropout", {NULL}, 0},
    {"SpatialDropout1D", {NULL}, 0},
    {"SpatialDropout2D", {NULL}, 0},
    {"Flatten", {NULL}, 0},
    {"Reshape", {NULL}, 0},
    {"MaxPooling1D", {NULL}, 0},
    {"MaxPooling2D", {NULL}, 0},
    {"AveragePooling1D", {NULL}, 0},
    {"AveragePooling2D", {NULL}, 0},
    {"GlobalAveragePooling1D", {NULL}, 0},
    {"GlobalAveragePooling2D", {NULL}, 0},
    {"GlobalMaxPooling1D", {NULL}, 0},
    {"GlobalMaxPooling2D", {NULL}, 0},
    {"ZeroPadding2D", {NULL}, 0},
    {"Rescaling", {NULL}, 0},
    {"Add", {NULL}, 0},
    {"Concatenate", {NULL}, 0},
    {"Multiply", {NULL}, 0},
    {"LSTM", {NULL}, 0},
    {"GRU", {NULL}, 0},
    {"SimpleRNN", {NULL}, 0},
    {"ConvLSTM1D", {NULL}, 0},
    {"ConvLSTM2D", {NULL}, 0},
    {"ConvLSTM3D", {NULL}, 0},
    {"RNN", {NULL}, 0},
    {"Softmax", {NULL}, 0},
    {"Bidirectional", {NULL}, 0},
    {"SpectralNormalization", {"kernel", "vector_u"}, 1}, /* kernel: its layer's, tracked again */
    {"TimeDistributed", {NULL}, 0},
    {"MultiHeadAttention", {NULL}, 0},
    {"GroupedQueryAttention", {NULL}, 0},
    {"Sequential", {NULL}, 0},
    {"Functional", {NULL}, 0},
    /* Keras 3's other layers without variables */
    {"ReLU", {NULL}, 0},
    {"LeakyReLU", {NULL}, 0},
    {"ELU", {NULL}, 0},
    {"UnitNormalization", {NULL}, 0},
    {"SpatialDropout3D", {NULL}, 0},
    {"AlphaDropout", {NULL}, 0},
    {"GaussianDropout", {NULL}, 0},
    {"GaussianNoise", {NULL}, 0},
    {"Masking", {NULL}, 0},
    {"Lambda", {NULL}, 0},
    {"Identity", {NULL}, 0},
    {"Permute", {NULL}, 0},
    {"RepeatVector", {NULL}, 0},
    {"Cropping1D", {NULL}, 0},
    {"Cropping2D", {NULL}, 0},
    {"Cropping3D", {NULL}, 0},
    {"UpSampling1D", {NULL}, 0},
    {"UpSampling2D", {NULL}, 0},
    {"UpSampling3D", {NULL}, 0},
    {"ZeroPadding1D", {NULL}, 0},
    {"ZeroPadding3D", {NULL}, 0},
    {"MaxPooling3D", {NULL}, 0},
    {"AveragePooling3D", {NULL}, 0},
    {"GlobalAveragePooling3D", {NULL}, 0},
    {"GlobalMaxPooling3D", {NULL}, 0},
    {"AdaptiveAveragePooling1D", {NULL}, 0},
    {"AdaptiveAveragePooling2D", {NULL}, 0},
    {"AdaptiveAveragePooling3D", {NULL}, 0},
    {"AdaptiveMaxPooling1D", {NULL}, 0},
    {"AdaptiveMaxPooling2D", {NULL}, 0},
    {"AdaptiveMaxPooling3D", {NULL}, 0},
    {"Subtract", {NULL}, 0},
    {"Average", {NULL}, 0},
    {"Maximum", {NULL}, 0},
    {"Minimum", {NULL}, 0},
    {"Dot", {NULL}, 0},
    {"Resizing", {NULL}, 0},
    {"CategoryEncoding", {NULL}, 0},
    {"Hashing", {NULL}, 0},
    {"HashedCrossing", {NULL}, 0},
    {"Discretization", {NULL}, 0},
    {"StackedRNNCells", {NULL}, 0},
    {"RandomFlip", {NULL}, 0}, /* the augmentations hold a seed generator's state alone */
    {"RandomRotation", {NULL}, 0},
    {"RandomZoom", {NULL}, 0},
    {"RandomTranslation", {NULL}, 0},
    {"RandomContrast", {NULL}, 0},
    {"RandomBrightness", {NULL}, 0},
    {"RandomCrop", {NULL}, 0},
    {"CenterCrop", {NULL}, 0},
};

static const class_vars *class_info(const char *class_name) {
  if (!class_name || !class_name[0]) return NULL;
  for (size_t i = 0; i < sizeof known_classes / sizeof known_classes[0]; i++)
    if (strcmp(known_classes[i].class_name, class_name) == 0) return &known_classes[i];
  return NULL;
}

/* The known class whose snake_case name is `snake` ("batch_normalization" -> BatchNormalization). */
static const char *class_from_snake(const char *snake) {
  char s[128];
  for (size_t i = 0; i < sizeof known_classes / sizeof known_classes[0]; i++) {
    kcb__keras_snake_case(known_classes[i].class_name, s, sizeof s);
    if (strcmp(s, snake) == 0) return known_classes[i].class_name;
  }
  return NULL;
}

/* A stored variable name that Keras marks non-trainable whatever its layer's class. */
static int non_trainable_name(const char *name) {
  return kcb__leaf_is(name, "moving_mean") || kcb__leaf_is(name, "moving_variance") ||
         kcb__leaf_is(name, "seed_generator_state") || kcb__leaf_is(name, "idf_weights"); /* a lookup's tf_idf */
}

/* A legacy weight name whose leaf is one of a known class's non-trainable variables
 * (Normalization's "normalization/mean:0"). */
static int class_non_trainable(const char *cls, const char *wname) {
  const class_vars *c = class_info(cls);
  if (!c || !c->n_non_trainable) return 0;
  const char *leaf = strrchr(wname, '/');
  leaf = leaf ? leaf + 1 : wname;
  size_t n = strcspn(leaf, ":"), known = 0;
  while (known < 4 && c->names[known]) known++;
  for (size_t i = known - (size_t)c->n_non_trainable; i < known; i++)
    if (strlen(c->names[i]) == n && strncmp(c->names[i], leaf, n) == 0) return 1;
  return 0;
}

int kcb__is_rnn_class(const char *c) {
  return c && (!strcmp(c, "LSTM") || !strcmp(c, "GRU") || !strcmp(c, "SimpleRNN") || !strcmp(c, "RNN") ||
               !strncmp(c, "ConvLSTM", 8));
}

void kcb__rnn_cell_class(const char *rnn, json_t *entry, char *out, size_t size) {
  /* LSTM -> LSTMCell; ConvLSTM1D/2D/3D share ConvLSTMCell; a generic RNN names its cell in its config */
  const char *cell = json_string_value(json_object_get(json_object_get(json_object_get(entry, "config"), "cell"), "class_name"));
  if (cell) snprintf(out, size, "%s", cell);
  else if (!strncmp(rnn, "ConvLSTM", 8)) snprintf(out, size, "ConvLSTMCell");
  else if (!strcmp(rnn, "RNN")) out[0] = '\0';
  else snprintf(out, size, "%sCell", rnn);
}
int kcb__is_model_class(const char *c) { return c && (!strcmp(c, "Sequential") || !strcmp(c, "Functional") || !strcmp(c, "Model")); }
int kcb__is_attention_class(const char *c) { return c && (!strcmp(c, "MultiHeadAttention") || !strcmp(c, "GroupedQueryAttention")); }
int kcb__bidi_is_backward(json_t *bidi_config, const char *name) {
  json_t *given = json_object_get(bidi_config, "backward_layer");
  return (given && !strcmp(kcb__entry_name(given), name)) || !strncmp(name, "backward_", 9);
}

/* ---- the tree ---------------------------------------------------------------------------- */

static char *dup_or_empty(const char *s) { return strdup(s ? s : ""); }

static int grow(void **items, size_t *cap, size_t n, size_t item_size) {
  if (n < *cap) return 0;
  size_t c = *cap ? 2 * *cap : 32;
  void *g = realloc(*items, c * item_size);
  if (!g) return kcb__error(KCB_ENOMEM, "out of memory");
  *items = g;
  *cap = c;
  return 0;
}

/* Appends a layer; returns its index or a negative code. */
static int add_layer(kcb_checkpoint_file *f, const char *name, const char *class_name, const char *path, json_t *entry,
                     int parent, const char *attr) {
  if (f->n_layers > 100000) return kcb__error(KCB_EFORMAT, "%s: more than 100000 layers", f->path);
  int rc = grow((void **)&f->layers, &f->cap_layers, f->n_layers, sizeof *f->layers);
  if (rc) return rc;
  kcb__ckpt_layer *l = &f->layers[f->n_layers];
  memset(l, 0, sizeof *l);
  l->pub.name = l->name = dup_or_empty(name);
  l->pub.class_name = l->class_name = dup_or_empty(class_name);
  l->pub.path = l->path = dup_or_empty(path);
  l->attr = dup_or_empty(attr);
  l->entry = entry;
  if (entry) {
    l->config_json = kcb__json_dumps_python(entry);
    l->pub.config_json = l->config_json;
  }
  l->pub.parent = parent;
  l->pub.depth = parent >= 0 ? f->layers[parent].pub.depth + 1 : 0;
  json_t *cfg = entry ? json_object_get(entry, "config") : NULL;
  json_t *tr = cfg ? json_object_get(cfg, "trainable") : NULL;
  /* a top-level layer of a model made with trainable=False is frozen too (as kcb_model_load takes it) */
  int above = parent >= 0 ? f->layers[parent].pub.trainable
                          : kcb__json_truthy(f->config ? json_object_get(f->config, "config") : NULL, "trainable", 1);
  l->pub.trainable = above && !(tr && !kcb__json_truthy(cfg, "trainable", 1));
  if (!l->name || !l->class_name || !l->path || !l->attr || (entry && !l->config_json))
    return kcb__error(KCB_ENOMEM, "out of memory");
  return (int)f->n_layers++;
}

static int raw_read(const kcb_checkpoint_file *f, uint64_t addr, void *buf, size_t n);
static int superblock_base(const kcb_checkpoint_file *f, uint64_t *base);

/* A 2-byte opaque dataset that Keras marked dtype="bfloat16" (h5py has no bfloat16 type): readable
 * when its data is stored contiguously, as Keras writes it, straight from the file's bytes (libhdf5
 * converts no opaque type to a number). Anything else stays KCB_DTYPE_UNKNOWN. */
static void bfloat16_of(kcb_checkpoint_file *f, hid_t parent, const char *name, kcb__ckpt_var *v) {
  char *tag = NULL;
  uint64_t base;
  hid_t d = H5Dopen2(parent, name, H5P_DEFAULT); /* described (and so checked) just before */
  if (d < 0) return;
  if (kcb__h5_has_attr(d, "dtype") && kcb__h5_attr_read_string(d, "dtype", &tag, f->h5name) == 0 && !strcmp(tag, "bfloat16")) {
    haddr_t at = H5Dget_offset(d);
    hsize_t stored = H5Dget_storage_size(d);
    if (at != HADDR_UNDEF && superblock_base(f, &base) == 0 && stored == (hsize_t)v->pub.count * 2) {
      v->pub.dtype = KCB_DTYPE_BFLOAT16;
      v->raw_addr = base + (uint64_t)at;
    }
  }
  kcb_error_clear();
  free(tag);
  H5Dclose(d);
}

static int add_var(kcb_checkpoint_file *f, hid_t parent_group, const char *group_path, const char *dataset,
                   const char *name, int layer, int trainable, int is_optimizer, size_t store_index) {
  if (f->n_vars > 1000000) return kcb__error(KCB_EFORMAT, "%s: more than 1000000 variables", f->path);
  int rc = grow((void **)&f->vars, &f->cap_vars, f->n_vars, sizeof *f->vars);
  if (rc) return rc;
  kcb__h5_dataset_desc d;
  if ((rc = kcb__h5_dataset_describe(parent_group, dataset, &d, f->h5name))) return rc;
  kcb__ckpt_var *v = &f->vars[f->n_vars];
  memset(v, 0, sizeof *v);
  size_t plen = strlen(group_path) + strlen(dataset) + 2;
  v->path = malloc(plen);
  v->name = dup_or_empty(name);
  if (!v->path || !v->name) {
    free(v->path);
    free(v->name);
    return kcb__error(KCB_ENOMEM, "out of memory");
  }
  if (dataset[0] == '/') snprintf(v->path, plen, "%s", dataset); /* from the file's root, as h5py reads it */
  else snprintf(v->path, plen, "%s/%s", strcmp(group_path, "/") == 0 ? "" : group_path, dataset);
  v->pub.path = v->path;
  v->pub.name = v->name;
  v->pub.layer = layer;
  v->pub.rank = d.rank;
  size_t count = 1;
  for (int i = 0; i < d.rank; i++) {
    v->pub.shape[i] = d.shape[i];
    if (__builtin_mul_overflow(count, (size_t)d.shape[i], &count) || count > ((size_t)1 << 40)) {
      f->n_vars++; /* freed with the rest */
      return kcb__error(KCB_EFORMAT, "%s: dataset '%s' is too large (over 2^40 elements)", f->h5name, v->path);
    }
  }
  /* A few bytes of file can declare a never-written dataset of 10^12 values: reading it for
   * statistics, a comparison or a conversion would take hours or all memory. One variable is held
   * to the bound a whole model is. */
  if (count > kcb_max_params()) {
    f->n_vars++;
    return kcb__error(KCB_EFORMAT,
                      "%s: dataset '%s' holds %zu values, more than kcb_max_params() = %llu (the environment "
                      "variable KCB_MAX_PARAMS raises it)",
                      f->h5name, v->path, count, (unsigned long long)kcb_max_params());
  }
  v->pub.count = count;
  v->pub.dtype = dtype_of(&d);
  if (d.cls == H5T_OPAQUE && d.size == 2) bfloat16_of(f, parent_group, dataset, v);
  /* an integer variable (Normalization's count, a seed state, a custom counter) takes no gradient */
  v->pub.trainable = trainable && !(v->pub.dtype >= KCB_DTYPE_INT8 && v->pub.dtype <= KCB_DTYPE_UINT64);
  v->pub.is_optimizer = is_optimizer;
  v->pub.owner = -1;
  v->alias_of = -1;
  v->store_index = store_index;
  if (layer >= 0) f->layers[layer].pub.n_vars++;
  f->n_vars++;
  return 0;
}

/* ---- Keras 3 store: layers/<container>/vars/<i>, sub-objects, optimizer/vars/<i> ---------- */

typedef struct member {
  char *name;
  uint64_t addr;
  int is_group;
} member;

static int by_addr(const void *a, const void *b) {
  const member *x = a, *y = b;
  return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void members_free(member *m, size_t n) {
  for (size_t i = 0; i < n && m; i++) free(m[i].name);
  free(m);
}

/* ---- creation order from a group's local heap ----------------------------------------------
 * h5py writes groups in the original format (a symbol table: a B-tree sorted by name plus a local
 * heap holding the names). Names are appended to the heap as links are made, so their heap offsets
 * give the order in which the writer created the members: the order of model.layers in a Keras
 * store, which records it nowhere else. Object addresses do not: HDF5 reuses freed fragments, so a
 * later layer's group can sit below an earlier one's. Everything here is read with bounds checks
 * from the file's bytes; any surprise leaves the caller with address order. */

static int raw_read(const kcb_checkpoint_file *f, uint64_t addr, void *buf, size_t n) {
  if (f->image) {
    if (addr > f->image_len || n > f->image_len - addr) return -1;
    memcpy(buf, (const char *)f->image + addr, n);
    return 0;
  }
  FILE *fp = fopen(f->path, "rb");
  if (!fp) return -1;
  int ok = addr <= (uint64_t)INT64_MAX && fseeko(fp, (off_t)addr, SEEK_SET) == 0 && fread(buf, 1, n, fp) == n;
  fclose(fp);
  return ok ? 0 : -1;
}

static uint64_t le(const unsigned char *p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

/* The base address of a version 0 superblock at offset 0 with 8-byte addresses (what h5py and
 * kcb write); -1 for anything else. */
static int superblock_base(const kcb_checkpoint_file *f, uint64_t *base) {
  unsigned char sb[32];
  if (raw_read(f, 0, sb, sizeof sb) || memcmp(sb, "\x89HDF\r\n\x1a\n", 8) != 0 || sb[8] != 0 || sb[13] != 8 || sb[14] != 8)
    return -1;
  *base = le(sb + 24, 8);
  return 0;
}

typedef struct named_index {
  const char *name;
  size_t i;
} named_index;

static int by_name(const void *a, const void *b) { return strcmp(((const named_index *)a)->name, ((const named_index *)b)->name); }

static int by_name_then_index(const void *a, const void *b) {
  const named_index *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* Sets each member's `addr` to its name's offset in the group's local heap; -1 when the group is
 * not in that format or a name is not found (the members are then left as they were). */
static int heap_offsets(const kcb_checkpoint_file *f, hid_t g, member *m, size_t n) {
  unsigned char hdr[16], heap[32];
  unsigned char *chunk = NULL, *data = NULL;
  uint64_t *offs = NULL, base;
  named_index *byname = NULL;
  int rc = -1;
  H5O_info_t info;
  if (n == 0) return 0;
  if (superblock_base(f, &base) || H5Oget_info2(g, &info, H5O_INFO_BASIC) < 0) return -1;
  /* version 1 object header: the symbol table message (type 0x11) in its first chunk */
  uint64_t at = base + (uint64_t)info.addr;
  if (raw_read(f, at, hdr, sizeof hdr) || hdr[0] != 1) return -1;
  size_t size = (size_t)le(hdr + 8, 4);
  if (size < 8 || size > 65536 || !(chunk = malloc(size))) return -1;
  uint64_t heap_addr = 0;
  if (raw_read(f, at + 16, chunk, size) == 0)
    for (size_t pos = 0; pos + 8 <= size;) {
      size_t type = (size_t)le(chunk + pos, 2), len = (size_t)le(chunk + pos + 2, 2);
      if (len > size - pos - 8) break;
      if (type == 0x11 && len >= 16) {
        heap_addr = le(chunk + pos + 8 + 8, 8);
        break;
      }
      pos += 8 + len;
    }
  if (!heap_addr || raw_read(f, base + heap_addr, heap, sizeof heap) || memcmp(heap, "HEAP", 4) != 0 || heap[4] != 0) goto done;
  uint64_t dsize = le(heap + 8, 8), free_head = le(heap + 16, 8), daddr = le(heap + 24, 8);
  if (dsize == 0 || dsize > ((uint64_t)64 << 20) || !(data = malloc((size_t)dsize + 1))) goto done;
  if (raw_read(f, base + daddr, data, (size_t)dsize)) goto done;
  data[dsize] = '\0';
  /* free blocks (offset, size) hold no names: blank them */
  for (int k = 0; k < 10000 && free_head + 16 <= dsize; k++) {
    uint64_t next = le(data + free_head, 8), fsize = le(data + free_head + 8, 8);
    if (fsize > dsize - free_head) break;
    memset(data + free_head, 0, (size_t)fsize);
    if (next == 1 || next <= free_head) break; /* 1: the end of the list */
    free_head = next;
  }
  /* each heap name looked up among the members sorted by name: linear in the group's size */
  if (!(offs = calloc(n, sizeof *offs)) || !(byname = malloc(n * sizeof *byname))) goto done;
  for (size_t i = 0; i < n; i++) byname[i] = (named_index){m[i].name, i};
  qsort(byname, n, sizeof *byname, by_name);
  for (uint64_t o = 8; o < dsize; o += 8) { /* offset 0 is the empty name */
    size_t len = strnlen((const char *)data + o, (size_t)(dsize - o));
    named_index key = {(const char *)data + o, 0};
    const named_index *hit = len ? bsearch(&key, byname, n, sizeof *byname, by_name) : NULL;
    if (hit && !offs[hit->i]) offs[hit->i] = o;
    o += len & ~(uint64_t)7;
  }
  for (size_t i = 0; i < n; i++)
    if (!offs[i]) goto done;
  for (size_t i = 0; i < n; i++) m[i].addr = offs[i];
  rc = 0;
done:
  free(chunk);
  free(data);
  free(offs);
  free(byname);
  return rc;
}

static int numeric_name(const char *s, size_t *out);

/* A name as Keras's store makes it, "dense_10": the length of its class part ("dense") and, in
 * *number, its "_N" suffix (0 without one, the first of its class). */
static size_t keras_name_class_len(const char *name, size_t *number) {
  const char *us = strrchr(name, '_');
  if (us && us != name && numeric_name(us + 1, number)) return (size_t)(us - name);
  *number = 0;
  return strlen(name);
}

/* A member's name as Keras's store makes it: its class in snake_case, "_N" from the second of a
 * class on ("dense", "dense_1", ..., "dense_10"). */
typedef struct keras_numbered {
  const char *name;
  size_t prefix_len, number, pos;
} keras_numbered;

static int by_prefix(const keras_numbered *x, const keras_numbered *y) {
  size_t n = x->prefix_len < y->prefix_len ? x->prefix_len : y->prefix_len;
  int c = memcmp(x->name, y->name, n);
  return c ? c : (x->prefix_len > y->prefix_len) - (x->prefix_len < y->prefix_len);
}

static int by_prefix_then_pos(const void *a, const void *b) {
  const keras_numbered *x = a, *y = b;
  int c = by_prefix(x, y);
  return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

static int by_number(const void *a, const void *b) {
  const keras_numbered *x = a, *y = b;
  return (x->number > y->number) - (x->number < y->number);
}

static int is_input_layer_name(const char *name) {
  size_t number;
  return keras_name_class_len(name, &number) == 11 && strncmp(name, "input_layer", 11) == 0;
}

/* Keras numbers a container's items of one class in the container's order (saving_lib's
 * _save_container_state), so in a store Keras wrote, each class's numbers rise along the creation
 * order. A copy of the file (h5repack, h5py's copy) makes the groups in name order instead: dense,
 * dense_1, dense_10, dense_2. When the numbers say so, each class's members are put back in their
 * numbers' order, in the places the class holds; where several classes share the container, which
 * came first is then unknown. A Functional model's input layers come first in its layers, so one
 * after another class says the same. Returns 1 when the order is a guess, else 0. (A copy whose
 * classes each have ten layers or fewer keeps Keras's numbering in name order and is not told
 * apart here: a model's own order can be its names' order too, as input_layer, lstm; *in_name_order
 * says when the members of several classes are in name order, for the optimizer's slots to decide.) */
static int keras_numbering_order(member *m, size_t n, int *in_name_order) {
  keras_numbered *k = malloc((n + 1) * sizeof *k);
  member *ordered = malloc((n + 1) * sizeof *ordered);
  size_t *slots = malloc((n + 1) * sizeof *slots);
  int guessed = 0, broken = 0;
  *in_name_order = 0;
  if (!k || !ordered || !slots) goto done;
  for (size_t i = 0; i < n; i++) {
    k[i] = (keras_numbered){m[i].name, 0, 0, i};
    k[i].prefix_len = keras_name_class_len(m[i].name, &k[i].number);
  }
  qsort(k, n, sizeof *k, by_prefix_then_pos);
  size_t classes = 0;
  for (size_t i = 0; i < n; i++) {
    int same = i > 0 && by_prefix(&k[i], &k[i - 1]) == 0;
    classes += !same;
    if (same && k[i].number <= k[i - 1].number) broken = 1;
  }
  for (size_t i = 1; i < n && !guessed; i++) /* an input layer after a layer of another class */
    guessed = is_input_layer_name(m[i].name) && !is_input_layer_name(m[i - 1].name);
  *in_name_order = classes > 1;
  for (size_t i = 1; i < n && *in_name_order; i++) *in_name_order = strcmp(m[i - 1].name, m[i].name) < 0;
  if (!broken) goto done;
  for (size_t i = 0, j; i < n; i = j) { /* each class: its places, then its members by number */
    for (j = i + 1; j < n && by_prefix(&k[j], &k[i]) == 0; j++) {}
    for (size_t q = i; q < j; q++) slots[q] = k[q].pos;
    qsort(k + i, j - i, sizeof *k, by_number);
    for (size_t q = i; q < j; q++) ordered[slots[q]] = m[k[q].pos];
  }
  memcpy(m, ordered, n * sizeof *m);
  guessed = guessed || classes > 1;
done:
  free(k);
  free(ordered);
  free(slots);
  return guessed;
}

/* The members of group `path`, in the order their writer created them (creation_order: from the
 * local heap where the file keeps it, else by address; otherwise by address only, which costs no
 * extra read). */
static int list_members(kcb_checkpoint_file *f, const char *path, member **out, size_t *n, int creation_order) {
  *out = NULL;
  *n = 0;
  hid_t g;
  int rc = kcb__h5_group_open(&g, f->file, path, f->h5name);
  if (rc) return rc;
  char **names = NULL;
  size_t count = 0;
  member *m = NULL;
  KCB__TRY(kcb__h5_link_names(g, &names, &count, f->h5name));
  m = calloc(count + 1, sizeof *m);
  if (!m) KCB__TRY(kcb__error(KCB_ENOMEM, "out of memory"));
  for (size_t i = 0; i < count; i++) {
    m[i].name = names[i];
    names[i] = NULL;
    KCB__TRY(kcb__h5_object_addr(g, path[0] == '/' ? path + 1 : path, m[i].name, &m[i].addr, &m[i].is_group, f->h5name));
  }
  /* else, or when it fails: addresses (and the layers' order is then a guess) */
  if (creation_order && heap_offsets(f, g, m, count) != 0) f->order_guessed = 1;
  qsort(m, count, sizeof *m, by_addr);
  int in_name_order = 0;
  if (creation_order && keras_numbering_order(m, count, &in_name_order)) f->order_guessed = 1;
  if (in_name_order) f->order_by_names = 1;
  *out = m;
  *n = count;
  m = NULL;
done:
  members_free(m, count);
  kcb__h5_strings_free(names, count);
  kcb__h5_close(g);
  return rc;
}

static int numeric_name(const char *s, size_t *out) {
  if (!*s) return 0;
  size_t v = 0;
  for (; *s; s++) {
    if (!isdigit((unsigned char)*s) || v > 100000000) return 0;
    v = v * 10 + (size_t)(*s - '0');
  }
  *out = v;
  return 1;
}

/* The known class a weights-only file's layer name stands for, the way Keras named it: its class in
 * snake_case, with a "_N" suffix for the second and later ("batch_normalization_1"). NULL when the
 * name is not one Keras makes (a name chosen by the user). */
static const char *class_from_layer_name(const char *name) {
  char snake[128];
  size_t number, len = keras_name_class_len(name, &number);
  snprintf(snake, sizeof snake, "%.*s", (int)(len < sizeof snake ? len : sizeof snake - 1), name);
  return class_from_snake(snake);
}

/* Orders a vars group's datasets (names vars[0..n), as listed): order[k] = 1 + the position of
 * dataset "k" for every k below the count of numbered ones, each present; then, with
 * keys_allowed, the datasets a few layers store by key (StringLookup's "idf_weights", a
 * TorchModuleWrapper's state_dict keys) in name order; without, such a name is an error. order
 * holds n + 1 zeroed entries; *out_numbered gets the count of numbered datasets. */
static int vars_order(const kcb_checkpoint_file *f, const char *vars_path, char *const *vars, size_t n, int keys_allowed,
                      size_t *order, size_t *out_numbered) {
  size_t n_num = 0, idx;
  for (size_t i = 0; i < n; i++) n_num += numeric_name(vars[i], &idx);
  const size_t bound = keys_allowed ? n_num : n;
  for (size_t i = 0; i < n; i++) {
    int numbered = numeric_name(vars[i], &idx);
    if (!numbered && keys_allowed) continue;
    if (!numbered || idx >= bound)
      return kcb__error(KCB_EFORMAT, "%s: '%s/%s' is not a variable index 0..%zu (Keras names them 0, 1, ...)",
                        f->h5name, vars_path, vars[i], bound - 1);
    order[idx] = i + 1;
  }
  for (size_t i = 0; i < bound; i++)
    if (!order[i]) return kcb__error(KCB_EFORMAT, "%s: '%s' has no variable %zu", f->h5name, vars_path, i);
  for (size_t i = 0, k = n_num; i < n; i++)
    if (!numeric_name(vars[i], &idx)) order[k++] = i + 1;
  *out_numbered = n_num;
  return 0;
}

static json_t *entry_config(json_t *entry) { return entry ? json_object_get(entry, "config") : NULL; }
const char *kcb__entry_class(json_t *entry) {
  const char *c = entry ? json_string_value(json_object_get(entry, "class_name")) : NULL;
  const char *registered = c ? strrchr(c, '>') : NULL; /* a legacy config's "Package>Name": the class Name */
  return registered && registered[1] ? registered + 1 : c ? c : "";
}
const char *kcb__entry_name(json_t *entry) {
  const char *n = json_string_value(json_object_get(entry_config(entry), "name"));
  if (!n) n = json_string_value(json_object_get(entry, "name"));
  return n ? n : "";
}

json_t *kcb__entry_layers(json_t *entry, int for_store) {
  json_t *layers = json_object_get(entry_config(entry), "layers");
  if (!json_is_array(layers)) return NULL;
  json_t *out = json_array();
  if (!out) return NULL;
  int sequential = strcmp(kcb__entry_class(entry), "Sequential") == 0;
  size_t i;
  json_t *l;
  json_array_foreach(layers, i, l) {
    /* Sequential.layers hides its InputLayer; a Functional model lists its inputs. */
    if (sequential && for_store && strcmp(kcb__entry_class(l), "InputLayer") == 0) continue;
    json_array_append(out, l);
  }
  return out;
}

const char *kcb__config_quantization(json_t *layer_config) {
  json_t *dtype = json_object_get(layer_config, "dtype");
  const char *cls = json_string_value(json_object_get(dtype, "class_name"));
  const char *mode = json_string_value(json_object_get(json_object_get(dtype, "config"), "mode"));
  if (mode) return mode;
  if (cls && strstr(cls, "Quantized")) return "quantized";
  json_t *q = json_object_get(layer_config, "quantization_config"); /* null when not quantized */
  return q && !json_is_null(q) ? "quantized" : NULL;
}

/* A quantized layer's variables, as Keras 3.15's variable_serialization_spec orders them for `mode`
 * (Dense's and EinsumDense's are one list, Embedding's its own); entries that only some layers
 * have (the bias without use_bias=False or bias_axes, int4's sub-channel zero point and g_idx) are
 * told by the count n. Only float8's stay trainable (their gradients overwrite them); the others'
 * kernels and scales are frozen, their bias trains. */
static void name_quantized(const char *cls, const char *mode, json_t *entry, size_t n, const char **names, int *trainable) {
  static const char *const int8[] = {"kernel", "bias", "kernel_scale", NULL};
  static const char *const int4[] = {"kernel", "bias", "kernel_scale", "kernel_zero", "g_idx", NULL};
  static const char *const float8[] = {"kernel", "bias", "inputs_scale", "inputs_amax_history", "kernel_scale",
                                       "kernel_amax_history", "outputs_grad_scale", "outputs_grad_amax_history", NULL};
  /* (GPTQ and AWQ keep a zero point but do not store it: save_own_variables skips kernel_zero
   * when the merged kernel has none; their quantized kernel is the variable named "kernel") */
  static const char *const gptq[] = {"bias", "kernel", "kernel_scale", "g_idx", NULL};
  static const char *const awq[] = {"bias", "kernel", "kernel_scale", "awq_scales", "g_idx", NULL};
  static const char *const emb_int8[] = {"embeddings", "embeddings_scale", NULL};
  static const char *const emb_int4[] = {"embeddings", "embeddings_scale", "embeddings_zero", "g_idx", NULL};
  static const char *const rev_int8[] = {"embeddings", "embeddings_scale", "reverse_embeddings", "reverse_embeddings_scale", NULL};
  size_t base = strcspn(mode, "/"); /* "int4/128": int4 with blocks of 128 */
  int is_int8 = !strncmp(mode, "int8", base) && base == 4, is_int4 = !strncmp(mode, "int4", base) && base == 4;
  const char *const *spec = NULL;
  json_t *cfg = entry_config(entry);
  int bias = 0;
  if (!strcmp(cls, "Embedding")) {
    spec = is_int8 ? emb_int8 : is_int4 ? emb_int4 : NULL;
  } else if (!strcmp(cls, "ReversibleEmbedding")) {
    spec = is_int8 ? (n == 2 ? emb_int8 : rev_int8) : NULL; /* tied: no reverse pair */
    if (!spec) /* int4's optional parts: by position, and none of an embedding's variables trains */
      for (size_t i = 0; i < n; i++) trainable[i] = 0;
  } else if (!strcmp(cls, "Dense") || !strcmp(cls, "EinsumDense")) {
    spec = is_int8                                             ? int8
           : is_int4                                           ? int4
           : !strncmp(mode, "float8", base) && base == 6 ? float8
           : !strncmp(mode, "gptq", base) && base == 4   ? gptq
           : !strncmp(mode, "awq", base) && base == 3    ? awq
                                                         : NULL;
    const char *axes = json_string_value(json_object_get(cfg, "bias_axes"));
    bias = !strcmp(cls, "Dense") ? !json_is_false(json_object_get(cfg, "use_bias")) : axes && axes[0];
  }
  if (!spec) return;
  size_t full = 0;
  while (spec[full]) full++;
  int optional_pair = spec == int4 || spec == emb_int4; /* the zero point and g_idx of sub-channel int4 */
  int sub_channel = optional_pair && n == full - (spec == int4 && !bias);
  size_t k = 0;
  for (size_t i = 0; spec[i]; i++) {
    if (!strcmp(spec[i], "bias") && !bias) continue;
    if (optional_pair && !sub_channel && i + 2 >= full) continue;
    if (k == n) { /* more than the file holds: not what we know */
      k = n + 1;
      break;
    }
    names[k] = spec[i];
    trainable[k] = spec == float8 || !strcmp(spec[i], "bias");
    k++;
  }
  if (k != n)
    for (size_t i = 0; i < n; i++) names[i] = NULL, trainable[i] = 1;
}

/* LoRA (lora_rank > 0) freezes a layer's kernel or embeddings; its factors train. */
static int lora_enabled(json_t *cfg) {
  json_t *lora = json_object_get(cfg, "lora_rank");
  return json_is_integer(lora) && json_integer_value(lora) > 0;
}

/* Whether a variable named `leaf` trains where its layer's settings decide (a legacy file, which
 * names them): LoRA's factors do, the base kernel or embeddings LoRA froze do not; a quantized
 * layer's bias does, its other variables only under float8. -1: the settings do not say. */
static int settings_trainable(json_t *cfg, const char *leaf) {
  if (!strncmp(leaf, "lora_", 5)) return 1;
  if (lora_enabled(cfg) && (!strcmp(leaf, "kernel") || !strcmp(leaf, "embeddings"))) return 0;
  const char *mode = kcb__config_quantization(cfg);
  if (mode) return !strncmp(mode, "float8", 6) || !strcmp(leaf, "bias");
  return -1;
}

/* The names of the variables of a layer of class `cls` that holds n of them, and whether each is
 * trainable; NULL names mean "<index>". */
static void name_vars(const char *cls, json_t *entry, size_t n, const char **names, int *trainable) {
  for (size_t i = 0; i < n; i++) names[i] = NULL, trainable[i] = 1;
  const class_vars *c = class_info(cls);
  if (!c || !c->names[0]) return;
  const char *quantization = entry ? kcb__config_quantization(entry_config(entry)) : NULL;
  if (quantization) {
    name_quantized(cls, quantization, entry, n, names, trainable);
    return; /* another class's quantized variables: by position */
  }
  int lora = lora_enabled(entry_config(entry)); /* the merged kernel or embeddings are frozen */
  size_t known = 0;
  while (known < 4 && c->names[known]) known++;
  if (strcmp(cls, "BatchNormalization") == 0 || strcmp(cls, "LayerNormalization") == 0 ||
      strcmp(cls, "GroupNormalization") == 0) {
    /* gamma only with scale, beta only with center; the moving statistics always */
    json_t *cfg = entry_config(entry);
    /* (a number is a truth, as Python reads it: scale: 0 builds no gamma) */
    json_t *scale_v = json_object_get(cfg, "scale"), *center_v = json_object_get(cfg, "center");
    int scale = !(json_is_false(scale_v) || (json_is_number(scale_v) && json_number_value(scale_v) == 0));
    int center = !(json_is_false(center_v) || (json_is_number(center_v) && json_number_value(center_v) == 0));
    /* LayerNormalization's rms_scaling keeps gamma alone; BatchNormalization's renorm adds three
     * statistics after the moving ones */
    int rms = json_is_true(json_object_get(cfg, "rms_scaling")), renorm = json_is_true(json_object_get(cfg, "renorm"));
    if (rms) scale = 1, center = 0;
    size_t stats = (size_t)c->n_non_trainable + (renorm ? 3 : 0);
    if (n < stats) return;
    size_t k = 0;
    const char *lead[2];
    if (!entry) {
      if (n - stats == 2) lead[k++] = "gamma", lead[k++] = "beta";
    } else {
      if (scale) lead[k++] = "gamma";
      if (center) lead[k++] = "beta";
    }
    if (k != n - stats) k = 0;
    for (size_t i = 0; i < k; i++) names[i] = lead[i];
    static const char *const renorm_stats[3] = {"moving_stddev", "renorm_mean", "renorm_stddev"};
    for (size_t i = 0; i < stats; i++)
      names[n - stats + i] = i < 2 ? c->names[2 + i] : renorm_stats[i - 2], trainable[n - stats + i] = 0;
    return;
  }
  if (strcmp(cls, "Attention") == 0) { /* scale with use_scale, concat_score_weight with score_mode "concat" */
    json_t *cfg = entry_config(entry);
    const char *mode = json_string_value(json_object_get(cfg, "score_mode"));
    const char *lead[2];
    size_t k = 0;
    if (!entry) { /* weights only: two are both; one could be either */
      if (n == 2) lead[k++] = "scale", lead[k++] = "concat_score_weight";
    } else {
      if (json_is_true(json_object_get(cfg, "use_scale"))) lead[k++] = "scale";
      if (mode && !strcmp(mode, "concat")) lead[k++] = "concat_score_weight";
    }
    for (size_t i = 0; k == n && i < k; i++) names[i] = lead[i];
    return;
  }
  if (!strcmp(cls, "ReversibleEmbedding") && n == 1) { /* tie_weights: the embeddings alone */
    names[0] = c->names[0];
    trainable[0] = !lora;
    return;
  }
  if (n != known && !(known == 2 && n == 1 && strcmp(c->names[1], "bias") == 0) &&
      !(known == 3 && n == 2 && strcmp(c->names[2], "bias") == 0))
    return; /* use_bias=False drops the trailing bias; anything else is not what we know */
  for (size_t i = 0; i < n; i++) {
    names[i] = c->names[i];
    trainable[i] = (int)i < (int)known - c->n_non_trainable &&
                   !(lora && (!strcmp(names[i], "kernel") || !strcmp(names[i], "embeddings")));
  }
}

static int walk_object(kcb_checkpoint_file *f, const char *path, json_t *entry, int parent, const char *attr,
                       const char *scope, const char *class_hint);

/* Where a sub-object comes in its layer's tracking order (lower first); 100: unknown, kept in the
 * order Keras wrote it. layers_first: a `layers` attribute is a Sequential's or Functional's
 * layers, walked first (a subclassed model's is an ordinary attribute). */
static int sub_rank(const char *cls, const char *attr, int layers_first) {
  static const char *const bidi[] = {"forward_layer", "backward_layer", NULL};
  static const char *const mha[] = {"query_dense", "key_dense", "gate_dense", "value_dense", "output_dense", NULL};
  const char *const *order = !strcmp(cls, "Bidirectional") ? bidi
                             : kcb__is_attention_class(cls) ? mha : NULL;
  if ((!strcmp(attr, "layers") && layers_first) || !strcmp(attr, "_layer_checkpoint_dependencies"))
    return -1; /* a Sequential's or Functional's layers: Keras walks them first */
  if (attr[0] == '_') attr++;             /* older Keras 3 has only the private attributes */
  for (int i = 0; order && order[i]; i++)
    if (!strcmp(order[i], attr)) return i;
  return 100;
}

/* Keras writes attribute objects in sorted order of their names, private ("_x") ones last. */
static int attr_before(const char *a, const char *b) {
  if ((a[0] == '_') != (b[0] == '_')) return b[0] == '_';
  return strcmp(a, b) < 0;
}

static int by_attr(const void *a, const void *b) {
  const member *x = a, *y = b; /* addr holds the rank (sort_sub_objects); names are unique */
  if (x->addr != y->addr) return x->addr < y->addr ? -1 : 1;
  return attr_before(x->name, y->name) ? -1 : 1;
}

static void sort_sub_objects(const char *cls, int layers_first, member *m, size_t n) {
  for (size_t i = 0; i < n; i++) m[i].addr = (uint64_t)(sub_rank(cls, m[i].name, layers_first) + 1);
  qsort(m, n, sizeof *m, by_attr); /* n log n: a hostile file may hold many sub-objects */
}

/* Whether a model's layers container holds an InputLayer (a Sequential hides its own; a
 * Functional lists its inputs): how a weights-only store tells the two apart (Keras >= 3.0 writes a
 * group for every layer, weightless ones included). */
static int container_has_input(const kcb_checkpoint_file *f, const char *layers_path) {
  char p[KCB__H5_PATH_MAX + 80];
  snprintf(p, sizeof p, "%s/input_layer", layers_path);
  return kcb__h5_exists(f->file, p);
}

/* The name scope a model's layers built their variables in, so their Keras paths: a Functional's
 * layers were built when its graph was made, in no scope; a Sequential's in its own, which is
 * inside its parent's unless it had an Input and was built when it was made. */
static void model_scope(const kcb_checkpoint_file *f, const char *layers_path, json_t *entry, const char *cls,
                        const char *own_scope, char *out, size_t size) {
  int functional = !strcmp(cls, "Functional") || !strcmp(cls, "Model") || (!entry && container_has_input(f, layers_path));
  if (functional) {
    out[0] = '\0';
    return;
  }
  int has_input = 0;
  json_t *layers = json_object_get(entry_config(entry), "layers");
  size_t i;
  json_t *l;
  json_array_foreach(layers, i, l) has_input |= !strcmp(kcb__entry_class(l), "InputLayer");
  const char *slash = strrchr(own_scope, '/');
  snprintf(out, size, "%s/", has_input && slash ? slash + 1 : own_scope);
}

/* A container group (`layers`): one object per member; with a config, members are matched to its
 * layers as Keras names them (snake_case of the class, `_k` per repeat). */
/* Keras names a container's layers by class, numbered in order ("dense", "dense_1", ...), before it
 * passes over one already saved: a layer shared with a nested model saved earlier leaves its number
 * out. Notes the first such gap of a weights-only store (its legacy layout would list that layer
 * twice, which the store cannot). */
static void note_numbering_gap(kcb_checkpoint_file *f, const char *path, const member *m, size_t n) {
  for (size_t j = 0; j < n; j++) {
    if (!m[j].is_group) continue;
    const char *us = strrchr(m[j].name, '_');
    char *end;
    long k = us && us[1] >= '1' && us[1] <= '9' ? strtol(us + 1, &end, 10) : 0;
    if (k <= 0 || *end || k > 100000) continue;
    char before[512];
    size_t base = (size_t)(us - m[j].name);
    if (base > 400) continue;
    if (k == 1) snprintf(before, sizeof before, "%.*s", (int)base, m[j].name);
    else snprintf(before, sizeof before, "%.*s_%ld", (int)base, m[j].name, k - 1);
    size_t q = 0;
    for (; q < n && !(m[q].is_group && strcmp(m[q].name, before) == 0); q++) {}
    if (q == n) {
      snprintf(f->store_gap, sizeof f->store_gap, "'%.60s' holds '%.60s' but no '%.60s'", path, m[j].name, before);
      return;
    }
  }
}

static herr_t count_dataset(hid_t obj, const char *name, const H5O_info_t *info, void *found) {
  (void)obj, (void)name;
  if (info->type == H5O_TYPE_DATASET) *(int *)found = 1;
  return *(int *)found; /* stops at the first */
}

/* Whether the layer at container/name has weights: a variable anywhere below it (a nested model's,
 * an RNN's cell's, a wrapper's layer's count as its own, as in layer.weights). */
static int holds_vars(kcb_checkpoint_file *f, const char *container, const char *name) {
  char group[KCB__H5_PATH_MAX + 300];
  snprintf(group, sizeof group, "%s/%s", container, name);
  int found = 0;
  if (!kcb__h5_exists(f->file, group) ||
      H5Ovisit_by_name2(f->file, group, H5_INDEX_NAME, H5_ITER_NATIVE, count_dataset, &found, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
    return H5Eclear2(H5E_DEFAULT), 0;
  return found;
}

/* Keras's names for the layers of a container: each class's snake-case name, numbered from its
 * second layer on ("dense", "dense_1"). */
typedef struct class_names {
  struct {
    char snake[128];
    int count;
  } seen[256];
  size_t n;
} class_names;

/* The name of the next layer of class cls into cname; returns its class's count, which the caller
 * advances (by 1 in Keras 3, by 2 for a layer with weights in tf.keras 2.13), or NULL past 256
 * classes (the name is then the bare class's). */
static int *next_class_name(class_names *c, const char *cls, char *cname, size_t size) {
  char snake[128];
  kcb__keras_snake_case(cls, snake, sizeof snake);
  size_t s = 0;
  for (; s < c->n && strcmp(c->seen[s].snake, snake) != 0; s++) {}
  if (s == c->n && c->n < 256) {
    kcb__strlcpy(c->seen[c->n].snake, snake, sizeof c->seen[c->n].snake);
    c->seen[c->n++].count = 0;
  }
  int *count = s < c->n ? &c->seen[s].count : NULL;
  if (count && *count) snprintf(cname, size, "%s_%d", snake, *count);
  else snprintf(cname, size, "%s", snake);
  return count;
}

/* Whether every layer of cfg_layers has its group in container under tf.keras 2.13's names (a
 * class's count taking two numbers for a layer with weights, one for a layer without). */
static int doubled_names_fit(kcb_checkpoint_file *f, const char *container, json_t *cfg_layers) {
  class_names names = {0};
  size_t i;
  json_t *entry;
  json_array_foreach(cfg_layers, i, entry) {
    char cname[160], group[KCB__H5_PATH_MAX + 200];
    int *count = next_class_name(&names, kcb__entry_class(entry), cname, sizeof cname);
    snprintf(group, sizeof group, "%s/%s", container, cname);
    if (!count || !kcb__h5_exists(f->file, group)) return 0;
    *count += holds_vars(f, container, cname) ? 2 : 1;
  }
  return 1;
}

static int walk_container(kcb_checkpoint_file *f, const char *path, json_t *cfg_layers, int parent, const char *scope) {
  member *m = NULL;
  size_t n = 0;
  int rc = 0;
  char *used = NULL;
  if (++f->walk_depth > KCB__CKPT_MAX_DEPTH)
    KCB__TRY(kcb__error(KCB_EFORMAT, "%s: layers nested more than %d deep at '%s'", f->h5name, KCB__CKPT_MAX_DEPTH, path));
  /* the order only matters without a config (a weights-only store records model.layers nowhere else) */
  KCB__TRY(list_members(f, path, &m, &n, cfg_layers == NULL));
  used = calloc(n + 1, 1);
  if (!used) KCB__TRY(kcb__error(KCB_ENOMEM, "out of memory"));
  if (cfg_layers) {
    class_names names = {0};
    size_t i;
    json_t *entry;
    /* tf.keras 2.13 walked a dict that holds each layer with weights twice (as
     * layer_with_weights-i and layer-j): its name counter took two numbers for such a layer, so a
     * second Dense is dense_2 there, dense_1 in Keras 3 (whose names a file may hold there too) */
    const char *base = strrchr(path, '/');
    int tf213 = base && strcmp(base + 1, "_layer_checkpoint_dependencies") == 0 && doubled_names_fit(f, path, cfg_layers);
    json_array_foreach(cfg_layers, i, entry) {
      char cname[160];
      int *count = next_class_name(&names, kcb__entry_class(entry), cname, sizeof cname);
      size_t j = 0;
      for (; j < n && (used[j] || !m[j].is_group || strcmp(m[j].name, cname) != 0); j++) {}
      char child[KCB__H5_PATH_MAX];
      if (count) *count += tf213 && j < n && holds_vars(f, path, cname) ? 2 : 1;
      if (j < n) {
        used[j] = 1;
        KCB__TRY(kcb__h5_path_join(child, sizeof child, path, cname, f->h5name));
        KCB__TRY(walk_object(f, child, entry, parent, cname, scope, NULL));
      } else {
        /* Keras before 3.6 wrote no group for a weightless layer: list it all the same. */
        int li = add_layer(f, kcb__entry_name(entry), kcb__entry_class(entry), "", entry, parent, cname);
        if (li < 0) KCB__TRY(li);
      }
    }
  }
  if (!cfg_layers && !f->store_gap[0]) note_numbering_gap(f, path, m, n);
  for (size_t j = 0; j < n; j++) {
    if (used[j] || !m[j].is_group) continue;
    char child[KCB__H5_PATH_MAX];
    KCB__TRY(kcb__h5_path_join(child, sizeof child, path, m[j].name, f->h5name));
    KCB__TRY(walk_object(f, child, NULL, parent, m[j].name, scope, NULL));
  }
done:
  f->walk_depth--;
  free(used);
  members_free(m, n);
  return rc;
}

/* A vars group's `name` attribute, or NULL when it is absent or holds no string: only a hint for
 * naming, which Keras's loader never reads, so an odd one does not make the file unreadable. */
static int read_optional_name(hid_t g, char **out, const char *file) {
  char **list = NULL;
  size_t n = 0;
  *out = NULL;
  int rc = kcb__h5_attr_read_strings(g, "name", &list, &n, file);
  if (rc) return rc;
  if (n && list[0][0]) {
    *out = list[0];
    list[0] = NULL;
  }
  kcb__h5_strings_free(list, n);
  return 0;
}

static int read_name_attr(kcb_checkpoint_file *f, const char *vars_path, char **out) {
  *out = NULL;
  if (!kcb__h5_exists(f->file, vars_path)) return 0;
  hid_t g;
  int rc = kcb__h5_group_open(&g, f->file, vars_path, f->h5name);
  if (rc) return rc;
  rc = read_optional_name(g, out, f->h5name);
  kcb__h5_close(g);
  return rc;
}

/* Records the group at `path` as read. Keras writes a tree; a group reached a second time (hard
 * links that make a graph of it) is refused, or every path to it would be read again, exponentially
 * many in a small file. */
static int walk_once(kcb_checkpoint_file *f, const char *path) {
  H5O_info_t info;
  if (H5Oget_info_by_name2(f->file, path, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
    return kcb__error(KCB_EFORMAT, "%s: cannot read the object at '%s'", f->h5name, path);
  uint64_t key = (uint64_t)info.addr + 1; /* 0 marks an empty slot */
  if (2 * (f->n_walked + 1) > f->walked_cap) {
    size_t cap = f->walked_cap ? 2 * f->walked_cap : 64;
    uint64_t *grown = calloc(cap, sizeof *grown);
    if (!grown) return kcb__error(KCB_ENOMEM, "out of memory");
    for (size_t i = 0; i < f->walked_cap; i++)
      if (f->walked[i]) {
        size_t j = (size_t)(f->walked[i] * 0x9E3779B97F4A7C15ull) & (cap - 1);
        while (grown[j]) j = (j + 1) & (cap - 1);
        grown[j] = f->walked[i];
      }
    free(f->walked);
    f->walked = grown, f->walked_cap = cap;
  }
  size_t j = (size_t)(key * 0x9E3779B97F4A7C15ull) & (f->walked_cap - 1);
  for (; f->walked[j]; j = (j + 1) & (f->walked_cap - 1))
    if (f->walked[j] == key)
      return kcb__error(KCB_EFORMAT, "%s: the group '%s' was already read under another name: a hard link to it "
                        "makes the file a graph, not the tree Keras writes", f->h5name, path);
  f->walked[j] = key;
  f->n_walked++;
  return 0;
}

/* A list (or dict) of a layer's objects, or of a subclassed model's (parent -1): Keras writes
 * every object with a `vars` group, but a container only as the group of its items
 * (_save_container_state), named by the items in the list's order ("dense", "dense_1", ...,
 * "dense_10"), which a legacy file's order follows. It is no object of its own: its items belong
 * to the layer or model, in its name scope. */
static int walk_list(kcb_checkpoint_file *f, const char *path, int parent, const char *scope) {
  int rc = 0;
  member *m = NULL;
  size_t n = 0;
  KCB__TRY(list_members(f, path, &m, &n, 1));
  size_t first_item = f->n_layers;
  for (size_t j = 0; j < n; j++) {
    if (!m[j].is_group) continue;
    char child[KCB__H5_PATH_MAX];
    KCB__TRY(kcb__h5_path_join(child, sizeof child, path, m[j].name, f->h5name));
    KCB__TRY(walk_object(f, child, NULL, parent, m[j].name, scope, NULL));
  }
  for (size_t l = first_item; l < f->n_layers; l++)
    if (f->layers[l].pub.parent == parent) f->layers[l].in_list = 1;
done:
  members_free(m, n);
  return rc;
}

/* One object (a layer, a cell, a wrapped layer): its own `vars`, then its sub-objects. */
static int walk_object(kcb_checkpoint_file *f, const char *path, json_t *entry, int parent, const char *attr,
                       const char *scope, const char *class_hint) {
  int rc = 0;
  char *stored_name = NULL, **vars = NULL;
  size_t n_vars = 0, n = 0;
  member *m = NULL;
  json_t *nested = NULL;
  const char **names = NULL;
  int *trainable = NULL;
  size_t *order = NULL;
  char vars_path[KCB__H5_PATH_MAX], own_scope[KCB__H5_PATH_MAX], cname[128] = "";
  hid_t g = H5I_INVALID_HID;
  if (++f->walk_depth > KCB__CKPT_MAX_DEPTH)
    KCB__TRY(kcb__error(KCB_EFORMAT, "%s: objects nested more than %d deep at '%s'", f->h5name, KCB__CKPT_MAX_DEPTH, path));
  KCB__TRY(walk_once(f, path));
  KCB__TRY(kcb__h5_path_join(vars_path, sizeof vars_path, path, "vars", f->h5name));
  if (!entry && parent >= 0 && !kcb__h5_exists(f->file, vars_path)) {
    rc = walk_list(f, path, parent, scope);
    goto done;
  }
  if (kcb__h5_exists(f->file, vars_path)) {
    KCB__TRY(kcb__h5_group_open(&g, f->file, vars_path, f->h5name));
    KCB__TRY(read_optional_name(g, &stored_name, f->h5name));
  }
  const char *cls = entry ? kcb__entry_class(entry) : class_hint;
  for (int pass = 0; pass < 2 && (!cls || !cls[0]); pass++) {
    /* A weights-only file names containers after the class ("batch_normalization_1"); an attribute
     * object ("forward_layer", "cell") only by its `name`, which is the class's when Keras chose it
     * ("lstm_cell", "dense_2"; Bidirectional's copies "forward_lstm"). */
    const char *from = pass == 0 ? attr : stored_name;
    if (!from) continue;
    if (pass == 1 && !strncmp(from, "forward_", 8)) from += 8;
    else if (pass == 1 && !strncmp(from, "backward_", 9)) from += 9;
    cls = class_from_layer_name(from);
    if (cls) kcb__strlcpy(cname, cls, sizeof cname);
    cls = cname;
  }
  const char *name = entry ? kcb__entry_name(entry) : stored_name ? stored_name : attr;
  if (!entry && !stored_name && g >= 0) f->names_guessed = 1;
  int li = add_layer(f, name, cls, path, entry, parent, attr);
  if (li < 0) KCB__TRY(li);
  snprintf(own_scope, sizeof own_scope, "%s%s", scope, name);
  if (g >= 0) {
    rc = kcb__h5_link_names(g, &vars, &n_vars, f->h5name);
    if (rc == 0) {
      names = calloc(n_vars + 1, sizeof *names);
      trainable = calloc(n_vars + 1, sizeof *trainable);
      order = calloc(n_vars + 1, sizeof *order);
      if (!names || !trainable || !order) rc = kcb__error(KCB_ENOMEM, "out of memory");
    }
    /* datasets 0..n-1 in numeric order (names sort "10" before "2"); a few layers store theirs by
     * key instead (StringLookup's "idf_weights", TorchModuleWrapper's state_dict keys): those follow
     * in name order, under their key */
    size_t n_num = 0;
    if (rc == 0) rc = vars_order(f, vars_path, vars, n_vars, 1, order, &n_num);
    if (rc == 0) name_vars(cls, entry, n_num, names, trainable);
    for (size_t i = n_num; rc == 0 && i < n_vars; i++) names[i] = vars[order[i] - 1], trainable[i] = !non_trainable_name(names[i]);
    for (size_t i = 0; rc == 0 && i < n_vars; i++) {
      char vname[KCB__H5_PATH_MAX + 160];
      if (names[i]) snprintf(vname, sizeof vname, "%s/%s", own_scope, names[i]);
      else snprintf(vname, sizeof vname, "%s/%zu", own_scope, i);
      rc = add_var(f, g, vars_path, vars[order[i] - 1], vname, li, trainable[i] && f->layers[li].pub.trainable, 0, i);
    }
    if (rc) goto done;
  }
  /* sub-objects: a nested model's layers, an RNN's cell, a wrapper's layers, other attributes.
   * Keras writes them in sorted attribute order; listed in the order the layer tracks them, which
   * model.weights follows (Bidirectional: forward then backward), as far as kcb knows it. */
  KCB__TRY(list_members(f, path, &m, &n, 0));
  sort_sub_objects(cls, 1, m, n);
  for (size_t j = 0; j < n; j++) {
    if (!m[j].is_group || strcmp(m[j].name, "vars") == 0) continue;
    char child[KCB__H5_PATH_MAX], child_scope[KCB__H5_PATH_MAX + 80];
    KCB__TRY(kcb__h5_path_join(child, sizeof child, path, m[j].name, f->h5name));
    snprintf(child_scope, sizeof child_scope, "%s/", own_scope);
    if (strcmp(m[j].name, "layers") == 0 || strcmp(m[j].name, "_layer_checkpoint_dependencies") == 0) {
      json_decref(nested);
      nested = entry ? kcb__entry_layers(entry, 1) : NULL;
      model_scope(f, child, entry, cls, own_scope, child_scope, sizeof child_scope);
      KCB__TRY(walk_container(f, child, nested, li, child_scope));
      continue;
    }
    json_t *sub = NULL;
    const char *hint = NULL;
    char cell_class[160];
    json_t *cfg = entry_config(entry);
    if (strcmp(m[j].name, "forward_layer") == 0 || strcmp(m[j].name, "layer") == 0) sub = json_object_get(cfg, "layer");
    else if (strcmp(m[j].name, "backward_layer") == 0) {
      sub = json_object_get(cfg, "backward_layer");
      if (!sub) sub = json_object_get(cfg, "layer");
    }
    if (sub) {
      /* Bidirectional names its copies forward_<name> / backward_<name>; the entry gives the class. */
      hint = kcb__entry_class(sub);
      sub = NULL;
    } else if (kcb__is_attention_class(cls) && strstr(m[j].name, "_dense")) {
      hint = "EinsumDense"; /* its query, key, value and output projections */
    } else if (strcmp(m[j].name, "cell") == 0 && kcb__is_rnn_class(cls)) {
      kcb__rnn_cell_class(cls, entry, cell_class, sizeof cell_class);
      hint = cell_class;
    }
    KCB__TRY(walk_object(f, child, sub, li, m[j].name, child_scope, hint));
  }
done:
  kcb__h5_close(g);
  f->walk_depth--;
  json_decref(nested);
  free(names);
  free(trainable);
  free(order);
  members_free(m, n);
  kcb__h5_strings_free(vars, n_vars);
  free(stored_name);
  return rc;
}

/* An optimizer object of a store: its `vars` (one segment of the optimizer variables), then its
 * sub-optimizers: a LossScaleOptimizer (mixed precision) holds its own variables followed by its
 * inner optimizer's in `optimizer/vars`, and Keras saves the inner one again at
 * `optimizer/inner_optimizer/vars`. */
static int read_store_optimizer(kcb_checkpoint_file *f, const char *path, int depth) {
  int rc = 0;
  char vars_path[KCB__H5_PATH_MAX], *oname = NULL, **vars = NULL;
  size_t n = 0, *order = NULL;
  member *m = NULL;
  size_t n_m = 0;
  hid_t g = H5I_INVALID_HID;
  if (depth > 4 || f->n_opt_seg >= KCB__CKPT_MAX_OPT_SEG) return 0;
  KCB__TRY(kcb__h5_path_join(vars_path, sizeof vars_path, path, "vars", f->h5name));
  if (kcb__h5_exists(f->file, vars_path)) {
    KCB__TRY(read_name_attr(f, vars_path, &oname));
    int seg = f->n_opt_seg++;
    f->opt_seg_start[seg] = f->n_vars;
    f->opt_seg_name[seg] = oname ? oname : strdup("");
    oname = NULL;
    if (!f->opt_seg_name[seg]) KCB__TRY(kcb__error(KCB_ENOMEM, "out of memory"));
    if (seg == 0) {
      free(f->optimizer_name);
      f->optimizer_name = strdup(f->opt_seg_name[0]);
      if (!f->optimizer_name) KCB__TRY(kcb__error(KCB_ENOMEM, "out of memory"));
      f->meta.optimizer_name = f->optimizer_name;
    }
    KCB__TRY(kcb__h5_group_open(&g, f->file, vars_path, f->h5name));
    KCB__TRY(kcb__h5_link_names(g, &vars, &n, f->h5name));
    order = calloc(n + 1, sizeof *order);
    if (!order) KCB__TRY(kcb__error(KCB_ENOMEM, "out of memory"));
    size_t numbered;
    KCB__TRY(vars_order(f, vars_path, vars, n, 0, order, &numbered));
    for (size_t i = 0; i < n; i++) KCB__TRY(add_var(f, g, vars_path, vars[order[i] - 1], "", -1, 0, 1, i));
  }
  KCB__TRY(list_members(f, path, &m, &n_m, 0));
  /* tf.keras 2.13-2.15's LossScaleOptimizer: its `variables` are its inner optimizer's, and the
   * inner optimizer, walked again as an attribute, stores them a second time */
  int inner_again = depth == 0 && n > 0 && kcb__tf2_written_store(f->file, f->keras_version);
  for (size_t j = 0; j < n_m; j++) {
    if (!m[j].is_group || strcmp(m[j].name, "vars") == 0) continue;
    if (inner_again && (!strcmp(m[j].name, "_optimizer") || !strcmp(m[j].name, "inner_optimizer"))) continue;
    char child[KCB__H5_PATH_MAX];
    KCB__TRY(kcb__h5_path_join(child, sizeof child, path, m[j].name, f->h5name));
    KCB__TRY(read_store_optimizer(f, child, depth + 1));
  }
done:
  members_free(m, n_m);
  free(order);
  kcb__h5_strings_free(vars, n);
  kcb__h5_close(g);
  free(oname);
  return rc;
}

/* The model's own variables in a store's root `vars`, listed as a layer named after the model. */
static int read_model_own(kcb_checkpoint_file *f, const char *scope) {
  int rc = 0;
  char **vars = NULL;
  size_t n = 0, *order = NULL;
  hid_t g = H5I_INVALID_HID;
  if (!kcb__h5_exists(f->file, "/vars")) return 0;
  KCB__TRY(kcb__h5_group_open(&g, f->file, "/vars", f->h5name));
  KCB__TRY(kcb__h5_link_names(g, &vars, &n, f->h5name));
  if (n == 0) goto done;
  order = calloc(n + 1, sizeof *order);
  if (!order) KCB__TRY(kcb__error(KCB_ENOMEM, "out of memory"));
  size_t numbered;
  KCB__TRY(vars_order(f, "/vars", vars, n, 0, order, &numbered));
  int li = add_layer(f, f->meta.model_name, f->meta.model_class, "/", f->config, -1, "");
  if (li < 0) KCB__TRY(li);
  f->layers[li].model_own = 1;
  for (size_t i = 0; i < n; i++) {
    char vname[700];
    /* built in the model's own scope: "my_model/<name>"; the names are not stored */
    if (scope[0]) snprintf(vname, sizeof vname, "%s%zu", scope, i);
    else snprintf(vname, sizeof vname, "%s/%zu", f->meta.model_name, i);
    KCB__TRY(add_var(f, g, "/vars", vars[order[i] - 1], vname, li, 1, 0, i));
  }
done:
  free(order);
  kcb__h5_strings_free(vars, n);
  kcb__h5_close(g);
  return rc;
}

static int read_store(kcb_checkpoint_file *f) {
  int rc = 0;
  member *root_m = NULL;
  size_t n_root = 0;
  char *root_name = NULL;
  json_t *top = NULL;
  KCB__TRY(read_name_attr(f, "/vars", &root_name));
  if (!f->meta.model_name[0] && root_name) {
    free(f->model_name);
    f->model_name = root_name;
    root_name = NULL;
    f->meta.model_name = f->model_name;
  }
  /* Variable paths: a Sequential model scopes its layers by its name, a Functional one does not
   * (a weights-only store: by the default name if it has one, else a Functional lists its
   * InputLayers and a Sequential does not). */
  char scope[300] = "";
  const char *mc = f->meta.model_class, *mn = f->meta.model_name;
  int seq_guess = !strncmp(mn, "sequential", 10) || (strncmp(mn, "functional", 10) != 0 && !container_has_input(f, "/layers"));
  /* a subclassed model builds its layers when first called, in its own scope, as a Sequential */
  int functional = !strcmp(mc, "Functional") || json_object_get(entry_config(f->config), "input_layers") != NULL;
  if (mn[0] && (mc[0] ? !functional : seq_guess))
    snprintf(scope, sizeof scope, "%s/", f->meta.model_name);
  /* A subclassed model (class neither Sequential nor Functional) keeps variables of its own in the
   * root `vars`; they come first in model.weights. */
  KCB__TRY(read_model_own(f, scope));
  /* The layers: a Sequential or Functional model's in `layers` (tf.keras 2.13, 2.14:
   * `_layer_checkpoint_dependencies`, which Keras 3 reads too). A subclassed model's attributes are
   * walked in sorted order, `layers` (its model.layers) among them, so a layer whose attribute name
   * sorts before "layers" is saved under that name ("/encoder/vars") and the rest in `layers`: kcb
   * lists them in that same order, which is model.layers' when the attribute names sort as the
   * layers were made. */
  KCB__TRY(list_members(f, "/", &root_m, &n_root, 0));
  int keras_model = !strcmp(mc, "Sequential") || functional; /* else `layers` sorts among the attributes */
  sort_sub_objects("", keras_model, root_m, n_root); /* a subclassed model tracks `layers` in name order */
  top = f->config ? kcb__entry_layers(f->config, 1) : NULL;
  for (size_t j = 0; j < n_root; j++) {
    const char *nm = root_m[j].name;
    char child[KCB__H5_PATH_MAX];
    snprintf(child, sizeof child, "/%s", nm);
    if (!root_m[j].is_group || !strcmp(nm, "vars") || !strcmp(nm, "optimizer")) continue;
    /* tf.keras 2.13-2.15 also saved its compiled metrics' totals and counts (2.15 beside `layers`,
     * with no other mark of its own in a weights-only file): not model.weights. No Keras 3 model
     * has an attribute of that name to save: `metrics` is a property of its Model. */
    if (!strcmp(nm, "metrics")) continue;
    char vars_path[KCB__H5_PATH_MAX + 8];
    snprintf(vars_path, sizeof vars_path, "%s/vars", child);
    if (!strcmp(nm, "layers") || !strcmp(nm, "_layer_checkpoint_dependencies")) KCB__TRY(walk_container(f, child, top, -1, scope));
    else if (!kcb__h5_exists(f->file, vars_path)) KCB__TRY(walk_list(f, child, -1, scope)); /* a subclassed model's list */
    else KCB__TRY(walk_object(f, child, NULL, -1, nm, scope, NULL));
  }
  f->meta.n_model_vars = f->n_vars;
  if (kcb__h5_exists(f->file, "optimizer")) KCB__TRY(read_store_optimizer(f, "/optimizer", 0));
done:
  members_free(root_m, n_root);
  json_decref(top);
  free(root_name);
  return rc;
}

/* ---- legacy .h5: layer_names, weight_names ----------------------------------------------- */

/* The config entry of layer `name` among `layers` (a JSON array), or NULL; the search starts at
 * *from (NULL: 0) and wraps, and *from is left after the entry found, so that names asked in
 * config order (a legacy file's layer_names) are found in one pass over a model of any size. */
static json_t *find_entry_from(json_t *layers, const char *name, size_t *from) {
  size_t n = json_array_size(layers), start = from && *from < n ? *from : 0;
  for (size_t k = 0; k < n; k++) {
    size_t i = (start + k) % n;
    json_t *l = json_array_get(layers, i);
    if (strcmp(kcb__entry_name(l), name) == 0) {
      if (from) *from = i + 1;
      return l;
    }
  }
  return NULL;
}


/* The chain of config entries from one of `layers` down to the layer named `name`, at any depth
 * of nested models: a Functional builds its layers outside any name scope, so a legacy weight name
 * ("dense/kernel" in a group "sequential_1" holding a Functional holding it) skips the models
 * between. Direct sub-layers first. @return the chain's length (0: not found). */
static int entry_chain(json_t *layers, const char *name, json_t **chain, int max) {
  size_t i;
  json_t *l;
  if (max <= 0) return 0;
  json_array_foreach(layers, i, l) {
    if (strcmp(kcb__entry_name(l), name) == 0) {
      chain[0] = l;
      return 1;
    }
  }
  json_array_foreach(layers, i, l) {
    json_t *sub = kcb__entry_layers(l, 0);
    int depth = sub ? entry_chain(sub, name, chain + 1, max - 1) : 0;
    json_decref(sub);
    if (depth) {
      chain[0] = l;
      return depth + 1;
    }
  }
  return 0;
}

/* The sub-layer of `parent` named `name` already listed, or -1. */
static int child_named(const kcb_checkpoint_file *f, int parent, const char *name) {
  for (size_t c = (size_t)parent + 1; c < f->n_layers; c++)
    if (f->layers[c].pub.parent == parent && strcmp(f->layers[c].name, name) == 0) return (int)c;
  return -1;
}

/* The layer below `layer` a legacy weight name puts its variable in: "sequential/dense_2/kernel"
 * in layer "sequential" belongs to its sub-layer "dense_2"; "lstm/lstm_cell/kernel:0" to the cell. */
static int legacy_owner(kcb_checkpoint_file *f, int layer, const char *wname, int *out) {
  char buf[KCB__H5_PATH_MAX];
  kcb__strlcpy(buf, wname, sizeof buf);
  char *seg[64];
  int ns = 0;
  for (char *p = strtok(buf, "/"); p && ns < 64; p = strtok(NULL, "/")) seg[ns++] = p;
  int at = -1;
  for (int i = ns - 2; i >= 0 && at < 0; i--)
    if (strcmp(seg[i], f->layers[layer].name) == 0) at = i;
  *out = layer;
  /* Without the layer's own name in the path (tf.keras 2 names a nested model's variables
   * "dense_2/kernel:0"), only segments that name one of its sub-layers lead down. */
  int strict = at < 0 && f->config; /* weights only: the names are all there is to go by */
  for (int i = at + 1; i < ns - 1; i++) {
    int cur = *out, found = child_named(f, cur, seg[i]);
    if (found < 0) {
      json_t *entry = NULL, *nested = f->layers[cur].entry ? kcb__entry_layers(f->layers[cur].entry, 0) : NULL, *chain[16];
      int depth = nested ? entry_chain(nested, seg[i], chain, 16) : 0;
      for (int d = 0; d + 1 < depth; d++) { /* the nested models between, listed as they are met */
        const char *mid = kcb__entry_name(chain[d]);
        int at_mid = child_named(f, cur, mid);
        if (at_mid < 0 && (at_mid = add_layer(f, mid, kcb__entry_class(chain[d]), "", chain[d], cur, mid)) < 0) {
          json_decref(nested);
          return at_mid;
        }
        cur = at_mid;
      }
      if (depth) entry = chain[depth - 1];
      found = depth > 1 ? child_named(f, cur, seg[i]) : -1;
      json_t *pcfg = entry_config(f->layers[cur].entry);
      if (!entry && strcmp(f->layers[cur].class_name, "Bidirectional") == 0) {
        /* the wrapped layer's config, or the backward layer's when one was given */
        json_t *given = json_object_get(pcfg, "backward_layer");
        entry = given && kcb__bidi_is_backward(pcfg, seg[i]) ? given : json_object_get(pcfg, "layer");
      } else if (!entry && strcmp(f->layers[cur].class_name, "TimeDistributed") == 0) {
        entry = json_object_get(pcfg, "layer");
      } else if (!entry && kcb__is_rnn_class(f->layers[cur].class_name) && json_is_object(json_object_get(pcfg, "cell"))) {
        entry = json_object_get(pcfg, "cell"); /* a generic RNN's cell, as its config gives it */
      } else if (!entry && strcmp(f->layers[cur].class_name, "StackedRNNCells") == 0) {
        json_t *cell;
        size_t k;
        json_array_foreach(json_object_get(pcfg, "cells"), k, cell) /* its cells, by name */
          if (!entry && !strcmp(kcb__entry_name(cell), seg[i])) entry = cell;
      }
      char hint[160] = "";
      if (!entry && kcb__is_rnn_class(f->layers[cur].class_name))
        kcb__rnn_cell_class(f->layers[cur].class_name, f->layers[cur].entry, hint, sizeof hint);
      else if (!entry && kcb__is_attention_class(f->layers[cur].class_name))
        snprintf(hint, sizeof hint, "EinsumDense");
      else if (!entry && class_from_layer_name(seg[i])) /* weights only: a Keras-made name tells the class */
        snprintf(hint, sizeof hint, "%s", class_from_layer_name(seg[i]));
      if (strict && !(entry && nested)) {
        json_decref(nested);
        continue;
      }
      if (found < 0) found = add_layer(f, seg[i], entry ? kcb__entry_class(entry) : hint, "", entry, cur, seg[i]);
      json_decref(nested);
      if (found < 0) return found;
    }
    *out = found;
    strict = 0; /* below a sub-layer, the name goes on in its scope: an RNN's cell, a wrapper's layer */
  }
  return 0;
}

static int read_legacy(kcb_checkpoint_file *f, hid_t root, const char *root_path) {
  char **layer_names = NULL, **wn = NULL;
  size_t n_layer_names = 0, n_wn = 0;
  hid_t lg = H5I_INVALID_HID;
  int rc = 0;
  json_t *top = f->config ? kcb__entry_layers(f->config, 0) : NULL;
  size_t next_entry = 0;
  KCB__TRY(kcb__h5_attr_read_strings(root, "layer_names", &layer_names, &n_layer_names, f->h5name));
  for (size_t i = 0; i < n_layer_names; i++) {
    if ((rc = kcb__h5_listed_group_open(&lg, root, layer_names[i], f->h5name))) goto done;
    json_t *entry = top ? find_entry_from(top, layer_names[i], &next_entry) : NULL;
    char gpath[KCB__H5_PATH_MAX];
    KCB__TRY(kcb__h5_path_join(gpath, sizeof gpath, root_path, layer_names[i], f->h5name));
    const char *guess = entry ? NULL : class_from_layer_name(layer_names[i]); /* weights only: as the layout's other form */
    int li = add_layer(f, layer_names[i], entry ? kcb__entry_class(entry) : guess ? guess : "", gpath, entry, -1,
                       layer_names[i]);
    if (li < 0) KCB__TRY(li);
    KCB__TRY(kcb__h5_attr_read_strings(lg, "weight_names", &wn, &n_wn, f->h5name));
    for (size_t q = 0; q < n_wn; q++) {
      int owner;
      KCB__TRY(legacy_owner(f, li, wn[q], &owner));
      int tr = !non_trainable_name(wn[q]) && !class_non_trainable(f->layers[owner].class_name, wn[q]) &&
               f->layers[owner].pub.trainable;
      if (tr && f->layers[owner].entry) {
        char leaf[64];
        const char *slash = strrchr(wn[q], '/');
        snprintf(leaf, sizeof leaf, "%.*s", (int)strcspn(slash ? slash + 1 : wn[q], ":"), slash ? slash + 1 : wn[q]);
        int by_settings = settings_trainable(entry_config(f->layers[owner].entry), leaf);
        if (by_settings >= 0) tr = by_settings;
      }
      KCB__TRY(add_var(f, lg, gpath, wn[q], wn[q], owner, tr, 0, q));
    }
    kcb__h5_strings_free(wn, n_wn);
    wn = NULL;
    n_wn = 0;
    kcb__h5_close(lg);
    lg = H5I_INVALID_HID;
  }
  /* the model's own variables (a subclassed model's), after its layers */
  if (kcb__h5_exists(root, "top_level_model_weights")) {
    KCB__TRY(kcb__h5_group_open(&lg, root, "top_level_model_weights", f->h5name));
    KCB__TRY(kcb__h5_attr_read_strings(lg, "weight_names", &wn, &n_wn, f->h5name));
    if (n_wn) {
      char gpath[KCB__H5_PATH_MAX];
      snprintf(gpath, sizeof gpath, "%s/top_level_model_weights", root_path);
      /* a weights-only file has no config: the model's name is its variables' first segment */
      char own[128] = "";
      const char *slash = strchr(wn[0], '/');
      if ((!f->meta.model_name || !f->meta.model_name[0]) && slash && (size_t)(slash - wn[0]) < sizeof own) memcpy(own, wn[0], (size_t)(slash - wn[0]));
      int li = add_layer(f, own[0] ? own : f->meta.model_name, f->meta.model_class, gpath, f->config, -1, "");
      if (li < 0) KCB__TRY(li);
      f->layers[li].model_own = 1;
      for (size_t q = 0; q < n_wn; q++)
        KCB__TRY(add_var(f, lg, gpath, wn[q], wn[q], li, !non_trainable_name(wn[q]), 0, q));
    }
    kcb__h5_strings_free(wn, n_wn);
    wn = NULL;
    n_wn = 0;
    kcb__h5_close(lg);
    lg = H5I_INVALID_HID;
  }
  f->meta.n_model_vars = f->n_vars;
  if (f->meta.layout == KCB_LAYOUT_H5 && kcb__h5_exists(f->file, "optimizer_weights")) {
    KCB__TRY(kcb__h5_group_open(&lg, f->file, "optimizer_weights", f->h5name));
    KCB__TRY(kcb__h5_attr_read_strings(lg, "weight_names", &wn, &n_wn, f->h5name));
    for (size_t q = 0; q < n_wn; q++) KCB__TRY(add_var(f, lg, "/optimizer_weights", wn[q], wn[q], -1, 0, 1, q));
    if (n_wn) {
      /* "adam/iteration", "Adam/iter:0", "iteration:0": the optimizer's name is the first segment;
       * standalone Keras 2 made the slots under "training/" ("training/Adam/m_0:0"): the second */
      const char *last = wn[n_wn - 1], *slash = strchr(last, '/');
      if (slash && strncmp(last, "training/", 9) == 0 && strchr(slash + 1, '/')) last = slash + 1, slash = strchr(last, '/');
      char oname[128] = "";
      if (slash && (size_t)(slash - last) < sizeof oname) memcpy(oname, last, (size_t)(slash - last));
      free(f->optimizer_name);
      f->optimizer_name = strdup(oname);
      if (!f->optimizer_name) KCB__TRY(kcb__error(KCB_ENOMEM, "out of memory"));
      f->meta.optimizer_name = f->optimizer_name;
    }
  }
done:
  json_decref(top);
  kcb__h5_close(lg);
  kcb__h5_strings_free(wn, n_wn);
  kcb__h5_strings_free(layer_names, n_layer_names);
  return rc;
}

/* ---- optimizer slots: which model variable each belongs to -------------------------------- */

static void strip_index(const char *name, char *out, size_t size);

/* "sequential/conv2d/kernel" or "conv2d/kernel:0" -> "sequential_conv2d_kernel" / "conv2d_kernel".
 * Only tf.keras's trailing ":<digits>" goes: Keras 3 allows ':' inside layer names. */
static void flat_name(const char *name, char *out, size_t size) {
  strip_index(name, out, size);
  for (char *c = out; *c; c++)
    if (*c == '/') *c = '_';
}

/* The trainable model variables by flattened name (the first of equal ones), for owner_by_name. */
typedef struct {
  kcb__str_map map;
  char **flat;
  size_t n, longest;
  unsigned char *has_length; /* (longest + 1): whether some variable's flat name is that long */
  size_t budget;             /* characters left to hash: a file built to make the matching slow gives up */
} flat_names;

static void flat_names_free(flat_names *t) {
  for (size_t i = 0; t->flat && i < t->n; i++) free(t->flat[i]);
  free(t->flat);
  free(t->has_length);
  kcb__str_map_free(&t->map);
}

static int flat_names_build(const kcb_checkpoint_file *f, flat_names *t) {
  char flat[KCB__H5_PATH_MAX + 160];
  memset(t, 0, sizeof *t);
  if (!(t->flat = calloc(f->meta.n_model_vars + 1, sizeof *t->flat)) || kcb__str_map_init(&t->map, f->meta.n_model_vars))
    return 0;
  for (size_t i = 0; i < f->meta.n_model_vars; i++) {
    if (!f->vars[i].pub.trainable) continue;
    flat_name(f->vars[i].name, flat, sizeof flat);
    if (!(t->flat[t->n] = strdup(flat))) return 0;
    kcb__str_map_put(&t->map, t->flat[t->n++], (long)i);
    if (strlen(flat) > t->longest) t->longest = strlen(flat);
  }
  if (!(t->has_length = calloc(t->longest + 1, 1))) return 0;
  for (size_t i = 0; i < t->n; i++) t->has_length[strlen(t->flat[i])] = 1;
  t->budget = (size_t)1 << 26; /* ~0.1 s of hashing; Keras's own files need a tiny part of it */
  return 1;
}

/* The model variable whose flattened name is a piece of the flattened optimizer name bounded by
 * '_' or the ends; the longest piece wins, then the first variable. Every such piece of a length
 * some variable has is looked up, so a file's slots are matched in time linear in their number;
 * -2 when the budget of characters ran out (names made of underscores): matched by position then. */
static long owner_by_name(flat_names *t, const char *opt_name) {
  char flat_opt[KCB__H5_PATH_MAX + 160];
  flat_name(opt_name, flat_opt, sizeof flat_opt);
  size_t len = strlen(flat_opt), best_len = 0;
  long best = -1;
  for (size_t a = 0; a < len; a++) {
    if (a > 0 && flat_opt[a - 1] != '_') continue;
    for (size_t b = a + 1; b <= len && b - a <= t->longest; b++) {
      if ((b < len && flat_opt[b] != '_') || b - a < best_len || !t->has_length[b - a]) continue;
      if (t->budget < b - a) return -2;
      t->budget -= b - a;
      char end = flat_opt[b];
      flat_opt[b] = '\0';
      long v = kcb__str_map_get(&t->map, flat_opt + a);
      flat_opt[b] = end;
      if (v >= 0 && (b - a > best_len || v < best)) best = v, best_len = b - a;
    }
  }
  return best;
}

/* Keras 3's optimizers (see opt_layout), by their names without '_'. */
static const opt_layout opt_layouts[] = {
    {"adamw", {{"momentum", "velocity"}, {"velocity_hat", NULL}}},
    {"adamax", {{"momentum", "norm"}}},
    {"adam", {{"momentum", "velocity"}, {"velocity_hat", NULL}}},
    {"nadam", {{"momentum", "velocity"}}}, /* then a scalar: its u_product */
    {"lamb", {{"momentum", "velocity"}}},
    {"sgd", {{"momentum", NULL}}},
    {"lion", {{"momentum", NULL}}},
    {"rmsprop", {{"velocity", NULL}, {"momentum", NULL}, {"average_gradient", NULL}}},
    {"adagrad", {{"accumulator", NULL}}},
    {"adadelta", {{"accumulated_grad", "accumulated_delta_var"}}},
    {"ftrl", {{"accumulator", "linear"}}},
    /* slots that differ from one variable to the next (see try_per_variable) */
    {"muon", {{NULL, NULL}}},
    {"adafactor", {{NULL, NULL}}},
};

const opt_layout *kcb__opt_layout_of(const char *name) {
  /* The same optimizer goes by several names: Keras 3.15's are its class in snake case, made
   * unique per process ("rm_sprop", "adam_w", "adam_1"), earlier Keras 3's were fixed ("rmsprop",
   * "adamw", "SGD"), tf.keras 2's the class ("RMSprop"). Compared lower-case, without a `_<digits>`
   * suffix and without '_'. */
  char key[128];
  size_t n = 0, len = name ? strlen(name) : 0, end = len;
  while (end > 0 && isdigit((unsigned char)name[end - 1])) end--;
  if (end < len && end > 1 && name[end - 1] == '_') len = end - 1;
  for (size_t k = 0; k < len && n + 1 < sizeof key; k++)
    if (name[k] != '_') key[n++] = (char)kcb__to_lower((unsigned char)name[k]);
  key[n] = '\0';
  for (size_t i = 0; i < sizeof opt_layouts / sizeof opt_layouts[0]; i++)
    if (!strcmp(key, opt_layouts[i].name)) return &opt_layouts[i];
  return NULL;
}

/* Slots per variable with the first `g` groups of a layout. */
size_t kcb__opt_layout_width(const opt_layout *L, int g) {
  size_t k = 0;
  for (int i = 0; i < g; i++) k += (size_t)(L->groups[i][0] != NULL) + (size_t)(L->groups[i][1] != NULL);
  return k;
}

/* One group of an optimizer's slots: up to 2 names, interleaved per variable. */
typedef struct slot_group {
  const char *names[2];
  size_t width;
} slot_group;

/* Whether model variable i has the shape of every slot the layout gives the a-th slot owner
 * (n_t owners; group g's slots come after the earlier groups', `width` per owner). */
static int owner_fits(const kcb_checkpoint_file *f, size_t first, const slot_group *groups, int n_groups, size_t n_t,
                      size_t i, size_t a) {
  const kcb_checkpoint_var *v = &f->vars[i].pub;
  size_t base = first;
  for (int g = 0; g < n_groups; base += n_t * groups[g].width, g++)
    for (size_t s = 0; s < groups[g].width; s++) {
      const kcb_checkpoint_var *o = &f->vars[base + a * groups[g].width + s].pub;
      if (o->rank != v->rank || memcmp(o->shape, v->shape, (size_t)v->rank * sizeof *v->shape)) return 0;
    }
  return 1;
}

/* Picks the n_t variables that own slots when the optimizer skipped some (a weights-only file does
 * not say which layers were frozen). Per layer it takes none of its trainable variables (frozen)
 * or all of them; with `partial`, the first few (Keras lists a layer's trainable variables before
 * its state, which a file without the classes may not tell apart). Every slot must have its
 * owner's shape. Counts the choices that fit (a table of layers x owners so far, capped at 2):
 * only a single one is taken, so that a bias and a BatchNormalization's gamma of the same size are
 * never mixed up. @return 1 with t[] filled. */
static int pick_owners(const kcb_checkpoint_file *f, size_t first, const slot_group *groups, int n_groups, size_t n_t,
                       int partial, size_t *t) {
  size_t n_model = f->meta.n_model_vars, n_runs = 0;
  size_t *run_start = calloc(n_model + 2, sizeof *run_start); /* the layers' runs of variables */
  if (!run_start) return 0;
  for (size_t i = 0; i < n_model; i++)
    if (i == 0 || f->vars[i].pub.layer != f->vars[i - 1].pub.layer) run_start[n_runs++] = i;
  run_start[n_runs] = n_model;
  int ok = 0;
  size_t cells = (n_runs + 1) * (n_t + 1);
  unsigned char *ways = cells <= ((size_t)1 << 24) ? calloc(cells, 1) : NULL;
  uint16_t *taken = ways ? calloc(cells, sizeof *taken) : NULL; /* variables the run gave to reach a cell */
  if (!taken) goto done;
  ways[0] = 1;
  for (size_t r = 0; r < n_runs; r++)
    for (size_t a = 0; a <= n_t; a++) {
      unsigned char w = ways[r * (n_t + 1) + a];
      if (!w) continue;
      size_t all = 0; /* the layer's trainable variables, listed first */
      while (run_start[r] + all < run_start[r + 1] && f->vars[run_start[r] + all].pub.trainable) all++;
      /* a Keras class's variables are all trainable or all frozen: only a class kcb does not know
       * may hold trainable ones beside state it made non-trainable */
      int part = partial && !class_info(f->layers[f->vars[run_start[r]].pub.layer].class_name);
      for (size_t p = 0;; p++) { /* the first p of them own slots: p = 0 is the frozen layer */
        if (part || p == 0 || p == all) {
          unsigned char *to = &ways[(r + 1) * (n_t + 1) + a + p];
          *to = *to + w > 2 ? 2 : (unsigned char)(*to + w);
          taken[(r + 1) * (n_t + 1) + a + p] = (uint16_t)p;
        }
        if (p == all || a + p == n_t || p == UINT16_MAX || !owner_fits(f, first, groups, n_groups, n_t, run_start[r] + p, a + p))
          break;
      }
    }
  if (ways[n_runs * (n_t + 1) + n_t] == 1) { /* the one choice, followed back */
    ok = 1;
    for (size_t r = n_runs, a = n_t; r > 0; r--) {
      size_t p = taken[r * (n_t + 1) + a];
      a -= p;
      for (size_t q = 0; q < p; q++) t[a + q] = run_start[r - 1] + q;
    }
  }
done:
  free(run_start);
  free(ways);
  free(taken);
  return ok;
}

/* Tries one slot layout (groups one after another, each interleaved over the trainable variables).
 * strict: every trainable variable owns slots; else those of frozen layers may own none (see
 * pick_owners). On success fills owners[] and names[] (each slot's name, or NULL) and returns 1. */
static int try_layout(const kcb_checkpoint_file *f, size_t first, size_t n_slots, const slot_group *groups, int n_groups,
                      long *owners, const char **names, int strict) {
  size_t k = 0, n_tr = 0;
  for (int g = 0; g < n_groups; g++) k += groups[g].width;
  for (size_t i = 0; i < f->meta.n_model_vars; i++) n_tr += f->vars[i].pub.trainable;
  if (!k || n_slots % k || (strict && n_slots / k != n_tr)) return 0;
  size_t n_t = n_slots / k, *t = calloc(n_t + 1, sizeof *t), found = 0;
  if (!t) return 0;
  int ok;
  if (strict) {
    for (size_t i = 0; i < f->meta.n_model_vars; i++)
      if (f->vars[i].pub.trainable) t[found++] = i;
    ok = 1;
    for (size_t a = 0; ok && a < n_t; a++) ok = owner_fits(f, first, groups, n_groups, n_t, t[a], a);
  } else {
    ok = pick_owners(f, first, groups, n_groups, n_t, 0, t) || pick_owners(f, first, groups, n_groups, n_t, 1, t);
  }
  size_t pos = 0;
  for (int g = 0; ok && g < n_groups; g++)
    for (size_t v = 0; v < n_t; v++)
      for (size_t s = 0; s < groups[g].width; s++, pos++) {
        owners[pos] = (long)t[v];
        names[pos] = s < 2 ? groups[g].names[s] : NULL;
      }
  free(t);
  return ok;
}

json_t *kcb__ckpt_optimizer_entry(json_t *tc) {
  json_t *oc = json_object_get(tc, "optimizer");
  return json_is_object(oc) ? oc : json_object_get(tc, "optimizer_config");
}

json_t *kcb__ckpt_optimizer_config(json_t *tc, const char **class_name) {
  json_t *oc = kcb__ckpt_optimizer_entry(tc);
  const char *cls = json_string_value(json_object_get(oc, "class_name"));
  json_t *inner = json_object_get(json_object_get(oc, "config"), "inner_optimizer");
  if (!json_is_object(inner)) inner = json_object_get(json_object_get(oc, "config"), "optimizer"); /* tf.keras <= 2.3 */
  if (kcb__is_loss_scale_class(cls) && json_is_object(inner)) oc = inner;
  if (class_name) *class_name = json_string_value(json_object_get(oc, "class_name"));
  return json_object_get(oc, "config");
}

/* A store optimizer object's name and the name of the optimizer whose slots it holds: a
 * LossScaleOptimizer's are its inner optimizer's (the next object). */
static const char *segment_name(const kcb_checkpoint_file *f, int s, const char **slots_of) {
  const char *name = f->opt_seg_name[s]; /* only asked with segments */
  *slots_of = name;
  if (!strncmp(name, "loss_scale_optimizer", 20) && s + 1 < f->n_opt_seg) *slots_of = f->opt_seg_name[s + 1];
  return name;
}

static void assign_owners_range(kcb_checkpoint_file *f, size_t first, size_t end, const char *opt_name);
static int try_layouts(const kcb_checkpoint_file *f, size_t first, size_t n_slots, const char *opt_name, long *owners,
                       const char **slot, int strict);

static void assign_owners(kcb_checkpoint_file *f) {
  for (size_t j = f->meta.n_model_vars; j < f->n_vars; j++) f->vars[j].slot_name = NULL;
  if (!f->n_opt_seg) {
    assign_owners_range(f, f->meta.n_model_vars, f->n_vars, f->meta.optimizer_name);
    return;
  }
  for (int s = 0; s < f->n_opt_seg; s++) {
    const char *slots_of;
    segment_name(f, s, &slots_of);
    assign_owners_range(f, f->opt_seg_start[s], s + 1 < f->n_opt_seg ? f->opt_seg_start[s + 1] : f->n_vars, slots_of);
  }
}

/* A weights-only store does not say which layers were frozen, but its optimizer does: Keras makes
 * slots for trainable variables only. So variables that own no slot, where others own some, were
 * frozen when it was saved (which orders a legacy file's weights: trainable ones first). With a
 * config, which says what was frozen, only the variables of classes kcb does not know (a custom
 * layer's non-trainable state) are judged so. */
static void frozen_from_slots(kcb_checkpoint_file *f, int custom_only) {
  size_t nm = f->meta.n_model_vars;
  unsigned char *owns = calloc(nm + 1, 1);
  int any = 0;
  if (!owns) return;
  for (size_t j = nm; j < f->n_vars; j++)
    if (f->vars[j].pub.owner >= 0 && (size_t)f->vars[j].pub.owner < nm) owns[f->vars[j].pub.owner] = 1, any = 1;
  for (size_t i = 0; any && i < nm; i++)
    if (!owns[i] && !(custom_only && class_info(f->layers[f->vars[i].pub.layer].class_name))) f->vars[i].pub.trainable = 0;
  if (!custom_only) f->frozen_known = any;
  free(owns);
}

/* Marks trainable, for assign_owners_range's last tries, the variables that are non-trainable only
 * because their layer is frozen (not state such as moving statistics, not integers): a flag per
 * model variable set where it was changed, or NULL when none was (or out of memory). */
static int *thaw_frozen(kcb_checkpoint_file *f) {
  size_t n = f->meta.n_model_vars, changed = 0;
  int *thawed = calloc(n + 1, sizeof *thawed);
  for (size_t i = 0; thawed && i < n; i++) {
    kcb_checkpoint_var *v = &f->vars[i].pub;
    if (v->trainable || v->layer < 0 || f->layers[v->layer].pub.trainable || !v->name) continue;
    if (non_trainable_name(v->name) || class_non_trainable(f->layers[v->layer].class_name, v->name)) continue;
    if (v->dtype >= KCB_DTYPE_INT8 && v->dtype <= KCB_DTYPE_UINT64) continue;
    v->trainable = thawed[i] = 1;
    changed++;
  }
  if (!changed) free(thawed), thawed = NULL;
  return thawed;
}

static void assign_owners_range(kcb_checkpoint_file *f, size_t first, size_t end, const char *opt_name) {
  size_t n_opt = end - first;
  if (!n_opt) return;
  /* leading scalars: iteration, learning rate (tf.keras 2's optimizer_v2: its hyperparameters);
   * trailing ones: Nadam's u_product */
  size_t lead = 0, trail = 0;
  while (lead < n_opt && f->vars[first + lead].pub.rank == 0) lead++;
  /* a trailing scalar is Nadam's u_product; any other optimizer's is a scalar variable's slot (an
   * Attention's learned scale), which must find its owner */
  const opt_layout *known = kcb__opt_layout_for(f, opt_name);
  size_t max_trail = !known ? n_opt : !strcmp(known->name, "nadam") ? 1 : 0;
  while (trail < n_opt - lead && trail < max_trail && f->vars[end - 1 - trail].pub.rank == 0) trail++;
  /* an optimizer saved before it was built holds its iteration and learning rate alone */
  if (lead + trail == n_opt && n_opt <= 2) return;
  /* by name (legacy files); every slot must find a variable of its size (a scalar one too, where
   * its name leads to one: the others are hyperparameters) */
  int named = f->meta.layout == KCB_LAYOUT_H5;
  flat_names by_flat;
  if (named && !flat_names_build(f, &by_flat)) named = 0; /* out of memory: by position below */
  for (size_t j = 0; named && j < n_opt; j++) {
    kcb__ckpt_var *o = &f->vars[first + j];
    long w = owner_by_name(&by_flat, o->name);
    if (o->pub.rank == 0) {
      if (w >= 0 && f->vars[w].pub.count == 1 && (size_t)w < f->meta.n_model_vars) o->pub.owner = w;
      continue;
    }
    if (w < 0 || f->vars[w].pub.count != o->pub.count) named = 0;
    else o->pub.owner = w;
  }
  if (f->meta.layout == KCB_LAYOUT_H5) flat_names_free(&by_flat);
  kcb_error_clear();
  if (named) return;
  for (size_t j = lead; j < n_opt; j++) f->vars[first + j].pub.owner = -1;
  /* by position (Keras 3): the optimizer's own layout where kcb knows it, else k interleaved slots.
   * The leading scalars are the iteration and the learning rate (none with a schedule), unless a
   * scalar model variable's slots follow them */
  long *owners = calloc(n_opt + 1, sizeof *owners);
  const char **slot = calloc(n_opt + 1, sizeof *slot);
  int *thawed = NULL;
  if (!owners || !slot) goto done;
  int ok = 0;
  size_t tries[3] = {lead, lead > 2 ? 2 : 0, lead > 1 ? 1 : 0};
  /* first with every trainable variable owning slots, then letting frozen ones go without, then
   * (layers frozen after the optimizer was built, which keeps their slots) with frozen layers'
   * variables owning slots as if they trained */
  for (int t = 0; t < 9 && !ok; t++) {
    if (t == 6 && !(thawed = thaw_frozen(f))) break;
    int tl = t % 3, strict = t < 3 || t >= 6;
    if (tl && !tries[tl]) continue;
    lead = tries[tl];
    size_t n_slots = n_opt - lead - trail;
    if (n_slots) ok = try_layouts(f, first + lead, n_slots, opt_name, owners, slot, strict);
    for (size_t j = 0; ok && j < n_slots; j++) {
      f->vars[first + lead + j].pub.owner = owners[j];
      f->vars[first + lead + j].slot_name = slot[j];
    }
  }
  if (!ok) f->slots_unmatched = 1;
done:
  if (thawed) /* back to what the config says */
    for (size_t i = 0; i < f->meta.n_model_vars; i++)
      if (thawed[i]) f->vars[i].pub.trainable = 0;
  free(thawed);
  free(owners);
  free(slot);
}

/* The slot layout of the optimizer named `name` in the store: by its name, else (a name the user
 * gave it, "my_opt") by its class in the compile config, the inner optimizer's under a
 * LossScaleOptimizer, as Keras names its slots after the object but builds them by its class. A
 * tf.keras 2 file has one optimizer, whose class decides even over a name that is another's
 * (RMSprop(name="adam")). */
const opt_layout *kcb__opt_layout_for(const kcb_checkpoint_file *f, const char *name) {
  const opt_layout *L = kcb__opt_layout_of(name);
  if (!f->training || (L && f->meta.keras_version[0] == '3')) return L;
  json_t *oc = json_object_get(f->training, "optimizer");
  if (!json_is_object(oc)) oc = json_object_get(f->training, "optimizer_config");
  const char *cls = json_string_value(json_object_get(oc, "class_name"));
  json_t *inner = json_object_get(json_object_get(oc, "config"), "inner_optimizer");
  if (kcb__is_loss_scale_class(cls) && json_is_object(inner))
    cls = json_string_value(json_object_get(inner, "class_name"));
  const opt_layout *by_class = cls ? kcb__opt_layout_of(cls) : NULL;
  return by_class ? by_class : L;
}

/* Whether shape b is shape a's first `n` axes, then a's axes from `from` on (Adafactor's factors). */
static int shape_is(const kcb_checkpoint_var *o, const kcb_checkpoint_var *v, int n, int from) {
  int rank = n + (from < v->rank ? v->rank - from : 0);
  if (o->rank != rank) return 0;
  for (int d = 0; d < n; d++)
    if (o->shape[d] != v->shape[d]) return 0;
  for (int d = from; d < v->rank; d++)
    if (o->shape[n + d - from] != v->shape[d]) return 0;
  return 1;
}

/* Optimizers whose slots vary from variable to variable, made variable by variable in order:
 * Muon a momentum for each, and a velocity for those it updates as Adam does (rank other than 2,
 * or an embedding's); Adafactor r, c (its factors over the last two axes; two scalars for a
 * variable of rank below 2) and a velocity. Every trainable variable (as the file says) in turn
 * must fit exactly. @return 1 with owners[] and names[] filled. */
static int try_per_variable(const kcb_checkpoint_file *f, size_t first, size_t n_slots, const char *kind, long *owners,
                            const char **names) {
  json_t *oc = kcb__ckpt_optimizer_config(f->training, NULL);
  json_t *excluded = json_object_get(oc, "exclude_layers");
  if (json_is_array(excluded) && json_array_size(excluded)) return 0; /* regular expressions over paths: not judged */
  int exclude_embeddings = !json_is_false(json_object_get(oc, "exclude_embeddings"));
  int muon = strcmp(kind, "muon") == 0;
  size_t pos = 0;
  for (size_t i = 0; i < f->meta.n_model_vars; i++) {
    const kcb_checkpoint_var *v = &f->vars[i].pub;
    if (!v->trainable) continue;
    static const char *const muon_slots[] = {"momentum", "velocity"}, *const ada_slots[] = {NULL, NULL, "velocity"};
    char lower[KCB__H5_PATH_MAX];
    kcb__strlcpy(lower, v->name ? v->name : "", sizeof lower);
    for (char *c = lower; *c; c++) *c = (char)tolower((unsigned char)*c);
    size_t want = muon ? 1 + (v->rank != 2 || (exclude_embeddings && strstr(lower, "embedding"))) : 3;
    for (size_t s = 0; s < want; s++, pos++) {
      if (pos >= n_slots) return 0;
      const kcb_checkpoint_var *o = &f->vars[first + pos].pub;
      int fits = muon || s == 2 ? shape_is(o, v, v->rank, v->rank)
                 : v->rank < 2 ? o->rank == 0
                 : s == 0 ? shape_is(o, v, v->rank - 1, v->rank) : shape_is(o, v, v->rank - 2, v->rank - 1);
      if (!fits) return 0;
      /* Adafactor makes its factors by shape and name, not from the variable: Keras ties only the
       * velocity to it */
      owners[pos] = muon || s == 2 ? (long)i : -1;
      names[pos] = muon ? muon_slots[s] : ada_slots[s];
    }
  }
  return pos == n_slots;
}

/* The slot layouts kcb knows for optimizer `opt_name`, tried in turn (see assign_owners_range). */
static int try_layouts(const kcb_checkpoint_file *f, size_t first, size_t n_slots, const char *opt_name, long *owners,
                       const char **slot, int strict) {
  const opt_layout *L = kcb__opt_layout_for(f, opt_name);
  if (L && (!strcmp(L->name, "muon") || !strcmp(L->name, "adafactor")))
    return strict && try_per_variable(f, first, n_slots, L->name, owners, slot);
  /* the base optimizer's own groups come first: an exponential moving average of every variable
   * (use_ema), then gradient accumulators (gradient_accumulation_steps); a weights-only file does
   * not say, so one leading group, then both, are tried last */
  slot_group pre[2] = {{{NULL, NULL}, 0}, {{NULL, NULL}, 0}};
  int n_pre = 0, ok = 0;
  int has_config = f->training != NULL;
  json_t *oc = kcb__ckpt_optimizer_config(f->training, NULL);
  if (json_is_true(json_object_get(oc, "use_ema"))) pre[n_pre++] = (slot_group){{"average", NULL}, 1};
  json_t *acc = json_object_get(oc, "gradient_accumulation_steps");
  if (json_is_integer(acc) && json_integer_value(acc) > 0) pre[n_pre++] = (slot_group){{"gradient_accumulator", NULL}, 1};
  for (int extra = 0; extra <= (has_config ? 0 : 2) && !ok; extra++) {
    slot_group groups[6];
    int n_g = n_pre;
    memcpy(groups, pre, sizeof pre);
    if (extra) groups[n_g++] = (slot_group){{"average", NULL}, 1}; /* use_ema's (gradient accumulators look alike) */
    if (extra == 2) groups[n_g++] = (slot_group){{"gradient_accumulator", NULL}, 1};
    for (int g = 1; L && g <= 3 && !ok && L->groups[g - 1][0]; g++) {
      groups[n_g + g - 1] = (slot_group){{L->groups[g - 1][0], L->groups[g - 1][1]}, L->groups[g - 1][1] ? 2 : 1};
      ok = try_layout(f, first, n_slots, groups, n_g + g, owners, slot, strict);
    }
    for (size_t k = 1; k <= 4 && !ok && !L; k++) {
      groups[n_g] = (slot_group){{NULL, NULL}, k};
      ok = try_layout(f, first, n_slots, groups, n_g + 1, owners, slot, strict);
    }
  }
  return ok;
}

/* Keras 3 names of a store's optimizer variables, which the file does not hold:
 * "<optimizer>/iteration", "<optimizer>/learning_rate", "<optimizer>/<variable path with '_' for
 * '/'>_<slot>"; a LossScaleOptimizer's own step_counter and dynamic_scale, then its inner
 * optimizer's variables under that one's name. */
static int name_store_optimizer(kcb_checkpoint_file *f) {
  /* RMSprop with two groups: momentum, or average_gradient when centered without momentum */
  json_t *ocfg = kcb__ckpt_optimizer_config(f->training, NULL);
  int centered_only = json_is_true(json_object_get(ocfg, "centered")) && json_number_value(json_object_get(ocfg, "momentum")) == 0;
  for (int s = 0; s < f->n_opt_seg; s++) {
    size_t first = f->opt_seg_start[s], end = s + 1 < f->n_opt_seg ? f->opt_seg_start[s + 1] : f->n_vars;
    const char *inner, *own = segment_name(f, s, &inner);
    const char *opt = own[0] ? own : "optimizer";
    int lso = inner != own;
    const opt_layout *L = kcb__opt_layout_for(f, inner);
    static const char *const lso_scalars[] = {"iteration", "learning_rate", "step_counter", "dynamic_scale"};
    int scalar = 0, seen_slot = 0;
    for (size_t j = first; j < end; j++) {
      kcb__ckpt_var *o = &f->vars[j];
      char name[KCB__H5_PATH_MAX + 256], flat[KCB__H5_PATH_MAX + 160];
      seen_slot |= o->pub.rank > 0;
      if (o->pub.owner < 0) {
        /* scalars before the slots: iteration, learning rate (none with a schedule); after: Nadam's */
        int k = o->pub.rank == 0 && !seen_slot ? scalar++ : -1;
        int last = j + 1 == end && seen_slot && o->pub.rank == 0;
        const char *who = opt, *what = NULL;
        if (lso && k >= 0 && k < 4) what = lso_scalars[k];
        else {
          if (lso) who = inner, k -= 4;
          what = k == 0 ? "iteration" : k == 1 ? "learning_rate"
                 : last && L && !strcmp(L->name, "nadam") ? "variable" /* u_product, made unnamed */ : NULL;
          if (last && lso) who = inner;
        }
        if (what) snprintf(name, sizeof name, "%s/%s", who, what);
        else snprintf(name, sizeof name, "%s/%zu", opt, o->store_index);
      } else {
        const char *slot = o->slot_name;
        if (slot && centered_only && !strcmp(slot, "momentum") && L && !strcmp(L->name, "rmsprop")) slot = "average_gradient";
        flat_name(f->vars[o->pub.owner].name, flat, sizeof flat);
        if (slot) snprintf(name, sizeof name, "%s/%s_%s", inner[0] ? inner : opt, flat, slot);
        else snprintf(name, sizeof name, "%s/%s_%zu", inner[0] ? inner : opt, flat, o->store_index);
      }
      char *copy = strdup(name);
      if (!copy) return kcb__error(KCB_ENOMEM, "out of memory");
      free(o->name);
      o->name = copy;
      o->pub.name = copy;
    }
  }
  return 0;
}

/* ---- opening ----------------------------------------------------------------------------- */

static int keep_string(char **slot, const char **pub, const char *value) {
  free(*slot);
  *slot = dup_or_empty(value);
  if (!*slot) return kcb__error(KCB_ENOMEM, "out of memory");
  *pub = *slot;
  return 0;
}

static int parse_config(kcb_checkpoint_file *f, const char *text, const char *what) {
  json_error_t err;
  f->config = kcb__json_loads_python(text, JSON_REJECT_DUPLICATES, &err, NULL); /* NaN: shown as null */
  if (!f->config || !json_is_object(f->config)) {
    char why[256];
    return kcb__error(KCB_EFORMAT, "%s: %s %s", f->path, what, kcb__json_not_object(f->config, &err, why, sizeof why));
  }
  const char *cls = kcb__entry_class(f->config);
  int rc = keep_string(&f->model_class, &f->meta.model_class, cls);
  if (!rc) rc = keep_string(&f->model_name, &f->meta.model_name, kcb__entry_name(f->config));
  return rc;
}

/* Lists the layers and variables of the layout kcb__ckpt_source recognised; `weights` is where a
 * full .h5 keeps its layer groups (-1: a config without weights). */
static int read_layout(kcb_checkpoint_file *f, hid_t weights) {
  int rc = 0;
  kcb_checkpoint_meta *m = &f->meta;
  m->model_config = f->model_config;
  m->training_config = f->training_config;
  m->metadata_json = f->metadata_json;
  switch (m->layout) {
    case KCB_LAYOUT_KERAS:
      if (f->model_config) {
        KCB__TRY(parse_config(f, f->model_config, "config.json"));
        json_t *cc = json_object_get(f->config, "compile_config");
        if (json_is_object(cc)) { /* a .keras keeps its compile settings inside the config */
          if (!(f->training_config = kcb__json_dumps_python(cc)))
            KCB__TRY(kcb__error(KCB_ENOMEM, "out of memory"));
          m->training_config = f->training_config;
        }
      }
      return read_store(f);
    case KCB_LAYOUT_WEIGHTS_H5:
      return read_store(f);
    case KCB_LAYOUT_LEGACY_WEIGHTS_H5:
      return read_legacy(f, f->file, "");
    default: /* KCB_LAYOUT_H5 */
      if (f->model_config) KCB__TRY(parse_config(f, f->model_config, "model_config"));
      if (weights >= 0) rc = read_legacy(f, weights, "/model_weights");
  }
done:
  return rc;
}

static int read_kcb_attrs(kcb_checkpoint_file *f) {
  int rc = 0;
  char *s = NULL;
  kcb_checkpoint_meta *m = &f->meta;
  if (kcb__h5_has_attr(f->file, "kcb_version")) {
    KCB__TRY(kcb__h5_attr_read_string(f->file, "kcb_version", &s, f->h5name));
    KCB__TRY(keep_string(&f->kcb_version, &m->kcb_version, s));
    free(s);
    s = NULL;
  }
  if (kcb__h5_has_attr(f->file, "kcb_monitor")) {
    KCB__TRY(kcb__h5_attr_read_string(f->file, "kcb_monitor", &s, f->h5name));
    KCB__TRY(keep_string(&f->monitor, &m->monitor, s));
    KCB__TRY(kcb__h5_attr_read_double(f->file, "kcb_monitor_value", &m->monitor_value, f->h5name));
    m->has_monitor = 1;
  }
  if (kcb__h5_has_attr(f->file, "kcb_epoch")) KCB__TRY(kcb__h5_attr_read_int64(f->file, "kcb_epoch", &m->epoch, f->h5name));
  if (kcb__h5_has_attr(f->file, "kcb_batch")) KCB__TRY(kcb__h5_attr_read_int64(f->file, "kcb_batch", &m->batch, f->h5name));
  if (kcb__h5_has_attr(f->file, "kcb_iterations"))
    KCB__TRY(kcb__h5_attr_read_int64(f->file, "kcb_iterations", &m->iterations, f->h5name));
  /* checked as a load checks them: a number past int (2^63 - 1) would be shown wrapped, or overflow */
  kcb_checkpoint_info counters = {.epoch = m->epoch, .batch = m->batch, .iterations = -1};
  KCB__TRY(kcb__check_restored_info(&counters, f->h5name));
  if (m->iterations < -1 || m->iterations > KCB__MAX_ITERATIONS)
    KCB__TRY(kcb__error(KCB_EINVAL, "%s: attribute 'kcb_iterations' is %lld: expected a count from 0 to 2^53", f->h5name,
                        (long long)m->iterations));
done:
  free(s);
  return rc;
}

int kcb__ckpt_same_data(const kcb_checkpoint_file *f, size_t i, size_t j, int constant_counts, int *same) {
  const kcb_checkpoint_var *a = &f->vars[i].pub, *b = &f->vars[j].pub;
  size_t es = kcb_var_dtype_size(a->dtype);
  *same = a->rank == b->rank && a->dtype == b->dtype && a->count == b->count && es > 0;
  for (int d = 0; *same && d < a->rank; d++) *same = a->shape[d] == b->shape[d];
  if (!*same) return 0;
  size_t size = a->count * es;
  unsigned char *x = malloc(size + 1), *y = malloc(size + 1);
  int rc = x && y ? 0 : kcb__error(KCB_ENOMEM, "out of memory");
  if (!rc) rc = kcb_checkpoint_file_read_raw(f, i, x, size);
  if (!rc) rc = kcb_checkpoint_file_read_raw(f, j, y, size);
  int constant = !constant_counts;
  for (size_t k = es; !rc && constant && k < size; k += es) constant = memcmp(x, x + k, es) == 0;
  *same = !rc && !(constant && !constant_counts) && memcmp(x, y, size) == 0;
  free(x);
  free(y);
  return rc;
}

/* A store's variables that a layer tracks again from one of its sub-layers (SpectralNormalization's
 * kernel is its Dense's): the same bytes as a variable below it. An array of one repeated value
 * (a zero bias) is no evidence. */
static int find_aliases(kcb_checkpoint_file *f) {
  unsigned char *has_sub = calloc(f->n_layers + 1, 1); /* only a layer with sub-layers can alias one */
  if (!has_sub) return kcb__error(KCB_ENOMEM, "out of memory");
  for (size_t l = 0; l < f->n_layers; l++)
    if (f->layers[l].pub.parent >= 0) has_sub[f->layers[l].pub.parent] = 1;
  for (size_t i = 0; i < f->meta.n_model_vars; i++) {
    int l = f->vars[i].pub.layer;
    if (l < 0 || !has_sub[l]) continue;
    for (size_t j = 0; j < f->meta.n_model_vars && f->vars[i].alias_of < 0; j++) {
      int sub = f->vars[j].pub.layer, inside = 0, same = 0;
      for (int up = sub >= 0 ? f->layers[sub].pub.parent : -1; up >= 0 && !inside; up = f->layers[up].pub.parent) inside = up == l;
      if (inside && kcb__ckpt_same_data(f, i, j, 0, &same)) kcb_error_clear(); /* unreadable: no alias; said when read */
      else if (inside && same) {
        f->vars[i].alias_of = (long)j;
        f->vars[i].pub.trainable = f->vars[j].pub.trainable;
      }
    }
  }
  free(has_sub);
  return 0;
}

/* The model's parameter totals and each layer's (its sub-layers' included); a variable tracked twice
 * counts once. */
static int count_params(kcb_checkpoint_file *f) {
  /* A legacy file lists a layer shared by two of the model's layers (a nested model and the outer
   * one) under both, by the same weight names; Keras counts those variables once in the model's
   * totals. Only a layer all of whose variables copy one other layer's (same names, same bytes) is
   * such a second listing, not one whose bias equals another's by chance (two zero biases). */
  int legacy = f->meta.layout != KCB_LAYOUT_WEIGHTS_H5 && f->meta.layout != KCB_LAYOUT_KERAS;
  long *copy_of = legacy ? malloc((f->meta.n_model_vars + 1) * sizeof *copy_of) : NULL;
  int *partner = legacy ? malloc((f->n_layers + 1) * sizeof *partner) : NULL; /* -1 none yet, -2 not a copy */
  kcb__str_map seen = {0};
  if (legacy && (!copy_of || !partner || kcb__str_map_init(&seen, f->meta.n_model_vars))) {
    free(copy_of);
    free(partner);
    return kcb__error(KCB_ENOMEM, "out of memory");
  }
  for (size_t l = 0; legacy && l < f->n_layers; l++) partner[l] = -1;
  for (size_t i = 0; legacy && i < f->meta.n_model_vars; i++) {
    long first = kcb__str_map_get(&seen, f->vars[i].name);
    if (first < 0) kcb__str_map_put(&seen, f->vars[i].name, (long)i);
    int same = 0; /* a read that fails counts as different */
    if (first >= 0 && kcb__ckpt_same_data(f, (size_t)first, i, 1, &same)) kcb_error_clear();
    copy_of[i] = same ? first : -1;
    int l = f->vars[i].pub.layer, other = copy_of[i] >= 0 ? f->vars[copy_of[i]].pub.layer : -2;
    if (l >= 0) partner[l] = other < 0 || (partner[l] != -1 && partner[l] != other) ? -2 : other;
  }
  for (size_t i = 0; i < f->meta.n_model_vars; i++) {
    const kcb__ckpt_var *v = &f->vars[i];
    if (v->alias_of >= 0) continue;
    if (!legacy || copy_of[i] < 0 || v->pub.layer < 0 || partner[v->pub.layer] < 0) {
      f->meta.n_params += v->pub.count;
      if (v->pub.trainable) f->meta.n_trainable_params += v->pub.count;
    }
    for (int l = v->pub.layer; l >= 0; l = f->layers[l].pub.parent) {
      f->layers[l].pub.n_params += v->pub.count;
      if (v->pub.trainable) f->layers[l].pub.n_trainable_params += v->pub.count;
    }
  }
  kcb__str_map_free(&seen);
  free(copy_of);
  free(partner);
  return 0;
}

int kcb_checkpoint_file_open(kcb_checkpoint_file **out, const char *path) {
  if (!out) return kcb__error(KCB_EINVAL, "checkpoint: no output");
  *out = NULL;
  if (!path) return kcb__error(KCB_EINVAL, "checkpoint: no file name");
  kcb__h5_quiet();
  kcb_checkpoint_file *f = calloc(1, sizeof *f);
  if (!f) return kcb__error(KCB_ENOMEM, "out of memory");
  kcb__ckpt_source src;
  int rc = kcb__ckpt_source_open(&src, path);
  f->file = H5I_INVALID_HID;
  kcb_checkpoint_meta *m = &f->meta;
  m->keras_version = m->backend = m->model_class = m->model_name = m->kcb_version = m->monitor = m->optimizer_name = "";
  m->epoch = m->batch = m->iterations = -1;
  if (rc) goto done;
  /* the tree owns what the source opened and read, but for the weights group */
  f->file = src.file, f->image = src.image, f->image_len = src.image_len, f->h5name = src.h5name;
  f->model_config = src.config, f->training_config = src.training, f->metadata_json = src.metadata_json;
  f->keras_version = src.keras_version, f->backend = src.backend, m->layout = src.layout, f->n_assets = src.n_assets;
  hid_t weights = src.weights == src.file ? H5I_INVALID_HID : src.weights;
  memset(&src, 0, sizeof src);
  src.file = H5I_INVALID_HID, src.weights = weights;
  if (!(f->path = strdup(path))) KCB__TRY(kcb__error(KCB_ENOMEM, "out of memory"));
  KCB__TRY(read_layout(f, weights));
  KCB__TRY(read_kcb_attrs(f));
  if (f->keras_version) m->keras_version = f->keras_version;
  if (f->backend) m->backend = f->backend;
  m->n_optimizer_vars = f->n_vars - m->n_model_vars;
  f->training = f->training_config ? kcb__json_loads_python(f->training_config, 0, NULL, NULL) : NULL;
  assign_owners(f);
  /* Layers of several classes in name order are a copy's order, or a model's by chance: Keras makes
   * the optimizer's slots in model.layers' order, so slots that fit no layout along them say which
   * (slots a layout leaves without owner, as Adafactor's factored ones, say nothing). */
  if (f->order_by_names && f->slots_unmatched) f->order_guessed = 1;
  m->layer_order_guessed = !f->config && m->layout == KCB_LAYOUT_WEIGHTS_H5 && f->order_guessed;
  if (!f->config && m->layout == KCB_LAYOUT_WEIGHTS_H5) frozen_from_slots(f, 0);
  else if (m->layout == KCB_LAYOUT_KERAS || m->layout == KCB_LAYOUT_H5) frozen_from_slots(f, 1);
  if (m->layout == KCB_LAYOUT_WEIGHTS_H5 || m->layout == KCB_LAYOUT_KERAS) KCB__TRY(find_aliases(f));
  KCB__TRY(count_params(f));
  if (m->layout == KCB_LAYOUT_WEIGHTS_H5 || m->layout == KCB_LAYOUT_KERAS) KCB__TRY(name_store_optimizer(f));
  /* names are final: the table of both keys, the first variable of each winning as find's scan would */
  KCB__TRY(kcb__str_map_init(&f->by_name, 2 * f->n_vars));
  for (size_t i = 0; i < f->n_vars; i++) {
    kcb__str_map_put(&f->by_name, f->vars[i].name, (long)i);
    kcb__str_map_put(&f->by_name, f->vars[i].path, (long)i);
  }
  if (m->n_optimizer_vars) {
    const kcb__ckpt_var *it = &f->vars[m->n_model_vars];
    /* a LossScaleOptimizer (its own variables begin with a step_counter among the first four)
     * never steps its own counter: Keras's iterations are its inner optimizer's, the next stored */
    int loss_scale = 0;
    for (size_t j = m->n_model_vars + 1; j < f->n_vars && j < m->n_model_vars + 4; j++)
      loss_scale |= kcb__leaf_is(f->vars[j].name, "step_counter");
    for (size_t j = m->n_model_vars + 1; loss_scale && j < f->n_vars && j < m->n_model_vars + 8; j++)
      if (kcb__leaf_is(f->vars[j].name, "iteration") || kcb__leaf_is(f->vars[j].name, "iterations")) {
        it = &f->vars[j];
        break;
      }
    int64_t iterations;
    if (it->pub.rank == 0 && it->pub.dtype >= KCB_DTYPE_INT8 &&
        kcb__h5_dataset_read_int64(f->file, it->path, &iterations, f->h5name) == 0)
      m->iterations = iterations;
    kcb_error_clear();
    /* Keras counts a step per gradient_accumulation_steps batches: optimizer.iterations is the
     * stored counter divided by them */
    json_t *accumulate = json_object_get(kcb__ckpt_optimizer_config(f->training, NULL), "gradient_accumulation_steps");
    if (m->iterations > 0 && json_is_integer(accumulate) && json_integer_value(accumulate) > 1)
      m->iterations /= json_integer_value(accumulate);
  }
  *out = f;
  kcb__ckpt_source_close(&src);
  return 0;
done:
  kcb__ckpt_source_close(&src);
  kcb_checkpoint_file_close(f);
  return rc;
}

void kcb_checkpoint_file_close(kcb_checkpoint_file *f) {
  if (!f) return;
  for (size_t i = 0; i < f->n_layers; i++) {
    kcb__ckpt_layer *l = &f->layers[i];
    free(l->name);
    free(l->class_name);
    free(l->path);
    free(l->attr);
    free(l->config_json);
  }
  for (size_t i = 0; i < f->n_vars; i++) {
    free(f->vars[i].path);
    free(f->vars[i].name);
  }
  free(f->layers);
  free(f->vars);
  kcb__str_map_free(&f->by_name);
  free(f->walked);
  free(f->slice[0]);
  free(f->slice[1]);
  for (size_t i = 0; f->part && i < f->meta.n_model_vars; i++) free(f->part[i]);
  free(f->part);
  free(f->part_k);
  kcb__h5_close(f->file);
  json_decref(f->config);
  json_decref(f->training);
  free(f->image);
  free(f->path);
  free(f->h5name);
  free(f->model_config);
  free(f->training_config);
  free(f->metadata_json);
  free(f->keras_version);
  free(f->backend);
  free(f->model_class);
  free(f->model_name);
  free(f->kcb_version);
  free(f->monitor);
  free(f->optimizer_name);
  for (int s = 0; s < f->n_opt_seg; s++) free(f->opt_seg_name[s]);
  free(f);
}

const kcb_checkpoint_meta *kcb_checkpoint_file_meta(const kcb_checkpoint_file *f) { return f ? &f->meta : NULL; }
const char *kcb_checkpoint_file_path(const kcb_checkpoint_file *f) { return f ? f->path : NULL; }
size_t kcb_checkpoint_file_layer_count(const kcb_checkpoint_file *f) { return f ? f->n_layers : 0; }
const kcb_checkpoint_layer *kcb_checkpoint_file_layer(const kcb_checkpoint_file *f, size_t i) {
  return f && i < f->n_layers ? &f->layers[i].pub : NULL;
}
size_t kcb_checkpoint_file_var_count(const kcb_checkpoint_file *f) { return f ? f->n_vars : 0; }
const kcb_checkpoint_var *kcb_checkpoint_file_var(const kcb_checkpoint_file *f, size_t i) {
  return f && i < f->n_vars ? &f->vars[i].pub : NULL;
}

long kcb_checkpoint_file_find(const kcb_checkpoint_file *f, const char *key) {
  if (!f || !key) return -1;
  return kcb__str_map_get(&f->by_name, key);
}

/* ---- matching variables between layouts --------------------------------------------------- */

/* `name` without a trailing ":<digits>", into out. */
static void strip_index(const char *name, char *out, size_t size) {
  kcb__strlcpy(out, name, size);
  char *c = strrchr(out, ':');
  size_t k;
  if (c && numeric_name(c + 1, &k)) *c = '\0';
}

/* Equal, or one is the other with leading path segments ("sequential/dense/kernel", "dense/kernel"). */
static int same_tail(const char *x, const char *y) {
  size_t a = strlen(x), b = strlen(y);
  if (a < b) {
    const char *t = x;
    x = y, y = t;
    size_t n = a;
    a = b, b = n;
  }
  return a == b ? strcmp(x, y) == 0 : b > 0 && x[a - b - 1] == '/' && strcmp(x + a - b, y) == 0;
}

/* Each model variable's layer part ("counter" of "mid/counter/0:0") and its position among the
 * model variables with the same layer part, computed once per file (kept like the stats buffers). */
static int layer_parts(const kcb_checkpoint_file *cf) {
  kcb_checkpoint_file *f = (kcb_checkpoint_file *)cf;
  size_t n = f->meta.n_model_vars;
  if (f->part || !n) return 0;
  char **part = calloc(n, sizeof *part);
  size_t *k = calloc(n, sizeof *k);
  named_index *idx = calloc(n, sizeof *idx);
  int rc = part && k && idx ? 0 : -1;
  char buf[KCB__H5_PATH_MAX + 160];
  for (size_t i = 0; rc == 0 && i < n; i++) {
    strip_index(f->vars[i].name, buf, sizeof buf);
    char *slash = strrchr(buf, '/');
    if (slash) *slash = '\0';
    else buf[0] = '\0';
    if (!(part[i] = strdup(buf))) rc = -1;
    else idx[i] = (named_index){part[i], i};
  }
  if (rc == 0) { /* the position within each part: sorted by part, then by index */
    qsort(idx, n, sizeof *idx, by_name_then_index);
    for (size_t j = 1; j < n; j++)
      if (!strcmp(idx[j].name, idx[j - 1].name)) k[idx[j].i] = k[idx[j - 1].i] + 1;
  }
  free(idx);
  if (rc) {
    for (size_t i = 0; part && i < n; i++) free(part[i]);
    free(part);
    free(k);
    return kcb__error(KCB_ENOMEM, "out of memory");
  }
  f->part = part;
  f->part_k = k;
  return 0;
}

long kcb_checkpoint_file_match(const kcb_checkpoint_file *a, size_t i, const kcb_checkpoint_file *b) {
  if (!a || !b || i >= a->meta.n_model_vars) return -1;
  size_t nb = b->meta.n_model_vars;
  char x[KCB__H5_PATH_MAX + 160], y[KCB__H5_PATH_MAX + 160];
  /* a name two variables share (a layer name used in two nested models: both kernels are
   * "proj/kernel") pairs its k-th holder in a with its k-th in b: both list them in model order */
  /* two stores (.weights.h5) of which one names its variables only by guess: the same path is the
   * same variable, whatever the guesses say */
  if ((a->names_guessed || b->names_guessed) && a->meta.layout == b->meta.layout)
    for (size_t j = 0; j < nb; j++)
      if (strcmp(a->vars[i].path, b->vars[j].path) == 0) return (long)j;
  size_t k = 0;
  for (size_t j = 0; j < i; j++) k += strcmp(a->vars[i].name, a->vars[j].name) == 0;
  for (size_t j = 0; j < nb; j++)
    if (strcmp(a->vars[i].name, b->vars[j].name) == 0 && k-- == 0) return (long)j;
  strip_index(a->vars[i].name, x, sizeof x);
  long found = -1;
  int n_found = 0;
  for (size_t j = 0; j < nb; j++) {
    strip_index(b->vars[j].name, y, sizeof y);
    if (same_tail(x, y)) found = (long)j, n_found++;
  }
  if (n_found == 1) return found;
  if (layer_parts(a) == 0 && layer_parts(b) == 0 && a->part[i][0])
    for (size_t j = 0; j < nb; j++)
      if (b->part_k[j] == a->part_k[i] && b->part[j][0] && same_tail(a->part[i], b->part[j])) return (long)j;
  kcb_error_clear();
  return a->meta.n_model_vars == nb ? (long)i : -1;
}

/* ---- data -------------------------------------------------------------------------------- */

static int check_index(const kcb_checkpoint_file *f, size_t i) {
  if (!f || i >= f->n_vars) return kcb__error(KCB_EINVAL, "checkpoint: no variable %zu", i);
  return 0;
}

/* Rows of dimension 0 per slice so that a slice holds about `budget` elements. */
static int64_t rows_per_slice(const kcb_checkpoint_var *v, size_t budget) {
  if (v->rank == 0 || v->shape[0] == 0) return 1;
  size_t row = v->count / (size_t)v->shape[0];
  int64_t rows = row ? (int64_t)(budget / row) : v->shape[0];
  return rows < 1 ? 1 : rows > v->shape[0] ? v->shape[0] : rows;
}

/* bfloat16 is the upper half of a float32. */
static double bf16_value(const unsigned char *p) {
  uint32_t bits = ((uint32_t)p[0] | (uint32_t)p[1] << 8) << 16;
  float x;
  memcpy(&x, &bits, sizeof x);
  return x;
}

int kcb_checkpoint_file_read_double(const kcb_checkpoint_file *f, size_t i, double *out, size_t n) {
  int rc = check_index(f, i);
  if (rc) return rc;
  const kcb__ckpt_var *v = &f->vars[i];
  if (n != v->pub.count) return kcb__error(KCB_EINVAL, "%s: '%s' holds %zu values, not %zu", f->h5name, v->path, v->pub.count, n);
  if (v->pub.dtype == KCB_DTYPE_BFLOAT16) {
    unsigned char *raw = malloc(2 * n + 1);
    if (!raw) return kcb__error(KCB_ENOMEM, "out of memory reading '%s'", v->path);
    rc = kcb_checkpoint_file_read_raw(f, i, raw, 2 * n);
    for (size_t k = 0; rc == 0 && k < n; k++) out[k] = bf16_value(raw + 2 * k);
    free(raw);
    return rc;
  }
  if (v->pub.dtype == KCB_DTYPE_UNKNOWN) return kcb__error(KCB_EFORMAT, "%s: '%s' is not numeric", f->h5name, v->path);
  return kcb__h5_dataset_read_rows(f->file, v->path, H5T_NATIVE_DOUBLE, 0, v->pub.rank ? v->pub.shape[0] : 1, out, n, f->h5name);
}

int kcb_checkpoint_file_read_raw(const kcb_checkpoint_file *f, size_t i, void *out, size_t size) {
  int rc = check_index(f, i);
  if (rc) return rc;
  const kcb__ckpt_var *v = &f->vars[i];
  size_t es = kcb_var_dtype_size(v->pub.dtype);
  if (!es) return kcb__error(KCB_EINVAL, "%s: '%s' is not numeric", f->h5name, v->path);
  if (size != v->pub.count * es)
    return kcb__error(KCB_EINVAL, "%s: '%s' takes %zu bytes, not %zu", f->h5name, v->path, v->pub.count * es, size);
  if (v->pub.dtype == KCB_DTYPE_BFLOAT16) /* little-endian 2-byte words, as Keras's numpy wrote them */
    return raw_read(f, v->raw_addr, out, size) ? kcb__error(KCB_EFORMAT, "%s: '%s': its data lies outside the file", f->h5name, v->path) : 0;
  hid_t mt = v->pub.dtype == KCB_DTYPE_FLOAT16 ? kcb__dtype_half() : kcb__dtype_file_type(v->pub.dtype);
  if (mt < 0) return kcb__error(KCB_ENOMEM, "cannot make an HDF5 type");
  rc = kcb__h5_dataset_read_rows(f->file, v->path, mt, 0, v->pub.rank ? v->pub.shape[0] : 1, out, v->pub.count, f->h5name);
  if (v->pub.dtype == KCB_DTYPE_FLOAT16) H5Tclose(mt);
  return rc;
}

/* Running statistics of a variable, merged block by block. The finite values are summed less a
 * shift (the first finite value), so that values far from zero (1e8 + {0, 1}) keep the digits of
 * their spread in the sum of squares. */
typedef struct stats_acc {
  double sum, fsum, fsq, lo, hi, shift;
  size_t n_nan, n_inf, n_fin;
  int has_shift;
} stats_acc;

static void stats_pick_shift(stats_acc *a, double v) {
  if (!a->has_shift && isfinite(v)) a->shift = v, a->has_shift = 1;
}

/* One block, carefully: NaN and infinities counted, left out of the finite statistics. */
static void stats_slow(const double *x, size_t n, stats_acc *a) {
  for (size_t k = 0; k < n; k++) {
    double v = x[k];
    a->sum += v;
    if (isnan(v)) a->n_nan++;
    else if (isinf(v)) a->n_inf++;
    else {
      stats_pick_shift(a, v);
      double d = v - a->shift;
      a->n_fin++;
      a->fsum += d;
      a->fsq += d * d;
      if (v < a->lo) a->lo = v;
      if (v > a->hi) a->hi = v;
    }
  }
}

#define STATS_BLOCK 2048

/* The sums and squares of x - shift, least and greatest value of m floats (m a multiple of 8):
 * SSE2 (every x86-64 has it) in 8 lanes, sums and squares in double; a plain loop elsewhere. */
#if defined(__SSE2__)
#include <emmintrin.h>
static void block_floats(const float *p, size_t m, double shift, double *bs, double *bq, float *blo, float *bhi) {
  __m128d s0 = _mm_setzero_pd(), s1 = s0, s2 = s0, s3 = s0, q0 = s0, q1 = s0, q2 = s0, q3 = s0, k0 = _mm_set1_pd(shift);
  __m128 lo = _mm_set1_ps(p[0]), hi = lo;
  for (size_t k = 0; k < m; k += 8) {
    __m128 a = _mm_loadu_ps(p + k), b = _mm_loadu_ps(p + k + 4);
    __m128d a0 = _mm_sub_pd(_mm_cvtps_pd(a), k0), a1 = _mm_sub_pd(_mm_cvtps_pd(_mm_movehl_ps(a, a)), k0);
    __m128d b0 = _mm_sub_pd(_mm_cvtps_pd(b), k0), b1 = _mm_sub_pd(_mm_cvtps_pd(_mm_movehl_ps(b, b)), k0);
    s0 = _mm_add_pd(s0, a0), s1 = _mm_add_pd(s1, a1), s2 = _mm_add_pd(s2, b0), s3 = _mm_add_pd(s3, b1);
    q0 = _mm_add_pd(q0, _mm_mul_pd(a0, a0)), q1 = _mm_add_pd(q1, _mm_mul_pd(a1, a1));
    q2 = _mm_add_pd(q2, _mm_mul_pd(b0, b0)), q3 = _mm_add_pd(q3, _mm_mul_pd(b1, b1));
    lo = _mm_min_ps(_mm_min_ps(a, b), lo); /* a NaN leaves lo as it was: such blocks are redone */
    hi = _mm_max_ps(_mm_max_ps(a, b), hi);
  }
  double s[2], q[2];
  float l[4], h[4];
  _mm_storeu_pd(s, _mm_add_pd(_mm_add_pd(s0, s1), _mm_add_pd(s2, s3)));
  _mm_storeu_pd(q, _mm_add_pd(_mm_add_pd(q0, q1), _mm_add_pd(q2, q3)));
  _mm_storeu_ps(l, lo);
  _mm_storeu_ps(h, hi);
  *bs = s[0] + s[1];
  *bq = q[0] + q[1];
  *blo = fminf(fminf(l[0], l[1]), fminf(l[2], l[3]));
  *bhi = fmaxf(fmaxf(h[0], h[1]), fmaxf(h[2], h[3]));
}
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define KCB_HAVE_AVX2_BLOCK 1
/* The same with AVX2 (4 doubles a register), for the CPUs that have it. */
__attribute__((target("avx2"))) static void block_floats_avx2(const float *p, size_t m, double shift, double *bs, double *bq,
                                                               float *blo, float *bhi) {
  __m256d s0 = _mm256_setzero_pd(), s1 = s0, q0 = s0, q1 = s0, k0 = _mm256_set1_pd(shift);
  __m256 lo = _mm256_set1_ps(p[0]), hi = lo;
  for (size_t k = 0; k < m; k += 8) {
    __m256 a = _mm256_loadu_ps(p + k);
    __m256d a0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(a)), k0);
    __m256d a1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(a, 1)), k0);
    s0 = _mm256_add_pd(s0, a0), s1 = _mm256_add_pd(s1, a1);
    q0 = _mm256_add_pd(q0, _mm256_mul_pd(a0, a0)), q1 = _mm256_add_pd(q1, _mm256_mul_pd(a1, a1));
    lo = _mm256_min_ps(a, lo);
    hi = _mm256_max_ps(a, hi);
  }
  double s[4], q[4];
  float l[8], h[8];
  _mm256_storeu_pd(s, _mm256_add_pd(s0, s1));
  _mm256_storeu_pd(q, _mm256_add_pd(q0, q1));
  _mm256_storeu_ps(l, lo);
  _mm256_storeu_ps(h, hi);
  *bs = (s[0] + s[1]) + (s[2] + s[3]);
  *bq = (q[0] + q[1]) + (q[2] + q[3]);
  float mn = l[0], mx = h[0];
  for (int j = 1; j < 8; j++) mn = fminf(mn, l[j]), mx = fmaxf(mx, h[j]);
  *blo = mn, *bhi = mx;
}
#endif
#else
static void block_floats(const float *p, size_t m, double shift, double *bs, double *bq, float *blo, float *bhi) {
  double s = 0, q = 0;
  float lo = p[0], hi = p[0];
  for (size_t k = 0; k < m; k++) {
    double d = p[k] - shift;
    s += d;
    q += d * d;
    lo = p[k] < lo ? p[k] : lo;
    hi = p[k] > hi ? p[k] : hi;
  }
  *bs = s, *bq = q, *blo = lo, *bhi = hi;
}
#endif

/* float32 in blocks; a block whose sums are not finite holds a NaN or an infinity and is redone
 * by stats_slow, which counts them. */
static void stats_floats(const float *x, size_t n, stats_acc *a) {
  double tmp[STATS_BLOCK];
  for (size_t b = 0; b < n; b += STATS_BLOCK) {
    size_t m = n - b < STATS_BLOCK ? n - b : STATS_BLOCK, m8 = m & ~(size_t)7;
    const float *p = x + b;
    double bs = 0, bq = 0;
    float lo = INFINITY, hi = -INFINITY;
    stats_pick_shift(a, p[0]); /* a block that starts with NaN or an infinity is redone below */
    double shift = a->shift;
#ifdef KCB_HAVE_AVX2_BLOCK
    if (m8 && __builtin_cpu_supports("avx2")) block_floats_avx2(p, m8, shift, &bs, &bq, &lo, &hi);
    else
#endif
    if (m8) block_floats(p, m8, shift, &bs, &bq, &lo, &hi);
    for (size_t k = m8; k < m; k++) {
      double d = p[k] - shift;
      bs += d;
      bq += d * d;
      lo = p[k] < lo ? p[k] : lo;
      hi = p[k] > hi ? p[k] : hi;
    }
    if (!isfinite(bs) || !isfinite(bq)) {
      for (size_t i = 0; i < m; i++) tmp[i] = p[i];
      stats_slow(tmp, m, a);
      continue;
    }
    a->sum += bs + shift * (double)m;
    a->fsum += bs;
    a->fsq += bq;
    a->n_fin += m;
    if (lo < a->lo) a->lo = lo;
    if (hi > a->hi) a->hi = hi;
  }
}

/* A slice being summed on a second thread while the next one is read. */
typedef struct stats_job {
  const void *buf;
  size_t n;
  int as_float;
  stats_acc *acc;
} stats_job;

static void *stats_run(void *arg) {
  stats_job *j = arg;
  if (j->as_float) stats_floats(j->buf, j->n, j->acc);
  else stats_slow(j->buf, j->n, j->acc);
  return NULL;
}

/* The statistics the sums give: min, max, mean and std over the finite values (NaN without any). */
static void stats_finish(const stats_acc *a, kcb_var_stats *out) {
  out->sum = a->sum;
  out->n_nan = a->n_nan;
  out->n_inf = a->n_inf;
  if (a->n_fin) {
    out->min = a->lo;
    out->max = a->hi;
    double shifted_mean = a->fsum / (double)a->n_fin;
    out->mean = a->shift + shifted_mean;
    double var = a->fsq / (double)a->n_fin - shifted_mean * shifted_mean;
    out->std = sqrt(var > 0 ? var : 0);
  } else {
    out->min = out->max = out->mean = out->std = NAN;
  }
}

int kcb_checkpoint_file_stats(const kcb_checkpoint_file *f, size_t i, kcb_var_stats *out) {
  int rc = check_index(f, i);
  if (rc) return rc;
  if (!out) return kcb__error(KCB_EINVAL, "kcb_checkpoint_file_stats: out is NULL");
  const kcb__ckpt_var *v = &f->vars[i];
  if (v->pub.dtype == KCB_DTYPE_UNKNOWN) return kcb__error(KCB_EFORMAT, "%s: '%s' is not numeric", f->h5name, v->path);
  if (v->pub.dtype == KCB_DTYPE_BFLOAT16) { /* rare and read as bytes: all at once */
    double *x = malloc((v->pub.count + 1) * sizeof *x);
    if (!x) return kcb__error(KCB_ENOMEM, "out of memory for '%s'", v->path);
    stats_acc a = {.lo = INFINITY, .hi = -INFINITY};
    rc = kcb_checkpoint_file_read_double(f, i, x, v->pub.count);
    if (rc == 0) stats_slow(x, v->pub.count, &a);
    free(x);
    if (rc == 0) stats_finish(&a, out);
    return rc;
  }
  /* float32, the usual case, is read as stored (no conversion, straight into the buffer) */
  int as_float = v->pub.dtype == KCB_DTYPE_FLOAT32;
  size_t es = as_float ? sizeof(float) : sizeof(double);
  int64_t rows = rows_per_slice(&v->pub, (size_t)4 << 20), total = v->pub.rank ? v->pub.shape[0] : 1;
  size_t row = v->pub.rank && v->pub.shape[0] ? v->pub.count / (size_t)v->pub.shape[0] : v->pub.count;
  /* two buffers: HDF5 (which is not thread-safe) reads one on this thread while another thread
   * sums the other, so a large variable takes about the longer of reading and summing */
  kcb_checkpoint_file *cache = (kcb_checkpoint_file *)f; /* the buffers are kept between calls: fresh
                                                           pages would cost a fault every 4 KiB */
  size_t need = ((size_t)rows * row + 1) * es;
  if (need > cache->slice_size) {
    for (int b = 0; b < 2; b++) {
      free(cache->slice[b]);
      cache->slice[b] = malloc(need);
    }
    cache->slice_size = cache->slice[0] && cache->slice[1] ? need : 0;
    if (!cache->slice_size) return kcb__error(KCB_ENOMEM, "out of memory for '%s'", v->path);
  }
  void *buf[2] = {cache->slice[0], cache->slice[1]};
  stats_acc a = {.lo = INFINITY, .hi = -INFINITY};
  stats_job job;
  pthread_t worker;
  int running = 0;
  for (int64_t r0 = 0, k = 0; rc == 0 && r0 < total && v->pub.count; r0 += rows, k++) {
    int64_t nr = total - r0 < rows ? total - r0 : rows;
    size_t n = v->pub.rank ? (size_t)nr * row : 1;
    void *b = buf[k % 2];
    if ((rc = kcb__h5_dataset_read_rows(f->file, v->path, as_float ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE, r0, nr, b, n,
                                        f->h5name)))
      break;
    if (running) pthread_join(worker, NULL);
    running = 0;
    job = (stats_job){b, n, as_float, &a};
    if (r0 + rows < total && pthread_create(&worker, NULL, stats_run, &job) == 0) running = 1;
    else stats_run(&job);
  }
  if (running) pthread_join(worker, NULL);
  if (rc == 0) stats_finish(&a, out);
  return rc;
}

int kcb_checkpoint_file_compare(const kcb_checkpoint_file *a, size_t i, const kcb_checkpoint_file *b, size_t j,
                                double *max_abs, double *rel_l2) {
  int rc = check_index(a, i);
  if (!rc) rc = check_index(b, j);
  if (rc) return rc;
  size_t n = a->vars[i].pub.count;
  if (n != b->vars[j].pub.count)
    return kcb__error(KCB_ESHAPE, "'%s' holds %zu values, '%s' %zu", a->vars[i].name, n, b->vars[j].name, b->vars[j].pub.count);
  double *x = malloc((n + 1) * sizeof *x), *y = malloc((n + 1) * sizeof *y);
  if (!x || !y) rc = kcb__error(KCB_ENOMEM, "out of memory comparing '%s'", a->vars[i].name);
  if (!rc) rc = kcb_checkpoint_file_read_double(a, i, x, n);
  if (!rc) rc = kcb_checkpoint_file_read_double(b, j, y, n);
  /* 64-bit integers beyond 2^53 round together as doubles: their differences come from the bytes */
  kcb_var_dtype ta = a->vars[i].pub.dtype;
  int wide = ta == b->vars[j].pub.dtype && (ta == KCB_DTYPE_INT64 || ta == KCB_DTYPE_UINT64);
  int64_t *xi = wide && !rc ? malloc((n + 1) * sizeof *xi) : NULL, *yi = xi ? malloc((n + 1) * sizeof *yi) : NULL;
  if (wide && !rc && (!xi || !yi)) rc = kcb__error(KCB_ENOMEM, "out of memory comparing '%s'", a->vars[i].name);
  if (wide && !rc) rc = kcb_checkpoint_file_read_raw(a, i, xi, n * sizeof *xi);
  if (wide && !rc) rc = kcb_checkpoint_file_read_raw(b, j, yi, n * sizeof *yi);
  if (!rc) {
    double m = 0, amax = 0;
    for (size_t k = 0; k < n; k++) {
      if (isfinite(x[k]) && fabs(x[k]) > amax) amax = fabs(x[k]);
      if (wide) { /* y[k] becomes the exact |a - b|, x[k] 0 */
        __int128 d = ta == KCB_DTYPE_UINT64 ? (__int128)(uint64_t)xi[k] - (__int128)(uint64_t)yi[k] : (__int128)xi[k] - yi[k];
        x[k] = 0, y[k] = (double)(d < 0 ? -d : d);
        if (y[k] > m) m = y[k];
        continue;
      }
      /* the same value, the same infinity, or NaN in both: no difference (a diverged run compared
       * with its own copy) */
      if (x[k] == y[k] || (isnan(x[k]) && isnan(y[k]))) continue;
      double d = fabs(x[k] - y[k]);
      if (!isnan(m) && (isnan(d) || d > m)) m = d; /* NaN, once met, stays */
    }
    /* the squares scaled by the largest difference and the largest |a|: neither tiny (1e-200) nor
     * huge (1e200) doubles underflow or overflow in them */
    double d2 = 0, a2 = 0, dm = isfinite(m) && m > 0 ? m : 1, am = amax > 0 ? amax : 1;
    for (size_t k = 0; k < n; k++) {
      double v = wide ? (ta == KCB_DTYPE_UINT64 ? (double)(uint64_t)xi[k] : (double)xi[k]) : x[k];
      if (isfinite(v)) a2 += (v / am) * (v / am);
      if (x[k] == y[k] || (isnan(x[k]) && isnan(y[k]))) continue;
      double d = fabs(x[k] - y[k]) / dm;
      d2 += d * d;
    }
    *max_abs = m;
    *rel_l2 = d2 == 0 ? 0 : dm * sqrt(d2) / (am * sqrt(a2));
  }
  free(xi);
  free(yi);
  free(x);
  free(y);
  return rc;
}
