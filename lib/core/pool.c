/* core/pool.c — kcb's worker threads for a step's loops beside sgemm.
 *
 * When OpenBLAS threaded only its own sgemm calls, every other pass of a training step (the
 * batch gather, bias and activation, the optimizer update, im2col, normalization, pooling) ran
 * on one core, and at 2 threads a step took 1.5x its sgemm time. Running both OpenBLAS's threads
 * and a pool of our own would make them spin against each other on the same cores (what makes
 * PyTorch's 2-thread CPU runs slower than its 1-thread runs). So while kcb runs a model it takes
 * over the thread count OpenBLAS was given (OPENBLAS_NUM_THREADS or openblas_set_num_threads),
 * runs OpenBLAS on one thread, and splits both the sgemm calls (blas.c) and the passes between
 * them over these threads. One set of threads: none spins while another works.
 *
 * The threads are made on first use and kept (an inference loop calling predict must not pay for
 * a thread per call); between jobs they spin for ~50 us, then sleep on a condition variable. They
 * are joined when the library is unloaded or the process exits, and forgotten in a forked child.
 * One thread at a time uses the pool; another thread running a model meanwhile runs serially. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"

#define MAX_WORKERS 63
#define SPIN_NS 50000 /* longer than the gaps between a step's passes, shorter than a callback's I/O */

typedef struct job {
  kcb__part_fn fn;
  void *ctx;
  int64_t n, align;
  int parts;
  unsigned fp_mode; /* the caller's floating-point mode (subnormal flushing), for the workers */
} job;

static struct {
  pthread_mutex_t lock; /* guards sleeping and the thread list */
  pthread_cond_t wake;
  pthread_mutex_t owner; /* held by the thread that uses the pool */
  pthread_t threads[MAX_WORKERS];
  int n_workers;
  int stop;
  job job;
  atomic_ulong generation; /* bumped once per job */
  _Atomic unsigned long born_at; /* the generation when the newest workers were made: their first job follows it */
  atomic_int pending;      /* workers that have not finished the current job */
  atomic_int sleepers;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER, .owner = PTHREAD_MUTEX_INITIALIZER};

/* The holder's scratch (kcb__pool_scratch). */
static float *scratch;
static size_t scratch_size;

/* This thread's hold on the pool: how many runs deep, and the parts it may split into. */
static _Thread_local int held_depth, held_parts, held_blas_threads;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* Part p's share of [0, n): cut points rounded down to a multiple of align. */
static int64_t cut(const job *j, int p) {
  if (p >= j->parts) return j->n;
  int64_t at = (int64_t)((double)j->n * p / j->parts);
  return at - at % j->align;
}

static void run_part(const job *j, int p) {
  int64_t begin = cut(j, p), end = cut(j, p + 1);
  if (begin < end) j->fn(j->ctx, p, begin, end);
}

/* Waiting in a spin: pause, and every so often give the core away, in case the thread waited
 * for shares it (more threads than cores: two processes each given every core). */
static void spin_once(int spins) {
  if ((spins & 63) == 63) sched_yield();
  else cpu_relax();
}

static unsigned long wait_for_job(unsigned long seen) {
  unsigned long g;
  double spin_until = now_ns() + SPIN_NS;
  for (int spins = 0; (g = atomic_load(&pool.generation)) == seen; spins++) {
    if ((spins & 255) != 255 || now_ns() < spin_until) {
      spin_once(spins);
      continue;
    }
    pthread_mutex_lock(&pool.lock);
    atomic_fetch_add(&pool.sleepers, 1);
    while (atomic_load(&pool.generation) == seen) pthread_cond_wait(&pool.wake, &pool.lock);
    atomic_fetch_sub(&pool.sleepers, 1);
    pthread_mutex_unlock(&pool.lock);
  }
  return g;
}

static void *worker_main(void *arg) {
  int index = (int)(intptr_t)arg; /* part index: the caller runs part 0 */
  unsigned long seen = atomic_load(&pool.born_at); /* not the current one: a job may already be published */
  for (;;) {
    seen = wait_for_job(seen);
    if (pool.stop) break;
    job j = pool.job;
    if (index < j.parts) {
      kcb__fp_mode_set(j.fp_mode);
      run_part(&j, index);
    }
    atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_release);
  }
  return NULL;
}

/* Publishes a job to every worker (each acknowledges it) and wakes the sleeping ones. */
static void publish(const job *j) {
  pool.job = *j;
  atomic_store(&pool.pending, pool.n_workers);
  atomic_fetch_add(&pool.generation, 1);
  if (atomic_load(&pool.sleepers)) {
    pthread_mutex_lock(&pool.lock);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
  }
}

static void stop_workers(void) {
  if (pthread_mutex_trylock(&pool.owner) != 0) return; /* exit() from inside a run: nothing to wait for */
  if (pool.n_workers) {
    pool.stop = 1;
    job none = {0};
    publish(&none);
    for (int i = 0; i < pool.n_workers; i++) pthread_join(pool.threads[i], NULL);
    pool.n_workers = 0;
    pool.stop = 0;
  }
  pthread_mutex_unlock(&pool.owner);
}

#if defined(__GNUC__)
__attribute__((destructor)) static void pool_unload(void) {
  stop_workers();
  free(scratch);
  scratch = NULL;
  scratch_size = 0;
}
#endif

/* A forked child has none of the parent's threads: start again with none. */
static void pool_forked_child(void) {
  pool.n_workers = 0;
  pthread_mutex_init(&pool.lock, NULL);
  pthread_cond_init(&pool.wake, NULL);
  pthread_mutex_init(&pool.owner, NULL);
  atomic_store(&pool.sleepers, 0);
  held_depth = held_parts = 0;
}

static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static void register_fork_handler(void) { pthread_atfork(NULL, NULL, pool_forked_child); }

/* Makes sure n - 1 workers exist; returns how many parts the pool can run (at least 1). */
static int grow_to(int parts) {
  if (parts - 1 > MAX_WORKERS) parts = MAX_WORKERS + 1;
  if (pool.n_workers < parts - 1) atomic_store(&pool.born_at, atomic_load(&pool.generation));
  while (pool.n_workers < parts - 1) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 1 << 20); /* OpenBLAS runs in the workers too: room for its stack buffers */
    int bad = pthread_create(&pool.threads[pool.n_workers], &attr, worker_main, (void *)(intptr_t)(pool.n_workers + 1));
    pthread_attr_destroy(&attr);
    if (bad) break; /* fewer threads still work */
    pool.n_workers++;
  }
  return pool.n_workers + 1 < parts ? pool.n_workers + 1 : parts;
}

void kcb__pool_enter(int threads) {
  if (held_depth++) return;
  held_parts = 1;
  held_blas_threads = 0;
  if (threads == 1 || pthread_mutex_trylock(&pool.owner) != 0) return; /* serial */
  /* OpenBLAS's thread count is read with the pool held: the holder is the one that changes it */
  if (threads <= 0) threads = kcb__blas_threads();
  if (threads <= 1) {
    pthread_mutex_unlock(&pool.owner);
    return;
  }
  pthread_once(&fork_once, register_fork_handler);
  held_parts = grow_to(threads);
  if (held_parts <= 1) {
    pthread_mutex_unlock(&pool.owner);
    held_parts = 1;
    return;
  }
  held_blas_threads = kcb__blas_threads();
  if (held_blas_threads > 1) kcb__blas_set_threads(1);
}

void kcb__pool_leave(void) {
  if (held_depth == 0 || --held_depth) return;
  if (held_parts > 1) {
    if (held_blas_threads > 1) kcb__blas_set_threads(held_blas_threads);
    pthread_mutex_unlock(&pool.owner);
  }
  held_parts = 1;
}

float *kcb__pool_scratch(size_t n) {
  if (n > scratch_size) {
    free(scratch);
    scratch_size = 0;
    if (!(scratch = malloc(n * sizeof *scratch))) return NULL;
    scratch_size = n;
  }
  return scratch;
}

int kcb__pool_parts(void) { return held_depth ? held_parts : 1; }

int kcb__parallel(int64_t n, int64_t min_per_part, int64_t align, kcb__part_fn fn, void *ctx) {
  int parts = kcb__pool_parts();
  if (min_per_part < 1) min_per_part = 1;
  if (align < 1) align = 1;
  if (n / min_per_part < parts) parts = (int)(n / min_per_part);
  if (n / align < parts) parts = (int)(n / align);
  if (parts <= 1) {
    if (n > 0) fn(ctx, 0, 0, n);
    return 1;
  }
  job j = {fn, ctx, n, align, parts, kcb__fp_mode_get()};
  publish(&j);
  const int held = held_parts;
  held_parts = 1; /* a part that splits its own work (an sgemm in it) runs it whole: the workers are busy */
  run_part(&j, 0);
  held_parts = held;
  for (int spins = 0; atomic_load_explicit(&pool.pending, memory_order_acquire) > 0; spins++) spin_once(spins);
  return parts;
}

typedef struct sums_job {
  kcb__sums_fn fn;
  void *ctx;
  float *sums, *partials; /* part 0 adds into sums, part p into partials + (p - 1) * n_sums */
  int64_t n_sums;
} sums_job;

static void sums_part(void *ctx, int part, int64_t begin, int64_t end) {
  const sums_job *j = ctx;
  float *sums = part == 0 ? j->sums : j->partials + (part - 1) * j->n_sums;
  for (int64_t i = 0; i < j->n_sums; i++) sums[i] = 0.0f;
  j->fn(j->ctx, sums, begin, end);
}

void kcb__parallel_sums(int64_t n, int64_t min_per_part, float *sums, int64_t n_sums, kcb__sums_fn fn, void *ctx) {
  sums_job j = {fn, ctx, sums, NULL, n_sums};
  int parts = kcb__pool_parts();
  if (parts > 1 && !(j.partials = kcb__pool_scratch((size_t)n_sums * (size_t)(parts - 1))))
    min_per_part = n > 0 ? n : 1; /* no room for partial sums: one part */
  if (n <= 0) {
    for (int64_t i = 0; i < n_sums; i++) sums[i] = 0.0f;
    return;
  }
  parts = kcb__parallel(n, min_per_part, 1, sums_part, &j); /* with align 1 no part is empty: each zeroes its sums */
  for (int p = 1; p < parts; p++) /* in part order: the same floats for the same thread count */
    for (int64_t i = 0; i < n_sums; i++) sums[i] += j.partials[(p - 1) * n_sums + i];
}
