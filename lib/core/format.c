/* core/format.c — locale-independent number text that round-trips, as Python's repr() prints it. */
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "kcb/text.h"

/* snprintf and strtod follow LC_NUMERIC; files must not, so the conversion runs in the C locale. */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static void make_c_locale(void) { c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0); }

static char *format_in_c_locale(double v, int single, char *buf, size_t size);

static char *format_shortest(double v, int single, char *buf, size_t size) {
  pthread_once(&c_locale_once, make_c_locale);
  locale_t previous = c_locale ? uselocale(c_locale) : (locale_t)0;
  format_in_c_locale(v, single, buf, size);
  if (c_locale) uselocale(previous);
  return buf;
}

char *kcb_format_double(double v, char *buf, size_t size) { return format_shortest(v, 0, buf, size); }

char *kcb__format_float32(float v, char *buf, size_t size) { return format_shortest(v, 1, buf, size); }

kcb__c_numbers kcb__c_numbers_begin(void) {
  kcb__c_numbers c = {uselocale((locale_t)0), (locale_t)0};
  /* the usual case: numbers print as in C already, and nothing is switched */
  const char *radix = nl_langinfo(RADIXCHAR), *thousands = nl_langinfo(THOUSEP);
  if (radix && strcmp(radix, ".") == 0 && (!thousands || !*thousands)) return c;
  locale_t copy = duplocale(c.previous);
  if (copy && !(c.mine = newlocale(LC_NUMERIC_MASK, "C", copy))) freelocale(copy); /* else copy is mine's now */
  if (c.mine) uselocale(c.mine);
  return c;
}

void kcb__c_numbers_end(kcb__c_numbers c) {
  if (!c.mine) return;
  uselocale(c.previous);
  freelocale(c.mine);
}

int kcb__ascii_ncasecmp(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int x = kcb__to_lower((unsigned char)a[i]), y = kcb__to_lower((unsigned char)b[i]);
    if (x != y || !x) return x - y;
  }
  return 0;
}

int kcb__ascii_casecmp(const char *a, const char *b) { return kcb__ascii_ncasecmp(a, b, (size_t)-1); }

double kcb__strtod_c(const char *s, char **end) {
  pthread_once(&c_locale_once, make_c_locale);
  locale_t previous = c_locale ? uselocale(c_locale) : (locale_t)0;
  double v = strtod(s, end);
  if (c_locale) uselocale(previous);
  return v;
}

static int python_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* digit (["_"] digit)*, copied without its underscores; @return the characters read, 0 if none */
static size_t digit_part(const char *s, char **out) {
  size_t i = 0;
  while (s[i] >= '0' && s[i] <= '9') {
    *(*out)++ = s[i++];
    if (s[i] == '_' && s[i + 1] >= '0' && s[i + 1] <= '9') i++;
  }
  return i;
}

int kcb__parse_python_float(const char *s, double *out) {
  size_t n = strlen(s);
  while (n && python_space(s[n - 1])) n--;
  while (n && python_space(*s)) s++, n--;
  char small[64], *text = n < sizeof small ? small : malloc(n + 1);
  if (!text) return -1;
  char *w = text;
  const char *p = s;
  if (*p == '+' || *p == '-') *w++ = *p++;
  size_t rest = n - (size_t)(p - s);
  int ok;
  if ((rest == 3 && (!kcb__ascii_ncasecmp(p, "inf", 3) || !kcb__ascii_ncasecmp(p, "nan", 3))) ||
      (rest == 8 && !kcb__ascii_ncasecmp(p, "infinity", 8))) {
    memcpy(w, p, rest);
    w += rest, p += rest;
    ok = 1;
  } else { /* strtod would also take hex, "nan(...)" and "1e" cut short: Python's float() does not */
    size_t whole = digit_part(p, &w), frac = 0;
    p += whole;
    if (*p == '.') {
      *w++ = *p++;
      frac = digit_part(p, &w);
      p += frac;
    }
    ok = whole + frac > 0;
    if (ok && (*p == 'e' || *p == 'E')) {
      *w++ = *p++;
      if (*p == '+' || *p == '-') *w++ = *p++;
      size_t exp = digit_part(p, &w);
      p += exp;
      ok = exp > 0;
    }
  }
  ok = ok && p == s + n;
  *w = '\0';
  if (ok) *out = kcb__strtod_c(text, NULL);
  if (text != small) free(text);
  return ok ? 0 : -1;
}

int kcb_text_to_number(const char *s, double *out) {
  if (!s || !((s[0] >= '0' && s[0] <= '9') || s[0] == '-' || s[0] == '.') || s[strspn(s, "0123456789.eE+-")]) return 0;
  char *end;
  errno = 0;
  double v = kcb__strtod_c(s, &end);
  if (end == s || *end || errno) return 0;
  if (out) *out = v;
  return 1;
}

static int round_trips(const char *text, double v, int single) {
  double back = strtod(text, NULL);
  return single ? (float)back == (float)v : back == v;
}

/* Adds one unit in the last digit of the magnitude of "[-]d[.ddd]e[+-]xx", carrying as needed
 * (9.99e+00 becomes 1.00e+01). @return 1, or 0 if the text does not have that form. */
static int bump_last_digit(char *text, size_t size) {
  char *e = strchr(text, 'e');
  if (!e) return 0;
  int exp10 = atoi(e + 1);
  char *p = e - 1;
  for (; p >= text; p--) {
    if (*p == '.') continue;
    if (*p < '0' || *p > '9') break; /* the sign */
    if (*p < '9') { (*p)++; return 1; }
    *p = '0';
  }
  /* Carried out of the first digit: 9.99 became 0.00, so the value is 1.00 times ten more. */
  char *first = text + (text[0] == '-');
  *first = '1';
  snprintf(e, size - (size_t)(e - text), "e%+03d", exp10 + 1);
  return 1;
}

/* single: the shortest text that parses back to the same float32 (numpy's str of a float32). */
static char *format_in_c_locale(double v, int single, char *buf, size_t size) {
  if (isnan(v)) { kcb__strlcpy(buf, "nan", size); return buf; }
  if (isinf(v)) { kcb__strlcpy(buf, v < 0 ? "-inf" : "inf", size); return buf; }
  if (v == 0) { kcb__strlcpy(buf, signbit(v) ? "-0.0" : "0.0", size); return buf; }
  /* Shortest precision whose %e text parses back to v; then lay the digits out as repr does. */
  char tmp[40];
  for (int prec = 0; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*e", prec, v);
    if (round_trips(tmp, v, single)) break;
    /* At a power of two the gap below v is half the gap above, so the correctly rounded text can
     * miss while the one a unit larger in its last digit still parses back to v: that one is then
     * the shortest (Python's repr picks it, e.g. 2^-24 = 5.960464477539063e-08). */
    if (bump_last_digit(tmp, sizeof tmp) && round_trips(tmp, v, single)) break;
  }
  /* tmp = [-]d[.ddd]e[+-]xx */
  char digits[24];
  int nd = 0, negative = tmp[0] == '-';
  const char *p = tmp + negative;
  while (*p && *p != 'e') {
    if (*p >= '0' && *p <= '9') digits[nd++] = *p;
    p++;
  }
  while (nd > 1 && digits[nd - 1] == '0') nd--;
  digits[nd] = '\0';
  int exp10 = atoi(p + 1);
  char out[48];
  size_t o = 0;
  if (negative) out[o++] = '-';
  if (exp10 < -4 || exp10 >= 16) {
    out[o++] = digits[0];
    if (nd > 1) {
      out[o++] = '.';
      for (int i = 1; i < nd; i++) out[o++] = digits[i];
    }
    o += (size_t)snprintf(out + o, sizeof out - o, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
  } else if (exp10 < 0) {
    out[o++] = '0';
    out[o++] = '.';
    for (int i = 0; i < -exp10 - 1; i++) out[o++] = '0';
    for (int i = 0; i < nd; i++) out[o++] = digits[i];
    out[o] = '\0';
  } else {
    for (int i = 0; i <= exp10; i++) out[o++] = i < nd ? digits[i] : '0';
    out[o++] = '.';
    if (nd > exp10 + 1) {
      for (int i = exp10 + 1; i < nd; i++) out[o++] = digits[i];
    } else {
      out[o++] = '0';
    }
    out[o] = '\0';
  }
  kcb__strlcpy(buf, out, size);
  return buf;
}
