/* bench_inspect_gen OUTDIR SIZE_MB — writes a log directory of about SIZE_MB megabytes for
 * bench_inspect.sh, shaped like real training logs: 4 runs, each with train/ (8 per-batch scalars
 * and 4 weight histograms of 30 buckets every step) and validation/ (4 scalars every 10 steps),
 * through kcb's summary writer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <kcb/kcb.h>

#define N_RUNS 4

static int fail(const char *what) {
  fprintf(stderr, "bench_inspect_gen: %s: %s\n", what, kcb_error_last());
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: bench_inspect_gen OUTDIR SIZE_MB\n");
    return 2;
  }
  double target = atof(argv[2]) * 1e6;
  kcb_summary_writer *train[N_RUNS], *val[N_RUNS];
  kcb_summary_writer_options o = KCB_SUMMARY_WRITER_OPTIONS_INIT;
  o.max_queue = 1024;
  for (int r = 0; r < N_RUNS; r++) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/run%d/train", argv[1], r);
    if (kcb_summary_writer_new(&train[r], dir, &o)) return fail(dir);
    snprintf(dir, sizeof dir, "%s/run%d/validation", argv[1], r);
    if (kcb_summary_writer_new(&val[r], dir, &o)) return fail(dir);
  }
  static const char *const scalars[8] = {"batch_loss", "batch_accuracy", "batch_learning_rate",
                                         "batch_grad_norm", "batch_steps_per_second", "batch_mae",
                                         "batch_top5_accuracy", "batch_weight_norm"};
  static const char *const hists[4] = {"sequential/dense/kernel/histogram", "sequential/dense/bias/histogram",
                                       "sequential/dense_1/kernel/histogram", "sequential/dense_1/bias/histogram"};
  double rows[30 * 3];
  double written = 0;
  for (int64_t step = 0; written < target; step++) {
    for (int r = 0; r < N_RUNS; r++) {
      for (int k = 0; k < 8; k++)
        if (kcb_summary_writer_add_scalar(train[r], scalars[k], exp(-step * 1e-4 * (r + 1)) + 0.01 * k, step))
          return fail("scalar");
      for (int h = 0; h < 4; h++) {
        double lo = -1.0 - 1e-5 * step, w = 2.0 * -lo / 30;
        for (int b = 0; b < 30; b++) {
          rows[3 * b] = lo + b * w;
          rows[3 * b + 1] = lo + (b + 1) * w;
          rows[3 * b + 2] = floor(1000 * exp(-(b - 15) * (b - 15) / (20.0 + h + r)));
        }
        if (kcb_summary_writer_add_histogram_buckets(train[r], hists[h], rows, 30, step)) return fail("histogram");
      }
      if (step % 10 == 0)
        for (int k = 0; k < 4; k++)
          if (kcb_summary_writer_add_scalar(val[r], scalars[k], exp(-step * 1e-4 * (r + 1)) + 0.02 * k, step))
            return fail("scalar");
    }
    if (step % 1000 == 999) {
      written = 0;
      for (int r = 0; r < N_RUNS; r++) {
        struct stat st;
        if (kcb_summary_writer_flush(train[r]) || kcb_summary_writer_flush(val[r])) return fail("flush");
        if (stat(kcb_summary_writer_path(train[r]), &st) == 0) written += (double)st.st_size;
        if (stat(kcb_summary_writer_path(val[r]), &st) == 0) written += (double)st.st_size;
      }
    }
  }
  for (int r = 0; r < N_RUNS; r++)
    if (kcb_summary_writer_close(train[r]) || kcb_summary_writer_close(val[r])) return fail("close");
  printf("wrote %.0f MB in %d runs\n", written / 1e6, 2 * N_RUNS);
  return 0;
}
