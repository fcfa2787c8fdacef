/* fuzz_checkpoint_template — ModelCheckpoint file-path templates (Python's str.format mini-language)
 * and kcb-restore's matching of file names against them: any template formats, matches or gives a
 * clear error. Input: the template, then optionally '\n' and a file name to match. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/pyformat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int lookup(void *ctx, const char *key, size_t key_len, kcb__pyvalue *out) {
  (void)ctx;
  if ((key_len == 5 && memcmp(key, "epoch", 5) == 0) || (key_len == 5 && memcmp(key, "batch", 5) == 0)) {
    out->is_int = 1;
    out->i = 7;
    return 1;
  }
  if (key_len >= 4 && memcmp(key, "loss", 4) == 0) return 0; /* an unknown key, as a typo would be */
  out->is_int = 0;
  out->d = -0.123456789e-3;
  return 1;
}

static int field(void *ctx, const kcb__pyfield *f) {
  (void)ctx, (void)f;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096) return 0; /* file names are short; matching is quadratic in the worst case */
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  char *name = strchr(text, '\n');
  if (name) *name++ = '\0';
  char out[512];
  (void)kcb__pyformat(out, sizeof out, text, lookup, NULL);
  (void)kcb__pyformat_fields(text, field, NULL);
  if (name) (void)kcb__pyformat_match(text, name, NULL, NULL);
  free(text);
  return 0;
}
