/* callbacks/model_checkpoint.c — Keras 3's ModelCheckpoint (spec/keras-callbacks.md §2.4) with
 * Lightning's save_top_k and save_last (§5). File names come from a Python format template. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "callbacks/checkpoint_internal.h"
#include "callbacks/monitor.h"
#include "core/pyformat.h"
#include "internal.h"
#include "kcb/checkpoint.h"
#include "model/model_internal.h"

#define PATH_CAP 4096

typedef struct kept_file {
  char *path;
  double value;
} kept_file;

typedef struct model_checkpoint {
  kcb_callback base;
  char *filepath;          /* the template */
  kcb__monitor monitor;
  kcb_model_checkpoint_options o;
  FILE *stream;
  FILE *warnings; /* Keras's warnings.warn: stderr unless a stream was given */
  const char *suffix;      /* ".weights.h5", ".keras" or ".h5": for last.<ext> */
  int has_batch_key, has_val_key, n_fields;
  /* state kept across fits, as Keras keeps it on the instance */
  int has_best;
  double best;
  int current_epoch;
  int began;               /* this fit's first epoch has begun (restore_best decides then) */
  kcb__save_counter counter;
  kept_file *kept;         /* save_top_k > 0: best first */
  size_t n_kept;
  char last_saved[PATH_CAP];
  char save_last_path[PATH_CAP]; /* save_last's copy, once written ("" before) */
  int warned_missing; /* the monitor-missing warning was given */
  char **saved;            /* every distinct file written by the last fit, in order */
  size_t n_saved;
} model_checkpoint;

/* Notes a file written this fit (once, however often it was replaced). Out of memory only
 * shortens the list, which is for people to read. */
static void note_saved(model_checkpoint *mc, const char *path) {
  for (size_t i = 0; i < mc->n_saved; i++)
    if (strcmp(mc->saved[i], path) == 0) return;
  char **grown = realloc(mc->saved, (mc->n_saved + 1) * sizeof *grown);
  if (!grown) return;
  mc->saved = grown;
  if ((mc->saved[mc->n_saved] = strdup(path))) mc->n_saved++;
}

static void forget_saved(model_checkpoint *mc) {
  for (size_t i = 0; i < mc->n_saved; i++) free(mc->saved[i]);
  free(mc->saved);
  mc->saved = NULL;
  mc->n_saved = 0;
  mc->save_last_path[0] = '\0';
}

/* ---- file names ---------------------------------------------------------------------------- */

typedef struct name_ctx {
  const kcb_logs *logs;
  int epoch;
  int64_t batch; /* -1: none */
} name_ctx;

static int lookup(void *vctx, const char *key, size_t len, kcb__pyvalue *out) {
  const name_ctx *c = vctx;
  char k[KCB_LOGS_KEY_MAX];
  if (len >= sizeof k) return 0;
  memcpy(k, key, len);
  k[len] = '\0';
  out->is_int = 0;
  if (strcmp(k, "epoch") == 0) {
    out->is_int = 1;
    out->i = c->epoch + 1;
    return 1;
  }
  if (strcmp(k, "batch") == 0 && c->batch >= 0 && !kcb_logs_find(c->logs, "batch")) {
    out->is_int = 1;
    out->i = c->batch + 1;
    return 1;
  }
  return kcb_logs_get(c->logs, k, &out->d);
}

static int file_path(const model_checkpoint *mc, int epoch, int64_t batch, const kcb_logs *logs, char *out) {
  name_ctx c = {logs, epoch, batch};
  return kcb__pyformat(out, PATH_CAP, mc->filepath, lookup, &c);
}

/* A sample value for every field: epoch and batch 1, any logged number 0.5. */
static int sample_lookup(void *vctx, const char *key, size_t len, kcb__pyvalue *out) {
  (void)vctx;
  out->is_int = (len == 5 && memcmp(key, "epoch", 5) == 0) || (len == 5 && memcmp(key, "batch", 5) == 0);
  out->i = 1;
  out->d = 0.5;
  return 1;
}

/* A template whose names cannot be made (a field wider than a path, a name longer than a file
 * name may be) is refused when given, not at the first save after an epoch of training. */
static int check_formatted_length(const char *filepath) {
  char *sample = malloc(PATH_CAP);
  if (!sample) return kcb__error(KCB_ENOMEM, "out of memory creating ModelCheckpoint");
  int rc = kcb__pyformat(sample, PATH_CAP, filepath, sample_lookup, NULL);
  if (rc) {
    char reason[600];
    kcb__strlcpy(reason, kcb_error_last(), sizeof reason);
    rc = kcb__error(KCB_EINVAL, "ModelCheckpoint: %s", reason);
  }
  for (const char *part = sample; rc == 0 && *part;) {
    size_t len = strcspn(part, "/");
    if (len > 255)
      rc = kcb__error(KCB_EINVAL, "ModelCheckpoint: filepath '%.200s' makes names like '%.40s...' of %zu bytes, more than a "
                      "file name may have (255)", filepath, part, len);
    part += len + (part[len] == '/');
  }
  free(sample);
  return rc;
}

static int note_field(void *ctx, const kcb__pyfield *f) {
  model_checkpoint *mc = ctx;
  mc->n_fields++;
  if (f->key_len == 5 && memcmp(f->key, "batch", 5) == 0) mc->has_batch_key = 1;
  if (f->key_len > 4 && memcmp(f->key, "val_", 4) == 0) mc->has_val_key = 1;
  return 0;
}

/* ---- save_top_k bookkeeping ---------------------------------------------------------------- */

/* Whether a is a better value than b for the monitor (NaN is the worst). */
static int better(const model_checkpoint *mc, double a, double b) {
  if (isnan(a)) return 0;
  if (isnan(b)) return 1;
  return mc->monitor.mode == KCB_MONITOR_MAX ? a > b : a < b;
}

static void drop_kept(model_checkpoint *mc, size_t i) {
  free(mc->kept[i].path);
  memmove(mc->kept + i, mc->kept + i + 1, (mc->n_kept - i - 1) * sizeof *mc->kept);
  mc->n_kept--;
}

/* Inserts path in value order (replacing an entry for the same path). */
static int keep(model_checkpoint *mc, const char *path, double value) {
  for (size_t i = 0; i < mc->n_kept; i++)
    if (strcmp(mc->kept[i].path, path) == 0) { drop_kept(mc, i); break; }
  kept_file *grown = realloc(mc->kept, (mc->n_kept + 1) * sizeof *grown);
  if (!grown) return kcb__error(KCB_ENOMEM, "ModelCheckpoint: out of memory");
  mc->kept = grown;
  char *copy = strdup(path);
  if (!copy) return kcb__error(KCB_ENOMEM, "ModelCheckpoint: out of memory");
  size_t at = mc->n_kept;
  while (at > 0 && better(mc, value, mc->kept[at - 1].value)) at--;
  memmove(mc->kept + at + 1, mc->kept + at, (mc->n_kept - at) * sizeof *mc->kept);
  mc->kept[at].path = copy;
  mc->kept[at].value = value;
  mc->n_kept++;
  return 0;
}

/* Deletes the files beyond the k best. */
static void trim_kept(model_checkpoint *mc) {
  while (mc->o.save_top_k >= 0 && mc->n_kept > (size_t)mc->o.save_top_k) {
    size_t last = mc->n_kept - 1;
    if (unlink(mc->kept[last].path) != 0 && errno != ENOENT && mc->o.verbose > 0)
      fprintf(mc->warnings, "UserWarning: ModelCheckpoint could not delete %s: %s\n", mc->kept[last].path, strerror(errno));
    drop_kept(mc, last);
  }
}

/* One file an earlier run saved under the template: its value taken into the best and the kept. */
static int restore_one(model_checkpoint *mc, const char *path) {
  kcb_checkpoint_info info;
  int read_rc = kcb_checkpoint_info_read(&info, path);
  if (read_rc != 0) { /* not a checkpoint, or cut by a kill: not counted, said when verbose */
    if (mc->o.verbose > 0 && read_rc != KCB_ENOENT)
      fprintf(mc->stream, "ModelCheckpoint: %s matches the filepath but does not read back (%s); it is not "
              "counted among the files kept\n", path, kcb_error_last());
    kcb_error_clear();
    return 0;
  }
  if (!info.has_monitor || strcmp(info.monitor, mc->monitor.name) != 0 || isnan(info.monitor_value)) return 0;
  if (mc->o.save_best_only && kcb__monitor_is_improvement(&mc->monitor, info.monitor_value, mc->has_best, mc->best)) {
    mc->best = info.monitor_value;
    mc->has_best = 1;
  }
  return mc->o.save_top_k > 0 ? keep(mc, path, info.monitor_value) : 0;
}

/* The files under dir whose path below it (rel: its part so far) matches the template's tail,
 * `levels` directories down. */
static int restore_under(model_checkpoint *mc, const char *dir, const char *tail, const char *rel, int levels) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  struct dirent *e;
  int rc = 0;
  while (rc == 0 && (e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char path[PATH_CAP], below[PATH_CAP];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path ||
        (size_t)snprintf(below, sizeof below, "%s%s", rel, e->d_name) >= sizeof below)
      continue;
    if (levels > 0) {
      struct stat st;
      if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) && strlen(below) + 1 < sizeof below) {
        strcat(below, "/");
        rc = restore_under(mc, path, tail, below, levels - 1);
      }
    } else if (kcb__pyformat_match(tail, below, NULL, NULL)) {
      rc = restore_one(mc, strcmp(dir, ".") == 0 ? e->d_name : path);
    }
  }
  closedir(d);
  return rc;
}

/* Reads back what earlier runs saved for this monitor under this template, so that a resumed run
 * neither forgets its best value nor overwrites a better file (keras #12803, #11420). Fields may
 * stand in the template's directories too ('ckpt/epoch_{epoch:02d}/model.keras', as Keras allows):
 * the walk starts at the last directory without one. */
static int restore_from_files(model_checkpoint *mc) {
  const char *brace = strchr(mc->filepath, '{'), *cut = strrchr(mc->filepath, '/');
  if (brace && cut && brace < cut) { /* a field in the directories: the last '/' before it */
    cut = NULL;
    for (const char *q = mc->filepath; q < brace; q++)
      if (*q == '/') cut = q;
  }
  char dir[PATH_CAP];
  const char *tail = mc->filepath;
  if (cut) {
    size_t n = (size_t)(cut - mc->filepath);
    if (n >= sizeof dir) return 0;
    memcpy(dir, mc->filepath, n);
    dir[n] = '\0';
    if (n == 0) strcpy(dir, "/");
    tail = cut + 1;
  } else {
    strcpy(dir, ".");
  }
  int levels = 0;
  for (const char *q = tail; *q; q++) levels += *q == '/';
  int rc = restore_under(mc, dir, tail, "", levels);
  if (rc == 0) trim_kept(mc);
  return rc;
}

/* ---- hooks --------------------------------------------------------------------------------- */

static int mc_on_train_begin(kcb_callback *cb, kcb_logs *logs) {
  model_checkpoint *mc = (model_checkpoint *)cb;
  (void)logs;
  /* Keras resolves the monitor at the first epoch end; the model's metrics are known here, so an
   * unresolvable monitor fails before any training. */
  forget_saved(mc);
  int rc = kcb__monitor_resolve(&mc->monitor, "ModelCheckpoint", cb->model);
  if (rc) return rc;
  /* Keys that can never be in the logs at save time fail now rather than after an epoch of work. */
  if (mc->has_val_key && mc->o.save_freq > 0)
    return kcb__error(KCB_EKEY, "ModelCheckpoint: filepath \"%s\" uses a val_* key, but with save_freq=%lld it is "
                      "formatted from train batch logs, which have no val_* values", mc->filepath, (long long)mc->o.save_freq);
  if (mc->has_val_key && !(cb->params && cb->params->has_validation))
    return kcb__error(KCB_EKEY, "ModelCheckpoint: filepath \"%s\" uses a val_* key, but fit has no validation data",
                      mc->filepath);
  mc->began = 0;
  /* what an earlier run's kill or second Ctrl-C left mid-write (a directory named by fields is not known yet) */
  const char *slash = strrchr(mc->filepath, '/');
  if (!slash || !memchr(mc->filepath, '{', (size_t)(slash - mc->filepath))) kcb__file_remove_dead_temps(mc->filepath, 0);
  return rc;
}

static int mc_on_epoch_begin(kcb_callback *cb, int epoch, kcb_logs *logs) {
  (void)logs;
  model_checkpoint *mc = (model_checkpoint *)cb;
  mc->current_epoch = epoch;
  /* Decided at the first epoch, once every callback's on_train_begin (BackupAndRestore's resume
   * included) has run: a resumed run does not start at epoch 0. */
  int resumed = epoch > 0, top_k = mc->o.save_top_k > 0;
  if (!mc->began && (mc->o.restore_best > 0 || (mc->o.restore_best < 0 && (resumed || top_k))) &&
      (mc->o.save_best_only || top_k)) {
    for (size_t i = mc->n_kept; i > 0; i--) drop_kept(mc, i - 1);
    int rc = restore_from_files(mc);
    if (rc) return rc;
  }
  if (!mc->began) kcb__save_counter_resume(&mc->counter, cb->model, mc->o.save_freq);
  mc->began = 1;
  return 0;
}

/* Python's "%.5f" of a float: nan and inf without a sign C would add. */
static const char *fixed5(double v, char *buf, size_t size) {
  if (isnan(v)) snprintf(buf, size, "nan");
  else if (isinf(v)) snprintf(buf, size, v > 0 ? "inf" : "-inf");
  else snprintf(buf, size, "%.5f", v);
  return buf;
}

/* Keras's _should_save_model, plus save_top_k's admission test. */
static int should_save(model_checkpoint *mc, int epoch, const kcb_logs *logs, const char *path, int *have_value,
                       double *value) {
  *have_value = kcb__monitor_value(&mc->monitor, logs, value) == 0;
  int ranked = mc->o.save_best_only || mc->o.save_top_k >= 0;
  if (!ranked) {
    if (mc->o.verbose > 0) fprintf(mc->stream, "\nEpoch %d: saving model to %s\n", epoch + 1, path);
    return 1;
  }
  if (!*have_value) {
    if (!mc->warned_missing) /* Python's warnings show one text from one line once */
      fprintf(mc->warnings, "UserWarning: Can save best model only with %s available.\n", mc->monitor.name);
    mc->warned_missing = 1;
    return mc->o.save_top_k != 0;
  }
  if (mc->o.save_best_only) {
    char best_str[40] = "None", value_str[40];
    if (mc->has_best) fixed5(mc->best, best_str, sizeof best_str);
    if (!kcb__monitor_is_improvement(&mc->monitor, *value, mc->has_best, mc->best)) {
      if (mc->o.verbose > 0) fprintf(mc->stream, "\nEpoch %d: %s did not improve from %s\n", epoch + 1, mc->monitor.name, best_str);
      return 0;
    }
    if (mc->o.verbose > 0)
      fprintf(mc->stream, "\nEpoch %d: %s improved from %s to %s, saving model to %s\n", epoch + 1, mc->monitor.name,
              best_str, fixed5(*value, value_str, sizeof value_str), path);
    mc->best = *value;
    mc->has_best = 1;
    if (mc->o.save_top_k < 0) return 1;
  }
  if (mc->o.save_top_k == 0) return 0;
  if (mc->o.save_top_k > 0) {
    /* A name already kept (a fixed name, or a field rounding two values alike) holds one value:
     * it is rewritten only by a better one, or the kept value would be lost to a worse. */
    const kept_file *same = NULL;
    for (size_t i = 0; i < mc->n_kept && !same; i++)
      if (strcmp(mc->kept[i].path, path) == 0) same = &mc->kept[i];
    int enters = same ? better(mc, *value, same->value)
                      : mc->n_kept < (size_t)mc->o.save_top_k || better(mc, *value, mc->kept[mc->n_kept - 1].value);
    if (!enters) {
      if (mc->o.verbose > 0)
        fprintf(mc->stream, "\nEpoch %d: %s was not in top %d\n", epoch + 1, mc->monitor.name, mc->o.save_top_k);
      return 0;
    }
  }
  if (!mc->o.save_best_only && mc->o.verbose > 0) fprintf(mc->stream, "\nEpoch %d: saving model to %s\n", epoch + 1, path);
  return 1;
}

static int write_file(model_checkpoint *mc, const char *path, int epoch, int64_t batch, int have_value, double value) {
  kcb_save_options so = KCB_SAVE_OPTIONS_INIT;
  so.monitor = have_value ? mc->monitor.name : NULL;
  so.monitor_value = value;
  so.epoch = epoch;
  so.batch = batch;
  /* Keras's model.save takes any *.h5 name, *.weights.h5 too, for its legacy full-model file */
  if (!mc->o.save_weights_only && kcb__ends_with(path, ".weights.h5")) so.layout = KCB_LAYOUT_H5;
  int rc = kcb__mkdirs_for(path, "ModelCheckpoint");
  if (rc) return rc;
  rc = kcb_model_save(mc->base.model, path, &so);
  if (rc) {
    char reason[512];
    kcb__strlcpy(reason, kcb_error_last(), sizeof reason);
    return kcb__error(rc, "ModelCheckpoint: cannot save %s: %s", path, reason);
  }
  return 0;
}

static int save_model(model_checkpoint *mc, int epoch, int64_t batch, const kcb_logs *logs) {
  char path[PATH_CAP];
  int have_value = 0;
  double value = NAN;
  int rc = file_path(mc, epoch, batch, logs, path);
  if (rc) return rc;
  int had_best = mc->has_best;
  double old_best = mc->best;
  if (should_save(mc, epoch, logs, path, &have_value, &value)) {
    if ((rc = write_file(mc, path, epoch, batch, have_value, value))) {
      mc->has_best = had_best; /* no file holds the new best: the next epoch must still beat the old */
      mc->best = old_best;
      return rc;
    }
    if (mc->o.verbose > 0) fprintf(mc->stream, "\nEpoch %d: finished saving model to %s\n", epoch + 1, path);
    kcb__strlcpy(mc->last_saved, path, sizeof mc->last_saved);
    note_saved(mc, path);
    if (mc->o.save_top_k > 0 && have_value) {
      if ((rc = keep(mc, path, value))) return rc;
      trim_kept(mc);
    }
  }
  if (mc->o.save_last) {
    char last[PATH_CAP];
    const char *slash = strrchr(mc->filepath, '/');
    if (slash) snprintf(last, sizeof last, "%.*slast%s", (int)(slash - mc->filepath + 1), mc->filepath, mc->suffix);
    else snprintf(last, sizeof last, "last%s", mc->suffix);
    if ((rc = write_file(mc, last, epoch, batch, have_value, value))) return rc;
    kcb__strlcpy(mc->save_last_path, last, sizeof mc->save_last_path);
  }
  fflush(mc->stream);
  return 0;
}

static int mc_on_train_batch_end(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  model_checkpoint *mc = (model_checkpoint *)cb;
  if (mc->o.save_freq <= 0 || !kcb__save_counter_step(&mc->counter, mc->o.save_freq, batch)) return 0;
  return save_model(mc, mc->current_epoch, batch, logs);
}

static int mc_on_epoch_end(kcb_callback *cb, int epoch, kcb_logs *logs) {
  model_checkpoint *mc = (model_checkpoint *)cb;
  int rc = kcb__monitor_resolve(&mc->monitor, "ModelCheckpoint", cb->model);
  if (rc || mc->o.save_freq != 0) return rc;
  return save_model(mc, epoch, -1, logs);
}

static void mc_destroy(kcb_callback *cb) {
  model_checkpoint *mc = (model_checkpoint *)cb;
  for (size_t i = 0; i < mc->n_kept; i++) free(mc->kept[i].path);
  free(mc->kept);
  free(mc->filepath);
  forget_saved(mc);
}

static const kcb_callback_ops model_checkpoint_ops = {
    .name = "ModelCheckpoint",
    .on_train_begin = mc_on_train_begin,
    .on_epoch_begin = mc_on_epoch_begin,
    .on_epoch_end = mc_on_epoch_end,
    .on_train_batch_end = mc_on_train_batch_end,
    .destroy = mc_destroy,
};

int kcb_model_checkpoint_new(kcb_callback **out, const char *filepath, const kcb_model_checkpoint_options *opts) {
  if (!out) return kcb__error(KCB_EINVAL, "ModelCheckpoint: out is NULL");
  kcb_model_checkpoint_options defaults = KCB_MODEL_CHECKPOINT_OPTIONS_INIT;
  const kcb_model_checkpoint_options *o = opts ? opts : &defaults;
  *out = NULL;
  if (!filepath || !filepath[0]) return kcb__error(KCB_EINVAL, "ModelCheckpoint: filepath is empty");
  if (o->save_weights_only && !kcb__ends_with(filepath, ".weights.h5"))
    return kcb__error(KCB_EINVAL, "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided must "
                      "end in `.weights.h5` (Keras weights format). Received: filepath=%s", filepath);
  if (!o->save_weights_only && !kcb__ends_with(filepath, ".keras") && !kcb__ends_with(filepath, ".h5"))
    return kcb__error(KCB_EINVAL, "The filepath provided must end in `.keras` (Keras model format). Received: filepath=%s",
                      filepath);
  if (o->save_freq < 0)
    return kcb__error(KCB_EINVAL, "Unrecognized save_freq: %lld. Expected save_freq are 'epoch' (0) or integer values "
                      "(> 0)", (long long)o->save_freq);
  if (o->save_top_k < -1) return kcb__error(KCB_EINVAL, "ModelCheckpoint: save_top_k must be >= -1, got %d", o->save_top_k);
  kcb__monitor monitor;
  int rc = kcb__monitor_init(&monitor, "ModelCheckpoint", o->monitor, o->mode, 0);
  if (rc) return rc;
  model_checkpoint *mc = calloc(1, sizeof *mc);
  if (!mc || !(mc->filepath = strdup(filepath))) {
    free(mc);
    return kcb__error(KCB_ENOMEM, "out of memory creating ModelCheckpoint");
  }
  if ((rc = kcb__pyformat_fields(filepath, note_field, mc))) {
    char reason[600];
    kcb__strlcpy(reason, kcb_error_last(), sizeof reason);
    free(mc->filepath);
    free(mc);
    return kcb__error(rc, "ModelCheckpoint: %s", reason);
  }
  if ((rc = check_formatted_length(filepath)) != 0) {
    free(mc->filepath);
    free(mc);
    return rc;
  }
  if (o->save_top_k > 1 && mc->n_fields == 0) {
    free(mc->filepath);
    free(mc);
    return kcb__error(KCB_EINVAL, "ModelCheckpoint: save_top_k=%d needs a filepath with fields such as {epoch} "
                      "(\"%s\" names a single file)", o->save_top_k, filepath);
  }
  if (mc->has_batch_key && o->save_freq == 0) { /* Keras's KeyError at the first save, said before any work */
    free(mc->filepath);
    free(mc);
    return kcb__error(KCB_EKEY, "Failed to format this callback filepath: \"%s\". Reason: 'batch' (there is no batch "
                      "with save_freq=\"epoch\")", filepath);
  }
  mc->base.ops = &model_checkpoint_ops;
  mc->base.owned_by_kcb = 1;
  mc->monitor = monitor;
  mc->o = *o;
  mc->o.monitor = mc->monitor.name;
  mc->stream = o->stream ? o->stream : stdout;
  mc->warnings = o->stream ? o->stream : stderr;
  mc->suffix = kcb__ends_with(filepath, ".weights.h5") ? ".weights.h5" : kcb__ends_with(filepath, ".keras") ? ".keras" : ".h5";
  mc->has_best = !isnan(o->initial_value_threshold);
  mc->best = o->initial_value_threshold;
  *out = &mc->base;
  return 0;
}

static const model_checkpoint *as_mc(const kcb_callback *cb) {
  return cb && cb->ops == &model_checkpoint_ops ? (const model_checkpoint *)cb : NULL;
}

double kcb_model_checkpoint_best(const kcb_callback *cb) {
  const model_checkpoint *mc = as_mc(cb);
  return mc && mc->has_best ? mc->best : NAN;
}

const char *kcb_model_checkpoint_last_saved(const kcb_callback *cb) {
  const model_checkpoint *mc = as_mc(cb);
  return mc ? mc->last_saved : "";
}

const char *kcb_model_checkpoint_kept(const kcb_callback *cb, size_t i, double *value) {
  const model_checkpoint *mc = as_mc(cb);
  if (!mc || i >= mc->n_kept) return NULL;
  if (value) *value = mc->kept[i].value;
  return mc->kept[i].path;
}

const char *kcb_model_checkpoint_save_last_path(const kcb_callback *cb) {
  const model_checkpoint *mc = as_mc(cb);
  return mc && mc->save_last_path[0] ? mc->save_last_path : NULL;
}

const char *kcb_model_checkpoint_saved(const kcb_callback *cb, size_t i) {
  const model_checkpoint *mc = as_mc(cb);
  return mc && i < mc->n_saved ? mc->saved[i] : NULL;
}

typedef struct key_check {
  const char *const *keys;
  size_t n_keys;
  const char *filepath;
} key_check;

static int field_is(const kcb__pyfield *f, const char *key) {
  return key && strlen(key) == f->key_len && strncmp(key, f->key, f->key_len) == 0;
}

static int check_field(void *ctx, const kcb__pyfield *f) {
  const key_check *c = ctx;
  if (field_is(f, "epoch") || field_is(f, "batch")) return 0; /* ModelCheckpoint fills them in */
  for (size_t i = 0; i < c->n_keys; i++)
    if (field_is(f, c->keys[i])) return 0;
  char have[1024];
  size_t w = (size_t)snprintf(have, sizeof have, "epoch, batch (with save_freq N)");
  for (size_t i = 0; i < c->n_keys && w < sizeof have; i++)
    w += (size_t)snprintf(have + w, sizeof have - w, ", %s", c->keys[i] ? c->keys[i] : "");
  return kcb__error(KCB_EKEY, "filepath '%s' names {%.*s}, which the logs will not have (they will have: %s)",
                    c->filepath, (int)f->key_len, f->key, have);
}

int kcb_model_checkpoint_check_keys(const char *filepath, const char *const *keys, size_t n_keys) {
  if (!filepath) return kcb__error(KCB_EINVAL, "ModelCheckpoint: NULL filepath");
  if (!keys && n_keys) return kcb__error(KCB_EINVAL, "ModelCheckpoint: keys is NULL");
  key_check c = {keys, n_keys, filepath};
  return kcb__pyformat_fields(filepath, check_field, &c);
}
