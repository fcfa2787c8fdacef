/* kcb/tfevents.h — read TensorBoard event files written by kcb, TensorFlow, PyTorch or
 * TensorBoard: runs of a log directory, events of a file or a run, every summary kind decoded,
 * and a CRC-only validation pass (spec/tfevents.md §1, §3, §4). */
#ifndef KCB_TFEVENTS_H
#define KCB_TFEVENTS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A borrowed byte range. */
typedef struct kcb_bytes {
  const uint8_t *data;
  size_t len;
} kcb_bytes;

/** What a summary value holds, from its plugin (or, for legacy values, its oneof member). */
typedef enum kcb_summary_kind {
  KCB_SUMMARY_UNKNOWN = 0, /**< no value, or a legacy form kcb does not decode */
  KCB_SUMMARY_SCALAR,      /**< `scalar` */
  KCB_SUMMARY_HISTOGRAM,   /**< `buckets`, `hist_*` */
  KCB_SUMMARY_IMAGE,       /**< `blobs` (encoded images), `width`, `height`, `colorspace` */
  KCB_SUMMARY_TEXT,        /**< `blobs` (the strings, row-major) and the tensor's shape */
  KCB_SUMMARY_AUDIO,       /**< `blobs` (encoded clips), `sample_rate`... */
  KCB_SUMMARY_TENSOR,      /**< any other tensor: `dtype`, `shape`, `tensor_content` */
  KCB_SUMMARY_HPARAMS      /**< `hp_*` */
} kcb_summary_kind;

/** The name of a kind: "scalar", "histogram", "image", "text", "audio", "tensor", "hparams",
 * "unknown". @return a static string. */
const char *kcb_summary_kind_name(kcb_summary_kind kind);

/** TensorFlow DataType numbers of the dtypes summaries use. */
enum {
  KCB_DT_FLOAT = 1, KCB_DT_DOUBLE = 2, KCB_DT_INT32 = 3, KCB_DT_UINT8 = 4, KCB_DT_INT16 = 5, KCB_DT_INT8 = 6,
  KCB_DT_STRING = 7, KCB_DT_INT64 = 9, KCB_DT_BOOL = 10, KCB_DT_BFLOAT16 = 14, KCB_DT_UINT16 = 17,
  KCB_DT_HALF = 19, KCB_DT_UINT32 = 22, KCB_DT_UINT64 = 23
};

/** One histogram bucket: [left, right) holding count values (the last bucket is closed). */
typedef struct kcb_histogram_bucket {
  double left, right, count;
} kcb_histogram_bucket;

/** Which hparams message a KCB_SUMMARY_HPARAMS value holds. */
typedef enum kcb_hparams_kind {
  KCB_HPARAMS_NONE = 0, KCB_HPARAMS_EXPERIMENT, KCB_HPARAMS_SESSION_START, KCB_HPARAMS_SESSION_END
} kcb_hparams_kind;

/** A hyperparameter value read back: its type is 0 number, 1 string, 2 bool (kcb_hparam_type's
 * numbering), 3 other (list, struct or null). */
typedef struct kcb_hparam_value {
  const char *name;
  int type;
  double number;
  const char *string;
  int boolean;
} kcb_hparam_value;

/** One Summary.Value, decoded. Every pointer is owned by the reader and valid until the next
 * kcb_event_reader_next call. */
typedef struct kcb_summary_value {
  const char *tag;
  kcb_summary_kind kind;
  /* metadata: this value's own, else the first one seen for the tag in this run (TensorBoard
   * keeps only the first, spec §4.6) */
  const char *plugin_name;   /**< the tag's plugin ("" when none): its first value's metadata
                                  decides it for every later value, as TensorBoard keeps it */
  kcb_bytes plugin_content;  /**< serialized plugin data */
  int data_class;            /**< 0 unknown, 1 scalar, 2 tensor, 3 blob sequence */
  int has_metadata;          /**< 1 if this value carried metadata itself */
  /* KCB_SUMMARY_SCALAR: simple_value, or a one-element tensor of any float or integer dtype */
  double scalar;
  /* KCB_SUMMARY_HISTOGRAM: from a [k,3] tensor (TF2) or a HistogramProto (legacy, converted as
   * TensorBoard's Python loader does: empty buckets at both ends dropped, the first kept bucket
   * starting at min and the last ending at max, inner edges from bucket_limit) */
  const kcb_histogram_bucket *buckets;
  size_t n_buckets;
  double hist_min, hist_max, hist_num; /**< from the proto, else from the buckets */
  double hist_sum, hist_sum_squares;   /**< from a HistogramProto; NaN for tensors */
  /* KCB_SUMMARY_IMAGE / AUDIO / TEXT: the blobs (encoded images, WAV clips, strings) */
  const kcb_bytes *blobs;
  size_t n_blobs;
  int width, height, colorspace;       /**< images (colorspace only for legacy images; else 0; a
                                            width or height the record does not give as a whole
                                            number of at most 9 digits is 0) */
  double sample_rate;                  /**< legacy audio; 0 if unknown */
  int64_t num_channels, length_frames; /**< legacy audio */
  const kcb_bytes *labels;             /**< TF2 audio: column 1 of the [k,2] tensor; n_blobs entries or NULL */
  /* tensors (every kind that came as a TensorProto): dtype, shape and the values as
   * little-endian bytes (typed *_val fields are converted; DT_STRING values are in blobs) */
  int dtype;
  int rank;
  const int64_t *shape;
  kcb_bytes tensor_content;
  /* KCB_SUMMARY_HPARAMS */
  kcb_hparams_kind hp_kind;
  const kcb_hparam_value *hp_values;   /**< experiment: the hparam names and types; session start: values */
  size_t n_hp_values;
  const char *const *hp_metric_groups; /**< experiment: metric (group, tag) pairs */
  const char *const *hp_metric_tags;
  size_t n_hp_metrics;
  const char *hp_group_name;           /**< session start */
  int hp_status;                       /**< session end: 0 unknown, 1 success, 2 failure, 3 running */
  double hp_time;                      /**< experiment created / session start / end time */
  const char *const *hp_metric_display_names; /**< experiment: each metric's display_name ("" when none) */
} kcb_summary_value;

/** One event. Owned by the reader; valid until the next kcb_event_reader_next call. */
typedef struct kcb_event {
  const char *file;         /**< the event file it came from */
  uint64_t offset;          /**< of its record in that file */
  kcb_bytes record;         /**< the serialized Event */
  double wall_time;
  int64_t step;
  const char *file_version; /**< e.g. "brain.Event:2", or NULL */
  const char *source_writer;/**< source_metadata.writer, or NULL */
  int session_status;       /**< SessionLog status (1 START, 2 STOP, 3 CHECKPOINT), or -1 if none */
  const char *session_msg, *checkpoint_path;
  kcb_bytes graph_def;      /**< serialized GraphDef, len 0 if none */
  const kcb_summary_value *values;
  size_t n_values;
} kcb_event;

/** Reads the events of one event file, or of every event file directly inside a run directory
 * in TensorBoard's order (sorted names). Both CRCs of every record are verified. */
typedef struct kcb_event_reader kcb_event_reader;

/** Opens path: an event file, or a directory whose files with "tfevents" in their name are read
 * in sorted order. @param[out] out freed with kcb_event_reader_free.
 * @return 0, KCB_ENOENT, KCB_EIO or KCB_ENOMEM (naming the path). */
int kcb_event_reader_open(kcb_event_reader **out, const char *path);

/** The next event. @param[out] out set to the event (owned by the reader) when 1 is returned.
 * @return 1 an event, 0 no more events, or an error naming the file and the record's offset:
 * KCB_ETRUNC (the file ends inside a record: a writer still writing it, or a crash),
 * KCB_ECRC (a length or data CRC mismatch), KCB_EFORMAT (a record that is not an Event).
 * Every record before the bad one was returned; after KCB_ETRUNC or KCB_ECRC the reader moves
 * on to the run's next file, after KCB_EFORMAT to the next record. */
int kcb_event_reader_next(kcb_event_reader *r, const kcb_event **out);

/** Frees a reader. Accepts NULL. */
void kcb_event_reader_free(kcb_event_reader *r);

/** The result of kcb_event_file_validate. */
typedef struct kcb_event_file_check {
  uint64_t records;    /**< whole records with matching CRCs before the first problem */
  uint64_t bytes_ok;   /**< bytes those records occupy */
  uint64_t file_size;
  int problem;         /**< 0, KCB_ETRUNC or KCB_ECRC */
  uint64_t problem_offset;
  char message[320];   /**< "" or e.g. "run/events...: data CRC mismatch in the record at offset 1234" */
} kcb_event_file_check;

/** Checks the framing and both CRCs of every record of an event file, without decoding.
 * @param[out] out filled in every case. @return 0 (whole and correct), the problem found
 * (KCB_ETRUNC, KCB_ECRC; the error message names the file and offset), or KCB_ENOENT / KCB_EIO. */
int kcb_event_file_validate(const char *path, kcb_event_file_check *out);

/** The runs under logdir as TensorBoard finds them: every directory (logdir itself included, as
 * ".") that directly holds a file with "tfevents" in its name; names relative to logdir, sorted.
 * A directory below logdir that the user may not open (permissions) is passed over, as TensorBoard's
 * data server passes over it with a warning; another failure to open one (too many open files, a
 * name too long) is an error.
 * @param[out] out_runs a malloc'd array of malloc'd strings, freed with kcb_string_list_free.
 * @return 0, KCB_ENOENT, KCB_EIO or KCB_ENOMEM. */
int kcb_tfevents_list_runs(const char *logdir, char ***out_runs, size_t *out_count);

/** The event files directly inside run_dir, full paths, in TensorBoard's (sorted) order.
 * @param[out] out_files freed with kcb_string_list_free. @return as kcb_tfevents_list_runs. */
int kcb_tfevents_list_files(const char *run_dir, char ***out_files, size_t *out_count);

/** Frees a list from kcb_tfevents_list_runs / _files. Accepts NULL. */
void kcb_string_list_free(char **list, size_t count);

/** CRC-32C of n bytes (Castagnoli; the CPU instruction when present). */
uint32_t kcb_crc32c(const void *data, size_t n);

/** TFRecord's masked CRC: rotate right 15, add 0xA282EAD8. */
uint32_t kcb_crc32c_masked(const void *data, size_t n);

#ifdef __cplusplus
}
#endif
#endif
