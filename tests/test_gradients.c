/* test_gradients.c — every layer, activation and loss against central finite differences,
 * and the losses' values against Keras's formulas on hand-made numbers. */
#include <math.h>
#include <stdlib.h>

#include "test_helpers.h"
#include "model/model_internal.h"

#define BATCH 4

typedef struct grad_case {
  const char *spec;       /* layers, as kcb_model_add_from_spec takes them */
  int in_rank;
  int64_t in_shape[2];
  kcb_loss loss;
  int from_logits;
} grad_case;

static double loss_of(kcb_model *m, const float *x, const float *y, const kcb__rng *dropout_state, float *grad) {
  m->dropout_rng = *dropout_state; /* the same dropout mask for every evaluation */
  const float *pred = kcb__model_forward(m, x, BATCH, 1);
  const kcb__layer *o = kcb__model_output_layer(m);
  double loss = 0;
  assert_ok(kcb__loss_compute(m->loss, m->from_logits, pred, y, BATCH * (o->out_size / o->out_width), o->out_width, grad, &loss));
  return loss;
}

static void check_case(const grad_case *c) {
  kcb_model *m;
  assert_ok(kcb_model_new(&m, c->in_rank, c->in_shape, 7));
  assert_ok(kcb_model_add_from_spec(m, c->spec));
  kcb_compile_options opts = {0};
  opts.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_SGD);
  opts.loss = c->loss;
  opts.from_logits = c->from_logits;
  assert_ok(kcb_model_compile(m, &opts));
  const kcb__layer *o = kcb__model_output_layer(m);
  int64_t rows = BATCH * (o->out_size / o->out_width), y_size = kcb__loss_is_sparse(c->loss) ? rows : BATCH * o->out_size;
  assert_ok(kcb__model_reserve_workspace(m, BATCH, y_size / BATCH));
  float x[BATCH * 16], y[BATCH * 16];
  kcb__rng rng;
  kcb__rng_seed(&rng, 99);
  for (int64_t i = 0; i < BATCH * m->in_size; i++) x[i] = (float)(2 * kcb__rng_uniform(&rng) - 1);
  for (int64_t i = 0; i < y_size; i++) {
    if (kcb__loss_is_sparse(c->loss)) y[i] = (float)kcb__rng_below(&rng, (uint64_t)o->out_width);
    else if (c->loss == KCB_LOSS_CATEGORICAL_CROSSENTROPY || c->loss == KCB_LOSS_BINARY_CROSSENTROPY)
      y[i] = (float)kcb__rng_uniform(&rng); /* soft targets exercise every term */
    else y[i] = (float)(4 * kcb__rng_uniform(&rng) - 2);
  }
  kcb__rng dropout_state = m->dropout_rng;
  loss_of(m, x, y, &dropout_state, m->grad_a);
  kcb__model_backward(m, BATCH);
  float *analytic = malloc(m->n_params * sizeof(float));
  memcpy(analytic, m->grads, m->n_params * sizeof(float));
  const float eps = 2e-3f;
  for (size_t i = 0; i < m->n_params; i++) {
    float keep = m->params[i];
    m->params[i] = keep + eps;
    double up = loss_of(m, x, y, &dropout_state, NULL);
    m->params[i] = keep - eps;
    double down = loss_of(m, x, y, &dropout_state, NULL);
    m->params[i] = keep;
    double numeric = (up - down) / (2 * eps);
    double tol = 2e-3 + 2e-2 * fabs(numeric);
    if (fabs(numeric - analytic[i]) > tol)
      fail_msg("%s (%s%s): parameter %zu: analytic %.6g, numeric %.6g", c->spec, kcb_loss_name(c->loss),
               c->from_logits ? ", from_logits" : "", i, (double)analytic[i], numeric);
  }
  free(analytic);
  kcb_model_free(m);
}

static void test_dense_activations(void **state) {
  (void)state;
  static const char *const specs[] = {"5:linear,3", "5:relu,3", "5:sigmoid,3", "5:tanh,3", "5:softmax,3",
                                      "5:softplus,3", "5:gelu,3", "5:leaky_relu,3", "5:elu,3", "5:selu,3",
                                      "5:silu,3", "5:relu6,3", "5:softsign,3", "5:hard_sigmoid,3", "5:hard_silu,3",
                                      "5:exponential,3", "5:mish,3", "5:swish,3", "5:hard_swish,3"};
  for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
    grad_case c = {specs[i], 1, {4, 0}, KCB_LOSS_MEAN_SQUARED_ERROR, 0};
    check_case(&c);
  }
}

static void test_activation_layers(void **state) {
  (void)state;
  static const char *const specs[] = {"5,relu,3", "5,sigmoid,3", "5,tanh,3", "5,softmax,3", "5,softplus,3",
                                      "5,gelu,3", "5,leaky_relu,3", "5,linear,3", "5,elu,3", "5,selu,3", "5,silu,3",
                                      "5,relu6,3", "5,softsign,3", "5,hard_sigmoid,3", "5,hard_silu,3",
                                      "5,exponential,3", "5,mish,3", "5,rescale:1.5:0.2,tanh,3",
                                      /* scaled up past relu6's 6 and the hard forms' +-3: their flat parts */
                                      "5,rescale:9,relu6,3", "5,rescale:9,hard_sigmoid,3", "5,rescale:9,hard_silu,3"};
  for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
    grad_case c = {specs[i], 1, {4, 0}, KCB_LOSS_MEAN_SQUARED_ERROR, 0};
    check_case(&c);
  }
}

static void test_dropout_and_flatten(void **state) {
  (void)state;
  grad_case dropout = {"6:tanh,dropout:0.4,3", 1, {4, 0}, KCB_LOSS_MEAN_SQUARED_ERROR, 0};
  check_case(&dropout);
  /* Dense on the last axis of a (2, 3) sample, then Flatten */
  grad_case flatten = {"4:tanh,flatten,3", 2, {2, 3}, KCB_LOSS_MEAN_SQUARED_ERROR, 0};
  check_case(&flatten);
  grad_case flatten_first = {"flatten,4:sigmoid,2", 2, {2, 3}, KCB_LOSS_MEAN_SQUARED_ERROR, 0};
  check_case(&flatten_first);
}

static void test_losses(void **state) {
  (void)state;
  const grad_case cases[] = {
      {"5:tanh,3", 1, {4, 0}, KCB_LOSS_MEAN_SQUARED_ERROR, 0},
      {"5:tanh,3", 1, {4, 0}, KCB_LOSS_MEAN_ABSOLUTE_ERROR, 0},
      {"5:tanh,3:sigmoid", 1, {4, 0}, KCB_LOSS_BINARY_CROSSENTROPY, 0},
      {"5:tanh,3", 1, {4, 0}, KCB_LOSS_BINARY_CROSSENTROPY, 1},
      {"5:tanh,1:sigmoid", 1, {4, 0}, KCB_LOSS_BINARY_CROSSENTROPY, 0}, /* one unit: the sgemv path */
      {"5:tanh,3:softmax", 1, {4, 0}, KCB_LOSS_CATEGORICAL_CROSSENTROPY, 0},
      {"5:tanh,3:sigmoid", 1, {4, 0}, KCB_LOSS_CATEGORICAL_CROSSENTROPY, 0}, /* unnormalised: Keras divides by the sum */
      {"5:tanh,3", 1, {4, 0}, KCB_LOSS_CATEGORICAL_CROSSENTROPY, 1},
      {"5:tanh,3:softmax", 1, {4, 0}, KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0},
      {"5:tanh,3", 1, {4, 0}, KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(&cases[i]);
}

/* Loss values on numbers worked out by hand with Keras's formulas. */
static void test_loss_values(void **state) {
  (void)state;
  double loss;
  const float pred[4] = {0.2f, 0.8f, 0.6f, 0.4f}, truth[4] = {0, 1, 1, 0};
  assert_ok(kcb__loss_compute(KCB_LOSS_MEAN_SQUARED_ERROR, 0, pred, truth, 2, 2, NULL, &loss));
  assert_float_equal(loss, (0.04 + 0.04 + 0.16 + 0.16) / 4, 1e-7);
  assert_ok(kcb__loss_compute(KCB_LOSS_MEAN_ABSOLUTE_ERROR, 0, pred, truth, 2, 2, NULL, &loss));
  assert_float_equal(loss, (0.2 + 0.2 + 0.4 + 0.4) / 4, 1e-7);
  assert_ok(kcb__loss_compute(KCB_LOSS_BINARY_CROSSENTROPY, 0, pred, truth, 2, 2, NULL, &loss));
  assert_float_equal(loss, -(log(0.8) + log(0.8) + log(0.6) + log(0.6)) / 4, 1e-6);
  assert_ok(kcb__loss_compute(KCB_LOSS_CATEGORICAL_CROSSENTROPY, 0, pred, truth, 2, 2, NULL, &loss));
  assert_float_equal(loss, -(log(0.8) + log(0.6)) / 2, 1e-6);
  const float labels[2] = {1, 0};
  assert_ok(kcb__loss_compute(KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0, pred, labels, 2, 2, NULL, &loss));
  assert_float_equal(loss, -(log(0.8) + log(0.6)) / 2, 1e-6);
  /* probabilities are clipped to [1e-7, 1 - 1e-7]: a confident wrong answer costs -log(1e-7) */
  const float sure[2] = {0.0f, 1.0f};
  assert_ok(kcb__loss_compute(KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0, sure, labels + 1, 1, 2, NULL, &loss));
  assert_float_equal(loss, -log(1e-7), 1e-3);
  /* a row summing to 0 (a linear output): Keras's p / sum(p) is NaN or infinite, and the loss NaN,
   * even where the target is 0 */
  const float zero_sum[3] = {1.0f, -1.0f, 0.0f}, first[1] = {0};
  assert_ok(kcb__loss_compute(KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0, zero_sum, first, 1, 3, NULL, &loss));
  assert_true(isnan(loss));
  /* from_logits: log-softmax of (0, log 3) at class 1 = log(3/4) */
  const float logits[2] = {0.0f, (float)log(3.0)};
  assert_ok(kcb__loss_compute(KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 1, logits, labels, 1, 2, NULL, &loss));
  assert_float_equal(loss, -log(0.75), 1e-6);
  const float big[1] = {100.0f}, one[1] = {0.0f};
  assert_ok(kcb__loss_compute(KCB_LOSS_BINARY_CROSSENTROPY, 1, big, one, 1, 1, NULL, &loss));
  assert_float_equal(loss, 100.0, 1e-4); /* stable: no overflow from exp(100) */
  const float bad_label[1] = {3};
  assert_error(kcb__loss_compute(KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0, pred, bad_label, 1, 2, NULL, &loss),
               KCB_EINVAL, "label 3");
}

/* The activations' values at known points (Keras's definitions). */
static void test_activation_values(void **state) {
  (void)state;
  const float x[4] = {-1.0f, 0.0f, 0.5f, 2.0f};
  float y[4];
  kcb__activation_forward(KCB_ACT_LEAKY_RELU, x, y, 1, 4);
  assert_float_equal(y[0], -0.2, 1e-7);
  kcb__activation_forward(KCB_ACT_GELU, x, y, 1, 4);
  assert_float_equal(y[0], -0.15865525393145707, 1e-6);
  assert_float_equal(y[3], 1.9544997361036416, 1e-6);
  kcb__activation_forward(KCB_ACT_SOFTPLUS, x, y, 1, 4);
  assert_float_equal(y[1], log(2.0), 1e-7);
  kcb__activation_forward(KCB_ACT_SOFTMAX, x, y, 2, 2);
  assert_float_equal(y[0], 1 / (1 + exp(1.0)), 1e-7);
  assert_float_equal(y[2] + y[3], 1.0, 1e-7);
  kcb__activation_forward(KCB_ACT_SIGMOID, x, y, 1, 4);
  assert_float_equal(y[3], 1 / (1 + exp(-2.0)), 1e-7);
  kcb__activation_forward(KCB_ACT_ELU, x, y, 1, 4);
  assert_float_equal(y[0], exp(-1.0) - 1, 1e-7);
  assert_float_equal(y[3], 2.0, 0);
  kcb__activation_forward(KCB_ACT_SELU, x, y, 1, 4);
  assert_float_equal(y[0], 1.0507009873554805 * 1.6732632423543772 * (exp(-1.0) - 1), 1e-6);
  assert_float_equal(y[2], 1.0507009873554805 * 0.5, 1e-7);
  kcb__activation_forward(KCB_ACT_SILU, x, y, 1, 4);
  assert_float_equal(y[0], -1 / (1 + exp(1.0)), 1e-7);
  const float big[4] = {-4.0f, -1.5f, 5.0f, 7.0f};
  kcb__activation_forward(KCB_ACT_RELU6, big, y, 1, 4);
  assert_true(y[0] == 0 && y[2] == 5 && y[3] == 6);
  kcb__activation_forward(KCB_ACT_HARD_SIGMOID, big, y, 1, 4); /* relu6(x + 3) / 6 */
  assert_float_equal(y[0], 0.0, 0);
  assert_float_equal(y[1], 0.25, 1e-7);
  assert_float_equal(y[2], 1.0, 0);
  kcb__activation_forward(KCB_ACT_HARD_SILU, big, y, 1, 4);
  assert_float_equal(y[1], -0.375, 1e-7);
  assert_float_equal(y[3], 7.0, 0);
  kcb__activation_forward(KCB_ACT_SOFTSIGN, x, y, 1, 4);
  assert_float_equal(y[0], -0.5, 1e-7);
  assert_float_equal(y[3], 2.0 / 3.0, 1e-7);
  kcb__activation_forward(KCB_ACT_EXPONENTIAL, x, y, 1, 4);
  assert_float_equal(y[3], exp(2.0), 1e-5);
  kcb__activation_forward(KCB_ACT_MISH, x, y, 1, 4);
  assert_float_equal(y[0], -tanh(log1p(exp(-1.0))), 1e-6);
  assert_float_equal(y[3], 2 * tanh(log1p(exp(2.0))), 1e-6);
  kcb_activation a;
  assert_int_equal(kcb_activation_from_name(&a, "swish"), 0);
  assert_int_equal(a, KCB_ACT_SILU);
  assert_string_equal(kcb_activation_name(a), "silu"); /* as Keras 3 serializes it */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dense_activations), cmocka_unit_test(test_activation_layers),
      cmocka_unit_test(test_dropout_and_flatten), cmocka_unit_test(test_losses),
      cmocka_unit_test(test_loss_values), cmocka_unit_test(test_activation_values),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
