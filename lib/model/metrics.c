/* model/metrics.c — Keras's stateful metrics: running means of per-row values. */
#include <math.h>

#include "model/model_internal.h"

static int64_t argmax(const float *v, int64_t n) {
  int64_t best = 0; /* the first maximum wins, as numpy's and TF's argmax */
  for (int64_t j = 1; j < n; j++)
    if (v[j] > v[best]) best = j;
  return best;
}

kcb_metric kcb__metric_resolve(kcb_metric metric, int64_t out_width, int sparse_targets) {
  if (metric != KCB_METRIC_ACCURACY) return metric;
  if (out_width == 1) return KCB_METRIC_BINARY_ACCURACY;
  return sparse_targets ? KCB_METRIC_SPARSE_CATEGORICAL_ACCURACY : KCB_METRIC_CATEGORICAL_ACCURACY;
}

void kcb__metric_update(kcb_metric metric, kcb__mean *state, const float *y_pred, const float *y_true,
                        int64_t rows, int64_t width) {
  double total = 0;
  for (int64_t r = 0; r < rows; r++) {
    const float *p = y_pred + r * width;
    double v = 0;
    switch (metric) {
      case KCB_METRIC_SPARSE_CATEGORICAL_ACCURACY:
        v = (float)argmax(p, width) == y_true[r];
        break;
      case KCB_METRIC_CATEGORICAL_ACCURACY:
        v = argmax(p, width) == argmax(y_true + r * width, width);
        break;
      default: {
        const float *t = y_true + r * width;
        for (int64_t j = 0; j < width; j++) {
          double d = (double)p[j] - t[j];
          switch (metric) {
            case KCB_METRIC_MEAN_SQUARED_ERROR: v += d * d; break;
            case KCB_METRIC_MEAN_ABSOLUTE_ERROR: v += fabs(d); break;
            case KCB_METRIC_BINARY_ACCURACY: v += (p[j] > 0.5f ? 1.0f : 0.0f) == t[j]; break;
            default: v += p[j] == t[j]; break; /* plain Accuracy: exact equality */
          }
        }
        v /= (double)width;
      }
    }
    total += v;
  }
  state->total += total;
  state->count += (double)rows;
}

double kcb__mean_result(const kcb__mean *m) { return m->count > 0 ? m->total / m->count : 0.0; }
