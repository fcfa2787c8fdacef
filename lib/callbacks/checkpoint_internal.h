/* callbacks/checkpoint_internal.h — what ModelCheckpoint and BackupAndRestore share. */
#ifndef KCB_CALLBACKS_CHECKPOINT_INTERNAL_H
#define KCB_CALLBACKS_CHECKPOINT_INTERNAL_H

#include <stdint.h>

#include "kcb/model.h"

/* Keras's batch counting for an integer save_freq: counts train batches across epochs (a batch
 * index <= the last one seen starts a new epoch) and fires every save_freq of them. */
typedef struct kcb__save_counter {
  int64_t since_last_save;
  int64_t last_batch_seen;
} kcb__save_counter;

/* Counts `batch` in; @return 1 when a save is due (the count is then reset). */
int kcb__save_counter_step(kcb__save_counter *c, int64_t save_freq, int64_t batch);

/* At a resumed fit's first epoch: the counter an uninterrupted run would have there (the batches
 * since its last save point, counted from the model's iterations), so save points fall on the same
 * batches. Nothing when the fit did not resume. */
void kcb__save_counter_resume(kcb__save_counter *c, const kcb_model *m, int64_t save_freq);

#endif
