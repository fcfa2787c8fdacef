/* fuzz_idx — IDX data sets (plain or gzip): any bytes load or give a clear error. */
#include <stdint.h>

#include "fuzz_input_file.h"
#include "kcb/kcb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_input_file(data, size, ".idx");
  kcb_tensor *t = NULL;
  if (path && kcb_idx_load(&t, path, 1.0f / 255) == 0) kcb_tensor_free(t);
  return 0;
}
