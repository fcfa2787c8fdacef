/* model/summary.c — model.summary() as Keras 3 prints it (a box-drawn table and totals). */
#include <stdio.h>
#include <string.h>

#include "model/model_internal.h"

#define COLUMNS 3
static const int widths[COLUMNS] = {31, 22, 13}; /* text width inside each cell */

static void thousands(char *buf, size_t size, size_t v) {
  char digits[32];
  int n = snprintf(digits, sizeof digits, "%zu", v), o = 0;
  for (int i = 0; i < n && (size_t)o + 2 < size; i++) {
    if (i && (n - i) % 3 == 0) buf[o++] = ',';
    buf[o++] = digits[i];
  }
  buf[o] = '\0';
}

static void memory_size(char *buf, size_t size, double bytes) {
  static const char *const units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (u < 4 && bytes / 1024 >= 1) bytes /= 1024, u++;
  snprintf(buf, size, "%.2f %s", bytes, units[u]);
}

/* A horizontal rule: left, fill, join, right are UTF-8 box-drawing characters. */
static void rule(FILE *f, const char *left, const char *fill, const char *join, const char *right) {
  fputs(left, f);
  for (int c = 0; c < COLUMNS; c++) {
    for (int i = 0; i < widths[c] + 2; i++) fputs(fill, f);
    fputs(c + 1 < COLUMNS ? join : right, f);
  }
  fputc('\n', f);
}

/* Characters in the first n bytes of UTF-8 text (the continuation bytes 10xxxxxx start none). */
static int utf8_chars(const char *s, size_t n) {
  int chars = 0;
  for (size_t i = 0; i < n; i++) chars += ((unsigned char)s[i] & 0xC0) != 0x80;
  return chars;
}

/* The bytes of the longest prefix of s of at most max characters, never inside a character. */
static size_t utf8_prefix(const char *s, int max) {
  size_t i = 0;
  for (int chars = 0; s[i]; i++) {
    if (((unsigned char)s[i] & 0xC0) != 0x80 && chars++ == max) break;
  }
  return i;
}

/* One table row; a cell wider than its column wraps at spaces onto further lines, as rich's
 * tables in Keras do ("batch_normalization" / "(BatchNormalization)"). Widths count characters,
 * so a name is never cut inside one (a wide character, CJK, still counts as one column). */
static void row(FILE *f, const char *bar, const char *const cells[COLUMNS]) {
  const char *rest[COLUMNS];
  for (int c = 0; c < COLUMNS; c++) rest[c] = cells[c];
  for (int more = 1; more;) {
    more = 0;
    for (int c = 0; c < COLUMNS; c++) {
      size_t len = strlen(rest[c]), fits = utf8_prefix(rest[c], widths[c]);
      if (fits < len) { /* break at the last space that fits, else hard at the width */
        len = fits;
        for (size_t i = fits; i > 0; i--)
          if (rest[c][i] == ' ') { len = i; break; }
      }
      int pad = widths[c] - utf8_chars(rest[c], len);
      /* the last column is right-aligned, as Keras's Param # */
      if (c == COLUMNS - 1) fprintf(f, "%s %*s%.*s ", bar, pad, "", (int)len, rest[c]);
      else fprintf(f, "%s %.*s%*s ", bar, (int)len, rest[c], pad, "");
      rest[c] += len;
      while (*rest[c] == ' ') rest[c]++;
      more |= *rest[c] != '\0';
    }
    fprintf(f, "%s\n", bar);
  }
}

static int summary(const kcb_model *m, FILE *f);

int kcb_model_summary(const kcb_model *m, FILE *f) {
  KCB__MODEL_GIVEN(m, "summary");
  if (!f) return kcb__error(KCB_EINVAL, "summary: the stream is NULL");
  kcb__c_numbers numbers = kcb__c_numbers_begin(); /* "99.41 KB" in any LC_NUMERIC, as Keras prints it */
  int rc = summary(m, f);
  kcb__c_numbers_end(numbers);
  return rc;
}

static int summary(const kcb_model *m, FILE *f) {
  size_t total = 0, trainable = 0;
  fprintf(f, "Model: \"%s\"\n", m->name);
  rule(f, "\u250f", "\u2501", "\u2533", "\u2513");
  row(f, "\u2503", (const char *const[]){"Layer (type)", "Output Shape", "Param #"});
  rule(f, "\u2521", "\u2501", "\u2547", "\u2529");
  for (size_t i = 0; i < m->n_layers; i++) {
    const kcb__layer *l = &m->layers[i];
    char name[KCB__NAME_MAX + 64], shape[96], params[32];
    snprintf(name, sizeof name, "%s (%s)", l->name, kcb_model_layer_class(m, i));
    size_t used = (size_t)snprintf(shape, sizeof shape, "(None");
    for (int d = 0; d < l->out_rank && used < sizeof shape; d++)
      used += (size_t)snprintf(shape + used, sizeof shape - used, ", %lld", (long long)l->out_shape[d]);
    if (used < sizeof shape) snprintf(shape + used, sizeof shape - used, ")");
    size_t n = 0;
    for (int v = 0; v < l->n_vars; v++) {
      n += l->vars[v].size;
      if (kcb__var_trains(l, &l->vars[v])) trainable += l->vars[v].size;
    }
    total += n;
    thousands(params, sizeof params, n);
    row(f, "\u2502", (const char *const[]){name, shape, params});
    if (i + 1 < m->n_layers) rule(f, "\u251c", "\u2500", "\u253c", "\u2524");
  }
  rule(f, "\u2514", "\u2500", "\u2534", "\u2518");
  /* the optimizer's variables once it is built (Keras: at its first step, or state loaded), in
   * the total too: slots, iteration, learning rate, and a LossScaleOptimizer's own four */
  size_t opt = 0;
  if (m->compiled && m->opt.iterations > 0) opt = (size_t)m->opt.n_slots * trainable + 2 + (m->loss_scale.on ? 4 : 0);
  char count[32], mem[32];
  thousands(count, sizeof count, total + opt);
  memory_size(mem, sizeof mem, 4.0 * (double)(total + opt));
  fprintf(f, " Total params: %s (%s)\n", count, mem);
  thousands(count, sizeof count, trainable);
  memory_size(mem, sizeof mem, 4.0 * (double)trainable);
  fprintf(f, " Trainable params: %s (%s)\n", count, mem);
  thousands(count, sizeof count, total - trainable);
  memory_size(mem, sizeof mem, 4.0 * (double)(total - trainable));
  fprintf(f, " Non-trainable params: %s (%s)\n", count, mem);
  if (opt) {
    thousands(count, sizeof count, opt);
    memory_size(mem, sizeof mem, 4.0 * (double)opt);
    fprintf(f, " Optimizer params: %s (%s)\n", count, mem);
  }
  return ferror(f) ? kcb__error(KCB_EIO, "summary: writing to the stream failed") : 0;
}
