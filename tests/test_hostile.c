/* test_hostile.c — issue 15's hostile inputs at the library level: files that are not regular,
 * protobuf nesting bounded before protobuf-c recurses, and the other classes' library checks
 * (the CLI side is tests/cli/hostile.sh). */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event.pb-c.h"
#include "internal.h"
#include "io/tfevents/pb_depth.h"
#include "model/bounds.h"
#include "plugins.pb-c.h"
#include "test_helpers.h"

static char tmpdir[64];

static void fifo_refused_without_blocking(void **state) {
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/fifo", tmpdir);
  assert_int_equal(mkfifo(path, 0600), 0);
  int fd = 7;
  assert_error(kcb__file_open_read(path, "CSV", &fd), KCB_EINVAL, "CSV: ");
  assert_non_null(strstr(kcb_error_last(), "a FIFO, not a regular file"));
  assert_int_equal(fd, -1);
  char *text = NULL;
  size_t len = 0;
  assert_error(kcb_file_read(path, 0, &text, &len), KCB_EINVAL, "fifo: cannot open: a FIFO");
  assert_null(text);
  assert_error(kcb_file_read(tmpdir, 0, &text, &len), KCB_EINVAL, "a directory, not a regular file");
  assert_error(kcb_file_read("/dev/null", 0, &text, &len), KCB_EINVAL, "a character device");
  assert_error(kcb_file_read("/nonexistent-kcb", 0, &text, &len), KCB_ENOENT, "/nonexistent-kcb: cannot open");
  /* the directory that cannot be made is the message's subject, said once */
  char under_fifo[4200];
  snprintf(under_fifo, sizeof under_fifo, "%s/sub/.", path);
  assert_int_equal(kcb_file_make_parent_dirs(under_fifo), KCB_EIO);
  char want[4300];
  snprintf(want, sizeof want, "%s exists and is not a directory", path);
  assert_string_equal(kcb_error_last(), want);
  unlink(path);
  /* a file's path ending in '/' (a typo of a directory's) makes no directory named as the file */
  char slashed[4200];
  snprintf(slashed, sizeof slashed, "%s/out/log.csv/", tmpdir);
  assert_error(kcb__mkdirs_for(slashed, "CSVLogger"), KCB_EINVAL, "CSVLogger: '");
  assert_non_null(strstr(kcb_error_last(), "log.csv/' ends with '/', as a directory's name does"));
  snprintf(slashed, sizeof slashed, "%s/out", tmpdir);
  assert_int_equal(access(slashed, F_OK), -1);
}

static void file_read_bounds_size(void **state) {
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/ten", tmpdir);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fputs("0123456789", f);
  fclose(f);
  char *text = NULL;
  size_t len = 0;
  assert_ok(kcb_file_read(path, 10, &text, &len));
  assert_int_equal(len, 10);
  assert_string_equal(text, "0123456789");
  free(text);
  assert_error(kcb_file_read(path, 9, &text, &len), KCB_EINVAL, "too large");
  assert_null(text);
  unlink(path);
}

/* kcb_file_write_atomic replaces the file whole and leaves no temporary file; a failed write keeps
 * the previous file; kcb_file_remove_stale_temps removes only the temporaries of that one file. */
static void file_write_atomic_and_stale_temps(void **state) {
  (void)state;
  char path[128], other[128], temp[160], foreign[160];
  snprintf(path, sizeof path, "%s/record.txt", tmpdir);
  snprintf(other, sizeof other, "%s/record.txt.bak", tmpdir);
  assert_ok(kcb_file_write_atomic(path, "first", 5));
  assert_ok(kcb_file_write_atomic(path, "second", 6));
  char *text = NULL;
  size_t len = 0;
  assert_ok(kcb_file_read(path, 0, &text, &len));
  assert_string_equal(text, "second");
  free(text);
  char missing[160];
  snprintf(missing, sizeof missing, "%s/no-such-dir/record.txt", tmpdir);
  assert_error(kcb_file_write_atomic(missing, "x", 1), KCB_ENOENT, "no-such-dir/record.txt: cannot save: ");
  assert_error(kcb_file_write_atomic(NULL, "x", 1), KCB_EINVAL, "NULL argument");
  /* two temporaries of killed writes, and files that only look alike */
  snprintf(temp, sizeof temp, "%s/.record.txt.tmp-123-0", tmpdir);
  snprintf(foreign, sizeof foreign, "%s/record.txt.tmp-9", tmpdir);
  char keep1[160], keep2[160];
  snprintf(keep1, sizeof keep1, "%s/.record.txt2.tmp-1-1", tmpdir);
  snprintf(keep2, sizeof keep2, "%s/record.txt.tmpfile", tmpdir);
  const char *made[] = {temp, foreign, keep1, keep2, other};
  for (size_t i = 0; i < sizeof made / sizeof *made; i++) {
    FILE *f = fopen(made[i], "wb");
    assert_non_null(f);
    fclose(f);
  }
  kcb_file_remove_stale_temps(path);
  assert_int_equal(access(temp, F_OK), -1);
  assert_int_equal(access(foreign, F_OK), -1);
  assert_int_equal(access(path, F_OK), 0);
  for (size_t i = 2; i < sizeof made / sizeof *made; i++) {
    assert_int_equal(access(made[i], F_OK), 0);
    unlink(made[i]);
  }
  unlink(path);
}

/* protobuf-c recurses once per nested message: only a recursive schema can be nested without end,
 * and the Event schema is not one, so only hparams plugin data needs the depth check. */
static void schemas(void **state) {
  (void)state;
  int d = kcb__pb_schema_depth(&kcbpb__event__descriptor, 64);
  assert_true(d > 0 && d < 16);
  assert_int_equal(kcb__pb_schema_depth(&kcbpb__hparams_plugin_data__descriptor, 64), -1);
}

/* ListValue{values: Value{list_value: ListValue{...}}}: pairs of nestings around a number. */
static uint8_t *nested_list(size_t pairs, size_t *len) {
  size_t levels = 2 * pairs, *lens = malloc((levels + 1) * sizeof *lens);
  lens[0] = 9; /* Value{number_value} */
  for (size_t i = 1; i <= levels; i++) {
    size_t v = lens[i - 1], n = 1;
    while (v >= 0x80) v >>= 7, n++;
    lens[i] = 1 + n + lens[i - 1];
  }
  uint8_t *out = malloc(lens[levels] + 16), *p = out;
  for (size_t j = 0; j < levels; j++) {
    *p++ = (j & 1) ? 0x32 : 0x0a; /* ListValue.values = 1, Value.list_value = 6 */
    size_t v = lens[levels - j - 1];
    while (v >= 0x80) *p++ = (uint8_t)(v | 0x80), v >>= 7;
    *p++ = (uint8_t)v;
  }
  *p++ = 0x11; /* number_value = 2, fixed64 */
  memset(p, 0, 8);
  p += 8;
  *len = (size_t)(p - out);
  free(lens);
  return out;
}

static void depth_bound(void **state) {
  (void)state;
  const ProtobufCMessageDescriptor *lv = &kcbpb__protobuf__list_value__descriptor;
  size_t len;
  uint8_t *ok = nested_list(49, &len); /* 98 nested messages + the top */
  assert_int_equal(kcb__pb_depth_ok(lv, ok, len, 99), 1);
  assert_int_equal(kcb__pb_depth_ok(lv, ok, len, 98), 0);
  ProtobufCMessage *m = protobuf_c_message_unpack(lv, NULL, len, ok);
  assert_non_null(m); /* the bytes are valid: the check measures, it does not misparse */
  protobuf_c_message_free_unpacked(m, NULL);
  free(ok);
  uint8_t *deep = nested_list(100000, &len);
  assert_int_equal(kcb__pb_depth_ok(lv, deep, len, KCB__PB_MAX_DEPTH), 0);
  free(deep);
  /* cut bytes end the scan without a verdict of depth: protobuf-c rejects them itself */
  const uint8_t cut[] = {0x0a, 0x7f, 0x32};
  assert_int_equal(kcb__pb_depth_ok(lv, cut, sizeof cut, 2), 1);
}

/* Sizes from files and flags: overflow-safe, bounded by kcb_max_params, "too large" in words. */
static void absurd_sizes(void **state) {
  (void)state;
  kcb_model *m = NULL;
  int64_t big[2] = {100000, 100000}, wrap[2] = {(int64_t)1 << 32, (int64_t)1 << 32}, ok[2] = {28, 28};
  assert_error(kcb_model_new(&m, 2, big, 1), KCB_EINVAL, "input shape (100000, 100000) is too large: 10000000000 values");
  assert_error(kcb_model_new(&m, 2, wrap, 1), KCB_EINVAL, "is too large: its number of values overflows");
  assert_null(m);
  assert_ok(kcb_model_new(&m, 2, ok, 1));
  assert_error(kcb_model_add_from_spec(m, "flatten,100000:relu,100000:relu,10"), KCB_EINVAL,
               "(Dense, 100000 x 100000): the model is too large: 10078600000 parameters, more than the limit of 100000000");
  kcb_model_free(m);
  /* the bound is overridable: exactly at the limit passes, one more parameter fails */
  kcb_set_max_params(784 * 10 + 10);
  assert_int_equal(kcb_max_params(), 7850);
  assert_ok(kcb_model_new(&m, 2, ok, 1));
  assert_ok(kcb_model_add_from_spec(m, "flatten,10"));
  kcb_model_free(m);
  assert_ok(kcb_model_new(&m, 2, ok, 1));
  assert_error(kcb_model_add_from_spec(m, "flatten,10,1"), KCB_EINVAL, "7861 parameters, more than the limit of 7850");
  kcb_model_free(m);
  kcb_set_max_params(0);
  assert_int_equal(kcb_max_params(), KCB_DEFAULT_MAX_PARAMS);
  /* KCB_MAX_PARAMS: digits only, above 0, no wrap-around */
  static const struct { const char *value; uint64_t want; } env[] = {
      {"5000", 5000}, {"", 0}, {"18446744073709551615", UINT64_MAX}, {"18446744073709551616", 1}, {"-5", 1},
      {"+5", 1}, {" 5", 1}, {"5 ", 1}, {"1e9", 1}, {"0", 1}, {"0x10", 1}, {"abc", 1}};
  for (size_t i = 0; i < sizeof env / sizeof env[0]; i++) {
    uint64_t got = 7;
    setenv("KCB_MAX_PARAMS", env[i].value, 1);
    int rc = kcb_max_params_from_env(&got);
    if (env[i].want == 1) { /* refused, quoting the value */
      assert_int_equal(rc, KCB_EINVAL);
      assert_non_null(strstr(kcb_error_last(), env[i].value));
      assert_int_equal(got, 0);
    } else {
      assert_int_equal(rc, 0);
      assert_true(got == env[i].want);
    }
  }
  unsetenv("KCB_MAX_PARAMS");
}

static void restored_scalars(void **state) {
  (void)state;
  assert_ok(kcb__check_restored_optimizer(0, 0.001, "f.h5"));
  assert_ok(kcb__check_restored_optimizer((int64_t)1 << 53, 0, "f.h5"));
  assert_error(kcb__check_restored_optimizer(-5, 0.001, "f.h5"), KCB_EINVAL, "f.h5: optimizer variable 'iterations' is -5");
  assert_error(kcb__check_restored_optimizer(INT64_MAX, 0.001, "f.h5"), KCB_EINVAL, "'iterations' is 9223372036854775807");
  assert_error(kcb__check_restored_optimizer(1, NAN, "f.h5"), KCB_EINVAL, "f.h5: optimizer variable 'learning_rate' is nan");
  assert_error(kcb__check_restored_optimizer(1, -1e30, "f.h5"), KCB_EINVAL, "'learning_rate' is -1e+30");
  assert_error(kcb__check_restored_optimizer(1, INFINITY, "f.h5"), KCB_EINVAL, "'learning_rate' is inf");
  float slots[2 * 3] = {0.5f, -0.5f, 0, 1, 2, 3}; /* Adam: m may be negative, v not */
  assert_ok(kcb__check_restored_slots(KCB_OPT_ADAM, slots, 2, 3, "f.h5"));
  slots[4] = -2;
  assert_error(kcb__check_restored_slots(KCB_OPT_ADAM, slots, 2, 3, "f.h5"), KCB_EINVAL,
               "f.h5: optimizer state 'v' (slot 1) holds -2 at index 1: expected a finite number >= 0");
  slots[4] = 2;
  slots[0] = INFINITY;
  assert_error(kcb__check_restored_slots(KCB_OPT_SGD, slots, 1, 3, "f.h5"), KCB_EINVAL, "holds inf at index 0");
  kcb_checkpoint_info info;
  memset(&info, 0, sizeof info);
  info.epoch = INT64_MAX;
  info.batch = info.iterations = -1;
  assert_error(kcb__check_restored_info(&info, "f.h5"), KCB_EINVAL, "f.h5: attribute 'kcb_epoch' is 9223372036854775807");
  info.epoch = 3;
  assert_ok(kcb__check_restored_info(&info, "f.h5"));
}

static void escapes(void **state) {
  (void)state;
  char out[128];
  const char in[] = "a\x1b]0;t\x07\x1b[2J\x9b\xc2\x9b\0after\nl2\t\xc3\xa9\\";
  size_t n = sizeof in - 1;
  size_t need = kcb_text_escape(out, sizeof out, in, n, 0);
  assert_int_equal(need, strlen(out));
  assert_string_equal(out, "a\\x1b]0;t\\x07\\x1b[2J\\x9b\\xc2\\x9b\\x00after\\x0al2\\x09\xc3\xa9\\");
  kcb_text_escape(out, sizeof out, in, n, KCB_ESCAPE_KEEP_NEWLINES);
  assert_non_null(strstr(out, "\\x00after\nl2\t\xc3\xa9"));
  /* cut at a whole escape, always terminated, the needed length still counted */
  assert_int_equal(kcb_text_escape(out, 4, "\x1b\x1b", 2, 0), 8);
  assert_string_equal(out, "");
  assert_int_equal(kcb_text_escape(out, 6, "\x1b\x1b", 2, 0), 8);
  assert_string_equal(out, "\\x1b");
  /* a right-to-left override (U+202E) and isolate (U+2067) would reverse what follows on the line;
   * other text of those blocks (U+2020, a dagger) is kept */
  const char bidi[] = "a\xe2\x80\xae" "b\xe2\x81\xa7" "c\xe2\x80\xa0";
  kcb_text_escape(out, sizeof out, bidi, sizeof bidi - 1, 0);
  assert_string_equal(out, "a\\xe2\\x80\\xaeb\\xe2\\x81\\xa7c\xe2\x80\xa0");
}

static kcb_model *small_compiled(void) {
  return test_compiled_model(4, "3:softmax", 7, KCB_OPT_SGD, KCB_DEFAULT, KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
                             KCB_METRIC_COUNT);
}

/* kcb_tensor is a public struct: a view with a negative dimension, or a rank past KCB_MAX_RANK
 * filled in by hand, is refused by name before anything reads the data */
static void tensors_of_bad_shape(void **state) {
  (void)state;
  kcb_model *m = small_compiled();
  static float xd[64 * 4], yd[64];
  int64_t sx[2] = {-64, 4}, sy[1] = {-64};
  kcb_tensor x = kcb_tensor_view(xd, 2, sx), y = kcb_tensor_view(yd, 1, sy);
  kcb_fit_options f = KCB_FIT_OPTIONS_INIT;
  f.verbose = 0;
  assert_error(kcb_model_fit(m, &x, &y, &f, NULL), KCB_ESHAPE, "fit: x's dimension 0 is negative (-64)");
  assert_error(kcb_model_evaluate(m, &x, &y, NULL, NULL), KCB_ESHAPE, "x's dimension 0 is negative");
  kcb_tensor *out = NULL;
  assert_error(kcb_model_predict(m, &x, NULL, &out), KCB_ESHAPE, "x's dimension 0 is negative");
  assert_error(kcb_model_predict_layer(m, &x, 0, 8, &out), KCB_ESHAPE, "predict_layer: x's dimension 0 is negative");
  assert_null(out);
  sx[0] = 64;
  x = kcb_tensor_view(xd, 2, sx);
  assert_error(kcb_model_fit(m, &x, &y, &f, NULL), KCB_ESHAPE, "fit: y's dimension 0 is negative");
  x.rank = 12;
  assert_error(kcb_model_predict(m, &x, NULL, &out), KCB_ESHAPE, "predict: x has rank 12, outside 1..6");
  assert_int_equal(kcb_tensor_size(&x), INT64_MAX);
  char text[160];
  assert_string_equal(kcb_tensor_shape_string(&x, text, sizeof text), "(64, 4, 0, 0, 0, 0)");
  kcb_model_free(m);
}

/* A run inside a hook (evaluate from on_epoch_end) given the same callback: the outer run's
 * params and model are the callback's again when it returns */
typedef struct nested_cb {
  kcb_callback base;
  kcb_tensor *x, *y;
  int64_t steps_seen;
  int nested;
} nested_cb;

static int nested_epoch_begin(kcb_callback *cb, int epoch, kcb_logs *logs) {
  (void)epoch, (void)logs;
  nested_cb *n = (nested_cb *)cb;
  if (n->nested) return 0;
  n->nested = 1;
  kcb_callback *cbs[1] = {cb};
  kcb_evaluate_options eo = KCB_EVALUATE_OPTIONS_INIT;
  eo.batch_size = 16;
  eo.verbose = 0;
  eo.callbacks = cbs;
  eo.n_callbacks = 1;
  int rc = kcb_model_evaluate(cb->model, n->x, n->y, &eo, NULL);
  n->nested = 0;
  return rc;
}

static int nested_batch_end(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  (void)batch, (void)logs;
  ((nested_cb *)cb)->steps_seen = cb->params->steps;
  return 0;
}

static void nested_run_shares_a_callback(void **state) {
  (void)state;
  kcb_model *m = small_compiled();
  int64_t sx[2] = {64, 4}, sy[1] = {64};
  kcb_tensor *x, *y;
  assert_ok(kcb_tensor_new(&x, 2, sx));
  assert_ok(kcb_tensor_new(&y, 1, sy));
  static const kcb_callback_ops ops = {.name = "Nested", .on_epoch_begin = nested_epoch_begin,
                                       .on_train_batch_end = nested_batch_end};
  nested_cb n = {.base = {.ops = &ops}, .x = x, .y = y};
  kcb_callback *cbs[1] = {&n.base};
  kcb_fit_options f = KCB_FIT_OPTIONS_INIT;
  f.verbose = 0;
  f.epochs = 2;
  f.batch_size = 32;
  f.callbacks = cbs;
  f.n_callbacks = 1;
  assert_ok(kcb_model_fit(m, x, y, &f, NULL));
  assert_int_equal(n.steps_seen, 2); /* fit's 64 / 32, not the nested evaluate's 64 / 16 */
  assert_null(n.base.params);        /* after the run, where it was before */
  kcb_tensor_free(x);
  kcb_tensor_free(y);
  kcb_model_free(m);
}

/* NULL handles and out-pointers: KCB_EINVAL, as their sibling functions return */
static void null_handles(void **state) {
  (void)state;
  float v[4] = {0};
  assert_error(kcb_summary_writer_add_histogram(NULL, "h", v, 4, 30, 0), KCB_EINVAL, "NULL writer");
  assert_error(kcb_summary_writer_add_text(NULL, "t", "x", 0), KCB_EINVAL, "NULL writer");
  assert_error(kcb_summary_writer_add_session_start(NULL, 0), KCB_EINVAL, "NULL writer");
  assert_error(kcb_summary_writer_flush(NULL), KCB_EINVAL, "NULL writer");
  assert_error(kcb_profiler_new(NULL), KCB_EINVAL, "out is NULL");
  size_t n = 0;
  kcb_projector_embedding_info *info = NULL;
  assert_error(kcb_projector_read(NULL, &info, &n), KCB_EINVAL, "run_dir is NULL");
  assert_error(kcb_projector_read(tmpdir, NULL, &n), KCB_EINVAL, "out is NULL");
  char **files = NULL;
  assert_error(kcb_tfevents_list_files(tmpdir, &files, NULL), KCB_EINVAL, "out_count is NULL");
  assert_error(kcb_max_params_from_env(NULL), KCB_EINVAL, "out is NULL");
  kcb_checkpoint_ranking *r = NULL;
  const char *paths[1] = {NULL};
  assert_error(kcb_checkpoint_rank(&r, paths, 1, NULL), KCB_EINVAL, "paths[0] is NULL");
  /* a loop of links is said as one, not as a missing file */
  char loop[128];
  snprintf(loop, sizeof loop, "%s/loop", tmpdir);
  assert_int_equal(symlink(loop, loop), 0);
  paths[0] = loop;
  assert_int_equal(kcb_checkpoint_rank(&r, paths, 1, NULL) != 0, 1);
  assert_non_null(strstr(kcb_error_last(), "Too many levels of symbolic links"));
  unlink(loop);
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/kcb_hostile_XXXXXX");
  if (!mkdtemp(tmpdir)) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(fifo_refused_without_blocking),
      cmocka_unit_test(file_read_bounds_size),
      cmocka_unit_test(file_write_atomic_and_stale_temps),
      cmocka_unit_test(schemas),
      cmocka_unit_test(depth_bound),
      cmocka_unit_test(absurd_sizes),
      cmocka_unit_test(restored_scalars),
      cmocka_unit_test(escapes),
      cmocka_unit_test(tensors_of_bad_shape),
      cmocka_unit_test(nested_run_shares_a_callback),
      cmocka_unit_test(null_handles),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  rmdir(tmpdir);
  return failed;
}
