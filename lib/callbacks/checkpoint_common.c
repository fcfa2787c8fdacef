/* callbacks/checkpoint_common.c — the save_freq counter and directory creation shared by
 * ModelCheckpoint and BackupAndRestore. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "callbacks/checkpoint_internal.h"
#include "internal.h"

int kcb__save_counter_step(kcb__save_counter *c, int64_t save_freq, int64_t batch) {
  /* Keras: a batch index not past the last one seen means a new epoch began. */
  c->since_last_save += batch <= c->last_batch_seen ? batch + 1 : batch - c->last_batch_seen;
  c->last_batch_seen = batch;
  if (c->since_last_save >= save_freq) {
    c->since_last_save = 0;
    return 1;
  }
  return 0;
}

int kcb__mkdirs(const char *dir, const char *owner) {
  size_t n = strlen(dir);
  if (n == 0) return 0;
  char *p = malloc(n + 1);
  if (!p) return kcb__error(KCB_ENOMEM, "%s: out of memory", owner);
  memcpy(p, dir, n + 1);
  int rc = 0;
  for (size_t i = 1; i <= n && rc == 0; i++) {
    if (p[i] != '/' && p[i] != '\0') continue;
    char saved = p[i];
    p[i] = '\0';
    struct stat st;
    if (stat(p, &st) != 0) {
      if (mkdir(p, 0777) != 0 && errno != EEXIST)
        rc = kcb__error(kcb__error_from_errno(errno), "%s: cannot create directory %s: %s", owner, p, strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
      rc = kcb__error(KCB_EIO, "%s: %s exists and is not a directory", owner, p);
    }
    p[i] = saved;
  }
  free(p);
  return rc;
}

int kcb__mkdirs_for(const char *path, const char *owner) {
  const char *slash = strrchr(path, '/');
  if (!slash || slash == path) return 0;
  char *dir = malloc((size_t)(slash - path) + 1);
  if (!dir) return kcb__error(KCB_ENOMEM, "%s: out of memory", owner);
  memcpy(dir, path, (size_t)(slash - path));
  dir[slash - path] = '\0';
  int rc = kcb__mkdirs(dir, owner);
  free(dir);
  return rc;
}
