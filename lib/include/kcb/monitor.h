/* kcb/monitor.h — the monitored quantity shared by EarlyStopping, ReduceLROnPlateau and
 * ModelCheckpoint: which log entry to watch and in which direction it improves. */
#ifndef KCB_MONITOR_H
#define KCB_MONITOR_H

#ifdef __cplusplus
extern "C" {
#endif

/** How a monitored value improves. AUTO takes the direction from the metric, as Keras 3 does:
 * "loss" and losses/errors decrease, accuracies increase (after stripping a leading "val_"). */
typedef enum kcb_monitor_mode { KCB_MONITOR_AUTO, KCB_MONITOR_MIN, KCB_MONITOR_MAX } kcb_monitor_mode;

/** Parses "auto", "min" or "max".
 * @param[out] out the mode
 * @return 0 or KCB_EINVAL (the message names the bad value) */
int kcb_monitor_mode_from_name(kcb_monitor_mode *out, const char *name);

/** @return "auto", "min" or "max" (a static string), or "?" for an invalid value. */
const char *kcb_monitor_mode_name(kcb_monitor_mode mode);

/** Which way a logged value improves, from its name alone, for a log read without its model
 * (a CSV file, checkpoints to rank): Keras 3's direction for the names its metrics log by default
 * (after a leading "val_" and a trailing "_N" Keras adds to a repeated name): up for the
 * accuracies, precision, recall, auc, the *_at_* metrics, f1_score, fbeta_score, the IoUs
 * ("io_u", "mean_io_u", ...), pearson_correlation, concordance_correlation, cosine_similarity and
 * r2_score; down for "loss", the errors, crossentropies, hinges, kl_divergence, poisson and
 * logcosh. Other names: a name ending in loss, error, crossentropy or hinge goes down, one holding
 * acc, auc, precision, recall or f1 up.
 * @return KCB_MONITOR_MAX, KCB_MONITOR_MIN, or KCB_MONITOR_AUTO when the name does not say (Keras
 *         itself would need mode min or max) */
kcb_monitor_mode kcb_monitor_mode_for_name(const char *name);

#ifdef __cplusplus
}
#endif

#endif
