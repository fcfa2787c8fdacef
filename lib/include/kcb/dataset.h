/* kcb/dataset.h — loading the MNIST IDX format (Fashion-MNIST, MNIST), plain or gzip. */
#ifndef KCB_DATASET_H
#define KCB_DATASET_H

#include "kcb/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Where Debian's dataset-fashion-mnist package installs the data. */
#define KCB_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

/** Reads one IDX file of unsigned bytes (magic 0x00000803 images, 0x00000801 labels, any rank),
 * plain or gzip-compressed (detected from the content), into a float32 tensor with the file's
 * dimensions, each value multiplied by `scale` (1/255.0 for pixels, 1 for labels).
 * The header's magic, rank and dimensions are checked against the file's length.
 * @param[out] out freed with kcb_tensor_free.
 * @return 0, KCB_ENOENT, KCB_EIO, KCB_EFORMAT (bad magic, type or dimensions) or KCB_ETRUNC
 *         (fewer bytes than the header promises); the message names the file. */
int kcb_idx_load(kcb_tensor **out, const char *path, float scale);

/** A train/test split of an MNIST-format directory. */
typedef struct kcb_mnist {
  kcb_tensor *train_images; /* (n, 28, 28), values in [0, 1] */
  kcb_tensor *train_labels; /* (n,), class indices 0..9 */
  kcb_tensor *test_images;
  kcb_tensor *test_labels;
} kcb_mnist;

/** Loads `train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]`, `t10k-images-idx3-ubyte[.gz]`
 * and `t10k-labels-idx1-ubyte[.gz]` from dir (KCB_FASHION_MNIST_DIR when NULL), checking that
 * image and label counts agree and that both splits hold images of one size (KCB_ESHAPE names the
 * files otherwise). `limit` > 0 keeps only the first `limit` samples of each split (the files are
 * still read whole and checked; only those samples take memory as floats).
 * @return 0 or an error as kcb_idx_load; on error *out is left empty. */
int kcb_mnist_load(kcb_mnist *out, const char *dir, int64_t limit);

/** Frees the four tensors and empties the struct. Accepts NULL. */
void kcb_mnist_free(kcb_mnist *m);

#ifdef __cplusplus
}
#endif
#endif
