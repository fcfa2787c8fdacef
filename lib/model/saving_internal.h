/* model/saving_internal.h — what the saving files share (kcb__ names; not installed). */
#ifndef KCB_MODEL_SAVING_INTERNAL_H
#define KCB_MODEL_SAVING_INTERNAL_H

#include <stddef.h>

#include "internal.h"

/* Replaces `path` with `len` bytes: written to a new temporary file in the same directory,
 * fsync'd, renamed over path, and the directory fsync'd. On failure the temporary file is
 * removed and any previous file at path is untouched; the message names path and the step. */
int kcb__write_file_atomic(const char *path, const void *data, size_t len);

/* The same protocol in two steps, for writers that write the file themselves (HDF5):
 * kcb__atomic_begin creates an empty temporary file next to path (*tmp malloc'd, *fd open for
 * writing); kcb__atomic_commit fsyncs it, closes fd, renames it over path and fsyncs the
 * directory; kcb__atomic_abort (also done by a failing commit) closes and removes it. */
int kcb__atomic_begin(const char *path, char **tmp, int *fd);
int kcb__atomic_commit(const char *path, char *tmp, int fd);
void kcb__atomic_abort(char *tmp, int fd);

#endif
