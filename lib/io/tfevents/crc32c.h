/* io/tfevents/crc32c — CRC-32C (Castagnoli) and TFRecord's masking (spec/tfevents.md §1.2-1.3). */
#ifndef KCB_IO_TFEVENTS_CRC32C_H
#define KCB_IO_TFEVENTS_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC-32C over n more bytes (start with crc = 0). Uses the SSE4.2 instruction when
 * the CPU has it (detected once at run time), else a slicing-by-8 table. */
uint32_t kcb__crc32c_extend(uint32_t crc, const void *data, size_t n);

/* The portable table path alone, for tests and benchmarks. */
uint32_t kcb__crc32c_extend_portable(uint32_t crc, const void *data, size_t n);

/* 1 if kcb__crc32c_extend uses the CPU instruction. */
int kcb__crc32c_hardware(void);

static inline uint32_t kcb__crc32c(const void *data, size_t n) { return kcb__crc32c_extend(0, data, n); }

/* One buffer of a batch. */
typedef struct kcb__crc32c_job {
  const unsigned char *data;
  size_t len;
} kcb__crc32c_job;

/* out[i] = kcb__crc32c(jobs[i].data, jobs[i].len) for n buffers. Buffers of similar length are
 * run three at a time, which hides the instruction's latency on short records (one stream
 * reaches a third of its throughput). */
void kcb__crc32c_batch(const kcb__crc32c_job *jobs, size_t n, uint32_t *out);

/* TFRecord's mask: rotate right by 15 and add a constant, so that CRCs of data holding CRCs
 * do not degenerate. */
static inline uint32_t kcb__crc32c_mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u; }

static inline uint32_t kcb__crc32c_unmask(uint32_t masked) {
  uint32_t r = masked - 0xA282EAD8u;
  return (r >> 17) | (r << 15);
}

#endif
