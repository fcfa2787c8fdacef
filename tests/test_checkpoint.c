/* test_checkpoint.c — ModelCheckpoint (best-only, save_freq batch counting, thresholds, top-k,
 * save_last, stored attributes, Keras's messages and errors), BackupAndRestore (exact resume after
 * a failed fit, clean-up) and the checkpoint ranking behind kcb-restore. Hooks are driven directly
 * with chosen monitored sequences, as Keras's own callback tests do. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_helpers.h"
#include "model/model_internal.h"

static char dir[256];

static const char *path_in(const char *name) {
  static char buf[4][600];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
  return buf[k];
}

static int exists(const char *path) { return access(path, F_OK) == 0; }

static size_t count_files(const char *d) {
  DIR *h = opendir(d);
  size_t n = 0;
  struct dirent *e;
  if (!h) return 0;
  while ((e = readdir(h)))
    if (e->d_name[0] != '.') n++;
  closedir(h);
  return n;
}

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/kcb_test_checkpoint_XXXXXX");
  return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

static kcb_model *small_model(void) {
  kcb_model *m = test_compiled_model(4, "3:relu,2:softmax", 3, KCB_OPT_ADAM, KCB_DEFAULT,
                                     KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, KCB_METRIC_ACCURACY);
  return m;
}

/* Drives a callback through a fit of epochs with one monitored value per epoch. */
typedef struct driver {
  kcb_callback_list list;
  kcb_model *model;
} driver;

static void drive_begin(driver *d, kcb_callback *cb, kcb_model *m) {
  memset(&d->list, 0, sizeof d->list);
  d->model = m;
  assert_ok(kcb_callback_list_add(&d->list, cb));
  cb->model = m;
  d->list.params.epochs = 10;
  d->list.params.steps = 5;
  d->list.params.has_validation = 1; /* the hooks are driven by hand: as if fit had validation data */
  kcb_logs logs;
  kcb_logs_clear(&logs);
  assert_ok(kcb_callback_list_call(&d->list, KCB_HOOK_TRAIN_BEGIN, 0, &logs));
}

static int drive_epoch(driver *d, int epoch, const char *key, double value) {
  kcb_logs logs;
  kcb_logs_clear(&logs);
  int rc = kcb_callback_list_call(&d->list, KCB_HOOK_EPOCH_BEGIN, epoch, &logs);
  if (rc) return rc;
  assert_ok(kcb_logs_set(&logs, "loss", 1.0 + epoch));
  if (key) assert_ok(kcb_logs_set(&logs, key, value));
  return kcb_callback_list_call(&d->list, KCB_HOOK_EPOCH_END, epoch, &logs);
}

static char *read_stream(FILE *f) {
  fflush(f);
  long n = ftell(f);
  rewind(f);
  char *s = calloc(1, (size_t)n + 1);
  assert_non_null(s);
  assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
  return s;
}

static void test_best_only_messages_and_files(void **state) {
  (void)state;
  kcb_model *m = small_model();
  FILE *out = tmpfile();
  char tmpl[600];
  snprintf(tmpl, sizeof tmpl, "%s/best/w.{epoch:02d}-{val_loss:.2f}.weights.h5", dir);
  kcb_model_checkpoint_options o = KCB_MODEL_CHECKPOINT_OPTIONS_INIT;
  o.save_best_only = 1;
  o.save_weights_only = 1;
  o.verbose = 1;
  o.stream = out;
  kcb_callback *cb = NULL;
  assert_ok(kcb_model_checkpoint_new(&cb, tmpl, &o));
  driver d;
  drive_begin(&d, cb, m);
  const double seq[] = {0.5, 0.6, 0.4, 0.4, 0.3};
  for (int e = 0; e < 5; e++) assert_ok(drive_epoch(&d, e, "val_loss", seq[e]));
  char *text = read_stream(out);
  char expect[4000];
  snprintf(expect, sizeof expect,
           "\nEpoch 1: val_loss improved from None to 0.50000, saving model to %s/best/w.01-0.50.weights.h5\n"
           "\nEpoch 1: finished saving model to %s/best/w.01-0.50.weights.h5\n"
           "\nEpoch 2: val_loss did not improve from 0.50000\n"
           "\nEpoch 3: val_loss improved from 0.50000 to 0.40000, saving model to %s/best/w.03-0.40.weights.h5\n"
           "\nEpoch 3: finished saving model to %s/best/w.03-0.40.weights.h5\n"
           "\nEpoch 4: val_loss did not improve from 0.40000\n"
           "\nEpoch 5: val_loss improved from 0.40000 to 0.30000, saving model to %s/best/w.05-0.30.weights.h5\n"
           "\nEpoch 5: finished saving model to %s/best/w.05-0.30.weights.h5\n",
           dir, dir, dir, dir, dir, dir);
  assert_string_equal(text, expect);
  assert_true(exists(path_in("best/w.01-0.50.weights.h5")));
  assert_false(exists(path_in("best/w.02-0.60.weights.h5")));
  assert_true(exists(path_in("best/w.03-0.40.weights.h5")));
  assert_false(exists(path_in("best/w.04-0.40.weights.h5")));
  assert_int_equal(count_files(path_in("best")), 3);
  assert_true(kcb_model_checkpoint_best(cb) == 0.3);
  /* the files carry the monitored value and the 0-based epoch */
  kcb_checkpoint_info info;
  assert_ok(kcb_checkpoint_info_read(&info, path_in("best/w.03-0.40.weights.h5")));
  assert_true(info.has_monitor);
  assert_string_equal(info.monitor, "val_loss");
  assert_true(info.monitor_value == 0.4);
  assert_int_equal(info.epoch, 2);
  assert_int_equal(info.batch, -1);
  assert_int_equal(info.layout, KCB_LAYOUT_WEIGHTS_H5);

  /* a new instance resuming (its first epoch is not 0) reads the best back from the files:
   * 0.35 does not beat 0.3 */
  kcb_callback *again = NULL;
  rewind(out);
  assert_ok(kcb_model_checkpoint_new(&again, tmpl, &o));
  drive_begin(&d, again, m);
  assert_ok(drive_epoch(&d, 5, "val_loss", 0.35));
  assert_true(kcb_model_checkpoint_best(again) == 0.3);
  assert_false(exists(path_in("best/w.06-0.35.weights.h5")));
  kcb_callback_free(again);
  /* a fresh run (from epoch 0) starts with best = None, as Keras: its first epoch saves */
  assert_ok(kcb_model_checkpoint_new(&again, tmpl, &o));
  drive_begin(&d, again, m);
  assert_ok(drive_epoch(&d, 0, "val_loss", 0.45));
  assert_true(kcb_model_checkpoint_best(again) == 0.45);
  assert_true(exists(path_in("best/w.01-0.45.weights.h5")));
  free(text);
  kcb_callback_free(again);
  kcb_callback_free(cb);
  fclose(out);
  kcb_model_free(m);
}

static void test_threshold_mode_and_missing(void **state) {
  (void)state;
  kcb_model *m = small_model();
  FILE *out = tmpfile();
  char tmpl[600];
  snprintf(tmpl, sizeof tmpl, "%s/thr/m{epoch}.keras", dir);
  kcb_model_checkpoint_options o = KCB_MODEL_CHECKPOINT_OPTIONS_INIT;
  o.save_best_only = 1;
  o.monitor = "val_accuracy";
  o.initial_value_threshold = 0.7;
  o.stream = out;
  kcb_callback *cb = NULL;
  assert_ok(kcb_model_checkpoint_new(&cb, tmpl, &o));
  driver d;
  drive_begin(&d, cb, m);
  assert_ok(drive_epoch(&d, 0, "val_accuracy", 0.6)); /* below the threshold: auto -> max */
  assert_ok(drive_epoch(&d, 1, "val_accuracy", 0.8));
  assert_ok(drive_epoch(&d, 2, NULL, 0));              /* missing: Keras warns and saves anyway */
  assert_ok(drive_epoch(&d, 3, NULL, 0));              /* ... and warns once, as Python's warnings do */
  assert_false(exists(path_in("thr/m1.keras")));
  assert_true(exists(path_in("thr/m2.keras")));
  assert_true(exists(path_in("thr/m3.keras")));
  char *text = read_stream(out);
  const char *warning = strstr(text, "Can save best model only with val_accuracy available.");
  assert_non_null(warning);
  assert_null(strstr(warning + 1, "Can save best model only"));
  kcb_checkpoint_info info;
  assert_ok(kcb_checkpoint_info_read(&info, path_in("thr/m2.keras")));
  assert_int_equal(info.layout, KCB_LAYOUT_KERAS);
  assert_true(info.has_config);
  free(text);
  kcb_callback_free(cb);
  fclose(out);
  kcb_model_free(m);
}

/* An infinite threshold is accepted, as Keras does: in min mode the first finite value beats +inf,
 * nothing beats -inf. */
static void test_threshold_infinite(void **state) {
  (void)state;
  kcb_model *m = small_model();
  FILE *out = tmpfile();
  const struct { double threshold; const char *sub; int saved; } cases[] = {{INFINITY, "inf+", 1}, {-INFINITY, "inf-", 0}};
  for (size_t i = 0; i < 2; i++) {
    char tmpl[600], first[16];
    snprintf(tmpl, sizeof tmpl, "%s/%s/m{epoch}.keras", dir, cases[i].sub);
    snprintf(first, sizeof first, "%s/m1.keras", cases[i].sub);
    kcb_model_checkpoint_options o = KCB_MODEL_CHECKPOINT_OPTIONS_INIT;
    o.save_best_only = 1;
    o.initial_value_threshold = cases[i].threshold;
    o.stream = out;
    kcb_callback *cb = NULL;
    assert_ok(kcb_model_checkpoint_new(&cb, tmpl, &o));
    driver d;
    drive_begin(&d, cb, m);
    assert_ok(drive_epoch(&d, 0, "val_loss", 1e300));
    assert_int_equal(exists(path_in(first)), cases[i].saved);
    assert_true(kcb_model_checkpoint_best(cb) == (cases[i].saved ? 1e300 : cases[i].threshold));
    kcb_callback_free(cb);
  }
  fclose(out);
  kcb_model_free(m);
}

/* save_freq=3 over two epochs of 5 batches: Keras counts batches across epochs, so saves fall on
 * the 3rd, 6th and 9th batch: (epoch 1, batch 3), (epoch 2, batch 1), (epoch 2, batch 4). */
static void test_save_freq_batches(void **state) {
  (void)state;
  kcb_model *m = small_model();
  char tmpl[600];
  snprintf(tmpl, sizeof tmpl, "%s/freq/e{epoch}-b{batch}-{loss:.1f}.h5", dir);
  kcb_model_checkpoint_options o = KCB_MODEL_CHECKPOINT_OPTIONS_INIT;
  o.save_freq = 3;
  kcb_callback *cb = NULL;
  assert_ok(kcb_model_checkpoint_new(&cb, tmpl, &o));
  driver d;
  drive_begin(&d, cb, m);
  for (int e = 0; e < 2; e++) {
    kcb_logs logs;
    kcb_logs_clear(&logs);
    assert_ok(kcb_callback_list_call(&d.list, KCB_HOOK_EPOCH_BEGIN, e, &logs));
    for (int b = 0; b < 5; b++) {
      kcb_logs_clear(&logs);
      assert_ok(kcb_logs_set(&logs, "loss", 0.5));
      assert_ok(kcb_callback_list_call(&d.list, KCB_HOOK_TRAIN_BATCH_END, b, &logs));
    }
    assert_ok(kcb_logs_set(&logs, "val_loss", 0.1));
    assert_ok(kcb_callback_list_call(&d.list, KCB_HOOK_EPOCH_END, e, &logs));
  }
  assert_int_equal(count_files(path_in("freq")), 3);
  assert_true(exists(path_in("freq/e1-b3-0.5.h5")));
  assert_true(exists(path_in("freq/e2-b1-0.5.h5")));
  assert_true(exists(path_in("freq/e2-b4-0.5.h5")));
  kcb_checkpoint_info info;
  assert_ok(kcb_checkpoint_info_read(&info, path_in("freq/e2-b1-0.5.h5")));
  assert_int_equal(info.epoch, 1);
  assert_int_equal(info.batch, 0);
  assert_int_equal(info.layout, KCB_LAYOUT_H5);
  kcb_callback_free(cb);
  kcb_model_free(m);
}

static void test_top_k_and_last(void **state) {
  (void)state;
  kcb_model *m = small_model();
  char tmpl[600];
  snprintf(tmpl, sizeof tmpl, "%s/topk/w{epoch}-{val_loss:.1f}.weights.h5", dir);
  kcb_model_checkpoint_options o = KCB_MODEL_CHECKPOINT_OPTIONS_INIT;
  o.save_weights_only = 1;
  o.save_top_k = 2;
  o.save_last = 1;
  kcb_callback *cb = NULL;
  assert_ok(kcb_model_checkpoint_new(&cb, tmpl, &o));
  driver d;
  drive_begin(&d, cb, m);
  const double seq[] = {0.5, 0.3, 0.4, 0.6, 0.2};
  for (int e = 0; e < 5; e++) assert_ok(drive_epoch(&d, e, "val_loss", seq[e]));
  /* the two best: 0.2 (epoch 5) and 0.3 (epoch 2); 0.6 was never written, 0.5 and 0.4 deleted */
  assert_true(exists(path_in("topk/w5-0.2.weights.h5")));
  assert_true(exists(path_in("topk/w2-0.3.weights.h5")));
  assert_false(exists(path_in("topk/w1-0.5.weights.h5")));
  assert_false(exists(path_in("topk/w3-0.4.weights.h5")));
  assert_false(exists(path_in("topk/w4-0.6.weights.h5")));
  assert_true(exists(path_in("topk/last.weights.h5")));
  assert_int_equal(count_files(path_in("topk")), 3);
  double v = 0;
  assert_string_equal(kcb_model_checkpoint_kept(cb, 0, &v), path_in("topk/w5-0.2.weights.h5"));
  assert_true(v == 0.2);
  assert_string_equal(kcb_model_checkpoint_kept(cb, 1, &v), path_in("topk/w2-0.3.weights.h5"));
  assert_null(kcb_model_checkpoint_kept(cb, 2, NULL));
  kcb_checkpoint_info info;
  assert_ok(kcb_checkpoint_info_read(&info, path_in("topk/last.weights.h5")));
  assert_int_equal(info.epoch, 4);
  assert_true(info.monitor_value == 0.2);

  /* a restarted run keeps the list: 0.25 enters (deleting 0.3's file), 0.9 does not */
  kcb_callback *again = NULL;
  assert_ok(kcb_model_checkpoint_new(&again, tmpl, &o));
  drive_begin(&d, again, m);
  assert_ok(drive_epoch(&d, 5, "val_loss", 0.25));
  assert_ok(drive_epoch(&d, 6, "val_loss", 0.9));
  assert_true(exists(path_in("topk/w6-0.2.weights.h5")));
  assert_false(exists(path_in("topk/w2-0.3.weights.h5")));
  assert_false(exists(path_in("topk/w7-0.9.weights.h5")));
  assert_int_equal(count_files(path_in("topk")), 3);
  kcb_callback_free(again);
  kcb_callback_free(cb);
  kcb_model_free(m);
}

/* A name the list already holds (fixed, or a field rounding two values alike) is rewritten only
 * by a better value: a worse one would replace the kept best. */
static void test_top_k_same_name(void **state) {
  (void)state;
  kcb_model *m = small_model();
  char tmpl[600];
  snprintf(tmpl, sizeof tmpl, "%s/topk_same/best.weights.h5", dir);
  kcb_model_checkpoint_options o = KCB_MODEL_CHECKPOINT_OPTIONS_INIT;
  o.save_weights_only = 1;
  o.save_top_k = 1;
  kcb_callback *cb = NULL;
  assert_ok(kcb_model_checkpoint_new(&cb, tmpl, &o));
  driver d;
  drive_begin(&d, cb, m);
  const double seq[] = {0.5, 0.6, 0.4, 0.7};
  for (int e = 0; e < 4; e++) assert_ok(drive_epoch(&d, e, "val_loss", seq[e]));
  kcb_checkpoint_info info;
  assert_ok(kcb_checkpoint_info_read(&info, path_in("topk_same/best.weights.h5")));
  assert_int_equal(info.epoch, 2);
  assert_true(info.monitor_value == 0.4);
  double v = 0;
  assert_non_null(kcb_model_checkpoint_kept(cb, 0, &v));
  assert_true(v == 0.4);
  kcb_callback_free(cb);

  /* two values rounding to one name among k = 2: the name keeps the better of them */
  snprintf(tmpl, sizeof tmpl, "%s/topk_round/w-{val_loss:.1f}.weights.h5", dir);
  o.save_top_k = 2;
  assert_ok(kcb_model_checkpoint_new(&cb, tmpl, &o));
  drive_begin(&d, cb, m);
  const double seq2[] = {0.31, 0.52, 0.34, 0.29};
  for (int e = 0; e < 4; e++) assert_ok(drive_epoch(&d, e, "val_loss", seq2[e]));
  assert_ok(kcb_checkpoint_info_read(&info, path_in("topk_round/w-0.3.weights.h5")));
  assert_true(info.monitor_value == 0.29);
  assert_true(exists(path_in("topk_round/w-0.5.weights.h5"))); /* still the second best name */
  assert_int_equal(count_files(path_in("topk_round")), 2);
  kcb_callback_free(cb);
  kcb_model_free(m);
}

/* Keras's ModelCheckpoint("x.weights.h5", save_weights_only=False) calls model.save, which writes
 * its legacy full-model HDF5 for any *.h5 name: load_model reads it, with the model's config. */
static void test_full_model_under_weights_name(void **state) {
  (void)state;
  kcb_model *m = small_model();
  char tmpl[600];
  snprintf(tmpl, sizeof tmpl, "%s/fullname/m{epoch}.weights.h5", dir);
  kcb_model_checkpoint_options o = KCB_MODEL_CHECKPOINT_OPTIONS_INIT;
  kcb_callback *cb = NULL;
  assert_ok(kcb_model_checkpoint_new(&cb, tmpl, &o));
  driver d;
  drive_begin(&d, cb, m);
  assert_ok(drive_epoch(&d, 0, "val_loss", 0.5));
  kcb_checkpoint_info info;
  assert_ok(kcb_checkpoint_info_read(&info, path_in("fullname/m1.weights.h5")));
  assert_int_equal(info.layout, KCB_LAYOUT_H5);
  kcb_callback_free(cb);
  kcb_model_free(m);
}

/* A best that could not be written is not the best: the next epoch must still beat the old one. */
static void test_failed_save_keeps_the_old_best(void **state) {
  (void)state;
  kcb_model *m = small_model();
  kcb_model_checkpoint_options o = KCB_MODEL_CHECKPOINT_OPTIONS_INIT;
  o.save_best_only = 1;
  o.save_weights_only = 1;
  kcb_callback *cb = NULL;
  assert_ok(kcb_model_checkpoint_new(&cb, "/proc/kcb_no_such_dir/w.weights.h5", &o));
  driver d;
  drive_begin(&d, cb, m);
  assert_error(drive_epoch(&d, 0, "val_loss", 0.5), KCB_ENOENT, "/proc/kcb_no_such_dir");
  assert_true(isnan(kcb_model_checkpoint_best(cb)));
  assert_string_equal(kcb_model_checkpoint_last_saved(cb), "");
  kcb_callback_free(cb);
  kcb_model_free(m);
}

static void test_errors(void **state) {
  (void)state;
  kcb_callback *cb = NULL;
  kcb_model_checkpoint_options o = KCB_MODEL_CHECKPOINT_OPTIONS_INIT;
  assert_error(kcb_model_checkpoint_new(&cb, "w.weights.h5x", &o), KCB_EINVAL,
               "The filepath provided must end in `.keras` (Keras model format). Received: filepath=w.weights.h5x");
  o.save_weights_only = 1;
  assert_error(kcb_model_checkpoint_new(&cb, "m.keras", &o), KCB_EINVAL,
               "the filepath provided must end in `.weights.h5` (Keras weights format). Received: filepath=m.keras");
  assert_error(kcb_model_checkpoint_new(&cb, "w.{epoch:.2q}.weights.h5", &o), KCB_EINVAL,
               "Unknown format code 'q' for object of type 'int'");
  assert_error(kcb_model_checkpoint_new(&cb, "w.{epoch:02d.weights.h5", &o), KCB_EINVAL, "w.{epoch:02d.weights.h5");
  assert_error(kcb_model_checkpoint_new(&cb, "w.{}.weights.h5", &o), KCB_EINVAL, "needs a key name");
  assert_error(kcb_model_checkpoint_new(&cb, "w.{epoch:d}}.weights.h5", &o), KCB_EINVAL, "Single '}'");
  o.save_top_k = 3;
  assert_error(kcb_model_checkpoint_new(&cb, "w.weights.h5", &o), KCB_EINVAL, "save_top_k=3 needs a filepath with fields");
  o.save_top_k = -1;
  assert_error(kcb_model_checkpoint_new(&cb, "w{batch}.weights.h5", &o), KCB_EKEY,
               "'batch' (there is no batch with save_freq=\"epoch\")");
  o.save_freq = -2;
  assert_error(kcb_model_checkpoint_new(&cb, "w.weights.h5", &o), KCB_EINVAL, "Unrecognized save_freq");
  assert_null(cb);

  /* a key the logs lack fails the save, naming template and key */
  kcb_model *m = small_model();
  char tmpl[600];
  snprintf(tmpl, sizeof tmpl, "%s/err/w{epoch}-{val_mae:.2f}.weights.h5", dir);
  o = (kcb_model_checkpoint_options)KCB_MODEL_CHECKPOINT_OPTIONS_INIT;
  o.save_weights_only = 1;
  assert_ok(kcb_model_checkpoint_new(&cb, tmpl, &o));
  driver d;
  drive_begin(&d, cb, m);
  char needle[700];
  snprintf(needle, sizeof needle, "Failed to format this callback filepath: \"%s\". Reason: 'val_mae'", tmpl);
  assert_error(drive_epoch(&d, 0, "val_loss", 0.5), KCB_EKEY, needle);
  kcb_callback_free(cb);
  /* a val_* key without validation data fails at train begin, before any epoch */
  /* (the list below is zeroed: params.has_validation 0) */
  assert_ok(kcb_model_checkpoint_new(&cb, tmpl, &o));
  memset(&d.list, 0, sizeof d.list);
  assert_ok(kcb_callback_list_add(&d.list, cb));
  cb->model = m;
  kcb_logs logs;
  kcb_logs_clear(&logs);
  assert_error(kcb_callback_list_call(&d.list, KCB_HOOK_TRAIN_BEGIN, 0, &logs), KCB_EKEY, "fit has no validation data");
  kcb_callback_free(cb);
  /* an unknown metric in auto mode: Keras's advice */
  o.monitor = "val_f1";
  snprintf(tmpl, sizeof tmpl, "%s/err/w.weights.h5", dir);
  assert_ok(kcb_model_checkpoint_new(&cb, tmpl, &o));
  memset(&d.list, 0, sizeof d.list);
  assert_ok(kcb_callback_list_add(&d.list, cb));
  cb->model = m;
  assert_error(kcb_callback_list_call(&d.list, KCB_HOOK_TRAIN_BEGIN, 0, &logs), KCB_EINVAL, "val_f1");
  kcb_callback_free(cb);
  kcb_model_free(m);
  assert_error(kcb_backup_and_restore_new(&cb, "", NULL), KCB_EINVAL, "Empty `backup_dir` argument passed");
}

/* ---- BackupAndRestore ------------------------------------------------------------------------ */

typedef struct crash_at {
  int epoch;
  int64_t batch;
  int current_epoch;
} crash_at;

static int crash_epoch_begin(kcb_callback *cb, int epoch, kcb_logs *logs) {
  (void)logs;
  ((crash_at *)cb->user_data)->current_epoch = epoch;
  return 0;
}

/* Fails fit (as a kill would end it: no on_train_end) after a chosen batch. */
static int crash_batch_end(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  (void)logs;
  crash_at *c = cb->user_data;
  return c->current_epoch == c->epoch && batch == c->batch ? KCB_ECALLBACK : 0;
}

static void make_data(kcb_tensor **x, kcb_tensor **y) {
  int64_t xs[2] = {100, 4}, ys[1] = {100};
  assert_ok(kcb_tensor_new(x, 2, xs));
  assert_ok(kcb_tensor_new(y, 1, ys));
  for (int i = 0; i < 100; i++) {
    for (int j = 0; j < 4; j++) (*x)->data[i * 4 + j] = (float)sin(i * 0.37 + j);
    (*y)->data[i] = (float)((i * 7) % 2);
  }
}

static void fit_with(kcb_model *m, kcb_tensor *x, kcb_tensor *y, kcb_callback **cbs, size_t n, int expect_rc,
                     kcb_history **history) {
  kcb_fit_options fo = KCB_FIT_OPTIONS_INIT;
  fo.epochs = 4;
  fo.batch_size = 8;
  fo.verbose = 0;
  fo.validation_split = 0.2;
  fo.callbacks = cbs;
  fo.n_callbacks = n;
  int rc = kcb_model_fit(m, x, y, &fo, history);
  if (rc != expect_rc) fail_msg("fit -> %s (%s)", kcb_error_name(rc), kcb_error_last());
}

static void resume_case(int64_t save_freq, int crash_epoch, int64_t crash_batch, int64_t pretrained) {
  kcb_tensor *x, *y;
  make_data(&x, &y);
  const char *spec = "6:relu,dropout:0.3,2:softmax";
  kcb_model *ref = test_compiled_model(4, spec, 11, KCB_OPT_ADAM, KCB_DEFAULT, KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
                                       KCB_METRIC_ACCURACY);
  kcb_model_set_iterations(ref, pretrained); /* trained before this fit: save points count from its start */
  kcb_history *ref_history = NULL, *history = NULL;
  /* a ModelCheckpoint saving every 4 batches: the same save points with a crash and a resume */
  char ref_ck[600], res_ck[600];
  snprintf(ref_ck, sizeof ref_ck, "%s/ck_ref_%lld_%d_%lld/{epoch}-{batch}.weights.h5", dir, (long long)save_freq, crash_epoch,
           (long long)pretrained);
  snprintf(res_ck, sizeof res_ck, "%s/ck_res_%lld_%d_%lld/{epoch}-{batch}.weights.h5", dir, (long long)save_freq, crash_epoch,
           (long long)pretrained);
  kcb_model_checkpoint_options mo = KCB_MODEL_CHECKPOINT_OPTIONS_INIT;
  mo.save_weights_only = 1;
  mo.save_freq = 4;
  mo.monitor = "loss";
  kcb_callback *mc_ref = NULL, *mc = NULL;
  assert_ok(kcb_model_checkpoint_new(&mc_ref, ref_ck, &mo));
  assert_ok(kcb_model_checkpoint_new(&mc, res_ck, &mo));
  fit_with(ref, x, y, &mc_ref, 1, 0, &ref_history);

  char bdir[600];
  snprintf(bdir, sizeof bdir, "%s/backup_%lld_%d_%lld_%lld", dir, (long long)save_freq, crash_epoch, (long long)crash_batch,
           (long long)pretrained);
  kcb_backup_and_restore_options bo = KCB_BACKUP_AND_RESTORE_OPTIONS_INIT;
  bo.save_freq = save_freq;
  bo.double_checkpoint = 1;
  kcb_callback *br = NULL, *crash = NULL;
  crash_at at = {crash_epoch, crash_batch, 0};
  kcb_callback_ops ops = {.on_epoch_begin = crash_epoch_begin, .on_train_batch_end = crash_batch_end};
  assert_ok(kcb_lambda_callback_new(&crash, &ops, &at));
  kcb_model *m = test_compiled_model(4, spec, 11, KCB_OPT_ADAM, KCB_DEFAULT, KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
                                     KCB_METRIC_ACCURACY);
  kcb_model_set_iterations(m, pretrained);
  assert_ok(kcb_backup_and_restore_new(&br, bdir, &bo));
  kcb_callback *cbs[3] = {mc, crash, br};
  fit_with(m, x, y, cbs, 3, KCB_ECALLBACK, NULL);
  kcb_model_free(m);
  kcb_callback_free(br);
  char latest[700];
  snprintf(latest, sizeof latest, "%s/latest.weights.h5", bdir);
  assert_true(exists(latest));
  /* what kills in the middle of writing each of the callback's files leave behind */
  static const char *const temps[] = {".latest.weights.h5.tmp-4242-1", ".training_metadata.json.tmp-4242-2",
                                      ".completed.json.tmp-4242-3"};
  for (size_t i = 0; i < 3; i++) {
    char temp[700];
    snprintf(temp, sizeof temp, "%s/%s", bdir, temps[i]);
    FILE *f = fopen(temp, "w");
    assert_non_null(f);
    fclose(f);
  }

  /* a new process: same seed, same arguments */
  m = test_compiled_model(4, spec, 11, KCB_OPT_ADAM, KCB_DEFAULT, KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, KCB_METRIC_ACCURACY);
  assert_ok(kcb_backup_and_restore_new(&br, bdir, &bo));
  cbs[1] = br;
  fit_with(m, x, y, cbs, 2, 0, &history);
  *strrchr(ref_ck, '/') = '\0', *strrchr(res_ck, '/') = '\0';
  assert_int_equal(count_files(ref_ck), count_files(res_ck));
  DIR *d = opendir(ref_ck);
  for (struct dirent *e; d && (e = readdir(d));) {
    char other[900];
    snprintf(other, sizeof other, "%s/%s", res_ck, e->d_name);
    if (e->d_name[0] != '.' && !exists(other)) fail_msg("the resumed run has no %s", other);
  }
  if (d) closedir(d);
  kcb_callback_free(mc);
  kcb_callback_free(mc_ref);
  /* the resumed epochs log what the uninterrupted run logged: an epoch resumed mid-way (or after
   * its last batch) goes on from its running means */
  static const char *const keys[] = {"loss", "accuracy", "val_loss", "val_accuracy"};
  size_t first = kcb_history_epochs(ref_history) - kcb_history_epochs(history);
  for (size_t k = 0; k < 4; k++) {
    const double *want, *got;
    size_t n_want, n_got;
    assert_ok(kcb_history_values(ref_history, keys[k], &want, &n_want));
    assert_ok(kcb_history_values(history, keys[k], &got, &n_got));
    for (size_t e = 0; e < n_got; e++)
      if (got[e] != want[first + e]) fail_msg("%s of epoch %zu: %.17g resumed, %.17g uninterrupted", keys[k], first + e, got[e], want[first + e]);
  }
  kcb_history_free(history);
  kcb_history_free(ref_history);
  size_t n = kcb_model_param_count(m);
  float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
  assert_ok(kcb_model_get_weights(ref, a, n));
  assert_ok(kcb_model_get_weights(m, b, n));
  assert_memory_equal(a, b, n * sizeof *a);
  assert_int_equal(kcb_model_iterations(m), kcb_model_iterations(ref));
  assert_false(exists(bdir)); /* deleted on completion, the killed writes' temporary files too */
  free(a);
  free(b);
  kcb_callback_free(br);
  kcb_callback_free(crash);
  kcb_model_free(m);
  kcb_model_free(ref);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

static void test_backup_resume_epoch(void **state) {
  (void)state;
  resume_case(0, 2, 4, 0); /* backups at epoch ends; crash mid-epoch 3 */
}

static void test_backup_resume_mid_epoch(void **state) {
  (void)state;
  resume_case(3, 1, 7, 0); /* a backup every 3 batches; crash in epoch 2 */
  resume_case(4, 2, 0, 0);
  resume_case(10, 2, 3, 0); /* a backup at each epoch's last batch (10 a epoch); the resumed epoch has none left */
  resume_case(3, 1, 7, 5);  /* a model trained 5 steps before this fit */
}

typedef struct {
  int epoch;
  int64_t first_batch[8], batches[8];
} batch_record;

static int record_epoch(kcb_callback *cb, int epoch, kcb_logs *logs) {
  (void)logs;
  batch_record *r = cb->user_data;
  r->epoch = epoch;
  r->first_batch[epoch] = -1;
  return 0;
}

static int record_batch(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  (void)logs;
  batch_record *r = cb->user_data;
  if (r->first_batch[r->epoch] < 0) r->first_batch[r->epoch] = batch;
  r->batches[r->epoch]++;
  return 0;
}

/* A mid-epoch backup resumed by a fit of other batches (another batch_size) cannot tell which
 * samples its epoch saw: the epoch restarts from its first batch instead of skipping a count of
 * batches that are not the ones it trained. */
static void test_backup_resumed_with_other_batches(void **state) {
  (void)state;
  kcb_tensor *x, *y;
  make_data(&x, &y);
  char bdir[600];
  snprintf(bdir, sizeof bdir, "%s/backup_other_batches", dir);
  kcb_backup_and_restore_options bo = KCB_BACKUP_AND_RESTORE_OPTIONS_INIT;
  bo.save_freq = 3;
  kcb_callback *br = NULL, *crash = NULL, *rec = NULL;
  crash_at at = {1, 7, 0};
  kcb_callback_ops ops = {.on_epoch_begin = crash_epoch_begin, .on_train_batch_end = crash_batch_end};
  assert_ok(kcb_lambda_callback_new(&crash, &ops, &at));
  kcb_model *m = test_compiled_model(4, "6:relu,2:softmax", 11, KCB_OPT_ADAM, KCB_DEFAULT,
                                     KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, KCB_METRIC_ACCURACY);
  assert_ok(kcb_backup_and_restore_new(&br, bdir, &bo));
  kcb_callback *cbs[2] = {crash, br};
  fit_with(m, x, y, cbs, 2, KCB_ECALLBACK, NULL); /* batch_size 8: backed up after batch 6 of epoch 2 */
  kcb_model_free(m);
  kcb_callback_free(br);
  batch_record r;
  memset(&r, 0, sizeof r);
  kcb_callback_ops rops = {.on_epoch_begin = record_epoch, .on_train_batch_begin = record_batch};
  assert_ok(kcb_lambda_callback_new(&rec, &rops, &r));
  m = test_compiled_model(4, "6:relu,2:softmax", 11, KCB_OPT_ADAM, KCB_DEFAULT, KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
                          KCB_METRIC_ACCURACY);
  assert_ok(kcb_backup_and_restore_new(&br, bdir, &bo));
  kcb_callback *again[2] = {rec, br};
  kcb_fit_options fo = KCB_FIT_OPTIONS_INIT;
  fo.epochs = 4;
  fo.batch_size = 16; /* 80 training samples: 5 batches an epoch */
  fo.verbose = 0;
  fo.validation_split = 0.2;
  fo.callbacks = again;
  fo.n_callbacks = 2;
  assert_ok(kcb_model_fit(m, x, y, &fo, NULL));
  assert_int_equal(r.first_batch[1], 0); /* epoch 2 again, whole */
  assert_int_equal(r.batches[1], 5);
  assert_int_equal(r.batches[0], 0); /* epoch 1 was done */
  assert_int_equal(r.batches[3], 5);
  kcb_callback_free(br);
  kcb_callback_free(crash);
  kcb_callback_free(rec);
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

/* defer_completion: a fit that ends normally keeps its last backup until finish marks the run
 * completed and empties the directory; a fit in between resumes from it and trains nothing */
static void backup_completion_deferred(int64_t save_freq) {
  kcb_tensor *x, *y;
  make_data(&x, &y);
  char bdir[600], latest[700], done[700];
  snprintf(bdir, sizeof bdir, "%s/backup_deferred_%lld", dir, (long long)save_freq);
  snprintf(latest, sizeof latest, "%s/latest.weights.h5", bdir);
  snprintf(done, sizeof done, "%s/completed.json", bdir);
  kcb_backup_and_restore_options bo = KCB_BACKUP_AND_RESTORE_OPTIONS_INIT;
  bo.mark_completed = 1;
  bo.defer_completion = 1;
  bo.save_freq = save_freq;
  kcb_callback *br = NULL, *rec = NULL;
  assert_ok(kcb_backup_and_restore_new(&br, bdir, &bo));
  assert_error(kcb_backup_and_restore_finish(NULL), KCB_EINVAL, "not a BackupAndRestore");
  assert_ok(kcb_backup_and_restore_finish(br)); /* no fit has ended: nothing to do */
  kcb_model *m = test_compiled_model(4, "6:relu,2:softmax", 11, KCB_OPT_ADAM, KCB_DEFAULT,
                                     KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, KCB_METRIC_ACCURACY);
  kcb_callback *cbs[1] = {br};
  fit_with(m, x, y, cbs, 1, 0, NULL);
  assert_true(exists(latest));
  assert_false(exists(done));
  /* a rerun before finish (the work after fit was killed): resumes at the end, trains nothing */
  batch_record r;
  memset(&r, 0, sizeof r);
  kcb_callback_ops rops = {.on_epoch_begin = record_epoch, .on_train_batch_begin = record_batch};
  assert_ok(kcb_lambda_callback_new(&rec, &rops, &r));
  kcb_callback_free(br);
  assert_ok(kcb_backup_and_restore_new(&br, bdir, &bo));
  kcb_callback *again[2] = {rec, br};
  fit_with(m, x, y, again, 2, 0, NULL);
  for (int e = 0; e < 4; e++) assert_int_equal(r.batches[e], 0);
  assert_ok(kcb_backup_and_restore_finish(br));
  assert_false(exists(latest));
  assert_true(exists(done));
  kcb_callback_free(br);
  kcb_callback_free(rec);
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

/* with epoch backups, and with backups every 7 batches, whose last falls before the run's end
 * (the fit's end is backed up then) */
static void test_backup_completion_deferred(void **state) {
  (void)state;
  backup_completion_deferred(0);
  backup_completion_deferred(7);
}

/* A backup Keras wrote has no kcb attributes: the epoch to resume in comes from its
 * training_metadata.json, and the epoch restarts from its first batch, as in Keras. */
static void test_backup_from_keras_metadata(void **state) {
  (void)state;
  kcb_tensor *x, *y;
  make_data(&x, &y);
  char bdir[600], path[700];
  snprintf(bdir, sizeof bdir, "%s/keras_backup", dir);
  kcb_callback *br = NULL;
  assert_ok(kcb_backup_and_restore_new(&br, bdir, NULL));
  assert_int_equal(mkdir(bdir, 0777), 0);
  kcb_model *m = test_compiled_model(4, "3:relu,2:softmax", 3, KCB_OPT_ADAM, KCB_DEFAULT, KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
                          KCB_METRIC_ACCURACY);
  snprintf(path, sizeof path, "%s/latest.weights.h5", bdir);
  kcb_save_options so = KCB_SAVE_OPTIONS_INIT; /* epoch -1: no kcb_epoch attribute, as Keras writes */
  assert_ok(kcb_model_save(m, path, &so));
  snprintf(path, sizeof path, "%s/training_metadata.json", bdir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("{\"epoch\": 3, \"batch\": 0}", f);
  fclose(f);
  kcb_history *h = NULL;
  kcb_fit_options fo = KCB_FIT_OPTIONS_INIT;
  fo.epochs = 5;
  fo.batch_size = 8;
  fo.verbose = 0;
  fo.callbacks = &br;
  fo.n_callbacks = 1;
  assert_ok(kcb_model_fit(m, x, y, &fo, &h));
  assert_int_equal(kcb_history_epochs(h), 2); /* epochs 3 and 4 (0-based) */
  assert_int_equal(kcb_history_epoch(h, 0), 3);
  kcb_history_free(h);
  kcb_callback_free(br);
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

/* A backup whose weights are gone (deleted, or a link to nothing) but whose position is left: fit and
 * the status refuse it by name, rather than start over (training the done epochs again, a CSVLogger
 * overwriting their rows) or resume with untrained weights as Keras would. */
static void test_backup_weights_missing(void **state) {
  (void)state;
  kcb_tensor *x, *y;
  make_data(&x, &y);
  char bdir[600], weights[700], meta[700];
  snprintf(bdir, sizeof bdir, "%s/lost_weights", dir);
  snprintf(weights, sizeof weights, "%s/latest.weights.h5", bdir);
  snprintf(meta, sizeof meta, "%s/training_metadata.json", bdir);
  kcb_model *m = test_compiled_model(4, "3:relu,2:softmax", 3, KCB_OPT_ADAM, KCB_DEFAULT, KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
                                     KCB_METRIC_ACCURACY);
  kcb_callback *br = NULL;
  kcb_backup_and_restore_options bo = KCB_BACKUP_AND_RESTORE_OPTIONS_INIT;
  bo.delete_checkpoint = 0;
  assert_ok(kcb_backup_and_restore_new(&br, bdir, &bo));
  fit_with(m, x, y, &br, 1, 0, NULL); /* 4 epochs */
  kcb_backup_status st;
  for (int link = 0; link < 2; link++) {
    assert_int_equal(unlink(weights), 0);
    if (link) assert_int_equal(symlink("/nonexistent-kcb-target/latest.weights.h5", weights), 0);
    assert_true(exists(meta));
    fit_with(m, x, y, &br, 1, KCB_ENOENT, NULL);
    assert_non_null(strstr(kcb_error_last(), "latest.weights.h5 is missing"));
    assert_error(kcb_backup_and_restore_status(&st, bdir), KCB_ENOENT, "was to resume in epoch 5");
    assert_true(exists(meta)); /* nothing of the backup is touched */
    if (!link) assert_ok(kcb_model_save(m, weights, &(kcb_save_options)KCB_SAVE_OPTIONS_INIT));
  }
  assert_int_equal(unlink(weights), 0);
  assert_int_equal(unlink(meta), 0); /* no position either: a new run */
  assert_ok(kcb_backup_and_restore_status(&st, bdir));
  assert_int_equal(st.state, KCB_BACKUP_NONE);
  kcb_callback_free(br);
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

/* ---- ranking --------------------------------------------------------------------------------- */

static void test_rank_sources(void **state) {
  (void)state;
  kcb_model *m = small_model();
  char sub[600];
  snprintf(sub, sizeof sub, "%s/rank", dir);
  mkdir(sub, 0777);
  snprintf(sub, sizeof sub, "%s/rank/nested", dir);
  mkdir(sub, 0777);
  kcb_save_options so = KCB_SAVE_OPTIONS_INIT;
  so.monitor = "val_loss";
  so.monitor_value = 0.42;
  so.epoch = 0;
  assert_ok(kcb_model_save(m, path_in("rank/stored.weights.h5"), &so));
  so = (kcb_save_options)KCB_SAVE_OPTIONS_INIT;
  assert_ok(kcb_model_save(m, path_in("rank/nested/w.07-0.31.weights.h5"), &so));     /* name: last decimal */
  assert_ok(kcb_model_save(m, path_in("rank/model_val_loss=0.5_acc=0.9.h5"), &so));   /* name: key=value */
  so.epoch = 2;
  assert_ok(kcb_model_save(m, path_in("rank/plain.keras"), &so));                    /* csv, by stored epoch 2 */
  so.epoch = -1;
  assert_ok(kcb_model_save(m, path_in("rank/nothing.weights.h5"), &so));             /* no value at all */
  FILE *f = fopen(path_in("rank/corrupt.weights.h5"), "wb");
  fputs("not hdf5 at all", f);
  fclose(f);
  f = fopen(path_in("rank/log.csv"), "wb");
  fputs("epoch,loss,val_loss\r\n0,1.0,0.9\r\n1,0.8,0.7\r\n2,0.6,0.25\r\n", f);
  fclose(f);

  kcb_checkpoint_ranking *r = NULL;
  const char *paths[] = {path_in("rank")};
  assert_ok(kcb_checkpoint_rank(&r, paths, 1, NULL));
  assert_int_equal(r->count, 6);
  assert_int_equal(r->n_ranked, 4);
  assert_int_equal(r->n_unreadable, 1);
  assert_int_equal(r->mode, KCB_MONITOR_MIN);
  const struct { const char *name; double value; kcb_rank_source source; } expect[] = {
      {"rank/plain.keras", 0.25, KCB_RANK_CSV},
      {"rank/nested/w.07-0.31.weights.h5", 0.31, KCB_RANK_NAME},
      {"rank/stored.weights.h5", 0.42, KCB_RANK_STORED},
      {"rank/model_val_loss=0.5_acc=0.9.h5", 0.5, KCB_RANK_NAME},
  };
  for (size_t i = 0; i < 4; i++) {
    assert_string_equal(r->entries[i].path, path_in(expect[i].name));
    assert_true(r->entries[i].value == expect[i].value);
    assert_int_equal(r->entries[i].source, expect[i].source);
    assert_int_equal(r->entries[i].rank, i + 1);
  }
  assert_int_equal(r->entries[1].epoch, 6); /* "07": Keras's 1-based {epoch} */
  assert_string_equal(r->entries[4].path, path_in("rank/nothing.weights.h5"));
  assert_int_equal(r->entries[4].source, KCB_RANK_NONE);
  assert_false(r->entries[5].readable);
  assert_non_null(strstr(r->entries[5].error, "corrupt.weights.h5"));
  kcb_checkpoint_ranking_free(r);

  /* max mode reverses; an unknown name in auto mode asks for a mode */
  kcb_rank_options ro = KCB_RANK_OPTIONS_INIT;
  ro.mode = KCB_MONITOR_MAX;
  assert_ok(kcb_checkpoint_rank(&r, paths, 1, &ro));
  assert_string_equal(r->entries[0].path, path_in("rank/model_val_loss=0.5_acc=0.9.h5"));
  kcb_checkpoint_ranking_free(r);
  ro.mode = KCB_MONITOR_AUTO;
  ro.monitor = "val_f1x";
  ro.monitor = "lr";
  assert_error(kcb_checkpoint_rank(&r, paths, 1, &ro), KCB_EINVAL, "pass mode min or max");
  const char *missing[] = {path_in("nope")};
  assert_error(kcb_checkpoint_rank(&r, missing, 1, NULL), KCB_ENOENT, "nope");

  /* ModelCheckpoint's template as the name rule: "0.27_004" gives val_loss 0.27 at epoch index 3 */
  so = (kcb_save_options)KCB_SAVE_OPTIONS_INIT;
  mkdir(path_in("rank/tmpl"), 0777);
  assert_ok(kcb_model_save(m, path_in("rank/tmpl/0.27_004.weights.h5"), &so));
  const char *tmpl_dir[] = {path_in("rank/tmpl")};
  assert_ok(kcb_checkpoint_rank(&r, tmpl_dir, 1, NULL));
  assert_int_equal(r->n_ranked, 0); /* the generic rules find nothing */
  kcb_checkpoint_ranking_free(r);
  ro = (kcb_rank_options)KCB_RANK_OPTIONS_INIT;
  ro.name_template = "ckpt/{val_loss:.2f}_{epoch:03d}.weights.h5";
  assert_ok(kcb_checkpoint_rank(&r, tmpl_dir, 1, &ro));
  assert_int_equal(r->n_ranked, 1);
  assert_true(r->entries[0].value == 0.27);
  assert_int_equal(r->entries[0].epoch, 3);
  assert_int_equal(r->entries[0].source, KCB_RANK_NAME);
  kcb_checkpoint_ranking_free(r);

  /* export: full model -> every layout; weights-only -> weights.h5 only */
  assert_ok(kcb_checkpoint_export(path_in("rank/plain.keras"), path_in("rank/out.weights.h5"), KCB_LAYOUT_AUTO));
  assert_ok(kcb_checkpoint_export(path_in("rank/plain.keras"), path_in("rank/out.h5"), KCB_LAYOUT_AUTO));
  assert_ok(kcb_checkpoint_export(path_in("rank/stored.weights.h5"), path_in("rank/copy.weights.h5"), KCB_LAYOUT_AUTO));
  assert_error(kcb_checkpoint_export(path_in("rank/stored.weights.h5"), path_in("rank/full.keras"), KCB_LAYOUT_AUTO),
               KCB_EINVAL, "holds weights only");
  kcb_model_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_best_only_messages_and_files),
      cmocka_unit_test(test_threshold_infinite),
      cmocka_unit_test(test_threshold_mode_and_missing),
      cmocka_unit_test(test_save_freq_batches),
      cmocka_unit_test(test_top_k_and_last),
      cmocka_unit_test(test_top_k_same_name),
      cmocka_unit_test(test_full_model_under_weights_name),
      cmocka_unit_test(test_backup_completion_deferred),
      cmocka_unit_test(test_failed_save_keeps_the_old_best),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_backup_resume_epoch),
      cmocka_unit_test(test_backup_resume_mid_epoch),
      cmocka_unit_test(test_backup_resumed_with_other_batches),
      cmocka_unit_test(test_backup_from_keras_metadata), cmocka_unit_test(test_backup_weights_missing),
      cmocka_unit_test(test_rank_sources),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
