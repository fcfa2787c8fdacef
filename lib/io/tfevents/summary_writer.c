/* io/tfevents/summary_writer.c — TF2-style summaries (spec/tfevents.md §3) into one event file:
 * each call builds an Event with protobuf-c on the stack and queues it on the event writer. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "event.pb-c.h"
#include "internal.h"
#include "kcb/text.h"
#include "io/png.h"
#include "io/tfevents/event_writer.h"
#include "io/tfevents/record.h"
#include "io/tfevents/summary_writer_internal.h"
#include "io/tfevents/wav.h"
#include "plugins.pb-c.h"
#include "summary.pb-c.h"

struct kcb_summary_writer {
  kcb__event_writer *ew;
  kcb__record_buf scratch;
  double wall_time; /* 0: the clock */
  /* tags already written, so metadata goes on each tag's first value only (§4.6) */
  struct seen_tag {
    char *tag;          /* NULL: an empty slot */
    const char *plugin; /* its plugin (a string literal or the metadata's), kept to refuse another */
  } *tags;
  size_t n_tags, cap_tags; /* open addressing, cap a power of two */
};

/* ---- the set of seen tags ------------------------------------------------------------- */

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull;
  while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211ull;
  return h;
}

/* Records a tag's first use. TensorBoard keeps the metadata of a tag's first value in a run, so
 * a later value of another plugin (a histogram under a scalar's tag) would be dropped: refused. (A
 * PR curve of other num_thresholds is fine: TensorBoard takes the thresholds from each value's own
 * width.) `plugin` must outlive the writer or be copied by the caller (string literals).
 * @return 1 if tag was new (and is now recorded), 0 if seen with the same plugin, < 0 on error. */
static int first_use(kcb_summary_writer *w, const char *tag, const char *plugin) {
  if (2 * (w->n_tags + 1) > w->cap_tags) {
    size_t cap = w->cap_tags ? w->cap_tags * 2 : 64;
    struct seen_tag *t = calloc(cap, sizeof *t);
    if (!t) return kcb__error(KCB_ENOMEM, "summary writer: out of memory");
    for (size_t i = 0; i < w->cap_tags; i++)
      if (w->tags[i].tag) {
        size_t j = hash_str(w->tags[i].tag) & (cap - 1);
        while (t[j].tag) j = (j + 1) & (cap - 1);
        t[j] = w->tags[i];
      }
    free(w->tags);
    w->tags = t;
    w->cap_tags = cap;
  }
  size_t j = hash_str(tag) & (w->cap_tags - 1);
  while (w->tags[j].tag) {
    if (strcmp(w->tags[j].tag, tag) == 0) {
      if (strcmp(w->tags[j].plugin, plugin) != 0)
        return kcb__error(KCB_EINVAL, "summary writer: tag '%s' already holds %s data; TensorBoard keeps a tag's first "
                          "kind, and would drop this %s value (give it another tag)", tag, w->tags[j].plugin, plugin);
      return 0;
    }
    j = (j + 1) & (w->cap_tags - 1);
  }
  if (!(w->tags[j].tag = strdup(tag))) return kcb__error(KCB_ENOMEM, "summary writer: out of memory");
  w->tags[j].plugin = plugin;
  w->n_tags++;
  return 1;
}

/* ---- building events ------------------------------------------------------------------ */

static double now(const kcb_summary_writer *w) { return w->wall_time > 0 ? w->wall_time : kcb__wall_time(); }

/* A tag is a protobuf string: bytes that are not UTF-8 make TensorBoard's parser drop the record. */
static int check_tag(const char *tag, const char *what) {
  if (!tag || !*tag) return kcb__error(KCB_EINVAL, "summary writer: %s with an empty tag", what);
  if (!kcb_text_is_utf8(tag, strlen(tag))) {
    char shown[256];
    kcb_text_escape(shown, sizeof shown, tag, strlen(tag), 0);
    return kcb__error(KCB_EINVAL, "summary writer: %s tag '%s' is not valid UTF-8 (TensorBoard could not read it)", what,
                      shown);
  }
  return 0;
}

int kcb__check_utf8(const char *text, const char *what) {
  if (!text || kcb_text_is_utf8(text, strlen(text))) return 0;
  char shown[256];
  kcb_text_escape(shown, sizeof shown, text, strlen(text), 0);
  return kcb__error(KCB_EINVAL, "%s '%s' is not valid UTF-8 (TensorBoard decodes it as UTF-8, and would fail)", what, shown);
}

/* The plugin names kcb writes, as literals that outlive any metadata (first_use keeps them). */
static const char *plugin_literal(const char *name) {
  static const char *const known[] = {"scalars", "histograms", "images", "audio", "text", "hparams", "pr_curves",
                                      "custom_scalars", "graph_keras_model", "projector", "mesh"};
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (!strcmp(name, known[i])) return known[i];
  return "other";
}

/* Queues Event{wall_time, step, summary{value}}. The value's metadata is dropped unless this
 * is the tag's first value. */
static int emit_value(kcb_summary_writer *w, Kcbpb__Summary__Value *v, int64_t step) {
  const Kcbpb__SummaryMetadata__PluginData *pd = v->metadata ? v->metadata->plugin_data : NULL;
  /* a legacy HistogramProto value has no metadata: TensorBoard migrates it to the histograms plugin */
  const char *plugin = pd && pd->plugin_name ? plugin_literal(pd->plugin_name)
                       : v->value_case == KCBPB__SUMMARY__VALUE__VALUE_HISTO ? "histograms" : "untagged";
  int first = first_use(w, v->tag, plugin);
  if (first < 0) return first;
  if (!first) v->metadata = NULL;
  Kcbpb__Summary__Value *values[1] = {v};
  Kcbpb__Summary summary = KCBPB__SUMMARY__INIT;
  summary.n_value = 1;
  summary.value = values;
  Kcbpb__Event ev = KCBPB__EVENT__INIT;
  ev.wall_time = now(w);
  ev.step = step;
  ev.what_case = KCBPB__EVENT__WHAT_SUMMARY;
  ev.summary = &summary;
  return kcb__event_writer_append_event(w->ew, &w->scratch, &ev);
}

/* Metadata: plugin name, optional content, data class. */
typedef struct metadata_parts {
  Kcbpb__SummaryMetadata md;
  Kcbpb__SummaryMetadata__PluginData pd;
} metadata_parts;

static Kcbpb__SummaryMetadata *metadata(metadata_parts *m, const char *plugin, const uint8_t *content,
                                              size_t content_len, Kcbpb__DataClass data_class) {
  kcbpb__summary_metadata__init(&m->md);
  kcbpb__summary_metadata__plugin_data__init(&m->pd);
  m->pd.plugin_name = (char *)plugin;
  m->pd.content.data = (uint8_t *)content;
  m->pd.content.len = content_len;
  m->md.plugin_data = &m->pd;
  m->md.data_class = data_class;
  return &m->md;
}

/* ---- scalars: the hot path, encoded by hand (pinned to protobuf-c's bytes by a test) ---- */

static size_t varint_len(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) v >>= 7, n++;
  return n;
}

static unsigned char *put_varint(unsigned char *p, uint64_t v) {
  while (v >= 0x80) *p++ = (unsigned char)(v | 0x80), v >>= 7;
  *p++ = (unsigned char)v;
  return p;
}

size_t kcb__encode_scalar_event_size(size_t tag_len) { return 64 + tag_len; }

size_t kcb__encode_scalar_event(unsigned char *out, double wall_time, int64_t step, const char *tag, size_t tag_len,
                                float value, int with_metadata) {
  /* Event{1: wall_time, 2: step, 5: Summary{1: Value{1: tag, 8: Tensor{1: DT_FLOAT, 2: {}, 4: 4 bytes},
   * 9: Metadata{1: PluginData{1: "scalars"}, 4: DATA_CLASS_SCALAR}}}} */
  static const unsigned char tensor[12] = {0x42, 0x0a, 0x08, 0x01, 0x12, 0x00, 0x22, 0x04};
  static const unsigned char metadata[15] = {0x4a, 0x0d, 0x0a, 0x09, 0x0a, 0x07, 's', 'c', 'a', 'l', 'a', 'r', 's', 0x20, 0x01};
  size_t value_len = 1 + varint_len(tag_len) + tag_len + 12 + (with_metadata ? 15 : 0);
  size_t summary_len = 1 + varint_len(value_len) + value_len;
  unsigned char *p = out;
  uint64_t bits;
  memcpy(&bits, &wall_time, 8);
  *p++ = 0x09;
  kcb__store_le64(p, bits);
  p += 8;
  if (step) {
    *p++ = 0x10;
    p = put_varint(p, (uint64_t)step);
  }
  *p++ = 0x2a;
  p = put_varint(p, summary_len);
  *p++ = 0x0a;
  p = put_varint(p, value_len);
  *p++ = 0x0a;
  p = put_varint(p, tag_len);
  memcpy(p, tag, tag_len);
  p += tag_len;
  memcpy(p, tensor, 8);
  uint32_t fbits;
  memcpy(&fbits, &value, 4);
  kcb__store_le32(p + 8, fbits);
  p += 12;
  if (with_metadata) {
    memcpy(p, metadata, 15);
    p += 15;
  }
  return (size_t)(p - out);
}

int kcb_summary_writer_add_scalar(kcb_summary_writer *w, const char *tag, double value, int64_t step) {
  KCB__WRITER_GIVEN(w);
  int rc = check_tag(tag, "scalar");
  if (rc) return rc;
  int first = first_use(w, tag, "scalars");
  if (first < 0) return first;
  size_t tag_len = strlen(tag);
  unsigned char *p = kcb__record_buf_reserve(&w->scratch, kcb__encode_scalar_event_size(tag_len));
  if (!p) return kcb__error(KCB_ENOMEM, "summary writer: out of memory");
  /* TensorBoard's scalars are float32 (DT_DOUBLE ones are dropped by rustboard) */
  size_t n = kcb__encode_scalar_event(p, now(w), step, tag, tag_len, (float)value, first);
  return kcb__event_writer_append(w->ew, &w->scratch, n);
}

/* A tensor with the given dims. */
typedef struct tensor_parts {
  Kcbpb__TensorProto t;
  Kcbpb__TensorShapeProto shape;
  Kcbpb__TensorShapeProto__Dim dims[2];
  Kcbpb__TensorShapeProto__Dim *dim_ptrs[2];
} tensor_parts;

static Kcbpb__TensorProto *tensor(tensor_parts *p, Kcbpb__DataType dtype, int rank, int64_t d0, int64_t d1) {
  kcbpb__tensor_proto__init(&p->t);
  kcbpb__tensor_shape_proto__init(&p->shape);
  int64_t d[2] = {d0, d1};
  for (int i = 0; i < rank; i++) {
    kcbpb__tensor_shape_proto__dim__init(&p->dims[i]);
    p->dims[i].size = d[i];
    p->dim_ptrs[i] = &p->dims[i];
  }
  p->shape.n_dim = (size_t)rank;
  p->shape.dim = rank ? p->dim_ptrs : NULL;
  p->t.dtype = dtype;
  p->t.tensor_shape = &p->shape;
  return &p->t;
}

int kcb_summary_writer_add_histogram_buckets(kcb_summary_writer *w, const char *tag, const double *rows, size_t k,
                                             int64_t step) {
  KCB__WRITER_GIVEN(w);
  int rc = check_tag(tag, "histogram");
  if (rc) return rc;
  if (k && !rows) return kcb__error(KCB_EINVAL, "summary writer: histogram '%s' has no bucket data", tag);
  if (k > KCB_HISTOGRAM_MAX_BUCKETS)
    return kcb__error(KCB_EINVAL, "summary writer: histogram '%s': %zu buckets (at most %d)", tag, k,
                      KCB_HISTOGRAM_MAX_BUCKETS);
  for (size_t i = 0; i < k; i++) /* what kcb_summary_writer_add_histogram makes, and TensorBoard draws */
    if (!isfinite(rows[3 * i]) || !isfinite(rows[3 * i + 1]) || rows[3 * i] > rows[3 * i + 1] ||
        !(rows[3 * i + 2] >= 0) || !isfinite(rows[3 * i + 2]))
      return kcb__error(KCB_EINVAL, "summary writer: histogram '%s': bucket %zu is (%g, %g, %g); a bucket is (left, "
                        "right, count) with finite edges, left <= right, and a finite count >= 0", tag, i, rows[3 * i],
                        rows[3 * i + 1], rows[3 * i + 2]);
  unsigned char *content = malloc(k * 24 + 1);
  if (!content) return kcb__error(KCB_ENOMEM, "summary writer: out of memory");
  for (size_t i = 0; i < 3 * k; i++) {
    uint64_t bits;
    memcpy(&bits, &rows[i], 8);
    kcb__store_le64(content + 8 * i, bits);
  }
  tensor_parts tp;
  Kcbpb__TensorProto *t = tensor(&tp, KCBPB__DATA_TYPE__DT_DOUBLE, 2, (int64_t)k, 3);
  t->tensor_content.data = content;
  t->tensor_content.len = 24 * k;
  metadata_parts mp;
  Kcbpb__Summary__Value v = KCBPB__SUMMARY__VALUE__INIT;
  v.tag = (char *)tag;
  v.value_case = KCBPB__SUMMARY__VALUE__VALUE_TENSOR;
  v.tensor = t;
  v.metadata = metadata(&mp, "histograms", NULL, 0, KCBPB__DATA_CLASS__DATA_CLASS_TENSOR);
  rc = emit_value(w, &v, step);
  free(content);
  return rc;
}

/* TensorBoard's (and Keras's) bucket rule, shared by both encodings: k rows [left, right, count]
 * into rows (3k, zeroed by the caller) and the values' sum and sum of squares (in double, index
 * order). @return 0, KCB_EINVAL or KCB_ENAN. */
static int histogram_rows(const char *tag, const float *values, size_t n, size_t k, double *rows, double *sum,
                          double *sum_squares) {
  if (n && !values) return kcb__error(KCB_EINVAL, "summary writer: histogram '%s' has no values", tag);
  double lo = INFINITY, hi = -INFINITY, s = 0, s2 = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(values[i]))
      return kcb__error(KCB_ENAN, "summary writer: histogram '%s': value %zu is %g", tag, i, (double)values[i]);
    double v = values[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    s += v;
    s2 += v * v;
  }
  *sum = s, *sum_squares = s2;
  if (n == 0) {
    /* all-zero rows */
  } else if (lo == hi) {
    for (size_t b = 0; b < k; b++) rows[3 * b] = rows[3 * b + 1] = lo;
    rows[3 * (k - 1) + 2] = (double)n;
  } else {
    double width = (hi - lo) / (double)k;
    for (size_t i = 0; i < n; i++) {
      double f = floor(((double)values[i] - lo) / width);
      size_t b = f < 0 ? 0 : (size_t)f;
      if (b > k - 1) b = k - 1;
      rows[3 * b + 2] += 1.0;
    }
    for (size_t b = 0; b < k; b++) {
      rows[3 * b] = lo + (double)b * width;
      rows[3 * b + 1] = b + 1 == k ? hi : lo + (double)(b + 1) * width;
    }
  }
  return 0;
}

/* The bucket count of a call: 0 means TensorBoard's DEFAULT_BUCKET_COUNT, 30. */
static int bucket_count(const char *tag, int buckets, size_t *k) {
  if (buckets < 0 || buckets > KCB_HISTOGRAM_MAX_BUCKETS)
    return kcb__error(KCB_EINVAL, "summary writer: histogram '%s': %d buckets (0 to %d)", tag, buckets,
                      KCB_HISTOGRAM_MAX_BUCKETS);
  *k = buckets ? (size_t)buckets : 30;
  return 0;
}

int kcb_summary_writer_add_histogram(kcb_summary_writer *w, const char *tag, const float *values, size_t n,
                                     int buckets, int64_t step) {
  KCB__WRITER_GIVEN(w);
  size_t k = 0;
  int rc = check_tag(tag, "histogram");
  if (rc || (rc = bucket_count(tag, buckets, &k))) return rc;
  double *rows = calloc(3 * k + 1, sizeof *rows), sum, sum_squares;
  if (!rows) return kcb__error(KCB_ENOMEM, "summary writer: out of memory");
  rc = histogram_rows(tag, values, n, k, rows, &sum, &sum_squares);
  if (!rc) rc = kcb_summary_writer_add_histogram_buckets(w, tag, rows, k, step);
  free(rows);
  return rc;
}

int kcb_summary_writer_add_histogram_proto(kcb_summary_writer *w, const char *tag, const float *values, size_t n,
                                           int buckets, int64_t step) {
  KCB__WRITER_GIVEN(w);
  size_t k = 0;
  int rc = check_tag(tag, "histogram");
  if (rc || (rc = bucket_count(tag, buckets, &k))) return rc;
  double *rows = calloc(3 * k + 1, sizeof *rows), *limits = malloc((2 * k + 1) * sizeof *limits), sum, sum_squares;
  if (!rows || !limits) {
    free(rows), free(limits);
    return kcb__error(KCB_ENOMEM, "summary writer: out of memory");
  }
  rc = histogram_rows(tag, values, n, k, rows, &sum, &sum_squares);
  if (!rc) {
    double *counts = limits + k;
    for (size_t b = 0; b < k; b++) limits[b] = rows[3 * b + 1], counts[b] = rows[3 * b + 2];
    Kcbpb__HistogramProto h = KCBPB__HISTOGRAM_PROTO__INIT;
    h.min = n ? rows[0] : 0; /* the first left edge is the least value (TensorBoard reads it so) */
    h.max = n ? rows[3 * k - 2] : 0;
    h.num = (double)n;
    h.sum = sum;
    h.sum_squares = sum_squares;
    h.n_bucket_limit = h.n_bucket = k;
    h.bucket_limit = limits;
    h.bucket = counts;
    Kcbpb__Summary__Value v = KCBPB__SUMMARY__VALUE__INIT;
    v.tag = (char *)tag;
    v.value_case = KCBPB__SUMMARY__VALUE__VALUE_HISTO;
    v.histo = &h;
    rc = emit_value(w, &v, step);
  }
  free(rows), free(limits);
  return rc;
}

/* A DT_STRING tensor of n blobs and the given dims. */
static int emit_strings(kcb_summary_writer *w, const char *tag, ProtobufCBinaryData *blobs, size_t n, int rank,
                        int64_t d0, int64_t d1, Kcbpb__SummaryMetadata *md, int64_t step) {
  tensor_parts tp;
  Kcbpb__TensorProto *t = tensor(&tp, KCBPB__DATA_TYPE__DT_STRING, rank, d0, d1);
  t->n_string_val = n;
  t->string_val = blobs;
  Kcbpb__Summary__Value v = KCBPB__SUMMARY__VALUE__INIT;
  v.tag = (char *)tag;
  v.value_case = KCBPB__SUMMARY__VALUE__VALUE_TENSOR;
  v.tensor = t;
  v.metadata = md;
  return emit_value(w, &v, step);
}

int kcb_summary_writer_add_images(kcb_summary_writer *w, const char *tag, const uint8_t *pixels, int n, int height,
                                  int width, int channels, int64_t step) {
  KCB__WRITER_GIVEN(w);
  int rc = check_tag(tag, "image");
  if (rc) return rc;
  if (n < 1 || height < 1 || width < 1 || !pixels || (channels != 1 && channels != 3 && channels != 4))
    return kcb__error(KCB_EINVAL,
                      "summary writer: image '%s': %d images of %dx%d with %d channels (need >= 1 image, "
                      "channels 1, 3 or 4)",
                      tag, n, height, width, channels);
  ProtobufCBinaryData *blobs = calloc((size_t)n + 2, sizeof *blobs);
  if (!blobs) return kcb__error(KCB_ENOMEM, "summary writer: out of memory");
  char ws[24], hs[24];
  snprintf(ws, sizeof ws, "%d", width);
  snprintf(hs, sizeof hs, "%d", height);
  blobs[0].data = (uint8_t *)ws, blobs[0].len = strlen(ws);
  blobs[1].data = (uint8_t *)hs, blobs[1].len = strlen(hs);
  size_t image_size = (size_t)height * (size_t)width * (size_t)channels;
  for (int i = 0; i < n && !rc; i++)
    rc = kcb__png_encode(&blobs[2 + i].data, &blobs[2 + i].len, pixels + (size_t)i * image_size, (uint32_t)width,
                         (uint32_t)height, channels);
  if (!rc) {
    metadata_parts mp;
    rc = emit_strings(w, tag, blobs, (size_t)n + 2, 1, (int64_t)n + 2, 0,
                      metadata(&mp, "images", NULL, 0, KCBPB__DATA_CLASS__DATA_CLASS_BLOB_SEQUENCE), step);
  }
  for (int i = 0; i < n; i++) free(blobs[2 + i].data);
  free(blobs);
  return rc;
}

int kcb_summary_writer_add_text(kcb_summary_writer *w, const char *tag, const char *text, int64_t step) {
  KCB__WRITER_GIVEN(w);
  int rc = check_tag(tag, "text");
  if (rc) return rc;
  if (!text) return kcb__error(KCB_EINVAL, "summary writer: text '%s' is NULL", tag);
  char what[300];
  snprintf(what, sizeof what, "summary writer: the text of '%.200s'", tag);
  if ((rc = kcb__check_utf8(text, what))) return rc;
  ProtobufCBinaryData blob = {strlen(text), (uint8_t *)text};
  metadata_parts mp;
  return emit_strings(w, tag, &blob, 1, 0, 0, 0,
                      metadata(&mp, "text", NULL, 0, KCBPB__DATA_CLASS__DATA_CLASS_TENSOR), step);
}

int kcb_summary_writer_add_audio(kcb_summary_writer *w, const char *tag, const float *samples, int64_t frames,
                                 int channels, double sample_rate, const char *label, int64_t step) {
  KCB__WRITER_GIVEN(w);
  int rc = check_tag(tag, "audio");
  if (rc) return rc;
  if (!(sample_rate > 0 && sample_rate < 4.3e9))
    return kcb__error(KCB_EINVAL, "summary writer: audio '%s': sample rate %g", tag, sample_rate);
  ProtobufCBinaryData blobs[2];
  if ((rc = kcb__wav_encode(&blobs[0].data, &blobs[0].len, samples, frames, channels, (uint32_t)lrint(sample_rate))))
    return kcb__error(rc, "summary writer: audio '%s': %s", tag, kcb_error_last());
  blobs[1].data = (uint8_t *)(label ? label : "");
  blobs[1].len = strlen((const char *)blobs[1].data);
  /* AudioPluginData{encoding=WAV}; no data class: the [k, 2] tensor is migrated by the readers */
  Kcbpb__AudioPluginData apd = KCBPB__AUDIO_PLUGIN_DATA__INIT;
  apd.encoding = KCBPB__AUDIO_PLUGIN_DATA__ENCODING__WAV;
  uint8_t content[16];
  size_t content_len = kcbpb__audio_plugin_data__pack(&apd, content);
  metadata_parts mp;
  rc = emit_strings(w, tag, blobs, 2, 2, 1, 2,
                    metadata(&mp, "audio", content, content_len, KCBPB__DATA_CLASS__DATA_CLASS_UNKNOWN), step);
  free(blobs[0].data);
  return rc;
}

int kcb_summary_writer_add_session_start(kcb_summary_writer *w, int64_t step) {
  KCB__WRITER_GIVEN(w);
  Kcbpb__SessionLog log = KCBPB__SESSION_LOG__INIT;
  log.status = KCBPB__SESSION_LOG__SESSION_STATUS__START;
  Kcbpb__Event ev = KCBPB__EVENT__INIT;
  ev.wall_time = now(w);
  ev.step = step;
  ev.what_case = KCBPB__EVENT__WHAT_SESSION_LOG;
  ev.session_log = &log;
  return kcb__event_writer_append_event(w->ew, &w->scratch, &ev);
}

/* ---- hparams ------------------------------------------------------------------------ */

static int emit_hparams(kcb_summary_writer *w, const char *tag, const Kcbpb__HParamsPluginData *data) {
  size_t len = kcbpb__hparams_plugin_data__get_packed_size(data);
  uint8_t *content = malloc(len + 1);
  if (!content) return kcb__error(KCB_ENOMEM, "summary writer: out of memory");
  kcbpb__hparams_plugin_data__pack(data, content);
  tensor_parts tp; /* TensorBoard's NULL_TENSOR: DT_FLOAT of shape [0] */
  Kcbpb__TensorProto *t = tensor(&tp, KCBPB__DATA_TYPE__DT_FLOAT, 1, 0, 0);
  metadata_parts mp;
  Kcbpb__Summary__Value v = KCBPB__SUMMARY__VALUE__INIT;
  v.tag = (char *)tag;
  v.value_case = KCBPB__SUMMARY__VALUE__VALUE_TENSOR;
  v.tensor = t;
  /* every hparams value carries its metadata: the content is the payload */
  Kcbpb__Summary__Value *values[1] = {&v};
  v.metadata = metadata(&mp, "hparams", content, len, KCBPB__DATA_CLASS__DATA_CLASS_TENSOR);
  Kcbpb__Summary summary = KCBPB__SUMMARY__INIT;
  summary.n_value = 1;
  summary.value = values;
  Kcbpb__Event ev = KCBPB__EVENT__INIT;
  ev.wall_time = now(w);
  ev.what_case = KCBPB__EVENT__WHAT_SUMMARY;
  ev.summary = &summary;
  int rc = kcb__event_writer_append_event(w->ew, &w->scratch, &ev);
  free(content);
  return rc;
}

static int check_hparams(const kcb_hparam *hp, size_t n) {
  if (n && !hp) return kcb__error(KCB_EINVAL, "hparams: NULL list");
  for (size_t i = 0; i < n; i++) {
    if (!hp[i].name || !*hp[i].name) return kcb__error(KCB_EINVAL, "hparams: hyperparameter %zu has no name", i);
    if (hp[i].type == KCB_HPARAM_STRING && !hp[i].string)
      return kcb__error(KCB_EINVAL, "hparams: '%s' is a string hyperparameter without a value", hp[i].name);
    if (hp[i].type > KCB_HPARAM_BOOL) return kcb__error(KCB_EINVAL, "hparams: '%s' has an unknown type", hp[i].name);
    /* TensorBoard's HParams tab serializes the values as JSON, which has no NaN or infinity: one
     * such value fails the whole tab */
    if (hp[i].type == KCB_HPARAM_NUMBER && !isfinite(hp[i].number))
      return kcb__error(KCB_EINVAL, "hparams: '%s' is %g; TensorBoard's HParams tab cannot show a value that is not "
                        "finite (and fails for the whole log directory)", hp[i].name, hp[i].number);
    int rc = kcb__check_utf8(hp[i].name, "hparams: the name");
    if (!rc && hp[i].type == KCB_HPARAM_STRING) rc = kcb__check_utf8(hp[i].string, "hparams: the value");
    if (rc) return rc;
  }
  return 0;
}

int kcb_summary_writer_add_hparams_experiment(kcb_summary_writer *w, const kcb_hparam *hparams, size_t n_hparams,
                                              const kcb_hparam_metric *metrics, size_t n_metrics) {
  KCB__WRITER_GIVEN(w);
  int rc = check_hparams(hparams, n_hparams);
  if (rc) return rc;
  if (n_metrics && !metrics) return kcb__error(KCB_EINVAL, "hparams: NULL metric list");
  Kcbpb__HParamInfo *infos = calloc(n_hparams + 1, sizeof *infos);
  Kcbpb__HParamInfo **info_ptrs = calloc(n_hparams + 1, sizeof *info_ptrs);
  Kcbpb__MetricInfo *minfos = calloc(n_metrics + 1, sizeof *minfos);
  Kcbpb__MetricInfo **minfo_ptrs = calloc(n_metrics + 1, sizeof *minfo_ptrs);
  Kcbpb__MetricName *mnames = calloc(n_metrics + 1, sizeof *mnames);
  if (!infos || !info_ptrs || !minfos || !minfo_ptrs || !mnames) {
    rc = kcb__error(KCB_ENOMEM, "hparams: out of memory");
    goto done;
  }
  for (size_t i = 0; i < n_hparams; i++) {
    kcbpb__hparam_info__init(&infos[i]);
    infos[i].name = (char *)hparams[i].name;
    infos[i].type = hparams[i].type == KCB_HPARAM_NUMBER   ? KCBPB__HPARAM_DATA_TYPE__DATA_TYPE_FLOAT64
                    : hparams[i].type == KCB_HPARAM_STRING ? KCBPB__HPARAM_DATA_TYPE__DATA_TYPE_STRING
                                                            : KCBPB__HPARAM_DATA_TYPE__DATA_TYPE_BOOL;
    info_ptrs[i] = &infos[i];
  }
  for (size_t i = 0; i < n_metrics; i++) {
    if (!metrics[i].tag || !*metrics[i].tag) {
      rc = kcb__error(KCB_EINVAL, "hparams: metric %zu has no tag", i);
      goto done;
    }
    if ((rc = kcb__check_utf8(metrics[i].tag, "hparams: the metric tag")) ||
        (rc = kcb__check_utf8(metrics[i].group, "hparams: the metric group")))
      goto done;
    kcbpb__metric_name__init(&mnames[i]);
    mnames[i].group = (char *)(metrics[i].group ? metrics[i].group : "");
    mnames[i].tag = (char *)metrics[i].tag;
    kcbpb__metric_info__init(&minfos[i]);
    minfos[i].name = &mnames[i];
    const char *g = mnames[i].group;
    minfos[i].dataset_type = strcmp(g, "train") == 0        ? KCBPB__DATASET_TYPE__DATASET_TRAINING
                             : strcmp(g, "validation") == 0 ? KCBPB__DATASET_TYPE__DATASET_VALIDATION
                                                            : KCBPB__DATASET_TYPE__DATASET_UNKNOWN;
    minfo_ptrs[i] = &minfos[i];
  }
  Kcbpb__Experiment ex = KCBPB__EXPERIMENT__INIT;
  ex.time_created_secs = now(w);
  ex.n_hparam_infos = n_hparams;
  ex.hparam_infos = info_ptrs;
  ex.n_metric_infos = n_metrics;
  ex.metric_infos = minfo_ptrs;
  Kcbpb__HParamsPluginData data = KCBPB__HPARAMS_PLUGIN_DATA__INIT;
  data.data_case = KCBPB__HPARAMS_PLUGIN_DATA__DATA_EXPERIMENT;
  data.experiment = &ex;
  rc = emit_hparams(w, "_hparams_/experiment", &data);
done:
  free(infos);
  free(info_ptrs);
  free(minfos);
  free(minfo_ptrs);
  free(mnames);
  return rc;
}

int kcb_summary_writer_add_hparams_session_start(kcb_summary_writer *w, const kcb_hparam *hparams, size_t n_hparams,
                                                 const char *group_name, double start_time) {
  KCB__WRITER_GIVEN(w);
  int rc = check_hparams(hparams, n_hparams);
  if (!rc) rc = kcb__check_utf8(group_name, "hparams: the group name");
  if (rc) return rc;
  Kcbpb__SessionStartInfo__HparamsEntry *entries = calloc(n_hparams + 1, sizeof *entries);
  Kcbpb__SessionStartInfo__HparamsEntry **entry_ptrs = calloc(n_hparams + 1, sizeof *entry_ptrs);
  Kcbpb__Protobuf__Value *values = calloc(n_hparams + 1, sizeof *values);
  if (!entries || !entry_ptrs || !values) {
    rc = kcb__error(KCB_ENOMEM, "hparams: out of memory");
    goto done;
  }
  for (size_t i = 0; i < n_hparams; i++) {
    kcbpb__protobuf__value__init(&values[i]);
    switch (hparams[i].type) {
      case KCB_HPARAM_NUMBER:
        values[i].kind_case = KCBPB__PROTOBUF__VALUE__KIND_NUMBER_VALUE;
        values[i].number_value = hparams[i].number;
        break;
      case KCB_HPARAM_STRING:
        values[i].kind_case = KCBPB__PROTOBUF__VALUE__KIND_STRING_VALUE;
        values[i].string_value = (char *)hparams[i].string;
        break;
      case KCB_HPARAM_BOOL:
        values[i].kind_case = KCBPB__PROTOBUF__VALUE__KIND_BOOL_VALUE;
        values[i].bool_value = hparams[i].boolean != 0;
        break;
    }
    kcbpb__session_start_info__hparams_entry__init(&entries[i]);
    entries[i].key = (char *)hparams[i].name;
    entries[i].value = &values[i];
    entry_ptrs[i] = &entries[i];
  }
  Kcbpb__SessionStartInfo ssi = KCBPB__SESSION_START_INFO__INIT;
  ssi.n_hparams = n_hparams;
  ssi.hparams = entry_ptrs;
  ssi.group_name = (char *)(group_name ? group_name : "");
  ssi.start_time_secs = start_time > 0 ? start_time : now(w);
  Kcbpb__HParamsPluginData data = KCBPB__HPARAMS_PLUGIN_DATA__INIT;
  data.data_case = KCBPB__HPARAMS_PLUGIN_DATA__DATA_SESSION_START_INFO;
  data.session_start_info = &ssi;
  rc = emit_hparams(w, "_hparams_/session_start_info", &data);
done:
  free(entries);
  free(entry_ptrs);
  free(values);
  return rc;
}

int kcb_summary_writer_add_hparams_session_end(kcb_summary_writer *w, kcb_hparam_status status, double end_time) {
  KCB__WRITER_GIVEN(w);
  if ((int)status < 0 || status > KCB_HPARAM_STATUS_RUNNING)
    return kcb__error(KCB_EINVAL, "hparams: session status %d", (int)status);
  Kcbpb__SessionEndInfo sei = KCBPB__SESSION_END_INFO__INIT;
  sei.status = (Kcbpb__HParamStatus)status;
  sei.end_time_secs = end_time > 0 ? end_time : now(w);
  Kcbpb__HParamsPluginData data = KCBPB__HPARAMS_PLUGIN_DATA__INIT;
  data.data_case = KCBPB__HPARAMS_PLUGIN_DATA__DATA_SESSION_END_INFO;
  data.session_end_info = &sei;
  return emit_hparams(w, "_hparams_/session_end_info", &data);
}

/* ---- lifetime ----------------------------------------------------------------------- */


int kcb_summary_writer_new(kcb_summary_writer **out, const char *logdir, const kcb_summary_writer_options *opts) {
  if (!out) return kcb__error(KCB_EINVAL, "summary writer: out is NULL");
  *out = NULL;
  kcb_summary_writer_options o = KCB_SUMMARY_WRITER_OPTIONS_INIT;
  if (opts) o = *opts;
  if (!logdir || !*logdir) return kcb__error(KCB_EINVAL, "summary writer: empty log directory");
  /* flush_secs becomes a time_t deadline: a bound keeps it from overflowing (1e6 s is 11 days) */
  if (o.max_queue < 0 || !(o.flush_secs > 0 && o.flush_secs <= 1e6))
    return kcb__error(KCB_EINVAL, "summary writer: max_queue %d must be >= 0 and flush_secs %g in (0, 1e6]",
                      o.max_queue, o.flush_secs);
  int rc = kcb__mkdirs(logdir, "summary writer");
  if (rc) return rc;
  kcb_summary_writer *w = calloc(1, sizeof *w);
  if (!w) return kcb__error(KCB_ENOMEM, "summary writer: out of memory");
  if ((rc = kcb__event_writer_open(&w->ew, logdir, o.filename_suffix, o.max_queue, o.flush_secs))) {
    free(w);
    return rc;
  }
  if (o.purge_step >= 0 && (rc = kcb_summary_writer_add_session_start(w, o.purge_step))) {
    kcb_summary_writer_free(w);
    return rc;
  }
  *out = w;
  return 0;
}

const char *kcb_summary_writer_path(const kcb_summary_writer *w) { return w ? kcb__event_writer_path(w->ew) : NULL; }

void kcb_summary_writer_set_wall_time(kcb_summary_writer *w, double wall_time) {
  if (w) w->wall_time = wall_time;
}

void kcb__summary_writer_set_profiler(kcb_summary_writer *w, kcb_profiler *p) { kcb__event_writer_set_profiler(w->ew, p); }

void kcb__summary_writer_kick(kcb_summary_writer *w) { kcb__event_writer_kick(w->ew); }

int kcb_summary_writer_flush(kcb_summary_writer *w) {
  KCB__WRITER_GIVEN(w);
  return kcb__event_writer_flush(w->ew);
}

int kcb_summary_writer_close(kcb_summary_writer *w) {
  if (!w) return 0;
  int rc = kcb__event_writer_close(w->ew);
  for (size_t i = 0; i < w->cap_tags; i++) free(w->tags[i].tag);
  free(w->tags);
  kcb__record_buf_free(&w->scratch);
  free(w);
  return rc;
}

void kcb_summary_writer_free(kcb_summary_writer *w) { (void)kcb_summary_writer_close(w); }

/* Test hook (declared in tests): the event writer underneath. */
kcb__event_writer *kcb__summary_writer_event_writer(kcb_summary_writer *w);
kcb__event_writer *kcb__summary_writer_event_writer(kcb_summary_writer *w) { return w->ew; }

int kcb__summary_writer_add_string(kcb_summary_writer *w, const char *tag, const char *data, size_t len,
                                   const char *plugin, const char *content, int data_class, int64_t step) {
  int rc = check_tag(tag, "string tensor");
  if (rc) return rc;
  ProtobufCBinaryData blob = {len, (uint8_t *)data};
  metadata_parts mp;
  return emit_strings(w, tag, &blob, 1, 0, 0, 0,
                      metadata(&mp, plugin, (const uint8_t *)content, content ? strlen(content) : 0,
                               (Kcbpb__DataClass)data_class),
                      step);
}

int kcb__summary_writer_add_float_tensor(kcb_summary_writer *w, const char *tag, const float *values, int64_t d0,
                                         int64_t d1, const char *plugin, const uint8_t *content, size_t content_len,
                                         int data_class, int64_t step) {
  int rc = check_tag(tag, "tensor");
  if (rc) return rc;
  size_t n = (size_t)d0 * (size_t)d1;
  unsigned char *bytes = malloc(4 * n + 1);
  if (!bytes) return kcb__error(KCB_ENOMEM, "summary writer: out of memory");
  for (size_t i = 0; i < n; i++) {
    uint32_t bits;
    memcpy(&bits, &values[i], 4);
    kcb__store_le32(bytes + 4 * i, bits);
  }
  tensor_parts tp;
  Kcbpb__TensorProto *t = tensor(&tp, KCBPB__DATA_TYPE__DT_FLOAT, 2, d0, d1);
  t->tensor_content.data = bytes;
  t->tensor_content.len = 4 * n;
  metadata_parts mp;
  Kcbpb__Summary__Value v = KCBPB__SUMMARY__VALUE__INIT;
  v.tag = (char *)tag;
  v.value_case = KCBPB__SUMMARY__VALUE__VALUE_TENSOR;
  v.tensor = t;
  v.metadata = metadata(&mp, plugin, content, content_len, (Kcbpb__DataClass)data_class);
  rc = emit_value(w, &v, step);
  free(bytes);
  return rc;
}
