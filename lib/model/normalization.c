/* model/normalization.c — BatchNormalization and LayerNormalization over the last axis.
 * BatchNormalization keeps its moving statistics in the parameter block as non-trainable
 * variables: fit's forward pass updates them (unless the layer is frozen), the optimizer never
 * sees them. */
#include <math.h>
#include <string.h>

#include "model/distributed_internal.h"
#include "model/model_internal.h"

static int add_norm(kcb_model *m, const kcb_batch_normalization_options *opts, int batch_norm) {
  KCB__MODEL_GIVEN(m, batch_norm ? "BatchNormalization" : "LayerNormalization");
  kcb_batch_normalization_options defaults = KCB_BATCH_NORMALIZATION_OPTIONS_INIT;
  const kcb_batch_normalization_options *o = opts ? opts : &defaults;
  const char *cls = batch_norm ? "BatchNormalization" : "LayerNormalization";
  if (!(o->epsilon >= 0) || !isfinite(o->epsilon)) return kcb__error(KCB_EINVAL, "%s: epsilon must be >= 0, got %g", cls, o->epsilon);
  if (batch_norm && !(o->momentum >= 0 && o->momentum <= 1))
    return kcb__error(KCB_EINVAL, "%s: momentum must be in [0, 1], got %g", cls, o->momentum);
  kcb__layer *l = NULL;
  int rc = kcb__model_append_layer(m, batch_norm ? KCB__BATCH_NORMALIZATION : KCB__LAYER_NORMALIZATION, o->name, &l);
  if (rc) return rc;
  l->momentum = o->momentum;
  l->epsilon = o->epsilon;
  l->center = o->center != 0;
  l->scale = o->scale != 0;
  const int64_t C = l->in_width;
  int n = 0;
  if (l->scale) l->vars[n++] = (kcb__var){"gamma", 1, {C}, (size_t)C, 0, 1, KCB_INIT_ONES, C, C};
  if (l->center) l->vars[n++] = (kcb__var){"beta", 1, {C}, (size_t)C, 0, 1, KCB_INIT_ZEROS, C, C};
  if (batch_norm) {
    l->vars[n++] = (kcb__var){"moving_mean", 1, {C}, (size_t)C, 0, 0, KCB_INIT_ZEROS, C, C};
    l->vars[n++] = (kcb__var){"moving_variance", 1, {C}, (size_t)C, 0, 0, KCB_INIT_ONES, C, C};
  }
  l->n_vars = n;
  if ((rc = kcb__model_check_layer(m, l))) return rc;
  kcb__model_finish_layer(m, l);
  return 0;
}

int kcb_model_add_batch_normalization(kcb_model *m, const kcb_batch_normalization_options *opts) {
  return add_norm(m, opts, 1);
}

int kcb_model_add_layer_normalization(kcb_model *m, const kcb_batch_normalization_options *opts) {
  return add_norm(m, opts, 0);
}

/* Where each variable of a normalization layer lives (NULL when the option leaves it out). */
typedef struct norm_vars {
  float *gamma, *beta, *moving_mean, *moving_variance;
  float *dgamma, *dbeta;
} norm_vars;

static norm_vars vars_of(kcb_model *m, const kcb__layer *l) {
  norm_vars v = {0};
  int i = 0;
  if (l->scale) v.gamma = m->params + l->vars[i].offset, v.dgamma = m->grads + l->vars[i++].offset;
  if (l->center) v.beta = m->params + l->vars[i].offset, v.dbeta = m->grads + l->vars[i++].offset;
  if (l->kind == KCB__BATCH_NORMALIZATION) {
    v.moving_mean = m->params + l->vars[i++].offset;
    v.moving_variance = m->params + l->vars[i].offset;
  }
  return v;
}

/* LayerNormalization's rows: xhat = (x - mu) * inv, out = gamma * xhat + beta. */
static void normalise_row(const norm_vars *v, const float *restrict x, float mu, float inv, float *restrict xhat,
                          float *restrict out, int64_t C) {
  for (int64_t c = 0; c < C; c++) xhat[c] = (x[c] - mu) * inv;
  if (v->gamma && v->beta)
    for (int64_t c = 0; c < C; c++) out[c] = v->gamma[c] * xhat[c] + v->beta[c];
  else if (v->gamma)
    for (int64_t c = 0; c < C; c++) out[c] = v->gamma[c] * xhat[c];
  else if (v->beta)
    for (int64_t c = 0; c < C; c++) out[c] = xhat[c] + v->beta[c];
  else
    memcpy(out, xhat, (size_t)C * sizeof *out);
}

/* BatchNormalization's passes over (rows, C), channel-wise: each is a plain loop over restrict
 * arrays, so that it vectorises across the channels (every lane keeps one channel's running sum,
 * in row order). */
static void scale_shift(float *restrict out, const float *restrict x, const float *restrict scale,
                        const float *restrict shift, int64_t rows, int64_t C) {
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < C; c++) out[r * C + c] = x[r * C + c] * scale[c] + shift[c];
}

/* Both moments in one read: the sums of d = x - centre and of d * d, with the centre near the mean
 * (the mean of the first rows) so that var = mean(d * d) - mean(d)^2 does not cancel. */
static void centred_sums(float *restrict sum, float *restrict sum_sq, const float *restrict x, const float *restrict centre,
                         int64_t rows, int64_t C) {
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < C; c++) {
      float d = x[r * C + c] - centre[c];
      sum[c] += d;
      sum_sq[c] += d * d;
    }
}

/* centre = the mean of the first (at most 256) rows: within a fraction of a deviation of the mean. */
static void mean_of_first_rows(float *restrict centre, const float *restrict x, int64_t rows, int64_t C) {
  const int64_t n = rows < 256 ? rows : 256;
  for (int64_t c = 0; c < C; c++) centre[c] = 0.0f;
  for (int64_t r = 0; r < n; r++)
    for (int64_t c = 0; c < C; c++) centre[c] += x[r * C + c];
  for (int64_t c = 0; c < C; c++) centre[c] /= (float)n;
}

/* The passes above over the pool's threads (core/pool.c), by rows; the sums by kcb__parallel_sums. */
typedef struct channel_job {
  const float *x, *gy, *mean, *scale, *shift, *a, *b, *d;
  const kcb__layer *pool; /* backward fused with the max pooling after the layer: gy is the pooling's */
  const float *centre; /* (C) subtracted from x before the moments are summed */
  float *out;
  int64_t C;
} channel_job;

static int64_t rows_per_part(int64_t C) { return 8192 / C + 1; }

static void centred_sums_part(void *ctx, float *sums, int64_t r0, int64_t r1) {
  const channel_job *j = ctx;
  centred_sums(sums, sums + j->C, j->x + r0 * j->C, j->centre, r1 - r0, j->C);
}

static void scale_shift_part(void *ctx, int part, int64_t r0, int64_t r1) {
  const channel_job *j = ctx;
  (void)part;
  scale_shift(j->out + r0 * j->C, j->x + r0 * j->C, j->scale, j->shift, r1 - r0, j->C);
}

/* Distributed fit (m->sync_dist): the global batch's mean and biased variance, from every process's
 * rows, mean and variance, summed in double by one allreduce per block of channels (the sums of x
 * and of x^2 rebuilt from each process's moments): every process gets the same floats. A process
 * without samples gives rows = 0. An MPI failure is kept in m->sync_rc for the step to return. */
static void global_moments(kcb_model *m, int64_t rows, float *mean, float *var, int64_t C) {
  enum { BLOCK = 512 };
  double s[1 + 2 * BLOCK];
  for (int64_t c0 = 0; c0 < C; c0 += BLOCK) {
    const int64_t n = C - c0 < BLOCK ? C - c0 : BLOCK;
    s[0] = (double)rows;
    for (int64_t c = 0; c < n; c++) {
      const double mu = rows ? mean[c0 + c] : 0.0, v = rows ? var[c0 + c] : 0.0;
      s[1 + c] = (double)rows * mu;
      s[1 + n + c] = (double)rows * (v + mu * mu);
    }
    int rc = kcb__dist_sum_doubles(m->sync_dist, s, (int)(1 + 2 * n));
    if (rc && !m->sync_rc) m->sync_rc = rc;
    for (int64_t c = 0; c < n; c++) {
      const double mu = s[0] > 0 ? s[1 + c] / s[0] : 0.0;
      mean[c0 + c] = (float)mu;
      var[c0 + c] = (float)fmax(s[0] > 0 ? s[1 + n + c] / s[0] - mu * mu : 0.0, 0.0);
    }
  }
}

/* From the batch's mean and variance (in inv): moves the moving statistics, then inv = 1/std. */
static void finish_moments(const kcb__layer *l, const norm_vars *v, const float *mean, float *inv) {
  const float mom = (float)l->momentum;
  for (int64_t c = 0; c < l->in_width; c++) {
    v->moving_mean[c] = v->moving_mean[c] * mom + mean[c] * (1 - mom);
    v->moving_variance[c] = v->moving_variance[c] * mom + inv[c] * (1 - mom);
    inv[c] = 1.0f / sqrtf(inv[c] + (float)l->epsilon);
  }
}

/* Training uses the batch's mean and biased variance (Keras's moments) and moves the moving
 * statistics; inference uses the moving ones. Either way the output is x * scale + shift with
 * scale = gamma / sqrt(var + epsilon) and shift = beta - mean * scale, as TensorFlow computes it.
 * The mean and 1/std stay in stat and inv_std: backward recomputes xhat from the input. */
static void batch_norm_forward(kcb_model *m, kcb__layer *l, const float *x, int64_t rows, int training) {
  const int64_t C = l->in_width;
  norm_vars v = vars_of(m, l);
  float *mean = l->stat, *inv = l->inv_std, *scale = l->stat + C, *shift = l->stat + 2 * C;
  channel_job j = {.x = x, .mean = mean, .scale = scale, .shift = shift, .out = l->out, .C = C};
  training = training && !l->frozen; /* Keras 3: a frozen BatchNormalization runs in inference mode */
  l->norm_training = training;
  if (training) {
    float *sums = l->stat + 3 * C, *centre = l->stat + 5 * C; /* sums: (2, C), of x - centre, then of its square */
    mean_of_first_rows(centre, x, rows, C);
    j.centre = centre;
    kcb__parallel_sums(rows, rows_per_part(C), sums, 2 * C, centred_sums_part, &j);
    for (int64_t c = 0; c < C; c++) {
      float dm = sums[c] / (float)rows;
      mean[c] = centre[c] + dm;
      inv[c] = fmaxf(sums[C + c] / (float)rows - dm * dm, 0.0f); /* the variance, biased as Keras's moments */
    }
    if (m->sync_dist) global_moments(m, rows, mean, inv, C);
    finish_moments(l, &v, mean, inv);
  } else {
    for (int64_t c = 0; c < C; c++) {
      mean[c] = v.moving_mean[c];
      inv[c] = 1.0f / sqrtf(v.moving_variance[c] + (float)l->epsilon);
    }
  }
  for (int64_t c = 0; c < C; c++) {
    scale[c] = v.gamma ? v.gamma[c] * inv[c] : inv[c];
    shift[c] = (v.beta ? v.beta[c] : 0.0f) - mean[c] * scale[c];
  }
  if (!l->norm_fused_pool) kcb__parallel(rows, rows_per_part(C), 1, scale_shift_part, &j);
}

void kcb__norm_scale_shift(const kcb__layer *l, const float **scale, const float **shift) {
  *scale = l->stat + l->in_width;
  *shift = l->stat + 2 * l->in_width;
}

/* LayerNormalization's rows are independent: the pool's threads take a share each. */
typedef struct layer_norm_job {
  const kcb__layer *l; /* its inv_std, xhat and out are written, row by row */
  const norm_vars *v;
  const float *x;
  float *gy, *dx;
} layer_norm_job;

static void layer_norm_forward_part(void *ctx, int part, int64_t r0, int64_t r1) {
  const layer_norm_job *j = ctx;
  const int64_t C = j->l->in_width;
  (void)part;
  for (int64_t r = r0; r < r1; r++) {
    const float *xr = j->x + r * C;
    float mu = 0, var = 0;
    for (int64_t c = 0; c < C; c++) mu += xr[c];
    mu /= (float)C;
    for (int64_t c = 0; c < C; c++) var += (xr[c] - mu) * (xr[c] - mu);
    float inv = 1.0f / sqrtf(var / (float)C + (float)j->l->epsilon);
    j->l->inv_std[r] = inv;
    normalise_row(j->v, xr, mu, inv, j->l->xhat + r * C, j->l->out + r * C, C);
  }
}

static void layer_norm_forward(kcb_model *m, kcb__layer *l, const float *x, int64_t rows) {
  norm_vars v = vars_of(m, l);
  layer_norm_job j = {l, &v, x, NULL, NULL};
  kcb__parallel(rows, rows_per_part(l->in_width), 1, layer_norm_forward_part, &j);
}

void kcb__norm_forward(kcb_model *m, kcb__layer *l, const float *x, int64_t batch, int training) {
  int64_t rows = batch * (l->out_size / l->in_width);
  if (l->kind == KCB__BATCH_NORMALIZATION) batch_norm_forward(m, l, x, rows, training);
  else layer_norm_forward(m, l, x, rows);
}

/* LayerNormalization's sums for dgamma (gy * xhat) and dbeta (gy) over rows [r0, r1), into
 * sums[0, C) and sums[C, 2C). */
static void layer_norm_param_sums(void *ctx, float *restrict sums, int64_t r0, int64_t r1) {
  const layer_norm_job *j = ctx;
  const int64_t C = j->l->in_width;
  const float *restrict gy = j->gy, *restrict xhat = j->l->xhat;
  for (int64_t r = r0; r < r1; r++)
    for (int64_t c = 0; c < C; c++) {
      sums[c] += gy[r * C + c] * xhat[r * C + c];
      sums[C + c] += gy[r * C + c];
    }
}

/* Per row, with g = gamma * dL/dy = dL/dxhat: dx = inv * (g - mean(g) - xhat * mean(g * xhat)). */
static void layer_norm_dx_part(void *ctx, int part, int64_t r0, int64_t r1) {
  const layer_norm_job *j = ctx;
  const int64_t C = j->l->in_width;
  (void)part;
  for (int64_t r = r0; r < r1; r++) {
    float sum = 0, dot = 0;
    float *gr = j->gy + r * C;
    const float *xr = j->l->xhat + r * C;
    if (j->v->gamma)
      for (int64_t c = 0; c < C; c++) gr[c] *= j->v->gamma[c];
    for (int64_t c = 0; c < C; c++) sum += gr[c], dot += gr[c] * xr[c];
    sum /= (float)C, dot /= (float)C;
    for (int64_t c = 0; c < C; c++) j->dx[r * C + c] = j->l->inv_std[r] * (gr[c] - sum - xr[c] * dot);
  }
}

static void layer_norm_backward(const kcb__layer *l, const norm_vars *v, float *gy, float *dx, int64_t rows, int64_t C) {
  layer_norm_job j = {l, v, NULL, gy, dx};
  if (v->dgamma || v->dbeta) {
    kcb__parallel_sums(rows, rows_per_part(C), l->stat, 2 * C, layer_norm_param_sums, &j);
    if (v->dgamma) memcpy(v->dgamma, l->stat, (size_t)C * sizeof *v->dgamma);
    if (v->dbeta) memcpy(v->dbeta, l->stat + C, (size_t)C * sizeof *v->dbeta);
  }
  if (dx) kcb__parallel(rows, rows_per_part(C), 1, layer_norm_dx_part, &j);
}

/* Per channel: the sum of gy and of gy * (x - mean), both in one pass. */
static void channel_grad_sums(float *restrict sum_g, float *restrict sum_gd, const float *restrict gy,
                              const float *restrict x, const float *restrict mean, int64_t rows, int64_t C) {
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < C; c++) {
      float g = gy[r * C + c];
      sum_g[c] += g;
      sum_gd[c] += g * (x[r * C + c] - mean[c]);
    }
}

/* dx = a * gy + b * (x - mean) + d per channel; dx may be gy (the same index is read, then written). */
static void channel_affine_grad(float *dx, const float *gy, const float *restrict x, const float *restrict mean,
                                const float *restrict a, const float *restrict b, const float *restrict d, int64_t rows,
                                int64_t C) {
  for (int64_t r = 0; r < rows; r++) {
    float *restrict out = dx + r * C;
    const float *restrict g = gy + r * C;
    if (out == g) { /* in place: one pointer, so that the loop still vectorises */
      for (int64_t c = 0; c < C; c++) out[c] = a[c] * out[c] + b[c] * (x[r * C + c] - mean[c]) + d[c];
    } else {
      for (int64_t c = 0; c < C; c++) out[c] = a[c] * g[c] + b[c] * (x[r * C + c] - mean[c]) + d[c];
    }
  }
}

/* Fused with the max pooling after the layer, dL/dy is made a block of rows at a time from the
 * pooling's gradient (kcb__pool_route_rows) and used while it is in L1, instead of written out
 * whole by the pooling and read twice here. The rows go in the same order either way, so the sums
 * and dx are the same floats. */
#define ROUTED_FLOATS KCB__FUSED_POOL_MAX_CHANNELS

/* How many of `left` rows the next block takes: all of them, or (fused) what buf holds. */
static int64_t block_rows(const channel_job *j, int64_t left) {
  return j->pool && left > ROUTED_FLOATS / j->C ? ROUTED_FLOATS / j->C : left;
}

/* dL/dy of rows [r, r + n): j->gy's own, or (fused) routed into buf from the pooling's. */
static const float *gy_rows(const channel_job *j, int64_t r, int64_t n, float *buf) {
  if (!j->pool) return j->gy + r * j->C;
  kcb__pool_route_rows(j->pool, j->gy, r, n, buf);
  return buf;
}

static void grad_sums_part(void *ctx, float *sums, int64_t r0, int64_t r1) {
  const channel_job *j = ctx;
  float buf[ROUTED_FLOATS];
  for (int64_t r = r0, n; r < r1; r += n) {
    n = block_rows(j, r1 - r);
    channel_grad_sums(sums, sums + j->C, gy_rows(j, r, n, buf), j->x + r * j->C, j->mean, n, j->C);
  }
}

static void affine_grad_part(void *ctx, int part, int64_t r0, int64_t r1) {
  const channel_job *j = ctx;
  float buf[ROUTED_FLOATS];
  (void)part;
  for (int64_t r = r0, n; r < r1; r += n) {
    n = block_rows(j, r1 - r);
    channel_affine_grad(j->out + r * j->C, gy_rows(j, r, n, buf), j->x + r * j->C, j->mean, j->a, j->b, j->d, n, j->C);
  }
}

/* Distributed fit: sum_g and sum_gd (2C floats from sums) of the global batch. Each process's
 * dL/dy is already its part of the global batch's mean loss (train.c weights the loss's gradient),
 * so the sums add up as they are, and their means are over the global batch's rows. */
static void sync_grad_sums(kcb_model *m, float *sums, int64_t C) {
  int rc = kcb__dist_sum_floats(m->sync_dist, sums, (int)(2 * C));
  if (rc && !m->sync_rc) m->sync_rc = rc;
}

/* With xhat = (x - mean) * inv and g = gamma * dL/dy = dL/dxhat (the batch's statistics):
 *   dbeta = sum(dL/dy), dgamma = sum(dL/dy * xhat),
 *   dx = inv * (g - mean(g) - xhat * mean(g * xhat)).
 * With the moving statistics (constants) dx = gamma * inv * dL/dy. Both are one affine map per
 * channel of (dL/dy, x - mean), after one pass for the sums. */
static void batch_norm_backward(kcb_model *m, const kcb__layer *l, const kcb__layer *pool, const norm_vars *v, float *gy,
                                float *dx, int64_t rows, int64_t C) {
  const float *mean = l->stat, *inv = l->inv_std, *x = l->in;
  float *sum_g = l->stat + C, *sum_gd = l->stat + 2 * C, *a = l->stat + 3 * C, *b = l->stat + 4 * C, *d = l->stat + 5 * C;
  channel_job j = {.x = x, .gy = gy, .mean = mean, .a = a, .b = b, .d = d, .pool = pool, .out = dx, .C = C};
  kcb__parallel_sums(rows, rows_per_part(C), sum_g, 2 * C, grad_sums_part, &j); /* sum_g, then sum_gd */
  for (int64_t c = 0; c < C; c++) {
    if (v->dbeta) v->dbeta[c] = sum_g[c];
    if (v->dgamma) v->dgamma[c] = sum_gd[c] * inv[c];
  }
  if (!dx) return;
  int64_t batch_rows = rows; /* what the means are over: the global batch's rows when distributed */
  if (m->sync_dist) {
    sync_grad_sums(m, sum_g, C);
    batch_rows = m->sync_global * (l->out_size / C);
  }
  for (int64_t c = 0; c < C; c++) {
    float gamma = v->gamma ? v->gamma[c] : 1.0f;
    a[c] = gamma * inv[c];
    if (l->norm_training) {
      float mean_g = gamma * sum_g[c] / (float)batch_rows, mean_gx = gamma * sum_gd[c] * inv[c] / (float)batch_rows;
      b[c] = -inv[c] * inv[c] * mean_gx;
      d[c] = -inv[c] * mean_g;
    } else {
      b[c] = d[c] = 0.0f;
    }
  }
  kcb__parallel(rows, rows_per_part(C), 1, affine_grad_part, &j);
}

void kcb__norm_backward(kcb_model *m, kcb__layer *l, const kcb__layer *pool, float *gy, float *dx, int64_t batch) {
  const int64_t C = l->in_width, rows = batch * (l->out_size / C);
  norm_vars v = vars_of(m, l);
  if (l->kind == KCB__LAYER_NORMALIZATION) layer_norm_backward(l, &v, gy, dx, rows, C);
  else batch_norm_backward(m, l, pool, &v, gy, dx, rows, C);
}

void kcb__norm_sync_without_samples(kcb_model *m, int forward, int backward) {
  if (forward)
    for (size_t i = 0; i < m->n_layers; i++) {
      kcb__layer *l = &m->layers[i];
      if (l->kind != KCB__BATCH_NORMALIZATION || l->frozen) continue; /* frozen: no batch statistics */
      norm_vars v = vars_of(m, l);
      global_moments(m, 0, l->stat, l->inv_std, l->in_width);
      finish_moments(l, &v, l->stat, l->inv_std);
    }
  if (backward) /* the layers whose backward computes dx, last first, as kcb__model_backward visits them */
    for (size_t i = m->n_layers; i-- > 0;) {
      kcb__layer *l = &m->layers[i];
      if (l->kind != KCB__BATCH_NORMALIZATION || !kcb__model_backward_needs_dx(m, i)) continue;
      memset(l->stat + l->in_width, 0, 2 * (size_t)l->in_width * sizeof(float));
      sync_grad_sums(m, l->stat + l->in_width, l->in_width);
    }
}
