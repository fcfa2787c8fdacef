/* train_options.h — kcb-train's options: one table gives the flags, the --config keys, their
 * parsing and the --help text, so the three never disagree. */
#ifndef KCB_TRAIN_OPTIONS_H
#define KCB_TRAIN_OPTIONS_H

#include <stdio.h>

typedef struct train_args {
  /* data, model, training */
  const char *data_dir, *model_spec, *loss, *optimizer, *metrics;
  const char *freeze; /* layer names, comma-separated (Keras's layer.trainable = False) */
  double lr, validation_split;
  /* the optimizer's settings (-1: not given, Keras's default) */
  double momentum, rho, beta_1, beta_2, epsilon, weight_decay;
  int nesterov, centered, amsgrad;
  long long train_limit, batch_size, seed, epochs, verbose;
  long long initial_epoch; /* Keras's initial_epoch: the 0-based epoch to start at */
  /* built-in callbacks (-1: not given) */
  const char *csv, *csv_separator, *monitor, *mode, *lr_schedule;
  int csv_append, restore_best_weights, reduce_lr, terminate_on_nan;
  long long early_stopping, lr_patience, lr_decay_epochs, lr_warmup_epochs;
  double min_delta, factor, lr_decay_rate, lr_alpha;
  /* TensorBoard */
  const char *logdir;
  long long histogram_freq, update_freq; /* update_freq: KCB_TENSORBOARD_UPDATE_* or N */
  const char *histogram_format;          /* "proto" or "tensor"; NULL: not given (proto) */
  int write_images, hparams;
  /* TensorBoard plugins (README "TensorBoard plugins") */
  int pr_curves;
  long long embeddings;             /* test images in the projector; 0 none */
  const char *class_names, *profile_batch;
  /* checkpoints */
  const char *initial_weights, *save, *checkpoint, *backup_dir;
  int save_best_only, save_weights_only, save_last;
  long long save_freq, save_top_k, backup_freq; /* freq 0: "epoch"; save_top_k -2: not given */
  double initial_value_threshold;               /* NaN: none */
  /* files */
  const char *on_write_error; /* "stop" or "warn" */
} train_args;

/* The defaults, as --help shows them. */
void train_args_defaults(train_args *a);

/* Parses argv (and any --config FILE it names, in place); prints the error itself.
 * @return 0 to train, 1 when --help or --version was printed, 2 for a usage error. Strings point into argv or
 * into memory kept until train_args_release. */
int train_args_parse(train_args *a, int argc, char **argv);

/* The options that set the run's course, one "name=value" line each (what a resume must repeat):
 * written into out (NUL-terminated when size > 0); returns the length the whole text needs. */
size_t train_args_course(const train_args *a, char *out, size_t size);

/* The same for the options `names` lists (long names without "--", NULL-terminated). */
size_t train_args_values(const train_args *a, const char *const *names, char *out, size_t size);

/* Sets option `name` (long name without "--") back to its value when not given. */
void train_args_reset(train_args *a, const char *name);

/* The --config files read, included ones too (n set to how many). */
const char *const *train_args_config_files(size_t *n);

/* Frees what --config files added. */
void train_args_release(void);

/* Set on the ranks other than 0 under mpirun: their errors are kept, not printed, until the ranks
 * know whether rank 0 met one too (then only rank 0's shows); train_say_kept prints it. */
extern int train_quiet;
void train_say_kept(const char *who);
/* Prints an error line, or keeps it on a quiet rank (the last one kept is said). */
void train_say(const char *line);

/* Prints a usage error ("kcb-train: FLAG 'VALUE': WHY", or "FLAG: WHY" for VALUE NULL) and returns 2. */
int train_usage_error(const char *flag, const char *value, const char *why);

/* The run's seed: --seed, or 42 when it was not given. */
static inline long long train_args_seed(const train_args *a) { return a->seed >= 0 ? a->seed : 42; }

#endif
