/* bench_tfevents — TensorBoard event files, as ratios against baselines measured in the same run:
 *   1. scalars/s into the summary writer's queue (the caller's cost), and the writer's whole
 *      cost per scalar (add + flush to the file) next to write() of the same bytes;
 *   2. CRC-32C GB/s (instruction and table), reader MB/s validating CRCs and fully decoding
 *      scalar events, next to read() of the same file from the page cache;
 *   3. the slowdown of a small MLP fit with TensorBoard(update_freq="batch") vs no callbacks.
 * Run: ./build/bench/bench_tfevents [DIR] [MB]  (DIR for the files [/tmp], MB of events [256]) */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "io/tfevents/crc32c.h"
#include "kcb/kcb.h"

#include "bench_common.h"

static void check(int rc, const char *what) {
  if (rc < 0) {
    fprintf(stderr, "bench_tfevents: %s: %s\n", what, kcb_error_last());
    exit(1);
  }
}

static const char *const tags[8] = {"batch_loss", "batch_accuracy", "epoch_loss", "epoch_accuracy",
                                    "lr", "grad_norm", "throughput", "val/loss"};

/* Writes n scalars; returns the seconds the add calls took, *flush_s the final flush. */
static double write_scalars(const char *dir, long n, int max_queue, double *flush_s, char *path, size_t path_size) {
  kcb_summary_writer_options o = KCB_SUMMARY_WRITER_OPTIONS_INIT;
  o.max_queue = max_queue;
  kcb_summary_writer *w;
  check(kcb_summary_writer_new(&w, dir, &o), "writer");
  snprintf(path, path_size, "%s", kcb_summary_writer_path(w));
  double t0 = now();
  for (long i = 0; i < n; i++) check(kcb_summary_writer_add_scalar(w, tags[i & 7], (double)i * 1e-3, i >> 3), "add");
  double t1 = now();
  check(kcb_summary_writer_flush(w), "flush");
  *flush_s = now() - t1;
  check(kcb_summary_writer_close(w), "close");
  return t1 - t0;
}

static double file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (double)st.st_size : 0;
}

/* write() of size bytes in 64 KiB chunks, as the writer thread's batches would be. */
static double write_baseline(const char *dir, double size) {
  char path[512];
  snprintf(path, sizeof path, "%s/kcb_bench_write_baseline", dir);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  static char chunk[65536];
  memset(chunk, 'x', sizeof chunk);
  double t0 = now();
  for (double done = 0; done < size; done += sizeof chunk)
    if (write(fd, chunk, sizeof chunk) < 0) break;
  double t = now() - t0;
  close(fd);
  unlink(path);
  return t;
}

static double read_baseline(const char *path) {
  int fd = open(path, O_RDONLY);
  static char buf[1 << 20];
  double t0 = now();
  while (read(fd, buf, sizeof buf) > 0) {
  }
  double t = now() - t0;
  close(fd);
  return t;
}

static double best_of(int reps, double (*fn)(const char *), const char *arg) {
  double best = 1e30;
  for (int i = 0; i < reps; i++) {
    double t = fn(arg);
    if (t < best) best = t;
  }
  return best;
}

static double validate_once(const char *path) {
  kcb_event_file_check chk;
  double t0 = now();
  check(kcb_event_file_validate(path, &chk), "validate");
  return now() - t0;
}

static double decode_once(const char *path) {
  kcb_event_reader *r;
  check(kcb_event_reader_open(&r, path), "reader");
  const kcb_event *e;
  double sum = 0;
  double t0 = now();
  int rc;
  while ((rc = kcb_event_reader_next(r, &e)) == 1)
    for (size_t i = 0; i < e->n_values; i++) sum += e->values[i].scalar;
  check(rc, "read");
  double t = now() - t0;
  kcb_event_reader_free(r);
  if (sum == -1) printf("%g\n", sum);
  return t;
}

/* ---- 3. fit overhead ---- */

static double fit_seconds(kcb_model *m, const kcb_tensor *x, const kcb_tensor *y, const char *logdir, int epochs) {
  kcb_callback *tb = NULL;
  kcb_fit_options f = KCB_FIT_OPTIONS_INIT;
  f.epochs = epochs;
  f.batch_size = 32;
  f.verbose = 0;
  f.validation_split = 0.1;
  if (logdir) {
    kcb_tensorboard_options o = KCB_TENSORBOARD_OPTIONS_INIT;
    o.log_dir = logdir;
    o.update_freq = KCB_TENSORBOARD_UPDATE_BATCH;
    check(kcb_tensorboard_new(&tb, &o), "tensorboard");
    f.callbacks = &tb;
    f.n_callbacks = 1;
  }
  double t0 = now();
  check(kcb_model_fit(m, x, y, &f, NULL), "fit");
  double t = now() - t0;
  kcb_callback_free(tb);
  return t;
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "/tmp";
  double mb = argc > 2 ? atof(argv[2]) : 256;
  char run[512], path[600];
  snprintf(run, sizeof run, "%s/kcb_bench_tfevents_%ld", dir, (long)getpid());

  /* 1. writer */
  long n = 4000000;
  double flush_s, flush_big_s;
  write_scalars(run, 200000, 10, &flush_s, path, sizeof path); /* warm-up */
  unlink(path);
  double add_s = write_scalars(run, n, 10, &flush_s, path, sizeof path);
  double bytes = file_size(path);
  unlink(path);
  double add_big_s = write_scalars(run, n, 1024, &flush_big_s, path, sizeof path);
  unlink(path);
  double write_s = write_baseline(dir, bytes);
  printf("writer: %ld scalars, %.1f B each in the file\n", n, bytes / (double)n);
  printf("  into the queue, max_queue=10:   %.2f M scalars/s (%.0f ns each)\n", n / add_s / 1e6, add_s / n * 1e9);
  printf("  into the queue, max_queue=1024: %.2f M scalars/s (%.0f ns each)\n", n / add_big_s / 1e6, add_big_s / n * 1e9);
  printf("  writer cost per scalar (add + flush, max_queue=1024) %.0f ns vs write() of the same bytes %.1f ns: %.1fx\n",
         (add_big_s + flush_big_s) / n * 1e9, write_s / n * 1e9, (add_big_s + flush_big_s) / write_s);

  /* 2. CRC and reader on a file of ~mb MB of scalar events */
  static unsigned char crcbuf[1 << 22];
  for (size_t i = 0; i < sizeof crcbuf; i++) crcbuf[i] = (unsigned char)(i * 131);
  double t0 = now();
  uint32_t c = 0;
  for (int i = 0; i < 64; i++) c = kcb__crc32c_extend(c, crcbuf, sizeof crcbuf);
  double hw = now() - t0;
  t0 = now();
  for (int i = 0; i < 8; i++) c = kcb__crc32c_extend_portable(c, crcbuf, sizeof crcbuf);
  double sw = now() - t0;
  printf("crc32c (%s): %.2f GB/s; table: %.2f GB/s (%.1fx)%s\n", kcb__crc32c_hardware() ? "SSE4.2" : "no SSE4.2",
         64.0 * sizeof crcbuf / hw / 1e9, 8.0 * sizeof crcbuf / sw / 1e9, (64.0 / hw) / (8.0 / sw), c == 1 ? " " : "");
  long m = (long)(mb * 1e6 / (bytes / (double)n));
  write_scalars(run, m, 4096, &flush_s, path, sizeof path);
  double size = file_size(path);
  double rd = best_of(3, read_baseline, path);
  double va = best_of(3, validate_once, path);
  double de = best_of(3, decode_once, path);
  printf("reader on %.0f MB of scalar events (page cache):\n", size / 1e6);
  printf("  read() alone:        %7.0f MB/s\n", size / rd / 1e6);
  printf("  validate (CRCs):     %7.0f MB/s (%.2fx read)\n", size / va / 1e6, rd / va);
  printf("  decode every event:  %7.0f MB/s (%.2fx read), %.1f M events/s\n", size / de / 1e6, rd / de,
         (double)(m + 1) / de / 1e6);
  unlink(path);

  /* 3. fit overhead: MLP 784-64-10, 8192 samples, batch 32 (231 train steps/epoch) */
  int64_t xs[2] = {8192, 784}, ys[1] = {8192};
  kcb_tensor *x, *y;
  check(kcb_tensor_new(&x, 2, xs), "x");
  check(kcb_tensor_new(&y, 1, ys), "y");
  for (int64_t i = 0; i < 8192 * 784; i++) x->data[i] = (float)((i * 7919) % 1000) / 1000.0f;
  for (int64_t i = 0; i < 8192; i++) y->data[i] = (float)(i % 10);
  /* pairs run back to back in alternating order; the median ratio resists the noise of a
   * shared machine */
  enum { REPS = 9 };
  double base[REPS], with[REPS], ratio[REPS];
  for (int rep = 0; rep < REPS; rep++) {
    for (int j = 0; j < 2; j++) {
      int k = (rep + j) & 1;
      int64_t in = 784;
      kcb_model *model;
      check(kcb_model_new(&model, 1, &in, 1), "model");
      check(kcb_model_add_from_spec(model, "64:relu,10:softmax"), "spec");
      kcb_compile_options co = {0};
      co.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
      co.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
      kcb_metric acc = KCB_METRIC_ACCURACY;
      co.metrics = &acc;
      co.n_metrics = 1;
      check(kcb_model_compile(model, &co), "compile");
      double t = fit_seconds(model, x, y, k ? run : NULL, 5);
      if (k) with[rep] = t;
      else base[rep] = t;
      kcb_model_free(model);
    }
    ratio[rep] = with[rep] / base[rep];
  }
  qsort(ratio, REPS, sizeof ratio[0], bench_cmp_double);
  qsort(base, REPS, sizeof base[0], bench_cmp_double);
  qsort(with, REPS, sizeof with[0], bench_cmp_double);
  printf("fit MLP 784-64-10, 5 epochs x 231 steps (medians of %d): no callbacks %.3f s, "
         "TensorBoard(update_freq=batch) %.3f s: %+.2f%% (median of the paired ratios)\n",
         REPS, base[REPS / 2], with[REPS / 2], (ratio[REPS / 2] - 1) * 100);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", run);
  if (system(cmd) != 0) return 1;
  return 0;
}
