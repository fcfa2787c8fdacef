/* Formats lines read from stdin with kcb's Python-format module, for tests/cli/pyformat_check.py,
 * which compares each result with Python's own format() / str.format():
 *   "i <int> <spec>"       -> format(int, spec)
 *   "f <float.hex> <spec>" -> format(float, spec)
 *   "t <template>"         -> template.format(epoch=3, batch=12, loss=0.123456, val_loss=1.5e-05, acc=0.875)
 *   "m <template>\t<text>" -> whether text matches the template (prints "OK 1" / "OK 0")
 *   "r <float.hex>"        -> kcb_format_double, to compare with repr(float)
 *   "u i|f <value> <spec>" -> the value formatted, then read back from its text as kcb-restore reads
 *                             names: "OK <found> <the same value>" (1 or 0 each)
 * Each prints "OK <text>" or "ERR <code>" on its own line. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pyformat.h"
#include "kcb/kcb.h"

static int lookup(void *ctx, const char *key, size_t len, kcb__pyvalue *out) {
  (void)ctx;
  static const struct { const char *k; int is_int; double v; } table[] = {
      {"epoch", 1, 3}, {"batch", 1, 12}, {"loss", 0, 0.123456}, {"val_loss", 0, 1.5e-05}, {"acc", 0, 0.875}};
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (strlen(table[i].k) == len && memcmp(table[i].k, key, len) == 0) {
      out->is_int = table[i].is_int;
      out->i = (long long)table[i].v;
      out->d = table[i].v;
      return 1;
    }
  return 0;
}

int main(void) {
  char line[4096], out[4096];
  while (fgets(line, sizeof line, stdin)) {
    size_t n = strlen(line);
    if (n && line[n - 1] == '\n') line[--n] = '\0';
    int rc;
    if (line[0] == 'm') {
      char *tab = strchr(line + 2, '\t');
      if (!tab) return 2;
      *tab = '\0';
      printf("OK %d\n", kcb__pyformat_match(line + 2, tab + 1, NULL, NULL));
      continue;
    }
    if (line[0] == 'r') {
      printf("OK %s\n", kcb_format_double(strtod(line + 2, NULL), out, sizeof out));
      continue;
    }
    if (line[0] == 'u') {
      char *p = line + 4, *sp = strchr(p, ' ');
      if (!sp) return 2;
      *sp = '\0';
      kcb__pyvalue v = {line[2] == 'i', 0, 0}, back = {0, 0, 0};
      if (v.is_int) v.i = strtoll(p, NULL, 10);
      else v.d = strtod(p, NULL);
      kcb__pyfield f = {"x", 1, sp + 1, strlen(sp + 1), 0};
      if ((rc = kcb__pyformat_value(out, sizeof out, &v, f.spec, f.spec_len))) {
        printf("ERR %d\n", rc);
        continue;
      }
      int found = kcb__pyformat_unformat(&f, v.is_int, out, strlen(out), &back);
      int same = v.is_int ? back.i == v.i : (back.d == v.d && signbit(back.d) == signbit(v.d)) || (isnan(back.d) && isnan(v.d));
      printf("OK %d %d\n", found, found && same);
      continue;
    }
    if (line[0] == 't') {
      rc = kcb__pyformat(out, sizeof out, line + 2, lookup, NULL);
    } else {
      char *p = line + 2, *sp = strchr(p, ' ');
      if (!sp) return 2;
      *sp = '\0';
      kcb__pyvalue v = {line[0] == 'i', 0, 0};
      if (v.is_int) v.i = strtoll(p, NULL, 10);
      else v.d = strtod(p, NULL);
      rc = kcb__pyformat_value(out, sizeof out, &v, sp + 1, strlen(sp + 1));
    }
    if (rc) printf("ERR %d\n", rc);
    else printf("OK %s\n", out);
  }
  return 0;
}
