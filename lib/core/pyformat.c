/* core/pyformat.c — Python's str.format / format() for ints and floats (see pyformat.h). Numbers
 * are printed in the C locale, so a comma locale never leaks into a file name. */
#include "core/pyformat.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Returns a non-zero code at once. */
#define TRY_RET(expr) \
  do {                \
    int rc_ = (expr); \
    if (rc_) return rc_; \
  } while (0)

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static void make_c_locale(void) { c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0); }

/* A parsed format spec. */
typedef struct spec {
  char fill[5];   /* one UTF-8 character; "" when not given */
  char align;     /* '<' '>' '^' '=' or 0 */
  char sign;      /* '+' '-' ' ' or 0 */
  int z, alt, zero;
  long width;     /* -1: none */
  char grouping;  /* ',' '_' or 0 */
  long precision; /* -1: none */
  char type;      /* 0: none */
} spec;

/* The error for a spec, in Python's words. */
static int spec_error(const char *reason) { return kcb__error(KCB_EINVAL, "%s", reason); }

static size_t utf8_len(unsigned char c) { return c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1; }

static int parse_long(const char *s, size_t len, size_t *pos, long *out) {
  size_t start = *pos;
  long v = 0;
  while (*pos < len && s[*pos] >= '0' && s[*pos] <= '9') {
    if (v > 100000) return spec_error("Too many decimal digits in format string");
    v = v * 10 + (s[*pos] - '0');
    (*pos)++;
  }
  *out = *pos > start ? v : -1;
  return 0;
}

static int parse_spec(const char *s, size_t len, spec *sp) {
  memset(sp, 0, sizeof *sp);
  sp->width = sp->precision = -1;
  size_t pos = 0, fl = len ? utf8_len((unsigned char)s[0]) : 0;
  if (len > fl && fl && strchr("<>=^", s[fl]) && s[fl]) {
    memcpy(sp->fill, s, fl);
    sp->align = s[fl];
    pos = fl + 1;
  } else if (len >= 1 && strchr("<>=^", s[0]) && s[0]) {
    sp->align = s[0];
    pos = 1;
  }
  if (pos < len && (s[pos] == '+' || s[pos] == '-' || s[pos] == ' ')) sp->sign = s[pos++];
  if (pos < len && s[pos] == 'z') { sp->z = 1; pos++; }
  if (pos < len && s[pos] == '#') { sp->alt = 1; pos++; }
  if (!sp->fill[0] && pos < len && s[pos] == '0') {
    sp->fill[0] = '0';
    sp->zero = 1; /* '=' for a number unless aligned; a string keeps '<' (Python >= 3.10) */
    pos++;
  }
  TRY_RET(parse_long(s, len, &pos, &sp->width));
  if (pos < len && s[pos] == ',') { sp->grouping = ','; pos++; }
  if (pos < len && s[pos] == '_') {
    if (sp->grouping) return spec_error("Cannot specify both ',' and '_'.");
    sp->grouping = '_';
    pos++;
  }
  if (pos < len && s[pos] == ',') return spec_error("Cannot specify both ',' and '_'.");
  if (pos < len && s[pos] == '.') {
    pos++;
    TRY_RET(parse_long(s, len, &pos, &sp->precision));
    if (sp->precision < 0) return spec_error("Format specifier missing precision");
  }
  if (len - pos > 1) return spec_error("Invalid format specifier");
  if (len - pos == 1) sp->type = s[pos];
  return 0;
}

/* A growing output buffer of fixed capacity. */
typedef struct outbuf {
  char *p;
  size_t size, len;
  int overflow;
} outbuf;

static void put(outbuf *o, const char *s, size_t n) {
  if (o->len + n + 1 > o->size) { o->overflow = 1; return; }
  memcpy(o->p + o->len, s, n);
  o->len += n;
  o->p[o->len] = '\0';
}

static void put_fill(outbuf *o, const spec *sp, long n) {
  const char *f = sp->fill[0] ? sp->fill : " ";
  for (long i = 0; i < n; i++) put(o, f, strlen(f));
}

/* Groups `digits` (n of them) every `every` with sep into out; with min_len, leading zeros are
 * added (Python's grouped zero padding) until the grouped text is at least min_len long. */
static size_t group_digits(char *out, size_t cap, const char *digits, size_t n, char sep, int every, long min_len) {
  char padded[512];
  if (n >= sizeof padded) n = sizeof padded - 1;
  memcpy(padded, digits, n);
  for (;;) {
    size_t groups = n ? (n - 1) / (size_t)every : 0;
    if ((long)(n + groups) >= min_len || n + 1 >= sizeof padded) break;
    memmove(padded + 1, padded, n);
    padded[0] = '0';
    n++;
  }
  size_t o = 0;
  for (size_t i = 0; i < n && o + 2 < cap; i++) {
    if (i > 0 && (n - i) % (size_t)every == 0) out[o++] = sep;
    out[o++] = padded[i];
  }
  out[o] = '\0';
  return o;
}

/* Lays out sign + prefix + int digits (grouped) + rest with fill and alignment. */
static int layout_number(outbuf *o, const spec *sp, int negative, const char *prefix, const char *digits, size_t nd,
                         const char *rest, int every) {
  char sign[2] = {0, 0};
  if (negative) sign[0] = '-';
  else if (sp->sign == '+' || sp->sign == ' ') sign[0] = sp->sign;
  char align = sp->align ? sp->align : sp->zero ? '=' : '>';
  long lead = (long)(strlen(sign) + strlen(prefix)), rest_len = (long)strlen(rest);
  char grouped[1100];
  long min_digits = 0;
  if (align == '=' && sp->fill[0] == '0' && sp->fill[1] == '\0' && sp->width > 0)
    min_digits = sp->width - lead - rest_len;
  size_t gl;
  if (sp->grouping && nd > 0) gl = group_digits(grouped, sizeof grouped, digits, nd, sp->grouping, every, min_digits);
  else {
    gl = 0;
    for (long i = (long)nd; i < min_digits && gl + 1 < 512; i++) grouped[gl++] = '0';
    for (size_t i = 0; i < nd && gl + 1 < sizeof grouped; i++) grouped[gl++] = digits[i];
    grouped[gl] = '\0';
  }
  long total = lead + (long)gl + rest_len;
  long pad = sp->width > total ? sp->width - total : 0;
  if (align == '>') put_fill(o, sp, pad);
  if (align == '^') put_fill(o, sp, pad / 2);
  put(o, sign, strlen(sign));
  put(o, prefix, strlen(prefix));
  if (align == '=') put_fill(o, sp, pad);
  put(o, grouped, gl);
  put(o, rest, (size_t)rest_len);
  if (align == '<') put_fill(o, sp, pad);
  if (align == '^') put_fill(o, sp, pad - pad / 2);
  return 0;
}

static int format_float(outbuf *o, const spec *sp, double v);

static int format_int(outbuf *o, const spec *sp, long long v) {
  char t = sp->type;
  if (t && strchr("eEfFgG%", t)) return format_float(o, sp, (double)v);
  if (t && !strchr("bcdoxXn", t)) {
    char msg[80];
    snprintf(msg, sizeof msg, "Unknown format code '%c' for object of type 'int'", t);
    return spec_error(msg);
  }
  if (sp->precision >= 0) return spec_error("Precision not allowed in integer format specifier");
  if (sp->z) return spec_error("Negative zero coercion (z) not allowed in integer format specifier");
  if (sp->grouping == ',' && t && t != 'd') {
    char msg[40];
    snprintf(msg, sizeof msg, "Cannot specify ',' with '%c'.", t);
    return spec_error(msg);
  }
  if (sp->grouping == '_' && (t == 'n' || t == 'c')) {
    char msg[40];
    snprintf(msg, sizeof msg, "Cannot specify '_' with '%c'.", t);
    return spec_error(msg);
  }
  if (t == 'c') {
    if (sp->sign) return spec_error("Sign not allowed with integer format specifier 'c'");
    if (sp->alt) return spec_error("Alternate form (#) not allowed with integer format specifier 'c'");
    if (v < 0 || v > 0x10ffff) return spec_error("%c arg not in range(0x110000)");
    char ch[5] = {0};
    unsigned long c = (unsigned long)v;
    if (c < 0x80) ch[0] = (char)c;
    else if (c < 0x800) { ch[0] = (char)(0xc0 | (c >> 6)); ch[1] = (char)(0x80 | (c & 0x3f)); }
    else if (c < 0x10000) { ch[0] = (char)(0xe0 | (c >> 12)); ch[1] = (char)(0x80 | ((c >> 6) & 0x3f)); ch[2] = (char)(0x80 | (c & 0x3f)); }
    else { ch[0] = (char)(0xf0 | (c >> 18)); ch[1] = (char)(0x80 | ((c >> 12) & 0x3f)); ch[2] = (char)(0x80 | ((c >> 6) & 0x3f)); ch[3] = (char)(0x80 | (c & 0x3f)); }
    spec s2 = *sp;
    if (!s2.align) s2.align = '>';
    long chars = 1, pad = s2.width > chars ? s2.width - chars : 0;
    if (s2.align == '>' || s2.align == '=') put_fill(o, &s2, pad);
    if (s2.align == '^') put_fill(o, &s2, pad / 2);
    put(o, ch, strlen(ch));
    if (s2.align == '<') put_fill(o, &s2, pad);
    if (s2.align == '^') put_fill(o, &s2, pad - pad / 2);
    return 0;
  }
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
  int base = t == 'b' ? 2 : t == 'o' ? 8 : (t == 'x' || t == 'X') ? 16 : 10;
  const char *alphabet = t == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
  char rev[70], digits[70];
  size_t n = 0;
  do { rev[n++] = alphabet[u % (unsigned)base]; u /= (unsigned)base; } while (u);
  for (size_t i = 0; i < n; i++) digits[i] = rev[n - 1 - i];
  const char *prefix = "";
  if (sp->alt) prefix = t == 'b' ? "0b" : t == 'o' ? "0o" : t == 'x' ? "0x" : t == 'X' ? "0X" : "";
  return layout_number(o, sp, v < 0, prefix, digits, n, "", base == 10 ? 3 : 4);
}

static void upcase(char *s) {
  for (; *s; s++)
    if (*s >= 'a' && *s <= 'z') *s = (char)(*s - 'a' + 'A');
}

/* The text of |v| for a float type (no sign), in the C locale. */
static void float_body(char *buf, size_t cap, const spec *sp, double a) {
  char t = sp->type;
  if (isnan(a) || isinf(a)) {
    snprintf(buf, cap, "%s%s", isnan(a) ? "nan" : "inf", t == '%' ? "%" : "");
    if (t == 'E' || t == 'F' || t == 'G') upcase(buf);
    return;
  }
  if (t == 0 && sp->precision < 0) { /* repr; '#' keeps a point before the exponent */
    kcb_format_double(a, buf, cap);
    char *e = strchr(buf, 'e');
    if (sp->alt && e && !memchr(buf, '.', (size_t)(e - buf)) && strlen(buf) + 1 < cap) {
      memmove(e + 1, e, strlen(e) + 1);
      *e = '.';
    }
    return;
  }
  long prec = sp->precision >= 0 ? sp->precision : 6;
  if (prec > 300) prec = 300;
  if (t == 'f' || t == 'F' || t == '%') {
    snprintf(buf, cap, sp->alt ? "%#.*f%s" : "%.*f%s", (int)prec, t == '%' ? a * 100 : a, t == '%' ? "%" : "");
    return;
  }
  if (t == 'e' || t == 'E') {
    snprintf(buf, cap, sp->alt ? "%#.*e" : "%.*e", (int)prec, a);
    if (t == 'E') upcase(buf);
    return;
  }
  /* 'g', 'G', 'n', or no type with a precision (like 'g', but scientific from exp >= p - 1 and
   * ".0" added to an integer result). */
  int none = t == 0;
  if (prec == 0) prec = 1;
  char e[400];
  snprintf(e, sizeof e, "%.*e", (int)prec - 1, a);
  const char *ep = strchr(e, 'e');
  int x = atoi(ep + 1);
  long hi = none ? prec - 1 : prec;
  if (x < -4 || x >= hi) {
    char mant[400];
    size_t ml = (size_t)(ep - e);
    memcpy(mant, e, ml);
    mant[ml] = '\0';
    if (!sp->alt && strchr(mant, '.')) {
      while (mant[ml - 1] == '0') mant[--ml] = '\0';
      if (mant[ml - 1] == '.') mant[--ml] = '\0';
    } else if (sp->alt && !strchr(mant, '.')) {
      mant[ml++] = '.';
      mant[ml] = '\0';
    }
    snprintf(buf, cap, "%se%c%02d", mant, x < 0 ? '-' : '+', abs(x));
  } else {
    snprintf(buf, cap, "%.*f", (int)(prec - 1 - x), a);
    size_t bl = strlen(buf);
    if (!sp->alt && strchr(buf, '.')) {
      while (buf[bl - 1] == '0') buf[--bl] = '\0';
      if (buf[bl - 1] == '.') buf[--bl] = '\0';
    } else if (sp->alt && !strchr(buf, '.') && bl + 1 < cap) {
      buf[bl++] = '.';
      buf[bl] = '\0';
    }
    if (none && !strchr(buf, '.') && bl + 2 < cap) strcat(buf, ".0");
  }
  if (t == 'G') upcase(buf);
}

static int format_float(outbuf *o, const spec *sp, double v) {
  char t = sp->type;
  if (t && !strchr("eEfFgGn%", t)) {
    char msg[80];
    snprintf(msg, sizeof msg, "Unknown format code '%c' for object of type 'float'", t);
    return spec_error(msg);
  }
  if (t == 'n' && sp->grouping) {
    char msg[40];
    snprintf(msg, sizeof msg, "Cannot specify '%c' with 'n'.", sp->grouping);
    return spec_error(msg);
  }
  spec s2 = *sp;
  if (s2.type == 'n') s2.type = 'g';
  char body[800];
  pthread_once(&c_locale_once, make_c_locale);
  locale_t previous = c_locale ? uselocale(c_locale) : (locale_t)0;
  float_body(body, sizeof body, &s2, fabs(v));
  if (c_locale) uselocale(previous);
  int negative = signbit(v) && !isnan(v);
  if (negative && sp->z) { /* -0.00 -> 0.00: only when every digit is zero */
    int all_zero = body[0] >= '0' && body[0] <= '9'; /* not inf / nan */
    for (const char *p = body; *p && *p != 'e' && *p != 'E'; p++)
      if (*p >= '1' && *p <= '9') all_zero = 0;
    if (all_zero) negative = 0;
  }
  size_t nd = 0;
  while (body[nd] >= '0' && body[nd] <= '9') nd++;
  return layout_number(o, sp, negative, "", body, nd, body + nd, 3);
}

/* A string (a !r / !s conversion) with a string spec. */
static int format_string(outbuf *o, const spec *sp, const char *s) {
  if (sp->type && sp->type != 's') {
    char msg[80];
    snprintf(msg, sizeof msg, "Unknown format code '%c' for object of type 'str'", sp->type);
    return spec_error(msg);
  }
  if (sp->sign) return spec_error("Sign not allowed in string format specifier");
  if (sp->alt) return spec_error("Alternate form (#) not allowed in string format specifier");
  if (sp->z) return spec_error("Negative zero coercion (z) not allowed in format specifier");
  if (sp->grouping) return spec_error(sp->grouping == ',' ? "Cannot specify ',' with 's'." : "Cannot specify '_' with 's'.");
  if (sp->align == '=') return spec_error("'=' alignment not allowed in string format specifier");
  size_t n = strlen(s);
  if (sp->precision >= 0 && (size_t)sp->precision < n) n = (size_t)sp->precision;
  char align = sp->align ? sp->align : '<';
  long pad = sp->width > (long)n ? sp->width - (long)n : 0;
  if (align == '>') put_fill(o, sp, pad);
  if (align == '^') put_fill(o, sp, pad / 2);
  put(o, s, n);
  if (align == '<') put_fill(o, sp, pad);
  if (align == '^') put_fill(o, sp, pad - pad / 2);
  return 0;
}

static int format_parsed(outbuf *o, const kcb__pyvalue *v, char conversion, const spec *sp) {
  if (conversion) {
    char s[64];
    if (v->is_int) snprintf(s, sizeof s, "%lld", v->i);
    else kcb_format_double(v->d, s, sizeof s);
    return format_string(o, sp, s);
  }
  return v->is_int ? format_int(o, sp, v->i) : format_float(o, sp, v->d);
}

static int format_one(outbuf *o, const kcb__pyvalue *v, char conversion, const char *spec_text, size_t spec_len) {
  spec sp;
  TRY_RET(parse_spec(spec_text, spec_len, &sp));
  return format_parsed(o, v, conversion, &sp);
}

int kcb__pyformat_value(char *out, size_t size, const kcb__pyvalue *v, const char *spec_text, size_t spec_len) {
  outbuf o = {out, size, 0, 0};
  if (size) out[0] = '\0';
  TRY_RET(format_one(&o, v, 0, spec_text, spec_len));
  if (o.overflow) return kcb__error(KCB_ENOMEM, "formatted value longer than %zu bytes", size);
  return 0;
}

/* ---- reading a value back (the reverse of format_one) ------------------------------------------ */

/* v formatted with a parsed spec into buf (NUL-terminated); its length, or -1 (an error, too long). */
static long format_into(char *buf, size_t size, const kcb__pyvalue *v, char conversion, const spec *sp) {
  outbuf o = {buf, size, 0, 0};
  buf[0] = '\0';
  if (format_parsed(&o, v, conversion, sp) || o.overflow) return kcb_error_clear(), -1;
  return (long)o.len;
}

/* Whether v formats to exactly text[0, len) with the field's conversion and (parsed) spec. */
static int formats_to(const kcb__pyvalue *v, const kcb__pyfield *f, const spec *sp, const char *text, size_t len) {
  char buf[512];
  return len < sizeof buf && format_into(buf, sizeof buf, v, f->conversion, sp) == (long)len && memcmp(buf, text, len) == 0;
}

/* An int written in base (Python's sign, 0b/0o/0x prefix and digits), at most 10^15. */
static int parse_int_text(const char *s, int base, long long *out) {
  int negative = *s == '-';
  if (*s == '-' || *s == '+' || *s == ' ') s++;
  if (base != 10 && s[0] == '0' && s[1] && strchr(base == 2 ? "bB" : base == 8 ? "oO" : "xX", s[1])) s += 2;
  long long v = 0;
  const char *start = s;
  for (; *s; s++) {
    int d = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 : *s >= 'A' && *s <= 'F' ? *s - 'A' + 10 : 99;
    if (d >= base || v > 1000000000000000LL) return 0;
    v = v * base + d;
  }
  *out = negative ? -v : v;
  return s > start;
}

/* One UTF-8 character as its code point ('c' formats an int so). */
static int parse_char_text(const char *s, long long *out) {
  size_t n = strlen(s), want = utf8_len((unsigned char)s[0]);
  if (n == 0 || n != want) return 0;
  long long c = n == 1 ? (unsigned char)s[0] : (unsigned char)s[0] & (0x7f >> n);
  for (size_t i = 1; i < n; i++) c = c << 6 | ((unsigned char)s[i] & 0x3f);
  *out = c;
  return 1;
}

/* Tries the number written in core (fill taken off) as the field's value. */
static int try_core(const kcb__pyfield *f, const spec *sp, int want_int, const char *core, size_t n, const char *text,
                    size_t len, kcb__pyvalue *out) {
  char buf[256];
  size_t k = 0;
  for (size_t i = 0; i < n && k + 1 < sizeof buf; i++) /* grouping separators are not part of the number */
    if (f->conversion || !sp->grouping || core[i] != sp->grouping) buf[k++] = core[i];
  if (k + 1 >= sizeof buf) return 0;
  buf[k] = '\0';
  char t = f->conversion ? 0 : sp->type;
  int percent = t == '%';
  if (percent) {
    if (k == 0 || buf[k - 1] != '%') return 0;
    buf[--k] = '\0';
  }
  kcb__pyvalue v = {want_int, 0, 0};
  if (want_int && t && strchr("bcoxXdn", t)) {
    int base = t == 'b' ? 2 : t == 'o' ? 8 : (t == 'x' || t == 'X') ? 16 : 10;
    if (!(t == 'c' ? parse_char_text(buf, &v.i) : parse_int_text(buf, base, &v.i))) return 0;
    return formats_to(&v, f, sp, text, len) ? (*out = v, 1) : 0;
  }
  if (want_int && !t) {
    if (!parse_int_text(buf, 10, &v.i)) return 0;
    return formats_to(&v, f, sp, text, len) ? (*out = v, 1) : 0;
  }
  double d;
  if (kcb__parse_python_float(buf, &d)) return 0;
  if (want_int) { /* an int written as a float ({epoch:.1f}): the whole number it stands for */
    if (!(fabs(d) < 1e15)) return 0;
    v.i = llround(percent ? d / 100 : d);
    return formats_to(&v, f, sp, text, len) ? (*out = v, 1) : 0;
  }
  /* the float whose text this is; a '%' value was multiplied by 100, so a neighbour may be the one */
  v.d = percent ? d / 100 : d;
  for (int step = 0; step <= 4; step++) {
    double c = v.d;
    for (int i = 0; i < (step + 1) / 2; i++) c = nextafter(c, step % 2 ? INFINITY : -INFINITY);
    kcb__pyvalue w = {0, 0, c};
    if (formats_to(&w, f, sp, text, len)) return *out = w, 1;
    if (!percent && step == 0) break;
  }
  return 0;
}

int kcb__pyformat_decimals(const kcb__pyfield *f, const kcb__pyvalue *v) {
  spec sp;
  if (parse_spec(f->spec, f->spec_len, &sp)) return -1;
  sp.width = -1; /* the number alone: no padding (a '0' fill could pass for digits), no grouping */
  sp.grouping = 0;
  char buf[512];
  if (format_into(buf, sizeof buf, v, f->conversion, &sp) < 0 || strpbrk(buf, "eEnN")) return -1; /* exponent, inf, nan */
  const char *dot = strchr(buf, '.');
  int decimals = 0;
  if (dot)
    while (dot[1 + decimals] >= '0' && dot[1 + decimals] <= '9') decimals++;
  return decimals + (!f->conversion && sp.type == '%' ? 2 : 0);
}

/* How many times the fill character stands at text's start (from_end: at its end). */
static size_t fill_run(const char *fill, size_t fl, const char *text, size_t len, int from_end) {
  size_t run = 0;
  while ((run + 1) * fl <= len && memcmp(from_end ? text + len - (run + 1) * fl : text + run * fl, fill, fl) == 0) run++;
  return run;
}

int kcb__pyformat_unformat(const kcb__pyfield *f, int want_int, const char *text, size_t len, kcb__pyvalue *out) {
  spec sp;
  if (parse_spec(f->spec, f->spec_len, &sp) || len == 0) return 0;
  const char *fill = sp.fill[0] ? sp.fill : " ";
  size_t fl = strlen(fill);
  char align = sp.align ? sp.align : f->conversion ? '<' : sp.zero ? '=' : '>';
  /* padding only where the spec puts it, and only up to its width (a longer text has none); the
   * least taken off first ('0<3' writes 100 for 1 and 10) */
  long chars = 0;
  for (size_t i = 0; i < len; i += utf8_len((unsigned char)text[i])) chars++;
  int padded = sp.width > 0 && chars <= sp.width;
  size_t lead = 0, trail = 0;
  if (padded && (align == '>' || align == '^')) lead = fill_run(fill, fl, text, len, 0);
  if (padded && (align == '<' || align == '^')) trail = fill_run(fill, fl, text, len, 1);
  for (size_t a = 0; a <= lead; a++)
    for (size_t b = 0; b <= trail && (a + b) * fl < len; b++) {
      const char *core = text + a * fl;
      size_t n = len - (a + b) * fl;
      if (align == '=' && padded) { /* sign and prefix, then the fill: take the fill out */
        char joined[256];
        size_t head = 0;
        if (n && strchr("+- ", core[0])) head = 1;
        if (n > head + 1 && core[head] == '0' && strchr("bBoOxX", core[head + 1]) && sp.alt) head += 2;
        size_t run = fill_run(fill, fl, core + head, n - head, 0);
        for (size_t r = 0; r <= run && n < sizeof joined; r++) {
          memcpy(joined, core, head);
          memcpy(joined + head, core + head + r * fl, n - head - r * fl);
          if (n - r * fl > 0 && try_core(f, &sp, want_int, joined, n - r * fl, text, len, out)) return 1;
        }
        continue;
      }
      if (try_core(f, &sp, want_int, core, n, text, len, out)) return 1;
    }
  return 0;
}

/* Walks the template: literal text goes to o (when not NULL), each field to fn. */
typedef int (*field_fn)(void *ctx, const kcb__pyfield *f);

static int walk(const char *tmpl, outbuf *o, field_fn fn, void *ctx) {
  const char *p = tmpl;
  while (*p) {
    if (*p == '}') {
      if (p[1] != '}') return kcb__error(KCB_EINVAL, "bad template \"%s\": Single '}' encountered in format string", tmpl);
      if (o) put(o, "}", 1);
      p += 2;
      continue;
    }
    if (*p != '{') {
      const char *q = p;
      while (*q && *q != '{' && *q != '}') q++;
      if (o) put(o, p, (size_t)(q - p));
      p = q;
      continue;
    }
    if (p[1] == '{') {
      if (o) put(o, "{", 1);
      p += 2;
      continue;
    }
    if (p[1] == '\0') return kcb__error(KCB_EINVAL, "bad template \"%s\": Single '{' encountered in format string", tmpl);
    kcb__pyfield f = {0};
    const char *q = p + 1;
    f.key = q;
    while (*q && *q != '}' && *q != ':' && *q != '!' && *q != '{') q++;
    f.key_len = (size_t)(q - f.key);
    if (*q == '{') return kcb__error(KCB_EINVAL, "bad template \"%s\": unexpected '{' in field name", tmpl);
    if (*q == '!') {
      if (!q[1] || !strchr("rsa", q[1]))
        return kcb__error(KCB_EINVAL, "bad template \"%s\": Unknown conversion specifier after '!' in field '%.*s'",
                          tmpl, (int)f.key_len, f.key);
      f.conversion = q[1];
      q += 2;
      if (*q != ':' && *q != '}')
        return kcb__error(KCB_EINVAL, "bad template \"%s\": expected ':' after conversion specifier", tmpl);
    }
    if (*q == ':') {
      f.spec = ++q;
      while (*q && *q != '}' && *q != '{') q++;
      if (*q == '{')
        return kcb__error(KCB_EINVAL, "bad template \"%s\": nested fields in the format spec of '%.*s' are not supported",
                          tmpl, (int)f.key_len, f.key);
      f.spec_len = (size_t)(q - f.spec);
    } else {
      f.spec = q;
    }
    if (*q != '}') return kcb__error(KCB_EINVAL, "bad template \"%s\": expected '}' before end of string", tmpl);
    if (f.key_len == 0)
      return kcb__error(KCB_EINVAL, "bad template \"%s\": an empty field {} needs a key name, e.g. {epoch}", tmpl);
    if (f.key[0] >= '0' && f.key[0] <= '9')
      return kcb__error(KCB_EINVAL, "bad template \"%s\": positional field {%.*s} is not supported: use a key name", tmpl,
                        (int)f.key_len, f.key);
    for (size_t i = 0; i < f.key_len; i++)
      if (f.key[i] == '.' || f.key[i] == '[')
        return kcb__error(KCB_EINVAL, "bad template \"%s\": attribute or index access in field {%.*s} is not supported",
                          tmpl, (int)f.key_len, f.key);
    int rc = fn(ctx, &f);
    if (rc) return rc;
    p = q + 1;
  }
  return 0;
}

typedef struct format_ctx {
  const char *tmpl;
  outbuf *o;
  kcb__pyformat_lookup lookup;
  void *ctx;
} format_ctx;

static int format_field(void *vctx, const kcb__pyfield *f) {
  format_ctx *c = vctx;
  kcb__pyvalue v;
  if (!c->lookup(c->ctx, f->key, f->key_len, &v))
    return kcb__error(KCB_EKEY, "Failed to format this callback filepath: \"%s\". Reason: '%.*s'", c->tmpl,
                      (int)f->key_len, f->key);
  int rc = format_one(c->o, &v, f->conversion, f->spec, f->spec_len);
  if (rc) {
    char reason[200];
    kcb__strlcpy(reason, kcb_error_last(), sizeof reason);
    return kcb__error(rc, "bad template \"%s\": field {%.*s:%.*s}: %s", c->tmpl, (int)f->key_len, f->key,
                      (int)f->spec_len, f->spec, reason);
  }
  return 0;
}

int kcb__pyformat(char *out, size_t size, const char *tmpl, kcb__pyformat_lookup lookup, void *ctx) {
  outbuf o = {out, size, 0, 0};
  if (size) out[0] = '\0';
  format_ctx c = {tmpl, &o, lookup, ctx};
  TRY_RET(walk(tmpl, &o, format_field, &c));
  if (o.overflow) return kcb__error(KCB_ENOMEM, "template \"%s\" formats to more than %zu bytes", tmpl, size - 1);
  return 0;
}

typedef struct check_ctx {
  const char *tmpl;
  int (*fn)(void *ctx, const kcb__pyfield *field);
  void *ctx;
} check_ctx;

int kcb__pyfield_is_int(const kcb__pyfield *f) {
  return f->key_len == 5 && (memcmp(f->key, "epoch", 5) == 0 || memcmp(f->key, "batch", 5) == 0);
}

static int check_field(void *vctx, const kcb__pyfield *f) {
  check_ctx *c = vctx;
  kcb__pyvalue v = {0, 1, 0.5};
  v.is_int = kcb__pyfield_is_int(f);
  char buf[1200];
  outbuf o = {buf, sizeof buf, 0, 0};
  int rc = format_one(&o, &v, f->conversion, f->spec, f->spec_len);
  if (rc) {
    char reason[200];
    kcb__strlcpy(reason, kcb_error_last(), sizeof reason);
    return kcb__error(rc, "bad template \"%s\": field {%.*s:%.*s}: %s", c->tmpl, (int)f->key_len, f->key,
                      (int)f->spec_len, f->spec, reason);
  }
  return c->fn ? c->fn(c->ctx, f) : 0;
}

int kcb__pyformat_fields(const char *tmpl, int (*fn)(void *ctx, const kcb__pyfield *field), void *ctx) {
  check_ctx c = {tmpl, fn, ctx};
  return walk(tmpl, NULL, check_field, &c);
}

/* ---- matching (the reverse of formatting) ---------------------------------------------------- */

/* Fields can take text in many ways; a state (where in the template, where in the text) that failed
 * once fails again, so it is remembered: matching costs O(template x text^2), not exponential time. */
typedef struct match_ctx {
  const char *tmpl, *text;
  size_t text_len;
  unsigned char *failed; /* bit per (template offset, text offset) */
  kcb__pyformat_accept accept;
  void *ctx;
} match_ctx;

static int match_from(match_ctx *m, const char *t, const char *s) {
  kcb__pyformat_accept accept = m->accept;
  void *ctx = m->ctx;
  while (*t) {
    if ((*t == '{' && t[1] == '{') || (*t == '}' && t[1] == '}')) {
      if (*s != *t) return 0;
      t += 2;
      s++;
      continue;
    }
    if (*t == '}') return 0;
    if (*t == '{') {
      kcb__pyfield f = {0};
      const char *q = t + 1;
      f.key = q;
      while (*q && *q != '}' && *q != ':' && *q != '!') q++;
      f.key_len = (size_t)(q - f.key);
      if (*q == '!' && q[1]) {
        f.conversion = q[1];
        q += 2;
      }
      if (*q == ':') {
        f.spec = ++q;
        while (*q && *q != '}') q++;
        f.spec_len = (size_t)(q - f.spec);
      }
      if (*q != '}') return 0;
      size_t state = (size_t)(t - m->tmpl) * (m->text_len + 1) + (size_t)(s - m->text);
      if (m->failed[state / 8] & (1u << (state % 8))) return 0;
      for (size_t len = 1; s[len - 1]; len++)
        if ((!accept || accept(ctx, &f, s, len)) && match_from(m, q + 1, s + len)) return 1;
      m->failed[state / 8] |= (unsigned char)(1u << (state % 8));
      return 0;
    }
    if (*t != *s) return 0;
    t++;
    s++;
  }
  return *s == '\0';
}

int kcb__pyformat_match(const char *tmpl, const char *text, kcb__pyformat_accept accept, void *ctx) {
  size_t tl = strlen(tmpl), sl = strlen(text);
  if (tl > 4096 || sl > 4096) return 0; /* no file name is that long */
  size_t bits = (tl + 1) * (sl + 1);
  match_ctx m = {tmpl, text, sl, calloc(bits / 8 + 1, 1), accept, ctx};
  if (!m.failed) return 0;
  int matched = match_from(&m, tmpl, text);
  free(m.failed);
  return matched;
}
