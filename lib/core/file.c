/* core/file — writing files so that a crash or a failure never loses the previous good file:
 * temporary name in the same directory, fsync, rename, fsync of the directory. Every writer that
 * replaces a file (checkpoints, plots, backups, exports) goes through here. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

int kcb__write_all(int fd, const void *data, size_t len, const char *path) {
  const unsigned char *p = data;
  for (size_t done = 0; done < len;) {
    ssize_t w = write(fd, p + done, len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int err = w < 0 ? errno : ENOSPC;
      errno = err;
      return kcb__error(kcb__error_from_errno(err), "%s: cannot save: writing: %s", path, strerror(err));
    }
    done += (size_t)w;
  }
  return 0;
}

/* The directory holding path ("." or "/" included), into dir. */
static void dir_of(const char *path, char *dir, size_t size) {
  const char *slash = strrchr(path, '/');
  if (!slash) kcb__strlcpy(dir, ".", size);
  else if (slash == path) kcb__strlcpy(dir, "/", size);
  else snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

void kcb__fsync_dir_of(const char *path) {
  char dir[4096];
  dir_of(path, dir, sizeof dir);
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)fsync(fd); /* some file systems refuse fsync on directories; the file itself is already safe */
    close(fd);
  }
}

static int fail(const char *path, const char *step, int err) {
  return kcb__error(kcb__error_from_errno(err), "%s: cannot save: %s: %s", path, step, strerror(err));
}

int kcb__file_write_atomic(const char *path, const void *data, size_t len) {
  if (!path || !*path) return kcb__error(KCB_EINVAL, "save: empty file name");
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  if (!*base) return kcb__error(KCB_EINVAL, "%s: cannot save: the name is a directory", path);
  size_t size = strlen(path) + 64;
  char *tmp = malloc(size);
  if (!tmp) return kcb__error(KCB_ENOMEM, "%s: out of memory", path);
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
  int rc = kcb__write_all(fd, data, len, path);
  if (rc == 0 && fsync(fd) != 0) rc = fail(path, "fsync", errno);
  if (close(fd) != 0 && rc == 0) rc = fail(path, "closing", errno);
  if (rc == 0 && rename(tmp, path) != 0) rc = fail(path, "renaming the temporary file into place", errno);
  if (rc) {
    unlink(tmp);
    free(tmp);
    return rc;
  }
  free(tmp);
  char dir[4096];
  dir_of(path, dir, sizeof dir);
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    /* Makes the rename durable; some file systems refuse fsync on a directory: not an error. */
    if (fsync(dfd) != 0 && errno != EINVAL && errno != EROFS) rc = fail(path, "fsync of the directory", errno);
    close(dfd);
  }
  return rc;
}

int kcb__mkdirs(const char *dir, const char *owner) {
  size_t n = strlen(dir);
  if (n == 0) return 0;
  char *p = malloc(n + 1);
  if (!p) return kcb__error(KCB_ENOMEM, "%s: out of memory", owner);
  memcpy(p, dir, n + 1);
  int rc = 0;
  for (size_t i = 1; i <= n && rc == 0; i++) {
    if (p[i] != '/' && p[i] != '\0') continue;
    char saved = p[i];
    p[i] = '\0';
    struct stat st;
    if (stat(p, &st) != 0) {
      if (mkdir(p, 0777) != 0 && errno != EEXIST)
        rc = kcb__error(kcb__error_from_errno(errno), "%s: cannot create directory %s: %s", owner, p, strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
      rc = kcb__error(KCB_EIO, "%s: %s exists and is not a directory", owner, p);
    }
    p[i] = saved;
  }
  free(p);
  return rc;
}

int kcb__mkdirs_for(const char *path, const char *owner) {
  const char *slash = strrchr(path, '/');
  if (!slash || slash == path) return 0;
  char *dir = malloc((size_t)(slash - path) + 1);
  if (!dir) return kcb__error(KCB_ENOMEM, "%s: out of memory", owner);
  memcpy(dir, path, (size_t)(slash - path));
  dir[slash - path] = '\0';
  int rc = kcb__mkdirs(dir, owner);
  free(dir);
  return rc;
}

char *kcb__path_join(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s/%s", dir, name);
  return p;
}
