/* test_distributed.c — what of the distributed module needs no MPI job: the rank and size fit gives
 * callbacks when alone, the warm-up schedule, launcher detection and the build without MPI. The
 * jobs themselves are tests/distributed/distributed_check.c under mpirun. */
#include <math.h>
#include <stdlib.h>

#include "test_helpers.h"

static int seen_rank = -1, seen_size = -1;

static int record_params(kcb_callback *cb, int epoch, kcb_logs *logs) {
  seen_rank = cb->params->rank;
  seen_size = cb->params->size;
  return 0;
}

static void alone_is_rank_0_of_1(void **state) {
  int64_t shape[2] = {8, 2};
  kcb_tensor *x, *y;
  assert_ok(kcb_tensor_new(&x, 2, shape));
  assert_ok(kcb_tensor_new(&y, 2, shape));
  kcb_model *m = test_compiled_model(2, "2", 1, KCB_OPT_SGD, KCB_DEFAULT, KCB_LOSS_MEAN_SQUARED_ERROR, KCB_METRIC_COUNT);
  kcb_callback_ops ops = {.on_epoch_end = record_params};
  kcb_callback *cb;
  assert_ok(kcb_lambda_callback_new(&cb, &ops, NULL));
  kcb_fit_options fo = KCB_FIT_OPTIONS_INIT;
  fo.verbose = 0;
  fo.callbacks = &cb;
  fo.n_callbacks = 1;
  assert_null(fo.distributed); /* the default: this process alone */
  assert_ok(kcb_model_fit(m, x, y, &fo, NULL));
  assert_int_equal(seen_rank, 0);
  assert_int_equal(seen_size, 1);
  kcb_callback_free(cb);
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

/* Goyal et al.'s warm-up: lr at epoch 0, lr * N at epoch k, linear between, then left alone. */
static void warmup_schedule(void **state) {
  kcb_lr_warmup w = {0.1, 4, 5};
  assert_true(fabs(kcb_lr_schedule_warmup(0, 0, &w) - 0.1) < 1e-15);
  assert_true(fabs(kcb_lr_schedule_warmup(1, 0, &w) - 0.1 * (1 + 3 * 0.2)) < 1e-15);
  assert_true(fabs(kcb_lr_schedule_warmup(4, 0, &w) - 0.1 * (1 + 3 * 0.8)) < 1e-15);
  assert_true(fabs(kcb_lr_schedule_warmup(5, 0, &w) - 0.4) < 1e-15);
  /* after the warm-up the rate it is given stays: a ReduceLROnPlateau cut is not undone */
  assert_true(kcb_lr_schedule_warmup(6, 0.04, &w) == 0.04);
  assert_true(kcb_lr_schedule_warmup(50, 0.4, &w) == 0.4);
  kcb_lr_warmup one = {0.1, 1, 3}; /* one process: no change */
  assert_true(fabs(kcb_lr_schedule_warmup(2, 0, &one) - 0.1) < 1e-15);
  kcb_lr_warmup none = {0.1, 2, 0}; /* no warm-up: the target rate from the first epoch */
  assert_true(fabs(kcb_lr_schedule_warmup(0, 0, &none) - 0.2) < 1e-15);
  kcb_lr_warmup bad_mult = {0.1, 0.5, 3}, bad_epochs = {0.1, 2, -1};
  assert_true(isnan(kcb_lr_schedule_warmup(1, 0, &bad_mult)));
  assert_true(isnan(kcb_lr_schedule_warmup(1, 0, &bad_epochs)));
  assert_true(isnan(kcb_lr_schedule_warmup(-1, 0, &w)));
  assert_true(isnan(kcb_lr_schedule_warmup(1, 0, NULL)));
}

/* Through LearningRateScheduler in a fit: the optimizer's float32 rate follows the schedule. */
static void warmup_in_fit(void **state) {
  int64_t shape[2] = {8, 2};
  kcb_tensor *x, *y;
  assert_ok(kcb_tensor_new(&x, 2, shape));
  assert_ok(kcb_tensor_new(&y, 2, shape));
  kcb_model *m = test_compiled_model(2, "2", 1, KCB_OPT_SGD, 0.01, KCB_LOSS_MEAN_SQUARED_ERROR, KCB_METRIC_COUNT);
  kcb_lr_warmup w = {0.01, 3, 2};
  kcb_callback *cb;
  assert_ok(kcb_lr_scheduler_new(&cb, kcb_lr_schedule_warmup, &w, NULL));
  kcb_fit_options fo = KCB_FIT_OPTIONS_INIT;
  fo.verbose = 0;
  fo.epochs = 4;
  fo.callbacks = &cb;
  fo.n_callbacks = 1;
  kcb_history *h;
  assert_ok(kcb_model_fit(m, x, y, &fo, &h));
  const double *lr;
  size_t n;
  assert_ok(kcb_history_values(h, "learning_rate", &lr, &n));
  assert_int_equal(n, 4);
  const double expect[4] = {0.01, 0.02, 0.03, 0.03};
  for (size_t i = 0; i < 4; i++) assert_true(fabs(lr[i] - (double)(float)expect[i]) < 1e-9);
  kcb_history_free(h);
  kcb_callback_free(cb);
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

static void launcher_detected_from_the_environment(void **state) {
  const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"};
  for (size_t i = 0; i < 3; i++) unsetenv(vars[i]);
  assert_int_equal(kcb_distributed_launched(), 0);
  for (size_t i = 0; i < 3; i++) {
    setenv(vars[i], "2", 1);
    assert_int_equal(kcb_distributed_launched(), 1);
    unsetenv(vars[i]);
  }
}

static void null_handle_is_one_process(void **state) {
  assert_int_equal(kcb_distributed_rank(NULL), 0);
  assert_int_equal(kcb_distributed_size(NULL), 1);
  kcb_distributed_abort(NULL, 1); /* returns: nothing to end */
  kcb_distributed_free(NULL);
}

static void build_without_mpi_says_so(void **state) {
  assert_int_equal(kcb_distributed_available(), KCB_TEST_MPI);
  if (KCB_TEST_MPI) skip(); /* MPI_Init in a unit test would only test Open MPI (see distributed_check) */
  kcb_distributed *d = (kcb_distributed *)1;
  assert_error(kcb_distributed_new(&d, NULL), KCB_ESTATE, "without MPI");
  assert_null(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(alone_is_rank_0_of_1),   cmocka_unit_test(warmup_schedule),
      cmocka_unit_test(warmup_in_fit),          cmocka_unit_test(launcher_detected_from_the_environment),
      cmocka_unit_test(null_handle_is_one_process), cmocka_unit_test(build_without_mpi_says_so),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
