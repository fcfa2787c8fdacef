/* io/json_python.h — JSON as Python's json module writes it. Keras serializes configs with
 * json.dumps, which writes the non-finite floats as the bare tokens NaN, Infinity and -Infinity;
 * strict JSON (jansson) has no such tokens. */
#ifndef KCB_IO_JSON_PYTHON_H
#define KCB_IO_JSON_PYTHON_H

#include <jansson.h>

/* json_loads(text, flags, err), and when that fails on Python's non-finite tokens, the same text
 * with each of them (outside strings) read as null: for showing a config, not for building from
 * it. *non_finite (may be NULL) is set to 1 when a token was replaced, else 0. */
json_t *kcb__json_loads_python(const char *text, size_t flags, json_error_t *err, int *non_finite);

/* The text json.dumps(j) writes with its defaults: ", " and ": " between items, floats as
 * repr() prints them (0.99, 1e-07), strings ASCII-only with \uxxxx escapes; the form of Keras's
 * config.json and HDF5 config attributes. Object keys in their stored order. NULL when out of
 * memory; free() the result. */
char *kcb__json_dumps_python(const json_t *j);

/* Why JSON text that should hold an object does not, for messages: "is a JSON array, not an
 * object" when it parsed (j, err unused), else "is not JSON (line N: what)". Into buf. */
const char *kcb__json_not_object(const json_t *j, const json_error_t *err, char *buf, size_t size);

/* Whether obj[key] is true as Python tests a config value (None, False and 0 are false); fallback
 * when absent or of another kind. */
int kcb__json_truthy(const json_t *obj, const char *key, int fallback);

#endif
