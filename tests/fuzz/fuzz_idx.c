/* fuzz_idx — IDX data sets (plain or gzip): any bytes load or give a clear error. The loader reads
 * paths, so each input goes through one temporary file, as a real data set would. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kcb/kcb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char path[64];
  if (!path[0]) snprintf(path, sizeof path, "/tmp/kcb_fuzz_idx_%ld.idx", (long)getpid());
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  size_t wrote = fwrite(data, 1, size, f);
  fclose(f);
  if (wrote != size) return 0;
  kcb_tensor *t = NULL;
  if (kcb_idx_load(&t, path, 1.0f / 255) == 0) kcb_tensor_free(t);
  return 0;
}
