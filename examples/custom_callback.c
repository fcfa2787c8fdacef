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

/* print("<event>; got log keys: {}".format(list(logs.keys()))), keys as Python's list repr. */
static int say(const char *event, const kcb_logs *logs) {
  char keys[512];
  printf("%s; got log keys: %s\n", event, kcb_logs_keys_string(logs, keys, sizeof keys));
  return 0;
}

/* The same with an epoch or batch number after the event text. */
static int say_at(const char *event, long long index, const kcb_logs *logs) {
  char keys[512];
  printf("%s %lld; got log keys: %s\n", event, index, kcb_logs_keys_string(logs, keys, sizeof keys));
  return 0;
}

static int on_train_begin(kcb_callback *cb, kcb_logs *logs) { return say("Starting training", logs); }
static int on_train_end(kcb_callback *cb, kcb_logs *logs) { return say("Stop training", logs); }
static int on_test_begin(kcb_callback *cb, kcb_logs *logs) { return say("Start testing", logs); }
static int on_test_end(kcb_callback *cb, kcb_logs *logs) { return say("Stop testing", logs); }
static int on_predict_begin(kcb_callback *cb, kcb_logs *logs) { return say("Start predicting", logs); }
static int on_predict_end(kcb_callback *cb, kcb_logs *logs) { return say("Stop predicting", logs); }

/* "Start epoch {} of training": the number sits inside the text, so these two print directly. */
static int on_epoch_begin(kcb_callback *cb, int epoch, kcb_logs *logs) {
  char keys[512];
  printf("Start epoch %d of training; got log keys: %s\n", epoch, kcb_logs_keys_string(logs, keys, sizeof keys));
  return 0;
}

static int on_epoch_end(kcb_callback *cb, int epoch, kcb_logs *logs) {
  char keys[512];
  printf("End epoch %d of training; got log keys: %s\n", epoch, kcb_logs_keys_string(logs, keys, sizeof keys));
  return 0;
}

static int on_train_batch_begin(kcb_callback *cb, int64_t b, kcb_logs *logs) { return say_at("...Training: start of batch", b, logs); }
static int on_train_batch_end(kcb_callback *cb, int64_t b, kcb_logs *logs) { return say_at("...Training: end of batch", b, logs); }
static int on_test_batch_begin(kcb_callback *cb, int64_t b, kcb_logs *logs) { return say_at("...Evaluating: start of batch", b, logs); }
static int on_test_batch_end(kcb_callback *cb, int64_t b, kcb_logs *logs) { return say_at("...Evaluating: end of batch", b, logs); }
static int on_predict_batch_begin(kcb_callback *cb, int64_t b, kcb_logs *logs) { return say_at("...Predicting: start of batch", b, logs); }
static int on_predict_batch_end(kcb_callback *cb, int64_t b, kcb_logs *logs) { return say_at("...Predicting: end of batch", b, logs); }

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
  kcb_fit_options fo = seed_fit_options(128, 1, fit_cbs, 1);
  fo.validation_split = 0.5;
  seed_check(&ex, kcb_model_fit(ex.model, &ex.x_train, &ex.y_train, &fo, NULL), "fit");

  /* res = model.evaluate(x_test, y_test, batch_size=128, verbose=0, callbacks=[CustomCallback()]) */
  custom_callback eval_cb = custom_callback_make();
  kcb_callback *eval_cbs[1] = {&eval_cb.base};
  kcb_evaluate_options eo = seed_evaluate_options(128, eval_cbs, 1);
  kcb_logs res;
  seed_check(&ex, kcb_model_evaluate(ex.model, &ex.x_test, &ex.y_test, &eo, &res), "evaluate");

  /* res = model.predict(x_test, batch_size=128, callbacks=[CustomCallback()]), silenced */
  custom_callback predict_cb = custom_callback_make();
  kcb_callback *predict_cbs[1] = {&predict_cb.base};
  kcb_evaluate_options po = seed_evaluate_options(128, predict_cbs, 1);
  kcb_tensor *outputs = NULL;
  seed_check(&ex, kcb_model_predict(ex.model, &ex.x_test, &po, &outputs), "predict");

  kcb_tensor_free(outputs);
  seed_example_free(&ex);
  return 0;
}
