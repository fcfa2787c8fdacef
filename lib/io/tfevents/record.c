/* io/tfevents/record.c — TFRecord framing. */
#include "io/tfevents/record.h"

#include <string.h>

#include "io/tfevents/crc32c.h"

void kcb__record_header(unsigned char out[KCB__RECORD_HEADER], uint64_t n) {
  kcb__store_le64(out, n);
  kcb__store_le32(out + 8, kcb__crc32c_mask(kcb__crc32c(out, 8)));
}

void kcb__record_footer(unsigned char out[KCB__RECORD_FOOTER], const void *data, size_t n) {
  kcb__store_le32(out, kcb__crc32c_mask(kcb__crc32c(data, n)));
}

size_t kcb__record_frame(unsigned char *out, const void *data, size_t n) {
  kcb__record_header(out, n);
  if (n && out + KCB__RECORD_HEADER != data) memmove(out + KCB__RECORD_HEADER, data, n);
  kcb__record_footer(out + KCB__RECORD_HEADER + n, out + KCB__RECORD_HEADER, n);
  return n + KCB__RECORD_HEADER + KCB__RECORD_FOOTER;
}
