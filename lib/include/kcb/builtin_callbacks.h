/* kcb/builtin_callbacks.h — Keras's built-in callbacks that act on a run: CSVLogger, EarlyStopping,
 * LearningRateScheduler (with ready-made schedules), ReduceLROnPlateau and TerminateOnNaN.
 * (History, ProgbarLogger and LambdaCallback are in kcb/callback.h.)
 *
 * Every constructor takes an options struct (NULL for Keras's defaults, from the _OPTIONS_INIT
 * macros) and returns a kcb_callback freed with kcb_callback_free. Messages (verbose > 0) and
 * Keras's warnings go to the options' `stream`; when it is NULL, messages go to stdout (Keras's
 * print) and warnings to stderr (Python's warnings.warn). */
#ifndef KCB_BUILTIN_CALLBACKS_H
#define KCB_BUILTIN_CALLBACKS_H

#include <math.h>
#include <stdio.h>

#include "kcb/callback.h"
#include "kcb/monitor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- CSVLogger ----------------------------------------------------------------------------- */

/** CSVLogger's arguments (Keras: separator=",", append=False). */
typedef struct kcb_csv_logger_options {
  char separator;  /* ',' */
  int append;      /* 0: truncate at train begin; 1: append (header only if the file is empty); a
                      run BackupAndRestore resumes first drops the rows at the file's end for the
                      epochs it trains again (written before the kill), so none is doubled */
} kcb_csv_logger_options;
#define KCB_CSV_LOGGER_OPTIONS_INIT {',', 0}

/** Keras's CSVLogger: at each epoch end one row "epoch,<sorted keys>" (epoch 0-based, keys frozen
 * at the first epoch, "NA" for a missing value, numbers as Python's repr, "\r\n" line ends, flushed
 * after each row). The file is opened at train begin (an unwritable path fails fit there, before any
 * training) and closed at train end. Unlike Keras, val_* columns are added for epochs that skip
 * validation (validation_freq > 1) only when fit has validation data.
 * @param[out] out freed with kcb_callback_free
 * @param filename copied
 * @return 0, KCB_EINVAL (empty filename, separator '"', '\r', '\n' or '\0') or KCB_ENOMEM. */
int kcb_csv_logger_new(kcb_callback **out, const char *filename, const kcb_csv_logger_options *opts);

/* ---- EarlyStopping ------------------------------------------------------------------------- */

/** EarlyStopping's arguments, with Keras 3's defaults from KCB_EARLY_STOPPING_OPTIONS_INIT. */
typedef struct kcb_early_stopping_options {
  const char *monitor;       /* "val_loss" (copied) */
  double min_delta;          /* 0; its sign is ignored */
  int patience;              /* 0: stop at the first epoch (after epoch 0) that does not improve */
  int verbose;               /* 0; 1 prints "Epoch N: early stopping" and the restore message */
  kcb_monitor_mode mode;     /* KCB_MONITOR_AUTO */
  double baseline;           /* NAN: none; else `wait` is reset only by values beating it too
                                (±INFINITY as Keras: in min mode every finite value beats +inf,
                                none beats -inf) */
  int restore_best_weights;  /* 0; 1 restores the best epoch's weights whenever fit ends normally */
  int start_from_epoch;      /* 0: epochs before it are ignored */
  FILE *stream;              /* messages and warnings; NULL: stdout and stderr */
} kcb_early_stopping_options;
#define KCB_EARLY_STOPPING_OPTIONS_INIT {"val_loss", 0.0, 0, 0, KCB_MONITOR_AUTO, NAN, 0, 0, NULL}

/** Keras 3's EarlyStopping (spec/keras-callbacks.md §2.5): `wait` counts up every epoch and resets
 * on an improvement (that also beats the baseline, if any); training stops once
 * wait >= patience at an epoch > 0. The monitor's direction is resolved at train begin (Keras waits
 * for the first epoch end): an unknown metric in auto mode fails fit before any training.
 * @param[out] out freed with kcb_callback_free
 * @return 0, KCB_EINVAL (monitor NULL, empty or longer than KCB_LOGS_KEY_MAX - 1; mode not auto,
 *         min or max; min_delta NaN; patience < 0; start_from_epoch < 0) or KCB_ENOMEM. */
int kcb_early_stopping_new(kcb_callback **out, const kcb_early_stopping_options *opts);

/** The 0-based epoch at which the last fit was stopped by this callback, or 0 if it was not
 * (Keras's stopped_epoch). */
int kcb_early_stopping_stopped_epoch(const kcb_callback *early_stopping);

/** The 0-based epoch of the best monitored value of the last fit (Keras's best_epoch; 0 if none). */
int kcb_early_stopping_best_epoch(const kcb_callback *early_stopping);

/** The best monitored value of the last fit, or NaN if none was seen (Keras's best). */
double kcb_early_stopping_best(const kcb_callback *early_stopping);

/* ---- LearningRateScheduler ----------------------------------------------------------------- */

/** A schedule: the learning rate for `epoch` (0-based) given the current rate (the optimizer's
 * float32 value, widened). Must return a finite number >= 0; anything else ends fit with KCB_EINVAL. */
typedef double (*kcb_lr_schedule_fn)(int epoch, double lr, void *user_data);

/** LearningRateScheduler's arguments. */
typedef struct kcb_lr_scheduler_options {
  int verbose;   /* 0; 1 prints "\nEpoch N: LearningRateScheduler setting learning rate to LR." */
  FILE *stream;  /* NULL: stdout */
} kcb_lr_scheduler_options;
#define KCB_LR_SCHEDULER_OPTIONS_INIT {0, NULL}

/** Keras's LearningRateScheduler: at each epoch begin sets the rate to schedule(epoch, lr,
 * user_data); at each epoch end puts the rate into the logs as "learning_rate" (seen by the
 * callbacks after this one, History included).
 * @param schedule called with `user_data` (borrowed; must outlive the callback)
 * @param[out] out freed with kcb_callback_free
 * @return 0, KCB_EINVAL (no schedule) or KCB_ENOMEM. */
int kcb_lr_scheduler_new(kcb_callback **out, kcb_lr_schedule_fn schedule, void *user_data,
                         const kcb_lr_scheduler_options *opts);

/** Step decay: initial_learning_rate * drop ^ floor(epoch / epochs_per_drop). */
typedef struct kcb_lr_step_decay {
  double initial_learning_rate;
  double drop;          /* e.g. 0.5 */
  int epochs_per_drop;  /* >= 1 */
} kcb_lr_step_decay;
/** A kcb_lr_schedule_fn; `params` is a kcb_lr_step_decay. Returns NaN for invalid parameters. */
double kcb_lr_schedule_step_decay(int epoch, double lr, void *params);

/** Keras's ExponentialDecay with the epoch as step: initial_learning_rate * decay_rate ^
 * (epoch / decay_steps), the exponent floored when staircase is set. */
typedef struct kcb_lr_exponential_decay {
  double initial_learning_rate;
  int decay_steps;      /* >= 1 */
  double decay_rate;
  int staircase;        /* 0 */
} kcb_lr_exponential_decay;
/** A kcb_lr_schedule_fn; `params` is a kcb_lr_exponential_decay. Returns NaN for invalid parameters. */
double kcb_lr_schedule_exponential_decay(int epoch, double lr, void *params);

/** Keras's CosineDecay with the epoch as step: a linear warm-up from initial_learning_rate to
 * warmup_target over warmup_steps epochs (when warmup_target is not NaN), then a cosine decay from
 * the peak (warmup_target, or initial_learning_rate without warm-up) to alpha * peak over
 * decay_steps epochs, constant afterwards. */
typedef struct kcb_lr_cosine_decay {
  double initial_learning_rate;
  int decay_steps;      /* >= 1 */
  double alpha;         /* 0: the floor as a fraction of the peak */
  double warmup_target; /* NAN: no warm-up */
  int warmup_steps;     /* 0 */
} kcb_lr_cosine_decay;
#define KCB_LR_COSINE_DECAY_INIT(initial, decay_steps) {(initial), (decay_steps), 0.0, NAN, 0}
/** A kcb_lr_schedule_fn; `params` is a kcb_lr_cosine_decay. Returns NaN for invalid parameters. */
double kcb_lr_schedule_cosine_decay(int epoch, double lr, void *params);

/** The learning-rate warm-up of large-batch data-parallel training (Goyal et al. 2017; Horovod's
 * LearningRateWarmupCallback), with the epoch as step: a linear rise from initial_learning_rate
 * (the rate tuned for one process's batch) to multiplier * initial_learning_rate (usually the
 * number of ranks, kcb_distributed_size) over warmup_epochs epochs, reached at epoch
 * warmup_epochs; after that the rate is left as it is (Horovod's callback ends with the warm-up),
 * so ReduceLROnPlateau's later cuts stay. */
typedef struct kcb_lr_warmup {
  double initial_learning_rate;
  double multiplier;    /* >= 1: the rate after the warm-up, in units of initial_learning_rate */
  int warmup_epochs;    /* >= 0 (0: the target rate from the first epoch) */
} kcb_lr_warmup;
/** A kcb_lr_schedule_fn; `params` is a kcb_lr_warmup: initial * (1 + (multiplier - 1) *
 * epoch / warmup_epochs) up to epoch warmup_epochs (the target at 0 warm-up epochs), then `lr`,
 * the rate it is given. Returns NaN for invalid parameters. */
double kcb_lr_schedule_warmup(int epoch, double lr, void *params);

/* ---- ReduceLROnPlateau --------------------------------------------------------------------- */

/** ReduceLROnPlateau's arguments, with Keras 3's defaults from KCB_REDUCE_LR_ON_PLATEAU_OPTIONS_INIT. */
typedef struct kcb_reduce_lr_on_plateau_options {
  const char *monitor;    /* "val_loss" (copied) */
  double factor;          /* 0.1; new_lr = max(lr * factor, min_lr); 0 <= factor < 1 */
  int patience;           /* 10 */
  int verbose;            /* 0; 1 prints "\nEpoch N: ReduceLROnPlateau reducing learning rate to LR." */
  kcb_monitor_mode mode;  /* KCB_MONITOR_AUTO */
  double min_delta;       /* 1e-4 */
  int cooldown;           /* 0: epochs to wait after a reduction before counting again */
  double min_lr;          /* 0 */
  FILE *stream;           /* messages and warnings; NULL: stdout and stderr */
} kcb_reduce_lr_on_plateau_options;
#define KCB_REDUCE_LR_ON_PLATEAU_OPTIONS_INIT {"val_loss", 0.1, 10, 0, KCB_MONITOR_AUTO, 1e-4, 0, 0.0, NULL}

/** Keras 3's ReduceLROnPlateau (spec/keras-callbacks.md §2.6); puts the epoch's rate (before any
 * reduction) into the epoch-end logs as "learning_rate". The monitor's direction is resolved at
 * train begin, as for EarlyStopping.
 * @param[out] out freed with kcb_callback_free
 * @return 0, KCB_EINVAL (factor >= 1, < 0 or NaN; monitor NULL, empty or longer than
 *         KCB_LOGS_KEY_MAX - 1; mode not auto, min or max; min_delta NaN; patience < 0;
 *         cooldown < 0; min_lr negative, infinite or NaN) or KCB_ENOMEM. */
int kcb_reduce_lr_on_plateau_new(kcb_callback **out, const kcb_reduce_lr_on_plateau_options *opts);

/* ---- TerminateOnNaN ------------------------------------------------------------------------ */

/** TerminateOnNaN's arguments. */
typedef struct kcb_terminate_on_nan_options {
  int raise_error;  /* 0: stop gracefully (validation, on_epoch_end, on_train_end still run);
                       1: fail fit at once with KCB_ENAN (no further hooks) */
  FILE *stream;     /* where "Batch B: Invalid loss, terminating training" goes; NULL: stdout */
} kcb_terminate_on_nan_options;
#define KCB_TERMINATE_ON_NAN_OPTIONS_INIT {0, NULL}

/** Keras's TerminateOnNaN: checks "loss" after every training batch.
 * @param[out] out freed with kcb_callback_free. @return 0 or KCB_ENOMEM. */
int kcb_terminate_on_nan_new(kcb_callback **out, const kcb_terminate_on_nan_options *opts);

/* ---- Keep going: a writer's failure need not stop training ------------------------------- */

/** kcb_keep_going_new's arguments. */
typedef struct kcb_keep_going_options {
  FILE *stream; /* where the one warning goes; NULL: stderr */
} kcb_keep_going_options;
#define KCB_KEEP_GOING_OPTIONS_INIT {NULL}

/** Wraps `inner` so that its failure does not stop fit (Keras has no such thing: any callback
 * error ends training). By default a hook's error is returned by fit, which stops cleanly; wrapped,
 * the first error is written once to opts->stream as "Warning: <Name> failed and is off for the rest
 * of this run: <message>", and `inner` gets no more hooks this run except on_train_end (to close
 * its files). Meant for the file writers (TensorBoard, CSVLogger, ModelCheckpoint) when a full
 * disk or a removed directory should not cost the training run; earlier files stay as they were.
 * @param[out] out the wrapper; it owns `inner` from then on (freed with it), except on failure.
 * @return 0, KCB_EINVAL (inner NULL) or KCB_ENOMEM. */
int kcb_keep_going_new(kcb_callback **out, kcb_callback *inner, const kcb_keep_going_options *opts);

/** The first error the wrapped callback returned in the last run (0 if none), and its message
 * (valid until the wrapper is freed; "" if none). KCB_EINVAL if `keep_going` is not such a wrapper.
 * The wrapped callback's on_train_end still runs after a failure, so it can close its files. */
int kcb_keep_going_error(const kcb_callback *keep_going, const char **message);

#ifdef __cplusplus
}
#endif
#endif
