/* io/h5.c — HDF5 helpers (see h5.h). HDF5 calls report failures through its error stack, which
 * we silence and fold into kcb's message, so the library never prints. */
#include "io/h5.h"

#include "io/h5_guard.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_once_t plugins_once = PTHREAD_ONCE_INIT;
/* A threadsafe libhdf5 keeps an error stack, and whether it prints, for each thread. */
static _Thread_local int thread_quiet;
/* Numbers the names of in-memory files: libhdf5 takes a second file of an open file's name for
 * that file (a create fails, an open shares the first one's bytes). */
static atomic_ulong image_serial;

/* HDF5 descriptions of failed writes run long (time, file name, errno, sizes). */
#define DETAIL_SIZE 1024

/* Also: no filter plugins. A dataset naming an unknown filter would make libhdf5 load a shared
 * library from HDF5_PLUGIN_PATH; kcb's files use none, and a file must not choose code to run. */
static void no_plugins(void) { (void)H5PLset_loading_state(0); }

void kcb__h5_quiet(void) {
  pthread_once(&plugins_once, no_plugins);
  if (!thread_quiet) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    thread_quiet = 1;
  }
}

/* A name no other open in-memory file has and no real file can have (a core-driver create first
 * reads an existing file of its name whole). */
static void image_name(char *name, size_t size) {
  snprintf(name, size, "/dev/null/kcb-in-memory-%ld-%lu.h5", (long)getpid(), atomic_fetch_add(&image_serial, 1));
}

/* The innermost (most specific) description on HDF5's error stack. */
static herr_t innermost(unsigned n, const H5E_error2_t *e, void *data) {
  (void)n;
  if (e->desc && e->desc[0]) kcb__strlcpy(data, e->desc, DETAIL_SIZE);
  return 0;
}

int kcb__h5_fail(int code, const char *file, const char *fmt, ...) {
  char what[512], detail[DETAIL_SIZE] = "";
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, innermost, detail);
  H5Eclear2(H5E_DEFAULT);
  /* A failed write() shows as "file write failed: time = ..., errno = 28, error message = '...'":
   * keep the system's message, and report a full disk as such. */
  const char *sys = strstr(detail, "error message = '");
  if (sys) {
    char msg[96];
    kcb__strlcpy(msg, sys + 17, sizeof msg);
    char *quote = strchr(msg, '\'');
    if (quote) *quote = '\0';
    if (strstr(detail, "errno = 28,") && code == KCB_EIO) code = KCB_ENOSPC;
    snprintf(detail, sizeof detail, "write failed: %s", msg);
  }
  if (detail[0]) return kcb__error(code, "%s: %s (HDF5: %s)", file, what, detail);
  return kcb__error(code, "%s: %s", file, what);
}

void kcb__h5_close(hid_t id) {
  if (id < 0) return;
  switch (H5Iget_type(id)) {
    case H5I_FILE: H5Fclose(id); break;
    case H5I_GROUP: H5Gclose(id); break;
    case H5I_DATASET: H5Dclose(id); break;
    case H5I_ATTR: H5Aclose(id); break;
    case H5I_DATATYPE: H5Tclose(id); break;
    case H5I_DATASPACE: H5Sclose(id); break;
    case H5I_GENPROP_LST: H5Pclose(id); break;
    default: break;
  }
}

/* File image callbacks: plain malloc/realloc/free that remember the driver's buffer. */
static void *image_malloc(size_t size, H5FD_file_image_op_t op, void *udata) {
  kcb__h5_memory *mem = udata;
  void *p = malloc(size);
  if (p && op == H5FD_FILE_IMAGE_OP_FILE_RESIZE) mem->buf = p, mem->cap = size;
  return p;
}

static void *image_memcpy(void *dst, const void *src, size_t size, H5FD_file_image_op_t op, void *udata) {
  (void)op;
  (void)udata;
  return memcpy(dst, src, size);
}

static void *image_realloc(void *ptr, size_t size, H5FD_file_image_op_t op, void *udata) {
  kcb__h5_memory *mem = udata;
  void *p = realloc(ptr, size);
  if (p && op == H5FD_FILE_IMAGE_OP_FILE_RESIZE) mem->buf = p, mem->cap = size;
  return p;
}

static herr_t image_free(void *ptr, H5FD_file_image_op_t op, void *udata) {
  kcb__h5_memory *mem = udata;
  (void)op;
  if (ptr && ptr == mem->buf) mem->buf = NULL, mem->cap = 0;
  free(ptr);
  return 0;
}

/* The fapl is copied by H5Fcreate: every copy shares the one tracker. */
static void *udata_copy(void *udata) { return udata; }
static herr_t udata_free(void *udata) {
  (void)udata;
  return 0;
}

int kcb__h5_memory_create(kcb__h5_memory *mem, size_t size_hint, const char *file) {
  kcb__h5_quiet();
  memset(mem, 0, sizeof *mem);
  mem->file = H5I_INVALID_HID;
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  size_t increment = size_hint > ((size_t)1 << 20) ? size_hint : (size_t)1 << 20;
  H5FD_file_image_callbacks_t cb = {image_malloc, image_memcpy, image_realloc, image_free, udata_copy, udata_free, mem};
  if (fapl < 0 || H5Pset_fapl_core(fapl, increment, 0) < 0 || H5Pset_file_image_callbacks(fapl, &cb) < 0) {
    kcb__h5_close(fapl);
    return kcb__h5_fail(KCB_EIO, file, "cannot set up an in-memory HDF5 file");
  }
  char name[96];
  image_name(name, sizeof name);
  mem->file = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  if (mem->file < 0) return kcb__h5_fail(KCB_EIO, file, "cannot create an in-memory HDF5 file");
  return 0;
}

int kcb__h5_memory_image(kcb__h5_memory *mem, const void **data, size_t *len, const char *file) {
  *data = NULL;
  *len = 0;
  if (H5Fflush(mem->file, H5F_SCOPE_GLOBAL) < 0) return kcb__h5_fail(KCB_EIO, file, "cannot flush the HDF5 file");
  ssize_t size = H5Fget_file_image(mem->file, NULL, 0); /* the used size (end of allocated space) */
  if (size <= 0) return kcb__h5_fail(KCB_EIO, file, "cannot get the HDF5 file image");
  if (!mem->buf || (size_t)size > mem->cap)
    return kcb__error(KCB_EIO, "%s: the in-memory HDF5 file's buffer is not where expected", file);
  *data = mem->buf;
  *len = (size_t)size;
  return 0;
}

void kcb__h5_memory_close(kcb__h5_memory *mem) {
  kcb__h5_close(mem->file);
  mem->file = H5I_INVALID_HID;
}

/* libhdf5 1.10 decodes attribute messages unchecked: check the root group's before any is read. */
static int guard_root(hid_t *file_id, const char *file) {
  int rc = kcb__h5_guard_attr_messages(*file_id, file);
  if (rc) {
    kcb__h5_close(*file_id);
    *file_id = H5I_INVALID_HID;
  }
  return rc;
}

int kcb__h5_open(hid_t *out, const char *path) {
  kcb__h5_quiet();
  *out = H5I_INVALID_HID;
  struct stat st;
  if (stat(path, &st) != 0) return kcb__error(kcb__error_from_errno(errno), "%s: %s", path, strerror(errno));
  int rc = kcb__file_check_regular(path, NULL); /* libhdf5 opens by name: a FIFO would block it */
  if (rc) return rc;
  htri_t is = H5Fis_hdf5(path);
  if (is <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return kcb__error(KCB_EFORMAT, "%s: not an HDF5 file (no HDF5 signature)", path);
  }
  rc = kcb__h5_guard_root(NULL, 0, path, path);
  if (rc) return rc;
  *out = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (*out < 0) {
    char detail[DETAIL_SIZE] = "";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, innermost, detail);
    /* HDF5's file lock, taken by a writer (h5py, Keras saving): the file is not damaged, only busy */
    if (strstr(detail, "temporarily unavailable") || strstr(detail, "unable to lock"))
      return kcb__h5_fail(KCB_EIO, path, "cannot open the HDF5 file: another process holds it open for writing "
                          "(a run still saving it?); try again when it is done");
    int code = strstr(detail, "truncated") ? KCB_ETRUNC : KCB_EFORMAT;
    return kcb__h5_fail(code, path, "cannot open the HDF5 file (corrupt or truncated)");
  }
  return guard_root(out, path);
}

/* A read-only image opened in place: libhdf5 would otherwise copy the caller's bytes twice (into
 * the property list, then into the core driver), so a .keras of 1 GB of weights took 3 GB to
 * open. Every "allocation" of the image's size is the caller's buffer, every copy of it onto itself
 * is nothing, and nothing is freed: the caller keeps the bytes until the file is closed (which the
 * strong close degree makes final). The view is shared by every copy of the property list and the
 * file, and freed with the last. */
typedef struct image_view {
  const void *buf;
  size_t len;
  int refs;
} image_view;

static void *view_malloc(size_t size, H5FD_file_image_op_t op, void *udata) {
  const image_view *v = udata;
  (void)op;
  return size == v->len ? (void *)v->buf : NULL;
}
static void *view_memcpy(void *dest, const void *src, size_t size, H5FD_file_image_op_t op, void *udata) {
  (void)op, (void)udata;
  return dest == src ? dest : memcpy(dest, src, size);
}
static void *view_realloc(void *ptr, size_t size, H5FD_file_image_op_t op, void *udata) {
  (void)ptr, (void)size, (void)op, (void)udata;
  return NULL; /* read-only: never grown */
}
static herr_t view_free(void *ptr, H5FD_file_image_op_t op, void *udata) {
  (void)ptr, (void)op, (void)udata;
  return 0;
}
static void *view_copy(void *udata) {
  ((image_view *)udata)->refs++; /* libhdf5 calls it under its global lock */
  return udata;
}
static herr_t view_release(void *udata) {
  image_view *v = udata;
  if (--v->refs == 0) free(v);
  return 0;
}

int kcb__h5_open_image(hid_t *out, const void *buf, size_t len, const char *file) {
  kcb__h5_quiet();
  *out = H5I_INVALID_HID;
  size_t at = 0; /* the superblock: at 0, or after a user block of 512 bytes, 1024, ... */
  while (at + 8 <= len && memcmp((const char *)buf + at, "\211HDF\r\n\032\n", 8) != 0) at = at ? 2 * at : 512;
  if (at + 8 > len) return kcb__error(KCB_EFORMAT, "%s: not an HDF5 file (no HDF5 signature)", file);
  int rc = kcb__h5_guard_root(buf, len, NULL, file);
  if (rc) return rc;
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  image_view *view = malloc(sizeof *view);
  if (!view) {
    kcb__h5_close(fapl);
    return kcb__error(KCB_ENOMEM, "%s: out of memory", file);
  }
  *view = (image_view){buf, len, 1}; /* this function's reference, dropped below */
  H5FD_file_image_callbacks_t cb = {view_malloc, view_memcpy, view_realloc, view_free, view_copy, view_release, view};
  if (fapl < 0 || H5Pset_fapl_core(fapl, (size_t)1 << 20, 0) < 0 || H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0 ||
      H5Pset_file_image_callbacks(fapl, &cb) < 0 || H5Pset_file_image(fapl, (void *)buf, len) < 0) {
    kcb__h5_close(fapl);
    view_release(view);
    return kcb__h5_fail(KCB_EIO, file, "cannot set up an HDF5 file image");
  }
  char name[96];
  image_name(name, sizeof name);
  *out = H5Fopen(name, H5F_ACC_RDONLY, fapl);
  H5Pclose(fapl);
  view_release(view);
  if (*out < 0) {
    char detail[DETAIL_SIZE] = "";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, innermost, detail);
    return kcb__h5_fail(strstr(detail, "truncated") ? KCB_ETRUNC : KCB_EFORMAT, file,
                        "cannot open the HDF5 image (corrupt or truncated)");
  }
  return guard_root(out, file);
}

static hid_t intermediate_lcpl(void) {
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  if (lcpl >= 0) H5Pset_create_intermediate_group(lcpl, 1);
  return lcpl;
}

int kcb__h5_group_create(hid_t *out, hid_t parent, const char *name, const char *file) {
  hid_t lcpl = intermediate_lcpl();
  *out = H5Gcreate2(parent, name, lcpl, H5P_DEFAULT, H5P_DEFAULT);
  kcb__h5_close(lcpl);
  if (*out < 0) return kcb__h5_fail(KCB_EIO, file, "cannot create group '%s'", name);
  return 0;
}

/* Walks `name` from parent one link at a time, looking each up once: every link must be hard (an
 * external link would open another file) and every object's header passes the guard before libhdf5
 * decodes it (see h5_guard.h). Returns 1 when the whole path exists, 0 when a link on it is missing,
 * or KCB_EFORMAT. A soft link may point anywhere and an external link into another file, which
 * libhdf5 would open while walking a path (issue 15). */
static int path_too_long(const char *path, const char *file) {
  return kcb__error(KCB_EFORMAT, "%s: the HDF5 path '%.*s...' is %zu bytes, more than the %d kcb reads (layer names "
                    "of up to about 1,000 bytes)", file, kcb__utf8_prefix(path, 64), path, strlen(path), KCB__H5_PATH_MAX - 1);
}

int kcb__h5_path_join(char *out, size_t size, const char *a, const char *b, const char *file) {
  int n = snprintf(out, size, "%s/%s", a, b);
  if (n < 0 || (size_t)n >= size) {
    char *whole = kcb__path_join(a, b);
    int rc = whole ? path_too_long(whole, file) : kcb__error(KCB_ENOMEM, "%s: out of memory", file);
    free(whole);
    return rc;
  }
  return 0;
}

/* Object o's whole path in the file, for messages: a name like '0' alone says little. */
static const char *object_path(hid_t o, const char *name, char *path, size_t size) {
  if (H5Iget_name(o, path, size) <= 0) snprintf(path, size, "%s", name);
  return path;
}

/* The path from the file's root of `rel`, a path below parent (or already from the root). */
static const char *full_path(hid_t parent, const char *rel, char *out, size_t size) {
  char where[KCB__H5_PATH_MAX];
  object_path(parent, "", where, sizeof where);
  int absolute = rel[0] == '/';
  snprintf(out, size, "%s%s%s", absolute || !strcmp(where, "/") ? "" : where, absolute ? "" : "/", rel);
  return out;
}

/* The guard's verdict on the object header at addr, reached from parent by rel, naming the object
 * (a dataset, or the group holding a bad link): the header offset alone does not say which. */
static int guard_named(hid_t parent, const char *rel, uint64_t addr, const char *file) {
  int rc = kcb__h5_guard_object(parent, addr, file);
  if (rc && rc != KCB_ENOMEM) {
    char full[2 * KCB__H5_PATH_MAX + 2];
    rc = kcb__error(rc, "%s (the header of '%s')", kcb_error_last(), full_path(parent, rel, full, sizeof full));
  }
  return rc;
}

static int path_walk(hid_t parent, const char *name, const char *file) {
  char path[KCB__H5_PATH_MAX];
  if (strlen(name) >= sizeof path) return path_too_long(name, file);
  kcb__strlcpy(path, name, sizeof path);
  for (char *p = path;; p++) {
    char *slash = strchr(p, '/');
    if (slash) *slash = '\0';
    if (path[0] && p[0]) {
      H5L_info_t li;
      if (H5Lget_info(parent, path, &li, H5P_DEFAULT) < 0) {
        H5Eclear2(H5E_DEFAULT);
        return 0; /* the caller reports what is missing */
      }
      if (li.type != H5L_TYPE_HARD) {
        char full[2 * KCB__H5_PATH_MAX + 2]; /* named from the file's root: 'dense' alone says little */
        return kcb__error(KCB_EFORMAT, "%s: '%s' is a soft or external link: kcb follows only hard links (an external "
                          "link would open another file)", file, full_path(parent, path, full, sizeof full));
      }
      int rc = guard_named(parent, path, li.u.address, file);
      if (rc) return rc;
    }
    if (!slash) return 1;
    *slash = '/';
    p = slash;
  }
}

int kcb__h5_exists(hid_t parent, const char *name) {
  int rc = path_walk(parent, name, "");
  if (rc < 0) kcb_error_clear();
  /* A link that is not followed, or a header the guard refuses, "exists": opening it then reports
   * why, rather than the object being taken as missing (a reader skipping an optional group would
   * accept the file: an external link inside layers/ read as a layer without variables). */
  return rc != 0;
}

int kcb__h5_group_open(hid_t *out, hid_t parent, const char *name, const char *file) {
  *out = H5I_INVALID_HID;
  int rc = path_walk(parent, name, file);
  if (rc < 0) return rc;
  if (rc == 0) return kcb__error(KCB_EFORMAT, "%s: no group '%s'", file, name);
  /* The walk checked the group's header (attribute messages included) before this opens it. */
  *out = H5Gopen2(parent, name, H5P_DEFAULT);
  if (*out >= 0) return 0;
  H5O_info_t info;
  if (H5Oget_info_by_name2(parent, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) >= 0 && info.type != H5O_TYPE_GROUP)
    return kcb__h5_fail(KCB_EFORMAT, file, "'%s' is not a group", name);
  return kcb__h5_fail(KCB_EFORMAT, file, "cannot open group '%s'", name);
}

int kcb__h5_listed_group_open(hid_t *out, hid_t parent, const char *name, const char *file) {
  int rc = kcb__h5_group_open(out, parent, name, file);
  if (rc == 0) return 0;
  char why[1024]; /* kcb__h5_exists clears the error it meets */
  kcb__strlcpy(why, kcb_error_last(), sizeof why);
  if (kcb__h5_exists(parent, name)) return kcb__error(rc, "%s", why); /* there, but not a group kcb opens: why */
  size_t len = strlen(name);
  return kcb__error(KCB_EFORMAT, "%s: layer '%.*s%s' is listed in layer_names but has no group", file,
                    len > 200 ? 200 : (int)len, name, len > 200 ? "..." : "");
}

int kcb__h5_link_count(hid_t group, size_t *out, const char *file) {
  H5G_info_t info;
  if (H5Gget_info(group, &info) < 0) return kcb__h5_fail(KCB_EFORMAT, file, "cannot read a group");
  *out = (size_t)info.nlinks;
  return 0;
}

typedef struct name_list {
  char **names;
  size_t n, cap;
  int failed;
} name_list;

static herr_t collect_name(hid_t group, const char *name, const H5L_info_t *info, void *data) {
  (void)group;
  (void)info;
  name_list *l = data;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 16;
    char **grown = realloc(l->names, cap * sizeof *grown);
    if (!grown) return l->failed = 1, -1;
    l->names = grown;
    l->cap = cap;
  }
  if (!(l->names[l->n] = strdup(name))) return l->failed = 1, -1;
  l->n++;
  return 0;
}

int kcb__h5_link_names(hid_t group, char ***out, size_t *n, const char *file) {
  name_list l = {NULL, 0, 0, 0};
  hsize_t idx = 0;
  herr_t r = H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_name, &l);
  if (r < 0 || l.failed) {
    kcb__h5_strings_free(l.names, l.n);
    *out = NULL;
    *n = 0;
    return l.failed ? kcb__error(KCB_ENOMEM, "out of memory") : kcb__h5_fail(KCB_EFORMAT, file, "cannot list a group");
  }
  *out = l.names;
  *n = l.n;
  return 0;
}

int kcb__h5_has_attr(hid_t obj, const char *name) {
  htri_t r = H5Aexists(obj, name);
  if (r < 0) H5Eclear2(H5E_DEFAULT);
  return r > 0;
}

/* ---- writing attributes ------------------------------------------------------------------ */

static hid_t vlen_string_type(int utf8) {
  hid_t t = H5Tcopy(H5T_C_S1);
  if (t < 0) return t;
  if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, utf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII) < 0) {
    H5Tclose(t);
    return H5I_INVALID_HID;
  }
  return t;
}

/* Creates (replacing) attribute `name` and writes `data` of memory type `mtype` (NULL: no write). */
static int attr_write(hid_t obj, const char *name, hid_t ftype, hid_t mtype, hid_t space, const void *data,
                      const char *file) {
  if (kcb__h5_has_attr(obj, name)) H5Adelete(obj, name);
  hid_t a = H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
  int rc = 0;
  if (a < 0 || (data && H5Awrite(a, mtype, data) < 0)) rc = kcb__h5_fail(KCB_EIO, file, "cannot write attribute '%s'", name);
  kcb__h5_close(a);
  return rc;
}

int kcb__h5_attr_write_string(hid_t obj, const char *name, const char *value, int utf8, const char *file) {
  hid_t t = vlen_string_type(utf8), s = H5Screate(H5S_SCALAR);
  int rc = (t < 0 || s < 0) ? kcb__h5_fail(KCB_EIO, file, "cannot make a string type")
                            : attr_write(obj, name, t, t, s, &value, file);
  kcb__h5_close(t);
  kcb__h5_close(s);
  return rc;
}

/* Keras's save_attributes_to_hdf5_group for a list too large for one attribute (an object
 * header message holds at most 64 KiB): numpy's array_split of the names, as fixed-length
 * strings of the longest name's size, into attributes name0, name1, ... (one part: `name`). */
#define KERAS_HEADER_LIMIT 64512
static int attr_write_string_chunks(hid_t obj, const char *name, const char *const *values, size_t n, size_t width,
                                    const char *file) {
  if (width > KERAS_HEADER_LIMIT)
    return kcb__h5_fail(KCB_EINVAL, file, "cannot write attribute '%s': a name of %zu bytes is larger than an HDF5 "
                        "object header can hold (%d)", name, width, KERAS_HEADER_LIMIT);
  size_t chunks = 1;
  while ((n / chunks + (n % chunks != 0)) * width > KERAS_HEADER_LIMIT) chunks++;
  char *buf = malloc((n / chunks + 1) * width);
  hid_t t = H5Tcopy(H5T_C_S1);
  int rc = !buf || t < 0 || H5Tset_size(t, width) < 0 || H5Tset_strpad(t, H5T_STR_NULLPAD) < 0
               ? kcb__h5_fail(KCB_ENOMEM, file, "cannot make a string type for attribute '%s'", name) : 0;
  for (size_t c = 0, at = 0; rc == 0 && c < chunks; c++) {
    size_t count = n / chunks + (c < n % chunks); /* the first n % chunks parts take one more */
    memset(buf, 0, count * width);
    for (size_t i = 0; i < count; i++) memcpy(buf + i * width, values[at + i], strlen(values[at + i]));
    char part[256];
    if (chunks == 1) kcb__strlcpy(part, name, sizeof part); /* fits fixed-length, not as variable-length strings */
    else snprintf(part, sizeof part, "%s%zu", name, c);
    hsize_t dim = count;
    hid_t s = H5Screate_simple(1, &dim, NULL);
    rc = s < 0 ? kcb__h5_fail(KCB_EIO, file, "cannot make a dataspace") : attr_write(obj, part, t, t, s, buf, file);
    kcb__h5_close(s);
    at += count;
  }
  kcb__h5_close(t);
  free(buf);
  return rc;
}

int kcb__h5_attr_write_strings(hid_t obj, const char *name, const char *const *values, size_t n, const char *file) {
  size_t width = 1; /* numpy's bytes dtype of the list: the longest name, at least 1 */
  for (size_t i = 0; i < n; i++)
    if (strlen(values[i]) > width) width = strlen(values[i]);
  /* a variable-length string takes 16 bytes of the header (its heap reference), so many short
   * names overflow it where the same list as fixed-length strings still fits in one attribute */
  if (n > KERAS_HEADER_LIMIT / width || n > KERAS_HEADER_LIMIT / 16) return attr_write_string_chunks(obj, name, values, n, width, file);
  hsize_t dim = n;
  hid_t s = H5Screate_simple(1, &dim, NULL);
  if (s < 0) return kcb__h5_fail(KCB_EIO, file, "cannot make a dataspace");
  int rc;
  if (n == 0) {
    /* h5py's encoding of []: float64, shape (0,), nothing written. Never an H5S_NULL space. */
    rc = attr_write(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, s, NULL, file);
  } else {
    hid_t t = vlen_string_type(0);
    rc = t < 0 ? kcb__h5_fail(KCB_EIO, file, "cannot make a string type") : attr_write(obj, name, t, t, s, values, file);
    kcb__h5_close(t);
  }
  H5Sclose(s);
  return rc;
}

int kcb__h5_attr_write_double(hid_t obj, const char *name, double value, const char *file) {
  hid_t s = H5Screate(H5S_SCALAR);
  int rc = attr_write(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, s, &value, file);
  kcb__h5_close(s);
  return rc;
}

int kcb__h5_attr_write_int64(hid_t obj, const char *name, int64_t value, const char *file) {
  hid_t s = H5Screate(H5S_SCALAR);
  int rc = attr_write(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, s, &value, file);
  kcb__h5_close(s);
  return rc;
}

/* A 1-D attribute of n numbers of file type ftype from memory type mtype. */
static int attr_write_array(hid_t obj, const char *name, hid_t ftype, hid_t mtype, const void *values, size_t n,
                            const char *file) {
  hsize_t dim = n;
  hid_t s = H5Screate_simple(1, &dim, NULL);
  int rc = attr_write(obj, name, ftype, mtype, s, values, file);
  kcb__h5_close(s);
  return rc;
}

int kcb__h5_attr_write_doubles(hid_t obj, const char *name, const double *values, size_t n, const char *file) {
  return attr_write_array(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, values, n, file);
}

int kcb__h5_attr_write_uint64s(hid_t obj, const char *name, const uint64_t *values, size_t n, const char *file) {
  return attr_write_array(obj, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, values, n, file);
}

/* ---- reading attributes ------------------------------------------------------------------ */

void kcb__h5_strings_free(char **values, size_t n) {
  if (!values) return;
  for (size_t i = 0; i < n; i++) free(values[i]);
  free(values);
}

/* Appends the strings of one attribute to *list. */
static int read_string_attr(hid_t obj, const char *name, char ***list, size_t *n, int scalar_only, const char *file) {
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  hid_t t = a < 0 ? H5I_INVALID_HID : H5Aget_type(a);
  hid_t s = a < 0 ? H5I_INVALID_HID : H5Aget_space(a);
  hid_t mem = H5I_INVALID_HID;
  char **vbuf = NULL;
  char *fbuf = NULL;
  int rc = 0;
  if (a < 0 || t < 0 || s < 0) {
    rc = kcb__h5_fail(KCB_EFORMAT, file, "cannot read attribute '%s'", name);
    goto done;
  }
  hssize_t count = H5Sget_simple_extent_type(s) == H5S_NULL ? 0 : H5Sget_simple_extent_npoints(s);
  if (count < 0) {
    rc = kcb__h5_fail(KCB_EFORMAT, file, "attribute '%s' has a bad dataspace", name);
    goto done;
  }
  if (count == 0) goto done; /* an empty list, whatever its type */
  if (H5Tget_class(t) != H5T_STRING) {
    rc = kcb__error(KCB_EFORMAT, "%s: attribute '%s' holds %lld non-string values, expected strings", file, name,
                    (long long)count);
    goto done;
  }
  if (scalar_only && count != 1) {
    rc = kcb__error(KCB_EFORMAT, "%s: attribute '%s' holds %lld strings, expected one", file, name, (long long)count);
    goto done;
  }
  char **grown = realloc(*list, (*n + (size_t)count) * sizeof *grown);
  if (!grown) {
    rc = kcb__error(KCB_ENOMEM, "out of memory");
    goto done;
  }
  *list = grown;
  if (H5Tis_variable_str(t) > 0) {
    /* libhdf5 1.10 follows the strings' global-heap references unchecked: check them first. */
    if ((rc = kcb__h5_guard_vlen_attr(obj, name, (long long)count, file)) != 0) goto done;
    mem = vlen_string_type(H5Tget_cset(t) == H5T_CSET_UTF8);
    vbuf = calloc((size_t)count, sizeof *vbuf);
    if (!vbuf || H5Aread(a, mem, vbuf) < 0) {
      rc = vbuf ? kcb__h5_fail(KCB_EFORMAT, file, "cannot read attribute '%s'", name) : kcb__error(KCB_ENOMEM, "out of memory");
      free(vbuf);
      vbuf = NULL;
      goto done;
    }
    for (hssize_t i = 0; i < count && rc == 0; i++) {
      char *copy = strdup(vbuf[i] ? vbuf[i] : "");
      if (!copy) rc = kcb__error(KCB_ENOMEM, "out of memory");
      else (*list)[(*n)++] = copy;
    }
    H5Dvlen_reclaim(mem, s, H5P_DEFAULT, vbuf);
  } else {
    size_t size = H5Tget_size(t);
    mem = H5Tcopy(t);
    fbuf = malloc((size_t)count * size + 1);
    if (!fbuf || size == 0 || H5Aread(a, mem, fbuf) < 0) {
      rc = fbuf ? kcb__h5_fail(KCB_EFORMAT, file, "cannot read attribute '%s'", name) : kcb__error(KCB_ENOMEM, "out of memory");
      goto done;
    }
    for (hssize_t i = 0; i < count && rc == 0; i++) {
      const char *p = fbuf + (size_t)i * size;
      size_t len = strnlen(p, size);
      /* NULLPAD / NULLTERM stop at the first NUL; SPACEPAD pads with blanks. */
      while (len > 0 && H5Tget_strpad(t) == H5T_STR_SPACEPAD && p[len - 1] == ' ') len--;
      char *copy = malloc(len + 1);
      if (!copy) {
        rc = kcb__error(KCB_ENOMEM, "out of memory");
        break;
      }
      memcpy(copy, p, len);
      copy[len] = '\0';
      (*list)[(*n)++] = copy;
    }
  }
done:
  free(vbuf);
  free(fbuf);
  kcb__h5_close(mem);
  kcb__h5_close(s);
  kcb__h5_close(t);
  kcb__h5_close(a);
  return rc;
}

int kcb__h5_attr_read_strings(hid_t obj, const char *name, char ***out, size_t *n, const char *file) {
  *out = NULL;
  *n = 0;
  int rc = 0;
  if (kcb__h5_has_attr(obj, name)) {
    rc = read_string_attr(obj, name, out, n, 0, file);
  } else {
    /* Keras splits lists longer than 64512 bytes into name0, name1, ... */
    char part[256];
    for (int k = 0; rc == 0; k++) {
      snprintf(part, sizeof part, "%s%d", name, k);
      if (!kcb__h5_has_attr(obj, part)) break;
      rc = read_string_attr(obj, part, out, n, 0, file);
    }
  }
  if (rc) {
    kcb__h5_strings_free(*out, *n);
    *out = NULL;
    *n = 0;
  }
  return rc;
}

int kcb__h5_attr_read_string(hid_t obj, const char *name, char **out, const char *file) {
  *out = NULL;
  if (!kcb__h5_has_attr(obj, name)) return kcb__error(KCB_EKEY, "%s: no attribute '%s'", file, name);
  char **list = NULL;
  size_t n = 0;
  int rc = read_string_attr(obj, name, &list, &n, 1, file);
  if (rc == 0 && n == 0) {
    char where[KCB__H5_PATH_MAX];
    rc = kcb__error(KCB_EFORMAT, "%s: attribute '%s' of '%s' is empty", file, name, object_path(obj, "?", where, sizeof where));
  }
  if (rc == 0) {
    *out = list[0];
    list[0] = NULL;
  }
  kcb__h5_strings_free(list, n);
  return rc;
}

static int attr_read_number(hid_t obj, const char *name, hid_t mtype, void *out, size_t n, const char *file) {
  if (!kcb__h5_has_attr(obj, name)) return kcb__error(KCB_EKEY, "%s: no attribute '%s'", file, name);
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  hid_t t = a < 0 ? H5I_INVALID_HID : H5Aget_type(a), s = a < 0 ? H5I_INVALID_HID : H5Aget_space(a);
  int rc = 0;
  H5T_class_t cls = t < 0 ? H5T_NO_CLASS : H5Tget_class(t);
  if (a < 0 || s < 0) rc = kcb__h5_fail(KCB_EFORMAT, file, "cannot read attribute '%s'", name);
  else if ((cls != H5T_INTEGER && cls != H5T_FLOAT) || H5Sget_simple_extent_npoints(s) != (hssize_t)n)
    rc = kcb__error(KCB_EFORMAT, "%s: attribute '%s' is not %zu number(s)", file, name, n);
  else if (H5Aread(a, mtype, out) < 0) rc = kcb__h5_fail(KCB_EFORMAT, file, "cannot read attribute '%s'", name);
  kcb__h5_close(s);
  kcb__h5_close(t);
  kcb__h5_close(a);
  return rc;
}

int kcb__h5_attr_read_double(hid_t obj, const char *name, double *out, const char *file) {
  return attr_read_number(obj, name, H5T_NATIVE_DOUBLE, out, 1, file);
}
int kcb__h5_attr_read_int64(hid_t obj, const char *name, int64_t *out, const char *file) {
  return attr_read_number(obj, name, H5T_NATIVE_INT64, out, 1, file);
}
int kcb__h5_attr_read_uint64s(hid_t obj, const char *name, uint64_t *out, size_t n, const char *file) {
  return attr_read_number(obj, name, H5T_NATIVE_UINT64, out, n, file);
}

int kcb__h5_attr_read_doubles(hid_t obj, const char *name, double *out, size_t n, const char *file) {
  return attr_read_number(obj, name, H5T_NATIVE_DOUBLE, out, n, file);
}

/* ---- datasets ---------------------------------------------------------------------------- */

static int dataset_write(hid_t parent, const char *name, hid_t ftype, hid_t mtype, int rank, const int64_t *shape,
                         const void *data, const char *file) {
  hsize_t dims[KCB__H5_MAX_RANK];
  for (int i = 0; i < rank; i++) dims[i] = (hsize_t)shape[i];
  hid_t s = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
  hid_t lcpl = intermediate_lcpl();
  hid_t d = (s < 0 || lcpl < 0) ? H5I_INVALID_HID : H5Dcreate2(parent, name, ftype, s, lcpl, H5P_DEFAULT, H5P_DEFAULT);
  int rc = 0;
  if (d < 0 || H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    rc = kcb__h5_fail(KCB_EIO, file, "cannot write dataset '%s'", name);
  kcb__h5_close(d);
  kcb__h5_close(lcpl);
  kcb__h5_close(s);
  return rc;
}

int kcb__h5_dataset_write_typed(hid_t parent, const char *name, hid_t ftype, hid_t mtype, int rank, const int64_t *shape,
                                const void *data, const char *file) {
  if (rank < 0 || rank > KCB__H5_MAX_RANK) return kcb__error(KCB_EINVAL, "%s: dataset '%s' rank %d", file, name, rank);
  return dataset_write(parent, name, ftype, mtype, rank, shape, data, file);
}

int kcb__h5_dataset_write_float(hid_t parent, const char *name, int rank, const int64_t *shape, const float *data,
                                const char *file) {
  if (rank < 0 || rank > KCB__H5_MAX_RANK) return kcb__error(KCB_EINVAL, "%s: dataset '%s' rank %d", file, name, rank);
  return dataset_write(parent, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, rank, shape, data, file);
}

int kcb__h5_dataset_write_int32(hid_t parent, const char *name, int32_t value, const char *file) {
  return dataset_write(parent, name, H5T_STD_I32LE, H5T_NATIVE_INT32, 0, NULL, &value, file);
}

int kcb__h5_dataset_write_count(hid_t parent, const char *name, int64_t value, const char *file) {
  if (value >= INT32_MIN && value <= INT32_MAX) return kcb__h5_dataset_write_int32(parent, name, (int32_t)value, file);
  return dataset_write(parent, name, H5T_STD_I64LE, H5T_NATIVE_INT64, 0, NULL, &value, file);
}

/* Storage that reads outside the file: an external raw data file list (a dataset's bytes in any
 * other file, /dev/urandom included), a virtual dataset (mapped from other files), or a filter
 * other than HDF5's built-in ones (a plugin would be loaded to decode it). */
static int storage_error(hid_t d, const char *name, const char *file) {
  hid_t dcpl = H5Dget_create_plist(d);
  if (dcpl < 0) return kcb__h5_fail(KCB_EFORMAT, file, "dataset '%s': cannot read its storage properties", name);
  int rc = 0, n_ext = H5Pget_external_count(dcpl), n_filters = H5Pget_nfilters(dcpl);
  H5D_layout_t layout = H5Pget_layout(dcpl);
  if (n_ext != 0)
    rc = kcb__error(KCB_EFORMAT, "%s: dataset '%s' keeps its data in %d external file(s): kcb reads only data stored in "
                    "the checkpoint itself", file, name, n_ext);
  else if (layout == H5D_VIRTUAL)
    rc = kcb__error(KCB_EFORMAT, "%s: dataset '%s' is a virtual dataset (mapped from other files): kcb reads only data "
                    "stored in the checkpoint itself", file, name);
  else if (layout < 0 || n_filters < 0)
    rc = kcb__h5_fail(KCB_EFORMAT, file, "dataset '%s': cannot read its storage properties", name);
  for (int i = 0; rc == 0 && i < n_filters; i++) {
    unsigned flags = 0, config = 0;
    size_t nelmts = 0;
    char fname[64] = "";
    H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &nelmts, NULL, sizeof fname, fname, &config);
    if (id != H5Z_FILTER_DEFLATE && id != H5Z_FILTER_SHUFFLE && id != H5Z_FILTER_FLETCHER32 && id != H5Z_FILTER_NBIT &&
        id != H5Z_FILTER_SCALEOFFSET)
      rc = kcb__error(KCB_EFORMAT, "%s: dataset '%s' uses HDF5 filter %d, not one built into HDF5: kcb does not load "
                      "filter plugins", file, name, (int)id);
  }
  /* Compact data lives in the layout message, contiguous data at one address, each of a size the
   * message gives: libhdf5 1.10 copies shape x type bytes out of it, past a smaller one. */
  if (rc == 0 && (layout == H5D_COMPACT || layout == H5D_CONTIGUOUS)) {
    hid_t sp = H5Dget_space(d), ty = H5Dget_type(d);
    hssize_t npoints = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
    size_t esize = ty < 0 ? 0 : H5Tget_size(ty);
    hsize_t stored = H5Dget_storage_size(d);
    unsigned long long need = 0;
    int over = npoints < 0 || esize == 0 || __builtin_mul_overflow((unsigned long long)npoints, (unsigned long long)esize, &need);
    if (over || ((stored != 0 || layout == H5D_COMPACT) && stored < need))
      rc = kcb__error(KCB_EFORMAT, "%s: dataset '%s' stores %llu bytes of %s data, but its shape and type need %llu", file, name,
                      (unsigned long long)stored, layout == H5D_COMPACT ? "compact" : "contiguous", need);
    kcb__h5_close(ty);
    kcb__h5_close(sp);
  }
  H5Eclear2(H5E_DEFAULT);
  kcb__h5_close(dcpl);
  return rc;
}

static int dataset_open(hid_t *out, hid_t parent, const char *name, const char *file) {
  *out = H5I_INVALID_HID;
  int rc = path_walk(parent, name, file);
  if (rc < 0) return rc;
  if (rc == 0) return kcb__error(KCB_EFORMAT, "%s: no dataset '%s'", file, name);
  *out = H5Dopen2(parent, name, H5P_DEFAULT);
  if (*out < 0) return kcb__h5_fail(KCB_EFORMAT, file, "'%s' is not a readable dataset", name);
  char path[KCB__H5_PATH_MAX];
  if ((rc = storage_error(*out, object_path(*out, name, path, sizeof path), file)) != 0) {
    kcb__h5_close(*out);
    *out = H5I_INVALID_HID;
  }
  return rc;
}

/* Dataset d's rank and dims (the caller opened it as `name`), or KCB_EFORMAT naming its whole path:
 * a dataspace with no data at all (H5S_NULL, which would read as one value), more dimensions than
 * kcb reads, or a dataspace HDF5 cannot describe. */
static int dataset_extent(hid_t d, hid_t s, const char *name, const char *file, int *rank, hsize_t *dims) {
  char path[KCB__H5_PATH_MAX];
  object_path(d, name, path, sizeof path);
  int r = s < 0 ? -1 : H5Sget_simple_extent_ndims(s);
  if (s >= 0 && H5Sget_simple_extent_type(s) == H5S_NULL)
    return kcb__error(KCB_EFORMAT, "%s: dataset '%s' holds no data (an empty dataspace, not an array)", file, path);
  if (r > KCB__H5_MAX_RANK)
    return kcb__error(KCB_EFORMAT, "%s: dataset '%s' has %d dimensions; kcb reads at most %d", file, path, r,
                      KCB__H5_MAX_RANK);
  if (r < 0 || H5Sget_simple_extent_dims(s, dims, NULL) < 0)
    return kcb__h5_fail(KCB_EFORMAT, file, "dataset '%s' has a bad shape", path);
  *rank = r;
  return 0;
}

int kcb__h5_dataset_shape(hid_t parent, const char *name, int *rank, int64_t *shape, const char *file) {
  hid_t d;
  int rc = dataset_open(&d, parent, name, file);
  if (rc) return rc;
  hid_t s = H5Dget_space(d);
  int r = 0;
  hsize_t dims[KCB__H5_MAX_RANK];
  if ((rc = dataset_extent(d, s, name, file, &r, dims)) == 0) {
    *rank = r;
    for (int i = 0; i < r; i++) shape[i] = (int64_t)dims[i];
  }
  kcb__h5_close(s);
  kcb__h5_close(d);
  return rc;
}

/* Whether d holds bfloat16 as Keras writes it: 2-byte opaque elements with attribute dtype = "bfloat16". */
static int is_bfloat16(hid_t d, hid_t t, const char *file) {
  char *tag = NULL;
  int yes = H5Tget_class(t) == H5T_OPAQUE && H5Tget_size(t) == 2 && kcb__h5_has_attr(d, "dtype") &&
            kcb__h5_attr_read_string(d, "dtype", &tag, file) == 0 && strcmp(tag, "bfloat16") == 0;
  free(tag);
  kcb_error_clear();
  return yes;
}

/* bfloat16 into float: its 2 bytes (little-endian, as numpy wrote them) are a float's upper half. */
static int read_bfloat16(hid_t d, hid_t t, float *out, size_t n, const char *name, const char *file) {
  unsigned char *raw = malloc(2 * n + 1);
  if (!raw) return kcb__error(KCB_ENOMEM, "%s: out of memory reading dataset '%s'", file, name);
  int rc = 0;
  if (H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) < 0)
    rc = kcb__h5_fail(KCB_EFORMAT, file, "cannot read dataset '%s' (corrupt or truncated file)", name);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    uint32_t bits = ((uint32_t)raw[2 * i] | (uint32_t)raw[2 * i + 1] << 8) << 16;
    memcpy(&out[i], &bits, sizeof bits);
  }
  free(raw);
  return rc;
}

static int dataset_read(hid_t parent, const char *name, hid_t mtype, void *out, size_t n, const char *file) {
  hid_t d;
  int rc = dataset_open(&d, parent, name, file);
  if (rc) return rc;
  char path[KCB__H5_PATH_MAX];
  name = object_path(d, name, path, sizeof path);
  hid_t s = H5Dget_space(d), t = H5Dget_type(d);
  H5T_class_t cls = t < 0 ? H5T_NO_CLASS : H5Tget_class(t);
  hssize_t count = s < 0 ? -1 : H5Sget_simple_extent_npoints(s);
  if (mtype == H5T_NATIVE_FLOAT && t >= 0 && count == (hssize_t)n && is_bfloat16(d, t, file))
    rc = read_bfloat16(d, t, out, n, name, file); /* Keras casts on assign: kcb widens to float32 */
  else if (cls != H5T_FLOAT && cls != H5T_INTEGER)
    rc = kcb__error(KCB_EFORMAT, "%s: dataset '%s' is not numeric", file, name);
  else if (count != (hssize_t)n)
    rc = kcb__error(KCB_ESHAPE, "%s: dataset '%s' holds %lld values, expected %zu", file, name, (long long)count, n);
  else if (H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
    rc = kcb__h5_fail(KCB_EFORMAT, file, "cannot read dataset '%s' (corrupt or truncated file)", name);
  kcb__h5_close(t);
  kcb__h5_close(s);
  kcb__h5_close(d);
  return rc;
}

int kcb__h5_dataset_read_float(hid_t parent, const char *name, float *out, size_t n, const char *file) {
  return dataset_read(parent, name, H5T_NATIVE_FLOAT, out, n, file);
}

int kcb__h5_dataset_read_int64(hid_t parent, const char *name, int64_t *out, const char *file) {
  return dataset_read(parent, name, H5T_NATIVE_INT64, out, 1, file);
}

int kcb__h5_dataset_describe(hid_t parent, const char *name, kcb__h5_dataset_desc *out, const char *file) {
  hid_t d;
  int rc = dataset_open(&d, parent, name, file);
  if (rc) return rc;
  hid_t s = H5Dget_space(d), t = H5Dget_type(d);
  int r = 0;
  hsize_t dims[KCB__H5_MAX_RANK];
  memset(out, 0, sizeof *out);
  if ((rc = dataset_extent(d, s, name, file, &r, dims)) != 0) {
  } else if (t < 0) {
    rc = kcb__h5_fail(KCB_EFORMAT, file, "dataset '%s' has a bad type", name);
  } else {
    out->rank = r;
    for (int i = 0; i < r; i++) out->shape[i] = (int64_t)dims[i];
    out->cls = H5Tget_class(t);
    out->size = H5Tget_size(t);
    out->is_signed = out->cls == H5T_INTEGER && H5Tget_sign(t) == H5T_SGN_2;
  }
  kcb__h5_close(t);
  kcb__h5_close(s);
  kcb__h5_close(d);
  return rc;
}

int kcb__h5_dataset_read_rows(hid_t parent, const char *name, hid_t mtype, int64_t first_row, int64_t n_rows, void *out,
                              size_t n, const char *file) {
  hid_t d;
  int rc = dataset_open(&d, parent, name, file);
  if (rc) return rc;
  char path[KCB__H5_PATH_MAX];
  name = object_path(d, name, path, sizeof path);
  hid_t fs = H5Dget_space(d), ms = H5I_INVALID_HID, t = H5Dget_type(d);
  H5T_class_t cls = t < 0 ? H5T_NO_CLASS : H5Tget_class(t);
  int r = 0;
  hsize_t dims[KCB__H5_MAX_RANK];
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) {
    rc = kcb__error(KCB_EFORMAT, "%s: dataset '%s' is not numeric", file, name);
  } else if ((rc = dataset_extent(d, fs, name, file, &r, dims)) != 0) {
  } else {
    hsize_t count = 1;
    if (r > 0) {
      if (first_row < 0 || n_rows < 0 || (hsize_t)first_row + (hsize_t)n_rows > dims[0]) {
        rc = kcb__error(KCB_EINVAL, "%s: rows %lld..%lld of dataset '%s' are out of range", file, (long long)first_row,
                        (long long)(first_row + n_rows), name);
      } else {
        hsize_t start[KCB__H5_MAX_RANK] = {0};
        start[0] = (hsize_t)first_row;
        dims[0] = (hsize_t)n_rows;
        for (int i = 0; i < r; i++) count *= dims[i];
        if (H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, dims, NULL) < 0 ||
            (ms = H5Screate_simple(r, dims, NULL)) < 0)
          rc = kcb__h5_fail(KCB_EFORMAT, file, "cannot select rows of dataset '%s'", name);
      }
    }
    if (rc == 0 && count != n)
      rc = kcb__error(KCB_ESHAPE, "%s: dataset '%s' rows hold %llu values, expected %zu", file, name,
                      (unsigned long long)count, n);
    if (rc == 0 && count > 0 && H5Dread(d, mtype, r > 0 ? ms : H5S_ALL, r > 0 ? fs : H5S_ALL, H5P_DEFAULT, out) < 0)
      rc = kcb__h5_fail(KCB_EFORMAT, file, "cannot read dataset '%s' (corrupt or truncated file)", name);
  }
  kcb__h5_close(t);
  kcb__h5_close(ms);
  kcb__h5_close(fs);
  kcb__h5_close(d);
  return rc;
}

int kcb__h5_object_addr(hid_t parent, const char *where, const char *name, uint64_t *addr, int *is_group,
                        const char *file) {
  H5L_info_t link;
  if (H5Lget_info(parent, name, &link, H5P_DEFAULT) < 0) return kcb__h5_fail(KCB_EFORMAT, file, "cannot read link '%s'", name);
  if (link.type != H5L_TYPE_HARD)
    return kcb__error(KCB_EFORMAT, "%s: '%s%s%s' is a soft or external link: kcb follows only hard links (an external "
                      "link would open another file)", file, where, where[0] ? "/" : "", name);
  int rc = guard_named(parent, name, link.u.address, file);
  if (rc) return rc;
  H5O_info_t info;
  if (H5Oget_info_by_name2(parent, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
    return kcb__h5_fail(KCB_EFORMAT, file, "cannot read object '%s'", name);
  *addr = (uint64_t)info.addr;
  *is_group = info.type == H5O_TYPE_GROUP;
  return 0;
}

