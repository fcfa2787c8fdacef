/* kcb/logs.h — the `logs` a hook receives: names mapped to values, keys in sorted order. */
#ifndef KCB_LOGS_H
#define KCB_LOGS_H

#include <stddef.h>

#include "kcb/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The most entries one logs object holds, and the longest key (with its NUL). */
#define KCB_LOGS_CAPACITY 48
#define KCB_LOGS_KEY_MAX 64

/** One entry: a scalar, or (for predict's "outputs") a borrowed tensor. */
typedef struct kcb_log_entry {
  char key[KCB_LOGS_KEY_MAX];
  double value;                 /* the scalar; NaN for a tensor entry */
  const kcb_tensor *tensor;     /* non-NULL for a non-scalar entry; borrowed for the hook's duration */
} kcb_log_entry;

/** Keras's `logs` dict: fixed capacity, no allocation. As in Keras 3, the keys a hook receives are
 * sorted, and a key a callback adds during the hook (e.g. `learning_rate`) comes after them, in the
 * order added: entries[0, n_sorted) are sorted, entries[n_sorted, count) are that appended tail.
 * One object is passed to every callback of a hook in turn, so a change one callback makes is seen
 * by the callbacks after it, as in Keras. */
typedef struct kcb_logs {
  size_t count;
  size_t n_sorted;  /* entries before this index are in sorted order */
  int append_new;   /* set while a hook runs: new keys go to the tail */
  kcb_log_entry entries[KCB_LOGS_CAPACITY];
} kcb_logs;

/** Empties logs (NULL: nothing to do). */
void kcb_logs_clear(kcb_logs *logs);

/** Sets key to a scalar value, replacing its value, or adding it: in sorted position, or during a
 * hook at the end (as a Python dict does).
 * @return 0, KCB_EINVAL (key empty or too long) or KCB_ENOMEM (capacity reached). */
int kcb_logs_set(kcb_logs *logs, const char *key, double value);

/** Sets key to a borrowed tensor (a non-scalar value). @return as kcb_logs_set. */
int kcb_logs_set_tensor(kcb_logs *logs, const char *key, const kcb_tensor *tensor);

/** Looks key up. @param[out] out receives the value if found (may be NULL).
 * @return 1 if found as a scalar, 0 if absent or not a scalar. */
int kcb_logs_get(const kcb_logs *logs, const char *key, double *out);

/** The entry for key, or NULL. The pointer is valid until logs change. */
const kcb_log_entry *kcb_logs_find(const kcb_logs *logs, const char *key);

/** Removes key if present. @return 1 if it was present, else 0. */
int kcb_logs_remove(kcb_logs *logs, const char *key);

/** Copies src into dst (tensor entries stay borrowed). */
void kcb_logs_copy(kcb_logs *dst, const kcb_logs *src);

/** Writes the keys as Python prints a list, e.g. "['accuracy', 'loss']", into buf
 * (always NUL-terminated; "[]" for NULL logs). @return buf. */
char *kcb_logs_keys_string(const kcb_logs *logs, char *buf, size_t size);

/** Writes v as Python's repr() prints a float: the shortest text that parses back to the same
 * double ("0.1", "1e-07", "0.0010000000474974513", "nan", "inf"), the form Keras's logs, CSV
 * files and messages use. buf should hold 32 bytes; the text is always NUL-terminated. @return buf. */
char *kcb_format_double(double v, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
