/* distributed_fashion_mnist.c — data-parallel training over Open MPI, as Horovod's and TF's
 * MultiWorkerMirroredStrategy's examples do it, with the same program and callbacks as one process:
 *
 *   mpirun -np 2 ./distributed_fashion_mnist [DATA_DIR [TRAIN_LIMIT [OUT_DIR [EPOCHS]]]]
 *
 * - the global batch (256) is split across the processes; the learning rate is scaled by their
 *   number and warmed up over 2 epochs (Goyal et al.'s linear scaling rule);
 * - CSVLogger and ModelCheckpoint are given to every process: they write on rank 0 only;
 * - EarlyStopping decides the same on every rank, since logs are global;
 * - a callback of our own prints on rank 0 only (cb->params->rank);
 * - a failure ends the whole job (kcb_distributed_abort), never leaving ranks waiting.
 * Run without mpirun it trains in one process. Needs kcb built with KCB_MPI (Open MPI). */
#include <stdio.h>
#include <stdlib.h>

#include "kcb/kcb.h"

/* Prints one line per epoch, from rank 0 alone. */
static int say_epoch_end(kcb_callback *cb, int epoch, kcb_logs *logs) {
  double loss = 0, val_loss = 0;
  if (cb->params->rank != 0) return 0;
  kcb_logs_get(logs, "loss", &loss);
  kcb_logs_get(logs, "val_loss", &val_loss);
  printf("epoch %d on %d processes: loss %.4f, val_loss %.4f, learning rate %.6f\n", epoch + 1, cb->params->size, loss,
         val_loss, kcb_model_learning_rate(cb->model));
  return 0;
}

static int check(int rc, const char *what, int rank) {
  if (rc) fprintf(stderr, "distributed_fashion_mnist (rank %d): %s: %s\n", rank, what, kcb_error_last());
  return rc;
}

int main(int argc, char **argv) {
  const char *data_dir = argc > 1 && argv[1][0] ? argv[1] : NULL;
  long long limit = argc > 2 ? strtoll(argv[2], NULL, 10) : 0;
  const char *out_dir = argc > 3 ? argv[3] : ".";
  int epochs = argc > 4 ? atoi(argv[4]) : 6;
  char csv_path[4096], ckpt_path[4096];
  snprintf(csv_path, sizeof csv_path, "%s/distributed_log.csv", out_dir);
  snprintf(ckpt_path, sizeof ckpt_path, "%s/best.weights.h5", out_dir);

  kcb_distributed *dist = NULL;
  kcb_mnist data = {0};
  kcb_model *model = NULL;
  kcb_callback *callbacks[5] = {NULL};
  size_t n = 0;
  int rank = 0, rc;
  /* Joins the job (initialising MPI); alone, a job of one. */
  if ((rc = kcb_distributed_new(&dist, NULL))) {
    fprintf(stderr, "distributed_fashion_mnist: %s\n", kcb_error_last());
    return 1;
  }
  rank = kcb_distributed_rank(dist);
  const int size = kcb_distributed_size(dist);

  /* Every process loads the same data: each trains on its own share of every global batch. */
  if (check(rc = kcb_mnist_load(&data, data_dir, limit), "loading the data", rank)) goto done;
  if (check(rc = kcb_model_new_from_spec(&model, "flatten,256:relu,dropout:0.2,10:softmax", 2,
                                          &data.train_images->shape[1], 42), "building the model", rank))
    goto done;
  kcb_metric metrics[1] = {KCB_METRIC_ACCURACY};
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
  c.optimizer.learning_rate = 0.001;
  c.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  c.metrics = metrics;
  c.n_metrics = 1;
  if (check(rc = kcb_model_compile(model, &c), "compile", rank)) goto done;

  /* From the compiled rate to rate x processes over 2 epochs, then kept. */
  static kcb_lr_warmup warmup;
  warmup = (kcb_lr_warmup){0.001, size, 2};
  kcb_lr_scheduler_options lo = KCB_LR_SCHEDULER_OPTIONS_INIT;
  kcb_csv_logger_options co = KCB_CSV_LOGGER_OPTIONS_INIT;
  kcb_early_stopping_options eo = KCB_EARLY_STOPPING_OPTIONS_INIT;
  eo.patience = 2;
  eo.restore_best_weights = 1;
  kcb_model_checkpoint_options mo = KCB_MODEL_CHECKPOINT_OPTIONS_INIT;
  mo.save_best_only = 1;
  static const kcb_callback_ops say_ops = {.name = "SayEpochEnd", .on_epoch_end = say_epoch_end};
  static kcb_callback say = {&say_ops, NULL, NULL, NULL, 0};
  if (check(rc = kcb_lr_scheduler_new(&callbacks[n++], kcb_lr_schedule_warmup, &warmup, &lo), "LearningRateScheduler", rank) ||
      check(rc = kcb_csv_logger_new(&callbacks[n++], csv_path, &co), "CSVLogger", rank) ||
      check(rc = kcb_early_stopping_new(&callbacks[n++], &eo), "EarlyStopping", rank) ||
      check(rc = kcb_model_checkpoint_new(&callbacks[n++], ckpt_path, &mo), "ModelCheckpoint", rank))
    goto done;
  callbacks[n++] = &say;

  kcb_fit_options fit = KCB_FIT_OPTIONS_INIT;
  fit.epochs = epochs;
  fit.batch_size = 256; /* the global batch: each process computes 256 / size of it */
  fit.validation_split = 0.1;
  fit.verbose = 0;
  fit.callbacks = callbacks;
  fit.n_callbacks = n;
  fit.distributed = dist;
  if (check(rc = kcb_model_fit(model, data.train_images, data.train_labels, &fit, NULL), "fit", rank)) goto done;

  /* one pass over the test set shared by the processes: each evaluates its shard of every batch,
   * and every process gets the whole set's loss and accuracy */
  kcb_evaluate_options ev = KCB_EVALUATE_OPTIONS_INIT;
  ev.verbose = 0;
  ev.distributed = dist;
  kcb_logs result;
  double loss = 0, accuracy = 0;
  if (check(rc = kcb_model_evaluate(model, data.test_images, data.test_labels, &ev, &result), "evaluate", rank)) goto done;
  kcb_logs_get(&result, "loss", &loss);
  kcb_logs_get(&result, "accuracy", &accuracy);
  if (rank == 0)
    printf("test_loss=%.6f test_accuracy=%.6f (%d processes; %s and %s written by rank 0)\n", loss, accuracy, size,
           csv_path, ckpt_path);

done:
  for (size_t i = 0; i + 1 < n; i++) kcb_callback_free(callbacks[i]); /* the last is our static one */
  kcb_model_free(model);
  kcb_mnist_free(&data);
  if (rc) kcb_distributed_abort(dist, 1); /* the other ranks may be waiting for this one: end the job */
  kcb_distributed_free(dist);
  return rc ? 1 : 0;
}
