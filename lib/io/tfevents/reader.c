/* io/tfevents/reader.c — event files read back: framing and both CRCs checked, Events decoded
 * by protobuf-c into an arena reset per record (no malloc per message), summary values turned
 * into kcb_summary_value whatever form (TF2 tensor or legacy) the writer used. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event.pb-c.h"
#include "internal.h"
#include "io/tfevents/crc32c.h"
#include "io/tfevents/dtype.h"
#include "io/tfevents/pb_depth.h"
#include "io/tfevents/record.h"
#include "plugins.pb-c.h"
#include "summary.pb-c.h"

/* ---- public CRC helpers -------------------------------------------------------------- */

uint32_t kcb_crc32c(const void *data, size_t n) { return kcb__crc32c(data, n); }
uint32_t kcb_crc32c_masked(const void *data, size_t n) { return kcb__crc32c_mask(kcb__crc32c(data, n)); }

const char *kcb_summary_kind_name(kcb_summary_kind kind) {
  static const char *const names[] = {"unknown", "scalar", "histogram", "image", "text", "audio", "tensor", "hparams"};
  return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "unknown";
}

/* ---- arena ----------------------------------------------------------------------------- */

typedef struct arena_block {
  struct arena_block *next;
  size_t used, cap;
  _Alignas(16) unsigned char data[];
} arena_block;

typedef struct arena {
  arena_block *head; /* the current block; older ones follow */
  size_t total;      /* bytes asked for since the last reset */
  int failed;
} arena;

static void *arena_alloc(void *ctx, size_t size) {
  arena *a = ctx;
  size = (size + 15) & ~(size_t)15;
  a->total += size;
  arena_block *b = a->head;
  if (!b || b->used + size > b->cap) {
    size_t cap = b ? b->cap * 2 : 1 << 16;
    while (cap < size) cap *= 2;
    arena_block *nb = malloc(sizeof *nb + cap);
    if (!nb) {
      a->failed = 1;
      return NULL;
    }
    nb->next = b;
    nb->used = 0;
    nb->cap = cap;
    a->head = b = nb;
  }
  void *p = b->data + b->used;
  b->used += size;
  return p;
}

static void arena_free_noop(void *ctx, void *p) { (void)ctx, (void)p; }

/* Keeps one block big enough for everything the last record needed. */
static void arena_reset(arena *a) {
  arena_block *b = a->head;
  if (b && b->next) {
    while (b) {
      arena_block *n = b->next;
      free(b);
      b = n;
    }
    a->head = NULL;
    size_t cap = 1 << 16;
    while (cap < a->total) cap *= 2;
    arena_block *nb = malloc(sizeof *nb + cap);
    if (nb) {
      nb->next = NULL;
      nb->cap = cap;
      a->head = nb;
    }
  }
  if (a->head) a->head->used = 0;
  a->total = 0;
  a->failed = 0;
}

static void arena_destroy(arena *a) {
  arena_block *b = a->head;
  while (b) {
    arena_block *n = b->next;
    free(b);
    b = n;
  }
  a->head = NULL;
}

/* ---- string lists, files and runs ------------------------------------------------------- */

typedef struct strlist {
  char **items;
  size_t n, cap;
} strlist;

static int strlist_push(strlist *l, const char *s) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    char **p = realloc(l->items, cap * sizeof *p);
    if (!p) return kcb__error(KCB_ENOMEM, "out of memory listing event files");
    l->items = p;
    l->cap = cap;
  }
  if (!(l->items[l->n] = strdup(s))) return kcb__error(KCB_ENOMEM, "out of memory listing event files");
  l->n++;
  return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void kcb_string_list_free(char **list, size_t count) {
  if (!list) return;
  for (size_t i = 0; i < count; i++) free(list[i]);
  free(list);
}

/* A directory, or a symbolic link to one: followed, as TensorBoard's data server walks a log
 * directory (a folder of links to runs is how experiments are compared); walk_runs enters each
 * directory once. */
static int is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The directories a walk has entered, by device and inode: each is walked once, however many
 * links lead to it (links to links would otherwise make the walk exponential, a loop endless). */
typedef struct walk_seen {
  struct {
    dev_t dev;
    ino_t ino;
  } *dirs;
  size_t n, cap;
} walk_seen;

/* 1 if dir was entered before (else it is now noted), -1 out of memory. An open-addressing table
 * (cap a power of two, at most half full): a log directory may hold many thousands of runs. */
static int seen_before(walk_seen *w, const struct stat *st) {
  if (2 * (w->n + 1) > w->cap) {
    size_t cap = w->cap ? 2 * w->cap : 256;
    walk_seen grown = {calloc(cap, sizeof *w->dirs), 0, cap};
    if (!grown.dirs) return -1;
    for (size_t i = 0; i < w->cap; i++)
      if (w->dirs[i].ino || w->dirs[i].dev) {
        size_t j = ((size_t)w->dirs[i].ino * 0x9E3779B97F4A7C15ull ^ (size_t)w->dirs[i].dev) & (cap - 1);
        while (grown.dirs[j].ino || grown.dirs[j].dev) j = (j + 1) & (cap - 1);
        grown.dirs[j] = w->dirs[i];
      }
    free(w->dirs);
    w->dirs = grown.dirs, w->cap = cap;
  }
  size_t j = ((size_t)st->st_ino * 0x9E3779B97F4A7C15ull ^ (size_t)st->st_dev) & (w->cap - 1);
  for (; w->dirs[j].ino || w->dirs[j].dev; j = (j + 1) & (w->cap - 1))
    if (w->dirs[j].dev == st->st_dev && w->dirs[j].ino == st->st_ino) return 1;
  w->dirs[j].dev = st->st_dev, w->dirs[j].ino = st->st_ino;
  w->n++;
  return 0;
}

/* A regular file (a link to one counts): a FIFO, socket or device named *tfevents* is no event
 * file, and opening a FIFO would block. */
static int is_regular(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int kcb_tfevents_list_files(const char *run_dir, char ***out_files, size_t *out_count) {
  if (!run_dir || !out_files || !out_count)
    return kcb__error(KCB_EINVAL, "kcb_tfevents_list_files: %s is NULL", !run_dir ? "run_dir" : !out_files ? "out_files" : "out_count");
  *out_files = NULL;
  *out_count = 0;
  DIR *d = opendir(run_dir);
  if (!d) return kcb__error(kcb__error_from_errno(errno), "%s: cannot open the run directory: %s", run_dir, strerror(errno));
  strlist l = {0};
  int rc = 0;
  struct dirent *e;
  while (!rc && (e = readdir(d))) {
    if (!strstr(e->d_name, "tfevents")) continue;
    char *p = kcb__path_join(run_dir, e->d_name);
    if (!p) {
      rc = kcb__error(KCB_ENOMEM, "out of memory listing %s", run_dir);
      break;
    }
    if (is_regular(p)) rc = strlist_push(&l, p);
    free(p);
  }
  closedir(d);
  if (rc) {
    kcb_string_list_free(l.items, l.n);
    return rc;
  }
  if (l.n) qsort(l.items, l.n, sizeof *l.items, cmp_str);
  *out_files = l.items;
  *out_count = l.n;
  return 0;
}

/* Walks dir (relative name rel) collecting runs. */
static int walk_runs(const char *dir, const char *rel, strlist *runs, int depth, walk_seen *seen) {
  if (depth > 64) /* said, not skipped: a run left out in silence would read as a whole listing */
    return kcb__error(KCB_EINVAL, "%s: a directory more than 64 levels below the log directory given; give one nearer "
                      "the runs", dir);
  struct stat st;
  int again = stat(dir, &st) == 0 ? seen_before(seen, &st) : 0;
  if (again < 0) return kcb__error(KCB_ENOMEM, "out of memory listing %s", dir);
  if (again) return 0; /* reached through another link: its runs are listed once */
  DIR *d = opendir(dir);
  /* below the log directory, one that cannot be opened (a root-only lost+found, a name too long)
   * is passed over, as TensorBoard's data server passes over it: the runs that can be read are
   * listed (kcb_tfevents_list_runs says so) */
  if (!d && depth && (errno == EACCES || errno == EPERM || errno == ENOENT || errno == ENOTDIR)) return 0;
  if (!d)
    return kcb__error(kcb__error_from_errno(errno), "%s: cannot open the %s: %s", dir, depth ? "directory" : "log directory",
                      strerror(errno));
  strlist subdirs = {0};
  int has_events = 0, rc = 0;
  struct dirent *e;
  while (!rc && (e = readdir(d))) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    char *p = kcb__path_join(dir, e->d_name);
    if (!p) {
      rc = kcb__error(KCB_ENOMEM, "out of memory listing %s", dir);
      break;
    }
    if (is_dir(p)) rc = strlist_push(&subdirs, e->d_name);
    else if (strstr(e->d_name, "tfevents") && is_regular(p)) has_events = 1;
    free(p);
  }
  closedir(d);
  if (!rc && has_events) rc = strlist_push(runs, rel);
  if (subdirs.n) qsort(subdirs.items, subdirs.n, sizeof *subdirs.items, cmp_str);
  for (size_t i = 0; !rc && i < subdirs.n; i++) {
    char *p = kcb__path_join(dir, subdirs.items[i]);
    char *r = strcmp(rel, ".") == 0 ? strdup(subdirs.items[i]) : kcb__path_join(rel, subdirs.items[i]);
    if (!p || !r) rc = kcb__error(KCB_ENOMEM, "out of memory listing %s", dir);
    else rc = walk_runs(p, r, runs, depth + 1, seen);
    free(p);
    free(r);
  }
  kcb_string_list_free(subdirs.items, subdirs.n);
  return rc;
}

int kcb_tfevents_list_runs(const char *logdir, char ***out_runs, size_t *out_count) {
  if (!logdir || !out_runs || !out_count) return kcb__error(KCB_EINVAL, "list runs: NULL %s", !logdir ? "logdir" : "output");
  *out_runs = NULL;
  *out_count = 0;
  strlist runs = {0};
  walk_seen seen = {NULL, 0, 0};
  int rc = walk_runs(logdir, ".", &runs, 0, &seen);
  free(seen.dirs);
  if (rc) {
    kcb_string_list_free(runs.items, runs.n);
    return rc;
  }
  if (runs.n) qsort(runs.items, runs.n, sizeof *runs.items, cmp_str);
  *out_runs = runs.items;
  *out_count = runs.n;
  return 0;
}

/* ---- checking alone ---------------------------------------------------------------------- */

int kcb_event_file_validate(const char *path, kcb_event_file_check *out) {
  if (!path || !out) return kcb__error(KCB_EINVAL, "event file check: NULL %s", path ? "out" : "path");
  memset(out, 0, sizeof *out);
  struct stat st;
  if (stat(path, &st) != 0)
    return kcb__error(kcb__error_from_errno(errno), "%s: cannot open: %s", path, strerror(errno));
  out->file_size = (uint64_t)st.st_size;
  kcb__record_reader rr;
  int rc = kcb__record_reader_open(&rr, path);
  if (rc) return rc;
  const kcb__record_ref *recs = NULL;
  uint64_t off = 0;
  while ((rc = kcb__record_reader_next(&rr, &recs, &off)) > 0) {
    out->records += (uint64_t)rc;
    out->bytes_ok = off;
  }
  kcb__record_reader_close(&rr);
  /* a file still being written was read past its size at the start: the size is the one read to */
  if (stat(path, &st) == 0 && (uint64_t)st.st_size > out->file_size) out->file_size = (uint64_t)st.st_size;
  if (rc < 0) {
    if (rc == KCB_ETRUNC || rc == KCB_ECRC) {
      out->problem = rc;
      out->problem_offset = off;
    }
    kcb__strlcpy(out->message, kcb_error_last(), sizeof out->message);
  }
  return rc;
}

/* ---- per-tag metadata (first seen wins) --------------------------------------------------- */

typedef struct tag_meta {
  char *tag, *plugin;
  unsigned char *content;
  size_t content_len;
  int data_class;
  int inferred; /* the first value had no metadata: its plugin is its value's kind (TensorBoard's rule) */
} tag_meta;

typedef struct tag_table {
  tag_meta *slots;
  size_t n, cap;
} tag_table;

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull;
  while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211ull;
  return h;
}

static tag_meta *tag_find(const tag_table *t, const char *tag) {
  if (!t->cap) return NULL;
  size_t j = hash_str(tag) & (t->cap - 1);
  while (t->slots[j].tag) {
    if (strcmp(t->slots[j].tag, tag) == 0) return &t->slots[j];
    j = (j + 1) & (t->cap - 1);
  }
  return NULL;
}

static int tag_add(tag_table *t, const char *tag, const char *plugin, const uint8_t *content, size_t len, int dc) {
  if (2 * (t->n + 1) > t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 64;
    tag_meta *s = calloc(cap, sizeof *s);
    if (!s) return kcb__error(KCB_ENOMEM, "reader: out of memory");
    for (size_t i = 0; i < t->cap; i++)
      if (t->slots[i].tag) {
        size_t j = hash_str(t->slots[i].tag) & (cap - 1);
        while (s[j].tag) j = (j + 1) & (cap - 1);
        s[j] = t->slots[i];
      }
    free(t->slots);
    t->slots = s;
    t->cap = cap;
  }
  size_t j = hash_str(tag) & (t->cap - 1);
  while (t->slots[j].tag) j = (j + 1) & (t->cap - 1);
  tag_meta *m = &t->slots[j];
  m->tag = strdup(tag);
  m->plugin = strdup(plugin ? plugin : "");
  m->content = malloc(len + 1);
  if (!m->tag || !m->plugin || !m->content) {
    free(m->tag), free(m->plugin), free(m->content);
    memset(m, 0, sizeof *m);
    return kcb__error(KCB_ENOMEM, "reader: out of memory");
  }
  if (len) memcpy(m->content, content, len);
  m->content_len = len;
  m->data_class = dc;
  t->n++;
  return 0;
}

static void tag_table_free(tag_table *t) {
  for (size_t i = 0; i < t->cap; i++)
    if (t->slots[i].tag) free(t->slots[i].tag), free(t->slots[i].plugin), free(t->slots[i].content);
  free(t->slots);
  memset(t, 0, sizeof *t);
}

/* ---- the reader ------------------------------------------------------------------------- */

struct kcb_event_reader {
  char **files;
  size_t n_files, next_file;
  int file_open;
  kcb__record_reader rr;
  const kcb__record_ref *batch; /* checked records not yet decoded: batch[i_batch..n_batch) */
  size_t n_batch, i_batch;
  arena ar;
  ProtobufCAllocator alloc;
  Kcbpb__Event *ev; /* in the arena */
  tag_table tags;
  kcb_event event;
};

int kcb_event_reader_open(kcb_event_reader **out, const char *path) {
  if (!out) return kcb__error(KCB_EINVAL, "event reader: out is NULL");
  if (!path) return kcb__error(KCB_EINVAL, "event reader: no path");
  *out = NULL;
  kcb_event_reader *r = calloc(1, sizeof *r);
  if (!r) return kcb__error(KCB_ENOMEM, "reader: out of memory");
  r->alloc.alloc = arena_alloc;
  r->alloc.free = arena_free_noop;
  r->alloc.allocator_data = &r->ar;
  r->rr.fd = -1;
  int rc = 0;
  struct stat st;
  if (stat(path, &st) != 0) rc = kcb__error(kcb__error_from_errno(errno), "%s: cannot open: %s", path, strerror(errno));
  else if (S_ISDIR(st.st_mode)) rc = kcb_tfevents_list_files(path, &r->files, &r->n_files);
  else {
    r->files = malloc(sizeof *r->files);
    if (!r->files || !(r->files[0] = strdup(path))) rc = kcb__error(KCB_ENOMEM, "reader: out of memory");
    else r->n_files = 1;
  }
  if (rc) {
    kcb_event_reader_free(r);
    return rc;
  }
  *out = r;
  return 0;
}

void kcb_event_reader_free(kcb_event_reader *r) {
  if (!r) return;
  if (r->file_open) kcb__record_reader_close(&r->rr);
  if (r->ev) arena_reset(&r->ar);
  arena_destroy(&r->ar);
  tag_table_free(&r->tags);
  kcb_string_list_free(r->files, r->n_files);
  free(r);
}

static void *A(kcb_event_reader *r, size_t n) { return arena_alloc(&r->ar, n ? n : 1); }

/* Element i of a little-endian tensor buffer as a double. */
static double element(const uint8_t *p, int dt, size_t i) {
  size_t sz = kcb__dtype_size(dt);
  p += i * sz;
  uint64_t u = 0;
  for (size_t k = 0; k < sz; k++) u |= (uint64_t)p[k] << (8 * k);
  return kcb__dtype_value(u, dt);
}

static void put_le(uint8_t *p, uint64_t v, size_t sz) {
  for (size_t k = 0; k < sz; k++) p[k] = (uint8_t)(v >> (8 * k));
}

/* Fills dtype, shape and tensor_content (typed values converted to little-endian bytes), and
 * blobs for DT_STRING. @return 0 or KCB_ENOMEM. */
static int decode_tensor(kcb_event_reader *r, const Kcbpb__TensorProto *t, kcb_summary_value *v) {
  v->dtype = (int)t->dtype;
  size_t rank = t->tensor_shape ? t->tensor_shape->n_dim : 0;
  int64_t *shape = A(r, (rank + 1) * sizeof *shape);
  if (!shape) return KCB_ENOMEM;
  for (size_t i = 0; i < rank; i++) shape[i] = t->tensor_shape->dim[i]->size;
  v->rank = (int)rank;
  v->shape = shape;
  if (t->dtype == KCBPB__DATA_TYPE__DT_STRING) {
    kcb_bytes *b = A(r, (t->n_string_val + 1) * sizeof *b);
    if (!b) return KCB_ENOMEM;
    for (size_t i = 0; i < t->n_string_val; i++) b[i].data = t->string_val[i].data, b[i].len = t->string_val[i].len;
    v->blobs = b;
    v->n_blobs = t->n_string_val;
    return 0;
  }
  if (t->tensor_content.len) {
    v->tensor_content.data = t->tensor_content.data;
    v->tensor_content.len = t->tensor_content.len;
    return 0;
  }
  size_t sz = kcb__dtype_size(v->dtype), n = 0;
  if (!sz) return 0;
  switch (t->dtype) {
    case KCBPB__DATA_TYPE__DT_FLOAT: n = t->n_float_val; break;
    case KCBPB__DATA_TYPE__DT_DOUBLE: n = t->n_double_val; break;
    case KCBPB__DATA_TYPE__DT_INT64: n = t->n_int64_val; break;
    case KCBPB__DATA_TYPE__DT_UINT64: n = t->n_uint64_val; break;
    case KCBPB__DATA_TYPE__DT_UINT32: n = t->n_uint32_val; break;
    case KCBPB__DATA_TYPE__DT_BOOL: n = t->n_bool_val; break;
    case KCBPB__DATA_TYPE__DT_HALF: case KCBPB__DATA_TYPE__DT_BFLOAT16: n = t->n_half_val; break;
    default: n = t->n_int_val; break;
  }
  uint8_t *p = A(r, n * sz);
  if (!p) return KCB_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    uint64_t u = 0;
    switch (t->dtype) {
      case KCBPB__DATA_TYPE__DT_FLOAT: { uint32_t b; memcpy(&b, &t->float_val[i], 4); u = b; break; }
      case KCBPB__DATA_TYPE__DT_DOUBLE: memcpy(&u, &t->double_val[i], 8); break;
      case KCBPB__DATA_TYPE__DT_INT64: u = (uint64_t)t->int64_val[i]; break;
      case KCBPB__DATA_TYPE__DT_UINT64: u = t->uint64_val[i]; break;
      case KCBPB__DATA_TYPE__DT_UINT32: u = t->uint32_val[i]; break;
      case KCBPB__DATA_TYPE__DT_BOOL: u = t->bool_val[i] != 0; break;
      case KCBPB__DATA_TYPE__DT_HALF: case KCBPB__DATA_TYPE__DT_BFLOAT16: u = (uint32_t)t->half_val[i]; break;
      default: u = (uint64_t)(int64_t)t->int_val[i]; break;
    }
    put_le(p + i * sz, u, sz);
  }
  v->tensor_content.data = p;
  v->tensor_content.len = n * sz;
  return 0;
}

static size_t tensor_elements(const kcb_summary_value *v) {
  size_t sz = kcb__dtype_size(v->dtype);
  return sz ? v->tensor_content.len / sz : 0;
}

static int hist_from_tensor(kcb_event_reader *r, kcb_summary_value *v) {
  size_t n = tensor_elements(v);
  if (v->rank != 2 || v->shape[1] != 3 || n % 3 || v->shape[0] < 0 || (uint64_t)v->shape[0] != n / 3) return 0;
  size_t k = n / 3;
  kcb_histogram_bucket *b = A(r, (k + 1) * sizeof *b);
  if (!b) return KCB_ENOMEM;
  double num = 0;
  v->hist_min = NAN, v->hist_max = NAN;
  for (size_t i = 0; i < k; i++) {
    b[i].left = element(v->tensor_content.data, v->dtype, 3 * i);
    b[i].right = element(v->tensor_content.data, v->dtype, 3 * i + 1);
    b[i].count = element(v->tensor_content.data, v->dtype, 3 * i + 2);
    num += b[i].count;
    if (b[i].count > 0) {
      if (isnan(v->hist_min)) v->hist_min = b[i].left;
      v->hist_max = b[i].right;
    }
  }
  v->buckets = b;
  v->n_buckets = k;
  v->hist_num = num;
  v->hist_sum = v->hist_sum_squares = NAN;
  v->kind = KCB_SUMMARY_HISTOGRAM;
  return 0;
}

/* TensorBoard's migration of a legacy HistogramProto (data_compat.py): empty buckets at both
 * ends are dropped; the first kept bucket starts at min, the last ends at max. */
static int hist_from_proto(kcb_event_reader *r, const Kcbpb__HistogramProto *h, kcb_summary_value *v) {
  size_t n = h->n_bucket < h->n_bucket_limit ? h->n_bucket : h->n_bucket_limit;
  size_t start = 0, end = n; /* kept: [start, end) */
  while (start < n && !(h->bucket[start] > 0)) start++;
  while (end > start && !(h->bucket[end - 1] > 0)) end--;
  size_t k = end - start;
  kcb_histogram_bucket *b = A(r, (k + 1) * sizeof *b);
  if (!b) return KCB_ENOMEM;
  for (size_t i = 0; i < k; i++) {
    b[i].left = i == 0 ? h->min : h->bucket_limit[start + i - 1];
    b[i].right = i + 1 == k ? h->max : h->bucket_limit[start + i];
    b[i].count = h->bucket[start + i];
  }
  v->buckets = b;
  v->n_buckets = k;
  v->hist_min = h->min, v->hist_max = h->max, v->hist_num = h->num;
  v->hist_sum = h->sum, v->hist_sum_squares = h->sum_squares;
  v->kind = KCB_SUMMARY_HISTOGRAM;
  return 0;
}

/* An image's width or height as the plugin writes it, a decimal string; 0 (unknown) for one that
 * is not a whole number of at most 9 digits, rather than its first digits. */
static int parse_int_blob(const kcb_bytes *b) {
  int x = 0;
  if (b->len == 0 || b->len > 9) return 0;
  for (size_t i = 0; i < b->len; i++) {
    if (b->data[i] < '0' || b->data[i] > '9') return 0;
    x = x * 10 + (b->data[i] - '0');
  }
  return x;
}

typedef struct keyed {
  const char *key;
  size_t i;
} keyed;

static int key_cmp(const keyed *x, const keyed *y) { return strcmp(x->key ? x->key : "", y->key ? y->key : ""); }

static int by_key_then_index(const void *a, const void *b) {
  const keyed *x = a, *y = b;
  int c = key_cmp(x, y);
  return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* session_start_info's hparams are a protobuf map: a key given twice holds its last value (as
 * TensorBoard reads it), shown where the key first came. @return the count left. */
static size_t dedupe_hparams(kcb_hparam_value *hv, size_t n) {
  if (n < 2) return n;
  keyed *k = malloc(n * sizeof *k);
  unsigned char *drop = calloc(n, 1);
  if (!k || !drop) { /* left as written: every value listed */
    free(k), free(drop);
    return n;
  }
  for (size_t i = 0; i < n; i++) k[i] = (keyed){hv[i].name, i};
  qsort(k, n, sizeof *k, by_key_then_index);
  for (size_t a = 0, b; a < n; a = b) {
    for (b = a + 1; b < n && key_cmp(&k[a], &k[b]) == 0; b++) drop[k[b].i] = 1;
    if (b - a > 1) hv[k[a].i] = hv[k[b - 1].i];
  }
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (!drop[i]) hv[m++] = hv[i];
  free(k), free(drop);
  return m;
}

static int decode_hparams(kcb_event_reader *r, kcb_summary_value *v) {
  /* hparams' Value/ListValue/Struct nest without end: bounded before protobuf-c recurses. The
   * Event schema itself is not recursive (test_tfevents_reader checks), so it needs no check. */
  if (!kcb__pb_depth_ok(&kcbpb__hparams_plugin_data__descriptor, v->plugin_content.data, v->plugin_content.len,
                        KCB__PB_MAX_DEPTH))
    return kcb__error(KCB_EFORMAT, "hparams plugin data nested more than %d messages deep", KCB__PB_MAX_DEPTH);
  Kcbpb__HParamsPluginData *d = kcbpb__hparams_plugin_data__unpack(
      &r->alloc, v->plugin_content.len, v->plugin_content.data);
  if (!d) return 0; /* left as a plain tensor value */
  v->kind = KCB_SUMMARY_HPARAMS;
  if (d->data_case == KCBPB__HPARAMS_PLUGIN_DATA__DATA_EXPERIMENT && d->experiment) {
    const Kcbpb__Experiment *e = d->experiment;
    v->hp_kind = KCB_HPARAMS_EXPERIMENT;
    v->hp_time = e->time_created_secs;
    kcb_hparam_value *hv = A(r, (e->n_hparam_infos + 1) * sizeof *hv);
    const char **groups = A(r, (e->n_metric_infos + 1) * sizeof *groups);
    const char **tags = A(r, (e->n_metric_infos + 1) * sizeof *tags);
    const char **shown = A(r, (e->n_metric_infos + 1) * sizeof *shown);
    if (!hv || !groups || !tags || !shown) return KCB_ENOMEM;
    for (size_t i = 0; i < e->n_hparam_infos; i++) {
      memset(&hv[i], 0, sizeof hv[i]);
      hv[i].name = e->hparam_infos[i]->name;
      int t = (int)e->hparam_infos[i]->type;
      hv[i].type = t == 3 ? 0 : t == 1 ? 1 : t == 2 ? 2 : 3;
    }
    for (size_t i = 0; i < e->n_metric_infos; i++) {
      const Kcbpb__MetricName *mn = e->metric_infos[i]->name;
      groups[i] = mn ? mn->group : "";
      tags[i] = mn ? mn->tag : "";
      shown[i] = e->metric_infos[i]->display_name ? e->metric_infos[i]->display_name : "";
    }
    v->hp_metric_display_names = shown;
    v->hp_values = hv, v->n_hp_values = e->n_hparam_infos;
    v->hp_metric_groups = groups, v->hp_metric_tags = tags, v->n_hp_metrics = e->n_metric_infos;
  } else if (d->data_case == KCBPB__HPARAMS_PLUGIN_DATA__DATA_SESSION_START_INFO && d->session_start_info) {
    const Kcbpb__SessionStartInfo *s = d->session_start_info;
    v->hp_kind = KCB_HPARAMS_SESSION_START;
    v->hp_time = s->start_time_secs;
    v->hp_group_name = s->group_name;
    kcb_hparam_value *hv = A(r, (s->n_hparams + 1) * sizeof *hv);
    if (!hv) return KCB_ENOMEM;
    for (size_t i = 0; i < s->n_hparams; i++) {
      memset(&hv[i], 0, sizeof hv[i]);
      hv[i].name = s->hparams[i]->key;
      const Kcbpb__Protobuf__Value *val = s->hparams[i]->value;
      hv[i].type = 3;
      if (!val) continue;
      if (val->kind_case == KCBPB__PROTOBUF__VALUE__KIND_NUMBER_VALUE) hv[i].type = 0, hv[i].number = val->number_value;
      else if (val->kind_case == KCBPB__PROTOBUF__VALUE__KIND_STRING_VALUE) hv[i].type = 1, hv[i].string = val->string_value;
      else if (val->kind_case == KCBPB__PROTOBUF__VALUE__KIND_BOOL_VALUE) hv[i].type = 2, hv[i].boolean = val->bool_value;
    }
    v->hp_values = hv, v->n_hp_values = dedupe_hparams(hv, s->n_hparams);
  } else if (d->data_case == KCBPB__HPARAMS_PLUGIN_DATA__DATA_SESSION_END_INFO && d->session_end_info) {
    v->hp_kind = KCB_HPARAMS_SESSION_END;
    v->hp_status = (int)d->session_end_info->status;
    v->hp_time = d->session_end_info->end_time_secs;
  }
  return 0;
}

static int decode_value(kcb_event_reader *r, const Kcbpb__Summary__Value *pv, kcb_summary_value *v) {
  memset(v, 0, sizeof *v);
  v->tag = pv->tag ? pv->tag : "";
  v->plugin_name = "";
  v->scalar = NAN;
  v->hist_min = v->hist_max = v->hist_num = v->hist_sum = v->hist_sum_squares = NAN;
  /* A tag keeps its first value's metadata, as TensorBoard's data server does: every later value
   * is read by it, whatever metadata it carries. A first value without metadata gets its kind's
   * plugin (a simple_value: scalars), and values without metadata are reported as such. */
  const Kcbpb__SummaryMetadata *md = pv->metadata;
  tag_meta *first = tag_find(&r->tags, v->tag);
  if (!first) {
    const char *plugin = md && md->plugin_data && md->plugin_data->plugin_name ? md->plugin_data->plugin_name : "";
    if (!md) {
      plugin = pv->value_case == KCBPB__SUMMARY__VALUE__VALUE_SIMPLE_VALUE ? "scalars"
               : pv->value_case == KCBPB__SUMMARY__VALUE__VALUE_HISTO ? "histograms"
               : pv->value_case == KCBPB__SUMMARY__VALUE__VALUE_IMAGE ? "images"
               : pv->value_case == KCBPB__SUMMARY__VALUE__VALUE_AUDIO ? "audio" : "";
    }
    int rc = md ? tag_add(&r->tags, v->tag, plugin, md->plugin_data ? md->plugin_data->content.data : NULL,
                          md->plugin_data ? md->plugin_data->content.len : 0, (int)md->data_class)
                : tag_add(&r->tags, v->tag, plugin, NULL, 0, 0);
    if (rc) return rc;
    first = tag_find(&r->tags, v->tag);
    if (first && !md) first->inferred = 1;
  }
  if (md) v->has_metadata = 1;
  if (first && (md || !first->inferred)) {
    v->plugin_name = first->plugin;
    v->plugin_content.data = first->content, v->plugin_content.len = first->content_len;
    v->data_class = first->data_class;
  }
  const char *pl = v->plugin_name;
  int rc = 0;
  switch (pv->value_case) {
    case KCBPB__SUMMARY__VALUE__VALUE_SIMPLE_VALUE:
      v->kind = KCB_SUMMARY_SCALAR;
      v->scalar = pv->simple_value;
      break;
    case KCBPB__SUMMARY__VALUE__VALUE_HISTO:
      if (pv->histo) rc = hist_from_proto(r, pv->histo, v);
      break;
    case KCBPB__SUMMARY__VALUE__VALUE_IMAGE:
      if (pv->image) {
        kcb_bytes *b = A(r, sizeof *b);
        if (!b) return KCB_ENOMEM;
        b->data = pv->image->encoded_image_string.data, b->len = pv->image->encoded_image_string.len;
        v->kind = KCB_SUMMARY_IMAGE;
        v->blobs = b, v->n_blobs = 1;
        v->width = pv->image->width, v->height = pv->image->height, v->colorspace = pv->image->colorspace;
      }
      break;
    case KCBPB__SUMMARY__VALUE__VALUE_AUDIO:
      if (pv->audio) {
        kcb_bytes *b = A(r, sizeof *b);
        if (!b) return KCB_ENOMEM;
        b->data = pv->audio->encoded_audio_string.data, b->len = pv->audio->encoded_audio_string.len;
        v->kind = KCB_SUMMARY_AUDIO;
        v->blobs = b, v->n_blobs = 1;
        v->sample_rate = pv->audio->sample_rate;
        v->num_channels = pv->audio->num_channels, v->length_frames = pv->audio->length_frames;
      }
      break;
    case KCBPB__SUMMARY__VALUE__VALUE_TENSOR: {
      if (!pv->tensor) break;
      if ((rc = decode_tensor(r, pv->tensor, v))) break;
      v->kind = KCB_SUMMARY_TENSOR;
      if (strcmp(pl, "scalars") == 0 || (!*pl && v->data_class == 1)) {
        if (tensor_elements(v) == 1) {
          v->kind = KCB_SUMMARY_SCALAR;
          v->scalar = element(v->tensor_content.data, v->dtype, 0);
        }
      } else if (strcmp(pl, "histograms") == 0) {
        rc = hist_from_tensor(r, v);
      } else if (strcmp(pl, "images") == 0 && v->dtype == KCB_DT_STRING && v->n_blobs >= 2) {
        v->kind = KCB_SUMMARY_IMAGE;
        v->width = parse_int_blob(&v->blobs[0]);
        v->height = parse_int_blob(&v->blobs[1]);
        v->blobs += 2;
        v->n_blobs -= 2;
      } else if (strcmp(pl, "audio") == 0 && v->dtype == KCB_DT_STRING) {
        v->kind = KCB_SUMMARY_AUDIO;
        if (v->rank == 2 && v->shape[1] == 2 && v->shape[0] >= 0 && v->n_blobs % 2 == 0 &&
            v->n_blobs / 2 == (size_t)v->shape[0]) { /* divide: a shape from the file must not wrap */
          size_t k = (size_t)v->shape[0];
          kcb_bytes *clips = A(r, (k + 1) * sizeof *clips), *labels = A(r, (k + 1) * sizeof *labels);
          if (!clips || !labels) return KCB_ENOMEM;
          for (size_t i = 0; i < k; i++) clips[i] = v->blobs[2 * i], labels[i] = v->blobs[2 * i + 1];
          v->blobs = clips, v->labels = labels, v->n_blobs = k;
        }
      } else if (strcmp(pl, "text") == 0 && v->dtype == KCB_DT_STRING) {
        v->kind = KCB_SUMMARY_TEXT;
      } else if (strcmp(pl, "hparams") == 0) {
        rc = decode_hparams(r, v);
      }
      break;
    }
    default:
      /* torch writes hparams values with metadata only, no tensor */
      if (strcmp(pl, "hparams") == 0) rc = decode_hparams(r, v);
      break;
  }
  return rc;
}

/* Decodes the record just read into r->event. */
static int decode_event(kcb_event_reader *r, const char *file, uint64_t offset, const unsigned char *data, size_t n) {
  arena_reset(&r->ar);
  Kcbpb__Event *ev = kcbpb__event__unpack(&r->alloc, n, data);
  if (!ev) {
    if (r->ar.failed) return kcb__error(KCB_ENOMEM, "%s: out of memory decoding the record at offset %llu", file, (unsigned long long)offset);
    return kcb__error(KCB_EFORMAT, "%s: the record at offset %llu is not a valid Event", file, (unsigned long long)offset);
  }
  r->ev = ev;
  kcb_event *e = &r->event;
  memset(e, 0, sizeof *e);
  e->file = file;
  e->offset = offset;
  e->record.data = data, e->record.len = n;
  e->wall_time = ev->wall_time;
  e->step = ev->step;
  e->session_status = -1;
  if (ev->source_metadata) e->source_writer = ev->source_metadata->writer;
  switch (ev->what_case) {
    case KCBPB__EVENT__WHAT_FILE_VERSION: e->file_version = ev->file_version; break;
    case KCBPB__EVENT__WHAT_GRAPH_DEF: e->graph_def.data = ev->graph_def.data, e->graph_def.len = ev->graph_def.len; break;
    case KCBPB__EVENT__WHAT_SESSION_LOG:
      if (ev->session_log) {
        e->session_status = (int)ev->session_log->status;
        e->session_msg = ev->session_log->msg;
        e->checkpoint_path = ev->session_log->checkpoint_path;
      }
      break;
    case KCBPB__EVENT__WHAT_SUMMARY:
      if (ev->summary && ev->summary->n_value) {
        size_t k = ev->summary->n_value;
        kcb_summary_value *vals = A(r, k * sizeof *vals);
        if (!vals) return kcb__error(KCB_ENOMEM, "%s: out of memory", file);
        for (size_t i = 0; i < k; i++) {
          kcb_error_clear();
          int rc = decode_value(r, ev->summary->value[i], &vals[i]);
          if (rc) {
            char why[512]; /* a detail the decoder gave, else the code's text (copied: kcb__error overwrites it) */
            kcb__strlcpy(why, *kcb_error_last() ? kcb_error_last() : kcb_strerror(rc), sizeof why);
            return kcb__error(rc, "%s: decoding the record at offset %llu: %s", file, (unsigned long long)offset, why);
          }
        }
        e->values = vals;
        e->n_values = k;
      }
      break;
    default: break;
  }
  return 0;
}

int kcb_event_reader_next(kcb_event_reader *r, const kcb_event **out) {
  if (!r || !out) return kcb__error(KCB_EINVAL, "event reader: NULL %s", r ? "out" : "reader");
  *out = NULL;
  for (;;) {
    if (!r->file_open) {
      if (r->next_file >= r->n_files) return 0;
      int rc = kcb__record_reader_open(&r->rr, r->files[r->next_file++]);
      if (rc) return rc;
      r->file_open = 1;
      r->n_batch = r->i_batch = 0;
    }
    if (r->i_batch < r->n_batch) {
      const kcb__record_ref *rec = &r->batch[r->i_batch++];
      int rc = decode_event(r, r->rr.path, rec->offset, rec->data, rec->len);
      if (rc) return rc;
      *out = &r->event;
      return 1;
    }
    uint64_t off = 0;
    int rc = kcb__record_reader_next(&r->rr, &r->batch, &off);
    if (rc <= 0) {
      kcb__record_reader_close(&r->rr);
      r->file_open = 0;
      if (rc == 0) continue;
      return rc;
    }
    r->n_batch = (size_t)rc;
    r->i_batch = 0;
  }
}
