/* model/distributed_stub.c — the distributed module of a kcb built without MPI (KCB_MPI off): no
 * communicator can be made, so fit always runs alone and every collective is a copy or nothing. */
#include <stdlib.h>
#include <string.h>

#include "model/distributed_internal.h"

int kcb_distributed_available(void) { return 0; }

int kcb_distributed_new(kcb_distributed **out, const kcb_distributed_options *opts) {
  (void)opts;
  *out = NULL;
  return kcb__error(KCB_ESTATE, "distributed: this kcb was built without MPI (install libopenmpi-dev and "
                                "configure with -DKCB_MPI=ON)");
}

int kcb_distributed_rank(const kcb_distributed *d) { return 0; }
int kcb_distributed_size(const kcb_distributed *d) { return 1; }
void kcb_distributed_abort(kcb_distributed *d, int status) { (void)d, (void)status; }
int kcb_distributed_max_int(const kcb_distributed *d, int *value) { return (void)d, (void)value, 0; }
void kcb_distributed_free(kcb_distributed *d) { (void)d; }

void kcb_distributed_allreduce_time(const kcb_distributed *d, double *out_seconds, int64_t *out_calls) {
  *out_seconds = 0;
  *out_calls = 0;
}

int kcb__dist_agree(const kcb_distributed *d, int local_rc, const kcb__dist_check *check) { return local_rc; }

int kcb__dist_average_grads(kcb_distributed *d, float *grads, size_t n, int64_t local) {
  return 0;
}

int kcb__dist_sum_means(const kcb_distributed *d, const kcb__mean *local, kcb__mean *global, size_t n, int local_rc,
                        int local_stop, int *stop_any) {
  memcpy(global, local, n * sizeof *global);
  if (local_stop) *stop_any = 1;
  return local_rc;
}

int kcb__dist_sum_doubles(const kcb_distributed *d, double *v, int n) { return 0; }
int kcb__dist_sum_floats(const kcb_distributed *d, float *v, int n) { return 0; }

int kcb__dist_after_hook(const kcb_distributed *d, int local_rc, const char *hook, int *stop_training,
                         int *stop_evaluating) {
  return local_rc;
}

int kcb__dist_hooks_used(const kcb_distributed *d, const kcb_callback_list *list, unsigned *out_mask) {
  *out_mask = kcb__dist_local_hooks(list);
  return 0;
}

int kcb__dist_broadcast_model(const kcb_distributed *d, kcb_model *m) { return 0; }
int kcb__dist_gather_reserve(const kcb_distributed *d, kcb_model *m, int64_t batch, int64_t y_size) { return 0; }
int kcb__dist_gather_batch(const kcb_distributed *d, kcb_model *m, int64_t count, int64_t mine, int64_t y_size) {
  return 0;
}
