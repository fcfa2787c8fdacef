/* callbacks/checkpoint_internal.h — what ModelCheckpoint and BackupAndRestore share. */
#ifndef KCB_CALLBACKS_CHECKPOINT_INTERNAL_H
#define KCB_CALLBACKS_CHECKPOINT_INTERNAL_H

#include <stdint.h>

/* Keras's batch counting for an integer save_freq: counts train batches across epochs (a batch
 * index <= the last one seen starts a new epoch) and fires every save_freq of them. */
typedef struct kcb__save_counter {
  int64_t since_last_save;
  int64_t last_batch_seen;
} kcb__save_counter;

/* Counts `batch` in; @return 1 when a save is due (the count is then reset). */
int kcb__save_counter_step(kcb__save_counter *c, int64_t save_freq, int64_t batch);

#endif
