/* model/saving.c — saving and loading models in Keras's three checkpoint layouts
 * (spec/keras-hdf5.md): the Keras 3 weights store (§2b), the legacy full-model HDF5 (§1) and
 * its weights-only form (§2a), and the `.keras` zip (§3). Files are built in memory and written
 * atomically; loads stage everything and change the model only when all of it checked out. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "io/checkpoint_file_internal.h"
#include "io/checkpoint_source.h"
#include "io/h5.h"
#include "io/zip.h"
#include "model/bounds.h"
#include "model/config_json.h"
#include "model/model_internal.h"
#include "internal.h"
#include "io/json_python.h"

#define N_RNG_WORDS 12

static const char *const layout_names[KCB_LAYOUT_COUNT] = {"auto", "weights.h5", "h5", "keras", "legacy_weights.h5"};

const char *kcb_checkpoint_layout_name(kcb_checkpoint_layout layout) {
  return (unsigned)layout < KCB_LAYOUT_COUNT ? layout_names[layout] : "unknown";
}

int kcb_checkpoint_layout_from_name(kcb_checkpoint_layout *out, const char *path) {
  if (!path || !out) return kcb__error(KCB_EINVAL, path ? "kcb_checkpoint_layout_from_name: out is NULL" : "no file name");
  if (kcb__ends_with(path, ".keras")) *out = KCB_LAYOUT_KERAS;
  else if (kcb__ends_with(path, ".weights.h5")) *out = KCB_LAYOUT_WEIGHTS_H5;
  else if (kcb__ends_with(path, ".h5") || kcb__ends_with(path, ".hdf5")) *out = KCB_LAYOUT_H5;
  else
    return kcb__error(KCB_EINVAL, "%s: cannot tell the layout from the name: use .weights.h5 (weights), .h5 or .keras (full model)",
                      path);
  return 0;
}

/* ---- the model's variables in Keras's order ---------------------------------------------- */

/* Per weight variable j: offset into the parameter block, shape, and names. */
typedef struct var_info {
  size_t offset, size;
  int rank;
  int64_t shape[4];
  const char *layer_name, *name; /* "dense_1", "kernel" */
  size_t layer;                  /* index into m->layers */
} var_info;

/* One optimizer slot variable: slot k of weight j, named `<path>_<slot_name>` by Keras. */
typedef struct slot_var {
  int slot;
  size_t weight;
  const char *slot_name;
} slot_var;

typedef struct model_vars {
  var_info *w;
  size_t n_w;
  slot_var *s; /* in Keras's optimizer.variables order, after iteration and learning_rate */
  size_t n_s;
} model_vars;

static void model_vars_free(model_vars *v) {
  free(v->w);
  free(v->s);
}

/* Which of its layer's variables w is. */
static int var_index(const kcb_model *m, const var_info *w) {
  const kcb__layer *l = &m->layers[w->layer];
  for (int q = 0; q < l->n_vars; q++)
    if (l->vars[q].offset == w->offset) return q;
  return 0;
}

/* Whether the optimizer updates w: Keras builds its slots for model.trainable_variables only. */
static int var_trains(const kcb_model *m, const var_info *w) {
  const kcb__layer *l = &m->layers[w->layer];
  return kcb__var_trains(l, &l->vars[var_index(m, w)]);
}

static int model_vars_make(const kcb_model *m, model_vars *v) {
  memset(v, 0, sizeof *v);
  size_t n = kcb_model_weight_count(m);
  v->w = calloc(n ? n : 1, sizeof *v->w);
  const kcb__optimizer *o = &m->opt;
  v->s = calloc((size_t)(o->n_slots ? o->n_slots : 1) * (n ? n : 1), sizeof *v->s);
  if (!v->w || !v->s) {
    model_vars_free(v);
    return kcb__error(KCB_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < m->n_layers; i++) {
    const kcb__layer *l = &m->layers[i];
    for (int q = 0; q < l->n_vars; q++) {
      const kcb__var *var = &l->vars[q];
      var_info *w = &v->w[v->n_w++];
      *w = (var_info){var->offset, var->size, var->rank, {0}, l->name, var->name, i};
      memcpy(w->shape, var->shape, sizeof w->shape);
    }
  }
  /* Keras 3 builds: Adam/AdamW momentum & velocity interleaved per variable, then velocity_hat;
   * RMSprop all velocities, then momentums, then average_gradients; SGD momentums. */
  const kcb_optimizer_options *oo = &o->o;
  if (o->n_slots == 0) return 0;
  /* The optimizer keeps slots for trainable variables only (not moving statistics, not frozen layers'). */
#define TRAINABLE(j) if (!var_trains(m, &v->w[j])) continue
  if (oo->kind == KCB_OPT_ADAM || oo->kind == KCB_OPT_ADAMW) {
    for (size_t j = 0; j < v->n_w; j++) {
      TRAINABLE(j);
      v->s[v->n_s++] = (slot_var){0, j, "momentum"};
      v->s[v->n_s++] = (slot_var){1, j, "velocity"};
    }
    if (oo->amsgrad)
      for (size_t j = 0; j < v->n_w; j++) {
        TRAINABLE(j);
        v->s[v->n_s++] = (slot_var){2, j, "velocity_hat"};
      }
  } else if (oo->kind == KCB_OPT_RMSPROP) {
    int k = 0;
    for (size_t j = 0; j < v->n_w; j++) {
      TRAINABLE(j);
      v->s[v->n_s++] = (slot_var){k, j, "velocity"};
    }
    if (oo->momentum > 0) {
      k++;
      for (size_t j = 0; j < v->n_w; j++) {
        TRAINABLE(j);
        v->s[v->n_s++] = (slot_var){k, j, "momentum"};
      }
    }
    if (oo->centered) {
      k++;
      for (size_t j = 0; j < v->n_w; j++) {
        TRAINABLE(j);
        v->s[v->n_s++] = (slot_var){k, j, "average_gradient"};
      }
    }
  } else {
    for (size_t j = 0; j < v->n_w; j++) {
      TRAINABLE(j);
      v->s[v->n_s++] = (slot_var){0, j, "momentum"};
    }
  }
#undef TRAINABLE
  return 0;
}

/* The Keras 3 store path of layer i: layers/<snake_case(class)>[_k], k counting per class; with
 * tf213, tf.keras 2.13's: _layer_checkpoint_dependencies/..., whose count took two numbers for a
 * layer with weights (its walk met such a layer twice, as layer_with_weights-i and layer-j). */
static void store_layer_path(const kcb_model *m, size_t i, int tf213, char *buf, size_t size) {
  int k = 0;
  for (size_t j = 0; j < i; j++)
    if (m->layers[j].kind == m->layers[i].kind) k += tf213 && m->layers[j].n_vars > 0 ? 2 : 1;
  const char *snake = kcb__layer_base_name(m->layers[i].kind), *container = tf213 ? "_layer_checkpoint_dependencies" : "layers";
  if (k == 0) snprintf(buf, size, "%s/%s/vars", container, snake);
  else snprintf(buf, size, "%s/%s_%d/vars", container, snake, k);
}

/* ---- writing ----------------------------------------------------------------------------- */

typedef struct save_ctx {
  const kcb_model *m;
  const float *params;
  const kcb_save_options *o;
  model_vars v;
  const char *file; /* for messages */
} save_ctx;

static int write_metadata(hid_t root, const save_ctx *c) {
  int rc = 0;
  const kcb_model *m = c->m;
  KCB__TRY(kcb__h5_attr_write_string(root, "kcb_version", kcb_version_string(), 1, c->file));
  KCB__TRY(kcb__h5_attr_write_int64(root, "kcb_iterations", m->opt.iterations, c->file));
  if (c->o->monitor) {
    KCB__TRY(kcb__h5_attr_write_string(root, "kcb_monitor", c->o->monitor, 1, c->file));
    KCB__TRY(kcb__h5_attr_write_double(root, "kcb_monitor_value", c->o->monitor_value, c->file));
  }
  if (c->o->epoch >= 0) KCB__TRY(kcb__h5_attr_write_int64(root, "kcb_epoch", c->o->epoch, c->file));
  if (c->o->batch >= 0) KCB__TRY(kcb__h5_attr_write_int64(root, "kcb_batch", c->o->batch, c->file));
  if (c->o->include_rng_state) /* a backup: where its fit's save_freq counting began */
    KCB__TRY(kcb__h5_attr_write_int64(root, "kcb_fit_start_iterations", m->fit_start_iterations, c->file));
  if (c->o->batch >= 0 && c->o->include_rng_state) { /* a mid-epoch backup: the epoch's running means */
    double means[2 * (1 + KCB__MAX_METRICS)];
    for (size_t i = 0; i < 1 + KCB__MAX_METRICS; i++) means[2 * i] = m->epoch_means[i].total, means[2 * i + 1] = m->epoch_means[i].count;
    KCB__TRY(kcb__h5_attr_write_doubles(root, "kcb_epoch_means", means, 2 * (1 + KCB__MAX_METRICS), c->file));
    /* the batches it counts: a fit resumed with other ones would skip the wrong samples */
    KCB__TRY(kcb__h5_attr_write_int64(root, "kcb_batch_size", m->fit_batch_size, c->file));
    KCB__TRY(kcb__h5_attr_write_int64(root, "kcb_train_samples", m->fit_samples, c->file));
  }
  if (c->o->include_rng_state) /* how many: 0 says a backup that keeps notes had none */
    KCB__TRY(kcb__h5_attr_write_int64(root, "kcb_resume_notes", (int64_t)m->n_notes, c->file));
  if (c->o->include_rng_state && m->n_notes) { /* keys and values, two lists of one length */
    const char **keys = malloc(m->n_notes * sizeof *keys);
    uint64_t *values = malloc(m->n_notes * sizeof *values);
    if (!keys || !values) rc = kcb__error(KCB_ENOMEM, "%s: out of memory", c->file);
    for (size_t i = 0; !rc && i < m->n_notes; i++) keys[i] = m->notes[i].key, values[i] = (uint64_t)m->notes[i].value;
    if (!rc) rc = kcb__h5_attr_write_strings(root, "kcb_resume_note_keys", keys, m->n_notes, c->file);
    if (!rc) rc = kcb__h5_attr_write_uint64s(root, "kcb_resume_note_values", values, m->n_notes, c->file);
    free(keys);
    free(values);
    if (rc) goto done;
  }
  if (c->o->include_rng_state) {
    uint64_t words[N_RNG_WORDS];
    memcpy(words, m->init_rng.s, 32);
    memcpy(words + 4, m->dropout_rng.s, 32);
    memcpy(words + 8, m->shuffle_rng.s, 32);
    KCB__TRY(kcb__h5_attr_write_uint64s(root, "kcb_rng_state", words, N_RNG_WORDS, c->file));
  }
done:
  return rc;
}

/* A slot variable's Keras path: <optimizer>/<model>_<layer>_<weight>_<slot>. */
static void slot_path(const save_ctx *c, const slot_var *s, char *buf, size_t size) {
  const var_info *w = &c->v.w[s->weight];
  snprintf(buf, size, "%s/%s_%s_%s_%s", kcb__optimizer_instance_name(c->m->opt.o.kind), c->m->name, w->layer_name,
           w->name, s->slot_name);
}

static const float *slot_data(const kcb_model *m, const model_vars *v, const slot_var *s) {
  return m->opt.slots + (size_t)s->slot * m->opt.n + v->w[s->weight].offset;
}

#define LSO_NAME "loss_scale_optimizer"

/* A LossScaleOptimizer's own variables, in its order: iteration, learning rate (0: its inner
 * optimizer's rules), step_counter, dynamic_scale. `names` NULL: store keys. */
static const char *const lso_store_keys[4] = {"0", "1", "2", "3"}; /* its variables in a store's optimizer/vars */

static int write_loss_scale_vars(hid_t g, const save_ctx *c, const char *const names[4]) {
  const char *const *at = names ? names : lso_store_keys;
  const float zero = 0, scale = c->m->loss_scale.dynamic_scale;
  int rc = 0;
  KCB__TRY(kcb__h5_dataset_write_count(g, at[0], c->m->loss_scale.own_iterations, c->file));
  KCB__TRY(kcb__h5_dataset_write_float(g, at[1], 0, NULL, &zero, c->file));
  KCB__TRY(kcb__h5_dataset_write_count(g, at[2], c->m->loss_scale.step_counter, c->file));
  KCB__TRY(kcb__h5_dataset_write_float(g, at[3], 0, NULL, &scale, c->file));
done:
  return rc;
}

/* optimizer.variables as a store keeps them: a LossScaleOptimizer's own first (with_loss_scale),
 * then the optimizer's iteration, learning rate and slots. */
static int write_optimizer_vars(hid_t g, const save_ctx *c, int with_loss_scale) {
  const kcb_model *m = c->m;
  size_t first = with_loss_scale ? 4 : 0;
  char key[32];
  int rc = 0;
  if (with_loss_scale) KCB__TRY(write_loss_scale_vars(g, c, NULL));
  snprintf(key, sizeof key, "%zu", first);
  KCB__TRY(kcb__h5_dataset_write_count(g, key, m->opt.iterations, c->file));
  snprintf(key, sizeof key, "%zu", first + 1);
  KCB__TRY(kcb__h5_dataset_write_float(g, key, 0, NULL, &m->opt.learning_rate, c->file));
  for (size_t i = 0; i < c->v.n_s; i++) {
    const var_info *w = &c->v.w[c->v.s[i].weight];
    snprintf(key, sizeof key, "%zu", first + 2 + i);
    KCB__TRY(kcb__h5_dataset_write_float(g, key, w->rank, w->shape, slot_data(m, &c->v, &c->v.s[i]), c->file));
  }
done:
  return rc;
}

/* §2b: layers/<k>/vars/{0,1}, optimizer/vars/{0..}, vars. */
static int write_store(hid_t f, const save_ctx *c) {
  const kcb_model *m = c->m;
  int rc = 0;
  hid_t g = H5I_INVALID_HID;
  char path[160], key[32];
  for (size_t i = 0; i < m->n_layers; i++) {
    store_layer_path(m, i, 0, path, sizeof path);
    KCB__TRY(kcb__h5_group_create(&g, f, path, c->file));
    KCB__TRY(kcb__h5_attr_write_string(g, "name", m->layers[i].name, 1, c->file));
    int k = 0;
    for (size_t j = 0; j < c->v.n_w; j++) {
      const var_info *w = &c->v.w[j];
      if (w->layer != i) continue;
      snprintf(key, sizeof key, "%d", k++);
      KCB__TRY(kcb__h5_dataset_write_float(g, key, w->rank, w->shape, c->params + w->offset, c->file));
    }
    kcb__h5_close(g);
    g = H5I_INVALID_HID;
  }
  if (c->o->include_optimizer) {
    const char *inner = kcb__optimizer_instance_name(m->opt.o.kind);
    KCB__TRY(kcb__h5_group_create(&g, f, "optimizer/vars", c->file));
    KCB__TRY(kcb__h5_attr_write_string(g, "name", m->loss_scale.on ? LSO_NAME : inner, 1, c->file));
    KCB__TRY(write_optimizer_vars(g, c, m->loss_scale.on));
    kcb__h5_close(g);
    g = H5I_INVALID_HID;
    if (m->loss_scale.on) { /* the walk visits the inner optimizer as an attribute: its variables again */
      KCB__TRY(kcb__h5_group_create(&g, f, "optimizer/inner_optimizer/vars", c->file));
      KCB__TRY(kcb__h5_attr_write_string(g, "name", inner, 1, c->file));
      KCB__TRY(write_optimizer_vars(g, c, 0));
      kcb__h5_close(g);
      g = H5I_INVALID_HID;
    }
  }
  KCB__TRY(kcb__h5_group_create(&g, f, "vars", c->file));
  KCB__TRY(kcb__h5_attr_write_string(g, "name", m->name, 1, c->file));
done:
  kcb__h5_close(g);
  return rc;
}

static int by_layer_name(const void *a, const void *b) {
  return strcmp((*(const kcb__layer *const *)a)->name, (*(const kcb__layer *const *)b)->name);
}

/* §1 model_weights / §2a root: one group per layer (sorted by name), top_level_model_weights. */
static int write_legacy_weights(hid_t g, const save_ctx *c) {
  const kcb_model *m = c->m;
  int rc = 0;
  hid_t lg = H5I_INVALID_HID;
  const char **names = calloc(m->n_layers + 1, sizeof *names);
  const kcb__layer **sorted = calloc(m->n_layers + 1, sizeof *sorted);
  if (!names || !sorted) {
    rc = kcb__error(KCB_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < m->n_layers; i++) {
    names[i] = m->layers[i].name;
    sorted[i] = &m->layers[i];
  }
  KCB__TRY(kcb__h5_attr_write_string(g, "backend", KCB__KERAS_BACKEND, 0, c->file));
  KCB__TRY(kcb__h5_attr_write_string(g, "keras_version", KCB__KERAS_VERSION, 0, c->file));
  KCB__TRY(kcb__h5_attr_write_strings(g, "layer_names", names, m->n_layers, c->file));
  qsort(sorted, m->n_layers, sizeof *sorted, by_layer_name);
  for (size_t s = 0; s < m->n_layers; s++) {
    size_t i = (size_t)(sorted[s] - m->layers);
    char wnames[KCB__MAX_VARS][KCB__PATH_MAX];
    const char *wptr[KCB__MAX_VARS];
    size_t nw = 0;
    KCB__TRY(kcb__h5_group_create(&lg, g, m->layers[i].name, c->file));
    for (size_t j = 0; j < c->v.n_w; j++) {
      const var_info *w = &c->v.w[j];
      if (w->layer != i) continue;
      snprintf(wnames[nw], sizeof wnames[nw], "%s/%s/%s", m->name, w->layer_name, w->name);
      KCB__TRY(kcb__h5_dataset_write_float(lg, wnames[nw], w->rank, w->shape, c->params + w->offset, c->file));
      wptr[nw] = wnames[nw];
      nw++;
    }
    KCB__TRY(kcb__h5_attr_write_strings(lg, "weight_names", wptr, nw, c->file));
    kcb__h5_close(lg);
    lg = H5I_INVALID_HID;
  }
  KCB__TRY(kcb__h5_group_create(&lg, g, "top_level_model_weights", c->file));
  KCB__TRY(kcb__h5_attr_write_strings(lg, "weight_names", NULL, 0, c->file));
done:
  kcb__h5_close(lg);
  free(names);
  free(sorted);
  return rc;
}

/* §1 optimizer_weights: weight_names + datasets at those paths. */
static int write_legacy_optimizer(hid_t f, const save_ctx *c) {
  const kcb_model *m = c->m;
  size_t first = m->loss_scale.on ? 4 : 0, n = first + c->v.n_s + 2;
  int rc = 0;
  hid_t g = H5I_INVALID_HID;
  char *paths = malloc(n * KCB__PATH_MAX);
  const char **ptrs = malloc(n * sizeof *ptrs);
  if (!paths || !ptrs) {
    rc = kcb__error(KCB_ENOMEM, "out of memory");
    goto done;
  }
  const char *opt = kcb__optimizer_instance_name(m->opt.o.kind);
  static const char *const lso_vars[4] = {"iteration", "learning_rate", "step_counter", "dynamic_scale"};
  for (size_t i = 0; i < n; i++) ptrs[i] = paths + i * KCB__PATH_MAX;
  for (size_t i = 0; i < first; i++) snprintf(paths + i * KCB__PATH_MAX, KCB__PATH_MAX, LSO_NAME "/%s", lso_vars[i]);
  snprintf(paths + first * KCB__PATH_MAX, KCB__PATH_MAX, "%s/iteration", opt);
  snprintf(paths + (first + 1) * KCB__PATH_MAX, KCB__PATH_MAX, "%s/learning_rate", opt);
  for (size_t i = 0; i < c->v.n_s; i++) slot_path(c, &c->v.s[i], paths + (first + i + 2) * KCB__PATH_MAX, KCB__PATH_MAX);
  KCB__TRY(kcb__h5_group_create(&g, f, "optimizer_weights", c->file));
  KCB__TRY(kcb__h5_attr_write_strings(g, "weight_names", ptrs, n, c->file));
  if (first) KCB__TRY(write_loss_scale_vars(g, c, ptrs));
  KCB__TRY(kcb__h5_dataset_write_count(g, ptrs[first], m->opt.iterations, c->file));
  KCB__TRY(kcb__h5_dataset_write_float(g, ptrs[first + 1], 0, NULL, &m->opt.learning_rate, c->file));
  for (size_t i = 0; i < c->v.n_s; i++) {
    const var_info *w = &c->v.w[c->v.s[i].weight];
    KCB__TRY(kcb__h5_dataset_write_float(g, ptrs[first + i + 2], w->rank, w->shape, slot_data(m, &c->v, &c->v.s[i]), c->file));
  }
done:
  kcb__h5_close(g);
  free(paths);
  free(ptrs);
  return rc;
}

static int write_legacy_full(hid_t f, const save_ctx *c) {
  int rc = 0;
  char *model_config = NULL, *training_config = NULL;
  hid_t g = H5I_INVALID_HID;
  KCB__TRY(kcb__h5_attr_write_string(f, "backend", KCB__KERAS_BACKEND, 1, c->file));
  KCB__TRY(kcb__h5_attr_write_string(f, "keras_version", KCB__KERAS_VERSION, 1, c->file));
  KCB__TRY(kcb__model_config_json_legacy(c->m, &model_config));
  KCB__TRY(kcb__h5_attr_write_string(f, "model_config", model_config, 0, c->file));
  if (c->o->include_optimizer) {
    KCB__TRY(kcb__training_config_json(c->m, &training_config));
    KCB__TRY(kcb__h5_attr_write_string(f, "training_config", training_config, 0, c->file));
  }
  KCB__TRY(kcb__h5_group_create(&g, f, "model_weights", c->file));
  KCB__TRY(write_legacy_weights(g, c));
  if (c->o->include_optimizer) KCB__TRY(write_legacy_optimizer(f, c));
done:
  kcb__h5_close(g);
  free(model_config);
  free(training_config);
  return rc;
}

/* Writes the content of an HDF5 file of `layout`. */
static int write_h5(hid_t f, const save_ctx *c, kcb_checkpoint_layout layout) {
  int rc = 0;
  switch (layout) {
    case KCB_LAYOUT_H5: KCB__TRY(write_legacy_full(f, c)); break;
    case KCB_LAYOUT_LEGACY_WEIGHTS_H5: KCB__TRY(write_legacy_weights(f, c)); break;
    default: KCB__TRY(write_store(f, c)); break;
  }
  KCB__TRY(write_metadata(f, c));
done:
  return rc;
}

/* An HDF5 layout built in memory; the caller writes mem's bytes out (with one write() by the
 * atomic protocol) and closes it. HDF5's own disk writes were tried, but HDF5 1.10 leaves a file
 * id half-closed when its final flush fails (disk full) and crashes at exit: a failed save must
 * not. The memory buffer is written without a copy and sized from the parameter count. */
static int build_h5(const save_ctx *c, kcb_checkpoint_layout layout, const char *name, kcb__h5_memory *mem,
                    const void **image, size_t *len) {
  size_t floats = c->m->n_params * (1 + (c->o->include_optimizer ? (size_t)c->m->opt.n_slots : 0));
  int rc = 0;
  KCB__TRY(kcb__h5_memory_create(mem, floats * sizeof(float) + ((size_t)64 << 10) + 4096 * c->m->n_layers, name));
  KCB__TRY(write_h5(mem->file, c, layout));
  KCB__TRY(kcb__h5_memory_image(mem, image, len, c->file));
done:
  return rc;
}

static int build_keras(const save_ctx *c, void **out, size_t *len) {
  kcb__h5_memory mem = {H5I_INVALID_HID, NULL, 0};
  const void *weights = NULL;
  size_t weights_len = 0;
  char *config = NULL, *metadata = NULL;
  int rc = 0;
  KCB__TRY(build_h5(c, KCB_LAYOUT_WEIGHTS_H5, "model.weights.h5", &mem, &weights, &weights_len));
  KCB__TRY(kcb__model_config_json(c->m, &config));
  char date[32];
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  strftime(date, sizeof date, "%Y-%m-%d@%H:%M:%S", &tm);
  json_t *meta = json_object();
  if (meta && json_object_set_new(meta, "keras_version", json_string(KCB__KERAS_VERSION)) == 0 &&
      json_object_set_new(meta, "date_saved", json_string(date)) == 0 &&
      json_object_set_new(meta, "kcb_version", json_string(kcb_version_string())) == 0)
    metadata = kcb__json_dumps_python(meta);
  json_decref(meta);
  if (!metadata) {
    rc = kcb__error(KCB_ENOMEM, "out of memory");
    goto done;
  }
  kcb__zip_member members[3] = {{"metadata.json", metadata, strlen(metadata)},
                                {"config.json", config, strlen(config)},
                                {"model.weights.h5", weights, weights_len}};
  KCB__TRY(kcb__zip_build(members, 3, out, len, c->file));
done:
  kcb__h5_memory_close(&mem);
  free(config);
  free(metadata);
  return rc;
}

static int check_name(const char *path, kcb_checkpoint_layout layout) {
  switch (layout) {
    case KCB_LAYOUT_WEIGHTS_H5:
      if (!kcb__ends_with(path, ".weights.h5"))
        return kcb__error(KCB_EINVAL, "%s: the filename must end in .weights.h5 for the weights.h5 layout (as Keras requires)", path);
      return 0;
    case KCB_LAYOUT_KERAS:
      if (!kcb__ends_with(path, ".keras")) return kcb__error(KCB_EINVAL, "%s: the filename must end in .keras for the keras layout", path);
      return 0;
    case KCB_LAYOUT_H5: /* Keras's model.save writes it under any *.h5 name, *.weights.h5 included */
      if (!(kcb__ends_with(path, ".h5") || kcb__ends_with(path, ".hdf5")))
        return kcb__error(KCB_EINVAL, "%s: the %s layout needs a name ending in .h5", path, layout_names[layout]);
      return 0;
    case KCB_LAYOUT_LEGACY_WEIGHTS_H5:
      /* Keras's load_weights reads any *.weights.h5 as the Keras 3 store, so this layout must not be named so. */
      if (kcb__ends_with(path, ".weights.h5") || !(kcb__ends_with(path, ".h5") || kcb__ends_with(path, ".hdf5")))
        return kcb__error(KCB_EINVAL, "%s: the %s layout needs a name ending in .h5 (not .weights.h5)", path,
                          layout_names[layout]);
      return 0;
    default: return kcb__error(KCB_EINVAL, "%s: unknown layout %d", path, (int)layout);
  }
}

int kcb_model_save(kcb_model *m, const char *path, const kcb_save_options *opts) {
  kcb_save_options defaults = KCB_SAVE_OPTIONS_INIT;
  const kcb_save_options *o = opts ? opts : &defaults;
  if (!m || !path) return kcb__error(KCB_EINVAL, "save: no model or no path");
  if (!m->compiled || !m->weights_ready) return kcb__error(KCB_ESTATE, "%s: cannot save: the model is not compiled", path);
  kcb_checkpoint_layout layout = o->layout;
  int rc = 0;
  if (layout == KCB_LAYOUT_AUTO && (rc = kcb_checkpoint_layout_from_name(&layout, path))) return rc;
  if ((rc = check_name(path, layout))) return rc;
  if (o->monitor && strlen(o->monitor) >= sizeof ((kcb_checkpoint_info *)0)->monitor)
    return kcb__error(KCB_EINVAL, "%s: monitor name '%s' is too long", path, o->monitor);
  kcb_save_options own = *o;
  if (m->compile_implicit) own.include_optimizer = 0; /* an uncompiled model in Keras: no optimizer, no training_config */
  save_ctx c = {m, o->weights ? o->weights : m->params, &own, {0}, path};
  void *bytes = NULL;
  size_t len = 0;
  kcb__h5_memory mem = {H5I_INVALID_HID, NULL, 0};
  KCB__TRY(model_vars_make(m, &c.v));
  if (layout == KCB_LAYOUT_KERAS) {
    KCB__TRY(build_keras(&c, &bytes, &len));
    KCB__TRY(kcb__file_write_atomic(path, bytes, len));
  } else {
    const void *image = NULL;
    KCB__TRY(build_h5(&c, layout, path, &mem, &image, &len));
    KCB__TRY(kcb__file_write_atomic(path, image, len));
  }
  kcb__file_remove_dead_temps(path, 1); /* the same file's writes an earlier process's kill cut */
done:
  kcb__h5_memory_close(&mem);
  model_vars_free(&c.v);
  free(bytes);
  return rc;
}

/* ---- opening any layout ------------------------------------------------------------------ */

/* The weights group, or an error naming what is missing. */
static int source_weights(const kcb__ckpt_source *s) {
  if (s->weights < 0) return kcb__error(KCB_EFORMAT, "%s: no group 'model_weights' (a model config without weights)", s->path);
  return 0;
}

/* ---- loading weights --------------------------------------------------------------------- */

/* What a load changes, staged until everything has been read and checked. */
typedef struct staged {
  float *params;
  float *slots;
  int have_opt;
  int64_t iterations;
  float learning_rate;
  int have_rng;
  uint64_t rng[N_RNG_WORDS];
  int have_loss_scale;               /* a LossScaleOptimizer's iteration, step_counter, dynamic_scale */
  int64_t own_iterations, step_counter;
  float dynamic_scale;
} staged;

static int check_shape(const kcb__ckpt_source *s, const char *where, const char *layer_desc, const char *weight, int rank,
                       const int64_t *shape, const var_info *w) {
  int same = rank == w->rank;
  for (int d = 0; same && d < rank; d++) same = shape[d] == w->shape[d];
  if (same) return 0;
  char want[64], got[64];
  kcb__shape_str(want, sizeof want, w->rank, w->shape);
  kcb__shape_str(got, sizeof got, rank, shape);
  return kcb__error(KCB_ESHAPE, "%s: Shape mismatch in %s for weight %s (%s). Weight expects shape %s. Received saved weight with shape %s",
                    s->path, layer_desc, weight, where, want, got);
}

/* §4a: topological matching over the layers that have weights. */
static int load_legacy_weights(const kcb__ckpt_source *s, const kcb_model *m, const model_vars *v, staged *st) {
  char **layer_names = NULL, **wn = NULL;
  size_t n_layer_names = 0, n_wn = 0;
  hid_t lg = H5I_INVALID_HID;
  int rc = 0;
  size_t *file_layers = NULL, n_file = 0;
  KCB__TRY(kcb__h5_attr_read_strings(s->weights, "layer_names", &layer_names, &n_layer_names, s->path));
  file_layers = calloc(n_layer_names + 1, sizeof *file_layers);
  if (!file_layers) {
    rc = kcb__error(KCB_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < n_layer_names; i++) {
    if ((rc = kcb__h5_listed_group_open(&lg, s->weights, layer_names[i], s->path))) goto done;
    KCB__TRY(kcb__h5_attr_read_strings(lg, "weight_names", &wn, &n_wn, s->path));
    if (n_wn > 0) file_layers[n_file++] = i;
    kcb__h5_strings_free(wn, n_wn);
    wn = NULL;
    kcb__h5_close(lg);
    lg = H5I_INVALID_HID;
  }
  /* a subclassed model's own variables: a Sequential has none, and Keras refuses the file */
  if (kcb__h5_exists(s->weights, "top_level_model_weights")) {
    KCB__TRY(kcb__h5_group_open(&lg, s->weights, "top_level_model_weights", s->path));
    KCB__TRY(kcb__h5_attr_read_strings(lg, "weight_names", &wn, &n_wn, s->path));
    if (n_wn) {
      rc = kcb__error(KCB_ESHAPE, "%s: Weight count mismatch for top-level weights when loading weights from file. Model "
                      "expects 0 top-level weight(s). Received %zu saved top-level weight(s) (top_level_model_weights: "
                      "a subclassed model's own variables)", s->path, n_wn);
      goto done;
    }
    kcb__h5_close(lg);
    lg = H5I_INVALID_HID;
  }
  size_t n_model = 0;
  for (size_t i = 0; i < m->n_layers; i++) n_model += m->layers[i].n_vars > 0;
  if (n_model != n_file) {
    rc = kcb__error(KCB_ESHAPE, "%s: Layer count mismatch when loading weights from file. Model expected %zu layers, found %zu saved layers.",
                    s->path, n_model, n_file);
    goto done;
  }
  size_t k = 0, j = 0;
  for (size_t i = 0; i < m->n_layers; i++) {
    const kcb__layer *l = &m->layers[i];
    if (l->n_vars == 0) continue;
    const char *fname = layer_names[file_layers[k]];
    KCB__TRY(kcb__h5_group_open(&lg, s->weights, fname, s->path));
    KCB__TRY(kcb__h5_attr_read_strings(lg, "weight_names", &wn, &n_wn, s->path));
    size_t expect = (size_t)l->n_vars;
    if (n_wn != expect) {
      rc = kcb__error(KCB_ESHAPE, "%s: Weight count mismatch for layer #%zu (named %s in the current model, %s in the save file). Layer expects %zu weight(s). Received %zu saved weight(s)",
                      s->path, k, l->name, fname, expect, n_wn);
      goto done;
    }
    char desc[KCB__PATH_MAX];
    snprintf(desc, sizeof desc, "layer #%zu (named %s)", k, l->name);
    for (size_t q = 0; q < n_wn; q++, j++) {
      int rank = 0;
      int64_t shape[KCB__H5_MAX_RANK];
      char where[KCB__PATH_MAX];
      char weight[KCB__PATH_MAX]; /* the model's: the file's may be another one, listed in another order */
      snprintf(where, sizeof where, "%s/%s in the file", fname, wn[q]);
      snprintf(weight, sizeof weight, "%s/%s/%s", m->name, v->w[j].layer_name, v->w[j].name); /* Keras's variable path */
      KCB__TRY(kcb__h5_dataset_shape(lg, wn[q], &rank, shape, s->path));
      KCB__TRY(check_shape(s, where, desc, weight, rank, shape, &v->w[j]));
      KCB__TRY(kcb__h5_dataset_read_float(lg, wn[q], st->params + v->w[j].offset, v->w[j].size, s->path));
    }
    kcb__h5_strings_free(wn, n_wn);
    wn = NULL;
    kcb__h5_close(lg);
    lg = H5I_INVALID_HID;
    k++;
  }
done:
  kcb__h5_close(lg);
  kcb__h5_strings_free(wn, n_wn);
  kcb__h5_strings_free(layer_names, n_layer_names);
  free(file_layers);
  return rc;
}

#define TF213_LAYERS "_layer_checkpoint_dependencies"

/* Whether each layer with weights has a group of as many variables under tf.keras 2.13's name. */
static int tf213_names_fit(const kcb__ckpt_source *s, const kcb_model *m) {
  for (size_t i = 0; i < m->n_layers; i++) {
    if (m->layers[i].n_vars == 0) continue;
    char path[160];
    size_t have = 0;
    hid_t g;
    store_layer_path(m, i, 1, path, sizeof path);
    if (!kcb__h5_exists(s->weights, path) || kcb__h5_group_open(&g, s->weights, path, s->path)) return kcb_error_clear(), 0;
    int rc = kcb__h5_link_count(g, &have, s->path);
    kcb__h5_close(g);
    if (rc || have != (size_t)m->layers[i].n_vars) return kcb_error_clear(), 0;
  }
  return 1;
}

/* §2b: by position, layers/<class>[_k]/vars/<i>. */
static int load_store_weights(const kcb__ckpt_source *s, const kcb_model *m, const model_vars *v, staged *st) {
  int rc = 0;
  hid_t g = H5I_INVALID_HID;
  char path[160], key[32];
  size_t j = 0, own = 0;
  int tf213_names = -1; /* not asked yet */
  /* the model's own variables (the root `vars`): a Sequential has none, and Keras refuses the file */
  if (kcb__h5_exists(s->weights, "vars")) {
    KCB__TRY(kcb__h5_group_open(&g, s->weights, "vars", s->path));
    KCB__TRY(kcb__h5_link_count(g, &own, s->path));
    kcb__h5_close(g);
    g = H5I_INVALID_HID;
    if (own)
      return kcb__error(KCB_ESHAPE, "%s: Layer '%s' expected 0 variables, but received %zu variables during loading "
                        "(group vars: the model's own, as a subclassed model has)", s->path, m->name, own);
  }
  for (size_t i = 0; i < m->n_layers; i++) {
    const kcb__layer *l = &m->layers[i];
    if (l->n_vars == 0) continue;
    size_t expect = (size_t)l->n_vars, have = 0;
    store_layer_path(m, i, 0, path, sizeof path);
    /* tf.keras 2.13 and 2.14 filed the layers under the attribute `_layer_checkpoint_dependencies`
     * (see store_layer_path); Keras 3 looks there under its own names (which a file with one layer
     * of each class has too), taken when tf.keras's do not fit every layer */
    if (!kcb__h5_exists(s->weights, path) && kcb__h5_exists(s->weights, TF213_LAYERS)) {
      if (tf213_names < 0) tf213_names = tf213_names_fit(s, m);
      if (tf213_names) {
        store_layer_path(m, i, 1, path, sizeof path);
      } else {
        char keras3[sizeof path], moved[sizeof path + sizeof TF213_LAYERS];
        store_layer_path(m, i, 0, keras3, sizeof keras3);
        snprintf(moved, sizeof moved, "%s%s", TF213_LAYERS, keras3 + strlen("layers"));
        kcb__strlcpy(path, moved, sizeof path);
      }
    }
    if (kcb__h5_exists(s->weights, path)) {
      KCB__TRY(kcb__h5_group_open(&g, s->weights, path, s->path));
      KCB__TRY(kcb__h5_link_count(g, &have, s->path));
    }
    if (have != expect) {
      char names[KCB__PATH_MAX] = "";
      for (int q = 0; q < l->n_vars; q++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s'%s'", q ? ", " : "", l->vars[q].name);
      rc = kcb__error(KCB_ESHAPE, "%s: Layer '%s' expected %zu variables, but received %zu variables during loading (group %s). Expected: [%s]",
                      s->path, l->name, expect, have, path, names);
      goto done;
    }
    for (size_t q = 0; q < expect; q++, j++) {
      int rank = 0;
      int64_t shape[KCB__H5_MAX_RANK];
      snprintf(key, sizeof key, "%zu", q);
      KCB__TRY(kcb__h5_dataset_shape(g, key, &rank, shape, s->path));
      int same = rank == v->w[j].rank;
      for (int d = 0; same && d < rank; d++) same = shape[d] == v->w[j].shape[d];
      if (!same) {
        char want[64], got[64];
        kcb__shape_str(want, sizeof want, v->w[j].rank, v->w[j].shape);
        kcb__shape_str(got, sizeof got, rank, shape);
        rc = kcb__error(KCB_ESHAPE, "%s: layer '%s' (%s/%s): The shape of the target variable and the shape of the target value in `variable.assign(value)` must match. variable.shape=%s, Received: value.shape=%s. Target variable: %s/%s/%s",
                        s->path, l->name, path, key, want, got, m->name, l->name, v->w[j].name);
        goto done;
      }
      KCB__TRY(kcb__h5_dataset_read_float(g, key, st->params + v->w[j].offset, v->w[j].size, s->path));
    }
    kcb__h5_close(g);
    g = H5I_INVALID_HID;
  }
done:
  kcb__h5_close(g);
  return rc;
}

/* tf.keras 2's optimizers save the iteration count first ("iteration:0", "Adam/iter:0") and no
 * learning rate in its place: 2.11's then the slots, interleaved per variable
 * ("Adam/m/dense/kernel:0", "Adam/v/dense/kernel:0", ...); the older optimizer_v2 its
 * hyperparameters ("Adam/beta_1:0", "Adam/learning_rate:0": one '/'), then every variable's first
 * slot, then every variable's second ("Adam/dense/kernel/m:0", ...). */
static int tf2_iteration_name(const char *name) {
  const char *base = strrchr(name, '/');
  base = base ? base + 1 : name;
  return strncmp(base, "iter:", 5) == 0 || strncmp(base, "iteration:", 10) == 0 || strncmp(base, "iterations:", 11) == 0;
}

static int slashes(const char *name) {
  int k = 0;
  for (; *name; name++) k += *name == '/';
  return k;
}

static int tf2_grouped_slots(const char *name) {
  static const char *const slots[] = {"m:", "v:", "vhat:", "momentum:", "rms:", "mg:"};
  const char *base = strrchr(name, '/');
  for (size_t k = 0; base && k < sizeof slots / sizeof slots[0]; k++)
    if (strncmp(base + 1, slots[k], strlen(slots[k])) == 0) return 1;
  return 0;
}

/* Whether the k datasets named are each of shape (1,). */
static int unit_vectors(const kcb__ckpt_source *s, hid_t g, char **names, size_t k) {
  for (size_t i = 0; i < k; i++) {
    int rank = 0;
    int64_t shape[KCB__H5_MAX_RANK];
    if (kcb__h5_dataset_shape(g, names[i], &rank, shape, s->path) || rank != 1 || shape[0] != 1) {
      kcb_error_clear();
      return 0;
    }
  }
  return 1;
}

/* The variables the optimizer updates (moving statistics and frozen layers' not among them). */
static size_t trainable_count(const kcb_model *m, const model_vars *v) {
  size_t n = 0;
  for (size_t j = 0; j < v->n_w; j++) n += var_trains(m, &v->w[j]) != 0;
  return n;
}

/* The file's compile settings: a full .h5's training_config, a .keras's compile_config (a new
 * reference, or NULL). */
static json_t *file_compile_settings(const kcb__ckpt_source *s) {
  if (s->training) return kcb__json_loads_python(s->training, 0, NULL, NULL);
  json_t *config = s->config ? kcb__json_loads_python(s->config, 0, NULL, NULL) : NULL;
  json_t *cc = json_incref(json_object_get(config, "compile_config"));
  json_decref(config);
  return cc;
}

/* The file's optimizer class from its compile settings ("Custom>SGD" -> "SGD"), into out ("" none). */
static void file_optimizer_class(const kcb__ckpt_source *s, char *out, size_t size) {
  out[0] = '\0';
  json_t *tc = file_compile_settings(s);
  const char *cls = NULL;
  kcb__ckpt_optimizer_config(tc, &cls);
  if (cls) snprintf(out, size, "%s", strncmp(cls, "Custom>", 7) ? cls : cls + 7);
  json_decref(tc);
}

/* A number in the file's optimizer config (fallback when it has none). */
static double file_optimizer_number(const kcb__ckpt_source *s, const char *key, double fallback) {
  json_t *tc = file_compile_settings(s);
  json_t *v = json_object_get(kcb__ckpt_optimizer_config(tc, NULL), key);
  double x = json_is_number(v) ? json_number_value(v) : fallback;
  json_decref(tc);
  return x;
}


/* The file's optimizer setting `key` as a truth value (a bool, or a number: nonzero), or -1 when the
 * file's compile settings do not say. */
static int file_optimizer_flag(const kcb__ckpt_source *s, const char *key) {
  json_t *tc = file_compile_settings(s);
  json_t *v = json_object_get(kcb__ckpt_optimizer_config(tc, NULL), key);
  int flag = json_is_boolean(v) ? json_is_true(v) : json_is_number(v) ? json_number_value(v) != 0 : -1;
  json_decref(tc);
  return flag;
}

/* Reads optimizer variables 0 (iteration), 1 (learning rate), 2.. (slots) named by `names`
 * under group g (tf.keras 2: no learning rate, see above). A count mismatch returns 1 (nothing
 * read) for the caller to skip or fail. */
static int load_optimizer_vars(const kcb__ckpt_source *s, const kcb_model *m, const model_vars *v, hid_t g, char **names,
                               size_t n, int required, staged *st) {
  /* tf.keras 2.11+'s optimizer in a .keras (2.13-2.15): the iteration, then the slots, no learning rate */
  int tf2_store = s->layout != KCB_LAYOUT_H5 && kcb__tf2_written_store(s->file, s->keras_version) && n != v->n_s + 2; /* n: the slots and the iteration, or SGD's buffers */
  int tf2 = tf2_store || (n > 0 && tf2_iteration_name(names[0]) && n != v->n_s + 2);
  size_t first_slot = tf2 ? 1 : 2, lr_at = tf2 ? 0 : 1;
  if (tf2) /* optimizer_v2's hyperparameters: skipped, but for the learning rate */
    for (; first_slot < n && slashes(names[first_slot]) == 1; first_slot++)
      if (strstr(names[first_slot], "/learning_rate:") || strstr(names[first_slot], "/lr:")) lr_at = first_slot;
  /* tf.keras 2.11+'s SGD at momentum 0 keeps a buffer per variable that never changes a step; kcb's
   * (and Keras 3's) keeps none */
  const size_t t = trainable_count(m, v);
  if (tf2 && m->opt.o.kind == KCB_OPT_SGD && v->n_s == 0 && n > first_slot && n - first_slot == t &&
      file_optimizer_number(s, "momentum", 0) == 0)
    n = first_slot;
  /* standalone Keras 2.2/2.3 (slots made under "training/") list each kind's slots together, and
   * their Adam keeps a vhat of shape (1,) per variable that stays 0 without amsgrad: kcb keeps none */
  int standalone = tf2 && first_slot < n && strncmp(names[first_slot], "training/", 9) == 0;
  if (standalone && (m->opt.o.kind == KCB_OPT_ADAM || m->opt.o.kind == KCB_OPT_ADAMW) && !m->opt.o.amsgrad && t &&
      n - first_slot == 3 * t && unit_vectors(s, g, names + n - t, t))
    n -= t;
  if (n < first_slot || n - first_slot != v->n_s) return 1;
  int grouped = tf2 && first_slot < n && (standalone || tf2_grouped_slots(names[first_slot]));
  size_t per_slot = m->opt.n_slots ? v->n_s / (size_t)m->opt.n_slots : 0; /* trainable variables */
  int rc = 0;
  KCB__TRY(kcb__h5_dataset_read_int64(g, names[0], &st->iterations, s->path));
  if (lr_at) KCB__TRY(kcb__h5_dataset_read_float(g, names[lr_at], &st->learning_rate, 1, s->path));
  else /* 2.11's: none saved, the compile config's (as tf.keras's load_model compiles it) */
    st->learning_rate = (float)file_optimizer_number(s, "learning_rate", file_optimizer_number(s, "lr", m->opt.learning_rate));
  char **slot_names = names + first_slot;
  size_t seen[4] = {0}; /* per slot kind (at most 3): its variables met so far, each kind's listed in order */
  for (size_t i = 0; i < v->n_s; i++) {
    size_t k = (size_t)v->s[i].slot, at = grouped ? k * per_slot + seen[k] : i;
    seen[k]++;
    const var_info *w = &v->w[v->s[i].weight];
    int rank = 0;
    int64_t shape[KCB__H5_MAX_RANK];
    char desc[KCB__PATH_MAX];
    snprintf(desc, sizeof desc, "optimizer variable #%zu (%s of %s/%s)", at + first_slot, v->s[i].slot_name,
             w->layer_name, w->name);
    KCB__TRY(kcb__h5_dataset_shape(g, slot_names[at], &rank, shape, s->path));
    /* a state of as many variables, shaped otherwise (another optimizer's, unnamed): not this one's */
    if ((rc = check_shape(s, "optimizer state", desc, slot_names[at], rank, shape, w)) != 0 && !required) {
      kcb_error_clear();
      return 1;
    }
    if (rc) goto done;
    KCB__TRY(kcb__h5_dataset_read_float(g, slot_names[at], st->slots + (size_t)v->s[i].slot * m->opt.n + w->offset, w->size,
                                        s->path));
  }
  st->have_opt = 1;
done:
  return rc;
}

#define LSO_PREFIX LSO_NAME "/"

/* A LossScaleOptimizer's own state (names: its iteration, learning rate, step_counter and
 * dynamic_scale), kept for the files kcb writes next. */
static int read_loss_scale(const kcb__ckpt_source *s, hid_t g, const char *const names[4], staged *st) {
  const char *scale = names[3];
  int rc = 0;
  int rank = 0;
  int64_t shape[KCB_MAX_RANK];
  KCB__TRY(kcb__h5_dataset_shape(g, scale, &rank, shape, s->path));
  if (rank != 0) {
    rc = kcb__error(KCB_EFORMAT, "%s: the LossScaleOptimizer's dynamic_scale (%s) is not a scalar", s->path, scale);
    goto done;
  }
  KCB__TRY(kcb__h5_dataset_read_int64(g, names[0], &st->own_iterations, s->path));
  KCB__TRY(kcb__h5_dataset_read_int64(g, names[2], &st->step_counter, s->path));
  KCB__TRY(kcb__h5_dataset_read_float(g, scale, &st->dynamic_scale, 1, s->path));
  st->have_loss_scale = 1;
done:
  return rc;
}

static int load_optimizer(const kcb__ckpt_source *s, const kcb_model *m, const model_vars *v, kcb_load_optimizer mode, staged *st) {
  int rc = 0;
  hid_t g = H5I_INVALID_HID;
  char **names = NULL;
  size_t n = 0;
  const char *expected_name = kcb__optimizer_instance_name(m->opt.o.kind);
  char *saved_name = NULL;
  size_t first = 0; /* names[first..] are the state's variables */
  if (s->layout == KCB_LAYOUT_H5 && kcb__h5_exists(s->file, "optimizer_weights")) {
    KCB__TRY(kcb__h5_group_open(&g, s->file, "optimizer_weights", s->path));
    KCB__TRY(kcb__h5_attr_read_strings(g, "weight_names", &names, &n, s->path));
    /* mixed precision: a LossScaleOptimizer's own variables come first, then its inner one's */
    while (first < n && strncmp(names[first], LSO_PREFIX, strlen(LSO_PREFIX)) == 0) first++;
    if (first == 4 && kcb__leaf_is(names[0], "iteration") && kcb__leaf_is(names[2], "step_counter") &&
        kcb__leaf_is(names[3], "dynamic_scale"))
      KCB__TRY(read_loss_scale(s, g, (const char *const *)names, st));
    if (first < n) {
      const char *slash = strchr(names[first], '/');
      if (slash && (saved_name = strndup(names[first], (size_t)(slash - names[first]))) == NULL) {
        rc = kcb__error(KCB_ENOMEM, "out of memory");
        goto done;
      }
    }
  } else if ((s->layout == KCB_LAYOUT_WEIGHTS_H5 || s->layout == KCB_LAYOUT_KERAS) &&
             kcb__h5_exists(s->file, "optimizer/vars")) {
    KCB__TRY(kcb__h5_group_open(&g, s->file, "optimizer/vars", s->path));
    if (kcb__h5_has_attr(g, "name")) KCB__TRY(kcb__h5_attr_read_string(g, "name", &saved_name, s->path));
    /* mixed precision: the state kcb trains with is the LossScaleOptimizer's inner optimizer's,
     * which Keras saves again as that attribute's own object */
    if (saved_name && strcmp(saved_name, LSO_NAME) == 0 &&
        kcb__h5_exists(s->file, "optimizer/inner_optimizer/vars")) {
      KCB__TRY(read_loss_scale(s, g, lso_store_keys, st));
      kcb__h5_close(g);
      g = H5I_INVALID_HID;
      free(saved_name);
      saved_name = NULL;
      KCB__TRY(kcb__h5_group_open(&g, s->file, "optimizer/inner_optimizer/vars", s->path));
      if (kcb__h5_has_attr(g, "name")) KCB__TRY(kcb__h5_attr_read_string(g, "name", &saved_name, s->path));
    }
    size_t count = 0;
    KCB__TRY(kcb__h5_link_count(g, &count, s->path));
    names = calloc(count + 1, sizeof *names);
    if (!names) {
      rc = kcb__error(KCB_ENOMEM, "out of memory");
      goto done;
    }
    for (n = 0; n < count; n++) {
      char key[32];
      snprintf(key, sizeof key, "%zu", n);
      if (!(names[n] = strdup(key))) {
        rc = kcb__error(KCB_ENOMEM, "out of memory");
        goto done;
      }
    }
  }
  /* which optimizer's state: a file of tf.keras 2 (its first name "iteration:0" names none) or of an
   * early Keras 3 (no name attribute) says it in its compile settings, which win over a name there */
  char file_class[128];
  file_optimizer_class(s, file_class, sizeof file_class);
  if (file_class[0] && kcb__opt_layout_of(file_class) &&
      (!saved_name || !kcb__opt_layout_of(saved_name) || !s->keras_version || s->keras_version[0] != '3')) {
    free(saved_name);
    if (!(saved_name = strdup(file_class))) {
      rc = kcb__error(KCB_ENOMEM, "out of memory");
      goto done;
    }
  }
  int mismatch = 0, file_momentum = -1, file_centered = -1;
  if (n == first) {
    mismatch = 1;
  } else if (saved_name && kcb__opt_layout_of(saved_name) && kcb__opt_layout_of(saved_name) != kcb__opt_layout_of(expected_name)) {
    /* Keras matches by count alone; kcb also refuses another known optimizer's state (e.g.
     * RMSprop with momentum has as many variables as Adam), whichever Keras named it. */
    if (mode == KCB_LOAD_OPTIMIZER_REQUIRE) {
      rc = kcb__error(KCB_ESHAPE, "%s: the saved optimizer state is for '%s', the model uses '%s'", s->path, saved_name,
                      expected_name);
      goto done;
    }
    goto done;
  } else if (m->opt.o.kind == KCB_OPT_RMSPROP &&
             (((file_momentum = file_optimizer_flag(s, "momentum")) >= 0 && file_momentum != (m->opt.o.momentum > 0)) |
              ((file_centered = file_optimizer_flag(s, "centered")) >= 0 && file_centered != (m->opt.o.centered != 0)))) {
    /* RMSprop with momentum and centered RMSprop keep as many variables, which mean other things */
    if (mode == KCB_LOAD_OPTIMIZER_REQUIRE)
      rc = kcb__error(KCB_ESHAPE, "%s: the saved RMSprop state is for momentum %s and centered %s, the model's RMSprop "
                      "has momentum %s and centered %s", s->path, file_momentum > 0 ? "> 0" : "0",
                      file_centered > 0 ? "true" : file_centered == 0 ? "false" : "not saved", m->opt.o.momentum > 0 ? "> 0" : "0",
                      m->opt.o.centered ? "true" : "false");
    goto done;
  } else {
    rc = load_optimizer_vars(s, m, v, g, names + first, n - first, mode == KCB_LOAD_OPTIMIZER_REQUIRE, st);
    if (rc == 1) {
      rc = 0;
      mismatch = 1;
    }
    if (rc) goto done;
  }
  if (mismatch && mode == KCB_LOAD_OPTIMIZER_REQUIRE)
    rc = kcb__error(KCB_ESHAPE, "%s: Skipping variable loading for optimizer '%s', because it has %zu variables whereas the saved optimizer has %zu variables.",
                    s->path, expected_name, v->n_s + 2, n - first);
done:
  free(saved_name);
  kcb__h5_strings_free(names, n);
  kcb__h5_close(g);
  return rc;
}

/* A layer's config entry as it bears on what the model computes: without its names, dtypes,
 * initializers (the weights are loaded), seeds and trainable flag (which layers a fit freezes is the
 * program's choice, as with Keras's load_weights: fine-tuning's second phase unfreezes them). */
static void strip_incidental(json_t *config) {
  const char *key;
  void *tmp;
  json_t *v;
  json_object_foreach_safe(config, tmp, key, v) {
    size_t n = strlen(key);
    if (!strcmp(key, "name") || !strcmp(key, "dtype") || !strcmp(key, "seed") || !strcmp(key, "trainable") ||
        (n > 12 && !strcmp(key + n - 12, "_initializer")))
      json_object_del(config, key);
  }
}

/* Whether a layer only rearranges its input's values (a Flatten before a Dense on flat data is
 * the same model): check_config compares the others. */
static int reshapes_only(const kcb__layer *l) { return l->kind == KCB__FLATTEN || l->kind == KCB__RESHAPE; }

/* The index of the next layer from i on that computes something, or m->n_layers. */
static size_t next_computing(const kcb_model *m, size_t i) {
  while (i < m->n_layers && reshapes_only(&m->layers[i])) i++;
  return i;
}

/* The shape layer i takes, as "(28, 28, 1)". */
static void input_shape_str(const kcb_model *m, size_t i, char *buf, size_t size) {
  if (i == 0) kcb__shape_str(buf, size, m->in_rank, m->in_shape);
  else kcb__shape_str(buf, size, m->layers[i - 1].out_rank, m->layers[i - 1].out_shape);
}

/* A config value as a message shows it: numbers as Python writes them (0.99, not 0.98999999999999999). */
static void config_value_str(json_t *v, char *buf, size_t size) {
  if (!v) {
    kcb__strlcpy(buf, "(none)", size);
  } else if (json_is_real(v)) {
    kcb_format_double(json_real_value(v), buf, size);
  } else {
    char *t = kcb__json_dumps_python(v);
    snprintf(buf, size, "%.200s", t ? t : "?");
    free(t);
  }
}

/* The entries of a config's layer list that stand for the model's layers (the InputLayer left out). */
static json_t *model_layer_entry(json_t *layers, size_t layer) {
  json_t *first = json_array_get(layers, 0);
  const char *cls = json_string_value(json_object_get(first, "class_name"));
  return json_array_get(layers, layer + (cls && !strcmp(cls, "InputLayer")));
}

/* check_config: the model the file describes (a Sequential's config) is the one m is, and one kcb
 * trains as saved; else KCB_EFORMAT naming the first layer and setting that differ. Layers are
 * compared by class, by the shape they take, and by their settings as kcb writes them (so each
 * has one spelling). */
/* *structural (may be NULL) is set when the models differ in their layers' classes or number, not
 * only in a setting. */
static int check_file_model(const kcb_model *m, const kcb__ckpt_source *s, int *structural) {
  if (structural) *structural = 0;
  json_error_t jerr;
  json_t *root = kcb__json_loads_python(s->config, JSON_REJECT_DUPLICATES, &jerr, NULL); /* Python's json may write NaN */
  if (!json_is_object(root)) { /* no model a Keras config describes: whether it is this one is unknown */
    char why[256];
    kcb__json_not_object(root, &jerr, why, sizeof why);
    json_decref(root);
    return kcb__error(KCB_EFORMAT, "%s: the model config %s, so kcb cannot tell whether the file's model is this one",
                      s->path, why);
  }
  const char *cls = json_string_value(json_object_get(root, "class_name"));
  int sequential = cls && !strcmp(cls, "Sequential");
  json_decref(root);
  if (!sequential) return 0; /* another model class: its weights load by position, as Keras loads them */
  kcb_model *saved = NULL;
  char *ours_text = NULL, *theirs_text = NULL;
  json_t *ours = NULL, *theirs = NULL;
  int rc = kcb__model_from_config_json(&saved, s->config, NULL, 0, 0, NULL, s->path);
  if (rc) { /* a layer or setting kcb cannot honour, said naming the layer: no model here can be the file's */
    if (structural && rc != KCB_ENOMEM) *structural = 1;
    return rc;
  }
  KCB__TRY(kcb__model_config_json_legacy(m, &ours_text));
  KCB__TRY(kcb__model_config_json_legacy(saved, &theirs_text));
  ours = json_loads(ours_text, 0, NULL);
  theirs = json_loads(theirs_text, 0, NULL);
  json_t *a = json_object_get(json_object_get(ours, "config"), "layers");
  json_t *b = json_object_get(json_object_get(theirs, "config"), "layers");
  size_t i = next_computing(m, 0), j = next_computing(saved, 0);
  for (; rc == 0 && i < m->n_layers && j < saved->n_layers; i = next_computing(m, i + 1), j = next_computing(saved, j + 1)) {
    const kcb__layer *la = &m->layers[i], *lb = &saved->layers[j];
    const char *ca = kcb__layer_class_name(la->kind), *cb = kcb__layer_class_name(lb->kind);
    if (la->kind != lb->kind) {
      if (structural) *structural = 1;
      rc = kcb__error(KCB_EFORMAT, "%s: layer '%s' is %s %s in the file; this model has %s %s there", s->path, lb->name,
                      strchr("AEIOU", cb[0]) ? "an" : "a", cb, strchr("AEIOU", ca[0]) ? "an" : "a", ca);
      break;
    }
    char sa[96], sb[96];
    input_shape_str(m, i, sa, sizeof sa);
    input_shape_str(saved, j, sb, sizeof sb);
    if (strcmp(sa, sb)) {
      rc = kcb__error(KCB_EFORMAT, "%s: layer '%s' (%s) takes %s in the file, %s in this model", s->path, lb->name, cb, sb, sa);
      break;
    }
    json_t *fa = json_object_get(model_layer_entry(a, i), "config"), *fb = json_object_get(model_layer_entry(b, j), "config");
    strip_incidental(fa);
    strip_incidental(fb);
    const char *key;
    json_t *va;
    json_object_foreach(fa, key, va) {
      json_t *vb = json_object_get(fb, key);
      if (vb && json_equal(va, vb)) continue;
      /* a number the layer computes with in float32 (Rescaling's scale, kept as given): the same
       * float32 written two ways (0.003921569 by an older kcb, 1/255 as given) is the same model */
      if (json_is_real(va) && json_is_number(vb) && (float)json_number_value(va) == (float)json_number_value(vb)) continue;
      char ta[256], tb[256];
      config_value_str(va, ta, sizeof ta);
      config_value_str(vb, tb, sizeof tb);
      rc = kcb__error(KCB_EFORMAT, "%s: layer '%s' (%s) has %s %s in the file, %s in this model", s->path, lb->name, cb, key,
                      tb, ta);
      break;
    }
  }
  if (rc == 0 && (j < saved->n_layers || i < m->n_layers) && structural) *structural = 1;
  if (rc == 0 && j < saved->n_layers)
    rc = kcb__error(KCB_EFORMAT, "%s: the file's model goes on with layer '%s' (%s), which this model does not have",
                    s->path, saved->layers[j].name, kcb__layer_class_name(saved->layers[j].kind));
  else if (rc == 0 && i < m->n_layers)
    rc = kcb__error(KCB_EFORMAT, "%s: this model goes on with a %s (its layer '%s'), which the file's model does not have",
                    s->path, kcb__layer_class_name(m->layers[i].kind), m->layers[i].name);
done:
  json_decref(ours);
  json_decref(theirs);
  free(ours_text);
  free(theirs_text);
  kcb_model_free(saved);
  return rc;
}

/* Reads every weight (and what o asks for) from an open source into m: all or nothing. */
static int load_weights_from(kcb_model *m, const kcb__ckpt_source *src, const kcb_load_options *o) {
  const char *path = src->path;
  staged st = {0};
  model_vars v = {0};
  char **note_keys = NULL; /* a backup's resume notes (kcb_model.notes) */
  size_t n_notes = 0;
  uint64_t *note_values = NULL;
  int rc = 0;
  KCB__TRY(model_vars_make(m, &v));
  size_t n_slots = (size_t)m->opt.n_slots * m->opt.n;
  st.params = malloc((m->n_params ? m->n_params : 1) * sizeof *st.params);
  st.slots = malloc((n_slots ? n_slots : 1) * sizeof *st.slots);
  if (!st.params || !st.slots) {
    rc = kcb__error(KCB_ENOMEM, "out of memory");
    goto done;
  }
  memcpy(st.params, m->params, m->n_params * sizeof *st.params);
  if (n_slots) memcpy(st.slots, m->opt.slots, n_slots * sizeof *st.slots);
  KCB__TRY(source_weights(src));
  rc = src->layout == KCB_LAYOUT_H5 || src->layout == KCB_LAYOUT_LEGACY_WEIGHTS_H5 ? load_legacy_weights(src, m, &v, &st)
                                                                                  : load_store_weights(src, m, &v, &st);
  /* weights that do not fit, of a file whose model has other layers (another class at that place,
   * more or fewer): the config's difference is the clearer message */
  if (rc && rc != KCB_ENOMEM && o->check_config && src->config) {
    char weights_error[512];
    kcb__strlcpy(weights_error, kcb_error_last(), sizeof weights_error);
    int structural, config_rc = check_file_model(m, src, &structural);
    if (config_rc && structural) rc = config_rc;
    else if (config_rc == KCB_EFORMAT) /* Keras's own message, as Keras says it, then the first difference */
      (void)kcb__error(rc, "%s; the models first differ at %s", weights_error, kcb_error_last());
    else (void)kcb__error(rc, "%s", weights_error);
  }
  if (rc) goto done;
  if (o->optimizer != KCB_LOAD_OPTIMIZER_SKIP) KCB__TRY(load_optimizer(src, m, &v, o->optimizer, &st));
  if (o->restore_rng_state && kcb__h5_has_attr(src->file, "kcb_rng_state")) {
    KCB__TRY(kcb__h5_attr_read_uint64s(src->file, "kcb_rng_state", st.rng, N_RNG_WORDS, path));
    /* xoshiro256** never leaves an all-zero state (kcb's seeding never makes one): shuffling would
     * spin forever and every dropout mask would drop everything */
    for (int g = 0; g < N_RNG_WORDS / 4; g++)
      if (!(st.rng[4 * g] | st.rng[4 * g + 1] | st.rng[4 * g + 2] | st.rng[4 * g + 3]))
        KCB__TRY(kcb__error(KCB_EFORMAT, "%s: kcb_rng_state: the %s generator's state is all zeros, which no generator "
                            "reaches: the file is damaged", path, g == 0 ? "initializer" : g == 1 ? "dropout" : "shuffle"));
    st.have_rng = 1;
  }
  double means[2 * (1 + KCB__MAX_METRICS)];
  int have_means = o->restore_rng_state && kcb__h5_has_attr(src->file, "kcb_epoch_means");
  int64_t fit_start = -1; /* absent (Keras's files, kcb's before 0.1's backups kept it): counting from 0 */
  if (o->restore_rng_state && kcb__h5_has_attr(src->file, "kcb_fit_start_iterations"))
    KCB__TRY(kcb__h5_attr_read_int64(src->file, "kcb_fit_start_iterations", &fit_start, path));
  else if (o->restore_rng_state && kcb__h5_has_attr(src->file, "kcb_rng_state"))
    fit_start = 0;
  if (have_means) KCB__TRY(kcb__h5_attr_read_doubles(src->file, "kcb_epoch_means", means, 2 * (1 + KCB__MAX_METRICS), path));
  for (size_t i = 0; have_means && i < 1 + KCB__MAX_METRICS; i++) /* sums and the weight of the batches summed */
    if (!isfinite(means[2 * i]) || !isfinite(means[2 * i + 1]) || means[2 * i + 1] < 0 ||
        (means[2 * i + 1] == 0 && means[2 * i] != 0))
      KCB__TRY(kcb__error(KCB_EFORMAT, "%s: kcb_epoch_means: the running mean %zu is (%g, %g); a total must be finite, its "
                          "count a finite number >= 0, and a total of nothing 0: the file is damaged", path, i, means[2 * i], means[2 * i + 1]));
  int64_t batching[2] = {0, 0}; /* absent before kcb 0.1's backups kept them */
  if (have_means && kcb__h5_has_attr(src->file, "kcb_batch_size") && kcb__h5_has_attr(src->file, "kcb_train_samples")) {
    KCB__TRY(kcb__h5_attr_read_int64(src->file, "kcb_batch_size", &batching[0], path));
    KCB__TRY(kcb__h5_attr_read_int64(src->file, "kcb_train_samples", &batching[1], path));
  }
  int64_t notes_count = -1; /* absent: a backup from before kcb kept notes, or Keras's */
  if (o->restore_rng_state && kcb__h5_has_attr(src->file, "kcb_resume_notes")) {
    KCB__TRY(kcb__h5_attr_read_int64(src->file, "kcb_resume_notes", &notes_count, path));
    if (notes_count < 0)
      KCB__TRY(kcb__error(KCB_EFORMAT, "%s: kcb_resume_notes is %lld, not a count: the file is damaged", path,
                          (long long)notes_count));
  }
  if (notes_count > 0) {
    KCB__TRY(kcb__h5_attr_read_strings(src->file, "kcb_resume_note_keys", &note_keys, &n_notes, path));
    if ((int64_t)n_notes != notes_count)
      KCB__TRY(kcb__error(KCB_EFORMAT, "%s: kcb_resume_note_keys holds %zu names where kcb_resume_notes says %lld: the "
                          "file is damaged", path, n_notes, (long long)notes_count));
    if (!(note_values = malloc((n_notes ? n_notes : 1) * sizeof *note_values)))
      KCB__TRY(kcb__error(KCB_ENOMEM, "%s: out of memory", path));
    KCB__TRY(kcb__h5_attr_read_uint64s(src->file, "kcb_resume_note_values", note_values, n_notes, path));
    for (size_t i = 0; i < n_notes; i++)
      if (note_values[i] > INT64_MAX)
        KCB__TRY(kcb__error(KCB_EFORMAT, "%s: kcb_resume_note_values: %llu (for '%s') is out of range: the file is damaged",
                            path, (unsigned long long)note_values[i], note_keys[i]));
  }
  if (st.have_opt) KCB__TRY(kcb__check_restored_optimizer(st.iterations, st.learning_rate, path));
  if (st.have_opt) KCB__TRY(kcb__check_restored_slots(m->opt.o.kind, st.slots, m->opt.n_slots, m->opt.n, path));
  /* weights that fit, of a model the file describes otherwise: said after Keras's shape messages */
  if (o->check_config && src->config) KCB__TRY(check_file_model(m, src, NULL));
  /* Everything read and checked: commit. */
  memcpy(m->params, st.params, m->n_params * sizeof *st.params);
  if (st.have_opt) {
    if (n_slots) memcpy(m->opt.slots, st.slots, n_slots * sizeof *st.slots);
    m->opt.iterations = st.iterations;
    m->opt.learning_rate = st.learning_rate;
  }
  if (st.have_opt && st.have_loss_scale && m->loss_scale.on) {
    m->loss_scale.own_iterations = st.own_iterations;
    m->loss_scale.step_counter = st.step_counter;
    m->loss_scale.dynamic_scale = st.dynamic_scale;
  }
  m->resume_means = have_means ? 2 : 0; /* BackupAndRestore decides whether a fit takes them */
  m->resume_batch_size = batching[0], m->resume_samples = batching[1];
  if (fit_start >= 0) m->fit_start_iterations = fit_start;
  for (size_t i = 0; have_means && i < 1 + KCB__MAX_METRICS; i++) m->epoch_means[i] = (kcb__mean){means[2 * i], means[2 * i + 1]};
  if (st.have_rng) {
    memcpy(m->init_rng.s, st.rng, 32);
    memcpy(m->dropout_rng.s, st.rng + 4, 32);
    memcpy(m->shuffle_rng.s, st.rng + 8, 32);
  }
  if (notes_count >= 0) {
    kcb__model_notes_clear(m);
    for (size_t i = 0; i < n_notes; i++) (void)kcb__model_note_set(m, note_keys[i], (int64_t)note_values[i]); /* out of memory: as a note lost */
  }
  m->notes_loaded = notes_count >= 0;
done:
  kcb__h5_strings_free(note_keys, n_notes);
  free(note_values);
  free(st.params);
  free(st.slots);
  model_vars_free(&v);
  return rc;
}

int kcb_model_load_weights(kcb_model *m, const char *path, const kcb_load_options *opts) {
  kcb_load_options defaults = KCB_LOAD_OPTIONS_INIT;
  if (!m || !path) return kcb__error(KCB_EINVAL, "load_weights: no model or no path");
  if (!m->compiled || !m->weights_ready) return kcb__error(KCB_ESTATE, "%s: cannot load weights: the model is not compiled", path);
  kcb__ckpt_source s;
  int rc = kcb__ckpt_source_open(&s, path);
  if (rc) return rc;
  rc = load_weights_from(m, &s, opts ? opts : &defaults);
  kcb__ckpt_source_close(&s);
  return rc;
}

/* tf.keras 2 computed hard_sigmoid as clip(0.2 x + 0.5, 0, 1); Keras 3 (and kcb) compute
 * relu6(x + 3) / 6 under the same name, so such a model would predict otherwise than it was trained. */
static int check_keras2_activations(const kcb_model *m, const kcb__ckpt_source *s) {
  const char *v = s->keras_version;
  if (!v || !(v[0] >= '0' && v[0] <= '2' && v[1] == '.')) return 0;
  for (size_t i = 0; i < m->n_layers; i++)
    if (m->layers[i].activation == KCB_ACT_HARD_SIGMOID)
      return kcb__error(KCB_EFORMAT, "%s: layer '%s' uses hard_sigmoid as Keras %s wrote it, clip(0.2 x + 0.5, 0, 1); kcb "
                        "computes Keras 3's hard_sigmoid, relu6(x + 3) / 6, so the model would predict otherwise than "
                        "it was trained", s->path, m->layers[i].name, v);
  return 0;
}

int kcb_model_load(kcb_model **out, const char *path, const kcb_load_options *opts) {
  kcb_load_options defaults = KCB_LOAD_OPTIONS_INIT;
  const kcb_load_options *o = opts ? opts : &defaults;
  if (!out) return kcb__error(KCB_EINVAL, "load: no output pointer");
  *out = NULL;
  kcb__ckpt_source s;
  int rc = kcb__ckpt_source_open(&s, path);
  if (rc) return rc;
  kcb_model *m = NULL;
  if (!s.config) {
    rc = kcb__error(KCB_EFORMAT, "%s: No model config found in the file (a %s file holds weights only; build the model and use kcb_model_load_weights)",
                    path, layout_names[s.layout]);
    goto done;
  }
  int compiled = 0;
  KCB__TRY(kcb__model_from_config_json(&m, s.config, s.training, o->seed, o->compile, &compiled, path));
  KCB__TRY(check_keras2_activations(m, &s));
  kcb_load_options lo = *o;
  if (!compiled && lo.optimizer == KCB_LOAD_OPTIMIZER_IF_PRESENT) lo.optimizer = KCB_LOAD_OPTIMIZER_SKIP;
  if (!m->compiled || !m->weights_ready) /* as kcb_model_load_weights requires */
    KCB__TRY(kcb__error(KCB_ESTATE, "%s: cannot load weights: the model is not compiled", path));
  KCB__TRY(load_weights_from(m, &s, &lo));
  *out = m;
  m = NULL;
done:
  kcb_model_free(m);
  kcb__ckpt_source_close(&s);
  return rc;
}

/* ---- checkpoint info ---------------------------------------------------------------------- */

int kcb_checkpoint_config_read(const char *path, char **out_json) {
  if (!out_json) return kcb__error(KCB_EINVAL, "checkpoint config: no output");
  *out_json = NULL;
  kcb__ckpt_source s;
  int rc = kcb__ckpt_source_open(&s, path);
  if (rc) return rc;
  *out_json = s.config; /* taken over from the source */
  s.config = NULL;
  kcb__ckpt_source_close(&s);
  return 0;
}

int kcb_checkpoint_info_read(kcb_checkpoint_info *out, const char *path) {
  if (!out) return kcb__error(KCB_EINVAL, "checkpoint info: no output");
  memset(out, 0, sizeof *out);
  out->iterations = out->epoch = out->batch = -1;
  kcb_checkpoint_file *f;
  int rc = kcb_checkpoint_file_open(&f, path);
  if (rc) return rc;
  const kcb_checkpoint_meta *m = kcb_checkpoint_file_meta(f);
  out->layout = m->layout;
  for (size_t i = 0; i < kcb_checkpoint_file_layer_count(f); i++) {
    const kcb_checkpoint_layer *l = kcb_checkpoint_file_layer(f, i);
    out->n_layers += l->parent < 0 && l->n_params > 0;
  }
  out->n_weights = m->n_model_vars;
  out->n_params = m->n_params;
  out->has_config = m->model_config != NULL;
  out->has_training_config = m->training_config != NULL;
  out->n_optimizer_vars = m->n_optimizer_vars;
  out->iterations = m->iterations;
  out->has_monitor = m->has_monitor;
  kcb__strlcpy(out->monitor, m->monitor, sizeof out->monitor);
  out->monitor_value = m->monitor_value;
  out->epoch = m->epoch;
  out->batch = m->batch;
  kcb__strlcpy(out->kcb_version, m->kcb_version, sizeof out->kcb_version);
  kcb__strlcpy(out->keras_version, m->keras_version, sizeof out->keras_version);
  kcb_checkpoint_file_close(f);
  /* epoch, batch and iterations from a file are checked as kcb-restore will use them */
  return kcb__check_restored_info(out, path);
}
