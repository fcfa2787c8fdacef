/* test_tensorboard.c — a fit with the TensorBoard callback writes the log directory Keras's
 * would (spec/keras-callbacks.md §2.9): train/ and validation/ runs, Keras's tags and steps, and
 * values equal to the History of the same fit; weight histograms and images; the "keras" model
 * config; hparams with the run's final metrics. Everything is read back through the reader. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "test_helpers.h"

#include "internal.h"

#define EPOCHS 3
#define STEPS 3 /* 48 training samples in batches of 16 */

static char logdir[256];

static int setup(void **state) {
  (void)state;
  snprintf(logdir, sizeof logdir, "/tmp/kcb_test_tensorboard_XXXXXX");
  return mkdtemp(logdir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", logdir);
  return system(cmd) == 0 ? 0 : -1;
}

/* A series of (step, value) points of one tag in one run. */
typedef struct series {
  char tag[96];
  int64_t steps[64];
  double values[64];
  int n;
  int kind;
} series;

typedef struct run_data {
  series s[64];
  int n;
  int n_files;
  char keras_json[8192];
  int keras_plugin_ok;
  int hp_start, hp_experiment, hp_end, hp_status;
  char hp_metric_tags[16][64], hp_metric_groups[16][32];
  int n_hp_metrics;
  int image_w[16], image_h[16], n_images;
} run_data;

static series *get_series(run_data *d, const char *tag) {
  for (int i = 0; i < d->n; i++)
    if (strcmp(d->s[i].tag, tag) == 0) return &d->s[i];
  return NULL;
}

static void read_run(const char *run, run_data *d) {
  memset(d, 0, sizeof *d);
  char path[400];
  snprintf(path, sizeof path, "%s/%s", logdir, run);
  char **files;
  size_t nf;
  assert_ok(kcb_tfevents_list_files(path, &files, &nf));
  d->n_files = (int)nf;
  for (size_t i = 0; i < nf; i++) {
    size_t len = strlen(files[i]);
    if (*run) assert_string_equal(files[i] + len - 3, ".v2");
  }
  kcb_string_list_free(files, nf);
  kcb_event_reader *r;
  assert_ok(kcb_event_reader_open(&r, path));
  const kcb_event *e;
  int rc;
  while ((rc = kcb_event_reader_next(r, &e)) == 1) {
    for (size_t i = 0; i < e->n_values; i++) {
      const kcb_summary_value *v = &e->values[i];
      if (strcmp(v->tag, "keras") == 0) {
        assert_int_equal(e->step, 0);
        d->keras_plugin_ok = strcmp(v->plugin_name, "graph_keras_model") == 0 && v->plugin_content.len == 1 &&
                             v->plugin_content.data[0] == '1' && v->dtype == KCB_DT_STRING && v->rank == 0;
        assert_true(v->blobs[0].len < sizeof d->keras_json);
        memcpy(d->keras_json, v->blobs[0].data, v->blobs[0].len);
        continue;
      }
      if (v->kind == KCB_SUMMARY_HPARAMS) {
        if (v->hp_kind == KCB_HPARAMS_SESSION_START) d->hp_start++;
        if (v->hp_kind == KCB_HPARAMS_SESSION_END) d->hp_end++, d->hp_status = v->hp_status;
        if (v->hp_kind == KCB_HPARAMS_EXPERIMENT) {
          d->hp_experiment++;
          for (size_t k = 0; k < v->n_hp_metrics && k < 16; k++) {
            kcb__strlcpy(d->hp_metric_tags[k], v->hp_metric_tags[k], 64);
            kcb__strlcpy(d->hp_metric_groups[k], v->hp_metric_groups[k], 32);
          }
          d->n_hp_metrics = (int)v->n_hp_metrics;
        }
        continue;
      }
      series *s = get_series(d, v->tag);
      if (!s) {
        assert_true(d->n < 64);
        s = &d->s[d->n++];
        kcb__strlcpy(s->tag, v->tag, sizeof s->tag);
        s->kind = v->kind;
      }
      assert_true(s->n < 64);
      s->steps[s->n] = e->step;
      s->values[s->n++] = v->kind == KCB_SUMMARY_SCALAR ? v->scalar : v->kind == KCB_SUMMARY_HISTOGRAM ? v->hist_num : 0;
      if (v->kind == KCB_SUMMARY_IMAGE && d->n_images < 16) {
        d->image_w[d->n_images] = v->width;
        d->image_h[d->n_images++] = v->height;
      }
    }
  }
  assert_int_equal(rc, 0);
  kcb_event_reader_free(r);
}

static void assert_series(run_data *d, const char *tag, const int64_t *steps, const double *values, int n) {
  series *s = get_series(d, tag);
  if (!s) fail_msg("tag %s missing", tag);
  if (s->n != n) fail_msg("tag %s: %d points, expected %d", tag, s->n, n);
  for (int i = 0; i < n; i++) {
    if (s->steps[i] != steps[i]) fail_msg("tag %s point %d: step %lld, expected %lld", tag, i, (long long)s->steps[i], (long long)steps[i]);
    if (values && s->values[i] != (double)(float)values[i])
      fail_msg("tag %s step %lld: %.9g, expected %.9g", tag, (long long)steps[i], s->values[i], values[i]);
  }
}

static const double *history(kcb_history *h, const char *key) {
  const double *v;
  size_t n;
  assert_ok(kcb_history_values(h, key, &v, &n));
  assert_int_equal(n, kcb_history_epochs(h));
  return v;
}

static void test_fit_logs_like_keras(void **state) {
  (void)state;
  int64_t xs[2] = {64, 4}, ys[1] = {64};
  kcb_tensor *x, *y;
  assert_ok(kcb_tensor_new(&x, 2, xs));
  assert_ok(kcb_tensor_new(&y, 1, ys));
  kcb__rng rng;
  kcb__rng_seed(&rng, 3);
  for (int i = 0; i < 64; i++) {
    for (int j = 0; j < 4; j++) x->data[i * 4 + j] = (float)kcb__rng_normal(&rng);
    y->data[i] = (float)((x->data[i * 4] > 0) + (x->data[i * 4 + 1] > 0.5));
  }
  kcb_model *m = test_compiled_model(4, "8:relu,3:softmax", 1, KCB_OPT_ADAM, KCB_DEFAULT,
                                     KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, KCB_METRIC_ACCURACY);
  kcb_hparam hp[2] = {{"lr", KCB_HPARAM_NUMBER, 0.001, NULL, 0}, {"layers", KCB_HPARAM_STRING, 0, "8:relu,3:softmax", 0}};
  kcb_tensorboard_options o = KCB_TENSORBOARD_OPTIONS_INIT;
  o.log_dir = logdir;
  o.histogram_freq = 2;
  o.write_images = 1;
  o.write_steps_per_second = 1;
  o.update_freq = 2;
  o.hparams = hp;
  o.n_hparams = 2;
  kcb_callback *tb;
  assert_ok(kcb_tensorboard_new(&tb, &o));
  kcb_fit_options f = KCB_FIT_OPTIONS_INIT;
  f.epochs = EPOCHS;
  f.batch_size = 16;
  f.verbose = 0;
  f.validation_split = 0.25;
  f.callbacks = &tb;
  f.n_callbacks = 1;
  kcb_history *h;
  assert_ok(kcb_model_fit(m, x, y, &f, &h));

  run_data *train = malloc(sizeof *train), *val = malloc(sizeof *val), *root = malloc(sizeof *root);
  read_run("train", train);
  read_run("validation", val);
  read_run("", root);
  int64_t epochs[EPOCHS] = {0, 1, 2};
  /* train/: epoch_<metric> at step = epoch, values = History's */
  assert_series(train, "epoch_loss", epochs, history(h, "loss"), EPOCHS);
  assert_series(train, "epoch_accuracy", epochs, history(h, "accuracy"), EPOCHS);
  double lr[EPOCHS] = {0.001, 0.001, 0.001};
  assert_series(train, "epoch_learning_rate", epochs, lr, EPOCHS);
  assert_series(train, "epoch_steps_per_second", epochs, NULL, EPOCHS);
  for (int i = 0; i < EPOCHS; i++) assert_true(get_series(train, "epoch_steps_per_second")->values[i] > 0);
  /* batch_<metric> every update_freq=2 global batches (1-based, never reset) */
  int64_t bsteps[] = {2, 4, 6, 8};
  assert_series(train, "batch_loss", bsteps, NULL, 4);
  assert_series(train, "batch_accuracy", bsteps, NULL, 4);
  assert_series(train, "batch_steps_per_second", bsteps, NULL, 4);
  /* epoch-end logs are the running means at the epoch's last batch: step 6 ends epoch 1 */
  assert_true(get_series(train, "batch_loss")->values[2] == (double)(float)history(h, "loss")[1]);
  /* validation/: epoch_<metric> without val_, and evaluation_<metric>_vs_iterations */
  assert_series(val, "epoch_loss", epochs, history(h, "val_loss"), EPOCHS);
  assert_series(val, "epoch_accuracy", epochs, history(h, "val_accuracy"), EPOCHS);
  int64_t iters[EPOCHS] = {STEPS, 2 * STEPS, 3 * STEPS};
  assert_series(val, "evaluation_loss_vs_iterations", iters, history(h, "val_loss"), EPOCHS);
  assert_series(val, "evaluation_accuracy_vs_iterations", iters, history(h, "val_accuracy"), EPOCHS);
  assert_int_equal(val->n, 4);
  /* weights every histogram_freq=2 epochs: 0 and 2; histogram counts = weight sizes */
  int64_t hsteps[2] = {0, 2};
  double kernel_n[2] = {32, 32}, bias_n[2] = {8, 8};
  assert_series(train, "sequential/dense/kernel/histogram", hsteps, kernel_n, 2);
  assert_series(train, "sequential/dense/bias/histogram", hsteps, bias_n, 2);
  assert_series(train, "sequential/dense_1/kernel/histogram", hsteps, NULL, 2);
  assert_series(train, "sequential/dense_1/bias/image", hsteps, NULL, 2);
  assert_series(train, "sequential/dense/kernel/image", hsteps, NULL, 2);
  /* image shapes (height x width), as Keras's _log_weight_as_image: kernel (4, 8) stays 4 x 8;
   * bias (8) is 8 tall and 1 wide; kernel (8, 3) is transposed to 3 x 8 */
  assert_int_equal(train->image_h[0], 4), assert_int_equal(train->image_w[0], 8);
  assert_int_equal(train->image_h[1], 8), assert_int_equal(train->image_w[1], 1);
  assert_int_equal(train->image_h[2], 3), assert_int_equal(train->image_w[2], 8);
  assert_int_equal(train->n, 7 + 2 * 4); /* 4 epoch_ + 3 batch_ scalars, 4 weights x (histogram, image) */
  /* the model config under tag keras */
  assert_true(train->keras_plugin_ok);
  json_error_t err;
  json_t *cfg = json_loads(train->keras_json, 0, &err);
  assert_non_null(cfg);
  assert_string_equal(json_string_value(json_object_get(cfg, "class_name")), "Sequential");
  json_t *layers = json_object_get(json_object_get(cfg, "config"), "layers");
  assert_int_equal(json_array_size(layers), 3);
  assert_string_equal(json_string_value(json_object_get(json_array_get(layers, 0), "class_name")), "InputLayer");
  json_t *dense1 = json_object_get(json_array_get(layers, 2), "config");
  assert_int_equal(json_integer_value(json_object_get(dense1, "units")), 3);
  assert_string_equal(json_string_value(json_object_get(dense1, "activation")), "softmax");
  json_decref(cfg);
  /* hparams in the log_dir's own run: start, experiment naming the epoch metrics, end */
  assert_int_equal(root->hp_start, 1);
  assert_int_equal(root->hp_experiment, 1);
  assert_int_equal(root->hp_end, 1);
  assert_int_equal(root->hp_status, 1);
  assert_int_equal(root->n_hp_metrics, 4);
  assert_string_equal(root->hp_metric_groups[0], "train");
  assert_string_equal(root->hp_metric_tags[0], "epoch_accuracy");
  assert_string_equal(root->hp_metric_groups[3], "validation");
  assert_string_equal(root->hp_metric_tags[3], "epoch_loss");
  assert_int_equal(train->n_files, 1);
  assert_int_equal(val->n_files, 1);

  free(train), free(val), free(root);
  kcb_history_free(h);
  kcb_callback_free(tb);
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

/* validation_freq 2 skips the first epoch's validation: the hparams experiment, written at the
 * first epoch end, still names the validation run's metrics (the loss and the compiled metrics) */
static void test_hparams_metrics_with_validation_freq(void **state) {
  (void)state;
  int64_t xs[2] = {32, 4}, ys[1] = {32};
  kcb_tensor *x, *y;
  assert_ok(kcb_tensor_new(&x, 2, xs));
  assert_ok(kcb_tensor_new(&y, 1, ys));
  for (int i = 0; i < 32 * 4; i++) x->data[i] = (float)((i * 7) % 11) / 11.0f;
  for (int i = 0; i < 32; i++) y->data[i] = (float)(i % 3);
  kcb_model *m = test_compiled_model(4, "8:relu,3:softmax", 1, KCB_OPT_ADAM, KCB_DEFAULT,
                                     KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, KCB_METRIC_ACCURACY);
  kcb_hparam hp[1] = {{"lr", KCB_HPARAM_NUMBER, 0.001, NULL, 0}};
  char dir[300];
  snprintf(dir, sizeof dir, "%s/every_other", logdir);
  kcb_tensorboard_options o = KCB_TENSORBOARD_OPTIONS_INIT;
  o.log_dir = dir;
  o.hparams = hp;
  o.n_hparams = 1;
  kcb_callback *tb;
  assert_ok(kcb_tensorboard_new(&tb, &o));
  kcb_fit_options f = KCB_FIT_OPTIONS_INIT;
  f.epochs = 3;
  f.batch_size = 8;
  f.verbose = 0;
  f.validation_split = 0.25;
  f.validation_freq = 2;
  f.callbacks = &tb;
  f.n_callbacks = 1;
  assert_ok(kcb_model_fit(m, x, y, &f, NULL));
  run_data *root = malloc(sizeof *root);
  read_run("every_other", root);
  assert_int_equal(root->hp_experiment, 1);
  assert_int_equal(root->n_hp_metrics, 4);
  const char *want[4][2] = {{"train", "epoch_accuracy"}, {"train", "epoch_loss"}, {"validation", "epoch_accuracy"},
                            {"validation", "epoch_loss"}};
  for (int i = 0; i < 4; i++) {
    assert_string_equal(root->hp_metric_groups[i], want[i][0]);
    assert_string_equal(root->hp_metric_tags[i], want[i][1]);
  }
  free(root);
  kcb_callback_free(tb);
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

static void test_epoch_update_freq_writes_no_batches(void **state) {
  (void)state;
  int64_t xs[2] = {20, 2}, ys[2] = {20, 1};
  kcb_tensor *x, *y;
  assert_ok(kcb_tensor_new(&x, 2, xs));
  assert_ok(kcb_tensor_new(&y, 2, ys));
  for (int i = 0; i < 40; i++) x->data[i] = (float)i / 40.0f;
  for (int i = 0; i < 20; i++) y->data[i] = x->data[2 * i] - x->data[2 * i + 1];
  kcb_model *m = test_compiled_model(2, "1", 2, KCB_OPT_SGD, KCB_DEFAULT, KCB_LOSS_MEAN_SQUARED_ERROR, KCB_METRIC_COUNT);
  char dir[300];
  snprintf(dir, sizeof dir, "%s/epoch_only", logdir);
  kcb_tensorboard_options o = KCB_TENSORBOARD_OPTIONS_INIT;
  o.log_dir = dir;
  o.write_graph = 0;
  kcb_callback *tb;
  assert_ok(kcb_tensorboard_new(&tb, &o));
  kcb_fit_options f = KCB_FIT_OPTIONS_INIT;
  f.epochs = 2;
  f.batch_size = 5;
  f.verbose = 0;
  f.callbacks = &tb;
  f.n_callbacks = 1;
  kcb_history *h;
  assert_ok(kcb_model_fit(m, x, y, &f, &h));
  char saved[256];
  kcb__strlcpy(saved, logdir, sizeof saved);
  kcb__strlcpy(logdir, dir, sizeof logdir);
  run_data *train = malloc(sizeof *train);
  read_run("train", train);
  int64_t epochs[2] = {0, 1};
  assert_int_equal(train->n, 2); /* epoch_loss and epoch_learning_rate only */
  assert_series(train, "epoch_loss", epochs, history(h, "loss") , 2);
  double lr[2] = {0.01, 0.01};
  assert_series(train, "epoch_learning_rate", epochs, lr, 2);
  assert_int_equal(train->keras_json[0], '\0');
  kcb__strlcpy(logdir, saved, sizeof logdir);
  free(train);
  kcb_history_free(h);
  kcb_callback_free(tb);
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

/* A run whose weights diverge to Inf/NaN keeps training (Keras's histograms never raise): the
 * diverged weights' histograms are skipped, the scalars still written. */
static void test_diverging_weights_do_not_stop_fit(void **state) {
  (void)state;
  int64_t xs[2] = {20, 2}, ys[2] = {20, 1};
  kcb_tensor *x, *y;
  assert_ok(kcb_tensor_new(&x, 2, xs));
  assert_ok(kcb_tensor_new(&y, 2, ys));
  for (int i = 0; i < 40; i++) x->data[i] = (float)i;
  for (int i = 0; i < 20; i++) y->data[i] = 1e3f * x->data[2 * i];
  kcb_model *m = test_compiled_model(2, "4,1", 2, KCB_OPT_SGD, 1e6, KCB_LOSS_MEAN_SQUARED_ERROR, KCB_METRIC_COUNT);
  char dir[300];
  snprintf(dir, sizeof dir, "%s/diverging", logdir);
  kcb_tensorboard_options o = KCB_TENSORBOARD_OPTIONS_INIT;
  o.log_dir = dir;
  o.histogram_freq = 1;
  o.write_images = 1;
  kcb_callback *tb;
  assert_ok(kcb_tensorboard_new(&tb, &o));
  kcb_fit_options f = KCB_FIT_OPTIONS_INIT;
  f.epochs = 3;
  f.batch_size = 5;
  f.verbose = 0;
  f.callbacks = &tb;
  f.n_callbacks = 1;
  kcb_history *h;
  assert_ok(kcb_model_fit(m, x, y, &f, &h));
  double loss = 0;
  assert_true(kcb_history_last(h, "loss", &loss));
  assert_false(isfinite(loss)); /* it did diverge */
  kcb_history_free(h);
  kcb_callback_free(tb);
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

static void test_unwritable_log_dir_fails_fit(void **state) {
  (void)state;
  int64_t xs[2] = {8, 2}, ys[2] = {8, 1};
  kcb_tensor *x, *y;
  assert_ok(kcb_tensor_new(&x, 2, xs));
  assert_ok(kcb_tensor_new(&y, 2, ys));
  kcb_model *m = test_compiled_model(2, "1", 2, KCB_OPT_SGD, KCB_DEFAULT, KCB_LOSS_MEAN_SQUARED_ERROR, KCB_METRIC_COUNT);
  kcb_tensorboard_options o = KCB_TENSORBOARD_OPTIONS_INIT;
  o.log_dir = "/proc/kcb_no_such_dir/logs";
  kcb_callback *tb;
  assert_ok(kcb_tensorboard_new(&tb, &o));
  kcb_fit_options f = KCB_FIT_OPTIONS_INIT;
  f.verbose = 0;
  f.callbacks = &tb;
  f.n_callbacks = 1;
  assert_error(kcb_model_fit(m, x, y, &f, NULL), KCB_ENOENT, "/proc/kcb_no_such_dir");
  kcb_callback_free(tb);
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

/* The first histogram value with this tag in a run directory, copied out of the reader: its
 * encoding (tensor dtype, rank, plugin), stats and buckets. */
typedef struct hist_copy {
  int found, dtype, rank;
  char plugin[32];
  double num, sum, sum_squares;
  size_t n_buckets;
  kcb_histogram_bucket b[32];
  unsigned char content[30 * 24];
  size_t content_len;
} hist_copy;

static void read_hist(const char *dir, const char *tag, hist_copy *h) {
  memset(h, 0, sizeof *h);
  kcb_event_reader *r;
  assert_ok(kcb_event_reader_open(&r, dir));
  const kcb_event *e;
  while (!h->found && kcb_event_reader_next(r, &e) == 1)
    for (size_t i = 0; i < e->n_values && !h->found; i++) {
      const kcb_summary_value *v = &e->values[i];
      if (strcmp(v->tag, tag) != 0) continue;
      assert_int_equal(v->kind, KCB_SUMMARY_HISTOGRAM);
      h->found = 1, h->dtype = v->dtype, h->rank = v->rank;
      kcb__strlcpy(h->plugin, v->plugin_name ? v->plugin_name : "", sizeof h->plugin);
      h->num = v->hist_num, h->sum = v->hist_sum, h->sum_squares = v->hist_sum_squares;
      assert_true(v->n_buckets <= 32 && v->tensor_content.len <= sizeof h->content);
      h->n_buckets = v->n_buckets;
      if (v->n_buckets) memcpy(h->b, v->buckets, v->n_buckets * sizeof *v->buckets);
      if (v->tensor_content.len) memcpy(h->content, v->tensor_content.data, v->tensor_content.len);
      h->content_len = v->tensor_content.len;
    }
  kcb_event_reader_free(r);
  assert_true(h->found);
}

/* histogram_format: PROTO (the default) stores the weights' exact sum; TENSOR writes the bytes of
 * kcb_summary_writer_add_histogram (Keras 3's [30,3] DT_DOUBLE tensor); both hold the same buckets. */
static void test_histogram_formats(void **state) {
  (void)state;
  int64_t xs[2] = {32, 3}, ys[1] = {32};
  kcb_tensor *x, *y;
  assert_ok(kcb_tensor_new(&x, 2, xs));
  assert_ok(kcb_tensor_new(&y, 1, ys));
  for (int i = 0; i < 96; i++) x->data[i] = (float)((i * 37) % 11) / 11.0f - 0.4f;
  for (int i = 0; i < 32; i++) y->data[i] = (float)(i % 2);
  char dirs[2][300], run[320], direct[320];
  assert_true(strlen(logdir) < 200); /* room for the suffixes below */
  hist_copy h[2];
  double sum = 0, sum_squares = 0;
  for (int fmt = 0; fmt < 2; fmt++) {
    kcb_model *m = test_compiled_model(3, "16:relu,2:softmax", 1, KCB_OPT_ADAM, KCB_DEFAULT,
                                       KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, KCB_METRIC_COUNT);
    snprintf(dirs[fmt], 280, "%.200s/hist_%s", logdir, fmt ? "tensor" : "proto");
    kcb_tensorboard_options o = KCB_TENSORBOARD_OPTIONS_INIT;
    assert_int_equal(o.histogram_format, KCB_HISTOGRAM_PROTO);
    o.log_dir = dirs[fmt];
    o.histogram_freq = 1;
    if (fmt) o.histogram_format = KCB_HISTOGRAM_TENSOR;
    kcb_callback *tb;
    assert_ok(kcb_tensorboard_new(&tb, &o));
    kcb_fit_options f = KCB_FIT_OPTIONS_INIT;
    f.epochs = 1; /* the histograms of epoch 0 are of the final weights */
    f.batch_size = 8;
    f.verbose = 0;
    f.callbacks = &tb;
    f.n_callbacks = 1;
    kcb_history *hist;
    assert_ok(kcb_model_fit(m, x, y, &f, &hist));
    kcb_history_free(hist);
    kcb_callback_free(tb);
    snprintf(run, sizeof run, "%.290s/train", dirs[fmt]);
    read_hist(run, "sequential/dense/kernel/histogram", &h[fmt]);
    kcb_weight_info wi;
    assert_ok(kcb_model_weight(m, 0, &wi));
    assert_string_equal(wi.name, "kernel");
    if (fmt == 0) {
      for (size_t i = 0; i < wi.size; i++) sum += wi.data[i], sum_squares += (double)wi.data[i] * wi.data[i];
    } else { /* the same weights through the summary writer directly: the callback's bytes */
      snprintf(direct, sizeof direct, "%.290s/direct", dirs[fmt]);
      kcb_summary_writer *w;
      assert_ok(kcb_summary_writer_new(&w, direct, NULL));
      assert_ok(kcb_summary_writer_add_histogram(w, "sequential/dense/kernel/histogram", wi.data, wi.size, 0, 0));
      assert_ok(kcb_summary_writer_close(w));
    }
    kcb_model_free(m);
  }
  /* PROTO: no tensor, no plugin metadata; the exact sum of the 48 kernel weights */
  assert_int_equal(h[0].dtype, 0);
  assert_string_equal(h[0].plugin, "");
  assert_true(h[0].num == 48 && h[0].sum == sum);
  assert_true(fabs(h[0].sum_squares - sum_squares) <= 1e-13 * sum_squares);
  /* TENSOR: Keras 3's encoding, the bytes kcb_summary_writer_add_histogram writes */
  assert_int_equal(h[1].dtype, KCB_DT_DOUBLE);
  assert_int_equal(h[1].rank, 2);
  assert_string_equal(h[1].plugin, "histograms");
  assert_true(isnan(h[1].sum) && h[1].num == 48);
  assert_int_equal(h[1].n_buckets, 30);
  hist_copy d;
  read_hist(direct, "sequential/dense/kernel/histogram", &d);
  assert_int_equal(d.content_len, 30 * 24);
  assert_int_equal(h[1].content_len, d.content_len);
  assert_memory_equal(h[1].content, d.content, d.content_len);
  /* the same weights (same seed) and the same buckets in both; the proto keeps the non-empty range */
  assert_true(h[0].n_buckets <= 30 && h[0].n_buckets > 0);
  size_t first = 0;
  while (h[1].b[first].count == 0) first++;
  for (size_t i = 0; i < h[0].n_buckets; i++) {
    assert_true(h[0].b[i].left == h[1].b[first + i].left && h[0].b[i].right == h[1].b[first + i].right);
    assert_true(h[0].b[i].count == h[1].b[first + i].count);
  }
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

static void test_bad_options(void **state) {
  (void)state;
  kcb_callback *tb;
  kcb_tensorboard_options o = KCB_TENSORBOARD_OPTIONS_INIT;
  o.log_dir = "";
  assert_error(kcb_tensorboard_new(&tb, &o), KCB_EINVAL, "log_dir");
  o.log_dir = "x";
  o.update_freq = -1;
  assert_error(kcb_tensorboard_new(&tb, &o), KCB_EINVAL, "update_freq");
  o.update_freq = 0;
  o.histogram_format = (kcb_histogram_format)2;
  assert_error(kcb_tensorboard_new(&tb, &o), KCB_EINVAL, "histogram_format 2");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fit_logs_like_keras),
      cmocka_unit_test(test_hparams_metrics_with_validation_freq),
      cmocka_unit_test(test_epoch_update_freq_writes_no_batches),
      cmocka_unit_test(test_diverging_weights_do_not_stop_fit),
      cmocka_unit_test(test_unwritable_log_dir_fails_fit),
      cmocka_unit_test(test_histogram_formats),
      cmocka_unit_test(test_bad_options),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
