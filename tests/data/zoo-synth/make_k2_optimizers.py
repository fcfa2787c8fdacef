#!/usr/bin/python3
"""tf.keras 2 .h5 files (from zoo-synth/k2_nadam.h5) whose Sequential holds a custom layer with a
scalar weight (add_weight(shape=())), with Adam/Nadam/RMSprop state in optimizer_v2 (2.10) or 2.11+ naming.
Slot value = 100*kind + 10*var_index + ramp*0.001 (kind: m=1, v=2, vhat=3, rms=4, momentum=5)."""
import h5py, json, shutil, numpy as np, sys, argparse
import os
SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'k2_nadam.h5')
KCODE = {'m': 1, 'v': 2, 'vhat': 3, 'rms': 4, 'momentum': 5, 'velocity': 4, 'mg': 6}
ap = argparse.ArgumentParser()
ap.add_argument('out'); ap.add_argument('--opt', default='Adam'); ap.add_argument('--flavour', default='v2')
ap.add_argument('--pos', default='last')  # last | mid | none
ap.add_argument('--iters', type=int, default=7); ap.add_argument('--beta1', type=float, default=None)
ap.add_argument('--name', default=None); ap.add_argument('--schedule', action='store_true')
ap.add_argument('--lso', action='store_true'); ap.add_argument('--rms_momentum', type=float, default=0.0)
a = ap.parse_args()

layers = [('dense', [('kernel', (5, 4)), ('bias', (4,))]), ('dense_1', [('kernel', (4, 2)), ('bias', (2,))])]
scal = ('scale', [('alpha', ())])
if a.pos == 'last': layers.append(scal)
elif a.pos == 'mid': layers.insert(1, scal)
VARS = [(f'{l}/{w}', s) for l, ws in layers for w, s in ws]
def val(kind, i, shape):
    n = int(np.prod(shape)) if shape else 1
    return (100 * KCODE[kind] + 10 * i + np.arange(n).reshape(shape) * 0.001).astype(np.float32)

shutil.copyfile(SRC, a.out)
with h5py.File(a.out, 'r+') as f:
    mc = json.loads(f.attrs['model_config'])
    dl = [l for l in mc['config']['layers'] if l['class_name'] == 'Dense']
    inp = [l for l in mc['config']['layers'] if l['class_name'] == 'InputLayer']
    sl = {'class_name': 'ScaleLayer', 'config': {'name': 'scale', 'trainable': True, 'dtype': 'float32'}}
    order = {'dense': dl[0], 'dense_1': dl[1], 'scale': sl}
    mc['config']['layers'] = inp + [order[l] for l, _ in layers]
    f.attrs['model_config'] = json.dumps(mc)
    mw = f['model_weights']
    if a.pos != 'none':
        g = mw.create_group('scale'); g.attrs['weight_names'] = np.array(['scale/alpha:0'], dtype=object)
        g.create_group('scale')['alpha:0'] = np.float32(1.25)
    mw.attrs['layer_names'] = np.array([l for l, _ in layers], dtype=object)
    name = a.name or a.opt
    inner = {'name': name}
    if a.flavour == 'new':
        inner.update({"weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None, "use_ema": False,
                      "ema_momentum": 0.99, "ema_overwrite_frequency": None, "jit_compile": True, "is_legacy_optimizer": False})
        f.attrs['keras_version'] = '2.15.0'; mw.attrs['keras_version'] = '2.15.0'
    inner['learning_rate'] = ({'class_name': 'ExponentialDecay', 'config': {'initial_learning_rate': 0.01, 'decay_steps': 100,
                              'decay_rate': 0.9, 'staircase': False, 'name': None}} if a.schedule else 0.002)
    if a.opt in ('Adam', 'Nadam'):
        inner.update({'beta_2': 0.999, 'epsilon': 1e-07})
        if a.beta1 is not None: inner['beta_1'] = a.beta1
        if a.opt == 'Adam': inner['amsgrad'] = False
    if a.opt == 'RMSprop': inner.update({'rho': 0.9, 'momentum': a.rms_momentum, 'epsilon': 1e-07, 'centered': False})
    tc = json.loads(f.attrs['training_config'])
    oc = {'class_name': a.opt, 'config': inner}
    if a.lso:
        oc = {'class_name': 'LossScaleOptimizer', 'config': {'inner_optimizer': oc, 'dynamic': True,
              'initial_scale': 32768.0, 'dynamic_growth_steps': 2000}}
    tc['optimizer_config'] = oc
    f.attrs['training_config'] = json.dumps(tc)
    kinds = {'Adam': ['m', 'v'], 'Nadam': ['m', 'v'], 'RMSprop': ['rms'] + (['momentum'] if a.rms_momentum else [])}[a.opt]
    if a.flavour == 'new' and a.opt == 'RMSprop': kinds = ['velocity'] + (['momentum'] if a.rms_momentum else [])
    names, vals = [], []
    if a.flavour == 'v2':
        names.append(f'{name}/iter:0'); vals.append(np.int64(a.iters))
        if a.opt == 'Nadam': names.append(f'{name}/momentum_cache:0'); vals.append(np.float32(0.8123))
        for k in kinds:
            for i, (vn, s) in enumerate(VARS): names.append(f'{name}/{vn}/{k}:0'); vals.append(val(k, i, s))
    else:
        names.append('iteration:0'); vals.append(np.int64(a.iters))
        if a.opt == 'RMSprop':  # 2.15 rmsprop build(): velocities loop, then momentums loop
            order2 = [(k, i) for k in kinds for i in range(len(VARS))]
        else:
            order2 = [(k, i) for i in range(len(VARS)) for k in kinds]
        for k, i in order2: names.append(f'{name}/{k}/{VARS[i][0]}:0'); vals.append(val(k, i, VARS[i][1]))
    del f['optimizer_weights']
    g = f.create_group('optimizer_weights')
    g.attrs['weight_names'] = np.array(names, dtype=object)
    for n, v in zip(names, vals): g[n] = v
print(a.out, VARS)
