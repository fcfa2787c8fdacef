/* fuzz_model_spec — kcb-train's --model text: any bytes give a model or a clear error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kcb/kcb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *spec = malloc(size + 1);
  if (!spec) return 0;
  memcpy(spec, data, size);
  spec[size] = '\0';
  int64_t shape[2] = {28, 28};
  kcb_model *m = NULL;
  if (kcb_model_new(&m, 2, shape, 1) == 0) {
    (void)kcb_model_add_from_spec(m, spec);
    (void)kcb_model_param_count(m);
    kcb_model_free(m);
  }
  free(spec);
  return 0;
}
