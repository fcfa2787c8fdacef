/* model/names.c — Keras's names for activations, initializers, losses, metrics, optimizers. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "model/model_internal.h"

typedef struct name_entry {
  const char *name;
  int value;
} name_entry;

static const char *const activation_names[KCB_ACT_COUNT] = {
    "linear", "relu",  "sigmoid",      "tanh",      "softmax",     "softplus", "gelu", "leaky_relu", "elu",
    "selu",   "silu",  "relu6",        "softsign",  "hard_sigmoid", "hard_silu", "exponential", "mish"};
static const char *const initializer_names[KCB_INIT_COUNT] = {
    "glorot_uniform", "he_normal", "he_uniform", "zeros", "ones", "random_normal"};
static const char *const loss_names[KCB_LOSS_COUNT] = {
    "mean_squared_error", "mean_absolute_error", "binary_crossentropy",
    "categorical_crossentropy", "sparse_categorical_crossentropy"};
static const char *const metric_names[KCB_METRIC_COUNT] = {
    "mean_squared_error", "mean_absolute_error", "accuracy", "binary_accuracy",
    "categorical_accuracy", "sparse_categorical_accuracy"};
static const char *const optimizer_names[KCB_OPT_COUNT] = {"sgd", "rmsprop", "adam", "adamw"};

/* Aliases Keras accepts besides the canonical names above. */
static const name_entry loss_aliases[] = {{"mse", KCB_LOSS_MEAN_SQUARED_ERROR}, {"mae", KCB_LOSS_MEAN_ABSOLUTE_ERROR}};
static const name_entry metric_aliases[] = {
    {"mse", KCB_METRIC_MEAN_SQUARED_ERROR}, {"mae", KCB_METRIC_MEAN_ABSOLUTE_ERROR}, {"acc", KCB_METRIC_ACCURACY}};
static const name_entry activation_aliases[] = {
    {"none", KCB_ACT_LINEAR}, {"swish", KCB_ACT_SILU}, {"hard_swish", KCB_ACT_HARD_SILU}};
static const name_entry initializer_aliases[] = {{"normal", KCB_INIT_RANDOM_NORMAL}};

static int lookup(int *out, const char *what, const char *name, const char *const *names, int count,
                  const name_entry *aliases, size_t n_aliases) {
  if (name) {
    for (int i = 0; i < count; i++)
      if (kcb__ascii_casecmp(name, names[i]) == 0) return *out = i, 0;
    for (size_t i = 0; i < n_aliases; i++)
      if (kcb__ascii_casecmp(name, aliases[i].name) == 0) return *out = aliases[i].value, 0;
  }
  char list[512];
  size_t used = 0;
  list[0] = '\0';
  for (int i = 0; i < count && used < sizeof list; i++)
    used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
  for (size_t i = 0; i < n_aliases && used < sizeof list; i++)
    used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "; or the aliases ", aliases[i].name);
  const char *known[64];
  size_t n_known = 0;
  for (int i = 0; i < count && n_known < 64; i++) known[n_known++] = names[i];
  for (size_t i = 0; i < n_aliases && n_known < 64; i++) known[n_known++] = aliases[i].name;
  char hint[96];
  return kcb__error(KCB_EKEY, "unknown %s '%s'%s (expected one of: %s)", what, name ? name : "(null)",
                    kcb__did_you_mean(hint, sizeof hint, name, known, n_known), list);
}

#define KCB__NAMES(type, prefix, what, table, count, aliases, n_aliases)                       \
  int prefix##_from_name(type *out, const char *name) {                                        \
    int v = 0, rc = lookup(&v, what, name, table, count, aliases, n_aliases);                  \
    if (rc == 0 && out) *out = (type)v;                                                        \
    return rc;                                                                                 \
  }                                                                                            \
  const char *prefix##_name(type v) { return (unsigned)v < (unsigned)(count) ? table[v] : "unknown"; }

#define N_ALIASES(a) (sizeof a / sizeof a[0])
KCB__NAMES(kcb_activation, kcb_activation, "activation", activation_names, KCB_ACT_COUNT, activation_aliases, N_ALIASES(activation_aliases))
KCB__NAMES(kcb_initializer, kcb_initializer, "initializer", initializer_names, KCB_INIT_COUNT, initializer_aliases, N_ALIASES(initializer_aliases))
KCB__NAMES(kcb_loss, kcb_loss, "loss", loss_names, KCB_LOSS_COUNT, loss_aliases, N_ALIASES(loss_aliases))
KCB__NAMES(kcb_metric, kcb_metric, "metric", metric_names, KCB_METRIC_COUNT, metric_aliases, N_ALIASES(metric_aliases))
KCB__NAMES(kcb_optimizer_kind, kcb_optimizer, "optimizer", optimizer_names, KCB_OPT_COUNT, NULL, 0)
