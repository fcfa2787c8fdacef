/* kcb/error.h — error codes and the thread-local last-error message. */
#ifndef KCB_ERROR_H
#define KCB_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* One table generates the codes, their names and their messages (libuv's UV_ERRNO_MAP idea).
 * Every fallible kcb function returns 0 or one of these negative codes. */
#define KCB_ERROR_MAP(X)                                                     \
  X(EINVAL, -1, "invalid argument")                                          \
  X(ENOMEM, -2, "out of memory")                                             \
  X(EIO, -3, "input/output error")                                           \
  X(ENOENT, -4, "no such file or directory")                                 \
  X(EFORMAT, -5, "malformed or corrupt file")                                \
  X(ESHAPE, -6, "shape mismatch")                                            \
  X(ESTATE, -7, "operation not valid in the current state")                  \
  X(EKEY, -8, "unknown key or name")                                         \
  X(ENAN, -9, "not-a-number or infinite value")                              \
  X(ENOSPC, -10, "no space left on device")                                  \
  X(ETRUNC, -11, "truncated file")                                           \
  X(ECRC, -12, "checksum mismatch")                                          \
  X(ECALLBACK, -13, "a callback failed")                                     \
  X(EINTERRUPTED, -14, "interrupted at the program's request")

/** Error codes: `KCB_EINVAL`, `KCB_ENOMEM`, ... (all negative; 0 is success). */
typedef enum kcb_error_code {
  KCB_OK = 0,
#define KCB__ERROR_ENUM(name, value, msg) KCB_##name = value,
  KCB_ERROR_MAP(KCB__ERROR_ENUM)
#undef KCB__ERROR_ENUM
} kcb_error_code;

/** The symbolic name of a code, e.g. "KCB_EFORMAT"; "KCB_UNKNOWN" for a code not in the table.
 * @return a static string, never NULL. */
const char *kcb_error_name(int code);

/** The generic message of a code, e.g. "malformed or corrupt file".
 * @return a static string, never NULL. */
const char *kcb_strerror(int code);

/** The detailed message of the last error raised on this thread (file, offset, shape, key...),
 * or "" if none. Valid until the next kcb call on this thread that fails.
 * @return a thread-local string, never NULL. */
const char *kcb_error_last(void);

/** Clears this thread's last-error message. */
void kcb_error_clear(void);

/** Sets this thread's last-error message, printf-style, and returns code: how a callback's hook
 * says why it fails (`return kcb_error_set(KCB_EIO, "MyCheck: cannot write %s", path);`), so
 * that fit's error names it as kcb's own errors name theirs. A NULL fmt clears the message. */
int kcb_error_set(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif
