/* model/layer_config.c — Keras config JSON of the convolution, pooling, normalization and
 * reshaping layers, both ways. Field names, order and defaults follow Keras 3.15.1's
 * get_config (fixtures/keras-zoo/cnn.keras, mlp_bn.keras). */
#include "model/layer_config.h"
#include "io/json_python.h"

#include <ctype.h>
#include <string.h>

typedef struct out {
  json_t *c;
  int failed;
} out;

static void put(out *o, const char *key, json_t *v) {
  if (!v || json_object_set_new(o->c, key, v) != 0) o->failed = 1;
}

/* [a] or [a, b]. */
static json_t *ints(int n, int a, int b) {
  json_t *arr = json_array();
  if (arr) {
    json_array_append_new(arr, json_integer(a));
    if (n > 1) json_array_append_new(arr, json_integer(b));
  }
  return arr;
}

static void put_nulls(out *o, const char *const *keys) {
  for (; *keys; keys++) put(o, *keys, json_null());
}

static int is_2d(kcb__layer_kind k) {
  return k == KCB__CONV2D || k == KCB__MAX_POOLING2D || k == KCB__AVERAGE_POOLING2D || k == KCB__GLOBAL_MAX_POOLING2D ||
         k == KCB__GLOBAL_AVERAGE_POOLING2D;
}

int kcb__layer_has_build_config(kcb__layer_kind kind) {
  switch (kind) {
    case KCB__MAX_POOLING1D: case KCB__MAX_POOLING2D: case KCB__AVERAGE_POOLING1D: case KCB__AVERAGE_POOLING2D:
    case KCB__GLOBAL_MAX_POOLING1D: case KCB__GLOBAL_MAX_POOLING2D: case KCB__GLOBAL_AVERAGE_POOLING1D:
    case KCB__GLOBAL_AVERAGE_POOLING2D: case KCB__SPATIAL_DROPOUT2D: case KCB__DROPOUT: case KCB__ACTIVATION:
    case KCB__RESHAPE:
      /* Keras's classes built in __init__ (_build_at_init; Reshape sets built itself), so no build
       * call records a shape (keras-zoo/cnn.keras: Dropout has none); ZeroPadding2D and Rescaling
       * are built at their first call and have one */
      return 0;
    default:
      return 1;
  }
}

int kcb__layer_config_write(json_t *c, const kcb__layer *l) {
  out o = {c, 0};
  const kcb__geom *g = &l->geom;
  const int n = is_2d(l->kind) ? 2 : 1;
  switch (l->kind) {
    case KCB__CONV1D:
    case KCB__CONV2D:
      put(&o, "filters", json_integer(l->conv.filters));
      put(&o, "kernel_size", ints(n, n == 2 ? g->kh : g->kw, g->kw));
      put(&o, "strides", ints(n, n == 2 ? g->sh : g->sw, g->sw));
      put(&o, "padding", json_string(kcb_padding_name(l->conv.padding)));
      put(&o, "data_format", json_string("channels_last"));
      put(&o, "dilation_rate", ints(n, n == 2 ? g->dh : g->dw, g->dw));
      put(&o, "groups", json_integer(l->conv.groups));
      put(&o, "activation", json_string(kcb_activation_name(l->activation)));
      put(&o, "use_bias", json_boolean(l->conv.use_bias));
      put(&o, "kernel_initializer", kcb__config_initializer_json(l->conv.kernel_initializer, &o.failed));
      put(&o, "bias_initializer", kcb__config_initializer_json(l->conv.bias_initializer, &o.failed));
      put_nulls(&o, (const char *const[]){"kernel_regularizer", "bias_regularizer", "activity_regularizer",
                                          "kernel_constraint", "bias_constraint", NULL});
      break;
    case KCB__MAX_POOLING1D:
    case KCB__MAX_POOLING2D:
    case KCB__AVERAGE_POOLING1D:
    case KCB__AVERAGE_POOLING2D:
      put(&o, "pool_size", ints(n, n == 2 ? g->kh : g->kw, g->kw));
      put(&o, "padding", json_string(kcb_padding_name((kcb_padding)l->pool_padding)));
      put(&o, "strides", ints(n, n == 2 ? g->sh : g->sw, g->sw));
      put(&o, "data_format", json_string("channels_last"));
      break;
    case KCB__GLOBAL_MAX_POOLING1D:
    case KCB__GLOBAL_MAX_POOLING2D:
    case KCB__GLOBAL_AVERAGE_POOLING1D:
    case KCB__GLOBAL_AVERAGE_POOLING2D:
      put(&o, "data_format", json_string("channels_last"));
      put(&o, "keepdims", json_boolean(l->keepdims));
      break;
    case KCB__BATCH_NORMALIZATION:
    case KCB__LAYER_NORMALIZATION: {
      const int bn = l->kind == KCB__BATCH_NORMALIZATION;
      put(&o, "axis", bn ? json_integer(-1) : json_pack("[i]", -1)); /* LayerNormalization's build makes it a list */
      if (bn) put(&o, "momentum", json_real(l->momentum));
      put(&o, "epsilon", json_real(l->epsilon));
      put(&o, "center", json_boolean(l->center));
      put(&o, "scale", json_boolean(l->scale));
      if (!bn) put(&o, "rms_scaling", json_false());
      put(&o, "beta_initializer", kcb__config_initializer_json(KCB_INIT_ZEROS, &o.failed));
      put(&o, "gamma_initializer", kcb__config_initializer_json(KCB_INIT_ONES, &o.failed));
      if (bn) {
        put(&o, "moving_mean_initializer", kcb__config_initializer_json(KCB_INIT_ZEROS, &o.failed));
        put(&o, "moving_variance_initializer", kcb__config_initializer_json(KCB_INIT_ONES, &o.failed));
      }
      put_nulls(&o, (const char *const[]){"beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint", NULL});
      if (bn) {
        put(&o, "synchronized", json_false());
        put(&o, "renorm", json_false());
        put(&o, "renorm_clipping", json_null());
        put(&o, "renorm_momentum", json_real(0.99));
      }
      break;
    }
    case KCB__RESHAPE: {
      json_t *t = json_array();
      for (int i = 0; t && i < l->target_rank; i++) json_array_append_new(t, json_integer(l->target_shape[i]));
      put(&o, "target_shape", t);
      break;
    }
    case KCB__ZERO_PADDING2D: {
      json_t *p = json_array();
      if (p) {
        json_array_append_new(p, ints(2, g->pad_top, (int)(g->oh - g->h - g->pad_top)));
        json_array_append_new(p, ints(2, g->pad_left, (int)(g->ow - g->w - g->pad_left)));
      }
      put(&o, "padding", p);
      put(&o, "data_format", json_string("channels_last"));
      break;
    }
    case KCB__SPATIAL_DROPOUT2D: /* rate, seed, name and dtype come first (config_json.c) */
      put(&o, "data_format", json_string("channels_last"));
      break;
    case KCB__RESCALING:
      put(&o, "scale", json_real(l->rescale_given));
      put(&o, "offset", json_real(l->offset_given));
      break;
    default:
      break;
  }
  return o.failed ? -1 : 0;
}

/* ---- reading ----------------------------------------------------------------------------- */

/* An int or a list of 1 or 2 ints (Keras accepts both) into v[0..n); 0 if absent. */
static int read_pair(json_t *c, const char *key, int n, int *v, int fallback, int required) {
  json_t *x = json_object_get(c, key);
  v[0] = v[1] = fallback;
  if (!x || json_is_null(x)) return !required;
  if (json_is_integer(x)) {
    v[0] = v[1] = (int)json_integer_value(x);
    return v[0] > 0 && v[0] < 1000000;
  }
  if (!json_is_array(x) || (int)json_array_size(x) != n) return 0;
  for (int i = 0; i < n; i++) {
    json_t *e = json_array_get(x, (size_t)i);
    if (!json_is_integer(e) || json_integer_value(e) <= 0 || json_integer_value(e) >= 1000000) return 0;
    v[i] = (int)json_integer_value(e);
  }
  return 1;
}

/* A convolution's padding is any case (Keras lowercases it), a pooling layer's as Keras writes it. */
static int read_padding(json_t *c, kcb_padding *p, int any_case) {
  const char *s = json_string_value(json_object_get(c, "padding"));
  char lower[16] = "valid";
  if (s && strlen(s) < sizeof lower)
    for (size_t i = 0; i <= strlen(s); i++) lower[i] = any_case ? (char)kcb__to_lower((unsigned char)s[i]) : s[i];
  return (!s || strlen(s) < sizeof lower) && kcb_padding_from_name(p, lower) == 0;
}

/* Says which of a convolution's or pooling layer's settings kcb cannot take, with its value. */
static int bad_setting(const char *file, const char *name, const char *cls, json_t *c, const char *key) {
  char *value = kcb__json_dumps_python(json_object_get(c, key));
  int rc = kcb__error(KCB_EFORMAT, "%s: %s layer '%s': %s %.80s is not supported%s", file, cls, name, key,
                      value ? value : "(missing)",
                      !strcmp(key, "data_format") ? " (channels_last only)"
                      : !strcmp(key, "padding") ? " (valid or same; causal for Conv1D)"
                      : !strcmp(key, "axis") ? " (kcb normalizes over the last axis: -1, or its index)"
                      : !strcmp(key, "epsilon") ? " (a number: Keras does not load this layer either)"
                      : !strcmp(key, "renorm") || !strcmp(key, "rms_scaling") ? ""
                                                : " (positive whole numbers, one per spatial axis)");
  free(value);
  return rc;
}

static int channels_last(json_t *c) {
  const char *f = json_string_value(json_object_get(c, "data_format"));
  return !f || strcmp(f, "channels_last") == 0;
}

#define number_or kcb__config_number
#define bool_or kcb__json_truthy

/* One side of ZeroPadding2D's padding: a whole number from 0 to a million. */
static int padding_amount(json_t *v, int *amount) {
  if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000) return 0;
  *amount = (int)json_integer_value(v);
  return 1;
}

static int bad(const char *file, const char *name, const char *cls, const char *what) {
  return kcb__error(KCB_EFORMAT, "%s: %s layer '%s': %s", file, cls, name, what);
}

int kcb__layer_config_read(kcb_model *m, const char *cls, json_t *c, const char *name, const char *file, int *rc) {
  static const char *const pool_classes[KCB_POOLING_COUNT] = {
      "MaxPooling1D",       "MaxPooling2D",       "AveragePooling1D",       "AveragePooling2D",
      "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D"};
  const char *lname = json_string_value(json_object_get(c, "name"));
  *rc = 0;
  if (strcmp(cls, "Conv2D") == 0 || strcmp(cls, "Conv1D") == 0) {
    int n = cls[4] == '2' ? 2 : 1;
    kcb_conv_options o = KCB_CONV_OPTIONS_INIT;
    json_t *f = json_object_get(c, "filters");
    if (!json_is_integer(f) || json_integer_value(f) <= 0 || json_integer_value(f) > 1000000)
      return *rc = bad(file, name, cls, "no valid 'filters'"), 1;
    o.filters = (int)json_integer_value(f);
    const char *wrong = !read_pair(c, "kernel_size", n, o.kernel_size, 0, 1) ? "kernel_size"
                        : !read_pair(c, "strides", n, o.strides, 1, 0)       ? "strides"
                        : !read_pair(c, "dilation_rate", n, o.dilation_rate, 1, 0) ? "dilation_rate"
                        : !read_padding(c, &o.padding, 1)                   ? "padding"
                        : !channels_last(c)                                 ? "data_format" : NULL;
    if (wrong) return *rc = bad_setting(file, name, cls, c, wrong), 1;
    json_t *groups = json_object_get(c, "groups");
    if (groups && !json_is_null(groups) &&
        (!json_is_integer(groups) || json_integer_value(groups) < 1 || json_integer_value(groups) > o.filters))
      return *rc = bad(file, name, cls, "'groups' is not a whole number from 1 to filters"), 1;
    o.groups = groups && json_is_integer(groups) ? (int)json_integer_value(groups) : 1;
    o.use_bias = bool_or(c, "use_bias", 1);
    int rank;
    int64_t shape[KCB_MAX_RANK];
    kcb__model_current_shape(m, &rank, shape); /* a convolution keeps the rank: the last axis is `rank` */
    if ((*rc = kcb__config_activation(json_object_get(c, "activation"), &o.activation, file, name, rank))) return 1;
    o.kernel_initializer = kcb__config_initializer(json_object_get(c, "kernel_initializer"), KCB_INIT_GLOROT_UNIFORM);
    o.bias_initializer = kcb__config_initializer(json_object_get(c, "bias_initializer"), KCB_INIT_ZEROS);
    o.name = lname;
    *rc = n == 2 ? kcb_model_add_conv2d(m, &o) : kcb_model_add_conv1d(m, &o);
    return 1;
  }
  for (int k = 0; k < KCB_POOLING_COUNT; k++) {
    if (strcmp(cls, pool_classes[k]) != 0) continue;
    int n = strchr(cls, '2') ? 2 : 1;
    kcb_pooling_options o = KCB_POOLING_OPTIONS_INIT;
    const char *wrong = !read_pair(c, "pool_size", n, o.pool_size, 2, 0) ? "pool_size"
                        : !read_pair(c, "strides", n, o.strides, 0, 0)     ? "strides"
                        : !read_padding(c, &o.padding, 0)                   ? "padding"
                        : !channels_last(c)                                 ? "data_format" : NULL;
    if (wrong) return *rc = bad_setting(file, name, cls, c, wrong), 1;
    o.keepdims = bool_or(c, "keepdims", 0);
    o.name = lname;
    *rc = kcb_model_add_pooling(m, (kcb_pooling)k, &o);
    return 1;
  }
  if (strcmp(cls, "BatchNormalization") == 0 || strcmp(cls, "LayerNormalization") == 0) {
    kcb_batch_normalization_options o = KCB_BATCH_NORMALIZATION_OPTIONS_INIT;
    /* The last axis: -1, or its index counting the batch axis (Keras 2 wrote [3] for images). */
    json_t *axis = json_object_get(c, "axis");
    if (json_is_array(axis) && json_array_size(axis) == 1) axis = json_array_get(axis, 0);
    int rank;
    int64_t shape[KCB_MAX_RANK];
    kcb__model_current_shape(m, &rank, shape);
    int axis_ok = !axis || (json_is_integer(axis) && (json_integer_value(axis) == -1 || json_integer_value(axis) == rank));
    const char *wrong = !axis_ok ? "axis" : bool_or(c, "renorm", 0) ? "renorm" : bool_or(c, "rms_scaling", 0) ? "rms_scaling" : NULL;
    if (wrong) return *rc = bad_setting(file, name, cls, c, wrong), 1;
    o.momentum = number_or(c, "momentum", 0.99);
    o.epsilon = number_or(c, "epsilon", 1e-3);
    /* epsilon=None: LayerNormalization takes Keras's backend epsilon (ops.layer_normalization), a
     * BatchNormalization does not load in Keras */
    if (json_is_null(json_object_get(c, "epsilon"))) {
      if (cls[0] == 'B') return *rc = bad_setting(file, name, cls, c, "epsilon"), 1;
      o.epsilon = 1e-7;
    }
    o.center = bool_or(c, "center", 1);
    o.scale = bool_or(c, "scale", 1);
    o.name = lname;
    *rc = cls[0] == 'B' ? kcb_model_add_batch_normalization(m, &o) : kcb_model_add_layer_normalization(m, &o);
    return 1;
  }
  if (strcmp(cls, "Reshape") == 0) {
    json_t *t = json_object_get(c, "target_shape");
    int64_t shape[KCB_MAX_RANK];
    if (!json_is_array(t) || json_array_size(t) < 1) return *rc = bad(file, name, cls, "no valid 'target_shape'"), 1;
    if (json_array_size(t) >= KCB_MAX_RANK)
      return *rc = bad(file, name, cls, "a 'target_shape' of more axes than kcb builds (1 to 5)"), 1;
    for (size_t i = 0; i < json_array_size(t); i++) {
      if (!json_is_integer(json_array_get(t, i))) return *rc = bad(file, name, cls, "'target_shape' holds a value that is not a whole number"), 1;
      shape[i] = json_integer_value(json_array_get(t, i));
    }
    *rc = kcb_model_add_reshape(m, (int)json_array_size(t), shape);
    return 1;
  }
  if (strcmp(cls, "ZeroPadding2D") == 0) {
    json_t *p = json_object_get(c, "padding");
    int v[4] = {1, 1, 1, 1}, ok = 1;
    if (json_is_integer(p)) {
      ok = padding_amount(p, &v[0]);
      v[1] = v[2] = v[3] = v[0];
    } else if (json_is_array(p) && json_array_size(p) == 2) {
      for (int i = 0; i < 2 && ok; i++) {
        json_t *e = json_array_get(p, (size_t)i);
        if (json_is_array(e) && json_array_size(e) == 2)
          ok = padding_amount(json_array_get(e, 0), &v[2 * i]) && padding_amount(json_array_get(e, 1), &v[2 * i + 1]);
        else ok = padding_amount(e, &v[2 * i]), v[2 * i + 1] = v[2 * i];
      }
    } else if (p) {
      ok = 0;
    }
    if (!ok) return *rc = bad(file, name, cls, "'padding' is not ((top, bottom), (left, right)) in whole numbers"), 1;
    if (!channels_last(c)) return *rc = bad(file, name, cls, "only channels_last is supported"), 1;
    *rc = kcb_model_add_zero_padding2d(m, v[0], v[1], v[2], v[3]);
    return 1;
  }
  if (strcmp(cls, "Rescaling") == 0) {
    /* a number, or a list of one (Keras takes per-channel lists too: kcb does not) */
    double v[2] = {1.0, 0.0};
    static const char *const keys[2] = {"scale", "offset"};
    for (int i = 0; i < 2; i++) {
      json_t *e = json_object_get(c, keys[i]);
      const char *cls_e = json_string_value(json_object_get(e, "class_name"));
      if (cls_e && !strcmp(cls_e, "__numpy__")) e = json_object_get(json_object_get(e, "config"), "value"); /* a numpy array */
      if (json_is_array(e) && json_array_size(e) == 1) e = json_array_get(e, 0);
      if (json_is_number(e)) v[i] = json_number_value(e);
      else if (e) return *rc = bad(file, name, cls, "only a single number for scale and offset is supported"), 1;
    }
    *rc = kcb_model_add_rescaling(m, v[0], v[1]);
    return 1;
  }
  if (strcmp(cls, "SpatialDropout2D") == 0) {
    if (!channels_last(c)) return *rc = bad(file, name, cls, "only channels_last is supported"), 1;
    *rc = kcb_model_add_spatial_dropout2d(m, (float)number_or(c, "rate", 0.0));
    return 1;
  }
  return 0;
}
