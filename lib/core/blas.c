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

void kcb__sgemm_ld(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                   const float *b, int ldb, float beta, float *c, int ldc) {
  pthread_once(&blas_once, blas_open);
  if (!blas.sgemm) {
    kcb__sgemm_plain(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  blas.sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a,
             lda, b, ldb, beta, c, ldc);
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
