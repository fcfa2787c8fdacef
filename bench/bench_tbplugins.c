/* bench_tbplugins — TensorBoard plugin files, as ratios against baselines measured in the same run:
 *   1. an embedding of 10,000 x 128 floats with labels and a 10,000-image sprite (28x28 gray)
 *      through kcb_projector_write, next to writing the same bytes raw (the tensor, the sprite's
 *      pixels and the labels, each with write + fsync + rename + directory fsync as kcb's atomic
 *      writes do);
 *   2. PR curves of 10 classes x 200 thresholds at every epoch end: one epoch of kcb-train's
 *      default MLP on Fashion-MNIST with TensorBoard(pr_curves=200) next to TensorBoard without
 *      (paired, alternating runs), and the PR work alone (gathering the validation outputs and
 *      writing the curves) as a fraction of the epoch.
 * Run: OPENBLAS_NUM_THREADS=1 ./build/bench/bench_tbplugins [DIR] [PAIRS]  ([/tmp], [5]) */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kcb/kcb.h"

#include "bench_common.h"

static void check(int rc, const char *what) {
  if (rc < 0) {
    fprintf(stderr, "bench_tbplugins: %s: %s\n", what, kcb_error_last());
    exit(1);
  }
}

/* The baseline: a file written the way kcb replaces files (temp, write, fsync, rename, fsync of the
 * directory), so both sides pay the same durability. */
static void write_raw(const char *dir, const char *name, const void *data, size_t len) {
  char tmp[512], path[512];
  snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const char *p = data;
  size_t left = len;
  while (fd >= 0 && left) {
    ssize_t n = write(fd, p, left);
    if (n <= 0) break;
    p += n, left -= (size_t)n;
  }
  if (fd < 0 || left || fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
    perror(path);
    exit(1);
  }
  int dfd = open(dir, O_RDONLY | O_DIRECTORY); /* the rename made durable, as kcb does */
  if (dfd < 0 || fsync(dfd) != 0) {
    perror(dir);
    exit(1);
  }
  close(dfd);
}

static void bench_projector(const char *base, int reps) {
  enum { ROWS = 10000, DIMS = 128, SIDE = 28 };
  float *data = malloc((size_t)ROWS * DIMS * sizeof *data);
  uint8_t *images = malloc((size_t)ROWS * SIDE * SIDE);
  char **labels = malloc(ROWS * sizeof *labels), *label_text = malloc(ROWS * 16);
  uint64_t s = 42;
  for (size_t i = 0; i < (size_t)ROWS * DIMS; i++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    data[i] = (float)((double)(s >> 11) / 9007199254740992.0 * 2 - 1);
  }
  for (size_t i = 0; i < (size_t)ROWS * SIDE * SIDE; i++) { /* blobs on black, like MNIST digits */
    size_t x = i % SIDE, y = (i / SIDE) % SIDE, k = i / (SIDE * SIDE);
    double d = hypot((double)x - 14 - (double)(k % 5), (double)y - 14);
    images[i] = d < 9 ? (uint8_t)(255 - d * 20) : 0;
  }
  size_t label_bytes = 0;
  for (int i = 0; i < ROWS; i++) {
    labels[i] = label_text + 16 * i;
    label_bytes += (size_t)snprintf(labels[i], 16, "class_%d", i % 10) + 1;
  }
  /* the raw baseline: a sprite sheet of the same pixels (100 x 100 images), the tensor, the labels */
  uint8_t *sheet = calloc((size_t)100 * SIDE * 100 * SIDE, 1);
  char *label_file = malloc(label_bytes + 1), *o = label_file;
  for (int i = 0; i < ROWS; i++) o += sprintf(o, "%s\n", labels[i]);
  char dir_kcb[512], dir_raw[512];
  snprintf(dir_kcb, sizeof dir_kcb, "%s/bench_tbplugins_projector", base);
  snprintf(dir_raw, sizeof dir_raw, "%s/bench_tbplugins_raw", base);
  mkdir(dir_kcb, 0755);
  mkdir(dir_raw, 0755);
  const char *const *cols[1] = {(const char *const *)labels};
  kcb_embedding e = {.name = "emb", .data = data, .rows = ROWS, .dims = DIMS, .columns = cols, .n_columns = 1,
                     .metadata_rows = ROWS, .images = images, .image_height = SIDE, .image_width = SIDE,
                     .image_channels = 1};
  double *t_kcb = malloc((size_t)reps * sizeof *t_kcb), *t_raw = malloc((size_t)reps * sizeof *t_raw);
  double *ratio = malloc((size_t)reps * sizeof *ratio);
  for (int r = 0; r < reps; r++) {
    double t0 = now();
    /* the baseline includes laying the images out: the same bytes in the same order */
    for (size_t i = 0; i < ROWS; i++)
      for (size_t y = 0; y < SIDE; y++)
        memcpy(sheet + ((i / 100) * SIDE + y) * 100 * SIDE + (i % 100) * SIDE, images + (i * SIDE + y) * SIDE, SIDE);
    write_raw(dir_raw, "tensor.bin", data, (size_t)ROWS * DIMS * sizeof *data);
    write_raw(dir_raw, "sprite.raw", sheet, (size_t)100 * SIDE * 100 * SIDE);
    write_raw(dir_raw, "metadata.tsv", label_file, label_bytes);
    double t1 = now();
    check(kcb_projector_write(dir_kcb, &e, 1, NULL), "projector");
    double t2 = now();
    t_raw[r] = t1 - t0, t_kcb[r] = t2 - t1, ratio[r] = t_kcb[r] / t_raw[r];
  }
  char sprite[600];
  snprintf(sprite, sizeof sprite, "%s/emb/sprite.png", dir_kcb);
  FILE *f = fopen(sprite, "rb");
  fseek(f, 0, SEEK_END);
  long png_bytes = ftell(f);
  fclose(f);
  double mr = median(ratio, reps);
  printf("projector 10000 x 128 floats + labels + 10000 28x28 sprite (medians of %d): kcb %.1f ms, raw bytes %.1f ms, "
         "ratio %.2fx (target <= 2x: %s); sprite PNG %ld bytes for %d raw\n",
         reps, 1e3 * median(t_kcb, reps), 1e3 * median(t_raw, reps), mr, mr <= 2 ? "met" : "NOT met", png_bytes,
         100 * SIDE * 100 * SIDE);
  free(data), free(images), free(labels), free(label_text), free(sheet), free(label_file);
  free(t_kcb), free(t_raw), free(ratio);
}

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One epoch of the default MLP; returns its wall seconds, *cpu its process CPU seconds (which the
 * other jobs of a shared machine disturb less). */
static double epoch(const kcb_mnist *d, const char *logdir, int pr_curves, double *cpu) {
  kcb_model *m;
  int64_t shape[2] = {28, 28};
  check(kcb_model_new(&m, 2, shape, 42), "model");
  check(kcb_model_add_from_spec(m, "flatten,256:relu,128:relu,10:softmax"), "spec");
  kcb_metric acc = KCB_METRIC_ACCURACY;
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
  c.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  c.metrics = &acc;
  c.n_metrics = 1;
  check(kcb_model_compile(m, &c), "compile");
  kcb_tensorboard_options to = KCB_TENSORBOARD_OPTIONS_INIT;
  to.log_dir = logdir;
  to.pr_curves = pr_curves;
  kcb_callback *tb;
  check(kcb_tensorboard_new(&tb, &to), "tensorboard");
  kcb_fit_options f = KCB_FIT_OPTIONS_INIT;
  f.batch_size = 64;
  f.epochs = 1;
  f.verbose = 0;
  f.validation_split = 0.1;
  f.callbacks = &tb;
  f.n_callbacks = 1;
  double t0 = now(), c0 = cpu_now();
  check(kcb_model_fit(m, d->train_images, d->train_labels, &f, NULL), "fit");
  double t = now() - t0;
  *cpu = cpu_now() - c0;
  kcb_callback_free(tb);
  kcb_model_free(m);
  return t;
}

static void bench_pr_curves(const char *base, int pairs) {
  kcb_mnist d = {0};
  if (kcb_mnist_load(&d, NULL, 0) != 0) {
    printf("PR curves: skipped (%s)\n", kcb_error_last());
    return;
  }
  char logdir[512];
  snprintf(logdir, sizeof logdir, "%s/bench_tbplugins_logs", base);
  double *ratio = malloc((size_t)pairs * sizeof *ratio), *with = malloc((size_t)pairs * sizeof *with),
         *without = malloc((size_t)pairs * sizeof *without), *cpu_ratio = malloc((size_t)pairs * sizeof *cpu_ratio);
  double cw, co;
  (void)epoch(&d, logdir, 0, &co); /* warm-up */
  for (int p = 0; p < pairs; p++) {
    /* alternate which goes first, so drift in the machine's load falls on both */
    if (p % 2) {
      with[p] = epoch(&d, logdir, 200, &cw);
      without[p] = epoch(&d, logdir, 0, &co);
    } else {
      without[p] = epoch(&d, logdir, 0, &co);
      with[p] = epoch(&d, logdir, 200, &cw);
    }
    ratio[p] = with[p] / without[p];
    cpu_ratio[p] = cw / co;
    printf("  pair %d: with %.3f s (cpu %.3f), without %.3f s (cpu %.3f)\n", p, with[p], cw, without[p], co);
  }
  /* the PR work alone: gather 6000 x 10 outputs batch by batch, then 10 curves of 200 thresholds */
  int64_t n_val = d.train_images->shape[0] / 10;
  float *probs = malloc((size_t)n_val * 10 * sizeof *probs), *gathered = malloc((size_t)n_val * 10 * sizeof *gathered);
  float *cls = malloc((size_t)n_val * sizeof *cls);
  for (int64_t i = 0; i < n_val; i++) {
    cls[i] = d.train_labels->data[i];
    for (int c = 0; c < 10; c++) probs[i * 10 + c] = c == (int)cls[i] ? 0.55f : 0.05f;
  }
  kcb_summary_writer *w;
  check(kcb_summary_writer_new(&w, logdir, NULL), "writer");
  int reps = 20;
  double t0 = now();
  for (int r = 0; r < reps; r++) {
    for (int64_t start = 0; start < n_val; start += 64) {
      int64_t count = n_val - start < 64 ? n_val - start : 64;
      memcpy(gathered + start * 10, probs + start * 10, (size_t)count * 10 * sizeof *gathered);
    }
    check(kcb_summary_writer_add_pr_curves_multiclass(w, "pr/", NULL, 10, cls, gathered, (size_t)n_val, 200, r), "pr");
  }
  check(kcb_summary_writer_flush(w), "flush");
  double pr_work = (now() - t0) / reps;
  check(kcb_summary_writer_close(w), "close");
  double mw = median(without, pairs), mr = median(ratio, pairs), mc = median(cpu_ratio, pairs);
  printf("PR curves 10 classes x 200 thresholds per epoch, default MLP, 54000 + 6000 samples, batch 64 "
         "(medians of %d paired ratios): epoch %.3f s with, %.3f s without: wall %+.2f%%, CPU time %+.2f%% "
         "(target < 1%%: %s); the PR work alone %.2f ms = %.3f%% of the epoch\n",
         pairs, median(with, pairs), mw, 100 * (mr - 1), 100 * (mc - 1), mc < 1.01 ? "met" : "NOT met",
         1e3 * pr_work, 100 * pr_work / mw);
  free(ratio), free(cpu_ratio), free(with), free(without), free(probs), free(gathered), free(cls);
  kcb_mnist_free(&d);
}

int main(int argc, char **argv) {
  const char *base = argc > 1 ? argv[1] : "/tmp";
  int pairs = argc > 2 ? atoi(argv[2]) : 5;
  if (pairs < 1) pairs = 1;
  bench_projector(base, 5);
  bench_pr_curves(base, pairs);
  return 0;
}
