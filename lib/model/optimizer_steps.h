/* model/optimizer_steps.h — the optimizers' loops over a run of parameters, included by
 * optimizers.c once per instruction set: STEP(name) names this copy, STEP_ATTR is its target
 * attribute. Only vector width changes between copies (the file is built without contraction),
 * so each computes the same floats. */

STEP_ATTR static void STEP(sgd)(const kcb__optimizer *opt, float *restrict w, const float *restrict g, size_t lo, size_t hi) {
  const float lr = opt->learning_rate, mu = (float)opt->o.momentum;
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
  const float mu = (float)opt->o.momentum;
  float *restrict velocity = opt->slots;
  float *restrict momentum = mu > 0 ? opt->slots + n : NULL;
  float *restrict average_grad = opt->o.centered ? opt->slots + (size_t)(1 + (mu > 0)) * n : NULL;
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

STEP_ATTR static void STEP(adam)(const kcb__optimizer *opt, float *restrict w, const float *restrict g, size_t lo, size_t hi) {
  const size_t n = opt->n;
  const double step = (double)(opt->iterations + 1);
  const float b1 = (float)opt->o.beta_1, b2 = (float)opt->o.beta_2, eps = (float)opt->o.epsilon;
  const float lr = opt->learning_rate;
  const float alpha = (float)(lr * sqrt(1.0 - pow(opt->o.beta_2, step)) / (1.0 - pow(opt->o.beta_1, step)));
  float *restrict m = opt->slots, *restrict v = opt->slots + n;
  if (opt->o.kind == KCB_OPT_ADAMW && opt->o.weight_decay > 0) {
    const float decay = (float)opt->o.weight_decay * lr; /* applied before the Adam step, as Keras */
    for (size_t i = lo; i < hi; i++) w[i] -= w[i] * decay;
  }
  if (opt->o.amsgrad) {
    float *restrict v_hat = opt->slots + 2 * n;
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
