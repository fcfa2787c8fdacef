/* callbacks/monitor — Keras 3's MonitorCallback logic, written once for every callback that watches a
 * metric (spec/keras-callbacks.md §2.3). */
#ifndef KCB_CALLBACKS_MONITOR_H
#define KCB_CALLBACKS_MONITOR_H

#include <stdio.h>

#include "kcb/logs.h"
#include "kcb/model.h"
#include "kcb/monitor.h"

typedef struct kcb__monitor {
  char name[KCB_LOGS_KEY_MAX]; /* the log key watched, e.g. "val_loss" */
  kcb_monitor_mode mode;       /* as asked; MIN or MAX once resolved */
  int resolved;                /* direction fixed (at the first epoch end, as Keras defers it) */
  double min_delta;            /* |min_delta|; the sign is applied by the comparison */
  int warned;                  /* the missing-metric warning was shown */
} kcb__monitor;

/* Sets the monitor up; an empty or over-long name is KCB_EINVAL, naming `owner` (e.g. "EarlyStopping"). */
int kcb__monitor_init(kcb__monitor *m, const char *owner, const char *name, kcb_monitor_mode mode, double min_delta);

/* Fixes the direction of an AUTO monitor from the model's compiled metrics: "loss" → min; a metric's
 * own direction otherwise; an unknown name is KCB_EINVAL with Keras's advice to pass a mode. */
int kcb__monitor_resolve(kcb__monitor *m, const char *owner, const kcb_model *model);

/* Keras's _is_improvement: true when there is no reference yet (has_ref 0); else min mode
 * value < ref - min_delta, max mode value > ref + min_delta. Strict; NaN never improves. */
int kcb__monitor_is_improvement(const kcb__monitor *m, double value, int has_ref, double ref);

/* The monitored value from logs: 0 if present, KCB_EKEY when absent (no message set: callers decide
 * whether that is a warning or an error). */
int kcb__monitor_value(const kcb__monitor *m, const kcb_logs *logs, double *out);

/* Keras's warning for a monitored key absent from the logs, written to stream:
 * "UserWarning: <subject> conditioned on metric `m` which is not available. Available metrics are: a,b<end>"
 * (EarlyStopping: "Early stopping", ""; ReduceLROnPlateau: "Learning rate reduction is", ".").
 * Python shows a warning once per place and text; kcb shows it once per callback. */
void kcb__monitor_warn_missing(kcb__monitor *m, FILE *stream, const char *subject, const char *end,
                               const kcb_logs *logs);

#endif
