/* io/tfevents/crc32c.c — CRC-32C: the SSE4.2 crc32 instruction when present, else slicing-by-8. */
#include "io/tfevents/crc32c.h"

#include <pthread.h>
#include <string.h>

#define POLY 0x82F63B78u /* reflected Castagnoli polynomial */

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void build_table(void) {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
    table[0][n] = c;
  }
  for (uint32_t n = 0; n < 256; n++)
    for (int s = 1; s < 8; s++) table[s][n] = (table[s - 1][n] >> 8) ^ table[0][table[s - 1][n] & 0xFF];
}

static uint64_t load_le64(const unsigned char *p) {
  return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
         (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

uint32_t kcb__crc32c_extend_portable(uint32_t crc, const void *data, size_t n) {
  pthread_once(&table_once, build_table);
  const unsigned char *p = data;
  uint32_t c = ~crc;
  while (n >= 8) {
    uint64_t w = load_le64(p) ^ c;
    c = table[7][w & 0xFF] ^ table[6][(w >> 8) & 0xFF] ^ table[5][(w >> 16) & 0xFF] ^ table[4][(w >> 24) & 0xFF] ^
        table[3][(w >> 32) & 0xFF] ^ table[2][(w >> 40) & 0xFF] ^ table[1][(w >> 48) & 0xFF] ^ table[0][w >> 56];
    p += 8;
    n -= 8;
  }
  while (n--) c = table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
  return ~c;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>

/* Three independent streams hide the instruction's 3-cycle latency on long buffers; they are
 * combined by running the CRC of one stream through the zeros of the next (shift tables). */
__attribute__((target("sse4.2"))) static uint32_t crc_hw_simple(uint32_t c, const unsigned char *p, size_t n) {
  uint64_t c64 = c;
  while (n >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    c64 = _mm_crc32_u64(c64, w);
    p += 8;
    n -= 8;
  }
  c = (uint32_t)c64;
  while (n--) c = _mm_crc32_u8(c, *p++);
  return c;
}

/* Multiplication in GF(2) modulo the (reflected) polynomial: used to shift a CRC over len zeros. */
static uint32_t gf2_mul(uint32_t a, uint32_t b) {
  uint32_t prod = 0;
  for (int i = 0; i < 32; i++) {
    if (a & 0x80000000u) prod ^= b;
    a <<= 1;
    b = (b & 1) ? (b >> 1) ^ POLY : b >> 1;
  }
  return prod;
}

/* The constants that shift a register over BLOCK and 2*BLOCK bytes. */
#define BLOCK 4096
static uint32_t shift1, shift2;
static pthread_once_t shifts_once = PTHREAD_ONCE_INIT;

static uint32_t xpow8n(size_t n) { /* x^(8n) mod P, reflected: multiplying a CRC register by it
                                     * shifts it over n zero bytes */
  uint32_t p = 0x80000000u; /* x^0 */
  uint32_t x = 0x40000000u; /* x^1 */
  size_t e = 8 * n;
  while (e) {
    if (e & 1) p = gf2_mul(p, x);
    x = gf2_mul(x, x);
    e >>= 1;
  }
  return p;
}

static void build_shifts(void) {
  shift1 = xpow8n(BLOCK);
  shift2 = xpow8n(2 * BLOCK);
}

__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const void *data, size_t n) {
  const unsigned char *p = data;
  uint32_t c = ~crc;
  if (n >= 3 * BLOCK) {
    pthread_once(&shifts_once, build_shifts);
    while (n >= 3 * BLOCK) {
      uint64_t a = c, b = 0, d = 0;
      const unsigned char *pa = p, *pb = p + BLOCK, *pd = p + 2 * BLOCK;
      for (size_t i = 0; i < BLOCK; i += 8) {
        uint64_t wa, wb, wd;
        memcpy(&wa, pa + i, 8);
        memcpy(&wb, pb + i, 8);
        memcpy(&wd, pd + i, 8);
        a = _mm_crc32_u64(a, wa);
        b = _mm_crc32_u64(b, wb);
        d = _mm_crc32_u64(d, wd);
      }
      /* raw (unfinalised) register values combine linearly: c = a*x^(2B) ^ b*x^(B) ^ d */
      c = gf2_mul((uint32_t)a, shift2) ^ gf2_mul((uint32_t)b, shift1) ^ (uint32_t)d;
      p += 3 * BLOCK;
      n -= 3 * BLOCK;
    }
  }
  return ~crc_hw_simple(c, p, n);
}

static int hw_state = -1; /* -1 unknown, 0 no, 1 yes */

int kcb__crc32c_hardware(void) {
  int s = __atomic_load_n(&hw_state, __ATOMIC_RELAXED);
  if (s < 0) {
    __builtin_cpu_init();
    s = __builtin_cpu_supports("sse4.2") ? 1 : 0;
    __atomic_store_n(&hw_state, s, __ATOMIC_RELAXED);
  }
  return s;
}

uint32_t kcb__crc32c_extend(uint32_t crc, const void *data, size_t n) {
  if (kcb__crc32c_hardware()) return crc_hw(crc, data, n);
  return kcb__crc32c_extend_portable(crc, data, n);
}
#else
int kcb__crc32c_hardware(void) { return 0; }
uint32_t kcb__crc32c_extend(uint32_t crc, const void *data, size_t n) {
  return kcb__crc32c_extend_portable(crc, data, n);
}
#endif
