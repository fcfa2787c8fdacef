/* model/checkpoint_convert.c — kcb_checkpoint_file_write: a checkpoint of any model copied or
 * converted between Keras's layouts (doc/checkpoint-layouts.md), then read back and compared
 * variable by variable. Works on the layer-agnostic tree of io/checkpoint_file.c. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "io/checkpoint_file_internal.h"
#include "io/zip.h"
#include "io/json_python.h"
#include "model/bounds.h"
#include "model/config_json.h"
#include "model/model_internal.h"


/* Where each source variable goes in the target and in which order. */
typedef struct plan {
  kcb_checkpoint_layout layout;
  char **dst_path;   /* per source variable: the dataset path in the target ("" = not written) */
  size_t *order;     /* model variables in target order (store), as source indices */
  size_t n_order;
  size_t *opt_order; /* optimizer variables in target order */
  size_t n_opt;
  int synth_lr;      /* write a learning rate the source does not hold (tf.keras 2 files) */
  size_t inner_from; /* a LossScaleOptimizer: opt_order[inner_from..] (its inner optimizer's variables)
                        are written again at optimizer/inner_optimizer/vars/<k>; 0: none */
  char inner_name[128];
  char opt_name[128]; /* a tf.keras 2 store's optimizer, for the legacy names ("" = the names kept) */
  float lr;
  int synth_u_product; /* write Nadam's u_product, computed: tf.keras 2 holds none in Keras 3's form */
  float u_product;
  kcb_checkpoint_write_report *report;
} plan;

static void plan_free(plan *p, size_t n_vars) {
  if (p->dst_path)
    for (size_t i = 0; i < n_vars; i++) free(p->dst_path[i]);
  free(p->dst_path);
  free(p->order);
  free(p->opt_order);
}

static int set_path(plan *p, size_t i, const char *path) {
  free(p->dst_path[i]);
  p->dst_path[i] = strdup(path);
  return p->dst_path[i] ? 0 : kcb__error(KCB_ENOMEM, "out of memory");
}

static const kcb__ckpt_layer *top_of(const kcb_checkpoint_file *f, int layer) {
  while (f->layers[layer].pub.parent >= 0) layer = f->layers[layer].pub.parent;
  return &f->layers[layer];
}

/* Appends a sentence to the report's note ("; " between them), cut to fit. */
static void add_note(kcb_checkpoint_write_report *r, const char *fmt, ...) {
  size_t len = strlen(r->note);
  if (len && len + 2 < sizeof r->note) memcpy(r->note + len, "; ", 3), len += 2;
  va_list ap;
  va_start(ap, fmt);
  if (len < sizeof r->note) vsnprintf(r->note + len, sizeof r->note - len, fmt, ap);
  va_end(ap);
}

/* ---- target: Keras 3 store -------------------------------------------------------------- */

/* The top-level layers' containers, found once per conversion: a model of thousands of layers
 * would otherwise walk its config for every variable. */
typedef struct container {
  const char *name; /* a config entry's layer name (borrowed from the config) */
  char path[160];   /* "/layers/<snake class>[_<k>]" */
} container;

typedef struct containers {
  json_t *layers;   /* the config's layer list (NULL: no config) */
  container *by_name; /* sorted by name */
  size_t n;
} containers;

static void containers_free(containers *c) {
  json_decref(c->layers);
  free(c->by_name);
  memset(c, 0, sizeof *c);
}

static int by_container_name(const void *a, const void *b) {
  return strcmp(((const container *)a)->name, ((const container *)b)->name);
}

/* Each entry's container: its class in snake case, numbered by the entries of that class before it. */
static int containers_make(const kcb_checkpoint_file *f, containers *c) {
  memset(c, 0, sizeof *c);
  c->layers = f->config ? kcb__entry_layers(f->config, 1) : NULL;
  size_t n = json_array_size(c->layers), n_classes = 0;
  c->by_name = malloc((n + 1) * sizeof *c->by_name);
  struct class_count { char snake[128]; int k; } *classes = malloc((n + 1) * sizeof *classes);
  if (!c->by_name || !classes) {
    free(classes);
    containers_free(c);
    return kcb__error(KCB_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    json_t *e = json_array_get(c->layers, i);
    char snake[128];
    kcb__keras_snake_case(kcb__entry_class(e), snake, sizeof snake);
    size_t k = 0;
    while (k < n_classes && strcmp(classes[k].snake, snake)) k++; /* a model has few classes */
    if (k == n_classes) snprintf(classes[n_classes].snake, sizeof classes[0].snake, "%s", snake), classes[n_classes++].k = 0;
    container *t = &c->by_name[c->n++];
    t->name = kcb__entry_name(e);
    if (classes[k].k) snprintf(t->path, sizeof t->path, "/layers/%s_%d", snake, classes[k].k);
    else snprintf(t->path, sizeof t->path, "/layers/%s", snake);
    classes[k].k++;
  }
  free(classes);
  qsort(c->by_name, c->n, sizeof *c->by_name, by_container_name);
  return 0;
}

/* The store object a legacy layer maps to, relative to its parent object: a sub-model's layer is
 * `layers/<container>`, an RNN's cell `cell`, Bidirectional's copies `forward_layer` /
 * `backward_layer`, a wrapped layer `layer`. Fails, naming the layer, where Keras defines none. */
static int store_object_path(const kcb_checkpoint_file *f, containers *c, int layer, char *out, size_t size) {
  const kcb__ckpt_layer *l = &f->layers[layer];
  int parent = l->pub.parent;
  if (l->model_own) { /* the model's own variables: the root `vars` */
    snprintf(out, size, "%s", "");
    return 0;
  }
  if (parent < 0) {
    /* a top-level layer: its container name, counted per class among the model's layers */
    container key = {.name = l->name};
    const container *found = c->n ? bsearch(&key, c->by_name, c->n, sizeof key, by_container_name) : NULL;
    if (!found)
      return kcb__error(KCB_EINVAL, "%s: layer '%s' is not in the model config, so its Keras 3 container is unknown", f->path,
                        l->name);
    snprintf(out, size, "%s", found->path);
    return 0;
  }
  char base[512]; /* class names only: short */
  int rc = store_object_path(f, c, parent, base, sizeof base);
  if (rc) return rc;
  const kcb__ckpt_layer *p = &f->layers[parent];
  if (kcb__is_model_class(p->class_name) && p->entry) {
    json_t *layers = kcb__entry_layers(p->entry, 1);
    size_t i;
    json_t *e;
    int k = 0, found = 0;
    char snake[128], mine[128];
    kcb__keras_snake_case(l->class_name, mine, sizeof mine);
    json_array_foreach(layers, i, e) {
      kcb__keras_snake_case(kcb__entry_class(e), snake, sizeof snake);
      if (strcmp(kcb__entry_name(e), l->name) == 0) {
        found = 1;
        break;
      }
      k += strcmp(snake, mine) == 0;
    }
    json_decref(layers);
    if (found) {
      if (k) snprintf(out, size, "%s/layers/%s_%d", base, mine, k);
      else snprintf(out, size, "%s/layers/%s", base, mine);
      return 0;
    }
  } else if (kcb__is_rnn_class(p->class_name)) {
    snprintf(out, size, "%s/cell", base);
    return 0;
  } else if (!strcmp(p->class_name, "StackedRNNCells")) {
    /* its `cells` list, saved as a container: items named by class, counted per class (the entry
     * is its RNN's config's cell, as io/checkpoint_file.c's legacy reader gives it) */
    json_t *cells = json_object_get(json_object_get(p->entry, "config"), "cells"), *e;
    size_t i;
    int k = 0;
    char snake[128], mine[128];
    kcb__keras_snake_case(l->class_name, mine, sizeof mine);
    json_array_foreach(cells, i, e) {
      if (!strcmp(kcb__entry_name(e), l->name)) {
        if (k) snprintf(out, size, "%s/cells/%s_%d", base, mine, k);
        else snprintf(out, size, "%s/cells/%s", base, mine);
        return 0;
      }
      kcb__keras_snake_case(kcb__entry_class(e), snake, sizeof snake);
      k += strcmp(snake, mine) == 0;
    }
  } else if (strcmp(p->class_name, "Bidirectional") == 0) {
    /* its forward copy is always forward_<name> */
    int backward = kcb__bidi_is_backward(json_object_get(p->entry, "config"), l->name);
    if (backward || !strncmp(l->name, "forward_", 8)) {
      snprintf(out, size, "%s/%s", base, backward ? "backward_layer" : "forward_layer");
      return 0;
    }
  } else if (strcmp(p->class_name, "TimeDistributed") == 0) {
    snprintf(out, size, "%s/layer", base);
    return 0;
  } else if (kcb__is_attention_class(p->class_name)) {
    /* its EinsumDense projections, named query, key, value, attention_output (and gate), saved
     * under MultiHeadAttention's public properties, or under the private attributes where there is
     * none (its gate, all of GroupedQueryAttention's: Keras walks private attributes last) */
    static const char *const map[][2] = {{"query", "query_dense"}, {"key", "key_dense"}, {"value", "value_dense"},
                                         {"attention_output", "output_dense"}, {"gate", "gate_dense"}};
    int mha = !strcmp(p->class_name, "MultiHeadAttention");
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
      if (strcmp(l->name, map[i][0]) == 0) {
        snprintf(out, size, "%s/%s%s", base, mha && strcmp(map[i][0], "gate") ? "" : "_", map[i][1]);
        return 0;
      }
  }
  return kcb__error(KCB_EINVAL,
                    "%s: cannot convert layer '%s' (%s): its sub-layer '%s' is stored by Keras 3 under an attribute "
                    "name that the legacy file does not give",
                    f->path, p->name, p->class_name[0] ? p->class_name : "unknown class", l->name);
}

/* A tf.keras 2.13-2.15 .keras: a store, but not Keras 3's (its layers filed under other names, its
 * optimizer without a learning rate), so it is laid out again as a legacy file is, never copied. */
static int tf2_store(const kcb_checkpoint_file *f) {
  return (f->meta.layout == KCB_LAYOUT_WEIGHTS_H5 || f->meta.layout == KCB_LAYOUT_KERAS) && f->meta.keras_version[0] == '2' &&
         f->config;
}

/* A Keras 3 LossScaleOptimizer (mixed precision) from a legacy .h5: its variables are stored in
 * Keras 3's order already (its iteration, learning rate, step_counter, dynamic_scale, then the
 * inner optimizer's); the store holds them at optimizer/vars and the inner optimizer's again at
 * optimizer/inner_optimizer/vars. */
static int plan_store_lso(const kcb_checkpoint_file *f, plan *p) {
  size_t nm = f->meta.n_model_vars;
  int rc = 0;
  for (size_t j = nm; j < f->n_vars; j++) {
    char path[64];
    snprintf(path, sizeof path, "/optimizer/vars/%zu", j - nm);
    KCB__TRY(set_path(p, j, path));
    p->opt_order[p->n_opt++] = j;
    const char *slash = strchr(f->vars[j].name, '/');
    if (!p->inner_from && j - nm >= 4 && slash && strncmp(f->vars[j].name, "loss_scale_optimizer/", 21) != 0) {
      p->inner_from = j - nm;
      snprintf(p->inner_name, sizeof p->inner_name, "%.*s", (int)(slash - f->vars[j].name), f->vars[j].name);
    }
  }
done:
  return rc;
}

/* Keras 3's Nadam u_product after the file's iterations: the product over steps s = 1..t of
 * beta_1 * (1 - 0.5 * 0.96^s), in float32 as Keras keeps it. tf.keras >= 2.11 stores none, and
 * optimizer_v2's momentum_cache follows another schedule (0.96^(0.004 s)), so it is computed. */
static int nadam_u_product(const kcb_checkpoint_file *f, size_t it, json_t *ocfg, plan *p) {
  double steps = 0;
  int rc = kcb_checkpoint_file_read_double(f, it, &steps, 1);
  if (rc) return rc;
  json_t *b1 = json_object_get(ocfg, "beta_1");
  float beta_1 = json_is_number(b1) ? (float)json_number_value(b1) : 0.9f, u = 1.0f;
  for (double s = 1; s <= steps; s++) { /* until the product stops changing (0, or the least float) */
    float next = u * beta_1 * (1.0f - 0.5f * powf(0.96f, (float)s));
    if (next == u) break;
    u = next;
  }
  p->synth_u_product = 1;
  p->u_product = u;
  add_note(p->report, "Nadam's u_product is computed from the iteration count and beta_1, as Keras 3 keeps it: "
           "tf.keras 2 stores none in that form");
  return 0;
}

/* Keras 3 keeps the optimizer's iteration, its learning rate, then the slots in its own layout
 * (kcb__opt_layout_of: Adam's momentum and velocity interleaved per variable, RMSprop's velocities
 * then momentums), then Nadam's u_product. From a legacy file: each variable's slots are taken in
 * their stored order (tf.keras 2 keeps m before v, rms before momentum, as Keras 3's groups);
 * tf.keras 2 keeps no learning rate variable (optimizer_v2 keeps it among its hyperparameters, which
 * Keras 3 does not have), so it is taken from the optimizer config. */
static int plan_store_optimizer(const kcb_checkpoint_file *f, plan *p) {
  size_t nm = f->meta.n_model_vars, n_opt = f->n_vars - nm;
  long it = -1, lr = -1;
  int rc = 0, ok = n_opt > 0;
  size_t n_slots = 0, k = 0;
  size_t *per = NULL, **slots = NULL;
  if (nm < f->n_vars && !strncmp(f->vars[nm].name, "loss_scale_optimizer/", 21)) return plan_store_lso(f, p);
  if (f->meta.keras_version[0] == '3') {
    /* Keras 3's legacy writer keeps optimizer.variables as they are, the store's order: copied by
     * position, whatever the optimizer (Adafactor's factored slots, Muon's, EMA averages) */
    for (size_t j = nm; j < f->n_vars; j++) {
      char path[64];
      snprintf(path, sizeof path, "/optimizer/vars/%zu", j - nm);
      KCB__TRY(set_path(p, j, path));
      p->opt_order[p->n_opt++] = j;
    }
    return 0;
  }
  const char *oclass = NULL;
  json_t *ocfg = kcb__ckpt_optimizer_config(f->training, &oclass);
  const char *oname = f->meta.optimizer_name[0] ? f->meta.optimizer_name : oclass;
  const char *outer = json_string_value(json_object_get(json_object_get(f->training, "optimizer_config"), "class_name"));
  if (n_opt && kcb__is_loss_scale_class(outer))
    add_note(p->report, "the loss scale of tf.keras 2's LossScaleOptimizer is not among its weights, so not in the file: "
             "the state of its inner optimizer is converted");
  const opt_layout *L = kcb__opt_layout_for(f, oname); /* "my_rms": by its class */
  for (size_t j = nm; ok && j < f->n_vars; j++) {
    const kcb__ckpt_var *o = &f->vars[j];
    /* a slot has an owner: a scalar weight's slots are scalars too */
    if (o->pub.rank > 0 || o->pub.owner >= 0) ok = o->pub.owner >= 0, n_slots++;
    else if (it < 0 && !n_slots && (o->pub.dtype >= KCB_DTYPE_INT8 || kcb__leaf_is(o->name, "iteration") || kcb__leaf_is(o->name, "iter")))
      it = (long)j;
    else if (lr < 0 && !n_slots && (kcb__leaf_is(o->name, "learning_rate") || kcb__leaf_is(o->name, "lr"))) lr = (long)j;
  }
  ok = ok && it >= 0;
  if (ok && lr < 0 && json_is_object(json_object_get(ocfg, "learning_rate"))) {
    /* a learning-rate schedule: Keras 3 keeps no learning-rate variable either */
  } else if (ok && lr < 0) {
    json_t *v = json_object_get(ocfg, "learning_rate");
    if (!json_is_number(v)) v = json_object_get(ocfg, "lr");
    ok = json_is_number(v);
    if (ok) p->synth_lr = 1, p->lr = (float)json_number_value(v);
  }
  /* each trainable variable's slots, in stored order */
  per = calloc(nm + 1, sizeof *per);
  slots = calloc(nm + 1, sizeof *slots);
  if (!per || !slots) KCB__TRY(kcb__error(KCB_ENOMEM, "out of memory"));
  for (size_t j = nm; ok && j < f->n_vars; j++)
    if (f->vars[j].pub.rank > 0 || f->vars[j].pub.owner >= 0) {
      size_t w = (size_t)f->vars[j].pub.owner;
      size_t *g = realloc(slots[w], (per[w] + 1) * sizeof *g);
      if (!g) KCB__TRY(kcb__error(KCB_ENOMEM, "out of memory"));
      slots[w] = g;
      slots[w][per[w]++] = j;
    }
  for (size_t w = 0; ok && w < nm; w++)
    if (per[w]) ok = !k || per[w] == k, k = per[w];
  if (!ok) {
    if (n_opt) {
      p->report->optimizer_dropped = 1;
      add_note(p->report, "optimizer state not converted: its %zu variables are not an iteration, a learning rate and "
               "slots that each belong to a model variable", n_opt);
    }
    for (size_t j = nm; j < f->n_vars; j++) KCB__TRY(set_path(p, j, ""));
    goto done;
  }
  /* groups of the optimizer's layout that make up k slots; else k interleaved slots */
  int n_groups = 0;
  size_t width[3] = {k, 0, 0};
  for (int g = 1; L && g <= 3 && L->groups[g - 1][0] && !n_groups; g++)
    if (kcb__opt_layout_width(L, g) == k) {
      n_groups = g;
      for (int i = 0; i < g; i++) width[i] = kcb__opt_layout_width(L, i + 1) - kcb__opt_layout_width(L, i);
    }
  if (!n_groups) n_groups = 1;
  /* tf.keras 2.11+'s SGD keeps a momentum buffer per variable even at momentum 0, where Keras 3's
   * keeps none (and then counts the state wrong): unused, so left out */
  json_t *momentum = json_object_get(ocfg, "momentum");
  if (L && !strcmp(L->name, "sgd") && k == 1 && (!momentum || (json_is_number(momentum) && json_number_value(momentum) == 0))) {
    n_groups = 0;
    add_note(p->report, "the SGD state's momentum buffers are left out: at momentum 0 they never change a step, and Keras "
             "3's SGD keeps none");
  }
  p->opt_order[p->n_opt++] = (size_t)it;
  if (lr >= 0) p->opt_order[p->n_opt++] = (size_t)lr;
  for (int g = 0, base = 0; g < n_groups; base += (int)width[g], g++)
    for (size_t o = 0; o < p->n_order; o++) {
      size_t w = p->order[o];
      for (size_t s = 0; s < width[g] && per[w]; s++) p->opt_order[p->n_opt++] = slots[w][(size_t)base + s];
    }
  /* tf.keras 2 keeps no u_product in Keras 3's form (see nadam_u_product) */
  if (L && !strcmp(L->name, "nadam")) KCB__TRY(nadam_u_product(f, (size_t)it, ocfg, p));
  for (size_t j = nm; j < f->n_vars; j++) KCB__TRY(set_path(p, j, "")); /* hyperparameters Keras 3 has not */
  for (size_t q = 0; q < p->n_opt; q++) {
    char path[64];
    snprintf(path, sizeof path, "/optimizer/vars/%zu", q + (p->synth_lr && q >= 1));
    KCB__TRY(set_path(p, p->opt_order[q], path));
  }
done:
  if (slots)
    for (size_t w = 0; w < nm; w++) free(slots[w]);
  free(slots);
  free(per);
  return rc;
}

typedef struct object_var {
  const char *obj; /* the store object a model variable goes to */
  size_t index;    /* the variable */
} object_var;

static int by_object_then_index(const void *a, const void *b) {
  const object_var *x = a, *y = b;
  int c = strcmp(x->obj, y->obj);
  return c ? c : (x->index > y->index) - (x->index < y->index);
}

static int plan_store(const kcb_checkpoint_file *f, plan *p) {
  size_t nm = f->meta.n_model_vars;
  int rc = 0;
  char **obj = NULL;
  char *done_flag = NULL;
  object_var *by_object = NULL;
  containers cont = {0};
  if ((f->meta.layout == KCB_LAYOUT_WEIGHTS_H5 || f->meta.layout == KCB_LAYOUT_KERAS) && !tf2_store(f)) {
    for (size_t i = 0; i < f->n_vars; i++) KCB__TRY(set_path(p, i, f->vars[i].path));
    for (size_t i = 0; i < nm; i++) p->order[p->n_order++] = i;
    for (size_t i = nm; i < f->n_vars; i++) p->opt_order[p->n_opt++] = i;
    goto done;
  }
  if (!f->config)
    return kcb__error(KCB_EINVAL, "%s: a legacy weights file without a model config: the Keras 3 layout names each layer's "
                      "group after its class, which this file does not record (convert from the full .h5 or .keras)", f->path);
  /* model variables grouped by target object, objects in order of first appearance */
  KCB__TRY(containers_make(f, &cont));
  obj = calloc(nm + 1, sizeof *obj);
  done_flag = calloc(nm + 1, 1);
  if (!obj || !done_flag) KCB__TRY(kcb__error(KCB_ENOMEM, "out of memory"));
  for (size_t i = 0; i < nm; i++) {
    char path[KCB__H5_PATH_MAX];
    if (f->vars[i].pub.layer < 0)
      KCB__TRY(kcb__error(KCB_EINVAL, "%s: variable '%s' belongs to no layer", f->path, f->vars[i].name));
    KCB__TRY(store_object_path(f, &cont, f->vars[i].pub.layer, path, sizeof path));
    /* tf.keras 2 names a TimeDistributed's variables as its own; Keras 3 keeps them with the layer it wraps */
    if (strcmp(f->layers[f->vars[i].pub.layer].class_name, "TimeDistributed") == 0) strncat(path, "/layer", sizeof path - strlen(path) - 1);
    if (!(obj[i] = strdup(path))) KCB__TRY(kcb__error(KCB_ENOMEM, "out of memory"));
  }
  /* objects in order of first appearance, each object's variables in their order: sorted by
   * (object, index), then each object's run taken when its first variable comes up */
  by_object = malloc((nm + 1) * sizeof *by_object);
  if (!by_object) KCB__TRY(kcb__error(KCB_ENOMEM, "out of memory"));
  for (size_t i = 0; i < nm; i++) by_object[i] = (object_var){obj[i], i};
  qsort(by_object, nm, sizeof *by_object, by_object_then_index);
  size_t *run_of = malloc((nm + 1) * sizeof *run_of); /* variable -> start of its object's run */
  if (!run_of) KCB__TRY(kcb__error(KCB_ENOMEM, "out of memory"));
  for (size_t r = 0, start = 0; r < nm; r++) {
    if (r > 0 && strcmp(by_object[r].obj, by_object[r - 1].obj) != 0) start = r;
    run_of[by_object[r].index] = start;
  }
  for (size_t i = 0; rc == 0 && i < nm; i++) {
    if (done_flag[i]) continue;
    size_t k = 0;
    for (size_t r = run_of[i]; rc == 0 && r < nm && !strcmp(by_object[r].obj, obj[i]); r++) {
      size_t j = by_object[r].index;
      char path[KCB__H5_PATH_MAX + 160];
      snprintf(path, sizeof path, "%s/vars/%zu", obj[i], k++);
      rc = set_path(p, j, path);
      done_flag[j] = 1;
      p->order[p->n_order++] = j;
    }
  }
  free(run_of);
  if (rc) goto done;
  KCB__TRY(plan_store_optimizer(f, p));
done:
  if (obj)
    for (size_t i = 0; i < nm; i++) free(obj[i]);
  free(obj);
  free(done_flag);
  free(by_object);
  containers_free(&cont);
  return rc;
}

/* Creates path/vars with Keras's `name` attribute, unless it exists ("" path: the root's). */
static int make_vars_group(hid_t file, const char *path, const char *name, const char *h5name) {
  char vars[KCB__H5_PATH_MAX + 160];
  hid_t g;
  snprintf(vars, sizeof vars, "%s%svars", path, path[0] ? "/" : "");
  if (kcb__h5_exists(file, vars)) return 0;
  int rc = kcb__h5_group_create(&g, file, vars, h5name);
  if (rc) return rc;
  rc = kcb__h5_attr_write_string(g, "name", name, 1, h5name);
  kcb__h5_close(g);
  return rc;
}

/* The `vars` groups of a model config's layers (weightless ones, nested models' layers) at
 * `base`/layers/<container>, as Keras 3.6+ writes one for every layer it walks. */
static int config_groups(json_t *model, const char *base, hid_t file, const char *h5name, int depth) {
  json_t *layers = kcb__entry_layers(model, 1);
  int rc = 0;
  size_t i;
  json_t *e;
  struct {
    char snake[128];
    int n;
  } seen[64];
  int n_seen = 0;
  json_array_foreach(layers, i, e) {
    if (rc || depth > KCB__CKPT_MAX_DEPTH) break;
    char snake[128], path[KCB__H5_PATH_MAX];
    kcb__keras_snake_case(kcb__entry_class(e), snake, sizeof snake);
    int s = 0, k = 0;
    for (; s < n_seen && strcmp(seen[s].snake, snake) != 0; s++) {}
    if (s < n_seen) k = seen[s].n++;
    else if (n_seen < 64) snprintf(seen[n_seen].snake, sizeof seen[n_seen].snake, "%s", snake), seen[n_seen++].n = 1;
    if (k) snprintf(path, sizeof path, "%s/layers/%s_%d", base, snake, k);
    else snprintf(path, sizeof path, "%s/layers/%s", base, snake);
    rc = make_vars_group(file, path, kcb__entry_name(e), h5name);
    if (!rc && kcb__is_model_class(kcb__entry_class(e))) rc = config_groups(e, path, file, h5name, depth + 1);
    if (!rc && !strcmp(kcb__entry_class(e), "TimeDistributed")) {
      /* the wrapped layer: tf.keras 2 names its variables as the wrapper's own, so only the
       * config knows its name */
      char sub[KCB__H5_PATH_MAX + 80];
      snprintf(sub, sizeof sub, "%s/layer", path);
      json_t *inner = json_object_get(json_object_get(e, "config"), "layer");
      if (inner) rc = make_vars_group(file, sub, kcb__entry_name(inner), h5name);
    }
    if (!rc && kcb__is_attention_class(kcb__entry_class(e))) {
      /* its weightless Softmax and Dropout are saved too (as private attributes); their names are
       * Keras's automatic ones in a fresh session */
      char sub[KCB__H5_PATH_MAX + 80];
      snprintf(sub, sizeof sub, "%s/_dropout_layer", path);
      rc = make_vars_group(file, sub, "dropout", h5name);
      snprintf(sub, sizeof sub, "%s/_softmax", path);
      if (!rc) rc = make_vars_group(file, sub, "softmax", h5name);
    }
  }
  json_decref(layers);
  return rc;
}

/* Creates the `vars` group of every object (with Keras's `name` attribute) that the target has,
 * weightless layers included, as Keras 3.6+ writes them. */
static int write_store_groups(const kcb_checkpoint_file *f, hid_t file, const char *h5name) {
  int rc = 0;
  containers cont = {0};
  KCB__TRY(containers_make(f, &cont));
  KCB__TRY(make_vars_group(file, "", f->meta.model_name[0] ? f->meta.model_name : "sequential", h5name));
  const int keras3_store = (f->meta.layout == KCB_LAYOUT_WEIGHTS_H5 || f->meta.layout == KCB_LAYOUT_KERAS) && !tf2_store(f);
  if (!keras3_store && f->config) KCB__TRY(config_groups(f->config, "", file, h5name, 0));
  for (size_t i = 0; i < f->n_layers; i++) {
    char path[KCB__H5_PATH_MAX];
    if (f->layers[i].model_own) continue; /* the root `vars`, made above */
    if (keras3_store) {
      if (!f->layers[i].path[0]) continue;
      snprintf(path, sizeof path, "%s", f->layers[i].path);
    } else if (store_object_path(f, &cont, (int)i, path, sizeof path) != 0) {
      kcb_error_clear();
      continue;
    }
    KCB__TRY(make_vars_group(file, path, f->layers[i].name, h5name));
  }
  if (f->meta.n_optimizer_vars) {
    /* Keras 3's optimizers have lower-case default names ("rmsprop", "adamw"); tf.keras 2 files say
     * "RMSprop" or nothing; the config's name wins */
    char name[128];
    json_t *oc = kcb__ckpt_optimizer_entry(f->training); /* a LossScaleOptimizer's own name */
    const char *cfg_name = json_string_value(json_object_get(json_object_get(oc, "config"), "name"));
    const char *cls = json_string_value(json_object_get(oc, "class_name"));
    snprintf(name, sizeof name, "%s", cfg_name ? cfg_name : f->meta.optimizer_name[0] ? f->meta.optimizer_name : cls ? cls : "optimizer");
    for (char *c = name; *c; c++) *c = (char)kcb__to_lower((unsigned char)*c);
    KCB__TRY(make_vars_group(file, "optimizer", name, h5name));
  }
done:
  containers_free(&cont);
  return rc;
}

/* ---- copying a variable ------------------------------------------------------------------ */

static int copy_var(const kcb_checkpoint_file *f, size_t i, hid_t dst, const char *dst_path, const char *h5name) {
  const kcb__ckpt_var *v = &f->vars[i];
  size_t es = kcb_var_dtype_size(v->pub.dtype);
  if (!es) return kcb__error(KCB_EINVAL, "%s: variable '%s' is not numeric, so it cannot be converted", f->path, v->name);
  void *buf = malloc(v->pub.count * es + 1);
  if (!buf) return kcb__error(KCB_ENOMEM, "out of memory for '%s'", v->name);
  int rc = kcb_checkpoint_file_read_raw(f, i, buf, v->pub.count * es);
  if (rc == 0) {
    int own = v->pub.dtype == KCB_DTYPE_FLOAT16 || v->pub.dtype == KCB_DTYPE_BFLOAT16;
    hid_t t = v->pub.dtype == KCB_DTYPE_FLOAT16 ? kcb__dtype_half() : v->pub.dtype == KCB_DTYPE_BFLOAT16 ? H5Tcreate(H5T_OPAQUE, 2)
                                                                       : kcb__dtype_file_type(v->pub.dtype);
    rc = kcb__h5_dataset_write_typed(dst, dst_path, t, t, v->pub.rank, v->pub.shape, buf, h5name);
    if (own) H5Tclose(t);
    if (rc == 0 && v->pub.dtype == KCB_DTYPE_BFLOAT16) {
      /* as Keras's store marks it (h5py has no bfloat16 type) */
      hid_t d = H5Dopen2(dst, dst_path, H5P_DEFAULT);
      rc = d < 0 ? kcb__error(KCB_EIO, "%s: cannot reopen '%s'", h5name, dst_path)
                 : kcb__h5_attr_write_string(d, "dtype", "bfloat16", 1, h5name);
      if (d >= 0) H5Dclose(d);
    }
  }
  free(buf);
  return rc;
}

/* A float32 scalar `name` in group g (a learning rate, a u_product kcb computes). */
static int write_scalar_in(hid_t g, const char *name, float value, const char *h5name) {
  return kcb__h5_dataset_write_typed(g, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 0, NULL, &value, h5name);
}

/* A float32 optimizer variable the source does not hold, at optimizer/vars/<index>. */
static int write_scalar(hid_t file, const char *index, float value, const char *h5name) {
  hid_t g;
  int rc = kcb__h5_group_open(&g, file, "optimizer/vars", h5name);
  if (rc == 0) {
    rc = write_scalar_in(g, index, value, h5name);
    kcb__h5_close(g);
  }
  return rc;
}

static int write_store(const kcb_checkpoint_file *f, const plan *p, hid_t file, const char *h5name) {
  int rc = write_store_groups(f, file, h5name);
  for (size_t k = 0; rc == 0 && k < p->n_order; k++) rc = copy_var(f, p->order[k], file, p->dst_path[p->order[k]], h5name);
  for (size_t k = 0; rc == 0 && k < p->n_opt; k++) {
    rc = copy_var(f, p->opt_order[k], file, p->dst_path[p->opt_order[k]], h5name);
    if (rc == 0 && p->inner_from && k >= p->inner_from) {
      char path[80];
      snprintf(path, sizeof path, "/optimizer/inner_optimizer/vars/%zu", k - p->inner_from);
      if (k == p->inner_from) rc = make_vars_group(file, "optimizer/inner_optimizer", p->inner_name, h5name);
      if (!rc) rc = copy_var(f, p->opt_order[k], file, path, h5name);
    }
    if (rc == 0 && k == 0 && p->synth_lr) rc = write_scalar(file, "1", p->lr, h5name);
  }
  if (rc == 0 && p->synth_u_product) {
    char index[32];
    snprintf(index, sizeof index, "%zu", p->n_opt + (size_t)p->synth_lr);
    rc = write_scalar(file, index, p->u_product, h5name);
  }
  return rc;
}

/* ---- target: legacy .h5 ------------------------------------------------------------------ */

/* A layer the outer model shares with a nested one (`shared` called in both): a store keeps its
 * weights once, under the nested model, and gives the outer entry no group; Keras's legacy writer
 * lists them under both, and its loader counts both. Refused rather than written with one short. */
static int check_shared_with_nested(const kcb_checkpoint_file *f) {
  size_t *n_vars = calloc(f->n_layers + 1, sizeof *n_vars);
  if (!n_vars) return kcb__error(KCB_ENOMEM, "out of memory");
  for (size_t i = 0; i < f->meta.n_model_vars; i++)
    for (int l = f->vars[i].pub.layer; l >= 0; l = f->layers[l].pub.parent) n_vars[l]++;
  int rc = 0;
  for (size_t t = 0; rc == 0 && t < f->n_layers; t++) {
    const kcb__ckpt_layer *top = &f->layers[t];
    if (top->pub.parent >= 0 || top->model_own || n_vars[t] || !top->name[0]) continue;
    for (size_t j = 0; rc == 0 && j < f->n_layers; j++) {
      const kcb__ckpt_layer *in = &f->layers[j];
      if (in->pub.parent < 0 || !n_vars[j] || strcmp(in->name, top->name) || strcmp(in->class_name, top->class_name)) continue;
      rc = kcb__error(KCB_EINVAL, "%s: layer '%s' (%s) is shared with the nested model '%s', under which the file keeps its "
                      "weights once; Keras's legacy layout lists them under both, which kcb does not write (nothing was "
                      "written)", f->path, top->name, top->class_name[0] ? top->class_name : "unknown class",
                      top_of(f, (int)j)->name);
    }
  }
  /* the other order: the outer model called it first, so its group holds the weights and the
   * nested model's config lists the layer with no group of its own */
  for (size_t t = 0; rc == 0 && t < f->n_layers; t++) {
    const kcb__ckpt_layer *nest = &f->layers[t];
    json_t *subs = json_object_get(json_object_get(nest->entry, "config"), "layers");
    if (nest->pub.parent >= 0 || !json_is_array(subs)) continue;
    for (size_t k = 0; rc == 0 && k < json_array_size(subs); k++) {
      const char *name = kcb__entry_name(json_array_get(subs, k)), *cls = kcb__entry_class(json_array_get(subs, k));
      int held = 0; /* the nested model has weights of a layer by that name */
      for (size_t j = 0; name && !held && j < f->n_layers; j++)
        held = n_vars[j] && !strcmp(f->layers[j].name, name) && top_of(f, (int)j) == nest && j != t;
      for (size_t u = 0; name && cls && !held && rc == 0 && u < f->n_layers; u++) {
        const kcb__ckpt_layer *top = &f->layers[u];
        if (u == t || top->pub.parent >= 0 || !n_vars[u] || strcmp(top->name, name) || strcmp(top->class_name, cls)) continue;
        rc = kcb__error(KCB_EINVAL, "%s: layer '%s' (%s) is shared with the nested model '%s', which the file gives none of "
                        "its weights (they are kept once, under the outer model); Keras's legacy layout lists them under "
                        "both, which kcb does not write (nothing was written)", f->path, name, cls, nest->name);
      }
    }
  }
  free(n_vars);
  return rc;
}

/* A layer whose own variable is one of its sub-layer's (SpectralNormalization's kernel is its
 * layer's): a store keeps it twice, Keras's legacy writer once, in an order kcb does not know for
 * a class it does not know. Refused rather than written with a weight too many. */
static int check_aliased_variables(const kcb_checkpoint_file *f) {
  for (size_t i = 0; i < f->meta.n_model_vars; i++) {
    long j = f->vars[i].alias_of;
    if (j < 0) continue;
    const kcb__ckpt_layer *l = &f->layers[f->vars[i].pub.layer];
    return kcb__error(KCB_EINVAL, "%s: layer '%s' (%s) stores its sub-layer's variable '%s' again as its own '%s' (one "
                      "variable, tracked twice); Keras's legacy layout lists it once, in an order kcb does not know for "
                      "this class (nothing was written)", f->path, l->name, l->class_name[0] ? l->class_name : "unknown class",
                      f->vars[j].name, f->vars[i].name);
  }
  return 0;
}

/* A tf.keras 2.13-2.15 .keras keeps its optimizer's iteration and slots, but no learning rate
 * and no name: Keras 3's legacy loader takes optimizer_weights by position (iteration, learning
 * rate, slots), so the rate of the compile config goes second, under the optimizer's name. */
static void tf2_store_optimizer(const kcb_checkpoint_file *f, size_t first, size_t end, plan *p) {
  for (size_t j = first; j < end; j++)
    if (kcb__leaf_is(f->vars[j].name, "learning_rate")) return;
  const char *cls = NULL;
  json_t *ocfg = kcb__ckpt_optimizer_config(f->training, &cls);
  json_t *lr = json_object_get(ocfg, "learning_rate");
  if (json_is_object(lr)) return; /* a schedule: Keras 3 keeps no learning-rate variable either */
  if (!json_is_number(lr) || !cls) {
    add_note(p->report, "the optimizer's learning rate is not in the compile config: Keras 3's legacy loader, which "
             "expects one second, will not take the optimizer state");
    return;
  }
  const char *name = json_string_value(json_object_get(ocfg, "name"));
  p->synth_lr = 1;
  p->lr = (float)json_number_value(lr);
  snprintf(p->opt_name, sizeof p->opt_name, "%s", name ? name : cls);
}

/* A layer path in a model's list of layers (tf.keras 2.13-2.15 called it _layer_checkpoint_dependencies). */
static int in_layers(const char *path) {
  return !strncmp(path, "/layers/", 8) || !strncmp(path, "/_layer_checkpoint_dependencies/", 32);
}

static int plan_legacy(const kcb_checkpoint_file *f, plan *p) {
  size_t nm = f->meta.n_model_vars;
  int rc = 0;
  /* layer_names is model.layers' order: a store records it only in its groups' local heaps
   * (io/checkpoint_file.c reads them) */
  if (!f->config && f->meta.layout == KCB_LAYOUT_WEIGHTS_H5 && f->order_guessed)
    return kcb__error(KCB_EINVAL, "%s: this weights-only .weights.h5 does not keep the order of its layers where kcb "
                      "reads it (its groups' local heaps; a copy such as h5repack's makes them in name order), and the "
                      "legacy layout needs it (layer_names): convert from the .keras file", f->path);
  for (size_t i = 0; i < f->n_layers; i++)
    if (f->layers[i].pub.parent < 0 && !f->layers[i].name[0])
      return kcb__error(KCB_EINVAL, "%s: the layer at '%s' has no name (Keras before 3.6 stored none), and the legacy "
                        "layout groups weights by layer name", f->path, f->layers[i].path);
  KCB__TRY(check_shared_with_nested(f));
  KCB__TRY(check_aliased_variables(f));
  /* a lookup layer's tf_idf weights are a raw variable Keras's layer tracker does not list: its
   * legacy loader would meet a layer (or a weight) more than the model has */
  for (size_t i = 0; i < nm; i++)
    if (kcb__leaf_is(f->vars[i].path, "idf_weights"))
      return kcb__error(KCB_EINVAL, "%s: layer '%s' (%s) holds idf_weights, which Keras's legacy layouts do not keep (its "
                        "loader would count a weight too many); nothing was written: convert to .keras or .weights.h5",
                        f->path, f->layers[f->vars[i].pub.layer].name, f->layers[f->vars[i].pub.layer].class_name);
  /* a weights-only store whose optimizer could not tell frozen layers (io/checkpoint_file.c's
   * frozen_from_slots) does not say in which order a nested model's layers list their weights */
  if (!f->config && f->meta.layout == KCB_LAYOUT_WEIGHTS_H5 && !f->frozen_known)
    for (size_t i = 1; i < nm; i++) {
      const kcb__ckpt_layer *top = top_of(f, f->vars[i].pub.layer);
      if (f->vars[i].pub.layer == f->vars[i - 1].pub.layer || top != top_of(f, f->vars[i - 1].pub.layer)) continue;
      add_note(p->report, "the weights of nested layer '%s' are listed as if all its layers were trainable: this file "
               "does not say which were frozen, and Keras's legacy loader lists a frozen layer's weights last", top->name);
      break;
    }
  /* (a subclassed model's layers kept under attribute names leave such gaps too, harmlessly: its
   * legacy layout lists each layer once) */
  int attribute_named = 0;
  for (size_t i = 0; i < f->n_layers; i++)
    attribute_named |= f->layers[i].pub.parent < 0 && f->layers[i].path[0] && !f->layers[i].model_own && !in_layers(f->layers[i].path);
  if (f->store_gap[0] && !attribute_named)
    add_note(p->report, "the store's container %s: a layer shared with a nested model is saved once, under the model, "
             "where the legacy layout lists it under both, so Keras's legacy loader may count one layer short",
             f->store_gap);
  /* a layer of a class kcb does not know, holding weights in two or more sub-layers: the legacy
   * layout lists them in the order the layer made them, which a store (sorted attribute names)
   * does not record */
  if (f->meta.layout == KCB_LAYOUT_WEIGHTS_H5 || f->meta.layout == KCB_LAYOUT_KERAS) {
    long *first_child = malloc((f->n_layers + 1) * sizeof *first_child);
    unsigned char *many = calloc(f->n_layers + 1, 1);
    for (size_t l = 0; first_child && l < f->n_layers; l++) first_child[l] = -1;
    for (size_t i = 0; first_child && many && i < nm; i++)
      for (int c = f->vars[i].pub.layer; c >= 0 && f->layers[c].pub.parent >= 0; c = f->layers[c].pub.parent) {
        int up = f->layers[c].pub.parent;
        if (first_child[up] < 0) first_child[up] = c;
        else if (first_child[up] != c && !(f->layers[c].in_list && f->layers[first_child[up]].in_list)) many[up] = 1;
      }
    static const char *const ordered[] = {"Sequential", "Functional", "Model", "Bidirectional", "MultiHeadAttention",
                                          "GroupedQueryAttention"};
    for (size_t l = 0; first_child && many && l < f->n_layers; l++) {
      int known = 0;
      for (size_t k = 0; k < sizeof ordered / sizeof ordered[0]; k++) known |= !strcmp(f->layers[l].class_name, ordered[k]);
      if (!many[l] || known) continue;
      add_note(p->report, "the weights of layer '%s' (%s) are listed in its sub-layers' sorted names: Keras's legacy "
               "loader takes them in the order the layer made its sub-layers, which this file does not record; check "
               "that order before loading the file into Keras", f->layers[l].name,
               f->layers[l].class_name[0] ? f->layers[l].class_name : "unknown class");
      break;
    }
    free(first_child);
    free(many);
    /* the same at the top: a subclassed model's layers stored under their attribute names (those
     * sorting before "layers"), listed by Keras's legacy writer in the order the model set them */
    int top_named = 0, last = -1;
    for (size_t i = 0; i < nm && top_named < 2; i++) {
      const kcb__ckpt_layer *top = top_of(f, f->vars[i].pub.layer);
      int t = (int)(top - f->layers);
      if (t != last && !top->in_list && !top->model_own && !in_layers(top->path)) top_named++;
      last = t;
    }
    if (top_named >= 2)
      add_note(p->report, "the layers of the %s model are listed in their attribute names' sorted order: Keras's legacy "
               "loader takes them in the order the model set them, which this file does not record; check that order "
               "before loading the file into Keras", f->meta.model_class && f->meta.model_class[0] ? f->meta.model_class : "subclassed");
  }
  int noted_positional = 0;
  for (size_t i = 0; i < nm; i++) {
    if (f->vars[i].pub.layer < 0) return kcb__error(KCB_EINVAL, "%s: variable '%s' belongs to no layer", f->path, f->vars[i].name);
    /* a store does not hold variable names: a class kcb does not know gets positional ones
     * ("counter/0"), which Keras, matching legacy weights by position, loads all the same */
    const char *leaf = strrchr(f->vars[i].name, '/');
    if (leaf && leaf[1] >= '0' && leaf[1] <= '9' && !noted_positional) { /* said once, for the first such layer */
      noted_positional = 1;
      const kcb__ckpt_layer *l = &f->layers[f->vars[i].pub.layer];
      add_note(p->report, "weight names of layer '%s' (%s) are positional ('%s'): kcb does not know that class's "
               "variable names", l->name, l->class_name[0] ? l->class_name : "unknown class", f->vars[i].name);
    }
    char path[2 * KCB__H5_PATH_MAX]; /* long enough for write_verified to refuse a name too long */
    const kcb__ckpt_layer *top = top_of(f, f->vars[i].pub.layer);
    snprintf(path, sizeof path, "%s/%s", top->model_own ? "top_level_model_weights" : top->name, f->vars[i].name);
    KCB__TRY(set_path(p, i, path));
  }
  /* a store's optimizer object holds all of optimizer.variables; a LossScaleOptimizer's inner one,
   * stored again after it, is not written twice */
  size_t opt_end = f->n_opt_seg > 1 ? f->opt_seg_start[1] : f->n_vars;
  if (p->layout == KCB_LAYOUT_H5 && nm < opt_end && f->meta.keras_version[0] == '2') tf2_store_optimizer(f, nm, opt_end, p);
  if (p->layout == KCB_LAYOUT_H5)
    for (size_t i = nm; i < opt_end; i++) {
      char path[2 * KCB__H5_PATH_MAX]; /* long enough for write_verified to refuse a name too long */
      const char *leaf = strchr(f->vars[i].name, '/');
      if (p->opt_name[0] && leaf) snprintf(path, sizeof path, "/optimizer_weights/%s%s", p->opt_name, leaf);
      else snprintf(path, sizeof path, "/optimizer_weights/%s", f->vars[i].name);
      KCB__TRY(set_path(p, i, path));
      p->opt_order[p->n_opt++] = i;
    }
  else if (nm < opt_end) { /* Keras's save_weights to .h5 holds the model's weights alone */
    p->report->optimizer_dropped = 1;
    add_note(p->report, "optimizer state not written: the legacy weights layout holds the model's weights alone (%zu "
             "optimizer variables left out); convert to .h5, .keras or .weights.h5 to keep it", opt_end - nm);
  }
  /* two variables of one Keras name in one group (a layer name used in two nested models gives
   * their slots one name): the legacy layout, named by them, cannot hold both */
  kcb__str_map seen = {0};
  KCB__TRY(kcb__str_map_init(&seen, f->n_vars));
  for (size_t i = 0; rc == 0 && i < f->n_vars; i++) {
    if (!p->dst_path[i] || !p->dst_path[i][0]) continue;
    long j = kcb__str_map_get(&seen, p->dst_path[i]);
    if (j >= 0)
      rc = kcb__error(KCB_EINVAL, "%s: variables '%s' and '%s' would both be stored as '%s' in the legacy layout, which "
                      "names weights by their Keras names (two nested models with layers of one name); nothing was written",
                      f->path, f->vars[j].path, f->vars[i].path, p->dst_path[i]);
    else kcb__str_map_put(&seen, p->dst_path[i], (long)i);
  }
  kcb__str_map_free(&seen);
done:
  return rc;
}

static int write_legacy_weights(const kcb_checkpoint_file *f, hid_t root, const char *version,
                                const char *backend, const char *h5name) {
  size_t nm = f->meta.n_model_vars, n_top = 0, n_keys = 2 * f->n_layers + 1;
  int rc = 0;
  const char **names = calloc(f->n_layers + nm + 1, sizeof *names);
  size_t *order = calloc(nm + 1, sizeof *order), *start = calloc(n_keys + 1, sizeof *start);
  size_t *next = calloc(n_keys + 1, sizeof *next);
  hid_t g = H5I_INVALID_HID;
  if (!names || !order || !start || !next) {
    rc = kcb__error(KCB_ENOMEM, "out of memory");
    goto done;
  }
  /* the variables by top-level layer, trainable ones first within each, as Keras's legacy writer
   * orders a layer's weights (a counting sort: linear in the variables); a legacy source is in
   * that order already, which its weight names alone cannot always tell (a custom layer's frozen
   * variable), so it is kept */
  int split = f->meta.layout != KCB_LAYOUT_H5 && f->meta.layout != KCB_LAYOUT_LEGACY_WEIGHTS_H5;
#define LEGACY_KEY(i) (2 * (size_t)(top_of(f, f->vars[i].pub.layer) - f->layers) + (split && !f->vars[i].pub.trainable))
  for (size_t i = 0; i < nm; i++) start[1 + LEGACY_KEY(i)]++;
  for (size_t k = 0; k < n_keys; k++) start[k + 1] += start[k];
  memcpy(next, start, (n_keys + 1) * sizeof *next);
  for (size_t i = 0; i < nm; i++) order[next[LEGACY_KEY(i)]++] = i;
#undef LEGACY_KEY
  for (size_t i = 0; i < f->n_layers; i++)
    if (f->layers[i].pub.parent < 0 && !f->layers[i].model_own) names[n_top++] = f->layers[i].name;
  KCB__TRY(kcb__h5_attr_write_strings(root, "layer_names", names, n_top, h5name));
  KCB__TRY(kcb__h5_attr_write_string(root, "backend", backend, 0, h5name));
  KCB__TRY(kcb__h5_attr_write_string(root, "keras_version", version, 0, h5name));
  for (size_t li = 0; li < f->n_layers; li++) {
    if (f->layers[li].pub.parent >= 0) continue;
    size_t first = start[2 * li], end = start[2 * li + 2], n = end - first;
    for (size_t k = 0; k < n; k++) names[k] = f->vars[order[first + k]].name;
    /* the model's own variables (a subclassed model's) go to top_level_model_weights, below */
    if (f->layers[li].model_own) continue;
    KCB__TRY(kcb__h5_group_create(&g, root, f->layers[li].name, h5name));
    KCB__TRY(kcb__h5_attr_write_strings(g, "weight_names", names, n, h5name));
    for (size_t k = 0; k < n; k++) KCB__TRY(copy_var(f, order[first + k], g, names[k], h5name));
    kcb__h5_close(g);
    g = H5I_INVALID_HID;
  }
  size_t n_own = 0;
  for (size_t i = 0; i < nm; i++)
    if (top_of(f, f->vars[i].pub.layer)->model_own) names[n_own++] = f->vars[i].name;
  KCB__TRY(kcb__h5_group_create(&g, root, "top_level_model_weights", h5name));
  KCB__TRY(kcb__h5_attr_write_strings(g, "weight_names", n_own ? names : NULL, n_own, h5name));
  for (size_t i = 0; i < nm; i++)
    if (top_of(f, f->vars[i].pub.layer)->model_own) KCB__TRY(copy_var(f, i, g, f->vars[i].name, h5name));
done:
  kcb__h5_close(g);
  free(names);
  free(order);
  free(start);
  free(next);
  return rc;
}

/* ---- configs between layouts ------------------------------------------------------------- */

/* The module and registered_name Keras 3's config.json gives an entry of class `cls`: the models
 * by their public or defining module (a nested Sequential "keras", a Functional its own module),
 * a user's registered class ("Package>Name" in a legacy config) by its registered name, which
 * Keras looks up first, the layers "keras.layers". */
static void archive_tags(json_t *entry) {
  const char *cls = json_string_value(json_object_get(entry, "class_name")); /* as written, "Package>Name" too */
  if (!cls) cls = "";
  const char *gt = strchr(cls, '>');
  json_t *module = !strcmp(cls, "Sequential") || !strcmp(cls, "Model") ? json_string("keras")
                   : !strcmp(cls, "Functional") ? json_string("keras.src.models.functional")
                   : gt ? json_null() : json_string("keras.layers");
  json_t *registered = !strcmp(cls, "Functional") ? json_string("Functional") : gt ? json_string(cls) : json_null();
  if (gt) json_object_set_new(entry, "class_name", json_string(gt + 1)); /* after `registered` copied cls */
  if (!json_object_get(entry, "module")) json_object_set_new(entry, "module", module);
  else json_decref(module);
  if (!json_object_get(entry, "registered_name")) json_object_set_new(entry, "registered_name", registered);
  else json_decref(registered);
}

/* What Keras's loader of legacy files (saving_utils.model_from_config) rewrites in every entry
 * before building it, and its config.json loader does not: tf.keras 2's `batch_input_shape`
 * (`batch_shape` of an InputLayer, else `input_shape`), an `axis` list of one (BatchNormalization
 * builds it), a Lambda's function as a list and its arguments Keras 3 no longer takes. */
static void upgrade_legacy_entry(json_t *entry) {
  json_t *config = json_object_get(entry, "config");
  if (!json_is_object(config)) return;
  const char *cls = kcb__entry_class(entry);
  json_t *shape = json_incref(json_object_get(config, "batch_input_shape"));
  if (shape && !json_is_null(shape)) {
    json_object_del(config, "batch_input_shape");
    json_object_set(config, !strcmp(cls, "InputLayer") ? "batch_shape" : "input_shape", shape);
  }
  json_decref(shape);
  json_t *axis = json_object_get(config, "axis");
  if (json_is_array(axis) && json_array_size(axis) == 1 && json_is_number(json_array_get(axis, 0)))
    json_object_set_new(config, "axis", json_integer((json_int_t)json_number_value(json_array_get(axis, 0))));
  else if (json_is_real(axis))
    json_object_set_new(config, "axis", json_integer((json_int_t)json_real_value(axis)));
  /* tf.keras 2's recurrent layers say time_major (always false there), which Keras 3's refuse as an
   * unknown keyword; a wrapper's layer is upgraded with it */
  if (kcb__is_rnn_class(cls)) json_object_del(config, "time_major");
  json_t *inner = json_object_get(config, "layer");
  if (json_is_object(inner)) upgrade_legacy_entry(inner);
  inner = json_object_get(config, "backward_layer");
  if (json_is_object(inner)) upgrade_legacy_entry(inner);
  if (!strcmp(cls, "Lambda")) {
    static const char *const gone[] = {"module", "function_type", "output_shape_type", "output_shape_module"};
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++) json_object_del(config, gone[i]);
    json_t *fn = json_object_get(config, "function");
    if (json_is_array(fn)) {
      json_t *code = json_object();
      json_object_set(code, "code", json_array_get(fn, 0));
      json_object_set(code, "defaults", json_array_get(fn, 1));
      json_object_set(code, "closure", json_array_get(fn, 2));
      json_t *as_dict = json_pack("{s:s, s:o}", "class_name", "__lambda__", "config", code);
      if (as_dict) json_object_set_new(config, "function", as_dict);
    }
  }
}

/* A Sequential's input as Keras 3 writes it: an InputLayer first, with its batch shape. Standalone
 * Keras 2 wrote none, only its first layer's batch_input_shape, which Keras 3's legacy loader turns
 * into an input_shape and then reads as a shape without the batch axis (a 28x28x1 model becomes
 * 5-D); tf.keras 2 wrote both. */
static void sequential_input_layer(json_t *entry) {
  json_t *config = json_object_get(entry, "config"), *layers = json_object_get(config, "layers");
  if (strcmp(kcb__entry_class(entry), "Sequential") != 0 || !json_is_array(layers) || !json_array_size(layers)) return;
  json_t *first = json_array_get(layers, 0), *first_config = json_object_get(first, "config");
  if (!strcmp(kcb__entry_class(first), "InputLayer")) {
    json_t *next = json_object_get(json_array_get(layers, 1), "config");
    if (json_is_object(next)) json_object_del(next, "batch_input_shape"); /* the InputLayer says it */
    return;
  }
  json_t *shape = json_object_get(first_config, "batch_input_shape");
  if (!json_is_array(shape)) return;
  json_t *dtype = json_object_get(first_config, "dtype");
  json_t *input = json_pack("{s:s, s:{s:O, s:o, s:b, s:b, s:s, s:b}}", "class_name", "InputLayer", "config", "batch_shape",
                            shape, "dtype", json_is_string(dtype) ? json_incref(dtype) : json_string("float32"), "sparse",
                            0, "ragged", 0, "name", "input_layer", "optional", 0);
  if (!input) return;
  if (!json_object_get(config, "build_input_shape")) json_object_set(config, "build_input_shape", shape);
  json_array_insert_new(layers, 0, input);
  json_object_del(first_config, "batch_input_shape");
}

/* A legacy config names a class as Keras's registry knows it: a registered class of the user's
 * by its registered name ("pkg>Name"), which config.json keeps beside the bare class name
 * (legacy serialization's get_registered_name). Drops the archive's tags. */
static void legacy_tags(json_t *entry) {
  json_t *registered = json_object_get(entry, "registered_name");
  if (json_is_string(registered)) json_object_set(entry, "class_name", registered);
  json_object_del(entry, "module");
  json_object_del(entry, "registered_name");
  json_object_del(entry, "build_config");
}

/* Layer entries of a config.json carry module / registered_name / build_config; a legacy
 * model_config's do not (and vice versa when going the other way). */
static void retag_layers(json_t *entry, int to_archive) {
  json_t *layers = json_object_get(json_object_get(entry, "config"), "layers");
  size_t i;
  json_t *l;
  if (to_archive) sequential_input_layer(entry);
  json_array_foreach(layers, i, l) {
    if (to_archive) {
      upgrade_legacy_entry(l);
      archive_tags(l);
    } else {
      legacy_tags(l);
      json_object_del(l, "compile_config"); /* a nested model's, empty in config.json */
    }
    retag_layers(l, to_archive);
  }
}

/* Keras's config.json shares dtype policies by id; a legacy model_config spells each one out. */
static void drop_shared_ids(json_t *j) {
  if (json_is_object(j)) {
    json_object_del(j, "shared_object_id");
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v) drop_shared_ids(v);
  } else if (json_is_array(j)) {
    size_t i;
    json_t *v;
    json_array_foreach(j, i, v) drop_shared_ids(v);
  }
}

static char *dump(json_t *j) { return kcb__json_dumps_python(j); }

/* The legacy model_config and training_config of a .keras archive's config.json. */
static int legacy_configs(const kcb_checkpoint_file *f, char **model_config, char **training_config) {
  json_t *c = json_deep_copy(f->config);
  if (!c) return kcb__error(KCB_ENOMEM, "out of memory");
  json_t *cc = json_incref(json_object_get(c, "compile_config"));
  legacy_tags(c);
  json_object_del(c, "compile_config");
  retag_layers(c, 0);
  drop_shared_ids(c);
  *model_config = dump(c);
  if (json_is_object(cc)) {
    json_t *opt = json_object_get(cc, "optimizer");
    json_t *oc = json_object();
    json_object_set(oc, "class_name", json_is_object(opt) ? json_object_get(opt, "class_name") : opt);
    if (json_is_object(opt)) json_object_set(oc, "config", json_object_get(opt, "config"));
    json_object_del(cc, "optimizer");
    json_object_set_new(cc, "optimizer_config", oc);
    *training_config = dump(cc);
  }
  json_decref(cc);
  json_decref(c);
  return *model_config ? 0 : kcb__error(KCB_ENOMEM, "out of memory");
}

/* Whether a config names hard_sigmoid as an activation (a layer's activation or
 * recurrent_activation, by name or as a serialized function), at any depth. */
static int uses_hard_sigmoid(json_t *v) {
  const char *key;
  json_t *item;
  size_t i;
  if (json_is_object(v)) {
    json_object_foreach(v, key, item) {
      if (strstr(key, "activation") && (json_is_string(item) || json_is_object(item))) {
        const char *name = json_is_string(item) ? json_string_value(item) : json_string_value(json_object_get(item, "config"));
        if (name && strcmp(name, "hard_sigmoid") == 0) return 1;
      }
      if (uses_hard_sigmoid(item)) return 1;
    }
  } else if (json_is_array(v)) {
    json_array_foreach(v, i, item) if (uses_hard_sigmoid(item)) return 1;
  }
  return 0;
}

/* The config.json of a legacy .h5's model_config (and training_config, unless it is Keras 2's). */
static int archive_config(const kcb_checkpoint_file *f, char **out, kcb_checkpoint_write_report *report) {
  json_t *c = json_deep_copy(f->config);
  if (!c) return kcb__error(KCB_ENOMEM, "out of memory");
  json_object_del(c, "module");
  json_object_del(c, "registered_name");
  upgrade_legacy_entry(c);
  archive_tags(c);
  retag_layers(c, 1);
  json_t *input = json_object_get(json_object_get(c, "config"), "build_input_shape");
  if (json_is_array(input) && !json_object_get(c, "build_config")) /* as Keras 3 writes a built Sequential */
    json_object_set_new(c, "build_config", json_pack("{s:O}", "input_shape", input));
  json_t *tc = f->training_config ? json_loads(f->training_config, 0, NULL) : NULL;
  if (tc && f->meta.keras_version[0] == '2') {
    add_note(report, "compile settings not converted: Keras 3 does not accept Keras 2's training_config");
  } else if (json_is_object(tc)) {
    json_t *oc = json_object_get(tc, "optimizer_config");
    json_t *opt = json_object();
    json_object_set_new(opt, "module", json_string("keras.optimizers"));
    json_object_set(opt, "class_name", json_object_get(oc, "class_name"));
    json_object_set(opt, "config", json_object_get(oc, "config"));
    json_object_set_new(opt, "registered_name", json_null());
    json_object_del(tc, "optimizer_config");
    json_object_set_new(tc, "optimizer", opt);
    json_object_set(c, "compile_config", tc);
  }
  json_decref(tc);
  *out = dump(c);
  json_decref(c);
  return *out ? 0 : kcb__error(KCB_ENOMEM, "out of memory");
}

/* The config.json of a tf.keras 2.13-2.15 archive, for Keras 3: its compile config's optimizer is
 * the inner one of an explicit LossScaleOptimizer (tf.keras's LossScaleOptimizerV3, a class Keras 3
 * has not; the state converted is the inner optimizer's, and Keras 3 wraps a mixed-precision
 * model's optimizer itself), without tf.keras's own settings (jit_compile, is_legacy_optimizer). */
static int tf2_archive_config(const kcb_checkpoint_file *f, char **out) {
  json_t *c = json_deep_copy(f->config);
  if (!c) return kcb__error(KCB_ENOMEM, "out of memory");
  json_t *cc = json_object_get(c, "compile_config");
  json_t *opt = json_object_get(cc, "optimizer");
  json_t *inner = json_object_get(json_object_get(opt, "config"), "inner_optimizer");
  if (kcb__is_loss_scale_class(json_string_value(json_object_get(opt, "class_name"))) && json_is_object(inner)) {
    json_object_set(cc, "optimizer", inner);
    opt = inner;
  }
  json_object_del(json_object_get(opt, "config"), "jit_compile");
  json_object_del(json_object_get(opt, "config"), "is_legacy_optimizer");
  *out = dump(c);
  json_decref(c);
  return *out ? 0 : kcb__error(KCB_ENOMEM, "out of memory");
}

/* ---- writing and checking ---------------------------------------------------------------- */

/* Every written variable must read back from the written file (`written`, to be renamed to
 * out_path) bit for bit. */
static int verify(const kcb_checkpoint_file *f, const plan *p, const char *written, const char *out_path) {
  kcb_checkpoint_file *g = NULL;
  int rc = kcb_checkpoint_file_open(&g, written);
  void *a = NULL, *b = NULL;
  if (rc) {
    char cause[1024]; /* the message is rewritten from the error buffer itself */
    kcb__strlcpy(cause, kcb_error_last(), sizeof cause);
    return kcb__error(KCB_EIO, "%s: the file written does not read back, so it was not saved: %s", out_path, cause);
  }
  for (size_t i = 0; i < f->n_vars && rc == 0; i++) {
    if (!p->dst_path[i] || !p->dst_path[i][0]) continue;
    const char *want = p->dst_path[i];
    char abs[KCB__H5_PATH_MAX + 80];
    if (want[0] != '/') {
      snprintf(abs, sizeof abs, "%s/%s", p->layout == KCB_LAYOUT_H5 ? "/model_weights" : "", want);
      want = abs;
    }
    long j = kcb_checkpoint_file_find(g, want);
    const kcb_checkpoint_var *s = &f->vars[i].pub, *d = j >= 0 ? kcb_checkpoint_file_var(g, (size_t)j) : NULL;
    if (!d || d->dtype != s->dtype || d->count != s->count || d->rank != s->rank) {
      rc = kcb__error(KCB_EIO, "%s: variable '%.*s' did not arrive as '%.*s' with its shape and dtype", out_path,
                      kcb__utf8_prefix(s->name, 200), s->name, kcb__utf8_prefix(want, 200), want);
      break;
    }
    size_t size = s->count * kcb_var_dtype_size(s->dtype);
    a = malloc(size + 1);
    b = malloc(size + 1);
    if (!a || !b) rc = kcb__error(KCB_ENOMEM, "out of memory");
    if (!rc) rc = kcb_checkpoint_file_read_raw(f, i, a, size);
    if (!rc) rc = kcb_checkpoint_file_read_raw(g, (size_t)j, b, size);
    if (!rc && memcmp(a, b, size) != 0)
      rc = kcb__error(KCB_EIO, "%s: variable '%.*s' reads back different from %s", out_path, kcb__utf8_prefix(s->name, 200),
                      s->name, f->path);
    free(a);
    free(b);
    a = b = NULL;
  }
  kcb_checkpoint_file_close(g);
  return rc;
}

typedef struct verify_ctx {
  const kcb_checkpoint_file *f;
  const plan *p;
  const char *out_path;
} verify_ctx;

static int verify_written(const char *written, void *ctx) {
  const verify_ctx *v = ctx;
  return verify(v->f, v->p, written, v->out_path);
}

/* Writes out_path only once its variables read back from the bytes written: a failed check leaves
 * any file that was there before. */
/* The files below an unzipped model's assets/ (a lookup layer's vocabulary, ...), for the archive
 * made of it: members "assets/<path below it>", read whole, in a depth-first walk bounded as
 * counting them is (checkpoint_source.c). */
typedef struct asset_files {
  kcb__zip_member *m; /* the names and data are owned here */
  size_t n, cap;
} asset_files;

static void asset_files_free(asset_files *a) {
  for (size_t i = 0; i < a->n; i++) free((char *)a->m[i].name), free((void *)a->m[i].data);
  free(a->m);
}

static int collect_assets(const char *dir, const char *rel, int depth, asset_files *a) {
  DIR *d = depth < 16 ? opendir(dir) : NULL;
  int rc = 0;
  for (struct dirent *e; rc == 0 && d && (e = readdir(d)) != NULL;) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char *child = kcb__path_join(dir, e->d_name), *name = kcb__path_join(rel, e->d_name);
    struct stat st;
    if (!child || !name) rc = kcb__error(KCB_ENOMEM, "out of memory");
    else if (lstat(child, &st) != 0) rc = 0; /* gone since it was counted: nothing to keep */
    else if (S_ISDIR(st.st_mode)) rc = collect_assets(child, name, depth + 1, a);
    else if (S_ISREG(st.st_mode)) {
      char *data = NULL;
      size_t len = 0;
      if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 8;
        kcb__zip_member *m = realloc(a->m, cap * sizeof *m);
        if (!m) rc = kcb__error(KCB_ENOMEM, "out of memory");
        else a->m = m, a->cap = cap;
      }
      if (rc == 0 && (rc = kcb_file_read(child, (size_t)1 << 31, &data, &len)) == 0) {
        a->m[a->n++] = (kcb__zip_member){name, data, len};
        name = NULL;
      }
    }
    free(child);
    free(name);
  }
  if (d) closedir(d);
  return rc;
}

static int write_verified(const kcb_checkpoint_file *f, const plan *p, const char *out_path, const void *data,
                          size_t len) {
  verify_ctx v = {f, p, out_path};
  p->report->n_vars_written = 0;
  for (size_t i = 0; i < f->n_vars; i++) {
    const char *dst = p->dst_path[i];
    if (!dst || !dst[0]) continue;
    p->report->n_vars_written++;
    if (strlen(dst) + sizeof "/model_weights/" > KCB__H5_PATH_MAX) /* what verify, or any kcb reader, could not open */
      return kcb__error(KCB_EINVAL, "%s: variable '%.*s...' would be stored at a path of %zu bytes, more than the %d kcb "
                        "reads back (a layer name this long); nothing was written", out_path,
                        kcb__utf8_prefix(f->vars[i].name, 80), f->vars[i].name, strlen(dst), KCB__H5_PATH_MAX - 1);
  }
  /* what earlier writes into this directory left when a kill or a second Ctrl-C cut them */
  kcb__file_remove_dead_temps(out_path, 0);
  return kcb__file_write_checked(out_path, data, len, verify_written, &v);
}

/* A full-model file Keras builds from its config, then fills with the weights: a Dense's units or
 * a convolution's filters that disagree with its kernel or bias (a config edited by hand, weights
 * of another model) would give a file Keras cannot load. Checked for the layers whose shapes kcb
 * knows, before anything is written. */
/* A config setting as Python's truth reads it (true, or a number other than 0), else its Keras
 * default. */
static int config_flag(json_t *config, const char *key, int keras_default) {
  json_t *v = json_object_get(config, key);
  return json_is_boolean(v) ? json_is_true(v) : json_is_number(v) ? json_number_value(v) != 0 : keras_default;
}

/* A layer whose variables Keras lists otherwise in the two families of layouts. A quantized one:
 * a store holds them in its variable_serialization_spec order, the legacy layouts trainable ones
 * first, under their own names. A LoRA one: a store holds the merged kernel, the legacy layouts the
 * two LoRA factors beside it. kcb copies such a layer within its family only. */
static int check_family_change(const kcb_checkpoint_file *f, kcb_checkpoint_layout layout, const char *out_path) {
  int from_store = f->meta.layout == KCB_LAYOUT_KERAS || f->meta.layout == KCB_LAYOUT_WEIGHTS_H5;
  int to_store = layout == KCB_LAYOUT_KERAS || layout == KCB_LAYOUT_WEIGHTS_H5;
  if (from_store == to_store) return 0;
  for (size_t li = 0; li < f->n_layers; li++) {
    const kcb__ckpt_layer *l = &f->layers[li];
    json_t *c = l->entry ? json_object_get(l->entry, "config") : NULL;
    const char *mode = c ? kcb__config_quantization(c) : NULL;
    json_t *lora = c ? json_object_get(c, "lora_rank") : NULL;
    char what[128] = "";
    if (mode) snprintf(what, sizeof what, "quantized (mode '%s')", mode);
    else if (json_is_integer(lora) && json_integer_value(lora) > 0)
      snprintf(what, sizeof what, "LoRA-enabled (lora_rank %lld)", (long long)json_integer_value(lora));
    else if (l->class_name && (!strcmp(l->class_name, "Dense") || !strcmp(l->class_name, "EinsumDense"))) {
      /* no config to say so (weights only): more than a kernel and a bias, or an integer kernel */
      size_t n = 0;
      int integer = 0;
      for (size_t i = 0; i < f->meta.n_model_vars; i++)
        if (f->vars[i].pub.layer == (int)li)
          n++, integer |= f->vars[i].pub.dtype >= KCB_DTYPE_INT8 && f->vars[i].pub.dtype <= KCB_DTYPE_UINT64;
      if (n > 2 || integer)
        snprintf(what, sizeof what, "a %s of %zu variables%s, as a quantized or LoRA one is", l->class_name, n,
                 integer ? " with an integer one" : "");
    }
    if (what[0])
      return kcb__error(KCB_EINVAL, "%s: layer '%s' of %s is %s: Keras keeps other variables for such a layer, or "
                        "in another order, in the legacy layouts (.h5) than in .keras and .weights.h5 (LoRA: its "
                        "factors and the kernel unmerged, against the merged kernel), so kcb copies it only within one "
                        "family (.keras <-> .weights.h5, .h5 <-> legacy weights); nothing was written",
                        out_path, l->name ? l->name : l->path, f->path, what);
  }
  return 0;
}

/* The variables of a layer whose class kcb knows, as its config builds them: how many, in which
 * order, of which ranks, and sizes that agree with each other (the sizes the config gives are
 * check_config_agrees's). Keras loads a layer's weights by position, so a file whose weights do
 * not fit (listed in another order, one missing, the same one twice) loads into no such layer:
 * said before anything is written, whatever the layout written. */
static int check_layer_variables(const kcb_checkpoint_file *f, int li, const char *out_path) {
  const kcb__ckpt_layer *l = &f->layers[li];
  json_t *c = l->entry ? json_object_get(l->entry, "config") : NULL;
  const char *cls = l->class_name;
  if (!c || !cls) return 0;
  if (kcb__config_quantization(c)) return 0;
  const kcb_checkpoint_var *v[8];
  size_t n = 0;
  for (size_t i = 0; i < f->meta.n_model_vars; i++)
    if (f->vars[i].pub.layer == li) {
      if (n == 8) return 0; /* not a layer of the classes below */
      v[n++] = &f->vars[i].pub;
    }
  if (n == 0) return 0; /* saved before it was built: Keras loads it so */
  int dense = !strcmp(cls, "Dense"), conv = 0;
  if (!strcmp(cls, "Conv1D")) conv = 1;
  else if (!strcmp(cls, "Conv2D")) conv = 2;
  else if (!strcmp(cls, "Conv3D")) conv = 3;
  char why[200] = "";
  if (dense || conv) {
    size_t want = 1 + (size_t)config_flag(c, "use_bias", 1);
    int kernel_rank = dense ? 2 : conv + 2;
    if (n != want)
      snprintf(why, sizeof why, "it has %zu weights where its config builds %zu (a kernel%s)", n, want, want == 2 ? " and a bias" : "");
    else if (v[0]->rank != kernel_rank)
      snprintf(why, sizeof why, "its first weight, the kernel, has %d dimensions instead of %d", v[0]->rank, kernel_rank);
    else if (n == 2 && (v[1]->rank != 1 || v[1]->shape[0] != v[0]->shape[v[0]->rank - 1]))
      snprintf(why, sizeof why, "its second weight, the bias, is not a vector of the kernel's last dimension, %lld",
               (long long)v[0]->shape[v[0]->rank - 1]);
  } else if (!strcmp(cls, "BatchNormalization") || !strcmp(cls, "LayerNormalization")) {
    int bn = cls[0] == 'B', rms = !bn && config_flag(c, "rms_scaling", 0);
    /* rms_scaling keeps gamma alone; renorm adds moving_stddev, renorm_mean and renorm_stddev */
    size_t want = rms ? 1 : (size_t)config_flag(c, "scale", 1) + (size_t)config_flag(c, "center", 1) +
                                (bn ? 2 + 3 * (size_t)config_flag(c, "renorm", 0) : 0);
    if (n != want) snprintf(why, sizeof why, "it has %zu weights where its config builds %zu", n, want);
    for (size_t i = 1; !why[0] && bn && i < n; i++)
      if (v[i]->rank != 1 || v[0]->rank != 1 || v[i]->shape[0] != v[0]->shape[0])
        snprintf(why, sizeof why, "its weights are not vectors of one size");
  } else if (!strcmp(cls, "Embedding")) {
    if (n != 1) snprintf(why, sizeof why, "it has %zu weights where its config builds 1 (the embeddings)", n);
    else if (v[0]->rank != 2) snprintf(why, sizeof why, "its embeddings are not a matrix");
  }
  if (!why[0]) return 0;
  return kcb__error(KCB_EINVAL, "%s: layer '%s' (%s) of %s: %s, so Keras, which loads a layer's weights in order, "
                    "could not load them; nothing was written", out_path, l->name, cls, f->path, why);
}

/* A Sequential config of layers kcb builds: every variable of the model it builds (Keras builds
 * the same one) must be in the file at its place in its layer, of its shape; Keras loads by
 * position and refuses another shape. A config kcb cannot build is left to the checks below. */
static int check_built_shapes(const kcb_checkpoint_file *f, const char *out_path) {
  kcb_model *m = NULL;
  if (!f->model_config || kcb__model_from_config_json(&m, f->model_config, NULL, 0, 0, NULL, f->path) != 0) {
    kcb_error_clear();
    return 0;
  }
  int rc = 0;
  for (size_t li = 0; rc == 0 && li < m->n_layers; li++) {
    const kcb__layer *l = &m->layers[li];
    long fl = -1;
    for (size_t j = 0; j < f->n_layers && fl < 0; j++)
      if (f->layers[j].pub.parent < 0 && f->layers[j].name && !strcmp(f->layers[j].name, l->name)) fl = (long)j;
    if (fl < 0) continue; /* a layer without weights in the file: the checks below say it */
    int k = 0; /* the file's variables of that layer, in order */
    for (size_t i = 0; rc == 0 && i < f->meta.n_model_vars; i++) {
      const kcb_checkpoint_var *v = &f->vars[i].pub;
      if (v->layer != (int)fl) continue;
      if (k >= l->n_vars) {
        rc = kcb__error(KCB_EINVAL, "%s: layer '%s' (%s) has %d variables in the model its config builds, more in %s: "
                        "Keras could not load its weights; nothing was written", out_path, l->name,
                        kcb__layer_class_name(l->kind), l->n_vars, f->path);
        break;
      }
      const kcb__var *want = &l->vars[k++];
      int same = v->rank == want->rank;
      for (int d = 0; same && d < want->rank; d++) same = v->shape[d] == want->shape[d];
      if (!same) {
        char a[96] = "(", b[96] = "(";
        for (int d = 0; d < want->rank; d++) snprintf(a + strlen(a), sizeof a - strlen(a), "%s%lld", d ? ", " : "", (long long)want->shape[d]);
        for (int d = 0; d < v->rank && d < KCB_CHECKPOINT_MAX_RANK; d++)
          snprintf(b + strlen(b), sizeof b - strlen(b), "%s%lld", d ? ", " : "", (long long)v->shape[d]);
        rc = kcb__error(KCB_EINVAL, "%s: layer '%s' (%s): its config builds %s %s%s, but %s holds %s%s: Keras could not "
                        "load its weights; nothing was written", out_path, l->name, kcb__layer_class_name(l->kind),
                        want->name, a, want->rank == 1 ? ",)" : ")", f->path, b, v->rank == 1 ? ",)" : ")");
      }
    }
    if (rc == 0 && k > 0 && k < l->n_vars)
      rc = kcb__error(KCB_EINVAL, "%s: layer '%s' (%s) has %d variables in the model its config builds, %d in %s: "
                      "Keras could not load its weights; nothing was written", out_path, l->name,
                      kcb__layer_class_name(l->kind), l->n_vars, k, f->path);
  }
  kcb_model_free(m);
  return rc;
}

/* An optimizer's step counter and learning rate are one number each: by name, and in a store
 * (where a wrong shape leaves it unnamed) its first variable, the counter every Keras 3 optimizer
 * makes first (the learning rate comes next unless it is a schedule). */
static int check_optimizer_scalars(const kcb_checkpoint_file *f, const char *out_path) {
  int store = f->meta.layout == KCB_LAYOUT_KERAS || f->meta.layout == KCB_LAYOUT_WEIGHTS_H5;
  for (size_t i = f->meta.n_model_vars; i < f->n_vars; i++) {
    const kcb_checkpoint_var *v = &f->vars[i].pub;
    const char *leaf = strrchr(v->name, '/');
    leaf = leaf ? leaf + 1 : v->name;
    int scalar = !strcmp(leaf, "iteration") || !strcmp(leaf, "iterations") || !strcmp(leaf, "learning_rate") ||
                 !strncmp(leaf, "iteration:", 10) || !strncmp(leaf, "iterations:", 11) || !strncmp(leaf, "learning_rate:", 14) ||
                 (store && i == f->meta.n_model_vars);
    size_t n = 1;
    for (int d = 0; d < v->rank; d++) n *= (size_t)v->shape[d];
    if (scalar && n != 1)
      return kcb__error(KCB_EINVAL, "%s: the optimizer's %s (%s) holds %zu values in %s, where Keras keeps one: "
                        "nothing was written", out_path,
                        i == f->meta.n_model_vars ? "iteration" : leaf,
                        v->path, n, f->path);
    /* the step counter, an int64 in Keras: stored as a float, it must still count steps */
    double count;
    int counter = store ? i == f->meta.n_model_vars : !strncmp(leaf, "iteration", 9);
    if (counter && n == 1 && (v->dtype == KCB_DTYPE_FLOAT16 || v->dtype == KCB_DTYPE_FLOAT32 || v->dtype == KCB_DTYPE_FLOAT64) &&
        kcb_checkpoint_file_read_double(f, i, &count, 1) == 0 &&
        !(count >= 0 && count <= (double)KCB__MAX_ITERATIONS && count == floor(count)))
      return kcb__error(KCB_EINVAL, "%s: the optimizer's iteration count (%s) in %s is %g: expected a whole number of "
                        "steps from 0 to 2^53; nothing was written", out_path, v->path, f->path, count);
  }
  return 0;
}

/* A Sequential config Keras builds no weights from: no build_config, no InputLayer, no input
 * shape on a layer (a model compiled and saved before it saw data). */
static int sequential_unbuilt(json_t *config) {
  if (strcmp(json_string_value(json_object_get(config, "class_name")) ? json_string_value(json_object_get(config, "class_name")) : "", "Sequential") != 0 ||
      json_object_get(config, "build_config"))
    return 0;
  size_t k;
  json_t *entry;
  json_array_foreach(json_object_get(json_object_get(config, "config"), "layers"), k, entry) {
    json_t *c = json_object_get(entry, "config");
    const char *cls = json_string_value(json_object_get(entry, "class_name"));
    if ((cls && !strcmp(cls, "InputLayer")) || json_object_get(c, "batch_input_shape") || json_object_get(c, "batch_shape") ||
        json_object_get(c, "input_shape"))
      return 0;
  }
  return 1;
}

static int check_config_agrees(const kcb_checkpoint_file *f, const char *out_path) {
  const char *model_class = f->meta.model_class ? f->meta.model_class : "";
  int built_from_config = !strcmp(model_class, "Sequential") || !strcmp(model_class, "Functional");
  /* Keras 3 refuses an operation name holding '/' (tf.keras 2 took it): its model would not load */
  for (size_t i = 0; i < f->n_layers; i++)
    if (f->layers[i].entry && f->layers[i].name && strchr(f->layers[i].name, '/'))
      return kcb__error(KCB_EINVAL, "%s: layer '%s' of %s has a '/' in its name, which Keras 3 refuses in a model it "
                        "loads; nothing was written (the weights alone convert: --format weights.h5 or legacy_weights.h5)",
                        out_path, f->layers[i].name, f->path);
  /* Keras matches the file's layers to the model's one for one: a layer listed twice, or a layer
   * of a class that always has weights but has none in the file, fails its load */
  for (size_t i = 0; i < f->n_layers; i++)
    for (size_t j = 0; j < i && f->layers[i].pub.parent < 0; j++)
      if (f->layers[j].pub.parent < 0 && f->layers[i].name && f->layers[j].name && !strcmp(f->layers[i].name, f->layers[j].name))
        return kcb__error(KCB_EINVAL, "%s: layer '%s' is listed twice in %s: Keras could not load its weights; nothing "
                          "was written", out_path, f->layers[i].name, f->path);
  static const char *const weighted[] = {"Dense", "Conv1D", "Conv2D", "Conv3D", "BatchNormalization", "LayerNormalization",
                                         "Embedding"};
  json_t *config_layers = built_from_config ? json_object_get(json_object_get(f->config, "config"), "layers") : NULL;
  size_t k;
  json_t *entry;
  if (f->meta.n_model_vars == 0 && sequential_unbuilt(f->config))
    config_layers = NULL; /* saved before it was built: Keras builds no weights from its config either */
  json_array_foreach(config_layers, k, entry) {
    const char *cls = json_string_value(json_object_get(entry, "class_name"));
    const char *name = json_string_value(json_object_get(json_object_get(entry, "config"), "name"));
    int has_weights = 0;
    for (size_t c = 0; cls && c < sizeof weighted / sizeof weighted[0]; c++) has_weights |= !strcmp(cls, weighted[c]);
    if (cls && !strcmp(cls, "LayerNormalization")) { /* without center and scale it has none */
      json_t *c = json_object_get(entry, "config"), *center = json_object_get(c, "center"), *scale = json_object_get(c, "scale");
      has_weights = !json_is_false(center) || !json_is_false(scale);
    }
    if (!has_weights || !name) continue;
    int found = 0;
    for (size_t i = 0; i < f->meta.n_model_vars && !found; i++) {
      int l = f->vars[i].pub.layer;
      found = l >= 0 && f->layers[l].name && !strcmp(f->layers[l].name, name);
    }
    if (!found)
      return kcb__error(KCB_EINVAL, "%s: layer '%s' (%s) of the config has no weights in %s: Keras could not load the "
                        "model; nothing was written", out_path, name, cls, f->path);
  }
  int built = check_built_shapes(f, out_path);
  if (built) return built;
  for (size_t i = 0; i < f->meta.n_model_vars; i++) {
    const kcb_checkpoint_var *v = &f->vars[i].pub;
    if (v->layer < 0) continue;
    const kcb__ckpt_layer *l = &f->layers[v->layer];
    /* only a subclassed model makes variables of its own: Keras refuses them for the others */
    if (l->model_own && built_from_config)
      return kcb__error(KCB_EINVAL, "%s: the %s model has variables of its own (%s), which only a subclassed model "
                        "has: Keras could not load them into the model its config builds; nothing was written", out_path,
                        model_class, f->vars[i].path);
    if (v->rank < 1) continue;
    const char *cls = l->class_name, *key = NULL;
    if (!strcmp(cls, "Dense")) key = "units";
    else if (!strcmp(cls, "Conv1D") || !strcmp(cls, "Conv2D") || !strcmp(cls, "Conv3D")) key = "filters";
    json_t *want = key && l->entry ? json_object_get(json_object_get(l->entry, "config"), key) : NULL;
    if (!json_is_integer(want)) continue;
    const char *leaf = strrchr(v->name, '/');
    leaf = leaf ? leaf + 1 : v->name;
    if (strncmp(leaf, "kernel", 6) != 0 && strncmp(leaf, "bias", 4) != 0) continue;
    if (v->shape[v->rank - 1] != json_integer_value(want))
      return kcb__error(KCB_EINVAL, "%s: layer '%s' (%s) has %s %lld in its config, but its %.6s's last dimension is "
                        "%lld: Keras could not build the model and load its weights; nothing was written", out_path,
                        l->name, cls, key, (long long)json_integer_value(want), leaf, (long long)v->shape[v->rank - 1]);
  }
  return 0;
}

static int layout_check_name(const char *path, kcb_checkpoint_layout layout) {
  size_t n = strlen(path);
  int ok = layout == KCB_LAYOUT_KERAS ? n > 6 && strcmp(path + n - 6, ".keras") == 0
         : layout == KCB_LAYOUT_WEIGHTS_H5 ? n > 11 && strcmp(path + n - 11, ".weights.h5") == 0
         : (n > 3 && strcmp(path + n - 3, ".h5") == 0) || (n > 5 && strcmp(path + n - 5, ".hdf5") == 0);
  if (!ok)
    return kcb__error(KCB_EINVAL, "%s: a %s file must be named *.%s (Keras picks the layout by name)", path,
                      kcb_checkpoint_layout_name(layout),
                      layout == KCB_LAYOUT_KERAS ? "keras" : layout == KCB_LAYOUT_WEIGHTS_H5 ? "weights.h5" : "h5");
  return 0;
}

int kcb_checkpoint_file_write(const kcb_checkpoint_file *f, const char *out_path, kcb_checkpoint_layout layout,
                              kcb_checkpoint_write_report *report) {
  kcb_checkpoint_write_report scratch;
  if (!report) report = &scratch;
  memset(report, 0, sizeof *report);
  if (!f || !out_path) return kcb__error(KCB_EINVAL, "checkpoint write: no checkpoint or no output path");
  int rc = 0;
  if (layout == KCB_LAYOUT_AUTO && (rc = kcb_checkpoint_layout_from_name(&layout, out_path))) return rc;
  if ((rc = layout_check_name(out_path, layout))) return rc;
  plan p = {.layout = layout, .report = report};
  kcb__h5_memory mem = {H5I_INVALID_HID, NULL, 0};
  char *bytes = NULL;
  void *zip = NULL;
  size_t len = 0;
  char *model_config = NULL, *training_config = NULL, *metadata = NULL;
  const kcb_checkpoint_layout src = f->meta.layout;
  const char *version = f->meta.keras_version[0] ? f->meta.keras_version : KCB__KERAS_VERSION;
  const char *backend = f->meta.backend[0] ? f->meta.backend : KCB__KERAS_BACKEND;
  p.dst_path = calloc(f->n_vars + 1, sizeof *p.dst_path);
  p.order = calloc(f->n_vars + 1, sizeof *p.order);
  p.opt_order = calloc(f->n_vars + 1, sizeof *p.opt_order);
  if (!p.dst_path || !p.order || !p.opt_order) KCB__TRY(kcb__error(KCB_ENOMEM, "out of memory"));

  struct stat src_stat;
  int src_is_dir = stat(f->path, &src_stat) == 0 && S_ISDIR(src_stat.st_mode); /* a model saved unzipped */
  int rebuilt_archive = layout == KCB_LAYOUT_KERAS && tf2_store(f); /* laid out again: its assets' paths would change */
  if (f->n_assets && (layout != KCB_LAYOUT_KERAS || rebuilt_archive)) {
    /* a lookup layer's vocabulary (or what else a layer saved as an asset) has no place in the
     * other layouts, and kcb writes an archive's weights and configs only */
    add_note(report, "%s's %zu file%s under assets/ (a lookup layer's vocabulary, ...) %s not written: only %s keeps "
             "them", f->path, f->n_assets, f->n_assets == 1 ? "" : "s", f->n_assets == 1 ? "is" : "are",
             rebuilt_archive ? "the archive itself" : "a .keras archive");
  }
  KCB__TRY(check_optimizer_scalars(f, out_path));
  if (layout == src && !src_is_dir && !tf2_store(f)) {
    /* the same layout: the file itself, byte for byte (config, optimizer state, metadata kept),
     * once it is one Keras loads */
    for (size_t li = 0; f->config && li < f->n_layers; li++) KCB__TRY(check_layer_variables(f, (int)li, out_path));
    if (layout == KCB_LAYOUT_KERAS || layout == KCB_LAYOUT_H5) KCB__TRY(check_config_agrees(f, out_path));
    for (size_t i = 0; i < f->n_vars; i++) KCB__TRY(set_path(&p, i, f->vars[i].path));
    KCB__TRY(kcb_file_read(f->path, 0, &bytes, &len));
    KCB__TRY(write_verified(f, &p, out_path, bytes, len));
    goto done;
  }
  if ((layout == KCB_LAYOUT_KERAS || layout == KCB_LAYOUT_H5) && f->config && layout != src &&
      (f->meta.keras_version[0] == '1' || f->meta.keras_version[0] == '2') && uses_hard_sigmoid(f->config))
    add_note(report, "the model uses hard_sigmoid, which Keras %s computed as clip(0.2 x + 0.5, 0, 1) and Keras 3 "
             "computes as relu6(x + 3) / 6: the converted model predicts otherwise than it was trained",
             f->meta.keras_version);
  if ((layout == KCB_LAYOUT_KERAS || layout == KCB_LAYOUT_H5) && !f->config)
    KCB__TRY(kcb__error(KCB_EINVAL, "%s holds weights only (%s, no model config), so it cannot become a %s file, which "
                        "needs the architecture: convert from a .h5 or .keras checkpoint%s", f->path,
                        kcb_checkpoint_layout_name(src), kcb_checkpoint_layout_name(layout),
                        layout == KCB_LAYOUT_H5 ? ", or write the weights-only legacy layout (kcb-restore --format "
                                                  "legacy_weights.h5; KCB_LAYOUT_LEGACY_WEIGHTS_H5)" : ""));
  KCB__TRY(check_family_change(f, layout, out_path));
  for (size_t li = 0; f->config && li < f->n_layers; li++) KCB__TRY(check_layer_variables(f, (int)li, out_path));
  if (layout == KCB_LAYOUT_KERAS || layout == KCB_LAYOUT_H5) KCB__TRY(check_config_agrees(f, out_path));
  if (layout == KCB_LAYOUT_WEIGHTS_H5 || layout == KCB_LAYOUT_KERAS) {
    KCB__TRY(plan_store(f, &p));
    if (src == KCB_LAYOUT_KERAS && layout == KCB_LAYOUT_WEIGHTS_H5 && !tf2_store(f)) {
      /* the archive's member is that very file */
      KCB__TRY(write_verified(f, &p, out_path, f->image, f->image_len));
    } else {
      const void *image;
      KCB__TRY(kcb__h5_memory_create(&mem, f->image_len + ((size_t)1 << 20), layout == KCB_LAYOUT_KERAS ? "model.weights.h5" : out_path));
      KCB__TRY(write_store(f, &p, mem.file, out_path));
      KCB__TRY(kcb__h5_memory_image(&mem, &image, &len, out_path));
      if (layout == KCB_LAYOUT_WEIGHTS_H5) {
        KCB__TRY(write_verified(f, &p, out_path, image, len));
      } else {
        char *config = NULL;
        if (src == KCB_LAYOUT_KERAS && tf2_store(f)) KCB__TRY(tf2_archive_config(f, &config));
        else if (src == KCB_LAYOUT_KERAS) config = strdup(f->model_config);
        else KCB__TRY(archive_config(f, &config, report));
        char date[32];
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(date, sizeof date, "%Y-%m-%d@%H:%M:%S", &tm);
        json_t *meta = json_pack("{s:s, s:s}", "keras_version", version[0] == '3' ? version : KCB__KERAS_VERSION, "date_saved", date);
        metadata = dump(meta);
        json_decref(meta);
        if (!config || !metadata) {
          free(config);
          KCB__TRY(kcb__error(KCB_ENOMEM, "out of memory"));
        }
        asset_files assets = {0}; /* a model saved unzipped: its assets go into the archive as Keras zips them */
        char *assets_dir = src_is_dir && f->n_assets && !tf2_store(f) ? kcb__path_join(f->path, "assets") : NULL;
        if (assets_dir) rc = collect_assets(assets_dir, "assets", 0, &assets);
        free(assets_dir);
        kcb__zip_member *members = rc ? NULL : malloc((3 + assets.n) * sizeof *members);
        if (!rc && !members) rc = kcb__error(KCB_ENOMEM, "out of memory");
        if (!rc) {
          members[0] = (kcb__zip_member){"metadata.json", metadata, strlen(metadata)};
          members[1] = (kcb__zip_member){"config.json", config, strlen(config)};
          members[2] = (kcb__zip_member){"model.weights.h5", image, len};
          if (assets.n) memcpy(members + 3, assets.m, assets.n * sizeof *members);
          rc = kcb__zip_build(members, 3 + assets.n, &zip, &len, out_path);
        }
        free(members);
        asset_files_free(&assets);
        free(config);
        if (rc) goto done;
        KCB__TRY(write_verified(f, &p, out_path, zip, len));
      }
    }
  } else {
    KCB__TRY(plan_legacy(f, &p));
    if (layout == KCB_LAYOUT_H5) {
      if (src == KCB_LAYOUT_KERAS) KCB__TRY(legacy_configs(f, &model_config, &training_config));
      else model_config = strdup(f->model_config), training_config = f->training_config ? strdup(f->training_config) : NULL;
      if (!model_config) KCB__TRY(kcb__error(KCB_ENOMEM, "out of memory"));
    }
    const void *image;
    hid_t root = H5I_INVALID_HID;
    KCB__TRY(kcb__h5_memory_create(&mem, f->image_len + ((size_t)1 << 20), out_path));
    if (layout == KCB_LAYOUT_H5) {
      KCB__TRY(kcb__h5_attr_write_string(mem.file, "backend", backend, 1, out_path));
      KCB__TRY(kcb__h5_attr_write_string(mem.file, "keras_version", version, 1, out_path));
      KCB__TRY(kcb__h5_attr_write_string(mem.file, "model_config", model_config, 0, out_path));
      if (training_config) KCB__TRY(kcb__h5_attr_write_string(mem.file, "training_config", training_config, 0, out_path));
      KCB__TRY(kcb__h5_group_create(&root, mem.file, "model_weights", out_path));
      rc = write_legacy_weights(f, root, version, backend, out_path);
      kcb__h5_close(root);
      if (rc) goto done;
      if (p.n_opt) {
        /* under the source's names, or (a tf.keras 2 store) the optimizer's, with its learning rate second */
        size_t n = p.n_opt + (size_t)p.synth_lr;
        char **names = calloc(n, sizeof *names);
        if (!names) KCB__TRY(kcb__error(KCB_ENOMEM, "out of memory"));
        for (size_t k = 0, q = 0; rc == 0 && k < n; k++) {
          size_t size = strlen(p.opt_name) + 16;
          if (k == 1 && p.synth_lr) {
            if ((names[k] = malloc(size))) snprintf(names[k], size, "%s/learning_rate", p.opt_name);
          } else {
            names[k] = strdup(p.dst_path[p.opt_order[q++]] + strlen("/optimizer_weights/"));
          }
          if (!names[k]) rc = kcb__error(KCB_ENOMEM, "out of memory");
        }
        if (!rc) rc = kcb__h5_group_create(&root, mem.file, "optimizer_weights", out_path);
        if (!rc) rc = kcb__h5_attr_write_strings(root, "weight_names", (const char *const *)names, n, out_path);
        for (size_t k = 0, q = 0; rc == 0 && k < n; k++)
          rc = k == 1 && p.synth_lr ? write_scalar_in(root, names[k], p.lr, out_path) : copy_var(f, p.opt_order[q++], root, names[k], out_path);
        kcb__h5_close(root);
        for (size_t k = 0; k < n; k++) free(names[k]);
        free(names);
        if (rc) goto done;
      }
    } else {
      KCB__TRY(write_legacy_weights(f, mem.file, version, backend, out_path));
    }
    KCB__TRY(kcb__h5_memory_image(&mem, &image, &len, out_path));
    KCB__TRY(write_verified(f, &p, out_path, image, len));
  }
  /* kcb's metadata attributes are not carried: the converted file is Keras's */
done:
  kcb__h5_memory_close(&mem);
  plan_free(&p, f->n_vars);
  free(bytes);
  free(zip);
  free(model_config);
  free(training_config);
  free(metadata);
  return rc;
}
