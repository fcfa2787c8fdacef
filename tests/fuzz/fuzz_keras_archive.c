/* fuzz_keras_archive — .keras archives (zip through libzip, then config.json, metadata.json and the
 * weights inside): any bytes give a model or a clear error. */
#include <stdint.h>

#include "fuzz_input_file.h"
#include "kcb/kcb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_input_file(data, size, ".keras");
  if (!path) return 0;
  kcb_checkpoint_info info;
  (void)kcb_checkpoint_info_read(&info, path);
  kcb_model *m = NULL;
  if (kcb_model_load(&m, path, NULL) == 0) kcb_model_free(m);
  /* Weights into a model of the fixtures' shape, so the weight-matching code runs too. */
  int64_t in = 4;
  if (kcb_model_new(&m, 1, &in, 1) == 0) {
    kcb_compile_options c = {0};
    c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
    c.loss = KCB_LOSS_MEAN_SQUARED_ERROR;
    if (kcb_model_add_from_spec(m, "8:relu,3") == 0 && kcb_model_compile(m, &c) == 0)
      (void)kcb_model_load_weights(m, path, NULL);
    kcb_model_free(m);
  }
  return 0;
}
