/* test_optimizers.c — one and two optimizer steps against Keras 3's update formulas computed
 * here by hand in double precision. */
#include <math.h>

#include "test_helpers.h"
#include "model/model_internal.h"

#define N 3
static const float start[N] = {0.5f, -1.0f, 2.0f};
static const float grads[2][N] = {{0.1f, -0.2f, 0.3f}, {-0.05f, 0.4f, 0.0f}};

static void run(kcb_optimizer_options o, float out[2][N]) {
  kcb__optimizer opt = {0};
  float w[N];
  memcpy(w, start, sizeof w);
  assert_ok(kcb__optimizer_init(&opt, &o, N));
  for (int s = 0; s < 2; s++) {
    kcb__optimizer_step(&opt, w, grads[s]);
    memcpy(out[s], w, sizeof w);
  }
  assert_int_equal(opt.iterations, 2);
  kcb__optimizer_free(&opt);
}

static void expect(float got[2][N], double want[2][N], const char *what) {
  for (int s = 0; s < 2; s++)
    for (int i = 0; i < N; i++)
      if (fabs(got[s][i] - want[s][i]) > 1e-6 * fmax(1, fabs(want[s][i])))
        fail_msg("%s step %d param %d: got %.9g want %.9g", what, s + 1, i, (double)got[s][i], want[s][i]);
}

static void test_sgd(void **state) {
  (void)state;
  float got[2][N];
  double want[2][N];
  kcb_optimizer_options o = KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_SGD);
  run(o, got); /* default learning rate 0.01 */
  for (int i = 0; i < N; i++) {
    want[0][i] = start[i] - 0.01 * grads[0][i];
    want[1][i] = want[0][i] - 0.01 * grads[1][i];
  }
  expect(got, want, "sgd");
  for (int nesterov = 0; nesterov < 2; nesterov++) {
    o.learning_rate = 0.1;
    o.momentum = 0.9;
    o.nesterov = nesterov;
    run(o, got);
    for (int i = 0; i < N; i++) {
      double w = start[i], m = 0;
      for (int s = 0; s < 2; s++) {
        m = 0.9 * m - 0.1 * grads[s][i];
        w += nesterov ? 0.9 * m - 0.1 * grads[s][i] : m;
        want[s][i] = w;
      }
    }
    expect(got, want, nesterov ? "sgd nesterov" : "sgd momentum");
  }
}

static void test_rmsprop(void **state) {
  (void)state;
  for (int variant = 0; variant < 3; variant++) { /* plain, momentum, centered */
    kcb_optimizer_options o = KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_RMSPROP);
    o.learning_rate = 0.1;
    o.momentum = variant == 1 ? 0.5 : 0.0;
    o.centered = variant == 2;
    float got[2][N];
    double want[2][N];
    run(o, got);
    for (int i = 0; i < N; i++) {
      double w = start[i], v = 0, mom = 0, avg = 0;
      for (int s = 0; s < 2; s++) {
        double g = grads[s][i];
        v = 0.9 * v + 0.1 * g * g;
        double denominator = v + 1e-7;
        if (o.centered) {
          avg = 0.9 * avg + 0.1 * g;
          denominator = v - avg * avg + 1e-7;
        }
        double increment = 0.1 * g / sqrt(denominator);
        if (o.momentum > 0) {
          mom = o.momentum * mom + increment;
          w -= mom;
        } else {
          w -= increment;
        }
        want[s][i] = w;
      }
    }
    expect(got, want, variant == 0 ? "rmsprop" : variant == 1 ? "rmsprop momentum" : "rmsprop centered");
  }
}

static void test_adam_family(void **state) {
  (void)state;
  for (int variant = 0; variant < 3; variant++) { /* adam, adam amsgrad, adamw */
    kcb_optimizer_options o = KCB_OPTIMIZER_OPTIONS_INIT(variant == 2 ? KCB_OPT_ADAMW : KCB_OPT_ADAM);
    o.amsgrad = variant == 1;
    float got[2][N];
    double want[2][N];
    run(o, got); /* Keras defaults: lr 0.001, betas 0.9 / 0.999, epsilon 1e-7, weight_decay 0.004 */
    for (int i = 0; i < N; i++) {
      double w = start[i], m = 0, v = 0, v_hat = 0;
      for (int s = 0; s < 2; s++) {
        double g = grads[s][i], t = s + 1;
        if (variant == 2) w -= w * 0.004 * 0.001;
        double alpha = 0.001 * sqrt(1 - pow(0.999, t)) / (1 - pow(0.9, t));
        m += (g - m) * 0.1;
        v += (g * g - v) * 0.001;
        double denom_v = v;
        if (variant == 1) denom_v = v_hat = fmax(v_hat, v);
        w -= alpha * m / (sqrt(denom_v) + 1e-7);
        want[s][i] = w;
      }
    }
    expect(got, want, variant == 0 ? "adam" : variant == 1 ? "adam amsgrad" : "adamw");
  }
}

static void test_defaults_and_errors(void **state) {
  (void)state;
  kcb__optimizer opt = {0};
  kcb_optimizer_options o = KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAMW);
  assert_ok(kcb__optimizer_init(&opt, &o, 4));
  assert_float_equal(opt.o.learning_rate, 0.001, 0);
  assert_float_equal(opt.o.weight_decay, 0.004, 0);
  assert_float_equal(opt.o.epsilon, 1e-7, 0);
  assert_int_equal(opt.n_slots, 2);
  o = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_SGD);
  assert_ok(kcb__optimizer_init(&opt, &o, 4));
  assert_float_equal(opt.o.learning_rate, 0.01, 0);
  assert_int_equal(opt.n_slots, 0);
  o.beta_1 = 1.5;
  assert_error(kcb__optimizer_init(&opt, &o, 4), KCB_EINVAL, "beta_1");
  kcb__optimizer_free(&opt);
  kcb_optimizer_kind k;
  assert_ok(kcb_optimizer_from_name(&k, "RMSprop"));
  assert_int_equal(k, KCB_OPT_RMSPROP);
  assert_error(kcb_optimizer_from_name(&k, "adagrad"), KCB_EKEY, "adamw");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sgd), cmocka_unit_test(test_rmsprop), cmocka_unit_test(test_adam_family),
      cmocka_unit_test(test_defaults_and_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
