/* io/png — a minimal PNG encoder: IHDR, one zlib IDAT, IEND; 8 bits per channel, no interlace. */
#include "io/png.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "internal.h"

static unsigned char *put_u32_be(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
  return p + 4;
}

/* Writes one chunk (length, type, data, CRC-32 of type and data) at p; returns the end. */
static unsigned char *put_chunk(unsigned char *p, const char type[4], const unsigned char *data, uint32_t len) {
  p = put_u32_be(p, len);
  memcpy(p, type, 4);
  if (len) memcpy(p + 4, data, len);
  uLong crc = crc32(0L, p, (uInt)len + 4);
  return put_u32_be(p + 4 + len, (uint32_t)crc);
}

/* Chooses, per row, the filter (None, Sub, Up) with the smallest sum of absolute bytes, the usual
 * heuristic: flat regions of charts and images then compress to almost nothing. */
static void filter_rows(unsigned char *raw, const uint8_t *pixels, uint32_t width, uint32_t height, int channels) {
  size_t stride = (size_t)width * (size_t)channels;
  for (uint32_t y = 0; y < height; y++) {
    const uint8_t *row = pixels + (size_t)y * stride, *up = y ? row - stride : NULL;
    unsigned char *dst = raw + (size_t)y * (stride + 1);
    unsigned long cost[3] = {0, 0, 0};
    for (size_t i = 0; i < stride; i++) {
      uint8_t left = i >= (size_t)channels ? row[i - (size_t)channels] : 0, above = up ? up[i] : 0;
      uint8_t d[3] = {row[i], (uint8_t)(row[i] - left), (uint8_t)(row[i] - above)};
      for (int f = 0; f < 3; f++) cost[f] += d[f] < 128 ? d[f] : 256u - d[f];
    }
    int best = cost[1] < cost[0] ? 1 : 0;
    if (cost[2] < cost[best]) best = 2;
    dst[0] = (unsigned char)best;
    for (size_t i = 0; i < stride; i++) {
      uint8_t left = i >= (size_t)channels ? row[i - (size_t)channels] : 0, above = up ? up[i] : 0;
      dst[1 + i] = (unsigned char)(best == 0 ? row[i] : best == 1 ? row[i] - left : row[i] - above);
    }
  }
}

/* compress2 with a strategy. */
static int deflate_all(unsigned char *z, uLongf *z_len, const unsigned char *raw, size_t raw_len, int level,
                       int strategy) {
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  if (deflateInit2(&zs, level, Z_DEFLATED, 15, 8, strategy) != Z_OK) return Z_MEM_ERROR;
  zs.next_in = (Bytef *)raw;
  zs.avail_in = (uInt)raw_len;
  zs.next_out = z;
  zs.avail_out = (uInt)*z_len;
  int rc = deflate(&zs, Z_FINISH);
  *z_len = zs.total_out;
  deflateEnd(&zs);
  return rc == Z_STREAM_END ? Z_OK : Z_BUF_ERROR;
}

int kcb__png_encode(unsigned char **out, size_t *out_len, const uint8_t *pixels, uint32_t width, uint32_t height,
                    int channels) {
  return kcb__png_encode_level(out, out_len, pixels, width, height, channels, 6);
}

static int check_size(uint32_t width, uint32_t height, int channels) {
  if (channels < 1 || channels > 4)
    return kcb__error(KCB_EINVAL, "png: %d channels; expected 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA)",
                      channels);
  if (width == 0 || height == 0 || width > (1u << 24) || height > (1u << 24) ||
      (uint64_t)width * height * (uint64_t)channels > (1ull << 31))
    return kcb__error(KCB_EINVAL, "png: image size %ux%u is empty or too large", width, height);
  return 0;
}

int kcb__png_encode_rows(unsigned char **out, size_t *out_len, const unsigned char *raw, uint32_t width,
                         uint32_t height, int channels, int level) {
  static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  static const unsigned char color_type[5] = {0, 0, 4, 2, 6}; /* by channel count */
  *out = NULL;
  *out_len = 0;
  int rc = check_size(width, height, channels);
  if (rc) return rc;
  size_t raw_len = (size_t)height * ((size_t)width * (size_t)channels + 1);
  uLongf z_len = compressBound((uLong)raw_len);
  unsigned char *z = malloc(z_len);
  unsigned char *png = malloc(8 + 25 + 12 + z_len + 12);
  if (!z || !png) {
    rc = kcb__error(KCB_ENOMEM, "png: out of memory for a %ux%u image", width, height);
    goto done;
  }
  if (deflate_all(z, &z_len, raw, raw_len, level, Z_DEFAULT_STRATEGY) != Z_OK) {
    rc = kcb__error(KCB_ENOMEM, "png: zlib could not compress a %ux%u image", width, height);
    goto done;
  }
  unsigned char ihdr[13], *p = put_u32_be(put_u32_be(ihdr, width), height);
  p[0] = 8; /* bit depth */
  p[1] = color_type[channels];
  p[2] = p[3] = p[4] = 0; /* deflate, adaptive filtering, no interlace */
  memcpy(png, signature, 8);
  p = put_chunk(png + 8, "IHDR", ihdr, 13);
  p = put_chunk(p, "IDAT", z, (uint32_t)z_len);
  p = put_chunk(p, "IEND", NULL, 0);
  *out = png;
  *out_len = (size_t)(p - png);
  png = NULL;
done:
  free(z);
  free(png);
  return rc;
}

int kcb__png_encode_level(unsigned char **out, size_t *out_len, const uint8_t *pixels, uint32_t width,
                          uint32_t height, int channels, int level) {
  *out = NULL;
  *out_len = 0;
  int rc = check_size(width, height, channels);
  if (rc) return rc;
  size_t raw_len = (size_t)height * ((size_t)width * (size_t)channels + 1);
  unsigned char *raw = malloc(raw_len);
  if (!raw) return kcb__error(KCB_ENOMEM, "png: out of memory for a %ux%u image", width, height);
  if (level <= 1) {
    /* fast: no filter choice, which costs as much as deflate at level 1 */
    size_t stride = (size_t)width * (size_t)channels;
    for (uint32_t y = 0; y < height; y++) {
      raw[(size_t)y * (stride + 1)] = 0;
      memcpy(raw + (size_t)y * (stride + 1) + 1, pixels + (size_t)y * stride, stride);
    }
  } else {
    filter_rows(raw, pixels, width, height, channels);
  }
  rc = kcb__png_encode_rows(out, out_len, raw, width, height, channels, level);
  free(raw);
  return rc;
}
