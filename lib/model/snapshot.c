/* model/snapshot.c — weights snapshots: one buffer per snapshot, reused across takes. */
#include "model/snapshot.h"

#include <stdlib.h>

#include "internal.h"

int kcb__snapshot_take(kcb__snapshot *s, const kcb_model *m, int64_t epoch) {
  size_t n = kcb_model_param_count(m);
  if (n == 0) return kcb__error(KCB_ESTATE, "weights snapshot: the model has no weights until it is compiled");
  float *buf = s->params;
  /* s->count records the buffer's size even after a clear, so a clear does not cost a realloc. */
  if (!buf || s->count != n) {
    buf = malloc(n * sizeof *buf);
    if (!buf) return kcb__error(KCB_ENOMEM, "weights snapshot: out of memory for %zu parameters", n);
  }
  int rc = kcb_model_get_weights(m, buf, n);
  if (rc) {
    if (buf != s->params) free(buf);
    return rc;
  }
  if (buf != s->params) free(s->params);
  s->params = buf;
  s->count = n;
  s->epoch = epoch < 0 ? 0 : epoch;
  return 0;
}

int kcb__snapshot_valid(const kcb__snapshot *s) { return s->params != NULL && s->epoch >= 0; }

int kcb__snapshot_restore(const kcb__snapshot *s, kcb_model *m) {
  if (!kcb__snapshot_valid(s)) return kcb__error(KCB_ESTATE, "weights snapshot: nothing to restore");
  return kcb_model_set_weights(m, s->params, s->count);
}

void kcb__snapshot_clear(kcb__snapshot *s) { s->epoch = -1; }

void kcb__snapshot_free(kcb__snapshot *s) {
  free(s->params);
  s->params = NULL;
  s->count = 0;
  s->epoch = -1;
}
