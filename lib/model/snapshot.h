/* model/snapshot — a copy of a model's weights (EarlyStopping's best weights, checkpoints): since all
 * parameters live in one block, a snapshot is one allocation and one memcpy. */
#ifndef KCB_MODEL_SNAPSHOT_H
#define KCB_MODEL_SNAPSHOT_H

#include <stddef.h>

#include "kcb/model.h"

typedef struct kcb__snapshot {
  float *params;  /* (count) the parameter block, in weight order */
  size_t count;   /* floats the buffer holds (kept by kcb__snapshot_clear, for reuse) */
  int64_t epoch;  /* what the owner recorded with it (e.g. the best epoch); -1 when empty: validity */
} kcb__snapshot;

/* An empty snapshot (a zeroed struct is empty too, apart from epoch). */
#define KCB__SNAPSHOT_INIT {NULL, 0, -1}

/* Copies the model's parameters into s, allocating on the first call (or when the model's size
 * changed) and reusing the buffer afterwards. @return 0, KCB_ESTATE (not compiled) or KCB_ENOMEM;
 * on error s keeps what it held. */
int kcb__snapshot_take(kcb__snapshot *s, const kcb_model *m, int64_t epoch);

/* Whether s holds weights. */
int kcb__snapshot_valid(const kcb__snapshot *s);

/* Copies the snapshot back into the model. @return 0, KCB_ESTATE (empty) or KCB_ESHAPE (another model size). */
int kcb__snapshot_restore(const kcb__snapshot *s, kcb_model *m);

/* Forgets the weights but keeps the buffer for the next take. */
void kcb__snapshot_clear(kcb__snapshot *s);

/* Frees the buffer; s is empty afterwards. Accepts an empty snapshot. */
void kcb__snapshot_free(kcb__snapshot *s);

#endif
