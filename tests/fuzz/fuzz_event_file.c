/* fuzz_event_file — event files as kcb-inspect and the reader read them: any bytes give events, or
 * an error naming the file and offset. Records carry CRCs, which random bytes never match, so by
 * default the input is a list of records (2-byte little-endian length, then the serialized Event)
 * that this target frames with correct CRCs: the decoding of Events, Summaries and plugin data is
 * what gets fuzzed. An input whose first byte is odd is written as it is, to fuzz the framing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input_file.h"
#include "kcb/kcb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put_u32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Frames each length-prefixed record as a TFRecord: length, masked CRC of it, data, masked CRC. */
static uint8_t *frame_records(const uint8_t *in, size_t n, size_t *out_len) {
  uint8_t *out = malloc(n * 9 + 16), *p = out;
  if (!out) return NULL;
  while (n >= 2) {
    size_t len = (size_t)in[0] | (size_t)in[1] << 8;
    in += 2, n -= 2;
    if (len > n) len = n;
    uint64_t len64 = len;
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(len64 >> (8 * i));
    put_u32(p + 8, kcb_crc32c_masked(p, 8));
    memcpy(p + 12, in, len);
    put_u32(p + 12 + len, kcb_crc32c_masked(in, len));
    p += 16 + len, in += len, n -= len;
  }
  *out_len = (size_t)(p - out);
  return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  size_t len = size - 1;
  uint8_t *framed = (data[0] & 1) ? NULL : frame_records(data + 1, size - 1, &len);
  const char *path = fuzz_input_file(framed ? framed : data + 1, len, ".events.out.tfevents.1.fuzz");
  free(framed);
  if (!path) return 0;
  kcb_event_file_check check;
  (void)kcb_event_file_validate(path, &check);
  kcb_event_reader *r = NULL;
  if (kcb_event_reader_open(&r, path) == 0) {
    const kcb_event *e;
    int rc, guard = 0;
    while ((rc = kcb_event_reader_next(r, &e)) != 0 && guard++ < 100000) {
      if (rc < 0) continue; /* the reader goes on past a bad record, or ends */
      for (size_t i = 0; i < e->n_values; i++) (void)kcb_summary_kind_name(e->values[i].kind);
    }
    kcb_event_reader_free(r);
  }
  kcb_run_summary *s = NULL;
  if (kcb_run_summary_read(&s, path, NULL) == 0) kcb_run_summary_free(s);
  return 0;
}
