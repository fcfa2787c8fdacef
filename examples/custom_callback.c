/* custom_callback.c — Keras's guide "Writing your own callbacks", section "A basic example":
 * a CustomCallback that prints the log keys every hook receives, passed to fit (with a
 * validation split), evaluate and predict.
 *
 * Run:  ./custom_callback [MNIST_DIR]
 *   MNIST_DIR holds train-images-idx3-ubyte[.gz] and the three other IDX files; without it the
 *   program reads Debian's Fashion-MNIST from /usr/share/datasets/fashion-mnist.
 * Prints exactly what the guide's Python prints (no progress bars: every call has verbose=0). */
#include <stdio.h>

#include "seed_common.h"

/* ---- "A basic example": CustomCallback ------------------------------------------------- */

typedef struct custom_callback {
  kcb_callback base;
} custom_callback;

/* Python's `list(logs.keys())` formatted by str.format, e.g. "['loss', 'mean_absolute_error']",
 * written into each hook's local `keys` buffer. */
#define KEYS(logs) kcb_logs_keys_string((logs), keys, sizeof keys)

static int on_train_begin(kcb_callback *cb, kcb_logs *logs) {
  char keys[512];
  printf("Starting training; got log keys: %s\n", KEYS(logs));
  return 0;
}

static int on_train_end(kcb_callback *cb, kcb_logs *logs) {
  char keys[512];
  printf("Stop training; got log keys: %s\n", KEYS(logs));
  return 0;
}

static int on_epoch_begin(kcb_callback *cb, int epoch, kcb_logs *logs) {
  char keys[512];
  printf("Start epoch %d of training; got log keys: %s\n", epoch, KEYS(logs));
  return 0;
}

static int on_epoch_end(kcb_callback *cb, int epoch, kcb_logs *logs) {
  char keys[512];
  printf("End epoch %d of training; got log keys: %s\n", epoch, KEYS(logs));
  return 0;
}

static int on_test_begin(kcb_callback *cb, kcb_logs *logs) {
  char keys[512];
  printf("Start testing; got log keys: %s\n", KEYS(logs));
  return 0;
}

static int on_test_end(kcb_callback *cb, kcb_logs *logs) {
  char keys[512];
  printf("Stop testing; got log keys: %s\n", KEYS(logs));
  return 0;
}

static int on_predict_begin(kcb_callback *cb, kcb_logs *logs) {
  char keys[512];
  printf("Start predicting; got log keys: %s\n", KEYS(logs));
  return 0;
}

static int on_predict_end(kcb_callback *cb, kcb_logs *logs) {
  char keys[512];
  printf("Stop predicting; got log keys: %s\n", KEYS(logs));
  return 0;
}

static int on_train_batch_begin(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  char keys[512];
  printf("...Training: start of batch %lld; got log keys: %s\n", (long long)batch, KEYS(logs));
  return 0;
}

static int on_train_batch_end(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  char keys[512];
  printf("...Training: end of batch %lld; got log keys: %s\n", (long long)batch, KEYS(logs));
  return 0;
}

static int on_test_batch_begin(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  char keys[512];
  printf("...Evaluating: start of batch %lld; got log keys: %s\n", (long long)batch, KEYS(logs));
  return 0;
}

static int on_test_batch_end(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  char keys[512];
  printf("...Evaluating: end of batch %lld; got log keys: %s\n", (long long)batch, KEYS(logs));
  return 0;
}

static int on_predict_batch_begin(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  char keys[512];
  printf("...Predicting: start of batch %lld; got log keys: %s\n", (long long)batch, KEYS(logs));
  return 0;
}

static int on_predict_batch_end(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  char keys[512];
  printf("...Predicting: end of batch %lld; got log keys: %s\n", (long long)batch, KEYS(logs));
  return 0;
}

static const kcb_callback_ops custom_callback_ops = {
    .name = "CustomCallback",
    .on_train_begin = on_train_begin,
    .on_train_end = on_train_end,
    .on_epoch_begin = on_epoch_begin,
    .on_epoch_end = on_epoch_end,
    .on_train_batch_begin = on_train_batch_begin,
    .on_train_batch_end = on_train_batch_end,
    .on_test_begin = on_test_begin,
    .on_test_end = on_test_end,
    .on_test_batch_begin = on_test_batch_begin,
    .on_test_batch_end = on_test_batch_end,
    .on_predict_begin = on_predict_begin,
    .on_predict_end = on_predict_end,
    .on_predict_batch_begin = on_predict_batch_begin,
    .on_predict_batch_end = on_predict_batch_end,
};

/* CustomCallback(): owns nothing. */
static custom_callback custom_callback_make(void) {
  custom_callback c = {0};
  c.base.ops = &custom_callback_ops;
  return c;
}

int main(int argc, char **argv) {
  seed_example ex;
  seed_example_init(&ex, argc, argv);

  /* model.fit(x_train, y_train, batch_size=128, epochs=1, verbose=0, validation_split=0.5,
   *           callbacks=[CustomCallback()]) */
  custom_callback fit_cb = custom_callback_make();
  kcb_callback *fit_cbs[1] = {&fit_cb.base};
  kcb_fit_options fo = KCB_FIT_OPTIONS_INIT;
  fo.batch_size = 128;
  fo.epochs = 1;
  fo.verbose = 0;
  fo.validation_split = 0.5;
  fo.callbacks = fit_cbs;
  fo.n_callbacks = 1;
  seed_check(&ex, kcb_model_fit(ex.model, &ex.x_train, &ex.y_train, &fo, NULL), "fit");

  /* res = model.evaluate(x_test, y_test, batch_size=128, verbose=0, callbacks=[CustomCallback()]) */
  custom_callback eval_cb = custom_callback_make();
  kcb_callback *eval_cbs[1] = {&eval_cb.base};
  kcb_evaluate_options eo = KCB_EVALUATE_OPTIONS_INIT;
  eo.batch_size = 128;
  eo.verbose = 0;
  eo.callbacks = eval_cbs;
  eo.n_callbacks = 1;
  kcb_logs res;
  seed_check(&ex, kcb_model_evaluate(ex.model, &ex.x_test, &ex.y_test, &eo, &res), "evaluate");

  /* res = model.predict(x_test, batch_size=128, callbacks=[CustomCallback()]), silenced */
  custom_callback predict_cb = custom_callback_make();
  kcb_callback *predict_cbs[1] = {&predict_cb.base};
  kcb_evaluate_options po = KCB_EVALUATE_OPTIONS_INIT;
  po.batch_size = 128;
  po.verbose = 0;
  po.callbacks = predict_cbs;
  po.n_callbacks = 1;
  kcb_tensor *outputs = NULL;
  seed_check(&ex, kcb_model_predict(ex.model, &ex.x_test, &po, &outputs), "predict");

  kcb_tensor_free(outputs);
  seed_example_free(&ex);
  return 0;
}
