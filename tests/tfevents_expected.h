/* tfevents_expected.h — the PyTorch fixture's expected.json (tests/data/tfevents/logdir), loaded once
 * per test program as cmocka group setup, for the tests that compare what kcb reads with it. */
#ifndef KCB_TESTS_TFEVENTS_EXPECTED_H
#define KCB_TESTS_TFEVENTS_EXPECTED_H

#include <jansson.h>
#include <stdio.h>

#define DATA KCB_TEST_DATA_DIR

static json_t *expected;

static int load_expected(void **state) {
  (void)state;
  json_error_t err;
  expected = json_load_file(DATA "/logdir/expected.json", 0, &err);
  if (!expected) fprintf(stderr, "expected.json: %s\n", err.text);
  return expected ? 0 : -1;
}

static int free_expected(void **state) {
  (void)state;
  json_decref(expected);
  return 0;
}

#endif
