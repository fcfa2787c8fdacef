/* model/conv.c — Conv1D and Conv2D (channels_last) as im2col + sgemm. A 1x1, stride-1,
 * ungrouped convolution is a plain sgemm over the input; one with few taps per output (a first
 * layer) runs direct loops (conv_direct.c); otherwise chunks of samples are unfolded into the
 * model's im2col buffer (sized once per fit) and multiplied group by group. */
#include <string.h>

#include "model/model_internal.h"

/* Floats of im2col buffer aimed at per pass: large enough for sgemm to run at full speed, small
 * enough to stay in the last-level cache's neighbourhood. */
#define COL_TARGET ((int64_t)1 << 20)
/* Floats of a layer's own im2col matrix kept from forward to backward (64 MiB): above it the
 * layer unfolds chunk by chunk, twice. */
#define COL_KEEP_MAX ((int64_t)1 << 24)
/* Floats of unfolded input gradient per pass (1 MiB), so that it is still in L2 when folded. */
#define DX_CHUNK_FLOATS ((int64_t)1 << 18)

int kcb_padding_from_name(kcb_padding *out, const char *name) {
  if (!out) return kcb__error(KCB_EINVAL, "kcb_padding_from_name: out is NULL");
  if (name && strcmp(name, "valid") == 0) *out = KCB_PADDING_VALID;
  else if (name && strcmp(name, "same") == 0) *out = KCB_PADDING_SAME;
  else if (name && strcmp(name, "causal") == 0) *out = KCB_PADDING_CAUSAL;
  else return kcb__error(KCB_EKEY, "unknown padding '%s' (expected valid, same or causal)", name ? name : "(null)");
  return 0;
}

const char *kcb_padding_name(kcb_padding p) {
  return p == KCB_PADDING_SAME ? "same" : p == KCB_PADDING_CAUSAL ? "causal" : "valid";
}

int64_t kcb__window_out(int64_t in, int k, int stride, int dilation, kcb_padding padding, int *pad_before) {
  int64_t span = (int64_t)(k - 1) * dilation + 1;
  *pad_before = 0;
  if (padding == KCB_PADDING_SAME) {
    int64_t out = (in + stride - 1) / stride;
    int64_t total = (out - 1) * stride + span - in;
    if (total > 0) *pad_before = (int)(total / 2); /* the odd one goes after, as TensorFlow */
    return out;
  }
  if (padding == KCB_PADDING_CAUSAL) {
    *pad_before = (int)(span - 1);
    return (in - 1) / stride + 1;
  }
  return in >= span ? (in - span) / stride + 1 : 0;
}

static int add_conv(kcb_model *m, const kcb_conv_options *o, int two_d) {
  const char *cls = two_d ? "Conv2D" : "Conv1D";
  KCB__MODEL_GIVEN(m, cls);
  if (!o) return kcb__error(KCB_EINVAL, "%s needs options", cls);
  int dims = two_d ? 2 : 1;
  if (o->filters <= 0) return kcb__error(KCB_EINVAL, "%s needs filters > 0, got %d", cls, o->filters);
  int strided = 0, dilated = 0;
  for (int d = 0; d < dims; d++) {
    if (o->kernel_size[d] <= 0 || o->strides[d] <= 0 || o->dilation_rate[d] <= 0)
      return kcb__error(KCB_EINVAL, "%s: kernel_size, strides and dilation_rate must be positive", cls);
    strided |= o->strides[d] > 1, dilated |= o->dilation_rate[d] > 1;
  }
  if (strided && dilated) /* on any axes: Keras's base_conv refuses max(strides) > 1 with max(dilation_rate) > 1 */
    return kcb__error(KCB_EINVAL, "%s: strides > 1 together with dilation_rate > 1 is not supported (as in Keras)", cls);
  if ((unsigned)o->activation >= KCB_ACT_COUNT || (unsigned)o->kernel_initializer >= KCB_INIT_COUNT ||
      (unsigned)o->bias_initializer >= KCB_INIT_COUNT || (unsigned)o->padding >= KCB_PADDING_COUNT)
    return kcb__error(KCB_EINVAL, "%s: unknown activation, padding or initializer", cls);
  if (two_d && o->padding == KCB_PADDING_CAUSAL)
    return kcb__error(KCB_EINVAL, "%s: padding causal is for Conv1D only (as in Keras); use valid or same", cls);
  int rank;
  int64_t shape[KCB_MAX_RANK];
  kcb__model_current_shape(m, &rank, shape);
  if (rank != dims + 1)
    return kcb__error(KCB_EINVAL, "%s expects inputs of rank %d (%s, channels) per sample, got rank %d", cls, dims + 1,
                      two_d ? "height, width" : "steps", rank);
  kcb__geom g = {0};
  g.h = two_d ? shape[0] : 1;
  g.w = shape[dims - 1];
  g.c = shape[dims];
  g.groups = o->groups;
  if (o->groups < 1 || g.c % o->groups || o->filters % o->groups)
    return kcb__error(KCB_EINVAL, "%s: groups=%d must divide the input channels (%lld) and filters (%d)", cls, o->groups,
                      (long long)g.c, o->filters);
  g.kh = two_d ? o->kernel_size[0] : 1;
  g.kw = o->kernel_size[dims - 1];
  g.sh = two_d ? o->strides[0] : 1;
  g.sw = o->strides[dims - 1];
  g.dh = two_d ? o->dilation_rate[0] : 1;
  g.dw = o->dilation_rate[dims - 1];
  g.oh = kcb__window_out(g.h, g.kh, g.sh, g.dh, two_d ? o->padding : KCB_PADDING_VALID, &g.pad_top);
  g.ow = kcb__window_out(g.w, g.kw, g.sw, g.dw, o->padding, &g.pad_left);
  g.oc = o->filters;
  if ((g.oh < 1 || g.ow < 1) && !two_d) /* the sizes as given: one number each */
    return kcb__error(KCB_EINVAL, "%s: a kernel of %d (dilation %d) does not fit an input of %lld steps with padding valid",
                      cls, g.kw, g.dw, (long long)g.w);
  if (g.oh < 1 || g.ow < 1)
    return kcb__error(KCB_EINVAL, "%s: a kernel of %dx%d (dilation %dx%d) does not fit an input of %lldx%lld with padding valid",
                      cls, g.kh, g.kw, g.dh, g.dw, (long long)g.h, (long long)g.w);
  int64_t kernel_dims[4] = {g.kh, g.kw, g.c / g.groups, g.oc}, out_dims[3] = {g.oh, g.ow, g.oc}, size;
  if (kcb__size_within(&size, kernel_dims, 4, KCB__MAX_VAR_FLOATS) || kcb__size_within(&size, out_dims, 3, KCB__MAX_LAYER_FLOATS))
    return kcb__error(KCB_EINVAL, "%s: %d filters of %dx%d over %lldx%lldx%lld inputs is too large", cls, o->filters, g.kh, g.kw,
                      (long long)g.h, (long long)g.w, (long long)g.c);
  kcb__layer *l = NULL;
  int rc = kcb__model_append_layer(m, two_d ? KCB__CONV2D : KCB__CONV1D, o->name, &l);
  if (rc) return rc;
  l->conv = *o;
  l->conv.name = NULL;
  l->activation = o->activation;
  l->geom = g;
  if (two_d) l->out_shape[0] = g.oh;
  l->out_shape[dims - 1] = g.ow;
  l->out_shape[dims] = g.oc;
  int64_t cin_g = g.c / g.groups, field = (int64_t)g.kh * g.kw;
  kcb__var *k = &l->vars[0];
  *k = (kcb__var){"kernel", dims + 2, {0}, (size_t)(field * cin_g * g.oc), 0, 1, o->kernel_initializer,
                  field * cin_g, field * g.oc};
  int r = 0;
  if (two_d) k->shape[r++] = g.kh;
  k->shape[r++] = g.kw;
  k->shape[r++] = cin_g;
  k->shape[r] = g.oc;
  l->vars[1] = (kcb__var){"bias", 1, {g.oc}, (size_t)g.oc, 0, 1, o->bias_initializer, field * cin_g, field * g.oc};
  l->n_vars = o->use_bias ? 2 : 1;
  if ((rc = kcb__model_check_layer(m, l))) return rc;
  kcb__model_finish_layer(m, l);
  return 0;
}

int kcb_model_add_conv2d(kcb_model *m, const kcb_conv_options *opts) { return add_conv(m, opts, 1); }
int kcb_model_add_conv1d(kcb_model *m, const kcb_conv_options *opts) { return add_conv(m, opts, 0); }

/* A 1x1 kernel over every pixel: the input itself is the im2col matrix. */
static int is_pointwise(const kcb__geom *g) {
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->groups == 1;
}

static int64_t col_per_sample(const kcb__geom *g) { return g->oh * g->ow * g->kh * g->kw * (g->c / g->groups); }

size_t kcb__conv_col_size(kcb__layer *l, int64_t batch) {
  const kcb__geom *g = &l->geom;
  l->conv_keep_col = 0;
  if (is_pointwise(g)) {
    l->conv_chunk = batch;
    return 0;
  }
  int64_t per_sample = col_per_sample(g);
  /* Ungrouped im2col layers keep the whole batch's matrix when it is not too large, so that
   * backward need not unfold the input again (direct layers only need scratch for dx). */
  if (!kcb__conv_direct_eligible(g) && g->groups == 1 && per_sample <= COL_KEEP_MAX / batch) {
    l->conv_keep_col = 1;
    l->conv_chunk = batch;
    return 0;
  }
  int64_t chunk = COL_TARGET / per_sample;
  if (chunk < 1) chunk = 1;
  if (chunk > batch) chunk = batch;
  l->conv_chunk = chunk;
  return (size_t)(chunk * per_sample);
}

int64_t kcb__conv_kept_col_size(const kcb__layer *l, int64_t batch) {
  return l->conv_keep_col ? col_per_sample(&l->geom) * batch : 0;
}

/* dst += src, as a function with restrict parameters so that it vectorises. */
static void add_into(float *restrict dst, const float *restrict src, int64_t n) {
  for (int64_t i = 0; i < n; i++) dst[i] += src[i];
}

/* Unfolds group `grp` of n samples of x (h, w, c) into col (n * oh * ow, kh * kw * cin_g); or,
 * given `fold_into` instead of x, adds col back into it (zeroed by the caller): the adjoint. */
static void unfold(const kcb__geom *g, const float *x, float *fold_into, float *col, int64_t n, int grp) {
  const int fold = fold_into != NULL;
  const int64_t cin_g = g->c / g->groups, row_len = (int64_t)g->kw * cin_g;
  const int64_t coff = grp * cin_g;
  const int contiguous = g->dw == 1 && cin_g == g->c; /* a kernel row reads kw * c adjacent floats */
  float *dst = col;
  for (int64_t s = 0; s < n; s++) {
    const float *xs = fold ? NULL : x + s * g->h * g->w * g->c;
    float *fs = fold ? fold_into + s * g->h * g->w * g->c : NULL;
    for (int64_t oy = 0; oy < g->oh; oy++)
      for (int64_t ox = 0; ox < g->ow; ox++)
        for (int i = 0; i < g->kh; i++) {
          int64_t iy = oy * g->sh - g->pad_top + (int64_t)i * g->dh;
          if (iy < 0 || iy >= g->h) {
            if (!fold) memset(dst, 0, (size_t)row_len * sizeof *dst);
            dst += row_len;
            continue;
          }
          const int64_t row_at = iy * g->w * g->c + coff;
          const int64_t ix0 = ox * g->sw - g->pad_left;
          if (contiguous && ix0 >= 0 && ix0 + g->kw <= g->w) { /* the kernel row's inputs are adjacent */
            if (fold) add_into(fs + row_at + ix0 * g->c, dst, row_len);
            else memcpy(dst, xs + row_at + ix0 * g->c, (size_t)row_len * sizeof *dst);
            dst += row_len;
            continue;
          }
          for (int j = 0; j < g->kw; j++, dst += cin_g) {
            int64_t ix = ox * g->sw - g->pad_left + (int64_t)j * g->dw;
            if (ix < 0 || ix >= g->w) {
              if (!fold) memset(dst, 0, (size_t)cin_g * sizeof *dst);
              continue;
            }
            const int64_t at = row_at + ix * g->c;
            if (fold)
              add_into(fs + at, dst, cin_g);
            else if (cin_g == 1)
              dst[0] = xs[at];
            else
              memcpy(dst, xs + at, (size_t)cin_g * sizeof *dst);
          }
        }
  }
}

/* Unfolding over the pool's threads (core/pool.c), by samples: each part writes its own rows of col. */
typedef struct unfold_job {
  const kcb__geom *g;
  const float *x;
  float *col;
  int grp;
} unfold_job;

static void unfold_part(void *ctx, int part, int64_t s0, int64_t s1) {
  const unfold_job *j = ctx;
  const int64_t in = j->g->h * j->g->w * j->g->c;
  (void)part;
  unfold(j->g, j->x + s0 * in, NULL, j->col + s0 * col_per_sample(j->g), s1 - s0, j->grp);
}

static void unfold_parallel(const kcb__geom *g, const float *x, float *col, int64_t n, int grp) {
  unfold_job j = {g, x, col, grp};
  kcb__parallel(n, 16384 / col_per_sample(g) + 1, 1, unfold_part, &j);
}

void kcb__conv_forward(kcb_model *m, kcb__layer *l, const float *x, int64_t batch) {
  const kcb__geom *g = &l->geom;
  const int64_t pixels = g->oh * g->ow, F = g->oc, in_size = g->h * g->w * g->c;
  const float *kernel = m->params + l->vars[0].offset;
  float *dst = l->pre ? l->pre : l->out;
  const float *bias = l->conv.use_bias ? m->params + l->vars[1].offset : NULL;
  if (kcb__conv_direct_eligible(g)) { /* bias and activation included */
    kcb__conv_direct_forward(g, x, kernel, bias, l->activation, dst, l->out, batch);
    return;
  }
  if (is_pointwise(g)) {
    kcb__sgemm(0, 0, (int)(batch * pixels), (int)F, (int)g->c, 1.0f, x, kernel, 0.0f, dst);
  } else {
    const int64_t cin_g = g->c / g->groups, F_g = F / g->groups, K_g = (int64_t)g->kh * g->kw * cin_g;
    for (int64_t s0 = 0; s0 < batch; s0 += l->conv_chunk) {
      int64_t n = batch - s0 < l->conv_chunk ? batch - s0 : l->conv_chunk;
      float *col = l->conv_keep_col ? l->col : m->col;
      for (int grp = 0; grp < g->groups; grp++) {
        unfold_parallel(g, x + s0 * in_size, col, n, grp);
        kcb__sgemm_ld(0, 0, (int)(n * pixels), (int)F_g, (int)K_g, 1.0f, col, (int)K_g, kernel + grp * F_g, (int)F,
                      0.0f, dst + s0 * pixels * F + grp * F_g, (int)F);
      }
    }
  }
  kcb__bias_activation_forward(l->activation, bias, dst, l->out, batch * pixels, F);
}

/* dx for samples [s0, s0 + n) and group grp: col = gy * kernel^T, folded back into dx (zeroed by
 * the caller). */
static void input_gradient(const kcb__layer *l, const float *kernel, const float *gy, float *dx, float *col, int64_t s0,
                           int64_t n, int grp) {
  const kcb__geom *g = &l->geom;
  const int64_t pixels = g->oh * g->ow, F = g->oc, F_g = F / g->groups;
  const int64_t K_g = (int64_t)g->kh * g->kw * (g->c / g->groups);
  kcb__sgemm_ld(0, 1, (int)(n * pixels), (int)K_g, (int)F_g, 1.0f, gy + s0 * pixels * F + grp * F_g, (int)F,
                kernel + grp * F_g, (int)F, 0.0f, col, (int)K_g);
  unfold(g, NULL, dx + s0 * g->h * g->w * g->c, col, n, grp);
}

typedef struct dx_job {
  const kcb__layer *l;
  const float *kernel, *gy;
  float *dx, *col;
  int64_t chunk; /* samples per pass; each part has its own chunk's worth of col */
} dx_job;

static void dx_part(void *ctx, int part, int64_t s_begin, int64_t s_end) {
  const dx_job *j = ctx;
  const kcb__geom *g = &j->l->geom;
  float *col = j->col + part * j->chunk * col_per_sample(g);
  memset(j->dx + s_begin * g->h * g->w * g->c, 0, (size_t)((s_end - s_begin) * g->h * g->w * g->c) * sizeof *j->dx);
  for (int64_t s0 = s_begin; s0 < s_end; s0 += j->chunk)
    input_gradient(j->l, j->kernel, j->gy, j->dx, col, s0, s_end - s0 < j->chunk ? s_end - s0 : j->chunk, 0);
}

/* The input gradient of an ungrouped layer through `col` (room for `most` samples), in chunks of
 * samples whose unfolded gradient stays in L2 between sgemm writing it and unfold folding it.
 * The pool's threads take a share of the samples each, with their own chunk of col. */
static void input_gradient_chunked(const kcb__layer *l, const float *kernel, const float *gy, float *dx, float *col,
                                   int64_t batch, int64_t most) {
  const int parts = kcb__pool_parts();
  const int split = most >= parts; /* every part needs a share of col: otherwise one part has all of it */
  const int64_t chunk = DX_CHUNK_FLOATS / col_per_sample(&l->geom), room = split ? most / parts : most;
  dx_job j = {l, kernel, gy, dx, col, chunk < 1 ? 1 : chunk > room ? room : chunk};
  if (split) kcb__parallel(batch, j.chunk, 1, dx_part, &j);
  else dx_part(&j, 0, 0, batch);
}

void kcb__conv_backward(kcb_model *m, kcb__layer *l, float *gy, float *dx, int64_t batch) {
  const kcb__geom *g = &l->geom;
  const int64_t pixels = g->oh * g->ow, F = g->oc, in_size = g->h * g->w * g->c, rows = batch * pixels;
  const float *kernel = m->params + l->vars[0].offset;
  float *dkernel = m->grads + l->vars[0].offset, *dbias = l->conv.use_bias ? m->grads + l->vars[1].offset : NULL;
  if (kcb__conv_direct_eligible(g)) { /* ReLU's derivative and the bias gradient folded into the kernel gradient's pass */
    const int relu = l->activation == KCB_ACT_RELU;
    if (!relu && l->activation != KCB_ACT_LINEAR) {
      kcb__activation_bias_backward(l->activation, l->pre, l->out, gy, dbias, rows, F);
      dbias = NULL;
    }
    kcb__conv_direct_backward(g, l->in, relu, l->out, gy, dx != NULL, dkernel, dbias, batch);
    if (dx) input_gradient_chunked(l, kernel, gy, dx, m->col, batch, l->conv_chunk);
    return;
  }
  kcb__activation_bias_backward(l->activation, l->pre, l->out, gy, dbias, rows, F);
  if (is_pointwise(g)) {
    kcb__sgemm(1, 0, (int)g->c, (int)F, (int)rows, 1.0f, l->in, gy, 0.0f, dkernel);
    if (dx) kcb__sgemm(0, 1, (int)rows, (int)g->c, (int)F, 1.0f, gy, kernel, 0.0f, dx);
    return;
  }
  const int64_t F_g = F / g->groups, K_g = (int64_t)g->kh * g->kw * (g->c / g->groups);
  if (l->conv_keep_col) { /* forward's unfolded input, reused; then the buffer serves dx */
    kcb__sgemm(1, 0, (int)K_g, (int)F, (int)rows, 1.0f, l->col, gy, 0.0f, dkernel);
    if (dx) input_gradient_chunked(l, kernel, gy, dx, l->col, batch, batch);
    return;
  }
  for (int64_t s0 = 0; s0 < batch; s0 += l->conv_chunk) {
    int64_t n = batch - s0 < l->conv_chunk ? batch - s0 : l->conv_chunk;
    if (dx) memset(dx + s0 * in_size, 0, (size_t)(n * in_size) * sizeof *dx);
    for (int grp = 0; grp < g->groups; grp++) {
      unfold_parallel(g, l->in + s0 * in_size, m->col, n, grp);
      kcb__sgemm_ld(1, 0, (int)K_g, (int)F_g, (int)(n * pixels), 1.0f, m->col, (int)K_g, gy + s0 * pixels * F + grp * F_g,
                    (int)F, s0 ? 1.0f : 0.0f, dkernel + grp * F_g, (int)F);
      if (dx) input_gradient(l, kernel, gy, dx, m->col, s0, n, grp);
    }
  }
}
