/* core/blas.c — the single wrapper around cblas_sgemm / cblas_sgemv (OpenBLAS), which is loaded on
 * first use rather than linked: OpenBLAS starts its threads when it is loaded, and they spin about
 * 0.1 s of CPU waiting for work, which every program linking kcb paid (kcb-inspect, kcb-restore, a
 * program that only writes event files). Without the library, a plain loop computes the same
 * product, slowly, and kcb_model_compile says why. */
#include <cblas.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "internal.h"

typedef void (*sgemm_fn)(const enum CBLAS_ORDER, const enum CBLAS_TRANSPOSE, const enum CBLAS_TRANSPOSE, const blasint,
                         const blasint, const blasint, const float, const float *, const blasint, const float *,
                         const blasint, const float, float *, const blasint);
typedef void (*sgemv_fn)(const enum CBLAS_ORDER, const enum CBLAS_TRANSPOSE, const blasint, const blasint, const float,
                         const float *, const blasint, const float *, const blasint, const float, float *, const blasint);

static struct {
  sgemm_fn sgemm;
  sgemv_fn sgemv;
  int (*get_threads)(void);
  void (*set_threads)(int);
  char error[256];
} blas;
static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

static void blas_open(void) {
  /* the runtime soname first (no -dev package needed), then the library found at build time */
  static const char *const names[] = {"libopenblas.so.0", KCB_OPENBLAS_LIBRARY};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      snprintf(blas.error, sizeof blas.error, "%s", dlerror());
      continue;
    }
    /* POSIX's way to turn dlsym's object pointer into a function pointer */
    *(void **)&blas.sgemm = dlsym(h, "cblas_sgemm");
    *(void **)&blas.sgemv = dlsym(h, "cblas_sgemv");
    *(void **)&blas.get_threads = dlsym(h, "openblas_get_num_threads");
    *(void **)&blas.set_threads = dlsym(h, "openblas_set_num_threads");
    if (blas.sgemm && blas.sgemv) return;
    snprintf(blas.error, sizeof blas.error, "%s has no cblas_sgemm", names[i]);
    blas.sgemm = NULL;
    blas.sgemv = NULL;
    dlclose(h);
  }
}

int kcb__blas_load(void) {
  pthread_once(&blas_once, blas_open);
  if (blas.sgemm) return 0;
  return kcb__error(KCB_ESTATE, "cannot load OpenBLAS (libopenblas.so.0; apt-get install libopenblas0): %s", blas.error);
}

int kcb__blas_threads(void) {
  pthread_once(&blas_once, blas_open);
  return blas.sgemm && blas.get_threads ? blas.get_threads() : 1;
}

void kcb__blas_set_threads(int threads) {
  pthread_once(&blas_once, blas_open);
  if (blas.sgemm && blas.set_threads) blas.set_threads(threads);
}

/* The product without OpenBLAS: correct, and far slower. */
void kcb__sgemm_plain(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                        const float *b, int ldb, float beta, float *c, int ldc) {
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      float s = 0.0f;
      for (int p = 0; p < k; p++)
        s += (trans_a ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p]) *
             (trans_b ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j]);
      float *out = &c[(size_t)i * ldc + j];
      *out = alpha * s + (beta == 0.0f ? 0.0f : beta * *out);
    }
}

typedef struct gemm_args {
  int trans_a, trans_b, m, n, k, lda, ldb, ldc, by_rows;
  float alpha, beta;
  const float *a, *b;
  float *c;
} gemm_args;

static void gemm(const gemm_args *g, int m, int n, const float *a, const float *b, float *c) {
  blas.sgemm(CblasRowMajor, g->trans_a ? CblasTrans : CblasNoTrans, g->trans_b ? CblasTrans : CblasNoTrans, m, n, g->k,
             g->alpha, a, g->lda, b, g->ldb, g->beta, c, g->ldc);
}

/* One pool part of a product: a band of C's rows (A's rows) or of its columns (B's columns). */
static void gemm_part(void *ctx, int part, int64_t begin, int64_t end) {
  const gemm_args *g = ctx;
  (void)part;
  if (g->by_rows)
    gemm(g, (int)(end - begin), g->n, g->trans_a ? g->a + begin : g->a + begin * g->lda, g->b, g->c + begin * g->ldc);
  else
    gemm(g, g->m, (int)(end - begin), g->a, g->trans_b ? g->b + begin * g->ldb : g->b + begin, g->c + begin);
}

/* Products below this many multiply-adds run whole: splitting costs a few microseconds. */
#define SPLIT_MIN_MACS (1 << 19)
#define SPLIT_MIN_BAND 32

void kcb__sgemm_ld(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                   const float *b, int ldb, float beta, float *c, int ldc) {
  pthread_once(&blas_once, blas_open);
  if (!blas.sgemm) {
    kcb__sgemm_plain(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  gemm_args g = {trans_a, trans_b, m, n, k, lda, ldb, ldc, 0, alpha, beta, a, b, c};
  int parts = kcb__pool_parts();
  if (parts > 1 && (double)m * n * k >= SPLIT_MIN_MACS) {
    /* Each band packs the operand it shares whole: bands of rows repack B (k x n), bands of
     * columns repack A (m x k), so cut the longer side. */
    g.by_rows = m >= n;
    int64_t side = g.by_rows ? m : n;
    if (side >= 2 * SPLIT_MIN_BAND) {
      kcb__parallel(side, SPLIT_MIN_BAND, 16, gemm_part, &g);
      return;
    }
  }
  gemm(&g, m, n, a, b, c);
}

void kcb__sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                const float *b, float beta, float *c) {
  pthread_once(&blas_once, blas_open);
  if (n == 1 && !trans_b && blas.sgemv) {
    /* A matrix-vector product (a one-unit Dense layer): sgemv skips sgemm's packing. */
    blas.sgemv(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_a ? k : m, trans_a ? m : k, alpha, a,
               trans_a ? m : k, b, 1, beta, c, 1);
    return;
  }
  kcb__sgemm_ld(trans_a, trans_b, m, n, k, alpha, a, trans_a ? m : k, b, trans_b ? k : n, beta, c, n);
}
