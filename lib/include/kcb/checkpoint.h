/* kcb/checkpoint.h — Keras's ModelCheckpoint (with Lightning's save_top_k and save_last),
 * Keras's BackupAndRestore, and the ranking of checkpoint files behind kcb-restore. */
#ifndef KCB_CHECKPOINT_H
#define KCB_CHECKPOINT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kcb/callback.h"
#include "kcb/monitor.h"
#include "kcb/saving.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- ModelCheckpoint ----------------------------------------------------------------------- */

/** ModelCheckpoint's arguments, Keras 3's defaults (plus Lightning's save_top_k / save_last) from
 * KCB_MODEL_CHECKPOINT_OPTIONS_INIT. */
typedef struct kcb_model_checkpoint_options {
  const char *monitor;            /* "val_loss" (copied) */
  int verbose;                    /* 0; 1 prints Keras's "\nEpoch N: saving model to PATH" messages */
  int save_best_only;             /* 0; 1 saves only when the monitored value improves */
  int save_weights_only;          /* 0: full model (.keras / .h5); 1: weights (.weights.h5). A
                                     *.weights.h5 filepath holds weights either way: Keras 3 would write
                                     a full legacy .h5 model under that name, which its own
                                     load_weights then refuses (it reads *.weights.h5 as a store) */
  kcb_monitor_mode mode;          /* KCB_MONITOR_AUTO */
  int64_t save_freq;              /* 0: "epoch" (at every epoch end); N > 0: every N train batches */
  double initial_value_threshold; /* NAN: none; else the first best value to beat (±INFINITY as
                                     Keras: in min mode every finite value beats +inf) */
  int save_top_k;                 /* -1: keep every file (Keras); 0: keep none; K > 0: keep the K files
                                     with the best monitored values, deleting the others */
  int save_last;                  /* 0; 1: also write last.<ext> next to the checkpoints at every save
                                     point (an atomic copy of the latest state) */
  int restore_best;               /* -1 (default): when the run resumes (its first epoch is not 0, as
                                     after BackupAndRestore or with initial_epoch), the best value and
                                     the top-k list are read back from the files matching the template
                                     that this monitor wrote, so a resumed run never overwrites a better
                                     checkpoint; a fresh run starts with best = None, as Keras. With
                                     save_top_k > 0 they are always read back, so the directory never
                                     holds more than K files of the template. 1: always; 0: never */
  FILE *stream;                   /* messages and warnings; NULL: stdout, and stderr for warnings */
} kcb_model_checkpoint_options;
#define KCB_MODEL_CHECKPOINT_OPTIONS_INIT {"val_loss", 0, 0, 0, KCB_MONITOR_AUTO, 0, NAN, -1, 0, -1, NULL}

/** Keras 3's ModelCheckpoint (spec/keras-callbacks.md §2.4). `filepath` is a Python format
 * template: `{epoch}` and `{batch}` (1-based ints), any logs key (a float), with Python's format
 * specs (`{epoch:02d}`, `{val_loss:.2f}`, `{loss:.3e}`), `{{` and `}}` for braces. The template and
 * its specs are checked here; a key the logs lack fails the save (KCB_EKEY naming template and
 * key); a `val_*` key without validation data, or with save_freq > 0, fails fit at train begin.
 * Name rules as Keras: save_weights_only needs `.weights.h5`, else `.keras` or `.h5`. Each file
 * stores the monitored value (when logged), the 0-based epoch and batch as attributes, which
 * kcb_checkpoint_info_read and kcb_checkpoint_rank read back. Parent directories are created.
 * @param[out] out freed with kcb_callback_free
 * @param filepath copied
 * @return 0, KCB_EINVAL (filepath NULL or empty; a malformed template or a format spec Python
 *         rejects; save_weights_only without `.weights.h5`, or neither `.keras` nor `.h5`; monitor
 *         NULL, empty or longer than KCB_LOGS_KEY_MAX - 1; mode not auto, min or max;
 *         save_freq < 0; save_top_k < -1; save_top_k > 1 with a template without fields),
 *         KCB_EKEY ({batch} with save_freq 0: epoch-end saves have no batch, Keras's KeyError) or
 *         KCB_ENOMEM. */
int kcb_model_checkpoint_new(kcb_callback **out, const char *filepath, const kcb_model_checkpoint_options *opts);

/** Checks before training that every field of a ModelCheckpoint filepath template names a key the
 * logs will have (`epoch` and `batch` always count), so that a typo is not found only when the
 * first checkpoint is saved (Keras: KeyError then).
 * @param keys the logs' keys at an epoch's end (loss, metrics, their val_ forms, ...)
 * @return 0, KCB_EKEY naming the first unknown field and the keys there will be, or KCB_EINVAL
 *         for a malformed template. */
int kcb_model_checkpoint_check_keys(const char *filepath, const char *const *keys, size_t n_keys);

/** The best monitored value seen (or restored), or NaN if none (Keras's `best`). */
double kcb_model_checkpoint_best(const kcb_callback *model_checkpoint);

/** The path of the last file saved by this callback, or "" if none. Owned by the callback. */
const char *kcb_model_checkpoint_last_saved(const kcb_callback *model_checkpoint);

/** The i-th distinct file the last fit saved (in the order first written; save_last's copy not
 * included), or NULL when i is out of range. With save_top_k, files deleted since are listed too:
 * use kcb_model_checkpoint_kept for what remains. Owned by the callback. */
const char *kcb_model_checkpoint_saved(const kcb_callback *model_checkpoint, size_t i);

/** The path of save_last's copy (last.<ext> beside the checkpoints) once written, else NULL (or
 * when `model_checkpoint` is not a ModelCheckpoint). Owned by the callback. */
const char *kcb_model_checkpoint_save_last_path(const kcb_callback *model_checkpoint);

/** The files kept by save_top_k, best first (i < count), or NULL when i is out of range.
 * @param[out] value if not NULL, receives the file's monitored value. Owned by the callback. */
const char *kcb_model_checkpoint_kept(const kcb_callback *model_checkpoint, size_t i, double *value);

/* ---- BackupAndRestore ---------------------------------------------------------------------- */

/** BackupAndRestore's arguments (Keras 3: save_freq="epoch", delete_checkpoint=True,
 * double_checkpoint=False). */
typedef struct kcb_backup_and_restore_options {
  int64_t save_freq;     /* 0: "epoch"; N > 0: every N train batches */
  int delete_checkpoint; /* 1: remove the backup files when fit ends normally */
  int double_checkpoint; /* 0; 1: keep the previous backup as latest.weights.h5.bkp */
  FILE *stream;          /* the "restored" note when verbose fit resumes, and the warning of an unreadable backup; NULL: stdout and stderr */
  int mark_completed;    /* 0 (Keras); 1: when fit ends normally, leave backup_dir/completed.json
                            ({"epochs": N}), and refuse (KCB_ESTATE, "nothing to resume") a later
                            fit with this backup_dir that finds it and no backup, instead of
                            silently training the run again */
  int defer_completion;  /* 0; 1: when fit ends normally, keep a backup of its end (neither marked
                            completed nor deleted; written then if the last one was not there) until
                            kcb_backup_and_restore_finish, so that work after fit (a final
                            evaluation) killed midway is redone by a rerun, which resumes, trains
                            nothing and gets there again */
} kcb_backup_and_restore_options;
#define KCB_BACKUP_AND_RESTORE_OPTIONS_INIT {0, 1, 0, NULL, 0, 0}

/** Keras 3's BackupAndRestore (spec/keras-callbacks.md §2.10). Backups go to
 * `backup_dir/latest.weights.h5` (weights, optimizer state, iterations, RNG state, and the epoch and
 * batch to resume from as attributes, one atomically replaced file) plus Keras's
 * `training_metadata.json`. At train begin an existing backup is loaded (falling back to the .bkp
 * copy if the latest is unreadable) and fit continues from it: from the next epoch after an
 * epoch-end backup, or — unlike Keras, which restarts the epoch — from the batch after a mid-epoch
 * backup, on the same shuffled order, so a killed and restarted run ends with the same weights as
 * one never interrupted (the resumed epoch's logged means then cover its remaining batches only).
 * The directory is created if missing; on normal completion the backup files are deleted
 * (delete_checkpoint) and the directory removed when empty.
 * When fit is stopped by kcb_model_request_stop (Ctrl-C), on_train_end writes a backup at the last
 * batch done and keeps it, so the same fit resumes exactly there.
 * @param[out] out freed with kcb_callback_free
 * @param backup_dir copied
 * @return 0, KCB_EINVAL (empty backup_dir: "Empty backup_dir argument passed", save_freq < 0) or
 *         KCB_ENOMEM. */
int kcb_backup_and_restore_new(kcb_callback **out, const char *backup_dir, const kcb_backup_and_restore_options *opts);

/** Ends a run whose completion was deferred (defer_completion): marks it completed and deletes the
 * backup files, as fit's end would have. Nothing to do (0) when no fit has ended normally since the
 * last call, or when completion was not deferred. In a distributed run, call it on rank 0 only,
 * which alone writes the backup.
 * @return 0, KCB_EINVAL (cb is not a BackupAndRestore), or the I/O error naming the file. */
int kcb_backup_and_restore_finish(kcb_callback *cb);

/** What a backup directory holds. */
typedef enum kcb_backup_state {
  KCB_BACKUP_NONE = 0,      /* no backup (or no directory): a fit starts from its initial_epoch */
  KCB_BACKUP_RESUMABLE = 1, /* a backup that a fit with this directory resumes from */
  KCB_BACKUP_COMPLETED = 2  /* completed.json (mark_completed) and no backup: the run finished */
} kcb_backup_state;

/** kcb_backup_and_restore_status's answer. */
typedef struct kcb_backup_status {
  kcb_backup_state state;
  char path[4096]; /* RESUMABLE: the file fit loads (latest.weights.h5, or its .bkp copy when the
                      latest is unreadable); COMPLETED: completed.json; NONE: "" */
  int epoch;       /* RESUMABLE: the 0-based epoch fit resumes in; COMPLETED: the epochs the run
                      trained (-1 if the file does not say) */
  int64_t batch;   /* RESUMABLE: the 0-based last batch done in that epoch, -1 when the epoch
                      starts from its first batch */
} kcb_backup_status;

/** Reads, without changing anything, what a BackupAndRestore with this directory would do at train
 * begin: resume from which file at which epoch and batch, or nothing (a program can tell the user
 * before loading any data).
 * @param[out] out always filled (state NONE on error)
 * @return 0, KCB_EINVAL (empty backup_dir), KCB_ENOMEM, or the error reading a backup that exists
 *         and has no readable .bkp copy (the error fit would return). */
int kcb_backup_and_restore_status(kcb_backup_status *out, const char *backup_dir);

/* ---- ranking checkpoints (kcb-restore) ----------------------------------------------------- */

/** Where a checkpoint's ranking value came from. */
typedef enum kcb_rank_source {
  KCB_RANK_NONE = 0, /* no value found: not ranked */
  KCB_RANK_STORED,   /* the file's own kcb_monitor / kcb_monitor_value attributes */
  KCB_RANK_NAME,     /* parsed from the file name */
  KCB_RANK_CSV       /* a CSVLogger file in the same directory, row matched by epoch */
} kcb_rank_source;

/** @return "stored", "name", "csv" or "none" (static). */
const char *kcb_rank_source_name(kcb_rank_source source);

/** One checkpoint file found. */
typedef struct kcb_checkpoint_entry {
  char *path;                 /* as found (owned by the ranking) */
  int readable;               /* 0: corrupt or unreadable; error says why */
  char *error;                /* NULL when readable (owned) */
  kcb_checkpoint_info info;   /* valid when readable */
  int64_t epoch;              /* 0-based: stored, else parsed from the name; -1 unknown */
  double value;               /* the monitored value; NaN when source is KCB_RANK_NONE */
  kcb_rank_source source;
  size_t rank;                /* 1 = best; 0 = not ranked */
  int64_t batch;              /* 0-based batch of a save in the middle of an epoch: stored, else the
                                 name_template's `{batch}`; -1 for an epoch-end save or unknown */
} kcb_checkpoint_entry;

/** The result of kcb_checkpoint_rank: ranked entries first (best first), then readable files
 * without a value, then unreadable ones (each group by path). */
typedef struct kcb_checkpoint_ranking {
  size_t count;
  kcb_checkpoint_entry *entries;
  size_t n_ranked, n_unreadable;
  kcb_monitor_mode mode;      /* the direction used (MIN or MAX) */
  size_t n_template_matches;  /* readable files whose names name_template matched (0 without one) */
  char *note;                 /* NULL, or what the ranking left out and why, for the user: numbers in
                                 the names that a CSV log shows are another value, a log without the
                                 monitor's column (owned) */
} kcb_checkpoint_ranking;

/** How checkpoints are ranked. */
typedef struct kcb_rank_options {
  const char *monitor;        /* "val_loss" */
  kcb_monitor_mode mode;      /* AUTO: min for losses/errors, max for accuracies (by name) */
  const char *csv_path;       /* NULL: any *.csv with `epoch` and the monitor columns in the
                                 checkpoint's directory */
  const char *name_template;  /* NULL; else ModelCheckpoint's filepath template (its base name):
                                 a file name it matches gives the value of the monitor's field and
                                 the epoch of `{epoch}`; the generic name rules are then not
                                 used for that file */
} kcb_rank_options;
#define KCB_RANK_OPTIONS_INIT {"val_loss", KCB_MONITOR_AUTO, NULL, NULL}

/** Finds checkpoints (`.weights.h5`, `.h5`, `.hdf5`, `.keras` files; directories are searched
 * recursively), reads their metadata and ranks them by the monitored value, taken, in order, from
 * (1) the value stored in the file for this monitor, (2) the file name: `MONITOR=NUMBER` (also
 * `MONITOR_NUMBER`, `MONITOR-NUMBER`), (3) the CSV log's row whose `epoch` equals the
 * checkpoint's epoch (stored 0-based; from a name, the number after `epoch`, else the first
 * whole number not glued to letters, as `v2` or `resnet50` are, read as Keras's 1-based
 * `{epoch}`), (4) the last number with a decimal point that
 * follows a `-`, `_` or `=` in the name (Keras's `...-{val_loss:.2f}.keras`), unless the file
 * records that it was saved by another monitor. That number is what the run's CSV log holds under
 * most names of its template (one directory, one shape) at their epochs' rows: the monitor (the
 * row's exact value is used; a name no row holds, another run's, is valued by its number), or
 * another column (the row holding it values the file by its monitor, if logged).
 * Names of one template and epoch whose numbers the log does not hold were saved mid-epoch
 * (save_freq in batches): their names value them, never as a val_ monitor (Keras validates only at
 * an epoch's end). `note` says which files are left out. With
 * name_template, a name it matches gives the value of the monitor's field or nothing, and (2) and
 * (4) are not tried. NaN values rank last; ties go to the earlier epoch and batch, then path
 * order. Two names of one file (a `best.keras` link beside its target) are ranked once, under the
 * file's own name. A link to a directory is listed, not followed, and a link to nothing is listed
 * as such. An unreadable file is listed (readable 0) and never stops the ranking.
 * @param[out] out freed with kcb_checkpoint_ranking_free
 * @param paths files or directories
 * @param opts NULL: KCB_RANK_OPTIONS_INIT
 * @return 0 (even when nothing is rankable: check n_ranked), KCB_ENOENT for a path that does not
 *         exist, KCB_EINVAL (AUTO mode for a name it cannot place, or a malformed name_template) or KCB_ENOMEM. */
int kcb_checkpoint_rank(kcb_checkpoint_ranking **out, const char *const *paths, size_t n_paths,
                        const kcb_rank_options *opts);

/** Frees a ranking. Accepts NULL. */
void kcb_checkpoint_ranking_free(kcb_checkpoint_ranking *ranking);

/** Writes a checkpoint of any model to `out_path` in `layout` (KCB_LAYOUT_AUTO: from the name):
 * kcb_checkpoint_file_open then kcb_checkpoint_file_write (kcb/checkpoint_file.h). The same layout is
 * a byte-for-byte copy; another layout is converted as Keras lays it out; a full-model layout (.h5,
 * .keras) needs a source with a model config. The result is read back and every variable compared.
 * @return 0, KCB_EINVAL (a conversion that is not defined, naming the layer, or a bad name),
 *         KCB_EFORMAT (source unreadable), KCB_EIO (written file differs), or a write error. */
int kcb_checkpoint_export(const char *src_path, const char *out_path, kcb_checkpoint_layout layout);

#ifdef __cplusplus
}
#endif
#endif
