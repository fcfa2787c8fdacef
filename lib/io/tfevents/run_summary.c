/* io/tfevents/run_summary.c — one fast pass over a run's event files. Records are framed and
 * CRC-checked as the reader does, but instead of unpacking whole Events with protobuf-c (which
 * copies every histogram and image payload), a small protobuf wire walker reads only step,
 * wall_time, session_log.status and, per Summary.Value, the tag, the plugin metadata and the
 * scalar; the rest is skipped by length. That keeps `kcb-inspect runs` bound by reading. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "io/tfevents/dtype.h"
#include "io/tfevents/record.h"
#include "kcb/run_summary.h"

/* ---- protobuf wire format (field numbers from the .proto files in proto/) ------------------------------ */

#if defined(__GNUC__)
#define HOT static inline __attribute__((always_inline))
#else
#define HOT static inline
#endif

typedef struct span {
  const uint8_t *p, *end;
} span;

HOT int get_varint(span *s, uint64_t *v) {
  if (s->p < s->end && !(*s->p & 0x80)) { /* one byte: most keys, steps and lengths */
    *v = *s->p++;
    return 0;
  }
  uint64_t x = 0;
  for (int shift = 0; shift < 64 && s->p < s->end; shift += 7) {
    uint8_t b = *s->p++;
    x |= (uint64_t)(b & 0x7F) << shift;
    if (!(b & 0x80)) {
      *v = x;
      return 0;
    }
  }
  return -1;
}

/* A field's key: its number and wire type as they are encoded. */
#define KEY(number, wire) ((uint32_t)(number) << 3 | (uint32_t)(wire))

/* The next field: its number, wire type and (for length-delimited fields) its bytes.
 * @return 1 a field, 0 end, -1 malformed. */
typedef struct field {
  uint32_t key;     /* (number << 3) | wire type, compared whole (see KEY) */
  uint64_t varint;  /* wire 0; wire 1 and 5 as raw little-endian bits */
  span bytes;       /* wire 2 */
} field;

HOT int next_field(span *s, field *f) {
  f->bytes.p = f->bytes.end = NULL;
  f->varint = 0;
  if (s->p >= s->end) return 0;
  uint64_t key;
  if (get_varint(s, &key) || (key >> 3) == 0 || (key >> 3) > 0x1FFFFFFF) return -1;
  f->key = (uint32_t)key;
  switch (key & 7) {
    case 0: return get_varint(s, &f->varint) ? -1 : 1;
    case 1:
      if (s->end - s->p < 8) return -1;
      f->varint = kcb__load_le64(s->p);
      s->p += 8;
      return 1;
    case 5:
      if (s->end - s->p < 4) return -1;
      f->varint = kcb__load_le32(s->p);
      s->p += 4;
      return 1;
    case 2: {
      uint64_t n;
      if (get_varint(s, &n) || n > (uint64_t)(s->end - s->p)) return -1;
      f->bytes.p = s->p;
      f->bytes.end = s->p + n;
      s->p += n;
      return 1;
    }
    default: return -1; /* groups are not used by any summary message */
  }
}

/* Fast paths: the layouts writers use (kcb, tf.summary, torch) are read by expecting each key in
 * turn; anything else (another field, another order, a repeat, a malformed byte) sends the
 * message back to the generic walker, which gives the same result the slow way. */

/* A length-delimited field with the one-byte key k at s->p. @return 1 taken, 0 not there. */
HOT int take_bytes(span *s, uint8_t k, span *out) {
  if (s->p >= s->end || *s->p != k) return 0;
  span t = {s->p + 1, s->end};
  uint64_t n;
  if (get_varint(&t, &n) || n > (uint64_t)(t.end - t.p)) return 0;
  out->p = t.p;
  out->end = t.p + n;
  s->p = t.p + n;
  return 1;
}

/* Byte strings of equal length n, compared a word at a time (tags are short: a call to memcmp
 * cost more than the compare). */
HOT int bytes_eq(const uint8_t *a, const uint8_t *b, size_t n) {
  if (n >= 8) {
    for (size_t i = 0; i + 8 < n; i += 8)
      if (kcb__load_le64(a + i) != kcb__load_le64(b + i)) return 0;
    return kcb__load_le64(a + n - 8) == kcb__load_le64(b + n - 8);
  }
  if (n >= 4) return kcb__load_le32(a) == kcb__load_le32(b) && kcb__load_le32(a + n - 4) == kcb__load_le32(b + n - 4);
  for (size_t i = 0; i < n; i++)
    if (a[i] != b[i]) return 0;
  return 1;
}

/* A value of dtype dt from its little-endian (or varint-decoded) bits. */
HOT double typed(uint64_t u, int dt) { return kcb__dtype_value(u, dt); }

/* A TensorProto's element count and first element (as the reader's decode_tensor reads them:
 * tensor_content first, else the typed *_val field of the dtype), and that element's bits and
 * dtype for kcb__dtype_int (integer scalars are kept exactly). @return -1 if malformed. */
static int tensor_first(span t, size_t *count, double *first, uint64_t *bits, int *dtype_out) {
  { /* dtype, shape, tensor_content */
    span q = t, shape, content;
    if (q.p < q.end && *q.p == KEY(1, 0)) {
      span r = {q.p + 1, q.end};
      uint64_t dt;
      if (!get_varint(&r, &dt)) {
        q.p = r.p;
        take_bytes(&q, KEY(2, 2), &shape);
        if (take_bytes(&q, KEY(4, 2), &content) && q.p == q.end && dt <= 0x7FFFFFFF) {
          size_t sz = kcb__dtype_size((int)dt);
          *count = sz ? (size_t)(content.end - content.p) / sz : 0;
          *first = NAN;
          *dtype_out = (int)dt;
          if (*count) {
            uint64_t u = sz == 4 ? kcb__load_le32(content.p) : 0;
            if (sz != 4)
              for (size_t k = 0; k < sz; k++) u |= (uint64_t)content.p[k] << (8 * k);
            *first = typed(u, (int)dt);
            *bits = u;
          }
          return 0;
        }
      }
    }
  }
  int dtype = 0;
  span content = {NULL, NULL};
  uint64_t single = 0;
  int have_single = 0;
  field f;
  int rc;
  /* the dtype may come after the values: remember both typed forms by field number */
  span all = t;
  while ((rc = next_field(&t, &f)) == 1)
    if (f.key == KEY(1, 0)) dtype = (int)f.varint;
    else if (f.key == KEY(4, 2)) content = f.bytes;
  if (rc < 0) return -1;
  *count = 0;
  *first = NAN;
  *dtype_out = dtype;
  size_t sz = kcb__dtype_size(dtype);
  if (!sz) return 0;
  if (content.p && content.end > content.p) {
    *count = (size_t)(content.end - content.p) / sz;
    if (*count) {
      uint64_t u = 0;
      for (size_t k = 0; k < sz; k++) u |= (uint64_t)content.p[k] << (8 * k);
      *first = typed(u, dtype);
      *bits = u;
    }
    return 0;
  }
  uint32_t want;
  switch (dtype) {
    case KCB_DT_FLOAT: want = 5; break;
    case KCB_DT_DOUBLE: want = 6; break;
    case KCB_DT_INT64: want = 10; break;
    case KCB_DT_UINT64: want = 17; break;
    case KCB_DT_UINT32: want = 16; break;
    case KCB_DT_BOOL: want = 11; break;
    case KCB_DT_HALF: case KCB_DT_BFLOAT16: want = 13; break;
    default: want = 7; break;
  }
  t = all;
  while ((rc = next_field(&t, &f)) == 1) {
    if (f.key >> 3 != want) continue;
    if ((f.key & 7) == 2) { /* packed */
      int w = want == 5 ? 5 : want == 6 ? 1 : 0;
      span p = f.bytes;
      while (p.p < p.end) {
        uint64_t u;
        if (w == 5) {
          if (p.end - p.p < 4) return -1;
          u = kcb__load_le32(p.p), p.p += 4;
        } else if (w == 1) {
          if (p.end - p.p < 8) return -1;
          u = kcb__load_le64(p.p), p.p += 8;
        } else if (get_varint(&p, &u)) {
          return -1;
        }
        if (!have_single) single = u, have_single = 1;
        (*count)++;
      }
    } else {
      if (!have_single) single = f.varint, have_single = 1;
      (*count)++;
    }
  }
  if (rc < 0) return -1;
  if (have_single) *first = typed(single, dtype), *bits = single;
  return 0;
}

/* ---- the summary being built ------------------------------------------------------------- */

typedef struct tag_acc {
  kcb_run_tag pub;
  char *tag, *plugin;
  size_t tag_len;
  int data_class;
  int plugin_code; /* of plugin, see plugin_code() */
  int decided;     /* a value with a payload came: the metadata (or its lack) is the tag's for good */
  size_t cap;
  struct tag_acc *next_seen; /* the tag that followed this one last time */
  int64_t *steps;
  double *walls, *values;
  /* integer scalars (kcb_run_tag.value_type): which kinds of value were seen, so that the type is
   * decided once at the end; ints (the exact values, beside values) is kept only while every
   * point was an integer, so a float tag pays one predictable branch per point */
  int any_float, any_negative, any_big; /* big: a uint64 above INT64_MAX */
  int64_t *ints;
  int64_t smin, smax;   /* least / greatest integer as int64_t */
  uint64_t umin, umax;  /* the same read as uint64_t (the type is UINT when a big one came) */
  int64_t first_int, last_int;
} tag_acc;

typedef struct builder {
  kcb_run_summary pub;
  char *path;
  tag_acc **tags;   /* in order of first appearance */
  size_t n_tags, cap_tags;
  size_t *slots;    /* open-addressing table of index+1 into tags */
  size_t n_slots;
  kcb_run_tag *sorted;
  const kcb_run_summary_options *opts;
  int regressed; /* a scalar tag's step went back: points were evicted */
  tag_acc *prev; /* the tag of the previous value: logs repeat their tags in the same order, so
                    prev->next_seen predicts the next one and most lookups skip hashing */
} builder;

static uint64_t hash_bytes(const uint8_t *p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

static tag_acc *tag_lookup(builder *b, span name, int create) {
  size_t n = (size_t)(name.end - name.p);
  tag_acc *guess = b->prev ? b->prev->next_seen : NULL;
  if (guess && guess->tag_len == n && bytes_eq((const uint8_t *)guess->tag, name.p, n)) return guess;
  if (b->n_slots) {
    size_t j = hash_bytes(name.p, n) & (b->n_slots - 1);
    while (b->slots[j]) {
      tag_acc *t = b->tags[b->slots[j] - 1];
      if (t->tag_len == n && memcmp(t->tag, name.p, n) == 0) return t;
      j = (j + 1) & (b->n_slots - 1);
    }
  }
  if (!create) return NULL;
  if (2 * (b->n_tags + 1) > b->n_slots) {
    size_t ns = b->n_slots ? 2 * b->n_slots : 64;
    size_t *s = calloc(ns, sizeof *s);
    if (!s) return NULL;
    for (size_t i = 0; i < b->n_tags; i++) {
      size_t j = hash_bytes((const uint8_t *)b->tags[i]->tag, strlen(b->tags[i]->tag)) & (ns - 1);
      while (s[j]) j = (j + 1) & (ns - 1);
      s[j] = i + 1;
    }
    free(b->slots);
    b->slots = s;
    b->n_slots = ns;
  }
  if (b->n_tags == b->cap_tags) {
    size_t cap = b->cap_tags ? 2 * b->cap_tags : 32;
    tag_acc **p = realloc(b->tags, cap * sizeof *p);
    if (!p) return NULL;
    b->tags = p;
    b->cap_tags = cap;
  }
  tag_acc *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  if (!(t->tag = malloc(n + 1))) {
    free(t);
    return NULL;
  }
  memcpy(t->tag, name.p, n);
  t->tag[n] = '\0';
  t->tag_len = n;
  t->pub.first = t->pub.last = t->pub.min = t->pub.max = NAN;
  t->pub.min_step = INT64_MAX;
  t->pub.max_step = INT64_MIN;
  b->tags[b->n_tags++] = t;
  size_t j = hash_bytes(name.p, n) & (b->n_slots - 1);
  while (b->slots[j]) j = (j + 1) & (b->n_slots - 1);
  b->slots[j] = b->n_tags;
  return t;
}

/* Appends a point as TensorBoard's data server (rustboard) keeps a time series: a point at step s
 * first evicts the points read before it at steps >= s (a restarted or resumed run's re-logged
 * steps replace the old ones; SessionLog START itself is ignored). The series stays increasing in
 * step, so the evicted points are the last ones. */
static int push_point(tag_acc *t, int64_t step, double wall, double v, int64_t iv) {
  while (t->pub.n_points > 0 && t->steps[t->pub.n_points - 1] >= step) t->pub.n_points--;
  if (t->pub.n_points == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 64;
    int64_t *s = realloc(t->steps, cap * sizeof *s);
    if (s) t->steps = s;
    double *w = realloc(t->walls, cap * sizeof *w);
    if (w) t->walls = w;
    double *x = realloc(t->values, cap * sizeof *x);
    if (x) t->values = x;
    int64_t *n = t->any_float ? NULL : realloc(t->ints, cap * sizeof *n);
    if (n) t->ints = n;
    if (!s || !w || !x || (!t->any_float && !n)) return KCB_ENOMEM;
    t->cap = cap;
  }
  t->steps[t->pub.n_points] = step;
  t->walls[t->pub.n_points] = wall;
  t->values[t->pub.n_points] = v;
  if (!t->any_float) t->ints[t->pub.n_points] = iv;
  t->pub.n_points++;
  return 0;
}

/* Notes an integer value of a scalar tag (ic: kcb__dtype_int's class, 1 or 2). */
static void note_int(tag_acc *t, int64_t iv, int ic, int first) {
  uint64_t u = (uint64_t)iv;
  if (first) t->smin = t->smax = iv, t->umin = t->umax = u, t->first_int = iv;
  t->last_int = iv;
  if (ic == 2) t->any_big = 1;
  else if (iv < 0) t->any_negative = 1;
  if (iv < t->smin) t->smin = iv;
  if (iv > t->smax) t->smax = iv;
  if (u < t->umin) t->umin = u;
  if (u > t->umax) t->umax = u;
}

static int span_eq(span s, const char *str) {
  size_t n = strlen(str);
  return (size_t)(s.end - s.p) == n && memcmp(s.p, str, n) == 0;
}

/* The plugins that decide a tensor value's kind, as the reader tells them apart. */
enum { PL_NONE, PL_SCALARS, PL_HISTOGRAMS, PL_IMAGES, PL_AUDIO, PL_TEXT, PL_HPARAMS, PL_OTHER };

static int plugin_code(span name) {
  static const char *const names[] = {"scalars", "histograms", "images", "audio", "text", "hparams"};
  if (!name.p || name.end == name.p) return PL_NONE;
  for (int i = 0; i < 6; i++)
    if (span_eq(name, names[i])) return PL_SCALARS + i;
  return PL_OTHER;
}

/* A TensorProto's rank, first two dimensions (-1 where it has fewer) and number of string_val
 * entries: what the reader's plugins check before they take a tensor as theirs. @return -1 if
 * malformed. */
static int tensor_shape_strings(span t, int *rank, int64_t dims[2], size_t *n_strings) {
  field f, g, h;
  int rc, r2, r3;
  *rank = 0, dims[0] = dims[1] = -1, *n_strings = 0;
  while ((rc = next_field(&t, &f)) == 1) {
    if (f.key == KEY(8, 2)) (*n_strings)++;
    if (f.key != KEY(2, 2)) continue;
    span shape = f.bytes;
    while ((r2 = next_field(&shape, &g)) == 1) {
      if (g.key != KEY(2, 2)) continue; /* TensorShapeProto.dim */
      int64_t size = 0;
      span dim = g.bytes;
      while ((r3 = next_field(&dim, &h)) == 1)
        if (h.key == KEY(1, 0)) size = (int64_t)h.varint;
      if (r3 < 0) return -1;
      if (*rank < 2) dims[*rank] = size;
      (*rank)++;
    }
    if (r2 < 0) return -1;
  }
  return rc < 0 ? -1 : 0;
}

/* The kind a tensor of plugin `pl` is, as the reader decides it (reader.c, decode_value): a
 * histogram is [k, 3] numbers, images at least two strings, audio and text strings; anything
 * else stays a plain tensor. @return -1 if malformed. */
static int plugin_tensor_kind(span tensor, int pl, kcb_summary_kind *kind) {
  size_t count = 0, n_strings;
  double first;
  uint64_t bits;
  int dtype = 0, rank;
  int64_t dims[2];
  if (tensor_first(tensor, &count, &first, &bits, &dtype) || tensor_shape_strings(tensor, &rank, dims, &n_strings))
    return -1;
  int strings = dtype == KCB_DT_STRING;
  switch (pl) {
    case PL_HISTOGRAMS:
      if (rank == 2 && dims[1] == 3 && count % 3 == 0 && dims[0] >= 0 && (uint64_t)dims[0] == count / 3)
        *kind = KCB_SUMMARY_HISTOGRAM;
      break;
    case PL_IMAGES: if (strings && n_strings >= 2) *kind = KCB_SUMMARY_IMAGE; break;
    case PL_AUDIO: if (strings) *kind = KCB_SUMMARY_AUDIO; break;
    case PL_TEXT: if (strings) *kind = KCB_SUMMARY_TEXT; break;
    default: break;
  }
  return 0;
}

/* One Summary.Value. @return 0, -1 malformed, KCB_ENOMEM. */
static int add_value(builder *b, span v, int64_t step, double wall) {
  span tag = {v.p, v.p}, plugin = {NULL, NULL}, tensor = {NULL, NULL};
  int has_md = 0, data_class = 0, which = 0; /* which: the oneof member's field number */
  double simple = NAN;
  field f;
  int rc = 0;
  span q = v;
  if (take_bytes(&q, KEY(1, 2), &tag) && take_bytes(&q, KEY(8, 2), &tensor) && q.p == q.end)
    which = 8, v.p = v.end; /* tag and tensor alone */
  else tag.p = tag.end = v.p, tensor.p = tensor.end = NULL;
  while ((rc = next_field(&v, &f)) == 1) {
    switch (f.key >> 3) {
      case 1: if (f.key == KEY(1, 2)) tag = f.bytes; break;
      case 9:
        if (f.key == KEY(9, 2)) {
          has_md = 1;
          span m = f.bytes;
          field g;
          int r2;
          while ((r2 = next_field(&m, &g)) == 1) {
            if (g.key == KEY(1, 2)) {
              span pd = g.bytes;
              field h;
              int r3;
              while ((r3 = next_field(&pd, &h)) == 1)
                if (h.key == KEY(1, 2)) plugin = h.bytes;
              if (r3 < 0) return -1;
            } else if (g.key == KEY(4, 0)) {
              data_class = (int)g.varint;
            }
          }
          if (r2 < 0) return -1;
        }
        break;
      case 2: if (f.key == KEY(2, 5)) simple = kcb__bits_to_float(f.varint), which = 2; break;
      case 3: case 4: case 5: case 6: which = (int)(f.key >> 3); break;
      case 8: if (f.key == KEY(8, 2)) tensor = f.bytes, which = 8; break;
      default: break;
    }
  }
  if (rc < 0) return -1;
  const char *want = b->opts->tag;
  if (want && !span_eq(tag, want)) return 0;
  tag_acc *t = tag_lookup(b, tag, 1);
  if (!t) return KCB_ENOMEM;
  if (b->prev) b->prev->next_seen = t;
  b->prev = t;
  int first = t->pub.count == 0;
  /* only the first metadata counts, as in TensorBoard's data server; a first value without it
   * gets its kind's plugin (a simple_value: scalars), which later metadata does not change */
  if (has_md && !t->plugin && !t->decided) {
    size_t n = plugin.p ? (size_t)(plugin.end - plugin.p) : 0;
    if (!(t->plugin = malloc(n + 1))) return KCB_ENOMEM;
    if (n) memcpy(t->plugin, plugin.p, n);
    t->plugin[n] = '\0';
    t->data_class = data_class;
    t->plugin_code = plugin_code(plugin);
  }
  /* metadata alone: an empty point no dashboard shows (hparams records are metadata alone) */
  if (which == 0 && t->plugin_code != PL_HPARAMS) return 0;
  if (!t->decided && !t->plugin)
    t->plugin_code = which == 2 ? PL_SCALARS : which == 4 ? PL_IMAGES : which == 5 ? PL_HISTOGRAMS : which == 6 ? PL_AUDIO : PL_NONE;
  t->decided = 1;
  /* the tag's first metadata decides every value's kind, as TensorBoard keeps it (and the reader) */
  int pl = t->plugin_code;
  data_class = t->data_class;
  kcb_summary_kind kind = KCB_SUMMARY_UNKNOWN;
  double scalar = NAN;
  uint64_t bits = 0;
  int dtype = 0;
  switch (which) {
    case 2: kind = KCB_SUMMARY_SCALAR, scalar = simple; break;
    case 4: kind = KCB_SUMMARY_IMAGE; break;
    case 5: kind = KCB_SUMMARY_HISTOGRAM; break;
    case 6: kind = KCB_SUMMARY_AUDIO; break;
    case 8:
      kind = KCB_SUMMARY_TENSOR;
      if (pl == PL_SCALARS || (pl == PL_NONE && data_class == 1)) { /* data class 1: scalar */
        size_t count;
        if (tensor_first(tensor, &count, &scalar, &bits, &dtype)) return -1;
        if (count == 1) kind = KCB_SUMMARY_SCALAR;
      }
      if (pl == PL_HISTOGRAMS || pl == PL_IMAGES || pl == PL_AUDIO || pl == PL_TEXT) {
        if (plugin_tensor_kind(tensor, pl, &kind)) return -1;
      } else if (pl == PL_HPARAMS) {
        kind = KCB_SUMMARY_HPARAMS;
      }
      break;
    default:
      if (pl == PL_HPARAMS) kind = KCB_SUMMARY_HPARAMS;
      break;
  }
  kcb_run_tag *p = &t->pub;
  if (!first && kind != p->kind) return 0; /* not of the tag's kind: TensorBoard drops it */
  if (!first && step <= p->last_step && kind == KCB_SUMMARY_SCALAR) b->regressed = 1; /* points will be evicted */
  if (first) {
    p->kind = kind;
    p->first_step = step;
    p->first_wall_time = wall;
  }
  p->count++;
  p->last_step = step;
  p->last_wall_time = wall;
  if (step < p->min_step) p->min_step = step;
  if (step > p->max_step) p->max_step = step;
  if (p->kind == KCB_SUMMARY_SCALAR && kind == KCB_SUMMARY_SCALAR) {
    if (first) p->first = scalar;
    p->last = scalar;
    if (!isnan(scalar)) {
      if (isnan(p->min) || scalar < p->min) p->min = scalar;
      if (isnan(p->max) || scalar > p->max) p->max = scalar;
    }
    int64_t iv = 0;
    if (!t->any_float) { /* once a float came, the tag is a float tag: nothing more to note */
      int ic = which == 8 ? kcb__dtype_int(bits, dtype, &iv) : 0;
      if (ic) note_int(t, iv, ic, first);
      else t->any_float = 1, free(t->ints), t->ints = NULL;
    }
    if (b->opts->keep_series && push_point(t, step, wall, scalar, iv)) return KCB_ENOMEM;
  }
  return 0;
}

/* One Event. @return 0, -1 malformed, KCB_ENOMEM. */
static int add_event(builder *b, span e) {
  double wall = 0;
  int64_t step = 0;
  span summary = {NULL, NULL};
  int start = 0, rc = 0, graph = 0;
  field f;
  span q = e;
  if (q.end - q.p >= 9 && *q.p == KEY(1, 1)) wall = kcb__bits_to_double(kcb__load_le64(q.p + 1)), q.p += 9;
  if (q.p < q.end && *q.p == KEY(2, 0)) {
    span r = {q.p + 1, q.end};
    uint64_t u;
    if (!get_varint(&r, &u)) step = (int64_t)u, q.p = r.p;
  }
  take_bytes(&q, KEY(5, 2), &summary);
  if (q.p != q.end) wall = 0, step = 0, summary.p = summary.end = NULL; /* not the usual layout */
  else e.p = e.end;
  while ((rc = next_field(&e, &f)) == 1) {
    if (f.key == KEY(1, 1)) wall = kcb__bits_to_double(f.varint);
    else if (f.key == KEY(2, 0)) step = (int64_t)f.varint;
    else if (f.key == KEY(5, 2)) summary = f.bytes;
    else if (f.key == KEY(4, 2) || f.key == KEY(9, 2)) graph = 1; /* graph_def, meta_graph_def */
    else if (f.key == KEY(7, 2)) {
      span sl = f.bytes;
      field g;
      int r2;
      while ((r2 = next_field(&sl, &g)) == 1)
        if (g.key == KEY(1, 0)) start = g.varint == 1;
      if (r2 < 0) return -1;
    }
  }
  if (rc < 0) return -1;
  kcb_run_summary *s = &b->pub;
  if (isnan(s->first_wall_time)) s->first_wall_time = wall;
  s->last_wall_time = wall;
  s->n_graphs += (uint64_t)graph;
  if (start) {
    s->n_session_starts++;
  }
  if (summary.p) {
    span one, q2 = summary;
    if (take_bytes(&q2, KEY(1, 2), &one) && q2.p == q2.end) return add_value(b, one, step, wall); /* one value */
    while ((rc = next_field(&summary, &f)) == 1)
      if (f.key == KEY(1, 2)) {
        int r2 = add_value(b, f.bytes, step, wall);
        if (r2) return r2;
      }
    if (rc < 0) return -1;
  }
  return 0;
}

static void note_problem(builder *b, int code) {
  if (b->pub.problem) return;
  b->pub.problem = code;
  kcb__strlcpy(b->pub.problem_message, kcb_error_last(), sizeof b->pub.problem_message);
}

/* ---- records ------------------------------------------------------------------------------ */

/* Reads one event file (framing and CRCs in record.c). @return 0 (problems noted), I/O codes. */
static int read_file(builder *b, const char *path) {
  kcb__record_reader rr;
  int rc = kcb__record_reader_open(&rr, path);
  if (rc) return rc;
  const kcb__record_ref *recs = NULL;
  uint64_t off = 0;
  int n;
  while ((n = kcb__record_reader_next(&rr, &recs, &off)) > 0) {
    for (int i = 0; i < n; i++) {
      span e = {recs[i].data, recs[i].data + recs[i].len};
      int r = add_event(b, e);
      if (r == KCB_ENOMEM) {
        rc = kcb__error(KCB_ENOMEM, "%s: out of memory", path);
        goto done;
      }
      if (r < 0) {
        note_problem(b, kcb__error(KCB_EFORMAT, "%s: the record at offset %llu is not a valid Event", path,
                                   (unsigned long long)recs[i].offset));
      } else {
        b->pub.n_events++;
        b->pub.n_bytes += recs[i].len + KCB__RECORD_HEADER + KCB__RECORD_FOOTER;
      }
    }
  }
  if (n == KCB_ETRUNC || n == KCB_ECRC) note_problem(b, n);
  else if (n < 0) rc = n;
done:
  kcb__record_reader_close(&rr);
  return rc;
}

static int cmp_tag(const void *a, const void *b) {
  return strcmp(((const kcb_run_tag *)a)->tag, ((const kcb_run_tag *)b)->tag);
}

/* The type of a scalar tag's values, from what add_value noted. */
static kcb_scalar_type value_type(const tag_acc *t) {
  if (t->pub.kind != KCB_SUMMARY_SCALAR || t->any_float || !t->pub.count) return KCB_SCALAR_FLOAT;
  if (t->any_big) return t->any_negative ? KCB_SCALAR_FLOAT : KCB_SCALAR_UINT; /* no one type holds both */
  return KCB_SCALAR_INT;
}

/* Sets an integer tag's exact first / last / min / max (from its series when it was kept). */
static void int_stats(tag_acc *t, int from_series) {
  kcb_run_tag *p = &t->pub;
  int u = p->value_type == KCB_SCALAR_UINT;
  if (!from_series || !p->n_points) { /* no series kept: what was read, as the doubles keep */
    p->first_int = t->first_int, p->last_int = t->last_int;
    p->min_int = u ? (int64_t)t->umin : t->smin;
    p->max_int = u ? (int64_t)t->umax : t->smax;
    return;
  }
  p->first_int = t->ints[0];
  p->last_int = t->ints[p->n_points - 1];
  p->min_int = p->max_int = t->ints[0];
  for (size_t i = 1; i < p->n_points; i++) {
    int64_t v = t->ints[i];
    if (u ? (uint64_t)v < (uint64_t)p->min_int : v < p->min_int) p->min_int = v;
    if (u ? (uint64_t)v > (uint64_t)p->max_int : v > p->max_int) p->max_int = v;
  }
}

/* Sets each scalar's first / last / min / max from its series (what the evictions left). */
static void stats_from_series(tag_acc *t) {
  kcb_run_tag *p = &t->pub;
  if (p->kind != KCB_SUMMARY_SCALAR || !p->n_points) return;
  /* every field of the series kept, not of every point read */
  p->count = p->n_points;
  p->first_step = p->min_step = p->max_step = t->steps[0];
  p->last_step = t->steps[p->n_points - 1];
  p->first_wall_time = t->walls[0];
  p->last_wall_time = t->walls[p->n_points - 1];
  for (size_t i = 1; i < p->n_points; i++) {
    if (t->steps[i] < p->min_step) p->min_step = t->steps[i];
    if (t->steps[i] > p->max_step) p->max_step = t->steps[i];
  }
  p->first = t->values[0];
  p->last = t->values[p->n_points - 1];
  p->min = p->max = NAN;
  for (size_t i = 0; i < p->n_points; i++) {
    double v = t->values[i];
    if (isnan(v)) continue;
    if (isnan(p->min) || v < p->min) p->min = v;
    if (isnan(p->max) || v > p->max) p->max = v;
  }
}

void kcb_run_summary_free(kcb_run_summary *s) {
  if (!s) return;
  builder *b = (builder *)s;
  for (size_t i = 0; i < b->n_tags; i++) {
    tag_acc *t = b->tags[i];
    free(t->tag), free(t->plugin), free(t->steps), free(t->walls), free(t->values), free(t->ints);
    free(t);
  }
  free(b->tags);
  free(b->slots);
  free(b->sorted);
  free(b->path);
  free(b);
}

/* read_summary's answer for a run whose steps went back, read without its series (not an error
 * code of kcb's: never returned to a caller). */
#define KCB__RESTARTED 1000

static int read_summary(kcb_run_summary **out, const char *path, const kcb_run_summary_options *opts, int drop_series);

int kcb_run_summary_read(kcb_run_summary **out, const char *path, const kcb_run_summary_options *opts) {
  static const kcb_run_summary_options defaults = KCB_RUN_SUMMARY_OPTIONS_INIT;
  if (!out) return kcb__error(KCB_EINVAL, "run summary: no output");
  *out = NULL;
  if (!path) return kcb__error(KCB_EINVAL, "run summary: no path");
  if (!opts) opts = &defaults;
  int rc = read_summary(out, path, opts, 0);
  if (rc != KCB__RESTARTED) return rc;
  /* a restarted run without series: its counts and steps must be those of the series the steps
   * going back left, which only the series give; read again keeping them, then let them go */
  kcb_run_summary_options with_series = *opts;
  with_series.keep_series = 1;
  return read_summary(out, path, &with_series, 1);
}

static int read_summary(kcb_run_summary **out, const char *path, const kcb_run_summary_options *opts, int drop_series) {
  builder *b = calloc(1, sizeof *b);
  if (!b) return kcb__error(KCB_ENOMEM, "run summary: out of memory");
  b->opts = opts;
  b->pub.first_wall_time = b->pub.last_wall_time = NAN;
  char **files = NULL;
  size_t n_list = 0, n_files = 0;
  int rc = 0;
  struct stat st;
  if (!(b->path = strdup(path))) rc = kcb__error(KCB_ENOMEM, "run summary: out of memory");
  else if (stat(path, &st) != 0) rc = kcb__error(kcb__error_from_errno(errno), "%s: cannot open: %s", path, strerror(errno));
  else if (S_ISDIR(st.st_mode)) rc = kcb_tfevents_list_files(path, &files, &n_list), n_files = n_list;
  else n_files = 1, rc = read_file(b, path);
  for (size_t i = 0; !rc && i < n_list; i++) rc = read_file(b, files[i]);
  kcb_string_list_free(files, n_list);
  if (!rc && b->regressed && !b->opts->keep_series) rc = KCB__RESTARTED; /* the caller reads again */
  if (!rc && b->n_tags && !(b->sorted = malloc(b->n_tags * sizeof *b->sorted)))
    rc = kcb__error(KCB_ENOMEM, "run summary: out of memory");
  if (rc) {
    kcb_run_summary_free(&b->pub);
    return rc;
  }
  size_t n_shown = 0;
  for (size_t i = 0; i < b->n_tags; i++) {
    tag_acc *t = b->tags[i];
    if (t->pub.count == 0) continue; /* metadata alone, never a value: no tag to show */
    if (b->opts->keep_series) stats_from_series(t);
    t->pub.value_type = value_type(t);
    if (t->pub.value_type != KCB_SCALAR_FLOAT) int_stats(t, b->opts->keep_series);
    if (drop_series) { /* as a read without series gives it */
      free(t->steps), free(t->walls), free(t->values);
      t->steps = NULL, t->walls = NULL, t->values = NULL;
      t->pub.n_points = 0;
    }
    t->pub.int_values = t->pub.value_type != KCB_SCALAR_FLOAT && b->opts->keep_series && !drop_series ? t->ints : NULL;
    t->pub.tag = t->tag;
    t->pub.plugin = t->plugin ? t->plugin : "";
    t->pub.steps = t->steps;
    t->pub.wall_times = t->walls;
    t->pub.values = t->values;
    b->sorted[n_shown++] = t->pub;
  }
  if (n_shown) qsort(b->sorted, n_shown, sizeof *b->sorted, cmp_tag);
  b->pub.path = b->path;
  b->pub.n_files = n_files;
  b->pub.tags = b->sorted;
  b->pub.n_tags = n_shown;
  *out = &b->pub;
  return 0;
}

const kcb_run_tag *kcb_run_summary_find(const kcb_run_summary *s, const char *tag) {
  if (!s || !tag) return NULL;
  size_t lo = 0, hi = s->n_tags;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strcmp(s->tags[mid].tag, tag);
    if (c == 0) return &s->tags[mid];
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}
