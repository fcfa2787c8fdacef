/* checkpoint — save a model in Keras's layouts, load it back, and continue training.
 *
 * Trains a small classifier on a synthetic data set (two rings), saves
 *   ckpt.weights.h5  weights + Adam state (Keras: model.load_weights("ckpt.weights.h5")),
 *   model.keras      the whole model        (Keras: keras.saving.load_model("model.keras")),
 *   model.h5         the legacy full model  (Keras 2 and 3: load_model("model.h5")),
 * lists what each file holds without loading it, rebuilds the model from model.keras alone,
 * and trains both the original and the rebuilt model two more epochs: their losses are equal,
 * because the optimizer state and the random-number state travel with the file.
 *
 * Usage: checkpoint [DIR]   (files go to DIR, default ".") */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "kcb/kcb.h"

static int check(int rc, const char *what) {
  if (rc) {
    fprintf(stderr, "checkpoint: %s: %s (%s)\n", what, kcb_error_last(), kcb_error_name(rc));
    exit(1);
  }
  return 0;
}

static double train(kcb_model *m, kcb_tensor *x, kcb_tensor *y, int epochs) {
  kcb_fit_options f = KCB_FIT_OPTIONS_INIT;
  f.epochs = epochs;
  f.batch_size = 16;
  f.verbose = 0;
  kcb_history *h = NULL;
  check(kcb_model_fit(m, x, y, &f, &h), "fit");
  double loss = 0;
  kcb_history_last(h, "loss", &loss);
  kcb_history_free(h);
  return loss;
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : ".";
  int64_t n = 256, xs[2] = {n, 2}, ys[1] = {n}, in = 2;
  kcb_tensor *x = NULL, *y = NULL;
  check(kcb_tensor_new(&x, 2, xs), "data");
  check(kcb_tensor_new(&y, 1, ys), "data");
  for (int64_t i = 0; i < n; i++) {
    double angle = (double)i * 2.399963, radius = (i % 2) ? 1.0 : 0.4;
    x->data[2 * i] = (float)(radius * cos(angle));
    x->data[2 * i + 1] = (float)(radius * sin(angle));
    y->data[i] = (float)(i % 2);
  }

  kcb_model *model = NULL;
  check(kcb_model_new(&model, 1, &in, 42), "model");
  check(kcb_model_add_from_spec(model, "16:tanh,dropout:0.1,2:softmax"), "model");
  kcb_metric acc = KCB_METRIC_ACCURACY;
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
  c.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  c.metrics = &acc;
  c.n_metrics = 1;
  check(kcb_model_compile(model, &c), "compile");
  printf("trained 5 epochs: loss %.6f\n", train(model, x, y, 5));

  const char *names[] = {"ckpt.weights.h5", "model.keras", "model.h5"};
  char paths[3][4096];
  for (int i = 0; i < 3; i++) {
    snprintf(paths[i], sizeof paths[i], "%s/%s", dir, names[i]);
    kcb_save_options so = KCB_SAVE_OPTIONS_INIT; /* the layout follows the name */
    so.monitor = "loss";
    so.monitor_value = 0.0;
    so.epoch = 4;
    check(kcb_model_save(model, paths[i], &so), "save");
    kcb_checkpoint_info info;
    check(kcb_checkpoint_info_read(&info, paths[i]), "info");
    printf("%-16s layout=%s layers=%zu weights=%zu params=%zu optimizer_vars=%zu iterations=%lld epoch=%lld config=%s\n",
           names[i], kcb_checkpoint_layout_name(info.layout), info.n_layers, info.n_weights, info.n_params,
           info.n_optimizer_vars, (long long)info.iterations, (long long)info.epoch, info.has_config ? "yes" : "no");
  }

  kcb_model *restored = NULL;
  check(kcb_model_load(&restored, paths[1], NULL), "load");
  double a = train(model, x, y, 2), b = train(restored, x, y, 2);
  printf("2 more epochs: original loss %.6f, restored from model.keras %.6f (%s)\n", a, b, a == b ? "identical" : "DIFFERENT");

  kcb_model_free(restored);
  kcb_model_free(model);
  kcb_tensor_free(x);
  kcb_tensor_free(y);
  return a == b ? 0 : 1;
}
