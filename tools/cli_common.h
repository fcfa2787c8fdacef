/* tools/cli_common.h — what the three tools share on the command line: --version, "did you mean"
 * suggestions, shell quoting, padding by display width and the colour decision. Printing helpers
 * only; no training or file logic lives here. */
#ifndef KCB_CLI_COMMON_H
#define KCB_CLI_COMMON_H

#include <stddef.h>
#include <stdio.h>

/* Opens /dev/null on whichever of descriptors 0, 1 and 2 is closed (`>&-`, some daemons and batch
 * systems), before anything else is opened: otherwise the first file the tool writes (an event
 * file, a CSV log) would take that number and receive its printed text. Standard output is opened
 * for reading, so that writing it still fails as a closed one does. Also ignores SIGXFSZ, so
 * that a file size limit fails a write (EFBIG) instead of killing the tool. */
void cli_open_standard_fds(void);

/* Makes the process end with status 1 and "TOOL: writing to standard output failed: REASON" when
 * what it printed could not all be written (a full disk, a closed pipe's EIO, /dev/full), whatever
 * main returned: checked at exit, after the last printf (coreutils' close_stdout). */
void cli_check_stdout_at_exit(const char *tool);

/* For a tool whose work outlives its output (kcb-train): a pipe whose reader is gone (`| tee` ended
 * by the same Ctrl-C) no longer kills it with SIGPIPE; writes to it fail quietly instead. */
void cli_stdout_reader_may_leave(void);

/* Checks the environment variables kcb reads (KCB_MAX_PARAMS), which the library would otherwise
 * ignore when malformed; not when the command line asks for --help or --version, which must
 * still explain them. @return 0, or 2 (a usage error, said on stderr). */
int cli_check_environment(const char *tool, int argc, char **argv);

/* Prints "TOOL VERSION" (the library's run-time version) on stdout. */
void cli_print_version(const char *tool);

/* Whether `given` is one of the n choices (NULL is none). */
int cli_is_one_of(const char *given, const char *const *choices, size_t n);

/* "expected A, B or C" into buf, for `given` that is none of the n choices, and " (did you mean B?)"
 * when kcb_text_suggest finds one near it. @return buf. */
const char *cli_expected(char *buf, size_t size, const char *given, const char *const *choices, size_t n);

/* Writes " (did you mean X?)" to f when kcb_text_suggest finds X; nothing otherwise. */
void cli_print_suggestion(FILE *f, const char *given, const char *const *candidates, size_t n);

/* Writes s so that a POSIX shell reads it back as one word (single quotes when needed). */
void cli_shell_quote(FILE *f, const char *s);

/* The columns a UTF-8 string takes in a terminal: East Asian wide and fullwidth characters 2,
 * combining marks 0, other characters 1 (bytes of invalid UTF-8 count 1 each). */
size_t cli_display_width(const char *s);

/* Writes s padded with spaces to `width` columns (left-aligned, or right-aligned when right). */
void cli_pad(FILE *f, const char *s, size_t width, int right);

/* Whether to colour output written to f: never with NO_COLOR set (non-empty) or TERM=dumb (or no
 * TERM), else when f is a terminal. */
int cli_use_color(FILE *f);

/* The terminal's width in columns: $COLUMNS, else the terminal's, else 80. */
int cli_terminal_width(FILE *f);

/* n bytes of s as a JSON string, quoted: UTF-8 kept, control characters escaped, and a byte that
 * is not UTF-8 as the code point of its Latin-1 reading (JSON is UTF-8 text, RFC 8259). */
void cli_json_string(FILE *f, const char *s, size_t n);

#endif
