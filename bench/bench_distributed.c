/* bench_distributed — data-parallel fit over MPI, as ratios measured in the same run.
 *
 *   mpirun -np 2 bench_distributed throughput [ROUNDS]
 *     MLP 784-256-128-10, SGD, global batch 256, synthetic data of 25600 samples, one OpenBLAS
 *     thread per process: rank 0 alone (kcb_model_fit without distribution; the other rank waits)
 *     against both ranks together, alternating ROUNDS times (the machine is shared: medians).
 *     Prints samples/s of each, their ratio, the gradient allreduce's share of a step, and the time
 *     of that allreduce alone (MPI_Allreduce of the same block in a loop, same run), and what
 *     computing alone allows: every rank fitting its own batches of 256 / N at the same time,
 *     exchanging nothing (the bound no allreduce can beat).
 *   mpirun -np 2 [--mca btl tcp,self] bench_distributed allreduce
 *     MPI_Allreduce(MPI_SUM) of float blocks from 1 KiB to 64 MiB: microseconds and GB/s
 *     ("bus bandwidth" 2(p-1)/p * bytes / time, as NCCL's tests report it). First, on Linux, the
 *     kernel's copy between processes (process_vm_readv, Open MPI's CMA single-copy path for large
 *     messages on one machine) against memcpy of 1 MiB, and which single-copy mechanism that favours
 *     (README: "Speed on one machine").
 *   mpirun -np 2 bench_distributed overlap
 *     the same MLP step as its sgemm calls (forward, backward; local batch 128): one blocking
 *     allreduce of the whole gradient block after the backward pass, against one MPI_Iallreduce
 *     per layer started as soon as that layer's gradient is ready (buckets overlapped with the rest
 *     of the backward pass, progressed by MPI_Testall between sgemm calls), then MPI_Waitall.
 *   mpirun -np 2 bench_distributed shm
 *     the gradient block averaged without MPI's transport: each rank's gradient in one shared-memory
 *     window (MPI_Win_allocate_shared), every rank summing its share of the block over all ranks'
 *     copies, flags in the window as barriers; against MPI_Allreduce of the same block. What a
 *     node-local allreduce of kcb's own could save.
 *   mpirun -np 2 bench_distributed sharded
 *     the MLP step as its sgemm calls, bias, ReLU and SGD's update: one process at batch 256 (the
 *     other rank waiting) against the ranks at 256 / N with four exchanges: MPI_Allreduce then the
 *     whole update on every rank; weights in one shared-memory window, each rank updating its
 *     share of them from every rank's gradient (a sharded update, as ZeRO does; two spinning
 *     barriers a step); private weights, each rank reading the others' gradients from the window
 *     (double-buffered, one barrier); and no exchange at all (what computing alone allows).
 *   bench_distributed model ALPHA_US [SAMPLE_US]
 *     one process: the compute time per sample of the MLP, then what an allreduce by recursive
 *     halving and doubling (Rabenseifner: 2 log2(p) alpha + 2(p-1)/p * bytes / bandwidth; a ring's
 *     latency term would be 2(p-1) alpha) predicts for 8, 64 and 512 ranks at 10 and 100 Gbit/s:
 *     the smallest per-rank batch that keeps the efficiency at or above 90%. SAMPLE_US replaces
 *     the measured compute time per sample (a loaded machine measures it too slow).
 * The ctest suite does not run it (benchmarks are not tests). */
#define _GNU_SOURCE /* process_vm_readv */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __linux__
#include <sys/uio.h>
#include <unistd.h>
#endif

#include <cblas.h>
#include <mpi.h>

#include "kcb/kcb.h"

#define N_SAMPLES 25600
#define GLOBAL_BATCH 256
#define FIT_EPOCHS 4
#define SPEC "flatten,256:relu,128:relu,10:softmax"

#include "bench_common.h"

static void check(int rc, const char *what) {
  if (rc) {
    fprintf(stderr, "bench_distributed: %s: %s\n", what, kcb_error_last());
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized) MPI_Abort(MPI_COMM_WORLD, 1);
    exit(1);
  }
}

static void make_data(kcb_tensor **x, kcb_tensor **y) {
  int64_t xs[3] = {N_SAMPLES, 28, 28}, ys[2] = {N_SAMPLES, 1};
  check(kcb_tensor_new(x, 3, xs), "data");
  check(kcb_tensor_new(y, 2, ys), "data");
  uint64_t s = 1;
  for (int64_t i = 0; i < N_SAMPLES * 784; i++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    (*x)->data[i] = (float)(s >> 40) / 16777216.0f;
  }
  for (int64_t i = 0; i < N_SAMPLES; i++) (*y)->data[i] = (float)(i % 10);
}

static kcb_model *make_model(void) {
  int64_t shape[2] = {28, 28};
  kcb_model *m;
  check(kcb_model_new(&m, 2, shape, 3), "model");
  check(kcb_model_add_from_spec(m, SPEC), "model");
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_SGD);
  c.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  check(kcb_model_compile(m, &c), "compile");
  return m;
}

/* FIT_EPOCHS epochs in one fit call; returns the samples per second of the epochs after the first
 * and, in *per_call, of the whole call. */
static double fit_epochs(kcb_model *m, const kcb_tensor *x, const kcb_tensor *y, kcb_distributed *d, int64_t batch,
                         double *per_call) {
  bench_epoch_timer timer = BENCH_EPOCH_TIMER_INIT;
  kcb_callback *cbs[1] = {&timer.base};
  kcb_fit_options fo = KCB_FIT_OPTIONS_INIT;
  fo.batch_size = batch;
  fo.epochs = FIT_EPOCHS;
  fo.verbose = 0;
  fo.distributed = d;
  fo.callbacks = cbs;
  fo.n_callbacks = 1;
  double t0 = now();
  check(kcb_model_fit(m, x, y, &fo, NULL), "fit");
  if (per_call) *per_call = FIT_EPOCHS * N_SAMPLES / (now() - t0);
  return timer.epochs * N_SAMPLES / timer.seconds;
}

static int throughput(kcb_distributed *d, int rounds) {
  int rank = kcb_distributed_rank(d), size = kcb_distributed_size(d);
  kcb_tensor *x, *y;
  make_data(&x, &y);
  kcb_model *m = make_model();
  double *v = calloc((size_t)rounds * 6, sizeof(double));
  double *alone = v, *together = v + rounds, *alone_call = v + 2 * rounds, *together_call = v + 3 * rounds;
  double *share = v + 4 * rounds, *apart = v + 5 * rounds;
  const int64_t local_batch = GLOBAL_BATCH / size;
  if (rank == 0) fit_epochs(m, x, y, NULL, GLOBAL_BATCH, NULL); /* warm-up: pages, BLAS buffers */
  fit_epochs(m, x, y, d, GLOBAL_BATCH, NULL);
  for (int r = 0; r < rounds; r++) {
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) alone[r] = fit_epochs(m, x, y, NULL, GLOBAL_BATCH, &alone_call[r]);
    MPI_Barrier(MPI_COMM_WORLD);
    double s0, s1;
    int64_t c0, c1;
    kcb_distributed_allreduce_time(d, &s0, &c0);
    together[r] = fit_epochs(m, x, y, d, GLOBAL_BATCH, &together_call[r]);
    kcb_distributed_allreduce_time(d, &s1, &c1);
    share[r] = (s1 - s0) / (FIT_EPOCHS * N_SAMPLES / together_call[r]);
    /* what computing alone allows: every rank fits its own batches of the per-rank size at the same
     * time, exchanging nothing (their samples/s added up) */
    MPI_Barrier(MPI_COMM_WORLD);
    double mine = fit_epochs(m, x, y, NULL, local_batch, NULL);
    MPI_Reduce(&mine, &apart[r], 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
  }
  size_t params = kcb_model_param_count(m);
  float *block = calloc(params, sizeof(float));
  double pure[5];
  for (int r = 0; r < 5; r++) {
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    for (int i = 0; i < 50; i++) MPI_Allreduce(MPI_IN_PLACE, block, (int)params, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    pure[r] = (MPI_Wtime() - t0) / 50;
  }
  free(block);
  if (rank == 0) {
    double a = median(alone, rounds), t = median(together, rounds), sh = median(share, rounds);
    double ac = median(alone_call, rounds), tc = median(together_call, rounds);
    double step1 = GLOBAL_BATCH / a, ar = median(pure, 5);
    printf("MLP 784-256-128-10 SGD, global batch %d, %d samples/epoch, %d epochs per fit call, 1 OpenBLAS thread per "
           "process, %d rounds (medians); btl_vader_single_copy_mechanism %s\n", GLOBAL_BATCH, N_SAMPLES, FIT_EPOCHS,
           rounds, getenv("OMPI_MCA_btl_vader_single_copy_mechanism") ? getenv("OMPI_MCA_btl_vader_single_copy_mechanism")
                                                                       : "default");
    printf("epochs 2-%d (the training loop):\n", FIT_EPOCHS);
    printf("  1 process:   %8.0f samples/s\n", a);
    printf("  %d processes: %8.0f samples/s  ratio %.2fx\n", size, t, t / a);
    printf("whole fit calls (with fit's one-time checks and broadcasts):\n");
    printf("  1 process:   %8.0f samples/s\n", ac);
    printf("  %d processes: %8.0f samples/s  ratio %.2fx\n", size, tc, tc / ac);
    printf("gradient allreduce (%zu floats, %.2f MB, waiting for the slower rank included): %.1f%% of the fit time"
           " on rank 0\n", params, params * 4e-6, 100 * sh);
    printf("the same allreduce alone: %.3f ms; one process's step %.3f ms, so the bound for %d processes is "
           "%.2fx (step / (step / %d + allreduce))\n", 1e3 * ar, 1e3 * step1, size, step1 / (step1 / size + ar), size);
    double ap = median(apart, rounds), local_step = (double)local_batch * size / ap;
    printf("computing alone: the %d processes each fitting batches of %lld at once, exchanging nothing: %.0f samples/s "
           "together, %.2fx; a step of %.3f ms leaves %.3f ms for the allreduce at 1.8x\n",
           size, (long long)local_batch, ap, ap / a, 1e3 * local_step, 1e3 * (step1 / 1.8 - local_step));
  }
  free(v);
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
  return 0;
}

/* Open MPI's shared-memory transport hands a large message over with one copy the kernel makes between
 * the processes (CMA), unless btl_vader_single_copy_mechanism is "none": then two memcpy calls
 * through its shared buffers. Times both copies of 1 MiB in this process and says which is faster. */
static void single_copy_advice(void) {
#ifdef __linux__
  enum { BYTES = 1 << 20, ROUNDS = 20 };
  char *from = malloc(2 * (size_t)BYTES), *to = from + BYTES;
  memset(from, 1, 2 * (size_t)BYTES);
  struct iovec local = {to, BYTES}, remote = {from, BYTES};
  double copy = 1e9, kernel = 1e9;
  int allowed = 1;
  for (int r = 0; r < ROUNDS && allowed; r++) {
    double t0 = now();
    memcpy(to, from, BYTES);
    double t1 = now();
    allowed = process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == BYTES;
    double t2 = now();
    copy = fmin(copy, t1 - t0), kernel = fmin(kernel, t2 - t1);
  }
  free(from);
  const char *set = getenv("OMPI_MCA_btl_vader_single_copy_mechanism");
  printf("btl_vader_single_copy_mechanism: %s\n", set ? set : "not set (Open MPI's default: cma where allowed)");
  if (!allowed)
    printf("process_vm_readv is not allowed here: Open MPI copies through its shared buffers anyway\n");
  else
    printf("1 MiB: memcpy %.1f us, the kernel's copy between processes %.1f us (%.1fx): %s\n", 1e6 * copy, 1e6 * kernel,
           kernel / copy,
           kernel <= 2 * copy ? "keep the default (cma)"
           : set && strcmp(set, "none") == 0 ? "copying through shared buffers is faster here, as set"
                                             : "copying through shared buffers is faster here: "
                                               "mpirun --mca btl_vader_single_copy_mechanism none");
#endif
}

static int allreduce_sweep(int rank, int size) {
  if (rank == 0) single_copy_advice();
  if (rank == 0) printf("%10s %12s %10s\n", "bytes", "us/allreduce", "bus GB/s");
  for (size_t bytes = 1024; bytes <= ((size_t)64 << 20); bytes *= 4) {
    size_t n = bytes / sizeof(float);
    float *buf = malloc(bytes);
    for (size_t i = 0; i < n; i++) buf[i] = 1.0f;
    int iters = bytes <= 65536 ? 2000 : bytes <= (4u << 20) ? 100 : 10;
    double times[5];
    for (int rep = 0; rep < 5; rep++) {
      MPI_Barrier(MPI_COMM_WORLD);
      double t0 = MPI_Wtime();
      for (int i = 0; i < iters; i++) MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
      double t = (MPI_Wtime() - t0) / iters;
      MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
      times[rep] = t;
    }
    double t = median(times, 5);
    if (rank == 0)
      printf("%10zu %12.1f %10.2f\n", bytes, 1e6 * t, 2.0 * (size - 1) / size * (double)bytes / t / 1e9);
    free(buf);
  }
  return 0;
}

/* One training step of 784-256-128-10 as sgemm calls on a local batch; with `overlap`, each layer's
 * gradient (kernel and bias, contiguous in the block as in kcb's) is all-reduced while the layers
 * below it are still being back-propagated. Returns seconds per step (median of 5 runs). */
static double step_seconds(int overlap, int steps) {
  enum { LOCAL = GLOBAL_BATCH / 2 };
  static const int dims[4] = {784, 256, 128, 10};
  float *act[4], *grad[4], *w[3];
  size_t offset[3], total = 0;
  for (int l = 0; l < 3; l++) offset[l] = total, total += (size_t)dims[l] * dims[l + 1] + (size_t)dims[l + 1];
  float *block = calloc(total, sizeof(float));
  act[0] = calloc((size_t)LOCAL * 784, sizeof(float));
  for (int i = 0; i < LOCAL * 784; i++) act[0][i] = (float)(i % 255) / 255.0f;
  for (int l = 0; l < 3; l++) {
    act[l + 1] = calloc((size_t)LOCAL * dims[l + 1], sizeof(float));
    grad[l + 1] = calloc((size_t)LOCAL * dims[l + 1], sizeof(float));
    w[l] = calloc((size_t)dims[l] * dims[l + 1], sizeof(float));
  }
  double times[5];
  for (int rep = 0; rep < 5; rep++) {
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    for (int s = 0; s < steps; s++) {
      MPI_Request req[3];
      int n_req = 0;
      for (int l = 0; l < 3; l++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, LOCAL, dims[l + 1], dims[l], 1.0f, act[l], dims[l], w[l],
                    dims[l + 1], 0.0f, act[l + 1], dims[l + 1]);
      for (int l = 2; l >= 0; l--) {
        float *dw = block + offset[l], *db = dw + (size_t)dims[l] * dims[l + 1];
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, dims[l], dims[l + 1], LOCAL, 1.0f, act[l], dims[l],
                    grad[l + 1], dims[l + 1], 0.0f, dw, dims[l + 1]);
        for (int j = 0; j < dims[l + 1]; j++) db[j] = grad[l + 1][j];
        if (overlap) {
          MPI_Iallreduce(MPI_IN_PLACE, dw, dims[l] * dims[l + 1] + dims[l + 1], MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD,
                         &req[n_req++]);
          int done;
          MPI_Testall(n_req, req, &done, MPI_STATUSES_IGNORE);
        }
        if (l > 0)
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, LOCAL, dims[l], dims[l + 1], 1.0f, grad[l + 1], dims[l + 1],
                      w[l], dims[l + 1], 0.0f, grad[l], dims[l]);
        if (overlap) {
          int done;
          MPI_Testall(n_req, req, &done, MPI_STATUSES_IGNORE);
        }
      }
      if (overlap) MPI_Waitall(n_req, req, MPI_STATUSES_IGNORE);
      else MPI_Allreduce(MPI_IN_PLACE, block, (int)total, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    }
    double t = (MPI_Wtime() - t0) / steps;
    MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    times[rep] = t;
  }
  free(block);
  for (int l = 0; l < 4; l++) free(act[l]);
  for (int l = 0; l < 3; l++) free(grad[l + 1]), free(w[l]);
  return median(times, 5);
}

static int overlap_compare(int rank, int size) {
  step_seconds(0, 20); /* warm-up */
  double one = step_seconds(0, 200), buckets = step_seconds(1, 200), one2 = step_seconds(0, 200);
  double blocking = 0.5 * (one + one2); /* before and after: the machine is shared */
  if (rank == 0)
    printf("MLP step as sgemm calls, %d processes, local batch %d: one allreduce after backward %.3f ms/step, "
           "per-layer Iallreduce overlapped %.3f ms/step (%.2fx)\n",
           size, GLOBAL_BATCH / 2, 1e3 * blocking, 1e3 * buckets, blocking / buckets);
  return 0;
}

/* `floats` floats in one shared-memory window on rank 0, seen by every rank: its base, or NULL
 * (said) when the ranks share no memory. */
static float *shared_window(MPI_Win *win, size_t floats, int rank, const char *mode) {
  float *base;
  MPI_Aint bytes = rank == 0 ? (MPI_Aint)(floats * sizeof(float)) : 0;
  if (MPI_Win_allocate_shared(bytes, sizeof(float), MPI_INFO_NULL, MPI_COMM_WORLD, &base, win) != MPI_SUCCESS) {
    if (rank == 0) printf("%s: MPI_Win_allocate_shared failed (ranks on different nodes?)\n", mode);
    return NULL;
  }
  MPI_Aint got;
  int unit;
  MPI_Win_shared_query(*win, 0, &got, &unit, &base);
  return base;
}

/* Waits until every rank has published phase `phase` (the window's flags, one cache line each). */
static void shm_barrier(_Atomic uint64_t *flags, int rank, int size, uint64_t phase) {
  atomic_store_explicit(&flags[rank * 8], phase, memory_order_release);
  for (int q = 0; q < size; q++)
    while (atomic_load_explicit(&flags[q * 8], memory_order_acquire) < phase) {
    }
}

static int shm_compare(int rank, int size) {
  const size_t n = 235146, stride = (n + 15) / 16 * 16, flag_floats = (size_t)size * 16;
  MPI_Win win;
  float *base = shared_window(&win, flag_floats + stride * (size_t)(size + 1), rank, "shm");
  if (!base) return 1;
  _Atomic uint64_t *flags = (_Atomic uint64_t *)(void *)base;
  float *slots = base + flag_floats, *sum = slots + stride * (size_t)size, *mine = slots + stride * (size_t)rank;
  if (rank == 0)
    for (int q = 0; q < size; q++) atomic_init(&flags[q * 8], 0);
  for (size_t i = 0; i < n; i++) mine[i] = (float)(i % 7) * 0.1f;
  MPI_Barrier(MPI_COMM_WORLD);
  const size_t lo = n * (size_t)rank / (size_t)size, hi = n * (size_t)(rank + 1) / (size_t)size;
  const float w = 1.0f / (float)size;
  const int iters = 1000;
  uint64_t phase = 0;
  double t0 = MPI_Wtime();
  for (int it = 0; it < iters; it++) {
    shm_barrier(flags, rank, size, ++phase); /* every rank's gradient is in its slot */
    for (size_t i = lo; i < hi; i++) sum[i] = w * slots[i];
    for (int q = 1; q < size; q++)
      for (size_t i = lo; i < hi; i++) sum[i] += w * slots[stride * (size_t)q + i];
    shm_barrier(flags, rank, size, ++phase); /* the whole average is in sum */
    for (size_t i = 0; i < n; i++) mine[i] = sum[i]; /* as the optimizer would read it */
  }
  double shm = (MPI_Wtime() - t0) / iters;
  t0 = MPI_Wtime();
  for (int it = 0; it < 200; it++) MPI_Allreduce(MPI_IN_PLACE, mine, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
  double mpi = (MPI_Wtime() - t0) / 200;
  MPI_Allreduce(MPI_IN_PLACE, &shm, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, &mpi, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  if (rank == 0)
    printf("%d ranks, %zu floats (%.2f MB): shared-memory average %.1f us, MPI_Allreduce %.1f us (%.2fx)\n", size, n,
           n * 4e-6, 1e6 * shm, 1e6 * mpi, mpi / shm);
  MPI_Win_free(&win);
  return 0;
}

/* One SGD step of 784-256-128-10 on a batch of `batch` rows (sgemm calls, bias, ReLU, the update)
 * with the exchange `how`; `w` and `g` are blocks laid out as kcb's (kernel then bias per layer).
 * For SHARED_WEIGHTS `w` is the window's one copy; for OTHERS_GRADIENT `g` holds two slots per
 * rank (`stride` floats apart, alternating by step) and `g_of[q]` is rank q's pair. */
enum exchange { NO_EXCHANGE, ALLREDUCE, SHARED_WEIGHTS, OTHERS_GRADIENT };

struct step_ctx {
  int rank, size;
  size_t total, stride, offset[3];
  _Atomic uint64_t *flags;
  uint64_t phase;
  float *g_of[8];
};

static double sgd_steps(struct step_ctx *c, enum exchange how, int batch, int steps, float *w, float *g) {
  static const int dims[4] = {784, 256, 128, 10};
  float *act[4], *delta[4];
  act[0] = malloc((size_t)batch * 784 * sizeof(float));
  for (int i = 0; i < batch * 784; i++) act[0][i] = (float)(i % 255) / 255.0f;
  for (int l = 1; l < 4; l++) {
    act[l] = calloc((size_t)batch * dims[l], sizeof(float));
    delta[l] = calloc((size_t)batch * dims[l], sizeof(float));
  }
  const float lr = 1e-6f, scale = 1.0f / (float)(how == NO_EXCHANGE ? 1 : c->size);
  double t0 = MPI_Wtime();
  for (int s = 0; s < steps; s++) {
    float *grad = how == OTHERS_GRADIENT ? g + (size_t)(s & 1) * c->stride : g;
    for (int l = 0; l < 3; l++) {
      const float *kernel = w + c->offset[l], *bias = kernel + (size_t)dims[l] * dims[l + 1];
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, dims[l + 1], dims[l], 1.0f, act[l], dims[l], kernel,
                  dims[l + 1], 0.0f, act[l + 1], dims[l + 1]);
      for (int i = 0; i < batch; i++)
        for (int j = 0; j < dims[l + 1]; j++) {
          float v = act[l + 1][(size_t)i * dims[l + 1] + j] + bias[j];
          act[l + 1][(size_t)i * dims[l + 1] + j] = v > 0 ? v : 0;
        }
    }
    for (int i = 0; i < batch * 10; i++) delta[3][i] = act[3][i] * 0.01f - 0.001f;
    for (int l = 2; l >= 0; l--) {
      float *dw = grad + c->offset[l], *db = dw + (size_t)dims[l] * dims[l + 1];
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, dims[l], dims[l + 1], batch, 1.0f, act[l], dims[l],
                  delta[l + 1], dims[l + 1], 0.0f, dw, dims[l + 1]);
      memset(db, 0, (size_t)dims[l + 1] * sizeof(float));
      for (int i = 0; i < batch; i++)
        for (int j = 0; j < dims[l + 1]; j++) db[j] += delta[l + 1][(size_t)i * dims[l + 1] + j];
      if (l == 0) break;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, dims[l], dims[l + 1], 1.0f, delta[l + 1], dims[l + 1],
                  w + c->offset[l], dims[l + 1], 0.0f, delta[l], dims[l]);
      for (int i = 0; i < batch * dims[l]; i++)
        if (act[l][i] <= 0) delta[l][i] = 0;
    }
    if (how == ALLREDUCE) MPI_Allreduce(MPI_IN_PLACE, g, (int)c->total, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    if (how == NO_EXCHANGE || how == ALLREDUCE) {
      for (size_t i = 0; i < c->total; i++) w[i] -= lr * scale * g[i];
    } else if (how == SHARED_WEIGHTS) {
      shm_barrier(c->flags, c->rank, c->size, ++c->phase); /* every gradient is in the window */
      const size_t lo = c->total * (size_t)c->rank / (size_t)c->size;
      const size_t hi = c->total * (size_t)(c->rank + 1) / (size_t)c->size;
      for (int q = 0; q < c->size; q++)
        for (size_t i = lo; i < hi; i++) w[i] -= lr * scale * c->g_of[q][i];
      shm_barrier(c->flags, c->rank, c->size, ++c->phase); /* every share of the weights is updated */
    } else {
      shm_barrier(c->flags, c->rank, c->size, ++c->phase); /* the slot is not rewritten before the next one */
      for (int q = 0; q < c->size; q++) {
        const float *theirs = c->g_of[q] + (size_t)(s & 1) * c->stride;
        for (size_t i = 0; i < c->total; i++) w[i] -= lr * scale * theirs[i];
      }
    }
  }
  double t = (MPI_Wtime() - t0) / steps;
  for (int l = 0; l < 4; l++) free(act[l]);
  for (int l = 1; l < 4; l++) free(delta[l]);
  return t;
}

static int sharded_compare(int rank, int size) {
  if (size > 8) return printf("sharded: at most 8 ranks\n"), 1;
  static const int dims[4] = {784, 256, 128, 10};
  struct step_ctx c = {.rank = rank, .size = size};
  for (int l = 0; l < 3; l++) c.offset[l] = c.total, c.total += (size_t)dims[l] * dims[l + 1] + (size_t)dims[l + 1];
  c.stride = (c.total + 15) / 16 * 16;
  /* the window: flags, the shared weights, then two gradient slots per rank */
  const size_t flag_floats = 16 * (size_t)size;
  MPI_Win win;
  float *base = shared_window(&win, flag_floats + c.stride * (1 + 2 * (size_t)size), rank, "sharded");
  if (!base) return 1;
  c.flags = (_Atomic uint64_t *)(void *)base;
  float *shared_w = base + flag_floats;
  for (int q = 0; q < size; q++) c.g_of[q] = shared_w + c.stride * (1 + 2 * (size_t)q);
  float *w = malloc(c.total * sizeof(float)), *g = malloc(c.total * sizeof(float));
  for (size_t i = 0; i < c.total; i++) w[i] = 0.01f * (float)((int)(i % 13) - 6);
  if (rank == 0) {
    memcpy(shared_w, w, c.total * sizeof(float));
    for (int q = 0; q < size; q++) atomic_init(&c.flags[q * 8], 0);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  enum { REPS = 7, STEPS = 200 };
  const int local = GLOBAL_BATCH / size;
  double t[5][REPS];
  for (int rep = 0; rep < REPS; rep++) {
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) t[0][rep] = sgd_steps(&c, NO_EXCHANGE, GLOBAL_BATCH, STEPS, w, g);
    MPI_Barrier(MPI_COMM_WORLD);
    t[1][rep] = sgd_steps(&c, ALLREDUCE, local, STEPS, w, g);
    MPI_Barrier(MPI_COMM_WORLD);
    t[2][rep] = sgd_steps(&c, SHARED_WEIGHTS, local, STEPS, shared_w, c.g_of[rank]);
    MPI_Barrier(MPI_COMM_WORLD);
    t[3][rep] = sgd_steps(&c, OTHERS_GRADIENT, local, STEPS, w, c.g_of[rank]);
    MPI_Barrier(MPI_COMM_WORLD);
    t[4][rep] = sgd_steps(&c, NO_EXCHANGE, local, STEPS, w, g);
    /* a step ends when the slowest rank's does */
    for (int k = 1; k < 5; k++) MPI_Allreduce(MPI_IN_PLACE, &t[k][rep], 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  }
  if (rank == 0) {
    static const char *names[5] = {"1 process, batch 256", "MPI_Allreduce, whole update",
                                   "shared weights, sharded update", "others' gradients read, whole update",
                                   "no exchange (computing alone)"};
    double one = median(t[0], REPS);
    printf("MLP SGD step as sgemm calls, %d processes at batch %d (medians of %d x %d steps):\n", size, local, REPS,
           STEPS);
    for (int k = 0; k < 5; k++) {
      double m = median(t[k], REPS);
      printf("  %-38s %.3f ms/step  %.2fx\n", names[k], 1e3 * m, one / m);
    }
  }
  free(w);
  free(g);
  MPI_Win_free(&win);
  return 0;
}

/* The compute time per sample of one training step, one process. */
static int scaling_model(double alpha_us, double sample_us) {
  kcb_tensor *x, *y;
  make_data(&x, &y);
  kcb_model *m = make_model();
  fit_epochs(m, x, y, NULL, GLOBAL_BATCH, NULL);
  double runs[3];
  for (int i = 0; i < 3; i++) runs[i] = fit_epochs(m, x, y, NULL, GLOBAL_BATCH, NULL);
  double t_sample = 1.0 / median(runs, 3);
  size_t params = kcb_model_param_count(m);
  printf("measured: %.1f us of compute per sample (one thread), %zu parameters; alpha (per message) %.1f us\n",
         1e6 * t_sample, params, alpha_us);
  if (sample_us > 0) {
    t_sample = 1e-6 * sample_us;
    printf("model uses %.1f us per sample, as given\n", sample_us);
  }
  printf("allreduce (Rabenseifner): t = 2 log2(p) alpha + 2(p-1)/p * bytes / bandwidth; "
         "efficiency = t_compute / (t_compute + t)\n");
  printf("smallest per-rank batch for >= 90%% efficiency (no overlap of the allreduce with the backward pass):\n");
  printf("%12s %6s %10s %14s %14s\n", "params", "ranks", "Gbit/s", "allreduce ms", "batch/rank");
  const double scale[3] = {1, 10, 100}; /* the MLP, and models 10x and 100x larger (compute ~ params) */
  for (int s = 0; s < 3; s++)
    for (int p = 8; p <= 512; p *= 8)
      for (int g = 10; g <= 100; g *= 10) {
        double bytes = 4.0 * params * scale[s], bw = g * 1e9 / 8;
        double t_ar = 2.0 * log2(p) * alpha_us * 1e-6 + 2.0 * (p - 1) / p * bytes / bw;
        double b = ceil(9 * t_ar / (t_sample * scale[s]));
        printf("%12.0f %6d %10d %14.2f %14.0f\n", params * scale[s], p, g, 1e3 * t_ar, b);
      }
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
  return 0;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "throughput";
  if (strcmp(mode, "model") == 0) return scaling_model(argc > 2 ? atof(argv[2]) : 20.0, argc > 3 ? atof(argv[3]) : 0);
  kcb_distributed *d;
  check(kcb_distributed_new(&d, NULL), "MPI");
  int rank = kcb_distributed_rank(d), size = kcb_distributed_size(d), rc;
  if (strcmp(mode, "allreduce") == 0) rc = allreduce_sweep(rank, size);
  else if (strcmp(mode, "overlap") == 0) rc = overlap_compare(rank, size);
  else if (strcmp(mode, "shm") == 0) rc = shm_compare(rank, size);
  else if (strcmp(mode, "sharded") == 0) rc = sharded_compare(rank, size);
  else rc = throughput(d, argc > 2 ? atoi(argv[2]) : 5);
  kcb_distributed_free(d);
  return rc;
}
