/* model/normalization.c — BatchNormalization and LayerNormalization over the last axis.
 * BatchNormalization keeps its moving statistics in the parameter block as non-trainable
 * variables: fit's forward pass updates them, the optimizer never sees them. */
#include <math.h>
#include <string.h>

#include "model/model_internal.h"

static int add_norm(kcb_model *m, const kcb_batch_normalization_options *opts, int batch_norm) {
  kcb_batch_normalization_options defaults = KCB_BATCH_NORMALIZATION_OPTIONS_INIT;
  const kcb_batch_normalization_options *o = opts ? opts : &defaults;
  const char *cls = batch_norm ? "BatchNormalization" : "LayerNormalization";
  if (!(o->epsilon > 0) || !isfinite(o->epsilon)) return kcb__error(KCB_EINVAL, "%s: epsilon must be > 0, got %g", cls, o->epsilon);
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

/* xhat = (x - mean) * inv, out = gamma * xhat + beta over rows of width C; mean and inv per
 * channel (BatchNormalization, stride 1) or per row (LayerNormalization, stride 0). */
static void normalise(const norm_vars *v, const float *x, const float *mean, const float *inv, int per_row, float *xhat,
                      float *out, int64_t rows, int64_t C) {
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * C;
    float *hr = xhat + r * C, *yr = out + r * C;
    if (per_row) {
      const float mu = mean[r], s = inv[r];
      for (int64_t c = 0; c < C; c++) hr[c] = (xr[c] - mu) * s;
    } else {
      for (int64_t c = 0; c < C; c++) hr[c] = (xr[c] - mean[c]) * inv[c];
    }
    if (v->gamma && v->beta)
      for (int64_t c = 0; c < C; c++) yr[c] = v->gamma[c] * hr[c] + v->beta[c];
    else if (v->gamma)
      for (int64_t c = 0; c < C; c++) yr[c] = v->gamma[c] * hr[c];
    else if (v->beta)
      for (int64_t c = 0; c < C; c++) yr[c] = hr[c] + v->beta[c];
    else
      memcpy(yr, hr, (size_t)C * sizeof *yr);
  }
}

static void batch_norm_forward(kcb_model *m, kcb__layer *l, const float *x, int64_t rows, int training) {
  const int64_t C = l->in_width;
  norm_vars v = vars_of(m, l);
  float *mean = l->stat, *inv = l->inv_std;
  l->norm_training = training;
  if (training) {
    memset(mean, 0, (size_t)C * sizeof *mean);
    memset(inv, 0, (size_t)C * sizeof *inv);
    for (int64_t r = 0; r < rows; r++)
      for (int64_t c = 0; c < C; c++) mean[c] += x[r * C + c];
    for (int64_t c = 0; c < C; c++) mean[c] /= (float)rows;
    for (int64_t r = 0; r < rows; r++)
      for (int64_t c = 0; c < C; c++) {
        float d = x[r * C + c] - mean[c];
        inv[c] += d * d; /* the sum of squares, for now */
      }
    const float mom = (float)l->momentum;
    for (int64_t c = 0; c < C; c++) {
      float var = inv[c] / (float)rows; /* biased, as Keras's moments */
      v.moving_mean[c] = v.moving_mean[c] * mom + mean[c] * (1 - mom);
      v.moving_variance[c] = v.moving_variance[c] * mom + var * (1 - mom);
      inv[c] = 1.0f / sqrtf(var + (float)l->epsilon);
    }
  } else {
    for (int64_t c = 0; c < C; c++) {
      mean[c] = v.moving_mean[c];
      inv[c] = 1.0f / sqrtf(v.moving_variance[c] + (float)l->epsilon);
    }
  }
  normalise(&v, x, mean, inv, 0, l->xhat, l->out, rows, C);
}

static void layer_norm_forward(kcb_model *m, kcb__layer *l, const float *x, int64_t rows) {
  const int64_t C = l->in_width;
  norm_vars v = vars_of(m, l);
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * C;
    float mu = 0, var = 0;
    for (int64_t c = 0; c < C; c++) mu += xr[c];
    mu /= (float)C;
    for (int64_t c = 0; c < C; c++) var += (xr[c] - mu) * (xr[c] - mu);
    float inv = 1.0f / sqrtf(var / (float)C + (float)l->epsilon);
    l->inv_std[r] = inv;
    normalise(&v, xr, &mu, &inv, 1, l->xhat + r * C, l->out + r * C, 1, C);
  }
}

void kcb__norm_forward(kcb_model *m, kcb__layer *l, const float *x, int64_t batch, int training) {
  int64_t rows = batch * (l->out_size / l->in_width);
  if (l->kind == KCB__BATCH_NORMALIZATION) batch_norm_forward(m, l, x, rows, training);
  else layer_norm_forward(m, l, x, rows);
}

/* dgamma, dbeta over all rows (one pass when both exist); then gy becomes gamma * gy
 * (dL/dxhat) in place. */
static void sums_both(float *restrict dgamma, float *restrict dbeta, const float *restrict xhat, const float *restrict gy,
                      int64_t rows, int64_t C) {
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < C; c++) {
      dgamma[c] += gy[r * C + c] * xhat[r * C + c];
      dbeta[c] += gy[r * C + c];
    }
}

static void param_grads(const norm_vars *v, const float *xhat, float *gy, int64_t rows, int64_t C) {
  if (v->dgamma) memset(v->dgamma, 0, (size_t)C * sizeof *v->dgamma);
  if (v->dbeta) memset(v->dbeta, 0, (size_t)C * sizeof *v->dbeta);
  if (v->dgamma && v->dbeta) {
    sums_both(v->dgamma, v->dbeta, xhat, gy, rows, C);
  } else if (v->dgamma) {
    for (int64_t r = 0; r < rows; r++)
      for (int64_t c = 0; c < C; c++) v->dgamma[c] += gy[r * C + c] * xhat[r * C + c];
  } else if (v->dbeta) {
    for (int64_t r = 0; r < rows; r++)
      for (int64_t c = 0; c < C; c++) v->dbeta[c] += gy[r * C + c];
  }
}

/* dx = inv * (gamma * gy - mean_g - xhat * mean_gx) per channel; dx may be gy. */
static void batch_norm_dx(float *dx, const float *gy, const float *xhat, const float *inv, const float *gamma_or_null,
                          const float *mean_g, const float *mean_gx, int64_t rows, int64_t C) {
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < C; c++) {
      float g = gamma_or_null ? gamma_or_null[c] * gy[r * C + c] : gy[r * C + c];
      dx[r * C + c] = inv[c] * (g - mean_g[c] - xhat[r * C + c] * mean_gx[c]);
    }
}

void kcb__norm_backward(kcb_model *m, kcb__layer *l, float *gy, float *dx, int64_t batch) {
  const int64_t C = l->in_width, rows = batch * (l->out_size / C);
  norm_vars v = vars_of(m, l);
  param_grads(&v, l->xhat, gy, rows, C);
  if (!dx) return;
  const float *xhat = l->xhat;
  if (l->kind == KCB__LAYER_NORMALIZATION) { /* per row, g = gamma * dL/dy = dL/dxhat */
    for (int64_t r = 0; r < rows; r++) {
      float sum = 0, dot = 0;
      float *gr = gy + r * C;
      const float *xr = xhat + r * C;
      if (v.gamma)
        for (int64_t c = 0; c < C; c++) gr[c] *= v.gamma[c];
      for (int64_t c = 0; c < C; c++) sum += gr[c], dot += gr[c] * xr[c];
      sum /= (float)C, dot /= (float)C;
      for (int64_t c = 0; c < C; c++) dx[r * C + c] = l->inv_std[r] * (gr[c] - sum - xr[c] * dot);
    }
    return;
  }
  if (!l->norm_training) { /* moving statistics are constants: dx = gamma * dy / std */
    for (int64_t r = 0; r < rows; r++)
      for (int64_t c = 0; c < C; c++) dx[r * C + c] = gy[r * C + c] * (v.gamma ? v.gamma[c] : 1.0f) * l->inv_std[c];
    return;
  }
  /* Batch statistics: per channel, with g = gamma * dL/dy = dL/dxhat,
   * dx = inv_std * (g - mean(g) - xhat * mean(g * xhat)); the means come from the sums
   * param_grads made (dbeta, dgamma) times gamma, or are summed here when those are absent. */
  float *mean_g = l->stat, *mean_gx = l->stat + C;
  if (v.dbeta && v.dgamma) {
    for (int64_t c = 0; c < C; c++) {
      float gamma = v.gamma ? v.gamma[c] : 1.0f;
      mean_g[c] = gamma * v.dbeta[c] / (float)rows;
      mean_gx[c] = gamma * v.dgamma[c] / (float)rows;
    }
  } else {
    memset(mean_g, 0, (size_t)(2 * C) * sizeof *mean_g);
    for (int64_t r = 0; r < rows; r++)
      for (int64_t c = 0; c < C; c++) {
        mean_g[c] += gy[r * C + c];
        mean_gx[c] += gy[r * C + c] * xhat[r * C + c];
      }
    for (int64_t c = 0; c < C; c++) {
      float gamma = v.gamma ? v.gamma[c] : 1.0f;
      mean_g[c] *= gamma / (float)rows, mean_gx[c] *= gamma / (float)rows;
    }
  }
  batch_norm_dx(dx, gy, xhat, l->inv_std, v.gamma, mean_g, mean_gx, rows, C);
}
