/* model/config_json.h — the Keras model config JSON of a Sequential model (internal: used by the
 * TensorBoard callback's "keras" summary and the HDF5 checkpoints' model_config). */
#ifndef KCB_MODEL_CONFIG_JSON_H
#define KCB_MODEL_CONFIG_JSON_H

#include "kcb/model.h"

/* Writes {"class_name": "Sequential", "config": {...}} as Keras 3's legacy model_config
 * (spec/keras-hdf5.md §5.1): an InputLayer, then each layer's config.
 * @param[out] out a malloc'd NUL-terminated string the caller frees.
 * @return 0, KCB_EINVAL (NULL model) or KCB_ENOMEM. */
int kcb__model_config_json(const kcb_model *model, char **out);

#endif
