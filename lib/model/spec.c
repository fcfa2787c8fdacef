/* model/spec.c — a model from a compact text spec, e.g. "flatten,256:relu,dropout:0.2,10:softmax"
 * or "28x28x1,conv:32:3:relu,bn,maxpool:2,conv:64:3:same:relu,gap,dropout:0.3,10:softmax". */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model/model_internal.h"

static const char *const presets[][2] = {
    {"mlp", "flatten,256:relu,128:relu,10:softmax"},
    {"cnn", "28x28x1,conv:32:3:relu,bn,maxpool:2,conv:64:3:relu,bn,maxpool:2,dropout:0.25,flatten,128:relu,dropout:0.4,"
            "10:softmax"},
};

const char *kcb_model_spec_preset(const char *name) {
  for (size_t i = 0; name && i < sizeof presets / sizeof presets[0]; i++)
    if (kcb__ascii_casecmp(name, presets[i][0]) == 0) return presets[i][1]; /* "MLP" too, as --optimizer Adam */
  return NULL;
}

#define MAX_ITEM_ARGS 12

/* Splits s in place at every sep (empty fields stay, so "28xx28" or "conv::3" can be refused).
 * @return the number of fields, or -1 when there are more than max. */
static int split(char *s, char sep, char **fields, int max) {
  int n = 0;
  for (char *at = s;; at++) {
    if (n == max) return -1;
    fields[n++] = at;
    at = strchr(at, sep);
    if (!at) return n;
    *at = '\0';
  }
}

static int parse_int(const char *s, long lo, long hi, long *out) {
  char *end;
  if (!((s[0] >= '0' && s[0] <= '9') || (s[0] == '-' && lo < 0))) return 0; /* strtol would take " 4" and "+4" */
  errno = 0;
  long v = strtol(s, &end, 10);
  if (end == s || *end || errno || v < lo || v > hi) return 0;
  *out = v;
  return 1;
}

/* "28x28x1" into a shape; with inferred, one entry may be -1 (Reshape's inferred size). */
static int parse_shape(const char *s, int inferred, int *rank, int64_t *shape) {
  char buf[128], *dims[KCB_MAX_RANK - 1];
  if (!strchr(s, 'x') || strlen(s) >= sizeof buf) return 0;
  memcpy(buf, s, strlen(s) + 1);
  int r = split(buf, 'x', dims, KCB_MAX_RANK - 1);
  for (int i = 0; i < r; i++) {
    long v;
    if (!parse_int(dims[i], inferred ? -1 : 1, 100000000, &v) || v == 0) return 0;
    shape[i] = v;
  }
  *rank = r;
  return r > 0;
}

static int count_char(const char *s, char c) {
  int n = 0;
  for (; *s; s++) n += *s == c;
  return n;
}

/* Digits, '-' and 'x' with an 'x': meant as a shape even when parse_shape refuses it. */
static int looks_like_shape(const char *s) { return strchr(s, 'x') && s[strspn(s, "0123456789-x")] == '\0'; }

/* "3" or "3x5" into a pair. */
static int parse_pair(const char *s, int *pair) {
  char buf[32], *halves[2];
  long v[2];
  if (strlen(s) >= sizeof buf) return 0;
  memcpy(buf, s, strlen(s) + 1);
  int n = split(buf, 'x', halves, 2);
  for (int i = 0; i < n; i++)
    if (!parse_int(halves[i], 1, 100000, &v[i])) return 0;
  if (n < 1) return 0;
  pair[0] = (int)v[0], pair[1] = (int)v[n - 1];
  return n; /* 2 for KxL: a 2D size only */
}

static int rank_now(const kcb_model *m) {
  int rank;
  int64_t shape[KCB_MAX_RANK];
  kcb__model_current_shape(m, &rank, shape);
  return rank;
}

#define SPEC_ERROR(...) kcb__error(KCB_EINVAL, __VA_ARGS__)

/* kcb__did_you_mean among the n words, and the activations' names with `activations`, and the
 * presets' names with `presets` (a spec of one word). */
static const char *did_you_mean(char *buf, size_t size, const char *given, const char *const *words, size_t n,
                                int activations, int with_presets) {
  const char *known[48];
  size_t n_known = 0;
  for (size_t i = 0; i < n && n_known < 48; i++) known[n_known++] = words[i];
  for (int i = 0; activations && i < KCB_ACT_COUNT && n_known < 48; i++) known[n_known++] = kcb_activation_name((kcb_activation)i);
  for (size_t i = 0; with_presets && i < sizeof presets / sizeof presets[0] && n_known < 48; i++) known[n_known++] = presets[i][0];
  return kcb__did_you_mean(buf, size, given, known, n_known);
}

/* conv:FILTERS:KERNEL[:same|valid|causal][:sN][:dN][:gN][:nobias][:ACTIVATION] */
static int add_conv_item(kcb_model *m, char **args, int n, const char *spec) {
  static const char *const conv_words[] = {"same", "valid", "causal", "nobias"};
  char hint[64];
  kcb_conv_options o = KCB_CONV_OPTIONS_INIT;
  long filters;
  int given = 0, pair_given = 0; /* a KxL size: for Conv2D only */
  if (n < 2) return SPEC_ERROR("model spec '%s': conv needs FILTERS:KERNEL, as conv:32:3 or conv:32:3x3:same:relu", spec);
  if (!parse_int(args[0], 1, 1000000, &filters))
    return SPEC_ERROR("model spec '%s': conv's FILTERS '%s' is not a whole number from 1 to 1000000", spec, args[0]);
  if (!(given = parse_pair(args[1], o.kernel_size)))
    return SPEC_ERROR("model spec '%s': conv's KERNEL '%s' is not a size from 1 to 100000, or two as 3x5", spec, args[1]);
  o.filters = (int)filters;
  pair_given = given == 2;
  /* each kind of option at most once: "conv:4:3:relu:tanh" is a typo, not a choice */
  enum { PADDING, NOBIAS, STRIDES, DILATION, GROUPS, ACTIVATION, KINDS };
  static const char *const kind_names[KINDS] = {"padding", "nobias", "strides", "dilation", "groups", "activation"};
  int seen[KINDS] = {0};
  for (int i = 2; i < n; i++) {
    const char *a = args[i];
    long v;
    int kind;
    if (kcb_padding_from_name(&o.padding, a) == 0) kind = PADDING;
    else if (strcmp(a, "nobias") == 0) kind = NOBIAS, o.use_bias = 0;
    else if (a[0] == 's' && (given = parse_pair(a + 1, o.strides))) kind = STRIDES, pair_given |= given == 2;
    else if (a[0] == 'd' && (given = parse_pair(a + 1, o.dilation_rate))) kind = DILATION, pair_given |= given == 2;
    else if (a[0] == 'g' && parse_int(a + 1, 1, 100000, &v)) kind = GROUPS, o.groups = (int)v;
    else if (kcb_activation_from_name(&o.activation, a) == 0) kind = ACTIVATION;
    else if (strchr("sdg", a[0]) && strchr("0123456789-+", a[1]))
      return SPEC_ERROR("model spec '%s': conv option '%s': the %s must be a whole number from 1 to 100000%s", spec, a,
                        a[0] == 's' ? "strides" : a[0] == 'd' ? "dilation" : "groups", a[0] == 'g' ? "" : ", or two as 2x1");
    else
      return SPEC_ERROR("model spec '%s': conv option '%s'%s is not same/valid/causal, sN (strides), dN (dilation), gN "
                        "(groups), nobias or an activation", spec, a, did_you_mean(hint, sizeof hint, a, conv_words, 4, 1, 0));
    if (seen[kind]++) return SPEC_ERROR("model spec '%s': conv option '%s' gives the %s a second time", spec, a, kind_names[kind]);
  }
  kcb_error_clear();
  if (rank_now(m) == 2 && pair_given) /* Keras refuses a pair for a 1D layer: not half of it dropped */
    return SPEC_ERROR("model spec '%s': conv on (steps, channels) is Conv1D, whose kernel, strides and dilation are one "
                      "number each (KxL is for images)", spec);
  return rank_now(m) == 2 ? kcb_model_add_conv1d(m, &o) : kcb_model_add_conv2d(m, &o);
}

/* maxpool|avgpool[:POOL[:STRIDES]][:same|valid] */
static int add_pool_item(kcb_model *m, int max, char **args, int n, const char *spec) {
  static const char *const pool_words[] = {"same", "valid"};
  char hint[64];
  kcb_pooling_options o = KCB_POOLING_OPTIONS_INIT;
  int pairs = 0, paddings = 0, pair_given = 0;
  for (int i = 0; i < n; i++) {
    if (kcb_padding_from_name(&o.padding, args[i]) == 0) {
      if (paddings++) return SPEC_ERROR("model spec '%s': pooling option '%s' gives the padding a second time", spec, args[i]);
      continue;
    }
    int given = pairs < 2 ? parse_pair(args[i], pairs == 0 ? o.pool_size : o.strides) : 0;
    if (given) {
      pairs++;
      pair_given |= given == 2;
      continue;
    }
    if (strchr("0123456789-+", args[i][0]) && pairs < 2)
      return SPEC_ERROR("model spec '%s': pooling's %s '%s' is not a whole number from 1 to 100000, or two as 2x1", spec,
                        pairs == 0 ? "POOL" : "STRIDES", args[i]);
    return SPEC_ERROR("model spec '%s': pooling option '%s'%s is not POOL, STRIDES, same or valid", spec, args[i],
                      did_you_mean(hint, sizeof hint, args[i], pool_words, 2, 0, 0));
  }
  kcb_error_clear();
  int one_d = rank_now(m) == 2;
  if (one_d && pair_given)
    return SPEC_ERROR("model spec '%s': pooling on (steps, channels) is 1D, whose pool and strides are one number each "
                      "(PxQ is for images)", spec);
  return kcb_model_add_pooling(m, max ? (one_d ? KCB_MAX_POOLING1D : KCB_MAX_POOLING2D) : (one_d ? KCB_AVERAGE_POOLING1D : KCB_AVERAGE_POOLING2D), &o);
}

static int parse_rate(const char *arg, float *rate) {
  double r;
  if (!kcb_text_to_number(arg, &r) || !(r >= 0 && r < 1)) return 0;
  *rate = (float)r;
  return 1;
}

static int add_item(kcb_model *m, char *item, const char *spec) {
  char *args[MAX_ITEM_ARGS];
  int n = 0;
  char *colon = strchr(item, ':');
  if (colon) {
    *colon = '\0';
    n = split(colon + 1, ':', args, MAX_ITEM_ARGS);
    if (n < 0) return SPEC_ERROR("model spec '%s': '%s' has more than %d options", spec, item, MAX_ITEM_ARGS);
    for (int i = 0; i < n; i++)
      if (!*args[i]) return SPEC_ERROR("model spec '%s': '%s' has an empty option (two ':' in a row, or one at the end)", spec, item);
  }
  char *arg = n > 0 ? args[0] : NULL;
  float rate;
  int spatial = strcmp(item, "conv") == 0 || strcmp(item, "maxpool") == 0 || strcmp(item, "avgpool") == 0 ||
                strcmp(item, "gap") == 0 || strcmp(item, "gmp") == 0;
  if (spatial && rank_now(m) != 2 && rank_now(m) != 3) /* said in the spec's terms: these items are 1D or 2D */
    return SPEC_ERROR("model spec '%s': %s works on (steps, channels) per sample (1D) or (height, width, channels) "
                      "(2D), but the output before it has rank %d%s", spec, item, rank_now(m),
                      rank_now(m) == 1 ? " (flat values: give the input as Nx1 for 1D)" : "");
  if (strcmp(item, "flatten") == 0 && !arg) return kcb_model_add_flatten(m);
  if (strcmp(item, "dropout") == 0 || strcmp(item, "spatialdropout") == 0) {
    if (n != 1 || !parse_rate(arg, &rate))
      return SPEC_ERROR("model spec '%s': %s needs a rate in [0, 1), as %s:0.2", spec, item, item);
    return item[0] == 'd' ? kcb_model_add_dropout(m, rate) : kcb_model_add_spatial_dropout2d(m, rate);
  }
  if (strcmp(item, "conv") == 0) return add_conv_item(m, args, n, spec);
  if (strcmp(item, "maxpool") == 0 || strcmp(item, "avgpool") == 0) return add_pool_item(m, item[0] == 'm', args, n, spec);
  if ((strcmp(item, "gap") == 0 || strcmp(item, "gmp") == 0) && (n > 1 || (arg && strcmp(arg, "keepdims") != 0)))
    return SPEC_ERROR("model spec '%s': %s takes one option, keepdims; got '%s'", spec, item, n > 1 ? args[1] : arg);
  if ((strcmp(item, "bn") == 0 || strcmp(item, "ln") == 0 || strcmp(item, "flatten") == 0) && arg)
    return SPEC_ERROR("model spec '%s': %s takes no options; got '%s'", spec, item, arg);
  if (strcmp(item, "gap") == 0 || strcmp(item, "gmp") == 0) {
    kcb_pooling_options o = KCB_POOLING_OPTIONS_INIT;
    o.keepdims = arg != NULL;
    int one_d = rank_now(m) == 2;
    return kcb_model_add_pooling(m, item[1] == 'a' ? (one_d ? KCB_GLOBAL_AVERAGE_POOLING1D : KCB_GLOBAL_AVERAGE_POOLING2D)
                                                   : (one_d ? KCB_GLOBAL_MAX_POOLING1D : KCB_GLOBAL_MAX_POOLING2D), &o);
  }
  if (strcmp(item, "bn") == 0 || strcmp(item, "ln") == 0)
    return item[0] == 'b' ? kcb_model_add_batch_normalization(m, NULL) : kcb_model_add_layer_normalization(m, NULL);
  if (strcmp(item, "reshape") == 0) {
    int rank;
    int64_t shape[KCB_MAX_RANK];
    long v;
    if (n == 1 && parse_int(arg, -1, 100000000, &v) && v != 0) rank = 1, shape[0] = v;
    else if (n == 1 && looks_like_shape(arg) && count_char(arg, 'x') >= KCB_MAX_RANK - 1)
      return SPEC_ERROR("model spec '%s': reshape:%s has %d dimensions; a sample's shape has at most %d", spec, arg,
                        count_char(arg, 'x') + 1, KCB_MAX_RANK - 1);
    else if (n != 1 || !parse_shape(arg, 1, &rank, shape))
      return SPEC_ERROR("model spec '%s': reshape needs a shape of positive sizes (one may be -1), as reshape:28x28x1 or "
                        "reshape:-1x4", spec);
    return kcb_model_add_reshape(m, rank, shape);
  }
  if (strcmp(item, "rescale") == 0) {
    double v[2] = {1.0, 0.0};
    int ok = n >= 1 && n <= 2;
    for (int i = 0; ok && i < n; i++) ok = kcb_text_to_number(args[i], &v[i]);
    if (!ok)
      return SPEC_ERROR("model spec '%s': rescale needs SCALE[:OFFSET], as rescale:0.00392156862745098 or rescale:2:-1", spec);
    return kcb_model_add_rescaling(m, v[0], v[1]);
  }
  if (strcmp(item, "zeropad") == 0) {
    long v;
    if (n != 1 || !parse_int(arg, 0, 100000, &v)) return SPEC_ERROR("model spec '%s': zeropad needs one whole number, the padding on every side, as zeropad:1", spec);
    return kcb_model_add_zero_padding2d(m, (int)v, (int)v, (int)v, (int)v);
  }
  if (looks_like_shape(item))
    return SPEC_ERROR("model spec '%s': '%s' is not a valid input shape (positive sizes, at most %d axes), or it is not "
                      "the spec's first item", spec, item, KCB_MAX_RANK - 1);
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
  if (kcb_activation_from_name(&a, item) == 0)
    return arg ? SPEC_ERROR("model spec '%s': the activation %s takes no options; got '%s'", spec, item, arg)
               : kcb_model_add_activation(m, a);
  static const char *const items[] = {"dropout", "flatten", "conv", "maxpool", "avgpool", "gap", "gmp", "bn", "ln", "reshape",
                                      "zeropad", "spatialdropout", "rescale"};
  const int alone = strcmp(item, spec) == 0; /* a spec of one word may have meant a preset */
  char hint[64];
  return SPEC_ERROR("model spec '%s': unknown item '%s'%s (expected UNITS[:ACTIVATION], dropout:RATE, flatten, "
                    "conv:F:K[:...], maxpool[:P], avgpool[:P], gap, gmp, bn, ln, reshape:SHAPE, zeropad:N, spatialdropout:RATE, "
                    "rescale:SCALE[:OFFSET] or an activation%s)", spec, item,
                    did_you_mean(hint, sizeof hint, item, items, sizeof items / sizeof items[0], 1, alone), alone ? "; or a preset, mlp or cnn, alone" : "");
}

int kcb_model_spec_input_shape(const char *spec, int *rank, int64_t *shape) {
  const char *preset = kcb_model_spec_preset(spec);
  if (preset) spec = preset;
  if (!spec) return 0;
  char first[128];
  while (*spec == ' ') spec++; /* as kcb_model_add_from_spec skips them */
  size_t len = strcspn(spec, ",");
  if (len >= sizeof first) return 0;
  memcpy(first, spec, len);
  while (len > 0 && first[len - 1] == ' ') len--;
  first[len] = '\0';
  for (char *c = first; *c; c++) *c = (char)kcb__to_lower((unsigned char)*c); /* 28X28X1 */
  return parse_shape(first, 0, rank, shape);
}

int kcb_model_add_from_spec(kcb_model *m, const char *spec) {
  KCB__MODEL_GIVEN(m, "model spec");
  if (!spec || !*spec) return kcb__error(KCB_EINVAL, "model spec is empty");
  const char *preset = kcb_model_spec_preset(spec);
  if (preset) spec = preset;
  char *copy = strdup(spec);
  if (!copy) return kcb__error(KCB_ENOMEM, "out of memory");
  /* all or nothing: a failed item takes the ones before it back, so a caller may fix the spec and
   * add it again (layers hold no memory of their own until compile) */
  size_t layers_before = m->n_layers;
  int counts_before[KCB__KIND_COUNT];
  memcpy(counts_before, m->name_counts, sizeof counts_before);
  int rc = 0, first = 1, layers = 0, has_input_shape = 0;
  for (char *item = copy, *next; item && rc == 0; item = next, first = 0) {
    next = strchr(item, ',');
    if (next) *next++ = '\0';
    while (*item == ' ') item++;
    for (size_t end = strlen(item); end > 0 && item[end - 1] == ' ';) item[--end] = '\0';
    for (char *c = item; *c; c++) *c = (char)kcb__to_lower((unsigned char)*c); /* "Flatten", "conv:4:3:Same" */
    if (!*item) {
      rc = kcb__error(KCB_EINVAL, "model spec '%s': an empty item (two ',' in a row, or one at an end)", spec);
      break;
    }
    int rank;
    int64_t shape[KCB_MAX_RANK];
    if (first && parse_shape(item, 0, &rank, shape)) {
      /* an input shape: it must be the model's */
      int same = rank == m->in_rank;
      for (int i = 0; same && i < rank; i++) same = shape[i] == m->in_shape[i];
      if (!same) rc = kcb__error(KCB_EINVAL, "model spec '%s': the input shape %s is not the model's", spec, item);
      has_input_shape = 1;
      continue;
    }
    char typed[128]; /* the item as given: add_item cuts it at its first ':' */
    kcb__strlcpy(typed, item, sizeof typed);
    rc = add_item(m, item, spec);
    if (rc && strncmp(kcb_error_last(), "model spec '", 12) != 0) /* a layer's own check: say which item */
      rc = kcb__error(rc, "model spec '%s': item %d '%s': %s", spec, layers + 1 + has_input_shape, typed, kcb_error_last());
    layers++;
  }
  free(copy);
  if (rc == 0 && layers == 0) rc = kcb__error(KCB_EINVAL, "model spec '%s' has an input shape but no layers", spec);
  if (rc) {
    m->n_layers = layers_before;
    memcpy(m->name_counts, counts_before, sizeof counts_before);
  }
  return rc;
}

int kcb_model_new_from_spec(kcb_model **out, const char *spec, int rank, const int64_t *data_shape, uint64_t seed) {
  if (!out) return kcb__error(KCB_EINVAL, "kcb_model_new_from_spec: out is NULL");
  *out = NULL;
  int spec_rank;
  int64_t spec_shape[KCB_MAX_RANK];
  if (kcb_model_spec_input_shape(spec, &spec_rank, spec_shape)) {
    int64_t have = 1, want = 1; /* each axis at most 1e8: the product stops growing past int64's reach */
    for (int i = 0; i < rank; i++) have = have > INT64_MAX / 100000000 ? INT64_MAX : have * data_shape[i];
    for (int i = 0; i < spec_rank; i++) want = want > INT64_MAX / 100000000 ? INT64_MAX : want * spec_shape[i];
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
