/* kcb/saving.h — checkpoints in Keras's file layouts: `*.weights.h5` (Keras 3 weights store),
 * `*.h5` (legacy full model) and `*.keras` (zip archive), written atomically and read back
 * whichever program wrote them (kcb, Keras 3, Keras 2). */
#ifndef KCB_SAVING_H
#define KCB_SAVING_H

#include <stddef.h>
#include <stdint.h>

#include "kcb/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A checkpoint's layout. KCB_LAYOUT_AUTO picks it from the file name as Keras does:
 * `.keras` -> KERAS, `.weights.h5` -> WEIGHTS_H5, other `.h5` / `.hdf5` -> H5. */
typedef enum kcb_checkpoint_layout {
  KCB_LAYOUT_AUTO = 0,
  KCB_LAYOUT_WEIGHTS_H5,        /* Keras 3 `model.save_weights("x.weights.h5")`: layers/<k>/vars/<i> */
  KCB_LAYOUT_H5,                /* Keras `model.save("x.h5")`: model_config, model_weights, optimizer_weights */
  KCB_LAYOUT_KERAS,             /* Keras 3 `model.save("x.keras")`: zip of config.json, metadata.json, model.weights.h5 */
  KCB_LAYOUT_LEGACY_WEIGHTS_H5, /* Keras 2 `model.save_weights("x.h5")`: layer groups at the root */
  KCB_LAYOUT_COUNT
} kcb_checkpoint_layout;

/** The name of a layout ("weights.h5", "h5", "keras", "legacy_weights.h5", "auto").
 * @return a static string. */
const char *kcb_checkpoint_layout_name(kcb_checkpoint_layout layout);

/** What kcb_model_save writes. Metadata fields are stored as root attributes of the HDF5 file
 * (`kcb_monitor`, `kcb_monitor_value`, `kcb_epoch`, `kcb_batch`, with `kcb_version` and
 * `kcb_iterations` always), which Keras ignores and kcb_checkpoint_info_read returns. */
typedef struct kcb_save_options {
  kcb_checkpoint_layout layout; /* KCB_LAYOUT_AUTO: from the file name */
  int include_optimizer;        /* 1: optimizer slots, iterations and learning rate (default) */
  const char *monitor;          /* e.g. "val_loss"; NULL: no monitor attributes */
  double monitor_value;         /* stored when monitor is not NULL */
  int64_t epoch;                /* 0-based epoch the state belongs to; -1: not stored */
  int64_t batch;                /* 0-based batch within the epoch; -1: not stored */
  const float *weights;         /* NULL: the model's parameters; else param_count floats saved
                                   instead (e.g. a best-weights snapshot), borrowed */
  int include_rng_state;        /* 1: store the dropout/shuffle RNG state (`kcb_rng_state`) so a
                                   resumed fit draws the same numbers (default 1) */
} kcb_save_options;
#define KCB_SAVE_OPTIONS_INIT {KCB_LAYOUT_AUTO, 1, NULL, 0.0, -1, -1, NULL, 1}

/** Saves a compiled model to `path` in the layout the options (or the name) select. The file is
 * written under a temporary name in the same directory, synced and renamed over `path`, so a
 * failure (disk full, read-only directory, bad path) leaves any previous file untouched.
 * @param opts NULL: KCB_SAVE_OPTIONS_INIT.
 * @return 0, KCB_EINVAL (bad name for the layout, as Keras's "must end in .weights.h5"),
 *         KCB_ESTATE (not compiled), KCB_EIO / KCB_ENOSPC / KCB_ENOENT naming the file. */
int kcb_model_save(kcb_model *m, const char *path, const kcb_save_options *opts);

/** Whether loading restores the optimizer's state. */
typedef enum kcb_load_optimizer {
  KCB_LOAD_OPTIMIZER_IF_PRESENT = 0, /* restore when the file has a matching state, else keep (Keras warns) */
  KCB_LOAD_OPTIMIZER_SKIP,           /* weights only */
  KCB_LOAD_OPTIMIZER_REQUIRE         /* fail with KCB_ESHAPE / KCB_EFORMAT unless it restores */
} kcb_load_optimizer;

/** How files are loaded. */
typedef struct kcb_load_options {
  kcb_load_optimizer optimizer; /* default KCB_LOAD_OPTIMIZER_IF_PRESENT */
  int restore_rng_state;        /* 1: restore `kcb_rng_state` when present (default 1) */
  int compile;                  /* kcb_model_load: compile from the training/compile config (default 1) */
  uint64_t seed;                /* kcb_model_load: the new model's seed (default 0) */
  int check_config;             /* kcb_model_load_weights: when the file describes a Sequential, refuse
                                   (KCB_EFORMAT, naming the layer and setting) a model that differs
                                   from m in more than names, dtypes and initializers, or one with a
                                   setting kcb cannot honour (a frozen layer, a regularizer), rather
                                   than train the weights as another model (default 0: Keras's
                                   load_weights, which reads weights alone) */
} kcb_load_options;
#define KCB_LOAD_OPTIONS_INIT {KCB_LOAD_OPTIMIZER_IF_PRESENT, 1, 1, 0, 0}

/** Loads weights (and, per opts, optimizer state) from a file of any layout into a compiled
 * model, detecting the layout from the content. Matching follows Keras: layer by layer for
 * `.h5` files (weighted layers in order), by position (`layers/dense_k`) for `.weights.h5` and
 * `.keras`. On any error the model is left unchanged.
 * @param opts NULL: KCB_LOAD_OPTIONS_INIT.
 * @return 0, KCB_ESHAPE (layer count, weight count or shape mismatch: the message names the
 *         file, the layer and both shapes), KCB_EFORMAT (corrupt or not a Keras file),
 *         KCB_ETRUNC, KCB_ENOENT, KCB_ESTATE (not compiled). */
int kcb_model_load_weights(kcb_model *m, const char *path, const kcb_load_options *opts);

/** Rebuilds a model from a `.h5` or `.keras` file alone: architecture from the model config,
 * compile settings (optimizer, loss, metrics) from training_config / compile_config, then weights
 * and optimizer state. A file without compile settings (Keras would return an uncompiled model)
 * gives a model compiled with Keras's compile() defaults, RMSprop, and mean squared error; its
 * optimizer state is then not loaded, and until it is compiled again or trained it is saved as Keras
 * would save the uncompiled model: without compile settings or optimizer state. Supported layers:
 * those of kcb/model.h and kcb/layers.h (Dense,
 * Activation, Dropout, Flatten, convolutions, pooling, normalization, Reshape, ZeroPadding2D,
 * SpatialDropout2D); a tf.keras 2 training config is mapped to kcb's settings, and a setting kcb
 * lacks is KCB_EFORMAT naming it (load with compile = 0 to get the weights).
 * @param[out] out a new model, freed with kcb_model_free; NULL on error.
 * Layer settings kcb does not implement (trainable=false, a dtype policy other than float32 or
 * mixed_*, regularizers, constraints, Dropout's noise_shape, channels_first Flatten, LoRA,
 * quantization) are KCB_EFORMAT naming the file, the layer and the setting, as are optimizer
 * clipping, use_ema, gradient accumulation, loss scaling and learning-rate schedules, loss
 * reduction / label_smoothing / ignore_class / axis, loss_weights, weighted_metrics,
 * steps_per_execution other than 1 and accuracy thresholds other than 0.5 when compiling (a model
 * built without them would train or predict otherwise), an InputLayer dtype other than float32 or
 * float64 (Keras casts the inputs to it), and hard_sigmoid in a file of tf.keras 2 (which computed
 * another function under that name).
 * @return 0 or an error as kcb_model_load_weights; KCB_EFORMAT if the file has no model config
 *         (a weights-only file) or the config holds a layer or a setting kcb does not have. */
int kcb_model_load(kcb_model **out, const char *path, const kcb_load_options *opts);

/** What a checkpoint holds, read without loading its weights (for ranking checkpoints). */
typedef struct kcb_checkpoint_info {
  kcb_checkpoint_layout layout; /* detected from the content */
  size_t n_layers;              /* layers with weights */
  size_t n_weights;             /* weight variables (kernels, biases) */
  size_t n_params;              /* floats in those variables */
  int has_config;               /* model config present (kcb_model_load can rebuild it) */
  int has_training_config;      /* compile information present */
  size_t n_optimizer_vars;      /* saved optimizer variables (0: none), iteration and lr included */
  int64_t iterations;           /* saved optimizer iterations; -1: unknown */
  int has_monitor;              /* monitor / monitor_value were stored */
  char monitor[64];
  double monitor_value;
  int64_t epoch, batch;         /* -1: not stored */
  char kcb_version[32];         /* "" for files kcb did not write */
  char keras_version[32];       /* "" when the file does not say */
} kcb_checkpoint_info;

/** Reads a checkpoint's layout, counts and metadata attributes.
 * @param[out] out filled on success.
 * @return 0, KCB_ENOENT, KCB_EFORMAT, KCB_ETRUNC (the message names the file). */
int kcb_checkpoint_info_read(kcb_checkpoint_info *out, const char *path);

/** The model config JSON a checkpoint stores: a `.h5` file's `model_config` attribute, or a
 * `.keras` archive's `config.json` (which also holds the compile config), as written.
 * @param[out] out_json a malloc'd NUL-terminated copy (the caller frees it), or NULL when the
 *             file holds no config (a weights-only file).
 * @return 0, KCB_ENOENT, KCB_EFORMAT, KCB_ETRUNC (the message names the file). */
int kcb_checkpoint_config_read(const char *path, char **out_json);

/** The layout `path`'s name selects (KCB_LAYOUT_AUTO resolution) without opening it.
 * @return 0 or KCB_EINVAL for a name ending in none of .keras, .weights.h5, .h5, .hdf5. */
int kcb_checkpoint_layout_from_name(kcb_checkpoint_layout *out, const char *path);

#ifdef __cplusplus
}
#endif
#endif
