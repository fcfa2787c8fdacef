/* fuzz_input_file.h — the loaders read paths, so each fuzz input goes through one temporary file per
 * process, as a real file would. */
#ifndef KCB_FUZZ_INPUT_FILE_H
#define KCB_FUZZ_INPUT_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

/* Writes data to a per-process temp file named with suffix; returns its path, or NULL. */
static inline const char *fuzz_input_file(const uint8_t *data, size_t size, const char *suffix) {
  static char path[128];
  snprintf(path, sizeof path, "/tmp/kcb_fuzz_%ld%s", (long)getpid(), suffix);
  FILE *f = fopen(path, "wb");
  if (!f) return NULL;
  size_t wrote = fwrite(data, 1, size, f);
  if (fclose(f) != 0 || wrote != size) return NULL;
  return path;
}

#endif
