/* fuzz_event_file — event files as kcb-inspect and the reader read them: any bytes give events, or
 * an error naming the file and offset. Records carry CRCs, which random bytes never match, so by
 * default the input is a list of records (2-byte little-endian length, then the serialized Event)
 * that this target frames with correct CRCs: the decoding of Events, Summaries and plugin data is
 * what gets fuzzed. An input whose first byte is odd is written as it is, to fuzz the framing.
 * A first byte of 2 (mod 8) is nest mode, so a few bytes reach inputs of any depth (issue 15: a
 * 300 KB record nesting ListValues 100,000 deep overflowed protobuf-c's stack): the input is
 * [selector][count u16][key k1][key k2][m][m outer keys][core...], expanded to
 * o1{..om{k1{k2{k1{k2{... core}}}}}} with `count` pairs and correct lengths (keys are
 * length-delimited field keys, e.g. 0x32 for field 6), and put as plugin content into one framed Event (selector
 * even) or used as the Event itself (odd). */
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

static size_t varint_len(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) v >>= 7, n++;
  return n;
}

static uint8_t *put_varint(uint8_t *p, uint64_t v) {
  while (v >= 0x80) *p++ = (uint8_t)(v | 0x80), v >>= 7;
  *p++ = (uint8_t)v;
  return p;
}

/* Prefix bytes (key, length) of a length-delimited field of n content bytes. */
static uint8_t *put_field(uint8_t *p, uint8_t key, size_t n) {
  *p++ = key;
  return put_varint(p, n);
}

/* Nest mode (see the top): one framed record, returned with its length. */
static uint8_t *nest_record(const uint8_t *in, size_t n, size_t *out_len) {
  if (n < 6 || n < 6 + (size_t)in[5]) return NULL;
  int as_event = in[0] & 1;
  size_t n_outer = in[5], pairs = (size_t)in[1] | (size_t)in[2] << 8, levels = n_outer + 2 * pairs;
  const uint8_t *pair = in + 3, *outer = in + 6;
  const uint8_t *core = in + 6 + n_outer;
  size_t core_len = n - 6 - n_outer;
  /* Lengths of every level, inside out, so the bytes can be written outside in in one pass. */
  size_t *lens = malloc((levels + 1) * sizeof *lens);
  if (!lens) return NULL;
  lens[0] = core_len;
  for (size_t i = 1; i <= levels; i++) lens[i] = 1 + varint_len(lens[i - 1]) + lens[i - 1];
  size_t body = lens[levels];
  static const char tag[] = "_hparams_/session_start_info", plugin[] = "hparams";
  size_t pd = 2 + (sizeof plugin - 1) + 1 + varint_len(body) + body; /* PluginData */
  size_t md = 1 + varint_len(pd) + pd;                              /* SummaryMetadata */
  size_t val = 2 + (sizeof tag - 1) + 1 + varint_len(md) + md;       /* Summary.Value */
  size_t sum = 1 + varint_len(val) + val;                            /* Summary */
  size_t ev = as_event ? body : 1 + varint_len(sum) + sum;           /* Event */
  uint8_t *out = malloc(ev + 16), *p = out;
  if (!out) {
    free(lens);
    return NULL;
  }
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)((uint64_t)ev >> (8 * i));
  put_u32(p + 8, kcb_crc32c_masked(p, 8));
  p += 12;
  uint8_t *start = p;
  if (!as_event) {
    p = put_field(p, 0x2a, sum);       /* Event.summary = 5 */
    p = put_field(p, 0x0a, val);       /* Summary.value = 1 */
    p = put_field(p, 0x0a, sizeof tag - 1);
    memcpy(p, tag, sizeof tag - 1), p += sizeof tag - 1;
    p = put_field(p, 0x4a, md);        /* Value.metadata = 9 */
    p = put_field(p, 0x0a, pd);        /* SummaryMetadata.plugin_data = 1 */
    p = put_field(p, 0x0a, sizeof plugin - 1);
    memcpy(p, plugin, sizeof plugin - 1), p += sizeof plugin - 1;
    p = put_field(p, 0x12, body);      /* PluginData.content = 2 */
  }
  for (size_t j = 0; j < levels; j++) /* j-th level from the outside */
    p = put_field(p, j < n_outer ? outer[j] : pair[(j - n_outer) & 1], lens[levels - j - 1]);
  memcpy(p, core, core_len), p += core_len;
  put_u32(p, kcb_crc32c_masked(start, ev));
  *out_len = ev + 16;
  free(lens);
  return out;
}

/* What the tools print of a tag or text (issue 15 #9): escaped, it holds no control byte, and no
 * byte of the input is dropped (every byte shows, escaped or not). */
static void check_escaped(const char *s, size_t n) {
  char out[1024];
  size_t need = kcb_text_escape(out, sizeof out, s, n, 0);
  if (need < n) __builtin_trap();
  for (const unsigned char *p = (const unsigned char *)out; *p; p++)
    if (*p < 0x20 || *p == 0x7f) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  size_t len = size - 1;
  uint8_t *framed = (data[0] & 7) == 2   ? nest_record(data + 1, size - 1, &len)
                    : (data[0] & 1) ? NULL
                                    : frame_records(data + 1, size - 1, &len);
  if ((data[0] & 7) == 2 && !framed) return 0;
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
      for (size_t i = 0; i < e->n_values; i++) {
        (void)kcb_summary_kind_name(e->values[i].kind);
        if (e->values[i].tag) check_escaped(e->values[i].tag, strlen(e->values[i].tag));
        for (size_t k = 0; k < e->values[i].n_blobs; k++)
          check_escaped((const char *)e->values[i].blobs[k].data, e->values[i].blobs[k].len);
      }
    }
    kcb_event_reader_free(r);
  }
  kcb_run_summary *s = NULL;
  if (kcb_run_summary_read(&s, path, NULL) == 0) kcb_run_summary_free(s);
  return 0;
}
