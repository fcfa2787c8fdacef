/* io/chart — line charts of scalar series (kcb/plot.h): TensorBoard's smoothing, nice ticks, an
 * anti-aliased rasterizer that writes PNG through io/png, and braille or block text for terminals.
 * Huge series stay fast: points are reduced per pixel (or braille-dot) column to the first, lowest,
 * highest and last point, which draws the same picture as all of them. */
#include "io/chart.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "io/png.h"

/* ---- smoothing ------------------------------------------------------------------------ */

int kcb_smooth_ema(double *out, const double *y, size_t n, double weight) {
  if (n > 0 && (out == NULL || y == NULL))
    return kcb__error(KCB_EINVAL, "kcb_smooth_ema: NULL array for %zu points", n);
  if (!(weight >= 0.0 && weight < 1.0))
    return kcb__error(KCB_EINVAL, "kcb_smooth_ema: smoothing weight %g is outside [0, 1)", weight);
  int constant = 1;
  for (size_t i = 1; i < n && constant; i++) constant = y[i] == y[0];
  /* TensorBoard leaves a constant series alone: debiasing would add rounding noise to a flat line. */
  if (weight == 0.0 || constant) {
    if (out != y && n > 0) memmove(out, y, n * sizeof *out);
    return 0;
  }
  double last = 0.0, count = 0.0, bias = 1.0; /* bias = weight^count until it no longer matters */
  for (size_t i = 0; i < n; i++) {
    double v = y[i];
    if (!isfinite(v)) {
      out[i] = v;
      continue;
    }
    last = last * weight + (1.0 - weight) * v;
    count += 1.0;
    /* Once weight^count < 2^-54, 1 - weight^count is exactly 1.0: skip pow for the rest. */
    if (bias != 0.0) {
      bias = pow(weight, count);
      if (bias < 1e-17) bias = 0.0;
    }
    out[i] = last / (1.0 - bias);
  }
  return 0;
}

/* ---- ticks ---------------------------------------------------------------------------- */

size_t kcb__plot_ticks(double *out, size_t cap, double *step_out, double lo, double hi, int target) {
  if (!isfinite(lo) || !isfinite(hi) || hi < lo || cap == 0) return 0;
  if (hi == lo) {
    out[0] = lo;
    *step_out = lo != 0.0 ? fabs(lo) : 1.0;
    return 1;
  }
  if (target < 1) target = 1;
  double raw = (hi - lo) / target, mag = pow(10.0, floor(log10(raw))), f = raw / mag;
  if (!(raw >= DBL_MIN) || !isnormal(mag) || !isfinite(f)) {
    /* a range within subnormals (or past DBL_MAX): no step of powers of ten divides it */
    out[0] = lo;
    *step_out = hi - lo > 0 && isfinite(hi - lo) ? hi - lo : 1.0;
    return 1;
  }
  static const double NICE[] = {1, 2, 5, 10, 20, 50, 100};
  size_t k = f < 1.5 ? 0 : f < 3.5 ? 1 : f < 7.5 ? 2 : 3;
  for (;; k++) {
    double step = k < 7 ? NICE[k] * mag : mag * pow(10.0, (double)k - 4.0);
    if (!isfinite(step)) return 0; /* no coarser step is a double */
    /* Counted, not stepped: near 2^53 adding a step may not change a double. */
    double first = ceil(lo / step - 1e-9), last = floor(hi / step + 1e-9), span = last - first + 1.0;
    size_t count = span < 1.0 ? 0 : span > (double)cap ? cap + 1 : (size_t)span;
    if (count > cap) continue; /* too many: a coarser step */
    for (size_t j = 0; j < count; j++) {
      double v = (first + (double)j) * step;
      out[j] = fabs(v) < step * 1e-9 ? 0.0 : v;
    }
    *step_out = step;
    return count;
  }
}

/* "1.5e+06" -> "1.5e6", "2e-05" -> "2e-5": shorter, same value. */
static void compact_exponent(char *s) {
  char *ep = strchr(s, 'e');
  if (!ep) return;
  char *src = ep + 1, *dst = ep + 1;
  if (*src == '+') src++;
  else if (*src == '-') *dst++ = *src++;
  while (*src == '0' && src[1] != '\0') src++;
  memmove(dst, src, strlen(src) + 1);
}

static int decimals_for(double step) {
  if (!isfinite(step) || step == 0.0) return 0;
  int k = (int)floor(log10(fabs(step)) + 1e-9);
  return k < 0 ? (k < -10 ? 10 : -k) : 0;
}

void kcb__plot_tick_label(char *buf, size_t cap, double value, double step, double axis_max) {
  if (cap == 0) return;
  if (fabs(value) < fabs(step) * 1e-9) value = 0.0;
  axis_max = fabs(axis_max);
  char tmp[64];
  if (axis_max >= 1e4 && axis_max < 1e15 && step >= 1.0) {
    /* Large round numbers (steps, mostly) as TensorBoard shows them: 200k, 1.2M. */
    static const char SUFFIX[] = " kMGT";
    int tier = 0;
    while (tier < 4 && fabs(value) >= pow(10.0, 3.0 * (tier + 1))) tier++;
    double unit = pow(10.0, 3.0 * tier);
    snprintf(tmp, sizeof tmp, "%.*f", decimals_for(step / unit), value / unit);
    if (strchr(tmp, '.') || strchr(tmp, ',')) { /* trailing zeros say nothing here */
      size_t n = strlen(tmp);
      while (tmp[n - 1] == '0') tmp[--n] = '\0';
      if (tmp[n - 1] == '.' || tmp[n - 1] == ',') tmp[--n] = '\0';
    }
    if (tier > 0 && value != 0.0) {
      size_t n = strlen(tmp);
      tmp[n] = SUFFIX[tier];
      tmp[n + 1] = '\0';
    }
  } else if (axis_max >= 1e15 || (axis_max != 0.0 && axis_max < 1e-3)) {
    if (value == 0.0) {
      strcpy(tmp, "0");
    } else {
      /* both exponents lie within doubles' (-324..308) once step is finite and non-zero */
      double le = floor(log10(fabs(value))), lk = isfinite(step) && step != 0.0 ? floor(log10(fabs(step)) + 1e-9) : le;
      int decimals = (int)(le - lk);
      snprintf(tmp, sizeof tmp, "%.*e", decimals < 0 ? 0 : decimals > 6 ? 6 : decimals, value);
      compact_exponent(tmp);
    }
  } else {
    snprintf(tmp, sizeof tmp, "%.*f", decimals_for(step), value);
  }
  kcb__strlcpy(buf, tmp, cap);
  /* The library never sets a locale, but its caller may: labels always use a decimal point. */
  for (char *p = buf; *p; p++)
    if (*p == ',') *p = '.';
}

/* A tick at `at` in axis space (log10 of the value on a log axis), with its label. */
typedef struct tick {
  double at;
  char label[32];
} tick;

#define MAX_TICKS 64

/* About `target` ticks over [lo, hi]; on a log axis lo and hi are decimal exponents. */
static size_t make_ticks(tick *out, double lo, double hi, int target, int log_axis) {
  double values[MAX_TICKS], step = 1.0;
  size_t n = 0;
  if (log_axis) {
    double decades = hi - lo;
    if (decades >= 1.0) {
      int every = (int)ceil(decades / (target > 0 ? target : 1));
      if (every < 1) every = 1;
      int with_25 = decades <= 2.5;
      for (double p = floor(lo); p <= ceil(hi) && n < MAX_TICKS; p += 1.0) {
        static const double MULT[] = {1, 2, 5};
        for (int m = 0; m < (with_25 ? 3 : 1) && n < MAX_TICKS; m++) {
          double at = p + log10(MULT[m]);
          double v = MULT[m] * pow(10.0, p);
          if (at < lo - 1e-9 || at > hi + 1e-9 || !isfinite(v)) continue; /* past DBL_MAX: no label */
          if (m == 0 && (long)p % every != 0) continue;
          out[n].at = at;
          kcb__plot_tick_label(out[n].label, sizeof out[n].label, v, pow(10.0, p), v);
          n++;
        }
      }
      if (n >= 2) return n;
    }
    /* Less than a decade: linear ticks on the values, placed at their logarithms. */
    size_t m = kcb__plot_ticks(values, MAX_TICKS, &step, pow(10.0, lo), pow(10.0, hi), target);
    n = 0;
    for (size_t i = 0; i < m; i++) {
      if (values[i] <= 0.0) continue;
      out[n].at = log10(values[i]);
      kcb__plot_tick_label(out[n].label, sizeof out[n].label, values[i], step, values[m - 1]);
      n++;
    }
    return n;
  }
  n = kcb__plot_ticks(values, MAX_TICKS, &step, lo, hi, target);
  double axis_max = n ? fmax(fabs(values[0]), fabs(values[n - 1])) : 0.0;
  for (size_t i = 0; i < n; i++) {
    out[i].at = values[i];
    kcb__plot_tick_label(out[i].label, sizeof out[i].label, values[i], step, axis_max);
  }
  return n;
}

/* ---- the series to draw ----------------------------------------------------------------- */

typedef struct prepared {
  const char *name;
  const double *x;     /* (n) or NULL for 0..n-1 */
  const double *raw;   /* (n) the caller's y */
  double *smooth;      /* (n) owned; NULL without smoothing */
  size_t n;
} prepared;

typedef struct chart_data {
  prepared *series;
  size_t n_series;
  int log_y, draw_raw, has_legend;
  double x_lo, x_hi, y_lo, y_hi; /* data range; y in log10 on a log axis */
} chart_data;

static void chart_data_free(chart_data *d) {
  if (d->series)
    for (size_t i = 0; i < d->n_series; i++) free(d->series[i].smooth);
  free(d->series);
  d->series = NULL;
}

static double axis_y(double v, int log_y) {
  if (!log_y) return v;
  return v > 0.0 ? log10(v) : NAN;
}

/* Widens the range over one line's finite points; returns how many there were. */
static size_t extend_range(chart_data *d, const double *x, const double *y, size_t n) {
  size_t finite = 0;
  for (size_t i = 0; i < n; i++) {
    double xv = x ? x[i] : (double)i, yv = axis_y(y[i], d->log_y);
    if (!isfinite(xv) || !isfinite(yv)) continue;
    if (xv < d->x_lo) d->x_lo = xv;
    if (xv > d->x_hi) d->x_hi = xv;
    if (yv < d->y_lo) d->y_lo = yv;
    if (yv > d->y_hi) d->y_hi = yv;
    finite++;
  }
  return finite;
}

/* Checks the arguments, smooths, and finds the range of what will be drawn. */
static int chart_data_prepare(chart_data *d, const kcb_plot_series *series, size_t n_series,
                              const kcb_plot_options *o, int terminal, const char *who) {
  memset(d, 0, sizeof *d);
  if (n_series == 0 || series == NULL) return kcb__error(KCB_EINVAL, "%s: no series to plot", who);
  if (!(o->smoothing >= 0.0 && o->smoothing < 1.0))
    return kcb__error(KCB_EINVAL, "%s: smoothing %g is outside [0, 1)", who, o->smoothing);
  for (size_t i = 0; i < n_series; i++)
    if (series[i].n > 0 && series[i].y == NULL)
      return kcb__error(KCB_EINVAL, "%s: series %zu ('%s') has %zu points but no y values", who, i,
                        series[i].name ? series[i].name : "", series[i].n);
  d->series = calloc(n_series, sizeof *d->series);
  if (!d->series) return kcb__error(KCB_ENOMEM, "%s: out of memory", who);
  d->n_series = n_series;
  d->log_y = o->log_y != 0;
  d->draw_raw = o->smoothing == 0.0 || (o->show_raw && !terminal);
  d->x_lo = d->y_lo = INFINITY;
  d->x_hi = d->y_hi = -INFINITY;
  size_t finite = 0;
  for (size_t i = 0; i < n_series; i++) {
    prepared *p = &d->series[i];
    p->name = series[i].name;
    p->x = series[i].x;
    p->raw = series[i].y;
    p->n = series[i].n;
    if (p->name && p->name[0]) d->has_legend = 1;
    if (o->smoothing > 0.0 && p->n > 0) {
      p->smooth = malloc(p->n * sizeof *p->smooth);
      if (!p->smooth) {
        chart_data_free(d);
        return kcb__error(KCB_ENOMEM, "%s: out of memory smoothing %zu points", who, p->n);
      }
      kcb_smooth_ema(p->smooth, p->raw, p->n, o->smoothing);
      finite += extend_range(d, p->x, p->smooth, p->n);
    }
    if (d->draw_raw) finite += extend_range(d, p->x, p->raw, p->n);
  }
  if (finite == 0) {
    chart_data_free(d);
    if (d->log_y) return kcb__error(KCB_EINVAL, "%s: no positive finite value to plot on a log y axis", who);
    return kcb__error(KCB_EINVAL, "%s: no finite point to plot in %zu series", who, n_series);
  }
  if (!isfinite(d->x_hi - d->x_lo) || !isfinite(d->y_hi - d->y_lo)) {
    chart_data_free(d);
    return kcb__error(KCB_EINVAL, "%s: the values span too wide a range to draw (x %g..%g, y %g..%g)", who,
                      d->x_lo, d->x_hi, d->y_lo, d->y_hi);
  }
  /* A single x or a constant y still gets a readable axis around it. */
  if (d->x_hi == d->x_lo) {
    d->x_lo -= 1.0;
    d->x_hi += 1.0;
  }
  if (d->y_hi == d->y_lo) {
    double half = d->log_y ? 0.5 : fabs(d->y_lo) * 0.1;
    if (half == 0.0) half = 1.0;
    d->y_lo -= half;
    d->y_hi += half;
  }
  return 0;
}

/* ---- tracing a line, reduced per column ------------------------------------------------- */

/* Receives a line's pieces in output coordinates; a dot is a point with no neighbour. */
typedef void (*segment_fn)(void *ctx, double x0, double y0, double x1, double y1, int is_dot);

typedef struct axis_map {
  double lo, hi, p0, p1; /* v in [lo, hi] maps linearly to [p0, p1] */
} axis_map;

static double map_axis(const axis_map *m, double v) { return m->p0 + (v - m->lo) / (m->hi - m->lo) * (m->p1 - m->p0); }

typedef struct tracer {
  segment_fn fn;
  void *ctx;
  int have_prev;
  size_t run; /* points in the current unbroken piece */
  double px, py;
  /* the current column's first, lowest, highest and last points (M4 reduction) */
  long col;
  int in_bucket;
  size_t idx[4];
  double bx[4], by[4];
} tracer;

static void tracer_emit(tracer *t, double x, double y) {
  if (t->have_prev) t->fn(t->ctx, t->px, t->py, x, y, 0);
  t->have_prev = 1;
  t->px = x;
  t->py = y;
  t->run++;
}

static void tracer_flush(tracer *t) {
  if (!t->in_bucket) return;
  int order[4] = {0, 1, 2, 3}; /* first, min, max, last: emit in index order, once each */
  for (int i = 1; i < 4; i++)
    for (int j = i; j > 0 && t->idx[order[j]] < t->idx[order[j - 1]]; j--) {
      int tmp = order[j];
      order[j] = order[j - 1];
      order[j - 1] = tmp;
    }
  for (int i = 0; i < 4; i++)
    if (i == 0 || t->idx[order[i]] != t->idx[order[i - 1]]) tracer_emit(t, t->bx[order[i]], t->by[order[i]]);
  t->in_bucket = 0;
}

static void tracer_break(tracer *t) {
  tracer_flush(t);
  if (t->run == 1) t->fn(t->ctx, t->px, t->py, t->px, t->py, 1);
  t->have_prev = 0;
  t->run = 0;
}

static void trace_series(const double *x, const double *y, size_t n, int log_y, const axis_map *xm,
                         const axis_map *ym, segment_fn fn, void *ctx) {
  tracer t;
  memset(&t, 0, sizeof t);
  t.fn = fn;
  t.ctx = ctx;
  for (size_t i = 0; i < n; i++) {
    double xv = x ? x[i] : (double)i, yv = axis_y(y[i], log_y);
    if (!isfinite(xv) || !isfinite(yv)) {
      tracer_break(&t);
      continue;
    }
    double px = map_axis(xm, xv), py = map_axis(ym, yv);
    long col = (long)floor(px);
    if (t.in_bucket && col != t.col) tracer_flush(&t);
    if (!t.in_bucket) {
      t.in_bucket = 1;
      t.col = col;
      for (int k = 0; k < 4; k++) t.idx[k] = i, t.bx[k] = px, t.by[k] = py;
      continue;
    }
    if (py < t.by[1]) t.idx[1] = i, t.bx[1] = px, t.by[1] = py;
    if (py > t.by[2]) t.idx[2] = i, t.bx[2] = px, t.by[2] = py;
    t.idx[3] = i, t.bx[3] = px, t.by[3] = py;
  }
  tracer_break(&t);
}

/* ---- the raster canvas -------------------------------------------------------------------- */

typedef struct canvas {
  uint8_t *rgb;  /* (h, w, 3) */
  uint8_t *mask; /* (h, w) coverage of the line being stroked, 0..255 */
  uint8_t *ink;  /* (h, w) how much data is drawn at each pixel, to place the legend */
  int w, h;
  int clip_x0, clip_y0, clip_x1, clip_y1; /* strokes stay inside [x0, x1) x [y0, y1) */
  int dirty_x0, dirty_y0, dirty_x1, dirty_y1;
  double line_width;
} canvas;

static void blend(canvas *c, int x, int y, const uint8_t col[3], double a) {
  if (x < 0 || y < 0 || x >= c->w || y >= c->h || a <= 0.0) return;
  uint8_t *p = c->rgb + ((size_t)y * (size_t)c->w + (size_t)x) * 3;
  if (a >= 1.0) {
    memcpy(p, col, 3);
    return;
  }
  for (int k = 0; k < 3; k++) p[k] = (uint8_t)(p[k] + (col[k] - p[k]) * a + 0.5);
}

static void fill_rect(canvas *c, int x0, int y0, int x1, int y1, const uint8_t col[3], double a) {
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++) blend(c, x, y, col, a);
}

static int text_width(const char *s, int scale) {
  size_t n = strlen(s);
  return n ? (int)n * KCB__FONT_ADVANCE * scale - scale : 0;
}

/* Draws s with its top-left corner at (x, y); vertical text reads upwards from (x, y) as its
 * bottom-left corner. Bold repeats each glyph one pixel to the right. */
static void draw_text(canvas *c, int x, int y, const char *s, const uint8_t col[3], int scale, int vertical,
                      int bold) {
  for (int i = 0; s[i]; i++)
    for (int gy = 0; gy < KCB__FONT_HEIGHT; gy++)
      for (int gx = 0; gx < KCB__FONT_WIDTH; gx++) {
        if (!kcb__font_pixel((unsigned char)s[i], gx, gy)) continue;
        int along = (i * KCB__FONT_ADVANCE + gx) * scale;
        for (int b = 0; b <= bold; b++) {
          if (vertical)
            fill_rect(c, x + gy * scale, y - along - scale - b, x + gy * scale + scale, y - along - b, col, 1.0);
          else
            fill_rect(c, x + along + b, y + gy * scale, x + along + scale + b, y + gy * scale + scale, col, 1.0);
        }
      }
}

/* Shortens s in place to at most max_width pixels, ending it with "..." when cut. */
static void fit_text(char *s, int max_width, int scale) {
  if (text_width(s, scale) <= max_width) return;
  int chars = (max_width + scale) / (KCB__FONT_ADVANCE * scale);
  if (chars < 4) {
    s[chars > 0 ? chars : 0] = '\0';
    return;
  }
  memcpy(s + chars - 3, "...", 4);
}

static double dist_to_segment(double px, double py, double x0, double y0, double x1, double y1) {
  double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy, t = 0.0;
  if (len2 > 0.0) {
    t = ((px - x0) * dx + (py - y0) * dy) / len2;
    t = t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
  }
  double ex = x0 + t * dx - px, ey = y0 + t * dy - py;
  return sqrt(ex * ex + ey * ey);
}

/* Adds an anti-aliased stroke of the given width to the mask: coverage falls off linearly over one
 * pixel around the edge. Only pixels near the segment are visited (walking its major axis). */
static void mask_stroke(canvas *c, double x0, double y0, double x1, double y1, double width) {
  double hw = width * 0.5, r = hw + 1.0;
  int steep = fabs(y1 - y0) > fabs(x1 - x0);
  double a0 = steep ? y0 : x0, a1 = steep ? y1 : x1, b0 = steep ? x0 : y0, b1 = steep ? x1 : y1;
  if (a0 > a1) {
    double t = a0;
    a0 = a1, a1 = t, t = b0, b0 = b1, b1 = t;
  }
  double slope = a1 > a0 ? (b1 - b0) / (a1 - a0) : 0.0;
  int amin = (int)floor(a0 - r), amax = (int)ceil(a1 + r);
  int clip_a0 = steep ? c->clip_y0 : c->clip_x0, clip_a1 = steep ? c->clip_y1 : c->clip_x1;
  int clip_b0 = steep ? c->clip_x0 : c->clip_y0, clip_b1 = steep ? c->clip_x1 : c->clip_y1;
  if (amin < clip_a0) amin = clip_a0;
  if (amax > clip_a1 - 1) amax = clip_a1 - 1;
  for (int ia = amin; ia <= amax; ia++) {
    double ac = ia + 0.5, lo = fmax(a0, ac - r), hi = fmin(a1, ac + r);
    if (lo > hi) lo = hi = ac < a0 ? a0 : a1;
    double ba = b0 + (lo - a0) * slope, bb = b0 + (hi - a0) * slope;
    int bmin = (int)floor(fmin(ba, bb) - r), bmax = (int)ceil(fmax(ba, bb) + r);
    if (bmin < clip_b0) bmin = clip_b0;
    if (bmax > clip_b1 - 1) bmax = clip_b1 - 1;
    for (int ib = bmin; ib <= bmax; ib++) {
      int px = steep ? ib : ia, py = steep ? ia : ib;
      double cov = hw + 0.5 - dist_to_segment(px + 0.5, py + 0.5, x0, y0, x1, y1);
      if (cov <= 0.0) continue;
      uint8_t m = (uint8_t)(cov >= 1.0 ? 255 : cov * 255.0 + 0.5);
      uint8_t *dst = c->mask + (size_t)py * (size_t)c->w + (size_t)px;
      if (m <= *dst) continue;
      *dst = m;
      if (px < c->dirty_x0) c->dirty_x0 = px;
      if (px >= c->dirty_x1) c->dirty_x1 = px + 1;
      if (py < c->dirty_y0) c->dirty_y0 = py;
      if (py >= c->dirty_y1) c->dirty_y1 = py + 1;
    }
  }
}

static void canvas_segment(void *ctx, double x0, double y0, double x1, double y1, int is_dot) {
  canvas *c = ctx;
  /* A lone point (between gaps) becomes a dot a little wider than the line, so it shows. */
  mask_stroke(c, x0, y0, x1, y1, is_dot ? c->line_width + 2.0 : c->line_width);
}

/* Paints the stroked mask in one color at once, so overlapping pieces of one faint line do not
 * darken where they meet, then clears the mask. */
static void mask_paint(canvas *c, const uint8_t col[3], double alpha, uint8_t ink) {
  for (int y = c->dirty_y0; y < c->dirty_y1; y++)
    for (int x = c->dirty_x0; x < c->dirty_x1; x++) {
      size_t i = (size_t)y * (size_t)c->w + (size_t)x;
      if (!c->mask[i]) continue;
      blend(c, x, y, col, c->mask[i] / 255.0 * alpha);
      if (c->mask[i] > 96 && c->ink[i] < ink) c->ink[i] = ink;
      c->mask[i] = 0;
    }
  c->dirty_x0 = c->w, c->dirty_y0 = c->h, c->dirty_x1 = c->dirty_y1 = 0;
}

/* ---- the PNG chart ---------------------------------------------------------------------- */

void kcb__plot_color(size_t i, uint8_t rgb[3]) {
  /* Tableau 10, the palette of matplotlib and many dashboards: distinct, and readable on white. */
  static const uint8_t PALETTE[10][3] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
                                         {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127},
                                         {188, 189, 34},  {23, 190, 207}};
  memcpy(rgb, PALETTE[i % 10], 3);
}

static const uint8_t WHITE[3] = {255, 255, 255}, TEXT[3] = {51, 51, 51}, TICK_TEXT[3] = {85, 85, 85},
                     GRID[3] = {232, 232, 232}, AXIS[3] = {150, 150, 150}, LEGEND_BORDER[3] = {204, 204, 204};

static int check_png_options(const kcb_plot_options *o, const char *who) {
  if (o->width < 160 || o->width > 16384 || o->height < 120 || o->height > 16384)
    return kcb__error(KCB_EINVAL, "%s: image size %dx%d is outside 160x120..16384x16384", who, o->width, o->height);
  return 0;
}

/* Places the legend where it covers the least data: the plot's four corners, top right first. */
static void draw_legend(canvas *c, const chart_data *d, int px0, int py0, int px1, int py1, int s) {
  int entry_h = 13 * s, pad = 7 * s, sample = 20 * s, gap = 6 * s, max_text = (px1 - px0) / 2;
  int text_w = 0, entries = 0;
  char name[128];
  for (size_t i = 0; i < d->n_series; i++) {
    if (!d->series[i].name || !d->series[i].name[0]) continue;
    kcb__strlcpy(name, d->series[i].name, sizeof name);
    fit_text(name, max_text, s);
    if (text_width(name, s) > text_w) text_w = text_width(name, s);
    entries++;
  }
  int bw = 2 * pad + sample + gap + text_w, bh = 2 * pad + entries * entry_h - (entry_h - KCB__FONT_ASCENT * s);
  int inset = 10 * s;
  if (bw + 2 * inset > px1 - px0 || bh + 2 * inset > py1 - py0) return; /* no room: leave it out */
  int xs[4] = {px1 - inset - bw, px0 + inset, px1 - inset - bw, px0 + inset};
  int ys[4] = {py0 + inset, py0 + inset, py1 - inset - bh, py1 - inset - bh};
  long best_cost = -1;
  int bx = xs[0], by = ys[0];
  for (int k = 0; k < 4; k++) {
    long cost = 0;
    for (int y = ys[k]; y < ys[k] + bh; y++)
      for (int x = xs[k]; x < xs[k] + bw; x++) cost += c->ink[(size_t)y * (size_t)c->w + (size_t)x];
    if (best_cost < 0 || cost < best_cost) best_cost = cost, bx = xs[k], by = ys[k];
  }
  fill_rect(c, bx, by, bx + bw, by + bh, WHITE, 0.88);
  fill_rect(c, bx, by, bx + bw, by + 1, LEGEND_BORDER, 1.0);
  fill_rect(c, bx, by + bh - 1, bx + bw, by + bh, LEGEND_BORDER, 1.0);
  fill_rect(c, bx, by, bx + 1, by + bh, LEGEND_BORDER, 1.0);
  fill_rect(c, bx + bw - 1, by, bx + bw, by + bh, LEGEND_BORDER, 1.0);
  int row = 0;
  for (size_t i = 0; i < d->n_series; i++) {
    if (!d->series[i].name || !d->series[i].name[0]) continue;
    uint8_t col[3];
    kcb__plot_color(i, col);
    int ty = by + pad + row * entry_h, mid = ty + (KCB__FONT_ASCENT * s) / 2;
    fill_rect(c, bx + pad, mid - s, bx + pad + sample, mid + s + (s == 1), col, 1.0);
    kcb__strlcpy(name, d->series[i].name, sizeof name);
    fit_text(name, max_text, s);
    draw_text(c, bx + pad + sample + gap, ty, name, TEXT, s, 0, 0);
    row++;
  }
}

int kcb__plot_render(uint8_t **out, int *width, int *height, const kcb_plot_series *series, size_t n_series,
                     const kcb_plot_options *opts) {
  static const char WHO[] = "kcb_plot_png";
  kcb_plot_options o = KCB_PLOT_OPTIONS_INIT;
  if (opts) o = *opts;
  int rc = 0;
  if (out == NULL) return kcb__error(KCB_EINVAL, "%s: NULL output", WHO);
  *out = NULL;
  if ((rc = check_png_options(&o, WHO)) < 0) return rc;
  chart_data d;
  if ((rc = chart_data_prepare(&d, series, n_series, &o, 0, WHO)) < 0) return rc;
  canvas c;
  memset(&c, 0, sizeof c);
  c.w = o.width;
  c.h = o.height;
  size_t npix = (size_t)c.w * (size_t)c.h;
  c.rgb = malloc(npix * 3);
  c.mask = calloc(npix, 1);
  c.ink = calloc(npix, 1);
  if (!c.rgb || !c.mask || !c.ink) {
    rc = kcb__error(KCB_ENOMEM, "%s: out of memory for a %dx%d image", WHO, c.w, c.h);
    goto done;
  }
  memset(c.rgb, 255, npix * 3);

  /* Layout, in pixels; text is our 5x7 font, doubled on large images, the title one size up. */
  int s = (c.w >= 1400 && c.h >= 900) ? 2 : 1, ts = c.w >= 500 ? s + 1 : s, pad = 14 * s, tick_len = 5 * s;
  int line_h = KCB__FONT_HEIGHT * s;
  char title[256] = "", xlabel[256] = "", ylabel[256] = "";
  if (o.title) kcb__strlcpy(title, o.title, sizeof title);
  if (o.x_label) kcb__strlcpy(xlabel, o.x_label, sizeof xlabel);
  if (o.y_label) kcb__strlcpy(ylabel, o.y_label, sizeof ylabel);
  int top = pad + (title[0] ? KCB__FONT_ASCENT * ts + 12 * s : 0);
  int bottom = pad + tick_len + 4 * s + line_h + (xlabel[0] ? 6 * s + line_h : 0);
  int py0 = top, py1 = c.h - bottom;
  double ypad = (d.y_hi - d.y_lo) * 0.06, xpad = (d.x_hi - d.x_lo) * 0.02;
  double ylo = d.y_lo - ypad, yhi = d.y_hi + ypad, xlo = d.x_lo - xpad, xhi = d.x_hi + xpad;
  tick yt[MAX_TICKS], xt[MAX_TICKS];
  int ytarget = (py1 - py0) / (45 * s);
  size_t nyt = make_ticks(yt, ylo, yhi, ytarget < 2 ? 2 : ytarget > 12 ? 12 : ytarget, d.log_y);
  int ylab_w = 0;
  for (size_t i = 0; i < nyt; i++)
    if (text_width(yt[i].label, s) > ylab_w) ylab_w = text_width(yt[i].label, s);
  int left = pad + (ylabel[0] ? line_h + 8 * s : 0) + ylab_w + tick_len + 4 * s;
  int right = pad + 6 * s;
  int px0 = left, px1 = c.w - right;
  if (py1 - py0 < 40 || px1 - px0 < 60) {
    rc = kcb__error(KCB_EINVAL, "%s: image %dx%d leaves no room for the plot", WHO, c.w, c.h);
    goto done;
  }
  /* As many x ticks as fit with their labels apart. */
  size_t nxt = 0;
  for (int target = (px1 - px0) / (90 * s); target >= 1; target--) {
    nxt = make_ticks(xt, xlo, xhi, target < 2 ? 2 : target, 0);
    int widest = 0;
    for (size_t i = 0; i < nxt; i++)
      if (text_width(xt[i].label, s) > widest) widest = text_width(xt[i].label, s);
    if (nxt <= 1 || (double)(widest + 16 * s) * (double)(nxt - 1) <= (px1 - px0) * (xt[nxt - 1].at - xt[0].at) / (xhi - xlo))
      break;
  }
  axis_map xm = {xlo, xhi, px0, px1}, ym = {ylo, yhi, py1, py0};

  /* Grid, then frame. */
  for (size_t i = 0; i < nyt; i++) {
    int y = (int)floor(map_axis(&ym, yt[i].at));
    if (y > py0 && y < py1 - 1) fill_rect(&c, px0, y, px1, y + 1, GRID, 1.0);
  }
  for (size_t i = 0; i < nxt; i++) {
    int x = (int)floor(map_axis(&xm, xt[i].at));
    if (x > px0 && x < px1 - 1) fill_rect(&c, x, py0, x + 1, py1, GRID, 1.0);
  }

  /* Data: all faint raw lines first, then the main lines on top. */
  c.clip_x0 = px0, c.clip_y0 = py0, c.clip_x1 = px1, c.clip_y1 = py1;
  c.dirty_x0 = c.w, c.dirty_y0 = c.h;
  int smoothing = o.smoothing > 0.0;
  for (int pass = 0; pass < 2; pass++) {
    if (pass == 0 && !(smoothing && d.draw_raw)) continue;
    for (size_t i = 0; i < d.n_series; i++) {
      const prepared *p = &d.series[i];
      const double *y = pass == 0 || !smoothing ? p->raw : p->smooth;
      uint8_t col[3];
      kcb__plot_color(i, col);
      c.line_width = (pass == 0 ? 1.2 : 2.0) * s;
      trace_series(p->x, y, p->n, d.log_y, &xm, &ym, canvas_segment, &c);
      mask_paint(&c, col, pass == 0 ? 0.28 : 1.0, pass == 0 ? 1 : 2);
    }
  }

  fill_rect(&c, px0, py0, px0 + 1, py1, AXIS, 1.0);
  fill_rect(&c, px0, py1 - 1, px1, py1, AXIS, 1.0);
  fill_rect(&c, px0, py0, px1, py0 + 1, GRID, 1.0);
  fill_rect(&c, px1 - 1, py0, px1, py1, GRID, 1.0);
  for (size_t i = 0; i < nyt; i++) {
    int y = (int)floor(map_axis(&ym, yt[i].at));
    if (y < py0 || y >= py1) continue;
    fill_rect(&c, px0 - tick_len, y, px0, y + 1, AXIS, 1.0);
    draw_text(&c, px0 - tick_len - 4 * s - text_width(yt[i].label, s), y - (KCB__FONT_ASCENT * s) / 2, yt[i].label,
              TICK_TEXT, s, 0, 0);
  }
  for (size_t i = 0; i < nxt; i++) {
    int x = (int)floor(map_axis(&xm, xt[i].at));
    if (x < px0 || x >= px1) continue;
    fill_rect(&c, x, py1, x + 1, py1 + tick_len, AXIS, 1.0);
    int tw = text_width(xt[i].label, s), tx = x - tw / 2;
    if (tx + tw > c.w - 2) tx = c.w - 2 - tw;
    if (tx < 2) tx = 2;
    draw_text(&c, tx, py1 + tick_len + 4 * s, xt[i].label, TICK_TEXT, s, 0, 0);
  }
  if (xlabel[0]) {
    fit_text(xlabel, px1 - px0, s);
    draw_text(&c, (px0 + px1) / 2 - text_width(xlabel, s) / 2, c.h - pad - line_h + 2 * s, xlabel, TEXT, s, 0, 0);
  }
  if (ylabel[0]) {
    fit_text(ylabel, py1 - py0, s);
    draw_text(&c, pad, (py0 + py1) / 2 + text_width(ylabel, s) / 2, ylabel, TEXT, s, 1, 0);
  }
  if (title[0]) {
    fit_text(title, c.w - 2 * pad, ts);
    int tw = text_width(title, ts) + 1, tx = (px0 + px1) / 2 - tw / 2;
    if (tx < pad) tx = pad;
    if (tx + tw > c.w - pad) tx = c.w - pad - tw;
    draw_text(&c, tx, pad, title, TEXT, ts, 0, 1);
  }
  if (d.has_legend) draw_legend(&c, &d, px0 + 1, py0 + 1, px1 - 1, py1 - 1, s);

  *out = c.rgb;
  c.rgb = NULL;
  *width = c.w;
  *height = c.h;
done:
  free(c.rgb);
  free(c.mask);
  free(c.ink);
  chart_data_free(&d);
  return rc;
}

int kcb_plot_png_buffer(unsigned char **out, size_t *out_len, const kcb_plot_series *series, size_t n_series,
                        const kcb_plot_options *opts) {
  if (out == NULL || out_len == NULL) return kcb__error(KCB_EINVAL, "kcb_plot_png_buffer: NULL output");
  *out = NULL;
  *out_len = 0;
  uint8_t *rgb = NULL;
  int w = 0, h = 0, rc = kcb__plot_render(&rgb, &w, &h, series, n_series, opts);
  if (rc < 0) return rc;
  rc = kcb__png_encode(out, out_len, rgb, (uint32_t)w, (uint32_t)h, 3);
  free(rgb);
  return rc;
}

int kcb_plot_png(const char *path, const kcb_plot_series *series, size_t n_series, const kcb_plot_options *opts) {
  if (path == NULL || path[0] == '\0') return kcb__error(KCB_EINVAL, "kcb_plot_png: empty output path");
  unsigned char *png = NULL;
  size_t len = 0;
  int rc = kcb_plot_png_buffer(&png, &len, series, n_series, opts);
  if (rc < 0) {
    /* Name the file the chart was for; the cause stays in the message. */
    char cause[512];
    kcb__strlcpy(cause, kcb_error_last(), sizeof cause);
    return kcb__error(rc, "%s: %s", path, cause);
  }
  rc = kcb__file_write_atomic(path, png, len);
  free(png);
  return rc;
}

/* ---- terminal charts ------------------------------------------------------------------ */

typedef struct dots {
  uint8_t *bits;   /* (rows, cols) braille dot bits per character cell */
  int8_t *owner;   /* (rows, cols) the series drawn last in each cell, -1 for none */
  int cols, rows;  /* in cells; dots are 2 wide and 4 high per cell */
  int series;
} dots;

static void dots_set(dots *g, long x, long y) {
  if (x < 0 || y < 0 || x >= 2L * g->cols || y >= 4L * g->rows) return;
  /* Braille numbering: dots 1-3 and 7 down the left column, 4-6 and 8 down the right. */
  static const uint8_t BIT[4][2] = {{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80}};
  size_t cell = (size_t)(y / 4) * (size_t)g->cols + (size_t)(x / 2);
  g->bits[cell] |= BIT[y % 4][x % 2];
  g->owner[cell] = (int8_t)(g->series % 100);
}

static void dots_segment(void *ctx, double x0, double y0, double x1, double y1, int is_dot) {
  (void)is_dot;
  dots *g = ctx;
  long ax = lround(x0), ay = lround(y0), bx = lround(x1), by = lround(y1);
  long dx = labs(bx - ax), dy = -labs(by - ay), sx = ax < bx ? 1 : -1, sy = ay < by ? 1 : -1, e = dx + dy;
  for (;;) { /* Bresenham */
    dots_set(g, ax, ay);
    if (ax == bx && ay == by) break;
    long e2 = 2 * e;
    if (e2 >= dy) e += dy, ax += sx;
    if (e2 <= dx) e += dx, ay += sy;
  }
}

static const int ANSI_COLORS[6] = {34, 33, 32, 31, 35, 36}; /* blue, yellow, green, red, magenta, cyan */

/* Writes s, at most max_cols characters of it (ASCII only: bytes past 126 become '?'). */
static int put_ascii(FILE *f, const char *s, int max_cols) {
  int n = 0;
  for (; s[n] && n < max_cols; n++) fputc((unsigned char)s[n] >= 32 && (unsigned char)s[n] < 127 ? s[n] : '?', f);
  return n;
}

int kcb_plot_terminal(FILE *f, const kcb_plot_series *series, size_t n_series, int columns, int rows,
                      const kcb_plot_options *opts) {
  static const char WHO[] = "kcb_plot_terminal";
  kcb_plot_options o = KCB_PLOT_OPTIONS_INIT;
  if (opts) o = *opts;
  if (f == NULL) return kcb__error(KCB_EINVAL, "%s: NULL stream", WHO);
  if (columns < 20 || columns > 1000)
    return kcb__error(KCB_EINVAL, "%s: %d columns is outside 20..1000", WHO, columns);
  int rc = 0;
  chart_data d;
  if ((rc = chart_data_prepare(&d, series, n_series, &o, 1, WHO)) < 0) return rc;
  dots g;
  memset(&g, 0, sizeof g);
  int has_title = o.title && o.title[0];
  int plot_rows = rows - has_title - 2 - d.has_legend;
  if (rows > 500 || plot_rows < 2) {
    rc = kcb__error(KCB_EINVAL, "%s: %d rows is outside %d..500 (2 plot rows%s%s and the x axis)", WHO, rows,
                    4 + has_title + d.has_legend, has_title ? ", the title" : "", d.has_legend ? ", the legend" : "");
    goto done;
  }
  tick yt[MAX_TICKS], xt[MAX_TICKS];
  double ypad = (d.y_hi - d.y_lo) * 0.03;
  double ylo = d.y_lo - ypad, yhi = d.y_hi + ypad;
  int ytarget = plot_rows / 3;
  size_t nyt = make_ticks(yt, ylo, yhi, ytarget < 2 ? 2 : ytarget > 10 ? 10 : ytarget, d.log_y);
  int label_w = 0;
  for (size_t i = 0; i < nyt; i++)
    if ((int)strlen(yt[i].label) > label_w) label_w = (int)strlen(yt[i].label);
  g.cols = columns - label_w - 1;
  g.rows = plot_rows;
  if (g.cols < 8) {
    rc = kcb__error(KCB_EINVAL, "%s: %d columns leave no room for the plot beside labels %d wide", WHO, columns, label_w);
    goto done;
  }
  g.bits = calloc((size_t)g.cols * (size_t)g.rows, 1);
  g.owner = malloc((size_t)g.cols * (size_t)g.rows);
  if (!g.bits || !g.owner) {
    rc = kcb__error(KCB_ENOMEM, "%s: out of memory", WHO);
    goto done;
  }
  memset(g.owner, -1, (size_t)g.cols * (size_t)g.rows);
  axis_map xm = {d.x_lo, d.x_hi, 0.0, 2.0 * g.cols - 1.0}, ym = {ylo, yhi, 4.0 * g.rows - 1.0, 0.0};
  for (size_t i = 0; i < d.n_series; i++) {
    const prepared *p = &d.series[i];
    g.series = (int)i;
    trace_series(p->x, p->smooth ? p->smooth : p->raw, p->n, d.log_y, &xm, &ym, dots_segment, &g);
  }
  /* Each y tick labels the row its value falls in; the first tick wins a shared row. */
  int *row_tick = malloc((size_t)g.rows * sizeof *row_tick);
  if (!row_tick) {
    rc = kcb__error(KCB_ENOMEM, "%s: out of memory", WHO);
    goto done;
  }
  for (int r = 0; r < g.rows; r++) row_tick[r] = -1;
  for (size_t i = 0; i < nyt; i++) {
    long r = lround(map_axis(&ym, yt[i].at)) / 4;
    if (r >= 0 && r < g.rows && row_tick[r] < 0) row_tick[r] = (int)i;
  }
  if (has_title) {
    int len = (int)strlen(o.title), indent = len < columns ? (columns - len) / 2 : 0;
    fprintf(f, "%*s", indent, "");
    put_ascii(f, o.title, columns - indent);
    fputc('\n', f);
  }
  for (int r = 0; r < g.rows; r++) {
    fprintf(f, "%*s%s", label_w, row_tick[r] >= 0 ? yt[row_tick[r]].label : "", row_tick[r] >= 0 ? "\u2524" : "\u2502");
    int colored = -1;
    for (int cx = 0; cx < g.cols; cx++) {
      size_t cell = (size_t)r * (size_t)g.cols + (size_t)cx;
      if (o.ansi_color && g.bits[cell] && g.owner[cell] != colored) {
        colored = g.owner[cell];
        fprintf(f, "\033[%dm", ANSI_COLORS[colored % 6]);
      }
      if (g.bits[cell]) {
        unsigned cp = 0x2800u + g.bits[cell]; /* U+2800..U+28FF as 3 bytes of UTF-8 */
        fputc((int)(0xE0 | (cp >> 12)), f);
        fputc((int)(0x80 | ((cp >> 6) & 0x3F)), f);
        fputc((int)(0x80 | (cp & 0x3F)), f);
      } else {
        fputc(' ', f);
      }
    }
    if (colored >= 0) fputs("\033[0m", f);
    fputc('\n', f);
  }
  free(row_tick);
  /* The x axis with a mark under each tick, then the tick labels, kept apart. */
  int ntarget = g.cols / 12;
  size_t nxt = make_ticks(xt, d.x_lo, d.x_hi, ntarget < 2 ? 2 : ntarget, 0);
  char *axis = malloc((size_t)g.cols + 1), *labels = malloc((size_t)columns + 1);
  if (!axis || !labels) {
    free(axis);
    free(labels);
    rc = kcb__error(KCB_ENOMEM, "%s: out of memory", WHO);
    goto done;
  }
  memset(axis, 0, (size_t)g.cols + 1);
  memset(labels, ' ', (size_t)columns);
  labels[columns] = '\0';
  int free_from = 0;
  for (size_t i = 0; i < nxt; i++) {
    long cx = lround(map_axis(&xm, xt[i].at)) / 2;
    if (cx < 0 || cx >= g.cols) continue;
    axis[cx] = 1;
    int len = (int)strlen(xt[i].label), at = label_w + 1 + (int)cx - len / 2;
    if (at + len > columns) at = columns - len;
    if (at < free_from || at < 0) continue;
    memcpy(labels + at, xt[i].label, (size_t)len);
    free_from = at + len + 1;
  }
  fprintf(f, "%*s\u2514", label_w, "");
  for (int cx = 0; cx < g.cols; cx++) fputs(axis[cx] ? "\u252c" : "\u2500", f);
  fputc('\n', f);
  int end = columns;
  while (end > 0 && labels[end - 1] == ' ') end--;
  labels[end] = '\0';
  fprintf(f, "%s\n", labels);
  free(axis);
  free(labels);
  if (d.has_legend) {
    int used = 0;
    for (size_t i = 0; i < d.n_series; i++) {
      if (!d.series[i].name || !d.series[i].name[0]) continue;
      if ((used ? 2 : 0) + 3 > columns - used) break; /* separator, swatch, space, a letter */
      if (used) fputs("  ", f), used += 2;
      if (o.ansi_color) fprintf(f, "\033[%dm", ANSI_COLORS[i % 6]);
      fputs("\u28ff", f);
      if (o.ansi_color) fputs("\033[0m", f);
      fputc(' ', f);
      used += 2;
      used += put_ascii(f, d.series[i].name, columns - used);
    }
    fputc('\n', f);
  }
  if (ferror(f)) rc = kcb__error(KCB_EIO, "%s: writing the chart failed", WHO);
done:
  free(g.bits);
  free(g.owner);
  chart_data_free(&d);
  return rc;
}

/* from_zero: heights from 0 to the largest value (counts), else from the smallest to the largest. */
static int sparkline(const char *who, char *buf, size_t cap, const double *y, size_t n, int width, int from_zero) {
  if (buf == NULL || cap == 0) return kcb__error(KCB_EINVAL, "%s: no output buffer", who);
  buf[0] = '\0';
  if (n > 0 && y == NULL) return kcb__error(KCB_EINVAL, "%s: %zu points but no values", who, n);
  size_t chars = (width <= 0 || (size_t)width >= n) ? n : (size_t)width;
  if (cap < 3 * chars + 1)
    return kcb__error(KCB_EINVAL, "%s: buffer of %zu bytes is too small for %zu characters (need %zu)", who,
                      cap, chars, 3 * chars + 1);
  double lo = from_zero ? 0.0 : INFINITY, hi = from_zero ? 0.0 : -INFINITY;
  /* Pass 0 finds the range of the per-character means, pass 1 writes them. */
  for (int pass = 0; pass < 2; pass++) {
    char *p = buf;
    for (size_t c = 0; c < chars; c++) {
      size_t from = c * n / chars, to = (c + 1) * n / chars;
      double sum = 0.0;
      size_t k = 0;
      for (size_t i = from; i < to; i++)
        if (isfinite(y[i])) sum += y[i], k++;
      double v = k ? sum / (double)k : NAN;
      if (pass == 0) {
        if (k && v < lo && !from_zero) lo = v;
        if (k && v > hi) hi = v;
        continue;
      }
      if (!isfinite(v)) {
        *p++ = ' ';
        continue;
      }
      int level = hi > lo ? (int)floor((v - lo) / (hi - lo) * 7.0 + 0.5) : from_zero ? 0 : 3;
      level = level < 0 ? 0 : level > 7 ? 7 : level;
      /* U+2581 LOWER ONE EIGHTH BLOCK .. U+2588 FULL BLOCK */
      *p++ = (char)0xE2;
      *p++ = (char)0x96;
      *p++ = (char)(0x81 + level);
    }
    if (pass == 1) *p = '\0';
  }
  return 0;
}

int kcb_plot_sparkline(char *buf, size_t cap, const double *y, size_t n, int width) {
  return sparkline("kcb_plot_sparkline", buf, cap, y, n, width, 0);
}

int kcb_plot_sparkline_counts(char *buf, size_t cap, const double *counts, size_t n, int width) {
  return sparkline("kcb_plot_sparkline_counts", buf, cap, counts, n, width, 1);
}
