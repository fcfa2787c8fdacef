/* kcb/csv.h — reading the CSV files CSVLogger writes (and any table of numbers with a header row). */
#ifndef KCB_CSV_H
#define KCB_CSV_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A CSV file as a table of numbers: the header's column names and the rows below it. */
typedef struct kcb_csv_table {
  size_t n_columns;  /* columns in the header (every row has as many fields) */
  size_t n_rows;     /* data rows (the header not counted) */
  char **columns;    /* (n_columns) header names, unquoted; owned by the table */
  double *values;    /* (n_rows, n_columns) row-major; NaN for "NA" or an empty field; owned */
  char separator;    /* the separator the file was read with */
} kcb_csv_table;

/** Reads a CSV file: a header row, then rows of numbers (Python's float text: "0.25", "1e-07",
 * "nan", "inf"; "NA", an empty field, and the list CSVLogger writes for a log that is not one
 * number ("[1.5, 2.0]") read as NaN), fields quoted as the csv module quotes them,
 * lines ending in "\r\n" or "\n". Numbers are parsed locale-independently.
 * @param[out] out the table, freed with kcb_csv_table_free (emptied on error)
 * @param path the file
 * @param separator the field separator, or 0 to take the first of ',', ';', '\t', '|' found in the
 *        header (',' when none is)
 * @return 0, KCB_ENOENT / KCB_EIO (cannot read), KCB_ENOMEM, or KCB_EFORMAT for malformed input
 *         (no header, a row with the wrong number of fields, a field that is not a number, an
 *         unterminated quote); the message names the file, the line and the column. */
int kcb_csv_table_read(kcb_csv_table *out, const char *path, char separator);

/** The index of the column named `name`. @return its index, or -1 if there is none. */
int kcb_csv_table_column(const kcb_csv_table *t, const char *name);

/** The value at (row, column); NaN when out of range. */
double kcb_csv_table_value(const kcb_csv_table *t, size_t row, size_t column);

/** Frees what the table owns and empties it. Accepts NULL. */
void kcb_csv_table_free(kcb_csv_table *t);

#ifdef __cplusplus
}
#endif
#endif
