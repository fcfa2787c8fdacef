/* io/tfevents/projector.c — embeddings for TensorBoard's projector plugin (spec/tfevents.md §3.10):
 * the plugin looks for projector_config.pbtxt (text-format ProjectorConfig) in each run directory,
 * reads a tensor file as TSV or, when it is not valid UTF-8, as raw float32 of tensor_shape,
 * serves metadata.tsv as is (a first line holding a tab is the header), and its frontend refuses
 * sprites larger than 8192 px a side and loads at most 100000 points. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "io/png.h"
#include "io/tfevents/record.h"
#include "io/tfevents/summary_writer_internal.h"
#include "kcb/tb_plugins.h"

/* ---- a growing byte buffer ------------------------------------------------------------------ */

typedef struct buf {
  char *p;
  size_t len, cap;
  int oom;
} buf;

static void buf_reserve(buf *b, size_t more) {
  if (b->oom || b->len + more <= b->cap) return;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + more) cap *= 2;
  char *p = realloc(b->p, cap);
  if (!p) {
    b->oom = 1;
    return;
  }
  b->p = p;
  b->cap = cap;
}

static void buf_put(buf *b, const char *s, size_t n) {
  buf_reserve(b, n + 1);
  if (b->oom) return;
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void buf_str(buf *b, const char *s) { buf_put(b, s, strlen(s)); }

static void buf_printf(buf *b, const char *fmt, unsigned long long v) {
  char tmp[64];
  int n = snprintf(tmp, sizeof tmp, fmt, v);
  buf_put(b, tmp, (size_t)n);
}

/* A text-format string literal: quote, backslash and control bytes escaped (octal). */
static void buf_quoted(buf *b, const char *s) {
  buf_put(b, "\"", 1);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      buf_put(b, e, 2);
    } else if (c < 0x20 || c == 0x7f) {
      char e[8];
      snprintf(e, sizeof e, "\\%03o", c);
      buf_put(b, e, 4);
    } else {
      buf_put(b, (const char *)&c, 1);
    }
  }
  buf_put(b, "\"", 1);
}

/* "<dir>/<file>" quoted, then a newline. */
static void buf_path(buf *b, const char *dir, const char *file) {
  char rel[512];
  snprintf(rel, sizeof rel, "%s/%s", dir, file);
  buf_quoted(b, rel);
  buf_put(b, "\n", 1);
}

/* ---- checks ---------------------------------------------------------------------------------- */

/* How many of n bytes are valid UTF-8 as Python's strict decoder sees it: where the first invalid
 * sequence starts, or n. */
static size_t utf8_valid_prefix(const unsigned char *s, size_t n) {
  uint32_t cp;
  size_t k;
  for (size_t i = 0; i < n; i += k)
    if ((k = s[i] < 0x80 ? 1 : kcb__utf8_sequence(s + i, n - i, &cp)) == 0) return i;
  return n;
}

/* Whether n bytes are all valid UTF-8: then the projector would read a binary tensor as text. */
static int valid_utf8(const unsigned char *s, size_t n) { return utf8_valid_prefix(s, n) == n; }

/* How much of a tensor file the projector's readers decode before they parse any of it as TSV:
 * TensorBoard's own reader its first 16 MiB at once, TensorFlow's GFile its lines one by one up to
 * the first that is not empty (empty lines are skipped). A file is read as binary only when that
 * much fails as UTF-8, whichever reader TensorBoard runs with. */
static size_t tensor_first_decode(const unsigned char *bytes, size_t n) {
  size_t blank = 0;
  while (blank < n && bytes[blank] == '\n') blank++;
  const unsigned char *nl = memchr(bytes + blank, '\n', n - blank);
  size_t first_line = nl ? (size_t)(nl - bytes) + 1 : n, decoded = (size_t)16 << 20;
  return first_line < decoded ? first_line : decoded;
}

static int check_name(const kcb_embedding *e, size_t i, const kcb_embedding *all) {
  const char *name = e->name;
  /* a leading '~' would make TensorBoard look in a home directory (it expands every path) */
  if (!name || !*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strchr(name, '/') || name[0] == '~' ||
      strlen(name) > 200)
    return kcb__error(KCB_EINVAL,
                      "projector: embedding %zu's name '%s' must be 1-200 characters, not '.', '..', hold a '/' or start "
                      "with '~' (it names the embedding's directory)",
                      i, name ? name : "");
  for (const char *p = name; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      return kcb__error(KCB_EINVAL, "projector: embedding %zu's name holds a control character", i);
  int rc = kcb__check_utf8(name, "projector: the embedding name"); /* projector_config.pbtxt is text-format proto */
  if (rc) return rc;
  /* the projector takes a tensor name with and without ":0" for one tensor */
  size_t len = strlen(name), base = len > 2 && !strcmp(name + len - 2, ":0") ? len - 2 : len;
  for (size_t j = 0; j < i; j++) {
    size_t other = strlen(all[j].name), other_base = other > 2 && !strcmp(all[j].name + other - 2, ":0") ? other - 2 : other;
    if (base == other_base && strncmp(all[j].name, name, base) == 0)
      return strcmp(all[j].name, name) == 0
                 ? kcb__error(KCB_EINVAL, "projector: two embeddings named '%s'", name)
                 : kcb__error(KCB_EINVAL, "projector: embeddings '%s' and '%s' are one tensor to the projector, which "
                              "reads a name with and without \":0\" alike", all[j].name, name);
  }
  return 0;
}

static int check_cell(const char *name, const char *what, const char *s, size_t col, size_t row) {
  if (!s) return kcb__error(KCB_EINVAL, "projector '%s': %s of column %zu, row %zu is NULL", name, what, col, row);
  if (strpbrk(s, "\t\n\r"))
    return kcb__error(KCB_EINVAL, "projector '%s': %s of column %zu, row %zu holds a tab or line break: '%s'", name,
                      what, col, row, s);
  char where[400]; /* TensorBoard reads metadata.tsv as UTF-8 text */
  snprintf(where, sizeof where, "projector '%.200s': %s of column %zu, row %zu", name, what, col, row);
  return kcb__check_utf8(s, where);
}

/* Whether a line is blank to the projector's page, which skips a line that JavaScript's trim()
 * empties: ASCII and Unicode white space (no-break spaces, U+2000..U+200A, U+3000, ...), the
 * line separators and the byte-order mark. Invalid UTF-8 shows as U+FFFD: not blank. */
static int blank(const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  uint32_t c;
  size_t k;
  for (size_t i = 0; i < n; i += k) {
    if (u[i] < 0x80) c = u[i], k = 1;
    else if ((k = kcb__utf8_sequence(u + i, n - i, &c)) == 0) return 0;
    int space = (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
                c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000 || c == 0xfeff;
    if (!space) return 0;
  }
  return 1;
}

static int check_embedding(const kcb_embedding *e) {
  const char *name = e->name;
  if ((!e->data && !e->row_data) || e->rows == 0 || e->dims == 0)
    return kcb__error(KCB_EINVAL, "projector '%s': the tensor is empty (%zu x %zu)", name, e->rows, e->dims);
  if (e->row_data) {
    if (!e->row_lengths) return kcb__error(KCB_EINVAL, "projector '%s': row_data without row_lengths", name);
    for (size_t r = 0; r < e->rows; r++)
      if (e->row_lengths[r] != e->dims || !e->row_data[r])
        return kcb__error(KCB_EINVAL, "projector '%s': ragged rows: row %zu has %zu values, the tensor %zu columns",
                          name, r, e->row_lengths[r], e->dims);
  }
  if (e->rows > KCB_PROJECTOR_MAX_POINTS || e->dims > 100000000 / e->rows + 1)
    return kcb__error(KCB_EINVAL, "projector '%s': %zu rows of %zu (TensorBoard's projector loads at most %d points)",
                      name, e->rows, e->dims, KCB_PROJECTOR_MAX_POINTS);
  if (!e->row_data) {
    size_t n = e->rows * e->dims;
    for (size_t i = 0; i < n; i++)
      if (!isfinite(e->data[i]))
        return kcb__error(KCB_EINVAL, "projector '%s': value %g at row %zu, column %zu is not finite", name,
                          (double)e->data[i], i / e->dims, i % e->dims);
  } else {
    for (size_t r = 0; r < e->rows; r++)
      for (size_t c = 0; c < e->dims; c++)
        if (!isfinite(e->row_data[r][c]))
          return kcb__error(KCB_EINVAL, "projector '%s': value %g at row %zu, column %zu is not finite", name,
                            (double)e->row_data[r][c], r, c);
  }
  if (e->n_columns && e->metadata_rows != e->rows)
    return kcb__error(KCB_EINVAL,
                      "projector '%s': the metadata has %zu rows but the tensor %zu (the projector needs one metadata "
                      "row per point)",
                      name, e->metadata_rows, e->rows);
  if (e->n_columns) {
    if (!e->columns || (e->n_columns > 1 && !e->column_names))
      return kcb__error(KCB_EINVAL, "projector '%s': %zu metadata columns without values or names", name, e->n_columns);
    for (size_t c = 0; c < e->n_columns; c++) {
      if (!e->columns[c])
        return kcb__error(KCB_EINVAL, "projector '%s': metadata column %zu has no values (needs %zu, one per row)",
                          name, c, e->rows);
      if (e->n_columns > 1) {
        int rc = check_cell(name, "the name", e->column_names[c], c, 0);
        if (rc) return rc;
        for (size_t k = 0; k < c; k++) /* the page keeps each row's values by column name */
          if (strcmp(e->column_names[k], e->column_names[c]) == 0)
            return kcb__error(KCB_EINVAL, "projector '%s': metadata columns %zu and %zu are both named '%s' (the "
                              "projector would show one of them)", name, k, c, e->column_names[c]);
      }
      for (size_t r = 0; r < e->rows; r++) {
        int rc = check_cell(name, "the value", e->columns[c][r], c, r);
        if (rc) return rc;
      }
    }
    int names_blank = e->n_columns > 1; /* a blank header line would be skipped: row 0 would head the table */
    for (size_t c = 0; c < e->n_columns && names_blank; c++) names_blank = blank(e->column_names[c], strlen(e->column_names[c]));
    if (names_blank)
      return kcb__error(KCB_EINVAL, "projector '%s': every metadata column name is blank (the projector skips a blank "
                        "header line and would take the first row for the header)", name);
    for (size_t r = 0; r < e->rows; r++) {
      int all_blank = 1;
      for (size_t c = 0; c < e->n_columns && all_blank; c++) all_blank = blank(e->columns[c][r], strlen(e->columns[c][r]));
      if (all_blank)
        return kcb__error(KCB_EINVAL,
                          "projector '%s': metadata row %zu is empty (the projector skips blank lines, so every "
                          "later row would be off by one)",
                          name, r);
    }
  }
  if (e->images) {
    if (e->image_height < 1 || e->image_width < 1 ||
        (e->image_channels != 1 && e->image_channels != 3 && e->image_channels != 4))
      return kcb__error(KCB_EINVAL, "projector '%s': sprite images of %dx%d with %d channels (need 1, 3 or 4)", name,
                        e->image_height, e->image_width, e->image_channels);
    size_t side = (size_t)ceil(sqrt((double)e->rows));
    while (side * side < e->rows) side++;
    if (side * (size_t)e->image_width > KCB_PROJECTOR_MAX_SPRITE_PX ||
        side * (size_t)e->image_height > KCB_PROJECTOR_MAX_SPRITE_PX)
      return kcb__error(KCB_EINVAL,
                        "projector '%s': a sprite of %zu x %zu images of %dx%d is %zux%zu px; TensorBoard's "
                        "projector refuses sprites larger than %dx%d (use fewer rows or smaller images)",
                        name, side, side, e->image_width, e->image_height, side * (size_t)e->image_width,
                        side * (size_t)e->image_height, KCB_PROJECTOR_MAX_SPRITE_PX, KCB_PROJECTOR_MAX_SPRITE_PX);
  }
  return 0;
}

/* ---- the files of one embedding ------------------------------------------------------------- */

static int host_is_le(void) {
  const uint16_t one = 1;
  return *(const uint8_t *)&one == 1;
}

static int write_file(const char *dir, const char *name, const char *file, const void *data, size_t len) {
  char *sub = kcb__path_join(dir, name), *path = sub ? kcb__path_join(sub, file) : NULL;
  int rc = path ? kcb__mkdirs(sub, "projector") : kcb__error(KCB_ENOMEM, "projector: out of memory");
  if (!rc) rc = kcb__file_write_atomic(path, data, len);
  free(sub);
  free(path);
  return rc;
}

/* Writes the tensor; *tsv tells which form it took. */
static int write_tensor(const char *dir, const kcb_embedding *e, kcb_projector_format format, int *tsv) {
  size_t n = e->rows * e->dims;
  int rc = 0;
  *tsv = format == KCB_PROJECTOR_TSV;
  if (!*tsv) {
    const unsigned char *bytes = (const unsigned char *)e->data;
    unsigned char *copy = NULL;
    if (!host_is_le()) {
      if (!(copy = malloc(4 * n))) return kcb__error(KCB_ENOMEM, "projector: out of memory");
      for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &e->data[i], 4);
        kcb__store_le32(copy + 4 * i, bits);
      }
      bytes = copy;
    }
    /* The projector parses the file as TSV unless decoding it as UTF-8 fails, so the bytes must
     * fail early (all zeros, say, decode; a float's bytes may hold '\n'): else TSV is written */
    if (utf8_valid_prefix(bytes, 4 * n) >= tensor_first_decode(bytes, 4 * n)) *tsv = 1;
    else rc = write_file(dir, e->name, "tensor.bin", bytes, 4 * n);
    free(copy);
    if (!*tsv) return rc;
  }
  buf b = {0};
  buf_reserve(&b, n * 12);
  char num[40];
  for (size_t r = 0; r < e->rows && !b.oom; r++)
    for (size_t c = 0; c < e->dims; c++) {
      kcb__format_float32(e->data[r * e->dims + c], num, sizeof num);
      buf_str(&b, num);
      buf_put(&b, c + 1 < e->dims ? "\t" : "\n", 1);
    }
  rc = b.oom ? kcb__error(KCB_ENOMEM, "projector '%s': out of memory for the TSV tensor", e->name)
             : write_file(dir, e->name, "tensor.tsv", b.p, b.len);
  free(b.p);
  return rc;
}

static int write_metadata(const char *dir, const kcb_embedding *e) {
  buf b = {0};
  if (e->n_columns > 1)
    for (size_t c = 0; c < e->n_columns; c++) {
      buf_str(&b, e->column_names[c]);
      buf_put(&b, c + 1 < e->n_columns ? "\t" : "\n", 1);
    }
  for (size_t r = 0; r < e->rows; r++)
    for (size_t c = 0; c < e->n_columns; c++) {
      buf_str(&b, e->columns[c][r]);
      buf_put(&b, c + 1 < e->n_columns ? "\t" : "\n", 1);
    }
  int rc = b.oom ? kcb__error(KCB_ENOMEM, "projector '%s': out of memory", e->name)
                 : write_file(dir, e->name, "metadata.tsv", b.p, b.len);
  free(b.p);
  return rc;
}

/* The sprite: image i at column i % side, row i / side of a side x side grid, the rest blank. It is
 * laid out straight into PNG rows (filter byte 0), encoded and written on a thread of its own while
 * the tensor and the metadata go to disk: deflate and the three fsyncs then overlap. */
typedef struct sprite_job {
  const char *run_dir;
  const kcb_embedding *e;
  int level;
  unsigned char *png;
  size_t png_len;
  int rc;
  char err[512]; /* the worker's error message (messages are per thread) */
} sprite_job;

static void *encode_sprite(void *arg) {
  sprite_job *job = arg;
  const kcb_embedding *e = job->e;
  size_t side = (size_t)ceil(sqrt((double)e->rows));
  while (side * side < e->rows) side++;
  size_t ch = (size_t)e->image_channels, w = (size_t)e->image_width, h = (size_t)e->image_height;
  size_t width = side * w, height = side * h, row_bytes = w * ch, stride = width * ch + 1;
  unsigned char *raw = calloc(height * stride + 1, 1); /* filter bytes 0 and blank cells come zeroed */
  if (!raw) {
    job->rc = kcb__error(KCB_ENOMEM, "projector '%s': out of memory for a %zux%zu sprite", e->name, width, height);
  } else {
    for (size_t i = 0; i < e->rows; i++) {
      const uint8_t *img = e->images + i * h * row_bytes;
      unsigned char *dst = raw + (i / side) * h * stride + 1 + (i % side) * row_bytes;
      for (size_t y = 0; y < h; y++) memcpy(dst + y * stride, img + y * row_bytes, row_bytes);
    }
    job->rc = kcb__png_encode_rows(&job->png, &job->png_len, raw, (uint32_t)width, (uint32_t)height,
                                   e->image_channels, job->level);
    free(raw);
    if (!job->rc) job->rc = write_file(job->run_dir, e->name, "sprite.png", job->png, job->png_len);
  }
  if (job->rc) kcb__strlcpy(job->err, kcb_error_last(), sizeof job->err);
  return NULL;
}

int kcb_projector_write(const char *run_dir, const kcb_embedding *embeddings, size_t n,
                        const kcb_projector_options *opts) {
  kcb_projector_options o = KCB_PROJECTOR_OPTIONS_INIT;
  if (opts) o = *opts;
  if (!run_dir || !*run_dir) return kcb__error(KCB_EINVAL, "projector: empty run directory");
  if (!embeddings || n == 0) return kcb__error(KCB_EINVAL, "projector: no embeddings");
  if (o.png_level < 0 || o.png_level > 9) return kcb__error(KCB_EINVAL, "projector: PNG level %d (0-9)", o.png_level);
  int rc = 0;
  for (size_t i = 0; i < n && !rc; i++) {
    rc = check_name(&embeddings[i], i, embeddings);
    if (!rc) rc = check_embedding(&embeddings[i]);
  }
  if (rc || (rc = kcb__mkdirs(run_dir, "projector"))) return rc;
  buf cfg = {0};
  buf_str(&cfg, "# TensorBoard projector config (text-format ProjectorConfig), written by kcb\n");
  for (size_t i = 0; i < n && !rc; i++) {
    kcb_embedding flat = embeddings[i];
    float *gathered = NULL;
    if (flat.row_data) { /* one contiguous block, as the tensor file holds it */
      if (!(gathered = malloc(flat.rows * flat.dims * sizeof *gathered))) {
        rc = kcb__error(KCB_ENOMEM, "projector '%s': out of memory", flat.name);
        break;
      }
      for (size_t r = 0; r < flat.rows; r++) memcpy(gathered + r * flat.dims, flat.row_data[r], flat.dims * sizeof *gathered);
      flat.data = gathered;
    }
    const kcb_embedding *e = &flat;
    int tsv = 0;
    sprite_job job = {run_dir, e, o.png_level, NULL, 0, 0, ""};
    pthread_t thread;
    int threaded = e->images && pthread_create(&thread, NULL, encode_sprite, &job) == 0;
    rc = write_tensor(run_dir, e, o.format, &tsv);
    if (!rc && e->n_columns) rc = write_metadata(run_dir, e);
    if (threaded) pthread_join(thread, NULL);
    else if (e->images) encode_sprite(&job); /* no thread to be had: encode here */
    free(gathered);
    if (!rc && job.rc) rc = kcb__error(job.rc, "%s", job.err);
    free(job.png);
    if (rc) break;
    buf_str(&cfg, "embeddings {\n  tensor_name: ");
    buf_quoted(&cfg, e->name);
    buf_printf(&cfg, "\n  tensor_shape: %llu\n", e->rows);
    buf_printf(&cfg, "  tensor_shape: %llu\n  tensor_path: ", e->dims);
    /* paths relative to the config's directory: the plugin refuses any that leads outside it */
    buf_path(&cfg, e->name, tsv ? "tensor.tsv" : "tensor.bin");
    if (e->n_columns) {
      buf_str(&cfg, "  metadata_path: ");
      buf_path(&cfg, e->name, "metadata.tsv");
    }
    if (e->images) {
      buf_str(&cfg, "  sprite {\n    image_path: ");
      buf_path(&cfg, e->name, "sprite.png");
      buf_printf(&cfg, "    single_image_dim: %llu\n", (unsigned long long)e->image_width);
      buf_printf(&cfg, "    single_image_dim: %llu\n  }\n", (unsigned long long)e->image_height);
    }
    buf_str(&cfg, "}\n");
  }
  if (!rc && cfg.oom) rc = kcb__error(KCB_ENOMEM, "projector: out of memory");
  if (!rc) {
    char *path = kcb__path_join(run_dir, "projector_config.pbtxt");
    rc = path ? kcb__file_write_atomic(path, cfg.p, cfg.len) : kcb__error(KCB_ENOMEM, "projector: out of memory");
    free(path);
  }
  free(cfg.p);
  return rc;
}

/* ---- reading a config back (kcb-inspect) ------------------------------------------------------ */

/* A tokenizer for the text format: identifiers/numbers, strings, and the punctuation : { } < >. */
typedef struct lexer {
  const char *p, *end;
  char tok[1024];
  int kind; /* 0 end, 'a' word, '"' string, or the punctuation character */
} lexer;

static int next_token(lexer *lx) {
  for (;;) {
    while (lx->p < lx->end && strchr(" \t\r\n,;", *lx->p)) lx->p++;
    if (lx->p < lx->end && *lx->p == '#') {
      while (lx->p < lx->end && *lx->p != '\n') lx->p++;
      continue;
    }
    break;
  }
  lx->tok[0] = '\0';
  if (lx->p >= lx->end) return lx->kind = 0;
  char c = *lx->p;
  if (strchr(":{}<>[]", c)) {
    lx->p++;
    return lx->kind = c;
  }
  size_t n = 0;
  if (c == '"' || c == '\'') {
    lx->p++;
    while (lx->p < lx->end && *lx->p != c) {
      char ch = *lx->p++;
      if (ch == '\\' && lx->p < lx->end) {
        ch = *lx->p++;
        if (ch >= '0' && ch <= '7') {
          int v = ch - '0';
          for (int k = 0; k < 2 && lx->p < lx->end && *lx->p >= '0' && *lx->p <= '7'; k++) v = v * 8 + (*lx->p++ - '0');
          ch = (char)v;
        } else if (ch == 'n') ch = '\n';
        else if (ch == 't') ch = '\t';
        else if (ch == 'r') ch = '\r';
      }
      if (n + 1 < sizeof lx->tok) lx->tok[n++] = ch;
    }
    if (lx->p >= lx->end) return lx->kind = -1;
    lx->p++;
    lx->tok[n] = '\0';
    return lx->kind = '"';
  }
  while (lx->p < lx->end && !strchr(" \t\r\n,;:{}<>[]\"'#", *lx->p)) {
    if (n + 1 < sizeof lx->tok) lx->tok[n++] = *lx->p;
    lx->p++;
  }
  lx->tok[n] = '\0';
  return lx->kind = n ? 'a' : -1;
}

/* Skips one field's value (after its name): a scalar or a nested message. */
static int skip_value(lexer *lx, int depth) {
  if (depth > 64) return -1;
  if (lx->kind == ':') next_token(lx);
  if (lx->kind == '{' || lx->kind == '<') {
    int close = lx->kind == '{' ? '}' : '>';
    next_token(lx);
    while (lx->kind != close) {
      if (lx->kind != 'a') return -1;
      next_token(lx);
      if (skip_value(lx, depth + 1)) return -1;
    }
    next_token(lx);
    return 0;
  }
  if (lx->kind == '[') {
    while (lx->kind != ']' && lx->kind > 0) next_token(lx);
    if (lx->kind != ']') return -1;
    next_token(lx);
    return 0;
  }
  if (lx->kind != 'a' && lx->kind != '"') return -1;
  next_token(lx);
  while (lx->kind == '"') next_token(lx); /* adjacent strings concatenate */
  return 0;
}

static long long count_tsv(const char *path, long long *first_cols, char *header, size_t header_size,
                           size_t *n_header_cols) {
  FILE *f = NULL;
  if (kcb__file_fopen_read(path, NULL, &f)) return -1; /* regular files only: a FIFO must not hang us */
  long long rows = 0;
  char line[65536];
  int first = 1;
  *first_cols = 0; /* header keeps the caller's default unless the first line has several columns */
  while (fgets(line, sizeof line, f)) {
    size_t len = strlen(line);
    int complete = len && line[len - 1] == '\n';
    if (blank(line, len)) continue;
    if (first) {
      long long cols = 1;
      for (char *p = line; *p; p++) cols += *p == '\t';
      *first_cols = cols;
      if (header && cols > 1) {
        line[strcspn(line, "\r\n")] = '\0';
        size_t o = 0;
        for (char *p = line; *p && o + 3 < header_size; p++) {
          if (*p == '\t') {
            header[o++] = ',';
            header[o++] = ' ';
          } else
            header[o++] = *p;
        }
        header[o] = '\0';
        *n_header_cols = (size_t)cols;
        first = 0;
        while (!complete && fgets(line, sizeof line, f)) complete = strchr(line, '\n') != NULL;
        continue;
      }
      first = 0;
    }
    rows++;
    while (!complete && fgets(line, sizeof line, f)) complete = strchr(line, '\n') != NULL;
  }
  fclose(f);
  return rows;
}

/* A TSV tensor as the projector reads it (each non-empty line split at tabs, every cell a Python
 * float, the rows into one 2-D array): its shape, or a problem naming the first line it cannot take.
 * @return 0, or -1 with `problem` filled. */
static int tsv_tensor_shape(const unsigned char *bytes, size_t n, long long *rows, long long *cols, char *problem,
                            size_t size) {
  *rows = 0, *cols = 0;
  long long line_no = 0;
  for (size_t at = 0; at < n;) {
    const unsigned char *end = memchr(bytes + at, '\n', n - at);
    size_t len = end ? (size_t)(end - (bytes + at)) : n - at, next = at + len + 1;
    line_no++;
    if (len == 0) {
      at = next;
      continue;
    }
    long long c = 0;
    for (size_t start = at; start <= at + len; c++) { /* each cell: [start, tab) */
      const unsigned char *tab = memchr(bytes + start, '\t', at + len - start);
      size_t cell_end = tab ? (size_t)(tab - bytes) : at + len;
      size_t cl = cell_end - start;
      char small[64], *cell = cl < sizeof small ? small : malloc(cl + 1); /* Python's float() takes any length */
      int number = cell != NULL && !memchr(bytes + start, '\0', cl);
      if (number) {
        memcpy(cell, bytes + start, cl);
        cell[cl] = '\0';
        double ignored;
        number = kcb__parse_python_float(cell, &ignored) == 0; /* the projector reads cells with float() */
      }
      if (cell != small) free(cell);
      if (!number) {
        snprintf(problem, size, "TSV tensor line %lld, column %lld is not a number", line_no, c + 1);
        return -1;
      }
      start = cell_end + 1;
    }
    if (*rows == 0) *cols = c;
    else if (c != *cols) {
      snprintf(problem, size, "TSV tensor line %lld has %lld values, the first row %lld", line_no, c, *cols);
      return -1;
    }
    (*rows)++;
    at = next;
  }
  return 0;
}

/* Python's os.path.realpath, which needs no file: the longest prefix of `path` that exists,
 * resolved (links followed), then the rest with "." dropped and ".." taking a component off.
 * @return 0, or -1 when no prefix resolves or the result does not fit. */
static int real_path_lenient(const char *path, char *out, size_t size) {
  char head[2 * PATH_MAX], real[PATH_MAX];
  if (strlen(path) >= sizeof head) return -1;
  strcpy(head, path);
  size_t cut = strlen(head);
  while (!realpath(head, real)) { /* take components off the end until what is left exists */
    char *slash = strrchr(head, '/');
    if (!slash) return -1;
    *slash = '\0';
    cut = (size_t)(slash - head);
    if (slash == head) {
      strcpy(real, "/");
      break;
    }
  }
  if (strlen(real) >= size) return -1;
  strcpy(out, real);
  for (const char *p = path + cut; *p;) { /* the components that do not exist yet */
    while (*p == '/') p++;
    size_t n = strcspn(p, "/");
    if (n == 0) break;
    if (n == 2 && p[0] == '.' && p[1] == '.') {
      char *last = strrchr(out, '/');
      if (last) *(last == out ? last + 1 : last) = '\0';
    } else if (!(n == 1 && p[0] == '.')) {
      size_t len = strlen(out);
      if (len + 1 + n >= size) return -1;
      snprintf(out + len, size - len, "%s%.*s", len > 1 ? "/" : "", (int)n, p);
    }
    p += n;
  }
  return 0;
}

/* Where a config path leads, as TensorBoard's projector resolves it: ~ is the home directory, a
 * relative path is the config's directory's, links are followed, the file need not exist; it must
 * stay inside the config's directory (real path), or the plugin refuses it.
 * @return 1 inside (*out the resolved path), 0 outside. */
static int resolve_inside(const char *run_dir, const char *p, char *out, size_t size) {
  char dir[PATH_MAX], cand[2 * PATH_MAX], res[PATH_MAX];
  if (!realpath(run_dir, dir)) kcb__strlcpy(dir, run_dir, sizeof dir);
  /* TensorBoard expands every path as os.path.expanduser does: "~" and "~user" lead to home directories */
  const char *home = NULL, *rest = p;
  char user[256], pwbuf[4096];
  struct passwd pw, *found = NULL;
  if (p[0] == '~') {
    size_t ulen = strcspn(p + 1, "/");
    if (ulen == 0) home = getenv("HOME");
    else if (ulen < sizeof user) {
      memcpy(user, p + 1, ulen);
      user[ulen] = '\0';
      if (getpwnam_r(user, &pw, pwbuf, sizeof pwbuf, &found) == 0 && found) home = found->pw_dir;
    }
    if (home) rest = p + 1 + ulen;
  }
  if (home) snprintf(cand, sizeof cand, "%s%s", home, rest);
  else if (p[0] == '/') snprintf(cand, sizeof cand, "%s", p);
  else snprintf(cand, sizeof cand, "%s/%s", dir, p);
  if (real_path_lenient(cand, res, sizeof res) != 0) return 0;
  size_t n = strlen(dir);
  int inside = !strcmp(dir, "/") || (!strncmp(res, dir, n) && (res[n] == '/' || res[n] == '\0'));
  if (inside) kcb__strlcpy(out, res, size);
  return inside;
}

/* What kcb_projector_read reads of the files of all embeddings together: a config naming one large
 * file in thousands of embeddings must not read it thousands of times. */
#define PROJECTOR_READ_BUDGET ((unsigned long long)512 << 20)
/* ... and how many embeddings it lists (each takes 2.4 KB of kcb_projector_embedding_info) */
#define PROJECTOR_MAX_EMBEDDINGS 10000

static void inspect_files(const char *run_dir, kcb_projector_embedding_info *e, const char *metadata_path,
                          const char *sprite_path, unsigned long long *bytes_read) {
  char resolved[3][PATH_MAX];
  const char *paths[3] = {e->tensor_path, metadata_path, sprite_path};
  for (int i = 0; i < 3; i++)
    if (*paths[i] && !resolve_inside(run_dir, paths[i], resolved[i], sizeof resolved[i])) {
      snprintf(e->problem, sizeof e->problem, "path '%.400s' resolves outside the config's directory (TensorBoard refuses it)",
               paths[i]);
      e->metadata_rows = -1;
      return;
    }
  for (int i = 0; i < 2; i++) {
    struct stat st;
    if (*paths[i] && stat(resolved[i], &st) == 0 && S_ISREG(st.st_mode)) *bytes_read += (unsigned long long)st.st_size;
  }
  const char *path;
  if (*bytes_read > PROJECTOR_READ_BUDGET) {
    snprintf(e->problem, sizeof e->problem, "not checked: the files of the embeddings up to this one add up to more than "
             "%llu MiB, what kcb reads of a projector config's files", PROJECTOR_READ_BUDGET >> 20);
    e->metadata_rows = -1;
    return;
  }
  size_t len = strlen(e->tensor_path);
  if (len) {
    path = resolved[0];
    FILE *f = NULL;
    if (kcb__file_fopen_read(path, NULL, &f)) {
      snprintf(e->problem, sizeof e->problem, "tensor file: %.400s", kcb_error_last());
    } else {
      fseek(f, 0, SEEK_END);
      long size = ftell(f);
      rewind(f);
      if (size > (1L << 30)) { /* kcb-inspect reads it whole to decide its format, as the plugin does */
        snprintf(e->problem, sizeof e->problem, "tensor file of %ld bytes: too large for kcb to check", size);
        size = -1;
      }
      unsigned char *bytes = size > 0 ? malloc((size_t)size) : NULL;
      size_t got = bytes ? fread(bytes, 1, (size_t)size, f) : 0;
      fclose(f);
      if (bytes && got == (size_t)size && !valid_utf8(bytes, got)) {
        kcb__strlcpy(e->format, "binary", sizeof e->format);
        size_t valid = utf8_valid_prefix(bytes, got);
        if (valid >= tensor_first_decode(bytes, got)) /* TensorBoard parses the start as TSV, then fails */
          snprintf(e->problem, sizeof e->problem, "binary tensor whose first %s decodes as UTF-8 text (byte %zu does not): "
                   "TensorBoard reads it as TSV and fails", memchr(bytes, '\n', valid) ? "line" : "16 MiB", valid);
        else if (e->rows < 0 || e->dims < 0)
          snprintf(e->problem, sizeof e->problem, "binary tensor without a 2-D tensor_shape");
        else if ((double)got != 4.0 * (double)e->rows * (double)e->dims) /* a hostile shape must not overflow */
          snprintf(e->problem, sizeof e->problem, "binary tensor of %zu bytes, but tensor_shape [%lld, %lld] needs %.0f",
                   got, e->rows, e->dims, 4.0 * (double)e->rows * (double)e->dims);
      } else if (bytes || size == 0) {
        kcb__strlcpy(e->format, "tsv", sizeof e->format);
        long long rows = 0, cols = 0;
        kcb__c_numbers numbers = kcb__c_numbers_begin(); /* a file's numbers, whatever the program's LC_NUMERIC */
        int shaped = tsv_tensor_shape(bytes, got, &rows, &cols, e->problem, sizeof e->problem) == 0;
        kcb__c_numbers_end(numbers);
        if (shaped) {
          /* the tensor is the file's; a tensor_shape beside it cuts the points where the page looks */
          if (e->rows >= 0 && (rows != e->rows || (e->dims >= 0 && cols != e->dims)))
            snprintf(e->problem, sizeof e->problem, "TSV tensor is %lld x %lld, tensor_shape says [%lld, %lld]", rows, cols,
                     e->rows, e->dims);
          e->rows = rows, e->dims = cols;
        }
      }
      free(bytes);
    }
  }
  e->metadata_rows = -1;
  if (*metadata_path) {
    path = resolved[1];
    long long cols = 0;
    e->n_metadata_columns = 1;
    kcb__strlcpy(e->metadata_columns, "label", sizeof e->metadata_columns);
    e->metadata_rows = count_tsv(path, &cols, e->metadata_columns, sizeof e->metadata_columns, &e->n_metadata_columns);
    if (e->metadata_rows < 0 && !e->problem[0])
      snprintf(e->problem, sizeof e->problem, "metadata file: %.400s", kcb_error_last());
    else if (e->rows >= 0 && e->metadata_rows != e->rows && !e->problem[0])
      snprintf(e->problem, sizeof e->problem, "metadata has %lld rows, the tensor %lld", e->metadata_rows, e->rows);
  }
  if (*sprite_path) {
    path = resolved[2];
    FILE *f = NULL;
    unsigned char h[24];
    if (kcb__file_fopen_read(path, NULL, &f) == 0 && fread(h, 1, 24, f) == 24 && memcmp(h + 1, "PNG", 3) == 0) {
      uint32_t w = (uint32_t)h[16] << 24 | (uint32_t)h[17] << 16 | (uint32_t)h[18] << 8 | h[19];
      uint32_t ht = (uint32_t)h[20] << 24 | (uint32_t)h[21] << 16 | (uint32_t)h[22] << 8 | h[23];
      e->sprite_width = w > 1000000000u ? 1000000000 : (int)w; /* a crafted header stays positive */
      e->sprite_height = ht > 1000000000u ? 1000000000 : (int)ht;
      if ((e->sprite_width > KCB_PROJECTOR_MAX_SPRITE_PX || e->sprite_height > KCB_PROJECTOR_MAX_SPRITE_PX) &&
          !e->problem[0])
        snprintf(e->problem, sizeof e->problem, "sprite %dx%d exceeds TensorBoard's %dx%d", e->sprite_width,
                 e->sprite_height, KCB_PROJECTOR_MAX_SPRITE_PX, KCB_PROJECTOR_MAX_SPRITE_PX);
    } else if (!e->problem[0]) {
      snprintf(e->problem, sizeof e->problem, "sprite %.300s is missing or not a PNG", sprite_path);
    }
    if (f) fclose(f);
  }
}

/* Parses one EmbeddingInfo body (after its '{'). */
/* A string field's value: adjacent strings join, as in protobuf's text format ("a/" "t.bin"). */
static void take_string(lexer *lx, char *out, size_t size) {
  out[0] = '\0';
  while (lx->kind == '"') {
    size_t have = strlen(out);
    if (have + 1 < size) kcb__strlcpy(out + have, lx->tok, size - have);
    next_token(lx);
  }
}

/* A repeated integer field's values, given one at a time or as a list ("[3, 2]"): stored from
 * vals[*n] on (at most max), *n counting them all. @return 0, or -1 for a malformed list. */
static int take_ints(lexer *lx, long long *vals, int *n, int max) {
  int list = lx->kind == '[';
  if (list) next_token(lx);
  do {
    if (lx->kind != 'a') return list && lx->kind == ']' ? (next_token(lx), 0) : -1;
    if (*n < max) vals[*n] = atoll(lx->tok);
    (*n)++;
    next_token(lx);
  } while (list && lx->kind != ']');
  if (list) next_token(lx);
  return 0;
}

static int parse_embedding(lexer *lx, kcb_projector_embedding_info *e, char *metadata_path, char *sprite_path,
                           size_t path_size) {
  int shape_n = 0, dim_n = 0;
  long long shape[2] = {-1, -1}, dim[2] = {0, 0};
  while (lx->kind != '}' && lx->kind != '>') {
    if (lx->kind != 'a') return -1;
    char field[64];
    kcb__strlcpy(field, lx->tok, sizeof field);
    next_token(lx);
    if (strcmp(field, "sprite") == 0) {
      if (lx->kind == ':') next_token(lx);
      if (lx->kind != '{' && lx->kind != '<') return -1;
      next_token(lx);
      while (lx->kind != '}' && lx->kind != '>') {
        if (lx->kind != 'a') return -1;
        char sub[64];
        kcb__strlcpy(sub, lx->tok, sizeof sub);
        next_token(lx);
        if (lx->kind == ':') next_token(lx);
        if (strcmp(sub, "image_path") == 0 && lx->kind == '"') {
          take_string(lx, sprite_path, path_size);
        } else if (strcmp(sub, "single_image_dim") == 0 && (lx->kind == 'a' || lx->kind == '[')) {
          if (take_ints(lx, dim, &dim_n, 2)) return -1;
        } else if (skip_value(lx, 0))
          return -1;
      }
      next_token(lx);
      continue;
    }
    if (lx->kind == ':') next_token(lx);
    if (strcmp(field, "tensor_name") == 0 && lx->kind == '"') {
      take_string(lx, e->tensor_name, sizeof e->tensor_name);
    } else if (strcmp(field, "tensor_path") == 0 && lx->kind == '"') {
      take_string(lx, e->tensor_path, sizeof e->tensor_path);
    } else if (strcmp(field, "metadata_path") == 0 && lx->kind == '"') {
      take_string(lx, metadata_path, path_size);
    } else if (strcmp(field, "tensor_shape") == 0 && (lx->kind == 'a' || lx->kind == '[')) {
      if (take_ints(lx, shape, &shape_n, 2)) return -1;
    } else if (lx->kind == '"' || lx->kind == 'a' || lx->kind == '{' || lx->kind == '<' || lx->kind == '[') {
      if (skip_value(lx, 0)) return -1;
    } else
      return -1;
  }
  next_token(lx);
  e->rows = shape_n == 2 ? shape[0] : -1, e->dims = shape_n == 2 ? shape[1] : -1;
  if (dim_n >= 1) e->single_image_width = (int)dim[0];
  if (dim_n >= 2) e->single_image_height = (int)dim[1];
  return 0;
}

int kcb_projector_read(const char *run_dir, kcb_projector_embedding_info **out, size_t *n) {
  if (!run_dir || !out || !n) return kcb__error(KCB_EINVAL, "projector: %s is NULL", !run_dir ? "run_dir" : !out ? "out" : "n");
  *out = NULL;
  *n = 0;
  char path[4096];
  snprintf(path, sizeof path, "%s/projector_config.pbtxt", run_dir);
  FILE *f = NULL;
  int rc0 = kcb__file_fopen_read(path, "projector", &f);
  if (rc0) return rc0;
  buf text = {0};
  char chunk[8192];
  size_t got;
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0 && text.len < (64u << 20)) buf_put(&text, chunk, got);
  fclose(f);
  if (text.oom) {
    free(text.p);
    return kcb__error(KCB_ENOMEM, "%s: out of memory", path);
  }
  lexer lx = {text.p ? text.p : "", (text.p ? text.p : "") + text.len, {0}, 0};
  kcb_projector_embedding_info *list = NULL;
  size_t count = 0, cap = 0;
  unsigned long long bytes_read = 0;
  int rc = 0;
  next_token(&lx);
  while (lx.kind > 0 && !rc) {
    if (lx.kind != 'a') {
      rc = -1;
      break;
    }
    if (strcmp(lx.tok, "embeddings") != 0) {
      next_token(&lx);
      if (skip_value(&lx, 0)) rc = -1;
      continue;
    }
    next_token(&lx);
    if (lx.kind == ':') next_token(&lx);
    if (lx.kind != '{' && lx.kind != '<') {
      rc = -1;
      break;
    }
    next_token(&lx);
    if (count == PROJECTOR_MAX_EMBEDDINGS) {
      free(list);
      free(text.p);
      return kcb__error(KCB_EFORMAT, "%s: more than %d embeddings, all kcb reads of a projector config", path,
                        PROJECTOR_MAX_EMBEDDINGS);
    }
    if (count == cap) { /* doubling: a config of many embeddings is read in linear time */
      cap = cap ? 2 * cap : 8;
      kcb_projector_embedding_info *grown = realloc(list, cap * sizeof *list);
      if (!grown) {
        free(list);
        free(text.p);
        return kcb__error(KCB_ENOMEM, "%s: out of memory", path);
      }
      list = grown;
    }
    kcb_projector_embedding_info *e = &list[count++];
    memset(e, 0, sizeof *e);
    char metadata_path[1024] = "", sprite_path[1024] = "";
    if (parse_embedding(&lx, e, metadata_path, sprite_path, sizeof metadata_path)) {
      rc = -1;
      break;
    }
    inspect_files(run_dir, e, metadata_path, sprite_path, &bytes_read);
  }
  /* the projector takes a tensor name with and without ":0" for one tensor: a later one of the same
   * name is shown the first one's data */
  for (size_t i = 0; !rc && i < count; i++) {
    size_t len = strlen(list[i].tensor_name), base = len > 2 && !strcmp(list[i].tensor_name + len - 2, ":0") ? len - 2 : len;
    for (size_t j = 0; j < i && !list[i].problem[0]; j++) {
      size_t other = strlen(list[j].tensor_name);
      size_t other_base = other > 2 && !strcmp(list[j].tensor_name + other - 2, ":0") ? other - 2 : other;
      if (base == other_base && strncmp(list[j].tensor_name, list[i].tensor_name, base) == 0)
        snprintf(list[i].problem, sizeof list[i].problem, "the projector takes '%.150s' for the embedding '%.150s' before "
                 "it (a name with and without \":0\" is one tensor) and shows that one's data", list[i].tensor_name,
                 list[j].tensor_name);
    }
  }
  free(text.p);
  if (rc) {
    free(list);
    return kcb__error(KCB_EFORMAT, "%s: not a text-format ProjectorConfig (near '%s')", path, lx.tok);
  }
  *out = list;
  *n = count;
  return 0;
}
