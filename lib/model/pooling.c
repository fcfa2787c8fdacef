/* model/pooling.c — Max/AveragePooling1D/2D and their global forms (channels_last).
 * Max pooling pads with -inf (padding never wins); backward routes each output's gradient to the
 * first window entry equal to it. Windows that tile the input (pool_size = strides, the usual case)
 * record that entry in forward; other max poolings find it again from the saved input, so their
 * forward loop stays a plain vectorised max. Average pooling divides by the number of real
 * (non-padding) entries in each window, as Keras does. */
#include <string.h>

#include "model/model_internal.h"

static int is_max(kcb__layer_kind k) {
  return k == KCB__MAX_POOLING1D || k == KCB__MAX_POOLING2D || k == KCB__GLOBAL_MAX_POOLING1D || k == KCB__GLOBAL_MAX_POOLING2D;
}

static int is_global(kcb__layer_kind k) { return k >= KCB__GLOBAL_MAX_POOLING1D && k <= KCB__GLOBAL_AVERAGE_POOLING2D; }

int kcb_model_add_pooling(kcb_model *m, kcb_pooling kind, const kcb_pooling_options *opts) {
  KCB__MODEL_GIVEN(m, "pooling");
  static const kcb__layer_kind kinds[KCB_POOLING_COUNT] = {
      KCB__MAX_POOLING1D,        KCB__MAX_POOLING2D,        KCB__AVERAGE_POOLING1D,        KCB__AVERAGE_POOLING2D,
      KCB__GLOBAL_MAX_POOLING1D, KCB__GLOBAL_MAX_POOLING2D, KCB__GLOBAL_AVERAGE_POOLING1D, KCB__GLOBAL_AVERAGE_POOLING2D};
  static const int two_d[KCB_POOLING_COUNT] = {0, 1, 0, 1, 0, 1, 0, 1};
  if ((unsigned)kind >= KCB_POOLING_COUNT) return kcb__error(KCB_EINVAL, "unknown pooling kind %d", (int)kind);
  kcb_pooling_options defaults = KCB_POOLING_OPTIONS_INIT;
  const kcb_pooling_options *o = opts ? opts : &defaults;
  kcb__layer_kind k = kinds[kind];
  const char *cls = kcb__layer_class_name(k);
  int dims = two_d[kind] ? 2 : 1, rank;
  int64_t shape[KCB_MAX_RANK];
  kcb__model_current_shape(m, &rank, shape);
  if (rank != dims + 1)
    return kcb__error(KCB_EINVAL, "%s expects inputs of rank %d per sample, got rank %d", cls, dims + 1, rank);
  kcb__geom g = {0};
  g.h = dims == 2 ? shape[0] : 1;
  g.w = shape[dims - 1];
  g.c = g.oc = shape[dims];
  g.groups = g.dh = g.dw = 1;
  if (!is_global(k)) {
    for (int d = 0; d < dims; d++)
      if (o->pool_size[d] <= 0 || o->strides[d] < 0)
        return kcb__error(KCB_EINVAL, "%s: pool_size must be positive and strides >= 0 (0: pool_size)", cls);
    if ((unsigned)o->padding >= KCB_PADDING_COUNT || o->padding == KCB_PADDING_CAUSAL)
      return kcb__error(KCB_EINVAL, "%s: padding must be valid or same, got %s", cls,
                        (unsigned)o->padding < KCB_PADDING_COUNT ? kcb_padding_name(o->padding) : "an unknown value");
    g.kh = dims == 2 ? o->pool_size[0] : 1;
    g.kw = o->pool_size[dims - 1];
    g.sh = dims == 2 ? (o->strides[0] ? o->strides[0] : g.kh) : 1;
    g.sw = o->strides[dims - 1] ? o->strides[dims - 1] : g.kw;
    g.oh = kcb__window_out(g.h, g.kh, g.sh, 1, o->padding, &g.pad_top);
    g.ow = kcb__window_out(g.w, g.kw, g.sw, 1, o->padding, &g.pad_left);
    if ((g.oh < 1 || g.ow < 1) && dims == 1) /* the sizes as given: one number each */
      return kcb__error(KCB_EINVAL, "%s: a pool of %d does not fit an input of %lld steps with padding valid", cls, g.kw,
                        (long long)g.w);
    if (g.oh < 1 || g.ow < 1)
      return kcb__error(KCB_EINVAL, "%s: a pool of %dx%d does not fit an input of %lldx%lld with padding valid", cls, g.kh, g.kw,
                        (long long)g.h, (long long)g.w);
  } else {
    g.kh = (int)g.h;
    g.kw = (int)g.w;
    g.sh = g.sw = 1;
    g.oh = g.ow = 1;
  }
  kcb__layer *l = NULL;
  int rc = kcb__model_append_layer(m, k, o->name, &l);
  if (rc) return rc;
  l->geom = g;
  l->pool_padding = o->padding;
  l->keepdims = o->keepdims != 0;
  if (is_global(k) && !l->keepdims) {
    l->out_rank = 1;
    l->out_shape[0] = g.c;
  } else {
    if (dims == 2) l->out_shape[0] = g.oh;
    l->out_shape[dims - 1] = g.ow;
  }
  kcb__model_finish_layer(m, l);
  return 0;
}

/* The real (non-padding) window of output (oy, ox): rows [y_lo, y_hi), columns [x_lo, x_hi).
 * Keras's padding rule leaves at least one real entry in every window. */
static void window(const kcb__geom *g, int64_t oy, int64_t ox, int64_t *y_lo, int64_t *y_hi, int64_t *x_lo, int64_t *x_hi) {
  int64_t y0 = oy * g->sh - g->pad_top, x0 = ox * g->sw - g->pad_left;
  *y_lo = y0 < 0 ? 0 : y0;
  *y_hi = y0 + g->kh < g->h ? y0 + g->kh : g->h;
  *x_lo = x0 < 0 ? 0 : x0;
  *x_hi = x0 + g->kw < g->w ? x0 + g->kw : g->w;
}

/* Inner loops as functions with restrict parameters, so that they vectorise. */
static void add_scaled(float *restrict d, const float *restrict g, float scale, int64_t n) {
  for (int64_t c = 0; c < n; c++) d[c] += g[c] * scale;
}

/* Adds g to d where x is the channel's maximum y and no earlier entry was (branch-free: the
 * winners are data-dependent). */
static void route_max(float *restrict d, const float *restrict x, const float *restrict y, const float *restrict g,
                      int32_t *restrict taken, int64_t n) {
  for (int64_t c = 0; c < n; c++) {
    int32_t hit = (x[c] == y[c]) & (1 - taken[c]);
    d[c] += (float)hit * g[c];
    taken[c] |= hit;
  }
}

static void max_into(float *restrict out, const float *restrict src, int64_t n) {
  for (int64_t c = 0; c < n; c++) out[c] = src[c] > out[c] || src[c] != src[c] ? src[c] : out[c]; /* NaN wins */
}

static void add_into(float *restrict out, const float *restrict src, int64_t n) {
  for (int64_t c = 0; c < n; c++) out[c] += src[c];
}

/* Max pooling whose windows tile the input without overlap or padding (the usual pool_size =
 * strides): every input gets exactly one value, written once, instead of the whole dx being
 * zeroed and then added to; the rows and columns no window reaches are zeroed. */
static int tiles_input(const kcb__layer *l) {
  const kcb__geom *g = &l->geom;
  return is_max(l->kind) && !is_global(l->kind) && g->sh == g->kh && g->sw == g->kw && g->pad_top == 0 &&
         g->pad_left == 0 && g->oh * g->kh <= g->h && g->ow * g->kw <= g->w;
}

int kcb__pool_needs_flags(const kcb__layer *l) { return is_max(l->kind) && !tiles_input(l); }
int kcb__pool_records_winners(const kcb__layer *l) { return tiles_input(l); }

/* One window of a tiled max pooling: per channel the maximum, and where in the window it was first
 * reached (row-major), which backward routes the gradient to, as TensorFlow's argmax does. */
static void window_max(float *restrict out, int32_t *restrict winner, const float *restrict x, int64_t row_stride,
                       int64_t C, int kh, int kw) {
  for (int64_t c = 0; c < C; c++) out[c] = x[c], winner[c] = 0;
  for (int i = 0; i < kh; i++)
    for (int j = i == 0; j < kw; j++) {
      const float *restrict p = x + i * row_stride + j * C;
      const int32_t k = i * kw + j;
      for (int64_t c = 0; c < C; c++) {
        /* all ones or zero: selects without a branch; a NaN wins, as numpy's max (it must show in the loss) */
        const int32_t higher = -(int32_t)(p[c] > out[c] || p[c] != p[c]);
        out[c] = higher ? p[c] : out[c];
        winner[c] = (winner[c] & ~higher) | (k & higher);
      }
    }
}

/* window_max of x * scale + shift: the BatchNormalization before the pooling applied on the way,
 * with the same floats as its own pass would write. */
static void window_max_scaled(float *restrict out, int32_t *restrict winner, const float *restrict x, int64_t row_stride,
                              int64_t C, int kh, int kw, const float *restrict scale, const float *restrict shift) {
  for (int64_t c = 0; c < C; c++) out[c] = x[c] * scale[c] + shift[c], winner[c] = 0;
  for (int i = 0; i < kh; i++)
    for (int j = i == 0; j < kw; j++) {
      const float *restrict p = x + i * row_stride + j * C;
      const int32_t k = i * kw + j;
      for (int64_t c = 0; c < C; c++) {
        const float v = p[c] * scale[c] + shift[c];
        const int32_t higher = -(int32_t)(v > out[c] || v != v);
        out[c] = higher ? v : out[c];
        winner[c] = (winner[c] & ~higher) | (k & higher);
      }
    }
}

/* Each pass below runs samples [s0, s1); the pool's threads take a share each (core/pool.c).
 * With scale, the input is normalised on the way (kcb__pool_forward_after_norm). */
static void max_pool_forward_tiled(kcb__layer *l, const float *x, const float *scale, const float *shift, int64_t s0,
                                   int64_t s1) {
  const kcb__geom *g = &l->geom;
  const int64_t C = g->c, in_size = g->h * g->w * C, out_size = g->oh * g->ow * C;
  for (int64_t s = s0; s < s1; s++)
    for (int64_t oy = 0; oy < g->oh; oy++)
      for (int64_t ox = 0; ox < g->ow; ox++) {
        const int64_t o = s * out_size + (oy * g->ow + ox) * C;
        const float *win = x + s * in_size + (oy * g->kh * g->w + ox * g->kw) * C;
        if (scale) window_max_scaled(l->out + o, l->winner + o, win, g->w * C, C, g->kh, g->kw, scale, shift);
        else window_max(l->out + o, l->winner + o, win, g->w * C, C, g->kh, g->kw);
      }
}

static void pool_forward_general(kcb__layer *l, const float *x, int64_t s0, int64_t s1) {
  const kcb__geom *g = &l->geom;
  const int64_t C = g->c, in_size = g->h * g->w * C, out_size = g->oh * g->ow * C;
  const int max = is_max(l->kind);
  for (int64_t s = s0; s < s1; s++) {
    const float *xs = x + s * in_size;
    for (int64_t oy = 0; oy < g->oh; oy++)
      for (int64_t ox = 0; ox < g->ow; ox++) {
        float *out = l->out + s * out_size + (oy * g->ow + ox) * C;
        int64_t y_lo, y_hi, x_lo, x_hi;
        window(g, oy, ox, &y_lo, &y_hi, &x_lo, &x_hi);
        memcpy(out, xs + (y_lo * g->w + x_lo) * C, (size_t)C * sizeof *out);
        for (int64_t iy = y_lo; iy < y_hi; iy++)
          for (int64_t ix = iy == y_lo ? x_lo + 1 : x_lo; ix < x_hi; ix++) {
            const float *src = xs + (iy * g->w + ix) * C;
            if (max) max_into(out, src, C);
            else add_into(out, src, C);
          }
        if (!max) {
          const float inv = 1.0f / (float)((y_hi - y_lo) * (x_hi - x_lo));
          for (int64_t c = 0; c < C; c++) out[c] *= inv;
        }
      }
  }
}

/* d = g where this window entry (number k) was the channel's winner, 0 elsewhere. */
static void route_to_winner(float *restrict d, const int32_t *restrict winner, const float *restrict g, int32_t k,
                            int64_t n) {
  for (int64_t c = 0; c < n; c++) d[c] = (float)(winner[c] == k) * g[c]; /* a product, so that it vectorises */
}

static void pool_backward_general(const kcb__layer *l, const float *gy, float *dx, int64_t s0, int64_t s1) {
  const kcb__geom *g = &l->geom;
  const int64_t C = g->c, in_size = g->h * g->w * C, out_size = g->oh * g->ow * C;
  const int max = is_max(l->kind);
  memset(dx + s0 * in_size, 0, (size_t)((s1 - s0) * in_size) * sizeof *dx);
  for (int64_t s = s0; s < s1; s++) {
    float *ds = dx + s * in_size;
    const float *xs = l->in + s * in_size;
    for (int64_t oy = 0; oy < g->oh; oy++)
      for (int64_t ox = 0; ox < g->ow; ox++) {
        const int64_t o = s * out_size + (oy * g->ow + ox) * C;
        const float *go = gy + o, *yo = l->out + o;
        int32_t *taken = l->taken + o; /* max: whether the channel's winner was found */
        int64_t y_lo, y_hi, x_lo, x_hi;
        window(g, oy, ox, &y_lo, &y_hi, &x_lo, &x_hi);
        const float inv = 1.0f / (float)((y_hi - y_lo) * (x_hi - x_lo));
        if (max) memset(taken, 0, (size_t)C * sizeof *taken);
        for (int64_t iy = y_lo; iy < y_hi; iy++)
          for (int64_t ix = x_lo; ix < x_hi; ix++) {
            const int64_t at = (iy * g->w + ix) * C;
            float *d = ds + at;
            if (max) route_max(d, xs + at, yo, go, taken, C);
            else add_scaled(d, go, inv, C);
          }
      }
  }
}

typedef struct pool_job {
  kcb__layer *writable; /* forward writes the layer's output */
  const kcb__layer *l;
  const float *x, *gy;
  const float *scale, *shift; /* forward after a BatchNormalization: its scale and shift, else NULL */
  float *dx;
} pool_job;

static void forward_part(void *ctx, int part, int64_t s0, int64_t s1) {
  const pool_job *j = ctx;
  (void)part;
  if (tiles_input(j->l)) max_pool_forward_tiled(j->writable, j->x, j->scale, j->shift, s0, s1);
  else pool_forward_general(j->writable, j->x, s0, s1);
}

static void backward_part(void *ctx, int part, int64_t s0, int64_t s1) {
  const pool_job *j = ctx;
  const int64_t plane = j->l->geom.h * j->l->geom.w; /* input rows a sample */
  (void)part;
  if (tiles_input(j->l))
    kcb__pool_route_rows(j->l, j->gy, s0 * plane, (s1 - s0) * plane, j->dx + s0 * plane * j->l->geom.c);
  else pool_backward_general(j->l, j->gy, j->dx, s0, s1);
}

/* Samples per part: enough of the input that a split pays for waking a thread. */
static int64_t samples_per_part(const kcb__layer *l) { return 16384 / (l->geom.h * l->geom.w * l->geom.c) + 1; }

void kcb__pool_forward(kcb__layer *l, const float *x, int64_t batch) {
  pool_job j = {l, l, x, NULL, NULL, NULL, NULL};
  kcb__parallel(batch, samples_per_part(l), 1, forward_part, &j);
}

void kcb__pool_forward_after_norm(kcb__layer *l, const kcb__layer *bn, int64_t batch) {
  pool_job j = {l, l, bn->in, NULL, NULL, NULL, NULL};
  kcb__norm_scale_shift(bn, &j.scale, &j.shift);
  kcb__parallel(batch, samples_per_part(l), 1, forward_part, &j);
}

void kcb__pool_backward(const kcb__layer *l, const float *gy, float *dx, int64_t batch) {
  pool_job j = {NULL, l, NULL, gy, NULL, NULL, dx};
  kcb__parallel(batch, samples_per_part(l), 1, backward_part, &j);
}

/* The tiled max pooling's backward, one input row (position) after another: every input gets
 * exactly one value, written once, from the winners forward recorded (the rows and columns no
 * window reaches get 0); the input and output are not read again. */
void kcb__pool_route_rows(const kcb__layer *l, const float *gy, int64_t r0, int64_t n, float *dx) {
  const kcb__geom *g = &l->geom;
  const int64_t C = g->c, plane = g->h * g->w, out_size = g->oh * g->ow * C;
  int64_t s = r0 / plane, iy = r0 % plane / g->w, ix = r0 % plane % g->w;
  int64_t oy = iy / g->kh, ky = iy % g->kh, ox = ix / g->kw, kx = ix % g->kw; /* window, and place in it */
  for (int64_t r = 0; r < n; r++) {
    if (oy < g->oh && ox < g->ow) {
      const int64_t o = s * out_size + (oy * g->ow + ox) * C;
      route_to_winner(dx + r * C, l->winner + o, gy + o, (int32_t)(ky * g->kw + kx), C);
    } else {
      memset(dx + r * C, 0, (size_t)C * sizeof *dx);
    }
    if (++ix == g->w) { /* the next row: counters, not divisions */
      ix = kx = ox = 0;
      if (++iy == g->h) iy = ky = oy = 0, s++;
      else if (++ky == g->kh) ky = 0, oy++;
    } else if (++kx == g->kw) {
      kx = 0, ox++;
    }
  }
}
