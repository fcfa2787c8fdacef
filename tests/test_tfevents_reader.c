/* test_tfevents_reader.c — the reader against files PyTorch wrote (tests/data/tfevents/logdir,
 * a copy of ../shared/fixtures/tensorboard): it must find exactly the runs, tags, steps and values
 * that expected.json lists (read by TensorBoard's own backend); truncated and corrupted copies
 * give errors naming the file and offset while every record before the bad one is returned. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "test_helpers.h"

#include "internal.h"

#include "tfevents_expected.h"

static void test_runs(void **state) {
  (void)state;
  char **runs;
  size_t n;
  assert_ok(kcb_tfevents_list_runs(DATA "/logdir", &runs, &n));
  json_t *want = json_object_get(expected, "runs");
  assert_int_equal(n, json_object_size(want));
  for (size_t i = 0; i < n; i++) assert_non_null(json_object_get(want, runs[i]));
  assert_string_equal(runs[0], "run_a");
  assert_string_equal(runs[1], "run_a/hp");
  kcb_string_list_free(runs, n);
}

/* Looks a (tag, step) point of a section up: scalars are [[step, wall_time, value], ...]. */
static json_t *scalar_point(json_t *run, const char *tag, int64_t step) {
  json_t *list = json_object_get(json_object_get(run, "scalars"), tag);
  size_t i;
  json_t *p;
  json_array_foreach(list, i, p) if (json_integer_value(json_array_get(p, 0)) == step) return p;
  return NULL;
}

static void check_run(const char *run_name) {
  json_t *run = json_object_get(json_object_get(expected, "runs"), run_name);
  assert_non_null(run);
  char path[512];
  snprintf(path, sizeof path, "%s/logdir/%s", DATA, run_name);
  kcb_event_reader *r;
  assert_ok(kcb_event_reader_open(&r, path));
  const kcb_event *e;
  int rc, scalars = 0, histos = 0, images = 0, texts = 0, hparams = 0, first = 1;
  while ((rc = kcb_event_reader_next(r, &e)) == 1) {
    if (first) {
      assert_string_equal(e->file_version, "brain.Event:2");
      assert_string_equal(e->source_writer, "tensorboard.summary.writer.event_file_writer");
      first = 0;
    }
    for (size_t i = 0; i < e->n_values; i++) {
      const kcb_summary_value *v = &e->values[i];
      char step[32];
      snprintf(step, sizeof step, "%lld", (long long)e->step);
      switch (v->kind) {
        case KCB_SUMMARY_SCALAR: {
          json_t *p = scalar_point(run, v->tag, e->step);
          if (!p) fail_msg("%s: scalar %s step %lld not expected", run_name, v->tag, (long long)e->step);
          if (!json_is_null(json_array_get(p, 1))) assert_true(json_real_value(json_array_get(p, 1)) == e->wall_time);
          if (v->scalar != json_number_value(json_array_get(p, 2)))
            fail_msg("%s %s@%s: %.17g, expected %.17g", run_name, v->tag, step, v->scalar,
                     json_number_value(json_array_get(p, 2)));
          scalars++;
          break;
        }
        case KCB_SUMMARY_HISTOGRAM: {
          json_t *h = json_object_get(json_object_get(json_object_get(run, "histograms"), v->tag), step);
          if (!h) continue; /* expected.json lists a sample of the steps */
          assert_true(v->hist_num == json_number_value(json_object_get(h, "count")));
          json_t *x;
          if ((x = json_object_get(h, "min"))) assert_true(v->hist_min == json_number_value(x));
          if ((x = json_object_get(h, "max"))) assert_true(v->hist_max == json_number_value(x));
          if ((x = json_object_get(h, "sum"))) assert_true(fabs(v->hist_sum - json_number_value(x)) < 1e-9);
          json_t *buckets = json_object_get(h, "buckets");
          if (buckets) {
            assert_int_equal(v->n_buckets, json_array_size(buckets));
            for (size_t b = 0; b < v->n_buckets; b++) {
              json_t *row = json_array_get(buckets, b);
              assert_true(fabs(v->buckets[b].left - json_number_value(json_array_get(row, 0))) < 1e-12);
              assert_true(fabs(v->buckets[b].right - json_number_value(json_array_get(row, 1))) < 1e-12);
              assert_true(v->buckets[b].count == json_number_value(json_array_get(row, 2)));
            }
          }
          histos++;
          break;
        }
        case KCB_SUMMARY_IMAGE: {
          json_t *im = json_object_get(json_object_get(run, "images"), v->tag);
          assert_non_null(im);
          assert_int_equal(v->width, json_integer_value(json_object_get(im, "width")));
          assert_int_equal(v->height, json_integer_value(json_object_get(im, "height")));
          assert_int_equal(e->step, json_integer_value(json_array_get(json_object_get(im, "steps"), images)));
          assert_int_equal(v->n_blobs, 1);
          assert_memory_equal(v->blobs[0].data, "\x89PNG\r\n\x1a\n", 8);
          images++;
          break;
        }
        case KCB_SUMMARY_TEXT: {
          /* torch's add_text appends "/text_summary" to the tag (spec §3.5); expected.json lists
           * the tag the user gave */
          char user_tag[256];
          kcb__strlcpy(user_tag, v->tag, sizeof user_tag);
          char *suffix = strstr(user_tag, "/text_summary");
          if (suffix && suffix[13] == '\0') *suffix = '\0';
          const char *want = json_string_value(json_object_get(json_object_get(json_object_get(run, "text"), user_tag), step));
          assert_non_null(want);
          assert_int_equal(v->n_blobs, 1);
          assert_int_equal(v->blobs[0].len, strlen(want));
          assert_memory_equal(v->blobs[0].data, want, strlen(want));
          texts++;
          break;
        }
        case KCB_SUMMARY_HPARAMS: {
          json_t *hp = json_object_get(json_object_get(run, "hparams"), "hparams");
          if (v->hp_kind == KCB_HPARAMS_SESSION_START) {
            assert_int_equal(v->n_hp_values, json_object_size(hp));
            for (size_t k = 0; k < v->n_hp_values; k++) {
              const kcb_hparam_value *h = &v->hp_values[k];
              json_t *want = json_object_get(hp, h->name);
              assert_non_null(want);
              if (json_is_string(want)) assert_string_equal(h->string, json_string_value(want));
              else if (json_is_boolean(want)) /* torch writes bools as numbers */
                assert_true(h->type == 2 ? h->boolean == json_is_true(want) : h->number == json_is_true(want));
              else assert_true(h->number == json_number_value(want));
            }
          } else if (v->hp_kind == KCB_HPARAMS_EXPERIMENT) {
            json_t *metrics = json_object_get(json_object_get(run, "hparams"), "metrics");
            assert_int_equal(v->n_hp_metrics, json_object_size(metrics));
            for (size_t k = 0; k < v->n_hp_metrics; k++) {
              json_t *m = json_object_get(metrics, v->hp_metric_tags[k]);
              assert_non_null(m);
              /* the metric's value is the last point of that scalar tag */
              json_t *list = json_object_get(json_object_get(run, "scalars"), v->hp_metric_tags[k]);
              json_t *last = json_array_get(list, json_array_size(list) - 1);
              assert_true(fabs(json_number_value(json_array_get(last, 2)) - json_number_value(m)) < 1e-6);
            }
          } else {
            assert_int_equal(v->hp_kind, KCB_HPARAMS_SESSION_END);
            assert_int_equal(v->hp_status, 1);
          }
          hparams++;
          break;
        }
        default:
          fail_msg("%s: tag %s of unexpected kind %s", run_name, v->tag, kcb_summary_kind_name(v->kind));
      }
    }
  }
  assert_int_equal(rc, 0);
  kcb_event_reader_free(r);
  /* every expected scalar point was found */
  int want_scalars = 0;
  const char *tag;
  json_t *list;
  json_object_foreach(json_object_get(run, "scalars"), tag, list) want_scalars += (int)json_array_size(list);
  assert_int_equal(scalars, want_scalars);
  int want_images = 0;
  json_t *im;
  json_object_foreach(json_object_get(run, "images"), tag, im) want_images += (int)json_array_size(json_object_get(im, "steps"));
  assert_int_equal(images, want_images);
  int want_texts = 0;
  json_object_foreach(json_object_get(run, "text"), tag, im) want_texts += (int)json_object_size(im);
  assert_int_equal(texts, want_texts);
  if (json_object_get(run, "histograms")) assert_true(histos >= 4);
  if (json_object_get(run, "hparams")) assert_int_equal(hparams, 3);
}

static void test_fixture_run_a(void **state) {
  (void)state;
  check_run("run_a");
}

static void test_fixture_run_a_hp(void **state) {
  (void)state;
  check_run("run_a/hp");
}

/* Reads path to its end; returns the number of events before the first error, which is *rc. */
static int count_until_error(kcb_event_reader *r, int *rc) {
  const kcb_event *e;
  int n = 0;
  while ((*rc = kcb_event_reader_next(r, &e)) == 1) n++;
  return n;
}

static void test_truncated_and_corrupted(void **state) {
  (void)state;
  struct {
    const char *file;
    int code, good;
    uint64_t offset;
    const char *what;
  } cases[] = {
      /* good-record counts and offsets as /work/shared/tools/tfrecord_check.py reports them */
      {"corrupt_data.tfevents", KCB_ECRC, 100, 6159, "data CRC mismatch in the record at offset 6159"},
      {"corrupt_length.tfevents", KCB_ECRC, 50, 3084, "length CRC mismatch in the record at offset 3084"},
      {"truncated.tfevents", KCB_ETRUNC, 207, 42173, "truncated record at offset 42173"},
  };
  for (size_t i = 0; i < 3; i++) {
    char path[512];
    snprintf(path, sizeof path, "%s/broken/%s", DATA, cases[i].file);
    kcb_event_reader *r;
    assert_ok(kcb_event_reader_open(&r, path));
    int rc;
    assert_int_equal(count_until_error(r, &rc), cases[i].good);
    assert_int_equal(rc, cases[i].code);
    assert_non_null(strstr(kcb_error_last(), path));
    assert_non_null(strstr(kcb_error_last(), cases[i].what));
    const kcb_event *e;
    assert_int_equal(kcb_event_reader_next(r, &e), 0); /* nothing more in a single-file reader */
    kcb_event_reader_free(r);

    kcb_event_file_check chk;
    assert_int_equal(kcb_event_file_validate(path, &chk), cases[i].code);
    assert_int_equal(chk.records, cases[i].good);
    assert_int_equal(chk.problem, cases[i].code);
    assert_int_equal(chk.problem_offset, cases[i].offset);
    assert_int_equal(chk.bytes_ok, cases[i].offset);
    assert_non_null(strstr(chk.message, cases[i].what));
  }
  /* a run directory: each file's good records, its error, then the next file */
  kcb_event_reader *r;
  assert_ok(kcb_event_reader_open(&r, DATA "/broken"));
  for (size_t i = 0; i < 3; i++) {
    int rc;
    assert_int_equal(count_until_error(r, &rc), cases[i].good);
    assert_int_equal(rc, cases[i].code);
    assert_non_null(strstr(kcb_error_last(), cases[i].file));
  }
  const kcb_event *e;
  assert_int_equal(kcb_event_reader_next(r, &e), 0);
  kcb_event_reader_free(r);
}

static void test_validate_good(void **state) {
  (void)state;
  kcb_event_file_check chk;
  assert_ok(kcb_event_file_validate(DATA "/logdir/run_a/events.out.tfevents.1795898576.vm.20707.0", &chk));
  assert_int_equal(chk.records, 208);
  assert_int_equal(chk.problem, 0);
  assert_int_equal(chk.bytes_ok, chk.file_size);
  char **files;
  size_t n;
  assert_ok(kcb_tfevents_list_files(DATA "/logdir/run_a", &files, &n));
  assert_int_equal(n, 1); /* hp/ is another run */
  kcb_string_list_free(files, n);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_runs),
      cmocka_unit_test(test_fixture_run_a),
      cmocka_unit_test(test_fixture_run_a_hp),
      cmocka_unit_test(test_truncated_and_corrupted),
      cmocka_unit_test(test_validate_good),
  };
  return cmocka_run_group_tests(tests, load_expected, free_expected);
}
