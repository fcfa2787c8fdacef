/* test_optimizers.c — one and two optimizer steps against Keras 3's update formulas computed
 * here by hand in double precision. */
#include <float.h>
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

/* Keras 3's weight_decay is every optimizer's: w - w * wd * lr before the step (base_optimizer's
 * _apply_weight_decay), for SGD with momentum and RMSprop as for AdamW. */
static void test_weight_decay_every_optimizer(void **state) {
  (void)state;
  for (int kind = 0; kind < 2; kind++) {
    kcb_optimizer_options o = KCB_OPTIMIZER_OPTIONS_INIT(kind ? KCB_OPT_RMSPROP : KCB_OPT_SGD);
    o.learning_rate = 0.1;
    o.momentum = 0.5;
    o.weight_decay = 0.2;
    float got[2][N];
    double want[2][N];
    run(o, got);
    for (int i = 0; i < N; i++) {
      double w = start[i], m = 0, v = 0;
      for (int s = 0; s < 2; s++) {
        double g = grads[s][i];
        w -= w * 0.2 * 0.1;
        if (kind == 0) {
          m = 0.5 * m - 0.1 * g;
          w += m;
        } else {
          v = 0.9 * v + 0.1 * g * g;
          m = 0.5 * m + 0.1 * g / sqrt(v + 1e-7);
          w -= m;
        }
        want[s][i] = w;
      }
    }
    expect(got, want, kind ? "rmsprop weight decay" : "sgd weight decay");
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

/* Bit for bit Keras 3's float32 arithmetic (adam.py, rmsprop.py, base_optimizer.py under
 * TensorFlow): the powers and alpha in float32, `1 - beta` and `1 - rho` taken in Python (double)
 * and then float32, and each operation in Keras's order. Over 3 steps every weight and slot must be
 * the same float (1 - 0.999f is 1.3e-5 off 1 - 0.999: a v a little too small). */
static void test_keras_float32_exact(void **state) {
  (void)state;
  enum { STEPS = 3 };
  static const float g[STEPS][N] = {{0.1f, -0.2f, 0.3f}, {-0.05f, 0.4f, 1e-3f}, {0.7f, -0.01f, 0.25f}};
  for (int variant = 0; variant < 4; variant++) { /* adam, amsgrad, adamw, rmsprop centered with momentum */
    kcb_optimizer_options o = KCB_OPTIMIZER_OPTIONS_INIT(variant == 3 ? KCB_OPT_RMSPROP : variant == 2 ? KCB_OPT_ADAMW : KCB_OPT_ADAM);
    o.amsgrad = variant == 1;
    if (variant == 3) o.learning_rate = 0.01, o.momentum = 0.5, o.centered = 1;
    kcb__optimizer opt = {0};
    float w[N], kw[N], m[N] = {0}, v[N] = {0}, vh[N] = {0}, avg[N] = {0};
    memcpy(w, start, sizeof w);
    memcpy(kw, start, sizeof kw);
    assert_ok(kcb__optimizer_init(&opt, &o, N));
    const float lr = (float)opt.o.learning_rate, eps = (float)opt.o.epsilon;
    for (int s = 0; s < STEPS; s++) {
      kcb__optimizer_step(&opt, w, g[s]);
      for (int i = 0; i < N; i++) {
        if (variant == 3) { /* the slots: velocity, momentum, average gradient */
          const float rho = (float)opt.o.rho, c = (float)(1.0 - opt.o.rho), mu = (float)opt.o.momentum;
          v[i] = rho * v[i] + c * (g[s][i] * g[s][i]);
          avg[i] = rho * avg[i] + c * g[s][i];
          float increment = lr * g[s][i] / sqrtf(v[i] - avg[i] * avg[i] + eps);
          m[i] = mu * m[i] + increment;
          kw[i] = kw[i] - m[i];
          continue;
        }
        if (variant == 2) kw[i] = kw[i] - kw[i] * (float)opt.o.weight_decay * lr;
        const float t = (float)(s + 1);
        const float alpha = lr * sqrtf(1 - powf((float)opt.o.beta_2, t)) / (1 - powf((float)opt.o.beta_1, t));
        m[i] = m[i] + (g[s][i] - m[i]) * (float)(1.0 - opt.o.beta_1);
        v[i] = v[i] + (g[s][i] * g[s][i] - v[i]) * (float)(1.0 - opt.o.beta_2);
        vh[i] = fmaxf(vh[i], v[i]);
        kw[i] = kw[i] - m[i] * alpha / (sqrtf(variant == 1 ? vh[i] : v[i]) + eps);
      }
    }
    const float *velocity = variant == 3 ? opt.slots : opt.slots + N, *momentum = variant == 3 ? opt.slots + N : opt.slots;
    for (int i = 0; i < N; i++) {
      if (w[i] != kw[i] || velocity[i] != v[i] || momentum[i] != m[i])
        fail_msg("variant %d param %d: weight %.9g (Keras %.9g), velocity %.9g (%.9g), momentum %.9g (%.9g)", variant, i,
                 (double)w[i], (double)kw[i], (double)velocity[i], (double)v[i], (double)momentum[i], (double)m[i]);
      if (variant == 3 && opt.slots[2 * N + i] != avg[i]) fail_msg("rmsprop average gradient %d differs", i);
    }
    kcb__optimizer_free(&opt);
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

/* The update loops are built for several instruction sets: every variant this CPU runs must give
 * the same floats, over a block long enough for whole vectors and a remainder. */
static void test_vector_variants_agree(void **state) {
  (void)state;
  enum { LEN = 1003, STEPS = 3 };
  float *w0 = malloc(LEN * sizeof(float)), *g = malloc(STEPS * LEN * sizeof(float));
  float *out[3] = {malloc(LEN * sizeof(float)), malloc(LEN * sizeof(float)), malloc(LEN * sizeof(float))};
  uint64_t r = 12345;
  for (int i = 0; i < LEN; i++) w0[i] = (float)((int)(i % 37) - 18) / 7.0f;
  for (int i = 0; i < STEPS * LEN; i++) {
    r = r * 6364136223846793005ull + 1442695040888963407ull;
    g[i] = ((float)(r >> 40) / 16777216.0f - 0.5f) * (i % 5 == 0 ? 1e-20f : 1.0f);
  }
  struct { kcb_optimizer_kind kind; double momentum; int nesterov, centered, amsgrad; const char *name; } cases[] = {
      {KCB_OPT_SGD, 0, 0, 0, 0, "sgd"},           {KCB_OPT_SGD, 0.9, 0, 0, 0, "sgd momentum"},
      {KCB_OPT_SGD, 0.9, 1, 0, 0, "sgd nesterov"}, {KCB_OPT_RMSPROP, 0, 0, 0, 0, "rmsprop"},
      {KCB_OPT_RMSPROP, 0.5, 0, 1, 0, "rmsprop centered momentum"}, {KCB_OPT_ADAM, 0, 0, 0, 0, "adam"},
      {KCB_OPT_ADAM, 0, 0, 0, 1, "adam amsgrad"},  {KCB_OPT_ADAMW, 0, 0, 0, 0, "adamw"}};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    for (int level = 2; level >= 0; level--) {
      kcb__cpu_cap_simd_level(level);
      kcb_optimizer_options o = KCB_OPTIMIZER_OPTIONS_INIT(cases[c].kind);
      o.momentum = cases[c].momentum, o.nesterov = cases[c].nesterov, o.centered = cases[c].centered;
      o.amsgrad = cases[c].amsgrad;
      kcb__optimizer opt = {0};
      assert_ok(kcb__optimizer_init(&opt, &o, LEN));
      memcpy(out[level], w0, LEN * sizeof(float));
      for (int s = 0; s < STEPS; s++) kcb__optimizer_step(&opt, out[level], g + s * LEN);
      kcb__optimizer_free(&opt);
    }
    for (int level = 0; level < 2; level++)
      if (memcmp(out[level], out[2], LEN * sizeof(float)) != 0) fail_msg("%s: level %d differs from level 2", cases[c].name, level);
  }
  kcb__cpu_cap_simd_level(2);
  free(w0), free(g), free(out[0]), free(out[1]), free(out[2]);
}

/* Adam's moments of a weight whose gradient becomes zero decay by beta_1 a step; fit flushes
 * subnormals to zero (as TensorFlow does; they are ~100x slower on many x86 cores), so after
 * ~900 such steps no moment is subnormal, and the caller's own floating-point mode is back as
 * it was. */
static void test_fit_flushes_subnormals(void **state) {
  (void)state;
  unsigned saved = kcb__flush_subnormals_begin();
  volatile float probe = FLT_MIN;
  int flushes = probe / 4.0f == 0.0f; /* not off x86, nor under valgrind, which ignores the mode */
  kcb__fp_mode_set(saved);
  if (!flushes) skip();
  enum { SAMPLES = 9000 };
  int64_t in[1] = {2}, xs[2] = {SAMPLES, 2}, ys[2] = {SAMPLES, 1};
  kcb_model *m;
  assert_ok(kcb_model_new(&m, 1, in, 7));
  kcb_dense_options d = KCB_DENSE_OPTIONS_INIT;
  d.units = 1;
  assert_ok(kcb_model_add_dense(m, &d));
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
  c.loss = KCB_LOSS_MEAN_SQUARED_ERROR;
  assert_ok(kcb_model_compile(m, &c));
  kcb_tensor *x, *y;
  assert_ok(kcb_tensor_new(&x, 2, xs));
  assert_ok(kcb_tensor_new(&y, 2, ys));
  for (int i = 0; i < SAMPLES; i++) { /* feature 0 only in the first batch, feature 1 always */
    x->data[2 * i] = i < 10 ? 1.0f : 0.0f;
    x->data[2 * i + 1] = (float)(i % 3);
    y->data[i] = 1.0f;
  }
  kcb_fit_options fo = KCB_FIT_OPTIONS_INIT;
  fo.batch_size = 10, fo.shuffle = 0, fo.verbose = 0;
  assert_ok(kcb_model_fit(m, x, y, &fo, NULL));
  const float *slots = m->opt.slots; /* m then v, over kernel (2) and bias (1) */
  /* 899 steps of m += (0 - m) * 0.1 after the first: without flushing, 0.1 * g * 0.9^899 ~ 1e-42,
   * subnormal. Flushed, the step's product underflows to 0 once m nears FLT_MIN, and m stays at
   * the small normal value it has (as Keras 3's assign_add form does under TensorFlow). */
  assert_true(fabsf(slots[0]) < 1e-30f);
  for (size_t i = 0; i < 2 * m->n_params; i++)
    if (slots[i] != 0.0f && fabsf(slots[i]) < FLT_MIN) fail_msg("slot %zu is subnormal: %g", i, (double)slots[i]);
  volatile float tiny = FLT_MIN;
  assert_true(tiny / 4.0f != 0.0f); /* the caller's mode: subnormal results still exist here */
  kcb_tensor_free(x);
  kcb_tensor_free(y);
  kcb_model_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sgd), cmocka_unit_test(test_rmsprop), cmocka_unit_test(test_adam_family),
      cmocka_unit_test(test_weight_decay_every_optimizer),
      cmocka_unit_test(test_keras_float32_exact),
      cmocka_unit_test(test_defaults_and_errors), cmocka_unit_test(test_vector_variants_agree),
      cmocka_unit_test(test_fit_flushes_subnormals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
