/* test_threads.c — kcb called from several threads: models saved and loaded at the same time in
 * every layout keep to their own files and bytes, and no thread makes libhdf5 print. */
#include "test_helpers.h"

#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROUNDS 12

static const char *const layouts[] = {".keras", ".weights.h5", ".h5"};

typedef struct worker {
  char dir[64];
  int id;
  int failures;       /* calls that returned an error */
  int wrong_weights;  /* loads that gave another model's weights */
  char first_error[256];
} worker;

static void note_error(worker *w, const char *what) {
  if (!w->failures++) snprintf(w->first_error, sizeof w->first_error, "%s: %s", what, kcb_error_last());
}

/* cmocka's asserts are not thread-safe: a worker only counts, the main thread asserts. */
static void *save_and_load(void *arg) {
  worker *w = arg;
  kcb_model *m = NULL;
  int64_t input = 6;
  kcb_compile_options c = {0};
  c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
  c.loss = KCB_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
  if (kcb_model_new(&m, 1, &input, 100 + (uint64_t)w->id) || kcb_model_add_from_spec(m, "16:relu,4:softmax") ||
      kcb_model_compile(m, &c)) {
    note_error(w, "build");
    kcb_model_free(m);
    return NULL;
  }
  size_t n = kcb_model_param_count(m);
  float *mine = malloc(n * sizeof *mine), *loaded = malloc(n * sizeof *loaded);
  kcb_model_get_weights(m, mine, n);
  for (int round = 0; round < ROUNDS; round++) {
    const char *layout = layouts[round % 3];
    char path[sizeof w->dir + 32];
    snprintf(path, sizeof path, "%s/model%s", w->dir, layout);
    if (kcb_model_save(m, path, NULL)) {
      note_error(w, "save");
      continue;
    }
    kcb_model *back = NULL;
    int rc = round % 3 == 1 ? kcb_model_load_weights(m, path, NULL) : kcb_model_load(&back, path, NULL);
    if (rc) {
      note_error(w, "load");
      continue;
    }
    kcb_model_get_weights(back ? back : m, loaded, n);
    if (memcmp(mine, loaded, n * sizeof *mine) != 0) w->wrong_weights++;
    kcb_model_free(back);
  }
  free(mine);
  free(loaded);
  kcb_model_free(m);
  return NULL;
}

static void run_workers(worker *w, int count) {
  pthread_t threads[4];
  for (int i = 0; i < count; i++) assert_int_equal(pthread_create(&threads[i], NULL, save_and_load, &w[i]), 0);
  for (int i = 0; i < count; i++) pthread_join(threads[i], NULL);
}

static void make_workers(worker *w, int count) {
  memset(w, 0, (size_t)count * sizeof *w);
  for (int i = 0; i < count; i++) {
    w[i].id = i;
    assert_int_equal(test_tmpdir_make(w[i].dir, sizeof w[i].dir, "kcb-threads-"), 0);
  }
}

static void remove_workers(worker *w, int count) {
  for (int i = 0; i < count; i++) {
    for (int l = 0; l < 3; l++) {
      char path[sizeof w->dir + 32];
      if (snprintf(path, sizeof path, "%s/model%s", w[i].dir, layouts[l]) < (int)sizeof path) unlink(path);
    }
    rmdir(w[i].dir);
  }
}

/* libhdf5 knows an in-memory file by its name: two at once under one name collided (a create
 * failed; an open could read the other's bytes). */
static void test_concurrent_saves_keep_apart(void **state) {
  (void)state;
  worker w[3];
  make_workers(w, 3);
  run_workers(w, 3);
  for (int i = 0; i < 3; i++) {
    if (w[i].failures) fail_msg("thread %d: %d calls failed, first: %s", i, w[i].failures, w[i].first_error);
    assert_int_equal(w[i].wrong_weights, 0);
  }
  remove_workers(w, 3);
}

/* A threadsafe libhdf5 prints its error stack per thread unless that thread turned it off: a
 * save in a second thread (whose probes fail by design) must print nothing. */
static void test_second_thread_prints_nothing(void **state) {
  (void)state;
  worker w[1];
  make_workers(w, 1);
  char err_path[64];
  assert_int_equal(test_tmpdir_make(err_path, sizeof err_path, "kcb-stderr-"), 0);
  strcat(err_path, "/stderr");
  fflush(stderr);
  int saved = dup(STDERR_FILENO);
  FILE *capture = fopen(err_path, "w");
  assert_non_null(capture);
  dup2(fileno(capture), STDERR_FILENO);
  save_and_load(&w[0]); /* this thread first, as a program's main thread would */
  run_workers(w, 1);
  kcb_checkpoint_info info;
  char missing[96];
  snprintf(missing, sizeof missing, "%s/missing.keras", w[0].dir);
  int missing_rc = kcb_checkpoint_info_read(&info, missing);
  fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  fclose(capture);
  struct stat st;
  assert_int_equal(stat(err_path, &st), 0);
  assert_int_equal(missing_rc, KCB_ENOENT);
  if (w[0].failures) fail_msg("%d calls failed, first: %s", w[0].failures, w[0].first_error);
  assert_int_equal(st.st_size, 0);
  unlink(err_path);
  *strrchr(err_path, '/') = '\0';
  rmdir(err_path);
  remove_workers(w, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_concurrent_saves_keep_apart),
      cmocka_unit_test(test_second_thread_prints_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
