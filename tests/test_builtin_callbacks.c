/* test_builtin_callbacks.c — EarlyStopping, ReduceLROnPlateau, LearningRateScheduler (and its
 * schedules) and TerminateOnNaN, pinned to Keras 3's behaviour (spec/keras-callbacks.md §2.5–§2.7,
 * §2.11) with concrete sequences: the monitored value of every epoch is chosen by the test, and the
 * expected stop epoch, restored weights and learning rates are worked out by hand from the spec. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "test_helpers.h"

#define PI 3.14159265358979323846

/* ---- a driver: the hooks fit calls, with logs the test chooses ------------------------------ */

typedef struct drive {
  kcb_model *model;
  kcb_callback_list list;
  int epochs_run;      /* how many on_epoch_end calls were made */
  double lr_logged[32]; /* "learning_rate" in each epoch's logs after the list ran (NaN if absent) */
} drive;

static kcb_model *tiny_model(double lr) {
  return test_compiled_model(2, "1", 7, KCB_OPT_SGD, lr, KCB_LOSS_MEAN_SQUARED_ERROR, KCB_METRIC_ACCURACY);
}

/* Every parameter set to `mark`, so a restored snapshot tells which epoch it came from. */
static void mark_weights(kcb_model *m, float mark) {
  size_t n = kcb_model_param_count(m);
  float *w = malloc(n * sizeof *w);
  for (size_t i = 0; i < n; i++) w[i] = mark;
  assert_ok(kcb_model_set_weights(m, w, n));
  free(w);
}

static float weights_mark(const kcb_model *m) {
  size_t n = kcb_model_param_count(m);
  float *w = malloc(n * sizeof *w);
  assert_ok(kcb_model_get_weights(m, w, n));
  float v = w[0];
  for (size_t i = 1; i < n; i++) assert_true(w[i] == v);
  free(w);
  return v;
}

/* Runs up to n epochs as fit does: train begin; per epoch begin, weights marked epoch+1, epoch end
 * with {key: values[e], "loss": loss}; stop when asked; train end with the last logs. Returns the
 * first error a hook returned. */
static int drive_run(drive *d, const char *key, const double *values, int n) {
  kcb_logs logs, last;
  kcb_logs_clear(&logs);
  kcb_logs_clear(&last);
  d->list.params.epochs = n;
  d->list.params.steps = 1;
  kcb_model_set_stop_training(d->model, 0);
  int rc = kcb_callback_list_call(&d->list, KCB_HOOK_TRAIN_BEGIN, 0, &logs);
  if (rc) return rc;
  d->epochs_run = 0;
  for (int e = 0; e < n; e++) {
    kcb_logs_clear(&logs);
    if ((rc = kcb_callback_list_call(&d->list, KCB_HOOK_EPOCH_BEGIN, e, &logs))) return rc;
    mark_weights(d->model, (float)(e + 1));
    kcb_logs_clear(&logs);
    assert_ok(kcb_logs_set(&logs, "loss", 0.5));
    if (!isnan(values[e])) assert_ok(kcb_logs_set(&logs, key, values[e]));
    if ((rc = kcb_callback_list_call(&d->list, KCB_HOOK_EPOCH_END, e, &logs))) return rc;
    d->lr_logged[e] = kcb_logs_get(&logs, "learning_rate", &d->lr_logged[e]) ? d->lr_logged[e] : NAN;
    d->epochs_run++;
    kcb_logs_copy(&last, &logs);
    if (kcb_model_stop_training(d->model)) break;
  }
  return kcb_callback_list_call(&d->list, KCB_HOOK_TRAIN_END, 0, &last);
}

static void drive_init(drive *d, double lr, kcb_callback *a, kcb_callback *b) {
  memset(d, 0, sizeof *d);
  d->model = tiny_model(lr);
  if (a) assert_ok(kcb_callback_list_add(&d->list, a));
  if (b) assert_ok(kcb_callback_list_add(&d->list, b));
  for (size_t i = 0; i < d->list.count; i++) d->list.items[i]->model = d->model;
}

/* A stream the test reads back. */
typedef struct capture {
  char *text;
  size_t len;
  FILE *f;
} capture;
static void capture_open(capture *c) { c->f = open_memstream(&c->text, &c->len); assert_non_null(c->f); }
static const char *capture_text(capture *c) { fflush(c->f); return c->text; }
static void capture_close(capture *c) { fclose(c->f); free(c->text); }

/* ---- EarlyStopping -------------------------------------------------------------------------- */

/* Keras's test_early_stopping_final_weights_when_restoring_model_weights: losses 0.9, 0.8, 0.7,
 * 0.71, 0.72, ... with baseline 0.5 (never beaten, so `wait` never resets) and patience 5: wait
 * reaches 5 at epoch index 4, which stops; the best epoch is index 2, whose weights come back. */
static void test_early_stopping_baseline_and_restore(void **state) {
  (void)state;
  capture out;
  capture_open(&out);
  kcb_early_stopping_options o = KCB_EARLY_STOPPING_OPTIONS_INIT;
  o.patience = 5;
  o.baseline = 0.5;
  o.restore_best_weights = 1;
  o.verbose = 1;
  o.stream = out.f;
  kcb_callback *es;
  assert_ok(kcb_early_stopping_new(&es, &o));
  drive d;
  drive_init(&d, 0.01, es, NULL);
  const double v[] = {0.9, 0.8, 0.7, 0.71, 0.72, 0.73, 0.74, 0.75, 0.76, 0.77};
  assert_ok(drive_run(&d, "val_loss", v, 10));
  assert_int_equal(d.epochs_run, 5);
  assert_int_equal(kcb_early_stopping_stopped_epoch(es), 4);
  assert_int_equal(kcb_early_stopping_best_epoch(es), 2);
  assert_true(kcb_early_stopping_best(es) == 0.7);
  assert_true(weights_mark(d.model) == 3.0f); /* epoch index 2 was marked 3 */
  assert_string_equal(capture_text(&out),
                      "Epoch 5: early stopping\nRestoring model weights from the end of the best epoch: 3.\n");
  capture_close(&out);
  kcb_callback_free(es);
  kcb_model_free(d.model);
}

/* An infinite baseline is accepted, as Keras does: in min mode every finite value beats +inf (so
 * it acts as no baseline), none beats -inf (so `wait` never resets). Values improve for 3 epochs,
 * then stay flat; patience 3. */
static void test_early_stopping_infinite_baseline(void **state) {
  (void)state;
  const double v[] = {0.9, 0.8, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7};
  const struct { double baseline; int epochs, stopped; } cases[] = {
      {NAN, 6, 5}, {INFINITY, 6, 5}, {-INFINITY, 4, 3}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    kcb_early_stopping_options o = KCB_EARLY_STOPPING_OPTIONS_INIT;
    o.patience = 3;
    o.baseline = cases[i].baseline;
    kcb_callback *es;
    assert_ok(kcb_early_stopping_new(&es, &o));
    drive d;
    drive_init(&d, 0.01, es, NULL);
    assert_ok(drive_run(&d, "val_loss", v, 10));
    assert_int_equal(d.epochs_run, cases[i].epochs);
    assert_int_equal(kcb_early_stopping_stopped_epoch(es), cases[i].stopped);
    assert_true(kcb_early_stopping_best(es) == 0.7);
    kcb_callback_free(es);
    kcb_model_free(d.model);
  }
}

typedef struct es_case {
  const char *monitor;
  kcb_monitor_mode mode;
  double min_delta;
  int patience, start_from_epoch;
  double values[8];
  int n;
  int want_epochs, want_stopped, want_best_epoch;
} es_case;

static void test_early_stopping_sequences(void **state) {
  (void)state;
  const es_case cases[] = {
      /* Keras's docstring: patience 3, a loss that never improves after epoch 0 runs 4 epochs. */
      {"loss", KCB_MONITOR_AUTO, 0, 3, 0, {1, 1, 1, 1, 1, 1, 1, 1}, 8, 4, 3, 0},
      /* patience 0: the first epoch after epoch 0 that does not improve stops training. */
      {"val_loss", KCB_MONITOR_AUTO, 0, 0, 0, {1.0, 0.9, 0.95, 0.5}, 4, 3, 2, 1},
      /* a tie is not an improvement */
      {"val_loss", KCB_MONITOR_AUTO, 0, 0, 0, {1.0, 1.0, 0.5}, 3, 2, 1, 0},
      /* min_delta 0.1 (sign ignored): 0.95 is not below 1.0 - 0.1 */
      {"val_loss", KCB_MONITOR_MIN, -0.1, 1, 0, {1.0, 0.95, 0.5}, 3, 2, 1, 0},
      /* auto mode on an accuracy maximises */
      {"val_accuracy", KCB_MONITOR_AUTO, 0, 0, 0, {0.5, 0.6, 0.55, 0.9}, 4, 3, 2, 1},
      /* start_from_epoch 2: epochs 0 and 1 are ignored, even for `best` */
      {"val_loss", KCB_MONITOR_AUTO, 0, 0, 2, {0.1, 0.2, 0.5, 0.6, 0.1}, 5, 4, 3, 2},
      /* patience 2 with a recovery: 1.0, 1.1 (wait 1), 0.9 (reset), 1.0 (1), 1.0 (2: stop at 4) */
      {"val_loss", KCB_MONITOR_AUTO, 0, 2, 0, {1.0, 1.1, 0.9, 1.0, 1.0, 0.1}, 6, 5, 4, 2},
      /* never stops: every epoch improves */
      {"val_loss", KCB_MONITOR_AUTO, 0, 0, 0, {5, 4, 3, 2, 1}, 5, 5, 0, 4},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const es_case *c = &cases[i];
    kcb_early_stopping_options o = KCB_EARLY_STOPPING_OPTIONS_INIT;
    o.monitor = c->monitor;
    o.mode = c->mode;
    o.min_delta = c->min_delta;
    o.patience = c->patience;
    o.start_from_epoch = c->start_from_epoch;
    o.restore_best_weights = 1;
    kcb_callback *es;
    assert_ok(kcb_early_stopping_new(&es, &o));
    drive d;
    drive_init(&d, 0.01, es, NULL);
    assert_ok(drive_run(&d, c->monitor, c->values, c->n));
    if (d.epochs_run != c->want_epochs || kcb_early_stopping_stopped_epoch(es) != c->want_stopped ||
        kcb_early_stopping_best_epoch(es) != c->want_best_epoch)
      fail_msg("case %zu: ran %d epochs, stopped_epoch %d, best_epoch %d; expected %d, %d, %d", i, d.epochs_run,
               kcb_early_stopping_stopped_epoch(es), kcb_early_stopping_best_epoch(es), c->want_epochs, c->want_stopped,
               c->want_best_epoch);
    assert_true(weights_mark(d.model) == (float)(c->want_best_epoch + 1));
    kcb_callback_free(es);
    kcb_model_free(d.model);
  }
}

static int stop_at_epoch_2(kcb_callback *cb, int epoch, kcb_logs *logs) {
  if (epoch == 2) kcb_model_set_stop_training(cb->model, 1);
  return 0;
}

/* Keras 3 restores at train end whatever ended training: epochs exhausted, or another callback. */
static void test_early_stopping_restores_whatever_ended_training(void **state) {
  (void)state;
  capture out;
  capture_open(&out);
  kcb_early_stopping_options o = KCB_EARLY_STOPPING_OPTIONS_INIT;
  o.patience = 10;
  o.restore_best_weights = 1;
  o.verbose = 1;
  o.stream = out.f;
  kcb_callback *es;
  assert_ok(kcb_early_stopping_new(&es, &o));
  drive d;
  drive_init(&d, 0.01, es, NULL);
  const double v[] = {0.5, 0.3, 0.4};
  assert_ok(drive_run(&d, "val_loss", v, 3)); /* epochs exhausted */
  assert_int_equal(kcb_early_stopping_stopped_epoch(es), 0);
  assert_true(weights_mark(d.model) == 2.0f);
  assert_string_equal(capture_text(&out), "Restoring model weights from the end of the best epoch: 2.\n");
  kcb_model_free(d.model);

  kcb_callback_ops ops = {0};
  ops.on_epoch_end = stop_at_epoch_2;
  kcb_callback *stopper;
  assert_ok(kcb_lambda_callback_new(&stopper, &ops, NULL));
  drive_init(&d, 0.01, stopper, es);
  const double w[] = {0.5, 0.3, 0.4, 0.1, 0.1};
  assert_ok(drive_run(&d, "val_loss", w, 5)); /* the same instance, reset at train begin */
  assert_int_equal(d.epochs_run, 3);
  assert_int_equal(kcb_early_stopping_stopped_epoch(es), 0);
  assert_true(weights_mark(d.model) == 2.0f);
  kcb_callback_free(stopper);
  kcb_callback_free(es);
  kcb_model_free(d.model);
  capture_close(&out);
}

static void test_early_stopping_monitor_errors(void **state) {
  (void)state;
  kcb_callback *es;
  kcb_early_stopping_options o = KCB_EARLY_STOPPING_OPTIONS_INIT;
  o.monitor = "";
  assert_error(kcb_early_stopping_new(&es, &o), KCB_EINVAL, "EarlyStopping: monitor");
  o.monitor = "val_loss";
  o.patience = -1;
  assert_error(kcb_early_stopping_new(&es, &o), KCB_EINVAL, "patience must be >= 0");

  /* An unknown metric in auto mode fails fit before any training: weights and rate intact. */
  o = (kcb_early_stopping_options)KCB_EARLY_STOPPING_OPTIONS_INIT;
  o.monitor = "val_f1";
  assert_ok(kcb_early_stopping_new(&es, &o));
  kcb_model *m = tiny_model(0.01);
  size_t n = kcb_model_param_count(m);
  float *before = malloc(n * sizeof *before), *after = malloc(n * sizeof *after);
  assert_ok(kcb_model_get_weights(m, before, n));
  float xs[8] = {1, 2, 3, 4, 5, 6, 7, 8}, ys[4] = {1, 0, 1, 0};
  int64_t xshape[2] = {4, 2}, yshape[2] = {4, 1};
  kcb_tensor x = kcb_tensor_view(xs, 2, xshape), y = kcb_tensor_view(ys, 2, yshape);
  kcb_fit_options fo = KCB_FIT_OPTIONS_INIT;
  fo.verbose = 0;
  fo.epochs = 3;
  fo.callbacks = &es;
  fo.n_callbacks = 1;
  assert_error(kcb_model_fit(m, &x, &y, &fo, NULL), KCB_EINVAL, "monitor=val_f1, but Keras isn't able");
  assert_ok(kcb_model_get_weights(m, after, n));
  assert_memory_equal(before, after, n * sizeof *before);
  assert_int_equal(kcb_model_iterations(m), 0);
  kcb_callback_free(es);

  /* A monitor missing from the logs (explicit mode) is Keras's warning, nothing more. */
  capture out;
  capture_open(&out);
  o = (kcb_early_stopping_options)KCB_EARLY_STOPPING_OPTIONS_INIT;
  o.mode = KCB_MONITOR_MIN;
  o.stream = out.f;
  assert_ok(kcb_early_stopping_new(&es, &o));
  fo.callbacks = &es;
  assert_ok(kcb_model_fit(m, &x, &y, &fo, NULL));
  assert_string_equal(capture_text(&out),
                      "UserWarning: Early stopping conditioned on metric `val_loss` which is not available. "
                      "Available metrics are: accuracy,loss\n"); /* once, as Python shows a warning */
  capture_close(&out);
  kcb_callback_free(es);
  kcb_model_free(m);
  free(before);
  free(after);
}

/* ---- ReduceLROnPlateau ---------------------------------------------------------------------- */

/* lr 1.0, factor 0.5, patience 2, cooldown 1, min_lr 0.2, min_delta 0 on the loss. By hand (w =
 * wait, c = cooldown counter, the logged rate is the one before the epoch's reduction):
 *  e0 1.0 best            e1 1.0 w1              e2 1.0 w2 -> 0.5, c1
 *  e3 1.0 c0, w1          e4 1.0 w2 -> 0.25, c1  e5 0.5 c0, best
 *  e6 0.6 w1              e7 0.7 w2 -> max(0.125, 0.2) = 0.2, c1
 *  e8 0.8 c0, w1          e9 0.9 w2: float32 0.2 is not above np.float32(0.2): no change
 *  e10 1.0 w3: no change */
static void test_reduce_lr_sequence(void **state) {
  (void)state;
  capture out;
  capture_open(&out);
  kcb_reduce_lr_on_plateau_options o = KCB_REDUCE_LR_ON_PLATEAU_OPTIONS_INIT;
  o.monitor = "loss";
  o.factor = 0.5;
  o.patience = 2;
  o.cooldown = 1;
  o.min_lr = 0.2;
  o.min_delta = 0;
  o.verbose = 1;
  o.stream = out.f;
  kcb_callback *r;
  assert_ok(kcb_reduce_lr_on_plateau_new(&r, &o));
  drive d;
  drive_init(&d, 1.0, r, NULL);
  const double v[] = {1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
  /* drive_run puts "loss" = 0.5 and then the value under the monitored key "loss" */
  assert_ok(drive_run(&d, "loss", v, 11));
  const double f02 = (double)0.2f;
  const double want[] = {1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.25, f02, f02, f02};
  for (int e = 0; e < 11; e++)
    if (d.lr_logged[e] != want[e]) fail_msg("epoch %d logged learning_rate %.17g, expected %.17g", e, d.lr_logged[e], want[e]);
  assert_true(kcb_model_learning_rate(d.model) == f02);
  assert_string_equal(capture_text(&out),
                      "\nEpoch 3: ReduceLROnPlateau reducing learning rate to 0.5.\n"
                      "\nEpoch 5: ReduceLROnPlateau reducing learning rate to 0.25.\n"
                      "\nEpoch 8: ReduceLROnPlateau reducing learning rate to 0.2.\n");
  capture_close(&out);
  kcb_callback_free(r);
  kcb_model_free(d.model);

  /* patience 1, cooldown 2 on a flat loss: a reduction every other epoch, never during cooldown
   * (the counter is decremented before the test, so the epoch it reaches 0 counts again):
   *  e0 best  e1 w1 -> 0.5 c2  e2 c1  e3 c0 w1 -> 0.25 c2  e4 c1  e5 -> 0.125  e6 c1  e7 -> 0.0625 */
  o.patience = 1;
  o.cooldown = 2;
  o.min_lr = 0;
  o.verbose = 0;
  assert_ok(kcb_reduce_lr_on_plateau_new(&r, &o));
  drive_init(&d, 1.0, r, NULL);
  const double flat[] = {1, 1, 1, 1, 1, 1, 1, 1};
  assert_ok(drive_run(&d, "loss", flat, 8));
  const double want2[] = {1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125};
  for (int e = 0; e < 8; e++)
    if (d.lr_logged[e] != want2[e]) fail_msg("cooldown: epoch %d logged %.17g, expected %.17g", e, d.lr_logged[e], want2[e]);
  assert_true(kcb_model_learning_rate(d.model) == 0.0625);
  kcb_callback_free(r);
  kcb_model_free(d.model);
}

/* The spec's trace: a float32 rate 0.001 halved prints as Python's repr of the double product. */
static void test_reduce_lr_message_float32(void **state) {
  (void)state;
  capture out;
  capture_open(&out);
  kcb_reduce_lr_on_plateau_options o = KCB_REDUCE_LR_ON_PLATEAU_OPTIONS_INIT;
  o.factor = 0.5;
  o.patience = 0;
  o.verbose = 1;
  o.stream = out.f;
  kcb_callback *r;
  assert_ok(kcb_reduce_lr_on_plateau_new(&r, &o));
  drive d;
  drive_init(&d, 0.001, r, NULL);
  const double v[] = {1.0, 1.0};
  assert_ok(drive_run(&d, "val_loss", v, 2));
  assert_string_equal(capture_text(&out), "\nEpoch 2: ReduceLROnPlateau reducing learning rate to 0.0005000000237487257.\n");
  assert_true(d.lr_logged[0] == (double)0.001f && d.lr_logged[1] == (double)0.001f);
  capture_close(&out);
  kcb_callback_free(r);
  kcb_model_free(d.model);

  assert_error(kcb_reduce_lr_on_plateau_new(&r, &(kcb_reduce_lr_on_plateau_options){"val_loss", 1.0, 10, 0, KCB_MONITOR_AUTO, 1e-4, 0, 0.0, NULL}),
               KCB_EINVAL, "ReduceLROnPlateau does not support a factor >= 1.0. Got 1");
  assert_error(kcb_reduce_lr_on_plateau_new(&r, &(kcb_reduce_lr_on_plateau_options){"val_loss", 0.5, 10, 0, KCB_MONITOR_AUTO, 1e-4, 0, -1.0, NULL}),
               KCB_EINVAL, "min_lr");
  assert_error(kcb_reduce_lr_on_plateau_new(&r, &(kcb_reduce_lr_on_plateau_options){"val_loss", NAN, 10, 0, KCB_MONITOR_AUTO, 1e-4, 0, 0.0, NULL}),
               KCB_EINVAL, "ReduceLROnPlateau: factor is NaN");
}

/* ---- LearningRateScheduler ------------------------------------------------------------------ */

static double bad_schedule(int epoch, double lr, void *data) {
  (void)lr;
  return epoch < 2 ? 0.05 * (epoch + 1) : *(const double *)data;
}

static void test_lr_scheduler_step_decay_and_logs(void **state) {
  (void)state;
  capture out;
  capture_open(&out);
  kcb_lr_step_decay step = {0.1, 0.5, 2};
  kcb_lr_scheduler_options o = KCB_LR_SCHEDULER_OPTIONS_INIT;
  o.verbose = 1;
  o.stream = out.f;
  kcb_callback *s;
  assert_ok(kcb_lr_scheduler_new(&s, kcb_lr_schedule_step_decay, &step, &o));
  drive d;
  drive_init(&d, 0.01, s, NULL);
  const double v[] = {1, 1, 1, 1, 1};
  assert_ok(drive_run(&d, "val_loss", v, 5));
  /* the logs hold the optimizer's float32 variable */
  const double want[] = {(double)0.1f, (double)0.1f, (double)0.05f, (double)0.05f, (double)0.025f};
  for (int e = 0; e < 5; e++) assert_true(d.lr_logged[e] == want[e]);
  assert_string_equal(capture_text(&out),
                      "\nEpoch 1: LearningRateScheduler setting learning rate to 0.1.\n"
                      "\nEpoch 2: LearningRateScheduler setting learning rate to 0.1.\n"
                      "\nEpoch 3: LearningRateScheduler setting learning rate to 0.05.\n"
                      "\nEpoch 4: LearningRateScheduler setting learning rate to 0.05.\n"
                      "\nEpoch 5: LearningRateScheduler setting learning rate to 0.025.\n");
  capture_close(&out);
  kcb_callback_free(s);
  kcb_model_free(d.model);
}

static void test_lr_scheduler_bad_rates(void **state) {
  (void)state;
  const double bad[] = {NAN, -0.001, INFINITY};
  const char *text[] = {"returned nan at epoch 2", "returned -0.001 at epoch 2", "returned inf at epoch 2"};
  for (int i = 0; i < 3; i++) {
    kcb_callback *s;
    assert_ok(kcb_lr_scheduler_new(&s, bad_schedule, (void *)&bad[i], NULL));
    drive d;
    drive_init(&d, 0.01, s, NULL);
    const double v[] = {1, 1, 1, 1};
    assert_error(drive_run(&d, "val_loss", v, 4), KCB_EINVAL, text[i]);
    assert_int_equal(d.epochs_run, 2);
    assert_true(kcb_model_learning_rate(d.model) == (double)0.1f); /* epoch 1's rate stays */
    kcb_callback_free(s);
    kcb_model_free(d.model);
  }
  kcb_callback *s;
  assert_error(kcb_lr_scheduler_new(&s, NULL, NULL, NULL), KCB_EINVAL, "schedule function is NULL");
}

static void test_schedules(void **state) {
  (void)state;
  kcb_lr_exponential_decay ex = {1.0, 2, 0.5, 0};
  assert_true(kcb_lr_schedule_exponential_decay(0, 9, &ex) == 1.0);
  assert_true(fabs(kcb_lr_schedule_exponential_decay(1, 9, &ex) - sqrt(0.5)) < 1e-15);
  assert_true(kcb_lr_schedule_exponential_decay(4, 9, &ex) == 0.25);
  ex.staircase = 1;
  assert_true(kcb_lr_schedule_exponential_decay(1, 9, &ex) == 1.0);
  assert_true(kcb_lr_schedule_exponential_decay(3, 9, &ex) == 0.5);
  /* Keras's CosineDecay(0.0, 4, warmup_target=1.0, warmup_steps=2): 0, 0.5, then the peak and
   * half a cosine to 0 over 4 steps, constant afterwards. */
  kcb_lr_cosine_decay co = KCB_LR_COSINE_DECAY_INIT(0.0, 4);
  co.warmup_target = 1.0;
  co.warmup_steps = 2;
  const double want[] = {0.0, 0.5, 1.0, 0.5 * (1 + cos(PI / 4)), 0.5, 0.5 * (1 + cos(3 * PI / 4)), 0.0, 0.0};
  for (int e = 0; e < 8; e++)
    if (fabs(kcb_lr_schedule_cosine_decay(e, 9, &co) - want[e]) > 1e-15)
      fail_msg("cosine epoch %d: %.17g, expected %.17g", e, kcb_lr_schedule_cosine_decay(e, 9, &co), want[e]);
  kcb_lr_cosine_decay plain = KCB_LR_COSINE_DECAY_INIT(0.1, 10);
  plain.alpha = 0.1;
  assert_true(fabs(kcb_lr_schedule_cosine_decay(0, 9, &plain) - 0.1) < 1e-17);
  assert_true(fabs(kcb_lr_schedule_cosine_decay(10, 9, &plain) - 0.01) < 1e-17);
  assert_true(fabs(kcb_lr_schedule_cosine_decay(50, 9, &plain) - 0.01) < 1e-17);
  kcb_lr_step_decay st = {0.1, 0.5, 0};
  assert_true(isnan(kcb_lr_schedule_step_decay(3, 9, &st))); /* invalid: the scheduler reports it */
}

/* ---- TerminateOnNaN ------------------------------------------------------------------------- */

static void test_terminate_on_nan(void **state) {
  (void)state;
  capture out;
  capture_open(&out);
  kcb_terminate_on_nan_options o = KCB_TERMINATE_ON_NAN_OPTIONS_INIT;
  o.stream = out.f;
  kcb_callback *t;
  assert_ok(kcb_terminate_on_nan_new(&t, &o));
  drive d;
  drive_init(&d, 0.01, t, NULL);
  kcb_logs logs;
  kcb_logs_clear(&logs);
  assert_ok(kcb_logs_set(&logs, "loss", 0.5));
  assert_ok(kcb_callback_list_call(&d.list, KCB_HOOK_TRAIN_BATCH_END, 2, &logs));
  assert_false(kcb_model_stop_training(d.model));
  assert_ok(kcb_logs_set(&logs, "loss", INFINITY));
  assert_ok(kcb_callback_list_call(&d.list, KCB_HOOK_TRAIN_BATCH_END, 3, &logs));
  assert_true(kcb_model_stop_training(d.model));
  assert_string_equal(capture_text(&out), "Batch 3: Invalid loss, terminating training\n");
  kcb_callback_free(t);
  capture_close(&out);

  o.raise_error = 1;
  assert_ok(kcb_terminate_on_nan_new(&t, &o));
  d.list.count = 0;
  assert_ok(kcb_callback_list_add(&d.list, t));
  t->model = d.model;
  assert_ok(kcb_logs_set(&logs, "loss", NAN));
  assert_error(kcb_callback_list_call(&d.list, KCB_HOOK_TRAIN_BATCH_END, 7, &logs), KCB_ENAN,
               "NaN or Inf loss encountered at batch 7. Loss value: nan. Terminating training immediately.");
  kcb_callback_free(t);
  kcb_model_free(d.model);
}

/* ---- one real fit with all of them ---------------------------------------------------------- */

static int count_train_end(kcb_callback *cb, kcb_logs *logs) {
  (*(int *)cb->user_data)++;
  return 0;
}

/* Ctrl-C at a chosen batch, remembering the weights fit stops with. */
typedef struct cut {
  int epoch, at_epoch, at_batch;
  float *weights;
  size_t n;
} cut;

static int cut_epoch_begin(kcb_callback *cb, int epoch, kcb_logs *logs) {
  (void)logs;
  ((cut *)cb->user_data)->epoch = epoch;
  return 0;
}

static int cut_batch_end(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  (void)logs;
  cut *c = cb->user_data;
  if (c->epoch != c->at_epoch || batch != c->at_batch) return 0;
  kcb_model_request_stop(cb->model);
  return kcb_model_get_weights(cb->model, c->weights, c->n);
}

static void test_real_fit(void **state) {
  (void)state;
  /* y = x0 - x1 on 64 samples; SGD with a rate that makes the loss blow up to inf/NaN. */
  float xs[128], ys[64];
  for (int i = 0; i < 64; i++) {
    xs[2 * i] = (float)(i % 7) - 3.0f;
    xs[2 * i + 1] = (float)(i % 5) - 2.0f;
    ys[i] = xs[2 * i] - xs[2 * i + 1];
  }
  int64_t xshape[2] = {64, 2}, yshape[2] = {64, 1};
  kcb_tensor x = kcb_tensor_view(xs, 2, xshape), y = kcb_tensor_view(ys, 2, yshape);
  kcb_model *m = test_compiled_model(2, "8:relu,1", 3, KCB_OPT_SGD, 10.0, KCB_LOSS_MEAN_SQUARED_ERROR, KCB_METRIC_COUNT);
  capture out;
  capture_open(&out);
  kcb_terminate_on_nan_options to = KCB_TERMINATE_ON_NAN_OPTIONS_INIT;
  to.stream = out.f;
  kcb_callback *cbs[2];
  assert_ok(kcb_terminate_on_nan_new(&cbs[0], &to));
  int train_ends = 0;
  kcb_callback_ops ops = {0};
  ops.on_train_end = count_train_end;
  assert_ok(kcb_lambda_callback_new(&cbs[1], &ops, &train_ends));
  kcb_fit_options fo = KCB_FIT_OPTIONS_INIT;
  fo.verbose = 0;
  fo.epochs = 5;
  fo.batch_size = 8;
  fo.callbacks = cbs;
  fo.n_callbacks = 2;
  kcb_history *h;
  assert_ok(kcb_model_fit(m, &x, &y, &fo, &h));
  assert_int_equal(kcb_history_epochs(h), 1);  /* stopped within epoch 0; on_epoch_end still ran */
  assert_int_equal(train_ends, 1);             /* a graceful stop runs on_train_end */
  assert_non_null(strstr(capture_text(&out), ": Invalid loss, terminating training\n"));
  capture_close(&out);
  kcb_history_free(h);
  kcb_callback_free(cbs[0]);
  kcb_callback_free(cbs[1]);
  kcb_model_free(m);

  /* A sane rate with ReduceLROnPlateau and EarlyStopping on val_loss: learning_rate reaches History. */
  m = test_compiled_model(2, "8:relu,1", 3, KCB_OPT_SGD, 0.01, KCB_LOSS_MEAN_SQUARED_ERROR, KCB_METRIC_COUNT);
  kcb_reduce_lr_on_plateau_options ro = KCB_REDUCE_LR_ON_PLATEAU_OPTIONS_INIT;
  ro.patience = 1;
  kcb_early_stopping_options eo = KCB_EARLY_STOPPING_OPTIONS_INIT;
  eo.patience = 3;
  eo.restore_best_weights = 1;
  assert_ok(kcb_reduce_lr_on_plateau_new(&cbs[0], &ro));
  assert_ok(kcb_early_stopping_new(&cbs[1], &eo));
  fo.validation_split = 0.25;
  fo.epochs = 30;
  assert_ok(kcb_model_fit(m, &x, &y, &fo, &h));
  const double *lrs, *vl;
  size_t n, n2;
  assert_ok(kcb_history_values(h, "learning_rate", &lrs, &n));
  assert_ok(kcb_history_values(h, "val_loss", &vl, &n2));
  assert_int_equal(n, kcb_history_epochs(h));
  assert_true(lrs[0] == (double)0.01f);
  /* the best epoch's weights are back: evaluating the validation samples (the last 16, in the
   * same batches) gives that epoch's val_loss again, bit for bit */
  int best = kcb_early_stopping_best_epoch(cbs[1]);
  assert_true(vl[best] == kcb_early_stopping_best(cbs[1]));
  int64_t vx[2] = {16, 2}, vy[2] = {16, 1};
  kcb_tensor xv = kcb_tensor_view(xs + 96, 2, vx), yv = kcb_tensor_view(ys + 48, 2, vy);
  kcb_evaluate_options ev = KCB_EVALUATE_OPTIONS_INIT;
  ev.verbose = 0;
  ev.batch_size = 8;
  kcb_logs res;
  assert_ok(kcb_model_evaluate(m, &xv, &yv, &ev, &res));
  double again;
  assert_true(kcb_logs_get(&res, "loss", &again));
  assert_true(again == vl[best]);
  kcb_history_free(h);
  kcb_callback_free(cbs[0]);
  kcb_callback_free(cbs[1]);

  /* Interrupted after the best epoch: no restore (Keras's KeyboardInterrupt skips on_train_end),
   * so the model, and a backup taken at the end, hold the weights the run was cut at. */
  cut c = {.at_epoch = 3, .at_batch = 2, .n = kcb_model_param_count(m)};
  c.weights = malloc(c.n * sizeof *c.weights);
  float *now = malloc(c.n * sizeof *now);
  kcb_callback_ops cops = {0};
  cops.on_epoch_begin = cut_epoch_begin;
  cops.on_train_batch_end = cut_batch_end;
  eo.monitor = "loss";
  eo.patience = 100;
  assert_ok(kcb_early_stopping_new(&cbs[0], &eo));
  assert_ok(kcb_lambda_callback_new(&cbs[1], &cops, &c));
  fo.validation_split = 0;
  assert_int_equal(kcb_model_fit(m, &x, &y, &fo, NULL), KCB_EINTERRUPTED);
  assert_true(kcb_early_stopping_best_epoch(cbs[0]) < 3);
  assert_ok(kcb_model_get_weights(m, now, c.n));
  assert_memory_equal(now, c.weights, c.n * sizeof *now);
  free(now);
  free(c.weights);
  kcb_callback_free(cbs[0]);
  kcb_callback_free(cbs[1]);
  kcb_model_free(m);
}

/* A NULL where the API wants an object or an output is an error (or, for a printer, a
 * placeholder), never a crash: every constructor and the helpers beside them. */
static void test_null_arguments(void **state) {
  (void)state;
  const int64_t shape[1] = {4};
  assert_int_equal(kcb_csv_logger_new(NULL, "log.csv", NULL), KCB_EINVAL);
  assert_int_equal(kcb_early_stopping_new(NULL, NULL), KCB_EINVAL);
  assert_int_equal(kcb_reduce_lr_on_plateau_new(NULL, NULL), KCB_EINVAL);
  assert_int_equal(kcb_lr_scheduler_new(NULL, NULL, NULL, NULL), KCB_EINVAL);
  assert_int_equal(kcb_terminate_on_nan_new(NULL, NULL), KCB_EINVAL);
  kcb_callback_ops ops = {0};
  assert_int_equal(kcb_lambda_callback_new(NULL, &ops, NULL), KCB_EINVAL);
  assert_int_equal(kcb_model_checkpoint_new(NULL, "m.keras", NULL), KCB_EINVAL);
  assert_int_equal(kcb_backup_and_restore_new(NULL, "backup", NULL), KCB_EINVAL);
  assert_int_equal(kcb_keep_going_new(NULL, NULL, NULL), KCB_EINVAL);
  assert_int_equal(kcb_history_new(NULL), KCB_EINVAL);
  assert_int_equal(kcb_model_new_from_spec(NULL, "4:relu", 1, shape, 1), KCB_EINVAL);
  kcb_checkpoint_ranking *ranking = NULL;
  assert_int_equal(kcb_checkpoint_rank(NULL, NULL, 0, NULL), KCB_EINVAL);
  assert_int_equal(kcb_checkpoint_rank(&ranking, NULL, 2, NULL), KCB_EINVAL);
  assert_int_equal(kcb_backup_and_restore_status(NULL, "backup"), KCB_EINVAL);
  const char *const key = "loss";
  assert_int_equal(kcb_model_checkpoint_check_keys("{loss}.keras", NULL, 1), KCB_EINVAL);
  assert_ok(kcb_model_checkpoint_check_keys("{loss}.keras", &key, 1));
  kcb_logs_clear(NULL);
  char buf[16];
  assert_string_equal(kcb_logs_keys_string(NULL, buf, sizeof buf), "[]");
  assert_string_equal(kcb_tensor_shape_string(NULL, buf, sizeof buf), "()");
  assert_int_equal(kcb_summary_writer_add_scalar(NULL, "loss", 1.0, 0), KCB_EINVAL);
  assert_null(kcb_summary_writer_path(NULL));
  kcb_summary_writer_set_wall_time(NULL, 1.0);
  assert_int_equal(kcb_profiler_add(NULL, "step", "train", 0, 1, 0, NULL, 0), KCB_EINVAL);
  kcb_event_reader *reader = NULL;
  const kcb_event *event = NULL;
  assert_int_equal(kcb_event_reader_open(NULL, "run"), KCB_EINVAL);
  assert_int_equal(kcb_event_reader_open(&reader, NULL), KCB_EINVAL);
  assert_int_equal(kcb_event_reader_next(NULL, &event), KCB_EINVAL);
  char **runs = NULL;
  size_t n_runs = 0;
  assert_int_equal(kcb_tfevents_list_runs(NULL, &runs, &n_runs), KCB_EINVAL);
  assert_int_equal(kcb_tfevents_list_runs("logs", NULL, &n_runs), KCB_EINVAL);
  kcb_event_file_check check;
  assert_int_equal(kcb_event_file_validate(NULL, &check), KCB_EINVAL);
  assert_int_equal(kcb_event_file_validate("x.tfevents", NULL), KCB_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_null_arguments),
      cmocka_unit_test(test_early_stopping_baseline_and_restore),
      cmocka_unit_test(test_early_stopping_infinite_baseline),
      cmocka_unit_test(test_early_stopping_sequences),
      cmocka_unit_test(test_early_stopping_restores_whatever_ended_training),
      cmocka_unit_test(test_early_stopping_monitor_errors),
      cmocka_unit_test(test_reduce_lr_sequence),
      cmocka_unit_test(test_reduce_lr_message_float32),
      cmocka_unit_test(test_lr_scheduler_step_decay_and_logs),
      cmocka_unit_test(test_lr_scheduler_bad_rates),
      cmocka_unit_test(test_schedules),
      cmocka_unit_test(test_terminate_on_nan),
      cmocka_unit_test(test_real_fit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
