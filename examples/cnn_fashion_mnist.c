/* cnn_fashion_mnist.c — a convolutional network on Fashion-MNIST with the callbacks a Keras user
 * puts on one: TensorBoard (epoch scalars, histograms of every weight with BatchNormalization's
 * moving statistics, conv kernels as images), ModelCheckpoint keeping the best model as a .keras
 * file, EarlyStopping restoring the best weights, and CSVLogger. The best checkpoint is loaded
 * back as a new model and evaluated on the test split.
 *
 * Run:  ./cnn_fashion_mnist [DATA_DIR [TRAIN_LIMIT [OUT_DIR [EPOCHS]]]]
 *   DATA_DIR     an MNIST-format directory [KCB_FASHION_MNIST_DIR]
 *   TRAIN_LIMIT  use only the first N training and test samples [all]
 *   OUT_DIR      where the files go [.]
 *   EPOCHS       [12]
 * The network is kcb-train's preset `--model cnn` (kcb_model_spec_preset("cnn")). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcb/kcb.h"

static int check(int rc, const char *what) {
  if (rc) fprintf(stderr, "cnn_fashion_mnist: %s failed: %s\n", what, kcb_error_last()[0] ? kcb_error_last() : kcb_strerror(rc));
  return rc;
}

int main(int argc, char **argv) {
  const char *data_dir = argc > 1 && argv[1][0] ? argv[1] : NULL;
  long long limit = argc > 2 ? strtoll(argv[2], NULL, 10) : 0;
  const char *out_dir = argc > 3 ? argv[3] : ".";
  int epochs = argc > 4 ? atoi(argv[4]) : 12;
  char csv_path[4096], log_dir[4096], ckpt_path[4096];
  snprintf(csv_path, sizeof csv_path, "%s/training_log.csv", out_dir);
  snprintf(log_dir, sizeof log_dir, "%s/logs", out_dir);
  snprintf(ckpt_path, sizeof ckpt_path, "%s/best.keras", out_dir);

  kcb_mnist data = {0};
  kcb_model *model = NULL, *best = NULL;
  kcb_callback *callbacks[4] = {NULL};
  size_t n = 0;
  int rc = 0;

  if (check(rc = kcb_mnist_load(&data, data_dir, limit), "loading the data")) goto done;
  /* The preset's spec starts with its input shape, 28x28x1: the images are viewed that way. */
  const char *spec = kcb_model_spec_preset("cnn");
  if (check(rc = kcb_model_new_from_spec(&model, spec, 2, &data.train_images->shape[1], 1337), "building the model"))
    goto done;
  int64_t shape[KCB_MAX_RANK];
  int rank = kcb_model_input_shape(model, shape);
  kcb_tensor *images[2] = {data.train_images, data.test_images};
  for (int i = 0; i < 2; i++) {
    images[i]->rank = rank + 1;
    memcpy(images[i]->shape + 1, shape, (size_t)rank * sizeof shape[0]);
  }
  kcb_metric metrics[1] = {KCB_METRIC_ACCURACY};
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
  c.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  c.metrics = metrics;
  c.n_metrics = 1;
  if (check(rc = kcb_model_compile(model, &c), "compile")) goto done;
  kcb_model_summary(model, stdout);

  /* TensorBoard(log_dir, histogram_freq=1, write_images=True) */
  kcb_tensorboard_options tb = KCB_TENSORBOARD_OPTIONS_INIT;
  tb.log_dir = log_dir;
  tb.histogram_freq = 1;
  tb.write_images = 1;
  if (check(rc = kcb_tensorboard_new(&callbacks[n++], &tb), "TensorBoard")) goto done;
  /* ModelCheckpoint("best.keras", monitor="val_accuracy", save_best_only=True) */
  kcb_model_checkpoint_options mc = KCB_MODEL_CHECKPOINT_OPTIONS_INIT;
  mc.monitor = "val_accuracy";
  mc.save_best_only = 1;
  mc.verbose = 1;
  mc.restore_best = 0;
  if (check(rc = kcb_model_checkpoint_new(&callbacks[n++], ckpt_path, &mc), "ModelCheckpoint")) goto done;
  /* EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True) */
  kcb_early_stopping_options es = KCB_EARLY_STOPPING_OPTIONS_INIT;
  es.patience = 3;
  es.restore_best_weights = 1;
  es.verbose = 1;
  if (check(rc = kcb_early_stopping_new(&callbacks[n++], &es), "EarlyStopping")) goto done;
  /* CSVLogger("training_log.csv") */
  if (check(rc = kcb_csv_logger_new(&callbacks[n++], csv_path, NULL), "CSVLogger")) goto done;

  kcb_fit_options fit = KCB_FIT_OPTIONS_INIT;
  fit.epochs = epochs;
  fit.batch_size = 64;
  fit.verbose = 2;
  fit.validation_split = 0.1;
  fit.callbacks = callbacks;
  fit.n_callbacks = n;
  if (check(rc = kcb_model_fit(model, data.train_images, data.train_labels, &fit, NULL), "fit")) goto done;
  printf("CSV log: %s\n", csv_path);
  printf("TensorBoard logs: %s (tensorboard --logdir %s, or kcb-inspect images %s)\n", log_dir, log_dir, log_dir);

  /* The best checkpoint, loaded as a new model (BatchNormalization's moving statistics included). */
  if (check(rc = kcb_model_load(&best, ckpt_path, NULL), "loading the best checkpoint")) goto done;
  kcb_evaluate_options ev = KCB_EVALUATE_OPTIONS_INIT;
  ev.verbose = 0;
  kcb_logs result;
  if (check(rc = kcb_model_evaluate(best, data.test_images, data.test_labels, &ev, &result), "evaluate")) goto done;
  double acc = 0, loss = 0;
  kcb_logs_get(&result, "accuracy", &acc);
  kcb_logs_get(&result, "loss", &loss);
  char a_buf[32], l_buf[32];
  printf("Best checkpoint %s: test accuracy %s, test loss %s\n", ckpt_path, kcb_format_double(acc, a_buf, sizeof a_buf),
         kcb_format_double(loss, l_buf, sizeof l_buf));
done:
  for (size_t i = 0; i < n; i++) kcb_callback_free(callbacks[i]);
  kcb_model_free(model);
  kcb_model_free(best);
  kcb_mnist_free(&data);
  return rc ? 1 : 0;
}
