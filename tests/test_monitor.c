/* test_monitor.c — Keras 3's MonitorCallback logic (spec/keras-callbacks.md §2.3). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "test_helpers.h"
#include "callbacks/monitor.h"

static void test_auto_mode_table(void **state) {
  (void)state;
  /* Keras's monitor_callback_test table, with the metrics kcb has. */
  int64_t in = 3;
  kcb_model *m = NULL;
  assert_ok(kcb_model_new(&m, 1, &in, 1));
  assert_ok(kcb_model_add_from_spec(m, "2:softmax"));
  kcb_compile_options c = {0};
  kcb_metric metrics[2] = {KCB_METRIC_ACCURACY, KCB_METRIC_MEAN_SQUARED_ERROR};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_SGD);
  c.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  c.metrics = metrics;
  c.n_metrics = 2;
  assert_ok(kcb_model_compile(m, &c));
  struct { const char *name; kcb_monitor_mode want; } table[] = {
      {"val_mean_squared_error", KCB_MONITOR_MIN}, {"loss", KCB_MONITOR_MIN}, {"val_loss", KCB_MONITOR_MIN},
      {"accuracy", KCB_MONITOR_MAX}, {"val_accuracy", KCB_MONITOR_MAX}};
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    kcb__monitor mon;
    assert_ok(kcb__monitor_init(&mon, "EarlyStopping", table[i].name, KCB_MONITOR_AUTO, 0));
    assert_false(mon.resolved);
    assert_ok(kcb__monitor_resolve(&mon, "EarlyStopping", m));
    assert_int_equal(mon.mode, table[i].want);
  }
  kcb__monitor mon;
  assert_ok(kcb__monitor_init(&mon, "EarlyStopping", "unknown", KCB_MONITOR_AUTO, 0));
  assert_error(kcb__monitor_resolve(&mon, "EarlyStopping", m), KCB_EINVAL,
               "EarlyStopping callback received monitor=unknown, but Keras isn't able to automatically determine");
  /* An explicit mode needs no metric. */
  assert_ok(kcb__monitor_init(&mon, "EarlyStopping", "unknown", KCB_MONITOR_MAX, 0));
  assert_ok(kcb__monitor_resolve(&mon, "EarlyStopping", m));
  assert_int_equal(mon.mode, KCB_MONITOR_MAX);
  kcb_model_free(m);
}

/* Directions from a name alone (CSV logs, checkpoints to rank): Keras 3.15.1's metric classes'
 * _direction under their default names (keras/src/metrics), with Keras's "_1" for a repeated name. */
static void test_mode_for_name(void **state) {
  (void)state;
  static const char *const up[] = {"accuracy", "val_sparse_categorical_accuracy", "f1_score", "val_fbeta_score",
                                   "r2_score", "cosine_similarity", "mean_io_u", "one_hot_mean_io_u", "precision_1",
                                   "val_auc_2", "pearson_correlation", "recall_at_precision", "my_acc",
                                   "val_output_1_sparse_categorical_accuracy", "val_mae_auc"};
  static const char *const down[] = {"loss", "val_loss", "mse", "val_mean_absolute_error", "kl_divergence", "poisson",
                                     "logcosh", "squared_hinge", "root_mean_squared_error", "val_custom_loss",
                                     /* multi-output `{output}_{metric}`: the output's name says nothing */
                                     "val_accel_mae", "val_auction_mse", "val_output_1_mae", "precision_head_mse_2"};
  static const char *const unknown[] = {"lr", "learning_rate", "true_positives", "false_negatives", "epoch_time", "",
                                        "val_accel_xyz", "auction_price", "precision_head"};
  for (size_t i = 0; i < sizeof up / sizeof *up; i++) assert_int_equal(kcb_monitor_mode_for_name(up[i]), KCB_MONITOR_MAX);
  for (size_t i = 0; i < sizeof down / sizeof *down; i++) assert_int_equal(kcb_monitor_mode_for_name(down[i]), KCB_MONITOR_MIN);
  for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++)
    assert_int_equal(kcb_monitor_mode_for_name(unknown[i]), KCB_MONITOR_AUTO);
  assert_int_equal(kcb_monitor_mode_for_name(NULL), KCB_MONITOR_AUTO);
}

static void test_improvement_is_strict_with_min_delta(void **state) {
  (void)state;
  kcb__monitor mon;
  assert_ok(kcb__monitor_init(&mon, "X", "loss", KCB_MONITOR_MIN, -0.5)); /* the sign is ignored */
  assert_true(kcb__monitor_is_improvement(&mon, 100, 0, 0));            /* no reference yet */
  assert_true(kcb__monitor_is_improvement(&mon, 1.49, 1, 2.0));
  assert_false(kcb__monitor_is_improvement(&mon, 1.5, 1, 2.0)); /* exactly ref - delta: not better */
  assert_false(kcb__monitor_is_improvement(&mon, NAN, 1, 2.0));
  assert_ok(kcb__monitor_init(&mon, "X", "acc", KCB_MONITOR_MAX, 0));
  assert_false(kcb__monitor_is_improvement(&mon, 0.5, 1, 0.5)); /* ties are not improvements */
  assert_true(kcb__monitor_is_improvement(&mon, 0.51, 1, 0.5));
  assert_false(kcb__monitor_is_improvement(&mon, NAN, 1, 0.5));
}

static void test_names_and_errors(void **state) {
  (void)state;
  kcb_monitor_mode mode;
  assert_ok(kcb_monitor_mode_from_name(&mode, "max"));
  assert_int_equal(mode, KCB_MONITOR_MAX);
  assert_string_equal(kcb_monitor_mode_name(KCB_MONITOR_MIN), "min");
  assert_error(kcb_monitor_mode_from_name(&mode, "maximum"), KCB_EINVAL, "'maximum'");
  kcb__monitor mon;
  assert_error(kcb__monitor_init(&mon, "ReduceLROnPlateau", "", KCB_MONITOR_AUTO, 0), KCB_EINVAL, "ReduceLROnPlateau");
  kcb_logs logs;
  kcb_logs_clear(&logs);
  assert_ok(kcb_logs_set(&logs, "val_loss", 0.25));
  assert_ok(kcb__monitor_init(&mon, "X", "val_loss", KCB_MONITOR_AUTO, 0));
  double v = 0;
  assert_ok(kcb__monitor_value(&mon, &logs, &v));
  assert_true(v == 0.25);
  assert_ok(kcb__monitor_init(&mon, "X", "val_acc", KCB_MONITOR_AUTO, 0));
  assert_int_equal(kcb__monitor_value(&mon, &logs, &v), KCB_EKEY);
}

/* Keras's warning text for a monitored key missing from the logs (keys comma-joined, sorted). */
static void test_warn_missing(void **state) {
  (void)state;
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  assert_non_null(f);
  kcb__monitor mon;
  assert_ok(kcb__monitor_init(&mon, "ReduceLROnPlateau", "val_loss", KCB_MONITOR_MIN, 0));
  kcb_logs logs;
  kcb_logs_clear(&logs);
  assert_ok(kcb_logs_set(&logs, "loss", 1));
  assert_ok(kcb_logs_set(&logs, "learning_rate", 0.1));
  assert_ok(kcb_logs_set(&logs, "accuracy", 0.5));
  kcb__monitor_warn_missing(&mon, f, "Learning rate reduction is", ".", &logs);
  kcb__monitor_warn_missing(&mon, f, "Learning rate reduction is", ".", &logs); /* once, as Python */
  kcb_logs_clear(&logs);
  assert_ok(kcb__monitor_init(&mon, "EarlyStopping", "val_loss", KCB_MONITOR_MIN, 0));
  kcb__monitor_warn_missing(&mon, f, "Early stopping", "", &logs);
  fclose(f);
  assert_string_equal(text,
                      "UserWarning: Learning rate reduction is conditioned on metric `val_loss` which is not available. "
                      "Available metrics are: accuracy,learning_rate,loss.\n"
                      "UserWarning: Early stopping conditioned on metric `val_loss` which is not available. "
                      "Available metrics are: \n");
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_auto_mode_table),
      cmocka_unit_test(test_mode_for_name),
      cmocka_unit_test(test_improvement_is_strict_with_min_delta),
      cmocka_unit_test(test_names_and_errors),
      cmocka_unit_test(test_warn_missing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
