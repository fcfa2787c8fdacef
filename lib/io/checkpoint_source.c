/* io/checkpoint_source.c — opening a Keras checkpoint of any layout (see checkpoint_source.h).
 * Layouts: spec/keras-hdf5.md; a .keras archive is a zip whose model.weights.h5 member is read in
 * memory. */
#include "io/checkpoint_source.h"

#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "io/foreign.h"
#include "io/zip.h"
#include "kcb/limits.h"
#include "internal.h"

void kcb__ckpt_source_close(kcb__ckpt_source *s) {
  if (s->weights != s->file && s->weights >= 0) kcb__h5_close(s->weights);
  kcb__h5_close(s->file);
  free(s->h5name);
  free(s->image);
  free(s->config);
  free(s->training);
  free(s->metadata_json);
  free(s->keras_version);
  free(s->backend);
  memset(s, 0, sizeof *s);
  s->file = s->weights = H5I_INVALID_HID;
}

/* Version and backend strings are informative: an unreadable copy is skipped (the damage is
 * reported where it matters, by the attribute that carries data). */
static void read_info(const kcb__ckpt_source *s, hid_t obj, const char *attr, char **out) {
  if (*out || obj < 0 || !kcb__h5_has_attr(obj, attr)) return;
  if (kcb__h5_attr_read_string(obj, attr, out, s->h5name) != 0) kcb_error_clear();
}

/* What a .keras archive's members may inflate to: the weights of kcb_max_params() float32
 * parameters with two optimizer slots each, plus room for HDF5's own structures; the JSON files
 * are a few kilobytes to megabytes for any real model. */
#define KERAS_JSON_MAX_BYTES ((uint64_t)64 << 20)
static uint64_t keras_weights_max_bytes(void) {
  uint64_t p = kcb_max_params();
  return p > (UINT64_MAX - ((uint64_t)64 << 20)) / 12 ? UINT64_MAX : p * 12 + ((uint64_t)64 << 20);
}

/* Keras reads the archive's JSON as bytes, and Python's json skips a UTF-8 byte-order mark there. */
static void strip_bom(char *text, size_t len) {
  if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) memmove(text, text + 3, len - 2); /* with the NUL */
}

/* Whether `dir` is a directory holding a regular file `name`. */
static int dir_holds(const char *dir, const char *name) {
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) return 0;
  char *p = kcb__path_join(dir, name);
  int found = p && stat(p, &st) == 0 && S_ISREG(st.st_mode);
  free(p);
  return found;
}

/* Files below an unzipped archive's assets/ (a depth-first walk, bounded). */
static size_t count_files(const char *dir, int depth) {
  DIR *d = depth < 16 ? opendir(dir) : NULL;
  size_t n = 0;
  for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char *child = kcb__path_join(dir, e->d_name);
    struct stat st;
    if (child && lstat(child, &st) == 0) n += S_ISDIR(st.st_mode) ? count_files(child, depth + 1) : S_ISREG(st.st_mode);
    free(child);
  }
  if (d) closedir(d);
  return n;
}

/* What a .keras keeps beside the weights, which no other layout holds: counted, for notes. */
static void count_assets(kcb__ckpt_source *s) {
  struct stat st;
  if (stat(s->path, &st) == 0 && S_ISDIR(st.st_mode)) {
    char *assets = kcb__path_join(s->path, "assets");
    s->n_assets = assets ? count_files(assets, 0) : 0;
    free(assets);
  } else if (kcb__zip_count_names(s->path, s->zip_start, "assets/", NULL, &s->n_assets) != 0) {
    s->n_assets = 0;
    kcb_error_clear(); /* the archive opened for its members already: only a count is lost */
  }
}

int kcb__tf2_written_store(hid_t file, const char *keras_version) {
  if (keras_version) return keras_version[0] == '2';
  return kcb__h5_exists(file, "_layer_checkpoint_dependencies") || kcb__h5_exists(file, "metrics");
}

int kcb__is_keras_dir(const char *path) { return dir_holds(path, "config.json") && dir_holds(path, "model.weights.h5"); }

int kcb__keras_dir_without_weights(const char *path) {
  return kcb__ends_with(path, ".keras") && dir_holds(path, "config.json") && !dir_holds(path, "model.weights.h5");
}

/* A member of the archive, or the file of that name in an unzipped one (a directory). */
static int read_member(const kcb__ckpt_source *s, int is_dir, const char *name, void **out, size_t *len,
                       uint64_t max_bytes, const char *why_max) {
  if (!is_dir) return kcb__zip_read_member(s->path, s->zip_start, name, out, len, max_bytes, why_max);
  char *path = kcb__path_join(s->path, name);
  if (!path) return kcb__error(KCB_ENOMEM, "out of memory");
  struct stat st;
  int rc = stat(path, &st) != 0 ? kcb__error(KCB_EKEY, "%s: no file %s", s->path, name)
           : (uint64_t)st.st_size > max_bytes
               ? kcb__error(KCB_EFORMAT, "%s: %llu bytes, more than the %llu %s", path, (unsigned long long)st.st_size,
                            (unsigned long long)max_bytes, why_max)
               : kcb_file_read(path, 0, (char **)out, len);
  free(path);
  return rc;
}

/* A .keras archive, or the directory Keras writes with save_model(..., zipped=False), which
 * load_model reads the same way: config.json, metadata.json and model.weights.h5 in it. */
static int open_archive(kcb__ckpt_source *s, int is_dir) {
  size_t len = 0;
  s->layout = KCB_LAYOUT_KERAS;
  int rc = read_member(s, is_dir, "model.weights.h5", &s->image, &s->image_len, keras_weights_max_bytes(),
                       "bytes the weights and optimizer slots of kcb_max_params() parameters need (the "
                       "environment variable KCB_MAX_PARAMS raises it)");
  char folder[256];
  if (rc == KCB_EKEY && !is_dir && kcb__zip_find_folder(s->path, s->zip_start, "model.weights.h5", "config.json", folder, sizeof folder))
    rc = kcb__error(KCB_EFORMAT, "%s: Expected a model.weights.h5 file in the .keras archive; it is in the folder '%s' "
                    "(zipped from outside that folder: zip the folder's contents instead)", s->path, folder);
  else if (rc == KCB_EKEY) rc = kcb__error(KCB_EFORMAT, "%s: Expected a model.weights.h5 file in the .keras archive", s->path);
  if (rc) return rc;
  size_t nlen = strlen(s->path) + 32;
  free(s->h5name);
  if (!(s->h5name = malloc(nlen))) return kcb__error(KCB_ENOMEM, "out of memory");
  snprintf(s->h5name, nlen, "%s[model.weights.h5]", s->path); /* no file of that name: libhdf5 reads the image */
  if ((rc = kcb__h5_open_image(&s->file, s->image, s->image_len, s->h5name))) return rc;
  s->weights = s->file;
  rc = read_member(s, is_dir, "config.json", (void **)&s->config, &len, KERAS_JSON_MAX_BYTES,
                   "bytes kcb reads of a model's JSON");
  if (rc == KCB_EKEY) /* as Keras's load_model: a .keras archive always has its config */
    rc = kcb__error(KCB_EFORMAT, "%s: the .keras archive has no config.json (Keras: \"There is no item named "
                    "'config.json' in the archive\")", s->path);
  if (rc) return rc;
  strip_bom(s->config, len);
  if (read_member(s, is_dir, "metadata.json", (void **)&s->metadata_json, &len, KERAS_JSON_MAX_BYTES,
                  "bytes kcb reads of a model's JSON") == 0) {
    strip_bom(s->metadata_json, len);
    json_t *j = json_loads(s->metadata_json, 0, NULL);
    const char *v = json_string_value(json_object_get(j, "keras_version"));
    if (v && !(s->keras_version = strdup(v))) rc = kcb__error(KCB_ENOMEM, "out of memory");
    json_decref(j);
  }
  kcb_error_clear(); /* metadata.json is optional */
  return rc;
}

static int open_hdf5(kcb__ckpt_source *s) {
  int rc = kcb__h5_open(&s->file, s->path);
  if (rc) return rc;
  s->weights = s->file;
  if (kcb__h5_has_attr(s->file, "model_config")) {
    s->layout = KCB_LAYOUT_H5;
    if ((rc = kcb__h5_attr_read_string(s->file, "model_config", &s->config, s->h5name))) return rc;
    if (kcb__h5_has_attr(s->file, "training_config") &&
        (rc = kcb__h5_attr_read_string(s->file, "training_config", &s->training, s->h5name)))
      return rc;
    /* Without model_weights the config can still be read (and its errors reported first). */
    s->weights = H5I_INVALID_HID;
    if (kcb__h5_exists(s->file, "model_weights")) rc = kcb__h5_group_open(&s->weights, s->file, "model_weights", s->h5name);
  } else if (kcb__h5_has_attr(s->file, "layer_names") || kcb__h5_has_attr(s->file, "layer_names0")) {
    s->layout = KCB_LAYOUT_LEGACY_WEIGHTS_H5;
  } else if (kcb__h5_exists(s->file, "model_weights")) {
    s->layout = KCB_LAYOUT_H5; /* a full-model file without config: Keras reads model_weights too */
    rc = kcb__h5_group_open(&s->weights, s->file, "model_weights", s->h5name);
  } else if (kcb__h5_exists(s->file, "layers") || kcb__h5_exists(s->file, "vars")) {
    s->layout = KCB_LAYOUT_WEIGHTS_H5;
  } else {
    rc = kcb__error(KCB_EFORMAT,
                    "%s: an HDF5 file but not a Keras checkpoint (no model_config or layer_names attribute, no layers/ group)",
                    s->path);
  }
  return rc;
}

/* Keras 3's sharded weights (save_weights("x.weights.json", max_shard_size=...)): an index
 * x.weights.json whose weight_map names the shards x_00000.weights.h5, x_00001.weights.h5, ...
 * Each shard holds some layers only, so one read alone would be a model with layers missing:
 * refused, by name, for the index and for a shard beside its index. */
static int refuse_sharded(const char *path) {
  struct stat st;
  if (kcb__ends_with(path, ".json")) {
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > KERAS_JSON_MAX_BYTES)
      return 0; /* left to the HDF5 reader, which says what it is (a FIFO would block the JSON reader) */
    json_error_t err;
    json_t *index = json_load_file(path, 0, &err);
    int sharded = json_is_object(json_object_get(index, "weight_map"));
    json_decref(index);
    if (sharded)
      return kcb__error(KCB_EFORMAT, "%s is the index of Keras's sharded weights (saved with max_shard_size): kcb "
                        "reads checkpoints of one file; save them again without max_shard_size", path);
    return 0;
  }
  size_t n = strlen(path), tail = strlen("_00000.weights.h5");
  if (n <= tail || !kcb__ends_with(path, ".weights.h5") || path[n - tail] != '_') return 0;
  for (size_t i = n - tail + 1; i < n - strlen(".weights.h5"); i++)
    if (path[i] < '0' || path[i] > '9') return 0;
  char *index = malloc(n + 8);
  if (!index) return kcb__error(KCB_ENOMEM, "out of memory");
  snprintf(index, n + 8, "%.*s.weights.json", (int)(n - tail), path);
  int rc = 0;
  if (stat(index, &st) == 0 && S_ISREG(st.st_mode)) {
    rc = kcb__error(KCB_EFORMAT, "%s is one shard of Keras's sharded weights indexed by %s (saved with "
                    "max_shard_size), with some of the layers only: kcb reads checkpoints of one file; save them "
                    "again without max_shard_size", path, index);
  }
  free(index);
  return rc;
}

int kcb__ckpt_source_open(kcb__ckpt_source *s, const char *path) {
  memset(s, 0, sizeof *s);
  s->file = s->weights = H5I_INVALID_HID;
  if (!path) return kcb__error(KCB_EINVAL, "no file name");
  s->path = path;
  if (!(s->h5name = strdup(path))) return kcb__error(KCB_ENOMEM, "out of memory");
  int zip = kcb__zip_locate(path, &s->zip_start), rc;
  if (zip == KCB__ZIP_TRUNCATED)
    rc = kcb__error(KCB_ETRUNC, "%s: a zip archive without its end (no end of central directory record): truncated, "
                    "or still being written", path);
  else if (zip == KCB__ZIP_NONE && kcb__is_keras_dir(path)) rc = open_archive(s, 1), zip = KCB__ZIP_FOUND;
  else if (zip == KCB__ZIP_NONE && dir_holds(path, "config.json"))
    rc = kcb__error(KCB_EFORMAT, "%s: a Keras model saved unzipped (a directory with config.json) without its weights: "
                    "Keras expects a model.weights.h5 or model.weights.npz file beside config.json", path);
  else rc = zip == KCB__ZIP_FOUND ? open_archive(s, 0) : refuse_sharded(path);
  if (rc == 0 && zip == KCB__ZIP_NONE) {
    rc = open_hdf5(s);
    if (rc == KCB_EFORMAT && kcb__ends_with(path, ".keras") && strstr(kcb_error_last(), "no HDF5 signature"))
      rc = kcb__error(KCB_EFORMAT, "%s: not a .keras archive: neither a zip archive (a .keras file is a zip of config.json, "
                      "metadata.json and model.weights.h5) nor an HDF5 file", path);
  }
  /* a file or directory kcb does not recognise at all (not one it found damaged): say what it is */
  const char *said = kcb_error_last();
  if (rc && (rc == KCB_ENOENT || strstr(said, "no HDF5 signature") || strstr(said, "not a regular file") ||
             strstr(said, "Expected a model.weights.h5") || strstr(said, "not a .keras archive"))) {
    const char *foreign = kcb__foreign_kind(path);
    struct stat st;
    if (foreign)
      rc = kcb__error(KCB_EFORMAT, "%s: %s; kcb reads Keras's .keras, .weights.h5 and .h5 files (in Keras, model.save('m.keras') "
                      "or model.save_weights('m.weights.h5') writes one)", path, foreign);
    else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) && strstr(kcb_error_last(), "not a regular file"))
      rc = kcb__error(KCB_EFORMAT, "%s: a directory, and not a Keras model saved unzipped (one holds config.json and "
                      "model.weights.h5)", path);
  }
  if (rc == 0 && zip == KCB__ZIP_FOUND) count_assets(s);
  if (rc == 0) {
    /* the file's root, then (legacy full .h5) the weights group, as Keras writes them */
    read_info(s, s->file, "keras_version", &s->keras_version);
    read_info(s, s->file, "backend", &s->backend);
    if (s->weights != s->file) {
      read_info(s, s->weights, "keras_version", &s->keras_version);
      read_info(s, s->weights, "backend", &s->backend);
    }
  }
  if (rc) kcb__ckpt_source_close(s);
  return rc;
}
