/* fuzz_csv — CSV logs as kcb-restore and kcb-inspect read them: any bytes give a table or a clear error. */
#include <stdint.h>

#include "fuzz_input_file.h"
#include "kcb/kcb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_input_file(data, size, ".csv");
  kcb_csv_table t;
  if (path && kcb_csv_table_read(&t, path, 0) == 0) {
    for (size_t c = 0; c < t.n_columns; c++) (void)kcb_csv_table_column(&t, t.columns[c]);
    kcb_csv_table_free(&t);
  }
  return 0;
}
