/* core/rng.c — a small, fast, seedable generator (xoshiro256**), so a seed fixes a whole run. */
#include <math.h>

#include "internal.h"

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void kcb__rng_seed(kcb__rng *rng, uint64_t seed) {
  for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t next(uint64_t *restrict s) {
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

uint64_t kcb__rng_next(kcb__rng *rng) { return next(rng->s); }

void kcb__rng_keep_mask(kcb__rng *rng, double rate, float keep, float *mask, int64_t n) {
  const uint64_t threshold = (uint64_t)(rate * 18446744073709551616.0);
  uint64_t s[4] = {rng->s[0], rng->s[1], rng->s[2], rng->s[3]}; /* in registers through the loop */
  for (int64_t j = 0; j < n; j++) mask[j] = next(s) >= threshold ? keep : 0.0f;
  for (int i = 0; i < 4; i++) rng->s[i] = s[i];
}

double kcb__rng_uniform(kcb__rng *rng) { return (double)(kcb__rng_next(rng) >> 11) * 0x1.0p-53; }

double kcb__rng_normal(kcb__rng *rng) {
  double u1 = kcb__rng_uniform(rng), u2 = kcb__rng_uniform(rng);
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

uint64_t kcb__rng_below(kcb__rng *rng, uint64_t n) {
  /* Lemire's multiply-shift with rejection: unbiased and division-free in the common case. */
  unsigned __int128 m = (unsigned __int128)kcb__rng_next(rng) * n;
  uint64_t low = (uint64_t)m;
  if (low < n) {
    uint64_t threshold = -n % n;
    while (low < threshold) {
      m = (unsigned __int128)kcb__rng_next(rng) * n;
      low = (uint64_t)m;
    }
  }
  return (uint64_t)(m >> 64);
}
