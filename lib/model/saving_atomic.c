/* model/saving_atomic.c — atomic file replacement: temp file in the same directory, fsync,
 * rename, fsync of the directory, so a crash or a failed write never leaves a half file. */
#include "model/saving_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(const char *path, const char *step, int err) {
  return kcb__error(kcb__error_from_errno(err), "%s: cannot save: %s: %s", path, step, strerror(err));
}

int kcb__atomic_begin(const char *path, char **tmp_out, int *fd_out) {
  *tmp_out = NULL;
  *fd_out = -1;
  if (!path || !*path) return kcb__error(KCB_EINVAL, "save: empty file name");
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  if (!*base) return kcb__error(KCB_EINVAL, "%s: cannot save: the name is a directory", path);
  size_t size = strlen(path) + 64;
  char *tmp = malloc(size);
  if (!tmp) return kcb__error(KCB_ENOMEM, "out of memory");
  /* A hidden name in the target's directory, so rename stays within one file system; O_EXCL
   * with mode 0666 lets the umask decide the permissions, as for any new file. */
  static unsigned counter;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
    snprintf(tmp, size, "%.*s.%s.tmp-%ld-%u", (int)(base - path), path, base, (long)getpid(),
             __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    int rc = fail(path, "creating a temporary file", errno);
    free(tmp);
    return rc;
  }
  *tmp_out = tmp;
  *fd_out = fd;
  return 0;
}

void kcb__atomic_abort(char *tmp, int fd) {
  if (fd >= 0) close(fd);
  if (tmp) unlink(tmp);
  free(tmp);
}

int kcb__atomic_commit(const char *path, char *tmp, int fd) {
  int rc = 0;
  if (fsync(fd) != 0) rc = fail(path, "fsync", errno);
  if (close(fd) != 0 && rc == 0) rc = fail(path, "closing", errno);
  fd = -1;
  if (rc == 0 && rename(tmp, path) != 0) rc = fail(path, "renaming the temporary file into place", errno);
  if (rc) {
    kcb__atomic_abort(tmp, -1);
    return rc;
  }
  free(tmp);
  const char *slash = strrchr(path, '/');
  char dir[4096];
  if (!slash) kcb__strlcpy(dir, ".", sizeof dir);
  else if (slash == path) kcb__strlcpy(dir, "/", sizeof dir);
  else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    /* Makes the rename durable; some file systems refuse fsync on a directory: not an error. */
    if (fsync(dfd) != 0 && errno != EINVAL && errno != EROFS) rc = fail(path, "fsync of the directory", errno);
    close(dfd);
  }
  return rc;
}

int kcb__write_file_atomic(const char *path, const void *data, size_t len) {
  char *tmp = NULL;
  int fd = -1;
  int rc = kcb__atomic_begin(path, &tmp, &fd);
  if (rc) return rc;
  const char *p = data;
  size_t left = len;
  while (left > 0) {
    ssize_t w = write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      rc = fail(path, "writing", w < 0 ? errno : ENOSPC);
      kcb__atomic_abort(tmp, fd);
      return rc;
    }
    p += w;
    left -= (size_t)w;
  }
  return kcb__atomic_commit(path, tmp, fd);
}
