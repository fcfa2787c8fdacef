/* io/checkpoint_file_internal.h — the checkpoint tree's insides, shared with the writer that
 * converts between layouts (model/checkpoint_convert.c). */
#ifndef KCB_IO_CHECKPOINT_FILE_INTERNAL_H
#define KCB_IO_CHECKPOINT_FILE_INTERNAL_H

#include <jansson.h>
#include <string.h>

#include "io/h5.h"
#include "kcb/checkpoint_file.h"

/* Deeper nesting than this is refused before any recursion can exhaust the stack. */
#define KCB__CKPT_MAX_DEPTH 64
/* Optimizer objects of a store read (a LossScaleOptimizer and its inner optimizer). */
#define KCB__CKPT_MAX_OPT_SEG 8

typedef struct kcb__ckpt_layer {
  kcb_checkpoint_layer pub;
  char *name, *class_name, *path, *config_json;
  char *attr;    /* its group's own name: container name ("conv2d_1") or attribute ("cell") */
  json_t *entry; /* its entry in the model config (borrowed from kcb_checkpoint_file.config) */
  int in_list;   /* an item of a list of its parent's sub-layers (their order is the list's, known) */
  int model_own; /* not a layer: the model's own variables (a store's root `vars`, a legacy file's
                    top_level_model_weights), as a subclassed model creates them */
} kcb__ckpt_layer;

typedef struct kcb__ckpt_var {
  kcb_checkpoint_var pub;
  char *path, *name;
  size_t store_index; /* its index in its group (`vars/<i>`, or the i-th weight name) */
  uint64_t raw_addr;  /* bfloat16: the file address of its contiguous data, read as bytes */
  const char *slot_name; /* optimizer slot found by position: Keras's name for it ("momentum"), or NULL */
  long alias_of; /* a store: the sub-layer's variable a layer tracks again as its own (SpectralNormalization's
                    kernel), counted once, as Keras's Layer.weights lists it; -1 none */
} kcb__ckpt_var;

struct kcb_checkpoint_file {
  char *path;
  char *h5name; /* the HDF5 file's name in messages: path, or "path[model.weights.h5]" */
  kcb_checkpoint_meta meta;
  hid_t file;
  void *image; /* a .keras's model.weights.h5 member */
  size_t image_len;
  json_t *config; /* the parsed model config, or NULL */
  kcb__ckpt_layer *layers;
  size_t n_layers, cap_layers;
  kcb__ckpt_var *vars;
  size_t n_vars, cap_vars;
  int walk_depth;
  uint64_t *walked;             /* the object groups read, by address (an open-addressed set, 0 empty) */
  size_t walked_cap, n_walked;
  int order_guessed; /* a store's layers in a guessed order: the heap was unreadable, or its order
                        contradicts Keras's numbering or the optimizer's slots (a rewritten file) */
  int order_by_names; /* some container's layers of several classes came out in name order */
  int slots_unmatched; /* the optimizer's slots fit no layout kcb knows along the model's variables */
  int names_guessed; /* a store's variables named after their containers: Keras before 3.6 kept no names */
  int n_opt_seg;                                 /* store optimizer objects, in file order */
  size_t opt_seg_start[KCB__CKPT_MAX_OPT_SEG];   /* index of each one's first variable */
  char *opt_seg_name[KCB__CKPT_MAX_OPT_SEG];     /* its `vars` name ("loss_scale_optimizer", "adam") */
  void *slice[2]; /* kcb_checkpoint_file_stats's read buffers, slice_size bytes each */
  char **part;    /* kcb_checkpoint_file_match's cache: each model variable's layer part, */
  size_t *part_k; /* and its position among the variables of that part (made on first use) */
  size_t slice_size;
  char *model_config, *training_config, *metadata_json, *keras_version, *backend, *model_class, *model_name,
      *kcb_version, *monitor, *optimizer_name;
  json_t *training; /* training_config parsed once, read-only (NULL: none, or not JSON) */
  kcb__str_map by_name; /* variables by name and by path, for kcb_checkpoint_file_find */
  size_t n_assets;  /* a .keras's files under assets/ (only a .keras holds them) */
  int frozen_known; /* a weights-only store's frozen variables were told by its optimizer's slots */
  char store_gap[256]; /* a weights-only store's container missing a name of its numbering ("dense" before
                          "dense_1"): a layer saved once under a nested model it is shared with */
};

/* Keras's naming.to_snake_case ("MaxPooling2D" -> "max_pooling2d", "LSTMCell" -> "lstm_cell"). */
void kcb__keras_snake_case(const char *name, char *out, size_t size);
/* The class / name of a config entry ({"class_name", "config": {"name"}}); "" if absent. */
/* Whether variables i and j hold the same bytes in the same shape and type, into *same; an array of
 * one repeated value counts only with constant_counts (two fresh zero biases are equal by chance).
 * @return 0, or an error reading them. */
/* The config of the optimizer whose slots the file holds (compile_config's `optimizer`,
 * training_config's `optimizer_config`): a LossScaleOptimizer's variables are its inner
 * optimizer's, laid out by the inner optimizer's settings (use_ema, centered, ...). class_name, when
 * not NULL, gets that optimizer's class. */
json_t *kcb__ckpt_optimizer_config(json_t *tc, const char **class_name);
/* Whether an optimizer class is a LossScaleOptimizer: Keras 3's, tf.keras 2's, or tf.keras 2.11+'s
 * LossScaleOptimizerV3 (the name it serializes an explicit LossScaleOptimizer(Adam()) under). */
static inline int kcb__is_loss_scale_class(const char *cls) {
  return cls && (!strcmp(cls, "LossScaleOptimizer") || !strcmp(cls, "LossScaleOptimizerV3") ||
                 !strcmp(cls, "LossScaleOptimizerV1"));
}
/* The optimizer's entry itself ({"class_name": ..., "config": ...}) in compile settings tc, not
 * unwrapped (a LossScaleOptimizer stays one), or NULL. */
json_t *kcb__ckpt_optimizer_entry(json_t *tc);
int kcb__ckpt_same_data(const kcb_checkpoint_file *f, size_t i, size_t j, int constant_counts, int *same);
/* A config entry's class ("" when none): a registered class's name without its package, as a
 * legacy config's "Package>Name" names it. */
const char *kcb__entry_class(json_t *entry);
const char *kcb__entry_name(json_t *entry);
/* A new array of a model entry's layers, as model.layers lists them: for_store drops a
 * Sequential's InputLayer (the legacy layer_names drop it too). NULL if entry is no model. */
json_t *kcb__entry_layers(json_t *entry, int for_store);
/* How a layer config's variables are quantized (model.quantize): its quantized dtype policy's mode
 * ("int8", "int4/128", "float8", "gptq", ...; Keras 3 writes {"mode", "source_name"} for those,
 * no "name"), "quantized" for a quantization_config alone, NULL when they are not. A quantized
 * layer stores other variables, in another order, than its float one. */
const char *kcb__config_quantization(json_t *layer_config);
int kcb__is_rnn_class(const char *class_name);
/* The class of an RNN layer's cell ("LSTMCell", "ConvLSTMCell", a generic RNN's from its config). */
void kcb__rnn_cell_class(const char *rnn_class, json_t *entry, char *out, size_t size);
int kcb__is_model_class(const char *class_name);
/* MultiHeadAttention or GroupedQueryAttention: EinsumDense projections named query, key, value,
 * attention_output (and gate), a weightless Softmax and Dropout. */
int kcb__is_attention_class(const char *class_name);
/* Whether a Bidirectional's sub-layer `name` is its backward layer: the copy Keras makes is
 * backward_<name>, a backward layer given to it keeps its own name (its config, bidi_config, says). */
int kcb__bidi_is_backward(json_t *bidi_config, const char *name);
/* How a Keras 3 optimizer lays out its slots (base_optimizer.add_optimizer_variables): groups,
 * each interleaved over the trainable variables (Adam: momentum, velocity of the first variable,
 * then of the second, ...), one group after the other (RMSprop: every velocity, then every
 * momentum). Later groups are optional (momentum, centered, amsgrad). */
typedef struct opt_layout {
  const char *name;         /* its class name, lower case ("rmsprop") */
  const char *groups[3][2]; /* slot names per group */
} opt_layout;
/* The layout of optimizer `name` ("adam", "adam_1", "rm_sprop", "RMSprop"), or NULL when kcb does not know it. */
const opt_layout *kcb__opt_layout_of(const char *name);
/* The layout of the optimizer named `name` in file f: by its class in the file's compile config for
 * a tf.keras 2 file (whose one optimizer may bear any name, even another class's), else by that
 * name, then by the class (a name the user gave it, "my_opt"). */
const opt_layout *kcb__opt_layout_for(const kcb_checkpoint_file *f, const char *name);
/* Slots per variable in the first g groups of a layout. */
size_t kcb__opt_layout_width(const opt_layout *layout, int g);

/* The little-endian HDF5 file type of a dtype; float16 through kcb__dtype_half (close it). */
hid_t kcb__dtype_file_type(kcb_var_dtype dtype);
hid_t kcb__dtype_half(void);

#endif
