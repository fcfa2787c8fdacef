/* model/config_json.c — the Sequential model's Keras config as JSON (see config_json.h).
 * Field names, order and defaults follow Keras 3.15.1 (fixtures/keras/m.h5, m.keras); the
 * reader also takes Keras 2's names (batch_input_shape, string dtypes, "lr"). */
#include "model/config_json.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model/layer_config.h"
#include "io/checkpoint_file_internal.h"
#include "io/json_python.h"

/* ---- writing ----------------------------------------------------------------------------- */

static const char *const initializer_class[KCB_INIT_COUNT] = {"GlorotUniform", "HeNormal", "HeUniform",
                                                              "Zeros", "Ones", "RandomNormal"};
static const char *const loss_class[KCB_LOSS_COUNT] = {"MeanSquaredError", "MeanAbsoluteError", "BinaryCrossentropy",
                                                       "CategoricalCrossentropy", "SparseCategoricalCrossentropy"};

const char *kcb__optimizer_class_name(kcb_optimizer_kind kind) {
  static const char *const names[KCB_OPT_COUNT] = {"SGD", "RMSprop", "Adam", "AdamW"};
  return (unsigned)kind < KCB_OPT_COUNT ? names[kind] : "unknown";
}

const char *kcb__optimizer_instance_name(kcb_optimizer_kind kind) {
  /* Keras 3.15's: the class name in snake case (its process's first instance; later ones get _1, ...) */
  static const char *const names[KCB_OPT_COUNT] = {"sgd", "rm_sprop", "adam", "adam_w"};
  return (unsigned)kind < KCB_OPT_COUNT ? names[kind] : "unknown";
}

/* Building helpers: every json_* constructor may return NULL on allocation failure; json_object_set_new
 * accepts NULL and fails, and we check the whole tree once at the end through a flag. */
typedef struct builder {
  int failed;
} builder;

static void put(builder *b, json_t *obj, const char *key, json_t *value) {
  if (!obj || !value || json_object_set_new(obj, key, value) != 0) b->failed = 1;
}

static void push(builder *b, json_t *arr, json_t *value) {
  if (!arr || !value || json_array_append_new(arr, value) != 0) b->failed = 1;
}

/* Keras's serialized object: {"module", "class_name", "config", "registered_name"}; the legacy
 * form (inside a legacy .h5 model_config) has only class_name and config. */
static json_t *wrap(builder *b, const char *module, const char *class_name, json_t *config, int keras_form) {
  json_t *o = json_object();
  if (module && keras_form) put(b, o, "module", json_string(module));
  put(b, o, "class_name", json_string(class_name));
  put(b, o, "config", config);
  if (keras_form) put(b, o, "registered_name", json_null());
  return o;
}

/* Keras 3's DTypePolicy of `name` ("" for float32). */
static json_t *dtype_policy(builder *b, const char *name) {
  json_t *c = json_object();
  put(b, c, "name", json_string(*name ? name : "float32"));
  /* The policy object carries module/registered_name in both forms (fixture m.h5). */
  json_t *o = json_object();
  put(b, o, "module", json_string("keras"));
  put(b, o, "class_name", json_string("DTypePolicy"));
  put(b, o, "config", c);
  put(b, o, "registered_name", json_null());
  return o;
}

static json_t *batch_shape(builder *b, int rank, const int64_t *shape) {
  json_t *a = json_array();
  push(b, a, json_null());
  for (int i = 0; i < rank; i++) push(b, a, json_integer(shape[i]));
  return a;
}

static json_t *initializer(builder *b, kcb_initializer init) {
  json_t *c = json_object();
  switch (init) {
    case KCB_INIT_GLOROT_UNIFORM:
    case KCB_INIT_HE_NORMAL:
    case KCB_INIT_HE_UNIFORM:
      put(b, c, "seed", json_null());
      put(b, c, "input_axes", json_null());
      put(b, c, "output_axes", json_null());
      break;
    case KCB_INIT_RANDOM_NORMAL:
      put(b, c, "seed", json_null());
      put(b, c, "mean", json_real(0.0));
      put(b, c, "stddev", json_real(0.05));
      break;
    default: break;
  }
  return wrap(b, "keras.initializers", initializer_class[init], c, 1);
}

static void layer_input_shape(const kcb_model *m, size_t i, int *rank, const int64_t **shape) {
  if (i == 0) {
    *rank = m->in_rank;
    *shape = m->in_shape;
  } else {
    *rank = m->layers[i - 1].out_rank;
    *shape = m->layers[i - 1].out_shape;
  }
}

static json_t *layer_json(builder *b, const kcb_model *m, size_t i, int keras_form) {
  const kcb__layer *l = &m->layers[i];
  json_t *c = json_object();
  if (l->kind == KCB__SPATIAL_DROPOUT2D) {
    /* Keras 3's spatial dropouts write their own config: no `trainable` (their constructor takes
     * none, so a file with it does not load) and the dtype as a plain string */
    put(b, c, "rate", kcb__config_float_json(l->rate));
    put(b, c, "seed", json_null());
    put(b, c, "name", json_string(l->name));
    put(b, c, "dtype", json_string(*l->dtype_policy ? l->dtype_policy : "float32"));
  } else {
    put(b, c, "name", json_string(l->name));
    put(b, c, "trainable", json_boolean(!l->frozen));
    put(b, c, "dtype", dtype_policy(b, l->dtype_policy));
  }
  switch (l->kind) {
    case KCB__DENSE:
      put(b, c, "units", json_integer(l->dense.units));
      put(b, c, "activation", json_string(kcb_activation_name(l->activation)));
      put(b, c, "use_bias", json_boolean(l->dense.use_bias));
      put(b, c, "kernel_initializer", initializer(b, l->dense.kernel_initializer));
      put(b, c, "bias_initializer", initializer(b, l->dense.bias_initializer));
      put(b, c, "kernel_regularizer", json_null());
      put(b, c, "bias_regularizer", json_null());
      put(b, c, "kernel_constraint", json_null());
      put(b, c, "bias_constraint", json_null());
      put(b, c, "quantization_config", json_null());
      break;
    case KCB__ACTIVATION:
      put(b, c, "activation", json_string(kcb_activation_name(l->activation)));
      break;
    case KCB__DROPOUT:
      put(b, c, "rate", kcb__config_float_json(l->rate));
      put(b, c, "seed", json_null());
      put(b, c, "noise_shape", json_null());
      break;
    case KCB__FLATTEN:
      put(b, c, "data_format", json_string("channels_last"));
      break;
    default: /* the layers of model/layer_config.c */
      if (kcb__layer_config_write(c, l)) b->failed = 1;
      break;
  }
  if (l->kept_settings) { /* the file's own initializers and seeds, where kcb writes its defaults */
    json_t *kept = json_loads(l->kept_settings, 0, NULL);
    const char *key;
    json_t *v;
    json_object_foreach(kept, key, v) if (json_object_get(c, key)) json_object_set(c, key, v);
    json_decref(kept);
  }
  json_t *o = wrap(b, "keras.layers", kcb__layer_class_name(l->kind), c, keras_form);
  if (keras_form && kcb__layer_has_build_config(l->kind)) {
    int rank;
    const int64_t *shape;
    layer_input_shape(m, i, &rank, &shape);
    json_t *bc = json_object();
    put(b, bc, "input_shape", batch_shape(b, rank, shape));
    put(b, o, "build_config", bc);
  }
  return o;
}

static json_t *sequential_config(builder *b, const kcb_model *m, int keras_form) {
  json_t *c = json_object();
  put(b, c, "name", json_string(m->name));
  put(b, c, "trainable", json_true());
  put(b, c, "dtype", dtype_policy(b, m->dtype_policy));
  json_t *layers = json_array();
  json_t *in = json_object();
  put(b, in, "batch_shape", batch_shape(b, m->in_rank, m->in_shape));
  put(b, in, "dtype", json_string("float32"));
  put(b, in, "sparse", json_false());
  put(b, in, "ragged", json_false());
  put(b, in, "name", json_string(m->input_name));
  put(b, in, "optional", json_false());
  push(b, layers, wrap(b, "keras.layers", "InputLayer", in, keras_form));
  for (size_t i = 0; i < m->n_layers; i++) push(b, layers, layer_json(b, m, i, keras_form));
  put(b, c, "layers", layers);
  put(b, c, "build_input_shape", batch_shape(b, m->in_rank, m->in_shape));
  return c;
}

static json_t *number_or_null(double v, int null_if_zero) { return null_if_zero && v == 0 ? json_null() : json_real(v); }

static json_t *optimizer_config(builder *b, const kcb_model *m) {
  const kcb_optimizer_options *o = &m->opt.o;
  json_t *c = json_object();
  put(b, c, "name", json_string(kcb__optimizer_instance_name(o->kind)));
  put(b, c, "learning_rate", json_real((double)m->opt.learning_rate)); /* the float32 variable, as Keras */
  put(b, c, "weight_decay", number_or_null(o->weight_decay, o->kind != KCB_OPT_ADAMW));
  put(b, c, "clipnorm", json_null());
  put(b, c, "global_clipnorm", json_null());
  put(b, c, "clipvalue", json_null());
  put(b, c, "use_ema", json_false());
  put(b, c, "ema_momentum", json_real(0.99));
  put(b, c, "ema_overwrite_frequency", json_null());
  put(b, c, "loss_scale_factor", json_null());
  put(b, c, "gradient_accumulation_steps", json_null());
  switch (o->kind) {
    case KCB_OPT_SGD:
      put(b, c, "momentum", json_real(o->momentum));
      put(b, c, "nesterov", json_boolean(o->nesterov));
      break;
    case KCB_OPT_RMSPROP:
      put(b, c, "rho", json_real(o->rho));
      put(b, c, "momentum", json_real(o->momentum));
      put(b, c, "epsilon", json_real(o->epsilon));
      put(b, c, "centered", json_boolean(o->centered));
      break;
    default:
      put(b, c, "beta_1", json_real(o->beta_1));
      put(b, c, "beta_2", json_real(o->beta_2));
      put(b, c, "epsilon", json_real(o->epsilon));
      put(b, c, "amsgrad", json_boolean(o->amsgrad));
      break;
  }
  return c;
}

static json_t *loss_json(builder *b, const kcb_model *m, int keras_form) {
  if (!m->from_logits) return json_string(kcb_loss_name(m->loss));
  json_t *c = json_object();
  put(b, c, "name", json_string(kcb_loss_name(m->loss)));
  put(b, c, "reduction", json_string("sum_over_batch_size"));
  put(b, c, "from_logits", json_true());
  return wrap(b, "keras.losses", loss_class[m->loss], c, keras_form);
}

/* A compiled metric as Keras serializes what compile() was given: its name when that is an
 * identifier Keras resolves to the same metric ("accuracy", "mse"), else the metric object under
 * its display name ({"class_name": "CategoricalAccuracy", "config": {"name": "cat_acc"}}): a bare
 * display name would not load, in Keras or in kcb. The resolving "accuracy" becomes the class
 * Keras picks for this loss and output. */
/* Whether Keras's metrics.get resolves `name`: "accuracy" and "acc" in any case, else only the
 * exact keys of its table (snake_case names and the aliases), where kcb reads any case. */
static int keras_resolves_metric(const char *name) {
  static const char *const exact[] = {"mean_squared_error", "mean_absolute_error", "binary_accuracy",
                                      "categorical_accuracy", "sparse_categorical_accuracy", "mse", "MSE", "mae", "MAE"};
  if (kcb__ascii_casecmp(name, "accuracy") == 0 || kcb__ascii_casecmp(name, "acc") == 0) return 1;
  for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
    if (strcmp(name, exact[i]) == 0) return 1;
  return 0;
}

static json_t *metric_json(builder *b, const kcb_model *m, size_t i, int keras_form) {
  kcb_metric kind = m->metrics[i], named;
  if (keras_resolves_metric(m->metric_names[i]) && kcb_metric_from_name(&named, m->metric_names[i]) == 0 && named == kind)
    return json_string(m->metric_names[i]);
  if (kind == KCB_METRIC_ACCURACY)
    kind = m->loss == KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY ? KCB_METRIC_SPARSE_CATEGORICAL_ACCURACY
           : kcb__model_output_layer(m)->out_size == 1       ? KCB_METRIC_BINARY_ACCURACY
                                                               : KCB_METRIC_CATEGORICAL_ACCURACY;
  static const char *const classes[KCB_METRIC_COUNT] = {
      [KCB_METRIC_MEAN_SQUARED_ERROR] = "MeanSquaredError", [KCB_METRIC_MEAN_ABSOLUTE_ERROR] = "MeanAbsoluteError",
      [KCB_METRIC_BINARY_ACCURACY] = "BinaryAccuracy", [KCB_METRIC_CATEGORICAL_ACCURACY] = "CategoricalAccuracy",
      [KCB_METRIC_SPARSE_CATEGORICAL_ACCURACY] = "SparseCategoricalAccuracy"};
  json_t *c = json_object();
  put(b, c, "name", json_string(m->metric_names[i]));
  put(b, c, "dtype", json_string("float32"));
  if (kind == KCB_METRIC_BINARY_ACCURACY) put(b, c, "threshold", json_real(0.5));
  return wrap(b, "keras.metrics", classes[kind], c, keras_form);
}

/* compile_config (keras_form) or training_config (legacy): same keys, the optimizer differs. */
static json_t *compile_json(builder *b, const kcb_model *m, int keras_form) {
  json_t *c = json_object();
  /* a LossScaleOptimizer's inner optimizer is in Keras 3's form in either config */
  json_t *opt = wrap(b, "keras.optimizers", kcb__optimizer_class_name(m->opt.o.kind), optimizer_config(b, m),
                     keras_form || m->loss_scale.in_config);
  if (m->loss_scale.in_config) { /* LossScaleOptimizer.get_config */
    json_t *lso = json_object();
    put(b, lso, "name", json_string("loss_scale_optimizer"));
    put(b, lso, "inner_optimizer", opt);
    put(b, lso, "initial_scale", json_real(m->loss_scale.initial_scale));
    put(b, lso, "dynamic_growth_steps", json_integer(m->loss_scale.growth_steps));
    opt = wrap(b, "keras.optimizers", "LossScaleOptimizer", lso, keras_form);
  }
  if (keras_form) put(b, c, "optimizer", opt);
  put(b, c, "loss", loss_json(b, m, keras_form));
  put(b, c, "loss_weights", json_null()); /* Keras 3's loader needs the key (spec §1.5) */
  if (m->n_metrics == 0) {
    put(b, c, "metrics", json_null());
  } else {
    json_t *metrics = json_array();
    for (size_t i = 0; i < m->n_metrics; i++) push(b, metrics, metric_json(b, m, i, keras_form));
    put(b, c, "metrics", metrics);
  }
  put(b, c, "weighted_metrics", json_null());
  put(b, c, "run_eagerly", json_false());
  put(b, c, "steps_per_execution", json_integer(1));
  put(b, c, "jit_compile", json_boolean(!m->jit_compile_off));
  if (!keras_form) put(b, c, "optimizer_config", opt);
  return c;
}

static int dump(builder *b, json_t *root, char **out) {
  *out = NULL;
  if (!b->failed && root) *out = kcb__json_dumps_python(root);
  json_decref(root);
  if (!*out) return kcb__error(KCB_ENOMEM, "out of memory writing a model config");
  return 0;
}

int kcb__model_config_json(const kcb_model *m, char **out) {
  builder b = {0};
  json_t *root = wrap(&b, "keras", "Sequential", sequential_config(&b, m, 1), 1);
  json_t *bc = json_object();
  put(&b, bc, "input_shape", batch_shape(&b, m->in_rank, m->in_shape));
  put(&b, root, "build_config", bc);
  if (m->compiled && !m->compile_implicit) put(&b, root, "compile_config", compile_json(&b, m, 1));
  return dump(&b, root, out);
}

int kcb__model_config_json_legacy(const kcb_model *m, char **out) {
  builder b = {0};
  return dump(&b, wrap(&b, NULL, "Sequential", sequential_config(&b, m, 0), 0), out);
}

int kcb__training_config_json(const kcb_model *m, char **out) {
  *out = NULL;
  if (!m->compiled) return kcb__error(KCB_ESTATE, "the model is not compiled: no training config");
  builder b = {0};
  return dump(&b, compile_json(&b, m, 0), out);
}

json_t *kcb__config_float_json(float v) {
  char text[32];
  for (int digits = 6; digits <= 9; digits++) {
    snprintf(text, sizeof text, "%.*g", digits, (double)v);
    double back = strtod(text, NULL);
    if ((float)back == v) return json_real(back);
  }
  return json_real((double)v);
}

/* For model/layer_config.c: Keras's serialized initializer. */
json_t *kcb__config_initializer_json(kcb_initializer init, int *failed) {
  builder b = {0};
  json_t *o = initializer(&b, init);
  if (b.failed || !o) *failed = 1;
  return o;
}

/* ---- reading ----------------------------------------------------------------------------- */

/* "GlorotUniform" -> "glorot_uniform" (Keras's snake_case of class names). */
static void snake_case(const char *camel, char *out, size_t size) {
  size_t n = 0;
  for (size_t i = 0; camel[i] && n + 2 < size; i++) {
    unsigned char ch = (unsigned char)camel[i];
    if (kcb__is_upper(ch)) {
      if (i > 0 && n > 0 && out[n - 1] != '_') out[n++] = '_';
      out[n++] = (char)kcb__to_lower(ch);
    } else {
      out[n++] = (char)ch;
    }
  }
  out[n] = '\0';
}

/* The class name and config of a serialized object, or of a bare string ("relu", "adam"). A
 * function (compile(loss=keras.losses.mean_squared_error)) is serialized as {"class_name":
 * "function", "config": "mean_squared_error"}: its name then, as the string would give it. */
static const char *class_of(json_t *v, json_t **config) {
  if (config) *config = NULL;
  if (json_is_string(v)) return json_string_value(v);
  if (!json_is_object(v)) return NULL;
  const char *cls = json_string_value(json_object_get(v, "class_name"));
  if (cls && strcmp(cls, "function") == 0 && json_is_string(json_object_get(v, "config")))
    return json_string_value(json_object_get(v, "config"));
  if (config) *config = json_object_get(v, "config");
  return json_string_value(json_object_get(v, "class_name"));
}

double kcb__config_number(json_t *obj, const char *key, double fallback) {
  json_t *v = obj ? json_object_get(obj, key) : NULL;
  return json_is_number(v) ? json_number_value(v) : fallback;
}


#define number_or kcb__config_number
#define bool_or kcb__json_truthy /* as Python tests it: None is false (Keras's `if self.use_bias:`) */

int kcb__config_check_kinds(json_t *c, const char *what, const char *file) {
  /* (a layer's class leads its description: "BatchNormalization layer 'x'") */
  const char *space = strchr(what, ' ');
  int normalization = space && space - what >= 13 && !strncmp(space - 13, "Normalization", 13);
  static const char *const numbers[] = {"rate", "momentum", "epsilon", "rho", "beta_1", "beta_2", "weight_decay", "decay",
                                        "label_smoothing", "threshold", "learning_rate", "ema_momentum", NULL};
  static const char *const flags[] = {"use_bias", "keepdims", "renorm", "rms_scaling", "center", "scale", "nesterov",
                                      "centered", "amsgrad", "from_logits", "use_ema", "trainable", NULL};
  for (int i = 0; numbers[i]; i++) {
    json_t *v = json_object_get(c, numbers[i]);
    /* (a learning rate may be a schedule object, which the optimizer's reader takes up) */
    if (v && !json_is_number(v) && !json_is_null(v) && !(json_is_object(v) && !strcmp(numbers[i], "learning_rate")))
      return kcb__error(KCB_EFORMAT, "%s: %s: %s is %s where a number belongs", file, what, numbers[i],
                        json_is_string(v) ? "a string" : json_is_boolean(v) ? "true or false" : "not a number");
  }
  for (int i = 0; flags[i]; i++) {
    /* (Rescaling's scale is a number) */
    if ((!strcmp(flags[i], "scale") || !strcmp(flags[i], "center")) && !normalization) continue;
    json_t *v = json_object_get(c, flags[i]);
    if (v && !json_is_boolean(v) && !json_is_number(v) && !json_is_null(v))
      return kcb__error(KCB_EFORMAT, "%s: %s: %s is %s where true or false belongs", file, what, flags[i],
                        json_is_string(v) ? "a string" : "not true or false");
  }
  return 0;
}

/* Reads [null, d1, d2, ...] into shape (without the batch axis). */
static int read_batch_shape(json_t *a, int *rank, int64_t *shape) {
  if (!json_is_array(a) || json_array_size(a) < 2 || json_array_size(a) > KCB_MAX_RANK) return 0;
  *rank = (int)json_array_size(a) - 1;
  for (int i = 0; i < *rank; i++) {
    json_t *d = json_array_get(a, (size_t)i + 1);
    if (!json_is_integer(d) || json_integer_value(d) <= 0) return 0;
    shape[i] = json_integer_value(d);
  }
  return 1;
}

/* last_axis: the index of the layer output's last axis, batch axis 0 (Dense, Activation and the
 * convolutions keep their input's rank): Softmax(axis=last_axis) is Softmax(axis=-1). */
static int parse_activation(json_t *v, kcb_activation *out, const char *file, const char *layer, int last_axis) {
  if (json_is_null(v) || !v) {
    *out = KCB_ACT_LINEAR;
    return 0;
  }
  json_t *config = NULL;
  const char *name = class_of(v, &config);
  /* {"class_name": "function", "config": "relu"} names a function; another class is a layer
   * object used as the activation (Softmax(axis=1), LeakyReLU(...)), with settings of its own:
   * only a Softmax over the last axis is kcb's softmax */
  json_t *module = json_object_get(v, "module");
  if (name && json_is_object(v) && json_is_object(config)) {
    json_t *axis = json_object_get(config, "axis");
    if (module && (!json_is_string(module) || strncmp(json_string_value(module), "keras", 5) != 0))
      return kcb__error(KCB_EFORMAT, "%s: layer '%s': activation given as a custom %s object, which kcb does not take", file,
                        layer, name);
    json_t *one = json_is_array(axis) && json_array_size(axis) == 1 ? json_array_get(axis, 0) : axis;
    if (!strcmp(name, "Softmax") && (!axis || (json_is_integer(one) && (json_integer_value(one) == -1 ||
                                                                         json_integer_value(one) == last_axis)))) {
      *out = KCB_ACT_SOFTMAX;
      return 0;
    }
    return kcb__error(KCB_EFORMAT, "%s: layer '%s': activation given as a %s layer object%s, which kcb does not take; "
                      "give the activation by name ('relu', 'leaky_relu', 'softmax', ...)", file, layer, name,
                      !strcmp(name, "Softmax") ? " over another axis" : "");
  }
  if (!name || kcb_activation_from_name(out, name) != 0)
    return kcb__error(KCB_EFORMAT, "%s: layer '%s': unsupported activation '%s'", file, layer, name ? name : "?");
  return 0;
}

static kcb_initializer parse_initializer(json_t *v, kcb_initializer fallback) {
  const char *name = class_of(v, NULL);
  if (!name) return fallback;
  char snake[64];
  snake_case(name, snake, sizeof snake);
  kcb_initializer init;
  /* Unknown initializers do not matter once weights are loaded: keep the default. */
  if (kcb_initializer_from_name(&init, snake) == 0 || kcb_initializer_from_name(&init, name) == 0) return init;
  return fallback;
}

int kcb__config_activation(json_t *v, kcb_activation *out, const char *file, const char *layer, int last_axis) {
  return parse_activation(v, out, file, layer, last_axis);
}

kcb_initializer kcb__config_initializer(json_t *v, kcb_initializer fallback) { return parse_initializer(v, fallback); }

/* The name of a dtype policy as Keras 3 ({"class_name": "DTypePolicy", "config": {"name": ...}}),
 * tf.keras 2 ({"class_name": "Policy", ...}) or a plain string writes it; NULL if none is given. */
static const char *policy_name(json_t *dtype) {
  if (json_is_string(dtype)) return json_string_value(dtype);
  return json_string_value(json_object_get(json_object_get(dtype, "config"), "name"));
}

static int policy_is_quantized(json_t *dtype) {
  const char *cls = json_string_value(json_object_get(dtype, "class_name"));
  return (cls && strstr(cls, "Quantized")) || json_object_get(json_object_get(dtype, "config"), "mode");
}

/* Settings of a layer (or of the model, cls "Sequential") that Keras applies and kcb does not
 * implement: dropped, the model would train or predict otherwise, so they are refused by name. */
static int check_layer_settings(json_t *c, const char *cls, const char *name, const char *file) {
  char why[256] = "";
  const char *policy = policy_name(json_object_get(c, "dtype"));
  const char *data_format = json_string_value(json_object_get(c, "data_format")); /* NULL: absent or null */
  const char *key;
  json_t *v;
  /* a quantized policy by its mode; a quantization_config alone is named below, by its class */
  json_t *quantization_config = json_object_get(c, "quantization_config");
  const char *quantization = json_is_object(quantization_config) && !policy_is_quantized(json_object_get(c, "dtype"))
                                 ? NULL : kcb__config_quantization(c);
  if (quantization)
    snprintf(why, sizeof why, "a quantized dtype policy (mode '%s'; kcb computes in float32)", quantization);
  else if (policy && strcmp(policy, "float32") != 0 && strncmp(policy, "mixed_", 6) != 0)
    snprintf(why, sizeof why, "dtype policy '%s' (kcb computes in float32)", policy);
  else if (strcmp(cls, "Flatten") == 0 && data_format && strcmp(data_format, "channels_last") != 0)
    snprintf(why, sizeof why, "data_format '%s'", data_format);
  else
    json_object_foreach(c, key, v) {
      if (json_is_null(v) || (json_is_integer(v) && json_integer_value(v) == 0)) continue;
      if (kcb__ends_with(key, "_regularizer") || kcb__ends_with(key, "_constraint") || strcmp(key, "noise_shape") == 0 ||
          strcmp(key, "lora_rank") == 0 || strcmp(key, "quantization_config") == 0 ||
          strcmp(key, "virtual_batch_size") == 0 || strcmp(key, "adjustment") == 0) { /* tf.keras 2's ghost BN */
        const char *what = class_of(v, NULL);
        snprintf(why, sizeof why, "%s%s%s%s", key, what ? " (" : "", what ? what : "", what ? ")" : "");
        break;
      }
    }
  if (!why[0]) return 0;
  return kcb__error(KCB_EFORMAT, "%s: %s %s '%s': %s is not supported", file, cls, strcmp(cls, "Sequential") ? "layer" : "model",
                    name, why);
}

/* The rank of a sample as the layers so far leave it: the index of the last axis with the batch's. */
static int current_rank(const kcb_model *m) {
  int rank;
  int64_t shape[KCB_MAX_RANK];
  kcb__model_current_shape(m, &rank, shape);
  return rank;
}

/* Adds the layer a config describes, of class cls (settings c). */
static int build_layer(kcb_model *m, const char *cls, json_t *c, const char *name, const char *file) {
  int rc = 0;
  if (strcmp(cls, "Dense") == 0) {
    kcb_dense_options d = KCB_DENSE_OPTIONS_INIT;
    json_t *units = json_object_get(c, "units");
    if (!json_is_integer(units) || json_integer_value(units) <= 0 || json_integer_value(units) > 100000000)
      return kcb__error(KCB_EFORMAT, "%s: Dense layer '%s' has no valid 'units'", file, name ? name : "?");
    d.units = (int)json_integer_value(units);
    if ((rc = parse_activation(json_object_get(c, "activation"), &d.activation, file, name ? name : "?", current_rank(m))))
      return rc;
    d.use_bias = bool_or(c, "use_bias", 1);
    d.kernel_initializer = parse_initializer(json_object_get(c, "kernel_initializer"), KCB_INIT_GLOROT_UNIFORM);
    d.bias_initializer = parse_initializer(json_object_get(c, "bias_initializer"), KCB_INIT_ZEROS);
    return kcb_model_add_dense(m, &d);
  }
  if (strcmp(cls, "Activation") == 0) {
    kcb_activation a;
    if ((rc = parse_activation(json_object_get(c, "activation"), &a, file, name ? name : "?", current_rank(m)))) return rc;
    return kcb_model_add_activation(m, a);
  }
  if (strcmp(cls, "Dropout") == 0) return kcb_model_add_dropout(m, (float)number_or(c, "rate", 0.0));
  if (strcmp(cls, "Flatten") == 0) return kcb_model_add_flatten(m);
  if (kcb__layer_config_read(m, cls, c, name ? name : "?", file, &rc) == 0)
    return kcb__error(KCB_EFORMAT, "%s: layer '%s' is of class %s, which kcb does not implement", file, name ? name : "?", cls);
  return rc;
}

/* Keeps the layer config's settings Keras reads and kcb does not model (an initializer's class
 * and arguments, a dropout's seed), so that a model loaded and saved again says what it said. */
static int keep_settings(kcb__layer *l, json_t *c, const char *file) {
  static const char *const keys[] = {"kernel_initializer", "bias_initializer", "beta_initializer", "gamma_initializer",
                                     "moving_mean_initializer", "moving_variance_initializer", "seed"};
  json_t *kept = json_object();
  for (size_t i = 0; kept && i < sizeof keys / sizeof keys[0]; i++) {
    json_t *v = json_object_get(c, keys[i]);
    /* Keras 3's form only (an object naming its module): a tf.keras 2 config's initializers would
     * not be Keras 3's, where kcb writes this model */
    if (v && !json_is_null(v) && (!json_is_object(v) || json_object_get(v, "module")))
      json_object_set(kept, keys[i], v);
  }
  if (kept && json_object_size(kept)) l->kept_settings = json_dumps(kept, JSON_COMPACT | JSON_PRESERVE_ORDER);
  int failed = kept && json_object_size(kept) && !l->kept_settings;
  json_decref(kept);
  return failed || !kept ? kcb__error(KCB_ENOMEM, "%s: out of memory keeping a layer's settings", file) : 0;
}

static int add_layer(kcb_model *m, json_t *layer, const char *file) {
  json_t *c = NULL;
  const char *cls = class_of(layer, &c);
  const char *name = json_string_value(json_object_get(c, "name"));
  if (!cls || !json_is_object(c)) return kcb__error(KCB_EFORMAT, "%s: model config: a layer without class_name/config", file);
  /* a class of the user's that carries a built-in's name: Keras would build theirs */
  const char *registered = json_string_value(json_object_get(layer, "registered_name"));
  json_t *module_v = json_object_get(layer, "module");
  const char *module = json_is_string(module_v) ? json_string_value(module_v) : module_v ? "__main__" : NULL;
  /* Keras writes "module": null for a class of the user's script (__main__), keras.* for its own */
  if (!registered && strchr(cls, '>')) registered = cls; /* a legacy config names a registered class so */
  if ((registered && strcmp(registered, cls) != 0) || (module && strncmp(module, "keras", 5) != 0) || strchr(cls, '>'))
    return kcb__error(KCB_EFORMAT, "%s: layer '%s' is a custom class (%s%s%s), not Keras's %s; kcb builds Keras's layers "
                      "only", file, name ? name : "?", registered ? registered : module, registered && module ? " in " : "",
                      registered && module ? module : "", strrchr(cls, '>') ? strrchr(cls, '>') + 1 : cls);
  char what[KCB__NAME_MAX + 64];
  snprintf(what, sizeof what, "%s layer '%s'", cls, name ? name : "?");
  int rc = kcb__config_check_kinds(c, what, file);
  if (rc == 0) rc = check_layer_settings(c, cls, name ? name : "?", file);
  if (rc) return rc;
  /* the layer takes the file's name below: its automatic one may be an earlier layer's file name
   * (Keras 2 numbers from 1: dense_1, dense_2) and is no collision */
  m->renaming = name != NULL;
  rc = build_layer(m, cls, c, name, file);
  m->renaming = 0;
  if (rc && strncmp(kcb_error_last(), file, strlen(file)) == 0) return rc; /* the message already names file and layer */
  if (rc) return kcb__error(rc, "%s: layer '%s': %s", file, name ? name : "?", kcb_error_last());
  /* Keep the file's layer names (kcb's automatic names may differ). */
  if (name && strlen(name) >= sizeof m->layers[0].name)
    return kcb__error(KCB_EFORMAT, "%s: model config: layer name '%.40s...' is %zu bytes; kcb keeps names of up to %zu", file,
                      name, strlen(name), sizeof m->layers[0].name - 1);
  if (name && strchr(name, '/'))
    return kcb__error(KCB_EFORMAT, "%s: model config: layer name '%s' contains '/', which Keras does not allow in names", file,
                      name);
  m->layers[m->n_layers - 1].frozen = !bool_or(c, "trainable", 1); /* fine-tuning's frozen layers */
  if ((rc = keep_settings(&m->layers[m->n_layers - 1], c, file))) return rc;
  /* a mixed-precision policy is kept for the config kcb writes: Keras rebuilds the model it read */
  const char *policy = policy_name(json_object_get(c, "dtype"));
  if (policy && !strncmp(policy, "mixed_", 6))
    kcb__strlcpy(m->layers[m->n_layers - 1].dtype_policy, policy, sizeof m->layers[0].dtype_policy);
  if (name) {
    for (size_t i = 0; i + 1 < m->n_layers; i++)
      if (strcmp(m->layers[i].name, name) == 0)
        return kcb__error(KCB_EFORMAT, "%s: model config: layer name '%s' is used twice", file, name);
    kcb__strlcpy(m->layers[m->n_layers - 1].name, name, sizeof m->layers[0].name);
  }
  return 0;
}

static int parse_optimizer(json_t *v, kcb_optimizer_options *o, const char *file) {
  json_t *c = NULL;
  const char *cls = class_of(v, &c);
  kcb_optimizer_kind kind;
  if (cls && strncmp(cls, "Custom>", 7) == 0) cls += 7; /* tf.keras 2.11+ registers its optimizers so */
  /* mixed precision wraps the optimizer in a LossScaleOptimizer, which only scales the loss of float16
   * computations: kcb computes in float32, so the inner optimizer is the one to compile */
  if (kcb__is_loss_scale_class(cls) && json_is_object(json_object_get(c, "inner_optimizer")))
    return parse_optimizer(json_object_get(c, "inner_optimizer"), o, file);
  if (!cls || kcb_optimizer_from_name(&kind, cls) != 0)
    return kcb__error(KCB_EFORMAT, "%s: cannot compile from the saved config: optimizer '%s' is not one kcb implements "
                      "(sgd, rmsprop, adam, adamw); load without compiling to get the weights", file,
                      cls ? cls : "(no class_name)");
  *o = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(kind);
  if (!json_is_object(c)) return 0;
  /* what the optimizer would do that kcb's does not: refused, as the run would differ */
  static const char *const not_implemented[] = {"clipnorm", "clipvalue", "global_clipnorm", "loss_scale_factor",
                                                "gradient_accumulation_steps"};
  for (size_t i = 0; i < sizeof not_implemented / sizeof not_implemented[0]; i++) {
    json_t *setting = json_object_get(c, not_implemented[i]);
    if (setting && !json_is_null(setting))
      return kcb__error(KCB_EFORMAT, "%s: cannot compile from the saved config: optimizer %s has %s, which kcb does not "
                        "implement; load without compiling to get the weights", file, cls, not_implemented[i]);
  }
  if (json_is_true(json_object_get(c, "use_ema")))
    return kcb__error(KCB_EFORMAT, "%s: cannot compile from the saved config: optimizer %s has use_ema=true (a moving average "
                      "of the weights), which kcb does not implement; load without compiling to get the weights", file, cls);
  json_t *lr = json_object_get(c, "learning_rate");
  if (!lr) lr = json_object_get(c, "lr"); /* Keras 2 before 2.3 */
  if (json_is_number(lr)) o->learning_rate = json_number_value(lr);
  else if (json_is_object(lr))
    return kcb__error(KCB_EFORMAT, "%s: cannot compile from the saved config: the learning rate is a %s schedule, which kcb's "
                      "optimizers do not take (use a learning-rate scheduler callback); load without compiling to get the "
                      "weights", file, class_of(lr, NULL) ? class_of(lr, NULL) : "(unnamed)");
  int kinds = kcb__config_check_kinds(c, "the optimizer's config", file);
  if (kinds) return kinds;
  /* negative settings are refused here, not only by compile: -1 is KCB_DEFAULT, Keras's default */
  static const char *const non_negative[] = {"learning_rate", "lr", "momentum", "rho", "beta_1", "beta_2", "epsilon",
                                             "weight_decay"};
  for (size_t i = 0; i < sizeof non_negative / sizeof non_negative[0]; i++) {
    json_t *x = json_object_get(c, non_negative[i]);
    if (json_is_number(x) && json_number_value(x) < 0)
      return kcb__error(KCB_EFORMAT, "%s: cannot compile from the saved config: optimizer %s has %s %g, which is negative", file,
                        cls, non_negative[i], json_number_value(x));
  }
  o->momentum = number_or(c, "momentum", 0.0);
  o->nesterov = bool_or(c, "nesterov", 0);
  o->rho = number_or(c, "rho", KCB_DEFAULT);
  o->centered = bool_or(c, "centered", 0);
  o->beta_1 = number_or(c, "beta_1", KCB_DEFAULT);
  o->beta_2 = number_or(c, "beta_2", KCB_DEFAULT);
  o->amsgrad = bool_or(c, "amsgrad", 0);
  o->epsilon = number_or(c, "epsilon", KCB_DEFAULT);
  o->weight_decay = number_or(c, "weight_decay", KCB_DEFAULT);
  /* Keras 2's optimizers decayed the rate per step (lr / (1 + decay * iterations)); kcb does not */
  if (number_or(c, "decay", 0.0) != 0.0)
    return kcb__error(KCB_EFORMAT, "%s: cannot compile from the saved config: optimizer %s has decay=%g (Keras 2's per-step "
                      "learning-rate decay), which kcb does not implement; use a learning-rate schedule callback",
                      file, cls, number_or(c, "decay", 0.0));
  return 0;
}

static int parse_loss(json_t *v, kcb_compile_options *c, const char *file) {
  json_t *cfg = NULL;
  const char *name = class_of(v, &cfg);
  char snake[64]; /* name may point here after the block */
  if (json_is_object(v)) {
    /* the class decides what is computed (a name is for display: CategoricalCrossentropy(name=
     * "cce")); a LossFunctionWrapper's function, or a class kcb does not know, by its name */
    const char *inner = json_string_value(json_object_get(cfg, "name")), *fn = json_string_value(json_object_get(cfg, "fn"));
    kcb_loss by_class;
    snake_case(name ? name : "", snake, sizeof snake);
    int known_class = kcb_loss_from_name(&by_class, snake) == 0;
    if (!known_class) kcb_error_clear();
    name = name && !strcmp(name, "LossFunctionWrapper") && fn ? fn : known_class ? snake : inner ? inner : snake;
    char what_loss[96];
    snprintf(what_loss, sizeof what_loss, "loss '%s'", name);
    int kinds = kcb__config_check_kinds(cfg, what_loss, file);
    if (kinds) return kinds;
    c->from_logits = bool_or(cfg, "from_logits", 0);
    const char *reduction = json_string_value(json_object_get(cfg, "reduction"));
    json_t *axis = json_object_get(cfg, "axis"), *ignore = json_object_get(cfg, "ignore_class");
    const char *what = reduction && strcmp(reduction, "sum_over_batch_size") != 0 && strcmp(reduction, "auto") != 0
                           ? "reduction"
                       : number_or(cfg, "label_smoothing", 0.0) != 0.0       ? "label_smoothing"
                       : ignore && !json_is_null(ignore)                    ? "ignore_class"
                       : axis && !(json_is_integer(axis) && json_integer_value(axis) == -1) ? "axis"
                                                                            : NULL;
    if (what)
      return kcb__error(KCB_EFORMAT, "%s: cannot compile from the saved config: loss '%s' has a %s kcb does not implement; "
                        "load without compiling to get the weights", file, name, what);
  }
  if (json_is_object(v) && !json_object_get(v, "class_name"))
    return kcb__error(KCB_EFORMAT, "%s: cannot compile from the saved config: losses given per named output; kcb models "
                      "have one output", file);
  if (json_is_array(v))
    return kcb__error(KCB_EFORMAT, "%s: cannot compile from the saved config: %zu losses (one per output); kcb models have "
                      "one output", file, json_array_size(v));
  if (!name || kcb_loss_from_name(&c->loss, name) != 0)
    return kcb__error(KCB_EFORMAT, "%s: cannot compile from the saved config: loss '%s' is not one kcb implements; load "
                      "without compiling to get the weights", file, name ? name : "(none)");
  return 0;
}

/* One metric of a training or compile config, as Keras 3 writes it ("accuracy"), as Keras 2 does
 * ("acc", {"class_name": "MeanMetricWrapper", "config": {"name": "accuracy", "fn":
 * "categorical_accuracy"}}, {"class_name": "CategoricalAccuracy", ...}): what kcb computes and
 * the name its logs use. */
static int parse_metric(json_t *v, kcb_metric *out, const char **display, char snake[64], const char *file) {
  json_t *cfg = NULL;
  const char *cls = class_of(v, &cfg), *name = cls;
  *display = cls; /* it may point into snake, the caller's, which outlives this call */
  if (json_is_object(v)) {
    const char *given = json_string_value(json_object_get(cfg, "name"));
    json_t *fn = json_object_get(cfg, "fn");
    char what_metric[96];
    snprintf(what_metric, sizeof what_metric, "metric '%s'", given ? given : cls ? cls : "?");
    int kinds = json_is_object(cfg) ? kcb__config_check_kinds(cfg, what_metric, file) : 0;
    if (kinds) return kinds;
    if (cls && strcmp(cls, "MeanMetricWrapper") == 0) {
      /* the function decides what is computed; the name is only the log key */
      name = json_is_string(fn) ? json_string_value(fn) : class_of(fn, NULL);
    } else if (cls) {
      snake_case(cls, snake, 64);
      name = snake;
      if (kcb_metric_from_name(out, name) != 0 && given) name = given;
    }
    *display = given ? given : name;
  }
  if (json_is_object(cfg) && number_or(cfg, "threshold", 0.5) != 0.5)
    return kcb__error(KCB_EFORMAT, "%s: cannot compile from the saved config: metric '%s' has threshold %g; kcb's binary "
                      "accuracy uses 0.5", file, *display ? *display : "?", number_or(cfg, "threshold", 0.5));
  if (!name || kcb_metric_from_name(out, name) != 0)
    return kcb__error(KCB_EFORMAT, "%s: cannot compile from the saved config: metric '%s'%s%s%s is not one kcb implements "
                      "(accuracy and its binary/categorical/sparse forms, mse, mae); load without compiling to get the weights",
                      file, *display ? *display : name ? name : "(not a name)", cls && json_is_object(v) ? " (" : "",
                      cls && json_is_object(v) ? cls : "", cls && json_is_object(v) ? ")" : "");
  if (!*display) *display = name;
  return 0;
}

static size_t json_size_of(json_t *v) { return json_is_array(v) ? json_array_size(v) : json_object_size(v); }

static int compile_from(kcb_model *m, json_t *cfg, json_t *optimizer, const char *file) {
  kcb_compile_options c = {0};
  kcb_metric metrics[KCB__MAX_METRICS];
  const char *names[KCB__MAX_METRICS];
  char snakes[KCB__MAX_METRICS][64]; /* names derived from class names, which names[] may point at */
  int rc = parse_optimizer(optimizer, &c.optimizer, file);
  if (rc == 0) rc = parse_loss(json_object_get(cfg, "loss"), &c, file);
  json_t *lw = json_object_get(cfg, "loss_weights");
  if (json_is_array(lw) && json_array_size(lw) == 1) lw = json_array_get(lw, 0);
  if (rc == 0 && lw && !json_is_null(lw) && !(json_is_number(lw) && json_number_value(lw) == 1.0))
    return kcb__error(KCB_EFORMAT, "%s: cannot compile from the saved config: loss_weights scale the loss, which kcb does not "
                      "implement; load without compiling to get the weights", file);
  /* weighted metrics are logged under their own names (Keras's compile_utils), and more steps an
   * execution call the batch hooks once every N steps: neither is what kcb's fit would do */
  json_t *wm = json_object_get(cfg, "weighted_metrics");
  if (rc == 0 && wm && !json_is_null(wm) && !((json_is_array(wm) || json_is_object(wm)) && json_size_of(wm) == 0))
    return kcb__error(KCB_EFORMAT, "%s: cannot compile from the saved config: weighted_metrics (metrics weighted by sample "
                      "weights, logged under their own names) are not something kcb implements; load without compiling to "
                      "get the weights", file);
  json_t *spe = json_object_get(cfg, "steps_per_execution");
  if (rc == 0 && spe && !json_is_null(spe) && !(json_is_number(spe) && json_number_value(spe) == 1.0))
    return kcb__error(KCB_EFORMAT, "%s: cannot compile from the saved config: steps_per_execution is not 1 (Keras then "
                      "calls the batch hooks once every that many steps; kcb calls them every batch); load without "
                      "compiling to get the weights", file);
  json_t *ms = json_object_get(cfg, "metrics");
  if (rc == 0 && json_is_object(ms))
    return kcb__error(KCB_EFORMAT, "%s: cannot compile from the saved config: metrics given per named output (%zu outputs); "
                      "kcb models have one output", file, json_object_size(ms));
  /* Keras 2 nests metrics per output: [[m1, m2]] for a single-output model */
  if (rc == 0 && json_is_array(ms) && json_array_size(ms) >= 1 && json_is_array(json_array_get(ms, 0))) {
    if (json_array_size(ms) > 1)
      return kcb__error(KCB_EFORMAT, "%s: cannot compile from the saved config: metrics for %zu outputs; kcb models have one "
                        "output", file, json_array_size(ms));
    ms = json_array_get(ms, 0);
  }
  if (rc == 0 && json_is_array(ms)) {
    if (json_array_size(ms) > KCB__MAX_METRICS) return kcb__error(KCB_EFORMAT, "%s: more than %d metrics", file, KCB__MAX_METRICS);
    for (size_t i = 0; i < json_array_size(ms) && rc == 0; i++) {
      rc = parse_metric(json_array_get(ms, i), &metrics[c.n_metrics], &names[c.n_metrics], snakes[c.n_metrics], file);
      if (rc == 0) c.n_metrics++;
    }
  }
  if (rc) return rc;
  c.metrics = metrics;
  c.metric_names = names;
  rc = kcb_model_compile(m, &c);
  if (rc) return kcb__error(rc, "%s: compile from the saved config: %s", file, kcb_error_last());
  m->jit_compile_off = json_is_false(json_object_get(cfg, "jit_compile")); /* kcb compiles nothing; Keras reads it */
  return 0;
}

/* Copies a name from a file over the default in dst when it can be one: not empty, not too long,
 * no '/' (a name that cannot be kept leaves the default, as kcb would have named it). */
static void keep_name(char *dst, size_t size, const char *name) {
  if (name && *name && strlen(name) < size && !strchr(name, '/')) kcb__strlcpy(dst, name, size);
}

/* Whether text fails as strict JSON only for Python's NaN / Infinity tokens. */
static int non_finite_in(const char *text) {
  json_error_t err;
  int non_finite = 0;
  json_decref(kcb__json_loads_python(text, 0, &err, &non_finite));
  return non_finite;
}

int kcb__model_from_config_json(kcb_model **out, const char *model_config, const char *training_config,
                                uint64_t seed, int compile, int *compiled_from_file, const char *file) {
  *out = NULL;
  if (compiled_from_file) *compiled_from_file = 0;
  json_error_t jerr;
  json_t *root = json_loads(model_config, 0, &jerr), *train = NULL;
  kcb_model *m = NULL;
  int rc = 0;
  if (!root && non_finite_in(model_config)) {
    rc = kcb__error(KCB_EFORMAT, "%s: the model config holds NaN or Infinity (Python's json writes them for non-finite "
                    "numbers), and kcb builds no layer with a non-finite setting", file);
    goto done;
  }
  if (!json_is_object(root)) {
    char why[256];
    rc = kcb__error(KCB_EFORMAT, "%s: the model config %s", file, kcb__json_not_object(root, &jerr, why, sizeof why));
    goto done;
  }
  json_t *cfg = json_object_get(root, "config");
  const char *cls = json_string_value(json_object_get(root, "class_name"));
  if (!cls || strcmp(cls, "Sequential") != 0) {
    rc = kcb__error(KCB_EFORMAT, "%s: model class '%s' is not supported (kcb builds Sequential models)", file, cls ? cls : "?");
    goto done;
  }
  json_t *layers = json_is_array(cfg) ? cfg : json_object_get(cfg, "layers"); /* Keras 2.0: "config": [layers] */
  if (!json_is_array(layers) || json_array_size(layers) == 0) {
    rc = kcb__error(KCB_EFORMAT, "%s: model config has no layers", file);
    goto done;
  }
  /* Input shape: InputLayer's batch_shape (Keras 3) / batch_input_shape (Keras 2), else the first
   * layer's batch_input_shape, else build_input_shape / build_config. */
  int rank = 0, have = 0;
  int64_t shape[KCB_MAX_RANK];
  for (size_t i = 0; i < json_array_size(layers) && !have && i < 1; i++) {
    json_t *lc = json_object_get(json_array_get(layers, i), "config");
    have = read_batch_shape(json_object_get(lc, "batch_shape"), &rank, shape) ||
           read_batch_shape(json_object_get(lc, "batch_input_shape"), &rank, shape);
  }
  if (!have && json_is_object(cfg)) have = read_batch_shape(json_object_get(cfg, "build_input_shape"), &rank, shape);
  if (!have) have = read_batch_shape(json_object_get(json_object_get(root, "build_config"), "input_shape"), &rank, shape);
  /* a Sequential saved without an InputLayer: its first layer's build_config, which Keras builds it from */
  if (!have)
    have = read_batch_shape(json_object_get(json_object_get(json_array_get(layers, 0), "build_config"), "input_shape"),
                            &rank, shape);
  if (!have) {
    json_t *lc = json_object_get(json_array_get(layers, 0), "config");
    json_t *given = json_object_get(lc, "batch_shape") ? json_object_get(lc, "batch_shape") : json_object_get(lc, "batch_input_shape");
    char *text = json_is_array(given) ? kcb__json_dumps_python(given) : NULL;
    if (text && json_array_size(given) > KCB_MAX_RANK)
      rc = kcb__error(KCB_EFORMAT, "%s: model config: input shape %s has %zu axes besides the batch axis; kcb builds "
                      "inputs of 1 to %d", file, text, json_array_size(given) - 1, KCB_MAX_RANK - 1);
    else if (text) /* there is one, with a dimension kcb cannot fix in advance */
      rc = kcb__error(KCB_EFORMAT, "%s: model config: input shape %s has a variable or invalid dimension; kcb builds models "
                      "of a fixed input shape", file, text);
    else
      rc = kcb__error(KCB_EFORMAT, "%s: model config gives no input shape (no InputLayer batch_shape, build_input_shape or "
                      "build_config)", file);
    free(text);
    goto done;
  }
  const char *model_name = json_is_object(cfg) ? json_string_value(json_object_get(cfg, "name")) : NULL;
  if (json_is_object(cfg) && (rc = check_layer_settings(cfg, "Sequential", model_name ? model_name : "?", file))) goto done;
  if ((rc = kcb_model_new(&m, rank, shape, seed))) goto named;
  /* the names a saved model goes by: its variable paths and a resave keep them */
  keep_name(m->name, sizeof m->name, model_name);
  const char *model_policy = json_is_object(cfg) ? policy_name(json_object_get(cfg, "dtype")) : NULL;
  if (model_policy && !strncmp(model_policy, "mixed_", 6)) kcb__strlcpy(m->dtype_policy, model_policy, sizeof m->dtype_policy);
  const char *input_dtype = NULL; /* an InputLayer dtype that changes the inputs */
  for (size_t i = 0; i < json_array_size(layers) && rc == 0; i++) {
    json_t *layer = json_array_get(layers, i);
    const char *lcls = class_of(layer, NULL);
    if (lcls && strcmp(lcls, "InputLayer") == 0) {
      json_t *ic = json_object_get(layer, "config");
      /* Keras casts the inputs to the InputLayer's dtype: an integer or a 16-bit float one would
       * change the values (float64 gives float32 inputs back unchanged) */
      const char *dtype = policy_name(json_object_get(ic, "dtype"));
      if (dtype && strcmp(dtype, "float32") != 0 && strcmp(dtype, "float64") != 0) input_dtype = dtype;
      keep_name(m->input_name, sizeof m->input_name, json_string_value(json_object_get(ic, "name")));
      continue;
    }
    rc = add_layer(m, layer, file);
  }
  if (rc == 0 && input_dtype) /* said after the layers: a layer kcb lacks (Embedding) says more */
    rc = kcb__error(KCB_EFORMAT, "%s: the InputLayer's dtype '%s' is not supported (Keras casts the inputs to it; "
                    "kcb takes float32 inputs)", file, input_dtype);
named:
  if (rc && strncmp(kcb_error_last(), file, strlen(file)) != 0) { /* a model builder's error: name the file */
    char why[512];
    kcb__strlcpy(why, kcb_error_last(), sizeof why);
    rc = kcb__error(rc, "%s: %s", file, why);
  }
  if (rc) goto done;
  if (m->n_layers == 0) {
    rc = kcb__error(KCB_EFORMAT, "%s: model config has no layers besides the input", file);
    goto done;
  }
  if (!bool_or(cfg, "trainable", 1)) /* model.trainable = False freezes every layer */
    for (size_t i = 0; i < m->n_layers; i++) m->layers[i].frozen = 1;
  json_t *ccfg = NULL, *opt = NULL;
  if (compile && training_config) {
    train = json_loads(training_config, 0, &jerr);
    if (!train && non_finite_in(training_config)) {
      rc = kcb__error(KCB_EFORMAT, "%s: the training config holds NaN or Infinity (Python's json writes them for non-finite "
                      "numbers), and kcb compiles with no non-finite setting; load without compiling to get the weights", file);
      goto done;
    }
    if (!json_is_object(train)) {
      char why[256];
      rc = kcb__error(KCB_EFORMAT, "%s: training_config %s", file, kcb__json_not_object(train, &jerr, why, sizeof why));
      goto done;
    }
    ccfg = train;
    opt = json_object_get(train, "optimizer_config");
  } else if (compile && json_is_object(json_object_get(root, "compile_config"))) {
    ccfg = json_object_get(root, "compile_config");
    opt = json_object_get(ccfg, "optimizer");
  }
  if (ccfg && opt && json_object_get(ccfg, "loss") && !json_is_null(json_object_get(ccfg, "loss"))) {
    rc = compile_from(m, ccfg, opt, file);
    if (rc == 0 && compiled_from_file) *compiled_from_file = 1;
    /* compiled with a LossScaleOptimizer of its own (a mixed_float16 model gets one at compile) */
    const char *opt_class = class_of(opt, NULL);
    json_t *lso = kcb__is_loss_scale_class(opt_class) ? json_object_get(opt, "config") : NULL;
    if (rc == 0 && lso) {
      json_t *scale = json_object_get(lso, "initial_scale"), *steps = json_object_get(lso, "dynamic_growth_steps");
      m->loss_scale.on = m->loss_scale.in_config = 1;
      m->loss_scale.initial_scale = json_is_number(scale) ? json_number_value(scale) : 32768.0;
      m->loss_scale.growth_steps = json_is_integer(steps) ? json_integer_value(steps) : 2000;
      m->loss_scale.dynamic_scale = (float)m->loss_scale.initial_scale;
    }
  } else {
    /* Keras returns an uncompiled model here; kcb needs compile to own weights: use compile()'s
     * defaults (rmsprop) with mean squared error. */
    kcb_compile_options c = {0};
    c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_RMSPROP);
    c.loss = KCB_LOSS_MEAN_SQUARED_ERROR;
    rc = kcb_model_compile(m, &c);
    if (rc == 0) m->compile_implicit = 1;
  }
done:
  json_decref(root);
  json_decref(train);
  if (rc) kcb_model_free(m);
  else *out = m;
  return rc;
}
