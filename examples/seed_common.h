/* seed_common.h — what the four ports of Keras's guide "Writing your own callbacks" share:
 * loading the data, building the guide's get_model(), reporting errors, and the guide's
 * LossAndErrorPrintingCallback (used by three of the programs).
 *
 * Everything here is static (inline, so a program that leaves a helper unused compiles without
 * warnings): each example includes this header once. Only the public API. */
#ifndef KCB_EXAMPLES_SEED_COMMON_H
#define KCB_EXAMPLES_SEED_COMMON_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "kcb/kcb.h"

/* The seed of weight initialisation and shuffling: the same seed gives the same run. */
#define SEED_EXAMPLE_SEED 1337

/* The guide keeps the first 1000 samples of each split. */
#define SEED_EXAMPLE_LIMIT 1000

/* Everything main() owns: the loaded data, the (n, 784) views the guide's reshape makes,
 * and the model. Freed by seed_example_free. */
typedef struct seed_example {
  const char *program;
  kcb_mnist data;
  kcb_tensor x_train, y_train; /* views over data.train_* */
  kcb_tensor x_test, y_test;   /* views over data.test_* */
  kcb_model *model;
} seed_example;

/* Releases what seed_example_init made (safe on a partly made or zeroed example). */
static inline void seed_example_free(seed_example *ex) {
  kcb_model_free(ex->model);
  ex->model = NULL;
  kcb_mnist_free(&ex->data);
}

/* On a kcb error: prints kcb's message to stderr, frees the example and exits with status 1. */
static inline void seed_check(seed_example *ex, int rc, const char *what) {
  if (rc == 0) return;
  const char *msg = kcb_error_last();
  fprintf(stderr, "%s: %s failed: %s\n", ex->program, what, msg[0] ? msg : kcb_strerror(rc));
  seed_example_free(ex);
  exit(1);
}

/* Flattens (n, 28, 28) images into an (n, 784) view over the same floats and takes the labels
 * (n,) as float targets — the guide's x.reshape(-1, 784).astype("float32") / 255.0
 * (kcb_mnist_load already scales pixels to [0, 1]). */
static inline void seed_views(const kcb_tensor *images, kcb_tensor *labels, kcb_tensor *x, kcb_tensor *y) {
  int64_t n = images->shape[0];
  int64_t xs[2] = {n, kcb_tensor_sample_size(images)};
  int64_t ys[1] = {labels->shape[0]};
  *x = kcb_tensor_view(images->data, 2, xs);
  *y = kcb_tensor_view(labels->data, 1, ys);
}

/* "A basic example": load the data (argv[1], or Debian's Fashion-MNIST when absent), keep the
 * first 1000 samples of each split, and build get_model():
 *   Sequential([Input((784,)), Dense(1)]) compiled with RMSprop(learning_rate=0.1),
 *   loss="mean_squared_error", metrics=["mean_absolute_error"]. */
static inline void seed_example_init(seed_example *ex, int argc, char **argv) {
  *ex = (seed_example){0};
  ex->program = argc > 0 && argv[0] ? argv[0] : "example";
  const char *dir = argc > 1 ? argv[1] : NULL;
  seed_check(ex, kcb_mnist_load(&ex->data, dir, SEED_EXAMPLE_LIMIT), "loading the data");
  seed_views(ex->data.train_images, ex->data.train_labels, &ex->x_train, &ex->y_train);
  seed_views(ex->data.test_images, ex->data.test_labels, &ex->x_test, &ex->y_test);

  int64_t input_shape[1] = {ex->x_train.shape[1]};
  seed_check(ex, kcb_model_new(&ex->model, 1, input_shape, SEED_EXAMPLE_SEED), "kcb_model_new");
  kcb_dense_options dense = KCB_DENSE_OPTIONS_INIT;
  dense.units = 1;
  seed_check(ex, kcb_model_add_dense(ex->model, &dense), "adding Dense(1)");

  static const kcb_metric metrics[1] = {KCB_METRIC_MEAN_ABSOLUTE_ERROR};
  static const char *const metric_names[1] = {"mean_absolute_error"};
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_RMSPROP);
  c.optimizer.learning_rate = 0.1;
  c.loss = KCB_LOSS_MEAN_SQUARED_ERROR;
  c.metrics = metrics;
  c.n_metrics = 1;
  c.metric_names = metric_names;
  seed_check(ex, kcb_model_compile(ex->model, &c), "compile");
}

/* The guide's calls all pass verbose=0 and a list of callbacks; the rest is per call. */
static inline kcb_fit_options seed_fit_options(int64_t batch_size, int epochs, kcb_callback **callbacks, size_t n) {
  kcb_fit_options o = KCB_FIT_OPTIONS_INIT;
  o.batch_size = batch_size;
  o.epochs = epochs;
  o.verbose = 0;
  o.callbacks = callbacks;
  o.n_callbacks = n;
  return o;
}

/* Options for evaluate and predict (the same struct in kcb). */
static inline kcb_evaluate_options seed_evaluate_options(int64_t batch_size, kcb_callback **callbacks, size_t n) {
  kcb_evaluate_options o = KCB_EVALUATE_OPTIONS_INIT;
  o.batch_size = batch_size;
  o.verbose = 0;
  o.callbacks = callbacks;
  o.n_callbacks = n;
  return o;
}

/* The logs value of key, as Python's logs["key"]: a missing key is a KeyError, which ends the
 * run; here the hook reports it and returns KCB_EKEY, which fit/evaluate hand back. */
static inline int seed_log_value(const kcb_logs *logs, const char *key, double *out) {
  if (kcb_logs_get(logs, key, out)) return 0;
  fprintf(stderr, "KeyError: '%s'\n", key);
  return KCB_EKEY;
}

/* Python's format(v, "7.2f"): as C's "%7.2f" except that NaN is always "nan" (glibc would
 * print "-nan" for a NaN with the sign bit set). buf holds at least 32 bytes. */
static inline const char *seed_format_7_2f(double v, char *buf, size_t size) {
  if (isnan(v)) snprintf(buf, size, "%7s", "nan");
  else snprintf(buf, size, "%7.2f", v);
  return buf;
}

/* ---- "Usage of logs dict": LossAndErrorPrintingCallback -------------------------------- */

typedef struct loss_and_error_printer {
  kcb_callback base;
} loss_and_error_printer;

/* on_train_batch_end and on_test_batch_end: the running average loss of the pass so far. */
static inline int loss_printer_batch_end(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  double loss;
  char buf[32];
  int rc = seed_log_value(logs, "loss", &loss);
  if (rc != 0) return rc;
  printf("Up to batch %lld, the average loss is %s.\n", (long long)batch,
         seed_format_7_2f(loss, buf, sizeof buf));
  return 0;
}

static inline int loss_printer_epoch_end(kcb_callback *cb, int epoch, kcb_logs *logs) {
  double loss, mae;
  char b1[32], b2[32];
  int rc = seed_log_value(logs, "loss", &loss);
  if (rc == 0) rc = seed_log_value(logs, "mean_absolute_error", &mae);
  if (rc != 0) return rc;
  printf("The average loss for epoch %d is %s and mean absolute error is %s.\n", epoch,
         seed_format_7_2f(loss, b1, sizeof b1), seed_format_7_2f(mae, b2, sizeof b2));
  return 0;
}

/* LossAndErrorPrintingCallback(): owns nothing, so there is nothing to free. */
static inline loss_and_error_printer loss_and_error_printer_make(void) {
  static const kcb_callback_ops ops = {
      .name = "LossAndErrorPrintingCallback",
      .on_epoch_end = loss_printer_epoch_end,
      .on_train_batch_end = loss_printer_batch_end,
      .on_test_batch_end = loss_printer_batch_end,
  };
  loss_and_error_printer p = {0};
  p.base.ops = &ops;
  return p;
}

#endif
