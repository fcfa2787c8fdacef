/* loss_and_error.c — Keras's guide "Writing your own callbacks", section "Usage of logs dict":
 * LossAndErrorPrintingCallback prints the running average loss after every training and test
 * batch, and the loss and mean absolute error at the end of every epoch.
 *
 * Run:  ./loss_and_error [MNIST_DIR]
 *   MNIST_DIR holds train-images-idx3-ubyte[.gz] and the three other IDX files; without it the
 *   program reads Debian's Fashion-MNIST from /usr/share/datasets/fashion-mnist.
 * Prints exactly what the guide's Python prints (fit and evaluate run with verbose=0). */
#include "seed_common.h"

int main(int argc, char **argv) {
  seed_example ex;
  seed_example_init(&ex, argc, argv);

  /* model.fit(x_train, y_train, batch_size=128, epochs=2, verbose=0,
   *           callbacks=[LossAndErrorPrintingCallback()])
   * The callback (in seed_common.h) owns nothing, so it needs no freeing. */
  loss_and_error_printer fit_printer = loss_and_error_printer_make();
  kcb_callback *fit_cbs[1] = {&fit_printer.base};
  kcb_fit_options fo = seed_fit_options(128, 2, fit_cbs, 1);
  seed_check(&ex, kcb_model_fit(ex.model, &ex.x_train, &ex.y_train, &fo, NULL), "fit");

  /* res = model.evaluate(x_test, y_test, batch_size=128, verbose=0,
   *                      callbacks=[LossAndErrorPrintingCallback()]) */
  loss_and_error_printer eval_printer = loss_and_error_printer_make();
  kcb_callback *eval_cbs[1] = {&eval_printer.base};
  kcb_evaluate_options eo = seed_evaluate_options(128, eval_cbs, 1);
  kcb_logs res;
  seed_check(&ex, kcb_model_evaluate(ex.model, &ex.x_test, &ex.y_test, &eo, &res), "evaluate");

  seed_example_free(&ex);
  return 0;
}
