/* callbacks/logs.c — Keras's logs dict: sorted keys (then the keys callbacks added during the
 * hook, in order), fixed capacity, no allocation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void kcb_logs_clear(kcb_logs *logs) {
  if (!logs) return;
  logs->count = 0;
  logs->n_sorted = 0;
  logs->append_new = 0;
}

/* Binary search of the sorted part, then a look through the short appended tail; returns the index
 * of key, or where it would be inserted in the sorted part, and whether found. */
static size_t logs_position(const kcb_logs *logs, const char *key, int *found) {
  for (size_t i = logs->n_sorted; i < logs->count; i++)
    if (strcmp(logs->entries[i].key, key) == 0) {
      *found = 1;
      return i;
    }
  size_t lo = 0, hi = logs->n_sorted;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strcmp(logs->entries[mid].key, key);
    if (c == 0) {
      *found = 1;
      return mid;
    }
    if (c < 0) lo = mid + 1; else hi = mid;
  }
  *found = 0;
  return lo;
}

static int logs_put(kcb_logs *logs, const char *key, double value, const kcb_tensor *tensor) {
  if (!logs) return kcb__error(KCB_EINVAL, "logs is NULL");
  if (!key) return kcb__error(KCB_EINVAL, "logs key is NULL");
  size_t len = strlen(key);
  if (len == 0 || len >= KCB_LOGS_KEY_MAX)
    return kcb__error(KCB_EINVAL, "logs key '%s' is empty or longer than %d characters", key, KCB_LOGS_KEY_MAX - 1);
  int found;
  size_t i = logs_position(logs, key, &found);
  if (!found) {
    if (logs->count == KCB_LOGS_CAPACITY)
      return kcb__error(KCB_ENOMEM, "logs are full (%d keys) adding '%s'", KCB_LOGS_CAPACITY, key);
    if (logs->append_new) {
      i = logs->count;
    } else {
      memmove(&logs->entries[i + 1], &logs->entries[i], (logs->count - i) * sizeof logs->entries[0]);
      logs->n_sorted++;
    }
    memcpy(logs->entries[i].key, key, len + 1);
    logs->count++;
  }
  logs->entries[i].value = value;
  logs->entries[i].tensor = tensor;
  return 0;
}

int kcb_logs_set(kcb_logs *logs, const char *key, double value) { return logs_put(logs, key, value, NULL); }

int kcb_logs_set_tensor(kcb_logs *logs, const char *key, const kcb_tensor *tensor) {
  return logs_put(logs, key, NAN, tensor);
}

const kcb_log_entry *kcb_logs_find(const kcb_logs *logs, const char *key) {
  if (!logs || !key) return NULL;
  int found;
  size_t i = logs_position(logs, key, &found);
  return found ? &logs->entries[i] : NULL;
}

int kcb_logs_get(const kcb_logs *logs, const char *key, double *out) {
  const kcb_log_entry *e = kcb_logs_find(logs, key);
  if (!e || e->tensor) return 0;
  if (out) *out = e->value;
  return 1;
}

int kcb_logs_remove(kcb_logs *logs, const char *key) {
  if (!logs || !key) return 0;
  int found;
  size_t i = logs_position(logs, key, &found);
  if (!found) return 0;
  memmove(&logs->entries[i], &logs->entries[i + 1], (logs->count - i - 1) * sizeof logs->entries[0]);
  if (i < logs->n_sorted) logs->n_sorted--;
  logs->count--;
  return 1;
}

void kcb_logs_copy(kcb_logs *dst, const kcb_logs *src) {
  if (!dst || !src) return;
  dst->count = src->count;
  dst->n_sorted = src->n_sorted;
  dst->append_new = src->append_new;
  memcpy(dst->entries, src->entries, src->count * sizeof src->entries[0]);
}

char *kcb_logs_keys_string(const kcb_logs *logs, char *buf, size_t size) {
  if (!logs) {
    kcb__strlcpy(buf, "[]", size);
    return buf;
  }
  size_t used = 0;
  if (size == 0) return buf;
  used += (size_t)snprintf(buf, size, "[");
  for (size_t i = 0; i < logs->count && used < size; i++)
    used += (size_t)snprintf(buf + used, size - used, "%s'%s'", i ? ", " : "", logs->entries[i].key);
  if (used < size) snprintf(buf + used, size - used, "]");
  return buf;
}

static int entry_order(const void *a, const void *b) {
  return strcmp(((const kcb_log_entry *)a)->key, ((const kcb_log_entry *)b)->key);
}

void kcb__logs_begin_hook(kcb_logs *logs) {
  if (logs->n_sorted < logs->count) /* Keras sorts the dict it hands to each hook */
    qsort(logs->entries, logs->count, sizeof logs->entries[0], entry_order);
  logs->n_sorted = logs->count;
  logs->append_new = 1;
}
