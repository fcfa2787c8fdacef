/* test_tfevents.c — CRC-32C, masking and record framing against TensorBoard's published vectors
 * (spec/tfevents.md §1.4); the event writer (file naming, first record, async queue, errors
 * surfaced on the next call); summaries read back through the reader. */
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test_helpers.h"

#include "event.pb-c.h"
#include "internal.h"
#include "io/tfevents/crc32c.h"
#include "io/tfevents/event_writer.h"
#include "io/tfevents/record.h"
#include "io/tfevents/summary_writer_internal.h"

kcb__event_writer *kcb__summary_writer_event_writer(kcb_summary_writer *w);

/* ---- CRC-32C and masking -------------------------------------------------------------- */

static void test_crc32c_vectors(void **state) {
  (void)state;
  assert_int_equal(kcb_crc32c("123456789", 9), 0xE3069283u);
  assert_int_equal(kcb__crc32c_extend_portable(0, "123456789", 9), 0xE3069283u);
  unsigned char zeros[32] = {0};
  assert_int_equal(kcb_crc32c(zeros, 32), 0x8A9136AAu);
  assert_int_equal(kcb__crc32c_extend_portable(0, zeros, 32), 0x8A9136AAu);
  /* masked CRC of Event{file_version="CRC test, one two"} (rustboard's masked_crc.rs doc test) */
  const char data[] = "\x1a\x11" "CRC test, one two";
  assert_int_equal(kcb_crc32c_masked(data, sizeof data - 1), 0x5794D08Au);
  uint32_t c = kcb_crc32c(data, sizeof data - 1);
  assert_int_equal(kcb__crc32c_unmask(kcb__crc32c_mask(c)), c);
  /* extend = one pass over the concatenation */
  assert_int_equal(kcb__crc32c_extend(kcb_crc32c("1234", 4), "56789", 5), 0xE3069283u);
}

/* Batched CRCs (the reader checks records three at a time) equal the table CRC of each buffer,
 * for lengths that differ, match, or are zero, and for batches of every size mod 3. */
static void test_crc32c_batch_matches_table(void **state) {
  (void)state;
  enum { N = 40 };
  unsigned char *buf = malloc(70000);
  kcb__rng rng;
  kcb__rng_seed(&rng, 11);
  for (size_t i = 0; i < 70000; i++) buf[i] = (unsigned char)kcb__rng_next(&rng);
  kcb__crc32c_job jobs[N];
  uint32_t out[N];
  for (int round = 0; round < 200; round++) {
    size_t n = 1 + kcb__rng_below(&rng, N);
    for (size_t i = 0; i < n; i++) {
      size_t len = round % 3 == 0 ? 24 : (size_t)kcb__rng_below(&rng, round % 2 ? 64 : 60000);
      jobs[i].data = buf + kcb__rng_below(&rng, 70000 - len);
      jobs[i].len = len;
    }
    kcb__crc32c_batch(jobs, n, out);
    for (size_t i = 0; i < n; i++) assert_int_equal(out[i], kcb__crc32c_extend_portable(0, jobs[i].data, jobs[i].len));
  }
  free(buf);
}

static void test_crc32c_hardware_matches_table(void **state) {
  (void)state;
  size_t n = 3 * 4096 * 3 + 123;
  unsigned char *buf = malloc(n);
  kcb__rng rng;
  kcb__rng_seed(&rng, 7);
  for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)kcb__rng_next(&rng);
  size_t lens[] = {0, 1, 7, 8, 9, 63, 4095, 12288, 12289, 3 * 4096 * 2 + 5, n - 3};
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
    for (size_t off = 0; off < 3; off++)
      assert_int_equal(kcb__crc32c_extend(0, buf + off, lens[i]), kcb__crc32c_extend_portable(0, buf + off, lens[i]));
  print_message("crc32c: %s\n", kcb__crc32c_hardware() ? "SSE4.2 instruction" : "table");
  free(buf);
}

/* ---- record framing: rustboard's tf_record.rs test_success records ---------------------- */

static void assert_bytes(const unsigned char *got, const unsigned char *want, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (got[i] != want[i]) fail_msg("byte %zu: got %02x, want %02x", i, got[i], want[i]);
}

static void test_record_golden(void **state) {
  (void)state;
  /* record 1: Event{wall_time=1599759586.0, file_version="brain.Event:2"} written by TF C++ */
  static const unsigned char data1[24] = {0x09, 0x00, 0x00, 0x80, 0x38, 0x99, 0xd6, 0xd7, 0x41, 0x1a, 0x0d, 'b',
                                          'r', 'a', 'i', 'n', '.', 'E', 'v', 'e', 'n', 't', ':', '2'};
  static const unsigned char header1[12] = {0x18, 0, 0, 0, 0, 0, 0, 0, 0xa3, 0x7f, 0x4b, 0x22};
  static const unsigned char footer1[4] = {0x12, 0x4b, 0x36, 0xab};
  Kcbpb__Event ev = KCBPB__EVENT__INIT;
  ev.wall_time = 1599759586.0;
  ev.what_case = KCBPB__EVENT__WHAT_FILE_VERSION;
  ev.file_version = "brain.Event:2";
  unsigned char rec[128];
  size_t n = protobuf_c_message_pack(&ev.base, rec + 12);
  assert_int_equal(n, 24);
  assert_bytes(rec + 12, data1, 24);
  assert_int_equal(kcb__record_frame(rec, rec + 12, n), 40);
  assert_bytes(rec, header1, 12);
  assert_bytes(rec + 36, footer1, 4);

  /* record 2: tf.summary.scalar("accuracy", 0.99, step=77) as TF2 writes it */
  static const unsigned char data2[50] = {
      0x09, 0xc4, 0x05, 0xb7, 0x3d, 0x99, 0xd6, 0xd7, 0x41, 0x10, 0x4d, 0x2a, 0x25, 0x0a, 0x23, 0x0a, 0x08,
      'a',  'c',  'c',  'u',  'r',  'a',  'c',  'y',  0x42, 0x0a, 0x08, 0x01, 0x12, 0x00, 0x22, 0x04, 0xa4,
      0x70, 0x7d, 0x3f, 0x4a, 0x0b, 0x0a, 0x09, 0x0a, 0x07, 's',  'c',  'a',  'l',  'a',  'r',  's'};
  static const unsigned char header2[12] = {0x32, 0, 0, 0, 0, 0, 0, 0, 0x24, 0x19, 0x56, 0xec};
  static const unsigned char footer2[4] = {0xa5, 0x5b, 0x64, 0x33};
  uint64_t wt_bits = kcb__load_le64(data2 + 1);
  double wall_time;
  memcpy(&wall_time, &wt_bits, 8);
  unsigned char content[4] = {0xa4, 0x70, 0x7d, 0x3f};
  Kcbpb__TensorShapeProto shape = KCBPB__TENSOR_SHAPE_PROTO__INIT;
  Kcbpb__TensorProto t = KCBPB__TENSOR_PROTO__INIT;
  t.dtype = KCBPB__DATA_TYPE__DT_FLOAT;
  t.tensor_shape = &shape;
  t.tensor_content.data = content;
  t.tensor_content.len = 4;
  Kcbpb__SummaryMetadata__PluginData pd = KCBPB__SUMMARY_METADATA__PLUGIN_DATA__INIT;
  pd.plugin_name = "scalars";
  Kcbpb__SummaryMetadata md = KCBPB__SUMMARY_METADATA__INIT;
  md.plugin_data = &pd;
  Kcbpb__Summary__Value v = KCBPB__SUMMARY__VALUE__INIT;
  v.tag = "accuracy";
  v.value_case = KCBPB__SUMMARY__VALUE__VALUE_TENSOR;
  v.tensor = &t;
  v.metadata = &md;
  Kcbpb__Summary__Value *vals[1] = {&v};
  Kcbpb__Summary s = KCBPB__SUMMARY__INIT;
  s.n_value = 1;
  s.value = vals;
  Kcbpb__Event ev2 = KCBPB__EVENT__INIT;
  ev2.wall_time = wall_time;
  ev2.step = 77;
  ev2.what_case = KCBPB__EVENT__WHAT_SUMMARY;
  ev2.summary = &s;
  n = protobuf_c_message_pack(&ev2.base, rec + 12);
  assert_int_equal(n, 50);
  assert_bytes(rec + 12, data2, 50);
  kcb__record_frame(rec, rec + 12, n);
  assert_bytes(rec, header2, 12);
  assert_bytes(rec + 62, footer2, 4);
}

/* The hand-written scalar encoder gives exactly protobuf-c's bytes. */
static void test_scalar_encoder_matches_protobuf_c(void **state) {
  (void)state;
  const char *tags[] = {"a", "epoch_loss",
                        ("a/very/long/tag/name/that/needs/a/two/byte/length/varint/....................."
                         "...........................................................................")};
  int64_t steps[] = {0, 1, 77, 300, 1LL << 40, -1};
  for (size_t t = 0; t < 3; t++)
    for (size_t s = 0; s < 6; s++)
      for (int md = 0; md < 2; md++) {
        float value = (float)(0.1 * (double)s - 3);
        unsigned char content[4];
        uint32_t bits;
        memcpy(&bits, &value, 4);
        kcb__store_le32(content, bits);
        Kcbpb__TensorShapeProto shape = KCBPB__TENSOR_SHAPE_PROTO__INIT;
        Kcbpb__TensorProto tp = KCBPB__TENSOR_PROTO__INIT;
        tp.dtype = KCBPB__DATA_TYPE__DT_FLOAT;
        tp.tensor_shape = &shape;
        tp.tensor_content.data = content;
        tp.tensor_content.len = 4;
        Kcbpb__SummaryMetadata__PluginData pd = KCBPB__SUMMARY_METADATA__PLUGIN_DATA__INIT;
        pd.plugin_name = "scalars";
        Kcbpb__SummaryMetadata meta = KCBPB__SUMMARY_METADATA__INIT;
        meta.plugin_data = &pd;
        meta.data_class = KCBPB__DATA_CLASS__DATA_CLASS_SCALAR;
        Kcbpb__Summary__Value v = KCBPB__SUMMARY__VALUE__INIT;
        v.tag = (char *)tags[t];
        v.value_case = KCBPB__SUMMARY__VALUE__VALUE_TENSOR;
        v.tensor = &tp;
        v.metadata = md ? &meta : NULL;
        Kcbpb__Summary__Value *vals[1] = {&v};
        Kcbpb__Summary sm = KCBPB__SUMMARY__INIT;
        sm.n_value = 1;
        sm.value = vals;
        Kcbpb__Event ev = KCBPB__EVENT__INIT;
        ev.wall_time = 1700000000.125 + (double)s;
        ev.step = steps[s];
        ev.what_case = KCBPB__EVENT__WHAT_SUMMARY;
        ev.summary = &sm;
        unsigned char want[512], got[512];
        size_t n_want = protobuf_c_message_pack(&ev.base, want);
        assert_true(kcb__encode_scalar_event_size(strlen(tags[t])) <= sizeof got);
        size_t n_got = kcb__encode_scalar_event(got, ev.wall_time, steps[s], tags[t], strlen(tags[t]), value, md);
        assert_int_equal(n_got, n_want);
        assert_bytes(got, want, n_want);
      }
}

/* ---- helpers ------------------------------------------------------------------------------ */

static char tmp_root[256];

static int setup_dir(void **state) {
  (void)state;
  snprintf(tmp_root, sizeof tmp_root, "/tmp/kcb_test_tfevents_XXXXXX");
  assert_non_null(mkdtemp(tmp_root));
  return 0;
}

static int teardown_dir(void **state) {
  (void)state;
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
  return system(cmd) == 0 ? 0 : -1;
}

/* Reads every event of path into a caller-visible count, checking the callback per event. */
typedef void (*event_fn)(const kcb_event *e, void *ctx);

static int read_all(const char *path, event_fn fn, void *ctx, int *n_events) {
  kcb_event_reader *r;
  int rc = kcb_event_reader_open(&r, path);
  if (rc) return rc;
  const kcb_event *e;
  *n_events = 0;
  while ((rc = kcb_event_reader_next(r, &e)) == 1) {
    if (fn) fn(e, ctx);
    (*n_events)++;
  }
  kcb_event_reader_free(r);
  return rc;
}

/* ---- the writer ------------------------------------------------------------------------- */

static void test_file_naming_and_first_record(void **state) {
  (void)state;
  char dir[300];
  snprintf(dir, sizeof dir, "%s/naming/sub", tmp_root);
  kcb_summary_writer *a, *b;
  assert_ok(kcb_summary_writer_new(&a, dir, NULL));
  assert_ok(kcb_summary_writer_new(&b, dir, NULL)); /* same second, same process */
  assert_string_not_equal(kcb_summary_writer_path(a), kcb_summary_writer_path(b));
  char host[256];
  gethostname(host, sizeof host);
  char prefix[600];
  snprintf(prefix, sizeof prefix, "%s/events.out.tfevents.", dir);
  const char *base = kcb_summary_writer_path(a);
  assert_memory_equal(base, prefix, strlen(prefix));
  /* <10-digit secs>.<host>.<pid>.<n> */
  const char *p = base + strlen(prefix);
  for (int i = 0; i < 10; i++) assert_true(p[i] >= '0' && p[i] <= '9');
  char tail[300];
  snprintf(tail, sizeof tail, ".%s.%ld.", host, (long)getpid());
  assert_memory_equal(p + 10, tail, strlen(tail));
  char path_a[600];
  kcb__strlcpy(path_a, base, sizeof path_a);
  assert_ok(kcb_summary_writer_close(a));
  kcb_summary_writer_free(b);

  kcb_event_reader *r;
  assert_ok(kcb_event_reader_open(&r, path_a));
  const kcb_event *e;
  assert_int_equal(kcb_event_reader_next(r, &e), 1);
  assert_string_equal(e->file_version, "brain.Event:2");
  assert_non_null(e->source_writer);
  assert_true(strlen(e->source_writer) > 0);
  assert_true(fabs(e->wall_time - kcb__wall_time()) < 60);
  assert_int_equal(e->offset, 0);
  assert_int_equal(kcb_event_reader_next(r, &e), 0);
  kcb_event_reader_free(r);
}

typedef struct scalar_ctx {
  int n_scalars;
  int64_t steps[2000];
  double values[2000];
  int n_meta;
} scalar_ctx;

static void collect_scalars(const kcb_event *e, void *ctx) {
  scalar_ctx *c = ctx;
  for (size_t i = 0; i < e->n_values; i++) {
    const kcb_summary_value *v = &e->values[i];
    assert_int_equal(v->kind, KCB_SUMMARY_SCALAR);
    assert_string_equal(v->plugin_name, "scalars");
    assert_int_equal(v->data_class, 1);
    assert_int_equal(v->dtype, KCB_DT_FLOAT);
    assert_int_equal(v->rank, 0);
    c->n_meta += v->has_metadata;
    c->steps[c->n_scalars] = e->step;
    c->values[c->n_scalars++] = v->scalar;
  }
}

static void test_scalars_roundtrip_async(void **state) {
  (void)state;
  char dir[300];
  snprintf(dir, sizeof dir, "%s/scalars", tmp_root);
  kcb_summary_writer_options o = KCB_SUMMARY_WRITER_OPTIONS_INIT;
  o.max_queue = 3; /* many batches through the queue */
  kcb_summary_writer *w;
  assert_ok(kcb_summary_writer_new(&w, dir, &o));
  for (int i = 0; i < 1000; i++) assert_ok(kcb_summary_writer_add_scalar(w, i % 2 ? "b" : "a", i * 0.5, i));
  assert_ok(kcb_summary_writer_flush(w));
  /* after flush, every record is in the file: an independent check of the framing */
  kcb_event_file_check chk;
  assert_ok(kcb_event_file_validate(kcb_summary_writer_path(w), &chk));
  assert_int_equal(chk.records, 1001);
  assert_int_equal(chk.bytes_ok, chk.file_size);
  assert_ok(kcb_summary_writer_close(w));
  scalar_ctx c = {0};
  int n;
  assert_ok(read_all(dir, collect_scalars, &c, &n));
  assert_int_equal(n, 1001);
  assert_int_equal(c.n_scalars, 1000);
  assert_int_equal(c.n_meta, 2); /* metadata only on each tag's first value */
  for (int i = 0; i < 1000; i++) {
    assert_int_equal(c.steps[i], i);
    assert_true(c.values[i] == (double)(float)(i * 0.5));
  }
}

static void test_write_error_surfaces(void **state) {
  (void)state;
  char dir[300];
  snprintf(dir, sizeof dir, "%s/full", tmp_root);
  kcb_summary_writer *w;
  assert_ok(kcb_summary_writer_new(&w, dir, NULL));
  int fd = open("/dev/full", O_WRONLY);
  if (fd < 0) {
    kcb_summary_writer_free(w);
    skip();
  }
  kcb__event_writer_set_fd(kcb__summary_writer_event_writer(w), fd);
  assert_ok(kcb_summary_writer_add_scalar(w, "x", 1, 0)); /* queued: the caller does not wait */
  assert_error(kcb_summary_writer_flush(w), KCB_ENOSPC, "events.out.tfevents");
  assert_error(kcb_summary_writer_add_scalar(w, "x", 2, 1), KCB_ENOSPC, "writing events failed");
  assert_error(kcb_summary_writer_close(w), KCB_ENOSPC, "events.out.tfevents");
}

static void test_directory_removed(void **state) {
  (void)state;
  char dir[300], cmd[400];
  snprintf(dir, sizeof dir, "%s/gone", tmp_root);
  kcb_summary_writer *w;
  assert_ok(kcb_summary_writer_new(&w, dir, NULL));
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
  assert_ok(kcb_summary_writer_add_scalar(w, "x", 1, 0));
  assert_error(kcb_summary_writer_flush(w), KCB_ENOENT, "deleted");
  assert_error(kcb_summary_writer_close(w), KCB_ENOENT, "gone");
}

static void test_flush_secs(void **state) {
  (void)state;
  char dir[300];
  snprintf(dir, sizeof dir, "%s/timer", tmp_root);
  kcb_summary_writer_options o = KCB_SUMMARY_WRITER_OPTIONS_INIT;
  o.max_queue = 1000;
  o.flush_secs = 0.05;
  kcb_summary_writer *w;
  assert_ok(kcb_summary_writer_new(&w, dir, &o));
  assert_ok(kcb_summary_writer_add_scalar(w, "x", 1, 0));
  struct timespec nap = {0, 300000000L};
  nanosleep(&nap, NULL); /* the writer thread writes it by itself */
  kcb_event_file_check chk;
  assert_ok(kcb_event_file_validate(kcb_summary_writer_path(w), &chk));
  assert_int_equal(chk.records, 2);
  assert_ok(kcb_summary_writer_close(w));
}

static void test_kick_writes_without_waiting(void **state) {
  (void)state;
  char dir[300];
  snprintf(dir, sizeof dir, "%s/kick", tmp_root);
  kcb_summary_writer_options o = KCB_SUMMARY_WRITER_OPTIONS_INIT;
  o.max_queue = 1000;
  kcb_summary_writer *w;
  assert_ok(kcb_summary_writer_new(&w, dir, &o));
  assert_ok(kcb_summary_writer_add_scalar(w, "x", 1, 0));
  kcb_event_file_check chk;
  assert_ok(kcb_event_file_validate(kcb_summary_writer_path(w), &chk));
  assert_int_equal(chk.records, 1); /* still queued */
  kcb__summary_writer_kick(w);
  for (int i = 0; i < 200 && chk.records < 2; i++) {
    struct timespec nap = {0, 10000000L};
    nanosleep(&nap, NULL);
    assert_ok(kcb_event_file_validate(kcb_summary_writer_path(w), &chk));
  }
  assert_int_equal(chk.records, 2);
  assert_ok(kcb_summary_writer_close(w));
}

/* ---- summary kinds read back --------------------------------------------------------------- */

static void test_histogram_bucket_rule(void **state) {
  (void)state;
  char dir[300];
  snprintf(dir, sizeof dir, "%s/hist", tmp_root);
  kcb_summary_writer *w;
  assert_ok(kcb_summary_writer_new(&w, dir, NULL));
  /* 0..9 in 5 buckets: width 1.8, edges 0,1.8,3.6,5.4,7.2,9; counts by floor(x/1.8) (9 -> last) */
  float v[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  assert_ok(kcb_summary_writer_add_histogram(w, "h", v, 10, 5, 1));
  float same[4] = {2.5f, 2.5f, 2.5f, 2.5f};
  assert_ok(kcb_summary_writer_add_histogram(w, "same", same, 4, 3, 2));
  assert_ok(kcb_summary_writer_add_histogram(w, "empty", NULL, 0, 0, 3));
  float bad[2] = {1, NAN};
  assert_error(kcb_summary_writer_add_histogram(w, "bad", bad, 2, 0, 3), KCB_ENAN, "bad");
  assert_ok(kcb_summary_writer_close(w));
  kcb_event_reader *r;
  assert_ok(kcb_event_reader_open(&r, dir));
  const kcb_event *e;
  assert_int_equal(kcb_event_reader_next(r, &e), 1); /* file_version */
  assert_int_equal(kcb_event_reader_next(r, &e), 1);
  assert_int_equal(e->n_values, 1);
  const kcb_summary_value *h = &e->values[0];
  assert_int_equal(h->kind, KCB_SUMMARY_HISTOGRAM);
  assert_string_equal(h->plugin_name, "histograms");
  assert_int_equal(h->dtype, KCB_DT_DOUBLE);
  assert_int_equal(h->rank, 2);
  assert_int_equal(h->shape[0], 5);
  assert_int_equal(h->shape[1], 3);
  double counts[5] = {2, 2, 2, 2, 2}; /* 0,1 | 2,3 | 4,5 | 6,7 | 8,9 */
  double edges[6] = {0, 1.8, 3.6, 5.4, 7.2, 9};
  for (int i = 0; i < 5; i++) {
    assert_true(fabs(h->buckets[i].left - edges[i]) < 1e-12);
    assert_true(fabs(h->buckets[i].right - edges[i + 1]) < 1e-12);
    assert_true(h->buckets[i].count == counts[i]);
  }
  assert_true(h->buckets[4].right == 9.0);
  assert_true(h->hist_num == 10);
  assert_int_equal(kcb_event_reader_next(r, &e), 1);
  h = &e->values[0];
  assert_int_equal(h->n_buckets, 3);
  for (int i = 0; i < 3; i++) {
    assert_true(h->buckets[i].left == 2.5 && h->buckets[i].right == 2.5);
    assert_true(h->buckets[i].count == (i == 2 ? 4 : 0));
  }
  assert_int_equal(kcb_event_reader_next(r, &e), 1);
  h = &e->values[0];
  assert_int_equal(h->n_buckets, 30);
  for (int i = 0; i < 30; i++) assert_true(h->buckets[i].count == 0 && h->buckets[i].left == 0);
  assert_int_equal(kcb_event_reader_next(r, &e), 0);
  kcb_event_reader_free(r);
}

/* ---- HistogramProto: decoded by protoc --decode_raw, an independent decoder ---------------- */

/* The payload of record `index` of an event file (TFRecord framing read here). @return its length. */
static size_t record_payload(const char *path, int index, unsigned char *out, size_t cap) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  size_t len = 0;
  for (int i = 0; i <= index; i++) {
    unsigned char hdr[12];
    assert_int_equal(fread(hdr, 1, 12, f), 12);
    uint64_t n = 0;
    for (int k = 0; k < 8; k++) n |= (uint64_t)hdr[k] << (8 * k);
    assert_true(n <= cap);
    len = (size_t)n;
    assert_int_equal(fread(out, 1, len, f), len);
    unsigned char crc[4];
    assert_int_equal(fread(crc, 1, 4, f), 4);
  }
  fclose(f);
  return len;
}

/* decode_raw's output as "path: value" lines, e.g. "5.1.5.4: 0x4059000000000000" for
 * Event.summary.value.histo.sum; a nested message's own line is "path {". */
typedef struct raw_fields {
  char path[64][32];
  char *value[64];
  int n;
} raw_fields;

static void decode_raw(const unsigned char *msg, size_t len, raw_fields *out) {
  char bin[400], txt[400], cmd[900];
  snprintf(bin, sizeof bin, "%s/record.bin", tmp_root);
  snprintf(txt, sizeof txt, "%s/record.txt", tmp_root);
  FILE *f = fopen(bin, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(msg, 1, len, f), len);
  fclose(f);
  snprintf(cmd, sizeof cmd, "protoc --decode_raw < '%s' > '%s'", bin, txt);
  assert_int_equal(system(cmd), 0);
  f = fopen(txt, "r");
  assert_non_null(f);
  static char line[1 << 16];
  char stack[8][8];
  int depth = 0;
  out->n = 0;
  while (fgets(line, sizeof line, f)) {
    char *p = line;
    while (*p == ' ') p++;
    p[strcspn(p, "\n")] = '\0';
    if (strcmp(p, "}") == 0) {
      depth--;
      continue;
    }
    char num[8];
    size_t k = strspn(p, "0123456789");
    assert_true(k > 0 && k < sizeof num);
    memcpy(num, p, k), num[k] = '\0';
    assert_true(out->n < 64);
    char *path = out->path[out->n];
    path[0] = '\0';
    for (int d = 0; d < depth; d++) strcat(path, stack[d]), strcat(path, ".");
    strcat(path, num);
    if (strcmp(p + k, " {") == 0) {
      assert_true(depth < 8);
      strcpy(stack[depth++], num);
      out->value[out->n++] = strdup("{");
    } else {
      assert_true(p[k] == ':' && p[k + 1] == ' ');
      out->value[out->n++] = strdup(p + k + 2);
    }
  }
  fclose(f);
  assert_int_equal(depth, 0);
}

static void raw_free(raw_fields *r) {
  for (int i = 0; i < r->n; i++) free(r->value[i]);
}

static const char *raw_get(const raw_fields *r, const char *path) {
  for (int i = 0; i < r->n; i++)
    if (strcmp(r->path[i], path) == 0) return r->value[i];
  return NULL;
}

/* A fixed64 field ("0x..." in decode_raw) as the double it holds. */
static double raw_double(const raw_fields *r, const char *path) {
  const char *v = raw_get(r, path);
  assert_non_null(v);
  assert_true(strncmp(v, "0x", 2) == 0);
  uint64_t u = strtoull(v + 2, NULL, 16);
  double d;
  memcpy(&d, &u, 8);
  return d;
}

/* A packed repeated double field: decode_raw prints its bytes as a C-escaped string. */
static size_t raw_doubles(const raw_fields *r, const char *path, double *out, size_t cap) {
  const char *v = raw_get(r, path);
  assert_non_null(v);
  assert_true(v[0] == '"'); /* not parsed as a nested message */
  unsigned char bytes[4096];
  size_t n = 0;
  for (const char *p = v + 1; *p && *p != '"'; p++) {
    assert_true(n < sizeof bytes);
    if (*p != '\\') {
      bytes[n++] = (unsigned char)*p;
      continue;
    }
    p++;
    if (*p >= '0' && *p <= '7') {
      int x = 0;
      for (int i = 0; i < 3 && *p >= '0' && *p <= '7'; i++, p++) x = x * 8 + (*p - '0');
      p--;
      bytes[n++] = (unsigned char)x;
    } else {
      bytes[n++] = (unsigned char)(*p == 'n' ? '\n' : *p == 'r' ? '\r' : *p == 't' ? '\t' : *p);
    }
  }
  assert_int_equal(n % 8, 0);
  assert_true(n / 8 <= cap);
  for (size_t i = 0; i < n / 8; i++) {
    uint64_t u = 0;
    for (int k = 0; k < 8; k++) u |= (uint64_t)bytes[8 * i + k] << (8 * k);
    memcpy(&out[i], &u, 8);
  }
  return n / 8;
}

/* kcb_summary_writer_add_histogram_proto: Summary.Value.histo (5) with min (1), max (2), num (3),
 * sum (4), sum_squares (5), bucket_limit (6) and bucket (7) (TensorBoard's summary.proto), no tensor
 * and no metadata; sum and sum_squares equal those summed here from the weights; the buckets equal
 * the tensor encoding's (right edges and counts) for the same values. */
static void test_histogram_proto(void **state) {
  (void)state;
  char dir[300], tdir[300];
  snprintf(dir, sizeof dir, "%s/hproto", tmp_root);
  snprintf(tdir, sizeof tdir, "%s/htensor", tmp_root);
  enum { N = 1000 };
  static float w[N];
  uint64_t seed = 12345;
  for (int i = 0; i < N; i++) { /* weights of a layer: small values around 0, one outlier */
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    w[i] = (float)((double)(seed >> 11) / 9007199254740992.0 - 0.5) * 0.2f;
  }
  w[17] = 0.75f;
  double sum = 0, sum_squares = 0, lo = w[0], hi = w[0];
  for (int i = 0; i < N; i++) {
    double v = w[i];
    sum += v;
    sum_squares += v * v;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  kcb_summary_writer *wr, *wt;
  assert_ok(kcb_summary_writer_new(&wr, dir, NULL));
  assert_ok(kcb_summary_writer_new(&wt, tdir, NULL));
  assert_ok(kcb_summary_writer_add_histogram_proto(wr, "dense/kernel", w, N, 0, 7));
  assert_ok(kcb_summary_writer_add_histogram(wt, "dense/kernel", w, N, 0, 7));
  float same[3] = {-1.5f, -1.5f, -1.5f};
  assert_ok(kcb_summary_writer_add_histogram_proto(wr, "same", same, 3, 4, 8));
  assert_ok(kcb_summary_writer_add_histogram_proto(wr, "empty", NULL, 0, 0, 9));
  float bad[2] = {1, INFINITY};
  assert_error(kcb_summary_writer_add_histogram_proto(wr, "bad", bad, 2, 0, 9), KCB_ENAN, "bad");
  assert_error(kcb_summary_writer_add_histogram_proto(wr, "neg", w, N, -1, 9), KCB_EINVAL, "-1 buckets");
  assert_error(kcb_summary_writer_add_histogram_proto(wr, "", w, N, 0, 9), KCB_EINVAL, "empty tag");
  assert_error(kcb_summary_writer_add_histogram_proto(wr, "many", w, N, KCB_HISTOGRAM_MAX_BUCKETS + 1, 9), KCB_EINVAL,
               "100001 buckets (0 to 100000)");
  assert_error(kcb_summary_writer_add_histogram(wr, "many", w, N, 100000000, 9), KCB_EINVAL, "100000000 buckets");
  /* a tag is a protobuf string: bytes that are not UTF-8 (a lone 0xff, an overlong '/', a surrogate) are refused */
  assert_error(kcb_summary_writer_add_scalar(wr, "bad\xff\xfeutf8", 1.0, 9), KCB_EINVAL, "is not valid UTF-8");
  assert_error(kcb_summary_writer_add_scalar(wr, "over\xc0\xaflong", 1.0, 9), KCB_EINVAL, "is not valid UTF-8");
  assert_error(kcb_summary_writer_add_histogram(wr, "sur\xed\xa0\x80", w, N, 0, 9), KCB_EINVAL, "is not valid UTF-8");
  const char *fine = "caf\xc3\xa9/\xe6\x8d\x9f\xe5\xa4\xb1 \xf0\x9f\x93\x89";
  assert_int_equal(kcb_text_is_utf8(fine, strlen(fine)), 1);
  assert_int_equal(kcb_text_is_utf8("\xf4\x90\x80\x80", 4), 0); /* past U+10FFFF */
  assert_int_equal(kcb_text_is_utf8("\xe6\x8d", 2), 0);          /* cut short */
  char path[600];
  snprintf(path, sizeof path, "%s", kcb_summary_writer_path(wr));
  assert_ok(kcb_summary_writer_close(wr));
  assert_ok(kcb_summary_writer_close(wt));

  static unsigned char rec[1 << 16];
  size_t len = record_payload(path, 1, rec, sizeof rec);
  raw_fields r;
  decode_raw(rec, len, &r);
  assert_string_equal(raw_get(&r, "2"), "7");                     /* Event.step */
  assert_string_equal(raw_get(&r, "5.1.1"), "\"dense/kernel\"");  /* Summary.Value.tag */
  assert_string_equal(raw_get(&r, "5.1.5"), "{");                 /* Summary.Value.histo */
  assert_null(raw_get(&r, "5.1.8"));                              /* no tensor */
  assert_null(raw_get(&r, "5.1.9"));                              /* no metadata, as TF1 and PyTorch */
  assert_true(raw_double(&r, "5.1.5.1") == lo);
  assert_true(raw_double(&r, "5.1.5.2") == hi);
  assert_true(raw_double(&r, "5.1.5.3") == N);
  assert_true(raw_double(&r, "5.1.5.4") == sum);
  /* v * v + s may be one fused multiply-add on one side and not the other: 1e-13 relative */
  assert_true(fabs(raw_double(&r, "5.1.5.5") - sum_squares) <= 1e-13 * sum_squares);
  double limits[64], counts[64];
  assert_int_equal(raw_doubles(&r, "5.1.5.6", limits, 64), 30);
  assert_int_equal(raw_doubles(&r, "5.1.5.7", counts, 64), 30);
  raw_free(&r);
  /* the tensor encoding of the same values: rows [left, right, count] */
  kcb_event_reader *rd;
  const kcb_event *e;
  assert_ok(kcb_event_reader_open(&rd, tdir));
  assert_int_equal(kcb_event_reader_next(rd, &e), 1);
  assert_int_equal(kcb_event_reader_next(rd, &e), 1);
  const kcb_summary_value *t = &e->values[0];
  assert_int_equal(t->n_buckets, 30);
  double total = 0;
  for (int i = 0; i < 30; i++) {
    assert_true(limits[i] == t->buckets[i].right);
    assert_true(counts[i] == t->buckets[i].count);
    total += counts[i];
  }
  assert_true(t->buckets[0].left == lo && limits[29] == hi && total == N);
  assert_true(isnan(t->hist_sum));
  kcb_event_reader_free(rd);

  /* kcb's reader: TensorBoard's conversion (min is the first left edge) gives the same buckets,
   * and the exact sum */
  assert_ok(kcb_event_reader_open(&rd, path));
  assert_int_equal(kcb_event_reader_next(rd, &e), 1);
  assert_int_equal(kcb_event_reader_next(rd, &e), 1);
  const kcb_summary_value *h = &e->values[0];
  assert_int_equal(h->kind, KCB_SUMMARY_HISTOGRAM);
  assert_int_equal(h->n_buckets, 30); /* the first and last buckets hold lo and hi: none dropped */
  for (int i = 0; i < 30; i++)
    assert_true(h->buckets[i].left == (i ? limits[i - 1] : lo) && h->buckets[i].right == limits[i] &&
                h->buckets[i].count == counts[i]);
  assert_true(h->hist_sum == sum && h->hist_num == N && h->hist_min == lo && h->hist_max == hi);
  /* all values equal: every edge is the value, the last bucket holds them */
  assert_int_equal(kcb_event_reader_next(rd, &e), 1);
  h = &e->values[0];
  assert_true(h->hist_min == -1.5 && h->hist_max == -1.5 && h->hist_num == 3 && h->hist_sum == -4.5 &&
              h->hist_sum_squares == 6.75);
  assert_int_equal(h->n_buckets, 1);
  assert_true(h->buckets[0].count == 3 && h->buckets[0].left == -1.5 && h->buckets[0].right == -1.5);
  /* no values: num 0, no bucket left after TensorBoard drops the empty ones */
  assert_int_equal(kcb_event_reader_next(rd, &e), 1);
  h = &e->values[0];
  assert_true(h->hist_num == 0 && h->hist_sum == 0 && h->n_buckets == 0);
  assert_int_equal(kcb_event_reader_next(rd, &e), 0);
  kcb_event_reader_free(rd);
}

static void test_all_kinds_roundtrip(void **state) {
  (void)state;
  char dir[300];
  snprintf(dir, sizeof dir, "%s/kinds", tmp_root);
  kcb_summary_writer_options o = KCB_SUMMARY_WRITER_OPTIONS_INIT;
  o.purge_step = 5;
  kcb_summary_writer *w;
  assert_ok(kcb_summary_writer_new(&w, dir, &o));
  uint8_t px[2 * 3 * 4];
  for (int i = 0; i < 24; i++) px[i] = (uint8_t)(i * 10);
  assert_ok(kcb_summary_writer_add_images(w, "img", px, 2, 3, 4, 1, 6));
  assert_error(kcb_summary_writer_add_images(w, "img", px, 1, 3, 4, 2, 6), KCB_EINVAL, "channels");
  assert_ok(kcb_summary_writer_add_text(w, "notes", "Hello **bold**", 7));
  float clip[8] = {0, 0.5f, -0.5f, 1, -1, 0.25f, 0, 0};
  assert_ok(kcb_summary_writer_add_audio(w, "snd", clip, 4, 2, 8000, "a label", 8));
  kcb_hparam hp[3] = {{"lr", KCB_HPARAM_NUMBER, 0.01, NULL, 0}, {"opt", KCB_HPARAM_STRING, 0, "adam", 0},
                      {"bn", KCB_HPARAM_BOOL, 0, NULL, 1}};
  kcb_hparam_metric mt[1] = {{"validation", "epoch_loss"}};
  assert_ok(kcb_summary_writer_add_hparams_experiment(w, hp, 3, mt, 1));
  assert_ok(kcb_summary_writer_add_hparams_session_start(w, hp, 3, "g1", 100.0));
  assert_ok(kcb_summary_writer_add_hparams_session_end(w, KCB_HPARAM_STATUS_SUCCESS, 200.0));
  assert_ok(kcb_summary_writer_close(w));

  kcb_event_reader *r;
  assert_ok(kcb_event_reader_open(&r, dir));
  const kcb_event *e;
  assert_int_equal(kcb_event_reader_next(r, &e), 1);
  assert_non_null(e->file_version);
  assert_int_equal(kcb_event_reader_next(r, &e), 1);
  assert_int_equal(e->session_status, 1); /* START at purge_step */
  assert_int_equal(e->step, 5);
  assert_int_equal(kcb_event_reader_next(r, &e), 1);
  const kcb_summary_value *v = &e->values[0];
  assert_int_equal(v->kind, KCB_SUMMARY_IMAGE);
  assert_int_equal(v->width, 4);
  assert_int_equal(v->height, 3);
  assert_int_equal(v->n_blobs, 2);
  assert_int_equal(v->data_class, 3);
  assert_memory_equal(v->blobs[0].data, "\x89PNG", 4);
  assert_int_equal(kcb_event_reader_next(r, &e), 1);
  v = &e->values[0];
  assert_int_equal(v->kind, KCB_SUMMARY_TEXT);
  assert_int_equal(v->rank, 0);
  assert_int_equal(v->n_blobs, 1);
  assert_int_equal(v->blobs[0].len, strlen("Hello **bold**"));
  assert_memory_equal(v->blobs[0].data, "Hello **bold**", v->blobs[0].len);
  assert_int_equal(kcb_event_reader_next(r, &e), 1);
  v = &e->values[0];
  assert_int_equal(v->kind, KCB_SUMMARY_AUDIO);
  assert_int_equal(v->n_blobs, 1);
  assert_int_equal(v->blobs[0].len, 44 + 4 * 2 * 2);
  assert_memory_equal(v->blobs[0].data, "RIFF", 4);
  /* samples as TensorFlow's encode_wav makes them: round(x * 32768), clamped to 16 bits */
  const int16_t want[8] = {0, 16384, -16384, 32767, -32768, 8192, 0, 0};
  for (int i = 0; i < 8; i++) {
    const unsigned char *b = v->blobs[0].data + 44 + 2 * i;
    assert_int_equal((int16_t)(b[0] | b[1] << 8), want[i]);
  }
  assert_non_null(v->labels);
  assert_memory_equal(v->labels[0].data, "a label", 7);
  assert_int_equal(kcb_event_reader_next(r, &e), 1);
  v = &e->values[0];
  assert_int_equal(v->kind, KCB_SUMMARY_HPARAMS);
  assert_int_equal(v->hp_kind, KCB_HPARAMS_EXPERIMENT);
  assert_int_equal(v->n_hp_values, 3);
  assert_string_equal(v->hp_values[1].name, "opt");
  assert_int_equal(v->hp_values[1].type, 1);
  assert_int_equal(v->n_hp_metrics, 1);
  assert_string_equal(v->hp_metric_groups[0], "validation");
  assert_string_equal(v->hp_metric_tags[0], "epoch_loss");
  assert_int_equal(kcb_event_reader_next(r, &e), 1);
  v = &e->values[0];
  assert_int_equal(v->hp_kind, KCB_HPARAMS_SESSION_START);
  assert_string_equal(v->hp_group_name, "g1");
  assert_true(v->hp_time == 100.0);
  assert_int_equal(v->n_hp_values, 3);
  int seen = 0;
  for (size_t i = 0; i < v->n_hp_values; i++) {
    const kcb_hparam_value *h = &v->hp_values[i];
    if (strcmp(h->name, "lr") == 0) seen += h->type == 0 && h->number == 0.01;
    if (strcmp(h->name, "opt") == 0) seen += h->type == 1 && strcmp(h->string, "adam") == 0;
    if (strcmp(h->name, "bn") == 0) seen += h->type == 2 && h->boolean;
  }
  assert_int_equal(seen, 3);
  assert_int_equal(kcb_event_reader_next(r, &e), 1);
  v = &e->values[0];
  assert_int_equal(v->hp_kind, KCB_HPARAMS_SESSION_END);
  assert_int_equal(v->hp_status, 1);
  assert_true(v->hp_time == 200.0);
  assert_int_equal(kcb_event_reader_next(r, &e), 0);
  kcb_event_reader_free(r);
}

static void test_bad_arguments(void **state) {
  (void)state;
  kcb_summary_writer *w = NULL;
  assert_error(kcb_summary_writer_new(&w, "", NULL), KCB_EINVAL, "empty");
  /* flush_secs becomes a deadline: an unbounded one would overflow it and spin the writer thread */
  kcb_summary_writer_options forever = KCB_SUMMARY_WRITER_OPTIONS_INIT;
  forever.flush_secs = INFINITY;
  assert_error(kcb_summary_writer_new(&w, tmp_root, &forever), KCB_EINVAL, "flush_secs inf");
  forever.flush_secs = 0;
  assert_error(kcb_summary_writer_new(&w, tmp_root, &forever), KCB_EINVAL, "flush_secs 0");
  assert_error(kcb_summary_writer_new(&w, "/proc/nonexistent_kcb/x", NULL), KCB_ENOENT, "/proc/nonexistent_kcb");
  char dir[300];
  snprintf(dir, sizeof dir, "%s/args", tmp_root);
  assert_ok(kcb_summary_writer_new(&w, dir, NULL));
  assert_error(kcb_summary_writer_add_scalar(w, "", 1, 0), KCB_EINVAL, "empty tag");
  assert_error(kcb_summary_writer_add_audio(w, "a", NULL, 0, 0, 8000, NULL, 0), KCB_EINVAL, "'a'");
  kcb_summary_writer_free(w);
  kcb_event_reader *r;
  assert_error(kcb_event_reader_open(&r, "/nonexistent/kcb.tfevents"), KCB_ENOENT, "/nonexistent/kcb.tfevents");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_crc32c_vectors),
      cmocka_unit_test(test_crc32c_hardware_matches_table),
      cmocka_unit_test(test_crc32c_batch_matches_table),
      cmocka_unit_test(test_record_golden),
      cmocka_unit_test(test_scalar_encoder_matches_protobuf_c),
      cmocka_unit_test(test_file_naming_and_first_record),
      cmocka_unit_test(test_scalars_roundtrip_async),
      cmocka_unit_test(test_write_error_surfaces),
      cmocka_unit_test(test_directory_removed),
      cmocka_unit_test(test_flush_secs),
      cmocka_unit_test(test_kick_writes_without_waiting),
      cmocka_unit_test(test_histogram_bucket_rule),
      cmocka_unit_test(test_histogram_proto),
      cmocka_unit_test(test_all_kinds_roundtrip),
      cmocka_unit_test(test_bad_arguments),
  };
  return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
