/* fuzz_keras_archive — .keras archives (zip through libzip, then config.json, metadata.json and the
 * weights inside): any bytes give a model or a clear error. */
#include <stdint.h>

#include "fuzz_input_file.h"
#include "kcb/kcb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_input_file(data, size, ".keras");
  if (!path) return 0;
  fuzz_load_checkpoint(path);
  return 0;
}
