/* test_callbacks.c — the hook protocol: exact order, arguments and logs of fit (with validation),
 * evaluate and predict, as spec/keras-callbacks.md §1.3 and §3 give them (libuv-style recording). */
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"
#include "test_helpers.h"

#define MAX_EVENTS 256

typedef struct recorder {
  kcb_callback base;
  char events[MAX_EVENTS][192];
  kcb_logs logs[MAX_EVENTS];
  size_t n;
  kcb_callback_params params_at_begin;
  /* behaviours a test switches on */
  int stop_at_epoch, stop_at_batch;       /* request stop_training at this (epoch, batch); -1 never */
  int interrupt_at_epoch, interrupt_at_batch; /* kcb_model_request_stop there, as a signal handler would */
  int interrupted_at_train_end;           /* kcb_model_interrupted() as on_train_end saw it */
  int fail_at_epoch_begin;                /* return KCB_EIO from on_epoch_begin(epoch); -1 never */
  int add_key_at_epoch_end;               /* put "learning_rate" into the epoch-end logs */
  int epoch;
  int batches_in_epoch[16];
} recorder;

static void record(recorder *r, const char *hook, long long index, const kcb_logs *logs) {
  char keys[96];
  kcb_logs_keys_string(logs, keys, sizeof keys);
  assert_true(r->n < MAX_EVENTS);
  if (index >= 0) snprintf(r->events[r->n], sizeof r->events[0], "%s %lld %s", hook, index, keys);
  else snprintf(r->events[r->n], sizeof r->events[0], "%s %s", hook, keys);
  kcb_logs_copy(&r->logs[r->n], logs);
  r->n++;
}

static int rec_train_begin(kcb_callback *cb, kcb_logs *l) {
  recorder *r = (recorder *)cb;
  r->params_at_begin = *cb->params;
  record(r, "on_train_begin", -1, l);
  return 0;
}
static int rec_train_end(kcb_callback *cb, kcb_logs *l) {
  record((recorder *)cb, "on_train_end", -1, l);
  ((recorder *)cb)->interrupted_at_train_end = kcb_model_interrupted(cb->model);
  return 0;
}
static int rec_epoch_begin(kcb_callback *cb, int e, kcb_logs *l) {
  recorder *r = (recorder *)cb;
  r->epoch = e;
  record(r, "on_epoch_begin", e, l);
  return e == r->fail_at_epoch_begin ? KCB_EIO : 0;
}
static int rec_epoch_end(kcb_callback *cb, int e, kcb_logs *l) {
  recorder *r = (recorder *)cb;
  record(r, "on_epoch_end", e, l);
  if (r->add_key_at_epoch_end) kcb_logs_set(l, "learning_rate", kcb_model_learning_rate(cb->model));
  return 0;
}
static int rec_train_batch_begin(kcb_callback *cb, int64_t b, kcb_logs *l) { record((recorder *)cb, "on_train_batch_begin", b, l); return 0; }
static int rec_train_batch_end(kcb_callback *cb, int64_t b, kcb_logs *l) {
  recorder *r = (recorder *)cb;
  record(r, "on_train_batch_end", b, l);
  if (r->epoch < 16) r->batches_in_epoch[r->epoch]++;
  if (r->epoch == r->stop_at_epoch && b == r->stop_at_batch) kcb_model_set_stop_training(cb->model, 1);
  if (r->epoch == r->interrupt_at_epoch && b == r->interrupt_at_batch) kcb_model_request_stop(cb->model);
  return 0;
}
static int rec_test_begin(kcb_callback *cb, kcb_logs *l) { record((recorder *)cb, "on_test_begin", -1, l); return 0; }
static int rec_test_end(kcb_callback *cb, kcb_logs *l) { record((recorder *)cb, "on_test_end", -1, l); return 0; }
static int rec_test_batch_begin(kcb_callback *cb, int64_t b, kcb_logs *l) { record((recorder *)cb, "on_test_batch_begin", b, l); return 0; }
static int rec_test_batch_end(kcb_callback *cb, int64_t b, kcb_logs *l) { record((recorder *)cb, "on_test_batch_end", b, l); return 0; }
static int rec_predict_begin(kcb_callback *cb, kcb_logs *l) { record((recorder *)cb, "on_predict_begin", -1, l); return 0; }
static int rec_predict_end(kcb_callback *cb, kcb_logs *l) { record((recorder *)cb, "on_predict_end", -1, l); return 0; }
static int rec_predict_batch_begin(kcb_callback *cb, int64_t b, kcb_logs *l) { record((recorder *)cb, "on_predict_batch_begin", b, l); return 0; }
static int rec_predict_batch_end(kcb_callback *cb, int64_t b, kcb_logs *l) {
  const kcb_log_entry *e = kcb_logs_find(l, "outputs");
  assert_non_null(e);
  assert_non_null(e->tensor);
  record((recorder *)cb, "on_predict_batch_end", b, l);
  return 0;
}

static const kcb_callback_ops recorder_ops = {
    "Recorder", rec_train_begin, rec_train_end, rec_epoch_begin, rec_epoch_end, rec_train_batch_begin,
    rec_train_batch_end, rec_test_begin, rec_test_end, rec_test_batch_begin, rec_test_batch_end,
    rec_predict_begin, rec_predict_end, rec_predict_batch_begin, rec_predict_batch_end, NULL};

static recorder *recorder_new(void) {
  recorder *r = calloc(1, sizeof *r);
  r->base.ops = &recorder_ops;
  r->stop_at_epoch = r->stop_at_batch = r->fail_at_epoch_begin = -1;
  r->interrupt_at_epoch = r->interrupt_at_batch = -1;
  return r;
}

/* A 4 -> 3 softmax classifier on `n` samples with labels i % 3. */
typedef struct fixture {
  kcb_model *model;
  kcb_tensor *x, *y;
} fixture;

static fixture make_fixture(int64_t n, double lr) {
  fixture f;
  int64_t xs[2] = {n, 4}, ys[1] = {n};
  f.model = test_compiled_model(4, "8:relu,3:softmax", 3, KCB_OPT_SGD, lr, KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
                                KCB_METRIC_ACCURACY);
  assert_ok(kcb_tensor_new(&f.x, 2, xs));
  assert_ok(kcb_tensor_new(&f.y, 1, ys));
  for (int64_t i = 0; i < n * 4; i++) f.x->data[i] = (float)sin((double)i * 0.7);
  for (int64_t i = 0; i < n; i++) f.y->data[i] = (float)(i % 3);
  return f;
}

static void free_fixture(fixture *f) {
  kcb_model_free(f->model);
  kcb_tensor_free(f->x);
  kcb_tensor_free(f->y);
}

/* fit's options for these tests: silent, with the given callbacks. */
static kcb_fit_options quiet_fit(int epochs, int64_t batch, kcb_callback **cbs, size_t n) {
  kcb_fit_options o = KCB_FIT_OPTIONS_INIT;
  o.epochs = epochs;
  o.batch_size = batch;
  o.verbose = 0;
  o.callbacks = cbs;
  o.n_callbacks = n;
  return o;
}

/* This thread's locale set to one whose decimal separator is a comma (made with localedef where
 * the locale sources are installed: uselocale, as a program's thread may set it); *dir gets its
 * directory. NULL when there is none. */
static locale_t comma_locale(char **dir) {
  static char made[] = "/tmp/kcb_locale_XXXXXX";
  *dir = NULL;
  if (!mkdtemp(made)) return (locale_t)0;
  *dir = made;
  char cmd[256];
  snprintf(cmd, sizeof cmd, "localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 >/dev/null 2>&1", made);
  if (system(cmd) != 0) return (locale_t)0;
  setenv("LOCPATH", made, 1); /* only while the locale is read: glibc's newlocale leaks a copy of it */
  locale_t comma = newlocale(LC_NUMERIC_MASK, "de_DE.UTF-8", (locale_t)0);
  unsetenv("LOCPATH");
  if (comma) uselocale(comma);
  return comma;
}

/* A program that calls setlocale(LC_ALL, "") in a comma locale still gets Keras's numbers from
 * the progress bar, the callbacks' messages and summary() (only their LC_NUMERIC is "C"), and its
 * own thread keeps its locale. */
static void test_printing_ignores_lc_numeric(void **state) {
  (void)state;
  char *dir;
  locale_t comma = comma_locale(&dir);
  if (!comma) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir ? dir : "/nonexistent");
    assert_int_equal(system(cmd), 0);
    skip();
  }
  fixture f = make_fixture(30, 0.01);
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  assert_non_null(out);
  kcb_fit_options o = quiet_fit(2, 10, NULL, 0);
  o.verbose = 2;
  o.progress_stream = out;
  kcb_early_stopping_options eo = KCB_EARLY_STOPPING_OPTIONS_INIT;
  eo.monitor = "loss", eo.verbose = 1, eo.stream = out, eo.patience = 0, eo.min_delta = 100;
  kcb_callback *es = NULL;
  assert_ok(kcb_early_stopping_new(&es, &eo));
  o.callbacks = &es, o.n_callbacks = 1;
  assert_ok(kcb_model_fit(f.model, f.x, f.y, &o, NULL));
  assert_ok(kcb_model_summary(f.model, out));
  fclose(out);
  char own[32];
  snprintf(own, sizeof own, "%.1f", 0.5);
  uselocale(LC_GLOBAL_LOCALE);
  freelocale(comma);
  assert_string_equal(own, "0,5"); /* the caller's locale stayed the caller's */
  if (!strstr(text, "loss: ") || strstr(text, "loss: 0,") || strstr(text, "loss: 1,") || !strstr(text, " B)") ||
      strstr(text, ",00 B)"))
    fail_msg("numbers printed in the comma locale:\n%s", text);
  free(text);
  kcb_callback_free(es);
  free_fixture(&f);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  assert_int_equal(system(cmd), 0);
}

static void assert_events(const recorder *r, const char *const *expected, size_t n) {
  for (size_t i = 0; i < n && i < r->n; i++)
    if (strcmp(r->events[i], expected[i]) != 0) fail_msg("event %zu: got '%s', expected '%s'", i, r->events[i], expected[i]);
  if (r->n != n) fail_msg("got %zu events, expected %zu (last: '%s')", r->n, n, r->n ? r->events[r->n - 1] : "");
}

#define TRAIN_BATCH(b) "on_train_batch_begin " #b " []", "on_train_batch_end " #b " ['accuracy', 'loss']"
#define VALIDATION                                                                                 \
  "on_test_begin []", "on_test_batch_begin 0 []", "on_test_batch_end 0 ['accuracy', 'loss']",     \
      "on_test_end ['accuracy', 'loss']"
#define EPOCH_END(e) "on_epoch_end " #e " ['accuracy', 'loss', 'val_accuracy', 'val_loss']"

/* fit(epochs=2, batch 4, validation_split 0.2) on 10 samples: 2 train batches, 1 validation batch. */
static void test_fit_hook_sequence(void **state) {
  (void)state;
  fixture f = make_fixture(10, 0.01);
  recorder *r = recorder_new();
  kcb_callback *cbs[1] = {&r->base};
  kcb_fit_options o = quiet_fit(2, 4, cbs, 1);
  o.validation_split = 0.2;
  kcb_history *h;
  assert_ok(kcb_model_fit(f.model, f.x, f.y, &o, &h));
  static const char *const expected[] = {
      "on_train_begin []",
      "on_epoch_begin 0 []", TRAIN_BATCH(0), TRAIN_BATCH(1), VALIDATION, EPOCH_END(0),
      "on_epoch_begin 1 []", TRAIN_BATCH(0), TRAIN_BATCH(1), VALIDATION, EPOCH_END(1),
      "on_train_end ['accuracy', 'loss', 'val_accuracy', 'val_loss']"};
  assert_events(r, expected, sizeof expected / sizeof expected[0]);
  assert_int_equal(r->params_at_begin.epochs, 2);
  assert_int_equal(r->params_at_begin.steps, 2);
  assert_int_equal(r->params_at_begin.verbose, 0);
  /* epoch-end train values are the last batch's running values; val_* are on_test_end's */
  double a = 0, b = -1;
  assert_true(kcb_logs_get(&r->logs[5], "loss", &a) && kcb_logs_get(&r->logs[10], "loss", &b));
  assert_true(a == b);
  assert_true(kcb_logs_get(&r->logs[9], "loss", &a) && kcb_logs_get(&r->logs[10], "val_loss", &b));
  assert_true(a == b);
  /* on_train_end gets the last epoch's logs; History holds every epoch's */
  assert_int_equal(r->logs[r->n - 1].count, r->logs[r->n - 2].count);
  for (size_t i = 0; i < r->logs[r->n - 1].count; i++)
    assert_true(r->logs[r->n - 1].entries[i].value == r->logs[r->n - 2].entries[i].value);
  assert_int_equal(kcb_history_epochs(h), 2);
  assert_int_equal(kcb_history_key_count(h), 4);
  assert_string_equal(kcb_history_key(h, 0), "accuracy");
  assert_string_equal(kcb_history_key(h, 3), "val_loss");
  const double *values;
  size_t count;
  assert_ok(kcb_history_values(h, "val_loss", &values, &count));
  assert_int_equal(count, 2);
  assert_true(kcb_logs_get(&r->logs[r->n - 2], "val_loss", &a) && a == values[1]);
  assert_int_equal(kcb_model_iterations(f.model), 4);
  kcb_history_free(h);
  free(r);
  free_fixture(&f);
}

/* Batch-end logs are batch-size-weighted running means since the epoch began: with a zero
 * learning rate the weights stay fixed, so each batch's own loss is evaluate's on it alone. */
static void test_batch_logs_are_running_means(void **state) {
  (void)state;
  fixture f = make_fixture(10, 0.0);
  recorder *r = recorder_new();
  kcb_callback *cbs[1] = {&r->base};
  kcb_fit_options o = quiet_fit(1, 4, cbs, 1);
  o.shuffle = 0;
  assert_ok(kcb_model_fit(f.model, f.x, f.y, &o, NULL));
  double own[3], sizes[3] = {4, 4, 2}, running = 0, seen = 0;
  for (int b = 0; b < 3; b++) {
    int64_t xs[2] = {(int64_t)sizes[b], 4}, ys[1] = {(int64_t)sizes[b]};
    kcb_tensor bx = kcb_tensor_view(f.x->data + b * 16, 2, xs), by = kcb_tensor_view(f.y->data + b * 4, 1, ys);
    kcb_evaluate_options e = KCB_EVALUATE_OPTIONS_INIT;
    e.verbose = 0;
    kcb_logs out;
    assert_ok(kcb_model_evaluate(f.model, &bx, &by, &e, &out));
    assert_true(kcb_logs_get(&out, "loss", &own[b]));
    running += own[b] * sizes[b];
    seen += sizes[b];
    double logged;
    assert_true(kcb_logs_get(&r->logs[3 + 2 * b], "loss", &logged)); /* train_begin, epoch_begin, then pairs */
    assert_string_equal(r->events[3 + 2 * b], b == 0 ? "on_train_batch_end 0 ['accuracy', 'loss']"
                                              : b == 1 ? "on_train_batch_end 1 ['accuracy', 'loss']"
                                                       : "on_train_batch_end 2 ['accuracy', 'loss']");
    assert_float_equal(logged, running / seen, 1e-6);
    assert_true(logged == (double)(float)logged); /* a float32, as Keras's Mean variables hold it */
  }
  assert_true(own[0] != own[1]);
  free(r);
  free_fixture(&f);
}

static void test_evaluate_and_predict_hooks(void **state) {
  (void)state;
  fixture f = make_fixture(5, 0.01);
  recorder *r = recorder_new();
  kcb_callback *cbs[1] = {&r->base};
  kcb_evaluate_options e = KCB_EVALUATE_OPTIONS_INIT;
  e.batch_size = 3;
  e.verbose = 0;
  e.callbacks = cbs;
  e.n_callbacks = 1;
  kcb_logs out;
  assert_ok(kcb_model_evaluate(f.model, f.x, f.y, &e, &out));
  static const char *const eval_expected[] = {
      "on_test_begin []", "on_test_batch_begin 0 []", "on_test_batch_end 0 ['accuracy', 'loss']",
      "on_test_batch_begin 1 []", "on_test_batch_end 1 ['accuracy', 'loss']", "on_test_end ['accuracy', 'loss']"};
  assert_events(r, eval_expected, 6);
  assert_int_equal(r->params_at_begin.epochs, 0); /* on_train_begin never ran */
  r->n = 0;
  kcb_tensor *pred;
  assert_ok(kcb_model_predict(f.model, f.x, &e, &pred));
  static const char *const predict_expected[] = {
      "on_predict_begin []", "on_predict_batch_begin 0 []", "on_predict_batch_end 0 ['outputs']",
      "on_predict_batch_begin 1 []", "on_predict_batch_end 1 ['outputs']", "on_predict_end []"};
  assert_events(r, predict_expected, 6);
  assert_int_equal(pred->rank, 2);
  assert_int_equal(pred->shape[0], 5);
  assert_int_equal(pred->shape[1], 3);
  for (int i = 0; i < 5; i++) assert_float_equal(pred->data[3 * i] + pred->data[3 * i + 1] + pred->data[3 * i + 2], 1.0, 1e-6);
  kcb_tensor_free(pred);
  free(r);
  free_fixture(&f);
}

/* A stop requested in a batch still runs validation and on_epoch_end for that epoch, then
 * on_train_end; no later epoch begins. */
static void test_stop_training(void **state) {
  (void)state;
  fixture f = make_fixture(10, 0.01);
  recorder *r = recorder_new();
  r->stop_at_epoch = 1;
  r->stop_at_batch = 0;
  kcb_callback *cbs[1] = {&r->base};
  kcb_fit_options o = quiet_fit(5, 4, cbs, 1);
  o.validation_split = 0.2;
  assert_ok(kcb_model_fit(f.model, f.x, f.y, &o, NULL));
  static const char *const expected[] = {
      "on_train_begin []",
      "on_epoch_begin 0 []", TRAIN_BATCH(0), TRAIN_BATCH(1), VALIDATION, EPOCH_END(0),
      "on_epoch_begin 1 []", TRAIN_BATCH(0), VALIDATION, EPOCH_END(1),
      "on_train_end ['accuracy', 'loss', 'val_accuracy', 'val_loss']"};
  assert_events(r, expected, sizeof expected / sizeof expected[0]);
  free(r);
  free_fixture(&f);
}

/* kcb_model_request_stop (Ctrl-C): fit stops after the batch, skips the cut epoch's validation and
 * on_epoch_end, runs on_train_end (which sees kcb_model_interrupted) and returns KCB_EINTERRUPTED;
 * a request in an epoch's last batch lets that epoch end first; the next fit runs normally. */
static void test_request_stop(void **state) {
  (void)state;
  fixture f = make_fixture(10, 0.01);
  recorder *r = recorder_new();
  r->interrupt_at_epoch = 1;
  r->interrupt_at_batch = 0;
  kcb_callback *cbs[1] = {&r->base};
  kcb_fit_options o = quiet_fit(5, 4, cbs, 1);
  o.validation_split = 0.2;
  assert_error(kcb_model_fit(f.model, f.x, f.y, &o, NULL), KCB_EINTERRUPTED,
               "fit: stopped on request after batch 1 of epoch 2 (1-based)");
  static const char *const cut[] = {
      "on_train_begin []",
      "on_epoch_begin 0 []", TRAIN_BATCH(0), TRAIN_BATCH(1), VALIDATION, EPOCH_END(0),
      "on_epoch_begin 1 []", TRAIN_BATCH(0),
      "on_train_end ['accuracy', 'loss', 'val_accuracy', 'val_loss']"};
  assert_events(r, cut, sizeof cut / sizeof cut[0]);
  assert_true(r->interrupted_at_train_end);
  assert_true(kcb_model_interrupted(f.model));

  /* in the last batch of epoch 0: epoch 0 ends (validation, on_epoch_end), then the stop */
  r->n = 0;
  r->interrupt_at_epoch = 0;
  r->interrupt_at_batch = 1;
  assert_error(kcb_model_fit(f.model, f.x, f.y, &o, NULL), KCB_EINTERRUPTED, "fit: stopped on request before epoch 2");
  static const char *const whole[] = {
      "on_train_begin []",
      "on_epoch_begin 0 []", TRAIN_BATCH(0), TRAIN_BATCH(1), VALIDATION, EPOCH_END(0),
      "on_train_end ['accuracy', 'loss', 'val_accuracy', 'val_loss']"};
  assert_events(r, whole, sizeof whole / sizeof whole[0]);

  /* the request was consumed: the next fit runs to its end */
  r->n = 0;
  r->interrupt_at_epoch = -1;
  o.epochs = 2;
  assert_ok(kcb_model_fit(f.model, f.x, f.y, &o, NULL));
  assert_false(r->interrupted_at_train_end);
  assert_false(kcb_model_interrupted(f.model));
  free(r);
  free_fixture(&f);
}

/* A hook's error ends fit at once with that code: no further hooks, not even on_train_end. */
static void test_hook_error_propagates(void **state) {
  (void)state;
  fixture f = make_fixture(8, 0.01);
  recorder *r = recorder_new();
  r->fail_at_epoch_begin = 1;
  kcb_callback *cbs[1] = {&r->base};
  kcb_fit_options o = quiet_fit(3, 8, cbs, 1);
  kcb_history *h = (kcb_history *)1;
  assert_int_equal(kcb_model_fit(f.model, f.x, f.y, &o, &h), KCB_EIO);
  assert_null(h);
  assert_string_equal(r->events[r->n - 1], "on_epoch_begin 1 []");
  free(r);
  free_fixture(&f);
}

/* A user callback that fails without a message of its own is named in fit's message (ops.name,
 * else its place in the list); one that sets a message keeps it. */
static int fail_quietly(kcb_callback *cb, int epoch, kcb_logs *logs) { return epoch == 1 ? KCB_EINVAL : 0; }
static int fail_with_message(kcb_callback *cb, int epoch, kcb_logs *logs) {
  return kcb_error_set(KCB_EIO, "MinLoss: cannot write best.txt");
}
/* a hook that handles an error of its own and goes on: its message is left behind */
static int leave_message(kcb_callback *cb, int epoch, kcb_logs *logs) {
  (void)kcb_error_set(KCB_ENOENT, "Handled: no such file, and that is fine");
  return 0;
}
static int return_five(kcb_callback *cb, int epoch, kcb_logs *logs) { return 5; }
static void test_hook_error_names_the_callback(void **state) {
  (void)state;
  fixture f = make_fixture(8, 0.01);
  static const kcb_callback_ops named = {.name = "MinLoss", .on_epoch_end = fail_quietly};
  static const kcb_callback_ops unnamed = {.on_epoch_end = fail_quietly};
  static const kcb_callback_ops loud = {.name = "MinLoss", .on_epoch_end = fail_with_message};
  kcb_callback a = {.ops = &named}, b = {.ops = &unnamed}, c = {.ops = &loud};
  kcb_callback *cbs[2] = {&b, &a};
  kcb_fit_options o = quiet_fit(3, 8, cbs + 1, 1);
  assert_int_equal(kcb_model_fit(f.model, f.x, f.y, &o, NULL), KCB_EINVAL);
  assert_string_equal(kcb_error_last(), "callback MinLoss failed in on_epoch_end with KCB_EINVAL (it set no message)");
  o = quiet_fit(3, 8, cbs, 1);
  assert_int_equal(kcb_model_fit(f.model, f.x, f.y, &o, NULL), KCB_EINVAL);
  assert_string_equal(kcb_error_last(), "callback #1 (no ops.name) failed in on_epoch_end with KCB_EINVAL (it set no message)");
  kcb_callback *loud_cbs[1] = {&c};
  o = quiet_fit(3, 8, loud_cbs, 1);
  assert_int_equal(kcb_model_fit(f.model, f.x, f.y, &o, NULL), KCB_EIO);
  assert_string_equal(kcb_error_last(), "MinLoss: cannot write best.txt");
  /* the message an earlier callback left while succeeding is not blamed for a later one's failure */
  static const kcb_callback_ops handled = {.name = "Handled", .on_epoch_end = leave_message};
  kcb_callback d = {.ops = &handled};
  kcb_callback *both[2] = {&d, &a};
  o = quiet_fit(3, 8, both, 2);
  assert_int_equal(kcb_model_fit(f.model, f.x, f.y, &o, NULL), KCB_EINVAL);
  assert_string_equal(kcb_error_last(), "callback MinLoss failed in on_epoch_end with KCB_EINVAL (it set no message)");
  /* a positive value is no KCB_E* code: fit fails with KCB_ECALLBACK and says what came back */
  static const kcb_callback_ops positive = {.name = "Five", .on_epoch_end = return_five};
  kcb_callback e = {.ops = &positive};
  kcb_callback *five[1] = {&e};
  o = quiet_fit(3, 8, five, 1);
  assert_int_equal(kcb_model_fit(f.model, f.x, f.y, &o, NULL), KCB_ECALLBACK);
  assert_string_equal(kcb_error_last(), "callback Five failed in on_epoch_end: it returned 5 (hooks return 0 or a negative KCB_E* code)");
  free_fixture(&f);
}

/* validation_freq (one-based), initial_epoch, and steps_per_epoch carrying a pass across epochs. */
static void test_validation_freq_initial_epoch_steps(void **state) {
  (void)state;
  fixture f = make_fixture(10, 0.01);
  recorder *r = recorder_new();
  kcb_callback *cbs[1] = {&r->base};
  kcb_fit_options o = quiet_fit(4, 2, cbs, 1);
  o.initial_epoch = 1;
  o.validation_split = 0.2;
  o.validation_freq = 2;
  kcb_history *h;
  assert_ok(kcb_model_fit(f.model, f.x, f.y, &o, &h));
  /* epochs 1, 2, 3 ran; validation after the 2nd and 4th (one-based), i.e. indices 1 and 3 */
  assert_int_equal(kcb_history_epochs(h), 3);
  assert_int_equal(kcb_history_epoch(h, 0), 1);
  const double *v;
  size_t n;
  assert_ok(kcb_history_values(h, "val_loss", &v, &n));
  assert_int_equal(n, 2);
  assert_ok(kcb_history_values(h, "loss", &v, &n));
  assert_int_equal(n, 3);
  kcb_history_free(h);

  /* 8 training samples in batches of 3 = 3 batches a pass; 2 steps per epoch: 2, 1 (the pass
   * runs out), then a new pass: 2 */
  recorder *r2 = recorder_new();
  cbs[0] = &r2->base;
  kcb_fit_options s = quiet_fit(3, 3, cbs, 1);
  s.steps_per_epoch = 2;
  s.validation_split = 0.2;
  assert_ok(kcb_model_fit(f.model, f.x, f.y, &s, NULL));
  assert_int_equal(r2->params_at_begin.steps, 2);
  assert_int_equal(r2->batches_in_epoch[0], 2);
  assert_int_equal(r2->batches_in_epoch[1], 1);
  assert_int_equal(r2->batches_in_epoch[2], 2);
  free(r);
  free(r2);
  free_fixture(&f);
}

/* One logs object per hook, shared along the list: a key one callback adds is seen by those
 * after it (History), but does not leak into the next hook's logs. */
static void test_logs_mutation_is_per_hook(void **state) {
  (void)state;
  fixture f = make_fixture(8, 0.01);
  recorder *first = recorder_new(), *second = recorder_new();
  first->add_key_at_epoch_end = 1;
  kcb_callback *cbs[2] = {&first->base, &second->base};
  kcb_fit_options o = quiet_fit(1, 8, cbs, 2);
  kcb_history *h;
  assert_ok(kcb_model_fit(f.model, f.x, f.y, &o, &h));
  /* Keras sorts the dict a hook gets; a key a callback adds comes after the sorted ones. */
  assert_string_equal(second->events[second->n - 2], "on_epoch_end 0 ['accuracy', 'loss', 'learning_rate']");
  assert_string_equal(second->events[second->n - 1], "on_train_end ['accuracy', 'loss']");
  double lr;
  assert_true(kcb_history_last(h, "learning_rate", &lr));
  assert_float_equal(lr, 0.01, 1e-9);
  kcb_history_free(h);
  free(first);
  free(second);
  free_fixture(&f);
}

static int lambda_calls;
static int count_epoch_end(kcb_callback *cb, int epoch, kcb_logs *logs) {
  (void)logs;
  lambda_calls += 1 + epoch * 10;
  assert_ptr_equal(cb->user_data, &lambda_calls);
  return kcb_model_set_learning_rate(cb->model, 0.5);
}

static void test_lambda_callback_and_model_access(void **state) {
  (void)state;
  fixture f = make_fixture(8, 0.01);
  kcb_callback_ops ops = {0};
  ops.on_epoch_end = count_epoch_end;
  kcb_callback *cb;
  assert_ok(kcb_lambda_callback_new(&cb, &ops, &lambda_calls));
  kcb_fit_options o = quiet_fit(2, 32, &cb, 1);
  lambda_calls = 0;
  assert_ok(kcb_model_fit(f.model, f.x, f.y, &o, NULL));
  assert_int_equal(lambda_calls, 1 + 11);
  assert_float_equal(kcb_model_learning_rate(f.model), 0.5, 0);
  assert_error(kcb_model_set_learning_rate(f.model, -1), KCB_EINVAL, "learning rate");
  kcb_callback_free(cb);
  free_fixture(&f);
}

static int empty_hook(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  (void)cb, (void)batch, (void)logs;
  return 0;
}

static void test_callback_list_direct(void **state) {
  (void)state;
  kcb_callback_list list;
  memset(&list, 0, sizeof list);
  kcb_callback_ops ops = {0};
  ops.on_train_batch_end = empty_hook;
  kcb_callback cb = {&ops, NULL, NULL, NULL, 0};
  for (int i = 0; i < KCB_CALLBACK_LIST_MAX; i++) assert_ok(kcb_callback_list_add(&list, &cb));
  assert_error(kcb_callback_list_add(&list, &cb), KCB_ENOMEM, "too many callbacks");
  assert_error(kcb_callback_list_add(&list, NULL), KCB_EINVAL, "callback 32 is NULL");
  kcb_logs logs;
  kcb_logs_clear(&logs);
  assert_ok(kcb_callback_list_call(&list, KCB_HOOK_TRAIN_BATCH_END, 3, &logs));
  assert_ok(kcb_callback_list_call(&list, KCB_HOOK_TEST_END, 0, &logs)); /* NULL slots are skipped */
  assert_string_equal(kcb_hook_name(KCB_HOOK_PREDICT_BATCH_END), "on_predict_batch_end");
}

static int stop_predicting_at_once(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  (void)batch, (void)logs;
  kcb_model_set_stop_predicting(cb->model, 1);
  return 0;
}

/* A predict stopped after its first batch returns that batch's rows, as Keras concatenates the
 * outputs it has, not zero rows for the rest. */
static void test_predict_stopped_returns_rows_done(void **state) {
  (void)state;
  kcb_model *m = test_compiled_model(4, "3:softmax", 1, KCB_OPT_SGD, KCB_DEFAULT, KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
                                     KCB_METRIC_COUNT);
  int64_t xs[2] = {10, 4};
  kcb_tensor *x, *y = NULL;
  assert_ok(kcb_tensor_new(&x, 2, xs));
  for (int i = 0; i < 40; i++) x->data[i] = (float)i / 40;
  kcb_callback_ops ops = {0};
  ops.on_predict_batch_end = stop_predicting_at_once;
  kcb_callback cb = {&ops, NULL, NULL, NULL, 0};
  kcb_callback *cbs[1] = {&cb};
  kcb_evaluate_options o = KCB_EVALUATE_OPTIONS_INIT;
  o.batch_size = 4, o.verbose = 0, o.callbacks = cbs, o.n_callbacks = 1;
  assert_ok(kcb_model_predict(m, x, &o, &y));
  assert_int_equal(y->shape[0], 4);
  assert_int_equal(y->shape[1], 3);
  kcb_tensor_free(y);
  kcb_tensor_free(x);
  kcb_model_free(m);
}

/* fit adds History (and, when verbose, a progress bar) to a list of KCB_CALLBACK_LIST_MAX: a
 * caller's callbacks that leave no room are refused naming how many fit. */
static void test_fit_callback_room(void **state) {
  (void)state;
  fixture f = make_fixture(10, 0.0);
  kcb_callback_ops ops = {0};
  ops.on_train_batch_end = empty_hook;
  kcb_callback cb = {&ops, NULL, NULL, NULL, 0};
  kcb_callback *cbs[KCB_CALLBACK_LIST_MAX];
  for (int i = 0; i < KCB_CALLBACK_LIST_MAX; i++) cbs[i] = &cb;
  kcb_fit_options o = quiet_fit(1, 4, cbs, KCB_CALLBACK_LIST_MAX);
  kcb_history *h = NULL;
  assert_error(kcb_model_fit(f.model, f.x, f.y, &o, &h), KCB_EINVAL, "give at most 31");
  o.n_callbacks = KCB_CALLBACK_LIST_MAX - 1;
  assert_ok(kcb_model_fit(f.model, f.x, f.y, &o, &h));
  kcb_history_free(h);
  free_fixture(&f);
}

/* A custom loop calling hooks with NULL logs (Keras's None, which its CallbackList makes {}): the
 * built-in callbacks get empty logs, as in Keras, and none crashes. */
static void test_callback_list_null_logs(void **state) {
  (void)state;
  char path[] = "/tmp/kcb_null_logs_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  kcb_callback *csv = NULL, *es = NULL;
  assert_ok(kcb_csv_logger_new(&csv, path, NULL));
  kcb_early_stopping_options eo = KCB_EARLY_STOPPING_OPTIONS_INIT;
  eo.stream = fopen("/dev/null", "w");
  assert_ok(kcb_early_stopping_new(&es, &eo));
  kcb_callback_list list;
  memset(&list, 0, sizeof list);
  assert_ok(kcb_callback_list_add(&list, csv));
  assert_ok(kcb_callback_list_add(&list, es));
  assert_ok(kcb_callback_list_call(&list, KCB_HOOK_TRAIN_BEGIN, 0, NULL));
  assert_ok(kcb_callback_list_call(&list, KCB_HOOK_EPOCH_BEGIN, 0, NULL));
  assert_ok(kcb_callback_list_call(&list, KCB_HOOK_EPOCH_END, 0, NULL));
  assert_ok(kcb_callback_list_call(&list, KCB_HOOK_TRAIN_END, 0, NULL));
  char *text = NULL;
  size_t len = 0;
  assert_ok(kcb_file_read(path, 0, &text, &len));
  assert_string_equal(text, "epoch\r\n0\r\n"); /* Keras's CSVLogger on an epoch with no logs */
  free(text);
  kcb_callback_free(csv);
  kcb_callback_free(es);
  fclose(eo.stream);
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_callback_list_null_logs),
      cmocka_unit_test(test_fit_callback_room),
      cmocka_unit_test(test_predict_stopped_returns_rows_done),
      cmocka_unit_test(test_fit_hook_sequence),
      cmocka_unit_test(test_batch_logs_are_running_means),
      cmocka_unit_test(test_evaluate_and_predict_hooks),
      cmocka_unit_test(test_stop_training),
      cmocka_unit_test(test_hook_error_names_the_callback),
      cmocka_unit_test(test_request_stop),
      cmocka_unit_test(test_hook_error_propagates),
      cmocka_unit_test(test_validation_freq_initial_epoch_steps),
      cmocka_unit_test(test_logs_mutation_is_per_hook),
      cmocka_unit_test(test_lambda_callback_and_model_access),
      cmocka_unit_test(test_callback_list_direct),
      cmocka_unit_test(test_printing_ignores_lc_numeric),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
