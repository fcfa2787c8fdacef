/* tools/kcb_inspect.h — what the kcb-inspect subcommands share: argument parsing, run discovery,
 * error reporting and JSON / number printing. Everything else comes from kcb's public API. */
#ifndef KCB_INSPECT_H
#define KCB_INSPECT_H

#include <stddef.h>
#include <stdio.h>

#include <kcb/kcb.h>

#include "tool_text.h"

/* Exit codes. */
enum { EXIT_OK = 0, EXIT_DATA = 1, EXIT_USAGE = 2 };

/* ---- arguments ----------------------------------------------------------------------------- */

/* The parsed command line of one subcommand: positionals and every --flag's value, in order. */
typedef struct args {
  const char *cmd;         /* the subcommand */
  const char **pos;        /* positional arguments */
  size_t n_pos;
  const char **flag_names; /* each flag given (repeats kept), e.g. "--run" */
  const char **flag_vals;  /* its value, or NULL for a switch */
  size_t n_flags;
  int jobs;                /* --jobs N: runs or files read at once (default: CPUs, at most 8) */
} args;

/* The options a subcommand accepts: name, whether it takes a value. */
typedef struct opt_spec {
  const char *name;  /* "--tag"; "-o" allowed */
  int takes_value;
} opt_spec;

/* Parses argv (after the subcommand) against specs; "--help" is always accepted and sets
 * *want_help, and "--jobs N" sets a->jobs. @return 0 or EXIT_USAGE (message printed). */
int args_parse(args *a, const char *cmd, int argc, char **argv, const opt_spec *specs, int *want_help);
void args_free(args *a);
/* The last value of a flag, or def. */
const char *args_get(const args *a, const char *name, const char *def);
/* 1 if a switch or flag was given. */
int args_has(const args *a, const char *name);
/* Every value of a repeatable flag: fills out (cap entries), returns the count. */
size_t args_all(const args *a, const char *name, const char **out, size_t cap);

/* Prints "kcb-inspect CMD: MESSAGE (see kcb-inspect CMD --help)" and returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Prints the library's last message with the code's name, returns EXIT_DATA. */
int lib_fail(const char *cmd, int rc);
/* Whether a path names a Keras checkpoint (.h5, .hdf5, .keras, or a model saved unzipped: a directory
 * holding config.json and model.weights.h5). */
int is_checkpoint_path(const char *path);
/* kcb-inspect diff of two checkpoints, variable by variable. */
int cmd_checkpoint_diff(const char *a, const char *b, int json);
/* Prints "kcb-inspect CMD: MESSAGE", returns EXIT_DATA. */
int data_fail(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Parses a number flag within [lo, hi]. @return 0 or EXIT_USAGE. */
int parse_double_flag(const char *cmd, const char *flag, const char *v, double lo, double hi, double *out);
int parse_int_flag(const char *cmd, const char *flag, const char *v, long long lo, long long hi, long long *out);

/* ---- runs ---------------------------------------------------------------------------------- */

/* A run as TensorBoard names it: its path relative to LOGDIR ("." for LOGDIR itself; the file's
 * name when LOGDIR is a single event file). */
typedef struct run_ref {
  char *name;
  char *path;
} run_ref;

/* The command that reads `path` (by its first bytes or name): "checkpoint", "csv", "runs", or NULL. */
const char *command_for_path(const char *path);

/* Says on stderr that a checkpoint or CSV log given where event files belong is not one (it
 * would read as a damaged event file). @return 1 if said, 0 for any other path. */
int say_not_event_file(const char *path);

/* The runs under path (a log dir, a run dir or an event file). @return 0 or a kcb error code
 * (KCB_ENOENT when nothing holds event files; the message says so). */
int runs_find(const char *path, run_ref **out, size_t *n);
void runs_free(run_ref *runs, size_t n);
/* Keeps only the runs named in names (n_names > 0); an unknown name is a data error (printed,
 * listing the runs). @return 0 or EXIT_DATA. */
int runs_select(const char *cmd, run_ref *runs, size_t *n, const char **names, size_t n_names);

/* "RUN/TAG" (the form diff prints) when RUN names one of the runs: writes RUN into run_out and
 * points *tag_out at TAG. @return 1 if so, else 0. */
int runs_split_tag(const run_ref *runs, size_t n, const char *tag, char *run_out, size_t size, const char **tag_out);
/* The runs' tag nearest to `tag`, for "did you mean": written into buf, or NULL. With run_prefixed
 * (a command that reads RUN/TAG), RUN/TAG forms are candidates too; without, a RUN/TAG given whole
 * is answered "--tag TAG --run RUN". */
const char *tag_suggestion(const run_ref *runs, size_t n, const char *tag, int kind, int run_prefixed, char *buf,
                           size_t size);

/* ---- printing ------------------------------------------------------------------------------ */

/* File content for a terminal (kcb_text_escape): control characters and invalid UTF-8 as \xNN, NUL
 * bytes too (nothing after one is lost). esc returns a malloc'd copy (NULL: out of memory);
 * fput_esc prints n bytes. flags: KCB_ESCAPE_KEEP_NEWLINES for multi-line text and messages. */
char *esc(const char *s, size_t n, int flags);
void fput_esc(FILE *f, const char *s, size_t n, int flags);

/* Python-repr text of v (shortest round trip); "nan", "inf". */
const char *num(double v, char buf[32]);
/* A number as JSON: Python's json module's NaN / Infinity / -Infinity for non-finite values. */
void json_num(FILE *f, double v);
/* A JSON string literal of n bytes (invalid UTF-8 and control bytes escaped). */
void json_str_n(FILE *f, const char *s, size_t n);
void json_str(FILE *f, const char *s);
/* A compact human number: %.6g. */
const char *short_num(double v, char buf[32]);
/* A scalar value as a tag holds it: integer tags (kcb_run_tag.value_type) exactly as integers,
 * the others as doubles, so that int64 values print as `-5` and 2^53 + 1 is not rounded. */
typedef struct scalar_val {
  kcb_scalar_type type;
  double d;  /* the value (rounded for integers beyond 2^53) */
  int64_t i; /* the exact value of an integer tag (KCB_SCALAR_UINT: a uint64_t's bits) */
} scalar_val;
/* Point j of a scalar tag's series. */
scalar_val tag_point(const kcb_run_tag *g, size_t j);
/* sv_num: exact text (integers as integers, doubles as num); sv_short: integers exact, doubles
 * as short_num; sv_json: a JSON number (an exact integer literal for integers). */
const char *sv_num(scalar_val v, char buf[32]);
const char *sv_short(scalar_val v, char buf[32]);
void sv_json(FILE *f, scalar_val v);
/* b - a: exact when both are integers (the difference of two int64 can need 65 bits), else the
 * doubles' difference; short_form picks short_num over num for doubles. @return buf */
const char *sv_diff(scalar_val a, scalar_val b, int short_form, char buf[48]);
void sv_json_diff(FILE *f, scalar_val a, scalar_val b);
/* A CSV field, quoted when needed. */
void csv_field(FILE *f, const char *s);

/* A text table: cells copied, columns padded to their widest cell; align holds 'l' or 'r' per
 * column. */
typedef struct table {
  size_t n_cols, n_rows, cap;
  char **cells;
  const char *align;
} table;
void table_init(table *t, size_t n_cols, const char *align);
/* Adds a row of n_cols strings (NULL prints as ""). @return 0 or -1 (out of memory). */
int table_add(table *t, const char *const *row);
void table_print(FILE *f, const table *t, const char *indent);
/* As table_print, but a table wider than the terminal (stdout a terminal, or $COLUMNS set) is
 * printed as one block of "header  value" lines per row. */
void table_print_fit(FILE *f, const table *t, const char *indent);
void table_free(table *t);

/* Reads each run's summary (NULL on a read error, which is printed); problems inside files are
 * printed as warnings. *had_problem is set when any run had one or failed. @return 0 or EXIT_DATA
 * when out of memory. */
int summaries_read(const char *cmd, const run_ref *runs, size_t n, const kcb_run_summary_options *opts, int jobs,
                   kcb_run_summary ***out, int *had_problem);

/* Runs fn(ctx, i) for i in [0, n) on up to jobs threads (each i once; fn must only touch slot i
 * of what it fills). */
void parallel_for(size_t n, int jobs, void (*fn)(void *ctx, size_t i), void *ctx);
void summaries_free(kcb_run_summary **s, size_t n);

/* Calls fn for every event of a run read with kcb's event reader; damaged records are warned
 * about and set *problem. @return 0, fn's non-zero result, or EXIT_DATA (run unreadable). */
int inspect_each_event(const char *cmd, const run_ref *run, int (*fn)(void *, const run_ref *, const kcb_event *),
                       void *ctx, int *problem);

/* ---- a string map --------------------------------------------------------------------------- */

/* Strings to indexes (open addressing, FNV-1a), so that looking names up stays linear overall on
 * files with 100,000 of them (issue 15). Zero-initialize; keys are copied. */
typedef struct strmap {
  char **keys;
  size_t *values;
  size_t cap, n;
} strmap;
/* Adds key -> value unless key is there: 1 added, 0 present (*found gets its value, if given),
 * -1 out of memory. */
int strmap_put(strmap *m, const char *key, size_t value, size_t *found);
/* 1 and *value when key is there, else 0. */
int strmap_get(const strmap *m, const char *key, size_t *value);
void strmap_free(strmap *m);

/* ---- subcommands (each in its file) ----------------------------------------------------------- */

int cmd_runs(int argc, char **argv);
int cmd_scalars(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_histograms(int argc, char **argv);
int cmd_images(int argc, char **argv);
int cmd_audio(int argc, char **argv);
int cmd_text(int argc, char **argv);
int cmd_hparams(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_checkpoint(int argc, char **argv);
int cmd_csv(int argc, char **argv);
int cmd_plugins(int argc, char **argv);

#endif
