/* callbacks/terminate_on_nan.c — Keras's TerminateOnNaN (spec/keras-callbacks.md §2.11). */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

typedef struct terminate_on_nan {
  kcb_callback base;
  int raise_error;
  FILE *stream;
} terminate_on_nan;

static int ton_on_train_batch_end(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  terminate_on_nan *t = (terminate_on_nan *)cb;
  double loss;
  if (!kcb_logs_get(logs, "loss", &loss) || isfinite(loss)) return 0;
  char buf[40];
  if (t->raise_error)
    return kcb__error(KCB_ENAN, "NaN or Inf loss encountered at batch %lld. Loss value: %s. Terminating training immediately.",
                      (long long)batch, kcb_format_double(loss, buf, sizeof buf));
  if (kcb__callback_says(cb)) {
    fprintf(t->stream, "Batch %lld: Invalid loss, terminating training\n", (long long)batch);
    fflush(t->stream);
  }
  kcb_model_set_stop_training(cb->model, 1);
  return 0;
}

static const kcb_callback_ops terminate_on_nan_ops = {
    .name = "TerminateOnNaN",
    .on_train_batch_end = ton_on_train_batch_end,
};

int kcb_terminate_on_nan_new(kcb_callback **out, const kcb_terminate_on_nan_options *opts) {
  if (!out) return kcb__error(KCB_EINVAL, "TerminateOnNaN: out is NULL");
  kcb_terminate_on_nan_options defaults = KCB_TERMINATE_ON_NAN_OPTIONS_INIT;
  const kcb_terminate_on_nan_options *o = opts ? opts : &defaults;
  terminate_on_nan *t = calloc(1, sizeof *t);
  *out = NULL;
  if (!t) return kcb__error(KCB_ENOMEM, "out of memory creating TerminateOnNaN");
  t->base.ops = &terminate_on_nan_ops;
  t->base.owned_by_kcb = 1;
  t->raise_error = o->raise_error != 0;
  t->stream = o->stream ? o->stream : stdout;
  *out = &t->base;
  return 0;
}
