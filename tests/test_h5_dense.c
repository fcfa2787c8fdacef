/* test_h5_dense.c — new-style HDF5 groups and dense storage (lib/io/h5_guard_dense.c): files h5py
 * writes with track_order=True or libver='latest' (tests/data/saving/h5_dense_make.py) are read like
 * the old-style original, and each with one field of a link message, a fractal heap or a v2 B-tree
 * changed is refused with KCB_EFORMAT naming the file and what is wrong, before libhdf5 1.10 (which
 * decodes link messages unchecked: a corrupt one in dense storage was a double free in
 * H5G__dense_iterate) looks at it. The structures are found here from the file format (HDF5 File
 * Format Specification §III.G, §III.A.2, §IV.A.2.g), with h5py's 8-byte addresses and lengths. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test_helpers.h"

static char tmpdir[64];

/* Bob Jenkins' lookup3 (hashlittle, initial value 0): the checksum HDF5 stores after each block of
 * version-2 metadata, which libhdf5 checks (so does the guard); recomputed here after each change so
 * that the change itself is what the guard finds. */
static uint32_t rot(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

static uint32_t lookup3(const char *key, size_t n) {
  const uint8_t *k = (const uint8_t *)key;
  uint32_t v[3];
  v[0] = v[1] = v[2] = 0xdeadbeefu + (uint32_t)n;
  while (n > 12) {
    for (int i = 0; i < 12; i++) v[i / 4] += (uint32_t)k[i] << (8 * (i % 4));
    uint32_t a = v[0], b = v[1], c = v[2];
    a -= c; a ^= rot(c, 4); c += b;
    b -= a; b ^= rot(a, 6); a += c;
    c -= b; c ^= rot(b, 8); b += a;
    a -= c; a ^= rot(c, 16); c += b;
    b -= a; b ^= rot(a, 19); a += c;
    c -= b; c ^= rot(b, 4); b += a;
    v[0] = a, v[1] = b, v[2] = c;
    n -= 12;
    k += 12;
  }
  if (n == 0) return v[2];
  for (size_t i = 0; i < n; i++) v[i / 4] += (uint32_t)k[i] << (8 * (i % 4));
  uint32_t a = v[0], b = v[1], c = v[2];
  c ^= b; c -= rot(b, 14);
  a ^= c; a -= rot(c, 11);
  b ^= a; b -= rot(a, 25);
  c ^= b; c -= rot(b, 16);
  a ^= c; a -= rot(c, 4);
  b ^= a; b -= rot(a, 14);
  c ^= b; c -= rot(b, 24);
  return c;
}

/* Stores the checksum of the n bytes at p after them. */
static void seal(char *p, size_t n) { test_put_le(p + n, lookup3(p, n), 4); }

/* The direct block (FHDB) holding file offset `at` of fractal heap `heap` (8-byte addresses): its
 * checksum recomputed over the whole block, the checksum field taken as 0. */
static void seal_dblock(char *buf, size_t heap, size_t at) {
  size_t o = at;
  while (memcmp(buf + o, "FHDB", 4) != 0) o--;
  uint64_t width = test_get_le(buf + heap + 110, 2), start = test_get_le(buf + heap + 112, 8);
  unsigned off_size = ((unsigned)test_get_le(buf + heap + 128, 2) + 7) / 8;
  uint64_t boff = test_get_le(buf + o + 13, (int)off_size), size = start, row_off = 0;
  for (int row = 0; boff - row_off >= width * size; row++) { /* rows 0 and 1: the starting size; then doubling */
    row_off += width * size;
    if (row > 0) size *= 2;
  }
  char *sum = buf + o + 13 + off_size;
  test_put_le(sum, 0, 4);
  test_put_le(sum, lookup3(buf + o, (size_t)size), 4);
}

static int setup(void **state) {
  (void)state;
  return test_tmpdir_make(tmpdir, sizeof tmpdir, "kcb_test_h5_dense_");
}

static int teardown(void **state) {
  (void)state;
  return test_tmpdir_remove(tmpdir);
}

static char *fixture(const char *name, size_t *len) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", KCB_SAVING_DATA, name);
  return test_slurp(path, len);
}

/* The offset of the n-th (from 0) 4-byte signature sig whose byte at +k is v (k < 0: any). */
static size_t find_sig(const char *buf, size_t len, const char *sig, int k, int v, int n) {
  for (size_t i = 0; i + 64 <= len; i++)
    if (memcmp(buf + i, sig, 4) == 0 && (k < 0 || (uint8_t)buf[i + k] == v) && n-- == 0) return i;
  fail_msg("no %s (byte %d = %d) number %d", sig, k, v, n);
  return 0;
}

/* The link message (format spec §IV.A.2.g) naming `name`: version 1, flags, then optional link
 * type, creation order and character set, a 1-byte name length and the name. */
static size_t link_message(const char *buf, size_t len, const char *name) {
  size_t nl = strlen(name);
  for (size_t i = 16; i + nl <= len; i++) {
    if (memcmp(buf + i, name, nl) != 0) continue;
    for (size_t back = 3; back <= 13 && back <= i; back++) {
      size_t m = i - back;
      unsigned flags = (uint8_t)buf[m + 1];
      if (buf[m] != 1 || (flags & ~0x1cu)) continue;
      size_t at = m + 2 + ((flags & 8) ? 1 : 0) + ((flags & 4) ? 8 : 0) + ((flags & 0x10) ? 1 : 0);
      if (at + 1 == i && (uint8_t)buf[at] == nl) return m;
    }
  }
  fail_msg("no link message for '%s'", name);
  return 0;
}

/* Refused by the readers with KCB_EFORMAT and `needle`; the message names the file. */
static void assert_refused(const char *path, const char *needle) {
  kcb_checkpoint_info info;
  assert_error(kcb_checkpoint_info_read(&info, path), KCB_EFORMAT, needle);
  assert_non_null(strstr(kcb_error_last(), path));
  kcb_checkpoint_file *f = NULL;
  assert_error(kcb_checkpoint_file_open(&f, path), KCB_EFORMAT, needle);
  assert_null(f);
}

/* h5py's new-style copies read like the old-style original: same variables, same values. */
static void test_accepted(void **state) {
  (void)state;
  static const char *names[] = {"order.weights.h5", "dense.weights.h5"};
  char orig[512];
  snprintf(orig, sizeof orig, "%s/weights_h5", KCB_H5_CORPUS);
  size_t olen;
  char *obuf = test_slurp(orig, &olen);
  const char *opath = test_write_in(tmpdir, "orig.weights.h5", obuf + 1, olen - 1); /* byte 0: the fuzz layout */
  free(obuf);
  kcb_checkpoint_file *o = NULL;
  assert_ok(kcb_checkpoint_file_open(&o, opath));
  for (size_t k = 0; k < 2; k++) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", KCB_SAVING_DATA, names[k]);
    kcb_checkpoint_info info;
    assert_ok(kcb_checkpoint_info_read(&info, path));
    kcb_checkpoint_file *f = NULL;
    assert_ok(kcb_checkpoint_file_open(&f, path));
    assert_int_equal(kcb_checkpoint_file_var_count(f), kcb_checkpoint_file_var_count(o));
    assert_true(kcb_checkpoint_file_var_count(f) > 8);
    for (size_t i = 0; i < kcb_checkpoint_file_var_count(f); i++) {
      kcb_var_stats a, b;
      assert_ok(kcb_checkpoint_file_stats(f, i, &a));
      assert_ok(kcb_checkpoint_file_stats(o, i, &b));
      assert_int_equal(kcb_checkpoint_file_var(f, i)->count, kcb_checkpoint_file_var(o, i)->count);
      assert_true(a.mean == b.mean && a.min == b.min && a.max == b.max);
    }
    kcb_checkpoint_file_close(f);
  }
  kcb_checkpoint_file_close(o);
}

/* dense.weights.h5: the root group's links (44) are in a fractal heap whose root is an indirect
 * block; its 40-odd attributes in another heap with a two-level B-tree. */
static void test_corrupt_dense(void **state) {
  (void)state;
  size_t len;
  char *orig = fixture("dense.weights.h5", &len), *buf = malloc(len), needle[256];
  assert_non_null(buf);
  /* the root's link heap: heap IDs of 7 bytes, a root indirect block (current rows > 0) */
  size_t heap = 0;
  for (int n = 0;; n++) {
    heap = find_sig(orig, len, "FRHP", 5, 7, n);
    if (test_get_le(orig + heap + 140, 2) > 0) break;
  }
  size_t name_bt = find_sig(orig, len, "BTHD", 5, 5, 0), attr_bt = find_sig(orig, len, "BTHD", 5, 8, 0);
  size_t leaf = (size_t)test_get_le(orig + name_bt + 16, 8), link = link_message(orig, len, "x007");
  size_t attr = 0;
  for (size_t i = 9; i + 9 < len; i++)
    if (memcmp(orig + i, "extra_005", 9) == 0 && orig[i - 9] == 3) attr = i - 9;
  assert_true(attr > 0);
  assert_int_equal(orig[heap + 4], 0);
  size_t attr_heap = find_sig(orig, len, "FRHP", 5, 8, 0);
  assert_int_equal(test_get_le(orig + name_bt + 12, 2), 0); /* the name index is one leaf */
  assert_memory_equal(orig + leaf, "BTLF", 4);
  uint64_t leaf_nrec = test_get_le(orig + name_bt + 24, 2);

  for (int k = 0; k < 14; k++) {
    memcpy(buf, orig, len);
    switch (k) {
      case 0: /* libhdf5 would decode a link of version 4 (the double free in H5G__dense_iterate) */
        buf[link] = 4;
        seal_dblock(buf, heap, link);
        snprintf(needle, sizeof needle, "corrupt HDF5 link info in the object header at offset 48: a link message of "
                 "version 4 (the link stored at offset");
        break;
      case 1: /* a name running past its heap object */
        buf[link + 2 + ((buf[link + 1] & 8) ? 1 : 0) + ((buf[link + 1] & 4) ? 8 : 0) + ((buf[link + 1] & 0x10) ? 1 : 0)] = (char)200;
        seal_dblock(buf, heap, link);
        snprintf(needle, sizeof needle, "a link name of 200 bytes in a message with");
        break;
      case 2:
        test_put_le(buf + heap + 5, 9, 2);
        seal(buf + heap, 142);
        snprintf(needle, sizeof needle, "its fractal heap at offset %zu has heap IDs of 9 bytes, expected 7", heap);
        break;
      case 3: /* a heap deeper than kcb reads (rows of indirect blocks) */
        test_put_le(buf + heap + 140, 60, 2);
        seal(buf + heap, 142);
        snprintf(needle, sizeof needle, "its fractal heap at offset %zu has 60 rows in its root indirect block, more than "
                 "its 9 rows of direct blocks", heap);
        break;
      case 4: { /* the root indirect block's first direct block moved past the end of the file */
        size_t ib = (size_t)test_get_le(orig + heap + 132, 8);
        assert_memory_equal(orig + ib, "FHIB", 4);
        test_put_le(buf + ib + 5 + 8 + 4, (uint64_t)len + 4096, 8);
        seal(buf + ib, 5 + 8 + 4 + 8 * test_get_le(orig + heap + 140, 2) * test_get_le(orig + heap + 110, 2));
        snprintf(needle, sizeof needle, "a direct block of 512 bytes at offset %zu outside the file (fractal heap at "
                 "offset %zu)", len + 4096, heap);
        break;
      }
      case 5:
        test_put_le(buf + heap + 120, 3 << 20, 8); /* maximum direct block size: not a power of two */
        seal(buf + heap, 142);
        snprintf(needle, sizeof needle, "its fractal heap at offset %zu has direct blocks of 512 to 3145728 bytes", heap);
        break;
      case 6: /* the name index's records one byte longer than type 5's */
        test_put_le(buf + name_bt + 10, 12, 2);
        seal(buf + name_bt, 34);
        snprintf(needle, sizeof needle, "its v2 B-tree at offset %zu has records of 12 bytes, expected 11", name_bt);
        break;
      case 7: { /* one record more in the header than in the tree: libhdf5 sizes its link table by it */
        uint64_t total = test_get_le(orig + name_bt + 26, 8);
        test_put_le(buf + name_bt + 26, total + 1, 8);
        seal(buf + name_bt, 34);
        snprintf(needle, sizeof needle, "its v2 B-tree at offset %zu counts %llu records in its header but holds %llu",
                 name_bt, (unsigned long long)total + 1, (unsigned long long)total);
        break;
      }
      case 8: /* a leaf's first heap ID claiming 4000 bytes, past its 512-byte direct block */
        test_put_le(buf + leaf + 6 + 4 + 1 + 4, 4000, 2);
        seal(buf + leaf, 6 + leaf_nrec * 11);
        snprintf(needle, sizeof needle, "an object of 4000 bytes at heap offset");
        break;
      case 13: /* 65535 bytes: more than the heap's objects may have (libhdf5 refuses it mid-iteration) */
        test_put_le(buf + leaf + 6 + 4 + 1 + 4, 0xffff, 2);
        seal(buf + leaf, 6 + leaf_nrec * 11);
        snprintf(needle, sizeof needle, "an object of 65535 bytes in the fractal heap at offset %zu, whose objects have at "
                 "most 4096", heap);
        break;
      case 9: /* an attribute in dense storage whose name runs past its message */
        test_put_le(buf + attr + 2, 0x4000, 2);
        seal_dblock(buf, attr_heap, attr);
        snprintf(needle, sizeof needle, "corrupt HDF5 attribute info in the object header at offset 48: its name, type and "
                 "shape (");
        break;
      case 10: /* the attributes' B-tree deeper than kcb reads */
        test_put_le(buf + attr_bt + 12, 9, 2);
        seal(buf + attr_bt, 34);
        snprintf(needle, sizeof needle, "its v2 B-tree at offset %zu is 9 levels deep (kcb reads at most 8)", attr_bt);
        break;
      case 11: /* a link changed without its block's checksum: libhdf5 would fail in the middle of H5Literate */
        buf[link] = 4;
        snprintf(needle, sizeof needle, "a direct block at offset");
        break;
      case 12: /* the same for a B-tree leaf */
        test_put_le(buf + leaf + 6, 0x12345678, 4);
        snprintf(needle, sizeof needle, "its v2 B-tree at offset %zu has a node at offset %zu whose checksum does not match",
                 name_bt, leaf);
        break;
    }
    char name[64];
    snprintf(name, sizeof name, "dense%d.weights.h5", k);
    assert_refused(test_write_in(tmpdir, name, buf, len), needle);
  }
  free(buf);
  free(orig);
}

/* order.weights.h5: new-style groups with compact link messages in their headers, and
 * optimizer/vars (10 datasets) in dense storage, looked into on the way to its datasets. */
static void test_corrupt_order(void **state) {
  (void)state;
  size_t len;
  char *orig = fixture("order.weights.h5", &len), *buf = malloc(len), needle[256];
  assert_non_null(buf);
  size_t link = link_message(orig, len, "optimizer"), dlink = link_message(orig, len, "7");
  for (int k = 0; k < 4; k++) {
    memcpy(buf, orig, len);
    size_t m = k < 3 ? link : dlink, name_len = m + 2 + ((buf[m + 1] & 8) ? 1 : 0) + ((buf[m + 1] & 4) ? 8 : 0) +
                                                ((buf[m + 1] & 0x10) ? 1 : 0);
    switch (k) {
      case 0: /* a compact link whose name runs past its message */
        buf[name_len] = 100;
        snprintf(needle, sizeof needle, "corrupt HDF5 link in the object header at offset");
        break;
      case 1:
        buf[name_len] = 100;
        snprintf(needle, sizeof needle, "a link name of 100 bytes in a message with");
        break;
      case 2: /* unknown flags */
        buf[m + 1] = (char)0xe0;
        snprintf(needle, sizeof needle, "a link message with unknown flags 0xe0");
        break;
      case 3: /* a link in optimizer/vars' dense storage: a name with a NUL inside */
        buf[name_len + 1] = 0;
        seal_dblock(buf, find_sig(orig, len, "FRHP", 5, 7, 0), name_len);
        snprintf(needle, sizeof needle, "corrupt HDF5 link info in the object header at offset");
        break;
    }
    char name[64];
    snprintf(name, sizeof name, "order%d.weights.h5", k);
    const char *path = test_write_in(tmpdir, name, buf, len);
    if (k < 3) {
      assert_refused(path, needle);
    } else { /* found when the loader looks into optimizer/vars */
      kcb_checkpoint_file *f = NULL;
      assert_error(kcb_checkpoint_file_open(&f, path), KCB_EFORMAT, needle);
      assert_non_null(strstr(kcb_error_last(), "a link name with a NUL inside (the link stored at offset"));
    }
  }
  free(buf);
  free(orig);
}

/* The corpus's layout-chunked seed (h5py: a kernel in chunks through shuffle, deflate and
 * fletcher32): its filter pipeline message (format spec §IV.A.2.l, version 1), whose filter names
 * and parameters libhdf5 1.10 reads by their own counts, past the message if they say so. */
static void test_corrupt_pipeline(void **state) {
  (void)state;
  char path[512], needle[256];
  snprintf(path, sizeof path, "%s/layout-chunked", KCB_H5_CORPUS);
  size_t len;
  char *orig = test_slurp(path, &len), *buf = malloc(len);
  assert_non_null(buf);
  memmove(orig, orig + 1, --len); /* byte 0: the fuzz layout */
  assert_ok(kcb_checkpoint_info_read(&(kcb_checkpoint_info){0}, test_write_in(tmpdir, "chunked.weights.h5", orig, len)));
  size_t pl = 0; /* a version 1 object header message of type 0x000b: type, size, flags, 3 reserved */
  for (size_t i = 0; i + 24 < len && !pl; i++)
    if (test_get_le(orig + i, 2) == 0x0b && orig[i + 8] == 1 && orig[i + 9] == 3 && test_get_le(orig + i + 2, 2) >= 32) pl = i + 8;
  assert_true(pl > 0);
  size_t tree = find_sig(orig, len, "TREE", 4, 1, 0); /* the kernel's chunk index, one leaf */
  assert_int_equal(orig[tree + 5], 0);
  /* the kernel's dataspace (type 1: version 1, rank 2, maximum dimensions too) and fill value (type
   * 5: version 2, a value of 0 bytes defined) messages */
  size_t space = 0, fill = 0;
  for (size_t i = 0; i + 24 < len && !space; i++)
    if (test_get_le(orig + i, 2) == 1 && test_get_le(orig + i + 2, 2) == 40 && orig[i + 8] == 1 && orig[i + 9] == 2 && orig[i + 10] == 1)
      space = i + 8;
  for (size_t i = 0; i + 24 < len && !fill; i++)
    if (test_get_le(orig + i, 2) == 5 && test_get_le(orig + i + 2, 2) == 8 && orig[i + 8] == 2 && orig[i + 11] == 1) fill = i + 8;
  assert_true(space > 0 && fill > 0);
  size_t layout = 0; /* the kernel's layout message (type 8: version 3, chunked, 3 dimensions, a B-tree address, sizes) */
  for (size_t i = 0; i + 24 < len && !layout; i++)
    if (test_get_le(orig + i, 2) == 8 && orig[i + 8] == 3 && orig[i + 9] == 2 && orig[i + 10] == 3) layout = i + 8;
  assert_true(layout > 0);
  for (int k = 0; k < 9; k++) {
    memcpy(buf, orig, len);
    switch (k) {
      case 0: /* the first filter (shuffle) claims 32767 parameters */
        test_put_le(buf + pl + 8 + 6, 0x7fff, 2);
        snprintf(needle, sizeof needle, "corrupt HDF5 filter pipeline in the object header at offset");
        break;
      case 1:
        test_put_le(buf + pl + 8 + 6, 0x7fff, 2);
        snprintf(needle, sizeof needle, "filter 0's 32767 parameters run past the pipeline message");
        break;
      case 2: /* 33 filters */
        buf[pl + 1] = 33;
        snprintf(needle, sizeof needle, "a filter pipeline of 33 filters");
        break;
      case 3: /* shuffle turned into n-bit, whose parameters libhdf5 trusts */
        test_put_le(buf + pl + 8, 5, 2);
        snprintf(needle, sizeof needle, "filter 0 is HDF5 filter 5 (n-bit), which kcb does not read");
        break;
      case 4: { /* the first chunk's address past the end of the file (key: size, mask, 3 offsets; then the address) */
        size_t child = tree + 8 + 16 + 8 + 8 * 3;
        test_put_le(buf + child, (uint64_t)len, 8);
        snprintf(needle, sizeof needle, "bytes at address %zu, outside the file (%zu bytes)", len, len);
        break;
      }
      case 6: /* libhdf5 would read a third dimension and its maximum past the message */
        buf[space + 1] = 3;
        snprintf(needle, sizeof needle, "corrupt HDF5 dataspace in the object header at offset %zu: a dataspace of 3 "
                 "dimensions runs past its 40-byte message", space - 24); /* the first message, after a 16-byte prefix */
        break;
      case 7: /* and copy a fill value of 65536 bytes out of 8 */
        test_put_le(buf + fill + 4, 65536, 4);
        snprintf(needle, sizeof needle, "a fill value of 65536 bytes runs past its 8-byte message");
        break;
      case 8: /* chunks of 16384 x 16384 for a 4 x 8 kernel: libhdf5 1.10 read out of bounds (SIGSEGV) */
        test_put_le(buf + layout + 3 + 8, 16384, 4);
        test_put_le(buf + layout + 3 + 8 + 4, 16384, 4);
        snprintf(needle, sizeof needle, "chunks of 16384 elements along dimension 0 of a dataset that holds at most 4");
        break;
      case 5: /* a leaf claiming 60000 entries */
        test_put_le(buf + tree + 6, 60000, 2);
        snprintf(needle, sizeof needle, "its chunk index has a node of 60000 entries at offset %zu running past the file", tree);
        break;
    }
    kcb_checkpoint_file *f = NULL;
    const char *p = test_write_in(tmpdir, "badpipe.weights.h5", buf, len);
    assert_error(kcb_checkpoint_file_open(&f, p), KCB_EFORMAT, needle);
    assert_non_null(strstr(kcb_error_last(), p));
  }
  free(buf);
  free(orig);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_accepted),
      cmocka_unit_test(test_corrupt_dense),
      cmocka_unit_test(test_corrupt_order),
      cmocka_unit_test(test_corrupt_pipeline),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
