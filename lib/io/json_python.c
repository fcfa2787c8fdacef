/* io/json_python.c — see json_python.h. */
#include "io/json_python.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "kcb/logs.h"

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

/* A growing text; `failed` once memory ran out, after which appends do nothing. */
typedef struct {
  char *text;
  size_t len, cap;
  int failed;
} python_text;

static void append(python_text *t, const char *s, size_t n) {
  if (t->failed) return;
  if (t->len + n + 1 > t->cap) {
    size_t cap = t->cap ? t->cap : 256;
    while (t->len + n + 1 > cap) cap *= 2;
    char *grown = realloc(t->text, cap);
    if (!grown) {
      t->failed = 1;
      return;
    }
    t->text = grown, t->cap = cap;
  }
  memcpy(t->text + t->len, s, n);
  t->len += n;
  t->text[t->len] = '\0';
}

static void append_str(python_text *t, const char *s) { append(t, s, strlen(s)); }

/* A string as json.dumps writes it with ensure_ascii: everything outside ' '..'~' escaped,
 * non-ASCII as \uxxxx (lowercase hex, surrogate pairs past the BMP). jansson's strings are valid
 * UTF-8, so every sequence decodes. */
static void append_string(python_text *t, const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  char esc[16];
  append(t, "\"", 1);
  for (size_t i = 0; i < n;) {
    uint32_t cp = p[i];
    size_t k = 1;
    if (cp >= 0x80 && (k = kcb__utf8_sequence(p + i, n - i, &cp)) == 0) cp = 0xfffd, k = 1;
    i += k;
    if (cp == '"' || cp == '\\') {
      esc[0] = '\\', esc[1] = (char)cp;
      append(t, esc, 2);
    } else if (cp >= 0x20 && cp < 0x7f) {
      esc[0] = (char)cp;
      append(t, esc, 1);
    } else if (cp == '\n' || cp == '\r' || cp == '\t' || cp == '\b' || cp == '\f') {
      append_str(t, cp == '\n' ? "\\n" : cp == '\r' ? "\\r" : cp == '\t' ? "\\t" : cp == '\b' ? "\\b" : "\\f");
    } else if (cp > 0xffff) {
      cp -= 0x10000;
      snprintf(esc, sizeof esc, "\\u%04x\\u%04x", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
      append_str(t, esc);
    } else {
      snprintf(esc, sizeof esc, "\\u%04x", cp);
      append_str(t, esc);
    }
  }
  append(t, "\"", 1);
}

static void append_value(python_text *t, const json_t *j) {
  char num[40];
  switch (json_typeof(j)) {
    case JSON_OBJECT: {
      const char *key;
      json_t *v;
      int first = 1;
      append(t, "{", 1);
      json_object_foreach((json_t *)j, key, v) {
        if (!first) append(t, ", ", 2);
        first = 0;
        append_string(t, key, strlen(key));
        append(t, ": ", 2);
        append_value(t, v);
      }
      append(t, "}", 1);
      break;
    }
    case JSON_ARRAY: {
      size_t i;
      json_t *v;
      append(t, "[", 1);
      json_array_foreach(j, i, v) {
        if (i) append(t, ", ", 2);
        append_value(t, v);
      }
      append(t, "]", 1);
      break;
    }
    case JSON_STRING: append_string(t, json_string_value(j), json_string_length(j)); break;
    case JSON_INTEGER:
      snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
      append_str(t, num);
      break;
    case JSON_REAL: append_str(t, kcb_format_double(json_real_value(j), num, sizeof num)); break;
    case JSON_TRUE: append_str(t, "true"); break;
    case JSON_FALSE: append_str(t, "false"); break;
    default: append_str(t, "null"); break;
  }
}

char *kcb__json_dumps_python(const json_t *j) {
  python_text t = {0};
  if (!j) return NULL;
  append_value(&t, j);
  if (t.failed) {
    free(t.text);
    return NULL;
  }
  return t.text;
}

const char *kcb__json_not_object(const json_t *j, const json_error_t *err, char *buf, size_t size) {
  static const char *const kinds[] = {"an object", "an array", "a string", "a whole number", "a number", "true", "false",
                                      "null"};
  if (j) snprintf(buf, size, "is %s in JSON, not an object", kinds[json_typeof(j)]);
  else snprintf(buf, size, "is not JSON (line %d: %s)", err->line, err->text);
  return buf;
}

int kcb__json_truthy(const json_t *obj, const char *key, int fallback) {
  json_t *v = obj ? json_object_get(obj, key) : NULL;
  return json_is_boolean(v) ? json_is_true(v) : json_is_number(v) ? json_number_value(v) != 0 : json_is_null(v) ? 0 : fallback;
}
