/* kcb/run_summary.h — what a TensorBoard run holds, in one fast pass over its event files: every
 * tag with its plugin, kind, count and step range, and each scalar's series and first / last /
 * min / max. Built for tools that list or chart runs (kcb-inspect) over gigabytes of logs: records
 * are CRC-checked and only the fields a summary needs are read from them (tensor payloads of
 * histograms and images are skipped, not decoded). kcb/tfevents.h's reader decodes everything. */
#ifndef KCB_RUN_SUMMARY_H
#define KCB_RUN_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "kcb/tfevents.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How a scalar tag's values were stored, so that tools print integers as integers. */
typedef enum kcb_scalar_type {
  KCB_SCALAR_FLOAT = 0, /**< a float value (simple_value, DT_FLOAT, DT_DOUBLE, ...) came, or the tag is
                             no scalar: the doubles are the values */
  KCB_SCALAR_INT,       /**< every value a one-element integer tensor (DT_INT8..DT_INT64, DT_UINT8..
                             DT_UINT64 up to INT64_MAX, DT_BOOL as 0 / 1): the *_int fields are exact */
  KCB_SCALAR_UINT       /**< the same, with a DT_UINT64 value above INT64_MAX and none negative: the
                             *_int fields hold uint64_t values (convert them back to read them) */
} kcb_scalar_type;

/** One tag of a run. Every pointer is owned by the kcb_run_summary it belongs to. */
typedef struct kcb_run_tag {
  const char *tag;
  const char *plugin;        /**< plugin of the first metadata seen for the tag ("" when none) */
  kcb_summary_kind kind;     /**< from the tag's first value (as kcb_event_reader would report it) */
  uint64_t count;            /**< values recorded under the tag (a scalar tag's: those its series
                                  keeps, see n_points) */
  int64_t first_step, last_step; /**< of the first and last value counted, in file order */
  int64_t min_step, max_step;
  double first_wall_time, last_wall_time;
  /* KCB_SUMMARY_SCALAR tags (NaN otherwise): first and last value, and the least and greatest
   * value that is not NaN (NaN when every value is NaN) */
  double first, last, min, max;
  /* KCB_SUMMARY_SCALAR tags with keep_series: the points, in file order, as TensorBoard's data
   * server keeps them (a point at step s evicts the points of the tag read before it at steps >= s:
   * a restarted run's re-logged steps replace the old ones) */
  size_t n_points;
  const int64_t *steps;      /**< (n_points) */
  const double *wall_times;  /**< (n_points) */
  const double *values;      /**< (n_points) */
  /* Integer scalars: a double rounds int64 values beyond 2^53 (2^53 + 1 reads as 2^53), so a tag
   * whose every value came as an integer tensor (tf.summary.scalar of an int, a DT_INT64
   * tensor_proto) keeps them exactly here too; the doubles above stay the nearest doubles. */
  kcb_scalar_type value_type;                 /**< KCB_SCALAR_FLOAT: the fields below are unused */
  int64_t first_int, last_int, min_int, max_int; /**< exact first / last / least / greatest value */
  const int64_t *int_values; /**< (n_points) the exact points with keep_series; NULL for float tags */
} kcb_run_tag;

/** A run read by kcb_run_summary_read. */
typedef struct kcb_run_summary {
  const char *path;          /**< the run directory or event file that was read */
  size_t n_files;            /**< event files read */
  uint64_t n_events;         /**< whole records with correct CRCs */
  uint64_t n_bytes;          /**< bytes of those records */
  double first_wall_time, last_wall_time; /**< of the events (NaN when there are none) */
  uint64_t n_session_starts; /**< SessionLog START events: a restarted run (see keep_series) */
  const kcb_run_tag *tags;   /**< (n_tags) sorted by tag */
  size_t n_tags;
  /* The first problem met (KCB_ETRUNC, KCB_ECRC or KCB_EFORMAT; 0 if none). As with
   * kcb_event_reader_next, everything before it was read; after a truncated or corrupt record
   * the run's next file is read, after a record that is not an Event the next record. */
  int problem;
  char problem_message[320]; /**< names the file and the offset */
  uint64_t n_graphs;         /**< events holding a graph (Event.graph_def or meta_graph_def), which
                                  TensorBoard's Graphs tab shows; they carry no tag */
} kcb_run_summary;

/** What kcb_run_summary_read collects. */
typedef struct kcb_run_summary_options {
  const char *tag;  /**< NULL: every tag; else only this tag (the others are counted as events only) */
  int keep_series;  /**< 1: keep the scalar points (steps, wall times, values) [1]; 0: only the
                         counts, steps and first / last / min / max (a restarted run is read
                         with its points, then they are let go) */
} kcb_run_summary_options;
#define KCB_RUN_SUMMARY_OPTIONS_INIT {NULL, 1}

/** Reads a run: an event file, or every event file directly inside a directory (sorted, as
 * kcb_tfevents_list_files lists them). Problems inside the files do not fail the call: they are
 * reported in (*out)->problem.
 * @param[out] out freed with kcb_run_summary_free; NULL on error.
 * @param opts NULL for KCB_RUN_SUMMARY_OPTIONS_INIT.
 * @return 0, KCB_ENOENT / KCB_EIO (naming the path), KCB_ENOMEM. */
int kcb_run_summary_read(kcb_run_summary **out, const char *path, const kcb_run_summary_options *opts);

/** The tag named tag. @return a pointer owned by s, or NULL if the run has no such tag. */
const kcb_run_tag *kcb_run_summary_find(const kcb_run_summary *s, const char *tag);

/** Frees a summary. Accepts NULL. */
void kcb_run_summary_free(kcb_run_summary *s);

#ifdef __cplusplus
}
#endif
#endif
