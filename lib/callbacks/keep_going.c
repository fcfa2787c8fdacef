/* callbacks/keep_going.c — runs another callback so that its failure warns instead of stopping fit. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct keep_going {
  kcb_callback base;
  kcb_callback_ops ops; /* the inner callback's hooks, each guarded */
  kcb_callback *inner;
  FILE *stream;
  int error;           /* the first error of this run, 0 if none */
  char message[1024];  /* its message */
} keep_going;

/* Calls the inner hook unless it failed earlier in this run; a failure is reported once. */
static int guarded(keep_going *k, int rc) {
  if (rc == 0 || k->error) return 0;
  k->error = rc;
  kcb__strlcpy(k->message, kcb_error_last(), sizeof k->message);
  const char *name = k->inner->ops->name ? k->inner->ops->name : "a callback";
  fprintf(k->stream, "Warning: %s failed and is off for the rest of this run: %s (%s)\n", name, k->message,
          kcb_error_name(rc));
  fflush(k->stream);
  return 0;
}

static int ready(keep_going *k, kcb_callback *cb) {
  k->inner->model = cb->model;
  k->inner->params = cb->params;
  return k->error == 0;
}

#define KCB__FORWARD(slot)                                                            \
  static int kg_##slot(kcb_callback *cb, kcb_logs *logs) {                             \
    keep_going *k = (keep_going *)cb;                                                  \
    if (!ready(k, cb) || !k->inner->ops->slot) return 0;                               \
    return guarded(k, k->inner->ops->slot(k->inner, logs));                            \
  }
#define KCB__FORWARD_INDEX(slot, type)                                                \
  static int kg_##slot(kcb_callback *cb, type index, kcb_logs *logs) {                 \
    keep_going *k = (keep_going *)cb;                                                  \
    if (!ready(k, cb) || !k->inner->ops->slot) return 0;                               \
    return guarded(k, k->inner->ops->slot(k->inner, index, logs));                     \
  }

static int kg_on_train_begin(kcb_callback *cb, kcb_logs *logs) {
  keep_going *k = (keep_going *)cb;
  k->error = 0; /* each run gets the inner callback back */
  k->message[0] = '\0';
  if (!ready(k, cb) || !k->inner->ops->on_train_begin) return 0;
  return guarded(k, k->inner->ops->on_train_begin(k->inner, logs));
}
/* Forwarded even after a failure: the inner callback closes its files there. A second error is
 * not reported again. */
static int kg_on_train_end(kcb_callback *cb, kcb_logs *logs) {
  keep_going *k = (keep_going *)cb;
  k->inner->model = cb->model;
  k->inner->params = cb->params;
  if (!k->inner->ops->on_train_end) return 0;
  int rc = k->inner->ops->on_train_end(k->inner, logs);
  return k->error ? 0 : guarded(k, rc);
}
KCB__FORWARD_INDEX(on_epoch_begin, int)
KCB__FORWARD_INDEX(on_epoch_end, int)
KCB__FORWARD_INDEX(on_train_batch_begin, int64_t)
KCB__FORWARD_INDEX(on_train_batch_end, int64_t)
KCB__FORWARD(on_test_begin)
KCB__FORWARD(on_test_end)
KCB__FORWARD_INDEX(on_test_batch_begin, int64_t)
KCB__FORWARD_INDEX(on_test_batch_end, int64_t)
KCB__FORWARD(on_predict_begin)
KCB__FORWARD(on_predict_end)
KCB__FORWARD_INDEX(on_predict_batch_begin, int64_t)
KCB__FORWARD_INDEX(on_predict_batch_end, int64_t)

static void kg_destroy(kcb_callback *cb) { kcb_callback_free(((keep_going *)cb)->inner); }

int kcb_keep_going_new(kcb_callback **out, kcb_callback *inner, const kcb_keep_going_options *opts) {
  if (!out) return kcb__error(KCB_EINVAL, "KeepGoing: out is NULL");
  *out = NULL;
  if (!inner || !inner->ops) return kcb__error(KCB_EINVAL, "keep going: no callback to wrap");
  keep_going *k = calloc(1, sizeof *k);
  if (!k)
    return kcb__error(KCB_ENOMEM, "out of memory wrapping %s", inner->ops->name ? inner->ops->name : "a callback");
  /* Only the hooks the inner callback has: a NULL slot stays free of cost. */
  const kcb_callback_ops *in = inner->ops;
  kcb_callback_ops *ops = &k->ops;
  ops->name = in->name;
  ops->on_train_begin = kg_on_train_begin; /* always: it re-arms the inner callback */
#define KCB__SLOT(slot) ops->slot = in->slot ? kg_##slot : NULL
  KCB__SLOT(on_train_end);
  KCB__SLOT(on_epoch_begin);
  KCB__SLOT(on_epoch_end);
  KCB__SLOT(on_train_batch_begin);
  KCB__SLOT(on_train_batch_end);
  KCB__SLOT(on_test_begin);
  KCB__SLOT(on_test_end);
  KCB__SLOT(on_test_batch_begin);
  KCB__SLOT(on_test_batch_end);
  KCB__SLOT(on_predict_begin);
  KCB__SLOT(on_predict_end);
  KCB__SLOT(on_predict_batch_begin);
  KCB__SLOT(on_predict_batch_end);
#undef KCB__SLOT
  ops->destroy = kg_destroy;
  k->base.ops = &k->ops;
  k->base.owned_by_kcb = 1;
  k->inner = inner;
  k->stream = opts && opts->stream ? opts->stream : stderr;
  *out = &k->base;
  return 0;
}

int kcb_keep_going_error(const kcb_callback *cb, const char **message) {
  if (message) *message = "";
  if (!cb || !cb->ops || cb->ops->destroy != kg_destroy)
    return kcb__error(KCB_EINVAL, "kcb_keep_going_error: not a callback kcb_keep_going_new made");
  const keep_going *k = (const keep_going *)cb;
  if (message) *message = k->message;
  return k->error;
}
