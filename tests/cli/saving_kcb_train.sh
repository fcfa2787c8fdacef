#!/usr/bin/env bash
# End-to-end tests of kcb-train's --initial-weights and --save (zstd's cli-tests style: each case
# is a command, the exit code it must return and a pattern its output must contain).
# Usage: tests/cli/saving_kcb_train.sh BIN_DIR DATA_DIR
set -u
bin=$1/kcb-train data=$2
. "$(dirname "$0")/lib.sh"

check help_initial 0 '^  --initial-weights FILE ' -- "$bin" --help
check help_save 0 '^  --save PATH ' -- "$bin" --help
check help_group 0 '^Checkpoints:$' -- "$bin" --help
check bad_save_name 2 "kcb-train: --save 'model.bin': the name must end in .weights.h5, .h5 or .keras" -- "$bin" --save model.bin

if [ -d /usr/share/datasets/fashion-mnist ]; then
  common=(--train-limit 500 --verbose 0 --model flatten,32:relu,10:softmax)
  check missing_weights 1 "kcb-train: $tmp/none.h5: No such file or directory \(KCB_ENOENT\)" -- \
    "$bin" "${common[@]}" --epochs 0 --initial-weights "$tmp/none.h5"
  check keras_fixture 0 '^test_loss=[0-9.]+ test_accuracy=[0-9.]+$' -- \
    "$bin" "${common[@]}" --epochs 0 --initial-weights "$data/m.keras"
  check keras_fixture_mismatch 1 "m.h5: Shape mismatch in layer #0 \(named dense\) .* Weight expects shape \(784, 64\). Received saved weight with shape \(784, 32\); the models first differ at .*layer 'dense' \(Dense\) has units 32 in the file, 64 in this model \(KCB_ESHAPE\)" -- \
    "$bin" --train-limit 500 --verbose 0 --model flatten,64:relu,10:softmax --epochs 0 --initial-weights "$data/m.h5"
  for name in w.weights.h5 m.h5 m.keras; do
    check "save_$name" 0 '^test_loss=' -- "$bin" "${common[@]}" --epochs 1 --save "$tmp/$name"
    first=$(grep '^test_loss' "$out")
    check "reload_$name" 0 "^${first}\$" -- "$bin" "${common[@]}" --epochs 0 --initial-weights "$tmp/$name"
  done
  # the model the file describes must be --model's, and trainable as saved: an activation changed
  # or a regularizer would otherwise be trained as kcb's plain model, unsaid; a frozen layer is the
  # same model (--freeze says what trains, as Keras's load_weights leaves trainable alone)
  for edit in "activation=sigmoid" "trainable=false" "kernel_regularizer=l2"; do
    /usr/bin/python3 -c "
import json, sys, zipfile
key, value = sys.argv[3].split('=')
value = {'false': False, 'l2': {'module': 'keras.regularizers', 'class_name': 'L2', 'config': {'l2': 0.01}}}.get(value, value)
z = zipfile.ZipFile(sys.argv[1])
cfg = json.loads(z.read('config.json'))
next(l for l in cfg['config']['layers'] if l['class_name'] == 'Dense')['config'][key] = value
with zipfile.ZipFile(sys.argv[2], 'w') as out:
    for n in z.namelist():
        out.writestr(n, json.dumps(cfg) if n == 'config.json' else z.read(n))" "$tmp/m.keras" "$tmp/edited.keras" "$edit"
    if [ "$edit" = trainable=false ]; then
      check initial_weights_frozen_in_file 0 "^${first}\$" -- "$bin" "${common[@]}" --epochs 0 --initial-weights "$tmp/edited.keras"
      continue
    fi
    check "initial_weights_other_model_${edit%%=*}" 1 "kcb-train: .*edited\.keras: .*(activation \"sigmoid\" in the file, \"relu\" in this model|regulari)" -- \
      "$bin" "${common[@]}" --epochs 0 --initial-weights "$tmp/edited.keras"
  done
  # fine-tuning: --freeze keeps the named layers' weights as the file had them, trains the rest, and
  # the saved model says which layers are frozen, with optimizer state for the others only
  check freeze_unknown_layer 2 "kcb-train: --freeze 'dense,conv': the model has no layer 'conv' \(its layers: flatten dense dense_1\)" -- \
    "$bin" "${common[@]}" --epochs 0 --freeze dense,conv
  check freeze_fine_tune 0 '^test_loss=' -- \
    "$bin" "${common[@]}" --epochs 1 --optimizer adam --initial-weights "$tmp/m.keras" --freeze ' dense ' --save "$tmp/ft.keras"
  assert freeze_saved_as_keras_does /usr/bin/python3 -c "
import h5py, io, json, sys, zipfile, numpy as np
def store(p):
    return h5py.File(io.BytesIO(zipfile.ZipFile(p).read('model.weights.h5')), 'r')
a, b = store(sys.argv[1]), store(sys.argv[2])
assert np.array_equal(a['layers/dense/vars/0'][()], b['layers/dense/vars/0'][()]), 'the frozen kernel moved'
assert np.array_equal(a['layers/dense/vars/1'][()], b['layers/dense/vars/1'][()]), 'the frozen bias moved'
assert not np.array_equal(a['layers/dense_1/vars/0'][()], b['layers/dense_1/vars/0'][()]), 'dense_1 did not train'
assert len(b['optimizer/vars']) == 2 + 2 * 2, sorted(b['optimizer/vars'])  # iteration, lr, m and v of dense_1's two
layers = json.loads(zipfile.ZipFile(sys.argv[2]).read('config.json'))['config']['layers']
assert [l['config'].get('trainable') for l in layers] == [None, True, False, True], layers
" "$tmp/m.keras" "$tmp/ft.keras"
  # the second phase unfreezes everything and goes on from the first one's file
  check freeze_second_phase 0 '^test_loss=' -- \
    "$bin" "${common[@]}" --epochs 1 --optimizer adam --initial-weights "$tmp/ft.keras"
  # same weight shapes, another geometry: the convolution saw 14x56 images in the file
  "$bin" --train-limit 300 --verbose 0 --epochs 1 --model 28x28x1,reshape:14x56x1,conv:4:3:relu,gap,10:softmax \
    --save "$tmp/wide.keras" >/dev/null 2>&1
  check initial_weights_other_geometry 1 "wide\.keras: layer 'conv2d' \(Conv2D\) takes \(14, 56, 1\) in the file, \(28, 28, 1\) in this model" -- \
    "$bin" --train-limit 300 --verbose 0 --epochs 0 --model 28x28x1,conv:4:3:relu,gap,10:softmax --initial-weights "$tmp/wide.keras"
  # a setting that changes a later layer's weight shape (padding "same" saved, "valid" asked): Keras's
  # shape message for that later layer, then the setting that caused it
  "$bin" --train-limit 300 --verbose 0 --epochs 1 --model 28x28x1,conv:4:3:same:relu,flatten,10:softmax \
    --save "$tmp/same.keras" >/dev/null 2>&1
  check initial_weights_cause_named 1 "layer 'dense' .*value\.shape=\(3136, 10\).*; the models first differ at .*same\.keras: layer 'conv2d' \(Conv2D\) has padding \"same\" in the file, \"valid\" in this model" -- \
    "$bin" --train-limit 300 --verbose 0 --epochs 0 --model 28x28x1,conv:4:3:relu,flatten,10:softmax --initial-weights "$tmp/same.keras"
  # another layer class where the weights no longer fit (BatchNormalization saved, LayerNormalization
  # asked): the config's difference is said, not a variable count
  "$bin" --train-limit 300 --verbose 0 --epochs 1 --model 28x28x1,conv:4:3:same:s2,bn,gap,10:softmax \
    --save "$tmp/bn.keras" >/dev/null 2>&1
  check initial_weights_other_class 1 "bn\.keras: layer 'batch_normalization' is a BatchNormalization in the file; this model has a LayerNormalization there" -- \
    "$bin" --train-limit 300 --verbose 0 --epochs 0 --model 28x28x1,conv:4:3:same:s2,ln,gap,10:softmax --initial-weights "$tmp/bn.keras"
  # a file whose model has a layer kcb does not implement: that layer is the whole message, not the
  # first variable that failed to fit
  check initial_weights_unbuildable 1 "rnn\.keras: layer 'embedding' is of class Embedding, which kcb does not implement \(KCB_EFORMAT\)\$" -- \
    "$bin" --train-limit 300 --verbose 0 --epochs 0 --model 28x28x1,conv:4:3:relu,gap,10:softmax --initial-weights "$data/../zoo/rnn.keras"
  check h5py_reads 0 '^\(784, 32\) \(784, 32\) sequential$' -- /usr/bin/python3 -c "
import h5py, sys
a = h5py.File('$tmp/w.weights.h5', 'r')['layers/dense/vars/0'].shape
b = h5py.File('$tmp/m.h5', 'r')['model_weights/dense/sequential/dense/kernel'].shape
print(a, b, h5py.File('$tmp/w.weights.h5', 'r')['vars'].attrs['name'])"
  # A model with more optimizer variables than one HDF5 attribute can name (64 KiB): the .h5 splits
  # the list as Keras does (weight_names0, 1, ... of fixed-length strings, numpy's array_split), Keras's
  # reader gets every name back in order, and the file loads again
  deep=flatten$(printf ',2%.0s' $(seq 1100)),10:softmax
  check deep_save_h5 0 '^test_loss=' -- "$bin" --train-limit 64 --verbose 0 --validation-split 0 --model "$deep" \
    --epochs 1 --batch-size 64 --save "$tmp/deep.h5"
  check deep_names_split_as_keras 0 '^4406 names in 3 parts as Keras splits them, in order$' -- \
    /usr/bin/python3 -c "
import h5py, numpy as np
g = h5py.File('$tmp/deep.h5', 'r')['optimizer_weights']
assert 'weight_names' not in g.attrs
parts, k = [], 0
while 'weight_names%d' % k in g.attrs:  # legacy_h5_format.load_attributes_from_hdf5_group
    parts.append(g.attrs['weight_names%d' % k]); k += 1
names = [n.decode('utf8') for p in parts for n in p]
assert all(p.dtype.kind == 'S' and p.nbytes <= 64512 for p in parts)
want = ['adam/iteration', 'adam/learning_rate']
for i in ['' ] + ['_%d' % j for j in range(1, 1101)]:
    for w in ('kernel', 'bias'):
        want += ['adam/sequential_dense%s_%s_%s' % (i, w, s) for s in ('momentum', 'velocity')]
data = np.asarray([n.encode('utf8') for n in want])  # legacy_h5_format.save_attributes_to_hdf5_group
chunks = 1
while any(c.nbytes > 64512 for c in np.array_split(data, chunks)):
    chunks += 1
keras = np.array_split(data, chunks)
same = len(keras) == len(parts) and all(a.dtype == b.dtype and list(a) == list(b) for a, b in zip(keras, parts))
print(len(names), 'names in', len(parts), 'parts', 'as Keras splits them' if same else 'UNLIKE KERAS', end=', ')
print('in order' if names == want else 'OUT OF ORDER')"
  check deep_reload_h5 0 '^test_loss=' -- "$bin" --train-limit 64 --verbose 0 --validation-split 0 --model "$deep" \
    --epochs 0 --initial-weights "$tmp/deep.h5"
  # 4,093 short names (activation_4089: 15 bytes) fit one attribute as fixed-length strings, not as
  # variable-length ones (16 header bytes each): one fixed-length layer_names, read back by h5py
  many=flatten,16:relu$(printf ',relu%.0s' $(seq 4090)),10:softmax
  check many_names_save_h5 0 '^test_loss=' -- "$bin" --train-limit 64 --verbose 0 --validation-split 0 --model "$many" \
    --epochs 1 --save "$tmp/many.h5"
  check many_names_one_attribute 0 '^4093 names, fixed-length 15 activation_4089 last but one$' -- /usr/bin/python3 -c "
import h5py
a = h5py.File('$tmp/many.h5', 'r')['model_weights'].attrs['layer_names']
print(len(a), 'names, fixed-length', a.dtype.itemsize, a[-2].decode(), 'last but one')"
  check many_names_reload_h5 0 '^test_loss=' -- "$bin" --train-limit 64 --verbose 0 --validation-split 0 --model "$many" \
    --epochs 0 --initial-weights "$tmp/many.h5"
else
  echo "skip: no /usr/share/datasets/fashion-mnist"
fi
finish "saving kcb-train"
