/* model/distributed_internal.h — the few points where fit calls into the distributed module
 * (distributed.c with MPI, distributed_stub.c without; distributed_common.c either way).
 * A NULL `d` is a one-process run: every collective is then a copy or nothing. Every collective is
 * called by every rank at the same point of fit, so the ranks never wait for one another in vain. */
#ifndef KCB_MODEL_DISTRIBUTED_INTERNAL_H
#define KCB_MODEL_DISTRIBUTED_INTERNAL_H

#include "kcb/distributed.h"
#include "model/model_internal.h"

/* Values every rank must agree on before training (sample counts, batch size, ...). */
#define KCB__DIST_MAX_CHECKS 20
typedef struct kcb__dist_check {
  const char *name[KCB__DIST_MAX_CHECKS]; /* e.g. "training samples"; "fingerprint: inputs x" for a hash,
                                            * whose value the message leaves out */
  int64_t value[KCB__DIST_MAX_CHECKS];
  int n;
  const char *point; /* where in the operation the ranks agree ("the end"); NULL: its start */
} kcb__dist_check;

/* distributed_common.c ------------------------------------------------------------------------ */

/* This rank's part [*out_first, *out_first + *out_count) of `count` samples: shards differ by at most
 * one sample, the first count % size ranks taking one more; a rank may get none. */
void kcb__dist_shard(const kcb_distributed *d, int64_t count, int64_t *out_first, int64_t *out_count);
/* The same for any rank of `size`. */
void kcb__dist_shard_of(int64_t count, int size, int rank, int64_t *out_first, int64_t *out_count);

/* A fingerprint of n samples of `per_sample` floats: FNV-1a over the bytes of at most 1024 evenly
 * spaced samples (the first and last always among them), so ranks given different data sets of the
 * same size are told apart at the start of fit for a few milliseconds. */
int64_t kcb__dist_fingerprint(const float *data, int64_t n, int64_t per_sample);

/* The same hash of a string (a model's layer or compile config, as JSON); 0 for NULL. */
int64_t kcb__dist_fingerprint_text(const char *text);

/* The pass under way on this thread ("fit", "evaluate", "predict"), which the collectives' messages
 * name. */
void kcb__dist_set_op(const char *op);
const char *kcb__dist_op(void);

/* Sets params.rank and params.size and, off rank 0, removes the callbacks that write files
 * (TensorBoard, CSVLogger, ModelCheckpoint, ProgbarLogger, BackupAndRestore; also when wrapped by
 * KeepGoing, which keeps the inner name). */
void kcb__dist_attach(const kcb_distributed *d, kcb_callback_list *list);

/* Bit `hook` set: some callback of `list` has that hook; KCB__DIST_READS_TEST_BATCHES: one may read
 * kcb_model_last_batch after a validation batch (anything with on_test_batch_end but the progress
 * bar and a TensorBoard without PR curves), so validation batches are gathered (train.c). */
#define KCB__DIST_READS_TEST_BATCHES (1u << 31)
unsigned kcb__dist_local_hooks(const kcb_callback_list *list);

/* distributed.c / distributed_stub.c ------------------------------------------------------------ */

/* ORs the ranks' kcb__dist_local_hooks: a hook no rank implements cannot fail or stop anything, so
 * kcb__dist_after_hook need not be called for it. */
int kcb__dist_hooks_used(const kcb_distributed *d, const kcb_callback_list *list, unsigned *out_mask);

/* Collective start of fit: `local_rc` is this rank's result of preparing (0 or an error whose
 * message is set). If any rank failed, or the checked values differ between ranks, every rank
 * returns an error (the failing rank keeps its own message; the others name the rank and value). */
int kcb__dist_agree(const kcb_distributed *d, int local_rc, const kcb__dist_check *check);

/* Averages the gradient block over ranks with one sum-allreduce (timed for
 * kcb_distributed_allreduce_time): each rank's gradient is already its `local` samples' part of the
 * global batch's mean (the loss's gradient is weighted in train.c); a rank with no samples, or whose
 * step failed (local 0), adds zeros. */
int kcb__dist_average_grads(kcb_distributed *d, float *grads, size_t n, int64_t local);

/* Sums n running means (total, count) over ranks into `global`, and with them each rank's `local_rc`
 * (if any rank failed this step, every rank returns an error) and its stop request (a signal reached
 * one rank: *stop_any becomes 1 on every rank at the same step; it is never reset here). With d NULL,
 * copies. */
int kcb__dist_sum_means(const kcb_distributed *d, const kcb__mean *local, kcb__mean *global, size_t n, int local_rc,
                        int local_stop, int *stop_any);

/* After every hook of a run, on every rank: ORs the stop requests (a stop asked on one rank stops
 * all after the same batch) and whether the hook failed on some rank, so that a callback failing on
 * one rank (rank 0 cannot write its log) fails fit on every rank instead of leaving the others
 * waiting. Returns `local_rc`, or KCB_ECALLBACK naming the first failed rank. One allreduce. */
int kcb__dist_after_hook(const kcb_distributed *d, int local_rc, const char *hook, int *stop_training,
                         int *stop_evaluating);

/* Sums n values over the ranks, in place, the same on every rank (BatchNormalization's statistics of
 * the global batch). Without MPI or alone: nothing. */
int kcb__dist_sum_doubles(const kcb_distributed *d, double *v, int n);

int kcb__dist_sum_floats(const kcb_distributed *d, float *v, int n);

/* Distributed validation with a test-batch-end hook in use (PR curves, a callback reading
 * kcb_model_last_batch): every rank gets the whole batch of `count` samples, its `mine` predictions
 * and targets of y_size floats a sample gathered in rank order (the order one process has), and
 * the model's last batch points at it. kcb__dist_gather_reserve sizes m->gathered for batches of
 * up to `batch` before the loop (collectively: a rank out of memory fails every rank). */
int kcb__dist_gather_reserve(const kcb_distributed *d, kcb_model *m, int64_t batch, int64_t y_size);
int kcb__dist_gather_batch(const kcb_distributed *d, kcb_model *m, int64_t count, int64_t mine, int64_t y_size);

/* Copies rank 0's model state to every rank: parameters, optimizer slots, iterations, learning
 * rate, RNG states and BackupAndRestore's resume point. */
int kcb__dist_broadcast_model(const kcb_distributed *d, kcb_model *m);

#endif
