/* model/bounds.c — see bounds.h. */
#include "model/bounds.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t max_params; /* 0: not set yet (read KCB_MAX_PARAMS, else the default) */

uint64_t kcb_max_params(void) {
  uint64_t n = __atomic_load_n(&max_params, __ATOMIC_RELAXED);
  if (n) return n;
  uint64_t from_env = 0;
  if (kcb_max_params_from_env(&from_env) != 0) kcb_error_clear();
  n = from_env ? from_env : KCB_DEFAULT_MAX_PARAMS;
  __atomic_store_n(&max_params, n, __ATOMIC_RELAXED);
  return n;
}

int kcb_max_params_from_env(uint64_t *out) {
  if (!out) return kcb__error(KCB_EINVAL, "kcb_max_params_from_env: out is NULL");
  *out = 0;
  const char *env = getenv("KCB_MAX_PARAMS");
  if (!env || !*env) return 0;
  uint64_t v = 0;
  int ok = 1;
  for (const char *c = env; *c && ok; c++) /* digits only: no sign, blank, exponent or wrap-around */
    ok = *c >= '0' && *c <= '9' && !__builtin_mul_overflow(v, 10, &v) && !__builtin_add_overflow(v, (uint64_t)(*c - '0'), &v);
  if (!ok || v == 0)
    return kcb__error(KCB_EINVAL, "KCB_MAX_PARAMS='%.40s': expected a whole number of parameters above 0, in digits "
                      "(at most %llu)", env, (unsigned long long)UINT64_MAX);
  *out = v;
  return 0;
}

void kcb_set_max_params(uint64_t n) { __atomic_store_n(&max_params, n ? n : KCB_DEFAULT_MAX_PARAMS, __ATOMIC_RELAXED); }

int kcb__check_values(const int64_t *dims, int rank, const char *what, int64_t *out) {
  int64_t n = 1;
  int over = 0;
  for (int i = 0; i < rank; i++)
    if (dims[i] < 0 || kcb__mul_i64(n, dims[i], &n) != 0) over = 1;
  char shape[200] = "(";
  for (int i = 0; i < rank; i++) {
    size_t k = strlen(shape);
    snprintf(shape + k, sizeof shape - k, "%s%lld", i ? ", " : "", (long long)dims[i]);
  }
  size_t k = strlen(shape);
  snprintf(shape + k, sizeof shape - k, "%s)", rank == 1 ? "," : "");
  uint64_t limit = kcb_max_params();
  if (over)
    return kcb__error(KCB_EINVAL, "%s %s is too large: its number of values overflows a 64-bit integer", what, shape);
  if ((uint64_t)n > limit)
    return kcb__error(KCB_EINVAL,
                      "%s %s is too large: %lld values per sample, more than the limit of %llu (kcb_set_max_params, "
                      "KCB_MAX_PARAMS)",
                      what, shape, (long long)n, (unsigned long long)limit);
  *out = n;
  return 0;
}

int kcb__check_params(uint64_t n, const char *what) {
  uint64_t limit = kcb_max_params();
  if (n <= limit) return 0;
  return kcb__error(KCB_EINVAL,
                    "%s: the model is too large: %llu parameters, more than the limit of %llu (kcb_set_max_params, "
                    "KCB_MAX_PARAMS)",
                    what, (unsigned long long)n, (unsigned long long)limit);
}

int kcb__check_restored_optimizer(int64_t iterations, double learning_rate, const char *file) {
  if (iterations < 0 || iterations > KCB__MAX_ITERATIONS)
    return kcb__error(KCB_EINVAL, "%s: optimizer variable 'iterations' is %lld: expected a step count from 0 to 2^53", file,
                      (long long)iterations);
  if (!(learning_rate >= 0) || !isfinite(learning_rate))
    return kcb__error(KCB_EINVAL, "%s: optimizer variable 'learning_rate' is %g: the learning rate must be a finite number >= 0",
                      file, learning_rate);
  return 0;
}

int kcb__check_restored_slots(kcb_optimizer_kind kind, const float *slots, int n_slots, size_t n, const char *file) {
  int adam = kind == KCB_OPT_ADAM || kind == KCB_OPT_ADAMW;
  for (int s = 0; s < n_slots; s++) {
    int nonneg = (kind == KCB_OPT_RMSPROP && s == 0) || (adam && s >= 1);
    static const char *const adam_names[] = {"m", "v", "v_hat"};
    const char *name = adam ? adam_names[s < 3 ? s : 2] : kind == KCB_OPT_RMSPROP && s == 0 ? "velocity" : "slot";
    for (size_t i = 0; i < n; i++) {
      float v = slots[(size_t)s * n + i];
      if (!isfinite(v) || (nonneg && v < 0))
        return kcb__error(KCB_EINVAL, "%s: optimizer state '%s' (slot %d) holds %g at index %zu: expected a finite number%s",
                          file, name, s, (double)v, i, nonneg ? " >= 0" : "");
    }
  }
  return 0;
}

static int counter(int64_t value, int64_t max, const char *name, const char *max_text, const char *file) {
  if (value >= -1 && value <= max) return 0;
  return kcb__error(KCB_EINVAL, "%s: %s is %lld: expected a count from 0 to %s", file, name, (long long)value, max_text);
}

int kcb__check_restored_info(const kcb_checkpoint_info *info, const char *file) {
  int rc = counter(info->epoch, KCB__MAX_EPOCH, "attribute 'kcb_epoch'", "2147483646", file);
  if (rc == 0) rc = counter(info->batch, KCB__MAX_EPOCH, "attribute 'kcb_batch'", "2147483646", file);
  if (rc == 0) rc = counter(info->iterations, KCB__MAX_ITERATIONS, "optimizer variable 'iterations'", "2^53", file);
  return rc;
}
