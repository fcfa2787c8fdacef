/* model/train.c — fit, evaluate and predict, driving the callback hooks exactly as Keras 3's
 * trainer does (spec/keras-callbacks.md §1.3). Nothing is allocated per batch. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/config_json.h"
#include "model/distributed_internal.h"
#include "model/model_internal.h"

/* Input/target arrays checked against the model, with what each sample occupies. */
typedef struct dataset_view {
  const float *x, *y;      /* (n, x_size), (n, y_size) */
  int64_t n;
  int64_t y_size;
} dataset_view;

/* A run's callback list and the logs a hook receives: each hook gets a fresh copy of its
 * source logs, as Keras's pythonify_logs builds a new dict per dispatch. */
typedef struct run_hooks {
  kcb_callback_list list;
  kcb_logs scratch;
  kcb_distributed *dist;                    /* NULL: this process alone */
  kcb_model *model;
  unsigned hooks_used;                      /* distributed: the hooks some rank has a callback for */
  int stop_requested;                       /* the model's stop_requested as every rank agreed on it */
  kcb__mean global[1 + KCB__MAX_METRICS];   /* the loss, then the metrics, summed over ranks: what logs show */
  /* what the caller's callbacks pointed at before this run: a run inside another's hook (evaluate
   * from on_epoch_end) given the same callback gives the outer run its params and model back */
  size_t n_given;
  const kcb_callback_params *given_params[KCB_CALLBACK_LIST_MAX];
  kcb_model *given_model[KCB_CALLBACK_LIST_MAX];
} run_hooks;

/* Ends a run's hooks: the caller's callbacks get back the params they had before it (this run's
 * are freed), and the model of an outer run they were in; after a run of their own they keep its
 * model, as Keras's callback.model stays set. */
static void release_hooks(run_hooks *h) {
  if (!h) return;
  for (size_t i = h->n_given; i-- > 0;) {
    h->list.items[i]->params = h->given_params[i];
    if (h->given_model[i]) h->list.items[i]->model = h->given_model[i];
  }
  free(h);
}

static int call_hook(run_hooks *h, kcb_hook hook, int64_t index, const kcb_logs *source) {
  if (source) kcb_logs_copy(&h->scratch, source); else kcb_logs_clear(&h->scratch);
  int rc = kcb__callback_list_dispatch(&h->list, hook, index, &h->scratch); /* fit's numbers are C's already */
  if (rc && kcb_error_last()[0] == '\0')
    kcb__error(rc, "callback failed in %s with %s", kcb_hook_name(hook), kcb_error_name(rc));
  /* Distributed: every rank learns of a failure or stop request on any rank, at the same hook. */
  if (!h->dist || !(h->hooks_used >> hook & 1u)) return rc;
  return kcb__dist_after_hook(h->dist, rc, kcb_hook_name(hook), &h->model->stop_training, &h->model->stop_evaluating);
}

/* After the hooks of a step or epoch in which BackupAndRestore wrote a backup: what the writers
 * after it in the list logged for that step goes to the files too (BackupAndRestore flushed those
 * before it), since a run resumed from the backup will not log that step again. */
static void flush_after_backup(kcb_model *m) {
  if (!m->backup_written) return;
  m->backup_written = 0;
  kcb__model_flush_writers(m);
}

static int64_t rows_per_sample(const kcb__layer *out) { return out->out_size / out->out_width; }

/* Scans blocks branch-free (an all-ones exponent is Inf or NaN), so the pass over a whole data set
 * vectorises and runs at memory speed; only a block that holds one is searched element by element. */
static int check_finite(const float *v, int64_t n, int64_t per_sample, const char *what, const char *name) {
  enum { BLOCK = 4096 };
  for (int64_t start = 0; start < n; start += BLOCK) {
    int64_t end = n - start < BLOCK ? n : start + BLOCK;
    uint32_t bad = 0;
    for (int64_t i = start; i < end; i++) {
      uint32_t bits;
      memcpy(&bits, &v[i], sizeof bits);
      bad |= (bits & 0x7f800000u) == 0x7f800000u;
    }
    if (!bad) continue;
    for (int64_t i = start; i < end; i++)
      if (!isfinite(v[i]))
        return kcb__error(KCB_ENAN, "%s: %s holds a non-finite value (%g) in sample %lld", what, name, (double)v[i],
                          (long long)(i / per_sample));
  }
  return 0;
}

/* Checks x (and y unless NULL) against the model's input and output. */
static int check_data(const kcb_model *m, const char *what, const kcb_tensor *x, const kcb_tensor *y, dataset_view *out) {
  char got[96], want[96];
  int rc = kcb__tensor_check(x, what, "x");
  if (rc || (y && (rc = kcb__tensor_check(y, what, "y")))) return rc;
  int ok = x->rank == m->in_rank + 1;
  for (int i = 0; ok && i < m->in_rank; i++) ok = x->shape[i + 1] == m->in_shape[i];
  if (!ok) {
    int64_t batch_shape[KCB_MAX_RANK] = {0};
    memcpy(batch_shape + 1, m->in_shape, (size_t)m->in_rank * sizeof batch_shape[0]);
    kcb_tensor expect = kcb_tensor_view(NULL, m->in_rank + 1, batch_shape);
    kcb_tensor_shape_string(&expect, want, sizeof want);
    return kcb__error(KCB_ESHAPE, "%s: x has shape %s but the model expects (None%s", what,
                      kcb_tensor_shape_string(x, got, sizeof got), want + 2); /* "(0, ..." -> "(None, ..." */
  }
  out->x = x->data;
  out->n = x->shape[0];
  out->y = NULL;
  out->y_size = 0;
  rc = check_finite(x->data, kcb_tensor_size(x), m->in_size, what, "x");
  if (rc || !y) return rc;
  if (y->shape[0] != out->n)
    return kcb__error(KCB_ESHAPE, "%s: x has %lld samples but y has shape %s", what, (long long)out->n,
                      kcb_tensor_shape_string(y, got, sizeof got));
  const kcb__layer *o = kcb__model_output_layer(m);
  int64_t y_size = kcb_tensor_sample_size(y);
  int64_t expect = kcb__loss_is_sparse(m->loss) ? rows_per_sample(o) : o->out_size;
  if (y_size != expect)
    return kcb__error(KCB_ESHAPE, "%s: y has shape %s, %lld values per sample, but the model's output needs %lld%s", what,
                      kcb_tensor_shape_string(y, got, sizeof got), (long long)y_size, (long long)expect,
                      kcb__loss_is_sparse(m->loss) ? " (one class index per sample for sparse_categorical_crossentropy)" : "");
  out->y = y->data;
  out->y_size = y_size;
  rc = check_finite(y->data, kcb_tensor_size(y), y_size, what, "y");
  if (rc || !kcb__loss_is_sparse(m->loss)) return rc;
  /* a class index out of range, found now and named by its sample (the loss would meet it in some
   * shuffled batch, after files were written, as a row of that batch) */
  int64_t n = kcb_tensor_size(y);
  for (int64_t i = 0; i < n; i++) {
    if (!kcb__is_class_index(y->data[i], o->out_width))
      return kcb__error(KCB_EINVAL, "%s: y holds %g in sample %lld, not a class index in 0..%lld (the model has %lld outputs)",
                        what, (double)y->data[i], (long long)(i / y_size), (long long)(o->out_width - 1),
                        (long long)o->out_width);
  }
  return 0;
}

static void reset_metrics(kcb_model *m, run_hooks *h) {
  memset(&m->loss_tracker, 0, sizeof m->loss_tracker);
  memset(m->metric_state, 0, sizeof m->metric_state);
  memset(h->global, 0, sizeof h->global);
}

static int resolve_metrics(kcb_model *m, int64_t y_size) {
  const kcb__layer *o = kcb__model_output_layer(m);
  int sparse = o->out_width > 1 && y_size * o->out_width == o->out_size;
  m->label_width = sparse ? 1 : o->out_width;
  for (size_t i = 0; i < m->n_metrics; i++) {
    m->metric_impl[i] = kcb__metric_resolve(m->metrics[i], o->out_width, sparse);
    int rc = kcb__metric_check(m->metric_impl[i], m->metric_names[i], o->out_width, m->label_width);
    if (rc) return rc;
  }
  return 0;
}

static int metrics_logs(const kcb_model *m, const run_hooks *h, kcb_logs *logs) {
  kcb_logs_clear(logs);
  int rc = kcb_logs_set(logs, "loss", kcb__mean_result(&h->global[0]));
  for (size_t i = 0; rc == 0 && i < m->n_metrics; i++) rc = kcb_logs_set(logs, m->metric_names[i], kcb__mean_result(&h->global[1 + i]));
  return rc;
}

/* Runs the model on `count` samples and updates the loss tracker and metrics; with `train`,
 * also back-propagates. */
static int local_step(kcb_model *m, const float *x, const float *y, int64_t count, int train) {
  const kcb__layer *o = kcb__model_output_layer(m);
  int64_t rows = count * rows_per_sample(o);
  double t = m->profiler ? kcb_profiler_now() : 0;
  const float *pred = kcb__model_forward(m, x, count, train);
  double loss = 0;
  int rc = kcb__loss_compute(m->loss, m->from_logits, pred, y, rows, o->out_width, train ? m->grad_a : NULL, &loss);
  if (rc) {
    if (train && m->sync_dist) kcb__norm_sync_without_samples(m, 0, 1); /* the others' backward waits on it */
    return rc;
  }
  /* Distributed: the loss's gradient is a mean over the global batch, not this rank's share of it,
   * so every gradient backward computes is already weighted for the sum-allreduce after it (one
   * pass over the outputs here instead of one over the whole gradient block there). */
  if (train && m->sync_weight != 1.0f)
    for (int64_t i = 0; i < rows * o->out_width; i++) m->grad_a[i] *= m->sync_weight;
  m->loss_tracker.total += loss * (double)count;
  m->loss_tracker.count += (double)count;
  for (size_t i = 0; i < m->n_metrics; i++) kcb__metric_update(m->metric_impl[i], &m->metric_state[i], pred, y, rows, o->out_width, m->label_width);
  m->last_pred = pred, m->last_y = y, m->last_count = count; /* kcb_model_last_batch */
  kcb__model_span(m, "forward", train, &t); /* with the loss and metrics */
  if (train) {
    kcb__model_backward(m, count);
    kcb__model_span(m, "backward", train, &t);
  }
  return 0;
}

/* One step of a global batch of `global` samples, `count` of them this rank's (all of them when
 * alone): the local step, then (distributed) the averaged gradient and the summed metrics, which
 * every rank takes part in even when its own step failed or it has no samples; then, with `train`,
 * the optimizer step, the same on every rank. */
static int batch_step_flushed(kcb_model *m, run_hooks *h, const float *x, const float *y, int64_t count, int64_t global,
                              int train) {
  int rc = 0;
  m->sync_weight = (float)count / (float)global;
  m->sync_global = global;
  m->sync_rc = 0;
  /* Dropout across processes: every rank keeps the same stream (rank 0's, which a backup saves) and
   * takes one seed from it a step, mixed with its rank, for its own masks; so a run resumed from a
   * backup draws the masks an uninterrupted run draws, on every rank. */
  kcb__rng shared = m->dropout_rng;
  const int own_masks = train && kcb_distributed_size(h->dist) > 1;
  if (own_masks)
    kcb__rng_seed(&m->dropout_rng,
                  kcb__rng_next(&shared) ^ 0x9e3779b97f4a7c15ull * (uint64_t)(kcb_distributed_rank(h->dist) + 1));
  /* Alone, the optimizer runs inside backward, each layer's update while its gradient is in cache;
   * processes average the whole gradient first, and a profile shows the update as its own span. */
  const int update_in_backward = train && !h->dist && !m->profiler && !m->no_fusion;
  m->update_in_backward = update_in_backward;
  if (count > 0) rc = local_step(m, x, y, count, train);
  else if (train && m->sync_dist) kcb__norm_sync_without_samples(m, 1, 1);
  if (own_masks) m->dropout_rng = shared;
  m->update_in_backward = 0;
  if (!rc) rc = m->sync_rc;
  /* the exchanges get spans of their own in a profile: on several processes they are the step's
   * communication (and the wait for the slowest rank), which a trace must not hide */
  double t = m->profiler && h->dist && kcb_distributed_size(h->dist) > 1 ? kcb_profiler_now() : 0;
  if (train && h->dist) {
    int grc = kcb__dist_average_grads(h->dist, m->grads, m->n_params, rc ? 0 : count);
    if (grc) return grc;
    if (t) kcb__model_span(m, "gradient allreduce", train, &t);
  }
  if ((rc = kcb__dist_sum_means(h->dist, &m->loss_tracker, h->global, 1 + m->n_metrics, rc, m->stop_requested,
                                &h->stop_requested)))
    return rc;
  if (t) kcb__model_span(m, "metrics allreduce", train, &t);
  if (train) memcpy(m->epoch_means, h->global, sizeof m->epoch_means); /* for a mid-epoch backup */
  if (train && m->n_train_runs == 0) {
    /* nothing trains (every layer frozen): Keras applies no optimizer step, iterations stay */
  } else if (train && update_in_backward) {
    m->opt.iterations++;
  } else if (train) {
    t = m->profiler ? kcb_profiler_now() : 0;
    kcb__optimizer_step(&m->opt, m->params, m->grads);
    kcb__model_span(m, "optimizer", train, &t);
  }
  return 0;
}

/* Every parameter's bits, hashed (FNV-1a): ranks that applied the same steps hold the same bits,
 * so a difference means a callback changed the model on some ranks only. */
static int64_t weights_hash(const kcb_model *m) {
  uint64_t h = 14695981039346656037ull;
  const uint32_t *w = (const uint32_t *)(const void *)m->params;
  for (size_t i = 0; i < m->n_params; i++) h = (h ^ w[i]) * 1099511628211ull;
  return (int64_t)(h >> 1);
}

/* The step with subnormals flushed to zero, as TensorFlow computes (core/cpu.c says why). */
static int batch_step(kcb_model *m, run_hooks *h, const float *x, const float *y, int64_t count, int64_t global, int train) {
  unsigned saved = kcb__flush_subnormals_begin();
  int rc = batch_step_flushed(m, h, x, y, count, global, train);
  kcb__fp_mode_set(saved);
  return rc;
}

typedef struct gather_job {
  kcb_model *m;
  const dataset_view *d;
  const int64_t *perm; /* the batch's sample indices */
} gather_job;

/* Copies samples [i0, i1) of the batch. The rows lie anywhere in the data set, so the next
 * rows are prefetched while one is copied: the copy waits on memory, not on the CPU. */
static void gather_part(void *ctx, int part, int64_t i0, int64_t i1) {
  const gather_job *j = ctx;
  const int64_t in_size = j->m->in_size, y_size = j->d->y_size, ahead = 2;
  (void)part;
  for (int64_t i = i0; i < i1; i++) {
    if (i + ahead < i1) {
      const char *next = (const char *)(j->d->x + j->perm[i + ahead] * in_size);
      for (size_t at = 0; at < (size_t)in_size * sizeof(float); at += 64) __builtin_prefetch(next + at);
    }
    int64_t s = j->perm[i];
    memcpy(j->m->x_batch + i * in_size, j->d->x + s * in_size, (size_t)in_size * sizeof(float));
    for (int64_t k = 0; k < y_size; k++) j->m->y_batch[i * y_size + k] = j->d->y[s * y_size + k];
  }
}

/* Points at samples [start, start + count) of data, gathering them through perm when given. */
static void batch_pointers(kcb_model *m, const dataset_view *d, const int64_t *perm, int64_t start, int64_t count,
                           const float **x, const float **y) {
  if (!perm) {
    *x = d->x + start * m->in_size;
    *y = d->y ? d->y + start * d->y_size : NULL;
    return;
  }
  gather_job j = {m, d, perm + start};
  kcb__parallel(count, 16384 / (m->in_size + 1) + 1, 1, gather_part, &j);
  *x = m->x_batch;
  *y = m->y_batch;
}

static int64_t batches_of(int64_t n, int64_t batch) { return n / batch + (n % batch != 0); }

/* The largest batch a pass over n samples runs: a batch_size past the data (the whole set as one
 * batch) sizes the workspace by the data, not by batch_size. */
static int64_t largest_batch(int64_t batch, int64_t n) { return batch < n ? batch : n > 0 ? n : 1; }

static int is_progbar(const kcb_callback *cb) { return cb->ops->name && strcmp(cb->ops->name, "ProgbarLogger") == 0; }

/* Builds the list as Keras's CallbackList: the user's callbacks, then History, then a
 * ProgbarLogger when verbose is set and the user gave none. */
static int build_hooks(kcb_model *m, run_hooks *h, kcb_callback **callbacks, size_t n, kcb_history *history,
                       int verbose, FILE *stream, kcb_callback **own_progbar) {
  int rc = 0, have_progbar = 0;
  memset(&h->list, 0, sizeof h->list);
  if (n && !callbacks) return kcb__error(KCB_EINVAL, "%zu callbacks given, but the callback array is NULL", n);
  for (size_t i = 0; i < n; i++) have_progbar |= callbacks[i] && callbacks[i]->ops && is_progbar(callbacks[i]);
  size_t own = (history ? 1 : 0) + (verbose && !have_progbar ? 1 : 0); /* History, a ProgbarLogger */
  if (n + own > KCB_CALLBACK_LIST_MAX)
    return kcb__error(KCB_EINVAL, "%zu callbacks given; with the %zu the run adds (History, a progress bar) a list "
                      "holds %d: give at most %zu", n, own, KCB_CALLBACK_LIST_MAX, (size_t)KCB_CALLBACK_LIST_MAX - own);
  h->n_given = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    const kcb_callback_params *params = callbacks[i] ? callbacks[i]->params : NULL;
    kcb_model *model = callbacks[i] ? callbacks[i]->model : NULL;
    if ((rc = kcb_callback_list_add(&h->list, callbacks[i])) == 0)
      h->given_params[h->n_given] = params, h->given_model[h->n_given++] = model;
  }
  if (rc == 0 && history) rc = kcb_callback_list_add(&h->list, kcb_history_callback(history));
  if (rc == 0 && verbose && !have_progbar) {
    rc = kcb_progbar_logger_new(own_progbar, stream);
    if (rc == 0) rc = kcb_callback_list_add(&h->list, *own_progbar);
  }
  for (size_t i = 0; i < h->list.count; i++) h->list.items[i]->model = m;
  h->list.params.verbose = verbose;
  h->dist = NULL;
  h->model = m;
  h->hooks_used = 0;
  h->stop_requested = 0;
  kcb__dist_attach(NULL, &h->list); /* rank 0 of 1 until fit says otherwise */
  return rc;
}

/* The evaluation loop shared by evaluate and fit's validation (which passes fit's hooks). */
static int run_test(kcb_model *m, run_hooks *h, const dataset_view *d, int64_t batch, kcb_logs *out) {
  int rc = 0;
  kcb_logs logs;
  KCB__TRY(call_hook(h, KCB_HOOK_TEST_BEGIN, 0, NULL));
  reset_metrics(m, h);
  m->stop_evaluating = 0;
  kcb_logs_clear(&logs);
  /* distributed: a callback at each batch's end (PR curves) sees the whole batch, as alone */
  const int gather = h->dist && (h->hooks_used & KCB__DIST_READS_TEST_BATCHES);
  if (gather) KCB__TRY(kcb__dist_gather_reserve(h->dist, m, largest_batch(batch, d->n), d->y_size));
  for (int64_t b = 0, start = 0; start < d->n; b++, start += batch) {
    int64_t count = d->n - start < batch ? d->n - start : batch;
    const float *x, *y;
    int64_t first, mine;
    kcb__dist_shard(h->dist, count, &first, &mine);
    KCB__TRY(call_hook(h, KCB_HOOK_TEST_BATCH_BEGIN, b, NULL));
    batch_pointers(m, d, NULL, start + first, mine, &x, &y);
    KCB__TRY(batch_step(m, h, x, y, mine, count, 0));
    if (gather) KCB__TRY(kcb__dist_gather_batch(h->dist, m, count, mine, d->y_size));
    KCB__TRY(metrics_logs(m, h, &logs));
    KCB__TRY(call_hook(h, KCB_HOOK_TEST_BATCH_END, b, &logs));
    if (m->stop_evaluating) break;
  }
  KCB__TRY(metrics_logs(m, h, &logs));
  KCB__TRY(call_hook(h, KCB_HOOK_TEST_END, 0, &logs));
  if (out) kcb_logs_copy(out, &logs);
done:
  return rc;
}

static int should_validate(const kcb_fit_options *o, int epoch) {
  if (o->validation_epochs) {
    for (size_t i = 0; i < o->n_validation_epochs; i++)
      if (o->validation_epochs[i] == epoch + 1) return 1;
    return 0;
  }
  return (epoch + 1) % o->validation_freq == 0;
}

static int cmp_int(const void *a, const void *b) { return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b); }

/* Which epochs validate (validation_freq or validation_epochs), as a hash ranks compare: a rank
 * that validated alone would wait in the validation pass's reductions for the others. Exact over
 * the run's epochs when there are at most a million (two ways of asking for the same epochs
 * agree), else of the options. */
static int64_t validation_plan_fingerprint(const kcb_fit_options *o, int has_val) {
  if (!has_val) return 0;
  uint64_t h = 1469598103934665603u;
  int *listed = NULL;
  size_t n = o->validation_epochs ? o->n_validation_epochs : 0;
  if (n && (listed = malloc(n * sizeof *listed)) != NULL) {
    memcpy(listed, o->validation_epochs, n * sizeof *listed);
    qsort(listed, n, sizeof *listed, cmp_int);
  }
  if (o->epochs - (int64_t)o->initial_epoch <= 1000000 && (!n || listed)) {
    size_t at = 0;
    for (int epoch = o->initial_epoch; epoch < o->epochs; epoch++) {
      while (at < n && listed[at] < epoch + 1) at++; /* 1-based, sorted: walked once */
      int validates = o->validation_epochs ? at < n && listed[at] == epoch + 1 : (epoch + 1) % o->validation_freq == 0;
      if (validates) h = (h ^ (uint64_t)epoch) * 1099511628211u;
    }
  } else {
    for (size_t i = 0; i < n; i++)
      h = (h ^ (uint64_t)(uint32_t)(listed ? listed[i] : o->validation_epochs[i])) * 1099511628211u;
    if (!o->validation_epochs) h = (h ^ (uint64_t)(uint32_t)o->validation_freq) * 1099511628211u;
  }
  free(listed);
  return (int64_t)(h >> 1);
}

static int check_fit_options(const kcb_fit_options *o) {
  if (o->batch_size <= 0) return kcb__error(KCB_EINVAL, "fit: batch_size must be positive, got %lld", (long long)o->batch_size);
  if (o->epochs < 0) return kcb__error(KCB_EINVAL, "fit: epochs must be >= 0, got %d", o->epochs);
  if (o->initial_epoch < 0) return kcb__error(KCB_EINVAL, "fit: initial_epoch must be >= 0, got %d", o->initial_epoch);
  if (o->verbose < 0 || o->verbose > 2) return kcb__error(KCB_EINVAL, "fit: verbose must be 0, 1 or 2, got %d", o->verbose);
  if (!(o->validation_split >= 0 && o->validation_split < 1))
    return kcb__error(KCB_EINVAL, "fit: validation_split must be in [0, 1), got %g", o->validation_split);
  if (o->steps_per_epoch < 0) return kcb__error(KCB_EINVAL, "fit: steps_per_epoch must be >= 0");
  if (o->validation_freq < 1 && !o->validation_epochs)
    return kcb__error(KCB_EINVAL, "fit: validation_freq must be >= 1, got %d", o->validation_freq);
  if ((o->validation_x == NULL) != (o->validation_y == NULL))
    return kcb__error(KCB_EINVAL, "fit: validation_data needs both x and y");
  return 0;
}

static int fit(kcb_model *m, const kcb_tensor *x, const kcb_tensor *y, const kcb_fit_options *opts,
               kcb_history **out_history) {
  kcb_fit_options defaults = KCB_FIT_OPTIONS_INIT;
  const kcb_fit_options *o = opts ? opts : &defaults;
  int rc = 0;
  kcb_history *history = NULL;
  kcb_callback *progbar = NULL;
  int64_t *perm = NULL;
  run_hooks *h = NULL;
  kcb_logs *batch_logs = NULL, *epoch_logs = NULL, *val_logs = NULL;
  dataset_view train, val = {0};
  int has_val = 0, agreed = 0;
  kcb_profiler *profiler_before = m->profiler;

  if (out_history) *out_history = NULL;
  if (!m->compiled) KCB__TRY(kcb__error(KCB_ESTATE, "fit: the model must be compiled first"));
  KCB__TRY(check_fit_options(o));
  if (!y) KCB__TRY(kcb__error(KCB_EINVAL, "fit: y is missing"));
  KCB__TRY(check_data(m, "fit", x, y, &train));
  if (o->validation_x) {
    KCB__TRY(check_data(m, "fit (validation_data)", o->validation_x, o->validation_y, &val));
    has_val = val.n > 0;
  } else if (o->validation_split > 0) {
    int64_t split_at = (int64_t)floor((double)train.n * (1.0 - o->validation_split));
    if (split_at == 0 || split_at == train.n)
      KCB__TRY(kcb__error(KCB_EINVAL, "fit: validation_split %g of %lld samples leaves no %s samples", o->validation_split,
                          (long long)train.n, split_at == 0 ? "training" : "validation"));
    val = train;
    val.x += split_at * m->in_size;
    val.y += split_at * train.y_size;
    val.n = train.n - split_at;
    train.n = split_at;
    has_val = 1;
  }
  if (train.n == 0) KCB__TRY(kcb__error(KCB_EINVAL, "fit: no training samples"));
  KCB__TRY(resolve_metrics(m, train.y_size));

  int64_t batch = o->batch_size;
  int64_t full_batches = batches_of(train.n, batch);
  int64_t steps = o->steps_per_epoch > 0 ? o->steps_per_epoch : full_batches;
  KCB__TRY(kcb__model_reserve_workspace(m, largest_batch(batch, has_val && val.n > train.n ? val.n : train.n), train.y_size));
  h = calloc(1, sizeof *h);
  batch_logs = malloc(3 * sizeof *batch_logs);
  if (!h || !batch_logs) KCB__TRY(kcb__error(KCB_ENOMEM, "fit: out of memory"));
  epoch_logs = batch_logs + 1;
  val_logs = batch_logs + 2;
  if (o->shuffle) {
    perm = malloc((size_t)train.n * sizeof *perm);
    if (!perm) KCB__TRY(kcb__error(KCB_ENOMEM, "fit: out of memory for %lld sample indices", (long long)train.n));
  }
  KCB__TRY(kcb_history_new(&history));
  KCB__TRY(build_hooks(m, h, o->callbacks, o->n_callbacks, history, o->verbose, o->progress_stream, &progbar));
  h->list.params.epochs = o->epochs;
  h->list.params.steps = steps;
  h->list.params.has_validation = has_val; /* CSVLogger's val_* columns before the first validated epoch */
  if (o->distributed) { /* every rank the same run, then rank 0's weights everywhere */
    kcb__dist_attach(o->distributed, &h->list);
    h->dist = o->distributed;
    /* the model and its compile options as their configs (layers, shapes, activations, options;
     * loss, metrics, optimizer and its slots): ranks must run the same collectives on the same sizes */
    char *layers_json = NULL, *compile_json = NULL;
    int local_rc = kcb__model_config_json_legacy(m, &layers_json);
    if (local_rc == 0) local_rc = kcb__training_config_json(m, &compile_json);
    kcb__dist_check same = {{"training samples", "validation samples", "batch_size", "epochs", "steps_per_epoch",
                             "initial_epoch", "shuffle", "parameters", "input size", "target size",
                             "fingerprint: inputs x", "fingerprint: targets y", "fingerprint: layer configs",
                             "fingerprint: compile configs (loss, metrics, optimizer)",
                             "fingerprint: validation inputs", "fingerprint: validation targets",
                             "fingerprint: validation epochs (validation_freq or validation_epochs)"},
                            {train.n, has_val ? val.n : 0, batch, o->epochs, steps, o->initial_epoch, o->shuffle != 0,
                             (int64_t)m->n_params, m->in_size, train.y_size,
                             kcb__dist_fingerprint(x->data, x->shape[0], m->in_size),
                             kcb__dist_fingerprint(y->data, y->shape[0], train.y_size),
                             kcb__dist_fingerprint_text(layers_json), kcb__dist_fingerprint_text(compile_json),
                             has_val ? kcb__dist_fingerprint(val.x, val.n, m->in_size) : 0,
                             has_val && val.y ? kcb__dist_fingerprint(val.y, val.n, val.y_size) : 0,
                             validation_plan_fingerprint(o, has_val)}, 17, "start"};
    free(layers_json);
    free(compile_json);
    agreed = 1;
    KCB__TRY(kcb__dist_agree(h->dist, local_rc, &same));
    KCB__TRY(kcb__dist_hooks_used(h->dist, &h->list, &h->hooks_used));
    KCB__TRY(kcb__dist_broadcast_model(h->dist, m));
    m->sync_dist = kcb_distributed_size(h->dist) > 1 ? h->dist : NULL;
  }

  m->stop_training = 0;
  m->interrupted = 0;
  m->n_flushers = 0, m->backup_written = 0, m->backup_attached = 0; /* registered anew by this fit's callbacks */
  m->resume_pending = 0;
  m->resumed = 0;
  kcb__model_notes_clear(m); /* this fit's callbacks note their own; a resumed backup's replace them */
  kcb_logs_clear(epoch_logs);
  KCB__TRY(call_hook(h, KCB_HOOK_TRAIN_BEGIN, 0, NULL));
  KCB__TRY(kcb__dist_broadcast_model(h->dist, m)); /* BackupAndRestore restored on rank 0 alone */
  int64_t batches_seen = 0, skip_batches = 0;
  int pass_open = 0, first_epoch = o->initial_epoch, last_epoch = 0;
  int64_t last_batch = -1; /* where an interrupted fit stopped, for its message */
  if (m->resume_pending) { /* BackupAndRestore: Keras's `initial_epoch = self._initial_epoch or initial_epoch` */
    if (m->resume_epoch > 0 || m->resume_batch >= 0) first_epoch = m->resume_epoch;
    skip_batches = m->resume_batch + 1; /* a mid-epoch backup resumes after its batch, on the same order */
    m->resume_pending = 0;
    m->resumed = 1;
  }
  m->epochs_done = first_epoch;
  if (!m->resumed) m->fit_start_iterations = m->opt.iterations; /* a resumed fit keeps its backup's */
  m->fit_batch_size = batch, m->fit_samples = train.n;
  /* a mid-epoch backup of other batches (another batch_size or data size) cannot say which samples
   * its epoch has seen: that epoch restarts */
  if (m->resumed && skip_batches > 0 && m->resume_batch_size > 0 &&
      (m->resume_batch_size != batch || m->resume_samples != train.n))
    skip_batches = 0;
  /* ... as does one past the end of this fit's epoch (fewer steps_per_epoch, or a damaged file):
   * its batch number says nothing of this epoch, and skipping would leave batches untrained */
  if (m->resumed && skip_batches > steps) skip_batches = 0;
  m->resume_batch_size = m->resume_samples = 0;
  /* the means go on where the batches do: with steps_per_epoch the epoch restarts (as in Keras) */
  int carry_means = m->resumed && m->resume_means == 1 && skip_batches > 0 && o->steps_per_epoch == 0;
  /* a mid-epoch backup without them (kcb 0.1's before they were kept) at the epoch's last batch
   * would leave an epoch with no batch to log: that epoch restarts, as Keras restarts it */
  if (m->resumed && m->resume_means != 1 && skip_batches >= steps) skip_batches = 0;
  m->resume_means = 0;
  for (int epoch = first_epoch; epoch < o->epochs; epoch++) {
    reset_metrics(m, h);
    if (carry_means) { /* the backed-up epoch's running means: rank 0 holds them, so the sum over ranks is theirs */
      memcpy(h->global, m->epoch_means, sizeof h->global);
      if (kcb_distributed_rank(h->dist) == 0) {
        m->loss_tracker = m->epoch_means[0];
        memcpy(m->metric_state, m->epoch_means + 1, sizeof m->metric_state);
      }
    }
    KCB__TRY(call_hook(h, KCB_HOOK_EPOCH_BEGIN, epoch, NULL));
    if (m->sync_dist) { /* the rates the schedules set (and ReduceLROnPlateau's last cut): the same step everywhere */
      uint32_t bits;
      memcpy(&bits, &m->opt.learning_rate, sizeof bits);
      kcb__dist_check lr = {{"fingerprint: learning rates at the epoch's start (a learning-rate callback given to some "
                             "ranks only, or one that changes the rate on some ranks only?)",
                             "fingerprint: weights at the epoch's start (a callback that changed them on some ranks "
                             "only? one that changes the model must change it on every rank)"},
                            {(int64_t)bits, weights_hash(m)}, 2, "start of an epoch"};
      KCB__TRY(kcb__dist_agree(h->dist, 0, &lr));
    }
    /* A new pass over the data each epoch; with steps_per_epoch the pass carries on across
     * epochs and ends the epoch early when the data runs out (Keras's EpochIterator). */
    if (!pass_open || o->steps_per_epoch == 0) {
      /* Each pass shuffles the identity order, so the order depends on the shuffle RNG's state alone
       * and a run resumed from a checkpoint (which saves that state) sees the same batches. */
      for (int64_t i = 0; perm && i < train.n; i++) perm[i] = i;
      if (perm)
        for (int64_t i = train.n - 1; i > 0; i--) {
          int64_t j = (int64_t)kcb__rng_below(&m->shuffle_rng, (uint64_t)i + 1), t = perm[i];
          perm[i] = perm[j];
          perm[j] = t;
        }
      batches_seen = 0;
      pass_open = 1;
    }
    int64_t first_step = 0;
    if (skip_batches > 0 && o->steps_per_epoch == 0) batches_seen = first_step = skip_batches;
    skip_batches = 0;
    if (carry_means) KCB__TRY(metrics_logs(m, h, batch_logs)); /* the epoch's logs even when no batch is left */
    else kcb_logs_clear(batch_logs);
    carry_means = 0;
    int cut = 0;
    for (int64_t step = first_step; step < steps && batches_seen < full_batches; step++) {
      /* checked before each batch, so a request is served after the batch running when it came */
      if (h->dist ? h->stop_requested : m->stop_requested) { /* distributed: as all ranks saw it at one step */
        cut = 1;
        last_batch = step - 1;
        break;
      }
      int64_t start = batches_seen++ * batch;
      int64_t count = train.n - start < batch ? train.n - start : batch;
      const float *bx, *by;
      int64_t first, mine; /* this rank's part of the global batch */
      kcb__dist_shard(h->dist, count, &first, &mine);
      KCB__TRY(call_hook(h, KCB_HOOK_TRAIN_BATCH_BEGIN, step, NULL));
      batch_pointers(m, &train, perm, start + first, mine, &bx, &by);
      KCB__TRY(batch_step(m, h, bx, by, mine, count, 1));
      KCB__TRY(metrics_logs(m, h, batch_logs));
      KCB__TRY(call_hook(h, KCB_HOOK_TRAIN_BATCH_END, step, batch_logs));
      flush_after_backup(m);
      if (m->stop_training) break;
    }
    if (cut) { /* no validation, no on_epoch_end: a half epoch never reaches the logs */
      m->interrupted = 1;
      last_epoch = epoch;
      break;
    }
    if (batches_seen >= full_batches) pass_open = 0;
    kcb_logs_copy(epoch_logs, batch_logs);
    if (has_val && should_validate(o, epoch)) {
      KCB__TRY(run_test(m, h, &val, batch, val_logs));
      for (size_t i = 0; i < val_logs->count; i++) {
        char key[KCB_LOGS_KEY_MAX + 4];
        snprintf(key, sizeof key, "val_%s", val_logs->entries[i].key);
        KCB__TRY(kcb_logs_set(epoch_logs, key, val_logs->entries[i].value));
      }
    }
    KCB__TRY(call_hook(h, KCB_HOOK_EPOCH_END, epoch, epoch_logs));
    m->epochs_done = epoch + 1;
    flush_after_backup(m);
    if (m->stop_training) break;
    if ((h->dist ? h->stop_requested : m->stop_requested) && epoch + 1 < o->epochs) {
      m->interrupted = 1;
      last_epoch = epoch + 1;
      last_batch = -1;
      break;
    }
  }
  m->stop_requested = 0; /* served: by stopping, or by the run ending anyway */
  KCB__TRY(call_hook(h, KCB_HOOK_TRAIN_END, 0, epoch_logs));
  if (m->sync_dist) { /* what fit leaves (EarlyStopping's best weights) is the same everywhere */
    kcb__dist_check end = {{"fingerprint: weights at the end of fit (a callback that changed them on some ranks only, "
                            "as EarlyStopping's restore_best_weights given to rank 0 alone?)"}, {weights_hash(m)}, 1, "end"};
    KCB__TRY(kcb__dist_agree(h->dist, 0, &end));
  }
  if (m->interrupted) {
    if (last_batch >= 0)
      rc = kcb__error(KCB_EINTERRUPTED, "fit: stopped on request after batch %lld of epoch %d (1-based)",
                      (long long)last_batch + 1, last_epoch + 1);
    else
      rc = kcb__error(KCB_EINTERRUPTED, "fit: stopped on request before epoch %d (1-based)", last_epoch + 1);
  }
done:
  m->sync_dist = NULL;
  m->n_flushers = 0; /* the callbacks that registered may be freed after fit */
  m->profiler = profiler_before; /* and so may a profiler one of them set (TensorBoard's profile_batch) */
  m->backup_written = 0;
  if (rc && !agreed) (void)kcb__dist_agree(o->distributed, rc, NULL); /* the others learn this rank cannot start */
  kcb_callback_free(progbar);
  free(perm);
  release_hooks(h);
  free(batch_logs);
  if (rc == 0 && out_history) *out_history = history;
  else kcb_history_free(history);
  return rc;
}

/* No model: the other ranks of a distributed run wait in the agreement at the start, so they are told. */
static int model_missing(const char *op, const kcb_distributed *d) {
  int rc = kcb__error(KCB_EINVAL, "%s: the model is NULL", op);
  kcb__dist_set_op(op);
  if (d) (void)kcb__dist_agree(d, rc, NULL);
  kcb__dist_set_op("fit");
  return rc;
}

/* fit, evaluate and predict split their work over OpenBLAS's thread count (core/pool.c). */
int kcb_model_fit(kcb_model *m, const kcb_tensor *x, const kcb_tensor *y, const kcb_fit_options *opts,
                  kcb_history **out_history) {
  if (out_history) *out_history = NULL;
  if (!m) return model_missing("fit", opts ? opts->distributed : NULL);
  kcb__pool_enter(0);
  kcb__c_numbers numbers = kcb__c_numbers_begin(); /* Keras's 0.5 in any LC_NUMERIC */
  kcb__dist_set_op("fit");
  m->compile_implicit = 0; /* trained with the compile defaults: they are its settings now, in its backups too */
  int rc = fit(m, x, y, opts, out_history);
  kcb__c_numbers_end(numbers);
  kcb__pool_leave();
  return rc;
}

static int evaluate(kcb_model *m, const kcb_tensor *x, const kcb_tensor *y, const kcb_evaluate_options *opts,
                    kcb_logs *out_logs) {
  kcb_evaluate_options defaults = KCB_EVALUATE_OPTIONS_INIT;
  const kcb_evaluate_options *o = opts ? opts : &defaults;
  dataset_view d;
  kcb_callback *progbar = NULL;
  run_hooks *h = NULL;
  int rc = 0, agreed = 0;
  if (!m->compiled) KCB__TRY(kcb__error(KCB_ESTATE, "evaluate: the model must be compiled first"));
  if (o->batch_size <= 0) KCB__TRY(kcb__error(KCB_EINVAL, "evaluate: batch_size must be positive"));
  KCB__TRY(check_data(m, "evaluate", x, y, &d));
  if (!y) KCB__TRY(kcb__error(KCB_EINVAL, "evaluate: y is missing"));
  /* no loss to average: a 0 would read as a perfect model (Keras returns no values) */
  if (d.n == 0) KCB__TRY(kcb__error(KCB_EINVAL, "evaluate: no samples to evaluate"));
  KCB__TRY(resolve_metrics(m, d.y_size));
  KCB__TRY(kcb__model_reserve_workspace(m, largest_batch(o->batch_size, d.n), d.y_size));
  if (!(h = calloc(1, sizeof *h))) KCB__TRY(kcb__error(KCB_ENOMEM, "evaluate: out of memory"));
  KCB__TRY(build_hooks(m, h, o->callbacks, o->n_callbacks, NULL, o->verbose, o->progress_stream, &progbar));
  h->list.params.epochs = 1;
  h->list.params.has_validation = 0;
  h->list.params.steps = batches_of(d.n, o->batch_size);
  if (o->distributed) { /* every rank the same pass over the same data, each its shard of a batch */
    kcb__dist_attach(o->distributed, &h->list);
    h->dist = o->distributed;
    char *layers_json = NULL, *compile_json = NULL;
    int local_rc = kcb__model_config_json_legacy(m, &layers_json);
    if (local_rc == 0) local_rc = kcb__training_config_json(m, &compile_json);
    kcb__dist_check same = {{"samples", "batch_size", "parameters", "input size", "target size", "fingerprint: inputs x",
                             "fingerprint: targets y", "fingerprint: layer configs",
                             "fingerprint: compile configs (loss, metrics, optimizer)"},
                            {d.n, o->batch_size, (int64_t)m->n_params, m->in_size, d.y_size,
                             kcb__dist_fingerprint(x->data, x->shape[0], m->in_size),
                             kcb__dist_fingerprint(y->data, y->shape[0], d.y_size), kcb__dist_fingerprint_text(layers_json),
                             kcb__dist_fingerprint_text(compile_json)}, 9, "start"};
    free(layers_json);
    free(compile_json);
    agreed = 1;
    KCB__TRY(kcb__dist_agree(h->dist, local_rc, &same));
    KCB__TRY(kcb__dist_hooks_used(h->dist, &h->list, &h->hooks_used));
    KCB__TRY(kcb__dist_broadcast_model(h->dist, m));
  }
  KCB__TRY(run_test(m, h, &d, o->batch_size, out_logs));
done:
  /* a rank that failed its own checks still takes part in the agreement the others wait in */
  if (rc && !agreed && o->distributed) (void)kcb__dist_agree(o->distributed, rc, NULL);
  kcb_callback_free(progbar);
  release_hooks(h);
  return rc;
}

int kcb_model_evaluate(kcb_model *m, const kcb_tensor *x, const kcb_tensor *y, const kcb_evaluate_options *opts,
                       kcb_logs *out_logs) {
  if (out_logs) kcb_logs_clear(out_logs); /* no stale logs after a failure */
  if (!m) return model_missing("evaluate", opts ? opts->distributed : NULL);
  kcb__pool_enter(0);
  kcb__c_numbers numbers = kcb__c_numbers_begin(); /* Keras's 0.5 in any LC_NUMERIC */
  kcb__dist_set_op("evaluate");
  int rc = evaluate(m, x, y, opts, out_logs);
  kcb__dist_set_op("fit");
  kcb__c_numbers_end(numbers);
  kcb__pool_leave();
  return rc;
}

static int predict(kcb_model *m, const kcb_tensor *x, const kcb_evaluate_options *opts, kcb_tensor **out) {
  kcb_evaluate_options defaults = KCB_EVALUATE_OPTIONS_INIT;
  const kcb_evaluate_options *o = opts ? opts : &defaults;
  dataset_view d;
  kcb_callback *progbar = NULL;
  kcb_tensor *result = NULL;
  run_hooks *h = NULL;
  int rc = 0;
  *out = NULL;
  if (!m->weights_ready) return kcb__error(KCB_ESTATE, "predict: the model must be compiled first");
  if (o->batch_size <= 0) return kcb__error(KCB_EINVAL, "predict: batch_size must be positive");
  KCB__TRY(check_data(m, "predict", x, NULL, &d));
  const kcb__layer *ol = kcb__model_output_layer(m);
  int64_t shape[KCB_MAX_RANK];
  shape[0] = d.n;
  memcpy(shape + 1, ol->out_shape, (size_t)ol->out_rank * sizeof shape[0]);
  KCB__TRY(kcb_tensor_new(&result, ol->out_rank + 1, shape));
  KCB__TRY(kcb__model_reserve_workspace(m, largest_batch(o->batch_size, d.n), 1));
  if (!(h = calloc(1, sizeof *h))) KCB__TRY(kcb__error(KCB_ENOMEM, "predict: out of memory"));
  KCB__TRY(build_hooks(m, h, o->callbacks, o->n_callbacks, NULL, o->verbose, o->progress_stream, &progbar));
  h->list.params.epochs = 1;
  h->list.params.has_validation = 0;
  h->list.params.steps = batches_of(d.n, o->batch_size);
  if (o->distributed) kcb__dist_attach(o->distributed, &h->list); /* callbacks know their rank; the pass is whole */
  m->stop_predicting = 0;
  KCB__TRY(call_hook(h, KCB_HOOK_PREDICT_BEGIN, 0, NULL));
  int64_t done_rows = 0;
  for (int64_t b = 0, start = 0; start < d.n; b++, start += o->batch_size) {
    int64_t count = d.n - start < o->batch_size ? d.n - start : o->batch_size;
    done_rows = start + count;
    KCB__TRY(call_hook(h, KCB_HOOK_PREDICT_BATCH_BEGIN, b, NULL));
    const float *pred = kcb__model_forward(m, d.x + start * m->in_size, count, 0);
    float *dst = result->data + start * ol->out_size;
    memcpy(dst, pred, (size_t)(count * ol->out_size) * sizeof *dst);
    shape[0] = count;
    kcb_tensor outputs = kcb_tensor_view(dst, ol->out_rank + 1, shape);
    kcb_logs *logs = &h->scratch;
    kcb_logs_clear(logs);
    KCB__TRY(kcb_logs_set_tensor(logs, "outputs", &outputs));
    KCB__TRY(kcb__callback_list_dispatch(&h->list, KCB_HOOK_PREDICT_BATCH_END, b, logs));
    if (m->stop_predicting) break;
  }
  result->shape[0] = done_rows; /* stopped early: the batches that ran, as Keras returns them */
  KCB__TRY(call_hook(h, KCB_HOOK_PREDICT_END, 0, NULL));
  *out = result;
  result = NULL;
done:
  kcb_callback_free(progbar);
  kcb_tensor_free(result);
  release_hooks(h);
  return rc;
}

int kcb_model_predict(kcb_model *m, const kcb_tensor *x, const kcb_evaluate_options *opts, kcb_tensor **out) {
  if (!out) return kcb__error(KCB_EINVAL, "predict: out is NULL");
  *out = NULL;
  KCB__MODEL_GIVEN(m, "predict");
  kcb__pool_enter(0);
  kcb__c_numbers numbers = kcb__c_numbers_begin(); /* Keras's 0.5 in any LC_NUMERIC */
  int rc = predict(m, x, opts, out);
  kcb__c_numbers_end(numbers);
  kcb__pool_leave();
  return rc;
}
