/* kcb-inspect validate | checkpoint | csv: single files — event files checked record by record
 * (kcb_event_file_validate), Keras checkpoints (kcb/saving.h) and CSV logs (kcb/csv.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kcb_inspect.h"

/* ---- validate ------------------------------------------------------------------------------------- */

static const char validate_help[] =
    "usage: kcb-inspect validate PATH... [--json] [--quiet]\n"
    "\n"
    "Checks the framing and both CRC-32C checksums of every record of every event file, without\n"
    "decoding them. A PATH may be an event file or a directory (every event file of every run\n"
    "below it). Each damaged file is reported with the offset of the first bad record.\n"
    "\n"
    "  --quiet  print only the damaged files and the summary line\n"
    "  --jobs N files checked at once [the CPUs, at most 8]\n"
    "  --json   {\"ok\": bool, \"files\": [{\"path\", \"size\", \"records\", \"bytes_ok\", \"ok\",\n"
    "           \"problem\" (\"KCB_ETRUNC\", \"KCB_ECRC\" or null), \"offset\", \"message\"}],\n"
    "           \"not_checked\": [the PATHs missing or holding no event file, each said on stderr]}\n"
    "\n"
    "Exit status: 0 every file is whole; 1 a file is truncated or corrupt, a PATH is missing or\n"
    "holds no event file; 2 usage error.\n";

/* One file's result, filled on a worker thread. */
typedef struct file_check {
  char *path;
  int rc;
  kcb_event_file_check ck;
} file_check;

typedef struct file_list {
  file_check *items;
  size_t n, cap;
} file_list;

static int list_add(file_list *l, const char *path) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 64;
    file_check *p = realloc(l->items, cap * sizeof *p);
    if (!p) return -1;
    l->items = p;
    l->cap = cap;
  }
  memset(&l->items[l->n], 0, sizeof l->items[l->n]);
  if (!(l->items[l->n].path = strdup(path))) return -1;
  l->n++;
  return 0;
}

static void validate_job(void *ctx, size_t i) {
  file_check *f = &((file_list *)ctx)->items[i];
  f->rc = kcb_event_file_validate(f->path, &f->ck);
  if (f->rc && !f->ck.message[0]) snprintf(f->ck.message, sizeof f->ck.message, "%s", kcb_error_last());
}

static void print_check(const file_check *f, int json, int quiet, int first) {
  const kcb_event_file_check *ck = &f->ck;
  if (json) {
    printf("%s\n  {\"path\": ", first ? "" : ",");
    json_str(stdout, f->path);
    printf(", \"size\": %llu, \"records\": %llu, \"bytes_ok\": %llu, \"ok\": %s, \"problem\": ",
           (unsigned long long)ck->file_size, (unsigned long long)ck->records, (unsigned long long)ck->bytes_ok,
           f->rc ? "false" : "true");
    if (f->rc) printf("\"%s\"", kcb_error_name(f->rc));
    else printf("null");
    printf(", \"offset\": ");
    if (ck->problem) printf("%llu", (unsigned long long)ck->problem_offset);
    else printf("null");
    printf(", \"message\": ");
    if (f->rc) json_str(stdout, ck->message);
    else printf("null");
    printf("}");
  } else if (f->rc) {
    printf("BAD %s (%s); %llu whole records, %llu of %llu bytes\n", tool_esc(ck->message), kcb_error_name(f->rc),
           (unsigned long long)ck->records, (unsigned long long)ck->bytes_ok, (unsigned long long)ck->file_size);
  } else if (!quiet) {
    printf("ok  %s (%llu records, %llu bytes)\n", tool_esc(f->path), (unsigned long long)ck->records,
           (unsigned long long)ck->bytes_ok);
  }
}

int cmd_validate(int argc, char **argv) {
  static const opt_spec specs[] = {{"--json", 0}, {"--quiet", 0}, {NULL, 0}};
  args a;
  int help, rc = args_parse(&a, "validate", argc, argv, specs, &help);
  if (rc) return rc;
  if (help) {
    fputs(validate_help, stdout);
    args_free(&a);
    return EXIT_OK;
  }
  if (a.n_pos == 0) {
    args_free(&a);
    return usage_error("validate", "expected at least one PATH");
  }
  /* every file first, then the checks on --jobs threads, then the report in order */
  file_list l = {NULL, 0, 0};
  int oom = 0;
  size_t missing = 0; /* paths not checked (said on stderr): their index in a.pos, for --json */
  size_t *unchecked = calloc(a.n_pos + 1, sizeof *unchecked);
  if (!unchecked) oom = 1;
  for (size_t p = 0; p < a.n_pos && !oom; p++) {
    struct stat st;
    if (stat(a.pos[p], &st) == 0 && !S_ISDIR(st.st_mode)) {
      if (say_not_event_file(a.pos[p])) { /* passed over, not called damaged */
        unchecked[missing++] = p;
        continue;
      }
      oom = list_add(&l, a.pos[p]);
      continue;
    }
    run_ref *runs = NULL;
    size_t n = 0;
    if ((rc = runs_find(a.pos[p], &runs, &n))) {
      if (kcb_error_last()[0]) lib_fail("validate", rc);
      unchecked[missing++] = p;
      continue;
    }
    for (size_t i = 0; i < n && !oom; i++) {
      char **files = NULL;
      size_t nf = 0;
      if ((rc = kcb_tfevents_list_files(runs[i].path, &files, &nf))) {
        lib_fail("validate", rc);
        if (!missing || unchecked[missing - 1] != p) unchecked[missing++] = p;
      }
      for (size_t f = 0; f < nf && !oom; f++) oom = list_add(&l, files[f]);
      kcb_string_list_free(files, nf);
    }
    runs_free(runs, n);
  }
  if (oom) {
    rc = data_fail("validate", "out of memory");
    goto done;
  }
  parallel_for(l.n, a.jobs, validate_job, &l);
  int json = args_has(&a, "--json");
  size_t bad = 0;
  unsigned long long records = 0, bytes = 0;
  if (json) printf("{\"files\": [");
  for (size_t i = 0; i < l.n; i++) {
    print_check(&l.items[i], json, args_has(&a, "--quiet"), i == 0);
    bad += l.items[i].rc != 0;
    records += l.items[i].ck.records;
    bytes += l.items[i].ck.bytes_ok;
  }
  int ok = !bad && !missing;
  if (json) {
    printf("], \"not_checked\": [");
    for (size_t k = 0; k < missing; k++) printf("%s", k ? ", " : ""), json_str(stdout, a.pos[unchecked[k]]);
    printf("], \"ok\": %s}\n", ok ? "true" : "false");
  } else {
    if (bad) printf("%zu of %zu files damaged (%llu whole records, %llu bytes)", bad, l.n, records, bytes);
    else printf("%zu file%s whole: %llu records, %llu bytes", l.n, l.n == 1 ? "" : "s", records, bytes);
    if (missing) printf("; %zu path%s not checked (said above)", missing, missing == 1 ? "" : "s");
    printf("\n");
  }
  rc = ok ? EXIT_OK : EXIT_DATA;
done:
  free(unchecked);
  for (size_t i = 0; i < l.n; i++) free(l.items[i].path);
  free(l.items);
  args_free(&a);
  return rc;
}

/* ---- checkpoint ------------------------------------------------------------------------------------ */

static const char checkpoint_help[] =
    "usage: kcb-inspect checkpoint FILE [--arch SPEC] [--config] [--json]\n"
    "\n"
    "Describes any Keras checkpoint, whatever layers it holds (.weights.h5, .h5 from Keras 3 or\n"
    "tf.keras 2, Keras 2 weights .h5, .keras): layout, versions, a layer table (class, parameters,\n"
    "trainable / non-trainable, nested layers indented: RNN cells, wrapped layers, sub-models),\n"
    "every stored variable with its shape, dtype and statistics (sum, mean, standard deviation,\n"
    "least and greatest value), the optimizer's state, the monitor value and epoch kcb stored, and\n"
    "the model config. The shapes come from the file: no model is built.\n"
    "\n"
    "  --arch SPEC  also check the weights against a kcb model: the input shape then kcb-train's\n"
    "               model spec, e.g. 784,32:relu,10:softmax (exit 1 when they do not load)\n"
    "  --config     print the whole config JSON (text output shows its size only)\n"
    "  --json       {\"file\", \"layout\", \"keras_version\", \"kcb_version\", \"model_class\", \"model_name\",\n"
    "               \"layers_with_weights\", \"weights_count\", \"params\", \"trainable_params\",\n"
    "               \"non_trainable_params\", \"has_config\", \"has_training_config\", \"optimizer\",\n"
    "               \"layer_order_guessed\" (a weights-only file whose groups lost the layers' order),\n"
    "               \"optimizer_vars\", \"iterations\", \"monitor\", \"monitor_value\", \"epoch\" and\n"
    "               \"batch\" (1-based; \"epoch_0based\", \"batch_0based\": as stored), \"layers\": [{\"name\", \"class\", \"path\", \"parent\", \"depth\", \"vars\",\n"
    "               \"params\", \"trainable_params\"}], \"weights\": [{\"layer\", \"name\", \"path\", \"shape\",\n"
    "               \"dtype\", \"size\", \"trainable\", \"sum\" (of all values: NaN or infinite with any),\n"
    "               \"mean\", \"std\", \"min\", \"max\" (over the finite values), \"nan_count\", \"inf_count\"}],\n"
    "               \"optimizer_weights\": [... and \"owner\"], \"arch_check\", \"config\"}\n"
    "\n"
    "Exit status: 0; 1 the file is missing, not a Keras checkpoint, a variable cannot be read, or\n"
    "the weights do not fit --arch; 2 usage error.\n";

/* Builds and compiles the model an --arch spec describes. @return 0 or EXIT_USAGE / EXIT_DATA. */
static int model_from_arch(kcb_model **out, const char *arch) {
  *out = NULL;
  char shape_text[256];
  const char *comma = strchr(arch, ',');
  size_t len = comma ? (size_t)(comma - arch) : strlen(arch);
  if (!comma || len == 0 || len >= sizeof shape_text)
    return usage_error("checkpoint", "--arch '%s': expected INPUT_SHAPE,LAYERS e.g. 784,32:relu,10:softmax", arch);
  memcpy(shape_text, arch, len);
  shape_text[len] = '\0';
  int64_t shape[8];
  int rank = 0;
  for (char *p = shape_text; *p && rank < 8;) {
    char *end;
    long long d = strtoll(p, &end, 10);
    if (end == p || d <= 0 || (*end && *end != 'x'))
      return usage_error("checkpoint", "--arch '%s': bad input shape '%s' (dimensions joined by 'x', e.g. 28x28)%s", arch,
                         shape_text, end == p && p == shape_text ? "; --arch starts with the input shape, then kcb-train's "
                         "--model items: 28x28x1,flatten,256:relu,10:softmax" : "");
    shape[rank++] = d;
    p = *end ? end + 1 : end;
  }
  kcb_model *m = NULL;
  int rc = kcb_model_new(&m, rank, shape, 0);
  if (!rc) rc = kcb_model_add_from_spec(m, comma + 1);
  if (!rc) {
    kcb_compile_options co = {KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_SGD), KCB_LOSS_MEAN_SQUARED_ERROR, 0, NULL, 0, NULL};
    rc = kcb_model_compile(m, &co);
  }
  if (rc) {
    kcb_model_free(m);
    fprintf(stderr, "kcb-inspect checkpoint: --arch '%s': %s (see kcb-inspect checkpoint --help)\n", arch, kcb_error_last());
    return EXIT_USAGE;
  }
  *out = m;
  return 0;
}

static void var_shape_text(const kcb_checkpoint_var *v, char *buf, size_t size) {
  size_t used = (size_t)snprintf(buf, size, "(");
  for (int d = 0; d < v->rank && used < size; d++)
    used += (size_t)snprintf(buf + used, size - used, "%s%lld", d ? ", " : "", (long long)v->shape[d]);
  if (used < size) snprintf(buf + used, size - used, v->rank == 1 ? ",)" : ")");
}

static void json_var(const kcb_checkpoint_file *f, const kcb_checkpoint_var *v, const kcb_var_stats *s) {
  printf("{\"layer\": ");
  if (v->layer >= 0) json_str(stdout, kcb_checkpoint_file_layer(f, (size_t)v->layer)->name);
  else printf("null");
  printf(", \"name\": "), json_str(stdout, v->name);
  printf(", \"path\": "), json_str(stdout, v->path);
  printf(", \"shape\": [");
  for (int d = 0; d < v->rank; d++) printf("%s%lld", d ? ", " : "", (long long)v->shape[d]);
  printf("], \"dtype\": \"%s\", \"size\": %zu, \"trainable\": %s", kcb_var_dtype_name(v->dtype), v->count,
         v->trainable ? "true" : "false");
  if (v->is_optimizer) printf(", \"owner\": %ld", v->owner);
  printf(", \"sum\": "), json_num(stdout, s->sum);
  printf(", \"mean\": "), json_num(stdout, s->mean);
  printf(", \"std\": "), json_num(stdout, s->std);
  printf(", \"min\": "), json_num(stdout, s->min);
  printf(", \"max\": "), json_num(stdout, s->max);
  printf(", \"nan_count\": %zu, \"inf_count\": %zu}", (size_t)s->n_nan, (size_t)s->n_inf);
}

static void json_opt_str(const char *s) {
  if (s && s[0]) json_str(stdout, s);
  else printf("null");
}

static void print_checkpoint_json(const kcb_checkpoint_file *f, const kcb_var_stats *stats, size_t n_with_weights,
                                  const char *arch_check) {
  const kcb_checkpoint_meta *m = kcb_checkpoint_file_meta(f);
  printf("{\"file\": "), json_str(stdout, kcb_checkpoint_file_path(f));
  printf(", \"layout\": \"%s\", \"keras_version\": ", kcb_checkpoint_layout_name(m->layout));
  json_opt_str(m->keras_version);
  printf(", \"kcb_version\": "), json_opt_str(m->kcb_version);
  printf(", \"model_class\": "), json_opt_str(m->model_class);
  printf(", \"model_name\": "), json_opt_str(m->model_name);
  printf(", \"layers_with_weights\": %zu, \"weights_count\": %zu, \"params\": %zu, \"trainable_params\": %zu, "
         "\"non_trainable_params\": %zu, \"has_config\": %s, \"has_training_config\": %s, \"optimizer\": ",
         n_with_weights, m->n_model_vars, m->n_params, m->n_trainable_params, m->n_params - m->n_trainable_params,
         m->model_config ? "true" : "false", m->training_config ? "true" : "false");
  json_opt_str(m->optimizer_name);
  printf(", \"layer_order_guessed\": %s", m->layer_order_guessed ? "true" : "false");
  printf(", \"optimizer_vars\": %zu, \"iterations\": ", m->n_optimizer_vars);
  if (m->iterations >= 0) printf("%lld", (long long)m->iterations);
  else printf("null");
  printf(", \"monitor\": ");
  if (m->has_monitor) json_str(stdout, m->monitor), printf(", \"monitor_value\": "), json_num(stdout, m->monitor_value);
  else printf("null, \"monitor_value\": null");
  /* 1-based, as the text output, kcb-restore and Keras's {epoch} count; *_0based: the stored value */
  if (m->epoch >= 0) printf(", \"epoch\": %lld, \"epoch_0based\": %lld", (long long)m->epoch + 1, (long long)m->epoch);
  else printf(", \"epoch\": null, \"epoch_0based\": null");
  if (m->batch >= 0) printf(", \"batch\": %lld, \"batch_0based\": %lld", (long long)m->batch + 1, (long long)m->batch);
  else printf(", \"batch\": null, \"batch_0based\": null");
  printf(", \"layers\": [");
  for (size_t i = 0; i < kcb_checkpoint_file_layer_count(f); i++) {
    const kcb_checkpoint_layer *l = kcb_checkpoint_file_layer(f, i);
    printf("%s\n  {\"name\": ", i ? "," : ""), json_str(stdout, l->name);
    printf(", \"class\": "), json_opt_str(l->class_name);
    printf(", \"path\": "), json_opt_str(l->path);
    printf(", \"parent\": %d, \"depth\": %d, \"vars\": %zu, \"params\": %zu, \"trainable_params\": %zu}", l->parent,
           l->depth, l->n_vars, l->n_params, l->n_trainable_params);
  }
  printf("], \"weights\": [");
  for (size_t i = 0; i < m->n_model_vars; i++) {
    printf("%s\n  ", i ? "," : "");
    json_var(f, kcb_checkpoint_file_var(f, i), &stats[i]);
  }
  printf("], \"optimizer_weights\": [");
  for (size_t i = m->n_model_vars; i < kcb_checkpoint_file_var_count(f); i++) {
    printf("%s\n  ", i > m->n_model_vars ? "," : "");
    json_var(f, kcb_checkpoint_file_var(f, i), &stats[i]);
  }
  printf("], \"arch_check\": "), json_opt_str(arch_check);
  printf(", \"config\": ");
  if (m->model_config) json_str(stdout, m->model_config);
  else printf("null");
  printf("}\n");
}

static void print_checkpoint_text(const kcb_checkpoint_file *f, const kcb_var_stats *stats, size_t n_with_weights,
                                  int show_config) {
  const kcb_checkpoint_meta *m = kcb_checkpoint_file_meta(f);
  char b[32];
  printf("%s: layout %s", tool_esc(kcb_checkpoint_file_path(f)), kcb_checkpoint_layout_name(m->layout));
  if (m->keras_version[0]) printf(", Keras %s", tool_esc(m->keras_version));
  if (m->kcb_version[0]) printf(", written by kcb %s", tool_esc(m->kcb_version));
  printf("\n");
  if (m->model_class[0]) printf("  model: %s '%s'\n", tool_esc(m->model_class), tool_esc(m->model_name));
  printf("  %zu layers with weights, %zu weights, %zu parameters (%zu trainable, %zu non-trainable)\n", n_with_weights,
         m->n_model_vars, m->n_params, m->n_trainable_params, m->n_params - m->n_trainable_params);
  if (m->n_optimizer_vars) {
    printf("  optimizer state: %zu variables", m->n_optimizer_vars);
    if (m->optimizer_name[0]) printf(" (%s)", tool_esc(m->optimizer_name));
    if (m->iterations >= 0) printf(", %lld iteration%s", (long long)m->iterations, m->iterations == 1 ? "" : "s");
    printf("\n");
  } else {
    printf("  optimizer state: none\n");
  }
  if (m->has_monitor) printf("  monitor: %s = %s\n", tool_esc(m->monitor), num(m->monitor_value, b));
  if (m->epoch >= 0 || m->batch >= 0) {
    /* Keras's {epoch} is 1-based, as checkpoint names and kcb-restore show it */
    printf("  saved at:");
    if (m->epoch >= 0) printf(" epoch %lld", (long long)m->epoch + 1);
    if (m->batch >= 0) printf(" batch %lld", (long long)m->batch + 1);
    printf("\n");
  }
  if (m->model_config)
    printf("  config: %zu bytes of JSON%s%s\n", strlen(m->model_config), m->training_config ? ", with compile settings" : "",
           show_config ? "" : " (--config prints it)");
  else printf("  config: none (a weights-only file)\n");
  if (m->layer_order_guessed)
    printf("  note: the file does not keep its layers' order where kcb reads it (its groups are in HDF5's newer "
           "format, or a copy such as h5repack's made them in name order): the order below is a guess\n");
  printf("\n");
  table t;
  table_init(&t, 5, "llrrr");
  const char *head[5] = {"layer", "class", "params", "trainable", "non-trainable"};
  table_add(&t, head);
  for (size_t i = 0; i < kcb_checkpoint_file_layer_count(f); i++) {
    const kcb_checkpoint_layer *l = kcb_checkpoint_file_layer(f, i);
    char p[3][24];
    size_t size = 2 * (size_t)l->depth + strlen(l->name) + 1; /* Keras bounds no name's length */
    char *name = malloc(size);
    if (name) snprintf(name, size, "%*s%s", 2 * l->depth, "", l->name);
    snprintf(p[0], sizeof p[0], "%zu", l->n_params);
    snprintf(p[1], sizeof p[1], "%zu", l->n_trainable_params);
    snprintf(p[2], sizeof p[2], "%zu", l->n_params - l->n_trainable_params);
    const char *row[5] = {name ? name : l->name, l->class_name[0] ? l->class_name : "?", p[0], p[1], p[2]};
    table_add(&t, row);
    free(name);
  }
  table_print(stdout, &t, "  ");
  table_free(&t);
  printf("\n");
  table_init(&t, 10, "lllrrrrrrr");
  const char *vhead[10] = {"variable", "dtype", "shape", "size", "trainable", "sum", "mean", "std", "min", "max"};
  table_add(&t, vhead);
  for (size_t i = 0; i < kcb_checkpoint_file_var_count(f); i++) {
    const kcb_checkpoint_var *v = kcb_checkpoint_file_var(f, i);
    const kcb_var_stats *s = &stats[i];
    char sh[128], sz[24], c[5][32];
    var_shape_text(v, sh, sizeof sh);
    snprintf(sz, sizeof sz, "%zu", v->count);
    int none = v->dtype == KCB_DTYPE_UNKNOWN;
    const char *row[10] = {v->name, kcb_var_dtype_name(v->dtype), sh, sz, v->is_optimizer ? "optimizer" : v->trainable ? "yes" : "no",
                           none ? "-" : short_num(s->sum, c[0]), none ? "-" : short_num(s->mean, c[1]),
                           none ? "-" : short_num(s->std, c[2]), none ? "-" : short_num(s->min, c[3]),
                           none ? "-" : short_num(s->max, c[4])};
    table_add(&t, row);
  }
  table_print(stdout, &t, "  ");
  table_free(&t);
  /* statistics are over the finite values: a diverged checkpoint must not look healthy */
  for (size_t i = 0; i < kcb_checkpoint_file_var_count(f); i++)
    if (stats[i].n_nan || stats[i].n_inf)
      printf("  warning: %s holds %zu NaN and %zu infinite values (its sum takes them in; the other statistics "
             "above are over the finite values)\n",
             tool_esc(kcb_checkpoint_file_var(f, i)->name), (size_t)stats[i].n_nan, (size_t)stats[i].n_inf);
  if (m->model_config && show_config) { /* whole, however long (tool_esc_lines cuts at 8 KB) */
    putchar('\n');
    fput_esc(stdout, m->model_config, strlen(m->model_config), KCB_ESCAPE_KEEP_NEWLINES);
    putchar('\n');
  }
}

int cmd_checkpoint(int argc, char **argv) {
  static const opt_spec specs[] = {{"--json", 0}, {"--arch", 1}, {"--config", 0}, {NULL, 0}};
  args a;
  int help, rc = args_parse(&a, "checkpoint", argc, argv, specs, &help);
  if (rc) return rc;
  kcb_model *m = NULL;
  kcb_checkpoint_file *f = NULL;
  kcb_var_stats *stats = NULL;
  const char *arch = args_get(&a, "--arch", NULL);
  char arch_error[512] = "";
  if (help) {
    fputs(checkpoint_help, stdout);
    goto done;
  }
  if (a.n_pos != 1) {
    rc = usage_error("checkpoint", "expected one FILE");
    goto done;
  }
  const char *path = a.pos[0];
  if (arch && (rc = model_from_arch(&m, arch))) goto done;
  if ((rc = kcb_checkpoint_file_open(&f, path))) {
    rc = lib_fail("checkpoint", rc);
    goto done;
  }
  size_t nv = kcb_checkpoint_file_var_count(f), n_with_weights = 0;
  stats = calloc(nv + 1, sizeof *stats);
  if (!stats) {
    rc = data_fail("checkpoint", "out of memory");
    goto done;
  }
  for (size_t i = 0; i < nv; i++) {
    if (kcb_checkpoint_file_var(f, i)->dtype == KCB_DTYPE_UNKNOWN) {
      /* strings, opaque or compound data (a layer kcb does not know may store anything): listed
       * without statistics */
      stats[i] = (kcb_var_stats){NAN, NAN, NAN, NAN, NAN, 0, 0};
      continue;
    }
    if ((rc = kcb_checkpoint_file_stats(f, i, &stats[i]))) {
      rc = lib_fail("checkpoint", rc);
      goto done;
    }
  }
  for (size_t i = 0; i < kcb_checkpoint_file_layer_count(f); i++) {
    const kcb_checkpoint_layer *l = kcb_checkpoint_file_layer(f, i);
    n_with_weights += l->parent < 0 && l->n_params > 0;
  }
  if (m) {
    kcb_load_options lo = KCB_LOAD_OPTIONS_INIT;
    lo.optimizer = KCB_LOAD_OPTIMIZER_SKIP;
    lo.restore_rng_state = 0;
    int lrc = kcb_model_load_weights(m, path, &lo);
    if (lrc) snprintf(arch_error, sizeof arch_error, "%s (%s)", kcb_error_last(), kcb_error_name(lrc));
  }
  if (args_has(&a, "--json")) {
    print_checkpoint_json(f, stats, n_with_weights, m ? (arch_error[0] ? arch_error : "ok") : NULL);
  } else {
    print_checkpoint_text(f, stats, n_with_weights, args_has(&a, "--config"));
    if (m && !arch_error[0]) printf("\n  --arch %s: the weights load into it\n", arch);
  }
  if (arch_error[0]) rc = data_fail("checkpoint", "the weights do not fit --arch %s: %s", arch, arch_error);
done:
  free(stats);
  kcb_checkpoint_file_close(f);
  kcb_model_free(m);
  args_free(&a);
  return rc;
}

/* ---- diff of two checkpoints --------------------------------------------------------------- */

int is_checkpoint_path(const char *path) {
  size_t n = strlen(path);
  if ((n > 3 && strcmp(path + n - 3, ".h5") == 0) || (n > 5 && strcmp(path + n - 5, ".hdf5") == 0) ||
      (n > 6 && strcmp(path + n - 6, ".keras") == 0))
    return 1;
  /* a directory holding config.json and model.weights.h5: a model Keras saved unzipped (zipped=False) */
  static const char *const members[] = {"config.json", "model.weights.h5"};
  int found = 1;
  for (int i = 0; i < 2 && found; i++) {
    char member[4096];
    struct stat st;
    found = snprintf(member, sizeof member, "%s/%s", path, members[i]) < (int)sizeof member && stat(member, &st) == 0 &&
            S_ISREG(st.st_mode);
  }
  return found;
}


int cmd_checkpoint_diff(const char *pa, const char *pb, int json) {
  kcb_checkpoint_file *a = NULL, *b = NULL;
  int rc = 0, differ = 0;
  size_t not_compared = 0;
  if ((rc = kcb_checkpoint_file_open(&a, pa)) || (rc = kcb_checkpoint_file_open(&b, pb))) {
    rc = lib_fail("diff", rc);
    goto done;
  }
  size_t na = kcb_checkpoint_file_meta(a)->n_model_vars, nb = kcb_checkpoint_file_meta(b)->n_model_vars;
  char *seen = calloc(nb + 1, 1);
  if (!seen) {
    rc = data_fail("diff", "out of memory");
    goto done;
  }
  table t;
  table_init(&t, 5, "lllrr");
  const char *head[5] = {"variable", "A shape", "B shape", "max |A-B|", "rel L2"};
  table_add(&t, head);
  if (json) printf("{\"a\": "), json_str(stdout, pa), printf(", \"b\": "), json_str(stdout, pb), printf(", \"variables\": [");
  size_t rows = 0;
  for (size_t i = 0; i < na + nb; i++) {
    const kcb_checkpoint_var *va = i < na ? kcb_checkpoint_file_var(a, i) : NULL, *vb = NULL;
    long j = i < na ? kcb_checkpoint_file_match(a, i, b) : (seen[i - na] ? -2 : (long)(i - na));
    if (j == -2) continue;
    if (j >= 0) vb = kcb_checkpoint_file_var(b, (size_t)j), seen[j] = 1;
    const char *status = "same";
    double max_abs = NAN, rel = NAN;
    char sa[128] = "-", sb[128] = "-", c[2][32];
    if (va) var_shape_text(va, sa, sizeof sa);
    if (vb) var_shape_text(vb, sb, sizeof sb);
    if (!va || !vb) status = va ? "missing in B" : "missing in A";
    else if (strcmp(sa, sb) != 0) status = "shape changed";
    else if (va->dtype == KCB_DTYPE_UNKNOWN || vb->dtype == KCB_DTYPE_UNKNOWN) status = "not numeric";
    else if ((rc = kcb_checkpoint_file_compare(a, i, b, (size_t)j, &max_abs, &rel))) {
      rc = lib_fail("diff", rc);
      free(seen);
      table_free(&t);
      goto done;
    } else if (max_abs != 0) status = "changed";
    else if (va->dtype != vb->dtype) status = "dtype changed"; /* the same numbers, stored otherwise */
    int compared = !strcmp(status, "same") || !strcmp(status, "changed") || !strcmp(status, "dtype changed");
    if (!strcmp(status, "not numeric")) not_compared++;
    else differ |= strcmp(status, "same") != 0;
    const char *name = va ? va->name : vb->name;
    char dtypes[96] = ""; /* "float32 -> float64", when they differ */
    if (va && vb && va->dtype != vb->dtype)
      snprintf(dtypes, sizeof dtypes, "%s -> %s", kcb_var_dtype_name(va->dtype), kcb_var_dtype_name(vb->dtype));
    if (json) { /* null: not compared (missing, reshaped, not numeric); NaN: a NaN difference */
      printf("%s\n  {\"name\": ", rows++ ? "," : ""), json_str(stdout, name);
      printf(", \"status\": \"%s\", \"max_abs\": ", status);
      if (compared) json_num(stdout, max_abs);
      else printf("null");
      printf(", \"rel_l2\": ");
      if (compared) json_num(stdout, rel);
      else printf("null");
      if (dtypes[0]) printf(", \"dtypes\": "), json_str(stdout, dtypes);
      printf("}");
    } else {
      char label[400];
      int noted = strcmp(status, "same") && (strcmp(status, "changed") || dtypes[0]); /* a changed dtype is said */
      snprintf(label, sizeof label, "%s%s%s%s%s", name, noted ? "  (" : "", noted ? status : "",
               noted && dtypes[0] ? ": " : "", noted ? (dtypes[0] ? dtypes : "") : "");
      if (noted) strncat(label, ")", sizeof label - strlen(label) - 1);
      const char *row[5] = {label, sa, sb, compared ? short_num(max_abs, c[0]) : "-", compared ? short_num(rel, c[1]) : "-"};
      table_add(&t, row);
    }
  }
  /* The comparison covers the model's variables; the optimizer state is described, not compared,
   * so that a file without one (or with another) does not pass for the same checkpoint unsaid. */
  const kcb_checkpoint_meta *m2[2] = {kcb_checkpoint_file_meta(a), kcb_checkpoint_file_meta(b)};
  if (json) {
    printf("], \"identical\": %s", differ ? "false" : "true");
    for (int k = 0; k < 2; k++) {
      printf(", \"optimizer_%c\": {\"name\": ", "ab"[k]), json_str(stdout, m2[k]->optimizer_name);
      printf(", \"variables\": %zu, \"iterations\": %lld}", m2[k]->n_optimizer_vars, (long long)m2[k]->iterations);
    }
    printf("}\n");
  } else {
    printf("%s vs %s: %s", tool_esc(pa), tool_esc(pb), differ ? "the weights differ" : "every variable identical");
    if (not_compared) printf(" (%zu not numeric, not compared)", not_compared);
    printf("\n");
    table_print(stdout, &t, "  ");
    printf("  optimizer state (not compared):");
    for (int k = 0; k < 2; k++) {
      printf(" %c ", "AB"[k]);
      if (!m2[k]->n_optimizer_vars) printf("none");
      else {
        printf("%s, %zu variables", m2[k]->optimizer_name[0] ? tool_esc(m2[k]->optimizer_name) : "unnamed", m2[k]->n_optimizer_vars);
        if (m2[k]->iterations >= 0) printf(", iterations %lld", (long long)m2[k]->iterations);
      }
      printf(k ? "\n" : ";");
    }
  }
  table_free(&t);
  free(seen);
done:
  kcb_checkpoint_file_close(a);
  kcb_checkpoint_file_close(b);
  return rc;
}

/* ---- csv --------------------------------------------------------------------------------------------- */

/* An epoch number whole, however large (short_num's %g would print 1234567 as 1.23457e+06);
 * another value (a column that is not a CSVLogger's epoch) as short_num shows it. */
static const char *epoch_text(double e, char buf[32]) {
  if (e == floor(e) && fabs(e) < 1e15) snprintf(buf, 32, "%.0f", e);
  else short_num(e, buf);
  return buf;
}

static void json_epoch(double e) {
  if (e == floor(e) && fabs(e) < 1e15) printf("%.0f", e);
  else json_num(stdout, e);
}

static const char csv_help[] =
    "usage: kcb-inspect csv FILE [--separator C] [--json]\n"
    "\n"
    "Describes a CSV log (CSVLogger's format: a header, then one row of numbers per epoch): its\n"
    "columns, number of rows (epochs), and for each column the first, last, least and greatest\n"
    "value and the best epoch (least value, or greatest for the metrics Keras maximizes in 'auto'\n"
    "mode: accuracies, precision, recall, auc, f1_score, r2_score, IoUs, correlations...). First\n"
    "and last are the first and last rows' cells, as written (a run that ended in NaN shows it);\n"
    "the least, greatest and best skip NaN and empty cells. Epochs come from the 'epoch' column when present,\n"
    "shown 1-based as Keras's progress bar and ModelCheckpoint's {epoch} count them (the column\n"
    "itself counts from 0; JSON gives both).\n"
    "\n"
    "  --separator C  the field separator [detected from the header: the character after a\n"
    "                 CSVLogger's \"epoch\", else the first of , ; tab |]\n"
    "  --json         {\"file\", \"separator\", \"rows\", \"columns\": [...], \"stats\": [{\"column\",\n"
    "                 \"mode\", \"first\", \"last\", \"min\", \"max\", \"best\", \"best_epoch\" (1-based),\n"
    "                 \"best_epoch_0based\" (the CSV's value), \"missing\"}]}\n"
    "\n"
    "Exit status: 0; 1 the file is missing or not a CSV of numbers; 2 usage error.\n";

/* Keras's 'auto' direction for the column's name (kcb_monitor_mode_for_name); a name that does not
 * say is taken as decreasing, as losses and errors are. */
static int higher_is_better(const char *column) { return kcb_monitor_mode_for_name(column) == KCB_MONITOR_MAX; }

int cmd_csv(int argc, char **argv) {
  static const opt_spec specs[] = {{"--json", 0}, {"--separator", 1}, {NULL, 0}};
  args a;
  int help, rc = args_parse(&a, "csv", argc, argv, specs, &help);
  if (rc) return rc;
  kcb_csv_table t;
  memset(&t, 0, sizeof t);
  char sep = 0;
  size_t *run_of = NULL; /* each row's run, 1-based (below) */
  if (help) {
    fputs(csv_help, stdout);
    goto done;
  }
  const char *sv = args_get(&a, "--separator", NULL);
  if (a.n_pos != 1) rc = usage_error("csv", "expected one FILE");
  else if (sv && ((strlen(sv) != 1 && strcmp(sv, "\\t") != 0 && strcmp(sv, "tab") != 0) || strchr("\"\r\n", sv[0])))
    rc = usage_error("csv", "--separator '%s': expected one character other than a quote or a line end (or tab)", sv);
  if (rc) goto done;
  if (sv) sep = strlen(sv) == 1 ? sv[0] : '\t';
  if ((rc = kcb_csv_table_read(&t, a.pos[0], sep))) {
    rc = lib_fail("csv", rc);
    goto done;
  }
  int ec = kcb_csv_table_column(&t, "epoch");
  int json = args_has(&a, "--json");
  /* runs appended to one log (CSVLogger append=True after a restart): an epoch not after the row
   * before it starts another run; each row's run, 1-based, says whose a best value is */
  size_t runs = t.n_rows ? 1 : 0, first_restart = 0;
  run_of = calloc(t.n_rows ? t.n_rows : 1, sizeof *run_of);
  if (!run_of) {
    rc = lib_fail("csv", KCB_ENOMEM);
    goto done;
  }
  for (size_t i = 0; i < t.n_rows; i++) {
    if (ec >= 0 && i > 0 && !(kcb_csv_table_value(&t, i, (size_t)ec) > kcb_csv_table_value(&t, i - 1, (size_t)ec)))
      runs++, first_restart = first_restart ? first_restart : i;
    run_of[i] = runs;
  }
  table tb;
  table_init(&tb, 9, "llrrrrrrr");
  const char *head[9] = {"column", "mode", "first", "last", "min", "max", "best", "best epoch", "missing"};
  table_add(&tb, head);
  if (json) {
    char s[2] = {t.separator, 0};
    printf("{\"file\": ");
    json_str(stdout, a.pos[0]);
    printf(", \"separator\": ");
    json_str(stdout, s);
    printf(", \"rows\": %zu, \"runs\": %zu, \"columns\": [", t.n_rows, runs);
    for (size_t j = 0; j < t.n_columns; j++) printf("%s", j ? ", " : ""), json_str(stdout, t.columns[j]);
    printf("], \"stats\": [");
  }
  int first = 1;
  for (size_t j = 0; j < t.n_columns; j++) {
    if ((int)j == ec) continue;
    int up = higher_is_better(t.columns[j]);
    double mn = NAN, mx = NAN, best = NAN;
    size_t best_row = 0, missing = 0;
    for (size_t i = 0; i < t.n_rows; i++) {
      double v = kcb_csv_table_value(&t, i, j);
      if (isnan(v)) {
        missing++;
        continue;
      }
      if (isnan(mn) || v < mn) mn = v;
      if (isnan(mx) || v > mx) mx = v;
      if (isnan(best) || (up ? v > best : v < best)) best = v, best_row = i;
    }
    double first_v = t.n_rows ? kcb_csv_table_value(&t, 0, j) : NAN;
    double last_v = t.n_rows ? kcb_csv_table_value(&t, t.n_rows - 1, j) : NAN;
    /* 0-based as the CSV stores it; people read it 1-based */
    double best_epoch = isnan(best) ? NAN : ec >= 0 ? kcb_csv_table_value(&t, best_row, (size_t)ec) : (double)best_row;
    if (json) {
      printf("%s\n  {\"column\": ", first ? "" : ",");
      json_str(stdout, t.columns[j]);
      printf(", \"mode\": \"%s\", \"first\": ", up ? "max" : "min");
      json_num(stdout, first_v);
      printf(", \"last\": "), json_num(stdout, last_v);
      printf(", \"min\": "), json_num(stdout, mn);
      printf(", \"max\": "), json_num(stdout, mx);
      printf(", \"best\": "), json_num(stdout, best);
      printf(", \"best_epoch\": ");
      if (isnan(best_epoch)) printf("null");
      else json_epoch(best_epoch + 1);
      printf(", \"best_epoch_0based\": ");
      if (isnan(best_epoch)) printf("null");
      else json_epoch(best_epoch);
      printf(", \"best_run\": ");
      if (isnan(best)) printf("null");
      else printf("%zu", run_of[best_row]);
      printf(", \"missing\": %zu}", missing);
    } else {
      char c[7][32], ms[24], best_at[64];
      snprintf(ms, sizeof ms, "%zu", missing);
      if (isnan(best_epoch)) snprintf(best_at, sizeof best_at, "-");
      else if (runs > 1) snprintf(best_at, sizeof best_at, "%s (run %zu)", epoch_text(best_epoch + 1, c[5]), run_of[best_row]);
      else snprintf(best_at, sizeof best_at, "%s", epoch_text(best_epoch + 1, c[5]));
      const char *row[9] = {t.columns[j], up ? "max" : "min", short_num(first_v, c[0]), short_num(last_v, c[1]),
                            short_num(mn, c[2]), short_num(mx, c[3]), short_num(best, c[4]), best_at, ms};
      table_add(&tb, row);
    }
    first = 0;
  }
  if (json) {
    printf("]}\n");
  } else {
    char sep_text[8];
    if (t.separator == '\t') snprintf(sep_text, sizeof sep_text, "tab");
    else snprintf(sep_text, sizeof sep_text, "'%c'", t.separator);
    if (runs > 1)
      printf("%s: %zu rows, %zu runs appended (the epochs restart at row %zu), %zu columns, separator %s\n",
             tool_esc(a.pos[0]), t.n_rows, runs, first_restart + 1, t.n_columns, sep_text);
    else
      printf("%s: %zu rows (epochs), %zu columns, separator %s\n", tool_esc(a.pos[0]), t.n_rows, t.n_columns, sep_text);
    if (ec >= 0 && t.n_rows) {
      double lo = NAN, hi = NAN;
      for (size_t i = 0; i < t.n_rows; i++) {
        double e = kcb_csv_table_value(&t, i, (size_t)ec);
        if (isnan(lo) || e < lo) lo = e;
        if (isnan(hi) || e > hi) hi = e;
      }
      char e0[32], e1[32];
      printf("  epochs %s..%s (1-based)\n", epoch_text(lo + 1, e0), epoch_text(hi + 1, e1));
    }
    table_print(stdout, &tb, "  ");
  }
  table_free(&tb);
  rc = EXIT_OK;
done:
  free(run_of);
  kcb_csv_table_free(&t);
  args_free(&a);
  return rc;
}
