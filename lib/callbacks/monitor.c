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
