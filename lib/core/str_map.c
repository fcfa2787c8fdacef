/* core/str_map.c — see kcb__str_map in internal.h. Open addressing with linear probing over a
 * power-of-two table at most half full; FNV-1a hashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static uint64_t hash_of(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

int kcb__str_map_init(kcb__str_map *m, size_t n) {
  size_t cap = 16;
  while (cap < 2 * n + 2) {
    if (cap > SIZE_MAX / 4 / sizeof *m->slot) return kcb__error(KCB_ENOMEM, "out of memory for a table of %zu names", n);
    cap *= 2;
  }
  m->cap = cap;
  m->n = 0;
  m->slot = calloc(cap, sizeof *m->slot);
  return m->slot ? 0 : kcb__error(KCB_ENOMEM, "out of memory for a table of %zu names", n);
}

void kcb__str_map_free(kcb__str_map *m) {
  free(m->slot);
  m->slot = NULL;
  m->cap = m->n = 0;
}

int kcb__str_map_put(kcb__str_map *m, const char *key, long value) {
  if (!m->slot || 2 * (m->n + 1) > m->cap) return 0; /* sized by init: never full */
  for (size_t i = hash_of(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
    if (!m->slot[i].key) {
      m->slot[i].key = key, m->slot[i].value = value, m->n++;
      return 1;
    }
    if (strcmp(m->slot[i].key, key) == 0) return 0;
  }
}

long kcb__str_map_get(const kcb__str_map *m, const char *key) {
  if (!m->slot) return -1;
  for (size_t i = hash_of(key) & (m->cap - 1); m->slot[i].key; i = (i + 1) & (m->cap - 1))
    if (strcmp(m->slot[i].key, key) == 0) return m->slot[i].value;
  return -1;
}
