/* callbacks/history.c — Keras's History: every epoch's end logs, keys in first-seen order. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct history_series {
  char key[KCB_LOGS_KEY_MAX];
  double *values;
  size_t count, cap;
} history_series;

struct kcb_history {
  kcb_callback base;
  int *epochs;
  size_t n_epochs, cap_epochs;
  history_series *series;
  size_t n_series, cap_series;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return 0;
  size_t cap2 = *cap ? *cap * 2 : 16;
  while (cap2 < need) cap2 *= 2;
  void *q = realloc(*p, cap2 * elem);
  if (!q) return kcb__error(KCB_ENOMEM, "History: out of memory");
  *p = q;
  *cap = cap2;
  return 0;
}

static history_series *find_series(const kcb_history *h, const char *key) {
  if (!h || !key) return NULL;
  for (size_t i = 0; i < h->n_series; i++)
    if (strcmp(h->series[i].key, key) == 0) return &h->series[i];
  return NULL;
}

static int history_on_train_begin(kcb_callback *cb, kcb_logs *logs) {
  (void)logs;
  ((kcb_history *)cb)->n_epochs = 0; /* History.epoch = [] (the dict itself is kept, as Keras) */
  return 0;
}

static int history_on_epoch_end(kcb_callback *cb, int epoch, kcb_logs *logs) {
  kcb_history *h = (kcb_history *)cb;
  int rc = grow((void **)&h->epochs, &h->cap_epochs, h->n_epochs + 1, sizeof *h->epochs);
  if (rc) return rc;
  h->epochs[h->n_epochs++] = epoch;
  for (size_t i = 0; logs && i < logs->count; i++) {
    const kcb_log_entry *e = &logs->entries[i];
    if (e->tensor) continue;
    history_series *s = find_series(h, e->key);
    if (!s) {
      if ((rc = grow((void **)&h->series, &h->cap_series, h->n_series + 1, sizeof *h->series))) return rc;
      s = &h->series[h->n_series++];
      memset(s, 0, sizeof *s);
      memcpy(s->key, e->key, sizeof s->key);
    }
    if ((rc = grow((void **)&s->values, &s->cap, s->count + 1, sizeof *s->values))) return rc;
    s->values[s->count++] = e->value;
  }
  return 0;
}

static void history_destroy(kcb_callback *cb) {
  kcb_history *h = (kcb_history *)cb;
  for (size_t i = 0; i < h->n_series; i++) free(h->series[i].values);
  free(h->series);
  free(h->epochs);
}

static const kcb_callback_ops history_ops = {
    .name = "History",
    .on_train_begin = history_on_train_begin,
    .on_epoch_end = history_on_epoch_end,
    .destroy = history_destroy,
};

int kcb_history_new(kcb_history **out) {
  if (!out) return kcb__error(KCB_EINVAL, "History: out is NULL");
  kcb_history *h = calloc(1, sizeof *h);
  *out = NULL;
  if (!h) return kcb__error(KCB_ENOMEM, "out of memory creating History");
  h->base.ops = &history_ops;
  h->base.owned_by_kcb = 1;
  *out = h;
  return 0;
}

kcb_callback *kcb_history_callback(kcb_history *h) { return h ? &h->base : NULL; }
size_t kcb_history_epochs(const kcb_history *h) { return h ? h->n_epochs : 0; }
int kcb_history_epoch(const kcb_history *h, size_t i) { return h && i < h->n_epochs ? h->epochs[i] : -1; }
size_t kcb_history_key_count(const kcb_history *h) { return h ? h->n_series : 0; }
const char *kcb_history_key(const kcb_history *h, size_t i) { return h && i < h->n_series ? h->series[i].key : NULL; }

int kcb_history_values(const kcb_history *h, const char *key, const double **out_values, size_t *out_count) {
  if (!h) return kcb__error(KCB_EINVAL, "kcb_history_values: the History is NULL");
  const history_series *s = find_series(h, key);
  if (!key) return kcb__error(KCB_EINVAL, "kcb_history_values: the key is NULL");
  if (!s) return kcb__error(KCB_EKEY, "History has no key '%s'", key);
  if (!out_values || !out_count) return kcb__error(KCB_EINVAL, "kcb_history_values: an out pointer is NULL");
  *out_values = s->values;
  *out_count = s->count;
  return 0;
}

int kcb_history_last(const kcb_history *h, const char *key, double *out) {
  const history_series *s = find_series(h, key);
  if (!s || s->count == 0) return 0;
  if (out) *out = s->values[s->count - 1];
  return 1;
}

void kcb_history_free(kcb_history *h) { kcb_callback_free(h ? &h->base : NULL); }
