/* callbacks/reduce_lr_on_plateau.c — Keras 3's ReduceLROnPlateau (spec/keras-callbacks.md §2.6). */
#include <math.h>
#include <stdlib.h>

#include "callbacks/monitor.h"
#include "internal.h"

typedef struct reduce_lr {
  kcb_callback base;
  kcb__monitor monitor;
  double factor, min_lr;
  int patience, verbose, cooldown;
  FILE *stream;
  FILE *warnings; /* Keras's warnings.warn: stderr unless a stream was given */
  /* reset at every train begin */
  int wait, cooldown_counter, has_best;
  double best;
} reduce_lr;

static int rlr_on_train_begin(kcb_callback *cb, kcb_logs *logs) {
  reduce_lr *r = (reduce_lr *)cb;
  r->wait = r->cooldown_counter = r->has_best = 0;
  r->best = NAN;
  return kcb__monitor_resolve(&r->monitor, "ReduceLROnPlateau", cb->model); /* early, as EarlyStopping */
}

static int rlr_on_epoch_end(kcb_callback *cb, int epoch, kcb_logs *logs) {
  reduce_lr *r = (reduce_lr *)cb;
  int rc = kcb__monitor_resolve(&r->monitor, "ReduceLROnPlateau", cb->model);
  if (rc) return rc;
  /* the rate this epoch trained with, before any reduction below */
  if ((rc = kcb_logs_set(logs, "learning_rate", kcb_model_learning_rate(cb->model)))) return rc;
  double current;
  if (kcb__monitor_value(&r->monitor, logs, &current) != 0) {
    if (kcb__callback_says(cb)) kcb__monitor_warn_missing(&r->monitor, r->warnings, "Learning rate reduction is", ".", logs);
    return 0;
  }
  if (r->cooldown_counter > 0) {
    r->cooldown_counter--;
    r->wait = 0;
  }
  if (kcb__monitor_is_improvement(&r->monitor, current, r->has_best, r->best)) {
    r->best = current;
    r->has_best = 1;
    r->wait = 0;
  } else if (r->cooldown_counter == 0 && ++r->wait >= r->patience) {
    double old_lr = kcb_model_learning_rate(cb->model);
    if (old_lr > (double)(float)r->min_lr) { /* Keras compares with np.float32(min_lr) */
      double new_lr = old_lr * r->factor;
      if (new_lr < r->min_lr) new_lr = r->min_lr;
      if ((rc = kcb_model_set_learning_rate(cb->model, new_lr))) return rc;
      if (r->verbose > 0 && kcb__callback_says(cb)) {
        char buf[40];
        fprintf(r->stream, "\nEpoch %d: ReduceLROnPlateau reducing learning rate to %s.\n", epoch + 1,
                kcb_format_double(new_lr, buf, sizeof buf));
        fflush(r->stream);
      }
      r->cooldown_counter = r->cooldown;
      r->wait = 0;
    }
  }
  return 0;
}

static const kcb_callback_ops reduce_lr_ops = {
    .name = "ReduceLROnPlateau",
    .on_train_begin = rlr_on_train_begin,
    .on_epoch_end = rlr_on_epoch_end,
};

int kcb_reduce_lr_on_plateau_new(kcb_callback **out, const kcb_reduce_lr_on_plateau_options *opts) {
  if (!out) return kcb__error(KCB_EINVAL, "ReduceLROnPlateau: out is NULL");
  kcb_reduce_lr_on_plateau_options defaults = KCB_REDUCE_LR_ON_PLATEAU_OPTIONS_INIT;
  const kcb_reduce_lr_on_plateau_options *o = opts ? opts : &defaults;
  kcb__monitor monitor;
  *out = NULL;
  if (o->factor != o->factor) return kcb__error(KCB_EINVAL, "ReduceLROnPlateau: factor is NaN");
  if (!(o->factor < 1.0))
    return kcb__error(KCB_EINVAL, "ReduceLROnPlateau does not support a factor >= 1.0. Got %g", o->factor);
  if (!(o->factor >= 0.0)) return kcb__error(KCB_EINVAL, "ReduceLROnPlateau: factor must be >= 0, got %g", o->factor);
  int rc = kcb__monitor_init(&monitor, "ReduceLROnPlateau", o->monitor, o->mode, o->min_delta);
  if (rc) return rc;
  if (o->patience < 0) return kcb__error(KCB_EINVAL, "ReduceLROnPlateau: patience must be >= 0, got %d", o->patience);
  if (o->cooldown < 0) return kcb__error(KCB_EINVAL, "ReduceLROnPlateau: cooldown must be >= 0, got %d", o->cooldown);
  if (!(o->min_lr >= 0) || isinf(o->min_lr))
    return kcb__error(KCB_EINVAL, "ReduceLROnPlateau: min_lr must be a finite number >= 0, got %g", o->min_lr);
  reduce_lr *r = calloc(1, sizeof *r);
  if (!r) return kcb__error(KCB_ENOMEM, "out of memory creating ReduceLROnPlateau");
  r->base.ops = &reduce_lr_ops;
  r->base.owned_by_kcb = 1;
  r->monitor = monitor;
  r->factor = o->factor;
  r->min_lr = o->min_lr;
  r->patience = o->patience;
  r->verbose = o->verbose;
  r->cooldown = o->cooldown;
  r->stream = o->stream ? o->stream : stdout;
  r->warnings = o->stream ? o->stream : stderr;
  r->best = NAN;
  *out = &r->base;
  return 0;
}
