/* io/h5.h — small HDF5 helpers that know nothing of models: files in memory, attributes and
 * datasets written as h5py writes them (spec/keras-hdf5.md §7), and tolerant readers (§1.3).
 * Every function returns 0 or a negative KCB_E* code with a message naming `file` and the object;
 * HDF5's own error stack is never printed, its innermost message is appended instead. */
#ifndef KCB_IO_H5_H
#define KCB_IO_H5_H

#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>

#include "internal.h"

#define KCB__H5_MAX_RANK 8
/* The longest HDF5 path kcb builds or reads in a checkpoint: a legacy .h5 names a layer twice in a
 * variable's path ("model_weights/NAME/sequential/NAME/kernel"), so layer names of up to about
 * 1,000 bytes; longer ones are refused by name, never cut short. */
#define KCB__H5_PATH_MAX 2304

/* Turns off HDF5's automatic error printing (for the calling thread: a threadsafe libhdf5 keeps
 * that setting per thread) and its filter plugins. Every entry point calls it. */
void kcb__h5_quiet(void);

/* kcb__error(code, "<file>: <what>: <HDF5's innermost message>"). */
int kcb__h5_fail(int code, const char *file, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* An HDF5 file held in memory (core driver, no backing store), with default creation
 * properties: superblock 0, old-style groups, as h5py writes. The driver's buffer is tracked
 * (file image callbacks) so its bytes can be written out without a copy. Must not move while
 * open. */
typedef struct kcb__h5_memory {
  hid_t file;
  void *buf;  /* the driver's current buffer */
  size_t cap; /* its size */
} kcb__h5_memory;

/* Creates the in-memory file; `size_hint` is the expected size in bytes (allocated at once). */
int kcb__h5_memory_create(kcb__h5_memory *mem, size_t size_hint, const char *file);
/* Flushes and returns the file's bytes, borrowed: valid until kcb__h5_memory_close. */
int kcb__h5_memory_image(kcb__h5_memory *mem, const void **data, size_t *len, const char *file);
/* Closes the file and frees its buffer. Accepts a zeroed or failed mem. */
void kcb__h5_memory_close(kcb__h5_memory *mem);
/* Opens a file read-only; distinguishes missing, truncated and non-HDF5 files. */
int kcb__h5_open(hid_t *out, const char *path);
/* Opens an HDF5 image held in memory (e.g. a member of a zip), read-only. */
int kcb__h5_open_image(hid_t *out, const void *buf, size_t len, const char *file);
/* Closes any HDF5 id (file, group, dataset...) if valid. */
void kcb__h5_close(hid_t id);

/* Creates group `name` (intermediate groups too) under parent. */
int kcb__h5_group_create(hid_t *out, hid_t parent, const char *name, const char *file);
/* Opens group `name`; KCB_EFORMAT naming it if missing. */
int kcb__h5_group_open(hid_t *out, hid_t parent, const char *name, const char *file);
/* kcb__h5_group_open for a layer a legacy file's layer_names lists: a missing group is said as
 * such (the name cut at 200 bytes), any other failure keeps its own message. */
int kcb__h5_listed_group_open(hid_t *out, hid_t parent, const char *name, const char *file);
/* Whether parent has a link `name` (a path with '/' is followed step by step). */
int kcb__h5_exists(hid_t parent, const char *name);
/* `a`/`b` into out (size bytes, at most KCB__H5_PATH_MAX): 0, or KCB_EFORMAT naming `file` and the
 * path's start when it does not fit (a name that long is refused, not cut short). */
int kcb__h5_path_join(char *out, size_t size, const char *a, const char *b, const char *file);
/* The number of links in a group. */
int kcb__h5_link_count(hid_t group, size_t *out, const char *file);
/* The names of a group's links, in name order; freed with kcb__h5_strings_free. */
int kcb__h5_link_names(hid_t group, char ***out, size_t *n, const char *file);
/* Whether the object has an attribute `name`. */
int kcb__h5_has_attr(hid_t obj, const char *name);

/* Attributes, typed as h5py types them: a Python str is vlen UTF-8 (utf8 = 1), bytes vlen ASCII;
 * a list of n strings is a 1-D vlen ASCII array, the empty list float64 with shape (0,). A list
 * whose n x longest name exceeds 64,512 bytes is split as Keras splits it: NAME0, NAME1, ... of
 * fixed-length strings. */
int kcb__h5_attr_write_string(hid_t obj, const char *name, const char *value, int utf8, const char *file);
int kcb__h5_attr_write_strings(hid_t obj, const char *name, const char *const *values, size_t n, const char *file);
int kcb__h5_attr_write_double(hid_t obj, const char *name, double value, const char *file);
int kcb__h5_attr_write_int64(hid_t obj, const char *name, int64_t value, const char *file);
int kcb__h5_attr_write_uint64s(hid_t obj, const char *name, const uint64_t *values, size_t n, const char *file);
int kcb__h5_attr_write_doubles(hid_t obj, const char *name, const double *values, size_t n, const char *file);

/* Reads a string-list attribute, vlen or fixed-length, ASCII or UTF-8, NULLPAD / NULLTERM /
 * SPACEPAD, scalar or 1-D; split attributes `name0`, `name1`... are concatenated when `name` is
 * absent; a missing attribute or one with no elements (any type) is the empty list.
 * *out is a malloc'd array of malloc'd strings, freed with kcb__h5_strings_free. */
int kcb__h5_attr_read_strings(hid_t obj, const char *name, char ***out, size_t *n, const char *file);
void kcb__h5_strings_free(char **values, size_t n);
/* Reads a scalar string attribute (either encoding) into a malloc'd string; KCB_EKEY if absent. */
int kcb__h5_attr_read_string(hid_t obj, const char *name, char **out, const char *file);
/* Reads a numeric scalar attribute; KCB_EKEY if absent. */
int kcb__h5_attr_read_double(hid_t obj, const char *name, double *out, const char *file);
int kcb__h5_attr_read_int64(hid_t obj, const char *name, int64_t *out, const char *file);
/* Reads exactly n unsigned 64-bit values. */
int kcb__h5_attr_read_uint64s(hid_t obj, const char *name, uint64_t *out, size_t n, const char *file);
int kcb__h5_attr_read_doubles(hid_t obj, const char *name, double *out, size_t n, const char *file);

/* Writes a float32 little-endian dataset (contiguous, no filters); rank 0 is a scalar.
 * '/' in name creates intermediate groups, as h5py does. */
int kcb__h5_dataset_write_float(hid_t parent, const char *name, int rank, const int64_t *shape, const float *data,
                                const char *file);
/* Writes an int32 little-endian scalar dataset. */
int kcb__h5_dataset_write_int32(hid_t parent, const char *name, int32_t value, const char *file);
/* A step count as Keras stores it, an int32 scalar; an int64 one past 2^31 - 1 (Keras reads either
 * into its int variable), where an int32 would wrap to a negative count. */
int kcb__h5_dataset_write_count(hid_t parent, const char *name, int64_t value, const char *file);
/* The shape of a dataset; rank 0 for a scalar. */
int kcb__h5_dataset_shape(hid_t parent, const char *name, int *rank, int64_t *shape, const char *file);
/* Reads a numeric dataset of exactly n elements, converting to float / int64. */
int kcb__h5_dataset_read_float(hid_t parent, const char *name, float *out, size_t n, const char *file);
int kcb__h5_dataset_read_int64(hid_t parent, const char *name, int64_t *out, const char *file);

/* What a dataset holds, without reading its data. */
typedef struct kcb__h5_dataset_desc {
  int rank;
  int64_t shape[KCB__H5_MAX_RANK];
  H5T_class_t cls; /* H5T_FLOAT, H5T_INTEGER, ... */
  size_t size;     /* bytes per element */
  int is_signed;   /* integers */
} kcb__h5_dataset_desc;
int kcb__h5_dataset_describe(hid_t parent, const char *name, kcb__h5_dataset_desc *out, const char *file);
/* Reads rows [first_row, first_row + n_rows) of dimension 0 (the whole scalar when rank is 0) as
 * memory type mtype into out, which holds n values. */
int kcb__h5_dataset_read_rows(hid_t parent, const char *name, hid_t mtype, int64_t first_row, int64_t n_rows, void *out,
                              size_t n, const char *file);
/* Writes a dataset of any file type (little-endian, contiguous, no filters) from memory type mtype. */
int kcb__h5_dataset_write_typed(hid_t parent, const char *name, hid_t ftype, hid_t mtype, int rank, const int64_t *shape,
                                const void *data, const char *file);
/* The file address of the object `name` (in the group at path `where`, for messages) links to: objects are allocated in creation order, so
 * sorting a group's members by address gives the order its writer created them in (h5py does
 * not track creation order, and names sort differently). */
int kcb__h5_object_addr(hid_t parent, const char *where, const char *name, uint64_t *addr, int *is_group,
                        const char *file);


#endif
