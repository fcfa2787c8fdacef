/* callbacks/lr_scheduler.c — Keras's LearningRateScheduler (spec/keras-callbacks.md §2.7) and
 * ready-made schedules (Keras's ExponentialDecay and CosineDecay, with the epoch as step). */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

typedef struct lr_scheduler {
  kcb_callback base;
  kcb_lr_schedule_fn schedule;
  void *schedule_data;
  int verbose;
  FILE *stream;
} lr_scheduler;

static int sched_on_epoch_begin(kcb_callback *cb, int epoch, kcb_logs *logs) {
  lr_scheduler *s = (lr_scheduler *)cb;
  double lr = s->schedule(epoch, kcb_model_learning_rate(cb->model), s->schedule_data);
  char buf[40], now[40];
  /* Keras rejects a non-float result; in C the type is fixed, so what can go wrong is the value.
   * The optimizer keeps its rate. */
  if (!isfinite(lr) || lr < 0)
    return kcb__error(KCB_EINVAL,
                      "LearningRateScheduler: the schedule returned %s at epoch %d (0-based); a learning rate must be a "
                      "finite number >= 0 (the rate stays %s)",
                      kcb_format_double(lr, buf, sizeof buf), epoch,
                      kcb_format_double(kcb_model_learning_rate(cb->model), now, sizeof now));
  int rc = kcb_model_set_learning_rate(cb->model, lr);
  if (rc) return rc;
  if (s->verbose > 0 && kcb__callback_says(cb)) {
    fprintf(s->stream, "\nEpoch %d: LearningRateScheduler setting learning rate to %s.\n", epoch + 1,
            kcb_format_double(lr, buf, sizeof buf));
    fflush(s->stream);
  }
  return 0;
}

static int sched_on_epoch_end(kcb_callback *cb, int epoch, kcb_logs *logs) {
  return kcb_logs_set(logs, "learning_rate", kcb_model_learning_rate(cb->model));
}

static const kcb_callback_ops lr_scheduler_ops = {
    .name = "LearningRateScheduler",
    .on_epoch_begin = sched_on_epoch_begin,
    .on_epoch_end = sched_on_epoch_end,
};

int kcb_lr_scheduler_new(kcb_callback **out, kcb_lr_schedule_fn schedule, void *user_data,
                         const kcb_lr_scheduler_options *opts) {
  if (!out) return kcb__error(KCB_EINVAL, "LearningRateScheduler: out is NULL");
  kcb_lr_scheduler_options defaults = KCB_LR_SCHEDULER_OPTIONS_INIT;
  const kcb_lr_scheduler_options *o = opts ? opts : &defaults;
  *out = NULL;
  if (!schedule) return kcb__error(KCB_EINVAL, "LearningRateScheduler: the schedule function is NULL");
  lr_scheduler *s = calloc(1, sizeof *s);
  if (!s) return kcb__error(KCB_ENOMEM, "out of memory creating a LearningRateScheduler");
  s->base.ops = &lr_scheduler_ops;
  s->base.owned_by_kcb = 1;
  s->schedule = schedule;
  s->schedule_data = user_data;
  s->verbose = o->verbose;
  s->stream = o->stream ? o->stream : stdout;
  *out = &s->base;
  return 0;
}

/* ---- ready-made schedules ------------------------------------------------------------------ */

double kcb_lr_schedule_step_decay(int epoch, double lr, void *params) {
  const kcb_lr_step_decay *p = params;
  if (!p || p->epochs_per_drop < 1 || epoch < 0) return NAN;
  return p->initial_learning_rate * pow(p->drop, (double)(epoch / p->epochs_per_drop));
}

double kcb_lr_schedule_exponential_decay(int epoch, double lr, void *params) {
  const kcb_lr_exponential_decay *p = params;
  if (!p || p->decay_steps < 1 || epoch < 0) return NAN;
  double exponent = (double)epoch / p->decay_steps;
  if (p->staircase) exponent = floor(exponent);
  return p->initial_learning_rate * pow(p->decay_rate, exponent);
}

/* Keras's CosineDecay: the step is clipped to warmup + decay steps; during the warm-up the rate
 * rises linearly to warmup_target, then decays along half a cosine to alpha times the peak. */
double kcb_lr_schedule_cosine_decay(int epoch, double lr, void *params) {
  const kcb_lr_cosine_decay *p = params;
  if (!p || p->decay_steps < 1 || p->warmup_steps < 0 || epoch < 0) return NAN;
  int warmup = !isnan(p->warmup_target);
  int warmup_steps = warmup ? p->warmup_steps : 0;
  double step = epoch;
  if (step > (double)p->decay_steps + warmup_steps) step = (double)p->decay_steps + warmup_steps;
  if (warmup && step < warmup_steps)
    return (p->warmup_target - p->initial_learning_rate) * (step / warmup_steps) + p->initial_learning_rate;
  double peak = warmup ? p->warmup_target : p->initial_learning_rate;
  double fraction = (step - warmup_steps) / p->decay_steps;
  double cosine = 0.5 * (1.0 + cos(3.14159265358979323846 * fraction));
  return peak * ((1.0 - p->alpha) * cosine + p->alpha);
}

double kcb_lr_schedule_warmup(int epoch, double lr, void *params) {
  const kcb_lr_warmup *p = params;
  if (!p || !(p->multiplier >= 1) || p->warmup_epochs < 0 || epoch < 0) return NAN;
  if (epoch > p->warmup_epochs) return lr; /* the warm-up is over: a later cut (ReduceLROnPlateau) stays */
  double done = epoch < p->warmup_epochs ? (double)epoch / p->warmup_epochs : 1.0;
  return p->initial_learning_rate * (1.0 + (p->multiplier - 1.0) * done);
}
