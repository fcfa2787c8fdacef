/* test_png.c — the PNG encoder, checked by an independent decoder written here over zlib's inflate,
 * and by pngcheck when it is installed. */
#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

#include "test_helpers.h"
#include "io/png.h"

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Decodes an 8-bit, non-interlaced PNG made of IHDR, IDAT and IEND chunks (filters None/Sub/Up/
 * Average/Paeth), checking every chunk's CRC; returns malloc'd pixels. */
static uint8_t *decode(const unsigned char *png, size_t len, uint32_t *w, uint32_t *h, int *channels) {
  static const int channels_of_type[7] = {1, 0, 3, 0, 2, 0, 4};
  assert_memory_equal(png, "\x89PNG\r\n\x1a\n", 8);
  size_t pos = 8, idat_len = 0;
  unsigned char *idat = NULL;
  int saw_end = 0;
  while (pos + 12 <= len && !saw_end) {
    uint32_t n = be32(png + pos);
    const unsigned char *type = png + pos + 4, *data = png + pos + 8;
    assert_true(pos + 12 + n <= len);
    assert_int_equal(be32(data + n), (uint32_t)crc32(0, type, n + 4));
    if (!memcmp(type, "IHDR", 4)) {
      *w = be32(data);
      *h = be32(data + 4);
      assert_int_equal(data[8], 8);
      *channels = channels_of_type[data[9]];
      assert_int_equal(data[12], 0);
    } else if (!memcmp(type, "IDAT", 4)) {
      idat = realloc(idat, idat_len + n);
      memcpy(idat + idat_len, data, n);
      idat_len += n;
    } else if (!memcmp(type, "IEND", 4)) {
      saw_end = 1;
    }
    pos += 12 + n;
  }
  assert_true(saw_end);
  assert_int_equal(pos, len);
  size_t stride = (size_t)*w * (size_t)*channels;
  uLongf raw_len = (uLongf)((stride + 1) * *h);
  unsigned char *raw = malloc(raw_len);
  assert_int_equal(uncompress(raw, &raw_len, idat, (uLong)idat_len), Z_OK);
  assert_int_equal(raw_len, (stride + 1) * *h);
  uint8_t *pix = malloc(stride * *h);
  for (uint32_t y = 0; y < *h; y++) {
    const unsigned char *src = raw + y * (stride + 1);
    uint8_t *row = pix + y * stride, *up = y ? row - stride : NULL;
    for (size_t i = 0; i < stride; i++) {
      int a = i >= (size_t)*channels ? row[i - (size_t)*channels] : 0, b = up ? up[i] : 0;
      int c = (up && i >= (size_t)*channels) ? up[i - (size_t)*channels] : 0, p = a + b - c;
      int pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
      int pred[5] = {0, a, b, (a + b) / 2, (pa <= pb && pa <= pc) ? a : pb <= pc ? b : c};
      assert_true(src[0] <= 4);
      row[i] = (uint8_t)(src[1 + i] + pred[src[0]]);
    }
  }
  free(raw);
  free(idat);
  return pix;
}

static void test_round_trip_every_channel_count(void **state) {
  (void)state;
  for (int channels = 1; channels <= 4; channels++) {
    uint32_t w = 37, h = 11;
    uint8_t *pixels = malloc((size_t)w * h * (size_t)channels);
    for (size_t i = 0; i < (size_t)w * h * (size_t)channels; i++)
      pixels[i] = (uint8_t)(i < 100 ? 255 : (i * 7919u) >> 3); /* a flat run, then noise */
    unsigned char *png = NULL;
    size_t len = 0;
    assert_ok(kcb__png_encode(&png, &len, pixels, w, h, channels));
    uint32_t dw = 0, dh = 0;
    int dc = 0;
    uint8_t *back = decode(png, len, &dw, &dh, &dc);
    assert_int_equal(dw, w);
    assert_int_equal(dh, h);
    assert_int_equal(dc, channels);
    assert_memory_equal(back, pixels, (size_t)w * h * (size_t)channels);
    if (channels == 3 && system("command -v pngcheck >/dev/null 2>&1") == 0) {
      FILE *f = fopen("test_png_rgb.png", "wb");
      assert_non_null(f);
      assert_int_equal(fwrite(png, 1, len, f), len);
      fclose(f);
      assert_int_equal(system("pngcheck -q test_png_rgb.png"), 0);
      remove("test_png_rgb.png");
    }
    free(back);
    free(png);
    free(pixels);
  }
}

static void test_bad_arguments(void **state) {
  (void)state;
  uint8_t px[4] = {0};
  unsigned char *png = (unsigned char *)1;
  size_t len = 1;
  assert_error(kcb__png_encode(&png, &len, px, 1, 1, 5), KCB_EINVAL, "5 channels");
  assert_null(png);
  assert_int_equal(len, 0);
  assert_error(kcb__png_encode(&png, &len, px, 0, 1, 1), KCB_EINVAL, "0x1");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip_every_channel_count),
      cmocka_unit_test(test_bad_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
