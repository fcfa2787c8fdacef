/* callbacks/checkpoint_common.c — the save_freq counter shared by ModelCheckpoint and
 * BackupAndRestore. */
#include "callbacks/checkpoint_internal.h"
#include "internal.h"
#include "model/model_internal.h"

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

void kcb__save_counter_resume(kcb__save_counter *c, const kcb_model *m, int64_t save_freq) {
  if (save_freq <= 0 || !m || !m->resumed) return;
  /* as the run never stopped: the batches its fit trained since its last save (counted from the
   * iterations it began with), and the last batch done in the resumed epoch (-1: none), from which
   * the next batch index counts on */
  int64_t trained = m->opt.iterations - m->fit_start_iterations;
  c->since_last_save = (trained > 0 ? trained : 0) % save_freq;
  c->last_batch_seen = m->resume_batch;
}
