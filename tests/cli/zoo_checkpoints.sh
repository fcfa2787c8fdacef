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
done
# tf.keras 2 layouts (both string encodings) into Keras 3's store
for f in cnn.k2.h5 cnn.k2_h5py2.h5; do
  mkdir -p "$tmp/$f.d" && cp "$zoo/$f" "$tmp/$f.d/k2-val_loss=0.1.h5"
  check "convert_$f" 0 "^ok " -- sh -c "'$bin/kcb-restore' '$tmp/$f.d' --output '$tmp/$f.weights.h5' >/dev/null && $py '$here/zoo_convert_check.py' '$tmp/$f.weights.h5' '$zoo/cnn.weights.h5'"
done
# conversions that are not defined fail before writing anything, naming why
check weights_only_to_keras 1 'holds weights only .* needs the architecture' -- \
  "$bin/kcb-restore" "$tmp/cnn/cnn-val_loss=0.50.weights.h5" --output "$tmp/no.keras"
assert weights_only_nothing_written test ! -e "$tmp/no.keras"
finish zoo_checkpoints
