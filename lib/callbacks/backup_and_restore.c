/* callbacks/backup_and_restore.c — Keras 3's BackupAndRestore (spec/keras-callbacks.md §2.10): a
 * fit killed at any point and started again resumes from the last backup. The backup is one
 * atomically replaced `.weights.h5` holding weights, optimizer state, iterations, the RNG states and
 * (as attributes) where to resume, so a kill during a save leaves the previous backup whole. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "callbacks/checkpoint_internal.h"
#include "internal.h"
#include "kcb/checkpoint.h"
#include "model/model_internal.h"

typedef struct backup_and_restore {
  kcb_callback base;
  char *dir;
  char *weights, *weights_bkp, *meta, *meta_bkp; /* the files in dir */
  kcb_backup_and_restore_options o;
  FILE *stream;
  FILE *warnings; /* Keras's warnings.warn: stderr unless a stream was given */
  char *done_marker;           /* dir/completed.json (mark_completed) */
  int finish_pending;          /* defer_completion: fit ended normally; kcb_backup_and_restore_finish ends the run */
  int finish_epochs;           /* ... after this many epochs */
  int current_epoch;
  int64_t last_batch;          /* the last batch done in current_epoch, -1 none (an interrupt's backup) */
  int saved_epoch;             /* where this fit's last backup resumes (epoch, batch); epoch -1: none yet */
  int64_t saved_batch;
  int64_t resumed_batch;       /* the batch the loaded backup stopped after, for the first epoch */
  kcb__save_counter counter;
  int began;                   /* this fit's first epoch has begun */
  kcb__rng epoch_shuffle_rng; /* the shuffle RNG before this epoch's shuffle */
} backup_and_restore;

/* Keras's training_metadata.json ({"epoch": E, ...}): the epoch to resume in, into *epoch (0 when
 * there is no such file, as Keras starts then). A backup Keras wrote has no kcb attributes, only
 * this file; one that is there but unreadable, or has no whole epoch, is an error, as it fails
 * Keras's json.loads or its ["epoch"]: resuming at epoch 1 would train the done epochs again. */
static int metadata_epoch(const char *meta_path, int *epoch) {
  json_error_t err;
  char *text = NULL;
  size_t len = 0;
  *epoch = 0;
  if (access(meta_path, F_OK) != 0) return 0;
  int rc = kcb_file_read(meta_path, (size_t)1 << 20, &text, &len);
  if (rc) return rc;
  json_t *root = json_loadb(text, len, 0, &err);
  free(text);
  json_t *e = root ? json_object_get(root, "epoch") : NULL;
  /* fit counts epochs in an int */
  if (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) > 2147483646)
    rc = kcb__error(KCB_EFORMAT, "BackupAndRestore: %s: %s", meta_path,
                    !root ? "not JSON (cut short by a kill while Keras wrote it?)"
                          : "no \"epoch\" that is a whole number from 0: the epoch to resume in is unknown");
  else *epoch = (int)json_integer_value(e);
  json_decref(root);
  return rc;
}

/* Where a backup resumes: the 0-based epoch, and the last batch done in it (-1: none). */
static int backup_position(const char *path, const char *meta_path, int *epoch, int64_t *batch) {
  kcb_checkpoint_info info;
  int rc = kcb_checkpoint_info_read(&info, path);
  if (rc) return rc;
  if (info.epoch >= 0) { /* kcb's own backup: the epoch, and the batch to carry on after */
    *epoch = (int)info.epoch;
    *batch = info.batch;
  } else { /* Keras's: the epoch from its metadata, restarted from its first batch as Keras does */
    if ((rc = metadata_epoch(meta_path, epoch))) return rc;
    *batch = -1;
  }
  return 0;
}

/* A backup's position without its weights (deleted, or a link to nothing): Keras would resume at the
 * metadata's epoch with untrained weights; starting over would train the done epochs again and a
 * CSVLogger would overwrite their rows. Neither is what the user had: an error that says so. */
static int weights_missing(const char *dir, const char *weights, const char *meta, const char *meta_bkp) {
  const char *found = access(meta, F_OK) == 0 ? meta : access(meta_bkp, F_OK) == 0 ? meta_bkp : NULL;
  if (!found) return 0;
  int epoch = 0;
  int rc = metadata_epoch(found, &epoch);
  if (rc) return rc;
  return kcb__error(KCB_ENOENT, "BackupAndRestore: %s is missing, but %s says the run backed up in %s was to resume in "
                    "epoch %d: put the weights back to resume it, or remove the directory (or give another) to train "
                    "from the start", weights, found, dir, epoch + 1);
}

static int load_backup(backup_and_restore *br, const char *path, const char *meta_path) {
  kcb_model *m = br->base.model;
  int epoch;
  int64_t batch;
  int rc = backup_position(path, meta_path, &epoch, &batch);
  if (rc) return rc;
  kcb_load_options lo = KCB_LOAD_OPTIONS_INIT;
  if ((rc = kcb_model_load_weights(m, path, &lo))) return rc;
  m->resume_means = m->resume_means == 2 && batch >= 0; /* the epoch goes on from the backup's running means */
  m->resume_pending = 1;
  m->resume_epoch = epoch;
  m->resume_batch = batch;
  br->resumed_batch = batch;
  return 0;
}

/* Removes the temporary files of writes cut by a kill: they are never read, and would keep the
 * directory from being removed at the end. */
static void remove_stale_temps(const backup_and_restore *br) {
  kcb__file_remove_stale_temps(br->weights);
  kcb__file_remove_stale_temps(br->meta);
  kcb__file_remove_stale_temps(br->done_marker);
}

static int br_on_train_begin(kcb_callback *cb, kcb_logs *logs) {
  backup_and_restore *br = (backup_and_restore *)cb;
  (void)logs;
  int rc = kcb__mkdirs(br->dir, "BackupAndRestore");
  if (rc) return rc;
  br->counter = (kcb__save_counter){0, 0};
  br->began = 0;
  br->saved_epoch = -1, br->saved_batch = -1;
  if (cb->model) cb->model->backup_attached = 1;
  br->resumed_batch = -1;
  remove_stale_temps(br);
  if (br->o.mark_completed && access(br->done_marker, F_OK) == 0 && access(br->weights, F_OK) != 0 &&
      access(br->weights_bkp, F_OK) != 0)
    return kcb__error(KCB_ESTATE, "BackupAndRestore: the run backed up in %s has completed (%s); nothing to resume "
                      "(remove that file, or use another backup directory, to train again)", br->dir, br->done_marker);
  if (access(br->weights, F_OK) == 0) {
    rc = load_backup(br, br->weights, br->meta);
    if (rc == 0) return 0;
    if (access(br->weights_bkp, F_OK) != 0) {
      char reason[600];
      kcb__strlcpy(reason, kcb_error_last(), sizeof reason);
      return kcb__error(rc, "BackupAndRestore: cannot restore %s: %s", br->weights, reason);
    }
    fprintf(br->warnings, "UserWarning: BackupAndRestore could not read %s (%s); restoring %s instead.\n", br->weights,
            kcb_error_last(), br->weights_bkp);
    fflush(br->warnings);
  }
  if (access(br->weights_bkp, F_OK) == 0) { /* killed between moving the old backup aside and writing the new one */
    rc = load_backup(br, br->weights_bkp, br->meta_bkp);
    if (rc) {
      char reason[600];
      kcb__strlcpy(reason, kcb_error_last(), sizeof reason);
      return kcb__error(rc, "BackupAndRestore: cannot restore %s: %s", br->weights_bkp, reason);
    }
    /* The good copy becomes the latest again (as Keras does), so the next double-checkpoint save,
     * which moves the latest aside, cannot put the unreadable file in its place. */
    if (rename(br->weights_bkp, br->weights) != 0)
      return kcb__error(kcb__error_from_errno(errno), "BackupAndRestore: cannot move %s to %s: %s", br->weights_bkp,
                        br->weights, strerror(errno));
    if (access(br->meta_bkp, F_OK) == 0) (void)rename(br->meta_bkp, br->meta);
    kcb__fsync_dir_of(br->weights);
    return 0;
  }
  return weights_missing(br->dir, br->weights, br->meta, br->meta_bkp); /* neither copy of the weights is there */
}

static int br_on_epoch_begin(kcb_callback *cb, int epoch, kcb_logs *logs) {
  backup_and_restore *br = (backup_and_restore *)cb;
  (void)logs;
  br->current_epoch = epoch;
  if (!br->began) kcb__save_counter_resume(&br->counter, cb->model, br->o.save_freq);
  br->began = 1;
  br->last_batch = br->resumed_batch; /* a resumed epoch starts after the backup's batch */
  br->resumed_batch = -1;
  br->epoch_shuffle_rng = cb->model->shuffle_rng; /* fit shuffles after this hook */
  return 0;
}

/* Writes the backup: `epoch` is the epoch to resume in, `batch` the last batch done in it (-1: none). */
static int backup(backup_and_restore *br, int epoch, int64_t batch) {
  kcb_model *m = br->base.model;
  kcb_save_options so = KCB_SAVE_OPTIONS_INIT;
  so.layout = KCB_LAYOUT_WEIGHTS_H5;
  so.epoch = epoch;
  so.batch = batch;
  int rc = 0;
  if (br->o.double_checkpoint && access(br->weights, F_OK) == 0) {
    if (rename(br->weights, br->weights_bkp) != 0)
      return kcb__error(kcb__error_from_errno(errno), "BackupAndRestore: cannot move %s to %s: %s", br->weights,
                        br->weights_bkp, strerror(errno));
    if (access(br->meta, F_OK) == 0) (void)rename(br->meta, br->meta_bkp);
  }
  /* The event files first: the steps up to this backup are never trained again after a kill. */
  kcb__model_flush_writers(m);
  /* A mid-epoch backup stores the shuffle RNG as it was when the epoch began, so the resumed epoch
   * draws the same order and carries on after `batch`. */
  kcb__rng current = m->shuffle_rng;
  if (batch >= 0) m->shuffle_rng = br->epoch_shuffle_rng;
  rc = kcb_model_save(m, br->weights, &so);
  m->shuffle_rng = current;
  if (rc) return rc;
  m->backup_written = 1;
  br->saved_epoch = epoch, br->saved_batch = batch;
  char json[96];
  int n = snprintf(json, sizeof json, "{\"epoch\": %d, \"batch\": %lld}", epoch, (long long)(batch >= 0 ? batch : 0));
  return kcb__file_write_atomic(br->meta, json, (size_t)n);
}

static int br_on_train_batch_end(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  backup_and_restore *br = (backup_and_restore *)cb;
  (void)logs;
  br->last_batch = batch;
  if (br->o.save_freq <= 0 || !kcb__save_counter_step(&br->counter, br->o.save_freq, batch)) return 0;
  return backup(br, br->current_epoch, batch);
}

static int br_on_epoch_end(kcb_callback *cb, int epoch, kcb_logs *logs) {
  backup_and_restore *br = (backup_and_restore *)cb;
  (void)logs;
  br->current_epoch = epoch + 1;
  br->last_batch = -1;
  br->counter.last_batch_seen = 0;
  return br->o.save_freq == 0 ? backup(br, epoch + 1, -1) : 0;
}

/* A run that ended normally: completed.json (mark_completed), then the backup files go. */
static int finish(backup_and_restore *br, int epochs) {
  if (br->o.mark_completed) {
    char json[64];
    int n = snprintf(json, sizeof json, "{\"epochs\": %d}\n", epochs);
    int rc = kcb__file_write_atomic(br->done_marker, json, (size_t)n);
    if (rc) return rc;
  }
  if (!br->o.delete_checkpoint) return 0;
  /* Keras removes the whole directory; only our files go, then the directory if empty. The older
   * copy first, then the position, then the weights: a kill between the deletions leaves the last
   * weights, which say where they were saved, never the epoch before's copy alone (a rerun would
   * train the last epoch again) nor a position without weights (which a new run refuses). */
  const char *files[] = {br->weights_bkp, br->meta_bkp, br->meta, br->weights};
  for (size_t i = 0; i < 4; i++)
    if (unlink(files[i]) != 0 && errno != ENOENT)
      return kcb__error(kcb__error_from_errno(errno), "BackupAndRestore: cannot delete %s: %s", files[i], strerror(errno));
  remove_stale_temps(br);
  (void)rmdir(br->dir);
  return 0;
}

static int br_on_train_end(kcb_callback *cb, kcb_logs *logs) {
  backup_and_restore *br = (backup_and_restore *)cb;
  (void)logs;
  /* Stopped on request (Ctrl-C): back up where it stopped and keep the backup, to resume from. */
  if (kcb_model_interrupted(cb->model)) return backup(br, br->current_epoch, br->last_batch);
  /* fit's count: this callback's own stops where keep going turned it off after a failed backup */
  int epochs = cb->model ? cb->model->epochs_done : br->current_epoch;
  if (br->o.defer_completion) {
    br->finish_pending = 1, br->finish_epochs = epochs;
    /* kept for a rerun that trains nothing more: a backup every N batches may have been written
     * before the run's last batches, which the rerun would train again */
    if (br->saved_epoch != br->current_epoch || br->saved_batch != -1) return backup(br, br->current_epoch, -1);
    return 0;
  }
  return finish(br, epochs);
}

static void br_destroy(kcb_callback *cb) {
  backup_and_restore *br = (backup_and_restore *)cb;
  free(br->dir);
  free(br->weights);
  free(br->weights_bkp);
  free(br->meta);
  free(br->meta_bkp);
  free(br->done_marker);
}

static const kcb_callback_ops backup_and_restore_ops = {
    .name = "BackupAndRestore",
    .on_train_begin = br_on_train_begin,
    .on_train_end = br_on_train_end,
    .on_epoch_begin = br_on_epoch_begin,
    .on_epoch_end = br_on_epoch_end,
    .on_train_batch_end = br_on_train_batch_end,
    .destroy = br_destroy,
};

int kcb_backup_and_restore_new(kcb_callback **out, const char *backup_dir, const kcb_backup_and_restore_options *opts) {
  if (!out) return kcb__error(KCB_EINVAL, "BackupAndRestore: out is NULL");
  kcb_backup_and_restore_options defaults = KCB_BACKUP_AND_RESTORE_OPTIONS_INIT;
  const kcb_backup_and_restore_options *o = opts ? opts : &defaults;
  *out = NULL;
  if (!backup_dir || !backup_dir[0]) return kcb__error(KCB_EINVAL, "Empty `backup_dir` argument passed");
  if (o->save_freq < 0)
    return kcb__error(KCB_EINVAL, "Invalid value for argument `save_freq`. Received: save_freq=%lld. Expected either "
                      "'epoch' (0) or an integer value > 0", (long long)o->save_freq);
  backup_and_restore *br = calloc(1, sizeof *br);
  if (!br) return kcb__error(KCB_ENOMEM, "out of memory creating BackupAndRestore");
  br->base.ops = &backup_and_restore_ops;
  br->base.owned_by_kcb = 1;
  br->o = *o;
  br->stream = o->stream ? o->stream : stdout;
  br->warnings = o->stream ? o->stream : stderr;
  br->dir = strdup(backup_dir);
  br->weights = kcb__path_join(backup_dir, "latest.weights.h5");
  br->weights_bkp = kcb__path_join(backup_dir, "latest.weights.h5.bkp");
  br->meta = kcb__path_join(backup_dir, "training_metadata.json");
  br->meta_bkp = kcb__path_join(backup_dir, "training_metadata.json.bkp");
  br->done_marker = kcb__path_join(backup_dir, "completed.json");
  if (!br->dir || !br->weights || !br->weights_bkp || !br->meta || !br->meta_bkp || !br->done_marker) {
    br_destroy(&br->base);
    free(br);
    return kcb__error(KCB_ENOMEM, "out of memory creating BackupAndRestore");
  }
  *out = &br->base;
  return 0;
}

int kcb_backup_and_restore_status(kcb_backup_status *out, const char *backup_dir) {
  if (!out) return kcb__error(KCB_EINVAL, "BackupAndRestore status: out is NULL");
  memset(out, 0, sizeof *out);
  out->batch = -1;
  if (!backup_dir || !backup_dir[0]) return kcb__error(KCB_EINVAL, "Empty `backup_dir` argument passed");
  const char *names[] = {"latest.weights.h5", "training_metadata.json", "latest.weights.h5.bkp",
                         "training_metadata.json.bkp", "completed.json"};
  char *paths[5] = {NULL};
  int rc = 0;
  for (size_t i = 0; i < 5; i++)
    if (!(paths[i] = kcb__path_join(backup_dir, names[i]))) rc = kcb__error(KCB_ENOMEM, "out of memory");
  /* the order fit's BackupAndRestore tries them in: the latest, then its .bkp copy */
  for (size_t i = 0; rc == 0 && i < 4; i += 2) {
    if (access(paths[i], F_OK) != 0) continue;
    rc = backup_position(paths[i], paths[i + 1], &out->epoch, &out->batch);
    if (rc == 0) {
      out->state = KCB_BACKUP_RESUMABLE;
      kcb__strlcpy(out->path, paths[i], sizeof out->path);
      break;
    }
    if (i == 0 && access(paths[2], F_OK) == 0) rc = 0; /* fit falls back to the .bkp copy */
  }
  if (rc == 0 && out->state == KCB_BACKUP_NONE && access(paths[4], F_OK) != 0)
    rc = weights_missing(backup_dir, paths[0], paths[1], paths[3]);
  if (rc == 0 && out->state == KCB_BACKUP_NONE && access(paths[4], F_OK) == 0) {
    json_error_t err;
    json_t *root = json_load_file(paths[4], 0, &err);
    json_t *epochs = root ? json_object_get(root, "epochs") : NULL;
    out->state = KCB_BACKUP_COMPLETED;
    out->epoch = json_is_integer(epochs) ? (int)json_integer_value(epochs) : -1;
    kcb__strlcpy(out->path, paths[4], sizeof out->path);
    json_decref(root);
  }
  for (size_t i = 0; i < 5; i++) free(paths[i]);
  return rc;
}

int kcb_backup_and_restore_finish(kcb_callback *cb) {
  if (!cb || cb->ops != &backup_and_restore_ops)
    return kcb__error(KCB_EINVAL, "kcb_backup_and_restore_finish: not a BackupAndRestore callback");
  backup_and_restore *br = (backup_and_restore *)cb;
  if (!br->finish_pending) return 0;
  br->finish_pending = 0;
  return finish(br, br->finish_epochs);
}
