/* core/pyformat — Python's str.format for file-name templates (ModelCheckpoint's filepath,
 * kcb-restore's name matching): `{key}` / `{key:spec}` / `{key!r}` fields, `{{` / `}}` escapes and
 * the format-spec mini-language for ints and floats
 * ([[fill]align][sign][z][#][0][width][,|_][.precision][type]), with Python's results and errors. */
#ifndef KCB_CORE_PYFORMAT_H
#define KCB_CORE_PYFORMAT_H

#include <stddef.h>

/* A value a field formats: a Python int or a Python float. */
typedef struct kcb__pyvalue {
  int is_int;
  long long i;
  double d;
} kcb__pyvalue;

/* Finds the value of `key` (key_len bytes, not NUL-terminated). @return 1 found, 0 absent. */
typedef int (*kcb__pyformat_lookup)(void *ctx, const char *key, size_t key_len, kcb__pyvalue *out);

/* Formats `tmpl` into out (size bytes, always NUL-terminated on success).
 * @return 0; KCB_EKEY for a key lookup does not know (message: the template and the key);
 *         KCB_EINVAL for a malformed template or spec, or a spec Python rejects for the value's type
 *         (message: the template, the field and Python's reason); KCB_ENOMEM if out is too small. */
int kcb__pyformat(char *out, size_t size, const char *tmpl, kcb__pyformat_lookup lookup, void *ctx);

/* Formats one value with one spec (the text after ':'), as Python's format(value, spec).
 * @return as kcb__pyformat. */
int kcb__pyformat_value(char *out, size_t size, const kcb__pyvalue *v, const char *spec, size_t spec_len);

/* One replacement field of a template. */
typedef struct kcb__pyfield {
  const char *key;  size_t key_len;   /* points into the template */
  const char *spec; size_t spec_len;  /* after ':', or empty */
  char conversion;                    /* 'r', 's', 'a' or 0 */
} kcb__pyfield;

/* Parses the template; calls fn for each replacement field in order (fn returns 0 to go on, else
 * that code is returned). Also checks each spec against a sample value: an int for `epoch` and
 * `batch`, a float for any other key. @return 0, KCB_EINVAL (malformed, naming the template) or fn's code. */
int kcb__pyformat_fields(const char *tmpl, int (*fn)(void *ctx, const kcb__pyfield *field), void *ctx);

/* The reverse of formatting one field: finds a value (an int when want_int, as epoch and batch are;
 * else a float) that the field's conversion and spec format to exactly the len bytes of text, so a
 * name Python wrote reads back as its number ('{epoch:x}' reads 10 as 16; '{val_loss:.2f}' does not
 * read 0.3, which it never writes). Fill, signs, prefixes, grouping and '%' are taken as Python
 * writes them. @return 1 with *out set, 0 when no value formats to text. */
int kcb__pyformat_unformat(const kcb__pyfield *field, int want_int, const char *text, size_t len, kcb__pyvalue *out);

/* The digits after the point with which the field writes v ('.2f': 2; '.1%': 3, the value being a
 * hundredth of the number shown), -1 for exponent notation, inf and nan. */
int kcb__pyformat_decimals(const kcb__pyfield *field, const kcb__pyvalue *v);

/* Whether the field is {epoch} or {batch}, which Keras formats as ints (every other key a float). */
int kcb__pyfield_is_int(const kcb__pyfield *field);

/* Decides whether `len` bytes of text can be what `field` formatted to (e.g. a number). */
typedef int (*kcb__pyformat_accept)(void *ctx, const kcb__pyfield *field, const char *text, size_t len);

/* Matches `text` against a template, the reverse of formatting: literal parts (with `{{` / `}}`)
 * must be equal; each field takes the shortest non-empty run of characters that `accept` takes (any
 * run when accept is NULL) and that lets the rest match. On a match, the last call of accept for
 * each field was with its final text, so accept can record captures.
 * @return 1 when text matches, 0 when not (or the template is malformed). */
int kcb__pyformat_match(const char *tmpl, const char *text, kcb__pyformat_accept accept, void *ctx);

#endif
