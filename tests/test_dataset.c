/* test_dataset.c — IDX and MNIST loading: IDX files written at run time into a temporary directory
 * (plain and gzip), every header and stream error, and the real Fashion-MNIST when installed. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* mkdtemp, lstat, opendir */
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "kcb/kcb.h"

static char tmpdir[64];

/* ---- helpers --------------------------------------------------------------------------- */

/* tmpdir/name in a static rotating buffer, so a test can hold a few paths at once. */
static const char *tmp_path(const char *name) {
  static char bufs[4][512];
  static int next;
  char *p = bufs[next++ % 4];
  snprintf(p, sizeof bufs[0], "%s/%s", tmpdir, name);
  return p;
}

static void write_file(const char *path, const unsigned char *bytes, size_t len, int gzip) {
  if (gzip) {
    gzFile f = gzopen(path, "wb");
    assert_non_null(f);
    if (len) assert_int_equal(gzwrite(f, bytes, (unsigned)len), (int)len);
    assert_int_equal(gzclose(f), Z_OK);
  } else {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
  }
}

static unsigned char *read_whole(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  *len = (size_t)ftell(f);
  rewind(f);
  unsigned char *b = malloc(*len);
  assert_non_null(b);
  assert_int_equal(fread(b, 1, *len, f), *len);
  fclose(f);
  return b;
}

/* The pixel/label value of element i in generated files. */
static unsigned char pattern(size_t i) { return (unsigned char)(i * 37 + 11); }

/* Builds an IDX file (magic 0x0000 type rank, big-endian dims, data) in a malloc'd buffer.
 * `extra` changes the data length: negative truncates, positive appends bytes. */
static unsigned char *make_idx(size_t *len, unsigned char type, int rank, const uint32_t *dims,
                               long extra) {
  size_t n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  size_t header = 4 + 4 * (size_t)rank;
  *len = header + (size_t)((long)n + extra);
  unsigned char *b = malloc(*len + 1);
  assert_non_null(b);
  b[0] = 0, b[1] = 0, b[2] = type, b[3] = (unsigned char)rank;
  for (int i = 0; i < rank; i++)
    for (int k = 0; k < 4; k++) b[4 + 4 * i + k] = (unsigned char)(dims[i] >> (24 - 8 * k));
  for (size_t i = header; i < *len; i++) b[i] = pattern(i - header);
  return b;
}

static void write_idx(const char *path, int rank, const uint32_t *dims, long extra, int gzip) {
  size_t len;
  unsigned char *b = make_idx(&len, 0x08, rank, dims, extra);
  write_file(path, b, len, gzip);
  free(b);
}

/* Loading path fails with code, leaves out NULL, and the message names the file. */
static void expect_error(const char *path, int code) {
  kcb_tensor *t = (kcb_tensor *)1;
  kcb_error_clear();
  int rc = kcb_idx_load(&t, path, 1.0f);
  if (rc != code || !strstr(kcb_error_last(), path))
    print_error("%s: got %s \"%s\"\n", path, kcb_error_name(rc), kcb_error_last());
  assert_int_equal(rc, code);
  assert_null(t);
  assert_non_null(strstr(kcb_error_last(), path));
}

static void remove_tree(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    struct dirent *e;
    char child[1024];
    while (d && (e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      snprintf(child, sizeof child, "%s/%s", path, e->d_name);
      remove_tree(child);
    }
    if (d) closedir(d);
    rmdir(path);
  } else {
    unlink(path);
  }
}

static int group_setup(void **state) {
  (void)state;
  strcpy(tmpdir, "/tmp/kcb_test_dataset_XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state) {
  (void)state;
  remove_tree(tmpdir);
  return 0;
}

/* ---- kcb_idx_load ---------------------------------------------------------------------- */

static void test_plain_values_and_shape(void **state) {
  (void)state;
  const uint32_t dims[3] = {2, 3, 4};
  const char *path = tmp_path("plain3.idx");
  write_idx(path, 3, dims, 0, 0);
  kcb_tensor *t = NULL;
  assert_int_equal(kcb_idx_load(&t, path, 0.5f), 0);
  assert_int_equal(t->rank, 3);
  assert_int_equal(t->shape[0], 2);
  assert_int_equal(t->shape[1], 3);
  assert_int_equal(t->shape[2], 4);
  for (size_t i = 0; i < 24; i++) assert_true(t->data[i] == 0.5f * pattern(i));
  kcb_tensor_free(t);

  const uint32_t one[1] = {7};
  path = tmp_path("plain1.idx");
  write_idx(path, 1, one, 0, 0);
  assert_int_equal(kcb_idx_load(&t, path, 1.0f), 0);
  assert_int_equal(t->rank, 1);
  assert_int_equal(t->shape[0], 7);
  for (size_t i = 0; i < 7; i++) assert_true(t->data[i] == (float)pattern(i));
  kcb_tensor_free(t);
}

static void test_gzip_matches_plain(void **state) {
  (void)state;
  const uint32_t dims[3] = {3, 28, 28};
  const char *plain = tmp_path("same.idx"), *gz = tmp_path("same.idx.gz");
  write_idx(plain, 3, dims, 0, 0);
  write_idx(gz, 3, dims, 0, 1);
  kcb_tensor *a = NULL, *b = NULL;
  assert_int_equal(kcb_idx_load(&a, plain, 1.0f / 255.0f), 0);
  assert_int_equal(kcb_idx_load(&b, gz, 1.0f / 255.0f), 0);
  assert_int_equal(a->rank, b->rank);
  assert_memory_equal(a->shape, b->shape, sizeof a->shape);
  assert_int_equal(kcb_tensor_size(b), 3 * 28 * 28);
  assert_memory_equal(a->data, b->data, sizeof(float) * 3 * 28 * 28);
  assert_true(b->data[5] == pattern(5) * (1.0f / 255.0f));
  kcb_tensor_free(a);
  kcb_tensor_free(b);
}

static void test_bad_magic(void **state) {
  (void)state;
  const uint32_t dims[1] = {4};
  size_t len;
  unsigned char *b = make_idx(&len, 0x08, 1, dims, 0);
  memset(b, 0, 4); /* magic 0x00000000: type byte 0 */
  write_file(tmp_path("zero_magic.idx"), b, len, 0);
  expect_error(tmp_path("zero_magic.idx"), KCB_EFORMAT);
  assert_non_null(strstr(kcb_error_last(), "bad magic 0x00000000"));
  b[0] = 0x1f, b[1] = 0x8c, b[2] = 0x08, b[3] = 0x01; /* nonzero leading bytes */
  write_file(tmp_path("bad_magic.idx"), b, len, 0);
  expect_error(tmp_path("bad_magic.idx"), KCB_EFORMAT);
  assert_non_null(strstr(kcb_error_last(), "magic"));
  write_file(tmp_path("bad_magic.idx.gz"), b, len, 1);
  expect_error(tmp_path("bad_magic.idx.gz"), KCB_EFORMAT);
  free(b);
}

static void test_unsupported_type(void **state) {
  (void)state;
  const uint32_t dims[1] = {4};
  size_t len;
  unsigned char *b = make_idx(&len, 0x0D, 1, dims, 0); /* 0x0D = float32 IDX */
  write_file(tmp_path("float.idx"), b, len, 0);
  expect_error(tmp_path("float.idx"), KCB_EFORMAT);
  assert_non_null(strstr(kcb_error_last(), "0x0d (float32)"));
  free(b);
}

static void test_bad_rank_and_dims(void **state) {
  (void)state;
  const uint32_t zero[3] = {2, 0, 3}, huge[3] = {65536, 65536, 65536};
  size_t len;
  write_idx(tmp_path("zero_dim.idx"), 3, zero, 0, 0);
  expect_error(tmp_path("zero_dim.idx"), KCB_EFORMAT);
  /* Promises 2^48 elements: refused from the header alone, before allocating. */
  unsigned char *b = make_idx(&len, 0x08, 3, huge, -(long)((size_t)1 << 48));
  write_file(tmp_path("huge.idx"), b, len, 0);
  free(b);
  expect_error(tmp_path("huge.idx"), KCB_EFORMAT);

  const uint32_t dims[1] = {4};
  b = make_idx(&len, 0x08, 1, dims, 0);
  b[3] = 0; /* rank 0 */
  write_file(tmp_path("rank0.idx"), b, len, 0);
  expect_error(tmp_path("rank0.idx"), KCB_EFORMAT);
  b[3] = 7; /* beyond KCB_MAX_RANK */
  write_file(tmp_path("rank7.idx"), b, len, 0);
  expect_error(tmp_path("rank7.idx"), KCB_EFORMAT);
  free(b);
}

/* A header promising the most elements allowed (2^31) over a few bytes, raw or gzipped: a
 * truncation, found with memory for what the file holds. The plain build checks that in a child
 * whose data segment is capped at 256 MiB (a sanitizer's shadow memory does not fit under a cap). */
static void test_huge_promise_small_file(void **state) {
  (void)state;
  const uint32_t dims[3] = {2, 1024, 1048576};
  size_t len;
  unsigned char *b = make_idx(&len, 0x08, 3, dims, -(long)((size_t)1 << 31) + 5);
  write_file(tmp_path("promise.idx"), b, len, 0);
  write_file(tmp_path("promise.idx.gz"), b, len, 1);
  free(b);
  expect_error(tmp_path("promise.idx"), KCB_ETRUNC);
  assert_non_null(strstr(kcb_error_last(), "2147483648"));
  expect_error(tmp_path("promise.idx.gz"), KCB_ETRUNC);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__has_feature)
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    struct rlimit cap = {(rlim_t)256 << 20, (rlim_t)256 << 20};
    kcb_tensor *t = NULL;
    _exit(setrlimit(RLIMIT_DATA, &cap) == 0 && kcb_idx_load(&t, tmp_path("promise.idx"), 1.0f) == KCB_ETRUNC ? 0 : 1);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
#endif
}

static void test_rank_mismatch(void **state) {
  (void)state;
  /* The magic says 3 dimensions but the file ends after 2 of them. */
  const uint32_t dims[2] = {5, 6};
  size_t len;
  unsigned char *b = make_idx(&len, 0x08, 2, dims, 0);
  b[3] = 3;
  write_file(tmp_path("rank_mismatch.idx"), b, 4 + 8, 0);
  expect_error(tmp_path("rank_mismatch.idx"), KCB_ETRUNC);
  assert_non_null(strstr(kcb_error_last(), "3 dimensions"));
  free(b);
}

static void test_truncated(void **state) {
  (void)state;
  const uint32_t dims[3] = {10, 28, 28};
  write_idx(tmp_path("short.idx"), 3, dims, -1000, 0);
  expect_error(tmp_path("short.idx"), KCB_ETRUNC);
  assert_non_null(strstr(kcb_error_last(), "7840"));
  assert_non_null(strstr(kcb_error_last(), "6840"));
  write_idx(tmp_path("short.idx.gz"), 3, dims, -1, 1);
  expect_error(tmp_path("short.idx.gz"), KCB_ETRUNC);

  write_file(tmp_path("empty.idx"), (const unsigned char *)"", 0, 0);
  expect_error(tmp_path("empty.idx"), KCB_ETRUNC);
  write_file(tmp_path("two_bytes.idx"), (const unsigned char *)"\0\0", 2, 0);
  expect_error(tmp_path("two_bytes.idx"), KCB_ETRUNC);

  /* A gzip stream cut in half (the compressed file itself is truncated). */
  write_idx(tmp_path("cut.idx.gz"), 3, dims, 0, 1);
  size_t len;
  unsigned char *b = read_whole(tmp_path("cut.idx.gz"), &len);
  write_file(tmp_path("cut.idx.gz"), b, len / 2, 0);
  free(b);
  expect_error(tmp_path("cut.idx.gz"), KCB_ETRUNC);
  /* zlib's own prefix for an opened descriptor ("<fd:3>: ") is not shown: the message names the file */
  assert_non_null(strstr(kcb_error_last(), "cut.idx.gz: truncated gzip stream (zlib: unexpected end of file)"));
}

static void test_trailing_bytes(void **state) {
  (void)state;
  const uint32_t dims[2] = {4, 5};
  write_idx(tmp_path("long.idx"), 2, dims, 3, 0);
  expect_error(tmp_path("long.idx"), KCB_EFORMAT);
  assert_non_null(strstr(kcb_error_last(), "trailing"));
  write_idx(tmp_path("long.idx.gz"), 2, dims, 1, 1);
  expect_error(tmp_path("long.idx.gz"), KCB_EFORMAT);
}

static void test_corrupt_gzip(void **state) {
  (void)state;
  const uint32_t dims[3] = {10, 28, 28};
  const char *path = tmp_path("corrupt.idx.gz");
  write_idx(path, 3, dims, 0, 1);
  size_t len;
  unsigned char *b = read_whole(path, &len);
  assert_true(len > 64);
  for (size_t i = len / 2; i < len / 2 + 8; i++) b[i] ^= 0xA5;
  write_file(path, b, len, 0);
  free(b);
  expect_error(path, KCB_EFORMAT);
  assert_non_null(strstr(kcb_error_last(), "gzip"));
}

static void test_missing_file(void **state) {
  (void)state;
  expect_error(tmp_path("no-such-file.idx.gz"), KCB_ENOENT);
  kcb_tensor *t = NULL;
  assert_int_equal(kcb_idx_load(&t, NULL, 1.0f), KCB_EINVAL);
}

/* ---- kcb_mnist_load -------------------------------------------------------------------- */

/* Writes an MNIST-format directory under tmpdir: images (n, 28, 28), labels (n,) = i % 10.
 * Train files are gzip, test files plain, to exercise both names. */
static const char *make_mnist_dir(const char *name, uint32_t n_train, uint32_t n_train_labels,
                                  uint32_t n_test) {
  const char *dir = tmp_path(name);
  char path[512];
  assert_int_equal(mkdir(dir, 0700), 0);
  const uint32_t train[3] = {n_train, 28, 28}, test[3] = {n_test, 28, 28};
  snprintf(path, sizeof path, "%s/train-images-idx3-ubyte.gz", dir);
  write_idx(path, 3, train, 0, 1);
  snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte", dir);
  write_idx(path, 3, test, 0, 0);
  const uint32_t counts[2] = {n_train_labels, n_test};
  const char *names[2] = {"train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte"};
  for (int k = 0; k < 2; k++) {
    size_t len;
    unsigned char *b = make_idx(&len, 0x08, 1, &counts[k], 0);
    for (uint32_t i = 0; i < counts[k]; i++) b[8 + i] = (unsigned char)(i % 10);
    snprintf(path, sizeof path, "%s/%s", dir, names[k]);
    write_file(path, b, len, k == 0);
    free(b);
  }
  return dir;
}

static void assert_mnist_empty(const kcb_mnist *m) {
  assert_null(m->train_images);
  assert_null(m->train_labels);
  assert_null(m->test_images);
  assert_null(m->test_labels);
}

static void test_mnist_small(void **state) {
  (void)state;
  const char *dir = make_mnist_dir("mnist_small", 5, 5, 3);
  kcb_mnist m;
  assert_int_equal(kcb_mnist_load(&m, dir, 0), 0);
  assert_int_equal(m.train_images->rank, 3);
  assert_int_equal(m.train_images->shape[0], 5);
  assert_int_equal(m.train_images->shape[1], 28);
  assert_int_equal(m.train_images->shape[2], 28);
  assert_int_equal(m.train_labels->shape[0], 5);
  assert_int_equal(m.test_images->shape[0], 3);
  assert_int_equal(m.test_labels->shape[0], 3);
  assert_true(m.train_images->data[100] == pattern(100) * (1.0f / 255.0f));
  assert_true(m.train_labels->data[4] == 4.0f);
  assert_true(m.test_labels->data[2] == 2.0f);
  kcb_mnist_free(&m);
  assert_mnist_empty(&m);
  kcb_mnist_free(&m); /* twice is harmless */
  kcb_mnist_free(NULL);

  assert_int_equal(kcb_mnist_load(&m, dir, 2), 0);
  assert_int_equal(m.train_images->shape[0], 2);
  assert_int_equal(m.train_labels->shape[0], 2);
  assert_int_equal(m.test_images->shape[0], 2);
  assert_int_equal(m.test_labels->shape[0], 2);
  assert_int_equal(kcb_tensor_size(m.train_images), 2 * 28 * 28);
  assert_true(m.train_labels->data[1] == 1.0f);
  kcb_mnist_free(&m);

  assert_int_equal(kcb_mnist_load(&m, dir, 100), 0); /* a limit above n keeps everything */
  assert_int_equal(m.train_images->shape[0], 5);
  assert_int_equal(m.test_labels->shape[0], 3);
  kcb_mnist_free(&m);
}

static void test_mnist_count_mismatch(void **state) {
  (void)state;
  const char *dir = make_mnist_dir("mnist_mismatch", 5, 4, 3);
  kcb_mnist m;
  assert_int_equal(kcb_mnist_load(&m, dir, 0), KCB_EFORMAT);
  assert_mnist_empty(&m);
  assert_non_null(strstr(kcb_error_last(), "train-images-idx3-ubyte.gz"));
  assert_non_null(strstr(kcb_error_last(), "train-labels-idx1-ubyte.gz"));
}

static void test_mnist_rank_mismatch(void **state) {
  (void)state;
  const char *dir = make_mnist_dir("mnist_rank", 5, 5, 3);
  char path[512];
  const uint32_t flat[2] = {3, 784}; /* images stored as (n, 784) */
  snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte", dir);
  write_idx(path, 2, flat, 0, 0);
  kcb_mnist m;
  assert_int_equal(kcb_mnist_load(&m, dir, 0), KCB_EFORMAT);
  assert_mnist_empty(&m);
  assert_non_null(strstr(kcb_error_last(), path));
}

static void test_mnist_missing(void **state) {
  (void)state;
  const char *dir = make_mnist_dir("mnist_missing", 5, 5, 3);
  char path[512];
  snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte", dir);
  assert_int_equal(unlink(path), 0);
  kcb_mnist m;
  assert_int_equal(kcb_mnist_load(&m, dir, 0), KCB_ENOENT);
  assert_mnist_empty(&m);
  assert_non_null(strstr(kcb_error_last(), path)); /* both names tried are reported */
  strcat(path, ".gz");
  assert_non_null(strstr(kcb_error_last(), path));
  assert_null(strstr(kcb_error_last(), "apt-get")); /* the hint is for the default dir only */

  assert_int_equal(kcb_mnist_load(&m, tmp_path("no-such-dir"), 0), KCB_ENOENT);
  assert_mnist_empty(&m);
}

static void test_fashion_mnist_real(void **state) {
  (void)state;
  struct stat st;
  if (stat(KCB_FASHION_MNIST_DIR, &st) != 0) skip();
  kcb_mnist m;
  int rc = kcb_mnist_load(&m, NULL, 0);
  if (rc) print_error("%s\n", kcb_error_last());
  assert_int_equal(rc, 0);
  const kcb_tensor *images[2] = {m.train_images, m.test_images}, *labels[2] = {m.train_labels, m.test_labels};
  const int64_t n[2] = {60000, 10000};
  for (int s = 0; s < 2; s++) {
    assert_int_equal(images[s]->rank, 3);
    assert_int_equal(images[s]->shape[0], n[s]);
    assert_int_equal(images[s]->shape[1], 28);
    assert_int_equal(images[s]->shape[2], 28);
    assert_int_equal(labels[s]->rank, 1);
    assert_int_equal(labels[s]->shape[0], n[s]);
    float lo = 1, hi = 0;
    for (int64_t i = 0; i < kcb_tensor_size(images[s]); i++) {
      float v = images[s]->data[i];
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
    assert_true(lo == 0.0f && hi == 1.0f); /* 255 * (1/255.0f) rounds to exactly 1 */
    for (int64_t i = 0; i < n[s]; i++) {
      float v = labels[s]->data[i];
      assert_true(v >= 0.0f && v <= 9.0f && v == (float)(int)v);
    }
  }
  assert_true(m.train_labels->data[0] == 9.0f); /* the first training item is an ankle boot */
  assert_true(m.test_labels->data[0] == 9.0f);
  kcb_mnist_free(&m);

  assert_int_equal(kcb_mnist_load(&m, NULL, 100), 0);
  assert_int_equal(m.train_images->shape[0], 100);
  assert_int_equal(m.test_labels->shape[0], 100);
  kcb_mnist_free(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plain_values_and_shape),
      cmocka_unit_test(test_gzip_matches_plain),
      cmocka_unit_test(test_bad_magic),
      cmocka_unit_test(test_unsupported_type),
      cmocka_unit_test(test_bad_rank_and_dims),
      cmocka_unit_test(test_rank_mismatch),
      cmocka_unit_test(test_truncated),
      cmocka_unit_test(test_huge_promise_small_file),
      cmocka_unit_test(test_trailing_bytes),
      cmocka_unit_test(test_corrupt_gzip),
      cmocka_unit_test(test_missing_file),
      cmocka_unit_test(test_mnist_small),
      cmocka_unit_test(test_mnist_count_mismatch),
      cmocka_unit_test(test_mnist_rank_mismatch),
      cmocka_unit_test(test_mnist_missing),
      cmocka_unit_test(test_fashion_mnist_real),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
