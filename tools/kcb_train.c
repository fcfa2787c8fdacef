/* kcb-train — train a Sequential model from the command line (Fashion-MNIST by default). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcb/kcb.h"

typedef struct train_args {
  const char *data_dir, *model_spec, *loss, *optimizer, *metrics;
  double lr, validation_split;
  long long train_limit, batch_size, seed;
  int epochs, verbose;
  const char *logdir;
  long long histogram_freq, update_freq;
  int write_images, hparams;
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
          "TensorBoard:\n"
          "  --logdir DIR             write TensorBoard logs to DIR/train and DIR/validation [off]\n"
          "  --histogram-freq N       weight histograms every N epochs, 0 for none [0]\n"
          "  --update-freq F          epoch, batch, or every N batches [epoch]\n"
          "  --write-images           also write the weights as images (with --histogram-freq)\n"
          "  --hparams                log the hyperparameters and final metrics (HParams tab)\n"
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

static int parse_args(int argc, char **argv, train_args *a) {
  for (int i = 1; i < argc; i++) {
    const char *flag = argv[i];
    if (strcmp(flag, "-h") == 0 || strcmp(flag, "--help") == 0) {
      usage(stdout);
      return 1;
    }
    if (strncmp(flag, "--", 2) != 0) return bad_value("argument", flag, "not an option");
    if (strcmp(flag, "--write-images") == 0 || strcmp(flag, "--hparams") == 0) { /* switches take no value */
      *(flag[2] == 'w' ? &a->write_images : &a->hparams) = 1;
      continue;
    }
    if (i + 1 >= argc) return bad_value(flag, "", "needs a value");
    const char *v = argv[++i];
    long long n = 0;
    int rc = 0;
    if (strcmp(flag, "--data") == 0) a->data_dir = v;
    else if (strcmp(flag, "--model") == 0) a->model_spec = v;
    else if (strcmp(flag, "--loss") == 0) a->loss = v;
    else if (strcmp(flag, "--optimizer") == 0) a->optimizer = v;
    else if (strcmp(flag, "--metrics") == 0) a->metrics = v;
    else if (strcmp(flag, "--lr") == 0) rc = parse_double(flag, v, 0, 1e6, &a->lr);
    else if (strcmp(flag, "--validation-split") == 0) rc = parse_double(flag, v, 0, 0.99, &a->validation_split);
    else if (strcmp(flag, "--train-limit") == 0) rc = parse_long(flag, v, 1, 1LL << 40, &a->train_limit);
    else if (strcmp(flag, "--batch-size") == 0) rc = parse_long(flag, v, 1, 1 << 20, &a->batch_size);
    else if (strcmp(flag, "--seed") == 0) rc = parse_long(flag, v, 0, 1LL << 62, &a->seed);
    else if (strcmp(flag, "--epochs") == 0) { rc = parse_long(flag, v, 0, 1000000, &n); a->epochs = (int)n; }
    else if (strcmp(flag, "--verbose") == 0) { rc = parse_long(flag, v, 0, 2, &n); a->verbose = (int)n; }
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
    else return bad_value("option", flag, "unknown option");
    if (rc) return rc;
  }
  if (!a->logdir && (a->histogram_freq || a->update_freq || a->write_images || a->hparams))
    return bad_value("--logdir", "", "the TensorBoard options need --logdir");
  return 0;
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
  train_args a = {NULL, "flatten,256:relu,128:relu,10:softmax", "sparse_categorical_crossentropy", "adam", "accuracy",
                  -1, 0.1, 0, 64, 42, 20, 1, NULL, 0, 0, 0, 0};
  int status = parse_args(argc, argv, &a);
  if (status) return status == 1 ? 0 : status;

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
  kcb_callback *tensorboard = NULL;
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
  if (a.verbose) kcb_model_summary(model, stdout);

  kcb_fit_options fit = KCB_FIT_OPTIONS_INIT;
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
    if ((rc = kcb_tensorboard_new(&tensorboard, &tb))) {
      status = fail("--logdir", rc);
      goto done;
    }
    fit.callbacks = &tensorboard;
    fit.n_callbacks = 1;
  }
  if ((rc = kcb_model_fit(model, data.train_images, data.train_labels, &fit, &history))) {
    status = fail("fit", rc);
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
  kcb_callback_free(tensorboard);
  kcb_history_free(history);
  kcb_model_free(model);
  kcb_mnist_free(&data);
  free(metric_list);
  return status;
}
