/* kcb/plot.h — line charts of scalar series (loss curves, metrics), as PNG files or as text for a
 * terminal, with TensorBoard's smoothing. kcb-inspect's `plot` command draws through these. */
#ifndef KCB_PLOT_H
#define KCB_PLOT_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One line of a chart: n points (x[i], y[i]). Points whose x or y is NaN or infinite are not drawn
 * (the line has a gap there). The chart only borrows the arrays for the duration of the call. */
typedef struct kcb_plot_series {
  const char *name; /**< legend text; NULL or "" for none */
  const double *x;  /**< (n) x values, e.g. steps or epochs; NULL means 0, 1, ..., n-1 */
  const double *y;  /**< (n) y values */
  size_t n;         /**< number of points */
} kcb_plot_series;

/** How a chart looks. Start from KCB_PLOT_OPTIONS_INIT and change what you need. */
typedef struct kcb_plot_options {
  int width;           /**< PNG width in pixels, 160..16384 (default 800) */
  int height;          /**< PNG height in pixels, 120..16384 (default 500) */
  const char *title;   /**< drawn above the chart; NULL for none */
  const char *x_label; /**< under the x axis; NULL for none */
  const char *y_label; /**< left of the y axis, rotated; NULL for none */
  double smoothing;    /**< TensorBoard's smoothing weight in [0, 1); 0 draws the raw values (default 0) */
  int log_y;           /**< nonzero: logarithmic y axis; values <= 0 are then left out (default 0) */
  int show_raw;        /**< nonzero: when smoothing, also draw the raw values as a faint line under
                            the smoothed one, as TensorBoard does (default 1) */
  int ansi_color;      /**< terminal charts only: nonzero colors each series with ANSI escapes (default 0) */
} kcb_plot_options;

/** Defaults: 800x500 pixels, no title or axis labels, no smoothing, linear y, raw line shown when
 * smoothing, no ANSI colors. */
#define KCB_PLOT_OPTIONS_INIT {800, 500, NULL, NULL, NULL, 0.0, 0, 1, 0}

/** Smooths y as TensorBoard's scalar dashboard does: a debiased exponential moving average.
 * For each finite y[i]: last = last * weight + (1 - weight) * y[i], out[i] = last / (1 - weight^k)
 * where k counts the finite values so far; NaN and infinite values are copied unchanged and do not
 * advance the average. A constant series is copied unchanged (as TensorBoard does).
 * @param[out] out (n) smoothed values; may be the same array as y
 * @param y        (n) values
 * @param weight   smoothing weight in [0, 1); 0 copies y
 * @return 0 or KCB_EINVAL (weight outside [0, 1), NULL arrays with n > 0) */
int kcb_smooth_ema(double *out, const double *y, size_t n, double weight);

/** Draws a line chart of n_series series and encodes it as an RGB PNG of opts->width x opts->height
 * pixels: axes with "nice" ticks (1, 2 or 5 times a power of ten) and grid lines, optional title and
 * axis labels, and a legend (when any series has a name) placed where it covers the fewest lines.
 * Text is drawn with kcb's own 5x7 font, printable ASCII only (other bytes show as '?'); text too
 * long for the image is cut with "...". Series of millions of points draw in milliseconds.
 * @param[out] out     malloc'd PNG bytes; the caller frees them with free()
 * @param[out] out_len their length
 * @param series       (n_series) the lines, drawn in order with a 10-color palette
 * @param opts         NULL for KCB_PLOT_OPTIONS_INIT
 * @return 0, KCB_EINVAL (no series, no finite point to draw, no positive value with log_y, bad
 *         options, values spanning more than a double can hold; the message says which), KCB_ENOMEM */
int kcb_plot_png_buffer(unsigned char **out, size_t *out_len, const kcb_plot_series *series, size_t n_series,
                        const kcb_plot_options *opts);

/** Like kcb_plot_png_buffer, then writes the PNG to path atomically (a temporary file in the same
 * directory, fsync, rename): on any failure an existing file at path is left as it was.
 * @return 0, the codes of kcb_plot_png_buffer, KCB_ENOENT (missing directory), KCB_ENOSPC, KCB_EIO */
int kcb_plot_png(const char *path, const kcb_plot_series *series, size_t n_series, const kcb_plot_options *opts);

/** Draws the chart as text on f: exactly `rows` lines, none wider than `columns` terminal columns
 * (the plot rows are exactly that wide). Lines are drawn with Unicode braille dots (2x4 per
 * character cell), with y tick labels on the left, an x axis with tick labels, a title line when
 * opts->title is set and a legend line when any series has a name. UTF-8; ANSI colors only when
 * opts->ansi_color is set. Only the (smoothed, if asked) line is drawn; opts->width, height,
 * x_label, y_label and show_raw are ignored.
 * @param f        the stream to write to (not closed); the library writes nowhere else
 * @param columns  width in terminal columns, 20..1000
 * @param rows     height in lines, enough for 2 plot rows plus the title, axis and legend lines
 *                 (at most 500)
 * @return 0, KCB_EINVAL (as kcb_plot_png_buffer, or too few rows/columns), KCB_ENOMEM, KCB_EIO
 *         (writing to f failed) */
int kcb_plot_terminal(FILE *f, const kcb_plot_series *series, size_t n_series, int columns, int rows,
                      const kcb_plot_options *opts);

/** Writes a one-line sparkline of y into buf as UTF-8 block characters (U+2581..U+2588, lowest to
 * highest value; a space where a value is NaN or infinite), NUL-terminated. With width <= 0 or
 * width >= n, one character per point; otherwise width characters, each the mean of the finite
 * values in its share of the points. A constant series draws mid-height blocks; n == 0 gives "".
 * @param[out] buf  receives the text; needs 3 bytes per character plus 1
 * @param cap       size of buf in bytes
 * @return 0 or KCB_EINVAL (buf too small, the message says how much is needed; NULL pointers) */
int kcb_plot_sparkline(char *buf, size_t cap, const double *y, size_t n, int width);

/** kcb_plot_sparkline for counts (a histogram's buckets): heights from 0 to the largest count, so
 * equal counts draw full blocks and counts that differ by a little look alike, all zeros the lowest blocks (kcb_plot_sparkline
 * stretches the smallest to the largest value over the whole height). Negative counts draw the
 * lowest block. @return as kcb_plot_sparkline */
int kcb_plot_sparkline_counts(char *buf, size_t cap, const double *counts, size_t n, int width);

#ifdef __cplusplus
}
#endif

#endif
