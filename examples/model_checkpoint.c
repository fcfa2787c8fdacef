/* model_checkpoint — ModelCheckpoint, BackupAndRestore and checkpoint ranking together.
 *
 * Trains a small classifier on a synthetic data set (two rings) for 8 epochs with
 *   ModelCheckpoint("ckpt/w.{epoch:02d}-{val_loss:.4f}.weights.h5", save_weights_only=True,
 *                   save_top_k=3, save_last=True)   the 3 best epochs by val_loss, and last.weights.h5
 *   BackupAndRestore("backup", save_freq=5)           a backup every 5 batches
 * The first attempt "crashes" in epoch 5 (a callback fails, so fit ends as a killed process would:
 * no on_train_end, the backup stays). The second attempt, with the same arguments, resumes from the
 * backup and finishes. Its weights are compared with a run never interrupted (identical), then
 * the checkpoints are ranked as kcb-restore ranks them, and the best is exported.
 *
 * Usage: model_checkpoint [DIR]   (files go to DIR, default ".") */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcb/kcb.h"

static void check(int rc, const char *what) {
  if (rc) {
    fprintf(stderr, "model_checkpoint: %s: %s (%s)\n", what, kcb_error_last(), kcb_error_name(rc));
    exit(1);
  }
}

static kcb_model *new_model(void) {
  kcb_model *m = NULL;
  int64_t in = 2;
  check(kcb_model_new(&m, 1, &in, 2024), "kcb_model_new");
  check(kcb_model_add_from_spec(m, "16:relu,dropout:0.1,2:softmax"), "model spec");
  kcb_compile_options c = {0};
  kcb_metric acc = KCB_METRIC_ACCURACY;
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
  c.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  c.metrics = &acc;
  c.n_metrics = 1;
  check(kcb_model_compile(m, &c), "compile");
  return m;
}

/* Fails fit in epoch 5 (0-based 4) after batch 7: a stand-in for a crash. */
static int crash_epoch;
static int on_epoch_begin(kcb_callback *cb, int epoch, kcb_logs *logs) {
  (void)cb, (void)logs;
  crash_epoch = epoch;
  return 0;
}
static int on_batch_end(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  (void)cb, (void)logs;
  return crash_epoch == 4 && batch == 7 ? KCB_ECALLBACK : 0;
}

/* One attempt of the run: returns fit's code. */
static int attempt(kcb_model *m, kcb_tensor *x, kcb_tensor *y, const char *dir, int crash) {
  char tmpl[4096], backup[4096];
  snprintf(tmpl, sizeof tmpl, "%s/ckpt/w.{epoch:02d}-{val_loss:.4f}.weights.h5", dir);
  snprintf(backup, sizeof backup, "%s/backup", dir);
  kcb_model_checkpoint_options mo = KCB_MODEL_CHECKPOINT_OPTIONS_INIT;
  mo.save_weights_only = 1;
  mo.save_top_k = 3;
  mo.save_last = 1;
  kcb_backup_and_restore_options bo = KCB_BACKUP_AND_RESTORE_OPTIONS_INIT;
  bo.save_freq = 5;
  kcb_callback_ops crash_ops = {.on_epoch_begin = on_epoch_begin, .on_train_batch_end = on_batch_end};
  kcb_callback *cbs[3] = {NULL};
  check(kcb_model_checkpoint_new(&cbs[0], tmpl, &mo), "ModelCheckpoint");
  check(kcb_backup_and_restore_new(&cbs[1], backup, &bo), "BackupAndRestore");
  check(kcb_lambda_callback_new(&cbs[2], &crash_ops, NULL), "LambdaCallback");
  kcb_fit_options f = KCB_FIT_OPTIONS_INIT;
  f.epochs = 8;
  f.batch_size = 16;
  f.verbose = 0;
  f.validation_split = 0.2;
  f.callbacks = cbs;
  f.n_callbacks = crash ? 3 : 2;
  int rc = kcb_model_fit(m, x, y, &f, NULL);
  for (size_t i = 0; i < 3; i++) kcb_callback_free(cbs[i]);
  return rc;
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : ".";
  /* two rings: class 0 inside radius 1, class 1 outside */
  int64_t n = 400, xs[2] = {n, 2}, ys[1] = {n};
  kcb_tensor *x = NULL, *y = NULL;
  check(kcb_tensor_new(&x, 2, xs), "x");
  check(kcb_tensor_new(&y, 1, ys), "y");
  for (int64_t i = 0; i < n; i++) {
    double r = (i % 2 ? 1.5 : 0.5) + 0.3 * sin((double)i * 12.9898), a = (double)i * 0.618 * 6.2831853;
    x->data[2 * i] = (float)(r * cos(a));
    x->data[2 * i + 1] = (float)(r * sin(a));
    y->data[i] = (float)(i % 2);
  }

  kcb_model *m = new_model();
  int rc = attempt(m, x, y, dir, 1);
  printf("first attempt: %s in epoch 5 (the backup stays)\n", kcb_error_name(rc));
  kcb_model_free(m);
  m = new_model(); /* a new process: same seed, same arguments */
  check(attempt(m, x, y, dir, 0), "second attempt");
  printf("second attempt: resumed from the backup and finished\n");

  char ref_dir[4096];
  snprintf(ref_dir, sizeof ref_dir, "%s/reference", dir);
  kcb_model *ref = new_model();
  check(attempt(ref, x, y, ref_dir, 0), "uninterrupted run");
  size_t count = kcb_model_param_count(m);
  float *a = malloc(count * sizeof *a), *b = malloc(count * sizeof *b);
  check(kcb_model_get_weights(m, a, count) || kcb_model_get_weights(ref, b, count), "get_weights");
  printf("resumed run vs uninterrupted run: weights %s\n", memcmp(a, b, count * sizeof *a) == 0 ? "identical" : "DIFFER");

  /* rank what ModelCheckpoint kept, as `kcb-restore DIR/ckpt --monitor val_loss` does */
  char ckpt_dir[4096], best[4096];
  snprintf(ckpt_dir, sizeof ckpt_dir, "%s/ckpt", dir);
  const char *paths[] = {ckpt_dir};
  kcb_checkpoint_ranking *r = NULL;
  check(kcb_checkpoint_rank(&r, paths, 1, NULL), "rank");
  for (size_t i = 0; i < r->count; i++) {
    char v[32];
    printf("  %zu  %s  epoch %lld  val_loss %s (%s)\n", r->entries[i].rank, r->entries[i].path,
           (long long)r->entries[i].epoch + 1, kcb_format_double(r->entries[i].value, v, sizeof v),
           kcb_rank_source_name(r->entries[i].source));
  }
  snprintf(best, sizeof best, "%s/best.weights.h5", dir);
  check(kcb_checkpoint_export(r->entries[0].path, best, KCB_LAYOUT_AUTO), "export");
  printf("best: %s -> %s (read back and compared)\n", r->entries[0].path, best);
  kcb_checkpoint_ranking_free(r);
  free(a);
  free(b);
  kcb_model_free(ref);
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
  return 0;
}
