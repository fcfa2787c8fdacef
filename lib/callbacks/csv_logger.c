/* callbacks/csv_logger.c — Keras's CSVLogger (spec/keras-callbacks.md §2.8): one row per epoch. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "io/csv.h"
#include "model/model_internal.h"

typedef struct csv_logger {
  kcb_callback base;
  char *filename;
  char separator;
  int append;
  int append_header;                   /* write the header before the first row */
  char *existing_header;               /* appending: the file's first line, checked against ours */
  size_t existing_header_len;          /* (it may hold NUL bytes) */
  int mend_line_end;                   /* appending: bytes of line end the file's last line lacks
                                          (2: "\r\n"; 1: the "\n" of a cut "\r\n"), written first */
  FILE *file;                          /* open from train begin to train end */
  char (*keys)[KCB_LOGS_KEY_MAX];      /* the columns after "epoch", frozen at the first epoch */
  size_t n_keys;
  int keys_frozen;
  int epoch_seen;                      /* this fit's first epoch has begun */
  int64_t logged_end;                  /* the file's size after this run's last row (at open: its size) */
  char *note_key;                      /* "csv " + the file's real directory and name: the resume note's key */
  kcb__csv_row row;
} csv_logger;

static int close_file(csv_logger *c) {
  if (!c->file) return 0;
  int failed = fclose(c->file) != 0;
  int err = errno;
  c->file = NULL;
  if (failed) return kcb__error(kcb__error_from_errno(err), "CSVLogger: cannot close %s: %s", c->filename, strerror(err));
  return 0;
}

/* The bytes of line end a log's last line lacks: 0 after "\n" or, in a file of "\r" line ends
 * alone, after "\r"; 1 (the "\n") after a "\r" cut from its "\r\n"; else 2 ("\r\n"). */
static int missing_line_end(const char *text, size_t len) {
  if (len == 0 || text[len - 1] == '\n') return 0;
  if (text[len - 1] == '\r') return memchr(text, '\n', len) ? 1 : 0;
  return 2;
}

/* Before appending (issue 15): the file's header, to compare with this run's at the first row, and
 * its tail: a last line without its line end is mended (else the first new row would be glued to
 * it), a file ending inside a quoted field is refused (every new row would be part of that field). */
/* Every header starts with the field epoch and the separator; a separator among epoch's letters
 * has it quoted ("epoch"e...), as Python's csv module writes it. */
static int starts_as_header(const char *text, size_t len, char separator) {
  if (len >= 6 && memcmp(text, "epoch", 5) == 0 && text[5] == separator) return 1;
  return len >= 8 && memcmp(text, "\"epoch\"", 7) == 0 && text[7] == separator;
}

static int inspect_existing(csv_logger *c) {
  free(c->existing_header);
  c->existing_header = NULL;
  c->mend_line_end = 0;
  c->append_header = 1; /* Keras: a header only when the file is new or empty */
  char *text = NULL;
  size_t len = 0;
  int rc = kcb_file_read(c->filename, 0, &text, &len);
  if (rc == KCB_ENOENT) {
    kcb_error_clear();
    return 0;
  }
  if (rc) return kcb__error(rc, "CSVLogger: cannot append: %s", kcb_error_last());
  /* a spreadsheet that saved the log again may have put a UTF-8 byte order mark first: the header
   * after it is the one to compare (the mark stays in the file) */
  if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) memmove(text, text + 3, len -= 3);
  int quoted = 0;
  size_t header_end = len;
  for (size_t i = 0; i < len; i++) {
    if (text[i] == '"') quoted = !quoted; /* a doubled quote toggles twice */
    /* a line ends at \n, or at a \r alone (a spreadsheet's "CSV (Macintosh)") */
    else if ((text[i] == '\n' || (text[i] == '\r' && (i + 1 == len || text[i + 1] != '\n'))) && !quoted && header_end == len)
      header_end = i;
  }
  if (len > 0) {
    c->append_header = 0;
    if (quoted)
      rc = kcb__error(KCB_EFORMAT, "CSVLogger: cannot append to %s: it ends inside a quoted field (an open quote); the file "
                      "is unchanged", c->filename);
    c->mend_line_end = missing_line_end(text, len);
    if (header_end > 0 && text[header_end - 1] == '\r') header_end--;
    text[header_end] = '\0';
    /* every header starts with "epoch" and the separator: another one is known now, not after the
     * epoch whose row it would refuse */
    if (!rc && !starts_as_header(text, header_end, c->separator))
      rc = kcb__error(KCB_EFORMAT, "CSVLogger: cannot append to %s: its header '%.200s' is not a CSVLogger header with the "
                      "separator '%c' (another separator, or another file); the file is unchanged", c->filename, text,
                      c->separator);
    c->existing_header = text;
    c->existing_header_len = header_end;
    text = NULL;
  }
  free(text);
  return rc;
}

/* The header row built in c->row against the appended file's: a different one means other columns
 * or another separator, and rows appended under it would be read wrong. */
static int check_header(csv_logger *c) {
  if (!c->existing_header) return 0;
  size_t n = c->existing_header_len;
  if (n == c->row.len && memcmp(c->existing_header, c->row.text, n) == 0) return 0;
  return kcb__error(KCB_EFORMAT, "CSVLogger: cannot append to %s: its header '%.200s' is not this run's '%.*s' (other columns "
                    "or another separator); the file is unchanged", c->filename, c->existing_header,
                    (int)(c->row.len > 200 ? 200 : c->row.len), c->row.text);
}

/* The resume note's key: the file by its directory's real path, so that a resume naming it
 * otherwise (./log.csv, an absolute path, runs/x//log.csv) finds the note. malloc'd, or NULL. */
static char *note_key_of(const char *filename) {
  const char *slash = strrchr(filename, '/');
  char *dir = slash ? strndup(filename, slash == filename ? 1 : (size_t)(slash - filename)) : strdup(".");
  char *real = dir ? realpath(dir, NULL) : NULL;
  const char *base = slash ? slash + 1 : filename, *where = real ? real : dir ? dir : "";
  size_t n = strlen(where) + strlen(base) + 6;
  char *key = malloc(n);
  if (key) snprintf(key, n, "csv %s/%s", where, base);
  free(real);
  free(dir);
  return key;
}

static int csv_on_train_begin(kcb_callback *cb, kcb_logs *logs) {
  csv_logger *c = (csv_logger *)cb;
  int rc = close_file(c);
  if (rc) return rc;
  if ((rc = kcb__mkdirs_for(c->filename, "CSVLogger"))) return rc; /* as TensorBoard and ModelCheckpoint do */
  c->epoch_seen = 0;
  if (c->append && (rc = inspect_existing(c)) != 0) return rc;
  /* O_NONBLOCK: a FIFO with no reader fails at once (ENXIO) instead of blocking open() forever; a
   * pipe someone reads, /dev/stdout or /dev/null still work. Writes then block as usual. */
  int fd = open(c->filename, O_WRONLY | O_CREAT | O_NONBLOCK | O_CLOEXEC | (c->append ? O_APPEND : O_TRUNC), 0666);
  if (fd >= 0) {
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    if (!(c->file = fdopen(fd, c->append ? "ab" : "wb"))) close(fd);
  }
  if (!c->file) {
    int err = fd < 0 ? errno : ENOMEM;
    return kcb__error(kcb__error_from_errno(err), "CSVLogger: cannot open %s for writing: %s%s", c->filename, strerror(err),
                      err == ENXIO ? " (a FIFO nobody reads)" : "");
  }
  struct stat st;
  c->logged_end = c->append && fstat(fileno(c->file), &st) == 0 && S_ISREG(st.st_mode) ? (int64_t)st.st_size : 0;
  c->logged_end += c->mend_line_end; /* the rows start after the line end written before them */
  free(c->note_key);
  if (!(c->note_key = note_key_of(c->filename))) return kcb__error(KCB_ENOMEM, "CSVLogger: out of memory");
  c->keys_frozen = 0;
  c->n_keys = 0;
  return 0;
}

/* The epoch a line of the file is the row of, or -1 (the header, other text); *torn says the
 * line ends right after its epoch (a row a kill cut). */
static long long row_epoch(const char *line, size_t len, char separator, int *torn) {
  long long e = 0;
  size_t start = len > 0 && line[0] == '"', i = start; /* quoted when the separator is a digit ("10"1...) */
  for (; i < len && line[i] >= '0' && line[i] <= '9' && e < 1000000000; i++) e = e * 10 + (line[i] - '0');
  int digits = i > start;
  if (start && i < len) {
    if (line[i] != '"') return *torn = 0, -1;
    i++;
  }
  *torn = i == len;
  return digits && (i == len || line[i] == separator) ? e : -1;
}

/* A run that BackupAndRestore resumes, appending to its earlier log: the rows it wrote after its
 * backup, for the epochs it trains again, are dropped, so the log reads as if the run had never
 * stopped (Keras would repeat them). The backup's note says where the run's rows ended at the
 * backup (`kept`): the rows after it that go on from epoch `from` (from, from + 1, ...) are the
 * run's own and go; whatever else is there (another run's rows, before or after them) stays. A
 * note that is no longer a line start in the file (the file was edited or replaced since) drops
 * nothing. `kept` < 0: a backup from before notes were kept, read by the old rule (the rows at
 * the end for epochs >= from). The file is replaced atomically. */
static int drop_rows_from(csv_logger *c, int from, int64_t kept) {
  FILE *f = fopen(c->filename, "rb");
  if (!f) return 0;
  char *text = NULL;
  size_t len = 0, cap = 0;
  int rc = 0;
  for (int ch; (ch = fgetc(f)) != EOF;) {
    if (len + 1 >= cap) {
      char *grown = realloc(text, cap = cap ? 2 * cap : 4096);
      if (!grown) {
        rc = kcb__error(KCB_ENOMEM, "CSVLogger: out of memory reading %s", c->filename);
        break;
      }
      text = grown;
    }
    text[len++] = (char)ch;
  }
  fclose(f);
  size_t cut = 0, cut_end = 0; /* the bytes [cut, cut_end) go */
  if (rc == 0 && kept < 0) {
    size_t dropped = 0;
    cut = 0;
    for (size_t at = 0; at < len;) {
      const char *nl = memchr(text + at, '\n', len - at);
      size_t end = nl ? (size_t)(nl - text) + 1 : len;
      int torn;
      long long e = row_epoch(text + at, end - at, c->separator, &torn);
      if (e >= from && !torn) dropped++; /* a row for an epoch trained again */
      else cut = end, dropped = 0; /* a row that stays keeps every row before it */
      at = end;
    }
    cut_end = dropped ? len : cut;
  } else if (rc == 0 && (uint64_t)kept <= len &&
             (kept == 0 || text[kept - 1] == '\n' || text[kept - 1] == '\r' ||
              (kept == 3 && !memcmp(text, "\xEF\xBB\xBF", 3)))) {
    /* (a log that was a byte order mark alone: the run's header follows it) */
    cut = cut_end = (size_t)kept;
    /* a log the run began: its header, written with the first row, stands at the note */
    if (cut + 6 <= len && memcmp(text + cut, "epoch", 5) == 0 && text[cut + 5] == c->separator) {
      const char *nl = memchr(text + cut, '\n', len - cut);
      cut = cut_end = nl ? (size_t)(nl - text) + 1 : len;
    }
    for (int epoch = from; cut_end < len; epoch++) {
      const char *nl = memchr(text + cut_end, '\n', len - cut_end);
      size_t end = nl ? (size_t)(nl - text) + 1 : len;
      int torn;
      if (row_epoch(text + cut_end, end - cut_end, c->separator, &torn) != epoch) break;
      cut_end = end;
    }
  }
  if (rc == 0 && cut_end > cut) {
    memmove(text + cut, text + cut_end, len - cut_end);
    len -= cut_end - cut;
    rc = kcb__file_write_atomic(c->filename, text, len);
    c->mend_line_end = missing_line_end(text, len); /* a torn row before the ones dropped */
  }
  free(text);
  return rc;
}

/* A run directory moved (or mounted elsewhere) since the backup: the one CSV note of a log of this
 * name, when only one has it. @return 1 found. */
static int moved_note(const kcb_model *m, const char *key, int64_t *value) {
  const char *base = strrchr(key, '/');
  int found = 0;
  for (size_t i = 0; base && i < m->n_notes; i++) {
    const char *k = m->notes[i].key, *kb = strrchr(k, '/');
    if (!strncmp(k, "csv ", 4) && kb && !strcmp(kb, base)) *value = m->notes[i].value, found++;
  }
  return found == 1;
}

static int csv_on_epoch_begin(kcb_callback *cb, int epoch, kcb_logs *logs) {
  csv_logger *c = (csv_logger *)cb;
  (void)logs;
  if (c->epoch_seen) return 0;
  c->epoch_seen = 1;
  /* Decided here, after every on_train_begin (BackupAndRestore's resume included) has run; a run
   * started at initial_epoch appends, as Keras's does */
  if (!c->file || !cb->model) return 0;
  kcb_model *m = cb->model;
  int64_t kept = -2, noted; /* -2: nothing to drop */
  if (c->append && m->resumed) {
    if (kcb__model_note_get(m, c->note_key, &noted) || moved_note(m, c->note_key, &noted))
      kept = noted; /* where its rows ended at the backup */
    else if (!m->notes_loaded) kept = -1; /* a backup from before notes were kept: the old rule */
    /* else a backup that kept notes, none of this file: a CSVLogger new to the resumed run */
  }
  int rc = 0;
  if (kept >= -1) {
    if ((rc = close_file(c)) == 0) rc = drop_rows_from(c, epoch, kept);
    if (rc) return rc;
    int fd = open(c->filename, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0 || !(c->file = fdopen(fd, "ab"))) {
      int err = errno;
      if (fd >= 0) close(fd);
      return kcb__error(kcb__error_from_errno(err), "CSVLogger: cannot open %s for writing: %s", c->filename, strerror(err));
    }
    struct stat st;
    c->logged_end = (fstat(fd, &st) == 0 ? (int64_t)st.st_size : 0) + c->mend_line_end;
  }
  /* kept in the model's resume notes, which every backup carries */
  return kcb__model_note_set(m, c->note_key, c->logged_end);
}

static int add_key(csv_logger *c, const char *prefix, const char *key_in) {
  char key[KCB_LOGS_KEY_MAX]; /* key_in may point into c->keys, which realloc moves */
  size_t np = strlen(prefix), nk = strlen(key_in);
  if (np + nk >= sizeof key) return 0; /* longer than any log key can be: such a column never fills */
  memcpy(key, prefix, np);
  memcpy(key + np, key_in, nk + 1);
  char (*keys)[KCB_LOGS_KEY_MAX] = realloc(c->keys, (c->n_keys + 1) * sizeof *c->keys);
  if (!keys) return kcb__error(KCB_ENOMEM, "CSVLogger: out of memory");
  c->keys = keys;
  memcpy(c->keys[c->n_keys++], key, sizeof key);
  return 0;
}

static int key_order(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

/* Keras freezes the sorted keys of the first epoch and, when none starts with "val_", adds "val_"+k
 * for every key so that validation_freq > 1 keeps its columns. kcb adds them only when fit has
 * validation data, and only for the keys a validation pass logs (no "val_learning_rate"). */
static int freeze_keys(csv_logger *c, const kcb_logs *logs) {
  int rc = 0, has_val = 0;
  for (size_t i = 0; i < logs->count && rc == 0; i++) {
    has_val |= strncmp(logs->entries[i].key, "val_", 4) == 0;
    rc = add_key(c, "", logs->entries[i].key);
  }
  /* The hook's keys are sorted except those callbacks added before this one (learning_rate). */
  if (rc == 0 && c->n_keys) qsort(c->keys, c->n_keys, sizeof *c->keys, key_order);
  size_t n_train = c->n_keys;
  if (!has_val && c->base.params && c->base.params->has_validation)
    for (size_t i = 0; i < n_train && rc == 0; i++)
      if (kcb__validation_logs_key(c->base.model, c->keys[i])) rc = add_key(c, "val_", c->keys[i]);
  c->keys_frozen = rc == 0;
  if (rc) c->n_keys = 0; /* a failure part-way must not leave half the columns for the next try */
  return rc;
}

/* The rows went to the file open, which must still be the log at its name: one deleted (its
 * directory removed) or replaced (an editor's save, a copy moved over it) takes the rows nobody will
 * read, so the run hears of it, as the event writer's does. A device or pipe has no such name. */
static int check_still_there(const csv_logger *c) {
  struct stat open_st, named;
  if (fstat(fileno(c->file), &open_st) != 0 || !S_ISREG(open_st.st_mode)) return 0;
  int named_exists = stat(c->filename, &named) == 0;
  if (named_exists && (named.st_dev != open_st.st_dev || named.st_ino != open_st.st_ino))
    return kcb__error(KCB_ENOENT, "CSVLogger: %s is no longer the file the run writes (it was moved or replaced)",
                      c->filename);
  if (!named_exists || open_st.st_nlink == 0)
    return kcb__error(KCB_ENOENT, "CSVLogger: %s was deleted while the run wrote it (is its directory gone?)", c->filename);
  return 0;
}

static int csv_on_epoch_end(kcb_callback *cb, int epoch, kcb_logs *logs) {
  csv_logger *c = (csv_logger *)cb;
  int rc = 0;
  if (!c->file) return kcb__error(KCB_ESTATE, "CSVLogger: on_epoch_end before on_train_begin (%s is not open)", c->filename);
  if (!c->keys_frozen) {
    if ((rc = freeze_keys(c, logs))) return rc;
    KCB__TRY(kcb__csv_row_add_text(&c->row, "epoch"));
    for (size_t i = 0; i < c->n_keys; i++) KCB__TRY(kcb__csv_row_add_text(&c->row, c->keys[i]));
    if (c->append_header) {
      KCB__TRY(kcb__csv_row_write(&c->row, c->file, c->filename));
    } else {
      if ((rc = check_header(c)) != 0) {
        c->keys_frozen = 0; /* refused again at the next epoch, never a row under the wrong header */
        c->n_keys = 0;
        goto done;
      }
      c->row.len = c->row.n_fields = 0;
      static const char *const mends[3] = {"", "\n", "\r\n"}; /* by the bytes missing */
      if (c->mend_line_end)
        KCB__TRY(kcb__write_all(fileno(c->file), mends[c->mend_line_end], (size_t)c->mend_line_end, c->filename));
      c->mend_line_end = 0;
    }
  }
  KCB__TRY(kcb__csv_row_add_int(&c->row, epoch));
  for (size_t i = 0; i < c->n_keys; i++) {
    const kcb_log_entry *e = kcb_logs_find(logs, c->keys[i]);
    if (!e) rc = kcb__csv_row_add_text(&c->row, "NA");
    /* a one-value tensor is the number, as Keras's pythonify_logs turns it into a float */
    else if (e->tensor && kcb_tensor_size(e->tensor) == 1) rc = kcb__csv_row_add_number(&c->row, e->tensor->data[0]);
    else if (e->tensor) rc = kcb__csv_row_add_list(&c->row, e->tensor->data, (size_t)kcb_tensor_size(e->tensor));
    else rc = kcb__csv_row_add_number(&c->row, e->value);
    KCB__TRY(rc);
  }
  KCB__TRY(kcb__csv_row_write(&c->row, c->file, c->filename));
  KCB__TRY(check_still_there(c));
  struct stat st; /* where this run's rows end now: a backup after this row keeps it (a resume's note) */
  if (cb->model && fstat(fileno(c->file), &st) == 0) {
    c->logged_end = (int64_t)st.st_size;
    KCB__TRY(kcb__model_note_set(cb->model, c->note_key, c->logged_end));
  }
done:
  if (rc) c->row.len = c->row.n_fields = 0; /* drop a half-built row, keep the buffer */
  return rc;
}

static int csv_on_train_end(kcb_callback *cb, kcb_logs *logs) { return close_file((csv_logger *)cb); }

static void csv_destroy(kcb_callback *cb) {
  csv_logger *c = (csv_logger *)cb;
  close_file(c);
  kcb__csv_row_free(&c->row);
  free(c->existing_header);
  free(c->keys);
  free(c->note_key);
  free(c->filename);
}

static const kcb_callback_ops csv_logger_ops = {
    .name = "CSVLogger",
    .on_train_begin = csv_on_train_begin,
    .on_train_end = csv_on_train_end,
    .on_epoch_begin = csv_on_epoch_begin,
    .on_epoch_end = csv_on_epoch_end,
    .destroy = csv_destroy,
};

int kcb_csv_logger_new(kcb_callback **out, const char *filename, const kcb_csv_logger_options *opts) {
  if (!out) return kcb__error(KCB_EINVAL, "CSVLogger: out is NULL");
  kcb_csv_logger_options defaults = KCB_CSV_LOGGER_OPTIONS_INIT;
  const kcb_csv_logger_options *o = opts ? opts : &defaults;
  *out = NULL;
  if (!filename || !filename[0]) return kcb__error(KCB_EINVAL, "CSVLogger: filename is %s", filename ? "empty" : "NULL");
  if (o->separator == '\0' || o->separator == '"' || o->separator == '\r' || o->separator == '\n')
    return kcb__error(KCB_EINVAL, "CSVLogger: separator must be one character other than a quote or a line end (got code %d)",
                      (int)(unsigned char)o->separator);
  csv_logger *c = calloc(1, sizeof *c);
  if (!c || !(c->filename = strdup(filename))) {
    free(c);
    return kcb__error(KCB_ENOMEM, "out of memory creating a CSVLogger");
  }
  c->base.ops = &csv_logger_ops;
  c->base.owned_by_kcb = 1;
  c->separator = o->separator;
  c->append = o->append != 0;
  c->append_header = 1;
  kcb__csv_row_init(&c->row, o->separator);
  *out = &c->base;
  return 0;
}
