/* io/chart — internals of the chart renderer (kcb/plot.h), shared by chart.c, font.c and tests. */
#ifndef KCB_IO_CHART_H
#define KCB_IO_CHART_H

#include <stddef.h>
#include <stdint.h>

#include "kcb/plot.h"

/* Our bitmap font: 5 pixels wide, 7 above the baseline and 2 below (descenders), 6 per advance. */
#define KCB__FONT_WIDTH 5
#define KCB__FONT_HEIGHT 9
#define KCB__FONT_ASCENT 7
#define KCB__FONT_ADVANCE 6

/** 1 if pixel (gx, gy) of character c's glyph is set (gy = 0 is the top row); characters outside
 * printable ASCII draw as '?'. */
int kcb__font_pixel(int c, int gx, int gy);

/** Nice tick values (1, 2 or 5 times a power of ten apart) inside [lo, hi], about `target` of them.
 * @param[out] out  (cap) ticks, ascending
 * @param[out] step their spacing
 * @return how many were written (0 when lo or hi is not finite or hi < lo) */
size_t kcb__plot_ticks(double *out, size_t cap, double *step, double lo, double hi, int target);

/** Formats a tick value for a label, locale-independently, with as many decimals as step needs.
 * One style per axis, chosen by axis_max (the largest |tick|): 200k / 1.2M for large round
 * numbers, 1.5e-5 for tiny ones, plain decimals otherwise. */
void kcb__plot_tick_label(char *buf, size_t cap, double value, double step, double axis_max);

/** Renders the chart kcb_plot_png_buffer encodes.
 * @param[out] out malloc'd (height, width, 3) RGB pixels, row-major; the caller frees them */
int kcb__plot_render(uint8_t **out, int *width, int *height, const kcb_plot_series *series, size_t n_series,
                     const kcb_plot_options *opts);

/** The palette: RGB of series i (cycling through 10 colors). */
void kcb__plot_color(size_t i, uint8_t rgb[3]);

#endif
