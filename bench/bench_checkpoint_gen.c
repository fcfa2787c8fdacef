/* bench_checkpoint_gen — checkpoints for bench/bench_checkpoint.sh, written by kcb itself:
 *   bench_checkpoint_gen big DIR MB      one .weights.h5 of about MB megabytes (Dense layers of 4096)
 *   bench_checkpoint_gen many DIR N      N small checkpoints w.<epoch>-<val_loss>.weights.h5 and .h5 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcb/kcb.h"

static int fail(const char *what) {
  fprintf(stderr, "bench_checkpoint_gen: %s: %s\n", what, kcb_error_last());
  return 1;
}

static kcb_model *model(int64_t in, const char *spec) {
  kcb_model *m = NULL;
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_SGD);
  c.loss = KCB_LOSS_MEAN_SQUARED_ERROR;
  if (kcb_model_new(&m, 1, &in, 7) || kcb_model_add_from_spec(m, spec) || kcb_model_compile(m, &c)) {
    kcb_model_free(m);
    return NULL;
  }
  return m;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: bench_checkpoint_gen big DIR MB | many DIR N\n");
    return 2;
  }
  char path[4096];
  long n = atol(argv[3]);
  kcb_save_options so = KCB_SAVE_OPTIONS_INIT;
  so.include_optimizer = 0;
  if (strcmp(argv[1], "big") == 0) {
    /* 4096x4096 floats = 64 MiB a layer */
    long layers = n / 64 > 0 ? n / 64 : 1;
    char spec[8192] = "";
    for (long i = 0; i < layers; i++) strcat(spec, i ? ",4096" : "4096");
    kcb_model *m = model(4096, spec);
    if (!m) return fail("model");
    snprintf(path, sizeof path, "%s/big.weights.h5", argv[2]);
    if (kcb_model_save(m, path, &so)) return fail(path);
    kcb_model_free(m);
    return 0;
  }
  kcb_model *m = model(784, "64:relu,10:softmax");
  if (!m) return fail("model");
  for (long i = 0; i < n; i++) {
    so.monitor = "val_loss";
    so.monitor_value = 1.0 / (double)(i + 1);
    so.epoch = i;
    snprintf(path, sizeof path, "%s/w.%04ld-%.4f.%s", argv[2], i + 1, so.monitor_value, i % 2 ? "h5" : "weights.h5");
    if (kcb_model_save(m, path, &so)) return fail(path);
  }
  kcb_model_free(m);
  return 0;
}
