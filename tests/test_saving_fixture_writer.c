/* test_saving_fixture_writer.c (program saving_write_fixture) — writes kcb's files for the Keras fixture model, for
 * tests/cli/saving_structure.py to compare with Keras's own files using h5py and h5dump.
 * Usage: saving_write_fixture DATA_DIR OUT_DIR  (DATA_DIR holds the fixture w.weights.h5) */
#include <stdio.h>

#include "kcb/kcb.h"

static int fail(const char *what) {
  fprintf(stderr, "saving_write_fixture: %s: %s\n", what, kcb_error_last());
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: saving_write_fixture DATA_DIR OUT_DIR\n");
    return 2;
  }
  kcb_model *m = NULL;
  int64_t in = 784;
  kcb_metric acc = KCB_METRIC_ACCURACY;
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
  c.loss = KCB_LOSS_CATEGORICAL_CROSSENTROPY;
  c.metrics = &acc;
  c.n_metrics = 1;
  char path[4096];
  if (kcb_model_new(&m, 1, &in, 0) || kcb_model_add_from_spec(m, "32:relu,10:softmax") || kcb_model_compile(m, &c))
    return fail("building the model");
  kcb_load_options lo = KCB_LOAD_OPTIONS_INIT;
  lo.optimizer = KCB_LOAD_OPTIMIZER_REQUIRE;
  snprintf(path, sizeof path, "%s/w.weights.h5", argv[1]);
  if (kcb_model_load_weights(m, path, &lo)) return fail(path);
  /* the same names as the fixtures, each in its layout */
  const char *names[] = {"m.h5", "w_legacy.h5", "w.weights.h5", "m.keras"};
  for (int i = 0; i < 4; i++) {
    kcb_save_options so = KCB_SAVE_OPTIONS_INIT;
    so.monitor = "val_loss";
    so.monitor_value = 0.5;
    so.epoch = 3;
    if (i == 1) so.layout = KCB_LAYOUT_LEGACY_WEIGHTS_H5;
    snprintf(path, sizeof path, "%s/%s", argv[2], names[i]);
    if (kcb_model_save(m, path, &so)) return fail(path);
  }
  kcb_model_free(m);
  return 0;
}
