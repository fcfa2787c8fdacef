/* fuzz_projector_config — projector_config.pbtxt as kcb-inspect plugins reads it (kcb_projector_read):
 * any bytes give a list of embeddings or a clear error, and no file outside the run directory is
 * opened. The files a config names are looked for next to it, so the input can name itself. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kcb/kcb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char dir[128], path[192];
  if (!dir[0]) {
    snprintf(dir, sizeof dir, "/tmp/kcb_fuzz_projector_%ld", (long)getpid());
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/projector_config.pbtxt", dir);
  }
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  size_t wrote = fwrite(data, 1, size, f);
  if (fclose(f) == 0 && wrote == size) {
    kcb_projector_embedding_info *info = NULL;
    size_t n = 0;
    if (kcb_projector_read(dir, &info, &n) == 0) free(info);
  }
  remove(path); /* nothing left in /tmp by a run */
  rmdir(dir);
  dir[0] = '\0';
  return 0;
}
