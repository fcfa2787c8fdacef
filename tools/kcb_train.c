/* kcb-train — train a Sequential model from the command line (Fashion-MNIST by default). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_common.h"
#include "kcb/kcb.h"
#include "tool_text.h"
#include "train_options.h"

/* ---- Ctrl-C: the first SIGINT / SIGTERM / SIGHUP asks fit to stop after the batch; a second one (or one
 * outside fit) ends the process at once, with the signal's usual status. ---------------------- */
static kcb_model *running_model;
static volatile sig_atomic_t in_fit, fit_started, after_fit, in_final_evaluate, stop_signal;
static int quiet_rank; /* a rank other than 0 under mpirun: rank 0 alone prints */

static void on_stop_signal(int sig) {
  if (after_fit && !stop_signal) { /* training is done and saved: end the test pass, finish, say so */
    stop_signal = sig;
    if (in_final_evaluate) kcb_model_set_stop_evaluating(running_model, 1);
    return;
  }
  if (stop_signal || !in_fit) {
    static const char before[] = "\nkcb-train: interrupted before training started: nothing was trained\n";
    if (!fit_started && !quiet_rank) {
      ssize_t ignored = write(STDERR_FILENO, before, sizeof before - 1);
      (void)ignored;
    }
    signal(sig, SIG_DFL);
    raise(sig);
    return;
  }
  stop_signal = sig;
  kcb_model_request_stop(running_model);
  /* SIGTERM comes from kill, a batch system or mpirun ending the job, SIGHUP from a closed
   * terminal or ssh session, not from a key */
  static const char on_int[] = "\nkcb-train: stopping after this batch (press Ctrl-C again to quit at once)\n";
  static const char on_term[] = "\nkcb-train: SIGTERM received: stopping after this batch (a second signal quits at once)\n";
  static const char on_hup[] = "\nkcb-train: SIGHUP received (the terminal closed): stopping after this batch\n";
  if (!quiet_rank) {
    ssize_t ignored = sig == SIGTERM ? write(STDERR_FILENO, on_term, sizeof on_term - 1)
                      : sig == SIGHUP ? write(STDERR_FILENO, on_hup, sizeof on_hup - 1)
                                      : write(STDERR_FILENO, on_int, sizeof on_int - 1);
    (void)ignored;
  }
}

static const char *stop_signal_name(int sig) { return sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "SIGINT"; }

static void catch_stop_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  /* SIGHUP: a closed terminal stops as SIGTERM does (backup, logs closed). A signal ignored when
   * kcb-train starts stays ignored, as the shell meant it: nohup's SIGHUP, SIGINT of a script's
   * background job (a Ctrl-C for the foreground job is not for it) */
  const int stops[] = {SIGINT, SIGTERM, SIGHUP};
  for (size_t i = 0; i < sizeof stops / sizeof *stops; i++) {
    struct sigaction old;
    if (sigaction(stops[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    sigaction(stops[i], &sa, NULL);
  }
}

/* A float32 setting (the learning rate) as its shortest decimal reads, as a double: 0.001, not the
 * 0.0010000000474974513 the float widens to, which TensorBoard's hparams would sort and filter by. */
static double float_as_written(double v) {
  float f = (float)v;
  char text[32];
  for (int digits = 1; digits <= 9; digits++) {
    snprintf(text, sizeof text, "%.*g", digits, (double)f);
    if ((float)strtod(text, NULL) == f) return strtod(text, NULL);
  }
  return v;
}

/* Whether `word` is one of the space-separated words of `list`. */
static int word_in(const char *list, const char *word) {
  size_t n = strlen(word);
  for (const char *p = list; (p = strstr(p, word)); p += n)
    if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return 1;
  return 0;
}

static int needs(const char *flag, const char *other) {
  fprintf(stderr, "kcb-train: %s needs %s (see kcb-train --help)\n", flag, other);
  return 2;
}

/* A --monitor that is never logged (not the loss, a --metrics name, either with "val_", or the
 * learning rate a schedule logs) is refused before any work, with the nearest logged name: with
 * --mode the run would train to the end without ever finding it. Without --mode it also says that
 * auto mode cannot place it (the library's message is Keras's, with `mode='max'`). */
static int check_monitor(const train_args *a) {
  int watched = a->early_stopping >= 0 || a->reduce_lr || a->checkpoint;
  /* a validation value no log of the run will hold: early stopping would never stop, a best-only
   * or top-k checkpoint never rank (Keras warns each time and goes on) */
  const char *monitor = a->monitor ? a->monitor : "val_loss";
  int ranks_checkpoints = a->checkpoint && (a->save_best_only || a->save_top_k > 0);
  if (!strncmp(monitor, "val_", 4) && (a->early_stopping >= 0 || a->reduce_lr || ranks_checkpoints)) {
    const char *why = a->validation_split <= 0 ? "--validation-split 0 gives no validation"
                      : ranks_checkpoints && a->save_freq > 0
                          ? "--save-freq N ranks checkpoints by train batch logs, which hold no validation value"
                          : NULL;
    if (why) {
      /* the other way out only where it is the one obstacle */
      int both = a->validation_split <= 0 && ranks_checkpoints && a->save_freq > 0;
      fprintf(stderr, "kcb-train: --monitor %s is a validation value, but %s: give --monitor %s%s%s\n", tool_esc(monitor),
              why, monitor + 4, both ? "" : a->validation_split <= 0 ? " (or --validation-split F above 0)" : " (or --save-freq epoch)",
              both ? " (--save-freq N ranks checkpoints by batch logs too)" : "");
      return 2;
    }
  }
  if (!a->monitor || !watched) return 0;
  const char *names[20] = {"loss", "val_loss"};
  char list[256], *save = NULL, prefixed[8][80];
  size_t n = 2;
  snprintf(list, sizeof list, "%s", a->metrics);
  for (char *m = strtok_r(list, ",", &save); m && n + 2 <= 19 && n / 2 - 1 < 8; m = strtok_r(NULL, ",", &save)) {
    snprintf(prefixed[n / 2 - 1], sizeof prefixed[0], "val_%s", m);
    names[n] = m;
    names[n + 1] = prefixed[n / 2 - 1];
    n += 2;
  }
  int auto_mode = !a->mode || strcmp(a->mode, "auto") == 0;
  if (!auto_mode && (a->lr_schedule || a->reduce_lr)) names[n++] = "learning_rate";
  for (size_t i = 0; i < n; i++)
    if (strcmp(a->monitor, names[i]) == 0) return 0;
  if (auto_mode)
    fprintf(stderr, "kcb-train: --monitor '%s' is not the loss or one of --metrics, so kcb-train cannot tell whether "
            "it should fall or rise: give --mode min or --mode max", a->monitor);
  else
    fprintf(stderr, "kcb-train: --monitor '%s' is never logged: the logs hold the loss and --metrics (%s), each also "
            "with val_%s", a->monitor, a->metrics, a->lr_schedule || a->reduce_lr ? ", and learning_rate" : "");
  const char *s = kcb_text_suggest(a->monitor, names, n);
  if (s) fprintf(stderr, " (did you mean %s?)", s);
  fprintf(stderr, "\n");
  return 2;
}

static int parse_profile_batch(const char *v, long long *start, long long *stop);

/* `path` made absolute and without "." or ".." steps or doubled slashes, lexically (its directory
 * may not exist yet), into out. */
static void lexical_path(const char *path, char *out, size_t size) {
  char joined[2 * PATH_MAX];
  char cwd[PATH_MAX];
  snprintf(joined, sizeof joined, "%s/%s", path[0] == '/' ? "" : getcwd(cwd, sizeof cwd) ? cwd : ".", path);
  size_t n = 0, marks[PATH_MAX / 2], depth = 0; /* marks: where each kept step starts in out */
  out[0] = '\0';
  for (char *save = NULL, *step = strtok_r(joined, "/", &save); step; step = strtok_r(NULL, "/", &save)) {
    if (!strcmp(step, ".")) continue;
    if (!strcmp(step, "..")) {
      if (depth) n = marks[--depth], out[n] = '\0';
      continue;
    }
    if (depth < sizeof marks / sizeof marks[0]) marks[depth++] = n;
    n += (size_t)snprintf(out + n, n < size ? size - n : 0, "/%s", step);
    if (n >= size) n = size - 1;
  }
  if (!n) snprintf(out, size, "/");
}

/* Whether paths a and b name one file: the same inode when both exist, else the same directory
 * (resolved, or as written when it is still to be made) and name. */
static int same_file(const char *a, const char *b) {
  struct stat sa, sb;
  int ea = stat(a, &sa) == 0, eb = stat(b, &sb) == 0;
  if (ea || eb) return ea && eb && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  char da[PATH_MAX], db[PATH_MAX], ra[PATH_MAX], rb[PATH_MAX];
  const char *na = strrchr(a, '/'), *nb = strrchr(b, '/');
  snprintf(da, sizeof da, "%.*s", na ? (int)(na - a) + 1 : 1, na ? a : ".");
  snprintf(db, sizeof db, "%.*s", nb ? (int)(nb - b) + 1 : 1, nb ? b : ".");
  if (realpath(da, ra) && realpath(db, rb))
    return strcmp(ra, rb) == 0 && strcmp(na ? na + 1 : a, nb ? nb + 1 : b) == 0;
  lexical_path(a, ra, sizeof ra);
  lexical_path(b, rb, sizeof rb);
  return strcmp(ra, rb) == 0;
}

/* --backup-dir's record of the options that set the run's course (train_args_course), so that a
 * resume with other data, model or optimization is refused instead of mixing two runs. */
#define COURSE_FILE "kcb-train-course.txt"

/* No file the run writes may be one it reads (the CSV log over --initial-weights or a --config
 * file), and no two outputs one file; --save or a fixed --checkpoint over --initial-weights is
 * fine-tuning that replaces its start, as asked. */
static int check_paths_apart(const train_args *a) {
  const char *checkpoint = a->checkpoint && !strchr(a->checkpoint, '{') ? a->checkpoint : NULL;
  const struct { const char *flag, *path; } outputs[3] = {{"--csv", a->csv}, {"--save", a->save}, {"--checkpoint", checkpoint}};
  size_t n_configs;
  const char *const *configs = train_args_config_files(&n_configs);
  char why[600];
  for (int o = 0; o < 3; o++) {
    if (!outputs[o].path) continue;
    const char *input = a->initial_weights && o == 0 && same_file(outputs[o].path, a->initial_weights) ? "--initial-weights" : NULL;
    for (size_t c = 0; !input && c < n_configs; c++)
      if (same_file(outputs[o].path, configs[c])) input = "--config";
    if (input) {
      snprintf(why, sizeof why, "it is the %s file this run reads; writing there would replace it (give another name)", input);
      return train_usage_error(outputs[o].flag, outputs[o].path, why);
    }
    for (int p = 0; p < o; p++)
      if (outputs[p].path && same_file(outputs[o].path, outputs[p].path)) {
        snprintf(why, sizeof why, "%s names the same file: one would replace the other (give another name)", outputs[p].flag);
        return train_usage_error(outputs[o].flag, outputs[o].path, why);
      }
    /* BackupAndRestore's own files: replaced at every backup, deleted when the run completes */
    static const char *const backup_files[] = {"latest.weights.h5", "training_metadata.json", "latest.weights.h5.bkp",
                                               "training_metadata.json.bkp", "completed.json", COURSE_FILE};
    for (size_t b = 0; a->backup_dir && b < sizeof backup_files / sizeof backup_files[0]; b++) {
      char own[2 * PATH_MAX];
      snprintf(own, sizeof own, "%s/%s", a->backup_dir, backup_files[b]);
      if (!same_file(outputs[o].path, own)) continue;
      snprintf(why, sizeof why, "it is one of --backup-dir's own files, which the backup replaces and deletes when the "
               "run completes (give a name of its own)");
      return train_usage_error(outputs[o].flag, outputs[o].path, why);
    }
  }
  return 0;
}

/* Flags that only make sense with another one, and values checked beyond their range. */
static int check_callback_args(const train_args *a) {
  static const char *const modes[] = {"auto", "min", "max"}, *const histogram_formats[] = {"proto", "tensor"},
                           *const schedules[] = {"step", "exponential", "cosine", "warmup"}, *const on_error[] = {"stop", "warn"};
  char hint[256];
  kcb_monitor_mode mode;
  long long start, stop;
  if (a->profile_batch && parse_profile_batch(a->profile_batch, &start, &stop)) return 2;
  if (a->csv_append && !a->csv) return needs("--csv-append", "--csv FILE");
  if (a->csv_separator && !a->csv) return needs("--csv-separator", "--csv FILE");
  if (a->csv_separator && (strlen(a->csv_separator) != 1 || strchr("\"\r\n", a->csv_separator[0])))
    return train_usage_error("--csv-separator", a->csv_separator, "expected one character other than a quote or a line end");
  if (a->restore_best_weights && a->early_stopping < 0)
    return needs("--restore-best-weights", "--early-stopping PATIENCE");
  if (!a->checkpoint && (a->save_best_only || a->save_weights_only || a->save_last || a->save_freq ||
                         a->save_top_k != -2 || a->initial_value_threshold == a->initial_value_threshold))
    return needs(a->save_best_only ? "--save-best-only" : a->save_weights_only ? "--save-weights-only"
                 : a->save_last ? "--save-last" : a->save_freq ? "--save-freq"
                 : a->save_top_k != -2 ? "--save-top-k" : "--initial-value-threshold", "--checkpoint TEMPLATE");
  if (a->backup_freq && !a->backup_dir) return needs("--backup-freq", "--backup-dir DIR");
  if (a->mode && kcb_monitor_mode_from_name(&mode, a->mode) != 0)
    return train_usage_error("--mode", a->mode, cli_expected(hint, sizeof hint, a->mode, modes, 3));
  if ((a->factor >= 0 || a->lr_patience >= 0) && !a->reduce_lr)
    return needs(a->factor >= 0 ? "--factor" : "--lr-patience", "--reduce-lr-on-plateau");
  /* a decaying schedule sets the rate from the epoch at every epoch's start, undoing each cut (the
   * warm-up leaves the rate alone once it is over) */
  if (a->reduce_lr && a->lr_schedule && strcmp(a->lr_schedule, "warmup") != 0) {
    fprintf(stderr, "kcb-train: --reduce-lr-on-plateau with --lr-schedule %s: the schedule sets the rate at every "
            "epoch, undoing each reduction; use one of them (--lr-schedule warmup combines with it)\n",
            tool_esc(a->lr_schedule));
    return 2;
  }
  if (!a->logdir && (a->histogram_freq || a->update_freq || a->write_images || a->hparams || a->pr_curves ||
                     a->embeddings || a->profile_batch))
    return needs(a->histogram_freq ? "--histogram-freq" : a->update_freq ? "--update-freq"
                 : a->write_images ? "--write-images" : a->hparams ? "--hparams" : a->pr_curves ? "--pr-curves"
                 : a->embeddings ? "--embeddings" : "--profile-batch", "--logdir DIR");
  if (a->histogram_format && !cli_is_one_of(a->histogram_format, histogram_formats, 2))
    return train_usage_error("--histogram-format", a->histogram_format,
                             cli_expected(hint, sizeof hint, a->histogram_format, histogram_formats, 2));
  if (a->histogram_format && !a->histogram_freq) return needs("--histogram-format", "--histogram-freq N");
  /* as Keras's TensorBoard: kernel images are drawn with the histograms, PR curves from validation */
  if (a->write_images && !a->histogram_freq) return needs("--write-images", "--histogram-freq N");
  if (a->pr_curves && a->validation_split <= 0)
    return train_usage_error("--pr-curves", NULL, "PR curves are drawn from the validation data: give --validation-split "
                             "above 0");
  if (a->initial_epoch >= a->epochs && a->epochs > 0) {
    char value[32];
    snprintf(value, sizeof value, "%lld", (long long)a->initial_epoch);
    return train_usage_error("--initial-epoch", value, "must be below --epochs (it counts the epochs already trained)");
  }
  if (!cli_is_one_of(a->on_write_error, on_error, 2))
    return train_usage_error("--on-write-error", a->on_write_error, cli_expected(hint, sizeof hint, a->on_write_error, on_error, 2));
  if (a->lr_schedule && !cli_is_one_of(a->lr_schedule, schedules, 4))
    return train_usage_error("--lr-schedule", a->lr_schedule, cli_expected(hint, sizeof hint, a->lr_schedule, schedules, 4));
  if ((a->lr_decay_rate >= 0 || a->lr_decay_epochs >= 0 || a->lr_warmup_epochs >= 0 || a->lr_alpha >= 0) && !a->lr_schedule)
    return needs(a->lr_decay_rate >= 0 ? "--lr-decay-rate" : a->lr_decay_epochs >= 0 ? "--lr-decay-epochs"
                 : a->lr_warmup_epochs >= 0 ? "--lr-warmup-epochs" : "--lr-alpha", "--lr-schedule NAME");
  /* a schedule's setting given to one that has no use for it would be taken and ignored */
  static const struct { const char *flag, *schedules, *said; } uses[] = {
      {"--lr-decay-rate", "step exponential", "step or exponential"},
      {"--lr-decay-epochs", "step exponential cosine", "step, exponential or cosine"},
      {"--lr-warmup-epochs", "cosine warmup", "cosine or warmup"}, {"--lr-alpha", "cosine", "cosine"}};
  const int given[] = {a->lr_decay_rate >= 0, a->lr_decay_epochs >= 0, a->lr_warmup_epochs >= 0, a->lr_alpha >= 0};
  for (size_t i = 0; a->lr_schedule && i < sizeof uses / sizeof uses[0]; i++)
    if (given[i] && !word_in(uses[i].schedules, a->lr_schedule)) {
      fprintf(stderr, "kcb-train: %s is a setting of --lr-schedule %s, not of %s (see kcb-train --help)\n", uses[i].flag,
              uses[i].said, tool_esc(a->lr_schedule));
      return 2;
    }
  /* an optimizer's setting given to another optimizer would be taken and ignored */
  static const struct { const char *flag, *optimizers, *said; } settings[] = {
      {"--momentum", "sgd rmsprop", "sgd and rmsprop"}, {"--nesterov", "sgd", "sgd"}, {"--rho", "rmsprop", "rmsprop"},
      {"--centered", "rmsprop", "rmsprop"}, {"--beta-1", "adam adamw", "adam and adamw"},
      {"--beta-2", "adam adamw", "adam and adamw"}, {"--amsgrad", "adam adamw", "adam and adamw"},
      {"--epsilon", "rmsprop adam adamw", "rmsprop, adam and adamw"}};
  const int set[] = {a->momentum >= 0, a->nesterov, a->rho >= 0, a->centered, a->beta_1 >= 0, a->beta_2 >= 0,
                     a->amsgrad, a->epsilon >= 0};
  kcb_optimizer_kind kind;
  const char *optimizer = kcb_optimizer_from_name(&kind, a->optimizer) == 0 ? kcb_optimizer_name(kind) : NULL;
  for (size_t i = 0; optimizer && i < sizeof settings / sizeof settings[0]; i++)
    if (set[i] && !word_in(settings[i].optimizers, optimizer)) {
      fprintf(stderr, "kcb-train: %s is a setting of %s, not of --optimizer %s (see kcb-train --help)\n", settings[i].flag,
              settings[i].said, optimizer);
      return 2;
    }
  /* settings of the callbacks that watch a value, given with none of them: taken and ignored */
  if ((a->monitor || a->mode) && a->early_stopping < 0 && !a->reduce_lr && !a->checkpoint)
    return needs(a->monitor ? "--monitor" : "--mode", "--early-stopping PATIENCE, --reduce-lr-on-plateau or --checkpoint TEMPLATE");
  if (a->class_names && !a->pr_curves && !a->embeddings) return needs("--class-names", "--pr-curves or --embeddings");
  /* Keras's EarlyStopping and ReduceLROnPlateau both take min_delta: given, it goes to both */
  if (a->min_delta == a->min_delta && a->early_stopping < 0 && !a->reduce_lr)
    return needs("--min-delta", "--early-stopping PATIENCE or --reduce-lr-on-plateau");
  return check_monitor(a);
}

/* A new run's hyperparameters in a log directory that holds an earlier run's: TensorBoard keeps a
 * tag's first metadata in a run, so its HParams tab would show the earlier values beside this run's
 * metrics. Said, not refused (the run trains all the same). */
static void warn_hparams_there(const char *logdir) {
  kcb_run_summary *s = NULL;
  kcb_run_summary_options o = KCB_RUN_SUMMARY_OPTIONS_INIT;
  o.keep_series = 0;
  o.tag = "_hparams_/session_start_info";
  if (kcb_run_summary_read(&s, logdir, &o) == 0 && kcb_run_summary_find(s, o.tag))
    fprintf(stderr, "kcb-train: note: --logdir %s already holds an earlier run's hyperparameters; TensorBoard's HParams "
            "tab shows the first ones found, beside this run's metrics: give each run its own --logdir\n", tool_esc(logdir));
  kcb_run_summary_free(s);
  kcb_error_clear();
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

/* The layer --embeddings shows: the one before the last Dense layer, when a Dense or convolution
 * comes before it. @return its index + 1, or 0 when the model has none. */
static size_t embedding_layer(const kcb_model *model) {
  size_t last_dense = kcb_model_layer_count(model);
  while (last_dense > 0 && strcmp(kcb_model_layer_class(model, last_dense - 1), "Dense") != 0) last_dense--;
  /* hidden: a Dense or convolution computed it (a flatten of the pixels alone is no embedding) */
  int hidden = 0;
  for (size_t i = 0; last_dense >= 2 && i + 1 < last_dense; i++) {
    const char *cls = kcb_model_layer_class(model, i);
    hidden |= !strcmp(cls, "Dense") || !strcmp(cls, "Conv1D") || !strcmp(cls, "Conv2D");
  }
  return last_dense < 2 || !hidden ? 0 : last_dense - 1;
}

/* --embeddings N: the last hidden layer's outputs for the first N test images, their class names
 * (and indices) as metadata and the images as a sprite of image_h x image_w pictures (the data
 * set's, whatever shape the model views them in), for TensorBoard's projector, in logdir. */
static int write_embeddings(kcb_model *model, const kcb_mnist *data, long long count, const char *logdir,
                            const char *const *names, size_t n_names, int64_t image_h, int64_t image_w) {
  int64_t n = data->test_images->shape[0] < count ? data->test_images->shape[0] : count;
  kcb_tensor x = *data->test_images, *features = NULL;
  x.shape[0] = n;
  int rc = kcb_model_predict_layer(model, &x, embedding_layer(model) - 1, 256, &features);
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
                       .n_columns = 2, .metadata_rows = (size_t)n, .images = images, .image_height = (int)image_h,
                       .image_width = (int)image_w, .image_channels = 1};
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

/* --save and --embeddings, written when fit ends normally by rank 0, from a callback placed just
 * before BackupAndRestore: the backup is then marked completed (and emptied) only once they are
 * on disk, so a kill between the two leaves a backup to resume, never a "completed" run without
 * its files. */
typedef struct final_outputs {
  kcb_callback base;
  const train_args *a;
  const kcb_mnist *data;
  const char *const *names;
  size_t n_names;
  int64_t image_h, image_w; /* the data set's images, for the sprite */
  int last_epoch;           /* the last epoch trained (0-based), for --save's kcb_epoch */
  const char *failed;       /* the option whose file could not be written, for the message */
} final_outputs;

/* The last epoch trained: the one before the first epoch begun (a resume starts at its backup's
 * epoch, not --initial-epoch), then each one ended. */
static int final_outputs_on_epoch_begin(kcb_callback *cb, int epoch, kcb_logs *logs) {
  (void)logs;
  final_outputs *fo = (final_outputs *)cb;
  if (epoch - 1 > fo->last_epoch) fo->last_epoch = epoch - 1;
  return 0;
}

static int final_outputs_on_epoch_end(kcb_callback *cb, int epoch, kcb_logs *logs) {
  (void)logs;
  ((final_outputs *)cb)->last_epoch = epoch;
  return 0;
}

static int final_outputs_on_train_end(kcb_callback *cb, kcb_logs *logs) {
  final_outputs *fo = (final_outputs *)cb;
  (void)logs;
  if (kcb_model_interrupted(cb->model) || cb->params->rank != 0) return 0;
  int rc = 0;
  if (fo->a->save) {
    kcb_save_options so = KCB_SAVE_OPTIONS_INIT;
    so.epoch = fo->last_epoch; /* early stopping may have ended fit before --epochs */
    if ((rc = kcb_model_save(cb->model, fo->a->save, &so))) fo->failed = "--save";
  }
  if (rc == 0 && fo->a->embeddings &&
      (rc = write_embeddings(cb->model, fo->data, fo->a->embeddings, fo->a->logdir, fo->names, fo->n_names, fo->image_h,
                             fo->image_w)))
    fo->failed = "--embeddings";
  return rc;
}

static const kcb_callback_ops final_outputs_ops = {
    .name = "FinalOutputs", .on_epoch_begin = final_outputs_on_epoch_begin, .on_epoch_end = final_outputs_on_epoch_end,
    .on_train_end = final_outputs_on_train_end};

/* Lists every file the run wrote, so nothing has to be searched for afterwards; nothing at all
 * when it wrote none. `backup` says what became of the --backup-dir backup. */
static void print_files(const train_args *a, const kcb_callback *checkpoint, const kcb_callback *tensorboard,
                        const char *backup, int saved_model) {
  int any = 0;
#define FILE_LINE(...) (any++ ? 0 : printf("Files written:\n"), printf(__VA_ARGS__))
  const char *event_file;
  for (size_t i = 0; (event_file = kcb_tensorboard_event_file(tensorboard, i)); i++)
    FILE_LINE("  TensorBoard  %s\n", tool_esc(event_file));
  if (kcb_tensorboard_profile_path(tensorboard)) FILE_LINE("  profile      %s\n", tool_esc(kcb_tensorboard_profile_path(tensorboard)));
  if (a->embeddings && a->logdir) FILE_LINE("  projector    %s/projector_config.pbtxt (test_features/)\n", tool_esc(a->logdir));
  if (a->csv && access(a->csv, F_OK) == 0) FILE_LINE("  CSV log      %s\n", tool_esc(a->csv));
  if (checkpoint) {
    double value;
    const char *path;
    if (kcb_model_checkpoint_kept(checkpoint, 0, NULL)) /* --save-top-k: the files that remain, best first */
      for (size_t i = 0; (path = kcb_model_checkpoint_kept(checkpoint, i, &value)); i++) {
        /* the top k may hold files of an earlier run of the same template, read back, not written now */
        int written = 0;
        for (size_t j = 0; !written && kcb_model_checkpoint_saved(checkpoint, j); j++)
          written = !strcmp(kcb_model_checkpoint_saved(checkpoint, j), path);
        FILE_LINE("  checkpoint   %s (%s %.6g%s)\n", tool_esc(path), a->monitor ? tool_esc(a->monitor) : "val_loss", value,
                  written ? "" : "; kept from an earlier run");
      }
    else
      for (size_t i = 0; (path = kcb_model_checkpoint_saved(checkpoint, i)); i++)
        if (access(path, F_OK) == 0) FILE_LINE("  checkpoint   %s\n", tool_esc(path));
    if ((path = kcb_model_checkpoint_save_last_path(checkpoint)) && access(path, F_OK) == 0)
      FILE_LINE("  checkpoint   %s (--save-last)\n", tool_esc(path));
  }
  if (a->backup_dir && backup) FILE_LINE("  backup       %s (%s)\n", tool_esc(a->backup_dir), backup);
  if (a->save && saved_model) FILE_LINE("  model        %s\n", tool_esc(a->save));
#undef FILE_LINE
}

/* Reports a library error with its detail and returns the tool's exit status for it. */
static char who[64] = "kcb-train"; /* with the rank under mpirun */
static int fail(const char *what, int rc) {
  char line[8192];
  if (kcb_error_last()[0]) /* the library's message already names the step, file or flag */
    snprintf(line, sizeof line, "%s: %s (%s)\n", who, tool_esc_lines(kcb_error_last()), kcb_error_name(rc));
  else
    snprintf(line, sizeof line, "%s: %s: %s (%s)\n", who, what, kcb_strerror(rc), kcb_error_name(rc));
  train_say(line); /* kept on a quiet rank until the set-up's end says whether rank 0 said it */
  return 1;
}

/* --initial-weights: the weights, and the optimizer state when the file's fits this run's
 * optimizer; a state it cannot take (another optimizer, other slots) is said, as Keras warns,
 * and training starts from a fresh optimizer rather than failing or dropping it unsaid. */
/* The file says how its model was compiled: a loss other than this run's (a crossentropy on
 * logits, kcb-train's taking probabilities) trains its weights towards something else. Said, as
 * Keras's load_weights would not; files kcb cannot compile from are passed over. */
static void note_other_loss(const kcb_model *model, const kcb_model *saved, const char *path) {
  kcb_loss mine, theirs;
  int my_logits = 0, their_logits = 0;
  if (kcb_model_loss(saved, &theirs, &their_logits) == 0 && kcb_model_loss(model, &mine, &my_logits) == 0 &&
      (mine != theirs || my_logits != their_logits) && !quiet_rank)
    fprintf(stderr, "kcb-train: note: --initial-weights %s was compiled with %s%s; this run trains with %s%s\n",
            tool_esc(path), kcb_loss_name(theirs), their_logits ? " (from_logits=True)" : "", kcb_loss_name(mine),
            my_logits ? " (from_logits=True)" : "");
  kcb_error_clear();
}

/* The optimizer state of --initial-weights brings its learning rate (as Keras's load_weights): a
 * --lr given on the command line is the rate asked for, so it replaces that one, said in a note;
 * not given, the file's rate stays, said when it is not the rate compiled. With a schedule, `given`
 * is the rate the schedule starts from. */
static void settle_learning_rate(kcb_model *model, double compiled, double given, int scheduled, const char *path) {
  double stored = kcb_model_learning_rate(model);
  if ((float)stored == (float)(given >= 0 ? given : compiled)) return;
  if (given >= 0) kcb_model_set_learning_rate(model, given);
  if (quiet_rank) return;
  if (scheduled)
    fprintf(stderr, "kcb-train: note: --lr-schedule sets each epoch's rate from %g; the rate %g stored in %s is not used\n",
            given, stored, tool_esc(path));
  else if (given >= 0)
    fprintf(stderr, "kcb-train: note: --lr %g replaces the learning rate %g stored in %s\n", given, stored, tool_esc(path));
  else
    fprintf(stderr, "kcb-train: note: training goes on at the learning rate %g stored in %s (--lr sets another)\n",
            stored, tool_esc(path));
}

/* A file whose optimizer was saved before its first step (its iteration and rate at most) or not at
 * all still compiles with its rate, as Keras's load_model does: with --lr not given and the same
 * optimizer, that rate trains. */
static void rate_of_compile_settings(kcb_model *model, const kcb_model *saved, double compiled, const char *path) {
  kcb_optimizer_kind mine, theirs;
  if (kcb_model_optimizer_kind(saved, &theirs) == 0 && kcb_model_optimizer_kind(model, &mine) == 0 && mine == theirs) {
    double rate = kcb_model_learning_rate(saved);
    if ((float)rate != (float)compiled) {
      kcb_model_set_learning_rate(model, rate);
      if (!quiet_rank)
        fprintf(stderr, "kcb-train: note: training at the learning rate %g of %s's compile settings (--lr sets another)\n",
                rate, tool_esc(path));
    }
  }
  kcb_error_clear();
}

static int load_initial_weights(kcb_model *model, const char *path, double given_lr, int scheduled, int seed_given) {
  double compiled_lr = kcb_model_learning_rate(model);
  kcb_load_options lo = KCB_LOAD_OPTIONS_INIT;
  /* a kcb file's generator state continues its run bit for bit; a --seed given asks for another */
  lo.restore_rng_state = !seed_given;
  lo.optimizer = KCB_LOAD_OPTIMIZER_REQUIRE;
  lo.check_config = 1; /* a file that says what its model is must be that of --model, and trainable as saved */
  kcb_checkpoint_file *f = NULL;
  int opened = kcb_checkpoint_file_open(&f, path) == 0;
  int has_state = opened && kcb_checkpoint_file_meta(f)->n_optimizer_vars > 0;
  int has_compile = opened && kcb_checkpoint_file_meta(f)->training_config != NULL;
  int no_step = opened && kcb_checkpoint_file_meta(f)->n_optimizer_vars <= 2; /* no slots: never stepped */
  kcb_checkpoint_file_close(f);
  /* the file's model as its compile settings make it: its loss and optimizer, told apart from the run's */
  kcb_model *saved = NULL;
  kcb_load_options as_compiled = KCB_LOAD_OPTIONS_INIT;
  as_compiled.optimizer = KCB_LOAD_OPTIMIZER_SKIP;
  if (has_compile && kcb_model_load(&saved, path, &as_compiled) != 0) saved = NULL;
  kcb_error_clear();
  if (saved) note_other_loss(model, saved, path);
  const int file_rate = saved && given_lr < 0 && !scheduled;
  if (!has_state) lo.optimizer = KCB_LOAD_OPTIMIZER_IF_PRESENT;
  int rc = kcb_model_load_weights(model, path, &lo);
  if (rc == 0 && has_state) settle_learning_rate(model, compiled_lr, given_lr, scheduled, path);
  if (rc == 0 && !has_state && file_rate) rate_of_compile_settings(model, saved, compiled_lr, path);
  if ((rc != KCB_ESHAPE && rc != KCB_EFORMAT) || !has_state) goto done;
  char why[4096];
  snprintf(why, sizeof why, "%s", kcb_error_last());
  lo.optimizer = KCB_LOAD_OPTIMIZER_IF_PRESENT;
  if ((rc = kcb_model_load_weights(model, path, &lo))) goto done; /* the weights themselves do not fit */
  if (no_step && file_rate) rate_of_compile_settings(model, saved, compiled_lr, path);
  if (!quiet_rank)
    fprintf(stderr, "kcb-train: warning: --initial-weights: the optimizer state was not loaded, training starts with a fresh "
                    "optimizer: %s\n", tool_esc_lines(why));
done:
  kcb_model_free(saved);
  return rc;
}

/* labels (n,) of class indices as (n, width) one-hot rows. */
static int one_hot(const kcb_tensor *labels, int64_t width, kcb_tensor **out) {
  int64_t shape[2] = {labels->shape[0], width};
  int rc = kcb_tensor_new(out, 2, shape);
  for (int64_t i = 0; rc == 0 && i < shape[0]; i++) (*out)->data[i * width + (int64_t)labels->data[i]] = 1.0f;
  return rc;
}

/* Before any training, whether the model's output fits the labels (class indices) and --loss:
 * sparse_categorical_crossentropy takes the indices, with an output per class; the other losses
 * compare outputs and targets value by value, so the labels become one-hot rows (Keras's
 * to_categorical) for a model with an output per class. A single output takes the label itself:
 * a number for mse and mae, a 0/1 target for binary_crossentropy on two classes.
 * --embeddings needs a hidden layer before the output Dense. @return 0, or an exit status. */
/* --freeze: each named layer stops training. @return 0, or 2 (a usage error naming the model's
 * layers) for a name the model has not. */
static int freeze_layers(kcb_model *model, const char *list) {
  char name[512];
  for (const char *p = list; *p;) {
    size_t n = strcspn(p, ",");
    size_t lead = strspn(p, " "), len; /* "dense, dense_1" as --model and --metrics take lists */
    if (lead > n) lead = n;
    for (len = n - lead; len && p[lead + len - 1] == ' ';) len--;
    snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), p + lead);
    size_t i = 0, count = kcb_model_layer_count(model);
    while (i < count && strcmp(kcb_model_layer_name(model, i), name) != 0) i++;
    if (i == count) {
      char why[1024];
      size_t used = (size_t)snprintf(why, sizeof why, "the model has no layer '%s' (its layers:", name);
      for (size_t k = 0; k < count && used < sizeof why; k++)
        used += (size_t)snprintf(why + used, sizeof why - used, " %s", kcb_model_layer_name(model, k));
      if (used < sizeof why) snprintf(why + used, sizeof why - used, ")");
      return train_usage_error("--freeze", list, why);
    }
    kcb_model_set_layer_trainable(model, i, 0);
    p += n + (p[n] == ',');
  }
  return 0;
}

static int check_outputs(const kcb_model *model, const kcb_mnist *data, const train_args *a, kcb_loss loss,
                         kcb_tensor **y_train, kcb_tensor **y_test) {
  int64_t shape[KCB_MAX_RANK], outputs = 1, classes = 0;
  int rank = kcb_model_output_shape(model, shape);
  for (int i = 0; i < rank; i++) outputs *= shape[i];
  const kcb_tensor *labels[2] = {data->train_labels, data->test_labels};
  int64_t largest_at = 0;
  int largest_in = 0;
  for (int s = 0; s < 2; s++)
    for (int64_t i = 0; i < labels[s]->shape[0]; i++)
      if (labels[s]->data[i] + 1 > (float)classes) classes = (int64_t)labels[s]->data[i] + 1, largest_in = s, largest_at = i;
  char why[320];
  if (rank != 1) {
    snprintf(why, sizeof why, "the model's output has rank %d per sample; end it with one value per class "
             "(a flatten or gap before the last Dense)", rank);
    return train_usage_error("--model", a->model_spec, why);
  }
  int sparse = loss == KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  int single = outputs == 1 && (loss == KCB_LOSS_MEAN_SQUARED_ERROR || loss == KCB_LOSS_MEAN_ABSOLUTE_ERROR ||
                                (loss == KCB_LOSS_BINARY_CROSSENTROPY && classes <= 2));
  if (outputs < classes && !single) {
    snprintf(why, sizeof why, "the model has %lld output%s per sample, the data %lld classes (its largest label, %lld, is "
             "%s sample %lld): --loss %s needs an output per class%s", (long long)outputs, outputs == 1 ? "" : "s",
             (long long)classes, (long long)classes - 1, largest_in ? "test" : "training", (long long)largest_at,
             kcb_loss_name(loss),
             sparse || loss == KCB_LOSS_CATEGORICAL_CROSSENTROPY ? ""
             : loss == KCB_LOSS_BINARY_CROSSENTROPY ? " (or a single one, for two classes)"
                                                   : " (or a single one, to fit the class index as a number)");
    return train_usage_error("--model", a->model_spec, why);
  }
  size_t given = 0; /* --class-names: one name per class, or the names would label the wrong classes */
  for (const char *t = a->class_names; t && *t; t++) given += *t == ',';
  /* a name for each of the model's outputs does too: the loaded labels may not reach the last ones
   * (a --train-limit cut, rare classes) */
  if (a->class_names && (int64_t)(given + 1) != classes && !(outputs > 1 && (int64_t)(given + 1) == outputs)) {
    snprintf(why, sizeof why, "%zu names for the data's %lld classes%s", given + 1, (long long)classes,
             outputs > classes ? " (or the model's outputs, one a class)" : "");
    return train_usage_error("--class-names", a->class_names, why);
  }
  /* each name becomes a tag and a projector label: one name a class, printable text */
  for (const char *p = a->class_names; p;) {
    size_t len = strcspn(p, ",");
    if (len == 0 || strspn(p, " ") == len)
      return train_usage_error("--class-names", a->class_names, "a name is empty (two commas in a row, or one at an end)");
    for (size_t i = 0; i < len; i++)
      if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
        return train_usage_error("--class-names", a->class_names, "a name holds a control character (tab, newline, ...)");
    if (!kcb_text_is_utf8(p, len)) return train_usage_error("--class-names", a->class_names, "a name is not valid UTF-8");
    for (const char *q = p + len; *q == ',';) {
      q++;
      size_t other = strcspn(q, ",");
      if (other == len && strncmp(p, q, len) == 0) {
        snprintf(why, sizeof why, "the name '%.*s' is given twice (its classes' curves would share a tag)", (int)len, p);
        return train_usage_error("--class-names", a->class_names, why);
      }
      q += other;
    }
    p = p[len] == ',' ? p + len + 1 : NULL;
  }
  /* the last layer that computes: ones after it that keep values in [0, 1] (Flatten, Reshape,
   * dropouts, global pooling) leave probabilities probabilities */
  size_t at = kcb_model_layer_count(model) - 1;
  static const char *const keeping[] = {"Flatten", "Reshape", "Dropout", "SpatialDropout2D", "GlobalAveragePooling1D",
                                        "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D"};
  for (int kept = 1; at > 0 && kept;) {
    kept = 0;
    for (size_t k = 0; k < sizeof keeping / sizeof keeping[0]; k++)
      kept |= strcmp(kcb_model_layer_class(model, at), keeping[k]) == 0;
    at -= (size_t)kept;
  }
  kcb_activation last = kcb_model_layer_activation(model, at);
  if (a->pr_curves && last != KCB_ACT_SOFTMAX && last != KCB_ACT_SIGMOID && last != KCB_ACT_HARD_SIGMOID)
    return train_usage_error("--pr-curves", NULL, "PR curves need probabilities: end the model with a softmax or sigmoid "
                             "(its last layer gives any number)");
  if (a->embeddings && embedding_layer(model) == 0)
    return train_usage_error("--embeddings", NULL, "the model has no hidden layer before its output Dense layer, whose "
                             "outputs the projector would show");
  /* the metrics that read labels in one form: fit would refuse them after the summary */
  int64_t label_width = sparse || single ? 1 : outputs;
  for (const char *p = a->metrics; p && *p;) {
    size_t len = strcspn(p, ",");
    char name[64];
    kcb_metric metric;
    snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), p);
    if (kcb_metric_from_name(&metric, name) == 0 &&
        ((metric == KCB_METRIC_CATEGORICAL_ACCURACY && label_width != outputs) ||
         (metric == KCB_METRIC_SPARSE_CATEGORICAL_ACCURACY && label_width != 1))) {
      snprintf(why, sizeof why, "%s reads %s, but --loss %s takes %s: use %s (or accuracy)", name,
               metric == KCB_METRIC_CATEGORICAL_ACCURACY ? "one-hot labels" : "one class index a sample",
               kcb_loss_name(loss), label_width == 1 ? "class indices" : "one-hot rows",
               metric == KCB_METRIC_CATEGORICAL_ACCURACY ? "sparse_categorical_accuracy" : "categorical_accuracy");
      return train_usage_error("--metrics", a->metrics, why);
    }
    p += len + (p[len] == ',');
  }
  if (sparse || single) return 0;
  int rc = one_hot(data->train_labels, outputs, y_train);
  if (rc == 0) rc = one_hot(data->test_labels, outputs, y_test);
  return rc ? fail("one-hot labels", rc) : 0;
}

/* Whether the directory of --save's `path` takes a new file, tried with a temporary one (a read-only
 * mount, a full disk, a directory without write permission): found before training, not after.
 * @return 0, or 1 (said). */
/* Says the library's last error "PATH: cause" as "kcb-train: FLAG VALUE: cause". */
static void say_of_flag(const char *flag, const char *value, const char *path) {
  const char *why = kcb_error_last();
  size_t n = strlen(path);
  if (strncmp(why, path, n) == 0 && why[n] == ':') why += n + 2;
  fprintf(stderr, "kcb-train: %s %s: %s\n", flag, tool_esc(value), tool_esc(why));
}

/* Whether a file can be written where `value` (a --save path, or a --checkpoint template's fixed
 * file or directory, `path`) leads: links resolved as the write will, no FIFO or device, the
 * directory writable; said (flag and value) when not. */
static int writable(const char *flag, const char *value, const char *path) {
  if (kcb_file_check_writable(path) == 0) return 1;
  say_of_flag(flag, value, path);
  return 0;
}

static int save_dir_writable(const char *path) { return writable("--save", path, path) ? 0 : 1; }

/* --checkpoint's directory, as far as the template fixes it (up to the last '/' before the first
 * '{'): made and tried now, as --save's, not found unwritable after the first epoch's work. */
static int checkpoint_dir_ready(const char *template) {
  const char *brace = strchr(template, '{'), *end = template + strlen(template);
  const char *slash = NULL;
  for (const char *p = template; p < (brace ? brace : end); p++)
    if (*p == '/') slash = p;
  if (!slash && brace) return 0; /* the current directory */
  char dir[4200] = "./";
  if (slash && (size_t)(slash - template) >= sizeof dir) return 0;
  if (slash) snprintf(dir, sizeof dir, "%.*s", (int)(slash - template) + 1, template);
  if (slash && kcb_file_make_parent_dirs(dir) != 0) { /* "DIR: cause": said of the template instead */
    say_of_flag("--checkpoint", template, dir);
    return 1;
  }
  /* a template without fields names one file: it, else a file in its directory */
  char probe[4300];
  snprintf(probe, sizeof probe, "%s%s", brace ? dir : template, brace ? "kcb-checkpoint" : "");
  return writable("--checkpoint", template, probe) ? 0 : 1;
}

#define COURSE_MAX 65536 /* bytes of the record: the options, a long --model spec included */

static char *course_path(const train_args *a) {
  size_t n = strlen(a->backup_dir) + sizeof COURSE_FILE + 2;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s/%s", a->backup_dir, COURSE_FILE);
  return p;
}

/* --lr-decay-epochs as the schedules use it: given, else 10 (step, exponential), else the epochs
 * after the warm-up (cosine, which so depends on --epochs). */
static long long decay_epochs(const train_args *a) {
  if (a->lr_decay_epochs > 0) return a->lr_decay_epochs;
  if (!a->lr_schedule || strcmp(a->lr_schedule, "cosine") != 0) return 10;
  long long after = a->epochs - (a->lr_warmup_epochs > 0 ? a->lr_warmup_epochs : 0);
  return after > 1 ? after : 1;
}

/* --lr-decay-rate as step and exponential decay use it: given, else 0.5. */
static double decay_rate(const train_args *a) { return a->lr_decay_rate >= 0 ? a->lr_decay_rate : 0.5; }

/* --lr-warmup-epochs as the schedules use it: given (0: none), else none for cosine and 5 for the
 * ranks' warm-up (Goyal et al.), which has no other use for it. */
static long long warmup_epochs(const train_args *a) {
  if (a->lr_warmup_epochs >= 0) return a->lr_warmup_epochs; /* 0 given: no warm-up, at the target from the start */
  return a->lr_schedule && strcmp(a->lr_schedule, "warmup") == 0 ? 5 : 0;
}

static void resolve_course(const train_args *a, train_args *out, char data[PATH_MAX]);

/* The record's text: the course options as the run resolved them (resolve_course), and the number
 * of processes where warm-up's target rate depends on it. */
static size_t course_text(const train_args *a, int processes, char *out, size_t size) {
  train_args resolved;
  char data[PATH_MAX];
  resolve_course(a, &resolved, data);
  size_t n = train_args_course(&resolved, out, size);
  if (a->lr_schedule && strcmp(a->lr_schedule, "warmup") == 0 && n < size)
    n += (size_t)snprintf(out + n, size - n, "processes=%d\n", processes);
  return n;
}

/* The options as the run resolves them where they depend on something a resume may change
 * (cosine's decay on --epochs) or are spelt in several ways (data: its real path, into `data`). */
static void resolve_course(const train_args *a, train_args *out, char data[PATH_MAX]) {
  train_args resolved = *a;
  if (a->lr_schedule) resolved.lr_decay_epochs = decay_epochs(a);
  /* the same run however it was spelled: --optimizer Adam or adam, --loss mse or
   * mean_squared_error, --data left out, given or given through a symbolic link */
  kcb_optimizer_kind opt;
  kcb_loss loss;
  int known_optimizer = kcb_optimizer_from_name(&opt, a->optimizer) == 0;
  if (known_optimizer) resolved.optimizer = kcb_optimizer_name(opt);
  /* ... --model mlp or its spec, --lr left out or given as the optimizer's default */
  const char *preset = kcb_model_spec_preset(a->model_spec);
  if (preset) resolved.model_spec = preset;
  if (a->lr == -1 && known_optimizer) resolved.lr = opt == KCB_OPT_SGD ? 0.01 : 0.001;
  /* ... and the optimizer's settings left out or given as Keras's defaults */
  if (a->momentum < 0) resolved.momentum = 0;
  if (a->rho < 0) resolved.rho = 0.9;
  if (a->beta_1 < 0) resolved.beta_1 = 0.9;
  if (a->beta_2 < 0) resolved.beta_2 = 0.999;
  if (a->epsilon < 0) resolved.epsilon = 1e-7;
  if (a->weight_decay < 0) resolved.weight_decay = known_optimizer && opt == KCB_OPT_ADAMW ? 0.004 : 0;
  if (kcb_loss_from_name(&loss, a->loss) == 0) resolved.loss = kcb_loss_name(loss);
  if (realpath(a->data_dir ? a->data_dir : KCB_FASHION_MNIST_DIR, data)) resolved.data_dir = data;
  else if (!a->data_dir) resolved.data_dir = KCB_FASHION_MNIST_DIR;
  /* ... and the other options left out, given as their defaults: the value the run will use */
  kcb_monitor_mode mode = KCB_MONITOR_AUTO;
  if (!a->monitor) resolved.monitor = "val_loss";
  resolved.seed = train_args_seed(a);
  if (a->min_delta != a->min_delta) resolved.min_delta = 0; /* as records before --min-delta reached both */
  if (!a->mode || kcb_monitor_mode_from_name(&mode, a->mode) == 0) resolved.mode = kcb_monitor_mode_name(mode);
  if (a->reduce_lr) {
    kcb_reduce_lr_on_plateau_options ro = KCB_REDUCE_LR_ON_PLATEAU_OPTIONS_INIT;
    if (a->factor < 0) resolved.factor = ro.factor;
    if (a->lr_patience < 0) resolved.lr_patience = ro.patience;
  }
  if (a->lr_schedule) {
    resolved.lr_decay_rate = decay_rate(a);
    resolved.lr_warmup_epochs = warmup_epochs(a);
    if (a->lr_alpha < 0) resolved.lr_alpha = 0;
  }
  *out = resolved;
}

/* The options that steer every rank's run, which every rank must be given alike: a rank given
 * --early-stopping or --restore-best-weights alone would end or change the run without rank 0
 * saying so. (Data, model and optimization are compared by fit too; files are rank 0's.) */
static const char *const rank_options[] = {
    "train-limit", "model", "loss", "optimizer", "lr", "momentum", "nesterov", "rho", "centered", "beta-1", "beta-2",
    "amsgrad", "epsilon", "weight-decay", "metrics", "freeze", "epochs", "initial-epoch", "batch-size",
    "validation-split", "seed", "terminate-on-nan", "early-stopping", "monitor", "mode", "min-delta",
    "restore-best-weights", "reduce-lr-on-plateau", "factor", "lr-patience", "lr-schedule", "lr-decay-rate",
    "lr-decay-epochs", "lr-warmup-epochs", "lr-alpha", NULL};

/* Compares rank_options across the ranks, each by a hash of its resolved value. @return 0, or 2
 * on every rank when one differs (said by rank 0, naming the option). */
static int ranks_check(const train_args *a, kcb_distributed *dist) {
  if (kcb_distributed_size(dist) < 2) return 0;
  train_args resolved;
  char data[PATH_MAX];
  resolve_course(a, &resolved, data);
  size_t len = train_args_values(&resolved, rank_options, NULL, 0);
  /* --backup-dir is rank 0's, its path may be a node's own, but whether one is given sets which
   * steps every rank takes together before training (its state is agreed on) */
  const char *backup = a->backup_dir ? "backup-dir=given\n" : "backup-dir=default\n";
  char *text = malloc(len + strlen(backup) + 1);
  if (!text) return fail("ranks' options", KCB_ENOMEM);
  train_args_values(&resolved, rank_options, text, len + 1);
  strcpy(text + len, backup);
  /* one pair of reductions per line: first the line count (a value may hold a newline), so that
   * every rank runs as many */
  int lines = 0, status = 0;
  for (const char *c = text; *c; c++) lines += *c == '\n';
  int most = lines, least = -lines;
  if (kcb_distributed_max_int(dist, &most) || kcb_distributed_max_int(dist, &least)) status = 1;
  else if (most != -least) {
    if (!quiet_rank) fprintf(stderr, "kcb-train: the processes were given different training options; every rank of an "
                                     "mpirun job must be given the same\n");
    status = 2;
  }
  for (char *line = text, *next; !status && *line; line = next) {
    next = strchr(line, '\n');
    *next++ = '\0';
    uint32_t h = 2166136261u; /* FNV-1a, kept to 31 bits: equal everywhere when max == -max(-h) */
    for (const char *p = line; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    most = (int)(h >> 1), least = -most;
    if (kcb_distributed_max_int(dist, &most) || kcb_distributed_max_int(dist, &least)) status = 1;
    else if (most != -least) {
      char *eq = strchr(line, '=');
      if (!quiet_rank)
        fprintf(stderr, "kcb-train: the processes were given different --%.*s (rank 0: %s); every rank of an mpirun job "
                "must be given the same training options\n", (int)(eq - line), line,
                strcmp(eq + 1, "default") ? tool_esc(eq + 1) : "not given");
      status = 2;
    }
  }
  free(text);
  return status;
}

/* Written when a run starts, replacing the record atomically (never half a file); the temporary
 * files of a write cut by a kill are removed first. */
static int course_write(const train_args *a, int processes) {
  char text[COURSE_MAX], *path = course_path(a);
  if (!path) return KCB_ENOMEM;
  size_t n = course_text(a, processes, text, sizeof text);
  /* the epochs asked for, which a resume may raise but a completed run's command keeps */
  if (n < sizeof text) n += (size_t)snprintf(text + n, sizeof text - n, "epochs=%lld\n", a->epochs);
  int rc = n < sizeof text ? kcb_file_make_parent_dirs(path) : KCB_EINVAL;
  if (rc == 0) {
    kcb_file_remove_stale_temps(path);
    rc = kcb_file_write_atomic(path, text, n);
  }
  if (rc) fprintf(stderr, "kcb-train: --backup-dir: %s\n", n < sizeof text ? kcb_error_last() : "the options take more than 64 KB");
  free(path);
  return rc;
}

/* A completed run's temporaries of writes cut by kills, and what a kill between its last
 * deletions left of its backup's position. */
static void course_leftovers_remove(const train_args *a) {
  char *path = course_path(a);
  if (!path) return;
  kcb_file_remove_stale_temps(path);
  static const char *const leftovers[] = {"training_metadata.json", "training_metadata.json.bkp"};
  for (size_t i = 0; i < 2; i++) {
    char left[PATH_MAX];
    if ((size_t)snprintf(left, sizeof left, "%s/%s", a->backup_dir, leftovers[i]) < sizeof left) (void)unlink(left);
  }
  free(path);
}

/* Whether option `name` (its record line up to '='), left out, would resolve to `value`: records
 * written before defaults were resolved say "default" for an option left out. */
static int resolves_as_default(const train_args *a, const char *name_eq, const char *value) {
  train_args left_out = *a, resolved;
  char data[PATH_MAX], option_name[64], line[128];
  snprintf(option_name, sizeof option_name, "%.*s", (int)strcspn(name_eq, "="), name_eq);
  train_args_reset(&left_out, option_name);
  resolve_course(&left_out, &resolved, data);
  const char *names[] = {option_name, NULL};
  line[0] = '\0';
  if (train_args_values(&resolved, names, line, sizeof line) <= strlen(option_name) + 1) return 0; /* not an option */
  line[strcspn(line, "\n")] = '\0';
  return strcmp(line + strlen(option_name) + 1, value) == 0;
}

/* On resume: each option whose value differs from the record, as "--NAME NOW (the backed-up run:
 * THEN)". A backup without the record (written by another program) is not checked. @return 0 or 2
 * (said, by rank 0 alone under mpirun). */
static int course_check(const train_args *a, int processes, int completed) {
  char now[COURSE_MAX], *then = NULL, *path = course_path(a), why[4096] = "";
  size_t len = 0;
  if (!path) return 0;
  size_t n_now = course_text(a, processes, now, sizeof now);
  if (completed && n_now < sizeof now) snprintf(now + n_now, sizeof now - n_now, "epochs=%lld\n", a->epochs);
  int rc = kcb_file_read(path, COURSE_MAX, &then, &len);
  if (rc == KCB_ENOENT) { /* a backup another program wrote: nothing to check against */
    kcb_error_clear();
    free(path);
    return 0;
  }
  if (rc) { /* there, but unreadable: the check would be skipped without a word */
    if (!quiet_rank)
      fprintf(stderr, "kcb-train: --backup-dir: the record of the backed-up run's settings cannot be read (%s); remove "
              "%s to resume without checking them\n", tool_esc(kcb_error_last()), tool_esc(path));
    free(path);
    return 2;
  }
  free(path);
  size_t w = 0;
  for (char *line = then, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = '\0';
    char *eq = strchr(line, '=');
    if (!eq) continue;
    size_t key = (size_t)(eq - line) + 1; /* "name=" */
    /* a resume takes its weights from the backup and never reads --initial-weights, which may be
     * spelt from another directory (or be gone) */
    if (strncmp(line, "initial-weights=", key) == 0) continue;
    if (!completed && strncmp(line, "epochs=", key) == 0) continue; /* a resume may train more epochs */
    /* the watched value's settings matter only to a callback that watches it (records before such
     * settings alone were refused may hold them) */
    if ((strncmp(line, "monitor=", key) == 0 || strncmp(line, "mode=", key) == 0) && a->early_stopping < 0 &&
        !a->reduce_lr && !a->checkpoint)
      continue;
    /* records written before weight decay applied to every optimizer held AdamW's default for each,
     * which the others did not apply: their run had none */
    kcb_optimizer_kind kind;
    if (!strcmp(line, "weight-decay=0.004") && kcb_optimizer_from_name(&kind, a->optimizer) == 0 && kind != KCB_OPT_ADAMW)
      strcpy(eq + 1, "0");
    const char *mine = NULL;
    for (const char *p = now; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
      if (strncmp(p, line, key) == 0) mine = p + key;
    size_t mine_len = mine ? strcspn(mine, "\n") : 0;
    if (mine && mine_len == strlen(eq + 1) && strncmp(mine, eq + 1, mine_len) == 0) continue;
    double x, y; /* the same float in another spelling (records before 0.2 was kept as "0.2"); whole
                  * numbers (a seed past 2^53) compare as text */
    char mine_text[4096]; /* a --model spec is shown whole: the difference may be at its end */
    snprintf(mine_text, sizeof mine_text, "%.*s", (int)mine_len, mine ? mine : "");
    if (mine && (strpbrk(mine_text, ".eE") || strpbrk(eq + 1, ".eE")) && kcb_text_to_number(mine_text, &x) &&
        kcb_text_to_number(eq + 1, &y) && x == y)
      continue;
    if (mine && strcmp(eq + 1, "default") == 0 && resolves_as_default(a, line, mine_text)) continue;
    char flag[128]; /* the record's process count is mpirun's, not an option */
    if (strncmp(line, "processes=", key) == 0) snprintf(flag, sizeof flag, "mpirun -np");
    else snprintf(flag, sizeof flag, "--%.*s", (int)(key - 1), line);
    /* the record keeps --train-limit's default as 0, which is no value one can give */
    int limit = strcmp(flag, "--train-limit") == 0;
    const char *then_shown = limit && strcmp(eq + 1, "0") == 0 ? "all samples, the default" : eq + 1;
    if (limit && strcmp(mine_text, "0") == 0) snprintf(mine_text, sizeof mine_text, "not given (all samples)");
    else if (mine) snprintf(mine_text, sizeof mine_text, "%.*s", (int)mine_len, mine);
    /* a switch's record says true or false, which it does not take: given, or not */
    if (!strcmp(then_shown, "true") || !strcmp(then_shown, "false")) {
      then_shown = !strcmp(then_shown, "true") ? "given" : "not given";
      snprintf(mine_text, sizeof mine_text, "%s", mine && mine_len == 4 && !strncmp(mine, "true", 4) ? "given" : "not given");
    }
    int k = snprintf(why + w, sizeof why - w, "%s%s %s (the backed-up run: %s)", w ? ", " : "", flag, mine_text, then_shown);
    if (k > 0) w += (size_t)k < sizeof why - w ? (size_t)k : sizeof why - w - 1;
  }
  /* an option the record does not hold (it was written before the option existed): the backed-up
   * run had its default */
  for (const char *p = now; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
    size_t line_len = strcspn(p, "\n"), key = strcspn(p, "=") + 1;
    char line[4096];
    if (key > line_len || line_len >= sizeof line || strncmp(p, "epochs=", key) == 0 || strncmp(p, "processes=", key) == 0) continue;
    snprintf(line, sizeof line, "%.*s", (int)line_len, p);
    int held = 0;
    for (const char *q = then; q && !held && q < then + len; q += strlen(q) + 1) /* its lines, cut above */
      held = strncmp(q, line, key) == 0;
    if (held || resolves_as_default(a, line, line + key)) continue;
    const char *shown = !strcmp(line + key, "true") ? "given" : line + key; /* a switch */
    int k = snprintf(why + w, sizeof why - w, "%s--%.*s %s (the backed-up run: not given)", w ? ", " : "", (int)key - 1, line,
                     shown);
    if (k > 0) w += (size_t)k < sizeof why - w ? (size_t)k : sizeof why - w - 1;
  }
  free(then);
  if (!w) return 0;
  if (!quiet_rank && completed)
    fprintf(stderr,
          "kcb-train: --backup-dir %s holds a completed run trained with other settings: %s; nothing was trained.\n"
          "To train it further, start from its saved model with --initial-weights FILE --initial-epoch N and more "
          "--epochs, with another --backup-dir (or none); to train anew, give another --backup-dir (or remove this one).\n",
          tool_esc(a->backup_dir), tool_esc(why));
  else if (!quiet_rank)
    fprintf(stderr,
          "kcb-train: --backup-dir %s holds a run trained with other settings: %s.\nResume it with the same "
          "settings, or give another --backup-dir (or remove this one) to start a new run.\n",
          tool_esc(a->backup_dir), tool_esc(why));
  return 2;
}

/* Running a completed run's command again has nothing to do, and says so (exit 0); another
 * command on its directory (other settings, more epochs, a model file the run did not write) is
 * refused, since nothing it asks for would be done. @return 0 or 2 (said). */
static int completed_check(const train_args *a, int processes) {
  int status = course_check(a, processes, 1);
  if (status == 0 && a->save && access(a->save, F_OK) != 0) {
    fprintf(stderr, "kcb-train: --backup-dir %s holds a completed run, and --save %s does not exist: the run wrote no "
            "such file, and nothing was trained. Give another --backup-dir (or remove this one) to train anew.\n",
            tool_esc(a->backup_dir), tool_esc(a->save));
    status = 2;
  }
  return status;
}

/* --checkpoint's ModelCheckpoint (*out NULL to check the options only). The template may name only
 * keys the logs will have at an epoch's end: another is a usage error before anything is written,
 * not a failed save after the first epoch. @return 0, 2 (said) or 1 (out of memory). */
static int checkpoint_make(const train_args *a, int verbose, kcb_callback **out) {
  kcb_model_checkpoint_options mo = KCB_MODEL_CHECKPOINT_OPTIONS_INIT;
  if (a->monitor) mo.monitor = a->monitor;
  if (a->mode) kcb_monitor_mode_from_name(&mo.mode, a->mode);
  mo.verbose = verbose;
  mo.save_best_only = a->save_best_only;
  /* the name says what the file is: a *.weights.h5 template means weights only here, where Keras's
   * callback would write its legacy full model under that name (say .h5 or .keras for a model) */
  kcb_checkpoint_layout named = KCB_LAYOUT_AUTO;
  kcb_checkpoint_layout_from_name(&named, a->checkpoint);
  mo.save_weights_only = a->save_weights_only || named == KCB_LAYOUT_WEIGHTS_H5;
  mo.save_freq = a->save_freq;
  mo.save_top_k = a->save_top_k == -2 ? -1 : (int)a->save_top_k;
  mo.save_last = a->save_last;
  mo.initial_value_threshold = a->initial_value_threshold;
  char names[10][KCB_LOGS_KEY_MAX + 4], metrics[512];
  const char *keys[20] = {"loss"};
  size_t n_keys = 1;
  snprintf(metrics, sizeof metrics, "%s", a->metrics); /* checked with the command line (check_names) */
  char *save = NULL;
  for (char *name = strtok_r(metrics, ",", &save); name && n_keys < 9; name = strtok_r(NULL, ",", &save))
    keys[n_keys++] = name;
  if (a->validation_split > 0)
    for (size_t i = 0, n = n_keys; i < n; i++) {
      snprintf(names[i], sizeof names[i], "val_%s", keys[i]);
      keys[n_keys++] = names[i];
    }
  if (a->lr_schedule || a->reduce_lr) keys[n_keys++] = "learning_rate";
  kcb_callback *made = NULL;
  int rc = kcb_model_checkpoint_check_keys(a->checkpoint, keys, n_keys);
  if (!rc) rc = kcb_model_checkpoint_new(&made, a->checkpoint, &mo);
  if (rc) return rc == KCB_ENOMEM ? fail("--checkpoint", rc) : train_usage_error("--checkpoint", a->checkpoint, kcb_error_last());
  if (out) *out = made;
  else kcb_callback_free(made);
  return 0;
}

/* Holds --backup-dir for this process's life (an flock on the directory, released by the kernel
 * when the process ends, however it ends): a second kcb-train resuming the same backup at once
 * would write the same files and append the same CSV rows twice. @return 0, or 1 (said). */
static int lock_backup_dir(const char *dir) {
  char inside[PATH_MAX];
  int rc = (size_t)snprintf(inside, sizeof inside, "%s/.", dir) < sizeof inside ? kcb_file_make_parent_dirs(inside) : 0;
  if (rc) return fail("--backup-dir", rc);
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "kcb-train: --backup-dir %s: %s\n", tool_esc(dir), strerror(errno));
    return 1;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      fprintf(stderr, "kcb-train: --backup-dir %s is in use by another kcb-train: wait for it to end (or stop it), then "
              "run this command again\n", tool_esc(dir));
      close(fd);
      return 1;
    }
    /* NFS and CIFS lock a directory only through a file open for writing: no lock, but the backup works */
    fprintf(stderr, "kcb-train: warning: --backup-dir %s cannot be locked (%s): nothing stops a second kcb-train from "
            "using it at the same time\n", tool_esc(dir), strerror(errno));
  }
  return 0; /* the descriptor stays open, and so the lock held, until the process exits */
}

/* Ends a failed start (before the model exists): the other ranks of an MPI job too. @return status. */
static int end_job(kcb_distributed *dist, int status) {
  kcb_distributed_abort(dist, status);
  kcb_distributed_free(dist);
  return status;
}

/* After Ctrl-C: what was saved, and the command that resumes. @return the signal's exit status. */
static int report_interrupt(const train_args *a, const kcb_callback *checkpoint, const kcb_callback *tensorboard, int argc,
                            char **argv, int processes) {
  int sig = stop_signal ? stop_signal : SIGINT;
  fflush(stdout);
  fprintf(stderr, "\nkcb-train: stopped by %s: %s\n", stop_signal_name(sig), kcb_error_last());
  print_files(a, checkpoint, tensorboard, "kept: resume from it", 0);
  if (a->backup_dir) {
    printf("To resume, run the same command again:\n  ");
    if (processes > 1) printf("mpirun -np %d [your mpirun options] ", processes); /* argv is kcb-train's alone */
    for (int i = 0; i < argc; i++) {
      if (i) putchar(' ');
      cli_shell_quote(stdout, argv[i]);
    }
    printf("\n");
  } else {
    printf("Not resumable where it stopped: give --backup-dir DIR to be able to resume a run.\n");
  }
  fflush(stdout);
  return 128 + sig;
}

/* The names --metrics, --optimizer and --loss give, checked with the rest of the command line. */
static int check_names(const train_args *a) {
  kcb_metric metric;
  kcb_optimizer_kind optimizer;
  kcb_loss loss;
  char list[1024];
  size_t len = strlen(a->metrics);
  if (len && (a->metrics[0] == ',' || a->metrics[len - 1] == ',' || strstr(a->metrics, ",,")))
    return train_usage_error("--metrics", a->metrics, "an empty name in the list");
  snprintf(list, sizeof list, "%s", a->metrics);
  size_t n = 0;
  const char *seen[8];
  for (char *save = NULL, *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save), n++) {
    if (n == 8 || kcb_metric_from_name(&metric, name) != 0)
      return train_usage_error("--metrics", name, n == 8 ? "at most 8 metrics" : kcb_error_last());
    for (size_t i = 0; i < n; i++) /* one log key for both: the second would only repeat the first */
      if (strcmp(seen[i], name) == 0) return train_usage_error("--metrics", name, "given twice");
    seen[n] = name;
  }
  if (kcb_optimizer_from_name(&optimizer, a->optimizer) != 0)
    return train_usage_error("--optimizer", a->optimizer, kcb_error_last());
  if (kcb_loss_from_name(&loss, a->loss) != 0) return train_usage_error("--loss", a->loss, kcb_error_last());
  return 0;
}

static int read_command_line(train_args *a, int argc, char **argv) {
  int status = train_args_parse(a, argc, argv);
  /* "accuracy, mae" as "accuracy,mae": metric names hold no spaces, --model's items may have them */
  static char metrics[1024];
  if (status == 0 && a->metrics && strchr(a->metrics, ' ') && strlen(a->metrics) < sizeof metrics) {
    size_t k = 0;
    for (const char *p = a->metrics; *p; p++)
      if (*p != ' ') metrics[k++] = *p;
    metrics[k] = '\0';
    a->metrics = metrics;
  }
  if (status == 0) status = check_callback_args(a);
  if (status == 0) status = check_paths_apart(a);
  if (status == 0) status = check_names(a);
  kcb_checkpoint_layout save_layout; /* refuse a name with no layout before training, not after */
  if (status == 0 && a->save && kcb_checkpoint_layout_from_name(&save_layout, a->save) != 0)
    status = train_usage_error("--save", a->save, "the name must end in .weights.h5, .h5 or .keras");
  return status;
}

/* Rank 0's *v on every rank: rank 0 alone reads and writes the backup and the course record, so
 * its view of them decides for the whole job (ranks with node-local directories may see others). */
static int rank0_value(kcb_distributed *dist, int *v) {
  int x = kcb_distributed_rank(dist) == 0 ? *v : INT_MIN;
  int rc = kcb_distributed_max_int(dist, &x);
  if (rc == 0) *v = x;
  return rc;
}

/* Whether rank 0 failed where this rank stands (every rank calls it at the same points). Under
 * mpirun every rank meets the same usage errors when given the same command line: rank 0 says them,
 * and another rank only when rank 0 did not fail there (its command line or data differed). */
static int rank0_failed(kcb_distributed *dist, int status) {
  int failed = status != 0;
  return rank0_value(dist, &failed) == 0 ? failed : 0;
}

/* Reads the command line: on the ranks other than 0 silently first, then again aloud when it is
 * wrong for this rank alone. */
static int check_command_line(train_args *a, int argc, char **argv, kcb_distributed *dist) {
  int saved_out = -1, saved_err = -1, devnull = quiet_rank ? open("/dev/null", O_WRONLY) : -1;
  if (devnull >= 0) {
    fflush(NULL);
    saved_out = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);
    dup2(devnull, STDOUT_FILENO), dup2(devnull, STDERR_FILENO);
  }
  int status = read_command_line(a, argc, argv);
  if (devnull >= 0) {
    fflush(NULL);
    if (saved_out >= 0) dup2(saved_out, STDOUT_FILENO), close(saved_out);
    if (saved_err >= 0) dup2(saved_err, STDERR_FILENO), close(saved_err);
    close(devnull);
  }
  if (!rank0_failed(dist, status) && status && quiet_rank) { /* every rank takes part in the first call */
    train_args_defaults(a);
    /* said again with this rank's number: rank 0's command line is the one a reader looks at */
    FILE *said = tmpfile();
    saved_err = said ? dup(STDERR_FILENO) : -1;
    if (saved_err >= 0) fflush(stderr), dup2(fileno(said), STDERR_FILENO);
    status = read_command_line(a, argc, argv);
    if (saved_err >= 0) fflush(stderr), dup2(saved_err, STDERR_FILENO), close(saved_err);
    if (said) {
      char *line = NULL;
      size_t cap = 0;
      rewind(said);
      while (getline(&line, &cap, said) > 0)
        fprintf(stderr, "kcb-train (rank %d of %d): %s", kcb_distributed_rank(dist), kcb_distributed_size(dist),
                strncmp(line, "kcb-train: ", 11) == 0 ? line + 11 : line);
      free(line);
      fclose(said);
    }
  }
  return status;
}

int main(int argc, char **argv) {
  cli_open_standard_fds(); /* first: before anything opens a file */
  train_args a;
  train_args_defaults(&a);
  atexit(train_args_release);
  cli_check_stdout_at_exit("kcb-train");
  cli_stdout_reader_may_leave(); /* Ctrl-C on `kcb-train | tee log` ends tee too: the stop still saves */
  if (cli_check_environment("kcb-train", argc, argv)) return 2;
  quiet_rank = kcb_distributed_launched_rank() > 0;
  /* Started by mpirun: one rank of a data-parallel run, where rank 0 alone prints and writes files. */
  kcb_distributed *dist = NULL;
  int rc_dist = kcb_distributed_launched() ? kcb_distributed_new(&dist, NULL) : 0;
  if (rc_dist) return fail("joining the MPI job", rc_dist);
  /* the rank the job gives, not the environment's guess: OMPI_COMM_WORLD_RANK exported by hand, or
   * inherited from another job, names no rank of this one (alone, it is rank 0) */
  quiet_rank = kcb_distributed_rank(dist) > 0;
  int status = check_command_line(&a, argc, argv, dist);
  if (kcb_distributed_size(dist) > 1) {
    /* a usage error, --help or --version every rank met (the same command line) ends each rank
     * quietly; one that only some met ends the job, whose other ranks would wait for them (said
     * already) */
    int most = status, least = -status;
    fflush(stdout); /* what --help or --version printed, before an abort could lose it */
    if (kcb_distributed_max_int(dist, &most) || kcb_distributed_max_int(dist, &least) || most != -least) {
      if (!quiet_rank)
        fprintf(stderr, "kcb-train: the processes were given different command lines (a usage error, --help or "
                "--version on some ranks only); every rank of an mpirun job must run the same command\n");
      kcb_distributed_abort(dist, 2);
    }
  }
  if (status) {
    kcb_distributed_free(dist); /* --help or --version: every rank printed (or was silent) and leaves */
    return status == 1 ? 0 : status;
  }
  train_quiet = quiet_rank; /* later usage errors are kept until rank0_failed says whether to say them */
  /* checks that need no data, before anything is written: every rank knows, so the job ends without MPI_Abort */
  if ((status = ranks_check(&a, dist)) || (a.checkpoint && (status = checkpoint_make(&a, 0, NULL)))) {
    kcb_distributed_free(dist);
    return status;
  }
  /* Before any work: whether --backup-dir resumes a run, or holds one that already finished. */
  kcb_backup_status backup_status = {0};
  if (a.backup_dir) {
    int locked = quiet_rank ? 0 : lock_backup_dir(a.backup_dir);
    if (rank0_value(dist, &locked)) locked = 1;
    if (locked) return end_job(dist, 1);
    int brc = quiet_rank ? 0 : kcb_backup_and_restore_status(&backup_status, a.backup_dir);
    if (brc) return end_job(dist, fail("--backup-dir", brc));
    int state = (int)backup_status.state, epoch = backup_status.epoch, mid_epoch = backup_status.batch >= 0;
    if (rank0_value(dist, &state) || rank0_value(dist, &epoch) || rank0_value(dist, &mid_epoch))
      return end_job(dist, fail("--backup-dir", KCB_EIO));
    backup_status.state = (kcb_backup_state)state;
    backup_status.epoch = epoch;
    backup_status.batch = mid_epoch ? backup_status.batch : -1;
    if (backup_status.state == KCB_BACKUP_COMPLETED) {
      int refused = quiet_rank ? 0 : completed_check(&a, kcb_distributed_size(dist));
      if (rank0_value(dist, &refused)) refused = 1;
      if (refused) return end_job(dist, refused);
      if (!quiet_rank) {
        printf("kcb-train: nothing to resume: the run backed up in %s completed", a.backup_dir);
        if (backup_status.epoch > 0) printf(" (%d epoch%s)", backup_status.epoch, backup_status.epoch == 1 ? "" : "s");
        printf(".\nTo train it again, remove %s or give another --backup-dir; to train it further, start from its\n"
               "saved model with --initial-weights FILE --initial-epoch N and more --epochs, with another --backup-dir\n"
               "(or none).\n", backup_status.path);
        course_leftovers_remove(&a); /* left by a kill just after the run completed */
      }
      kcb_distributed_free(dist);
      return 0;
    }
    int resumable = backup_status.state == KCB_BACKUP_RESUMABLE;
    /* a backup in the middle of an epoch needs that epoch; one at an epoch's end (the last
     * epoch's, when a kill or a failed --save came before the run was marked complete) needs none
     * more: the run resumes, trains nothing, and ends as the uninterrupted one did */
    int needed = backup_status.epoch + (mid_epoch ? 1 : 0);
    if (resumable && a.epochs < needed) { /* said first: a course setting may follow from it */
      if (!quiet_rank && mid_epoch)
        fprintf(stderr, "kcb-train: --epochs %lld: the backed-up run stopped in epoch %d; give --epochs %d or more to "
              "resume it\n", a.epochs, backup_status.epoch + 1, needed);
      else if (!quiet_rank)
        fprintf(stderr, "kcb-train: --epochs %lld: the backed-up run completed %d epochs; give --epochs %d or more to "
              "resume it\n", a.epochs, backup_status.epoch, needed);
      status = 2;
    }
    if (!status && resumable && !quiet_rank) status = course_check(&a, kcb_distributed_size(dist), 0);
    /* the record of a resumed run takes the epochs it now trains to, those its completion keeps */
    if (!status && resumable && !quiet_rank && course_write(&a, kcb_distributed_size(dist))) status = 1;
    if (rank0_value(dist, &status)) status = 1;
    if (!status && !resumable && !quiet_rank && course_write(&a, kcb_distributed_size(dist))) status = 1;
    if (status) return end_job(dist, status);
    if (backup_status.state == KCB_BACKUP_RESUMABLE) {
      /* 1-based, as the progress bar counts: the epoch it goes on in, and its next batch */
      if (!quiet_rank && backup_status.epoch >= a.epochs) /* the last epoch's backup: nothing left to train */
        printf("Resuming from %s: all %d epochs were trained; finishing the run", tool_esc(backup_status.path), backup_status.epoch);
      else if (!quiet_rank) printf("Resuming from %s at epoch %d", tool_esc(backup_status.path), backup_status.epoch + 1);
      if (!quiet_rank && backup_status.batch >= 0) printf(", batch %lld", (long long)backup_status.batch + 2);
      if (!quiet_rank && a.csv) printf(" (continuing %s)", tool_esc(a.csv));
      if (!quiet_rank) printf("\n");
      /* as Keras's BackupAndRestore: the callbacks' own counters are not in the backup */
      if (!quiet_rank && (a.early_stopping >= 0 || a.reduce_lr))
        printf("Note: %s start%s afresh (patience, best value%s): the run may end otherwise than an uninterrupted "
               "one\n", a.early_stopping >= 0 && a.reduce_lr ? "--early-stopping and --reduce-lr-on-plateau"
               : a.early_stopping >= 0 ? "--early-stopping" : "--reduce-lr-on-plateau",
               a.early_stopping >= 0 && a.reduce_lr ? "" : "s", a.restore_best_weights ? ", best weights" : "");
      fflush(stdout);
      a.csv_append = 1; /* the resumed run's rows follow the earlier ones */
    }
  }
  catch_stop_signals();

  kcb_compile_options c = {0};
  kcb_metric metrics[8];
  char *metric_names[8];
  size_t n_metrics = 0;
  char *metric_list = strdup(a.metrics), *save = NULL;
  if (!metric_list) return end_job(dist, fail("out of memory", KCB_ENOMEM));
  /* the names were checked with the command line (check_names) */
  for (char *name = strtok_r(metric_list, ",", &save); name && n_metrics < 8; name = strtok_r(NULL, ",", &save)) {
    kcb_metric_from_name(&metrics[n_metrics], name);
    metric_names[n_metrics++] = name;
  }
  kcb_optimizer_kind opt_kind = KCB_OPT_ADAM;
  kcb_optimizer_from_name(&opt_kind, a.optimizer);
  kcb_loss_from_name(&c.loss, a.loss);
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(opt_kind);
  c.optimizer.learning_rate = a.lr;
  if (a.momentum >= 0) c.optimizer.momentum = a.momentum;
  c.optimizer.nesterov = a.nesterov;
  c.optimizer.rho = a.rho;
  c.optimizer.centered = a.centered;
  c.optimizer.beta_1 = a.beta_1;
  c.optimizer.beta_2 = a.beta_2;
  c.optimizer.amsgrad = a.amsgrad;
  c.optimizer.epsilon = a.epsilon;
  c.optimizer.weight_decay = a.weight_decay;
  c.metrics = metrics;
  c.n_metrics = n_metrics;
  c.metric_names = (const char *const *)metric_names;


  int rank = kcb_distributed_rank(dist);
  if (kcb_distributed_size(dist) > 1) snprintf(who, sizeof who, "kcb-train (rank %d of %d)", rank, kcb_distributed_size(dist));
  if (rank != 0) a.verbose = 0;
  char *name_list = a.class_names ? strdup(a.class_names) : NULL;
  const char *names[256];
  size_t n_names = class_names(&a, name_list, names, 256);
  kcb_mnist data = {0};
  kcb_tensor *y_train = NULL, *y_test = NULL; /* one-hot labels, for the losses that want them */
  kcb_model *model = NULL;
  kcb_history *history = NULL;
  kcb_callback *callbacks[12] = {NULL}, *checkpoint = NULL, *writer = NULL, *tensorboard = NULL, *backup = NULL;
  size_t n_callbacks = 0;
  int warn = strcmp(a.on_write_error, "warn") == 0;
  int ended_together = 0; /* the ranks agreed on how the run ends: no MPI_Abort */
  int rc = kcb_mnist_load(&data, a.data_dir, a.train_limit);
  if (rc) {
    status = fail("loading the data", rc);
    goto setup_end;
  }
  /* the split leaving no training or no validation sample is these flags' values, said as such */
  int64_t n_samples = data.train_images->shape[0], kept = (int64_t)floor((double)n_samples * (1.0 - a.validation_split));
  if (a.validation_split > 0 && (kept == 0 || kept == n_samples)) {
    char why[200], value[32];
    snprintf(why, sizeof why, "with %lld training sample%s it leaves no %s sample (give more samples or another split)",
             (long long)n_samples, n_samples == 1 ? "" : "s", kept == 0 ? "training" : "validation");
    snprintf(value, sizeof value, "%g", a.validation_split);
    status = train_usage_error("--validation-split", value, why);
    goto setup_end;
  }
  if ((rc = kcb_model_new_from_spec(&model, a.model_spec, 2, &data.train_images->shape[1], (uint64_t)train_args_seed(&a)))) {
    /* a bad spec is a usage error; the flag's value is said once, not again in the library's message */
    const char *why = kcb_error_last();
    char said[1200];
    snprintf(said, sizeof said, "model spec '%s': ", a.model_spec);
    if (strncmp(why, said, strlen(said)) == 0) why += strlen(said);
    /* a spec that starts with a number meant as the input's size: it is a Dense layer, applied to
     * each row of the images */
    char hinted[1400];
    size_t digits = strspn(a.model_spec, "0123456789");
    if (digits && data.train_images->rank == 3 &&
        (a.model_spec[digits] == ',' || a.model_spec[digits] == ':' || !a.model_spec[digits])) {
      snprintf(hinted, sizeof hinted, "%s; note: '%.*s' first is a Dense layer of %.*s units on each row of the %lldx%lld "
               "images (an input shape is written with x, e.g. 784x1, or start with flatten)", why, (int)digits,
               a.model_spec, (int)digits, a.model_spec, (long long)data.train_images->shape[1],
               (long long)data.train_images->shape[2]);
      why = hinted;
    }
    status = rc == KCB_ENOMEM ? fail("--model", rc) : train_usage_error("--model", a.model_spec, why);
  }
  const int64_t image_h = data.test_images->shape[1], image_w = data.test_images->shape[2];
  if (status == 0) {
    /* A spec with its own input shape (28x28x1) sees the images in that shape: the same values. */
    int64_t in_shape[KCB_MAX_RANK];
    int in_rank = kcb_model_input_shape(model, in_shape);
    kcb_tensor *images[2] = {data.train_images, data.test_images};
    for (int i = 0; i < 2; i++) {
      images[i]->rank = in_rank + 1;
      memcpy(images[i]->shape + 1, in_shape, (size_t)in_rank * sizeof in_shape[0]);
    }
    status = check_outputs(model, &data, &a, c.loss, &y_train, &y_test);
    if (status == 0 && a.freeze) status = freeze_layers(model, a.freeze);
  }
  if (status) goto setup_end;
  /* --save's directory now, as the callbacks make theirs: not a trained model lost at the end */
  if (a.save && rank == 0 && (rc = kcb_file_make_parent_dirs(a.save))) {
    status = fail("--save", rc);
    goto setup_end;
  }
  if (a.save && rank == 0 && (status = save_dir_writable(a.save)) != 0) goto setup_end;
  if (a.checkpoint && rank == 0 && (status = checkpoint_dir_ready(a.checkpoint)) != 0) goto setup_end;
  if ((rc = kcb_model_compile(model, &c))) {
    status = fail("compile", rc);
    goto setup_end;
  }
  /* a schedule's rates come from --lr (or the optimizer's default), epoch by epoch, whatever rate
   * a file or a backup brings: the same rates for an epoch in a continued or resumed run */
  double lr = kcb_model_learning_rate(model);
  /* a resumed run takes everything from the backup: the file it started from may be gone */
  if (a.initial_weights && backup_status.state != KCB_BACKUP_RESUMABLE &&
      (rc = load_initial_weights(model, a.initial_weights, a.lr_schedule ? lr : a.lr, a.lr_schedule != NULL, a.seed >= 0))) {
    status = fail("--initial-weights", rc);
    goto setup_end;
  }
  if (a.hparams && a.logdir && rank == 0 && backup_status.state != KCB_BACKUP_RESUMABLE) warn_hparams_there(a.logdir);
  if (a.verbose) kcb_model_summary(model, stdout);

  /* The built-in callbacks, in an order that lets the CSV log see the learning rate the rate
   * callbacks put into the logs (Keras: only callbacks after them see it). */
  if (!a.lr_schedule) lr = kcb_model_learning_rate(model);
  kcb_lr_step_decay step = {lr, decay_rate(&a), (int)decay_epochs(&a)};
  kcb_lr_exponential_decay expo = {lr, step.epochs_per_drop, step.drop, 0};
  int warmup = (int)warmup_epochs(&a);
  kcb_lr_cosine_decay cosine = KCB_LR_COSINE_DECAY_INIT(warmup ? 0.0 : lr, (int)decay_epochs(&a));
  kcb_lr_warmup ranks_warmup = {lr, kcb_distributed_size(dist), warmup};
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
    else if (strcmp(a.lr_schedule, "warmup") == 0)
      rc = kcb_lr_scheduler_new(&callbacks[n_callbacks], kcb_lr_schedule_warmup, &ranks_warmup, &so);
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
    if (a.min_delta == a.min_delta) ro.min_delta = a.min_delta;
    ro.verbose = cb_verbose;
    rc = kcb_reduce_lr_on_plateau_new(&callbacks[n_callbacks], &ro);
    if (rc == 0) n_callbacks++;
  }
  if (rc == 0 && a.early_stopping >= 0) {
    kcb_early_stopping_options eo = KCB_EARLY_STOPPING_OPTIONS_INIT;
    if (a.monitor) eo.monitor = a.monitor;
    eo.mode = mode;
    if (a.min_delta == a.min_delta) eo.min_delta = a.min_delta;
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
    if ((status = checkpoint_make(&a, cb_verbose, &checkpoint))) goto setup_end;
    rc = add_writer(callbacks, &n_callbacks, checkpoint, warn);
    if (rc) checkpoint = NULL;
  }
  /* before BackupAndRestore: its backup then flushes what TensorBoard logged for that step */
  if (rc == 0 && a.logdir) {
    kcb_tensorboard_options tb = KCB_TENSORBOARD_OPTIONS_INIT;
    tb.log_dir = a.logdir;
    tb.histogram_freq = (int)a.histogram_freq;
    if (a.histogram_format && strcmp(a.histogram_format, "tensor") == 0) tb.histogram_format = KCB_HISTOGRAM_TENSOR;
    tb.update_freq = a.update_freq;
    tb.write_images = a.write_images;
    tb.custom_scalars = 1; /* each metric's train and validation curves in one chart */
    tb.pr_curves = a.pr_curves ? KCB_PR_CURVE_DEFAULT_THRESHOLDS : 0;
    tb.class_names = names;
    tb.n_class_names = n_names;
    long long start = 0, stop = 0;
    if (a.profile_batch && (status = parse_profile_batch(a.profile_batch, &start, &stop))) goto setup_end;
    tb.profile_batch_start = start;
    tb.profile_batch_stop = stop;
    kcb_hparam hp[] = {
        {"model", KCB_HPARAM_STRING, 0, a.model_spec, 0},
        {"loss", KCB_HPARAM_STRING, 0, a.loss, 0},
        {"optimizer", KCB_HPARAM_STRING, 0, a.optimizer, 0},
        {"learning_rate", KCB_HPARAM_NUMBER, float_as_written(kcb_model_learning_rate(model)), NULL, 0},
        {"batch_size", KCB_HPARAM_NUMBER, (double)a.batch_size, NULL, 0},
        {"epochs", KCB_HPARAM_NUMBER, a.epochs, NULL, 0},
        {"validation_split", KCB_HPARAM_NUMBER, a.validation_split, NULL, 0},
        {"seed", KCB_HPARAM_NUMBER, (double)train_args_seed(&a), NULL, 0},
    };
    if (a.hparams) {
      tb.hparams = hp;
      tb.n_hparams = sizeof hp / sizeof hp[0];
    }
    if ((rc = kcb_tensorboard_new(&writer, &tb)) || (tensorboard = writer, 0) ||
        (rc = add_writer(callbacks, &n_callbacks, writer, warn))) {
      status = fail("--logdir", rc);
      goto setup_end;
    }
  }
  final_outputs final = {.base = {.ops = &final_outputs_ops}, .a = &a, .data = &data, .names = names, .n_names = n_names,
                         .image_h = image_h, .image_w = image_w, .last_epoch = (int)a.initial_epoch - 1};
  if (rc == 0 && (a.save || a.embeddings)) callbacks[n_callbacks++] = &final.base;
  /* last, so that an epoch's backup is written after its checkpoint (and the final outputs) */
  if (rc == 0 && a.backup_dir) {
    kcb_backup_and_restore_options bo = KCB_BACKUP_AND_RESTORE_OPTIONS_INIT;
    bo.save_freq = a.backup_freq;
    bo.mark_completed = 1; /* running the command again after it finished says so */
    bo.defer_completion = 1; /* ... once the test pass is done: killed in it, a rerun does it again */
    if ((rc = kcb_backup_and_restore_new(&writer, a.backup_dir, &bo)) == 0)
      backup = writer, rc = add_writer(callbacks, &n_callbacks, writer, warn);
  }
  if (rc) {
    status = fail("creating the callbacks", rc);
    goto setup_end;
  }

setup_end:
  /* Every rank ends its set-up here, failed or not, at the same two collective calls: a failure
   * every rank meets (a missing --initial-weights) is said once, by rank 0, one of this rank's
   * own is said too, and the job ends together, without MPI_Abort. */
  if (!rank0_failed(dist, status) && status) train_say_kept(who);
  int worst = status;
  if (kcb_distributed_max_int(dist, &worst) == 0 && worst) {
    status = worst;
    ended_together = 1;
    goto done;
  }
  if (status) goto done;

  /* Open MPI gives every rank a pseudo-terminal, even when mpirun's own output goes to a file:
   * the bar would be drawn in place into a log. Under mpirun it is the plain one line an epoch. */
  if (kcb_distributed_launched() && a.verbose == 1 && n_callbacks < sizeof callbacks / sizeof callbacks[0]) {
    kcb_callback *plain = NULL;
    if ((rc = kcb_progbar_logger_new(&plain, stdout))) {
      status = fail("the progress bar", rc);
      goto done;
    }
    kcb_progbar_logger_set_dynamic(plain, 0);
    callbacks[n_callbacks++] = plain;
  }
  kcb_fit_options fit = KCB_FIT_OPTIONS_INIT;
  fit.callbacks = callbacks;
  fit.n_callbacks = n_callbacks;
  fit.epochs = (int)a.epochs;
  fit.batch_size = a.batch_size;
  fit.verbose = (int)a.verbose;
  fit.validation_split = a.validation_split;
  fit.initial_epoch = (int)a.initial_epoch;
  fit.distributed = dist;
  running_model = model;
  fit_started = in_fit = 1;
  rc = kcb_model_fit(model, data.train_images, y_train ? y_train : data.train_labels, &fit, &history);
  in_fit = 0;
  after_fit = rc == 0; /* from here a first signal lets the run finish its test pass or its files */
  if (rc == KCB_EINTERRUPTED) { /* distributed: every rank stopped after the same batch */
    int sig = stop_signal; /* the signal may have reached another rank: SIGTERM (15) outranks SIGINT (2) */
    if (kcb_distributed_max_int(dist, &sig) == 0) stop_signal = sig;
    status = rank == 0 ? report_interrupt(&a, checkpoint, tensorboard, argc, argv, kcb_distributed_size(dist)) : 128 + (stop_signal ? stop_signal : SIGINT);
    goto done;
  }
  if (rc) {
    status = fail(final.failed ? final.failed : "fit", rc);
    goto done;
  }
  if (a.backup_dir && rank == 0) { /* the run completed: nothing will resume it */
    course_leftovers_remove(&a); /* the record stays: it tells this command, run again, from another */
  }
  /* A stop asked for as the last epoch ended (in its validation, say) lets training complete; the
   * test pass is then skipped, on every rank alike. */
  in_final_evaluate = 1; /* from here a first Ctrl-C ends the test pass, not the process */
  int sig = stop_signal, stopped_in_training = 0;
  if (kcb_distributed_max_int(dist, &sig) == 0 && sig) stop_signal = sig, stopped_in_training = 1;
  kcb_evaluate_options ev = KCB_EVALUATE_OPTIONS_INIT;
  ev.batch_size = a.batch_size;
  ev.verbose = 0;
  kcb_logs result;
  if (!stopped_in_training)
    rc = kcb_model_evaluate(model, data.test_images, y_test ? y_test : data.test_labels, &ev, &result);
  if (rc) {
    in_final_evaluate = 0;
    status = fail("evaluate", rc);
    goto done;
  }
  sig = stop_signal; /* every rank tests on its own: one stopped stops them all */
  if (kcb_distributed_max_int(dist, &sig) == 0) stop_signal = sig;
  in_final_evaluate = 0;
  if (stop_signal) { /* the trained run's files are whole, the test result is not */
    ended_together = 1;
    status = 128 + stop_signal;
    fflush(stdout);
    if (rank == 0)
      fprintf(stderr, "\nkcb-train: stopped by %s %s: training completed, and its files are written; the test metrics "
              "were not computed\n", stop_signal_name(stop_signal),
              stopped_in_training ? "as training ended" : "during the final evaluation on the test set");
    if (rank == 0 && a.backup_dir) /* the backup is kept until the test pass is done */
      fputs("kcb-train: to compute them, run the same command again: it resumes from the backup, trains nothing "
            "more and evaluates\n", stderr);
    else if (rank == 0 && a.save) { /* no backup to resume: say how to get them */
      fputs("kcb-train: to compute them, evaluate the saved model: kcb-train --epochs 0 --initial-weights ", stderr);
      cli_shell_quote(stderr, a.save); /* pasted into a shell as it is */
      fputs(" (with this run's --model, --data, --train-limit, --loss and --metrics, which decide the test set "
            "and its metrics, and without --backup-dir)\n", stderr);
    }
  }
  /* the test pass is done: only now is the run complete, and its backup emptied */
  int finish_rc = status == 0 && rank == 0 && backup ? kcb_backup_and_restore_finish(backup) : 0;
  if (finish_rc) status = fail("--backup-dir", finish_rc);
  if (rank == 0 && (a.verbose || status))
    print_files(&a, checkpoint, tensorboard,
                status ? "kept: the run completed its training; run the same command again for its test metrics"
                       : "emptied but for completed.json and the course record: the run completed",
                a.save != NULL);
  if (status) goto done;
  /* loss first, then the metrics in the order asked for */
  for (size_t i = 0; rank == 0 && i <= n_metrics; i++) {
    const char *key = i ? metric_names[i - 1] : "loss";
    double v = 0;
    kcb_logs_get(&result, key, &v);
    /* NaN without C's sign ("-nan"), as Python, the progress bar and the CSV log print it */
    if (isnan(v)) printf("%stest_%s=nan", i ? " " : "", key);
    else printf("%stest_%s=%.6f", i ? " " : "", key, v);
  }
  if (rank == 0) printf("\n");
  if (stop_signal) { /* it came as the run was emptying its backup or printing: all is done */
    ended_together = 1; /* no rank waits for another any more: nothing to abort */
    status = 128 + stop_signal;
    fflush(stdout);
    if (rank == 0)
      fprintf(stderr, "kcb-train: %s received as the run ended: it completed, and its files are written\n",
              stop_signal_name(stop_signal));
  }
done:
  /* A failure outside fit may leave the other ranks waiting in a collective step: end the job (a stop
   * on request is collective, so those ranks end together anyway). */
  if (status && rc != KCB_EINTERRUPTED && !ended_together && kcb_distributed_size(dist) > 1) {
    fflush(NULL);
    /* a failure every rank meets (a missing --initial-weights) is then said by rank 0 first: its
     * abort would otherwise often come second, after another rank's had ended it */
    if (rank != 0) nanosleep(&(struct timespec){0, 200000000}, NULL);
    kcb_distributed_abort(dist, status);
  }
  kcb_distributed_free(dist);
  for (size_t i = 0; i < n_callbacks; i++) kcb_callback_free(callbacks[i]);
  kcb_history_free(history);
  kcb_model_free(model);
  kcb_mnist_free(&data);
  kcb_tensor_free(y_train);
  kcb_tensor_free(y_test);
  free(metric_list);
  free(name_list);
  return status;
}
