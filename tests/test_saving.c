/* test_saving.c — checkpoints in Keras's layouts: Keras-written fixtures load and predict as
 * Keras did (expected.json), kcb's files round-trip weights, optimizer state and config, the
 * configs equal Keras's own, bad files give clear errors, and failed writes keep the old file. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>
#include <jansson.h>

#include "test_helpers.h"
#include "model/config_json.h"
#include "model/model_internal.h"

static const char *const fixtures[] = {"m.h5", "w_legacy.h5", "w.weights.h5", "m.keras"};
static char tmpdir[256];

static const char *data_path(const char *name) {
  static char buf[4][512];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/%s", KCB_SAVING_DATA, name);
  return buf[k];
}

static const char *tmp_path(const char *name) {
  static char buf[4][512];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
  return buf[k];
}

static int setup(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/kcb_test_saving_XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  DIR *d = opendir(tmpdir);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d)))
      if (e->d_name[0] != '.' || (e->d_name[1] && strcmp(e->d_name, "..") != 0)) {
        char p[600];
        snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
        if (unlink(p) != 0) rmdir(p);
      }
    closedir(d);
  }
  rmdir(tmpdir);
  return 0;
}

/* The fixture model: Sequential(Input(784), Dense(32, relu), Dense(10, softmax)), Adam. */
static kcb_model *fixture_model(const char *spec) {
  kcb_model *m = NULL;
  int64_t in = 784;
  assert_ok(kcb_model_new(&m, 1, &in, 1));
  assert_ok(kcb_model_add_from_spec(m, spec));
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
  c.loss = KCB_LOSS_CATEGORICAL_CROSSENTROPY;
  kcb_metric acc = KCB_METRIC_ACCURACY;
  c.metrics = &acc;
  c.n_metrics = 1;
  assert_ok(kcb_model_compile(m, &c));
  return m;
}

/* expected.json's fixed input: row0[i] = i/783; row1[i] = 0.5 + 0.5*cos(i). */
static kcb_tensor *fixed_input(void) {
  kcb_tensor *x = NULL;
  int64_t shape[2] = {2, 784};
  assert_ok(kcb_tensor_new(&x, 2, shape));
  for (int i = 0; i < 784; i++) {
    x->data[i] = (float)((double)i / 783.0);
    x->data[784 + i] = (float)(0.5 + 0.5 * cos((double)i));
  }
  return x;
}

static json_t *load_json_file(const char *path) {
  json_error_t e;
  json_t *j = json_load_file(path, 0, &e);
  if (!j) fail_msg("%s: %s", path, e.text);
  return j;
}

static void assert_predicts_expected(kcb_model *m, const char *what) {
  json_t *expected = load_json_file(data_path("expected.json"));
  json_t *rows = json_object_get(json_object_get(json_object_get(expected, "models"), "main"), "predictions");
  assert_int_equal(json_array_size(rows), 2);
  kcb_tensor *x = fixed_input(), *y = NULL;
  kcb_evaluate_options e = KCB_EVALUATE_OPTIONS_INIT;
  e.verbose = 0;
  assert_ok(kcb_model_predict(m, x, &e, &y));
  assert_int_equal(y->shape[1], 10);
  for (size_t r = 0; r < 2; r++)
    for (size_t k = 0; k < 10; k++) {
      double want = json_real_value(json_array_get(json_array_get(rows, r), k));
      double got = y->data[r * 10 + k];
      if (fabs(got - want) > 1e-6) fail_msg("%s: prediction [%zu][%zu] = %.9g, Keras gave %.9g", what, r, k, got, want);
    }
  kcb_tensor_free(x);
  kcb_tensor_free(y);
  json_decref(expected);
}

static void test_fixtures_load_and_predict(void **state) {
  (void)state;
  for (size_t i = 0; i < 4; i++) {
    kcb_model *m = fixture_model("32:relu,10:softmax");
    assert_ok(kcb_model_load_weights(m, data_path(fixtures[i]), NULL));
    assert_predicts_expected(m, fixtures[i]);
    kcb_model_free(m);
  }
}

static void test_fixtures_rebuild_model(void **state) {
  (void)state;
  const char *full[] = {"m.h5", "m.keras"};
  for (size_t i = 0; i < 2; i++) {
    kcb_model *m = NULL;
    assert_ok(kcb_model_load(&m, data_path(full[i]), NULL));
    assert_int_equal(kcb_model_layer_count(m), 2);
    assert_string_equal(kcb_model_layer_name(m, 0), "dense");
    assert_string_equal(kcb_model_layer_name(m, 1), "dense_1");
    assert_int_equal(m->loss, KCB_LOSS_CATEGORICAL_CROSSENTROPY);
    assert_int_equal(m->opt.o.kind, KCB_OPT_ADAM);
    assert_int_equal(m->n_metrics, 1);
    assert_string_equal(m->metric_names[0], "accuracy");
    assert_true(m->opt.learning_rate == 0.001f);
    assert_predicts_expected(m, full[i]);
    if (i == 1) {
      /* .keras restores Adam's moments: one step with grads 0.01 gives m = 0.001, v = 1e-7 */
      assert_int_equal(kcb_model_iterations(m), 1);
      size_t n = 0;
      float *slots = kcb_model_optimizer_slots(m, &n);
      assert_int_equal(n, 2 * kcb_model_param_count(m));
      for (size_t k = 0; k < kcb_model_param_count(m); k++) {
        assert_true(slots[k] == 0.001f);
        assert_true(slots[kcb_model_param_count(m) + k] == 1e-7f);
      }
    }
    kcb_model_free(m);
  }
  /* a weights-only file cannot rebuild a model */
  kcb_model *m = NULL;
  assert_error(kcb_model_load(&m, data_path("w.weights.h5"), NULL), KCB_EFORMAT, "No model config found");
  assert_null(m);
}

static void test_fixture_optimizer_state(void **state) {
  (void)state;
  const char *with_opt[] = {"m.h5", "w.weights.h5", "m.keras"};
  for (size_t i = 0; i < 3; i++) {
    kcb_model *m = fixture_model("32:relu,10:softmax");
    kcb_load_options o = KCB_LOAD_OPTIONS_INIT;
    o.optimizer = KCB_LOAD_OPTIMIZER_REQUIRE;
    assert_ok(kcb_model_load_weights(m, data_path(with_opt[i]), &o));
    assert_int_equal(kcb_model_iterations(m), 1);
    size_t n = 0, p = kcb_model_param_count(m);
    float *slots = kcb_model_optimizer_slots(m, &n);
    for (size_t k = 0; k < p; k++) assert_true(slots[k] == 0.001f && slots[p + k] == 1e-7f);
    kcb_model_free(m);
  }
  /* the legacy weights-only file has none: REQUIRE fails, the default keeps the fresh state */
  kcb_model *m = fixture_model("32:relu,10:softmax");
  kcb_load_options o = KCB_LOAD_OPTIONS_INIT;
  o.optimizer = KCB_LOAD_OPTIMIZER_REQUIRE;
  assert_error(kcb_model_load_weights(m, data_path("w_legacy.h5"), &o), KCB_ESHAPE, "saved optimizer has 0 variables");
  assert_ok(kcb_model_load_weights(m, data_path("w_legacy.h5"), NULL));
  assert_int_equal(kcb_model_iterations(m), 0);
  /* an SGD model skips Adam's state (Keras warns) or fails when asked to require it */
  kcb_model *sgd = NULL;
  int64_t in = 784;
  assert_ok(kcb_model_new(&sgd, 1, &in, 1));
  assert_ok(kcb_model_add_from_spec(sgd, "32:relu,10:softmax"));
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_SGD);
  c.optimizer.momentum = 0.9;
  c.loss = KCB_LOSS_MEAN_SQUARED_ERROR;
  assert_ok(kcb_model_compile(sgd, &c));
  assert_ok(kcb_model_load_weights(sgd, data_path("w.weights.h5"), NULL));
  assert_int_equal(kcb_model_iterations(sgd), 0);
  assert_error(kcb_model_load_weights(sgd, data_path("w.weights.h5"), &o), KCB_ESHAPE, "'adam'");
  kcb_model_free(sgd);
  kcb_model_free(m);
  /* RMSprop with momentum and centered RMSprop keep as many variables: the file's settings tell
   * them apart (a .keras and a full .h5; a weights-only store says nothing) */
  kcb_model *rms[2];
  c.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  for (int k = 0; k < 2; k++) {
    assert_ok(kcb_model_new(&rms[k], 1, &in, 1));
    assert_ok(kcb_model_add_from_spec(rms[k], "4:relu,10:softmax"));
    c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_RMSPROP);
    if (k) c.optimizer.centered = 1;
    else c.optimizer.momentum = 0.9;
    assert_ok(kcb_model_compile(rms[k], &c));
  }
  float xs[784 * 2] = {0}, ys[2] = {1, 2};
  int64_t xshape[2] = {2, 784}, yshape[2] = {2, 1};
  kcb_tensor x = {xs, 2, {xshape[0], xshape[1]}, 0}, y = {ys, 2, {yshape[0], yshape[1]}, 0};
  kcb_fit_options fo = KCB_FIT_OPTIONS_INIT;
  fo.verbose = 0;
  assert_ok(kcb_model_fit(rms[0], &x, &y, &fo, NULL));
  const char *layouts[] = {"rms_momentum.keras", "rms_momentum.h5"};
  for (int i = 0; i < 2; i++) {
    assert_ok(kcb_model_save(rms[0], tmp_path(layouts[i]), NULL));
    assert_error(kcb_model_load_weights(rms[1], tmp_path(layouts[i]), &o), KCB_ESHAPE,
                 "saved RMSprop state is for momentum > 0 and centered false, the model's RMSprop has momentum 0 and "
                 "centered true");
    assert_int_equal(kcb_model_iterations(rms[1]), 0);
    assert_ok(kcb_model_load_weights(rms[0], tmp_path(layouts[i]), &o)); /* the same settings load */
  }
  kcb_model_free(rms[0]);
  kcb_model_free(rms[1]);
}

/* Removes every "shared_object_id" (Keras's serialization bookkeeping) from a JSON tree. */
static void strip_shared_ids(json_t *j) {
  if (json_is_object(j)) {
    json_object_del(j, "shared_object_id");
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v) strip_shared_ids(v);
  } else if (json_is_array(j)) {
    for (size_t i = 0; i < json_array_size(j); i++) strip_shared_ids(json_array_get(j, i));
  }
}

static void assert_json_equal(const char *ours, json_t *theirs, const char *what) {
  json_t *j = json_loads(ours, 0, NULL);
  assert_non_null(j);
  strip_shared_ids(theirs);
  if (!json_equal(j, theirs)) {
    char *t = json_dumps(theirs, JSON_COMPACT);
    fail_msg("%s differs from Keras's:\n ours:  %s\n keras: %s", what, ours, t);
  }
  json_decref(j);
}

static char *h5_string_attr(const char *path, const char *name) {
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t a = H5Aopen(f, name, H5P_DEFAULT), t = H5Aget_type(a);
  char *v = NULL;
  assert_true(H5Aread(a, t, &v) >= 0);
  char *copy = strdup(v);
  H5free_memory(v);
  H5Tclose(t);
  H5Aclose(a);
  H5Fclose(f);
  return copy;
}

/* kcb's configs for the fixture model are Keras 3.15.1's, field for field. */
static void test_config_json_equals_keras(void **state) {
  (void)state;
  kcb_model *m = fixture_model("32:relu,10:softmax");
  char *ours = NULL, *theirs = h5_string_attr(data_path("m.h5"), "model_config");
  assert_ok(kcb__model_config_json_legacy(m, &ours));
  json_t *j = json_loads(theirs, 0, NULL);
  assert_json_equal(ours, j, "legacy model_config");
  json_decref(j);
  free(ours);
  free(theirs);
  theirs = h5_string_attr(data_path("m.h5"), "training_config");
  assert_ok(kcb__training_config_json(m, &ours));
  j = json_loads(theirs, 0, NULL);
  assert_json_equal(ours, j, "training_config");
  /* and in json.dumps's own text: its separators, and floats as repr() writes them (0.9, 1e-07) */
  assert_string_equal(ours, theirs);
  json_decref(j);
  free(ours);
  free(theirs);
  /* config.json of the .keras archive (read here with unzip's independent parser) */
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "unzip -p '%s' config.json > '%s'", data_path("m.keras"), tmp_path("config.json"));
  assert_int_equal(system(cmd), 0);
  j = load_json_file(tmp_path("config.json"));
  assert_ok(kcb__model_config_json(m, &ours));
  assert_json_equal(ours, j, "config.json");
  json_decref(j);
  free(ours);
  kcb_model_free(m);
}

/* A small trained model with every kind of layer and an optimizer with all its slots. */
static kcb_model *trained_model(kcb_optimizer_kind kind, int variant, kcb_tensor **px, kcb_tensor **py) {
  kcb_model *m = NULL;
  int64_t in[2] = {3, 4};
  assert_ok(kcb_model_new(&m, 2, in, 7));
  assert_ok(kcb_model_add_from_spec(m, "flatten,16:tanh,dropout:0.25,8,relu,3:softmax"));
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(kind);
  c.optimizer.learning_rate = 0.01;
  c.optimizer.momentum = variant ? 0.5 : 0.0;
  c.optimizer.centered = variant;
  c.optimizer.amsgrad = variant;
  c.optimizer.nesterov = variant;
  c.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  kcb_metric acc = KCB_METRIC_ACCURACY;
  c.metrics = &acc;
  c.n_metrics = 1;
  assert_ok(kcb_model_compile(m, &c));
  int64_t xs[3] = {40, 3, 4}, ys[1] = {40};
  assert_ok(kcb_tensor_new(px, 3, xs));
  assert_ok(kcb_tensor_new(py, 1, ys));
  for (int i = 0; i < 40 * 12; i++) (*px)->data[i] = (float)sin(i * 0.37);
  for (int i = 0; i < 40; i++) (*py)->data[i] = (float)(i % 3);
  kcb_fit_options f = KCB_FIT_OPTIONS_INIT;
  f.epochs = 2;
  f.batch_size = 8;
  f.verbose = 0;
  assert_ok(kcb_model_fit(m, *px, *py, &f, NULL));
  return m;
}

static void fit_epochs(kcb_model *m, kcb_tensor *x, kcb_tensor *y, int epochs) {
  kcb_fit_options f = KCB_FIT_OPTIONS_INIT;
  f.epochs = epochs;
  f.batch_size = 8;
  f.verbose = 0;
  assert_ok(kcb_model_fit(m, x, y, &f, NULL));
}

static void assert_same_state(kcb_model *a, kcb_model *b) {
  assert_int_equal(kcb_model_param_count(a), kcb_model_param_count(b));
  assert_memory_equal(a->params, b->params, a->n_params * sizeof(float));
  size_t na = 0, nb = 0;
  float *sa = kcb_model_optimizer_slots(a, &na), *sb = kcb_model_optimizer_slots(b, &nb);
  assert_int_equal(na, nb);
  if (na) assert_memory_equal(sa, sb, na * sizeof(float));
  assert_int_equal(kcb_model_iterations(a), kcb_model_iterations(b));
  assert_true(kcb_model_learning_rate(a) == kcb_model_learning_rate(b));
}

/* Save, reload into a fresh model, continue training: both runs stay bit-identical. */
static void test_round_trip_all_layouts_and_optimizers(void **state) {
  (void)state;
  const char *names[] = {"rt.weights.h5", "rt.h5", "rt.keras", "rt_legacy.h5"};
  const kcb_checkpoint_layout layouts[] = {KCB_LAYOUT_AUTO, KCB_LAYOUT_AUTO, KCB_LAYOUT_AUTO, KCB_LAYOUT_LEGACY_WEIGHTS_H5};
  for (int kind = 0; kind < KCB_OPT_COUNT; kind++)
    for (int variant = 0; variant < 2; variant++)
      for (size_t f = 0; f < 4; f++) {
        kcb_tensor *x, *y;
        kcb_model *a = trained_model((kcb_optimizer_kind)kind, variant, &x, &y);
        assert_ok(kcb_model_set_learning_rate(a, 0.0075));
        kcb_save_options so = KCB_SAVE_OPTIONS_INIT;
        so.layout = layouts[f];
        assert_ok(kcb_model_save(a, tmp_path(names[f]), &so));
        kcb_model *b = NULL;
        if (f == 1 || f == 2) {
          assert_ok(kcb_model_load(&b, tmp_path(names[f]), NULL));
          char *ca = NULL, *cb = NULL;
          assert_ok(kcb__model_config_json(a, &ca));
          assert_ok(kcb__model_config_json(b, &cb));
          assert_string_equal(ca, cb);
          free(ca);
          free(cb);
        } else {
          kcb_tensor *x2, *y2;
          b = trained_model((kcb_optimizer_kind)kind, variant, &x2, &y2);
          fit_epochs(b, x2, y2, 1); /* different state, to be overwritten */
          kcb_tensor_free(x2);
          kcb_tensor_free(y2);
          assert_ok(kcb_model_load_weights(b, tmp_path(names[f]), NULL));
        }
        if (f == 3) {
          /* the legacy weights-only layout holds no optimizer state */
          assert_memory_equal(a->params, b->params, a->n_params * sizeof(float));
        } else {
          assert_same_state(a, b);
          fit_epochs(a, x, y, 2);
          fit_epochs(b, x, y, 2);
          assert_same_state(a, b);
        }
        kcb_model_free(a);
        kcb_model_free(b);
        kcb_tensor_free(x);
        kcb_tensor_free(y);
      }
}

static void test_weights_override_and_metadata(void **state) {
  (void)state;
  kcb_tensor *x, *y;
  kcb_model *m = trained_model(KCB_OPT_ADAM, 0, &x, &y);
  size_t n = kcb_model_param_count(m);
  float *best = malloc(n * sizeof *best);
  for (size_t i = 0; i < n; i++) best[i] = (float)i * 0.001f;
  const char *files[] = {"meta.weights.h5", "meta.h5", "meta.keras"};
  for (size_t f = 0; f < 3; f++) {
    kcb_save_options so = KCB_SAVE_OPTIONS_INIT;
    so.weights = best;
    so.monitor = "val_loss";
    so.monitor_value = 0.125;
    so.epoch = 4;
    so.batch = 17;
    assert_ok(kcb_model_save(m, tmp_path(files[f]), &so));
    kcb_checkpoint_info info;
    assert_ok(kcb_checkpoint_info_read(&info, tmp_path(files[f])));
    assert_int_equal(info.layout, (int)f == 0 ? KCB_LAYOUT_WEIGHTS_H5 : f == 1 ? KCB_LAYOUT_H5 : KCB_LAYOUT_KERAS);
    assert_int_equal(info.n_layers, 3);
    assert_int_equal(info.n_weights, 6);
    assert_int_equal(info.n_params, n);
    assert_int_equal(info.n_optimizer_vars, 2 + 2 * 6);
    assert_int_equal(info.iterations, kcb_model_iterations(m));
    assert_true(info.has_monitor);
    assert_string_equal(info.monitor, "val_loss");
    assert_true(info.monitor_value == 0.125);
    assert_int_equal(info.epoch, 4);
    assert_int_equal(info.batch, 17);
    assert_string_equal(info.kcb_version, kcb_version_string());
    assert_int_equal(info.has_config, f != 0);
    assert_int_equal(info.has_training_config, f != 0);
    kcb_tensor *x2, *y2;
    kcb_model *b = trained_model(KCB_OPT_ADAM, 0, &x2, &y2);
    assert_ok(kcb_model_load_weights(b, tmp_path(files[f]), NULL));
    assert_memory_equal(b->params, best, n * sizeof(float));
    kcb_model_free(b);
    kcb_tensor_free(x2);
    kcb_tensor_free(y2);
  }
  /* without metadata, nothing is claimed */
  kcb_save_options plain = KCB_SAVE_OPTIONS_INIT;
  plain.include_optimizer = 0;
  assert_ok(kcb_model_save(m, tmp_path("plain.weights.h5"), &plain));
  kcb_checkpoint_info info;
  assert_ok(kcb_checkpoint_info_read(&info, tmp_path("plain.weights.h5")));
  assert_false(info.has_monitor);
  assert_int_equal(info.epoch, -1);
  assert_int_equal(info.n_optimizer_vars, 0);
  free(best);
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

static void test_fixture_info(void **state) {
  (void)state;
  const kcb_checkpoint_layout want[] = {KCB_LAYOUT_H5, KCB_LAYOUT_LEGACY_WEIGHTS_H5, KCB_LAYOUT_WEIGHTS_H5, KCB_LAYOUT_KERAS};
  for (size_t i = 0; i < 4; i++) {
    kcb_checkpoint_info info;
    assert_ok(kcb_checkpoint_info_read(&info, data_path(fixtures[i])));
    assert_int_equal(info.layout, want[i]);
    assert_int_equal(info.n_layers, 2);
    assert_int_equal(info.n_weights, 4);
    assert_int_equal(info.n_params, 784 * 32 + 32 + 32 * 10 + 10);
    assert_int_equal(info.n_optimizer_vars, i == 1 ? 0 : 10);
    assert_int_equal(info.iterations, i == 1 ? -1 : 1);
    assert_false(info.has_monitor);
    assert_string_equal(info.kcb_version, "");
    assert_string_equal(info.keras_version, i == 2 ? "" : "3.15.1");
    assert_int_equal(info.has_config, i == 0 || i == 3);
  }
}

static void test_layout_by_name(void **state) {
  (void)state;
  kcb_checkpoint_layout l;
  assert_ok(kcb_checkpoint_layout_from_name(&l, "a/b.weights.h5"));
  assert_int_equal(l, KCB_LAYOUT_WEIGHTS_H5);
  assert_ok(kcb_checkpoint_layout_from_name(&l, "b.h5"));
  assert_int_equal(l, KCB_LAYOUT_H5);
  assert_ok(kcb_checkpoint_layout_from_name(&l, "b.hdf5"));
  assert_int_equal(l, KCB_LAYOUT_H5);
  assert_ok(kcb_checkpoint_layout_from_name(&l, "b.keras"));
  assert_int_equal(l, KCB_LAYOUT_KERAS);
  assert_error(kcb_checkpoint_layout_from_name(&l, "b.ckpt"), KCB_EINVAL, "b.ckpt");
  kcb_model *m = fixture_model("4,2");
  kcb_save_options so = KCB_SAVE_OPTIONS_INIT;
  so.layout = KCB_LAYOUT_WEIGHTS_H5;
  assert_error(kcb_model_save(m, tmp_path("x.h5"), &so), KCB_EINVAL, "must end in .weights.h5");
  so.layout = KCB_LAYOUT_LEGACY_WEIGHTS_H5; /* Keras's load_weights would read the name as its store */
  assert_error(kcb_model_save(m, tmp_path("x.weights.h5"), &so), KCB_EINVAL, "not .weights.h5");
  so.layout = KCB_LAYOUT_H5; /* Keras's model.save("x.weights.h5") writes its legacy full model */
  assert_error(kcb_model_save(m, tmp_path("x.weights"), &so), KCB_EINVAL, "needs a name ending in .h5");
  assert_ok(kcb_model_save(m, tmp_path("full.weights.h5"), &so));
  kcb_checkpoint_info full;
  assert_ok(kcb_checkpoint_info_read(&full, tmp_path("full.weights.h5")));
  assert_int_equal(full.layout, KCB_LAYOUT_H5);
  assert_error(kcb_model_save(m, tmp_path("x.bin"), NULL), KCB_EINVAL, "cannot tell the layout");
  /* the layout is read from the content, not the name */
  assert_ok(kcb_model_save(m, tmp_path("renamed.weights.h5"), NULL));
  assert_int_equal(rename(tmp_path("renamed.weights.h5"), tmp_path("renamed.h5")), 0);
  kcb_checkpoint_info info;
  assert_ok(kcb_checkpoint_info_read(&info, tmp_path("renamed.h5")));
  assert_int_equal(info.layout, KCB_LAYOUT_WEIGHTS_H5);
  assert_ok(kcb_model_load_weights(m, tmp_path("renamed.h5"), NULL));
  kcb_model_free(m);
  kcb_model *u = NULL;
  int64_t in = 3;
  assert_ok(kcb_model_new(&u, 1, &in, 0));
  assert_ok(kcb_model_add_from_spec(u, "2"));
  assert_error(kcb_model_save(u, tmp_path("u.weights.h5"), NULL), KCB_ESTATE, "not compiled");
  kcb_model_free(u);
}

static void test_mismatch_errors(void **state) {
  (void)state;
  for (size_t i = 0; i < 4; i++) {
    const char *f = data_path(fixtures[i]);
    int legacy = i < 2;
    kcb_model *m = fixture_model("32:relu,10:softmax,10");
    /* the model is left unchanged on error */
    float *before = malloc(m->n_params * sizeof(float));
    memcpy(before, m->params, m->n_params * sizeof(float));
    assert_error(kcb_model_load_weights(m, f, NULL), KCB_ESHAPE,
                 legacy ? "Layer count mismatch when loading weights from file. Model expected 3 layers, found 2 saved layers." : "dense_2");
    assert_memory_equal(before, m->params, m->n_params * sizeof(float));
    assert_non_null(strstr(kcb_error_last(), fixtures[i]));
    free(before);
    kcb_model_free(m);

    m = fixture_model("64:relu,10:softmax");
    assert_error(kcb_model_load_weights(m, f, NULL), KCB_ESHAPE, legacy ? "Weight expects shape (784, 64). Received saved weight with shape (784, 32)"
                                                                        : "variable.shape=(784, 64), Received: value.shape=(784, 32)");
    assert_non_null(strstr(kcb_error_last(), "dense"));
    assert_non_null(strstr(kcb_error_last(), fixtures[i]));
    kcb_model_free(m);

    kcb_model *nb = NULL;
    int64_t in = 784;
    assert_ok(kcb_model_new(&nb, 1, &in, 0));
    kcb_dense_options d = KCB_DENSE_OPTIONS_INIT;
    d.units = 32;
    d.use_bias = 0;
    assert_ok(kcb_model_add_dense(nb, &d));
    assert_ok(kcb_model_add_from_spec(nb, "10:softmax"));
    kcb_compile_options c = {0};
    c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
    assert_ok(kcb_model_compile(nb, &c));
    assert_error(kcb_model_load_weights(nb, f, NULL), KCB_ESHAPE,
                 legacy ? "Weight count mismatch for layer #0 (named dense in the current model, dense in the save file). Layer expects 1 weight(s). Received 2 saved weight(s)"
                        : "Layer 'dense' expected 1 variables, but received 2 variables");
    kcb_model_free(nb);
  }
}

static void copy_prefix(const char *from, const char *to, long keep) {
  FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
  assert_non_null(in);
  assert_non_null(out);
  int ch;
  long n = 0;
  while ((keep < 0 || n < keep) && (ch = fgetc(in)) != EOF) {
    fputc(ch, out);
    n++;
  }
  fclose(in);
  fclose(out);
}

static void scribble(const char *path, long offset, long len) {
  FILE *f = fopen(path, "r+b");
  assert_non_null(f);
  fseek(f, offset, SEEK_SET);
  for (long i = 0; i < len; i++) fputc(0xA5, f);
  fclose(f);
}

static void test_bad_files(void **state) {
  (void)state;
  kcb_model *m = fixture_model("32:relu,10:softmax");
  kcb_checkpoint_info info;
  assert_error(kcb_model_load_weights(m, tmp_path("missing.h5"), NULL), KCB_ENOENT, "missing.h5");
  /* not HDF5 at all */
  FILE *t = fopen(tmp_path("text.h5"), "w");
  fputs("this is not a checkpoint\n", t);
  fclose(t);
  assert_error(kcb_model_load_weights(m, tmp_path("text.h5"), NULL), KCB_EFORMAT, "text.h5: not an HDF5 file");
  assert_error(kcb_checkpoint_info_read(&info, tmp_path("text.h5")), KCB_EFORMAT, "not an HDF5 file");
  /* truncated: HDF5 notices the end of file is short */
  for (size_t i = 0; i < 3; i++) {
    char name[64];
    snprintf(name, sizeof name, "trunc_%s", fixtures[i]);
    copy_prefix(data_path(fixtures[i]), tmp_path(name), 60000);
    int rc = kcb_model_load_weights(m, tmp_path(name), NULL);
    if (rc != KCB_ETRUNC && rc != KCB_EFORMAT) fail_msg("%s -> %s: %s", name, kcb_error_name(rc), kcb_error_last());
    assert_non_null(strstr(kcb_error_last(), name));
    assert_non_null(strstr(kcb_error_last(), "truncated"));
  }
  /* a truncated .keras archive */
  copy_prefix(data_path("m.keras"), tmp_path("trunc.keras"), 100000);
  assert_error(kcb_model_load_weights(m, tmp_path("trunc.keras"), NULL), KCB_ETRUNC, "trunc.keras: a zip archive without its end");
  /* a model saved unzipped that lost its weights: said as Keras says it */
  assert_int_equal(mkdir(tmp_path("unzipped.keras"), 0755), 0);
  char config[600];
  snprintf(config, sizeof config, "%s/config.json", tmp_path("unzipped.keras"));
  FILE *cf = fopen(config, "w");
  assert_non_null(cf);
  fputs("{}", cf);
  fclose(cf);
  assert_error(kcb_model_load_weights(m, tmp_path("unzipped.keras"), NULL), KCB_EFORMAT,
               "unzipped.keras: a Keras model saved unzipped (a directory with config.json) without its weights");
  unlink(config);
  rmdir(tmp_path("unzipped.keras"));
  /* corrupt object headers in the middle of the file: an error, never a crash */
  copy_prefix(data_path("w.weights.h5"), tmp_path("corrupt.weights.h5"), -1);
  scribble(tmp_path("corrupt.weights.h5"), 96, 1800);
  int rc = kcb_model_load_weights(m, tmp_path("corrupt.weights.h5"), NULL);
  if (rc != KCB_EFORMAT && rc != KCB_ETRUNC) fail_msg("corrupt -> %s: %s", kcb_error_name(rc), kcb_error_last());
  assert_non_null(strstr(kcb_error_last(), "corrupt.weights.h5"));
  /* corrupt member data inside a .keras archive: the zip CRC catches it */
  copy_prefix(data_path("m.keras"), tmp_path("corrupt.keras"), -1);
  scribble(tmp_path("corrupt.keras"), 200000, 64);
  assert_error(kcb_model_load_weights(m, tmp_path("corrupt.keras"), NULL), KCB_EFORMAT, "corrupt.keras");
  /* a foreign (non-Keras) HDF5 file */
  hid_t f = H5Fcreate(tmp_path("foreign.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hsize_t dim = 3;
  hid_t s = H5Screate_simple(1, &dim, NULL);
  hid_t d = H5Dcreate2(f, "data", H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dclose(d);
  H5Sclose(s);
  H5Fclose(f);
  assert_error(kcb_model_load_weights(m, tmp_path("foreign.h5"), NULL), KCB_EFORMAT, "foreign.h5: an HDF5 file but not a Keras checkpoint");
  assert_error(kcb_checkpoint_info_read(&info, tmp_path("foreign.h5")), KCB_EFORMAT, "not a Keras checkpoint");
  kcb_model_free(m);
}

/* Keras 2 files written with h5py 2: fixed-length NULLPAD string lists, `dense/kernel:0` names. */
static void write_fixed_strings(hid_t obj, const char *name, const char *const *v, size_t n) {
  size_t width = 1;
  for (size_t i = 0; i < n; i++)
    if (strlen(v[i]) > width) width = strlen(v[i]);
  char *buf = calloc(n, width);
  for (size_t i = 0; i < n; i++) memcpy(buf + i * width, v[i], strlen(v[i]));
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, width);
  H5Tset_strpad(t, H5T_STR_NULLPAD);
  hsize_t dim = n;
  hid_t s = H5Screate_simple(1, &dim, NULL);
  hid_t a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
  assert_true(H5Awrite(a, t, buf) >= 0);
  H5Aclose(a);
  H5Sclose(s);
  H5Tclose(t);
  free(buf);
}

/* Keras 2 (tf-keras) model_config, spec §5.3: batch_input_shape, string dtypes, old initializers. */
static const char keras2_config[] =
    "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"sequential\", \"layers\": ["
    "{\"class_name\": \"InputLayer\", \"config\": {\"batch_input_shape\": [null, 784], \"dtype\": \"float32\","
    " \"sparse\": false, \"ragged\": false, \"name\": \"input_1\"}},"
    "{\"class_name\": \"Dense\", \"config\": {\"name\": \"dense\", \"trainable\": true, \"dtype\": \"float32\","
    " \"units\": 32, \"activation\": \"relu\", \"use_bias\": true,"
    " \"kernel_initializer\": {\"class_name\": \"GlorotUniform\", \"config\": {\"seed\": null}},"
    " \"bias_initializer\": {\"class_name\": \"Zeros\", \"config\": {}}, \"kernel_regularizer\": null,"
    " \"bias_regularizer\": null, \"activity_regularizer\": null, \"kernel_constraint\": null, \"bias_constraint\": null}},"
    "{\"class_name\": \"Dense\", \"config\": {\"name\": \"dense_1\", \"trainable\": true, \"dtype\": \"float32\","
    " \"units\": 10, \"activation\": \"softmax\", \"use_bias\": true}}]}}";

static void write_fixed_string(hid_t obj, const char *name, const char *v) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, strlen(v));
  H5Tset_strpad(t, H5T_STR_NULLPAD);
  hid_t s = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
  assert_true(H5Awrite(a, t, v) >= 0);
  H5Aclose(a);
  H5Sclose(s);
  H5Tclose(t);
}

/* A legacy weights group at `at` ("/" or "model_weights") with Keras-2 names and fixed strings. */
static void write_keras2_weights(hid_t f, const char *at) {
  kcb_model *src = fixture_model("32:relu,10:softmax");
  assert_ok(kcb_model_load_weights(src, data_path("w.weights.h5"), NULL));
  hid_t root = strcmp(at, "/") == 0 ? H5Gopen2(f, "/", H5P_DEFAULT) : H5Gcreate2(f, at, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const char *layers[] = {"dense", "dense_1"};
  write_fixed_strings(root, "layer_names", layers, 2);
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  for (size_t i = 0; i < 2; i++) {
    hid_t g = H5Gcreate2(root, layers[i], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    char k[64], b[64];
    snprintf(k, sizeof k, "%s/kernel:0", layers[i]);
    snprintf(b, sizeof b, "%s/bias:0", layers[i]);
    const char *names[] = {k, b};
    write_fixed_strings(g, "weight_names", names, 2);
    for (size_t w = 0; w < 2; w++) {
      kcb_weight_info info;
      assert_ok(kcb_model_weight(src, 2 * i + w, &info));
      hsize_t dims[2] = {(hsize_t)info.shape[0], (hsize_t)info.shape[1]};
      hid_t s = H5Screate_simple(info.rank, dims, NULL);
      hid_t d = H5Dcreate2(g, names[w], H5T_IEEE_F32BE, s, lcpl, H5P_DEFAULT, H5P_DEFAULT); /* big-endian: converted */
      assert_true(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, info.data) >= 0);
      H5Dclose(d);
      H5Sclose(s);
    }
    H5Gclose(g);
  }
  H5Pclose(lcpl);
  H5Gclose(root);
  kcb_model_free(src);
}

static void test_keras2_fixed_length_strings(void **state) {
  (void)state;
  hid_t f = H5Fcreate(tmp_path("keras2.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  write_keras2_weights(f, "/");
  H5Fclose(f);
  kcb_model *m = fixture_model("32:relu,10:softmax");
  assert_ok(kcb_model_load_weights(m, tmp_path("keras2.h5"), NULL));
  assert_predicts_expected(m, "keras2.h5");
  kcb_checkpoint_info info;
  assert_ok(kcb_checkpoint_info_read(&info, tmp_path("keras2.h5")));
  assert_int_equal(info.layout, KCB_LAYOUT_LEGACY_WEIGHTS_H5);
  assert_int_equal(info.n_weights, 4);

  /* weights listed in another order: the message names the model's weight and the file's apart */
  f = H5Fopen(tmp_path("keras2.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
  hid_t g = H5Gopen2(f, "dense", H5P_DEFAULT);
  H5Adelete(g, "weight_names");
  const char *swapped[] = {"dense/bias:0", "dense/kernel:0"};
  write_fixed_strings(g, "weight_names", swapped, 2);
  H5Gclose(g);
  H5Fclose(f);
  assert_error(kcb_model_load_weights(m, tmp_path("keras2.h5"), NULL), KCB_ESHAPE,
               "for weight sequential/dense/kernel (dense/dense/bias:0 in the file). Weight expects shape (784, 32). Received saved "
               "weight with shape (32,)");
  kcb_model_free(m);

  /* a Keras 2 full model: fixed-length model_config, no training_config */
  f = H5Fcreate(tmp_path("keras2_full.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  write_fixed_string(f, "model_config", keras2_config);
  write_fixed_string(f, "keras_version", "2.15.0");
  write_fixed_string(f, "backend", "tensorflow");
  write_keras2_weights(f, "model_weights");
  H5Fclose(f);
  m = NULL;
  assert_ok(kcb_model_load(&m, tmp_path("keras2_full.h5"), NULL));
  assert_int_equal(kcb_model_layer_count(m), 2);
  assert_string_equal(kcb_model_layer_class(m, 1), "Dense");
  assert_int_equal(m->opt.o.kind, KCB_OPT_RMSPROP); /* compile()'s default, as nothing was saved */
  assert_predicts_expected(m, "keras2_full.h5");
  assert_ok(kcb_checkpoint_info_read(&info, tmp_path("keras2_full.h5")));
  assert_int_equal(info.layout, KCB_LAYOUT_H5);
  assert_string_equal(info.keras_version, "2.15.0");
  assert_false(info.has_training_config);
  kcb_model_free(m);

  /* tf.keras 2.15's training_config (as in shared/fixtures/keras-zoo/cnn.k2.h5): metrics nested per
   * output as MeanMetricWrapper dicts, optimizer config with jit_compile and is_legacy_optimizer */
  static const char k2_training[] =
      "{\"loss\": \"categorical_crossentropy\", \"metrics\": [[{\"class_name\": \"MeanMetricWrapper\", \"config\": "
      "{\"name\": \"accuracy\", \"dtype\": \"float32\", \"fn\": \"categorical_accuracy\"}}]], \"weighted_metrics\": null, "
      "\"loss_weights\": null, \"optimizer_config\": {\"class_name\": \"Adam\", \"config\": {\"name\": \"Adam\", "
      "\"weight_decay\": null, \"clipnorm\": null, \"global_clipnorm\": null, \"clipvalue\": null, \"use_ema\": false, "
      "\"ema_momentum\": 0.99, \"ema_overwrite_frequency\": null, \"jit_compile\": true, \"is_legacy_optimizer\": false, "
      "\"learning_rate\": 0.0010000000474974513, \"beta_1\": 0.9, \"beta_2\": 0.999, \"epsilon\": 1e-07, \"amsgrad\": false}}}";
  static const struct {
    const char *training; /* NULL: k2_training */
    const char *error;    /* NULL: loads compiled */
  } k2_cases[] = {
      {NULL, NULL},
      /* Keras 2.2-2.4: short names, lr and a zero decay */
      {"{\"loss\": \"mse\", \"metrics\": [\"acc\", \"mae\"], \"optimizer_config\": {\"class_name\": \"RMSprop\", \"config\": "
       "{\"lr\": 0.01, \"rho\": 0.9, \"decay\": 0.0, \"epsilon\": 1e-07}}}", NULL},
      {"{\"loss\": {\"class_name\": \"CategoricalCrossentropy\", \"config\": {\"name\": \"categorical_crossentropy\", "
       "\"from_logits\": false}}, \"metrics\": [{\"class_name\": \"CategoricalAccuracy\", \"config\": {\"name\": \"cat_acc\"}}], "
       "\"optimizer_config\": {\"class_name\": \"Custom>Adam\", \"config\": {\"learning_rate\": 0.002}}}", NULL},
      {"{\"loss\": \"mse\", \"metrics\": [[{\"class_name\": \"MeanMetricWrapper\", \"config\": {\"name\": \"top5\", \"fn\": "
       "\"top_k_categorical_accuracy\"}}]], \"optimizer_config\": {\"class_name\": \"Adam\", \"config\": {}}}",
       "metric 'top5' (MeanMetricWrapper) is not one kcb implements"},
      {"{\"loss\": \"mse\", \"optimizer_config\": {\"class_name\": \"SGD\", \"config\": {\"lr\": 0.1, \"decay\": 0.01}}}",
       "optimizer SGD has decay=0.01"},
      {"{\"loss\": \"mse\", \"optimizer_config\": {\"class_name\": \"Adagrad\", \"config\": {}}}", "optimizer 'Adagrad' is not one"},
      {"{\"loss\": \"mse\", \"metrics\": [[\"acc\"], [\"acc\"]], \"optimizer_config\": {\"class_name\": \"SGD\", \"config\": {}}}",
       "metrics for 2 outputs"},
  };
  for (size_t c = 0; c < sizeof k2_cases / sizeof k2_cases[0]; c++) {
    f = H5Fcreate(tmp_path("k2_compiled.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    write_fixed_string(f, "model_config", keras2_config);
    write_fixed_string(f, "training_config", k2_cases[c].training ? k2_cases[c].training : k2_training);
    write_fixed_string(f, "keras_version", "2.15.0");
    write_keras2_weights(f, "model_weights");
    H5Fclose(f);
    m = NULL;
    if (k2_cases[c].error) {
      assert_error(kcb_model_load(&m, tmp_path("k2_compiled.h5"), NULL), KCB_EFORMAT, k2_cases[c].error);
      /* the weights still load without compiling */
      kcb_load_options lo = KCB_LOAD_OPTIONS_INIT;
      lo.compile = 0;
      assert_ok(kcb_model_load(&m, tmp_path("k2_compiled.h5"), &lo));
    } else {
      assert_ok(kcb_model_load(&m, tmp_path("k2_compiled.h5"), NULL));
      if (c == 0) {
        assert_int_equal(m->opt.o.kind, KCB_OPT_ADAM);
        assert_true(fabs(m->opt.o.learning_rate - 0.001) < 1e-9);
        assert_int_equal(m->n_metrics, 1);
        assert_int_equal(m->metrics[0], KCB_METRIC_CATEGORICAL_ACCURACY);
        assert_string_equal(m->metric_names[0], "accuracy");
      } else if (c == 1) {
        assert_int_equal(m->opt.o.kind, KCB_OPT_RMSPROP);
        assert_true(fabs(m->opt.o.learning_rate - 0.01) < 1e-9);
        assert_int_equal(m->n_metrics, 2);
        assert_string_equal(m->metric_names[0], "acc");
        assert_int_equal(m->metrics[1], KCB_METRIC_MEAN_ABSOLUTE_ERROR);
      } else {
        assert_int_equal(m->metrics[0], KCB_METRIC_CATEGORICAL_ACCURACY);
        assert_string_equal(m->metric_names[0], "cat_acc");
        assert_true(fabs(m->opt.o.learning_rate - 0.002) < 1e-9);
      }
    }
    assert_predicts_expected(m, "k2_compiled.h5");
    kcb_model_free(m);
  }

  /* a layer kcb does not implement, and a config that is not JSON */
  f = H5Fcreate(tmp_path("conv.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  write_fixed_string(f, "model_config",
                     "{\"class_name\": \"Sequential\", \"config\": {\"layers\": [{\"class_name\": \"InputLayer\", "
                     "\"config\": {\"batch_input_shape\": [null, 8, 8]}}, {\"class_name\": \"LSTM\", \"config\": "
                     "{\"name\": \"lstm\", \"units\": 4}}]}}");
  H5Fclose(f);
  assert_error(kcb_model_load(&m, tmp_path("conv.h5"), NULL), KCB_EFORMAT, "conv.h5: layer 'lstm' is of class LSTM, which kcb does not implement");
  f = H5Fcreate(tmp_path("badjson.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  write_fixed_string(f, "model_config", "{\"class_name\": ");
  H5Fclose(f);
  assert_error(kcb_model_load(&m, tmp_path("badjson.h5"), NULL), KCB_EFORMAT, "badjson.h5: the model config is not JSON (line 1: ");
  assert_null(m);
  f = H5Fcreate(tmp_path("arrayjson.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  write_fixed_string(f, "model_config", "[1, 2, 3]");
  H5Fclose(f);
  assert_error(kcb_model_load(&m, tmp_path("arrayjson.h5"), NULL), KCB_EFORMAT, "arrayjson.h5: the model config is an array in JSON, not an object");
  assert_null(m);
  /* a valid config without weights */
  f = H5Fcreate(tmp_path("noweights.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  write_fixed_string(f, "model_config", keras2_config);
  H5Fclose(f);
  assert_error(kcb_model_load(&m, tmp_path("noweights.h5"), NULL), KCB_EFORMAT, "noweights.h5: no group 'model_weights'");
  assert_ok(kcb_checkpoint_info_read(&info, tmp_path("noweights.h5")));
  assert_int_equal(info.n_weights, 0);
}

static int count_dir_entries(void) {
  DIR *d = opendir(tmpdir);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
  closedir(d);
  return n;
}

static void test_atomic_write(void **state) {
  (void)state;
  kcb_model *small = fixture_model("8,2");
  kcb_model *big = fixture_model("256:relu,10:softmax");
  const char *files[] = {"atomic.weights.h5", "atomic.h5", "atomic.keras"};
  for (size_t f = 0; f < 3; f++) {
    const char *path = tmp_path(files[f]);
    assert_ok(kcb_model_save(small, path, NULL));
    struct stat before;
    assert_int_equal(stat(path, &before), 0);
    int entries = count_dir_entries();
    /* A file-size limit makes write() fail part-way (EFBIG), as a full disk would. */
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 200000;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = kcb_model_save(big, path, NULL);
    setrlimit(RLIMIT_FSIZE, &old);
    assert_true(rc < 0);
    assert_non_null(strstr(kcb_error_last(), files[f]));
    if (!strstr(kcb_error_last(), "File too large")) fail_msg("message: %s", kcb_error_last());
    struct stat after;
    assert_int_equal(stat(path, &after), 0);
    assert_int_equal(before.st_size, after.st_size);
    assert_int_equal(before.st_ino, after.st_ino);
    assert_int_equal(count_dir_entries(), entries); /* no temporary file left behind */
    kcb_model *check = fixture_model("8,2");
    assert_ok(kcb_model_load_weights(check, path, NULL));
    assert_memory_equal(check->params, small->params, small->n_params * sizeof(float));
    kcb_model_free(check);
  }
  /* bad paths */
  assert_error(kcb_model_save(small, "/nonexistent-dir/x.weights.h5", NULL), KCB_ENOENT, "/nonexistent-dir/x.weights.h5");
  assert_int_equal(mkdir(tmp_path("adir.weights.h5"), 0755), 0);
  assert_error(kcb_model_save(small, tmp_path("adir.weights.h5"), NULL), KCB_EINVAL, "adir.weights.h5: cannot save: the name is a directory");
  rmdir(tmp_path("adir.weights.h5"));
  if (geteuid() != 0) {
    /* a read-only directory (root ignores permissions, so only as a normal user) */
    assert_int_equal(mkdir(tmp_path("ro"), 0555), 0);
    assert_error(kcb_model_save(small, tmp_path("ro/x.weights.h5"), NULL), KCB_EIO, "creating a temporary file");
    rmdir(tmp_path("ro"));
  }
  kcb_model_free(small);
  kcb_model_free(big);
}

/* Saving writes where open() would: through a symbolic link (the link stays, its target gets the
 * file, with the permissions it had), through a dangling one (the file it names is made), and
 * under a name as long as the file system allows (the temporary's name is cut to fit). */
static void test_save_through_links_and_long_names(void **state) {
  (void)state;
  kcb_model *small = fixture_model("8,2"), *big = fixture_model("16,2");
  char real[512], link[512], dangling[512], made[512];
  snprintf(real, sizeof real, "%s", tmp_path("real.keras"));
  snprintf(link, sizeof link, "%s", tmp_path("link.keras"));
  assert_ok(kcb_model_save(small, real, NULL));
  assert_int_equal(chmod(real, 0640), 0);
  assert_int_equal(symlink("real.keras", link), 0);
  int entries = count_dir_entries();
  assert_ok(kcb_model_save(big, link, NULL));
  struct stat st;
  assert_int_equal(lstat(link, &st), 0);
  assert_true(S_ISLNK(st.st_mode));
  assert_int_equal(stat(real, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0640);
  assert_int_equal(count_dir_entries(), entries);
  kcb_model *back = NULL;
  assert_ok(kcb_model_load(&back, real, NULL));
  assert_int_equal(kcb_model_param_count(back), kcb_model_param_count(big));
  kcb_model_free(back);

  snprintf(dangling, sizeof dangling, "%s", tmp_path("dangling.weights.h5"));
  snprintf(made, sizeof made, "%s", tmp_path("made.weights.h5"));
  assert_int_equal(symlink("made.weights.h5", dangling), 0);
  assert_ok(kcb_model_save(small, dangling, NULL));
  assert_int_equal(lstat(dangling, &st), 0);
  assert_true(S_ISLNK(st.st_mode));
  assert_int_equal(lstat(made, &st), 0);
  assert_true(S_ISREG(st.st_mode));

  char name[256];
  memset(name, 'n', sizeof name);
  snprintf(name + 255 - strlen(".weights.h5"), 64, ".weights.h5"); /* 255 bytes: NAME_MAX */
  entries = count_dir_entries();
  if (kcb_model_save(small, tmp_path(name), NULL)) fail_msg("%s", kcb_error_last());
  assert_int_equal(count_dir_entries(), entries + 1);
  kcb_model *read = fixture_model("8,2");
  assert_ok(kcb_model_load_weights(read, tmp_path(name), NULL));
  assert_memory_equal(read->params, small->params, small->n_params * sizeof(float));
  kcb_model_free(read);
  /* two long names sharing their first 240 bytes have temporaries of their own: a stale one of
   * the second is not the first's to remove */
  char other[256];
  memcpy(other, name, sizeof other);
  other[240] = 'm';
  char foreign[240];
  snprintf(foreign, sizeof foreign, ".%.223s.tmp-1-0", other); /* its start, as a plain cut would name both */
  FILE *ff = fopen(tmp_path(foreign), "w");
  assert_non_null(ff);
  fclose(ff);
  kcb_file_remove_stale_temps(tmp_path(name));
  assert_int_equal(access(tmp_path(foreign), F_OK), 0);
  unlink(tmp_path(foreign));

  /* a FIFO or device, named or linked to, is never replaced by a file (a link to /dev/null) */
  char fifo[512], to_fifo[512];
  snprintf(fifo, sizeof fifo, "%s", tmp_path("pipe.weights.h5"));
  snprintf(to_fifo, sizeof to_fifo, "%s", tmp_path("to_pipe.weights.h5"));
  assert_int_equal(mkfifo(fifo, 0600), 0);
  assert_int_equal(symlink("pipe.weights.h5", to_fifo), 0);
  assert_error(kcb_model_save(small, fifo, NULL), KCB_EINVAL, "is a FIFO, not a regular file");
  assert_error(kcb_model_save(small, to_fifo, NULL), KCB_EINVAL, "pipe.weights.h5 is a FIFO, not a regular file");
  assert_int_equal(lstat(fifo, &st), 0);
  assert_true(S_ISFIFO(st.st_mode));
  /* a loop of links fails as open() does, instead of replacing one of them */
  char loop_a[512], loop_b[512];
  snprintf(loop_a, sizeof loop_a, "%s", tmp_path("loop_a.keras"));
  snprintf(loop_b, sizeof loop_b, "%s", tmp_path("loop_b.keras"));
  assert_int_equal(symlink("loop_b.keras", loop_a), 0);
  assert_int_equal(symlink("loop_a.keras", loop_b), 0);
  assert_error(kcb_model_save(small, loop_a, NULL), KCB_EINVAL, "too many levels of symbolic links");
  assert_int_equal(lstat(loop_b, &st), 0);
  assert_true(S_ISLNK(st.st_mode));
  /* a replaced file keeps its permissions, but not setuid / setgid bits */
  assert_int_equal(chmod(real, 04750), 0);
  assert_ok(kcb_model_save(small, real, NULL));
  assert_int_equal(stat(real, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0750);
  kcb_model_free(small);
  kcb_model_free(big);
}

/* A LayerNormalization without center and scale has no weights: its model converts between the
 * full-model layouts (Keras leaves weightless layers out of the matching) */
static void test_weightless_layer_norm_converts(void **state) {
  (void)state;
  kcb_model *m = NULL;
  int64_t shape[1] = {4};
  assert_ok(kcb_model_new(&m, 1, shape, 1));
  kcb_batch_normalization_options ln = KCB_BATCH_NORMALIZATION_OPTIONS_INIT;
  ln.center = 0, ln.scale = 0;
  assert_ok(kcb_model_add_layer_normalization(m, &ln));
  assert_ok(kcb_model_add_from_spec(m, "2"));
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
  c.loss = KCB_LOSS_MEAN_SQUARED_ERROR;
  assert_ok(kcb_model_compile(m, &c));
  char from[512], to[512];
  snprintf(from, sizeof from, "%s", tmp_path("ln.keras"));
  snprintf(to, sizeof to, "%s", tmp_path("ln_out.h5"));
  assert_ok(kcb_model_save(m, from, NULL));
  kcb_checkpoint_file *f = NULL;
  assert_ok(kcb_checkpoint_file_open(&f, from));
  if (kcb_checkpoint_file_write(f, to, KCB_LAYOUT_AUTO, NULL)) fail_msg("%s", kcb_error_last());
  kcb_checkpoint_file_close(f);
  kcb_model_free(m);
}

/* Every full model of the zoo (tests/data/zoo, written by Keras 3.15.1 and tf.keras 2 layouts):
 * kcb_model_load rebuilds it and it predicts as Keras did, or -- for a layer or model class kcb does
 * not implement -- it fails with KCB_EFORMAT naming that layer or class. Weights-only files then
 * load into the rebuilt model with the same predictions. */
/* The state of one optimizer under every name Keras gives it (3.15's "rm_sprop", "adam_w_2",
 * "adam_1"; 3.14's "rmsprop", "SGD") loads into the model its config rebuilds, in every layout;
 * another optimizer refuses it; kcb writes 3.15's names. Mixed precision (mixed.*) among them:
 * Keras wraps Adam in a LossScaleOptimizer, whose own variables (step counter, dynamic scale) come
 * before Adam's; kcb trains in float32, so the state it resumes is the inner Adam's. Each slot's
 * sum is compared with the file's (expected.json, from make.py). */
static void test_optimizer_state_under_keras_names(void **state) {
  (void)state;
  char path[1024];
  snprintf(path, sizeof path, "%s/../zoo-synth/expected.json", KCB_SAVING_DATA);
  json_t *root = load_json_file(path), *exp = json_object_get(root, "files");
  static const struct {
    const char *tag, *saved_name, *slots[2];
    kcb_optimizer_kind kind;
  } cases[] = {{"dense_rmsprop", "rm_sprop", {"velocity", "momentum"}, KCB_OPT_RMSPROP},
               {"dense_rmsprop_k314", "rmsprop", {"velocity", "momentum"}, KCB_OPT_RMSPROP},
               {"dense_adamw_2", "adam_w_2", {"momentum", "velocity"}, KCB_OPT_ADAMW},
               {"dense_sgd_k314", "SGD", {"momentum", NULL}, KCB_OPT_SGD},
               {"dense_adam_1", "adam_1", {"momentum", "velocity"}, KCB_OPT_ADAM},
               {"mixed", "adam", {"momentum", "velocity"}, KCB_OPT_ADAM}};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    char key[64];
    snprintf(key, sizeof key, "%s.h5", cases[c].tag);
    double want[2] = {0, 0};
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(json_object_get(exp, key), "optimizer_weights"), i, w) {
      const char *name = json_string_value(json_object_get(w, "name"));
      for (int s = 0; s < 2 && cases[c].slots[s]; s++) {
        size_t len = strlen(name), sl = strlen(cases[c].slots[s]);
        if (len > sl + 1 && name[len - sl - 1] == '_' && strcmp(name + len - sl, cases[c].slots[s]) == 0)
          want[s] += json_number_value(json_object_get(w, "sum"));
      }
    }
    assert_true(want[0] != 0);
    const char *layouts[] = {".keras", ".h5", ".weights.h5"};
    kcb_model *m = NULL;
    kcb_load_options o = KCB_LOAD_OPTIONS_INIT;
    o.optimizer = KCB_LOAD_OPTIMIZER_REQUIRE;
    for (size_t f = 0; f < 3; f++) {
      snprintf(path, sizeof path, "%s/../zoo-synth/%s%s", KCB_SAVING_DATA, cases[c].tag, layouts[f]);
      if (f < 2) {
        kcb_model_free(m);
        m = NULL;
        if (kcb_model_load(&m, path, &o) != 0) fail_msg("%s: %s", path, kcb_error_last());
        assert_int_equal(m->opt.o.kind, cases[c].kind);
      } else {
        kcb_model_set_iterations(m, 0);
        if (kcb_model_load_weights(m, path, &o) != 0) fail_msg("%s: %s", path, kcb_error_last());
      }
      assert_int_equal(kcb_model_iterations(m), 3);
      assert_true(fabs(kcb_model_learning_rate(m) - 0.01) < 1e-9);
      size_t n = 0, p = kcb_model_param_count(m);
      const float *slots = kcb_model_optimizer_slots(m, &n);
      assert_int_equal(n, (cases[c].slots[1] ? 2 : 1) * p);
      for (int s = 0; s < 2 && cases[c].slots[s]; s++) {
        double got = 0;
        for (size_t k = 0; k < p; k++) got += slots[(size_t)s * p + k];
        if (fabs(got - want[s]) > 1e-5)
          fail_msg("%s: %s sums to %.9g, the file holds %.9g", path, cases[c].slots[s], got, want[s]);
      }
    }
    /* another optimizer with as many variables refuses the state, naming it as saved */
    kcb_model *other = NULL;
    int64_t in = 5;
    assert_ok(kcb_model_new(&other, 1, &in, 1));
    assert_ok(kcb_model_add_from_spec(other, "4:relu,2"));
    kcb_compile_options co = {0};
    co.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(cases[c].kind == KCB_OPT_ADAM ? KCB_OPT_RMSPROP : KCB_OPT_ADAM);
    co.optimizer.momentum = 0.9;
    co.loss = KCB_LOSS_MEAN_SQUARED_ERROR;
    assert_ok(kcb_model_compile(other, &co));
    char quoted[64];
    snprintf(quoted, sizeof quoted, "'%s'", cases[c].saved_name);
    if (cases[c].kind != KCB_OPT_SGD) assert_error(kcb_model_load_weights(other, path, &o), KCB_ESHAPE, quoted);
    kcb_model_free(other);
    /* kcb's own file names the optimizer as Keras 3.15 does (mixed precision: the LossScaleOptimizer
     * around it, which Keras compiles such a model with) */
    snprintf(path, sizeof path, "%s", tmp_path("names.weights.h5"));
    assert_ok(kcb_model_save(m, path, NULL));
    kcb_checkpoint_file *cf = NULL;
    assert_ok(kcb_checkpoint_file_open(&cf, path));
    static const char *const keras315[KCB_OPT_COUNT] = {"sgd", "rm_sprop", "adam", "adam_w"};
    assert_string_equal(kcb_checkpoint_file_meta(cf)->optimizer_name,
                        strcmp(cases[c].tag, "mixed") ? keras315[cases[c].kind] : "loss_scale_optimizer");
    kcb_checkpoint_file_close(cf);
    kcb_model_free(m);
  }
  json_decref(root);
}

/* Sets the member a "key/0/key" path names (objects by key, arrays by index) to `value` (JSON). */
static void json_set_path(json_t *root, const char *path, const char *value) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", path);
  json_t *at = root;
  char *save = NULL, *tok = strtok_r(buf, "/", &save), *next;
  for (; (next = strtok_r(NULL, "/", &save)) != NULL; tok = next)
    at = json_is_array(at) ? json_array_get(at, (size_t)atoi(tok)) : json_object_get(at, tok);
  json_error_t e;
  json_t *v = json_loads(value, JSON_DECODE_ANY, &e);
  if (!at || !v) fail_msg("%s = %s: %s", path, value, e.text);
  if (json_is_array(at)) assert_int_equal(json_array_set_new(at, (size_t)atoi(tok), v), 0);
  else assert_int_equal(json_object_set_new(at, tok, v), 0);
}

/* Settings Keras applies and kcb does not implement are refused with the file, the layer and the
 * setting named (a model built without them would train or predict otherwise); their neutral
 * values load. */
/* The model config `text` builds a model (error NULL; returned) or fails with KCB_EFORMAT saying
 * `error` (NULL returned). `i` names the case. */
static kcb_model *config_loads_or_says(const char *text, const char *error, size_t i) {
  kcb_model *m = NULL;
  int rc = kcb__model_from_config_json(&m, text, NULL, 1, 0, NULL, "x.keras");
  if (error ? rc != KCB_EFORMAT || !strstr(kcb_error_last(), error) : rc != 0)
    fail_msg("case %zu: rc %d, '%s'", i, rc, rc ? kcb_error_last() : "");
  return m;
}

static void test_unsupported_settings_refused(void **state) {
  (void)state;
  static const char model_cfg[] =
      "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"sequential\", \"trainable\": true, \"dtype\": "
      "{\"module\": \"keras\", \"class_name\": \"DTypePolicy\", \"config\": {\"name\": \"float32\"}}, \"layers\": ["
      "{\"class_name\": \"InputLayer\", \"config\": {\"batch_shape\": [null, 4], \"dtype\": \"float32\", \"name\": \"input_layer\"}},"
      "{\"class_name\": \"Dense\", \"config\": {\"name\": \"dense\", \"trainable\": true, \"dtype\": {\"module\": \"keras\", "
      "\"class_name\": \"DTypePolicy\", \"config\": {\"name\": \"float32\"}}, \"units\": 3, \"activation\": \"relu\", "
      "\"kernel_regularizer\": null, \"bias_regularizer\": null, \"activity_regularizer\": null, \"kernel_constraint\": null, "
      "\"bias_constraint\": null, \"lora_rank\": null, \"quantization_config\": null}},"
      "{\"class_name\": \"Dropout\", \"config\": {\"name\": \"dropout\", \"rate\": 0.25, \"noise_shape\": null, \"seed\": null}},"
      "{\"class_name\": \"Flatten\", \"config\": {\"name\": \"flatten\", \"data_format\": \"channels_last\"}},"
      "{\"class_name\": \"Dense\", \"config\": {\"name\": \"dense_1\", \"units\": 2, \"activation\": \"softmax\"}}]}}";
  static const char train_cfg[] =
      "{\"loss\": {\"module\": \"keras.losses\", \"class_name\": \"CategoricalCrossentropy\", \"config\": {\"name\": "
      "\"categorical_crossentropy\", \"reduction\": \"sum_over_batch_size\", \"from_logits\": false, \"label_smoothing\": 0.0, "
      "\"axis\": -1}}, \"loss_weights\": null, \"metrics\": [{\"class_name\": \"BinaryAccuracy\", \"config\": {\"name\": "
      "\"binary_accuracy\", \"dtype\": \"float32\", \"threshold\": 0.5}}], \"optimizer_config\": {\"class_name\": \"Adam\", "
      "\"config\": {\"name\": \"adam\", \"learning_rate\": 0.001, \"weight_decay\": null, \"clipnorm\": null, \"global_clipnorm\": "
      "null, \"clipvalue\": null, \"use_ema\": false, \"ema_momentum\": 0.99, \"loss_scale_factor\": null, "
      "\"gradient_accumulation_steps\": null}}}";
  static const struct {
    int training; /* 0: the model config, 1: the training config */
    const char *path, *value, *error; /* error NULL: loads */
  } cases[] = {
      /* frozen layers load frozen (test_freeze.c checks what they do) */
      {0, "config/layers/1/config/trainable", "false", NULL},
      {0, "config/layers/2/config/trainable", "false", NULL},
      {0, "config/layers/1/config/dtype", "\"float64\"", "Dense layer 'dense': dtype policy 'float64'"},
      {0, "config/layers/1/config/dtype/config/name", "\"bfloat16\"", "dtype policy 'bfloat16'"},
      {0, "config/layers/1/config/dtype/config/name", "\"mixed_float16\"", NULL},
      {0, "config/layers/1/config/kernel_regularizer", "{\"class_name\": \"L2\", \"config\": {\"l2\": 0.01}}",
       "Dense layer 'dense': kernel_regularizer (L2) is not supported"},
      {0, "config/layers/1/config/activity_regularizer", "{\"class_name\": \"L1\", \"config\": {\"l1\": 0.01}}", "activity_regularizer (L1)"},
      {0, "config/layers/1/config/bias_constraint", "{\"class_name\": \"NonNeg\", \"config\": {}}", "bias_constraint (NonNeg)"},
      {0, "config/layers/1/config/lora_rank", "4", "lora_rank"},
      /* model.quantize("int8"): Keras 3 writes the policy's mode, no name */
      {0, "config/layers/1/config/dtype", "{\"class_name\": \"QuantizedDTypePolicy\", \"config\": {\"mode\": \"int8\", "
                                          "\"source_name\": \"float32\"}}", "quantized dtype policy (mode 'int8'"},
      {0, "config/layers/1/config/quantization_config", "{\"class_name\": \"Int8QuantizationConfig\", \"config\": {}}",
       "quantization_config (Int8QuantizationConfig) is not supported"},
      {0, "config/layers/2/config/noise_shape", "[null, 1]", "Dropout layer 'dropout': noise_shape"},
      /* a setting of the wrong kind is refused, not read as its default (Keras would read "0.5" as
       * a string rate, "false" as true); a number is a truth as Python reads it */
      {0, "config/layers/2/config/rate", "\"0.5\"", "Dropout layer 'dropout': rate is a string where a number belongs"},
      {0, "config/layers/1/config/use_bias", "\"false\"", "Dense layer 'dense': use_bias is a string where true or false belongs"},
      {0, "config/layers/1/config/use_bias", "1", NULL},
      {1, "optimizer_config/config/beta_1", "\"0.9\"", "the optimizer's config: beta_1 is a string where a number belongs"},
      /* -1 is not taken for "Keras's default" (kcb's KCB_DEFAULT) */
      {1, "optimizer_config/config/learning_rate", "-1.0", "optimizer Adam has learning_rate -1, which is negative"},
      {1, "optimizer_config/config/beta_1", "-1", "optimizer Adam has beta_1 -1, which is negative"},
      {1, "loss", "{\"class_name\": \"CategoricalCrossentropy\", \"config\": {\"from_logits\": \"true\"}}",
       "loss 'categorical_crossentropy': from_logits is a string where true or false belongs"},
      {1, "metrics/0/config/threshold", "\"0.9\"", "threshold is a string where a number belongs"},
      {0, "config/layers/3/config/data_format", "\"channels_first\"", "Flatten layer 'flatten': data_format 'channels_first'"},
      {0, "config/trainable", "false", NULL},
      {0, "config/layers/1/config/name", "\"block/dense\"", "layer name 'block/dense' contains '/'"},
      {1, "optimizer_config/config/clipnorm", "1.0", "optimizer Adam has clipnorm"},
      {1, "optimizer_config/config/clipvalue", "0.5", "optimizer Adam has clipvalue"},
      {1, "optimizer_config/config/global_clipnorm", "1", "global_clipnorm"},
      {1, "optimizer_config/config/use_ema", "true", "use_ema=true"},
      {1, "optimizer_config/config/gradient_accumulation_steps", "4", "gradient_accumulation_steps"},
      {1, "optimizer_config/config/loss_scale_factor", "128.0", "loss_scale_factor"},
      {1, "optimizer_config/config/learning_rate",
       "{\"class_name\": \"ExponentialDecay\", \"config\": {\"initial_learning_rate\": 0.01, \"decay_steps\": 10, \"decay_rate\": 0.9}}",
       "the learning rate is a ExponentialDecay schedule"},
      {1, "loss/config/reduction", "\"sum\"", "loss 'categorical_crossentropy' has a reduction"},
      {1, "loss/config/label_smoothing", "0.1", "label_smoothing"},
      {1, "loss/config/axis", "1", "has a axis"},
      {1, "loss/config/ignore_class", "0", "ignore_class"},
      /* CategoricalCrossentropy(name="cce"): the class says what is computed, the name is shown */
      {1, "loss/config/name", "\"cce\"", NULL},
      {1, "loss_weights", "[0.5]", "loss_weights"},
      {1, "loss_weights", "[1.0]", NULL},
      /* compile settings that change the logs or the hooks: refused, not dropped */
      {1, "weighted_metrics", "[\"accuracy\"]", "weighted_metrics"},
      {1, "weighted_metrics", "[]", NULL},
      {1, "weighted_metrics", "null", NULL},
      {1, "steps_per_execution", "4", "steps_per_execution is not 1"},
      {1, "steps_per_execution", "1", NULL},
      /* compile(loss=keras.losses.categorical_crossentropy, metrics=[keras.metrics.mean_absolute_error]) */
      {1, "loss", "{\"module\": \"keras.src.losses.losses\", \"class_name\": \"function\", \"config\": "
                  "\"categorical_crossentropy\", \"registered_name\": \"categorical_crossentropy\"}", NULL},
      {1, "metrics/0", "{\"module\": \"keras.src.metrics.regression_metrics\", \"class_name\": \"function\", "
                       "\"config\": \"mean_absolute_error\", \"registered_name\": \"mean_absolute_error\"}", NULL},
      {1, "loss", "{\"class_name\": \"function\", \"config\": \"my_loss\"}", "loss 'my_loss' is not one kcb implements"},
      {1, "metrics/0/config/threshold", "0.7", "metric 'binary_accuracy' has threshold 0.7"},
  };
  kcb_model *m = NULL;
  int compiled = 0;
  /* values of the wrong kind are refused, not read as 0 or truncated */
  static const char cnn_cfg[] =
      "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"sequential\", \"layers\": ["
      "{\"class_name\": \"InputLayer\", \"config\": {\"batch_shape\": [null, 6, 6, 2]}},"
      "{\"class_name\": \"Conv2D\", \"config\": {\"name\": \"conv2d\", \"filters\": 4, \"kernel_size\": [3, 3], \"groups\": %s}},"
      "{\"class_name\": \"ZeroPadding2D\", \"config\": {\"name\": \"zero_padding2d\", \"padding\": %s}},"
      "{\"class_name\": \"Reshape\", \"config\": {\"name\": \"reshape\", \"target_shape\": %s}}]}}";
  static const struct {
    const char *groups, *padding, *target, *error;
  } kinds[] = {
      {"2", "[[1, 1], [1, 1]]", "[144]", NULL},
      {"1.5", "[[1, 1], [1, 1]]", "[144]", "'groups' is not a whole number from 1 to filters"},
      {"1e30", "[[1, 1], [1, 1]]", "[144]", "'groups' is not a whole number"},
      {"1", "[[1, \"1\"], [1, 1]]", "[144]", "ZeroPadding2D layer 'zero_padding2d': 'padding' is not"},
      {"1", "[[1, 4294967297], [1, 1]]", "[144]", "'padding' is not"},
      {"1", "[[1, 1], [1, 1]]", "[\"144\"]", "Reshape layer 'reshape': 'target_shape' holds a value that is not a whole number"},
  };
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    char text[2048];
    snprintf(text, sizeof text, cnn_cfg, kinds[i].groups, kinds[i].padding, kinds[i].target);
    int rc = kcb__model_from_config_json(&m, text, NULL, 1, 0, NULL, "cnn.h5");
    if (kinds[i].error ? rc != KCB_EFORMAT || !strstr(kcb_error_last(), kinds[i].error) : rc != 0)
      fail_msg("case %zu: rc %d, '%s'", i, rc, rc ? kcb_error_last() : "");
    kcb_model_free(m);
    m = NULL;
  }
  /* a convolution's padding in any case (Keras lowercases it), a pooling layer's as Keras writes it;
   * a setting kcb cannot take is named with its value */
  static const char conv_cfg[] =
      "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"sequential\", \"layers\": ["
      "{\"class_name\": \"InputLayer\", \"config\": {\"batch_shape\": [null, 6, 6, 2]}},"
      "{\"class_name\": \"Conv2D\", \"config\": {\"name\": \"conv2d\", \"filters\": 4, \"kernel_size\": %s, "
      "\"padding\": %s, \"data_format\": %s}},"
      "{\"class_name\": \"MaxPooling2D\", \"config\": {\"name\": \"max_pooling2d\", \"padding\": %s}}]}}";
  static const struct {
    const char *kernel, *conv_padding, *format, *pool_padding, *error;
  } settings[] = {
      {"[3, 3]", "\"SAME\"", "\"channels_last\"", "\"valid\"", NULL},
      {"[3, 3]", "\"Valid\"", "\"channels_last\"", "\"same\"", NULL},
      {"[3, 3]", "\"same\"", "\"channels_last\"", "\"SAME\"", "MaxPooling2D layer 'max_pooling2d': padding \"SAME\" is not supported"},
      {"[3, 3]", "\"full\"", "\"channels_last\"", "\"same\"", "Conv2D layer 'conv2d': padding \"full\" is not supported"},
      {"[3, 3]", "\"same\"", "\"channels_first\"", "\"same\"", "data_format \"channels_first\" is not supported (channels_last only)"},
      {"[3, 0]", "\"same\"", "\"channels_last\"", "\"same\"", "Conv2D layer 'conv2d': kernel_size [3, 0] is not supported"},
  };
  for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
    char text[2048];
    snprintf(text, sizeof text, conv_cfg, settings[i].kernel, settings[i].conv_padding, settings[i].format, settings[i].pool_padding);
    m = config_loads_or_says(text, settings[i].error, i);
    if (i == 0) assert_int_equal(kcb_model_param_count(m), 3 * 3 * 2 * 4 + 4);
    kcb_model_free(m);
    m = NULL;
  }
  /* settings that change what the model computes, refused naming the layer and the setting: an
   * activation given as a layer object with settings of its own, tf.keras 2's ghost batch norm, an
   * integer input dtype (Keras casts the inputs), a user's class carrying a built-in's name */
  static const char one_layer[] =
      "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"sequential\", \"layers\": ["
      "{\"class_name\": \"InputLayer\", \"config\": {\"batch_shape\": [null, 4], \"dtype\": \"%s\"}},"
      "{\"class_name\": \"%s\", %s\"config\": {\"name\": \"x\", %s}}]}}";
  static const struct {
    const char *dtype, *cls, *outer, *config, *error;
  } refused[] = {
      {"float32", "Dense", "", "\"units\": 3, \"activation\": {\"module\": \"keras.layers\", \"class_name\": \"Softmax\", "
       "\"config\": {\"axis\": -1}}", NULL},
      /* axis 1 of a Dense's (batch, 3) output is its last axis: the softmax kcb has */
      {"float32", "Dense", "", "\"units\": 3, \"activation\": {\"module\": \"keras.layers\", \"class_name\": \"Softmax\", "
       "\"config\": {\"axis\": 1}}", NULL},
      {"float32", "Dense", "", "\"units\": 3, \"activation\": {\"module\": \"keras.layers\", \"class_name\": \"Softmax\", "
       "\"config\": {\"axis\": [1]}}", NULL},
      {"float32", "Dense", "", "\"units\": 3, \"activation\": {\"module\": \"keras.layers\", \"class_name\": \"Softmax\", "
       "\"config\": {\"axis\": 0}}", "activation given as a Softmax layer object over another axis"},
      {"float32", "Dense", "", "\"units\": 3, \"activation\": {\"class_name\": \"LeakyReLU\", \"config\": {\"alpha\": 0.3}}",
       "activation given as a LeakyReLU layer object"},
      {"float32", "Dense", "", "\"units\": 3, \"activation\": {\"class_name\": \"function\", \"config\": \"relu\"}", NULL},
      {"float32", "BatchNormalization", "", "\"virtual_batch_size\": 8", "BatchNormalization layer 'x': virtual_batch_size"},
      {"uint8", "Dense", "", "\"units\": 3", "the InputLayer's dtype 'uint8' is not supported"},
      /* a 16-bit float input dtype rounds the inputs in Keras; float64 gives float32 inputs back */
      {"float16", "Dense", "", "\"units\": 3", "the InputLayer's dtype 'float16' is not supported"},
      {"bfloat16", "Dense", "", "\"units\": 3", "the InputLayer's dtype 'bfloat16' is not supported"},
      {"float64", "Dense", "", "\"units\": 3", NULL},
      {"float32", "Reshape", "", "\"target_shape\": [1, 1, 1, 1, 1, 4]", "a 'target_shape' of more axes than kcb builds"},
      {"float32", "BatchNormalization", "", "\"epsilon\": 0", NULL}, /* Keras takes it */
      /* epsilon=None: Keras cannot build a BatchNormalization with it; a LayerNormalization takes the
       * backend's epsilon (checked below); Rescaling's offset=None fails in Keras's call */
      {"float32", "BatchNormalization", "", "\"epsilon\": null", "BatchNormalization layer 'x': epsilon null is not supported"},
      {"float32", "LayerNormalization", "", "\"epsilon\": null", NULL},
      {"float32", "Dense", "", "\"units\": 3, \"use_bias\": null", NULL}, /* None is false: no bias, as in Keras */
      {"float32", "Dense", "", "\"units\": 3, \"trainable\": \"false\"", "trainable is a string where true or false belongs"},
      {"float32", "Rescaling", "", "\"scale\": 0.5, \"offset\": null", "only a single number for scale and offset"},
      {"float32", "Dense", "\"module\": \"my_project.layers\", \"registered_name\": \"MyProject>Dense\", ", "\"units\": 3",
       "layer 'x' is a custom class (MyProject>Dense in my_project.layers), not Keras's Dense"},
      {"float32", "Dense", "\"module\": null, \"registered_name\": \"Dense\", ", "\"units\": 3",
       "layer 'x' is a custom class (Dense in __main__), not Keras's Dense"}, /* a script's own class */
      {"float32", "LayerNormalization", "", "\"axis\": [0]", "LayerNormalization layer 'x': axis [0] is not supported"},
      {"float32", "BatchNormalization", "", "\"renorm\": true", "BatchNormalization layer 'x': renorm true is not supported"},
      {"float32", "Rescaling", "", "\"scale\": {\"class_name\": \"__numpy__\", \"config\": {\"value\": [0.5], "
       "\"dtype\": \"float32\"}}", NULL},
  };
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    char text[2048];
    snprintf(text, sizeof text, one_layer, refused[i].dtype, refused[i].cls, refused[i].outer, refused[i].config);
    kcb_model_free(config_loads_or_says(text, refused[i].error, i));
  }
  { /* LayerNormalization(epsilon=None) normalises with Keras's backend epsilon, 1e-7 */
    char text[2048];
    snprintf(text, sizeof text, one_layer, "float32", "LayerNormalization", "", "\"epsilon\": null");
    kcb_model *ln = config_loads_or_says(text, NULL, 98);
    assert_true(ln->layers[0].epsilon == 1e-7);
    kcb_model_free(ln);
  }
  /* a valid input shape of more axes than kcb builds is said so, not called variable */
  kcb_model_free(config_loads_or_says("{\"class_name\": \"Sequential\", \"config\": {\"layers\": [{\"class_name\": "
                                      "\"InputLayer\", \"config\": {\"batch_shape\": [null, 2, 2, 2, 2, 2, 2]}}, "
                                      "{\"class_name\": \"Flatten\", \"config\": {}}]}}",
                                      "has 6 axes besides the batch axis; kcb builds inputs of 1 to 5", 99));
  /* a mixed-precision policy (kcb computes in float32) is kept in the config kcb writes: Keras
   * rebuilds the model it read, not a float32 one */
  {
    json_t *mc = json_loads(model_cfg, 0, NULL);
    json_set_path(mc, "config/dtype/config/name", "\"mixed_float16\"");
    json_set_path(mc, "config/layers/1/config/dtype/config/name", "\"mixed_float16\"");
    char *mtext = json_dumps(mc, 0), *again = NULL;
    assert_ok(kcb__model_from_config_json(&m, mtext, NULL, 1, 0, NULL, "mixed.keras"));
    kcb_compile_options rms = {0}; /* compiled as compile()'s defaults, by the user */
    rms.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_RMSPROP);
    rms.loss = KCB_LOSS_MEAN_SQUARED_ERROR;
    assert_ok(kcb_model_compile(m, &rms));
    assert_ok(kcb__model_config_json(m, &again));
    assert_non_null(strstr(again, "\"compile_config\""));
    json_t *back = json_loads(again, 0, NULL);
    const char *model_policy = json_string_value(json_object_get(
        json_object_get(json_object_get(json_object_get(back, "config"), "dtype"), "config"), "name"));
    json_t *layers = json_object_get(json_object_get(back, "config"), "layers");
    const char *dense_policy = NULL, *dense1_policy = NULL;
    for (size_t i = 0; i < json_array_size(layers); i++) {
      json_t *c = json_object_get(json_array_get(layers, i), "config");
      const char *n = json_string_value(json_object_get(c, "name")), *p =
          json_string_value(json_object_get(json_object_get(json_object_get(c, "dtype"), "config"), "name"));
      if (n && !strcmp(n, "dense")) dense_policy = p;
      if (n && !strcmp(n, "dense_1")) dense1_policy = p;
    }
    assert_string_equal(model_policy, "mixed_float16");
    assert_string_equal(dense_policy, "mixed_float16");
    assert_string_equal(dense1_policy, "float32");
    /* Keras compiles a mixed_float16 model's optimizer inside a LossScaleOptimizer, keeping the
     * optimizer it was given in compile_config: kcb's files hold the wrapped state, the plain config */
    assert_null(strstr(again, "LossScaleOptimizer"));
    char saved[1100];
    snprintf(saved, sizeof saved, "%s/auto_scaled.weights.h5", tmpdir);
    assert_ok(kcb_model_save(m, saved, NULL));
    kcb_checkpoint_file *cf = NULL;
    assert_ok(kcb_checkpoint_file_open(&cf, saved));
    assert_string_equal(kcb_checkpoint_file_meta(cf)->optimizer_name, "loss_scale_optimizer");
    size_t n_opt = 0;
    for (size_t i = 0; i < kcb_checkpoint_file_var_count(cf); i++) n_opt += kcb_checkpoint_file_var(cf, i)->layer < 0;
    size_t n_rms = 2 + 4; /* RMSprop (compile()'s default): iteration, learning rate, a velocity per variable */
    assert_int_equal(n_opt, 4 + n_rms + n_rms); /* its own 4, then the inner's, then the inner's again */
    kcb_checkpoint_file_close(cf);
    json_decref(back);
    json_decref(mc);
    free(again);
    free(mtext);
    kcb_model_free(m);
    m = NULL;
  }
  /* input shapes: a variable dimension is said as such; without an InputLayer, the first layer's
   * build_config gives it (Keras builds the layer from it) */
  static const char varlen[] = "{\"class_name\": \"Sequential\", \"config\": {\"layers\": [{\"class_name\": \"InputLayer\", "
                               "\"config\": {\"batch_shape\": [null, null, 3]}}, {\"class_name\": \"Dense\", \"config\": "
                               "{\"units\": 2}}]}}";
  assert_error(kcb__model_from_config_json(&m, varlen, NULL, 1, 0, NULL, "v.keras"), KCB_EFORMAT,
               "input shape [null, null, 3] has a variable or invalid dimension");
  static const char layer_bc[] = "{\"class_name\": \"Sequential\", \"config\": {\"layers\": [{\"class_name\": \"Dense\", "
                                 "\"config\": {\"name\": \"dense\", \"units\": 2}, \"build_config\": {\"input_shape\": [null, 5]}}]}}";
  assert_ok(kcb__model_from_config_json(&m, layer_bc, NULL, 1, 0, NULL, "b.keras"));
  assert_int_equal(kcb_model_param_count(m), 12);
  kcb_model_free(m);
  m = NULL;
  assert_ok(kcb__model_from_config_json(&m, model_cfg, train_cfg, 1, 1, &compiled, "base.h5"));
  assert_true(compiled);
  kcb_model_free(m);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_t *mc = json_loads(model_cfg, 0, NULL), *tc = json_loads(train_cfg, 0, NULL);
    json_set_path(cases[i].training ? tc : mc, cases[i].path, cases[i].value);
    char *mtext = json_dumps(mc, 0), *ttext = json_dumps(tc, 0);
    m = NULL;
    int rc = kcb__model_from_config_json(&m, mtext, ttext, 1, 1, &compiled, "case.h5");
    if (!cases[i].error && rc) fail_msg("%s = %s: %s", cases[i].path, cases[i].value, kcb_error_last());
    if (cases[i].error) {
      if (rc != KCB_EFORMAT || !strstr(kcb_error_last(), cases[i].error) || strncmp(kcb_error_last(), "case.h5: ", 9) != 0)
        fail_msg("%s = %s: rc %d, '%s' (expected '%s')", cases[i].path, cases[i].value, rc, rc ? kcb_error_last() : "",
                 cases[i].error);
      assert_null(m);
    }
    kcb_model_free(m);
    free(mtext);
    free(ttext);
    json_decref(mc);
    json_decref(tc);
  }
}

/* Long layer names (Keras sets no limit) survive every layout; one past kcb's limit is refused by name. */
static void test_long_layer_names(void **state) {
  (void)state;
  char long_a[201], long_b[201];
  memset(long_a, 'a', 200), memset(long_b, 'a', 200);
  long_a[200] = long_b[200] = '\0';
  long_b[199] = 'b'; /* the same for 199 bytes: told apart only at the end */
  kcb_model *m = NULL;
  int64_t in = 3;
  assert_ok(kcb_model_new(&m, 1, &in, 1));
  kcb_dense_options d = KCB_DENSE_OPTIONS_INIT;
  d.units = 4, d.name = long_a;
  assert_ok(kcb_model_add_dense(m, &d));
  d.units = 2, d.name = long_b;
  assert_ok(kcb_model_add_dense(m, &d));
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
  c.loss = KCB_LOSS_MEAN_SQUARED_ERROR;
  assert_ok(kcb_model_compile(m, &c));
  kcb_model_set_iterations(m, 1); /* so the optimizer state, with the names in its paths, is saved */
  const char *files[] = {"long.h5", "long.keras", "long.weights.h5"};
  for (size_t f = 0; f < 3; f++) {
    assert_ok(kcb_model_save(m, tmp_path(files[f]), NULL));
    kcb_load_options o = KCB_LOAD_OPTIONS_INIT;
    o.optimizer = KCB_LOAD_OPTIMIZER_REQUIRE;
    if (f < 2) {
      kcb_model *b = NULL;
      if (kcb_model_load(&b, tmp_path(files[f]), &o)) fail_msg("%s: %s", files[f], kcb_error_last());
      assert_string_equal(kcb_model_layer_name(b, 0), long_a);
      assert_string_equal(kcb_model_layer_name(b, 1), long_b);
      kcb_model_free(b);
    } else {
      assert_ok(kcb_model_load_weights(m, tmp_path(files[f]), &o));
    }
  }
  kcb_model_free(m);
  char too_long[300], cfg[1024];
  memset(too_long, 'x', 299);
  too_long[299] = '\0';
  snprintf(cfg, sizeof cfg, "{\"class_name\": \"Sequential\", \"config\": {\"layers\": [{\"class_name\": \"InputLayer\", "
           "\"config\": {\"batch_shape\": [null, 3]}}, {\"class_name\": \"Dense\", \"config\": {\"name\": \"%s\", \"units\": 2}}]}}",
           too_long);
  m = NULL;
  assert_error(kcb__model_from_config_json(&m, cfg, NULL, 1, 0, NULL, "long.h5"), KCB_EFORMAT, "is 299 bytes; kcb keeps names of up to 255");
  assert_null(m);
}

/* tf.keras 2.13-2.15's .weights.h5 files its layers under `_layer_checkpoint_dependencies`: read
 * by the path Keras 3 uses for them. */
static void test_tf213_store(void **state) {
  (void)state;
  kcb_tensor *x, *y;
  kcb_model *a = trained_model(KCB_OPT_ADAM, 0, &x, &y);
  assert_ok(kcb_model_save(a, tmp_path("tf213.weights.h5"), NULL));
  hid_t f = H5Fopen(tmp_path("tf213.weights.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
  assert_true(f >= 0);
  assert_true(H5Lmove(f, "layers", f, "_layer_checkpoint_dependencies", H5P_DEFAULT, H5P_DEFAULT) >= 0);
  H5Fclose(f);
  kcb_tensor *x2, *y2;
  kcb_model *b = trained_model(KCB_OPT_ADAM, 0, &x2, &y2);
  float *w = malloc(kcb_model_param_count(b) * sizeof *w);
  for (size_t i = 0; i < kcb_model_param_count(b); i++) w[i] = 0;
  assert_ok(kcb_model_set_weights(b, w, kcb_model_param_count(b)));
  assert_ok(kcb_model_load_weights(b, tmp_path("tf213.weights.h5"), NULL));
  assert_memory_equal(a->params, b->params, a->n_params * sizeof(float));
  free(w);
  kcb_model_free(a);
  kcb_model_free(b);
  kcb_tensor_free(x), kcb_tensor_free(y), kcb_tensor_free(x2), kcb_tensor_free(y2);
}

/* SpatialDropout2D's config is Keras 3.15's own: rate, seed, name, dtype (a string), data_format,
 * and no `trainable`, which its constructor would refuse. build_config as Keras 3.15 records it:
 * none for the layers built in __init__ (Dropout, SpatialDropout2D, Reshape), one for those built
 * at their first call (ZeroPadding2D, Rescaling, Conv2D, LayerNormalization, Flatten, Dense);
 * LayerNormalization's axis a list, as its build leaves it. */
static void test_spatial_dropout_config(void **state) {
  (void)state;
  kcb_model *m = NULL;
  int64_t in[3] = {6, 6, 2};
  assert_ok(kcb_model_new(&m, 3, in, 1));
  assert_ok(kcb_model_add_from_spec(m, "rescale:0.00392156862745098:-0.3333333333333333,zeropad:1,conv:2:3:relu,"
                                        "spatialdropout:0.3,ln,reshape:36x2,flatten,dropout:0.3,3:softmax"));
  char *text = NULL;
  assert_ok(kcb__model_config_json(m, &text));
  {
    static const struct {
      const char *cls;
      int build_config;
    } keras[] = {{"Rescaling", 1}, {"ZeroPadding2D", 1}, {"Conv2D", 1}, {"SpatialDropout2D", 0}, {"LayerNormalization", 1},
                 {"Reshape", 0},   {"Flatten", 1},       {"Dropout", 0}, {"Dense", 1}};
    json_t *cfg = json_loads(text, 0, NULL), *layer;
    size_t k, at = 0;
    json_array_foreach(json_object_get(json_object_get(cfg, "config"), "layers"), k, layer) {
      const char *cls = json_string_value(json_object_get(layer, "class_name"));
      if (strcmp(cls, "InputLayer") == 0) continue;
      assert_string_equal(cls, keras[at].cls);
      if ((json_object_get(layer, "build_config") != NULL) != keras[at].build_config)
        fail_msg("%s: build_config %s", cls, keras[at].build_config ? "missing" : "present");
      if (strcmp(cls, "LayerNormalization") == 0) {
        json_t *axis = json_object_get(json_object_get(layer, "config"), "axis");
        assert_true(json_is_array(axis) && json_array_size(axis) == 1 && json_integer_value(json_array_get(axis, 0)) == -1);
      }
      at++;
    }
    assert_int_equal(at, 9);
    json_decref(cfg);
  }
  json_t *root = json_loads(text, 0, NULL), *layer;
  size_t i;
  int seen = 0;
  json_array_foreach(json_object_get(json_object_get(root, "config"), "layers"), i, layer) {
    if (strcmp(json_string_value(json_object_get(layer, "class_name")), "SpatialDropout2D") != 0) continue;
    json_t *c = json_object_get(layer, "config");
    static const char *const keys[] = {"rate", "seed", "name", "dtype", "data_format"};
    const char *key;
    json_t *v;
    size_t k = 0;
    json_object_foreach(c, key, v) assert_string_equal(key, keys[k++]);
    assert_int_equal(k, 5);
    assert_string_equal(json_string_value(json_object_get(c, "dtype")), "float32");
    seen++;
  }
  assert_int_equal(seen, 1);
  /* rates as given (the double 0.3, as Python's float), not the float32 widened (0.30000001192092896) */
  json_array_foreach(json_object_get(json_object_get(root, "config"), "layers"), i, layer) {
    json_t *rate = json_object_get(json_object_get(layer, "config"), "rate");
    if (rate) assert_true(json_number_value(rate) == 0.3), seen++;
  }
  assert_int_equal(seen, 3);
  /* Rescaling's numbers as given too (Keras keeps the Python floats, casting them when it computes) */
  json_t *rescaling = json_object_get(json_array_get(json_object_get(json_object_get(root, "config"), "layers"), 1), "config");
  assert_true(json_real_value(json_object_get(rescaling, "scale")) == 0.00392156862745098);
  assert_true(json_real_value(json_object_get(rescaling, "offset")) == -0.3333333333333333);
  /* and it loads back, the same config again */
  kcb_model *b = NULL;
  assert_ok(kcb__model_from_config_json(&b, text, NULL, 1, 0, NULL, "sd.keras"));
  assert_int_equal(kcb_model_layer_count(b), kcb_model_layer_count(m));
  char *again = NULL;
  assert_ok(kcb__model_config_json(b, &again));
  assert_non_null(strstr(again, "\"scale\": 0.00392156862745098, \"offset\": -0.3333333333333333"));
  free(again);
  kcb_model_free(b);
  json_decref(root);
  free(text);
  kcb_model_free(m);
}

/* Rescaling keeps its numbers as given, but computes in float32: a file whose scale is the same
 * float32 written otherwise (0.003921569, as kcb wrote it before; 1/255 as given) is the same model
 * to a load, and a scale that differs in float32 is not. */
static void test_rescaling_same_float32(void **state) {
  (void)state;
  kcb_model *old = fixture_model("rescale:0.003921569,32:relu,10:softmax"),
            *given = fixture_model("rescale:0.00392156862745098,32:relu,10:softmax"),
            *other = fixture_model("rescale:0.0039216,32:relu,10:softmax");
  assert_ok(kcb_model_save(old, tmp_path("rescale_old.keras"), NULL));
  kcb_load_options lo = KCB_LOAD_OPTIONS_INIT;
  lo.check_config = 1; /* as kcb-train --initial-weights */
  assert_ok(kcb_model_load_weights(given, tmp_path("rescale_old.keras"), &lo));
  assert_error(kcb_model_load_weights(other, tmp_path("rescale_old.keras"), &lo), KCB_EFORMAT,
               "has scale 0.003921569 in the file, 0.0039216 in this model");
  kcb_model_free(old);
  kcb_model_free(given);
  kcb_model_free(other);
}

/* A step count past 2^31 - 1 (Keras's int32 scalar) is stored as an int64, not wrapped to a
 * negative count that kcb's own readers refuse. */
static void test_iterations_past_int32(void **state) {
  (void)state;
  const char *files[] = {"big_iter.weights.h5", "big_iter.keras", "big_iter.h5"};
  const int64_t big = ((int64_t)1 << 31) + 5;
  for (size_t f = 0; f < 3; f++) {
    kcb_model *m = fixture_model("32:relu,10:softmax"), *back = fixture_model("32:relu,10:softmax");
    assert_ok(kcb_model_set_iterations(m, big));
    assert_ok(kcb_model_save(m, tmp_path(files[f]), NULL));
    assert_ok(kcb_model_load_weights(back, tmp_path(files[f]), NULL));
    assert_int_equal(kcb_model_iterations(back), big);
    kcb_model_free(m);
    kcb_model_free(back);
  }
}

/* tf.keras 2's optimizers save no learning-rate variable, and optimizer_v2 lists every
 * variable's m before any v: the zoo CNN's Adam state loads from both tf.keras 2 files (2.15's
 * interleaved slots, the optimizer_v2 variant) exactly as from the Keras 3 file of the same state. */
static void test_tf2_optimizer_state(void **state) {
  (void)state;
  char path[1024];
  kcb_load_options o = KCB_LOAD_OPTIONS_INIT;
  o.optimizer = KCB_LOAD_OPTIMIZER_REQUIRE;
  snprintf(path, sizeof path, "%s/../zoo/cnn.keras", KCB_SAVING_DATA);
  kcb_model *ref = NULL;
  assert_ok(kcb_model_load(&ref, path, &o));
  size_t n_ref = 0;
  const float *want = kcb_model_optimizer_slots(ref, &n_ref);
  assert_true(kcb_model_iterations(ref) > 0 && n_ref > 0);
  const char *files[] = {"../zoo/cnn.k2.h5", "../zoo/cnn.k2_h5py2.h5", "cnn.k2_optimizer_v2.h5"};
  for (size_t f = 0; f < 3; f++) {
    snprintf(path, sizeof path, "%s/%s", KCB_SAVING_DATA, files[f]);
    kcb_model *m = NULL;
    if (kcb_model_load(&m, path, &o)) fail_msg("%s: %s", files[f], kcb_error_last());
    assert_int_equal(kcb_model_iterations(m), kcb_model_iterations(ref));
    assert_true(kcb_model_learning_rate(m) == kcb_model_learning_rate(ref));
    size_t n = 0;
    const float *got = kcb_model_optimizer_slots(m, &n);
    assert_int_equal(n, n_ref);
    assert_memory_equal(got, want, n * sizeof *got);
    kcb_model_free(m);
  }
  kcb_model_free(ref);
}

/* Python's json writes non-finite floats as NaN / Infinity, which strict JSON lacks: the file's
 * weights and config are still shown (the token as null), building a model from it is refused with
 * that reason. */
static void test_config_with_non_finite_numbers(void **state) {
  (void)state;
  kcb_model *m = fixture_model("32:relu,10:softmax");
  assert_ok(kcb_model_save(m, tmp_path("nan.h5"), NULL));
  kcb_model_free(m);
  char text[sizeof keras2_config + 64];
  const char *at = strstr(keras2_config, "\"units\": 10,");
  assert_non_null(at);
  snprintf(text, sizeof text, "%.*s\"units\": 10, \"gain\": NaN, \"cap\": -Infinity,%s", (int)(at - keras2_config),
           keras2_config, at + strlen("\"units\": 10,"));
  hid_t f = H5Fopen(tmp_path("nan.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
  assert_true(f >= 0);
  assert_true(H5Adelete(f, "model_config") >= 0);
  write_fixed_string(f, "model_config", text);
  H5Fclose(f);
  kcb_checkpoint_file *cf = NULL;
  if (kcb_checkpoint_file_open(&cf, tmp_path("nan.h5"))) fail_msg("%s", kcb_error_last());
  assert_int_equal(kcb_checkpoint_file_meta(cf)->n_params, 784 * 32 + 32 + 32 * 10 + 10);
  kcb_checkpoint_file_close(cf);
  m = NULL;
  assert_error(kcb_model_load(&m, tmp_path("nan.h5"), NULL), KCB_EFORMAT, "model config holds NaN or Infinity");
  assert_null(m);
}

/* Variables of the model's own (a subclassed model's: top_level_model_weights in a legacy file, the
 * root `vars` of a store) cannot belong to a Sequential: Keras refuses to load such a file, and so
 * does kcb, instead of dropping them; kcb-restore does not write them into a .keras either. */
static void test_model_own_variables_refused(void **state) {
  (void)state;
  kcb_model *m = fixture_model("32:relu,10:softmax");
  assert_ok(kcb_model_save(m, tmp_path("own.h5"), NULL));
  assert_ok(kcb_model_save(m, tmp_path("own.weights.h5"), NULL));
  float x[3] = {1, 2, 3};
  hsize_t dim = 3;
  hid_t s = H5Screate_simple(1, &dim, NULL);
  hid_t f = H5Fopen(tmp_path("own.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
  assert_true(f >= 0);
  hid_t g = H5Gopen2(f, "/model_weights/top_level_model_weights", H5P_DEFAULT);
  assert_true(g >= 0);
  if (H5Aexists(g, "weight_names") > 0) H5Adelete(g, "weight_names");
  write_fixed_string(g, "weight_names", "x");
  hid_t d = H5Dcreate2(g, "x", H5T_IEEE_F32LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  assert_true(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) >= 0);
  H5Dclose(d), H5Gclose(g), H5Fclose(f);
  f = H5Fopen(tmp_path("own.weights.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
  assert_true(f >= 0);
  g = H5Gopen2(f, "/vars", H5P_DEFAULT);
  assert_true(g >= 0);
  d = H5Dcreate2(g, "0", H5T_IEEE_F32LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  assert_true(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) >= 0);
  H5Dclose(d), H5Gclose(g), H5Fclose(f), H5Sclose(s);

  kcb_model *loaded = NULL;
  assert_error(kcb_model_load(&loaded, tmp_path("own.h5"), NULL), KCB_ESHAPE,
               "Model expects 0 top-level weight(s). Received 1 saved top-level weight(s)");
  assert_null(loaded);
  assert_error(kcb_model_load_weights(m, tmp_path("own.weights.h5"), NULL), KCB_ESHAPE,
               "expected 0 variables, but received 1 variables during loading (group vars");
  kcb_checkpoint_file *cf = NULL;
  if (kcb_checkpoint_file_open(&cf, tmp_path("own.h5"))) fail_msg("%s", kcb_error_last());
  assert_error(kcb_checkpoint_file_write(cf, tmp_path("own.keras"), KCB_LAYOUT_AUTO, NULL), KCB_EINVAL,
               "the Sequential model has variables of its own");
  assert_int_equal(access(tmp_path("own.keras"), F_OK), -1);
  kcb_checkpoint_file_close(cf);
  kcb_model_free(m);
}

/* Saves the model at each epoch's end (as a checkpoint callback does). */
static int save_in_fit(kcb_callback *cb, int epoch, kcb_logs *logs) {
  (void)epoch, (void)logs;
  return kcb_model_save(cb->model, (const char *)cb->user_data, NULL);
}

/* A file without compile settings gives a model compiled with compile()'s defaults, which Keras
 * would leave uncompiled: saved again, it has no compile settings and no optimizer state (Keras
 * would otherwise load it compiled with RMSprop and mean squared error), until compiled or trained. */
static void test_uncompiled_load_saves_uncompiled(void **state) {
  (void)state;
  kcb_model *m = fixture_model("8:relu,10:softmax");
  kcb_save_options no_opt = KCB_SAVE_OPTIONS_INIT;
  no_opt.include_optimizer = 0;
  assert_ok(kcb_model_save(m, tmp_path("bare.h5"), &no_opt));
  kcb_model_free(m);
  kcb_model *loaded = NULL;
  assert_ok(kcb_model_load(&loaded, tmp_path("bare.h5"), NULL));
  static const char *const names[] = {"again.h5", "again.keras", "again.weights.h5"};
  kcb_checkpoint_info info;
  for (size_t i = 0; i < 3; i++) {
    assert_ok(kcb_model_save(loaded, tmp_path(names[i]), NULL));
    assert_ok(kcb_checkpoint_info_read(&info, tmp_path(names[i])));
    if (info.has_training_config || info.n_optimizer_vars) fail_msg("%s: compile settings %d, %zu optimizer variables",
                                                                     names[i], info.has_training_config, info.n_optimizer_vars);
  }
  /* trained so, its saves during fit (a checkpoint, a backup) keep the optimizer state it trains with */
  int64_t xs[2] = {4, 784}, ys[2] = {4, 10};
  kcb_tensor *x = NULL, *y = NULL;
  assert_ok(kcb_tensor_new(&x, 2, xs));
  assert_ok(kcb_tensor_new(&y, 2, ys));
  for (int i = 0; i < 4; i++) y->data[i * 10 + i] = 1;
  kcb_callback_ops ops = {.name = "SaveInFit", .on_epoch_end = save_in_fit};
  kcb_callback *saver = NULL;
  assert_ok(kcb_lambda_callback_new(&saver, &ops, (void *)tmp_path("during.keras")));
  kcb_fit_options fo = KCB_FIT_OPTIONS_INIT;
  fo.epochs = 1, fo.batch_size = 2, fo.verbose = 0, fo.callbacks = &saver, fo.n_callbacks = 1;
  assert_ok(kcb_model_fit(loaded, x, y, &fo, NULL));
  assert_ok(kcb_checkpoint_info_read(&info, tmp_path("during.keras")));
  assert_true(info.has_training_config);
  assert_true(info.n_optimizer_vars >= 2);
  kcb_callback_free(saver);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
  kcb_model_free(loaded);
  /* loaded with compile = 0 from a compiled file: the same */
  m = fixture_model("8:relu,10:softmax");
  assert_ok(kcb_model_save(m, tmp_path("full.keras"), NULL));
  kcb_model_free(m);
  kcb_load_options lo = KCB_LOAD_OPTIONS_INIT;
  lo.compile = 0;
  assert_ok(kcb_model_load(&loaded, tmp_path("full.keras"), &lo));
  assert_ok(kcb_model_save(loaded, tmp_path("again.keras"), NULL));
  assert_ok(kcb_checkpoint_info_read(&info, tmp_path("again.keras")));
  assert_false(info.has_training_config);
  /* compiled by the user: saved with its settings */
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_SGD);
  c.loss = KCB_LOSS_CATEGORICAL_CROSSENTROPY;
  assert_ok(kcb_model_compile(loaded, &c));
  assert_ok(kcb_model_save(loaded, tmp_path("again.keras"), NULL));
  assert_ok(kcb_checkpoint_info_read(&info, tmp_path("again.keras")));
  assert_true(info.has_training_config);
  assert_true(info.n_optimizer_vars >= 2);
  kcb_model_free(loaded);
}

/* tf.keras 2's hard_sigmoid is another function than Keras 3's of the same name: a model of
 * Keras 2 using it is refused by name rather than predicting otherwise than it was trained. */
static void test_keras2_hard_sigmoid_refused(void **state) {
  (void)state;
  kcb_model *m = fixture_model("8:hard_sigmoid,10:softmax");
  assert_ok(kcb_model_save(m, tmp_path("hs.h5"), NULL));
  kcb_model *loaded = NULL;
  assert_ok(kcb_model_load(&loaded, tmp_path("hs.h5"), NULL)); /* Keras 3's own file: its function */
  kcb_model_free(loaded);
  loaded = NULL;
  hid_t f = H5Fopen(tmp_path("hs.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
  assert_true(f >= 0);
  H5Adelete(f, "keras_version");
  write_fixed_string(f, "keras_version", "2.15.0");
  H5Fclose(f);
  assert_error(kcb_model_load(&loaded, tmp_path("hs.h5"), NULL), KCB_EFORMAT,
               "uses hard_sigmoid as Keras 2.15.0 wrote it, clip(0.2 x + 0.5, 0, 1)");
  assert_null(loaded);
  /* converted into Keras 3's archive, it is Keras 3's function from then on: said */
  kcb_checkpoint_file *cf = NULL;
  if (kcb_checkpoint_file_open(&cf, tmp_path("hs.h5"))) fail_msg("%s", kcb_error_last());
  kcb_checkpoint_write_report report;
  assert_ok(kcb_checkpoint_file_write(cf, tmp_path("hs.keras"), KCB_LAYOUT_AUTO, &report));
  assert_non_null(strstr(report.note, "the model uses hard_sigmoid, which Keras 2.15.0 computed as clip(0.2 x + 0.5, 0, 1)"));
  kcb_checkpoint_file_close(cf);
  assert_ok(kcb_model_load_weights(m, tmp_path("hs.h5"), NULL)); /* into a model built in C: its own function */
  kcb_model_free(m);
}

/* A model rebuilt from a file keeps its own name and its InputLayer's: a resave writes the same
 * variable paths ("classifier/dense/kernel"), as Keras would, not "sequential/...". */
/* A metric compiled under a display name of its own is saved as the metric object under that name,
 * as Keras serializes what compile() was given: the bare name ("top") would load nowhere. The
 * resolving "accuracy" becomes the class Keras picks for the loss. */
static void test_metric_display_names_reload(void **state) {
  (void)state;
  const int64_t input = 4;
  kcb_model *m = NULL;
  assert_ok(kcb_model_new(&m, 1, &input, 3));
  assert_ok(kcb_model_add_from_spec(m, "8:relu,3:softmax"));
  kcb_metric metrics[2] = {KCB_METRIC_ACCURACY, KCB_METRIC_MEAN_ABSOLUTE_ERROR};
  const char *names[2] = {"top", "mae"};
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
  c.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  c.metrics = metrics;
  c.metric_names = names;
  c.n_metrics = 2;
  assert_ok(kcb_model_compile(m, &c));
  const char *paths[2] = {tmp_path("named_metric.keras"), tmp_path("named_metric.h5")};
  for (int k = 0; k < 2; k++) {
    assert_ok(kcb_model_save(m, paths[k], NULL));
    kcb_model *back = NULL;
    assert_ok(kcb_model_load(&back, paths[k], NULL));
    assert_int_equal(back->n_metrics, 2);
    assert_string_equal(back->metric_names[0], "top");
    assert_int_equal(back->metrics[0], KCB_METRIC_SPARSE_CATEGORICAL_ACCURACY);
    assert_string_equal(back->metric_names[1], "mae");
    char *cfg = NULL;
    assert_ok(kcb__model_config_json(back, &cfg));
    assert_non_null(strstr(cfg, "\"class_name\": \"SparseCategoricalAccuracy\", \"config\": {\"name\": \"top\""));
    assert_non_null(strstr(cfg, "\"metrics\": [{"));
    assert_non_null(strstr(cfg, "}, \"mae\"]"));
    free(cfg);
    kcb_model_free(back);
  }
  kcb_model_free(m);
}

/* What Keras's loader cannot take is not written: from_logits on a loss without it, a metric
 * spelled in a case only kcb reads (Keras's table is exact but for accuracy/acc), a layer named as
 * the InputLayer */
static void test_configs_keras_can_read(void **state) {
  (void)state;
  const int64_t input = 4;
  kcb_model *m = NULL;
  assert_ok(kcb_model_new(&m, 1, &input, 3));
  kcb_dense_options d = KCB_DENSE_OPTIONS_INIT;
  d.units = 8;
  d.name = "input_layer";
  assert_error(kcb_model_add_dense(m, &d), KCB_EINVAL, "'input_layer' is the InputLayer's");
  assert_ok(kcb_model_add_from_spec(m, "8:relu,1"));
  kcb_metric metrics[3] = {KCB_METRIC_MEAN_SQUARED_ERROR, KCB_METRIC_MEAN_ABSOLUTE_ERROR, KCB_METRIC_ACCURACY};
  const char *names[3] = {"Mse", "MAE", "ACC"};
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_SGD);
  c.loss = KCB_LOSS_MEAN_SQUARED_ERROR;
  c.from_logits = 1;
  c.metrics = metrics;
  c.metric_names = names;
  c.n_metrics = 3;
  assert_ok(kcb_model_compile(m, &c));
  kcb_loss loss;
  int logits = -1;
  assert_ok(kcb_model_loss(m, &loss, &logits));
  assert_int_equal(logits, 0);
  kcb_optimizer_kind kind = KCB_OPT_SGD;
  assert_ok(kcb_model_optimizer_kind(m, &kind));
  assert_int_equal(kind, c.optimizer.kind);
  assert_error(kcb_model_optimizer_kind(m, NULL), KCB_EINVAL, "out is NULL");
  assert_error(kcb_model_optimizer_kind(NULL, &kind), KCB_EINVAL, "");
  char *cfg = NULL;
  assert_ok(kcb__model_config_json(m, &cfg));
  assert_null(strstr(cfg, "from_logits"));
  assert_non_null(strstr(cfg, "\"loss\": \"mean_squared_error\""));
  assert_non_null(strstr(cfg, "\"class_name\": \"MeanSquaredError\", \"config\": {\"name\": \"Mse\""));
  assert_non_null(strstr(cfg, "\"MAE\", \"ACC\"]")); /* Keras's alias, and accuracy in any case */
  free(cfg);
  kcb_model_free(m);
}

/* text with its one `from` replaced by `to` (malloc'd) */
static char *replaced(const char *text, const char *from, const char *to) {
  const char *at = strstr(text, from);
  assert_non_null(at);
  size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
  char *out = malloc(n);
  assert_non_null(out);
  snprintf(out, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
  return out;
}

/* A file's settings kcb does not model (an initializer's class and arguments, a dropout's seed,
 * jit_compile) are written back as they were when the model is loaded and saved again */
static void test_settings_kept_on_save(void **state) {
  (void)state;
  const int64_t input = 4;
  kcb_model *m = NULL;
  assert_ok(kcb_model_new(&m, 1, &input, 3));
  assert_ok(kcb_model_add_from_spec(m, "8:relu,dropout:0.5,3:softmax"));
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
  c.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  assert_ok(kcb_model_compile(m, &c));
  char *cfg = NULL;
  assert_ok(kcb__model_config_json(m, &cfg));
  kcb_model_free(m);
  const char *glorot = "\"kernel_initializer\": {\"module\": \"keras.initializers\", \"class_name\": \"GlorotUniform\", "
                       "\"config\": {\"seed\": null, \"input_axes\": null, \"output_axes\": null}, \"registered_name\": null}";
  const char *normal = "\"kernel_initializer\": {\"module\": \"keras.initializers\", \"class_name\": \"RandomNormal\", "
                       "\"config\": {\"mean\": 0.0, \"stddev\": 0.01, \"seed\": 3}, \"registered_name\": null}";
  char *a = replaced(cfg, glorot, normal), *b = replaced(a, "\"rate\": 0.5, \"seed\": null", "\"rate\": 0.5, \"seed\": 7");
  char *edited = replaced(b, "\"jit_compile\": true", "\"jit_compile\": false");
  assert_ok(kcb__model_from_config_json(&m, edited, NULL, 1, 1, NULL, "edited.keras"));
  char *again = NULL;
  assert_ok(kcb__model_config_json(m, &again));
  assert_non_null(strstr(again, normal));
  assert_non_null(strstr(again, "\"rate\": 0.5, \"seed\": 7"));
  assert_non_null(strstr(again, "\"jit_compile\": false"));
  assert_string_equal(again, edited);
  free(again);
  free(edited);
  free(b);
  free(a);
  free(cfg);
  kcb_model_free(m);
}

static void test_model_name_kept(void **state) {
  (void)state;
  char text[sizeof keras2_config + 16];
  const char *at = strstr(keras2_config, "\"name\": \"sequential\"");
  assert_non_null(at);
  int len = snprintf(text, sizeof text, "%.*s\"name\": \"classifier\"%s", (int)(at - keras2_config), keras2_config,
                     at + strlen("\"name\": \"sequential\""));
  assert_true(len > 0 && (size_t)len < sizeof text);
  kcb_model *m = NULL;
  assert_ok(kcb__model_from_config_json(&m, text, NULL, 1, 1, NULL, "named.h5"));
  assert_string_equal(kcb_model_name(m), "classifier");
  char *cfg = NULL;
  assert_ok(kcb__model_config_json(m, &cfg));
  assert_non_null(strstr(cfg, "\"name\": \"classifier\""));
  assert_non_null(strstr(cfg, "\"name\": \"input_1\""));
  free(cfg);
  assert_ok(kcb_model_save(m, tmp_path("named.h5"), NULL));
  kcb_checkpoint_file *f = NULL;
  assert_ok(kcb_checkpoint_file_open(&f, tmp_path("named.h5")));
  assert_string_equal(kcb_checkpoint_file_meta(f)->model_name, "classifier");
  assert_string_equal(kcb_checkpoint_file_var(f, 0)->name, "classifier/dense/kernel");
  kcb_checkpoint_file_close(f);
  kcb_model_free(m);
}

static void test_zoo_models_load_or_name_the_layer(void **state) {
  (void)state;
  char path[1024];
  snprintf(path, sizeof path, "%s/../zoo/expected.json", KCB_SAVING_DATA);
  json_t *exp = load_json_file(path);
  const char *models[] = {"cnn", "rnn", "functional", "mlp_bn"};
  for (size_t k = 0; k < 4; k++) {
    json_t *mj = json_object_get(json_object_get(exp, "models"), models[k]);
    const char *full[] = {".h5", ".keras", ".k2.h5", ".k2_h5py2.h5"};
    for (size_t f = 0; f < 4; f++) {
      if (f >= 2 && strcmp(models[k], "cnn") != 0) continue;
      snprintf(path, sizeof path, "%s/../zoo/%s%s", KCB_SAVING_DATA, models[k], full[f]);
      kcb_model *m = NULL;
      int rc = kcb_model_load(&m, path, NULL);
      if (rc != 0) {
        assert_int_equal(rc, KCB_EFORMAT);
        const char *msg = kcb_error_last();
        int named = strstr(msg, json_string_value(json_object_get(mj, "model_class"))) != NULL;
        size_t i;
        json_t *l;
        json_array_foreach(json_object_get(mj, "layers"), i, l) {
          char needle[160];
          snprintf(needle, sizeof needle, "layer '%s' is of class %s", json_string_value(json_object_get(l, "name")),
                   json_string_value(json_object_get(l, "class_name")));
          named |= strstr(msg, needle) != NULL;
        }
        if (!named || strstr(msg, "'?'")) fail_msg("%s: the error names no layer of the model: %s", path, msg);
        continue;
      }
      /* it loaded: the fixed input (sample0[i] = i/(n-1), sample1[i] = 0.5 + 0.5 cos i) predicts as Keras did */
      json_t *in = json_array_get(json_object_get(mj, "inputs"), 0);
      json_t *shape = json_object_get(in, "shape");
      int64_t dims[8];
      size_t rank = json_array_size(shape), n = 1;
      for (size_t d = 0; d < rank; d++) dims[d] = json_integer_value(json_array_get(shape, d)), n *= (size_t)dims[d];
      kcb_tensor *x = NULL;
      assert_ok(kcb_tensor_new(&x, (int)rank, dims));
      size_t per = n / 2;
      for (size_t i = 0; i < per; i++) {
        x->data[i] = (float)((double)i / (double)(per - 1));
        x->data[per + i] = (float)(0.5 + 0.5 * cos((double)i));
      }
      kcb_tensor *y = NULL;
      kcb_evaluate_options po = KCB_EVALUATE_OPTIONS_INIT;
      po.verbose = 0;
      assert_ok(kcb_model_predict(m, x, &po, &y));
      json_t *rows = json_object_get(mj, "predictions");
      for (size_t r = 0; r < 2; r++)
        for (size_t c = 0; c < json_array_size(json_array_get(rows, r)); c++) {
          double want = json_number_value(json_array_get(json_array_get(rows, r), c));
          double got = y->data[r * json_array_size(json_array_get(rows, r)) + c];
          if (fabs(got - want) > 1e-5) fail_msg("%s: prediction [%zu][%zu] = %.9g, Keras gave %.9g", path, r, c, got, want);
        }
      kcb_tensor_free(x);
      kcb_tensor_free(y);
      kcb_model_free(m);
    }
  }
  json_decref(exp);
}

/* A mixed-precision model read from `from` and saved again in each layout keeps Keras's
 * LossScaleOptimizer layout: the file kcb writes holds the same variables as Keras's file of that
 * layout, at the same paths, under the same names, with the same values and dtypes. (Keras loads
 * optimizer state only when the counts agree; a plain Adam layout would lose all of it.) */
static void resave_keeps_loss_scale_optimizer(kcb_model *m, const char *from) {
  static const char *const layouts[] = {".keras", ".h5", ".weights.h5"};
  char keras_path[1024], ours[1024];
  for (size_t l = 0; l < 3; l++) {
    snprintf(keras_path, sizeof keras_path, "%.*s%s", (int)(strrchr(from, '.') - from), from, layouts[l]);
    snprintf(ours, sizeof ours, "%s/mixed_resaved%s", tmpdir, layouts[l]);
    if (kcb_model_save(m, ours, NULL)) fail_msg("%s: %s", ours, kcb_error_last());
    kcb_checkpoint_file *a = NULL, *b = NULL;
    if (kcb_checkpoint_file_open(&a, keras_path) || kcb_checkpoint_file_open(&b, ours)) fail_msg("%s", kcb_error_last());
    assert_int_equal(kcb_checkpoint_file_var_count(a), kcb_checkpoint_file_var_count(b));
    for (size_t i = 0; i < kcb_checkpoint_file_var_count(a); i++) {
      const kcb_checkpoint_var *va = kcb_checkpoint_file_var(a, i), *vb = kcb_checkpoint_file_var(b, i);
      /* counters: int32 as kcb and Keras on JAX write them, int64 on TensorFlow */
      int same_dtype = va->dtype == vb->dtype || (va->dtype >= KCB_DTYPE_INT8 && vb->dtype >= KCB_DTYPE_INT8);
      if (strcmp(va->path, vb->path) || strcmp(va->name, vb->name) || va->count != vb->count || !same_dtype)
        fail_msg("%s variable %zu: Keras %s (%s) %zu values, kcb %s (%s) %zu values", layouts[l], i, va->path, va->name,
                 va->count, vb->path, vb->name, vb->count);
      double max_abs, rel;
      assert_ok(kcb_checkpoint_file_compare(a, i, b, i, &max_abs, &rel));
      if (max_abs != 0) fail_msg("%s %s differs by %g", layouts[l], va->path, max_abs);
    }
    kcb_checkpoint_file_close(a);
    kcb_checkpoint_file_close(b);
  }
  /* the config names the LossScaleOptimizer the file was compiled with, around Adam */
  char *config = NULL;
  assert_ok(kcb__model_config_json(m, &config));
  assert_non_null(strstr(config, "\"class_name\": \"LossScaleOptimizer\", \"config\": {\"name\": \"loss_scale_optimizer\", "
                                 "\"inner_optimizer\": {\"module\": \"keras.optimizers\", \"class_name\": \"Adam\""));
  assert_non_null(strstr(config, "\"initial_scale\": 32768.0, \"dynamic_growth_steps\": 2000}"));
  free(config);
}

/* Full models of kinds beyond the zoo (tests/data/zoo-synth): each loads, or fails with KCB_EFORMAT
 * naming the layer or model class kcb lacks. The mixed-precision one (Dense layers, a
 * LossScaleOptimizer around Adam) loads compiled: kcb computes in float32 and compiles the inner
 * optimizer (its state: test_optimizer_state_under_keras_names). */
static void test_synth_models_load_or_name_the_layer(void **state) {
  (void)state;
  const char *names[] = {"seqmix", "attn", "convs", "video", "nested", "mixed", "block", "k2mix"};
  const char *full[] = {".keras", ".h5"};
  char path[1024];
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
    for (size_t f = 0; f < 2; f++) {
      if (!strcmp(names[k], "k2mix") && f == 0) continue;
      snprintf(path, sizeof path, "%s/../zoo-synth/%s%s", KCB_SAVING_DATA, names[k], full[f]);
      kcb_model *m = NULL;
      int rc = kcb_model_load(&m, path, NULL);
      if (!strcmp(names[k], "mixed")) {
        if (rc) fail_msg("%s: %s", path, kcb_error_last());
        resave_keeps_loss_scale_optimizer(m, path);
        kcb_model_free(m);
        continue;
      }
      assert_int_equal(rc, KCB_EFORMAT);
      const char *msg = kcb_error_last();
      if (!strstr(msg, "layer '") && !strstr(msg, "model class 'Functional'")) fail_msg("%s: %s", path, msg);
    }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fixtures_load_and_predict),
      cmocka_unit_test(test_zoo_models_load_or_name_the_layer),
      cmocka_unit_test(test_optimizer_state_under_keras_names),
      cmocka_unit_test(test_unsupported_settings_refused), cmocka_unit_test(test_long_layer_names),
      cmocka_unit_test(test_tf213_store), cmocka_unit_test(test_tf2_optimizer_state), cmocka_unit_test(test_config_with_non_finite_numbers), cmocka_unit_test(test_model_name_kept), cmocka_unit_test(test_configs_keras_can_read), cmocka_unit_test(test_settings_kept_on_save), cmocka_unit_test(test_metric_display_names_reload), cmocka_unit_test(test_spatial_dropout_config), cmocka_unit_test(test_rescaling_same_float32), cmocka_unit_test(test_iterations_past_int32),
      cmocka_unit_test(test_synth_models_load_or_name_the_layer),
      cmocka_unit_test(test_fixtures_rebuild_model),
      cmocka_unit_test(test_fixture_optimizer_state),
      cmocka_unit_test(test_config_json_equals_keras),
      cmocka_unit_test(test_round_trip_all_layouts_and_optimizers),
      cmocka_unit_test(test_weights_override_and_metadata),
      cmocka_unit_test(test_fixture_info),
      cmocka_unit_test(test_layout_by_name),
      cmocka_unit_test(test_model_own_variables_refused),
      cmocka_unit_test(test_mismatch_errors),
      cmocka_unit_test(test_bad_files),
      cmocka_unit_test(test_uncompiled_load_saves_uncompiled),
      cmocka_unit_test(test_keras2_hard_sigmoid_refused),
      cmocka_unit_test(test_keras2_fixed_length_strings),
      cmocka_unit_test(test_atomic_write),
      cmocka_unit_test(test_save_through_links_and_long_names),
      cmocka_unit_test(test_weightless_layer_norm_converts),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
