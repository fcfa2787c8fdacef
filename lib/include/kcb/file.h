/* kcb/file.h — reading small input files (configuration files) the way kcb reads every file, and
 * making the directories an output file goes into. */
#ifndef KCB_FILE_H
#define KCB_FILE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Reads the whole of a regular file into a NUL-terminated, malloc'd buffer (free() it).
 * A FIFO, device, socket or directory is refused with KCB_EINVAL without blocking, as for every
 * file kcb reads; a file longer than max_bytes is KCB_EINVAL "too large" (0: no limit).
 * *len gets the byte count (the file may itself hold NUL bytes: callers that want text check).
 * @return 0, KCB_ENOENT, KCB_EINVAL, KCB_ENOMEM or KCB_EIO; the message names the file. */
int kcb_file_read(const char *path, size_t max_bytes, char **out, size_t *len);

/** Creates the directories above `path` that do not exist yet (`mkdir -p` of its dirname), as
 * ModelCheckpoint, CSVLogger and TensorBoard do for their files; a path without '/' needs none.
 * @return 0, or an error (a component is a regular file: KCB_EIO; permission denied, a full
 * disk: the code of that errno; KCB_ENOMEM) whose message names the directory. */
int kcb_file_make_parent_dirs(const char *path);

#ifdef __cplusplus
}
#endif
#endif
