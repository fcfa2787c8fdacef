/* core/error.c — error names and messages from one table, and the thread-local detail. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Room for the reason after paths near PATH_MAX, which a message may name twice. */
static _Thread_local char last_error[8192];

const char *kcb_error_name(int code) {
  switch (code) {
    case 0: return "KCB_OK";
#define KCB__NAME_CASE(name, value, msg) case value: return "KCB_" #name;
    KCB_ERROR_MAP(KCB__NAME_CASE)
#undef KCB__NAME_CASE
  }
  return "KCB_UNKNOWN";
}

const char *kcb_strerror(int code) {
  switch (code) {
    case 0: return "success";
#define KCB__MSG_CASE(name, value, msg) case value: return msg;
    KCB_ERROR_MAP(KCB__MSG_CASE)
#undef KCB__MSG_CASE
  }
  return "unknown error";
}

const char *kcb_error_last(void) { return last_error; }

void kcb_error_clear(void) { last_error[0] = '\0'; }

static int set_error(int code, const char *fmt, va_list ap) {
  /* Formatted aside first: callers may add context to the previous message, passing kcb_error_last(). */
  char message[sizeof last_error];
  int n = vsnprintf(message, sizeof message, fmt, ap);
  size_t len = n < 0 ? 0 : (size_t)n < sizeof message ? (size_t)n : sizeof message - 1;
  memcpy(last_error, message, len);
  last_error[len] = '\0';
  return code;
}

int kcb__error(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  set_error(code, fmt, ap);
  va_end(ap);
  return code;
}

int kcb_error_set(int code, const char *fmt, ...) {
  if (!fmt) {
    last_error[0] = '\0';
    return code;
  }
  va_list ap;
  va_start(ap, fmt);
  set_error(code, fmt, ap);
  va_end(ap);
  return code;
}

int kcb__error_from_errno(int err) {
  switch (err) {
    case ENOENT: case ENOTDIR: return KCB_ENOENT;
    case ENOSPC: case EDQUOT: return KCB_ENOSPC;
    case ENOMEM: return KCB_ENOMEM;
    case EINVAL: return KCB_EINVAL;
    default: return KCB_EIO;
  }
}

void kcb__strlcpy(char *dst, const char *src, size_t size) {
  if (size == 0) return;
  size_t n = strlen(src);
  if (n >= size) n = size - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

const char *kcb_version_string(void) { return "0.1.0"; }
