/* model/spec.c — a model from a compact text spec, e.g. "flatten,256:relu,dropout:0.2,10:softmax"
 * or "28x28x1,conv:32:3:relu,bn,maxpool:2,conv:64:3:same:relu,gap,dropout:0.3,10:softmax". */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"

static const char *const presets[][2] = {
    {"mlp", "flatten,256:relu,128:relu,10:softmax"},
    {"cnn", "28x28x1,conv:32:3:relu,bn,maxpool:2,conv:64:3:relu,bn,maxpool:2,dropout:0.25,flatten,128:relu,dropout:0.4,"
            "10:softmax"},
};

const char *kcb_model_spec_preset(const char *name) {
  for (size_t i = 0; name && i < sizeof presets / sizeof presets[0]; i++)
    if (strcmp(name, presets[i][0]) == 0) return presets[i][1];
  return NULL;
}

static int parse_int(const char *s, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (end == s || *end || errno || v < lo || v > hi) return 0;
  *out = v;
  return 1;
}

/* "28x28x1" -> rank 3; "784" -> rank 1 when `bare_ok`. @return 1 when s is a shape. */
static int parse_shape(const char *s, int *rank, int64_t *shape) {
  if (!strchr(s, 'x')) return 0;
  char buf[128];
  kcb__strlcpy(buf, s, sizeof buf);
  int r = 0;
  char *save = NULL;
  for (char *d = strtok_r(buf, "x", &save); d; d = strtok_r(NULL, "x", &save)) {
    long v;
    if (r >= KCB_MAX_RANK - 1 || !parse_int(d, 1, 100000000, &v)) return 0;
    shape[r++] = v;
  }
  *rank = r;
  return r > 0;
}

/* "3" or "3x5" into a pair. */
static int parse_pair(const char *s, int *pair) {
  long a, b;
  const char *x = strchr(s, 'x');
  if (!x) {
    if (!parse_int(s, 1, 100000, &a)) return 0;
    pair[0] = pair[1] = (int)a;
    return 1;
  }
  char first[32];
  if ((size_t)(x - s) >= sizeof first) return 0;
  memcpy(first, s, (size_t)(x - s));
  first[x - s] = '\0';
  if (!parse_int(first, 1, 100000, &a) || !parse_int(x + 1, 1, 100000, &b)) return 0;
  pair[0] = (int)a, pair[1] = (int)b;
  return 1;
}

static int rank_now(const kcb_model *m) {
  int rank;
  int64_t shape[KCB_MAX_RANK];
  kcb__model_current_shape(m, &rank, shape);
  return rank;
}

#define SPEC_ERROR(...) kcb__error(KCB_EINVAL, __VA_ARGS__)

/* conv:FILTERS:KERNEL[:same|valid|causal][:sN][:dN][:gN][:nobias][:ACTIVATION] */
static int add_conv_item(kcb_model *m, char **args, int n, const char *spec) {
  kcb_conv_options o = KCB_CONV_OPTIONS_INIT;
  long filters;
  if (n < 2 || !parse_int(args[0], 1, 1000000, &filters) || !parse_pair(args[1], o.kernel_size))
    return SPEC_ERROR("model spec '%s': conv needs FILTERS:KERNEL, as conv:32:3 or conv:32:3x3:same:relu", spec);
  o.filters = (int)filters;
  for (int i = 2; i < n; i++) {
    const char *a = args[i];
    long v;
    if (kcb_padding_from_name(&o.padding, a) == 0) continue;
    if (strcmp(a, "nobias") == 0) o.use_bias = 0;
    else if (a[0] == 's' && parse_pair(a + 1, o.strides)) continue;
    else if (a[0] == 'd' && parse_pair(a + 1, o.dilation_rate)) continue;
    else if (a[0] == 'g' && parse_int(a + 1, 1, 100000, &v)) o.groups = (int)v;
    else if (kcb_activation_from_name(&o.activation, a) != 0)
      return SPEC_ERROR("model spec '%s': conv option '%s' is not same/valid/causal, sN (strides), dN (dilation), gN (groups), nobias or an activation", spec, a);
  }
  kcb_error_clear();
  return rank_now(m) == 2 ? kcb_model_add_conv1d(m, &o) : kcb_model_add_conv2d(m, &o);
}

/* maxpool|avgpool[:POOL[:STRIDES]][:same|valid] */
static int add_pool_item(kcb_model *m, int max, char **args, int n, const char *spec) {
  kcb_pooling_options o = KCB_POOLING_OPTIONS_INIT;
  int pairs = 0;
  for (int i = 0; i < n; i++) {
    if (kcb_padding_from_name(&o.padding, args[i]) == 0) continue;
    if (pairs < 2 && parse_pair(args[i], pairs == 0 ? o.pool_size : o.strides)) {
      pairs++;
      continue;
    }
    return SPEC_ERROR("model spec '%s': pooling option '%s' is not POOL, STRIDES, same or valid", spec, args[i]);
  }
  kcb_error_clear();
  int one_d = rank_now(m) == 2;
  return kcb_model_add_pooling(m, max ? (one_d ? KCB_MAX_POOLING1D : KCB_MAX_POOLING2D) : (one_d ? KCB_AVERAGE_POOLING1D : KCB_AVERAGE_POOLING2D), &o);
}

static int parse_rate(const char *arg, float *rate) {
  char *end;
  errno = 0;
  double r = arg ? strtod(arg, &end) : -1;
  if (!arg || *end || errno || !(r >= 0 && r < 1)) return 0;
  *rate = (float)r;
  return 1;
}

static int add_item(kcb_model *m, char *item, const char *spec) {
  char *args[12];
  int n = 0;
  char *colon = strchr(item, ':');
  if (colon) {
    *colon = '\0';
    char *save = NULL;
    for (char *a = strtok_r(colon + 1, ":", &save); a && n < 12; a = strtok_r(NULL, ":", &save)) args[n++] = a;
  }
  char *arg = n > 0 ? args[0] : NULL;
  float rate;
  if (strcmp(item, "flatten") == 0 && !arg) return kcb_model_add_flatten(m);
  if (strcmp(item, "dropout") == 0 || strcmp(item, "spatialdropout") == 0) {
    if (n != 1 || !parse_rate(arg, &rate))
      return SPEC_ERROR("model spec '%s': %s needs a rate in [0, 1), as %s:0.2", spec, item, item);
    return item[0] == 'd' ? kcb_model_add_dropout(m, rate) : kcb_model_add_spatial_dropout2d(m, rate);
  }
  if (strcmp(item, "conv") == 0) return add_conv_item(m, args, n, spec);
  if (strcmp(item, "maxpool") == 0 || strcmp(item, "avgpool") == 0) return add_pool_item(m, item[0] == 'm', args, n, spec);
  if ((strcmp(item, "gap") == 0 || strcmp(item, "gmp") == 0) && (!arg || strcmp(arg, "keepdims") == 0)) {
    kcb_pooling_options o = KCB_POOLING_OPTIONS_INIT;
    o.keepdims = arg != NULL;
    int one_d = rank_now(m) == 2;
    return kcb_model_add_pooling(m, item[1] == 'a' ? (one_d ? KCB_GLOBAL_AVERAGE_POOLING1D : KCB_GLOBAL_AVERAGE_POOLING2D)
                                                   : (one_d ? KCB_GLOBAL_MAX_POOLING1D : KCB_GLOBAL_MAX_POOLING2D), &o);
  }
  if ((strcmp(item, "bn") == 0 || strcmp(item, "ln") == 0) && !arg)
    return item[0] == 'b' ? kcb_model_add_batch_normalization(m, NULL) : kcb_model_add_layer_normalization(m, NULL);
  if (strcmp(item, "reshape") == 0) {
    int rank;
    int64_t shape[KCB_MAX_RANK];
    long v;
    if (n == 1 && parse_int(arg, 1, 100000000, &v)) rank = 1, shape[0] = v;
    else if (n != 1 || !parse_shape(arg, &rank, shape))
      return SPEC_ERROR("model spec '%s': reshape needs a shape, as reshape:28x28x1", spec);
    return kcb_model_add_reshape(m, rank, shape);
  }
  if (strcmp(item, "zeropad") == 0) {
    long v;
    if (n != 1 || !parse_int(arg, 0, 100000, &v)) return SPEC_ERROR("model spec '%s': zeropad needs a size, as zeropad:1", spec);
    return kcb_model_add_zero_padding2d(m, (int)v, (int)v, (int)v, (int)v);
  }
  if (item[0] >= '0' && item[0] <= '9') {
    long units;
    if (!parse_int(item, 1, 1000000, &units))
      return SPEC_ERROR("model spec '%s': '%s' is not a positive number of units", spec, item);
    kcb_dense_options d = KCB_DENSE_OPTIONS_INIT;
    d.units = (int)units;
    if (n > 1) return SPEC_ERROR("model spec '%s': Dense takes UNITS[:ACTIVATION]", spec);
    if (arg) {
      int rc = kcb_activation_from_name(&d.activation, arg);
      if (rc) return kcb__error(rc, "model spec '%s': %s", spec, kcb_error_last());
    }
    return kcb_model_add_dense(m, &d);
  }
  kcb_activation a;
  if (!arg && kcb_activation_from_name(&a, item) == 0) return kcb_model_add_activation(m, a);
  return SPEC_ERROR("model spec '%s': unknown item '%s' (expected UNITS[:ACTIVATION], dropout:RATE, flatten, conv:F:K[:...], "
                    "maxpool[:P], avgpool[:P], gap, gmp, bn, ln, reshape:SHAPE, zeropad:N, spatialdropout:RATE or an activation)",
                    spec, item);
}

int kcb_model_spec_input_shape(const char *spec, int *rank, int64_t *shape) {
  const char *preset = kcb_model_spec_preset(spec);
  if (preset) spec = preset;
  if (!spec) return 0;
  char first[128];
  size_t len = strcspn(spec, ",");
  if (len >= sizeof first) return 0;
  memcpy(first, spec, len);
  first[len] = '\0';
  return parse_shape(first, rank, shape);
}

int kcb_model_add_from_spec(kcb_model *m, const char *spec) {
  if (!spec || !*spec) return kcb__error(KCB_EINVAL, "model spec is empty");
  const char *preset = kcb_model_spec_preset(spec);
  if (preset) spec = preset;
  char *copy = strdup(spec);
  if (!copy) return kcb__error(KCB_ENOMEM, "out of memory");
  int rc = 0, first = 1;
  char *save = NULL;
  for (char *item = strtok_r(copy, ",", &save); item && rc == 0; item = strtok_r(NULL, ",", &save), first = 0) {
    while (*item == ' ') item++;
    int rank;
    int64_t shape[KCB_MAX_RANK];
    if (first && parse_shape(item, &rank, shape)) {
      /* an input shape: it must be the model's */
      int same = rank == m->in_rank;
      for (int i = 0; same && i < rank; i++) same = shape[i] == m->in_shape[i];
      if (!same) rc = kcb__error(KCB_EINVAL, "model spec '%s': the input shape %s is not the model's", spec, item);
      continue;
    }
    rc = add_item(m, item, spec);
  }
  free(copy);
  return rc;
}

int kcb_model_new_from_spec(kcb_model **out, const char *spec, int rank, const int64_t *data_shape, uint64_t seed) {
  *out = NULL;
  int spec_rank;
  int64_t spec_shape[KCB_MAX_RANK];
  if (kcb_model_spec_input_shape(spec, &spec_rank, spec_shape)) {
    int64_t have = 1, want = 1;
    for (int i = 0; i < rank; i++) have *= data_shape[i];
    for (int i = 0; i < spec_rank; i++) want *= spec_shape[i];
    if (have != want)
      return kcb__error(KCB_ESHAPE, "model spec '%s': its input shape holds %lld values per sample, the data %lld", spec,
                        (long long)want, (long long)have);
    rank = spec_rank;
    data_shape = spec_shape;
  }
  kcb_model *m = NULL;
  int rc = kcb_model_new(&m, rank, data_shape, seed);
  if (rc == 0) rc = kcb_model_add_from_spec(m, spec);
  if (rc) kcb_model_free(m);
  else *out = m;
  return rc;
}
