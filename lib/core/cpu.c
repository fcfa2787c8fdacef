/* core/cpu.c — what the CPU offers kcb's vector loops, and subnormal floats flushed to zero
 * while kcb trains, as TensorFlow does on the CPU. Adam's moments of a parameter whose gradient stays zero (a Dense kernel row fed by an
 * always-blank border pixel) decay by beta each step into the subnormal range, and on many x86
 * cores every arithmetic operation on a subnormal costs ~100 cycles: without this an Adam step
 * ran 2.5x slower from the second epoch of an MLP on an Intel Xeon. The mode is per thread and is
 * restored when the step ends, so the caller's own arithmetic is not changed. */
#include "internal.h"

static int simd_cap = 2; /* kcb__cpu_cap_simd_level: tests run every variant this CPU has */

int kcb__cpu_simd_level(void) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (simd_cap >= 2 && __builtin_cpu_supports("avx512f")) return 2;
  if (simd_cap >= 1 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
#endif
  return 0;
}

void kcb__cpu_cap_simd_level(int level) { simd_cap = level; }

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>

/* MXCSR: flush-to-zero (results) and denormals-are-zero (inputs). */
#define FLUSH_BITS (0x8000u | 0x0040u)

unsigned kcb__flush_subnormals_begin(void) {
  unsigned saved = _mm_getcsr();
  _mm_setcsr(saved | FLUSH_BITS);
  return saved;
}

unsigned kcb__fp_mode_get(void) { return _mm_getcsr(); }
void kcb__fp_mode_set(unsigned mode) { _mm_setcsr(mode); }
#else
unsigned kcb__flush_subnormals_begin(void) { return 0; }
unsigned kcb__fp_mode_get(void) { return 0; }
void kcb__fp_mode_set(unsigned mode) { (void)mode; }
#endif
