/* kcb-inspect runs | scalars | diff: what the runs of a log directory hold, read with the fast
 * run summary (kcb/run_summary.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_common.h"
#include "kcb_inspect.h"

/* ---- runs -------------------------------------------------------------------------------------- */

static const char runs_help[] =
    "usage: kcb-inspect runs LOGDIR [--json]\n"
    "\n"
    "Lists the runs under LOGDIR (a log directory, a run directory or an event file): for each,\n"
    "its event files, events and bytes, and every tag grouped by plugin with its kind, number of\n"
    "values and step range; for scalars also the first, last, least and greatest value (integer\n"
    "tensors as exact integers).\n"
    "\n"
    "  --json   one JSON document: {\"logdir\", \"runs\": [{\"name\", \"path\", \"files\", \"events\",\n"
    "           \"bytes\", \"problem\", \"tags\": [{\"tag\", \"plugin\", \"kind\", \"count\", \"first_step\",\n"
    "           \"last_step\", \"min_step\", \"max_step\", \"first\", \"last\", \"min\", \"max\"}]}]}\n"
    "\n"
    "Exit status: 0; 1 if LOGDIR holds no event file or a file is truncated or corrupt (the\n"
    "records before the damage are still listed); 2 usage error.\n";

/* The dashboard that shows a tag: its plugin, or for legacy values (simple_value, HistogramProto,
 * Image, Audio) the plugin TensorBoard migrates them to; "" for none. The table and the JSON say
 * the same. */
static const char *shown_plugin(const kcb_run_tag *t) {
  if (t->plugin[0]) return t->plugin;
  switch (t->kind) {
    case KCB_SUMMARY_SCALAR: return "scalars";
    case KCB_SUMMARY_HISTOGRAM: return "histograms";
    case KCB_SUMMARY_IMAGE: return "images";
    case KCB_SUMMARY_AUDIO: return "audio";
    case KCB_SUMMARY_TEXT: return "text";
    default: return "";
  }
}

static int cmp_plugin_tag(const void *a, const void *b) {
  const kcb_run_tag *x = *(const kcb_run_tag *const *)a, *y = *(const kcb_run_tag *const *)b;
  int c = strcmp(shown_plugin(x), shown_plugin(y));
  return c ? c : strcmp(x->tag, y->tag);
}

/* A scalar tag's first / last / min / max, exact for integer tags. */
static scalar_val stat_val(const kcb_run_tag *g, double d, int64_t i) {
  scalar_val v = {g->value_type, d, i};
  return v;
}

static void steps_text(const kcb_run_tag *t, char *buf, size_t size) {
  if (t->min_step == t->max_step) snprintf(buf, size, "%lld", (long long)t->min_step);
  else snprintf(buf, size, "%lld..%lld", (long long)t->min_step, (long long)t->max_step);
}

static void print_runs_text(const run_ref *runs, kcb_run_summary **sums, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const kcb_run_summary *s = sums[i];
    if (!s) continue;
    printf("%s%s  (%zu file%s, %llu events, %llu bytes", i ? "\n" : "", tool_esc(runs[i].name), s->n_files,
           s->n_files == 1 ? "" : "s", (unsigned long long)s->n_events, (unsigned long long)s->n_bytes);
    if (s->n_graphs) /* a graph has no tag, so no row below would show it */
      printf(", %llu graph%s", (unsigned long long)s->n_graphs, s->n_graphs == 1 ? "" : "s");
    printf(")\n");
    if (s->problem) printf("  ! %s\n", tool_esc(s->problem_message));
    if (!s->n_tags) {
      printf("  (no summaries)\n");
      continue;
    }
    const kcb_run_tag **order = malloc(s->n_tags * sizeof *order);
    if (!order) return;
    for (size_t j = 0; j < s->n_tags; j++) order[j] = &s->tags[j];
    qsort(order, s->n_tags, sizeof *order, cmp_plugin_tag);
    int any_scalar = 0;
    for (size_t j = 0; j < s->n_tags; j++) any_scalar |= s->tags[j].kind == KCB_SUMMARY_SCALAR;
    table t;
    table_init(&t, 9, "lllrrrrrr");
    const char *head[9] = {"plugin", "tag", "kind", "count", "steps", any_scalar ? "first" : NULL,
                           any_scalar ? "last" : NULL, any_scalar ? "min" : NULL, any_scalar ? "max" : NULL};
    table_add(&t, head);
    for (size_t j = 0; j < s->n_tags; j++) {
      const kcb_run_tag *g = order[j];
      char cnt[24], st[48], a[32], b[32], c[32], d[32];
      snprintf(cnt, sizeof cnt, "%llu", (unsigned long long)g->count);
      steps_text(g, st, sizeof st);
      int sc = g->kind == KCB_SUMMARY_SCALAR;
      const char *row[9] = {shown_plugin(g)[0] ? shown_plugin(g) : "-", g->tag, kcb_summary_kind_name(g->kind), cnt, st,
                            sc ? sv_short(stat_val(g, g->first, g->first_int), a) : "",
                            sc ? sv_short(stat_val(g, g->last, g->last_int), b) : "",
                            sc ? sv_short(stat_val(g, g->min, g->min_int), c) : "",
                            sc ? sv_short(stat_val(g, g->max, g->max_int), d) : ""};
      table_add(&t, row);
    }
    table_print(stdout, &t, "  ");
    table_free(&t);
    free(order);
  }
}

static void json_tag(FILE *f, const kcb_run_tag *g) {
  fputs("{\"tag\": ", f);
  json_str(f, g->tag);
  fputs(", \"plugin\": ", f);
  json_str(f, shown_plugin(g));
  fprintf(f, ", \"kind\": \"%s\", \"count\": %llu, \"first_step\": %lld, \"last_step\": %lld, \"min_step\": %lld, "
             "\"max_step\": %lld, \"first_wall_time\": ",
          kcb_summary_kind_name(g->kind), (unsigned long long)g->count, (long long)g->first_step,
          (long long)g->last_step, (long long)g->min_step, (long long)g->max_step);
  json_num(f, g->first_wall_time);
  fputs(", \"last_wall_time\": ", f);
  json_num(f, g->last_wall_time);
  if (g->kind == KCB_SUMMARY_SCALAR) {
    fputs(", \"first\": ", f), sv_json(f, stat_val(g, g->first, g->first_int));
    fputs(", \"last\": ", f), sv_json(f, stat_val(g, g->last, g->last_int));
    fputs(", \"min\": ", f), sv_json(f, stat_val(g, g->min, g->min_int));
    fputs(", \"max\": ", f), sv_json(f, stat_val(g, g->max, g->max_int));
  }
  fputc('}', f);
}

static void print_runs_json(const char *logdir, const run_ref *runs, kcb_run_summary **sums, size_t n) {
  printf("{\"logdir\": ");
  json_str(stdout, logdir);
  printf(", \"runs\": [");
  int first = 1;
  for (size_t i = 0; i < n; i++) {
    const kcb_run_summary *s = sums[i];
    if (!s) continue;
    printf("%s\n  {\"name\": ", first ? "" : ",");
    first = 0;
    json_str(stdout, runs[i].name);
    printf(", \"path\": ");
    json_str(stdout, runs[i].path);
    printf(", \"files\": %zu, \"events\": %llu, \"bytes\": %llu, \"graphs\": %llu, \"problem\": ", s->n_files,
           (unsigned long long)s->n_events, (unsigned long long)s->n_bytes, (unsigned long long)s->n_graphs);
    if (s->problem) json_str(stdout, s->problem_message);
    else printf("null");
    printf(", \"tags\": [");
    for (size_t j = 0; j < s->n_tags; j++) {
      printf("%s\n    ", j ? "," : "");
      json_tag(stdout, &s->tags[j]);
    }
    printf("]}");
  }
  printf("]}\n");
}

int cmd_runs(int argc, char **argv) {
  static const opt_spec specs[] = {{"--json", 0}, {NULL, 0}};
  args a;
  int help, rc = args_parse(&a, "runs", argc, argv, specs, &help);
  if (rc) return rc;
  if (help) {
    fputs(runs_help, stdout);
    args_free(&a);
    return EXIT_OK;
  }
  if (a.n_pos != 1) {
    args_free(&a);
    return usage_error("runs", "expected one LOGDIR");
  }
  run_ref *runs = NULL;
  size_t n = 0;
  kcb_run_summary **sums = NULL;
  int problem = 0;
  if ((rc = runs_find(a.pos[0], &runs, &n))) {
    rc = kcb_error_last()[0] ? lib_fail("runs", rc) : EXIT_DATA;
    goto done;
  }
  kcb_run_summary_options o = KCB_RUN_SUMMARY_OPTIONS_INIT;
  o.keep_series = 0; /* first/last/min/max are enough; a restarted run is read again with its series */
  if ((rc = summaries_read("runs", runs, n, &o, a.jobs, &sums, &problem))) goto done;
  if (args_has(&a, "--json")) print_runs_json(a.pos[0], runs, sums, n);
  else print_runs_text(runs, sums, n);
  rc = problem ? EXIT_DATA : EXIT_OK;
done:
  summaries_free(sums, n);
  runs_free(runs, n);
  args_free(&a);
  return rc;
}

/* ---- scalars ------------------------------------------------------------------------------------- */

static const char scalars_help[] =
    "usage: kcb-inspect scalars LOGDIR --tag TAG [--run RUN]... [--format table|csv|json] [--json]\n"
    "\n"
    "Prints the scalar series TAG of every run that has it (or of the runs named by --run): one\n"
    "point per line with its step, wall time (seconds since 1970) and value, in file order, after\n"
    "TensorBoard's purge of points a restarted run replaced. Values are exact: a tag whose values\n"
    "are integer tensors (int64, int32, uint64, bool, ...) as integers (JSON integer literals), others\n"
    "as the shortest text that reads back as the same double.\n"
    "\n"
    "  --tag TAG        the scalar tag (required)\n"
    "  --run RUN        only this run (repeatable; default: every run with the tag)\n"
    "  --format FORMAT  table (default), csv (header run,step,wall_time,value; for spreadsheets)\n"
    "                   or json ({\"tag\", \"runs\": {RUN: [[step, wall_time, value], ...]}})\n"
    "  --json           same as --format json\n"
    "\n"
    "Exit status: 0; 1 if no selected run has TAG as a scalar, a run is missing or damaged; 2 usage.\n";

int cmd_scalars(int argc, char **argv) {
  static const opt_spec specs[] = {{"--json", 0}, {"--tag", 1}, {"--run", 1}, {"--format", 1}, {NULL, 0}};
  args a;
  int help, rc = args_parse(&a, "scalars", argc, argv, specs, &help);
  if (rc) return rc;
  run_ref *runs = NULL;
  size_t n = 0;
  kcb_run_summary **sums = NULL;
  const char *names[256];
  size_t n_names = 0;
  int problem = 0;
  if (help) {
    fputs(scalars_help, stdout);
    goto done;
  }
  const char *tag = args_get(&a, "--tag", NULL);
  static const char *const formats[] = {"table", "csv", "json"};
  const char *format = args_get(&a, "--format", args_has(&a, "--json") ? "json" : "table");
  char hint[128];
  if (a.n_pos != 1) rc = usage_error("scalars", "expected one LOGDIR");
  else if (!tag) rc = usage_error("scalars", "--tag TAG is required");
  else if (!cli_is_one_of(format, formats, 3))
    rc = usage_error("scalars", "--format '%s': %s", format, cli_expected(hint, sizeof hint, format, formats, 3));
  else if (args_has(&a, "--json") && strcmp(format, "json") != 0)
    rc = usage_error("scalars", "--json and --format %s ask for two outputs: give one", format);
  if (rc) goto done;
  n_names = args_all(&a, "--run", names, 256);
  if ((rc = runs_find(a.pos[0], &runs, &n))) {
    rc = kcb_error_last()[0] ? lib_fail("scalars", rc) : EXIT_DATA;
    goto done;
  }
  /* "train/epoch_loss", the RUN/TAG form diff prints, when no run has that tag itself */
  char split_run[512];
  const char *split_tag = NULL;
  int split = !n_names && runs_split_tag(runs, n, tag, split_run, sizeof split_run, &split_tag);
  if ((rc = runs_select("scalars", runs, &n, names, n_names))) goto done;
  kcb_run_summary_options o = KCB_RUN_SUMMARY_OPTIONS_INIT;
  size_t found = 0;
  for (int attempt = 0; attempt < 2 && !found; attempt++) {
    if (attempt == 1) { /* the whole text is no tag: read it as RUN/TAG */
      const char *run_name = split_run;
      if (!split) break;
      summaries_free(sums, n);
      sums = NULL;
      if ((rc = runs_select("scalars", runs, &n, &run_name, 1))) break;
      tag = split_tag;
      n_names = 1;
    }
    o.tag = tag;
    if ((rc = summaries_read("scalars", runs, n, &o, a.jobs, &sums, &problem))) goto done;
    for (size_t i = 0; i < n; i++) {
      const kcb_run_tag *g = sums[i] ? kcb_run_summary_find(sums[i], tag) : NULL;
      if (g && g->kind == KCB_SUMMARY_SCALAR) found++;
      else if (g) fprintf(stderr, "kcb-inspect scalars: run '%s': tag '%s' is not a scalar (%s)\n", tool_esc(runs[i].name), tool_esc(tag), kcb_summary_kind_name(g->kind));
    }
  }
  if (rc) goto done;
  if (!found) {
    char near[600];
    const char *s = tag_suggestion(runs, n, tag, KCB_SUMMARY_SCALAR, 1, near, sizeof near);
    rc = data_fail("scalars", "no %s has the scalar tag '%s'%s%s%s (see kcb-inspect runs %s)", n_names ? "selected run" : "run",
                   tag, s ? " (did you mean " : "", s ? s : "", s ? "?)" : "", a.pos[0]);
    goto done;
  }
  char b1[32], b2[32];
  if (strcmp(format, "json") == 0) {
    printf("{\"tag\": ");
    json_str(stdout, tag);
    printf(", \"runs\": {");
  } else if (strcmp(format, "csv") == 0) {
    printf("run,step,wall_time,value\n");
  }
  int first_run = 1;
  for (size_t i = 0; i < n; i++) {
    const kcb_run_tag *g = sums[i] ? kcb_run_summary_find(sums[i], tag) : NULL;
    if (!g || g->kind != KCB_SUMMARY_SCALAR) continue;
    if (strcmp(format, "json") == 0) {
      printf("%s\n  ", first_run ? "" : ",");
      json_str(stdout, runs[i].name);
      printf(": [");
      for (size_t j = 0; j < g->n_points; j++) {
        printf("%s[%lld, ", j ? ", " : "", (long long)g->steps[j]);
        json_num(stdout, g->wall_times[j]);
        printf(", ");
        sv_json(stdout, tag_point(g, j));
        printf("]");
      }
      printf("]");
    } else if (strcmp(format, "csv") == 0) {
      for (size_t j = 0; j < g->n_points; j++) {
        csv_field(stdout, runs[i].name);
        printf(",%lld,%s,%s\n", (long long)g->steps[j], num(g->wall_times[j], b1), sv_num(tag_point(g, j), b2));
      }
    } else {
      printf("%s%s  %s  (%zu points)\n", first_run ? "" : "\n", tool_esc(runs[i].name), tool_esc(tag), g->n_points);
      table t;
      table_init(&t, 3, "rrr");
      const char *head[3] = {"step", "wall_time", "value"};
      table_add(&t, head);
      for (size_t j = 0; j < g->n_points; j++) {
        char st[24];
        snprintf(st, sizeof st, "%lld", (long long)g->steps[j]);
        const char *row[3] = {st, num(g->wall_times[j], b1), sv_num(tag_point(g, j), b2)};
        table_add(&t, row);
      }
      table_print(stdout, &t, "  ");
      table_free(&t);
    }
    first_run = 0;
  }
  if (strcmp(format, "json") == 0) printf("}}\n");
  rc = problem ? EXIT_DATA : EXIT_OK;
done:
  summaries_free(sums, n);
  runs_free(runs, n);
  args_free(&a);
  return rc;
}

/* ---- diff ---------------------------------------------------------------------------------------- */

static const char diff_help[] =
    "usage: kcb-inspect diff RUN_A RUN_B [--step STEP] [--json]\n"
    "       kcb-inspect diff CHECKPOINT_A CHECKPOINT_B [--json]\n"
    "\n"
    "Puts the scalars of two runs side by side: for each tag, its value at the last step of each\n"
    "run (or at STEP), and the difference B - A. RUN_A and RUN_B may be run directories, event files\n"
    "or log directories (then tags are prefixed with the sub-run, e.g. validation/epoch_loss).\n"
    "Two checkpoints (.h5, .keras, .weights.h5; any model, any two layouts) are compared variable\n"
    "by variable: shapes, the largest absolute difference and the relative L2 norm of A - B,\n"
    "variables missing on either side, and a changed dtype (--json: {\"a\", \"b\", \"variables\":\n"
    "[{\"name\", \"status\", \"max_abs\", \"rel_l2\" (null when not compared), \"dtypes\" (when they\n"
    "differ)}], \"identical\"}); exit 0 either way.\n"
    "\n"
    "  --step STEP  compare the values recorded at this step (the last one if a step repeats)\n"
    "  --json       {\"a\", \"b\", \"step\", \"tags\": [{\"tag\", \"a_step\", \"a\", \"b_step\", \"b\", \"diff\"}]}\n"
    "               (a missing side is null)\n"
    "\n"
    "Exit status: 0; 1 if a run is missing or damaged, the runs have no scalar, or none at STEP;\n"
    "2 usage error.\n";

typedef struct side_point {
  int have;
  int64_t step;
  scalar_val value; /* exact for integer tags */
} side_point;

typedef struct diff_row {
  char *tag;
  side_point p[2];
} diff_row;

static int cmp_diff_row(const void *a, const void *b) { return strcmp(((const diff_row *)a)->tag, ((const diff_row *)b)->tag); }

/* Whether the log directory's own tag `tag` reads like run R's tag T ("train/loss" beside run
 * "train"'s "loss"): the row names would collide, so the own tag is shown as "./train/loss". */
static int own_tag_collides(const run_ref *runs, kcb_run_summary **sums, size_t n_runs, const char *tag) {
  for (size_t j = 0; j < n_runs; j++) {
    size_t len = strlen(runs[j].name);
    if (!sums[j] || strcmp(runs[j].name, ".") == 0 || strncmp(tag, runs[j].name, len) != 0 || tag[len] != '/') continue;
    const kcb_run_tag *other = kcb_run_summary_find(sums[j], tag + len + 1);
    if (other && other->kind == KCB_SUMMARY_SCALAR) return 1;
  }
  return 0;
}

/* Adds the scalars of one side (0 or 1) to rows. @return 0 or -1 out of memory. */
static int diff_collect(diff_row **rows, size_t *n, size_t *cap, int side, const run_ref *runs, kcb_run_summary **sums,
                        size_t n_runs, int bare, int have_step, int64_t step) {
  for (size_t i = 0; i < n_runs; i++) {
    if (!sums[i]) continue;
    for (size_t j = 0; j < sums[i]->n_tags; j++) {
      const kcb_run_tag *g = &sums[i]->tags[j];
      if (g->kind != KCB_SUMMARY_SCALAR) continue;
      size_t len = strlen(runs[i].name) + strlen(g->tag) + 3;
      char *key = malloc(len);
      if (!key) return -1;
      int own = strcmp(runs[i].name, ".") == 0;
      if (own && n_runs > 1 && own_tag_collides(runs, sums, n_runs, g->tag)) snprintf(key, len, "./%s", g->tag);
      else if (own || bare) snprintf(key, len, "%s", g->tag);
      else snprintf(key, len, "%s/%s", runs[i].name, g->tag);
      diff_row *r = NULL;
      for (size_t k = 0; k < *n && !r; k++)
        if (strcmp((*rows)[k].tag, key) == 0) r = &(*rows)[k];
      if (!r) {
        if (*n == *cap) {
          size_t nc = *cap ? 2 * *cap : 32;
          diff_row *p = realloc(*rows, nc * sizeof *p);
          if (!p) {
            free(key);
            return -1;
          }
          *rows = p;
          *cap = nc;
        }
        r = &(*rows)[(*n)++];
        memset(r, 0, sizeof *r);
        r->tag = key;
      } else {
        free(key);
      }
      side_point *sp = &r->p[side];
      for (size_t k = g->n_points; k-- > 0;)
        if (!have_step || g->steps[k] == step) {
          sp->have = 1, sp->step = g->steps[k], sp->value = tag_point(g, k);
          break;
        }
    }
  }
  return 0;
}

/* A checkpoint to diff: by its name, or by its content (an HDF5 or zip file under any name). */
static int diffs_as_checkpoint(const char *path) {
  const char *kind = is_checkpoint_path(path) ? "checkpoint" : command_for_path(path);
  return kind && !strcmp(kind, "checkpoint") && !kcb_checkpoint_foreign_kind(path);
}

int cmd_diff(int argc, char **argv) {
  static const opt_spec specs[] = {{"--json", 0}, {"--step", 1}, {NULL, 0}};
  args a;
  int help, rc = args_parse(&a, "diff", argc, argv, specs, &help);
  if (rc) return rc;
  run_ref *runs[2] = {NULL, NULL};
  size_t n[2] = {0, 0};
  kcb_run_summary **sums[2] = {NULL, NULL};
  diff_row *rows = NULL;
  size_t n_rows = 0, cap = 0;
  int problem = 0;
  long long step = 0;
  int have_step = args_has(&a, "--step");
  if (help) {
    fputs(diff_help, stdout);
    goto done;
  }
  if (a.n_pos == 2 && diffs_as_checkpoint(a.pos[0]) && diffs_as_checkpoint(a.pos[1])) {
    rc = cmd_checkpoint_diff(a.pos[0], a.pos[1], args_has(&a, "--json"));
    goto done;
  }
  if (a.n_pos != 2) rc = usage_error("diff", "expected RUN_A and RUN_B");
  else if (have_step) rc = parse_int_flag("diff", "--step", args_get(&a, "--step", ""), INT64_MIN, INT64_MAX, &step);
  if (rc) goto done;
  struct stat given;
  for (size_t i = 0; i < 2; i++)
    if (stat(a.pos[i], &given) != 0) { /* missing: said as such (exit 1), not as a run beside a checkpoint */
      fprintf(stderr, "kcb-inspect diff: %s: cannot open: %s\n", tool_esc(a.pos[i]), strerror(errno));
      rc = EXIT_DATA;
      goto done;
    }
  int checkpoint[2];
  for (size_t i = 0; i < 2 && rc == 0; i++) { /* another tool's file (an event file is a run): what it is */
    const char *kind = command_for_path(a.pos[i]), *foreign = kcb_checkpoint_foreign_kind(a.pos[i]);
    checkpoint[i] = diffs_as_checkpoint(a.pos[i]);
    if (!is_checkpoint_path(a.pos[i]) && kind && strcmp(kind, "runs") != 0 && foreign) {
      fprintf(stderr, "kcb-inspect diff: %s: %s\n", tool_esc(a.pos[i]), foreign);
      rc = EXIT_DATA;
    }
  }
  if (rc == 0 && checkpoint[0] != checkpoint[1]) {
    char why[640]; /* a run's scalars and a checkpoint's variables have nothing to compare */
    snprintf(why, sizeof why, "%s is a checkpoint and %s is not: diff compares two runs or two checkpoints",
             tool_esc(a.pos[checkpoint[0] ? 0 : 1]), tool_esc(a.pos[checkpoint[0] ? 1 : 0]));
    rc = usage_error("diff", "%s", why);
  }
  if (rc) goto done;
  for (int s = 0; s < 2; s++) {
    if ((rc = runs_find(a.pos[s], &runs[s], &n[s]))) {
      rc = kcb_error_last()[0] ? lib_fail("diff", rc) : EXIT_DATA;
      goto done;
    }
    kcb_run_summary_options o = KCB_RUN_SUMMARY_OPTIONS_INIT;
    if ((rc = summaries_read("diff", runs[s], n[s], &o, a.jobs, &sums[s], &problem))) goto done;
  }
  /* a log directory's runs are compared by name (train with train): a lone run on each side goes
   * without its name when the two have the same, or when one was given itself (a run directory, an
   * event file), never one log directory's train with another's validation */
  int direct[2];
  for (int s = 0; s < 2; s++) {
    struct stat st;
    direct[s] = n[s] == 1 && (strcmp(runs[s][0].name, ".") == 0 || (stat(a.pos[s], &st) == 0 && S_ISREG(st.st_mode)));
  }
  int bare = n[0] == 1 && n[1] == 1 && (strcmp(runs[0][0].name, runs[1][0].name) == 0 || direct[0] || direct[1]);
  for (int s = 0; s < 2; s++)
    if (diff_collect(&rows, &n_rows, &cap, s, runs[s], sums[s], n[s], bare, have_step, step)) {
      rc = data_fail("diff", "out of memory");
      goto done;
    }
  if (!n_rows) {
    rc = data_fail("diff", "neither run has a scalar");
    goto done;
  }
  size_t at_step = 0;
  for (size_t i = 0; i < n_rows; i++) at_step += rows[i].p[0].have || rows[i].p[1].have;
  if (have_step && !at_step) { /* a table of dashes would look like an answer */
    rc = data_fail("diff", "neither run has a scalar at step %lld (see kcb-inspect runs %s)", step, a.pos[0]);
    goto done;
  }
  qsort(rows, n_rows, sizeof *rows, cmp_diff_row);
  char b[5][48];
  if (args_has(&a, "--json")) {
    printf("{\"a\": ");
    json_str(stdout, a.pos[0]);
    printf(", \"b\": ");
    json_str(stdout, a.pos[1]);
    if (have_step) printf(", \"step\": %lld", step);
    else printf(", \"step\": null");
    printf(", \"tags\": [");
    for (size_t i = 0; i < n_rows; i++) {
      printf("%s\n  {\"tag\": ", i ? "," : "");
      json_str(stdout, rows[i].tag);
      for (int s = 0; s < 2; s++) {
        const side_point *p = &rows[i].p[s];
        const char *nm = s ? "b" : "a";
        if (p->have) {
          printf(", \"%s_step\": %lld, \"%s\": ", nm, (long long)p->step, nm);
          sv_json(stdout, p->value);
        } else {
          printf(", \"%s_step\": null, \"%s\": null", nm, nm);
        }
      }
      printf(", \"diff\": ");
      if (rows[i].p[0].have && rows[i].p[1].have) sv_json_diff(stdout, rows[i].p[0].value, rows[i].p[1].value);
      else printf("null");
      printf("}");
    }
    printf("]}\n");
  } else {
    printf("A: %s\nB: %s\n", a.pos[0], a.pos[1]);
    if (have_step) printf("at step %lld\n", step);
    table t;
    table_init(&t, 7, "lrrrrrr");
    const char *head[7] = {"tag", "step A", "A", "step B", "B", "B - A", "change"};
    table_add(&t, head);
    for (size_t i = 0; i < n_rows; i++) {
      char sa[24] = "-", sb[24] = "-", ch[32] = "";
      const side_point *p = rows[i].p;
      if (p[0].have) snprintf(sa, sizeof sa, "%lld", (long long)p[0].step);
      if (p[1].have) snprintf(sb, sizeof sb, "%lld", (long long)p[1].step);
      int both = p[0].have && p[1].have;
      double va = p[0].value.d, vb = p[1].value.d;
      double pct = both && va != 0 && isfinite(va) && isfinite(vb) ? 100.0 * (vb - va) / fabs(va) : NAN;
      if (isfinite(pct)) /* a ratio beyond a million percent in powers of ten, not cut digits */
        snprintf(ch, sizeof ch, fabs(pct) < 1e6 ? "%+.1f%%" : "%+.2g%%", pct);
      const char *row[7] = {rows[i].tag, sa, p[0].have ? sv_short(p[0].value, b[0]) : "-", sb,
                            p[1].have ? sv_short(p[1].value, b[1]) : "-",
                            both ? sv_diff(p[0].value, p[1].value, 1, b[2]) : "-", ch};
      table_add(&t, row);
    }
    table_print(stdout, &t, "");
    table_free(&t);
  }
  rc = problem ? EXIT_DATA : EXIT_OK;
done:
  for (size_t i = 0; i < n_rows; i++) free(rows[i].tag);
  free(rows);
  for (int s = 0; s < 2; s++) summaries_free(sums[s], n[s]), runs_free(runs[s], n[s]);
  args_free(&a);
  return rc;
}
