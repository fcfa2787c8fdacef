/* kcb-inspect plot: a scalar tag of one or more runs as a PNG line chart, a terminal chart or
 * sparklines, drawn by kcb/plot.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli_common.h"
#include "kcb_inspect.h"

/* Whether a file name ends in ".png" (any case): the one format plot writes. */
static int names_png(const char *path) {
  size_t n = strlen(path);
  return n > 4 && strcasecmp(path + n - 4, ".png") == 0;
}

static const char plot_help[] =
    "usage: kcb-inspect plot LOGDIR --tag TAG [--run RUN]... (-o FILE.png | --term | --sparkline)\n"
    "                        [options]\n"
    "\n"
    "Draws the scalar TAG of every run that has it (or of the runs named by --run), against the\n"
    "step, one line per run with the run names in the legend.\n"
    "\n"
    "  --tag TAG          the scalar tag (required)\n"
    "  --run RUN          only this run (repeatable; default: every run with the tag)\n"
    "  -o FILE.png        write a PNG (atomically: an existing file is replaced only on success)\n"
    "  --term             draw the chart on the terminal (UTF-8 braille)\n"
    "  --sparkline        one line per run: name, a sparkline, first and last value\n"
    "  --smoothing W      TensorBoard's exponential moving average, W in [0, 1) [0]\n"
    "  --no-raw           when smoothing, leave out the faint raw line (PNG) [drawn]\n"
    "  --log-y            logarithmic y axis (values <= 0 left out) [linear]\n"
    "  --title TEXT       the chart's title [TAG]\n"
    "  --width PIXELS     PNG width, 160..16384 [800]\n"
    "  --height PIXELS    PNG height, 120..16384 [500]\n"
    "  --columns N        terminal chart / sparkline width, 20..1000 [the terminal's, else 80]\n"
    "  --rows N           terminal chart height in lines, 6..500 [20]\n"
    "  --color, --no-color  a colour per run in the terminal chart [on a terminal, unless\n"
    "                     NO_COLOR is set or TERM is dumb]\n"
    "  --json             print what was drawn: {\"tag\", \"output\", \"runs\": [{\"name\", \"points\"}]}\n"
    "\n"
    "Exit status: 0; 1 if no selected run has TAG as a scalar (or nothing finite to draw, or the\n"
    "file cannot be written); 2 usage error.\n";

int cmd_plot(int argc, char **argv) {
  static const opt_spec specs[] = {{"--json", 0},    {"--tag", 1},      {"--run", 1},    {"-o", 1},
                                   {"--output", 1},  {"--term", 0},     {"--sparkline", 0}, {"--smoothing", 1},
                                   {"--no-raw", 0},  {"--log-y", 0},    {"--title", 1},  {"--width", 1},
                                   {"--height", 1},  {"--columns", 1},  {"--rows", 1},   {"--color", 0},
                                   {"--no-color", 0}, {NULL, 0}};
  args a;
  int help, rc = args_parse(&a, "plot", argc, argv, specs, &help);
  if (rc) return rc;
  run_ref *runs = NULL;
  size_t n = 0;
  kcb_run_summary **sums = NULL;
  kcb_plot_series *series = NULL;
  const kcb_run_tag **series_tag = NULL; /* the tag each series came from */
  double **xs = NULL;
  const char *names[256];
  size_t n_names = 0, n_series = 0;
  int problem = 0;
  if (help) {
    fputs(plot_help, stdout);
    goto done;
  }
  const char *tag = args_get(&a, "--tag", NULL);
  const char *out = args_get(&a, "-o", args_get(&a, "--output", NULL));
  int term = args_has(&a, "--term"), spark = args_has(&a, "--sparkline");
  kcb_plot_options po = KCB_PLOT_OPTIONS_INIT;
  long long width = 800, height = 500, rows = 20;
  long long columns = cli_terminal_width(stdout);
  if (columns < 20) columns = 20;
  if (columns > 1000) columns = 1000;
  if (a.n_pos != 1) rc = usage_error("plot", "expected one LOGDIR");
  else if (!tag) rc = usage_error("plot", "--tag TAG is required");
  else if (!out && !term && !spark) rc = usage_error("plot", "nothing to draw: give -o FILE.png, --term or --sparkline");
  else if (out && !names_png(out)) rc = usage_error("plot", "-o %s: the chart is a PNG; name the file *.png", out);
  if (!rc && args_has(&a, "--smoothing"))
    rc = parse_double_flag("plot", "--smoothing", args_get(&a, "--smoothing", ""), 0, 0.999999, &po.smoothing);
  if (!rc && args_has(&a, "--width")) rc = parse_int_flag("plot", "--width", args_get(&a, "--width", ""), 160, 16384, &width);
  if (!rc && args_has(&a, "--height"))
    rc = parse_int_flag("plot", "--height", args_get(&a, "--height", ""), 120, 16384, &height);
  if (!rc && args_has(&a, "--columns"))
    rc = parse_int_flag("plot", "--columns", args_get(&a, "--columns", ""), 20, 1000, &columns);
  if (!rc && args_has(&a, "--rows")) rc = parse_int_flag("plot", "--rows", args_get(&a, "--rows", ""), 6, 500, &rows);
  if (rc) goto done;
  po.width = (int)width;
  po.height = (int)height;
  po.title = args_get(&a, "--title", tag);
  po.x_label = "step";
  po.log_y = args_has(&a, "--log-y");
  po.show_raw = !args_has(&a, "--no-raw");
  int color = -1; /* the last of --color / --no-color wins, as any repeated flag */
  for (size_t i = 0; i < a.n_flags; i++)
    if (!strcmp(a.flag_names[i], "--color") || !strcmp(a.flag_names[i], "--no-color")) color = !strcmp(a.flag_names[i], "--color");
  po.ansi_color = color >= 0 ? color : cli_use_color(stdout);
  n_names = args_all(&a, "--run", names, 256);
  if ((rc = runs_find(a.pos[0], &runs, &n))) {
    rc = kcb_error_last()[0] ? lib_fail("plot", rc) : EXIT_DATA;
    goto done;
  }
  if ((rc = runs_select("plot", runs, &n, names, n_names))) goto done;
  kcb_run_summary_options o = KCB_RUN_SUMMARY_OPTIONS_INIT;
  o.tag = tag;
  if ((rc = summaries_read("plot", runs, n, &o, a.jobs, &sums, &problem))) goto done;
  series = calloc(n, sizeof *series);
  xs = calloc(n, sizeof *xs);
  series_tag = calloc(n, sizeof *series_tag);
  if (!series || !xs || !series_tag) {
    rc = data_fail("plot", "out of memory");
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    const kcb_run_tag *g = sums[i] ? kcb_run_summary_find(sums[i], tag) : NULL;
    if (!g || g->kind != KCB_SUMMARY_SCALAR || !g->n_points) continue;
    double *x = malloc(g->n_points * sizeof *x);
    if (!x) {
      rc = data_fail("plot", "out of memory");
      goto done;
    }
    for (size_t j = 0; j < g->n_points; j++) x[j] = (double)g->steps[j];
    xs[n_series] = x;
    kcb_plot_series s = {runs[i].name, x, g->values, g->n_points};
    series_tag[n_series] = g;
    series[n_series++] = s;
  }
  if (po.log_y) { /* a log axis cannot show them: say so rather than drop them silently */
    size_t dropped = 0;
    for (size_t i = 0; i < n_series; i++)
      for (size_t j = 0; j < series[i].n; j++) dropped += series[i].y[j] <= 0;
    if (dropped)
      fprintf(stderr, "kcb-inspect plot: warning: --log-y leaves out %zu value%s <= 0\n", dropped, dropped == 1 ? "" : "s");
  }
  if (!n_series) {
    char near[600];
    const char *s = tag_suggestion(runs, n, tag, KCB_SUMMARY_SCALAR, 0, near, sizeof near);
    rc = data_fail("plot", "no %s has the scalar tag '%s'%s%s%s (see kcb-inspect runs %s)", n_names ? "selected run" : "run",
                   tag, s ? " (did you mean " : "", s ? s : "", s ? "?)" : "", a.pos[0]);
    goto done;
  }
  size_t finite = 0; /* a series of NaN and infinities has nothing to draw: said for the tag, not the plotter */
  for (size_t i = 0; i < n_series; i++)
    for (size_t j = 0; j < series[i].n; j++) finite += isfinite(series[i].y[j]) && (!po.log_y || series[i].y[j] > 0);
  if (!finite && (out || term)) {
    rc = data_fail("plot", "'%s' in %s has no finite value%s to draw", tool_esc(tag), tool_esc(a.pos[0]),
                   po.log_y ? " above 0" : "");
    goto done;
  }
  if (out && ((rc = kcb_file_make_parent_dirs(out)) || (rc = kcb_plot_png(out, series, n_series, &po)))) { /* as -o elsewhere */
    rc = lib_fail("plot", rc);
    goto done;
  }
  int json = args_has(&a, "--json");
  FILE *text = json ? stderr : stdout; /* with --json, stdout holds the JSON document alone */
  if (term && (rc = kcb_plot_terminal(text, series, n_series, (int)columns, (int)rows, &po))) {
    rc = lib_fail("plot", rc);
    goto done;
  }
  if (spark) {
    size_t name_w = 0;
    for (size_t i = 0; i < n_series; i++)
      if (strlen(series[i].name) > name_w) name_w = strlen(series[i].name);
    int w = (int)columns - (int)name_w - 30;
    if (w < 8) w = 8;
    char *buf = malloc(3 * (size_t)w + 1);
    double *sm = malloc(series[0].n * sizeof *sm + 1);
    for (size_t i = 0; buf && i < n_series; i++) {
      const double *y = series[i].y;
      double *tmp = realloc(sm, series[i].n * sizeof *sm + 1);
      if (!tmp) break;
      sm = tmp;
      kcb_smooth_ema(sm, y, series[i].n, po.smoothing);
      char f[32], l[32];
      /* unsmoothed integer series: their first and last values exactly */
      scalar_val v0 = {KCB_SCALAR_FLOAT, sm[0], 0}, v1 = {KCB_SCALAR_FLOAT, sm[series[i].n - 1], 0};
      if (po.smoothing == 0) v0 = tag_point(series_tag[i], 0), v1 = tag_point(series_tag[i], series[i].n - 1);
      if (kcb_plot_sparkline(buf, 3 * (size_t)w + 1, sm, series[i].n, w) == 0)
        fprintf(text, "%-*s  %s  %s -> %s\n", (int)name_w, tool_esc(series[i].name), buf, sv_short(v0, f),
                sv_short(v1, l));
    }
    free(buf);
    free(sm);
  }
  if (json) {
    printf("{\"tag\": ");
    json_str(stdout, tag);
    printf(", \"output\": ");
    if (out) json_str(stdout, out);
    else printf("null");
    printf(", \"smoothing\": ");
    json_num(stdout, po.smoothing);
    printf(", \"runs\": [");
    for (size_t i = 0; i < n_series; i++) {
      printf("%s{\"name\": ", i ? ", " : "");
      json_str(stdout, series[i].name);
      printf(", \"points\": %zu}", series[i].n);
    }
    printf("]}\n");
  } else if (out) {
    printf("wrote %s (%dx%d, %zu run%s)\n", out, po.width, po.height, n_series, n_series == 1 ? "" : "s");
  }
  rc = problem ? EXIT_DATA : EXIT_OK;
done:
  if (xs)
    for (size_t i = 0; i < n_series; i++) free(xs[i]);
  free(xs);
  free(series);
  free(series_tag);
  summaries_free(sums, n);
  runs_free(runs, n);
  args_free(&a);
  return rc;
}
