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

/* ---- batches of short buffers -------------------------------------------------------------- */

/* pre[z]: the register that, run over z zero bytes, becomes the initial ~0. Starting from it, a
 * buffer whose length is 8k - z is run as k whole words, the first shifted up by z zero bytes: no
 * byte-by-byte tail, whose branches mispredict on records of varying lengths. */
static uint32_t pre[8];
static pthread_once_t pre_once = PTHREAD_ONCE_INIT;

static void build_pre(void) {
  for (int z = 0; z < 8; z++) {
    uint32_t r = 0xFFFFFFFFu;
    for (int k = 0; k < 8 * z; k++) r = (r & 0x80000000u) ? ((r ^ POLY) << 1) | 1 : r << 1; /* one bit back */
    pre[z] = r;
  }
}

typedef struct lane {
  const unsigned char *p; /* the next whole word */
  size_t words;           /* whole words left after the first */
  uint64_t c;             /* the register */
  uint32_t *out;
} lane;

__attribute__((target("sse4.2"))) static inline void lane_start(lane *l, const kcb__crc32c_job *j, uint32_t *out) {
  size_t z = (size_t)(-j->len) & 7; /* len >= 8: the first 8 bytes are inside the buffer */
  uint64_t w;
  memcpy(&w, j->data, 8);
  l->c = _mm_crc32_u64(pre[z], w << (8 * z));
  l->p = j->data + 8 - z;
  l->words = (j->len + z) / 8 - 1;
  l->out = out;
}

__attribute__((target("sse4.2"))) static inline uint64_t words_hw(uint64_t c, const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint64_t w;
    memcpy(&w, p + 8 * i, 8);
    c = _mm_crc32_u64(c, w);
  }
  return c;
}

/* Three buffers of 8 bytes or more: in lockstep while all three last, then two, then one. */
__attribute__((target("sse4.2"))) static void crc3_hw(const kcb__crc32c_job *ja, const kcb__crc32c_job *jb,
                                                      const kcb__crc32c_job *jc, uint32_t *oa, uint32_t *ob,
                                                      uint32_t *oc) {
  lane a, b, c, t;
  lane_start(&a, ja, oa);
  lane_start(&b, jb, ob);
  lane_start(&c, jc, oc);
  if (b.words < a.words) t = a, a = b, b = t;
  if (c.words < b.words) t = b, b = c, c = t;
  if (b.words < a.words) t = a, a = b, b = t;
  size_t i = 0;
  for (; i < a.words; i++) {
    uint64_t wa, wb, wc;
    memcpy(&wa, a.p + 8 * i, 8);
    memcpy(&wb, b.p + 8 * i, 8);
    memcpy(&wc, c.p + 8 * i, 8);
    a.c = _mm_crc32_u64(a.c, wa);
    b.c = _mm_crc32_u64(b.c, wb);
    c.c = _mm_crc32_u64(c.c, wc);
  }
  for (; i < b.words; i++) {
    uint64_t wb, wc;
    memcpy(&wb, b.p + 8 * i, 8);
    memcpy(&wc, c.p + 8 * i, 8);
    b.c = _mm_crc32_u64(b.c, wb);
    c.c = _mm_crc32_u64(c.c, wc);
  }
  c.c = words_hw(c.c, c.p + 8 * i, c.words - i);
  *a.out = ~(uint32_t)a.c;
  *b.out = ~(uint32_t)b.c;
  *c.out = ~(uint32_t)c.c;
}

__attribute__((target("sse4.2"))) static uint32_t crc1_hw(const kcb__crc32c_job *j) {
  lane l;
  uint32_t out;
  lane_start(&l, j, &out);
  return ~(uint32_t)words_hw(l.c, l.p, l.words);
}

/* Lengths grouped by size (up to 64, 256, 1024, 4096 bytes and under 3 blocks), so a triple's
 * lanes end close together; shorter than a word, or long enough for crc_hw's own three streams,
 * one at a time. */
#define CLASSES 5
#define CHUNK 256

__attribute__((target("sse4.2"))) static void batch_hw(const kcb__crc32c_job *jobs, size_t n, uint32_t *out) {
  pthread_once(&pre_once, build_pre);
  for (size_t base = 0; base < n; base += CHUNK) {
    size_t m = n - base < CHUNK ? n - base : CHUNK;
    unsigned char idx[CLASSES][CHUNK];
    size_t cnt[CLASSES] = {0};
    for (size_t i = 0; i < m; i++) {
      size_t len = jobs[base + i].len;
      if (len == 8) { /* a record's length: one instruction, and the next one's can start at once */
        uint64_t w;
        memcpy(&w, jobs[base + i].data, 8);
        out[base + i] = ~(uint32_t)_mm_crc32_u64(0xFFFFFFFFu, w);
        continue;
      }
      if (len < 8 || len >= 3 * BLOCK) {
        out[base + i] = crc_hw(0, jobs[base + i].data, len);
        continue;
      }
      int k = len <= 64 ? 0 : len <= 256 ? 1 : len <= 1024 ? 2 : len <= 4096 ? 3 : 4;
      idx[k][cnt[k]++] = (unsigned char)i;
    }
    const kcb__crc32c_job *j = jobs + base;
    uint32_t *o = out + base;
    for (int k = 0; k < CLASSES; k++) {
      size_t c = 0;
      for (; c + 3 <= cnt[k]; c += 3) {
        unsigned x = idx[k][c], y = idx[k][c + 1], z = idx[k][c + 2];
        crc3_hw(&j[x], &j[y], &j[z], &o[x], &o[y], &o[z]);
      }
      for (; c < cnt[k]; c++) o[idx[k][c]] = crc1_hw(&j[idx[k][c]]);
    }
  }
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

void kcb__crc32c_batch(const kcb__crc32c_job *jobs, size_t n, uint32_t *out) {
  if (kcb__crc32c_hardware()) {
    batch_hw(jobs, n, out);
    return;
  }
  for (size_t i = 0; i < n; i++) out[i] = kcb__crc32c_extend_portable(0, jobs[i].data, jobs[i].len);
}
#else
int kcb__crc32c_hardware(void) { return 0; }
uint32_t kcb__crc32c_extend(uint32_t crc, const void *data, size_t n) {
  return kcb__crc32c_extend_portable(crc, data, n);
}
void kcb__crc32c_batch(const kcb__crc32c_job *jobs, size_t n, uint32_t *out) {
  for (size_t i = 0; i < n; i++) out[i] = kcb__crc32c_extend_portable(0, jobs[i].data, jobs[i].len);
}
#endif
