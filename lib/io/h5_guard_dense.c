/* io/h5_guard_dense.c — the guard (see h5_guard.h) for new-style groups and dense storage, filter
 * pipelines and chunk indexes.
 * A group written with libver='latest' or track_order=True keeps its links as link messages in its
 * object header, or (beyond 8 links) as link messages in a fractal heap indexed by v2 B-trees, named
 * by its Link Info message; an object with many attributes keeps them the same way, named by an
 * Attribute Info message. libhdf5 1.10 decodes link messages without comparing them with their size
 * (a corrupt one in dense storage ends in a double free in H5G__dense_iterate), takes a B-tree node's
 * record count from its parent and decodes that many records into an array sized by the node (and
 * fills a table sized by the header's total), so we check all of it first: the heap's header, its
 * root block (a direct block, or an indirect block of direct blocks: anything deeper, huge or tiny
 * objects and filtered heaps are refused, as neither Keras nor h5py writes them for links and
 * attributes), both B-trees node by node, and every link or attribute message their records name.
 * Filter pipelines: names and parameters inside the message (H5O__pline_decode reads them by their
 * own counts). Chunked datasets: the version 1 B-tree of chunks walked (nodes and chunks inside the
 * file), other indexes of version 4 layouts refused.
 * Formats: HDF5 File Format Specification version 3, §III.G (fractal heap: header FRHP, direct
 * block FHDB, indirect block FHIB, heap IDs), §III.A.2 (v2 B-trees: BTHD, BTIN, BTLF; record types
 * 5, 6, 8, 9), §III.A.1 (v1 B-trees: TREE), §IV.A.2.c (link info), §IV.A.2.g (link), §IV.A.2.i
 * (data layout), §IV.A.2.l (filter pipeline), §IV.A.2.v (attribute info). */
#include <stdio.h>

#include "io/h5_guard_internal.h"

#define FAIL(...) return snprintf(why, ws, __VA_ARGS__), why

/* Bounds on what kcb accepts; h5py's files use depth 0-2 and 512-byte nodes. */
enum { BT_MAX_DEPTH = 8, BT_MAX_NODE = 1 << 20 };

static unsigned log2_floor(uint64_t v) {
  unsigned r = 0;
  while (v >>= 1) r++;
  return r;
}

static int pow2(uint64_t v) { return v && !(v & (v - 1)); }

/* Bytes libhdf5 uses to encode values up to v (H5VM_limit_enc_size). */
static unsigned enc_size(uint64_t v) { return log2_floor(v) / 8 + 1; }

const char *kcb__h5_guard_link_problem(const src *s, const uint8_t *d, uint64_t n, char *why, size_t ws) {
  if (n < 2) FAIL("a link message of %llu bytes is cut short", (unsigned long long)n);
  if (d[0] != 1) FAIL("a link message of version %u", d[0]);
  unsigned flags = d[1], type = 0;
  if (flags & ~0x1fu) FAIL("a link message with unknown flags 0x%02x", flags);
  uint64_t p = 2, lsize = 1u << (flags & 3);
  if (flags & 0x08) {
    if (n - p < 1) FAIL("a link message is cut short before its link type");
    type = d[p++];
  }
  if (type == 64) FAIL("an external link, which would open another file: kcb follows only hard links");
  if (type > 1) FAIL("a link of type %u (only hard and soft links are known)", type);
  if (flags & 0x04) {
    if (n - p < 8) FAIL("a link message is cut short before its creation order");
    p += 8;
  }
  if (flags & 0x10) {
    if (n - p < 1) FAIL("a link message is cut short before its character set");
    if (d[p] > 1) FAIL("a link name in character set %u", d[p]);
    p++;
  }
  if (n - p < lsize) FAIL("a link message is cut short before its name's length");
  uint64_t len = le(d + p, (unsigned)lsize);
  p += lsize;
  if (len == 0 || len > n - p)
    FAIL("a link name of %llu bytes in a message with %llu left", (unsigned long long)len, (unsigned long long)(n - p));
  if (memchr(d + p, 0, (size_t)len)) FAIL("a link name with a NUL inside");
  p += len;
  if (type == 0) {
    if (n - p < s->sa) FAIL("a hard link's address runs past its message");
  } else {
    if (n - p < 2) FAIL("a soft link's length runs past its message");
    uint64_t vlen = le(d + p, 2);
    if (vlen == 0 || vlen > n - p - 2) FAIL("a soft link's value of %llu bytes runs past its message", (unsigned long long)vlen);
  }
  return NULL;
}

/* The file offset of a defined address (UINT64_MAX - 1 when it is past any file). */
static uint64_t file_offset(const src *s, uint64_t addr) {
  return addr > UINT64_MAX - 2 - s->base ? UINT64_MAX - 1 : s->base + addr;
}

/* Jenkins' lookup3 hash (hashlittle, initial value 0), which HDF5 stores after each block of
 * version-2 metadata (format spec §II.E, "checksum"). libhdf5 checks it when it loads a block, and a
 * block that fails in the middle of an iteration takes libhdf5 1.10 into an error path that frees
 * the link table twice (H5G__dense_iterate): so every block of dense storage must pass here first. */
#define ROT(x, k) (((x) << (k)) | ((x) >> (32 - (k))))
static uint32_t lookup3(const uint8_t *k, size_t n) {
  uint32_t a, b, c;
  a = b = c = 0xdeadbeefu + (uint32_t)n;
  for (; n > 12; n -= 12, k += 12) {
    a += (uint32_t)le(k, 4);
    b += (uint32_t)le(k + 4, 4);
    c += (uint32_t)le(k + 8, 4);
    a -= c, a ^= ROT(c, 4), c += b;
    b -= a, b ^= ROT(a, 6), a += c;
    c -= b, c ^= ROT(b, 8), b += a;
    a -= c, a ^= ROT(c, 16), c += b;
    b -= a, b ^= ROT(a, 19), a += c;
    c -= b, c ^= ROT(b, 4), b += a;
  }
  if (n == 0) return c;
  uint8_t tail[12] = {0};
  memcpy(tail, k, n);
  a += (uint32_t)le(tail, 4);
  b += (uint32_t)le(tail + 4, 4);
  c += (uint32_t)le(tail + 8, 4);
  c ^= b, c -= ROT(b, 14);
  a ^= c, a -= ROT(c, 11);
  b ^= a, b -= ROT(a, 25);
  c ^= b, c -= ROT(b, 16);
  a ^= c, a -= ROT(c, 4);
  b ^= a, b -= ROT(a, 14);
  c ^= b, c -= ROT(b, 24);
  return c;
}
#undef ROT

/* Whether the n-byte block b ends with the checksum of the bytes before it. */
static int checksum_ok(const uint8_t *b, uint64_t n) { return n >= 4 && lookup3(b, (size_t)(n - 4)) == le(b + n - 4, 4); }

/* ---- filter pipelines ---------------------------------------------------------------------- */

const char *kcb__h5_guard_pipeline_problem(const uint8_t *d, uint64_t n, char *why, size_t ws) {
  /* libhdf5 1.10 (H5O__pline_decode) reads each filter's name up to a NUL and its client data
   * values by their count, wherever the message ends (format spec §IV.A.2.l). */
  if (n < 2) FAIL("a filter pipeline message of %llu bytes is cut short", (unsigned long long)n);
  unsigned ver = d[0], count = d[1];
  if (ver < 1 || ver > 2) FAIL("a filter pipeline of version %u", ver);
  if (count < 1 || count > 32) FAIL("a filter pipeline of %u filters", count);
  uint64_t p = ver == 1 ? 8 : 2;
  for (unsigned i = 0; i < count; i++) {
    if (n < p || n - p < 2) FAIL("filter %u of the pipeline runs past its message", i);
    unsigned id = (unsigned)le(d + p, 2);
    uint64_t name_len = 0;
    p += 2;
    if (ver == 1 || id >= 256) {
      if (n - p < 2) FAIL("filter %u of the pipeline runs past its message", i);
      name_len = le(d + p, 2);
      p += 2;
    }
    if (n - p < 4) FAIL("filter %u of the pipeline runs past its message", i);
    uint64_t values = le(d + p + 2, 2);
    p += 4;
    /* szip, n-bit and scale-offset decode by parameters from the file, which libhdf5 1.10 trusts
     * (known overflows); Keras and h5py's defaults never use them (other filters: io/h5.c) */
    if (id == 4 || id == 5 || id == 6)
      FAIL("filter %u is HDF5 filter %u (%s), which kcb does not read", i, id, id == 4 ? "szip" : id == 5 ? "n-bit" : "scale-offset");
    if (name_len > n - p || (name_len && !memchr(d + p, 0, (size_t)name_len)))
      FAIL("filter %u's name is not terminated inside the pipeline message", i);
    p += name_len;
    uint64_t vbytes = 4 * values + (ver == 1 && (values & 1) ? 4 : 0);
    if (vbytes > n - p) FAIL("filter %u's %llu parameters run past the pipeline message", i, (unsigned long long)values);
    p += vbytes;
  }
  return NULL;
}

/* ---- dataspace, fill value, external files, comments, shared messages -------------------------- */

const char *kcb__h5_guard_misc_problem(const src *s, unsigned type, const uint8_t *d, uint64_t n, char *why, size_t ws) {
  if (type & 0x200) /* libhdf5 would decode it from the file's shared-message heap, unchecked */
    FAIL("a shared message of type %u (kept in the file's shared-message storage), which kcb does not read", type & 0xff);
  if (type == 0x07) /* io/h5.c refuses them after H5Dopen2, which decodes the names from a local heap with strlen */
    FAIL("an external file list: data stored in other files, which kcb does not read (it reads only data stored in "
         "the checkpoint itself)");
  if (type == 0x0d) {
    if (!memchr(d, 0, (size_t)n)) FAIL("a comment not terminated inside its message");
    return NULL;
  }
  if (type == 0x01) { /* dataspace (§IV.A.2.b): dimensions and maxima read by the rank, wherever the message ends */
    if (n < 4 || d[0] < 1 || d[0] > 2) return NULL; /* libhdf5 refuses these itself */
    uint64_t rank = d[1], need = (d[0] == 1 ? 8 : 4) + rank * s->sl * ((d[2] & 1) ? 2 : 1);
    if (rank > 32) FAIL("a dataspace of %llu dimensions", (unsigned long long)rank);
    if (need > n) FAIL("a dataspace of %llu dimensions runs past its %llu-byte message", (unsigned long long)rank, (unsigned long long)n);
    return NULL;
  }
  /* fill value (§IV.A.2.e, 0x04 old, 0x05 new): the value copied by its own size */
  uint64_t p;
  if (type == 0x04) {
    p = 0;
  } else {
    if (n < 1 || d[0] < 1 || d[0] > 3) return NULL;
    if (d[0] < 3) {
      if (n < 4) FAIL("a fill value message is cut short");
      if (!d[3]) return NULL; /* version, allocation time, write time, then "fill value defined" */
      p = 4;
    } else {
      if (n < 2) FAIL("a fill value message is cut short");
      if (!(d[1] & 0x20)) return NULL; /* no value stored */
      p = 2;
    }
  }
  if (n < p + 4) FAIL("a fill value message is cut short");
  int64_t size = (int32_t)le(d + p, 4);
  if (size > 0 && (uint64_t)size > n - p - 4)
    FAIL("a fill value of %lld bytes runs past its %llu-byte message", (long long)size, (unsigned long long)n);
  return NULL;
}

/* ---- chunked datasets ------------------------------------------------------------------------- */

typedef struct chunk_walk {
  const src *s;
  unsigned dims;   /* the layout's dimensionality: the dataset's rank + 1 (the element size) */
  uint64_t bytes;  /* of the nodes visited so far: a real index's nodes are disjoint parts of the file */
} chunk_walk;

/* The version 1 B-tree node at address addr of a chunked dataset's index (format spec §III.A.1:
 * "TREE", type 1, level, entries, siblings, then keys and children; a key is the chunk's size in
 * the file, its filter mask and its offset in each dimension) and everything below it: nodes and
 * chunks inside the file, levels decreasing. */
static const char *chunk_node(chunk_walk *w, uint64_t addr, int level, char *why, size_t ws) {
  const src *s = w->s;
  uint64_t at = file_offset(s, addr), ksize = 8 + 8ull * w->dims, hsize = 8 + 2ull * s->sa;
  uint8_t h[8 + 2 * 8];
  if (src_read(s, at, hsize, h) != 0) FAIL("its chunk index has a node at address %llu outside the file", (unsigned long long)addr);
  if (memcmp(h, "TREE", 4) != 0 || h[4] != 1)
    FAIL("its chunk index has no B-tree node of chunks at offset %llu (TREE, type 1)", (unsigned long long)at);
  int lvl = h[5];
  uint64_t entries = le(h + 6, 2), size = hsize + entries * s->sa + (entries + 1) * ksize;
  if (level >= 0 && lvl != level)
    FAIL("its chunk index has a node of level %d at offset %llu where level %d belongs", lvl, (unsigned long long)at, level);
  if (lvl > 32) FAIL("its chunk index is %d levels deep", lvl);
  uint8_t *b = src_load(s, at, size);
  if (!b) FAIL("its chunk index has a node of %llu entries at offset %llu running past the file", (unsigned long long)entries,
               (unsigned long long)at);
  const char *problem = NULL;
  if ((w->bytes += size) > s->size) {
    free(b);
    FAIL("its chunk index has more nodes than the file holds (a node reached twice?)");
  }
  for (uint64_t e = 0; e < entries && !problem; e++) {
    const uint8_t *key = b + hsize + e * (ksize + s->sa), *child = key + ksize;
    uint64_t nbytes = le(key, 4), caddr = le(child, s->sa);
    if (lvl > 0) {
      problem = chunk_node(w, caddr, lvl - 1, why, ws);
    } else {
      uint64_t cat = file_offset(s, caddr);
      if (nbytes == 0 || cat > s->size || nbytes > s->size - cat) {
        snprintf(why, ws, "its chunk index names a chunk of %llu bytes at address %llu, outside the file (%llu bytes)",
                 (unsigned long long)nbytes, (unsigned long long)caddr, (unsigned long long)s->size);
        problem = why;
      }
    }
  }
  free(b);
  return problem;
}

const char *kcb__h5_guard_layout_problem(const src *s, const uint8_t *d, uint64_t n, char *why, size_t ws) {
  /* format spec §IV.A.2.i; versions 1 and 2 (before HDF5 1.6.3), compact and contiguous storage
   * are left to libhdf5's own checks and io/h5.c's size check before a read */
  /* a virtual dataset (version 4, class 3) keeps its mapping in the global heap, which libhdf5
   * 1.10 decodes inside H5Dopen2 with strlen over the heap object (a heap overflow found by
   * checkpoint_h5), before io/h5.c could refuse the mapping to other files */
  if (n >= 2 && d[0] == 4 && d[1] == 3)
    FAIL("a virtual dataset (mapped from other files), which kcb does not read: kcb reads only data stored in the "
         "checkpoint itself");
  if (n < 2 || d[0] < 3 || d[0] > 4 || d[1] != 2) return NULL;
  if (d[0] == 4) {
    if (n < 5) FAIL("a chunked layout message is cut short");
    unsigned dims = d[3], w = d[4];
    uint64_t p = 5 + (uint64_t)dims * w;
    if (dims < 2 || dims > 33 || w < 1 || w > 8 || p >= n) FAIL("a chunked layout of %u dimensions of %u bytes", dims, w);
    unsigned index = d[p];
    if (index != 1 && index != 2)
      FAIL("a chunked dataset indexed by %s, which kcb does not read (it reads chunks indexed by a version 1 B-tree, "
           "a single chunk or none)", index == 3 ? "a fixed array" : index == 4 ? "an extensible array" : index == 5 ? "a version 2 B-tree" : "an index of unknown type");
    if (index == 1 && (d[2] & 2)) { /* a filtered single chunk: its size in the file, which libhdf5 allocates */
      if (n - p - 1 < (uint64_t)s->sl + 4 + s->sa) FAIL("a chunked layout message is cut short");
      uint64_t size = le(d + p + 1, s->sl), at = le(d + p + 1 + s->sl + 4, s->sa);
      if (!is_undef(d + p + 1 + s->sl + 4, s->sa) && (file_offset(s, at) > s->size || size > s->size - file_offset(s, at)))
        FAIL("its single chunk of %llu bytes at address %llu lies outside the file", (unsigned long long)size,
             (unsigned long long)at);
    }
    return NULL; /* otherwise chunks of the layout's size at one address, read as such */
  }
  if (n < 3) FAIL("a chunked layout message is cut short");
  unsigned dims = d[2];
  if (dims < 2 || dims > 33 || n < 3 + s->sa + 4ull * dims) FAIL("a chunked layout of %u dimensions", dims);
  uint64_t bytes = 1;
  for (unsigned k = 0; k < dims; k++) {
    uint64_t dim = le(d + 3 + s->sa + 4 * k, 4);
    if (dim == 0) FAIL("a chunk with a dimension of 0");
    bytes = bytes > ((uint64_t)1 << 30) / dim ? ((uint64_t)1 << 31) : bytes * dim;
  }
  /* libhdf5 allocates a whole chunk to read one */
  if (bytes > ((uint64_t)1 << 30)) FAIL("chunks of more than 1 GiB");
  if (is_undef(d + 3, s->sa)) return NULL; /* no data written */
  chunk_walk w = {s, dims, 0};
  return chunk_node(&w, le(d + 3, s->sa), -1, why, ws);
}

/* ---- fractal heaps ---------------------------------------------------------------------------- */

typedef struct heap {
  uint64_t at, addr;           /* file offset and address of the header */
  int dchk;                    /* direct blocks carry a checksum */
  uint64_t width, start, maxd; /* table width, starting and maximum direct block sizes */
  uint64_t max_man;            /* the largest object stored in a direct block */
  unsigned off_size, len_size; /* a managed object's offset and length in its heap ID */
  unsigned rows;               /* rows of the root indirect block; 0: the root is a direct block */
  unsigned dhdr;               /* a direct block's header */
  uint64_t root;               /* file offset of the root block (UINT64_MAX: none) */
  uint64_t *blocks;            /* indirect root: each direct block's file offset (UINT64_MAX: none) */
  uint8_t *checked;            /* indirect root: which direct blocks' headers were checked */
  uint8_t root_checked;
} heap;

/* Reads the heap header at address addr (id_len: the heap ID length the B-tree records hold). */
static const char *heap_open(const src *s, uint64_t addr, unsigned id_len, heap *h, char *why, size_t ws) {
  memset(h, 0, sizeof *h);
  unsigned sa = s->sa, sl = s->sl;
  uint64_t hsize = 22 + 12ull * sl + 3ull * sa + 4;
  uint8_t b[22 + 12 * 8 + 3 * 8 + 4];
  h->at = addr > s->size ? UINT64_MAX : s->base + addr;
  if (src_read(s, h->at, hsize, b) != 0) FAIL("its fractal heap header at address %llu lies outside the file", (unsigned long long)addr);
  if (memcmp(b, "FRHP", 4) != 0) FAIL("no fractal heap at offset %llu (no FRHP signature)", (unsigned long long)h->at);
#define HFAIL(fmt, ...) FAIL("its fractal heap at offset %llu " fmt, (unsigned long long)h->at, __VA_ARGS__)
  if (b[4] != 0) HFAIL("has version %u", b[4]);
  if (!checksum_ok(b, hsize)) HFAIL("%s", "has a header whose checksum does not match");
  h->addr = addr;
  h->dchk = (b[9] & 2) != 0;
  uint64_t hid = le(b + 5, 2), filters = le(b + 7, 2), max_man = le(b + 10, 4);
  uint64_t p = 14 + sl + sa + sl + sa + 8ull * sl;
  h->width = le(b + p, 2);
  h->start = le(b + p + 2, sl);
  h->maxd = le(b + p + 2 + sl, sl);
  unsigned bits = (unsigned)le(b + p + 2 + 2 * sl, 2);
  const uint8_t *root = b + p + 2 + 2 * sl + 4;
  h->rows = (unsigned)le(root + sa, 2);
  if (hid != id_len) HFAIL("has heap IDs of %llu bytes, expected %u", (unsigned long long)hid, id_len);
  if (filters) HFAIL("%s", "is filtered (compressed), which kcb does not read in link or attribute storage");
  if (b[9] & ~3u) HFAIL("has unknown flags 0x%02x", b[9]);
  if (!pow2(h->width) || h->width > 65536) HFAIL("has a table width of %llu", (unsigned long long)h->width);
  if (bits < 1 || bits > 64) HFAIL("has a maximum size of 2^%u bytes", bits);
  h->dhdr = 5 + sa + (bits + 7) / 8 + ((b[9] & 2) ? 4 : 0);
  if (!pow2(h->start) || !pow2(h->maxd) || h->start <= h->dhdr || h->maxd < h->start || h->maxd > ((uint64_t)1 << 32) ||
      log2_floor(h->maxd) > bits)
    HFAIL("has direct blocks of %llu to %llu bytes (maximum heap size 2^%u)", (unsigned long long)h->start,
          (unsigned long long)h->maxd, bits);
  if (max_man == 0) HFAIL("%s", "has a maximum object size of 0");
  h->max_man = max_man;
  h->off_size = (bits + 7) / 8;
  h->len_size = enc_size(max_man);
  if ((log2_floor(h->maxd) + 7) / 8 < h->len_size) h->len_size = (log2_floor(h->maxd) + 7) / 8;
  if (1 + h->off_size + h->len_size > id_len)
    HFAIL("has heap IDs of %u bytes, too short for its offsets and lengths", id_len);
  unsigned direct_rows = log2_floor(h->maxd) - log2_floor(h->start) + 2;
  if (h->rows > direct_rows)
    HFAIL("has %u rows in its root indirect block, more than its %u rows of direct blocks: kcb reads heaps of at most "
          "two levels", h->rows, direct_rows);
  h->root = is_undef(root, sa) ? UINT64_MAX : file_offset(s, le(root, sa));
  if (h->root == UINT64_MAX) return NULL;
  if (h->rows == 0) { /* a direct block of the starting size */
    if (h->root > s->size || h->start > s->size - h->root)
      HFAIL("has a root direct block of %llu bytes outside the file", (unsigned long long)h->start);
    return NULL;
  }
  uint64_t entries = (uint64_t)h->rows * h->width, isize = 5 + sa + h->off_size + entries * sa + 4;
  if (h->root > s->size || isize > s->size - h->root)
    HFAIL("has a root indirect block of %llu bytes outside the file", (unsigned long long)isize);
  uint8_t *ib = src_load(s, h->root, isize);
  if (!ib) HFAIL("%s", "has a root indirect block that cannot be read");
  h->blocks = malloc(entries * sizeof *h->blocks);
  h->checked = calloc(entries, 1);
  if (!h->blocks || !h->checked) {
    free(ib);
    HFAIL("%s", "is too large to check (out of memory)");
  }
  /* libhdf5 checks the signature, version, checksum and heap address */
  int bad = memcmp(ib, "FHIB", 4) != 0 || ib[4] != 0 || !checksum_ok(ib, isize) || le(ib + 5, sa) != addr ||
            le(ib + 5 + sa, h->off_size) != 0;
  for (uint64_t e = 0; e < entries && !bad; e++) {
    const uint8_t *a = ib + 5 + sa + h->off_size + e * sa;
    h->blocks[e] = is_undef(a, sa) ? UINT64_MAX : file_offset(s, le(a, sa));
  }
  free(ib);
  if (bad) HFAIL("%s", "has a root indirect block whose signature, version, checksum, heap address or offset is wrong");
  return NULL;
#undef HFAIL
}

static void heap_close(heap *h) {
  free(h->blocks);
  free(h->checked);
  h->blocks = NULL;
  h->checked = NULL;
}

/* The object a heap ID names, checked to lie inside its direct block: a malloc'd copy in *obj, its
 * length in *len. */
static const char *heap_object(const src *s, heap *h, const uint8_t *id, uint8_t **obj, uint64_t *len, char *why,
                               size_t ws) {
  *obj = NULL;
  unsigned kind = id[0] >> 4;
  if (kind & 0xc) FAIL("a heap ID of version %u", kind >> 2);
  if (kind == 1) FAIL("a huge object in the fractal heap at offset %llu, which kcb does not read", (unsigned long long)h->at);
  if (kind == 2) FAIL("a tiny object in the fractal heap at offset %llu, which kcb does not read", (unsigned long long)h->at);
  if (kind == 3) FAIL("a heap ID of unknown type 3");
  uint64_t off = le(id + 1, h->off_size), n = le(id + 1 + h->off_size, h->len_size);
  uint64_t boff = 0, bsize = h->start, baddr = h->root;
  uint8_t *checked = &h->root_checked;
  if (h->root == UINT64_MAX) FAIL("an object in the fractal heap at offset %llu, which is empty", (unsigned long long)h->at);
  if (h->rows > 0) { /* find the direct block: row 0 and 1 hold blocks of the starting size, then each doubles */
    unsigned row = 0;
    uint64_t row_off = 0;
    bsize = h->start;
    while (off - row_off >= h->width * bsize) {
      row_off += h->width * bsize;
      if (row > 0) bsize *= 2;
      if (++row >= h->rows) FAIL("a heap object at heap offset %llu, past the root indirect block of the fractal heap at "
                                 "offset %llu", (unsigned long long)off, (unsigned long long)h->at);
    }
    uint64_t e = (uint64_t)row * h->width + (off - row_off) / bsize;
    boff = row_off + (off - row_off) / bsize * bsize;
    baddr = h->blocks[e];
    checked = &h->checked[e];
    if (baddr == UINT64_MAX) FAIL("a heap object at heap offset %llu in a direct block that does not exist (fractal heap at "
                                  "offset %llu)", (unsigned long long)off, (unsigned long long)h->at);
  }
  if (!*checked) { /* what libhdf5 checks when it loads the block: it must not fail in an iteration */
    if (baddr > s->size || bsize > s->size - baddr)
      FAIL("a direct block of %llu bytes at offset %llu outside the file (fractal heap at offset %llu)",
           (unsigned long long)bsize, (unsigned long long)baddr, (unsigned long long)h->at);
    uint8_t *blk = src_load(s, baddr, bsize);
    if (!blk) FAIL("a direct block of %llu bytes that cannot be read", (unsigned long long)bsize);
    int bad = memcmp(blk, "FHDB", 4) != 0 || blk[4] != 0 || le(blk + 5, s->sa) != h->addr ||
              le(blk + 5 + s->sa, h->off_size) != boff;
    if (!bad && h->dchk) { /* over the whole block, its own checksum field taken as 0 */
      uint8_t *sum = blk + 5 + s->sa + h->off_size;
      uint64_t stored = le(sum, 4);
      memset(sum, 0, 4);
      bad = lookup3(blk, (size_t)bsize) != stored;
    }
    free(blk);
    if (bad)
      FAIL("a direct block at offset %llu whose signature, version, checksum, heap address or offset is wrong (fractal "
           "heap at offset %llu)", (unsigned long long)baddr, (unsigned long long)h->at);
    *checked = 1;
  }
  uint64_t rel = off - boff;
  if (n > h->max_man) /* libhdf5 refuses it (it should be a huge object) */
    FAIL("an object of %llu bytes in the fractal heap at offset %llu, whose objects have at most %llu",
         (unsigned long long)n, (unsigned long long)h->at, (unsigned long long)h->max_man);
  if (rel < h->dhdr || n == 0 || n > bsize - rel)
    FAIL("an object of %llu bytes at heap offset %llu outside its direct block (%llu bytes at offset %llu)",
         (unsigned long long)n, (unsigned long long)off, (unsigned long long)bsize, (unsigned long long)baddr);
  if ((*obj = src_load(s, baddr + rel, n)) == NULL) FAIL("an object of %llu bytes that cannot be read", (unsigned long long)n);
  *len = n;
  return NULL;
}

/* ---- v2 B-trees ------------------------------------------------------------------------------- */

typedef struct btree {
  uint64_t at;
  unsigned type, rec, depth;
  uint64_t node;
  uint64_t max_nrec[BT_MAX_DEPTH + 1], cum_max[BT_MAX_DEPTH + 1];
  unsigned nrec_size, cum_size[BT_MAX_DEPTH + 1];
  uint64_t seen, total, nodes; /* records visited, the header's total, nodes visited */
  /* each record's check */
  const char *(*record)(void *ctx, const uint8_t *r, char *why, size_t ws);
  void *ctx;
} btree;

static const char *bt_node(const src *s, btree *t, uint64_t addr, unsigned depth, uint64_t nrec, uint64_t *all,
                           char *why, size_t ws) {
#define BFAIL(fmt, ...) FAIL("its v2 B-tree at offset %llu " fmt, (unsigned long long)t->at, __VA_ARGS__)
  if (nrec > t->max_nrec[depth])
    BFAIL("has a node of %llu records where %llu fit", (unsigned long long)nrec, (unsigned long long)t->max_nrec[depth]);
  /* a real tree's nodes are disjoint parts of the file */
  if (++t->nodes > s->size / t->node) BFAIL("%s", "has more nodes than the file holds (a node reached twice?)");
  uint64_t at = addr > s->size ? UINT64_MAX : s->base + addr;
  uint8_t *b = at == UINT64_MAX ? NULL : src_load(s, at, t->node);
  if (!b) BFAIL("has a node at address %llu outside the file", (unsigned long long)addr);
  const char *problem = NULL;
  if (memcmp(b, depth ? "BTIN" : "BTLF", 4) != 0 || b[4] != 0 || b[5] != t->type) {
    snprintf(why, ws, "its v2 B-tree at offset %llu has no %s node at offset %llu (signature, version 0, type %u)",
             (unsigned long long)t->at, depth ? "internal" : "leaf", (unsigned long long)at, t->type);
    problem = why;
  }
  *all = nrec;
  if (t->seen + nrec > t->total && !problem) {
    snprintf(why, ws, "its v2 B-tree at offset %llu has more records than the %llu its header counts",
             (unsigned long long)t->at, (unsigned long long)t->total);
    problem = why;
  }
  t->seen += nrec;
  /* the checksum follows the records (a leaf) or the child pointers (an internal node) */
  uint64_t psize = s->sa + t->nrec_size + (depth > 1 ? t->cum_size[depth - 1] : 0),
           used = 6 + nrec * t->rec + (depth > 0 ? (nrec + 1) * psize : 0);
  if (!problem && (used > t->node - 4 || !checksum_ok(b, used + 4))) {
    snprintf(why, ws, "its v2 B-tree at offset %llu has a node at offset %llu whose %s", (unsigned long long)t->at,
             (unsigned long long)at, used > t->node - 4 ? "pointers run past it" : "checksum does not match");
    problem = why;
  }
  for (uint64_t i = 0; i < nrec && !problem; i++) problem = t->record(t->ctx, b + 6 + i * t->rec, why, ws);
  if (depth > 0 && !problem) {
    uint64_t p = 6 + nrec * t->rec;
    for (uint64_t c = 0; c <= nrec && !problem; c++, p += psize) {
      uint64_t caddr = le(b + p, s->sa), cnrec = le(b + p + s->sa, t->nrec_size), call = cnrec, got = 0;
      if (depth > 1) call = le(b + p + s->sa + t->nrec_size, t->cum_size[depth - 1]);
      problem = bt_node(s, t, caddr, depth - 1, cnrec, &got, why, ws);
      if (!problem && got != call) {
        snprintf(why, ws, "its v2 B-tree at offset %llu has a node claiming %llu records below it, which holds %llu",
                 (unsigned long long)t->at, (unsigned long long)call, (unsigned long long)got);
        problem = why;
      }
      *all += got;
    }
  }
  free(b);
  return problem;
#undef BFAIL
}

/* Checks the v2 B-tree at address addr, of record type `type` and record size rec, calling
 * record() on each record. */
static const char *bt_check(const src *s, uint64_t addr, unsigned type, unsigned rec,
                            const char *(*record)(void *, const uint8_t *, char *, size_t), void *ctx, char *why, size_t ws) {
  btree t;
  memset(&t, 0, sizeof t);
  unsigned sa = s->sa, sl = s->sl;
  uint8_t b[16 + 8 + 2 + 8 + 4];
  t.at = addr > s->size ? UINT64_MAX : s->base + addr;
  if (src_read(s, t.at, 16 + sa + 2 + sl + 4, b) != 0)
    FAIL("its v2 B-tree header at address %llu lies outside the file", (unsigned long long)addr);
  if (memcmp(b, "BTHD", 4) != 0) FAIL("no v2 B-tree at offset %llu (no BTHD signature)", (unsigned long long)t.at);
#define BFAIL(fmt, ...) FAIL("its v2 B-tree at offset %llu " fmt, (unsigned long long)t.at, __VA_ARGS__)
  if (b[4] != 0) BFAIL("has version %u", b[4]);
  if (!checksum_ok(b, 16 + sa + 2 + sl + 4)) BFAIL("%s", "has a header whose checksum does not match");
  if (b[5] != type) BFAIL("has records of type %u, expected %u", b[5], type);
  t.type = type;
  t.rec = rec;
  t.node = le(b + 6, 4);
  t.depth = (unsigned)le(b + 12, 2);
  uint64_t rsize = le(b + 10, 2), root_nrec = le(b + 16 + sa, 2);
  t.total = le(b + 16 + sa + 2, sl);
  if (rsize != rec) BFAIL("has records of %llu bytes, expected %u", (unsigned long long)rsize, rec);
  if (t.node < 64 || t.node > BT_MAX_NODE || t.node > s->size) BFAIL("has nodes of %llu bytes", (unsigned long long)t.node);
  if (t.depth > BT_MAX_DEPTH) BFAIL("is %u levels deep (kcb reads at most %d)", t.depth, BT_MAX_DEPTH);
  /* Each level's capacity and the sizes of the record counts in internal nodes, as libhdf5 derives them. */
  t.max_nrec[0] = t.cum_max[0] = (t.node - 10) / rec;
  t.nrec_size = enc_size(t.max_nrec[0]);
  for (unsigned d = 1; d <= t.depth; d++) {
    uint64_t psize = sa + t.nrec_size + (d > 1 ? t.cum_size[d - 1] : 0);
    t.max_nrec[d] = t.node > 10 + psize ? (t.node - 10 - psize) / (rec + psize) : 0;
    if (t.max_nrec[d] == 0) BFAIL("has nodes of %llu bytes, too small for %u levels", (unsigned long long)t.node, t.depth);
    if (t.cum_max[d - 1] > ((uint64_t)1 << 48) / (t.max_nrec[d] + 1))
      BFAIL("is %u levels deep, more than its file could hold", t.depth);
    t.cum_max[d] = (t.max_nrec[d] + 1) * t.cum_max[d - 1] + t.max_nrec[d];
    t.cum_size[d] = enc_size(t.cum_max[d]);
  }
  if (t.total > s->size / rec) BFAIL("counts %llu records, more than the file could hold", (unsigned long long)t.total);
  if (is_undef(b + 16, sa)) {
    if (t.total) BFAIL("counts %llu records but has no root node", (unsigned long long)t.total);
    return NULL;
  }
  t.record = record;
  t.ctx = ctx;
  uint64_t all = 0;
  const char *problem = bt_node(s, &t, le(b + 16, sa), t.depth, root_nrec, &all, why, ws);
  if (!problem && all != t.total)
    BFAIL("counts %llu records in its header but holds %llu", (unsigned long long)t.total, (unsigned long long)all);
  return problem;
#undef BFAIL
}

/* ---- link info and attribute info --------------------------------------------------------------- */

typedef struct dense_ctx {
  const src *s;
  heap *h;
  int links;        /* links (record types 5, 6) or attributes (8, 9) */
  unsigned id_at;   /* where the heap ID lies in a record */
} dense_ctx;

static const char *dense_record(void *ctx, const uint8_t *r, char *why, size_t ws) {
  dense_ctx *c = ctx;
  if (!c->links && (r[8] & 0x02))
    FAIL("a shared attribute in dense storage (a message shared with other objects), which kcb does not read");
  uint8_t *obj = NULL;
  uint64_t n = 0;
  const char *problem = heap_object(c->s, c->h, r + c->id_at, &obj, &n, why, ws);
  if (!problem) {
    char inner[200];
    problem = c->links ? kcb__h5_guard_link_problem(c->s, obj, n, inner, sizeof inner)
                       : kcb__h5_guard_attr_problem(c->s, obj, n, inner, sizeof inner);
    if (problem) {
      snprintf(why, ws, "%s (the %s stored at offset %llu of its dense storage)", problem, c->links ? "link" : "attribute",
               (unsigned long long)(le(r + c->id_at + 1, c->h->off_size)));
      problem = why;
    }
  }
  free(obj);
  return problem;
}

const char *kcb__h5_guard_dense_problem(const src *s, unsigned type, const uint8_t *d, uint64_t n, char *why, size_t ws) {
  int links = type == 0x02;
  if (n < 2) FAIL("a message of %llu bytes is cut short", (unsigned long long)n);
  if (d[0] != 0) FAIL("version %u (expected 0)", d[0]);
  if (d[1] & ~3u) FAIL("unknown flags 0x%02x", d[1]);
  uint64_t p = 2 + ((d[1] & 1) ? (links ? 8 : 2) : 0), need = p + (uint64_t)s->sa * ((d[1] & 2) ? 3 : 2);
  if (need > n) FAIL("its %llu bytes are cut short (%llu needed)", (unsigned long long)n, (unsigned long long)need);
  if (is_undef(d + p, s->sa)) return NULL; /* compact storage: the messages are in the header */
  heap h;
  const char *problem = heap_open(s, le(d + p, s->sa), links ? 7 : 8, &h, why, ws);
  /* the name index, then the creation order index */
  for (int k = 0; k < ((d[1] & 2) ? 2 : 1) && !problem; k++) {
    const uint8_t *bt = d + p + (uint64_t)s->sa * (1 + (unsigned)k);
    dense_ctx c = {s, &h, links, 0};
    unsigned rtype, rec;
    if (links) rtype = 5 + (unsigned)k, rec = k ? 8 + 7 : 4 + 7, c.id_at = k ? 8 : 4;
    else rtype = 8 + (unsigned)k, rec = k ? 8 + 1 + 4 : 8 + 1 + 4 + 4, c.id_at = 0;
    if (is_undef(bt, s->sa)) {
      if (k == 0) {
        snprintf(why, ws, "dense storage without a name index");
        problem = why;
      }
      continue;
    }
    problem = bt_check(s, le(bt, s->sa), rtype, rec, dense_record, &c, why, ws);
  }
  heap_close(&h);
  return problem;
}
