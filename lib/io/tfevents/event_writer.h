/* io/tfevents/event_writer — one event file, written asynchronously (spec/tfevents.md §4.1, §5):
 * records are framed on the caller's thread into a bounded in-memory queue and a writer thread
 * does the write()s. Not thread-safe: one caller thread at a time per writer. */
#ifndef KCB_IO_TFEVENTS_EVENT_WRITER_H
#define KCB_IO_TFEVENTS_EVENT_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "kcb/profiler.h"

typedef struct kcb__event_writer kcb__event_writer;

/* A growable byte buffer whose first 12 bytes are reserved for a record header, so an Event can
 * be packed straight into place and framed without a copy. */
typedef struct kcb__record_buf {
  unsigned char *data;
  size_t cap;
} kcb__record_buf;

/* Makes room for a record of n data bytes. @return the data area (12 bytes in) or NULL (ENOMEM). */
unsigned char *kcb__record_buf_reserve(kcb__record_buf *b, size_t n);
void kcb__record_buf_free(kcb__record_buf *b);

/* Creates dir/events.out.tfevents.<secs>.<host>.<pid>.<n><suffix> (n counts writers made by this
 * process, so two writers opened in the same second get different names) and writes the first
 * record, Event{wall_time, file_version="brain.Event:2", source_metadata{writer}}, at once.
 * max_queue: records held before the writer thread is woken (the caller waits only when that
 * many are queued while the thread is still writing the previous batch); flush_secs: the
 * longest time a record stays in memory. @return 0, KCB_EINVAL, KCB_ENOMEM or an I/O code. */
int kcb__event_writer_open(kcb__event_writer **out, const char *dir, const char *suffix, int max_queue,
                           double flush_secs);

/* Queues one record whose data (n bytes) was packed into b's data area: frames it (CRCs) and
 * copies it into the queue. @return 0, or the error a previous write met (sticky). */
int kcb__event_writer_append(kcb__event_writer *w, kcb__record_buf *b, size_t n);

/* Packs and queues one Event (a Kcbpb__Event *, typed void to keep protobuf-c out of
 * this header). Uses b as scratch. */
int kcb__event_writer_append_event(kcb__event_writer *w, kcb__record_buf *b, const void *event);

/* Waits until every queued record has been written. @return 0 or the writer's error. */
int kcb__event_writer_flush(kcb__event_writer *w);

/* Asks the thread to write what is queued now, without waiting for it. */
void kcb__event_writer_kick(kcb__event_writer *w);

/* Writes what is queued, stops the thread and closes the file; frees w. Accepts NULL.
 * @return 0 or the first error met. */
int kcb__event_writer_close(kcb__event_writer *w);

/* The file's path (owned by w). */
const char *kcb__event_writer_path(const kcb__event_writer *w);

/* Records spans into p (NULL stops): each append on the caller's lane ("event write (queue)") and
 * each batch the thread writes on the writer lane ("event write (disk)", with its bytes). */
void kcb__event_writer_set_profiler(kcb__event_writer *w, kcb_profiler *p);

/* Test hook: makes the thread write to fd from now on (e.g. /dev/full); w owns fd. */
void kcb__event_writer_set_fd(kcb__event_writer *w, int fd);

/* Seconds since the epoch, as TensorBoard's wall_time. */
double kcb__wall_time(void);

#endif
