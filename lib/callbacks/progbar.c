/* callbacks/progbar.c — Keras 3's ProgbarLogger and utils.Progbar, byte for byte.
 *
 * verbose 1 on a terminal redraws "\b"*width + "\r" + bar + info at most every 50 ms, as Keras
 * does; on anything else (a kcb choice, so log files stay readable) it prints only each bar's final
 * line, uncoloured. verbose 2 prints the final line of each bar in Keras's terse layout. The
 * terminal bar is coloured as Keras's unless NO_COLOR is set or TERM is dumb (or unset). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define BAR_WIDTH 20
#define UPDATE_INTERVAL 0.05 /* seconds between non-final redraws (Progbar's interval) */
/* A bar remembers every key it was ever given, even when later logs lack it (as Keras's
 * _values_order); keys beyond this are not shown. */
#define MAX_VALUES (2 * KCB_LOGS_CAPACITY)
/* Room for the bar plus MAX_VALUES " - key: value" items; "%.4f" of DBL_MAX is 315 characters. */
#define LINE_CAP (256 + MAX_VALUES * (KCB_LOGS_KEY_MAX + 330))

typedef enum line_style { STYLE_TERMINAL, STYLE_PLAIN, STYLE_VERBOSE2 } line_style;

typedef struct progbar {
  kcb_callback base;
  FILE *stream;
  int dynamic;        /* 1 terminal, 0 plain, -1 isatty(stream) */
  double (*now)(void);
  int in_fit;         /* set by on_train_begin: validation inside fit is silent */
  int64_t target;     /* steps; <= 0 unknown until the first bar ends (then kept, as Keras) */
  int64_t seen;
  /* The current bar (a Progbar object in Keras); has_bar is 0 where Keras's is None. */
  int has_bar;
  double start, last_update, time_after_first_step; /* the last is NAN until step 1 is seen */
  size_t prev_width;  /* visible characters of the previous redraw, erased by as many "\b" */
  size_t nvalues;
  struct { char key[KCB_LOGS_KEY_MAX]; double value; } values[MAX_VALUES];
  size_t len;
  char line[LINE_CAP];
} progbar;

static double monotonic_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the line text --------------------------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void put(progbar *pb, const char *fmt, ...) {
  size_t room = sizeof pb->line - pb->len;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(pb->line + pb->len, room, fmt, ap);
  va_end(ap);
  if (n > 0) pb->len += (size_t)n < room ? (size_t)n : room - 1;
}

static void put_bar_run(progbar *pb, int n) {
  for (int i = 0; i < n; i++) put(pb, "%s", "\xe2\x94\x81"); /* U+2501 "━" */
}

/* Python's `a // b` for the positive a the ETA branches see. */
static long long floor_div(double a, double b) { return (long long)((a - fmod(a, b)) / b); }

/* Progbar's ETA: "%d:%02d:%02d" over an hour, "%d:%02d" over a minute, else "%ds"; Python's %d
 * truncates the float. */
static void put_eta(progbar *pb, double eta) {
  if (!(fabs(eta) < 1e15)) eta = 0; /* NaN or absurd: keep the integer conversions defined */
  if (eta > 3600)
    put(pb, "%lld:%02lld:%02lld", floor_div(eta, 3600), floor_div(fmod(eta, 3600), 60),
        (long long)fmod(eta, 60));
  else if (eta > 60)
    put(pb, "%lld:%02lld", floor_div(eta, 60), (long long)fmod(eta, 60));
  else
    put(pb, "%llds", (long long)eta);
}

/* Progbar._format_time with unit_name "step". */
static void put_time_per_step(progbar *pb, double t) {
  if (t >= 1 || t == 0) put(pb, " %.0fs/step", t);
  else if (t >= 1e-3) put(pb, " %.0fms/step", t * 1e3);
  else put(pb, " %.0fus/step", t * 1e6);
}

/* Whether a terminal bar may be coloured: not with NO_COLOR set to anything but "" (no-color.org),
 * nor for TERM=dumb or no TERM at all; read at each redraw, so a program may change it. */
static int colour_allowed(void) {
  const char *no = getenv("NO_COLOR"), *term = getenv("TERM");
  return !(no && no[0]) && term && term[0] && strcmp(term, "dumb") != 0;
}

/* Builds the line without the redraw prefix, padding or newline into pb->line. */
static void format_line(progbar *pb, line_style style, int64_t current, int finalize, double now,
                        double time_per_step) {
  const int ansi = style == STYLE_TERMINAL && colour_allowed();
  const char *bold = ansi ? "\x1b[1m" : "", *reset = ansi ? "\x1b[0m" : "";
  const char *green = ansi ? "\x1b[32m" : "", *white = ansi ? "\x1b[37m" : "";
  long long cur = (long long)current, tgt = (long long)pb->target;
  int digits = tgt > 0 ? (int)log10((double)tgt) + 1 : 0;
  pb->len = 0;
  if (style == STYLE_VERBOSE2) {
    put(pb, "%*lld/%lld - %.0fs -", digits, cur, tgt, now - pb->start);
  } else {
    if (tgt > 0) {
      put(pb, "%s%*lld/%lld%s ", bold, digits, cur, tgt, reset);
      /* Keras would draw past 20 when current > target; capping keeps the line bounded. */
      int done = (int)fmin(BAR_WIDTH * ((double)cur / (double)tgt), BAR_WIDTH);
      if (done > 0) {
        put(pb, "%s", green);
        put_bar_run(pb, done);
        put(pb, "%s", reset);
      }
      put(pb, "%s", white);
      put_bar_run(pb, BAR_WIDTH - done);
      put(pb, "%s", reset);
    } else {
      put(pb, "%7lld/Unknown", cur);
    }
    put(pb, " %s", bold);
    if (tgt > 0 && !finalize) put_eta(pb, time_per_step * (double)(tgt - cur));
    else put(pb, "%.0fs", now - pb->start);
    put(pb, "%s", reset);
  }
  put_time_per_step(pb, time_per_step);
  for (size_t i = 0; i < pb->nvalues; i++) {
    double v = pb->values[i].value;
    /* verbose 2 tests v itself, not |v|, so negative values print in e format (a Keras quirk). */
    int fixed = (style == STYLE_VERBOSE2 ? v : fabs(v)) > 1e-3;
    if (isnan(v)) put(pb, " - %s: nan", pb->values[i].key); /* Python never prints "-nan" */
    else put(pb, fixed ? " - %s: %.4f" : " - %s: %.4e", pb->values[i].key, v);
  }
}

/* Python's len(bar) + len(info) - special_char_len: code points, ANSI escapes excluded. */
static size_t visible_width(const char *s) {
  size_t w = 0;
  for (; *s; s++) {
    if (*s == '\x1b') {
      while (s[1] && *s != 'm') s++;
    } else if (((unsigned char)*s & 0xC0) != 0x80) {
      w++;
    }
  }
  return w;
}

/* ---- writing it ------------------------------------------------------------------------ */

static void write_line(progbar *pb, int redraw, int finalize) {
  if (redraw) {
    for (size_t i = 0; i < pb->prev_width; i++) fputc('\b', pb->stream);
    fputc('\r', pb->stream);
  }
  fwrite(pb->line, 1, pb->len, pb->stream);
  if (redraw) {
    size_t width = visible_width(pb->line);
    for (size_t i = width; i < pb->prev_width; i++) fputc(' ', pb->stream); /* erase the rest */
    pb->prev_width = width;
  }
  if (finalize) fputc('\n', pb->stream);
  fflush(pb->stream);
}

/* ---- Progbar ---------------------------------------------------------------------------- */

static void bar_reset(progbar *pb) {
  pb->has_bar = 1;
  pb->start = pb->now();
  pb->last_update = -INFINITY; /* Keras starts at 0 s of the epoch clock: the first update draws */
  pb->time_after_first_step = NAN;
  pb->prev_width = 0;
  pb->nvalues = 0;
}

/* Progbar._estimate_step_duration: ignores the (slow, warming-up) first step once past it. */
static double step_duration(progbar *pb, int64_t current, double now) {
  if (current == 0) return 0;
  double t = !isnan(pb->time_after_first_step) && current > 1
                 ? (now - pb->time_after_first_step) / (double)(current - 1)
                 : (now - pb->start) / (double)current;
  if (current == 1) pb->time_after_first_step = now;
  return t;
}

/* Every metric is stateful for ProgbarLogger: keep the latest value, in first-seen key order. */
static void merge_values(progbar *pb, const kcb_logs *logs) {
  for (size_t i = 0; logs && i < logs->count; i++) {
    const kcb_log_entry *e = &logs->entries[i];
    if (e->tensor) continue; /* not a scalar (predict's "outputs") */
    size_t j = 0;
    while (j < pb->nvalues && strcmp(pb->values[j].key, e->key) != 0) j++;
    if (j == MAX_VALUES) continue;
    if (j == pb->nvalues) memcpy(pb->values[pb->nvalues++].key, e->key, sizeof e->key);
    pb->values[j].value = e->value;
  }
}

/* Progbar.update(current, logs, finalize). */
static void bar_update(progbar *pb, int64_t current, const kcb_logs *logs, int finalize) {
  merge_values(pb, logs);
  double now = pb->now();
  double time_per_step = step_duration(pb, current, now); /* also while throttled, as Keras */
  int verbose = pb->base.params->verbose;
  if (verbose == 1) {
    if (!finalize && now - pb->last_update < UPDATE_INTERVAL) return;
    int terminal = pb->dynamic >= 0 ? pb->dynamic : isatty(fileno(pb->stream));
    if (terminal || finalize) {
      format_line(pb, terminal ? STYLE_TERMINAL : STYLE_PLAIN, current, finalize, now, time_per_step);
      write_line(pb, terminal, finalize);
    }
  } else if (verbose == 2 && finalize && pb->target > 0) {
    format_line(pb, STYLE_VERBOSE2, current, finalize, now, time_per_step);
    write_line(pb, 0, 1);
  }
  pb->last_update = now;
}

/* ---- ProgbarLogger hooks ------------------------------------------------------------------ */

static void begin_run(progbar *pb) {
  pb->target = pb->base.params->steps;
  pb->seen = 0;
  bar_reset(pb);
}

static void update_progbar(progbar *pb, int64_t batch, const kcb_logs *logs) {
  if (!pb->has_bar) bar_reset(pb);
  pb->seen = batch + 1;
  if (pb->base.params->verbose == 1) bar_update(pb, pb->seen, logs, 0);
}

static void finalize_progbar(progbar *pb, const kcb_logs *logs) {
  if (!pb->has_bar) bar_reset(pb);
  if (pb->target <= 0) pb->target = pb->seen;
  bar_update(pb, pb->target, logs, 1);
}

static int on_train_begin(kcb_callback *cb, kcb_logs *logs) {
  (void)logs;
  progbar *pb = (progbar *)cb;
  pb->in_fit = 1;
  pb->target = cb->params->steps;
  return 0;
}

/* Keras never clears the flag (it builds a new logger per fit); clearing it here lets one
 * logger serve a fit and then a standalone evaluate. */
static int on_train_end(kcb_callback *cb, kcb_logs *logs) {
  (void)logs;
  ((progbar *)cb)->in_fit = 0;
  return 0;
}

static int on_epoch_begin(kcb_callback *cb, int epoch, kcb_logs *logs) {
  (void)logs;
  progbar *pb = (progbar *)cb;
  pb->seen = 0;
  bar_reset(pb);
  if (cb->params->verbose && cb->params->epochs > 1) {
    fprintf(pb->stream, "Epoch %d/%d\n", epoch + 1, cb->params->epochs);
    fflush(pb->stream);
  }
  return 0;
}

static int on_train_batch_end(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  update_progbar((progbar *)cb, batch, logs);
  return 0;
}

static int on_epoch_end(kcb_callback *cb, int epoch, kcb_logs *logs) {
  (void)epoch;
  finalize_progbar((progbar *)cb, logs);
  return 0;
}

static int on_test_begin(kcb_callback *cb, kcb_logs *logs) {
  (void)logs;
  progbar *pb = (progbar *)cb;
  if (!pb->in_fit) begin_run(pb);
  return 0;
}

static int on_test_batch_end(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  progbar *pb = (progbar *)cb;
  if (!pb->in_fit) update_progbar(pb, batch, logs);
  return 0;
}

static int on_test_end(kcb_callback *cb, kcb_logs *logs) {
  progbar *pb = (progbar *)cb;
  if (!pb->in_fit) finalize_progbar(pb, logs);
  return 0;
}

static int on_predict_begin(kcb_callback *cb, kcb_logs *logs) {
  (void)logs;
  begin_run((progbar *)cb);
  return 0;
}

static int on_predict_batch_end(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  (void)logs;
  update_progbar((progbar *)cb, batch, NULL); /* Keras does not pass prediction results */
  return 0;
}

static int on_predict_end(kcb_callback *cb, kcb_logs *logs) {
  finalize_progbar((progbar *)cb, logs);
  return 0;
}

static const kcb_callback_ops progbar_ops = {
    .name = "ProgbarLogger",
    .on_train_begin = on_train_begin,
    .on_train_end = on_train_end,
    .on_epoch_begin = on_epoch_begin,
    .on_epoch_end = on_epoch_end,
    .on_train_batch_end = on_train_batch_end,
    .on_test_begin = on_test_begin,
    .on_test_end = on_test_end,
    .on_test_batch_end = on_test_batch_end,
    .on_predict_begin = on_predict_begin,
    .on_predict_end = on_predict_end,
    .on_predict_batch_end = on_predict_batch_end,
};

int kcb_progbar_logger_new(kcb_callback **out, FILE *stream) {
  if (!out) return kcb__error(KCB_EINVAL, "ProgbarLogger: out is NULL");
  *out = NULL;
  progbar *pb = calloc(1, sizeof *pb);
  if (!pb) return kcb__error(KCB_ENOMEM, "out of memory creating a ProgbarLogger");
  pb->base.ops = &progbar_ops;
  pb->base.owned_by_kcb = 1;
  pb->stream = stream ? stream : stdout;
  pb->dynamic = -1;
  pb->now = monotonic_now;
  *out = &pb->base;
  return 0;
}

void kcb_progbar_logger_set_dynamic(kcb_callback *progbar_cb, int dynamic) {
  if (progbar_cb && progbar_cb->ops == &progbar_ops)
    ((progbar *)progbar_cb)->dynamic = dynamic < 0 ? -1 : dynamic > 0;
}

void kcb__progbar_set_clock(kcb_callback *cb, double (*now)(void)) {
  if (cb && cb->ops == &progbar_ops) ((progbar *)cb)->now = now ? now : monotonic_now;
}
