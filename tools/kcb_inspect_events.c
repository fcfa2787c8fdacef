/* kcb-inspect histograms | images | text: summaries that need their payload decoded, read with
 * kcb's event reader (kcb/tfevents.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kcb_inspect.h"

/* Calls fn for every event of a run; damaged records are warned about (and *problem set), the
 * reader then goes on as kcb_event_reader_next describes. @return 0, fn's non-zero result, or
 * EXIT_DATA when the run cannot be read. */
typedef int (*event_fn)(void *ctx, const run_ref *run, const kcb_event *e);

/* The events TensorBoard's data server keeps of a run (alive[i] for the i-th event read): a
 * value at step s replaces its tag's earlier values at steps >= s (a restarted run relogging its
 * steps); a SessionLog START changes nothing by itself (the data server reads none). As kcb's run
 * reader does for scalars. An event stays when one of its values does. @return the flags (free),
 * or NULL. */
static unsigned char *surviving_events(const run_ref *run, size_t *n_events) {
  typedef struct {
    int64_t *step;
    size_t *event, n, cap;
  } kept;
  kcb_event_reader *r = NULL;
  *n_events = 0;
  if (kcb_event_reader_open(&r, run->path) != 0) return NULL;
  strmap tags = {0};
  kept *k = NULL;
  size_t n_tags = 0, cap_tags = 0, n = 0, cap = 0;
  unsigned char *alive = NULL;
  int ok = 1;
  const kcb_event *e;
  for (int rc; ok && (rc = kcb_event_reader_next(r, &e)) != 0;) {
    if (rc < 0) {
      if (rc == KCB_ETRUNC || rc == KCB_ECRC || rc == KCB_EFORMAT) continue;
      break;
    }
    if (n == cap) {
      unsigned char *grown = realloc(alive, (cap = cap ? 2 * cap : 1024));
      if (!(ok = grown != NULL)) break;
      alive = grown;
    }
    alive[n] = 0;
    for (size_t i = 0; ok && i < e->n_values; i++) {
      size_t t;
      if (!strmap_get(&tags, e->values[i].tag, &t)) {
        if (n_tags == cap_tags) {
          kept *grown = realloc(k, (cap_tags = cap_tags ? 2 * cap_tags : 64) * sizeof *k);
          if (!(ok = grown != NULL)) break;
          k = grown;
        }
        memset(&k[n_tags], 0, sizeof k[n_tags]);
        t = n_tags++;
        if (!(ok = strmap_put(&tags, e->values[i].tag, t, NULL) >= 0)) break;
      }
      while (k[t].n && k[t].step[k[t].n - 1] >= e->step) k[t].n--;
      if (k[t].n == k[t].cap) {
        size_t c = k[t].cap ? 2 * k[t].cap : 16;
        int64_t *st = realloc(k[t].step, c * sizeof *st);
        size_t *ev = st ? realloc(k[t].event, c * sizeof *ev) : NULL;
        if (st) k[t].step = st;
        if (!(ok = st && ev)) break;
        k[t].event = ev, k[t].cap = c;
      }
      k[t].step[k[t].n] = e->step, k[t].event[k[t].n++] = n;
    }
    n++;
  }
  for (size_t t = 0; t < n_tags; t++) {
    for (size_t j = 0; ok && j < k[t].n; j++) alive[k[t].event[j]] = 1;
    free(k[t].step);
    free(k[t].event);
  }
  free(k);
  strmap_free(&tags);
  kcb_event_reader_free(r);
  kcb_error_clear();
  if (!ok) {
    free(alive);
    return NULL;
  }
  *n_events = n;
  return alive;
}

static int each_event(const char *cmd, const run_ref *run, event_fn fn, void *ctx, int *problem) {
  kcb_event_reader *r = NULL;
  size_t n_alive = 0, index = 0;
  unsigned char *alive = surviving_events(run, &n_alive); /* NULL: every event (out of memory) */
  int rc = kcb_event_reader_open(&r, run->path);
  if (rc) {
    free(alive);
    *problem = 1;
    return lib_fail(cmd, rc);
  }
  const kcb_event *e;
  for (;;) {
    rc = kcb_event_reader_next(r, &e);
    if (rc == 0) break;
    if (rc < 0) {
      if (rc == KCB_ETRUNC || rc == KCB_ECRC || rc == KCB_EFORMAT) {
        fprintf(stderr, "kcb-inspect %s: warning: ", cmd);
        fput_esc(stderr, kcb_error_last(), strlen(kcb_error_last()), 0);
        fprintf(stderr, " (%s); %s\n", kcb_error_name(rc),
                rc == KCB_ETRUNC ? "the records before it were read" : "the record was skipped, the others are read");
        *problem = 1;
        continue;
      }
      *problem = 1;
      rc = lib_fail(cmd, rc);
      break;
    }
    size_t i = index++;
    if (alive && i < n_alive && !alive[i]) continue; /* replaced by a later value of its step */
    if ((rc = fn(ctx, run, e))) break;
  }
  free(alive);
  kcb_event_reader_free(r);
  return rc;
}

/* The options the three commands share. */
typedef struct select_args {
  args a;
  run_ref *runs;
  size_t n_runs;
  const char *tag;
  int json;
  int problem;
  size_t matched;
} select_args;

/* Parses, finds and selects the runs. @return 0, EXIT_* to return (help printed: -1). */
static int select_open(select_args *s, const char *cmd, int argc, char **argv, const opt_spec *specs, const char *help) {
  memset(s, 0, sizeof *s);
  int want_help, rc = args_parse(&s->a, cmd, argc, argv, specs, &want_help);
  if (rc) return rc;
  if (want_help) {
    fputs(help, stdout);
    return -1;
  }
  if (s->a.n_pos != 1) return usage_error(cmd, "expected one LOGDIR");
  s->tag = args_get(&s->a, "--tag", NULL);
  s->json = args_has(&s->a, "--json");
  const char *names[256];
  size_t n_names = args_all(&s->a, "--run", names, 256);
  if ((rc = runs_find(s->a.pos[0], &s->runs, &s->n_runs))) return kcb_error_last()[0] ? lib_fail(cmd, rc) : EXIT_DATA;
  return runs_select(cmd, s->runs, &s->n_runs, names, n_names);
}

static void select_close(select_args *s) {
  runs_free(s->runs, s->n_runs);
  args_free(&s->a);
}

/* The final status: a filter that matched nothing is a data error. */
static int select_status(const select_args *s, const char *cmd, const char *what, kcb_summary_kind kind) {
  if (!s->matched) {
    char near[600];
    const char *best = s->tag ? tag_suggestion(s->runs, s->n_runs, s->tag, (int)kind, 0, near, sizeof near) : NULL;
    if (s->tag)
      return data_fail(cmd, "no %s with the tag '%s'%s%s%s (see kcb-inspect runs %s)", what, s->tag,
                       best ? " (did you mean " : "", best ? best : "", best ? "?)" : "", s->a.pos[0]);
    return data_fail(cmd, "no %s in %s", what, s->a.pos[0]);
  }
  return s->problem ? EXIT_DATA : EXIT_OK;
}

static void json_run_tag_step(const run_ref *run, const kcb_event *e, const kcb_summary_value *v) {
  printf("{\"run\": ");
  json_str(stdout, run->name);
  printf(", \"tag\": ");
  json_str(stdout, v->tag);
  printf(", \"step\": %lld, \"wall_time\": ", (long long)e->step);
  json_num(stdout, e->wall_time);
}

/* ---- histograms --------------------------------------------------------------------------------- */

static const char histograms_help[] =
    "usage: kcb-inspect histograms LOGDIR [--tag TAG] [--run RUN]... [--buckets] [--json]\n"
    "\n"
    "Lists the histograms of every run: step, number of values, least and greatest value, mean\n"
    "(from the sum when the writer stored it, as a HistogramProto does; else estimated from the\n"
    "bucket midpoints, shown with '~': TF2 [k,3] tensors carry no sum) and a sparkline of the\n"
    "bucket counts ('(empty)' for no values). TF2 [k,3] tensors and legacy HistogramProtos\n"
    "(converted as TensorBoard converts them) both read; a value of the histograms plugin that is\n"
    "no [k,3] tensor is skipped with a warning. As in TensorBoard, a value at a step a\n"
    "later one of its tag logged again (a run trained again into the directory, or resumed) is not\n"
    "shown; so for images, audio, text and kcb-inspect plugins' PR curves.\n"
    "\n"
    "  --tag TAG   only this tag [all]\n"
    "  --run RUN   only this run (repeatable) [all]\n"
    "  --buckets   also print every bucket under its histogram: count, left and right edge\n"
    "  --json      {\"histograms\": [{\"run\", \"tag\", \"step\", \"wall_time\", \"count\", \"min\", \"max\",\n"
    "              \"sum\", \"sum_squares\" (null if not stored), \"buckets\": [[left, right, count],\n"
    "              ...]}]}\n"
    "\n"
    "Exit status: 0; 1 if nothing matched or a run is missing or damaged; 2 usage error.\n";

/* The sparkline's bins: equal widths from the first bucket's left edge to the last one's right
 * edge, each bucket's count spread evenly over its range (as TensorBoard re-bins for display),
 * so that unevenly spaced buckets (TensorFlow's exponential ones) draw the true shape. */
#define HIST_BINS 24

static void rebin(const kcb_summary_value *v, double out[HIST_BINS]) {
  for (int i = 0; i < HIST_BINS; i++) out[i] = 0;
  if (!v->n_buckets) return;
  double lo = v->buckets[0].left, hi = v->buckets[v->n_buckets - 1].right;
  if (!(hi > lo)) {
    for (size_t k = 0; k < v->n_buckets; k++) out[HIST_BINS / 2] += v->buckets[k].count;
    return;
  }
  double w = (hi - lo) / HIST_BINS;
  for (size_t k = 0; k < v->n_buckets; k++) {
    double l = v->buckets[k].left, r = v->buckets[k].right, n = v->buckets[k].count;
    if (!(r > l)) { /* a zero-width bucket: all of it in one bin */
      int i = (int)((l - lo) / w);
      out[i < 0 ? 0 : i >= HIST_BINS ? HIST_BINS - 1 : i] += n;
      continue;
    }
    for (int i = 0; i < HIST_BINS; i++) {
      double bl = lo + i * w, br = bl + w;
      double ov = (r < br ? r : br) - (l > bl ? l : bl);
      if (ov > 0) out[i] += n * ov / (r - l);
    }
  }
}

typedef struct hist_ctx {
  select_args *s;
  table t;
  int buckets;
  /* values of the histograms plugin that are no [k,3] bucket tensor, in the current run: how many,
   * and the first one, for the run's warning */
  size_t unreadable;
  char first_unreadable[320];
} hist_ctx;

/* Notes a value under the histograms plugin that the reader could not take as buckets. */
static void note_unreadable_histogram(hist_ctx *h, const kcb_event *e, const kcb_summary_value *v) {
  if (h->unreadable++) return;
  char shape[96] = "[";
  for (int d = 0; d < v->rank && strlen(shape) < sizeof shape - 24; d++)
    snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%lld", d ? "," : "", (long long)v->shape[d]);
  strcat(shape, "]");
  snprintf(h->first_unreadable, sizeof h->first_unreadable, "the first, tag '%.120s' at step %lld, has shape %s and %zu bytes of data",
           v->tag, (long long)e->step, shape, v->tensor_content.len);
}

static int on_histogram(void *ctx, const run_ref *run, const kcb_event *e) {
  hist_ctx *h = ctx;
  for (size_t i = 0; i < e->n_values; i++) {
    const kcb_summary_value *v = &e->values[i];
    if (h->s->tag && strcmp(v->tag, h->s->tag) != 0) continue;
    if (v->kind == KCB_SUMMARY_TENSOR && strcmp(v->plugin_name, "histograms") == 0) note_unreadable_histogram(h, e, v);
    if (v->kind != KCB_SUMMARY_HISTOGRAM) continue;
    if (h->s->json) {
      printf("%s\n  ", h->s->matched ? "," : "");
      json_run_tag_step(run, e, v);
      printf(", \"count\": ");
      json_num(stdout, v->hist_num);
      printf(", \"min\": ");
      json_num(stdout, v->hist_min);
      printf(", \"max\": ");
      json_num(stdout, v->hist_max);
      printf(", \"sum\": ");
      if (v->hist_sum == v->hist_sum) json_num(stdout, v->hist_sum);
      else printf("null");
      printf(", \"sum_squares\": ");
      if (v->hist_sum_squares == v->hist_sum_squares) json_num(stdout, v->hist_sum_squares);
      else printf("null");
      printf(", \"buckets\": [");
      for (size_t k = 0; k < v->n_buckets; k++) {
        printf("%s[", k ? ", " : "");
        json_num(stdout, v->buckets[k].left);
        printf(", ");
        json_num(stdout, v->buckets[k].right);
        printf(", ");
        json_num(stdout, v->buckets[k].count);
        printf("]");
      }
      printf("]}");
    } else {
      char st[24], c[32], mn[32], mx[32], mean[32] = "", spark[3 * HIST_BINS + 1] = "";
      double counts[HIST_BINS];
      rebin(v, counts);
      kcb_plot_sparkline_counts(spark, sizeof spark, counts, HIST_BINS, 0);
      snprintf(st, sizeof st, "%lld", (long long)e->step);
      if (v->hist_sum == v->hist_sum && v->hist_num > 0) short_num(v->hist_sum / v->hist_num, mean);
      else if (v->hist_num > 0) { /* no sum stored: the bucket midpoints give a mean within a bucket's width */
        double sum = 0, count = 0;
        for (size_t k = 0; k < v->n_buckets; k++)
          sum += v->buckets[k].count * 0.5 * (v->buckets[k].left + v->buckets[k].right), count += v->buckets[k].count;
        char est[32];
        if (count > 0) snprintf(mean, sizeof mean, "~%s", short_num(sum / count, est));
      }
      if (!(v->hist_num > 0)) snprintf(spark, sizeof spark, "(empty)"); /* not a row of half bars */
      int empty = !(v->hist_num > 0);
      const char *row[8] = {run->name, v->tag, st, short_num(v->hist_num, c), empty ? "-" : short_num(v->hist_min, mn),
                            empty ? "-" : short_num(v->hist_max, mx), mean[0] ? mean : "-", spark};
      if (table_add(&h->t, row)) return data_fail("histograms", "out of memory");
      for (size_t k = 0; h->buckets && k < v->n_buckets; k++) {
        /* a bucket: its count, left and right edges under count, min and max */
        char l[32], r[32], n[32];
        const char *brow[8] = {"", "", "", short_num(v->buckets[k].count, n), short_num(v->buckets[k].left, l),
                               short_num(v->buckets[k].right, r), NULL, NULL};
        if (table_add(&h->t, brow)) return data_fail("histograms", "out of memory");
      }
    }
    h->s->matched++;
  }
  return 0;
}

int cmd_histograms(int argc, char **argv) {
  static const opt_spec specs[] = {{"--json", 0}, {"--tag", 1}, {"--run", 1}, {"--buckets", 0}, {NULL, 0}};
  select_args s;
  int rc = select_open(&s, "histograms", argc, argv, specs, histograms_help);
  if (rc) {
    select_close(&s);
    return rc < 0 ? EXIT_OK : rc;
  }
  hist_ctx h = {&s, {0, 0, 0, NULL, NULL}, args_has(&s.a, "--buckets"), 0, ""};
  table_init(&h.t, 8, "llrrrrrl");
  const char *head[8] = {"run", "tag", "step", "count", "min", "max", "mean", "buckets"};
  table_add(&h.t, head);
  if (s.json) printf("{\"histograms\": [");
  for (size_t i = 0; i < s.n_runs && !rc; i++) {
    h.unreadable = 0;
    rc = each_event("histograms", &s.runs[i], on_histogram, &h, &s.problem);
    if (h.unreadable) { /* TensorBoard's histograms are [k,3]: left edge, right edge, count */
      fprintf(stderr, "kcb-inspect histograms: warning: run '");
      fput_esc(stderr, s.runs[i].name, strlen(s.runs[i].name), 0);
      fprintf(stderr, "': skipped %zu value%s of the histograms plugin that %s not a [k,3] tensor (left edge, right edge, count); ",
              h.unreadable, h.unreadable == 1 ? "" : "s", h.unreadable == 1 ? "is" : "are");
      fput_esc(stderr, h.first_unreadable, strlen(h.first_unreadable), 0);
      fputc('\n', stderr);
      s.problem = 1;
    }
  }
  if (s.json) printf("]}\n");
  else if (s.matched) table_print(stdout, &h.t, "");
  table_free(&h.t);
  if (!rc) rc = select_status(&s, "histograms", "histogram", KCB_SUMMARY_HISTOGRAM);
  select_close(&s);
  return rc;
}

/* ---- images ------------------------------------------------------------------------------------------ */

static const char images_help[] =
    "usage: kcb-inspect images LOGDIR [--tag TAG] [--run RUN]... [-o DIR] [--json]\n"
    "\n"
    "Lists the images of every run (step, index within the summary, size in pixels and bytes,\n"
    "format) and with -o writes each one, as stored (PNG as written by kcb, TensorFlow, PyTorch), to\n"
    "DIR/RUN__TAG__STEP[_INDEX].png (characters other than letters, digits, '.', '-' and '_' in the\n"
    "run and tag become '_'; the run '.' is left out). DIR is created if missing. Names are unique:\n"
    "one that another image of this command already took (tags a/b, a_b and 'a b' at one step)\n"
    "gets ~2, ~3, ... before the extension; a file of the same name already in DIR is replaced.\n"
    "\n"
    "  --tag TAG   only this tag [all]\n"
    "  --run RUN   only this run (repeatable) [all]\n"
    "  -o DIR      extract the images into DIR\n"
    "  --json      {\"images\": [{\"run\", \"tag\", \"step\", \"wall_time\", \"index\", \"width\", \"height\",\n"
    "              \"bytes\", \"format\", \"file\" (null without -o)}]}\n"
    "\n"
    "Exit status: 0; 1 if nothing matched, a run is missing or damaged, or a file cannot be\n"
    "written; 2 usage error.\n";

typedef struct image_ctx {
  select_args *s;
  table t;
  const char *dir;
  strmap written; /* the file names written so far: sanitized names collide (a/b, a_b and "a b":
                   * issue 15); no image overwrites another */
} image_ctx;

static const char *image_format(const kcb_bytes *b) {
  if (b->len >= 8 && memcmp(b->data, "\x89PNG\r\n\x1a\n", 8) == 0) return "png";
  if (b->len >= 3 && memcmp(b->data, "\xff\xd8\xff", 3) == 0) return "jpg";
  if (b->len >= 6 && memcmp(b->data, "GIF8", 4) == 0) return "gif";
  return "bin";
}

static void sanitize(char *dst, size_t cap, const char *src) {
  size_t k = 0;
  for (; *src && k + 1 < cap; src++) {
    char c = *src;
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    dst[k++] = ok ? c : '_';
  }
  dst[k] = '\0';
}

/* Atomically, as every file kcb writes: a file of that name already in DIR is replaced whole (a
 * symbolic link there is replaced, not followed), or left as it was if the write fails. */
static int write_file(const char *cmd, const char *path, const kcb_bytes *b) {
  struct stat st; /* the names come from the log: a link planted in DIR must not send them elsewhere */
  if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && unlink(path) != 0)
    return data_fail(cmd, "%s: cannot replace the symbolic link: %s", path, strerror(errno));
  if (kcb_file_write_atomic(path, b->data, b->len) != 0) return data_fail(cmd, "%s", kcb_error_last());
  return 0;
}

/* Writes blob k of v (of n) as DIR/RUN__TAG__STEP[_INDEX].EXT (the run "." left out), the name
 * into file. `written` holds the names written so far: sanitized names collide (a/b, a_b and "a b":
 * issue 15), so a taken name gets ~2, ~3, ...: no file overwrites another.
 * @return 0 or EXIT_DATA (printed). */
static int extract_blob(const char *cmd, strmap *written, const char *dir, const run_ref *run, const kcb_event *e,
                        const kcb_summary_value *v, size_t k, const char *ext, char *file, size_t size) {
  char rn[1024], tg[1024], idx[32] = "";
  sanitize(rn, sizeof rn, run->name);
  sanitize(tg, sizeof tg, v->tag);
  if (v->n_blobs > 1) snprintf(idx, sizeof idx, "_%zu", k);
  int dot = strcmp(run->name, ".") == 0;
  char head[2100]; /* RUN__TAG, cut to fit a file name (255 bytes) with a hash of the whole */
  snprintf(head, sizeof head, "%s%s%s", dot ? "" : rn, dot ? "" : "__", tg);
  if (strlen(head) > 200) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a: names cut alike stay apart */
    for (const unsigned char *c = (const unsigned char *)head; *c; c++) h = (h ^ *c) * 1099511628211ULL;
    snprintf(head + 180, sizeof head - 180, "~%016llx", (unsigned long long)h);
  }
  int added = 0;
  for (unsigned long copy = 1; added == 0; copy++) {
    char dup[32] = "";
    if (copy > 1) snprintf(dup, sizeof dup, "~%lu", copy);
    int n = snprintf(file, size, "%s/%s__%lld%s%s.%s", dir, head, (long long)e->step, idx, dup, ext);
    if (n < 0 || (size_t)n >= size)
      return data_fail(cmd, "%s: the file name for run '%s', tag '%s' would be longer than %zu bytes", dir, run->name, v->tag,
                       size - 1);
    if ((added = strmap_put(written, file, 0, NULL)) < 0) return data_fail(cmd, "out of memory");
  }
  return write_file(cmd, file, &v->blobs[k]);
}

/* -o DIR: created if missing, with the directories above it (as kcb-restore's -o). "-" is no
 * directory: the files are many, standard output takes one stream. @return 0, EXIT_USAGE or
 * EXIT_DATA (printed). */
static int make_output_dir(const char *cmd, const char *dir) {
  if (!dir) return 0;
  if (strcmp(dir, "-") == 0) return usage_error(cmd, "-o -: the files extracted go to a directory, not to standard output");
  char inside[4096];
  if ((size_t)snprintf(inside, sizeof inside, "%s/.", dir) < sizeof inside && kcb_file_make_parent_dirs(inside) != 0)
    return data_fail(cmd, "%s", kcb_error_last());
  return 0;
}

static int on_image(void *ctx, const run_ref *run, const kcb_event *e) {
  image_ctx *im = ctx;
  for (size_t i = 0; i < e->n_values; i++) {
    const kcb_summary_value *v = &e->values[i];
    if (v->kind != KCB_SUMMARY_IMAGE || (im->s->tag && strcmp(v->tag, im->s->tag) != 0)) continue;
    for (size_t k = 0; k < v->n_blobs; k++) {
      const kcb_bytes *b = &v->blobs[k];
      const char *fmt = image_format(b);
      char file[4096] = "";
      if (im->dir) {
        int rc = extract_blob("images", &im->written, im->dir, run, e, v, k, fmt, file, sizeof file);
        if (rc) return rc;
      }
      if (im->s->json) {
        printf("%s\n  ", im->s->matched ? "," : "");
        json_run_tag_step(run, e, v);
        printf(", \"index\": %zu, \"width\": %d, \"height\": %d, \"bytes\": %zu, \"format\": \"%s\", \"file\": ", k, v->width,
               v->height, b->len, fmt);
        if (file[0]) json_str(stdout, file);
        else printf("null");
        printf("}");
      } else {
        char st[24], ix[24], size[48], bytes[24];
        snprintf(st, sizeof st, "%lld", (long long)e->step);
        snprintf(ix, sizeof ix, "%zu", k);
        if (v->width > 0 && v->height > 0) snprintf(size, sizeof size, "%dx%d", v->width, v->height);
        else snprintf(size, sizeof size, "?"); /* the record gives no usable size */
        snprintf(bytes, sizeof bytes, "%zu", b->len);
        const char *row[8] = {run->name, v->tag, st, ix, size, bytes, fmt, file};
        if (table_add(&im->t, row)) return data_fail("images", "out of memory");
      }
      im->s->matched++;
    }
  }
  return 0;
}

int cmd_images(int argc, char **argv) {
  static const opt_spec specs[] = {{"--json", 0}, {"--tag", 1}, {"--run", 1}, {"-o", 1}, {"--output", 1}, {NULL, 0}};
  select_args s;
  int rc = select_open(&s, "images", argc, argv, specs, images_help);
  if (rc) {
    select_close(&s);
    return rc < 0 ? EXIT_OK : rc;
  }
  image_ctx im = {&s, {0, 0, 0, NULL, NULL}, args_get(&s.a, "-o", args_get(&s.a, "--output", NULL)), {NULL, NULL, 0, 0}};
  if ((rc = make_output_dir("images", im.dir))) {
    select_close(&s);
    return rc;
  }
  table_init(&im.t, 8, "llrrrrll");
  const char *head[8] = {"run", "tag", "step", "index", "size", "bytes", "format", im.dir ? "file" : NULL};
  table_add(&im.t, head);
  if (s.json) printf("{\"images\": [");
  for (size_t i = 0; i < s.n_runs && !rc; i++) rc = each_event("images", &s.runs[i], on_image, &im, &s.problem);
  if (s.json) printf("]}\n");
  else if (s.matched) table_print(stdout, &im.t, "");
  table_free(&im.t);
  strmap_free(&im.written);
  if (!rc) rc = select_status(&s, "images", "image", KCB_SUMMARY_IMAGE);
  select_close(&s);
  return rc;
}

/* ---- audio ------------------------------------------------------------------------------------------- */

static const char audio_help[] =
    "usage: kcb-inspect audio LOGDIR [--tag TAG] [--run RUN]... [-o DIR] [--json]\n"
    "\n"
    "Lists the audio clips of every run: step, index within the summary, sample rate, channels,\n"
    "length in seconds, bytes and label (TF2 audio summaries carry one per clip); with -o writes\n"
    "each clip, as stored (WAV), to DIR/RUN__TAG__STEP[_INDEX].wav, named as images -o names them.\n"
    "\n"
    "  --tag TAG   only this tag [all]\n"
    "  --run RUN   only this run (repeatable) [all]\n"
    "  -o DIR      extract the clips into DIR\n"
    "  --json      {\"audio\": [{\"run\", \"tag\", \"step\", \"wall_time\", \"index\", \"sample_rate\",\n"
    "              \"channels\", \"frames\", \"seconds\", \"bytes\", \"label\", \"file\" (null without -o)}]}\n"
    "\n"
    "Exit status: 0; 1 if nothing matched, a run is missing or damaged, or a file cannot be\n"
    "written; 2 usage error.\n";

/* What a WAV file's header says (RIFF/WAVE with "fmt " and "data" chunks); zeros when it is not one. */
typedef struct wav_info {
  unsigned rate, channels, bits;
  uint64_t frames;
} wav_info;

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static wav_info wav_read(const kcb_bytes *b) {
  wav_info w = {0, 0, 0, 0};
  if (b->len < 12 || memcmp(b->data, "RIFF", 4) != 0 || memcmp(b->data + 8, "WAVE", 4) != 0) return w;
  for (size_t at = 12; at + 8 <= b->len;) {
    uint32_t size = le32(b->data + at + 4);
    const uint8_t *body = b->data + at + 8;
    if (memcmp(b->data + at, "fmt ", 4) == 0 && size >= 16 && at + 8 + 16 <= b->len) {
      w.channels = (unsigned)(body[2] | body[3] << 8);
      w.rate = le32(body + 4);
      w.bits = (unsigned)(body[14] | body[15] << 8);
    } else if (memcmp(b->data + at, "data", 4) == 0 && w.channels && w.bits >= 8) {
      uint64_t avail = b->len - (at + 8) < size ? b->len - (at + 8) : size; /* a cut clip: what is there */
      w.frames = avail / (w.channels * (w.bits / 8));
      break;
    }
    at += 8 + (size_t)size + (size & 1);
  }
  return w;
}

static int on_audio(void *ctx, const run_ref *run, const kcb_event *e) {
  image_ctx *au = ctx;
  for (size_t i = 0; i < e->n_values; i++) {
    const kcb_summary_value *v = &e->values[i];
    if (v->kind != KCB_SUMMARY_AUDIO || (au->s->tag && strcmp(v->tag, au->s->tag) != 0)) continue;
    for (size_t k = 0; k < v->n_blobs; k++) {
      const kcb_bytes *b = &v->blobs[k];
      wav_info w = wav_read(b);
      if (!w.rate && v->sample_rate > 0 && v->sample_rate <= 4294967295.0) /* legacy Audio proto; a rate past */
        w.rate = (unsigned)v->sample_rate;                                    /* unsigned's range is shown as 0 */
      double seconds = w.rate ? (double)w.frames / w.rate : NAN;
      const kcb_bytes *label = v->labels && v->labels[k].len ? &v->labels[k] : NULL;
      char file[4096] = "";
      if (au->dir) {
        int rc = extract_blob("audio", &au->written, au->dir, run, e, v, k, "wav", file, sizeof file);
        if (rc) return rc;
      }
      if (au->s->json) {
        printf("%s\n  ", au->s->matched ? "," : "");
        json_run_tag_step(run, e, v);
        printf(", \"index\": %zu, \"sample_rate\": %u, \"channels\": %u, \"frames\": %llu, \"seconds\": ", k, w.rate,
               w.channels, (unsigned long long)w.frames);
        json_num(stdout, seconds);
        printf(", \"bytes\": %zu, \"label\": ", b->len);
        if (label) json_str_n(stdout, (const char *)label->data, label->len);
        else printf("null");
        printf(", \"file\": ");
        if (file[0]) json_str(stdout, file);
        else printf("null");
        printf("}");
      } else {
        char st[24], ix[24], rate[24], ch[24], sec[32], bytes[24], lab[256] = "";
        snprintf(st, sizeof st, "%lld", (long long)e->step);
        snprintf(ix, sizeof ix, "%zu", k);
        snprintf(rate, sizeof rate, "%u", w.rate);
        snprintf(ch, sizeof ch, "%u", w.channels);
        short_num(seconds, sec);
        snprintf(bytes, sizeof bytes, "%zu", b->len);
        if (label) { /* one line in the table */
          size_t n = label->len < sizeof lab - 1 ? label->len : sizeof lab - 1;
          for (size_t j = 0; j < n; j++) lab[j] = label->data[j] == '\n' || label->data[j] == '\r' ? ' ' : (char)label->data[j];
          lab[n] = '\0';
        }
        const char *row[10] = {run->name, v->tag, st, ix, rate, ch, sec, bytes, lab, file};
        if (table_add(&au->t, row)) return data_fail("audio", "out of memory");
      }
      au->s->matched++;
    }
  }
  return 0;
}

int cmd_audio(int argc, char **argv) {
  static const opt_spec specs[] = {{"--json", 0}, {"--tag", 1}, {"--run", 1}, {"-o", 1}, {"--output", 1}, {NULL, 0}};
  select_args s;
  int rc = select_open(&s, "audio", argc, argv, specs, audio_help);
  if (rc) {
    select_close(&s);
    return rc < 0 ? EXIT_OK : rc;
  }
  image_ctx au = {&s, {0, 0, 0, NULL, NULL}, args_get(&s.a, "-o", args_get(&s.a, "--output", NULL)), {NULL, NULL, 0, 0}};
  if ((rc = make_output_dir("audio", au.dir))) {
    select_close(&s);
    return rc;
  }
  table_init(&au.t, 10, "llrrrrrrll");
  const char *head[10] = {"run", "tag", "step", "index", "rate", "channels", "seconds", "bytes", "label",
                          au.dir ? "file" : NULL};
  table_add(&au.t, head);
  if (s.json) printf("{\"audio\": [");
  for (size_t i = 0; i < s.n_runs && !rc; i++) rc = each_event("audio", &s.runs[i], on_audio, &au, &s.problem);
  if (s.json) printf("]}\n");
  else if (s.matched) table_print(stdout, &au.t, "");
  table_free(&au.t);
  strmap_free(&au.written);
  if (!rc) rc = select_status(&s, "audio", "audio clip", KCB_SUMMARY_AUDIO);
  select_close(&s);
  return rc;
}

/* ---- text ------------------------------------------------------------------------------------------------ */

static const char text_help[] =
    "usage: kcb-inspect text LOGDIR [--tag TAG] [--run RUN]... [--json]\n"
    "\n"
    "Prints the text summaries of every run (the markdown as written), each under a line with its\n"
    "run, tag and step. A rank-1 text tensor prints each string after its index ([0], [1], ...);\n"
    "a rank-2 one as a table of its rows (line breaks in a cell shown as a space), as TensorBoard\n"
    "lays them out; of a higher rank, the first 2-D slice, as TensorBoard shows it, under a note.\n"
    "\n"
    "  --tag TAG   only this tag [all]\n"
    "  --run RUN   only this run (repeatable) [all]\n"
    "  --json      {\"texts\": [{\"run\", \"tag\", \"step\", \"wall_time\", \"shape\", \"strings\": [...]}]}\n"
    "\n"
    "Exit status: 0; 1 if nothing matched or a run is missing or damaged; 2 usage error.\n";

/* The first `rows` x `cols` strings of a text tensor as a table of its rows. @return 0 or EXIT_DATA
 * (out of memory). */
static int print_text_table(const kcb_summary_value *v, size_t rows, size_t cols) {
  char align[33];
  memset(align, 'l', cols);
  align[cols] = '\0';
  table t;
  table_init(&t, cols, align);
  const char *row[32];
  int rc = 0;
  for (size_t r = 0; r < rows && !rc; r++) {
    char *cells[32] = {NULL};
    for (size_t c = 0; c < cols; c++) {
      const kcb_bytes *b = &v->blobs[r * cols + c];
      if (!(cells[c] = malloc(b->len + 1))) {
        rc = data_fail("text", "out of memory");
        break;
      }
      for (size_t j = 0; j < b->len; j++) cells[c][j] = b->data[j] == '\n' || b->data[j] == '\r' ? ' ' : (char)b->data[j];
      cells[c][b->len] = '\0';
      row[c] = cells[c];
    }
    if (!rc && table_add(&t, row)) rc = data_fail("text", "out of memory");
    for (size_t c = 0; c < cols; c++) free(cells[c]);
  }
  if (!rc) table_print(stdout, &t, "  ");
  table_free(&t);
  return rc;
}

static int on_text(void *ctx, const run_ref *run, const kcb_event *e) {
  select_args *s = ctx;
  for (size_t i = 0; i < e->n_values; i++) {
    const kcb_summary_value *v = &e->values[i];
    if (v->kind != KCB_SUMMARY_TEXT || (s->tag && strcmp(v->tag, s->tag) != 0)) continue;
    if (s->json) {
      printf("%s\n  ", s->matched ? "," : "");
      json_run_tag_step(run, e, v);
      printf(", \"shape\": [");
      for (int d = 0; d < v->rank; d++) printf("%s%lld", d ? ", " : "", (long long)v->shape[d]);
      printf("], \"strings\": [");
      for (size_t k = 0; k < v->n_blobs; k++) {
        if (k) printf(", ");
        json_str_n(stdout, (const char *)v->blobs[k].data, v->blobs[k].len);
      }
      printf("]}");
    } else {
      printf("%s", s->matched ? "\n" : "");
      fput_esc(stdout, run->name, strlen(run->name), 0);
      printf("  ");
      fput_esc(stdout, v->tag, strlen(v->tag), 0);
      printf("  step %lld\n", (long long)e->step);
      /* a table when the shape matches the strings (checked by division: a lying shape must not
       * overflow); of a higher rank, TensorBoard's first 2-D slice [0, ..., 0, :, :], said so */
      uint64_t left = v->n_blobs;
      int fits = v->rank >= 2;
      for (int d = v->rank - 1; fits && d >= 0; d--)
        fits = v->shape[d] > 0 && left % (uint64_t)v->shape[d] == 0, left = fits ? left / (uint64_t)v->shape[d] : 0;
      fits = fits && left == 1 && v->shape[v->rank - 1] <= 32;
      if (fits) {
        if (v->rank > 2)
          printf("  (a text tensor of rank %d: as TensorBoard, only its first 2-D slice, [0, ..., 0, :, :])\n", v->rank);
        int rc = print_text_table(v, (size_t)v->shape[v->rank - 2], (size_t)v->shape[v->rank - 1]);
        if (rc) return rc;
        s->matched++;
        continue;
      }
      for (size_t k = 0; k < v->n_blobs; k++) {
        if (v->rank >= 1 && v->n_blobs > 1) printf("  [%zu]\n", k); /* the elements apart, not run together */
        /* indent every line of the text by two spaces */
        const char *p = (const char *)v->blobs[k].data;
        size_t n = v->blobs[k].len, start = 0;
        for (size_t j = 0; j <= n; j++)
          if (j == n || p[j] == '\n') {
            if (j > start) { /* escaped: control characters shown, NUL bytes too (nothing cut) */
              printf("  ");
              fput_esc(stdout, p + start, j - start, KCB_ESCAPE_KEEP_NEWLINES);
              printf("\n");
            }
            else if (j < n) printf("\n");
            start = j + 1;
          }
      }
    }
    s->matched++;
  }
  return 0;
}

int cmd_text(int argc, char **argv) {
  static const opt_spec specs[] = {{"--json", 0}, {"--tag", 1}, {"--run", 1}, {NULL, 0}};
  select_args s;
  int rc = select_open(&s, "text", argc, argv, specs, text_help);
  if (rc) {
    select_close(&s);
    return rc < 0 ? EXIT_OK : rc;
  }
  if (s.json) printf("{\"texts\": [");
  for (size_t i = 0; i < s.n_runs && !rc; i++) rc = each_event("text", &s.runs[i], on_text, &s, &s.problem);
  if (s.json) printf("]}\n");
  if (!rc) rc = select_status(&s, "text", "text summary", KCB_SUMMARY_TEXT);
  select_close(&s);
  return rc;
}

/* Shared with kcb_inspect_hparams.c. */
int inspect_each_event(const char *cmd, const run_ref *run, int (*fn)(void *, const run_ref *, const kcb_event *),
                       void *ctx, int *problem) {
  return each_event(cmd, run, fn, ctx, problem);
}
