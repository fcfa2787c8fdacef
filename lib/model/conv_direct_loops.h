/* model/conv_direct_loops.h — the direct convolution's loops, included by conv_direct.c once per
 * instruction set: LOOP(name) names this copy, LOOP_ATTR is its target attribute and V the floats
 * in one vector (GCC vector extensions, which each target compiles to its own instructions). */

/* dst (batch, oh, ow, F) = bias + conv(x, kernel); out = activation(dst) (out may be dst): ReLU
 * and linear into dst as each block is stored, others row by row while the row is in L1. */
LOOP_ATTR static void LOOP(forward)(const kcb__geom *g, const float *x, const float *kernel, const float *bias,
                                    kcb_activation act, float *dst, float *out, int64_t batch) {
  typedef float vec __attribute__((vector_size(V * sizeof(float)), aligned(sizeof(float)), may_alias));
  typedef int32_t ivec __attribute__((vector_size(V * sizeof(float))));
  const int64_t F = g->oc, full = F - F % V, K = (int64_t)g->kh * g->kw * g->c;
  const int relu = act == KCB_ACT_RELU && dst == out, inline_act = relu || (act == KCB_ACT_LINEAR && dst == out);
  const vec zero = {0};
  float value[PIX][DIRECT_MAX_TAPS];
  int64_t offset[DIRECT_MAX_TAPS];
  tap_offsets(g, offset);
  for (int64_t s = 0; s < batch; s++) {
    const float *xs = x + s * g->h * g->w * g->c;
    for (int64_t oy = 0; oy < g->oh; oy++) {
      const int64_t first = (s * g->oh + oy) * g->ow;
      for (int64_t ox0 = 0; ox0 < g->ow; ox0 += PIX) {
        const int np = gather_pixels(g, xs, offset, oy, ox0, value);
        float *o = dst + (first + ox0) * F;
        for (int64_t f = 0; f < full; f += V) {
          const vec b = bias ? *(const vec *)(bias + f) : zero;
          vec a[PIX];
          for (int p = 0; p < PIX; p++) a[p] = b;
          for (int64_t t = 0; t < K; t++) {
            const vec w = *(const vec *)(kernel + t * F + f);
            for (int p = 0; p < PIX; p++) a[p] += w * value[p][t];
          }
          for (int p = 0; p < np; p++)
            *(vec *)(o + p * F + f) = relu ? (vec)((ivec)a[p] & ((ivec)(a[p] > zero) | (ivec)(a[p] != a[p]))) : a[p]; /* NaN kept */
        }
        for (int64_t f = full; f < F; f++)
          for (int p = 0; p < np; p++) {
            float acc = bias ? bias[f] : 0.0f;
            for (int64_t t = 0; t < K; t++) acc += kernel[t * F + f] * value[p][t];
            o[p * F + f] = relu ? (acc > 0 || acc != acc ? acc : 0.0f) : acc;
          }
      }
      if (!inline_act) kcb__activation_forward(act, dst + first * F, out + first * F, g->ow, F);
    }
  }
}

/* The backward pass in one read of gy: with relu, gy becomes gy * (out > 0) (stored back when
 * store_grad: the input gradient needs it); dbias (unless NULL) = the sum of that over outputs;
 * dkernel (kh, kw, C, F) = the sum over outputs of each tap's input times it. The (K, F) sums stay
 * in L1 through the whole batch. */
LOOP_ATTR static void LOOP(backward)(const kcb__geom *g, const float *x, int relu, const float *out, float *gy,
                                     int store_grad, float *dkernel, float *dbias, int64_t batch) {
  typedef float vec __attribute__((vector_size(V * sizeof(float)), aligned(sizeof(float)), may_alias));
  typedef int32_t ivec __attribute__((vector_size(V * sizeof(float))));
  const int64_t F = g->oc, full = F - F % V, K = (int64_t)g->kh * g->kw * g->c;
  const vec zero = {0};
  float value[PIX][DIRECT_MAX_TAPS];
  int64_t offset[DIRECT_MAX_TAPS];
  tap_offsets(g, offset);
  memset(dkernel, 0, (size_t)(K * F) * sizeof *dkernel);
  if (dbias) memset(dbias, 0, (size_t)F * sizeof *dbias);
  for (int64_t s = 0; s < batch; s++) {
    const float *xs = x + s * g->h * g->w * g->c;
    for (int64_t oy = 0; oy < g->oh; oy++)
      for (int64_t ox0 = 0; ox0 < g->ow; ox0 += PIX) {
        const int np = gather_pixels(g, xs, offset, oy, ox0, value);
        const int64_t at = ((s * g->oh + oy) * g->ow + ox0) * F;
        float *gp = gy + at;
        const float *op = relu ? out + at : NULL;
        for (int64_t f = 0; f < full; f += V) {
          vec gv[PIX];
          for (int p = 0; p < PIX; p++) {
            gv[p] = p < np ? *(const vec *)(gp + p * F + f) : zero;
            if (relu && p < np) {
              gv[p] = (vec)((ivec)gv[p] & (ivec)(*(const vec *)(op + p * F + f) > zero));
              if (store_grad) *(vec *)(gp + p * F + f) = gv[p];
            }
          }
          if (dbias) {
            vec sum = gv[0];
            for (int p = 1; p < PIX; p++) sum += gv[p];
            *(vec *)(dbias + f) += sum;
          }
          for (int64_t t = 0; t < K; t++) {
            vec d = gv[0] * value[0][t];
            for (int p = 1; p < PIX; p++) d += gv[p] * value[p][t];
            *(vec *)(dkernel + t * F + f) += d;
          }
        }
        for (int64_t f = full; f < F; f++)
          for (int p = 0; p < np; p++) {
            float gf = gp[p * F + f];
            if (relu) {
              gf = op[p * F + f] > 0 ? gf : 0.0f;
              if (store_grad) gp[p * F + f] = gf;
            }
            if (dbias) dbias[f] += gf;
            for (int64_t t = 0; t < K; t++) dkernel[t * F + f] += gf * value[p][t];
          }
      }
  }
}
