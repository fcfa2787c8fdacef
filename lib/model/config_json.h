/* model/config_json.h — a Sequential model's Keras config as JSON (through jansson), both ways.
 * Written in Keras 3.15's field layout (spec/keras-hdf5.md §5), read from Keras 3 and Keras 2
 * configs alike. */
#ifndef KCB_MODEL_CONFIG_JSON_H
#define KCB_MODEL_CONFIG_JSON_H

#include "model/model_internal.h"

/* Keras's `model.to_json()` / `.keras` config.json: {"module": "keras", "class_name":
 * "Sequential", "config": {...}, "registered_name": null, "build_config": {...},
 * "compile_config": {...} (when compiled)}. *out is malloc'd compact JSON. @return 0 or KCB_E*. */
int kcb__model_config_json(const kcb_model *m, char **out);

/* The legacy `.h5` root attribute model_config: {"class_name": "Sequential", "config": {...}}. */
int kcb__model_config_json_legacy(const kcb_model *m, char **out);

/* The legacy `.h5` root attribute training_config (compile arguments with "optimizer_config").
 * KCB_ESTATE if the model is not compiled. */
int kcb__training_config_json(const kcb_model *m, char **out);

/* Keras's class and instance names of the model's optimizer ("Adam", "adam"; "RMSprop", "rm_sprop"). */
const char *kcb__optimizer_class_name(kcb_optimizer_kind kind);
const char *kcb__optimizer_instance_name(kcb_optimizer_kind kind);

/* Rebuilds a model from a model config in either form (Keras 3 or 2, with or without the
 * module wrapper). Compile settings come from `training_config` (legacy .h5; may be NULL) or the
 * config's own "compile_config"; with neither (or compile == 0) the model is compiled with
 * Keras's compile() defaults (rmsprop) and mean squared error, and *compiled_from_file = 0.
 * `file` names the source in messages. @param[out] out a new model, or NULL on error. */
int kcb__model_from_config_json(kcb_model **out, const char *model_config, const char *training_config,
                                uint64_t seed, int compile, int *compiled_from_file, const char *file);

#endif
