/* kcb/summary_writer.h — write TensorBoard summaries from any code, with or without a model:
 * scalars, histograms, images, text, audio, hparams (spec/tfevents.md §3). */
#ifndef KCB_SUMMARY_WRITER_H
#define KCB_SUMMARY_WRITER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One event file in a run directory, written asynchronously: each call encodes its event on the
 * caller's thread into a bounded queue that a writer thread writes out; the caller waits on the
 * disk only when max_queue events are waiting while the previous batch is still being written.
 * An error the writer thread meets (disk full, the file or its directory removed) is returned by
 * the next call. Calls on one writer must not run concurrently. */
typedef struct kcb_summary_writer kcb_summary_writer;

/** Options of kcb_summary_writer_new; KCB_SUMMARY_WRITER_OPTIONS_INIT gives TensorFlow's defaults. */
typedef struct kcb_summary_writer_options {
  int max_queue;               /**< events queued before the writer thread is woken [10] */
  double flush_secs;           /**< the longest an event stays in memory, in seconds [120] */
  const char *filename_suffix; /**< appended to the file name, e.g. ".v2" [""] */
  int64_t purge_step;          /**< >= 0: a resumed run; write SessionLog START at this step first [-1] */
} kcb_summary_writer_options;
#define KCB_SUMMARY_WRITER_OPTIONS_INIT {10, 120.0, "", -1}

/** Creates the directory logdir (and its parents) if needed and a new event file in it, named
 * events.out.tfevents.<secs>.<host>.<pid>.<n><suffix>; its first record is
 * file_version "brain.Event:2" with source_metadata.
 * @param[out] out freed with kcb_summary_writer_free (which closes it).
 * @param opts NULL for defaults. @return 0, KCB_EINVAL (out NULL, logdir NULL or empty, max_queue < 0,
 *        flush_secs outside (0, 1e6]), KCB_ENOMEM or an I/O code naming the path. */
int kcb_summary_writer_new(kcb_summary_writer **out, const char *logdir, const kcb_summary_writer_options *opts);

/** The event file's path. Owned by the writer; NULL for a NULL writer. */
const char *kcb_summary_writer_path(const kcb_summary_writer *w);

/** Sets the wall time (seconds since the epoch) of the next events; 0 (default) uses the clock.
 * Useful for reproducible files and tests. */
void kcb_summary_writer_set_wall_time(kcb_summary_writer *w, double wall_time);

/** A scalar: rank-0 DT_FLOAT tensor, plugin "scalars", data class scalar (metadata on the tag's
 * first value only). @return 0, KCB_EINVAL (empty tag) or the writer's error. */
int kcb_summary_writer_add_scalar(kcb_summary_writer *w, const char *tag, double value, int64_t step);

/** The most buckets a histogram may have: 2.4 MB a record (a million would pass protobuf's 2 GiB
 * message limit long before TensorBoard could draw it). */
#define KCB_HISTOGRAM_MAX_BUCKETS 100000

/** A histogram of n values with TensorBoard's bucket rule: `buckets` equal-width buckets
 * (0 means TensorBoard's default, 30; at most KCB_HISTOGRAM_MAX_BUCKETS) from min to max; all
 * values equal: one bucket holds them all; no values: all-zero buckets. Written as a DT_DOUBLE
 * [k,3] tensor of rows [left, right, count], plugin "histograms". Non-finite values are rejected
 * (KCB_ENAN). */
int kcb_summary_writer_add_histogram(kcb_summary_writer *w, const char *tag, const float *values, size_t n,
                                     int buckets, int64_t step);

/** How a histogram is stored in the event file. Both hold the same buckets; TensorBoard's
 * Histograms and Distributions dashboards read both. */
typedef enum kcb_histogram_format {
  /** Summary.Value.histo, a HistogramProto (what TF1's tf.summary.histogram and PyTorch's
   * SummaryWriter write): min, max, num, sum, sum_squares and the buckets' right edges
   * (bucket_limit) with their counts; TensorBoard takes min as the first left edge. The exact sum
   * lets readers show the exact mean and standard deviation. */
  KCB_HISTOGRAM_PROTO = 0,
  /** A DT_DOUBLE [k,3] tensor of rows [left, right, count] with plugin "histograms": what Keras 3
   * (tf.summary.histogram in TF2) writes, byte for byte; it has no sum, so readers can only
   * estimate the mean from the bucket midpoints. */
  KCB_HISTOGRAM_TENSOR = 1
} kcb_histogram_format;

/** A histogram of n values with the same buckets as kcb_summary_writer_add_histogram, written as
 * a HistogramProto (KCB_HISTOGRAM_PROTO): min and max of the values, num = n, sum and sum_squares
 * summed in double in index order, bucket_limit = each bucket's right edge (the last one max),
 * bucket = the counts; no plugin metadata (as TF1 and PyTorch write it). No values: min = max = 0
 * and all-zero buckets. @return 0, KCB_EINVAL (empty tag, buckets < 0, values NULL with n > 0),
 * KCB_ENAN (a non-finite value), KCB_ENOMEM or the writer's error. */
int kcb_summary_writer_add_histogram_proto(kcb_summary_writer *w, const char *tag, const float *values, size_t n,
                                           int buckets, int64_t step);

/** A histogram from buckets you computed: k rows [left, right, count], row-major. */
int kcb_summary_writer_add_histogram_buckets(kcb_summary_writer *w, const char *tag, const double *rows, size_t k,
                                             int64_t step);

/** n images of height x width pixels with 1 (gray), 3 (RGB) or 4 (RGBA) 8-bit channels,
 * pixels (n, height, width, channels) row-major, encoded as PNG: DT_STRING tensor
 * [width, height, png...], plugin "images". @return 0, KCB_EINVAL or the writer's error. */
int kcb_summary_writer_add_images(kcb_summary_writer *w, const char *tag, const uint8_t *pixels, int n, int height,
                                  int width, int channels, int64_t step);

/** Markdown text: rank-0 DT_STRING tensor, plugin "text". */
int kcb_summary_writer_add_text(kcb_summary_writer *w, const char *tag, const char *text, int64_t step);

/** A clip of frames x channels float samples in [-1, 1] (interleaved), encoded as 16-bit PCM
 * WAV: DT_STRING [1, 2] tensor [wav, label], plugin "audio" with encoding WAV.
 * @return 0, KCB_EINVAL (channels not 1..8, sample_rate <= 0) or the writer's error. */
int kcb_summary_writer_add_audio(kcb_summary_writer *w, const char *tag, const float *samples, int64_t frames,
                                 int channels, double sample_rate, const char *label, int64_t step);

/** A SessionLog START event at step: the mark of a resumed run restarting at step. TensorBoard's
 * Python loader then discards the later points it read before (from the second START of a run on);
 * its data server ignores the mark and replaces a tag's points at steps >= s when step s is logged
 * again. */
int kcb_summary_writer_add_session_start(kcb_summary_writer *w, int64_t step);

/* ---- hparams (plugin "hparams", tags _hparams_/experiment, session_start_info, session_end_info) */

/** The type of a hyperparameter value. */
typedef enum kcb_hparam_type { KCB_HPARAM_NUMBER, KCB_HPARAM_STRING, KCB_HPARAM_BOOL } kcb_hparam_type;

/** One hyperparameter: a name and a number, a string or a boolean. */
typedef struct kcb_hparam {
  const char *name;
  kcb_hparam_type type;
  double number;      /* KCB_HPARAM_NUMBER */
  const char *string; /* KCB_HPARAM_STRING */
  int boolean;        /* KCB_HPARAM_BOOL */
} kcb_hparam;

/** A metric of the hparams table: the scalar `tag` in the run `<session run>/<group>`
 * (group "" for the session's own run, e.g. "train" or "validation" for the TensorBoard callback). */
typedef struct kcb_hparam_metric {
  const char *group;
  const char *tag;
} kcb_hparam_metric;

/** The experiment: which hyperparameters and metrics the hparams dashboard shows. */
int kcb_summary_writer_add_hparams_experiment(kcb_summary_writer *w, const kcb_hparam *hparams, size_t n_hparams,
                                              const kcb_hparam_metric *metrics, size_t n_metrics);

/** A session's start: its hyperparameter values. group_name may be NULL; start_time 0 = now. */
int kcb_summary_writer_add_hparams_session_start(kcb_summary_writer *w, const kcb_hparam *hparams, size_t n_hparams,
                                                 const char *group_name, double start_time);

/** Session status for kcb_summary_writer_add_hparams_session_end. */
typedef enum kcb_hparam_status {
  KCB_HPARAM_STATUS_UNKNOWN = 0, KCB_HPARAM_STATUS_SUCCESS = 1, KCB_HPARAM_STATUS_FAILURE = 2,
  KCB_HPARAM_STATUS_RUNNING = 3
} kcb_hparam_status;

/** A session's end. end_time 0 = now. */
int kcb_summary_writer_add_hparams_session_end(kcb_summary_writer *w, kcb_hparam_status status, double end_time);

/** Waits until everything added so far is written to the file. @return 0 or the writer's error. */
int kcb_summary_writer_flush(kcb_summary_writer *w);

/** Writes what is queued, closes the file and frees the writer. Accepts NULL.
 * @return 0 or the first error met (the writer is freed either way). */
int kcb_summary_writer_close(kcb_summary_writer *w);

/** Same as kcb_summary_writer_close, ignoring its result. Accepts NULL. */
void kcb_summary_writer_free(kcb_summary_writer *w);

#ifdef __cplusplus
}
#endif
#endif
