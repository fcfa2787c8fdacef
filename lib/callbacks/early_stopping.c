/* callbacks/early_stopping.c — Keras 3's EarlyStopping (spec/keras-callbacks.md §2.5). */
#include <math.h>
#include <stdlib.h>

#include "callbacks/monitor.h"
#include "internal.h"
#include "model/snapshot.h"

typedef struct early_stopping {
  kcb_callback base;
  kcb__monitor monitor;
  int patience, verbose, restore_best_weights, start_from_epoch;
  double baseline;        /* NaN: none */
  FILE *stream;
  FILE *warnings; /* Keras's warnings.warn: stderr unless a stream was given */
  /* reset at every train begin */
  int wait, stopped_epoch, best_epoch, has_best;
  double best;
  kcb__snapshot best_weights;
} early_stopping;

static int es_on_train_begin(kcb_callback *cb, kcb_logs *logs) {
  early_stopping *es = (early_stopping *)cb;
  es->wait = es->stopped_epoch = es->best_epoch = es->has_best = 0;
  es->best = NAN;
  kcb__snapshot_clear(&es->best_weights);
  /* Keras resolves the direction at the first epoch end; the model's metrics are known here
   * already, so a monitor it cannot resolve fails before any training. */
  return kcb__monitor_resolve(&es->monitor, "EarlyStopping", cb->model);
}

static int es_on_epoch_end(kcb_callback *cb, int epoch, kcb_logs *logs) {
  early_stopping *es = (early_stopping *)cb;
  double current;
  int rc = kcb__monitor_resolve(&es->monitor, "EarlyStopping", cb->model);
  if (rc) return rc;
  if (kcb__monitor_value(&es->monitor, logs, &current) != 0) {
    if (kcb__callback_says(cb)) kcb__monitor_warn_missing(&es->monitor, es->warnings, "Early stopping", "", logs);
    return 0;
  }
  if (epoch < es->start_from_epoch) return 0;
  if (es->restore_best_weights && !kcb__snapshot_valid(&es->best_weights)) {
    /* the weights at the first considered epoch, in case no epoch ever improves */
    if ((rc = kcb__snapshot_take(&es->best_weights, cb->model, epoch))) return rc;
    es->best_epoch = epoch;
  }
  es->wait++;
  if (kcb__monitor_is_improvement(&es->monitor, current, es->has_best, es->best)) {
    es->best = current;
    es->has_best = 1;
    es->best_epoch = epoch;
    if (es->restore_best_weights && (rc = kcb__snapshot_take(&es->best_weights, cb->model, epoch))) return rc;
    /* with a baseline, only a value that also beats it restarts the count */
    if (isnan(es->baseline) || kcb__monitor_is_improvement(&es->monitor, current, 1, es->baseline)) es->wait = 0;
    return 0;
  }
  if (es->wait >= es->patience && epoch > 0) {
    es->stopped_epoch = epoch;
    kcb_model_set_stop_training(cb->model, 1);
  }
  return 0;
}

static int es_on_train_end(kcb_callback *cb, kcb_logs *logs) {
  early_stopping *es = (early_stopping *)cb;
  const int say = es->verbose > 0 && kcb__callback_says(cb);
  if (es->stopped_epoch > 0 && say) fprintf(es->stream, "Epoch %d: early stopping\n", es->stopped_epoch + 1);
  /* An interrupted fit keeps the weights it was cut at, as Keras's KeyboardInterrupt skips
   * on_train_end: BackupAndRestore's backup then holds them and the resumed run goes on as the
   * uninterrupted one would have. */
  if (es->restore_best_weights && kcb__snapshot_valid(&es->best_weights) && !kcb_model_interrupted(cb->model)) {
    if (say)
      fprintf(es->stream, "Restoring model weights from the end of the best epoch: %d.\n", es->best_epoch + 1);
    int rc = kcb__snapshot_restore(&es->best_weights, cb->model);
    if (rc) return rc;
  }
  fflush(es->stream);
  return 0;
}

static void es_destroy(kcb_callback *cb) { kcb__snapshot_free(&((early_stopping *)cb)->best_weights); }

static const kcb_callback_ops early_stopping_ops = {
    .name = "EarlyStopping",
    .on_train_begin = es_on_train_begin,
    .on_train_end = es_on_train_end,
    .on_epoch_end = es_on_epoch_end,
    .destroy = es_destroy,
};

int kcb_early_stopping_new(kcb_callback **out, const kcb_early_stopping_options *opts) {
  if (!out) return kcb__error(KCB_EINVAL, "EarlyStopping: out is NULL");
  kcb_early_stopping_options defaults = KCB_EARLY_STOPPING_OPTIONS_INIT;
  const kcb_early_stopping_options *o = opts ? opts : &defaults;
  kcb__monitor monitor;
  *out = NULL;
  int rc = kcb__monitor_init(&monitor, "EarlyStopping", o->monitor, o->mode, o->min_delta);
  if (rc) return rc;
  if (o->patience < 0) return kcb__error(KCB_EINVAL, "EarlyStopping: patience must be >= 0, got %d", o->patience);
  if (o->start_from_epoch < 0)
    return kcb__error(KCB_EINVAL, "EarlyStopping: start_from_epoch must be >= 0, got %d", o->start_from_epoch);
  early_stopping *es = calloc(1, sizeof *es);
  if (!es) return kcb__error(KCB_ENOMEM, "out of memory creating EarlyStopping");
  es->base.ops = &early_stopping_ops;
  es->base.owned_by_kcb = 1;
  es->monitor = monitor;
  es->patience = o->patience;
  es->verbose = o->verbose;
  es->restore_best_weights = o->restore_best_weights != 0;
  es->start_from_epoch = o->start_from_epoch;
  es->baseline = o->baseline;
  es->stream = o->stream ? o->stream : stdout;
  es->warnings = o->stream ? o->stream : stderr;
  es->best = NAN;
  es->best_weights = (kcb__snapshot)KCB__SNAPSHOT_INIT;
  *out = &es->base;
  return 0;
}

/* The callback as an EarlyStopping, or NULL when it is another kind. */
static const early_stopping *as_early_stopping(const kcb_callback *cb) {
  return cb && cb->ops == &early_stopping_ops ? (const early_stopping *)cb : NULL;
}
int kcb_early_stopping_stopped_epoch(const kcb_callback *cb) {
  const early_stopping *es = as_early_stopping(cb);
  return es ? es->stopped_epoch : 0;
}
int kcb_early_stopping_best_epoch(const kcb_callback *cb) {
  const early_stopping *es = as_early_stopping(cb);
  return es ? es->best_epoch : 0;
}
double kcb_early_stopping_best(const kcb_callback *cb) {
  const early_stopping *es = as_early_stopping(cb);
  return es && es->has_best ? es->best : NAN;
}
