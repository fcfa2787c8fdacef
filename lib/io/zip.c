/* io/zip.c — zip archives through libzip (see zip.h). */
#include "io/zip.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zip.h>

static uint32_t le32(const unsigned char *p) { return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t le64(const unsigned char *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

int kcb__zip_locate(const char *path, uint64_t *start) {
  *start = 0;
  FILE *f;
  if (kcb__file_fopen_read(path, NULL, &f) != 0) return KCB__ZIP_NONE; /* the caller's next open reports it */
  enum { EOCD = 22, LOCATOR = 20, EOCD64 = 56, TAIL = 65535 + EOCD + LOCATOR + EOCD64 };
  unsigned char head[4] = {0}, *tail = malloc(TAIL);
  int kind = KCB__ZIP_NONE;
  size_t got = fread(head, 1, 4, f);
  int local_header = got == 4 && memcmp(head, "PK\3\4", 4) == 0;
  if (got == 4 && memcmp(head, "\x89HDF", 4) == 0) goto done; /* an HDF5 file, whatever its last bytes say */
  if (!tail || fseeko(f, 0, SEEK_END) != 0) goto done;
  off_t size = ftello(f), from = size > TAIL ? size - TAIL : 0;
  size_t n;
  if (size < EOCD || fseeko(f, from, SEEK_SET) != 0 || (n = fread(tail, 1, (size_t)(size - from), f)) != (size_t)(size - from))
    goto done;
  /* the end of central directory record: the last "PK\5\6" whose comment ends at most at the end */
  for (size_t at = n - EOCD + 1; at-- > 0;) {
    const unsigned char *e = tail + at;
    if (memcmp(e, "PK\5\6", 4) != 0 || at + EOCD + (e[20] | (size_t)e[21] << 8) > n) continue;
    uint64_t cd_size = le32(e + 12), cd_offset = le32(e + 16), where = (uint64_t)from + at;
    if (at >= LOCATOR && memcmp(e - LOCATOR, "PK\6\7", 4) == 0) {
      /* zip64 (also when the end record holds the real offset, as Python's zipfile writes it past
       * 65,535 members): the locator gives the zip64 record's offset, which sits just before it */
      uint64_t rec_offset = le64(e - LOCATOR + 8);
      size_t rec = at - LOCATOR >= EOCD64 ? at - LOCATOR - EOCD64 : 0;
      if (memcmp(tail + rec, "PK\6\6", 4) != 0) continue;
      if ((uint64_t)from + rec < rec_offset) continue;
      *start = (uint64_t)from + rec - rec_offset;
    } else {
      if (where < cd_size + cd_offset) continue;
      *start = where - cd_size - cd_offset; /* bytes before the archive (a self-extractor's stub, say) */
    }
    kind = KCB__ZIP_FOUND;
    break;
  }
  if (kind == KCB__ZIP_NONE && local_header) kind = KCB__ZIP_TRUNCATED;
done:
  free(tail);
  fclose(f);
  return kind;
}

static int zip_fail(int code, const char *file, const char *what, zip_error_t *err) {
  return kcb__error(code, "%s: %s (libzip: %s)", file, what, zip_error_strerror(err));
}

/* Opens the archive at `path`, `start` bytes in, for reading; *archive_size gets its size (2^40
 * when unknown). */
static int open_archive(const char *path, uint64_t start, zip_t **out, zip_uint64_t *archive_size) {
  *out = NULL;
  int zerr = 0, fd;
  int rc0 = kcb__file_open_read(path, NULL, &fd);
  if (rc0) return rc0;
  struct stat ast;
  *archive_size = fstat(fd, &ast) == 0 && (uint64_t)ast.st_size >= start ? (zip_uint64_t)ast.st_size - start
                                                                         : ((zip_uint64_t)1 << 40);
  FILE *fp = fdopen(fd, "rb");
  zip_error_t e;
  zip_error_init(&e);
  zip_source_t *src = fp ? zip_source_filep_create(fp, start, -1, &e) : NULL; /* takes fp on success */
  zip_t *za = src ? zip_open_from_source(src, ZIP_RDONLY, &e) : NULL;
  if (!za) {
    zerr = zip_error_code_zip(&e);
    if (src) zip_source_free(src);
    else if (fp) fclose(fp);
    else close(fd);
    int code = zerr == ZIP_ER_NOENT ? KCB_ENOENT : zerr == ZIP_ER_NOZIP || zerr == ZIP_ER_INCONS ? KCB_EFORMAT : KCB_EIO;
    int rc = zip_fail(code, path, "cannot open the zip archive", &e);
    zip_error_fini(&e);
    return rc;
  }
  zip_error_fini(&e);
  *out = za;
  return 0;
}

int kcb__zip_count_names(const char *path, uint64_t start, const char *prefix, const char *suffix, size_t *count) {
  zip_t *za;
  zip_uint64_t size;
  *count = 0;
  int rc = open_archive(path, start, &za, &size);
  if (rc) return rc;
  zip_int64_t n = zip_get_num_entries(za, 0);
  for (zip_int64_t i = 0; i < n; i++) {
    const char *name = zip_get_name(za, (zip_uint64_t)i, ZIP_FL_ENC_RAW);
    size_t len = name ? strlen(name) : 0;
    if (!name || len == 0 || name[len - 1] == '/') continue; /* files, not directories */
    *count += (!prefix || strncmp(name, prefix, strlen(prefix)) == 0) && (!suffix || kcb__ends_with(name, suffix));
  }
  zip_discard(za);
  return 0;
}

int kcb__zip_find_folder(const char *path, uint64_t start, const char *name, const char *beside, char *folder,
                         size_t size) {
  zip_t *za;
  zip_uint64_t archive_size;
  if (open_archive(path, start, &za, &archive_size)) {
    kcb_error_clear(); /* only a hint is lost */
    return 0;
  }
  int found = 0;
  size_t want = strlen(name);
  for (zip_int64_t i = 0, n = zip_get_num_entries(za, 0); i < n && !found; i++) {
    const char *m = zip_get_name(za, (zip_uint64_t)i, ZIP_FL_ENC_RAW);
    size_t have = m ? strlen(m) : 0, dir = have - want - 1;
    if (have <= want + 1 || m[dir] != '/' || strcmp(m + dir + 1, name) || memchr(m, '/', dir) || dir >= size) continue;
    char other[4096];
    if (snprintf(other, sizeof other, "%.*s/%s", (int)dir, m, beside) >= (int)sizeof other || zip_name_locate(za, other, 0) < 0)
      continue;
    memcpy(folder, m, dir);
    folder[dir] = '\0';
    found = 1;
  }
  zip_discard(za);
  return found;
}

int kcb__zip_read_member(const char *path, uint64_t start, const char *name, void **out, size_t *len,
                         uint64_t max_bytes, const char *why_max) {
  *out = NULL;
  *len = 0;
  zip_t *za;
  zip_uint64_t archive_size;
  int rc = open_archive(path, start, &za, &archive_size);
  if (rc) return rc;
  zip_file_t *zf = NULL;
  char *buf = NULL;
  zip_stat_t st;
  zip_int64_t index = zip_name_locate(za, name, 0);
  if (index < 0) {
    rc = kcb__error(KCB_EKEY, "%s: the archive has no member '%s'", path, name);
    goto done;
  }
  /* Two members of one name: libzip takes the first, Python's zipfile the last; which one a reader
   * sees would be undefined, so the archive is refused (issue 15). */
  zip_int64_t n_entries = zip_get_num_entries(za, 0), copies = 0;
  for (zip_int64_t i = 0; i < n_entries; i++) {
    const char *other = zip_get_name(za, (zip_uint64_t)i, ZIP_FL_ENC_RAW);
    if (other && strcmp(other, name) == 0) copies++;
  }
  if (copies > 1) {
    rc = kcb__error(KCB_EFORMAT, "%s: the archive has %lld members named '%s' (which one counts would be undefined)", path,
                    (long long)copies, name);
    goto done;
  }
  if (zip_stat_index(za, (zip_uint64_t)index, 0, &st) < 0 || !(st.valid & ZIP_STAT_SIZE)) {
    rc = zip_fail(KCB_EFORMAT, path, "cannot read a member's size", zip_get_error(za));
    goto done;
  }
  /* The size is allocated before reading: it must be one the member's compressed bytes can give
   * (stored: the same size; deflate expands at most 1032 to 1), so a small archive cannot ask for
   * gigabytes (issue 15). */
  if ((st.valid & ZIP_STAT_COMP_SIZE) && st.comp_size > archive_size) { /* no member holds more than the archive */
    rc = kcb__error(KCB_EFORMAT, "%s: member '%s' claims %llu compressed bytes, more than the whole archive's %llu: the "
                    "archive is cut short or its directory is damaged", path, name, (unsigned long long)st.comp_size,
                    (unsigned long long)archive_size);
    goto done;
  }
  zip_uint64_t comp = (st.valid & ZIP_STAT_COMP_SIZE) ? st.comp_size : archive_size;
  zip_uint64_t most = comp < ((zip_uint64_t)1 << 40) / 1032 ? comp * 1032 + 1024 : (zip_uint64_t)1 << 40;
  if (st.size > most) {
    rc = kcb__error(KCB_EFORMAT, "%s: member '%s' claims %llu bytes, more than its %llu compressed bytes can hold", path,
                    name, (unsigned long long)st.size, (unsigned long long)comp);
    goto done;
  }
  if (st.size > max_bytes) { /* a deflate bomb within that ratio: gigabytes from megabytes */
    rc = kcb__error(KCB_EFORMAT, "%s: member '%s' inflates to %llu bytes, more than the %llu %s", path, name,
                    (unsigned long long)st.size, (unsigned long long)max_bytes, why_max);
    goto done;
  }
  buf = malloc((size_t)st.size + 1);
  if (!buf) {
    rc = kcb__error(KCB_ENOMEM, "%s: out of memory for member '%s' (%llu bytes)", path, name, (unsigned long long)st.size);
    goto done;
  }
  zf = zip_fopen_index(za, (zip_uint64_t)index, 0);
  if (!zf && (st.valid & ZIP_STAT_COMP_METHOD) && zip_compression_method_supported(st.comp_method, 0) == 0) {
    /* Python's zipfile also writes bzip2 and LZMA, which Keras reads and this libzip may not */
    const char *method = st.comp_method == ZIP_CM_BZIP2 ? "bzip2" : st.comp_method == ZIP_CM_LZMA ? "LZMA"
                         : st.comp_method == ZIP_CM_XZ  ? "xz" : "an unknown method";
    rc = kcb__error(KCB_EFORMAT, "%s: member '%s' is compressed with %s (method %d), which this build cannot read; re-zip the "
                    "archive stored or deflated (as Keras writes it)", path, name, method, (int)st.comp_method);
    goto done;
  }
  if (!zf && (st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE) {
    rc = kcb__error(KCB_EFORMAT, "%s: member '%s' is encrypted; Keras writes .keras archives unencrypted (re-zip it without "
                    "a password)", path, name);
    goto done;
  }
  if (!zf) {
    char what[300];
    snprintf(what, sizeof what, "cannot open member '%s'", name);
    rc = zip_fail(KCB_EFORMAT, path, what, zip_get_error(za));
    goto done;
  }
  zip_uint64_t got = 0;
  while (got < st.size) {
    zip_int64_t r = zip_fread(zf, buf + got, st.size - got);
    if (r <= 0) break;
    got += (zip_uint64_t)r;
  }
  if (got != st.size) {
    /* libzip checks the CRC at the end of the member: a short or failed read is corruption. */
    rc = kcb__error(KCB_EFORMAT, "%s: member '%s' is corrupt or truncated (read %llu of %llu bytes: %s)", path, name,
                    (unsigned long long)got, (unsigned long long)st.size, zip_error_strerror(zip_file_get_error(zf)));
    goto done;
  }
  char extra;
  if (zip_fread(zf, &extra, 1) < 0) {
    rc = kcb__error(KCB_EFORMAT, "%s: member '%s' is corrupt (%s)", path, name, zip_error_strerror(zip_file_get_error(zf)));
    goto done;
  }
  buf[got] = '\0';
  *out = buf;
  *len = (size_t)got;
  buf = NULL;
done:
  if (zf) zip_fclose(zf);
  free(buf);
  zip_discard(za);
  return rc;
}

int kcb__zip_build(const kcb__zip_member *members, size_t n, void **out, size_t *len, const char *file) {
  *out = NULL;
  *len = 0;
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &err);
  if (!src) {
    int rc = zip_fail(KCB_ENOMEM, file, "cannot create an in-memory archive", &err);
    zip_error_fini(&err);
    return rc;
  }
  int rc = 0;
  zip_t *za = zip_open_from_source(src, ZIP_TRUNCATE, &err);
  if (!za) {
    rc = zip_fail(KCB_EIO, file, "cannot create an in-memory archive", &err);
    zip_source_free(src);
    zip_error_fini(&err);
    return rc;
  }
  zip_source_keep(src); /* keep the buffer source alive after zip_close, to read the archive */
  for (size_t i = 0; i < n && rc == 0; i++) {
    zip_source_t *m = zip_source_buffer(za, members[i].data, members[i].len, 0);
    zip_int64_t idx = m ? zip_file_add(za, members[i].name, m, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE) : -1;
    if (idx < 0) {
      if (m) zip_source_free(m);
      rc = zip_fail(KCB_EIO, file, "cannot add a member", zip_get_error(za));
    } else if (zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0) < 0) {
      rc = zip_fail(KCB_EIO, file, "cannot store a member uncompressed", zip_get_error(za));
    }
  }
  if (rc) {
    zip_discard(za);
    zip_source_free(src);
    zip_error_fini(&err);
    return rc;
  }
  if (zip_close(za) < 0) {
    rc = zip_fail(KCB_EIO, file, "cannot write the archive", zip_get_error(za));
    zip_discard(za);
    zip_source_free(src);
    zip_error_fini(&err);
    return rc;
  }
  char *buf = NULL;
  zip_int64_t size = -1;
  if (zip_source_open(src) == 0) {
    if (zip_source_seek(src, 0, SEEK_END) == 0) size = zip_source_tell(src);
    if (size >= 0 && zip_source_seek(src, 0, SEEK_SET) == 0 && (buf = malloc((size_t)size + 1)) != NULL) {
      if (zip_source_read(src, buf, (zip_uint64_t)size) != size) {
        free(buf);
        buf = NULL;
      }
    }
    zip_source_close(src);
  }
  zip_source_free(src);
  zip_error_fini(&err);
  if (!buf) return kcb__error(KCB_EIO, "%s: cannot read back the in-memory archive", file);
  *out = buf;
  *len = (size_t)size;
  return 0;
}
