/* kcb/tensor.h — float32 tensors: a data pointer with a row-major shape. */
#ifndef KCB_TENSOR_H
#define KCB_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The largest rank a kcb tensor has. */
#define KCB_MAX_RANK 6

/** A float32 tensor, row-major. The first axis of data passed to fit/evaluate/predict is the
 * sample axis. A tensor made by kcb_tensor_new owns its data; one made by kcb_tensor_view borrows it. */
typedef struct kcb_tensor {
  float *data;                   /* prod(shape) floats, row-major */
  int rank;                      /* 0..KCB_MAX_RANK */
  int64_t shape[KCB_MAX_RANK];   /* shape[0..rank) */
  int owns_data;                 /* 1 if kcb_tensor_free releases data */
} kcb_tensor;

/** Allocates a zero-filled tensor of the given shape.
 * @param[out] out receives a tensor the caller frees with kcb_tensor_free.
 * @return 0 or KCB_EINVAL (bad rank or negative dimension) / KCB_ENOMEM. */
int kcb_tensor_new(kcb_tensor **out, int rank, const int64_t *shape);

/** A tensor that borrows `data` (not copied, not freed); returned by value, nothing to free. */
kcb_tensor kcb_tensor_view(float *data, int rank, const int64_t *shape);

/** The number of elements: the product of the shape (1 for rank 0; 0 for NULL; INT64_MAX when
 * the product does not fit in int64_t). */
int64_t kcb_tensor_size(const kcb_tensor *t);

/** Elements per sample: the product of shape[1..rank) (1 for rank <= 1; as kcb_tensor_size
 * for NULL and overflow). */
int64_t kcb_tensor_sample_size(const kcb_tensor *t);

/** Writes the shape as "(60000, 28, 28)" into buf (always NUL-terminated; "()" for a NULL
 * tensor). @return buf. */
char *kcb_tensor_shape_string(const kcb_tensor *t, char *buf, size_t size);

/** Frees a tensor made by kcb_tensor_new (and its data if it owns it). Accepts NULL. */
void kcb_tensor_free(kcb_tensor *t);

#ifdef __cplusplus
}
#endif
#endif
