/* core/file — writing files so that a crash or a failure never loses the previous good file:
 * temporary name in the same directory, fsync, rename, fsync of the directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

int kcb__write_all(int fd, const void *data, size_t len, const char *path) {
  const unsigned char *p = data;
  for (size_t done = 0; done < len;) {
    ssize_t w = write(fd, p + done, len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int err = w < 0 ? errno : EIO;
      return kcb__error(kcb__error_from_errno(err), "%s: write failed: %s", path, strerror(err));
    }
    done += (size_t)w;
  }
  return 0;
}

void kcb__fsync_dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  char dir[4096];
  if (!slash) {
    strcpy(dir, ".");
  } else {
    size_t len = slash == path ? 1 : (size_t)(slash - path);
    if (len >= sizeof dir) return;
    memcpy(dir, path, len);
    dir[len] = '\0';
  }
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)fsync(fd); /* some file systems refuse fsync on directories; the file itself is already safe */
    close(fd);
  }
}

int kcb__file_temp_open(char **tmp_out, int *fd_out, const char *path) {
  static atomic_uint counter;
  size_t cap = strlen(path) + 48;
  char *tmp = malloc(cap);
  *tmp_out = NULL;
  *fd_out = -1;
  if (!tmp) return kcb__error(KCB_ENOMEM, "%s: out of memory", path);
  int fd = -1;
  for (int attempt = 0; attempt < 100; attempt++) {
    snprintf(tmp, cap, "%s.tmp-%ld-%u", path, (long)getpid(), atomic_fetch_add(&counter, 1u));
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST) break;
  }
  if (fd < 0) {
    int err = errno;
    free(tmp);
    return kcb__error(kcb__error_from_errno(err), "%s: cannot create a temporary file beside it: %s", path,
                      strerror(err));
  }
  *tmp_out = tmp;
  *fd_out = fd;
  return 0;
}

int kcb__file_publish(const char *tmp, const char *path) {
  int rc = 0, fd = open(tmp, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) != 0) {
    int err = errno;
    rc = kcb__error(kcb__error_from_errno(err), "%s: fsync failed: %s", tmp, strerror(err));
  }
  if (fd >= 0) close(fd);
  if (rc == 0 && rename(tmp, path) != 0) {
    int err = errno;
    rc = kcb__error(kcb__error_from_errno(err), "%s: cannot replace it: %s", path, strerror(err));
  }
  if (rc) {
    unlink(tmp);
    return rc;
  }
  kcb__fsync_dir_of(path);
  return 0;
}

int kcb__file_write_atomic(const char *path, const void *data, size_t len) {
  char *tmp = NULL;
  int fd = -1, rc = kcb__file_temp_open(&tmp, &fd, path);
  if (rc) return rc;
  rc = kcb__write_all(fd, data, len, tmp);
  if (rc == 0 && fsync(fd) != 0) {
    int err = errno;
    rc = kcb__error(kcb__error_from_errno(err), "%s: fsync failed: %s", tmp, strerror(err));
  }
  if (close(fd) != 0 && rc == 0) {
    int err = errno;
    rc = kcb__error(kcb__error_from_errno(err), "%s: close failed: %s", tmp, strerror(err));
  }
  if (rc == 0 && rename(tmp, path) != 0) {
    int err = errno;
    rc = kcb__error(kcb__error_from_errno(err), "%s: cannot replace it: %s", path, strerror(err));
  }
  if (rc)
    unlink(tmp);
  else
    kcb__fsync_dir_of(path);
  free(tmp);
  return rc;
}
