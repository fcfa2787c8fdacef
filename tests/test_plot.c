/* test_plot.c — charts (kcb/plot.h): TensorBoard's smoothing against hand-computed values, nice
 * ticks, where a series' color lands in the rendered pixels, terminal chart geometry, sparklines,
 * degenerate inputs and atomic file writes. tests/cli/plot_check.py decodes the PNG files this
 * program writes with `test_plot --write DIR` using pngcheck and an independent Python decoder. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test_helpers.h"
#include "internal.h"
#include "io/chart.h"

#define TOL 1e-12
/* This cmocka has no assert_double_equal. */
#define assert_near(a, b, tol)                                                                  \
  do {                                                                                          \
    double a_ = (a), b_ = (b);                                                                  \
    if (!(fabs(a_ - b_) <= (tol))) fail_msg("%s = %.17g, expected %.17g", #a, a_, b_);          \
  } while (0)

static void test_smoothing_matches_hand_computed_values(void **state) {
  (void)state;
  /* weight 0.5: last = 0.5, 1.25, (NaN skipped), 2.625; debias by 1 - 0.5^k for k = 1, 2, 3. */
  double y[5] = {1.0, 2.0, NAN, 4.0, INFINITY}, out[5];
  assert_ok(kcb_smooth_ema(out, y, 5, 0.5));
  assert_near(out[0], 0.5 / 0.5, TOL);
  assert_near(out[1], 1.25 / 0.75, TOL);
  assert_true(isnan(out[2]));
  assert_near(out[3], 2.625 / 0.875, TOL);
  assert_true(isinf(out[4]) && out[4] > 0);
  /* weight 0.9 on 10, 0: last = 1, then 0.9; debias 0.1, 0.19. */
  double z[2] = {10.0, 0.0};
  assert_ok(kcb_smooth_ema(z, z, 2, 0.9)); /* in place */
  assert_near(z[0], 10.0, 1e-9);
  assert_near(z[1], 0.9 / (1.0 - 0.81), 1e-9);
  /* Long series: skipping pow once weight^k is negligible changes no bit of the formula's result. */
  enum { LONG = 2000 };
  static double ly[LONG], lo[LONG];
  for (int i = 0; i < LONG; i++) ly[i] = sin(i * 0.1) + (i % 97 == 0 ? NAN : 0.0);
  assert_ok(kcb_smooth_ema(lo, ly, LONG, 0.95));
  double last = 0.0, k = 0.0;
  for (int i = 0; i < LONG; i++) {
    if (isnan(ly[i])) {
      assert_true(isnan(lo[i]));
      continue;
    }
    last = last * 0.95 + (1.0 - 0.95) * ly[i];
    k += 1.0;
    if (lo[i] != last / (1.0 - pow(0.95, k))) fail_msg("point %d: %.17g", i, lo[i]);
  }
  /* A constant series and weight 0 come back unchanged. */
  double c[3] = {0.3, 0.3, 0.3}, co[3];
  assert_ok(kcb_smooth_ema(co, c, 3, 0.99));
  assert_memory_equal(co, c, sizeof c);
  assert_ok(kcb_smooth_ema(out, y, 4, 0.0));
  assert_near(out[3], 4.0, 0.0);
  assert_ok(kcb_smooth_ema(NULL, NULL, 0, 0.6));
  assert_error(kcb_smooth_ema(out, y, 4, 1.0), KCB_EINVAL, "outside [0, 1)");
  assert_error(kcb_smooth_ema(out, y, 4, -0.1), KCB_EINVAL, "outside [0, 1)");
  assert_error(kcb_smooth_ema(out, y, 4, NAN), KCB_EINVAL, "outside [0, 1)");
}

static void expect_ticks(double lo, double hi, int target, const double *want, size_t n_want, double want_step) {
  double t[64], step = 0.0;
  size_t n = kcb__plot_ticks(t, 64, &step, lo, hi, target);
  if (n != n_want) fail_msg("ticks over [%g, %g]: %zu, expected %zu", lo, hi, n, n_want);
  assert_near(step, want_step, want_step * 1e-12);
  for (size_t i = 0; i < n; i++) assert_near(t[i], want[i], want_step * 1e-9);
}

static void test_nice_ticks(void **state) {
  (void)state;
  expect_ticks(0.0, 1.0, 5, (double[]){0, 0.2, 0.4, 0.6, 0.8, 1.0}, 6, 0.2);
  expect_ticks(0.0, 100.0, 5, (double[]){0, 20, 40, 60, 80, 100}, 6, 20);
  expect_ticks(-3.7, 12.2, 4, (double[]){0, 5, 10}, 3, 5);
  expect_ticks(0.00123, 0.00456, 5, (double[]){0.0015, 0.002, 0.0025, 0.003, 0.0035, 0.004, 0.0045}, 7, 0.0005);
  expect_ticks(1e6, 5e6, 4, (double[]){1e6, 2e6, 3e6, 4e6, 5e6}, 5, 1e6);
  expect_ticks(-0.35, -0.05, 3, (double[]){-0.3, -0.2, -0.1}, 3, 0.1);
  double t[4], step;
  assert_int_equal(kcb__plot_ticks(t, 4, &step, 0.0, 1.0, 10), 3); /* capacity forces a coarser step */
  assert_near(step, 0.5, 1e-15);
  assert_int_equal(kcb__plot_ticks(t, 4, &step, NAN, 1.0, 5), 0);
  /* Where a step no longer changes a double, ticks still come out (and stop). */
  size_t n = kcb__plot_ticks(t, 4, &step, 1e17, 1e17 + 64, 5);
  assert_true(n >= 1 && n <= 4);
  /* Ranges within subnormals, where a power of ten underflows, and ranges past DBL_MAX: one tick
   * (or none), at once (the step search used to loop forever) */
  assert_int_equal(kcb__plot_ticks(t, 4, &step, 0.0, 5e-324, 5), 1);
  assert_int_equal(kcb__plot_ticks(t, 4, &step, 1e-322, 2e-322, 5), 1);
  assert_true(step > 0);
  assert_true(kcb__plot_ticks(t, 4, &step, -1.7e308, 1.7e308, 5) <= 4);
  double tiny[2] = {1e-322, 2e-322};
  kcb_plot_series ts = {"tiny", NULL, tiny, 2};
  unsigned char *tiny_png = NULL;
  size_t tiny_len = 0;
  assert_ok(kcb_plot_png_buffer(&tiny_png, &tiny_len, &ts, 1, NULL));
  free(tiny_png);
  double y[3] = {1e17, 1e17 + 64, 1e17 + 32};
  kcb_plot_series s = {"offset", NULL, y, 3};
  unsigned char *png = NULL;
  size_t len = 0;
  assert_ok(kcb_plot_png_buffer(&png, &len, &s, 1, NULL));
  free(png);

  char b[32];
  struct {
    double v, step, max;
    const char *want;
  } labels[] = {{0.2, 0.2, 1.0, "0.2"},          {1000, 200, 1000, "1000"},     {-1e-12, 0.2, 1.0, "0.0"},
                {-0.4, 0.2, 0.4, "-0.4"},         {0.0045, 0.0005, 0.0045, "0.0045"},
                {2.5e6, 5e5, 5e6, "2.5M"},        {200000, 200000, 2e6, "200k"}, {1e6, 2e5, 2e6, "1M"},
                {0, 2e5, 2e6, "0"},               {3e7, 1e7, 5e7, "30M"},        {12500, 500, 20000, "12.5k"},
                {1.5e-4, 5e-5, 2e-4, "1.5e-4"},   {1e-5, 1e-5, 1e-5, "1e-5"},    {0, 5e-5, 2e-4, "0"},
                {2e15, 1e15, 5e15, "2e15"},       {20000.5, 0.5, 20001, "20000.5"}};
  for (size_t i = 0; i < sizeof labels / sizeof *labels; i++) {
    kcb__plot_tick_label(b, sizeof b, labels[i].v, labels[i].step, labels[i].max);
    if (strcmp(b, labels[i].want)) fail_msg("label of %g (step %g): '%s', expected '%s'", labels[i].v, labels[i].step, b, labels[i].want);
  }
}

/* Our font covers printable ASCII: every glyph but the space has ink, and stays in its cell. */
static void test_font_covers_ascii(void **state) {
  (void)state;
  for (int c = 33; c < 127; c++) {
    int on = 0;
    for (int y = 0; y < KCB__FONT_HEIGHT; y++)
      for (int x = 0; x < KCB__FONT_WIDTH; x++) on += kcb__font_pixel(c, x, y);
    if (!on) fail_msg("glyph '%c' is empty", c);
  }
  assert_int_equal(kcb__font_pixel('A', KCB__FONT_WIDTH, 0), 0);
  assert_int_equal(kcb__font_pixel(7, 2, 6), kcb__font_pixel('?', 2, 6));
}

/* Mean row of the pixels of exactly `col` in column x (-1 if none). */
static double color_row(const uint8_t *rgb, int w, int h, int x, const uint8_t col[3]) {
  double sum = 0;
  int k = 0;
  for (int y = 0; y < h; y++)
    if (!memcmp(rgb + ((size_t)y * (size_t)w + (size_t)x) * 3, col, 3)) sum += y, k++;
  return k ? sum / k : -1.0;
}

static size_t count_color(const uint8_t *rgb, int w, int x0, int y0, int x1, int y1, const uint8_t col[3]) {
  size_t k = 0;
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++) k += !memcmp(rgb + ((size_t)y * (size_t)w + (size_t)x) * 3, col, 3);
  return k;
}

static void test_rising_line_rises_in_its_color(void **state) {
  (void)state;
  double x[50], y[50];
  for (int i = 0; i < 50; i++) x[i] = i * 10.0, y[i] = 0.5 + i * 0.02;
  kcb_plot_series s = {"rising", x, y, 50};
  kcb_plot_options o = KCB_PLOT_OPTIONS_INIT;
  o.width = 640;
  o.height = 400;
  o.title = "rising";
  uint8_t *rgb = NULL, blue[3];
  int w = 0, h = 0;
  kcb__plot_color(0, blue);
  assert_ok(kcb__plot_render(&rgb, &w, &h, &s, 1, &o));
  assert_int_equal(w, 640);
  assert_int_equal(h, 400);
  double prev = 1e9;
  int seen = 0;
  for (int xi = 120; xi < 600; xi += 60) {
    double r = color_row(rgb, w, h, xi, blue);
    if (r < 0) continue;
    assert_true(r < prev);
    prev = r;
    seen++;
  }
  assert_true(seen >= 7);
  /* The legend goes to a corner the line does not cross: the line shows at both ends. */
  assert_true(count_color(rgb, w, 80, 300, 200, 400, blue) > 50);
  assert_true(count_color(rgb, w, 520, 0, 640, 120, blue) > 50);
  free(rgb);

  /* Falling, on a log axis: still monotone, now downwards. */
  for (int i = 0; i < 50; i++) y[i] = pow(10.0, -i / 10.0);
  o.log_y = 1;
  assert_ok(kcb__plot_render(&rgb, &w, &h, &s, 1, &o));
  prev = -1;
  for (int xi = 120; xi < 600; xi += 60) {
    double r = color_row(rgb, w, h, xi, blue);
    if (r < 0) continue;
    assert_true(r > prev);
    /* equal decades, equal steps: a straight line on a log axis */
    prev = r;
  }
  free(rgb);
}

static void test_png_buffer_has_requested_size(void **state) {
  (void)state;
  double y[3] = {3, 1, 2};
  kcb_plot_series s = {NULL, NULL, y, 3};
  kcb_plot_options o = KCB_PLOT_OPTIONS_INIT;
  o.width = 321;
  o.height = 207;
  unsigned char *png = NULL;
  size_t len = 0;
  assert_ok(kcb_plot_png_buffer(&png, &len, &s, 1, &o));
  assert_true(len > 33);
  assert_memory_equal(png, "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
  assert_int_equal((png[16] << 24) | (png[17] << 16) | (png[18] << 8) | png[19], 321);
  assert_int_equal((png[20] << 24) | (png[21] << 16) | (png[22] << 8) | png[23], 207);
  assert_int_equal(png[25], 2); /* RGB */
  free(png);
  /* NULL options mean 800x500. */
  assert_ok(kcb_plot_png_buffer(&png, &len, &s, 1, NULL));
  assert_int_equal((png[18] << 8) | png[19], 800);
  assert_int_equal((png[22] << 8) | png[23], 500);
  free(png);
}

static void test_degenerate_inputs(void **state) {
  (void)state;
  unsigned char *png = NULL;
  size_t len = 0;
  double nan3[3] = {NAN, NAN, INFINITY}, one[1] = {0.7}, flat[4] = {2, 2, 2, 2}, neg[2] = {-1, 0};
  kcb_plot_series empty = {"empty", NULL, NULL, 0}, all_nan = {"nan", NULL, nan3, 3};
  assert_error(kcb_plot_png_buffer(&png, &len, &empty, 0, NULL), KCB_EINVAL, "no series");
  assert_error(kcb_plot_png_buffer(&png, &len, &empty, 1, NULL), KCB_EINVAL, "no finite point");
  assert_error(kcb_plot_png_buffer(&png, &len, &all_nan, 1, NULL), KCB_EINVAL, "no finite point");
  assert_null(png);
  kcb_plot_series negs = {"neg", NULL, neg, 2};
  kcb_plot_options o = KCB_PLOT_OPTIONS_INIT;
  o.log_y = 1;
  assert_error(kcb_plot_png_buffer(&png, &len, &negs, 1, &o), KCB_EINVAL, "log y");
  o = (kcb_plot_options)KCB_PLOT_OPTIONS_INIT;
  o.width = 10;
  assert_error(kcb_plot_png_buffer(&png, &len, &negs, 1, &o), KCB_EINVAL, "10x500");
  o = (kcb_plot_options)KCB_PLOT_OPTIONS_INIT;
  o.smoothing = 1.0;
  assert_error(kcb_plot_png_buffer(&png, &len, &negs, 1, &o), KCB_EINVAL, "smoothing");
  double wide[2] = {-1e308, 1e308};
  kcb_plot_series too_wide = {"wide", NULL, wide, 2};
  assert_error(kcb_plot_png_buffer(&png, &len, &too_wide, 1, NULL), KCB_EINVAL, "too wide");
  kcb_plot_series no_y = {"broken", NULL, NULL, 5};
  assert_error(kcb_plot_png_buffer(&png, &len, &no_y, 1, NULL), KCB_EINVAL, "'broken'");

  /* One point: a dot near the middle. A constant series: a flat line through the middle. An
   * all-NaN series beside a good one is just absent. */
  uint8_t *rgb = NULL, c0[3], c1[3];
  int w, h;
  kcb__plot_color(0, c0);
  kcb__plot_color(1, c1);
  kcb_plot_series dot = {"dot", NULL, one, 1};
  assert_ok(kcb__plot_render(&rgb, &w, &h, &dot, 1, NULL));
  size_t dots = count_color(rgb, w, 0, 0, w, h, c0);
  assert_true(dots > 0 && dots < 200);
  free(rgb);
  kcb_plot_series pair[2] = {{"flat", NULL, flat, 4}, all_nan};
  assert_ok(kcb__plot_render(&rgb, &w, &h, pair, 2, NULL));
  double r_left = color_row(rgb, w, h, 150, c0), r_right = color_row(rgb, w, h, 700, c0);
  assert_true(r_left > h * 0.3 && r_left < h * 0.7);
  assert_near(r_left, r_right, 0.01);
  assert_int_equal(count_color(rgb, w, 0, 0, w, h, c1) > 0, 1); /* its legend swatch only */
  free(rgb);
}

static void test_gaps_and_huge_series(void **state) {
  (void)state;
  /* A NaN in the middle leaves a gap in the line. */
  double y[41];
  for (int i = 0; i < 41; i++) y[i] = i == 20 ? NAN : 1.0;
  y[0] = 0.0;
  y[40] = 2.0;
  kcb_plot_series s = {NULL, NULL, y, 41};
  uint8_t *rgb = NULL, c0[3];
  int w, h;
  kcb__plot_color(0, c0);
  assert_ok(kcb__plot_render(&rgb, &w, &h, &s, 1, NULL));
  int plot_x_mid = -1;
  /* the flat part's row */
  double row = color_row(rgb, w, h, w / 2 - 60, c0);
  assert_true(row > 0);
  for (int x = w / 2 - 60; x < w / 2 + 60; x++)
    if (color_row(rgb, w, h, x, c0) < 0) plot_x_mid = x;
  assert_true(plot_x_mid > 0);
  free(rgb);

  /* A million points draw in well under a second (per-column reduction). */
  size_t n = 1000000;
  double *big = malloc(n * sizeof *big);
  for (size_t i = 0; i < n; i++) big[i] = sin((double)i * 1e-4) + 0.1 * sin((double)i * 0.37);
  kcb_plot_series bs = {"big", NULL, big, n};
  kcb_plot_options o = KCB_PLOT_OPTIONS_INIT;
  o.smoothing = 0.9;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  unsigned char *png = NULL;
  size_t len = 0;
  assert_ok(kcb_plot_png_buffer(&png, &len, &bs, 1, &o));
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
  print_message("1e6 points, smoothed, to PNG: %.3f s\n", secs);
  assert_true(secs < 10.0); /* generous: sanitizers slow this down several times */
  free(png);
  free(big);
}

/* Reads everything written to f. */
static char *slurp(FILE *f) {
  long len = ftell(f);
  rewind(f);
  char *s = malloc((size_t)len + 1);
  assert_int_equal(fread(s, 1, (size_t)len, f), (size_t)len);
  s[len] = '\0';
  return s;
}

/* Display columns of one line: UTF-8 characters, not counting ANSI escapes. */
static int line_columns(const char *s, size_t len) {
  int cols = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '\033') {
      while (i < len && s[i] != 'm') i++;
      continue;
    }
    if (((unsigned char)s[i] & 0xC0) != 0x80) cols++;
  }
  return cols;
}

static void check_terminal_geometry(const char *text, int columns, int rows) {
  int lines = 0, widest = 0;
  for (const char *p = text; *p;) {
    const char *nl = strchr(p, '\n');
    assert_non_null(nl);
    int cols = line_columns(p, (size_t)(nl - p));
    if (cols > columns) fail_msg("line %d is %d columns wide, more than %d: %.*s", lines, cols, columns, (int)(nl - p), p);
    if (cols > widest) widest = cols;
    lines++;
    p = nl + 1;
  }
  assert_int_equal(lines, rows);
  assert_int_equal(widest, columns);
}

static void test_terminal_chart_geometry(void **state) {
  (void)state;
  double y[200], z[200];
  for (int i = 0; i < 200; i++) y[i] = i * 0.5, z[i] = 100.0 - i * 0.5 + 5 * sin(i * 0.3);
  kcb_plot_series s[2] = {{"rising", NULL, y, 200}, {"falling", NULL, z, 200}};
  kcb_plot_options o = KCB_PLOT_OPTIONS_INIT;
  o.title = "two runs";
  o.smoothing = 0.6;
  int sizes[3][2] = {{80, 20}, {40, 8}, {120, 30}};
  for (int k = 0; k < 3; k++) {
    FILE *f = tmpfile();
    assert_ok(kcb_plot_terminal(f, s, 2, sizes[k][0], sizes[k][1], &o));
    char *text = slurp(f);
    fclose(f);
    assert_null(strchr(text, '\033')); /* no colors unless asked */
    check_terminal_geometry(text, sizes[k][0], sizes[k][1]);
    if (k == 0) {
      assert_non_null(strstr(text, "two runs"));
      assert_non_null(strstr(text, "rising"));
      assert_non_null(strstr(text, "\xe2\x94\x94")); /* the axis corner */
      fputs(text, stdout); /* to look at in the test log */
    }
    free(text);
  }
  /* Long names and a narrow terminal: the legend is cut, never wider than asked. */
  kcb_plot_series named[2] = {{"a-very-long-run-name/train", NULL, y, 200}, {"another-long-name", NULL, z, 200}};
  FILE *f = tmpfile();
  assert_ok(kcb_plot_terminal(f, named, 2, 20, 8, NULL));
  char *text = slurp(f);
  fclose(f);
  check_terminal_geometry(text, 20, 8);
  free(text);

  o.ansi_color = 1;
  f = tmpfile();
  assert_ok(kcb_plot_terminal(f, s, 2, 60, 12, &o));
  text = slurp(f);
  fclose(f);
  assert_non_null(strstr(text, "\033[34m"));
  check_terminal_geometry(text, 60, 12);
  free(text);

  /* The rising series alone: its dots sit low on the left and high on the right. */
  f = tmpfile();
  assert_ok(kcb_plot_terminal(f, s, 1, 40, 10, NULL));
  text = slurp(f);
  fclose(f);
  char *first = strstr(text, "\xe2\xa0"), *last = NULL; /* braille U+28xx starts E2 A0..A3 */
  for (char *p = text; (p = strstr(p, "\xe2")) != NULL; p++)
    if ((unsigned char)p[1] >= 0xA0 && (unsigned char)p[1] <= 0xA3) last = p;
  assert_non_null(first);
  assert_non_null(last);
  /* The top row's dots are at its right end; the bottom row's at its left. */
  const char *line2 = strchr(text, '\n') + 1;
  assert_true(first < line2);
  assert_true(line_columns(text, (size_t)(first - text)) > 30);
  free(text);

  f = tmpfile();
  assert_error(kcb_plot_terminal(f, s, 2, 80, 4, &o), KCB_EINVAL, "rows");
  assert_error(kcb_plot_terminal(f, s, 2, 10, 20, &o), KCB_EINVAL, "columns");
  assert_error(kcb_plot_terminal(NULL, s, 2, 80, 20, &o), KCB_EINVAL, "stream");
  fclose(f);
}

static void test_sparkline(void **state) {
  (void)state;
  char buf[64];
  double y[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  assert_ok(kcb_plot_sparkline(buf, sizeof buf, y, 8, 0));
  assert_string_equal(buf, "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588");
  /* Four characters: means 1.5, 3.5, 5.5, 7.5 -> levels 0, 7/3, 14/3, 7 rounded. */
  assert_ok(kcb_plot_sparkline(buf, sizeof buf, y, 8, 4));
  assert_string_equal(buf, "\u2581\u2583\u2586\u2588");
  double g[4] = {0, NAN, 1, 0.5};
  assert_ok(kcb_plot_sparkline(buf, sizeof buf, g, 4, 0));
  assert_string_equal(buf, "\u2581 \u2588\u2585");
  double c[3] = {5, 5, 5};
  assert_ok(kcb_plot_sparkline(buf, sizeof buf, c, 3, 10));
  assert_string_equal(buf, "\u2584\u2584\u2584");
  assert_ok(kcb_plot_sparkline(buf, sizeof buf, NULL, 0, 10));
  assert_string_equal(buf, "");
  assert_error(kcb_plot_sparkline(buf, 10, y, 8, 0), KCB_EINVAL, "need 25");
  /* counts: from 0, so equal counts (and counts one bit apart, as rebinned buckets come out) are
   * full blocks, not noise stretched over the height */
  double flat[3] = {5.333333333333332, 5.333333333333333, 5.333333333333336};
  assert_ok(kcb_plot_sparkline_counts(buf, sizeof buf, flat, 3, 0));
  assert_string_equal(buf, "\u2588\u2588\u2588");
  double counts[4] = {0, 100, 50, 99};
  assert_ok(kcb_plot_sparkline_counts(buf, sizeof buf, counts, 4, 0));
  assert_string_equal(buf, "\u2581\u2588\u2585\u2588");
  double none[2] = {0, 0};
  assert_ok(kcb_plot_sparkline_counts(buf, sizeof buf, none, 2, 0));
  assert_string_equal(buf, "\u2581\u2581");
  assert_error(kcb_plot_sparkline_counts(buf, 10, y, 8, 0), KCB_EINVAL, "kcb_plot_sparkline_counts");
}

static char g_dir[256];

static int make_dir(void **state) {
  (void)state;
  snprintf(g_dir, sizeof g_dir, "/tmp/kcb_test_plot_XXXXXX");
  return mkdtemp(g_dir) ? 0 : -1;
}

static int remove_dir(void **state) {
  (void)state;
  DIR *d = opendir(g_dir);
  if (d) {
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.') continue;
      snprintf(path, sizeof path, "%s/%s", g_dir, e->d_name);
      if (rmdir(path) != 0) unlink(path);
    }
    closedir(d);
  }
  rmdir(g_dir);
  return 0;
}

static size_t dir_entries(const char *dir) {
  size_t n = 0;
  DIR *d = opendir(dir);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

static void test_png_file_written_atomically(void **state) {
  (void)state;
  char path[512], sub[512];
  snprintf(path, sizeof path, "%s/chart.png", g_dir);
  double y[4] = {4, 3, 2, 2.5};
  kcb_plot_series s = {"loss", NULL, y, 4};
  assert_ok(kcb_plot_png(path, &s, 1, NULL));
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  unsigned char head[8];
  assert_int_equal(fread(head, 1, 8, f), 8);
  fclose(f);
  assert_memory_equal(head, "\x89PNG\r\n\x1a\n", 8);
  assert_int_equal(dir_entries(g_dir), 1); /* no temporary file left */

  /* A failing chart leaves the existing file alone. */
  f = fopen(path, "wb");
  fputs("previous", f);
  fclose(f);
  double nan1[1] = {NAN};
  kcb_plot_series bad = {"bad", NULL, nan1, 1};
  assert_error(kcb_plot_png(path, &bad, 1, NULL), KCB_EINVAL, "chart.png");
  char back[16] = "";
  f = fopen(path, "rb");
  assert_int_equal(fread(back, 1, sizeof back - 1, f), 8);
  fclose(f);
  assert_string_equal(back, "previous");

  /* A missing directory, and a directory in the way: clear errors, nothing left behind. */
  snprintf(sub, sizeof sub, "%s/missing/chart.png", g_dir);
  assert_error(kcb_plot_png(sub, &s, 1, NULL), KCB_ENOENT, "missing/chart.png");
  snprintf(sub, sizeof sub, "%s/adir", g_dir);
  assert_int_equal(mkdir(sub, 0755), 0);
  assert_error(kcb_plot_png(sub, &s, 1, NULL), KCB_EINVAL, "adir: cannot save: the name is a directory");
  struct stat st;
  assert_int_equal(stat(sub, &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  assert_int_equal(dir_entries(g_dir), 2);
  assert_error(kcb_plot_png("", &s, 1, NULL), KCB_EINVAL, "empty");
}

/* `test_plot --write DIR`: the charts tests/cli/plot_check.py decodes and checks. */
static int write_samples(const char *dir) {
  char path[512];
  kcb_plot_options o = KCB_PLOT_OPTIONS_INIT;
  double x[60], rise[60];
  for (int i = 0; i < 60; i++) x[i] = i * 100.0, rise[i] = 0.1 + 0.015 * i;
  kcb_plot_series r = {"accuracy", x, rise, 60};
  o.width = 640;
  o.height = 400;
  snprintf(path, sizeof path, "%s/rising.png", dir);
  if (kcb_plot_png(path, &r, 1, &o) < 0) return 1;

  /* Three noisy training runs, smoothed, with everything a chart can show. */
  enum { N = 300 };
  static double steps[N], a[N], b[N], c[N];
  kcb__rng rng;
  kcb__rng_seed(&rng, 7);
  for (int i = 0; i < N; i++) {
    steps[i] = i * 50.0;
    a[i] = 2.3 * exp(-i / 60.0) + 0.25 + 0.12 * kcb__rng_normal(&rng);
    b[i] = 2.3 * exp(-i / 110.0) + 0.35 + 0.12 * kcb__rng_normal(&rng);
    c[i] = i < 120 ? 2.0 * exp(-i / 40.0) + 0.3 + 0.1 * kcb__rng_normal(&rng) : NAN;
  }
  kcb_plot_series runs[3] = {{"run-adam/train", steps, a, N}, {"run-sgd/train", steps, b, N}, {"run-crashed", steps, c, N}};
  o = (kcb_plot_options)KCB_PLOT_OPTIONS_INIT;
  o.title = "epoch_loss";
  o.x_label = "step";
  o.y_label = "loss";
  o.smoothing = 0.8;
  snprintf(path, sizeof path, "%s/runs.png", dir);
  if (kcb_plot_png(path, runs, 3, &o) < 0) return 1;
  o.log_y = 1;
  o.title = "epoch_loss (log)";
  snprintf(path, sizeof path, "%s/runs_log.png", dir);
  if (kcb_plot_png(path, runs, 3, &o) < 0) return 1;

  double odd[1] = {42.0};
  kcb_plot_series one = {NULL, NULL, odd, 1};
  o = (kcb_plot_options)KCB_PLOT_OPTIONS_INIT;
  o.width = 321;
  o.height = 207;
  snprintf(path, sizeof path, "%s/odd_size.png", dir);
  if (kcb_plot_png(path, &one, 1, &o) < 0) return 1;
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "--write")) {
    int rc = write_samples(argv[2]);
    if (rc) fprintf(stderr, "test_plot: %s\n", kcb_error_last());
    return rc;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_smoothing_matches_hand_computed_values),
      cmocka_unit_test(test_nice_ticks),
      cmocka_unit_test(test_font_covers_ascii),
      cmocka_unit_test(test_rising_line_rises_in_its_color),
      cmocka_unit_test(test_png_buffer_has_requested_size),
      cmocka_unit_test(test_degenerate_inputs),
      cmocka_unit_test(test_gaps_and_huge_series),
      cmocka_unit_test(test_terminal_chart_geometry),
      cmocka_unit_test(test_sparkline),
      cmocka_unit_test_setup_teardown(test_png_file_written_atomically, make_dir, remove_dir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
