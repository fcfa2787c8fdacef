/* io/csv — writing CSV rows exactly as Python's csv module writes them with Keras's CSVLogger
 * (excel dialect: QUOTE_MINIMAL with '"', doubled quotes, "\r\n" line ends), numbers as Python's
 * repr (shortest round-trip text, locale-independent), "NA" for a missing value. */
#ifndef KCB_IO_CSV_H
#define KCB_IO_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "kcb/csv.h"

/* One row being built; the buffer is reused from row to row. */
typedef struct kcb__csv_row {
  char *text;
  size_t len, cap;
  size_t n_fields;
  char separator;
} kcb__csv_row;

void kcb__csv_row_init(kcb__csv_row *r, char separator);
/* Appends a text field, quoted when it holds the separator, a quote, '\r' or '\n'. */
int kcb__csv_row_add_text(kcb__csv_row *r, const char *field);
/* Appends a number as Python's str(float) prints it ("0.1", "1e-07", "nan", "inf"). */
int kcb__csv_row_add_number(kcb__csv_row *r, double v);
/* Appends an integer (Keras's epoch column). */
int kcb__csv_row_add_int(kcb__csv_row *r, long long v);
/* Appends a list of numbers as Keras's CSVLogger writes an array value: the text "[a, b, c]"
 * wrapped in literal quotes, so the csv quoting doubles them. */
int kcb__csv_row_add_list(kcb__csv_row *r, const float *values, size_t n);
/* Writes the row and "\r\n" to f and flushes it, then empties the row. `path` names the file in
 * errors. @return 0 or KCB_EIO / KCB_ENOSPC. */
int kcb__csv_row_write(kcb__csv_row *r, FILE *f, const char *path);
void kcb__csv_row_free(kcb__csv_row *r);

#endif
