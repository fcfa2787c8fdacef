/* callbacks/tensorboard.c — Keras's TensorBoard callback (spec/keras-callbacks.md §2.9): the same
 * run directories, tags and steps, written through the summary writer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "io/tfevents/summary_writer_internal.h"
#include "kcb/tb_plugins.h"
#include "kcb/tensorboard.h"
#include "model/config_json.h"
#include "model/model_internal.h"

typedef struct tensorboard {
  kcb_callback base;
  kcb_tensorboard_options o; /* log_dir and hparams point into owned copies below */
  char *log_dir;
  kcb_hparam *hparams;
  kcb_summary_writer *train, *val, *root;
  int64_t global_train_batch;
  double batch_start, epoch_start;
  int64_t epoch_start_iterations;
  int wrote_graph, hp_started, hp_experiment, hp_ended;
  int resumable; /* this fit runs with a BackupAndRestore: a failure or a stop will be resumed */
  int epoch_seen; /* this fit's first epoch has begun */
  int64_t logged_epoch[2]; /* resumed after a kill: the last epoch the earlier run logged in train/, validation/ */
  uint8_t *pixels; /* scratch for weight images */
  size_t pixels_cap;
  /* PR curves: the last validation pass's predictions, gathered batch by batch */
  char **class_names;   /* o.n_class_names owned copies */
  float *val_pred;      /* (val_n, val_width) */
  float *val_label;     /* (val_n): class index, or the 0/1 label of a one-unit output */
  size_t val_n, val_cap, val_width;
  int val_ready;        /* a validation pass ended since the last PR curves */
  int wrote_layout;
  /* profile_batch: the trace of the batches being profiled */
  kcb_profiler *profiler;
  double profile_batch_start; /* of the current batch, kcb_profiler_now */
  char *profile_path;         /* the last trace written */
  char **event_files;         /* every event file opened, over all fits, in order (kcb_tensorboard_event_file) */
  size_t n_event_files;
} tensorboard;

static double monotonic_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int open_run(tensorboard *tb, kcb_summary_writer **w, const char *run) {
  if (*w) return 0;
  size_t n = strlen(tb->log_dir) + strlen(run) + 2;
  char *dir = malloc(n);
  if (!dir) return kcb__error(KCB_ENOMEM, "TensorBoard: out of memory");
  snprintf(dir, n, "%s%s%s", tb->log_dir, *run ? "/" : "", run);
  kcb_summary_writer_options so = KCB_SUMMARY_WRITER_OPTIONS_INIT;
  so.max_queue = tb->o.max_queue;
  so.flush_secs = tb->o.flush_secs;
  so.filename_suffix = ".v2"; /* TF2's create_file_writer suffix */
  int rc = kcb_summary_writer_new(w, dir, &so);
  free(dir);
  if (!rc && tb->profiler) kcb__summary_writer_set_profiler(*w, tb->profiler);
  char **grown = rc ? NULL : realloc(tb->event_files, (tb->n_event_files + 1) * sizeof *grown);
  if (grown) tb->event_files = grown;
  if (grown && (grown[tb->n_event_files] = strdup(kcb_summary_writer_path(*w)))) tb->n_event_files++;
  return rc; /* an event file left out of the list (no memory) is still written */
}

/* Points the model and every open writer at p (NULL: detaches them). */
static void attach_profiler(tensorboard *tb, kcb_profiler *p) {
  /* detaching leaves alone a profiler that is not ours (the model's owner may have set one) */
  if (tb->base.model && (p || kcb_model_profiler(tb->base.model) == tb->profiler)) kcb_model_set_profiler(tb->base.model, p);
  kcb_summary_writer *writers[3] = {tb->train, tb->val, tb->root};
  for (int i = 0; i < 3; i++)
    if (writers[i]) kcb__summary_writer_set_profiler(writers[i], p);
}

/* Pushes every record added so far to the event files (BackupAndRestore calls it before a backup). */
static int flush_writers(void *ctx) {
  tensorboard *tb = ctx;
  kcb_summary_writer *writers[3] = {tb->train, tb->val, tb->root};
  int rc = 0;
  for (int i = 0; i < 3; i++)
    if (writers[i] && !rc) rc = kcb_summary_writer_flush(writers[i]);
  return rc;
}

/* Ends a profile: <log_dir>/train/plugins/profile/<YYYY_MM_DD_HH_MM_SS>/<host>.trace.json.gz, the
 * directory layout of Keras's traces (the file is Chrome trace-event JSON, README). */
static int finish_profile(tensorboard *tb) {
  if (!tb->profiler) return 0;
  /* what the traced batches queued goes to disk inside the trace, so it shows those writes too */
  int rc = flush_writers(tb);
  attach_profiler(tb, NULL);
  char stamp[32], host[256] = "localhost";
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "%Y_%m_%d_%H_%M_%S", &tm);
  if (gethostname(host, sizeof host - 1) != 0 || !host[0]) strcpy(host, "localhost");
  host[sizeof host - 1] = '\0';
  for (char *c = host; *c; c++)
    if (*c == '/') *c = '_';
  size_t n = strlen(tb->log_dir) + strlen(stamp) + strlen(host) + 64;
  free(tb->profile_path);
  if (rc) {
    tb->profile_path = NULL;
  } else if (!(tb->profile_path = malloc(n))) rc = kcb__error(KCB_ENOMEM, "TensorBoard: out of memory");
  else {
    snprintf(tb->profile_path, n, "%s/train/plugins/profile/%s/%s.trace.json.gz", tb->log_dir, stamp, host);
    rc = kcb_profiler_write(tb->profiler, tb->profile_path);
  }
  kcb_profiler_free(tb->profiler);
  tb->profiler = NULL;
  return rc;
}

static int write_graph(tensorboard *tb) {
  char *json = NULL;
  int rc = kcb__model_config_json(tb->base.model, &json);
  if (!rc) rc = open_run(tb, &tb->train, "train");
  /* Keras: plugin graph_keras_model, content b"1", the model's JSON, step 0 */
  if (!rc) rc = kcb__summary_writer_add_string(tb->train, "keras", json, strlen(json), "graph_keras_model", "1", 0, 0);
  free(json);
  return rc;
}

static int tb_on_train_begin(kcb_callback *cb, kcb_logs *logs) {
  (void)logs;
  tensorboard *tb = (tensorboard *)cb;
  /* a trace left open by a failed fit ends with what it recorded, before this fit counts batches */
  int rc = finish_profile(tb);
  if (rc) return rc;
  tb->global_train_batch = 0;
  tb->epoch_seen = 0;
  tb->resumable = 0;
  tb->logged_epoch[0] = tb->logged_epoch[1] = -1;
  if (cb->model && (rc = kcb__model_add_flusher(cb->model, flush_writers, tb))) return rc;
  if (tb->o.write_graph && !tb->wrote_graph && cb->model) {
    if ((rc = write_graph(tb))) return rc;
    tb->wrote_graph = 1;
  }
  if (tb->o.n_hparams && !tb->hp_started) {
    if ((rc = open_run(tb, &tb->root, ""))) return rc;
    if ((rc = kcb_summary_writer_add_hparams_session_start(tb->root, tb->hparams, tb->o.n_hparams, NULL, 0))) return rc;
    tb->hp_started = 1;
    tb->hp_ended = 0;
  }
  return 0;
}

static int tb_on_train_batch_begin(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  (void)batch, (void)logs;
  tensorboard *tb = (tensorboard *)cb;
  tb->global_train_batch++;
  if (tb->o.write_steps_per_second) tb->batch_start = monotonic_now();
  /* Keras: the trace starts at batch begin of profile_batch's start, 1-based across epochs */
  if (tb->o.profile_batch_start && tb->global_train_batch == tb->o.profile_batch_start && !tb->profiler) {
    int rc = kcb_profiler_new(&tb->profiler);
    if (rc) return rc;
    attach_profiler(tb, tb->profiler);
  }
  if (tb->profiler) tb->profile_batch_start = kcb_profiler_now();
  return 0;
}

/* The batch's scalars, at TensorBoard's update frequency. */
static int write_batch_scalars(tensorboard *tb, const kcb_logs *logs) {
  if (tb->o.update_freq == KCB_TENSORBOARD_UPDATE_EPOCH || tb->global_train_batch % tb->o.update_freq != 0) return 0;
  int rc = open_run(tb, &tb->train, "train");
  if (rc) return rc;
  int64_t step = tb->global_train_batch;
  if (tb->o.write_steps_per_second) {
    double dt = monotonic_now() - tb->batch_start;
    if ((rc = kcb_summary_writer_add_scalar(tb->train, "batch_steps_per_second", dt > 0 ? 1.0 / dt : 0.0, step)))
      return rc;
  }
  char tag[KCB_LOGS_KEY_MAX + 8];
  for (size_t i = 0; i < logs->count; i++) {
    const kcb_log_entry *e = &logs->entries[i];
    if (e->tensor) continue;
    snprintf(tag, sizeof tag, "batch_%s", e->key);
    if ((rc = kcb_summary_writer_add_scalar(tb->train, tag, e->value, step))) return rc;
  }
  return 0;
}

static int tb_on_train_batch_end(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  tensorboard *tb = (tensorboard *)cb;
  double t0 = tb->profiler ? kcb_profiler_now() : 0;
  /* written before the trace ends, as Keras does: the last traced batch's writes are in it */
  int rc = write_batch_scalars(tb, logs);
  if (tb->profiler) {
    /* the batch as TensorBoard saw it, on its own lane: hook spans would not nest inside it */
    (void)kcb_profiler_add(tb->profiler, "train_batch", "batch", tb->profile_batch_start, kcb_profiler_now(), KCB_PROFILE_LANE_BATCHES,
                           "batch", tb->global_train_batch);
    if (tb->global_train_batch >= tb->o.profile_batch_stop) {
      /* this hook's own span, which the callback list adds only after the hook, when the trace is closed */
      (void)kcb_profiler_add(tb->profiler, "TensorBoard.on_train_batch_end", "callback", t0, kcb_profiler_now(),
                             KCB_PROFILE_LANE_TRAINING, "index", batch);
      int finish_rc = finish_profile(tb);
      if (!rc) rc = finish_rc;
    }
  }
  return rc;
}

static int tb_on_test_begin(kcb_callback *cb, kcb_logs *logs) {
  (void)logs;
  tensorboard *tb = (tensorboard *)cb;
  tb->val_n = 0;
  tb->val_ready = 0;
  return 0;
}

/* Keeps the validation batch's outputs for the epoch's PR curves: the pass already computed them. */
static int tb_on_test_batch_end(kcb_callback *cb, int64_t batch, kcb_logs *logs) {
  (void)batch, (void)logs;
  tensorboard *tb = (tensorboard *)cb;
  kcb_tensor pred, target;
  if (!tb->o.pr_curves || !cb->model || kcb_model_last_batch(cb->model, &pred, &target) != 0) return 0;
  size_t count = (size_t)pred.shape[0], width = (size_t)kcb_tensor_sample_size(&pred);
  size_t per_target = (size_t)kcb_tensor_sample_size(&target);
  if (per_target != 1 && per_target != width)
    return kcb__error(KCB_ESHAPE, "TensorBoard PR curves: %zu targets per sample for %zu outputs", per_target, width);
  if (width != tb->val_width) tb->val_n = tb->val_cap = 0; /* the buffers hold val_cap samples of the old width */
  tb->val_width = width;
  if (tb->val_n + count > tb->val_cap) {
    size_t cap = (tb->val_n + count) * 2;
    float *p = realloc(tb->val_pred, cap * width * sizeof *p), *l = p ? realloc(tb->val_label, cap * sizeof *l) : NULL;
    if (p) tb->val_pred = p;
    if (!p || !l) return kcb__error(KCB_ENOMEM, "TensorBoard PR curves: out of memory for %zu samples", cap);
    tb->val_label = l;
    tb->val_cap = cap;
  }
  memcpy(tb->val_pred + tb->val_n * width, pred.data, count * width * sizeof *pred.data);
  for (size_t k = 0; k < count; k++) {
    const float *t = target.data + k * per_target;
    float label = t[0];
    if (per_target > 1) { /* one-hot (categorical) targets: the class is the hot one */
      size_t best = 0;
      for (size_t c = 1; c < per_target; c++)
        if (t[c] > t[best]) best = c;
      label = (float)best;
    }
    tb->val_label[tb->val_n + k] = label;
  }
  tb->val_n += count;
  return 0;
}

static int write_pr_curves(tensorboard *tb, int epoch) {
  int rc = open_run(tb, &tb->val, "validation");
  if (rc) return rc;
  if (tb->val_width == 1) /* one sigmoid unit: the positive class's curve */
    return kcb_summary_writer_add_pr_curve(tb->val, "pr_curves/positive", tb->val_label, tb->val_pred, NULL, tb->val_n,
                                           tb->o.pr_curves, epoch);
  return kcb_summary_writer_add_pr_curves_multiclass(tb->val, "pr_curves/",
                                                     tb->o.n_class_names == tb->val_width ? (const char *const *)tb->class_names : NULL,
                                                     tb->val_width, tb->val_label, tb->val_pred, tb->val_n,
                                                     tb->o.pr_curves, epoch);
}

/* The default custom-scalars layout: one chart per metric (train and validation lines). */
static int write_layout(tensorboard *tb, const kcb_logs *logs) {
  const char *metrics[KCB_LOGS_CAPACITY];
  size_t k = 0;
  for (size_t i = 0; i < logs->count && k < KCB_LOGS_CAPACITY; i++) {
    const kcb_log_entry *e = &logs->entries[i];
    if (e->tensor || strncmp(e->key, "val_", 4) == 0 || strcmp(e->key, "learning_rate") == 0) continue;
    metrics[k++] = e->key;
  }
  int rc = k ? open_run(tb, &tb->train, "train") : 0;
  return k && !rc ? kcb_summary_writer_add_default_layout(tb->train, metrics, k) : rc;
}

static int tb_on_test_end(kcb_callback *cb, kcb_logs *logs) {
  tensorboard *tb = (tensorboard *)cb;
  tb->val_ready = tb->val_n > 0;
  if (!cb->model) return 0;
  int rc = open_run(tb, &tb->val, "validation");
  if (rc) return rc;
  int64_t step = kcb_model_iterations(cb->model);
  char tag[KCB_LOGS_KEY_MAX + 32];
  for (size_t i = 0; i < logs->count; i++) {
    const kcb_log_entry *e = &logs->entries[i];
    if (e->tensor) continue;
    snprintf(tag, sizeof tag, "evaluation_%s_vs_iterations", e->key);
    if ((rc = kcb_summary_writer_add_scalar(tb->val, tag, e->value, step))) return rc;
  }
  return 0;
}

/* The last epoch whose epoch_* points the newest event file of the run directory holds, this
 * process's own (`mine`, may be NULL) aside (-1: none): the killed run's file. Not an older one:
 * when the killed run logged no epoch, an earlier run's epoch in the same directory is not this
 * run's (logging an epoch twice is harmless: the data server keeps the later point of a step). A
 * damaged record is skipped as a reader skips it. */
static int64_t last_logged_epoch(const char *log_dir, const char *run, const kcb_summary_writer *mine) {
  char *dir = kcb__path_join(log_dir, run), **files = NULL;
  size_t n = 0;
  int64_t last = -1;
  const char *own = mine ? kcb_summary_writer_path(mine) : NULL;
  kcb_event_reader *r = NULL;
  if (dir && kcb_tfevents_list_files(dir, &files, &n) == 0 && n > 0) {
    size_t k = own && strcmp(files[n - 1], own) == 0 ? n - 1 : n; /* the newest but this process's own */
    if (k > 0 && kcb_event_reader_open(&r, files[k - 1]) == 0) {
      const kcb_event *e;
      for (int rc; (rc = kcb_event_reader_next(r, &e)) != 0;) {
        if (rc < 0) {
          if (rc != KCB_ETRUNC && rc != KCB_ECRC && rc != KCB_EFORMAT) break;
          continue;
        }
        for (size_t i = 0; i < e->n_values; i++)
          if (!strncmp(e->values[i].tag, "epoch_", 6) && e->step > last) last = e->step;
      }
      kcb_event_reader_free(r);
    }
  }
  kcb_string_list_free(files, n);
  free(dir);
  kcb_error_clear();
  return last;
}

static int tb_on_epoch_begin(kcb_callback *cb, int epoch, kcb_logs *logs) {
  (void)logs;
  tensorboard *tb = (tensorboard *)cb;
  tb->resumable = cb->model && cb->model->backup_attached; /* known once every on_train_begin ran */
  /* A resumed run (BackupAndRestore, initial_epoch) carries the batch steps on from the optimizer's
   * restored iterations, so its batch_* points follow the earlier ones (Keras restarts them at 1). */
  if (!tb->epoch_seen && cb->model && (epoch > 0 || cb->model->resumed))
    tb->global_train_batch = kcb_model_iterations(cb->model);
  /* Resumed from a backup after a kill, the batches after the backup were logged once already: a
   * SessionLog START at the next step makes TensorBoard (and kcb's reader) drop those points, as
   * TF 1's writers did on a restart. Only then: the restored iterations are exact, and every
   * epoch_* point (step = epoch <= iterations) stays. */
  if (!tb->epoch_seen && cb->model && cb->model->resumed) {
    /* ... and the epoch it logged after its last backup is not logged again (backups follow each
     * epoch's points, so it is this one at most): a resumed epoch gives the same values, and a START
     * at an epoch's step would drop every batch point after it */
    tb->logged_epoch[0] = last_logged_epoch(tb->log_dir, "train", tb->train) == epoch ? epoch : -1;
    tb->logged_epoch[1] = last_logged_epoch(tb->log_dir, "validation", tb->val) == epoch ? epoch : -1;
    int rc = open_run(tb, &tb->train, "train");
    if (!rc) rc = kcb_summary_writer_add_session_start(tb->train, tb->global_train_batch + 1);
    if (!rc && cb->params && cb->params->has_validation) {
      rc = open_run(tb, &tb->val, "validation");
      if (!rc) rc = kcb_summary_writer_add_session_start(tb->val, tb->global_train_batch + 1);
    }
    if (rc) return rc;
  }
  tb->epoch_seen = 1;
  if (tb->o.write_steps_per_second) {
    tb->epoch_start = monotonic_now();
    tb->epoch_start_iterations = cb->model ? kcb_model_iterations(cb->model) : 0;
  }
  return 0;
}

/* Keras's _log_weight_as_image: the weight squeezed; 1-D -> one image n tall and 1 wide; 2-D ->
 * rows tall and cols wide, transposed first when rows > cols; 3-D (h, w, k), as a Conv2D kernel
 * with one input channel -> k grey images h x w (channels first, "every kernel a separate
 * image"); 4-D -> images as they lie when the last axis is 3 or 4 (RGB, RGBA); anything else ->
 * no image. tf.summary.image keeps max_outputs=3 images. Values converted as
 * tf.image.convert_image_dtype does (x * 255.5, saturated). */
static int log_weight_image(tensorboard *tb, const kcb_weight_info *wi, const char *tag, int64_t step) {
  int64_t d[4];
  int rank = 0;
  for (int k = 0; k < wi->rank; k++)
    if (wi->shape[k] != 1) {
      if (rank == 4) return 0;
      d[rank++] = wi->shape[k];
    }
  int64_t n = 1, h, w, ch = 1;
  int transpose = 0;
  switch (rank) {
    case 1: h = d[0], w = 1; break;
    case 2:
      h = d[0], w = d[1];
      if (h > w) transpose = 1, h = d[1], w = d[0];
      break;
    case 3: n = d[2], h = d[0], w = d[1]; break;
    case 4:
      if (d[3] != 3 && d[3] != 4) return 0;
      n = d[0], h = d[1], w = d[2], ch = d[3];
      break;
    default: return 0;
  }
  if (n > 3) n = 3; /* tf.summary.image's max_outputs */
  if (h > (1 << 24) || w > (1 << 24)) return 0; /* beyond what the PNG writer takes (a kernel of 16 M rows) */
  size_t total = (size_t)(n * h * w * ch);
  if (total > tb->pixels_cap) {
    uint8_t *p = realloc(tb->pixels, total);
    if (!p) return kcb__error(KCB_ENOMEM, "TensorBoard: out of memory");
    tb->pixels = p;
    tb->pixels_cap = total;
  }
  for (int64_t k = 0; k < n; k++)
    for (int64_t r = 0; r < h; r++)
      for (int64_t c = 0; c < w * ch; c++) {
        int64_t at;
        if (rank == 3) at = (r * w + c) * d[2] + k;         /* (h, w, k) read channels first */
        else if (transpose) at = c * h + r;
        else at = (k * h + r) * w * ch + c;
        /* tf.image.convert_image_dtype's float -> uint8: x * 255.5 in float32, clipped, truncated */
        float v = wi->data[at] * 255.5f;
        tb->pixels[(k * h + r) * w * ch + c] = (uint8_t)(v >= 255.0f ? 255 : v > 0 ? (int)v : 0);
      }
  return kcb_summary_writer_add_images(tb->train, tag, tb->pixels, (int)n, (int)h, (int)w, (int)ch, step);
}

static int log_weights(tensorboard *tb, int epoch) {
  kcb_model *m = tb->base.model;
  int rc = open_run(tb, &tb->train, "train");
  size_t n = kcb_model_weight_count(m);
  char tag[640]; /* layer names up to 255 bytes */
  for (size_t i = 0; !rc && i < n; i++) {
    kcb_weight_info wi;
    if ((rc = kcb_model_weight(m, i, &wi))) break;
    /* A diverged weight is skipped, not fatal: Keras's histograms never stop training. */
    size_t finite = 0;
    while (finite < wi.size && isfinite(wi.data[finite])) finite++;
    if (finite < wi.size) continue;
    /* Keras 3's weight.path: the model's name scope, the layer, the variable */
    snprintf(tag, sizeof tag, "%s/%s/%s/histogram", kcb_model_name(m), wi.layer_name, wi.name);
    rc = tb->o.histogram_format == KCB_HISTOGRAM_TENSOR
             ? kcb_summary_writer_add_histogram(tb->train, tag, wi.data, wi.size, 0, epoch)
             : kcb_summary_writer_add_histogram_proto(tb->train, tag, wi.data, wi.size, 0, epoch);
    if (!rc && tb->o.write_images) {
      snprintf(tag, sizeof tag, "%s/%s/%s/image", kcb_model_name(m), wi.layer_name, wi.name);
      rc = log_weight_image(tb, &wi, tag, epoch);
    }
  }
  if (!rc) rc = kcb_summary_writer_flush(tb->train);
  return rc;
}

/* The hparams experiment, once the metric names are known: each metric is the epoch_ scalar of
 * the train or validation run, whose last point is the run's final value. */
static int write_experiment(tensorboard *tb, const kcb_logs *logs) {
  kcb_hparam_metric metrics[KCB_LOGS_CAPACITY + 1];
  char tags[KCB_LOGS_CAPACITY + 1][KCB_LOGS_KEY_MAX + 8];
  size_t k = 0;
  int has_val = 0;
  for (size_t i = 0; i < logs->count && k < KCB_LOGS_CAPACITY; i++) {
    const kcb_log_entry *e = &logs->entries[i];
    if (e->tensor) continue;
    int val = strncmp(e->key, "val_", 4) == 0;
    has_val |= val;
    snprintf(tags[k], sizeof tags[k], "epoch_%s", val ? e->key + 4 : e->key);
    metrics[k].group = val ? "validation" : "train";
    metrics[k].tag = tags[k];
    k++;
  }
  /* validation_freq > 1 may skip the first epoch's validation: its metrics are the ones the
   * validation pass logs, the loss and the compiled metrics */
  const kcb_model *m = tb->base.model;
  if (!has_val && m && tb->base.params && tb->base.params->has_validation)
    for (size_t i = 0, n = k; i < n && k < KCB_LOGS_CAPACITY + 1; i++) {
      if (!kcb__validation_logs_key(m, tags[i] + strlen("epoch_"))) continue;
      metrics[k].group = "validation";
      metrics[k++].tag = tags[i];
    }
  return kcb_summary_writer_add_hparams_experiment(tb->root, tb->hparams, tb->o.n_hparams, metrics, k);
}

static int tb_on_epoch_end(kcb_callback *cb, int epoch, kcb_logs *logs) {
  tensorboard *tb = (tensorboard *)cb;
  int rc = 0;
  if (logs->count == 0) return 0;
  char tag[KCB_LOGS_KEY_MAX + 8];
  int has_val = 0;
  for (size_t i = 0; i < logs->count; i++) has_val |= !logs->entries[i].tensor && strncmp(logs->entries[i].key, "val_", 4) == 0;
  int train_logged = epoch == tb->logged_epoch[0], val_logged = epoch == tb->logged_epoch[1]; /* see tb_on_epoch_begin */
  /* train/: the non-val_ keys, then learning_rate (always, as Keras 3), then steps_per_second */
  if ((rc = open_run(tb, &tb->train, "train"))) return rc;
  for (size_t i = 0; !train_logged && i < logs->count; i++) {
    const kcb_log_entry *e = &logs->entries[i];
    if (e->tensor || strncmp(e->key, "val_", 4) == 0 || (cb->model && strcmp(e->key, "learning_rate") == 0)) continue;
    snprintf(tag, sizeof tag, "epoch_%s", e->key);
    if ((rc = kcb_summary_writer_add_scalar(tb->train, tag, e->value, epoch))) return rc;
  }
  if (cb->model && !train_logged && (rc = kcb_summary_writer_add_scalar(tb->train, "epoch_learning_rate",
                                                        kcb_model_learning_rate(cb->model), epoch)))
    return rc;
  if (tb->o.write_steps_per_second && !train_logged) {
    double dt = monotonic_now() - tb->epoch_start;
    int64_t steps = cb->model ? kcb_model_iterations(cb->model) - tb->epoch_start_iterations : 0;
    if ((rc = kcb_summary_writer_add_scalar(tb->train, "epoch_steps_per_second", dt > 0 ? (double)steps / dt : 0.0,
                                            epoch)))
      return rc;
  }
  if (has_val && !val_logged) {
    if ((rc = open_run(tb, &tb->val, "validation"))) return rc;
    for (size_t i = 0; i < logs->count; i++) {
      const kcb_log_entry *e = &logs->entries[i];
      if (e->tensor || strncmp(e->key, "val_", 4) != 0) continue;
      snprintf(tag, sizeof tag, "epoch_%s", e->key + 4);
      if ((rc = kcb_summary_writer_add_scalar(tb->val, tag, e->value, epoch))) return rc;
    }
  }
  if (tb->o.histogram_freq > 0 && epoch % tb->o.histogram_freq == 0 && cb->model && !train_logged &&
      (rc = log_weights(tb, epoch)))
    return rc;
  if (tb->o.pr_curves > 0 && has_val && tb->val_ready) {
    if (!val_logged && (rc = write_pr_curves(tb, epoch))) return rc;
    tb->val_ready = 0;
  }
  if (tb->o.custom_scalars && !tb->wrote_layout) {
    if ((rc = write_layout(tb, logs))) return rc;
    tb->wrote_layout = 1;
  }
  if (tb->hp_started && !tb->hp_experiment) {
    if ((rc = write_experiment(tb, logs))) return rc;
    tb->hp_experiment = 1;
  }
  /* TensorBoard sees every epoch at once, while the caller never waits on the disk */
  if (tb->train) kcb__summary_writer_kick(tb->train);
  if (tb->val) kcb__summary_writer_kick(tb->val);
  if (tb->root) kcb__summary_writer_kick(tb->root);
  return 0;
}

static int close_all(tensorboard *tb, kcb_hparam_status status) {
  int rc = finish_profile(tb), r; /* a run that ended inside profile_batch keeps what it traced */
  if (tb->hp_started && !tb->hp_ended && tb->root) {
    rc = kcb_summary_writer_add_hparams_session_end(tb->root, status, 0);
    tb->hp_ended = 1;
  }
  r = kcb_summary_writer_close(tb->train);
  if (!rc) rc = r;
  r = kcb_summary_writer_close(tb->val);
  if (!rc) rc = r;
  r = kcb_summary_writer_close(tb->root);
  if (!rc) rc = r;
  tb->train = tb->val = tb->root = NULL;
  tb->hp_started = tb->hp_experiment = 0;
  return rc;
}

static int tb_on_train_end(kcb_callback *cb, kcb_logs *logs) {
  (void)logs;
  tensorboard *tb = (tensorboard *)cb;
  if (cb->model) kcb__model_remove_flusher(cb->model, cb);
  /* Stopped on request (Ctrl-C): TensorBoard's hparams Status has no "aborted"; FAILURE is the
   * closest of UNKNOWN, SUCCESS, FAILURE, RUNNING. But a run that BackupAndRestore will resume has
   * not ended: its session gets no end here, since TensorBoard keeps a run's first one and would
   * show the resumed run's success as this failure. */
  int interrupted = kcb_model_interrupted(cb->model);
  if (interrupted && tb->resumable) tb->hp_ended = 1;
  return close_all(tb, interrupted ? KCB_HPARAM_STATUS_FAILURE : KCB_HPARAM_STATUS_SUCCESS);
}

static const kcb_callback_ops tensorboard_ops;

int kcb__tensorboard_reads_last_batch(const kcb_callback *cb) {
  return cb->ops == &tensorboard_ops ? ((const tensorboard *)cb)->o.pr_curves > 0 : -1;
}

const char *kcb_tensorboard_event_file(const kcb_callback *cb, size_t i) {
  if (!cb || cb->ops != &tensorboard_ops) return NULL;
  const tensorboard *tb = (const tensorboard *)cb;
  return i < tb->n_event_files ? tb->event_files[i] : NULL;
}

const char *kcb_tensorboard_profile_path(const kcb_callback *cb) {
  if (!cb || cb->ops != &tensorboard_ops) return NULL;
  return ((const tensorboard *)cb)->profile_path;
}

int kcb_tensorboard_close(kcb_callback *cb) {
  if (!cb) return 0;
  if (cb->ops != &tensorboard_ops)
    return kcb__error(KCB_EINVAL, "kcb_tensorboard_close: not a TensorBoard callback (pass the one "
                                  "kcb_tensorboard_new made, not a wrapper around it)");
  return close_all((tensorboard *)cb, KCB_HPARAM_STATUS_SUCCESS);
}

static void tb_destroy(kcb_callback *cb) {
  tensorboard *tb = (tensorboard *)cb;
  /* a session still open here ended without on_train_end: fit failed. The model may be freed by
   * now (fit detached the profiler from it when it failed), so it is not touched. A failed run
   * its backup will resume gets no end: TensorBoard keeps a run's first, and the resumed run's
   * success is the one to show. */
  tb->base.model = NULL;
  if (tb->resumable) tb->hp_ended = 1;
  (void)close_all(tb, KCB_HPARAM_STATUS_FAILURE);
  for (size_t i = 0; i < tb->o.n_hparams; i++) {
    free((char *)tb->hparams[i].name);
    free((char *)tb->hparams[i].string);
  }
  free(tb->hparams);
  free(tb->log_dir);
  free(tb->pixels);
  for (size_t i = 0; tb->class_names && i < tb->o.n_class_names; i++) free(tb->class_names[i]);
  free(tb->class_names);
  free(tb->val_pred);
  free(tb->val_label);
  free(tb->profile_path);
  for (size_t i = 0; i < tb->n_event_files; i++) free(tb->event_files[i]);
  free(tb->event_files);
}

static const kcb_callback_ops tensorboard_ops = {
    .name = "TensorBoard",
    .on_train_begin = tb_on_train_begin,
    .on_train_end = tb_on_train_end,
    .on_epoch_begin = tb_on_epoch_begin,
    .on_epoch_end = tb_on_epoch_end,
    .on_train_batch_begin = tb_on_train_batch_begin,
    .on_train_batch_end = tb_on_train_batch_end,
    .on_test_begin = tb_on_test_begin,
    .on_test_batch_end = tb_on_test_batch_end,
    .on_test_end = tb_on_test_end,
    .destroy = tb_destroy,
};

int kcb_tensorboard_new(kcb_callback **out, const kcb_tensorboard_options *opts) {
  if (!out) return kcb__error(KCB_EINVAL, "TensorBoard: out is NULL");
  *out = NULL;
  kcb_tensorboard_options o = KCB_TENSORBOARD_OPTIONS_INIT;
  if (opts) o = *opts;
  if (!o.log_dir || !*o.log_dir) return kcb__error(KCB_EINVAL, "TensorBoard: log_dir is empty");
  if (o.histogram_freq < 0) return kcb__error(KCB_EINVAL, "TensorBoard: histogram_freq %d < 0", o.histogram_freq);
  if (o.histogram_format != KCB_HISTOGRAM_PROTO && o.histogram_format != KCB_HISTOGRAM_TENSOR)
    return kcb__error(KCB_EINVAL, "TensorBoard: histogram_format %d is neither KCB_HISTOGRAM_PROTO nor KCB_HISTOGRAM_TENSOR",
                      (int)o.histogram_format);
  if (o.update_freq < 0) return kcb__error(KCB_EINVAL, "TensorBoard: update_freq %lld < 0", (long long)o.update_freq);
  if (o.pr_curves < 0 || o.pr_curves == 1 || o.pr_curves > KCB_PR_CURVE_MAX_THRESHOLDS)
    return kcb__error(KCB_EINVAL, "TensorBoard: pr_curves %d: 0 (off) or 2 to %d thresholds", o.pr_curves,
                      KCB_PR_CURVE_MAX_THRESHOLDS);
  if (o.n_class_names && !o.class_names) return kcb__error(KCB_EINVAL, "TensorBoard: n_class_names with no class_names");
  if (o.profile_batch_start < 0 || o.profile_batch_stop < o.profile_batch_start ||
      (o.profile_batch_stop > 0 && o.profile_batch_start == 0))
    return kcb__error(KCB_EINVAL, "TensorBoard: profile_batch (%lld, %lld): need 1 <= start <= stop, or (0, 0) for off",
                      (long long)o.profile_batch_start, (long long)o.profile_batch_stop);
  if (o.n_hparams && !o.hparams) return kcb__error(KCB_EINVAL, "TensorBoard: n_hparams %zu with no hparams", o.n_hparams);
  for (size_t i = 0; i < o.n_hparams; i++)
    if (!o.hparams[i].name || !*o.hparams[i].name || (o.hparams[i].type == KCB_HPARAM_STRING && !o.hparams[i].string))
      return kcb__error(KCB_EINVAL, "TensorBoard: hyperparameter %zu has no name or no string value", i);
  tensorboard *tb = calloc(1, sizeof *tb);
  if (!tb) return kcb__error(KCB_ENOMEM, "TensorBoard: out of memory");
  tb->base.ops = &tensorboard_ops;
  tb->base.owned_by_kcb = 1;
  tb->o = o;
  int ok = (tb->log_dir = strdup(o.log_dir)) != NULL;
  if (ok && o.n_hparams) {
    ok = (tb->hparams = calloc(o.n_hparams, sizeof *tb->hparams)) != NULL;
    for (size_t i = 0; ok && i < o.n_hparams; i++) {
      tb->hparams[i] = o.hparams[i];
      tb->hparams[i].name = strdup(o.hparams[i].name);
      tb->hparams[i].string = o.hparams[i].type == KCB_HPARAM_STRING ? strdup(o.hparams[i].string) : NULL;
      ok = tb->hparams[i].name && (o.hparams[i].type != KCB_HPARAM_STRING || tb->hparams[i].string);
    }
  }
  if (ok && o.n_class_names) {
    ok = (tb->class_names = calloc(o.n_class_names, sizeof *tb->class_names)) != NULL;
    for (size_t i = 0; ok && i < o.n_class_names; i++)
      ok = (tb->class_names[i] = strdup(o.class_names[i] ? o.class_names[i] : "")) != NULL;
  }
  tb->o.log_dir = tb->log_dir;
  tb->o.hparams = tb->hparams;
  tb->o.class_names = (const char *const *)tb->class_names;
  if (!ok) {
    if (!tb->hparams) tb->o.n_hparams = 0;
    kcb_callback_free(&tb->base);
    return kcb__error(KCB_ENOMEM, "TensorBoard: out of memory");
  }
  *out = &tb->base;
  return 0;
}
