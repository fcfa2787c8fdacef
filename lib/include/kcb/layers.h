/* kcb/layers.h — convolution, pooling, normalization and reshaping layers for the Sequential
 * model, with Keras 3's names, defaults, semantics (channels_last) and variable order. */
#ifndef KCB_LAYERS_H
#define KCB_LAYERS_H

#include <stdint.h>

#include "kcb/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Keras's padding modes. `same` follows TensorFlow's rule: out = ceil(in / stride), the missing
 * rows/columns split with the odd one after (bottom, right). `causal` (Conv1D only, as in Keras)
 * pads dilation x (kernel - 1) steps before the input and none after, so that output t sees
 * inputs up to t only: out = ceil(in / stride). */
typedef enum kcb_padding { KCB_PADDING_VALID, KCB_PADDING_SAME, KCB_PADDING_CAUSAL, KCB_PADDING_COUNT } kcb_padding;

/** Parses "valid" / "same" / "causal". @return 0 or KCB_EKEY. */
int kcb_padding_from_name(kcb_padding *out, const char *name);
/** "valid", "same" or "causal". @return a static string. */
const char *kcb_padding_name(kcb_padding p);

/** Conv1D / Conv2D arguments. For Conv1D only index 0 of the pairs is read. */
typedef struct kcb_conv_options {
  int filters;
  int kernel_size[2];              /* (height, width) */
  int strides[2];                  /* default (1, 1) */
  kcb_padding padding;             /* default valid */
  int dilation_rate[2];            /* default (1, 1); with strides > 1 Keras refuses it too */
  int groups;                      /* default 1; must divide the input channels and filters */
  kcb_activation activation;       /* default linear */
  int use_bias;                    /* default 1 */
  kcb_initializer kernel_initializer; /* default glorot_uniform */
  kcb_initializer bias_initializer;   /* default zeros */
  const char *name;                /* NULL: "conv2d", "conv2d_1", ... */
} kcb_conv_options;
#define KCB_CONV_OPTIONS_INIT \
  {0, {3, 3}, {1, 1}, KCB_PADDING_VALID, {1, 1}, 1, KCB_ACT_LINEAR, 1, KCB_INIT_GLOROT_UNIFORM, KCB_INIT_ZEROS, NULL}

/** Adds Conv2D on (height, width, channels) inputs: kernel (kh, kw, channels / groups, filters),
 * bias (filters). @return 0, KCB_EINVAL (bad option, wrong input rank, output smaller than 1),
 * KCB_ESTATE (after compile). */
int kcb_model_add_conv2d(kcb_model *m, const kcb_conv_options *opts);
/** Adds Conv1D on (steps, channels) inputs: kernel (k, channels / groups, filters). */
int kcb_model_add_conv1d(kcb_model *m, const kcb_conv_options *opts);

/** Pooling layers, by their Keras class. */
typedef enum kcb_pooling {
  KCB_MAX_POOLING1D, KCB_MAX_POOLING2D, KCB_AVERAGE_POOLING1D, KCB_AVERAGE_POOLING2D,
  KCB_GLOBAL_MAX_POOLING1D, KCB_GLOBAL_MAX_POOLING2D, KCB_GLOBAL_AVERAGE_POOLING1D,
  KCB_GLOBAL_AVERAGE_POOLING2D, KCB_POOLING_COUNT
} kcb_pooling;

/** Pooling arguments (the global poolings read keepdims and name only). */
typedef struct kcb_pooling_options {
  int pool_size[2];      /* default (2, 2); 1D reads index 0 */
  int strides[2];        /* 0: pool_size, as Keras's strides=None */
  kcb_padding padding;   /* default valid; max pads with -inf, average divides by real entries */
  int keepdims;          /* global poolings: keep the spatial axes as size 1 */
  const char *name;
} kcb_pooling_options;
#define KCB_POOLING_OPTIONS_INIT {{2, 2}, {0, 0}, KCB_PADDING_VALID, 0, NULL}

/** Adds a pooling layer of the given kind. `opts` NULL means the defaults.
 * @return 0, KCB_EINVAL or KCB_ESTATE. */
int kcb_model_add_pooling(kcb_model *m, kcb_pooling kind, const kcb_pooling_options *opts);

/** BatchNormalization over the last axis. */
typedef struct kcb_batch_normalization_options {
  double momentum;  /* 0.99: moving = moving * momentum + batch * (1 - momentum) */
  double epsilon;   /* 1e-3 */
  int center;       /* 1: a beta variable */
  int scale;        /* 1: a gamma variable */
  const char *name;
} kcb_batch_normalization_options;
#define KCB_BATCH_NORMALIZATION_OPTIONS_INIT {0.99, 1e-3, 1, 1, NULL}

/** Adds BatchNormalization(axis=-1): variables gamma, beta (trainable), moving_mean,
 * moving_variance (non-trainable: kept in the parameter block and in checkpoints, never changed
 * by the optimizer). fit uses the batch's statistics (biased variance) and updates the moving
 * ones; evaluate, predict and validation use the moving ones. @return 0, KCB_EINVAL, KCB_ESTATE. */
int kcb_model_add_batch_normalization(kcb_model *m, const kcb_batch_normalization_options *opts);

/** LayerNormalization over the last axis of each sample (epsilon 1e-3; gamma, beta). `momentum`
 * is not read. */
int kcb_model_add_layer_normalization(kcb_model *m, const kcb_batch_normalization_options *opts);

/** Adds Reshape(target_shape): one entry may be -1 (inferred). @return 0 or KCB_EINVAL. */
int kcb_model_add_reshape(kcb_model *m, int rank, const int64_t *target_shape);

/** Adds ZeroPadding2D(((top, bottom), (left, right))) on (height, width, channels) inputs. */
int kcb_model_add_zero_padding2d(kcb_model *m, int top, int bottom, int left, int right);

/** Adds SpatialDropout2D(rate): in fit, drops whole channels of each sample (scaling kept ones
 * by 1/(1-rate)); identity otherwise. Input (height, width, channels). */
int kcb_model_add_spatial_dropout2d(kcb_model *m, float rate);

/** Adds Rescaling(scale, offset): x * scale + offset on every value (Keras's preprocessing layer,
 * e.g. scale 1/255 for pixels; a scalar scale and offset, in float32). No weights.
 * @return 0, KCB_EINVAL (not finite) or KCB_ESTATE (after compile). */
int kcb_model_add_rescaling(kcb_model *m, double scale, double offset);

/* ---- model specs with these layers (model/spec.c) ------------------------------------- */

/** The spec a preset name stands for: "mlp" (flatten,256:relu,128:relu,10:softmax) or "cnn"
 * (a two-block convolutional network for 28x28 grey images). @return a static string, or NULL
 * when name is not a preset. */
const char *kcb_model_spec_preset(const char *name);

/** Whether spec (or the preset it names) starts with an input shape such as "28x28x1"; if so
 * fills rank and shape (without the batch axis). @return 1 or 0. */
int kcb_model_spec_input_shape(const char *spec, int *rank, int64_t *shape);

/** Creates a model from spec: its input shape is the spec's leading shape when it has one (which
 * must hold as many values per sample as data_shape), else data_shape.
 * Spec items beyond kcb_model_add_from_spec's Dense ones (2D forms on rank-3 inputs; conv,
 * maxpool, avgpool, gap and gmp also 1D on rank-2 inputs, where a size is one number): `conv:FILTERS:KERNEL[:same|:valid|:causal][:sN][:dN][:gN][:nobias][:ACTIVATION]` (KERNEL,
 * N as 3 or 3x5; s strides, d dilation, g groups), `maxpool[:POOL[:STRIDES]][:same]`,
 * `avgpool[...]`, `gap[:keepdims]`, `gmp[:keepdims]`, `bn`, `ln`, `reshape:SHAPE`,
 * `zeropad:N`, `spatialdropout:RATE`, `rescale:SCALE[:OFFSET]`. A reshape's SHAPE may hold one -1 (inferred). Each kind of
 * option is given at most once; empty items and options are refused.
 * @param[out] out freed with kcb_model_free. @return 0, KCB_EINVAL or KCB_ESHAPE. */
int kcb_model_new_from_spec(kcb_model **out, const char *spec, int rank, const int64_t *data_shape, uint64_t seed);

/** The model's per-sample input shape. @param[out] shape KCB_MAX_RANK entries. @return its rank. */
int kcb_model_input_shape(const kcb_model *m, int64_t *shape);
/** The model's per-sample output shape (its last layer's; the input's when it has no layers).
 * @param[out] shape KCB_MAX_RANK entries. @return its rank. */
int kcb_model_output_shape(const kcb_model *m, int64_t *shape);

#ifdef __cplusplus
}
#endif
#endif
