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
    "           \"problem\" (\"KCB_ETRUNC\", \"KCB_ECRC\" or null), \"offset\", \"message\"}]}\n"
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
    printf("BAD %s (%s); %llu whole records, %llu of %llu bytes\n", ck->message, kcb_error_name(f->rc),
           (unsigned long long)ck->records, (unsigned long long)ck->bytes_ok, (unsigned long long)ck->file_size);
  } else if (!quiet) {
    printf("ok  %s (%llu records, %llu bytes)\n", f->path, (unsigned long long)ck->records,
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
  int missing = 0, oom = 0;
  for (size_t p = 0; p < a.n_pos && !oom; p++) {
    struct stat st;
    if (stat(a.pos[p], &st) == 0 && !S_ISDIR(st.st_mode)) {
      oom = list_add(&l, a.pos[p]);
      continue;
    }
    run_ref *runs = NULL;
    size_t n = 0;
    if ((rc = runs_find(a.pos[p], &runs, &n))) {
      if (kcb_error_last()[0]) lib_fail("validate", rc);
      missing = 1;
      continue;
    }
    for (size_t i = 0; i < n && !oom; i++) {
      char **files = NULL;
      size_t nf = 0;
      if ((rc = kcb_tfevents_list_files(runs[i].path, &files, &nf))) {
        lib_fail("validate", rc);
        missing = 1;
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
  if (json) printf("], \"ok\": %s}\n", ok ? "true" : "false");
  else if (bad) printf("%zu of %zu files damaged (%llu whole records, %llu bytes)\n", bad, l.n, records, bytes);
  else printf("%zu file%s whole: %llu records, %llu bytes\n", l.n, l.n == 1 ? "" : "s", records, bytes);
  rc = ok ? EXIT_OK : EXIT_DATA;
done:
  for (size_t i = 0; i < l.n; i++) free(l.items[i].path);
  free(l.items);
  args_free(&a);
  return rc;
}

/* ---- checkpoint ------------------------------------------------------------------------------------ */

static const char checkpoint_help[] =
    "usage: kcb-inspect checkpoint FILE [--arch SPEC] [--config] [--json]\n"
    "\n"
    "Describes a Keras checkpoint written by kcb or Keras (.weights.h5, .h5, .keras, Keras 2\n"
    "weights .h5): layout, versions, layers, every weight's shape and statistics (sum, mean,\n"
    "standard deviation, least and greatest value), optimizer state, the monitor value and epoch\n"
    "kcb stored, and the model config. Weights are read by rebuilding the model from the stored\n"
    "config; a weights-only file needs --arch.\n"
    "\n"
    "  --arch SPEC  the architecture of a weights-only file: the input shape then kcb-train's\n"
    "               model spec, e.g. 784,32:relu,10:softmax or 28x28,flatten,10:softmax\n"
    "  --config     print the whole config JSON (text output shows its size only)\n"
    "  --json       {\"file\", \"layout\", \"keras_version\", \"kcb_version\", \"layers_with_weights\",\n"
    "               \"weights_count\", \"params\", \"optimizer_vars\", \"iterations\", \"monitor\",\n"
    "               \"monitor_value\", \"epoch\", \"batch\", \"layers\": [{\"name\", \"class\"}], \"weights\":\n"
    "               [{\"layer\", \"name\", \"shape\", \"size\", \"sum\", \"mean\", \"std\", \"min\", \"max\"}]\n"
    "               (null when not read), \"config\" (the JSON text, or null)}\n"
    "\n"
    "Exit status: 0; 1 the file is missing, not a Keras checkpoint, or its weights cannot be read;\n"
    "2 usage error.\n";

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
      return usage_error("checkpoint", "--arch '%s': bad input shape '%s' (dimensions joined by 'x', e.g. 28x28)", arch,
                         shape_text);
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

typedef struct weight_stats {
  double sum, mean, std, min, max;
} weight_stats;

static weight_stats stats_of(const float *x, size_t n) {
  weight_stats s = {0, NAN, NAN, NAN, NAN};
  double sum = 0, sq = 0;
  for (size_t i = 0; i < n; i++) {
    double v = x[i];
    sum += v;
    if (i == 0 || v < s.min) s.min = v;
    if (i == 0 || v > s.max) s.max = v;
  }
  s.sum = sum;
  if (n) {
    s.mean = sum / (double)n;
    for (size_t i = 0; i < n; i++) sq += (x[i] - s.mean) * (x[i] - s.mean);
    s.std = sqrt(sq / (double)n);
  }
  return s;
}

static void shape_text(const kcb_weight_info *w, char *buf, size_t size) {
  if (w->rank == 1) snprintf(buf, size, "(%lld,)", (long long)w->shape[0]);
  else snprintf(buf, size, "(%lld, %lld)", (long long)w->shape[0], (long long)w->shape[1]);
}

int cmd_checkpoint(int argc, char **argv) {
  static const opt_spec specs[] = {{"--json", 0}, {"--arch", 1}, {"--config", 0}, {NULL, 0}};
  args a;
  int help, rc = args_parse(&a, "checkpoint", argc, argv, specs, &help);
  if (rc) return rc;
  kcb_model *m = NULL;
  char *config = NULL;
  const char *arch = args_get(&a, "--arch", NULL);
  int json = args_has(&a, "--json");
  char weights_error[512] = "";
  if (help) {
    fputs(checkpoint_help, stdout);
    goto done;
  }
  if (a.n_pos != 1) {
    rc = usage_error("checkpoint", "expected one FILE");
    goto done;
  }
  const char *path = a.pos[0];
  kcb_checkpoint_info info;
  if ((rc = kcb_checkpoint_info_read(&info, path))) {
    rc = lib_fail("checkpoint", rc);
    goto done;
  }
  if ((rc = kcb_checkpoint_config_read(path, &config))) {
    rc = lib_fail("checkpoint", rc);
    goto done;
  }
  /* the weights: through a model rebuilt from the config, or from --arch */
  if (arch) {
    if ((rc = model_from_arch(&m, arch))) goto done;
    kcb_load_options lo = KCB_LOAD_OPTIONS_INIT;
    lo.optimizer = KCB_LOAD_OPTIMIZER_SKIP;
    lo.restore_rng_state = 0;
    if ((rc = kcb_model_load_weights(m, path, &lo))) {
      snprintf(weights_error, sizeof weights_error, "%s (%s)", kcb_error_last(), kcb_error_name(rc));
      kcb_model_free(m);
      m = NULL;
    }
  } else if (config) {
    kcb_load_options lo = KCB_LOAD_OPTIONS_INIT;
    lo.optimizer = KCB_LOAD_OPTIMIZER_SKIP;
    if ((rc = kcb_model_load(&m, path, &lo)))
      snprintf(weights_error, sizeof weights_error, "%s (%s)", kcb_error_last(), kcb_error_name(rc));
  }
  rc = 0;
  size_t nw = m ? kcb_model_weight_count(m) : 0;
  if (json) {
    printf("{\"file\": ");
    json_str(stdout, path);
    printf(", \"layout\": \"%s\", \"keras_version\": ", kcb_checkpoint_layout_name(info.layout));
    if (info.keras_version[0]) json_str(stdout, info.keras_version);
    else printf("null");
    printf(", \"kcb_version\": ");
    if (info.kcb_version[0]) json_str(stdout, info.kcb_version);
    else printf("null");
    printf(", \"layers_with_weights\": %zu, \"weights_count\": %zu, \"params\": %zu, \"has_config\": %s, "
           "\"has_training_config\": %s, \"optimizer_vars\": %zu, \"iterations\": ",
           info.n_layers, info.n_weights, info.n_params, info.has_config ? "true" : "false",
           info.has_training_config ? "true" : "false", info.n_optimizer_vars);
    if (info.iterations >= 0) printf("%lld", (long long)info.iterations);
    else printf("null");
    printf(", \"monitor\": ");
    if (info.has_monitor) json_str(stdout, info.monitor), printf(", \"monitor_value\": "), json_num(stdout, info.monitor_value);
    else printf("null, \"monitor_value\": null");
    printf(", \"epoch\": ");
    if (info.epoch >= 0) printf("%lld", (long long)info.epoch);
    else printf("null");
    printf(", \"batch\": ");
    if (info.batch >= 0) printf("%lld", (long long)info.batch);
    else printf("null");
    printf(", \"layers\": ");
    if (m) {
      printf("[");
      for (size_t i = 0; i < kcb_model_layer_count(m); i++) {
        printf("%s{\"name\": ", i ? ", " : "");
        json_str(stdout, kcb_model_layer_name(m, i));
        printf(", \"class\": ");
        json_str(stdout, kcb_model_layer_class(m, i));
        printf("}");
      }
      printf("]");
    } else {
      printf("null");
    }
    printf(", \"weights\": ");
    if (m) {
      printf("[");
      for (size_t i = 0; i < nw; i++) {
        kcb_weight_info w;
        if (kcb_model_weight(m, i, &w)) continue;
        weight_stats s = stats_of(w.data, w.size);
        printf("%s\n  {\"layer\": ", i ? "," : "");
        json_str(stdout, w.layer_name);
        printf(", \"name\": ");
        json_str(stdout, w.name);
        printf(", \"shape\": [");
        for (int d = 0; d < w.rank; d++) printf("%s%lld", d ? ", " : "", (long long)w.shape[d]);
        printf("], \"size\": %zu, \"sum\": ", w.size);
        json_num(stdout, s.sum);
        printf(", \"mean\": "), json_num(stdout, s.mean);
        printf(", \"std\": "), json_num(stdout, s.std);
        printf(", \"min\": "), json_num(stdout, s.min);
        printf(", \"max\": "), json_num(stdout, s.max);
        printf("}");
      }
      printf("]");
    } else {
      printf("null");
    }
    printf(", \"weights_error\": ");
    if (weights_error[0]) json_str(stdout, weights_error);
    else printf("null");
    printf(", \"config\": ");
    if (config) json_str(stdout, config);
    else printf("null");
    printf("}\n");
  } else {
    char b[32];
    printf("%s: layout %s", path, kcb_checkpoint_layout_name(info.layout));
    if (info.keras_version[0]) printf(", Keras %s", info.keras_version);
    if (info.kcb_version[0]) printf(", written by kcb %s", info.kcb_version);
    printf("\n  %zu layers with weights, %zu weights, %zu parameters\n", info.n_layers, info.n_weights, info.n_params);
    if (info.n_optimizer_vars) {
      printf("  optimizer state: %zu variables", info.n_optimizer_vars);
      if (info.iterations >= 0) printf(", %lld iteration%s", (long long)info.iterations, info.iterations == 1 ? "" : "s");
      printf("\n");
    } else {
      printf("  optimizer state: none\n");
    }
    if (info.has_monitor) printf("  monitor: %s = %s\n", info.monitor, num(info.monitor_value, b));
    if (info.epoch >= 0 || info.batch >= 0) {
      printf("  saved at:");
      if (info.epoch >= 0) printf(" epoch %lld", (long long)info.epoch);
      if (info.batch >= 0) printf(" batch %lld", (long long)info.batch);
      printf("\n");
    }
    if (config) printf("  config: %zu bytes of JSON%s%s\n", strlen(config), info.has_training_config ? ", with compile settings" : "",
                       args_has(&a, "--config") ? "" : " (--config prints it)");
    else printf("  config: none (a weights-only file)\n");
    if (m) {
      printf("  layers:");
      for (size_t i = 0; i < kcb_model_layer_count(m); i++)
        printf("%s %s (%s)", i ? "," : "", kcb_model_layer_name(m, i), kcb_model_layer_class(m, i));
      printf("\n\n");
      table t;
      table_init(&t, 9, "llrrrrrrr");
      const char *head[9] = {"layer", "weight", "shape", "size", "sum", "mean", "std", "min", "max"};
      table_add(&t, head);
      for (size_t i = 0; i < nw; i++) {
        kcb_weight_info w;
        if (kcb_model_weight(m, i, &w)) continue;
        weight_stats s = stats_of(w.data, w.size);
        char sh[64], sz[24], c[5][32];
        shape_text(&w, sh, sizeof sh);
        snprintf(sz, sizeof sz, "%zu", w.size);
        const char *row[9] = {w.layer_name, w.name, sh, sz, short_num(s.sum, c[0]), short_num(s.mean, c[1]),
                              short_num(s.std, c[2]), short_num(s.min, c[3]), short_num(s.max, c[4])};
        table_add(&t, row);
      }
      table_print(stdout, &t, "  ");
      table_free(&t);
    } else if (!weights_error[0]) {
      printf("  weights: not read (no model config in the file; give --arch, e.g. --arch 784,32:relu,10:softmax)\n");
    }
    if (config && args_has(&a, "--config")) printf("\n%s\n", config);
  }
  if (weights_error[0]) rc = data_fail("checkpoint", "cannot read the weights: %s", weights_error);
done:
  free(config);
  kcb_model_free(m);
  args_free(&a);
  return rc;
}

/* ---- csv --------------------------------------------------------------------------------------------- */

static const char csv_help[] =
    "usage: kcb-inspect csv FILE [--separator C] [--json]\n"
    "\n"
    "Describes a CSV log (CSVLogger's format: a header, then one row of numbers per epoch): its\n"
    "columns, number of rows (epochs), and for each column the first, last, least and greatest\n"
    "value and the best epoch (least value, or greatest for accuracies, as Keras's 'auto' mode\n"
    "decides; NaN and empty cells are skipped). Epochs come from the 'epoch' column when present,\n"
    "shown 1-based as Keras's progress bar and ModelCheckpoint's {epoch} count them (the column\n"
    "itself counts from 0; JSON gives both).\n"
    "\n"
    "  --separator C  the field separator [detected from the header: , ; tab |]\n"
    "  --json         {\"file\", \"separator\", \"rows\", \"columns\": [...], \"stats\": [{\"column\",\n"
    "                 \"mode\", \"first\", \"last\", \"min\", \"max\", \"best\", \"best_epoch\" (1-based),\n"
    "                 \"best_epoch_0based\" (the CSV's value), \"missing\"}]}\n"
    "\n"
    "Exit status: 0; 1 the file is missing or not a CSV of numbers; 2 usage error.\n";

/* Keras's 'auto' direction: accuracies (and F-measures) improve upward, everything else down. */
static int higher_is_better(const char *column) {
  const char *c = strncmp(column, "val_", 4) == 0 ? column + 4 : column;
  return strstr(c, "acc") != NULL || strncmp(c, "fmeasure", 8) == 0 || strstr(c, "auc") != NULL ||
         strstr(c, "precision") != NULL || strstr(c, "recall") != NULL;
}

int cmd_csv(int argc, char **argv) {
  static const opt_spec specs[] = {{"--json", 0}, {"--separator", 1}, {NULL, 0}};
  args a;
  int help, rc = args_parse(&a, "csv", argc, argv, specs, &help);
  if (rc) return rc;
  kcb_csv_table t;
  memset(&t, 0, sizeof t);
  char sep = 0;
  if (help) {
    fputs(csv_help, stdout);
    goto done;
  }
  const char *sv = args_get(&a, "--separator", NULL);
  if (a.n_pos != 1) rc = usage_error("csv", "expected one FILE");
  else if (sv && (strlen(sv) != 1 && strcmp(sv, "\\t") != 0 && strcmp(sv, "tab") != 0))
    rc = usage_error("csv", "--separator '%s': expected one character (or tab)", sv);
  if (rc) goto done;
  if (sv) sep = strlen(sv) == 1 ? sv[0] : '\t';
  if ((rc = kcb_csv_table_read(&t, a.pos[0], sep))) {
    rc = lib_fail("csv", rc);
    goto done;
  }
  int ec = kcb_csv_table_column(&t, "epoch");
  int json = args_has(&a, "--json");
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
    printf(", \"rows\": %zu, \"columns\": [", t.n_rows);
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
      else json_num(stdout, best_epoch + 1);
      printf(", \"best_epoch_0based\": ");
      if (isnan(best_epoch)) printf("null");
      else json_num(stdout, best_epoch);
      printf(", \"missing\": %zu}", missing);
    } else {
      char c[7][32], ms[24];
      snprintf(ms, sizeof ms, "%zu", missing);
      const char *row[9] = {t.columns[j], up ? "max" : "min", short_num(first_v, c[0]), short_num(last_v, c[1]),
                            short_num(mn, c[2]), short_num(mx, c[3]), short_num(best, c[4]),
                            isnan(best_epoch) ? "-" : short_num(best_epoch + 1, c[5]), ms};
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
    printf("%s: %zu rows (epochs), %zu columns, separator %s\n", a.pos[0], t.n_rows, t.n_columns, sep_text);
    if (ec >= 0 && t.n_rows) {
      double lo = NAN, hi = NAN;
      for (size_t i = 0; i < t.n_rows; i++) {
        double e = kcb_csv_table_value(&t, i, (size_t)ec);
        if (isnan(lo) || e < lo) lo = e;
        if (isnan(hi) || e > hi) hi = e;
      }
      char e0[32], e1[32];
      printf("  epochs %s..%s (1-based)\n", short_num(lo + 1, e0), short_num(hi + 1, e1));
    }
    table_print(stdout, &tb, "  ");
  }
  table_free(&tb);
  rc = EXIT_OK;
done:
  kcb_csv_table_free(&t);
  args_free(&a);
  return rc;
}
