/* kcb-inspect plugins: what TensorBoard's other dashboards would show — PR curves (thresholds,
 * points, the last step's AUC), custom-scalars layouts, projector embeddings (tensor shape,
 * metadata columns, sprite size) and profile traces — read with kcb's public API. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kcb_inspect.h"

static const char plugins_help[] =
    "usage: kcb-inspect plugins LOGDIR [--run NAME]... [--json]\n"
    "PR curves (tag, thresholds, points, last step, area under the last curve), custom-scalars\n"
    "layouts (category, chart, kind, tag regexes), projector embeddings (tensor shape and format,\n"
    "metadata rows and columns, sprite size; anything TensorBoard would stumble on) and profile\n"
    "traces (plugins/profile/*/*.trace.json.gz) of each run; the projector also in LOGDIR itself.\n"
    "Exit status 1 when a PR curve cannot be read or an embedding has a problem (printed).\n";

typedef struct pr_info {
  char *tag;
  int num_thresholds;
  size_t points;
  int64_t last_step;
  double auc;
} pr_info;

typedef struct run_plugins {
  pr_info *pr;
  size_t n_pr, cap_pr;
  strmap pr_index; /* tag -> index in pr: a run may have tens of thousands of PR tags */
  kcb_bytes layout; /* the last layout seen (copied) */
  uint8_t *layout_copy;
  int bad_pr;
} run_plugins;

/* Text from files, escaped (tool_text.h) so that it cannot drive the terminal. */
static void put_safe(const char *s) { fputs(tool_esc(s), stdout); }

static int on_event(void *ctx, const run_ref *run, const kcb_event *e) {
  (void)run;
  run_plugins *rp = ctx;
  for (size_t i = 0; i < e->n_values; i++) {
    const kcb_summary_value *v = &e->values[i];
    if (strcmp(v->plugin_name, "pr_curves") == 0) {
      kcb_pr_curve_view pr;
      if (kcb_pr_curve_from_value(v, &pr) != 0) {
        fprintf(stderr, "kcb-inspect plugins: warning: %s\n", tool_esc_lines(kcb_error_last()));
        rp->bad_pr = 1;
        continue;
      }
      size_t k = rp->n_pr;
      int added = strmap_put(&rp->pr_index, v->tag, k, &k);
      if (added < 0) return data_fail("plugins", "out of memory");
      if (added) {
        if (rp->n_pr == rp->cap_pr) {
          size_t cap = rp->cap_pr ? 2 * rp->cap_pr : 16;
          pr_info *grown = realloc(rp->pr, cap * sizeof *grown);
          if (!grown) return data_fail("plugins", "out of memory");
          rp->pr = grown, rp->cap_pr = cap;
        }
        memset(&rp->pr[k], 0, sizeof rp->pr[k]);
        if (!(rp->pr[k].tag = strdup(v->tag))) return data_fail("plugins", "out of memory");
        rp->n_pr++;
      }
      pr_info *p = &rp->pr[k];
      p->points++;
      p->num_thresholds = pr.num_thresholds;
      p->last_step = e->step;
      float *data = malloc(6 * (size_t)pr.num_thresholds * sizeof *data);
      if (!data) return data_fail("plugins", "out of memory");
      for (int row = 0; row < 6; row++)
        for (int t = 0; t < pr.num_thresholds; t++) data[row * pr.num_thresholds + t] = kcb_pr_curve_view_get(&pr, row, t);
      p->auc = kcb_pr_curve_auc(data, pr.num_thresholds);
      free(data);
    } else if (strcmp(v->plugin_name, "custom_scalars") == 0 && v->n_blobs == 1) {
      uint8_t *copy = malloc(v->blobs[0].len + 1);
      if (!copy) return data_fail("plugins", "out of memory");
      memcpy(copy, v->blobs[0].data, v->blobs[0].len);
      free(rp->layout_copy);
      rp->layout_copy = copy;
      rp->layout.data = copy;
      rp->layout.len = v->blobs[0].len;
    }
  }
  return 0;
}

typedef struct chart_print {
  int json, first;
} chart_print;

static void print_chart(void *ctx, const char *category, const char *chart, const char *kind, const char *tags) {
  chart_print *cp = ctx;
  if (cp->json) {
    printf("%s{\"category\": ", cp->first ? "" : ", ");
    json_str(stdout, category);
    printf(", \"chart\": ");
    json_str(stdout, chart);
    printf(", \"kind\": \"%s\", \"tags\": ", kind);
    json_str(stdout, tags);
    printf("}");
  } else {
    printf("    ");
    put_safe(category);
    printf(" / ");
    put_safe(chart);
    printf(": %s ", kind);
    put_safe(tags);
    printf("\n");
  }
  cp->first = 0;
}

/* The traces under dir/plugins/profile/<name>/. */
static void print_profiles(const char *dir, int json) {
  char path[4096];
  snprintf(path, sizeof path, "%s/plugins/profile", dir);
  DIR *d = opendir(path);
  int first = 1;
  if (json) printf(", \"profiles\": [");
  struct dirent *sub;
  while (d && (sub = readdir(d))) {
    if (sub->d_name[0] == '.') continue;
    char subdir[4096 + 256];
    snprintf(subdir, sizeof subdir, "%s/%s", path, sub->d_name);
    DIR *d2 = opendir(subdir);
    struct dirent *f;
    while (d2 && (f = readdir(d2))) {
      size_t n = strlen(f->d_name);
      if (n < 14 || strcmp(f->d_name + n - 14, ".trace.json.gz") != 0) continue;
      char file[8192];
      snprintf(file, sizeof file, "%s/%s", subdir, f->d_name);
      struct stat st;
      long long size = stat(file, &st) == 0 ? (long long)st.st_size : -1;
      if (json) {
        printf("%s{\"path\": ", first ? "" : ", ");
        json_str(stdout, file);
        printf(", \"bytes\": %lld}", size);
      } else {
        if (first) printf("  profile traces (Chrome trace-event JSON, gzip)\n");
        printf("    ");
        put_safe(file);
        printf("  %lld bytes\n", size);
      }
      first = 0;
    }
    if (d2) closedir(d2);
  }
  if (d) closedir(d);
  if (json) printf("]");
}

/* @return 1 if an embedding has a problem TensorBoard would stumble on. */
static int print_projector(const char *dir, int json) {
  kcb_projector_embedding_info *e = NULL;
  size_t n = 0;
  int rc = kcb_projector_read(dir, &e, &n);
  if (json) printf(", \"projector\": [");
  if (rc && rc != KCB_ENOENT) fprintf(stderr, "kcb-inspect plugins: warning: %s\n", tool_esc_lines(kcb_error_last()));
  for (size_t i = 0; i < n; i++) {
    const kcb_projector_embedding_info *x = &e[i];
    if (json) {
      printf("%s{\"tensor_name\": ", i ? ", " : "");
      json_str(stdout, x->tensor_name);
      printf(", \"tensor_path\": ");
      json_str(stdout, x->tensor_path);
      printf(", \"rows\": %lld, \"dims\": %lld, \"format\": \"%s\", \"metadata_rows\": %lld, \"metadata_columns\": ",
             x->rows, x->dims, x->format, x->metadata_rows);
      json_str(stdout, x->metadata_columns);
      printf(", \"sprite_width\": %d, \"sprite_height\": %d, \"single_image_dim\": [%d, %d], \"problem\": ",
             x->sprite_width, x->sprite_height, x->single_image_width, x->single_image_height);
      json_str(stdout, x->problem);
      printf("}");
    } else {
      if (i == 0) printf("  projector (%s/projector_config.pbtxt)\n", dir);
      printf("    ");
      put_safe(x->tensor_name);
      if (x->rows >= 0) printf(": tensor %lld x %lld (%s)", x->rows, x->dims, x->format[0] ? x->format : "no tensor file");
      else printf(": tensor of unknown shape (%s)", x->format[0] ? x->format : "no tensor file");
      if (x->metadata_rows >= 0) {
        printf(", metadata %lld rows, columns: ", x->metadata_rows);
        put_safe(x->metadata_columns);
      }
      if (x->sprite_width)
        printf(", sprite %dx%d of %dx%d images", x->sprite_width, x->sprite_height, x->single_image_width,
               x->single_image_height);
      printf("\n");
      if (x->problem[0]) {
        printf("      problem: ");
        put_safe(x->problem);
        printf("\n");
      }
    }
  }
  if (json) printf("]");
  int problem = rc && rc != KCB_ENOENT;
  for (size_t i = 0; i < n; i++) problem |= e[i].problem[0] != '\0';
  free(e);
  return problem;
}

/* @return 1 if a projector embedding has a problem. */
static int print_run(const char *name, const char *dir, const run_plugins *rp, int json, int first) {
  char buf[32];
  if (json) {
    printf("%s{\"run\": ", first ? "" : ", ");
    json_str(stdout, name);
    printf(", \"pr_curves\": [");
    for (size_t i = 0; rp && i < rp->n_pr; i++) {
      printf("%s{\"tag\": ", i ? ", " : "");
      json_str(stdout, rp->pr[i].tag);
      printf(", \"num_thresholds\": %d, \"points\": %zu, \"last_step\": %lld, \"auc\": ", rp->pr[i].num_thresholds,
             rp->pr[i].points, (long long)rp->pr[i].last_step);
      json_num(stdout, rp->pr[i].auc);
      printf("}");
    }
    printf("], \"custom_scalars\": [");
  } else {
    put_safe(name);
    printf("\n");
    if (rp && rp->n_pr) {
      table t;
      table_init(&t, 5, "lrrrr");
      const char *head[5] = {"PR curve", "thresholds", "points", "last step", "AUC"};
      table_add(&t, head);
      for (size_t i = 0; i < rp->n_pr; i++) {
        char th[24], pts[24], st[24];
        snprintf(th, sizeof th, "%d", rp->pr[i].num_thresholds);
        snprintf(pts, sizeof pts, "%zu", rp->pr[i].points);
        snprintf(st, sizeof st, "%lld", (long long)rp->pr[i].last_step);
        const char *row[5] = {rp->pr[i].tag, th, pts, st, short_num(rp->pr[i].auc, buf)};
        table_add(&t, row);
      }
      table_print(stdout, &t, "  ");
      table_free(&t);
    }
  }
  if (rp && rp->layout.data) {
    kcb_custom_layout_info info;
    chart_print cp = {json, 1};
    if (!json) printf("  custom-scalars layout\n");
    if (kcb_custom_layout_parse(&rp->layout, &info, print_chart, &cp) != 0)
      fprintf(stderr, "kcb-inspect plugins: warning: %s\n", tool_esc_lines(kcb_error_last()));
  }
  if (json) printf("]");
  int problem = print_projector(dir, json);
  print_profiles(dir, json);
  if (json) printf("}");
  return problem;
}

/* TensorBoard's projector reads the configs of runs and of the log directory itself: one in a
 * directory below that holds no event file (kcb-train --logdir P/a writes P/a/train and
 * P/a/validation, and P/a is a run only with --hparams) is not shown when TensorBoard is started on
 * the log directory. Said on stderr, one level down. */
static void note_hidden_projectors(const char *logdir) {
  DIR *d = opendir(logdir);
  for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
    if (e->d_name[0] == '.') continue;
    char dir[4096], cfg[4200];
    struct stat st;
    snprintf(dir, sizeof dir, "%s/%s", logdir, e->d_name);
    snprintf(cfg, sizeof cfg, "%s/projector_config.pbtxt", dir);
    if (stat(cfg, &st) != 0 || !S_ISREG(st.st_mode)) continue;
    char **files = NULL;
    size_t n = 0;
    int is_run = kcb_tfevents_list_files(dir, &files, &n) == 0 && n > 0;
    kcb_string_list_free(files, n);
    kcb_error_clear();
    if (!is_run)
      fprintf(stderr, "kcb-inspect plugins: note: %s holds no event file, so TensorBoard started on %s does not show its "
              "projector: start TensorBoard on %s (kcb-train --hparams makes it a run)\n", tool_esc(dir), tool_esc(logdir),
              tool_esc(dir));
  }
  if (d) closedir(d);
}

int cmd_plugins(int argc, char **argv) {
  static const opt_spec specs[] = {{"--json", 0}, {"--run", 1}, {NULL, 0}};
  args a;
  int want_help, rc = args_parse(&a, "plugins", argc, argv, specs, &want_help);
  if (rc) return rc;
  if (want_help) {
    fputs(plugins_help, stdout);
    args_free(&a);
    return EXIT_OK;
  }
  if (a.n_pos != 1) {
    args_free(&a);
    return usage_error("plugins", "expected one LOGDIR");
  }
  int json = args_has(&a, "--json"), problem = 0;
  const char *names[256];
  size_t n_names = args_all(&a, "--run", names, 256);
  run_ref *runs = NULL;
  size_t n_runs = 0;
  const char *logdir = a.pos[0];
  struct stat st;
  int logdir_is_dir = stat(logdir, &st) == 0 && S_ISDIR(st.st_mode);
  /* a log dir with only a projector config is no error: the projector reads LOGDIR itself */
  char **found = NULL;
  size_t n_found = 0;
  int any_runs = !logdir_is_dir || (kcb_tfevents_list_runs(logdir, &found, &n_found) == 0 && n_found > 0);
  kcb_string_list_free(found, n_found);
  char cfg_path[4096];
  snprintf(cfg_path, sizeof cfg_path, "%s/projector_config.pbtxt", logdir);
  if (any_runs || stat(cfg_path, &st) != 0) rc = runs_find(logdir, &runs, &n_runs);
  if (rc) rc = kcb_error_last()[0] ? lib_fail("plugins", rc) : EXIT_DATA;
  if (!rc) rc = runs_select("plugins", runs, &n_runs, names, n_names);
  if (json && !rc) printf("{\"runs\": [");
  int have_root = 0;
  for (size_t i = 0; i < n_runs && !rc; i++) {
    run_plugins rp = {0};
    have_root |= strcmp(runs[i].name, ".") == 0;
    rc = inspect_each_event("plugins", &runs[i], on_event, &rp, &problem);
    struct stat rs;
    if (!rc) problem |= print_run(runs[i].name, stat(runs[i].path, &rs) == 0 && S_ISDIR(rs.st_mode) ? runs[i].path : logdir, &rp, json, i == 0);
    problem |= rp.bad_pr;
    for (size_t k = 0; k < rp.n_pr; k++) free(rp.pr[k].tag);
    free(rp.pr);
    strmap_free(&rp.pr_index);
    free(rp.layout_copy);
  }
  /* TensorBoard's projector always looks at the log directory itself too (run ".") */
  if (!rc && logdir_is_dir && !have_root && n_names == 0) {
    char cfg[4096];
    snprintf(cfg, sizeof cfg, "%s/projector_config.pbtxt", logdir);
    if (stat(cfg, &st) == 0) problem |= print_run(".", logdir, NULL, json, n_runs == 0);
  }
  if (json && !rc) printf("]}\n");
  if (!rc && logdir_is_dir) note_hidden_projectors(logdir);
  runs_free(runs, n_runs);
  args_free(&a);
  return rc ? rc : problem ? EXIT_DATA : EXIT_OK;
}
