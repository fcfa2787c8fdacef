/* model/config_json.c — the Keras config of a Sequential model, built with jansson. */
#include "model/config_json.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"

static json_t *dtype_policy(void) {
  return json_pack("{s:s, s:s, s:{s:s}, s:n}", "module", "keras", "class_name", "DTypePolicy", "config", "name",
                   "float32", "registered_name");
}

static const char *initializer_class(kcb_initializer i) {
  switch (i) {
    case KCB_INIT_GLOROT_UNIFORM: return "GlorotUniform";
    case KCB_INIT_HE_NORMAL: return "HeNormal";
    case KCB_INIT_HE_UNIFORM: return "HeUniform";
    case KCB_INIT_ZEROS: return "Zeros";
    case KCB_INIT_ONES: return "Ones";
    case KCB_INIT_RANDOM_NORMAL: return "RandomNormal";
    default: return "GlorotUniform";
  }
}

static json_t *initializer(kcb_initializer i) {
  json_t *config;
  if (i == KCB_INIT_ZEROS || i == KCB_INIT_ONES) config = json_object();
  else if (i == KCB_INIT_RANDOM_NORMAL) config = json_pack("{s:f, s:f, s:n}", "mean", 0.0, "stddev", 0.05, "seed");
  else config = json_pack("{s:n}", "seed");
  return json_pack("{s:s, s:s, s:o, s:n}", "module", "keras.initializers", "class_name", initializer_class(i), "config",
                   config, "registered_name");
}

/* [null, d1, d2, ...] */
static json_t *batch_shape(int rank, const int64_t *shape) {
  json_t *a = json_array();
  if (!a) return NULL;
  json_array_append_new(a, json_null());
  for (int i = 0; i < rank; i++) json_array_append_new(a, json_integer((json_int_t)shape[i]));
  return a;
}

static json_t *layer_config(const kcb_model *m, size_t i) {
  const kcb__layer *l = &m->layers[i];
  json_t *c = json_pack("{s:s, s:b, s:o}", "name", l->name, "trainable", 1, "dtype", dtype_policy());
  if (!c) return NULL;
  const char *cls = "Layer";
  switch (l->kind) {
    case KCB__DENSE:
      cls = "Dense";
      json_object_set_new(c, "units", json_integer(l->dense.units));
      json_object_set_new(c, "activation", json_string(kcb_activation_name(l->dense.activation)));
      json_object_set_new(c, "use_bias", json_boolean(l->dense.use_bias));
      json_object_set_new(c, "kernel_initializer", initializer(l->dense.kernel_initializer));
      json_object_set_new(c, "bias_initializer", initializer(l->dense.bias_initializer));
      json_object_set_new(c, "kernel_regularizer", json_null());
      json_object_set_new(c, "bias_regularizer", json_null());
      json_object_set_new(c, "kernel_constraint", json_null());
      json_object_set_new(c, "bias_constraint", json_null());
      break;
    case KCB__ACTIVATION:
      cls = "Activation";
      json_object_set_new(c, "activation", json_string(kcb_activation_name(l->activation)));
      break;
    case KCB__DROPOUT:
      cls = "Dropout";
      json_object_set_new(c, "rate", json_real(l->rate));
      json_object_set_new(c, "seed", json_null());
      json_object_set_new(c, "noise_shape", json_null());
      break;
    case KCB__FLATTEN:
      cls = "Flatten";
      json_object_set_new(c, "data_format", json_string("channels_last"));
      break;
  }
  return json_pack("{s:s, s:s, s:o}", "module", "keras.layers", "class_name", cls, "config", c);
}

int kcb__model_config_json(const kcb_model *m, char **out) {
  *out = NULL;
  if (!m) return kcb__error(KCB_EINVAL, "model config: NULL model");
  json_t *layers = json_array();
  json_t *input = json_pack("{s:s, s:s, s:{s:o, s:s, s:b, s:b, s:s, s:b}}", "module", "keras.layers", "class_name",
                            "InputLayer", "config", "batch_shape", batch_shape(m->in_rank, m->in_shape), "dtype",
                            "float32", "sparse", 0, "ragged", 0, "name", "input_layer", "optional", 0);
  int ok = layers && input && json_array_append_new(layers, input) == 0;
  for (size_t i = 0; ok && i < m->n_layers; i++) {
    json_t *l = layer_config(m, i);
    ok = l && json_array_append_new(layers, l) == 0;
  }
  json_t *root = NULL;
  if (ok)
    root = json_pack("{s:s, s:s, s:{s:s, s:b, s:o, s:o, s:o}, s:n}", "module", "keras", "class_name", "Sequential",
                     "config", "name", "sequential", "trainable", 1, "dtype", dtype_policy(), "layers", layers,
                     "build_input_shape", batch_shape(m->in_rank, m->in_shape), "registered_name");
  else json_decref(layers);
  if (!root) return kcb__error(KCB_ENOMEM, "model config: out of memory");
  *out = json_dumps(root, JSON_PRESERVE_ORDER);
  json_decref(root);
  if (!*out) return kcb__error(KCB_ENOMEM, "model config: out of memory");
  return 0;
}
