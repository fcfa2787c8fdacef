/* test_layers.c — convolution, pooling, normalization and reshaping layers: gradients of every
 * layer and option against central finite differences (parameters and inputs), forward passes
 * against a direct (loop) convolution written here, BatchNormalization's two modes, and Keras
 * 3.15's own files (tests/data/zoo, from fixtures/keras-zoo) predicting as Keras does. */
#include <math.h>
#include <stdlib.h>

#include <jansson.h>
#include <zlib.h>

#include "test_helpers.h"
#include "model/model_internal.h"
#include "model/snapshot.h"

#define BATCH 3

typedef void (*build_fn)(kcb_model *m);

static void fill(float *v, int64_t n, kcb__rng *rng, float lo, float hi) {
  for (int64_t i = 0; i < n; i++) v[i] = lo + (hi - lo) * (float)kcb__rng_uniform(rng);
}

static kcb_model *compiled(int rank, const int64_t *shape, build_fn build, kcb_optimizer_kind opt) {
  kcb_model *m = NULL;
  assert_ok(kcb_model_new(&m, rank, shape, 11));
  build(m);
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(opt);
  c.loss = KCB_LOSS_MEAN_SQUARED_ERROR;
  assert_ok(kcb_model_compile(m, &c));
  return m;
}

static double loss_of(kcb_model *m, const float *x, const float *y, const kcb__rng *dropout, int training, float *grad) {
  m->dropout_rng = *dropout; /* the same dropout mask for every evaluation */
  const float *pred = kcb__model_forward(m, x, BATCH, training);
  const kcb__layer *o = kcb__model_output_layer(m);
  double loss = 0;
  assert_ok(kcb__loss_compute(m->loss, 0, pred, y, BATCH * (o->out_size / o->out_width), o->out_width, grad, &loss));
  return loss;
}

static void expect_close(const char *what, const char *kind, size_t i, double analytic, double numeric) {
  double tol = 2e-3 + 2e-2 * fabs(numeric);
  if (fabs(numeric - analytic) > tol) fail_msg("%s: %s %zu: analytic %.6g, numeric %.6g", what, kind, i, analytic, numeric);
}

/* Checks dL/dparams (trainable ones) and dL/dinput against central differences. */
static void check_grads(const char *what, int rank, const int64_t *shape, build_fn build, int training) {
  kcb_model *m = compiled(rank, shape, build, KCB_OPT_SGD);
  const kcb__layer *o = kcb__model_output_layer(m);
  kcb__rng rng;
  kcb__rng_seed(&rng, 5);
  fill(m->params, (int64_t)m->n_params, &rng, -0.6f, 0.6f);
  /* moving variances must stay positive */
  for (size_t i = 0; i < m->n_layers; i++)
    for (int v = 0; v < m->layers[i].n_vars; v++)
      if (strcmp(m->layers[i].vars[v].name, "moving_variance") == 0)
        fill(m->params + m->layers[i].vars[v].offset, (int64_t)m->layers[i].vars[v].size, &rng, 0.5f, 1.5f);
  m->want_input_grad = 1;
  assert_ok(kcb__model_reserve_workspace(m, BATCH, o->out_size));
  int64_t nx = BATCH * m->in_size, ny = BATCH * o->out_size;
  float *x = malloc((size_t)nx * sizeof *x), *y = malloc((size_t)ny * sizeof *y);
  float *grads = malloc(m->n_params * sizeof *grads), *dx = malloc((size_t)nx * sizeof *dx);
  fill(x, nx, &rng, -1, 1);
  fill(y, ny, &rng, -1, 1);
  kcb__rng dropout = m->dropout_rng;
  float *saved = malloc(m->n_params * sizeof *saved);
  memcpy(saved, m->params, m->n_params * sizeof *saved);
  loss_of(m, x, y, &dropout, training, m->grad_a);
  kcb__model_backward(m, BATCH);
  assert_non_null(m->input_grad);
  memcpy(grads, m->grads, m->n_params * sizeof *grads);
  memcpy(dx, m->input_grad, (size_t)nx * sizeof *dx);
  const float eps = 1e-3f;
  for (size_t i = 0; i < m->n_layers; i++)
    for (int v = 0; v < m->layers[i].n_vars; v++) {
      const kcb__var *var = &m->layers[i].vars[v];
      if (!var->trainable) continue;
      for (size_t k = var->offset; k < var->offset + var->size; k++) {
        memcpy(m->params, saved, m->n_params * sizeof *saved); /* undo moving-statistic updates */
        m->params[k] = saved[k] + eps;
        double up = loss_of(m, x, y, &dropout, training, NULL);
        memcpy(m->params, saved, m->n_params * sizeof *saved);
        m->params[k] = saved[k] - eps;
        double down = loss_of(m, x, y, &dropout, training, NULL);
        expect_close(what, var->name, k - var->offset, grads[k], (up - down) / (2 * eps));
      }
    }
  for (int64_t k = 0; k < nx; k++) {
    memcpy(m->params, saved, m->n_params * sizeof *saved);
    float keep = x[k];
    x[k] = keep + eps;
    double up = loss_of(m, x, y, &dropout, training, NULL);
    x[k] = keep - eps;
    memcpy(m->params, saved, m->n_params * sizeof *saved);
    double down = loss_of(m, x, y, &dropout, training, NULL);
    x[k] = keep;
    expect_close(what, "input", (size_t)k, dx[k], (up - down) / (2 * eps));
  }
  free(x), free(y), free(grads), free(dx), free(saved);
  kcb_model_free(m);
}

/* ---- the cases --------------------------------------------------------------------------- */

static kcb_conv_options conv(int filters, int kh, int kw, kcb_activation act) {
  kcb_conv_options o = KCB_CONV_OPTIONS_INIT;
  o.filters = filters, o.kernel_size[0] = kh, o.kernel_size[1] = kw, o.activation = act;
  return o;
}

static void b_conv_valid(kcb_model *m) {
  kcb_conv_options o = conv(3, 3, 3, KCB_ACT_TANH);
  assert_ok(kcb_model_add_conv2d(m, &o));
}
static void b_conv_relu_wide(kcb_model *m) { /* 20 filters: whole vector blocks and a remainder */
  kcb_conv_options o = conv(20, 3, 2, KCB_ACT_RELU);
  o.padding = KCB_PADDING_SAME;
  assert_ok(kcb_model_add_conv2d(m, &o));
}
static void b_conv_same_even_strided(kcb_model *m) { /* 4x4 same, stride 2: padding 1 before, 2 after */
  kcb_conv_options o = conv(2, 4, 4, KCB_ACT_LINEAR);
  o.padding = KCB_PADDING_SAME, o.strides[0] = o.strides[1] = 2;
  assert_ok(kcb_model_add_conv2d(m, &o));
}
static void b_conv_dilated(kcb_model *m) {
  kcb_conv_options o = conv(2, 3, 3, KCB_ACT_SIGMOID);
  o.padding = KCB_PADDING_SAME, o.dilation_rate[0] = 2, o.dilation_rate[1] = 2;
  assert_ok(kcb_model_add_conv2d(m, &o));
}
static void b_conv_dilated_valid(kcb_model *m) {
  kcb_conv_options o = conv(2, 2, 3, KCB_ACT_LINEAR);
  o.dilation_rate[0] = 3, o.dilation_rate[1] = 2;
  assert_ok(kcb_model_add_conv2d(m, &o));
}
static void b_conv_groups(kcb_model *m) {
  kcb_conv_options o = conv(4, 2, 3, KCB_ACT_TANH);
  o.groups = 2, o.strides[0] = 2;
  assert_ok(kcb_model_add_conv2d(m, &o));
}
static void b_conv_pointwise(kcb_model *m) {
  kcb_conv_options o = conv(3, 1, 1, KCB_ACT_SIGMOID);
  o.use_bias = 0;
  assert_ok(kcb_model_add_conv2d(m, &o));
}
static void b_conv1d_same_strided(kcb_model *m) {
  kcb_conv_options o = conv(3, 3, 0, KCB_ACT_TANH);
  o.padding = KCB_PADDING_SAME, o.strides[0] = 2;
  assert_ok(kcb_model_add_conv1d(m, &o));
}
static void b_conv1d_dilated(kcb_model *m) {
  kcb_conv_options o = conv(2, 2, 0, KCB_ACT_LINEAR);
  o.dilation_rate[0] = 3;
  assert_ok(kcb_model_add_conv1d(m, &o));
}
static void b_conv1d_causal_dilated(kcb_model *m) { /* 4 steps of padding before, none after */
  kcb_conv_options o = conv(3, 3, 0, KCB_ACT_TANH);
  o.padding = KCB_PADDING_CAUSAL, o.dilation_rate[0] = 2;
  assert_ok(kcb_model_add_conv1d(m, &o));
}
static void b_conv1d_causal_strided(kcb_model *m) {
  kcb_conv_options o = conv(2, 4, 0, KCB_ACT_LINEAR);
  o.padding = KCB_PADDING_CAUSAL, o.strides[0] = 2;
  assert_ok(kcb_model_add_conv1d(m, &o));
}
static void pool(kcb_model *m, kcb_pooling kind, int p, int s, kcb_padding pad, int keepdims) {
  kcb_pooling_options o = KCB_POOLING_OPTIONS_INIT;
  o.pool_size[0] = o.pool_size[1] = p;
  o.strides[0] = o.strides[1] = s;
  o.padding = pad, o.keepdims = keepdims;
  assert_ok(kcb_model_add_pooling(m, kind, &o));
}
static void b_max2d(kcb_model *m) { pool(m, KCB_MAX_POOLING2D, 2, 0, KCB_PADDING_VALID, 0); }
static void b_max2d_same(kcb_model *m) { pool(m, KCB_MAX_POOLING2D, 3, 2, KCB_PADDING_SAME, 0); }
static void b_avg2d_same(kcb_model *m) { pool(m, KCB_AVERAGE_POOLING2D, 2, 0, KCB_PADDING_SAME, 0); }
static void b_avg2d_overlap(kcb_model *m) { pool(m, KCB_AVERAGE_POOLING2D, 3, 1, KCB_PADDING_VALID, 0); }
static void b_max1d(kcb_model *m) { pool(m, KCB_MAX_POOLING1D, 2, 0, KCB_PADDING_SAME, 0); }
static void b_avg1d(kcb_model *m) { pool(m, KCB_AVERAGE_POOLING1D, 3, 2, KCB_PADDING_SAME, 0); }
static void b_gap2d(kcb_model *m) { pool(m, KCB_GLOBAL_AVERAGE_POOLING2D, 0, 0, KCB_PADDING_VALID, 0); }
static void b_gmp2d_keep(kcb_model *m) { pool(m, KCB_GLOBAL_MAX_POOLING2D, 0, 0, KCB_PADDING_VALID, 1); }
static void b_gap1d(kcb_model *m) { pool(m, KCB_GLOBAL_AVERAGE_POOLING1D, 0, 0, KCB_PADDING_VALID, 1); }
static void b_gmp1d(kcb_model *m) { pool(m, KCB_GLOBAL_MAX_POOLING1D, 0, 0, KCB_PADDING_VALID, 0); }
static void b_bn(kcb_model *m) {
  kcb_conv_options o = conv(3, 2, 2, KCB_ACT_LINEAR);
  assert_ok(kcb_model_add_conv2d(m, &o));
  assert_ok(kcb_model_add_batch_normalization(m, NULL));
}
/* BatchNormalization, then a max pooling that tiles its input: fit runs the two fused */
static void b_bn_max2d(kcb_model *m) {
  kcb_conv_options o = conv(3, 2, 2, KCB_ACT_RELU);
  assert_ok(kcb_model_add_conv2d(m, &o));
  assert_ok(kcb_model_add_batch_normalization(m, NULL));
  pool(m, KCB_MAX_POOLING2D, 2, 0, KCB_PADDING_VALID, 0);
  assert_ok(kcb_model_add_flatten(m));
  kcb_dense_options d = KCB_DENSE_OPTIONS_INIT;
  d.units = 2;
  assert_ok(kcb_model_add_dense(m, &d));
}
/* frozen (Keras's trainable = False): in inference mode in training too */
static void b_bn_frozen(kcb_model *m) {
  b_bn(m);
  assert_ok(kcb_model_set_layer_trainable(m, 1, 0));
}
static void b_bn_max2d_frozen(kcb_model *m) {
  b_bn_max2d(m);
  assert_ok(kcb_model_set_layer_trainable(m, 1, 0));
}
static void b_bn_max3x3(kcb_model *m) { /* one channel, 3x3 windows, two uncovered rows and columns */
  assert_ok(kcb_model_add_batch_normalization(m, NULL));
  pool(m, KCB_MAX_POOLING2D, 3, 0, KCB_PADDING_VALID, 0);
}
static void b_bn_plain_max1d(kcb_model *m) { /* no gamma or beta; windows of 3 leave the last 2 steps out */
  kcb_batch_normalization_options o = KCB_BATCH_NORMALIZATION_OPTIONS_INIT;
  o.center = 0, o.scale = 0;
  assert_ok(kcb_model_add_batch_normalization(m, &o));
  pool(m, KCB_MAX_POOLING1D, 3, 0, KCB_PADDING_VALID, 0);
}
static void b_bn_plain(kcb_model *m) {
  kcb_batch_normalization_options o = KCB_BATCH_NORMALIZATION_OPTIONS_INIT;
  o.center = 0, o.scale = 0, o.epsilon = 0.01;
  assert_ok(kcb_model_add_batch_normalization(m, &o));
  kcb_dense_options d = KCB_DENSE_OPTIONS_INIT;
  d.units = 2;
  assert_ok(kcb_model_add_dense(m, &d));
}
static void b_ln(kcb_model *m) {
  assert_ok(kcb_model_add_layer_normalization(m, NULL));
  kcb_dense_options d = KCB_DENSE_OPTIONS_INIT;
  d.units = 3;
  assert_ok(kcb_model_add_dense(m, &d));
}
static void b_reshape_pad(kcb_model *m) {
  int64_t t[3] = {4, -1, 2};
  assert_ok(kcb_model_add_reshape(m, 3, t));
  assert_ok(kcb_model_add_zero_padding2d(m, 1, 2, 0, 1));
  kcb_conv_options o = conv(2, 3, 2, KCB_ACT_LINEAR);
  assert_ok(kcb_model_add_conv2d(m, &o));
}
static void b_spatial_dropout(kcb_model *m) {
  kcb_conv_options o = conv(4, 2, 2, KCB_ACT_TANH);
  assert_ok(kcb_model_add_conv2d(m, &o));
  assert_ok(kcb_model_add_spatial_dropout2d(m, 0.5f));
  assert_ok(kcb_model_add_flatten(m));
  kcb_dense_options d = KCB_DENSE_OPTIONS_INIT;
  d.units = 2;
  assert_ok(kcb_model_add_dense(m, &d));
}

static void conv_gradients(void) {
  /* up to 32 taps per output (kh * kw * channels) run direct loops, more run im2col + sgemm:
   * each option is checked on both */
  check_grads("conv valid", 3, (int64_t[]){5, 5, 2}, b_conv_valid, 1);
  check_grads("conv valid im2col", 3, (int64_t[]){5, 5, 4}, b_conv_valid, 1);
  check_grads("conv relu wide", 3, (int64_t[]){4, 5, 3}, b_conv_relu_wide, 1);
  check_grads("conv relu wide im2col", 3, (int64_t[]){4, 5, 6}, b_conv_relu_wide, 1);
  check_grads("conv same even strided im2col", 3, (int64_t[]){7, 6, 3}, b_conv_same_even_strided, 1);
  check_grads("conv dilated same im2col", 3, (int64_t[]){6, 7, 4}, b_conv_dilated, 1);
  check_grads("conv1d same strided im2col", 2, (int64_t[]){9, 11}, b_conv1d_same_strided, 1);
  check_grads("conv same even strided", 3, (int64_t[]){7, 6, 2}, b_conv_same_even_strided, 1);
  check_grads("conv dilated same", 3, (int64_t[]){6, 7, 1}, b_conv_dilated, 1);
  check_grads("conv dilated valid", 3, (int64_t[]){7, 6, 2}, b_conv_dilated_valid, 1);
  check_grads("conv groups", 3, (int64_t[]){5, 5, 4}, b_conv_groups, 1);
  check_grads("conv pointwise", 3, (int64_t[]){3, 4, 3}, b_conv_pointwise, 1);
  check_grads("conv1d same strided", 2, (int64_t[]){9, 3}, b_conv1d_same_strided, 1);
  check_grads("conv1d dilated", 2, (int64_t[]){8, 2}, b_conv1d_dilated, 1);
  check_grads("conv1d causal dilated", 2, (int64_t[]){7, 2}, b_conv1d_causal_dilated, 1);
  check_grads("conv1d causal dilated im2col", 2, (int64_t[]){7, 12}, b_conv1d_causal_dilated, 1);
  check_grads("conv1d causal strided", 2, (int64_t[]){9, 3}, b_conv1d_causal_strided, 1);
}

/* Keras's causal Conv1D: output t is the valid convolution of the input with dilation x (kernel - 1)
 * zero steps put before it, so it sees steps up to t only; out = ceil(steps / strides). Computed
 * here by its definition, for the direct loops and im2col, with and without strides. */
static void test_conv1d_causal_forward(void **state) {
  (void)state;
  static const struct { int64_t steps, channels; build_fn build; int k, s, d, filters, act_tanh; } cases[] = {
      {7, 2, b_conv1d_causal_dilated, 3, 1, 2, 3, 1},  {7, 12, b_conv1d_causal_dilated, 3, 1, 2, 3, 1},
      {9, 3, b_conv1d_causal_strided, 4, 2, 1, 2, 0},  {10, 9, b_conv1d_causal_strided, 4, 2, 1, 2, 0}};
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    const int64_t T = cases[c].steps, C = cases[c].channels, F = cases[c].filters, out_steps = (T - 1) / cases[c].s + 1;
    kcb_model *m = compiled(2, (int64_t[]){T, C}, cases[c].build, KCB_OPT_SGD);
    const size_t n_w = (size_t)kcb_model_param_count(m);
    float *w = malloc(n_w * sizeof *w);
    assert_ok(kcb_model_get_weights(m, w, n_w)); /* kernel (k, C, F), then bias (F) */
    float *kernel = w, *bias = w + (size_t)cases[c].k * C * F;
    kcb__rng rng;
    kcb__rng_seed(&rng, 3);
    fill(bias, F, &rng, -0.5f, 0.5f); /* Keras's zero bias would not show a misplaced one */
    assert_ok(kcb_model_set_weights(m, w, n_w));
    kcb_tensor *x, *y;
    assert_ok(kcb_tensor_new(&x, 3, (int64_t[]){2, T, C}));
    fill(x->data, 2 * T * C, &rng, -1, 1);
    assert_ok(kcb_model_predict(m, x, NULL, &y));
    assert_int_equal(y->shape[1], out_steps);
    for (int64_t n = 0; n < 2; n++)
      for (int64_t t = 0; t < out_steps; t++)
        for (int64_t f = 0; f < F; f++) {
          double want = bias[f];
          for (int j = 0; j < cases[c].k; j++) {
            int64_t at = t * cases[c].s - (int64_t)cases[c].d * (cases[c].k - 1) + (int64_t)j * cases[c].d;
            if (at < 0) continue; /* the causal padding */
            for (int64_t ch = 0; ch < C; ch++) want += (double)x->data[(n * T + at) * C + ch] * kernel[(j * C + ch) * F + f];
          }
          if (cases[c].act_tanh) want = tanh(want);
          float got = y->data[(n * out_steps + t) * F + f];
          if (fabs(got - want) > 1e-5 * (1 + fabs(want)))
            fail_msg("case %zu sample %lld step %lld filter %lld: %g, by definition %g", c, (long long)n, (long long)t,
                     (long long)f, (double)got, want);
        }
    kcb_tensor_free(x), kcb_tensor_free(y), free(w);
    kcb_model_free(m);
  }
}

/* The input gradient is folded in chunks of samples (1 MiB of unfolded gradient each): a batch of
 * 6 whose chunks hold 4 samples gives each sample the input gradient it gets alone. */
static void check_dx_by_sample(const int64_t *shape, build_fn build) {
  enum { N = 6 };
  kcb_model *m = compiled(3, shape, build, KCB_OPT_SGD);
  assert_ok(kcb__model_reserve_workspace(m, N, 1));
  m->want_input_grad = 1;
  const int64_t in = shape[0] * shape[1] * shape[2], out = m->layers[0].out_size;
  float *x = malloc((size_t)(N * in) * sizeof *x), *gy = malloc((size_t)(N * out) * sizeof *gy);
  float *dx = malloc((size_t)(N * in) * sizeof *dx);
  kcb__rng rng;
  kcb__rng_seed(&rng, 5);
  fill(x, N * in, &rng, -1, 1);
  fill(gy, N * out, &rng, -1, 1);
  kcb__model_forward(m, x, N, 1);
  memcpy(m->grad_a, gy, (size_t)(N * out) * sizeof *gy);
  kcb__model_backward(m, N);
  memcpy(dx, m->input_grad, (size_t)(N * in) * sizeof *dx);
  for (int s = 0; s < N; s += N - 1) { /* the first chunk's first sample, the last chunk's last */
    kcb__model_forward(m, x + s * in, 1, 1);
    memcpy(m->grad_a, gy + s * out, (size_t)out * sizeof *gy);
    kcb__model_backward(m, 1);
    for (int64_t i = 0; i < in; i++)
      if (fabsf(m->input_grad[i] - dx[s * in + i]) > 1e-5f * (1 + fabsf(dx[s * in + i])))
        fail_msg("sample %d input %lld: %g in the batch, %g alone", s, (long long)i, (double)dx[s * in + i],
                 (double)m->input_grad[i]);
  }
  free(x), free(gy), free(dx);
  kcb_model_free(m);
}

static void test_conv_gradients(void **state) {
  (void)state;
  for (int level = 2; level >= 0; level--) { /* the direct loops' AVX-512, AVX2 and baseline forms */
    kcb__cpu_cap_simd_level(level);
    conv_gradients();
  }
  kcb__cpu_cap_simd_level(2);
  check_dx_by_sample((int64_t[]){30, 30, 8}, b_conv_valid); /* im2col, the batch's matrix kept */
  check_dx_by_sample((int64_t[]){60, 60, 2}, b_conv_valid); /* direct loops, dx through scratch */
}

static void test_pooling_gradients(void **state) {
  (void)state;
  check_grads("max2d", 3, (int64_t[]){4, 5, 2}, b_max2d, 1);
  check_grads("max2d odd rows and columns", 3, (int64_t[]){5, 7, 3}, b_max2d, 1); /* the tiled path's uncovered edges */
  check_grads("max2d same strided", 3, (int64_t[]){6, 5, 2}, b_max2d_same, 1);
  check_grads("avg2d same", 3, (int64_t[]){5, 5, 2}, b_avg2d_same, 1);
  check_grads("avg2d overlapping", 3, (int64_t[]){5, 4, 2}, b_avg2d_overlap, 1);
  check_grads("max1d same", 2, (int64_t[]){7, 3}, b_max1d, 1);
  check_grads("avg1d same", 2, (int64_t[]){7, 3}, b_avg1d, 1);
  check_grads("global avg2d", 3, (int64_t[]){3, 4, 3}, b_gap2d, 1);
  check_grads("global max2d keepdims", 3, (int64_t[]){3, 4, 3}, b_gmp2d_keep, 1);
  check_grads("global avg1d keepdims", 2, (int64_t[]){5, 3}, b_gap1d, 1);
  check_grads("global max1d", 2, (int64_t[]){5, 3}, b_gmp1d, 1);
}

static void test_normalization_gradients(void **state) {
  (void)state;
  check_grads("batchnorm training", 3, (int64_t[]){4, 4, 2}, b_bn, 1);
  check_grads("batchnorm inference", 3, (int64_t[]){4, 4, 2}, b_bn, 0);
  check_grads("batchnorm no center/scale", 1, (int64_t[]){5}, b_bn_plain, 1);
  /* fused with the max pooling after it; uncovered rows and columns included */
  check_grads("batchnorm then max2d", 3, (int64_t[]){6, 8, 2}, b_bn_max2d, 1);
  check_grads("batchnorm then max2d inference", 3, (int64_t[]){6, 8, 2}, b_bn_max2d, 0);
  check_grads("frozen batchnorm in training", 3, (int64_t[]){4, 4, 2}, b_bn_frozen, 1);
  check_grads("frozen batchnorm then max2d in training", 3, (int64_t[]){6, 8, 2}, b_bn_max2d_frozen, 1);
  check_grads("plain batchnorm then max1d", 2, (int64_t[]){11, 3}, b_bn_plain_max1d, 1);
  check_grads("layernorm", 2, (int64_t[]){2, 5}, b_ln, 1);
}

static void test_reshape_gradients(void **state) {
  (void)state;
  check_grads("reshape, zero padding, conv", 1, (int64_t[]){24}, b_reshape_pad, 1);
  check_grads("spatial dropout", 3, (int64_t[]){4, 4, 2}, b_spatial_dropout, 1);
}

/* ---- forward against a direct convolution ------------------------------------------------ */

/* One Conv2D's forward pass against the plain loops above it here, in double precision. */
static void check_conv_forward(int variant, int C, int F, int groups, int stride_h, int dilation_w) {
  const int H = 7, W = 8, KH = 4, KW = 3;
  kcb_model *m = NULL;
  int64_t shape[3] = {H, W, C};
  assert_ok(kcb_model_new(&m, 3, shape, 3));
  kcb_conv_options o = conv(F, KH, KW, KCB_ACT_LINEAR);
  o.groups = groups, o.padding = KCB_PADDING_SAME;
  o.strides[0] = stride_h, o.dilation_rate[1] = dilation_w;
  assert_ok(kcb_model_add_conv2d(m, &o));
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_SGD);
  assert_ok(kcb_model_compile(m, &c));
  kcb__rng rng;
  kcb__rng_seed(&rng, 8);
  fill(m->params, (int64_t)m->n_params, &rng, -1, 1);
  float x[2 * 7 * 8 * 4];
  fill(x, 2 * H * W * C, &rng, -1, 1);
  assert_ok(kcb__model_reserve_workspace(m, 2, 1));
  const float *y = kcb__model_forward(m, x, 2, 0);
  const kcb__layer *l = &m->layers[0];
  int sh = stride_h, sw = 1, dh = 1, dw = dilation_w, cg_n = C / groups, per_group = F / groups;
  /* TensorFlow's 'same': out = ceil(in / stride), padding split with the extra after */
  int OH = (H + sh - 1) / sh, OW = W;
  int pad_h = ((OH - 1) * sh + (KH - 1) * dh + 1 - H) / 2, pad_w = ((OW - 1) * sw + (KW - 1) * dw + 1 - W) / 2;
  assert_int_equal(l->out_shape[0], OH);
  assert_int_equal(l->out_shape[1], OW);
  const float *kernel = m->params + l->vars[0].offset, *bias = m->params + l->vars[1].offset;
  for (int s = 0; s < 2; s++)
    for (int oy = 0; oy < OH; oy++)
      for (int ox = 0; ox < OW; ox++)
        for (int f = 0; f < F; f++) {
          int grp = f / per_group;
          double acc = bias[f];
          for (int i = 0; i < KH; i++)
            for (int j = 0; j < KW; j++)
              for (int cg = 0; cg < cg_n; cg++) {
                int iy = oy * sh - pad_h + i * dh, ix = ox * sw - pad_w + j * dw;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                acc += (double)x[((s * H + iy) * W + ix) * C + grp * cg_n + cg] * kernel[((i * KW + j) * cg_n + cg) * F + f];
              }
          double got = y[((s * OH + oy) * OW + ox) * F + f];
          if (fabs(got - acc) > 1e-4) fail_msg("variant %d: y[%d,%d,%d,%d] = %g, direct %g", variant, s, oy, ox, f, got, acc);
        }
  kcb_model_free(m);
}

static void test_conv_forward_direct(void **state) {
  (void)state;
  /* stride (2, 1) or dilation (1, 2), same padding with an even kernel: 2 groups (im2col), and
   * ungrouped on 2 channels (24 taps: the direct loops, on every vector width this CPU has, with
   * 20 filters: whole vector blocks and a remainder) */
  check_conv_forward(0, 4, 6, 2, 2, 1);
  check_conv_forward(1, 4, 6, 2, 1, 2);
  for (int level = 2; level >= 0; level--) {
    kcb__cpu_cap_simd_level(level);
    check_conv_forward(2, 2, 20, 1, 2, 1);
    check_conv_forward(3, 2, 20, 1, 1, 2);
  }
  kcb__cpu_cap_simd_level(2);
}

/* ---- BatchNormalization's modes ---------------------------------------------------------- */

/* fit's fused BatchNormalization + max pooling computes the same floats as the two layers alone:
 * outputs, moving statistics, gradients and dL/dinput, on 1 thread and on the pool's threads. */
static void fused_matches_layers(build_fn build, int rank, const int64_t *shape, int threads) {
  enum { N = 16 };
  kcb_model *m[2];
  float *out[2], *grads[2], *params[2];
  const float *dx[2];
  int64_t in = 1;
  for (int i = 0; i < rank; i++) in *= shape[i];
  float *x = malloc((size_t)(N * in) * sizeof *x);
  kcb__rng rng;
  kcb__rng_seed(&rng, 11);
  fill(x, N * in, &rng, -1, 1);
  kcb__pool_enter(threads);
  for (int f = 0; f < 2; f++) {
    m[f] = compiled(rank, shape, build, KCB_OPT_SGD);
    m[f]->no_fusion = f;
    m[f]->want_input_grad = 1;
    const kcb__layer *o = kcb__model_output_layer(m[f]);
    assert_ok(kcb__model_reserve_workspace(m[f], N, o->out_size));
    const float *y = kcb__model_forward(m[f], x, N, 1);
    out[f] = malloc((size_t)(N * o->out_size) * sizeof(float));
    memcpy(out[f], y, (size_t)(N * o->out_size) * sizeof(float));
    for (int64_t i = 0; i < N * o->out_size; i++) m[f]->grad_a[i] = y[i] - 0.25f; /* some gradient */
    kcb__model_backward(m[f], N);
    grads[f] = m[f]->grads, params[f] = m[f]->params, dx[f] = m[f]->input_grad;
  }
  kcb__pool_leave();
  for (size_t i = 0; i < m[0]->n_layers; i++) assert_false(m[1]->layers[i].norm_fused_pool);
  assert_true(m[0]->layers[1].norm_fused_pool || m[0]->layers[0].norm_fused_pool); /* the fused path ran */
  const kcb__layer *o = kcb__model_output_layer(m[0]);
  assert_memory_equal(out[0], out[1], (size_t)(N * o->out_size) * sizeof(float));
  assert_memory_equal(params[0], params[1], m[0]->n_params * sizeof(float)); /* the moving statistics */
  assert_memory_equal(grads[0], grads[1], m[0]->n_params * sizeof(float));
  assert_memory_equal(dx[0], dx[1], (size_t)(N * in) * sizeof(float));
  for (int f = 0; f < 2; f++) free(out[f]), kcb_model_free(m[f]);
  free(x);
}

static void test_fused_batch_norm_pooling(void **state) {
  (void)state;
  for (int threads = 1; threads <= 3; threads += 2) {
    fused_matches_layers(b_bn_max2d, 3, (int64_t[]){13, 15, 3}, threads);
    fused_matches_layers(b_bn_plain_max1d, 2, (int64_t[]){40, 5}, threads);
    fused_matches_layers(b_bn_max3x3, 3, (int64_t[]){11, 14, 1}, threads);
  }
}

/* fit applies each layer's update inside backward, as soon as the layer's gradient is done; with
 * no_fusion it runs the optimizer step after backward. Both give the same floats: weights, moving
 * statistics and every slot, after whole epochs of a network with convolutions, BatchNormalization
 * (non-trainable variables between trainable ones) and Dropout, on 1 thread and on the pool's. */
static void update_in_backward_matches_step(kcb_optimizer_options opt, int threads) {
  enum { N = 37, SIZE = 6 * 6 * 2 };
  int64_t shape[3] = {6, 6, 2}, xs[4] = {N, 6, 6, 2}, ys[1] = {N};
  kcb_tensor *x, *y;
  assert_ok(kcb_tensor_new(&x, 4, xs));
  assert_ok(kcb_tensor_new(&y, 1, ys));
  kcb__rng rng;
  kcb__rng_seed(&rng, 5);
  fill(x->data, N * SIZE, &rng, -1, 1);
  for (int i = 0; i < N; i++) y->data[i] = (float)(i % 3);
  kcb_model *m[2];
  kcb__blas_set_threads(threads);
  for (int f = 0; f < 2; f++) {
    assert_ok(kcb_model_new(&m[f], 3, shape, 7));
    assert_ok(kcb_model_add_from_spec(m[f], "conv:4:3:same:relu,bn,maxpool:2,conv:3:2:relu,flatten,dropout:0.2,8:relu,bn,3:softmax"));
    kcb_compile_options c = {0};
    c.optimizer = opt;
    c.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    assert_ok(kcb_model_compile(m[f], &c));
    m[f]->no_fusion = f;
    kcb_fit_options o = KCB_FIT_OPTIONS_INIT;
    o.epochs = 3, o.batch_size = 8, o.verbose = 0;
    assert_ok(kcb_model_fit(m[f], x, y, &o, NULL));
  }
  kcb__blas_set_threads(1);
  assert_int_equal(m[0]->opt.iterations, 15);
  assert_int_equal(m[1]->opt.iterations, 15);
  assert_memory_equal(m[0]->params, m[1]->params, m[0]->n_params * sizeof(float));
  size_t n0, n1;
  const float *s0 = kcb_model_optimizer_slots(m[0], &n0), *s1 = kcb_model_optimizer_slots(m[1], &n1);
  assert_int_equal(n0, n1);
  if (n0) assert_memory_equal(s0, s1, n0 * sizeof(float));
  for (int f = 0; f < 2; f++) kcb_model_free(m[f]);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

static void test_update_in_backward(void **state) {
  (void)state;
  kcb_optimizer_options sgd = KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_SGD), rms = KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_RMSPROP),
                        adam = KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM), adamw = KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAMW);
  sgd.momentum = 0.9, sgd.nesterov = 1;
  rms.momentum = 0.5, rms.centered = 1;
  adam.amsgrad = 1;
  for (int threads = 1; threads <= 2; threads++) {
    update_in_backward_matches_step(sgd, threads);
    update_in_backward_matches_step(rms, threads);
    update_in_backward_matches_step(adam, threads);
    update_in_backward_matches_step(adamw, threads);
  }
}

static void test_batch_norm_modes(void **state) {
  (void)state;
  kcb_model *m = test_compiled_model(3, "bn", 1, KCB_OPT_ADAMW, KCB_DEFAULT, KCB_LOSS_MEAN_SQUARED_ERROR, KCB_METRIC_COUNT);
  /* Keras's variable order and trainability */
  const char *names[4] = {"gamma", "beta", "moving_mean", "moving_variance"};
  assert_int_equal(kcb_model_weight_count(m), 4);
  for (size_t i = 0; i < 4; i++) {
    kcb_weight_info w;
    assert_ok(kcb_model_weight(m, i, &w));
    assert_string_equal(w.name, names[i]);
    assert_int_equal(w.trainable, i < 2);
  }
  assert_int_equal(kcb_model_trainable_param_count(m), 6);
  assert_int_equal(kcb_model_param_count(m), 12);
  float x[4 * 3] = {1, 2, 3, 2, 4, 9, 0, -2, 3, 5, 0, 1};
  assert_ok(kcb__model_reserve_workspace(m, 4, 3));
  /* training: batch statistics; moving = 0.99 * moving + 0.01 * batch (biased variance) */
  const float *y = kcb__model_forward(m, x, 4, 1);
  for (int ch = 0; ch < 3; ch++) {
    double mean = 0, var = 0;
    for (int r = 0; r < 4; r++) mean += x[r * 3 + ch] / 4.0;
    for (int r = 0; r < 4; r++) var += (x[r * 3 + ch] - mean) * (x[r * 3 + ch] - mean) / 4.0;
    for (int r = 0; r < 4; r++) assert_float_equal(y[r * 3 + ch], (x[r * 3 + ch] - mean) / sqrt(var + 1e-3), 1e-5);
    assert_float_equal(m->params[6 + ch], 0.01 * mean, 1e-6);
    assert_float_equal(m->params[9 + ch], 0.99 + 0.01 * var, 1e-5);
  }
  /* inference: the moving statistics */
  y = kcb__model_forward(m, x, 4, 0);
  for (int i = 0; i < 12; i++)
    assert_float_equal(y[i], (x[i] - m->params[6 + i % 3]) / sqrt(m->params[9 + i % 3] + 1e-3), 1e-5);
  /* the optimizer (AdamW, whose weight decay would move any variable it saw) leaves the moving
   * statistics alone */
  float before[12];
  memcpy(before, m->params, sizeof before);
  for (size_t i = 0; i < m->n_params; i++) m->grads[i] = 1.0f;
  kcb__optimizer_step(&m->opt, m->params, m->grads);
  for (int i = 0; i < 6; i++) assert_true(m->params[i] != before[i]);
  for (int i = 6; i < 12; i++) assert_true(m->params[i] == before[i]);
  /* and the optimizer's state holds slots for the trainable variables only, as Keras's */
  kcb_model_free(m);
}

/* Weights snapshots (EarlyStopping's best weights, checkpoints' staging) hold the moving
 * statistics too: fit changes them, a restore brings them back with the trainable weights. */
static void test_snapshot_moving_statistics(void **state) {
  (void)state;
  kcb_model *m = NULL;
  int64_t shape[1] = {4};
  assert_ok(kcb_model_new(&m, 1, shape, 9));
  assert_ok(kcb_model_add_from_spec(m, "bn,3:softmax"));
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
  c.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  assert_ok(kcb_model_compile(m, &c));
  int64_t xs[2] = {32, 4}, ys[1] = {32};
  kcb_tensor *x, *y;
  assert_ok(kcb_tensor_new(&x, 2, xs));
  assert_ok(kcb_tensor_new(&y, 1, ys));
  kcb__rng rng;
  kcb__rng_seed(&rng, 2);
  fill(x->data, 128, &rng, 1, 3); /* a mean far from the initial moving mean of 0 */
  for (int i = 0; i < 32; i++) y->data[i] = (float)(i % 3);
  kcb_fit_options f = KCB_FIT_OPTIONS_INIT;
  f.verbose = 0, f.batch_size = 8;
  assert_ok(kcb_model_fit(m, x, y, &f, NULL));
  kcb__snapshot snap = {0};
  snap.epoch = -1;
  assert_ok(kcb__snapshot_take(&snap, m, 0));
  kcb_weight_info mean;
  assert_ok(kcb_model_weight(m, 2, &mean));
  assert_string_equal(mean.name, "moving_mean");
  float kept = mean.data[0];
  assert_true(kept > 0.01f); /* fit moved it */
  assert_ok(kcb_model_fit(m, x, y, &f, NULL));
  assert_true(mean.data[0] != kept);
  assert_ok(kcb__snapshot_restore(&snap, m));
  assert_true(mean.data[0] == kept);
  kcb__snapshot_free(&snap);
  kcb_tensor_free(x), kcb_tensor_free(y);
  kcb_model_free(m);
}

/* ---- Keras's files ----------------------------------------------------------------------- */

static json_t *expected_json(void) {
  json_error_t err;
  json_t *root = json_load_file(KCB_ZOO_DATA "/expected.json", 0, &err);
  if (!root) fail_msg("expected.json: %s", err.text);
  return root;
}

/* The fixture's 2 samples of n values: sample0[i] = i/783, sample1[i] = 0.5 + 0.5*cos(i). */
static void zoo_input(float *x, int n) {
  for (int i = 0; i < n; i++) {
    x[i] = (float)(i / 783.0);
    x[n + i] = (float)(0.5 + 0.5 * cos((double)i));
  }
}

static void assert_predicts(kcb_model *m, const char *model, const char *file) {
  json_t *root = expected_json();
  json_t *pred = json_object_get(json_object_get(json_object_get(root, "models"), model), "predictions");
  assert_non_null(pred);
  float x[2 * 784];
  zoo_input(x, 784);
  int64_t shape[KCB_MAX_RANK] = {2};
  memcpy(shape + 1, m->in_shape, (size_t)m->in_rank * sizeof shape[0]);
  kcb_tensor xt = kcb_tensor_view(x, m->in_rank + 1, shape), *out = NULL;
  kcb_evaluate_options eo = KCB_EVALUATE_OPTIONS_INIT;
  eo.verbose = 0;
  assert_ok(kcb_model_predict(m, &xt, &eo, &out));
  for (size_t s = 0; s < 2; s++)
    for (size_t j = 0; j < 10; j++) {
      double want = json_number_value(json_array_get(json_array_get(pred, s), j));
      if (fabs(out->data[s * 10 + j] - want) > 1e-5)
        fail_msg("%s: prediction [%zu][%zu] = %.8g, Keras %.8g", file, s, j, (double)out->data[s * 10 + j], want);
    }
  kcb_tensor_free(out);
  json_decref(root);
}

/* The fixture's cnn, built with kcb's API. */
static kcb_model *zoo_cnn(void) {
  kcb_model *m = NULL;
  int64_t shape[3] = {28, 28, 1};
  assert_ok(kcb_model_new(&m, 3, shape, 1));
  kcb_conv_options c1 = conv(8, 3, 3, KCB_ACT_RELU), c2 = conv(16, 3, 3, KCB_ACT_RELU);
  c2.padding = KCB_PADDING_SAME;
  assert_ok(kcb_model_add_conv2d(m, &c1));
  assert_ok(kcb_model_add_batch_normalization(m, NULL));
  assert_ok(kcb_model_add_pooling(m, KCB_MAX_POOLING2D, NULL));
  assert_ok(kcb_model_add_conv2d(m, &c2));
  assert_ok(kcb_model_add_pooling(m, KCB_AVERAGE_POOLING2D, NULL));
  assert_ok(kcb_model_add_flatten(m));
  assert_ok(kcb_model_add_dropout(m, 0.25f));
  kcb_dense_options d = KCB_DENSE_OPTIONS_INIT;
  d.units = 10, d.activation = KCB_ACT_SOFTMAX;
  assert_ok(kcb_model_add_dense(m, &d));
  kcb_compile_options co = {0};
  co.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
  co.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  assert_ok(kcb_model_compile(m, &co));
  return m;
}

static void test_keras_cnn_files(void **state) {
  (void)state;
  static const char *const weights[] = {"cnn.weights.h5", "cnn.legacy_weights.h5"};
  for (size_t i = 0; i < 2; i++) {
    kcb_model *m = zoo_cnn();
    char path[512];
    snprintf(path, sizeof path, "%s/%s", KCB_ZOO_DATA, weights[i]);
    assert_ok(kcb_model_load_weights(m, path, NULL));
    assert_predicts(m, "cnn", weights[i]);
    kcb_model_free(m);
  }
  static const char *const models[] = {"cnn.keras", "cnn.h5", "cnn.k2.h5", "cnn.k2_h5py2.h5"};
  for (size_t i = 0; i < 4; i++) {
    kcb_model *m = NULL;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", KCB_ZOO_DATA, models[i]);
    assert_ok(kcb_model_load(&m, path, NULL));
    assert_string_equal(kcb_model_layer_class(m, 0), "Conv2D");
    assert_string_equal(kcb_model_layer_name(m, 1), "batch_normalization");
    assert_string_equal(kcb_model_layer_class(m, 2), "MaxPooling2D");
    assert_int_equal(kcb_model_param_count(m), 7050);
    assert_int_equal(kcb_model_trainable_param_count(m), 7034);
    assert_predicts(m, "cnn", models[i]);
    kcb_model_free(m);
  }
}

static void test_keras_mlp_bn_files(void **state) {
  (void)state;
  static const char *const models[] = {"mlp_bn.keras", "mlp_bn.h5"};
  for (size_t i = 0; i < 2; i++) {
    kcb_model *m = NULL;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", KCB_ZOO_DATA, models[i]);
    assert_ok(kcb_model_load(&m, path, NULL));
    assert_predicts(m, "mlp_bn", models[i]);
    /* the same weights into a model built here, through both weights-only layouts */
    static const char *const weights[] = {"mlp_bn.weights.h5", "mlp_bn.legacy_weights.h5"};
    kcb_model *b = NULL;
    int64_t in = 784;
    assert_ok(kcb_model_new(&b, 1, &in, 2));
    assert_ok(kcb_model_add_from_spec(b, "32,bn,relu,10:softmax"));
    kcb_compile_options co = {0};
    co.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
    co.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    assert_ok(kcb_model_compile(b, &co));
    snprintf(path, sizeof path, "%s/%s", KCB_ZOO_DATA, weights[i]);
    assert_ok(kcb_model_load_weights(b, path, NULL));
    assert_predicts(b, "mlp_bn", weights[i]);
    kcb_model_free(b);
    kcb_model_free(m);
  }
}

static void test_cnn_summary(void **state) {
  (void)state;
  kcb_model *m = zoo_cnn();
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  assert_ok(kcb_model_summary(m, f));
  fclose(f);
  /* Keras 3's table: long names wrap at the space; trainable / non-trainable split */
  static const char *const lines[] = {
      ("\u2502 batch_normalization             \u2502 (None, 26, 26, 8)      \u2502            32 \u2502\n"
       "\u2502 (BatchNormalization)            \u2502                        \u2502               \u2502\n"),
      "\u2502 average_pooling2d               \u2502 (None, 6, 6, 16)       \u2502             0 \u2502\n",
      "\u2502 conv2d_1 (Conv2D)               \u2502 (None, 13, 13, 16)     \u2502         1,168 \u2502\n",
      " Total params: 7,050 (27.54 KB)\n Trainable params: 7,034 (27.48 KB)\n Non-trainable params: 16 (64.00 B)\n"};
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
    if (!strstr(text, lines[i])) fail_msg("summary lacks:\n%s\nin:\n%s", lines[i], text);
  free(text);
  kcb_model_free(m);
}

/* kcb's own files of Keras's cnn, in all three layouts, load back and predict as Keras; the
 * files are left in KCB_ZOO_OUT for tests/cli/zoo_describe_check.py to compare with Keras's. */
static void test_cnn_files_round_trip(void **state) {
  (void)state;
  kcb_model *m = NULL;
  assert_ok(kcb_model_load(&m, KCB_ZOO_DATA "/cnn.keras", NULL));
  static const char *const names[] = {"cnn.weights.h5", "cnn.h5", "cnn.keras"};
  for (size_t i = 0; i < 3; i++) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", KCB_ZOO_OUT, names[i]);
    assert_ok(kcb_model_save(m, path, NULL));
    kcb_model *back = NULL;
    if (i == 0) {
      back = zoo_cnn();
      assert_ok(kcb_model_load_weights(back, path, NULL));
      assert_int_equal(kcb_model_iterations(back), 1);
    } else {
      assert_ok(kcb_model_load(&back, path, NULL));
    }
    assert_predicts(back, "cnn", path);
    kcb_model_free(back);
  }
  kcb_model_free(m);
}

/* ---- TensorBoard: every weight's histogram, kernels as images ------------------------------ */

/* Decodes an 8-bit PNG written by kcb (filters None, Sub, Up; one IDAT) into pixels. */
static void png_pixels(const kcb_bytes *png, uint8_t *out, int *w, int *h, int *channels) {
  const unsigned char *p = png->data;
  *w = (p[16] << 24) | (p[17] << 16) | (p[18] << 8) | p[19];
  *h = (p[20] << 24) | (p[21] << 16) | (p[22] << 8) | p[23];
  *channels = p[25] == 0 ? 1 : p[25] == 2 ? 3 : 4;
  uint32_t idat_len = ((uint32_t)p[33] << 24) | ((uint32_t)p[34] << 16) | ((uint32_t)p[35] << 8) | p[36];
  assert_memory_equal(p + 37, "IDAT", 4);
  int stride = *w * *channels;
  unsigned char raw[4096];
  uLongf raw_len = sizeof raw;
  assert_int_equal(uncompress(raw, &raw_len, p + 41, idat_len), Z_OK);
  assert_int_equal(raw_len, (uLongf)((stride + 1) * *h));
  for (int r = 0; r < *h; r++) {
    const unsigned char *row = raw + r * (stride + 1);
    for (int c = 0; c < stride; c++) {
      int v = row[1 + c];
      if (row[0] == 1 && c >= *channels) v += out[r * stride + c - *channels];
      if (row[0] == 2 && r > 0) v += out[(r - 1) * stride + c];
      assert_true(row[0] <= 2);
      out[r * stride + c] = (uint8_t)v;
    }
  }
}

static uint8_t keras_pixel(float x) { /* tf.image.convert_image_dtype to uint8 */
  double v = (double)x * 255.5;
  return (uint8_t)(v >= 255.0 ? 255 : v > 0 ? (int)v : 0);
}

/* A NaN reaches the output through every clipping and max, as in Keras (relu, relu6, hard_sigmoid,
 * a fused conv relu, max pooling tiled or not, global max pooling): weights gone NaN must show in
 * the loss, for TerminateOnNaN, not turn into 0 or be passed over by a max. */
static void test_nan_propagates(void **state) {
  (void)state;
  static const char *const specs[] = {"4:relu",
                                      "4:relu6",
                                      "4:hard_sigmoid",
                                      "4,reshape:2x2x1,conv:2:1:relu,flatten",
                                      "4,reshape:2x2x1,maxpool:2,flatten",
                                      "4,reshape:2x2x1,bn,maxpool:2,flatten",
                                      "4,reshape:4x1,maxpool:2:1,flatten",
                                      "4,reshape:4x1,gmp"};
  for (size_t c = 0; c < sizeof specs / sizeof *specs; c++) {
    kcb_model *m;
    assert_ok(kcb_model_new(&m, 1, (int64_t[]){3}, 1));
    assert_ok(kcb_model_add_from_spec(m, specs[c]));
    kcb_compile_options co = {0};
    co.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_SGD);
    co.loss = KCB_LOSS_MEAN_SQUARED_ERROR;
    assert_ok(kcb_model_compile(m, &co));
    const size_t n_w = (size_t)kcb_model_param_count(m);
    float *w = malloc(n_w * sizeof *w);
    assert_ok(kcb_model_get_weights(m, w, n_w));
    for (size_t i = 0; i < 16; i++) w[i] = 0.5f; /* the Dense (3, 4) kernel and its bias */
    w[1] = NAN;                                 /* its unit 1 only: the second of each window */
    assert_ok(kcb_model_set_weights(m, w, n_w));
    kcb_tensor *x, *y;
    assert_ok(kcb_tensor_new(&x, 2, (int64_t[]){1, 3}));
    for (int i = 0; i < 3; i++) x->data[i] = 1.0f;
    kcb_evaluate_options quiet = KCB_EVALUATE_OPTIONS_INIT;
    quiet.verbose = 0;
    assert_ok(kcb_model_predict(m, x, &quiet, &y));
    int nan_seen = 0;
    for (int64_t i = 0; i < kcb_tensor_size(y); i++) nan_seen |= isnan(y->data[i]);
    if (!nan_seen) fail_msg("%s: the NaN weight did not reach the output", specs[c]);
    kcb_tensor_free(x);
    kcb_tensor_free(y);
    free(w);
    kcb_model_free(m);
  }
}

static void test_tensorboard_cnn(void **state) {
  (void)state;
  char dir[] = "/tmp/kcb_test_layers_XXXXXX";
  assert_non_null(mkdtemp(dir));
  kcb_model *m = NULL;
  int64_t shape[3] = {6, 6, 1};
  assert_ok(kcb_model_new(&m, 3, shape, 4));
  assert_ok(kcb_model_add_from_spec(m, "conv:4:3:relu,bn,conv:3:2,gap,2:softmax"));
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_SGD);
  c.optimizer.learning_rate = 0.0; /* the weights the images show are the ones set here */
  c.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  assert_ok(kcb_model_compile(m, &c));
  kcb__rng rng;
  kcb__rng_seed(&rng, 21);
  fill(m->params, (int64_t)m->n_params, &rng, -0.2f, 1.2f);
  int64_t xs[4] = {8, 6, 6, 1}, ys[1] = {8};
  kcb_tensor *x, *y;
  assert_ok(kcb_tensor_new(&x, 4, xs));
  assert_ok(kcb_tensor_new(&y, 1, ys));
  fill(x->data, 8 * 36, &rng, 0, 1);
  for (int i = 0; i < 8; i++) y->data[i] = (float)(i % 2);
  kcb_tensorboard_options o = KCB_TENSORBOARD_OPTIONS_INIT;
  o.log_dir = dir;
  o.histogram_freq = 1;
  o.write_images = 1;
  kcb_callback *tb;
  assert_ok(kcb_tensorboard_new(&tb, &o));
  kcb_fit_options f = KCB_FIT_OPTIONS_INIT;
  f.verbose = 0, f.batch_size = 4, f.callbacks = &tb, f.n_callbacks = 1;
  assert_ok(kcb_model_fit(m, x, y, &f, NULL));
  kcb_callback_free(tb);

  char run[300];
  snprintf(run, sizeof run, "%s/train", dir);
  kcb_event_reader *r;
  assert_ok(kcb_event_reader_open(&r, run));
  const kcb_event *e;
  int rc, hist_moving = 0, kernel_images = 0, rgb_images = 0;
  const float *k0 = m->params + m->layers[0].vars[0].offset, *k1 = m->params + m->layers[2].vars[0].offset;
  while ((rc = kcb_event_reader_next(r, &e)) == 1)
    for (size_t i = 0; i < e->n_values; i++) {
      const kcb_summary_value *v = &e->values[i];
      /* Keras logs every weight, moving statistics included */
      if (strcmp(v->tag, "sequential/batch_normalization/moving_mean/histogram") == 0 ||
          strcmp(v->tag, "sequential/batch_normalization/moving_variance/histogram") == 0) {
        assert_int_equal(v->kind, KCB_SUMMARY_HISTOGRAM);
        assert_true(v->hist_num == 4);
        hist_moving++;
      }
      uint8_t px[4096];
      int w, h, ch;
      if (strcmp(v->tag, "sequential/conv2d/kernel/image") == 0) {
        /* (3, 3, 1, 4) squeezed to (3, 3, 4): 4 kernels channels first, 3 of them (max_outputs) */
        assert_int_equal(v->n_blobs, 3);
        for (size_t k = 0; k < 3; k++) {
          png_pixels(&v->blobs[k], px, &w, &h, &ch);
          assert_int_equal(w, 3), assert_int_equal(h, 3), assert_int_equal(ch, 1);
          for (int rr = 0; rr < 3; rr++)
            for (int cc = 0; cc < 3; cc++) assert_int_equal(px[rr * 3 + cc], keras_pixel(k0[(rr * 3 + cc) * 4 + (int)k]));
        }
        kernel_images++;
      }
      if (strcmp(v->tag, "sequential/conv2d_1/kernel/image") == 0) {
        /* (2, 2, 4, 3): 4-D with 3 on the last axis, so 2 RGB images 2 x 4 as the kernel lies */
        assert_int_equal(v->n_blobs, 2);
        for (size_t k = 0; k < 2; k++) {
          png_pixels(&v->blobs[k], px, &w, &h, &ch);
          assert_int_equal(w, 4), assert_int_equal(h, 2), assert_int_equal(ch, 3);
          for (int q = 0; q < 2 * 4 * 3; q++) assert_int_equal(px[q], keras_pixel(k1[k * 24 + (size_t)q]));
        }
        rgb_images++;
      }
    }
  assert_int_equal(rc, 0);
  kcb_event_reader_free(r);
  assert_int_equal(hist_moving, 2);
  assert_int_equal(kernel_images, 1);
  assert_int_equal(rgb_images, 1);
  kcb_tensor_free(x), kcb_tensor_free(y);
  kcb_model_free(m);
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  assert_int_equal(system(cmd), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_conv_gradients),
      cmocka_unit_test(test_conv1d_causal_forward),
      cmocka_unit_test(test_pooling_gradients),
      cmocka_unit_test(test_normalization_gradients),
      cmocka_unit_test(test_reshape_gradients),
      cmocka_unit_test(test_conv_forward_direct),
      cmocka_unit_test(test_batch_norm_modes),
      cmocka_unit_test(test_fused_batch_norm_pooling),
      cmocka_unit_test(test_update_in_backward),
      cmocka_unit_test(test_snapshot_moving_statistics),
      cmocka_unit_test(test_keras_cnn_files),
      cmocka_unit_test(test_keras_mlp_bn_files),
      cmocka_unit_test(test_cnn_summary),
      cmocka_unit_test(test_cnn_files_round_trip),
      cmocka_unit_test(test_tensorboard_cnn),
      cmocka_unit_test(test_nan_propagates),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
