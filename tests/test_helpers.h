/* test_helpers.h — what several tests share. */
#ifndef KCB_TEST_HELPERS_H
#define KCB_TEST_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kcb/kcb.h"

/* Asserts rc == 0, printing kcb's message otherwise. */
#define assert_ok(expr)                                                              \
  do {                                                                               \
    int rc_ = (expr);                                                                \
    if (rc_ != 0) fail_msg("%s -> %s: %s", #expr, kcb_error_name(rc_), kcb_error_last()); \
  } while (0)

/* Asserts a specific error code and that the message mentions `needle`. */
#define assert_error(expr, code, needle)                                             \
  do {                                                                               \
    int rc_ = (expr);                                                                \
    if (rc_ != (code)) fail_msg("%s -> %s (%s), expected %s", #expr, kcb_error_name(rc_), kcb_error_last(), kcb_error_name(code)); \
    if (!strstr(kcb_error_last(), (needle))) fail_msg("message '%s' lacks '%s'", kcb_error_last(), (needle)); \
  } while (0)

/* A model of `spec` on samples of shape `input` (rank dimensions), compiled with `optimizer` (learning rate `lr`,
 * KCB_DEFAULT for Keras's), `loss` and one metric (none when metric is KCB_METRIC_COUNT). */
static inline kcb_model *test_compiled_model_shaped(int rank, const int64_t *input, const char *spec, uint64_t seed,
                                                    kcb_optimizer_kind optimizer, double lr, kcb_loss loss, kcb_metric metric) {
  kcb_model *m = NULL;
  assert_ok(kcb_model_new(&m, rank, input, seed));
  assert_ok(kcb_model_add_from_spec(m, spec));
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(optimizer);
  c.optimizer.learning_rate = lr;
  c.loss = loss;
  c.metrics = &metric;
  c.n_metrics = metric == KCB_METRIC_COUNT ? 0 : 1;
  assert_ok(kcb_model_compile(m, &c));
  return m;
}

/* The same for inputs of one dimension (`input` features a sample). */
static inline kcb_model *test_compiled_model(int64_t input, const char *spec, uint64_t seed, kcb_optimizer_kind optimizer,
                                             double lr, kcb_loss loss, kcb_metric metric) {
  return test_compiled_model_shaped(1, &input, spec, seed, optimizer, lr, loss, metric);
}

/* ---- scratch files and raw bytes (tests that edit files byte by byte) ---------------------- */

/* Makes a fresh directory /tmp/<prefix>XXXXXX in dir (size >= 64): 0, or -1 (a cmocka setup's result). */
static inline int test_tmpdir_make(char *dir, size_t size, const char *prefix) {
  snprintf(dir, size, "/tmp/%sXXXXXX", prefix);
  return mkdtemp(dir) ? 0 : -1;
}

/* Removes it with everything in it: 0, or -1 (a cmocka teardown's result). */
static inline int test_tmpdir_remove(const char *dir) {
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

/* The whole file, NUL-terminated, in a malloc'd buffer; fails the test if it cannot be read. */
static inline char *test_slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  buf[n] = '\0';
  *len = (size_t)n;
  return buf;
}

/* Writes len bytes to dir/name and returns that path (a static buffer: valid until the next call). */
static inline const char *test_write_in(const char *dir, const char *name, const void *data, size_t len) {
  static char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
  return path;
}

/* An n-byte little-endian unsigned integer at p (HDF5's addresses, lengths and fields). */
static inline uint64_t test_get_le(const char *p, int n) {
  uint64_t v = 0;
  for (int i = n; i-- > 0;) v = v << 8 | (uint8_t)p[i];
  return v;
}

static inline void test_put_le(char *p, uint64_t v, int n) {
  for (int i = 0; i < n; i++, v >>= 8) p[i] = (char)(v & 0xff);
}

#endif
