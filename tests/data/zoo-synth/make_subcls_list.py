#!/usr/bin/python3
# subcls_list.{keras,weights.h5} (run in the directory it writes to): a subclassed Keras 3.15.1
# model holding a list of layers as an attribute:
#   class MyModel(keras.Model):
#       def __init__(self): self.head = Dense(4); self.blocks = [Dense(4), Dense(4)]; self.encoder = Dense(4)
# saving_lib walks the model's attributes in sorted order; the list `blocks` is saved by
# _save_container_state as the group of its items, named by class in list order
# (blocks/dense, blocks/dense_1), with no `vars` of its own: it is no layer. Its items are the
# model's layers (model.layers: dense, dense_1, dense_2, dense_3), built in the model's scope.
import numpy as np
from synth_archive import write_keras
r = np.random.default_rng(7)
pol = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}
cfg = {"module": "__main__", "class_name": "MyModel", "config": {"name": "my_model", "trainable": True, "dtype": pol},
       "registered_name": "MyModel", "build_config": {"input_shape": [None, 4]}}
tree = {"blocks/dense": ("dense_1", 1), "blocks/dense_1": ("dense_2", 2), "encoder": ("dense_3", 3), "head": ("dense", 0)}
data = {p: [r.standard_normal((4, 4)).astype("f4") + k, r.standard_normal(4).astype("f4")] for p, (n, k) in tree.items()}
def store(h):
    h.create_group("vars").attrs["name"] = "my_model"
    for path, (name, _) in tree.items():
        g = h.create_group(path + "/vars")
        g.attrs["name"] = name
        for i, d in enumerate(data[path]):
            g[str(i)] = d
write_keras("subcls_list.keras", cfg, store)
import h5py
with h5py.File("subcls_list.weights.h5", "w") as h:
    store(h)
