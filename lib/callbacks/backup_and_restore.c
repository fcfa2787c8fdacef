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
  int current_epoch;
  kcb__save_counter counter;
  kcb__rng epoch_shuffle_rng; /* the shuffle RNG before this epoch's shuffle */
} backup_and_restore;

/* Keras's training_metadata.json ({"epoch": E, ...}): the epoch to resume in, or -1. A backup
 * Keras wrote has no kcb attributes, only this file. */
static int64_t metadata_epoch(const char *meta_path) {
  json_error_t err;
  char *text = NULL;
  size_t len = 0;
  json_t *root = NULL;
  if (kcb_file_read(meta_path, (size_t)1 << 20, &text, &len) == 0) root = json_loadb(text, len, 0, &err);
  free(text);
  json_t *epoch = root ? json_object_get(root, "epoch") : NULL;
  int64_t e = json_is_integer(epoch) ? (int64_t)json_integer_value(epoch) : -1;
  if (e > 2147483646) e = -1; /* fit counts epochs in an int: a larger one is no epoch kcb wrote */
  json_decref(root);
  return e;
}

static int load_backup(backup_and_restore *br, const char *path, const char *meta_path) {
  kcb_checkpoint_info info;
  int rc = kcb_checkpoint_info_read(&info, path);
  if (rc) return rc;
  kcb_load_options lo = KCB_LOAD_OPTIONS_INIT;
  if ((rc = kcb_model_load_weights(br->base.model, path, &lo))) return rc;
  kcb_model *m = br->base.model;
  m->resume_pending = 1;
  if (info.epoch >= 0) { /* kcb's own backup: the epoch, and the batch to carry on after */
    m->resume_epoch = (int)info.epoch;
    m->resume_batch = info.batch;
  } else { /* Keras's: the epoch from its metadata, restarted from its first batch as Keras does */
    int64_t e = metadata_epoch(meta_path);
    m->resume_epoch = e > 0 ? (int)e : 0;
    m->resume_batch = -1;
  }
  return 0;
}

/* Removes the temporary files of backups cut by a kill (`[.]latest.weights.h5.tmp-*`,
 * `[.]training_metadata.json.tmp-*`): they are never read, and would keep the directory from
 * being removed at the end. */
static void remove_stale_temps(const backup_and_restore *br) {
  DIR *d = opendir(br->dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    const char *n = e->d_name + (e->d_name[0] == '.');
    if ((strncmp(n, "latest.weights.h5", 17) == 0 || strncmp(n, "training_metadata.json", 22) == 0) && strstr(n, ".tmp-")) {
      char *path = kcb__path_join(br->dir, e->d_name);
      if (!path) break;
      (void)unlink(path);
      free(path);
    }
  }
  closedir(d);
}

static int br_on_train_begin(kcb_callback *cb, kcb_logs *logs) {
  backup_and_restore *br = (backup_and_restore *)cb;
  (void)logs;
  int rc = kcb__mkdirs(br->dir, "BackupAndRestore");
  if (rc) return rc;
  br->counter = (kcb__save_counter){0, 0};
  remove_stale_temps(br);
  if (access(br->weights, F_OK) == 0) {
    rc = load_backup(br, br->weights, br->meta);
    if (rc == 0) return 0;
    if (access(br->weights_bkp, F_OK) != 0) {
      char reason[600];
      kcb__strlcpy(reason, kcb_error_last(), sizeof reason);
      return kcb__error(rc, "BackupAndRestore: cannot restore %s: %s", br->weights, reason);
    }
    fprintf(br->stream, "UserWarning: BackupAndRestore could not read %s (%s); restoring %s instead.\n", br->weights,
            kcb_error_last(), br->weights_bkp);
    fflush(br->stream);
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
  }
  return 0;
}

static int br_on_epoch_begin(kcb_callback *cb, int epoch, kcb_logs *logs) {
  backup_and_restore *br = (backup_and_restore *)cb;
  (void)logs;
  br->current_epoch = epoch;
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
  /* A mid-epoch backup stores the shuffle RNG as it was when the epoch began, so the resumed epoch
   * draws the same order and carries on after `batch`. */
  kcb__rng current = m->shuffle_rng;
  if (batch >= 0) m->shuffle_rng = br->epoch_shuffle_rng;
  rc = kcb_model_save(m, br->weights, &so);
  m->shuffle_rng = current;
  if (rc) return rc;
  char json[96];
  int n = snprintf(json, sizeof json, "{\"epoch\": %d, \"batch\": %lld}", epoch, (long long)(batch >= 0 ? batch : 0));
  return kcb__file_write_atomic(br->meta, json, (size_t)n);
}

static int br_on_train_batch_end(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  backup_and_restore *br = (backup_and_restore *)cb;
  (void)logs;
  if (br->o.save_freq <= 0 || !kcb__save_counter_step(&br->counter, br->o.save_freq, batch)) return 0;
  return backup(br, br->current_epoch, batch);
}

static int br_on_epoch_end(kcb_callback *cb, int epoch, kcb_logs *logs) {
  backup_and_restore *br = (backup_and_restore *)cb;
  (void)logs;
  br->current_epoch = epoch + 1;
  br->counter.last_batch_seen = 0;
  return br->o.save_freq == 0 ? backup(br, epoch + 1, -1) : 0;
}

static int br_on_train_end(kcb_callback *cb, kcb_logs *logs) {
  backup_and_restore *br = (backup_and_restore *)cb;
  (void)logs;
  if (!br->o.delete_checkpoint) return 0;
  /* Keras removes the whole directory; only our files go, then the directory if empty. */
  const char *files[] = {br->weights, br->weights_bkp, br->meta, br->meta_bkp};
  for (size_t i = 0; i < 4; i++)
    if (unlink(files[i]) != 0 && errno != ENOENT)
      return kcb__error(kcb__error_from_errno(errno), "BackupAndRestore: cannot delete %s: %s", files[i], strerror(errno));
  remove_stale_temps(br);
  (void)rmdir(br->dir);
  return 0;
}

static void br_destroy(kcb_callback *cb) {
  backup_and_restore *br = (backup_and_restore *)cb;
  free(br->dir);
  free(br->weights);
  free(br->weights_bkp);
  free(br->meta);
  free(br->meta_bkp);
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
  br->dir = strdup(backup_dir);
  br->weights = kcb__path_join(backup_dir, "latest.weights.h5");
  br->weights_bkp = kcb__path_join(backup_dir, "latest.weights.h5.bkp");
  br->meta = kcb__path_join(backup_dir, "training_metadata.json");
  br->meta_bkp = kcb__path_join(backup_dir, "training_metadata.json.bkp");
  if (!br->dir || !br->weights || !br->weights_bkp || !br->meta || !br->meta_bkp) {
    br_destroy(&br->base);
    free(br);
    return kcb__error(KCB_ENOMEM, "out of memory creating BackupAndRestore");
  }
  *out = &br->base;
  return 0;
}
