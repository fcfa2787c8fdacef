/* fuzz_model_config — the model config JSON of .h5 and .keras files (and the legacy training_config,
 * after a NUL byte): any text rebuilds a model or gives a clear error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/config_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 2);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = text[size + 1] = '\0';
  const char *training = memchr(text, '\0', size) ? text + strlen(text) + 1 : NULL;
  kcb_model *m = NULL;
  int compiled = 0;
  if (kcb__model_from_config_json(&m, text, training && *training ? training : NULL, 1, 1, &compiled, "fuzz") == 0)
    kcb_model_free(m);
  free(text);
  return 0;
}
