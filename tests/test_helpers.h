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

#endif
