/* internal.h — what kcb's modules share among themselves (kcb__ names); not installed. */
#ifndef KCB_INTERNAL_H
#define KCB_INTERNAL_H

#include <stddef.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kcb/kcb.h"

/* ---- errors (core/error.c) ------------------------------------------------------------ */

/** Records a detailed message for this thread and returns code, so that a failing step is
 * one line: `return kcb__error(KCB_EFORMAT, "%s: bad magic 0x%08x", path, magic);` */
int kcb__error(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/** Maps an errno value to a kcb code (ENOENT -> KCB_ENOENT, ENOSPC -> KCB_ENOSPC, else KCB_EIO). */
int kcb__error_from_errno(int err);

/** `int rc` must be in scope and a `done:` label must clean up. */
#define KCB__TRY(expr)             \
  do {                             \
    if ((rc = (expr)) < 0) goto done; \
  } while (0)

/* ---- memory ---------------------------------------------------------------------------- */

/** Floats in whole 64-byte cache lines that hold n floats. */
static inline size_t kcb__floats_to_line(size_t n) { return (n + 15) & ~(size_t)15; }

/** n floats (rounded up to whole cache lines) starting on a cache line, freed with free(); NULL
 * when out of memory. The model's blocks are allocated so: where malloc leaves a block mod 64 used
 * to depend on what was allocated before, and vector stores that straddle two lines (a kernel
 * gradient 16 bytes off) cost a first convolution layer 10% of its backward pass. */
float *kcb__alloc_floats(size_t n);

/* ---- Keras --------------------------------------------------------------------------------- */

/* The Keras release whose layouts and configs kcb writes (fixtures/keras/), and the backend its
 * files name (kcb computes as Keras's numpy backend does: float32 on the CPU). */
#define KCB__KERAS_VERSION "3.15.1"
#define KCB__KERAS_BACKEND "numpy"

/* ---- callbacks ------------------------------------------------------------------------- */

/** Whether a built-in callback's messages (warnings, verbose lines) go out from this process:
 * rank 0 alone in a distributed fit, where every rank runs the deciding callbacks on the same
 * logs, so that each line shows once. */
static inline int kcb__callback_says(const kcb_callback *cb) { return !cb->params || cb->params->rank == 0; }

/** Whether cb, a TensorBoard callback, reads each validation batch's predictions (its PR curves):
 * 1 or 0; -1 when cb is not one (a KeepGoing wrapper around one included). */
int kcb__tensorboard_reads_last_batch(const kcb_callback *cb);

/* ---- names ------------------------------------------------------------------------------ */

/** Whether the leaf of a stored variable name, without ":0", is `leaf`
 * ("Adam/learning_rate:0" and "learning_rate" are; "batch_normalization/moving_mean:0" and
 * "moving_mean" are). */
static inline int kcb__leaf_is(const char *name, const char *leaf) {
  const char *l = strrchr(name, '/');
  l = l ? l + 1 : name;
  size_t n = strcspn(l, ":");
  return strlen(leaf) == n && strncmp(l, leaf, n) == 0;
}

/* ---- random numbers (core/rng.c): xoshiro256**, seeded by splitmix64 ------------------- */

typedef struct kcb__rng {
  uint64_t s[4];
} kcb__rng;

void kcb__rng_seed(kcb__rng *rng, uint64_t seed);
uint64_t kcb__rng_next(kcb__rng *rng);
/** mask[j] = keep where the next draw, as a fraction of 2^64, is >= rate, else 0: n draws, the
 * same as n calls of kcb__rng_next (a dropout mask, with the state kept in registers). */
void kcb__rng_keep_mask(kcb__rng *rng, double rate, float keep, float *mask, int64_t n);
/** Uniform in [0, 1). */
double kcb__rng_uniform(kcb__rng *rng);
/** Standard normal (Box-Muller). */
double kcb__rng_normal(kcb__rng *rng);
/** Uniform integer in [0, n). */
uint64_t kcb__rng_below(kcb__rng *rng, uint64_t n);

/* ---- BLAS (core/blas.c): the one place that calls cblas_sgemm --------------------------- */

/** Loads OpenBLAS if it is not loaded yet: 0, or KCB_ESTATE saying why it cannot be (the products
 * below then fall back to plain loops). */
int kcb__blas_load(void);

/** OpenBLAS's thread count (1 without OpenBLAS), and setting it. */
int kcb__blas_threads(void);
void kcb__blas_set_threads(int threads);

/** C (m, n) = alpha * op(A) * op(B) + beta * C, all row-major; op transposes when trans_* is set.
 * A is (m, k) or, transposed, (k, m); B is (k, n) or (n, k). */
void kcb__sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                const float *b, float beta, float *c);
/** The same with explicit leading dimensions (row strides), for sub-matrices such as one group
 * of a grouped convolution's kernel. */
void kcb__sgemm_ld(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                   const float *b, int ldb, float beta, float *c, int ldc);

/* ---- the CPU (core/cpu.c) ------------------------------------------------------------ */

/** The widest vector loops this CPU runs: 2 AVX-512, 1 AVX2 with FMA, 0 the baseline (and off
 * x86). The library is built for the baseline; hot loops are also compiled for 1 and 2. */
int kcb__cpu_simd_level(void);

/** Makes this thread flush subnormal floats to zero (inputs and results, as TensorFlow's CPU
 * kernels run); returns the mode to restore with kcb__fp_mode_set. A no-op off x86. */
unsigned kcb__flush_subnormals_begin(void);
/** This thread's floating-point mode (MXCSR), and setting it (restoring a saved mode; the pool's
 * workers run a job in the mode of the thread that gave it). */
unsigned kcb__fp_mode_get(void);
void kcb__fp_mode_set(unsigned mode);

/* ---- worker threads (core/pool.c) ------------------------------------------------------ */

/** One part of a split loop: [begin, end) of the range, part in [0, parts). */
typedef void (*kcb__part_fn)(void *ctx, int part, int64_t begin, int64_t end);

/** Lets this thread split work over `threads` threads (<= 0: OpenBLAS's thread count) until the
 * matching kcb__pool_leave; OpenBLAS runs on one thread meanwhile (pool.c says why). Nests;
 * never fails: without threads, or while another thread holds the pool, work runs serially. */
void kcb__pool_enter(int threads);
void kcb__pool_leave(void);
/** How many parts this thread's loops may split into now (1 outside kcb__pool_enter). */
int kcb__pool_parts(void);
/** Runs fn over [0, n) in up to kcb__pool_parts() parts of at least min_per_part items, cut at
 * multiples of align; the caller runs part 0 and returns when all are done. Returns the number of
 * parts used, so a reduction knows how many partial results to add. */
int kcb__parallel(int64_t n, int64_t min_per_part, int64_t align, kcb__part_fn fn, void *ctx);
/** A reduction's part: adds the sums over [begin, end) into sums (zeroed before the call). */
typedef void (*kcb__sums_fn)(void *ctx, float *sums, int64_t begin, int64_t end);
/** sums (n_sums floats) = what fn adds up over [0, n), split like kcb__parallel: each part sums
 * into its own zeroed buffer, and the parts' buffers are added in part order (the same floats for
 * the same thread count). */
void kcb__parallel_sums(int64_t n, int64_t min_per_part, float *sums, int64_t n_sums, kcb__sums_fn fn, void *ctx);
/** n floats of scratch kept by the pool for its holder (partial sums of a split reduction),
 * grown when needed and reused; NULL when out of memory (the caller then runs in one part). */
float *kcb__pool_scratch(size_t n);

/* ---- test hooks ---------------------------------------------------------------------- */

/** What kcb__sgemm_ld computes when OpenBLAS cannot be loaded (tested against it). */
void kcb__sgemm_plain(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                      const float *b, int ldb, float beta, float *c, int ldc);

/** Test-only: caps kcb__cpu_simd_level (2 again lifts the cap), so that tests check every
 * variant of the vector loops the CPU can run. Not thread-safe. */
void kcb__cpu_cap_simd_level(int level);

/** Test-only: gives a ProgbarLogger a fake clock in seconds (NULL restores the monotonic one). */
void kcb__progbar_set_clock(kcb_callback *cb, double (*now)(void));

/* ---- small helpers ------------------------------------------------------------------- */

/** snprintf into a fixed buffer, truncating safely. */
void kcb__strlcpy(char *dst, const char *src, size_t size);

/* Python-repr layout of the shortest text that parses back to the same float32 (numpy's str). */
char *kcb__format_float32(float v, char *buf, size_t size);

/* ASCII character classes and case, whatever LC_CTYPE says: Keras's names follow Python's
 * str.lower() of ASCII text, and a program's Turkish locale must not make tolower('I') 'I'. */
static inline int kcb__is_upper(int c) { return c >= 'A' && c <= 'Z'; }
static inline int kcb__is_lower(int c) { return c >= 'a' && c <= 'z'; }
static inline int kcb__is_alpha(int c) { return kcb__is_upper(c) || kcb__is_lower(c); }
static inline int kcb__is_alnum(int c) { return kcb__is_alpha(c) || (c >= '0' && c <= '9'); }
static inline int kcb__to_lower(int c) { return kcb__is_upper(c) ? c - 'A' + 'a' : c; }
/* strcasecmp and strncasecmp of ASCII letters only. (core/format.c) */
int kcb__ascii_casecmp(const char *a, const char *b);
int kcb__ascii_ncasecmp(const char *a, const char *b, size_t n);

/* strtod in the C locale: files and command lines never follow LC_NUMERIC. */
double kcb__strtod_c(const char *s, char **end);
/* Python's float(s) on the whole of an ASCII s (Unicode digits and spaces, which Python also takes,
 * are not read): surrounding blanks, underscores between digits, inf, infinity and nan in any case;
 * no hex, no "nan(...)". @return 0 and *out, or -1 (no number). */
int kcb__parse_python_float(const char *s, double *out);

/* The calling thread's locale with LC_NUMERIC set to "C", for the length of a call that prints
 * (fit, evaluate, predict, summary): the progress bar and the callbacks' messages print numbers as
 * Keras does (0.5, not 0,5) in a program that called setlocale(LC_ALL, ""); its other categories
 * (character widths) stay. kcb__c_numbers_end restores the thread's own. */
typedef struct kcb__c_numbers {
  locale_t previous, mine;
} kcb__c_numbers;
kcb__c_numbers kcb__c_numbers_begin(void);
void kcb__c_numbers_end(kcb__c_numbers c);

/* Sorts logs and makes keys added from now on go after the sorted ones, as a hook's dict in Keras. */
void kcb__logs_begin_hook(kcb_logs *logs);
/* kcb_callback_list_call for fit, evaluate and predict, which pass logs and run in C numbers
 * already (callbacks/callback_list.c). */
int kcb__callback_list_dispatch(kcb_callback_list *list, kcb_hook hook, int64_t index, kcb_logs *logs);

/* ---- files (core/file.c): a crash or a failure never loses the previous good file ------ */

/** Writes all len bytes to fd (retrying short writes and EINTR); errors name path, and errno
 * keeps the cause. */
int kcb__write_all(int fd, const void *data, size_t len, const char *path);

/** Replaces path by data: a hidden temp file beside it (.NAME.tmp-<pid>-<n>), fsync, rename,
 * fsync of the directory. On failure path is untouched and no temp file is left; the message is
 * "PATH: cannot save: STEP: CAUSE". */
int kcb__file_write_atomic(const char *path, const void *data, size_t len);
/* The same, with `check(temp_path, ctx)` run on the written, synced temporary file before it
 * replaces `path`: when it fails (its code is returned) the temporary goes and `path` is untouched. */
int kcb__file_write_checked(const char *path, const void *data, size_t len, int (*check)(const char *, void *),
                            void *ctx);

/** Removes the temporary files that writes of path cut by a kill left beside it ("[.]NAME.tmp-*"):
 * never read, they would only keep a directory from being removed. Best effort, no error. */
void kcb__file_remove_stale_temps(const char *path);
/* Removes, in path's directory, the temporaries of kcb__file_write_atomic (".NAME.tmp-PID-N": of
 * path's file alone with same_name) whose writing process no longer exists and that no one wrote
 * for a minute: what a kill or a second Ctrl-C left. */
void kcb__file_remove_dead_temps(const char *path, int same_name);

/** mkdir -p dir; errors name `owner` (e.g. "ModelCheckpoint"; NULL: none) and the directory. A path part that
 * exists and is not a directory is KCB_EIO. */
int kcb__mkdirs(const char *dir, const char *owner);

/** " (did you mean X?)" into buf when kcb_text_suggest finds X among the n known names, else "":
 * for messages about a mistyped name. @return buf. */
const char *kcb__did_you_mean(char *buf, size_t size, const char *given, const char *const *known, size_t n);

/** kcb__mkdirs of the directory holding the file `path` (nothing for a bare file name); KCB_EINVAL,
 * nothing made, for a path ending in '/', which names no file. `owner` names the writer. */
int kcb__mkdirs_for(const char *path, const char *owner);

/** "(784, 32)", "(10,)" or "()" as Keras prints shapes, into buf (cut to size); returns buf. */
char *kcb__shape_str(char *buf, size_t size, int rank, const int64_t *shape);
/** A caller's tensor fit to read: data, a rank of 1..KCB_MAX_RANK, no negative dimension, a size
 * that fits memory (kcb_tensor is a public struct: views and hand-filled ones are not checked when
 * made). @return 0, or KCB_EINVAL / KCB_ESHAPE naming `what` (the operation) and `name`. */
int kcb__tensor_check(const kcb_tensor *t, const char *what, const char *name);
/** Whether s ends in suffix (a file name in ".weights.h5", a config key in "_regularizer"). */
int kcb__ends_with(const char *s, const char *suffix);
/* io/csv.c: the NaN kcb_csv_table_read gives a cell with no value ("NA", empty, a list), which a
 * logged "nan" is not; kcb__csv_is_missing tells them apart (ranking skips an epoch without one). */
double kcb__csv_missing(void);
int kcb__csv_is_missing(double v);
/** dir + "/" + name, malloc'd (NULL when out of memory). */
char *kcb__path_join(const char *dir, const char *name);
/* How many of s's first `max` bytes to print so that a cut falls between UTF-8 characters:
 * printf("%.*s", kcb__utf8_prefix(s, 64), s) in messages that quote long names. */
int kcb__utf8_prefix(const char *s, int max);

/* A table from strings to values, for looking names up among many (a checkpoint's variables)
 * in constant time. Keys are not copied: they must outlive the table. */
typedef struct kcb__str_map {
  struct {
    const char *key;
    long value;
  } *slot;
  size_t cap, n;
} kcb__str_map;

/* Room for n keys. 0 or KCB_ENOMEM. (core/str_map.c) */
int kcb__str_map_init(kcb__str_map *m, size_t n);
/* Adds key -> value unless the key is there (the first value stays) or the table holds its n
 * keys already. @return 1 if added, else 0. */
int kcb__str_map_put(kcb__str_map *m, const char *key, long value);
/* The key's value, or -1 (also for a table never set up). */
long kcb__str_map_get(const kcb__str_map *m, const char *key);
void kcb__str_map_free(kcb__str_map *m);

/* The length of the valid UTF-8 sequence of more than one byte at p (n bytes left) as Python's
 * strict decoder takes it (no overlong forms, no surrogates, nothing above U+10FFFF), its code
 * point into *code_point; else 0. (core/escape.c) */
size_t kcb__utf8_sequence(const unsigned char *p, size_t n, uint32_t *code_point);

/** fsyncs the directory holding path, so a rename into it survives a crash (best effort). */
void kcb__fsync_dir_of(const char *path);

/** Opens path read-only, but only when it is a regular file: a FIFO, device, socket or directory
 * is KCB_EINVAL ("PATH: cannot open: a FIFO, not a regular file ..."), and opening never blocks
 * (O_NONBLOCK, then fstat on the descriptor). Every file kcb reads is opened through here (or
 * checked with kcb__file_check_regular when a library opens it by name). owner, when not NULL,
 * prefixes the message ("CSV: PATH: ..."). */
int kcb__file_open_read(const char *path, const char *owner, int *fd_out);

/** kcb__file_open_read as a FILE * ("rb"). */
int kcb__file_fopen_read(const char *path, const char *owner, FILE **out);

/** kcb__file_open_read then close: for paths a library opens by name (libhdf5, libzip). */
int kcb__file_check_regular(const char *path, const char *owner);

#endif
