/* model/distributed_common.c — the parts of a distributed fit that need no MPI: which samples of a
 * global batch are this rank's, and which callbacks run on which rank. */
#include <stdlib.h>
#include <string.h>

#include "model/distributed_internal.h"

void kcb__dist_shard(const kcb_distributed *d, int64_t count, int64_t *out_first, int64_t *out_count) {
  int64_t size = kcb_distributed_size(d), rank = kcb_distributed_rank(d);
  int64_t base = count / size, extra = count % size;
  *out_first = rank * base + (rank < extra ? rank : extra);
  *out_count = base + (rank < extra);
}

/* The built-ins that write files: one copy of each file, written by rank 0. */
static int writes_files(const kcb_callback *cb) {
  static const char *const names[] = {"TensorBoard", "CSVLogger", "ModelCheckpoint", "ProgbarLogger",
                                      "BackupAndRestore"};
  for (size_t i = 0; cb->ops->name && i < sizeof names / sizeof names[0]; i++)
    if (strcmp(cb->ops->name, names[i]) == 0) return 1;
  return 0;
}

void kcb__dist_attach(const kcb_distributed *d, kcb_callback_list *list) {
  list->params.rank = kcb_distributed_rank(d);
  list->params.size = kcb_distributed_size(d);
  if (list->params.rank == 0) return;
  size_t kept = 0;
  for (size_t i = 0; i < list->count; i++)
    if (!writes_files(list->items[i])) list->items[kept++] = list->items[i];
  list->count = kept;
}
