/* kcb/callback.h — Keras's callback protocol in C: hooks, the callback list, History, ProgbarLogger. */
#ifndef KCB_CALLBACK_H
#define KCB_CALLBACK_H

#include <stdint.h>
#include <stdio.h>

#include "kcb/logs.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kcb_model kcb_model;
typedef struct kcb_callback kcb_callback;

/** What fit / evaluate / predict tell their callbacks (Keras's `params`). */
typedef struct kcb_callback_params {
  int verbose;    /* 0, 1 or 2 */
  int epochs;     /* 1 for evaluate and predict */
  int64_t steps;  /* batches per epoch (or per evaluate / predict pass) */
  int has_validation; /* fit has validation data, so val_* keys will be logged (kcb's addition: a
                         callback can plan for them before the first validated epoch); 0 for
                         evaluate and predict */
  int rank, size; /* this process's place in a distributed fit (kcb/distributed.h): rank 0 of size 1
                     when alone. Logs are the same on every rank; write files on rank 0 only, as the
                     built-in writers do, but change the model (weights, learning rate) on every rank
                     alike: fit fails if the ranks' weights or rates differ at an epoch's start */
} kcb_callback_params;

/** One optional function per Keras hook; a NULL slot is skipped at no cost.
 * `epoch` and `batch` are 0-based. A hook returns 0, or a negative code that ends the
 * running fit / evaluate / predict at once and is returned to its caller unchanged
 * (like an exception in Keras: no further hooks run, not even on_train_end). */
typedef struct kcb_callback_ops {
  const char *name; /* the callback's class name, e.g. "EarlyStopping" */
  int (*on_train_begin)(kcb_callback *cb, kcb_logs *logs);
  int (*on_train_end)(kcb_callback *cb, kcb_logs *logs);
  int (*on_epoch_begin)(kcb_callback *cb, int epoch, kcb_logs *logs);
  int (*on_epoch_end)(kcb_callback *cb, int epoch, kcb_logs *logs);
  int (*on_train_batch_begin)(kcb_callback *cb, int64_t batch, kcb_logs *logs);
  int (*on_train_batch_end)(kcb_callback *cb, int64_t batch, kcb_logs *logs);
  int (*on_test_begin)(kcb_callback *cb, kcb_logs *logs);
  int (*on_test_end)(kcb_callback *cb, kcb_logs *logs);
  int (*on_test_batch_begin)(kcb_callback *cb, int64_t batch, kcb_logs *logs);
  int (*on_test_batch_end)(kcb_callback *cb, int64_t batch, kcb_logs *logs);
  int (*on_predict_begin)(kcb_callback *cb, kcb_logs *logs);
  int (*on_predict_end)(kcb_callback *cb, kcb_logs *logs);
  int (*on_predict_batch_begin)(kcb_callback *cb, int64_t batch, kcb_logs *logs);
  int (*on_predict_batch_end)(kcb_callback *cb, int64_t batch, kcb_logs *logs);
  /** Releases what the callback owns (not the struct itself when user_free is NULL). */
  void (*destroy)(kcb_callback *cb);
} kcb_callback_ops;

/** The base of every callback: embed it as the first member of your own struct.
 * `model` and `params` are set by fit / evaluate / predict before the first hook. */
struct kcb_callback {
  const kcb_callback_ops *ops;
  kcb_model *model;                   /* the model being run (borrowed) */
  const kcb_callback_params *params;  /* valid during a run */
  void *user_data;                    /* yours */
  int owned_by_kcb;                   /* 1 if kcb_callback_free must free() the struct */
};

/** Frees a callback made by a kcb constructor (calls ops->destroy, then frees it);
 * for a callback you embedded yourself, only calls ops->destroy. Accepts NULL. */
void kcb_callback_free(kcb_callback *cb);

/* ---- the callback list (Keras's CallbackList) ---------------------------------------- */

/** The most callbacks one list holds (user callbacks plus History and ProgbarLogger). */
#define KCB_CALLBACK_LIST_MAX 32

/** An ordered list of borrowed callbacks; fit builds one from its options. Exposed so that
 * custom training loops can drive callbacks the way fit does. */
typedef struct kcb_callback_list {
  size_t count;
  kcb_callback *items[KCB_CALLBACK_LIST_MAX];
  kcb_callback_params params;
} kcb_callback_list;

/** Which hook a dispatch calls. */
typedef enum kcb_hook {
  KCB_HOOK_TRAIN_BEGIN, KCB_HOOK_TRAIN_END,
  KCB_HOOK_EPOCH_BEGIN, KCB_HOOK_EPOCH_END,
  KCB_HOOK_TRAIN_BATCH_BEGIN, KCB_HOOK_TRAIN_BATCH_END,
  KCB_HOOK_TEST_BEGIN, KCB_HOOK_TEST_END,
  KCB_HOOK_TEST_BATCH_BEGIN, KCB_HOOK_TEST_BATCH_END,
  KCB_HOOK_PREDICT_BEGIN, KCB_HOOK_PREDICT_END,
  KCB_HOOK_PREDICT_BATCH_BEGIN, KCB_HOOK_PREDICT_BATCH_END,
  KCB_HOOK_COUNT
} kcb_hook;

/** The Keras name of a hook, e.g. "on_train_batch_end". @return a static string. */
const char *kcb_hook_name(kcb_hook hook);

/** Appends a callback (borrowed) and points it at the list's params. A custom loop sets each
 * callback's `model` itself (fit does for its own list). @return 0 or KCB_ENOMEM when the list is
 * full. */
int kcb_callback_list_add(kcb_callback_list *list, kcb_callback *cb);

/** Calls `hook` on every callback in order with the same logs object (NULL: empty logs, as
 * Keras turns None into {}). `index` is the epoch or batch for indexed hooks and ignored otherwise.
 * Unlike fit, it does not switch LC_NUMERIC to "C": in a locale with a decimal comma, set it
 * around a custom loop so that the callbacks print numbers as Keras does.
 * @return 0, or the first non-zero code a callback returned (the rest are then not called). */
int kcb_callback_list_call(kcb_callback_list *list, kcb_hook hook, int64_t index, kcb_logs *logs);

/* ---- History ------------------------------------------------------------------------- */

/** Keras's History: the epoch-end logs of every epoch. `fit` adds one and hands it back. */
typedef struct kcb_history kcb_history;

/** Creates an empty History callback. @param[out] out freed with kcb_history_free. @return 0 or KCB_ENOMEM. */
int kcb_history_new(kcb_history **out);

/** The History as a callback, for a callback list. The pointer lives as long as the History. */
kcb_callback *kcb_history_callback(kcb_history *h);

/** The number of epochs recorded. */
size_t kcb_history_epochs(const kcb_history *h);

/** The 0-based index of the i-th recorded epoch (History.epoch[i]); -1 if out of range. */
int kcb_history_epoch(const kcb_history *h, size_t i);

/** The number of keys recorded (in first-seen order, as Keras's dict). */
size_t kcb_history_key_count(const kcb_history *h);

/** The i-th key, or NULL if out of range. Owned by the History. */
const char *kcb_history_key(const kcb_history *h, size_t i);

/** The values recorded for key. @param[out] out_values receives a pointer owned by the History
 * (valid until it changes), @param[out] out_count their number.
 * @return 0 or KCB_EKEY if the key was never logged. */
int kcb_history_values(const kcb_history *h, const char *key, const double **out_values,
                       size_t *out_count);

/** The last recorded value of key. @return 1 if found, else 0. */
int kcb_history_last(const kcb_history *h, const char *key, double *out);

/** Frees a History. Accepts NULL. */
void kcb_history_free(kcb_history *h);

/* ---- ProgbarLogger ------------------------------------------------------------------- */

/** Keras 3's progress bar. verbose 1: the bar redrawn in place (at most every 50 ms) when the
 * stream is a terminal, one plain line per epoch otherwise; verbose 2: one line per epoch.
 * Writes only to `stream` (stdout when NULL), never elsewhere.
 * @param[out] out freed with kcb_callback_free. @return 0 or KCB_ENOMEM. */
int kcb_progbar_logger_new(kcb_callback **out, FILE *stream);

/** Forces terminal (1) or plain (0) output whatever the stream is; -1 (default) detects it. */
void kcb_progbar_logger_set_dynamic(kcb_callback *progbar, int dynamic);

/* ---- Lambda ------------------------------------------------------------------------- */

/** A callback made of plain functions, each optional, sharing one user_data (Keras's
 * LambdaCallback). Fill the slots of `ops` you need (the name is ignored). */
int kcb_lambda_callback_new(kcb_callback **out, const kcb_callback_ops *ops, void *user_data);

#ifdef __cplusplus
}
#endif
#endif
