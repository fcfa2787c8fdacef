/* io/tfevents/dtype — TensorProto element types: their sizes and their values as doubles, shared by
 * the event reader and the run summaries. */
#ifndef KCB_IO_TFEVENTS_DTYPE_H
#define KCB_IO_TFEVENTS_DTYPE_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kcb/tfevents.h"

/* Bytes per element of dtype dt in tensor_content; 0 for a type kcb does not read as numbers. */
static inline size_t kcb__dtype_size(int dt) {
  switch (dt) {
    case KCB_DT_FLOAT: case KCB_DT_INT32: case KCB_DT_UINT32: return 4;
    case KCB_DT_DOUBLE: case KCB_DT_INT64: case KCB_DT_UINT64: return 8;
    case KCB_DT_INT16: case KCB_DT_UINT16: case KCB_DT_HALF: case KCB_DT_BFLOAT16: return 2;
    case KCB_DT_INT8: case KCB_DT_UINT8: case KCB_DT_BOOL: return 1;
    default: return 0;
  }
}

static inline double kcb__bits_to_double(uint64_t u) {
  double d;
  memcpy(&d, &u, 8);
  return d;
}

static inline double kcb__bits_to_float(uint64_t u) {
  uint32_t b = (uint32_t)u;
  float f;
  memcpy(&f, &b, 4);
  return f;
}

static inline double kcb__half_to_double(uint16_t h) {
  int e = (h >> 10) & 0x1F, m = h & 0x3FF;
  double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m + 1024, e - 25);
  return (h & 0x8000) ? -v : v;
}

/* A value of dtype dt from its little-endian (or varint-decoded) bits; NaN for another type. */
static inline double kcb__dtype_value(uint64_t u, int dt) {
  switch (dt) {
    case KCB_DT_FLOAT: return kcb__bits_to_float(u);
    case KCB_DT_DOUBLE: return kcb__bits_to_double(u);
    case KCB_DT_INT32: return (int32_t)(uint32_t)u;
    case KCB_DT_UINT32: return (uint32_t)u;
    case KCB_DT_INT64: return (double)(int64_t)u;
    case KCB_DT_UINT64: return (double)u;
    case KCB_DT_INT16: return (int16_t)(uint16_t)u;
    case KCB_DT_UINT16: return (uint16_t)u;
    case KCB_DT_INT8: return (int8_t)(uint8_t)u;
    case KCB_DT_UINT8: return (uint8_t)u;
    case KCB_DT_BOOL: return u != 0;
    case KCB_DT_HALF: return kcb__half_to_double((uint16_t)u);
    case KCB_DT_BFLOAT16: return kcb__bits_to_float(u << 16);
    default: return NAN;
  }
}

/* An integer dtype's value, exactly: 1 with *out the value (it fits int64_t), 2 with *out the bits
 * of a uint64 above INT64_MAX, 0 for a type that is not an integer (floats, strings). Bool counts
 * as an integer (0 or 1), as the double kcb__dtype_value gives. */
static inline int kcb__dtype_int(uint64_t u, int dt, int64_t *out) {
  switch (dt) {
    case KCB_DT_INT32: *out = (int32_t)(uint32_t)u; return 1;
    case KCB_DT_UINT32: *out = (uint32_t)u; return 1;
    case KCB_DT_INT64: *out = (int64_t)u; return 1;
    case KCB_DT_UINT64: *out = (int64_t)u; return u > (uint64_t)INT64_MAX ? 2 : 1;
    case KCB_DT_INT16: *out = (int16_t)(uint16_t)u; return 1;
    case KCB_DT_UINT16: *out = (uint16_t)u; return 1;
    case KCB_DT_INT8: *out = (int8_t)(uint8_t)u; return 1;
    case KCB_DT_UINT8: *out = (uint8_t)u; return 1;
    case KCB_DT_BOOL: *out = u != 0; return 1;
    default: return 0;
  }
}

#endif
