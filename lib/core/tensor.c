/* core/tensor.c — float32 tensors. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The product of the dimensions from `from` on; INT64_MAX when it does not fit (a view may carry
 * any shape), so that no caller sees it wrap. */
static int64_t shape_product(int rank, const int64_t *shape, int from) {
  int64_t n = 1;
  if (rank > KCB_MAX_RANK) return INT64_MAX; /* a struct filled in by hand: shape[] holds no more */
  for (int i = from; i < rank; i++)
    if (shape[i] < 0 || __builtin_mul_overflow(n, shape[i], &n)) return INT64_MAX;
  return n;
}

int kcb_tensor_new(kcb_tensor **out, int rank, const int64_t *shape) {
  if (!out) return kcb__error(KCB_EINVAL, "kcb_tensor_new: out is NULL");
  *out = NULL;
  if (rank < 0 || rank > KCB_MAX_RANK) return kcb__error(KCB_EINVAL, "tensor rank %d is outside 0..%d", rank, KCB_MAX_RANK);
  if (rank > 0 && !shape) return kcb__error(KCB_EINVAL, "kcb_tensor_new: shape is NULL for rank %d", rank);
  for (int i = 0; i < rank; i++)
    if (shape[i] < 0) return kcb__error(KCB_EINVAL, "tensor dimension %d is negative (%lld)", i, (long long)shape[i]);
  char text[160];
  int64_t n = shape_product(rank, shape, 0);
  if (n == INT64_MAX || (uint64_t)n > SIZE_MAX / sizeof(float))
    return kcb__error(KCB_ENOMEM, "tensor of shape %s: more floats than memory can address",
                      kcb__shape_str(text, sizeof text, rank, shape));
  kcb_tensor *t = calloc(1, sizeof *t);
  if (!t) return kcb__error(KCB_ENOMEM, "out of memory allocating a tensor");
  t->data = calloc((size_t)(n > 0 ? n : 1), sizeof(float));
  if (!t->data) {
    free(t);
    return kcb__error(KCB_ENOMEM, "out of memory allocating a tensor of %lld floats", (long long)n);
  }
  t->rank = rank;
  for (int i = 0; i < rank; i++) t->shape[i] = shape[i];
  t->owns_data = 1;
  *out = t;
  return 0;
}

kcb_tensor kcb_tensor_view(float *data, int rank, const int64_t *shape) {
  kcb_tensor t;
  memset(&t, 0, sizeof t);
  t.data = data;
  t.rank = rank < 0 || !shape ? 0 : rank > KCB_MAX_RANK ? KCB_MAX_RANK : rank;
  for (int i = 0; i < t.rank; i++) t.shape[i] = shape[i];
  return t;
}

int64_t kcb_tensor_size(const kcb_tensor *t) { return t ? shape_product(t->rank, t->shape, 0) : 0; }

int64_t kcb_tensor_sample_size(const kcb_tensor *t) { return t ? shape_product(t->rank, t->shape, 1) : 0; }

char *kcb__shape_str(char *buf, size_t size, int rank, const int64_t *shape) {
  if (size == 0) return buf;
  if (rank > KCB_MAX_RANK) rank = KCB_MAX_RANK;
  size_t used = (size_t)snprintf(buf, size, "(");
  for (int i = 0; i < rank && used < size; i++)
    used += (size_t)snprintf(buf + used, size - used, "%s%lld", i ? ", " : "", (long long)shape[i]);
  if (used < size) snprintf(buf + used, size - used, rank == 1 ? ",)" : ")");
  return buf;
}

char *kcb_tensor_shape_string(const kcb_tensor *t, char *buf, size_t size) {
  if (!t) {
    kcb__strlcpy(buf, "()", size);
    return buf;
  }
  return kcb__shape_str(buf, size, t->rank, t->shape);
}

int kcb__tensor_check(const kcb_tensor *t, const char *what, const char *name) {
  if (!t || !t->data) return kcb__error(KCB_EINVAL, "%s: %s is missing", what, name);
  if (t->rank < 1 || t->rank > KCB_MAX_RANK)
    return kcb__error(KCB_ESHAPE, "%s: %s has rank %d, outside 1..%d", what, name, t->rank, KCB_MAX_RANK);
  for (int i = 0; i < t->rank; i++)
    if (t->shape[i] < 0)
      return kcb__error(KCB_ESHAPE, "%s: %s's dimension %d is negative (%lld)", what, name, i, (long long)t->shape[i]);
  int64_t n = shape_product(t->rank, t->shape, 0);
  if (n == INT64_MAX || (uint64_t)n > SIZE_MAX / sizeof(float)) {
    char text[160];
    return kcb__error(KCB_ESHAPE, "%s: %s's shape %s holds more floats than memory can address", what, name,
                      kcb__shape_str(text, sizeof text, t->rank, t->shape));
  }
  return 0;
}

void kcb_tensor_free(kcb_tensor *t) {
  if (!t) return;
  if (t->owns_data) free(t->data);
  free(t);
}

float *kcb__alloc_floats(size_t n) {
  n = kcb__floats_to_line(n ? n : 1);
  if (n > SIZE_MAX / sizeof(float)) return NULL;
  return aligned_alloc(64, n * sizeof(float)); /* a size of whole lines, as C11 asks */
}
