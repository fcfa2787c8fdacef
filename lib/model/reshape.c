/* model/reshape.c — layers that move, mask or rescale values without weights: Reshape,
 * ZeroPadding2D, SpatialDropout2D (channels_last), Rescaling. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "model/model_internal.h"

int kcb_model_add_reshape(kcb_model *m, int rank, const int64_t *target) {
  KCB__MODEL_GIVEN(m, "Reshape");
  if (!target) return kcb__error(KCB_EINVAL, "Reshape: no target shape given");
  if (rank < 1 || rank >= KCB_MAX_RANK)
    return kcb__error(KCB_EINVAL, "Reshape: target shape needs 1 to %d dimensions, got %d", KCB_MAX_RANK - 1, rank);
  int in_rank, unknown = -1, too_big = 0;
  int64_t in_shape[KCB_MAX_RANK], in_size = 1, known = 1;
  kcb__model_current_shape(m, &in_rank, in_shape);
  for (int i = 0; i < in_rank; i++) in_size *= in_shape[i];
  char want[160], have[160];
  kcb__shape_str(want, sizeof want, rank, target);
  kcb__shape_str(have, sizeof have, in_rank, in_shape);
  for (int i = 0; i < rank; i++) {
    if (target[i] == -1 && unknown < 0) unknown = i;
    else if (target[i] == -1) return kcb__error(KCB_EINVAL, "Reshape: the target %s has more than one -1 (one size may be inferred)", want);
    else if (target[i] <= 0) return kcb__error(KCB_EINVAL, "Reshape: the target %s has a size of %lld (sizes are positive, or -1 for one inferred)", want, (long long)target[i]);
    else if (target[i] <= in_size && known <= in_size / target[i]) known *= target[i];
    else too_big = 1; /* more values than the input has: said below */
  }
  if (too_big || (unknown >= 0 ? in_size % known != 0 : known != in_size))
    return kcb__error(KCB_EINVAL, "Reshape: the input %s holds %lld values per sample, which the target %s cannot hold%s", have,
                      (long long)in_size, want, unknown >= 0 ? " whatever size -1 stands for" : " (the total must not change)");
  kcb__layer *l = NULL;
  int rc = kcb__model_append_layer(m, KCB__RESHAPE, NULL, &l);
  if (rc) return rc;
  l->target_rank = rank;
  memcpy(l->target_shape, target, (size_t)rank * sizeof *target);
  l->out_rank = rank;
  for (int i = 0; i < rank; i++) l->out_shape[i] = i == unknown ? in_size / known : target[i];
  kcb__model_finish_layer(m, l);
  return 0;
}

int kcb_model_add_rescaling(kcb_model *m, double scale, double offset) {
  KCB__MODEL_GIVEN(m, "Rescaling");
  if (!(fabs(scale) <= FLT_MAX) || !(fabs(offset) <= FLT_MAX)) /* NaN fails too; a larger double is no float */
    return kcb__error(KCB_EINVAL, "Rescaling: scale and offset must be finite float32 numbers, got %g and %g", scale, offset);
  kcb__layer *l = NULL;
  int rc = kcb__model_append_layer(m, KCB__RESCALING, NULL, &l);
  if (rc) return rc;
  l->rescale = (float)scale, l->offset = (float)offset; /* float32, as Keras casts them */
  l->rescale_given = scale, l->offset_given = offset;
  kcb__model_finish_layer(m, l);
  return 0;
}

void kcb__rescaling_forward(kcb__layer *l, const float *x, int64_t n) {
  for (int64_t j = 0; j < n; j++) l->out[j] = x[j] * l->rescale + l->offset;
}

void kcb__rescaling_backward(const kcb__layer *l, float *gy, int64_t n) {
  for (int64_t j = 0; j < n; j++) gy[j] *= l->rescale;
}

static int input_hwc(kcb_model *m, const char *cls, kcb__geom *g) {
  KCB__MODEL_GIVEN(m, cls);
  int rank;
  int64_t shape[KCB_MAX_RANK];
  kcb__model_current_shape(m, &rank, shape);
  if (rank != 3) return kcb__error(KCB_EINVAL, "%s expects (height, width, channels) samples, got rank %d", cls, rank);
  memset(g, 0, sizeof *g);
  g->h = shape[0], g->w = shape[1], g->c = g->oc = shape[2];
  return 0;
}

int kcb_model_add_zero_padding2d(kcb_model *m, int top, int bottom, int left, int right) {
  kcb__geom g;
  int rc = input_hwc(m, "ZeroPadding2D", &g);
  if (rc) return rc;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) return kcb__error(KCB_EINVAL, "ZeroPadding2D: padding must be >= 0");
  g.pad_top = top, g.pad_left = left;
  g.oh = g.h + top + bottom, g.ow = g.w + left + right;
  int64_t dims[3] = {g.oh, g.ow, g.c}, size;
  if (kcb__size_within(&size, dims, 3, KCB__MAX_LAYER_FLOATS)) return kcb__error(KCB_EINVAL, "ZeroPadding2D: the padded output is too large");
  kcb__layer *l = NULL;
  if ((rc = kcb__model_append_layer(m, KCB__ZERO_PADDING2D, NULL, &l))) return rc;
  l->geom = g;
  l->out_shape[0] = g.oh;
  l->out_shape[1] = g.ow;
  kcb__model_finish_layer(m, l);
  return 0;
}

void kcb__zero_padding_forward(const kcb__layer *l, const float *x, float *out, int64_t batch) {
  const kcb__geom *g = &l->geom;
  const int64_t row_in = g->w * g->c, row_out = g->ow * g->c;
  memset(out, 0, (size_t)(batch * g->oh * row_out) * sizeof *out);
  for (int64_t s = 0; s < batch; s++)
    for (int64_t y = 0; y < g->h; y++)
      memcpy(out + (s * g->oh + y + g->pad_top) * row_out + g->pad_left * g->c, x + (s * g->h + y) * row_in,
             (size_t)row_in * sizeof *out);
}

void kcb__zero_padding_backward(const kcb__layer *l, const float *gy, float *dx, int64_t batch) {
  const kcb__geom *g = &l->geom;
  const int64_t row_in = g->w * g->c, row_out = g->ow * g->c;
  for (int64_t s = 0; s < batch; s++)
    for (int64_t y = 0; y < g->h; y++)
      memcpy(dx + (s * g->h + y) * row_in, gy + (s * g->oh + y + g->pad_top) * row_out + g->pad_left * g->c,
             (size_t)row_in * sizeof *dx);
}

int kcb_model_add_spatial_dropout2d(kcb_model *m, float rate) {
  kcb__geom g;
  int rc = input_hwc(m, "SpatialDropout2D", &g);
  if (rc) return rc;
  if (!(rate >= 0.0f && rate < 1.0f)) return kcb__error(KCB_EINVAL, "SpatialDropout2D rate must be in [0, 1), got %g", (double)rate);
  kcb__layer *l = NULL;
  if ((rc = kcb__model_append_layer(m, KCB__SPATIAL_DROPOUT2D, NULL, &l))) return rc;
  l->rate = rate;
  l->geom = g;
  kcb__model_finish_layer(m, l);
  return 0;
}

void kcb__spatial_dropout_forward(kcb_model *m, kcb__layer *l, const float *x, int64_t batch, int training) {
  const int64_t C = l->geom.c, pixels = l->geom.h * l->geom.w;
  l->dropout_active = training && l->rate > 0;
  if (!l->dropout_active) {
    l->y = x;
    return;
  }
  kcb__dropout_mask(&m->dropout_rng, l->rate, l->mask, batch * C);
  for (int64_t s = 0; s < batch; s++)
    for (int64_t p = 0; p < pixels; p++)
      for (int64_t c = 0; c < C; c++) {
        int64_t at = (s * pixels + p) * C + c;
        l->out[at] = x[at] * l->mask[s * C + c];
      }
  l->y = l->out;
}

void kcb__spatial_dropout_backward(const kcb__layer *l, float *gy, int64_t batch) {
  if (!l->dropout_active) return;
  const int64_t C = l->geom.c, pixels = l->geom.h * l->geom.w;
  for (int64_t s = 0; s < batch; s++)
    for (int64_t p = 0; p < pixels; p++)
      for (int64_t c = 0; c < C; c++) gy[(s * pixels + p) * C + c] *= l->mask[s * C + c];
}
