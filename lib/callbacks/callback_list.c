/* callbacks/callback_list.c — Keras's CallbackList: one logs object, callbacks called in order. */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "kcb/model.h"

static const char *const hook_names[KCB_HOOK_COUNT] = {
    "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
    "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
    "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
    "on_predict_batch_begin", "on_predict_batch_end"};

const char *kcb_hook_name(kcb_hook hook) {
  return (unsigned)hook < KCB_HOOK_COUNT ? hook_names[hook] : "unknown_hook";
}

void kcb_callback_free(kcb_callback *cb) {
  if (!cb) return;
  if (cb->ops && cb->ops->destroy) cb->ops->destroy(cb);
  if (cb->owned_by_kcb) free(cb);
}

int kcb_callback_list_add(kcb_callback_list *list, kcb_callback *cb) {
  if (!list) return kcb__error(KCB_EINVAL, "callback list is NULL");
  if (!cb) return kcb__error(KCB_EINVAL, "callback %zu is NULL", list->count);
  if (!cb->ops) return kcb__error(KCB_EINVAL, "callback %zu has no ops table", list->count);
  if (list->count == KCB_CALLBACK_LIST_MAX)
    return kcb__error(KCB_ENOMEM, "too many callbacks (at most %d)", KCB_CALLBACK_LIST_MAX);
  cb->params = &list->params;
  list->items[list->count++] = cb;
  return 0;
}

/* A hook failed: its code (a positive one becomes KCB_ECALLBACK), and, when the callback set no
 * message of its own, one that names it (ops.name, else its place in the list) and the hook. */
static int hook_failed(const kcb_callback_list *list, size_t i, kcb_hook hook, int rc) {
  const kcb_callback *cb = list->items[i];
  if (rc > 0) /* not a KCB_E* code: say what came back, whatever message the callback set */
    return kcb__error(KCB_ECALLBACK, "callback %s failed in %s: it returned %d (hooks return 0 or a negative KCB_E* code)",
                      cb->ops->name && cb->ops->name[0] ? cb->ops->name : "(no ops.name)", kcb_hook_name(hook), rc);
  if (kcb_error_last()[0]) return rc;
  if (cb->ops->name && cb->ops->name[0])
    return kcb__error(rc, "callback %s failed in %s with %s (it set no message)", cb->ops->name, kcb_hook_name(hook),
                      kcb_error_name(rc));
  return kcb__error(rc, "callback #%zu (no ops.name) failed in %s with %s (it set no message)", i + 1,
                    kcb_hook_name(hook), kcb_error_name(rc));
}

/* One switch per hook, then a tight loop over the callbacks: a NULL slot costs a load and a
 * compare, a set one an indirect call. */
#define KCB__DISPATCH(slot, ...)                                                  \
  for (size_t i = 0; i < list->count; i++) {                                     \
    kcb_callback *cb = list->items[i];                                           \
    if (!cb->ops->slot) continue;                                                \
    kcb_profiler *profiler = model ? kcb_model_profiler(model) : NULL;           \
    double t0 = profiler ? kcb_profiler_now() : 0;                               \
    kcb_error_clear(); /* a message left by an earlier hook is not this one's */ \
    rc = cb->ops->slot(cb, __VA_ARGS__);                                         \
    /* the hook may have ended the trace (and freed its profiler) */             \
    if (profiler && kcb_model_profiler(model) == profiler) profile_hook(profiler, cb, hook, t0, index); \
    if (rc != 0) return hook_failed(list, i, hook, rc);                          \
  }                                                                              \
  break

/* While a model is profiled (kcb_model_set_profiler): "<Callback>.<hook>" spans, category "callback". */
static void profile_hook(kcb_profiler *p, const kcb_callback *cb, kcb_hook hook, double t0, int64_t index) {
  char name[64];
  snprintf(name, sizeof name, "%s.%s", cb->ops->name ? cb->ops->name : "callback", hook_names[hook]);
  (void)kcb_profiler_add(p, name, "callback", t0, kcb_profiler_now(), KCB_PROFILE_LANE_TRAINING, "index", index);
}

static int dispatch(kcb_callback_list *list, kcb_hook hook, int64_t index, kcb_logs *logs) {
  int rc = 0;
  kcb_model *model = list->count ? list->items[0]->model : NULL; /* profiled: kcb_model_set_profiler */
  switch (hook) {
    case KCB_HOOK_TRAIN_BEGIN: KCB__DISPATCH(on_train_begin, logs);
    case KCB_HOOK_TRAIN_END: KCB__DISPATCH(on_train_end, logs);
    case KCB_HOOK_EPOCH_BEGIN: KCB__DISPATCH(on_epoch_begin, (int)index, logs);
    case KCB_HOOK_EPOCH_END: KCB__DISPATCH(on_epoch_end, (int)index, logs);
    case KCB_HOOK_TRAIN_BATCH_BEGIN: KCB__DISPATCH(on_train_batch_begin, index, logs);
    case KCB_HOOK_TRAIN_BATCH_END: KCB__DISPATCH(on_train_batch_end, index, logs);
    case KCB_HOOK_TEST_BEGIN: KCB__DISPATCH(on_test_begin, logs);
    case KCB_HOOK_TEST_END: KCB__DISPATCH(on_test_end, logs);
    case KCB_HOOK_TEST_BATCH_BEGIN: KCB__DISPATCH(on_test_batch_begin, index, logs);
    case KCB_HOOK_TEST_BATCH_END: KCB__DISPATCH(on_test_batch_end, index, logs);
    case KCB_HOOK_PREDICT_BEGIN: KCB__DISPATCH(on_predict_begin, logs);
    case KCB_HOOK_PREDICT_END: KCB__DISPATCH(on_predict_end, logs);
    case KCB_HOOK_PREDICT_BATCH_BEGIN: KCB__DISPATCH(on_predict_batch_begin, index, logs);
    case KCB_HOOK_PREDICT_BATCH_END: KCB__DISPATCH(on_predict_batch_end, index, logs);
    default: return kcb__error(KCB_EINVAL, "unknown hook %d", (int)hook);
  }
  return 0;
}

int kcb__callback_list_dispatch(kcb_callback_list *list, kcb_hook hook, int64_t index, kcb_logs *logs) {
  kcb__logs_begin_hook(logs);
  int rc = dispatch(list, hook, index, logs);
  logs->append_new = 0;
  return rc;
}

int kcb_callback_list_call(kcb_callback_list *list, kcb_hook hook, int64_t index, kcb_logs *logs) {
  if (!list) return kcb__error(KCB_EINVAL, "callback list is NULL");
  kcb_logs none; /* NULL logs are Keras's None, which its CallbackList turns into {} for every callback */
  if (!logs) kcb_logs_clear(logs = &none);
  /* no switch of LC_NUMERIC here (it would double the cost of a dispatch): a custom loop in a
   * locale with a decimal comma sets LC_NUMERIC to "C" around its loop, as fit does */
  return kcb__callback_list_dispatch(list, hook, index, logs);
}
