/* model/optimizers.c — SGD, RMSprop, Adam and AdamW with Keras 3's update rules and defaults.
 * All slots live in one block; a step is one loop over the parameter block. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"

static double or_default(double v, double keras_default) { return v < 0 ? keras_default : v; }

int kcb__optimizer_init(kcb__optimizer *opt, const kcb_optimizer_options *o, size_t n_params) {
  kcb_optimizer_options r = *o;
  if ((unsigned)r.kind >= KCB_OPT_COUNT) return kcb__error(KCB_EINVAL, "unknown optimizer kind %d", (int)r.kind);
  r.learning_rate = or_default(r.learning_rate, r.kind == KCB_OPT_SGD ? 0.01 : 0.001);
  r.rho = or_default(r.rho, 0.9);
  r.beta_1 = or_default(r.beta_1, 0.9);
  r.beta_2 = or_default(r.beta_2, 0.999);
  r.epsilon = or_default(r.epsilon, 1e-7);
  r.weight_decay = or_default(r.weight_decay, r.kind == KCB_OPT_ADAMW ? 0.004 : 0.0);
  if (r.momentum < 0 || r.momentum > 1) return kcb__error(KCB_EINVAL, "optimizer momentum must be in [0, 1], got %g", r.momentum);
  if (r.beta_1 >= 1 || r.beta_2 >= 1 || r.rho >= 1)
    return kcb__error(KCB_EINVAL, "optimizer beta_1, beta_2 and rho must be < 1 (got %g, %g, %g)", r.beta_1, r.beta_2, r.rho);
  if (!isfinite(r.learning_rate)) return kcb__error(KCB_EINVAL, "learning rate must be finite");
  int slots = 0;
  switch (r.kind) {
    case KCB_OPT_SGD: slots = r.momentum > 0; break;
    case KCB_OPT_RMSPROP: slots = 1 + (r.momentum > 0) + (r.centered != 0); break;
    default: slots = 2 + (r.amsgrad != 0); break;
  }
  float *block = slots ? calloc((size_t)slots * n_params, sizeof(float)) : NULL;
  if (slots && !block) return kcb__error(KCB_ENOMEM, "out of memory for optimizer slots (%zu floats)", (size_t)slots * n_params);
  kcb__optimizer_free(opt);
  opt->o = r;
  opt->learning_rate = (float)r.learning_rate;
  opt->iterations = 0;
  opt->n_slots = slots;
  opt->slots = block;
  opt->n = n_params;
  opt->runs = NULL; /* the model sets its trainable runs after init */
  opt->n_runs = 0;
  return 0;
}

void kcb__optimizer_free(kcb__optimizer *opt) {
  free(opt->slots);
  opt->slots = NULL;
  opt->n_slots = 0;
}

static void sgd_step(const kcb__optimizer *opt, float *w, const float *g, size_t lo, size_t hi) {
  const float lr = opt->learning_rate, mu = (float)opt->o.momentum;
  if (opt->n_slots == 0) {
    for (size_t i = lo; i < hi; i++) w[i] -= lr * g[i];
    return;
  }
  float *m = opt->slots;
  if (opt->o.nesterov) {
    for (size_t i = lo; i < hi; i++) {
      m[i] = mu * m[i] - lr * g[i];
      w[i] += mu * m[i] - lr * g[i];
    }
  } else {
    for (size_t i = lo; i < hi; i++) {
      m[i] = mu * m[i] - lr * g[i];
      w[i] += m[i];
    }
  }
}

static void rmsprop_step(const kcb__optimizer *opt, float *w, const float *g, size_t lo, size_t hi) {
  const size_t n = opt->n;
  const float lr = opt->learning_rate, rho = (float)opt->o.rho, eps = (float)opt->o.epsilon;
  const float mu = (float)opt->o.momentum;
  float *velocity = opt->slots;
  float *momentum = mu > 0 ? opt->slots + n : NULL;
  float *average_grad = opt->o.centered ? opt->slots + (size_t)(1 + (mu > 0)) * n : NULL;
  for (size_t i = lo; i < hi; i++) {
    velocity[i] = rho * velocity[i] + (1 - rho) * g[i] * g[i];
    float denominator = velocity[i] + eps;
    if (average_grad) {
      average_grad[i] = rho * average_grad[i] + (1 - rho) * g[i];
      denominator = velocity[i] - average_grad[i] * average_grad[i] + eps;
    }
    float increment = lr * g[i] / sqrtf(denominator);
    if (momentum) {
      momentum[i] = mu * momentum[i] + increment;
      w[i] -= momentum[i];
    } else {
      w[i] -= increment;
    }
  }
}

static void adam_step(const kcb__optimizer *opt, float *w, const float *g, size_t lo, size_t hi) {
  const size_t n = opt->n;
  const double step = (double)(opt->iterations + 1);
  const float b1 = (float)opt->o.beta_1, b2 = (float)opt->o.beta_2, eps = (float)opt->o.epsilon;
  const float lr = opt->learning_rate;
  const float alpha = (float)(lr * sqrt(1.0 - pow(opt->o.beta_2, step)) / (1.0 - pow(opt->o.beta_1, step)));
  float *m = opt->slots, *v = opt->slots + n;
  if (opt->o.kind == KCB_OPT_ADAMW && opt->o.weight_decay > 0) {
    const float decay = (float)opt->o.weight_decay * lr; /* applied before the Adam step, as Keras */
    for (size_t i = lo; i < hi; i++) w[i] -= w[i] * decay;
  }
  if (opt->o.amsgrad) {
    float *v_hat = opt->slots + 2 * n;
    for (size_t i = lo; i < hi; i++) {
      m[i] += (g[i] - m[i]) * (1 - b1);
      v[i] += (g[i] * g[i] - v[i]) * (1 - b2);
      v_hat[i] = fmaxf(v_hat[i], v[i]);
      w[i] -= alpha * m[i] / (sqrtf(v_hat[i]) + eps);
    }
    return;
  }
  for (size_t i = lo; i < hi; i++) {
    m[i] += (g[i] - m[i]) * (1 - b1);
    v[i] += (g[i] * g[i] - v[i]) * (1 - b2);
    w[i] -= alpha * m[i] / (sqrtf(v[i]) + eps);
  }
}

void kcb__optimizer_step(kcb__optimizer *opt, float *params, const float *grads) {
  /* Without runs (an optimizer used alone) every parameter is trainable. */
  size_t whole[1][2] = {{0, opt->n}};
  size_t(*runs)[2] = opt->runs ? opt->runs : whole;
  size_t n_runs = opt->runs ? opt->n_runs : 1;
  for (size_t r = 0; r < n_runs; r++) {
    size_t lo = runs[r][0], hi = runs[r][0] + runs[r][1];
    switch (opt->o.kind) {
      case KCB_OPT_SGD: sgd_step(opt, params, grads, lo, hi); break;
      case KCB_OPT_RMSPROP: rmsprop_step(opt, params, grads, lo, hi); break;
      default: adam_step(opt, params, grads, lo, hi); break;
    }
  }
  opt->iterations++;
}
