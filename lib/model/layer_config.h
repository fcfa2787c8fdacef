/* model/layer_config.h — Keras config JSON of the convolution, pooling, normalization and
 * reshaping layers (model/layer_config.c), called by config_json.c for every kind it does not
 * handle itself. Private: includes jansson. */
#ifndef KCB_MODEL_LAYER_CONFIG_H
#define KCB_MODEL_LAYER_CONFIG_H

#include <jansson.h>

#include "model/model_internal.h"

/* Adds l's class-specific fields to its config object c, in Keras 3.15's order.
 * @return 0, or -1 when memory ran out. */
int kcb__layer_config_write(json_t *c, const kcb__layer *l);

/* Whether Keras writes a build_config for this class (layers with a build step). */
int kcb__layer_has_build_config(kcb__layer_kind kind);

/* Adds the layer of class cls with config c to m. @return 1 when cls is a class of this file
 * (*rc then holds 0 or the error), 0 when it is not. */
int kcb__layer_config_read(kcb_model *m, const char *cls, json_t *c, const char *name, const char *file, int *rc);

/* config_json.c's helpers, shared with layer_config.c. */
json_t *kcb__config_initializer_json(kcb_initializer init, int *failed);
/* A float32 setting as the number a person wrote (0.3, not 0.30000001192092896): the shortest
 * decimal that reads back as the same float, as Keras writes the Python float it was given. */
json_t *kcb__config_float_json(float v);
int kcb__config_activation(json_t *v, kcb_activation *out, const char *file, const char *layer, int last_axis);
kcb_initializer kcb__config_initializer(json_t *v, kcb_initializer fallback);
/* A setting's number, or `fallback` when it is absent or null. */
double kcb__config_number(json_t *obj, const char *key, double fallback);
/* The settings that hold numbers or truths in `c` hold no string, list or object (Keras would take
 * "0.5" for a rate, or "false" as true): KCB_EFORMAT naming `what` (a layer's "<Class> layer
 * '<name>'", whose class decides what its scale is) and the setting, else 0. */
int kcb__config_check_kinds(json_t *c, const char *what, const char *file);

#endif
