/* io/tfevents/event_writer.c — the event file, its writer thread and its queue. */
#include "io/tfevents/event_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "event.pb-c.h"
#include "internal.h"
#include "io/tfevents/record.h"

#define WRITER_NAME "kcb.tfevents"

struct kcb__event_writer {
  char *path;
  int fd;
  int max_queue;
  double flush_secs;
  pthread_t thread;
  int thread_started;
  pthread_mutex_t mu;
  pthread_cond_t wake;     /* the thread waits for work */
  pthread_cond_t progress; /* callers wait for room or for a flush */
  /* queue: callers append to front; the thread swaps it with back and writes back */
  unsigned char *front, *back;
  size_t front_len, front_cap, back_cap;
  int front_records;
  uint64_t flush_requested, flush_done;
  int closing;
  int busy;        /* back holds a batch the thread has not finished writing */
  size_t back_len; /* its length */
  /* the first error the thread met, reported to every later call */
  int err;
  char err_msg[512];
  kcb_profiler *profiler; /* under mu: the thread reads it there */
};

static int64_t next_writer_number; /* process-wide, so names are unique within one second */

double kcb__wall_time(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

unsigned char *kcb__record_buf_reserve(kcb__record_buf *b, size_t n) {
  size_t need = n + KCB__RECORD_HEADER + KCB__RECORD_FOOTER;
  if (need > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) cap *= 2;
    unsigned char *p = realloc(b->data, cap);
    if (!p) return NULL;
    b->data = p;
    b->cap = cap;
  }
  return b->data + KCB__RECORD_HEADER;
}

void kcb__record_buf_free(kcb__record_buf *b) {
  free(b->data);
  b->data = NULL;
  b->cap = 0;
}

/* Writes a batch of whole records at the end of the file. A write cut short (a full disk) is cut
 * back to the end of the last whole record it wrote, so the file keeps whole records only. @return 0 or the errno of the failure (the
 * thread reports it itself). */
static int write_all(int fd, const unsigned char *p, size_t n, const char *path) {
  struct stat before, after;
  if (fstat(fd, &before) != 0) return errno;
  if (kcb__write_all(fd, p, n, path) == 0) return 0;
  int err = errno;
  if (fstat(fd, &after) == 0 && after.st_size > before.st_size) {
    size_t written = (size_t)(after.st_size - before.st_size), whole = 0;
    for (;;) { /* each record: 8-byte length, 4-byte CRC, the data, 4-byte CRC */
      uint64_t len = 0;
      for (int i = 0; i < 8; i++) len |= (uint64_t)p[whole + (size_t)i] << (8 * i);
      size_t next = whole + KCB__RECORD_HEADER + (size_t)len + KCB__RECORD_FOOTER;
      if (next > written) break;
      whole = next;
    }
    (void)ftruncate(fd, before.st_size + (off_t)whole);
  }
  return err;
}

/* Called with mu held. */
static void set_thread_error(kcb__event_writer *w, int code, const char *fmt, const char *detail) {
  if (w->err) return;
  w->err = code;
  snprintf(w->err_msg, sizeof w->err_msg, fmt, w->path, detail);
}

/* Hands the front buffer to the thread as its next batch. Called with mu held, busy == 0. */
static void hand_over(kcb__event_writer *w) {
  unsigned char *p = w->front;
  size_t cap = w->front_cap;
  w->front = w->back;
  w->front_cap = w->back_cap;
  w->back = p;
  w->back_cap = cap;
  w->back_len = w->front_len;
  w->front_len = 0;
  w->front_records = 0;
  w->busy = 1;
}

static void *writer_main(void *arg) {
  kcb__event_writer *w = arg;
  pthread_mutex_lock(&w->mu);
  for (;;) {
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    double secs = w->flush_secs;
    deadline.tv_sec += (time_t)secs;
    deadline.tv_nsec += (long)((secs - (double)(time_t)secs) * 1e9);
    if (deadline.tv_nsec >= 1000000000L) {
      deadline.tv_sec++;
      deadline.tv_nsec -= 1000000000L;
    }
    int timed_out = 0;
    while (!w->busy && !w->closing && w->flush_requested == w->flush_done)
      if (pthread_cond_timedwait(&w->wake, &w->mu, &deadline) == ETIMEDOUT) {
        timed_out = 1;
        break;
      }
    uint64_t flush_target = w->flush_requested;
    /* a flush, close or the timer takes whatever is queued */
    if (!w->busy && w->front_len && (timed_out || w->closing || flush_target != w->flush_done)) hand_over(w);
    if (w->busy) {
      int fd = w->fd;
      int failed = w->err != 0;
      size_t len = w->back_len;
      kcb_profiler *profiler = w->profiler;
      pthread_mutex_unlock(&w->mu);
      double t0 = profiler ? kcb_profiler_now() : 0;
      int e = failed ? 0 : write_all(fd, w->back, len, w->path);
      if (profiler)
        (void)kcb_profiler_add(profiler, "event write (disk)", "events", t0, kcb_profiler_now(), KCB_PROFILE_LANE_WRITER,
                               "bytes", (int64_t)len);
      struct stat st;
      int gone = !failed && !e && fstat(fd, &st) == 0 && st.st_nlink == 0;
      pthread_mutex_lock(&w->mu);
      w->busy = 0;
      if (e) set_thread_error(w, kcb__error_from_errno(e), "%s: writing events failed: %s", strerror(e));
      else if (gone) set_thread_error(w, KCB_ENOENT, "%s: %s", "the event file was deleted (is its directory gone?)");
      /* more may have been queued meanwhile: a flush waits for it too */
      if (w->front_len && flush_target != w->flush_done) {
        pthread_cond_broadcast(&w->progress);
        continue;
      }
    }
    w->flush_done = flush_target;
    pthread_cond_broadcast(&w->progress);
    if (w->closing && w->front_len == 0 && !w->busy) break;
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

static int report(kcb__event_writer *w) { return kcb__error(w->err, "%s", w->err_msg); }

static int append(kcb__event_writer *w, kcb__record_buf *b, size_t n);

int kcb__event_writer_append(kcb__event_writer *w, kcb__record_buf *b, size_t n) {
  kcb_profiler *profiler = w->profiler; /* set by this (the caller's) thread */
  if (!profiler) return append(w, b, n);
  double t0 = kcb_profiler_now();
  int rc = append(w, b, n);
  (void)kcb_profiler_add(profiler, "event write (queue)", "events", t0, kcb_profiler_now(), KCB_PROFILE_LANE_TRAINING,
                         "bytes", (int64_t)n);
  return rc;
}

void kcb__event_writer_set_profiler(kcb__event_writer *w, kcb_profiler *p) {
  pthread_mutex_lock(&w->mu);
  w->profiler = p;
  pthread_mutex_unlock(&w->mu);
}

static int append(kcb__event_writer *w, kcb__record_buf *b, size_t n) {
  kcb__record_header(b->data, n);
  kcb__record_footer(b->data + KCB__RECORD_HEADER + n, b->data + KCB__RECORD_HEADER, n);
  size_t total = n + KCB__RECORD_HEADER + KCB__RECORD_FOOTER;
  pthread_mutex_lock(&w->mu);
  /* a full queue goes to the thread at once if it is idle; the caller waits only when the
   * thread is still writing the previous batch */
  while (!w->err && w->front_records >= w->max_queue) {
    if (!w->busy) {
      hand_over(w);
      pthread_cond_signal(&w->wake);
      break;
    }
    pthread_cond_wait(&w->progress, &w->mu);
  }
  if (w->err) {
    pthread_mutex_unlock(&w->mu);
    return report(w);
  }
  if (w->front_len + total > w->front_cap) {
    size_t cap = w->front_cap ? w->front_cap : 4096;
    while (cap < w->front_len + total) cap *= 2;
    unsigned char *p = realloc(w->front, cap);
    if (!p) {
      pthread_mutex_unlock(&w->mu);
      return kcb__error(KCB_ENOMEM, "%s: out of memory queueing an event", w->path);
    }
    w->front = p;
    w->front_cap = cap;
  }
  memcpy(w->front + w->front_len, b->data, total);
  w->front_len += total;
  w->front_records++;
  pthread_mutex_unlock(&w->mu);
  return 0;
}

int kcb__event_writer_append_event(kcb__event_writer *w, kcb__record_buf *b, const void *event) {
  const ProtobufCMessage *msg = event;
  size_t n = protobuf_c_message_get_packed_size(msg);
  unsigned char *p = kcb__record_buf_reserve(b, n);
  if (!p) return kcb__error(KCB_ENOMEM, "%s: out of memory encoding an event", w->path);
  protobuf_c_message_pack(msg, p);
  return kcb__event_writer_append(w, b, n);
}

int kcb__event_writer_flush(kcb__event_writer *w) {
  pthread_mutex_lock(&w->mu);
  uint64_t target = ++w->flush_requested;
  pthread_cond_signal(&w->wake);
  while (!w->err && w->flush_done < target) pthread_cond_wait(&w->progress, &w->mu);
  int rc = w->err ? report(w) : 0;
  pthread_mutex_unlock(&w->mu);
  return rc;
}

void kcb__event_writer_kick(kcb__event_writer *w) {
  pthread_mutex_lock(&w->mu);
  if (w->front_len) {
    w->flush_requested++;
    pthread_cond_signal(&w->wake);
  }
  pthread_mutex_unlock(&w->mu);
}

const char *kcb__event_writer_path(const kcb__event_writer *w) { return w->path; }

void kcb__event_writer_set_fd(kcb__event_writer *w, int fd) {
  pthread_mutex_lock(&w->mu);
  while (w->busy) pthread_cond_wait(&w->progress, &w->mu);
  close(w->fd);
  w->fd = fd;
  pthread_mutex_unlock(&w->mu);
}

static void destroy(kcb__event_writer *w) {
  if (w->fd >= 0) close(w->fd);
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->wake);
  pthread_cond_destroy(&w->progress);
  free(w->front);
  free(w->back);
  free(w->path);
  free(w);
}

int kcb__event_writer_close(kcb__event_writer *w) {
  if (!w) return 0;
  int rc = 0;
  if (w->thread_started) {
    pthread_mutex_lock(&w->mu);
    w->closing = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
  }
  /* no fsync, as TensorBoard's writers: the file is append-only, and every record is in the
   * kernel's hands once written, so a crash of the process loses nothing */
  if (w->err) rc = report(w);
  if (w->fd >= 0 && close(w->fd) != 0 && !rc)
    rc = kcb__error(kcb__error_from_errno(errno), "%s: close failed: %s", w->path, strerror(errno));
  w->fd = -1;
  destroy(w);
  return rc;
}

int kcb__event_writer_open(kcb__event_writer **out, const char *dir, const char *suffix, int max_queue,
                           double flush_secs) {
  *out = NULL;
  if (!dir || !*dir) return kcb__error(KCB_EINVAL, "event writer: empty directory name");
  if (!suffix) suffix = "";
  char host[256] = "localhost";
  if (gethostname(host, sizeof host - 1) != 0) strcpy(host, "localhost");
  host[sizeof host - 1] = '\0';
  for (char *c = host; *c; c++)
    if (*c == '/') *c = '_';
  double now = kcb__wall_time();
  long long secs = (long long)now;
  long long number = __atomic_fetch_add(&next_writer_number, 1, __ATOMIC_RELAXED);
  kcb__event_writer *w = calloc(1, sizeof *w);
  if (!w) return kcb__error(KCB_ENOMEM, "event writer: out of memory");
  w->fd = -1;
  w->max_queue = max_queue > 0 ? max_queue : 10;
  w->flush_secs = flush_secs > 0 ? flush_secs : 120.0;
  pthread_mutex_init(&w->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&w->wake, &ca);
  pthread_condattr_destroy(&ca);
  pthread_cond_init(&w->progress, NULL);
  int len = snprintf(NULL, 0, "%s/events.out.tfevents.%010lld.%s.%ld.%lld%s", dir, secs, host, (long)getpid(), number,
                     suffix);
  w->path = malloc((size_t)len + 1);
  if (!w->path) {
    destroy(w);
    return kcb__error(KCB_ENOMEM, "event writer: out of memory");
  }
  snprintf(w->path, (size_t)len + 1, "%s/events.out.tfevents.%010lld.%s.%ld.%lld%s", dir, secs, host, (long)getpid(),
           number, suffix);
  w->fd = open(w->path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
  if (w->fd < 0) {
    int e = errno;
    int rc = kcb__error(kcb__error_from_errno(e), "%s: cannot create the event file: %s", w->path, strerror(e));
    destroy(w);
    return rc;
  }
  /* the first record goes to disk at once, as TensorBoard's writers do */
  Kcbpb__Event ev = KCBPB__EVENT__INIT;
  Kcbpb__SourceMetadata sm = KCBPB__SOURCE_METADATA__INIT;
  sm.writer = WRITER_NAME;
  ev.wall_time = now;
  ev.what_case = KCBPB__EVENT__WHAT_FILE_VERSION;
  ev.file_version = "brain.Event:2";
  ev.source_metadata = &sm;
  unsigned char rec[128];
  size_t n = protobuf_c_message_pack(&ev.base, rec + KCB__RECORD_HEADER);
  kcb__record_frame(rec, rec + KCB__RECORD_HEADER, n);
  int e = write_all(w->fd, rec, n + KCB__RECORD_HEADER + KCB__RECORD_FOOTER, w->path);
  if (e) {
    int rc = kcb__error(kcb__error_from_errno(e), "%s: writing the first event failed: %s", w->path, strerror(e));
    unlink(w->path);
    destroy(w);
    return rc;
  }
  if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
    int rc = kcb__error(KCB_ENOMEM, "%s: cannot start the writer thread", w->path);
    destroy(w);
    return rc;
  }
  w->thread_started = 1;
  *out = w;
  return 0;
}
