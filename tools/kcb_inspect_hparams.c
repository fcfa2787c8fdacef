/* kcb-inspect hparams: TensorBoard's hparams table — one row per session group (the sessions, runs
 * with a session_start_info, that share a group name), its hyperparameters and its final metrics
 * (the last value of each metric the experiment names, read from the run <session>/<group>;
 * averaged over a group's sessions). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kcb_inspect.h"

static const char hparams_help[] =
    "usage: kcb-inspect hparams LOGDIR [--sort NAME] [--desc] [--json]\n"
    "\n"
    "Prints a table of the hparams sessions under LOGDIR: each session's run, hyperparameters and\n"
    "final metrics (the last value of each metric the experiment declares, from the run\n"
    "SESSION/GROUP; without an experiment, every scalar of the session's run and of the runs\n"
    "below it, GROUP being their path under it, as TensorBoard finds them) and its status.\n"
    "\n"
    "Sessions sharing a group name (TensorFlow's hparams API gives repeated trials of the same\n"
    "hyperparameters one) are one row, as in TensorBoard's table: the group's name, its number of\n"
    "sessions, its first session's hyperparameters and the mean of its sessions' metrics.\n"
    "\n"
    "  --sort NAME  order the rows by this metric or hyperparameter (missing values last)\n"
    "               [run name]\n"
    "  --desc       descending order [ascending]\n"
    "  --sessions   a row per session, groups or not\n"
    "  --json       {\"hparams\": [NAME...], \"metrics\": [NAME...], \"sessions\": [{\"run\", \"group\",\n"
    "               \"status\", \"hparams\": {NAME: value}, \"metrics\": {NAME: value}}], \"groups\":\n"
    "               [{\"group\", \"sessions\": [RUN...], \"status\", \"hparams\", \"metrics\"}]}\n"
    "\n"
    "Exit status: 0; 1 if there is no hparams session or a run is missing or damaged; 2 usage.\n";

typedef struct hp_val {
  char *name;
  int type;       /* as kcb_hparam_value: 0 number, 1 string, 2 bool, 3 other */
  double number;
  char *string;
  int boolean;
} hp_val;

typedef struct session {
  size_t run;
  char *group;
  int status;     /* kcb_hparam_status; -1 none */
  int started;    /* a session start was read: TensorBoard keeps a run's first, so later ones are not read */
  hp_val *vals;
  size_t n_vals;
  size_t *by_name; /* (n_vals) indexes of vals sorted by name, for session_val's binary search */
  scalar_val *metrics; /* (n_metrics) the last value, exact for integer metrics; d NaN if none */
  /* a session group (TensorBoard's table row): its name, its sessions, the mean of their metrics;
   * vals, by_name and group are its first session's (borrowed) */
  const char *label;
  size_t *members, n_members;
} session;

typedef struct namelist {
  char **items;
  size_t n, cap;
} namelist;

/* Every lookup by name goes through a hash map or a binary search: an experiment may declare
 * 100,000 hyperparameters and 10,000 metrics (issue 15: a linear search per name took 19 s). */
typedef struct hp_ctx {
  session *sessions;
  size_t n_sessions, cap_sessions;
  size_t *run_session;    /* (runs) the session of each run, or SIZE_MAX */
  namelist hparams;       /* names, in first-seen order */
  strmap hparam_index;    /* name -> its index in hparams */
  namelist metric_groups, metric_tags, metric_shown; /* shown: the experiment's display_name, or "" */
  strmap metric_index;    /* "LEN:GROUP/TAG" -> its index */
  int oom;
} hp_ctx;

/* Adds an hparam name unless present. */
static int hparam_add(hp_ctx *h, const char *s) {
  int r = strmap_put(&h->hparam_index, s, h->hparams.n, NULL);
  if (r <= 0) return r;
  namelist *l = &h->hparams;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 16;
    char **p = realloc(l->items, cap * sizeof *p);
    if (!p) return -1;
    l->items = p;
    l->cap = cap;
  }
  if (!(l->items[l->n] = strdup(s))) return -1;
  l->n++;
  return 0;
}

/* Adds a metric (group, tag) pair unless present. */
static int metric_add(hp_ctx *h, const char *group, const char *tag, const char *shown) {
  size_t n = strlen(group) + strlen(tag) + 32;
  char *key = malloc(n);
  if (!key) return -1;
  snprintf(key, n, "%zu:%s/%s", strlen(group), group, tag); /* the length keeps (a/b, c) apart from (a, b/c) */
  int r = strmap_put(&h->metric_index, key, h->metric_tags.n, NULL);
  free(key);
  if (r <= 0) return r;
  namelist *ls[3] = {&h->metric_groups, &h->metric_tags, &h->metric_shown};
  const char *vals[3] = {group, tag, shown};
  for (int k = 0; k < 3; k++) {
    namelist *l = ls[k];
    if (l->n == l->cap) {
      size_t cap = l->cap ? 2 * l->cap : 16;
      char **p = realloc(l->items, cap * sizeof *p);
      if (!p) return -1;
      l->items = p;
      l->cap = cap;
    }
    if (!(l->items[l->n] = strdup(vals[k]))) return -1;
    l->n++;
  }
  return 0;
}

static void names_free(namelist *l) {
  for (size_t i = 0; i < l->n; i++) free(l->items[i]);
  free(l->items);
}

/* The session of run index ri, created if needed. */
static session *session_of(hp_ctx *h, size_t ri) {
  if (h->run_session[ri] != SIZE_MAX) return &h->sessions[h->run_session[ri]];
  if (h->n_sessions == h->cap_sessions) {
    size_t cap = h->cap_sessions ? 2 * h->cap_sessions : 8;
    session *p = realloc(h->sessions, cap * sizeof *p);
    if (!p) return NULL;
    h->sessions = p;
    h->cap_sessions = cap;
  }
  h->run_session[ri] = h->n_sessions;
  session *s = &h->sessions[h->n_sessions++];
  memset(s, 0, sizeof *s);
  s->run = ri;
  s->status = -1;
  return s;
}

typedef struct event_ctx {
  hp_ctx *h;
  size_t run_index;
} event_ctx;

static int on_hparams_event(void *ctx, const run_ref *run, const kcb_event *e) {
  (void)run;
  event_ctx *ec = ctx;
  hp_ctx *h = ec->h;
  for (size_t i = 0; i < e->n_values; i++) {
    const kcb_summary_value *v = &e->values[i];
    if (v->kind != KCB_SUMMARY_HPARAMS) continue;
    if (v->hp_kind == KCB_HPARAMS_EXPERIMENT) {
      for (size_t k = 0; k < v->n_hp_values; k++)
        if (hparam_add(h, v->hp_values[k].name) < 0) h->oom = 1;
      for (size_t k = 0; k < v->n_hp_metrics; k++)
        if (metric_add(h, v->hp_metric_groups[k] ? v->hp_metric_groups[k] : "", v->hp_metric_tags[k] ? v->hp_metric_tags[k] : "",
                       v->hp_metric_display_names && v->hp_metric_display_names[k] ? v->hp_metric_display_names[k] : ""))
          h->oom = 1;
    } else if (v->hp_kind == KCB_HPARAMS_SESSION_START) {
      session *s = session_of(h, ec->run_index);
      if (!s) return data_fail("hparams", "out of memory");
      if (s->started) continue; /* TensorBoard's data server keeps a tag's first metadata in a run */
      s->started = 1;
      free(s->group);
      s->group = strdup(v->hp_group_name ? v->hp_group_name : "");
      for (size_t k = 0; k < s->n_vals; k++) free(s->vals[k].name), free(s->vals[k].string);
      free(s->vals);
      free(s->by_name);
      s->by_name = NULL;
      s->n_vals = 0;
      s->vals = calloc(v->n_hp_values + 1, sizeof *s->vals);
      if (!s->vals || !s->group) return data_fail("hparams", "out of memory");
      for (size_t k = 0; k < v->n_hp_values; k++) {
        const kcb_hparam_value *src = &v->hp_values[k];
        hp_val *d = &s->vals[s->n_vals++];
        d->name = strdup(src->name ? src->name : "");
        d->type = src->type;
        d->number = src->number;
        d->boolean = src->boolean;
        d->string = src->type == 1 ? strdup(src->string ? src->string : "") : NULL;
        if (!d->name || (src->type == 1 && !d->string) || hparam_add(h, d->name) < 0)
          return data_fail("hparams", "out of memory");
      }
    } else if (v->hp_kind == KCB_HPARAMS_SESSION_END) {
      session *s = session_of(h, ec->run_index);
      if (!s) return data_fail("hparams", "out of memory");
      if (s->status < 0) s->status = v->hp_status; /* the first, as TensorBoard reads it */
    }
  }
  return h->oom ? data_fail("hparams", "out of memory") : 0;
}

static const session *by_name_session; /* qsort has no context argument */

static int cmp_by_name(const void *a, const void *b) {
  return strcmp(by_name_session->vals[*(const size_t *)a].name, by_name_session->vals[*(const size_t *)b].name);
}

/* Sorts the session's value indexes by name, once. @return 0 or -1 (out of memory). */
static int session_index(session *s) {
  if (!(s->by_name = malloc((s->n_vals + 1) * sizeof *s->by_name))) return -1;
  for (size_t i = 0; i < s->n_vals; i++) s->by_name[i] = i;
  by_name_session = s;
  qsort(s->by_name, s->n_vals, sizeof *s->by_name, cmp_by_name);
  return 0;
}

/* The value of hparam name in s (the first one set, as a linear search would find), or NULL. */
static const hp_val *session_val(const session *s, const char *name) {
  size_t lo = 0, hi = s->n_vals;
  while (lo < hi) { /* the first index whose name is >= name */
    size_t mid = lo + (hi - lo) / 2;
    if (strcmp(s->vals[s->by_name[mid]].name, name) < 0) lo = mid + 1;
    else hi = mid;
  }
  const hp_val *best = NULL;
  for (size_t i = lo; i < s->n_vals && strcmp(s->vals[s->by_name[i]].name, name) == 0; i++)
    if (!best || s->by_name[i] < (size_t)(best - s->vals)) best = &s->vals[s->by_name[i]];
  return best;
}

static const char *status_name(int st) {
  switch (st) {
    case 1: return "success";
    case 2: return "failure";
    case 3: return "running";
    case 0: return "unknown";
    default: return "-";
  }
}

static const char *val_text(const hp_val *v, char buf[32]) {
  if (!v) return "-";
  switch (v->type) {
    case 0: return short_num(v->number, buf);
    case 1: return v->string;
    case 2: return v->boolean ? "true" : "false";
    default: return "?";
  }
}

/* The metric column name: GROUP/TAG, or TAG for the session's own run. */
static void metric_name(const hp_ctx *h, size_t k, char *buf, size_t size) {
  const char *g = h->metric_groups.items[k];
  size_t n = strlen(g);
  snprintf(buf, size, "%s%s%s", g, n && g[n - 1] != '/' ? "/" : "", h->metric_tags.items[k]);
}

/* Sorting: by a metric (index >= 0) or an hparam name. */
static const hp_ctx *sort_h;
static int sort_metric = -1, sort_desc = 0;
static const char *sort_hparam = NULL;
static const run_ref *sort_runs;

static int sort_key(const session *s, double *num, const char **str) {
  *str = NULL;
  *num = NAN;
  if (sort_metric >= 0) {
    *num = s->metrics[sort_metric].d;
    return !isnan(*num);
  }
  if (!sort_hparam) return 0;
  const hp_val *v = session_val(s, sort_hparam);
  if (!v) return 0;
  if (v->type == 0) *num = v->number;
  else if (v->type == 2) *num = v->boolean;
  else if (v->type == 1) *str = v->string;
  return v->type <= 2;
}

static int cmp_session(const void *a, const void *b) {
  const session *x = a, *y = b;
  double nx, ny;
  const char *sx, *sy;
  int hx = sort_key(x, &nx, &sx), hy = sort_key(y, &ny, &sy);
  int c = 0;
  if (hx != hy) return hx ? -1 : 1; /* missing values last, whatever the direction */
  if (hx) {
    if (sx && sy) c = strcmp(sx, sy);
    else if (sx || sy) c = sx ? 1 : -1;
    else c = nx < ny ? -1 : nx > ny ? 1 : 0;
    if (sort_desc) c = -c;
  }
  return c ? c : strcmp(x->label ? x->label : sort_runs[x->run].name, y->label ? y->label : sort_runs[y->run].name);
}



/* TensorBoard's rows: the sessions grouped by group_name (a session without one alone, by its
 * run's name), each group's metrics the mean of its sessions' (its default aggregation), its
 * hyperparameters and status its first session's. @return 0 or -1 (out of memory). */
static int group_sessions(const hp_ctx *h, const run_ref *runs, session **out, size_t *n_out) {
  session *g = calloc(h->n_sessions + 1, sizeof *g);
  size_t n = 0;
  strmap index = {0};
  int rc = g ? 0 : -1;
  for (size_t i = 0; rc == 0 && i < h->n_sessions; i++) {
    const session *s = &h->sessions[i];
    const char *key = s->group && s->group[0] ? s->group : runs[s->run].name;
    size_t k;
    if (!strmap_get(&index, key, &k)) {
      k = n++;
      g[k] = *s;
      g[k].label = key;
      g[k].metrics = calloc(2 * h->metric_tags.n + 1, sizeof *g[k].metrics); /* sums, then counts in .d */
      g[k].members = malloc(h->n_sessions * sizeof *g[k].members);
      g[k].n_members = 0;
      if (!g[k].metrics || !g[k].members || strmap_put(&index, key, k, NULL) < 0) rc = -1;
    }
    if (rc) break;
    g[k].members[g[k].n_members++] = i;
    if (s->status != g[k].status) g[k].status = -2; /* its sessions ended otherwise */
    for (size_t m = 0; m < h->metric_tags.n; m++) {
      if (s->metrics[m].type == KCB_SCALAR_FLOAT && isnan(s->metrics[m].d)) continue; /* none in this session */
      g[k].metrics[m].d += s->metrics[m].d, g[k].metrics[h->metric_tags.n + m].d += 1;
    }
  }
  for (size_t k = 0; rc == 0 && k < n; k++)
    for (size_t m = 0; m < h->metric_tags.n; m++) {
      double count = g[k].metrics[h->metric_tags.n + m].d;
      if (g[k].n_members == 1) g[k].metrics[m] = h->sessions[g[k].members[0]].metrics[m]; /* exact, or none */
      else g[k].metrics[m] = (scalar_val){KCB_SCALAR_FLOAT, count > 0 ? g[k].metrics[m].d / count : NAN, 0};
    }
  strmap_free(&index);
  *out = g, *n_out = n;
  return rc;
}

static void groups_free(session *g, size_t n) {
  for (size_t k = 0; g && k < n; k++) free(g[k].metrics), free(g[k].members);
  free(g);
}

/* ', "status": ..., "hparams": {...}, "metrics": {...}}' of a session or a group. */
static void json_values(const hp_ctx *h, const session *s) {
  printf(", \"status\": \"%s\", \"hparams\": {", s->status == -2 ? "mixed" : status_name(s->status));
  for (size_t k = 0; k < s->n_vals; k++) {
    const hp_val *v = &s->vals[k];
    printf("%s", k ? ", " : "");
    json_str(stdout, v->name);
    printf(": ");
    if (v->type == 0) json_num(stdout, v->number);
    else if (v->type == 1) json_str(stdout, v->string);
    else if (v->type == 2) printf(v->boolean ? "true" : "false");
    else printf("null");
  }
  printf("}, \"metrics\": {");
  for (size_t k = 0; k < h->metric_tags.n; k++) {
    char mn[1024];
    metric_name(h, k, mn, sizeof mn);
    printf("%s", k ? ", " : "");
    json_str(stdout, mn);
    printf(": ");
    if (s->metrics[k].type == KCB_SCALAR_FLOAT && isnan(s->metrics[k].d)) printf("null");
    else sv_json(stdout, s->metrics[k]);
  }
  printf("}}");
}

/* The table: a row per session, or per session group (its name and its number of sessions). */
static void print_table(const hp_ctx *h, const session *rows, size_t n_rows, const run_ref *runs, int grouped) {
  size_t nc = 2 + (size_t)grouped + h->hparams.n + h->metric_tags.n;
  if (nc > 32) nc = 32;
  const char *head[32];
  char mnames[32][256];
  char align[33];
  size_t c = 0;
  head[c] = grouped ? "group" : "run", align[c++] = 'l';
  if (grouped) head[c] = "sessions", align[c++] = 'r';
  for (size_t k = 0; k < h->hparams.n && c < nc - 1; k++) head[c] = h->hparams.items[k], align[c++] = 'r';
  for (size_t k = 0; k < h->metric_tags.n && c < nc - 1; k++) {
    metric_name(h, k, mnames[c], sizeof mnames[c]);
    /* the name the experiment gave it for display, as TensorBoard's HParams tab shows it */
    head[c] = h->metric_shown.items[k][0] ? h->metric_shown.items[k] : mnames[c], align[c++] = 'r';
  }
  head[c] = "status", align[c++] = 'l';
  align[c] = '\0';
  table t;
  table_init(&t, c, align);
  table_add(&t, head);
  char bufs[32][32];
  for (size_t i = 0; i < n_rows; i++) {
    const session *s = &rows[i];
    const char *row[32];
    size_t q = 0;
    row[q++] = grouped ? s->label : runs[s->run].name;
    if (grouped) snprintf(bufs[q], sizeof bufs[q], "%zu", s->n_members), row[q] = bufs[q], q++;
    for (size_t k = 0; k < h->hparams.n && q < c - 1; k++) row[q] = val_text(session_val(s, h->hparams.items[k]), bufs[q]), q++;
    for (size_t k = 0; k < h->metric_tags.n && q < c - 1; k++)
      row[q] = s->metrics[k].type == KCB_SCALAR_FLOAT && isnan(s->metrics[k].d) ? "-" : sv_short(s->metrics[k], bufs[q]), q++;
    row[q++] = s->status == -2 ? "mixed" : status_name(s->status);
    table_add(&t, row);
  }
  table_print_fit(stdout, &t, "");
  table_free(&t);
}

typedef struct metric_name_pair {
  const char *tag;
  char *group;
} metric_name_pair;

static int cmp_metric_pair(const void *a, const void *b) {
  const metric_name_pair *x = a, *y = b;
  int c = strcmp(x->tag, y->tag);
  return c ? c : strcmp(x->group, y->group);
}

/* The session run a run belongs to: itself or its nearest ancestor run that is a session (SIZE_MAX
 * for none); *group_at is where the run's name goes on below it (its group). */
static size_t owning_session(const hp_ctx *h, const run_ref *runs, size_t ri, strmap *run_index, size_t *group_at) {
  const char *name = runs[ri].name;
  if (h->run_session[ri] != SIZE_MAX) return *group_at = strlen(name), h->run_session[ri];
  char path[4096];
  if (strlen(name) >= sizeof path || strcmp(name, ".") == 0) return SIZE_MAX;
  strcpy(path, name);
  for (char *slash; (slash = strrchr(path, '/'));) {
    *slash = '\0';
    size_t pi;
    if (strmap_get(run_index, path, &pi) && h->run_session[pi] != SIZE_MAX)
      return *group_at = (size_t)(slash - path) + 1, h->run_session[pi];
  }
  return SIZE_MAX;
}

static int metrics_from_runs(hp_ctx *h, const run_ref *runs, size_t n, kcb_run_summary **sums, strmap *run_index) {
  metric_name_pair *pairs = NULL;
  size_t n_pairs = 0, cap = 0;
  int rc = 0;
  for (size_t ri = 0; rc == 0 && ri < n; ri++) {
    size_t group_at;
    if (!sums[ri] || owning_session(h, runs, ri, run_index, &group_at) == SIZE_MAX) continue;
    for (size_t j = 0; rc == 0 && j < sums[ri]->n_tags; j++) {
      if (sums[ri]->tags[j].kind != KCB_SUMMARY_SCALAR) continue;
      if (n_pairs == cap) {
        metric_name_pair *grown = realloc(pairs, (cap = cap ? 2 * cap : 64) * sizeof *grown);
        if (!grown) {
          rc = data_fail("hparams", "out of memory");
          break;
        }
        pairs = grown;
      }
      const char *group = runs[ri].name + group_at;
      pairs[n_pairs].tag = sums[ri]->tags[j].tag;
      if (!(pairs[n_pairs].group = strdup(*group == '/' ? group + 1 : group))) rc = data_fail("hparams", "out of memory");
      else n_pairs++;
    }
  }
  if (rc == 0 && n_pairs) qsort(pairs, n_pairs, sizeof *pairs, cmp_metric_pair);
  for (size_t i = 0; rc == 0 && i < n_pairs; i++)
    if (metric_add(h, pairs[i].group, pairs[i].tag, "") < 0) rc = data_fail("hparams", "out of memory");
  for (size_t i = 0; i < n_pairs; i++) free(pairs[i].group);
  free(pairs);
  return rc;
}

int cmd_hparams(int argc, char **argv) {
  static const opt_spec specs[] = {{"--json", 0}, {"--sort", 1}, {"--desc", 0}, {"--sessions", 0}, {NULL, 0}};
  args a;
  int help, rc = args_parse(&a, "hparams", argc, argv, specs, &help);
  if (rc) return rc;
  run_ref *runs = NULL;
  size_t n = 0;
  kcb_run_summary **sums = NULL;
  hp_ctx h;
  memset(&h, 0, sizeof h);
  strmap run_index = {0};
  session *groups = NULL;
  size_t n_groups = 0;
  int problem = 0;
  if (help) {
    fputs(hparams_help, stdout);
    goto done;
  }
  if (a.n_pos != 1) {
    rc = usage_error("hparams", "expected one LOGDIR");
    goto done;
  }
  if ((rc = runs_find(a.pos[0], &runs, &n))) {
    rc = kcb_error_last()[0] ? lib_fail("hparams", rc) : EXIT_DATA;
    goto done;
  }
  /* The fast pass finds the runs holding hparams and every run's scalars; only the runs with
   * hparams are then decoded in full. */
  kcb_run_summary_options o = KCB_RUN_SUMMARY_OPTIONS_INIT;
  if ((rc = summaries_read("hparams", runs, n, &o, a.jobs, &sums, &problem))) goto done;
  if (!(h.run_session = malloc((n + 1) * sizeof *h.run_session))) {
    rc = data_fail("hparams", "out of memory");
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    h.run_session[i] = SIZE_MAX;
    if (strmap_put(&run_index, runs[i].name, i, NULL) < 0) {
      rc = data_fail("hparams", "out of memory");
      goto done;
    }
  }
  for (size_t i = 0; i < n; i++) {
    int has = 0;
    for (size_t j = 0; sums[i] && j < sums[i]->n_tags; j++) has |= sums[i]->tags[j].kind == KCB_SUMMARY_HPARAMS;
    if (!has) continue;
    event_ctx ec = {&h, i};
    int dummy = 0; /* damage was already reported by the fast pass */
    if ((rc = inspect_each_event("hparams", &runs[i], on_hparams_event, &ec, &dummy))) goto done;
  }
  if (!h.n_sessions) {
    rc = data_fail("hparams", "no hparams session (session_start_info) in %s", a.pos[0]);
    goto done;
  }
  /* TensorBoard looks for the metrics of the log directory's own session (run ".") in "./GROUP",
   * a run it does not have: its HParams tab shows them only when started on the directory above */
  for (size_t i = 0; i < h.n_sessions; i++)
    if (strcmp(runs[h.sessions[i].run].name, ".") == 0 && h.metric_tags.n) {
      fprintf(stderr, "kcb-inspect: note: %s holds its hparams session itself: TensorBoard's HParams tab shows its "
              "metrics only when TensorBoard is started on the directory above it (tensorboard --logdir PARENT)\n",
              tool_esc(a.pos[0]));
      break;
    }
  /* without an experiment: every scalar tag of a session's run and of the runs below it, the group
   * being the run's path under the session's ("train" for SESSION/train), sorted by (tag, group),
   * as TensorBoard's backend computes the metric names */
  if (!h.metric_tags.n && (rc = metrics_from_runs(&h, runs, n, sums, &run_index))) goto done;
  for (size_t i = 0; i < h.n_sessions; i++) {
    session *s = &h.sessions[i];
    s->metrics = malloc((h.metric_tags.n + 1) * sizeof *s->metrics);
    if (!s->metrics || session_index(s) != 0) {
      rc = data_fail("hparams", "out of memory");
      goto done;
    }
    for (size_t k = 0; k < h.metric_tags.n; k++) {
      s->metrics[k].type = KCB_SCALAR_FLOAT, s->metrics[k].d = NAN;
      const char *sr = runs[s->run].name, *g = h.metric_groups.items[k];
      char name[2048];
      if (!g[0]) snprintf(name, sizeof name, "%s", sr);
      else if (strcmp(sr, ".") == 0) snprintf(name, sizeof name, "%s", g);
      else snprintf(name, sizeof name, "%s/%s", sr, g);
      size_t len = strlen(name);
      if (len && name[len - 1] == '/') name[len - 1] = '\0'; /* as TensorBoard: a group "validation/" is the run */
      size_t ri;
      if (!strmap_get(&run_index, name, &ri) || !sums[ri]) continue;
      const kcb_run_tag *t = kcb_run_summary_find(sums[ri], h.metric_tags.items[k]);
      if (t && t->kind == KCB_SUMMARY_SCALAR && t->n_points) s->metrics[k] = tag_point(t, t->n_points - 1);
    }
  }
  /* order */
  const char *sort = args_get(&a, "--sort", NULL);
  sort_h = &h, sort_runs = runs, sort_desc = args_has(&a, "--desc"), sort_metric = -1, sort_hparam = NULL;
  if (sort) {
    for (size_t k = 0; k < h.metric_tags.n && sort_metric < 0; k++) {
      char mn[1024];
      metric_name(&h, k, mn, sizeof mn);
      if (strcmp(mn, sort) == 0 || strcmp(h.metric_tags.items[k], sort) == 0 ||
          (h.metric_shown.items[k][0] && strcmp(h.metric_shown.items[k], sort) == 0))
        sort_metric = (int)k;
    }
    for (size_t k = 0; sort_metric < 0 && k < h.hparams.n; k++)
      if (strcmp(h.hparams.items[k], sort) == 0) sort_hparam = sort;
    if (sort_metric < 0 && !sort_hparam) {
      fprintf(stderr, "kcb-inspect hparams: --sort '%s': no such metric or hyperparameter (metrics:", sort);
      for (size_t k = 0; k < h.metric_tags.n; k++) {
        char mn[1024];
        metric_name(&h, k, mn, sizeof mn);
        fprintf(stderr, " %s", tool_esc(mn));
      }
      fprintf(stderr, "; hyperparameters:");
      for (size_t k = 0; k < h.hparams.n; k++) fprintf(stderr, " %s", tool_esc(h.hparams.items[k]));
      fprintf(stderr, ")\n");
      rc = EXIT_DATA;
      goto done;
    }
  }
  qsort(h.sessions, h.n_sessions, sizeof *h.sessions, cmp_session);
  if (group_sessions(&h, runs, &groups, &n_groups) != 0) {
    rc = data_fail("hparams", "out of memory");
    goto done;
  }
  qsort(groups, n_groups, sizeof *groups, cmp_session);
  int grouped = n_groups < h.n_sessions && !args_has(&a, "--sessions"); /* TensorBoard's rows */
  if (args_has(&a, "--json")) {
    printf("{\"hparams\": [");
    for (size_t k = 0; k < h.hparams.n; k++) printf("%s", k ? ", " : ""), json_str(stdout, h.hparams.items[k]);
    printf("], \"metrics\": [");
    for (size_t k = 0; k < h.metric_tags.n; k++) {
      char mn[1024];
      metric_name(&h, k, mn, sizeof mn);
      printf("%s", k ? ", " : "");
      json_str(stdout, mn);
    }
    printf("], \"sessions\": [");
    for (size_t i = 0; i < h.n_sessions; i++) {
      const session *s = &h.sessions[i];
      printf("%s\n  {\"run\": ", i ? "," : "");
      json_str(stdout, runs[s->run].name);
      printf(", \"group\": ");
      json_str(stdout, s->group);
      json_values(&h, s);
    }
    printf("], \"groups\": [");
    for (size_t i = 0; i < n_groups; i++) {
      const session *g = &groups[i];
      printf("%s\n  {\"group\": ", i ? "," : "");
      json_str(stdout, g->label);
      printf(", \"sessions\": [");
      for (size_t m = 0; m < g->n_members; m++) printf("%s", m ? ", " : ""), json_str(stdout, runs[h.sessions[g->members[m]].run].name);
      printf("]");
      json_values(&h, g);
    }
    printf("]}\n");
  } else {
    print_table(&h, grouped ? groups : h.sessions, grouped ? n_groups : h.n_sessions, runs, grouped);
  }
  rc = problem ? EXIT_DATA : EXIT_OK;
done:
  for (size_t i = 0; i < h.n_sessions; i++) {
    session *s = &h.sessions[i];
    for (size_t k = 0; k < s->n_vals; k++) free(s->vals[k].name), free(s->vals[k].string);
    free(s->vals), free(s->group), free(s->metrics), free(s->by_name);
  }
  groups_free(groups, n_groups);
  free(h.sessions);
  free(h.run_session);
  strmap_free(&h.hparam_index), strmap_free(&h.metric_index), strmap_free(&run_index);
  names_free(&h.hparams), names_free(&h.metric_groups), names_free(&h.metric_tags), names_free(&h.metric_shown);
  summaries_free(sums, n);
  runs_free(runs, n);
  args_free(&a);
  return rc;
}
