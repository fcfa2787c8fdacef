/* test_core.c — errors, logs, tensors and number formatting. */
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "test_helpers.h"
#include "internal.h"


static void test_errors(void **state) {
  (void)state;
  assert_string_equal(kcb_error_name(KCB_EFORMAT), "KCB_EFORMAT");
  assert_string_equal(kcb_strerror(KCB_ENOENT), "no such file or directory");
  assert_string_equal(kcb_error_name(12345), "KCB_UNKNOWN");
  assert_int_equal(kcb__error(KCB_ESHAPE, "x has shape (%d, %d)", 3, 4), KCB_ESHAPE);
  assert_string_equal(kcb_error_last(), "x has shape (3, 4)");
  /* Context may be added to the previous message by passing it back in. */
  assert_int_equal(kcb__error(KCB_EINVAL, "model spec 'x': %s", kcb_error_last()), KCB_EINVAL);
  assert_string_equal(kcb_error_last(), "model spec 'x': x has shape (3, 4)");
  kcb_error_clear();
  assert_string_equal(kcb_error_last(), "");
  assert_string_equal(kcb_version_string(), "0.1.0");
}

static void test_logs_sorted_and_bounded(void **state) {
  (void)state;
  kcb_logs logs;
  kcb_logs_clear(&logs);
  assert_ok(kcb_logs_set(&logs, "val_loss", 3));
  assert_ok(kcb_logs_set(&logs, "loss", 1));
  assert_ok(kcb_logs_set(&logs, "accuracy", 2));
  assert_ok(kcb_logs_set(&logs, "loss", 4)); /* replaces */
  char keys[128];
  assert_string_equal(kcb_logs_keys_string(&logs, keys, sizeof keys), "['accuracy', 'loss', 'val_loss']");
  double v;
  assert_true(kcb_logs_get(&logs, "loss", &v));
  assert_true(v == 4);
  assert_false(kcb_logs_get(&logs, "missing", &v));
  assert_true(kcb_logs_remove(&logs, "accuracy"));
  assert_false(kcb_logs_remove(&logs, "accuracy"));
  assert_string_equal(kcb_logs_keys_string(&logs, keys, sizeof keys), "['loss', 'val_loss']");
  kcb_tensor t = kcb_tensor_view(NULL, 0, NULL);
  assert_ok(kcb_logs_set_tensor(&logs, "outputs", &t));
  assert_false(kcb_logs_get(&logs, "outputs", &v)); /* not a scalar */
  assert_ptr_equal(kcb_logs_find(&logs, "outputs")->tensor, &t);
  kcb_logs empty;
  kcb_logs_clear(&empty);
  assert_string_equal(kcb_logs_keys_string(&empty, keys, sizeof keys), "[]");
  assert_error(kcb_logs_set(&logs, "", 1), KCB_EINVAL, "empty");
  char long_key[KCB_LOGS_KEY_MAX + 1];
  memset(long_key, 'k', sizeof long_key - 1);
  long_key[sizeof long_key - 1] = '\0';
  assert_error(kcb_logs_set(&logs, long_key, 1), KCB_EINVAL, "longer");
  kcb_logs_clear(&logs);
  for (int i = 0; i < KCB_LOGS_CAPACITY; i++) {
    char k[16];
    snprintf(k, sizeof k, "m%02d", KCB_LOGS_CAPACITY - i);
    assert_ok(kcb_logs_set(&logs, k, i));
  }
  assert_error(kcb_logs_set(&logs, "one_more", 0), KCB_ENOMEM, "one_more");
  for (size_t i = 1; i < logs.count; i++) assert_true(strcmp(logs.entries[i - 1].key, logs.entries[i].key) < 0);
}

static void test_tensors(void **state) {
  (void)state;
  int64_t shape[3] = {2, 3, 4};
  kcb_tensor *t;
  assert_ok(kcb_tensor_new(&t, 3, shape));
  assert_int_equal(kcb_tensor_size(t), 24);
  assert_int_equal(kcb_tensor_sample_size(t), 12);
  char buf[64];
  assert_string_equal(kcb_tensor_shape_string(t, buf, sizeof buf), "(2, 3, 4)");
  for (int i = 0; i < 24; i++) assert_true(t->data[i] == 0);
  kcb_tensor_free(t);
  kcb_tensor_free(NULL);
  int64_t one[1] = {5};
  kcb_tensor v = kcb_tensor_view(NULL, 1, one);
  assert_string_equal(kcb_tensor_shape_string(&v, buf, sizeof buf), "(5,)");
  int64_t bad[1] = {-1};
  assert_error(kcb_tensor_new(&t, 1, bad), KCB_EINVAL, "negative");
  assert_error(kcb_tensor_new(&t, KCB_MAX_RANK + 1, shape), KCB_EINVAL, "rank");
}

/* Python's repr() of the same doubles, for reference. */
static void test_format_double_matches_python_repr(void **state) {
  (void)state;
  static const struct { double v; const char *text; } cases[] = {
      {0.1, "0.1"}, {1.0, "1.0"}, {100.0, "100.0"}, {1e-7, "1e-07"}, {0.0001, "0.0001"},
      {0.00001, "1e-05"}, {1e16, "1e+16"}, {123456789012345678.0, "1.2345678901234568e+17"},
      {(double)0.001f, "0.0010000000474974513"}, {-2.5, "-2.5"}, {0.0, "0.0"}, {1.0 / 3.0, "0.3333333333333333"},
      {1e15, "1000000000000000.0"}, {NAN, "nan"}, {INFINITY, "inf"}, {-INFINITY, "-inf"}, {5e-324, "5e-324"},
  };
  char buf[40];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    assert_string_equal(kcb_format_double(cases[i].v, buf, sizeof buf), cases[i].text);
  /* round trip on many values */
  kcb__rng rng;
  kcb__rng_seed(&rng, 1);
  for (int i = 0; i < 10000; i++) {
    double v = (kcb__rng_uniform(&rng) - 0.5) * pow(10, (double)(int)kcb__rng_below(&rng, 40) - 20);
    assert_true(strtod(kcb_format_double(v, buf, sizeof buf), NULL) == v);
  }
}

/* Numbers as specs and tools take them: plain decimals only, whatever strtod would also accept. */
static void test_text_to_number(void **state) {
  (void)state;
  double v = 0;
  static const struct { const char *text; double value; } good[] = {{"0.5", 0.5}, {"-1", -1}, {".25", 0.25}, {"1e-3", 1e-3}, {"2E+2", 200}};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    assert_int_equal(kcb_text_to_number(good[i].text, &v), 1);
    assert_true(v == good[i].value);
  }
  static const char *const bad[] = {"", " 0.5", "+0.5", "0x10", "0x1p-10", "inf", "-inf", "nan", "1e999", "0.5 ", "1,5", "-", "e3"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) assert_int_equal(kcb_text_to_number(bad[i], &v), 0);
  assert_int_equal(kcb_text_to_number(NULL, &v), 0);
}

/* kcb__parse_python_float takes what Python's float() takes (each case checked with CPython 3.11). */
static void test_python_float(void **state) {
  (void)state;
  static const struct { const char *text; double value; } good[] = {
      {"0.5", 0.5}, {" -1 ", -1}, {"\t+.25\n", 0.25}, {"1_000", 1000}, {"1_0.2_5e1_0", 10.25e10}, {"5.", 5},
      {"1E-3", 1e-3}, {"iNf", INFINITY}, {"-Infinity", -INFINITY}, {"1e999", INFINITY}, {"\v7\f\r", 7}};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    double v = 0;
    assert_int_equal(kcb__parse_python_float(good[i].text, &v), 0);
    assert_true(v == good[i].value);
  }
  double v = 0;
  assert_int_equal(kcb__parse_python_float("NaN", &v), 0);
  assert_true(isnan(v));
  static const char *const bad[] = {"", " ", "nan(1)", "0x10", "1__0", "_1", "1_", "1._5", "1e", "1e_5", "1e+", ".",
                                    "infinit", "infinityy", "\x1f" "7", "--1", "1 2", "1,5", "e3", "+", "1.5f"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (kcb__parse_python_float(bad[i], &v) != -1) fail_msg("'%s' read as a number", bad[i]);
  char long_number[300];
  memset(long_number, '1', sizeof long_number - 1);
  long_number[sizeof long_number - 1] = '\0';
  assert_int_equal(kcb__parse_python_float(long_number, &v), 0);
  assert_true(v > 1.1e298 && v < 1.2e298);
}

/* The plain loop used without OpenBLAS gives OpenBLAS's product, for every transpose, leading
 * dimensions wider than the matrices, and beta 0 (C's old contents ignored, even NaN) or not. */
static void test_sgemm_fallback_matches_openblas(void **state) {
  (void)state;
  assert_int_equal(kcb__blas_load(), 0);
  enum { M = 7, N = 5, K = 9, LD = 12 };
  float a[LD * LD], b[LD * LD], c0[M * LD], c1[M * LD];
  for (int i = 0; i < LD * LD; i++) a[i] = (float)((i * 37) % 17) / 8.0f - 1.0f, b[i] = (float)((i * 11) % 13) / 6.0f - 1.0f;
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++)
      for (int with_beta = 0; with_beta < 2; with_beta++) {
        for (int i = 0; i < M * LD; i++) c0[i] = c1[i] = with_beta ? (float)(i % 7) - 3.0f : NAN;
        float beta = with_beta ? 0.5f : 0.0f;
        kcb__sgemm_ld(ta, tb, M, N, K, 1.5f, a, LD, b, LD, beta, c0, LD);
        kcb__sgemm_plain(ta, tb, M, N, K, 1.5f, a, LD, b, LD, beta, c1, LD);
        for (int i = 0; i < M; i++)
          for (int j = 0; j < N; j++) assert_float_equal(c0[i * LD + j], c1[i * LD + j], 1e-4);
      }
}

static void test_leaf_names(void **state) {
  (void)state;
  assert_true(kcb__leaf_is("Adam/learning_rate:0", "learning_rate"));
  assert_true(kcb__leaf_is("learning_rate", "learning_rate"));
  assert_true(kcb__leaf_is("dropout/seed_generator/seed_generator_state:0", "seed_generator_state"));
  assert_true(kcb__leaf_is("batch_normalization/moving_variance:0", "moving_variance"));
  assert_false(kcb__leaf_is("Adam/learning_rate_1:0", "learning_rate"));
  assert_false(kcb__leaf_is("Adam/lr:0", "learning_rate"));
  assert_false(kcb__leaf_is("moving_mean/kernel:0", "moving_mean"));
  assert_false(kcb__leaf_is("", "lr"));
}

static void test_rng_reproducible(void **state) {
  (void)state;
  kcb__rng a, b;
  kcb__rng_seed(&a, 42);
  kcb__rng_seed(&b, 42);
  for (int i = 0; i < 100; i++) assert_true(kcb__rng_next(&a) == kcb__rng_next(&b));
  double sum = 0;
  for (int i = 0; i < 100000; i++) {
    uint64_t k = kcb__rng_below(&a, 10);
    assert_true(k < 10);
    sum += kcb__rng_uniform(&a);
  }
  assert_float_equal(sum / 100000, 0.5, 0.01);
  /* a keep mask draws as n calls of kcb__rng_next would, and leaves the generator where they would */
  enum { N = 1000 };
  float mask[N];
  kcb__rng_seed(&a, 7);
  kcb__rng_seed(&b, 7);
  kcb__rng_keep_mask(&a, 0.3, 2.5f, mask, N);
  int dropped = 0;
  for (int i = 0; i < N; i++) {
    float want = (double)kcb__rng_next(&b) >= 0.3 * 18446744073709551616.0 ? 2.5f : 0.0f;
    assert_true(mask[i] == want);
    dropped += mask[i] == 0.0f;
  }
  assert_true(dropped > 250 && dropped < 350);
  assert_true(kcb__rng_next(&a) == kcb__rng_next(&b));
}

/* NULL where a pointer is expected is an error (or an empty answer), never a crash; and a shape
 * whose size overflows is refused, not allocated small. */
static void test_null_and_overflowing_arguments(void **state) {
  (void)state;
  int64_t shape[2] = {4, 3}, huge[2] = {(int64_t)1 << 32, (int64_t)1 << 32};
  kcb_model *m = NULL;
  assert_error(kcb_model_new(NULL, 2, shape, 1), KCB_EINVAL, "out is NULL");
  assert_error(kcb_model_new(&m, 2, NULL, 1), KCB_EINVAL, "input shape is NULL");
  kcb_tensor *t = NULL;
  assert_error(kcb_tensor_new(NULL, 2, shape), KCB_EINVAL, "out is NULL");
  assert_error(kcb_tensor_new(&t, 2, NULL), KCB_EINVAL, "shape is NULL");
  assert_error(kcb_tensor_new(&t, 2, huge), KCB_ENOMEM, "more floats than memory can address");
  assert_null(t);
  kcb_tensor view = kcb_tensor_view(NULL, 2, huge);
  assert_true(kcb_tensor_size(&view) == INT64_MAX);
  assert_true(kcb_tensor_size(NULL) == 0);
  assert_null(kcb_logs_find(NULL, "loss"));
  assert_int_equal(kcb_logs_get(NULL, "loss", NULL), 0);
  assert_int_equal(kcb_logs_remove(NULL, "loss"), 0);
  assert_int_equal(kcb_logs_set(NULL, "loss", 1.0), KCB_EINVAL);
  assert_int_equal(kcb_history_epochs(NULL), 0);
  assert_null(kcb_history_key(NULL, 0));
  const double *v;
  size_t n;
  assert_int_equal(kcb_history_values(NULL, "loss", &v, &n), KCB_EINVAL);
  assert_int_equal(kcb_history_last(NULL, "loss", NULL), 0);
  assert_int_equal(kcb_callback_list_add(NULL, NULL), KCB_EINVAL);
  assert_int_equal(kcb_progbar_logger_new(NULL, NULL), KCB_EINVAL);
  kcb_csv_table table;
  assert_int_equal(kcb_csv_table_read(&table, NULL, 0), KCB_EINVAL);
  assert_int_equal(kcb_csv_table_column(NULL, "epoch"), -1);
  assert_true(isnan(kcb_csv_table_value(NULL, 0, 0)));
  assert_int_equal(kcb_text_to_number("0.5", NULL), 1);
  assert_int_equal(kcb_monitor_mode_from_name(NULL, "min"), KCB_EINVAL);
  assert_int_equal(kcb_activation_from_name(NULL, "relu"), 0);
  /* fit: no targets, callbacks promised but not given, a batch far past the data (one batch of all) */
  m = test_compiled_model(3, "2:softmax", 1, KCB_OPT_SGD, KCB_DEFAULT, KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, KCB_METRIC_COUNT);
  float xs[12] = {0}, ys[4] = {0, 1, 0, 1};
  int64_t ysh[1] = {4};
  kcb_tensor x = kcb_tensor_view(xs, 2, shape), y = kcb_tensor_view(ys, 1, ysh);
  kcb_fit_options o = KCB_FIT_OPTIONS_INIT;
  o.verbose = 0;
  assert_error(kcb_model_fit(m, &x, NULL, &o, NULL), KCB_EINVAL, "fit: y is missing");
  o.n_callbacks = 1;
  assert_error(kcb_model_fit(m, &x, &y, &o, NULL), KCB_EINVAL, "1 callbacks given, but the callback array is NULL");
  o.n_callbacks = 0;
  o.batch_size = INT64_MAX;
  assert_ok(kcb_model_fit(m, &x, &y, &o, NULL));
  assert_int_equal(kcb_model_iterations(m), 1);
  kcb_model_free(m);
}

/* Names are matched and made as Python's str.lower() does, in any LC_CTYPE: in a Turkish locale
 * tolower('I') is not 'i', which made InputLayer's group "Input_layer" and SIGMOID unknown. */
void kcb__keras_snake_case(const char *name, char *out, size_t size); /* io/checkpoint_file_internal.h */

static void test_names_ignore_lc_ctype(void **state) {
  (void)state;
  static char dir[] = "/tmp/kcb_locale_tr_XXXXXX";
  assert_non_null(mkdtemp(dir));
  char cmd[256];
  snprintf(cmd, sizeof cmd, "localedef -i tr_TR -f UTF-8 %s/tr_TR.UTF-8 >/dev/null 2>&1", dir);
  locale_t turkish = (locale_t)0;
  if (system(cmd) == 0) {
    setenv("LOCPATH", dir, 1); /* only while it is read: glibc's newlocale leaks a copy of it */
    turkish = newlocale(LC_CTYPE_MASK, "tr_TR.UTF-8", (locale_t)0);
    unsetenv("LOCPATH");
  }
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  assert_int_equal(system(cmd), 0);
  if (!turkish) skip();
  uselocale(turkish);
  char snake[64];
  kcb__keras_snake_case("InputLayer", snake, sizeof snake);
  kcb_activation a = KCB_ACT_LINEAR;
  int rc = kcb_activation_from_name(&a, "SIGMOID");
  uselocale(LC_GLOBAL_LOCALE);
  freelocale(turkish);
  assert_string_equal(snake, "input_layer");
  assert_int_equal(rc, 0);
  assert_int_equal(a, KCB_ACT_SIGMOID);
}

/* "did you mean": in kcb_text_suggest, and in the library's messages for a mistyped name */
static void test_suggestions(void **state) {
  (void)state;
  const char *const names[] = {"epochs", "batch_size", "val_accuracy", "epoch_loss", "sequential/dense/kernel/histogram"};
  assert_string_equal(kcb_text_suggest("epcohs", names, 5), "epochs");             /* a swap */
  assert_string_equal(kcb_text_suggest("ba", names, 5), "batch_size");             /* an abbreviation of one */
  assert_null(kcb_text_suggest("ep", names, 5));                                   /* ... not of two */
  assert_string_equal(kcb_text_suggest("BATCH_SIZE", names, 5), "batch_size");     /* case */
  assert_string_equal(kcb_text_suggest("val_acc", names, 5), "val_accuracy");      /* a beginning */
  assert_string_equal(kcb_text_suggest("loss", names, 5), "epoch_loss");           /* an ending */
  assert_string_equal(kcb_text_suggest("dense/kernel", names, 5), "sequential/dense/kernel/histogram");
  assert_null(kcb_text_suggest("zz", names, 5));
  assert_null(kcb_text_suggest("", names, 5));
  assert_null(kcb_text_suggest(NULL, names, 5));
  kcb_loss loss;
  assert_error(kcb_loss_from_name(&loss, "msee"), KCB_EKEY, "unknown loss 'msee' (did you mean mse?) (expected one of:");
  kcb_activation a;
  assert_error(kcb_activation_from_name(&a, "relux"), KCB_EKEY, "unknown activation 'relux' (did you mean relu?)");
  assert_error(kcb_activation_from_name(&a, "qqqqqq"), KCB_EKEY, "unknown activation 'qqqqqq' (expected one of:");
  kcb_model *m = NULL;
  const int64_t image[2] = {28, 28};
  assert_error(kcb_model_new_from_spec(&m, "flaten,10:relu", 2, image, 1), KCB_EINVAL,
               "unknown item 'flaten' (did you mean flatten?)");
  assert_null(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_suggestions),
      cmocka_unit_test(test_errors), cmocka_unit_test(test_logs_sorted_and_bounded), cmocka_unit_test(test_tensors),
      cmocka_unit_test(test_format_double_matches_python_repr), cmocka_unit_test(test_text_to_number), cmocka_unit_test(test_python_float), cmocka_unit_test(test_rng_reproducible),
      cmocka_unit_test(test_sgemm_fallback_matches_openblas), cmocka_unit_test(test_leaf_names),
      cmocka_unit_test(test_null_and_overflowing_arguments), cmocka_unit_test(test_names_ignore_lc_ctype),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
