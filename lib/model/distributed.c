/* model/distributed.c — data-parallel fit over MPI (built with KCB_MPI): the collectives fit calls
 * at its few distribution points (see distributed_internal.h). Only the thread that calls fit talks
 * to MPI, so MPI_THREAD_FUNNELED is enough even with the event writer's thread running. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "model/distributed_internal.h"

struct kcb_distributed {
  MPI_Comm comm; /* a duplicate of the caller's communicator */
  int rank, size;
  double allreduce_seconds; /* in the gradient allreduce, waiting for slower ranks included */
  int64_t allreduces;
  int *counts, *displs;     /* per rank, for kcb__dist_gather_batch */
};

static int mpi_error(int mpi_rc, const char *what) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(mpi_rc, text, &len) != MPI_SUCCESS) snprintf(text, sizeof text, "MPI error %d", mpi_rc);
  return kcb__error(KCB_EIO, "distributed %s: %s failed: %s", kcb__dist_op(), what, text);
}

int kcb_distributed_available(void) { return 1; }

/* MPI is finalised when the last handle goes, if kcb initialised it: a handle freed while another
 * is still in use must not end MPI under it (a later collective would abort the process). */
static int kcb_owns_mpi, live_handles;

int kcb_distributed_new(kcb_distributed **out, const kcb_distributed_options *opts) {
  if (!out) return kcb__error(KCB_EINVAL, "distributed: out is NULL");
  *out = NULL;
  /* MPI's default handler would end the process on a null communicator, inside MPI_Comm_dup */
  if (opts && opts->mpi_comm && *(const MPI_Comm *)opts->mpi_comm == MPI_COMM_NULL)
    return kcb__error(KCB_EINVAL, "distributed: the communicator is MPI_COMM_NULL (this process is in none)");
  int initialized = 0, finalized = 0, rc;
  MPI_Finalized(&finalized);
  if (finalized) return kcb__error(KCB_ESTATE, "distributed: MPI was already finalised in this process");
  kcb_distributed *d = calloc(1, sizeof *d);
  if (!d) return kcb__error(KCB_ENOMEM, "distributed: out of memory");
  d->comm = MPI_COMM_NULL;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    if ((rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided)) != MPI_SUCCESS) {
      free(d);
      return mpi_error(rc, "MPI_Init_thread");
    }
    kcb_owns_mpi = 1;
  }
  live_handles++;
  MPI_Comm base = opts && opts->mpi_comm ? *(const MPI_Comm *)opts->mpi_comm : MPI_COMM_WORLD;
  /* Errors come back as codes, so fit can return them instead of MPI ending the process. */
  if ((rc = MPI_Comm_dup(base, &d->comm)) != MPI_SUCCESS ||
      (rc = MPI_Comm_set_errhandler(d->comm, MPI_ERRORS_RETURN)) != MPI_SUCCESS) {
    kcb_distributed_free(d);
    return mpi_error(rc, "MPI_Comm_dup");
  }
  MPI_Comm_rank(d->comm, &d->rank);
  MPI_Comm_size(d->comm, &d->size);
  d->counts = malloc(2 * (size_t)d->size * sizeof *d->counts);
  if (!d->counts) {
    kcb_distributed_free(d);
    return kcb__error(KCB_ENOMEM, "distributed: out of memory");
  }
  d->displs = d->counts + d->size;
  *out = d;
  return 0;
}

int kcb_distributed_rank(const kcb_distributed *d) { return d ? d->rank : 0; }
int kcb_distributed_size(const kcb_distributed *d) { return d ? d->size : 1; }

void kcb_distributed_allreduce_time(const kcb_distributed *d, double *out_seconds, int64_t *out_calls) {
  *out_seconds = d ? d->allreduce_seconds : 0;
  *out_calls = d ? d->allreduces : 0;
}

int kcb_distributed_max_int(const kcb_distributed *d, int *value) {
  if (!d || d->size == 1) return 0;
  int rc = MPI_Allreduce(MPI_IN_PLACE, value, 1, MPI_INT, MPI_MAX, d->comm);
  return rc == MPI_SUCCESS ? 0 : mpi_error(rc, "MPI_Allreduce of kcb_distributed_max_int");
}

void kcb_distributed_abort(kcb_distributed *d, int status) {
  if (d && d->size > 1) MPI_Abort(d->comm, status);
}

void kcb_distributed_free(kcb_distributed *d) {
  if (!d) return;
  if (d->comm != MPI_COMM_NULL) MPI_Comm_free(&d->comm);
  if (--live_handles == 0 && kcb_owns_mpi) {
    kcb_owns_mpi = 0;
    MPI_Finalize();
  }
  free(d->counts);
  free(d);
}

/* ---- the train loop's collectives ---------------------------------------------------------- */

int kcb__dist_agree(const kcb_distributed *d, int local_rc, const kcb__dist_check *check) {
  if (!d || d->size == 1) return local_rc;
  /* Each rank sends its result, where it is (the operation and the point in it: ranks that called
   * different operations must not compare values that mean different things), then its values; one
   * allgather and every rank sees them all. */
  enum { HEAD = 2, STRIDE = HEAD + KCB__DIST_MAX_CHECKS };
  const char *point = check && check->point ? check->point : "start";
  const uint64_t op = (uint64_t)kcb__dist_fingerprint_text(kcb__dist_op()), at = (uint64_t)kcb__dist_fingerprint_text(point);
  int64_t mine[STRIDE] = {local_rc, (int64_t)((op ^ 31u * at) >> 1)}; /* unsigned: wraps, never overflows */
  int n = check && local_rc == 0 ? check->n : 0;
  for (int i = 0; i < n; i++) mine[HEAD + i] = check->value[i];
  int64_t *all = malloc((size_t)d->size * sizeof mine);
  if (!all) return kcb__error(KCB_ENOMEM, "distributed %s: out of memory", kcb__dist_op());
  int rc = MPI_Allgather(mine, STRIDE, MPI_INT64_T, all, STRIDE, MPI_INT64_T, d->comm);
  if (rc != MPI_SUCCESS) {
    free(all);
    return mpi_error(rc, "MPI_Allgather");
  }
  rc = local_rc;
  for (int r = 0; rc == 0 && r < d->size; r++)
    if (all[r * STRIDE] != 0)
      rc = kcb__error(KCB_ESTATE, "%s: rank %d of %d %s (its message says why)", kcb__dist_op(), r, d->size,
                      check ? "could not start" : "failed");
  for (int r = 0; rc == 0 && r < d->size; r++)
    if (all[r * STRIDE + 1] != mine[1])
      rc = kcb__error(KCB_ESTATE, "%s: rank %d of %d is not at this rank's point (the %s of %s): it called another "
                      "operation, or fewer or more of them; every rank must call fit, evaluate and predict alike, in the "
                      "same order", kcb__dist_op(), r, d->size, point, kcb__dist_op());
  for (int r = 1; rc == 0 && r < d->size; r++)
    for (int i = 0; rc == 0 && i < n; i++) {
      int64_t v0 = all[HEAD + i], vr = all[r * STRIDE + HEAD + i];
      static const char fingerprint[] = "fingerprint: ";
      const char *what = check->name[i];
      if (v0 != vr && strncmp(what, fingerprint, sizeof fingerprint - 1) == 0) /* its number means nothing to a reader */
        rc = kcb__error(KCB_EINVAL,
                        "%s: rank %d and rank 0 have different %s; every rank must be given the same data and options "
                        "(each rank runs its own shard of every global batch)", kcb__dist_op(), r, what + sizeof fingerprint - 1);
      else if (v0 != vr)
        rc = kcb__error(KCB_EINVAL,
                        "%s: rank %d has %s = %lld but rank 0 has %lld; every rank must be given the same data and "
                        "options (each rank runs its own shard of every global batch)",
                        kcb__dist_op(), r, what, (long long)vr, (long long)v0);
    }
  free(all);
  return rc;
}

int kcb__dist_average_grads(kcb_distributed *d, float *grads, size_t n, int64_t local) {
  if (!d || d->size == 1) return 0;
  if (local == 0) memset(grads, 0, n * sizeof *grads);
  double t0 = MPI_Wtime();
  int rc = MPI_Allreduce(MPI_IN_PLACE, grads, (int)n, MPI_FLOAT, MPI_SUM, d->comm);
  d->allreduce_seconds += MPI_Wtime() - t0;
  d->allreduces++;
  return rc == MPI_SUCCESS ? 0 : mpi_error(rc, "MPI_Allreduce of the gradients");
}

int kcb__dist_sum_means(const kcb_distributed *d, const kcb__mean *local, kcb__mean *global, size_t n, int local_rc,
                        int local_stop, int *stop_any) {
  if (!d || d->size == 1) {
    memcpy(global, local, n * sizeof *global);
    if (local_stop) *stop_any = 1;
    return local_rc;
  }
  /* (total, count) pairs, how many ranks failed and how many were asked to stop: one small
   * allreduce per batch. */
  double buf[2 * (1 + KCB__MAX_METRICS) + 2];
  for (size_t i = 0; i < n; i++) {
    buf[2 * i] = local[i].total;
    buf[2 * i + 1] = local[i].count;
  }
  buf[2 * n] = local_rc != 0;
  buf[2 * n + 1] = local_stop != 0;
  int rc = MPI_Allreduce(MPI_IN_PLACE, buf, (int)(2 * n + 2), MPI_DOUBLE, MPI_SUM, d->comm);
  if (rc != MPI_SUCCESS) return mpi_error(rc, "MPI_Allreduce of the metrics");
  for (size_t i = 0; i < n; i++) global[i] = (kcb__mean){buf[2 * i], buf[2 * i + 1]};
  if (buf[2 * n + 1] > 0) *stop_any = 1;
  if (local_rc) return local_rc;
  if (buf[2 * n] > 0)
    return kcb__error(KCB_ESTATE, "%s: %g of %d ranks failed in this batch (their messages say why)", kcb__dist_op(),
                      buf[2 * n], d->size);
  return 0;
}

int kcb__dist_sum_doubles(const kcb_distributed *d, double *v, int n) {
  if (!d || d->size == 1) return 0;
  int rc = MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_SUM, d->comm);
  return rc == MPI_SUCCESS ? 0 : mpi_error(rc, "MPI_Allreduce of BatchNormalization's moments");
}

int kcb__dist_sum_floats(const kcb_distributed *d, float *v, int n) {
  if (!d || d->size == 1) return 0;
  int rc = MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_FLOAT, MPI_SUM, d->comm);
  return rc == MPI_SUCCESS ? 0 : mpi_error(rc, "MPI_Allreduce of BatchNormalization's gradient sums");
}

int kcb__dist_after_hook(const kcb_distributed *d, int local_rc, const char *hook, int *stop_training,
                         int *stop_evaluating) {
  if (!d || d->size == 1) return local_rc;
  /* The lowest failed rank as size - rank (0: none), so one MAX finds it along with the flags. */
  int v[3] = {local_rc ? d->size - d->rank : 0, *stop_training != 0, *stop_evaluating != 0};
  int rc = MPI_Allreduce(MPI_IN_PLACE, v, 3, MPI_INT, MPI_MAX, d->comm);
  if (rc != MPI_SUCCESS) return local_rc ? local_rc : mpi_error(rc, "MPI_Allreduce after a hook");
  *stop_training = v[1];
  *stop_evaluating = v[2];
  if (local_rc || v[0] == 0) return local_rc;
  return kcb__error(KCB_ECALLBACK, "%s: a callback failed in %s on rank %d of %d (its message says why)", kcb__dist_op(),
                    hook, d->size - v[0], d->size);
}

int kcb__dist_hooks_used(const kcb_distributed *d, const kcb_callback_list *list, unsigned *out_mask) {
  *out_mask = kcb__dist_local_hooks(list);
  if (!d || d->size == 1) return 0;
  int rc = MPI_Allreduce(MPI_IN_PLACE, out_mask, 1, MPI_UNSIGNED, MPI_BOR, d->comm);
  return rc == MPI_SUCCESS ? 0 : mpi_error(rc, "MPI_Allreduce of the hooks in use");
}

int kcb__dist_gather_reserve(const kcb_distributed *d, kcb_model *m, int64_t batch, int64_t y_size) {
  if (!d || d->size == 1) return 0;
  size_t need = (size_t)(batch * (kcb__model_output_layer(m)->out_size + y_size)), have = m->gathered_size;
  int rc = 0;
  if (need > INT_MAX) /* MPI counts are ints */
    rc = kcb__error(KCB_EINVAL, "distributed validation: a batch of %lld holds %zu predictions and targets, more than "
                    "MPI can gather at once; use a smaller batch", (long long)batch, need);
  else if (need > have) {
    float *grown = realloc(m->gathered, need * sizeof *grown);
    if (grown) m->gathered = grown, m->gathered_size = need;
    else rc = kcb__error(KCB_ENOMEM, "distributed validation: out of memory for a batch of %lld predictions", (long long)batch);
  }
  return kcb__dist_agree(d, rc, NULL);
}

/* Gathers `per_sample` floats of each rank's shard of `count` samples into `into`, in rank order. */
static int gather_shards(const kcb_distributed *d, const float *mine, int64_t count, int64_t per_sample, float *into) {
  static const float nothing[1];
  for (int r = 0; r < d->size; r++) {
    int64_t first, n;
    kcb__dist_shard_of(count, d->size, r, &first, &n);
    d->counts[r] = (int)(n * per_sample), d->displs[r] = (int)(first * per_sample);
  }
  int rc = MPI_Allgatherv(d->counts[d->rank] ? mine : nothing, d->counts[d->rank], MPI_FLOAT, into, d->counts, d->displs,
                          MPI_FLOAT, d->comm);
  return rc == MPI_SUCCESS ? 0 : mpi_error(rc, "MPI_Allgatherv of a validation batch");
}

int kcb__dist_gather_batch(const kcb_distributed *d, kcb_model *m, int64_t count, int64_t mine, int64_t y_size) {
  if (!d || d->size == 1) return 0;
  const int64_t out_size = kcb__model_output_layer(m)->out_size;
  float *pred = m->gathered, *y = m->gathered + count * out_size;
  int rc = gather_shards(d, mine ? m->last_pred : NULL, count, out_size, pred);
  if (rc == 0) rc = gather_shards(d, mine ? m->last_y : NULL, count, y_size, y);
  if (rc) return rc;
  m->last_pred = pred, m->last_y = y, m->last_count = count;
  return 0;
}

int kcb__dist_broadcast_model(const kcb_distributed *d, kcb_model *m) {
  if (!d || d->size == 1) return 0;
  int rc = MPI_Bcast(m->params, (int)m->n_params, MPI_FLOAT, 0, d->comm);
  if (rc == MPI_SUCCESS && m->opt.n_slots > 0)
    rc = MPI_Bcast(m->opt.slots, (int)((size_t)m->opt.n_slots * m->n_params), MPI_FLOAT, 0, d->comm);
  if (rc != MPI_SUCCESS) return mpi_error(rc, "MPI_Bcast of the weights");
  /* The small state in one message: iterations, learning rate, resume point, RNG states, the
   * backup's batching and first iteration (another batching restarts the epoch: every rank must
   * see it to run the same steps), and the resumed epoch's running means (whether to take them,
   * then the (total, count) pairs). */
  enum { BATCHING_AT = 5 + 3 * 4, MEANS_AT = BATCHING_AT + 3, N_MEANS = 2 * (1 + KCB__MAX_METRICS) };
  uint64_t s[MEANS_AT + 1 + N_MEANS];
  s[0] = (uint64_t)m->opt.iterations;
  memcpy(&s[1], &m->opt.learning_rate, sizeof m->opt.learning_rate);
  s[2] = (uint64_t)m->resume_pending;
  s[3] = (uint64_t)(int64_t)m->resume_epoch;
  s[4] = (uint64_t)m->resume_batch;
  memcpy(&s[5], m->init_rng.s, sizeof m->init_rng.s);
  memcpy(&s[9], m->dropout_rng.s, sizeof m->dropout_rng.s);
  memcpy(&s[13], m->shuffle_rng.s, sizeof m->shuffle_rng.s);
  s[BATCHING_AT] = (uint64_t)m->resume_batch_size;
  s[BATCHING_AT + 1] = (uint64_t)m->resume_samples;
  s[BATCHING_AT + 2] = (uint64_t)m->fit_start_iterations;
  s[MEANS_AT] = (uint64_t)m->resume_means;
  memcpy(&s[MEANS_AT + 1], m->epoch_means, sizeof m->epoch_means);
  if ((rc = MPI_Bcast(s, (int)(sizeof s / sizeof s[0]), MPI_UINT64_T, 0, d->comm)) != MPI_SUCCESS)
    return mpi_error(rc, "MPI_Bcast of the training state");
  m->opt.iterations = (int64_t)s[0];
  memcpy(&m->opt.learning_rate, &s[1], sizeof m->opt.learning_rate);
  m->resume_pending = (int)s[2];
  m->resume_epoch = (int)(int64_t)s[3];
  m->resume_batch = (int64_t)s[4];
  memcpy(m->init_rng.s, &s[5], sizeof m->init_rng.s);
  memcpy(m->dropout_rng.s, &s[9], sizeof m->dropout_rng.s);
  memcpy(m->shuffle_rng.s, &s[13], sizeof m->shuffle_rng.s);
  m->resume_batch_size = (int64_t)s[BATCHING_AT];
  m->resume_samples = (int64_t)s[BATCHING_AT + 1];
  m->fit_start_iterations = (int64_t)s[BATCHING_AT + 2];
  m->resume_means = (int)s[MEANS_AT];
  memcpy(m->epoch_means, &s[MEANS_AT + 1], sizeof m->epoch_means);
  /* the dropout stream too: each step derives every rank's own masks from it (train.c) */
  return 0;
}
