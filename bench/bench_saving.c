/* bench_saving — time to save and to load a checkpoint of a 784-256-128-10 model with Adam
 * state, in each layout, as a ratio to writing the same bytes with plain write() + fsync() (and,
 * for loads, also to reading them with read()), measured in the same run. A third reference is
 * the atomic-replace protocol alone on the same bytes (new temp file, write, fsync, rename,
 * fsync of the directory), so the ratio splits into encoding cost and protocol cost.
 * Usage: bench_saving [DIR [REPS]]   (DIR: where files go, default /tmp; REPS default 15) */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kcb/kcb.h"

#include "bench_common.h"

static void die(const char *what) {
  fprintf(stderr, "bench_saving: %s: %s\n", what, kcb_error_last());
  exit(1);
}

/* The baseline: the same bytes with open + write + fsync + close. */
static void write_fsync(const char *path, const char *buf, size_t len) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) die(path);
  for (size_t off = 0; off < len;) {
    ssize_t w = write(fd, buf + off, len - off);
    if (w <= 0) die("write");
    off += (size_t)w;
  }
  if (fsync(fd) != 0) die("fsync");
  close(fd);
}

/* The atomic protocol alone, as kcb saves do it, with plain system calls. */
static void write_atomic(const char *dir, const char *path, const char *buf, size_t len) {
  char tmp[4300];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  write_fsync(tmp, buf, len);
  if (rename(tmp, path) != 0) die("rename");
  int dfd = open(dir, O_RDONLY);
  if (dfd < 0 || fsync(dfd) != 0) die("fsync dir");
  close(dfd);
}

static size_t read_all(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) die(path);
  size_t n = 0;
  ssize_t r;
  while (n < cap && (r = read(fd, buf + n, cap - n)) > 0) n += (size_t)r;
  close(fd);
  return n;
}

int main(int argc, char **argv) {
  const char *base = argc > 1 ? argv[1] : "/tmp";
  int reps = argc > 2 ? atoi(argv[2]) : 15;
  if (reps < 1 || reps > 1000) reps = 15;
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/kcb_bench_saving_XXXXXX", base);
  if (!mkdtemp(dir)) die("mkdtemp");

  kcb_model *m = NULL;
  int64_t in = 784;
  if (kcb_model_new(&m, 1, &in, 1) || kcb_model_add_from_spec(m, "256:relu,128:relu,10:softmax")) die("model");
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
  c.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  if (kcb_model_compile(m, &c)) die("compile");
  size_t n_slots = 0;
  float *slots = kcb_model_optimizer_slots(m, &n_slots);
  for (size_t i = 0; i < n_slots; i++) slots[i] = (float)(i % 1000) * 1e-6f;
  kcb_model_set_iterations(m, 1000);
  kcb_model *loaded = NULL;
  if (kcb_model_new(&loaded, 1, &in, 2) || kcb_model_add_from_spec(loaded, "256:relu,128:relu,10:softmax") ||
      kcb_model_compile(loaded, &c))
    die("model");

  printf("model 784-256-128-10, Adam state: %zu params + %zu slot floats; median of %d runs in %s\n",
         kcb_model_param_count(m), n_slots, reps, base);
  const char *names[] = {"ckpt.weights.h5", "ckpt.h5", "ckpt.keras"};
  for (int f = 0; f < 3; f++) {
    char path[4200], raw[4200];
    snprintf(path, sizeof path, "%s/%s", dir, names[f]);
    snprintf(raw, sizeof raw, "%s/raw.bin", dir);
    if (kcb_model_save(m, path, NULL)) die("save");
    struct stat st;
    stat(path, &st);
    size_t len = (size_t)st.st_size;
    char *bytes = malloc(len);
    read_all(path, bytes, len);
    double *t_save = malloc(5 * (size_t)reps * sizeof(double)), *t_load = t_save + reps, *t_write = t_load + reps,
           *t_read = t_write + reps, *t_atomic = t_read + reps;
    char atomic_path[4200];
    snprintf(atomic_path, sizeof atomic_path, "%s/atomic.bin", dir);
    for (int r = 0; r < reps; r++) { /* interleaved, so drift hits all alike */
      double t0 = now();
      write_fsync(raw, bytes, len);
      double t1 = now();
      if (kcb_model_save(m, path, NULL)) die("save");
      double t2 = now();
      if (kcb_model_load_weights(loaded, path, NULL)) die("load");
      double t3 = now();
      read_all(raw, bytes, len);
      double t4 = now();
      write_atomic(dir, atomic_path, bytes, len);
      double t5 = now();
      t_atomic[r] = t5 - t4;
      t_write[r] = t1 - t0;
      t_save[r] = t2 - t1;
      t_load[r] = t3 - t2;
      t_read[r] = t4 - t3;
    }
    double s = median(t_save, reps), l = median(t_load, reps), w = median(t_write, reps), rd = median(t_read, reps),
           a = median(t_atomic, reps);
    printf("%-16s bytes=%zu save=%.2fms load=%.2fms | write+fsync=%.2fms atomic-protocol=%.2fms read=%.2fms | "
           "save/write=%.2fx save/atomic=%.2fx load/write=%.2fx load/read=%.2fx\n",
           names[f], len, 1e3 * s, 1e3 * l, 1e3 * w, 1e3 * a, 1e3 * rd, s / w, s / a, l / w, l / rd);
    unlink(atomic_path);
    free(t_save);
    free(bytes);
    unlink(path);
    unlink(raw);
  }
  rmdir(dir);
  kcb_model_free(m);
  kcb_model_free(loaded);
  return 0;
}
