/* model/model_internal.h — the Sequential model's private layout, shared by lib/model/ files. */
#ifndef KCB_MODEL_INTERNAL_H
#define KCB_MODEL_INTERNAL_H

#include <signal.h>
#include "internal.h"
#include "kcb/profiler.h"

/* One value per Keras layer class (each has its own automatic-name counter, as in Keras). */
typedef enum kcb__layer_kind {
  KCB__DENSE, KCB__ACTIVATION, KCB__DROPOUT, KCB__FLATTEN,
  KCB__CONV1D, KCB__CONV2D,
  KCB__MAX_POOLING1D, KCB__MAX_POOLING2D, KCB__AVERAGE_POOLING1D, KCB__AVERAGE_POOLING2D,
  KCB__GLOBAL_MAX_POOLING1D, KCB__GLOBAL_MAX_POOLING2D, KCB__GLOBAL_AVERAGE_POOLING1D, KCB__GLOBAL_AVERAGE_POOLING2D,
  KCB__BATCH_NORMALIZATION, KCB__LAYER_NORMALIZATION, KCB__RESHAPE, KCB__ZERO_PADDING2D, KCB__SPATIAL_DROPOUT2D,
  KCB__RESCALING, KCB__KIND_COUNT
} kcb__layer_kind;

/* Keras's class name ("Conv2D") and snake-case base name ("conv2d") of a kind. */
const char *kcb__layer_class_name(kcb__layer_kind kind);
const char *kcb__layer_base_name(kcb__layer_kind kind);

/* For the public functions that take a model: NULL is an error, not a crash. */
#define KCB__MODEL_GIVEN(m, what)                                                  \
  do {                                                                             \
    if (!(m)) return kcb__error(KCB_EINVAL, "%s: the model is NULL", (what));      \
  } while (0)

/* Bytes of a layer name with its terminator: Keras sets no limit; names longer than this are refused. */
#define KCB__NAME_MAX 256
/* Bytes of a variable path built from a layer name ("<optimizer>/<model>_<layer>_<weight>_<slot>"). */
#define KCB__PATH_MAX (2 * KCB__NAME_MAX + 128)

/* One weight variable of a layer, in Keras's order (trainable ones first, as layer.weights). */
#define KCB__MAX_VARS 4
/* Callbacks of one fit that may register a flush (kcb__model_add_flusher). */
#define KCB__MAX_FLUSHERS 8

typedef struct kcb__var {
  const char *name;            /* "kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance" */
  int rank;
  int64_t shape[4];
  size_t size;
  size_t offset;               /* into the parameter block, set by compile */
  int trainable;               /* 0 for moving statistics; a frozen layer's others train again when it is unfrozen */
  kcb_initializer init;
  int64_t fan_in, fan_out;     /* for the variance-scaling initializers */
} kcb__var;

/* A window operation over (h, w, c) samples giving (oh, ow, oc): convolutions, poolings,
 * padding. 1D layers are the h = 1 case. */
typedef struct kcb__geom {
  int64_t h, w, c, oh, ow, oc;
  int kh, kw, sh, sw, dh, dw;
  int pad_top, pad_left;       /* the bottom/right padding follows from the sizes */
  int groups;
} kcb__geom;

/* A layer maps (rows, in_width) to (rows, out_width) for rows = batch * rows_per_sample:
 * Dense and activations work on the last axis, as Keras's do. */
typedef struct kcb__layer {
  kcb__layer_kind kind;
  char name[KCB__NAME_MAX];
  int frozen;                          /* Keras's layer.trainable = False: no variable of it trains, and a
                                          BatchNormalization uses its moving statistics in fit too */
  char dtype_policy[24];               /* a file's mixed-precision policy ("mixed_float16"), kept for its
                                          config; "" for float32. kcb computes in float32 either way */
  char *kept_settings;                 /* a file's settings kcb does not model (initializers, seeds), as a
                                          JSON object written back over kcb's own (NULL: none) */
  int out_rank;                        /* per-sample output shape, without the batch axis */
  int64_t out_shape[KCB_MAX_RANK];
  int64_t in_width, out_width;         /* last-axis sizes */
  int64_t out_size;                    /* floats per sample at the output */
  /* Dense */
  kcb_dense_options dense;
  size_t kernel_offset, bias_offset;   /* into the parameter block: kernel (in_width, units), bias (units) */
  /* Activation (and Dense's own activation) */
  kcb_activation activation;
  /* Dropout, SpatialDropout2D */
  float rate;
  /* Rescaling: x * rescale + offset, in float32 as Keras computes; its config keeps the numbers
   * as given (Python floats) */
  float rescale, offset;
  double rescale_given, offset_given;
  /* variables of every kind, in Keras's order */
  kcb__var vars[KCB__MAX_VARS];
  int n_vars;
  /* Conv, pooling, ZeroPadding2D */
  kcb_conv_options conv;
  kcb__geom geom;
  int keepdims;                        /* global poolings */
  int pool_padding;                    /* kcb_padding of a pooling layer */
  int64_t conv_chunk;                  /* samples per im2col pass */
  int conv_keep_col;                   /* the whole batch's im2col stays in col for backward */
  /* BatchNormalization, LayerNormalization */
  double momentum, epsilon;
  int center, scale;
  int norm_training;                   /* the last forward used batch statistics */
  int norm_fused_pool;                 /* BatchNormalization in training before a tiled max pooling: the
                                          pooling applies its scale and shift, and its output is not
                                          written; backward takes dL/dy from the pooling's gradient */
  /* Reshape */
  int64_t target_shape[KCB_MAX_RANK];
  int target_rank;
  /* set by each forward pass: */
  const float *in;                     /* (rows, in_width) the input this layer saw */
  const float *y;                      /* (rows, out_width) its output: out, or in when nothing changes */
  int dropout_active;                  /* the mask was applied (training, rate > 0) */
  /* workspaces, sized for the run's batch: */
  float *pre;                          /* (rows, out_width) before the activation, when backward needs it */
  float *out;                          /* (rows, out_width) output; may alias the input (Flatten) */
  float *mask;                         /* (rows, out_width) Dropout's keep mask times 1/(1-rate);
                                          (batch, channels) for SpatialDropout2D */
  int32_t *taken;                      /* (batch, out_size) max poolings: backward's "winner found" flags */
  int32_t *winner;                     /* (batch, out_size) tiled max poolings: where in its window each
                                          output's maximum was, recorded by forward */
  float *col;                          /* convolutions with conv_keep_col: the batch's im2col matrix */
  float *xhat;                         /* (batch, in_size) LayerNormalization: the normalised input */
  float *inv_std;                      /* (channels) BatchNormalization, (rows) LayerNormalization */
  float *stat;                         /* (6, channels) BatchNormalization: the mean, then scale and shift
                                          (forward) or sums and coefficients (backward) */
} kcb__layer;

typedef struct kcb__optimizer {
  kcb_optimizer_options o;  /* with Keras's defaults filled in */
  float learning_rate;      /* a float32 variable, as in Keras */
  int64_t iterations;
  int n_slots;              /* slot k of parameter i is slots[k * n + i] */
  float *slots;
  size_t n;
  /* The parameter ranges the optimizer updates: non-trainable variables (moving statistics) lie
   * between them, in the same block, and are never touched. */
  size_t (*runs)[2];        /* (offset, length) */
  size_t n_runs;
} kcb__optimizer;

#define KCB__MAX_METRICS 8

/* A stateful running mean (Keras's Mean / MeanMetricWrapper): total / count. */
typedef struct kcb__mean {
  double total, count;
} kcb__mean;

typedef struct kcb__resume_note {
  char *key;
  int64_t value;
} kcb__resume_note;

struct kcb_model {
  int in_rank;
  int64_t in_shape[KCB_MAX_RANK];
  int64_t in_size;                     /* floats per sample at the input */
  kcb__layer *layers;
  size_t n_layers, cap_layers;
  int name_counts[KCB__KIND_COUNT];    /* per layer kind, for Keras's automatic names */
  int renaming;                        /* a config load: the layer added next takes the file's name */
  uint64_t seed;
  char name[KCB__NAME_MAX];            /* the model's, "sequential" unless a file named it otherwise */
  char input_name[KCB__NAME_MAX];      /* its InputLayer's, "input_layer" unless a file named it otherwise */
  char dtype_policy[24];               /* the Sequential's own policy, as a layer's */
  int jit_compile_off;                 /* a file's compile_config said jit_compile false: written back so */
  /* Mixed precision's LossScaleOptimizer around the optimizer, kept for the files kcb writes: Keras
   * wraps a mixed_float16 model's optimizer in one and loads optimizer state only in its layout.
   * kcb trains in float32 and never scales the loss, so the scale state stays as it was read. */
  struct kcb__loss_scale {
    int on;
    int in_config;                     /* compiled with one explicitly (else Keras adds it at compile) */
    double initial_scale;              /* its config: 2^15 */
    int64_t growth_steps;              /* dynamic_growth_steps: 2000 */
    int64_t own_iterations;            /* its state (its own iteration stays 0 in Keras: the inner */
    int64_t step_counter;              /* optimizer's counts) */
    float dynamic_scale;
  } loss_scale;
  kcb__rng init_rng, dropout_rng, shuffle_rng;

  int compiled, weights_ready;
  int compile_implicit;                /* compiled by a load with no compile settings (Keras's model would be
                                          uncompiled): saved without them until compiled or trained */
  float *params, *grads;               /* (n_params) each: every weight, in weight order */
  size_t n_params;
  kcb__optimizer opt;
  kcb_loss loss;
  int from_logits;
  size_t n_metrics;
  kcb_metric metrics[KCB__MAX_METRICS];        /* as asked */
  kcb_metric metric_impl[KCB__MAX_METRICS];    /* "accuracy" resolved against the data's shapes */
  int64_t label_width;                         /* labels a row of the output: its width, or 1 (class indices) */
  char metric_names[KCB__MAX_METRICS][48];
  kcb__mean loss_tracker, metric_state[KCB__MAX_METRICS];
  int stop_training, stop_evaluating, stop_predicting;
  /* kcb_model_request_stop, from a signal handler: only this flag is touched there. */
  volatile sig_atomic_t stop_requested;
  int interrupted;                     /* the last fit ended on stop_requested (reset at fit begin) */
  /* Set by BackupAndRestore in on_train_begin, consumed by fit right after it: the epoch to start
   * from (Keras's model._initial_epoch) and, for a mid-epoch backup, the last batch done in it. */
  int resume_pending, resume_epoch;
  int epochs_done; /* fit's epochs ended so far, counting those before initial_epoch or a resume */
  int64_t resume_batch;                /* -1: start the epoch at its first batch */
  int resumed;                         /* this fit resumed from a backup (set after on_train_begin) */
  /* The training epoch's running loss and metrics as its logs show them (summed over the ranks),
   * for a mid-epoch backup: the resumed epoch starts from them (resume_means), so its logs are an
   * uninterrupted run's even when the backup came at its last batch. */
  kcb__mean epoch_means[1 + KCB__MAX_METRICS];
  int64_t fit_start_iterations;        /* the optimizer's iterations when the (first, not resumed) fit began:
                                          save_freq counts from there; kept in backups */
  int resume_means;                    /* 2: a loaded file held them; 1: BackupAndRestore resumes with them */
  int64_t fit_batch_size, fit_samples; /* this fit's batch_size and training samples, kept in mid-epoch backups */
  int64_t resume_batch_size, resume_samples; /* a loaded backup's (0: not recorded): another batching restarts the epoch */
  /* What callbacks need to go on as if never stopped, kept in backups (kcb_resume_notes): a
   * CSVLogger's "csv FILE" is where its run's rows begin in a log it appends to. Cleared at fit
   * begin; a loaded backup's replace them. */
  kcb__resume_note *notes;
  size_t n_notes;
  int notes_loaded; /* the last backup loaded kept notes (0: one from before they were kept, or Keras's) */

  /* run workspace: one block, grown only when a larger batch is asked for */
  int64_t ws_batch;
  float *ws;
  float *x_batch;                      /* (batch, in_size) gathered inputs */
  float *y_batch;                      /* (batch, y_size) gathered targets */
  float *grad_a, *grad_b;              /* (batch * widest layer) ping-pong gradients */
  int64_t y_size_ws;
  /* the batch batch_step ran last (kcb_model_last_batch): predictions and targets in the workspace */
  const float *last_pred, *last_y;     /* (last_count, output shape), (last_count, target size) */
  int64_t last_count;
  float *gathered;                     /* distributed validation: the global batch's predictions, then targets */
  size_t gathered_size;                /* floats */
  kcb_profiler *profiler;              /* kcb_model_set_profiler; NULL: no spans */
  /* Writers that buffer records (TensorBoard's event files), registered for the running fit so that
   * BackupAndRestore can push their records to the OS before it writes a backup: a run killed after
   * the backup then keeps every step the resumed run will not train again. Cleared when fit ends. */
  struct kcb__flusher {
    int (*flush)(void *ctx);
    void *ctx;
  } flushers[KCB__MAX_FLUSHERS];
  int n_flushers;
  int backup_written; /* set by BackupAndRestore, for the flush after that step's hooks (train.c) */
  int backup_attached; /* a BackupAndRestore runs in this fit: a stop on request will be resumed */
  float *col;                          /* im2col buffer shared by the convolutions, sized at fit start */
  size_t col_size;
  size_t (*train_runs)[2];             /* trainable (offset, length) ranges of the parameter block */
  size_t n_train_runs;
  /* Tests: backward also computes dL/dinput (into the returned input_grad). */
  int want_input_grad;
  int no_fusion;            /* tests: every layer on its own and the optimizer after backward, to compare
                               the fused passes with */
  /* A training step alone (train.c): backward applies the optimizer to each layer as soon as its
   * gradients are done and its weights are no longer needed, while the gradient is still in cache. */
  int update_in_backward;
  /* Distributed fit: BatchNormalization's batch statistics are the global batch's, summed over
   * the processes in forward and backward (normalization.c), so it trains as in one process. */
  kcb_distributed *sync_dist; /* NULL: alone (or one process) */
  float sync_weight;          /* this process's share of the step's samples, count / global */
  int64_t sync_global;        /* the step's global batch: the samples its gradient is a mean over */
  int sync_rc;                /* an MPI failure in those sums, for the step to return */
  const float *input_grad;             /* (batch, in_size) */
};

/* Profiling: records [*t, now) as `name` (category "train" or "test") and moves *t to now; nothing
 * without a profiler. A span the profiler has no memory for is dropped: a trace is diagnostics. */
static inline void kcb__model_span(kcb_model *m, const char *name, int train, double *t) {
  if (!m->profiler) return;
  double now = kcb_profiler_now();
  (void)kcb_profiler_add(m->profiler, name, train ? "train" : "test", *t, now, KCB_PROFILE_LANE_TRAINING, NULL, -1);
  *t = now;
}

/* activations.c: forward writes out (pre may equal out); backward turns dL/dout into dL/dpre
 * in place, reading pre or out as the function needs. */
int kcb__activation_needs_pre(kcb_activation a);
void kcb__activation_forward(kcb_activation a, const float *pre, float *out, int64_t rows, int64_t width);
void kcb__activation_backward(kcb_activation a, const float *pre, const float *out, float *grad,
                              int64_t rows, int64_t width);
/* pre += bias (when not NULL), then out = activation(pre), block by block; and backward: grad
 * becomes dL/dpre and dbias (when not NULL) its column sums. pre may equal out. */
void kcb__bias_activation_forward(kcb_activation a, const float *bias, float *pre, float *out, int64_t rows, int64_t width);
void kcb__activation_bias_backward(kcb_activation a, const float *pre, const float *out, float *grad, float *dbias,
                                   int64_t rows, int64_t width);

/* losses.c: the mean loss over rows of y_pred (rows, width); y_true is (rows, width), or (rows)
 * class indices for the sparse loss. If grad is not NULL it receives dLoss/dy_pred.
 * @return 0 or KCB_EINVAL for a label outside 0..width-1 (message names the row). */
int kcb__loss_compute(kcb_loss loss, int from_logits, const float *y_pred, const float *y_true,
                      int64_t rows, int64_t width, float *grad, double *out_loss);
/* Whether y_true holds one class index per row. */
int kcb__loss_is_sparse(kcb_loss loss);
/* Whether label is a class index of a `width`-way output: a whole number in 0..width-1. */
int kcb__is_class_index(float label, int64_t width);

/* metrics.c: adds the per-row values of the batch to state. label_width: the labels a row, width
 * (one-hot or per-output targets) or 1 (a class index, broadcast against every output as Keras does). */
void kcb__metric_update(kcb_metric metric, kcb__mean *state, const float *y_pred, const float *y_true,
                        int64_t rows, int64_t width, int64_t label_width);
double kcb__mean_result(const kcb__mean *m);
/* Keras 3's choice for "accuracy": binary when the output width is 1, sparse when targets are
 * class indices, categorical otherwise. */
kcb_metric kcb__metric_resolve(kcb_metric metric, int64_t out_width, int sparse_targets);
/* KCB_ESHAPE for the accuracies that cannot read these labels (message names the metric). */
int kcb__metric_check(kcb_metric metric, const char *name, int64_t width, int64_t label_width);

/* optimizers.c */
int kcb__optimizer_init(kcb__optimizer *opt, const kcb_optimizer_options *o, size_t n_params);
void kcb__optimizer_free(kcb__optimizer *opt);
void kcb__optimizer_step(kcb__optimizer *opt, float *params, const float *grads);
/* Whether fit's optimizer updates variable v of layer l (Keras's v in model.trainable_variables). */
static inline int kcb__var_trains(const kcb__layer *l, const kcb__var *v) { return v->trainable && !l->frozen; }

/* The step's update of parameters [lo, lo + n) alone: a step made of such parts over every trainable
 * parameter, then iterations + 1, is kcb__optimizer_step (the update of each parameter is its own). */
void kcb__optimizer_update(const kcb__optimizer *opt, float *params, const float *grads, size_t lo, size_t n);

/* Layer families (conv.c, pooling.c, normalization.c, reshape.c): add-time checks live in each
 * file's public kcb_model_add_*; forward reads l->in and writes l->out (or sets l->y); backward
 * turns dL/dout (g) into parameter gradients and, when dx is not NULL, dL/din. */
/* The per-sample shape the next layer receives. */
void kcb__model_current_shape(const kcb_model *m, int *rank, int64_t *shape);

/* For the running fit: registers a writer's flush (once per ctx; past KCB__MAX_FLUSHERS writers the
 * rest are left to their own timers), removes it, and runs every registered flush (a writer's own
 * error is its to report, at its next record). fit empties the table when it starts and ends. */
int kcb__model_add_flusher(kcb_model *m, int (*flush)(void *ctx), void *ctx);
void kcb__model_remove_flusher(kcb_model *m, void *ctx);
void kcb__model_flush_writers(kcb_model *m);
int kcb__model_append_layer(kcb_model *m, kcb__layer_kind kind, const char *name, kcb__layer **out);
/* The resume notes (see kcb_model.notes): set one (replacing its value), read one (0 when absent),
 * and drop them all. */
int kcb__model_note_set(kcb_model *m, const char *key, int64_t value);
int kcb__model_note_get(const kcb_model *m, const char *key, int64_t *value);
void kcb__model_notes_clear(kcb_model *m);
void kcb__model_finish_layer(kcb_model *m, kcb__layer *l);
/* l's output size and the model's parameter count with l's variables, against kcb_max_params.
 * @return 0 or KCB_EINVAL naming the layer. */
int kcb__model_check_layer(const kcb_model *m, const kcb__layer *l);
/* n keep-mask values: 1/(1-rate) with probability 1-rate, else 0 (Dropout, SpatialDropout2D). */
void kcb__dropout_mask(kcb__rng *rng, float rate, float *mask, int64_t n);
/* Sizes a layer may have: beyond them the add functions refuse (a hostile config must not make
 * compile or fit try to allocate terabytes, nor overflow int64). */
#define KCB__MAX_LAYER_FLOATS ((int64_t)1 << 32)  /* per sample, at a layer's output */
#define KCB__MAX_VAR_FLOATS ((int64_t)1 << 28)    /* one weight variable */
/* The product of n dims into *out; 0 when every dim is positive and the product <= cap. */
int kcb__size_within(int64_t *out, const int64_t *dims, int n, int64_t cap);
/* Output size of a window op along one axis, and its leading padding, by Keras's rules. */
int64_t kcb__window_out(int64_t in, int k, int stride, int dilation, kcb_padding padding, int *pad_before);
void kcb__conv_forward(kcb_model *m, kcb__layer *l, const float *x, int64_t batch);
void kcb__conv_backward(kcb_model *m, kcb__layer *l, float *g, float *dx, int64_t batch);
/* Floats of shared im2col scratch the convolution needs for a batch of `batch`, choosing
 * l->conv_chunk and l->conv_keep_col; kcb__conv_kept_col_size is then the layer's own col. */
size_t kcb__conv_col_size(kcb__layer *l, int64_t batch);
int64_t kcb__conv_kept_col_size(const kcb__layer *l, int64_t batch);
/* Direct loops for ungrouped convolutions with few taps per output (conv_direct.c): whether g is
 * one; forward with bias and activation (dst = pre-activation, out = activated, may be dst);
 * backward: with relu, gy times ReLU's derivative from out (kept in gy when store_grad), then
 * dbias (unless NULL) and dkernel, both overwritten. */
int kcb__conv_direct_eligible(const kcb__geom *g);
void kcb__conv_direct_forward(const kcb__geom *g, const float *x, const float *kernel, const float *bias,
                              kcb_activation act, float *dst, float *out, int64_t batch);
void kcb__conv_direct_backward(const kcb__geom *g, const float *x, int relu, const float *out, float *gy, int store_grad,
                               float *dkernel, float *dbias, int64_t batch);
void kcb__pool_forward(kcb__layer *l, const float *x, int64_t batch);
void kcb__pool_backward(const kcb__layer *l, const float *g, float *dx, int64_t batch);
/* Whether the pooling's backward needs l->taken (max pooling, except windows that tile the input). */
int kcb__pool_needs_flags(const kcb__layer *l);
/* Whether its forward records l->winner (max pooling whose windows tile the input). */
int kcb__pool_records_winners(const kcb__layer *l);
/* The most channels a pooling fused with the BatchNormalization before it may have. */
#define KCB__FUSED_POOL_MAX_CHANNELS 2048
/* The tiled max pooling of x * scale + shift (per channel), x being bn's input: the
 * BatchNormalization's output, never written (bn->norm_fused_pool). */
void kcb__pool_forward_after_norm(kcb__layer *l, const kcb__layer *bn, int64_t batch);
/* What the tiled max pooling's backward writes for input rows [r0, r0 + n) (a row: one position's
 * channels), into dx (n, channels): gy where the row held its window's maximum, 0 elsewhere. */
void kcb__pool_route_rows(const kcb__layer *l, const float *gy, int64_t r0, int64_t n, float *dx);
void kcb__norm_forward(kcb_model *m, kcb__layer *l, const float *x, int64_t batch, int training);
/* Distributed fit, a process without samples in this step (or whose loss failed): takes part in
 * the BatchNormalization sums the others make in forward and/or backward, with nothing to add, and
 * moves its moving statistics as they do. */
void kcb__norm_sync_without_samples(kcb_model *m, int forward, int backward);
/* The per-channel scale and shift of a BatchNormalization's last forward (out = x * scale + shift). */
void kcb__norm_scale_shift(const kcb__layer *l, const float **scale, const float **shift);
/* dx may be g (or NULL: only the parameters' gradients). `pool`: NULL, or with l->norm_fused_pool
 * the pooling after l, whose gradient g then is (dx another buffer). */
void kcb__norm_backward(kcb_model *m, kcb__layer *l, const kcb__layer *pool, float *g, float *dx, int64_t batch);
void kcb__zero_padding_forward(const kcb__layer *l, const float *x, float *out, int64_t batch);
void kcb__zero_padding_backward(const kcb__layer *l, const float *g, float *dx, int64_t batch);
void kcb__spatial_dropout_forward(kcb_model *m, kcb__layer *l, const float *x, int64_t batch, int training);
void kcb__spatial_dropout_backward(const kcb__layer *l, float *g, int64_t batch);
void kcb__rescaling_forward(kcb__layer *l, const float *x, int64_t n);
void kcb__rescaling_backward(const kcb__layer *l, float *gy, int64_t n);

/* model.c */
int kcb__model_reserve_workspace(kcb_model *m, int64_t batch, int64_t y_size);
/* Forward pass over `batch` samples of input; returns the output (batch, out_size). */
const float *kcb__model_forward(kcb_model *m, const float *input, int64_t batch, int training);
/* Whether backward computes layer i's dL/dinput (layers below the first with trainable variables
 * are not visited, nor is that layer's dx made, unless a test asks for dL/dinput). */
int kcb__model_backward_needs_dx(const kcb_model *m, size_t i);
/* Backward pass from dL/doutput (in m->grad_a), filling m->grads. */
void kcb__model_backward(kcb_model *m, int64_t batch);
const kcb__layer *kcb__model_output_layer(const kcb_model *m);

/* Whether the validation pass logs `key` (without "val_"): the loss or a compiled metric. */
int kcb__validation_logs_key(const kcb_model *m, const char *key);

#endif
