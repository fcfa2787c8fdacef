/* core/format.c — locale-independent number text that round-trips, as Python's repr() prints it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

char *kcb__format_double(double v, char *buf, size_t size) {
  if (isnan(v)) { kcb__strlcpy(buf, "nan", size); return buf; }
  if (isinf(v)) { kcb__strlcpy(buf, v < 0 ? "-inf" : "inf", size); return buf; }
  if (v == 0) { kcb__strlcpy(buf, signbit(v) ? "-0.0" : "0.0", size); return buf; }
  /* Shortest precision whose %e text parses back to v; then lay the digits out as repr does. */
  char tmp[40];
  int prec = 0;
  for (prec = 0; prec < 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*e", prec, v);
    char *dot = strpbrk(tmp, ",.");
    if (dot) *dot = '.'; /* whatever the locale's decimal point, strtod below gets '.'; C locale assumed */
    if (strtod(tmp, NULL) == v) break;
  }
  snprintf(tmp, sizeof tmp, "%.*e", prec, v);
  /* tmp = [-]d[.ddd]e[+-]xx, in any locale the only non-digit between mantissa digits is the point */
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
