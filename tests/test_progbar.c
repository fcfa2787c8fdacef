/* test_progbar.c — ProgbarLogger's console bytes under a fake clock: verbose 2 lines, plain and
 * terminal verbose 1 (throttling, "\b" redraws, padding), ETA and per-step units, silent
 * validation inside fit, standalone evaluate / predict, verbose 0. Expected strings were derived
 * from Keras 3's progbar.py / progbar_logger.py formulas (a Python transcription), not from kcb. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h" /* kcb__progbar_set_clock */

/* ANSI pieces of a Keras bar. */
#define BOLD "\x1b[1m"
#define RESET "\x1b[0m"
#define GREEN "\x1b[32m"
#define WHITE "\x1b[37m"

/* ---- helpers --------------------------------------------------------------------------- */

static double fake_time;
static double fake_now(void) { return fake_time; }

typedef struct run {
  char *buf;
  size_t size;
  FILE *stream;
  kcb_callback *pb;
  kcb_callback_list list;
} run;

/* dynamic: 1 terminal, 0 plain, -1 detect (a memstream is no terminal). */
static void run_start(run *r, int verbose, int epochs, int64_t steps, int dynamic) {
  memset(r, 0, sizeof *r);
  r->stream = open_memstream(&r->buf, &r->size);
  assert_non_null(r->stream);
  assert_int_equal(kcb_progbar_logger_new(&r->pb, r->stream), 0);
  if (dynamic >= 0) kcb_progbar_logger_set_dynamic(r->pb, dynamic);
  kcb__progbar_set_clock(r->pb, fake_now);
  r->list.params = (kcb_callback_params){.verbose = verbose, .epochs = epochs, .steps = steps};
  assert_int_equal(kcb_callback_list_add(&r->list, r->pb), 0);
}

/* Closes the stream and checks every byte written. */
static void run_expect(run *r, const char *expected) {
  kcb_callback_free(r->pb);
  assert_int_equal(fclose(r->stream), 0);
  assert_string_equal(r->buf, expected);
  assert_int_equal(r->size, strlen(expected));
  free(r->buf);
}

/* Calls hook at fake time t with logs built from "key", value pairs ended by NULL. */
static void at(run *r, double t, kcb_hook hook, int64_t index, ...) {
  kcb_logs logs = {0};
  va_list ap;
  va_start(ap, index);
  for (const char *k; (k = va_arg(ap, const char *)) != NULL;)
    assert_int_equal(kcb_logs_set(&logs, k, va_arg(ap, double)), 0);
  va_end(ap);
  fake_time = t;
  assert_int_equal(kcb_callback_list_call(&r->list, hook, index, &logs), 0);
}

/* A validation pass as fit runs it, between the last train batch and on_epoch_end. */
static void validation(run *r, double t) {
  at(r, t, KCB_HOOK_TEST_BEGIN, 0, NULL);
  at(r, t, KCB_HOOK_TEST_BATCH_BEGIN, 0, NULL);
  at(r, t, KCB_HOOK_TEST_BATCH_END, 0, "loss", 0.4, NULL);
  at(r, t, KCB_HOOK_TEST_END, 0, "loss", 0.4, NULL);
}

/* n "━" (U+2501), from a static run of 20. */
static const char *rule(int n) {
  static const char twenty[] = "━━━━━━━━━━━━━━━━━━━━";
  return twenty + (20 - n) * 3;
}

/* n backspaces. */
static const char *bs(int n) {
  static char b[256];
  memset(b, '\b', sizeof b - 1);
  return b + sizeof b - 1 - n;
}

/* Concatenates NULL-terminated pieces into a static buffer. */
static const char *cat(const char *first, ...) {
  static char out[4096];
  out[0] = '\0';
  va_list ap;
  va_start(ap, first);
  for (const char *p = first; p; p = va_arg(ap, const char *)) strcat(out, p);
  va_end(ap);
  return out;
}

/* ---- verbose 2 --------------------------------------------------------------------------- */

/* Final lines only, "Epoch i/2" headers, .4e for |v| <= 1e-3 and (quirk) for any negative v;
 * with no batch update seen, time/step = elapsed / steps. */
static void test_verbose2_fit(void **state) {
  (void)state;
  run r;
  run_start(&r, 2, 2, 3, 1);
  at(&r, 100.0, KCB_HOOK_TRAIN_BEGIN, 0, NULL);
  at(&r, 100.0, KCB_HOOK_EPOCH_BEGIN, 0, NULL);
  for (int b = 0; b < 3; b++) at(&r, 100.1 + 0.1 * b, KCB_HOOK_TRAIN_BATCH_END, b, "loss", 1.0, NULL);
  validation(&r, 100.5);
  at(&r, 100.75, KCB_HOOK_EPOCH_END, 0, "accuracy", 0.5, "loss", -0.25, "val_loss", 0.0005, NULL);
  at(&r, 101.0, KCB_HOOK_EPOCH_BEGIN, 1, NULL);
  for (int b = 0; b < 3; b++) at(&r, 102.0 + b, KCB_HOOK_TRAIN_BATCH_END, b, "loss", 0.2, NULL);
  at(&r, 107.9, KCB_HOOK_EPOCH_END, 1, "accuracy", 0.75, "loss", 0.125, "val_loss", 0.0625, NULL);
  at(&r, 107.9, KCB_HOOK_TRAIN_END, 0, NULL);
  run_expect(&r,
             "Epoch 1/2\n"
             "3/3 - 1s - 250ms/step - accuracy: 0.5000 - loss: -2.5000e-01 - val_loss: 5.0000e-04\n"
             "Epoch 2/2\n"
             "3/3 - 7s - 2s/step - accuracy: 0.7500 - loss: 0.1250 - val_loss: 0.0625\n");
}

/* The logger serves a later standalone evaluate once fit ended (kcb clears Keras's
 * _called_in_fit at on_train_end); NaN prints as Python's "nan"; t == 0 gives "0s/step". */
static void test_verbose2_evaluate_after_fit_and_predict(void **state) {
  (void)state;
  run r;
  run_start(&r, 2, 1, 1, 0);
  at(&r, 0.0, KCB_HOOK_TRAIN_BEGIN, 0, NULL);
  at(&r, 0.0, KCB_HOOK_EPOCH_BEGIN, 0, NULL);
  at(&r, 1.0, KCB_HOOK_TRAIN_BATCH_END, 0, "loss", 0.5, NULL);
  at(&r, 1.2, KCB_HOOK_EPOCH_END, 0, "loss", 0.5, NULL);
  at(&r, 1.2, KCB_HOOK_TRAIN_END, 0, NULL);
  r.list.params.steps = 2;
  at(&r, 2.0, KCB_HOOK_TEST_BEGIN, 0, NULL);
  at(&r, 2.3, KCB_HOOK_TEST_BATCH_END, 0, "loss", NAN, NULL);
  at(&r, 2.6, KCB_HOOK_TEST_BATCH_END, 1, "loss", NAN, NULL);
  at(&r, 2.6, KCB_HOOK_TEST_END, 0, "loss", NAN, NULL);
  r.list.params.steps = 1;
  at(&r, 3.0, KCB_HOOK_PREDICT_BEGIN, 0, NULL);
  at(&r, 3.0, KCB_HOOK_PREDICT_BATCH_END, 0, NULL);
  at(&r, 3.0, KCB_HOOK_PREDICT_END, 0, NULL);
  run_expect(&r,
             "1/1 - 1s - 1s/step - loss: 0.5000\n"
             "2/2 - 1s - 300ms/step - loss: nan\n"
             "1/1 - 0s - 0s/step\n");
}

/* ---- verbose 1, plain (not a terminal) ----------------------------------------------------- */

/* Only the final line, no ANSI, no "Epoch" line for one epoch; the first (slow) step is left out
 * of time/step; validation inside fit is silent. Stream detection: a memstream is plain. */
static void test_plain_fit(void **state) {
  (void)state;
  run r;
  run_start(&r, 1, 1, 1875, -1);
  at(&r, 10.0, KCB_HOOK_TRAIN_BEGIN, 0, NULL);
  at(&r, 10.0, KCB_HOOK_EPOCH_BEGIN, 0, NULL);
  at(&r, 10.3, KCB_HOOK_TRAIN_BATCH_END, 0, "accuracy", 0.5, "loss", 0.9, NULL);
  for (int b = 1; b < 1875; b++)
    at(&r, 10.3 + b * 0.0016, KCB_HOOK_TRAIN_BATCH_END, b, "accuracy", 0.8, "loss", 0.5, NULL);
  double end = 10.3 + 1874 * 0.0016;
  validation(&r, end);
  at(&r, end, KCB_HOOK_EPOCH_END, 0, "accuracy", 0.825, "loss", 0.495, NULL);
  at(&r, end, KCB_HOOK_TRAIN_END, 0, NULL);
  run_expect(&r, "1875/1875 ━━━━━━━━━━━━━━━━━━━━ 3s 2ms/step - accuracy: 0.8250 - loss: 0.4950\n");
}

/* Keys show in first-seen order (Keras's _values_order), so epoch-end-only keys come last even
 * when they sort first; 0.001 is not > 1e-3, hence e format. */
static void test_plain_first_seen_key_order(void **state) {
  (void)state;
  run r;
  run_start(&r, 1, 1, 2, 0);
  at(&r, 50.0, KCB_HOOK_TRAIN_BEGIN, 0, NULL);
  at(&r, 50.0, KCB_HOOK_EPOCH_BEGIN, 0, NULL);
  at(&r, 50.2, KCB_HOOK_TRAIN_BATCH_END, 0, "loss", 0.5, NULL);
  at(&r, 50.23, KCB_HOOK_TRAIN_BATCH_END, 1, "loss", 0.4, NULL);
  at(&r, 50.3, KCB_HOOK_EPOCH_END, 0, "learning_rate", 0.001, "loss", 0.4, "val_loss", 0.3, NULL);
  run_expect(&r, "2/2 ━━━━━━━━━━━━━━━━━━━━ 0s 100ms/step - loss: 0.4000"
                 " - learning_rate: 1.0000e-03 - val_loss: 0.3000\n");
}

/* Standalone evaluate and predict (the spec's examples); predict's "outputs" tensor is skipped. */
static void test_plain_evaluate_and_predict(void **state) {
  (void)state;
  run r;
  run_start(&r, 1, 1, 4, 0);
  at(&r, 200.0, KCB_HOOK_TEST_BEGIN, 0, NULL);
  for (int b = 0; b < 3; b++) at(&r, 200.005 + 0.005 * b, KCB_HOOK_TEST_BATCH_END, b, "loss", 70.0 - b, NULL);
  at(&r, 200.02, KCB_HOOK_TEST_BATCH_END, 3, "loss", 63.2345, NULL);
  at(&r, 200.02, KCB_HOOK_TEST_END, 0, "loss", 63.2345, NULL);

  r.list.params.steps = 1;
  float data[2] = {1, 2};
  int64_t shape[1] = {2};
  kcb_tensor outputs = kcb_tensor_view(data, 1, shape);
  kcb_logs logs = {0};
  assert_int_equal(kcb_logs_set_tensor(&logs, "outputs", &outputs), 0);
  at(&r, 300.0, KCB_HOOK_PREDICT_BEGIN, 0, NULL);
  fake_time = 300.106;
  assert_int_equal(kcb_callback_list_call(&r.list, KCB_HOOK_PREDICT_BATCH_END, 0, &logs), 0);
  assert_int_equal(kcb_callback_list_call(&r.list, KCB_HOOK_PREDICT_END, 0, &logs), 0);
  run_expect(&r,
             "4/4 ━━━━━━━━━━━━━━━━━━━━ 0s 5ms/step - loss: 63.2345\n"
             "1/1 ━━━━━━━━━━━━━━━━━━━━ 0s 106ms/step\n");
}

/* ---- verbose 1, terminal -------------------------------------------------------------------- */

/* Step 2 comes 20 ms after step 1 and is skipped; each redraw backs over the previous visible
 * width (54, then 52 code points: "━" is one, escapes none) and pads a shorter line. */
static void test_dynamic_redraws(void **state) {
  (void)state;
  run r;
  run_start(&r, 1, 1, 3, 1);
  at(&r, 100.0, KCB_HOOK_TRAIN_BEGIN, 0, NULL);
  at(&r, 100.0, KCB_HOOK_EPOCH_BEGIN, 0, NULL);
  at(&r, 100.5, KCB_HOOK_TRAIN_BATCH_END, 0, "loss", 12.5, NULL);
  at(&r, 100.52, KCB_HOOK_TRAIN_BATCH_END, 1, "loss", 3.0, NULL);
  at(&r, 100.6, KCB_HOOK_TRAIN_BATCH_END, 2, "loss", 0.9, NULL);
  validation(&r, 100.65);
  at(&r, 100.7, KCB_HOOK_EPOCH_END, 0, "loss", 0.8, "val_loss", 0.7, NULL);
  at(&r, 100.7, KCB_HOOK_TRAIN_END, 0, NULL);
  run_expect(&r, cat("\r" BOLD "1/3" RESET " " GREEN, rule(6), RESET WHITE, rule(14),
                     RESET " " BOLD "1s" RESET " 500ms/step - loss: 12.5000",
                     bs(54), "\r" BOLD "3/3" RESET " " GREEN, rule(20), RESET WHITE RESET
                     " " BOLD "0s" RESET " 50ms/step - loss: 0.9000  ",
                     bs(52), "\r" BOLD "3/3" RESET " " GREEN, rule(20), RESET WHITE RESET
                     " " BOLD "1s" RESET " 100ms/step - loss: 0.8000 - val_loss: 0.7000\n",
                     NULL));
}

/* NO_COLOR (any value but "") and TERM=dumb (or no TERM) keep the terminal bar, without colour. */
static void test_dynamic_no_color(void **state) {
  (void)state;
  const char *env[][2] = {{"NO_COLOR", "1"}, {"TERM", "dumb"}, {"TERM", NULL}};
  for (size_t i = 0; i < 3; i++) {
    if (env[i][1]) setenv(env[i][0], env[i][1], 1);
    else unsetenv(env[i][0]);
    run r;
    run_start(&r, 1, 1, 3, 1);
    at(&r, 100.0, KCB_HOOK_TRAIN_BEGIN, 0, NULL);
    at(&r, 100.0, KCB_HOOK_EPOCH_BEGIN, 0, NULL);
    at(&r, 100.5, KCB_HOOK_TRAIN_BATCH_END, 0, "loss", 12.5, NULL);
    at(&r, 100.7, KCB_HOOK_EPOCH_END, 0, "loss", 0.8, NULL);
    at(&r, 100.7, KCB_HOOK_TRAIN_END, 0, NULL);
    run_expect(&r, cat("\r1/3 ", rule(6), rule(14), " 1s 500ms/step - loss: 12.5000", bs(54),
                       "\r3/3 ", rule(20), " 1s 100ms/step - loss: 0.8000 \n", NULL));
    setenv("TERM", "xterm", 1);
    unsetenv("NO_COLOR");
  }
  setenv("NO_COLOR", "", 1); /* empty: colour as usual */
  run r;
  run_start(&r, 1, 1, 1, 1);
  at(&r, 100.0, KCB_HOOK_TRAIN_BEGIN, 0, NULL);
  at(&r, 100.0, KCB_HOOK_EPOCH_BEGIN, 0, NULL);
  at(&r, 100.7, KCB_HOOK_EPOCH_END, 0, "loss", 0.8, NULL);
  at(&r, 100.7, KCB_HOOK_TRAIN_END, 0, NULL);
  run_expect(&r, cat("\r" BOLD "1/1" RESET " " GREEN, rule(20), RESET WHITE RESET " " BOLD "1s" RESET
                     " 700ms/step - loss: 0.8000\n", NULL));
  unsetenv("NO_COLOR");
}

/* ETA as h:mm:ss, m:ss and s; time/step in s, ms and us; padded step counts. */
static void test_dynamic_eta_and_units(void **state) {
  (void)state;
  run r;
  run_start(&r, 1, 1, 10000, 1);
  at(&r, 100.0, KCB_HOOK_TRAIN_BEGIN, 0, NULL);
  at(&r, 100.0, KCB_HOOK_EPOCH_BEGIN, 0, NULL);
  at(&r, 102.0, KCB_HOOK_TRAIN_BATCH_END, 0, NULL);     /* 2 s/step x 9999 left */
  at(&r, 102.5, KCB_HOOK_TRAIN_BATCH_END, 1, NULL);     /* 0.5 s/step x 9998 */
  at(&r, 103.5, KCB_HOOK_TRAIN_BATCH_END, 100, NULL);   /* 15 ms/step x 9899 */
  at(&r, 106.999, KCB_HOOK_TRAIN_BATCH_END, 9998, NULL); /* 0.5 ms/step x 1 */
  at(&r, 107.2, KCB_HOOK_EPOCH_END, 0, NULL);
  run_expect(&r, cat("\r" BOLD "    1/10000" RESET " " WHITE, rule(20),
                     RESET " " BOLD "5:33:18" RESET " 2s/step",
                     bs(48), "\r" BOLD "    2/10000" RESET " " WHITE, rule(20),
                     RESET " " BOLD "1:23:19" RESET " 500ms/step",
                     bs(51), "\r" BOLD "  101/10000" RESET " " WHITE, rule(20),
                     RESET " " BOLD "2:28" RESET " 15ms/step    ",
                     bs(47), "\r" BOLD " 9999/10000" RESET " " GREEN, rule(19), RESET WHITE, rule(1),
                     RESET " " BOLD "0s" RESET " 500us/step ",
                     bs(46), "\r" BOLD "10000/10000" RESET " " GREEN, rule(20), RESET WHITE RESET
                     " " BOLD "7s" RESET " 520us/step\n",
                     NULL));
}

/* Unknown steps: "%7d/Unknown" with elapsed time, then the count of epoch 1 becomes the target
 * of epoch 2 (as ProgbarLogger keeps self.target). */
static void test_dynamic_unknown_steps(void **state) {
  (void)state;
  run r;
  run_start(&r, 1, 2, 0, 1);
  at(&r, 100.0, KCB_HOOK_TRAIN_BEGIN, 0, NULL);
  at(&r, 100.0, KCB_HOOK_EPOCH_BEGIN, 0, NULL);
  at(&r, 100.4, KCB_HOOK_TRAIN_BATCH_END, 0, "loss", 0.5, NULL);
  at(&r, 100.8, KCB_HOOK_TRAIN_BATCH_END, 1, "loss", 0.25, NULL);
  at(&r, 101.0, KCB_HOOK_EPOCH_END, 0, "loss", 0.25, NULL);
  at(&r, 101.0, KCB_HOOK_EPOCH_BEGIN, 1, NULL);
  at(&r, 101.5, KCB_HOOK_TRAIN_BATCH_END, 0, "loss", 0.125, NULL);
  at(&r, 102.0, KCB_HOOK_TRAIN_BATCH_END, 1, "loss", 0.0625, NULL);
  at(&r, 102.0, KCB_HOOK_EPOCH_END, 1, "loss", 0.0625, NULL);
  run_expect(&r, cat("Epoch 1/2\n"
                     "\r      1/Unknown " BOLD "0s" RESET " 400ms/step - loss: 0.5000",
                     bs(44), "\r      2/Unknown " BOLD "1s" RESET " 400ms/step - loss: 0.2500",
                     bs(44), "\r" BOLD "2/2" RESET " " GREEN, rule(20), RESET WHITE RESET
                     " " BOLD "1s" RESET " 600ms/step - loss: 0.2500\n"
                     "Epoch 2/2\n"
                     "\r" BOLD "1/2" RESET " " GREEN, rule(10), RESET WHITE, rule(10),
                     RESET " " BOLD "0s" RESET " 500ms/step - loss: 0.1250",
                     bs(53), "\r" BOLD "2/2" RESET " " GREEN, rule(20), RESET WHITE RESET
                     " " BOLD "0s" RESET " 500ms/step - loss: 0.0625",
                     bs(53), "\r" BOLD "2/2" RESET " " GREEN, rule(20), RESET WHITE RESET
                     " " BOLD "1s" RESET " 500ms/step - loss: 0.0625\n",
                     NULL));
}

/* ---- verbose 0 ------------------------------------------------------------------------------ */

static void test_verbose0_silent(void **state) {
  (void)state;
  run r;
  run_start(&r, 0, 2, 2, 1);
  at(&r, 1.0, KCB_HOOK_TRAIN_BEGIN, 0, NULL);
  for (int e = 0; e < 2; e++) {
    at(&r, 1.0 + e, KCB_HOOK_EPOCH_BEGIN, e, NULL);
    at(&r, 1.5 + e, KCB_HOOK_TRAIN_BATCH_END, 0, "loss", 0.5, NULL);
    at(&r, 1.9 + e, KCB_HOOK_EPOCH_END, e, "loss", 0.5, NULL);
  }
  at(&r, 3.0, KCB_HOOK_TRAIN_END, 0, NULL);
  at(&r, 4.0, KCB_HOOK_TEST_BEGIN, 0, NULL);
  at(&r, 4.5, KCB_HOOK_TEST_BATCH_END, 0, "loss", 0.5, NULL);
  at(&r, 4.5, KCB_HOOK_TEST_END, 0, "loss", 0.5, NULL);
  at(&r, 5.0, KCB_HOOK_PREDICT_BEGIN, 0, NULL);
  at(&r, 5.5, KCB_HOOK_PREDICT_BATCH_END, 0, NULL);
  at(&r, 5.5, KCB_HOOK_PREDICT_END, 0, NULL);
  run_expect(&r, "");
}

int main(void) {
  /* the coloured bar of a terminal, whatever the environment running the tests says */
  setenv("TERM", "xterm", 1);
  unsetenv("NO_COLOR");
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_verbose2_fit),
      cmocka_unit_test(test_verbose2_evaluate_after_fit_and_predict),
      cmocka_unit_test(test_plain_fit),
      cmocka_unit_test(test_plain_first_seen_key_order),
      cmocka_unit_test(test_plain_evaluate_and_predict),
      cmocka_unit_test(test_dynamic_redraws),
      cmocka_unit_test(test_dynamic_no_color),
      cmocka_unit_test(test_dynamic_eta_and_units),
      cmocka_unit_test(test_dynamic_unknown_steps),
      cmocka_unit_test(test_verbose0_silent),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
