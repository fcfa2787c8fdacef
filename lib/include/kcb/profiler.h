/* kcb/profiler.h — a trace of what training spends its time on, as Chrome trace-event JSON
 * (chrome://tracing, Perfetto's ui.perfetto.dev, and the trace_viewer# tool of TensorBoard's profile
 * plugin, which reads <host>.trace.json.gz): the TensorBoard callback's profile_batch fills
 * one with each traced batch's forward pass, backward pass, optimizer step, every callback hook
 * and the event writes (README "TensorBoard plugins"). */
#ifndef KCB_PROFILER_H
#define KCB_PROFILER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Spans (name, category, start, duration, thread lane) collected in memory. kcb_profiler_add may
 * be called from several threads at once; everything else from one. */
typedef struct kcb_profiler kcb_profiler;

/** Lanes of the trace (Chrome's tid): the training thread and the event writers' threads. */
enum { KCB_PROFILE_LANE_TRAINING = 1, KCB_PROFILE_LANE_WRITER = 2, KCB_PROFILE_LANE_BATCHES = 3 };

/** @param[out] out freed with kcb_profiler_free. @return 0 or KCB_ENOMEM. */
int kcb_profiler_new(kcb_profiler **out);

/** Frees a profiler. Accepts NULL. */
void kcb_profiler_free(kcb_profiler *p);

/** The clock of every span: seconds on CLOCK_MONOTONIC. */
double kcb_profiler_now(void);

/** Records a span from start to end (kcb_profiler_now seconds). name and category are copied
 * (truncated to 63 and 15 bytes); arg, if >= 0, is shown as the span's "batch"/"bytes" argument
 * (arg_name, a static string, names it; NULL for none). @return 0 or KCB_ENOMEM. */
int kcb_profiler_add(kcb_profiler *p, const char *name, const char *category, double start, double end, int lane,
                     const char *arg_name, int64_t arg);

/** The number of spans recorded. */
size_t kcb_profiler_count(const kcb_profiler *p);

/** Writes the trace as Chrome trace-event JSON ({"traceEvents": [complete "X" events, ts and dur in
 * microseconds from the first span, pid 1, tid the lane], thread names as "M" events}), gzip-
 * compressed when path ends in ".gz" (both viewers open either), replacing path atomically and
 * creating its directory. @return 0, KCB_EINVAL (no spans), KCB_ENOMEM or an I/O error. */
int kcb_profiler_write(const kcb_profiler *p, const char *path);

#ifdef __cplusplus
}
#endif
#endif
