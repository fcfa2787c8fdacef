#!/usr/bin/env bash
# Checkpoints of models the keras-zoo does not have (tests/data/zoo-synth, written by make.py in
# Keras's layouts): Bidirectional, TimeDistributed, MultiHeadAttention, Conv1D/3D, transposed,
# separable and depthwise convolutions, Layer/Group normalization, SimpleRNN, ConvLSTM2D, nested
# Sequential > Functional > Sequential, a custom class, shared layers, float16 and int64 variables,
# RMSprop/AdamW/SGD/Nadam/Adagrad and tf.keras 2's optimizer_v2 weights. kcb-inspect lists each as
# expected.json says, diff finds the layouts identical, kcb-restore ranks, restores and converts,
# and h5py finds each conversion equal to the file in that layout.
# Usage: tests/cli/synth_checkpoints.sh BIN_DIR DATA_DIR MAKE_FILES (tests/checkpoint_make_files)
set -u
bin=$1 dir=$2/zoo-synth resave=$3
py=/usr/bin/python3
. "$(dirname "$0")/lib.sh"
here=$(dirname "$0")

# A weights-only store names each layer's group after its class in snake_case: the layers without
# variables that kcb does not train are still named by class (UnitNormalization, ReLU, RandomFlip)
check weightless_classes 0 '^UnitNormalization ReLU RandomFlip RMSNormalization $' -- sh -c "$py -c \"
import h5py, numpy as np
f = h5py.File('$tmp/weightless.weights.h5', 'w')
for name in ['unit_normalization', 're_lu', 'random_flip']:
    f.create_group('layers/' + name + '/vars')
f.create_dataset('layers/rms_normalization/vars/0', data=np.ones(4, 'float32'))
f.create_group('optimizer/vars')\" && '$bin/kcb-inspect' checkpoint '$tmp/weightless.weights.h5' --json | $py -c \"
import json, sys
print(''.join(l['class'] + ' ' for l in json.load(sys.stdin)['layers']))\""

# A LossScaleOptimizer's slots are laid out by its inner optimizer's settings (Adam with use_ema:
# averages first; centered RMSprop: average gradients, not momentums); h5py wrote these two.
check lso_inner_ema 0 '^  adam/sequential_dense_kernel_average ' -- "$bin/kcb-inspect" checkpoint "$dir/lso_ema.keras"
check lso_inner_centered 0 '^  rm_sprop/sequential_dense_kernel_average_gradient ' -- "$bin/kcb-inspect" checkpoint "$dir/lso_rmsc.keras"

# A LossScaleOptimizer never steps its own iteration (Keras leaves it 0): the count is its inner
# optimizer's, stored after the LossScaleOptimizer's four variables
check lso_iterations_inner 0 'optimizer state: [0-9]+ variables \(loss_scale_optimizer\), 3 iterations' -- sh -c "$py -c \"
import h5py, io, zipfile
data = zipfile.ZipFile('$dir/lso_ema.keras').read('model.weights.h5')
open('$tmp/lso.weights.h5', 'wb').write(data)
with h5py.File('$tmp/lso.weights.h5', 'r+') as f:
    assert f['optimizer/vars/4'][()] == 3
    f['optimizer/vars/0'][()] = 0\" && '$bin/kcb-inspect' checkpoint '$tmp/lso.weights.h5'"

# tf.keras 2's Nadam (optimizer_v2, h5py-written): Keras 3 keeps a u_product last, which the file
# holds in no Keras 3 form (optimizer_v2's momentum_cache follows another schedule): it is Keras 3's
# product over the file's steps s of beta_1 (1 - 0.5 0.96^s), in float32; without it Keras 3 would
# skip the whole optimizer state
u_product_check="
import h5py, numpy as np, sys
g = h5py.File(sys.argv[1], 'r')['optimizer/vars']
u = np.float32(1)
for s in range(1, int(g['0'][()]) + 1):
    u = np.float32(u * np.float32(0.9) * (np.float32(1) - np.float32(0.5) * np.float32(0.96) ** np.float32(s)))
print(len(g), 'variables, lr %.3f,' % g['1'][()], 'u_product', 'right' if g[str(len(g) - 1)][()] == u else 'wrong')"
check k2_nadam_to_store 0 '^11 variables, lr 0\.001, u_product right$' -- sh -c "'$bin/kcb-restore' '$dir/k2_nadam.h5' -o '$tmp/k2n.weights.h5' \
  >/dev/null && $py -c \"$u_product_check\" '$tmp/k2n.weights.h5'"
# ... and the same optimizer given its own name (Nadam(name="my_nadam")): its slots are laid out by
# its class, which the compile config gives, not by the name its weights carry
$py -c "
import h5py, json, shutil, sys
shutil.copyfile(sys.argv[1], sys.argv[2])
with h5py.File(sys.argv[2], 'r+') as f:
    g = f['optimizer_weights']
    names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs['weight_names']]
    values = [g[n][()] for n in names]
    del f['optimizer_weights']
    renamed = [n.replace('Nadam/', 'my_nadam/', 1) for n in names]
    assert renamed != names
    g = f.create_group('optimizer_weights')
    g.attrs['weight_names'] = [n.encode() for n in renamed]
    for n, v in zip(renamed, values):
        g.create_dataset(n, data=v)
    tc = json.loads(f.attrs['training_config'])
    tc['optimizer_config']['config']['name'] = 'my_nadam'
    f.attrs['training_config'] = json.dumps(tc)" "$dir/k2_nadam.h5" "$tmp/k2_my_nadam.h5"
check k2_named_optimizer_to_store 0 '^11 variables, lr 0\.001, u_product right$' -- sh -c "'$bin/kcb-restore' '$tmp/k2_my_nadam.h5' -o '$tmp/k2mn.weights.h5' \
  >/dev/null && $py -c \"$u_product_check\" '$tmp/k2mn.weights.h5'"
# tf.keras 2 optimizer state as Keras 3 loads it, by position (make_k2_optimizers.py: each slot's
# first value codes its kind and variable, 100 kind + 10 variable): a scalar weight's slots kept in
# their place; an optimizer named after another class laid out by its own class
slots_of="
import h5py, sys
g = h5py.File(sys.argv[1], 'r')['optimizer/vars']
kinds = {1: 'm', 2: 'v', 3: 'vhat', 4: 'rms', 5: 'momentum'}
out = []
for k in sorted(g, key=int)[2:]:
    x = float(g[k][()].flat[0])
    out.append('%s%d' % (kinds[int(x // 100)], int(round(x % 100)) // 10) if x >= 100 else 'u')
print(' '.join(out))"
k2opt() { $py "$dir/make_k2_optimizers.py" "$tmp/$1.h5" "${@:2}" >/dev/null && timeout 20 "$bin/kcb-restore" "$tmp/$1.h5" -o "$tmp/$1.weights.h5" >/dev/null 2>&1 \
  && $py -c "$slots_of" "$tmp/$1.weights.h5"; }
check k2_scalar_weight_adam 0 '^m0 v0 m1 v1 m2 v2 m3 v3 m4 v4$' -- k2opt k2_scalar_adam --opt Adam --pos mid
check k2_scalar_weight_nadam 0 '^m0 v0 m1 v1 m2 v2 m3 v3 m4 v4 u$' -- k2opt k2_scalar_nadam --opt Nadam --pos last --flavour new
check k2_rmsprop_named_adam 0 '^rms0 rms1 rms2 rms3 momentum0 momentum1 momentum2 momentum3$' -- \
  k2opt k2_rms_adam --opt RMSprop --rms_momentum 0.5 --name adam --pos none
check k2_adam_named_nadam 0 '^m0 v0 m1 v1 m2 v2 m3 v3$' -- k2opt k2_adam_nadam --opt Adam --name nadam --pos none
# a Nadam at 2^40 steps: its u_product reaches float32's fixed point at once, not after 2^40 products
check k2_nadam_huge_iterations 0 '^m0 v0 m1 v1 m2 v2 m3 v3 u$' -- k2opt k2_nadam_huge --opt Nadam --pos none --iters 1099511627776
check k2_nadam_note 0 "note: Nadam's u_product is computed from the iteration count and beta_1" -- \
  "$bin/kcb-restore" "$dir/k2_nadam.h5" -o "$tmp/k2n2.weights.h5"
# tf.keras 2.15's LSTM and GRU (rnn.k2.h5, make_k2_zoo.py) say time_major, which Keras 3's refuse:
# the .keras written drops it
check k2_rnn_no_time_major 0 "^LSTM GRU$" -- sh -c "'$bin/kcb-restore' '$dir/rnn.k2.h5' -o '$tmp/rnn_k2.keras' >/dev/null 2>&1 && $py -c \"
import json, sys, zipfile
layers = json.loads(zipfile.ZipFile(sys.argv[1]).read('config.json'))['config']['layers']
print(' '.join(l['class_name'] for l in layers if l['class_name'] in ('LSTM', 'GRU') and 'time_major' not in l['config']))\" '$tmp/rnn_k2.keras'"
# ... and the same file saved under mixed precision (make_k2_lso.py): tf.keras 2's
# LossScaleOptimizer keeps its inner optimizer's weights alone, and the learning rate is the inner one's
check k2_lso_to_store 0 '^11 variables, lr 0\.001, u_product right$' -- sh -c "'$bin/kcb-restore' '$dir/k2_lso.h5' -o '$tmp/k2l.weights.h5' \
  >/dev/null && $py -c \"$u_product_check\" '$tmp/k2l.weights.h5'"
check k2_lso_note 0 "note: the loss scale of tf.keras 2's LossScaleOptimizer is not among its weights" -- \
  "$bin/kcb-restore" "$dir/k2_lso.h5" -o "$tmp/k2l.keras"

# Standalone Keras 2.2.4 / 2.3.1 full models (make_k2_standalone.py): layers numbered from 1 (dense_1,
# dense_2) rebuild under their own names; SGD's momentums, after "SGD/iterations:0", load by position;
# the optimizer is named by its class, not by the "training/" scope Keras 2 made its slots in; the .keras
# written from one has the InputLayer Keras 3 needs (its legacy loader would make the input 5-D)
k2sa() { $py "$dir/make_k2_standalone.py" "$tmp/$1.h5" "${@:2}"; }
k2sa k2sa_mlp_sgd --version 2.2.4 --model mlp --opt SGD && k2sa k2sa_cnn_sgd --version 2.3.1 --model cnn --opt SGD \
  && k2sa k2sa_cnn_adam --version 2.3.1 --model cnn --opt Adam || { echo "FAIL make_k2_standalone.py"; exit 1; }
same_state="
import h5py, numpy as np, sys
k2 = h5py.File(sys.argv[1], 'r')['optimizer_weights']
names = [n.decode() if isinstance(n, bytes) else n for n in k2.attrs['weight_names']]
out = h5py.File(sys.argv[2], 'r')['optimizer/vars']
same = len(out) == len(names) + 1 and int(out['0'][()]) == int(k2[names[0]][()])
same = same and all(np.array_equal(out[str(i + 2)][()], k2[n][()]) for i, n in enumerate(names[1:]))
print('state equal' if same else 'state differs')"
for m in mlp cnn; do
  check k2sa_${m}_sgd_rebuilt 0 '^state equal$' -- sh -c "'$resave' --resave '$tmp/k2sa_${m}_sgd.h5' '$tmp/k2sa_${m}_sgd.weights.h5' \
    && $py -c \"$same_state\" '$tmp/k2sa_${m}_sgd.h5' '$tmp/k2sa_${m}_sgd.weights.h5'"
done
# their Adam: all m, all v, then a vhat of shape (1,) per variable (0 without amsgrad), which Keras 3's
# Adam has not: the state goes on as m and v interleaved per variable, the vhats left out
k2sa k2sa_mlp_adam --version 2.2.4 --model mlp --opt Adam || { echo "FAIL make_k2_standalone.py adam"; exit 1; }
for f in k2sa_mlp_adam k2sa_cnn_adam; do
  check ${f}_state_rebuilt 0 '^adam state equal$' -- sh -c "'$resave' --resave '$tmp/$f.h5' '$tmp/$f.weights.h5' && $py -c \"
import h5py, numpy as np, sys
k2 = h5py.File(sys.argv[1], 'r')['optimizer_weights']
names = [n.decode() if isinstance(n, bytes) else n for n in k2.attrs['weight_names']]
t = (len(names) - 1) // 3
out = h5py.File(sys.argv[2], 'r')['optimizer/vars']
same = len(out) == 2 + 2 * t and int(out['0'][()]) == int(k2[names[0]][()])
for i in range(t):
    same = same and np.array_equal(out[str(2 + 2 * i)][()], k2[names[1 + i]][()])
    same = same and np.array_equal(out[str(3 + 2 * i)][()], k2[names[1 + t + i]][()])
print('adam state equal' if same else 'adam state differs')\" '$tmp/$f.h5' '$tmp/$f.weights.h5'"
done
check k2sa_optimizer_named 0 '^  optimizer state: 19 variables \(Adam\), 37 iterations$' -- "$bin/kcb-inspect" checkpoint "$tmp/k2sa_cnn_adam.h5"
check k2sa_keras_input_layer 0 '^InputLayer \[None, 28, 28, 1\] Conv2D without input_shape$' -- sh -c "'$bin/kcb-restore' \
  '$tmp/k2sa_cnn_adam.h5' -o '$tmp/k2sa_cnn_adam.keras' >/dev/null 2>&1 && $py -c \"
import json, sys, zipfile
layers = json.loads(zipfile.ZipFile(sys.argv[1]).read('config.json'))['config']['layers']
print(layers[0]['class_name'], layers[0]['config']['batch_shape'], layers[1]['class_name'],
      'with' if 'input_shape' in layers[1]['config'] else 'without', 'input_shape')\" '$tmp/k2sa_cnn_adam.keras'"
assert k2sa_keras_rebuilt "$resave" --resave "$tmp/k2sa_cnn_adam.keras" "$tmp/k2sa_cnn_adam_again.keras"

# tf.keras 2.13-2.15 .keras (make_tf213_keras.py lays the zoo's CNN out as they did: the second Conv2D
# is conv2d_2, the optimizer has no learning rate, metric totals sit beside the layers): listed as the
# model it is; loaded with its optimizer state; converted to files Keras 3 reads (its names, a
# learning rate second), every variable identical to the zoo's
zoo=$2/zoo
$py "$dir/make_tf213_keras.py" "$zoo/cnn.keras" "$tmp/tf213.keras" || { echo "FAIL make_tf213_keras.py"; exit 1; }
check tf213_listed 0 '^  4 layers with weights, 10 weights, 7050 parameters \(7034 trainable, 16 non-trainable\)$' -- \
  "$bin/kcb-inspect" checkpoint "$tmp/tf213.keras"
check tf213_diff_zoo 0 'every variable identical' -- "$bin/kcb-inspect" diff "$tmp/tf213.keras" "$zoo/cnn.keras"
check tf213_optimizer_loaded 0 'optimizer state: 18 variables \(adam\), 1 iteration' -- sh -c "'$resave' --resave \
  '$tmp/tf213.keras' '$tmp/tf213_again.weights.h5' && '$bin/kcb-inspect' checkpoint '$tmp/tf213_again.weights.h5'"
for target in keras weights.h5 h5; do
  check "tf213_to_$target" 0 'every variable identical' -- sh -c "'$bin/kcb-restore' '$tmp/tf213.keras' -o '$tmp/tf213_to.$target' \
    >/dev/null 2>&1 && '$bin/kcb-inspect' diff '$tmp/tf213_to.$target' '$zoo/cnn.$target'"
done
# ... a layer whose weights are a nested model's (or an RNN cell's) took two numbers too
$py "$dir/make_tf213_keras.py" "$dir/dup_names.keras" "$tmp/tf213_nested.keras" || { echo "FAIL make_tf213_keras.py nested"; exit 1; }
check tf213_nested_diff 0 'every variable identical' -- "$bin/kcb-inspect" diff "$tmp/tf213_nested.keras" "$dir/dup_names.keras"
check tf213_nested_to_keras 0 'every variable identical' -- sh -c "'$bin/kcb-restore' '$tmp/tf213_nested.keras' \
  -o '$tmp/tf213_nested_to.keras' >/dev/null 2>&1 && '$bin/kcb-inspect' diff '$tmp/tf213_nested_to.keras' '$dir/dup_names.keras'"
check tf213_to_h5_learning_rate 0 "^adam/iteration adam/learning_rate 0.001 17$" -- $py -c "
import h5py, sys
o = h5py.File(sys.argv[1], 'r')['optimizer_weights']
n = [x.decode() if isinstance(x, bytes) else x for x in o.attrs['weight_names']]
print(n[0], n[1], round(float(o[n[1]][()]), 6), len(n) - 1)" "$tmp/tf213_to.h5"
check tf213_to_keras_layers 0 "^conv2d conv2d_1 no tf.keras names; 18$" -- $py -c "
import h5py, io, sys, zipfile
f = h5py.File(io.BytesIO(zipfile.ZipFile(sys.argv[1]).read('model.weights.h5')), 'r')
print(' '.join(k for k in f['layers'] if k.startswith('conv2d')), 'no tf.keras names;' if '_layer_checkpoint_dependencies' not in f
      else 'tf.keras names;', len(f['optimizer/vars']))" "$tmp/tf213_to.keras"

# 2.14 numbered each layer once; 2.15 stored the layers under `layers` as Keras 3 does, its metrics'
# totals beside them (no layers of the model); save_weights' file is the store alone, without the
# version, where the metrics or the container tell tf.keras's layout (no learning rate stored)
cnn_spec=28x28x1,conv:8:3:relu,bn,maxpool:2,conv:16:3:same:relu,avgpool:2,flatten,dropout:0.25,10:softmax
for version in 2.14.0 2.15.0; do
  v=${version%.0}
  $py "$dir/make_tf213_keras.py" "$zoo/cnn.keras" "$tmp/tf$v.keras" --version $version --lr 0.01 &&
    $py "$dir/make_tf213_keras.py" "$zoo/cnn.keras" "$tmp/tf$v.weights.h5" --version $version --weights-only ||
    { echo "FAIL make_tf213_keras.py $version"; exit 1; }
  for f in "tf$v.keras" "tf$v.weights.h5"; do
    check "tf${v}_listed_$f" 0 '^  4 layers with weights, 10 weights, 7050 parameters \(7034 trainable, 16 non-trainable\)$' -- \
      "$bin/kcb-inspect" checkpoint "$tmp/$f"
    targets="keras weights.h5 h5"
    [ "$f" = "tf$v.weights.h5" ] && targets=weights.h5 # weights alone: no model config for the others
    for target in $targets; do
      check "tf${v}_${f#*.}_to_$target" 0 'every variable identical' -- sh -c "'$bin/kcb-restore' '$tmp/$f' -o '$tmp/tf${v}_to.$target' \
        >/dev/null 2>&1 && '$bin/kcb-inspect' diff '$tmp/tf${v}_to.$target' '$zoo/cnn.$target'"
    done
  done
  # kcb-train goes on from the state the file holds: its iteration, at the compile config's rate
  # (tf.keras's load_model compiles with it), or Keras's default where only weights were saved
  if [ -d /usr/share/datasets/fashion-mnist ]; then
    check "tf${v}_keras_train_rate" 0 "learning rate 0\.01 stored in .*tf$v\.keras" -- "$bin/kcb-train" --train-limit 100 \
      --verbose 1 --epochs 0 --model "$cnn_spec" --initial-weights "$tmp/tf$v.keras"
    check "tf${v}_weights_state" 0 'optimizer state: 18 variables \(adam\), 1 iteration' -- sh -c "'$bin/kcb-train' --train-limit 100 \
      --verbose 0 --epochs 0 --model '$cnn_spec' --initial-weights '$tmp/tf$v.weights.h5' --save '$tmp/tf${v}_trained.weights.h5' \
      >/dev/null && '$bin/kcb-inspect' checkpoint '$tmp/tf${v}_trained.weights.h5'"
  fi
done
# an archive laid out again is written without the source's assets, and says so
$py -c "
import shutil, sys, zipfile
shutil.copy(sys.argv[1], sys.argv[2])
with zipfile.ZipFile(sys.argv[2], 'a') as z: z.writestr('assets/layers/string_lookup/vocabulary.txt', 'a\\nb\\n')" \
  "$tmp/tf2.15.keras" "$tmp/tf2_assets.keras"
check tf2_assets_note 0 "tf2_assets\.keras's 1 file under assets/ .* is not written: only the archive itself keeps them" -- \
  "$bin/kcb-restore" "$tmp/tf2_assets.keras" -o "$tmp/tf2_assets_to.keras"
# mixed precision: the LossScaleOptimizer's variables are its inner optimizer's, stored again under
# the inner one's attribute (2.13's `_optimizer`, 2.15's `inner_optimizer`): one state of 17
for version in 2.13.1 2.15.0; do
  $py "$dir/make_tf213_keras.py" "$zoo/cnn.keras" "$tmp/lso.keras" --version $version --lso || { echo "FAIL lso"; exit 1; }
  check "tf2_lso_${version}_listed" 0 'optimizer state: 17 variables' -- "$bin/kcb-inspect" checkpoint "$tmp/lso.keras"
  check "tf2_lso_${version}_to_weights" 0 'every variable identical' -- sh -c "'$bin/kcb-restore' '$tmp/lso.keras' \
    -o '$tmp/lso_to.weights.h5' >/dev/null 2>&1 && '$bin/kcb-inspect' diff '$tmp/lso_to.weights.h5' '$zoo/cnn.weights.h5'"
done
# ... and compiled with LossScaleOptimizer(Adam()) itself: its config names LossScaleOptimizerV3
$py "$dir/make_tf213_keras.py" "$zoo/cnn.keras" "$tmp/lso3.keras" --version 2.13.1 --lso --lso-explicit || { echo "FAIL lso3"; exit 1; }
# ... whose converted config names Keras 3's classes only: the inner Adam, without tf.keras's settings
check tf2_lso_explicit_keras_config 0 "^Adam False False$" -- sh -c "'$bin/kcb-restore' '$tmp/lso3.keras' -o '$tmp/lso3_cfg.keras' \
  >/dev/null 2>&1 && $py -c \"
import json, sys, zipfile
o = json.loads(zipfile.ZipFile(sys.argv[1]).read('config.json'))['compile_config']['optimizer']
print(o['class_name'], 'jit_compile' in o['config'], 'is_legacy_optimizer' in o['config'])\" '$tmp/lso3_cfg.keras'"
for target in keras h5; do
  check "tf2_lso_explicit_to_$target" 0 'optimizer state: 18 variables' -- sh -c "'$bin/kcb-restore' '$tmp/lso3.keras' \
    -o '$tmp/lso3_to.$target' >/dev/null 2>&1 && '$bin/kcb-inspect' checkpoint '$tmp/lso3_to.$target'"
done

# tf.keras 2.11+ SGD at momentum 0 kept a momentum buffer per variable, which never changes a step:
# loaded (its iteration count kept) and converted (Keras 3's SGD then takes the state) without them
$py "$dir/make_tf2_new_optimizers.py" "$tmp/tf215_sgd0.h5" 2.15.0 SGD momentum=0 || { echo "FAIL make_tf2_new_optimizers.py"; exit 1; }
check tf2_sgd0_loaded 0 'optimizer state: 2 variables \(sgd\), 37 iterations' -- sh -c "'$resave' --resave '$tmp/tf215_sgd0.h5' \
  '$tmp/tf215_sgd0_again.weights.h5' && '$bin/kcb-inspect' checkpoint '$tmp/tf215_sgd0_again.weights.h5'"
check tf2_sgd0_converted 0 '^2 37$' -- sh -c "'$bin/kcb-restore' '$tmp/tf215_sgd0.h5' -o '$tmp/tf215_sgd0.weights.h5' >/dev/null 2>&1 \
  && $py -c \"import h5py, sys; g = h5py.File(sys.argv[1], 'r')['optimizer/vars']; print(len(g), int(g['0'][()]))\" '$tmp/tf215_sgd0.weights.h5'"

# tf.keras 2's save_weights of a subclassed model with a variable of its own: the model's row is
# named by that variable's first segment
check k2_subclassed_own_variable 0 '^  my_model +\? +1 +1 +0$' -- sh -c "$py -c \"
import h5py, numpy as np, sys
f = h5py.File(sys.argv[1], 'w')
f.attrs['layer_names'] = [b'dense']
f.attrs['keras_version'] = b'2.15.0'
f.attrs['backend'] = b'tensorflow'
g = f.create_group('dense')
g.attrs['weight_names'] = [b'dense/kernel:0']
g.create_dataset('dense/kernel:0', data=np.ones((3, 2), 'float32'))
t = f.create_group('top_level_model_weights')
t.attrs['weight_names'] = [b'my_model/temperature:0']
t.create_dataset('my_model/temperature:0', data=np.float32(2))
\" '$tmp/subclassed_own.h5' && '$bin/kcb-inspect' checkpoint '$tmp/subclassed_own.h5'"

# make_more.py's files. A ':' inside a Keras 3 layer name stays in its slot names (only tf.keras's
# trailing ':0' is an index), and .keras -> .h5 writes the slot names Keras's own .h5 holds
check colon_slot_names 0 '^  adadelta/dense\.v2:x_kernel_accumulated_grad ' -- "$bin/kcb-inspect" checkpoint "$dir/names_adadelta.keras"
check colon_to_h5 0 '^same optimizer_weights$' -- sh -c "'$bin/kcb-restore' '$dir/names_adadelta.keras' -o '$tmp/colon.h5' \
  >/dev/null 2>&1 && $py -c \"
import h5py
names = lambda p: [n.decode() if isinstance(n, bytes) else n for n in h5py.File(p, 'r')['optimizer_weights'].attrs['weight_names']]
print('same optimizer_weights' if names('$tmp/colon.h5') == names('$dir/names_adadelta.h5') else (names('$tmp/colon.h5'), names('$dir/names_adadelta.h5')))\""
# A weights-only store does not say which layers were frozen; its optimizer's slots do, and a
# frozen layer inside a nested model lists its weights after the trainable ones in the legacy layout
legacy_names="import h5py, sys
f = [h5py.File(p, 'r') for p in sys.argv[1:]]
names = lambda g: [n.decode() if isinstance(n, bytes) else n for n in g.attrs['weight_names']]
print('same weight_names' if all(names(f[0][k]) == names(f[1][k]) for k in f[1].keys()) else [names(x['inner']) for x in f])"
check frozen_nested_order 0 '^same weight_names$' -- sh -c "'$bin/kcb-restore' '$dir/frozen_adam.weights.h5' -o '$tmp/fa.h5' \
  --format legacy_weights.h5 >/dev/null 2>&1 && $py -c \"$legacy_names\" '$tmp/fa.h5' '$dir/frozen_adam.legacy_weights.h5'"
check frozen_count 0 '95 parameters \(55 trainable, 40 non-trainable\)' -- "$bin/kcb-inspect" checkpoint "$dir/frozen_adam.weights.h5"
# ... and where the slots cannot tell (two layers of the same shapes, one frozen), kcb says so
check frozen_unknown_noted 0 "nested layer 'base' are listed as if all its layers were trainable" -- \
  "$bin/kcb-restore" "$dir/frozen_finetune.weights.h5" -o "$tmp/ff.h5" --format legacy_weights.h5

# slots that differ from variable to variable, made variable by variable: Muon's momentum for each
# and a velocity for those it updates as Adam does (not a rank-2 kernel); Adafactor's factors r, c
# (two scalars for a vector) and a velocity, which alone Keras ties to the variable
check muon_slot_owners 0 '^muon/sequential_dense_kernel_momentum muon/sequential_dense_bias_momentum muon/sequential_dense_bias_velocity muon/sequential_dense_1_kernel_momentum ' -- \
  sh -c "'$bin/kcb-inspect' checkpoint '$dir/mlp_muon.weights.h5' | awk '\$1 ~ /^muon\/sequential/ {printf \"%s \", \$1} END {print \"\"}'"
check adafactor_velocity_owners 0 '^adafactor/sequential_dense_kernel_velocity adafactor/sequential_dense_bias_velocity $' -- \
  sh -c "'$bin/kcb-inspect' checkpoint '$dir/adafactor.weights.h5' | awk '\$1 ~ /velocity/ {printf \"%s \", \$1} END {print \"\"}'"
# a Keras 3 .h5 keeps optimizer.variables as they are: Muon's (slots named after their variables,
# Adam's for some, its own for others) go to the store by position, equal to Keras's own store
check muon_h5_to_store 0 '^same optimizer state: 8 variables$' -- sh -c "'$bin/kcb-restore' '$dir/mlp_muon.h5' -o '$tmp/muon.weights.h5' \
  >/dev/null 2>&1 && $py -c \"
import h5py, numpy as np
a = h5py.File('$tmp/muon.weights.h5', 'r')['optimizer/vars']
b = h5py.File('$dir/mlp_muon.weights.h5', 'r')['optimizer/vars']
same = len(a) == len(b) and all(np.array_equal(a[k][()], b[k][()]) for k in b)
print('same optimizer state: %d variables' % len(b) if same else ('differ', len(a), len(b)))\""

# layers whose variables follow settings: BatchNormalization's renorm statistics, LayerNormalization's
# rms_scaling (gamma alone) are named as Keras names them and convert to every layout
check renorm_names 0 '^  sequential/batch_normalization/renorm_stddev +float32' -- "$bin/kcb-inspect" checkpoint "$dir/bn_renorm.keras"
check rms_names 0 '^  sequential/layer_normalization/gamma +float32' -- "$bin/kcb-inspect" checkpoint "$dir/ln_rms.keras"
for m in bn_renorm ln_rms; do
  for ext in weights.h5 h5; do # not $out: lib.sh's check writes each command's output there
    check "${m}_to_$ext" 0 "\(verified\)" -- "$bin/kcb-restore" "$dir/$m.keras" -o "$tmp/$m.$ext"
  done
done

# make_lists.py: a Dense quantized to int8 (Keras 3.15's model.quantize) lists kernel, bias,
# kernel_scale in its store, trainable bias only; a LoRA Dense stores its merged kernel, frozen.
# Keras lists both otherwise in the legacy layouts, so they are copied within a family only.
check q8_names 0 '^  sequential/dense/kernel_scale +float32 +\(3,\) +3 +no ' -- "$bin/kcb-inspect" checkpoint "$dir/q8.keras"
check q8_trainable 0 '26 parameters \(11 trainable, 15 non-trainable\)' -- "$bin/kcb-inspect" checkpoint "$dir/q8.keras"
check q8_slot_owner 0 '^  adam/sequential_dense_bias_velocity ' -- "$bin/kcb-inspect" checkpoint "$dir/q8.keras"
check q8_to_h5 1 "layer 'dense' of .*q8\.keras is quantized \(mode 'int8'\).*nothing was written" -- \
  "$bin/kcb-restore" "$dir/q8.keras" -o "$tmp/q8.h5"
check q8_weights_to_legacy 1 "is a Dense of 3 variables with an integer one" -- \
  "$bin/kcb-restore" "$dir/q8.weights.h5" -o "$tmp/q8lw.h5" --format legacy_weights.h5
check q8_to_weights_h5 0 "\(verified\)" -- "$bin/kcb-restore" "$dir/q8.keras" -o "$tmp/q8.weights.h5"
check lora_frozen_kernel 0 '^  sequential/dense/kernel +float32 +\(4, 3\) +12 +no ' -- "$bin/kcb-inspect" checkpoint "$dir/lora.keras"
check lora_to_h5 1 "is LoRA-enabled \(lora_rank 2\)" -- "$bin/kcb-restore" "$dir/lora.keras" -o "$tmp/lora.h5"
check q8_lora_nothing_written 0 "^none$" -- sh -c "! ls \"$tmp/q8.h5\" \"$tmp/q8lw.h5\" \"$tmp/lora.h5\" 2>/dev/null | grep . && echo none"

# a Sequential compiled and saved before it saw data holds no weights, and Keras builds none from its
# config: its legacy file lists the layers with no weight names, as Keras's own
check unbuilt_to_h5 0 '^same layers$' -- sh -c "'$bin/kcb-restore' '$dir/unbuilt.keras' -o '$tmp/unbuilt.h5' >/dev/null 2>&1 && $py -c \"
import h5py
names = lambda p: [(n, list(h5py.File(p, 'r')['model_weights'][n].attrs['weight_names'])) for n in h5py.File(p, 'r')['model_weights'].attrs['layer_names']]
print('same layers' if names('$tmp/unbuilt.h5') == names('$dir/unbuilt.h5') else (names('$tmp/unbuilt.h5'), names('$dir/unbuilt.h5')))\""

# Adam with gradient_accumulation_steps 2 counts a step every 2 batches: Keras's
# optimizer.iterations is the stored counter (3) halved
mkdir -p "$tmp/gacc" && $py "$dir/make_more.py" "$tmp/gacc" mlp_gacc >/dev/null
check gacc_iterations 0 "optimizer state: .*\(adam\), 1 iteration$" -- "$bin/kcb-inspect" checkpoint "$tmp/gacc/mlp_gacc.keras"

# an optimizer the user named ("my_opt"): its slots are its class's (RMSprop, from the compile
# config), named after the object as Keras names them
$py -c "
import h5py, io, json, zipfile
z = zipfile.ZipFile('$dir/dense_rmsprop.keras')
cfg = json.loads(z.read('config.json')); cfg['compile_config']['optimizer']['config']['name'] = 'my_opt'
buf = io.BytesIO(z.read('model.weights.h5'))
with h5py.File(buf, 'r+') as f: f['optimizer/vars'].attrs['name'] = 'my_opt'
with zipfile.ZipFile('$tmp/my_opt.keras', 'w') as o:
    for i in z.infolist():
        o.writestr(i, json.dumps(cfg) if i.filename == 'config.json' else buf.getvalue() if i.filename == 'model.weights.h5' else z.read(i))"
check named_optimizer_slots 0 "^  my_opt/sequential_dense_kernel_velocity " -- "$bin/kcb-inspect" checkpoint "$tmp/my_opt.keras"

# make_lists.py: a custom layer holding a list of 12 Dense layers. Keras names the items in list
# order (dense ... dense_11) and its legacy layout lists their weights so: the .h5 kcb writes loads
# them into the same layers (numbered as the list, not as strings sort "dense_10" before "dense_2")
check list_items_to_h5 0 '^same weight_names$' -- sh -c "'$bin/kcb-restore' '$dir/stack_same.keras' -o '$tmp/stack.h5' \
  >/dev/null 2>&1 && $py -c \"
import h5py
names = lambda p: [n.decode() if isinstance(n, bytes) else n for n in h5py.File(p, 'r')['model_weights/stack'].attrs['weight_names']]
print('same weight_names' if names('$tmp/stack.h5') == names('$dir/stack_same.h5') else (names('$tmp/stack.h5'), names('$dir/stack_same.h5')))\""
check list_items_diff 0 'every variable identical' -- "$bin/kcb-inspect" diff "$dir/stack_same.keras" "$dir/stack_same.h5"

for model in seqmix attn convs video nested mixed block encoder custom_state; do
  for f in $model.weights.h5 $model.keras $model.h5; do
    check "inspect_$f" 0 "^ok $f\$" -- sh -c "'$bin/kcb-inspect' checkpoint '$dir/$f' --json | $py '$here/synth_inspect_check.py' '$dir/expected.json' $f"
    check "inspect_text_$f" 0 "parameters \(" -- "$bin/kcb-inspect" checkpoint "$dir/$f"
  done
  for f in $model.keras $model.h5; do
    check "diff_$f" 0 'every variable identical' -- "$bin/kcb-inspect" diff "$dir/$model.weights.h5" "$dir/$f"
  done
  mkdir -p "$tmp/$model"
  cp "$dir/$model.keras" "$tmp/$model/$model-val_loss=0.30.keras"
  cp "$dir/$model.h5" "$tmp/$model/$model-val_loss=0.40.h5"
  cp "$dir/$model.weights.h5" "$tmp/$model/$model-val_loss=0.50.weights.h5"
  check "rank_$model" 0 "^1 +$tmp/$model/$model-val_loss=0\.30\.keras " -- "$bin/kcb-restore" "$tmp/$model"
  # the best (.keras) into every layout, then the legacy .h5 into the Keras 3 ones
  # (a custom class's variable names are not in a store: kcb names them by position)
  rename=""
  [ $model = nested ] && rename="--rename counter/0=counter/scale --rename counter/1=counter/hits --rename counter_0_=counter_scale_"
  [ $model = custom_state ] && rename="--rename gate/0=gate/w --rename gate/1=gate/s --rename gate_0_=gate_w_"
  [ $model = block ] && rename="--rename res_block/0=res_block/gate --rename expand/0=expand/kernel --rename expand/1=expand/bias --rename squeeze/0=squeeze/kernel --rename squeeze/1=squeeze/bias --rename block_0_=block_gate_ --rename expand_0_=expand_kernel_ --rename expand_1_=expand_bias_ --rename squeeze_0_=squeeze_kernel_ --rename squeeze_1_=squeeze_bias_"
  for target in keras h5 weights.h5; do
    check "restore_${model}_$target" 0 "^ok " -- sh -c "'$bin/kcb-restore' '$tmp/$model' --output '$tmp/best-$model.$target' >/dev/null && $py '$here/zoo_convert_check.py' '$tmp/best-$model.$target' '$dir/$model.$target' $rename"
  done
  # Keras 2's save_weights layout: the full .h5's model_weights group at the root
  check "restore_${model}_legacy_weights" 0 "^ok " -- sh -c "'$bin/kcb-restore' '$tmp/$model' --output '$tmp/lw-$model.h5' --format legacy_weights.h5 >/dev/null && $py '$here/zoo_convert_check.py' '$tmp/lw-$model.h5' '$dir/$model.h5' --reference-group model_weights $rename"
  # a weights-only store keeps model.layers' order in its groups' local heaps: into Keras 2's layout too
  check "weights_only_${model}_legacy_weights" 0 "^ok " -- sh -c "'$bin/kcb-restore' '$tmp/$model/$model-val_loss=0.50.weights.h5' --output '$tmp/wlw-$model.h5' --format legacy_weights.h5 >/dev/null && $py '$here/zoo_convert_check.py' '$tmp/wlw-$model.h5' '$dir/$model.h5' --reference-group model_weights $rename"
  targets="keras weights.h5"
  [ $model = block ] && targets="" # below: its legacy file cannot become a store
  for target in $targets; do
    check "convert_h5_${model}_$target" 0 "^ok " -- sh -c "'$bin/kcb-restore' '$tmp/$model/$model-val_loss=0.40.h5' --output '$tmp/h5-$model.$target' >/dev/null && $py '$here/zoo_convert_check.py' '$tmp/h5-$model.$target' '$dir/$model.$target'"
  done
  # same-layout restores keep the file
  for f in $model-val_loss=0.50.weights.h5 $model-val_loss=0.40.h5; do
    check "same_layout_$f" 0 "^same" -- sh -c "'$bin/kcb-restore' '$tmp/$model/$f' --output '$tmp/same-$f' >/dev/null && cmp '$tmp/$model/$f' '$tmp/same-$f' && echo same"
  done
done
check note_positional_names 0 "note: weight names of layer 'counter' \(MyCounter\) are positional \('counter/0'\)" -- \
  "$bin/kcb-restore" "$tmp/nested" --output "$tmp/note.h5"
# variables that are not numbers (opaque, strings: a layer kcb does not know may store anything)
# are listed without statistics and not compared, rather than failing the whole file
$py -c "
import h5py, numpy as np
f = h5py.File('$tmp/odd.weights.h5', 'w')
f.create_group('vars').attrs['name'] = 'sequential'
f['layers/dense/vars/0'] = np.zeros((3, 2), np.uint16).view('V2')
f['layers/dense/vars/1'] = np.ones((2,), np.float32)
f['layers/string_lookup/vars/0'] = np.array([b'a', b'bc'])
"
check odd_dtypes_inspect 0 "sequential/string_lookup/0 +unknown +\(2,\) +2 +yes +- " -- "$bin/kcb-inspect" checkpoint "$tmp/odd.weights.h5"
check odd_dtypes_diff 0 "every variable identical \(2 not numeric, not compared\)" -- "$bin/kcb-inspect" diff "$tmp/odd.weights.h5" "$tmp/odd.weights.h5"
# bfloat16 variables: Keras stores them as 2-byte opaque datasets marked dtype="bfloat16" (h5py has
# no bfloat16 type); kcb reads them, converts them and marks them the same way
mkdir -p "$tmp/bf"
$py -c "
import h5py, io, json, numpy as np, zipfile
x = np.array([[1.5, -2.25], [0.125, 3.0], [1e-3, -7.5]], np.float32)
bits = (x.view(np.uint32) >> 16).astype(np.uint16)
buf = io.BytesIO()
with h5py.File(buf, 'w') as f:
    f.create_group('vars').attrs['name'] = 'sequential'
    d = f.create_dataset('layers/dense/vars/0', data=bits.view('V2'))
    d.attrs['dtype'] = 'bfloat16'
    f['layers/dense/vars'].attrs['name'] = 'dense'
    f['layers/dense/vars/1'] = np.ones((2,), np.float32)
pol = {'module': 'keras', 'class_name': 'DTypePolicy', 'config': {'name': 'bfloat16'}, 'registered_name': None}
cfg = {'module': 'keras', 'class_name': 'Sequential', 'registered_name': None, 'config': {'name': 'sequential', 'layers': [
    {'module': 'keras.layers', 'class_name': 'InputLayer', 'config': {'batch_shape': [None, 3], 'name': 'input_layer'}, 'registered_name': None},
    {'module': 'keras.layers', 'class_name': 'Dense', 'config': {'name': 'dense', 'units': 2, 'dtype': pol}, 'registered_name': None}]}}
with zipfile.ZipFile('$tmp/bf/bf-val_loss=0.1.keras', 'w') as z:
    z.writestr('metadata.json', json.dumps({'keras_version': '3.15.1'}))
    z.writestr('config.json', json.dumps(cfg))
    z.writestr('model.weights.h5', buf.getvalue())
"
check bf16_inspect 0 "sequential/dense/kernel +bfloat16 +\(3, 2\) +6 +yes +-5\.124 " -- "$bin/kcb-inspect" checkpoint "$tmp/bf/bf-val_loss=0.1.keras"
check bf16_to_h5 0 'every variable identical' -- sh -c "'$bin/kcb-restore' '$tmp/bf' --output '$tmp/bf.h5' >/dev/null && '$bin/kcb-inspect' diff '$tmp/bf/bf-val_loss=0.1.keras' '$tmp/bf.h5'"
mkdir -p "$tmp/bf2" && cp "$tmp/bf.h5" "$tmp/bf2/bf-val_loss=0.1.h5"
check bf16_h5_to_store 0 "^ok bfloat16" -- sh -c "'$bin/kcb-restore' '$tmp/bf2' --output '$tmp/bf2.weights.h5' >/dev/null && $py -c \"
import h5py, io, zipfile
a = h5py.File(io.BytesIO(zipfile.ZipFile('$tmp/bf/bf-val_loss=0.1.keras').read('model.weights.h5')))['layers/dense/vars/0']
b = h5py.File('$tmp/bf2.weights.h5')['layers/dense/vars/0']
assert b.attrs['dtype'] == 'bfloat16' and b.dtype.itemsize == 2 and a[()].tobytes() == b[()].tobytes(), (b.attrs['dtype'], b.dtype)
print('ok bfloat16')
\""
# a custom layer's sub-layers are stored under attribute names a legacy file does not hold: the
# conversion is refused, naming the layer, before anything is written
for target in keras weights.h5; do
  check "refuse_block_$target" 1 "layer 'res_block' \(ResidualBlock\).*attribute name" -- "$bin/kcb-restore" "$tmp/block/block-val_loss=0.40.h5" --output "$tmp/refused.$target"
  assert "refuse_block_${target}_nothing_written" test ! -e "$tmp/refused.$target"
done
# a layer frozen after the optimizer was built (trainable = False set after fit, no new compile):
# the optimizer kept its slots, which still belong to the frozen layer's variables by position
$py -c "
import json, sys, zipfile
src = zipfile.ZipFile(sys.argv[1])
cfg = json.loads(src.read('config.json'))
cfg['config']['layers'][1]['config']['trainable'] = False
with zipfile.ZipFile(sys.argv[2], 'w') as out:
    for n in src.namelist(): out.writestr(n, json.dumps(cfg) if n == 'config.json' else src.read(n))" \
  "$dir/dense_sgd_k314.keras" "$tmp/frozen_after.keras"
check frozen_after_fit_slots_named 0 "^  SGD/sequential_dense_kernel_momentum +float32 +\(5, 4\)" -- "$bin/kcb-inspect" checkpoint "$tmp/frozen_after.keras"
check frozen_after_fit_to_h5 0 "SGD/sequential_dense_1_bias_momentum" -- sh -c "'$bin/kcb-restore' '$tmp/frozen_after.keras' \
  -o '$tmp/frozen_after.h5' >/dev/null 2>&1 && $py -c \"
import h5py, sys
print([n.decode() if isinstance(n, bytes) else n for n in h5py.File(sys.argv[1], 'r')['optimizer_weights'].attrs['weight_names']])\" \
  '$tmp/frozen_after.h5'"
# a model made with trainable=False freezes every layer (its layers' configs say nothing)
$py -c "
import json, sys, zipfile
src = zipfile.ZipFile(sys.argv[1])
cfg = json.loads(src.read('config.json'))
cfg['config']['trainable'] = False
with zipfile.ZipFile(sys.argv[2], 'w') as out:
    for n in src.namelist(): out.writestr(n, json.dumps(cfg) if n == 'config.json' else src.read(n))" \
  "$dir/dense_sgd_k314.keras" "$tmp/model_frozen.keras"
check model_level_frozen 0 "^  2 layers with weights, 4 weights, 34 parameters \(0 trainable, 34 non-trainable\)$" -- \
  "$bin/kcb-inspect" checkpoint "$tmp/model_frozen.keras"
# a registered class of the user's goes into a legacy config by its registered name, as Keras's legacy
# serialization names it (Keras's own class of that name would be built otherwise)
check block_to_h5_registered_name 0 "^res_block Custom>ResidualBlock$" -- sh -c "'$bin/kcb-restore' '$dir/block.keras' \
  --output '$tmp/block_reg.h5' >/dev/null 2>&1 && $py -c \"
import h5py, json
def walk(e):
    for l in e.get('config', {}).get('layers', []):
        if l['config'].get('name') == 'res_block': print('res_block', l['class_name'])
        walk(l)
walk(json.loads(h5py.File('$tmp/block_reg.h5', 'r').attrs['model_config']))\""
# tf.keras 2.10: Normalization's int64 count, Bidirectional, TimeDistributed, optimizer_v2 RMSprop
for f in k2mix.h5 k2mix.legacy_weights.h5; do
  check "inspect_$f" 0 "^ok $f\$" -- sh -c "'$bin/kcb-inspect' checkpoint '$dir/$f' --json | $py '$here/synth_inspect_check.py' '$dir/expected.json' $f"
done
# a trainable scalar (Attention's learned scale) has its momentum last among the optimizer's
# variables: its owner is found, so it stays trainable and the legacy layout lists it before the
# Normalization's state (attn_scale.keras, made by a hunter's generator after Keras's save code);
# Attention's variables are named as its settings make them (use_scale: scale)
check scalar_slot_owned 0 "^\['dense/kernel', 'dense/bias', 'attention/scale', 'normalization/mean'" -- sh -c "'$bin/kcb-restore' \
  '$dir/attn_scale.keras' -o '$tmp/attn_scale.h5' >/dev/null 2>&1 && $py -c \"
import h5py, sys; print([n if isinstance(n, str) else n.decode() for n in h5py.File(sys.argv[1])['model_weights/inner'].attrs['weight_names']])\" '$tmp/attn_scale.h5'"
# an optimizer saved before it was built holds its iteration and learning rate alone: no slot, and
# nothing called frozen
check unbuilt_optimizer_no_slots 0 "13 parameters \(9 trainable, 4 non-trainable\)" -- \
  "$bin/kcb-inspect" checkpoint "$dir/unbuilt_scalar.weights.h5"
# StringLookup(output_mode="tf_idf"): its idf_weights are not trainable, and no legacy layout keeps them
check tf_idf_not_trainable 0 "idf_weights +float32 +\(4,\) +4 +no " -- "$bin/kcb-inspect" checkpoint "$dir/tf_idf.keras"
check tf_idf_legacy_refused 1 "layer 'string_lookup' \(StringLookup\) holds idf_weights, which Keras's legacy layouts do not keep" -- \
  "$bin/kcb-restore" "$dir/tf_idf.keras" -o "$tmp/tf_idf.h5"
# its layer 'head/out' (tf.keras 2 took '/' in names) would not load in Keras 3: the layouts with a
# model config are refused, the weights alone convert
for target in keras h5; do
  check "k2mix_slash_name_refused_$target" 1 "layer 'head/out' of .* has a '/' in its name, which Keras 3 refuses" -- \
    "$bin/kcb-restore" "$dir/k2mix.h5" --output "$tmp/k2mix_out.$target"
done
check k2mix_slash_name_weights_convert 0 "^wrote " -- "$bin/kcb-restore" "$dir/k2mix.h5" --output "$tmp/k2mix_out.weights.h5"
# a subclassed model: its own variable in the root vars, layers under attribute names and in layers
check inspect_subcls.weights.h5 0 "^ok subcls.weights.h5\$" -- sh -c "'$bin/kcb-inspect' checkpoint '$dir/subcls.weights.h5' --json | $py '$here/synth_inspect_check.py' '$dir/expected.json' subcls.weights.h5"
# ... whose layers under attribute names ('encoder', 'head') Keras's legacy writer lists in the
# order the model set them, which the store does not keep: said when the legacy layout is written
check subcls_order_noted 0 "note: the layers of the subclassed model are listed in their attribute names' sorted order" -- \
  "$bin/kcb-restore" "$dir/subcls.weights.h5" --format legacy_weights.h5 --output "$tmp/subcls_legacy.h5"
check diff_k2mix 0 'every variable identical' -- "$bin/kcb-inspect" diff "$dir/k2mix.h5" "$dir/k2mix.legacy_weights.h5"
# the optimizer state is described on both sides, never passed over unsaid (the legacy weights file has none)
check diff_k2mix_optimizer 0 'optimizer state \(not compared\): A [A-Za-z]+, [0-9]+ variables, iterations [0-9]+; B none' -- \
  "$bin/kcb-inspect" diff "$dir/k2mix.h5" "$dir/k2mix.legacy_weights.h5"
mkdir -p "$tmp/k2" && cp "$dir/k2mix.h5" "$tmp/k2/k2mix-val_loss=0.2.h5"
check "k2mix_to_store_listing" 0 "^ok k2mix.h5>weights.h5" -- sh -c "'$bin/kcb-restore' '$tmp/k2' --output '$tmp/k2mix-store.weights.h5' >/dev/null && '$bin/kcb-inspect' checkpoint '$tmp/k2mix-store.weights.h5' --json | $py '$here/synth_inspect_check.py' '$dir/expected.json' 'k2mix.h5>weights.h5'"
# (a .keras of it is refused above: its layer 'head/out' would not load in Keras 3)
check "k2mix_to_weights.h5" 0 'every variable identical' -- sh -c "'$bin/kcb-restore' '$tmp/k2' --output '$tmp/k2mix.weights.h5' >/dev/null && '$bin/kcb-inspect' diff '$dir/k2mix.h5' '$tmp/k2mix.weights.h5'"
# make_subcls_list.py: a subclassed model's list of layers (self.blocks = [Dense, Dense]) is no
# layer: its items are the model's, in its scope, and the legacy layout lists all four layers, each
# under its own name, in the attributes' sorted order (blocks, encoder, head) with the note that the
# store does not record the order the model set them in (subcls_order_noted, above)
for f in subcls_list.keras subcls_list.weights.h5; do
  check "subcls_list_layers_$f" 0 "4 layers with weights, 8 weights, 80 parameters" -- "$bin/kcb-inspect" checkpoint "$dir/$f"
  check "subcls_list_scope_$f" 0 "^  my_model/dense_1/kernel " -- "$bin/kcb-inspect" checkpoint "$dir/$f"
done
check subcls_list_legacy_layers 0 "^\['dense_1', 'dense_2', 'dense_3', 'dense'\] \['my_model/dense_1/kernel', 'my_model/dense_1/bias'\]$" -- sh -c "'$bin/kcb-restore' \
  '$dir/subcls_list.keras' -o '$tmp/subcls_list.h5' >/dev/null 2>&1 && $py -c \"
import h5py, sys; g = h5py.File(sys.argv[1])['model_weights']; n = [x if isinstance(x, str) else x.decode() for x in g.attrs['layer_names']]
print(n, [x if isinstance(x, str) else x.decode() for x in g[n[0]].attrs['weight_names']])\" '$tmp/subcls_list.h5'"
# make_layer_variants.py, what kcb-inspect says of each file (NAME|FILE|what the output must hold):
# - after quantize("int8") an EinsumDense's and an Embedding's variables are named as
#   variable_serialization_spec orders them (the bias only with bias_axes), and only the bias trains;
#   a legacy .h5 of an int8 Dense (names given) freezes the kernel's scale too;
# - ReversibleEmbedding: tied, its embeddings alone; quantized and untied, four frozen variables;
# - LoRA freezes the kernel or embeddings and trains its factors, quantized or not, in either family
while IFS='|' read -r name file want; do
  check "$name" 0 "$want" -- "$bin/kcb-inspect" checkpoint "$dir/$file"
done <<'CASES'
quant_einsum_names|quant_einsum.keras|^  sequential/e8b/kernel_scale +float32 +\(1, 2\) +2 +no 
quant_einsum_split|quant_einsum.keras|26 parameters \(3 trainable, 23 non-trainable\)
quant_embed_names|quant_embed.keras|^  sequential/emb/embeddings_scale +float32 +\(10,\) +10 +no 
quant_dense_legacy_split|quant_dense.h5|40 parameters \(4 trainable, 36 non-trainable\)
rev_tied_named|rev_tied.keras|^  sequential/rev/embeddings +float32 +\(10, 4\) +40 +yes 
rev_q8_frozen|rev_q8.keras|100 parameters \(0 trainable, 100 non-trainable\)
rev_q8_named|rev_q8.keras|^  sequential/rev/reverse_embeddings_scale +float32 +\(10,\) +10 +no 
lora_emb_frozen|lora_emb.keras|40 parameters \(0 trainable, 40 non-trainable\)
lora_dense_legacy_split|lora_dense.h5|60 parameters \(28 trainable, 32 non-trainable\)
lora_int8_legacy_factors|lora_int8.h5|^  sequential/dense/lora_kernel_b +float32 +\(2, 4\) +8 +yes 
lora_int8_legacy_split|lora_int8.h5|64 parameters \(28 trainable, 36 non-trainable\)
CASES
# make_layer_variants.py: GroupedQueryAttention's projections (private attributes only), the cells
# of a StackedRNNCells (a list) and a Bidirectional's own backward layer (not named backward_*) are
# placed both ways: .keras -> .h5 names their weights, and the .h5 converts back to the same store
check gqa_named 0 "^  sequential/gqa/attention_output/kernel +float32 +\(4, 2, 6\)" -- "$bin/kcb-inspect" checkpoint "$dir/gqa.keras"
for m in gqa bidi_rev stacked; do
  check "${m}_round_trip" 0 "every variable identical" -- sh -c "'$bin/kcb-restore' '$dir/$m.keras' -o '$tmp/$m.h5' >/dev/null 2>&1 &&
    '$bin/kcb-restore' '$tmp/$m.h5' -o '$tmp/${m}_back.keras' >/dev/null 2>&1 && '$bin/kcb-inspect' diff '$dir/$m.keras' '$tmp/${m}_back.keras'"
  check "${m}_same_store" 0 "^same store$" -- $py -c "
import h5py, io, sys, zipfile
def paths(k):
    names = []
    h5py.File(io.BytesIO(zipfile.ZipFile(k).read('model.weights.h5'))).visit(names.append)
    return names
print('same store' if paths(sys.argv[1]) == paths(sys.argv[2]) else (paths(sys.argv[1]), paths(sys.argv[2])))" "$dir/$m.keras" "$tmp/${m}_back.keras"
done
check gqa_h5_weight_names 0 "^\['sequential/gqa/query/kernel', 'sequential/gqa/query/bias'" -- $py -c "
import h5py, sys; g = h5py.File(sys.argv[1])['model_weights/gqa']; print([x if isinstance(x, str) else x.decode() for x in g.attrs['weight_names']])" "$tmp/gqa.h5"
# make_dup_names.py: two nested models each with a layer "proj", so two kernels are "proj/kernel";
# diff pairs the k-th of a shared name with the k-th, and finds the one variable that changed
check dup_names_same 0 'dup_names.keras vs .*dup_names.h5: every variable identical' -- "$bin/kcb-inspect" diff "$dir/dup_names.keras" "$dir/dup_names.h5"
check dup_names_changed 0 '^  proj/kernel +\(4, 4\) +\(4, 4\) +1 ' -- sh -c "'$bin/kcb-inspect' diff '$dir/dup_names.h5' '$dir/dup_names_changed.h5' | grep -v ' 0 *0\$' | grep -c '^  proj/' | grep -qx 1 && '$bin/kcb-inspect' diff '$dir/dup_names.h5' '$dir/dup_names_changed.h5'"
check dup_names_slots_refused 1 "would both be stored as '/optimizer_weights/sgd/proj_kernel_momentum' in the legacy layout" -- \
  "$bin/kcb-restore" "$dir/dup_names_opt.keras" --output "$tmp/dup_opt.h5"
assert dup_names_slots_nothing_written test ! -e "$tmp/dup_opt.h5"
# make_shared_nested.py: a layer shared by a nested model and the outer one is stored once, under
# the nested model; the legacy layouts list it under both, which kcb refuses to write one short
for target in h5 legacy.h5; do
  check "shared_nested_legacy_refused_$target" 1 "layer 'dense' \(Dense\) is shared with the nested model 'sequential'" -- \
    "$bin/kcb-restore" "$dir/shared_nested.keras" --output "$tmp/shared_nested.$target" $([ $target = legacy.h5 ] && echo --format legacy_weights.h5)
done
# ... and the other order (the outer model's call first: its group holds them, the nested model none)
for target in h5 legacy.h5; do
  check "shared_rev_legacy_refused_$target" 1 "layer 'dense' \(Dense\) is shared with the nested model 'sequential', which the file gives none of its weights" -- \
    "$bin/kcb-restore" "$dir/shared_rev.keras" --output "$tmp/shared_rev.$target" $([ $target = legacy.h5 ] && echo --format legacy_weights.h5)
done
# the legacy file lists the shared layer's weights under both groups; Keras counts them once
check shared_nested_h5_params 0 '6 weights, 30 parameters \(30 trainable' -- "$bin/kcb-inspect" checkpoint "$dir/shared_nested.h5"
# ... but two layers that only happen to hold one equal variable by one name (zero biases of two
# "dense" layers in two nested models) are two layers: every weight counts
check legacy_equal_bias_counted 0 '^  2 layers with weights, 4 weights, 32 parameters' -- sh -c "$py -c \"
import h5py, numpy as np
f = h5py.File('$tmp/twodense.h5', 'w')
f.attrs['layer_names'] = [b'a', b'b']
for g, seed in (('a', 1), ('b', 2)):
    grp = f.create_group(g)
    grp.attrs['weight_names'] = [b'dense/kernel:0', b'dense/bias:0']
    grp['dense/kernel:0'] = np.random.default_rng(seed).standard_normal((3, 4)).astype('f4')
    grp['dense/bias:0'] = np.zeros(4, 'f4')\" && '$bin/kcb-inspect' checkpoint '$tmp/twodense.h5'"
check shared_nested_store_fine 0 '\(verified\)' -- "$bin/kcb-restore" "$dir/shared_nested.keras" --output "$tmp/shared_nested.weights.h5"
# the weights-only store of that model says it only by the numbering its container skips: noted
check shared_nested_weights_only_noted 0 "note: the store's container '/layers' holds 'dense_1' but no 'dense'" -- \
  "$bin/kcb-restore" "$dir/shared_nested.weights.h5" --output "$tmp/shared_nested_wo.h5" --format legacy_weights.h5
check no_gap_note_without_sharing 0 '^0$' -- sh -c "'$bin/kcb-restore' '$dir/nested.weights.h5' --output '$tmp/nested_wo.h5' \
  --format legacy_weights.h5 2>&1 | grep -c 'holds .* but no' || true"
# make_spectral.py: SpectralNormalization tracks its layer's kernel again as its own, so a store
# keeps it twice (counted once, as Keras's Layer.weights lists it; its vector_u does not train,
# compiled or not) and Keras's legacy layout once: the legacy layouts are refused, not written one long
for f in spectral.keras spectral.h5; do
  check "spectral_params_$f" 0 "26 parameters \(23 trainable, 3 non-trainable\)" -- "$bin/kcb-inspect" checkpoint "$dir/$f"
done
check spectral_uncompiled_vector_u 0 "^  sequential/spectral_normalization/vector_u +float32 +\(1, 3\) +3 +no " -- sh -c "$py -c \"
import sys, zipfile, json
src = zipfile.ZipFile(sys.argv[1])
with zipfile.ZipFile(sys.argv[2], 'w') as out:
    for n in src.namelist():
        data = src.read(n)
        if n == 'config.json':
            c = json.loads(data); c.pop('compile_config', None); data = json.dumps(c)
        if n == 'model.weights.h5':
            import h5py, io
            b = io.BytesIO(data)
            with h5py.File(b, 'r+') as h: del h['optimizer']
            data = b.getvalue()
        out.writestr(n, data)\" '$dir/spectral.keras' '$tmp/spectral_noopt.keras' && '$bin/kcb-inspect' checkpoint '$tmp/spectral_noopt.keras'"
check spectral_legacy_refused 1 "layer 'spectral_normalization' \(SpectralNormalization\) stores its sub-layer's variable .*kernel' again" -- \
  "$bin/kcb-restore" "$dir/spectral.keras" --output "$tmp/spectral.h5"
# statistics of values far from zero keep their spread (E[x^2] - mean^2 lost it: std 0 for
# 1e8 + {0, 1}); checked against numpy's float64 results
check stats_offset_std 0 "^ok std$" -- sh -c "$py -c \"
import h5py, json, numpy as np, subprocess, sys
with h5py.File(sys.argv[1], 'w') as f:
    f.create_group('vars').attrs['name'] = 'sequential'
    g = f.create_group('layers/dense/vars')
    g.attrs['name'] = 'dense'
    g['0'] = (np.float32(4096) + np.random.default_rng(0).standard_normal((16, 8)).astype('f4') * np.float32(1e-3)).astype('f4')
    g['1'] = 1e8 + np.arange(8) % 2
d = json.loads(subprocess.run([sys.argv[2], 'checkpoint', sys.argv[1], '--json'], capture_output=True, text=True).stdout)
for w, key in zip(d['weights'], ('0', '1')):
    want = h5py.File(sys.argv[1])['layers/dense/vars/' + key][()].astype('f8')
    assert abs(w['std'] - want.std()) <= 1e-9 * want.std() and w['mean'] == want.mean(), (w['std'], want.std(), w['mean'], want.mean())
print('ok std')\" '$tmp/offset.weights.h5' '$bin/kcb-inspect'"
# diff: int64 values beyond 2^53 differ by their bytes (as doubles they round together), and the
# relative L2 of tiny float64 values does not underflow to 0
check diff_exact_int64_tiny_f64 0 "^ok diff$" -- sh -c "$py -c \"
import h5py, json, numpy as np, subprocess, sys
for path, ints, floats in ((sys.argv[1], [2**53, 5], [1e-200, 2e-200]), (sys.argv[2], [2**53 + 1, 5], [1.5e-200, 2e-200])):
    with h5py.File(path, 'w') as f:
        f.create_group('vars').attrs['name'] = 'sequential'
        g = f.create_group('layers/dense/vars')
        g.attrs['name'] = 'dense'
        g['0'] = np.array(ints, 'i8')
        g['1'] = np.array(floats, 'f8')
d = json.loads(subprocess.run([sys.argv[3], 'diff', sys.argv[1], sys.argv[2], '--json'], capture_output=True, text=True).stdout)
k, b = d['variables']
assert not d['identical'] and k['max_abs'] == 1 and abs(b['rel_l2'] - 0.5e-200 / np.hypot(1e-200, 2e-200) * 1) < 1e-12, d
print('ok diff')\" '$tmp/ia.weights.h5' '$tmp/ib.weights.h5' '$bin/kcb-inspect'"
finish synth_checkpoints
