/* kcb-inspect — look inside runs, checkpoints and CSV logs: one command, a subcommand per kind of
 * question, tables for people and --json for scripts. This file holds the dispatch and what the
 * subcommands share; each subcommand's printing lives in kcb_inspect_*.c. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_common.h"
#include "kcb_inspect.h"

static const char main_help[] =
    "usage: kcb-inspect COMMAND [options] ...\n"
    "       kcb-inspect PATH [options]   (the command for what PATH is: see below)\n"
    "\n"
    "Look inside TensorBoard runs (event files written by kcb, TensorFlow or PyTorch), Keras\n"
    "checkpoints and CSV logs, without TensorBoard or Python.\n"
    "\n"
    "Commands:\n"
    "  runs LOGDIR          runs, tags per plugin, step ranges, first/last/min/max of each scalar\n"
    "  scalars LOGDIR --tag T   one scalar series per run (table, CSV or JSON)\n"
    "  histograms LOGDIR    histograms: step, count, min, max, sum, a sparkline of the buckets\n"
    "  images LOGDIR        images; -o DIR extracts them as PNG files\n"
    "  audio LOGDIR         audio clips: sample rate, length, label; -o DIR extracts the WAVs\n"
    "  text LOGDIR          text summaries\n"
    "  hparams LOGDIR       a table of sessions: hyperparameters and final metrics\n"
    "  plot LOGDIR --tag T  a line chart of one or more runs: PNG (-o FILE) or terminal (--term)\n"
    "  validate PATH...     check every record's CRCs; exit 1 if anything is truncated or corrupt\n"
    "  checkpoint FILE      layout, layers, weight shapes and statistics, monitor/epoch, config\n"
    "  csv FILE             a CSVLogger file: columns, epochs, best epoch per column\n"
    "  diff RUN_A RUN_B     scalars side by side at their last (or a given) step; two\n"
    "                       checkpoints: every variable compared (max abs, relative L2)\n"
    "  plugins LOGDIR       PR curves (thresholds, last AUC), custom-scalars layouts, projector\n"
    "                       embeddings (shape, metadata columns, sprite size), profile traces\n"
    "\n"
    "Every command takes --json (one JSON document on stdout; NaN and infinities written as\n"
    "Python's json module writes them), --help (its options and their defaults) and --jobs N\n"
    "(runs or files read at once by the commands that read several [the CPUs, at most 8]).\n"
    "Options may come before the command or path too: kcb-inspect --json FILE.\n"
    "kcb-inspect --version prints its version.\n"
    "LOGDIR may be a log directory (runs are the directories below it that hold event files,\n"
    "named by their relative path as TensorBoard names them), a run directory, or one event file.\n"
    "A PATH alone gets the command for its kind: checkpoint for an HDF5 file, a .keras archive or a\n"
    "model saved unzipped (a directory with config.json and model.weights.h5), csv for a .csv file,\n"
    "runs for another directory or an event file.\n"
    "\n"
    "Exit status: 0 success; 1 a data problem (a missing or unreadable file, corruption found by\n"
    "validate, nothing matched the given tag or run); 2 a usage error (unknown option, bad value).\n";

typedef struct command {
  const char *name;
  int (*run)(int argc, char **argv);
} command;

static const command commands[] = {
    {"runs", cmd_runs},           {"scalars", cmd_scalars}, {"histograms", cmd_histograms},
    {"images", cmd_images},       {"audio", cmd_audio},     {"text", cmd_text},
    {"hparams", cmd_hparams},
    {"plot", cmd_plot},           {"validate", cmd_validate}, {"checkpoint", cmd_checkpoint},
    {"csv", cmd_csv},             {"diff", cmd_diff},
    {"plugins", cmd_plugins},
};

/* kcb-inspect does no matrix products, but it links OpenBLAS (through libkcb), whose constructor
 * starts a thread per extra CPU that spin-waits (sched_yield) for about 0.1 s: on 2 cores that
 * took a core from `validate` and `runs` for their whole run. Those threads are stopped first
 * thing (OpenBLAS would start them again if a product ran); with another BLAS the weak
 * reference is null and nothing happens. */
extern int blas_thread_shutdown_(void) __attribute__((weak));

static const command *find_command(const char *name) {
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(name, commands[i].name) == 0) return &commands[i];
  return NULL;
}

/* The command for a path given where the command goes: by the file's first bytes (HDF5's
 * signature, a ZIP archive: .keras), its name (event files, .csv) or a directory. NULL: none. */
const char *command_for_path(const char *path) {
  struct stat st;
  /* another tool's model (a SavedModel, a PyTorch or NumPy file): the checkpoint command says what it is */
  if (stat(path, &st) != 0) return kcb_checkpoint_foreign_kind(path) ? "checkpoint" : NULL; /* a TF checkpoint's prefix */
  if (S_ISDIR(st.st_mode)) return is_checkpoint_path(path) ? "checkpoint" : "runs"; /* a model saved unzipped */
  if (!S_ISREG(st.st_mode)) return NULL;
  const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  if (strstr(base, "tfevents")) return "runs";
  unsigned char head[8] = {0};
  FILE *f = fopen(path, "rb");
  size_t got = f ? fread(head, 1, sizeof head, f) : 0;
  if (f) fclose(f);
  if (got == 8 && memcmp(head, "\x89HDF\r\n\x1a\n", 8) == 0) return "checkpoint";
  if (got >= 4 && memcmp(head, "PK\x03\x04", 4) == 0) return "checkpoint";
  /* by name: a .keras with bytes before its zip (Keras reads it), or a damaged checkpoint, which
   * the checkpoint command then says what is wrong with */
  if (is_checkpoint_path(base) || kcb_checkpoint_foreign_kind(path)) return "checkpoint";
  size_t len = strlen(base);
  if (len > 4 && strcmp(base + len - 4, ".csv") == 0) return "csv";
  /* a CSVLogger log under another name (Keras's docs call it training.log): its header's first key */
  if (got >= 6 && memcmp(head, "epoch", 5) == 0 && (ispunct(head[5]) || head[5] == '\t' || head[5] == ' ')) return "csv";
  return NULL;
}

/* How many checkpoint files and CSV logs `dir` holds (not below it): what a directory without
 * event files may be instead, for the message that says so. */
static void count_other_files(const char *dir, size_t *checkpoints, size_t *logs) {
  *checkpoints = *logs = 0;
  DIR *d = opendir(dir);
  if (!d) return;
  for (struct dirent *de; (de = readdir(d)) != NULL;) {
    size_t len = strlen(de->d_name);
    if (de->d_name[0] != '.' && is_checkpoint_path(de->d_name)) ++*checkpoints;
    else if (len > 4 && strcmp(de->d_name + len - 4, ".csv") == 0) ++*logs;
  }
  closedir(d);
}

/* Whether a command's option takes the next word as its value: all but these flags (and --name=value). */
static int option_takes_value(const char *option) {
  static const char *const flags[] = {"--json", "--quiet", "--buckets", "--config", "--desc",  "--sessions", "--term",
                                      "--sparkline", "--no-raw", "--log-y", "--color", "--no-color", "--help", "-h"};
  if (strchr(option, '=') || (option[1] && option[1] != '-' && option[2])) return 0; /* --name=value, -oFILE */
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
    if (strcmp(option, flags[i]) == 0) return 0;
  return 1;
}

static char **moved_args; /* for the process's life, freed at exit: main returns in many places */

static void free_moved_args(void) { free(moved_args); }

/* The index of the first word after the options given before the command or path (argc: none). */
static int leading_options_end(int argc, char **argv) {
  int k = 1;
  while (k < argc && argv[k][0] == '-' && strcmp(argv[k], "--") != 0) k += option_takes_value(argv[k]) ? 2 : 1;
  return k < argc ? k : argc;
}

/* Options given before the command or path ("kcb-inspect --json FILE", "kcb-inspect --tag loss
 * scalars DIR"): the arguments with them moved after it (after "-- PATH" for a path given so), as
 * the commands read them; argv itself when none come first. */
static char **options_after_command(int argc, char **argv) {
  int k = leading_options_end(argc, argv);
  char **moved = k == 1 || k >= argc ? NULL : malloc(((size_t)argc + 1) * sizeof *moved);
  if (!moved) return argv;
  moved_args = moved;
  atexit(free_moved_args);
  int word_end = strcmp(argv[k], "--") == 0 && k + 2 <= argc ? k + 2 : k + 1, n = 0;
  moved[n++] = argv[0];
  for (int i = k; i < word_end; i++) moved[n++] = argv[i];
  for (int i = 1; i < k; i++) moved[n++] = argv[i];
  for (int i = word_end; i < argc; i++) moved[n++] = argv[i];
  moved[n] = NULL;
  return moved;
}

int main(int argc, char **argv) {
  cli_open_standard_fds(); /* first: before anything opens a file */
  cli_check_stdout_at_exit("kcb-inspect");
  if (cli_check_environment("kcb-inspect", argc, argv)) return 2;
  if (blas_thread_shutdown_) blas_thread_shutdown_();
  if (argc < 2) {
    fputs(main_help, stderr);
    return EXIT_USAGE;
  }
  const char *names[sizeof commands / sizeof commands[0] + 1];
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) names[i] = commands[i].name;
  names[sizeof commands / sizeof commands[0]] = "help"; /* a command too, for "did you mean" */
  /* Help asked after other options ("--json --help", "--json help runs"): the options change no help. */
  int word = leading_options_end(argc, argv);
  for (int i = 1; word == argc && i < argc; i++)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--version") == 0) {
      argv[1] = argv[i], argc = 2;
      break;
    }
  if (word > 1 && word < argc && strcmp(argv[word], "help") == 0) argv += word - 1, argc -= word - 1, word = 1;
  const int asks_help = !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--version");
  if (word == argc && !asks_help && (!option_takes_value(argv[1]) || strncmp(argv[1], "--jobs", 6) == 0)) {
    fprintf(stderr, "kcb-inspect: expected a COMMAND or PATH after '%s' (see kcb-inspect --help)\n", argv[argc - 1]);
    return EXIT_USAGE;
  }
  if (strcmp(argv[1], "help") == 0 && argc > 2 && strcmp(argv[2], "help") == 0) { /* as git help help */
    fputs(main_help, stdout);
    return EXIT_OK;
  }
  if (strcmp(argv[1], "help") == 0 && argc > 2) { /* "help CMD" is "CMD --help", as git does */
    const command *cmd = find_command(argv[2]);
    if (cmd) {
      char help[] = "--help";
      char *hargv[] = {help, NULL};
      return cmd->run(1, hargv);
    }
    fprintf(stderr, "kcb-inspect help: unknown command '%s'", argv[2]);
    cli_print_suggestion(stderr, argv[2], names, sizeof names / sizeof names[0]);
    fprintf(stderr, " (see kcb-inspect --help)\n");
    return EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
    fputs(main_help, stdout);
    return EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    cli_print_version("kcb-inspect");
    return EXIT_OK;
  }
  argv = options_after_command(argc, argv); /* "kcb-inspect --json FILE" as "kcb-inspect FILE --json" */
  if (strcmp(argv[1], "--") == 0 && argc > 2) { /* a path that may start with '-': the command for its kind */
    struct stat st;
    if (stat(argv[2], &st) != 0) {
      fprintf(stderr, "kcb-inspect: '%s': %s (see kcb-inspect --help)\n", argv[2], strerror(errno));
      return EXIT_DATA;
    }
    const char *kind = command_for_path(argv[2]);
    if (!kind) {
      fprintf(stderr, "kcb-inspect: '%s' is neither a checkpoint, CSV log, event file nor log directory (see "
                      "kcb-inspect --help)\n", argv[2]);
      return EXIT_USAGE;
    }
    /* the command's options may follow: they go first, then "--" and the path, shown as given */
    char **moved = malloc((size_t)argc * sizeof *moved);
    if (!moved) return EXIT_DATA;
    int n = 0;
    for (int i = 3; i < argc; i++) moved[n++] = argv[i];
    moved[n++] = "--";
    moved[n++] = argv[2];
    int rc = find_command(kind)->run(n, moved);
    free(moved);
    return rc;
  }
  const command *cmd = find_command(argv[1]);
  int first_arg = 2; /* the command's arguments follow its name */
  if (!cmd && argv[1][0] != '-') { /* a path alone: its arguments start with the path */
    const char *kind = command_for_path(argv[1]);
    if (kind) cmd = find_command(kind), first_arg = 1;
  }
  if (cmd) {
    return cmd->run(argc - first_arg, argv + first_arg); /* a failed write to stdout: cli_check_stdout_at_exit */
  }
  struct stat st;
  int found = argv[1][0] != '-' && stat(argv[1], &st) == 0, why = errno;
  if (found) {
    fprintf(stderr, "kcb-inspect: '%s' is neither a command nor a checkpoint, CSV log, event file or log directory "
                    "(see kcb-inspect --help)\n", argv[1]);
    return EXIT_USAGE;
  }
  if (argv[1][0] != '-' && (strchr(argv[1], '/') || strchr(argv[1], '.'))) { /* a path, not a command */
    fprintf(stderr, "kcb-inspect: '%s': %s (see kcb-inspect --help)\n", argv[1], strerror(why));
    return EXIT_DATA;
  }
  fprintf(stderr, "kcb-inspect: unknown %s '%s'", argv[1][0] == '-' ? "option" : "command", argv[1]);
  static const char *const options[] = {"--help", "--version"};
  if (argv[1][0] == '-') cli_print_suggestion(stderr, argv[1], options, 2);
  else cli_print_suggestion(stderr, argv[1], names, sizeof names / sizeof names[0]);
  fprintf(stderr, " (see kcb-inspect --help)\n");
  return EXIT_USAGE;
}

/* ---- arguments ------------------------------------------------------------------------------ */

int usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "kcb-inspect %s: ", cmd);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, " (see kcb-inspect %s --help)\n", cmd);
  va_end(ap);
  return EXIT_USAGE;
}

char *esc(const char *s, size_t n, int flags) {
  size_t need = kcb_text_escape(NULL, 0, s, n, flags);
  char *out = malloc(need + 1);
  if (out) kcb_text_escape(out, need + 1, s, n, flags);
  return out;
}

void fput_esc(FILE *f, const char *s, size_t n, int flags) {
  char *e = esc(s, n, flags);
  fputs(e ? e : "(out of memory)", f);
  free(e);
}

int data_fail(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = NULL; /* messages quote tags and names from files: escaped */
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  va_start(ap, fmt);
  if (n >= 0 && (msg = malloc((size_t)n + 1)) != NULL) vsnprintf(msg, (size_t)n + 1, fmt, ap);
  va_end(ap);
  fprintf(stderr, "kcb-inspect %s: ", cmd);
  fput_esc(stderr, msg ? msg : "(out of memory)", msg ? (size_t)n : 15, KCB_ESCAPE_KEEP_NEWLINES);
  fputc('\n', stderr);
  free(msg);
  return EXIT_DATA;
}

int lib_fail(const char *cmd, int rc) {
  if (kcb_error_last()[0]) {
    fprintf(stderr, "kcb-inspect %s: ", cmd);
    fput_esc(stderr, kcb_error_last(), strlen(kcb_error_last()), KCB_ESCAPE_KEEP_NEWLINES);
    fprintf(stderr, " (%s)\n", kcb_error_name(rc));
  } else fprintf(stderr, "kcb-inspect %s: %s (%s)\n", cmd, kcb_strerror(rc), kcb_error_name(rc));
  return EXIT_DATA;
}

/* A flag under the name its aliases share. */
static const char *flag_key(const char *name) { return !strcmp(name, "--output") ? "-o" : name; }

/* Whether `arg` ("--tag" or "--tag=x") names one of the options of `specs` (or --help, --jobs). */
static int names_option(const opt_spec *specs, const char *arg) {
  size_t n = strcspn(arg, "=");
  if ((n == 6 && !strncmp(arg, "--help", 6)) || (n == 6 && !strncmp(arg, "--jobs", 6)) || !strcmp(arg, "-h")) return 1;
  for (const opt_spec *p = specs; p && p->name; p++)
    if (strlen(p->name) == n && !strncmp(arg, p->name, n)) return 1;
  return 0;
}

int args_parse(args *a, const char *cmd, int argc, char **argv, const opt_spec *specs, int *want_help) {
  memset(a, 0, sizeof *a);
  a->cmd = cmd;
  *want_help = 0;
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  a->jobs = cpus < 1 ? 1 : cpus > 8 ? 8 : (int)cpus;
  a->pos = calloc((size_t)argc + 1, sizeof *a->pos);
  a->flag_names = calloc((size_t)argc + 1, sizeof *a->flag_names);
  a->flag_vals = calloc((size_t)argc + 1, sizeof *a->flag_vals);
  if (!a->pos || !a->flag_names || !a->flag_vals) {
    args_free(a);
    fprintf(stderr, "kcb-inspect %s: out of memory\n", cmd);
    return EXIT_DATA;
  }
  int only_pos = 0;
  for (int i = 0; i < argc; i++) {
    const char *s = argv[i];
    if (only_pos || s[0] != '-' || s[1] == '\0') {
      a->pos[a->n_pos++] = s;
      continue;
    }
    if (strcmp(s, "--") == 0) {
      only_pos = 1;
      continue;
    }
    if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
      *want_help = 1;
      continue;
    }
    if (strcmp(s, "--version") == 0) { /* after a command too, as kcb-restore and kcb-train take it anywhere */
      cli_print_version("kcb-inspect");
      args_free(a);
      exit(EXIT_OK);
    }
    if (strcmp(s, "--jobs") == 0 || strncmp(s, "--jobs=", 7) == 0) {
      const char *v = s[6] == '=' ? s + 7 : i + 1 < argc ? argv[++i] : "";
      long long j = 1;
      int rc = parse_int_flag(cmd, "--jobs", v, 1, 64, &j);
      if (rc) {
        args_free(a);
        return rc;
      }
      a->jobs = (int)j;
      continue;
    }
    /* --name=value */
    char name[64];
    const char *eq = strchr(s, '=');
    const char *val = NULL;
    size_t len = eq ? (size_t)(eq - s) : strlen(s);
    if (len >= sizeof name) len = sizeof name - 1;
    memcpy(name, s, len);
    name[len] = '\0';
    const opt_spec *sp = NULL;
    for (const opt_spec *p = specs; p && p->name; p++)
      if (strcmp(p->name, name) == 0) sp = p;
    const char *attached = NULL; /* -oFILE, as getopt takes it */
    if (!sp && s[0] == '-' && s[1] == 'o' && s[2] && s[2] != '=')
      for (const opt_spec *p = specs; p && p->name; p++)
        if (!strcmp(p->name, "-o")) sp = p, attached = s + 2;
    if (!sp) {
      const char *known[64];
      size_t n_known = 0;
      for (const opt_spec *p = specs; p && p->name && n_known < 60; p++) known[n_known++] = p->name;
      known[n_known++] = "--help";
      known[n_known++] = "--jobs";
      const char *near = kcb_text_suggest(name, known, n_known);
      int rc = near ? usage_error(cmd, "unknown option '%s' (did you mean %s?)", name, near)
                    : usage_error(cmd, "unknown option '%s'", name);
      args_free(a);
      return rc;
    }
    if (sp->takes_value) {
      if (attached) val = attached;
      else if (eq) val = eq + 1;
      else if (i + 1 < argc && argv[i + 1][0] == '-' && names_option(specs, argv[i + 1])) {
        int rc = usage_error(cmd, "%s needs a value, and the next argument is the option %s (write %s=%s for a value so "
                             "named)", sp->name, argv[i + 1], sp->name, argv[i + 1]);
        args_free(a);
        return rc;
      } else if (i + 1 < argc) val = argv[++i];
      else {
        int rc = usage_error(cmd, "%s needs a value", sp->name);
        args_free(a);
        return rc;
      }
    } else if (eq) {
      int rc = usage_error(cmd, "%s takes no value", sp->name);
      args_free(a);
      return rc;
    }
    /* one value each, but --run: a second --tag would otherwise replace the first in silence */
    for (size_t k = 0; sp->takes_value && strcmp(sp->name, "--run") != 0 && k < a->n_flags; k++)
      if (!strcmp(flag_key(a->flag_names[k]), flag_key(sp->name))) { /* -o and --output are one */
        int rc = usage_error(cmd, "%s given twice ('%s' and '%s'); it takes one value", sp->name, a->flag_vals[k], val);
        args_free(a);
        return rc;
      }
    a->flag_names[a->n_flags] = sp->name;
    a->flag_vals[a->n_flags++] = val;
  }
  return 0;
}

void args_free(args *a) {
  free(a->pos);
  free(a->flag_names);
  free(a->flag_vals);
  memset(a, 0, sizeof *a);
}

const char *args_get(const args *a, const char *name, const char *def) {
  const char *v = def;
  for (size_t i = 0; i < a->n_flags; i++)
    if (strcmp(a->flag_names[i], name) == 0) v = a->flag_vals[i];
  return v;
}

int args_has(const args *a, const char *name) {
  for (size_t i = 0; i < a->n_flags; i++)
    if (strcmp(a->flag_names[i], name) == 0) return 1;
  return 0;
}

size_t args_all(const args *a, const char *name, const char **out, size_t cap) {
  size_t k = 0;
  for (size_t i = 0; i < a->n_flags; i++)
    if (strcmp(a->flag_names[i], name) == 0 && k < cap) out[k++] = a->flag_vals[i];
  return k;
}

/* Numbers as kcb-train takes them (kcb_text_to_number): no blanks, '+', hexadecimal, inf or nan. */
int parse_double_flag(const char *cmd, const char *flag, const char *v, double lo, double hi, double *out) {
  double x;
  if (!kcb_text_to_number(v, &x) || !(x >= lo && x <= hi))
    return usage_error(cmd, "%s '%s': expected a number from %g to %g", flag, v, lo, hi);
  *out = x;
  return 0;
}

int parse_int_flag(const char *cmd, const char *flag, const char *v, long long lo, long long hi, long long *out) {
  char *end;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (!(*v == '-' || (*v >= '0' && *v <= '9')) || *end || errno || x < lo || x > hi)
    return usage_error(cmd, "%s '%s': expected a whole number from %lld to %lld", flag, v, lo, hi);
  *out = x;
  return 0;
}

/* ---- runs ----------------------------------------------------------------------------------- */

void runs_free(run_ref *runs, size_t n) {
  if (!runs) return;
  for (size_t i = 0; i < n; i++) free(runs[i].name), free(runs[i].path);
  free(runs);
}

static char *path_join(const char *a, const char *b) {
  size_t na = strlen(a), nb = strlen(b);
  while (na > 1 && a[na - 1] == '/') na--;
  char *p = malloc(na + nb + 2);
  if (!p) return NULL;
  memcpy(p, a, na);
  p[na] = '/';
  memcpy(p + na + 1, b, nb + 1);
  return p;
}

int say_not_event_file(const char *path) {
  const char *kind = command_for_path(path);
  if (!kind || strcmp(kind, "runs") == 0) return 0;
  const char *foreign = kcb_checkpoint_foreign_kind(path);
  if (foreign) {
    fprintf(stderr, "kcb-inspect: %s: %s\n", tool_esc(path), foreign);
    return 1;
  }
  fprintf(stderr, "kcb-inspect: %s is a %s, not an event file (kcb-inspect %s %s reads it)\n", tool_esc(path),
          strcmp(kind, "csv") == 0 ? "CSV log" : "checkpoint", kind, tool_esc(path));
  return 1;
}

int runs_find(const char *path, run_ref **out, size_t *n) {
  *out = NULL;
  *n = 0;
  struct stat st;
  if (stat(path, &st) != 0) {
    kcb_event_reader *r = NULL; /* the library's message for a missing path */
    int rc = kcb_event_reader_open(&r, path);
    kcb_event_reader_free(r);
    return rc ? rc : KCB_ENOENT;
  }
  if (!S_ISDIR(st.st_mode)) {
    /* a file the commands of runs would call a damaged event file: said for what it is */
    if (say_not_event_file(path)) {
      kcb_error_clear();
      return KCB_EFORMAT;
    }
    run_ref *rr = calloc(1, sizeof *rr);
    const char *base = strrchr(path, '/');
    if (!rr || !(rr->name = strdup(base ? base + 1 : path)) || !(rr->path = strdup(path))) {
      runs_free(rr, rr ? 1 : 0);
      return KCB_ENOMEM;
    }
    *out = rr;
    *n = 1;
    return 0;
  }
  char **names = NULL;
  size_t k = 0;
  int rc = kcb_tfevents_list_runs(path, &names, &k);
  if (rc) return rc;
  if (k == 0) {
    kcb_string_list_free(names, k);
    const char *foreign = kcb_checkpoint_foreign_kind(path); /* a SavedModel or TF checkpoints: say so */
    size_t checkpoints, logs;
    count_other_files(path, &checkpoints, &logs);
    fprintf(stderr, "kcb-inspect: %s: no event files (no file with \"tfevents\" in its name) in it or below it%s%s",
            path, foreign ? "; it is " : "", foreign ? foreign : "");
    if (checkpoints)
      fprintf(stderr, "; it holds %zu checkpoint file%s: kcb-restore %s --list ranks them, kcb-inspect checkpoint "
              "FILE looks inside one", checkpoints, checkpoints == 1 ? "" : "s", path);
    if (logs) fprintf(stderr, "; %s %zu CSV log%s: kcb-inspect csv FILE", checkpoints ? "and" : "it holds", logs,
                      logs == 1 ? "" : "s");
    fprintf(stderr, "\n");
    kcb_error_clear();
    return KCB_ENOENT;
  }
  run_ref *rr = calloc(k, sizeof *rr);
  if (!rr) {
    kcb_string_list_free(names, k);
    return KCB_ENOMEM;
  }
  for (size_t i = 0; i < k; i++) {
    rr[i].name = names[i];
    names[i] = NULL;
    rr[i].path = strcmp(rr[i].name, ".") == 0 ? strdup(path) : path_join(path, rr[i].name);
    if (!rr[i].path) {
      kcb_string_list_free(names, k);
      runs_free(rr, k);
      return KCB_ENOMEM;
    }
  }
  kcb_string_list_free(names, k);
  *out = rr;
  *n = k;
  return 0;
}

/* Whether run name `name` is `given` as a shell's completion may spell it: "./train/" is "train". */
static int run_name_is(const char *name, const char *given) {
  while (given[0] == '.' && given[1] == '/' && given[2]) given += 2;
  size_t len = strlen(given);
  while (len > 1 && given[len - 1] == '/') len--;
  return strlen(name) == len && strncmp(name, given, len) == 0;
}

int runs_select(const char *cmd, run_ref *runs, size_t *n, const char **names, size_t n_names) {
  if (!n_names) return 0;
  for (size_t j = 0; j < n_names; j++) {
    int found = 0;
    for (size_t i = 0; i < *n; i++) found |= run_name_is(runs[i].name, names[j]);
    if (!found) {
      fprintf(stderr, "kcb-inspect %s: no run named '%s'", cmd, tool_esc(names[j]));
      const char **all = malloc((*n + 1) * sizeof *all);
      for (size_t i = 0; all && i < *n; i++) all[i] = runs[i].name;
      if (all) cli_print_suggestion(stderr, names[j], all, *n);
      free(all);
      fprintf(stderr, " (runs:");
      for (size_t i = 0; i < *n; i++) fprintf(stderr, " %s", tool_esc(runs[i].name));
      fprintf(stderr, ")\n");
      return EXIT_DATA;
    }
  }
  /* keep the runs in the order the names were given */
  size_t k = 0;
  run_ref *tmp = calloc(*n, sizeof *tmp);
  if (!tmp) return data_fail(cmd, "out of memory");
  for (size_t j = 0; j < n_names; j++)
    for (size_t i = 0; i < *n; i++)
      if (runs[i].name && run_name_is(runs[i].name, names[j])) {
        tmp[k++] = runs[i];
        runs[i].name = runs[i].path = NULL;
      }
  for (size_t i = 0; i < *n; i++) free(runs[i].name), free(runs[i].path);
  memcpy(runs, tmp, k * sizeof *runs);
  free(tmp);
  *n = k;
  return 0;
}

/* ---- printing ---------------------------------------------------------------------------------- */

const char *num(double v, char buf[32]) { return kcb_format_double(v, buf, 32); }

const char *short_num(double v, char buf[32]) {
  if (isnan(v)) snprintf(buf, 32, "nan");
  else if (isinf(v)) snprintf(buf, 32, v > 0 ? "inf" : "-inf");
  else snprintf(buf, 32, "%.6g", v);
  return buf;
}

void json_num(FILE *f, double v) {
  char b[32];
  if (isnan(v)) fputs("NaN", f);
  else if (isinf(v)) fputs(v > 0 ? "Infinity" : "-Infinity", f);
  else fputs(num(v, b), f);
}

scalar_val tag_point(const kcb_run_tag *g, size_t j) {
  scalar_val v = {g->value_type, g->values[j], g->int_values ? g->int_values[j] : 0};
  if (!g->int_values) v.type = KCB_SCALAR_FLOAT;
  return v;
}

/* Decimal text of a sign and a magnitude of up to 65 bits (hi: bit 64). */
static const char *int_text(int neg, uint64_t mag, int hi, char buf[48]) {
  char tmp[48];
  size_t n = 0;
  /* 2^64 + mag as a number: divide the 65-bit value by 10 digit by digit */
  uint64_t h = (uint64_t)hi;
  do {
    /* (h * 2^64 + mag) / 10 with h in {0, 1}: 2^64 = 10 * 1844674407370955161 + 6 */
    uint64_t q = mag / 10, r = mag % 10;
    if (h) {
      q += 1844674407370955161ull;
      r += 6;
      if (r >= 10) q++, r -= 10;
      h = 0;
    }
    tmp[n++] = (char)('0' + r);
    mag = q;
  } while (mag);
  size_t k = 0;
  if (neg) buf[k++] = '-';
  while (n) buf[k++] = tmp[--n];
  buf[k] = '\0';
  return buf;
}

/* An integer value's sign and magnitude. */
static void int_parts(scalar_val v, int *neg, uint64_t *mag) {
  *neg = v.type == KCB_SCALAR_INT && v.i < 0;
  *mag = *neg ? 0 - (uint64_t)v.i : (uint64_t)v.i;
}

const char *sv_num(scalar_val v, char buf[32]) {
  if (v.type == KCB_SCALAR_FLOAT) return num(v.d, buf);
  int neg;
  uint64_t mag;
  int_parts(v, &neg, &mag);
  char t[48];
  int_text(neg, mag, 0, t);
  memcpy(buf, t, strlen(t) + 1); /* at most 20 digits and a sign */
  return buf;
}

const char *sv_short(scalar_val v, char buf[32]) { return v.type == KCB_SCALAR_FLOAT ? short_num(v.d, buf) : sv_num(v, buf); }

void sv_json(FILE *f, scalar_val v) {
  char b[32];
  if (v.type == KCB_SCALAR_FLOAT) json_num(f, v.d);
  else fputs(sv_num(v, b), f);
}

/* b - a of two integers: sign and a 65-bit magnitude. */
static void int_diff(scalar_val a, scalar_val b, int *neg, uint64_t *mag, int *hi) {
  int na, nb;
  uint64_t ma, mb;
  int_parts(a, &na, &ma);
  int_parts(b, &nb, &mb);
  if (na != nb) { /* b - a = b + (-a): the magnitudes add, with b's sign */
    *neg = nb;
    *mag = ma + mb;
    *hi = *mag < ma;
  } else { /* same sign: the magnitudes subtract */
    *hi = 0;
    if (mb >= ma) *mag = mb - ma, *neg = nb && *mag;
    else *mag = ma - mb, *neg = !nb;
  }
}

const char *sv_diff(scalar_val a, scalar_val b, int short_form, char buf[48]) {
  if (a.type == KCB_SCALAR_FLOAT || b.type == KCB_SCALAR_FLOAT)
    return short_form ? short_num(b.d - a.d, buf) : num(b.d - a.d, buf);
  int neg, hi;
  uint64_t mag;
  int_diff(a, b, &neg, &mag, &hi);
  return int_text(neg, mag, hi, buf);
}

void sv_json_diff(FILE *f, scalar_val a, scalar_val b) {
  char buf[48];
  if (a.type == KCB_SCALAR_FLOAT || b.type == KCB_SCALAR_FLOAT) json_num(f, b.d - a.d);
  else fputs(sv_diff(a, b, 0, buf), f);
}

/* Length of a valid UTF-8 sequence at s (n bytes left), or 0. */
void json_str_n(FILE *f, const char *s, size_t n) { cli_json_string(f, s, n); }

void json_str(FILE *f, const char *s) { json_str_n(f, s ? s : "", s ? strlen(s) : 0); }

void csv_field(FILE *f, const char *s) {
  if (!strpbrk(s, ",\"\n\r")) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

/* ---- tables ------------------------------------------------------------------------------------ */

void table_init(table *t, size_t n_cols, const char *align) {
  memset(t, 0, sizeof *t);
  t->n_cols = n_cols;
  t->align = align;
}

int table_add(table *t, const char *const *row) {
  if (t->n_rows == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 16;
    char **c = realloc(t->cells, cap * t->n_cols * sizeof *c);
    if (!c) return -1;
    t->cells = c;
    t->cap = cap;
  }
  char **dst = t->cells + t->n_rows * t->n_cols;
  for (size_t j = 0; j < t->n_cols; j++) {
    dst[j] = esc(row[j] ? row[j] : "", row[j] ? strlen(row[j]) : 0, 0); /* cells quote files: escaped */
    if (!dst[j]) {
      for (size_t q = 0; q < j; q++) free(dst[q]);
      return -1;
    }
  }
  t->n_rows++;
  return 0;
}

/* Terminal columns of a UTF-8 string (each code point one column). */
/* Columns on a terminal, so that names in any script line up (wide CJK characters take two). */
static size_t text_width(const char *s) { return cli_display_width(s); }

/* The table's columns' widths; @return the width of a whole line. */
static size_t column_widths(const table *t, size_t width[32]) {
  size_t nc = t->n_cols < 32 ? t->n_cols : 32, total = 0;
  memset(width, 0, 32 * sizeof *width);
  for (size_t i = 0; i < t->n_rows; i++)
    for (size_t j = 0; j < nc; j++) {
      size_t w = text_width(t->cells[i * t->n_cols + j]);
      if (w > width[j]) width[j] = w;
    }
  for (size_t j = 0; j < nc; j++) total += width[j] + (j ? 2 : 0);
  return total;
}

void table_print_fit(FILE *f, const table *t, const char *indent) {
  size_t width[32];
  size_t total = column_widths(t, width) + strlen(indent);
  int limit = isatty(fileno(f)) || getenv("COLUMNS") ? cli_terminal_width(f) : 0;
  if (limit <= 0 || total <= (size_t)limit || t->n_rows < 2) {
    table_print(f, t, indent);
    return;
  }
  /* Wider than the terminal: one block per row, "header  value" lines (psql's expanded display). */
  size_t nc = t->n_cols < 32 ? t->n_cols : 32, head_w = 0;
  for (size_t j = 0; j < nc; j++)
    if (text_width(t->cells[j]) > head_w) head_w = text_width(t->cells[j]);
  for (size_t i = 1; i < t->n_rows; i++) {
    if (i > 1) fputc('\n', f);
    for (size_t j = 0; j < nc; j++) {
      fputs(indent, f);
      cli_pad(f, t->cells[j], head_w, 0);
      fprintf(f, "  %s\n", t->cells[i * t->n_cols + j]);
    }
  }
}

void table_print(FILE *f, const table *t, const char *indent) {
  size_t width[32];
  size_t nc = t->n_cols < 32 ? t->n_cols : 32;
  column_widths(t, width);
  for (size_t i = 0; i < t->n_rows; i++) {
    /* the last non-empty cell ends the line (no trailing spaces) */
    size_t last = 0;
    for (size_t j = 0; j < nc; j++)
      if (t->cells[i * t->n_cols + j][0]) last = j;
    fputs(indent, f);
    for (size_t j = 0; j <= last; j++) {
      const char *c = t->cells[i * t->n_cols + j];
      size_t pad = width[j] - text_width(c);
      int right = t->align && t->align[j] == 'r';
      if (right) fprintf(f, "%*s", (int)pad, "");
      fputs(c, f);
      if (!right && j < last) fprintf(f, "%*s", (int)pad, "");
      if (j < last) fputs("  ", f);
    }
    fputc('\n', f);
  }
}

void table_free(table *t) {
  for (size_t i = 0; i < t->n_rows * t->n_cols; i++) free(t->cells[i]);
  free(t->cells);
  memset(t, 0, sizeof *t);
}

/* ---- run summaries ----------------------------------------------------------------------------- */

typedef struct summary_job {
  const run_ref *runs;
  const kcb_run_summary_options *opts;
  kcb_run_summary **out;
  int *rc;
  char (*msg)[512];
} summary_job;

static void summary_one(void *ctx, size_t i) {
  summary_job *j = ctx;
  j->rc[i] = kcb_run_summary_read(&j->out[i], j->runs[i].path, j->opts); /* a restarted run's stats: the library's */
  if (j->rc[i]) snprintf(j->msg[i], sizeof j->msg[i], "%s", kcb_error_last());
}

int summaries_read(const char *cmd, const run_ref *runs, size_t n, const kcb_run_summary_options *opts, int jobs,
                   kcb_run_summary ***out, int *had_problem) {
  *out = calloc(n ? n : 1, sizeof **out);
  int *rcs = calloc(n ? n : 1, sizeof *rcs);
  char (*msg)[512] = calloc(n ? n : 1, sizeof *msg);
  if (!*out || !rcs || !msg) {
    free(rcs);
    free(msg);
    return data_fail(cmd, "out of memory");
  }
  summary_job j = {runs, opts, *out, rcs, msg};
  parallel_for(n, jobs, summary_one, &j);
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    if (rcs[i]) {
      fprintf(stderr, "kcb-inspect %s: ", cmd);
      fput_esc(stderr, msg[i], strlen(msg[i]), 0);
      fprintf(stderr, " (%s)\n", kcb_error_name(rcs[i]));
      *had_problem = 1;
      if (rcs[i] == KCB_ENOMEM) rc = EXIT_DATA;
    } else if ((*out)[i]->problem) {
      fprintf(stderr, "kcb-inspect %s: warning: ", cmd);
      fput_esc(stderr, (*out)[i]->problem_message, strlen((*out)[i]->problem_message), 0);
      fprintf(stderr, " (%s); %s\n", kcb_error_name((*out)[i]->problem),
              (*out)[i]->problem == KCB_EFORMAT ? "that record was skipped, the others were read"
                                                : "the records before it were read"); /* cut or CRC: reading stops */
      *had_problem = 1;
    }
  }
  free(rcs);
  free(msg);
  return rc;
}

/* ---- threads ------------------------------------------------------------------------------------ */

typedef struct pool {
  atomic_size_t next;
  size_t n;
  void (*fn)(void *, size_t);
  void *ctx;
} pool;

static void *pool_worker(void *arg) {
  pool *p = arg;
  for (size_t i; (i = atomic_fetch_add(&p->next, 1)) < p->n;) p->fn(p->ctx, i);
  return NULL;
}

void parallel_for(size_t n, int jobs, void (*fn)(void *ctx, size_t i), void *ctx) {
  pool p;
  atomic_init(&p.next, 0);
  p.n = n, p.fn = fn, p.ctx = ctx;
  pthread_t th[64];
  int started = 0;
  if (jobs > 64) jobs = 64;
  for (int t = 1; t < jobs && (size_t)t < n; t++) /* this thread is the first worker */
    if (pthread_create(&th[started], NULL, pool_worker, &p) == 0) started++;
  pool_worker(&p);
  for (int t = 0; t < started; t++) pthread_join(th[t], NULL);
}

void summaries_free(kcb_run_summary **s, size_t n) {
  if (!s) return;
  for (size_t i = 0; i < n; i++) kcb_run_summary_free(s[i]);
  free(s);
}

/* ---- strmap ------------------------------------------------------------------------------------ */

static uint64_t strmap_hash(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static size_t strmap_slot(char *const *keys, size_t cap, const char *key) {
  size_t j = strmap_hash(key) & (cap - 1);
  while (keys[j] && strcmp(keys[j], key) != 0) j = (j + 1) & (cap - 1);
  return j;
}

int strmap_put(strmap *m, const char *key, size_t value, size_t *found) {
  if (2 * (m->n + 1) > m->cap) { /* at most half full */
    size_t cap = m->cap ? 2 * m->cap : 64;
    char **keys = calloc(cap, sizeof *keys);
    size_t *values = malloc(cap * sizeof *values);
    if (!keys || !values) {
      free(keys);
      free(values);
      return -1;
    }
    for (size_t i = 0; i < m->cap; i++)
      if (m->keys[i]) {
        size_t j = strmap_slot(keys, cap, m->keys[i]);
        keys[j] = m->keys[i];
        values[j] = m->values[i];
      }
    free(m->keys);
    free(m->values);
    m->keys = keys;
    m->values = values;
    m->cap = cap;
  }
  size_t j = strmap_slot(m->keys, m->cap, key);
  if (m->keys[j]) {
    if (found) *found = m->values[j];
    return 0;
  }
  if (!(m->keys[j] = strdup(key))) return -1;
  m->values[j] = value;
  m->n++;
  return 1;
}

int strmap_get(const strmap *m, const char *key, size_t *value) {
  if (!m->cap) return 0;
  size_t j = strmap_slot(m->keys, m->cap, key);
  if (!m->keys[j]) return 0;
  *value = m->values[j];
  return 1;
}

void strmap_free(strmap *m) {
  for (size_t i = 0; i < m->cap; i++) free(m->keys[i]);
  free(m->keys);
  free(m->values);
  memset(m, 0, sizeof *m);
}

/* ---- tags ----------------------------------------------------------------------------------------- */

int runs_split_tag(const run_ref *runs, size_t n, const char *tag, char *run_out, size_t size, const char **tag_out) {
  int found = 0; /* the longest run that fits: "adam/train/epoch_loss" is run adam/train's epoch_loss */
  for (const char *sl = strchr(tag, '/'); sl; sl = strchr(sl + 1, '/'))
    for (size_t i = 0; i < n; i++)
      if (strlen(runs[i].name) == (size_t)(sl - tag) && strncmp(runs[i].name, tag, (size_t)(sl - tag)) == 0 &&
          (size_t)(sl - tag) < size) {
        snprintf(run_out, size, "%.*s", (int)(sl - tag), tag);
        *tag_out = sl + 1;
        found = 1;
      }
  return found;
}

const char *tag_suggestion(const run_ref *runs, size_t n, const char *tag, int kind, int run_prefixed, char *buf,
                           size_t size) {
  kcb_run_summary_options o = KCB_RUN_SUMMARY_OPTIONS_INIT;
  o.keep_series = 0;
  const char **names = NULL;
  char **owned = NULL;
  size_t count = 0, n_owned = 0;
  const char *best = NULL;
  kcb_run_summary **sums = calloc(n ? n : 1, sizeof *sums);
  if (!sums) return NULL;
  size_t cap = 0;
  for (size_t i = 0; i < n; i++) /* read again with every tag; a run that fails was reported already */
    if (kcb_run_summary_read(&sums[i], runs[i].path, &o) == 0) cap += 2 * sums[i]->n_tags;
  names = calloc(cap ? cap : 1, sizeof *names);
  owned = calloc(cap ? cap : 1, sizeof *owned);
  if (names && owned) {
    /* epoch_* tags first: for "loss", epoch_loss is the likelier meaning than batch_loss */
    for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < n; i++)
      for (size_t t = 0; sums[i] && t < sums[i]->n_tags; t++) {
        const char *name = sums[i]->tags[t].tag;
        if ((strncmp(name, "epoch_", 6) == 0) != (pass == 0)) continue;
        /* only tags the command can show: the asked one itself, of another kind, is no answer */
        if ((kind >= 0 && (int)sums[i]->tags[t].kind != kind) || !strcmp(name, tag)) continue;
        size_t run_len = strlen(runs[i].name), len = run_len + strlen(name) + 2;
        names[count++] = name;
        if (!run_prefixed) { /* a command that takes the run apart: RUN/TAG given whole is said so */
          if (!best && !strncmp(tag, runs[i].name, run_len) && tag[run_len] == '/' && !strcmp(tag + run_len + 1, name)) {
            snprintf(buf, size, "--tag %s --run %s", name, runs[i].name);
            best = buf;
          }
          continue;
        }
        char *both = malloc(len); /* the RUN/TAG form diff prints */
        if (!both) continue;
        snprintf(both, len, "%s/%s", runs[i].name, name);
        owned[n_owned++] = both;
        names[count++] = both;
      }
    if (!best) {
      best = kcb_text_suggest(tag, names, count);
      if (best) snprintf(buf, size, "%s", best);
    }
  }
  for (size_t i = 0; i < n_owned; i++) free(owned[i]);
  free(owned);
  free(names);
  summaries_free(sums, n);
  return best ? buf : NULL;
}
