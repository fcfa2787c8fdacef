/* io/h5_guard.h — checks attribute messages and variable-length strings' global-heap references in
 * the file's own bytes before libhdf5 follows them. libhdf5 1.10 trusts both: a message shorter
 * than its contents, a bad heap object index or length, or a malformed collection makes it read out
 * of bounds, loop forever or allocate gigabytes (H5O_attr_decode, H5HG_read,
 * H5HG__cache_heap_deserialize, H5T__conv_vlen). Only read-only files with the sec2 or core
 * driver are checked. */
#ifndef KCB_IO_H5_GUARD_H
#define KCB_IO_H5_GUARD_H

#include <hdf5.h>
#include <stdint.h>

/* Checks attribute `name` of `obj` (a vlen string attribute of `count` elements): every non-null
 * element must name an existing object of a well-formed collection inside the file, whose size
 * is the element's length. Returns 0 (also when the attribute's bytes cannot be located, e.g.
 * dense attribute storage or a driver other than sec2/core), or KCB_EFORMAT with
 * "<file>: corrupt HDF5 global heap at offset N: ...". */
int kcb__h5_guard_vlen_attr(hid_t obj, const char *name, long long count, const char *file);

/* Checks every attribute message in the object header of `obj` (a file's root group or a group)
 * for what libhdf5 1.10's attribute decoder does not check: a name without its NUL, name, type,
 * shape or data past the message. Call before H5Aexists / H5Aopen on obj. Returns 0 (also when the
 * header cannot be located) or KCB_EFORMAT with "<file>: corrupt HDF5 attribute in the object
 * header at offset N: ...". */
int kcb__h5_guard_attr_messages(hid_t obj, const char *file);

/* Checks that the object header at address `addr` of the file `loc` belongs to (the address a
 * hard link's H5L_info_t gives) has its chunks inside the file (libhdf5 allocates the size the
 * header claims before reading it), then its messages as kcb__h5_guard_attr_messages does. Call
 * before opening or looking inside the object. 0, or KCB_EFORMAT with "<file>: corrupt HDF5 ...
 * in the object header at offset N: ...". */
int kcb__h5_guard_object(hid_t loc, uint64_t addr, const char *file);

/* The same for the root group, from the file's bytes before H5Fopen: `image` (len bytes) or, if
 * image is NULL, the file at `path`. */
int kcb__h5_guard_root(const void *image, size_t len, const char *path, const char *file);

#endif
