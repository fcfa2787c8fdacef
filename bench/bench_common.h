/* bench/bench_common.h — what every benchmark program needs: a monotonic clock, and (with
 * BENCH_NAME defined before the include) a check that ends the run on a library error. */
#ifndef KCB_BENCH_COMMON_H
#define KCB_BENCH_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "kcb/kcb.h"

/* Seconds on the monotonic clock. */
static inline double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline int bench_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The median of v[0..n) (sorted in place): the machines are shared, so runs take medians. */
static inline double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Times each epoch after the first from on_epoch_begin to on_epoch_end: the training loop's steady
 * state, without what fit does once per call (checking the data for NaN, sizing workspaces, agreeing
 * across ranks) and without the first epoch, which warms the caches. */
typedef struct bench_epoch_timer {
  kcb_callback base;
  double begun, seconds;
  int epochs;
} bench_epoch_timer;

static inline int bench_timer_begin(kcb_callback *cb, int epoch, kcb_logs *logs) {
  (void)epoch, (void)logs;
  ((bench_epoch_timer *)cb)->begun = now();
  return 0;
}

static inline int bench_timer_end(kcb_callback *cb, int epoch, kcb_logs *logs) {
  (void)logs;
  bench_epoch_timer *t = (bench_epoch_timer *)cb;
  if (epoch > 0) t->seconds += now() - t->begun, t->epochs++;
  return 0;
}

static const kcb_callback_ops bench_timer_ops = {
    .name = "EpochTimer", .on_epoch_begin = bench_timer_begin, .on_epoch_end = bench_timer_end};

#define BENCH_EPOCH_TIMER_INIT {.base = {.ops = &bench_timer_ops}}

#ifdef BENCH_NAME
/* Ends the benchmark with the library's message when a step fails. */
static inline void check(int rc, const char *what) {
  if (rc) {
    fprintf(stderr, BENCH_NAME ": %s: %s\n", what, kcb_error_last());
    exit(1);
  }
}
#endif

#endif
