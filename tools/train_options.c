/* train_options.c — kcb-train's option table, the command line, --config files and --help. */
#include "train_options.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>


#include "cli_common.h"
#include "kcb/kcb.h"
#include "tool_text.h"

typedef enum option_kind {
  GROUP,       /* a heading in --help */
  STRING,
  LONG,        /* long long in [lo, hi] */
  DOUBLE,      /* double in [lo, hi] */
  SWITCH,      /* int set to 1; no value on the command line, "true"/"false" in a config file */
  FREQ,        /* "epoch" (0) or a number of batches */
  UPDATE_FREQ, /* "epoch", "batch" or a number of batches */
  CONFIG,      /* --config FILE */
} option_kind;

typedef struct option {
  const char *name;  /* without "--"; for GROUP, the heading */
  const char *value; /* the value's name in --help; NULL for switches */
  option_kind kind;
  size_t offset;     /* into train_args */
  double lo, hi;
  const char *help;  /* lines separated by '\n'; the default in [brackets] */
} option;

#define AT(field) offsetof(train_args, field)
static const option options[] = {
    {"Data:", NULL, GROUP, 0, 0, 0, NULL},
    {"data", "DIR", STRING, AT(data_dir), 0, 0,
     "IDX files (train-/t10k-images/labels, .gz or plain) [" KCB_FASHION_MNIST_DIR "]"},
    {"train-limit", "N", LONG, AT(train_limit), 1, 1e12, "use only the first N training and test samples [all]"},
    {"Model:", NULL, GROUP, 0, 0, 0, NULL},
    {"model", "SPEC", STRING, AT(model_spec), 0, 0,
     "a preset (mlp, cnn) or comma-separated layers, optionally after an input\n"
     "shape (28x28x1): UNITS[:ACTIVATION] (Dense), dropout:RATE, flatten, an\n"
     "activation, conv:FILTERS:KERNEL[:same|:valid|:causal][:sN][:dN][:gN][:nobias][:ACTIVATION],\n"
     "maxpool[:POOL[:STRIDES]][:same], avgpool[...], gap[:keepdims], gmp[:keepdims], bn, ln,\n"
     "reshape:SHAPE, zeropad:N, spatialdropout:RATE, rescale:SCALE[:OFFSET]\n"
     "(conv, maxpool, avgpool, gap and gmp are 1D on rank-2 inputs, e.g. 784x1:\n"
     "one number for their sizes; 3x5 sizes are for images)\n"
     "[flatten,256:relu,128:relu,10:softmax]"},
    {"freeze", "LAYERS", STRING, AT(freeze), 0, 0,
     "comma-separated layer names (as the summary shows them) that do not train,\n"
     "for fine-tuning from --initial-weights (Keras's layer.trainable = False;\n"
     "a frozen bn normalises with its moving statistics) [none]"},
    {"loss", "NAME", STRING, AT(loss), 0, 0,
     "mse, mae, binary_crossentropy, categorical_crossentropy,\n"
     "sparse_categorical_crossentropy; all but the last get the labels one-hot\n"
     "(a single output: the label as a number for mse and mae, as the 0/1\n"
     "target for binary_crossentropy on two classes)\n"
     "[sparse_categorical_crossentropy]"},
    {"optimizer", "NAME", STRING, AT(optimizer), 0, 0,
     "sgd, rmsprop, adam, adamw [adam]; a setting below that it has not is an error"},
    {"lr", "RATE", DOUBLE, AT(lr), 0, 1e6, "learning rate [Keras's default for the optimizer: 0.01 sgd, else 0.001]"},
    {"momentum", "F", DOUBLE, AT(momentum), 0, 1, "sgd, rmsprop: momentum [0]"},
    {"nesterov", NULL, SWITCH, AT(nesterov), 0, 0, "sgd: Nesterov momentum"},
    {"rho", "F", DOUBLE, AT(rho), 0, 1, "rmsprop: decay of the moving average of squared gradients [0.9]"},
    {"centered", NULL, SWITCH, AT(centered), 0, 0, "rmsprop: normalise by the gradients' estimated variance"},
    {"beta-1", "F", DOUBLE, AT(beta_1), 0, 0.999999, "adam, adamw: decay of the first moment [0.9]"},
    {"beta-2", "F", DOUBLE, AT(beta_2), 0, 0.999999, "adam, adamw: decay of the second moment [0.999]"},
    {"amsgrad", NULL, SWITCH, AT(amsgrad), 0, 0, "adam, adamw: the AMSGrad variant"},
    {"epsilon", "F", DOUBLE, AT(epsilon), 0, 1, "rmsprop, adam, adamw: added to the denominator [1e-07]"},
    {"weight-decay", "F", DOUBLE, AT(weight_decay), 0, 1e6,
     "every optimizer: decoupled weight decay, w -= w x F x rate before each\n"
     "step (Keras's weight_decay) [0.004 adamw, else 0]"},
    {"metrics", "LIST", STRING, AT(metrics), 0, 0, "comma-separated: accuracy, mse, mae, ... [accuracy]"},
    {"Training:", NULL, GROUP, 0, 0, 0, NULL},
    {"epochs", "N", LONG, AT(epochs), 0, 1000000, "[20]"},
    {"initial-epoch", "N", LONG, AT(initial_epoch), 0, 1000000,
     "the epochs already trained (Keras's initial_epoch): training starts at\n"
     "epoch N+1; with --initial-weights, to continue a finished run [0]"},
    {"batch-size", "N", LONG, AT(batch_size), 1, 1 << 20, "[64]"},
    {"validation-split", "F", DOUBLE, AT(validation_split), 0, 0.99,
     "last fraction of the training data held out for validation [0.1]"},
    {"seed", "N", LONG, AT(seed), 0, 4.6e18, "same seed, same run, bit for bit [42]"},
    {"verbose", "0|1|2", LONG, AT(verbose), 0, 2, "0 silent, 1 progress bar, 2 one line per epoch [1]"},
    {"terminate-on-nan", NULL, SWITCH, AT(terminate_on_nan), 0, 0, "stop when the loss becomes NaN or infinite"},
    {"config", "FILE", CONFIG, 0, 0, 0,
     "read options from FILE, one 'name = value' per line (a switch: 'name' or\n"
     "'name = true'; '#' starts a comment; a value in \"quotes\" or 'quotes' keeps\n"
     "its spaces and '#'), as if given here; a 'config = FILE' line in it names\n"
     "a file relative to its own directory"},
    {"CSV log:", NULL, GROUP, 0, 0, 0, NULL},
    {"csv", "FILE", STRING, AT(csv), 0, 0, "one row per epoch (Keras's CSVLogger: epoch, then the sorted logs)"},
    {"csv-append", NULL, SWITCH, AT(csv_append), 0, 0, "append to FILE (header only if it is empty) [truncate]"},
    {"csv-separator", "C", STRING, AT(csv_separator), 0, 0, "field separator [,]"},
    {"Early stopping:", NULL, GROUP, 0, 0, 0, NULL},
    {"early-stopping", "N", LONG, AT(early_stopping), 0, 1000000,
     "stop after N epochs without improvement (patience) [off]"},
    {"monitor", "NAME", STRING, AT(monitor), 0, 0,
     "the logged value watched by early stopping, --reduce-lr-on-plateau\nand --checkpoint [val_loss]"},
    {"mode", "auto|min|max", STRING, AT(mode), 0, 0, "whether NAME should fall or rise; auto knows loss and metrics [auto]"},
    {"min-delta", "F", DOUBLE, AT(min_delta), -1e300, 1e300, "smallest change that counts as an improvement, for early\n"
     "stopping [0] and --reduce-lr-on-plateau [0.0001]"},
    {"restore-best-weights", NULL, SWITCH, AT(restore_best_weights), 0, 0, "end with the weights of the best epoch"},
    {"Learning rate:", NULL, GROUP, 0, 0, 0, NULL},
    {"reduce-lr-on-plateau", NULL, SWITCH, AT(reduce_lr), 0, 0, "multiply the rate by --factor when --monitor stops improving"},
    {"factor", "F", DOUBLE, AT(factor), 0, 0.999999, "[0.1]"},
    {"lr-patience", "N", LONG, AT(lr_patience), 0, 1000000, "epochs without improvement before a reduction [10]"},
    {"lr-schedule", "NAME", STRING, AT(lr_schedule), 0, 0, "step, exponential or cosine, from the --lr rate, per epoch; warmup:\n"
     "from --lr to --lr x the number of processes (under mpirun) [off]"},
    {"lr-decay-rate", "F", DOUBLE, AT(lr_decay_rate), 0, 1e6, "step and exponential: the factor per --lr-decay-epochs [0.5]"},
    {"lr-decay-epochs", "N", LONG, AT(lr_decay_epochs), 1, 1000000,
     "step: epochs per drop; exponential: epochs per factor; cosine:\n"
     "epochs to decay over [10; cosine: the epochs after the warm-up]"},
    {"lr-warmup-epochs", "N", LONG, AT(lr_warmup_epochs), 0, 1000000, "cosine: linear warm-up from 0 to the rate first [0];\n"
     "warmup: epochs the rise takes [5]"},
    {"lr-alpha", "F", DOUBLE, AT(lr_alpha), 0, 1, "cosine: the final rate as a fraction of the peak [0]"},
    {"TensorBoard:", NULL, GROUP, 0, 0, 0, NULL},
    {"logdir", "DIR", STRING, AT(logdir), 0, 0, "write TensorBoard logs to DIR/train and DIR/validation [off]"},
    {"histogram-freq", "N", LONG, AT(histogram_freq), 0, 1000000, "weight histograms every N epochs, 0 for none [0]"},
    {"histogram-format", "proto|tensor", STRING, AT(histogram_format), 0, 0,
     "proto: HistogramProtos, which store the sum (TF1's and PyTorch's format:\n"
     "kcb-inspect shows the exact mean); tensor: Keras 3's [k,3] tensors, byte\n"
     "for byte (no sum: the mean is estimated) [proto]"},
    {"update-freq", "F", UPDATE_FREQ, AT(update_freq), 0, 0, "epoch, batch, or every N batches [epoch]"},
    {"write-images", NULL, SWITCH, AT(write_images), 0, 0, "also write the weights as images (with --histogram-freq)"},
    {"hparams", NULL, SWITCH, AT(hparams), 0, 0, "log the hyperparameters and final metrics (HParams tab of a\n"
     "TensorBoard started on the directory above DIR)"},
    {"pr-curves", NULL, SWITCH, AT(pr_curves), 0, 0,
     "per-class PR curves of the validation set at each epoch end (PR Curves tab)"},
    {"embeddings", "N", LONG, AT(embeddings), 0, 100000,
     "after training, the last hidden layer's activations for the first N test\n"
     "images, with their labels and a sprite of the images (Projector tab) [0]"},
    {"class-names", "LIST", STRING, AT(class_names), 0, 0,
     "comma-separated names of the classes, for --pr-curves and --embeddings\n"
     "[Fashion-MNIST's with the default --data, else 0, 1, ...]"},
    {"profile-batch", "START,STOP", STRING, AT(profile_batch), 0, 0,
     "trace training batches START..STOP (1-based, counted across epochs), or the\n"
     "one batch N: forward, backward, optimizer, each callback hook and event writes, as\n"
     "DIR/train/plugins/profile/<time>/<host>.trace.json.gz (chrome://tracing, Perfetto)"},
    {"Checkpoints:", NULL, GROUP, 0, 0, 0, NULL},
    {"initial-weights", "FILE", STRING, AT(initial_weights), 0, 0,
     "start from these weights (and optimizer state, when the file has a\n"
     "matching one): a .weights.h5, .h5 or .keras file, by kcb or Keras; a\n"
     "Sequential's .h5 or .keras must describe --model's model [none]"},
    {"save", "PATH", STRING, AT(save), 0, 0,
     "save the trained model; the name picks the layout: .weights.h5 (weights\n"
     "and optimizer state), .h5 or .keras (full model); its directory is made\n"
     "before training [none]"},
    {"checkpoint", "TEMPLATE", STRING, AT(checkpoint), 0, 0,
     "ModelCheckpoint: save to TEMPLATE, a Python format string with\n"
     "{epoch} and {batch} (1-based) and any logged value, e.g.\n"
     "ckpt/w.{epoch:02d}-{val_loss:.2f}.weights.h5; watches --monitor/--mode"},
    {"save-best-only", NULL, SWITCH, AT(save_best_only), 0, 0, "only when --monitor improves"},
    {"save-weights-only", NULL, SWITCH, AT(save_weights_only), 0, 0,
     "weights only (TEMPLATE must end in .weights.h5, which implies it;\n"
     "else .keras or .h5 hold the whole model)"},
    {"save-freq", "epoch|N", FREQ, AT(save_freq), 0, 0, "at every epoch end, or every N batches [epoch]"},
    {"save-top-k", "K", LONG, AT(save_top_k), -1, 1000000, "keep the K best files by --monitor, delete the others; -1 all [-1]"},
    {"save-last", NULL, SWITCH, AT(save_last), 0, 0, "also keep last.<ext> next to them, updated at every save point"},
    {"initial-value-threshold", "F", DOUBLE, AT(initial_value_threshold), -INFINITY, INFINITY,
     "the value --save-best-only must beat first; inf and -inf allowed [none]"},
    {"backup-dir", "DIR", STRING, AT(backup_dir), 0, 0,
     "BackupAndRestore: back the run up in DIR; run the same command again\n"
     "after a crash or Ctrl-C to resume it (the CSV log is then continued); when\n"
     "the run completes (its test pass included) DIR keeps completed.json and the\n"
     "run's settings: the same\n"
     "command again says there is nothing to resume, another one is refused; one\n"
     "run at a time uses DIR (it is locked)"},
    {"backup-freq", "epoch|N", FREQ, AT(backup_freq), 0, 0, "back up at every epoch end, or every N batches [epoch]"},
    {"Files:", NULL, GROUP, 0, 0, 0, NULL},
    {"on-write-error", "stop|warn", STRING, AT(on_write_error), 0, 0,
     "when a log, checkpoint or backup cannot be written (disk full, directory\n"
     "removed): stop training with the error, or warn once and train on [stop]"},
};
#define N_OPTIONS (sizeof options / sizeof options[0])

void train_args_defaults(train_args *a) {
  memset(a, 0, sizeof *a);
  a->model_spec = "flatten,256:relu,128:relu,10:softmax";
  a->loss = "sparse_categorical_crossentropy";
  a->optimizer = "adam";
  a->metrics = "accuracy";
  a->lr = -1;
  a->momentum = a->rho = a->beta_1 = a->beta_2 = a->epsilon = a->weight_decay = -1;
  a->validation_split = 0.1;
  a->batch_size = 64;
  a->seed = -1; /* not given: 42 (train_args_seed); given, it also replaces a file's generator state */
  a->epochs = 20;
  a->verbose = 1;
  a->early_stopping = a->lr_patience = a->lr_decay_epochs = a->lr_warmup_epochs = -1;
  a->factor = a->lr_decay_rate = a->lr_alpha = -1;
  a->save_top_k = -2;
  a->initial_value_threshold = NAN;
  a->min_delta = NAN; /* not given: each callback's own default */
  a->on_write_error = "stop";
}

static void usage(FILE *f) {
  fprintf(f, "usage: kcb-train [options]\n"
             "Trains a Sequential model on an MNIST-format data set and evaluates it on the test split.\n");
  for (size_t i = 0; i < N_OPTIONS; i++) {
    const option *o = &options[i];
    if (o->kind == GROUP) {
      fprintf(f, "%s%s\n", i ? "" : "\n", o->name);
      continue;
    }
    char head[64];
    snprintf(head, sizeof head, "--%s%s%s", o->name, o->value ? " " : "", o->value ? o->value : "");
    int width = fprintf(f, "  %s", head);
    const char *line = o->help;
    for (int first = 1; line; first = 0) {
      const char *nl = strchr(line, '\n');
      int len = nl ? (int)(nl - line) : (int)strlen(line);
      if (!first || width > 26) width = 0, fputc('\n', f);
      fprintf(f, "%*s%.*s", 27 - width, "", len, line);
      width = 0;
      line = nl ? nl + 1 : NULL;
    }
    fputc('\n', f);
  }
  fprintf(f, "  --version                print the version\n"
             "  -h, --help               this help\n\n"
             "Ctrl-C (SIGINT), SIGTERM or SIGHUP stops training after the current batch: the logs are flushed and\n"
             "closed, a --backup-dir backup is written where it stopped, and the command that resumes\n"
             "is printed; a second Ctrl-C quits at once.\n\n"
             "Exit status: 0 trained (or nothing left to resume), 1 a library error (its message names\n"
             "the file or value), 2 a usage error, 130 / 143 / 129 stopped by SIGINT / SIGTERM / SIGHUP.\n"
             "Prints the files it wrote (with --verbose 1 or 2), then the test-set evaluation last, as:\n"
             "test_loss=<value> test_<metric>=<value> ...\n"
             "\nSeveral processes: `mpirun -np N kcb-train ...` (kcb built with MPI) trains data-parallel:\n"
             "--batch-size is the global batch, split across the N processes; every process loads the\n"
             "same data; logs, checkpoints, backups and output come from rank 0 only.\n");
}

/* The options that set a run's course (data, model, optimization, its schedule and stopping):
 * what a resumed run must share with the run it resumes. Epochs may grow; outputs may move. */
static const char *const course_options[] = {
    "data", "train-limit", "model", "loss", "optimizer", "lr", "momentum", "nesterov", "rho", "centered", "beta-1", "beta-2",
    "amsgrad", "epsilon", "weight-decay", "metrics", "freeze", "batch-size", "validation-split", "seed",
    "early-stopping", "monitor", "mode", "min-delta", "restore-best-weights", "terminate-on-nan", "reduce-lr-on-plateau",
    "factor", "lr-patience", "lr-schedule", "lr-decay-rate", "lr-decay-epochs", "lr-warmup-epochs", "lr-alpha",
    "initial-weights", "initial-epoch", NULL};

static const option *find_option(const char *name);

size_t train_args_course(const train_args *a, char *out, size_t size) { return train_args_values(a, course_options, out, size); }

void train_args_reset(train_args *a, const char *name) {
  const option *o = find_option(name);
  if (!o) return;
  train_args d;
  train_args_defaults(&d);
  size_t size = o->kind == STRING ? sizeof(const char *) : o->kind == LONG ? sizeof(long long)
              : o->kind == DOUBLE ? sizeof(double) : o->kind == SWITCH ? sizeof(int) : 0;
  memcpy((char *)a + o->offset, (const char *)&d + o->offset, size);
}

size_t train_args_values(const train_args *a, const char *const *names, char *out, size_t size) {
  size_t n = 0;
  for (const char *const *name = names; *name; name++) {
    const option *o = find_option(*name);
    if (!o) continue;
    const char *base = (const char *)a + o->offset;
    char value[64];
    const char *v = value;
    /* "default" for an option not given: NULL, or -1 where no value given can be negative */
    switch (o->kind) {
      case STRING: {
        const char *given = *(const char *const *)(const void *)base;
        v = given ? given : "default";
        break;
      }
      case LONG:
        if (*(const long long *)(const void *)base == -1 && o->lo >= 0) v = "default";
        else snprintf(value, sizeof value, "%lld", *(const long long *)(const void *)base);
        break;
      case DOUBLE:
        if (*(const double *)(const void *)base == -1 && o->lo >= 0) v = "default";
        else kcb_format_double(*(const double *)(const void *)base, value, sizeof value); /* "0.2", as typed */
        break;
      case SWITCH: v = *(const int *)(const void *)base ? "true" : "false"; break;
      default: continue;
    }
    int k = snprintf(out && n < size ? out + n : NULL, n < size ? size - n : 0, "%s=%s\n", *name, v);
    if (k > 0) n += (size_t)k;
  }
  return n;
}

int train_quiet;
static char kept_error[16384]; /* the usage error a quiet rank met, until train_say_kept */

int train_usage_error(const char *flag, const char *value, const char *why) {
  char line[sizeof kept_error];
  /* the value and the reason may quote what the user typed: escaped, as text from a file is */
  if (value) snprintf(line, sizeof line, "kcb-train: %s '%s': %s (see kcb-train --help)\n", flag, tool_esc(value), tool_esc(why));
  else snprintf(line, sizeof line, "kcb-train: %s: %s (see kcb-train --help)\n", flag, tool_esc(why));
  train_say(line);
  return 2;
}

void train_say(const char *line) {
  if (train_quiet) snprintf(kept_error, sizeof kept_error, "%s", line);
  else fputs(line, stderr);
}

void train_say_kept(const char *who) {
  static const char plain[] = "kcb-train: ";
  if (who && strncmp(kept_error, plain, sizeof plain - 1) == 0) /* said by this rank alone: which one */
    fprintf(stderr, "%s: %s", who, kept_error + sizeof plain - 1);
  else
    fputs(kept_error, stderr);
  kept_error[0] = '\0';
}

static const option *find_option(const char *name) {
  for (size_t i = 0; i < N_OPTIONS; i++)
    if (options[i].kind != GROUP && strcmp(options[i].name, name) == 0) return &options[i];
  return NULL;
}

/* Whether an argument is one of kcb-train's options ("--epochs", "--epochs=3", "--help", "-h"). */
static int names_an_option(const char *arg) {
  if (!strcmp(arg, "-h")) return 1;
  if (strncmp(arg, "--", 2) != 0) return 0;
  char name[80];
  snprintf(name, sizeof name, "%.*s", (int)strcspn(arg + 2, "="), arg + 2);
  return find_option(name) || !strcmp(name, "help") || !strcmp(name, "version");
}

/* "kcb-train: WHERE: unknown option 'NAME' (did you mean --X?)": the nearest flag, as git does. */
static int unknown_option(const char *where, const char *name) {
  const char *names[N_OPTIONS + 2];
  size_t n = 0;
  const char *bare = strncmp(name, "--", 2) == 0 ? name + 2 : name;
  for (size_t i = 0; i < N_OPTIONS; i++)
    if (options[i].kind != GROUP) names[n++] = options[i].name;
  names[n++] = "help";
  names[n++] = "version";
  if (where && (!strcmp(bare, "help") || !strcmp(bare, "version"))) {
    fprintf(stderr, "kcb-train: %s: '%s' asks for no training: give --%s on the command line, not in a config file\n",
            where, bare, bare);
    return 2;
  }
  const char *s = kcb_text_suggest(bare, names, n);
  fprintf(stderr, "kcb-train: %s%sunknown option '%s'", where ? where : "", where ? ": " : "", name);
  if (s) fprintf(stderr, "; did you mean %s%s?", where ? "" : "--", s);
  fprintf(stderr, " (see kcb-train --help)\n");
  return 2;
}

/* Whether v is a whole number written plainly, as kcb_text_to_number's numbers are: strtoll also
 * takes leading blanks, '+' and (with base 0) hexadecimal. */
static int plain_whole_number(const char *v) {
  const char *digits = v + (v[0] == '-');
  return digits[0] && !digits[strspn(digits, "0123456789")];
}

static int parse_long(const char *flag, const char *v, double lo, double hi, long long *out) {
  char *end;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (!plain_whole_number(v) || *end || errno || (double)x < lo || (double)x > hi) {
    char why[96];
    snprintf(why, sizeof why, "expected a whole number from %lld to %lld", (long long)lo, (long long)hi);
    return train_usage_error(flag, v, why);
  }
  *out = x;
  return 0;
}

static char **config_strings; /* values read from --config files, kept until train_args_release */
static size_t n_config_strings;

static int keep_string(char **out, const char *s, size_t len) {
  char **grown = realloc(config_strings, (n_config_strings + 1) * sizeof *grown);
  if (!grown) return -1;
  config_strings = grown;
  if (!(*out = malloc(len + 1))) return -1;
  memcpy(*out, s, len);
  (*out)[len] = '\0';
  config_strings[n_config_strings++] = *out;
  return 0;
}

/* Options whose value is a file or directory (their value's name in --help says so). */
static int is_path(const option *o) {
  static const char *const kinds[] = {"DIR", "FILE", "PATH", "TEMPLATE"};
  for (size_t i = 0; o->value && i < sizeof kinds / sizeof kinds[0]; i++)
    if (!strcmp(o->value, kinds[i])) return 1;
  return 0;
}

/* A path's leading ~ as the shell expands it, which it does not in a --config file or after
 * --opt= (a directory named "~" would be made instead): *v is replaced by the expanded path. */
static int expand_home(const char *flag, const char **v) {
  if ((*v)[0] != '~' || ((*v)[1] != '/' && (*v)[1] != '\0')) return 0;
  const char *home = getenv("HOME");
  if (!home || !*home) return train_usage_error(flag, *v, "~ needs HOME to be set");
  size_t n = strlen(home) + strlen(*v + 1);
  char *joined = malloc(n + 1), *kept = NULL;
  if (joined) snprintf(joined, n + 1, "%s%s", home, *v + 1);
  int failed = !joined || keep_string(&kept, joined, n) != 0;
  free(joined);
  if (failed) return train_usage_error(flag, *v, "out of memory");
  *v = kept;
  return 0;
}

/* Stores value v for option o (value NULL: a switch given alone). */
static int apply(train_args *a, const option *o, const char *flag, const char *v) {
  char *field = (char *)a + o->offset;
  switch (o->kind) {
    case STRING: /* no option takes an empty text: --csv "" is a slip, not the working directory */
      if (!v || !*v) return train_usage_error(flag, v ? v : "", "needs a value");
      if (is_path(o)) {
        int rc = expand_home(flag, &v);
        if (rc) return rc;
      }
      *(const char **)(void *)field = v;
      return 0;
    case SWITCH:
      if (v && strcmp(v, "true") != 0 && strcmp(v, "false") != 0) return train_usage_error(flag, v, "expected true or false");
      *(int *)(void *)field = !v || strcmp(v, "true") == 0;
      return 0;
    case LONG:
      return parse_long(flag, v, o->lo, o->hi, (long long *)(void *)field);
    case DOUBLE: {
      double x = NAN;
      if (isinf(o->lo) && (strcmp(v, "inf") == 0 || strcmp(v, "-inf") == 0)) x = v[0] == '-' ? -INFINITY : INFINITY; /* where the range allows it */
      else (void)kcb_text_to_number(v, &x); /* x stays NaN when refused */
      if (!(x >= o->lo && x <= o->hi)) {
        char why[96];
        snprintf(why, sizeof why, "expected a number from %g to %g", o->lo, o->hi);
        return train_usage_error(flag, v, why);
      }
      *(double *)(void *)field = x;
      return 0;
    }
    case FREQ:
    case UPDATE_FREQ: {
      long long *out = (long long *)(void *)field;
      if (strcmp(v, "epoch") == 0) {
        *out = o->kind == FREQ ? 0 : KCB_TENSORBOARD_UPDATE_EPOCH;
        return 0;
      }
      if (o->kind == UPDATE_FREQ && strcmp(v, "batch") == 0) {
        *out = KCB_TENSORBOARD_UPDATE_BATCH;
        return 0;
      }
      char *end;
      errno = 0;
      long long x = strtoll(v, &end, 10);
      if (!plain_whole_number(v) || *end || errno || x < 1)
        return train_usage_error(flag, v, o->kind == FREQ ? "expected epoch or a number of batches"
                                                          : "expected epoch, batch or a number of batches");
      *out = x;
      return 0;
    }
    case GROUP:
    case CONFIG:
      break;
  }
  return 0;
}

/* The --config files read (included ones too), for the check that no output replaces one. */
static char **config_files;
static size_t n_config_files;

const char *const *train_args_config_files(size_t *n) {
  *n = n_config_files;
  return (const char *const *)config_files;
}

void train_args_release(void) {
  for (size_t i = 0; i < n_config_strings; i++) free(config_strings[i]);
  free(config_strings);
  config_strings = NULL;
  n_config_strings = 0;
  for (size_t i = 0; i < n_config_files; i++) free(config_files[i]);
  free(config_files);
  config_files = NULL;
  n_config_files = 0;
}

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n')) s[--n] = '\0';
  return s;
}

static int read_config(train_args *a, const char *path, int depth);

/* A config file named in another: relative to the directory of the one naming it. */
static int read_included_config(train_args *a, const char *from, const char *path, int depth) {
  const char *slash = strrchr(from, '/');
  if (path[0] == '/' || !slash) return read_config(a, path, depth);
  char joined[8192];
  snprintf(joined, sizeof joined, "%.*s/%s", (int)(slash - from), from, path);
  return read_config(a, joined, depth);
}

/* A config file: "name = value" lines with the flags' names (no "--"), '#' comments. */
static int read_config(train_args *a, const char *path, int depth) {
  if (depth > 4) return train_usage_error("--config", path, "config files include each other too deeply");
  char *text = NULL;
  size_t len = 0;
  /* kcb_file_read: a FIFO or device is refused without blocking, as every file kcb reads. */
  if (kcb_file_read(path, (size_t)1 << 20, &text, &len) != 0) {
    const char *why = kcb_error_last(), *cause = strstr(why, "cannot open: ");
    return train_usage_error("--config", path, cause ? cause + 13 : why);
  }
  char **grown = realloc(config_files, (n_config_files + 1) * sizeof *grown), *copy = strdup(path);
  if (grown) config_files = grown;
  if (!grown || !copy) {
    free(copy);
    free(text);
    return train_usage_error("--config", path, "out of memory");
  }
  config_files[n_config_files++] = copy;
  int rc = 0, number = 0;
  char *start = text;
  if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) start += 3; /* a UTF-8 byte order mark, as editors on Windows write */
  for (char *line = start, *next; rc == 0 && line < text + len; line = next) {
    char *nl = memchr(line, '\n', (size_t)(text + len - line));
    next = nl ? nl + 1 : text + len;
    if (nl) *nl = '\0';
    number++;
    char where[600];
    snprintf(where, sizeof where, "%s:%d", path, number);
    /* A text file: a NUL or another control character means binary junk, not a line to skip. */
    for (char *c = line; c < next - (nl != NULL) && rc == 0; c++)
      if ((unsigned char)*c < 0x20 && *c != '\t' && !(*c == '\r' && c + 1 == next - (nl != NULL))) {
        char why[96];
        snprintf(why, sizeof why, "binary data: control character 0x%02x at column %d, not a text line",
                 (unsigned char)*c, (int)(c - line) + 1);
        rc = train_usage_error(where, "", why);
      }
    if (rc) break;
    /* '#' starts a comment, except inside a value that starts with a quote: "..." or '...' keeps
     * its '#' and spaces (an apostrophe inside a value is a character) */
    char *eq = strchr(line, '='), *hash = strchr(line, '#'), *key = line, *value = NULL;
    int unclosed = 0; /* a value that opens a quote and does not close it */
    if (hash && (!eq || hash < eq)) *hash = '\0', eq = NULL;
    if (eq) {
      *eq = '\0';
      value = eq + 1;
      while (*value == ' ' || *value == '\t') value++;
      char *close = (*value == '"' || *value == '\'') ? strchr(value + 1, *value) : NULL;
      unclosed = (*value == '"' || *value == '\'') && !close;
      char *rest = close ? close + 1 : value;
      if ((hash = strchr(rest, '#')) != NULL) *hash = '\0';
      if (close && !*trim(rest)) *close = '\0', value++; /* the quotes around the whole value go */
      else value = trim(value);
    }
    key = trim(key);
    if (!*key) {
      if (value) rc = train_usage_error(where, "=", "a value with no name");
      continue;
    }
    if (strncmp(key, "--", 2) == 0) key += 2;
    const option *o = find_option(key);
    char flag[sizeof where + 4200];
    snprintf(flag, sizeof flag, "%s: --%s", where, key);
    if (!o) rc = unknown_option(where, key);
    else if (unclosed) rc = train_usage_error(flag, value, "the value opens a quote but does not close it on its line");
    else if (o->kind == CONFIG && value) {
      const char *included = value;
      if ((rc = expand_home(flag, &included)) == 0) rc = read_included_config(a, path, included, depth + 1);
    }
    else if (o->kind == CONFIG) rc = train_usage_error(flag, "", "needs a value");
    else if (!value && o->kind != SWITCH) rc = train_usage_error(flag, "", "needs a value");
    else {
      char *kept = NULL;
      if (value && keep_string(&kept, value, strlen(value)) != 0) rc = train_usage_error(flag, value, "out of memory");
      else rc = apply(a, o, flag, kept);
    }
  }
  free(text);
  return rc;
}

int train_args_parse(train_args *a, int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *flag = argv[i];
    if (strcmp(flag, "-h") == 0 || strcmp(flag, "--help") == 0) {
      usage(stdout);
      return 1;
    }
    if (strcmp(flag, "--version") == 0) {
      cli_print_version("kcb-train");
      return 1;
    }
    if (strncmp(flag, "--help=", 7) == 0 || strncmp(flag, "--version=", 10) == 0)
      return train_usage_error(flag[2] == 'h' ? "--help" : "--version", NULL, "takes no value");
    if (strncmp(flag, "--", 2) != 0) return train_usage_error("argument", flag, "not an option");
    if (strcmp(flag, "--") == 0) { /* the end of options, as POSIX tools take it: nothing may follow */
      if (i + 1 < argc) return train_usage_error("argument", argv[i + 1], "kcb-train takes no arguments, only options");
      break;
    }
    /* --name=value, as GNU tools accept */
    char dashed[80];
    const char *eq = strchr(flag, '='), *v = NULL;
    snprintf(dashed, sizeof dashed, "%.*s", eq ? (int)(eq - flag) : (int)strlen(flag), flag);
    const option *o = find_option(dashed + 2);
    if (!o) return unknown_option(NULL, dashed);
    if (o->kind == SWITCH) {
      int rc = apply(a, o, dashed, eq ? eq + 1 : NULL);
      if (rc) return rc;
      continue;
    }
    if (eq) v = eq + 1;
    else if (i + 1 >= argc) return train_usage_error(dashed, "", "needs a value");
    else v = argv[++i];
    if (!eq && names_an_option(v)) { /* "--csv --terminate-on-nan": the value forgotten, not a file so named */
      char why[200];
      snprintf(why, sizeof why, "needs a value, and the next argument is the option %s (write %s=%s for a value so named)",
               v, dashed, v);
      return train_usage_error(dashed, NULL, why);
    }
    int rc = o->kind == CONFIG ? expand_home(dashed, &v) : 0;
    if (!rc) rc = o->kind == CONFIG ? read_config(a, v, 0) : apply(a, o, dashed, v);
    if (rc) return rc;
  }
  return 0;
}
