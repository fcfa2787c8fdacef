/* fuzz_model_spec — kcb-train's --model text: any bytes give a model or a clear error, and the model
 * compiles (its parameters allocated) within kcb_max_params, here lowered to 2^20 so that an input
 * asking for too much is found quickly (issue 15: 100,000-unit layers asked for 80 GB). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kcb/kcb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *spec = malloc(size + 1);
  if (!spec) return 0;
  memcpy(spec, data, size);
  spec[size] = '\0';
  int64_t shape[2] = {28, 28};
  kcb_model *m = NULL;
  if (kcb_model_new(&m, 2, shape, 1) == 0) {
    kcb_set_max_params((uint64_t)1 << 20);
    if (kcb_model_add_from_spec(m, spec) == 0) {
      kcb_compile_options c = {0};
      c.optimizer = (kcb_optimizer_options)KCB_OPTIMIZER_OPTIONS_INIT(KCB_OPT_ADAM);
      c.loss = KCB_LOSS_MEAN_SQUARED_ERROR;
      (void)kcb_model_compile(m, &c);
    }
    (void)kcb_model_param_count(m);
    kcb_model_free(m);
  }
  free(spec);
  return 0;
}
