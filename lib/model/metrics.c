/* model/metrics.c — Keras's stateful metrics: running means of per-row values. */
#include <float.h>
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
                        int64_t rows, int64_t width, int64_t label_width) {
  double total = 0;
  for (int64_t r = 0; r < rows; r++) {
    const float *p = y_pred + r * width;
    double v = 0;
    switch (metric) {
      case KCB_METRIC_SPARSE_CATEGORICAL_ACCURACY: /* kcb__metric_check: one label a row */
        v = (float)argmax(p, width) == y_true[r];
        break;
      case KCB_METRIC_CATEGORICAL_ACCURACY: /* kcb__metric_check: one-hot labels */
        v = argmax(p, width) == argmax(y_true + r * width, width);
        break;
      default: {
        /* A row's one label (sparse) is broadcast against every output, as Keras broadcasts it. */
        const float *t = y_true + r * label_width;
        const int64_t step = label_width == 1 ? 0 : 1;
        for (int64_t j = 0; j < width; j++) {
          double d = (double)p[j] - t[j * step];
          switch (metric) {
            case KCB_METRIC_MEAN_SQUARED_ERROR: v += d * d; break;
            case KCB_METRIC_MEAN_ABSOLUTE_ERROR: v += fabs(d); break;
            case KCB_METRIC_BINARY_ACCURACY: v += (p[j] > 0.5f ? 1.0f : 0.0f) == t[j * step]; break;
            default: v += p[j] == t[j * step]; break; /* plain Accuracy: exact equality */
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

int kcb__metric_check(kcb_metric metric, const char *name, int64_t width, int64_t label_width) {
  if (metric == KCB_METRIC_CATEGORICAL_ACCURACY && label_width != width)
    return kcb__error(KCB_ESHAPE,
                      "metric '%s' compares one-hot labels with the %lld outputs, but the labels hold one class index "
                      "a sample: use sparse_categorical_accuracy (or accuracy)",
                      name, (long long)width);
  if (metric == KCB_METRIC_SPARSE_CATEGORICAL_ACCURACY && label_width != 1)
    return kcb__error(KCB_ESHAPE,
                      "metric '%s' needs one class index a sample, but the labels are one-hot rows of %lld: use "
                      "categorical_accuracy (or accuracy)",
                      name, (long long)label_width);
  return 0;
}

/* Keras's Mean metrics (the loss tracker among them) hold float32 variables, so every number its
 * logs show is a float32 (0.3100000023841858, not 0.31), and one past float32's range is inf:
 * what CSVLogger prints, History keeps and TerminateOnNaN sees. The sums here stay double. */
double kcb__mean_result(const kcb__mean *m) {
  double mean = m->count > 0 ? m->total / m->count : 0.0;
  if (isnan(mean)) return mean;
  if (fabs(mean) > FLT_MAX) return mean > 0 ? INFINITY : -INFINITY; /* float32 overflows (a cast would be undefined) */
  return (double)(float)mean;
}

int kcb__validation_logs_key(const kcb_model *m, const char *key) {
  if (strcmp(key, "loss") == 0) return 1;
  for (size_t i = 0; m && i < m->n_metrics; i++)
    if (strcmp(key, m->metric_names[i]) == 0) return 1;
  return 0;
}
