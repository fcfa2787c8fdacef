/* tools/cli_common.c — see cli_common.h. */
#include "cli_common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kcb/kcb.h"

static const char *exit_tool;
static int reader_may_leave;

static void check_stdout(void) {
  errno = 0;
  if (fflush(stdout) == 0 && !ferror(stdout)) return;
  int err = errno;
  if (!err && write(STDOUT_FILENO, "\n", 1) < 0) err = errno; /* an earlier write failed: its cause, once more */
  struct pollfd out = {STDOUT_FILENO, POLLOUT, 0}; /* a pipe without a reader polls as an error */
  if (reader_may_leave && (err == EPIPE || (poll(&out, 1, 0) == 1 && (out.revents & POLLERR))))
    return; /* the pipe's reader is gone: nobody to tell */
  fprintf(stderr, "%s: writing to standard output failed: %s\n", exit_tool, err ? strerror(err) : "write error");
  _exit(1);
}

void cli_open_standard_fds(void) {
  /* a file size limit (ulimit -f, a batch system's h_fsize) then fails a write with EFBIG, said
   * and handled as a full disk is, instead of killing the tool in the middle of it */
  signal(SIGXFSZ, SIG_IGN);
  for (int fd = 0; fd <= 2; fd++)
    if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
      /* the lowest free number: fd. Standard output opened for reading fails every write with
       * EBADF, as the closed one would, so the tool still says its output was lost (exit 1). */
      int null = open("/dev/null", fd <= 1 ? O_RDONLY : O_WRONLY);
      if (null >= 0 && null != fd) close(null); /* not fd (a lower one opened meanwhile?): leave it */
    }
}

void cli_check_stdout_at_exit(const char *tool) {
  exit_tool = tool;
  atexit(check_stdout);
}

void cli_stdout_reader_may_leave(void) {
  reader_may_leave = 1;
  signal(SIGPIPE, SIG_IGN);
}

/* Whether an option before "--" is --help, -h or --version (alone or as --help=...), or the
 * command is kcb-inspect's "help". */
static int asks_for_help(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "help") == 0) return 1;
  for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
    size_t n = strcspn(argv[i], "=");
    if ((n == 6 && strncmp(argv[i], "--help", 6) == 0) || (n == 9 && strncmp(argv[i], "--version", 9) == 0) ||
        strcmp(argv[i], "-h") == 0)
      return 1;
  }
  return 0;
}

int cli_check_environment(const char *tool, int argc, char **argv) {
  uint64_t max_params;
  if (asks_for_help(argc, argv)) return 0;
  if (kcb_max_params_from_env(&max_params) == 0) return 0;
  fprintf(stderr, "%s: %s\n", tool, kcb_error_last());
  return 2;
}

void cli_print_version(const char *tool) { printf("%s %s\n", tool, kcb_version_string()); }

int cli_is_one_of(const char *given, const char *const *choices, size_t n) {
  for (size_t i = 0; given && i < n; i++)
    if (strcmp(given, choices[i]) == 0) return 1;
  return 0;
}

const char *cli_expected(char *buf, size_t size, const char *given, const char *const *choices, size_t n) {
  size_t used = (size_t)snprintf(buf, size, "expected");
  for (size_t i = 0; i < n && used < size; i++)
    used += (size_t)snprintf(buf + used, size - used, "%s%s", i == 0 ? " " : i + 1 < n ? ", " : " or ", choices[i]);
  const char *near = kcb_text_suggest(given, choices, n);
  if (near && used < size) snprintf(buf + used, size - used, " (did you mean %s?)", near);
  return buf;
}

void cli_print_suggestion(FILE *f, const char *given, const char *const *candidates, size_t n) {
  const char *s = kcb_text_suggest(given, candidates, n);
  if (s) fprintf(f, " (did you mean %s?)", s);
}

void cli_shell_quote(FILE *f, const char *s) {
  int plain = s[0] != '\0';
  for (const char *p = s; *p && plain; p++)
    plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%", *p) != NULL;
  if (plain) {
    fputs(s, f);
    return;
  }
  fputc('\'', f);
  for (const char *p = s; *p; p++)
    if (*p == '\'') fputs("'\\''", f);
    else fputc(*p, f);
  fputc('\'', f);
}

/* Columns of one code point: the wide ranges of Unicode's East Asian Width (W, F) and the
 * combining ranges most text meets; enough for file names and tags. */
static int codepoint_width(unsigned long c) {
  if (c == 0) return 0;
  if ((c >= 0x0300 && c <= 0x036F) || (c >= 0x1AB0 && c <= 0x1AFF) || (c >= 0x1DC0 && c <= 0x1DFF) ||
      (c >= 0x20D0 && c <= 0x20FF) || (c >= 0xFE20 && c <= 0xFE2F) || c == 0x200B || c == 0x200D ||
      (c >= 0xFE00 && c <= 0xFE0F))
    return 0;
  if ((c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) || (c >= 0x3041 && c <= 0x33FF) ||
      (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
      (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F) ||
      (c >= 0xFF00 && c <= 0xFF60) || (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
      (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD))
    return 2;
  return 1;
}

size_t cli_display_width(const char *s) {
  size_t w = 0;
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    unsigned long c = *p;
    int extra = c >= 0xF0 && c < 0xF8 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
    if (c >= 0x80 && c < 0xC0) extra = -1;
    if (extra > 0) {
      c &= 0x3Fu >> extra;
      int ok = 1;
      for (int i = 1; i <= extra; i++)
        if ((p[i] & 0xC0) != 0x80) ok = 0;
      if (ok) {
        for (int i = 1; i <= extra; i++) c = c << 6 | (p[i] & 0x3Fu);
        w += (size_t)codepoint_width(c);
        p += extra + 1;
        continue;
      }
    }
    w += 1; /* ASCII, or a byte of invalid UTF-8 */
    p++;
  }
  return w;
}

void cli_pad(FILE *f, const char *s, size_t width, int right) {
  size_t w = cli_display_width(s);
  if (!right) fputs(s, f);
  for (; w < width; w++) fputc(' ', f);
  if (right) fputs(s, f);
}

int cli_use_color(FILE *f) {
  const char *no = getenv("NO_COLOR"), *term = getenv("TERM");
  if (no && no[0]) return 0;
  if (!term || !term[0] || strcmp(term, "dumb") == 0) return 0;
  return isatty(fileno(f));
}

int cli_terminal_width(FILE *f) {
  const char *cols = getenv("COLUMNS");
  if (cols && atoi(cols) > 0) return atoi(cols);
  struct winsize ws;
  if (isatty(fileno(f)) && ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

/* The length of the UTF-8 sequence at s (at most n bytes), 0 when it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n) {
  size_t k = s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 && s[0] < 0xE0 ? 2 : 0;
  return k && k <= n && kcb_text_is_utf8((const char *)s, k) ? k : 0;
}

void cli_json_string(FILE *f, const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  fputc('"', f);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = p[i];
    if (c == '"' || c == '\\') fputc('\\', f), fputc(c, f);
    else if (c == '\n') fputs("\\n", f);
    else if (c == '\t') fputs("\\t", f);
    else if (c == '\r') fputs("\\r", f);
    else if (c < 0x20 || c == 0x7F) fprintf(f, "\\u%04x", c);
    else if (c < 0x80) fputc(c, f);
    else {
      size_t k = utf8_len(p + i, n - i);
      if (k) fwrite(p + i, 1, k, f), i += k - 1;
      else fprintf(f, "\\udc%02x", c); /* a byte that is not UTF-8: as a lone surrogate U+DC80..U+DCFF,
                                         which Python's surrogateescape turns back into the byte */
    }
  }
  fputc('"', f);
}
