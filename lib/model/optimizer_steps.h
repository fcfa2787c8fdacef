/* model/optimizer_steps.h — the optimizers' loops over a run of parameters, included by
 * optimizers.c once per instruction set: STEP(name) names this copy, STEP_ATTR is its target
 * attribute. Only vector width changes between copies (the file is built without contraction),
 * so each computes the same floats. */

/* Keras's weight_decay, any optimizer's (AdamW's by default): w - w * wd * lr, before the step. */
STEP_ATTR static void STEP(decay)(const kcb__optimizer *opt, float *restrict w, size_t lo, size_t hi) {
  if (!(opt->o.weight_decay > 0)) return;
  const float wd = (float)opt->o.weight_decay, lr = opt->learning_rate;
  for (size_t i = lo; i < hi; i++) w[i] = w[i] - w[i] * wd * lr;
}

STEP_ATTR static void STEP(sgd)(const kcb__optimizer *opt, float *restrict w, const float *restrict g, size_t lo, size_t hi) {
  const float lr = opt->learning_rate, mu = (float)opt->o.momentum;
  STEP(decay)(opt, w, lo, hi);
  if (opt->n_slots == 0) {
    for (size_t i = lo; i < hi; i++) w[i] -= lr * g[i];
    return;
  }
  float *restrict m = opt->slots;
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

STEP_ATTR static void STEP(rmsprop)(const kcb__optimizer *opt, float *restrict w, const float *restrict g, size_t lo,
                                     size_t hi) {
  const size_t n = opt->n;
  const float lr = opt->learning_rate, rho = (float)opt->o.rho, eps = (float)opt->o.epsilon;
  const float mu = (float)opt->o.momentum, one_minus_rho = (float)(1.0 - opt->o.rho); /* Keras: 1 - rho in Python */
  float *restrict velocity = opt->slots;
  float *restrict momentum = mu > 0 ? opt->slots + n : NULL;
  float *restrict average_grad = opt->o.centered ? opt->slots + (size_t)(1 + (mu > 0)) * n : NULL;
  STEP(decay)(opt, w, lo, hi);
  for (size_t i = lo; i < hi; i++) {
    velocity[i] = rho * velocity[i] + one_minus_rho * (g[i] * g[i]);
    float denominator = velocity[i] + eps;
    if (average_grad) {
      average_grad[i] = rho * average_grad[i] + one_minus_rho * g[i];
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

STEP_ATTR static void STEP(adam)(const kcb__optimizer *opt, float *restrict w, const float *restrict g, size_t lo, size_t hi) {
  const size_t n = opt->n;
  /* Keras's arithmetic: the powers and alpha in float32; 1 - beta in Python (double), then float32 */
  const float step = (float)(opt->iterations + 1), eps = (float)opt->o.epsilon, lr = opt->learning_rate;
  const float b1_power = powf((float)opt->o.beta_1, step), b2_power = powf((float)opt->o.beta_2, step);
  const float alpha = lr * sqrtf(1 - b2_power) / (1 - b1_power);
  const float one_minus_b1 = (float)(1.0 - opt->o.beta_1), one_minus_b2 = (float)(1.0 - opt->o.beta_2);
  float *restrict m = opt->slots, *restrict v = opt->slots + n;
  STEP(decay)(opt, w, lo, hi);
  if (opt->o.amsgrad) {
    float *restrict v_hat = opt->slots + 2 * n;
    for (size_t i = lo; i < hi; i++) {
      m[i] += (g[i] - m[i]) * one_minus_b1;
      v[i] += (g[i] * g[i] - v[i]) * one_minus_b2;
      v_hat[i] = fmaxf(v_hat[i], v[i]);
      w[i] -= m[i] * alpha / (sqrtf(v_hat[i]) + eps);
    }
    return;
  }
  for (size_t i = lo; i < hi; i++) {
    m[i] += (g[i] - m[i]) * one_minus_b1;
    v[i] += (g[i] * g[i] - v[i]) * one_minus_b2;
    w[i] -= m[i] * alpha / (sqrtf(v[i]) + eps);
  }
}
