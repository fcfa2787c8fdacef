/* tfevents_sample — writes one event file with every summary kind, for the independent-decoder
 * test (tests/cli/tfevents_decode.sh). Usage: tfevents_sample DIR; prints the file's path. */
#include <stdio.h>

#include "kcb/kcb.h"

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: tfevents_sample DIR\n");
    return 2;
  }
  kcb_summary_writer *w;
  int rc = kcb_summary_writer_new(&w, argv[1], NULL);
  if (rc) goto fail;
  kcb_summary_writer_set_wall_time(w, 1700000000.25);
  float hist[4] = {0, 1, 2, 3};
  uint8_t rgb[2 * 3 * 3] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90};
  float clip[4] = {0.0f, 0.5f, -0.5f, 1.0f};
  kcb_hparam hp[3] = {{"lr", KCB_HPARAM_NUMBER, 0.01, NULL, 0}, {"optimizer", KCB_HPARAM_STRING, 0, "adam", 0},
                      {"use_bn", KCB_HPARAM_BOOL, 0, NULL, 1}};
  kcb_hparam_metric metric = {"validation", "epoch_loss"};
  if ((rc = kcb_summary_writer_add_scalar(w, "loss", 0.25, 3)) || (rc = kcb_summary_writer_add_scalar(w, "loss", 0.5, 4)) ||
      (rc = kcb_summary_writer_add_histogram(w, "w", hist, 4, 2, 5)) ||
      (rc = kcb_summary_writer_add_images(w, "img", rgb, 1, 2, 3, 3, 6)) ||
      (rc = kcb_summary_writer_add_text(w, "t", "hello", 7)) ||
      (rc = kcb_summary_writer_add_audio(w, "a", clip, 4, 1, 16000, "clip", 8)) ||
      (rc = kcb_summary_writer_add_hparams_experiment(w, hp, 3, &metric, 1)) ||
      (rc = kcb_summary_writer_add_hparams_session_start(w, hp, 3, "g", 1700000000.0)) ||
      (rc = kcb_summary_writer_add_hparams_session_end(w, KCB_HPARAM_STATUS_SUCCESS, 1700000001.0)) ||
      (rc = kcb_summary_writer_add_session_start(w, 9)) ||
      (rc = kcb_summary_writer_add_images(w, "gray", rgb, 2, 3, 3, 1, 10)) ||
      (rc = kcb_summary_writer_add_images(w, "rgba", rgb, 1, 2, 2, 4, 11)))
    goto fail;
  printf("%s\n", kcb_summary_writer_path(w));
  if ((rc = kcb_summary_writer_close(w))) goto fail;
  return 0;
fail:
  fprintf(stderr, "tfevents_sample: %s (%s)\n", kcb_error_last(), kcb_error_name(rc));
  return 1;
}
