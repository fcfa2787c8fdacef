#!/usr/bin/python3
"""(Run from tests/data/zoo-synth with the shared keras-zoo fixtures beside the project; rnn.k2.h5 here is its
output for the rnn model.) Write tf.keras 2.15 and Keras 2.4+h5py2 layouts of the keras-zoo models, from the
Keras 3 legacy NAME.h5 (weights and optimizer state), following
keras v2.15.0 keras/saving/legacy/hdf5_format.py (save_model_to_hdf5,
save_weights_to_hdf5_group, save_subset_weights_to_hdf5_group, save_optimizer_weights_to_hdf5_group,
_legacy_weights) and v2.6.0 keras/optimizer_v2 (iter, slots m then v)."""
import h5py, json, sys, copy
import numpy as np

ZOO = '/work/shared/fixtures/keras-zoo/'
OUT = sys.argv[1] if len(sys.argv) > 1 else '.'
NESTED_SCOPE = '--nested-scope' in sys.argv   # variant: nested weights as 'sequential/dense_2/kernel:0'
REAL_H5PY2_ATTRS = '--fixed-config' in sys.argv  # h5py2: model_config etc. fixed-length scalars

def k2_dtype(d):
    if isinstance(d, dict) and d.get('class_name') == 'DTypePolicy':
        return d['config']['name']
    return d

def k2_init(i, h5py2):
    if not isinstance(i, dict):
        return i
    i = copy.deepcopy(i)
    c = i.get('config', {})
    for k in ('input_axes', 'output_axes'):
        c.pop(k, None)
    if h5py2:
        return {'class_name': i['class_name'], 'config': c}
    return {'module': 'keras.initializers', 'class_name': i['class_name'], 'config': c,
            'registered_name': None}

def k2_layer_cfg(cls, cfg, h5py2, rank=None):
    cfg = copy.deepcopy(cfg)
    if 'dtype' in cfg:
        cfg['dtype'] = k2_dtype(cfg['dtype'])
    for k in list(cfg):
        if k.endswith('_initializer'):
            cfg[k] = k2_init(cfg[k], h5py2)
    cfg.pop('quantization_config', None)
    if cls == 'InputLayer':
        cfg['batch_input_shape'] = cfg.pop('batch_shape')
        cfg.pop('optional', None)
    if cls in ('BatchNormalization', 'LayerNormalization'):
        cfg['axis'] = [rank - 1]
        cfg.pop('synchronized', None); cfg.pop('rms_scaling', None)
    if cls in ('LSTM', 'GRU'):
        for k in ('seed', 'use_cudnn'):
            cfg.pop(k, None)
        cfg.setdefault('time_major', False)
        cfg.setdefault('implementation', 2)
        if cls == 'GRU':
            cfg.setdefault('reset_after', True)
    if cls == 'Embedding':
        cfg.pop('embeddings_constraint', None) if False else None
        cfg.setdefault('input_length', None)
        cfg.pop('lora_rank', None); cfg.pop('lora_alpha', None)
    return cfg

def conv_nodes(nodes):
    out = []
    for n in nodes:
        args = n['args']
        flat = args[0] if isinstance(args[0], list) else [args[0]]
        out.append([[t['config']['keras_history'][0], t['config']['keras_history'][1],
                     t['config']['keras_history'][2], {}] for t in flat])
    return out

def k2_config(c3, h5py2, ranks):
    cls = c3['class_name']
    cfg = c3['config']
    if cls == 'Sequential':
        layers = []
        for i, l in enumerate(cfg['layers']):
            lc = k2_layer_cfg(l['class_name'], l['config'], h5py2, ranks.get(l['config']['name']))
            if l['class_name'] == 'InputLayer' and lc['name'].startswith('input_layer'):
                lc['name'] = 'input_1'
            layers.append({'class_name': l['class_name'], 'config': lc})
        return {'class_name': 'Sequential', 'config': {'name': cfg['name'], 'layers': layers}}
    if cls == 'Functional':
        layers = []
        for l in cfg['layers']:
            if l['class_name'] == 'Sequential':
                inner = k2_config({'class_name': 'Sequential', 'config': l['config']}, h5py2, ranks)
                inner['config']['layers'][0]['config']['name'] = l['config']['layers'][1]['config']['name'] + '_input'
                lc = inner['config']
            else:
                lc = k2_layer_cfg(l['class_name'], l['config'], h5py2, ranks.get(l['name']))
            layers.append({'class_name': l['class_name'], 'config': lc, 'name': l['name'],
                           'inbound_nodes': conv_nodes(l['inbound_nodes'])})
        return {'class_name': 'Functional', 'config': {
            'name': 'model', 'trainable': True, 'layers': layers,
            'input_layers': cfg['input_layers'], 'output_layers': cfg['output_layers']}}
    raise SystemExit(cls)

def k2_name(model, n3, inner_layers):
    """Keras 3 legacy weight name -> tf.keras 2 variable name."""
    parts = n3.split('/')
    if model['class'] == 'Sequential' and parts[0] == model['name']:
        parts = parts[1:]
    elif parts[0] in model['nested'] and not NESTED_SCOPE:
        parts = parts[1:]
    return '/'.join(parts) + ':0'

def put_attr(g, name, strings, fixed):
    if fixed:
        g.attrs[name] = np.array([s.encode() for s in strings], dtype='S%d' % max(1, max([len(s) for s in strings] or [1])))
    else:
        g.attrs[name] = [s.encode('utf8') for s in strings]   # tf.keras 2.15 + h5py 3: vlen ascii

def put_scalar(g, name, s, fixed):
    if fixed:
        g.attrs[name] = np.bytes_(s.encode())
    else:
        g.attrs[name] = s.encode('utf8')

def make(model_name, variant, weights_only=False):
    h5py2 = variant == 'k2_h5py2'
    src = h5py.File(ZOO + model_name + '.h5', 'r')
    c3 = json.loads(src.attrs['model_config'])
    t3 = json.loads(src.attrs['training_config'])
    ranks = {}
    for l in c3['config']['layers']:
        ranks[l['config']['name']] = 2
    if model_name == 'cnn':
        ranks['batch_normalization'] = 4
    cfg = k2_config(c3, h5py2, ranks)
    mw3 = src['model_weights']
    layer_names = [x.decode() if isinstance(x, bytes) else x for x in mw3.attrs['layer_names']]
    nested = [l['config']['name'] for l in c3['config']['layers'] if l['class_name'] in ('Sequential', 'Functional')]
    model = {'class': c3['class_name'], 'name': c3['config']['name'], 'nested': nested}
    kv = '2.4.0' if h5py2 else '2.15.0'
    suffix = {'k2': 'k2', 'k2_h5py2': 'k2_h5py2'}[variant]
    path = '%s/%s.%s%s.h5' % (OUT, model_name, suffix, '_weights' if weights_only else '')
    f = h5py.File(path, 'w')
    if not weights_only:
        f.attrs['backend'] = 'tensorflow'
        f.attrs['keras_version'] = kv
        mc = json.dumps(cfg)
        if h5py2:
            oc = {'class_name': 'Adam', 'config': {'name': 'Adam', 'learning_rate': 0.0010000000474974513,
                  'decay': 0.0, 'beta_1': 0.9, 'beta_2': 0.999, 'epsilon': 1e-07, 'amsgrad': False}}
            tc = {'loss': t3['loss'], 'metrics': t3['metrics'], 'weighted_metrics': None,
                  'loss_weights': None, 'optimizer_config': oc}
        else:
            oc = {'class_name': 'Adam', 'config': {'name': 'Adam', 'weight_decay': None, 'clipnorm': None,
                  'global_clipnorm': None, 'clipvalue': None, 'use_ema': False, 'ema_momentum': 0.99,
                  'ema_overwrite_frequency': None, 'jit_compile': True, 'is_legacy_optimizer': False,
                  'learning_rate': 0.0010000000474974513, 'beta_1': 0.9, 'beta_2': 0.999,
                  'epsilon': 1e-07, 'amsgrad': False}}
            tc = {'loss': t3['loss'], 'metrics': t3['metrics'], 'weighted_metrics': None,
                  'loss_weights': None, 'optimizer_config': oc}
        fixed = h5py2 and REAL_H5PY2_ATTRS
        if fixed:
            f.attrs['model_config'] = np.bytes_(mc.encode())
            f.attrs['training_config'] = np.bytes_(json.dumps(tc).encode())
        else:
            f.attrs['model_config'] = mc.encode('utf8')
            f.attrs['training_config'] = json.dumps(tc).encode('utf8')
        mw = f.create_group('model_weights')
    else:
        mw = f
    put_attr(mw, 'layer_names', layer_names, h5py2)
    put_scalar(mw, 'backend', 'tensorflow', h5py2 and REAL_H5PY2_ATTRS)
    put_scalar(mw, 'keras_version', kv, h5py2 and REAL_H5PY2_ATTRS)
    var_map = {}   # keras3 name -> k2 name
    for ln in sorted(layer_names):
        g3 = mw3[ln]
        wn3 = [x.decode() if isinstance(x, bytes) else x for x in g3.attrs['weight_names']]
        g = mw.create_group(ln)
        wn2 = [k2_name(model, n, nested) for n in wn3]
        if wn2:
            put_attr(g, 'weight_names', wn2, h5py2)
        else:
            g.attrs['weight_names'] = np.zeros((0,), dtype='float64')
        for a, b in zip(wn3, wn2):
            var_map[a] = b
            d = g3[a][()]
            ds = g.create_dataset(b, d.shape, dtype=d.dtype)
            if d.shape:
                ds[:] = d
            else:
                ds[()] = d
    g = mw.create_group('top_level_model_weights')
    g.attrs['weight_names'] = np.zeros((0,), dtype='float64')
    if not weights_only:
        ow3 = src['optimizer_weights']
        on3 = [x.decode() if isinstance(x, bytes) else x for x in ow3.attrs['weight_names']]
        it = ow3[on3[0]][()]
        slots = on3[2:]
        # slots: per trainable variable momentum, velocity ; owners in trainable order
        e = json.load(open(ZOO + 'expected.json'))['models'][model_name]
        trainable_order = []
        # Keras 3 slot name = adam/<path with _>_momentum
        lut = {w['path'].replace('/', '_'): w['path'] for w in e['weights']}
        for s in slots[0::2]:
            key = s.split('/', 1)[1][:-len('_momentum')]
            trainable_order.append(lut[key])
        names, vals = [], []
        legacy_of = {}
        # map keras3 variable path -> legacy weight name in this model
        for a in var_map:
            legacy_of[a] = var_map[a]
        # keras3 variable path (e.g. sequential/dense/kernel) vs legacy name: same for these models
        if h5py2:
            names.append('Adam/iter:0'); vals.append(np.array(it, dtype=np.int64))
            for kind, k3 in (('m', 'momentum'), ('v', 'velocity')):
                for p in trainable_order:
                    n2 = legacy_of[p][:-2]
                    names.append('Adam/%s/%s:0' % (n2, kind))
                    vals.append(ow3['adam/%s_%s' % (p.replace('/', '_'), k3)][()])
        else:
            names.append('iteration:0'); vals.append(np.array(it, dtype=np.int64))
            for p in trainable_order:
                n2 = legacy_of[p][:-2]
                for kind, k3 in (('m', 'momentum'), ('v', 'velocity')):
                    names.append('Adam/%s/%s:0' % (kind, n2))
                    vals.append(ow3['adam/%s_%s' % (p.replace('/', '_'), k3)][()])
        og = f.create_group('optimizer_weights')
        put_attr(og, 'weight_names', names, h5py2)
        for n, v in zip(names, vals):
            ds = og.create_dataset(n, v.shape, dtype=v.dtype)
            if v.shape:
                ds[:] = v
            else:
                ds[()] = v
    f.close()
    print('wrote', path)

if __name__ == '__main__':
    for m in ('rnn', 'functional', 'mlp_bn', 'cnn'):
        for v in ('k2', 'k2_h5py2'):
            make(m, v)
        make(m, 'k2', weights_only=True)
        make(m, 'k2_h5py2', weights_only=True)
