/* callbacks/monitor — which way a monitored value improves, and whether a value is an improvement. */
#include "callbacks/monitor.h"

#include <math.h>
#include <string.h>

#include "internal.h"
#include "model/model_internal.h"

int kcb_monitor_mode_from_name(kcb_monitor_mode *out, const char *name) {
  static const char *names[] = {"auto", "min", "max"};
  if (!out) return kcb__error(KCB_EINVAL, "kcb_monitor_mode_from_name: out is NULL");
  for (int i = 0; i < 3; i++)
    if (name && strcmp(name, names[i]) == 0) {
      *out = (kcb_monitor_mode)i;
      return 0;
    }
  return kcb__error(KCB_EINVAL, "mode '%s' is not one of 'auto', 'min', 'max'", name ? name : "(null)");
}

const char *kcb_monitor_mode_name(kcb_monitor_mode mode) {
  return mode == KCB_MONITOR_AUTO ? "auto" : mode == KCB_MONITOR_MIN ? "min" : mode == KCB_MONITOR_MAX ? "max" : "?";
}

kcb_monitor_mode kcb_monitor_mode_for_name(const char *name) {
  static const char *const up[] = {
      "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy", "top_k_categorical_accuracy",
      "sparse_top_k_categorical_accuracy", "precision", "recall", "auc", "precision_at_recall", "recall_at_precision",
      "sensitivity_at_specificity", "specificity_at_sensitivity", "f1_score", "fbeta_score", "io_u", "binary_io_u",
      "mean_io_u", "one_hot_io_u", "one_hot_mean_io_u", "pearson_correlation", "concordance_correlation",
      "cosine_similarity", "r2_score"};
  static const char *const down[] = {
      "loss", "mse", "mae", "mape", "msle", "rmse", "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
      "mean_squared_logarithmic_error", "root_mean_squared_error", "logcosh", "log_cosh_error", "hinge", "squared_hinge",
      "categorical_hinge", "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
      "kl_divergence", "poisson"};
  if (!name) return KCB_MONITOR_AUTO;
  char base[128];
  kcb__strlcpy(base, strncmp(name, "val_", 4) == 0 ? name + 4 : name, sizeof base);
  char *us = strrchr(base, '_'); /* Keras's "precision_1" for a second Precision */
  size_t n = strlen(base);
  if (us && us[1] && strspn(us + 1, "0123456789") == strlen(us + 1)) n = (size_t)(us - base);
  /* a metric's own name, or a multi-output model's `{output}_{metric}`: the longest name it ends with
   * after a '_' ("accel_mae" is a mean absolute error, whatever its output is called) */
  size_t best = 0;
  kcb_monitor_mode found = KCB_MONITOR_AUTO;
  for (int pass = 0; pass < 2; pass++) {
    const char *const *list = pass ? down : up;
    size_t count = pass ? sizeof down / sizeof *down : sizeof up / sizeof *up;
    for (size_t i = 0; i < count; i++) {
      size_t len = strlen(list[i]);
      int whole = len == n, tail = len < n && base[n - len - 1] == '_';
      if ((whole || tail) && len > best && strncmp(list[i], base + n - len, len) == 0)
        best = len, found = pass ? KCB_MONITOR_MIN : KCB_MONITOR_MAX;
    }
  }
  if (found != KCB_MONITOR_AUTO) return found;
  base[n] = '\0';
  if (kcb__ends_with(base, "loss") || kcb__ends_with(base, "error") || kcb__ends_with(base, "crossentropy") ||
      kcb__ends_with(base, "hinge"))
    return KCB_MONITOR_MIN;
  /* a custom metric named for what it measures, judged by its last word only: an output's name
   * before it ("accel_", "auction_") says nothing of the direction */
  static const char *const up_words[] = {"acc", "accuracy", "auc", "precision", "recall", "f1"};
  const char *last = strrchr(base, '_');
  last = last ? last + 1 : base;
  for (size_t i = 0; i < sizeof up_words / sizeof *up_words; i++)
    if (strcmp(last, up_words[i]) == 0) return KCB_MONITOR_MAX;
  return KCB_MONITOR_AUTO;
}

int kcb__monitor_init(kcb__monitor *m, const char *owner, const char *name, kcb_monitor_mode mode, double min_delta) {
  memset(m, 0, sizeof *m);
  if (!name || !name[0] || strlen(name) >= sizeof m->name)
    return kcb__error(KCB_EINVAL, "%s: monitor '%s' must be a log name of 1 to %d characters", owner,
                      name ? name : "(null)", (int)sizeof m->name - 1);
  if (mode != KCB_MONITOR_AUTO && mode != KCB_MONITOR_MIN && mode != KCB_MONITOR_MAX)
    return kcb__error(KCB_EINVAL, "%s: mode %d is not auto, min or max", owner, (int)mode);
  if (isnan(min_delta)) return kcb__error(KCB_EINVAL, "%s: min_delta is NaN", owner);
  kcb__strlcpy(m->name, name, sizeof m->name);
  m->mode = mode;
  m->resolved = mode != KCB_MONITOR_AUTO;
  m->min_delta = fabs(min_delta);
  return 0;
}

int kcb__monitor_resolve(kcb__monitor *m, const char *owner, const kcb_model *model) {
  if (m->resolved) return 0;
  const char *base = strncmp(m->name, "val_", 4) == 0 ? m->name + 4 : m->name;
  int found = strcmp(base, "loss") == 0, greater = 0;
  for (size_t i = 0; model && !found && i < model->n_metrics; i++)
    if (strcmp(base, model->metric_names[i]) == 0) {
      found = 1;
      greater = model->metrics[i] != KCB_METRIC_MEAN_SQUARED_ERROR && model->metrics[i] != KCB_METRIC_MEAN_ABSOLUTE_ERROR;
    }
  if (!found)
    return kcb__error(KCB_EINVAL,
                      "%s callback received monitor=%s, but Keras isn't able to automatically determine whether "
                      "that metric should be maximized or minimized. Pass `mode='max'` in order to monitor based "
                      "on the highest metric value, or pass `mode='min'` in order to use the lowest value.",
                      owner, m->name);
  m->mode = greater ? KCB_MONITOR_MAX : KCB_MONITOR_MIN;
  m->resolved = 1;
  return 0;
}

int kcb__monitor_is_improvement(const kcb__monitor *m, double value, int has_ref, double ref) {
  if (!has_ref) return 1;
  return m->mode == KCB_MONITOR_MAX ? value - m->min_delta > ref : value + m->min_delta < ref;
}

int kcb__monitor_value(const kcb__monitor *m, const kcb_logs *logs, double *out) {
  return kcb_logs_get(logs, m->name, out) ? 0 : KCB_EKEY;
}

void kcb__monitor_warn_missing(kcb__monitor *m, FILE *stream, const char *subject, const char *end,
                               const kcb_logs *logs) {
  if (m->warned) return;
  m->warned = 1;
  fprintf(stream, "UserWarning: %s conditioned on metric `%s` which is not available. Available metrics are: ",
          subject, m->name);
  for (size_t i = 0; i < logs->count; i++) fprintf(stream, "%s%s", i ? "," : "", logs->entries[i].key);
  fprintf(stream, "%s\n", end);
  fflush(stream);
}
