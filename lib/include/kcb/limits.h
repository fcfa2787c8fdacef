/* kcb/limits.h — how large a model kcb agrees to build: a bound that turns an absurd size read from
 * a file or a flag ("units": 100000 ten times, batch_shape [null, 1e9, 1e9]) into a clear error
 * instead of an allocation of hundreds of gigabytes or an integer overflow. */
#ifndef KCB_LIMITS_H
#define KCB_LIMITS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The default bound: 100 million parameters (400 MB of float32 weights; with gradients and Adam's
 * two slots about 1.6 GB). */
#define KCB_DEFAULT_MAX_PARAMS ((uint64_t)100000000)

/** The largest total parameter count a model may have, and also the largest number of values
 * one sample may have at any layer (the input included). Process-wide; thread-safe.
 * Building a larger model fails with KCB_EINVAL "... too large ...". */
uint64_t kcb_max_params(void);

/** Sets the bound of kcb_max_params (0 restores KCB_DEFAULT_MAX_PARAMS). The environment variable
 * KCB_MAX_PARAMS, read once when no value was set, overrides the default too. */
void kcb_set_max_params(uint64_t n);

/** Reads the environment variable KCB_MAX_PARAMS as kcb_max_params does: a whole number above 0
 * in plain decimal digits. kcb_max_params ignores a value that is not one (the default applies);
 * a program checks it with this call to say so.
 * @param[out] out the value, or 0 when the variable is unset or empty
 * @return 0, or KCB_EINVAL with a message quoting the value. */
int kcb_max_params_from_env(uint64_t *out);

#ifdef __cplusplus
}
#endif
#endif
