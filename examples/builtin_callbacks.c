/* builtin_callbacks.c — one fit on Fashion-MNIST with Keras's built-in callbacks working together:
 * ReduceLROnPlateau halves the learning rate when val_loss stalls, EarlyStopping ends the run when
 * it stops improving and restores the best epoch's weights, and CSVLogger writes one row per epoch
 * (with the learning_rate column ReduceLROnPlateau adds, because it comes first in the list), and
 * ModelCheckpoint keeps the best epoch's weights in OUT_DIR/best.weights.h5, and TensorBoard writes
 * the epoch scalars and weight histograms under OUT_DIR/logs.
 *
 * Run:  ./builtin_callbacks [DATA_DIR [TRAIN_LIMIT [OUT_DIR]]]
 *   DATA_DIR     an MNIST-format directory [KCB_FASHION_MNIST_DIR]
 *   TRAIN_LIMIT  use only the first N training and test samples [all]
 *   OUT_DIR      where the files go [.]
 * Prints the progress (one line per epoch), the callbacks' messages, where each file went, the
 * best epoch read back from the CSV log, and the test-set evaluation. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "kcb/kcb.h"

static int check(int rc, const char *what) {
  if (rc) fprintf(stderr, "builtin_callbacks: %s failed: %s\n", what, kcb_error_last()[0] ? kcb_error_last() : kcb_strerror(rc));
  return rc;
}

int main(int argc, char **argv) {
  const char *data_dir = argc > 1 && argv[1][0] ? argv[1] : NULL;
  long long limit = argc > 2 ? strtoll(argv[2], NULL, 10) : 0;
  const char *out_dir = argc > 3 ? argv[3] : ".";
  char csv_path[4096];
  snprintf(csv_path, sizeof csv_path, "%s/training_log.csv", out_dir);

  kcb_mnist data = {0};
  kcb_model *model = NULL;
  kcb_callback *callbacks[8] = {NULL};
  size_t n = 0;
  kcb_history *history = NULL;
  kcb_csv_table table = {0};
  int rc = 0;

  if (check(rc = kcb_mnist_load(&data, data_dir, limit), "loading the data")) goto done;
  if (check(rc = kcb_model_new(&model, 2, &data.train_images->shape[1], 1337), "kcb_model_new") ||
      check(rc = kcb_model_add_from_spec(model, "flatten,128:relu,10:softmax"), "building the model"))
    goto done;
  kcb_metric metrics[1] = {KCB_METRIC_ACCURACY};
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
  c.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  c.metrics = metrics;
  c.n_metrics = 1;
  if (check(rc = kcb_model_compile(model, &c), "compile")) goto done;

  /* ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, verbose=1) */
  kcb_reduce_lr_on_plateau_options lr = KCB_REDUCE_LR_ON_PLATEAU_OPTIONS_INIT;
  lr.factor = 0.5;
  lr.patience = 2;
  lr.verbose = 1;
  if (check(rc = kcb_reduce_lr_on_plateau_new(&callbacks[n++], &lr), "ReduceLROnPlateau")) goto done;

  /* EarlyStopping(monitor="val_loss", patience=4, restore_best_weights=True, verbose=1) */
  kcb_early_stopping_options es = KCB_EARLY_STOPPING_OPTIONS_INIT;
  es.patience = 4;
  es.restore_best_weights = 1;
  es.verbose = 1;
  if (check(rc = kcb_early_stopping_new(&callbacks[n++], &es), "EarlyStopping")) goto done;
  kcb_callback *early_stopping = callbacks[n - 1];

  /* CSVLogger("training_log.csv") */
  if (check(rc = kcb_csv_logger_new(&callbacks[n++], csv_path, NULL), "CSVLogger")) goto done;

  /* TensorBoard(log_dir=OUT_DIR/logs, histogram_freq=1): train/ and validation/ runs */
  char log_dir[4096];
  snprintf(log_dir, sizeof log_dir, "%s/logs", out_dir);
  kcb_tensorboard_options tb = KCB_TENSORBOARD_OPTIONS_INIT;
  tb.log_dir = log_dir;
  tb.histogram_freq = 1;
  if (check(rc = kcb_tensorboard_new(&callbacks[n++], &tb), "TensorBoard")) goto done;

  /* ModelCheckpoint(OUT_DIR/best.weights.h5, save_best_only=True, save_weights_only=True, verbose=1) */
  char ckpt_path[4096];
  snprintf(ckpt_path, sizeof ckpt_path, "%s/best.weights.h5", out_dir);
  kcb_model_checkpoint_options mc = KCB_MODEL_CHECKPOINT_OPTIONS_INIT;
  mc.save_best_only = 1;
  mc.save_weights_only = 1;
  mc.verbose = 1;
  mc.restore_best = 0; /* a new run in OUT_DIR starts its own best */
  if (check(rc = kcb_model_checkpoint_new(&callbacks[n++], ckpt_path, &mc), "ModelCheckpoint")) goto done;
  kcb_callback *checkpoint = callbacks[n - 1];

  kcb_fit_options fit = KCB_FIT_OPTIONS_INIT;
  fit.epochs = 20;
  fit.batch_size = 64;
  fit.verbose = 2;
  fit.validation_split = 0.1;
  fit.callbacks = callbacks;
  fit.n_callbacks = n;
  if (check(rc = kcb_model_fit(model, data.train_images, data.train_labels, &fit, &history), "fit")) goto done;

  printf("CSV log: %s\n", csv_path);
  printf("TensorBoard logs: %s (tensorboard --logdir %s, or kcb-inspect runs %s)\n", log_dir, log_dir, log_dir);
  kcb_checkpoint_info info;
  if (check(rc = kcb_checkpoint_info_read(&info, ckpt_path), "reading the checkpoint")) goto done;
  char best_buf[32];
  printf("Checkpoint: %s (val_loss %s, epoch %lld)\n", ckpt_path,
         kcb_format_double(kcb_model_checkpoint_best(checkpoint), best_buf, sizeof best_buf), (long long)info.epoch + 1);

  /* The log read back: the epoch of the lowest val_loss is the one EarlyStopping restored. */
  if (check(rc = kcb_csv_table_read(&table, csv_path, ','), "reading the CSV log")) goto done;
  int col = kcb_csv_table_column(&table, "val_loss");
  size_t best = 0;
  for (size_t r = 1; col >= 0 && r < table.n_rows; r++)
    if (kcb_csv_table_value(&table, r, (size_t)col) < kcb_csv_table_value(&table, best, (size_t)col)) best = r;
  char buf[32];
  printf("CSV log: %zu epochs; lowest val_loss %s at epoch %zu (0-based); EarlyStopping restored epoch %d\n",
         table.n_rows, kcb_format_double(col >= 0 ? kcb_csv_table_value(&table, best, (size_t)col) : NAN, buf, sizeof buf),
         best, kcb_early_stopping_best_epoch(early_stopping));

  kcb_evaluate_options ev = KCB_EVALUATE_OPTIONS_INIT;
  ev.verbose = 0;
  kcb_logs result;
  if (check(rc = kcb_model_evaluate(model, data.test_images, data.test_labels, &ev, &result), "evaluate")) goto done;
  double loss = 0, acc = 0;
  kcb_logs_get(&result, "loss", &loss);
  kcb_logs_get(&result, "accuracy", &acc);
  printf("test_loss=%.6f test_accuracy=%.6f\n", loss, acc);
done:
  kcb_csv_table_free(&table);
  kcb_history_free(history);
  for (size_t i = 0; i < n; i++) kcb_callback_free(callbacks[i]);
  kcb_model_free(model);
  kcb_mnist_free(&data);
  return rc ? 1 : 0;
}
