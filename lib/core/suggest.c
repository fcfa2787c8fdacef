/* core/suggest.c — "did you mean": the known name nearest to a mistyped one, for the library's
 * messages (an unknown loss, activation, model spec item) and the tools' (options, commands, tags). */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "kcb/text.h"

/* Damerau–Levenshtein (optimal string alignment) distance, for short names only. */
static size_t edit_distance(const char *a, const char *b) {
  size_t n = strlen(a), m = strlen(b);
  if (n > 62 || m > 62) return (size_t)-1;
  size_t d[64][64];
  for (size_t i = 0; i <= n; i++) d[i][0] = i;
  for (size_t j = 0; j <= m; j++) d[0][j] = j;
  for (size_t i = 1; i <= n; i++)
    for (size_t j = 1; j <= m; j++) {
      size_t cost = a[i - 1] != b[j - 1], best = d[i - 1][j - 1] + cost;
      if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
        best = d[i - 2][j - 2] + 1;
      d[i][j] = best;
    }
  return d[n][m];
}

const char *kcb_text_suggest(const char *given, const char *const *candidates, size_t n) {
  if (!given || !given[0]) return NULL;
  /* a short name is two edits from most short names: one edit there, a third of a longer one */
  size_t len = strlen(given), limit = len <= 3 ? 1 : len / 3 > 2 ? len / 3 : 2, best_d = (size_t)-1;
  const char *best = NULL, *prefixed = NULL;
  size_t n_prefixed = 0;
  for (size_t i = 0; i < n && len >= 2; i++) /* "ep" for "epochs": an abbreviation of one name only */
    if (candidates[i] && strncmp(candidates[i], given, len) == 0 && candidates[i][len]) prefixed = candidates[i], n_prefixed++;
  if (n_prefixed == 1) return prefixed;
  for (size_t i = 0; i < n; i++) {
    if (!candidates[i] || strcmp(candidates[i], given) == 0) continue;
    size_t d = edit_distance(given, candidates[i]);
    if (d <= limit && d < best_d) best_d = d, best = candidates[i];
  }
  if (best) return best;
  for (size_t i = 0; i < n; i++) /* "--EPOCHS" for "--epochs": caps lock */
    if (candidates[i] && kcb__ascii_casecmp(candidates[i], given) == 0 && strcmp(candidates[i], given) != 0) return candidates[i];
  for (size_t i = 0; i < n && len >= 3; i++) /* "val_acc" for "val_accuracy" */
    if (candidates[i] && strncmp(candidates[i], given, len) == 0 && candidates[i][len]) return candidates[i];
  for (size_t i = 0; i < n; i++) { /* "loss" for "epoch_loss", "train/epoch_loss" */
    size_t cl = candidates[i] ? strlen(candidates[i]) : 0;
    if (cl > len && strcmp(candidates[i] + cl - len, given) == 0 &&
        (candidates[i][cl - len - 1] == '_' || candidates[i][cl - len - 1] == '/'))
      return candidates[i];
  }
  for (size_t i = 0; i < n && len >= 3; i++) /* "dense/kernel" for "sequential/dense/kernel/histogram" */
    for (const char *p = candidates[i] && strcmp(candidates[i], given) ? strstr(candidates[i], given) : NULL; p;
         p = strstr(p + 1, given))
      if ((p == candidates[i] || p[-1] == '/') && (p[len] == '\0' || p[len] == '/')) return candidates[i];
  return NULL;
}

const char *kcb__did_you_mean(char *buf, size_t size, const char *given, const char *const *known, size_t n) {
  const char *near = kcb_text_suggest(given, known, n);
  if (near) snprintf(buf, size, " (did you mean %s?)", near);
  else if (size) buf[0] = '\0';
  return buf;
}
