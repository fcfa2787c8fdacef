/* io/zip.h — zip archives through libzip (for `.keras` files): read one member into memory,
 * build an archive of stored (uncompressed) members in memory. Knows nothing of models. */
#ifndef KCB_IO_ZIP_H
#define KCB_IO_ZIP_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* What kcb__zip_locate finds. */
enum { KCB__ZIP_NONE, KCB__ZIP_FOUND, KCB__ZIP_TRUNCATED };

/* Whether the file is a zip archive: KCB__ZIP_FOUND when it ends with a zip's end of central
 * directory record (*start: the bytes before the archive, which Python's zipfile skips and a
 * self-extractor has), KCB__ZIP_TRUNCATED when it starts with a local-file header ("PK\3\4")
 * but has no such end, else KCB__ZIP_NONE (an HDF5 file: never a zip). */
int kcb__zip_locate(const char *path, uint64_t *start);

/* Reads member `name` of the archive at `path`, which starts `start` bytes in (kcb__zip_locate),
 * into a malloc'd buffer (NUL-terminated, the NUL not counted in *len). KCB_EKEY naming the
 * archive and member if it is absent; KCB_EFORMAT if it inflates to more than `max_bytes`
 * (`why_max` says where that bound comes from) or more than its compressed bytes can hold. */
int kcb__zip_read_member(const char *path, uint64_t start, const char *name, void **out, size_t *len,
                         uint64_t max_bytes, const char *why_max);

/* How many files of the archive (kcb__zip_locate's start) have names starting with prefix
 * ("assets/": what Keras keeps beside the weights, such as a lookup layer's vocabulary) and ending
 * with suffix ("data.pkl": PyTorch's); a NULL prefix or suffix matches any name. */
int kcb__zip_count_names(const char *path, uint64_t start, const char *prefix, const char *suffix, size_t *count);

/* An archive zipped from outside its folder (zip -r x.keras folder/): 1 when it holds
 * FOLDER/name and FOLDER/beside, one level down, with FOLDER copied to folder; else 0. */
int kcb__zip_find_folder(const char *path, uint64_t start, const char *name, const char *beside, char *folder,
                         size_t size);

/* One member of an archive to write. */
typedef struct kcb__zip_member {
  const char *name;
  const void *data;
  size_t len;
} kcb__zip_member;

/* Builds a zip archive of the members, in order, stored without compression (as Keras's
 * ZIP_STORED), into a malloc'd buffer. `file` names the archive in messages. */
int kcb__zip_build(const kcb__zip_member *members, size_t n, void **out, size_t *len, const char *file);

#endif
