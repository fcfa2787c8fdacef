/* io/csv.c — CSV rows as Python's csv module writes them (excel dialect), and a reader of tables of
 * numbers with clear errors. */
#include "io/csv.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* ---- writing ----------------------------------------------------------------------------- */

void kcb__csv_row_init(kcb__csv_row *r, char separator) {
  memset(r, 0, sizeof *r);
  r->separator = separator;
}

static int reserve(kcb__csv_row *r, size_t extra) {
  if (r->len + extra + 1 <= r->cap) return 0;
  size_t cap = r->cap ? r->cap : 256;
  while (cap < r->len + extra + 1) cap *= 2;
  char *p = realloc(r->text, cap);
  if (!p) return kcb__error(KCB_ENOMEM, "CSV: out of memory for a row of %zu bytes", r->len + extra);
  r->text = p;
  r->cap = cap;
  return 0;
}

int kcb__csv_row_add_text(kcb__csv_row *r, const char *field) {
  size_t n = strlen(field);
  int quote = 0;
  for (size_t i = 0; i < n && !quote; i++)
    quote = field[i] == r->separator || field[i] == '"' || field[i] == '\r' || field[i] == '\n';
  int rc = reserve(r, 2 * n + 3);
  if (rc) return rc;
  if (r->n_fields++) r->text[r->len++] = r->separator;
  if (quote) r->text[r->len++] = '"';
  for (size_t i = 0; i < n; i++) {
    if (field[i] == '"') r->text[r->len++] = '"'; /* doublequote=True */
    r->text[r->len++] = field[i];
  }
  if (quote) r->text[r->len++] = '"';
  r->text[r->len] = '\0';
  return 0;
}

int kcb__csv_row_add_number(kcb__csv_row *r, double v) {
  char buf[40];
  return kcb__csv_row_add_text(r, kcb_format_double(v, buf, sizeof buf));
}

int kcb__csv_row_add_int(kcb__csv_row *r, long long v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%lld", v);
  return kcb__csv_row_add_text(r, buf);
}

int kcb__csv_row_add_list(kcb__csv_row *r, const float *values, size_t n) {
  size_t cap = 8 + n * 34, len = 0; /* quotes, brackets, NUL; per value ", " and up to 32 characters */
  char *s = malloc(cap);
  if (!s) return kcb__error(KCB_ENOMEM, "CSV: out of memory for a list of %zu values", n);
  len += (size_t)snprintf(s + len, cap - len, "\"[");
  for (size_t i = 0; i < n; i++) {
    char buf[40];
    len += (size_t)snprintf(s + len, cap - len, "%s%s", i ? ", " : "", kcb__format_float32(values[i], buf, sizeof buf));
  }
  snprintf(s + len, cap - len, "]\"");
  int rc = kcb__csv_row_add_text(r, s);
  free(s);
  return rc;
}

int kcb__csv_row_write(kcb__csv_row *r, FILE *f, const char *path) {
  int rc = reserve(r, 2);
  if (rc) return rc;
  r->text[r->len++] = '\r';
  r->text[r->len++] = '\n';
  size_t len = r->len;
  r->len = 0;
  r->n_fields = 0;
  /* One write() of the whole row, past stdio's buffer: a crash leaves the row whole or absent, and a
   * failed or short write (disk full) is cut back off, so the file only ever holds whole rows. */
  int fd = fileno(f);
  off_t start = lseek(fd, 0, SEEK_END);
  rc = kcb__write_all(fd, r->text, len, path);
  if (rc) {
    char cause[256];
    kcb__strlcpy(cause, strerror(errno ? errno : EIO), sizeof cause);
    if (start >= 0 && ftruncate(fd, start) != 0) { /* the error below already says the row is lost */ }
    return kcb__error(rc, "CSV: cannot write to %s: %s", path, cause);
  }
  return 0;
}

void kcb__csv_row_free(kcb__csv_row *r) {
  free(r->text);
  memset(r, 0, sizeof *r);
}

/* ---- reading ----------------------------------------------------------------------------- */

/* "[...]" or '"[...]"': a list, which CSVLogger writes for a log that is not a scalar. */
static int is_list(const char *field) {
  size_t n = strlen(field);
  if (n >= 2 && field[0] == '"' && field[n - 1] == '"') field++, n -= 2;
  return n >= 2 && field[0] == '[' && field[n - 1] == ']';
}

/* A cell with no value (CSVLogger's "NA" for a key an epoch did not log, an empty field, a list):
 * a NaN, as the API says, whose payload tells it from a logged "nan" (a run that diverged). */
#define MISSING_BITS 0x7ff84e4100000000ull /* "NA" in the payload */

double kcb__csv_missing(void) {
  uint64_t bits = MISSING_BITS;
  double v;
  memcpy(&v, &bits, sizeof v);
  return v;
}

int kcb__csv_is_missing(double v) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  return bits == MISSING_BITS;
}

/* A CSV value as Python's csv + float() read it; "" and NA are missing, as pandas reads them. */
static int parse_number(const char *s, double *out) {
  const char *t = s + strspn(s, " \t");
  if (*t == '\0' || strcmp(t, "NA") == 0) {
    *out = kcb__csv_missing();
    return 0;
  }
  return kcb__parse_python_float(s, out);
}

static char *read_all(const char *path, size_t *out_len, int *rc) {
  FILE *f;
  if ((*rc = kcb__file_fopen_read(path, "CSV", &f)) != 0) return NULL;
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  while (buf) {
    len += fread(buf + len, 1, cap - len - 1, f);
    if (len < cap - 1) break;
    char *p = realloc(buf, cap * 2);
    if (!p) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = p;
    cap *= 2;
  }
  int failed = ferror(f);
  fclose(f);
  if (!buf) {
    *rc = kcb__error(KCB_ENOMEM, "CSV: out of memory reading %s", path);
    return NULL;
  }
  if (failed) {
    free(buf);
    *rc = kcb__error(KCB_EIO, "CSV: cannot read %s", path);
    return NULL;
  }
  buf[len] = '\0';
  *out_len = len;
  return buf;
}

/* The state of a parse: a cursor over the file's text and the current line (1-based). */
typedef struct csv_parser {
  const char *path;
  const char *p, *end;
  long line;
  char sep;
  char *field;      /* the current field, unquoted */
  size_t field_len, field_cap;
} csv_parser;

static int field_push(csv_parser *ps, char c) {
  if (ps->field_len + 2 > ps->field_cap) {
    size_t cap = ps->field_cap ? ps->field_cap * 2 : 64;
    char *q = realloc(ps->field, cap);
    if (!q) return kcb__error(KCB_ENOMEM, "CSV: out of memory reading %s", ps->path);
    ps->field = q;
    ps->field_cap = cap;
  }
  ps->field[ps->field_len++] = c;
  ps->field[ps->field_len] = '\0';
  return 0;
}

/* Reads one field into ps->field. *last is set when the field ends its record (line end or EOF). */
static int next_field(csv_parser *ps, int *last) {
  int rc = 0;
  long start_line = ps->line;
  ps->field_len = 0;
  if (field_push(ps, '\0')) return KCB_ENOMEM;
  ps->field_len = 0;
  ps->field[0] = '\0';
  if (ps->p < ps->end && *ps->p == '"') {
    ps->p++;
    for (;;) {
      if (ps->p >= ps->end)
        return kcb__error(KCB_EFORMAT, "%s:%ld: a quoted field is not closed before the end of the file", ps->path, start_line);
      char c = *ps->p++;
      if (c == '"') {
        if (ps->p < ps->end && *ps->p == '"') {
          ps->p++;
        } else {
          break;
        }
      }
      if (c == '\n') ps->line++;
      if ((rc = field_push(ps, c))) return rc;
    }
    if (ps->p < ps->end && *ps->p != ps->sep && *ps->p != '\r' && *ps->p != '\n')
      return kcb__error(KCB_EFORMAT, "%s:%ld: unexpected '%c' after a closing quote", ps->path, ps->line, *ps->p);
  } else {
    while (ps->p < ps->end && *ps->p != ps->sep && *ps->p != '\r' && *ps->p != '\n') {
      if (*ps->p == '"')
        return kcb__error(KCB_EFORMAT, "%s:%ld: a quote inside an unquoted field", ps->path, ps->line);
      if ((rc = field_push(ps, *ps->p++))) return rc;
    }
  }
  *last = 1;
  if (ps->p < ps->end && *ps->p == ps->sep) {
    ps->p++;
    *last = 0;
  } else if (ps->p < ps->end) {
    if (*ps->p == '\r') ps->p++;
    if (ps->p < ps->end && *ps->p == '\n') ps->p++;
    ps->line++;
  }
  return 0;
}

static int grow_array(void **p, size_t *cap, size_t need, size_t elem, const char *path) {
  if (need <= *cap) return 0;
  size_t cap2 = *cap ? *cap * 2 : 16;
  while (cap2 < need) cap2 *= 2;
  void *q = realloc(*p, cap2 * elem);
  if (!q) return kcb__error(KCB_ENOMEM, "CSV: out of memory reading %s", path);
  *p = q;
  *cap = cap2;
  return 0;
}

static char detect_separator(const char *text, const char *end) {
  /* a CSVLogger's log begins "epoch" and its separator, whichever character that is: taken when
   * the header line holds none of the usual ones (a header "epoch-x,loss" is split at its ',') */
  const char *line_end = text;
  while (line_end < end && *line_end != '\n' && *line_end != '\r') line_end++;
  int usual = 0;
  for (const char *p = text; p < line_end; p++) usual |= *p == ',' || *p == ';' || *p == '\t' || *p == '|';
  if (!usual && end - text > 5 && !memcmp(text, "epoch", 5) && text[5] != '"' && text[5] != '\r' && text[5] != '\n' &&
      !isalnum((unsigned char)text[5]) && text[5] != '_' && (unsigned char)text[5] < 0x80)
    return text[5];
  int quoted = 0;
  for (const char *p = text; p < end && (quoted || (*p != '\n' && *p != '\r')); p++) {
    if (*p == '"') quoted = !quoted;
    else if (!quoted && (*p == ',' || *p == ';' || *p == '\t' || *p == '|')) return *p;
  }
  return ',';
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Two columns of one name: which one a reader meant would be undefined. Sorted copies of the
 * names (a hostile header may have a million columns: no pairwise comparison). */
static int check_unique_columns(const kcb_csv_table *t, const char *path) {
  char **sorted = malloc((t->n_columns + 1) * sizeof *sorted);
  if (!sorted) return kcb__error(KCB_ENOMEM, "CSV: out of memory reading %s", path);
  memcpy(sorted, t->columns, t->n_columns * sizeof *sorted);
  qsort(sorted, t->n_columns, sizeof *sorted, cmp_name);
  int rc = 0;
  for (size_t i = 1; i < t->n_columns && !rc; i++)
    if (strcmp(sorted[i - 1], sorted[i]) == 0) {
      size_t first = (size_t)kcb_csv_table_column(t, sorted[i]), second = first + 1;
      while (strcmp(t->columns[second], sorted[i]) != 0) second++;
      rc = kcb__error(KCB_EFORMAT, "%s:1: columns %zu and %zu are both named '%s'", path, first + 1, second + 1, sorted[i]);
    }
  free(sorted);
  return rc;
}

int kcb_csv_table_read(kcb_csv_table *out, const char *path, char separator) {
  int rc = 0, last = 0;
  size_t len = 0, cap_cols = 0, cap_values = 0;
  if (!out || !path) return kcb__error(KCB_EINVAL, "kcb_csv_table_read: %s is NULL", out ? "the path" : "out");
  memset(out, 0, sizeof *out);
  char *text = read_all(path, &len, &rc);
  if (!text) return rc;
  const char *nul = memchr(text, '\0', len);
  if (nul) { /* text, not binary data: a NUL would cut a cell or a column name short */
    long line = 1;
    for (const char *p = text; p < nul; p++) line += *p == '\n';
    rc = kcb__error(KCB_EFORMAT, "%s:%ld: a NUL byte (at offset %zu): not a text file", path, line, (size_t)(nul - text));
    free(text);
    return rc;
  }
  csv_parser ps = {path, text, text + len, 1, separator, NULL, 0, 0};
  if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) ps.p += 3; /* a UTF-8 byte order mark */
  if (!separator) ps.sep = detect_separator(ps.p, ps.end);
  out->separator = ps.sep;
  if (ps.p >= ps.end || *ps.p == '\r' || *ps.p == '\n')
    KCB__TRY(kcb__error(KCB_EFORMAT, "%s:1: no header row (the file %s)", path, len ? "starts with an empty line" : "is empty"));
  do {
    KCB__TRY(next_field(&ps, &last));
    KCB__TRY(grow_array((void **)&out->columns, &cap_cols, out->n_columns + 1, sizeof *out->columns, path));
    if (!(out->columns[out->n_columns] = strdup(ps.field))) KCB__TRY(kcb__error(KCB_ENOMEM, "CSV: out of memory reading %s", path));
    out->n_columns++;
  } while (!last);
  if (ps.p >= ps.end && ps.end[-1] != '\n' && ps.end[-1] != '\r') /* a writer ends the header's line before any row */
    KCB__TRY(kcb__error(KCB_EFORMAT, "%s:1: the file ends inside its header row (no line end, no rows): it was cut short",
                        path));
  KCB__TRY(check_unique_columns(out, path));
  const int epoch_col = kcb_csv_table_column(out, "epoch"); /* CSVLogger's: 0, 1, 2, ... */
  while (ps.p < ps.end) {
    long line = ps.line;
    if (*ps.p == '\r' || *ps.p == '\n') { /* an empty line: the csv module skips it too */
      if (*ps.p == '\r') ps.p++;
      if (ps.p < ps.end && *ps.p == '\n') ps.p++;
      ps.line++;
      continue;
    }
    KCB__TRY(grow_array((void **)&out->values, &cap_values, (out->n_rows + 1) * out->n_columns, sizeof *out->values, path));
    double *row = out->values + out->n_rows * out->n_columns;
    size_t col = 0;
    do {
      KCB__TRY(next_field(&ps, &last));
      if (col < out->n_columns && (int)col != epoch_col && is_list(ps.field))
        row[col] = kcb__csv_missing(); /* CSVLogger's text of a value that is not one number: '"[1.5, 2.0]"' */
      else if (col < out->n_columns && parse_number(ps.field, &row[col]) != 0)
        KCB__TRY(kcb__error(KCB_EFORMAT, "%s:%ld: column %zu ('%.*s%s'): '%.*s%s' is not a number", path, line, col + 1,
                            kcb__utf8_prefix(out->columns[col], 64), out->columns[col],
                            strlen(out->columns[col]) > 64 ? "..." : "", kcb__utf8_prefix(ps.field, 64), ps.field,
                            strlen(ps.field) > 64 ? "..." : ""));
      col++;
    } while (!last);
    if (col != out->n_columns)
      KCB__TRY(kcb__error(KCB_EFORMAT, "%s:%ld: %zu fields, but the header has %zu columns", path, line, col,
                          out->n_columns));
    if (epoch_col >= 0 && !(row[epoch_col] >= 0 && row[epoch_col] <= 1e15 && row[epoch_col] == floor(row[epoch_col])))
      KCB__TRY(kcb__error(KCB_EFORMAT, "%s:%ld: epoch %g is not a whole number of epochs (0, 1, 2, ...)", path, line,
                          row[epoch_col]));
    out->n_rows++;
  }
done:
  free(ps.field);
  free(text);
  if (rc) kcb_csv_table_free(out);
  return rc;
}

int kcb_csv_table_column(const kcb_csv_table *t, const char *name) {
  for (size_t i = 0; t && name && i < t->n_columns; i++)
    if (strcmp(t->columns[i], name) == 0) return (int)i;
  return -1;
}

double kcb_csv_table_value(const kcb_csv_table *t, size_t row, size_t column) {
  if (!t || row >= t->n_rows || column >= t->n_columns) return NAN;
  return t->values[row * t->n_columns + column];
}

void kcb_csv_table_free(kcb_csv_table *t) {
  if (!t) return;
  for (size_t i = 0; i < t->n_columns; i++) free(t->columns[i]);
  free(t->columns);
  free(t->values);
  memset(t, 0, sizeof *t);
}
