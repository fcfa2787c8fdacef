/* model/model.c — building a Sequential model, its parameter block, forward and backward passes. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/bounds.h"
#include "model/model_internal.h"

static const char *const kind_names[KCB__KIND_COUNT][2] = {
    {"Dense", "dense"},
    {"Activation", "activation"},
    {"Dropout", "dropout"},
    {"Flatten", "flatten"},
    {"Conv1D", "conv1d"},
    {"Conv2D", "conv2d"},
    {"MaxPooling1D", "max_pooling1d"},
    {"MaxPooling2D", "max_pooling2d"},
    {"AveragePooling1D", "average_pooling1d"},
    {"AveragePooling2D", "average_pooling2d"},
    {"GlobalMaxPooling1D", "global_max_pooling1d"},
    {"GlobalMaxPooling2D", "global_max_pooling2d"},
    {"GlobalAveragePooling1D", "global_average_pooling1d"},
    {"GlobalAveragePooling2D", "global_average_pooling2d"},
    {"BatchNormalization", "batch_normalization"},
    {"LayerNormalization", "layer_normalization"},
    {"Reshape", "reshape"},
    {"ZeroPadding2D", "zero_padding2d"},
    {"SpatialDropout2D", "spatial_dropout2d"},
    {"Rescaling", "rescaling"},
};

const char *kcb__layer_class_name(kcb__layer_kind kind) {
  return (unsigned)kind < KCB__KIND_COUNT ? kind_names[kind][0] : "unknown";
}
const char *kcb__layer_base_name(kcb__layer_kind kind) {
  return (unsigned)kind < KCB__KIND_COUNT ? kind_names[kind][1] : "unknown";
}

int kcb_model_new(kcb_model **out, int rank, const int64_t *input_shape, uint64_t seed) {
  if (!out) return kcb__error(KCB_EINVAL, "kcb_model_new: out is NULL");
  *out = NULL;
  if (!input_shape) return kcb__error(KCB_EINVAL, "kcb_model_new: the input shape is NULL");
  if (rank < 1 || rank >= KCB_MAX_RANK)
    return kcb__error(KCB_EINVAL, "input shape must have 1 to %d dimensions, got %d", KCB_MAX_RANK - 1, rank);
  for (int i = 0; i < rank; i++)
    if (input_shape[i] <= 0) return kcb__error(KCB_EINVAL, "input dimension %d must be positive, got %lld", i, (long long)input_shape[i]);
  int64_t in_size;
  int rc = kcb__check_values(input_shape, rank, "input shape", &in_size); /* overflow-safe, bounded */
  if (rc) return rc;
  kcb_model *m = calloc(1, sizeof *m);
  if (!m) return kcb__error(KCB_ENOMEM, "out of memory creating a model");
  m->in_rank = rank;
  m->in_size = in_size;
  for (int i = 0; i < rank; i++) m->in_shape[i] = input_shape[i];
  m->seed = seed;
  kcb__strlcpy(m->name, "sequential", sizeof m->name);
  kcb__strlcpy(m->input_name, "input_layer", sizeof m->input_name);
  /* Separate streams, so adding dropout does not change the initial weights, etc. */
  kcb__rng_seed(&m->init_rng, seed);
  kcb__rng_seed(&m->dropout_rng, seed ^ 0x5851f42d4c957f2dULL);
  kcb__rng_seed(&m->shuffle_rng, seed ^ 0x14057b7ef767814fULL);
  *out = m;
  return 0;
}

/* Shape of what the last layer outputs (the model's input when there is none). */
void kcb__model_current_shape(const kcb_model *m, int *rank, int64_t *shape) {
  if (m->n_layers == 0) {
    *rank = m->in_rank;
    memcpy(shape, m->in_shape, sizeof m->in_shape);
  } else {
    const kcb__layer *l = &m->layers[m->n_layers - 1];
    *rank = l->out_rank;
    memcpy(shape, l->out_shape, sizeof l->out_shape);
  }
}

void kcb__dropout_mask(kcb__rng *rng, float rate, float *mask, int64_t n) {
  kcb__rng_keep_mask(rng, (double)rate, 1.0f / (1.0f - rate), mask, n);
}

int kcb__size_within(int64_t *out, const int64_t *dims, int n, int64_t cap) {
  int64_t p = 1;
  for (int i = 0; i < n; i++) {
    if (dims[i] <= 0 || dims[i] > cap || p > cap / dims[i]) return -1;
    p *= dims[i];
  }
  *out = p;
  return 0;
}

int kcb__model_append_layer(kcb_model *m, kcb__layer_kind kind, const char *name, kcb__layer **out) {
  if (!m) return kcb__error(KCB_EINVAL, "adding a %s layer: the model is NULL", kcb__layer_class_name(kind));
  if (m->compiled) return kcb__error(KCB_ESTATE, "cannot add a layer after compile");
  if (m->n_layers == m->cap_layers) {
    size_t cap = m->cap_layers ? 2 * m->cap_layers : 8;
    kcb__layer *grown = realloc(m->layers, cap * sizeof *grown);
    if (!grown) return kcb__error(KCB_ENOMEM, "out of memory adding a layer");
    m->layers = grown;
    m->cap_layers = cap;
  }
  kcb__layer *l = &m->layers[m->n_layers];
  memset(l, 0, sizeof *l);
  l->kind = kind;
  kcb__model_current_shape(m, &l->out_rank, l->out_shape);
  l->in_width = l->out_shape[l->out_rank - 1];
  if (name) {
    if (strlen(name) == 0 || strlen(name) >= sizeof l->name)
      return kcb__error(KCB_EINVAL, "layer name '%s' is empty or too long", name);
    if (strchr(name, '/')) /* it separates the parts of variable paths and HDF5 groups */
      return kcb__error(KCB_EINVAL, "layer name '%s' contains '/', which Keras does not allow in names", name);
    for (size_t i = 0; i < m->n_layers; i++)
      if (strcmp(m->layers[i].name, name) == 0)
        return kcb__error(KCB_EINVAL, "layer name '%s' is already layer %zu's; names must be unique", name, i);
    if (strcmp(m->input_name, name) == 0) /* Keras's Sequential counts its InputLayer among the names */
      return kcb__error(KCB_EINVAL, "layer name '%s' is the InputLayer's; names must be unique", name);
    kcb__strlcpy(l->name, name, sizeof l->name);
  } else {
    /* Keras numbers only the layers it names itself (a name the caller chose takes no number) */
    if (m->name_counts[kind] == 0) kcb__strlcpy(l->name, kcb__layer_base_name(kind), sizeof l->name);
    else snprintf(l->name, sizeof l->name, "%s_%d", kcb__layer_base_name(kind), m->name_counts[kind]);
    for (size_t i = 0; i < m->n_layers && !m->renaming; i++) /* as Sequential.add, which refuses the second one */
      if (strcmp(m->layers[i].name, l->name) == 0)
        return kcb__error(KCB_EINVAL,
                          "the new %s layer's automatic name '%s' is already layer %zu's; names must be unique "
                          "(give that layer, or this one, a name of its own)",
                          kcb__layer_class_name(kind), l->name, i);
    m->name_counts[kind]++;
  }
  *out = l;
  return 0;
}

void kcb__model_finish_layer(kcb_model *m, kcb__layer *l) {
  l->out_width = l->out_shape[l->out_rank - 1];
  l->out_size = 1;
  for (int i = 0; i < l->out_rank; i++) l->out_size *= l->out_shape[i];
  m->n_layers++;
}

/* A new layer l: its output per sample and the model's parameter count (the variables of the
 * layers so far and of l, plus `extra` for a Dense layer whose variables are not set yet) stay
 * within kcb_max_params (sizes come from files and flags). */
static int layer_size_check(const kcb_model *m, const kcb__layer *l, uint64_t extra) {
  char what[KCB__NAME_MAX + 96];
  snprintf(what, sizeof what, "layer '%s': output shape", l->name);
  int64_t out;
  int rc = kcb__check_values(l->out_shape, l->out_rank, what, &out);
  if (rc) return rc;
  uint64_t total = extra;
  for (size_t i = 0; i <= m->n_layers; i++) { /* the layers so far, then l (not yet counted in n_layers) */
    const kcb__layer *x = i < m->n_layers ? &m->layers[i] : l;
    for (int v = 0; v < x->n_vars; v++)
      if (__builtin_add_overflow(total, (uint64_t)x->vars[v].size, &total)) total = UINT64_MAX;
  }
  if (l->kind == KCB__DENSE) /* the sizes that make it large, as the user gave them */
    snprintf(what, sizeof what, "layer '%s' (Dense, %lld x %d)", l->name, (long long)l->in_width, l->dense.units);
  else
    snprintf(what, sizeof what, "layer '%s' (%s)", l->name, kcb__layer_class_name(l->kind));
  return kcb__check_params(total, what);
}

int kcb__model_check_layer(const kcb_model *m, const kcb__layer *l) { return layer_size_check(m, l, 0); }

int kcb_model_add_dense(kcb_model *m, const kcb_dense_options *opts) {
  if (!opts) return kcb__error(KCB_EINVAL, "Dense needs options, got NULL");
  if (opts->units <= 0) return kcb__error(KCB_EINVAL, "Dense needs units > 0, got %d", opts->units);
  if ((unsigned)opts->activation >= KCB_ACT_COUNT || (unsigned)opts->kernel_initializer >= KCB_INIT_COUNT ||
      (unsigned)opts->bias_initializer >= KCB_INIT_COUNT)
    return kcb__error(KCB_EINVAL, "Dense: unknown activation or initializer");
  kcb__layer *l = NULL;
  int rc = kcb__model_append_layer(m, KCB__DENSE, opts->name, &l);
  if (rc) return rc;
  l->dense = *opts;
  l->dense.name = NULL;
  l->activation = opts->activation;
  l->out_shape[l->out_rank - 1] = opts->units;
  if ((rc = layer_size_check(m, l, kcb__params_add(0, l->in_width, opts->units))) != 0) return rc;
  l->n_vars = opts->use_bias ? 2 : 1;
  l->vars[0] = (kcb__var){"kernel", 2, {l->in_width, opts->units}, (size_t)(l->in_width * opts->units), 0, 1,
                          opts->kernel_initializer, l->in_width, opts->units};
  l->vars[1] = (kcb__var){"bias", 1, {opts->units}, (size_t)opts->units, 0, 1, opts->bias_initializer, l->in_width, opts->units};
  kcb__model_finish_layer(m, l);
  return 0;
}

int kcb_model_add_activation(kcb_model *m, kcb_activation activation) {
  if ((unsigned)activation >= KCB_ACT_COUNT) return kcb__error(KCB_EINVAL, "unknown activation %d", (int)activation);
  kcb__layer *l = NULL;
  int rc = kcb__model_append_layer(m, KCB__ACTIVATION, NULL, &l);
  if (rc) return rc;
  l->activation = activation;
  kcb__model_finish_layer(m, l);
  return 0;
}

int kcb_model_add_dropout(kcb_model *m, float rate) {
  if (!(rate >= 0.0f && rate < 1.0f)) return kcb__error(KCB_EINVAL, "Dropout rate must be in [0, 1), got %g", (double)rate);
  kcb__layer *l = NULL;
  int rc = kcb__model_append_layer(m, KCB__DROPOUT, NULL, &l);
  if (rc) return rc;
  l->rate = rate;
  kcb__model_finish_layer(m, l);
  return 0;
}

int kcb_model_add_flatten(kcb_model *m) {
  kcb__layer *l = NULL;
  int rc = kcb__model_append_layer(m, KCB__FLATTEN, NULL, &l);
  if (rc) return rc;
  int64_t n = 1;
  for (int i = 0; i < l->out_rank; i++) n *= l->out_shape[i];
  l->out_rank = 1;
  l->out_shape[0] = n;
  kcb__model_finish_layer(m, l);
  return 0;
}

/* ---- parameters ------------------------------------------------------------------------ */

static void init_weights(kcb__rng *rng, kcb_initializer init, float *w, size_t n, int64_t fan_in, int64_t fan_out) {
  for (size_t i = 0; i < n; i++) {
    double v = 0;
    switch (init) {
      case KCB_INIT_GLOROT_UNIFORM: {
        double limit = sqrt(6.0 / (double)(fan_in + fan_out));
        v = (2 * kcb__rng_uniform(rng) - 1) * limit;
        break;
      }
      case KCB_INIT_HE_UNIFORM: {
        double limit = sqrt(6.0 / (double)fan_in);
        v = (2 * kcb__rng_uniform(rng) - 1) * limit;
        break;
      }
      case KCB_INIT_HE_NORMAL: {
        /* VarianceScaling(2, fan_in, truncated_normal): resample beyond 2 stddev; the constant
         * corrects the truncation's loss of variance, as Keras does. */
        double stddev = sqrt(2.0 / (double)fan_in) / 0.87962566103423978;
        do v = kcb__rng_normal(rng); while (fabs(v) > 2.0);
        v *= stddev;
        break;
      }
      case KCB_INIT_RANDOM_NORMAL: v = 0.05 * kcb__rng_normal(rng); break;
      case KCB_INIT_ONES: v = 1; break;
      default: v = 0; break;
    }
    w[i] = (float)v;
  }
}

/* The optimizer's parameter ranges: the variables that train, adjacent ones as one run (a model
 * without moving statistics or frozen layers has one). train_runs holds a run per variable. */
static void set_train_runs(kcb_model *m) {
  m->n_train_runs = 0;
  for (size_t i = 0; i < m->n_layers; i++)
    for (int v = 0; v < m->layers[i].n_vars; v++) {
      const kcb__var *var = &m->layers[i].vars[v];
      if (!kcb__var_trains(&m->layers[i], var)) continue;
      size_t *last = m->n_train_runs ? m->train_runs[m->n_train_runs - 1] : NULL;
      if (last && last[0] + last[1] == var->offset) last[1] += var->size;
      else {
        m->train_runs[m->n_train_runs][0] = var->offset;
        m->train_runs[m->n_train_runs++][1] = var->size;
      }
    }
  m->opt.runs = m->train_runs;
  m->opt.n_runs = m->n_train_runs;
}

int kcb_model_set_layer_trainable(kcb_model *m, size_t i, int trainable) {
  KCB__MODEL_GIVEN(m, "set_layer_trainable");
  if (i >= m->n_layers) return kcb__error(KCB_EINVAL, "layer index %zu out of range (the model has %zu)", i, m->n_layers);
  m->layers[i].frozen = !trainable;
  if (m->compiled) set_train_runs(m);
  return 0;
}

int kcb_model_layer_trainable(const kcb_model *m, size_t i) { return m && i < m->n_layers && !m->layers[i].frozen; }

int kcb_model_compile(kcb_model *m, const kcb_compile_options *opts) {
  KCB__MODEL_GIVEN(m, "compile");
  if (!opts) return kcb__error(KCB_EINVAL, "compile needs options");
  if (m->n_layers == 0) return kcb__error(KCB_ESTATE, "cannot compile a model with no layers");
  int blas_rc = kcb__blas_load();
  if (blas_rc) return blas_rc;
  if ((unsigned)opts->loss >= KCB_LOSS_COUNT) return kcb__error(KCB_EINVAL, "unknown loss %d", (int)opts->loss);
  if (opts->n_metrics > KCB__MAX_METRICS) return kcb__error(KCB_EINVAL, "at most %d metrics, got %zu", KCB__MAX_METRICS, opts->n_metrics);
  if (opts->n_metrics && !opts->metrics)
    return kcb__error(KCB_EINVAL, "compile: %zu metrics given, but the metrics array is NULL", opts->n_metrics);
  for (size_t i = 0; i < opts->n_metrics; i++) {
    if ((unsigned)opts->metrics[i] >= KCB_METRIC_COUNT) return kcb__error(KCB_EINVAL, "unknown metric %d", (int)opts->metrics[i]);
    const char *name = opts->metric_names && opts->metric_names[i] ? opts->metric_names[i] : kcb_metric_name(opts->metrics[i]);
    if (strlen(name) == 0 || strlen(name) >= sizeof m->metric_names[0] - 4 || strcmp(name, "loss") == 0)
      return kcb__error(KCB_EINVAL, "metric name '%s' is empty, too long or 'loss'", name);
  }
  if (!m->weights_ready) {
    size_t n = 0, runs = 0;
    for (size_t i = 0; i < m->n_layers; i++)
      for (int v = 0; v < m->layers[i].n_vars; v++) {
        kcb__var *var = &m->layers[i].vars[v];
        var->offset = n;
        n += var->size;
        runs++;
      }
    const size_t half = kcb__floats_to_line(n ? n : 1); /* the gradients start on a cache line too */
    float *block = kcb__alloc_floats(2 * half);
    if (block) memset(block, 0, 2 * half * sizeof *block);
    size_t(*train_runs)[2] = calloc(runs ? runs : 1, sizeof *train_runs);
    if (!block || !train_runs) {
      free(block);
      free(train_runs);
      return kcb__error(KCB_ENOMEM, "out of memory for %zu parameters", n);
    }
    m->params = block;
    m->grads = block + half;
    m->n_params = n;
    m->train_runs = train_runs;
    for (size_t i = 0; i < m->n_layers; i++) {
      kcb__layer *l = &m->layers[i];
      for (int v = 0; v < l->n_vars; v++) {
        kcb__var *var = &l->vars[v];
        init_weights(&m->init_rng, var->init, m->params + var->offset, var->size, var->fan_in, var->fan_out);
      }
      if (l->kind == KCB__DENSE) {
        l->kernel_offset = l->vars[0].offset;
        l->bias_offset = l->vars[1].offset;
      }
    }
    m->weights_ready = 1;
  }
  int rc = kcb__optimizer_init(&m->opt, &opts->optimizer, m->n_params);
  if (rc) return rc;
  if (!m->loss_scale.on && strcmp(m->dtype_policy, "mixed_float16") == 0) /* Keras's compile wraps the optimizer */
    m->loss_scale = (struct kcb__loss_scale){.on = 1, .initial_scale = 32768.0, .growth_steps = 2000, .dynamic_scale = 32768.0f};
  set_train_runs(m);
  m->loss = opts->loss;
  /* the crossentropies' setting: Keras's MeanSquaredError and MeanAbsoluteError take none, and a
   * file saying from_logits for them would not load there */
  m->from_logits = opts->from_logits != 0 && opts->loss != KCB_LOSS_MEAN_SQUARED_ERROR &&
                   opts->loss != KCB_LOSS_MEAN_ABSOLUTE_ERROR;
  m->n_metrics = opts->n_metrics;
  for (size_t i = 0; i < opts->n_metrics; i++) {
    m->metrics[i] = m->metric_impl[i] = opts->metrics[i];
    kcb__strlcpy(m->metric_names[i],
                 opts->metric_names && opts->metric_names[i] ? opts->metric_names[i] : kcb_metric_name(opts->metrics[i]),
                 sizeof m->metric_names[i]);
  }
  m->compiled = 1;
  m->compile_implicit = 0;
  return 0;
}

/* ---- workspace, forward, backward -------------------------------------------------------- */



/* The floats layer l needs for a batch; with p, also points its buffers there (in that order). */
static int64_t layer_buffers(kcb__layer *l, int64_t batch, float *p) {
  int64_t used = 0;
#define TAKE(field, type, n)                      \
  do {                                            \
    if (p) l->field = (type *)(void *)(p + used); \
    used += kcb__floats_to_line((size_t)(n));     \
  } while (0)
  int64_t channels = l->out_shape[l->out_rank - 1];
  switch (l->kind) {
    case KCB__FLATTEN:
    case KCB__RESHAPE:
      break;
    case KCB__DENSE:
    case KCB__CONV1D:
    case KCB__CONV2D:
      TAKE(out, float, l->out_size * batch);
      if (kcb__activation_needs_pre(l->activation)) TAKE(pre, float, l->out_size * batch);
      TAKE(col, float, kcb__conv_kept_col_size(l, batch));
      break;
    case KCB__DROPOUT:
      TAKE(out, float, l->out_size * batch);
      TAKE(mask, float, l->out_size * batch);
      break;
    case KCB__RESCALING:
      TAKE(out, float, l->out_size * batch);
      break;
    case KCB__SPATIAL_DROPOUT2D:
      TAKE(out, float, l->out_size * batch);
      TAKE(mask, float, channels * batch);
      break;
    case KCB__BATCH_NORMALIZATION:
    case KCB__LAYER_NORMALIZATION: {
      TAKE(out, float, l->out_size * batch);
      if (l->kind == KCB__LAYER_NORMALIZATION) {
        TAKE(xhat, float, l->out_size * batch);
        TAKE(inv_std, float, batch * (l->out_size / channels));
        TAKE(stat, float, 2 * channels); /* dgamma's and dbeta's sums */
      } else { /* backward recomputes xhat from the input; stat holds the mean and per-channel scratch */
        TAKE(inv_std, float, channels);
        TAKE(stat, float, 6 * channels);
      }
      break;
    }
    default:
      TAKE(out, float, l->out_size * batch);
      if (kcb__pool_needs_flags(l)) TAKE(taken, int32_t, l->out_size * batch);
      if (kcb__pool_records_winners(l)) TAKE(winner, int32_t, l->out_size * batch);
      break;
  }
#undef TAKE
  return used;
}

int kcb__model_reserve_workspace(kcb_model *m, int64_t batch, int64_t y_size) {
  if (batch <= m->ws_batch && y_size <= m->y_size_ws) return 0;
  if (batch < m->ws_batch) batch = m->ws_batch;
  if (y_size < m->y_size_ws) y_size = m->y_size_ws;
  int64_t widest = m->in_size, total = 0;
  size_t col = 0;
  for (size_t i = 0; i < m->n_layers; i++) {
    kcb__layer *l = &m->layers[i];
    if (l->out_size > widest) widest = l->out_size;
    if (l->kind == KCB__CONV1D || l->kind == KCB__CONV2D) { /* first: it decides the layer's own buffers */
      size_t c = kcb__conv_col_size(l, batch);
      if (c > col) col = c;
    }
    total += layer_buffers(l, batch, NULL);
  }
  /* after the layers' buffers: the batch's x and y, then two gradient buffers, each on its own lines */
  const size_t x_floats = kcb__floats_to_line((size_t)(m->in_size * batch)),
               y_floats = kcb__floats_to_line((size_t)(y_size * batch)),
               grad_floats = kcb__floats_to_line((size_t)(widest * batch));
  total += (int64_t)(x_floats + y_floats + 2 * grad_floats);
  float *ws = kcb__alloc_floats((size_t)total);
  float *col_buf = col ? kcb__alloc_floats(col) : NULL;
  if (!ws || (col && !col_buf)) {
    free(ws);
    free(col_buf);
    return kcb__error(KCB_ENOMEM, "out of memory for a batch of %lld (%lld floats)", (long long)batch, (long long)total);
  }
  free(m->ws);
  free(m->col);
  m->ws = ws;
  m->last_pred = m->last_y = NULL, m->last_count = 0; /* they pointed into the old workspace */
  m->col = col_buf;
  m->col_size = col;
  m->ws_batch = batch;
  m->y_size_ws = y_size;
  float *p = ws;
  for (size_t i = 0; i < m->n_layers; i++) {
    kcb__layer *l = &m->layers[i];
    l->out = l->pre = l->mask = l->xhat = l->inv_std = l->stat = l->col = NULL;
    l->taken = NULL;
    l->winner = NULL;
    p += layer_buffers(l, batch, p);
  }
  m->x_batch = p;
  m->y_batch = m->x_batch + x_floats;
  m->grad_a = m->y_batch + y_floats;
  m->grad_b = m->grad_a + grad_floats;
  return 0;
}

const kcb__layer *kcb__model_output_layer(const kcb_model *m) { return &m->layers[m->n_layers - 1]; }

/* out = x * mask over the pool's threads (dropout; out may be x). */
typedef struct multiply_job {
  const float *x, *mask;
  float *out;
} multiply_job;

static void multiply_part(void *ctx, int part, int64_t begin, int64_t end) {
  const multiply_job *j = ctx;
  (void)part;
  for (int64_t i = begin; i < end; i++) j->out[i] = j->x[i] * j->mask[i];
}

static void multiply(const float *x, const float *mask, float *out, int64_t n) {
  multiply_job j = {x, mask, out};
  kcb__parallel(n, 16384, 16, multiply_part, &j);
}

const float *kcb__model_forward(kcb_model *m, const float *input, int64_t batch, int training) {
  const float *x = input;
  for (size_t i = 0; i < m->n_layers; i++) {
    kcb__layer *l = &m->layers[i];
    int64_t rows = batch * (l->out_size / l->out_width);
    l->in = x;
    l->y = l->out;
    switch (l->kind) {
      case KCB__DENSE: {
        int units = l->dense.units;
        float *dst = l->pre ? l->pre : l->out;
        kcb__sgemm(0, 0, (int)rows, units, (int)l->in_width, 1.0f, x, m->params + l->kernel_offset, 0.0f, dst);
        kcb__bias_activation_forward(l->activation, l->dense.use_bias ? m->params + l->bias_offset : NULL, dst, l->out, rows,
                                     units);
        break;
      }
      case KCB__ACTIVATION:
        kcb__activation_forward(l->activation, x, l->out, rows, l->out_width);
        break;
      case KCB__DROPOUT:
        l->dropout_active = training && l->rate > 0;
        if (l->dropout_active) {
          kcb__dropout_mask(&m->dropout_rng, l->rate, l->mask, rows * l->out_width);
          multiply(x, l->mask, l->out, rows * l->out_width);
        } else {
          l->y = x;
        }
        break;
      case KCB__FLATTEN:
      case KCB__RESHAPE:
        l->y = x;
        break;
      case KCB__RESCALING:
        kcb__rescaling_forward(l, x, rows * l->out_width);
        break;
      case KCB__CONV1D:
      case KCB__CONV2D:
        kcb__conv_forward(m, l, x, batch);
        break;
      case KCB__BATCH_NORMALIZATION:
      case KCB__LAYER_NORMALIZATION:
        /* fit's BatchNormalization and a tiled max pooling after it stream the batch once */
        l->norm_fused_pool = training && !m->no_fusion && l->kind == KCB__BATCH_NORMALIZATION && i + 1 < m->n_layers &&
                             kcb__pool_records_winners(&m->layers[i + 1]) && l->in_width <= KCB__FUSED_POOL_MAX_CHANNELS;
        kcb__norm_forward(m, l, x, batch, training);
        break;
      case KCB__ZERO_PADDING2D:
        kcb__zero_padding_forward(l, x, l->out, batch);
        break;
      case KCB__SPATIAL_DROPOUT2D:
        kcb__spatial_dropout_forward(m, l, x, batch, training);
        break;
      default:
        if (i > 0 && m->layers[i - 1].norm_fused_pool) kcb__pool_forward_after_norm(l, &m->layers[i - 1], batch);
        else kcb__pool_forward(l, x, batch);
        break;
    }
    x = l->y;
  }
  return x;
}

static int has_trainable(const kcb__layer *l) {
  for (int v = 0; v < l->n_vars; v++)
    if (kcb__var_trains(l, &l->vars[v])) return 1;
  return 0;
}

/* Layers below the first one with trainable variables need no gradient, unless a test asks for
 * dL/dinput. */
static size_t first_in_backward(const kcb_model *m) {
  if (m->want_input_grad) return 0;
  for (size_t i = 0; i < m->n_layers; i++)
    if (has_trainable(&m->layers[i])) return i;
  return m->n_layers;
}

static int needs_dx(const kcb_model *m, size_t first, size_t i) { return i >= first && (i > first || m->want_input_grad); }

int kcb__model_backward_needs_dx(const kcb_model *m, size_t i) { return needs_dx(m, first_in_backward(m), i); }

void kcb__model_backward(kcb_model *m, int64_t batch) {
  const size_t first = first_in_backward(m);
  float *g = m->grad_a, *spare = m->grad_b, *t;
  for (size_t i = m->n_layers; i-- > first;) {
    kcb__layer *l = &m->layers[i];
    int64_t rows = batch * (l->out_size / l->out_width);
    int need_dx = needs_dx(m, first, i);
    switch (l->kind) {
      case KCB__DENSE: {
        int units = l->dense.units, in_width = (int)l->in_width;
        kcb__activation_bias_backward(l->activation, l->pre, l->out, g, l->dense.use_bias ? m->grads + l->bias_offset : NULL,
                                      rows, units);
        kcb__sgemm(1, 0, in_width, units, (int)rows, 1.0f, l->in, g, 0.0f, m->grads + l->kernel_offset);
        if (need_dx) {
          kcb__sgemm(0, 1, (int)rows, in_width, units, 1.0f, g, m->params + l->kernel_offset, 0.0f, spare);
          t = g, g = spare, spare = t;
        }
        break;
      }
      case KCB__ACTIVATION:
        kcb__activation_backward(l->activation, l->in, l->out, g, rows, l->out_width);
        break;
      case KCB__DROPOUT:
        if (l->dropout_active) multiply(g, l->mask, g, rows * l->out_width);
        break;
      case KCB__RESCALING:
        kcb__rescaling_backward(l, g, rows * l->out_width);
        break;
      case KCB__FLATTEN:
      case KCB__RESHAPE:
        break;
      case KCB__CONV1D:
      case KCB__CONV2D:
        kcb__conv_backward(m, l, g, need_dx ? spare : NULL, batch);
        if (need_dx) t = g, g = spare, spare = t;
        break;
      case KCB__BATCH_NORMALIZATION:
      case KCB__LAYER_NORMALIZATION:
        if (l->norm_fused_pool) { /* g is the pooling's gradient (which the pooling left as it was) */
          kcb__norm_backward(m, l, &m->layers[i + 1], g, need_dx ? spare : NULL, batch);
          if (need_dx) t = g, g = spare, spare = t;
        } else {
          kcb__norm_backward(m, l, NULL, g, need_dx ? g : NULL, batch);
        }
        break;
      case KCB__ZERO_PADDING2D:
        if (need_dx) {
          kcb__zero_padding_backward(l, g, spare, batch);
          t = g, g = spare, spare = t;
        }
        break;
      case KCB__SPATIAL_DROPOUT2D:
        kcb__spatial_dropout_backward(l, g, batch);
        break;
      default:
        if (need_dx && !(i > 0 && m->layers[i - 1].norm_fused_pool)) { /* fused: the BatchNormalization below routes g */
          kcb__pool_backward(l, g, spare, batch);
          t = g, g = spare, spare = t;
        }
        break;
    }
    if (m->update_in_backward) /* layer i's weights are done with: below it only its gradient was needed */
      for (int v = 0; v < l->n_vars; v++)
        if (kcb__var_trains(l, &l->vars[v])) kcb__optimizer_update(&m->opt, m->params, m->grads, l->vars[v].offset, l->vars[v].size);
  }
  m->input_grad = m->want_input_grad ? g : NULL;
}

/* ---- what callbacks and tools read ----------------------------------------------------- */

void kcb_model_set_stop_training(kcb_model *m, int stop) {
  if (m) m->stop_training = stop != 0;
}
int kcb_model_stop_training(const kcb_model *m) { return m ? m->stop_training : 0; }
void kcb_model_request_stop(kcb_model *m) {
  if (m) m->stop_requested = 1;
}
int kcb_model_interrupted(const kcb_model *m) { return m ? m->interrupted : 0; }
void kcb_model_set_stop_evaluating(kcb_model *m, int stop) {
  if (m) m->stop_evaluating = stop != 0;
}
void kcb_model_set_stop_predicting(kcb_model *m, int stop) {
  if (m) m->stop_predicting = stop != 0;
}
double kcb_model_learning_rate(const kcb_model *m) { return m ? (double)m->opt.learning_rate : 0.0; }

int kcb_model_set_learning_rate(kcb_model *m, double lr) {
  KCB__MODEL_GIVEN(m, "set_learning_rate");
  if (!m->compiled) return kcb__error(KCB_ESTATE, "set_learning_rate: the model is not compiled");
  if (!(lr >= 0) || !(lr <= FLT_MAX))
    return kcb__error(KCB_EINVAL, "learning rate must be a finite number >= 0 that float32 holds, got %g", lr);
  m->opt.learning_rate = (float)lr;
  return 0;
}

int64_t kcb_model_iterations(const kcb_model *m) { return m ? m->opt.iterations : 0; }

void kcb_model_set_profiler(kcb_model *m, kcb_profiler *profiler) {
  if (m) m->profiler = profiler;
}

kcb_profiler *kcb_model_profiler(const kcb_model *m) { return m ? m->profiler : NULL; }

int kcb_model_last_batch(const kcb_model *m, kcb_tensor *predictions, kcb_tensor *targets) {
  KCB__MODEL_GIVEN(m, "kcb_model_last_batch");
  if (!m->last_pred || !m->last_count)
    return kcb__error(KCB_ESTATE, "kcb_model_last_batch: no batch has run yet");
  const kcb__layer *o = kcb__model_output_layer(m);
  int64_t shape[KCB_MAX_RANK];
  shape[0] = m->last_count;
  memcpy(shape + 1, o->out_shape, (size_t)o->out_rank * sizeof shape[0]);
  if (predictions) *predictions = kcb_tensor_view((float *)m->last_pred, o->out_rank + 1, shape);
  /* the targets as check_data accepted them: class indices for the sparse loss, else outputs */
  int64_t y_size = kcb__loss_is_sparse(m->loss) ? o->out_size / o->out_width : o->out_size;
  int64_t yshape[2] = {m->last_count, y_size};
  if (targets) *targets = kcb_tensor_view((float *)m->last_y, y_size == 1 ? 1 : 2, yshape);
  return 0;
}
int kcb_model_set_iterations(kcb_model *m, int64_t iterations) {
  if (!m) return kcb__error(KCB_EINVAL, "kcb_model_set_iterations: m is NULL");
  /* what the checkpoint readers accept: Adam's step count would otherwise wrap or go negative (NaN) */
  if (iterations < 0 || iterations > ((int64_t)1 << 53))
    return kcb__error(KCB_EINVAL, "kcb_model_set_iterations: %lld is not a count from 0 to 2^53", (long long)iterations);
  m->opt.iterations = iterations;
  return 0;
}

size_t kcb_model_weight_count(const kcb_model *m) {
  size_t n = 0;
  for (size_t i = 0; m && i < m->n_layers; i++) n += (size_t)m->layers[i].n_vars;
  return n;
}

int kcb_model_weight(const kcb_model *m, size_t index, kcb_weight_info *info) {
  KCB__MODEL_GIVEN(m, "kcb_model_weight");
  if (!info) return kcb__error(KCB_EINVAL, "kcb_model_weight: info is NULL");
  if (!m->weights_ready) return kcb__error(KCB_ESTATE, "the model has no weights until it is compiled");
  size_t k = 0;
  for (size_t i = 0; i < m->n_layers; i++) {
    const kcb__layer *l = &m->layers[i];
    if (index >= k + (size_t)l->n_vars) {
      k += (size_t)l->n_vars;
      continue;
    }
    const kcb__var *v = &l->vars[index - k];
    memset(info, 0, sizeof *info);
    info->layer_name = l->name;
    info->name = v->name;
    info->rank = v->rank;
    memcpy(info->shape, v->shape, sizeof info->shape);
    info->data = m->params + v->offset;
    info->size = v->size;
    info->trainable = kcb__var_trains(l, v);
    return 0;
  }
  return kcb__error(KCB_EINVAL, "weight index %zu out of range (the model has %zu)", index, kcb_model_weight_count(m));
}

size_t kcb_model_trainable_param_count(const kcb_model *m) {
  size_t n = 0;
  for (size_t i = 0; m && i < m->n_layers; i++)
    for (int v = 0; v < m->layers[i].n_vars; v++)
      if (kcb__var_trains(&m->layers[i], &m->layers[i].vars[v])) n += m->layers[i].vars[v].size;
  return n;
}

size_t kcb_model_param_count(const kcb_model *m) { return m ? m->n_params : 0; }

int kcb_model_get_weights(const kcb_model *m, float *out, size_t count) {
  KCB__MODEL_GIVEN(m, "get_weights");
  if (!out && count) return kcb__error(KCB_EINVAL, "get_weights: the buffer is NULL");
  if (!m->weights_ready) return kcb__error(KCB_ESTATE, "the model has no weights until it is compiled");
  if (count != m->n_params) return kcb__error(KCB_ESHAPE, "get_weights: buffer holds %zu floats, the model has %zu", count, m->n_params);
  memcpy(out, m->params, count * sizeof *out);
  return 0;
}

int kcb_model_set_weights(kcb_model *m, const float *in, size_t count) {
  KCB__MODEL_GIVEN(m, "set_weights");
  if (!in && count) return kcb__error(KCB_EINVAL, "set_weights: the values are NULL");
  if (!m->weights_ready) return kcb__error(KCB_ESTATE, "the model has no weights until it is compiled");
  if (count != m->n_params) return kcb__error(KCB_ESHAPE, "set_weights: got %zu floats, the model has %zu", count, m->n_params);
  memcpy(m->params, in, count * sizeof *in);
  return 0;
}

float *kcb_model_optimizer_slots(kcb_model *m, size_t *out_count) {
  if (out_count) *out_count = m ? (size_t)m->opt.n_slots * m->opt.n : 0;
  return m ? m->opt.slots : NULL;
}

size_t kcb_model_layer_count(const kcb_model *m) { return m ? m->n_layers : 0; }

int kcb_model_input_shape(const kcb_model *m, int64_t *shape) {
  if (!m || !shape) return 0;
  memcpy(shape, m->in_shape, (size_t)m->in_rank * sizeof *shape);
  return m->in_rank;
}
int kcb__model_add_flusher(kcb_model *m, int (*flush)(void *ctx), void *ctx) {
  for (int i = 0; i < m->n_flushers; i++)
    if (m->flushers[i].ctx == ctx) return 0; /* a second fit's train begin, or a wrapper's */
  /* beyond the table a writer is not flushed before backups, only by its own timer: not worth failing a fit */
  if (m->n_flushers < KCB__MAX_FLUSHERS) m->flushers[m->n_flushers++] = (struct kcb__flusher){flush, ctx};
  return 0;
}

void kcb__model_remove_flusher(kcb_model *m, void *ctx) {
  for (int i = 0; i < m->n_flushers; i++)
    if (m->flushers[i].ctx == ctx) {
      m->flushers[i] = m->flushers[--m->n_flushers];
      return;
    }
}

void kcb__model_flush_writers(kcb_model *m) {
  for (int i = 0; i < m->n_flushers; i++) (void)m->flushers[i].flush(m->flushers[i].ctx);
}

int kcb_model_output_shape(const kcb_model *m, int64_t *shape) {
  if (!m || !shape) return 0;
  int rank;
  kcb__model_current_shape(m, &rank, shape);
  return rank;
}
const char *kcb_model_name(const kcb_model *m) { return m ? m->name : NULL; }
const char *kcb_model_layer_name(const kcb_model *m, size_t i) { return m && i < m->n_layers ? m->layers[i].name : NULL; }
kcb_activation kcb_model_layer_activation(const kcb_model *m, size_t i) {
  if (!m || i >= m->n_layers) return KCB_ACT_LINEAR;
  const kcb__layer *l = &m->layers[i];
  int has = l->kind == KCB__DENSE || l->kind == KCB__ACTIVATION || l->kind == KCB__CONV1D || l->kind == KCB__CONV2D;
  return has ? l->activation : KCB_ACT_LINEAR;
}
int kcb_model_loss(const kcb_model *m, kcb_loss *loss, int *from_logits) {
  KCB__MODEL_GIVEN(m, "loss");
  if (!m->compiled) return kcb__error(KCB_ESTATE, "loss: the model is not compiled");
  if (loss) *loss = m->loss;
  if (from_logits) *from_logits = m->from_logits;
  return 0;
}

int kcb_model_optimizer_kind(const kcb_model *m, kcb_optimizer_kind *out) {
  KCB__MODEL_GIVEN(m, "optimizer");
  if (!out) return kcb__error(KCB_EINVAL, "optimizer: out is NULL");
  if (!m->compiled) return kcb__error(KCB_ESTATE, "optimizer: the model is not compiled");
  *out = m->opt.o.kind;
  return 0;
}

const char *kcb_model_layer_class(const kcb_model *m, size_t i) {
  return m && i < m->n_layers ? kcb__layer_class_name(m->layers[i].kind) : NULL;
}

int kcb__model_note_set(kcb_model *m, const char *key, int64_t value) {
  for (size_t i = 0; i < m->n_notes; i++)
    if (strcmp(m->notes[i].key, key) == 0) return m->notes[i].value = value, 0;
  kcb__resume_note *grown = realloc(m->notes, (m->n_notes + 1) * sizeof *grown);
  if (!grown) return kcb__error(KCB_ENOMEM, "out of memory");
  m->notes = grown;
  if (!(m->notes[m->n_notes].key = strdup(key))) return kcb__error(KCB_ENOMEM, "out of memory");
  m->notes[m->n_notes++].value = value;
  return 0;
}

int kcb__model_note_get(const kcb_model *m, const char *key, int64_t *value) {
  for (size_t i = 0; i < m->n_notes; i++)
    if (strcmp(m->notes[i].key, key) == 0) return *value = m->notes[i].value, 1;
  return 0;
}

void kcb__model_notes_clear(kcb_model *m) {
  for (size_t i = 0; i < m->n_notes; i++) free(m->notes[i].key);
  free(m->notes);
  m->notes = NULL, m->n_notes = 0, m->notes_loaded = 0;
}

void kcb_model_free(kcb_model *m) {
  if (!m) return;
  kcb__model_notes_clear(m);
  kcb__optimizer_free(&m->opt);
  free(m->params);
  free(m->ws);
  free(m->col);
  free(m->gathered);
  free(m->train_runs);
  for (size_t i = 0; i < m->n_layers; i++) free(m->layers[i].kept_settings);
  free(m->layers);
  free(m);
}
