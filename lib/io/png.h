/* io/png — PNG encoding through zlib, shared by image summaries and kcb-inspect's plots. */
#ifndef KCB_IO_PNG_H
#define KCB_IO_PNG_H

#include <stddef.h>
#include <stdint.h>

/* Encodes 8-bit pixels as a PNG.
 * pixels: (height, width, channels) row-major; channels 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA.
 * @param[out] out     malloc'd PNG bytes; the caller frees them
 * @param[out] out_len their length
 * @return 0 or KCB_EINVAL (bad size or channel count), KCB_ENOMEM */
int kcb__png_encode(unsigned char **out, size_t *out_len, const uint8_t *pixels, uint32_t width, uint32_t height,
                    int channels);

/* The same with a zlib level (0-9): 1 for large images written once (sprites), where level 6
 * costs several times longer for a few percent fewer bytes. */
int kcb__png_encode_level(unsigned char **out, size_t *out_len, const uint8_t *pixels, uint32_t width,
                          uint32_t height, int channels, int level);

/* The same from rows already filtered: height rows of a filter-type byte then width * channels
 * bytes (raw is what the IDAT stream compresses). For writers that lay out an image anyway. */
int kcb__png_encode_rows(unsigned char **out, size_t *out_len, const unsigned char *raw, uint32_t width,
                         uint32_t height, int channels, int level);

#endif
