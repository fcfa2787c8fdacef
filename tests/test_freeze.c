/* test_freeze.c — frozen layers (Keras's layer.trainable = False): what fit leaves alone, a
 * frozen BatchNormalization's inference mode, and the files of a model with frozen layers. */
#include <math.h>
#include <unistd.h>

#include "test_helpers.h"

/* Two noisy clusters of 4 features; labels 0/1. */
static void clusters(kcb_tensor **x, kcb_tensor **y, int64_t n) {
  int64_t xs[2] = {n, 4}, ys[1] = {n};
  assert_ok(kcb_tensor_new(x, 2, xs));
  assert_ok(kcb_tensor_new(y, 1, ys));
  for (int64_t i = 0; i < n; i++) {
    for (int k = 0; k < 4; k++) (*x)->data[4 * i + k] = (float)((i % 2 ? 1.5 : -0.5) + sin((double)(7 * i + k)));
    (*y)->data[i] = (float)(i % 2);
  }
}

static float *weights_of(const kcb_model *m) {
  float *w = malloc(kcb_model_param_count(m) * sizeof *w);
  assert_ok(kcb_model_get_weights(m, w, kcb_model_param_count(m)));
  return w;
}

static void fit_a_little(kcb_model *m, kcb_tensor *x, kcb_tensor *y) {
  kcb_fit_options o = KCB_FIT_OPTIONS_INIT;
  o.epochs = 3;
  o.batch_size = 16;
  o.verbose = 0;
  kcb_history *h = NULL;
  assert_ok(kcb_model_fit(m, x, y, &o, &h));
  kcb_history_free(h);
}

/* Whether weight variable k of m holds the same floats in a and b. */
static int var_same(const kcb_model *m, size_t k, const float *a, const float *b) {
  kcb_weight_info first, wi;
  assert_ok(kcb_model_weight(m, 0, &first));
  assert_ok(kcb_model_weight(m, k, &wi));
  size_t off = (size_t)(wi.data - first.data); /* the weights lie in order in one block */
  return memcmp(a + off, b + off, wi.size * sizeof *a) == 0;
}

/* A frozen Dense between two trained ones: fit leaves its kernel and bias as they were, trains
 * the others, and counts its parameters as non-trainable; unfrozen, it trains again. */
static void test_frozen_dense_keeps_its_weights(void **state) {
  (void)state;
  kcb_tensor *x, *y;
  clusters(&x, &y, 256);
  kcb_model *m = test_compiled_model(4, "8:relu,8:relu,2:softmax", 3, KCB_OPT_ADAM, 0.01,
                                     KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, KCB_METRIC_ACCURACY);
  size_t all = kcb_model_trainable_param_count(m);
  assert_error(kcb_model_set_layer_trainable(m, 3, 0), KCB_EINVAL, "out of range");
  assert_error(kcb_model_set_layer_trainable(NULL, 0, 0), KCB_EINVAL, "NULL");
  assert_ok(kcb_model_set_layer_trainable(m, 1, 0));
  assert_int_equal(kcb_model_layer_trainable(m, 1), 0);
  assert_int_equal(kcb_model_layer_trainable(m, 0), 1);
  assert_int_equal(kcb_model_layer_trainable(m, 9), 0);
  assert_int_equal(kcb_model_trainable_param_count(m), all - (8 * 8 + 8));
  kcb_weight_info wi;
  assert_ok(kcb_model_weight(m, 2, &wi));
  assert_string_equal(wi.layer_name, "dense_1");
  assert_int_equal(wi.trainable, 0);
  float *before = weights_of(m);
  fit_a_little(m, x, y);
  float *after = weights_of(m);
  for (size_t k = 0; k < kcb_model_weight_count(m); k++) assert_int_equal(var_same(m, k, before, after), k == 2 || k == 3);
  /* the layer below the frozen one still learns: dL/dinput goes through the frozen kernel */
  assert_ok(kcb_model_set_layer_trainable(m, 1, 1));
  assert_int_equal(kcb_model_trainable_param_count(m), all);
  fit_a_little(m, x, y);
  float *again = weights_of(m);
  for (size_t k = 0; k < kcb_model_weight_count(m); k++) assert_false(var_same(m, k, after, again));
  free(before), free(after), free(again);
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

/* Keras 3: a frozen BatchNormalization normalises with its moving statistics in training too and
 * leaves them as they are; a trainable one moves them. */
static void test_frozen_batch_norm_runs_in_inference_mode(void **state) {
  (void)state;
  kcb_tensor *x, *y;
  clusters(&x, &y, 128);
  for (int frozen = 0; frozen < 2; frozen++) {
    kcb_model *m = test_compiled_model(4, "8:relu,bn,2:softmax", 5, KCB_OPT_SGD, 0.05,
                                       KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, KCB_METRIC_COUNT);
    if (frozen) assert_ok(kcb_model_set_layer_trainable(m, 1, 0));
    float *before = weights_of(m);
    fit_a_little(m, x, y);
    float *after = weights_of(m);
    for (size_t k = 2; k < 6; k++) /* gamma, beta, moving_mean, moving_variance */
      assert_int_equal(var_same(m, k, before, after), frozen);
    assert_false(var_same(m, 0, before, after)); /* the Dense below learns either way */
    free(before), free(after);
    kcb_model_free(m);
  }
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

/* A model frozen entirely: fit runs, nothing changes, the optimizer takes no step. */
static void test_everything_frozen(void **state) {
  (void)state;
  kcb_tensor *x, *y;
  clusters(&x, &y, 64);
  kcb_model *m = test_compiled_model(4, "8:relu,bn,2:softmax", 5, KCB_OPT_RMSPROP, KCB_DEFAULT,
                                     KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, KCB_METRIC_COUNT);
  for (size_t i = 0; i < kcb_model_layer_count(m); i++) assert_ok(kcb_model_set_layer_trainable(m, i, 0));
  assert_int_equal(kcb_model_trainable_param_count(m), 0);
  float *before = weights_of(m);
  fit_a_little(m, x, y);
  float *after = weights_of(m);
  assert_memory_equal(before, after, kcb_model_param_count(m) * sizeof *before);
  assert_int_equal(kcb_model_iterations(m), 0); /* Keras applies no optimizer step without trainable weights */
  free(before), free(after);
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

/* Saved with a frozen layer: each layout says trainable false in the layer's config and holds
 * optimizer slots for the trainable variables only (Keras builds them for
 * model.trainable_variables); the model loads frozen, with its optimizer state, and trains on. */
static void test_files_of_frozen_models(void **state) {
  (void)state;
  char dir[64];
  assert_int_equal(test_tmpdir_make(dir, sizeof dir, "kcb_freeze"), 0);
  kcb_tensor *x, *y;
  clusters(&x, &y, 128);
  static const char *const names[] = {"m.keras", "m.h5", "m.weights.h5"};
  for (size_t f = 0; f < 3; f++) {
    kcb_model *m = test_compiled_model(4, "8:relu,bn,8:relu,2:softmax", 7, KCB_OPT_ADAM, 0.01,
                                       KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, KCB_METRIC_ACCURACY);
    assert_ok(kcb_model_set_layer_trainable(m, 0, 0)); /* dense */
    assert_ok(kcb_model_set_layer_trainable(m, 1, 0)); /* batch_normalization */
    fit_a_little(m, x, y);
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, names[f]);
    assert_ok(kcb_model_save(m, path, NULL));
    kcb_checkpoint_file *cf = NULL;
    assert_ok(kcb_checkpoint_file_open(&cf, path));
    const kcb_checkpoint_meta *meta = kcb_checkpoint_file_meta(cf);
    /* iteration, learning rate, then momentum and velocity of dense_1's and dense_2's kernel and bias */
    assert_int_equal(meta->n_optimizer_vars, 2 + 2 * 4);
    assert_int_equal(meta->n_trainable_params, kcb_model_trainable_param_count(m));
    for (size_t i = meta->n_model_vars; i < meta->n_model_vars + meta->n_optimizer_vars; i++) {
      const kcb_checkpoint_var *v = kcb_checkpoint_file_var(cf, i);
      if (f == 0 && i >= meta->n_model_vars + 2) { /* a .keras's slots name their variable */
        assert_true(v->owner >= 4);
        assert_non_null(strstr(v->name, "dense_"));
      }
    }
    if (f < 2) { /* the config says which layers are frozen */
      for (size_t l = 0; l < kcb_checkpoint_file_layer_count(cf); l++) {
        const kcb_checkpoint_layer *cl = kcb_checkpoint_file_layer(cf, l);
        if (!strcmp(cl->name, "dense") || !strcmp(cl->name, "batch_normalization")) assert_int_equal(cl->trainable, 0);
        else assert_int_equal(cl->trainable, 1);
      }
      kcb_model *back = NULL;
      kcb_load_options lo = KCB_LOAD_OPTIONS_INIT;
      lo.optimizer = KCB_LOAD_OPTIMIZER_REQUIRE;
      assert_ok(kcb_model_load(&back, path, &lo));
      assert_int_equal(kcb_model_layer_trainable(back, 0), 0);
      assert_int_equal(kcb_model_layer_trainable(back, 1), 0);
      assert_int_equal(kcb_model_layer_trainable(back, 2), 1);
      assert_int_equal(kcb_model_trainable_param_count(back), kcb_model_trainable_param_count(m));
      assert_int_equal(kcb_model_iterations(back), kcb_model_iterations(m));
      /* both go on alike: the same weights, the same slots, the same frozen layers */
      fit_a_little(m, x, y);
      fit_a_little(back, x, y);
      float *a = weights_of(m), *b = weights_of(back);
      assert_memory_equal(a, b, kcb_model_param_count(m) * sizeof *a);
      free(a), free(b);
      kcb_model_free(back);
    } else { /* weights alone load into a model frozen the same way, with the optimizer state */
      kcb_model *same = test_compiled_model(4, "8:relu,bn,8:relu,2:softmax", 9, KCB_OPT_ADAM, 0.01,
                                            KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, KCB_METRIC_ACCURACY);
      kcb_load_options lo = KCB_LOAD_OPTIONS_INIT;
      lo.optimizer = KCB_LOAD_OPTIMIZER_REQUIRE;
      assert_error(kcb_model_load_weights(same, path, &lo), KCB_ESHAPE, "variables"); /* all trainable: more slots */
      assert_ok(kcb_model_set_layer_trainable(same, 0, 0));
      assert_ok(kcb_model_set_layer_trainable(same, 1, 0));
      assert_ok(kcb_model_load_weights(same, path, &lo));
      kcb_model_free(same);
    }
    kcb_checkpoint_file_close(cf);
    kcb_model_free(m);
    unlink(path);
  }
  rmdir(dir);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

/* check_config: a file whose layers were frozen is the same model unfrozen (fine-tuning's second
 * phase loads the first phase's checkpoint into a model that trains every layer). */
static void test_frozen_file_loads_into_a_trainable_model(void **state) {
  (void)state;
  char dir[64], path[128];
  assert_int_equal(test_tmpdir_make(dir, sizeof dir, "kcb_freeze"), 0);
  snprintf(path, sizeof path, "%s/phase1.keras", dir);
  kcb_model *m = test_compiled_model(4, "8:relu,2:softmax", 7, KCB_OPT_SGD, 0.01, KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
                                     KCB_METRIC_COUNT);
  assert_ok(kcb_model_set_layer_trainable(m, 0, 0));
  assert_ok(kcb_model_save(m, path, NULL));
  kcb_model *n = test_compiled_model(4, "8:relu,2:softmax", 8, KCB_OPT_SGD, 0.01, KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
                                     KCB_METRIC_COUNT);
  kcb_load_options lo = KCB_LOAD_OPTIONS_INIT;
  lo.check_config = 1;
  assert_ok(kcb_model_load_weights(n, path, &lo));
  assert_int_equal(kcb_model_layer_trainable(n, 0), 1); /* as Keras's load_weights: the program decides */
  float *a = weights_of(m), *b = weights_of(n);
  assert_memory_equal(a, b, kcb_model_param_count(m) * sizeof *a);
  free(a), free(b);
  kcb_model_free(m);
  kcb_model_free(n);
  unlink(path);
  rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_frozen_dense_keeps_its_weights),
      cmocka_unit_test(test_frozen_batch_norm_runs_in_inference_mode),
      cmocka_unit_test(test_everything_frozen),
      cmocka_unit_test(test_files_of_frozen_models),
      cmocka_unit_test(test_frozen_file_loads_into_a_trainable_model),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
