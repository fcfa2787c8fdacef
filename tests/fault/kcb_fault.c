/* kcb_fault — an LD_PRELOAD library that makes writes to chosen files fail, so tests can check that
 * every kcb writer reports a disk-full or I/O error clearly and loses no earlier file. Used only by
 * tests; nothing in libkcb knows about it.
 *
 *   KCB_FAULT_MATCH   substring of the paths to hit (files opened after it matches)    [required]
 *   KCB_FAULT_ERRNO   ENOSPC, EIO or EDQUOT                                             [ENOSPC]
 *   KCB_FAULT_AFTER   bytes the matching files may take before writes fail              [0]
 *   KCB_FAULT_OPS     comma list of what fails: write (also stdio), fsync, rename       [write]
 *   KCB_FAULT_SIGNAL  a signal number: a matching rename raises it in the process (then
 *                     renames), a Ctrl-C at that moment (with KCB_FAULT_OPS=none: nothing fails) [unset]
 *
 * Failing writes return -1 with errno set (stdio calls return their error value). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FD 4096
static unsigned char hit_fd[MAX_FD];
static FILE *hit_files[64];
static long long budget = -1; /* bytes left before failing; -1 before configuration */
static int fault_errno = ENOSPC, fail_write = 1, fail_fsync = 0, fail_rename = 0;
static const char *match;
static int rename_signal; /* KCB_FAULT_SIGNAL */

static void configure(void) {
  if (budget != -1) return;
  match = getenv("KCB_FAULT_MATCH");
  const char *e = getenv("KCB_FAULT_ERRNO"), *after = getenv("KCB_FAULT_AFTER"), *ops = getenv("KCB_FAULT_OPS");
  if (e && strcmp(e, "EIO") == 0) fault_errno = EIO;
  if (e && strcmp(e, "EDQUOT") == 0) fault_errno = EDQUOT;
  budget = after ? atoll(after) : 0;
  rename_signal = getenv("KCB_FAULT_SIGNAL") ? atoi(getenv("KCB_FAULT_SIGNAL")) : 0;
  if (ops) {
    fail_write = strstr(ops, "write") != NULL;
    fail_fsync = strstr(ops, "fsync") != NULL;
    fail_rename = strstr(ops, "rename") != NULL;
  }
}

static int matches(const char *path) {
  configure();
  return match && *match && path && strstr(path, match);
}

/* How many of n bytes a write to a hit file may write (the budget is shared by all hit files): n, a
 * short count when the budget runs out inside it (as a filling disk does), or -1 with errno set. */
static ssize_t write_allowance(size_t n) {
  if (!fail_write || budget >= (long long)n) {
    if (fail_write) budget -= (long long)n;
    return (ssize_t)n;
  }
  if (budget > 0) {
    ssize_t part = (ssize_t)budget;
    budget = 0;
    return part;
  }
  errno = fault_errno;
  return -1;
}

/* stdio calls are all or nothing here: they fail once the budget cannot take them whole. */
static int write_fails(size_t n) {
  if (!fail_write) return 0;
  if (budget >= (long long)n) {
    budget -= (long long)n;
    return 0;
  }
  budget = 0;
  errno = fault_errno;
  return 1;
}

#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

static int track_fd(int fd, const char *path) {
  if (fd >= 0 && fd < MAX_FD) hit_fd[fd] = (unsigned char)matches(path);
  return fd;
}

int open(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
  va_end(ap);
  return track_fd(REAL(open)(path, flags, mode), path);
}
int open64(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
  va_end(ap);
  return track_fd(REAL(open64)(path, flags, mode), path);
}
int openat(int dirfd, const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
  va_end(ap);
  return track_fd(REAL(openat)(dirfd, path, flags, mode), path);
}
int creat(const char *path, mode_t mode) { return track_fd(REAL(creat)(path, mode), path); }

int close(int fd) {
  if (fd >= 0 && fd < MAX_FD) hit_fd[fd] = 0;
  return REAL(close)(fd);
}

static int is_hit(int fd) { return fd >= 0 && fd < MAX_FD && hit_fd[fd]; }

ssize_t write(int fd, const void *buf, size_t n) {
  ssize_t allowed = is_hit(fd) ? write_allowance(n) : (ssize_t)n;
  return allowed < 0 ? -1 : REAL(write)(fd, buf, (size_t)allowed);
}
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
  ssize_t allowed = is_hit(fd) ? write_allowance(n) : (ssize_t)n;
  return allowed < 0 ? -1 : REAL(pwrite)(fd, buf, (size_t)allowed, off);
}
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) {
  ssize_t allowed = is_hit(fd) ? write_allowance(n) : (ssize_t)n;
  return allowed < 0 ? -1 : REAL(pwrite64)(fd, buf, (size_t)allowed, off);
}
ssize_t writev(int fd, const struct iovec *iov, int cnt) {
  size_t n = 0;
  for (int i = 0; i < cnt; i++) n += iov[i].iov_len;
  if (is_hit(fd) && write_fails(n)) return -1;
  return REAL(writev)(fd, iov, cnt);
}
int fsync(int fd) {
  if (is_hit(fd) && fail_fsync) {
    errno = fault_errno;
    return -1;
  }
  return REAL(fsync)(fd);
}
int fdatasync(int fd) {
  if (is_hit(fd) && fail_fsync) {
    errno = fault_errno;
    return -1;
  }
  return REAL(fdatasync)(fd);
}
int rename(const char *from, const char *to) {
  configure();
  if (rename_signal && (matches(from) || matches(to))) {
    kill(getpid(), rename_signal);
    return REAL(rename)(from, to);
  }
  if (fail_rename && (matches(from) || matches(to))) {
    errno = fault_errno;
    return -1;
  }
  return REAL(rename)(from, to);
}

/* stdio writes reach the kernel through glibc's internal write, which cannot be interposed: fail
 * them at the FILE level instead (the data a failed call would have buffered counts as written). */
static int file_hit(FILE *f) {
  for (size_t i = 0; i < sizeof hit_files / sizeof hit_files[0]; i++)
    if (hit_files[i] == f) return 1;
  return 0;
}
static FILE *track_file(FILE *f, const char *path) {
  if (f) track_fd(fileno(f), path); /* writes that bypass the FILE's buffer */
  if (f && matches(path))
    for (size_t i = 0; i < sizeof hit_files / sizeof hit_files[0]; i++)
      if (!hit_files[i]) {
        hit_files[i] = f;
        break;
      }
  return f;
}
FILE *fopen(const char *path, const char *mode) { return track_file(REAL(fopen)(path, mode), path); }
FILE *fopen64(const char *path, const char *mode) { return track_file(REAL(fopen64)(path, mode), path); }
int fclose(FILE *f) {
  int failed = 0;
  for (size_t i = 0; i < sizeof hit_files / sizeof hit_files[0]; i++)
    if (hit_files[i] == f) {
      hit_files[i] = NULL;
      failed = fail_write && budget == 0;
    }
  int rc = REAL(fclose)(f);
  if (failed) {
    errno = fault_errno;
    return EOF;
  }
  return rc;
}
size_t fwrite(const void *buf, size_t size, size_t n, FILE *f) {
  if (file_hit(f) && write_fails(size * n)) return 0;
  return REAL(fwrite)(buf, size, n, f);
}
int fputs(const char *s, FILE *f) {
  if (file_hit(f) && write_fails(strlen(s))) return EOF;
  return REAL(fputs)(s, f);
}
int fputc(int c, FILE *f) {
  if (file_hit(f) && write_fails(1)) return EOF;
  return REAL(fputc)(c, f);
}
int vfprintf(FILE *f, const char *fmt, va_list ap) {
  if (file_hit(f)) {
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n > 0 && write_fails((size_t)n)) return -1;
  }
  return REAL(vfprintf)(f, fmt, ap);
}
int fprintf(FILE *f, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = vfprintf(f, fmt, ap);
  va_end(ap);
  return rc;
}
int fflush(FILE *f) {
  if (f && file_hit(f) && fail_write && budget == 0) {
    errno = fault_errno;
    return EOF;
  }
  return REAL(fflush)(f);
}
