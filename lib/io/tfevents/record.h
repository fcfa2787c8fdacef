/* io/tfevents/record — TFRecord framing: u64le length | u32le masked crc(length) | data |
 * u32le masked crc(data) (spec/tfevents.md §1.1), encoded explicitly little-endian. */
#ifndef KCB_IO_TFEVENTS_RECORD_H
#define KCB_IO_TFEVENTS_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define KCB__RECORD_HEADER 12
#define KCB__RECORD_FOOTER 4

static inline void kcb__store_le32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
}
static inline void kcb__store_le64(unsigned char *p, uint64_t v) {
  kcb__store_le32(p, (uint32_t)v);
  kcb__store_le32(p + 4, (uint32_t)(v >> 32));
}
static inline uint32_t kcb__load_le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t kcb__load_le64(const unsigned char *p) {
  return (uint64_t)kcb__load_le32(p) | (uint64_t)kcb__load_le32(p + 4) << 32;
}

/* Writes the 12-byte header for a record of n data bytes. */
void kcb__record_header(unsigned char out[KCB__RECORD_HEADER], uint64_t n);

/* Writes the 4-byte footer (masked CRC of data). */
void kcb__record_footer(unsigned char out[KCB__RECORD_FOOTER], const void *data, size_t n);

/* Frames data into out, which must hold n + 16 bytes. @return n + 16. */
size_t kcb__record_frame(unsigned char *out, const void *data, size_t n);

#endif
