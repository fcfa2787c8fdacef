/* distributed_check.c — a distributed fit against a single-process fit on the same data, on every
 * rank of an MPI job (run by ctest under `mpirun -np 1|2|3`, see tests/distributed.cmake).
 *
 * Tolerance (float32 summation): a rank sums its shard's gradient and the allreduce sums the
 * shards, so the gradient differs from one process's in the order of float32 additions only
 * (relative error ~ batch * 6e-8). Over a few epochs this gives weights within 2e-5 (absolute, for
 * weights of size ~1) and losses within 1e-5 relative; accuracy may move by a sample whose two
 * top classes tie to within that error, so it is allowed 2 samples. Across ranks the weights must
 * be bit for bit the same: every rank applies the same averaged gradient. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <unistd.h>

#include <mpi.h>

#include "../test_helpers.h"
#include "internal.h" /* kcb__error, to fail as kcb's own callbacks do */

static kcb_distributed *dist;
static int rank, size;

#define N_IN 8
#define N_CLASSES 3

/* A synthetic 3-class problem: x uniform in [-1, 1), the class the argmax of a fixed linear map. */
static void make_data(int64_t n, kcb_tensor **x, kcb_tensor **y) {
  int64_t xs[2] = {n, N_IN}, ys[2] = {n, 1};
  assert_ok(kcb_tensor_new(x, 2, xs));
  assert_ok(kcb_tensor_new(y, 2, ys));
  uint64_t s = 12345;
  for (int64_t i = 0; i < n; i++) {
    double score[N_CLASSES] = {0};
    for (int j = 0; j < N_IN; j++) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      float v = (float)((double)(s >> 11) / 9007199254740992.0 * 2 - 1);
      (*x)->data[i * N_IN + j] = v;
      for (int c = 0; c < N_CLASSES; c++) score[c] += v * (double)((j * 7 + c * 3) % 5 - 2);
    }
    int best = 0;
    for (int c = 1; c < N_CLASSES; c++)
      if (score[c] > score[best]) best = c;
    (*y)->data[i] = (float)best;
  }
}

#define MLP_SPEC "16:relu,3:softmax"
static const char *model_spec = MLP_SPEC; /* what make_model builds */

static kcb_model *make_model(kcb_optimizer_kind opt, double lr) {
  return test_compiled_model(N_IN, model_spec, 7, opt, lr, KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
                             KCB_METRIC_ACCURACY);
}

/* Records every train batch's loss and the params the callbacks were given. */
typedef struct recorder {
  double loss[4096];
  int n;
  int rank, size, stop_rank;
  int64_t stop_batch;
} recorder;

static int record_batch(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  recorder *r = cb->user_data;
  r->rank = cb->params->rank;
  r->size = cb->params->size;
  if (r->n < 4096) assert_int_equal(kcb_logs_get(logs, "loss", &r->loss[r->n++]), 1);
  if (r->stop_rank == cb->params->rank && batch == r->stop_batch) kcb_model_set_stop_training(cb->model, 1);
  return 0;
}

typedef struct run_result {
  kcb_history *history;
  float *weights;
  size_t n_weights;
  recorder rec;
  int stopped_epoch;
} run_result;

static void run_fit(run_result *out, kcb_distributed *d, kcb_optimizer_kind opt, int64_t n, int64_t batch, int epochs,
                    int early_stop, int stop_rank, int64_t stop_batch) {
  kcb_tensor *x, *y;
  make_data(n, &x, &y);
  kcb_model *m = make_model(opt, opt == KCB_OPT_SGD ? 0.1 : 0.01);
  memset(out, 0, sizeof *out);
  out->rec.stop_rank = stop_rank;
  out->rec.stop_batch = stop_batch;
  kcb_callback_ops ops = {.on_train_batch_end = record_batch};
  kcb_callback *cbs[2];
  size_t n_cbs = 0;
  assert_ok(kcb_lambda_callback_new(&cbs[n_cbs++], &ops, &out->rec));
  if (early_stop) {
    kcb_early_stopping_options eo = KCB_EARLY_STOPPING_OPTIONS_INIT;
    eo.monitor = "val_loss";
    eo.min_delta = 0.02;
    assert_ok(kcb_early_stopping_new(&cbs[n_cbs++], &eo));
  }
  kcb_fit_options fo = KCB_FIT_OPTIONS_INIT;
  fo.batch_size = batch;
  fo.epochs = epochs;
  fo.verbose = 0;
  fo.validation_split = n >= 10 ? 0.2 : 0;
  fo.callbacks = cbs;
  fo.n_callbacks = n_cbs;
  fo.distributed = d;
  assert_ok(kcb_model_fit(m, x, y, &fo, &out->history));
  if (early_stop) out->stopped_epoch = kcb_early_stopping_stopped_epoch(cbs[1]);
  out->n_weights = kcb_model_param_count(m);
  out->weights = malloc(out->n_weights * sizeof(float));
  assert_ok(kcb_model_get_weights(m, out->weights, out->n_weights));
  for (size_t i = 0; i < n_cbs; i++) kcb_callback_free(cbs[i]);
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

static void free_result(run_result *r) {
  kcb_history_free(r->history);
  free(r->weights);
}

static void assert_close(double a, double b, double tol, const char *what, int i) {
  if (!(fabs(a - b) <= tol)) fail_msg("rank %d of %d: %s[%d]: %.9g vs %.9g (tolerance %g)", rank, size, what, i, a, b, tol);
}

/* The same weights, bit for bit, on every rank. */
static void assert_same_on_every_rank(const float *w, size_t n) {
  unsigned long long h = 1469598103934665603ull, lo, hi; /* FNV-1a of the bytes */
  const unsigned char *p = (const unsigned char *)w;
  for (size_t i = 0; i < n * sizeof *w; i++) h = (h ^ p[i]) * 1099511628211ull;
  MPI_Allreduce(&h, &lo, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&h, &hi, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
  assert_true(lo == hi);
}

/* Compares a distributed fit with the same fit in this process alone. */
static void compare(kcb_optimizer_kind opt, int64_t n, int64_t batch, int epochs, int early_stop) {
  run_result one, many;
  run_fit(&one, NULL, opt, n, batch, epochs, early_stop, -1, -1);
  run_fit(&many, dist, opt, n, batch, epochs, early_stop, -1, -1);
  assert_int_equal(many.rec.rank, rank);
  assert_int_equal(many.rec.size, size);
  assert_int_equal(one.rec.size, 1);
  assert_int_equal(many.rec.n, one.rec.n); /* the same number of batches */
  for (int i = 0; i < one.rec.n; i++) assert_close(many.rec.loss[i], one.rec.loss[i], 1e-5 * fmax(1, fabs(one.rec.loss[i])), "batch loss", i);
  assert_int_equal(kcb_history_epochs(many.history), kcb_history_epochs(one.history));
  assert_int_equal(many.stopped_epoch, one.stopped_epoch);
  const char *keys[] = {"loss", "val_loss", "accuracy", "val_accuracy"};
  for (size_t k = 0; k < 4; k++) {
    const double *a, *b;
    size_t na, nb;
    if (kcb_history_values(one.history, keys[k], &a, &na) != 0) continue;
    assert_ok(kcb_history_values(many.history, keys[k], &b, &nb));
    assert_int_equal(na, nb);
    double tol = keys[k][strlen(keys[k]) - 1] == 's' ? 1e-5 : 2.0 / (double)n;
    for (size_t i = 0; i < na; i++) assert_close(b[i], a[i], tol * (tol < 1e-4 ? fmax(1, fabs(a[i])) : 1), keys[k], (int)i);
  }
  assert_int_equal(many.n_weights, one.n_weights);
  for (size_t i = 0; i < one.n_weights; i++) assert_close(many.weights[i], one.weights[i], 2e-5, "weight", (int)i);
  assert_same_on_every_rank(many.weights, many.n_weights);
  free_result(&one);
  free_result(&many);
}

/* 200 samples (160 to train, 40 to validate), global batches of 32 (not divisible by 3), 30 (a last
 * batch of 10) and 7 (a last batch of 6: with 3 ranks, shards of 3, 2, 2 and 2, 2, 2). */
static void same_as_one_process_sgd(void **state) { compare(KCB_OPT_SGD, 200, 32, 3, 0); }
static void same_as_one_process_adam(void **state) { compare(KCB_OPT_ADAM, 200, 30, 3, 0); }
static void batch_not_divisible_by_ranks(void **state) { compare(KCB_OPT_SGD, 200, 7, 2, 0); }
static void early_stopping_same_epoch(void **state) {
  run_result one;
  run_fit(&one, NULL, KCB_OPT_SGD, 200, 32, 40, 1, -1, -1);
  assert_true(one.stopped_epoch > 0 && one.stopped_epoch < 39); /* the test means something */
  free_result(&one);
  compare(KCB_OPT_SGD, 200, 32, 40, 1);
}
/* Fewer samples than ranks: some ranks get no sample of a batch and still take part. */
static void data_smaller_than_ranks(void **state) { compare(KCB_OPT_SGD, 2, 2, 3, 0); }

/* A stop asked on the last rank alone stops every rank after the same batch. */
static void stop_on_one_rank(void **state) {
  run_result r;
  run_fit(&r, dist, KCB_OPT_SGD, 200, 16, 3, 0, size - 1, 3);
  assert_int_equal(r.rec.n, 4);
  assert_int_equal(kcb_history_epochs(r.history), 1);
  assert_same_on_every_rank(r.weights, r.n_weights);
  free_result(&r);
}

/* Ranks given different data: every rank fails with a message naming the difference, no hang. */
static void different_data_sizes(void **state) {
  if (size == 1) skip();
  kcb_tensor *x, *y;
  make_data(100 + rank, &x, &y);
  kcb_model *m = make_model(KCB_OPT_SGD, 0.1);
  kcb_fit_options fo = KCB_FIT_OPTIONS_INIT;
  fo.verbose = 0;
  fo.distributed = dist;
  assert_error(kcb_model_fit(m, x, y, &fo, NULL), KCB_EINVAL, "training samples");
  fo.batch_size = 10 + rank; /* same data, another option */
  kcb_tensor_free(x);
  kcb_tensor_free(y);
  make_data(100, &x, &y);
  assert_error(kcb_model_fit(m, x, y, &fo, NULL), KCB_EINVAL, "batch_size");
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

/* Ranks given different data of the same size (one label, one pixel): told apart before training. */
static void different_data_contents(void **state) {
  if (size == 1) skip();
  kcb_tensor *x, *y;
  make_data(3000, &x, &y);
  kcb_model *m = make_model(KCB_OPT_SGD, 0.1);
  kcb_fit_options fo = KCB_FIT_OPTIONS_INIT;
  fo.verbose = 0;
  fo.distributed = dist;
  if (rank == size - 1) y->data[2999] = y->data[2999] == 0 ? 1 : 0; /* the last sample is always fingerprinted */
  assert_error(kcb_model_fit(m, x, y, &fo, NULL), KCB_EINVAL, "have different targets y");
  if (rank == size - 1) y->data[2999] = y->data[2999] == 0 ? 1 : 0, x->data[0] += 1e-3f;
  assert_error(kcb_model_fit(m, x, y, &fo, NULL), KCB_EINVAL, "have different inputs x");
  if (rank == size - 1) x->data[0] -= 1e-3f;
  /* validation_data given to each rank: the same contents too (same sizes, other values) */
  kcb_tensor *vx, *vy;
  make_data(40, &vx, &vy);
  if (rank == size - 1) vx->data[0] += 0.5f;
  fo.validation_x = vx, fo.validation_y = vy;
  assert_error(kcb_model_fit(m, x, y, &fo, NULL), KCB_EINVAL, "have different validation inputs");
  if (rank == size - 1) vx->data[0] -= 0.5f, vy->data[39] = vy->data[39] == 0 ? 1 : 0;
  assert_error(kcb_model_fit(m, x, y, &fo, NULL), KCB_EINVAL, "have different validation targets");
  if (rank == size - 1) vy->data[39] = vy->data[39] == 0 ? 1 : 0;
  /* validating after other epochs: the last rank would wait alone in the validation pass */
  fo.epochs = 2;
  fo.validation_freq = rank == size - 1 ? 2 : 1;
  assert_error(kcb_model_fit(m, x, y, &fo, NULL), KCB_EINVAL, "have different validation epochs (validation_freq or validation_epochs)");
  static const int second[1] = {2}, both[2] = {1, 2};
  fo.validation_freq = 1;
  fo.validation_epochs = rank == size - 1 ? second : both;
  fo.n_validation_epochs = rank == size - 1 ? 1 : 2;
  assert_error(kcb_model_fit(m, x, y, &fo, NULL), KCB_EINVAL, "have different validation epochs");
  /* the same epochs asked for in two ways agree */
  fo.validation_epochs = rank == size - 1 ? both : NULL;
  fo.n_validation_epochs = rank == size - 1 ? 2 : 0;
  fo.epochs = 1;
  assert_ok(kcb_model_fit(m, x, y, &fo, NULL));
  kcb_tensor_free(vx);
  kcb_tensor_free(vy);
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

static double halve_after_first_epoch(int epoch, double lr, void *user_data) {
  (void)user_data;
  return epoch == 1 ? lr / 2 : lr;
}

/* Ranks given models or compile options that differ (another optimizer, so other slots to
 * broadcast; another activation of the same size; another metric list) fail at the start, every
 * rank with the same message, instead of running mismatched collectives. */
static void different_models_or_options(void **state) {
  if (size == 1) skip();
  kcb_tensor *x, *y;
  make_data(100, &x, &y);
  kcb_fit_options fo = KCB_FIT_OPTIONS_INIT;
  fo.verbose = 0;
  fo.distributed = dist;
  kcb_model *m = make_model(rank == size - 1 ? KCB_OPT_RMSPROP : KCB_OPT_ADAM, 0.001);
  assert_error(kcb_model_fit(m, x, y, &fo, NULL), KCB_EINVAL, "have different compile configs (loss, metrics, optimizer)");
  kcb_model_free(m);
  static const char *const specs[2] = {"8:relu,3:softmax", "8:tanh,3:softmax"};
  int64_t in = N_IN;
  assert_ok(kcb_model_new(&m, 1, &in, 3));
  assert_ok(kcb_model_add_from_spec(m, specs[rank == size - 1]));
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_SGD);
  c.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  kcb_metric metrics[2] = {KCB_METRIC_ACCURACY, KCB_METRIC_MEAN_SQUARED_ERROR};
  c.metrics = metrics;
  c.n_metrics = 1;
  assert_ok(kcb_model_compile(m, &c));
  assert_error(kcb_model_fit(m, x, y, &fo, NULL), KCB_EINVAL, "have different layer configs");
  kcb_model_free(m);
  assert_ok(kcb_model_new(&m, 1, &in, 3));
  assert_ok(kcb_model_add_from_spec(m, specs[0]));
  c.n_metrics = rank == size - 1 ? 2 : 1;
  assert_ok(kcb_model_compile(m, &c));
  assert_error(kcb_model_fit(m, x, y, &fo, NULL), KCB_EINVAL, "have different compile configs");
  kcb_model_free(m);
  /* a learning-rate schedule on the last rank alone: caught where it first changes the rate */
  assert_ok(kcb_model_new(&m, 1, &in, 3));
  assert_ok(kcb_model_add_from_spec(m, specs[0]));
  c.n_metrics = 1;
  assert_ok(kcb_model_compile(m, &c));
  kcb_callback *schedule = NULL;
  kcb_lr_scheduler_options lo = KCB_LR_SCHEDULER_OPTIONS_INIT;
  assert_ok(kcb_lr_scheduler_new(&schedule, halve_after_first_epoch, NULL, &lo));
  kcb_callback *mine[1] = {schedule};
  fo.epochs = 3;
  fo.callbacks = mine;
  fo.n_callbacks = rank == size - 1 ? 1 : 0;
  assert_error(kcb_model_fit(m, x, y, &fo, NULL), KCB_EINVAL, "different learning rates at the epoch's start");
  kcb_callback_free(schedule);
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

/* A rank whose data is refused before training (here a shape) fails; the others learn it. */
static void one_rank_refuses_its_data(void **state) {
  if (size == 1) skip();
  kcb_tensor *x, *y;
  make_data(100, &x, &y);
  if (rank == 1) x->shape[1] = N_IN - 1, x->shape[0] = 100 * N_IN / (N_IN - 1);
  kcb_model *m = make_model(KCB_OPT_SGD, 0.1);
  kcb_fit_options fo = KCB_FIT_OPTIONS_INIT;
  fo.verbose = 0;
  fo.distributed = dist;
  if (rank == 1) assert_error(kcb_model_fit(m, x, y, &fo, NULL), KCB_ESHAPE, "x has shape");
  else assert_error(kcb_model_fit(m, x, y, &fo, NULL), KCB_ESTATE, "rank 1");
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

/* Ranks that call different operations (the last one evaluate while the others fit) are told so,
 * not that their data differ; a rank given no model at all lets the others know, as any refusal. */
static void ranks_in_different_operations(void **state) {
  if (size == 1) skip();
  kcb_tensor *x, *y;
  make_data(100, &x, &y);
  kcb_model *m = make_model(KCB_OPT_SGD, 0.1);
  kcb_fit_options fo = KCB_FIT_OPTIONS_INIT;
  fo.verbose = 0;
  fo.distributed = dist;
  kcb_evaluate_options eo = KCB_EVALUATE_OPTIONS_INIT;
  eo.verbose = 0;
  eo.distributed = dist;
  kcb_logs logs;
  if (rank == size - 1)
    assert_error(kcb_model_evaluate(m, x, y, &eo, &logs), KCB_ESTATE, "is not at this rank's point (the start of evaluate)");
  else
    assert_error(kcb_model_fit(m, x, y, &fo, NULL), KCB_ESTATE, "is not at this rank's point (the start of fit)");
  if (rank == size - 1) assert_error(kcb_model_fit(NULL, x, y, &fo, NULL), KCB_EINVAL, "fit: the model is NULL");
  else assert_error(kcb_model_fit(m, x, y, &fo, NULL), KCB_ESTATE, "could not start");
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

/* evaluate where one rank fails its own checks before the pass (a NaN in its x, an uncompiled
 * model): that rank returns its error and every other rank learns of it, instead of waiting in the
 * pass for it (mpirun's --timeout would end a hang) */
static void evaluate_refused_on_one_rank(void **state) {
  if (size == 1) skip();
  for (int variant = 0; variant < 2; variant++) {
    kcb_tensor *x, *y;
    make_data(100, &x, &y);
    kcb_model *m = make_model(KCB_OPT_SGD, 0.1);
    if (rank == size - 1) {
      if (variant == 0) x->data[3] = NAN;
      else {
        kcb_model_free(m);
        assert_ok(kcb_model_new(&m, 1, (int64_t[]){N_IN}, 7));
        assert_ok(kcb_model_add_from_spec(m, model_spec)); /* built, not compiled */
      }
    }
    kcb_evaluate_options eo = KCB_EVALUATE_OPTIONS_INIT;
    eo.verbose = 0;
    eo.distributed = dist;
    kcb_logs logs;
    if (rank == size - 1)
      assert_error(kcb_model_evaluate(m, x, y, &eo, &logs), variant ? KCB_ESTATE : KCB_ENAN,
                   variant ? "compiled" : "non-finite");
    else
      assert_error(kcb_model_evaluate(m, x, y, &eo, &logs), KCB_ESTATE, "evaluate: rank");
    kcb_model_free(m);
    kcb_tensor_free(x);
    kcb_tensor_free(y);
  }
}

/* A communicator this process is not in (MPI_COMM_NULL, as MPI_Comm_split gives with
 * MPI_UNDEFINED) is an error to return, not MPI's default end of the process. */
static void null_communicator(void **state) {
  (void)state;
  MPI_Comm none = MPI_COMM_NULL;
  kcb_distributed_options o = KCB_DISTRIBUTED_OPTIONS_INIT;
  o.mpi_comm = &none;
  kcb_distributed *d = (kcb_distributed *)&o;
  assert_error(kcb_distributed_new(&d, &o), KCB_EINVAL, "MPI_COMM_NULL");
  assert_null(d);
}

/* A bad class index in rank 0's copy of the labels is found before any step, named by its sample;
 * every other rank returns an error at the same point instead of waiting. */
static void bad_label_in_one_shard(void **state) {
  if (size == 1) skip();
  kcb_tensor *x, *y;
  make_data(100, &x, &y);
  if (rank == 0) y->data[0] = 99;
  kcb_model *m = make_model(KCB_OPT_SGD, 0.1);
  kcb_fit_options fo = KCB_FIT_OPTIONS_INIT;
  fo.verbose = 0;
  fo.shuffle = 0;
  fo.distributed = dist;
  if (rank == 0) assert_error(kcb_model_fit(m, x, y, &fo, NULL), KCB_EINVAL, "y holds 99 in sample 0");
  else assert_error(kcb_model_fit(m, x, y, &fo, NULL), KCB_ESTATE, "rank 0");
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

/* A callback that fails on one rank only, at one hook: every rank's fit fails there, none waits. */
typedef struct failing {
  int rank;
  int64_t at_batch; /* -1: on_train_begin */
} failing;

static int fail_begin(kcb_callback *cb, kcb_logs *logs) {
  const failing *f = cb->user_data;
  return f->at_batch < 0 && cb->params->rank == f->rank ? kcb__error(KCB_EIO, "deliberate failure on rank %d", f->rank) : 0;
}

static int fail_batch(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  const failing *f = cb->user_data;
  return batch == f->at_batch && cb->params->rank == f->rank ? kcb__error(KCB_EIO, "deliberate failure on rank %d", f->rank)
                                                             : 0;
}

static void callback_fails_on_one_rank(void **state) {
  if (size == 1) skip();
  kcb_tensor *x, *y;
  make_data(100, &x, &y);
  kcb_model *m = make_model(KCB_OPT_SGD, 0.1);
  const failing cases[2] = {{0, -1}, {size - 1, 2}};
  for (int i = 0; i < 2; i++) {
    kcb_callback_ops ops = {.on_train_begin = fail_begin, .on_train_batch_end = fail_batch};
    kcb_callback *cb;
    assert_ok(kcb_lambda_callback_new(&cb, &ops, (void *)&cases[i]));
    kcb_fit_options fo = KCB_FIT_OPTIONS_INIT;
    fo.verbose = 0;
    fo.batch_size = 10;
    fo.callbacks = &cb;
    fo.n_callbacks = 1;
    fo.distributed = dist;
    char where[64];
    snprintf(where, sizeof where, "on rank %d of %d", cases[i].rank, size);
    if (rank == cases[i].rank) assert_error(kcb_model_fit(m, x, y, &fo, NULL), KCB_EIO, "deliberate failure");
    else assert_error(kcb_model_fit(m, x, y, &fo, NULL), KCB_ECALLBACK, where);
    kcb_callback_free(cb);
  }
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

/* A stop request (what kcb-train's SIGINT/SIGTERM handler makes) reaching one rank only: every rank
 * stops after the same batch with KCB_EINTERRUPTED. */
/* fit's options for the tests below: quiet, distributed over every rank of this job. */
static kcb_fit_options dist_fit_options(int64_t batch, int epochs, kcb_callback **cbs, size_t n_cbs) {
  kcb_fit_options fo = KCB_FIT_OPTIONS_INIT;
  fo.verbose = 0;
  fo.batch_size = batch;
  fo.epochs = epochs;
  fo.callbacks = cbs;
  fo.n_callbacks = n_cbs;
  fo.distributed = dist;
  return fo;
}

static int request_stop_at_3(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  int *batches = cb->user_data;
  ++*batches;
  if (batch == 3 && cb->params->rank == cb->params->size - 1) kcb_model_request_stop(cb->model);
  return 0;
}

static void stop_request_on_one_rank(void **state) {
  kcb_tensor *x, *y;
  make_data(200, &x, &y);
  kcb_model *m = make_model(KCB_OPT_SGD, 0.1);
  int batches = 0, lo, hi;
  kcb_callback_ops ops = {.on_train_batch_end = request_stop_at_3};
  kcb_callback *cb;
  assert_ok(kcb_lambda_callback_new(&cb, &ops, &batches));
  kcb_fit_options fo = dist_fit_options(10, 2, &cb, 1);
  assert_error(kcb_model_fit(m, x, y, &fo, NULL), KCB_EINTERRUPTED, "stopped on request after batch");
  MPI_Allreduce(&batches, &lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&batches, &hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  assert_int_equal(lo, hi);
  assert_int_equal(batches, 5); /* the request after batch 3 (0-based) is agreed in batch 4's step */
  float *w = malloc(kcb_model_param_count(m) * sizeof *w);
  assert_ok(kcb_model_get_weights(m, w, kcb_model_param_count(m)));
  assert_same_on_every_rank(w, kcb_model_param_count(m));
  free(w);
  kcb_callback_free(cb);
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

/* BatchNormalization: the global batch's statistics, summed over the ranks in forward and backward,
 * so a model with it trains as in one process (losses, weights and moving statistics). Batches of 30
 * end with one of 10, cut 4, 3, 3 on 3 ranks; batches of 2 leave the third rank without samples
 * (it still takes part in the sums); a bad label on one rank fails its loss after the forward sums,
 * and the backward sums of the others must not wait for it forever. */
static void same_as_one_process_batch_norm(void **state) {
  (void)state;
  model_spec = "16,bn,relu,3:softmax";
  /* SGD: Adam would turn the float noise in the gradient of the bias before BN (zero, as BN takes
   * the mean out) into steps of the learning rate, which differ with the summation order */
  compare(KCB_OPT_SGD, 200, 30, 3, 0);
  compare(KCB_OPT_SGD, 2, 2, 3, 0);
  bad_label_in_one_shard(state); /* skipped on one process: the teardown puts the MLP back */
}

static int mlp_again(void **state) {
  (void)state;
  model_spec = MLP_SPEC;
  return 0;
}

/* Records the params the test hooks were given. */
static int record_test_batch(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  (void)batch, (void)logs;
  recorder *r = cb->user_data;
  r->rank = cb->params->rank;
  r->size = cb->params->size;
  r->n++;
  return 0;
}

/* evaluate over the ranks: each its shard of every batch, the logs the whole set's (as one process
 * alone gets them), rank 0's weights everywhere, and the callbacks know their rank */
static void evaluate_over_ranks(void **state) {
  (void)state;
  kcb_tensor *x, *y;
  make_data(203, &x, &y);
  kcb_model *m = make_model(KCB_OPT_SGD, 0.1);
  if (rank != 0) { /* another rank's weights differ: rank 0's are the ones evaluated */
    float *w = malloc(kcb_model_param_count(m) * sizeof *w);
    assert_ok(kcb_model_get_weights(m, w, kcb_model_param_count(m)));
    for (size_t i = 0; i < kcb_model_param_count(m); i++) w[i] += 0.5f;
    assert_ok(kcb_model_set_weights(m, w, kcb_model_param_count(m)));
    free(w);
  }
  recorder rec = {0};
  kcb_callback_ops ops = {.on_test_batch_end = record_test_batch};
  kcb_callback *cb[2];
  assert_ok(kcb_lambda_callback_new(&cb[0], &ops, &rec));
  /* a file writer runs on rank 0 alone: one event file in the shared log directory */
  long job = (long)getpid();
  MPI_Bcast(&job, 1, MPI_LONG, 0, MPI_COMM_WORLD);
  char logdir[128], validation[160];
  snprintf(logdir, sizeof logdir, "/tmp/kcb_dist_evaluate_%ld", job);
  snprintf(validation, sizeof validation, "%s/validation", logdir);
  kcb_tensorboard_options to = KCB_TENSORBOARD_OPTIONS_INIT;
  to.log_dir = logdir;
  assert_ok(kcb_tensorboard_new(&cb[1], &to));
  kcb_evaluate_options eo = KCB_EVALUATE_OPTIONS_INIT;
  eo.batch_size = 16;
  eo.verbose = 0;
  eo.callbacks = cb;
  eo.n_callbacks = 2;
  eo.distributed = dist;
  kcb_logs together, alone;
  assert_ok(kcb_model_evaluate(m, x, y, &eo, &together));
  kcb_callback_free(cb[1]);
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) {
    DIR *d = opendir(validation);
    int files = 0;
    for (struct dirent *e; d && (e = readdir(d));) files += e->d_name[0] != '.';
    if (d) closedir(d);
    assert_int_equal(files, 1);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", logdir);
    assert_int_equal(system(cmd), 0);
  }
  eo.callbacks = cb;
  eo.n_callbacks = 1;
  assert_int_equal(rec.rank, rank);
  assert_int_equal(rec.size, size);
  assert_int_equal(rec.n, 13); /* every batch of 16 of 203, on every rank */
  eo.distributed = NULL;
  assert_ok(kcb_model_evaluate(m, x, y, &eo, &alone)); /* now rank 0's weights on every rank */
  double a, b;
  assert_int_equal(kcb_logs_get(&together, "loss", &a), 1);
  assert_int_equal(kcb_logs_get(&alone, "loss", &b), 1);
  assert_close(a, b, 1e-6 * fabs(b), "evaluate loss", 0);
  assert_int_equal(kcb_logs_get(&together, "accuracy", &a), 1);
  assert_int_equal(kcb_logs_get(&alone, "accuracy", &b), 1);
  assert_close(a, b, 1e-9, "evaluate accuracy", 0);
  kcb_callback_free(cb[0]);
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

/* A mid-epoch backup resumed with another batch_size: rank 0 alone loads it, and the epoch must
 * restart on every rank (not only where the backup's batching was read), or the ranks run different
 * steps and their collectives no longer match. */
typedef struct epoch_batches {
  int epoch, stop_epoch;
  int64_t stop_batch;
  int batches[4];
} epoch_batches;

static int note_epoch(kcb_callback *cb, int epoch, kcb_logs *logs) {
  (void)logs;
  ((epoch_batches *)cb->user_data)->epoch = epoch;
  return 0;
}

static int count_batch(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  (void)logs;
  epoch_batches *e = cb->user_data;
  if (e->epoch >= 0 && e->epoch < 4) e->batches[e->epoch]++;
  if (e->epoch == e->stop_epoch && batch == e->stop_batch && cb->params->rank == 0) kcb_model_request_stop(cb->model);
  return 0;
}

/* *weights (may be NULL): the weights after the fit, malloc'd; *n_weights their count. */
static int resume_fit(const char *dir, int64_t batch, epoch_batches *e, float **weights, size_t *n_weights) {
  kcb_tensor *x, *y;
  make_data(200, &x, &y);
  kcb_model *m = make_model(KCB_OPT_SGD, 0.1);
  kcb_callback_ops ops = {.on_epoch_begin = note_epoch, .on_train_batch_end = count_batch};
  kcb_callback *cbs[2];
  assert_ok(kcb_lambda_callback_new(&cbs[0], &ops, e));
  kcb_backup_and_restore_options bo = KCB_BACKUP_AND_RESTORE_OPTIONS_INIT;
  bo.save_freq = 3;
  assert_ok(kcb_backup_and_restore_new(&cbs[1], dir, &bo));
  kcb_fit_options fo = dist_fit_options(batch, 3, cbs, 2);
  int rc = kcb_model_fit(m, x, y, &fo, NULL);
  if (weights) {
    *n_weights = kcb_model_param_count(m);
    *weights = malloc(*n_weights * sizeof **weights);
    assert_ok(kcb_model_get_weights(m, *weights, *n_weights));
  }
  kcb_callback_free(cbs[0]);
  kcb_callback_free(cbs[1]);
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
  return rc;
}

static void resume_with_another_batch_size(void **state) {
  (void)state;
  char dir[64] = "";
  if (rank == 0) assert_int_equal(test_tmpdir_make(dir, sizeof dir, "kcb-dist-resume-"), 0);
  MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, MPI_COMM_WORLD);
  epoch_batches first = {.epoch = -1, .stop_epoch = 1, .stop_batch = 7};
  assert_int_equal(resume_fit(dir, 20, &first, NULL, NULL), KCB_EINTERRUPTED);
  epoch_batches again = {.epoch = -1, .stop_epoch = -1};
  float *w;
  size_t n_w;
  assert_ok(resume_fit(dir, 10, &again, &w, &n_w));
  int lo, hi;
  MPI_Allreduce(&again.batches[1], &lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&again.batches[1], &hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  assert_int_equal(lo, hi);
  assert_int_equal(again.batches[1], 20); /* the whole epoch of 200 samples again, in batches of 10 */
  assert_int_equal(again.batches[2], 20);
  assert_same_on_every_rank(w, n_w);
  free(w);
  if (rank == 0) rmdir(dir); /* the backup is deleted when fit ends normally */
}

/* A callback that changes the weights on rank 0 alone (a max-norm clip guarded by rank == 0, as
 * Horovod programs guard their file writers): the ranks would train on apart in silence; the next
 * epoch's start says so on every rank. */
static int scale_weights_on_rank0(kcb_callback *cb, int epoch, kcb_logs *logs) {
  (void)epoch, (void)logs;
  if (cb->params->rank != 0) return 0;
  size_t n = kcb_model_param_count(cb->model);
  float *w = malloc(n * sizeof *w);
  kcb_model_get_weights(cb->model, w, n);
  for (size_t i = 0; i < n; i++) w[i] *= 0.5f;
  kcb_model_set_weights(cb->model, w, n);
  free(w);
  return 0;
}

static void weights_changed_on_one_rank(void **state) {
  (void)state;
  if (size < 2) skip();
  kcb_tensor *x, *y;
  make_data(200, &x, &y);
  kcb_model *m = make_model(KCB_OPT_SGD, 0.1);
  kcb_callback_ops ops = {.on_epoch_end = scale_weights_on_rank0};
  kcb_callback *cb;
  assert_ok(kcb_lambda_callback_new(&cb, &ops, NULL));
  kcb_fit_options fo = dist_fit_options(20, 2, &cb, 1);
  assert_error(kcb_model_fit(m, x, y, &fo, NULL), KCB_EINVAL, "different weights at the epoch's start");
  kcb_callback_free(cb);
  kcb_model_free(m);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
}

int main(void) {
  int rc = kcb_distributed_new(&dist, NULL);
  if (rc) {
    fprintf(stderr, "distributed_check: %s\n", kcb_error_last());
    return 1;
  }
  rank = kcb_distributed_rank(dist);
  size = kcb_distributed_size(dist);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(same_as_one_process_sgd),  cmocka_unit_test(same_as_one_process_adam),
      cmocka_unit_test(batch_not_divisible_by_ranks), cmocka_unit_test(early_stopping_same_epoch),
      cmocka_unit_test(data_smaller_than_ranks),  cmocka_unit_test(stop_on_one_rank),
      cmocka_unit_test(different_data_sizes),     cmocka_unit_test(different_data_contents), cmocka_unit_test(different_models_or_options),
      cmocka_unit_test(one_rank_refuses_its_data), cmocka_unit_test(null_communicator),
      cmocka_unit_test(bad_label_in_one_shard),   cmocka_unit_test(callback_fails_on_one_rank),
      cmocka_unit_test(stop_request_on_one_rank), cmocka_unit_test_teardown(same_as_one_process_batch_norm, mlp_again),
      cmocka_unit_test(evaluate_over_ranks),      cmocka_unit_test(evaluate_refused_on_one_rank),
      cmocka_unit_test(resume_with_another_batch_size), cmocka_unit_test(weights_changed_on_one_rank),
      cmocka_unit_test(ranks_in_different_operations),
  };
  char name[64];
  snprintf(name, sizeof name, "distributed (rank %d of %d)", rank, size);
  int failed = _cmocka_run_group_tests(name, tests, sizeof tests / sizeof tests[0], NULL, NULL);
  kcb_distributed_free(dist);
  return failed ? 1 : 0;
}
