/* model/distributed_common.c — the parts of a distributed fit that need no MPI: which samples of a
 * global batch are this rank's, and which callbacks run on which rank. */
#include <stdlib.h>
#include <string.h>

#include "model/distributed_internal.h"

int kcb_distributed_launched(void) {
  return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

int kcb_distributed_launched_rank(void) {
  const char *vars[] = {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
    const char *v = getenv(vars[i]);
    if (v && *v) return atoi(v);
  }
  return 0;
}

void kcb__dist_shard_of(int64_t count, int size, int rank, int64_t *out_first, int64_t *out_count) {
  int64_t base = count / size, extra = count % size;
  *out_first = rank * base + (rank < extra ? rank : extra);
  *out_count = base + (rank < extra);
}

void kcb__dist_shard(const kcb_distributed *d, int64_t count, int64_t *out_first, int64_t *out_count) {
  kcb__dist_shard_of(count, kcb_distributed_size(d), kcb_distributed_rank(d), out_first, out_count);
}

#define FNV_OFFSET 1469598103934665603ull

static uint64_t fnv1a(uint64_t h, const void *bytes, size_t n) {
  const unsigned char *p = bytes;
  for (size_t b = 0; b < n; b++) h = (h ^ p[b]) * 1099511628211ull;
  return h;
}

int64_t kcb__dist_fingerprint(const float *data, int64_t n, int64_t per_sample) {
  uint64_t h = FNV_OFFSET;
  if (!data || n <= 0) return 0;
  int64_t stride = n > 1024 ? (n - 1) / 1023 : 1;
  for (int64_t i = 0; i < n; i += stride) {
    int64_t s = i + stride >= n ? n - 1 : i; /* the last pass takes the last sample */
    h = fnv1a(h, data + s * per_sample, (size_t)per_sample * sizeof(float));
    if (s == n - 1) break;
  }
  return (int64_t)(h >> 1); /* non-negative, for the messages */
}

int64_t kcb__dist_fingerprint_text(const char *text) {
  return text ? (int64_t)(fnv1a(FNV_OFFSET, text, strlen(text)) >> 1) : 0;
}

unsigned kcb__dist_local_hooks(const kcb_callback_list *list) {
  unsigned mask = 0;
  for (size_t i = 0; i < list->count; i++) {
    const kcb_callback_ops *o = list->items[i]->ops;
    const int slot[KCB_HOOK_COUNT] = {
        [KCB_HOOK_TRAIN_BEGIN] = o->on_train_begin != NULL, [KCB_HOOK_TRAIN_END] = o->on_train_end != NULL,
        [KCB_HOOK_EPOCH_BEGIN] = o->on_epoch_begin != NULL, [KCB_HOOK_EPOCH_END] = o->on_epoch_end != NULL,
        [KCB_HOOK_TRAIN_BATCH_BEGIN] = o->on_train_batch_begin != NULL,
        [KCB_HOOK_TRAIN_BATCH_END] = o->on_train_batch_end != NULL,
        [KCB_HOOK_TEST_BEGIN] = o->on_test_begin != NULL, [KCB_HOOK_TEST_END] = o->on_test_end != NULL,
        [KCB_HOOK_TEST_BATCH_BEGIN] = o->on_test_batch_begin != NULL,
        [KCB_HOOK_TEST_BATCH_END] = o->on_test_batch_end != NULL,
        [KCB_HOOK_PREDICT_BEGIN] = o->on_predict_begin != NULL, [KCB_HOOK_PREDICT_END] = o->on_predict_end != NULL,
        [KCB_HOOK_PREDICT_BATCH_BEGIN] = o->on_predict_batch_begin != NULL,
        [KCB_HOOK_PREDICT_BATCH_END] = o->on_predict_batch_end != NULL};
    for (int h = 0; h < KCB_HOOK_COUNT; h++)
      if (slot[h]) mask |= 1u << h;
    int tb = kcb__tensorboard_reads_last_batch(list->items[i]);
    if (o->on_test_batch_end && (tb > 0 || (tb < 0 && !(o->name && strcmp(o->name, "ProgbarLogger") == 0))))
      mask |= KCB__DIST_READS_TEST_BATCHES;
  }
  return mask;
}

/* The built-ins that write files: one copy of each file, written by rank 0. */
static int writes_files(const kcb_callback *cb) {
  static const char *const names[] = {"TensorBoard", "CSVLogger", "ModelCheckpoint", "ProgbarLogger",
                                      "BackupAndRestore"};
  for (size_t i = 0; cb->ops->name && i < sizeof names / sizeof names[0]; i++)
    if (strcmp(cb->ops->name, names[i]) == 0) return 1;
  return 0;
}

static _Thread_local const char *current_op = "fit";

void kcb__dist_set_op(const char *op) { current_op = op; }

const char *kcb__dist_op(void) { return current_op; }

void kcb__dist_attach(const kcb_distributed *d, kcb_callback_list *list) {
  list->params.rank = kcb_distributed_rank(d);
  list->params.size = kcb_distributed_size(d);
  if (list->params.rank == 0) return;
  size_t kept = 0;
  for (size_t i = 0; i < list->count; i++)
    if (!writes_files(list->items[i])) list->items[kept++] = list->items[i];
  list->count = kept;
}
