/* tensorboard — log a fit for TensorBoard, add your own summaries, and read the logs back.
 *
 *   ./tensorboard [LOGDIR]      (default: logs/tensorboard_example), then
 *   tensorboard --logdir LOGDIR
 *
 * 1. fits a small classifier on synthetic data with the TensorBoard callback (Keras's tags:
 *    epoch_loss, batch_loss, weight histograms and images, the model config) and hyperparameters;
 * 2. writes extra summaries with a kcb_summary_writer, which needs no model;
 * 3. reads every run back with the reader and prints what each holds. Only the public API. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcb/kcb.h"

static int fail(const char *what, int rc) {
  fprintf(stderr, "tensorboard example: %s: %s (%s)\n", what, kcb_error_last(), kcb_error_name(rc));
  return 1;
}

/* Two Gaussian blobs per class, 3 classes, 2 features. */
static void make_data(kcb_tensor *x, kcb_tensor *y) {
  uint64_t s = 42;
  for (int64_t i = 0; i < y->shape[0]; i++) {
    int c = (int)(i % 3);
    for (int j = 0; j < 2; j++) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      double noise = (double)(s >> 11) / 9007199254740992.0 - 0.5;
      x->data[i * 2 + j] = (float)(cos(2.0944 * c + j * 1.5708) + noise);
    }
    y->data[i] = (float)c;
  }
}

int main(int argc, char **argv) {
  const char *logdir = argc > 1 ? argv[1] : "logs/tensorboard_example";
  int64_t xs[2] = {600, 2}, ys[1] = {600}, in = 2;
  kcb_tensor *x = NULL, *y = NULL;
  kcb_model *model = NULL;
  kcb_callback *tb = NULL;
  kcb_summary_writer *w = NULL;
  kcb_event_reader *r = NULL;
  char **runs = NULL;
  size_t n_runs = 0;
  int rc, status = 1;
  if ((rc = kcb_tensor_new(&x, 2, xs)) || (rc = kcb_tensor_new(&y, 1, ys))) {
    fail("data", rc);
    goto done;
  }
  make_data(x, y);

  /* 1. fit with TensorBoard: logdir/train, logdir/validation, hparams in logdir itself */
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
  c.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  kcb_metric acc = KCB_METRIC_ACCURACY;
  c.metrics = &acc;
  c.n_metrics = 1;
  if ((rc = kcb_model_new(&model, 1, &in, 7)) || (rc = kcb_model_add_from_spec(model, "16:relu,3:softmax")) ||
      (rc = kcb_model_compile(model, &c))) {
    fail("model", rc);
    goto done;
  }
  kcb_hparam hparams[] = {{"units", KCB_HPARAM_NUMBER, 16, NULL, 0}, {"optimizer", KCB_HPARAM_STRING, 0, "adam", 0}};
  kcb_tensorboard_options o = KCB_TENSORBOARD_OPTIONS_INIT;
  o.log_dir = logdir;
  o.histogram_freq = 1;
  o.write_images = 1;
  o.update_freq = 5; /* batch_* scalars every 5 batches */
  o.hparams = hparams;
  o.n_hparams = 2;
  if ((rc = kcb_tensorboard_new(&tb, &o))) {
    fail("TensorBoard", rc);
    goto done;
  }
  kcb_fit_options f = KCB_FIT_OPTIONS_INIT;
  f.epochs = 4;
  f.verbose = 0;
  f.validation_split = 0.2;
  f.callbacks = &tb;
  f.n_callbacks = 1;
  if ((rc = kcb_model_fit(model, x, y, &f, NULL))) {
    fail("fit", rc);
    goto done;
  }

  /* 2. your own summaries, in a run of their own */
  char extra[1024];
  snprintf(extra, sizeof extra, "%s/extra", logdir);
  if ((rc = kcb_summary_writer_new(&w, extra, NULL))) {
    fail("summary writer", rc);
    goto done;
  }
  uint8_t gradient[16 * 32 * 3];
  for (int i = 0; i < 16; i++)
    for (int j = 0; j < 32; j++) {
      uint8_t *p = &gradient[(i * 32 + j) * 3];
      p[0] = (uint8_t)(j * 8), p[1] = (uint8_t)(i * 16), p[2] = 128;
    }
  float tone[800];
  for (int i = 0; i < 800; i++) tone[i] = 0.5f * (float)sin(2 * 3.14159265 * 440 * i / 8000.0);
  for (int step = 0; step < 3 && !rc; step++) rc = kcb_summary_writer_add_scalar(w, "custom/sine", sin(step), step);
  if (!rc) rc = kcb_summary_writer_add_text(w, "notes", "Trained **16:relu,3:softmax** on synthetic blobs.", 0);
  if (!rc) rc = kcb_summary_writer_add_images(w, "gradient", gradient, 1, 16, 32, 3, 0);
  if (!rc) rc = kcb_summary_writer_add_audio(w, "tone", tone, 800, 1, 8000, "440 Hz", 0);
  if (!rc) rc = kcb_summary_writer_close(w);
  w = NULL;
  if (rc) {
    fail("summaries", rc);
    goto done;
  }

  /* 3. read every run back */
  if ((rc = kcb_tfevents_list_runs(logdir, &runs, &n_runs))) {
    fail("runs", rc);
    goto done;
  }
  for (size_t i = 0; i < n_runs; i++) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", logdir, runs[i]);
    if ((rc = kcb_event_reader_open(&r, path))) {
      fail(path, rc);
      goto done;
    }
    const kcb_event *e;
    int events = 0, values[8] = {0};
    double last_epoch_loss = NAN;
    while ((rc = kcb_event_reader_next(r, &e)) == 1) {
      events++;
      for (size_t k = 0; k < e->n_values; k++) {
        values[e->values[k].kind]++;
        if (strcmp(e->values[k].tag, "epoch_loss") == 0) last_epoch_loss = e->values[k].scalar;
      }
    }
    kcb_event_reader_free(r);
    r = NULL;
    if (rc) {
      fail(path, rc);
      goto done;
    }
    printf("run %-10s %3d events:", runs[i], events);
    const char *sep = " ";
    for (int k = 1; k < 8; k++)
      if (values[k]) {
        printf("%s%d %s", sep, values[k], kcb_summary_kind_name((kcb_summary_kind)k));
        sep = ", ";
      }
    if (!isnan(last_epoch_loss)) printf("; last epoch_loss %.4f", last_epoch_loss);
    printf("\n");
  }
  printf("now run: tensorboard --logdir %s\n", logdir);
  status = 0;
done:
  kcb_string_list_free(runs, n_runs);
  kcb_event_reader_free(r);
  kcb_summary_writer_free(w);
  kcb_callback_free(tb);
  kcb_model_free(model);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
  return status;
}
