/* readme_tour.c — the README's "A tour of the API" and "Writing a callback", as one program that
 * CI compiles and runs (tests/cli/readme_snippets.py checks that every C block of those README
 * sections is a verbatim part of this file, between its "readme:" markers).
 *
 * Run:  ./readme_tour [MNIST_DIR]   (default: Debian's Fashion-MNIST)
 * Trains a small model for 5 epochs with the MinLoss callback attached, then evaluates it. */
#include <math.h>
#include <stdio.h>

#include <kcb/kcb.h>

/* readme: callback */
typedef struct { kcb_callback base; double best; } min_loss;

static int on_epoch_end(kcb_callback *cb, int epoch, kcb_logs *logs) {
  min_loss *self = (min_loss *)cb;
  double loss;
  if (kcb_logs_get(logs, "loss", &loss) && loss < self->best) self->best = loss;
  else kcb_model_set_stop_training(cb->model, 1);   /* stop when the loss stops falling */
  return 0;                 /* a negative KCB_E* code would end fit and be returned by it */
}
static const kcb_callback_ops min_loss_ops = {.name = "MinLoss", .on_epoch_end = on_epoch_end};
/* readme: end */

int main(int argc, char **argv) {
  /* readme: tour */
  kcb_mnist data = {0};                              /* Fashion-MNIST from Debian, or any IDX dir */
  kcb_model *model = NULL;
  kcb_history *history = NULL;
  min_loss stop = {{.ops = &min_loss_ops}, INFINITY}; /* the callback of "Writing a callback" */
  kcb_callback *callbacks[] = {&stop.base};

  int rc = kcb_mnist_load(&data, argc > 1 ? argv[1] : NULL, 6000); /* NULL: the default dir */
  int64_t shape[2] = {28, 28};
  if (rc == 0) rc = kcb_model_new(&model, 2, shape, /*seed=*/42); /* same seed, same run */
  if (rc == 0) rc = kcb_model_add_from_spec(model, "flatten,128:relu,10:softmax");
  /* or layer by layer: kcb_dense_options d = KCB_DENSE_OPTIONS_INIT; d.units = 128; ... */

  kcb_metric metrics[] = {KCB_METRIC_ACCURACY};
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
  c.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  c.metrics = metrics;
  c.n_metrics = 1;
  if (rc == 0) rc = kcb_model_compile(model, &c);

  kcb_fit_options fit = KCB_FIT_OPTIONS_INIT;        /* Keras's defaults: batch 32, 1 epoch, ... */
  fit.epochs = 5;
  fit.verbose = 2;                                   /* a line per epoch */
  fit.validation_split = 0.1;
  fit.callbacks = callbacks;                         /* run before History and ProgbarLogger */
  fit.n_callbacks = 1;
  if (rc == 0) rc = kcb_model_fit(model, data.train_images, data.train_labels, &fit, &history);

  kcb_evaluate_options ev = KCB_EVALUATE_OPTIONS_INIT;
  ev.verbose = 0;
  kcb_logs result;
  if (rc == 0) rc = kcb_model_evaluate(model, data.test_images, data.test_labels, &ev, &result);
  double loss = 0, accuracy = 0;
  if (rc == 0 && kcb_logs_get(&result, "loss", &loss) && kcb_logs_get(&result, "accuracy", &accuracy))
    printf("test loss %.4f, accuracy %.4f (best training loss %.4f)\n", loss, accuracy, stop.best);

  if (rc) fprintf(stderr, "kcb: %s (%s)\n", kcb_error_last(), kcb_error_name(rc));
  kcb_history_free(history);                         /* every _free accepts NULL */
  kcb_model_free(model);
  kcb_mnist_free(&data);
  return rc ? 1 : 0;
  /* readme: end */
}
