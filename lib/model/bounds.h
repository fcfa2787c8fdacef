/* model/bounds.h — checks of sizes and restored values that come from files and flags (issue 15):
 * overflow-safe products of untrusted dimensions against kcb_max_params, and the optimizer's and
 * checkpoint's scalars validated as the setters validate them. One place, called by the model
 * builder, the config reader and the checkpoint loader. */
#ifndef KCB_MODEL_BOUNDS_H
#define KCB_MODEL_BOUNDS_H

#include <stdint.h>

#include "internal.h"

/* The most optimizer steps a checkpoint may record: 2^53, where a step still counts exactly in a
 * double (Adam's bias correction) and one more step cannot overflow. */
#define KCB__MAX_ITERATIONS ((int64_t)1 << 53)
/* The largest epoch or batch number a checkpoint may record: fit counts epochs in an int. */
#define KCB__MAX_EPOCH ((int64_t)2147483646)

/** *out = a * b for non-negative a, b; -1 (out untouched) when the product overflows int64. */
static inline int kcb__mul_i64(int64_t a, int64_t b, int64_t *out) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return -1;
  *out = r;
  return 0;
}

/** total + in * units + units (a Dense layer's kernel and bias), saturating at UINT64_MAX. */
static inline uint64_t kcb__params_add(uint64_t total, int64_t in, int64_t units) {
  uint64_t k;
  if (in < 0 || units < 0 || __builtin_mul_overflow((uint64_t)in, (uint64_t)units, &k) ||
      __builtin_add_overflow(k, (uint64_t)units, &k) || __builtin_add_overflow(total, k, &total))
    return UINT64_MAX;
  return total;
}

/** The product of dims[0..rank) into *out, or KCB_EINVAL naming `what` ("input shape (100000, 100000)
 * of model.h5 is too large: ...") when it overflows or exceeds kcb_max_params. */
int kcb__check_values(const int64_t *dims, int rank, const char *what, int64_t *out);

/** n parameters (already summed without overflow by the caller) against kcb_max_params. */
int kcb__check_params(uint64_t n, const char *what);

/** A restored optimizer state: iterations in [0, 2^53], learning_rate finite and >= 0 (as
 * kcb_model_set_learning_rate). KCB_EINVAL naming the variable and file. */
int kcb__check_restored_optimizer(int64_t iterations, double learning_rate, const char *file);

/** A restored optimizer's slot variables (n_slots blocks of n floats, in kcb's slot order): every
 * value finite, and the ones a square root is taken of (RMSprop's velocity, Adam's v and v_hat)
 * >= 0, or the next step would make every weight NaN. KCB_EINVAL naming the slot and file. */
int kcb__check_restored_slots(kcb_optimizer_kind kind, const float *slots, int n_slots, size_t n, const char *file);

/** A checkpoint's info (kcb_checkpoint_info_read): epoch and batch -1 (absent) or in [0, 2^31 - 2],
 * iterations -1 or in [0, 2^53]. */
int kcb__check_restored_info(const kcb_checkpoint_info *info, const char *file);

#endif
