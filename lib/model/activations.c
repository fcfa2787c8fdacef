/* model/activations.c — Keras's activations on the last axis, forward and backward. */
#include <math.h>

#include "model/model_internal.h"

/* keras.activations.leaky_relu's default negative_slope. */
#define LEAKY_RELU_SLOPE 0.2f
/* keras.activations.selu's constants (elu's alpha is 1). */
#define SELU_ALPHA 1.67326324235437728481f
#define SELU_SCALE 1.05070098735548049342f

/* The activations whose derivative is not a function of their output. */
int kcb__activation_needs_pre(kcb_activation a) {
  return a == KCB_ACT_GELU || a == KCB_ACT_SOFTPLUS || a == KCB_ACT_SILU || a == KCB_ACT_HARD_SILU || a == KCB_ACT_MISH;
}

static float sigmoidf(float x) {
  /* Never exponentiates a large positive number. */
  if (x >= 0) return 1.0f / (1.0f + expf(-x));
  float e = expf(x);
  return e / (1.0f + e);
}

static float softplusf(float x) { return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x))); }

/* Clipping keeps a NaN a NaN, as Keras's relu, relu6 and hard_sigmoid do (fmaxf would make it 0):
 * weights gone NaN must show in the loss, for TerminateOnNaN. */
static float clip_keep_nan(float x, float lo, float hi) { return x != x ? x : fminf(fmaxf(x, lo), hi); }

static float hard_sigmoidf(float x) { return clip_keep_nan(x + 3.0f, 0.0f, 6.0f) / 6.0f; }

void kcb__activation_forward(kcb_activation a, const float *pre, float *out, int64_t rows, int64_t width) {
  int64_t n = rows * width;
  switch (a) {
    case KCB_ACT_LINEAR:
      if (out != pre) for (int64_t i = 0; i < n; i++) out[i] = pre[i];
      break;
    case KCB_ACT_RELU:
      for (int64_t i = 0; i < n; i++) out[i] = pre[i] > 0 || pre[i] != pre[i] ? pre[i] : 0.0f;
      break;
    case KCB_ACT_LEAKY_RELU:
      for (int64_t i = 0; i < n; i++) out[i] = pre[i] > 0 ? pre[i] : LEAKY_RELU_SLOPE * pre[i];
      break;
    case KCB_ACT_SIGMOID:
      for (int64_t i = 0; i < n; i++) out[i] = sigmoidf(pre[i]);
      break;
    case KCB_ACT_TANH:
      for (int64_t i = 0; i < n; i++) out[i] = tanhf(pre[i]);
      break;
    case KCB_ACT_SOFTPLUS:
      for (int64_t i = 0; i < n; i++) out[i] = softplusf(pre[i]);
      break;
    case KCB_ACT_ELU:
      for (int64_t i = 0; i < n; i++) out[i] = pre[i] > 0 ? pre[i] : expm1f(pre[i]);
      break;
    case KCB_ACT_SELU:
      for (int64_t i = 0; i < n; i++) out[i] = SELU_SCALE * (pre[i] > 0 ? pre[i] : SELU_ALPHA * expm1f(pre[i]));
      break;
    case KCB_ACT_SILU:
      for (int64_t i = 0; i < n; i++) out[i] = pre[i] * sigmoidf(pre[i]);
      break;
    case KCB_ACT_RELU6:
      for (int64_t i = 0; i < n; i++) out[i] = clip_keep_nan(pre[i], 0.0f, 6.0f);
      break;
    case KCB_ACT_SOFTSIGN:
      for (int64_t i = 0; i < n; i++) out[i] = pre[i] / (fabsf(pre[i]) + 1.0f);
      break;
    case KCB_ACT_HARD_SIGMOID:
      for (int64_t i = 0; i < n; i++) out[i] = hard_sigmoidf(pre[i]);
      break;
    case KCB_ACT_HARD_SILU:
      for (int64_t i = 0; i < n; i++) out[i] = pre[i] * hard_sigmoidf(pre[i]);
      break;
    case KCB_ACT_EXPONENTIAL:
      for (int64_t i = 0; i < n; i++) out[i] = expf(pre[i]);
      break;
    case KCB_ACT_MISH:
      for (int64_t i = 0; i < n; i++) out[i] = pre[i] * tanhf(softplusf(pre[i]));
      break;
    case KCB_ACT_GELU: /* exact form (approximate=False, Keras's default) */
      for (int64_t i = 0; i < n; i++) out[i] = 0.5f * pre[i] * (1.0f + erff(pre[i] * 0.70710678118654752f));
      break;
    case KCB_ACT_SOFTMAX:
      for (int64_t r = 0; r < rows; r++) {
        const float *x = pre + r * width;
        float *y = out + r * width;
        float max = x[0], sum = 0;
        for (int64_t j = 1; j < width; j++) max = fmaxf(max, x[j]);
        for (int64_t j = 0; j < width; j++) sum += (y[j] = expf(x[j] - max));
        float inv = 1.0f / sum;
        for (int64_t j = 0; j < width; j++) y[j] *= inv;
      }
      break;
    default:
      break;
  }
}

void kcb__activation_backward(kcb_activation a, const float *pre, const float *out, float *grad,
                              int64_t rows, int64_t width) {
  int64_t n = rows * width;
  switch (a) {
    case KCB_ACT_LINEAR:
      break;
    case KCB_ACT_RELU:
      for (int64_t i = 0; i < n; i++) grad[i] = out[i] > 0 ? grad[i] : 0.0f;
      break;
    case KCB_ACT_LEAKY_RELU:
      for (int64_t i = 0; i < n; i++) grad[i] = out[i] > 0 ? grad[i] : LEAKY_RELU_SLOPE * grad[i];
      break;
    case KCB_ACT_SIGMOID:
      for (int64_t i = 0; i < n; i++) grad[i] *= out[i] * (1.0f - out[i]);
      break;
    case KCB_ACT_TANH:
      for (int64_t i = 0; i < n; i++) grad[i] *= 1.0f - out[i] * out[i];
      break;
    case KCB_ACT_SOFTPLUS:
      for (int64_t i = 0; i < n; i++) grad[i] *= sigmoidf(pre[i]);
      break;
    case KCB_ACT_ELU: /* exp(x) = out + 1 below 0 */
      for (int64_t i = 0; i < n; i++) grad[i] *= out[i] > 0 ? 1.0f : out[i] + 1.0f;
      break;
    case KCB_ACT_SELU:
      for (int64_t i = 0; i < n; i++) grad[i] *= out[i] > 0 ? SELU_SCALE : out[i] + SELU_SCALE * SELU_ALPHA;
      break;
    case KCB_ACT_SILU:
      for (int64_t i = 0; i < n; i++) {
        float s = sigmoidf(pre[i]);
        grad[i] *= s * (1.0f + pre[i] * (1.0f - s));
      }
      break;
    case KCB_ACT_RELU6:
      for (int64_t i = 0; i < n; i++) grad[i] = out[i] > 0 && out[i] < 6.0f ? grad[i] : 0.0f;
      break;
    case KCB_ACT_SOFTSIGN: /* 1 / (1 + |x|)^2 = (1 - |out|)^2 */
      for (int64_t i = 0; i < n; i++) grad[i] *= (1.0f - fabsf(out[i])) * (1.0f - fabsf(out[i]));
      break;
    case KCB_ACT_HARD_SIGMOID:
      for (int64_t i = 0; i < n; i++) grad[i] = out[i] > 0 && out[i] < 1.0f ? grad[i] / 6.0f : 0.0f;
      break;
    case KCB_ACT_HARD_SILU:
      for (int64_t i = 0; i < n; i++) {
        float x = pre[i];
        grad[i] *= x <= -3.0f ? 0.0f : x >= 3.0f ? 1.0f : (2.0f * x + 3.0f) / 6.0f;
      }
      break;
    case KCB_ACT_EXPONENTIAL:
      for (int64_t i = 0; i < n; i++) grad[i] *= out[i];
      break;
    case KCB_ACT_MISH:
      for (int64_t i = 0; i < n; i++) {
        float x = pre[i], t = tanhf(softplusf(x));
        grad[i] *= t + x * sigmoidf(x) * (1.0f - t * t);
      }
      break;
    case KCB_ACT_GELU:
      for (int64_t i = 0; i < n; i++) {
        float x = pre[i];
        float cdf = 0.5f * (1.0f + erff(x * 0.70710678118654752f));
        float pdf = 0.39894228040143268f * expf(-0.5f * x * x);
        grad[i] *= cdf + x * pdf;
      }
      break;
    case KCB_ACT_SOFTMAX:
      for (int64_t r = 0; r < rows; r++) {
        const float *y = out + r * width;
        float *g = grad + r * width;
        float dot = 0;
        for (int64_t j = 0; j < width; j++) dot += g[j] * y[j];
        for (int64_t j = 0; j < width; j++) g[j] = y[j] * (g[j] - dot);
      }
      break;
    default:
      break;
  }
}

/* Bias, activation and their gradients in blocks of rows that stay in the L1 cache between the
 * passes, so the output is streamed through memory once (Dense and Conv share these). */
static int64_t rows_per_block(int64_t width) { return width >= 2048 ? 1 : 2048 / width; }

static void add_bias(float *restrict x, const float *restrict bias, int64_t rows, int64_t width) {
  for (int64_t r = 0; r < rows; r++)
    for (int64_t j = 0; j < width; j++) x[r * width + j] += bias[j];
}

static void add_column_sums(float *restrict sums, const float *restrict x, int64_t rows, int64_t width) {
  for (int64_t r = 0; r < rows; r++)
    for (int64_t j = 0; j < width; j++) sums[j] += x[r * width + j];
}

/* The passes below split their rows over the pool's threads (core/pool.c): at least this many
 * floats a part, so a split pays for waking a thread. */
#define PART_MIN_FLOATS 8192

typedef struct forward_job {
  kcb_activation a;
  const float *bias;
  float *pre, *out;
  int64_t width;
} forward_job;

typedef struct backward_job {
  kcb_activation a;
  const float *pre, *out;
  float *grad;
  int64_t width;
} backward_job;

static int64_t rows_per_part(int64_t width) { return width >= PART_MIN_FLOATS ? 1 : PART_MIN_FLOATS / width; }

static void forward_part(void *ctx, int part, int64_t r0, int64_t r1) {
  const forward_job *j = ctx;
  const int64_t block = rows_per_block(j->width), width = j->width;
  (void)part;
  for (int64_t r = r0; r < r1; r += block) {
    int64_t n = r1 - r < block ? r1 - r : block;
    if (j->bias) add_bias(j->pre + r * width, j->bias, n, width);
    kcb__activation_forward(j->a, j->pre + r * width, j->out + r * width, n, width);
  }
}

void kcb__bias_activation_forward(kcb_activation a, const float *bias, float *pre, float *out, int64_t rows, int64_t width) {
  forward_job j = {a, bias, pre, out, width};
  kcb__parallel(rows, rows_per_part(width), 1, forward_part, &j);
}

/* Rows [r0, r1): the activation's derivative applied to grad, and grad's column sums added to
 * dbias when there is one. */
static void backward_part(void *ctx, float *dbias, int64_t r0, int64_t r1) {
  const backward_job *j = ctx;
  const int64_t block = rows_per_block(j->width), width = j->width;
  for (int64_t r = r0; r < r1; r += block) {
    int64_t n = r1 - r < block ? r1 - r : block, at = r * width;
    kcb__activation_backward(j->a, j->pre ? j->pre + at : NULL, j->out + at, j->grad + at, n, width);
    if (dbias) add_column_sums(dbias, j->grad + at, n, width);
  }
}

static void backward_part_no_bias(void *ctx, int part, int64_t r0, int64_t r1) {
  (void)part;
  backward_part(ctx, NULL, r0, r1);
}

void kcb__activation_bias_backward(kcb_activation a, const float *pre, const float *out, float *grad, float *dbias,
                                   int64_t rows, int64_t width) {
  backward_job j = {a, pre, out, grad, width};
  if (dbias) kcb__parallel_sums(rows, rows_per_part(width), dbias, width, backward_part, &j);
  else kcb__parallel(rows, rows_per_part(width), 1, backward_part_no_bias, &j);
}
