/* fuzz_checkpoint_h5 — HDF5 checkpoints (.weights.h5 and legacy .h5), byte by byte, on top of the
 * HDF5 library: any bytes give a model or a clear error. The first byte picks the file name's layout,
 * since loaders also look at names. Crafted HDF5 metadata used to crash libhdf5 1.10 itself;
 * kcb's guard (lib/io/h5_guard.c) now checks what libhdf5 would trust first, and CI's smoke run
 * includes this target (RELIABILITY.md). */
#include <stdint.h>

#include "fuzz_input_file.h"
#include "kcb/kcb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const char *path = fuzz_input_file(data + 1, size - 1, data[0] % 2 ? ".h5" : ".weights.h5");
  if (!path) return 0;
  fuzz_load_checkpoint(path);
  return 0;
}
