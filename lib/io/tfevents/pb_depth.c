/* io/tfevents/pb_depth.c — see pb_depth.h. */
#include "io/tfevents/pb_depth.h"

/* Reads a varint at *p (< end); 0 on success. */
static int varint(const uint8_t **p, const uint8_t *end, uint64_t *out) {
  uint64_t v = 0;
  for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
    uint8_t b = *(*p)++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *out = v;
      return 0;
    }
  }
  return -1;
}

typedef struct frame {
  const ProtobufCMessageDescriptor *desc;
  const uint8_t *end;
} frame;

int kcb__pb_depth_ok(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len, int max_depth) {
  if (max_depth > 1024) max_depth = 1024;
  if (max_depth < 1) return 0;
  if (!data || len == 0) return 1; /* an empty message nests nothing (and NULL + 0 is undefined) */
  frame stack[1024];
  int depth = 1;
  stack[0] = (frame){desc, data + len};
  const uint8_t *p = data;
  while (depth > 0) {
    frame *top = &stack[depth - 1];
    if (p >= top->end) {
      if (p > top->end) return 1; /* a field ran past its message: invalid, protobuf-c says so */
      depth--;
      continue;
    }
    uint64_t key, n;
    if (varint(&p, top->end, &key) != 0) return 1;
    switch (key & 7) {
      case 0:
        if (varint(&p, top->end, &n) != 0) return 1;
        break;
      case 1:
        if (top->end - p < 8) return 1;
        p += 8;
        break;
      case 5:
        if (top->end - p < 4) return 1;
        p += 4;
        break;
      case 2: {
        if (varint(&p, top->end, &n) != 0 || n > (uint64_t)(top->end - p)) return 1;
        uint64_t tag = key >> 3;
        const ProtobufCFieldDescriptor *f =
            tag <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(top->desc, (unsigned)tag) : NULL;
        if (f && f->type == PROTOBUF_C_TYPE_MESSAGE && f->descriptor) {
          if (depth == max_depth) return 0;
          stack[depth++] = (frame){(const ProtobufCMessageDescriptor *)f->descriptor, p + n};
        } else {
          p += n;
        }
        break;
      }
      default: return 1; /* groups (3, 4) and invalid types: protobuf-c refuses them */
    }
  }
  return 1;
}

static int schema_depth(const ProtobufCMessageDescriptor *d, const ProtobufCMessageDescriptor **path, int depth, int limit) {
  for (int i = 0; i < depth; i++)
    if (path[i] == d) return -1;
  if (depth >= limit) return -1;
  path[depth] = d;
  int best = depth + 1;
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &d->fields[i];
    if (f->type != PROTOBUF_C_TYPE_MESSAGE || !f->descriptor) continue;
    int sub = schema_depth((const ProtobufCMessageDescriptor *)f->descriptor, path, depth + 1, limit);
    if (sub < 0) return -1;
    if (sub > best) best = sub;
  }
  return best;
}

int kcb__pb_schema_depth(const ProtobufCMessageDescriptor *desc, int limit) {
  const ProtobufCMessageDescriptor *path[64];
  if (limit > 64) limit = 64;
  return schema_depth(desc, path, 0, limit);
}
