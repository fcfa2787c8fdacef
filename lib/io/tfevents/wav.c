/* io/tfevents/wav.c — a canonical 44-byte RIFF header followed by 16-bit PCM samples. */
#include "io/tfevents/wav.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "io/tfevents/record.h"

int kcb__wav_encode(unsigned char **out, size_t *out_len, const float *samples, int64_t frames, int channels,
                    uint32_t sample_rate) {
  *out = NULL;
  *out_len = 0;
  if (channels < 1 || channels > 8 || frames < 0 || sample_rate == 0 || (frames && !samples))
    return kcb__error(KCB_EINVAL, "WAV: bad audio (%lld frames, %d channels, %u Hz)", (long long)frames, channels,
                      sample_rate);
  uint64_t data_bytes = (uint64_t)frames * (uint64_t)channels * 2;
  if (data_bytes > 0xFFFFFFFFu - 36)
    return kcb__error(KCB_EINVAL, "WAV: %lld frames is too long for a WAV file", (long long)frames);
  unsigned char *p = malloc(44 + (size_t)data_bytes);
  if (!p) return kcb__error(KCB_ENOMEM, "WAV: out of memory");
  memcpy(p, "RIFF", 4);
  kcb__store_le32(p + 4, (uint32_t)(36 + data_bytes));
  memcpy(p + 8, "WAVEfmt ", 8);
  kcb__store_le32(p + 16, 16);                                   /* fmt chunk size */
  p[20] = 1, p[21] = 0;                                          /* PCM */
  p[22] = (unsigned char)channels, p[23] = 0;
  kcb__store_le32(p + 24, sample_rate);
  kcb__store_le32(p + 28, sample_rate * (uint32_t)channels * 2); /* byte rate */
  p[32] = (unsigned char)(channels * 2), p[33] = 0;              /* block align */
  p[34] = 16, p[35] = 0;                                         /* bits per sample */
  memcpy(p + 36, "data", 4);
  kcb__store_le32(p + 40, (uint32_t)data_bytes);
  unsigned char *d = p + 44;
  for (int64_t i = 0; i < frames * channels; i++) {
    /* TensorFlow's encode_wav: round(x * 2^15), clamped to [-32768, 32767]; NaN -> 0 */
    float s = samples[i];
    if (!(s >= -1.0f)) s = s != s ? 0.0f : -1.0f;
    if (s > 1.0f) s = 1.0f;
    int v = (int)roundf(s * 32768.0f);
    if (v > 32767) v = 32767;
    d[2 * i] = (unsigned char)(v & 0xFF);
    d[2 * i + 1] = (unsigned char)((v >> 8) & 0xFF);
  }
  *out = p;
  *out_len = 44 + (size_t)data_bytes;
  return 0;
}
