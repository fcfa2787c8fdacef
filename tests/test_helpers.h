/* test_helpers.h — what several tests share. */
#ifndef KCB_TEST_HELPERS_H
#define KCB_TEST_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
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

/* A model of `spec` on samples of `input` floats, compiled with `optimizer` (learning rate `lr`,
 * KCB_DEFAULT for Keras's), `loss` and one metric (none when metric is KCB_METRIC_COUNT). */
static inline kcb_model *test_compiled_model(int64_t input, const char *spec, uint64_t seed, kcb_optimizer_kind optimizer,
                                             double lr, kcb_loss loss, kcb_metric metric) {
  kcb_model *m = NULL;
  assert_ok(kcb_model_new(&m, 1, &input, seed));
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

#endif
