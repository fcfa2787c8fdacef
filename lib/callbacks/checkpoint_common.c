/* callbacks/checkpoint_common.c — the save_freq counter shared by ModelCheckpoint and
 * BackupAndRestore. */
#include "callbacks/checkpoint_internal.h"
#include "internal.h"

int kcb__save_counter_step(kcb__save_counter *c, int64_t save_freq, int64_t batch) {
  /* Keras: a batch index not past the last one seen means a new epoch began. */
  c->since_last_save += batch <= c->last_batch_seen ? batch + 1 : batch - c->last_batch_seen;
  c->last_batch_seen = batch;
  if (c->since_last_save >= save_freq) {
    c->since_last_save = 0;
    return 1;
  }
  return 0;
}
