/* test_csv.c — CSVLogger's files byte for byte against files written the way Keras writes them
 * (tests/data/builtin_callbacks/make_expected.py: Python's csv.DictWriter), its header and column
 * rules in real fits, and the CSV reader (values back exactly, clear errors). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_helpers.h"
#include "io/csv.h"

static char tmpdir[64];

static int setup(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/kcb-test-csv-XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

static const char *tmp_path(const char *name) {
  static char path[2][256];
  static int which;
  which ^= 1;
  snprintf(path[which], sizeof path[which], "%s/%s", tmpdir, name);
  return path[which];
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s", path);
  char *buf = calloc(1, 1 << 16);
  *len = fread(buf, 1, (1 << 16) - 1, f);
  fclose(f);
  return buf;
}

static void assert_same_file(const char *got, const char *expected_name) {
  char expected[512];
  snprintf(expected, sizeof expected, "%s/%s", KCB_TEST_DATA, expected_name);
  size_t n1, n2;
  char *a = slurp(got, &n1), *b = slurp(expected, &n2);
  if (n1 != n2 || memcmp(a, b, n1) != 0) fail_msg("%s differs from %s:\n--- got\n%s--- expected\n%s", got, expected, a, b);
  free(a);
  free(b);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* Drives a CSVLogger through train begin, the epochs' logs, and train end, as fit does. */
static void run_logger(kcb_callback *cb, kcb_model *m, const kcb_logs *epochs, int n) {
  kcb_callback_list list = {0};
  assert_ok(kcb_callback_list_add(&list, cb));
  cb->model = m;
  kcb_logs logs;
  kcb_logs_clear(&logs);
  assert_ok(kcb_callback_list_call(&list, KCB_HOOK_TRAIN_BEGIN, 0, &logs));
  for (int e = 0; e < n; e++) {
    kcb_logs_copy(&logs, &epochs[e]);
    assert_ok(kcb_callback_list_call(&list, KCB_HOOK_EPOCH_END, e, &logs));
  }
  assert_ok(kcb_callback_list_call(&list, KCB_HOOK_TRAIN_END, 0, &logs));
}

/* The logs of make_expected.py's BASIC. */
static void basic_logs(kcb_logs e[3]) {
  for (int i = 0; i < 3; i++) kcb_logs_clear(&e[i]);
  assert_ok(kcb_logs_set(&e[0], "accuracy", 0.5));
  assert_ok(kcb_logs_set(&e[0], "loss", 1.0 / 3.0));
  assert_ok(kcb_logs_set(&e[0], "val_accuracy", 0.1));
  assert_ok(kcb_logs_set(&e[0], "val_loss", (double)0.1f));
  assert_ok(kcb_logs_set(&e[1], "accuracy", 1e-07));
  assert_ok(kcb_logs_set(&e[1], "loss", NAN));
  assert_ok(kcb_logs_set(&e[1], "val_loss", INFINITY));
  assert_ok(kcb_logs_set(&e[1], "zzz", 1.0)); /* appears after the keys froze: dropped */
  assert_ok(kcb_logs_set(&e[2], "accuracy", 123456789.0));
  assert_ok(kcb_logs_set(&e[2], "loss", 2.5e16));
  assert_ok(kcb_logs_set(&e[2], "val_accuracy", -0.0));
  assert_ok(kcb_logs_set(&e[2], "val_loss", 0.001));
}

static void test_format_append_and_separator(void **state) {
  (void)state;
  kcb_logs e[3];
  basic_logs(e);
  kcb_callback *cb;
  const char *path = tmp_path("basic.csv");
  write_file(path, "old content that a non-append run truncates\n");
  assert_ok(kcb_csv_logger_new(&cb, path, NULL));
  run_logger(cb, NULL, e, 3);
  assert_same_file(path, "basic.csv");
  kcb_callback_free(cb);

  /* append to a non-empty file: no second header */
  kcb_csv_logger_options o = KCB_CSV_LOGGER_OPTIONS_INIT;
  o.append = 1;
  assert_ok(kcb_csv_logger_new(&cb, path, &o));
  run_logger(cb, NULL, e, 2);
  assert_same_file(path, "append.csv");
  kcb_callback_free(cb);

  /* append to an empty file, and to a missing one: the header is written */
  const char *empty = tmp_path("empty.csv"), *missing = tmp_path("missing.csv");
  write_file(empty, "");
  assert_ok(kcb_csv_logger_new(&cb, empty, &o));
  run_logger(cb, NULL, e, 3);
  assert_same_file(empty, "basic.csv");
  kcb_callback_free(cb);
  assert_ok(kcb_csv_logger_new(&cb, missing, &o));
  run_logger(cb, NULL, e, 3);
  assert_same_file(missing, "basic.csv");
  /* the same instance again (a second fit) appends without a header */
  run_logger(cb, NULL, e, 2);
  assert_same_file(missing, "append.csv");
  kcb_callback_free(cb);

  /* another separator; names holding it or a quote are quoted as the csv module does */
  kcb_logs s[2];
  kcb_logs_clear(&s[0]);
  kcb_logs_clear(&s[1]);
  assert_ok(kcb_logs_set(&s[0], "a;b", 0.25));
  assert_ok(kcb_logs_set(&s[0], "q\"x", 0.75));
  assert_ok(kcb_logs_set(&s[1], "a;b", -1.5));
  o = (kcb_csv_logger_options)KCB_CSV_LOGGER_OPTIONS_INIT;
  o.separator = ';';
  const char *sep = tmp_path("separator.csv");
  assert_ok(kcb_csv_logger_new(&cb, sep, &o));
  run_logger(cb, NULL, s, 2);
  assert_same_file(sep, "separator.csv");
  kcb_callback_free(cb);

  kcb_csv_table t;
  assert_ok(kcb_csv_table_read(&t, sep, 0)); /* separator detected */
  assert_int_equal(t.separator, ';');
  assert_int_equal(t.n_columns, 3);
  assert_string_equal(t.columns[1], "a;b");
  assert_string_equal(t.columns[2], "q\"x");
  assert_true(kcb_csv_table_value(&t, 1, 1) == -1.5);
  assert_true(isnan(kcb_csv_table_value(&t, 1, 2)));
  kcb_csv_table_free(&t);

  assert_error(kcb_csv_logger_new(&cb, "", NULL), KCB_EINVAL, "filename is empty");
  o.separator = '"';
  assert_error(kcb_csv_logger_new(&cb, "x.csv", &o), KCB_EINVAL, "separator");
}

/* Every value written reads back as the same double (NaN for NA). */
static void test_reader_round_trip(void **state) {
  (void)state;
  kcb_logs e[3];
  basic_logs(e);
  kcb_callback *cb;
  const char *path = tmp_path("round.csv");
  assert_ok(kcb_csv_logger_new(&cb, path, NULL));
  run_logger(cb, NULL, e, 3);
  kcb_callback_free(cb);
  kcb_csv_table t;
  assert_ok(kcb_csv_table_read(&t, path, ','));
  assert_int_equal(t.n_columns, 5);
  assert_int_equal(t.n_rows, 3);
  const char *cols[] = {"epoch", "accuracy", "loss", "val_accuracy", "val_loss"};
  for (int c = 0; c < 5; c++) assert_int_equal(kcb_csv_table_column(&t, cols[c]), c);
  assert_int_equal(kcb_csv_table_column(&t, "zzz"), -1);
  for (int r = 0; r < 3; r++) {
    assert_true(kcb_csv_table_value(&t, (size_t)r, 0) == r);
    for (int c = 1; c < 5; c++) {
      double want = NAN, got = kcb_csv_table_value(&t, (size_t)r, (size_t)c);
      kcb_logs_get(&e[r], cols[c], &want);
      if (!(got == want || (isnan(got) && isnan(want)))) fail_msg("row %d %s: %.17g, expected %.17g", r, cols[c], got, want);
    }
  }
  assert_true(signbit(kcb_csv_table_value(&t, 2, 3))); /* -0.0 */
  kcb_csv_table_free(&t);
  kcb_csv_table_free(NULL);
}

static void test_reader_errors(void **state) {
  (void)state;
  kcb_csv_table t;
  const char *p = tmp_path("bad.csv");
  write_file(p, "epoch,loss\r\n0,0.5\r\n1,0.25,9\r\n");
  assert_error(kcb_csv_table_read(&t, p, 0), KCB_EFORMAT, "bad.csv:3: 3 fields, but the header has 2 columns");
  assert_int_equal(t.n_columns, 0); /* emptied on error */
  write_file(p, "epoch,loss\n0,0.5\n1,abc\n");
  assert_error(kcb_csv_table_read(&t, p, 0), KCB_EFORMAT, "bad.csv:3: column 2 ('loss'): 'abc' is not a number");
  /* C's strtod reads hex floats; Python's float(), and so Keras's and pandas's readers, do not */
  write_file(p, "epoch,loss\n0,0x10\n");
  assert_error(kcb_csv_table_read(&t, p, 0), KCB_EFORMAT, "bad.csv:2: column 2 ('loss'): '0x10' is not a number");
  write_file(p, "epoch,loss\n0,-0X1p3\n");
  assert_error(kcb_csv_table_read(&t, p, 0), KCB_EFORMAT, "'-0X1p3' is not a number");
  /* a long field is quoted only in part: what is wrong with it still ends the message */
  char longline[600] = "epoch,note\n0,";
  memset(longline + strlen(longline), 'x', 500);
  strcat(longline, "\n");
  write_file(p, longline);
  assert_error(kcb_csv_table_read(&t, p, 0), KCB_EFORMAT, "column 2 ('note'): 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' is not a number");
  write_file(p, "epoch,\"loss\n0,0.5\n");
  assert_error(kcb_csv_table_read(&t, p, 0), KCB_EFORMAT, "bad.csv:1: a quoted field is not closed");
  write_file(p, "");
  assert_error(kcb_csv_table_read(&t, p, 0), KCB_EFORMAT, "bad.csv:1: no header row (the file is empty)");
  /* cut inside the header (CSVLogger ends the header's line before any row): not a column named "" */
  write_file(p, "epoch,accuracy,loss,");
  assert_error(kcb_csv_table_read(&t, p, 0), KCB_EFORMAT, "bad.csv:1: the file ends inside its header row");
  write_file(p, "epoch,loss\n");
  assert_int_equal(kcb_csv_table_read(&t, p, 0), 0); /* a header alone, whole: a log of no epoch yet */
  assert_int_equal(t.n_rows, 0);
  kcb_csv_table_free(&t);
  write_file(p, "epoch,loss,loss\n0,0.5,0.4\n");
  assert_error(kcb_csv_table_read(&t, p, 0), KCB_EFORMAT, "bad.csv:1: columns 2 and 3 are both named 'loss'");
  for (int k = 0; k < 4; k++) {
    static const char *const epochs[4] = {"-5", "1.5", "nan", ""};
    char text[64];
    snprintf(text, sizeof text, "epoch,loss\n0,0.5\n%s,0.4\n", epochs[k]);
    write_file(p, text);
    assert_error(kcb_csv_table_read(&t, p, 0), KCB_EFORMAT, "bad.csv:3: epoch ");
  }
  FILE *f = fopen(p, "wb"); /* a NUL byte inside a cell: binary data, not a shorter number */
  assert_non_null(f);
  fwrite("epoch,loss\n0,1.5\0x\n", 1, 20, f);
  fclose(f);
  assert_error(kcb_csv_table_read(&t, p, 0), KCB_EFORMAT, "bad.csv:2: a NUL byte (at offset 16): not a text file");
  write_file(p, "epoch,loss\n0,0.5\n\n1,\n2,NA\n3, 1e-07 \n");
  assert_ok(kcb_csv_table_read(&t, p, 0)); /* empty lines skipped; blank and NA fields are NaN */
  assert_int_equal(t.n_rows, 4);
  assert_true(isnan(kcb_csv_table_value(&t, 1, 1)) && isnan(kcb_csv_table_value(&t, 2, 1)));
  assert_true(kcb_csv_table_value(&t, 3, 1) == 1e-07);
  assert_true(isnan(kcb_csv_table_value(&t, 9, 0)));
  kcb_csv_table_free(&t);
  assert_error(kcb_csv_table_read(&t, tmp_path("nope.csv"), 0), KCB_ENOENT, "nope.csv");
}

/* ---- real fits ------------------------------------------------------------------------------- */

static float xs[128], ys[64];
static kcb_tensor X, Y;

static void make_data(void) {
  for (int i = 0; i < 64; i++) {
    xs[2 * i] = (float)(i % 7) / 7.0f;
    xs[2 * i + 1] = (float)(i % 5) / 5.0f;
    ys[i] = xs[2 * i] > xs[2 * i + 1] ? 1.0f : 0.0f;
  }
  static int64_t xshape[2] = {64, 2}, yshape[2] = {64, 1};
  X = kcb_tensor_view(xs, 2, xshape);
  Y = kcb_tensor_view(ys, 2, yshape);
}

static char *first_line(const char *path, int line) {
  size_t len;
  char *text = slurp(path, &len), *p = text;
  for (int i = 0; i < line && p; i++) p = strstr(p, "\r\n"), p = p ? p + 2 : NULL;
  assert_non_null(p);
  char *end = strstr(p, "\r\n");
  assert_non_null(end);
  *end = '\0';
  char *out = strdup(p);
  free(text);
  return out;
}

static void assert_line(const char *path, int line, const char *want) {
  char *got = first_line(path, line);
  if (strcmp(got, want) != 0) fail_msg("%s line %d is '%s', expected '%s'", path, line + 1, got, want);
  free(got);
}

static double halve(int epoch, double lr, void *data) { return epoch == 0 ? lr : lr / 2; }

static void test_columns_in_real_fits(void **state) {
  (void)state;
  make_data();
  kcb_model *m = test_compiled_model(2, "4:relu,1:sigmoid", 5, KCB_OPT_ADAM, KCB_DEFAULT, KCB_LOSS_BINARY_CROSSENTROPY,
                                     KCB_METRIC_ACCURACY);
  kcb_callback *cbs[2];
  kcb_fit_options fo = KCB_FIT_OPTIONS_INIT;
  fo.verbose = 0;
  fo.epochs = 4;
  fo.batch_size = 16;
  fo.callbacks = cbs;

  /* No validation data: no val_* columns (Keras adds phantom ones full of NA). */
  const char *a = tmp_path("noval.csv");
  assert_ok(kcb_csv_logger_new(&cbs[0], a, NULL));
  fo.n_callbacks = 1;
  assert_ok(kcb_model_fit(m, &X, &Y, &fo, NULL));
  assert_line(a, 0, "epoch,accuracy,loss");
  kcb_csv_table t;
  assert_ok(kcb_csv_table_read(&t, a, ','));
  assert_int_equal(t.n_rows, 4);
  kcb_csv_table_free(&t);
  kcb_callback_free(cbs[0]);

  /* validation_freq 2 with a scheduler before the logger: the val_* columns exist from the start
   * (NA on epochs that skip validation), learning_rate is a column, and no val_learning_rate. */
  const char *b = tmp_path("freq2.csv");
  assert_ok(kcb_lr_scheduler_new(&cbs[0], halve, NULL, NULL));
  assert_ok(kcb_csv_logger_new(&cbs[1], b, NULL));
  fo.n_callbacks = 2;
  fo.validation_split = 0.25;
  fo.validation_freq = 2;
  kcb_history *h;
  assert_ok(kcb_model_fit(m, &X, &Y, &fo, &h));
  assert_line(b, 0, "epoch,accuracy,learning_rate,loss,val_accuracy,val_loss");
  assert_ok(kcb_csv_table_read(&t, b, ','));
  assert_int_equal(t.n_rows, 4);
  const double *vl;
  size_t n;
  assert_ok(kcb_history_values(h, "val_loss", &vl, &n));
  assert_int_equal(n, 2);
  assert_true(isnan(kcb_csv_table_value(&t, 0, 5)) && isnan(kcb_csv_table_value(&t, 2, 5)));
  assert_true(kcb_csv_table_value(&t, 1, 5) == vl[0] && kcb_csv_table_value(&t, 3, 5) == vl[1]);
  assert_true(kcb_csv_table_value(&t, 3, 2) == (double)(0.001f / 2 / 2 / 2));
  char *row0 = first_line(b, 1);
  assert_non_null(strstr(row0, ",NA,NA"));
  free(row0);
  kcb_csv_table_free(&t);
  kcb_history_free(h);
  kcb_callback_free(cbs[0]);
  kcb_callback_free(cbs[1]);

  /* An unwritable path fails fit at train begin: nothing trained, the message names the file. */
  size_t np = kcb_model_param_count(m);
  float *before = malloc(np * sizeof *before), *after = malloc(np * sizeof *after);
  assert_ok(kcb_model_get_weights(m, before, np));
  int64_t it = kcb_model_iterations(m);
  /* (its directory is created as needed, so the path is one no directory can be made for) */
  assert_ok(kcb_csv_logger_new(&cbs[0], "/proc/nonexistent_kcb/log.csv", NULL));
  fo.n_callbacks = 1;
  assert_error(kcb_model_fit(m, &X, &Y, &fo, NULL), KCB_ENOENT, "CSVLogger: cannot create directory /proc/nonexistent_kcb");
  assert_ok(kcb_model_get_weights(m, after, np));
  assert_memory_equal(before, after, np * sizeof *before);
  assert_int_equal(kcb_model_iterations(m), it);
  kcb_callback_free(cbs[0]);
  free(before);
  free(after);
  kcb_model_free(m);
}

/* Arrays in the logs are written as Keras writes them: '"[' + ", ".join(map(str, v)) + ']"', numpy's
 * str of each float32 element. Expected bytes from Python's csv module with numpy float32 values. */
static void test_list_cells(void **state) {
  (void)state;
  const char *path = tmp_path("lists.csv");
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  kcb__csv_row row;
  kcb__csv_row_init(&row, ',');
  const float values[4] = {0.1f, 0.2f, 1e-5f, 3.4028235e38f};
  assert_ok(kcb__csv_row_add_int(&row, 0));
  assert_ok(kcb__csv_row_add_list(&row, values, 4));
  assert_ok(kcb__csv_row_add_list(&row, values, 0));
  assert_ok(kcb__csv_row_write(&row, f, path));
  kcb__csv_row_free(&row);
  fclose(f);
  size_t len = 0;
  char *text = slurp(path, &len);
  assert_string_equal(text, "0,\"\"\"[0.1, 0.2, 1e-05, 3.4028235e+38]\"\"\",\"\"\"[]\"\"\"\r\n");
  free(text);
  /* kcb's own reader takes such a file: a list is no one number, so it reads as NaN */
  const char *logged = tmp_path("logged.csv");
  f = fopen(logged, "wb");
  assert_non_null(f);
  fprintf(f, "epoch,loss,vec\r\n0,0.5,\"\"\"[0.1, 0.2]\"\"\"\r\n1,0.25,[]\r\n");
  fclose(f);
  kcb_csv_table t;
  assert_ok(kcb_csv_table_read(&t, logged, 0));
  assert_int_equal(t.n_rows, 2);
  assert_true(isnan(kcb_csv_table_value(&t, 0, 2)));
  assert_true(isnan(kcb_csv_table_value(&t, 1, 2)));
  assert_true(kcb_csv_table_value(&t, 1, 1) == 0.25);
  kcb_csv_table_free(&t);
}

/* fit on the shared data, batches of 16, silent. */
static int fit_quietly(kcb_model *m, kcb_callback **cbs, size_t n_cbs, int epochs) {
  kcb_fit_options fo = KCB_FIT_OPTIONS_INIT;
  fo.verbose = 0;
  fo.epochs = epochs;
  fo.batch_size = 16;
  fo.callbacks = cbs;
  fo.n_callbacks = n_cbs;
  return kcb_model_fit(m, &X, &Y, &fo, NULL);
}

/* After the first row, the log at the name goes: removed, or replaced as an editor saves it. */
static int pull_log_away(kcb_callback *cb, int epoch, kcb_logs *logs) {
  (void)logs;
  const char *path = cb->user_data;
  if (epoch != 0) return 0;
  if (strstr(path, "deleted")) return unlink(path) == 0 ? 0 : KCB_EIO;
  char copy[300];
  snprintf(copy, sizeof copy, "%s.saved", path);
  FILE *f = fopen(copy, "wb");
  if (!f) return KCB_EIO;
  fclose(f);
  return rename(copy, path) == 0 ? 0 : KCB_EIO;
}

/* Rows written into a file nobody will read again are lost rows: the run is told after the row
 * that went there, as the event writer tells it of a deleted event file. */
static void test_log_pulled_away(void **state) {
  (void)state;
  make_data();
  kcb_model *m = test_compiled_model(2, "4:relu,1:sigmoid", 5, KCB_OPT_ADAM, KCB_DEFAULT, KCB_LOSS_BINARY_CROSSENTROPY,
                                     KCB_METRIC_ACCURACY);
  const char *const cases[2][2] = {{"deleted.csv", "was deleted while the run wrote it"},
                                   {"replaced.csv", "is no longer the file the run writes"}};
  for (int k = 0; k < 2; k++) {
    char path[256];
    snprintf(path, sizeof path, "%s", tmp_path(cases[k][0]));
    kcb_callback *cbs[2];
    assert_ok(kcb_csv_logger_new(&cbs[0], path, NULL));
    kcb_callback_ops ops = {.on_epoch_end = pull_log_away};
    assert_ok(kcb_lambda_callback_new(&cbs[1], &ops, path));
    assert_error(fit_quietly(m, cbs, 2, 3), KCB_ENOENT, cases[k][1]);
    kcb_callback_free(cbs[0]);
    kcb_callback_free(cbs[1]);
    unlink(path);
  }
  kcb_model_free(m);
}

/* Tensor values a callback puts into the epoch's logs (borrowed: they live as long as the fit). */
static float one_value[1] = {0.1f}, two_values[2] = {0.5f, 0.25f};
static kcb_tensor one_tensor = {.data = one_value, .rank = 1, .shape = {1}};
static kcb_tensor two_tensor = {.data = two_values, .rank = 1, .shape = {2}};

static int add_tensors(kcb_callback *cb, int epoch, kcb_logs *logs) {
  (void)cb, (void)epoch;
  int rc = kcb_logs_set_tensor(logs, "one", &one_tensor);
  return rc ? rc : kcb_logs_set_tensor(logs, "two", &two_tensor);
}

/* A one-value tensor is its number in the log, as Keras's pythonify_logs makes it a float; a longer
 * one is the list Keras's CSVLogger quotes. */
static void test_tensor_cells(void **state) {
  (void)state;
  make_data();
  kcb_model *m = test_compiled_model(2, "4:relu,1:sigmoid", 5, KCB_OPT_ADAM, KCB_DEFAULT, KCB_LOSS_BINARY_CROSSENTROPY,
                                     KCB_METRIC_COUNT);
  const char *path = tmp_path("tensors.csv");
  kcb_callback *cbs[2];
  kcb_callback_ops ops = {.on_epoch_end = add_tensors};
  assert_ok(kcb_lambda_callback_new(&cbs[0], &ops, NULL));
  assert_ok(kcb_csv_logger_new(&cbs[1], path, NULL));
  assert_ok(fit_quietly(m, cbs, 2, 1));
  assert_line(path, 0, "epoch,loss,one,two");
  size_t len;
  char *text = slurp(path, &len);
  if (!strstr(text, ",0.10000000149011612,\"\"\"[0.5, 0.25]\"\"\"\r\n")) fail_msg("log: %s", text);
  free(text);
  kcb_callback_free(cbs[0]);
  kcb_callback_free(cbs[1]);
  kcb_model_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tensor_cells),
      cmocka_unit_test(test_log_pulled_away),
      cmocka_unit_test(test_format_append_and_separator),
      cmocka_unit_test(test_reader_round_trip),
      cmocka_unit_test(test_list_cells),
      cmocka_unit_test(test_reader_errors),
      cmocka_unit_test(test_columns_in_real_fits),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
