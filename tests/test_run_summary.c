/* test_run_summary.c — kcb_run_summary_read against the PyTorch-written fixture's expected.json
 * (read by TensorBoard's own backend), against kcb's full event reader on files with every
 * summary kind, on TensorBoard's purge of a resumed run, and on truncated and corrupt copies. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_helpers.h"

#include "tfevents_expected.h"

/* Every scalar series of expected.json, point for point; histogram and image steps and counts. */
static void check_fixture_run(const char *name) {
  json_t *run = json_object_get(json_object_get(expected, "runs"), name);
  assert_non_null(run);
  char path[512];
  snprintf(path, sizeof path, "%s/logdir/%s", DATA, name);
  kcb_run_summary *s = NULL;
  assert_ok(kcb_run_summary_read(&s, path, NULL));
  assert_int_equal(s->problem, 0);
  assert_int_equal(s->n_files, 1);
  const char *tag;
  json_t *series;
  json_object_foreach(json_object_get(run, "scalars"), tag, series) {
    const kcb_run_tag *t = kcb_run_summary_find(s, tag);
    assert_non_null(t);
    assert_int_equal(t->kind, KCB_SUMMARY_SCALAR);
    assert_int_equal(t->n_points, json_array_size(series));
    assert_int_equal(t->count, json_array_size(series));
    double mn = INFINITY, mx = -INFINITY;
    for (size_t i = 0; i < t->n_points; i++) {
      json_t *p = json_array_get(series, i);
      assert_int_equal(t->steps[i], json_integer_value(json_array_get(p, 0)));
      if (json_is_number(json_array_get(p, 1))) assert_true(t->wall_times[i] == json_number_value(json_array_get(p, 1)));
      double v = json_number_value(json_array_get(p, 2));
      assert_true(t->values[i] == v);
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    assert_true(t->first == json_number_value(json_array_get(json_array_get(series, 0), 2)));
    assert_true(t->last == json_number_value(json_array_get(json_array_get(series, t->n_points - 1), 2)));
    assert_true(t->min == mn);
    assert_true(t->max == mx);
  }
  json_t *hists;
  json_object_foreach(json_object_get(run, "histograms"), tag, hists) {
    const kcb_run_tag *t = kcb_run_summary_find(s, tag);
    assert_non_null(t);
    assert_int_equal(t->kind, KCB_SUMMARY_HISTOGRAM);
    /* expected.json lists a sample of the steps: each must be inside the range */
    const char *step;
    json_t *h;
    json_object_foreach(hists, step, h) {
      assert_true(atoll(step) >= t->min_step && atoll(step) <= t->max_step);
    }
    assert_true(isnan(t->first));
  }
  json_t *img;
  json_object_foreach(json_object_get(run, "images"), tag, img) {
    const kcb_run_tag *t = kcb_run_summary_find(s, tag);
    assert_non_null(t);
    assert_int_equal(t->kind, KCB_SUMMARY_IMAGE);
    assert_int_equal(t->count, json_array_size(json_object_get(img, "steps")));
  }
  kcb_run_summary_free(s);
}

static void test_fixture(void **state) {
  (void)state;
  check_fixture_run("run_a");
  check_fixture_run("run_a/hp");
}

/* The fast pass and the full reader agree on every tag's kind, plugin, count, steps and scalars. */
static void check_against_reader(const char *path) {
  kcb_run_summary *s = NULL;
  assert_ok(kcb_run_summary_read(&s, path, NULL));
  kcb_event_reader *r = NULL;
  assert_ok(kcb_event_reader_open(&r, path));
  size_t *seen = calloc(s->n_tags + 1, sizeof *seen);
  assert_non_null(seen);
  uint64_t events = 0;
  const kcb_event *e;
  int rc;
  while ((rc = kcb_event_reader_next(r, &e)) == 1) {
    events++;
    for (size_t i = 0; i < e->n_values; i++) {
      const kcb_summary_value *v = &e->values[i];
      const kcb_run_tag *t = kcb_run_summary_find(s, v->tag);
      assert_non_null(t);
      size_t k = (size_t)(t - s->tags);
      if (seen[k] == 0) {
        assert_int_equal(t->kind, v->kind);
        assert_int_equal(t->first_step, e->step);
        assert_true(t->first_wall_time == e->wall_time);
        if (v->has_metadata) assert_string_equal(t->plugin, v->plugin_name);
      }
      if (t->kind == KCB_SUMMARY_SCALAR) {
        assert_true(seen[k] < t->n_points);
        assert_int_equal(t->steps[seen[k]], e->step);
        assert_true(t->values[seen[k]] == v->scalar || (isnan(v->scalar) && isnan(t->values[seen[k]])));
      }
      seen[k]++;
    }
  }
  assert_int_equal(rc, 0);
  assert_int_equal(events, s->n_events);
  for (size_t k = 0; k < s->n_tags; k++) assert_int_equal(seen[k], s->tags[k].count);
  free(seen);
  kcb_event_reader_free(r);
  kcb_run_summary_free(s);
}

static char tmpdir[256];

static void make_tmpdir(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/kcb_run_summary_XXXXXX");
  assert_non_null(mkdtemp(tmpdir));
}

/* A new event file events.out.tfevents.SUFFIX in tmpdir, its path in path. */
static FILE *new_event_file(char *path, size_t size, const char *suffix) {
  snprintf(path, size, "%s/events.out.tfevents.%s", tmpdir, suffix);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  return f;
}

static void remove_tmpdir(void) {
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  assert_int_equal(system(cmd), 0);
}

static void test_every_kind_like_the_reader(void **state) {
  (void)state;
  check_against_reader(DATA "/logdir/run_a");
  check_against_reader(DATA "/logdir/run_a/hp");
  make_tmpdir();
  kcb_summary_writer *w;
  assert_ok(kcb_summary_writer_new(&w, tmpdir, NULL));
  float vals[5] = {1, 2, 3, 4, 5};
  uint8_t px[12] = {0};
  float clip[8] = {0};
  for (int step = 0; step < 3; step++) {
    assert_ok(kcb_summary_writer_add_scalar(w, "loss", 1.0 / (step + 1), step));
    assert_ok(kcb_summary_writer_add_scalar(w, "nan", NAN, step));
    assert_ok(kcb_summary_writer_add_histogram(w, "h", vals, 5, 0, step));
    assert_ok(kcb_summary_writer_add_images(w, "img", px, 1, 2, 2, 3, step));
    assert_ok(kcb_summary_writer_add_text(w, "txt", "hello", step));
    assert_ok(kcb_summary_writer_add_audio(w, "snd", clip, 8, 1, 8000, "l", step));
  }
  kcb_hparam hp = {"lr", KCB_HPARAM_NUMBER, 0.1, NULL, 0};
  assert_ok(kcb_summary_writer_add_hparams_session_start(w, &hp, 1, NULL, 1));
  assert_ok(kcb_summary_writer_close(w));
  check_against_reader(tmpdir);
  kcb_run_summary *s;
  assert_ok(kcb_run_summary_read(&s, tmpdir, NULL));
  const kcb_run_tag *t = kcb_run_summary_find(s, "nan");
  assert_non_null(t);
  assert_true(isnan(t->min) && isnan(t->max) && isnan(t->first));
  t = kcb_run_summary_find(s, "loss");
  assert_true(t->first == 1.0f && t->last == (float)(1.0 / 3) && t->min == (float)(1.0 / 3) && t->max == 1.0);
  assert_int_equal(kcb_run_summary_find(s, "snd")->kind, KCB_SUMMARY_AUDIO);
  assert_int_equal(kcb_run_summary_find(s, "txt")->kind, KCB_SUMMARY_TEXT);
  assert_int_equal(kcb_run_summary_find(s, "img")->kind, KCB_SUMMARY_IMAGE);
  assert_int_equal(kcb_run_summary_find(s, "h")->kind, KCB_SUMMARY_HISTOGRAM);
  assert_int_equal(kcb_run_summary_find(s, "_hparams_/session_start_info")->kind, KCB_SUMMARY_HPARAMS);
  assert_null(kcb_run_summary_find(s, "absent"));
  kcb_run_summary_free(s);
  /* only one tag */
  kcb_run_summary_options o = KCB_RUN_SUMMARY_OPTIONS_INIT;
  o.tag = "loss";
  assert_ok(kcb_run_summary_read(&s, tmpdir, &o));
  assert_int_equal(s->n_tags, 1);
  assert_int_equal(s->tags[0].n_points, 3);
  kcb_run_summary_free(s);
  remove_tmpdir();
}

/* A restarted run (a SessionLog START at step 5, then steps 5 and 6 again): as TensorBoard's data
 * server keeps series, a re-logged step evicts the tag's points at steps >= it; a tag not logged
 * again keeps its points. */
static void test_purge(void **state) {
  (void)state;
  make_tmpdir();
  kcb_summary_writer *w;
  assert_ok(kcb_summary_writer_new(&w, tmpdir, NULL));
  for (int s = 0; s < 10; s++) assert_ok(kcb_summary_writer_add_scalar(w, "x", s, s));
  for (int s = 0; s < 10; s++) assert_ok(kcb_summary_writer_add_scalar(w, "once", s, s));
  assert_ok(kcb_summary_writer_close(w));
  kcb_summary_writer_options o = KCB_SUMMARY_WRITER_OPTIONS_INIT;
  o.purge_step = 5;
  o.filename_suffix = ".z";
  assert_ok(kcb_summary_writer_new(&w, tmpdir, &o));
  for (int s = 5; s < 7; s++) assert_ok(kcb_summary_writer_add_scalar(w, "x", 100 + s, s));
  assert_ok(kcb_summary_writer_close(w));
  kcb_run_summary *s;
  assert_ok(kcb_run_summary_read(&s, tmpdir, NULL));
  assert_int_equal(s->n_files, 2);
  const kcb_run_tag *t = kcb_run_summary_find(s, "x");
  assert_int_equal(t->n_points, 7);
  const double want[7] = {0, 1, 2, 3, 4, 105, 106};
  for (int i = 0; i < 7; i++) assert_true(t->values[i] == want[i]);
  assert_true(t->max == 106 && t->min == 0 && t->last == 106);
  assert_int_equal(t->count, 7); /* every field is the series' */
  assert_true(t->first_step == 0 && t->last_step == 6 && t->max_step == 6);
  assert_int_equal(kcb_run_summary_find(s, "once")->n_points, 10);
  kcb_run_summary_free(s);
  /* without the series kept: the same fields (a restarted run is read with them, then they go) */
  kcb_run_summary_options ro = KCB_RUN_SUMMARY_OPTIONS_INIT;
  ro.keep_series = 0;
  assert_ok(kcb_run_summary_read(&s, tmpdir, &ro));
  t = kcb_run_summary_find(s, "x");
  assert_int_equal(t->n_points, 0);
  assert_null(t->values);
  assert_true(t->max == 106 && t->min == 0 && t->first == 0 && t->last == 106);
  assert_int_equal(t->count, 7);
  assert_true(t->first_step == 0 && t->last_step == 6 && t->max_step == 6);
  kcb_run_summary_free(s);
  /* a third session restarting earlier (step 3) drops the second's points too, and only the points
   * read before it: 0 1 2, then its own 203 204 */
  o.purge_step = 3;
  o.filename_suffix = ".zz";
  assert_ok(kcb_summary_writer_new(&w, tmpdir, &o));
  for (int st = 3; st < 5; st++) assert_ok(kcb_summary_writer_add_scalar(w, "x", 200 + st, st));
  assert_ok(kcb_summary_writer_close(w));
  assert_ok(kcb_run_summary_read(&s, tmpdir, NULL));
  t = kcb_run_summary_find(s, "x");
  assert_int_equal(t->n_points, 5);
  const double want3[5] = {0, 1, 2, 203, 204};
  for (int i = 0; i < 5; i++) assert_true(t->values[i] == want3[i] && t->steps[i] == i);
  kcb_run_summary_free(s);
  remove_tmpdir();
}

/* Damaged copies: the problem named with file and offset, the records before it counted as
 * kcb_event_file_validate counts them. */
static void check_broken(const char *name, int code, const char *needle) {
  char path[512];
  snprintf(path, sizeof path, "%s/broken/%s", DATA, name);
  kcb_event_file_check ck;
  assert_int_equal(kcb_event_file_validate(path, &ck), code);
  kcb_run_summary *s;
  assert_ok(kcb_run_summary_read(&s, path, NULL));
  assert_int_equal(s->problem, code);
  assert_int_equal(s->n_events, ck.records);
  assert_int_equal(s->n_bytes, ck.bytes_ok);
  assert_non_null(strstr(s->problem_message, path));
  assert_non_null(strstr(s->problem_message, needle));
  kcb_run_summary_free(s);
}

static void test_broken(void **state) {
  (void)state;
  check_broken("truncated.tfevents", KCB_ETRUNC, "truncated record at offset 42173");
  check_broken("corrupt_data.tfevents", KCB_ECRC, "data CRC mismatch in the record at offset 6159");
  check_broken("corrupt_length.tfevents", KCB_ECRC, "length CRC mismatch in the record at offset 3084");
}

static void test_errors(void **state) {
  (void)state;
  kcb_run_summary *s = (kcb_run_summary *)1;
  assert_error(kcb_run_summary_read(&s, "/nonexistent/run", NULL), KCB_ENOENT, "/nonexistent/run");
  assert_null(s);
  assert_error(kcb_run_summary_read(NULL, DATA, NULL), KCB_EINVAL, "no output");
  kcb_run_summary_free(NULL);
  assert_null(kcb_run_summary_find(NULL, "x"));
  /* a record that is not an Event: skipped and reported, the next ones read */
  make_tmpdir();
  char path[400];
  FILE *f = new_event_file(path, sizeof path, "bad");
  const unsigned char junk[3] = {0xFF, 0xFF, 0xFF}; /* an unterminated varint key */
  unsigned char hdr[12], ftr[4];
  uint64_t n = sizeof junk;
  for (int i = 0; i < 8; i++) hdr[i] = (unsigned char)(n >> (8 * i));
  uint32_t c = kcb_crc32c_masked(hdr, 8);
  for (int i = 0; i < 4; i++) hdr[8 + i] = (unsigned char)(c >> (8 * i));
  c = kcb_crc32c_masked(junk, sizeof junk);
  for (int i = 0; i < 4; i++) ftr[i] = (unsigned char)(c >> (8 * i));
  fwrite(hdr, 1, 12, f), fwrite(junk, 1, sizeof junk, f), fwrite(ftr, 1, 4, f);
  assert_int_equal(fclose(f), 0);
  assert_ok(kcb_run_summary_read(&s, path, NULL));
  assert_int_equal(s->problem, KCB_EFORMAT);
  assert_non_null(strstr(s->problem_message, "offset 0 is not a valid Event"));
  assert_int_equal(s->n_events, 0);
  kcb_run_summary_free(s);
  remove_tmpdir();
}

/* ---- integer scalars: Events encoded here by hand (protobuf wire format) ---- */

typedef struct pbuf {
  unsigned char b[256];
  size_t n;
} pbuf;

static void pb_varint(pbuf *p, uint64_t v) {
  while (v >= 0x80) p->b[p->n++] = (unsigned char)(v | 0x80), v >>= 7;
  p->b[p->n++] = (unsigned char)v;
}

static void pb_bytes(pbuf *p, unsigned key, const void *data, size_t n) {
  pb_varint(p, key);
  pb_varint(p, n);
  memcpy(p->b + p->n, data, n);
  p->n += n;
}

static void write_record(FILE *f, const pbuf *e) {
  unsigned char hdr[12], ftr[4];
  for (int i = 0; i < 8; i++) hdr[i] = (unsigned char)((uint64_t)e->n >> (8 * i));
  uint32_t c = kcb_crc32c_masked(hdr, 8);
  for (int i = 0; i < 4; i++) hdr[8 + i] = (unsigned char)(c >> (8 * i));
  c = kcb_crc32c_masked(e->b, e->n);
  for (int i = 0; i < 4; i++) ftr[i] = (unsigned char)(c >> (8 * i));
  assert_int_equal(fwrite(hdr, 1, 12, f), 12);
  assert_int_equal(fwrite(e->b, 1, e->n, f), e->n);
  assert_int_equal(fwrite(ftr, 1, 4, f), 4);
}

/* Event{step, summary{value{tag, tensor{dtype, shape{}, payload}, metadata scalars}}}: payload is
 * int64_val (dtype 9, packed), tensor_content of 8 bytes (dtype 23, uint64) or float_val (dtype 1). */
static void write_scalar(FILE *f, int64_t step, const char *tag, int dtype, uint64_t bits) {
  pbuf t = {{0}, 0}, v = {{0}, 0}, sm = {{0}, 0}, e = {{0}, 0};
  pb_varint(&t, 0x08), pb_varint(&t, (uint64_t)dtype);
  pb_bytes(&t, 0x12, "", 0);
  if (dtype == 9) {
    pbuf pk = {{0}, 0};
    pb_varint(&pk, bits);
    pb_bytes(&t, 0x52, pk.b, pk.n); /* 10: int64_val, packed */
  } else if (dtype == 23) {
    unsigned char le[8];
    for (int i = 0; i < 8; i++) le[i] = (unsigned char)(bits >> (8 * i));
    pb_bytes(&t, 0x22, le, 8); /* 4: tensor_content */
  } else {
    unsigned char le[4];
    for (int i = 0; i < 4; i++) le[i] = (unsigned char)(bits >> (8 * i));
    pb_bytes(&t, 0x2a, le, 4); /* 5: float_val, packed */
  }
  static const unsigned char md[] = {0x0a, 0x09, 0x0a, 0x07, 's', 'c', 'a', 'l', 'a', 'r', 's', 0x20, 0x01};
  pb_bytes(&v, 0x0a, tag, strlen(tag));
  pb_bytes(&v, 0x42, t.b, t.n);
  pb_bytes(&v, 0x4a, md, sizeof md);
  pb_bytes(&sm, 0x0a, v.b, v.n);
  pb_varint(&e, 0x10), pb_varint(&e, (uint64_t)step);
  pb_bytes(&e, 0x2a, sm.b, sm.n);
  write_record(f, &e);
}

static void write_session_start(FILE *f, int64_t step) {
  pbuf e = {{0}, 0};
  static const unsigned char start[] = {0x08, 0x01};
  pb_varint(&e, 0x10), pb_varint(&e, (uint64_t)step);
  pb_bytes(&e, 0x3a, start, sizeof start);
  write_record(f, &e);
}

static uint64_t float_bits(float x) {
  uint32_t u;
  memcpy(&u, &x, 4);
  return u;
}

/* A tensor of a plugin that is not that plugin's form ([2, 2] for histograms, numbers for text, one
 * string for images): a plain tensor, in the run summary as in the reader (runs used to list them
 * under the plugin's kind, which the histograms, text and images commands then did not find). */
static void write_plugin_tensor(FILE *f, const char *tag, const char *plugin, int dtype, int64_t d0, int64_t d1,
                                const void *content, size_t n, int strings) {
  pbuf pd = {{0}, 0}, md = {{0}, 0}, shape = {{0}, 0}, t = {{0}, 0}, v = {{0}, 0}, sm = {{0}, 0}, e = {{0}, 0};
  pb_bytes(&pd, 0x0a, plugin, strlen(plugin));
  pb_bytes(&md, 0x0a, pd.b, pd.n);
  for (int k = 0; k < 2; k++) {
    pbuf dim = {{0}, 0};
    pb_varint(&dim, 0x08), pb_varint(&dim, (uint64_t)(k ? d1 : d0));
    if ((k ? d1 : d0) >= 0) pb_bytes(&shape, 0x12, dim.b, dim.n);
  }
  pb_varint(&t, 0x08), pb_varint(&t, (uint64_t)dtype);
  pb_bytes(&t, 0x12, shape.b, shape.n);
  if (strings) pb_bytes(&t, 0x42, content, n); /* one string_val */
  else pb_bytes(&t, 0x22, content, n);         /* tensor_content */
  pb_bytes(&v, 0x0a, tag, strlen(tag));
  pb_bytes(&v, 0x42, t.b, t.n);
  pb_bytes(&v, 0x4a, md.b, md.n);
  pb_bytes(&sm, 0x0a, v.b, v.n);
  pb_bytes(&e, 0x2a, sm.b, sm.n);
  write_record(f, &e);
}

static void test_plugin_tensors_like_the_reader(void **state) {
  (void)state;
  make_tmpdir();
  char path[512];
  FILE *f = new_event_file(path, sizeof path, "1.odd");
  const float four[4] = {1, 2, 3, 4}, six[6] = {0, 1, 2, 1, 2, 3};
  write_plugin_tensor(f, "h/square", "histograms", 1, 2, 2, four, sizeof four, 0);
  write_plugin_tensor(f, "h/ok", "histograms", 1, 2, 3, six, sizeof six, 0);
  write_plugin_tensor(f, "t/float", "text", 1, 2, 2, four, sizeof four, 0);
  write_plugin_tensor(f, "i/one", "images", 7, 1, -1, "x", 1, 1);
  fclose(f);
  check_against_reader(tmpdir);
  kcb_run_summary *s;
  assert_ok(kcb_run_summary_read(&s, tmpdir, NULL));
  assert_int_equal(kcb_run_summary_find(s, "h/square")->kind, KCB_SUMMARY_TENSOR);
  assert_int_equal(kcb_run_summary_find(s, "h/ok")->kind, KCB_SUMMARY_HISTOGRAM);
  assert_int_equal(kcb_run_summary_find(s, "t/float")->kind, KCB_SUMMARY_TENSOR);
  assert_int_equal(kcb_run_summary_find(s, "i/one")->kind, KCB_SUMMARY_TENSOR);
  kcb_run_summary_free(s);
  remove_tmpdir();
}

/* A session_start_info whose hparams map holds "lr" twice: one value, the last, as protobuf's map
 * (and TensorBoard) reads it; "b" keeps its place after it. */
static void test_hparams_repeated_key(void **state) {
  (void)state;
  make_tmpdir();
  char path[512];
  FILE *f = new_event_file(path, sizeof path, "1.hp");
  pbuf start = {{0}, 0};
  const char *keys[3] = {"lr", "b", "lr"};
  const double values[3] = {1.0, 7.0, 2.0};
  for (int i = 0; i < 3; i++) {
    pbuf val = {{0}, 0}, entry = {{0}, 0};
    unsigned char le[8];
    uint64_t bits;
    memcpy(&bits, &values[i], 8);
    for (int k = 0; k < 8; k++) le[k] = (unsigned char)(bits >> (8 * k));
    val.b[val.n++] = 0x11; /* Value.number_value, fixed64 */
    memcpy(val.b + val.n, le, 8), val.n += 8;
    pb_bytes(&entry, 0x0a, keys[i], strlen(keys[i]));
    pb_bytes(&entry, 0x12, val.b, val.n);
    pb_bytes(&start, 0x0a, entry.b, entry.n); /* SessionStartInfo.hparams */
  }
  pbuf content = {{0}, 0}, plugin = {{0}, 0}, meta = {{0}, 0}, v = {{0}, 0}, sm = {{0}, 0}, e = {{0}, 0};
  pb_bytes(&content, 0x1a, start.b, start.n); /* HParamsPluginData.session_start_info */
  pb_bytes(&plugin, 0x0a, "hparams", 7);
  pb_bytes(&plugin, 0x12, content.b, content.n);
  pb_bytes(&meta, 0x0a, plugin.b, plugin.n);
  pb_bytes(&v, 0x0a, "_hparams_/session_start_info", 28);
  pb_bytes(&v, 0x4a, meta.b, meta.n);
  pb_bytes(&sm, 0x0a, v.b, v.n);
  pb_bytes(&e, 0x2a, sm.b, sm.n);
  write_record(f, &e);
  fclose(f);
  kcb_event_reader *r;
  const kcb_event *ev;
  assert_ok(kcb_event_reader_open(&r, path));
  int found = 0;
  while (kcb_event_reader_next(r, &ev) == 1)
    for (size_t i = 0; i < ev->n_values; i++) {
      const kcb_summary_value *sv = &ev->values[i];
      if (sv->kind != KCB_SUMMARY_HPARAMS) continue;
      found = 1;
      assert_int_equal(sv->n_hp_values, 2);
      assert_string_equal(sv->hp_values[0].name, "lr");
      assert_true(sv->hp_values[0].number == 2.0);
      assert_string_equal(sv->hp_values[1].name, "b");
      assert_true(sv->hp_values[1].number == 7.0);
    }
  assert_true(found);
  kcb_event_reader_free(r);
  remove_tmpdir();
}

/* int64 (and uint64) scalars keep their exact values beside the doubles, through TensorBoard's
 * purge, with and without the series kept; a float value makes a tag a float tag. */
static void test_int_scalars(void **state) {
  (void)state;
  make_tmpdir();
  char path[400];
  FILE *f = new_event_file(path, sizeof path, "1.host.1.0");
  const int64_t big = ((int64_t)1 << 53) + 1;
  const int64_t x[5] = {INT64_MAX, -3, big, INT64_MIN, 10};
  for (int s = 0; s < 5; s++) write_scalar(f, s, "x", 9, (uint64_t)x[s]);
  write_scalar(f, 0, "u", 23, UINT64_MAX), write_scalar(f, 1, "u", 23, 7);
  write_scalar(f, 0, "m", 9, 3), write_scalar(f, 1, "m", 1, float_bits(0.5f));
  write_scalar(f, 0, "un", 23, UINT64_MAX), write_scalar(f, 1, "un", 9, (uint64_t)-1);
  write_scalar(f, 0, "fl", 1, float_bits(2.0f));
  write_session_start(f, 3); /* a resumed run: the points at steps >= 3 go */
  write_scalar(f, 3, "x", 9, (uint64_t)(big + 2)), write_scalar(f, 4, "x", 9, 5);
  assert_int_equal(fclose(f), 0);

  kcb_run_summary *s;
  assert_ok(kcb_run_summary_read(&s, path, NULL));
  assert_int_equal(s->problem, 0);
  const kcb_run_tag *t = kcb_run_summary_find(s, "x");
  assert_int_equal(t->value_type, KCB_SCALAR_INT);
  const int64_t want[5] = {INT64_MAX, -3, big, big + 2, 5};
  assert_int_equal(t->n_points, 5);
  assert_non_null(t->int_values);
  for (int i = 0; i < 5; i++) {
    assert_true(t->int_values[i] == want[i]);
    assert_true(t->values[i] == (double)want[i]);
  }
  assert_true(t->first_int == INT64_MAX && t->last_int == 5 && t->min_int == -3 && t->max_int == INT64_MAX);
  assert_true(t->values[2] == 9007199254740992.0); /* the double rounds 2^53 + 1: why the ints are kept */
  t = kcb_run_summary_find(s, "u");
  assert_int_equal(t->value_type, KCB_SCALAR_UINT);
  assert_true((uint64_t)t->first_int == UINT64_MAX && t->last_int == 7 && t->min_int == 7 && (uint64_t)t->max_int == UINT64_MAX);
  for (int k = 0; k < 3; k++) {
    t = kcb_run_summary_find(s, k == 0 ? "m" : k == 1 ? "un" : "fl");
    assert_int_equal(t->value_type, KCB_SCALAR_FLOAT); /* an int and a float; a uint64 and a negative; a float */
    assert_null(t->int_values);
  }
  assert_true(kcb_run_summary_find(s, "m")->values[0] == 3 && kcb_run_summary_find(s, "m")->last == 0.5);
  kcb_run_summary_free(s);

  /* without the series kept: the same exact stats, of the purged series (INT64_MIN at step 3 went) */
  kcb_run_summary_options ro = KCB_RUN_SUMMARY_OPTIONS_INIT;
  ro.keep_series = 0;
  assert_ok(kcb_run_summary_read(&s, path, &ro));
  t = kcb_run_summary_find(s, "x");
  assert_int_equal(t->value_type, KCB_SCALAR_INT);
  assert_null(t->int_values);
  assert_true(t->first_int == INT64_MAX && t->last_int == 5 && t->min_int == -3 && t->max_int == INT64_MAX);
  assert_int_equal(t->count, 5);
  t = kcb_run_summary_find(s, "u");
  assert_int_equal(t->value_type, KCB_SCALAR_UINT);
  assert_true(t->min_int == 7 && (uint64_t)t->max_int == UINT64_MAX);
  assert_int_equal(kcb_run_summary_find(s, "m")->value_type, KCB_SCALAR_FLOAT);
  kcb_run_summary_free(s);
  remove_tmpdir();
}

/* Mutated records with correct CRCs reach the wire walker: it must reject or read them without
 * reading outside the record (the sanitizer build checks), and count every whole record. */
static void test_mutated_records(void **state) {
  (void)state;
  FILE *f = fopen(DATA "/logdir/run_a/events.out.tfevents.1795898576.vm.20707.0", "rb");
  assert_non_null(f);
  static unsigned char orig[65536], buf[65536];
  size_t n = fread(orig, 1, sizeof orig, f);
  fclose(f);
  /* the records' offsets */
  size_t offs[1024], lens[1024], nr = 0;
  for (size_t pos = 0; pos + 16 <= n && nr < 1024;) {
    uint64_t len = 0;
    for (int i = 0; i < 8; i++) len |= (uint64_t)orig[pos + i] << (8 * i);
    offs[nr] = pos, lens[nr++] = (size_t)len;
    pos += (size_t)len + 16;
  }
  assert_int_equal(nr, 208);
  make_tmpdir();
  char path[400];
  snprintf(path, sizeof path, "%s/events.out.tfevents.mutated", tmpdir);
  uint64_t seed = 12345;
  for (int iter = 0; iter < 400; iter++) {
    memcpy(buf, orig, n);
    for (int k = 0; k < 4; k++) {
      seed = seed * 6364136223846793005ull + 1442695040888963407ull;
      size_t r = (size_t)(seed >> 33) % nr;
      seed = seed * 6364136223846793005ull + 1442695040888963407ull;
      size_t at = offs[r] + 12 + (size_t)(seed >> 33) % lens[r];
      seed = seed * 6364136223846793005ull + 1442695040888963407ull;
      buf[at] = (unsigned char)(seed >> 40);
      uint32_t c = kcb_crc32c_masked(buf + offs[r] + 12, lens[r]);
      for (int i = 0; i < 4; i++) buf[offs[r] + 12 + lens[r] + i] = (unsigned char)(c >> (8 * i));
    }
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
    kcb_run_summary *s = NULL;
    assert_ok(kcb_run_summary_read(&s, path, NULL));
    assert_true(s->problem == 0 || s->problem == KCB_EFORMAT);
    assert_true(s->n_events <= nr);
    if (!s->problem) assert_int_equal(s->n_events, nr);
    for (size_t t = 0; t < s->n_tags; t++) assert_true(s->tags[t].n_points <= s->tags[t].count);
    kcb_run_summary_free(s);
  }
  remove_tmpdir();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fixture),
      cmocka_unit_test(test_every_kind_like_the_reader),
      cmocka_unit_test(test_purge),
      cmocka_unit_test(test_int_scalars),
      cmocka_unit_test(test_hparams_repeated_key),
      cmocka_unit_test(test_plugin_tensors_like_the_reader),
      cmocka_unit_test(test_broken),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_mutated_records),
  };
  return cmocka_run_group_tests(tests, load_expected, free_expected);
}
