/* kcb/text.h — text that came from a file or a command line: shown safely on a terminal, checked,
 * and read as numbers strictly. */
#ifndef KCB_TEXT_H
#define KCB_TEXT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Keep line feeds and tabs (for multi-line text bodies); without it they are escaped too. */
#define KCB_ESCAPE_KEEP_NEWLINES 1

/** Copies len bytes of src (NUL bytes included) into dst as text safe to print on a terminal:
 * control characters (C0, DEL, and C1 as UTF-8), bidirectional embeddings, overrides and isolates
 * (U+202A-U+202E, U+2066-U+2069), invalid UTF-8 bytes and NUL become "\xNN" escapes (so a crafted
 * tag cannot clear the screen, retitle the terminal or reverse the rest of a line, and nothing after a
 * NUL is lost); everything else (valid UTF-8, backslashes) is kept as it is. Output is cut at a whole escape
 * and always NUL-terminated when size > 0 (like snprintf).
 * @return the length the whole escaped text needs (excluding the NUL). */
size_t kcb_text_escape(char *dst, size_t size, const char *src, size_t len, int flags);

/** Whether src[0, len) is valid UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF), as protobuf requires of a `string` field such as a TensorBoard tag.
 * @return 1 or 0. */
int kcb_text_is_utf8(const char *src, size_t len);

/** Reads a whole string as a number written in plain decimal, as kcb's model specs and tools take
 * them: digits with an optional leading '-', a point and an exponent (0.5, -1, .25, 1e-3), read in
 * the C locale. Refused, where strtod would take them: leading blanks, '+', hexadecimal (0x10),
 * inf, nan, trailing text, and values beyond double's range (ERANGE).
 * @return 1 with *out set, or 0. */
int kcb_text_to_number(const char *s, double *out);

/** The candidate nearest to `given` as a person would have meant it (git's "did you mean"): the one
 * `given` abbreviates when it abbreviates one only ("ep" for "epochs"), else the nearest within an
 * edit distance (insertions, deletions, substitutions, swaps of neighbours) of a third of its
 * length (at least 2; 1 for a name of 3 characters or fewer), else one equal but for case, else one
 * `given` begins (3 characters or more: "val_acc" for "val_accuracy"), else one that `given` ends
 * after a '_' or '/' ("loss" for "epoch_loss"), else one holding it between '/' ("dense/kernel").
 * Ties go to the first candidate; NULL entries are skipped.
 * @return a candidate, or NULL when none is near (or given is NULL or empty). */
const char *kcb_text_suggest(const char *given, const char *const *candidates, size_t n);

#ifdef __cplusplus
}
#endif
#endif
