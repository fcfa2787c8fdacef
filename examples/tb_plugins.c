/* tb_plugins — TensorBoard's other dashboards from C: PR curves, custom scalars, the projector and a
 * profile trace.
 *
 *   ./tb_plugins [LOGDIR]      (default: logs/tb_plugins_example), then
 *   tensorboard --logdir LOGDIR   (PR Curves, Custom Scalars, Projector tabs)
 *
 * 1. fits a 3-class classifier on synthetic data with the TensorBoard callback writing per-class
 *    PR curves of the validation set, the default custom-scalars layout and a trace of batches 3-4;
 * 2. writes a custom layout of its own (a margin chart) with a summary writer;
 * 3. writes the hidden layer's outputs for the projector, with two metadata columns and a sprite
 *    of colour swatches, and reads the projector config back. Only the public API. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcb/kcb.h"

static int fail(const char *what, int rc) {
  fprintf(stderr, "tb_plugins example: %s: %s (%s)\n", what, kcb_error_last(), kcb_error_name(rc));
  return 1;
}

/* Three noisy blobs on a circle, one per class, 2 features. */
static void make_data(kcb_tensor *x, kcb_tensor *y) {
  uint64_t s = 7;
  for (int64_t i = 0; i < y->shape[0]; i++) {
    int c = (int)(i % 3);
    for (int j = 0; j < 2; j++) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      double noise = 1.6 * ((double)(s >> 11) / 9007199254740992.0 - 0.5);
      x->data[i * 2 + j] = (float)(cos(2.0944 * c + j * 1.5708) + noise);
    }
    y->data[i] = (float)c;
  }
}

int main(int argc, char **argv) {
  const char *logdir = argc > 1 ? argv[1] : "logs/tb_plugins_example";
  int64_t xs[2] = {600, 2}, ys[1] = {600}, in = 2;
  kcb_tensor *x = NULL, *y = NULL, *hidden = NULL;
  kcb_model *model = NULL;
  kcb_callback *tb = NULL;
  kcb_summary_writer *w = NULL;
  int rc;
  if ((rc = kcb_tensor_new(&x, 2, xs)) || (rc = kcb_tensor_new(&y, 1, ys))) return fail("data", rc);
  make_data(x, y);

  /* 1. the fit */
  kcb_metric acc = KCB_METRIC_ACCURACY;
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
  c.optimizer.learning_rate = 0.01;
  c.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  c.metrics = &acc;
  c.n_metrics = 1;
  const char *classes[3] = {"red", "green", "blue"};
  kcb_tensorboard_options o = KCB_TENSORBOARD_OPTIONS_INIT;
  o.log_dir = logdir;
  o.pr_curves = 51;            /* thresholds 0, 0.02, ..., 1 */
  o.class_names = classes;
  o.n_class_names = 3;
  o.custom_scalars = 1;        /* loss with val_loss, accuracy with val_accuracy */
  o.profile_batch_start = 3;   /* Keras's profile_batch=(3, 4) */
  o.profile_batch_stop = 4;
  kcb_fit_options f = KCB_FIT_OPTIONS_INIT;
  f.epochs = 4;
  f.verbose = 0;
  f.validation_split = 0.25;
  f.shuffle = 1;
  if ((rc = kcb_model_new(&model, 1, &in, 1)) || (rc = kcb_model_add_from_spec(model, "16:relu,8:tanh,3:softmax")) ||
      (rc = kcb_model_compile(model, &c)) || (rc = kcb_tensorboard_new(&tb, &o))) {
    rc = fail("model", rc);
    goto done;
  }
  f.callbacks = &tb;
  f.n_callbacks = 1;
  if ((rc = kcb_model_fit(model, x, y, &f, NULL))) {
    rc = fail("fit", rc);
    goto done;
  }
  printf("trace: %s\n", kcb_tensorboard_profile_path(tb) ? "written" : "missing");

  /* 2. a layout of one's own: a margin chart of three scalars, written by hand */
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/extra", logdir);
  if ((rc = kcb_summary_writer_new(&w, dir, NULL))) {
    rc = fail("writer", rc);
    goto done;
  }
  for (int step = 0; step < 10; step++) {
    double mean = 1.0 / (1 + step);
    if ((rc = kcb_summary_writer_add_scalar(w, "loss/mean", mean, step)) ||
        (rc = kcb_summary_writer_add_scalar(w, "loss/low", mean * 0.8, step)) ||
        (rc = kcb_summary_writer_add_scalar(w, "loss/high", mean * 1.2, step))) {
      rc = fail("scalars", rc);
      goto done;
    }
  }
  kcb_margin_series band = {"loss/mean", "loss/low", "loss/high"};
  const char *all_losses[1] = {"loss/.*"};
  kcb_custom_chart charts[2] = {{"loss with its band", NULL, 0, &band, 1}, {"every loss", all_losses, 1, NULL, 0}};
  kcb_custom_category cat = {"extra", charts, 2, 0};
  if ((rc = kcb_summary_writer_add_custom_scalars(w, &cat, 1, 0)) || (rc = kcb_summary_writer_close(w))) {
    w = NULL;
    rc = fail("layout", rc);
    goto done;
  }
  w = NULL;

  /* 3. the projector: the 8-unit hidden layer (layer 1) for 300 samples */
  kcb_tensor first = *x;
  first.shape[0] = 300;
  if ((rc = kcb_model_predict_layer(model, &first, 1, 64, &hidden))) {
    rc = fail("predict_layer", rc);
    goto done;
  }
  const char *label[300], *half[300];
  uint8_t swatches[300 * 4 * 4 * 3]; /* a 4x4 swatch in the class's colour */
  for (int i = 0; i < 300; i++) {
    int k = (int)y->data[i];
    label[i] = classes[k];
    half[i] = i < 150 ? "first" : "second";
    for (int p = 0; p < 16; p++)
      for (int ch = 0; ch < 3; ch++) swatches[(i * 16 + p) * 3 + ch] = ch == k ? 255 : 40;
  }
  const char *const names[2] = {"class", "half"};
  const char *const *columns[2] = {label, half};
  kcb_embedding e = {.name = "hidden", .data = hidden->data, .rows = 300, .dims = 8, .column_names = names,
                     .columns = columns, .n_columns = 2, .metadata_rows = 300, .images = swatches,
                     .image_height = 4, .image_width = 4, .image_channels = 3};
  if ((rc = kcb_projector_write(logdir, &e, 1, NULL))) {
    rc = fail("projector", rc);
    goto done;
  }
  kcb_projector_embedding_info *info = NULL;
  size_t n = 0;
  if ((rc = kcb_projector_read(logdir, &info, &n))) {
    rc = fail("projector read", rc);
    goto done;
  }
  for (size_t i = 0; i < n; i++)
    printf("projector: %s %lld x %lld (%s), metadata %lld rows [%s], sprite %dx%d%s%s\n", info[i].tensor_name,
           info[i].rows, info[i].dims, info[i].format, info[i].metadata_rows, info[i].metadata_columns,
           info[i].sprite_width, info[i].sprite_height, info[i].problem[0] ? ", problem: " : "", info[i].problem);
  free(info);

  /* the PR curves the callback wrote, read back: the area under each class's last curve */
  kcb_event_reader *r = NULL;
  snprintf(dir, sizeof dir, "%s/validation", logdir);
  if ((rc = kcb_event_reader_open(&r, dir))) {
    rc = fail("reader", rc);
    goto done;
  }
  const kcb_event *ev;
  while ((rc = kcb_event_reader_next(r, &ev)) == 1)
    for (size_t i = 0; i < ev->n_values; i++) {
      kcb_pr_curve_view pr;
      if (kcb_pr_curve_from_value(&ev->values[i], &pr) != 0 || ev->step != f.epochs - 1) continue;
      float *d = malloc(6 * (size_t)pr.num_thresholds * sizeof *d);
      for (int row = 0; row < 6; row++)
        for (int t = 0; t < pr.num_thresholds; t++) d[row * pr.num_thresholds + t] = kcb_pr_curve_view_get(&pr, row, t);
      printf("PR curve %s at epoch %lld: %d thresholds, AUC %.3f\n", ev->values[i].tag, (long long)ev->step,
             pr.num_thresholds, kcb_pr_curve_auc(d, pr.num_thresholds));
      free(d);
    }
  kcb_event_reader_free(r);
  rc = rc < 0 ? fail("reading", rc) : 0;
done:
  kcb_summary_writer_free(w);
  kcb_callback_free(tb);
  kcb_model_free(model);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
  kcb_tensor_free(hidden);
  return rc;
}
