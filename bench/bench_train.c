/* bench_train — training speed, as ratios against baselines measured in the same run:
 *   1. MLP 784-256-128-10, batch 128 (Adam and SGD), on 1 and 2 OpenBLAS threads: samples/s of
 *      kcb_model_fit, next to the samples/s of the same sgemm calls alone;
 *   2. the seed guide's Dense(1) model (RMSprop, MSE): microseconds per batch;
 *   3. the cost of dispatching one hook to one empty callback, in ns;
 *   4. the floor of Keras's float32 Adam update on this CPU: its formula alone (a sqrt and a
 *      division per parameter), in ns per parameter, on a block that stays in L1/L2 and on one of
 *      the MLP's 235,146 parameters, and what that costs per sample at batch 128.
 * Run: ./build/bench/bench_train [N]   (2N + 1 rounds of a two-epoch fit, medians; synthetic data of
 * Fashion-MNIST's size, fixed seed) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "kcb/kcb.h"

#define N_TRAIN 60000
#define BATCH 128

#define BENCH_NAME "bench_train"
#include "bench_common.h"

/* The sgemm calls one training step of 784-256-128-10 makes: 3 forward, 5 backward. */
static double sgemm_only_seconds(int batches) {
  static const int dims[4] = {784, 256, 128, 10};
  float *x = calloc((size_t)BATCH * 784, sizeof(float)), *act[4], *grad[4], *w[3], *dw[3];
  act[0] = x;
  for (int l = 0; l < 3; l++) {
    act[l + 1] = calloc((size_t)BATCH * dims[l + 1], sizeof(float));
    grad[l + 1] = calloc((size_t)BATCH * dims[l + 1], sizeof(float));
    w[l] = calloc((size_t)dims[l] * dims[l + 1], sizeof(float));
    dw[l] = calloc((size_t)dims[l] * dims[l + 1], sizeof(float));
  }
  for (int i = 0; i < BATCH * 784; i++) x[i] = (float)(i % 255) / 255.0f;
  double t0 = now();
  for (int b = 0; b < batches; b++) {
    for (int l = 0; l < 3; l++)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, BATCH, dims[l + 1], dims[l], 1.0f, act[l], dims[l], w[l],
                  dims[l + 1], 0.0f, act[l + 1], dims[l + 1]);
    for (int l = 2; l >= 0; l--) {
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, dims[l], dims[l + 1], BATCH, 1.0f, act[l], dims[l],
                  grad[l + 1], dims[l + 1], 0.0f, dw[l], dims[l + 1]);
      if (l > 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, BATCH, dims[l], dims[l + 1], 1.0f, grad[l + 1], dims[l + 1],
                    w[l], dims[l + 1], 0.0f, grad[l], dims[l]);
    }
  }
  double t = now() - t0;
  free(x);
  for (int l = 0; l < 3; l++) free(act[l + 1]), free(grad[l + 1]), free(w[l]), free(dw[l]);
  return t;
}

/* Keras's Adam update, m and v then the weight, compiled for AVX-512 where the CPU has it (as the
 * library's own loop is): the arithmetic alone, to show how much of a step it needs at best. */
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f")))
#endif
static void adam_formula(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, size_t n) {
  const float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-7f;
  for (size_t i = 0; i < n; i++) {
    m[i] = b1 * m[i] + (1 - b1) * g[i];
    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
    p[i] -= lr * m[i] / (sqrtf(v[i]) + eps);
  }
}

static double adam_ns_per_param(size_t n) {
  float *a = calloc(4 * n, sizeof(float));
  for (size_t i = 0; i < n; i++) a[i] = 1.0f, a[n + i] = 1e-3f * (float)(i % 13), a[3 * n + i] = 1e-6f;
  size_t reps = ((size_t)64 << 20) / n;
  adam_formula(a, a + n, a + 2 * n, a + 3 * n, n);
  double t0 = now();
  for (size_t r = 0; r < reps; r++) adam_formula(a, a + n, a + 2 * n, a + 3 * n, n);
  double t = now() - t0;
  free(a);
  return 1e9 * t / ((double)reps * (double)n);
}

#define MAX_ROUNDS 21

/* The median of v[0..n) (sorted in place). */
static double least(const double *v, int n) {
  double m = v[0];
  for (int i = 1; i < n; i++) m = v[i] < m ? v[i] : m;
  return m;
}

static double most(const double *v, int n) {
  double m = v[0];
  for (int i = 1; i < n; i++) m = v[i] > m ? v[i] : m;
  return m;
}

/* A model on 784 inputs, compiled with one optimizer, loss and metric. */
static kcb_model *compiled_model(const char *spec, kcb_optimizer_kind opt, double lr, kcb_loss loss, kcb_metric metric) {
  kcb_model *m;
  int64_t in[1] = {784};
  check(kcb_model_new(&m, 1, in, 1), "model");
  check(kcb_model_add_from_spec(m, spec), "spec");
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(opt);
  c.optimizer.learning_rate = lr;
  c.loss = loss;
  c.metrics = &metric;
  c.n_metrics = 1;
  check(kcb_model_compile(m, &c), "compile");
  return m;
}

/* The seconds of a fit call; with `steady`, the seconds of its epochs after the first there. */
static double fit_seconds(kcb_model *m, kcb_tensor *x, kcb_tensor *y, int epochs, int64_t batch, int64_t steps,
                          double *steady) {
  bench_epoch_timer timer = BENCH_EPOCH_TIMER_INIT;
  kcb_callback *cbs[1] = {&timer.base};
  kcb_fit_options o = KCB_FIT_OPTIONS_INIT;
  o.epochs = epochs;
  o.batch_size = batch;
  o.verbose = 0;
  o.steps_per_epoch = steps;
  o.callbacks = cbs;
  o.n_callbacks = 1;
  double t0 = now();
  check(kcb_model_fit(m, x, y, &o, NULL), "fit");
  if (steady) *steady = timer.epochs ? timer.seconds / timer.epochs : 0;
  return now() - t0;
}

static int empty_batch_end(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  (void)cb, (void)batch, (void)logs;
  return 0;
}

int main(int argc, char **argv) {
  int epochs = argc > 1 ? atoi(argv[1]) : 2;
  if (epochs < 1) epochs = 1;
  int64_t xs[2] = {N_TRAIN, 784}, ys[1] = {N_TRAIN};
  kcb_tensor *x, *y;
  check(kcb_tensor_new(&x, 2, xs), "x");
  check(kcb_tensor_new(&y, 1, ys), "y");
  uint64_t s = 12345;
  for (int64_t i = 0; i < N_TRAIN * 784; i++) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    x->data[i] = (float)(s >> 40) / (float)(1 << 24);
  }
  for (int64_t i = 0; i < N_TRAIN; i++) y->data[i] = (float)(i % 10);
  /* Rounds: in a round, each optimizer's fit of two epochs runs right after one epoch's sgemm calls
   * alone, and the medians over the rounds are printed, so that the machine's drift (other tenants)
   * moves a baseline and its fit together. The step is timed on the second epoch (the training
   * loop's steady state: a callback's on_epoch_begin to on_epoch_end); the whole call, with what fit
   * does once per call (the NaN check of 188 MB of x, workspaces, the first epoch's cold caches), is
   * printed beside it. */
  int batches = (int)((N_TRAIN + BATCH - 1) / BATCH), rounds = 2 * epochs + 1;
  if (rounds > MAX_ROUNDS) rounds = MAX_ROUNDS;

  printf("MLP 784-256-128-10, batch %d, %d rounds of a two-epoch fit of %d samples (synthetic data), each after one epoch "
         "of sgemm calls alone; medians; steps timed on the second epoch\n", BATCH, rounds, N_TRAIN);
  for (int threads = 1; threads <= 2; threads++) {
    openblas_set_num_threads(threads);
    kcb_model *m[2];
    double sgemm_rate[MAX_ROUNDS], rate[2][MAX_ROUNDS], ratio[2][MAX_ROUNDS], call_ratio[2][MAX_ROUNDS];
    for (int o = 0; o < 2; o++) {
      m[o] = compiled_model("256:relu,128:relu,10:softmax", o ? KCB_OPT_SGD : KCB_OPT_ADAM, KCB_DEFAULT,
                            KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, KCB_METRIC_ACCURACY);
      fit_seconds(m[o], x, y, 1, BATCH, 20, NULL); /* warm-up */
    }
    for (int r = 0; r < rounds; r++)
      for (int o = 0; o < 2; o++) {
        double baseline = (double)batches * BATCH / sgemm_only_seconds(batches), epoch_seconds;
        double call = fit_seconds(m[o], x, y, 2, BATCH, 0, &epoch_seconds);
        rate[o][r] = (double)N_TRAIN / epoch_seconds;
        ratio[o][r] = baseline / rate[o][r];
        call_ratio[o][r] = baseline / (2.0 * N_TRAIN / call);
        if (o == 0) sgemm_rate[r] = baseline;
      }
    printf("threads=%d sgemm_only samples_per_sec=%.0f\n", threads, median(sgemm_rate, rounds));
    for (int o = 0; o < 2; o++) {
      printf("threads=%d optimizer=%s fit samples_per_sec=%.0f step_time_vs_sgemm=%.2fx (rounds %.2f..%.2fx; whole fit "
             "calls %.2fx)\n", threads, kcb_optimizer_name(o ? KCB_OPT_SGD : KCB_OPT_ADAM), median(rate[o], rounds),
             median(ratio[o], rounds), least(ratio[o], rounds), most(ratio[o], rounds), median(call_ratio[o], rounds));
      kcb_model_free(m[o]);
    }
  }

  openblas_set_num_threads(1);
  {
    /* the guide's get_model(): Dense(1), RMSprop(0.1), MSE, mean_absolute_error */
    kcb_model *m = compiled_model("1", KCB_OPT_RMSPROP, 0.1, KCB_LOSS_MEAN_SQUARED_ERROR, KCB_METRIC_MEAN_ABSOLUTE_ERROR);
    int64_t ss[2] = {1000, 784}, sy[1] = {1000};
    kcb_tensor sx = kcb_tensor_view(x->data, 2, ss), syv = kcb_tensor_view(y->data, 1, sy);
    fit_seconds(m, &sx, &syv, 2, 64, 0, NULL);
    int seed_epochs = 200;
    double t = fit_seconds(m, &sx, &syv, seed_epochs, 64, 0, NULL);
    printf("seed model Dense(1), batch 64, 1000 samples: us_per_batch=%.2f\n", 1e6 * t / (seed_epochs * 16.0));
    kcb_model_free(m);
  }

  {
    kcb_callback_ops ops = {0};
    ops.on_train_batch_end = empty_batch_end;
    kcb_callback cb = {&ops, NULL, NULL, NULL, 0};
    kcb_callback_list list;
    memset(&list, 0, sizeof list);
    check(kcb_callback_list_add(&list, &cb), "list");
    kcb_logs logs;
    kcb_logs_clear(&logs);
    const long calls = 50000000;
    double t0 = now();
    for (long i = 0; i < calls; i++) kcb_callback_list_call(&list, KCB_HOOK_TRAIN_BATCH_END, i, &logs);
    double t = now() - t0;
    printf("hook dispatch to one empty callback: ns_per_call=%.2f\n", 1e9 * t / (double)calls);
  }
  {
    const size_t params = 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10;
    double in_cache = adam_ns_per_param(16384), mlp = adam_ns_per_param(params);
    printf("Adam's formula alone: ns_per_param=%.3f (16,384 parameters, in L1/L2) and %.3f (%zu, the MLP's); "
           "at batch %d the MLP's update is %.2f us a sample\n", in_cache, mlp, params, BATCH, 1e-3 * mlp * (double)params / BATCH);
  }
  kcb_tensor_free(x);
  kcb_tensor_free(y);
  return 0;
}
