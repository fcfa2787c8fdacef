/* test_h5_guard.c — corrupt HDF5 global heaps (where h5py keeps variable-length strings) are refused
 * with KCB_EFORMAT naming the heap's offset, before libhdf5 1.10 follows them: unguarded, the
 * fuzzer's inputs crash it (H5HG_read), hang it (a free-space object of size 0) or make it
 * allocate gigabytes. Each case is a Keras fixture with one heap field changed, decoded here from
 * the file format (GCOL collections: signature, version, size; objects: index, refcount, size). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <zip.h>

#include "test_helpers.h"

static char tmpdir[64];

/* The offset of the first global heap collection. */
static size_t first_gcol(const char *buf, size_t len) {
  for (size_t i = 0; i + 16 <= len; i++)
    if (memcmp(buf + i, "GCOL", 4) == 0 && buf[i + 4] == 1) return i;
  fail_msg("no GCOL collection");
  return 0;
}

/* The offset (from the collection) of its largest object's header: in m.h5, model_config's. */
static size_t largest_object(const char *buf, size_t gcol) {
  size_t cs = test_get_le(buf + gcol + 8, 8), best = 0;
  uint64_t best_size = 0;
  for (size_t p = 16; p + 16 <= cs;) {
    unsigned idx = (unsigned)test_get_le(buf + gcol + p, 2);
    uint64_t size = test_get_le(buf + gcol + p + 8, 8);
    if (idx == 0) break;
    if (size > best_size) best = p, best_size = size;
    p += 16 + ((size + 7) & ~(uint64_t)7);
  }
  assert_true(best > 0);
  return best;
}

static int setup(void **state) {
  (void)state;
  return test_tmpdir_make(tmpdir, sizeof tmpdir, "kcb_test_h5_guard_");
}

static int teardown(void **state) {
  (void)state;
  return test_tmpdir_remove(tmpdir);
}

/* Both loaders refuse the file with KCB_EFORMAT and `needle`. */
static void assert_refused(const char *path, const char *needle) {
  kcb_model *m = NULL;
  assert_error(kcb_model_load(&m, path, NULL), KCB_EFORMAT, needle);
  assert_null(m);
  kcb_checkpoint_info info;
  assert_error(kcb_checkpoint_info_read(&info, path), KCB_EFORMAT, needle);
}

/* The fuzzer's inputs (first byte: the name's layout, odd = .h5, even = .weights.h5). */
static void test_fuzz_regressions(void **state) {
  (void)state;
  static const struct {
    const char *file, *needle;
  } cases[] = {
      {"crash-h5hg_read-string-length",
       "corrupt HDF5 global heap at offset 2048: object 4 holds 565 bytes, but string 0 of attribute 'training_config' "
       "has length 562"},
      {"timeout-h5hg-free-space-of-size-0",
       "corrupt HDF5 global heap at offset 2048: free space of 0 bytes at +2264 does not fit the collection (4096 bytes)"},
      /* the character type of its strings: refused with the attribute message's datatype */
      {"oom-h5t_conv_vlen-base-type-size",
       "corrupt HDF5 attribute in the object header at offset 96: a number type of 6381568 bytes with 8 bits at bit 0"},
      {"crash-h5a_read-vlen-element-size", "corrupt HDF5 attribute 'model_config': stored strings of 1 bytes, expected 16"},
      /* Attribute messages libhdf5 would decode past their end (H5Aexists, H5Aopen). */
      /* (its root group's local heap is damaged too: its free list starts at an offset whose next
       * pointer lies past the heap; that symbol table message comes first in the header) */
      {"crash-h5o_attr_decode-data-past-message",
       "corrupt HDF5 symbol table in the object header at offset 96: its group's local heap at offset 680 has a free list "
       "that points outside the heap"},
      {"crash-h5o_attr_decode-name-type-shape-past-message",
       "corrupt HDF5 attribute in the object header at offset 96: its name, type and shape (131080 bytes) overrun the "
       "message (56 bytes)"},
      {"crash-h5o_attr_decode-name-not-terminated",
       "corrupt HDF5 attribute in the object header at offset 96: its name is not terminated"},
      {"oom-h5o_attr_decode",
       "corrupt HDF5 attribute in the object header at offset 96: its name, type and shape (88 bytes) overrun the message "
       "(72 bytes)"},
      /* A continuation message's length, which libhdf5 allocates before reading. */
      {"oom-h5o-continuation-chunk-size",
       "corrupt HDF5 object header at offset 96: a chunk of 4211081552 bytes at offset 800 runs past the end of the file "
       "(24144 bytes)"},
      /* Reached through a continuation message whose size is 0 (libhdf5 decodes it anyway). The
       * model loader ignores keras_version's error and reports the missing config instead. */
      /* A local heap's data size, which libhdf5 allocates before reading, in a group looked into
       * on the way to a dataset (each path component's header is checked before the next step). */
      /* (an attribute message of version 14 on the way is refused first: libhdf5 would refuse it too) */
      {"oom-h5hl-local-heap-size", "corrupt HDF5 attribute in the object header at offset 1136: an attribute message of "
       "version 14"},
      /* Dense link storage (fractal heap + v2 B-tree) with a block libhdf5 fails to load in the middle of
       * H5Literate: its error path freed the link table twice (H5G__dense_iterate). */
      {"crash-h5g_dense_iterate-link-version",
       "corrupt HDF5 link info in the object header at offset 8781: its v2 B-tree at offset 11624 has a node at offset "
       "11744 whose checksum does not match"},
      {"crash-h5g_dense_iterate-direct-block-checksum",
       "corrupt HDF5 attribute info in the object header at offset 48: a direct block at offset 29938 whose signature, "
       "version, checksum, heap address or offset is wrong (fractal heap at offset 14851)"},
      /* The same, the block lying past the end of allocated space (the superblock's base address
       * moved by 20 bytes, which moves that end back) though inside the file. */
      {"crash-h5g_dense_iterate-past-eoa",
       "corrupt HDF5 link info in the object header at offset 9761: its fractal heap at offset 12554 has a root direct "
       "block of 512 bytes outside the file"},
      {"timeout-h5hg-unlocated-attribute",
       "corrupt HDF5 global heap at offset 2048: free space of 0 bytes at +1680 does not fit the collection (4096 bytes) "
       "(string 0 of attribute 'layer_names')"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", KCB_H5_REGRESSIONS, cases[i].file);
    size_t len;
    char *buf = test_slurp(path, &len);
    assert_true(len > 1);
    char name[128];
    snprintf(name, sizeof name, "%s%s", cases[i].file, (buf[0] & 1) ? ".h5" : ".weights.h5");
    const char *tmp = test_write_in(tmpdir, name, buf + 1, len - 1);
    if (strstr(cases[i].file, "unlocated") || strstr(cases[i].file, "h5hl") || strstr(cases[i].file, "dense")) {
      kcb_checkpoint_info info;
      assert_error(kcb_checkpoint_info_read(&info, tmp), KCB_EFORMAT, cases[i].needle);
    } else {
      assert_refused(tmp, cases[i].needle);
    }
    free(buf);
  }
}

/* Keras's m.h5 with one field of its first collection changed. */
static void test_corrupt_collections(void **state) {
  (void)state;
  size_t len;
  char path[512], needle[256];
  snprintf(path, sizeof path, "%s/m.h5", KCB_SAVING_DATA);
  char *orig = test_slurp(path, &len), *buf = malloc(len);
  assert_non_null(buf);
  size_t g = first_gcol(orig, len), big = largest_object(orig, g);
  uint64_t big_size = test_get_le(orig + g + big + 8, 8);
  unsigned big_idx = (unsigned)test_get_le(orig + g + big, 2);
  assert_int_equal(test_get_le(orig + g + 8, 8) % 8, 0);
  assert_ok(kcb_checkpoint_info_read(&(kcb_checkpoint_info){0}, test_write_in(tmpdir, "ok.h5", orig, len)));

  for (int k = 0; k < 6; k++) {
    memcpy(buf, orig, len);
    switch (k) {
      case 0: /* version 2 */
        buf[g + 4] = 2;
        snprintf(needle, sizeof needle, "global heap at offset %zu: collection version 2, expected 1", g);
        break;
      case 1: /* a collection past the end of the file */
        test_put_le(buf + g + 8, (uint64_t)1 << 40, 8);
        snprintf(needle, sizeof needle, "global heap at offset %zu: collection size 1099511627776 does not fit", g);
        break;
      case 2: /* the first object runs past the collection: H5HG_read would copy 1 TB */
        test_put_le(buf + g + 16 + 8, (uint64_t)1 << 40, 8);
        snprintf(needle, sizeof needle, "at offset %zu: object 1 of 1099511627776 bytes at +16 runs past the collection", g);
        break;
      case 3: /* free space of size 0: libhdf5's decoder loops forever */
        test_put_le(buf + g + 16, 0, 2);
        test_put_le(buf + g + 16 + 8, 0, 8);
        snprintf(needle, sizeof needle, "at offset %zu: free space of 0 bytes at +16", g);
        break;
      case 4: /* model_config's object renumbered: H5HG_read would index past its table */
        test_put_le(buf + g + big, 0x7fff, 2);
        snprintf(needle, sizeof needle, "at offset %zu: no object %u (string 0 of attribute 'model_config')", g, big_idx);
        break;
      case 5: /* model_config's object one byte shorter than the string's length */
        test_put_le(buf + g + big + 8, big_size - 1, 8);
        snprintf(needle, sizeof needle,
                 "at offset %zu: object %u holds %llu bytes, but string 0 of attribute 'model_config' has length %llu", g,
                 big_idx, (unsigned long long)(big_size - 1), (unsigned long long)big_size);
        break;
    }
    assert_refused(test_write_in(tmpdir, "bad.h5", buf, len), needle);
  }
  free(buf);
  free(orig);
}

/* Copies member `name` of archive `from` into `to`, through `edit` if given. */
static void copy_member(zip_t *from, zip_t *to, const char *name, void (*edit)(char *, size_t)) {
  zip_stat_t st;
  assert_int_equal(zip_stat(from, name, 0, &st), 0);
  char *data = malloc(st.size ? st.size : 1);
  zip_file_t *f = zip_fopen(from, name, 0);
  assert_non_null(f);
  assert_int_equal(zip_fread(f, data, st.size), (zip_int64_t)st.size);
  zip_fclose(f);
  if (edit) edit(data, st.size);
  zip_source_t *src = zip_source_buffer(to, data, st.size, 1);
  assert_non_null(src);
  assert_true(zip_file_add(to, name, src, ZIP_FL_OVERWRITE) >= 0);
}

static size_t keras_gcol;
static void bump_version(char *data, size_t len) {
  keras_gcol = first_gcol(data, len);
  data[keras_gcol + 4] = 2;
}

/* A .keras archive's weights are opened as an in-memory image (core driver): same guard. */
static void test_corrupt_keras_archive(void **state) {
  (void)state;
  char path[512], out[512], needle[256];
  snprintf(path, sizeof path, "%s/m.keras", KCB_SAVING_DATA);
  snprintf(out, sizeof out, "%s/bad.keras", tmpdir);
  int err = 0;
  zip_t *from = zip_open(path, ZIP_RDONLY, &err), *to = zip_open(out, ZIP_CREATE | ZIP_TRUNCATE, &err);
  assert_non_null(from);
  assert_non_null(to);
  copy_member(from, to, "metadata.json", NULL);
  copy_member(from, to, "config.json", NULL);
  copy_member(from, to, "model.weights.h5", bump_version);
  assert_int_equal(zip_close(to), 0);
  zip_discard(from);
  kcb_model *m = NULL;
  snprintf(needle, sizeof needle,
           "bad.keras: corrupt HDF5 global heap at offset %zu: collection version 2, expected 1 (string 0 of attribute 'name')",
           keras_gcol);
  assert_error(kcb_model_load(&m, out, NULL), KCB_EFORMAT, needle);
  assert_null(m);
  /* an encrypted member: said so, naming it (libzip's own words were "No password provided") */
  from = zip_open(path, ZIP_RDONLY, &err), to = zip_open(out, ZIP_CREATE | ZIP_TRUNCATE, &err);
  assert_non_null(from);
  assert_non_null(to);
  copy_member(from, to, "metadata.json", NULL);
  copy_member(from, to, "config.json", NULL);
  copy_member(from, to, "model.weights.h5", NULL);
  assert_int_equal(zip_file_set_encryption(to, (zip_uint64_t)zip_name_locate(to, "model.weights.h5", 0), ZIP_EM_AES_256,
                                           "secret"), 0);
  assert_int_equal(zip_close(to), 0);
  zip_discard(from);
  assert_error(kcb_model_load(&m, out, NULL), KCB_EFORMAT, "bad.keras: member 'model.weights.h5' is encrypted");
  assert_null(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fuzz_regressions),
      cmocka_unit_test(test_corrupt_collections),
      cmocka_unit_test(test_corrupt_keras_archive),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
