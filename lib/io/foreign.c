/* io/foreign.c — recognising other tools' files by name and first bytes (see foreign.h). */
#include "io/foreign.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "io/zip.h"
#include "kcb/checkpoint_file.h"

static int exists_in(const char *dir, const char *name) {
  char *p = kcb__path_join(dir, name);
  struct stat st;
  int found = p && stat(p, &st) == 0;
  free(p);
  return found;
}

/* A directory another tool saves a model as. */
static const char *foreign_dir(const char *path) {
  if (exists_in(path, "saved_model.pb") || exists_in(path, "saved_model.pbtxt"))
    return "a TensorFlow SavedModel directory (saved_model.pb), not a Keras checkpoint";
  int index = 0;
  DIR *d = exists_in(path, "checkpoint") ? opendir(path) : NULL; /* tf.train.CheckpointManager's */
  for (struct dirent *e; d && !index && (e = readdir(d));) index = kcb__ends_with(e->d_name, ".index");
  if (d) closedir(d);
  return index ? "a directory of TensorFlow checkpoints (a 'checkpoint' file, *.index and *.data-* files), not a Keras "
                 "checkpoint"
               : NULL;
}

/* Whether some member of the zip archive has a name ending in suffix. */
static int zip_has(const char *path, uint64_t start, const char *suffix) {
  size_t n = 0;
  int rc = kcb__zip_count_names(path, start, NULL, suffix, &n);
  if (rc) kcb_error_clear(); /* only a description is lost */
  return rc == 0 && n > 0;
}

/* "name.data-00000-of-00001": a TensorFlow checkpoint's data shard. */
static int tf_data_shard(const char *path) {
  const char *d = strstr(path, ".data-");
  unsigned a, b;
  char end;
  return d && sscanf(d, ".data-%5u-of-%5u%c", &a, &b, &end) == 2;
}

const char *kcb__foreign_kind(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    char *index = malloc(strlen(path) + 8);
    int prefix = index && (sprintf(index, "%s.index", path), stat(index, &st) == 0);
    free(index);
    return prefix ? "the prefix of a TensorFlow checkpoint (tf.train.Checkpoint or TF-format save_weights: "
                    "PREFIX.index and PREFIX.data-*), not a Keras checkpoint"
                  : NULL;
  }
  if (S_ISDIR(st.st_mode)) return foreign_dir(path);
  if (!S_ISREG(st.st_mode)) return NULL;
  uint64_t start;
  if (kcb__zip_locate(path, &start) == KCB__ZIP_FOUND) {
    if (zip_has(path, start, "config.json") || zip_has(path, start, "model.weights.h5")) return NULL; /* Keras's */
    if (zip_has(path, start, "data.pkl")) return "a PyTorch checkpoint (torch.save's zip archive), not a Keras checkpoint";
    if (zip_has(path, start, ".npy")) return "a NumPy .npz archive, not a Keras checkpoint";
    return NULL;
  }
  unsigned char head[16] = {0};
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  ssize_t got = fd >= 0 ? read(fd, head, sizeof head) : -1;
  if (fd >= 0) close(fd);
  if (got >= 8 && memcmp(head, "\x89HDF\r\n\x1a\n", 8) == 0) return NULL; /* HDF5, whatever its name: kcb's to read */
  if (got >= 6 && memcmp(head, "\x93NUMPY", 6) == 0) return "a NumPy .npy array, not a Keras checkpoint";
  if (got >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5)
    return "a Python pickle (an older PyTorch torch.save, or a pickled object), not a Keras checkpoint";
  if (got >= 4 && memcmp(head, "GGUF", 4) == 0) return "a GGUF model file, not a Keras checkpoint";
  if (got >= 10 && head[8] == '{' && head[9] == '"') {
    uint64_t n = 0; /* safetensors: the JSON header's length, little-endian, then the header */
    for (int i = 7; i >= 0; i--) n = n << 8 | head[i];
    if (n > 1 && n < (uint64_t)st.st_size) return "a safetensors file, not a Keras checkpoint";
  }
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path; /* the rules by name look at the file's own name, not its directories' */
  if (strstr(base, "tfevents")) return "a TensorBoard event file (kcb-inspect runs reads it), not a checkpoint";
  if (kcb__ends_with(base, ".index")) return "the index of a TensorFlow checkpoint (tf.train.Checkpoint or TF-format "
                                             "save_weights), not a Keras checkpoint";
  if (tf_data_shard(base)) return "a data shard of a TensorFlow checkpoint, not a Keras checkpoint";
  if (kcb__ends_with(base, ".pb")) return "a TensorFlow protocol buffer (a SavedModel's saved_model.pb or a frozen "
                                          "graph), not a Keras checkpoint";
  if (kcb__ends_with(base, ".onnx")) return "an ONNX model, not a Keras checkpoint";
  if (kcb__ends_with(base, ".tflite")) return "a TensorFlow Lite model, not a Keras checkpoint";
  return NULL;
}

const char *kcb_checkpoint_foreign_kind(const char *path) { return path ? kcb__foreign_kind(path) : NULL; }
