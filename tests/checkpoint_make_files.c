/* Writes the checkpoint sets tests/cli/kcb_restore.sh ranks: OUT/stored (values stored by kcb,
 * one full model, one cut file), OUT/named (values only in the names), OUT/csv (values only in a
 * CSVLogger file), OUT/none (nothing to rank by). Usage: checkpoint_make_files OUT
 * checkpoint_make_files --resave IN OUT: kcb_model_load(IN) (its optimizer state when it matches)
 * saved as OUT: a file of another Keras rebuilt and re-saved by kcb. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kcb/kcb.h"

static int save(kcb_model *m, const char *out, const char *name, double value, int epoch) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", out, name);
  kcb_save_options so = KCB_SAVE_OPTIONS_INIT;
  if (value == value) {
    so.monitor = "val_loss";
    so.monitor_value = value;
  }
  so.epoch = epoch;
  int rc = kcb_model_save(m, path, &so);
  if (rc) fprintf(stderr, "checkpoint_make_files: %s\n", kcb_error_last());
  return rc;
}

static int resave(const char *in, const char *out) {
  kcb_model *m = NULL;
  kcb_save_options so = KCB_SAVE_OPTIONS_INIT;
  int rc = kcb_model_load(&m, in, NULL);
  if (rc == 0) rc = kcb_model_save(m, out, &so);
  if (rc) fprintf(stderr, "%s\n", kcb_error_last());
  kcb_model_free(m);
  return rc ? 1 : 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "--resave") == 0) return resave(argv[2], argv[3]);
  if (argc != 2) return 2;
  const char *out = argv[1];
  const char *dirs[] = {"", "/stored", "/named", "/csv", "/none"};
  char p[1024];
  for (size_t i = 0; i < 5; i++) {
    snprintf(p, sizeof p, "%s%s", out, dirs[i]);
    mkdir(p, 0777);
  }
  kcb_model *m = NULL;
  int64_t in = 6;
  if (kcb_model_new(&m, 1, &in, 5) || kcb_model_add_from_spec(m, "4:relu,3:softmax")) return 1;
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
  c.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  if (kcb_model_compile(m, &c)) return 1;
  size_t n = kcb_model_param_count(m);
  float *w = malloc(n * sizeof *w);
  int rc = 0;
  const struct { const char *name; double value; int epoch; } files[] = {
      {"stored/a.weights.h5", 0.5, 0}, {"stored/b.weights.h5", 0.2, 1}, {"stored/c.weights.h5", 0.3, 2},
      {"stored/full.keras", 0.25, 3},
      {"named/w.01-0.40.weights.h5", NAN, -1}, {"named/w.02-0.35.weights.h5", NAN, -1}, {"named/w.03-0.38.weights.h5", NAN, -1},
      {"csv/ckpt_epoch1.weights.h5", NAN, -1}, {"csv/ckpt_epoch2.weights.h5", NAN, -1}, {"csv/ckpt_epoch3.weights.h5", NAN, -1},
      {"none/x.weights.h5", NAN, -1}};
  for (size_t i = 0; i < sizeof files / sizeof files[0] && rc == 0; i++) {
    for (size_t k = 0; k < n; k++) w[k] = (float)(i + 1) * 0.01f * (float)(k % 7); /* each file its own weights */
    rc = kcb_model_set_weights(m, w, n) || save(m, out, files[i].name, files[i].value, files[i].epoch);
  }
  free(w);
  kcb_model_free(m);
  /* a checkpoint cut short (as a crash of a non-atomic writer leaves it) */
  snprintf(p, sizeof p, "%s/stored/a.weights.h5", out);
  FILE *src = fopen(p, "rb");
  snprintf(p, sizeof p, "%s/stored/cut.weights.h5", out);
  FILE *dst = fopen(p, "wb");
  char buf[700];
  if (!src || !dst) return 1;
  size_t got = fread(buf, 1, sizeof buf, src);
  fwrite(buf, 1, got, dst);
  fclose(src);
  fclose(dst);
  snprintf(p, sizeof p, "%s/csv/log.csv", out);
  FILE *csv = fopen(p, "wb");
  if (!csv) return 1;
  fputs("epoch,loss,val_loss\r\n0,1.0,0.9\r\n1,0.8,0.6\r\n2,0.7,0.7\r\n", csv);
  fclose(csv);
  return rc ? 1 : 0;
}
