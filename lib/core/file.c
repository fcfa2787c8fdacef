/* core/file — writing files so that a crash or a failure never loses the previous good file:
 * temporary name in the same directory, fsync, rename, fsync of the directory. Every writer that
 * replaces a file (checkpoints, plots, backups, exports) goes through here. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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
  return kcb__file_write_checked(path, data, len, NULL, NULL);
}

/* The file a write to `path` lands in, into *out (malloc'd): through symbolic links (dangling ones
 * included), as open() follows them, so that replacing it leaves the links in place.
 * @return 0, KCB_EINVAL (a loop of links, as open's ELOOP) or KCB_ENOMEM. */
static int write_target(const char *path, char **out) {
  char *at = strdup(path);
  for (int hops = 0; at; hops++) {
    struct stat st;
    char link[4096];
    ssize_t n;
    if (lstat(at, &st) != 0 || !S_ISLNK(st.st_mode) || (n = readlink(at, link, sizeof link - 1)) <= 0) {
      *out = at;
      return 0;
    }
    if (hops == 40) {
      free(at);
      return kcb__error(KCB_EINVAL, "%s: cannot save: too many levels of symbolic links", path);
    }
    link[n] = '\0';
    char dir[4096];
    dir_of(at, dir, sizeof dir);
    char *next = link[0] == '/' ? strdup(link) : kcb__path_join(dir, link);
    free(at);
    at = next;
  }
  return kcb__error(KCB_ENOMEM, "%s: out of memory", path);
}

/* The part of a temporary's name that stands for the file `base` (".PART.tmp-PID-N"): the name
 * itself, or for a name too long to fit within NAME_MAX its start (whole UTF-8 characters) and a
 * hash of the whole, so that two long names sharing a start do not share temporaries. */
#define TEMP_BASE_MAX (255 - 32) /* ".", ".tmp-", a pid and a counter */
static void temp_part(const char *base, char out[TEMP_BASE_MAX + 1]) {
  size_t n = strlen(base);
  if (n <= TEMP_BASE_MAX) {
    memcpy(out, base, n + 1);
    return;
  }
  uint32_t h = 2166136261u; /* FNV-1a */
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)base[i]) * 16777619u;
  int keep = kcb__utf8_prefix(base, TEMP_BASE_MAX - 9);
  snprintf(out, TEMP_BASE_MAX + 1, "%.*s~%08x", keep, base, (unsigned)h);
}

/* What a path that is not a regular file is ("a FIFO"), for messages. */
static const char *file_kind(mode_t m) {
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  if (S_ISDIR(m)) return "a directory";
  return "not a regular file";
}

/* Where a write to user_path goes (*target, malloc'd; *old its state if *exists), or the error it
 * would end in: a loop of links, a name ending in '/', a device or FIFO (never replaced by a file:
 * a link to /dev/null, say), a directory. */
static int replace_target(const char *user_path, char **target, struct stat *old, int *exists) {
  int rc = write_target(user_path, target);
  if (rc) return rc;
  const char *slash = strrchr(*target, '/');
  *exists = stat(*target, old) == 0;
  if (!*(slash ? slash + 1 : *target) || (*exists && S_ISDIR(old->st_mode)))
    rc = kcb__error(KCB_EINVAL, "%s: cannot save: the name is a directory", user_path);
  else if (*exists && !S_ISREG(old->st_mode))
    rc = kcb__error(KCB_EINVAL, "%s: cannot save: %s is %s, not a regular file", user_path, *target, file_kind(old->st_mode));
  if (rc) free(*target), *target = NULL;
  return rc;
}

int kcb_file_check_writable(const char *path) {
  if (!path || !*path) return kcb__error(KCB_EINVAL, "save: empty file name");
  char *target = NULL, dir[4096], probe[4200];
  struct stat old;
  int exists, rc = replace_target(path, &target, &old, &exists);
  if (rc) return rc;
  dir_of(target, dir, sizeof dir);
  /* the probe's short name fits where a long one would not: the final rename must fit too */
  const char *slash = strrchr(target, '/');
  size_t base_len = strlen(slash ? slash + 1 : target);
  free(target);
  long name_max = pathconf(dir, _PC_NAME_MAX);
  if (name_max > 0 && base_len > (size_t)name_max) {
    char step[160];
    snprintf(step, sizeof step, "the name is %zu bytes, more than the %ld its directory's file system takes", base_len, name_max);
    return fail(path, step, ENAMETOOLONG);
  }
  static unsigned counter; /* a short name: the probe must not fail where the write would not */
  snprintf(probe, sizeof probe, "%s/.kcb-probe-%ld-%u", dir, (long)getpid(), __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
  int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    char step[4200];
    snprintf(step, sizeof step, "creating a temporary file in %s", dir);
    return fail(path, step, errno);
  }
  close(fd);
  (void)unlink(probe);
  return 0;
}

int kcb__file_write_checked(const char *path, const void *data, size_t len, int (*check)(const char *, void *),
                            void *ctx) {
  if (!path || !*path) return kcb__error(KCB_EINVAL, "save: empty file name");
  const char *user_path = path;
  char *target = NULL;
  struct stat old;
  int exists, target_rc = replace_target(user_path, &target, &old, &exists);
  if (target_rc) return target_rc;
  path = target;
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  int replacing = exists; /* a regular file, as replace_target checked */
  size_t size = strlen(path) + 64;
  char *tmp = malloc(size), part[TEMP_BASE_MAX + 1];
  if (!tmp) {
    free(target);
    return kcb__error(KCB_ENOMEM, "%s: out of memory", user_path);
  }
  temp_part(base, part);
  /* A hidden name in the target's directory, so rename stays within one file system. A new file
   * gets the permissions the umask leaves (O_EXCL, 0666); a replaced one keeps its owner and
   * permissions (those of a file, setuid and setgid aside). */
  static unsigned counter;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
    snprintf(tmp, size, "%.*s.%s.tmp-%ld-%u", (int)(base - path), path, part, (long)getpid(),
             __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    int err = errno;
    char step[4200], dir[4096];
    dir_of(path, dir, sizeof dir);
    snprintf(step, sizeof step, "creating a temporary file in %s", dir);
    int rc = fail(user_path, step, err);
    free(tmp);
    free(target);
    return rc;
  }
  if (replacing) {
    if (fchown(fd, old.st_uid, old.st_gid) != 0) errno = 0; /* best effort: not ours to give, it stays the writer's */
    (void)fchmod(fd, old.st_mode & 0777);
  }
  int rc = kcb__write_all(fd, data, len, user_path);
  if (rc == 0 && fsync(fd) != 0) rc = fail(user_path, "fsync", errno);
  if (close(fd) != 0 && rc == 0) rc = fail(user_path, "closing", errno);
  if (rc == 0 && check) rc = check(tmp, ctx);
  if (rc == 0 && rename(tmp, path) != 0) rc = fail(user_path, "renaming the temporary file into place", errno);
  if (rc) unlink(tmp);
  free(tmp);
  char dir[4096];
  dir_of(path, dir, sizeof dir);
  free(target);
  int dfd = rc ? -1 : open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    /* Makes the rename durable; some file systems refuse fsync on a directory: not an error. */
    if (fsync(dfd) != 0 && errno != EINVAL && errno != EROFS) rc = fail(user_path, "fsync of the directory", errno);
    close(dfd);
  }
  return rc;
}

/* Whether name is a temporary file of base: "[.]PART.tmp-*" (ours are ".PART.tmp-PID-N"). */
static int is_temp_of(const char *name, const char *base) {
  char part[TEMP_BASE_MAX + 1];
  temp_part(base, part);
  size_t n = strlen(part);
  if (name[0] == '.') name++;
  return strncmp(name, part, n) == 0 && strncmp(name + n, ".tmp-", 5) == 0;
}

/* Whether name is one of kcb__file_write_atomic's temporaries (".NAME.tmp-PID-N") of base (any
 * name if NULL) whose process is gone: a kill or a second Ctrl-C cut its write. Gone means no such
 * process here and no write to the file for a minute: a writer in another PID namespace (a
 * container, another machine on a shared directory) is not visible to kill(), but is writing. */
static int is_dead_temp(const char *dir, const char *name, const char *base) {
  const char *t = name[0] == '.' ? strstr(name, ".tmp-") : NULL, *next;
  while (t && (next = strstr(t + 1, ".tmp-")) != NULL) t = next; /* the last one: NAME may hold ".tmp-" */
  if (!t || t == name + 1) return 0;
  char part[TEMP_BASE_MAX + 1];
  if (base) temp_part(base, part);
  if (base && ((size_t)(t - name - 1) != strlen(part) || strncmp(name + 1, part, strlen(part)) != 0)) return 0;
  char *end;
  errno = 0;
  long pid = strtol(t + 5, &end, 10);
  if (errno || pid <= 0 || end == t + 5 || *end != '-' || !isdigit((unsigned char)end[1])) return 0;
  while (isdigit((unsigned char)*++end)) {}
  if (*end || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH) return 0;
  char *path = kcb__path_join(dir, name);
  struct stat st;
  int old = path && lstat(path, &st) == 0 && S_ISREG(st.st_mode) && time(NULL) - st.st_mtime > 60;
  free(path);
  return old;
}

void kcb__file_remove_dead_temps(const char *user_path, int same_name) {
  char dir[4096], *path = NULL;
  if (write_target(user_path, &path)) { /* where the writes went */
    kcb_error_clear();
    return;
  }
  dir_of(path, dir, sizeof dir);
  const char *slash = strrchr(path, '/'), *base = !same_name ? NULL : slash ? slash + 1 : path;
  DIR *d = opendir(dir);
  if (!d) {
    free(path);
    return;
  }
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (!is_dead_temp(dir, e->d_name, base)) continue;
    char *temp = kcb__path_join(dir, e->d_name);
    if (!temp) break;
    (void)unlink(temp);
    free(temp);
  }
  closedir(d);
  free(path);
}

void kcb__file_remove_stale_temps(const char *user_path) {
  char dir[4096], *path = NULL;
  if (write_target(user_path, &path)) kcb_error_clear();
  const char *slash = path ? strrchr(path, '/') : NULL;
  const char *base = slash ? slash + 1 : path;
  DIR *d = NULL;
  if (base && *base) {
    dir_of(path, dir, sizeof dir);
    d = opendir(dir);
  }
  if (!d) {
    free(path);
    return;
  }
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (!is_temp_of(e->d_name, base)) continue;
    char *temp = kcb__path_join(dir, e->d_name);
    if (!temp) break;
    (void)unlink(temp);
    free(temp);
  }
  closedir(d);
  free(path);
}

int kcb_file_write_atomic(const char *path, const void *data, size_t len) {
  if (!path || (!data && len)) return kcb__error(KCB_EINVAL, "kcb_file_write_atomic: NULL argument");
  return kcb__file_write_atomic(path, data, len);
}

void kcb_file_remove_stale_temps(const char *path) {
  if (path) kcb__file_remove_stale_temps(path);
}

int kcb__mkdirs(const char *dir, const char *owner) {
  size_t n = strlen(dir);
  if (n == 0) return 0;
  const char *sep = owner ? ": " : ""; /* no owner: the directory is the subject */
  if (!owner) owner = "";
  char *p = malloc(n + 1);
  if (!p) return kcb__error(KCB_ENOMEM, "%s%sout of memory", owner, sep);
  memcpy(p, dir, n + 1);
  int rc = 0;
  for (size_t i = 1; i <= n && rc == 0; i++) {
    if (p[i] != '/' && p[i] != '\0') continue;
    char saved = p[i];
    p[i] = '\0';
    struct stat st;
    if (stat(p, &st) != 0) {
      if (mkdir(p, 0777) != 0 && errno != EEXIST)
        rc = kcb__error(kcb__error_from_errno(errno), "%s%scannot create directory %s: %s", owner, sep, p, strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
      rc = kcb__error(KCB_EIO, "%s%s%s exists and is not a directory", owner, sep, p);
    }
    p[i] = saved;
  }
  free(p);
  return rc;
}

/* mkdir -p of path's dirname ("a/b/" makes a/b). */
static int mkdirs_of_dirname(const char *path, const char *owner) {
  const char *slash = strrchr(path, '/');
  if (!slash || slash == path) return 0;
  char *dir = malloc((size_t)(slash - path) + 1);
  if (!dir) return kcb__error(KCB_ENOMEM, "%s: out of memory", owner ? owner : path);
  memcpy(dir, path, (size_t)(slash - path));
  dir[slash - path] = '\0';
  int rc = kcb__mkdirs(dir, owner);
  free(dir);
  return rc;
}

int kcb__ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

int kcb__utf8_prefix(const char *s, int max) {
  int n = (int)strnlen(s, (size_t)max);
  if (s[n]) /* cut: step back over the continuation bytes of the character it would split */
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
  return n;
}

char *kcb__path_join(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2, len = strlen(dir);
  char *p = malloc(n);
  /* "bk/" and "bk" make "bk/latest.weights.h5" alike (not "bk//...", which messages would show) */
  if (p) snprintf(p, n, "%s%s%s", dir, len && dir[len - 1] == '/' ? "" : "/", name);
  return p;
}

/* ---- reading: regular files only ------------------------------------------------------ */

int kcb__file_open_read(const char *path, const char *owner, int *fd_out) {
  *fd_out = -1;
  const char *sep = owner ? ": " : "";
  if (!owner) owner = "";
  /* O_NONBLOCK: open() of a FIFO with no writer would otherwise wait forever, and a device's open
   * may have side effects or block; fstat on the opened descriptor then decides, with no race
   * between a stat and the open. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    int err = errno;
    return kcb__error(kcb__error_from_errno(err), "%s%s%s: cannot open: %s", owner, sep, path, strerror(err));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return kcb__error(kcb__error_from_errno(err), "%s%s%s: cannot open: %s", owner, sep, path, strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return kcb__error(KCB_EINVAL, "%s%s%s: cannot open: %s, not a regular file (kcb reads only regular files)",
                      owner, sep, path, file_kind(st.st_mode));
  }
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) (void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK); /* regular files never block anyway */
  *fd_out = fd;
  return 0;
}

int kcb__file_fopen_read(const char *path, const char *owner, FILE **out) {
  *out = NULL;
  int fd;
  int rc = kcb__file_open_read(path, owner, &fd);
  if (rc) return rc;
  if (!(*out = fdopen(fd, "rb"))) {
    close(fd);
    return kcb__error(KCB_ENOMEM, "%s%s%s: out of memory opening", owner ? owner : "", owner ? ": " : "", path);
  }
  return 0;
}

int kcb__file_check_regular(const char *path, const char *owner) {
  int fd;
  int rc = kcb__file_open_read(path, owner, &fd);
  if (rc == 0) close(fd);
  return rc;
}

int kcb__mkdirs_for(const char *path, const char *owner) {
  size_t n = strlen(path);
  if (n && path[n - 1] == '/') /* the directories would be made, the file could not be */
    return kcb__error(KCB_EINVAL, "%s: '%s' ends with '/', as a directory's name does; a file's name is expected", owner,
                      path);
  return mkdirs_of_dirname(path, owner);
}

int kcb_file_make_parent_dirs(const char *path) {
  if (!path) return kcb__error(KCB_EINVAL, "kcb_file_make_parent_dirs: NULL path");
  return mkdirs_of_dirname(path, NULL);
}

int kcb_file_read(const char *path, size_t max_bytes, char **out, size_t *len) {
  if (!out || !len || !path) return kcb__error(KCB_EINVAL, "kcb_file_read: NULL argument");
  *out = NULL;
  *len = 0;
  int fd;
  int rc = kcb__file_open_read(path, NULL, &fd);
  if (rc) return rc;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  while (buf && rc == 0) {
    if (n + 1 == cap) {
      char *grown = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
      if (!grown) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = grown;
      cap *= 2;
    }
    ssize_t got = read(fd, buf + n, cap - 1 - n);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) rc = kcb__error(kcb__error_from_errno(errno), "%s: cannot read: %s", path, strerror(errno));
    else if (got == 0) break;
    else n += (size_t)got;
    if (max_bytes && n > max_bytes)
      rc = kcb__error(KCB_EINVAL, "%s: too large (more than %zu bytes)", path, max_bytes);
  }
  close(fd);
  if (rc == 0 && !buf) rc = kcb__error(KCB_ENOMEM, "%s: out of memory reading", path);
  if (rc) {
    free(buf);
    return rc;
  }
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return 0;
}
