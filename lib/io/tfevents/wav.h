/* io/tfevents/wav — 16-bit PCM WAV encoding for audio summaries. */
#ifndef KCB_IO_TFEVENTS_WAV_H
#define KCB_IO_TFEVENTS_WAV_H

#include <stddef.h>
#include <stdint.h>

/* Encodes frames x channels interleaved samples in [-1, 1] (clipped) as a RIFF/WAVE file of
 * 16-bit little-endian PCM. @param[out] out malloc'd bytes the caller frees.
 * @return 0, KCB_EINVAL or KCB_ENOMEM. */
int kcb__wav_encode(unsigned char **out, size_t *out_len, const float *samples, int64_t frames, int channels,
                    uint32_t sample_rate);

#endif
