/* io/json_python.c — see json_python.h. */
#include "io/json_python.h"

#include <stdlib.h>
#include <string.h>

/* A copy of text with NaN, Infinity and -Infinity outside strings replaced by null; NULL if
 * there is none (or no memory). */
static char *without_non_finite(const char *text) {
  static const char *const tokens[] = {"-Infinity", "Infinity", "NaN"};
  size_t len = strlen(text), o = 0;
  char *out = malloc(2 * len + 1); /* "NaN" grows by one byte to "null": at most 4/3 of the text */
  int in_string = 0, replaced = 0;
  if (!out) return NULL;
  for (size_t i = 0; i < len; i++) {
    char ch = text[i];
    if (in_string) {
      if (ch == '\\' && i + 1 < len) out[o++] = ch, ch = text[++i];
      else if (ch == '"') in_string = 0;
    } else if (ch == '"') {
      in_string = 1;
    } else {
      size_t t = 0, n = 0;
      for (; t < sizeof tokens / sizeof tokens[0]; t++)
        if (strncmp(text + i, tokens[t], n = strlen(tokens[t])) == 0) break;
      if (t < sizeof tokens / sizeof tokens[0]) {
        memcpy(out + o, "null", 4);
        o += 4, i += n - 1, replaced = 1;
        continue;
      }
    }
    out[o++] = ch;
  }
  out[o] = '\0';
  if (!replaced) {
    free(out);
    return NULL;
  }
  return out;
}

json_t *kcb__json_loads_python(const char *text, size_t flags, json_error_t *err, int *non_finite) {
  if (non_finite) *non_finite = 0;
  json_t *j = json_loads(text, flags, err);
  if (j || !text) return j;
  char *plain = without_non_finite(text);
  if (!plain) return NULL;
  json_error_t again;
  j = json_loads(plain, flags, &again);
  free(plain);
  if (j && non_finite) *non_finite = 1;
  return j;
}
