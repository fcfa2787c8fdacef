/* bench_builtin_callbacks — what the built-in callbacks cost, as ratios to baselines measured in
 * the same run:
 *   1. fit of an MLP 784-256-128-10 (batch 128, synthetic data) with no callbacks, and with
 *      TerminateOnNaN + ReduceLROnPlateau + EarlyStopping(restore_best_weights) + CSVLogger;
 *   2. one epoch end of EarlyStopping that improves (a weights snapshot of 235,146 floats) and of
 *      CSVLogger (format + write + flush a row), next to one training epoch;
 *   3. TerminateOnNaN per batch, in ns.
 * Run: ./build/bench/bench_builtin_callbacks [epochs]   (writes its CSV under /tmp) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "kcb/kcb.h"

#define N 12000
#define BATCH 128

#define BENCH_NAME "bench_builtin_callbacks"
#include "bench_common.h"

static kcb_model *make_model(void) {
  int64_t in = 784;
  kcb_model *m;
  check(kcb_model_new(&m, 1, &in, 1), "model");
  check(kcb_model_add_from_spec(m, "256:relu,128:relu,10:softmax"), "spec");
  kcb_metric metric = KCB_METRIC_ACCURACY;
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
  c.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  c.metrics = &metric;
  c.n_metrics = 1;
  check(kcb_model_compile(m, &c), "compile");
  return m;
}

static double fit_seconds(const kcb_tensor *x, const kcb_tensor *y, int epochs, int with_callbacks) {
  kcb_model *m = make_model();
  kcb_callback *cbs[4];
  size_t n = 0;
  if (with_callbacks) {
    check(kcb_terminate_on_nan_new(&cbs[n++], NULL), "TerminateOnNaN");
    kcb_reduce_lr_on_plateau_options r = KCB_REDUCE_LR_ON_PLATEAU_OPTIONS_INIT;
    check(kcb_reduce_lr_on_plateau_new(&cbs[n++], &r), "ReduceLROnPlateau");
    kcb_early_stopping_options e = KCB_EARLY_STOPPING_OPTIONS_INIT;
    e.patience = 100;
    e.restore_best_weights = 1;
    check(kcb_early_stopping_new(&cbs[n++], &e), "EarlyStopping");
    check(kcb_csv_logger_new(&cbs[n++], "/tmp/kcb_bench_builtin_callbacks.csv", NULL), "CSVLogger");
  }
  kcb_fit_options o = KCB_FIT_OPTIONS_INIT;
  o.batch_size = BATCH;
  o.epochs = epochs;
  o.verbose = 0;
  o.validation_split = 0.1;
  o.callbacks = cbs;
  o.n_callbacks = n;
  double t0 = now();
  check(kcb_model_fit(m, x, y, &o, NULL), "fit");
  double t = now() - t0;
  for (size_t i = 0; i < n; i++) kcb_callback_free(cbs[i]);
  kcb_model_free(m);
  return t;
}

/* Mean seconds of one on_epoch_end of `cb` over `reps` calls with logs that improve every time. */
static double epoch_end_seconds(kcb_callback *cb, kcb_model *m, int reps) {
  kcb_callback_list list = {0};
  check(kcb_callback_list_add(&list, cb), "list");
  cb->model = m;
  kcb_logs logs;
  kcb_logs_clear(&logs);
  check(kcb_callback_list_call(&list, KCB_HOOK_TRAIN_BEGIN, 0, &logs), "train begin");
  double t0 = now();
  for (int e = 0; e < reps; e++) {
    kcb_logs_clear(&logs);
    kcb_logs_set(&logs, "accuracy", 0.5 + e * 1e-6);
    kcb_logs_set(&logs, "loss", 1.0 / (e + 1));
    kcb_logs_set(&logs, "val_accuracy", 0.25 + e * 1e-6);
    kcb_logs_set(&logs, "val_loss", 2.0 / (e + 1));
    check(kcb_callback_list_call(&list, KCB_HOOK_EPOCH_END, e, &logs), "epoch end");
  }
  double t = (now() - t0) / reps;
  check(kcb_callback_list_call(&list, KCB_HOOK_TRAIN_END, 0, &logs), "train end");
  return t;
}

int main(int argc, char **argv) {
  int epochs = argc > 1 ? atoi(argv[1]) : 3;
  int64_t xs[2] = {N, 784}, ys[1] = {N};
  kcb_tensor *x, *y;
  check(kcb_tensor_new(&x, 2, xs), "x");
  check(kcb_tensor_new(&y, 1, ys), "y");
  for (int64_t i = 0; i < N * 784; i++) x->data[i] = (float)((i * 2654435761u) % 255) / 255.0f;
  for (int64_t i = 0; i < N; i++) y->data[i] = (float)(i % 10);

  /* 1. alternate the two configurations, keep the best of 3 of each (machines are noisy) */
  double base = 1e30, with = 1e30;
  for (int r = 0; r < 3; r++) {
    double a = fit_seconds(x, y, epochs, 0), b = fit_seconds(x, y, epochs, 1);
    if (a < base) base = a;
    if (b < with) with = b;
  }
  printf("fit %d epochs of %d samples: no callbacks %.3f s, with the four built-ins %.3f s: ratio %.4f\n", epochs, N,
         base, with, with / base);

  /* 2. per epoch end, next to one epoch */
  kcb_model *m = make_model();
  kcb_callback *es, *csv;
  kcb_early_stopping_options e = KCB_EARLY_STOPPING_OPTIONS_INIT;
  e.patience = 1000000;
  e.restore_best_weights = 1;
  check(kcb_early_stopping_new(&es, &e), "EarlyStopping");
  check(kcb_csv_logger_new(&csv, "/tmp/kcb_bench_builtin_callbacks.csv", NULL), "CSVLogger");
  double t_es = epoch_end_seconds(es, m, 2000), t_csv = epoch_end_seconds(csv, m, 20000);
  double epoch = base / epochs;
  printf("EarlyStopping epoch end with a snapshot of %zu floats: %.1f us = %.5f%% of an epoch (%.3f s)\n",
         kcb_model_param_count(m), t_es * 1e6, 100 * t_es / epoch, epoch);
  printf("CSVLogger epoch end (4 values, flushed): %.2f us = %.5f%% of an epoch\n", t_csv * 1e6, 100 * t_csv / epoch);

  /* 3. TerminateOnNaN per batch */
  kcb_callback *ton;
  check(kcb_terminate_on_nan_new(&ton, NULL), "TerminateOnNaN");
  kcb_callback_list list = {0};
  check(kcb_callback_list_add(&list, ton), "list");
  ton->model = m;
  kcb_logs logs;
  kcb_logs_clear(&logs);
  kcb_logs_set(&logs, "accuracy", 0.5);
  kcb_logs_set(&logs, "loss", 0.25);
  int reps = 10000000;
  double t0 = now();
  for (int i = 0; i < reps; i++) check(kcb_callback_list_call(&list, KCB_HOOK_TRAIN_BATCH_END, i, &logs), "batch end");
  printf("TerminateOnNaN per training batch: %.2f ns\n", (now() - t0) / reps * 1e9);

  kcb_callback_free(ton);
  kcb_callback_free(es);
  kcb_callback_free(csv);
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
  remove("/tmp/kcb_bench_builtin_callbacks.csv");
  return 0;
}
