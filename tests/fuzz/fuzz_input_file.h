/* fuzz_input_file.h — the loaders read paths, so each fuzz input goes through one temporary file per
 * process, as a real file would. */
#ifndef KCB_FUZZ_INPUT_FILE_H
#define KCB_FUZZ_INPUT_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kcb/kcb.h"

/* Where the per-process files go: /dev/shm when there is one (memory: the checkpoint writer's two
 * fsyncs per input cost more than everything else a disk-backed /tmp does), else /tmp. */
static inline const char *fuzz_tmp_dir(void) {
  static const char *dir;
  if (!dir) dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  return dir;
}

static char fuzz_input_path[128];

/* The process's file goes with it (a replay or a fuzz run leaves nothing in /dev/shm). */
static inline void fuzz_input_remove(void) {
  if (fuzz_input_path[0]) unlink(fuzz_input_path);
}

/* Writes data to a per-process temp file named with suffix; returns its path, or NULL. */
static inline const char *fuzz_input_file(const uint8_t *data, size_t size, const char *suffix) {
  char *path = fuzz_input_path, next[sizeof fuzz_input_path];
  snprintf(next, sizeof next, "%s/kcb_fuzz_%ld%s", fuzz_tmp_dir(), (long)getpid(), suffix);
  if (!path[0]) atexit(fuzz_input_remove);
  else if (strcmp(path, next) != 0) unlink(path); /* another suffix: one file at a time */
  memcpy(path, next, sizeof next);
  FILE *f = fopen(path, "wb");
  if (!f) return NULL;
  size_t wrote = fwrite(data, 1, size, f);
  if (fclose(f) != 0 || wrote != size) return NULL;
  return path;
}

/* What the tools do with any checkpoint: its tree, every variable's statistics (small ones: the
 * fuzzer's time goes to structure, not to reading megabytes), and a conversion to Keras 3's store,
 * which reads everything back. */
static inline void fuzz_checkpoint_file(const char *path) {
  kcb_checkpoint_file *f = NULL;
  if (kcb_checkpoint_file_open(&f, path) != 0) return;
  for (size_t i = 0; i < kcb_checkpoint_file_var_count(f); i++) {
    kcb_var_stats s;
    if (kcb_checkpoint_file_var(f, i)->count <= ((size_t)1 << 16)) (void)kcb_checkpoint_file_stats(f, i, &s);
  }
  if (kcb_checkpoint_file_meta(f)->n_params <= ((size_t)1 << 16)) {
    char out[160];
    snprintf(out, sizeof out, "%s/kcb_fuzz_%ld_out.weights.h5", fuzz_tmp_dir(), (long)getpid());
    (void)kcb_checkpoint_file_write(f, out, KCB_LAYOUT_WEIGHTS_H5, NULL);
    unlink(out);
  }
  kcb_checkpoint_file_close(f);
}

/* Everything a checkpoint loader does with a file: its info, a model rebuilt from it, and its weights
 * loaded into a model of the corpus's shape (4 -> 8 relu -> 3, Adam), so the matching code runs too. */
static inline void fuzz_load_checkpoint(const char *path) {
  fuzz_checkpoint_file(path);
  kcb_checkpoint_info info;
  (void)kcb_checkpoint_info_read(&info, path);
  kcb_model *m = NULL;
  if (kcb_model_load(&m, path, NULL) == 0) kcb_model_free(m);
  int64_t in = 4;
  if (kcb_model_new(&m, 1, &in, 1) == 0) {
    kcb_compile_options c = {0};
    c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
    c.loss = KCB_LOSS_MEAN_SQUARED_ERROR;
    if (kcb_model_add_from_spec(m, "8:relu,3") == 0 && kcb_model_compile(m, &c) == 0)
      (void)kcb_model_load_weights(m, path, NULL);
    kcb_model_free(m);
  }
}

#endif
