/* callbacks/lambda.c — LambdaCallback: plain C functions for any hook, with one user_data. */
#include <stdlib.h>

#include "internal.h"

typedef struct lambda_callback {
  kcb_callback base;
  kcb_callback_ops ops; /* a private copy, so the caller's table need not outlive the callback */
} lambda_callback;

int kcb_lambda_callback_new(kcb_callback **out, const kcb_callback_ops *ops, void *user_data) {
  if (!out) return kcb__error(KCB_EINVAL, "LambdaCallback: out is NULL");
  *out = NULL;
  if (!ops) return kcb__error(KCB_EINVAL, "LambdaCallback needs an ops table");
  lambda_callback *cb = calloc(1, sizeof *cb);
  if (!cb) return kcb__error(KCB_ENOMEM, "out of memory creating a LambdaCallback");
  cb->ops = *ops;
  cb->ops.name = "LambdaCallback";
  cb->base.ops = &cb->ops;
  cb->base.user_data = user_data;
  cb->base.owned_by_kcb = 1;
  *out = &cb->base;
  return 0;
}
