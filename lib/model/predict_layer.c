/* model/predict_layer.c — the output of any layer for a set of inputs (Keras's
 * Model(model.inputs, model.layers[i].output).predict): what the projector shows as embeddings. */
#include <string.h>

#include "model/model_internal.h"

int kcb_model_predict_layer(kcb_model *m, const kcb_tensor *x, size_t layer, int64_t batch_size, kcb_tensor **out) {
  if (!out) return kcb__error(KCB_EINVAL, "predict_layer: out is NULL");
  *out = NULL;
  KCB__MODEL_GIVEN(m, "predict_layer");
  if (!m->weights_ready) return kcb__error(KCB_ESTATE, "predict_layer: the model must be compiled first");
  if (layer >= m->n_layers)
    return kcb__error(KCB_EINVAL, "predict_layer: layer %zu of a model with %zu layers", layer, m->n_layers);
  if (batch_size <= 0) return kcb__error(KCB_EINVAL, "predict_layer: batch_size must be positive");
  int rc = kcb__tensor_check(x, "predict_layer", "x");
  if (rc) return rc;
  int ok = x->rank == m->in_rank + 1;
  for (int i = 0; ok && i < m->in_rank; i++) ok = x->shape[i + 1] == m->in_shape[i];
  if (!ok) return kcb__error(KCB_ESHAPE, "predict_layer: x does not have the model's input shape");
  const kcb__layer *l = &m->layers[layer];
  int64_t n = x->shape[0], shape[KCB_MAX_RANK];
  shape[0] = n;
  memcpy(shape + 1, l->out_shape, (size_t)l->out_rank * sizeof shape[0]);
  rc = kcb_tensor_new(out, l->out_rank + 1, shape);
  if (!rc) rc = kcb__model_reserve_workspace(m, batch_size < n ? batch_size : n > 0 ? n : 1, 1);
  for (int64_t start = 0; !rc && start < n; start += batch_size) {
    int64_t count = n - start < batch_size ? n - start : batch_size;
    kcb__model_forward(m, x->data + start * m->in_size, count, 0);
    memcpy((*out)->data + start * l->out_size, l->y, (size_t)(count * l->out_size) * sizeof(float));
  }
  if (rc) {
    kcb_tensor_free(*out);
    *out = NULL;
  }
  return rc;
}
