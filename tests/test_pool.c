/* test_pool.c — kcb's worker threads (core/pool.c): every item of a split loop runs exactly once,
 * splits inside a part run whole, split sgemm calls agree with whole ones, reductions add
 * their parts in a fixed order, the workers compute in the caller's floating-point mode, one
 * thread holds the pool at a time, OpenBLAS's thread count comes back, a forked child gets its own
 * threads, and a fit on 2 threads learns what it learns on 1 and repeats itself exactly. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_helpers.h"
#include "internal.h"
#include "model/model_internal.h"

/* Rounds of the repeated checks: fewer under valgrind, which runs one thread at a time and so
 * makes every wait a spin of a whole time slice. */
static int rounds(int normal) {
  const char *preload = getenv("LD_PRELOAD");
  return preload && strstr(preload, "valgrind") ? normal / 10 : normal;
}

/* ---- kcb__parallel ---------------------------------------------------------------------- */

typedef struct coverage {
  atomic_int *hits;     /* per item: how many times it ran */
  atomic_int parts_run; /* parts that got a non-empty range */
  int64_t align, min_per_part;
  atomic_int bad; /* a part's range broke the contract */
} coverage;

static void count_part(void *ctx, int part, int64_t begin, int64_t end) {
  coverage *c = ctx;
  if (begin % c->align != 0 || end <= begin || part < 0) atomic_fetch_add(&c->bad, 1);
  atomic_fetch_add(&c->parts_run, 1);
  for (int64_t i = begin; i < end; i++) atomic_fetch_add(&c->hits[i], 1);
}

static void test_parallel_runs_every_item_once(void **state) {
  (void)state;
  static const int64_t sizes[] = {0, 1, 15, 16, 17, 100, 1000, 4097, 65536};
  static const int64_t aligns[] = {1, 16}, mins[] = {1, 7, 1000};
  atomic_int *hits = malloc(65536 * sizeof *hits);
  kcb__pool_enter(4);
  assert_true(kcb__pool_parts() >= 2); /* 4 unless threads cannot be made */
  for (int round = 0; round < rounds(50); round++) /* repeated: a lost or doubled job shows as a count */
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
      for (size_t a = 0; a < 2; a++)
        for (size_t m = 0; m < 3; m++) {
          int64_t n = sizes[s];
          for (int64_t i = 0; i < n; i++) atomic_store(&hits[i], 0);
          coverage c = {hits, 0, aligns[a], mins[m], 0};
          int parts = kcb__parallel(n, mins[m], aligns[a], count_part, &c);
          assert_true(parts >= 1 && parts <= kcb__pool_parts());
          assert_int_equal(atomic_load(&c.bad), 0);
          assert_true(atomic_load(&c.parts_run) <= parts);
          if (n / mins[m] < 2 || n / aligns[a] < 2) assert_int_equal(parts, 1);
          for (int64_t i = 0; i < n; i++) assert_int_equal(atomic_load(&hits[i]), 1);
        }
  kcb__pool_leave();
  assert_int_equal(kcb__pool_parts(), 1);
  free(hits);
}

/* A part that splits again (as a part's sgemm does) must run the inner split itself. */
typedef struct nested {
  float *a, *b, *c, *want; /* (64, 96) x (96, 80) per part, one product per part */
  atomic_int outer_parts;
} nested;

static void nested_part(void *ctx, int part, int64_t begin, int64_t end) {
  nested *n = ctx;
  (void)part;
  atomic_fetch_add(&n->outer_parts, 1);
  for (int64_t p = begin; p < end; p++)
    kcb__sgemm(0, 0, 64, 80, 96, 1.0f, n->a + p * 64 * 96, n->b, 0.0f, n->c + p * 64 * 80);
  coverage c = {NULL, 0, 1, 1, 0};
  atomic_int hits[8];
  for (int i = 0; i < 8; i++) atomic_store(&hits[i], 0);
  c.hits = hits;
  assert_int_equal(kcb__parallel(8, 1, 1, count_part, &c), 1); /* inline: the workers are busy */
  for (int i = 0; i < 8; i++) assert_int_equal(atomic_load(&hits[i]), 1);
}

static void test_split_inside_a_part_runs_whole(void **state) {
  (void)state;
  const int products = 8;
  nested n = {malloc(products * 64 * 96 * sizeof(float)), malloc(96 * 80 * sizeof(float)),
              malloc(products * 64 * 80 * sizeof(float)), malloc(products * 64 * 80 * sizeof(float)), 0};
  for (int i = 0; i < products * 64 * 96; i++) n.a[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
  for (int i = 0; i < 96 * 80; i++) n.b[i] = (float)((i * 53) % 89) / 44.0f - 1.0f;
  for (int p = 0; p < products; p++)
    kcb__sgemm_plain(0, 0, 64, 80, 96, 1.0f, n.a + p * 64 * 96, 96, n.b, 80, 0.0f, n.want + p * 64 * 80, 80);
  kcb__pool_enter(2);
  for (int round = 0; round < rounds(200); round++) {
    memset(n.c, 0, products * 64 * 80 * sizeof(float));
    kcb__parallel(products, 1, 1, nested_part, &n);
    for (int i = 0; i < products * 64 * 80; i++) assert_float_equal(n.c[i], n.want[i], 1e-3);
  }
  kcb__pool_leave();
  assert_true(atomic_load(&n.outer_parts) >= rounds(200));
  free(n.a), free(n.b), free(n.c), free(n.want);
}

/* ---- split sgemm ----------------------------------------------------------------------- */

static void test_split_sgemm_agrees_with_a_whole_one(void **state) {
  (void)state;
  assert_ok(kcb__blas_load());
  kcb__blas_set_threads(1); /* the whole products on one thread, as each band runs */
  /* m, n, k: bands of rows (m >= n) and of columns (n > m), band edges off the 16-float grid */
  static const int shapes[][3] = {{500, 40, 100}, {40, 500, 100}, {128, 256, 200}, {300, 256, 64}, {77, 333, 99}};
  for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
    for (int ta = 0; ta < 2; ta++)
      for (int tb = 0; tb < 2; tb++)
        for (int pad = 0; pad < 2; pad++) { /* leading dimensions wider than the matrices */
          const int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
          const int lda = (ta ? m : k) + 3 * pad, ldb = (tb ? k : n) + 5 * pad, ldc = n + 2 * pad;
          const size_t na = (size_t)(ta ? k : m) * lda, nb = (size_t)(tb ? n : k) * ldb, nc = (size_t)m * ldc;
          float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b), *whole = malloc(nc * sizeof *whole),
                *split = malloc(nc * sizeof *split);
          for (size_t i = 0; i < na; i++) a[i] = (float)((i * 31) % 97) / 48.0f - 1.0f;
          for (size_t i = 0; i < nb; i++) b[i] = (float)((i * 17) % 83) / 41.0f - 1.0f;
          for (size_t i = 0; i < nc; i++) whole[i] = split[i] = (float)(i % 7); /* beta = 0.5 reads C */
          kcb__sgemm_ld(ta, tb, m, n, k, 1.25f, a, lda, b, ldb, 0.5f, whole, ldc);
          kcb__pool_enter(3);
          kcb__sgemm_ld(ta, tb, m, n, k, 1.25f, a, lda, b, ldb, 0.5f, split, ldc);
          kcb__pool_leave();
          /* OpenBLAS takes its small-matrix kernels for small bands, which round differently: the
           * bands agree to rounding (|a|, |b| <= 1), not bit for bit */
          for (size_t i = 0; i < nc; i++)
            if (fabsf(whole[i] - split[i]) > 1e-6f * (float)k)
              fail_msg("shape %zu trans %d%d pad %d: C[%zu] = %.9g split, %.9g whole", s, ta, tb, pad, i, split[i], whole[i]);
          free(a), free(b), free(whole), free(split);
        }
}

/* ---- reductions ------------------------------------------------------------------------ */

static void column_sums(void *ctx, float *sums, int64_t begin, int64_t end) {
  const float *x = ctx; /* (rows, 3) */
  for (int64_t r = begin; r < end; r++)
    for (int c = 0; c < 3; c++) sums[c] += x[r * 3 + c];
}

static void test_parallel_sums_add_every_part_in_order(void **state) {
  (void)state;
  const int64_t rows = 100003;
  float *x = malloc((size_t)rows * 3 * sizeof *x);
  double want[3] = {0};
  for (int64_t i = 0; i < rows * 3; i++) {
    x[i] = (float)((i * 7919) % 1000) / 999.0f;
    want[i % 3] += x[i];
  }
  float serial[3], first[3], again[3];
  kcb__parallel_sums(rows, 1000, serial, 3, column_sums, x);
  kcb__pool_enter(2);
  kcb__parallel_sums(rows, 1000, first, 3, column_sums, x);
  for (int round = 0; round < 20; round++) {
    memset(again, 0xff, sizeof again); /* the result must not depend on what was there */
    kcb__parallel_sums(rows, 1000, again, 3, column_sums, x);
    assert_memory_equal(again, first, sizeof first); /* the same floats for the same thread count */
  }
  kcb__parallel_sums(0, 1, again, 3, column_sums, x); /* nothing to add: zeros */
  kcb__pool_leave();
  for (int c = 0; c < 3; c++) {
    assert_float_equal(first[c], want[c], 1e-4 * want[c]);
    assert_float_equal(serial[c], want[c], 1e-4 * want[c]);
    assert_true(again[c] == 0.0f);
  }
  free(x);
}

/* ---- the floating-point mode, the holder, OpenBLAS's threads, fork ------------------------------ */

static void record_mode(void *ctx, int part, int64_t begin, int64_t end) {
  unsigned *modes = ctx; /* one per part */
  (void)begin, (void)end;
  modes[part] = kcb__fp_mode_get();
}

static void test_workers_compute_in_the_callers_mode(void **state) {
  (void)state;
  unsigned modes[2] = {0, 0};
  kcb__pool_enter(2);
  unsigned saved = kcb__flush_subnormals_begin();
  unsigned flushing = kcb__fp_mode_get();
  assert_int_equal(kcb__parallel(2, 1, 1, record_mode, modes), 2);
  assert_int_equal(modes[1], flushing); /* the worker's */
  kcb__fp_mode_set(saved);
  assert_int_equal(kcb__parallel(2, 1, 1, record_mode, modes), 2);
  assert_int_equal(modes[1], saved);
  kcb__pool_leave();
}

static void *other_thread_parts(void *arg) {
  int *parts = arg;
  kcb__pool_enter(2);
  *parts = kcb__pool_parts();
  kcb__pool_leave();
  return NULL;
}

static void test_one_thread_holds_the_pool(void **state) {
  (void)state;
  int parts = -1;
  pthread_t t;
  kcb__pool_enter(2);
  kcb__pool_enter(2); /* nests */
  kcb__pool_leave();
  assert_int_equal(kcb__pool_parts(), 2);
  assert_int_equal(pthread_create(&t, NULL, other_thread_parts, &parts), 0);
  pthread_join(t, NULL);
  assert_int_equal(parts, 1); /* held here: the other thread runs serially */
  kcb__pool_leave();
  assert_int_equal(pthread_create(&t, NULL, other_thread_parts, &parts), 0);
  pthread_join(t, NULL);
  assert_int_equal(parts, 2);
}

static void test_openblas_threads_come_back(void **state) {
  (void)state;
  assert_ok(kcb__blas_load());
  kcb__blas_set_threads(2);
  if (kcb__blas_threads() != 2) skip(); /* an OpenBLAS built without threads */
  kcb__pool_enter(0);
  assert_int_equal(kcb__pool_parts(), 2);
  assert_int_equal(kcb__blas_threads(), 1); /* kcb splits; OpenBLAS must not spin beside it */
  kcb__pool_leave();
  assert_int_equal(kcb__blas_threads(), 2);
  kcb__blas_set_threads(1);
  kcb__pool_enter(0);
  assert_int_equal(kcb__pool_parts(), 1);
  kcb__pool_leave();
}

static void test_forked_child_makes_its_own_threads(void **state) {
  (void)state;
  kcb__pool_enter(2); /* the parent's workers exist */
  kcb__pool_leave();
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    alarm(20); /* a child waiting on threads it does not have ends instead of hanging the test */
    atomic_int hits[64];
    for (int i = 0; i < 64; i++) atomic_store(&hits[i], 0);
    coverage c = {hits, 0, 1, 1, 0};
    kcb__pool_enter(2);
    int parts = kcb__parallel(64, 1, 1, count_part, &c);
    kcb__pool_leave();
    int ok = parts == 2;
    for (int i = 0; i < 64; i++) ok &= atomic_load(&hits[i]) == 1;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- every split pass of a step ------------------------------------------------------------ */

/* One forward + backward of `spec` on 16x16x2 inputs, batch 256, on `threads` threads: the
 * predictions, every parameter's gradient and dL/dinput, in a new array of *n_out floats. */
static float *step_outputs(const char *spec, int threads, size_t *n_out) {
  const int64_t batch = 256, in[3] = {16, 16, 2};
  kcb_model *m = test_compiled_model_shaped(3, in, spec, 11, KCB_OPT_SGD, KCB_DEFAULT, KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
                                            KCB_METRIC_COUNT);
  assert_ok(kcb__model_reserve_workspace(m, batch, 1));
  m->want_input_grad = 1;
  float *x = malloc((size_t)(batch * 512) * sizeof *x);
  for (int64_t i = 0; i < batch * 512; i++) x[i] = (float)((i * 7919) % 1009) / 504.0f - 1.0f;
  const kcb__layer *last = kcb__model_output_layer(m);
  const size_t n_pred = (size_t)(batch * last->out_size);
  *n_out = n_pred + m->n_params + (size_t)(batch * 512);
  float *out = malloc(*n_out * sizeof *out);
  kcb__pool_enter(threads);
  const float *pred = kcb__model_forward(m, x, batch, 1);
  memcpy(out, pred, n_pred * sizeof *out);
  for (int64_t r = 0; r < batch; r++) /* some dL/dy */
    for (int64_t k = 0; k < last->out_size; k++) m->grad_a[r * last->out_size + k] = pred[r * last->out_size + k] - (k == r % 10);
  kcb__model_backward(m, batch);
  kcb__pool_leave();
  memcpy(out + n_pred, m->grads, m->n_params * sizeof *out);
  memcpy(out + n_pred + m->n_params, m->input_grad, (size_t)(batch * 512) * sizeof *out);
  free(x);
  kcb_model_free(m);
  return out;
}

/* The outputs of spec on 3 threads against 1: within `tolerance` of the largest. */
static void assert_split_agrees(const char *spec, double tolerance) {
  size_t n = 0, n3 = 0;
  float *one = step_outputs(spec, 1, &n), *three = step_outputs(spec, 3, &n3);
  assert_int_equal(n, n3);
  double scale = 0;
  for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(one[i]));
  for (size_t i = 0; i < n; i++)
    if (fabs(one[i] - three[i]) > tolerance * scale)
      fail_msg("%s: output %zu of %zu: %.9g on 3 threads, %.9g on 1", spec, i, n, three[i], one[i]);
  free(one);
  free(three);
}

/* Every kind of split pass: direct, grouped, pointwise and im2col convolutions (with dL/dinput
 * through the chunked fold), LayerNormalization, tiled and general max pooling, average pooling,
 * dropout, Dense, and BatchNormalization. */
static void test_every_split_pass_agrees_with_one_thread(void **state) {
  (void)state;
  /* all but BatchNormalization: only sgemm's bands round differently */
  assert_split_agrees("conv:6:3:relu,maxpool:2,conv:8:3:same:g2:relu,conv:8:1:relu,ln,zeropad:1,maxpool:3:2:same,"
                      "conv:16:3:relu,avgpool:2:1:same,dropout:0.3,flatten,20:relu,10:softmax",
                      1e-5);
  /* a middle layer whose input gradient takes many chunks: the parts fold at the same time */
  assert_split_agrees("conv:16:3:relu,conv:32:3:relu,flatten,10", 1e-5);
  /* BatchNormalization's channel sums over 256 x 14 x 14 rows, cut in three, round otherwise: its
   * mean moves by ~1e-5 for a whole channel at once, and a Dense layer adds that up over its 1,176
   * inputs (2e-5 of the largest output without the ReLU, 6e-4 with it). A lost or doubled part
   * moves a mean by a third. */
  assert_split_agrees("conv:6:3:relu,bn,maxpool:2,conv:8:3:same:g2:relu,conv:8:1:relu,bn,flatten,20:relu,10", 2e-3);
}

/* ---- a fit on 2 threads ----------------------------------------------------------------- */

/* Losses of 3 epochs of a small CNN (every split pass: conv direct and im2col, BatchNormalization,
 * pooling, dropout, Dense, Adam) on `threads` threads. */
static void cnn_losses(int threads, double *loss) {
  kcb_model *m = NULL;
  int64_t in[3] = {12, 12, 1};
  assert_ok(kcb_model_new(&m, 3, in, 7));
  assert_ok(kcb_model_add_from_spec(m, "conv:8:3:relu,bn,maxpool:2,conv:16:3:same:relu,avgpool:2,dropout:0.2,flatten,"
                                       "32:relu,10:softmax"));
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
  c.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  assert_ok(kcb_model_compile(m, &c));
  const int64_t n = 512;
  int64_t xs[4] = {n, 12, 12, 1}, ys[1] = {n};
  kcb_tensor *x, *y;
  assert_ok(kcb_tensor_new(&x, 4, xs));
  assert_ok(kcb_tensor_new(&y, 1, ys));
  for (int64_t i = 0; i < n; i++) {
    y->data[i] = (float)(i % 10);
    for (int p = 0; p < 144; p++) /* each class lights its own band of rows */
      x->data[i * 144 + p] = (float)((p / 12) == (i % 10) + 1) + (float)((i * 131 + p * 7) % 17) / 40.0f;
  }
  kcb_fit_options o = KCB_FIT_OPTIONS_INIT;
  o.epochs = 3;
  o.batch_size = 64;
  o.verbose = 0;
  kcb_history *h = NULL;
  kcb__blas_set_threads(threads);
  assert_ok(kcb_model_fit(m, x, y, &o, &h));
  kcb__blas_set_threads(1);
  const double *values = NULL;
  size_t count = 0;
  assert_ok(kcb_history_values(h, "loss", &values, &count));
  assert_int_equal(count, 3);
  for (int e = 0; e < 3; e++) loss[e] = values[e];
  kcb_history_free(h);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
  kcb_model_free(m);
}

static void test_fit_on_two_threads(void **state) {
  (void)state;
  assert_ok(kcb__blas_load());
  kcb__blas_set_threads(2);
  if (kcb__blas_threads() != 2) skip();
  double one[3], two[3], again[3];
  cnn_losses(1, one);
  cnn_losses(2, two);
  cnn_losses(2, again);
  for (int e = 0; e < 3; e++) {
    assert_true(two[e] == again[e]);                         /* the same thread count repeats exactly */
    assert_float_equal(two[e], one[e], 1e-3 * fabs(one[e])); /* and learns what one thread learns */
  }
  assert_true(two[2] < two[0]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parallel_runs_every_item_once),
      cmocka_unit_test(test_split_inside_a_part_runs_whole),
      cmocka_unit_test(test_split_sgemm_agrees_with_a_whole_one),
      cmocka_unit_test(test_parallel_sums_add_every_part_in_order),
      cmocka_unit_test(test_workers_compute_in_the_callers_mode),
      cmocka_unit_test(test_one_thread_holds_the_pool),
      cmocka_unit_test(test_openblas_threads_come_back),
      cmocka_unit_test(test_forked_child_makes_its_own_threads),
      cmocka_unit_test(test_every_split_pass_agrees_with_one_thread),
      cmocka_unit_test(test_fit_on_two_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
