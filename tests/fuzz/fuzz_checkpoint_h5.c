/* fuzz_checkpoint_h5 — HDF5 checkpoints (.weights.h5 and legacy .h5), byte by byte, on top of the
 * HDF5 library: any bytes give a model or a clear error. The first byte picks the file name's layout,
 * since loaders also look at names. Crafted HDF5 metadata can crash libhdf5 1.10 itself (see
 * RELIABILITY.md), so CI's smoke run skips this target; the long runs report what they find. */
#include <stdint.h>

#include "fuzz_input_file.h"
#include "kcb/kcb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const char *path = fuzz_input_file(data + 1, size - 1, data[0] % 2 ? ".h5" : ".weights.h5");
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
