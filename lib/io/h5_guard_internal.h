/* io/h5_guard_internal.h — what the guard's files share (see h5_guard.h): the file's bytes as
 * libhdf5 reads them, little-endian fields, and the message checks each file provides. */
#ifndef KCB_IO_H5_GUARD_INTERNAL_H
#define KCB_IO_H5_GUARD_INTERNAL_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The file's bytes, through the driver HDF5 opened it with. */
typedef struct src {
  const uint8_t *mem; /* core driver: the image */
  int fd;             /* sec2 driver: its descriptor (pread only, HDF5's offset is untouched) */
  uint64_t size;      /* bytes in the file */
  uint64_t base;      /* HDF5 addresses are relative to the end of the user block */
  unsigned sa, sl;    /* sizes of addresses and lengths */
  hid_t key;          /* the open file's id when reads may be served from h5_guard.c's window; else -1 */
} src;

static inline uint64_t le(const uint8_t *p, unsigned n) {
  uint64_t v = 0;
  for (unsigned i = n; i-- > 0;) v = v << 8 | p[i];
  return v;
}

static inline uint64_t pad8(uint64_t n) { return (n + 7) & ~(uint64_t)7; }

/* Whether the n-byte address at p is HDF5's undefined address (all bits set). */
static inline int is_undef(const uint8_t *p, unsigned n) {
  for (unsigned i = 0; i < n; i++)
    if (p[i] != 0xff) return 0;
  return 1;
}

/* 0, or -1 when [off, off + n) is not inside the file or cannot be read. In h5_guard.c. */
int kcb__h5_guard_src_read(const src *s, uint64_t off, uint64_t n, void *dst);

static inline int src_read(const src *s, uint64_t off, uint64_t n, void *dst) { return kcb__h5_guard_src_read(s, off, n, dst); }

/* n bytes at off in a malloc'd buffer, or NULL (outside the file, I/O error, no memory). */
static inline uint8_t *src_load(const src *s, uint64_t off, uint64_t n) {
  if (off > s->size || n > s->size - off) return NULL;
  uint8_t *b = malloc(n ? (size_t)n : 1);
  if (b && src_read(s, off, n, b) != 0) {
    free(b);
    b = NULL;
  }
  return b;
}

/* What is wrong with attribute message d (n bytes) that libhdf5 1.10's decoder would not notice,
 * or NULL (why, ws: room for the description). In h5_guard.c. */
const char *kcb__h5_guard_attr_problem(const src *s, const uint8_t *d, uint64_t n, char *why, size_t ws);

/* The same for a link message (0x06, format spec §IV.A.2.g). In h5_guard_dense.c. */
const char *kcb__h5_guard_link_problem(const src *s, const uint8_t *d, uint64_t n, char *why, size_t ws);

/* The same for a filter pipeline message (0x0b, format spec §IV.A.2.l). In h5_guard_dense.c. */
const char *kcb__h5_guard_pipeline_problem(const uint8_t *d, uint64_t n, char *why, size_t ws);

/* The same for a data layout message (0x08, format spec §IV.A.2.i): a chunked dataset's index (a
 * version 1 B-tree, walked; other indexes of version 4 layouts refused). In h5_guard_dense.c. */
const char *kcb__h5_guard_layout_problem(const src *s, const uint8_t *d, uint64_t n, char *why, size_t ws);

/* The same for a dataspace (0x01), old or new fill value (0x04, 0x05), external file list (0x07,
 * refused) or comment (0x0d) message, or a shared one (type | 0x200, refused). In h5_guard_dense.c. */
const char *kcb__h5_guard_misc_problem(const src *s, unsigned type, const uint8_t *d, uint64_t n, char *why, size_t ws);

/* The same for a Link Info (0x02) or Attribute Info (0x15) message and the dense storage it names:
 * its fractal heap, its v2 B-trees and every link or attribute message stored there. In
 * h5_guard_dense.c. */
const char *kcb__h5_guard_dense_problem(const src *s, unsigned type, const uint8_t *d, uint64_t n, char *why, size_t ws);

#endif
