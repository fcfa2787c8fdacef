/* io/h5_guard.c — checks of a file's own bytes before libhdf5 1.10 trusts them (see h5_guard.h).
 * libhdf5 1.10 decodes an attribute message without comparing its name, type, shape and data sizes
 * with the message's size; decodes a global heap collection without bounds checks (free space of
 * size 0 loops forever, an object past the collection is read past it); and H5HG_read indexes the
 * object table with an unchecked index, copying the object's size into a buffer sized by the vlen
 * element's own length. So we walk object headers ourselves (bounds-checked), check attribute
 * messages, and for a vlen string attribute check what each heap ID names before H5Aread.
 * Formats: HDF5 File Format Specification, §III.E (global heap), §IV.A (object headers),
 * §IV.A.2.m (attribute message), §IV.A.2.d (datatype: a vlen element on disk is a 4-byte length
 * then a global heap ID: address, 4-byte object index), §IV.A.2.b (dataspace). */
#include "io/h5_guard.h"
#include "io/h5_guard_internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* The last few WINDOW-byte stretches of a file read: object headers, heaps and messages lie in a few
 * places (metadata at the start, heaps at the end), and reading each with its own pread cost more
 * than the checks. Keyed by the file's HDF5 id, which libhdf5 never hands out twice, and only for
 * read-only files, whose bytes do not change. */
#define WINDOW 16384
#define WINDOWS 4
static _Thread_local struct {
  hid_t key;
  unsigned next; /* the slot to refill next */
  uint64_t at[WINDOWS], len[WINDOWS];
  uint8_t bytes[WINDOWS][WINDOW];
} window = {H5I_INVALID_HID, 0, {0}, {0}, {{0}}};

int kcb__h5_guard_src_read(const src *s, uint64_t off, uint64_t n, void *dst) {
  if (off > s->size || n > s->size - off) return -1;
  if (s->mem) {
    memcpy(dst, s->mem + off, (size_t)n);
    return 0;
  }
  if (s->key >= 0 && n <= WINDOW / 2) {
    if (window.key != s->key) memset(window.len, 0, sizeof window.len), window.key = s->key;
    unsigned w = 0;
    while (w < WINDOWS && !(off >= window.at[w] && off + n <= window.at[w] + window.len[w])) w++;
    if (w == WINDOWS) {
      w = window.next++ % WINDOWS;
      uint64_t at = off & ~(uint64_t)(WINDOW / 2 - 1), len = s->size - at < WINDOW ? s->size - at : WINDOW;
      window.len[w] = 0;
      for (uint64_t done = 0; done < len;) {
        ssize_t r = pread(s->fd, window.bytes[w] + done, (size_t)(len - done), (off_t)(at + done));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        done += (uint64_t)r;
      }
      window.at[w] = at, window.len[w] = len;
    }
    memcpy(dst, window.bytes[w] + (off - window.at[w]), (size_t)n);
    return 0;
  }
  for (uint64_t done = 0; done < n;) {
    ssize_t r = pread(s->fd, (uint8_t *)dst + done, (size_t)(n - done), (off_t)(off + done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    done += (uint64_t)r;
  }
  return 0;
}

/* The last file src_open looked up: finding a file's driver copies two property lists, which
 * costs more than the checks themselves when a reader walks many objects of one file. An open
 * file keeps its id (HDF5 does not hand an id out twice), so the id is the key. */
static _Thread_local struct {
  hid_t fid;
  int ok;
  src s;
} last_src = {H5I_INVALID_HID, 0, {NULL, -1, 0, 0, 0, 0, H5I_INVALID_HID}};

static int src_open_uncached(src *s, hid_t obj);

/* 0 when the file's bytes are reachable; -1 otherwise (other drivers: no guard). */
static int src_open(src *s, hid_t obj) {
  hid_t fid = H5Iget_file_id(obj);
  if (fid < 0) {
    H5Eclear2(H5E_DEFAULT);
    return src_open_uncached(s, obj);
  }
  /* a file the guard cannot read (written to, another driver) stays so while its id lives */
  if (fid == last_src.fid && !last_src.ok) {
    H5Fclose(fid);
    return -1;
  }
  /* a core-driver image may move as HDF5 grows it: only read-only files are cached, whose buffer stays */
  if (fid == last_src.fid && last_src.ok) {
    /* and the same bytes: the descriptor or image HDF5 reads through is the cached one */
    void *h = NULL;
    int same = H5Fget_vfd_handle(fid, H5P_DEFAULT, &h) >= 0 && h &&
               (last_src.s.mem ? *(const uint8_t **)h == last_src.s.mem : *(int *)h == last_src.s.fd);
    H5Eclear2(H5E_DEFAULT);
    if (same) {
      *s = last_src.s;
      H5Fclose(fid);
      return 0;
    }
  }
  int rc = src_open_uncached(s, obj);
  s->key = rc == 0 ? fid : H5I_INVALID_HID;
  last_src.fid = fid;
  last_src.ok = rc == 0;
  last_src.s = *s;
  H5Fclose(fid);
  return rc;
}

static int src_open_uncached(src *s, hid_t obj) {
  memset(s, 0, sizeof *s);
  s->fd = -1;
  s->key = H5I_INVALID_HID;
  hid_t fid = H5Iget_file_id(obj);
  hid_t fapl = fid < 0 ? H5I_INVALID_HID : H5Fget_access_plist(fid);
  hid_t fcpl = fid < 0 ? H5I_INVALID_HID : H5Fget_create_plist(fid);
  hid_t drv = fapl < 0 ? H5I_INVALID_HID : H5Pget_driver(fapl);
  size_t sa = 0, sl = 0;
  hsize_t ub = 0, fsize = 0;
  void *h = NULL;
  unsigned intent = H5F_ACC_RDWR;
  /* Only files opened read-only: a file being written has metadata not yet in its bytes. */
  int ok = fid >= 0 && H5Fget_intent(fid, &intent) >= 0 && !(intent & H5F_ACC_RDWR) && fcpl >= 0 && drv >= 0 &&
           H5Pget_sizes(fcpl, &sa, &sl) >= 0 && H5Pget_userblock(fcpl, &ub) >= 0 && sa >= 2 && sa <= 8 && sl >= 2 &&
           sl <= 8 && H5Fget_vfd_handle(fid, H5P_DEFAULT, &h) >= 0 && h;
  if (ok && drv == H5FD_CORE && H5Fget_filesize(fid, &fsize) >= 0) {
    s->mem = *(const uint8_t **)h; /* the core driver hands out where it keeps its buffer */
    s->size = fsize;
  } else if (ok && drv == H5FD_SEC2) {
    struct stat st;
    s->fd = *(int *)h;
    ok = fstat(s->fd, &st) == 0 && st.st_size >= 0;
    if (ok) s->size = (uint64_t)st.st_size;
  } else {
    ok = 0;
  }
  /* libhdf5 reads nothing past the end of allocated space (EOA) the superblock gives, less than the
   * file's size when the superblock says so (its base address moved): a block there fails to load,
   * which in the middle of an iteration takes libhdf5 into error paths that free twice. Structures
   * must lie before both ends. */
  haddr_t eoa = 0;
  if (ok && H5Fget_eoa(fid, &eoa) >= 0 && eoa != HADDR_UNDEF && eoa < s->size) s->size = eoa; /* absolute: user block included */
  if (fapl >= 0) H5Pclose(fapl);
  if (fid >= 0) H5Fclose(fid);
  H5Eclear2(H5E_DEFAULT);
  s->base = ub;
  s->sa = (unsigned)sa;
  s->sl = (unsigned)sl;
  /* Make sure these are the bytes HDF5 reads: the signature starts the superblock at the base. */
  uint8_t sig[8];
  if (!ok || src_read(s, s->base, 8, sig) != 0 || memcmp(sig, "\211HDF\r\n\032\n", 8) != 0) return -1;
  return 0;
}

/* ---- the attribute's bytes ------------------------------------------------------------------ */

#define MAX_CHUNKS 256


/* If d (an attribute message of n bytes) is attribute `name` of a variable-length type, sets *data
 * to where its data starts, *base to the size of the type's elements (characters for a string),
 * *vsize to the size of one stored element (length and heap ID) and returns 1. A shared datatype (not decodable here) is not a match. */
static int attr_match(const uint8_t *d, uint64_t n, const char *name, uint64_t *data, uint64_t *base,
                      uint64_t *vsize) {
  if (n < 9) return 0;
  unsigned ver = d[0], flags = d[1];
  uint64_t nsz = le(d + 2, 2), tsz = le(d + 4, 2), ssz = le(d + 6, 2), at, dt;
  if (ver == 1) at = 8, dt = at + pad8(nsz), *data = dt + pad8(tsz) + pad8(ssz), flags = 0;
  else if (ver == 2) at = 8, dt = at + nsz, *data = dt + tsz + ssz;
  else if (ver == 3) at = 9, dt = at + nsz, *data = dt + tsz + ssz;
  else return 0;
  size_t len = strlen(name);
  if (*data > n || nsz != len + 1 || memcmp(d + at, name, len) != 0 || d[at + len] != '\0') return 0;
  /* A vlen datatype: class 9 in the low bits of its first byte; its properties start with the
   * base type, whose size is at offset 4 of its own 8-byte header. */
  if ((flags & 1) || tsz < 16 || (d[dt] & 0x0f) != 9) return 0;
  *base = le(d + dt + 12, 4);
  *vsize = le(d + dt + 4, 4);
  return 1;
}

/* Calls visit(ctx, type, message, size) for each attribute (0x0c), symbol table (0x11), link info
 * (0x02), link (0x06), attribute info (0x15), filter pipeline (0x0b), data layout (0x08) and driver
 * info (0x14) message,
 * and each datatype (0x03;
 * 0x103 when shared), stored in the object header at address `addr` (v1 or v2, continuation chunks followed) until it
 * returns nonzero, which is returned. 0 also when the header cannot be walked (libhdf5 reports
 * that itself); a chunk past the end of the file stops the walk and is reported in *bad_at and
 * *bad_len if given. */
typedef int (*attr_visit)(void *ctx, unsigned type, const uint8_t *d, uint64_t n);

static int walk_attrs(const src *s, uint64_t addr, attr_visit visit, void *ctx, uint64_t *bad_at, uint64_t *bad_len) {
  uint64_t at = s->base + addr, chunk_at[MAX_CHUNKS], chunk_len[MAX_CHUNKS];
  uint8_t pre[40];
  int nchunks = 1, v2, hflags = 0, stop = 0;
  if (addr > s->size || src_read(s, at, 16, pre) != 0) return 0;
  if (pre[0] == 1) { /* version 1: 16-byte prefix, then the first chunk */
    v2 = 0;
    chunk_at[0] = at + 16;
    chunk_len[0] = le(pre + 8, 4);
  } else if (memcmp(pre, "OHDR", 4) == 0 && pre[4] == 2) {
    v2 = 1;
    hflags = pre[5];
    uint64_t p = 6 + ((hflags & 0x20) ? 16 : 0) + ((hflags & 0x10) ? 4 : 0);
    unsigned w = 1u << (hflags & 3);
    if (src_read(s, at, p + w, pre) != 0) return 0;
    chunk_at[0] = at + p + w;
    chunk_len[0] = le(pre + p, w);
  } else {
    return 0;
  }
  unsigned mhdr = v2 ? 4 + ((hflags & 0x04) ? 2 : 0) : 8;
  for (int c = 0; c < nchunks && !stop; c++) {
    if (chunk_at[c] > s->size || chunk_len[c] > s->size - chunk_at[c]) { /* libhdf5 would allocate it first */
      if (bad_at) *bad_at = chunk_at[c], *bad_len = chunk_len[c];
      break;
    }
    uint8_t *b = src_load(s, chunk_at[c], chunk_len[c]);
    if (!b) break;
    uint64_t p = 0, end = chunk_len[c];
    if (v2 && c > 0) { /* continuation chunks: "OCHK", messages, checksum */
      if (end < 8 || memcmp(b, "OCHK", 4) != 0) {
        free(b);
        break;
      }
      p = 4;
      end -= 4;
    }
    while (!stop && end - p >= mhdr) {
      unsigned type = v2 ? b[p] : (unsigned)le(b + p, 2);
      uint64_t size = le(b + p + (v2 ? 1 : 2), 2);
      unsigned mflags = b[p + (v2 ? 3 : 4)];
      p += mhdr;
      if (size > end - p) break;
      /* libhdf5 decodes a continuation's address and length whatever the message's size says. */
      if (type == 0x10 && end - p >= (uint64_t)s->sa + s->sl && nchunks < MAX_CHUNKS) {
        chunk_at[nchunks] = s->base + le(b + p, s->sa);
        chunk_len[nchunks++] = le(b + p + s->sa, s->sl);
      } else if ((type == 0x0c || type == 0x11 || type == 0x14 || type == 0x02 || type == 0x06 || type == 0x15 ||
                  type == 0x0b || type == 0x08 || type == 0x01 || type == 0x04 || type == 0x05 || type == 0x07 ||
                  type == 0x0d) &&
                 !(mflags & 0x02)) { /* not a shared message */
        stop = visit(ctx, type, b + p, size);
      } else if ((mflags & 0x02) && (type == 0x01 || type == 0x05 || type == 0x0b || type == 0x0c)) {
        stop = visit(ctx, type | 0x200u, b + p, size); /* shared: decoded from elsewhere */
      } else if (type == 0x03) { /* a datatype: 0x103 when shared (stored in another object header) */
        stop = visit(ctx, type | ((mflags & 0x02) ? 0x100u : 0u), b + p, size);
      }
      p += size;
    }
    free(b);
  }
  return stop;
}

typedef struct find_ctx {
  const char *name;
  uint8_t *msg;
  uint64_t len, data, base, vsize;
} find_ctx;

static int find_visit(void *ctx, unsigned type, const uint8_t *d, uint64_t n) {
  find_ctx *f = ctx;
  if (type != 0x0c || !attr_match(d, n, f->name, &f->data, &f->base, &f->vsize)) return 0;
  if ((f->msg = malloc(n ? (size_t)n : 1)) == NULL) return -1;
  memcpy(f->msg, d, (size_t)n);
  f->len = n;
  return 1;
}

/* What is wrong with the datatype encoded in d (n bytes; format spec §IV.A.2.d) that libhdf5 1.10
 * would not notice, or NULL; *used gets its encoded length. libhdf5 copies a compound member's or
 * an enumeration's names up to a NUL wherever it lies, takes member offsets and sizes on trust
 * (type conversion then copies past the element), and nests datatypes without a bound. So: every
 * name terminated inside the message, every member inside its compound, known classes and
 * versions, dimension counts within HDF5's 32, and at most 16 levels of nesting. */
static const char *dtype_problem(const uint8_t *d, uint64_t n, int depth, uint64_t *used, char *why, size_t ws) {
#define DT_FAIL(...) return snprintf(why, ws, __VA_ARGS__), why
  if (depth > 16) DT_FAIL("its datatype nests more than 16 levels deep");
  if (n < 8) DT_FAIL("a datatype of %llu bytes is cut short", (unsigned long long)n);
  unsigned cls = d[0] & 0x0f, ver = d[0] >> 4, bits = d[1] | (unsigned)d[2] << 8 | (unsigned)d[3] << 16;
  uint64_t size = le(d + 4, 4), p = 8;
  if (ver < 1 || ver > 3) DT_FAIL("a datatype of version %u", ver);
  static const uint8_t props[11] = {4, 12, 2, 0, 4, 0, 0, 0, 0, 0, 0};
  switch (cls) {
    case 0: case 1: case 2: case 3: case 4: case 7:
      if (n - p < props[cls]) DT_FAIL("a datatype of class %u is cut short", cls);
      if (size == 0 && cls != 3) DT_FAIL("a datatype of class %u has size 0", cls);
      if (cls == 0 || cls == 1 || cls == 4) { /* bit offset and precision, then a float's fields */
        uint64_t off = le(d + p, 2), prec = le(d + p + 2, 2);
        /* type conversion extracts these bits from each element: they must lie inside it */
        if (size > 16 || prec == 0 || off + prec > 8 * size)
          DT_FAIL("a number type of %llu bytes with %llu bits at bit %llu", (unsigned long long)size,
                  (unsigned long long)prec, (unsigned long long)off);
        if (cls == 1) {
          unsigned epos = d[p + 4], esize = d[p + 5], mpos = d[p + 6], msize = d[p + 7];
          if (esize == 0 || esize > 32 || msize == 0 || epos + esize > prec || mpos + msize > prec)
            DT_FAIL("a float type whose exponent (%u bits at %u) or mantissa (%u bits at %u) lies outside its %llu bits",
                    esize, epos, msize, mpos, (unsigned long long)prec);
        }
      }
      p += props[cls];
      break;
    case 5: { /* opaque: a tag of (bits & 0xff) bytes */
      uint64_t tag = bits & 0xff;
      if (n - p < tag) DT_FAIL("an opaque datatype's tag runs past the message");
      p += tag;
      break;
    }
    case 6: case 8: { /* compound: members; enumeration: a base type, names, values */
      uint64_t members = bits & 0xffff, base_size = 0;
      if (members == 0) DT_FAIL("a %s datatype with no members", cls == 6 ? "compound" : "enumeration");
      if (cls == 8) {
        uint64_t u = 0;
        const char *bp = dtype_problem(d + p, n - p, depth + 1, &u, why, ws);
        if (bp) return bp;
        base_size = le(d + p + 4, 4);
        p += u;
      }
      for (uint64_t m = 0; m < members; m++) {
        const uint8_t *nul = p < n ? memchr(d + p, 0, (size_t)(n - p)) : NULL;
        if (!nul) DT_FAIL("a %s member's name is not terminated inside the message", cls == 6 ? "compound" : "enumeration");
        uint64_t len = (uint64_t)(nul - (d + p)) + 1;
        len = ver < 3 ? pad8(len) : len;
        if (len > n - p) DT_FAIL("a member's name runs past the message");
        p += len;
        if (cls == 8) continue;
        uint64_t off_size = ver < 3 ? 4 : size < 256 ? 1 : size < 65536 ? 2 : size < (1u << 24) ? 3 : 4;
        if (n - p < off_size) DT_FAIL("a compound member's offset runs past the message");
        uint64_t off = le(d + p, (unsigned)off_size);
        p += off_size;
        if (ver == 1) {
          if (n - p < 28) DT_FAIL("a compound member's dimensions run past the message");
          if (d[p] > 4) DT_FAIL("a compound member of %u dimensions", d[p]);
          p += 28;
        }
        uint64_t u = 0;
        const char *mp = dtype_problem(d + p, n - p, depth + 1, &u, why, ws);
        if (mp) return mp;
        uint64_t msize = le(d + p + 4, 4);
        if (ver == 1) /* a version 1 member may be an array of up to 4 dimensions */
          for (unsigned k = 0; k < d[p - 28]; k++) {
            uint64_t dim = le(d + p - 16 + 4 * k, 4);
            msize = dim && msize > UINT64_MAX / dim ? UINT64_MAX : msize * dim;
          }
        if (off > size || msize > size - off)
          DT_FAIL("a compound member of %llu bytes at offset %llu lies outside its %llu-byte compound",
                  (unsigned long long)msize, (unsigned long long)off, (unsigned long long)size);
        p += u;
      }
      if (cls == 8) {
        if (base_size && members > (n - p) / base_size) DT_FAIL("an enumeration's values run past the message");
        p += members * base_size;
      }
      break;
    }
    case 9: { /* variable-length: a base type */
      uint64_t u = 0;
      const char *bp = dtype_problem(d + p, n - p, depth + 1, &u, why, ws);
      if (bp) return bp;
      p += u;
      break;
    }
    case 10: { /* array: rank, dimensions (and permutations before version 3), a base type */
      if (ver < 2) DT_FAIL("an array datatype of version 1");
      if (n - p < 4) DT_FAIL("an array datatype is cut short");
      unsigned rank = d[p];
      if (rank < 1 || rank > 32) DT_FAIL("an array datatype of %u dimensions", rank);
      uint64_t dims_at = p + (ver < 3 ? 4 : 1), need = (ver < 3 ? 4 : 1) + 4ull * rank * (ver < 3 ? 2 : 1);
      if (n - p < need) DT_FAIL("an array datatype's dimensions run past the message");
      for (unsigned k = 0; k < rank; k++)
        if (le(d + dims_at + 4 * k, 4) == 0) DT_FAIL("an array datatype with a dimension of 0");
      p += need;
      uint64_t u = 0;
      const char *bp = dtype_problem(d + p, n - p, depth + 1, &u, why, ws);
      if (bp) return bp;
      p += u;
      break;
    }
    default: DT_FAIL("a datatype of unknown class %u", cls);
  }
  *used = p;
  return NULL;
#undef DT_FAIL
}

/* What is wrong with attribute message d (n bytes) that libhdf5 1.10's decoder would not notice
 * (it copies the name up to a NUL and nelmts x type-size data bytes without looking at n), or NULL. */
const char *kcb__h5_guard_attr_problem(const src *s, const uint8_t *d, uint64_t n, char *why, size_t why_size) {
  /* What libhdf5 refuses itself is refused here too: in dense storage it would refuse it in the
   * middle of an iteration, whose error paths are not to be trusted. */
  if (n < 8) return snprintf(why, why_size, "an attribute message of %llu bytes is cut short", (unsigned long long)n), why;
  if (d[0] < 1 || d[0] > 3) return snprintf(why, why_size, "an attribute message of version %u", d[0]), why;
  unsigned ver = d[0], flags = ver == 1 ? 0 : d[1];
  if (flags & ~3u) return snprintf(why, why_size, "an attribute message with unknown flags 0x%02x", flags), why;
  uint64_t nsz = le(d + 2, 2), tsz = le(d + 4, 2), ssz = le(d + 6, 2), at = ver == 3 ? 9 : 8, dt, ds, data;
  if (ver == 1) dt = at + pad8(nsz), ds = dt + pad8(tsz), data = ds + pad8(ssz);
  else dt = at + nsz, ds = dt + tsz, data = ds + ssz;
  if (data > n) {
    snprintf(why, why_size, "its name, type and shape (%llu bytes) overrun the message (%llu bytes)",
             (unsigned long long)data, (unsigned long long)n);
    return why;
  }
  const uint8_t *nul = nsz ? memchr(d + at, 0, (size_t)nsz) : NULL;
  if (!nul) return snprintf(why, why_size, "its name is not terminated"), why;
  if (nul != d + at + nsz - 1) return snprintf(why, why_size, "its name is shorter than its stored length"), why;
  if (flags & 1) return snprintf(why, why_size, "its datatype is shared (a committed datatype elsewhere), which kcb's "
                                 "and Keras's files never use"), why;
  uint64_t used = 0;
  const char *dp = dtype_problem(d + dt, tsz, 0, &used, why, why_size);
  if (dp) return dp;
  if (flags & 2) return snprintf(why, why_size, "its dataspace is shared (stored elsewhere), which kcb does not read"), why;
  if (ssz < 1 || (d[ds] != 1 && d[ds] != 2)) return snprintf(why, why_size, "its dataspace is of an unknown version"), why;
  if (ssz >= 2 && d[ds + 1] > 32) return snprintf(why, why_size, "its dataspace has %u dimensions", d[ds + 1]), why;
  if (tsz < 8 || ssz < 4) return NULL;
  uint64_t esize = le(d + dt + 4, 4), rank = d[ds + 1], dims = ds + (d[ds] == 1 ? 8 : 4), count = 1;
  if (d[ds] == 2 && d[ds + 3] == 2) count = 0; /* a null dataspace */
  if (dims + rank * s->sl > ds + ssz) return snprintf(why, why_size, "its shape overruns its %llu bytes", (unsigned long long)ssz), why;
  for (uint64_t i = 0; i < rank && count; i++) {
    uint64_t dim = le(d + dims + i * s->sl, s->sl);
    count = dim && count > UINT64_MAX / dim ? UINT64_MAX : count * dim;
  }
  if (count && (esize == 0 || count > (n - data) / esize || esize > (n - data) / count)) {
    snprintf(why, why_size, "%llu value(s) of %llu bytes overrun the %llu bytes of data", (unsigned long long)count,
             (unsigned long long)esize, (unsigned long long)(n - data));
    return why;
  }
  return NULL;
}

typedef struct check_ctx {
  const src *s;
  char why[400];
  const char *problem;
  const char *what; /* the kind of message with the problem */
  /* a dataset's dataspace (its largest extent per dimension) and chunk shape, compared after the walk */
  int space_rank, chunk_rank; /* -1: not seen */
  uint64_t space_max[32], chunk[33];
} check_ctx;

#define CHECK_CTX(s) {(s), "", NULL, "", -1, -1, {0}, {0}}

/* Notes what check_visit needs to compare a dataset's chunks with its shape. */
static void note_shape(check_ctx *c, unsigned type, const uint8_t *d, uint64_t n) {
  const src *s = c->s;
  if (type == 0x01 && n >= 4 && (d[0] == 1 || d[0] == 2) && d[1] <= 32 &&
      (d[0] == 1 ? 8u : 4u) + (uint64_t)d[1] * s->sl * ((d[2] & 1) ? 2 : 1) <= n) {
    unsigned rank = d[1], has_max = d[2] & 1;
    const uint8_t *dims = d + (d[0] == 1 ? 8 : 4), *max = dims + (uint64_t)rank * s->sl;
    c->space_rank = (int)rank;
    for (unsigned i = 0; i < rank; i++)
      c->space_max[i] = !has_max ? le(dims + i * s->sl, s->sl) : is_undef(max + i * s->sl, s->sl) ? UINT64_MAX
                                                                  : le(max + i * s->sl, s->sl);
  } else if (type == 0x08 && n >= 5 && d[1] == 2 && (d[0] == 3 || d[0] == 4)) { /* checked by ..._layout_problem */
    unsigned dims = d[0] == 3 ? d[2] : d[3], w = d[0] == 3 ? 4 : d[4];
    const uint8_t *at = d[0] == 3 ? d + 3 + s->sa : d + 5;
    if (dims < 2 || dims > 33 || w < 1 || w > 8 || (uint64_t)(at - d) + (uint64_t)dims * w > n) return;
    c->chunk_rank = (int)dims - 1; /* the last is the element's size */
    for (unsigned i = 0; i + 1 < dims; i++) c->chunk[i] = le(at + i * w, w);
  }
}

/* After a header's walk: chunks no larger than the dataset can grow (h5py refuses others). libhdf5
 * 1.10 reads a chunk larger than its dataset out of bounds (a segfault in H5D__select_read copying
 * out of a 16384 x 16384 chunk of a 4 x 8 dataset). */
static int chunk_shape_problem(check_ctx *c) {
  if (c->space_rank < 0 || c->chunk_rank < 0) return 0;
  c->what = "data layout";
  if (c->chunk_rank != c->space_rank) {
    snprintf(c->why, sizeof c->why, "chunks of %d dimensions for a dataset of %d", c->chunk_rank, c->space_rank);
    c->problem = c->why;
    return 1;
  }
  for (int i = 0; i < c->chunk_rank; i++) {
    uint64_t most = c->space_max[i] ? c->space_max[i] : 1;
    if (c->chunk[i] > most) {
      snprintf(c->why, sizeof c->why, "chunks of %llu elements along dimension %d of a dataset that holds at most %llu",
               (unsigned long long)c->chunk[i], i, (unsigned long long)most);
      c->problem = c->why;
      return 1;
    }
  }
  return 0;
}

/* A group's symbol table message names its local heap, whose data segment libhdf5 allocates at the
 * size the heap gives before reading it. */
static const char *symbol_table_problem(const src *s, const uint8_t *d, uint64_t n, char *why, size_t why_size) {
  uint8_t h[40];
  if (n < 2u * s->sa) {
    snprintf(why, why_size, "its symbol table message has %llu bytes, too few for two addresses", (unsigned long long)n);
    return why;
  }
  uint64_t btree = le(d, s->sa), heap = le(d + s->sa, s->sa), hsize = 8 + 2 * s->sl + s->sa;
  /* libhdf5 1.10 looks a name up in the B-tree and heap wherever the message says, an undefined
   * address included (it then copies from a NULL buffer in H5F__accum_read): both must be inside
   * the file and be what the message says they are. */
  int in_file = s->base <= s->size && btree <= s->size - s->base && 4 <= s->size - s->base - btree;
  if (!in_file || src_read(s, s->base + btree, 4, h) != 0 || memcmp(h, "TREE", 4) != 0) {
    snprintf(why, why_size, "its group's B-tree address %llu is not a B-tree node inside the file (%llu bytes)",
             (unsigned long long)btree, (unsigned long long)s->size);
    return why;
  }
  in_file = heap <= s->size - s->base && hsize <= s->size - s->base - heap;
  if (!in_file || src_read(s, s->base + heap, hsize, h) != 0 || memcmp(h, "HEAP", 4) != 0) {
    snprintf(why, why_size, "its group's local heap address %llu is not a local heap inside the file (%llu bytes)",
             (unsigned long long)heap, (unsigned long long)s->size);
    return why;
  }
  uint64_t size = le(h + 8, s->sl), at = le(h + 8 + 2 * s->sl, s->sa);
  if (at > s->size || size > s->size - at) {
    snprintf(why, why_size, "its group's local heap at offset %llu has %llu bytes of data at offset %llu, past the end of "
             "the file (%llu bytes)", (unsigned long long)(s->base + heap), (unsigned long long)size,
             (unsigned long long)at, (unsigned long long)s->size);
    return why;
  }
  /* The heap's free list (offset, then each block's next offset and size): libhdf5 1.10 follows it
   * allocating a node per block, so a list that loops allocates until memory runs out. Each block
   * takes at least two lengths of the heap, which bounds how many there can be. */
  uint64_t off = le(h + 8 + s->sl, s->sl), undef = s->sl >= 8 ? UINT64_MAX : ((uint64_t)1 << (8 * s->sl)) - 1;
  for (uint64_t count = 0; off != 1 && off != undef; count++) { /* 1: H5HL_FREE_NULL, the end */
    uint8_t blk[16];
    if (count > size / (2 * s->sl) || off > size || 2 * s->sl > size - off ||
        src_read(s, s->base + at + off, 2 * s->sl, blk) != 0) {
      snprintf(why, why_size, "its group's local heap at offset %llu has a free list that %s", (unsigned long long)(s->base + heap),
               count > size / (2 * s->sl) ? "loops" : "points outside the heap");
      return why;
    }
    uint64_t bsize = le(blk + s->sl, s->sl);
    if (bsize > size - off) {
      snprintf(why, why_size, "its group's local heap at offset %llu has a free block of %llu bytes past its end",
               (unsigned long long)(s->base + heap), (unsigned long long)bsize);
      return why;
    }
    off = le(blk, s->sl);
  }
  return NULL;
}

static int check_visit(void *ctx, unsigned type, const uint8_t *d, uint64_t n) {
  check_ctx *c = ctx;
  if (type == 0x14) return 0; /* a driver info message: only in a superblock extension (guard_root) */
  c->what = type == 0x11 ? "symbol table" : type == 0x0c ? "attribute" : type == 0x02 ? "link info" : type == 0x06 ? "link"
            : type == 0x15 ? "attribute info" : type == 0x0b ? "filter pipeline" : type == 0x08 ? "data layout"
            : type == 0x01 ? "dataspace" : type == 0x04 || type == 0x05 ? "fill value" : type == 0x07 ? "external file list"
            : type == 0x0d ? "comment" : (type & 0x200) ? "shared message" : "datatype";
  if ((type & 0x200) || type == 0x01 || type == 0x04 || type == 0x05 || type == 0x07 || type == 0x0d) {
    if ((c->problem = kcb__h5_guard_misc_problem(c->s, type, d, n, c->why, sizeof c->why)) != NULL) return 1;
    note_shape(c, type, d, n);
    return 0;
  }
  if (type == 0x08) {
    if ((c->problem = kcb__h5_guard_layout_problem(c->s, d, n, c->why, sizeof c->why)) != NULL) return 1;
    note_shape(c, type, d, n);
    return 0;
  }
  if (type == 0x0b) return (c->problem = kcb__h5_guard_pipeline_problem(d, n, c->why, sizeof c->why)) != NULL;
  if (type == 0x06) return (c->problem = kcb__h5_guard_link_problem(c->s, d, n, c->why, sizeof c->why)) != NULL;
  if (type == 0x02 || type == 0x15)
    return (c->problem = kcb__h5_guard_dense_problem(c->s, type, d, n, c->why, sizeof c->why)) != NULL;
  if (type == 0x103) { /* libhdf5 reopens a committed datatype (H5T_copy_reopen) unchecked */
    c->problem = "its datatype is shared (a committed datatype elsewhere), which kcb's and Keras's files never use";
    return 1;
  }
  if (type == 0x03) {
    uint64_t used = 0;
    c->problem = dtype_problem(d, n, 0, &used, c->why, sizeof c->why);
    return c->problem != NULL;
  }
  c->problem = type == 0x11 ? symbol_table_problem(c->s, d, n, c->why, sizeof c->why)
                            : kcb__h5_guard_attr_problem(c->s, d, n, c->why, sizeof c->why);
  return c->problem != NULL;
}

/* The object header's address: an object reference is that address, and H5Rcreate, unlike
 * H5Oget_info, neither needs the header to make sense as a group or dataset nor decodes it. */
static int object_addr(hid_t obj, uint64_t *addr) {
  hobj_ref_t ref;
  if (H5Rcreate(&ref, obj, ".", H5R_OBJECT, -1) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return -1;
  }
  *addr = ref;
  return 0;
}

static int header_fits(const src *s, uint64_t addr, char *why, size_t why_size);
static int checked_before(const src *s, uint64_t addr);
static void checked_add(const src *s, uint64_t addr);

/* What a check of the object header at addr found: a valid feature kcb does not take (szip, a
 * shared datatype, a chunk index of libver latest) is not called corruption. */
static int object_error(const src *s, const check_ctx *c, uint64_t addr, const char *file) {
  int unsupported = strstr(c->problem, "kcb does not read") || strstr(c->problem, "never use");
  return kcb__error(KCB_EFORMAT, "%s: %s HDF5 %s in the object header at offset %llu: %s", file,
                    unsupported ? "unsupported" : "corrupt", c->what, (unsigned long long)(s->base + addr), c->problem);
}

int kcb__h5_guard_attr_messages(hid_t obj, const char *file) {
  src s;
  uint64_t addr;
  if (src_open(&s, obj) != 0 || object_addr(obj, &addr) != 0 || checked_before(&s, addr)) return 0;
  check_ctx c = CHECK_CTX(&s);
  if (walk_attrs(&s, addr, check_visit, &c, NULL, NULL) > 0 || chunk_shape_problem(&c))
    return object_error(&s, &c, addr, file);
  if (header_fits(&s, addr, c.why, sizeof c.why) == 0) checked_add(&s, addr);
  return 0;
}

/* ---- global heap collections ----------------------------------------------------------------- */

typedef struct heap_obj {
  unsigned idx;
  uint64_t size;
} heap_obj;

typedef struct collection {
  uint64_t at; /* file offset; 0: none loaded */
  heap_obj *objs;
  size_t n;
} collection;

/* Decodes the collection at file offset `at` as HDF5 1.10 does, refusing whatever would make it
 * loop or read out of bounds. Returns 0, or -1 with *why set. */
static int load_collection(const src *s, uint64_t at, collection *c, char *why, size_t why_size) {
  free(c->objs);
  memset(c, 0, sizeof *c);
  uint64_t hdr = 8 + s->sl, ohdr = 8 + s->sl;
  uint8_t h[16];
  if (at > s->size || hdr > s->size - at) {
    snprintf(why, why_size, "the collection starts past the end of the file (%llu bytes)", (unsigned long long)s->size);
    return -1;
  }
  (void)src_read(s, at, hdr, h);
  if (memcmp(h, "GCOL", 4) != 0) return snprintf(why, why_size, "no collection there (no GCOL signature)"), -1;
  if (h[4] != 1) return snprintf(why, why_size, "collection version %u, expected 1", h[4]), -1;
  uint64_t cs = le(h + 8, s->sl);
  if (cs < hdr || cs > s->size - at) {
    snprintf(why, why_size, "collection size %llu does not fit the file (%llu bytes from the collection to its end)",
             (unsigned long long)cs, (unsigned long long)(s->size - at));
    return -1;
  }
  uint8_t *b = src_load(s, at, cs);
  if (!b) return snprintf(why, why_size, "cannot read the collection (%llu bytes)", (unsigned long long)cs), -1;
  size_t cap = 0;
  int rc = 0;
  for (uint64_t p = hdr; p < cs && cs - p >= ohdr && rc == 0;) {
    unsigned idx = (unsigned)le(b + p, 2);
    uint64_t size = le(b + p + 8, s->sl), need;
    if (idx == 0) {
      need = size; /* free space: its size counts its own header */
      if (need == 0 || need > cs - p) {
        snprintf(why, why_size, "free space of %llu bytes at +%llu does not fit the collection (%llu bytes)",
                 (unsigned long long)size, (unsigned long long)p, (unsigned long long)cs);
        rc = -1;
      }
    } else {
      need = size > cs - p - ohdr ? UINT64_MAX : ohdr + pad8(size);
      if (need > cs - p) {
        snprintf(why, why_size, "object %u of %llu bytes at +%llu runs past the collection (%llu bytes)", idx,
                 (unsigned long long)size, (unsigned long long)p, (unsigned long long)cs);
        rc = -1;
      } else {
        if (c->n == cap) {
          cap = cap ? 2 * cap : 64;
          heap_obj *grown = realloc(c->objs, cap * sizeof *grown);
          if (!grown) {
            snprintf(why, why_size, "out of memory");
            rc = -1;
            break;
          }
          c->objs = grown;
        }
        c->objs[c->n++] = (heap_obj){idx, size};
      }
    }
    p += need;
  }
  free(b);
  if (rc == 0) c->at = at;
  return rc;
}

/* The size of object idx, or -1 if the collection lacks it (the last definition wins, as in HDF5). */
static int64_t object_size(const collection *c, unsigned idx) {
  for (size_t i = c->n; i-- > 0;)
    if (c->objs[i].idx == idx) return (int64_t)c->objs[i].size;
  return -1;
}

/* When the attribute's bytes cannot be located: every collection libhdf5 could load starts with
 * "GCOL" and version 1 (it checks both), so check every such place in the file. This leaves bad
 * object indexes and lengths unchecked, but not libhdf5's loops and overruns inside a collection. */
static int scan_collections(const src *s, const char *name, const char *file) {
  enum { BLOCK = 1 << 20 };
  uint8_t *b = malloc(BLOCK + 4);
  collection c = {0, NULL, 0};
  char why[256];
  int rc = 0;
  if (!b) return 0;
  for (uint64_t off = 0; off < s->size && rc == 0; off += BLOCK) {
    uint64_t n = s->size - off < BLOCK + 4 ? s->size - off : BLOCK + 4;
    if (src_read(s, off, n, b) != 0) break;
    for (uint64_t i = 0; i + 5 <= n && i < BLOCK && rc == 0; i++) {
      if (b[i] != 'G' || memcmp(b + i, "GCOL\1", 5) != 0) continue;
      if (load_collection(s, off + i, &c, why, sizeof why) != 0)
        rc = kcb__error(KCB_EFORMAT, "%s: corrupt HDF5 global heap at offset %llu: %s (reading attribute '%s')", file,
                        (unsigned long long)(off + i), why, name);
    }
  }
  free(c.objs);
  free(b);
  return rc;
}

int kcb__h5_guard_vlen_attr(hid_t obj, const char *name, long long count, const char *file) {
  src s;
  if (count <= 0 || src_open(&s, obj) != 0) return 0;
  uint64_t elem = 4 + s.sa + 4;
  if ((uint64_t)count > s.size / elem)
    return kcb__error(KCB_EFORMAT, "%s: corrupt HDF5 attribute '%s': %lld strings cannot fit a file of %llu bytes", file,
                      name, count, (unsigned long long)s.size);
  uint64_t addr;
  find_ctx f = {name, NULL, 0, 0, 0, 0};
  if (object_addr(obj, &addr) != 0 || walk_attrs(&s, addr, find_visit, &f, NULL, NULL) <= 0) return scan_collections(&s, name, file);
  uint8_t *msg = f.msg;
  uint64_t len = f.len, data = f.data, base = f.base;
  int rc = 0;
  if (f.vsize != elem) { /* libhdf5 would read elem bytes from each stored element of vsize */
    rc = kcb__error(KCB_EFORMAT, "%s: corrupt HDF5 attribute '%s': stored strings of %llu bytes, expected %llu", file,
                    name, (unsigned long long)f.vsize, (unsigned long long)elem);
  } else if (base != 1) { /* HDF5 would allocate length x base bytes per string */
    rc = kcb__error(KCB_EFORMAT, "%s: corrupt HDF5 attribute '%s': strings of %llu-byte characters", file, name,
                    (unsigned long long)base);
  } else if ((uint64_t)count > (len - data) / elem) {
    rc = kcb__error(KCB_EFORMAT, "%s: corrupt HDF5 attribute '%s': %lld strings in a message with room for %llu", file,
                    name, count, (unsigned long long)((len - data) / elem));
  }
  collection c = {0, NULL, 0};
  char why[256];
  for (long long i = 0; i < count && rc == 0; i++) {
    const uint8_t *e = msg + data + (uint64_t)i * elem;
    uint64_t seq = le(e, 4), heap = le(e + 4, s.sa);
    unsigned idx = (unsigned)le(e + 4 + s.sa, 4);
    if (heap == 0) continue; /* a null string: HDF5 does not look at the heap */
    uint64_t at = heap > UINT64_MAX - s.base ? UINT64_MAX : s.base + heap;
    if (c.at != at && load_collection(&s, at, &c, why, sizeof why) != 0) {
      rc = kcb__error(KCB_EFORMAT, "%s: corrupt HDF5 global heap at offset %llu: %s (string %lld of attribute '%s')", file,
                      (unsigned long long)at, why, i, name);
      break;
    }
    int64_t size = idx == 0 || idx > 0xffff ? -1 : object_size(&c, idx);
    if (size < 0)
      rc = kcb__error(KCB_EFORMAT,
                      "%s: corrupt HDF5 global heap at offset %llu: no object %u (string %lld of attribute '%s')", file,
                      (unsigned long long)at, idx, i, name);
    else if ((uint64_t)size != seq)
      rc = kcb__error(KCB_EFORMAT,
                      "%s: corrupt HDF5 global heap at offset %llu: object %u holds %lld bytes, but string %lld of "
                      "attribute '%s' has length %llu",
                      file, (unsigned long long)at, idx, (long long)size, i, name, (unsigned long long)seq);
  }
  free(c.objs);
  free(msg);
  return rc;
}

/* ---- object header sizes ---------------------------------------------------------------------- */

/* libhdf5 allocates each object header chunk at the size the header or a continuation message
 * gives before reading it, so a corrupt size allocates gigabytes: check that the chunks lie inside
 * the file. */
static int no_visit(void *ctx, unsigned type, const uint8_t *d, uint64_t n) {
  (void)ctx, (void)type, (void)d, (void)n;
  return 0;
}

static int header_fits(const src *s, uint64_t addr, char *why, size_t why_size) {
  uint64_t bad_at = 0, bad_len = 0;
  walk_attrs(s, addr, no_visit, NULL, &bad_at, &bad_len);
  if (bad_len == 0 && bad_at == 0) return 0;
  snprintf(why, why_size, "a chunk of %llu bytes at offset %llu runs past the end of the file (%llu bytes)",
           (unsigned long long)bad_len, (unsigned long long)bad_at, (unsigned long long)s->size);
  return -1;
}

static int header_error(const src *s, uint64_t addr, const char *file) {
  char why[160];
  if (header_fits(s, addr, why, sizeof why) == 0) return 0;
  return kcb__error(KCB_EFORMAT, "%s: corrupt HDF5 object header at offset %llu: %s", file,
                    (unsigned long long)(s->base + addr), why);
}

/* Headers that passed, of the file with id `key`: a reader opens the same groups again and again
 * (each dataset's path passes through its layer's group), and a header's bytes do not change. */
#define CHECKED 64
static _Thread_local struct {
  hid_t key;
  unsigned n;
  uint64_t addr[CHECKED];
} checked = {H5I_INVALID_HID, 0, {0}};

static int checked_before(const src *s, uint64_t addr) {
  if (s->key < 0 || checked.key != s->key) return 0;
  for (unsigned i = 0; i < checked.n && i < CHECKED; i++)
    if (checked.addr[i] == addr) return 1;
  return 0;
}

static void checked_add(const src *s, uint64_t addr) {
  if (s->key < 0) return;
  if (checked.key != s->key) checked.key = s->key, checked.n = 0;
  checked.addr[checked.n++ % CHECKED] = addr;
}

int kcb__h5_guard_object(hid_t loc, uint64_t addr, const char *file) {
  src s;
  if (src_open(&s, loc) != 0 || checked_before(&s, addr)) return 0;
  int rc = header_error(&s, addr, file);
  check_ctx c = CHECK_CTX(&s);
  if (rc == 0 && (walk_attrs(&s, addr, check_visit, &c, NULL, NULL) > 0 || chunk_shape_problem(&c)))
    rc = object_error(&s, &c, addr, file);
  if (rc == 0) checked_add(&s, addr);
  return rc;
}

static int driver_visit(void *ctx, unsigned type, const uint8_t *d, uint64_t n) {
  (void)ctx, (void)d, (void)n;
  return type == 0x14;
}

/* A file-driver info block (superblock v0/v1) or driver info message (in a v2/v3 superblock's
 * extension) records a driver such as family, multi or split, whose files are other files: kcb's
 * checkpoints are single files, and a checkpoint must not make libhdf5 open others (issue 15). */
static int driver_error(const src *s, const uint8_t *b, unsigned ver, const char *file) {
  unsigned sa = s->sa;
  if (ver <= 1) {
    if (is_undef(b + 24 + (ver == 1 ? 4 : 0) + 3 * sa, sa)) return 0;
  } else {
    const uint8_t *ext = b + 12 + sa;
    if (is_undef(ext, sa) || walk_attrs(s, le(ext, sa), driver_visit, NULL, NULL, NULL) <= 0) return 0;
  }
  return kcb__error(KCB_EFORMAT, "%s: the HDF5 superblock names a file driver (family, multi or split files): kcb reads "
                    "only single-file checkpoints", file);
}

int kcb__h5_guard_root(const void *image, size_t len, const char *path, const char *file) {
  src s;
  memset(&s, 0, sizeof s);
  s.fd = -1;
  s.key = H5I_INVALID_HID;
  FILE *f = NULL;
  if (image) {
    s.mem = image;
    s.size = len;
  } else {
    struct stat st;
    if (kcb__file_fopen_read(path, NULL, &f) != 0 || fstat(fileno(f), &st) != 0) {
      kcb_error_clear();
      if (f) fclose(f);
      return 0;
    }
    s.fd = fileno(f);
    s.size = (uint64_t)st.st_size;
  }
  /* The superblock where libhdf5 looks for it: at 0, or after a user block of 512 bytes, 1024, ... */
  uint8_t b[96];
  int rc = 0;
  uint64_t at_sb = 0;
  while (s.size >= 64 && at_sb <= s.size - 64 &&
         (src_read(&s, at_sb, 8, b) != 0 || memcmp(b, "\211HDF\r\n\032\n", 8) != 0))
    at_sb = at_sb ? 2 * at_sb : 512;
  if (s.size >= 64 && at_sb <= s.size - 64 &&
      src_read(&s, at_sb, s.size - at_sb < sizeof b ? s.size - at_sb : sizeof b, b) == 0) {
    unsigned ver = b[8], sa = ver <= 1 ? b[13] : b[9], sl = ver <= 1 ? b[14] : b[10];
    if (sa >= 2 && sa <= 8 && sl >= 2 && sl <= 8 && ver <= 3) {
      s.sa = sa;
      s.sl = sl;
      s.base = at_sb; /* libhdf5 moves the base address to the superblock's place */
      /* libhdf5 reads nothing past the end of allocated space: the stored end less the stored
       * base address, from the superblock's place (the end moves with the base) */
      unsigned at = ver <= 1 ? 24 + (ver == 1 ? 4 : 0) : 12;
      uint64_t base = le(b + at, sa), eof = le(b + at + 2 * sa, sa);
      if (!is_undef(b + at + 2 * sa, sa) && eof >= base && eof - base < s.size - at_sb) s.size = at_sb + (eof - base);
      uint64_t root = ver <= 1 ? le(b + 24 + (ver == 1 ? 4 : 0) + 4 * sa + sl, sa) : le(b + 12 + 3 * sa, sa);
      rc = header_error(&s, root, file);
      if (rc == 0) rc = driver_error(&s, b, ver, file);
    }
  }
  if (f) fclose(f);
  return rc;
}
