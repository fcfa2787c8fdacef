/* model/losses.c — Keras's losses, mean over rows ("sum_over_batch_size"), with gradients.
 * Probabilities are clipped to [1e-7, 1 - 1e-7] as Keras's backend does (epsilon()); the
 * *_from_logits forms use the numerically stable expressions. */
#include <math.h>

#include "model/model_internal.h"

#define EPSILON 1e-7f

int kcb__loss_is_sparse(kcb_loss loss) { return loss == KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY; }

int kcb__is_class_index(float label, int64_t width) { return label >= 0 && label < (float)width && label == floorf(label); }

static float clipf(float v) { return v < EPSILON ? EPSILON : v > 1.0f - EPSILON ? 1.0f - EPSILON : v; }

/* Per-row crossentropy against a target distribution t (or, when label >= 0, a one-hot class).
 * Keras normalises probabilities by their sum before clipping; logits go through log-softmax. */
static double row_crossentropy(const float *p, const float *t, int64_t label, int64_t width,
                               int from_logits, float *g, float scale) {
  double loss = 0;
  if (from_logits) {
    float max = p[0];
    for (int64_t j = 1; j < width; j++) max = fmaxf(max, p[j]);
    double sum = 0;
    for (int64_t j = 0; j < width; j++) sum += exp((double)p[j] - max);
    double log_sum = log(sum) + max;
    double t_sum = 0;
    for (int64_t j = 0; j < width; j++) {
      double tj = label >= 0 ? (j == label) : t[j];
      t_sum += tj;
      loss -= tj * ((double)p[j] - log_sum);
    }
    if (g)
      for (int64_t j = 0; j < width; j++) {
        double tj = label >= 0 ? (j == label) : t[j];
        g[j] = (float)(scale * (exp((double)p[j] - log_sum) * t_sum - tj));
      }
    return loss;
  }
  double s = 0;
  for (int64_t j = 0; j < width; j++) s += p[j];
  double dot = 0; /* sum_k dL/dq_k * q_k, for the normalisation's gradient */
  for (int64_t j = 0; j < width; j++) {
    double tj = label >= 0 ? (j == label) : t[j];
    double q = p[j] / s;
    float qc = clipf((float)q);
    /* 0 * log(qc) adds nothing (qc is clipped above 0) unless qc is NaN (a row summing to 0), which
     * makes the loss NaN as in Keras */
    if (tj != 0 || isnan(qc)) loss -= tj * log(qc);
    double dq = (qc == (float)q && tj != 0) ? -tj / q : 0.0; /* clipped values pass no gradient */
    if (g) g[j] = (float)dq;
    dot += dq * q;
  }
  if (g)
    for (int64_t j = 0; j < width; j++) g[j] = (float)(scale * (g[j] - dot) / s);
  return loss;
}

int kcb__loss_compute(kcb_loss loss, int from_logits, const float *y_pred, const float *y_true,
                      int64_t rows, int64_t width, float *grad, double *out_loss) {
  double total = 0;
  float inv_rows = 1.0f / (float)rows, inv_n = 1.0f / (float)(rows * width);
  switch (loss) {
    case KCB_LOSS_MEAN_SQUARED_ERROR:
      for (int64_t i = 0; i < rows * width; i++) {
        float d = y_pred[i] - y_true[i];
        total += (double)d * d;
        if (grad) grad[i] = 2.0f * d * inv_n;
      }
      total /= (double)width;
      break;
    case KCB_LOSS_MEAN_ABSOLUTE_ERROR:
      for (int64_t i = 0; i < rows * width; i++) {
        float d = y_pred[i] - y_true[i];
        total += fabs((double)d);
        if (grad) grad[i] = (d > 0 ? 1.0f : d < 0 ? -1.0f : 0.0f) * inv_n;
      }
      total /= (double)width;
      break;
    case KCB_LOSS_BINARY_CROSSENTROPY:
      for (int64_t i = 0; i < rows * width; i++) {
        float x = y_pred[i], t = y_true[i];
        if (from_logits) {
          total += fmax(x, 0.0) - (double)x * t + log1p(exp(-fabs((double)x)));
          if (grad) {
            float sig = x >= 0 ? 1.0f / (1.0f + expf(-x)) : expf(x) / (1.0f + expf(x));
            grad[i] = (sig - t) * inv_n;
          }
        } else {
          float p = clipf(x);
          total -= t * log(p) + (1.0 - t) * log(1.0 - p);
          if (grad) grad[i] = p == x ? (float)((-t / p + (1.0 - t) / (1.0 - p)) * inv_n) : 0.0f;
        }
      }
      total /= (double)width;
      break;
    case KCB_LOSS_CATEGORICAL_CROSSENTROPY:
    case KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
      for (int64_t r = 0; r < rows; r++) {
        int64_t label = -1;
        if (loss == KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY) {
          float l = y_true[r];
          if (!kcb__is_class_index(l, width))
            return kcb__error(KCB_EINVAL, "sparse_categorical_crossentropy: label %g of row %lld is not a class index in 0..%lld",
                              (double)l, (long long)r, (long long)(width - 1));
          label = (int64_t)l;
        }
        total += row_crossentropy(y_pred + r * width, label >= 0 ? NULL : y_true + r * width, label, width, from_logits,
                                  grad ? grad + r * width : NULL, inv_rows);
      }
      break;
    default:
      return kcb__error(KCB_EINVAL, "unknown loss %d", (int)loss);
  }
  *out_loss = total / (double)rows;
  return 0;
}
