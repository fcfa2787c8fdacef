/* early_stopping_at_min_loss.c — Keras's guide "Writing your own callbacks", section
 * "Examples of Keras callback applications / Early stopping at minimum loss":
 * EarlyStoppingAtMinLoss(patience=0) stops training as soon as the epoch's loss stops
 * decreasing (through the model's stop_training flag) and restores the weights of the best
 * epoch; LossAndErrorPrintingCallback prints the losses along the way.
 *
 * Run:  ./early_stopping_at_min_loss [MNIST_DIR]
 *   MNIST_DIR holds train-images-idx3-ubyte[.gz] and the three other IDX files; without it the
 *   program reads Debian's Fashion-MNIST from /usr/share/datasets/fashion-mnist.
 * Prints exactly what the guide's Python prints (fit runs with verbose=0). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "seed_common.h"

/* ---- "Early stopping at minimum loss": EarlyStoppingAtMinLoss ------------------------- */

typedef struct early_stopping_at_min_loss {
  kcb_callback base;
  int patience;        /* epochs to wait after the minimum before stopping */
  int wait;            /* epochs waited since the loss was last at its minimum */
  int stopped_epoch;   /* the epoch training stopped at */
  double best;         /* the lowest loss so far */
  float *best_weights; /* the weights at the lowest loss (allocated once), NULL before */
  size_t n_weights;
  int has_best;        /* whether best_weights holds weights (Python: best_weights is not None) */
} early_stopping_at_min_loss;

static int es_on_train_begin(kcb_callback *cb, kcb_logs *logs) {
  early_stopping_at_min_loss *es = (early_stopping_at_min_loss *)cb;
  es->wait = 0;          /* The number of epoch it has waited when loss is no longer minimum. */
  es->stopped_epoch = 0; /* The epoch the training stops at. */
  es->best = INFINITY;   /* Initialize the best as infinity. */
  if (es->best_weights == NULL) {
    es->n_weights = kcb_model_param_count(cb->model);
    es->best_weights = malloc((es->n_weights ? es->n_weights : 1) * sizeof *es->best_weights);
    if (es->best_weights == NULL) return KCB_ENOMEM;
  }
  return 0;
}

static int es_on_epoch_end(kcb_callback *cb, int epoch, kcb_logs *logs) {
  early_stopping_at_min_loss *es = (early_stopping_at_min_loss *)cb;
  double current = NAN; /* logs.get("loss"): None when absent, and np.less(None, ...) fails */
  int rc = seed_log_value(logs, "loss", &current);
  if (rc != 0) return rc;
  if (current < es->best) { /* np.less(current, self.best); False for NaN */
    es->best = current;
    es->wait = 0;
    /* Record the best weights if current results is better (less). */
    rc = kcb_model_get_weights(cb->model, es->best_weights, es->n_weights);
    if (rc != 0) return rc;
    es->has_best = 1;
  } else {
    es->wait += 1;
    if (es->wait >= es->patience) {
      es->stopped_epoch = epoch;
      kcb_model_set_stop_training(cb->model, 1);
      printf("Restoring model weights from the end of the best epoch.\n");
      /* Python's set_weights(None) would raise here; only reachable if the first loss is NaN. */
      if (!es->has_best) return KCB_ESTATE;
      rc = kcb_model_set_weights(cb->model, es->best_weights, es->n_weights);
      if (rc != 0) return rc;
    }
  }
  return 0;
}

static int es_on_train_end(kcb_callback *cb, kcb_logs *logs) {
  early_stopping_at_min_loss *es = (early_stopping_at_min_loss *)cb;
  if (es->stopped_epoch > 0) printf("Epoch %d: early stopping\n", es->stopped_epoch + 1);
  return 0;
}

static void es_destroy(kcb_callback *cb) {
  early_stopping_at_min_loss *es = (early_stopping_at_min_loss *)cb;
  free(es->best_weights);
  es->best_weights = NULL;
}

static const kcb_callback_ops early_stopping_at_min_loss_ops = {
    .name = "EarlyStoppingAtMinLoss",
    .on_train_begin = es_on_train_begin,
    .on_train_end = es_on_train_end,
    .on_epoch_end = es_on_epoch_end,
    .destroy = es_destroy,
};

/* EarlyStoppingAtMinLoss(patience): release with kcb_callback_free (frees best_weights). */
static early_stopping_at_min_loss early_stopping_at_min_loss_make(int patience) {
  early_stopping_at_min_loss es = {0};
  es.base.ops = &early_stopping_at_min_loss_ops;
  es.patience = patience;
  return es;
}

int main(int argc, char **argv) {
  seed_example ex;
  seed_example_init(&ex, argc, argv);

  /* model.fit(x_train, y_train, batch_size=64, steps_per_epoch=5, epochs=30, verbose=0,
   *           callbacks=[LossAndErrorPrintingCallback(), EarlyStoppingAtMinLoss()]) */
  loss_and_error_printer printer = loss_and_error_printer_make();
  early_stopping_at_min_loss stopper = early_stopping_at_min_loss_make(0);
  kcb_callback *cbs[2] = {&printer.base, &stopper.base};
  kcb_fit_options fo = seed_fit_options(64, 30, cbs, 2);
  fo.steps_per_epoch = 5;
  int rc = kcb_model_fit(ex.model, &ex.x_train, &ex.y_train, &fo, NULL);
  kcb_callback_free(&stopper.base); /* embedded: only calls destroy */
  seed_check(&ex, rc, "fit");

  seed_example_free(&ex);
  return 0;
}
