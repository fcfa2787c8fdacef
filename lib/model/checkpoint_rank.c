/* model/checkpoint_rank.c — finding checkpoint files and ranking them by a monitored value (the
 * library side of kcb-restore), and exporting one with a read-back check. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/pyformat.h"
#include "io/checkpoint_source.h"
#include "io/foreign.h"
#include "internal.h"
#include "kcb/checkpoint.h"
#include "kcb/csv.h"

const char *kcb_rank_source_name(kcb_rank_source source) {
  switch (source) {
  case KCB_RANK_STORED: return "stored";
  case KCB_RANK_NAME: return "name";
  case KCB_RANK_CSV: return "csv";
  default: return "none";
  }
}

typedef struct file_id {
  dev_t dev;
  ino_t ino;
  int known;   /* stat worked */
  int is_link; /* named through a symbolic link */
} file_id;

typedef struct entries {
  kcb_checkpoint_entry *v;
  file_id *ids; /* each entry's file, so that one named twice (or in its directory too) is ranked once */
  size_t n, cap;
} entries;

static int is_checkpoint_name(const char *name) {
  return kcb__ends_with(name, ".weights.h5") || kcb__ends_with(name, ".h5") || kcb__ends_with(name, ".hdf5") || kcb__ends_with(name, ".keras");
}

static int64_t path_epoch(const char *path);

static int add_entry(entries *e, const char *path) {
  struct stat st, lst;
  file_id id = {0, 0, stat(path, &st) == 0, lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)};
  if (id.known) id.dev = st.st_dev, id.ino = st.st_ino;
  for (size_t i = 0; id.known && i < e->n; i++)
    if (e->ids[i].known && e->ids[i].dev == id.dev && e->ids[i].ino == id.ino) {
      /* one file, two names (`best.keras` linking to `ckpt-02-0.30.keras`): ranked once, under its
       * own name, whose epoch and value a link's name does not carry; of two hard links, the one
       * naming an epoch */
      if ((e->ids[i].is_link && !id.is_link) ||
          (e->ids[i].is_link == id.is_link && path_epoch(e->v[i].path) < 0 && path_epoch(path) >= 0)) {
        char *own = strdup(path);
        if (!own) return kcb__error(KCB_ENOMEM, "rank: out of memory");
        free(e->v[i].path);
        e->v[i].path = own;
        e->ids[i].is_link = 0;
      }
      return 0;
    }
  if (e->n == e->cap) {
    size_t cap = e->cap ? 2 * e->cap : 16;
    kcb_checkpoint_entry *v = realloc(e->v, cap * sizeof *v);
    if (v) e->v = v;
    file_id *ids = v ? realloc(e->ids, cap * sizeof *ids) : NULL;
    if (!ids) return kcb__error(KCB_ENOMEM, "rank: out of memory");
    e->ids = ids;
    e->cap = cap;
  }
  e->ids[e->n] = id;
  kcb_checkpoint_entry *x = &e->v[e->n];
  memset(x, 0, sizeof *x);
  x->path = strdup(path);
  if (!x->path) return kcb__error(KCB_ENOMEM, "rank: out of memory");
  x->epoch = -1;
  x->value = NAN;
  e->n++;
  return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Lists `path` as not searched, saying why (`why` NULL: a link that leads nowhere, named with its
 * target), so that the best file is not missed in silence. */
static int add_unsearched(entries *e, const char *path, const char *why) {
  size_t before = e->n;
  int rc = add_entry(e, path);
  if (rc || e->n == before) return rc;
  char text[PATH_MAX + 64], target[PATH_MAX];
  if (!why) {
    struct stat st;
    int loops = stat(path, &st) != 0 && errno == ELOOP;
    ssize_t len = readlink(path, target, sizeof target - 1);
    target[len > 0 ? len : 0] = '\0';
    snprintf(text, sizeof text, loops ? "a symbolic link to '%s', which leads back to itself (a loop of links)"
                                      : "a symbolic link to '%s', which does not exist", target);
    why = text;
  }
  if (!(e->v[e->n - 1].error = strdup(why))) return kcb__error(KCB_ENOMEM, "rank: out of memory");
  return 0;
}

/* Adds the checkpoint files under dir (recursively, in name order). */
#define SCAN_MAX_DEPTH 32

static int scan_dir(entries *e, const char *dir, int depth) {
  if (depth > SCAN_MAX_DEPTH) { /* listed as not searched, so that the best file is not missed in silence */
    char why[160];
    snprintf(why, sizeof why, "a directory more than %d levels below the one given: not searched (give it, or one "
             "nearer it)", SCAN_MAX_DEPTH);
    return add_unsearched(e, dir, why);
  }
  DIR *d = opendir(dir);
  if (!d) return kcb__error(kcb__error_from_errno(errno), "rank: cannot open directory %s: %s", dir, strerror(errno));
  char **names = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.' && (de->d_name[1] == '\0' || (de->d_name[1] == '.' && de->d_name[2] == '\0'))) continue;
    if (strstr(de->d_name, ".tmp") != NULL && de->d_name[0] == '.') continue; /* an atomic writer's temp file */
    if (n == cap) {
      cap = cap ? 2 * cap : 32;
      char **grown = realloc(names, cap * sizeof *grown);
      if (!grown) { rc = kcb__error(KCB_ENOMEM, "rank: out of memory"); break; }
      names = grown;
    }
    if (!(names[n] = strdup(de->d_name))) { rc = kcb__error(KCB_ENOMEM, "rank: out of memory"); break; }
    n++;
  }
  closedir(d);
  if (rc == 0 && n) qsort(names, n, sizeof *names, cmp_str);
  for (size_t i = 0; i < n; i++) {
    if (rc == 0) {
      char *path = kcb__path_join(dir, names[i]);
      if (!path) rc = kcb__error(KCB_ENOMEM, "rank: out of memory");
      else {
        struct stat st, target;
        int is_link = lstat(path, &st) == 0 && S_ISLNK(st.st_mode), resolves = stat(path, &target) == 0;
        if (!is_link && S_ISDIR(st.st_mode)) /* a model saved unzipped is a directory too */
          rc = kcb__is_keras_dir(path) || kcb__keras_dir_without_weights(path) ? add_entry(e, path) : scan_dir(e, path, depth + 1);
        else if (is_link && (!resolves ? is_checkpoint_name(names[i]) : S_ISDIR(target.st_mode) && !kcb__is_keras_dir(path)))
          rc = add_unsearched(e, path, resolves ? "a symbolic link to a directory: not followed (links can loop; give the "
                                                  "directory itself to search it)" : NULL);
        else if (is_checkpoint_name(names[i])) rc = add_entry(e, path);
        free(path);
      }
    }
    free(names[i]);
  }
  free(names);
  return rc;
}

/* The file name without directories and without the layout suffix. */
static void stem_of(const char *path, char *out, size_t size) {
  const char *slash = strrchr(path, '/');
  kcb__strlcpy(out, slash ? slash + 1 : path, size);
  const char *suffixes[] = {".weights.h5", ".keras", ".hdf5", ".h5"};
  for (size_t i = 0; i < 4; i++)
    if (kcb__ends_with(out, suffixes[i])) {
      out[strlen(out) - strlen(suffixes[i])] = '\0';
      break;
    }
}

/* Parses a number at s (digits with an optional sign, point and exponent, or Python's inf and nan
 * as a float format writes them: "-inf", "nan", "INF"); *end after it. */
static int parse_number(const char *s, double *out, const char **end, int *has_point) {
  const char *p = s;
  if (*p == '+' || *p == '-') p++;
  const char *digits = p;
  if ((kcb__ascii_ncasecmp(p, "inf", 3) == 0 || kcb__ascii_ncasecmp(p, "nan", 3) == 0) && !kcb__is_alnum((unsigned char)p[3])) {
    *out = kcb__to_lower((unsigned char)*p) == 'n' ? NAN : *s == '-' ? -INFINITY : INFINITY;
    *has_point = 1;
    *end = p + 3;
    return 1;
  }
  while (isdigit((unsigned char)*p)) p++;
  *has_point = 0;
  if (*p == '.' && isdigit((unsigned char)p[1])) {
    *has_point = 1;
    p++;
    while (isdigit((unsigned char)*p)) p++;
  }
  if (p == digits) return 0;
  if ((*p == 'e' || *p == 'E') && (isdigit((unsigned char)p[1]) || ((p[1] == '-' || p[1] == '+') && isdigit((unsigned char)p[2])))) {
    p += 2;
    while (isdigit((unsigned char)*p)) p++;
    *has_point = 1;
  }
  char buf[64];
  size_t n = (size_t)(p - s) < sizeof buf - 1 ? (size_t)(p - s) : sizeof buf - 1;
  memcpy(buf, s, n);
  buf[n] = '\0';
  /* strtod follows LC_NUMERIC; the text has '.' only, so read it by hand when the locale differs */
  char *e;
  *out = strtod(buf, &e);
  if (*e == '.') { /* a comma locale: fall back to integer and fraction parts */
    double ip = strtod(buf, &e), frac = 0, scale = 1;
    for (const char *q = e + 1; isdigit((unsigned char)*q); q++) { frac = frac * 10 + (*q - '0'); scale *= 10; }
    *out = ip < 0 || buf[0] == '-' ? ip - frac / scale : ip + frac / scale;
  }
  *end = p;
  return 1;
}

/* The monitored value from a file name that names it: MONITOR=NUMBER (or _ - :). */
static int keyed_value_from_name(const char *stem, const char *monitor, double *out) {
  size_t ml = strlen(monitor);
  for (const char *p = strstr(stem, monitor); p; p = strstr(p + 1, monitor)) {
    const char *q = p + ml;
    /* "loss" inside "val_loss" or "xloss" is another key */
    if (p > stem && kcb__is_alnum((unsigned char)p[-1])) continue;
    if (p - stem >= 4 && strncmp(p - 4, "val_", 4) == 0) continue;
    if (*q == '=' || *q == '_' || *q == '-' || *q == ':') {
      const char *end;
      int point;
      if (parse_number(q + 1, out, &end, &point)) return 1;
    }
  }
  return 0;
}

/* Whether the number after the separator at `sep` is labelled by a word that names another logged
 * value than the monitor: `val_acc=0.87`, `..._sparse_categorical_accuracy_0.61`, `lr-0.001` (a
 * setting), `loss_0.3` for val_loss. The monitor's own label is keyed_value_from_name's. */
static int labelled_as_other(const char *stem, const char *sep, const char *monitor) {
  /* the label, lower case, '-' read as '_' (VAL_LOSS, val-loss: the monitor's too) */
  const char *w = sep;
  while (w > stem && (kcb__is_alpha((unsigned char)w[-1]) || w[-1] == '_' || w[-1] == '-')) w--;
  while (w < sep && (*w == '_' || *w == '-')) w++;
  char label[128];
  size_t len = (size_t)(sep - w) < sizeof label ? (size_t)(sep - w) : sizeof label - 1, ml = strlen(monitor);
  for (size_t i = 0; i < len; i++) label[i] = w[i] == '-' ? '_' : (char)kcb__to_lower((unsigned char)w[i]);
  label[len] = '\0';
  if (!len) return 0;
  const char *end = label + len;
  if (len >= ml && kcb__ascii_ncasecmp(end - ml, monitor, ml) == 0 && (len == ml || end[-(ptrdiff_t)ml - 1] == '_') &&
      !(strncmp(monitor, "val_", 4) != 0 && len >= ml + 4 && memcmp(end - ml - 4, "val_", 4) == 0))
    return 0; /* the monitor's */
  const char *token = end;
  while (token > label && token[-1] != '_') token--;
  sep = end;
  static const char *const values[] = {"loss", "acc", "accuracy", "auc", "mae", "mse", "rmse", "mape", "msle",
                                       "precision", "recall", "f1", "iou", "crossentropy", "error", "score", "lr",
                                       "rate", "decay", "momentum", "dropout", "wd"};
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
    if ((size_t)(sep - token) == strlen(values[i]) && kcb__ascii_ncasecmp(token, values[i], strlen(values[i])) == 0)
      return 1;
  return 0;
}

/* The decimal numbers after a separator (Keras's `...-{val_loss:.2f}.keras`): how many there are,
 * the last in *out and its digits after the point in *decimals (-1: an exponent, inf or nan). A
 * name's one such number is a guess at the monitored value; of two or more
 * (`-{val_loss:.2f}-{val_accuracy:.2f}`) none can be told for it. Numbers labelled as another
 * value's are not counted, but in *labelled. *end_at: the offset after the last number counted. */
static int numbers_in_name(const char *stem, const char *monitor, double *out, int *decimals, int *labelled,
                           size_t *end_at) {
  int found = 0;
  *end_at = 0;
  const char *digit = strpbrk(stem, "0123456789");
  *labelled = 0;
  for (const char *p = stem; *p; p++) {
    if (*p != '-' && *p != '_' && *p != '=') continue;
    const char *end;
    int point;
    double v;
    /* inf or nan only after some digit (the epoch's): "model-inf" is a name, "ckpt-02--inf" a value */
    if (parse_number(p + 1, &v, &end, &point) && point && (isfinite(v) || (digit && digit < p))) {
      if (labelled_as_other(stem, p, monitor)) {
        ++*labelled;
        p = end - 1;
        continue;
      }
      const char *dot = memchr(p + 1, '.', (size_t)(end - p - 1));
      int percent = *end == '%'; /* a '%' format: the value times 100 */
      *out = percent ? v / 100 : v;
      *decimals = dot && isfinite(v) && !memchr(p + 1, 'e', (size_t)(end - p - 1)) && !memchr(p + 1, 'E', (size_t)(end - p - 1))
                      ? (int)(end - dot - 1) + 2 * percent : -1;
      found++;
      *end_at = (size_t)(end - stem);
      p = end - 1;
    }
  }
  return found;
}

/* What a file name gives through ModelCheckpoint's template. */
typedef struct template_capture {
  const char *monitor;
  double value;
  int has_value;
  int64_t epoch;
  int64_t batch;   /* -1: the name has no {batch} (an epoch-end save) */
  int decimals;    /* of the value as the name writes it (-1: not fixed-point) */
} template_capture;

static int accept_field(void *ctx, const kcb__pyfield *f, const char *text, size_t len) {
  template_capture *c = ctx;
  int is_int = kcb__pyfield_is_int(f), is_epoch = is_int && f->key[0] == 'e';
  /* text is the field's only if some value formats to exactly it, as Python wrote the name: '.2f'
   * never wrote "0.3", and '{epoch:x}' wrote 16 as "10" */
  kcb__pyvalue v;
  if (!kcb__pyformat_unformat(f, is_int, text, len, &v)) return 0;
  if (is_int) {
    int64_t index = v.i >= 1 && v.i <= 100000000 ? (int64_t)(v.i - 1) : -1;
    if (is_epoch) c->epoch = index;
    else c->batch = index;
  } else if (strlen(c->monitor) == f->key_len && memcmp(c->monitor, f->key, f->key_len) == 0) {
    c->value = v.d;
    c->has_value = 1;
    c->decimals = kcb__pyformat_decimals(f, &v);
  }
  return 1;
}

/* Matches a file's path against the template's: its base name, or, when fields stand in the
 * template's directories too ('ckpt/epoch_{epoch:02d}/model.keras', as Keras allows), the path's
 * last components from the first with a field on. 1 on a match (capture filled). */
static int from_template(const char *tmpl, const char *path, template_capture *c) {
  c->has_value = 0;
  c->epoch = c->batch = -1;
  c->decimals = -1;
  const char *brace = strchr(tmpl, '{'), *from = strrchr(tmpl, '/');
  from = from ? from + 1 : tmpl;
  if (brace && brace < from) { /* the template's components from the one holding the first field */
    while (brace > tmpl && brace[-1] != '/') brace--;
    from = brace;
  }
  size_t parts = 1;
  for (const char *q = from; *q; q++) parts += *q == '/';
  const char *tail = path + strlen(path); /* the path's last `parts` components */
  for (size_t k = 0; k < parts && tail > path;) {
    tail--;
    if (*tail == '/' && ++k == parts) tail++;
  }
  return kcb__pyformat_match(from, tail, accept_field, c);
}

/* Whether the digits [a, b) of s stand alone as a whole number: not glued to a letter ("v2",
 * "resnet50", "mobilenet_v3" name models, not epochs) and not part of a decimal ("0.31"). */
static int standalone_number(const char *s, const char *a, const char *b) {
  if (a > s && kcb__is_alpha((unsigned char)a[-1])) return 0;
  if (kcb__is_alpha((unsigned char)*b)) return 0;
  if (*b == '.' && isdigit((unsigned char)b[1])) return 0;                      /* 0 of 0.31 */
  if (a - s >= 2 && a[-1] == '.' && isdigit((unsigned char)a[-2])) return 0;     /* 31 of 0.31 */
  return 1;
}

/* After a two-digit group at p ("-05", "_01": a date's month or day), p + 3; else p. */
static const char *two_digit_group(const char *p) {
  return (*p == '-' || *p == '_') && isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) && !isdigit((unsigned char)p[3])
             ? p + 3
             : p;
}

/* Whether the digits [a, b) are a date's or a time's rather than an epoch: six digits or more
 * (20240501, 123000), or a year 1970-2099 followed by a two-digit month (2024-05-01). */
static int date_or_time(const char *a, const char *b) {
  if (b - a >= 6) return 1;
  if (b - a != 4 || !((a[0] == '1' && a[1] == '9' && a[2] >= '7') || (a[0] == '2' && a[1] == '0'))) return 0;
  return two_digit_group(b) != b;
}

/* The end of a date whose year is [a, b): after its month and day (YYYY-MM-DD, YYYY_MM_DD). */
static const char *date_end(const char *b) {
  for (const char *next = two_digit_group(b); next != b; next = two_digit_group(b)) b = next;
  return b;
}

/* The 0-based epoch from a file name: the number after "epoch", else the first number standing
 * alone (see standalone_number) that is not a date's or a time's; -1 when there is none. */
static int64_t epoch_from_name(const char *stem);

static int64_t path_epoch(const char *path) {
  char stem[1024];
  stem_of(path, stem, sizeof stem);
  return epoch_from_name(stem);
}

static int64_t epoch_from_name(const char *stem) {
  const char *p = strstr(stem, "epoch");
  if (p) {
    p += 5;
    while (*p == '=' || *p == '_' || *p == '-' || *p == ':') p++;
  } else {
    for (p = stem; *p; p++) {
      if (!isdigit((unsigned char)*p)) continue;
      const char *end = p;
      while (isdigit((unsigned char)*end)) end++;
      if (standalone_number(stem, p, end) && !date_or_time(p, end)) break;
      if (end - p == 4 && date_or_time(p, end)) end = date_end(end); /* its month and day too */
      p = end - 1;
    }
  }
  if (!isdigit((unsigned char)*p)) return -1;
  long long v = 0;
  while (isdigit((unsigned char)*p) && v < 100000000) v = v * 10 + (*p++ - '0');
  return v >= 1 ? (int64_t)(v - 1) : -1;
}

/* The 0-based epoch a file's directory names, when its own name has none: `epoch_03/model.keras`,
 * `ckpt/epoch-3/w.weights.h5`; -1 otherwise. */
static int64_t epoch_from_directory(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash || slash == path) return -1;
  const char *start = slash;
  while (start > path && start[-1] != '/') start--;
  char dir[256];
  size_t len = (size_t)(slash - start);
  if (len == 0 || len >= sizeof dir) return -1;
  memcpy(dir, start, len);
  dir[len] = '\0';
  /* "epoch" and its number, nothing else: a run's, a fold's or a setting's directory (folds/1,
   * lr0.01_epoch3) is not the epoch of the file under it */
  const char *p = dir;
  if (kcb__ascii_ncasecmp(p, "epoch", 5) != 0) return -1;
  p += 5;
  if (*p == '_' || *p == '-' || *p == '=') p++;
  return *p && strspn(p, "0123456789") == strlen(p) ? epoch_from_name(dir) : -1;
}

/* A CSV log the caller named must be readable and have the columns: its own error (file:line)
 * is the answer, not "no checkpoint with a value" later (issue 15). Guessed ones may be skipped. */
static int check_given_csv(const char *csv_path, const char *monitor) {
  kcb_csv_table t;
  int rc = kcb_csv_table_read(&t, csv_path, 0);
  if (rc) return rc;
  const char *missing = kcb_csv_table_column(&t, "epoch") < 0 ? "epoch" : kcb_csv_table_column(&t, monitor) < 0 ? monitor : NULL;
  if (missing) rc = kcb__error(KCB_EKEY, "%s: no column '%s' (the CSV log must have the columns epoch and %s)", csv_path, missing, monitor);
  kcb_csv_table_free(&t);
  return rc;
}

/* How well a guessed CSV log's name fits a checkpoint's: the length of its stem when the checkpoint's
 * name starts with it ("a.csv" for "a.02.weights.h5"), else 0. */
static size_t csv_fit(const char *csv, const char *ckpt_base) {
  const char *slash = strrchr(csv, '/');
  const char *stem = slash ? slash + 1 : csv;
  size_t len = strlen(stem) - 4; /* without ".csv" */
  return len && strncmp(ckpt_base, stem, len) == 0 ? len : 0;
}

/* A value a file's name gives rounded (to `decimals` places), which may tell apart the rows a log
 * holds for one epoch. */
typedef struct name_hint {
  int have;
  double value;
  int decimals;
} name_hint;

static int hint_agrees(const name_hint *h, double v) {
  return h->decimals >= 0 && fabs(v - h->value) <= 0.5000001 * pow(10, -h->decimals);
}

/* The column of a run's CSV log whose value at the file's epoch is the name's number, and the
 * monitor's value in that row (the run that saved the file). */
typedef struct number_column {
  char log[PATH_MAX];
  char column[128];
  int has_monitor;
  double monitor;
} number_column;

/* A CSV log's value for the checkpoint `ckpt_base` in `dir`: the given log's, or among the *.csv
 * with the columns, the one whose name the checkpoint's starts with the longest; logs that fit
 * alike and disagree give none (two runs' logs in one directory: which is this file's is unknown).
 * `whose` gets the column whose value at the epoch agrees with the name's number (the monitor's
 * if it does), which shows what the number is. */
static int csv_value(const char *dir, const char *csv_path, const char *ckpt_base, const char *monitor, int64_t epoch,
                     const name_hint *hint, double *out, number_column *whose) {
  int found = 0, ambiguous = 0;
  size_t best_fit = 0;
  char **cands = NULL;
  size_t n = 0;
  if (csv_path) {
    cands = malloc(sizeof *cands);
    if (cands && (cands[0] = strdup(csv_path))) n = 1;
  } else {
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
      if (!kcb__ends_with(de->d_name, ".csv")) continue;
      char **grown = realloc(cands, (n + 1) * sizeof *grown);
      if (!grown) break;
      cands = grown;
      size_t len = strlen(dir) + strlen(de->d_name) + 2;
      if (!(cands[n] = malloc(len))) break;
      snprintf(cands[n++], len, "%s/%s", dir, de->d_name);
    }
    closedir(d);
    if (n) qsort(cands, n, sizeof *cands, cmp_str);
  }
  for (size_t i = 0; i < n; i++) {
    kcb_csv_table t;
    if (kcb_csv_table_read(&t, cands[i], 0) == 0) {
      int ce = kcb_csv_table_column(&t, "epoch"), cm = kcb_csv_table_column(&t, monitor);
      size_t fit = csv_fit(cands[i], ckpt_base);
      for (size_t r = t.n_rows; hint->have && ce >= 0 && r-- > 0;) { /* the last run's row first */
        if (kcb_csv_table_value(&t, r, (size_t)ce) != (double)epoch) continue;
        for (size_t c = 0; c < t.n_columns; c++) {
          int is_monitor = (int)c == cm, had_monitor = whose->log[0] && !strcmp(whose->column, monitor);
          if ((int)c == ce || had_monitor || (whose->log[0] && !is_monitor) ||
              !hint_agrees(hint, kcb_csv_table_value(&t, r, c)))
            continue;
          kcb__strlcpy(whose->log, cands[i], sizeof whose->log);
          kcb__strlcpy(whose->column, t.columns[c], sizeof whose->column);
          double m = cm >= 0 ? kcb_csv_table_value(&t, r, (size_t)cm) : NAN;
          whose->has_monitor = cm >= 0 && !kcb__csv_is_missing(m);
          whose->monitor = m;
        }
      }
      /* Several rows for the epoch (runs appended to one log): the last one, a resumed run's, unless
       * the file's name gives a value that is one row's and not the last's (another run's file) */
      double last = NAN, named = NAN;
      int rows = 0, last_agrees = 0, named_values = 0; /* named_values: distinct values agreeing, up to 2 */
      for (size_t r = t.n_rows; ce >= 0 && cm >= 0 && r > 0; r--)
        if (kcb_csv_table_value(&t, r - 1, (size_t)ce) == (double)epoch &&
            !kcb__csv_is_missing(kcb_csv_table_value(&t, r - 1, (size_t)cm))) { /* Keras skips an epoch without it */
          double v = kcb_csv_table_value(&t, r - 1, (size_t)cm);
          if (rows++ == 0) last = v, last_agrees = hint->have && hint_agrees(hint, v);
          if (hint->have && hint_agrees(hint, v)) {
            if (named_values == 0) named = v, named_values = 1;
            else if (v != named) named_values = 2;
          }
        }
      int agreed = rows > 1 && hint->have && !last_agrees && named_values > 0;
      if (agreed && named_values > 1) rows = 0; /* rows of other values both agree with the name: no telling */
      if (rows > 0) {
        double v = agreed ? named : last;
        if (!found || fit > best_fit) *out = v, best_fit = fit, found = 1, ambiguous = 0;
        else if (fit == best_fit && !(v == *out || (isnan(v) && isnan(*out)))) ambiguous = 1;
      }
      kcb_csv_table_free(&t);
    }
    free(cands[i]);
  }
  free(cands);
  return found && !ambiguous;
}

static int resolve_mode(const char *monitor, kcb_monitor_mode mode, kcb_monitor_mode *out) {
  *out = mode != KCB_MONITOR_AUTO ? mode : kcb_monitor_mode_for_name(monitor);
  if (*out != KCB_MONITOR_AUTO) return 0;
  return kcb__error(KCB_EINVAL, "rank: cannot tell whether `%s` should be minimized or maximized: pass mode min or max",
                    monitor);
}

/* ModelCheckpoint's save_last file: last.<ext>. */
static int is_last_copy(const char *path) {
  const char *slash = strrchr(path, '/');
  return strncmp(slash ? slash + 1 : path, "last.", 5) == 0;
}

/* ranked (best first, NaN last; ties: the named file before its last.* copy, the earlier epoch and
 * batch, then path), then readable without value, then unreadable */
static int cmp_entry(const void *pa, const void *pb) {
  const kcb_checkpoint_entry *a = pa, *b = pb;
  int ga = !a->readable ? 2 : a->source == KCB_RANK_NONE ? 1 : 0;
  int gb = !b->readable ? 2 : b->source == KCB_RANK_NONE ? 1 : 0;
  if (ga != gb) return ga - gb;
  if (ga == 0) {
    int na = isnan(a->value), nb = isnan(b->value);
    if (na != nb) return na - nb;
    if (!na && a->value != b->value) {
      return a->value < b->value ? -1 : 1; /* max mode sorts negated values */
    }
  }
  /* a save_last copy ties with the checkpoint it copies: the named checkpoint goes first */
  int la = is_last_copy(a->path), lb = is_last_copy(b->path);
  if (la != lb) return la - lb;
  /* of equal values the first reached is best, as Keras's callbacks keep only a strict
   * improvement: by epoch (whatever a name's padding), then by the batch within it */
  if (ga == 0 && a->epoch >= 0 && b->epoch >= 0 && a->epoch != b->epoch) return a->epoch < b->epoch ? -1 : 1;
  if (ga == 0 && a->epoch >= 0 && a->epoch == b->epoch && a->batch >= 0 && b->batch >= 0 && a->batch != b->batch)
    return a->batch < b->batch ? -1 : 1;
  return strcmp(a->path, b->path);
}

/* Whether two names are alike but for their numbers (digit runs, with a decimal point inside):
 * written by one template. */
static int same_shape(const char *a, const char *b) {
  for (;;) {
    int da = isdigit((unsigned char)*a), db = isdigit((unsigned char)*b);
    if (da != db) return 0;
    if (da) {
      while (isdigit((unsigned char)*a) || (*a == '.' && isdigit((unsigned char)a[1]))) a++;
      while (isdigit((unsigned char)*b) || (*b == '.' && isdigit((unsigned char)b[1]))) b++;
      continue;
    }
    if (*a != *b) return 0;
    if (!*a) return 1;
    a++, b++;
  }
}



/* Whether the whole number at `digits` in `s` is labelled as a run's tag (run1, seed_2, fold-3,
 * trial 4, rep5): which run saved the file, not a batch within an epoch. */
static int run_tag(const char *s, const char *digits) {
  const char *w = digits;
  if (w > s && (w[-1] == '_' || w[-1] == '-' || w[-1] == '=')) w--;
  const char *end = w;
  while (w > s && kcb__is_alpha((unsigned char)w[-1])) w--;
  static const char *const tags[] = {"run", "seed", "fold", "trial", "rep", "exp", "version", "v", "try", "attempt"};
  for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
    if ((size_t)(end - w) == strlen(tags[i]) && kcb__ascii_ncasecmp(w, tags[i], strlen(tags[i])) == 0) return 1;
  return 0;
}

/* Whether two names of one shape (same_shape) differ in a whole number other than a run's tag: a
 * batch, a step, not only their decimal values (`c-001-0100-0.93` and `c-001-0200-0.86`: saves
 * within one epoch). */
static int whole_numbers_differ(const char *a, const char *b) {
  const char *a0 = a;
  while (*a && *b) {
    if (!isdigit((unsigned char)*a)) {
      a++, b++;
      continue;
    }
    const char *ea = a, *eb = b;
    int decimal = 0;
    while (isdigit((unsigned char)*ea) || (*ea == '.' && isdigit((unsigned char)ea[1]))) decimal |= *ea++ == '.';
    while (isdigit((unsigned char)*eb) || (*eb == '.' && isdigit((unsigned char)eb[1]))) decimal |= *eb++ == '.';
    int date = !decimal && date_or_time(a, ea) && date_or_time(b, eb); /* a run's date or time, as a tag */
    if (date && ea - a == 4) ea = date_end(ea), eb = date_end(eb); /* its month and day too */
    if (!decimal && !date && (ea - a != eb - b || memcmp(a, b, (size_t)(ea - a)) != 0) && !run_tag(a0, a)) return 1;
    a = ea, b = eb;
  }
  return 0;
}

/* Whether two paths name files of one directory. */
static int same_directory(const char *a, const char *b) {
  const char *sa = strrchr(a, '/'), *sb = strrchr(b, '/');
  size_t la = sa ? (size_t)(sa - a) : 0, lb = sb ? (size_t)(sb - b) : 0;
  return la == lb && strncmp(a, b, la) == 0;
}

/* What kcb_checkpoint_rank learns of one file before it values it. */
typedef struct rank_work {
  int matched, stored, from_name, keyed; /* the template matched; the value's source, if known */
  name_hint hint;                        /* the name's number */
  int lone;                              /* the name's one number, of no named field */
  int several;                           /* another name of its directory, epoch and shape gives another number */
  int within_epoch;                      /* ... and another whole number (a batch): saved mid-epoch */
  int labelled;                          /* numbers its name labels as another value's (val_acc=0.87) */
  int constant;                          /* its number is every name's of its template: a setting */
  int number_leads;                      /* its number comes before the name's other numbers (the epoch) */
  char *named_path;                      /* a link's final target, whose name and directory value it (or NULL) */
  int verdict;                           /* the log's column holding the number: 1 the monitor, -1 another, 0 none */
  int number;                            /* valued from its lone number and the log */
  int have_csv;                          /* the log has the monitor's value at the file's epoch: logged */
  double logged;
  number_column whose;                   /* the log's column the number agrees with */
  double cap_value;                      /* the template's field */
  int cap_decimals;
} rank_work;

int kcb_checkpoint_rank(kcb_checkpoint_ranking **out, const char *const *paths, size_t n_paths, const kcb_rank_options *opts) {
  if (!out) return kcb__error(KCB_EINVAL, "kcb_checkpoint_rank: out is NULL");
  if (!paths && n_paths) return kcb__error(KCB_EINVAL, "kcb_checkpoint_rank: paths is NULL");
  kcb_rank_options defaults = KCB_RANK_OPTIONS_INIT;
  const kcb_rank_options *o = opts ? opts : &defaults;
  entries e = {0};
  int rc = 0;
  kcb_checkpoint_ranking *r = NULL;
  rank_work *pending = NULL;
  size_t n_pending = 0;
  *out = NULL;
  const char *monitor = o->monitor && o->monitor[0] ? o->monitor : "val_loss";
  kcb_monitor_mode mode = KCB_MONITOR_MIN; /* set by resolve_mode; GCC cannot tell */
  KCB__TRY(resolve_mode(monitor, o->mode, &mode));
  if (o->name_template) KCB__TRY(kcb__pyformat_fields(o->name_template, NULL, NULL)); /* a malformed one names itself */
  if (o->csv_path) KCB__TRY(check_given_csv(o->csv_path, monitor));
  for (size_t i = 0; i < n_paths; i++) {
    struct stat st;
    if (!paths[i]) KCB__TRY(kcb__error(KCB_EINVAL, "kcb_checkpoint_rank: paths[%zu] is NULL", i));
    /* a path that is none, or a directory with no checkpoint in it, may be another tool's (a
     * TensorFlow checkpoint's prefix, a SavedModel): said as such */
    const char *foreign = NULL;
    size_t before = e.n;
    if (stat(paths[i], &st) != 0) {
      int why = errno; /* before kcb__foreign_kind looks around */
      if (!(foreign = kcb__foreign_kind(paths[i])))
        KCB__TRY(kcb__error(kcb__error_from_errno(why), "rank: %s: %s", paths[i], strerror(why)));
    } else if (S_ISDIR(st.st_mode) && !kcb__is_keras_dir(paths[i])) {
      KCB__TRY(scan_dir(&e, paths[i], 0));
      if (e.n == before) foreign = kcb__foreign_kind(paths[i]);
    } else {
      KCB__TRY(add_entry(&e, paths[i]));
    }
    if (foreign) KCB__TRY(add_unsearched(&e, paths[i], foreign));
  }
  r = calloc(1, sizeof *r);
  if (!r) KCB__TRY(kcb__error(KCB_ENOMEM, "rank: out of memory"));
  pending = calloc(e.n ? e.n : 1, sizeof *pending);
  if (!pending) KCB__TRY(kcb__error(KCB_ENOMEM, "rank: out of memory"));
  n_pending = e.n;
  /* what each file and its name say */
  for (size_t i = 0; i < e.n; i++) {
    kcb_checkpoint_entry *x = &e.v[i];
    rank_work *w = &pending[i];
    x->batch = -1;
    if (x->error) { /* not searched */
      r->n_unreadable++;
      continue;
    }
    if (kcb_checkpoint_info_read(&x->info, x->path) != 0) {
      x->error = strdup(kcb_error_last());
      if (!x->error) KCB__TRY(kcb__error(KCB_ENOMEM, "rank: out of memory"));
      r->n_unreadable++;
      continue;
    }
    x->readable = 1;
    char stem[1024], named[PATH_MAX];
    kcb__strlcpy(named, x->path, sizeof named);
    /* a link named with no number of its own (best.keras, given by name) says what its target's
     * name says, through links to links; its run's CSV log is beside the target */
    for (int hops = 0; hops < 8 && e.ids[i].is_link; hops++) {
      stem_of(named, stem, sizeof stem);
      char target[PATH_MAX];
      ssize_t len = strpbrk(stem, "0123456789") ? -1 : readlink(named, target, sizeof target - 1);
      if (len <= 0) break;
      target[len] = '\0';
      const char *slash = strrchr(named, '/');
      char next[PATH_MAX];
      if (target[0] == '/' || !slash) kcb__strlcpy(next, target, sizeof next);
      else if ((size_t)snprintf(next, sizeof next, "%.*s/%s", (int)(slash - named), named, target) >= sizeof next) break;
      kcb__strlcpy(named, next, sizeof named);
    }
    stem_of(named, stem, sizeof stem);
    if (strcmp(named, x->path) != 0 && !(w->named_path = strdup(named))) KCB__TRY(kcb__error(KCB_ENOMEM, "rank: out of memory"));
    template_capture cap = {monitor, NAN, 0, -1, -1, -1};
    w->matched = o->name_template && from_template(o->name_template, x->path, &cap);
    r->n_template_matches += w->matched;
    x->epoch = x->info.epoch >= 0 ? x->info.epoch : w->matched && cap.epoch >= 0 ? cap.epoch : epoch_from_name(stem);
    if (x->epoch < 0 && !w->matched) x->epoch = epoch_from_directory(x->path);
    x->batch = x->info.batch >= 0 ? x->info.batch : cap.batch;
    w->stored = x->info.has_monitor && strcmp(x->info.monitor, monitor) == 0;
    w->from_name = !w->stored && w->matched && cap.has_value;
    w->keyed = !w->stored && !w->from_name && !w->matched && keyed_value_from_name(stem, monitor, &x->value);
    /* what the name says of the value, to tell apart a log's rows of one epoch from several runs */
    size_t number_end;
    int n_numbers = numbers_in_name(stem, monitor, &w->hint.value, &w->hint.decimals, &w->labelled, &number_end);
    w->number_leads = strpbrk(stem + number_end, "0123456789") != NULL; /* other numbers (the epoch) follow it */
    if (w->from_name) w->hint = (name_hint){cap.decimals >= 0, cap.value, cap.decimals};
    else w->hint.have = !w->matched && !w->keyed && n_numbers == 1;
    w->lone = w->hint.have && !w->from_name; /* a lone number, which may or may not be the monitor's */
    w->cap_value = cap.value;
    w->cap_decimals = cap.decimals;
  }
  /* Files of one directory and epoch whose names, alike but for their numbers (one template), give
   * different numbers: saved in the middle of the epoch (ModelCheckpoint's save_freq in batches),
   * which the epoch's CSV row does not value, or by two runs, each with its row in an appended log */
  for (size_t i = 0; i < e.n; i++) {
    const kcb_checkpoint_entry *x = &e.v[i];
    if (!pending[i].lone || x->info.epoch >= 0 || x->epoch < 0) continue;
    for (size_t k = 0; k < e.n && !pending[i].several; k++) {
      const kcb_checkpoint_entry *y = &e.v[k];
      if (k != i && pending[k].lone && y->info.epoch < 0 && y->epoch == x->epoch &&
          pending[k].hint.value != pending[i].hint.value && same_directory(x->path, y->path) &&
          same_shape(x->path, y->path)) {
        pending[i].several = pending[k].several = 1;
        if (whole_numbers_differ(x->path, y->path)) pending[i].within_epoch = pending[k].within_epoch = 1;
      }
    }
  }
  /* One number in every name of a template, at three epochs or more, is a setting (`lr-0.001`), not
   * a value the run monitored: it values none of them */
  size_t n_constant = 0;
  double constant = 0;
  for (size_t i = 0; i < e.n; i++) {
    const kcb_checkpoint_entry *x = &e.v[i];
    if (!pending[i].lone || x->epoch < 0) continue;
    int64_t seen[3]; /* the template's first three distinct epochs */
    size_t epochs = 0, same = 1;
    for (size_t k = 0; k < e.n && same; k++) {
      const kcb_checkpoint_entry *y = &e.v[k];
      if (!pending[k].lone || y->epoch < 0 || !same_directory(x->path, y->path) || !same_shape(x->path, y->path)) continue;
      same = pending[k].hint.value == pending[i].hint.value;
      int known = 0;
      for (size_t j = 0; j < epochs; j++) known |= seen[j] == y->epoch;
      if (!known && epochs < 3) seen[epochs++] = y->epoch;
    }
    /* after the epoch, one value at every epoch is a plateau that a .2f rounds alike: a tie */
    if (same && epochs >= 3 && pending[i].number_leads) pending[i].constant = 1, n_constant++, constant = pending[i].hint.value;
  }
  for (size_t i = 0; i < e.n; i++)
    if (pending[i].constant) pending[i].lone = 0, pending[i].hint.have = 0;
  /* the values: stored, the template's field or the keyed name, the CSV log; lone numbers later */
  for (size_t i = 0; i < e.n; i++) {
    kcb_checkpoint_entry *x = &e.v[i];
    rank_work *w = &pending[i];
    if (!x->readable) continue;
    char dir[1024];
    const char *from = w->named_path ? w->named_path : x->path, *slash = strrchr(from, '/');
    if (slash) snprintf(dir, sizeof dir, "%.*s", (int)(slash - from), from);
    else strcpy(dir, ".");
    if (slash == from) strcpy(dir, "/");
    /* the log's value, read only where it may be used (a file storing its value needs none); a row
     * is written at its epoch's end, from the weights then: a file saved in the middle of the epoch
     * (kcb's batch, a {batch} in the template) never had that value */
    w->have_csv = !w->stored && !w->keyed && (!w->from_name || w->cap_decimals >= 0) && x->epoch >= 0 && x->batch < 0 &&
                  csv_value(dir, o->csv_path, slash ? slash + 1 : from, monitor, x->epoch, &w->hint, &w->logged,
                            &w->whose);
    if (w->stored) {
      x->value = x->info.monitor_value;
      x->source = KCB_RANK_STORED;
    } else if (w->from_name) {
      x->value = w->cap_value;
      x->source = KCB_RANK_NAME;
      /* the name's value rounded as the template writes it: the log's exact one, when it agrees */
      if (w->have_csv && w->cap_decimals >= 0 && hint_agrees(&w->hint, w->logged)) x->value = w->logged, x->source = KCB_RANK_CSV;
    } else if (w->keyed) { /* a matched template says which field is which */
      x->source = KCB_RANK_NAME;
    } else if (w->lone && !x->info.has_monitor) {
      w->number = 1; /* valued below, with what the other names of its template say */
      if (w->whose.log[0]) w->verdict = !strcmp(w->whose.column, monitor) ? 1 : -1;
    } else if (w->have_csv) {
      x->value = w->logged;
      x->source = KCB_RANK_CSV;
    }
  }
  /* A name's lone number (`ckpt-03-0.31`) is what the run's log holds under most of its template's
   * names (one directory, one shape): a single name's match can be a rounding coincidence. */
  size_t other_value = 0, other_column = 0, n_guessed = 0, n_runs_shared = 0;
  char first_other[PATH_MAX] = "";
  number_column shown = {"", "", 0, 0};
  int monitor_is_validation = strncmp(monitor, "val_", 4) == 0;
  for (size_t i = 0; i < e.n; i++) {
    kcb_checkpoint_entry *x = &e.v[i];
    rank_work *w = &pending[i];
    if (!w->number) continue;
    size_t for_monitor = 0, for_other = 0;
    for (size_t k = 0; k < e.n; k++)
      if (pending[k].verdict && same_directory(x->path, e.v[k].path) && same_shape(x->path, e.v[k].path))
        pending[k].verdict > 0 ? for_monitor++ : for_other++;
    int template_is = for_monitor > for_other ? 1 : for_other > for_monitor ? -1 : 0;
    if (template_is > 0) { /* the monitor's: exactly in the log where it holds it, else the name's */
      if (w->verdict > 0) x->value = w->logged, x->source = KCB_RANK_CSV;
      else x->value = w->hint.value, x->source = KCB_RANK_NAME;
    } else if (w->verdict < 0) { /* another column's: the monitor of that row */
      if (w->whose.has_monitor) x->value = w->whose.monitor, x->source = KCB_RANK_CSV;
      else if (other_column++ == 0) shown = w->whose;
    } else if (w->verdict > 0) { /* the monitor's, exactly (a name of no clear template) */
      x->value = w->logged, x->source = KCB_RANK_CSV;
    } else if (template_is < 0) { /* another value, in no row: the epoch's row, unless saved mid-epoch */
      if (w->have_csv && !w->several) x->value = w->logged, x->source = KCB_RANK_CSV;
      else if (other_value++ == 0) kcb__strlcpy(first_other, x->path, sizeof first_other);
    } else if (!(w->within_epoch && monitor_is_validation)) {
      /* no log: the name; a save between batches has no val_ value (Keras validates at the epoch's
       * end), but names that differ in their value alone are, for a val_ monitor, epoch-end saves of
       * several runs into one directory */
      x->value = w->hint.value, x->source = KCB_RANK_NAME;
      n_guessed++;
      n_runs_shared += w->several && !w->within_epoch && monitor_is_validation;
    }
  }
  /* guessed values that rise at every saved epoch (fall, for max) are not what save_best_only keeps
   * of this monitor: an accuracy, most likely */
  size_t n_against = 0;
  for (size_t i = 0; i < e.n; i++) {
    if (e.v[i].source != KCB_RANK_NAME || !pending[i].number) continue;
    size_t later = 0, worse = 0;
    for (size_t k = 0; k < e.n; k++)
      if (k != i && e.v[k].source == KCB_RANK_NAME && pending[k].number && e.v[k].epoch > e.v[i].epoch &&
          same_directory(e.v[i].path, e.v[k].path) && same_shape(e.v[i].path, e.v[k].path)) {
        later++;
        worse += mode == KCB_MONITOR_MAX ? e.v[k].value < e.v[i].value : e.v[k].value > e.v[i].value;
      }
    n_against += later > 0 && later == worse;
  }
  int against = n_against >= 2 && n_against + 1 >= n_guessed; /* three files or more, each worse than the one before */
  size_t n_labelled = 0, n_mixed = 0;
  for (size_t i = 0; i < e.n; i++)
    n_labelled += e.v[i].readable && e.v[i].source == KCB_RANK_NONE && pending[i].labelled;
  for (size_t i = 0; i < e.n; i++)
    if (e.v[i].source == KCB_RANK_NONE) e.v[i].value = NAN;
  char note[2 * PATH_MAX + 512] = "";
  if (other_value)
    snprintf(note, sizeof note, "the numbers in %zu file name%s (%s the first) are not %s: the CSV log holds the "
             "other names of their template under another column, and has no row of their own: left unranked",
             other_value, other_value == 1 ? "" : "s", first_other, monitor);
  if (other_column)
    snprintf(note + strlen(note), sizeof note - strlen(note), "%sthe numbers in %zu file name%s are the '%s' of %s, "
             "not %s, which it does not log for their epochs: left unranked", note[0] ? "; " : "", other_column,
             other_column == 1 ? "" : "s", shown.column, shown.log, monitor);
#define NOTE(...) snprintf(note + strlen(note), sizeof note - strlen(note), __VA_ARGS__)
  if (n_labelled)
    NOTE("%sthe numbers in %zu file name%s are labelled as another value than %s (val_acc=0.87, lr-0.001): left "
         "unranked (give --monitor NAME to rank by that value)", note[0] ? "; " : "", n_labelled,
         n_labelled == 1 ? "" : "s", monitor);
  if (n_constant)
    NOTE("%s%zu file name%s of one template hold the same number, %g, at every epoch: a setting, not a value %s "
         "took; not used", note[0] ? "; " : "", n_constant, n_constant == 1 ? "" : "s", constant, monitor);
  if (n_guessed && (!o->monitor || !o->monitor[0] || against))
    NOTE("%s%zu value%s read from the one number in the file name%s, taken as %s (%s is better)%s", note[0] ? "; " : "",
         n_guessed, n_guessed == 1 ? " is" : "s are", n_guessed == 1 ? "" : "s", monitor,
         mode == KCB_MONITOR_MAX ? "higher" : "lower",
         against ? mode == KCB_MONITOR_MAX ? ", yet they fall at every saved epoch: if they are another value, give "
                                             "--monitor NAME --mode min, or --template"
                                           : ", yet they rise at every saved epoch, as an accuracy would: if they are "
                                             "one, give --monitor NAME --mode max, or --template"
                 : ": give --monitor and --mode, or --template, if they are another value");
  if (n_runs_shared)
    NOTE("%s%zu files valued by their names share their epoch with another file of their template, whose name "
         "differs in the value alone: taken as saves of several runs into one directory, each valued by its own "
         "name", note[0] ? "; " : "", n_runs_shared);
  /* qsort has no context argument: max mode sorts the negated values (no global state) */
  for (size_t i = 0; mode == KCB_MONITOR_MAX && i < e.n; i++) e.v[i].value = -e.v[i].value;
  if (e.n) qsort(e.v, e.n, sizeof *e.v, cmp_entry);
  for (size_t i = 0; mode == KCB_MONITOR_MAX && i < e.n; i++) e.v[i].value = -e.v[i].value;
  /* files of models of different sizes ranked together: the best may be another model's */
  for (size_t i = 1; i < e.n; i++)
    n_mixed += e.v[i].readable && e.v[i].source != KCB_RANK_NONE && e.v[i].info.n_params != e.v[0].info.n_params;
  if (n_mixed)
    NOTE("%sthe ranked files hold models of different sizes (%zu of them differ from the best, %s, of %zu "
         "parameters): the best may be another model's", note[0] ? "; " : "", n_mixed, e.v[0].path, e.v[0].info.n_params);
#undef NOTE
  if (note[0] && !(r->note = strdup(note))) KCB__TRY(kcb__error(KCB_ENOMEM, "rank: out of memory"));
  for (size_t i = 0; i < e.n; i++)
    if (e.v[i].readable && e.v[i].source != KCB_RANK_NONE) e.v[i].rank = ++r->n_ranked;
  r->entries = e.v;
  r->count = e.n;
  r->mode = mode;
  e.v = NULL;
  e.n = 0;
  *out = r;
  r = NULL;
done:
  for (size_t i = 0; i < e.n; i++) {
    free(e.v[i].path);
    free(e.v[i].error);
  }
  for (size_t i = 0; pending && i < n_pending; i++) free(pending[i].named_path);
  free(e.v);
  free(e.ids);
  free(pending);
  kcb_checkpoint_ranking_free(r);
  return rc;
}

void kcb_checkpoint_ranking_free(kcb_checkpoint_ranking *r) {
  if (!r) return;
  for (size_t i = 0; i < r->count; i++) {
    free(r->entries[i].path);
    free(r->entries[i].error);
  }
  free(r->entries);
  free(r->note);
  free(r);
}

/* ---- export ------------------------------------------------------------------------------ */

int kcb_checkpoint_export(const char *src, const char *dst, kcb_checkpoint_layout layout) {
  kcb_checkpoint_file *f = NULL;
  int rc = kcb_checkpoint_file_open(&f, src);
  if (rc == 0) rc = kcb_checkpoint_file_write(f, dst, layout, NULL);
  kcb_checkpoint_file_close(f);
  return rc;
}
