/* io/checkpoint_source.h — a Keras checkpoint opened and its layout recognised: the start of both
 * the checkpoint tree (io/checkpoint_file.c: every variable listed) and the model loader
 * (model/saving.c: weights into a model). One place decides what a file is. */
#ifndef KCB_IO_CHECKPOINT_SOURCE_H
#define KCB_IO_CHECKPOINT_SOURCE_H

#include <stddef.h>

#include "io/h5.h"
#include "kcb/checkpoint.h"

typedef struct kcb__ckpt_source {
  const char *path;             /* as given (borrowed) */
  char *h5name;                 /* the HDF5 file's name in messages: path, or "path[model.weights.h5]" */
  kcb_checkpoint_layout layout;
  uint64_t zip_start;           /* .keras: the bytes before the zip archive (a self-extractor's stub) */
  hid_t file;                   /* the HDF5 file: the checkpoint, or the archive's model.weights.h5 */
  hid_t weights;                /* where the layer groups are: model_weights/ of a full .h5 (-1 when a
                                   full .h5 holds a config only), else `file` */
  void *image;                  /* .keras: the model.weights.h5 member that `file` reads */
  size_t image_len;
  char *config;                 /* model_config or config.json, when the file has one */
  char *training;               /* a full .h5's training_config, when it has one */
  char *metadata_json;          /* .keras: metadata.json, when the archive has one */
  char *keras_version, *backend; /* where Keras stores them (attributes or metadata.json), or NULL */
  size_t n_assets;              /* .keras: files under assets/ (lookup layers' vocabularies, ...) */
} kcb__ckpt_source;

/** Opens `path` (.keras or its unzipped directory, .weights.h5, full or weights-only .h5: recognised
 * by content, not name)
 * through the HDF5 guard. 0, or KCB_EFORMAT / KCB_ETRUNC / KCB_ENOENT... naming the file; on error
 * nothing stays open. */
int kcb__ckpt_source_open(kcb__ckpt_source *s, const char *path);

/** Whether a store (a .keras archive's model.weights.h5, a .weights.h5) was written by tf.keras
 * 2.13-2.15: its version says so (keras_version, NULL when the file has none), or, for
 * save_weights' file (no metadata), what only those wrote: layers under
 * `_layer_checkpoint_dependencies` (2.13, 2.14) or the compiled metrics' state (2.15). */
int kcb__tf2_written_store(hid_t file, const char *keras_version);

/** Whether path is a directory holding config.json and model.weights.h5: a model Keras saved with
 * save_model(..., zipped=False), which kcb reads as it reads a .keras archive. */
int kcb__is_keras_dir(const char *path);
/* Whether path is a directory named *.keras holding config.json but no model.weights.h5: a model
 * saved unzipped that lost its weights (a candidate to report, not a directory to search). */
int kcb__keras_dir_without_weights(const char *path);

/** Closes what kcb__ckpt_source_open opened; safe on a zeroed or closed source. */
void kcb__ckpt_source_close(kcb__ckpt_source *s);

#endif
