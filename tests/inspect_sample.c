/* inspect_sample OUTDIR — writes the kcb log directories the kcb-inspect tests read, through the
 * public summary writer, with values the tests can state independently (exact binary fractions):
 *
 * OUTDIR/logs/{adam,sgd}/train       epoch_loss = 2 - e/16 (adam) or 2 - e/32 (sgd), epoch_accuracy
 *                                    = e/32 (adam) or e/64 (sgd), e = 0..19; histogram dense/kernel
 *                                    (steps 0 and 10: values i/8, i = 0..63, 8 buckets); image
 *                                    samples (step 0: 3x4 RGB); text notes (step 0)
 * OUTDIR/logs/{adam,sgd}/validation  epoch_loss = 2.5 - e/16 (adam) or 2.5 - e/32 (sgd), epoch_accuracy
 * OUTDIR/logs/{adam,sgd}             hparams: optimizer, lr (0.001 / 0.01), batch_size 32, shuffle
 *                                    true; metrics train/epoch_loss, validation/epoch_loss and
 *                                    validation/epoch_accuracy; session end success
 * OUTDIR/resumed                     value = step for steps 0..9, then a resumed writer (purge_step 5)
 *                                    writes value = 100 + step for steps 5..7
 * OUTDIR/ckpt.weights.h5, ckpt.keras  a model 4 -> 3 (relu) -> 2 saved with monitor val_loss = 0.25
 *                                    at epoch 4
 * Wall times are 1700000000 + step. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kcb/kcb.h>

static int check(int rc, const char *what) {
  if (rc) fprintf(stderr, "inspect_sample: %s: %s\n", what, kcb_error_last());
  return rc;
}

static int write_run(const char *dir, const char *opt, double lr, int slow) {
  char path[1024];
  kcb_summary_writer *w = NULL;
  int rc = 0;
  double div = slow ? 32.0 : 16.0;
  /* train */
  snprintf(path, sizeof path, "%s/%s/train", dir, opt);
  if ((rc = check(kcb_summary_writer_new(&w, path, NULL), path))) return rc;
  for (int e = 0; e < 20 && !rc; e++) {
    kcb_summary_writer_set_wall_time(w, 1700000000.0 + e);
    rc = kcb_summary_writer_add_scalar(w, "epoch_loss", 2.0 - e / div, e);
    if (!rc) rc = kcb_summary_writer_add_scalar(w, "epoch_accuracy", e / (2 * div), e);
    if (!rc && e % 10 == 0) {
      float v[64];
      for (int i = 0; i < 64; i++) v[i] = (float)i / 8.0f + (float)e;
      rc = kcb_summary_writer_add_histogram(w, "dense/kernel", v, 64, 8, e);
    }
    if (!rc && e == 0) {
      uint8_t px[3 * 4 * 3];
      for (int i = 0; i < 36; i++) px[i] = (uint8_t)(i * 7);
      rc = kcb_summary_writer_add_images(w, "samples", px, 1, 3, 4, 3, e);
      if (!rc) rc = kcb_summary_writer_add_text(w, "notes", slow ? "sgd run\n**momentum** 0" : "adam run", e);
    }
  }
  if (check(rc, "train") || check(kcb_summary_writer_close(w), "close")) return 1;
  /* validation */
  snprintf(path, sizeof path, "%s/%s/validation", dir, opt);
  if ((rc = check(kcb_summary_writer_new(&w, path, NULL), path))) return rc;
  for (int e = 0; e < 20 && !rc; e++) {
    kcb_summary_writer_set_wall_time(w, 1700000000.0 + e);
    rc = kcb_summary_writer_add_scalar(w, "epoch_loss", 2.5 - e / div, e);
    if (!rc) rc = kcb_summary_writer_add_scalar(w, "epoch_accuracy", e / (4 * div), e);
  }
  if (check(rc, "validation") || check(kcb_summary_writer_close(w), "close")) return 1;
  /* the hparams session */
  snprintf(path, sizeof path, "%s/%s", dir, opt);
  if ((rc = check(kcb_summary_writer_new(&w, path, NULL), path))) return rc;
  kcb_summary_writer_set_wall_time(w, 1700000000.0);
  kcb_hparam hp[4] = {{"optimizer", KCB_HPARAM_STRING, 0, opt, 0},
                      {"lr", KCB_HPARAM_NUMBER, lr, NULL, 0},
                      {"batch_size", KCB_HPARAM_NUMBER, 32, NULL, 0},
                      {"shuffle", KCB_HPARAM_BOOL, 0, NULL, 1}};
  kcb_hparam_metric m[3] = {{"train", "epoch_loss"}, {"validation", "epoch_loss"}, {"validation", "epoch_accuracy"}};
  rc = kcb_summary_writer_add_hparams_experiment(w, hp, 4, m, 3);
  if (!rc) rc = kcb_summary_writer_add_hparams_session_start(w, hp, 4, NULL, 1700000000.0);
  if (!rc) rc = kcb_summary_writer_add_hparams_session_end(w, KCB_HPARAM_STATUS_SUCCESS, 1700000020.0);
  if (check(rc, "hparams") || check(kcb_summary_writer_close(w), "close")) return 1;
  return 0;
}

static int write_resumed(const char *dir) {
  char path[1024];
  snprintf(path, sizeof path, "%s/resumed", dir);
  kcb_summary_writer *w = NULL;
  int rc = check(kcb_summary_writer_new(&w, path, NULL), path);
  for (int s = 0; s < 10 && !rc; s++) {
    kcb_summary_writer_set_wall_time(w, 1700000000.0 + s);
    rc = kcb_summary_writer_add_scalar(w, "loss", s, s);
  }
  if (check(rc, "resumed") || check(kcb_summary_writer_close(w), "close")) return 1;
  kcb_summary_writer_options o = KCB_SUMMARY_WRITER_OPTIONS_INIT;
  o.purge_step = 5;
  o.filename_suffix = ".resumed"; /* sorts after the first file */
  if ((rc = check(kcb_summary_writer_new(&w, path, &o), path))) return rc;
  for (int s = 5; s < 8 && !rc; s++) {
    kcb_summary_writer_set_wall_time(w, 1700000100.0 + s);
    rc = kcb_summary_writer_add_scalar(w, "loss", 100 + s, s);
  }
  if (check(rc, "resumed") || check(kcb_summary_writer_close(w), "close")) return 1;
  return 0;
}

static int write_checkpoints(const char *dir) {
  kcb_model *m = NULL;
  int64_t shape[1] = {4};
  int rc = check(kcb_model_new(&m, 1, shape, 7), "model");
  if (!rc) rc = check(kcb_model_add_from_spec(m, "3:relu,2"), "spec");
  kcb_compile_options co = {KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM), KCB_LOSS_MEAN_SQUARED_ERROR, 0, NULL, 0, NULL};
  if (!rc) rc = check(kcb_model_compile(m, &co), "compile");
  kcb_save_options so = KCB_SAVE_OPTIONS_INIT;
  so.monitor = "val_loss";
  so.monitor_value = 0.25;
  so.epoch = 4;
  const char *names[2] = {"ckpt.weights.h5", "ckpt.keras"};
  for (int i = 0; i < 2 && !rc; i++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    rc = check(kcb_model_save(m, path, &so), path);
  }
  kcb_model_free(m);
  return rc;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: inspect_sample OUTDIR\n");
    return 2;
  }
  char logs[1024];
  snprintf(logs, sizeof logs, "%s/logs", argv[1]);
  if (write_run(logs, "adam", 0.001, 0) || write_run(logs, "sgd", 0.01, 1) || write_resumed(argv[1]) ||
      write_checkpoints(argv[1]))
    return 1;
  return 0;
}
