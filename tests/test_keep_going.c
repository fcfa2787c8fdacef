/* test_keep_going.c — a writer that fails (here CSVLogger on /dev/full, a disk that is always full)
 * stops fit by default, and only warns once when wrapped with kcb_keep_going_new. */
#include <stdio.h>
#include <stdlib.h>

#include "test_helpers.h"
#include "internal.h"

typedef struct data {
  kcb_tensor *x, *y;
} data;

static data make_data(void) {
  data d;
  int64_t xs[2] = {16, 2}, ys[2] = {16, 1};
  assert_ok(kcb_tensor_new(&d.x, 2, xs));
  assert_ok(kcb_tensor_new(&d.y, 2, ys));
  for (int i = 0; i < 32; i++) d.x->data[i] = (float)i / 32.0f;
  for (int i = 0; i < 16; i++) d.y->data[i] = d.x->data[2 * i];
  return d;
}

static int fit_with(kcb_callback *cb, kcb_history **h) {
  data d = make_data();
  kcb_model *m = test_compiled_model(2, "1", 1, KCB_OPT_SGD, KCB_DEFAULT, KCB_LOSS_MEAN_SQUARED_ERROR, KCB_METRIC_COUNT);
  kcb_fit_options f = KCB_FIT_OPTIONS_INIT;
  f.epochs = 3;
  f.batch_size = 4;
  f.verbose = 0;
  f.callbacks = &cb;
  f.n_callbacks = 1;
  int rc = kcb_model_fit(m, d.x, d.y, &f, h);
  kcb_model_free(m);
  kcb_tensor_free(d.x);
  kcb_tensor_free(d.y);
  return rc;
}

static void test_failure_stops_fit_by_default(void **state) {
  (void)state;
  kcb_callback *csv;
  assert_ok(kcb_csv_logger_new(&csv, "/dev/full", NULL));
  kcb_history *h = NULL;
  assert_error(fit_with(csv, &h), KCB_ENOSPC, "/dev/full");
  assert_null(h);
  kcb_callback_free(csv);
}

static void test_wrapped_failure_warns_once_and_training_goes_on(void **state) {
  (void)state;
  char *text = NULL;
  size_t len = 0;
  FILE *warnings = open_memstream(&text, &len);
  kcb_callback *csv, *wrapped;
  assert_ok(kcb_csv_logger_new(&csv, "/dev/full", NULL));
  kcb_keep_going_options o = KCB_KEEP_GOING_OPTIONS_INIT;
  o.stream = warnings;
  assert_ok(kcb_keep_going_new(&wrapped, csv, &o));
  kcb_history *h = NULL;
  assert_ok(fit_with(wrapped, &h));
  assert_int_equal(kcb_history_epochs(h), 3); /* every epoch trained */
  fclose(warnings);
  assert_string_equal(text, "Warning: CSVLogger failed and is off for the rest of this run: CSV: cannot write to "
                            "/dev/full: No space left on device (KCB_ENOSPC)\n");
  const char *message = NULL;
  assert_int_equal(kcb_keep_going_error(wrapped, &message), KCB_ENOSPC);
  assert_non_null(strstr(message, "/dev/full"));
  free(text);
  kcb_history_free(h);
  kcb_callback_free(wrapped); /* frees the CSVLogger too */
}

static int fail_at_epoch_end(kcb_callback *cb, int epoch, kcb_logs *logs) {
  (void)cb, (void)epoch, (void)logs;
  return kcb__error(KCB_EIO, "log.bin: write failed");
}

static int count_train_end(kcb_callback *cb, kcb_logs *logs) {
  (void)logs;
  ++*(int *)cb->user_data;
  return 0;
}

/* After a failure the wrapped callback's hooks stop, except on_train_end: it closes its files. */
static void test_train_end_still_reaches_the_wrapped_callback(void **state) {
  (void)state;
  int train_ends = 0;
  kcb_callback_ops ops = {.on_epoch_end = fail_at_epoch_end, .on_train_end = count_train_end};
  kcb_callback *inner, *wrapped;
  assert_ok(kcb_lambda_callback_new(&inner, &ops, &train_ends));
  FILE *quiet = fopen("/dev/null", "w");
  kcb_keep_going_options o = {quiet};
  assert_ok(kcb_keep_going_new(&wrapped, inner, &o));
  kcb_history *h = NULL;
  assert_ok(fit_with(wrapped, &h));
  assert_int_equal(train_ends, 1);
  assert_int_equal(kcb_keep_going_error(wrapped, NULL), KCB_EIO);
  kcb_history_free(h);
  kcb_callback_free(wrapped);
  fclose(quiet);
}

static void test_bad_arguments(void **state) {
  (void)state;
  kcb_callback *out = (kcb_callback *)1;
  assert_error(kcb_keep_going_new(&out, NULL, NULL), KCB_EINVAL, "no callback");
  assert_null(out);
  kcb_callback *csv;
  assert_ok(kcb_csv_logger_new(&csv, "x.csv", NULL));
  const char *message = NULL;
  assert_error(kcb_keep_going_error(csv, &message), KCB_EINVAL, "not a callback kcb_keep_going_new made");
  assert_string_equal(message, "");
  assert_error(kcb_tensorboard_close(csv), KCB_EINVAL, "not a TensorBoard callback");
  kcb_callback_free(csv);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_failure_stops_fit_by_default),
      cmocka_unit_test(test_wrapped_failure_warns_once_and_training_goes_on),
      cmocka_unit_test(test_train_end_still_reaches_the_wrapped_callback),
      cmocka_unit_test(test_bad_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
