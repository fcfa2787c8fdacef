/* core/escape.c — kcb_text_escape (kcb/text.h): file content made safe for a terminal. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kcb/text.h"
#include "internal.h"

size_t kcb__utf8_sequence(const unsigned char *p, size_t n, uint32_t *code_point) {
  unsigned c = p[0];
  size_t k;
  uint32_t cp;
  if (c >= 0xc2 && c <= 0xdf) k = 2, cp = c & 0x1f;
  else if (c >= 0xe0 && c <= 0xef) k = 3, cp = c & 0x0f;
  else if (c >= 0xf0 && c <= 0xf4) k = 4, cp = c & 0x07;
  else return 0;
  if (n < k) return 0;
  for (size_t i = 1; i < k; i++) {
    if ((p[i] & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (p[i] & 0x3f);
  }
  if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  *code_point = cp;
  return k;
}

/* The length of the valid UTF-8 sequence at p (n bytes left) that is neither a C1 control nor a
 * bidirectional embedding, override or isolate, else 0. */
static size_t utf8_ok(const unsigned char *p, size_t n) {
  uint32_t cp = 0;
  size_t k = kcb__utf8_sequence(p, n, &cp);
  if (cp >= 0x80 && cp <= 0x9f) return 0; /* C1 controls: U+009B is a CSI on some terminals */
  /* U+202A-U+202E, U+2066-U+2069: a name's right-to-left override would reverse the rest of the
   * line (the numbers beside it) on a terminal that honours it */
  if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) return 0;
  return k;
}

int kcb_text_is_utf8(const char *s, size_t len) {
  const unsigned char *p = (const unsigned char *)s;
  uint32_t cp;
  for (size_t i = 0, k; i < len; i += k)
    if ((k = p[i] < 0x80 ? 1 : kcb__utf8_sequence(p + i, len - i, &cp)) == 0) return 0;
  return 1;
}

size_t kcb_text_escape(char *dst, size_t size, const char *src, size_t len, int flags) {
  const unsigned char *s = (const unsigned char *)src;
  size_t need = 0, out = 0;
  int full = 0;
  for (size_t i = 0; i < len;) {
    char buf[8];
    size_t k = 0, take = 1;
    unsigned c = s[i];
    if ((c == '\n' || c == '\t') && (flags & KCB_ESCAPE_KEEP_NEWLINES)) {
      buf[0] = (char)c;
      k = 1;
    } else if (c >= 0x20 && c < 0x7f) {
      buf[0] = (char)c;
      k = 1;
    } else if (c >= 0x80 && (take = utf8_ok(s + i, len - i)) > 0) {
      memcpy(buf, s + i, take);
      k = take;
    } else {
      take = 1;
      snprintf(buf, sizeof buf, "\\x%02x", c);
      k = 4;
    }
    if (!full && size > 0 && out + k < size) {
      memcpy(dst + out, buf, k);
      out += k;
    } else {
      full = 1;
    }
    need += k;
    i += take;
  }
  if (size > 0) dst[out] = '\0';
  return need;
}
