/* model/optimizers.c — SGD, RMSprop, Adam and AdamW with Keras 3's update rules and defaults.
 * All slots live in one block; a step is one loop over the parameter block. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"

/* KCB_DEFAULT (-1) asks for Keras's value; any other negative value is refused below. */
static double or_default(double v, double keras_default) { return v == KCB_DEFAULT ? keras_default : v; }

/* A setting that must be a finite number >= 0 that float32 holds (the optimizer keeps float32). */
static int check_setting(const char *name, double v) {
  if (!(v >= 0) || !(v <= FLT_MAX))
    return kcb__error(KCB_EINVAL, "optimizer %s must be a finite number >= 0 (or KCB_DEFAULT for Keras's), got %g", name, v);
  return 0;
}

int kcb__optimizer_init(kcb__optimizer *opt, const kcb_optimizer_options *o, size_t n_params) {
  kcb_optimizer_options r = *o;
  if ((unsigned)r.kind >= KCB_OPT_COUNT) return kcb__error(KCB_EINVAL, "unknown optimizer kind %d", (int)r.kind);
  r.learning_rate = or_default(r.learning_rate, r.kind == KCB_OPT_SGD ? 0.01 : 0.001);
  r.rho = or_default(r.rho, 0.9);
  r.beta_1 = or_default(r.beta_1, 0.9);
  r.beta_2 = or_default(r.beta_2, 0.999);
  r.epsilon = or_default(r.epsilon, 1e-7);
  r.weight_decay = or_default(r.weight_decay, r.kind == KCB_OPT_ADAMW ? 0.004 : 0.0);
  if (!(r.momentum >= 0 && r.momentum <= 1)) return kcb__error(KCB_EINVAL, "optimizer momentum must be in [0, 1], got %g", r.momentum);
  int rc;
  if ((rc = check_setting("learning_rate", r.learning_rate)) || (rc = check_setting("rho", r.rho)) ||
      (rc = check_setting("beta_1", r.beta_1)) || (rc = check_setting("beta_2", r.beta_2)) ||
      (rc = check_setting("epsilon", r.epsilon)) || (rc = check_setting("weight_decay", r.weight_decay)))
    return rc;
  if (r.beta_1 >= 1 || r.beta_2 >= 1 || r.rho >= 1)
    return kcb__error(KCB_EINVAL, "optimizer beta_1, beta_2 and rho must be < 1 (got %g, %g, %g)", r.beta_1, r.beta_2, r.rho);
  int slots = 0;
  switch (r.kind) {
    case KCB_OPT_SGD: slots = r.momentum > 0; break;
    case KCB_OPT_RMSPROP: slots = 1 + (r.momentum > 0) + (r.centered != 0); break;
    default: slots = 2 + (r.amsgrad != 0); break;
  }
  /* on a cache line, as the parameters are: a step's vector loads of the first slot split no line */
  float *block = slots ? kcb__alloc_floats((size_t)slots * n_params) : NULL;
  if (block) memset(block, 0, (size_t)slots * n_params * sizeof *block);
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

/* The update loops, compiled for the baseline, AVX2 and AVX-512: a step is memory-light enough
 * that the wider vectors' fewer square roots and divisions show (Adam). */
#define STEP_ATTR
#define STEP(name) name##_step_base
#include "model/optimizer_steps.h"
#undef STEP_ATTR
#undef STEP
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_X86_STEPS 1
#define STEP_ATTR __attribute__((target("avx2")))
#define STEP(name) name##_step_avx2
#include "model/optimizer_steps.h"
#undef STEP_ATTR
#undef STEP
#define STEP_ATTR __attribute__((target("avx512f")))
#define STEP(name) name##_step_avx512
#include "model/optimizer_steps.h"
#undef STEP_ATTR
#undef STEP
#endif

typedef void (*step_fn)(const kcb__optimizer *opt, float *restrict w, const float *restrict g, size_t lo, size_t hi);

/* This CPU's loop for kind: [0] SGD, [1] RMSprop, [2] Adam and AdamW. */
static step_fn step_for(kcb_optimizer_kind kind) {
  static const step_fn base[3] = {sgd_step_base, rmsprop_step_base, adam_step_base};
  int k = kind == KCB_OPT_SGD ? 0 : kind == KCB_OPT_RMSPROP ? 1 : 2;
#ifdef HAVE_X86_STEPS
  static const step_fn avx2[3] = {sgd_step_avx2, rmsprop_step_avx2, adam_step_avx2};
  static const step_fn avx512[3] = {sgd_step_avx512, rmsprop_step_avx512, adam_step_avx512};
  switch (kcb__cpu_simd_level()) {
    case 2: return avx512[k];
    case 1: return avx2[k];
    default: break;
  }
#endif
  return base[k];
}

typedef struct step_job {
  step_fn step;
  const kcb__optimizer *opt;
  float *params;
  const float *grads;
  size_t lo;
} step_job;

static void step_part(void *ctx, int part, int64_t begin, int64_t end) {
  const step_job *j = ctx;
  (void)part;
  j->step(j->opt, j->params, j->grads, j->lo + (size_t)begin, j->lo + (size_t)end);
}

void kcb__optimizer_update(const kcb__optimizer *opt, float *params, const float *grads, size_t lo, size_t n) {
  /* every parameter's update is independent: the pool's threads take a share each */
  step_job j = {step_for(opt->o.kind), opt, params, grads, lo};
  kcb__parallel((int64_t)n, 16384, 16, step_part, &j);
}

void kcb__optimizer_step(kcb__optimizer *opt, float *params, const float *grads) {
  /* Without runs (an optimizer used alone) every parameter is trainable. */
  size_t whole[1][2] = {{0, opt->n}};
  size_t(*runs)[2] = opt->runs ? opt->runs : whole;
  size_t n_runs = opt->runs ? opt->n_runs : 1;
  for (size_t r = 0; r < n_runs; r++) kcb__optimizer_update(opt, params, grads, runs[r][0], runs[r][1]);
  opt->iterations++;
}
