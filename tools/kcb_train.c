/* kcb-train — train a Sequential model from the command line (Fashion-MNIST by default). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcb/kcb.h"

typedef struct train_args {
  const char *data_dir, *model_spec, *loss, *optimizer, *metrics, *initial_weights, *save;
  double lr, validation_split;
  long long train_limit, batch_size, seed;
  int epochs, verbose;
  /* built-in callbacks */
  const char *csv, *csv_separator, *monitor, *mode, *lr_schedule;
  int csv_append, restore_best_weights, reduce_lr, terminate_on_nan;
  long long early_stopping, lr_patience, lr_decay_epochs, lr_warmup_epochs; /* -1: not given */
  double min_delta, factor, lr_decay_rate, lr_alpha;
  /* TensorBoard */
  const char *logdir;
  long long histogram_freq, update_freq;
  int write_images, hparams;

  /* checkpoints */
  const char *checkpoint, *backup_dir;
  int save_best_only, save_weights_only, save_last;
  long long save_freq, save_top_k, backup_freq; /* save_freq / backup_freq 0: "epoch"; save_top_k -2: not given */
  double initial_value_threshold;               /* NaN: none */
} train_args;

static void usage(FILE *f) {
  fprintf(f,
          "usage: kcb-train [options]\n"
          "Trains a Sequential model on an MNIST-format data set and evaluates it on the test split.\n\n"
          "Data:\n"
          "  --data DIR               IDX files (train-/t10k-images/labels, .gz or plain) [" KCB_FASHION_MNIST_DIR "]\n"
          "  --train-limit N          use only the first N training and test samples [all]\n"
          "Model:\n"
          "  --model SPEC             layers: UNITS[:ACTIVATION], dropout:RATE, flatten, or an activation,\n"
          "                           comma-separated [flatten,256:relu,128:relu,10:softmax]\n"
          "  --loss NAME              mse, mae, binary_crossentropy, categorical_crossentropy,\n"
          "                           sparse_categorical_crossentropy [sparse_categorical_crossentropy]\n"
          "  --optimizer NAME         sgd, rmsprop, adam, adamw [adam]\n"
          "  --lr RATE                learning rate [Keras's default for the optimizer: 0.01 sgd, else 0.001]\n"
          "  --metrics LIST           comma-separated: accuracy, mse, mae, ... [accuracy]\n"
          "Training:\n"
          "  --epochs N               [20]\n"
          "  --batch-size N           [64]\n"
          "  --validation-split F     last fraction of the training data held out for validation [0.1]\n"
          "  --seed N                 same seed, same run, bit for bit [42]\n"
          "  --verbose 0|1|2          0 silent, 1 progress bar, 2 one line per epoch [1]\n"
          "  --terminate-on-nan       stop when the loss becomes NaN or infinite\n"
          "CSV log:\n"
          "  --csv FILE               one row per epoch (Keras's CSVLogger: epoch, then the sorted logs)\n"
          "  --csv-append             append to FILE (header only if it is empty) [truncate]\n"
          "  --csv-separator C        field separator [,]\n"
          "Early stopping:\n"
          "  --early-stopping N       stop after N epochs without improvement (patience) [off]\n"
          "  --monitor NAME           the logged value watched by early stopping and --reduce-lr-on-plateau\n"
          "                           [val_loss]\n"
          "  --mode auto|min|max      whether NAME should fall or rise; auto knows loss and metrics [auto]\n"
          "  --min-delta F            smallest change that counts as an improvement [0]\n"
          "  --restore-best-weights   end with the weights of the best epoch\n"
          "Learning rate:\n"
          "  --reduce-lr-on-plateau   multiply the rate by --factor when --monitor stops improving\n"
          "  --factor F               [0.1]\n"
          "  --lr-patience N          epochs without improvement before a reduction [10]\n"
          "  --lr-schedule NAME       step, exponential or cosine, from the --lr rate, per epoch [off]\n"
          "  --lr-decay-rate F        step and exponential: the factor per --lr-decay-epochs [0.5]\n"
          "  --lr-decay-epochs N      step: epochs per drop; exponential: epochs per factor; cosine:\n"
          "                           epochs to decay over [10; cosine: the epochs after the warm-up]\n"
          "  --lr-warmup-epochs N     cosine: linear warm-up from 0 to the rate first [0]\n"
          "  --lr-alpha F             cosine: the final rate as a fraction of the peak [0]\n"
          "Checkpoints:\n"
          "  --initial-weights FILE   start from these weights (and optimizer state, when the file has a\n"
          "                           matching one): a .weights.h5, .h5 or .keras file, by kcb or Keras [none]\n"
          "  --save PATH              save the trained model; the name picks the layout: .weights.h5 (weights\n"
          "                           and optimizer state), .h5 or .keras (full model) [none]\n"

          "TensorBoard:\n"
          "  --logdir DIR             write TensorBoard logs to DIR/train and DIR/validation [off]\n"
          "  --histogram-freq N       weight histograms every N epochs, 0 for none [0]\n"
          "  --update-freq F          epoch, batch, or every N batches [epoch]\n"
          "  --write-images           also write the weights as images (with --histogram-freq)\n"
          "  --hparams                log the hyperparameters and final metrics (HParams tab)\n"

          "  --checkpoint TEMPLATE    ModelCheckpoint: save to TEMPLATE, a Python format string with\n"
          "                           {epoch} and {batch} (1-based) and any logged value, e.g.\n"
          "                           ckpt/w.{epoch:02d}-{val_loss:.2f}.weights.h5; watches --monitor/--mode\n"
          "  --save-best-only         only when --monitor improves\n"
          "  --save-weights-only      weights only (TEMPLATE must end in .weights.h5; else .keras or .h5)\n"
          "  --save-freq epoch|N      at every epoch end, or every N batches [epoch]\n"
          "  --save-top-k K           keep the K best files by --monitor, delete the others; -1 all [-1]\n"
          "  --save-last              also keep last.<ext> next to them, updated at every save point\n"
          "  --initial-value-threshold F  the value --save-best-only must beat first [none]\n"
          "  --backup-dir DIR         BackupAndRestore: back the run up in DIR; run the same command again\n"
          "                           after a crash to resume it (DIR is emptied when the run completes)\n"
          "  --backup-freq epoch|N    back up at every epoch end, or every N batches [epoch]\n"
          "  -h, --help               this help\n\n"
          "Prints the test-set evaluation last, as: test_loss=<value> test_<metric>=<value> ...\n");
}

static int bad_value(const char *flag, const char *value, const char *why) {
  fprintf(stderr, "kcb-train: %s '%s': %s (see kcb-train --help)\n", flag, value, why);
  return 2;
}

static int parse_long(const char *flag, const char *v, long long lo, long long hi, long long *out) {
  char *end;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (*v == '\0' || *end || errno || x < lo || x > hi) {
    char why[96];
    snprintf(why, sizeof why, "expected a whole number from %lld to %lld", lo, hi);
    return bad_value(flag, v, why);
  }
  *out = x;
  return 0;
}

static int parse_double(const char *flag, const char *v, double lo, double hi, double *out) {
  char *end;
  errno = 0;
  double x = strtod(v, &end);
  if (*v == '\0' || *end || errno || !(x >= lo && x <= hi)) {
    char why[96];
    snprintf(why, sizeof why, "expected a number from %g to %g", lo, hi);
    return bad_value(flag, v, why);
  }
  *out = x;
  return 0;
}

/* "epoch" (0) or a number of batches >= 1. */
static int parse_freq(const char *flag, const char *v, long long *out) {
  if (strcmp(v, "epoch") == 0) {
    *out = 0;
    return 0;
  }
  return parse_long(flag, v, 1, 1LL << 40, out);
}

static int needs(const char *flag, const char *other) {
  fprintf(stderr, "kcb-train: %s needs %s (see kcb-train --help)\n", flag, other);
  return 2;
}

/* Flags that only make sense with another one, and values checked beyond their range. */
static int check_callback_args(const train_args *a) {
  kcb_monitor_mode mode;
  if (a->csv_append && !a->csv) return needs("--csv-append", "--csv FILE");
  if (a->csv_separator && !a->csv) return needs("--csv-separator", "--csv FILE");
  if (a->csv_separator && (strlen(a->csv_separator) != 1 || strchr("\"\r\n", a->csv_separator[0])))
    return bad_value("--csv-separator", a->csv_separator, "expected one character other than a quote");
  if (a->restore_best_weights && a->early_stopping < 0)
    return needs("--restore-best-weights", "--early-stopping PATIENCE");
  if (!a->checkpoint && (a->save_best_only || a->save_weights_only || a->save_last || a->save_freq ||
                         a->save_top_k != -2 || a->initial_value_threshold == a->initial_value_threshold))
    return needs(a->save_best_only ? "--save-best-only" : a->save_weights_only ? "--save-weights-only"
                 : a->save_last ? "--save-last" : a->save_freq ? "--save-freq"
                 : a->save_top_k != -2 ? "--save-top-k" : "--initial-value-threshold", "--checkpoint TEMPLATE");
  if (a->backup_freq && !a->backup_dir) return needs("--backup-freq", "--backup-dir DIR");
  if (a->mode && kcb_monitor_mode_from_name(&mode, a->mode) != 0)
    return bad_value("--mode", a->mode, "expected auto, min or max");
  if ((a->factor >= 0 || a->lr_patience >= 0) && !a->reduce_lr)
    return needs(a->factor >= 0 ? "--factor" : "--lr-patience", "--reduce-lr-on-plateau");
  if (a->lr_schedule && strcmp(a->lr_schedule, "step") != 0 && strcmp(a->lr_schedule, "exponential") != 0 &&
      strcmp(a->lr_schedule, "cosine") != 0)
    return bad_value("--lr-schedule", a->lr_schedule, "expected step, exponential or cosine");
  if ((a->lr_decay_rate >= 0 || a->lr_decay_epochs >= 0 || a->lr_warmup_epochs >= 0 || a->lr_alpha >= 0) && !a->lr_schedule)
    return needs(a->lr_decay_rate >= 0 ? "--lr-decay-rate" : a->lr_decay_epochs >= 0 ? "--lr-decay-epochs"
                 : a->lr_warmup_epochs >= 0 ? "--lr-warmup-epochs" : "--lr-alpha", "--lr-schedule NAME");
  return 0;
}

static int parse_args(int argc, char **argv, train_args *a) {
  for (int i = 1; i < argc; i++) {
    const char *flag = argv[i];
    if (strcmp(flag, "-h") == 0 || strcmp(flag, "--help") == 0) {
      usage(stdout);
      return 1;
    }
    if (strncmp(flag, "--", 2) != 0) return bad_value("argument", flag, "not an option");
    /* switches (no value) */
    if (strcmp(flag, "--csv-append") == 0) { a->csv_append = 1; continue; }
    if (strcmp(flag, "--restore-best-weights") == 0) { a->restore_best_weights = 1; continue; }
    if (strcmp(flag, "--reduce-lr-on-plateau") == 0) { a->reduce_lr = 1; continue; }
    if (strcmp(flag, "--terminate-on-nan") == 0) { a->terminate_on_nan = 1; continue; }

    if (strcmp(flag, "--write-images") == 0 || strcmp(flag, "--hparams") == 0) { /* switches take no value */
      *(flag[2] == 'w' ? &a->write_images : &a->hparams) = 1;
      continue;
    }

    if (strcmp(flag, "--save-best-only") == 0) { a->save_best_only = 1; continue; }
    if (strcmp(flag, "--save-weights-only") == 0) { a->save_weights_only = 1; continue; }
    if (strcmp(flag, "--save-last") == 0) { a->save_last = 1; continue; }
    if (i + 1 >= argc) return bad_value(flag, "", "needs a value");
    const char *v = argv[++i];
    long long n = 0;
    int rc = 0;
    if (strcmp(flag, "--data") == 0) a->data_dir = v;
    else if (strcmp(flag, "--model") == 0) a->model_spec = v;
    else if (strcmp(flag, "--loss") == 0) a->loss = v;
    else if (strcmp(flag, "--optimizer") == 0) a->optimizer = v;
    else if (strcmp(flag, "--metrics") == 0) a->metrics = v;
    else if (strcmp(flag, "--initial-weights") == 0) a->initial_weights = v;
    else if (strcmp(flag, "--save") == 0) a->save = v;
    else if (strcmp(flag, "--lr") == 0) rc = parse_double(flag, v, 0, 1e6, &a->lr);
    else if (strcmp(flag, "--validation-split") == 0) rc = parse_double(flag, v, 0, 0.99, &a->validation_split);
    else if (strcmp(flag, "--train-limit") == 0) rc = parse_long(flag, v, 1, 1LL << 40, &a->train_limit);
    else if (strcmp(flag, "--batch-size") == 0) rc = parse_long(flag, v, 1, 1 << 20, &a->batch_size);
    else if (strcmp(flag, "--seed") == 0) rc = parse_long(flag, v, 0, 1LL << 62, &a->seed);
    else if (strcmp(flag, "--epochs") == 0) { rc = parse_long(flag, v, 0, 1000000, &n); a->epochs = (int)n; }
    else if (strcmp(flag, "--verbose") == 0) { rc = parse_long(flag, v, 0, 2, &n); a->verbose = (int)n; }
    else if (strcmp(flag, "--csv") == 0) a->csv = v;
    else if (strcmp(flag, "--csv-separator") == 0) a->csv_separator = v;
    else if (strcmp(flag, "--early-stopping") == 0) rc = parse_long(flag, v, 0, 1000000, &a->early_stopping);
    else if (strcmp(flag, "--monitor") == 0) a->monitor = v;
    else if (strcmp(flag, "--mode") == 0) a->mode = v;
    else if (strcmp(flag, "--min-delta") == 0) rc = parse_double(flag, v, -1e300, 1e300, &a->min_delta);
    else if (strcmp(flag, "--factor") == 0) rc = parse_double(flag, v, 0, 0.999999, &a->factor);
    else if (strcmp(flag, "--lr-patience") == 0) rc = parse_long(flag, v, 0, 1000000, &a->lr_patience);
    else if (strcmp(flag, "--lr-schedule") == 0) a->lr_schedule = v;
    else if (strcmp(flag, "--lr-decay-rate") == 0) rc = parse_double(flag, v, 0, 1e6, &a->lr_decay_rate);
    else if (strcmp(flag, "--lr-decay-epochs") == 0) rc = parse_long(flag, v, 1, 1000000, &a->lr_decay_epochs);
    else if (strcmp(flag, "--lr-warmup-epochs") == 0) rc = parse_long(flag, v, 0, 1000000, &a->lr_warmup_epochs);
    else if (strcmp(flag, "--lr-alpha") == 0) rc = parse_double(flag, v, 0, 1, &a->lr_alpha);
    else if (strcmp(flag, "--logdir") == 0) a->logdir = v;
    else if (strcmp(flag, "--histogram-freq") == 0) rc = parse_long(flag, v, 0, 1000000, &a->histogram_freq);
    else if (strcmp(flag, "--update-freq") == 0) {
      if (strcmp(v, "epoch") == 0) a->update_freq = KCB_TENSORBOARD_UPDATE_EPOCH;
      else if (strcmp(v, "batch") == 0) a->update_freq = KCB_TENSORBOARD_UPDATE_BATCH;
      else {
        char *end;
        errno = 0;
        a->update_freq = strtoll(v, &end, 10);
        if (*v == '\0' || *end || errno || a->update_freq < 1)
          return bad_value(flag, v, "expected epoch, batch or a number of batches");
      }
    }
    else if (strcmp(flag, "--checkpoint") == 0) a->checkpoint = v;
    else if (strcmp(flag, "--save-freq") == 0) rc = parse_freq(flag, v, &a->save_freq);
    else if (strcmp(flag, "--save-top-k") == 0) rc = parse_long(flag, v, -1, 1000000, &a->save_top_k);
    else if (strcmp(flag, "--initial-value-threshold") == 0)
      rc = parse_double(flag, v, -1e300, 1e300, &a->initial_value_threshold);
    else if (strcmp(flag, "--backup-dir") == 0) a->backup_dir = v;
    else if (strcmp(flag, "--backup-freq") == 0) rc = parse_freq(flag, v, &a->backup_freq);
    else return bad_value("option", flag, "unknown option");
    if (rc) return rc;
  }
  if (!a->logdir && (a->histogram_freq || a->update_freq || a->write_images || a->hparams))
    return bad_value("--logdir", "", "the TensorBoard options need --logdir");
  return check_callback_args(a);
}

/* Reports a library error with its detail and returns the tool's exit status for it. */
static int fail(const char *what, int rc) {
  if (kcb_error_last()[0]) /* the library's message already names the step, file or flag */
    fprintf(stderr, "kcb-train: %s (%s)\n", kcb_error_last(), kcb_error_name(rc));
  else
    fprintf(stderr, "kcb-train: %s: %s (%s)\n", what, kcb_strerror(rc), kcb_error_name(rc));
  return 1;
}

int main(int argc, char **argv) {
  train_args a = {.model_spec = "flatten,256:relu,128:relu,10:softmax", .loss = "sparse_categorical_crossentropy",
                  .optimizer = "adam", .metrics = "accuracy",
                  .lr = -1, .validation_split = 0.1, .batch_size = 64, .seed = 42, .epochs = 20, .verbose = 1,
                  .early_stopping = -1, .lr_patience = -1, .lr_decay_epochs = -1, .lr_warmup_epochs = -1,
                  .min_delta = 0, .factor = -1, .lr_decay_rate = -1, .lr_alpha = -1,
                  .save_top_k = -2, .initial_value_threshold = NAN};
  int status = parse_args(argc, argv, &a);
  if (status) return status == 1 ? 0 : status;
  kcb_checkpoint_layout save_layout; /* refuse a name with no layout before training, not after */
  if (a.save && kcb_checkpoint_layout_from_name(&save_layout, a.save) != 0)
    return bad_value("--save", a.save, "the name must end in .weights.h5, .h5 or .keras");

  kcb_compile_options c = {0};
  kcb_metric metrics[8];
  char *metric_names[8];
  size_t n_metrics = 0;
  char *metric_list = strdup(a.metrics), *save = NULL;
  if (!metric_list) return fail("out of memory", KCB_ENOMEM);
  for (char *name = strtok_r(metric_list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
    if (n_metrics == 8 || kcb_metric_from_name(&metrics[n_metrics], name) != 0) {
      status = bad_value("--metrics", name, n_metrics == 8 ? "at most 8 metrics" : kcb_error_last());
      free(metric_list);
      return status;
    }
    metric_names[n_metrics++] = name;
  }
  kcb_optimizer_kind opt_kind;
  if (kcb_optimizer_from_name(&opt_kind, a.optimizer) != 0) {
    free(metric_list);
    return bad_value("--optimizer", a.optimizer, kcb_error_last());
  }
  if (kcb_loss_from_name(&c.loss, a.loss) != 0) {
    free(metric_list);
    return bad_value("--loss", a.loss, kcb_error_last());
  }
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(opt_kind);
  c.optimizer.learning_rate = a.lr;
  c.metrics = metrics;
  c.n_metrics = n_metrics;
  c.metric_names = (const char *const *)metric_names;

  kcb_mnist data = {0};
  kcb_model *model = NULL;
  kcb_history *history = NULL;
  kcb_callback *callbacks[10] = {NULL};
  size_t n_callbacks = 0;
  int rc = kcb_mnist_load(&data, a.data_dir, a.train_limit);
  if (rc) {
    status = fail("loading the data", rc);
    goto done;
  }
  if ((rc = kcb_model_new(&model, 2, &data.train_images->shape[1], (uint64_t)a.seed)) ||
      (rc = kcb_model_add_from_spec(model, a.model_spec))) {
    status = fail("--model", rc);
    goto done;
  }
  if ((rc = kcb_model_compile(model, &c))) {
    status = fail("compile", rc);
    goto done;
  }
  if (a.initial_weights && (rc = kcb_model_load_weights(model, a.initial_weights, NULL))) {
    status = fail("--initial-weights", rc);
    goto done;
  }
  if (a.verbose) kcb_model_summary(model, stdout);

  /* The built-in callbacks, in an order that lets the CSV log see the learning rate the rate
   * callbacks put into the logs (Keras: only callbacks after them see it). */
  double lr = kcb_model_learning_rate(model);
  kcb_lr_step_decay step = {lr, a.lr_decay_rate >= 0 ? a.lr_decay_rate : 0.5,
                            (int)(a.lr_decay_epochs > 0 ? a.lr_decay_epochs : 10)};
  kcb_lr_exponential_decay expo = {lr, step.epochs_per_drop, step.drop, 0};
  int warmup = (int)(a.lr_warmup_epochs > 0 ? a.lr_warmup_epochs : 0);
  int decay = (int)(a.lr_decay_epochs > 0 ? a.lr_decay_epochs : a.epochs - warmup > 1 ? a.epochs - warmup : 1);
  kcb_lr_cosine_decay cosine = KCB_LR_COSINE_DECAY_INIT(warmup ? 0.0 : lr, decay);
  cosine.alpha = a.lr_alpha >= 0 ? a.lr_alpha : 0;
  if (warmup) {
    cosine.warmup_target = lr;
    cosine.warmup_steps = warmup;
  }
  int cb_verbose = a.verbose > 0;
  if (a.terminate_on_nan) {
    rc = kcb_terminate_on_nan_new(&callbacks[n_callbacks], NULL);
    if (rc == 0) n_callbacks++;
  }
  if (rc == 0 && a.lr_schedule) {
    kcb_lr_scheduler_options so = KCB_LR_SCHEDULER_OPTIONS_INIT;
    so.verbose = cb_verbose;
    if (strcmp(a.lr_schedule, "step") == 0) rc = kcb_lr_scheduler_new(&callbacks[n_callbacks], kcb_lr_schedule_step_decay, &step, &so);
    else if (strcmp(a.lr_schedule, "exponential") == 0)
      rc = kcb_lr_scheduler_new(&callbacks[n_callbacks], kcb_lr_schedule_exponential_decay, &expo, &so);
    else rc = kcb_lr_scheduler_new(&callbacks[n_callbacks], kcb_lr_schedule_cosine_decay, &cosine, &so);
    if (rc == 0) n_callbacks++;
  }
  kcb_monitor_mode mode = KCB_MONITOR_AUTO;
  if (a.mode) kcb_monitor_mode_from_name(&mode, a.mode);
  if (rc == 0 && a.reduce_lr) {
    kcb_reduce_lr_on_plateau_options ro = KCB_REDUCE_LR_ON_PLATEAU_OPTIONS_INIT;
    if (a.monitor) ro.monitor = a.monitor;
    ro.mode = mode;
    if (a.factor >= 0) ro.factor = a.factor;
    if (a.lr_patience >= 0) ro.patience = (int)a.lr_patience;
    ro.verbose = cb_verbose;
    rc = kcb_reduce_lr_on_plateau_new(&callbacks[n_callbacks], &ro);
    if (rc == 0) n_callbacks++;
  }
  if (rc == 0 && a.early_stopping >= 0) {
    kcb_early_stopping_options eo = KCB_EARLY_STOPPING_OPTIONS_INIT;
    if (a.monitor) eo.monitor = a.monitor;
    eo.mode = mode;
    eo.min_delta = a.min_delta;
    eo.patience = (int)a.early_stopping;
    eo.restore_best_weights = a.restore_best_weights;
    eo.verbose = cb_verbose;
    rc = kcb_early_stopping_new(&callbacks[n_callbacks], &eo);
    if (rc == 0) n_callbacks++;
  }
  if (rc == 0 && a.csv) {
    kcb_csv_logger_options co = KCB_CSV_LOGGER_OPTIONS_INIT;
    co.append = a.csv_append;
    if (a.csv_separator) co.separator = a.csv_separator[0];
    rc = kcb_csv_logger_new(&callbacks[n_callbacks], a.csv, &co);
    if (rc == 0) n_callbacks++;
  }
  if (rc == 0 && a.checkpoint) {
    kcb_model_checkpoint_options mo = KCB_MODEL_CHECKPOINT_OPTIONS_INIT;
    if (a.monitor) mo.monitor = a.monitor;
    mo.mode = mode;
    mo.verbose = cb_verbose;
    mo.save_best_only = a.save_best_only;
    mo.save_weights_only = a.save_weights_only;
    mo.save_freq = a.save_freq;
    mo.save_top_k = a.save_top_k == -2 ? -1 : (int)a.save_top_k;
    mo.save_last = a.save_last;
    mo.initial_value_threshold = a.initial_value_threshold;
    rc = kcb_model_checkpoint_new(&callbacks[n_callbacks], a.checkpoint, &mo);
    if (rc == 0) n_callbacks++;
  }
  /* last, so that an epoch's backup is written after its checkpoint */
  if (rc == 0 && a.backup_dir) {
    kcb_backup_and_restore_options bo = KCB_BACKUP_AND_RESTORE_OPTIONS_INIT;
    bo.save_freq = a.backup_freq;
    rc = kcb_backup_and_restore_new(&callbacks[n_callbacks], a.backup_dir, &bo);
    if (rc == 0) n_callbacks++;
  }
  if (rc) {
    status = fail("creating the callbacks", rc);
    goto done;
  }

  kcb_fit_options fit = KCB_FIT_OPTIONS_INIT;
  fit.callbacks = callbacks;
  fit.n_callbacks = n_callbacks;
  fit.epochs = a.epochs;
  fit.batch_size = a.batch_size;
  fit.verbose = a.verbose;
  fit.validation_split = a.validation_split;
  if (a.logdir) {
    kcb_tensorboard_options tb = KCB_TENSORBOARD_OPTIONS_INIT;
    tb.log_dir = a.logdir;
    tb.histogram_freq = (int)a.histogram_freq;
    tb.update_freq = a.update_freq;
    tb.write_images = a.write_images;
    kcb_hparam hp[] = {
        {"model", KCB_HPARAM_STRING, 0, a.model_spec, 0},
        {"loss", KCB_HPARAM_STRING, 0, a.loss, 0},
        {"optimizer", KCB_HPARAM_STRING, 0, a.optimizer, 0},
        {"learning_rate", KCB_HPARAM_NUMBER, kcb_model_learning_rate(model), NULL, 0},
        {"batch_size", KCB_HPARAM_NUMBER, (double)a.batch_size, NULL, 0},
        {"epochs", KCB_HPARAM_NUMBER, a.epochs, NULL, 0},
        {"validation_split", KCB_HPARAM_NUMBER, a.validation_split, NULL, 0},
        {"seed", KCB_HPARAM_NUMBER, (double)a.seed, NULL, 0},
    };
    if (a.hparams) {
      tb.hparams = hp;
      tb.n_hparams = sizeof hp / sizeof hp[0];
    }
    if ((rc = kcb_tensorboard_new(&callbacks[n_callbacks], &tb))) {
      status = fail("--logdir", rc);
      goto done;
    }
    fit.n_callbacks = ++n_callbacks;
  }
  if ((rc = kcb_model_fit(model, data.train_images, data.train_labels, &fit, &history))) {
    status = fail("fit", rc);
    goto done;
  }
  if (a.save) {
    kcb_save_options so = KCB_SAVE_OPTIONS_INIT;
    so.epoch = a.epochs - 1;
    if ((rc = kcb_model_save(model, a.save, &so))) {
      status = fail("--save", rc);
      goto done;
    }
  }
  kcb_evaluate_options ev = KCB_EVALUATE_OPTIONS_INIT;
  ev.batch_size = a.batch_size;
  ev.verbose = 0;
  kcb_logs result;
  if ((rc = kcb_model_evaluate(model, data.test_images, data.test_labels, &ev, &result))) {
    status = fail("evaluate", rc);
    goto done;
  }
  /* loss first, then the metrics in the order asked for */
  double v = 0;
  kcb_logs_get(&result, "loss", &v);
  printf("test_loss=%.6f", v);
  for (size_t i = 0; i < n_metrics; i++) {
    kcb_logs_get(&result, metric_names[i], &v);
    printf(" test_%s=%.6f", metric_names[i], v);
  }
  printf("\n");
done:
  for (size_t i = 0; i < n_callbacks; i++) kcb_callback_free(callbacks[i]);
  kcb_history_free(history);
  kcb_model_free(model);
  kcb_mnist_free(&data);
  free(metric_list);
  return status;
}
