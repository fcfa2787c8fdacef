#!/usr/bin/env bash
# Checkpoints of models kcb cannot run (CNN with BatchNormalization, Embedding/LSTM/GRU, a
# Functional model with a nested Sequential, an MLP with BatchNormalization), written by Keras
# 3.15.1 in every layout (tests/data/zoo, from shared/fixtures/keras-zoo): kcb-inspect reads each
# as expected.json lists it, diff finds the layouts identical, kcb-restore ranks them and converts
# between layouts, and h5py finds each conversion equal to the file Keras wrote in that layout.
# Usage: tests/cli/zoo_checkpoints.sh BIN_DIR DATA_DIR
set -u
bin=$1 zoo=$2/zoo
py=/usr/bin/python3
. "$(dirname "$0")/lib.sh"
here=$(dirname "$0")

# --config prints the whole config, however long (the Functional model's is 9 KB): valid JSON
check config_whole 0 '^whole$' -- sh -c "'$bin/kcb-inspect' checkpoint '$zoo/functional.keras' --config | sed -n '/^{/,\$p' |
  $py -c 'import json, sys; c = json.load(sys.stdin); print(\"whole\" if len(json.dumps(c)) > 8192 else \"short\")'"

for model in cnn rnn functional mlp_bn; do
  files="$model.weights.h5 $model.keras $model.h5 $model.legacy_weights.h5"
  [ $model = cnn ] && files="$files cnn.k2.h5 cnn.k2_h5py2.h5"
  for f in $files; do
    check "inspect_$f" 0 "^ok $f\$" -- sh -c "'$bin/kcb-inspect' checkpoint '$zoo/$f' --json | $py '$here/zoo_inspect_check.py' '$zoo/expected.json' $model $f"
  done
  check "inspect_text_$model" 0 "parameters \(" -- "$bin/kcb-inspect" checkpoint "$zoo/$model.weights.h5"
  # weights-only files name the classes of Keras-named layers the same way in both layouts (a name
  # the user chose, as the functional model's inputs, may stay '?' in the legacy one)
  check "classes_weights_only_$model" 0 '^same$' -- sh -c "for f in weights.h5 legacy_weights.h5; do
      '$bin/kcb-inspect' checkpoint '$zoo/$model.'\$f | sed -n '/^  layer  /,/^\$/p' | awk 'NF {print \$1, \$2}' >'$tmp/classes.'\$f; done
    grep -q ' Dense\$' '$tmp/classes.legacy_weights.h5' &&
      ! grep -v ' ?\$' '$tmp/classes.legacy_weights.h5' | grep -vxFf '$tmp/classes.weights.h5' | grep -q . && echo same"
  for f in $model.keras $model.h5 $model.legacy_weights.h5; do
    check "diff_$f" 0 'every variable identical' -- "$bin/kcb-inspect" diff "$zoo/$model.weights.h5" "$zoo/$f"
  done
  # rank (values from the names) and restore the best into every layout
  mkdir -p "$tmp/$model"
  cp "$zoo/$model.keras" "$tmp/$model/$model-val_loss=0.30.keras"
  cp "$zoo/$model.h5" "$tmp/$model/$model-val_loss=0.40.h5"
  cp "$zoo/$model.weights.h5" "$tmp/$model/$model-val_loss=0.50.weights.h5"
  check "rank_$model" 0 "^1 +$tmp/$model/$model-val_loss=0\.30\.keras " -- "$bin/kcb-restore" "$tmp/$model"
  for target in keras h5 weights.h5; do
    check "restore_${model}_$target" 0 '' -- "$bin/kcb-restore" "$tmp/$model" --output "$tmp/best-$model.$target"
    check "restore_${model}_${target}_keras" 0 "^ok " -- $py "$here/zoo_convert_check.py" "$tmp/best-$model.$target" "$zoo/$model.$target"
  done
  # from the legacy full model, and into Keras 2's weights-only layout
  for target in keras weights.h5; do
    check "convert_h5_${model}_$target" 0 "^ok " -- sh -c "'$bin/kcb-restore' '$tmp/$model/$model-val_loss=0.40.h5' --output '$tmp/h5-$model.$target' >/dev/null && $py '$here/zoo_convert_check.py' '$tmp/h5-$model.$target' '$zoo/$model.$target'"
  done
  # Keras 2's weights-only layout holds no optimizer state: what is left out is said
  check "legacy_weights_drops_optimizer_$model" 0 "note: optimizer state not written: the legacy weights layout holds the model's weights alone \([1-9][0-9]* optimizer variables left out\)" -- \
    "$bin/kcb-restore" "$tmp/$model/$model-val_loss=0.40.h5" --output "$tmp/lw-$model.h5" --format legacy_weights.h5
done
# tf.keras 2 layouts (both string encodings) into Keras 3's store
for f in cnn.k2.h5 cnn.k2_h5py2.h5; do
  mkdir -p "$tmp/$f.d" && cp "$zoo/$f" "$tmp/$f.d/k2-val_loss=0.1.h5"
  check "convert_$f" 0 "^ok " -- sh -c "'$bin/kcb-restore' '$tmp/$f.d' --output '$tmp/$f.weights.h5' >/dev/null && $py '$here/zoo_convert_check.py' '$tmp/$f.weights.h5' '$zoo/cnn.weights.h5'"
done
# ... and into a .keras: its config.json gets what Keras's legacy loader rewrites before building
# (model_from_config), which Keras's .keras loader does not: batch_input_shape -> batch_shape
# (InputLayer) or input_shape, BatchNormalization's built axis list [3] -> 3
check convert_k2_legacy_config 0 '^ok legacy keys upgraded$' -- sh -c "'$bin/kcb-restore' '$zoo/cnn.k2.h5' --output '$tmp/k2.keras' >/dev/null 2>&1 && $py -c \"
import json, zipfile
c = json.loads(zipfile.ZipFile('$tmp/k2.keras').read('config.json'))
layers = {l['class_name']: l['config'] for l in c['config']['layers']}
assert 'batch_input_shape' not in json.dumps(c), 'batch_input_shape left'
assert layers['InputLayer']['batch_shape'] == [None, 28, 28, 1], layers['InputLayer']
assert layers['BatchNormalization']['axis'] == 3, layers['BatchNormalization']['axis']
print('ok legacy keys upgraded')\""
# Keras 3.0-3.5 kept no `name` in a store's vars groups: the same model's store then pairs with
# 3.15's by path in diff, not by names guessed from the containers (which pair a nested dense_2 with an
# outer one)
check diff_store_without_names 0 'every variable identical' -- sh -c "$py -c \"
import h5py, shutil, sys
shutil.copy(sys.argv[1], sys.argv[2])
f = h5py.File(sys.argv[2], 'r+')
f.visititems(lambda n, o: o.attrs.__delitem__('name') if isinstance(o, h5py.Group) and 'name' in o.attrs else None)
\" '$zoo/functional.weights.h5' '$tmp/functional_k35.weights.h5' && '$bin/kcb-inspect' diff '$zoo/functional.weights.h5' '$tmp/functional_k35.weights.h5'"
# two runs' checkpoints and CSV logs in one directory: each file is valued from the log its name
# starts with (a.csv for a.*), not from the first log found
mkdir -p "$tmp/two" && for e in 01 02 03; do cp "$zoo/cnn.weights.h5" "$tmp/two/a.$e.weights.h5"; cp "$zoo/mlp_bn.weights.h5" "$tmp/two/b.$e.weights.h5"; done
printf 'epoch,loss,val_loss\n0,1,0.9\n1,0.8,0.7\n2,0.7,0.75\n' >"$tmp/two/a.csv"
printf 'epoch,loss,val_loss\n0,1,0.5\n1,0.8,0.6\n2,0.7,0.4\n' >"$tmp/two/b.csv"
check rank_csv_by_name 0 '^1 +[^ ]*b\.03\.weights\.h5 +weights\.h5 +3 +0\.4 +csv' -- "$bin/kcb-restore" "$tmp/two"
# a value the template rounds (0.31 twice) is the log's exact one where the log agrees: epoch 7's
# 0.3059 ranks first, not the first name by path
mkdir -p "$tmp/round" && for f in w.03-0.31 w.07-0.31 w.05-0.33; do cp "$zoo/mlp_bn.keras" "$tmp/round/$f.keras"; done
printf 'epoch,loss,val_loss\n0,1,0.5\n1,1,0.4\n2,1,0.3141\n3,1,0.35\n4,1,0.331\n5,1,0.34\n6,1,0.3059\n' >"$tmp/round/log.csv"
check rank_template_rounded 0 '^1 +[^ ]*w\.07-0\.31\.keras +keras +7 +0\.3059 +csv' -- \
  "$bin/kcb-restore" "$tmp/round" --template 'w.{epoch:02d}-{val_loss:.2f}.keras'
# files saved in the middle of an epoch ({batch} in the template) get no epoch-end CSV value
mkdir -p "$tmp/mid" && for f in w.01-0003 w.01-0006; do cp "$zoo/mlp_bn.keras" "$tmp/mid/$f.keras"; done
printf 'epoch,loss,val_loss\n0,1,0.5\n' >"$tmp/mid/log.csv"
check rank_mid_epoch_no_csv 1 'no checkpoint with a value for val_loss among 2 files' -- \
  "$bin/kcb-restore" "$tmp/mid" --template 'w.{epoch:02d}-{batch:04d}.keras'
# a template with fields in its directories, as Keras allows: the epoch comes from them
mkdir -p "$tmp/dirt/ckpt/epoch_01" "$tmp/dirt/ckpt/epoch_02"
cp "$zoo/mlp_bn.keras" "$tmp/dirt/ckpt/epoch_01/model.keras" && cp "$zoo/mlp_bn.keras" "$tmp/dirt/ckpt/epoch_02/model.keras"
printf 'epoch,loss,val_loss\n0,1,0.5\n1,1,0.4\n' >"$tmp/dirt/log.csv"
check rank_template_directories 0 '^1 +[^ ]*ckpt/epoch_02/model\.keras +keras +2 +0\.4 +csv' -- \
  "$bin/kcb-restore" "$tmp/dirt/ckpt" --template 'ckpt/epoch_{epoch:02d}/model.keras' --csv "$tmp/dirt/log.csv" --list
# a frozen layer's variables own no optimizer slots (fine-tuning): the slots of the weights-only
# file without the first Conv2D's go to BatchNormalization's gamma and beta, not to the conv's bias
# of the same size; when two layers could be the frozen one, no slot gets either's name
$py - "$zoo/cnn.weights.h5" "$tmp/frozen.weights.h5" "$tmp/ambiguous.weights.h5" <<'PY'
import shutil, sys, h5py, numpy as np
src, frozen, ambiguous = sys.argv[1:]
shutil.copy(src, frozen)
with h5py.File(frozen, "r+") as f:
    g = f["optimizer/vars"]; vals = [g[str(i)][()] for i in range(len(g))]
    for k in list(g): del g[k]
    for i, v in enumerate(vals[:2] + vals[6:]): g[str(i)] = v  # the conv's kernel and bias slots gone
with h5py.File(ambiguous, "w") as f:  # Dense 4-8-8-8, one of the two last ones frozen
    for name, shapes in (("dense", [(4, 8), (8,)]), ("dense_1", [(8, 8), (8,)]), ("dense_2", [(8, 8), (8,)])):
        for i, sh in enumerate(shapes): f[f"layers/{name}/vars/{i}"] = np.ones(sh, "f4")
    f["optimizer/vars/0"] = np.int64(3); f["optimizer/vars/1"] = np.float32(0.001)
    for i, sh in enumerate([(4, 8), (4, 8), (8,), (8,), (8, 8), (8, 8), (8,), (8,)]): f[f"optimizer/vars/{i + 2}"] = np.zeros(sh, "f4")
PY
check frozen_layer_slots 0 '^adam/sequential_batch_normalization_gamma_momentum 0.00209777$' -- sh -c \
  "'$bin/kcb-inspect' checkpoint '$tmp/frozen.weights.h5' | awk '\$1 ~ /^adam\/sequential_(conv2d|batch_normalization)_/ {print \$1, \$6; exit}'"
check ambiguous_frozen_layer_slots 0 '^8 slots, 0 named$' -- sh -c \
  "'$bin/kcb-inspect' checkpoint '$tmp/ambiguous.weights.h5' | awk '\$1 ~ /^optimizer\/[0-9]+$/ {n++} \$1 ~ /^optimizer\/dense/ {d++}
    END {print n+0, \"slots,\", d+0, \"named\"}'"
# .keras files that are not plain zips: bytes before the archive (a self-extractor's stub), which
# Python's zipfile and so Keras read; an empty and a text file; a cut archive
{ printf '#!/bin/sh\nexit 0\n'; head -c 1000 /dev/zero; cat "$zoo/mlp_bn.keras"; } >"$tmp/prefixed.keras"
head -c 20000 "$zoo/mlp_bn.keras" >"$tmp/cut.keras"
: >"$tmp/empty.keras"
echo 'not a zip' >"$tmp/text.keras"
check keras_after_a_stub 0 'every variable identical' -- "$bin/kcb-inspect" diff "$tmp/prefixed.keras" "$zoo/mlp_bn.keras"
# more than 65,535 members: Python's zipfile adds a zip64 end record and keeps the real offsets in
# the classic one (read as written, and after a stub too)
$py -c "import sys, zipfile
src = zipfile.ZipFile(sys.argv[1])
with zipfile.ZipFile(sys.argv[2], 'w') as z:
    for n in src.namelist(): z.writestr(n, src.read(n))
    for i in range(65536): z.writestr('assets/%d' % i, b'')" "$zoo/mlp_bn.keras" "$tmp/many.keras"
{ printf 'stub'; cat "$tmp/many.keras"; } >"$tmp/many_stub.keras"
for f in many many_stub; do
  check "keras_zip64_$f" 0 'every variable identical' -- "$bin/kcb-inspect" diff "$tmp/$f.keras" "$zoo/mlp_bn.keras"
done
check keras_after_a_stub_by_path 0 'layout keras, Keras 3.15.1' -- "$bin/kcb-inspect" "$tmp/prefixed.keras"
check keras_cut 1 'cut.keras: a zip archive without its end .*KCB_ETRUNC' -- "$bin/kcb-inspect" "$tmp/cut.keras"
# a model saved unzipped (save_model(..., zipped=False): a directory of the archive's files), which
# load_model reads as the archive: inspected, compared, ranked as one checkpoint, converted
for model in cnn mlp_bn; do
  $py -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])" "$zoo/$model.keras" "$tmp/unzipped-$model"
  check "unzipped_${model}_same" 0 'every variable identical' -- "$bin/kcb-inspect" diff "$tmp/unzipped-$model" "$zoo/$model.keras"
  check "unzipped_${model}_inspected" 0 "^$tmp/unzipped-$model: layout keras, Keras 3.15.1" -- "$bin/kcb-inspect" "$tmp/unzipped-$model"
  check "unzipped_${model}_converted" 0 "^ok " -- sh -c "'$bin/kcb-restore' '$tmp/unzipped-$model' --output '$tmp/unzipped-$model.weights.h5' >/dev/null &&
    $py '$here/zoo_convert_check.py' '$tmp/unzipped-$model.weights.h5' '$zoo/$model.weights.h5'"
done
mkdir -p "$tmp/unzipped-rank" && cp -r "$tmp/unzipped-cnn" "$tmp/unzipped-rank/cnn-val_loss=0.20" &&
  cp "$zoo/cnn.keras" "$tmp/unzipped-rank/cnn-val_loss=0.30.keras"
check unzipped_ranked 0 "^1 +$tmp/unzipped-rank/cnn-val_loss=0\.20 +keras " -- "$bin/kcb-restore" "$tmp/unzipped-rank"
# a config.json that starts with a UTF-8 byte-order mark (Python's json skips it, and so Keras)
$py -c "import sys, zipfile
src = zipfile.ZipFile(sys.argv[1])
with zipfile.ZipFile(sys.argv[2], 'w') as z:
    for n in src.namelist(): z.writestr(n, (b'\xef\xbb\xbf' if n.endswith('.json') else b'') + src.read(n))" "$zoo/mlp_bn.keras" "$tmp/bom.keras"
check keras_config_with_bom 0 'model: Sequential .sequential.' -- "$bin/kcb-inspect" "$tmp/bom.keras"
for f in empty text; do
  check "keras_$f" 1 "$f.keras: not a .keras archive: neither a zip archive" -- "$bin/kcb-inspect" "$tmp/$f.keras"
done
# conversions that are not defined fail before writing anything, naming why
check weights_only_to_keras 1 'holds weights only .* needs the architecture' -- \
  "$bin/kcb-restore" "$tmp/cnn/cnn-val_loss=0.50.weights.h5" --output "$tmp/no.keras"
assert weights_only_nothing_written test ! -e "$tmp/no.keras"
finish zoo_checkpoints
