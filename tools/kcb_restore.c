/* kcb-restore — rank checkpoints by a monitored value and restore / export the best one. The
 * ranking and the export live in the library (kcb/checkpoint.h); this file parses arguments and
 * prints. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_common.h"
#include "kcb/kcb.h"
#include "tool_text.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: kcb-restore [options] DIR_OR_FILE...\n"
          "Finds checkpoints (.weights.h5, .h5, .hdf5, .keras; directories are searched recursively), ranks\n"
          "them by a monitored value and writes the best one's weights.\n\n"
          "  --monitor NAME        the value to rank by [val_loss]\n"
          "  --mode auto|min|max   lower or higher is better; auto: min for losses and errors, max for\n"
          "                        accuracies, precision, recall, auc, f1/fbeta, r2, IoUs, correlations [auto]\n"
          "  --csv FILE            the CSVLogger file to read values from [a *.csv with the columns epoch\n"
          "                        and NAME next to each checkpoint: of several, the one whose name the\n"
          "                        checkpoint's starts with (a.csv for a.03.keras); none if they disagree]\n"
          "                        Its rows value epoch-end files only (not those saved mid-epoch), and\n"
          "                        give the exact value where a template's name rounds it. A path ending\n"
          "                        in .csv among the files (before any --) is taken as --csv\n"
          "  --template TEMPLATE   ModelCheckpoint's filepath template (e.g. 'w.{epoch:02d}-{val_loss:.2f}.keras'):\n"
          "                        names it matches give NAME's value and the epoch (fields may stand in\n"
          "                        its directories too: 'ckpt/epoch_{epoch:02d}/model.keras')\n"
          "  -o, --output FILE     write the best checkpoint's weights to FILE, then read them back and\n"
          "                        compare every weight, replacing FILE only then; a single checkpoint\n"
          "                        with no value to rank by is the one written [none: only list]\n"
          "  --format weights.h5|h5|keras|legacy_weights.h5\n"
          "                        FILE's layout [from FILE's name]; h5 and keras need a full-model\n"
          "                        checkpoint (.h5 or .keras) to rebuild the architecture from;\n"
          "                        legacy_weights.h5 is Keras 2's save_weights layout (FILE named *.h5)\n"
          "  --list                only list, even with --output\n"
          "  --json                print the listing as JSON on stdout\n"
          "  --version             print the version\n"
          "  -h, --help            this help\n\n"
          "A checkpoint's value is, in order: the value stored in the file (ModelCheckpoint stores it),\n"
          "the file name (through --template; else NAME=0.31), the CSV log's row for the checkpoint's epoch\n"
          "(stored, or the number after 'epoch' / the first whole number of the name not glued to letters,\n"
          "as v2 or resnet50 are, read as Keras's 1-based {epoch}; of several rows, the last, unless the name's\n"
          "value is another's), or the one decimal number after '-' '_' or '=' in the name, as in w.03-0.31.weights.h5\n"
          "(unless the file records that it was saved by another monitor; a name with two such numbers\n"
          "gives none: use --template). That number is what the run's CSV log holds under most names of its\n"
          "template (one directory, one shape) at their epochs' rows: NAME (the row's exact value is used;\n"
          "a name no row holds, another run's, is valued by its number), or another column (the row holding\n"
          "it values the file by its NAME, if logged). Names of one template and epoch with numbers the log\n"
          "does not hold, differing in another whole number (a batch), were saved mid-epoch (save_freq in\n"
          "batches): their names value them, but never as a val_ NAME, which Keras computes only at an\n"
          "epoch's end; differing in their value alone, they are several runs' saves, each valued by its\n"
          "name (run tags and dates are no batches). Not NAME's: a number labelled as another value's\n"
          "(val_acc=0.87, lr-0.001), or one number before the epoch in every name of a template at 3 epochs\n"
          "or more. A name without an epoch may take it from a directory named epoch_N. A note says what is\n"
          "left out or guessed.\n"
          "A link beside the file it names (best.keras) is ranked as that file, a link given by name is\n"
          "valued by its final target's name and log; links to directories are\n"
          "listed, not followed. Unreadable files are reported on stderr and skipped.\n\n"
          "Exit status: 0 ok; 1 nothing rankable, or writing / verifying FILE failed; 2 usage error.\n");
}

static int usage_error(const char *msg, const char *arg) {
  fprintf(stderr, "kcb-restore: %s%s%s (see kcb-restore --help)\n", msg, arg ? ": " : "", arg ? arg : "");
  return 2;
}

/* A value that is none of the choices, with the nearest of them when it looks mistyped. */
static int usage_choice(const char *flag, const char *value, const char *const *choices, size_t n) {
  char hint[256];
  fprintf(stderr, "kcb-restore: %s '%s': %s (see kcb-restore --help)\n", flag, value,
          cli_expected(hint, sizeof hint, value, choices, n));
  return 2;
}

static void json_string(const char *s) { cli_json_string(stdout, s, strlen(s)); }

static void json_number(double v) {
  char buf[40];
  if (v != v || v > 1.7976931348623157e308 || v < -1.7976931348623157e308) printf("null");
  else printf("%s", kcb_format_double(v, buf, sizeof buf));
}

static void print_table(const kcb_checkpoint_ranking *r, const char *monitor) {
  if (r->n_unreadable == r->count) return; /* no row: each file was skipped, said on stderr */
  size_t w = 4; /* columns on a terminal, not bytes: file names in any script line up */
  for (size_t i = 0; i < r->count; i++)
    if (cli_display_width(tool_esc(r->entries[i].path)) > w) w = cli_display_width(tool_esc(r->entries[i].path));
  printf("%-4s  ", "rank");
  cli_pad(stdout, "file", w, 0);
  printf("  %-17s  %5s  %-22s  %s\n", "layout", "epoch", monitor, "source");
  for (size_t i = 0; i < r->count; i++) {
    const kcb_checkpoint_entry *e = &r->entries[i];
    if (!e->readable) continue;
    char rank[24] = "-", epoch[24] = "-", value[40] = "-";
    if (e->rank) snprintf(rank, sizeof rank, "%zu", e->rank);
    if (e->epoch >= 0) snprintf(epoch, sizeof epoch, "%lld", (long long)e->epoch + 1);
    if (e->source != KCB_RANK_NONE) kcb_format_double(e->value, value, sizeof value);
    printf("%-4s  ", rank);
    cli_pad(stdout, tool_esc(e->path), w, 0);
    printf("  %-17s  %5s  %-22s  %s\n", kcb_checkpoint_layout_name(e->info.layout), epoch, value,
           kcb_rank_source_name(e->source));
  }
}

static void print_json(const kcb_checkpoint_ranking *r, const char *monitor, const char *best, const char *output,
                       int wrote, int verified) {
  printf("{\"monitor\": ");
  json_string(monitor);
  printf(", \"mode\": \"%s\", \"ranked\": %zu, \"unreadable\": %zu, \"checkpoints\": [", kcb_monitor_mode_name(r->mode),
         r->n_ranked, r->n_unreadable);
  for (size_t i = 0; i < r->count; i++) {
    const kcb_checkpoint_entry *e = &r->entries[i];
    printf("%s\n  {\"path\": ", i ? "," : "");
    json_string(e->path);
    printf(", \"readable\": %s", e->readable ? "true" : "false");
    if (!e->readable) {
      printf(", \"error\": ");
      json_string(e->error ? e->error : "");
      printf("}");
      continue;
    }
    printf(", \"rank\": ");
    if (e->rank) printf("%zu", e->rank); else printf("null");
    printf(", \"layout\": \"%s\", \"epoch\": ", kcb_checkpoint_layout_name(e->info.layout));
    if (e->epoch >= 0) printf("%lld", (long long)e->epoch + 1); else printf("null");
    printf(", \"batch\": ");
    if (e->batch >= 0) printf("%lld", (long long)e->batch + 1); else printf("null");
    printf(", \"value\": ");
    if (e->source != KCB_RANK_NONE) json_number(e->value); else printf("null");
    printf(", \"source\": \"%s\", \"iterations\": %lld, \"params\": %zu, \"has_config\": %s}", kcb_rank_source_name(e->source),
           (long long)e->info.iterations, e->info.n_params, e->info.has_config ? "true" : "false");
  }
  printf("\n], \"best\": ");
  if (best) json_string(best); else printf("null");
  printf(", \"output\": ");
  if (output && wrote) json_string(output); else printf("null");
  printf(", \"verified\": %s}\n", verified ? "true" : "false");
}

/* Whether --output names one of the checkpoints ranked (said on stderr): writing there would
 * replace a checkpoint with another's weights, silently. */
static int output_is_ranked(const kcb_checkpoint_ranking *r, const char *output) {
  struct stat out, st;
  if (stat(output, &out) != 0) return 0;
  for (size_t i = 0; i < r->count; i++)
    if (stat(r->entries[i].path, &st) == 0 && st.st_dev == out.st_dev && st.st_ino == out.st_ino) {
      fprintf(stderr, "kcb-restore: --output '%s' is %s, one of the checkpoints ranked: writing there would replace it; "
              "give another name\n", tool_esc(output), tool_esc(r->entries[i].path));
      return 1;
    }
  return 0;
}

int main(int argc, char **argv) {
  static const char *const modes[] = {"auto", "min", "max"};
  cli_open_standard_fds(); /* first: before anything opens a file */
  cli_check_stdout_at_exit("kcb-restore");
  if (cli_check_environment("kcb-restore", argc, argv)) return 2;
  kcb_rank_options ro = KCB_RANK_OPTIONS_INIT;
  const char *output = NULL, *format = NULL;
  int given_once[6] = {0}; /* the flags of one value given so far (see below) */
  int list_only = 0, json = 0;
  const char **paths = calloc((size_t)argc, sizeof *paths);
  size_t n_paths = 0;
  if (!paths) return 1;
  int options_ended = 0; /* after "--", every argument is a path (a file named "-w.01.keras") */
  char attached[PATH_MAX + 16]; /* "--output=FILE" of a -oFILE (one --output is taken) */
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (options_ended || a[0] != '-' || strcmp(a, "-") == 0) {
      size_t n = strlen(a);
      if (!*a) { free(paths); return usage_error("an empty path", NULL); }
      if (n > 4 && strcmp(a + n - 4, ".csv") == 0 && !options_ended) { /* a log given among the files: --csv */
        if (given_once[2]++) {
          free(paths);
          return usage_error("a second CSV log (a path ending in .csv is taken as --csv, which takes one)", a);
        }
        ro.csv_path = a;
      } else paths[n_paths++] = a;
      continue;
    }
    if (strcmp(a, "--") == 0) {
      options_ended = 1;
      continue;
    }
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      free(paths);
      return 0;
    }
    if (strcmp(a, "--version") == 0) {
      cli_print_version("kcb-restore");
      free(paths);
      return 0;
    }
    if (strcmp(a, "--list") == 0) { list_only = 1; continue; }
    if (strcmp(a, "--json") == 0) { json = 1; continue; }
    if (strcmp(a, "-o") == 0) a = "--output"; /* as kcb-inspect's -o */
    else if (!strncmp(a, "-o", 2) && a[2]) { /* -oFILE, as getopt takes it, and -o=FILE */
      if ((size_t)snprintf(attached, sizeof attached, "--output=%s", a + 2 + (a[2] == '=')) >= sizeof attached) {
        free(paths);
        return usage_error("-o: the file name is longer than a path can be", NULL);
      }
      a = attached;
    }
    else if (a[0] == '-' && a[1] && a[1] != '-') {
      fprintf(stderr, "kcb-restore: unknown option '%s' (see kcb-restore --help)\n", a);
      free(paths);
      return 2;
    }
    /* --name=value or --name value; an unknown name is said to be unknown, with the nearest one */
    static const char *const valued[] = {"--monitor", "--mode", "--csv", "--template", "--output", "--format"};
    static const char *const all[] = {"--monitor", "--mode", "--csv", "--template", "--output", "--format",
                                      "--list", "--json", "--help", "--version"};
    char flag[64];
    const char *eq = strchr(a, '=');
    snprintf(flag, sizeof flag, "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a);
    int known = 0;
    for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++) known |= strcmp(flag, valued[k]) == 0;
    if (!known && eq && (!strcmp(flag, "--list") || !strcmp(flag, "--json") || !strcmp(flag, "--help") ||
                         !strcmp(flag, "--version"))) {
      fprintf(stderr, "kcb-restore: option '%s' takes no value (given '%s') (see kcb-restore --help)\n", flag, eq + 1);
      free(paths);
      return 2;
    }
    if (!known) {
      fprintf(stderr, "kcb-restore: unknown option '%s'", flag);
      cli_print_suggestion(stderr, flag, all, sizeof all / sizeof all[0]);
      fprintf(stderr, " (see kcb-restore --help)\n");
      free(paths);
      return 2;
    }
    if (!eq && i + 1 >= argc) { free(paths); return usage_error("option needs a value", a); }
    const char *v = eq ? eq + 1 : argv[++i];
    a = flag;
    size_t vn = strcspn(v, "="); /* the next argument "--csv", "--csv=x", "-o" or "-h": an option */
    int is_option = !strcmp(v, "-o") || !strcmp(v, "-h");
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) is_option |= strlen(all[k]) == vn && !strncmp(v, all[k], vn);
    if (!eq && is_option) {
      fprintf(stderr, "kcb-restore: %s needs a value, and the next argument is the option %s (write %s=%s for a value "
              "so named) (see kcb-restore --help)\n", flag, v, flag, v);
      free(paths);
      return 2;
    }
    if (!*v) { free(paths); return usage_error("option needs a value", a); }
    /* each takes one value: a second would replace the first in silence */
    static const char *const single[] = {"--monitor", "--mode", "--csv", "--template", "--output", "--format"};
    for (size_t k = 0; k < sizeof single / sizeof single[0]; k++)
      if (strcmp(a, single[k]) == 0 && given_once[k]++) {
        free(paths);
        return usage_error("option given twice; it takes one value", a);
      }
    if (strcmp(a, "--monitor") == 0) ro.monitor = v;
    else if (strcmp(a, "--mode") == 0) {
      if (kcb_monitor_mode_from_name(&ro.mode, v) != 0) {
        free(paths);
        return usage_choice("--mode", v, modes, 3);
      }
    } else if (strcmp(a, "--csv") == 0) ro.csv_path = v;
    else if (strcmp(a, "--template") == 0) ro.name_template = v;
    else if (strcmp(a, "--output") == 0) output = v;
    else if (strcmp(a, "--format") == 0) format = v;
    else { free(paths); return usage_error("unknown option", a); }
  }
  if (n_paths == 0) { free(paths); return usage_error("no checkpoint directory or file given", NULL); }
  kcb_checkpoint_layout layout = KCB_LAYOUT_AUTO;
  if (format) {
    const char *formats[KCB_LAYOUT_COUNT];
    size_t n_formats = 0;
    for (int l = KCB_LAYOUT_AUTO + 1; l < KCB_LAYOUT_COUNT; l++) {
      formats[n_formats++] = kcb_checkpoint_layout_name((kcb_checkpoint_layout)l);
      if (strcmp(format, formats[n_formats - 1]) == 0) layout = (kcb_checkpoint_layout)l;
    }
    if (layout == KCB_LAYOUT_AUTO) {
      free(paths);
      return usage_choice("--format", format, formats, n_formats);
    }
    if (!output) { free(paths); return usage_error("--format needs --output FILE", NULL); }
  }
  if (output && !format && kcb_checkpoint_layout_from_name(&layout, output) != 0) {
    free(paths);
    return usage_error("--output: the name must end in .weights.h5, .h5 or .keras (Keras picks the layout by name)", output);
  }
  kcb_checkpoint_layout named; /* before any ranking: a name the layout cannot be written under */
  if (output && format && (kcb_checkpoint_layout_from_name(&named, output) != 0 ||
                           (named != layout && !(named == KCB_LAYOUT_H5 && layout == KCB_LAYOUT_LEGACY_WEIGHTS_H5)))) {
    /* legacy_weights.h5 is written under any .h5 name but *.weights.h5, which Keras reads as a store */
    size_t n = strlen(output);
    int store_name = n >= 11 && strcmp(output + n - 11, ".weights.h5") == 0;
    fprintf(stderr, "kcb-restore: --output '%s': the %s layout is written under a *.%s name%s (see kcb-restore --help)\n",
            tool_esc(output), format, layout == KCB_LAYOUT_LEGACY_WEIGHTS_H5 ? "h5" : format,
            store_name && named != layout ? ", not *.weights.h5, which Keras reads as its weights-only store" : "");
    free(paths);
    return 2;
  }

  kcb_checkpoint_ranking *r = NULL;
  int rc = kcb_checkpoint_rank(&r, paths, n_paths, &ro);
  free(paths);
  if (rc && ro.mode == KCB_MONITOR_AUTO && strstr(kcb_error_last(), "should be minimized or maximized")) {
    /* said in the command line's terms, with the nearest name Keras logs */
    static const char *const logged[] = {"loss", "val_loss", "accuracy", "val_accuracy", "mae", "val_mae", "mse",
                                         "val_mse", "auc", "val_auc", "precision", "val_precision", "recall", "val_recall"};
    const char *near = kcb_text_suggest(ro.monitor, logged, sizeof logged / sizeof logged[0]);
    fprintf(stderr, "kcb-restore: cannot tell whether --monitor '%s' should fall or rise: give --mode min or --mode max%s%s%s\n",
            tool_esc(ro.monitor), near ? " (did you mean " : "", near ? near : "", near ? "?)" : "");
    return 2;
  }
  if (rc) {
    fprintf(stderr, "kcb-restore: %s (%s)\n", tool_esc_lines(kcb_error_last()), kcb_error_name(rc));
    /* a bad option is a usage error; a --csv file that cannot be read (a FIFO, a directory) is the
     * file's problem, as a missing one is */
    return rc == KCB_EINVAL && strncmp(kcb_error_last(), "CSV: ", 5) != 0 ? 2 : 1;
  }
  for (size_t i = 0; i < r->count; i++)
    if (!r->entries[i].readable) fprintf(stderr, "kcb-restore: skipping %s: %s\n", tool_esc(r->entries[i].path), tool_esc(r->entries[i].error));
  size_t readable = r->count - r->n_unreadable;
  if (ro.name_template && r->n_template_matches < readable)
    fprintf(stderr, "kcb-restore: note: --template matched %zu of the %zu readable files; the others are valued by "
            "the rules for any name (see --help)\n", r->n_template_matches, readable);
  if (r->note) fprintf(stderr, "kcb-restore: note: %s\n", tool_esc(r->note));
  int status = 0, wrote = 0, verified = 0;
  const char *best = r->n_ranked ? r->entries[0].path : NULL;
  if (!best && readable == 1 && output && !list_only) {
    /* one checkpoint, nothing to rank it by: it is the one asked for (a file given to convert) */
    for (size_t i = 0; i < r->count && !best; i++)
      if (r->entries[i].readable) best = r->entries[i].path;
    fprintf(stderr, "kcb-restore: note: %s has no value for %s; it is the only checkpoint, so it is the one written\n",
            tool_esc(best), ro.monitor);
  }
  if (r->count == 0) { /* neither a value nor --csv is what is missing */
    fprintf(stderr, "kcb-restore: no checkpoint files (*.keras, *.weights.h5, *.h5, *.hdf5) in the path%s given\n",
            n_paths == 1 ? "" : "s");
    status = 1;
  } else if (!best && !readable) { /* each said why above: a value is not what is missing */
    fprintf(stderr, "kcb-restore: no readable checkpoint among %zu file%s (each skipped, above)\n", r->count,
            r->count == 1 ? "" : "s");
    status = 1;
  } else if (!best) {
    /* what the files do know: the monitors they store (the nearest one named), and the CSV log */
    const char *stored[64];
    size_t n_stored = 0;
    for (size_t i = 0; i < r->count && n_stored < 64; i++) {
      const char *m = r->entries[i].readable ? r->entries[i].info.monitor : NULL;
      int seen = !m || !*m;
      for (size_t k = 0; k < n_stored && !seen; k++) seen = !strcmp(stored[k], m);
      if (!seen) stored[n_stored++] = m;
    }
    size_t n_mid_epoch = 0;
    for (size_t i = 0; i < r->count; i++) n_mid_epoch += r->entries[i].readable && r->entries[i].info.batch >= 0;
    fprintf(stderr, "kcb-restore: no checkpoint with a value for %s among %zu file%s", ro.monitor, r->count,
            r->count == 1 ? "" : "s");
    if (n_mid_epoch)
      fprintf(stderr, " (%zu saved in the middle of an epoch, which a CSV log's rows, written at the epoch's end, "
              "do not value)", n_mid_epoch);
    if (n_stored) {
      const char *near = kcb_text_suggest(ro.monitor, stored, n_stored);
      fprintf(stderr, "; they store %s%s", near ? near : stored[0], n_stored > 1 ? " and others" : "");
      fprintf(stderr, " (--monitor %s)", near ? near : stored[0]);
    }
    if (!ro.csv_path)
      fprintf(stderr, "; to rank by another logged value, give --csv FILE, the run's CSVLogger log (by default only a "
                      "*.csv beside each checkpoint is read)");
    fprintf(stderr, "\n");
    status = 1;
  } else if (output && !list_only && output_is_ranked(r, output)) {
    status = 2;
  } else if (output && !list_only) {
    kcb_checkpoint_file *src = NULL;
    kcb_checkpoint_write_report report;
    memset(&report, 0, sizeof report);
    rc = kcb_checkpoint_file_open(&src, best);
    if (rc == 0) rc = kcb_file_make_parent_dirs(output); /* as kcb-train's --save */
    if (rc == 0) rc = kcb_checkpoint_file_write(src, output, layout, &report);
    kcb_checkpoint_file_close(src);
    if (rc == 0 && report.note[0]) fprintf(stderr, "kcb-restore: note: %s\n", tool_esc(report.note));
    if (rc) {
      fprintf(stderr, "kcb-restore: writing %s from %s failed: %s (%s)\n", tool_esc(output), tool_esc(best),
              tool_esc_lines(kcb_error_last()), kcb_error_name(rc));
      status = 1;
    } else {
      wrote = verified = 1;
    }
  }
  if (json) print_json(r, ro.monitor, best, output, wrote, verified);
  else if (r->count) {
    print_table(r, ro.monitor);
    if (wrote) printf("wrote %s from %s (verified)\n", tool_esc(output), tool_esc(best));
  }
  kcb_checkpoint_ranking_free(r);
  return status;
}
