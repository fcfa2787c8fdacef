/* core/blas.c — the single wrapper around cblas_sgemm (OpenBLAS). */
#include <cblas.h>

#include "internal.h"

void kcb__sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                const float *b, float beta, float *c) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              m, n, k, alpha, a, trans_a ? m : k, b, trans_b ? k : n, beta, c, n);
}
