/* io/idx.c — the MNIST IDX format (unsigned bytes only), plain or gzip, read through zlib. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "internal.h"

/* A sanity cap: a header promising more is corrupt, not a data set we want to allocate. */
/* The first read's size: every data set fits in a few doublings of it. */
#define IDX_FIRST_READ ((int64_t)1 << 20)
#define IDX_MAX_ELEMENTS ((int64_t)1 << 31)

/* The element types the IDX format defines, so a valid but unsupported one gets a clear message. */
static const char *idx_type_name(unsigned char type) {
  switch (type) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return NULL;
  }
}

/* zlib prefixes its messages with the path given to gzopen, "<fd:N>" for gzdopen's; ours already
 * names the file. */
static const char *zlib_message(gzFile f, const char *path, int *errnum) {
  const char *msg = gzerror(f, errnum), *fd_end = strncmp(msg, "<fd:", 4) == 0 ? strchr(msg, '>') : NULL;
  size_t n = fd_end ? (size_t)(fd_end - msg) + 1 : strncmp(msg, path, strlen(path)) == 0 ? strlen(path) : 0;
  if (n && msg[n] == ':') msg += n + (msg[n + 1] == ' ' ? 2 : 1);
  return msg;
}

/* Reads up to n bytes (short only at end of file), in chunks since gzread takes an unsigned and
 * returns an int. Checks gzerror after every call: a corrupt stream may end in a short read
 * rather than -1, and a bad CRC only shows once the trailer is read.
 * @param[out] got the number of bytes read. @return 0 or a negative kcb code. */
static int read_bytes(gzFile f, const char *path, unsigned char *buf, int64_t n, int64_t *got) {
  *got = 0;
  for (;;) {
    int64_t want = n - *got < (1 << 30) ? n - *got : (1 << 30);
    int r = want > 0 ? gzread(f, buf + *got, (unsigned)want) : 0;
    int saved_errno = errno, errnum = Z_OK;
    const char *msg = zlib_message(f, path, &errnum);
    switch (errnum) {
      case Z_OK: break;
      case Z_ERRNO:
        return kcb__error(kcb__error_from_errno(saved_errno), "%s: read failed: %s", path, strerror(saved_errno));
      case Z_BUF_ERROR: /* zlib's "unexpected end of file": the compressed stream is cut short */
        return kcb__error(KCB_ETRUNC, "%s: truncated gzip stream (zlib: %s)", path, msg);
      case Z_MEM_ERROR: return kcb__error(KCB_ENOMEM, "%s: out of memory decompressing", path);
      default: return kcb__error(KCB_EFORMAT, "%s: corrupt gzip stream (zlib: %s)", path, msg);
    }
    if (r < 0) return kcb__error(KCB_EIO, "%s: read failed", path);
    *got += r;
    if (r == 0 || *got == n) return 0;
  }
}

/* Counts the bytes left in f (only used to word the trailing-bytes error). */
static int count_rest(gzFile f, const char *path, int64_t *total) {
  unsigned char buf[4096];
  int64_t got;
  int rc;
  *total = 0;
  while ((rc = read_bytes(f, path, buf, sizeof buf, &got)) == 0 && got > 0) *total += got;
  return rc;
}

/* kcb_idx_load converting only the first `rows` items (0: all) to floats: the whole file is still
 * read and checked; *all_rows (may be NULL) gets its count of items. */
static int idx_load(kcb_tensor **out, const char *path, float scale, int64_t rows, int64_t *all_rows) {
  int rc = 0;
  gzFile f = NULL;
  unsigned char *bytes = NULL;
  kcb_tensor *t = NULL;
  if (!out || !path) return kcb__error(KCB_EINVAL, "kcb_idx_load: NULL %s", out ? "path" : "out");
  *out = NULL;

  errno = 0;
  int fd;
  if ((rc = kcb__file_open_read(path, NULL, &fd)) != 0) return rc;
  f = gzdopen(fd, "rb"); /* reads uncompressed files as-is ("transparent" mode) */
  if (!f) {
    close(fd);
    if (errno == 0) return kcb__error(KCB_ENOMEM, "%s: out of memory opening", path);
    return kcb__error(kcb__error_from_errno(errno), "%s: cannot open: %s", path, strerror(errno));
  }

  /* Magic: 0x00 0x00, type byte, rank byte. */
  unsigned char head[4 + 4 * KCB_MAX_RANK];
  int64_t got;
  KCB__TRY(read_bytes(f, path, head, 4, &got));
  if (got < 4) {
    rc = kcb__error(KCB_ETRUNC, "%s: truncated: %lld bytes, too short for an IDX header", path, (long long)got);
    goto done;
  }
  unsigned magic = (unsigned)head[0] << 24 | (unsigned)head[1] << 16 | (unsigned)head[2] << 8 | head[3];
  const char *type = idx_type_name(head[2]);
  if (head[0] != 0 || head[1] != 0 || !type) {
    rc = kcb__error(KCB_EFORMAT, "%s: bad magic 0x%08x (expected 0x0000080N for unsigned-byte IDX)", path, magic);
    goto done;
  }
  if (head[2] != 0x08) {
    rc = kcb__error(KCB_EFORMAT, "%s: unsupported IDX element type 0x%02x (%s); only 0x08 (unsigned byte) is supported",
                    path, head[2], type);
    goto done;
  }
  int rank = head[3];
  if (rank < 1 || rank > KCB_MAX_RANK) {
    rc = kcb__error(KCB_EFORMAT, "%s: magic 0x%08x gives %d dimensions, outside 1..%d", path, magic, rank, KCB_MAX_RANK);
    goto done;
  }

  /* Dimensions: rank big-endian uint32s, each > 0, product capped so nothing overflows. */
  KCB__TRY(read_bytes(f, path, head + 4, 4 * rank, &got));
  if (got < 4 * rank) {
    rc = kcb__error(KCB_ETRUNC, "%s: truncated header: magic says %d dimensions (%d bytes) but only %lld bytes follow",
                    path, rank, 4 * rank, (long long)got);
    goto done;
  }
  int64_t shape[KCB_MAX_RANK], n = 1;
  for (int i = 0; i < rank; i++) {
    const unsigned char *p = head + 4 + 4 * i;
    shape[i] = (int64_t)p[0] << 24 | (int64_t)p[1] << 16 | (int64_t)p[2] << 8 | p[3];
    if (shape[i] == 0) {
      rc = kcb__error(KCB_EFORMAT, "%s: dimension %d of %d is 0", path, i, rank);
      goto done;
    }
    n *= shape[i]; /* n <= 2^31 and shape[i] < 2^32 before this, so no overflow */
    if (n > IDX_MAX_ELEMENTS) {
      rc = kcb__error(KCB_EFORMAT, "%s: dimensions promise more than 2^31 elements", path);
      goto done;
    }
  }

  /* Data: exactly n bytes, then end of file. The buffer grows with the bytes that arrive, so a
   * header promising gigabytes in a small (or gzipped) file allocates only what the file holds. */
  int64_t cap = 0;
  got = 0;
  while (got < n) {
    int64_t want = cap == 0 ? (n < IDX_FIRST_READ ? n : IDX_FIRST_READ) : (cap > n / 2 ? n : 2 * cap);
    unsigned char *grown = realloc(bytes, (size_t)want);
    if (!grown) {
      rc = kcb__error(KCB_ENOMEM, "%s: out of memory reading %lld bytes", path, (long long)n);
      goto done;
    }
    bytes = grown;
    int64_t part;
    KCB__TRY(read_bytes(f, path, bytes + cap, want - cap, &part));
    got = cap + part;
    cap = want;
    if (got < cap) break; /* the end of the file */
  }
  if (got < n) {
    rc = kcb__error(KCB_ETRUNC, "%s: truncated: header promises %lld bytes of data, file has %lld",
                    path, (long long)n, (long long)got);
    goto done;
  }
  int64_t extra;
  KCB__TRY(count_rest(f, path, &extra)); /* also makes zlib check the gzip trailer's CRC */
  if (extra > 0) {
    rc = kcb__error(KCB_EFORMAT, "%s: %lld trailing bytes: header promises %lld bytes of data, file has %lld",
                    path, (long long)extra, (long long)n, (long long)(n + extra));
    goto done;
  }

  if (all_rows) *all_rows = shape[0];
  if (rows > 0 && rows < shape[0]) n = n / shape[0] * rows, shape[0] = rows; /* only what is used takes floats */
  if ((rc = kcb_tensor_new(&t, rank, shape))) { /* the message names the file */
    rc = kcb__error(rc, "%s: %s", path, kcb_error_last());
    goto done;
  }
  for (int64_t i = 0; i < n; i++) t->data[i] = (float)bytes[i] * scale;
  *out = t;
  t = NULL;

done:
  kcb_tensor_free(t);
  free(bytes);
  if (f) gzclose(f);
  return rc;
}

int kcb_idx_load(kcb_tensor **out, const char *path, float scale) { return idx_load(out, path, scale, 0, NULL); }

/* ---- MNIST directories ------------------------------------------------------------------- */

static const char *const mnist_names[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                           "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

/* Loads <dir>/<name>.gz, else <dir>/<name>; path receives the one used. */
static int load_either(kcb_tensor **out, char *path, size_t size, const char *dir, const char *name,
                       float scale, int is_default, int64_t rows, int64_t *all_rows) {
  int n = snprintf(path, size, "%s/%s.gz", dir, name);
  if (n < 0 || (size_t)n >= size) return kcb__error(KCB_EINVAL, "%s/%s.gz: path too long", dir, name);
  int rc = idx_load(out, path, scale, rows, all_rows);
  if (rc != KCB_ENOENT) return rc;
  path[n - 3] = '\0'; /* drop ".gz" */
  rc = idx_load(out, path, scale, rows, all_rows);
  if (rc != KCB_ENOENT) return rc;
  return kcb__error(KCB_ENOENT, "%s.gz and %s: neither exists%s", path, path,
                    is_default ? " (install Fashion-MNIST with `apt-get install dataset-fashion-mnist`)" : "");
}

int kcb_mnist_load(kcb_mnist *out, const char *dir, int64_t limit) {
  int rc = 0;
  kcb_tensor *t[4] = {NULL, NULL, NULL, NULL};
  char path[4][4096];
  if (!out) return kcb__error(KCB_EINVAL, "kcb_mnist_load: NULL out");
  memset(out, 0, sizeof *out);
  int is_default = !dir || strcmp(dir, KCB_FASHION_MNIST_DIR) == 0;
  if (!dir) dir = KCB_FASHION_MNIST_DIR;

  struct stat st; /* a file or a missing directory: said of the directory, not of four names in it */
  if (stat(dir, &st) != 0)
    return kcb__error(kcb__error_from_errno(errno), "%s: cannot open the data directory: %s%s", dir, strerror(errno),
                      is_default && errno == ENOENT ? " (install Fashion-MNIST with `apt-get install dataset-fashion-mnist`)" : "");
  if (!S_ISDIR(st.st_mode))
    return kcb__error(KCB_EINVAL, "%s: not a directory (the directory holding the four idx files, e.g. %s)", dir, KCB_FASHION_MNIST_DIR);
  int64_t all[4]; /* each file's count of items, before the limit */
  for (int i = 0; i < 4; i++)
    KCB__TRY(load_either(&t[i], path[i], sizeof path[i], dir, mnist_names[i], i % 2 ? 1.0f : 1.0f / 255.0f, is_default,
                         limit > 0 ? limit : 0, &all[i]));

  for (int i = 0; i < 4; i += 2) { /* (images, labels) pairs */
    kcb_tensor *images = t[i], *labels = t[i + 1];
    if (images->rank != 3) {
      rc = kcb__error(KCB_EFORMAT, "%s: images need 3 dimensions (n, rows, cols), file has %d", path[i], images->rank);
      goto done;
    }
    if (labels->rank != 1) {
      rc = kcb__error(KCB_EFORMAT, "%s: labels need 1 dimension (n,), file has %d", path[i + 1], labels->rank);
      goto done;
    }
    if (all[i] != all[i + 1]) {
      rc = kcb__error(KCB_EFORMAT, "%s has %lld images but %s has %lld labels", path[i], (long long)all[i], path[i + 1],
                      (long long)all[i + 1]);
      goto done;
    }
  }
  /* One model reads both sets: test images of another size would be read at the training size. */
  if (t[2]->shape[1] != t[0]->shape[1] || t[2]->shape[2] != t[0]->shape[2]) {
    rc = kcb__error(KCB_ESHAPE, "%s holds %lldx%lld images but %s holds %lldx%lld: the test set must match the training set",
                    path[2], (long long)t[2]->shape[1], (long long)t[2]->shape[2], path[0], (long long)t[0]->shape[1],
                    (long long)t[0]->shape[2]);
    goto done;
  }

  out->train_images = t[0];
  out->train_labels = t[1];
  out->test_images = t[2];
  out->test_labels = t[3];
  return 0;

done:
  for (int i = 0; i < 4; i++) kcb_tensor_free(t[i]);
  return rc;
}

void kcb_mnist_free(kcb_mnist *m) {
  if (!m) return;
  kcb_tensor_free(m->train_images);
  kcb_tensor_free(m->train_labels);
  kcb_tensor_free(m->test_images);
  kcb_tensor_free(m->test_labels);
  memset(m, 0, sizeof *m);
}
