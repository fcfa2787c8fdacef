/* Writes models of every convolutional, pooling, normalization and reshaping layer and option for
 * tests/cli/forward_reference.py, which recomputes their predictions from the saved files alone,
 * with Keras's semantics, in numpy. For each model OUT/NAME.keras (random weights: biases, gammas,
 * betas and moving statistics included, so none is at its neutral value), OUT/NAME.x.f32 (3 input
 * samples) and OUT/NAME.y.f32 (kcb's predictions), float32 little-endian. The model loaded back from
 * its .keras and .h5 files must predict the same floats (else exit 1).
 * Usage: forward_models OUT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcb/kcb.h"

#define SAMPLES 3

static uint64_t rng_state = 20261203;

static float uniform(float lo, float hi) {
  rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return lo + (hi - lo) * (float)(rng_state >> 40) / (float)(1 << 24);
}

/* A ZeroPadding2D with four different sides and a BatchNormalization without beta. */
static int build_asymmetric(kcb_model *m) {
  kcb_batch_normalization_options bn = KCB_BATCH_NORMALIZATION_OPTIONS_INIT;
  bn.center = 0, bn.epsilon = 0.01;
  kcb_conv_options c = KCB_CONV_OPTIONS_INIT;
  c.filters = 3, c.kernel_size[0] = 2, c.kernel_size[1] = 3, c.strides[0] = 2, c.activation = KCB_ACT_RELU;
  kcb_pooling_options gap = KCB_POOLING_OPTIONS_INIT;
  kcb_dense_options d = KCB_DENSE_OPTIONS_INIT;
  d.units = 2;
  int rc = kcb_model_add_zero_padding2d(m, 1, 2, 0, 3);
  if (!rc) rc = kcb_model_add_batch_normalization(m, &bn);
  if (!rc) rc = kcb_model_add_conv2d(m, &c);
  if (!rc) rc = kcb_model_add_pooling(m, KCB_GLOBAL_AVERAGE_POOLING2D, &gap);
  if (!rc) rc = kcb_model_add_dense(m, &d);
  return rc;
}

static const struct model_case {
  const char *name;
  int rank;
  int64_t shape[3];
  const char *spec; /* NULL: build() */
  int (*build)(kcb_model *m);
} cases[] = {
    {"conv2d_options", 3, {9, 10, 3}, "conv:6:4:same:s2:tanh,conv:4:3:d2:same:relu,conv:6:2x3:g2:nobias:gelu,flatten,5:softmax", NULL},
    {"conv2d_pools", 3, {11, 9, 2},
     "conv:3:1:leaky_relu,maxpool:3:2:same,avgpool:2:1:same,conv:4:3x1:same:softplus,avgpool:2,gmp:keepdims,flatten,3", NULL},
    {"conv2d_norms", 3, {8, 8, 2},
     "rescale:0.5:-0.25,zeropad:1,conv:4:3:s2,bn,relu,spatialdropout:0.3,ln,reshape:16x4,gap,dropout:0.5,3:sigmoid", NULL},
    {"conv2d_dense_last_axis", 3, {6, 5, 2}, "conv:3:2:s2x1,3:relu,maxpool:2x1,gap:keepdims,reshape:3,2", NULL},
    {"conv1d_causal", 2, {20, 3}, "conv:4:3:causal:d2:relu,conv:5:4:same:s2,maxpool:2:1:same,avgpool:3:2,bn,gmp,4:softmax", NULL},
    {"conv1d_groups", 2, {16, 4}, "conv:6:5:same:g2:tanh,ln,avgpool:2:same,conv:3:1,gap:keepdims,flatten,2", NULL},
    {"conv2d_asymmetric", 3, {7, 6, 2}, NULL, build_asymmetric},
    {"activations", 3, {5, 5, 2},
     "conv:4:3:swish,conv:4:2:hard_swish,flatten,6:elu,6:selu,6:relu6,6:softsign,6:hard_sigmoid,6:mish,exponential,"
     "softplus,6:gelu,3:tanh", NULL},
};

static int write_floats(const char *out, const char *name, const char *what, const float *v, size_t n) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s.%s.f32", out, name, what);
  FILE *f = fopen(path, "wb");
  size_t wrote = f ? fwrite(v, sizeof *v, n, f) : 0;
  if (!f || fclose(f) || wrote != n) {
    fprintf(stderr, "forward_models: cannot write %s\n", path);
    return 1;
  }
  return 0;
}

static int fail(const char *name, const char *what) {
  fprintf(stderr, "forward_models: %s: %s: %s\n", name, what, kcb_error_last());
  return 1;
}

/* Random weights: gammas and moving variances near 1 (a variance must be positive), the rest
 * around 0, biases and betas included. */
static void randomize(kcb_model *m) {
  for (size_t i = 0; i < kcb_model_weight_count(m); i++) {
    kcb_weight_info w;
    kcb_model_weight(m, i, &w);
    int near_one = strcmp(w.name, "gamma") == 0 || strcmp(w.name, "moving_variance") == 0;
    for (size_t k = 0; k < w.size; k++) w.data[k] = near_one ? uniform(0.5f, 1.5f) : uniform(-0.6f, 0.6f);
  }
}

/* kcb_model_load of the file the model was saved to predicts the same floats. */
static int same_after_load(const char *path, const kcb_tensor *x, const kcb_tensor *y, const char *name) {
  kcb_model *back = NULL;
  kcb_tensor *y2 = NULL;
  kcb_evaluate_options eo = KCB_EVALUATE_OPTIONS_INIT;
  eo.verbose = 0;
  if (kcb_model_load(&back, path, NULL) || kcb_model_predict(back, x, &eo, &y2)) {
    kcb_model_free(back);
    return fail(name, path);
  }
  int differ = kcb_tensor_size(y2) != kcb_tensor_size(y) || memcmp(y2->data, y->data, (size_t)kcb_tensor_size(y) * sizeof(float)) != 0;
  if (differ) fprintf(stderr, "forward_models: %s: %s loaded back predicts other values\n", name, path);
  kcb_tensor_free(y2);
  kcb_model_free(back);
  return differ;
}

static int write_case(const char *out, const struct model_case *c) {
  kcb_model *m = NULL;
  kcb_tensor *x = NULL, *y = NULL;
  char path[1024];
  int rc = kcb_model_new(&m, c->rank, c->shape, 7);
  if (!rc) rc = c->spec ? kcb_model_add_from_spec(m, c->spec) : c->build(m);
  kcb_compile_options co = {0};
  co.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
  co.loss = KCB_LOSS_MEAN_SQUARED_ERROR;
  if (!rc) rc = kcb_model_compile(m, &co);
  if (rc) {
    kcb_model_free(m);
    return fail(c->name, "build");
  }
  randomize(m);
  int64_t xs[4] = {SAMPLES, c->shape[0], c->shape[1], c->shape[2]};
  kcb_evaluate_options eo = KCB_EVALUATE_OPTIONS_INIT;
  eo.verbose = 0;
  rc = kcb_tensor_new(&x, c->rank + 1, xs);
  if (!rc) {
    for (int64_t i = 0; i < kcb_tensor_size(x); i++) x->data[i] = uniform(-1, 1);
    rc = kcb_model_predict(m, x, &eo, &y);
  }
  if (rc) {
    kcb_tensor_free(x);
    kcb_model_free(m);
    return fail(c->name, "predict");
  }
  static const char *const layouts[] = {"keras", "h5"};
  for (int l = 0; l < 2 && !rc; l++) {
    snprintf(path, sizeof path, "%s/%s.%s", out, c->name, layouts[l]);
    rc = kcb_model_save(m, path, NULL) ? fail(c->name, path) : same_after_load(path, x, y, c->name);
  }
  if (!rc) rc = write_floats(out, c->name, "x", x->data, (size_t)kcb_tensor_size(x));
  if (!rc) rc = write_floats(out, c->name, "y", y->data, (size_t)kcb_tensor_size(y));
  kcb_tensor_free(x);
  kcb_tensor_free(y);
  kcb_model_free(m);
  return rc;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: forward_models OUT\n");
    return 2;
  }
  int failed = 0;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) failed |= write_case(argv[1], &cases[i]);
  return failed;
}
