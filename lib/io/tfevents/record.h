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

/* ---- reading -------------------------------------------------------------------------------- */

#define KCB__RECORD_BATCH 256

/* A whole record, both CRCs checked. */
typedef struct kcb__record_ref {
  const unsigned char *data; /* len bytes, inside the reader's buffer */
  size_t len;
  uint64_t offset; /* of the record's header in the file */
} kcb__record_ref;

/* Reads one file's records in batches: read() into a buffer of whole records (no mmap, so a file
 * truncated meanwhile is an error, not a SIGBUS), framing, then the CRCs of the batch at once. */
typedef struct kcb__record_reader {
  const char *path; /* borrowed, for messages */
  int fd;
  unsigned char *buf;
  size_t cap, start, end; /* unread bytes: buf[start..end) */
  uint64_t base;          /* file offset of buf[0] */
  int eof;
  kcb__record_ref batch[KCB__RECORD_BATCH];
} kcb__record_reader;

/* Opens path (which must outlive r). @return 0 or KCB_E* (message set). */
int kcb__record_reader_open(kcb__record_reader *r, const char *path);

/* Closes the file and frees the buffer; safe on a reader whose open failed or was zeroed. */
void kcb__record_reader_close(kcb__record_reader *r);

/* The next whole, checked records: *out = r->batch, valid until the next call. The records before
 * a bad one come first; the bad one is the next call's error.
 * @param[out] offset where the next record starts (the bad one on an error)
 * @return the number of records, 0 at a clean end of file, or KCB_ETRUNC / KCB_ECRC (message:
 * file, offset and what is wrong), KCB_ENOMEM, an I/O code. */
int kcb__record_reader_next(kcb__record_reader *r, const kcb__record_ref **out, uint64_t *offset);

#endif
