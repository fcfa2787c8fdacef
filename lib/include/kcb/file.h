/* kcb/file.h — reading small input files (configuration files) the way kcb reads every file,
 * replacing a file so that a crash never loses the previous one, and making the directories an
 * output file goes into. */
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

/** Replaces path by len bytes of data the way every kcb writer does: a hidden temporary file beside
 * it (".NAME.tmp-<pid>-<n>"), fsync, rename over path, fsync of the directory. A crash at any
 * moment leaves either the previous file or the new one, never half of either. On failure path is
 * untouched and the temporary file removed. A symbolic link is followed, as open() follows it: the
 * link stays and the file it names is replaced (made, for a dangling link), keeping the replaced
 * file's permissions.
 * @return 0, or an error (KCB_EINVAL for a NULL path; a full disk, permission denied: the code of
 * that errno) whose message is "PATH: cannot save: STEP: CAUSE". */
int kcb_file_write_atomic(const char *path, const void *data, size_t len);

/** Whether kcb_file_write_atomic(path, ...) could write there, checked before the work whose
 * result it will save: path's links resolve (no loop), it names no directory, FIFO or device, and
 * the directory the file lands in takes a new file (a short probe file, made and removed).
 * @return 0, or the error the write would end in, its message naming path. */
int kcb_file_check_writable(const char *path);

/** Removes the temporary files that kcb_file_write_atomic(path, ...) calls cut by a kill or a crash
 * left beside path ("[.]NAME.tmp-*" in its directory). Nothing reads them; call this when no other
 * process is writing path, e.g. when a run starts or ends. Best effort: errors are ignored. */
void kcb_file_remove_stale_temps(const char *path);

#ifdef __cplusplus
}
#endif
#endif
