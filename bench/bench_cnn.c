/* bench_cnn — convolution speed, as ratios against baselines measured in the same run:
 *   layer: a Conv2D layer's forward + backward (im2col, sgemm, bias, activation, col2im) against
 *          the same sgemm calls alone on matrices of the same sizes (each side the fastest of N
 *          repetitions, alternated in rounds; the median of the rounds' ratios, as the machine
 *          may be shared), for the two convolutions of
 *          kcb-train's preset `--model cnn`, batch 64, on 1 and 2 OpenBLAS threads;
 *   fit:   samples/s of kcb_model_fit on the preset CNN (Adam, batch 64), synthetic data of
 *          Fashion-MNIST's shape; run beside bench/torch_cnn.py by bench/run_cnn_benchmarks.sh,
 *          which also reads both processes' peak resident memory.
 * Run: ./build/bench/bench_cnn layer
 *      ./build/bench/bench_cnn fit THREADS SAMPLES EPOCHS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/resource.h>

#include <cblas.h>

#include "kcb/kcb.h"
#include "model/model_internal.h"

#define BATCH 64

#define BENCH_NAME "bench_cnn"
#include "bench_common.h"

/* The three products of a convolution's training step, unchunked: forward (M, K) x (K, F),
 * weight gradient (K, M) x (M, F), input gradient (M, F) x (F, K), M = batch * output pixels. */
static double sgemm_only(int M, int K, int F, int with_dx, int reps) {
  float *col = calloc((size_t)M * K, sizeof(float)), *w = calloc((size_t)K * F, sizeof(float));
  float *y = calloc((size_t)M * F, sizeof(float)), *dw = calloc((size_t)K * F, sizeof(float));
  for (int i = 0; i < M * K; i++) col[i] = (float)(i % 251) / 251.0f;
  double t = 1e30; /* the fastest repetition: the machine is shared, the minimum is the least disturbed */
  for (int r = 0; r < reps; r++) {
    double t0 = now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, F, K, 1.0f, col, K, w, F, 0.0f, y, F);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, F, M, 1.0f, col, K, y, F, 0.0f, dw, F);
    if (with_dx) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, K, F, 1.0f, y, F, w, F, 0.0f, col, K);
    if (now() - t0 < t) t = now() - t0;
  }
  free(col), free(w), free(y), free(dw);
  return t;
}

/* One Conv2D(filters, 3, relu) on (h, w, c) inputs: forward + backward (the fastest of each), with
 * the input gradient as a middle layer of a network runs it, or without as the first layer does;
 * *out_fwd gets the forward part. */
static double conv_step(int h, int w, int c, int filters, int with_dx, int reps, double *out_fwd) {
  kcb_model *m = NULL;
  int64_t shape[3] = {h, w, c};
  check(kcb_model_new(&m, 3, shape, 1), "model");
  kcb_conv_options o = KCB_CONV_OPTIONS_INIT;
  o.filters = filters;
  o.activation = KCB_ACT_RELU;
  check(kcb_model_add_conv2d(m, &o), "conv2d");
  kcb_compile_options co = {0};
  co.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_SGD);
  check(kcb_model_compile(m, &co), "compile");
  check(kcb__model_reserve_workspace(m, BATCH, 1), "workspace");
  m->want_input_grad = with_dx;
  float *x = malloc((size_t)BATCH * h * w * c * sizeof(float));
  for (int i = 0; i < BATCH * h * w * c; i++) x[i] = (float)(i % 97) / 97.0f - 0.3f;
  for (size_t i = 0; i < m->n_params; i++) m->params[i] = (float)((int)(i % 13) - 6) * 0.01f;
  const kcb__layer *l = &m->layers[0];
  double t_fwd = 1e30, t_bwd = 1e30;
  kcb__pool_enter(0); /* as fit does: kcb's threads, OpenBLAS on one */
  for (int r = 0; r < reps; r++) {
    double t0 = now();
    kcb__model_forward(m, x, BATCH, 1);
    double t1 = now();
    memcpy(m->grad_a, l->out, (size_t)(BATCH * l->out_size) * sizeof(float)); /* some dL/dy, not timed */
    double t2 = now();
    kcb__model_backward(m, BATCH);
    double t3 = now();
    if (t1 - t0 < t_fwd) t_fwd = t1 - t0;
    if (t3 - t2 < t_bwd) t_bwd = t3 - t2;
  }
  kcb__pool_leave();
  free(x);
  kcb_model_free(m);
  if (out_fwd) *out_fwd = t_fwd;
  return t_fwd + t_bwd;
}

/* Rounds of the layer, then its sgemm calls alone: each round's ratio is taken right after both
 * ran, so a change in the host's load between rounds moves both sides; the median is reported. */
#define ROUNDS 9

static void bench_layers(void) {
  static const struct { int h, w, c, f, dx; const char *name; } convs[2] = {
      {28, 28, 1, 32, 0, "conv2d 28x28x1 -> 26x26x32 (first layer: no input gradient)"},
      {13, 13, 32, 64, 1, "conv2d_1 13x13x32 -> 11x11x64 (with input gradient)"}};
  for (int threads = 1; threads <= 2; threads++) {
    openblas_set_num_threads(threads);
    for (int i = 0; i < 2; i++) {
      int oh = convs[i].h - 2, ow = convs[i].w - 2, M = BATCH * oh * ow, K = 9 * convs[i].c;
      int reps = i == 0 ? 20 : 10;
      double fwd, best_fwd = 1e30, best_layer = 1e30, best_gemm = 1e30, ratio[ROUNDS];
      conv_step(convs[i].h, convs[i].w, convs[i].c, convs[i].f, convs[i].dx, 3, &fwd); /* warm up */
      for (int r = 0; r < ROUNDS; r++) {
        double layer = conv_step(convs[i].h, convs[i].w, convs[i].c, convs[i].f, convs[i].dx, reps, &fwd);
        double gemm = sgemm_only(M, K, convs[i].f, convs[i].dx, reps);
        ratio[r] = layer / gemm;
        if (layer < best_layer) best_layer = layer, best_fwd = fwd;
        if (gemm < best_gemm) best_gemm = gemm;
      }
      double med = median(ratio, ROUNDS); /* sorts ratio */
      printf("threads=%d layer=\"%s\" batch=%d forward_backward_ms=%.3f (forward %.3f) sgemm_only_ms=%.3f "
             "ratio=%.2fx (median of %d rounds, %.2f-%.2fx; fastest of each side %.2fx)\n",
             threads, convs[i].name, BATCH, 1e3 * best_layer, 1e3 * best_fwd, 1e3 * best_gemm, med, ROUNDS, ratio[0],
             ratio[ROUNDS - 1], best_layer / best_gemm);
    }
  }
}

static void bench_fit(int threads, int64_t n, int epochs) {
  openblas_set_num_threads(threads);
  int64_t shape[4] = {n, 28, 28, 1}, yshape[1] = {n};
  kcb_tensor *x, *y;
  check(kcb_tensor_new(&x, 4, shape), "x");
  check(kcb_tensor_new(&y, 1, yshape), "y");
  for (int64_t i = 0; i < n * 784; i++) x->data[i] = (float)((i * 7919) % 256) / 255.0f;
  for (int64_t i = 0; i < n; i++) y->data[i] = (float)(i % 10);
  kcb_model *m = NULL;
  int64_t in[3] = {28, 28, 1};
  check(kcb_model_new(&m, 3, in, 1), "model");
  check(kcb_model_add_from_spec(m, "cnn"), "spec");
  kcb_metric acc = KCB_METRIC_ACCURACY;
  kcb_compile_options co = {0};
  co.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
  co.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  co.metrics = &acc;
  co.n_metrics = 1;
  check(kcb_model_compile(m, &co), "compile");
  kcb_fit_options f = KCB_FIT_OPTIONS_INIT;
  f.batch_size = BATCH;
  f.epochs = epochs;
  f.verbose = 0;
  double t0 = now();
  check(kcb_model_fit(m, x, y, &f, NULL), "fit");
  double t = now() - t0;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("kcb_cnn threads=%d batch=%d samples_per_sec=%.1f epochs=%d seconds=%.2f max_rss_kb=%ld\n", threads, BATCH,
         (double)(n * epochs) / t, epochs, t, ru.ru_maxrss);
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "layer") == 0) {
    bench_layers();
    return 0;
  }
  if (argc >= 5 && strcmp(argv[1], "fit") == 0) {
    bench_fit(atoi(argv[2]), atoll(argv[3]), atoi(argv[4]));
    return 0;
  }
  fprintf(stderr, "usage: bench_cnn layer | bench_cnn fit THREADS SAMPLES EPOCHS\n");
  return 2;
}
