/* test_model.c — building, training, reproducibility, weights, summary and bad inputs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "test_helpers.h"

static kcb_model *classifier(uint64_t seed, const char *spec, kcb_optimizer_kind opt) {
  return test_compiled_model(2, spec, seed, opt, 0.05, KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, KCB_METRIC_ACCURACY);
}

/* Two interleaved rings: not linearly separable, learnable by a small MLP. */
static void rings(kcb_tensor **x, kcb_tensor **y, int64_t n) {
  int64_t xs[2] = {n, 2}, ys[1] = {n};
  assert_ok(kcb_tensor_new(x, 2, xs));
  assert_ok(kcb_tensor_new(y, 1, ys));
  for (int64_t i = 0; i < n; i++) {
    double angle = (double)i * 2.399963, radius = (i % 2) ? 1.0 : 0.4;
    (*x)->data[2 * i] = (float)(radius * cos(angle));
    (*x)->data[2 * i + 1] = (float)(radius * sin(angle));
    (*y)->data[i] = (float)(i % 2);
  }
}

static void test_learns_and_is_reproducible(void **state) {
  (void)state;
  kcb_tensor *x, *y;
  rings(&x, &y, 400);
  float *weights[2];
  for (int run = 0; run < 2; run++) {
    kcb_model *m = classifier(11, "16:tanh,dropout:0.1,16:relu,2:softmax", KCB_OPT_ADAM);
    kcb_fit_options o = KCB_FIT_OPTIONS_INIT;
    o.epochs = 60;
    o.batch_size = 16;
    o.verbose = 0;
    kcb_history *h;
    assert_ok(kcb_model_fit(m, x, y, &o, &h));
    double acc;
    assert_true(kcb_history_last(h, "accuracy", &acc));
    assert_true(acc > 0.95);
    kcb_evaluate_options e = KCB_EVALUATE_OPTIONS_INIT;
    e.verbose = 0;
    kcb_logs out;
    assert_ok(kcb_model_evaluate(m, x, y, &e, &out));
    assert_true(kcb_logs_get(&out, "accuracy", &acc) && acc > 0.95);
    weights[run] = malloc(kcb_model_param_count(m) * sizeof(float));
    assert_ok(kcb_model_get_weights(m, weights[run], kcb_model_param_count(m)));
    if (run == 1) assert_memory_equal(weights[0], weights[1], kcb_model_param_count(m) * sizeof(float));
    kcb_history_free(h);
    kcb_model_free(m);
  }
  /* a different seed gives different weights */
  kcb_model *other = classifier(12, "16:tanh,dropout:0.1,16:relu,2:softmax", KCB_OPT_ADAM);
  float *w = malloc(kcb_model_param_count(other) * sizeof(float));
  assert_ok(kcb_model_get_weights(other, w, kcb_model_param_count(other)));
  assert_true(memcmp(w, weights[0], kcb_model_param_count(other) * sizeof(float)) != 0);
  free(w);
  free(weights[0]);
  free(weights[1]);
  kcb_model_free(other);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

static void test_weights_and_names(void **state) {
  (void)state;
  kcb_model *m = classifier(1, "4:relu,dropout:0.5,3:softmax", KCB_OPT_SGD);
  assert_int_equal(kcb_model_layer_count(m), 3);
  assert_string_equal(kcb_model_layer_name(m, 0), "dense");
  assert_string_equal(kcb_model_layer_name(m, 1), "dropout");
  assert_string_equal(kcb_model_layer_name(m, 2), "dense_1");
  assert_string_equal(kcb_model_layer_class(m, 2), "Dense");
  assert_int_equal(kcb_model_weight_count(m), 4);
  assert_int_equal(kcb_model_param_count(m), 2 * 4 + 4 + 4 * 3 + 3);
  kcb_weight_info info;
  assert_ok(kcb_model_weight(m, 2, &info));
  assert_string_equal(info.layer_name, "dense_1");
  assert_string_equal(info.name, "kernel");
  assert_int_equal(info.shape[0], 4);
  assert_int_equal(info.shape[1], 3);
  assert_ok(kcb_model_weight(m, 1, &info));
  assert_string_equal(info.name, "bias");
  for (size_t i = 0; i < info.size; i++) assert_true(info.data[i] == 0); /* zeros initializer */
  assert_error(kcb_model_weight(m, 4, &info), KCB_EINVAL, "out of range");
  float w[27];
  for (int i = 0; i < 27; i++) w[i] = (float)i;
  assert_ok(kcb_model_set_weights(m, w, 27));
  float back[27];
  assert_ok(kcb_model_get_weights(m, back, 27));
  assert_memory_equal(w, back, sizeof w);
  assert_error(kcb_model_set_weights(m, w, 26), KCB_ESHAPE, "27");
  /* glorot_uniform stays within its limit sqrt(6 / (fan_in + fan_out)) */
  kcb_model *g = classifier(5, "300,200", KCB_OPT_SGD);
  assert_ok(kcb_model_weight(g, 2, &info));
  double limit = sqrt(6.0 / 500), max = 0, sum2 = 0;
  for (size_t i = 0; i < info.size; i++) max = fmax(max, fabs(info.data[i])), sum2 += info.data[i] * info.data[i];
  assert_true(max <= limit && max > 0.95 * limit);
  assert_float_equal(sum2 / (double)info.size, limit * limit / 3, 0.05 * limit * limit / 3);
  kcb_model_free(g);
  kcb_model_free(m);
}

/* Keras numbers only the layers it names itself, and Sequential.add refuses a second layer of a
 * name, whether the caller or the automatic numbering chose it. */
static void test_layer_names_unique(void **state) {
  (void)state;
  kcb_model *m;
  int64_t in[1] = {3};
  assert_ok(kcb_model_new(&m, 1, in, 0));
  kcb_dense_options d = KCB_DENSE_OPTIONS_INIT;
  d.units = 2, d.name = "head";
  assert_ok(kcb_model_add_dense(m, &d));
  d.name = NULL;
  assert_ok(kcb_model_add_dense(m, &d));
  assert_string_equal(kcb_model_layer_name(m, 1), "dense"); /* "head" took no number */
  d.name = "dense_1";
  assert_ok(kcb_model_add_dense(m, &d));
  d.name = NULL; /* the next automatic name is "dense_1": taken */
  assert_error(kcb_model_add_dense(m, &d), KCB_EINVAL, "'dense_1' is already layer 2's");
  assert_int_equal(kcb_model_layer_count(m), 3);
  d.name = "head";
  assert_error(kcb_model_add_dense(m, &d), KCB_EINVAL, "'head' is already layer 0's");
  assert_error(kcb_model_add_from_spec(m, "4"), KCB_EINVAL, "automatic name");
  kcb_model_free(m);
}

/* A name in another script keeps its characters whole and the table its columns. */
static void test_summary_utf8_names(void **state) {
  (void)state;
  kcb_model *m;
  int64_t in[1] = {3};
  assert_ok(kcb_model_new(&m, 1, in, 0));
  kcb_dense_options d = KCB_DENSE_OPTIONS_INIT;
  d.units = 2;
  d.name = "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
           "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"; /* 35 characters, 70 bytes */
  assert_ok(kcb_model_add_dense(m, &d));
  d.name = "\u5c64";
  assert_ok(kcb_model_add_dense(m, &d));
  char *text = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&text, &size);
  assert_ok(kcb_model_summary(m, f));
  fclose(f);
  /* every table line as wide as the header's, in characters */
  int width = -1;
  for (char *line = text, *end; (end = strchr(line, '\n')); line = end + 1) {
    if (strncmp(line, "\u250f", 3) && strncmp(line, "\u2502", 3) && strncmp(line, "\u2503", 3)) continue;
    int chars = 0;
    for (char *c = line; c < end; c++) chars += ((unsigned char)*c & 0xC0) != 0x80;
    if (width < 0) width = chars;
    assert_int_equal(chars, width);
  }
  assert_true(width > 0);
  /* 31 of the 35 characters on the first line, the rest and the class on the next */
  assert_non_null(strstr(text, "\u2502 \u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
                               "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9 \u2502"));
  assert_non_null(strstr(text, "\u2502 \u00e9\u00e9\u00e9\u00e9 (Dense)                    \u2502"));
  assert_non_null(strstr(text, "\u2502 \u5c64 (Dense)                       \u2502"));
  free(text);
  kcb_model_free(m);
}

static void test_summary(void **state) {
  (void)state;
  kcb_model *m;
  int64_t in[2] = {28, 28};
  assert_ok(kcb_model_new(&m, 2, in, 0));
  assert_ok(kcb_model_add_from_spec(m, "flatten,256:relu,128:relu,10:softmax"));
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
  c.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  assert_ok(kcb_model_compile(m, &c));
  char *text = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&text, &size);
  assert_ok(kcb_model_summary(m, f));
  fclose(f);
  /* Keras's own figures for this model */
  assert_non_null(strstr(text, "\u2502 dense (Dense)                   \u2502 (None, 256)            \u2502       200,960 \u2502"));
  assert_non_null(strstr(text, "flatten (Flatten)"));
  assert_non_null(strstr(text, "(None, 784)"));
  assert_non_null(strstr(text, " Total params: 235,146 (918.54 KB)\n"));
  assert_non_null(strstr(text, " Non-trainable params: 0 (0.00 B)\n"));
  free(text);
  kcb_model_free(m);
}

static void test_spec_and_build_errors(void **state) {
  (void)state;
  kcb_model *m;
  int64_t in[1] = {3};
  assert_ok(kcb_model_new(&m, 1, in, 0));
  assert_error(kcb_model_add_from_spec(m, "16:relux"), KCB_EKEY, "relux");
  assert_error(kcb_model_add_from_spec(m, "dropout:1.5"), KCB_EINVAL, "dropout");
  assert_error(kcb_model_add_from_spec(m, "-4"), KCB_EINVAL, "-4");
  assert_error(kcb_model_add_from_spec(m, ""), KCB_EINVAL, "empty");
  /* blanks around an item and capitals are a person's spelling, not another item */
  kcb_model *spelt;
  int64_t img[3] = {5, 5, 1};
  assert_ok(kcb_model_new(&spelt, 3, img, 0));
  assert_ok(kcb_model_add_from_spec(spelt, " 5x5x1 , Conv:2:3:Same:ReLU ,Flatten,  4:Softmax "));
  assert_int_equal(kcb_model_layer_count(spelt), 3);
  assert_string_equal(kcb_model_layer_class(spelt, 0), "Conv2D");
  kcb_model_free(spelt);
  /* a layer's own refusal names the item as typed and where it stands; a 1D/2D item on flat values
   * says what it takes, in the spec's terms */
  int64_t img4[3] = {6, 6, 4};
  assert_ok(kcb_model_new(&spelt, 3, img4, 0));
  assert_error(kcb_model_add_from_spec(spelt, "6x6x4,conv:8:3,Conv:6:3:g3,flatten,2"), KCB_EINVAL,
               "item 3 'conv:6:3:g3': Conv2D: groups=3 must divide");
  kcb_model_free(spelt);
  assert_error(kcb_model_add_from_spec(m, "gap"), KCB_EINVAL,
               "gap works on (steps, channels) per sample (1D) or (height, width, channels) (2D), but the output before it has rank 1 (flat values: give the input as Nx1 for 1D)");
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_SGD);
  kcb_model *empty;
  assert_ok(kcb_model_new(&empty, 1, in, 0));
  assert_error(kcb_model_compile(empty, &c), KCB_ESTATE, "no layers");
  kcb_model_free(empty);
  assert_ok(kcb_model_add_from_spec(m, "2"));
  assert_ok(kcb_model_compile(m, &c));
  assert_error(kcb_model_add_from_spec(m, "2"), KCB_ESTATE, "after compile");
  int64_t zero[1] = {0};
  assert_error(kcb_model_new(&empty, 1, zero, 0), KCB_EINVAL, "positive");
  kcb_model_free(m);
}

/* A NULL model is an error (KCB_EINVAL naming the call), never a crash; the getters answer 0 / NULL. */
static void test_null_model(void **state) {
  (void)state;
  kcb_dense_options d = KCB_DENSE_OPTIONS_INIT;
  d.units = 3;
  kcb_conv_options c = KCB_CONV_OPTIONS_INIT;
  c.filters = 2, c.kernel_size[0] = c.kernel_size[1] = 3;
  kcb_pooling_options p = KCB_POOLING_OPTIONS_INIT;
  int64_t shape[1] = {3};
  float w[2] = {0, 0};
  kcb_compile_options co = {0};
  kcb_tensor *out = NULL;
  kcb_history *h = (kcb_history *)&co; /* set to NULL by fit */
  kcb_weight_info wi;
  const struct {
    int rc;
    const char *what;
  } calls[] = {
      {kcb_model_add_dense(NULL, &d), "Dense"},
      {kcb_model_add_activation(NULL, KCB_ACT_RELU), "Activation"},
      {kcb_model_add_dropout(NULL, 0.5f), "Dropout"},
      {kcb_model_add_flatten(NULL), "Flatten"},
      {kcb_model_add_conv2d(NULL, &c), "Conv2D"},
      {kcb_model_add_conv1d(NULL, &c), "Conv1D"},
      {kcb_model_add_pooling(NULL, (kcb_pooling)0, &p), "pooling"},
      {kcb_model_add_batch_normalization(NULL, NULL), "BatchNormalization"},
      {kcb_model_add_layer_normalization(NULL, NULL), "LayerNormalization"},
      {kcb_model_add_reshape(NULL, 1, shape), "Reshape"},
      {kcb_model_add_zero_padding2d(NULL, 1, 1, 1, 1), "ZeroPadding2D"},
      {kcb_model_add_spatial_dropout2d(NULL, 0.1f), "SpatialDropout2D"},
      {kcb_model_add_rescaling(NULL, 1, 0), "Rescaling"},
      {kcb_model_add_from_spec(NULL, "3"), "model spec"},
      {kcb_model_compile(NULL, &co), "compile"},
      {kcb_model_fit(NULL, NULL, NULL, NULL, &h), "fit"},
      {kcb_model_evaluate(NULL, NULL, NULL, NULL, NULL), "evaluate"},
      {kcb_model_predict(NULL, NULL, NULL, &out), "predict"},
      {kcb_model_predict_layer(NULL, NULL, 0, 1, &out), "predict_layer"},
      {kcb_model_summary(NULL, stdout), "summary"},
      {kcb_model_get_weights(NULL, w, 2), "get_weights"},
      {kcb_model_set_weights(NULL, w, 2), "set_weights"},
      {kcb_model_set_learning_rate(NULL, 0.1), "set_learning_rate"},
      {kcb_model_weight(NULL, 0, &wi), "kcb_model_weight"},
      {kcb_model_last_batch(NULL, NULL, NULL), "kcb_model_last_batch"},
      {kcb_model_save(NULL, "x.keras", NULL), "save"},
      {kcb_model_load_weights(NULL, "x.keras", NULL), "load_weights"},
  };
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
    if (calls[i].rc != KCB_EINVAL) fail_msg("%s with a NULL model returned %d", calls[i].what, calls[i].rc);
  assert_null(h);
  assert_null(out);
  assert_int_equal(kcb_model_param_count(NULL), 0);
  assert_int_equal(kcb_model_layer_count(NULL), 0);
  assert_int_equal(kcb_model_weight_count(NULL), 0);
  assert_int_equal(kcb_model_iterations(NULL), 0);
  assert_null(kcb_model_layer_name(NULL, 0));
  assert_null(kcb_model_optimizer_slots(NULL, NULL));
  kcb_model_set_stop_training(NULL, 1);
  kcb_model_request_stop(NULL);
  kcb_model_free(NULL);
  /* '/' separates variable paths: Keras refuses it in a name, and so does kcb */
  kcb_model *m = NULL;
  int64_t in = 4;
  assert_ok(kcb_model_new(&m, 1, &in, 1));
  d.name = "block/dense";
  assert_error(kcb_model_add_dense(m, &d), KCB_EINVAL, "'block/dense' contains '/'");
  assert_error(kcb_model_add_dense(m, NULL), KCB_EINVAL, "Dense needs options, got NULL");
  /* a metric count without its array is refused, not read through NULL */
  kcb_model *m2 = NULL;
  d.name = NULL;
  assert_ok(kcb_model_new(&m2, 1, &in, 1));
  assert_ok(kcb_model_add_dense(m2, &d));
  kcb_compile_options no_metrics = {0};
  no_metrics.n_metrics = 2;
  assert_error(kcb_model_compile(m2, &no_metrics), KCB_EINVAL, "2 metrics given, but the metrics array is NULL");
  kcb_model_free(m2);
  /* a spec that fails at an item adds none of the items before it: fixed and given again, the
   * model has its layers once, named as if the failure never happened */
  assert_error(kcb_model_add_from_spec(m, "8:relu,bn,spatialdropout:0.1,3:softmax"), KCB_EINVAL, "SpatialDropout2D");
  assert_int_equal(kcb_model_layer_count(m), 0);
  assert_ok(kcb_model_add_from_spec(m, "8:relu,bn,3:softmax"));
  assert_int_equal(kcb_model_layer_count(m), 3);
  assert_string_equal(kcb_model_layer_name(m, 0), "dense");
  assert_string_equal(kcb_model_layer_name(m, 1), "batch_normalization");
  assert_string_equal(kcb_model_layer_name(m, 2), "dense_1");
  kcb_model_free(m);
}

/* Each bad input gives its code and a message that says what is wrong; the model stays usable. */
static void test_bad_inputs(void **state) {
  (void)state;
  kcb_model *m = classifier(1, "4:relu,3:softmax", KCB_OPT_SGD);
  int64_t xs[2] = {6, 2}, wrong[2] = {6, 5}, ys[1] = {6}, ys_short[1] = {5};
  kcb_tensor *x, *y, *xw, *ysh;
  assert_ok(kcb_tensor_new(&x, 2, xs));
  assert_ok(kcb_tensor_new(&y, 1, ys));
  assert_ok(kcb_tensor_new(&xw, 2, wrong));
  assert_ok(kcb_tensor_new(&ysh, 1, ys_short));
  kcb_fit_options o = KCB_FIT_OPTIONS_INIT;
  o.verbose = 0;
  assert_error(kcb_model_fit(m, xw, y, &o, NULL), KCB_ESHAPE, "x has shape (6, 5) but the model expects (None, 2)");
  assert_error(kcb_model_fit(m, x, ysh, &o, NULL), KCB_ESHAPE, "y has shape (5,)");
  x->data[7] = NAN;
  assert_error(kcb_model_fit(m, x, y, &o, NULL), KCB_ENAN, "sample 3");
  x->data[7] = 0;
  /* a bad class index is named by its sample, before any training (fit, evaluate, validation) */
  y->data[4] = 7;
  assert_error(kcb_model_fit(m, x, y, &o, NULL), KCB_EINVAL, "fit: y holds 7 in sample 4, not a class index in 0..2");
  assert_int_equal(kcb_model_iterations(m), 0);
  y->data[4] = 1.5f;
  assert_error(kcb_model_evaluate(m, x, y, NULL, NULL), KCB_EINVAL, "evaluate: y holds 1.5 in sample 4");
  y->data[4] = -1;
  o.validation_x = x, o.validation_y = y;
  assert_error(kcb_model_fit(m, x, y, &o, NULL), KCB_EINVAL, "y holds -1 in sample 4");
  o.validation_x = o.validation_y = NULL;
  y->data[4] = 1;
  o.batch_size = 0;
  assert_error(kcb_model_fit(m, x, y, &o, NULL), KCB_EINVAL, "batch_size");
  o.batch_size = 2;
  o.validation_split = 1.5;
  assert_error(kcb_model_fit(m, x, y, &o, NULL), KCB_EINVAL, "validation_split");
  o.validation_split = 0.9; /* floor(6 * 0.1) = 0 training samples */
  assert_error(kcb_model_fit(m, x, y, &o, NULL), KCB_EINVAL, "no training samples");
  o.validation_split = 0;
  assert_ok(kcb_model_fit(m, x, y, &o, NULL)); /* still usable */
  kcb_tensor *x0, *y0; /* no samples: no loss to give (a 0 would read as a perfect model) */
  int64_t x0_shape[2] = {0, 2}, y0_shape[1] = {0};
  assert_ok(kcb_tensor_new(&x0, 2, x0_shape));
  assert_ok(kcb_tensor_new(&y0, 1, y0_shape));
  assert_error(kcb_model_evaluate(m, x0, y0, NULL, NULL), KCB_EINVAL, "evaluate: no samples to evaluate");
  kcb_tensor_free(x0);
  kcb_tensor_free(y0);
  kcb_model *raw;
  int64_t in[1] = {2};
  assert_ok(kcb_model_new(&raw, 1, in, 0));
  assert_ok(kcb_model_add_from_spec(raw, "3"));
  assert_error(kcb_model_fit(raw, x, y, &o, NULL), KCB_ESTATE, "compiled");
  kcb_model_free(raw);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
  kcb_tensor_free(xw);
  kcb_tensor_free(ysh);
  kcb_model_free(m);
}

/* Metrics that compare every output with its label read class-index labels broadcast against each
 * output (Keras's broadcasting, within the label array); the one-hot accuracy refuses them. */
static void test_metrics_with_sparse_labels(void **state) {
  (void)state;
  enum { N = 5, K = 3 };
  kcb_model *m = NULL;
  int64_t in = 2, xs[2] = {N, 2}, ys[1] = {N};
  assert_ok(kcb_model_new(&m, 1, &in, 3));
  assert_ok(kcb_model_add_from_spec(m, "3:softmax"));
  kcb_metric metrics[3] = {KCB_METRIC_MEAN_SQUARED_ERROR, KCB_METRIC_MEAN_ABSOLUTE_ERROR, KCB_METRIC_BINARY_ACCURACY};
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_SGD);
  c.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  c.metrics = metrics;
  c.n_metrics = 3;
  assert_ok(kcb_model_compile(m, &c));
  kcb_tensor *x, *y, *p;
  assert_ok(kcb_tensor_new(&x, 2, xs));
  assert_ok(kcb_tensor_new(&y, 1, ys)); /* a tensor of exactly N labels: ASan sees any read past it */
  for (int i = 0; i < N; i++) x->data[2 * i] = (float)i - 2, x->data[2 * i + 1] = 0.5f * (float)i, y->data[i] = (float)(i % K);
  kcb_evaluate_options eo = KCB_EVALUATE_OPTIONS_INIT;
  eo.verbose = 0;
  assert_ok(kcb_model_predict(m, x, &eo, &p));
  double mse = 0, mae = 0, bin = 0;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < K; j++) {
      double d = (double)p->data[i * K + j] - y->data[i];
      mse += d * d / K, mae += fabs(d) / K, bin += ((p->data[i * K + j] > 0.5f ? 1.0 : 0.0) == y->data[i]) / (double)K;
    }
  kcb_logs logs = {0};
  assert_ok(kcb_model_evaluate(m, x, y, &eo, &logs));
  double got;
  assert_int_equal(kcb_logs_get(&logs, "mean_squared_error", &got), 1);
  assert_true(fabs(got - mse / N) < 1e-6);
  assert_int_equal(kcb_logs_get(&logs, "mean_absolute_error", &got), 1);
  assert_true(fabs(got - mae / N) < 1e-6);
  assert_int_equal(kcb_logs_get(&logs, "binary_accuracy", &got), 1);
  assert_true(fabs(got - bin / N) < 1e-6);
  kcb_model_free(m);
  kcb_tensor_free(p);
  m = test_compiled_model(2, "3:softmax", 3, KCB_OPT_SGD, 0.1, KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
                          KCB_METRIC_CATEGORICAL_ACCURACY);
  assert_error(kcb_model_evaluate(m, x, y, &eo, NULL), KCB_ESHAPE, "one class index a sample");
  kcb_fit_options o = KCB_FIT_OPTIONS_INIT;
  o.verbose = 0;
  assert_error(kcb_model_fit(m, x, y, &o, NULL), KCB_ESHAPE, "use sparse_categorical_accuracy");
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

/* Dense on the last axis of rank-2 samples and a regression loss with the MAE metric. */
static void test_regression_on_sequences(void **state) {
  (void)state;
  kcb_model *m;
  int64_t in[2] = {3, 2};
  assert_ok(kcb_model_new(&m, 2, in, 4));
  assert_ok(kcb_model_add_from_spec(m, "1"));
  kcb_metric metric = KCB_METRIC_MEAN_ABSOLUTE_ERROR;
  const char *name = "mae";
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_RMSPROP);
  c.optimizer.learning_rate = 0.01;
  c.loss = KCB_LOSS_MEAN_SQUARED_ERROR;
  c.metrics = &metric;
  c.metric_names = &name;
  c.n_metrics = 1;
  assert_ok(kcb_model_compile(m, &c));
  int64_t xs[3] = {64, 3, 2}, ys[3] = {64, 3, 1};
  kcb_tensor *x, *y;
  assert_ok(kcb_tensor_new(&x, 3, xs));
  assert_ok(kcb_tensor_new(&y, 3, ys));
  for (int i = 0; i < 64 * 3; i++) {
    x->data[2 * i] = (float)sin(i), x->data[2 * i + 1] = (float)cos(3.0 * i);
    y->data[i] = 0.5f * x->data[2 * i] - 0.25f * x->data[2 * i + 1] + 0.1f;
  }
  kcb_fit_options o = KCB_FIT_OPTIONS_INIT;
  o.epochs = 200;
  o.batch_size = 16;
  o.verbose = 0;
  kcb_history *h;
  assert_ok(kcb_model_fit(m, x, y, &o, &h));
  double mae;
  assert_true(kcb_history_last(h, "mae", &mae));
  assert_true(mae < 0.02);
  kcb_tensor *pred;
  kcb_evaluate_options quiet = KCB_EVALUATE_OPTIONS_INIT;
  quiet.verbose = 0;
  assert_ok(kcb_model_predict(m, x, &quiet, &pred));
  assert_int_equal(pred->rank, 3);
  assert_int_equal(pred->shape[1], 3);
  assert_int_equal(pred->shape[2], 1);
  kcb_tensor_free(pred);
  kcb_history_free(h);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
  kcb_model_free(m);
}

/* validation_data is used as given (val_* equal evaluate on it); Dropout acts in fit only, so
 * predict is deterministic; the optimizer's state is readable for checkpoints; summary adds the
 * optimizer's parameters once it has stepped. */
static void test_validation_data_dropout_and_state(void **state) {
  (void)state;
  kcb_tensor *x, *y, *vx, *vy;
  rings(&x, &y, 64);
  rings(&vx, &vy, 24);
  kcb_model *m = classifier(3, "8:tanh,dropout:0.5,2:softmax", KCB_OPT_ADAM);
  kcb_fit_options o = KCB_FIT_OPTIONS_INIT;
  o.epochs = 2;
  o.batch_size = 16;
  o.verbose = 0;
  o.validation_x = vx;
  o.validation_y = vy;
  kcb_history *h;
  assert_ok(kcb_model_fit(m, x, y, &o, &h));
  kcb_evaluate_options quiet = KCB_EVALUATE_OPTIONS_INIT;
  quiet.verbose = 0;
  quiet.batch_size = 16; /* validation runs in fit's batch size, as Keras's */
  kcb_logs out;
  assert_ok(kcb_model_evaluate(m, vx, vy, &quiet, &out));
  double val_loss = 0, loss = -1;
  assert_true(kcb_history_last(h, "val_loss", &val_loss) && kcb_logs_get(&out, "loss", &loss));
  assert_true(val_loss == loss);
  kcb_tensor *p1, *p2;
  assert_ok(kcb_model_predict(m, vx, &quiet, &p1));
  assert_ok(kcb_model_predict(m, vx, &quiet, &p2));
  assert_memory_equal(p1->data, p2->data, (size_t)kcb_tensor_size(p1) * sizeof(float));
  size_t n_slots;
  float *slots = kcb_model_optimizer_slots(m, &n_slots);
  assert_int_equal(n_slots, 2 * kcb_model_param_count(m)); /* Adam: m and v */
  int nonzero = 0;
  for (size_t i = 0; i < n_slots; i++) nonzero |= slots[i] != 0;
  assert_true(nonzero);
  assert_int_equal(kcb_model_iterations(m), 2 * 4);
  assert_ok(kcb_model_set_iterations(m, 100));
  assert_int_equal(kcb_model_iterations(m), 100);
  /* counts the checkpoints cannot hold are refused, the counter kept */
  assert_error(kcb_model_set_iterations(m, -1), KCB_EINVAL, "-1 is not a count from 0 to 2^53");
  assert_int_equal(kcb_model_set_iterations(m, INT64_MAX), KCB_EINVAL);
  assert_int_equal(kcb_model_iterations(m), 100);
  char *text = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&text, &size);
  assert_ok(kcb_model_summary(m, f));
  fclose(f);
  char line[64];
  snprintf(line, sizeof line, " Optimizer params: %zu (", 2 * kcb_model_param_count(m) + 2);
  assert_non_null(strstr(text, line));
  /* Keras's total counts the optimizer's variables too (summary_utils: total_count) */
  snprintf(line, sizeof line, " Total params: %zu (", 3 * kcb_model_param_count(m) + 2);
  assert_non_null(strstr(text, line));
  free(text);
  kcb_tensor_free(p1);
  kcb_tensor_free(p2);
  kcb_history_free(h);
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
  kcb_tensor_free(vx);
  kcb_tensor_free(vy);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_learns_and_is_reproducible), cmocka_unit_test(test_weights_and_names),
      cmocka_unit_test(test_summary), cmocka_unit_test(test_layer_names_unique), cmocka_unit_test(test_summary_utf8_names),
      cmocka_unit_test(test_spec_and_build_errors),
      cmocka_unit_test(test_bad_inputs), cmocka_unit_test(test_null_model), cmocka_unit_test(test_metrics_with_sparse_labels), cmocka_unit_test(test_regression_on_sequences),
      cmocka_unit_test(test_validation_data_dropout_and_state),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
