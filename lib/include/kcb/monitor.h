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

#ifdef __cplusplus
}
#endif

#endif
