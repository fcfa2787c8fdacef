/* core/blas.c — the single wrapper around cblas_sgemm (OpenBLAS). */
#include <cblas.h>

#include "internal.h"

void kcb__sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                const float *b, float beta, float *c) {
  if (n == 1 && !trans_b) {
    /* A matrix-vector product (a one-unit Dense layer): sgemv skips sgemm's packing. */
    cblas_sgemv(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_a ? k : m, trans_a ? m : k, alpha, a,
                trans_a ? m : k, b, 1, beta, c, 1);
    return;
  }
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              m, n, k, alpha, a, trans_a ? m : k, b, trans_b ? k : n, beta, c, n);
}

void kcb__sgemm_ld(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                   const float *b, int ldb, float beta, float *c, int ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
