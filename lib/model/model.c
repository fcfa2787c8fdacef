/* model/model.c — building a Sequential model, its parameter block, forward and backward passes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/bounds.h"
#include "model/model_internal.h"

static const char *const kind_base_names[4] = {"dense", "activation", "dropout", "flatten"};
static const char *const kind_class_names[4] = {"Dense", "Activation", "Dropout", "Flatten"};

int kcb_model_new(kcb_model **out, int rank, const int64_t *input_shape, uint64_t seed) {
  *out = NULL;
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
  /* Separate streams, so adding dropout does not change the initial weights, etc. */
  kcb__rng_seed(&m->init_rng, seed);
  kcb__rng_seed(&m->dropout_rng, seed ^ 0x5851f42d4c957f2dULL);
  kcb__rng_seed(&m->shuffle_rng, seed ^ 0x14057b7ef767814fULL);
  *out = m;
  return 0;
}

/* Shape of what the last layer outputs (the model's input when there is none). */
static void current_shape(const kcb_model *m, int *rank, int64_t *shape) {
  if (m->n_layers == 0) {
    *rank = m->in_rank;
    memcpy(shape, m->in_shape, sizeof m->in_shape);
  } else {
    const kcb__layer *l = &m->layers[m->n_layers - 1];
    *rank = l->out_rank;
    memcpy(shape, l->out_shape, sizeof l->out_shape);
  }
}

static int append_layer(kcb_model *m, kcb__layer_kind kind, const char *name, kcb__layer **out) {
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
  current_shape(m, &l->out_rank, l->out_shape);
  l->in_width = l->out_shape[l->out_rank - 1];
  if (name) {
    if (strlen(name) == 0 || strlen(name) >= sizeof l->name)
      return kcb__error(KCB_EINVAL, "layer name '%s' is empty or too long", name);
    for (size_t i = 0; i < m->n_layers; i++)
      if (strcmp(m->layers[i].name, name) == 0) return kcb__error(KCB_EINVAL, "layer name '%s' is used twice", name);
    kcb__strlcpy(l->name, name, sizeof l->name);
  } else if (m->name_counts[kind] == 0) {
    kcb__strlcpy(l->name, kind_base_names[kind], sizeof l->name);
  } else {
    snprintf(l->name, sizeof l->name, "%s_%d", kind_base_names[kind], m->name_counts[kind]);
  }
  m->name_counts[kind]++;
  *out = l;
  return 0;
}

static void finish_layer(kcb_model *m, kcb__layer *l) {
  l->out_width = l->out_shape[l->out_rank - 1];
  l->out_size = 1;
  for (int i = 0; i < l->out_rank; i++) l->out_size *= l->out_shape[i];
  m->n_layers++;
}

/* A new Dense layer l: its output per sample and the model's parameter count stay within
 * kcb_max_params (units and widths come from files and flags). */
static int dense_size_check(const kcb_model *m, const kcb__layer *l) {
  char what[160];
  snprintf(what, sizeof what, "layer '%s': output shape", l->name);
  int64_t out;
  int rc = kcb__check_values(l->out_shape, l->out_rank, what, &out);
  if (rc) return rc;
  uint64_t total = 0;
  for (size_t i = 0; i <= m->n_layers; i++) { /* the layers so far, then l (not yet counted in n_layers) */
    const kcb__layer *x = i < m->n_layers ? &m->layers[i] : l;
    if (x->kind == KCB__DENSE) total = kcb__params_add(total, x->in_width, x->dense.units);
  }
  snprintf(what, sizeof what, "layer '%s' (Dense, %lld x %d)", l->name, (long long)l->in_width, l->dense.units);
  return kcb__check_params(total, what);
}

int kcb_model_add_dense(kcb_model *m, const kcb_dense_options *opts) {
  if (!opts || opts->units <= 0) return kcb__error(KCB_EINVAL, "Dense needs units > 0, got %d", opts ? opts->units : 0);
  if ((unsigned)opts->activation >= KCB_ACT_COUNT || (unsigned)opts->kernel_initializer >= KCB_INIT_COUNT ||
      (unsigned)opts->bias_initializer >= KCB_INIT_COUNT)
    return kcb__error(KCB_EINVAL, "Dense: unknown activation or initializer");
  kcb__layer *l = NULL;
  int rc = append_layer(m, KCB__DENSE, opts->name, &l);
  if (rc) return rc;
  l->dense = *opts;
  l->dense.name = NULL;
  l->activation = opts->activation;
  l->out_shape[l->out_rank - 1] = opts->units;
  if ((rc = dense_size_check(m, l)) != 0) return rc;
  finish_layer(m, l);
  return 0;
}

int kcb_model_add_activation(kcb_model *m, kcb_activation activation) {
  if ((unsigned)activation >= KCB_ACT_COUNT) return kcb__error(KCB_EINVAL, "unknown activation %d", (int)activation);
  kcb__layer *l = NULL;
  int rc = append_layer(m, KCB__ACTIVATION, NULL, &l);
  if (rc) return rc;
  l->activation = activation;
  finish_layer(m, l);
  return 0;
}

int kcb_model_add_dropout(kcb_model *m, float rate) {
  if (!(rate >= 0.0f && rate < 1.0f)) return kcb__error(KCB_EINVAL, "Dropout rate must be in [0, 1), got %g", (double)rate);
  kcb__layer *l = NULL;
  int rc = append_layer(m, KCB__DROPOUT, NULL, &l);
  if (rc) return rc;
  l->rate = rate;
  finish_layer(m, l);
  return 0;
}

int kcb_model_add_flatten(kcb_model *m) {
  kcb__layer *l = NULL;
  int rc = append_layer(m, KCB__FLATTEN, NULL, &l);
  if (rc) return rc;
  int64_t n = 1;
  for (int i = 0; i < l->out_rank; i++) n *= l->out_shape[i];
  l->out_rank = 1;
  l->out_shape[0] = n;
  finish_layer(m, l);
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

int kcb_model_compile(kcb_model *m, const kcb_compile_options *opts) {
  if (!opts) return kcb__error(KCB_EINVAL, "compile needs options");
  if (m->n_layers == 0) return kcb__error(KCB_ESTATE, "cannot compile a model with no layers");
  if ((unsigned)opts->loss >= KCB_LOSS_COUNT) return kcb__error(KCB_EINVAL, "unknown loss %d", (int)opts->loss);
  if (opts->n_metrics > KCB__MAX_METRICS) return kcb__error(KCB_EINVAL, "at most %d metrics, got %zu", KCB__MAX_METRICS, opts->n_metrics);
  for (size_t i = 0; i < opts->n_metrics; i++) {
    if ((unsigned)opts->metrics[i] >= KCB_METRIC_COUNT) return kcb__error(KCB_EINVAL, "unknown metric %d", (int)opts->metrics[i]);
    const char *name = opts->metric_names && opts->metric_names[i] ? opts->metric_names[i] : kcb_metric_name(opts->metrics[i]);
    if (strlen(name) == 0 || strlen(name) >= sizeof m->metric_names[0] - 4 || strcmp(name, "loss") == 0)
      return kcb__error(KCB_EINVAL, "metric name '%s' is empty, too long or 'loss'", name);
  }
  if (!m->weights_ready) {
    size_t n = 0;
    for (size_t i = 0; i < m->n_layers; i++) {
      kcb__layer *l = &m->layers[i];
      if (l->kind != KCB__DENSE) continue;
      l->kernel_offset = n;
      n += (size_t)(l->in_width * l->dense.units);
      l->bias_offset = n;
      if (l->dense.use_bias) n += (size_t)l->dense.units;
    }
    float *block = calloc(2 * (n ? n : 1), sizeof(float));
    if (!block) return kcb__error(KCB_ENOMEM, "out of memory for %zu parameters", n);
    m->params = block;
    m->grads = block + (n ? n : 1);
    m->n_params = n;
    for (size_t i = 0; i < m->n_layers; i++) {
      kcb__layer *l = &m->layers[i];
      if (l->kind != KCB__DENSE) continue;
      init_weights(&m->init_rng, l->dense.kernel_initializer, m->params + l->kernel_offset,
                   (size_t)(l->in_width * l->dense.units), l->in_width, l->dense.units);
      if (l->dense.use_bias)
        init_weights(&m->init_rng, l->dense.bias_initializer, m->params + l->bias_offset,
                     (size_t)l->dense.units, l->in_width, l->dense.units);
    }
    m->weights_ready = 1;
  }
  int rc = kcb__optimizer_init(&m->opt, &opts->optimizer, m->n_params);
  if (rc) return rc;
  m->loss = opts->loss;
  m->from_logits = opts->from_logits != 0;
  m->n_metrics = opts->n_metrics;
  for (size_t i = 0; i < opts->n_metrics; i++) {
    m->metrics[i] = m->metric_impl[i] = opts->metrics[i];
    kcb__strlcpy(m->metric_names[i],
                 opts->metric_names && opts->metric_names[i] ? opts->metric_names[i] : kcb_metric_name(opts->metrics[i]),
                 sizeof m->metric_names[i]);
  }
  m->compiled = 1;
  return 0;
}

/* ---- workspace, forward, backward -------------------------------------------------------- */

int kcb__model_reserve_workspace(kcb_model *m, int64_t batch, int64_t y_size) {
  if (batch <= m->ws_batch && y_size <= m->y_size_ws) return 0;
  if (batch < m->ws_batch) batch = m->ws_batch;
  if (y_size < m->y_size_ws) y_size = m->y_size_ws;
  int64_t widest = m->in_size, total = 0;
  for (size_t i = 0; i < m->n_layers; i++) {
    kcb__layer *l = &m->layers[i];
    if (l->out_size > widest) widest = l->out_size;
    if (l->kind == KCB__DENSE || l->kind == KCB__ACTIVATION || l->kind == KCB__DROPOUT) total += l->out_size;
    if (l->kind == KCB__DENSE && kcb__activation_needs_pre(l->activation)) total += l->out_size;
    if (l->kind == KCB__DROPOUT) total += l->out_size;
  }
  total += m->in_size + y_size + 2 * widest;
  float *ws = malloc((size_t)(total * batch) * sizeof(float));
  if (!ws) return kcb__error(KCB_ENOMEM, "out of memory for a batch of %lld (%lld floats)", (long long)batch, (long long)(total * batch));
  free(m->ws);
  m->ws = ws;
  m->ws_batch = batch;
  m->y_size_ws = y_size;
  float *p = ws;
#define TAKE(n) (p += (n) * batch, p - (n) * batch)
  for (size_t i = 0; i < m->n_layers; i++) {
    kcb__layer *l = &m->layers[i];
    l->out = l->pre = l->mask = NULL;
    if (l->kind == KCB__DENSE || l->kind == KCB__ACTIVATION || l->kind == KCB__DROPOUT) l->out = TAKE(l->out_size);
    if (l->kind == KCB__DENSE && kcb__activation_needs_pre(l->activation)) l->pre = TAKE(l->out_size);
    if (l->kind == KCB__DROPOUT) l->mask = TAKE(l->out_size);
  }
  m->x_batch = TAKE(m->in_size);
  m->y_batch = TAKE(y_size);
  m->grad_a = TAKE(widest);
  m->grad_b = TAKE(widest);
#undef TAKE
  return 0;
}

const kcb__layer *kcb__model_output_layer(const kcb_model *m) { return &m->layers[m->n_layers - 1]; }

const float *kcb__model_forward(kcb_model *m, const float *input, int64_t batch, int training) {
  const float *x = input;
  for (size_t i = 0; i < m->n_layers; i++) {
    kcb__layer *l = &m->layers[i];
    int64_t rows = batch * (l->out_size / l->out_width);
    l->in = x;
    switch (l->kind) {
      case KCB__DENSE: {
        int units = l->dense.units;
        float *dst = l->pre ? l->pre : l->out;
        kcb__sgemm(0, 0, (int)rows, units, (int)l->in_width, 1.0f, x, m->params + l->kernel_offset, 0.0f, dst);
        if (l->dense.use_bias) {
          const float *b = m->params + l->bias_offset;
          for (int64_t r = 0; r < rows; r++)
            for (int j = 0; j < units; j++) dst[r * units + j] += b[j];
        }
        kcb__activation_forward(l->activation, dst, l->out, rows, units);
        l->y = l->out;
        break;
      }
      case KCB__ACTIVATION:
        kcb__activation_forward(l->activation, x, l->out, rows, l->out_width);
        l->y = l->out;
        break;
      case KCB__DROPOUT:
        l->dropout_active = training && l->rate > 0;
        if (l->dropout_active) {
          const float keep_scale = 1.0f / (1.0f - l->rate);
          const uint64_t threshold = (uint64_t)((double)l->rate * 18446744073709551616.0);
          for (int64_t j = 0; j < rows * l->out_width; j++) {
            l->mask[j] = kcb__rng_next(&m->dropout_rng) >= threshold ? keep_scale : 0.0f;
            l->out[j] = x[j] * l->mask[j];
          }
          l->y = l->out;
        } else {
          l->y = x;
        }
        break;
      case KCB__FLATTEN:
        l->y = x;
        break;
    }
    x = l->y;
  }
  return x;
}

void kcb__model_backward(kcb_model *m, int64_t batch) {
  size_t first_dense = m->n_layers;
  for (size_t i = 0; i < m->n_layers; i++)
    if (m->layers[i].kind == KCB__DENSE) { first_dense = i; break; }
  float *g = m->grad_a, *spare = m->grad_b;
  for (size_t i = m->n_layers; i-- > first_dense;) {
    kcb__layer *l = &m->layers[i];
    int64_t rows = batch * (l->out_size / l->out_width);
    switch (l->kind) {
      case KCB__DENSE: {
        int units = l->dense.units, in_width = (int)l->in_width;
        kcb__activation_backward(l->activation, l->pre, l->out, g, rows, units);
        kcb__sgemm(1, 0, in_width, units, (int)rows, 1.0f, l->in, g, 0.0f, m->grads + l->kernel_offset);
        if (l->dense.use_bias) {
          float *db = m->grads + l->bias_offset;
          memset(db, 0, (size_t)units * sizeof *db);
          for (int64_t r = 0; r < rows; r++)
            for (int j = 0; j < units; j++) db[j] += g[r * units + j];
        }
        if (i > first_dense) {
          kcb__sgemm(0, 1, (int)rows, in_width, units, 1.0f, g, m->params + l->kernel_offset, 0.0f, spare);
          float *t = g; g = spare; spare = t;
        }
        break;
      }
      case KCB__ACTIVATION:
        kcb__activation_backward(l->activation, l->in, l->out, g, rows, l->out_width);
        break;
      case KCB__DROPOUT:
        if (l->dropout_active)
          for (int64_t j = 0; j < rows * l->out_width; j++) g[j] *= l->mask[j];
        break;
      case KCB__FLATTEN:
        break;
    }
  }
}

/* ---- what callbacks and tools read ----------------------------------------------------- */

void kcb_model_set_stop_training(kcb_model *m, int stop) { m->stop_training = stop != 0; }
int kcb_model_stop_training(const kcb_model *m) { return m->stop_training; }
void kcb_model_request_stop(kcb_model *m) {
  if (m) m->stop_requested = 1;
}
int kcb_model_interrupted(const kcb_model *m) { return m ? m->interrupted : 0; }
void kcb_model_set_stop_evaluating(kcb_model *m, int stop) { m->stop_evaluating = stop != 0; }
void kcb_model_set_stop_predicting(kcb_model *m, int stop) { m->stop_predicting = stop != 0; }
double kcb_model_learning_rate(const kcb_model *m) { return (double)m->opt.learning_rate; }

int kcb_model_set_learning_rate(kcb_model *m, double lr) {
  if (!m->compiled) return kcb__error(KCB_ESTATE, "set_learning_rate: the model is not compiled");
  if (!(lr >= 0) || !isfinite(lr)) return kcb__error(KCB_EINVAL, "learning rate must be a finite number >= 0, got %g", lr);
  m->opt.learning_rate = (float)lr;
  return 0;
}

int64_t kcb_model_iterations(const kcb_model *m) { return m->opt.iterations; }
void kcb_model_set_iterations(kcb_model *m, int64_t iterations) { m->opt.iterations = iterations; }

size_t kcb_model_weight_count(const kcb_model *m) {
  size_t n = 0;
  for (size_t i = 0; i < m->n_layers; i++)
    if (m->layers[i].kind == KCB__DENSE) n += m->layers[i].dense.use_bias ? 2 : 1;
  return n;
}

int kcb_model_weight(const kcb_model *m, size_t index, kcb_weight_info *info) {
  if (!m->weights_ready) return kcb__error(KCB_ESTATE, "the model has no weights until it is compiled");
  size_t k = 0;
  for (size_t i = 0; i < m->n_layers; i++) {
    const kcb__layer *l = &m->layers[i];
    if (l->kind != KCB__DENSE) continue;
    for (int part = 0; part < (l->dense.use_bias ? 2 : 1); part++, k++) {
      if (k != index) continue;
      memset(info, 0, sizeof *info);
      info->layer_name = l->name;
      info->name = part ? "bias" : "kernel";
      info->rank = part ? 1 : 2;
      info->shape[0] = part ? l->dense.units : l->in_width;
      info->shape[1] = part ? 0 : l->dense.units;
      info->data = m->params + (part ? l->bias_offset : l->kernel_offset);
      info->size = (size_t)(part ? l->dense.units : l->in_width * l->dense.units);
      return 0;
    }
  }
  return kcb__error(KCB_EINVAL, "weight index %zu out of range (the model has %zu)", index, kcb_model_weight_count(m));
}

size_t kcb_model_param_count(const kcb_model *m) { return m->n_params; }

int kcb_model_get_weights(const kcb_model *m, float *out, size_t count) {
  if (!m->weights_ready) return kcb__error(KCB_ESTATE, "the model has no weights until it is compiled");
  if (count != m->n_params) return kcb__error(KCB_ESHAPE, "get_weights: buffer holds %zu floats, the model has %zu", count, m->n_params);
  memcpy(out, m->params, count * sizeof *out);
  return 0;
}

int kcb_model_set_weights(kcb_model *m, const float *in, size_t count) {
  if (!m->weights_ready) return kcb__error(KCB_ESTATE, "the model has no weights until it is compiled");
  if (count != m->n_params) return kcb__error(KCB_ESHAPE, "set_weights: got %zu floats, the model has %zu", count, m->n_params);
  memcpy(m->params, in, count * sizeof *in);
  return 0;
}

float *kcb_model_optimizer_slots(kcb_model *m, size_t *out_count) {
  if (out_count) *out_count = (size_t)m->opt.n_slots * m->opt.n;
  return m->opt.slots;
}

size_t kcb_model_layer_count(const kcb_model *m) { return m->n_layers; }
const char *kcb_model_layer_name(const kcb_model *m, size_t i) { return i < m->n_layers ? m->layers[i].name : NULL; }
const char *kcb_model_layer_class(const kcb_model *m, size_t i) {
  return i < m->n_layers ? kind_class_names[m->layers[i].kind] : NULL;
}

void kcb_model_free(kcb_model *m) {
  if (!m) return;
  kcb__optimizer_free(&m->opt);
  free(m->params);
  free(m->ws);
  free(m->layers);
  free(m);
}
