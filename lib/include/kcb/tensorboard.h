/* kcb/tensorboard.h — Keras's TensorBoard callback (spec/keras-callbacks.md §2.9), plus
 * hyperparameter logging with the run's final metrics. */
#ifndef KCB_TENSORBOARD_H
#define KCB_TENSORBOARD_H

#include <stddef.h>
#include <stdint.h>

#include "kcb/callback.h"
#include "kcb/summary_writer.h"

#ifdef __cplusplus
extern "C" {
#endif

/** update_freq values: log at epoch end only, or every batch; any N > 1 logs every N batches. */
#define KCB_TENSORBOARD_UPDATE_EPOCH 0
#define KCB_TENSORBOARD_UPDATE_BATCH 1

/** TensorBoard's parameters, with Keras's defaults from KCB_TENSORBOARD_OPTIONS_INIT. */
typedef struct kcb_tensorboard_options {
  const char *log_dir;        /**< runs go to <log_dir>/train and <log_dir>/validation ["logs"] */
  int histogram_freq;         /**< weight histograms every N epochs (epoch % N == 0); 0 off [0]; a weight
                                   holding NaN or Inf gets none that epoch */
  int write_graph;            /**< the model config under tag "keras" in train/ at step 0 [1] */
  int write_images;           /**< weights as images, <weight path>/image, with the histograms [0] */
  int write_steps_per_second; /**< batch_ / epoch_steps_per_second [0] */
  int64_t update_freq;        /**< KCB_TENSORBOARD_UPDATE_EPOCH, _BATCH or N [epoch] */
  /** Hyperparameters (copied): if n_hparams > 0, the log_dir run gets an hparams experiment (its
   * metrics are the epoch_<metric> scalars of train/ and validation/, whose last points are the
   * run's final values) and a session (start at train begin, end at train end), so TensorBoard's
   * HParams tab shows this run. */
  const kcb_hparam *hparams;
  size_t n_hparams;
  int max_queue;              /**< events queued before the writer thread is woken [1024]; at each
                                   epoch end everything queued is handed to it anyway */
  double flush_secs;          /**< the longest an event stays in memory [120] */
  /* kcb's additions (README "TensorBoard plugins") */
  int pr_curves;              /**< > 0: at each epoch end with validation, one PR curve per output class
                                   of the validation set (plugin pr_curves) in validation/, tag
                                   pr_curves/<class name>, with this many thresholds
                                   (KCB_PR_CURVE_DEFAULT_THRESHOLDS is TensorBoard's); taken from the
                                   validation pass's own outputs (kcb_model_last_batch) [0 off] */
  const char *const *class_names; /**< n_class_names names of the output classes (copied); NULL: 0, 1, ... */
  size_t n_class_names;
  int custom_scalars;         /**< write a custom-scalars layout to train/ at the first epoch end: one
                                   chart per metric with its train and validation lines [0] */
  int64_t profile_batch_start, profile_batch_stop; /**< Keras's profile_batch=(start, stop): trace the
                                   global training batches start..stop (1-based, inclusive) into
                                   train/plugins/profile/<time>/<host>.trace.json.gz [0, 0: off] */
  /** How the weight histograms are stored [KCB_HISTOGRAM_PROTO]. kcb departs from Keras 3 here on
   * purpose: Keras writes TF2 [k,3] tensors, which hold the buckets but not the sum, so no reader
   * can show a histogram's exact mean or standard deviation; the HistogramProto (TF1's and
   * PyTorch's format) stores min, max, num, sum and sum_squares beside the same buckets, and
   * TensorBoard's Histograms and Distributions dashboards show both alike. KCB_HISTOGRAM_TENSOR
   * writes Keras 3's exact bytes, for tools that compare event files with Keras's. */
  kcb_histogram_format histogram_format;
} kcb_tensorboard_options;
#define KCB_TENSORBOARD_OPTIONS_INIT \
  {"logs", 0, 1, 0, 0, KCB_TENSORBOARD_UPDATE_EPOCH, NULL, 0, 1024, 120.0, 0, NULL, 0, 0, 0, 0, KCB_HISTOGRAM_PROTO}

/** Creates a TensorBoard callback. Files are created lazily, at the first hook that writes.
 * Tags (Keras's): train/: keras, epoch_<metric>, epoch_learning_rate, epoch_steps_per_second
 * (step = epoch, 0-based), batch_<metric>, batch_steps_per_second (step = global batch count,
 * 1-based, every update_freq batches), sequential/<layer>/<weight>/histogram (30 buckets, as
 * histogram_format says) and /image (Keras 3's
 * weight paths since keras-team/keras PR #22317, e.g. sequential/dense/kernel/histogram; earlier 3.x
 * releases wrote kernel/histogram, which collides across layers; step = epoch; a weight holding
 * NaN or Inf is skipped that epoch rather than stopping training);
 * validation/: epoch_<metric> without the val_ prefix (step = epoch) and
 * evaluation_<metric>_vs_iterations (step = the optimizer's iterations).
 * @param[out] out freed with kcb_callback_free (which closes the files).
 * @param opts NULL for defaults. @return 0, KCB_EINVAL (out NULL; log_dir NULL or empty;
 *         histogram_freq < 0; update_freq < 0; histogram_format not a kcb_histogram_format;
 *         n_hparams > 0 with hparams NULL; a hyperparameter
 *         without a name, or a string one without a value) or KCB_ENOMEM. */
int kcb_tensorboard_new(kcb_callback **out, const kcb_tensorboard_options *opts);

/** Flushes and closes the callback's files now (they are reopened, as new files, if the
 * callback is used again); NULL does nothing, as free(NULL). @return 0, the first write error met,
 * or KCB_EINVAL if `tensorboard` is not a callback kcb_tensorboard_new made. */
int kcb_tensorboard_close(kcb_callback *tensorboard);

/** The i-th event file the callback opened (train/, validation/, the log directory's own), in the
 * order opened over all its fits, or NULL past the last (or when `tensorboard` is not a callback
 * kcb_tensorboard_new made): what this callback wrote, not other runs in the same log_dir. Owned by
 * the callback. */
const char *kcb_tensorboard_event_file(const kcb_callback *tensorboard, size_t i);

/** The path of the last profile trace the callback wrote (profile_batch), or NULL (none yet, or
 * `tensorboard` is not a callback kcb_tensorboard_new made). Owned by the callback. */
const char *kcb_tensorboard_profile_path(const kcb_callback *tensorboard);

#ifdef __cplusplus
}
#endif
#endif
