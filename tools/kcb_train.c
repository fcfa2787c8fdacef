/* kcb-train — train a Sequential model from the command line (Fashion-MNIST by default). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcb/kcb.h"
#include "tool_text.h"
#include "train_options.h"

static int needs(const char *flag, const char *other) {
  fprintf(stderr, "kcb-train: %s needs %s (see kcb-train --help)\n", flag, other);
  return 2;
}

static int parse_profile_batch(const char *v, long long *start, long long *stop);

/* Flags that only make sense with another one, and values checked beyond their range. */
static int check_callback_args(const train_args *a) {
  kcb_monitor_mode mode;
  long long start, stop;
  if (a->profile_batch && parse_profile_batch(a->profile_batch, &start, &stop)) return 2;
  if (a->csv_append && !a->csv) return needs("--csv-append", "--csv FILE");
  if (a->csv_separator && !a->csv) return needs("--csv-separator", "--csv FILE");
  if (a->csv_separator && (strlen(a->csv_separator) != 1 || strchr("\"\r\n", a->csv_separator[0])))
    return train_usage_error("--csv-separator", a->csv_separator, "expected one character other than a quote");
  if (a->restore_best_weights && a->early_stopping < 0)
    return needs("--restore-best-weights", "--early-stopping PATIENCE");
  if (!a->checkpoint && (a->save_best_only || a->save_weights_only || a->save_last || a->save_freq ||
                         a->save_top_k != -2 || a->initial_value_threshold == a->initial_value_threshold))
    return needs(a->save_best_only ? "--save-best-only" : a->save_weights_only ? "--save-weights-only"
                 : a->save_last ? "--save-last" : a->save_freq ? "--save-freq"
                 : a->save_top_k != -2 ? "--save-top-k" : "--initial-value-threshold", "--checkpoint TEMPLATE");
  if (a->backup_freq && !a->backup_dir) return needs("--backup-freq", "--backup-dir DIR");
  if (a->mode && kcb_monitor_mode_from_name(&mode, a->mode) != 0)
    return train_usage_error("--mode", a->mode, "expected auto, min or max");
  if ((a->factor >= 0 || a->lr_patience >= 0) && !a->reduce_lr)
    return needs(a->factor >= 0 ? "--factor" : "--lr-patience", "--reduce-lr-on-plateau");
  if (!a->logdir && (a->histogram_freq || a->update_freq || a->write_images || a->hparams || a->pr_curves ||
                     a->embeddings || a->profile_batch))
    return train_usage_error("--logdir", "", "the TensorBoard options need --logdir");
  if (strcmp(a->on_write_error, "stop") != 0 && strcmp(a->on_write_error, "warn") != 0)
    return train_usage_error("--on-write-error", a->on_write_error, "expected stop or warn");
  if (a->lr_schedule && strcmp(a->lr_schedule, "step") != 0 && strcmp(a->lr_schedule, "exponential") != 0 &&
      strcmp(a->lr_schedule, "cosine") != 0)
    return train_usage_error("--lr-schedule", a->lr_schedule, "expected step, exponential or cosine");
  if ((a->lr_decay_rate >= 0 || a->lr_decay_epochs >= 0 || a->lr_warmup_epochs >= 0 || a->lr_alpha >= 0) && !a->lr_schedule)
    return needs(a->lr_decay_rate >= 0 ? "--lr-decay-rate" : a->lr_decay_epochs >= 0 ? "--lr-decay-epochs"
                 : a->lr_warmup_epochs >= 0 ? "--lr-warmup-epochs" : "--lr-alpha", "--lr-schedule NAME");
  return 0;
}

/* Fashion-MNIST's class names, for the default data set. */
static const char *const fashion_names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                              "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

/* --profile-batch START,STOP (or N for N,N, as Keras's int profile_batch). @return 0 or 2. */
static int parse_profile_batch(const char *v, long long *start, long long *stop) {
  char *end;
  errno = 0;
  *start = strtoll(v, &end, 10);
  *stop = *start;
  if (*end == ',') *stop = strtoll(end + 1, &end, 10);
  if (*v == '\0' || *end || errno || *start < 1 || *stop < *start)
    return train_usage_error("--profile-batch", v, "expected START,STOP with 1 <= START <= STOP, or one batch N");
  return 0;
}

/* Splits --class-names at commas into names (at most cap); NULL text: Fashion-MNIST's for the
 * default data. @return the count. */
static size_t class_names(const train_args *a, char *text, const char **names, size_t cap) {
  size_t n = 0;
  if (!text) {
    if (a->data_dir) return 0;
    for (; n < 10 && n < cap; n++) names[n] = fashion_names[n];
    return n;
  }
  char *save = NULL;
  for (char *t = strtok_r(text, ",", &save); t && n < cap; t = strtok_r(NULL, ",", &save)) names[n++] = t;
  return n;
}

/* --embeddings N: the last hidden layer's outputs for the first N test images, their class names
 * (and indices) as metadata and the images as a sprite, for TensorBoard's projector, in logdir. */
static int write_embeddings(kcb_model *model, const kcb_mnist *data, long long count, const char *logdir,
                            const char *const *names, size_t n_names) {
  size_t last_dense = kcb_model_layer_count(model);
  while (last_dense > 0 && strcmp(kcb_model_layer_class(model, last_dense - 1), "Dense") != 0) last_dense--;
  if (last_dense < 2) {
    fprintf(stderr, "kcb-train: --embeddings needs a hidden layer before the output Dense layer\n");
    return KCB_EINVAL;
  }
  int64_t n = data->test_images->shape[0] < count ? data->test_images->shape[0] : count;
  kcb_tensor x = *data->test_images, *features = NULL;
  x.shape[0] = n;
  int rc = kcb_model_predict_layer(model, &x, last_dense - 2, 256, &features);
  if (rc) return rc;
  size_t pixels = (size_t)kcb_tensor_sample_size(&x);
  uint8_t *images = malloc((size_t)n * pixels + 1);
  const char **label = calloc((size_t)n + 1, sizeof *label), **index = calloc((size_t)n + 1, sizeof *index);
  char *numbers = malloc((size_t)n * 16 + 1);
  if (!images || !label || !index || !numbers) rc = KCB_ENOMEM;
  for (int64_t i = 0; !rc && i < n; i++) {
    int c = (int)data->test_labels->data[i];
    snprintf(numbers + 16 * i, 16, "%d", c);
    index[i] = numbers + 16 * i;
    label[i] = c >= 0 && (size_t)c < n_names ? names[c] : index[i];
  }
  for (size_t i = 0; !rc && i < (size_t)n * pixels; i++) {
    float v = x.data[i] * 255.0f + 0.5f; /* the pixels were scaled to [0, 1] on loading */
    images[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
  }
  if (!rc) {
    const char *const columns[2] = {"label", "class"};
    const char *const *values[2] = {label, index};
    kcb_embedding e = {.name = "test_features", .data = features->data, .rows = (size_t)n,
                       .dims = (size_t)kcb_tensor_sample_size(features), .column_names = columns, .columns = values,
                       .n_columns = 2, .metadata_rows = (size_t)n, .images = images, .image_height = (int)x.shape[1],
                       .image_width = x.rank > 2 ? (int)x.shape[2] : 1, .image_channels = 1};
    rc = kcb_projector_write(logdir, &e, 1, NULL);
  }
  free(images);
  free(label);
  free(index);
  free(numbers);
  kcb_tensor_free(features);
  return rc;
}

/* Adds a callback that writes files; with --on-write-error warn, its failure only warns. */
static int add_writer(kcb_callback **list, size_t *n, kcb_callback *cb, int warn) {
  kcb_callback *wrapped = cb;
  int rc = warn ? kcb_keep_going_new(&wrapped, cb, NULL) : 0;
  if (rc) {
    kcb_callback_free(cb);
    return rc;
  }
  list[(*n)++] = wrapped;
  return 0;
}

/* Lists every file the run wrote, so nothing has to be searched for afterwards. */
static void print_files(const train_args *a, const kcb_callback *checkpoint, const kcb_callback *tensorboard) {
  printf("Files written:\n");
  if (a->logdir) {
    char **runs = NULL;
    size_t n_runs = 0;
    if (kcb_tfevents_list_runs(a->logdir, &runs, &n_runs) == 0)
      for (size_t r = 0; r < n_runs; r++) {
        char dir[4096], **files = NULL;
        size_t n_files = 0;
        snprintf(dir, sizeof dir, "%s/%s", a->logdir, runs[r]);
        if (kcb_tfevents_list_files(dir, &files, &n_files) == 0)
          for (size_t f = 0; f < n_files; f++) printf("  TensorBoard  %s\n", files[f]);
        kcb_string_list_free(files, n_files);
      }
    kcb_string_list_free(runs, n_runs);
  }
  if (kcb_tensorboard_profile_path(tensorboard)) printf("  profile      %s\n", kcb_tensorboard_profile_path(tensorboard));
  if (a->embeddings) printf("  projector    %s/projector_config.pbtxt (test_features/)\n", a->logdir);
  if (a->csv) printf("  CSV log      %s\n", a->csv);
  if (checkpoint) {
    double value;
    const char *path;
    for (size_t i = 0; (path = kcb_model_checkpoint_kept(checkpoint, i, &value)); i++)
      printf("  checkpoint   %s (%s %.6g)\n", path, a->monitor ? a->monitor : "val_loss", value);
    if (!kcb_model_checkpoint_kept(checkpoint, 0, NULL) && kcb_model_checkpoint_last_saved(checkpoint)[0])
      printf("  checkpoint   %s\n", kcb_model_checkpoint_last_saved(checkpoint));
  }
  if (a->backup_dir) printf("  backup       %s (removed: the run completed)\n", a->backup_dir);
  if (a->save) printf("  model        %s\n", a->save);
}

/* Reports a library error with its detail and returns the tool's exit status for it. */
static int fail(const char *what, int rc) {
  if (kcb_error_last()[0]) /* the library's message already names the step, file or flag */
    fprintf(stderr, "kcb-train: %s (%s)\n", tool_esc_lines(kcb_error_last()), kcb_error_name(rc));
  else
    fprintf(stderr, "kcb-train: %s: %s (%s)\n", what, kcb_strerror(rc), kcb_error_name(rc));
  return 1;
}

int main(int argc, char **argv) {
  train_args a;
  train_args_defaults(&a);
  atexit(train_args_release);
  int status = train_args_parse(&a, argc, argv);
  if (status == 0) status = check_callback_args(&a);
  if (status) return status == 1 ? 0 : status;
  kcb_checkpoint_layout save_layout; /* refuse a name with no layout before training, not after */
  if (a.save && kcb_checkpoint_layout_from_name(&save_layout, a.save) != 0)
    return train_usage_error("--save", a.save, "the name must end in .weights.h5, .h5 or .keras");

  kcb_compile_options c = {0};
  kcb_metric metrics[8];
  char *metric_names[8];
  size_t n_metrics = 0;
  char *metric_list = strdup(a.metrics), *save = NULL;
  if (!metric_list) return fail("out of memory", KCB_ENOMEM);
  for (char *name = strtok_r(metric_list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
    if (n_metrics == 8 || kcb_metric_from_name(&metrics[n_metrics], name) != 0) {
      status = train_usage_error("--metrics", name, n_metrics == 8 ? "at most 8 metrics" : kcb_error_last());
      free(metric_list);
      return status;
    }
    metric_names[n_metrics++] = name;
  }
  kcb_optimizer_kind opt_kind;
  if (kcb_optimizer_from_name(&opt_kind, a.optimizer) != 0) {
    free(metric_list);
    return train_usage_error("--optimizer", a.optimizer, kcb_error_last());
  }
  if (kcb_loss_from_name(&c.loss, a.loss) != 0) {
    free(metric_list);
    return train_usage_error("--loss", a.loss, kcb_error_last());
  }
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(opt_kind);
  c.optimizer.learning_rate = a.lr;
  c.metrics = metrics;
  c.n_metrics = n_metrics;
  c.metric_names = (const char *const *)metric_names;

  char *name_list = a.class_names ? strdup(a.class_names) : NULL;
  const char *names[256];
  size_t n_names = class_names(&a, name_list, names, 256);
  kcb_mnist data = {0};
  kcb_model *model = NULL;
  kcb_history *history = NULL;
  kcb_callback *callbacks[10] = {NULL}, *checkpoint = NULL, *writer = NULL, *tensorboard = NULL;
  size_t n_callbacks = 0;
  int warn = strcmp(a.on_write_error, "warn") == 0;
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
    if ((rc = kcb_csv_logger_new(&writer, a.csv, &co)) == 0) rc = add_writer(callbacks, &n_callbacks, writer, warn);
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
    if ((rc = kcb_model_checkpoint_new(&checkpoint, a.checkpoint, &mo)) == 0)
      rc = add_writer(callbacks, &n_callbacks, checkpoint, warn);
    if (rc) checkpoint = NULL;
  }
  /* last, so that an epoch's backup is written after its checkpoint */
  if (rc == 0 && a.backup_dir) {
    kcb_backup_and_restore_options bo = KCB_BACKUP_AND_RESTORE_OPTIONS_INIT;
    bo.save_freq = a.backup_freq;
    if ((rc = kcb_backup_and_restore_new(&writer, a.backup_dir, &bo)) == 0)
      rc = add_writer(callbacks, &n_callbacks, writer, warn);
  }
  if (rc) {
    status = fail("creating the callbacks", rc);
    goto done;
  }

  kcb_fit_options fit = KCB_FIT_OPTIONS_INIT;
  fit.callbacks = callbacks;
  fit.n_callbacks = n_callbacks;
  fit.epochs = (int)a.epochs;
  fit.batch_size = a.batch_size;
  fit.verbose = (int)a.verbose;
  fit.validation_split = a.validation_split;
  if (a.logdir) {
    kcb_tensorboard_options tb = KCB_TENSORBOARD_OPTIONS_INIT;
    tb.log_dir = a.logdir;
    tb.histogram_freq = (int)a.histogram_freq;
    tb.update_freq = a.update_freq;
    tb.write_images = a.write_images;
    tb.custom_scalars = 1; /* each metric's train and validation curves in one chart */
    tb.pr_curves = a.pr_curves ? KCB_PR_CURVE_DEFAULT_THRESHOLDS : 0;
    tb.class_names = names;
    tb.n_class_names = n_names;
    long long start = 0, stop = 0;
    if (a.profile_batch && (status = parse_profile_batch(a.profile_batch, &start, &stop))) goto done;
    tb.profile_batch_start = start;
    tb.profile_batch_stop = stop;
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
    if ((rc = kcb_tensorboard_new(&writer, &tb)) || (tensorboard = writer, 0) ||
        (rc = add_writer(callbacks, &n_callbacks, writer, warn))) {
      status = fail("--logdir", rc);
      goto done;
    }
    fit.n_callbacks = n_callbacks;
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
  if (a.embeddings && (rc = write_embeddings(model, &data, a.embeddings, a.logdir, names, n_names))) {
    status = fail("--embeddings", rc);
    goto done;
  }
  kcb_evaluate_options ev = KCB_EVALUATE_OPTIONS_INIT;
  ev.batch_size = a.batch_size;
  ev.verbose = 0;
  kcb_logs result;
  if ((rc = kcb_model_evaluate(model, data.test_images, data.test_labels, &ev, &result))) {
    status = fail("evaluate", rc);
    goto done;
  }
  if (a.verbose) print_files(&a, checkpoint, tensorboard);
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
  free(name_list);
  return status;
}
