/* kcb/tb_plugins.h — what TensorBoard shows beyond Keras's callback: PR curves (plugin
 * "pr_curves"), a custom-scalars layout (plugin "custom_scalars"), and embeddings for the
 * projector (projector_config.pbtxt with tensor, metadata and sprite files). spec/tfevents.md
 * §3.7, §3.9, §3.10; README "TensorBoard plugins". */
#ifndef KCB_TB_PLUGINS_H
#define KCB_TB_PLUGINS_H

#include <stddef.h>
#include <stdint.h>

#include "kcb/summary_writer.h"
#include "kcb/tfevents.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- PR curves ---------------------------------------------------------------------------- */

/** TensorBoard's default number of thresholds (its pr_curve summary's _DEFAULT_NUM_THRESHOLDS). */
#define KCB_PR_CURVE_DEFAULT_THRESHOLDS 201
/** The most thresholds kcb accepts (the tensor is 6 x num_thresholds floats). */
#define KCB_PR_CURVE_MAX_THRESHOLDS 100000

/** Rows of a PR curve tensor, in TensorBoard's order. */
enum { KCB_PR_TP = 0, KCB_PR_FP = 1, KCB_PR_TN = 2, KCB_PR_FN = 3, KCB_PR_PRECISION = 4, KCB_PR_RECALL = 5 };

/** Computes a PR curve as TensorBoard's pr_curve summary does: threshold i is
 * i / (num_thresholds - 1); a prediction p falls in bucket floor(p * (num_thresholds - 1))
 * (float32 arithmetic); TP[i] / FP[i] sum the (weighted) positives / negatives in buckets >= i;
 * TN = FP[0] - FP, FN = TP[0] - TP; precision = TP / max(1e-7, TP + FP), recall = TP / max(1e-7,
 * TP + FN). Sample k's label is labels[k * label_stride] != 0 and its prediction
 * predictions[k * pred_stride] (strides let one call take a column of a (n, classes) array).
 * @param out (6, num_thresholds) row-major: TP, FP, TN, FN, precision, recall.
 * @param weights NULL (all 1) or n weights >= 0, stride 1.
 * @return 0, or KCB_EINVAL (num_thresholds < 2 or too large, a prediction not in [0, 1] or not
 * finite, a negative or non-finite weight; the message names the sample). */
int kcb_pr_curve_compute(float *out, int num_thresholds, const float *labels, size_t label_stride,
                         const float *predictions, size_t pred_stride, const float *weights, size_t n);

/** The area under a PR curve (precision over recall): trapezoids between consecutive thresholds
 * that some prediction reaches (recall falls from 1 as the threshold rises), the last one carried
 * to recall 0 at its precision; what kcb-inspect reports as AUC. data as kcb_pr_curve_compute
 * writes; NaN for no data. */
double kcb_pr_curve_auc(const float *data, int num_thresholds);

/** Writes a PR curve you computed: DT_FLOAT tensor [6, num_thresholds] (rows TP, FP, TN, FN,
 * precision, recall), plugin "pr_curves" with PrCurvePluginData{version 0, num_thresholds},
 * data class tensor. @return 0, KCB_EINVAL or the writer's error. */
int kcb_summary_writer_add_pr_curve_raw(kcb_summary_writer *w, const char *tag, const float *data, int num_thresholds,
                                        int64_t step);

/** Computes (kcb_pr_curve_compute, stride 1) and writes a binary classifier's PR curve.
 * @param num_thresholds 0 for KCB_PR_CURVE_DEFAULT_THRESHOLDS. */
int kcb_summary_writer_add_pr_curve(kcb_summary_writer *w, const char *tag, const float *labels,
                                    const float *predictions, const float *weights, size_t n, int num_thresholds,
                                    int64_t step);

/** One-vs-rest PR curves of a classifier: for each class c, tag "<prefix><class_names[c]>" (or
 * "<prefix><c>" when class_names is NULL), labels class_index == c, predictions column c.
 * @param class_index n class indices (as floats, 0..n_classes-1).
 * @param probabilities (n, n_classes) row-major, each in [0, 1].
 * @return 0, KCB_EINVAL (a class index out of range, as kcb_pr_curve_compute; two classes of one
 * name; a name that makes a tag not valid UTF-8) or the writer's error. */
int kcb_summary_writer_add_pr_curves_multiclass(kcb_summary_writer *w, const char *tag_prefix,
                                                const char *const *class_names, size_t n_classes,
                                                const float *class_index, const float *probabilities, size_t n,
                                                int num_thresholds, int64_t step);

/** A PR curve read back from a summary value (kind KCB_SUMMARY_TENSOR, plugin "pr_curves"). */
typedef struct kcb_pr_curve_view {
  int num_thresholds;  /**< the tensor's width, as TensorBoard takes it (not the plugin data's) */
  const uint8_t *data; /**< (6, num_thresholds) little-endian float32, inside the value */
} kcb_pr_curve_view;

/** Checks that v is a PR curve as TensorBoard reads it (plugin "pr_curves", a DT_FLOAT [6, T]
 * tensor: T thresholds, whatever the plugin data's num_thresholds and version say) and points out
 * at it.
 * @return 0, or KCB_EFORMAT saying what is wrong. */
int kcb_pr_curve_from_value(const kcb_summary_value *v, kcb_pr_curve_view *out);

/** Value i of row `row` of a PR curve view. */
float kcb_pr_curve_view_get(const kcb_pr_curve_view *pr, int row, int i);

/* ---- custom scalars ------------------------------------------------------------------------- */

/** A margin chart's series: the value tag and the tags of its lower and upper bounds. */
typedef struct kcb_margin_series {
  const char *value, *lower, *upper;
} kcb_margin_series;

/** One chart: multiline (n_tags tag regular expressions; the plugin uses Python's re.match, anchored
 * at the start of the tag only: end one with "$" to match whole tags) or, when n_series > 0, a margin
 * chart. */
typedef struct kcb_custom_chart {
  const char *title;
  const char *const *tags;
  size_t n_tags;
  const kcb_margin_series *series;
  size_t n_series;
} kcb_custom_chart;

/** A category: a collapsible group of charts. */
typedef struct kcb_custom_category {
  const char *title;
  const kcb_custom_chart *charts;
  size_t n_charts;
  int closed; /**< collapsed at first */
} kcb_custom_category;

/** Writes the custom-scalars layout: tag "custom_scalars__config__", rank-0 DT_STRING tensor
 * holding the serialized Layout{version 0, categories}, plugin "custom_scalars" (TensorBoard
 * merges the layouts of all runs). @return 0, KCB_EINVAL (no categories, a chart with neither
 * tags nor series or with both, a NULL string) or the writer's error. */
int kcb_summary_writer_add_custom_scalars(kcb_summary_writer *w, const kcb_custom_category *categories,
                                          size_t n_categories, int64_t step);

/** The default layout kcb-train writes for the metric names of a fit (e.g. "loss", "accuracy"):
 * one category "metrics (train and validation)" with one multiline chart per metric, showing the
 * train and validation curves of epoch_<metric> together (TensorBoard's tags are per run, so one
 * regex "epoch_<metric>$" covers both runs' lines).
 * @return as kcb_summary_writer_add_custom_scalars. */
int kcb_summary_writer_add_default_layout(kcb_summary_writer *w, const char *const *metrics, size_t n_metrics);

/** A layout read back: kcb-inspect's summary of one. */
typedef struct kcb_custom_layout_info {
  size_t n_categories, n_charts, n_multiline, n_margin;
} kcb_custom_layout_info;

/** Parses a serialized Layout (the string of a "custom_scalars__config__" value) and calls fn for
 * each chart (category title, chart title, kind "multiline" or "margin", its tags or value tags
 * joined by ", "). fn may be NULL. @return 0 or KCB_EFORMAT / KCB_ENOMEM. */
int kcb_custom_layout_parse(const kcb_bytes *layout, kcb_custom_layout_info *out,
                            void (*fn)(void *ctx, const char *category, const char *chart, const char *kind,
                                       const char *tags),
                            void *ctx);

/* ---- embeddings projector ------------------------------------------------------------------- */

/** Sprite sheets: TensorBoard's projector refuses images larger than this on either side. */
#define KCB_PROJECTOR_MAX_SPRITE_PX 8192
/** The projector loads at most this many points of a tensor (its LIMIT_NUM_POINTS). */
#define KCB_PROJECTOR_MAX_POINTS 100000

/** The tensor file's format. The projector reads a tensor file as TSV, or, when the file is not
 * valid UTF-8, as raw little-endian float32 of the config's tensor_shape. */
typedef enum kcb_projector_format {
  KCB_PROJECTOR_BINARY, /**< raw float32 (falls back to TSV in the rare case the bytes are valid UTF-8) */
  KCB_PROJECTOR_TSV     /**< one row per line, values tab-separated, shortest round-trip text */
} kcb_projector_format;

/** One embedding: a (rows, dims) tensor, optional metadata columns and an optional sprite. */
typedef struct kcb_embedding {
  const char *name;             /**< tensor_name, and the subdirectory of its files */
  const float *data;            /**< (rows, dims) row-major, finite */
  size_t rows, dims;
  /* or, instead of data, one pointer per row with its length (each must be dims: ragged rows are
   * an error) */
  const float *const *row_data;
  const size_t *row_lengths;
  /* metadata: n_columns columns of metadata_rows strings each (must be rows; no tab, newline or
   * carriage return); one column is written without a header, several with a header row */
  const char *const *column_names; /**< n_columns names */
  const char *const *const *columns; /**< columns[c][r] */
  size_t n_columns, metadata_rows;
  /* sprite: rows images of image_height x image_width x image_channels (1, 3 or 4) bytes, laid out
   * in a square of ceil(sqrt(rows)) images per side, at most KCB_PROJECTOR_MAX_SPRITE_PX wide */
  const uint8_t *images;
  int image_height, image_width, image_channels;
} kcb_embedding;

/** Options of kcb_projector_write. */
typedef struct kcb_projector_options {
  kcb_projector_format format; /**< [KCB_PROJECTOR_BINARY] */
  int png_level;               /**< zlib level of the sprite PNG, 0-9 [1: fast; sprites are written once] */
} kcb_projector_options;
#define KCB_PROJECTOR_OPTIONS_INIT {KCB_PROJECTOR_BINARY, 1}

/** Writes n embeddings for TensorBoard's projector into run_dir (created if needed):
 * run_dir/<name>/tensor.bin (or tensor.tsv), metadata.tsv, sprite.png, and
 * run_dir/projector_config.pbtxt naming them by paths relative to run_dir (the projector refuses
 * paths outside the config's directory). run_dir should be a run TensorBoard knows (a directory
 * with an event file, e.g. <logdir>/train) or the log directory itself. Every file is replaced
 * atomically; the config is written last.
 * @return 0, KCB_EINVAL (empty or duplicate or path-like name, no rows, a non-finite value, a
 * metadata column with too few values or a tab or newline in one, an empty value in a single
 * column (the projector skips empty lines), more than KCB_PROJECTOR_MAX_POINTS rows, a sprite
 * wider than KCB_PROJECTOR_MAX_SPRITE_PX; the message names the embedding, column and row),
 * KCB_ENOMEM or an I/O error naming the file. */
int kcb_projector_write(const char *run_dir, const kcb_embedding *embeddings, size_t n,
                        const kcb_projector_options *opts);

/** What kcb-inspect reports of one embedding of a projector config. */
typedef struct kcb_projector_embedding_info {
  char tensor_name[256];
  char tensor_path[1024];    /**< as written in the config */
  long long rows, dims;      /**< tensor_shape, or counted from a TSV tensor; -1 unknown */
  char format[8];            /**< "binary", "tsv" or "" (no tensor file) */
  long long metadata_rows;   /**< -1: no metadata file */
  size_t n_metadata_columns;
  char metadata_columns[512];/**< the header's names joined by ", " ("label" for one column) */
  int sprite_width, sprite_height;           /**< the sprite PNG's size; 0 when none */
  int single_image_width, single_image_height;
  char problem[512];         /**< "" or what TensorBoard would stumble on */
} kcb_projector_embedding_info;

/** Reads run_dir/projector_config.pbtxt (text format, the fields kcb writes and TensorBoard's
 * others ignored) and looks at the files it names. @param[out] out a malloc'd array, freed with
 * free(). @return 0, KCB_ENOENT (no config), KCB_EFORMAT or KCB_ENOMEM. */
int kcb_projector_read(const char *run_dir, kcb_projector_embedding_info **out, size_t *n);

#ifdef __cplusplus
}
#endif
#endif
