#!/usr/bin/python3
# k2_lso.h5 (run in the directory it writes to): k2_nadam.h5 as tf.keras 2.10 saves it when the
# model was compiled under the mixed_float16 policy. The optimizer is a LossScaleOptimizer around
# Nadam; its training_config says so ({"inner_optimizer": ..., "dynamic", "initial_scale",
# "dynamic_growth_steps"}), while its `weights` are the inner optimizer's (the loss scale's
# current_loss_scale and good_steps are not among them), so optimizer_weights is unchanged.
import h5py, json, shutil
shutil.copyfile("k2_nadam.h5", "k2_lso.h5")
with h5py.File("k2_lso.h5", "r+") as f:
    tc = json.loads(f.attrs["training_config"])
    tc["optimizer_config"] = {"class_name": "LossScaleOptimizer", "config": {
        "inner_optimizer": tc["optimizer_config"], "dynamic": True, "initial_scale": 32768.0, "dynamic_growth_steps": 2000}}
    f.attrs["training_config"] = json.dumps(tc)
