/* custom_lr_scheduler.c — Keras's guide "Writing your own callbacks", section
 * "Examples of Keras callback applications / Learning rate scheduling":
 * CustomLearningRateScheduler sets the optimizer's learning rate at the start of every epoch
 * from lr_schedule(epoch, lr); LossAndErrorPrintingCallback prints the losses along the way.
 *
 * Run:  ./custom_lr_scheduler [MNIST_DIR]
 *   MNIST_DIR holds train-images-idx3-ubyte[.gz] and the three other IDX files; without it the
 *   program reads Debian's Fashion-MNIST from /usr/share/datasets/fashion-mnist.
 * Prints exactly what the guide's Python prints (fit runs with verbose=0). The learning rate is
 * printed as Python's repr of float(np.array(scheduled_lr)): a rate kept from the optimizer is
 * a float32 variable, widened to double ("0.10000000149011612"), while a rate from the table is
 * the table's double ("0.05"). */
#include <stdio.h>

#include "seed_common.h"

/* ---- "Learning rate scheduling": LR_SCHEDULE and lr_schedule ------------------------- */

/* (epoch to start, learning rate) tuples */
static const struct {
  int epoch;
  double lr;
} LR_SCHEDULE[] = {
    {3, 0.05},
    {6, 0.01},
    {9, 0.005},
    {12, 0.001},
};
#define LR_SCHEDULE_LEN (sizeof LR_SCHEDULE / sizeof LR_SCHEDULE[0])

/* Helper function to retrieve the scheduled learning rate based on epoch. */
static double lr_schedule(int epoch, double lr) {
  if (epoch < LR_SCHEDULE[0].epoch || epoch > LR_SCHEDULE[LR_SCHEDULE_LEN - 1].epoch) return lr;
  for (size_t i = 0; i < LR_SCHEDULE_LEN; i++)
    if (epoch == LR_SCHEDULE[i].epoch) return LR_SCHEDULE[i].lr;
  return lr;
}

/* ---- "Learning rate scheduling": CustomLearningRateScheduler ------------------------- */

typedef struct custom_lr_scheduler {
  kcb_callback base;
  double (*schedule)(int epoch, double lr); /* epoch (0-based), current rate -> new rate */
} custom_lr_scheduler;

static int scheduler_on_epoch_begin(kcb_callback *cb, int epoch, kcb_logs *logs) {
  custom_lr_scheduler *s = (custom_lr_scheduler *)cb;
  /* Get the current learning rate from model's optimizer (a float32, widened). */
  double lr = kcb_model_learning_rate(cb->model);
  /* Call schedule function to get the scheduled learning rate. */
  double scheduled_lr = s->schedule(epoch, lr);
  /* Set the value back to the optimizer before this epoch starts (an error, e.g. no optimizer,
   * ends fit as Python's ValueError would). */
  int rc = kcb_model_set_learning_rate(cb->model, scheduled_lr);
  if (rc != 0) return rc;
  char buf[32];
  printf("\nEpoch %d: Learning rate is %s.\n", epoch, kcb_format_double(scheduled_lr, buf, sizeof buf));
  return 0;
}

static const kcb_callback_ops custom_lr_scheduler_ops = {
    .name = "CustomLearningRateScheduler",
    .on_epoch_begin = scheduler_on_epoch_begin,
};

/* CustomLearningRateScheduler(schedule): owns nothing. */
static custom_lr_scheduler custom_lr_scheduler_make(double (*schedule)(int, double)) {
  custom_lr_scheduler s = {0};
  s.base.ops = &custom_lr_scheduler_ops;
  s.schedule = schedule;
  return s;
}

int main(int argc, char **argv) {
  seed_example ex;
  seed_example_init(&ex, argc, argv);

  /* model.fit(x_train, y_train, batch_size=64, steps_per_epoch=5, epochs=15, verbose=0,
   *           callbacks=[LossAndErrorPrintingCallback(),
   *                      CustomLearningRateScheduler(lr_schedule)]) */
  loss_and_error_printer printer = loss_and_error_printer_make();
  custom_lr_scheduler scheduler = custom_lr_scheduler_make(lr_schedule);
  kcb_callback *cbs[2] = {&printer.base, &scheduler.base};
  kcb_fit_options fo = seed_fit_options(64, 15, cbs, 2);
  fo.steps_per_epoch = 5;
  seed_check(&ex, kcb_model_fit(ex.model, &ex.x_train, &ex.y_train, &fo, NULL), "fit");

  seed_example_free(&ex);
  return 0;
}
