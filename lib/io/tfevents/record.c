/* io/tfevents/record.c — TFRecord framing, written and read back. */
#include "io/tfevents/record.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "io/tfevents/crc32c.h"

void kcb__record_header(unsigned char out[KCB__RECORD_HEADER], uint64_t n) {
  kcb__store_le64(out, n);
  kcb__store_le32(out + 8, kcb__crc32c_mask(kcb__crc32c(out, 8)));
}

void kcb__record_footer(unsigned char out[KCB__RECORD_FOOTER], const void *data, size_t n) {
  kcb__store_le32(out, kcb__crc32c_mask(kcb__crc32c(data, n)));
}

size_t kcb__record_frame(unsigned char *out, const void *data, size_t n) {
  kcb__record_header(out, n);
  if (n && out + KCB__RECORD_HEADER != data) memmove(out + KCB__RECORD_HEADER, data, n);
  kcb__record_footer(out + KCB__RECORD_HEADER + n, out + KCB__RECORD_HEADER, n);
  return n + KCB__RECORD_HEADER + KCB__RECORD_FOOTER;
}

/* ---- reading ---------------------------------------------------------------------------------- */

/* 256 KiB read at a time: a chunk stays in L2 cache between the kernel's copy, the CRCs and the
 * caller's parsing (cat reads 128 KiB). */
#define READ_CHUNK ((size_t)1 << 18)

int kcb__record_reader_open(kcb__record_reader *r, const char *path) {
  memset(r, 0, sizeof *r);
  r->path = path;
  int rc = kcb__file_open_read(path, NULL, &r->fd); /* a FIFO named *tfevents* must not block */
  if (rc) return rc;
  r->cap = READ_CHUNK;
  if (!(r->buf = malloc(r->cap))) {
    close(r->fd);
    r->fd = -1;
    return kcb__error(KCB_ENOMEM, "%s: out of memory", path);
  }
#ifdef POSIX_FADV_SEQUENTIAL
  posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  return 0;
}

void kcb__record_reader_close(kcb__record_reader *r) {
  if (r->buf && r->fd >= 0) close(r->fd);
  free(r->buf);
  r->fd = -1;
  r->buf = NULL;
}

/* Keeps buf[start..end) and reads more, so that need bytes from start fit. */
static int refill(kcb__record_reader *r, size_t need) {
  size_t avail = r->end - r->start;
  if (r->start) {
    memmove(r->buf, r->buf + r->start, avail);
    r->base += r->start;
    r->start = 0;
    r->end = avail;
  }
  if (need > r->cap) {
    size_t cap = r->cap;
    while (cap < need) cap *= 2;
    unsigned char *p = realloc(r->buf, cap);
    if (!p) return kcb__error(KCB_ENOMEM, "%s: out of memory for a %zu-byte record", r->path, need);
    r->buf = p;
    r->cap = cap;
  }
  for (;;) {
    ssize_t k = read(r->fd, r->buf + r->end, r->cap - r->end);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) return kcb__error(kcb__error_from_errno(errno), "%s: read failed: %s", r->path, strerror(errno));
    if (k == 0) r->eof = 1;
    r->end += (size_t)k;
    return 0;
  }
}

int kcb__record_reader_next(kcb__record_reader *r, const kcb__record_ref **out, uint64_t *offset) {
  kcb__crc32c_job heads[KCB__RECORD_BATCH], datas[KCB__RECORD_BATCH];
  uint32_t head_crc[KCB__RECORD_BATCH], data_crc[KCB__RECORD_BATCH];
  size_t at[KCB__RECORD_BATCH];
  *out = r->batch;
  for (;;) {
    /* frame the whole records in the buffer, trusting their lengths until the CRCs are in */
    size_t n = 0, pos = r->start;
    while (n < KCB__RECORD_BATCH && r->end - pos >= KCB__RECORD_HEADER + KCB__RECORD_FOOTER) {
      const unsigned char *h = r->buf + pos;
      uint64_t len = kcb__load_le64(h);
      if (len > r->end - pos - KCB__RECORD_HEADER - KCB__RECORD_FOOTER) break;
      heads[n].data = h, heads[n].len = 8;
      datas[n].data = h + KCB__RECORD_HEADER, datas[n].len = (size_t)len;
      at[n++] = pos;
      pos += (size_t)len + KCB__RECORD_HEADER + KCB__RECORD_FOOTER;
    }
    *offset = r->base + r->start;
    if (n) {
      kcb__crc32c_batch(heads, n, head_crc);
      kcb__crc32c_batch(datas, n, data_crc);
      size_t good = 0;
      for (; good < n; good++) {
        const unsigned char *h = heads[good].data;
        if (kcb__crc32c_mask(head_crc[good]) != kcb__load_le32(h + 8)) break;
        if (kcb__crc32c_mask(data_crc[good]) != kcb__load_le32(datas[good].data + datas[good].len)) break;
        r->batch[good].data = datas[good].data;
        r->batch[good].len = datas[good].len;
        r->batch[good].offset = r->base + at[good];
      }
      if (good) {
        r->start = at[good - 1] + r->batch[good - 1].len + KCB__RECORD_HEADER + KCB__RECORD_FOOTER;
        *offset = r->base + r->start;
        return (int)good;
      }
      if (kcb__crc32c_mask(head_crc[0]) != kcb__load_le32(heads[0].data + 8))
        return kcb__error(KCB_ECRC, "%s: length CRC mismatch in the record at offset %llu", r->path,
                          (unsigned long long)*offset);
      return kcb__error(KCB_ECRC, "%s: data CRC mismatch in the record at offset %llu", r->path,
                        (unsigned long long)*offset);
    }
    /* the record at start is not whole in the buffer */
    size_t avail = r->end - r->start, need = KCB__RECORD_HEADER;
    if (avail >= KCB__RECORD_HEADER) {
      const unsigned char *h = r->buf + r->start;
      uint64_t len = kcb__load_le64(h);
      if (kcb__crc32c_mask(kcb__crc32c(h, 8)) != kcb__load_le32(h + 8))
        return kcb__error(KCB_ECRC, "%s: length CRC mismatch in the record at offset %llu", r->path,
                          (unsigned long long)*offset);
      if (len > ((uint64_t)1 << 40))
        return kcb__error(KCB_ETRUNC, "%s: truncated record at offset %llu (it claims %llu bytes, more than any event "
                          "file holds)", r->path, (unsigned long long)*offset, (unsigned long long)len);
      need = (size_t)len + KCB__RECORD_HEADER + KCB__RECORD_FOOTER;
      /* A record larger than the buffer: its length is believed only if the file holds it, so a
       * corrupt length cannot make the reader allocate gigabytes. */
      struct stat st;
      if (need > r->cap && fstat(r->fd, &st) == 0 && (uint64_t)st.st_size < *offset + need)
        return kcb__error(KCB_ETRUNC, "%s: truncated record at offset %llu (%llu of %zu bytes present)", r->path,
                          (unsigned long long)*offset,
                          (unsigned long long)((uint64_t)st.st_size > *offset ? (uint64_t)st.st_size - *offset : 0),
                          need);
    }
    if (r->eof) {
      if (avail == 0) return 0;
      if (avail < KCB__RECORD_HEADER)
        return kcb__error(KCB_ETRUNC, "%s: truncated record at offset %llu (%zu bytes of a 12-byte header)", r->path,
                          (unsigned long long)*offset, avail);
      return kcb__error(KCB_ETRUNC, "%s: truncated record at offset %llu (%zu of %zu bytes present)", r->path,
                        (unsigned long long)*offset, avail, need);
    }
    int rc = refill(r, need);
    if (rc) return rc;
  }
}
