/* kcb/model.h — the Sequential model: layers, compile, fit, evaluate, predict, weights. */
#ifndef KCB_MODEL_H
#define KCB_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kcb/callback.h"
#include "kcb/distributed.h"
#include "kcb/profiler.h"
#include "kcb/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- names shared with Keras --------------------------------------------------------- */

/** Activations, by their Keras 3 names and with Keras's default arguments: gelu is the exact
 * (erf) form, leaky_relu's slope 0.2, elu's alpha 1; silu is also named swish, hard_silu
 * hard_swish; hard_sigmoid is relu6(x + 3) / 6. */
typedef enum kcb_activation {
  KCB_ACT_LINEAR, KCB_ACT_RELU, KCB_ACT_SIGMOID, KCB_ACT_TANH, KCB_ACT_SOFTMAX,
  KCB_ACT_SOFTPLUS, KCB_ACT_GELU, KCB_ACT_LEAKY_RELU, KCB_ACT_ELU, KCB_ACT_SELU, KCB_ACT_SILU,
  KCB_ACT_RELU6, KCB_ACT_SOFTSIGN, KCB_ACT_HARD_SIGMOID, KCB_ACT_HARD_SILU, KCB_ACT_EXPONENTIAL,
  KCB_ACT_MISH, KCB_ACT_COUNT
} kcb_activation;

/** Weight initializers, by their Keras names. */
typedef enum kcb_initializer {
  KCB_INIT_GLOROT_UNIFORM, KCB_INIT_HE_NORMAL, KCB_INIT_HE_UNIFORM, KCB_INIT_ZEROS,
  KCB_INIT_ONES, KCB_INIT_RANDOM_NORMAL, KCB_INIT_COUNT
} kcb_initializer;

/** Losses, by their Keras names. */
typedef enum kcb_loss {
  KCB_LOSS_MEAN_SQUARED_ERROR, KCB_LOSS_MEAN_ABSOLUTE_ERROR, KCB_LOSS_BINARY_CROSSENTROPY,
  KCB_LOSS_CATEGORICAL_CROSSENTROPY, KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, KCB_LOSS_COUNT
} kcb_loss;

/** Metrics, by their Keras names. KCB_METRIC_ACCURACY resolves, as Keras 3 does, from the data's
 * shapes: binary accuracy for one output unit, sparse categorical accuracy when the targets are
 * class indices, categorical accuracy otherwise. */
typedef enum kcb_metric {
  KCB_METRIC_MEAN_SQUARED_ERROR, KCB_METRIC_MEAN_ABSOLUTE_ERROR, KCB_METRIC_ACCURACY,
  KCB_METRIC_BINARY_ACCURACY, KCB_METRIC_CATEGORICAL_ACCURACY,
  KCB_METRIC_SPARSE_CATEGORICAL_ACCURACY, KCB_METRIC_COUNT
} kcb_metric;

/** Optimizers, by their Keras names. */
typedef enum kcb_optimizer_kind {
  KCB_OPT_SGD, KCB_OPT_RMSPROP, KCB_OPT_ADAM, KCB_OPT_ADAMW, KCB_OPT_COUNT
} kcb_optimizer_kind;

/** Parses a Keras name ("relu", "glorot_uniform", "mse" / "mean_squared_error", "mae",
 * "sparse_categorical_crossentropy", "accuracy" / "acc", "adam", ...) into `*out`; with `out`
 * NULL, only checks the name.
 * @return 0 or KCB_EKEY (the message lists the accepted names). */
int kcb_activation_from_name(kcb_activation *out, const char *name);
int kcb_initializer_from_name(kcb_initializer *out, const char *name);
int kcb_loss_from_name(kcb_loss *out, const char *name);
int kcb_metric_from_name(kcb_metric *out, const char *name);
int kcb_optimizer_from_name(kcb_optimizer_kind *out, const char *name);

/** The Keras name of each value. @return a static string. */
const char *kcb_activation_name(kcb_activation a);
const char *kcb_initializer_name(kcb_initializer i);
const char *kcb_loss_name(kcb_loss l);
const char *kcb_metric_name(kcb_metric m);
const char *kcb_optimizer_name(kcb_optimizer_kind o);

/* ---- building a model ---------------------------------------------------------------- */

typedef struct kcb_model kcb_model;

/** Creates an empty Sequential model whose samples have the given shape (Keras's Input(shape)).
 * @param[out] out freed with kcb_model_free.
 * @param seed the seed of weight initialisation, dropout and shuffling: the same seed gives the
 *        same run bit for bit. @return 0, KCB_EINVAL (rank not in 1..KCB_MAX_RANK - 1, or a
 *        dimension <= 0) or KCB_ENOMEM. */
int kcb_model_new(kcb_model **out, int rank, const int64_t *input_shape, uint64_t seed);

/** Dense layer options (Keras's Dense arguments). */
typedef struct kcb_dense_options {
  int units;
  kcb_activation activation;       /* default linear */
  int use_bias;                    /* default 1 */
  kcb_initializer kernel_initializer; /* default glorot_uniform */
  kcb_initializer bias_initializer;   /* default zeros */
  const char *name;                /* NULL: "dense", "dense_1", ... */
} kcb_dense_options;
#define KCB_DENSE_OPTIONS_INIT {0, KCB_ACT_LINEAR, 1, KCB_INIT_GLOROT_UNIFORM, KCB_INIT_ZEROS, NULL}

/** Adds Dense(units) applied to the last axis. @return 0, KCB_EINVAL, KCB_ESTATE (after compile). */
int kcb_model_add_dense(kcb_model *m, const kcb_dense_options *opts);
/** Adds an Activation layer. */
int kcb_model_add_activation(kcb_model *m, kcb_activation activation);
/** Adds Dropout(rate), 0 <= rate < 1: active in fit only, scaling kept units by 1/(1-rate). */
int kcb_model_add_dropout(kcb_model *m, float rate);
/** Adds Flatten: (batch, d1, d2, ...) -> (batch, d1*d2*...). */
int kcb_model_add_flatten(kcb_model *m);

/** Builds a model from a compact spec: comma-separated layers, each `UNITS[:ACTIVATION]` for
 * Dense, `dropout:RATE`, `flatten`, an activation name alone, or one of the items of
 * kcb/layers.h (conv, maxpool, avgpool, gap, gmp, bn, ln, reshape, zeropad, spatialdropout), e.g.
 * "flatten,256:relu,dropout:0.2,128:relu,10:softmax". A leading input shape ("28x28x1") must be
 * the model's; a preset name (kcb_model_spec_preset) stands for its spec. The spec is strict: an
 * empty item or option, an option given twice (two activations, two paddings), an option on an
 * item that takes none, or an input shape without layers is an error. All or nothing: after an
 * error the model holds the layers it held before the call.
 * @return 0 or KCB_EINVAL naming the item. */
int kcb_model_add_from_spec(kcb_model *m, const char *spec);

/** Optimizer options. Fields left at KCB_DEFAULT (-1) take Keras's default for the kind:
 * learning_rate 0.01 (SGD) or 0.001; rho 0.9; beta_1 0.9; beta_2 0.999; epsilon 1e-7;
 * weight_decay 0.004 (AdamW), else 0. */
typedef struct kcb_optimizer_options {
  kcb_optimizer_kind kind;
  double learning_rate;
  double momentum;     /* SGD, RMSprop; default 0 */
  int nesterov;        /* SGD */
  double rho;          /* RMSprop */
  int centered;        /* RMSprop */
  double beta_1, beta_2; /* Adam, AdamW */
  int amsgrad;         /* Adam, AdamW */
  double epsilon;
  double weight_decay; /* any kind (Keras's weight_decay: w -= w * weight_decay * lr before each
                          step); default 0.004 for AdamW, else 0 */
} kcb_optimizer_options;
/** "Use Keras's default" for an optimizer field (all of them are >= 0 when set). */
#define KCB_DEFAULT (-1.0)
#define KCB_OPTIMIZER_OPTIONS_INIT(kind) \
  {(kind), KCB_DEFAULT, 0.0, 0, KCB_DEFAULT, 0, KCB_DEFAULT, KCB_DEFAULT, 0, KCB_DEFAULT, KCB_DEFAULT}

/** What compile takes. */
typedef struct kcb_compile_options {
  kcb_optimizer_options optimizer;
  kcb_loss loss;
  int from_logits;               /* for the crossentropies */
  const kcb_metric *metrics;     /* n_metrics entries, logged under their Keras names */
  size_t n_metrics;
  const char *const *metric_names; /* optional: log names as the user spelled them ("acc", "mae") */
} kcb_compile_options;

/** Allocates parameters (one block), gradients and optimizer slots, initialises the weights
 * (only the first time) and sets the loss, metrics and optimizer. May be called again to change
 * them; the optimizer state is then reset. OpenBLAS is loaded here, at first use (a program that
 * only reads or writes files never starts its threads). @return 0, KCB_EINVAL, KCB_ENOMEM, or
 * KCB_ESTATE when OpenBLAS (libopenblas.so.0) cannot be loaded. */
int kcb_model_compile(kcb_model *m, const kcb_compile_options *opts);

/* ---- running it ---------------------------------------------------------------------- */

/** fit's arguments, with Keras's defaults from KCB_FIT_OPTIONS_INIT. */
typedef struct kcb_fit_options {
  int64_t batch_size;          /* 32 */
  int epochs;                  /* 1 */
  int verbose;                 /* 1: progress bar; 2: a line per epoch; 0: silent */
  FILE *progress_stream;       /* where ProgbarLogger writes; NULL: stdout */
  kcb_callback **callbacks;    /* borrowed, called in order before History and ProgbarLogger */
  size_t n_callbacks;
  double validation_split;     /* the last fraction of x/y, taken before shuffling */
  const kcb_tensor *validation_x, *validation_y; /* validation_data; overrides the split */
  int shuffle;                 /* 1: reshuffle samples every epoch */
  int initial_epoch;           /* 0 */
  int64_t steps_per_epoch;     /* 0: the whole data set per epoch. Else batches per epoch, one pass
                                  over the data going on across epochs; an epoch that reaches the
                                  pass's end stops there, short (where Keras warns "Your input ran
                                  out of data"), and the next epoch starts a new pass */
  int validation_freq;         /* 1: validate after every epoch; N: after every N-th */
  const int *validation_epochs;/* alternatively, the 1-based epochs after which to validate */
  size_t n_validation_epochs;
  kcb_distributed *distributed;/* NULL: this process alone; else a data-parallel fit over the job's
                                  ranks (kcb/distributed.h): batch_size is the global batch */
} kcb_fit_options;
#define KCB_FIT_OPTIONS_INIT {32, 1, 1, NULL, NULL, 0, 0.0, NULL, NULL, 1, 0, 0, 1, NULL, 0, NULL}

/** Trains the model, calling the callbacks' hooks exactly as Keras 3's fit does. Each step
 * (forward, backward, optimizer) runs with subnormal floats flushed to zero, as TensorFlow's CPU
 * kernels do; hooks run in the caller's floating-point mode.
 *
 * Threads: fit, evaluate and predict use as many threads as OpenBLAS was given
 * (OPENBLAS_NUM_THREADS, or openblas_set_num_threads before the call; by default one per core).
 * While they run, kcb splits every product and the heavy passes of a step over its own threads
 * and sets OpenBLAS to one thread (restored on return), so a callback, or another thread of the
 * program, that calls OpenBLAS meanwhile gets one thread. The same seed and thread count give the
 * same floats; another thread count sums in another order. One thread at a time gets the
 * threads: a second thread running a model meanwhile runs serially.
 * @param[out] out_history if not NULL, receives the run's History (freed with kcb_history_free).
 * @return 0, KCB_ESHAPE / KCB_EINVAL / KCB_ENAN for bad data, KCB_ESTATE if not compiled, or the
 *         first error a callback returned. */
int kcb_model_fit(kcb_model *m, const kcb_tensor *x, const kcb_tensor *y,
                  const kcb_fit_options *opts, kcb_history **out_history);

/** evaluate's (and predict's) arguments. */
typedef struct kcb_evaluate_options {
  int64_t batch_size;          /* 32 */
  int verbose;                 /* 1 */
  FILE *progress_stream;
  kcb_callback **callbacks;
  size_t n_callbacks;
  kcb_distributed *distributed;/* NULL: this process alone. Else every rank of the job calls evaluate
                                  with the same data: each computes its shard of every batch and the
                                  logs are the whole set's (rank 0's weights are used everywhere);
                                  predict still runs whole on each rank. Either way the callbacks see
                                  their rank in params, and those writing files run on rank 0 alone,
                                  as in fit */
} kcb_evaluate_options;
#define KCB_EVALUATE_OPTIONS_INIT {32, 1, NULL, NULL, 0, NULL}

/** Computes the loss and metrics over x/y, calling the on_test_* hooks.
 * @param[out] out_logs if not NULL, receives {"loss": ..., "<metric>": ...}.
 * @return 0 or an error as fit. */
int kcb_model_evaluate(kcb_model *m, const kcb_tensor *x, const kcb_tensor *y,
                       const kcb_evaluate_options *opts, kcb_logs *out_logs);

/** Runs the model on x, calling the on_predict_* hooks (batch-end logs hold "outputs").
 * @param[out] out receives a new tensor (batch, output shape...) freed with kcb_tensor_free.
 * @return 0 or an error as fit. `opts` as for evaluate. */
int kcb_model_predict(kcb_model *m, const kcb_tensor *x, const kcb_evaluate_options *opts,
                      kcb_tensor **out);

/** Makes fit / evaluate record spans into profiler (borrowed; NULL stops): each batch's
 * forward pass (with loss and metrics), backward pass and optimizer step, and every callback hook
 * (kcb/profiler.h). The TensorBoard callback's profile_batch sets and clears it. */
void kcb_model_set_profiler(kcb_model *m, kcb_profiler *profiler);
/** The profiler set by kcb_model_set_profiler, or NULL. */
kcb_profiler *kcb_model_profiler(const kcb_model *m);

/** The output of layer `layer` (0-based, in kcb_model_layer_count's order) for every sample of x,
 * in inference mode (Keras's Model(model.inputs, model.layers[layer].output).predict), batch_size
 * samples at a time; no callbacks. What the projector shows as embeddings (kcb-train --embeddings
 * takes the last layer before the output Dense).
 * @param[out] out receives a new tensor (samples, the layer's output shape...), freed with
 * kcb_tensor_free. @return 0, KCB_EINVAL, KCB_ESHAPE, KCB_ESTATE (not compiled) or KCB_ENOMEM. */
int kcb_model_predict_layer(kcb_model *m, const kcb_tensor *x, size_t layer, int64_t batch_size, kcb_tensor **out);

/* ---- what callbacks read and change -------------------------------------------------- */

/** Asks fit to stop after the current training batch (Keras's stop_training), or after the
 * epoch when asked during its validation. A standalone evaluate or predict ignores it: see
 * kcb_model_set_stop_evaluating and kcb_model_set_stop_predicting. */
void kcb_model_set_stop_training(kcb_model *m, int stop);
/** Whether a stop was requested. */
int kcb_model_stop_training(const kcb_model *m);
/** Asks a running fit (or the next one) to stop cleanly after its current training batch, as a
 * KeyboardInterrupt stops Keras's fit but with the end hooks run: safe to call from a SIGINT /
 * SIGTERM handler (it only sets a flag of type volatile sig_atomic_t). fit then skips the cut
 * epoch's validation and on_epoch_end (so no half epoch reaches a CSV row), runs on_train_end —
 * TensorBoard flushes and closes its files (an hparams session ends with STATUS_FAILURE: TensorBoard
 * has no "aborted" status), BackupAndRestore writes a backup at the last batch done and keeps it,
 * EarlyStopping leaves the weights as they are (no restore_best_weights: the backup and the model
 * hold the weights the run was cut at) — and returns KCB_EINTERRUPTED. A request arriving during validation or the last batch of an epoch
 * lets that epoch end normally first. The request is consumed by the fit that acts on it. */
void kcb_model_request_stop(kcb_model *m);
/** Whether the last (or the running) fit was stopped by kcb_model_request_stop; reset when a fit
 * begins. Callbacks read it in on_train_end to tell an interrupted run from a finished one. */
int kcb_model_interrupted(const kcb_model *m);
/** Asks a running evaluate (or fit's validation pass) to stop after the current batch
 * (Keras's stop_evaluating); reset when the next evaluation begins. */
void kcb_model_set_stop_evaluating(kcb_model *m, int stop);
/** Asks a running predict to stop after the current batch (Keras's stop_predicting): it returns
 * the rows of the batches that ran (its result's shape[0] says how many). */
void kcb_model_set_stop_predicting(kcb_model *m, int stop);
/** The optimizer's learning rate (a float32 as in Keras, returned as double). */
double kcb_model_learning_rate(const kcb_model *m);
/** Sets the learning rate used from the next batch on. @return 0 or KCB_EINVAL (NaN, < 0) / KCB_ESTATE. */
int kcb_model_set_learning_rate(kcb_model *m, double lr);
/** The number of optimizer steps taken so far (Keras's optimizer.iterations). */
int64_t kcb_model_iterations(const kcb_model *m);
/** Sets the iteration counter (when restoring optimizer state): a count from 0 to 2^53, which
 * checkpoints store (as Keras's int64 variable read back through a double elsewhere).
 * @return 0, or KCB_EINVAL (m NULL, or a count out of that range: the counter is left as it was). */
int kcb_model_set_iterations(kcb_model *m, int64_t iterations);
/** The predictions and targets of the batch fit, evaluate or fit's validation ran last, as views
 * into the model's workspace, valid until the next batch: from on_test_batch_end a callback sees
 * each validation batch's outputs without running the model again (kcb's addition; PR curves use
 * it). predictions: (batch, output shape...); targets: (batch,) for one value per sample (class
 * indices of sparse_categorical_crossentropy) else (batch, values per sample). Either may be NULL.
 * In a distributed fit (kcb/distributed.h) a training batch is this rank's shard; so is a
 * validation batch, unless a callback may read it (one with on_test_batch_end other than the
 * progress bar or a TensorBoard without PR curves): then it is the whole global batch on every
 * rank, gathered in the order one process has.
 * @return 0, or KCB_ESTATE when no batch has run. */
int kcb_model_last_batch(const kcb_model *m, kcb_tensor *predictions, kcb_tensor *targets);

/* ---- weights ------------------------------------------------------------------------- */

/** Describes one weight variable, in Keras's model.weights order (layer by layer, each layer's
 * trainable variables then its non-trainable ones: kernel, bias; gamma, beta, moving_mean,
 * moving_variance). */
typedef struct kcb_weight_info {
  const char *layer_name;   /* e.g. "dense_1" */
  const char *name;         /* "kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance" */
  int rank;
  int64_t shape[4];         /* Dense kernel (in, units), Conv2D kernel (kh, kw, in, filters), bias (units,) */
  float *data;              /* points into the model's parameter block */
  size_t size;
  int trainable;            /* 0 for BatchNormalization's moving statistics */
} kcb_weight_info;

/** The loss a compiled model trains with, and whether its crossentropy takes logits (either may
 * be NULL). @return 0, KCB_EINVAL (m NULL) or KCB_ESTATE (not compiled). */
int kcb_model_loss(const kcb_model *m, kcb_loss *loss, int *from_logits);

/** The kind of optimizer a compiled model trains with (Adam, SGD, ...).
 * @return 0, KCB_EINVAL (m or out NULL) or KCB_ESTATE (not compiled). */
int kcb_model_optimizer_kind(const kcb_model *m, kcb_optimizer_kind *out);

/** The number of weight variables (Keras's len(model.get_weights())). Needs a compiled model. */
size_t kcb_model_weight_count(const kcb_model *m);
/** Fills info for the i-th weight variable. @return 0 or KCB_EINVAL. */
int kcb_model_weight(const kcb_model *m, size_t i, kcb_weight_info *info);
/** The total number of parameters (floats in the parameter block). */
size_t kcb_model_param_count(const kcb_model *m);
/** Copies all parameters (trainable and not) into out (param_count floats), in weight order.
 * @return 0; KCB_EINVAL (m or out NULL), KCB_ESTATE (not compiled yet: no weights), KCB_ESHAPE
 *         (count is not kcb_model_param_count). */
int kcb_model_get_weights(const kcb_model *m, float *out, size_t count);
/** Replaces all parameters from in (param_count floats). @return 0; KCB_EINVAL (m or in NULL),
 *         KCB_ESTATE (not compiled yet), KCB_ESHAPE (count is not kcb_model_param_count). */
int kcb_model_set_weights(kcb_model *m, const float *in, size_t count);

/** The optimizer's slot variables (momentums, velocities...), one block of
 * `slots * param_count` floats, for saving and restoring training state. */
float *kcb_model_optimizer_slots(kcb_model *m, size_t *out_count);

/** The model's name: "sequential", or the name of the model a file rebuilt it from (its variable
 * paths, "NAME/dense/kernel", and TensorBoard's histogram tags begin with it). NULL for NULL. */
const char *kcb_model_name(const kcb_model *m);
/** The number of layers, and the name and Keras class name ("Dense", "Dropout"...) of each. */
size_t kcb_model_layer_count(const kcb_model *m);
const char *kcb_model_layer_name(const kcb_model *m, size_t i);
const char *kcb_model_layer_class(const kcb_model *m, size_t i);
/** The activation layer i applies (a Dense's or convolution's own, an Activation layer's);
 * KCB_ACT_LINEAR for the other layers and for i out of range. */
kcb_activation kcb_model_layer_activation(const kcb_model *m, size_t i);

/** Freezes (trainable 0) or unfreezes layer i, as Keras's `layer.trainable = False` does for
 * fine-tuning: fit's optimizer no longer updates the layer's variables, a frozen
 * BatchNormalization runs in inference mode in fit too (moving statistics used, not updated), the
 * variables count as non-trainable (summary, kcb_weight_info), and saved files say
 * `"trainable": false` in the layer's config and hold optimizer slots for the trainable variables
 * only, as Keras's optimizer built for model.trainable_variables does. Layers below the lowest
 * trainable one are left out of backward. May be called before or after compile and from a
 * callback between batches (the optimizer keeps every slot: an unfrozen layer goes on from its
 * own; call it on every rank of a distributed fit). Files with frozen layers load frozen.
 * @return 0, or KCB_EINVAL (m NULL, i out of range). */
int kcb_model_set_layer_trainable(kcb_model *m, size_t i, int trainable);
/** Whether layer i trains (Keras's layer.trainable): 0 when frozen, m NULL or i out of range. */
int kcb_model_layer_trainable(const kcb_model *m, size_t i);

/** The number of trainable parameters (the rest are non-trainable: moving statistics, frozen layers'). */
size_t kcb_model_trainable_param_count(const kcb_model *m);

/** Writes Keras's model.summary() table to stream. @return 0 or KCB_EIO. */
int kcb_model_summary(const kcb_model *m, FILE *stream);

/** Frees a model. Accepts NULL. Not from a callback's hook of a fit, evaluate or predict on m (the
 * run goes on using it): stop it there (kcb_model_set_stop_training), free it after it returns. */
void kcb_model_free(kcb_model *m);

#ifdef __cplusplus
}
#endif
#endif
