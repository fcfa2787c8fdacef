/* io/profile_trace.c — kcb_profiler: spans in memory, written as Chrome trace-event JSON
 * (the "Trace Event Format": complete events, ph "X", microsecond ts/dur), optionally gzip'd. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "internal.h"
#include "kcb/profiler.h"

typedef struct span {
  char name[64], category[16];
  double start, end;
  int lane;
  const char *arg_name;
  int64_t arg;
} span;

struct kcb_profiler {
  pthread_mutex_t mu;
  span *spans;
  size_t n, cap;
};

int kcb_profiler_new(kcb_profiler **out) {
  if (!out) return kcb__error(KCB_EINVAL, "profiler: out is NULL");
  *out = calloc(1, sizeof **out);
  if (!*out) return kcb__error(KCB_ENOMEM, "profiler: out of memory");
  pthread_mutex_init(&(*out)->mu, NULL);
  return 0;
}

void kcb_profiler_free(kcb_profiler *p) {
  if (!p) return;
  pthread_mutex_destroy(&p->mu);
  free(p->spans);
  free(p);
}

double kcb_profiler_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int kcb_profiler_add(kcb_profiler *p, const char *name, const char *category, double start, double end, int lane,
                     const char *arg_name, int64_t arg) {
  if (!p) return kcb__error(KCB_EINVAL, "profiler: NULL profiler");
  pthread_mutex_lock(&p->mu);
  if (p->n == p->cap) {
    size_t cap = p->cap ? 2 * p->cap : 256;
    span *s = realloc(p->spans, cap * sizeof *s);
    if (!s) {
      pthread_mutex_unlock(&p->mu);
      return kcb__error(KCB_ENOMEM, "profiler: out of memory for %zu spans", cap);
    }
    p->spans = s;
    p->cap = cap;
  }
  span *s = &p->spans[p->n++];
  kcb__strlcpy(s->name, name ? name : "", sizeof s->name);
  kcb__strlcpy(s->category, category ? category : "", sizeof s->category);
  s->start = start;
  s->end = end > start ? end : start;
  s->lane = lane;
  s->arg_name = arg_name;
  s->arg = arg;
  pthread_mutex_unlock(&p->mu);
  return 0;
}

size_t kcb_profiler_count(const kcb_profiler *p) { return p ? p->n : 0; }

/* A JSON string: quote, backslash and control characters escaped. */
static void put_json_str(char **o, const char *s) {
  char *p = *o;
  *p++ = '"';
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') *p++ = '\\', *p++ = (char)c;
    else if (c < 0x20) p += sprintf(p, "\\u%04x", c);
    else *p++ = (char)c;
  }
  *p++ = '"';
  *o = p;
}

static int gzip(const char *in, size_t len, unsigned char **out, size_t *out_len) {
  z_stream z;
  memset(&z, 0, sizeof z);
  /* windowBits 15 + 16: a gzip header and trailer, which both trace viewers accept */
  if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return -1;
  size_t cap = deflateBound(&z, (uLong)len) + 32;
  *out = malloc(cap);
  if (!*out) {
    deflateEnd(&z);
    return -1;
  }
  z.next_in = (Bytef *)in;
  z.avail_in = (uInt)len;
  z.next_out = *out;
  z.avail_out = (uInt)cap;
  int rc = deflate(&z, Z_FINISH);
  *out_len = z.total_out;
  deflateEnd(&z);
  return rc == Z_STREAM_END ? 0 : -1;
}

int kcb_profiler_write(const kcb_profiler *p, const char *path) {
  if (!p || p->n == 0) return kcb__error(KCB_EINVAL, "profiler: %s: no spans recorded", path ? path : "");
  double t0 = p->spans[0].start;
  for (size_t i = 1; i < p->n; i++)
    if (p->spans[i].start < t0) t0 = p->spans[i].start;
  /* every span is at most ~300 bytes of JSON: names are bounded, escapes at most 6x */
  size_t cap = 512 + p->n * (64 * 6 + 16 * 6 + 200);
  char *json = malloc(cap), *o = json;
  if (!json) return kcb__error(KCB_ENOMEM, "profiler: out of memory");
  o += sprintf(o, "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"writer\":\"kcb\"},\"traceEvents\":[\n"
                  "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%d,\"args\":{\"name\":\"kcb fit\"}},\n"
                  "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%d,\"args\":{\"name\":\"training\"}},\n"
                  "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%d,\"args\":{\"name\":\"event writer threads\"}},\n"
                  "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%d,\"args\":{\"name\":\"batches\"}}",
               KCB_PROFILE_LANE_TRAINING, KCB_PROFILE_LANE_TRAINING, KCB_PROFILE_LANE_WRITER, KCB_PROFILE_LANE_BATCHES);
  for (size_t i = 0; i < p->n; i++) {
    const span *s = &p->spans[i];
    o += sprintf(o, ",\n{\"name\":");
    put_json_str(&o, s->name);
    o += sprintf(o, ",\"cat\":");
    put_json_str(&o, s->category);
    /* microseconds with a nanosecond fraction, locale-independent (integers and a '.') */
    long long ts_ns = (long long)((s->start - t0) * 1e9 + 0.5), dur_ns = (long long)((s->end - s->start) * 1e9 + 0.5);
    o += sprintf(o, ",\"ph\":\"X\",\"ts\":%lld.%03lld,\"dur\":%lld.%03lld,\"pid\":1,\"tid\":%d", ts_ns / 1000,
                 ts_ns % 1000, dur_ns / 1000, dur_ns % 1000, s->lane);
    if (s->arg_name && s->arg >= 0) {
      o += sprintf(o, ",\"args\":{");
      put_json_str(&o, s->arg_name);
      o += sprintf(o, ":%lld}", (long long)s->arg);
    }
    *o++ = '}';
  }
  o += sprintf(o, "\n]}\n");
  size_t len = (size_t)(o - json);
  int rc = kcb__mkdirs_for(path, "profiler");
  size_t plen = strlen(path);
  if (!rc && plen > 3 && strcmp(path + plen - 3, ".gz") == 0) {
    unsigned char *z = NULL;
    size_t z_len = 0;
    if (gzip(json, len, &z, &z_len)) rc = kcb__error(KCB_ENOMEM, "profiler: %s: gzip failed", path);
    else rc = kcb__file_write_atomic(path, z, z_len);
    free(z);
  } else if (!rc) {
    rc = kcb__file_write_atomic(path, json, len);
  }
  free(json);
  return rc;
}
