/* kcb/checkpoint_file.h — any Keras checkpoint as data: the layers and variables a `.weights.h5`,
 * `.h5` (Keras 3, tf.keras 2.x, Keras 2 with h5py 2) or `.keras` file holds, whatever layers they
 * are. Nothing here needs a layer kcb can run: listing, comparing, ranking, restoring and
 * converting checkpoints work for Conv, BatchNormalization, LSTM, attention, Functional graphs and
 * nested models alike. The mapping between layouts is documented in doc/checkpoint-layouts.md. */
#ifndef KCB_CHECKPOINT_FILE_H
#define KCB_CHECKPOINT_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "kcb/saving.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The largest rank of a stored variable kcb reads. */
#define KCB_CHECKPOINT_MAX_RANK 8

/** A stored variable's element type (numpy's names through kcb_var_dtype_name). */
typedef enum kcb_var_dtype {
  KCB_DTYPE_UNKNOWN = 0, /* not a number kcb reads (strings, compounds) */
  KCB_DTYPE_FLOAT16,
  KCB_DTYPE_FLOAT32,
  KCB_DTYPE_FLOAT64,
  KCB_DTYPE_INT8,
  KCB_DTYPE_INT16,
  KCB_DTYPE_INT32,
  KCB_DTYPE_INT64,
  KCB_DTYPE_UINT8,
  KCB_DTYPE_UINT16,
  KCB_DTYPE_UINT32,
  KCB_DTYPE_UINT64,
  KCB_DTYPE_BFLOAT16, /* Keras stores it as a 2-byte opaque dataset with attribute dtype="bfloat16" */
  KCB_DTYPE_COUNT
} kcb_var_dtype;

/** "float32", "int64", ... as numpy names them; "unknown". @return a static string. */
const char *kcb_var_dtype_name(kcb_var_dtype dtype);

/** Bytes per element of a dtype (0 for KCB_DTYPE_UNKNOWN). */
size_t kcb_var_dtype_size(kcb_var_dtype dtype);

/** One layer (or sub-object of a layer: an RNN's cell, a wrapper's inner layer, a nested model's
 * layer). Strings are owned by the checkpoint file and live until it is closed. */
typedef struct kcb_checkpoint_layer {
  const char *name;        /* Keras's layer name ("conv2d", "lstm_cell"), from the config, the file's
                              `name` attribute or the legacy group name */
  const char *class_name;  /* "Conv2D"; "" when the file does not say (weights-only files) */
  const char *path;        /* its group in the HDF5 file ("/layers/conv2d", "/layers/lstm/cell",
                              "/model_weights/conv2d"); "" for a layer the file has no group for */
  const char *config_json; /* the layer's entry in the model config (JSON object), or NULL */
  int parent;              /* index of the enclosing layer, -1 at the top level */
  int depth;               /* 0 at the top level */
  int trainable;           /* the config's `trainable` (1 when unknown) */
  size_t n_vars;           /* its own variables (those whose `layer` is this index) */
  size_t n_params;             /* elements of its variables and of every nested layer's */
  size_t n_trainable_params;   /* of those, trainable */
} kcb_checkpoint_layer;

/** One stored variable. Model variables come first, in Keras's `model.weights` order for the
 * layout (per layer: trainable then non-trainable), then optimizer variables in stored order. */
typedef struct kcb_checkpoint_var {
  const char *path;        /* the dataset in the HDF5 file ("/layers/conv2d/vars/0"); for a .keras,
                              inside its model.weights.h5 member */
  const char *name;        /* Keras's variable path ("sequential/conv2d/kernel", "conv2d/kernel:0",
                              "adam/sequential_conv2d_kernel_momentum"): stored in legacy files,
                              derived from the layer and its class otherwise ("<layer>/<index>" when
                              the class is not one kcb knows the variable names of) */
  int layer;               /* index of the owning layer; -1 for optimizer variables */
  int rank;
  int64_t shape[KCB_CHECKPOINT_MAX_RANK];
  size_t count;            /* elements */
  kcb_var_dtype dtype;
  int trainable;           /* 0 for non-trainable state (BatchNormalization's moving statistics) */
  int is_optimizer;        /* an optimizer variable */
  long owner;              /* optimizer slot: index of the model variable it belongs to; -1 none
                              (iteration, learning rate) or unknown */
} kcb_checkpoint_var;

/** What a checkpoint says about itself. Strings are "" (never NULL) when absent, except the JSON
 * fields, which are NULL when absent; all owned by the checkpoint file. */
typedef struct kcb_checkpoint_meta {
  kcb_checkpoint_layout layout; /* detected from the content */
  const char *keras_version;    /* "3.15.1", "2.15.0" */
  const char *backend;          /* "tensorflow", "numpy", ... */
  const char *model_class;      /* "Sequential", "Functional"; "" for weights-only files */
  const char *model_name;       /* "sequential" (config, or the root `vars` group's name) */
  const char *model_config;     /* a .h5's model_config, a .keras's config.json; NULL if none */
  const char *training_config;  /* a .h5's training_config or a .keras's compile_config; NULL */
  const char *metadata_json;    /* a .keras's metadata.json; NULL */
  const char *kcb_version;      /* set when kcb wrote the file */
  int has_monitor;              /* kcb's stored ModelCheckpoint monitor */
  const char *monitor;
  double monitor_value;
  int64_t epoch;                /* 0-based epoch kcb stored; -1: none */
  int64_t batch;                /* -1: none */
  int64_t iterations;           /* the optimizer's iteration count (Keras's optimizer.iterations: with
                                   gradient_accumulation_steps, the stored counter divided by them); -1: unknown */
  size_t n_params;              /* elements of all model variables, as Keras's count_params counts them:
                                   a variable stored twice (a legacy file lists a layer shared with a
                                   nested model under both) once, so the layers' n_params, which
                                   count every copy they hold, may add up to more */
  size_t n_trainable_params;
  size_t n_model_vars;          /* model variables (vars [0, n_model_vars)) */
  size_t n_optimizer_vars;      /* optimizer variables, after them */
  const char *optimizer_name;   /* "adam"; "" when the file has no optimizer state */
  int layer_order_guessed;      /* a weights-only .weights.h5 whose groups do not keep the model's layer
                                   order (a copy such as h5repack's makes them in name order): the
                                   layers are listed in a guessed order, and the legacy layout, which
                                   is positional, is refused */
} kcb_checkpoint_meta;

/** What the file or directory at path is when it is another tool's model or data format, as a
 * phrase ("a TensorFlow SavedModel directory (saved_model.pb), not a Keras checkpoint", "a NumPy
 * .npy array, not a Keras checkpoint"); NULL for a Keras file, a file of no format kcb knows of,
 * or NULL path. Reads at most a file's first bytes or a zip's directory. */
const char *kcb_checkpoint_foreign_kind(const char *path);

/** An open checkpoint (opaque). */
typedef struct kcb_checkpoint_file kcb_checkpoint_file;

/** Opens a checkpoint of any layout (detected from the content) and reads its structure, shapes and
 * metadata; no variable data is read. Nesting is found as Keras stores it: RNN cells
 * (`layers/lstm/cell/vars`), wrappers (`forward_layer`, `backward_layer`, `layer`), sub-layers
 * (MultiHeadAttention's dense layers), nested Sequential and Functional models.
 * @param[out] out freed with kcb_checkpoint_file_close; NULL on error.
 * @return 0, KCB_ENOENT, KCB_EFORMAT (not a Keras checkpoint, corrupt structure), KCB_ETRUNC,
 *         KCB_ENOMEM; the message names the file and the object. */
int kcb_checkpoint_file_open(kcb_checkpoint_file **out, const char *path);

/** Closes a checkpoint and frees everything it owns. Accepts NULL. */
void kcb_checkpoint_file_close(kcb_checkpoint_file *f);

/** The file's metadata; owned by f. */
const kcb_checkpoint_meta *kcb_checkpoint_file_meta(const kcb_checkpoint_file *f);

/** The path the file was opened with; owned by f. */
const char *kcb_checkpoint_file_path(const kcb_checkpoint_file *f);

/** The number of layers (every depth, parents before their children). */
size_t kcb_checkpoint_file_layer_count(const kcb_checkpoint_file *f);

/** Layer i, or NULL when i is out of range; owned by f. */
const kcb_checkpoint_layer *kcb_checkpoint_file_layer(const kcb_checkpoint_file *f, size_t i);

/** The number of variables (model variables, then optimizer variables). */
size_t kcb_checkpoint_file_var_count(const kcb_checkpoint_file *f);

/** Variable i, or NULL when i is out of range; owned by f. */
const kcb_checkpoint_var *kcb_checkpoint_file_var(const kcb_checkpoint_file *f, size_t i);

/** Finds a variable by its Keras name or its path in the file.
 * @return its index, or -1 when there is none. */
long kcb_checkpoint_file_find(const kcb_checkpoint_file *f, const char *name_or_path);

/** The model variable of `b` that holds the same Keras variable as model variable i of `a`, for
 * comparing two checkpoints of one model in any layouts: by Keras name (the k-th of a name two
 * variables share pairs with the k-th); else by name without
 * tf.keras 2's ":0" and model prefix ("dense/kernel:0" = "sequential/dense/kernel"); else by
 * position within the same layer (a custom class's "counter/0" in a store = the first of the
 * legacy "counter/..." weights); else, when both have as many model variables, by position.
 * @return its index in b, or -1 when there is none. */
long kcb_checkpoint_file_match(const kcb_checkpoint_file *a, size_t i, const kcb_checkpoint_file *b);

/** Reads variable i converted to double (any stored dtype).
 * @param out room for exactly n = var->count values.
 * @return 0, KCB_EINVAL (bad index or n), KCB_EFORMAT (corrupt data), KCB_ENOMEM. */
int kcb_checkpoint_file_read_double(const kcb_checkpoint_file *f, size_t i, double *out, size_t n);

/** Reads variable i as it is stored: count elements of its dtype, little-endian.
 * @param size must be var->count * kcb_var_dtype_size(var->dtype).
 * @return 0, KCB_EINVAL (bad index, size or unknown dtype), KCB_EFORMAT. */
int kcb_checkpoint_file_read_raw(const kcb_checkpoint_file *f, size_t i, void *out, size_t size);

/** Statistics of a variable's values. */
typedef struct kcb_var_stats {
  double min, max, mean, std; /* over the finite values; NaN when there are none */
  double sum;                 /* float64 sum of every value (NaN or inf if any is) */
  size_t n_nan, n_inf;
} kcb_var_stats;

/** Computes a variable's statistics, reading it in slices of a few MB (any size of variable).
 * @return 0 or an error as kcb_checkpoint_file_read_double. */
int kcb_checkpoint_file_stats(const kcb_checkpoint_file *f, size_t i, kcb_var_stats *out);

/** How variable i of `a` differs from variable j of `b` (same number of elements required).
 * Equal values, the same infinities and NaN in both count as no difference.
 * @param[out] max_abs the largest |a - b|: NaN where one is NaN and the other not, inf where an
 *             infinity meets another value
 * @param[out] rel_l2 ||a - b|| / ||a|| over a's finite values (0 when there is no difference)
 * @return 0, KCB_ESHAPE (different element counts), or a read error. */
int kcb_checkpoint_file_compare(const kcb_checkpoint_file *a, size_t i, const kcb_checkpoint_file *b, size_t j,
                                double *max_abs, double *rel_l2);

/** What kcb_checkpoint_file_write did besides copying every variable. */
typedef struct kcb_checkpoint_write_report {
  size_t n_vars_written;       /* model and optimizer variables written */
  int optimizer_dropped;       /* 1: the source's optimizer state was not written (see note) */
  char note[1024];             /* why, or "" (several notes joined by "; ") */
} kcb_checkpoint_write_report;

/** Writes the checkpoint's contents to `out_path` in `layout` (KCB_LAYOUT_AUTO: from the name),
 * atomically, then reads the result back and checks every variable bit for bit. The same layout
 * as the source copies the file byte for byte (config, optimizer state and metadata kept).
 * Between layouts the variables are laid out as Keras lays them out in the target (see
 * doc/checkpoint-layouts.md): `.keras` and full `.h5` need the model config (a `.h5` or `.keras`
 * source); `.weights.h5` from a legacy file needs the class of every layer (its model config).
 * Everything is checked before anything is written.
 * @param report may be NULL.
 * @return 0, KCB_EINVAL (a conversion that is not defined: the message names the layer and why, or
 *         a bad target name), KCB_EIO / KCB_ENOSPC naming the file. */
int kcb_checkpoint_file_write(const kcb_checkpoint_file *f, const char *out_path, kcb_checkpoint_layout layout,
                              kcb_checkpoint_write_report *report);

#ifdef __cplusplus
}
#endif
#endif
