/* fuzz_csv — CSV logs as kcb-restore and kcb-inspect read them: any bytes give a table or a clear
 * error. Then the same bytes as a file CSVLogger appends to (issue 15 #7): it either refuses and
 * leaves them unchanged, or keeps them as they are, mends a missing final line end, and adds one
 * row that reads back (when the bytes were a readable table). A broken promise traps. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input_file.h"
#include "kcb/kcb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char *slurp(const char *path, size_t *len) {
  char *text = NULL;
  if (kcb_file_read(path, 0, &text, len) != 0) return NULL;
  return (unsigned char *)text;
}

static void check_append_at(const char *path, const uint8_t *data, size_t size, int readable, size_t rows) {
  FILE *f = fopen(path, "wb");
  if (!f) return;
  size_t wrote = fwrite(data, 1, size, f);
  if (fclose(f) != 0 || wrote != size) return;
  kcb_callback *cb = NULL;
  kcb_csv_logger_options o = KCB_CSV_LOGGER_OPTIONS_INIT;
  o.append = 1;
  if (kcb_csv_logger_new(&cb, path, &o) != 0) return;
  kcb_callback_list list = {0};
  kcb_logs logs;
  kcb_logs_clear(&logs);
  int rc = kcb_callback_list_add(&list, cb);
  if (rc == 0) rc = kcb_callback_list_call(&list, KCB_HOOK_TRAIN_BEGIN, 0, &logs);
  if (rc == 0) rc = kcb_logs_set(&logs, "loss", 0.5);
  if (rc == 0) rc = kcb_callback_list_call(&list, KCB_HOOK_EPOCH_END, 0, &logs);
  int end = kcb_callback_list_call(&list, KCB_HOOK_TRAIN_END, 0, &logs);
  if (rc == 0) rc = end;
  kcb_callback_free(cb);
  size_t len = 0;
  unsigned char *after = slurp(path, &len);
  if (!after) return;
  if (len < size || memcmp(after, data, size) != 0) __builtin_trap(); /* the old bytes are never changed */
  if (rc != 0 && len != size) __builtin_trap();                       /* refused: nothing added */
  /* a byte order mark alone (a spreadsheet's empty sheet) is an empty log: the header comes first */
  int bom_only = size == 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0;
  if (rc == 0 && bom_only) {
    static const char want[] = "epoch,loss\r\n0,0.5\r\n";
    if (len != size + sizeof want - 1 || memcmp(after + size, want, sizeof want - 1) != 0) __builtin_trap();
  } else if (rc == 0 && size > 0) {
    /* the mended line end: none after \n (or after \r in a log of \r line ends alone), the \n of
     * a \r\n cut after its \r, else \r\n */
    size_t extra = data[size - 1] == '\n' ? 0 : data[size - 1] == '\r' ? (memchr(data, '\n', size) ? 1 : 0) : 2;
    static const char *const mends[3] = {"", "\n", "\r\n"};
    if (extra && memcmp(after + size, mends[extra], extra) != 0) __builtin_trap();
    if (memcmp(after + size + extra, "0,0.5\r\n", 7) != 0 || len != size + extra + 7) __builtin_trap();
    kcb_csv_table t;
    if (readable && kcb_csv_table_read(&t, path, 0) == 0) {
      if (t.n_rows != rows + 1) __builtin_trap();
      kcb_csv_table_free(&t);
    } else if (readable) {
      __builtin_trap();
    }
  }
  free(after);
}

static void check_append(const uint8_t *data, size_t size, int readable, size_t rows) {
  char path[128];
  snprintf(path, sizeof path, "/tmp/kcb_fuzz_%ld.append.csv", (long)getpid());
  check_append_at(path, data, size, readable, rows);
  remove(path); /* nothing left in /tmp by a run */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_input_file(data, size, ".csv");
  kcb_csv_table t;
  int readable = 0;
  size_t rows = 0;
  if (path && kcb_csv_table_read(&t, path, 0) == 0) {
    for (size_t c = 0; c < t.n_columns; c++) (void)kcb_csv_table_column(&t, t.columns[c]);
    readable = t.n_columns == 2 && strcmp(t.columns[0], "epoch") == 0 && strcmp(t.columns[1], "loss") == 0;
    rows = t.n_rows;
    kcb_csv_table_free(&t);
  }
  check_append(data, size, readable, rows);
  return 0;
}
