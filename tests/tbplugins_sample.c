/* tbplugins_sample — writes a PR curve, one-vs-rest PR curves, a custom-scalars layout and a
 * projector run, for the independent-decoder test (tests/cli/tbplugins_decode.sh).
 * Usage: tbplugins_sample DIR; prints the event file's path. The inputs are fixed so that the test
 * recomputes every expected value itself. */
#include <stdio.h>

#include "kcb/kcb.h"

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: tbplugins_sample DIR\n");
    return 2;
  }
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/run", argv[1]);
  kcb_summary_writer *w;
  int rc = kcb_summary_writer_new(&w, dir, NULL);
  if (rc) goto fail;
  kcb_summary_writer_set_wall_time(w, 1700000000.5);
  /* binary: 10 samples, 5 thresholds, weights on the last call */
  float labels[10] = {1, 0, 1, 1, 0, 0, 1, 0, 1, 0};
  float preds[10] = {0.9f, 0.1f, 0.75f, 0.5f, 0.5f, 0.3f, 0.2f, 0.8f, 1.0f, 0.0f};
  float weights[10] = {1, 2, 1, 0.5f, 1, 1, 3, 1, 1, 1};
  /* three classes, 6 samples */
  float cls[6] = {0, 1, 2, 2, 1, 0};
  float probs[18] = {0.7f, 0.2f, 0.1f, 0.1f, 0.8f, 0.1f, 0.2f, 0.2f, 0.6f,
                     0.3f, 0.3f, 0.4f, 0.5f, 0.4f, 0.1f, 0.4f, 0.35f, 0.25f};
  const char *names[3] = {"cat", "dog", "bird"};
  const char *loss_tags[2] = {"epoch_loss", "epoch_val_loss"};
  kcb_margin_series band = {"acc", "acc_lo", "acc_hi"};
  kcb_custom_chart charts[2] = {{"loss", loss_tags, 2, NULL, 0}, {"band", NULL, 0, &band, 1}};
  kcb_custom_category cats[2] = {{"main", charts, 1, 0}, {"extra", charts + 1, 1, 1}};
  const char *metrics[2] = {"loss", "accuracy"};
  if ((rc = kcb_summary_writer_add_pr_curve(w, "bin/pr_curves", labels, preds, NULL, 10, 5, 1)) ||
      (rc = kcb_summary_writer_add_pr_curve(w, "bin/pr_curves", labels, preds, weights, 10, 5, 2)) ||
      (rc = kcb_summary_writer_add_pr_curves_multiclass(w, "pr/", names, 3, cls, probs, 6, 0, 3)) ||
      (rc = kcb_summary_writer_add_custom_scalars(w, cats, 2, 0)) ||
      (rc = kcb_summary_writer_add_default_layout(w, metrics, 2)))
    goto fail;
  printf("%s\n", kcb_summary_writer_path(w));
  if ((rc = kcb_summary_writer_close(w))) goto fail;

  /* projector: a binary tensor with two metadata columns and an RGB sprite, a TSV one with one */
  enum { R = 5, D = 3 };
  float data[R * D];
  for (int i = 0; i < R * D; i++) data[i] = (float)(i - 7) * 0.37f;
  const char *label[R] = {"a", "b", "c", "d", "e"}, *kind[R] = {"x", "", "y", "x", "z"};
  const char *const cols[2] = {"label", "kind"};
  const char *const *values[2] = {label, kind};
  uint8_t images[R * 2 * 3 * 3];
  for (int i = 0; i < (int)sizeof images; i++) images[i] = (uint8_t)(i * 7 + 1);
  kcb_embedding emb[2] = {{.name = "features", .data = data, .rows = R, .dims = D, .column_names = cols,
                           .columns = values, .n_columns = 2, .metadata_rows = R, .images = images,
                           .image_height = 2, .image_width = 3, .image_channels = 3},
                          {.name = "plain", .rows = R - 1, .dims = D, .columns = values, .n_columns = 1,
                           .metadata_rows = R - 1}};
  /* the TSV one given row by row */
  const float *rows[R - 1] = {data, data + D, data + 2 * D, data + 3 * D};
  const size_t lengths[R - 1] = {D, D, D, D};
  emb[1].row_data = rows;
  emb[1].row_lengths = lengths;
  kcb_projector_options po = KCB_PROJECTOR_OPTIONS_INIT;
  if ((rc = kcb_projector_write(dir, emb, 1, &po))) goto fail;
  po.format = KCB_PROJECTOR_TSV;
  snprintf(dir, sizeof dir, "%s/tsv", argv[1]);
  if ((rc = kcb_projector_write(dir, emb + 1, 1, &po))) goto fail;
  return 0;
fail:
  fprintf(stderr, "tbplugins_sample: %s (%s)\n", kcb_error_last(), kcb_error_name(rc));
  return 1;
}
