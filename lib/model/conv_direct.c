/* model/conv_direct.c — convolutions with few taps per output (kh * kw * cin <= DIRECT_MAX_TAPS,
 * ungrouped: a first layer on grey or RGB images) computed directly instead of by im2col + sgemm.
 * With K = 9 the product is too thin for sgemm: packing, its zeroing of C and the unfolded copy
 * of the input cost more than the arithmetic. Here each output pixel's filters are accumulated
 * while the pixel's row is in L1, with the bias added first and the activation applied before
 * the row leaves the cache; the kernel gradient accumulates into a (K, F) block that stays in L1.
 * The loops are compiled three times (baseline, AVX2 + FMA, AVX-512) and picked at run time, as
 * the library itself is built for the baseline x86-64. */
#include <stdint.h>
#include <string.h>

#include "model/model_internal.h"

/* Taps per output up to which the direct loops beat im2col + sgemm (5x5 on one channel, 3x3 on RGB). */
#define DIRECT_MAX_TAPS 32
/* Filters whose accumulators fit in L1 alongside the inputs. */
#define DIRECT_MAX_FILTERS 512

int kcb__conv_direct_eligible(const kcb__geom *g) {
  const int pointwise = g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1; /* a plain sgemm already */
  return !pointwise && g->groups == 1 && (int64_t)g->kh * g->kw * g->c <= DIRECT_MAX_TAPS &&
         g->oc <= DIRECT_MAX_FILTERS;
}

/* The valid taps [lo, hi) of a window starting at `start` along an axis of `size` (kernel k,
 * dilation d); the divisions only at the borders. */
static inline void valid_range(int64_t start, int64_t size, int k, int d, int *lo, int *hi) {
  if (start >= 0 && start + (int64_t)(k - 1) * d < size) {
    *lo = 0, *hi = k;
    return;
  }
  *lo = start >= 0 ? 0 : (int)((-start + d - 1) / d);
  int64_t end = (size - start + d - 1) / d;
  *hi = end < k ? (int)end : k;
}

/* The valid taps of output (oy, ox): rows [i_lo, i_hi), columns [j_lo, j_hi) of the kernel. */
static inline void valid_taps(const kcb__geom *g, int64_t oy, int64_t ox, int *i_lo, int *i_hi, int *j_lo, int *j_hi) {
  valid_range(oy * g->sh - g->pad_top, g->h, g->kh, g->dh, i_lo, i_hi);
  valid_range(ox * g->sw - g->pad_left, g->w, g->kw, g->dw, j_lo, j_hi);
}

/* Where each of the K = kh * kw * C taps of a window lies from the window's first input, in the
 * kernel's (i, j, c) order. */
static void tap_offsets(const kcb__geom *g, int64_t *offset) {
  int64_t t = 0;
  for (int i = 0; i < g->kh; i++)
    for (int j = 0; j < g->kw; j++)
      for (int64_t c = 0; c < g->c; c++) offset[t++] = ((int64_t)i * g->dh * g->w + (int64_t)j * g->dw) * g->c + c;
}

/* The K input values output (oy, ox) of sample xs sees, in the kernel's order, zeros for padding:
 * every output of a row then uses every kernel row the same way. */
static inline void gather_taps(const kcb__geom *g, const float *xs, const int64_t *offset, int64_t oy, int64_t ox,
                               float *value) {
  const int64_t K = (int64_t)g->kh * g->kw * g->c, y0 = oy * g->sh - g->pad_top, x0 = ox * g->sw - g->pad_left;
  int i_lo, i_hi, j_lo, j_hi;
  valid_taps(g, oy, ox, &i_lo, &i_hi, &j_lo, &j_hi);
  if (i_lo == 0 && j_lo == 0 && i_hi == g->kh && j_hi == g->kw) { /* inside the input */
    const float *base = xs + (y0 * g->w + x0) * g->c;
    for (int64_t t = 0; t < K; t++) value[t] = base[offset[t]];
    return;
  }
  for (int64_t t = 0; t < K; t++) value[t] = 0.0f;
  for (int i = i_lo; i < i_hi; i++)
    for (int j = j_lo; j < j_hi; j++) {
      const float *xp = xs + ((y0 + (int64_t)i * g->dh) * g->w + x0 + (int64_t)j * g->dw) * g->c;
      float *v = value + ((int64_t)i * g->kw + j) * g->c;
      for (int64_t c = 0; c < g->c; c++) v[c] = xp[c];
    }
}

/* Both loops take PIX outputs of a row at a time (independent sums, so that additions overlap
 * instead of waiting on each other) and blocks of V filters as GCC vectors (V = 16 with AVX-512,
 * 8 with AVX2, 4 otherwise), the last F % V filters one by one. The AVX2 and AVX-512 forms fuse
 * each multiply-add (this file is built with -ffp-contract=fast), as OpenBLAS's kernels do on
 * those CPUs: results differ from the baseline's in the last bits, as sgemm's would. */
#define PIX 4

/* The taps of outputs ox0 .. ox0 + PIX - 1 of row oy (zeros past the row's end: np are real). */
static inline int gather_pixels(const kcb__geom *g, const float *xs, const int64_t *offset, int64_t oy, int64_t ox0,
                                float value[PIX][DIRECT_MAX_TAPS]) {
  const int np = g->ow - ox0 < PIX ? (int)(g->ow - ox0) : PIX;
  for (int p = 0; p < PIX; p++) {
    if (p < np) gather_taps(g, xs, offset, oy, ox0 + p, value[p]);
    else
      for (int t = 0; t < DIRECT_MAX_TAPS; t++) value[p][t] = 0.0f;
  }
  return np;
}

/* The loops, compiled for the baseline (4 floats a vector), AVX2 + FMA (8) and AVX-512 (16). */
#define LOOP_ATTR
#define LOOP(name) name##_base
#define V 4
#include "model/conv_direct_loops.h"
#undef LOOP_ATTR
#undef LOOP
#undef V
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_X86_VARIANTS 1
#define LOOP_ATTR __attribute__((target("avx2,fma")))
#define LOOP(name) name##_avx2
#define V 8
#include "model/conv_direct_loops.h"
#undef LOOP_ATTR
#undef LOOP
#undef V
#define LOOP_ATTR __attribute__((target("avx512f,fma")))
#define LOOP(name) name##_avx512
#define V 16
#include "model/conv_direct_loops.h"
#undef LOOP_ATTR
#undef LOOP
#undef V
#endif

typedef void (*forward_fn)(const kcb__geom *g, const float *x, const float *kernel, const float *bias, kcb_activation act,
                           float *dst, float *out, int64_t batch);
typedef void (*backward_fn)(const kcb__geom *g, const float *x, int relu, const float *out, float *gy, int store_grad,
                            float *dkernel, float *dbias, int64_t batch);

/* This CPU's loops. */
static void loops_for_cpu(forward_fn *forward, backward_fn *backward) {
  *forward = forward_base, *backward = backward_base;
#ifdef HAVE_X86_VARIANTS
  switch (kcb__cpu_simd_level()) {
    case 2: *forward = forward_avx512, *backward = backward_avx512; break;
    case 1: *forward = forward_avx2, *backward = backward_avx2; break;
    default: break;
  }
#endif
}

/* A batch split by samples over the pool's threads (core/pool.c). */
typedef struct direct_job {
  const kcb__geom *g;
  forward_fn forward;
  backward_fn backward;
  const float *x, *kernel, *bias, *out_r;
  kcb_activation act;
  float *dst, *out, *gy, *dbias;
  int relu, store_grad;
} direct_job;

static int64_t in_floats(const kcb__geom *g) { return g->h * g->w * g->c; }
static int64_t out_floats(const kcb__geom *g) { return g->oh * g->ow * g->oc; }
static int64_t kernel_floats(const kcb__geom *g) { return (int64_t)g->kh * g->kw * g->c * g->oc; }

static void forward_part(void *ctx, int part, int64_t s0, int64_t s1) {
  const direct_job *j = ctx;
  const int64_t in = in_floats(j->g), out = out_floats(j->g);
  (void)part;
  j->forward(j->g, j->x + s0 * in, j->kernel, j->bias, j->act, j->dst + s0 * out, j->out + s0 * out, s1 - s0);
}

/* Samples [s0, s1)'s kernel gradient into sums, and their bias gradient after it when there is one. */
static void backward_sums(void *ctx, float *sums, int64_t s0, int64_t s1) {
  const direct_job *j = ctx;
  const int64_t in = in_floats(j->g), out = out_floats(j->g);
  j->backward(j->g, j->x + s0 * in, j->relu, j->out_r + s0 * out, j->gy + s0 * out, j->store_grad, sums,
              j->dbias ? sums + kernel_floats(j->g) : NULL, s1 - s0);
}

/* Samples per part: enough outputs that a split pays for waking a thread. */
static int64_t samples_per_part(const kcb__geom *g) { return 16384 / out_floats(g) + 1; }

void kcb__conv_direct_forward(const kcb__geom *g, const float *x, const float *kernel, const float *bias,
                              kcb_activation act, float *dst, float *out, int64_t batch) {
  direct_job j = {.g = g, .x = x, .kernel = kernel, .bias = bias, .act = act, .dst = dst, .out = out};
  loops_for_cpu(&j.forward, &j.backward);
  kcb__parallel(batch, samples_per_part(g), 1, forward_part, &j);
}

void kcb__conv_direct_backward(const kcb__geom *g, const float *x, int relu, const float *out, float *gy,
                               int store_grad, float *dkernel, float *dbias, int64_t batch) {
  direct_job j = {.g = g, .x = x, .out_r = out, .gy = gy, .dbias = dbias, .relu = relu, .store_grad = store_grad};
  loops_for_cpu(&j.forward, &j.backward);
  const int64_t kf = kernel_floats(g);
  if (dbias && dbias != dkernel + kf) { /* split sums need the bias gradient right after the kernel's, as the model keeps them */
    j.backward(g, x, relu, out, gy, store_grad, dkernel, dbias, batch);
    return;
  }
  kcb__parallel_sums(batch, samples_per_part(g), dkernel, kf + (dbias ? g->oc : 0), backward_sums, &j);
}
