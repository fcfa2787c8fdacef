/* io/tfevents/summary_writer_internal.h — what kcb's own callbacks need beyond the public
 * summary-writer API. */
#ifndef KCB_IO_TFEVENTS_SUMMARY_WRITER_INTERNAL_H
#define KCB_IO_TFEVENTS_SUMMARY_WRITER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "kcb/profiler.h"
#include "kcb/summary_writer.h"

/* Returns KCB_EINVAL from a public writer function given no writer (a failed kcb_summary_writer_new
 * the program went on from). */
#define KCB__WRITER_GIVEN(w)                                                  \
  do {                                                                        \
    if (!(w)) return kcb__error(KCB_EINVAL, "summary writer: NULL writer");   \
  } while (0)

/* A rank-0 DT_STRING tensor with the given plugin metadata (e.g. Keras's "keras" summary:
 * plugin graph_keras_model, content "1", the model config JSON). */
int kcb__summary_writer_add_string(kcb_summary_writer *w, const char *tag, const char *data, size_t len,
                                   const char *plugin, const char *content, int data_class, int64_t step);

/* The bytes of Event{wall_time, step, Summary{Value{tag, rank-0 DT_FLOAT tensor_content,
 * metadata (plugin "scalars", data class scalar) if with_metadata}}}, as protobuf-c packs
 * them; out must hold kcb__encode_scalar_event_size(tag_len) bytes. @return the length. */
size_t kcb__encode_scalar_event(unsigned char *out, double wall_time, int64_t step, const char *tag, size_t tag_len,
                                float value, int with_metadata);
size_t kcb__encode_scalar_event_size(size_t tag_len);

/* A DT_FLOAT [d0, d1] tensor (tensor_content, little-endian) with the given plugin metadata. */
int kcb__summary_writer_add_float_tensor(kcb_summary_writer *w, const char *tag, const float *values, int64_t d0,
                                         int64_t d1, const char *plugin, const uint8_t *content, size_t content_len,
                                         int data_class, int64_t step);

/* Profiles the writer's appends and disk writes into p (NULL stops; kcb__event_writer_set_profiler). */
/* 0 when text is valid UTF-8; else KCB_EINVAL saying "<what> is not valid UTF-8" with the text
 * escaped: TensorBoard decodes these strings (proto3 strings, its text files) as UTF-8 and fails
 * on the whole tag, run or plugin otherwise. A NULL text is fine (the caller checks it). */
int kcb__check_utf8(const char *text, const char *what);

void kcb__summary_writer_set_profiler(kcb_summary_writer *w, kcb_profiler *p);

/* Hands everything queued to the writer thread without waiting (an asynchronous flush). */
void kcb__summary_writer_kick(kcb_summary_writer *w);

#endif
