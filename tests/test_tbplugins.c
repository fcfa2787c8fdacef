/* test_tbplugins — PR curve arithmetic, the checks of custom-scalars layouts and projector runs
 * (every bad input a clear error), the binary tensor's UTF-8 fallback, the profiler, and
 * kcb_model_last_batch / kcb_model_predict_layer. Bytes on disk are checked by independent
 * decoders in cli_tbplugins_decode. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_helpers.h"

static char *make_tmpdir(void) {
  char *dir = strdup("/tmp/kcb_tbplugins_XXXXXX");
  assert_non_null(mkdtemp(dir));
  return dir;
}

static void remove_tree(const char *dir) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

static int exists(const char *dir, const char *file) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  struct stat st;
  return stat(path, &st) == 0;
}

/* Four samples, three thresholds (0, 0.5, 1), worked by hand: buckets floor(p * 2). */
static void test_pr_curve_by_hand(void **state) {
  (void)state;
  float labels[4] = {1, 0, 1, 0}, preds[4] = {0.9f, 0.6f, 0.4f, 0.1f}, out[18];
  assert_ok(kcb_pr_curve_compute(out, 3, labels, 1, preds, 1, NULL, 4));
  /* buckets: 0.9 -> 1 (pos), 0.6 -> 1 (neg), 0.4 -> 0 (pos), 0.1 -> 0 (neg) */
  const float want[18] = {2, 1, 0, /* TP */ 2, 1, 0, /* FP */ 0, 1, 2, /* TN */ 0, 1, 2, /* FN */
                          0.5f, 0.5f, 0, /* precision */ 1, 0.5f, 0 /* recall */};
  for (int i = 0; i < 18; i++) assert_float_equal(out[i], want[i], 1e-7);
  /* (1, 0.5) -> (0.5, 0.5): 0.25, then carried to recall 0 at 0.5: 0.25 */
  assert_float_equal(kcb_pr_curve_auc(out, 3), 0.5, 1e-7);
  float perfect_preds[4] = {1, 0, 1, 0};
  assert_ok(kcb_pr_curve_compute(out, 3, labels, 1, perfect_preds, 1, NULL, 4));
  assert_float_equal(kcb_pr_curve_auc(out, 3), 1.0, 1e-7);
}

static void test_pr_curve_errors(void **state) {
  (void)state;
  float labels[2] = {1, 0}, out[12], bad[2] = {0.5f, 1.5f}, nan_pred[2] = {NAN, 0}, ok[2] = {0.5f, 0.5f}, w[2] = {1, -1};
  assert_error(kcb_pr_curve_compute(out, 1, labels, 1, ok, 1, NULL, 2), KCB_EINVAL, "1 thresholds");
  assert_error(kcb_pr_curve_compute(out, 2, labels, 1, bad, 1, NULL, 2), KCB_EINVAL, "prediction 1.5 of sample 1");
  assert_error(kcb_pr_curve_compute(out, 2, labels, 1, nan_pred, 1, NULL, 2), KCB_EINVAL, "of sample 0 is not in [0, 1]");
  assert_error(kcb_pr_curve_compute(out, 2, labels, 1, ok, 1, w, 2), KCB_EINVAL, "weight -1 of sample 1");
  char *dir = make_tmpdir();
  kcb_summary_writer *sw;
  assert_ok(kcb_summary_writer_new(&sw, dir, NULL));
  float cls[2] = {0, 3}, probs[4] = {0.5f, 0.5f, 0.5f, 0.5f};
  assert_error(kcb_summary_writer_add_pr_curves_multiclass(sw, "pr/", NULL, 2, cls, probs, 2, 0, 0), KCB_EINVAL,
               "sample 1 has class 3, not one of 0..1");
  const char *same[2] = {"cat", "cat"};
  assert_error(kcb_summary_writer_add_pr_curves_multiclass(sw, "pr/", same, 2, cls, probs, 2, 0, 0), KCB_EINVAL,
               "classes 0 and 1 are both named 'cat'");
  assert_error(kcb_summary_writer_add_pr_curve(sw, "p", labels, bad, NULL, 2, 0, 0), KCB_EINVAL, "PR curve 'p'");
  /* TensorBoard reads every value of a tag by its first metadata: another kind of value under the
   * same tag is refused rather than dropped; other thresholds are fine (each value's width says) */
  assert_ok(kcb_summary_writer_add_pr_curve(sw, "q", labels, ok, NULL, 2, 11, 0));
  assert_ok(kcb_summary_writer_add_pr_curve(sw, "q", labels, ok, NULL, 2, 11, 1));
  assert_ok(kcb_summary_writer_add_pr_curve(sw, "q", labels, ok, NULL, 2, 201, 2));
  assert_error(kcb_summary_writer_add_scalar(sw, "q", 1.0, 3), KCB_EINVAL, "tag 'q' already holds pr_curves data");
  assert_ok(kcb_summary_writer_add_scalar(sw, "s", 1.0, 0));
  float values[3] = {1, 2, 3};
  assert_error(kcb_summary_writer_add_histogram(sw, "s", values, 3, 0, 1), KCB_EINVAL, "tag 's' already holds scalars data");
  /* the raw buckets are checked as the ones kcb makes */
  double rows[6] = {0, 1, 5, 1, 2, -3};
  assert_error(kcb_summary_writer_add_histogram_buckets(sw, "h", rows, 2, 0), KCB_EINVAL, "bucket 1 is (1, 2, -3)");
  rows[5] = 3, rows[1] = NAN;
  assert_error(kcb_summary_writer_add_histogram_buckets(sw, "h", rows, 2, 0), KCB_EINVAL, "bucket 0 is (0, nan, 5)");
  /* strings TensorBoard decodes as UTF-8: a text, hparams, custom-scalars titles */
  assert_error(kcb_summary_writer_add_text(sw, "t", "caf\xe9", 0), KCB_EINVAL, "the text of 't' 'caf\\xe9' is not valid UTF-8");
  kcb_hparam hp = {.name = "opt", .type = KCB_HPARAM_STRING, .string = "ad\xff" "am"};
  assert_error(kcb_summary_writer_add_hparams_session_start(sw, &hp, 1, NULL, 0), KCB_EINVAL, "hparams: the value");
  hp.string = "adam";
  assert_error(kcb_summary_writer_add_hparams_session_start(sw, &hp, 1, "g\x80", 0), KCB_EINVAL, "hparams: the group name");
  /* TensorBoard's HParams tab fails for the whole log directory on a value JSON cannot hold */
  kcb_hparam rate = {.name = "dropout", .type = KCB_HPARAM_NUMBER, .number = NAN};
  assert_error(kcb_summary_writer_add_hparams_session_start(sw, &rate, 1, NULL, 0), KCB_EINVAL, "hparams: 'dropout' is nan");
  rate.number = INFINITY;
  assert_error(kcb_summary_writer_add_hparams_experiment(sw, &rate, 1, NULL, 0), KCB_EINVAL, "hparams: 'dropout' is inf");
  const char *tags[1] = {"loss"};
  kcb_custom_chart chart = {.title = "bad\xc3", .tags = tags, .n_tags = 1};
  kcb_custom_category cat = {.title = "c", .charts = &chart, .n_charts = 1};
  assert_error(kcb_summary_writer_add_custom_scalars(sw, &cat, 1, 0), KCB_EINVAL, "custom scalars: the chart title");
  assert_ok(kcb_summary_writer_close(sw));
  remove_tree(dir);
  free(dir);
}

/* Written, then read back through kcb's reader and kcb_pr_curve_from_value. */
static void test_pr_curve_round_trip(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  kcb_summary_writer *sw;
  assert_ok(kcb_summary_writer_new(&sw, dir, NULL));
  float labels[5] = {1, 1, 0, 0, 1}, preds[5] = {0.8f, 0.3f, 0.7f, 0.2f, 0.95f};
  assert_ok(kcb_summary_writer_add_pr_curve(sw, "pr", labels, preds, NULL, 5, 11, 4));
  assert_ok(kcb_summary_writer_close(sw));
  float want[66];
  assert_ok(kcb_pr_curve_compute(want, 11, labels, 1, preds, 1, NULL, 5));
  kcb_event_reader *r;
  const kcb_event *e;
  assert_ok(kcb_event_reader_open(&r, dir));
  int found = 0;
  while (kcb_event_reader_next(r, &e) == 1)
    for (size_t i = 0; i < e->n_values; i++) {
      kcb_pr_curve_view v;
      assert_ok(kcb_pr_curve_from_value(&e->values[i], &v));
      assert_int_equal(v.num_thresholds, 11);
      assert_int_equal(e->step, 4);
      for (int row = 0; row < 6; row++)
        for (int t = 0; t < 11; t++) assert_true(kcb_pr_curve_view_get(&v, row, t) == want[row * 11 + t]);
      found++;
    }
  assert_int_equal(found, 1);
  kcb_event_reader_free(r);
  remove_tree(dir);
  free(dir);
}

/* TensorBoard takes a PR curve's thresholds from its tensor's width: tensorboardX's
 * add_pr_curve_raw says 127 in the plugin data for arrays of any length. */
static void test_pr_curve_width_from_tensor(void **state) {
  (void)state;
  static const uint8_t says_127[] = {0x10, 0x7f}; /* PrCurvePluginData{num_thresholds: 127} */
  float data[6 * 5] = {0};
  data[5 * 5 + 4] = 0.25f; /* recall at the last threshold */
  kcb_summary_value v;
  memset(&v, 0, sizeof v);
  v.tag = "pr_raw", v.plugin_name = "pr_curves";
  v.plugin_content.data = says_127, v.plugin_content.len = sizeof says_127;
  int64_t shape[2] = {6, 5};
  v.dtype = KCB_DT_FLOAT, v.rank = 2, v.shape = shape;
  v.tensor_content.data = (const uint8_t *)data, v.tensor_content.len = sizeof data;
  kcb_pr_curve_view pr;
  assert_ok(kcb_pr_curve_from_value(&v, &pr));
  assert_int_equal(pr.num_thresholds, 5);
  assert_true(kcb_pr_curve_view_get(&pr, 5, 4) == 0.25f);
  shape[0] = 5, v.tensor_content.len = 5 * 5 * 4;
  assert_error(kcb_pr_curve_from_value(&v, &pr), KCB_EFORMAT, "not 6 rows");
}

static int contains(const uint8_t *p, size_t n, const char *needle) {
  size_t k = strlen(needle);
  for (size_t i = 0; i + k <= n; i++)
    if (memcmp(p + i, needle, k) == 0) return 1;
  return 0;
}

static void count_chart(void *ctx, const char *category, const char *chart, const char *kind, const char *tags) {
  (void)category, (void)chart, (void)tags;
  if (strcmp(kind, "margin") == 0) ++*(int *)ctx;
}

static void test_custom_scalars(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  kcb_summary_writer *sw;
  assert_ok(kcb_summary_writer_new(&sw, dir, NULL));
  const char *tags[1] = {"loss"};
  kcb_margin_series s = {"v", "lo", "hi"};
  kcb_custom_chart both = {"both", tags, 1, &s, 1}, none = {"none", NULL, 0, NULL, 0};
  kcb_custom_category c1 = {"c", &both, 1, 0}, c2 = {"c", &none, 1, 0};
  assert_error(kcb_summary_writer_add_custom_scalars(sw, &c1, 1, 0), KCB_EINVAL, "either tags (multiline) or series");
  assert_error(kcb_summary_writer_add_custom_scalars(sw, &c2, 1, 0), KCB_EINVAL, "chart 0 of category 'c'");
  assert_error(kcb_summary_writer_add_custom_scalars(sw, NULL, 0, 0), KCB_EINVAL, "no categories");
  kcb_margin_series half = {"v", NULL, "hi"};
  kcb_custom_chart margin = {"m", NULL, 0, &half, 1};
  kcb_custom_category c3 = {"c", &margin, 1, 0};
  assert_error(kcb_summary_writer_add_custom_scalars(sw, &c3, 1, 0), KCB_EINVAL, "series 0 lacks value, lower or upper");
  /* a metric name with regex characters becomes a literal tag regex */
  const char *metrics[1] = {"top_k.5"};
  assert_ok(kcb_summary_writer_add_default_layout(sw, metrics, 1));
  kcb_custom_chart good[2] = {{"m", NULL, 0, &s, 1}, {"l", tags, 1, NULL, 0}};
  kcb_custom_category c4 = {"c", good, 2, 1};
  assert_ok(kcb_summary_writer_add_custom_scalars(sw, &c4, 1, 0));
  assert_ok(kcb_summary_writer_close(sw));
  kcb_event_reader *r;
  const kcb_event *e;
  assert_ok(kcb_event_reader_open(&r, dir));
  int layouts = 0, margins = 0;
  while (kcb_event_reader_next(r, &e) == 1)
    for (size_t i = 0; i < e->n_values; i++) {
      const kcb_summary_value *v = &e->values[i];
      assert_string_equal(v->tag, "custom_scalars__config__");
      assert_string_equal(v->plugin_name, "custom_scalars");
      assert_int_equal(v->n_blobs, 1);
      kcb_custom_layout_info info;
      if (layouts == 0) assert_true(contains(v->blobs[0].data, v->blobs[0].len, "epoch_top_k\\.5$"));
      assert_ok(kcb_custom_layout_parse(&v->blobs[0], &info, count_chart, &margins));
      assert_int_equal(info.n_categories, 1);
      layouts++;
    }
  assert_int_equal(layouts, 2);
  assert_int_equal(margins, 1);
  kcb_event_reader_free(r);
  kcb_bytes junk = {(const uint8_t *)"\xff\xff\xff", 3};
  kcb_custom_layout_info info;
  assert_error(kcb_custom_layout_parse(&junk, &info, NULL, NULL), KCB_EFORMAT, "not a serialized Layout");
  remove_tree(dir);
  free(dir);
}

static void test_projector_errors(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  float data[12] = {0.5f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  const char *labels[4] = {"a", "b", "c", "d"};
  const char *const *cols[1] = {labels};
  kcb_embedding e = {.name = "e", .data = data, .rows = 4, .dims = 3, .columns = cols, .n_columns = 1, .metadata_rows = 3};
  assert_error(kcb_projector_write(dir, &e, 1, NULL), KCB_EINVAL, "the metadata has 3 rows but the tensor 4");
  e.metadata_rows = 4;
  const float *rows[4] = {data, data + 3, data + 6, data + 9};
  const size_t ragged[4] = {3, 3, 2, 3};
  kcb_embedding r = e;
  r.data = NULL, r.row_data = rows, r.row_lengths = ragged;
  assert_error(kcb_projector_write(dir, &r, 1, NULL), KCB_EINVAL, "ragged rows: row 2 has 2 values, the tensor 3 columns");
  const char *tabbed[4] = {"a", "b\tc", "c", "d"}, *blank[4] = {"a", " ", "c", "d"};
  const char *const *cols_tab[1] = {tabbed}, *const *cols_blank[1] = {blank};
  kcb_embedding t = e;
  t.columns = cols_tab;
  assert_error(kcb_projector_write(dir, &t, 1, NULL), KCB_EINVAL, "column 0, row 1 holds a tab or line break");
  t.columns = cols_blank;
  assert_error(kcb_projector_write(dir, &t, 1, NULL), KCB_EINVAL, "metadata row 1 is empty");
  /* blank as JavaScript's trim() sees it: no-break and ideographic spaces, a byte-order mark */
  const char *unicode_blank[4] = {"a", "b", "\xc2\xa0\xe3\x80\x80\xef\xbb\xbf", "d"};
  const char *const *cols_unicode[1] = {unicode_blank};
  t.columns = cols_unicode;
  assert_error(kcb_projector_write(dir, &t, 1, NULL), KCB_EINVAL, "metadata row 2 is empty");
  /* two columns whose names are blank: the header line would be skipped */
  const char *names_blank[2] = {" ", "\xc2\xa0"}, *good[4] = {"a", "b", "c", "d"};
  const char *const *two_cols[2] = {good, good};
  kcb_embedding h = e;
  h.columns = two_cols, h.n_columns = 2, h.column_names = names_blank;
  assert_error(kcb_projector_write(dir, &h, 1, NULL), KCB_EINVAL, "every metadata column name is blank");
  kcb_embedding bad_name = e;
  bad_name.name = "../up";
  assert_error(kcb_projector_write(dir, &bad_name, 1, NULL), KCB_EINVAL, "must be 1-200 characters");
  bad_name.name = "~root"; /* TensorBoard would read /root/tensor.bin */
  assert_error(kcb_projector_write(dir, &bad_name, 1, NULL), KCB_EINVAL, "or start with '~'");
  kcb_embedding two[2] = {e, e};
  assert_error(kcb_projector_write(dir, two, 2, NULL), KCB_EINVAL, "two embeddings named 'e'");
  two[1].name = "e:0"; /* the projector strips ":0" from tensor names */
  assert_error(kcb_projector_write(dir, two, 2, NULL), KCB_EINVAL, "embeddings 'e' and 'e:0' are one tensor");
  const char *names_same[2] = {"kind", "kind"};
  h.column_names = names_same; /* the page keeps a row's values by column name */
  assert_error(kcb_projector_write(dir, &h, 1, NULL), KCB_EINVAL, "metadata columns 0 and 1 are both named 'kind'");
  /* TensorBoard reads metadata.tsv and projector_config.pbtxt as UTF-8 */
  const char *latin1[4] = {"a", "caf\xe9", "c", "d"};
  const char *const *cols_latin1[1] = {latin1};
  t.columns = cols_latin1;
  assert_error(kcb_projector_write(dir, &t, 1, NULL), KCB_EINVAL, "column 0, row 1 'caf\\xe9' is not valid UTF-8");
  bad_name.name = "bad\xff";
  assert_error(kcb_projector_write(dir, &bad_name, 1, NULL), KCB_EINVAL, "the embedding name 'bad\\xff' is not valid UTF-8");
  float with_nan[12];
  memcpy(with_nan, data, sizeof data);
  with_nan[7] = INFINITY;
  kcb_embedding n = e;
  n.data = with_nan;
  assert_error(kcb_projector_write(dir, &n, 1, NULL), KCB_EINVAL, "row 2, column 1 is not finite");
  /* 10000 images of 100x100: a 100 x 100 grid is 10000 px a side, over TensorBoard's 8192 */
  size_t big = 10000;
  float *many = calloc(big, sizeof *many);
  uint8_t *pixels = calloc(1, 1); /* never read: the size check comes first */
  kcb_embedding s = {.name = "s", .data = many, .rows = big, .dims = 1, .images = pixels,
                     .image_height = 100, .image_width = 100, .image_channels = 1};
  assert_error(kcb_projector_write(dir, &s, 1, NULL), KCB_EINVAL, "refuses sprites larger than 8192x8192");
  s.images = NULL, s.rows = KCB_PROJECTOR_MAX_POINTS + 1;
  assert_error(kcb_projector_write(dir, &s, 1, NULL), KCB_EINVAL, "loads at most 100000 points");
  free(many);
  free(pixels);
  /* nothing was written by the refused calls */
  assert_false(exists(dir, "projector_config.pbtxt"));
  remove_tree(dir);
  free(dir);
}

/* Bytes that decode as UTF-8 (here all zeros, or a first line) would be parsed as TSV by the plugin:
 * kcb writes TSV. */
static void test_projector_utf8_fallback_and_read(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  float zeros[6] = {0}, values[6] = {-1.5f, 2.25f, 3e-9f, 7, -8, 1e20f};
  const char *names[2] = {"x", "y"};
  kcb_embedding e[2] = {{.name = "zeros", .data = zeros, .rows = 2, .dims = 3},
                        {.name = "values", .data = values, .rows = 3, .dims = 2, .columns = (const char *const *const[]){names},
                         .n_columns = 1, .metadata_rows = 2}};
  assert_error(kcb_projector_write(dir, e, 2, NULL), KCB_EINVAL, "metadata has 2 rows but the tensor 3");
  e[1].rows = 2, e[1].dims = 3;
  assert_ok(kcb_projector_write(dir, e, 2, NULL));
  assert_true(exists(dir, "zeros/tensor.tsv"));
  assert_false(exists(dir, "zeros/tensor.bin"));
  assert_true(exists(dir, "values/tensor.bin"));
  /* 2 and 138 are the bytes 00 00 00 40 00 00 0a 43: a first line that decodes, which TensorFlow's
   * GFile (line by line) would parse as TSV though the file as a whole does not decode */
  float line_text[4] = {2.0f, 138.0f, -1.5f, 2.25f};
  kcb_embedding t = {.name = "line_text", .data = line_text, .rows = 2, .dims = 2};
  char *other = make_tmpdir();
  assert_ok(kcb_projector_write(other, &t, 1, NULL));
  assert_true(exists(other, "line_text/tensor.tsv"));
  assert_false(exists(other, "line_text/tensor.bin"));
  remove_tree(other);
  free(other);
  kcb_projector_embedding_info *info;
  size_t n;
  assert_ok(kcb_projector_read(dir, &info, &n));
  assert_int_equal(n, 2);
  assert_string_equal(info[0].tensor_name, "zeros");
  assert_string_equal(info[0].format, "tsv");
  assert_int_equal(info[0].rows, 2);
  assert_int_equal(info[0].dims, 3);
  assert_int_equal(info[0].metadata_rows, -1);
  assert_string_equal(info[1].format, "binary");
  assert_int_equal(info[1].metadata_rows, 2);
  assert_string_equal(info[1].metadata_columns, "label");
  assert_string_equal(info[1].problem, "");
  free(info);
  /* a config whose tensor file lost rows is reported, as is a config that is not text format */
  char path[512];
  snprintf(path, sizeof path, "%s/values/tensor.bin", dir);
  assert_int_equal(truncate(path, 8), 0);
  assert_ok(kcb_projector_read(dir, &info, &n));
  assert_non_null(strstr(info[1].problem, "binary tensor of 8 bytes, but tensor_shape [2, 3] needs 24"));
  free(info);
  /* another program's binary file whose first line decodes: TensorFlow's reader parses it as TSV */
  float line_first[6] = {2.0f, 138.0f, -1.5f, 2.25f, 7, -8};
  FILE *bin = fopen(path, "wb");
  assert_int_equal(fwrite(line_first, sizeof line_first, 1, bin), 1);
  fclose(bin);
  assert_ok(kcb_projector_read(dir, &info, &n));
  assert_string_equal(info[1].format, "binary");
  assert_non_null(strstr(info[1].problem, "first line decodes as UTF-8 text (byte 10 does not): TensorBoard reads it as TSV"));
  free(info);
  /* ... but empty lines first are skipped by both readers: a first byte '\n' decides nothing */
  uint32_t newline_first_bits[6] = {0xbfc0000a, 0x3f800000, 0x40000000, 0x40400000, 0x40800000, 0x40a00000};
  bin = fopen(path, "wb");
  assert_int_equal(fwrite(newline_first_bits, sizeof newline_first_bits, 1, bin), 1);
  fclose(bin);
  assert_ok(kcb_projector_read(dir, &info, &n));
  assert_string_equal(info[1].format, "binary");
  assert_string_equal(info[1].problem, "");
  free(info);
  snprintf(path, sizeof path, "%s/projector_config.pbtxt", dir);
  FILE *f = fopen(path, "w");
  fputs("embeddings { tensor_name: \"x\" \n", f);
  fclose(f);
  assert_error(kcb_projector_read(dir, &info, &n), KCB_EFORMAT, "not a text-format ProjectorConfig");
  /* a config of 10,001 embeddings of 12 bytes each: refused by count, not read into 24 MB a time */
  f = fopen(path, "w");
  for (int i = 0; i < 10001; i++) fputs("embeddings{}", f);
  fclose(f);
  assert_error(kcb_projector_read(dir, &info, &n), KCB_EFORMAT, "more than 10000 embeddings");
  f = fopen(path, "w");
  for (int i = 0; i < 10000; i++) fputs("embeddings{}", f);
  fclose(f);
  assert_ok(kcb_projector_read(dir, &info, &n));
  assert_int_equal(n, 10000);
  free(info);
  remove_tree(dir);
  free(dir);
}

static void test_profiler(void **state) {
  (void)state;
  char *dir = make_tmpdir(), path[512];
  kcb_profiler *p;
  assert_ok(kcb_profiler_new(&p));
  snprintf(path, sizeof path, "%s/t.json", dir);
  assert_error(kcb_profiler_write(p, path), KCB_EINVAL, "no spans");
  double t = kcb_profiler_now();
  assert_ok(kcb_profiler_add(p, "a \"quoted\"\nname", "cat", t, t + 0.0015, KCB_PROFILE_LANE_TRAINING, "batch", 7));
  assert_ok(kcb_profiler_add(p, "later", "cat", t + 0.002, t + 0.001, KCB_PROFILE_LANE_WRITER, NULL, -1));
  assert_int_equal(kcb_profiler_count(p), 2);
  assert_ok(kcb_profiler_write(p, path));
  FILE *f = fopen(path, "r");
  char buf[4096];
  size_t len = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[len] = '\0';
  assert_non_null(strstr(buf, "{\"name\":\"a \\\"quoted\\\"\\u000aname\",\"cat\":\"cat\",\"ph\":\"X\",\"ts\":0.000,\"dur\":1500.000,"
                              "\"pid\":1,\"tid\":1,\"args\":{\"batch\":7}}"));
  /* an end before the start is a zero-length span */
  assert_non_null(strstr(buf, "\"name\":\"later\",\"cat\":\"cat\",\"ph\":\"X\",\"ts\":2000.000,\"dur\":0.000,\"pid\":1,\"tid\":2}"));
  snprintf(path, sizeof path, "%s/sub/t.json.gz", dir);
  assert_ok(kcb_profiler_write(p, path));
  f = fopen(path, "rb");
  unsigned char magic[2] = {0, 0};
  assert_int_equal(fread(magic, 1, 2, f), 2);
  fclose(f);
  assert_true(magic[0] == 0x1f && magic[1] == 0x8b);
  kcb_profiler_free(p);
  remove_tree(dir);
  free(dir);
}

static int fail_at_third_batch(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  (void)logs;
  return batch == 2 && cb->user_data ? kcb_error_set(KCB_EIO, "Boom: batch 3") : 0;
}

/* A fit that fails inside TensorBoard's profile_batch window leaves neither the model pointing at
 * the callback's profiler nor the callback pointing at the model: either may be freed first
 * (ASan finds the use after free this guards against), and the trace keeps what it recorded. */
static void test_profile_window_survives_a_failed_fit(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  float xs[40 * 4], ys[40];
  for (int i = 0; i < 40 * 4; i++) xs[i] = (float)(i % 7) / 7.0f;
  for (int i = 0; i < 40; i++) ys[i] = (float)(i % 2);
  int64_t xshape[2] = {40, 4}, yshape[1] = {40};
  kcb_tensor x = kcb_tensor_view(xs, 2, xshape), y = kcb_tensor_view(ys, 1, yshape);
  static const kcb_callback_ops boom_ops = {.name = "Boom", .on_train_batch_end = fail_at_third_batch};
  for (int model_first = 0; model_first < 2; model_first++) {
    kcb_model *m1 = test_compiled_model(4, "3:relu,2:softmax", 1, KCB_OPT_SGD, KCB_DEFAULT,
                                        KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, KCB_METRIC_COUNT);
    kcb_model *m2 = test_compiled_model(4, "3:relu,2:softmax", 1, KCB_OPT_SGD, KCB_DEFAULT,
                                        KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, KCB_METRIC_COUNT);
    kcb_tensorboard_options o = KCB_TENSORBOARD_OPTIONS_INIT;
    char logs[600];
    snprintf(logs, sizeof logs, "%s/run%d", dir, model_first);
    o.log_dir = logs;
    o.profile_batch_start = 2;
    o.profile_batch_stop = 6;
    kcb_callback *tb = NULL, boom = {.ops = &boom_ops, .user_data = (void *)1};
    assert_ok(kcb_tensorboard_new(&tb, &o));
    kcb_callback *cbs[] = {tb, &boom};
    kcb_fit_options f = KCB_FIT_OPTIONS_INIT;
    f.verbose = 0;
    f.batch_size = 10;
    f.callbacks = cbs;
    f.n_callbacks = 2;
    assert_error(kcb_model_fit(m1, &x, &y, &f, NULL), KCB_EIO, "Boom: batch 3");
    assert_null(kcb_model_profiler(m1));
    if (model_first) { /* the callback outlives the model it profiled */
      kcb_model_free(m1);
      m1 = NULL;
    } else { /* the same callback on another model, then the first model alone */
      f.n_callbacks = 1;
      assert_ok(kcb_model_fit(m2, &x, &y, &f, NULL));
      f.n_callbacks = 0;
      assert_ok(kcb_model_fit(m1, &x, &y, &f, NULL));
    }
    kcb_callback_free(tb);
    kcb_model_free(m1);
    kcb_model_free(m2);
    char cmd[800];
    snprintf(cmd, sizeof cmd, "ls %s/train/plugins/profile/*/*.trace.json.gz >/dev/null 2>&1", logs);
    assert_int_equal(system(cmd), 0);
  }
  remove_tree(dir);
  free(dir);
}

static void test_model_last_batch_and_layer(void **state) {
  (void)state;
  kcb_model *m = test_compiled_model(4, "3:relu,2:softmax", 1, KCB_OPT_SGD, KCB_DEFAULT,
                                     KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, KCB_METRIC_COUNT);
  kcb_tensor pred, target;
  assert_error(kcb_model_last_batch(m, &pred, &target), KCB_ESTATE, "no batch has run yet");
  float xs[12] = {1, 2, 3, 4, 0, 1, 0, 1, 2, 2, 2, 2}, ys[3] = {0, 1, 1};
  int64_t xshape[2] = {3, 4}, yshape[1] = {3};
  kcb_tensor x = kcb_tensor_view(xs, 2, xshape), y = kcb_tensor_view(ys, 1, yshape);
  kcb_evaluate_options eo = KCB_EVALUATE_OPTIONS_INIT;
  eo.verbose = 0;
  eo.batch_size = 2;
  assert_ok(kcb_model_evaluate(m, &x, &y, &eo, NULL));
  assert_ok(kcb_model_last_batch(m, &pred, &target));
  assert_int_equal(pred.shape[0], 1); /* the last batch held the third sample */
  assert_int_equal(pred.shape[1], 2);
  assert_int_equal(target.rank, 1);
  assert_float_equal(target.data[0], 1.0f, 0);
  kcb_tensor *all = NULL, *hidden = NULL;
  assert_ok(kcb_model_predict(m, &x, &eo, &all));
  assert_float_equal(pred.data[0], all->data[4], 1e-6);
  assert_ok(kcb_model_predict_layer(m, &x, 0, 2, &hidden));
  assert_int_equal(hidden->shape[0], 3);
  assert_int_equal(hidden->shape[1], 3);
  /* relu(x W + b) by hand, from the weights */
  kcb_weight_info k, b;
  assert_ok(kcb_model_weight(m, 0, &k));
  assert_ok(kcb_model_weight(m, 1, &b));
  for (int s = 0; s < 3; s++)
    for (int u = 0; u < 3; u++) {
      float z = b.data[u];
      for (int i = 0; i < 4; i++) z += xs[s * 4 + i] * k.data[i * 3 + u];
      assert_float_equal(hidden->data[s * 3 + u], z > 0 ? z : 0, 1e-5);
    }
  kcb_tensor *none = NULL;
  assert_error(kcb_model_predict_layer(m, &x, 5, 2, &none), KCB_EINVAL, "layer 5 of a model with 2 layers");
  kcb_tensor_free(all);
  kcb_tensor_free(hidden);
  kcb_model_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pr_curve_by_hand),       cmocka_unit_test(test_pr_curve_errors),
      cmocka_unit_test(test_pr_curve_round_trip), cmocka_unit_test(test_pr_curve_width_from_tensor),
      cmocka_unit_test(test_custom_scalars),
      cmocka_unit_test(test_projector_errors),       cmocka_unit_test(test_projector_utf8_fallback_and_read),
      cmocka_unit_test(test_profiler),               cmocka_unit_test(test_model_last_batch_and_layer),
      cmocka_unit_test(test_profile_window_survives_a_failed_fit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
