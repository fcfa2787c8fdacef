/* fine_tune — Keras's transfer-learning recipe with frozen layers.
 *
 * Pre-trains a small CNN (Conv2D, BatchNormalization, pooling, Dense) on one task and saves it as
 * base.keras; then fine-tunes it on a new task in two phases, as Keras's guide does:
 *   1. the convolutional base frozen (layer.trainable = False): only the new head trains, and the
 *      frozen BatchNormalization keeps normalising with its moving statistics;
 *   2. everything unfrozen, at a lower learning rate, from phase 1's checkpoint.
 * It prints what trains in each phase and checks that the frozen base did not move.
 *
 * Usage: fine_tune [DIR]   (files go to DIR, default ".") */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcb/kcb.h"

static void check(int rc, const char *what) {
  if (rc) {
    fprintf(stderr, "fine_tune: %s: %s (%s)\n", what, kcb_error_last(), kcb_error_name(rc));
    exit(1);
  }
}

/* 8x8 images of a bright bar; the label is the bar's orientation (task 0) or its half of the image
 * (task 1): the same features serve both tasks. */
static void images(kcb_tensor **x, kcb_tensor **y, int64_t n, int task) {
  int64_t xs[4] = {n, 8, 8, 1}, ys[1] = {n};
  check(kcb_tensor_new(x, 4, xs), "data");
  check(kcb_tensor_new(y, 1, ys), "data");
  for (int64_t i = 0; i < n; i++) {
    int vertical = (int)(i % 2), at = (int)((i * 7) % 8);
    float *img = (*x)->data + i * 64;
    for (int p = 0; p < 64; p++) img[p] = 0.1f * (float)sin((double)(i * 64 + p));
    for (int k = 0; k < 8; k++) img[vertical ? k * 8 + at : at * 8 + k] += 1.0f;
    (*y)->data[i] = (float)(task == 0 ? vertical : at >= 4);
  }
}

static double fit(kcb_model *m, kcb_tensor *x, kcb_tensor *y, int epochs) {
  kcb_fit_options f = KCB_FIT_OPTIONS_INIT;
  f.epochs = epochs;
  f.batch_size = 16;
  f.verbose = 0;
  kcb_history *h = NULL;
  check(kcb_model_fit(m, x, y, &f, &h), "fit");
  double accuracy = 0;
  kcb_history_last(h, "accuracy", &accuracy);
  kcb_history_free(h);
  return accuracy;
}

static void compile(kcb_model *m, double lr) {
  kcb_metric metrics[] = {KCB_METRIC_ACCURACY};
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
  c.optimizer.learning_rate = lr;
  c.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  c.metrics = metrics;
  c.n_metrics = 1;
  check(kcb_model_compile(m, &c), "compile");
}

/* The first n weights' floats (the base's), copied. */
static float *base_weights(const kcb_model *m, size_t n_vars, size_t *count) {
  kcb_weight_info last;
  check(kcb_model_weight(m, n_vars - 1, &last), "weights");
  kcb_weight_info first;
  check(kcb_model_weight(m, 0, &first), "weights");
  *count = (size_t)(last.data + last.size - first.data);
  float *w = malloc(*count * sizeof *w);
  if (!w) check(KCB_ENOMEM, "weights");
  memcpy(w, first.data, *count * sizeof *w);
  return w;
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : ".";
  char base_path[1024], phase1_path[1024];
  snprintf(base_path, sizeof base_path, "%s/base.keras", dir);
  snprintf(phase1_path, sizeof phase1_path, "%s/phase1.keras", dir);
  kcb_tensor *x0, *y0, *x1, *y1;
  images(&x0, &y0, 512, 0);
  images(&x1, &y1, 512, 1);

  /* pre-training: conv2d, batch_normalization, max_pooling2d, flatten, dense (the head) */
  kcb_model *m = NULL;
  int64_t shape[3] = {8, 8, 1};
  check(kcb_model_new(&m, 3, shape, 7), "model");
  check(kcb_model_add_from_spec(m, "conv:8:3:relu,bn,maxpool:2,flatten,2:softmax"), "model");
  compile(m, 0.01);
  printf("pre-training on task 0: accuracy %.3f\n", fit(m, x0, y0, 5));
  check(kcb_model_save(m, base_path, NULL), "save base.keras");
  kcb_model_free(m);

  /* phase 1: the base frozen, the head trained on task 1 (compiling again gives a new optimizer,
   * as Keras's compile after changing trainable does) */
  check(kcb_model_load(&m, base_path, NULL), "load base.keras");
  for (size_t i = 0; i < 3; i++) check(kcb_model_set_layer_trainable(m, i, 0), "freeze"); /* conv, bn, pooling */
  compile(m, 0.01);
  size_t n_base = 0, n_all = kcb_model_param_count(m);
  float *before = base_weights(m, 6, &n_base); /* conv kernel, bias; bn gamma, beta, moving mean, variance */
  printf("phase 1: %zu of %zu parameters train (the head)\n", kcb_model_trainable_param_count(m), n_all);
  printf("phase 1 on task 1: accuracy %.3f\n", fit(m, x1, y1, 5));
  float *after = base_weights(m, 6, &n_base);
  int moved = memcmp(before, after, n_base * sizeof *before) != 0;
  printf("the frozen base (moving statistics included) %s\n", moved ? "MOVED" : "is unchanged");
  check(kcb_model_save(m, phase1_path, NULL), "save phase1.keras"); /* says trainable false for the base */
  kcb_model_free(m);

  /* phase 2: from phase 1's file, everything trains, at a tenth of the rate */
  check(kcb_model_load(&m, phase1_path, NULL), "load phase1.keras");
  printf("phase1.keras loads with %zu trainable parameters\n", kcb_model_trainable_param_count(m));
  for (size_t i = 0; i < kcb_model_layer_count(m); i++) check(kcb_model_set_layer_trainable(m, i, 1), "unfreeze");
  compile(m, 0.001);
  printf("phase 2: all %zu parameters train; accuracy %.3f\n", kcb_model_trainable_param_count(m), fit(m, x1, y1, 3));
  kcb_model_free(m);
  free(before);
  free(after);
  kcb_tensor_free(x0), kcb_tensor_free(y0), kcb_tensor_free(x1), kcb_tensor_free(y1);
  return moved;
}
