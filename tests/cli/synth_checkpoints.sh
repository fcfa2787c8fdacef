#!/usr/bin/env bash
# Checkpoints of models the keras-zoo does not have (tests/data/zoo-synth, written by make.py in
# Keras's layouts): Bidirectional, TimeDistributed, MultiHeadAttention, Conv1D/3D, transposed,
# separable and depthwise convolutions, Layer/Group normalization, SimpleRNN, ConvLSTM2D, nested
# Sequential > Functional > Sequential, a custom class, shared layers, float16 and int64 variables,
# RMSprop/AdamW/SGD/Nadam/Adagrad and tf.keras 2's optimizer_v2 weights. kcb-inspect lists each as
# expected.json says, diff finds the layouts identical, kcb-restore ranks, restores and converts,
# and h5py finds each conversion equal to the file in that layout.
# Usage: tests/cli/synth_checkpoints.sh BIN_DIR DATA_DIR
set -u
bin=$1 dir=$2/zoo-synth
py=/usr/bin/python3
. "$(dirname "$0")/lib.sh"
here=$(dirname "$0")

for model in seqmix attn convs video nested mixed block; do
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
  [ $model = block ] && rename="--rename res_block/0=res_block/gate --rename expand/0=expand/kernel --rename expand/1=expand/bias --rename squeeze/0=squeeze/kernel --rename squeeze/1=squeeze/bias --rename block_0_=block_gate_ --rename expand_0_=expand_kernel_ --rename expand_1_=expand_bias_ --rename squeeze_0_=squeeze_kernel_ --rename squeeze_1_=squeeze_bias_"
  for target in keras h5 weights.h5; do
    check "restore_${model}_$target" 0 "^ok " -- sh -c "'$bin/kcb-restore' '$tmp/$model' --output '$tmp/best-$model.$target' >/dev/null && $py '$here/zoo_convert_check.py' '$tmp/best-$model.$target' '$dir/$model.$target' $rename"
  done
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
# a custom layer's sub-layers are stored under attribute names a legacy file does not hold: the
# conversion is refused, naming the layer, before anything is written
for target in keras weights.h5; do
  check "refuse_block_$target" 1 "layer 'res_block' \(ResidualBlock\).*attribute name" -- "$bin/kcb-restore" "$tmp/block/block-val_loss=0.40.h5" --output "$tmp/refused.$target"
  assert "refuse_block_${target}_nothing_written" test ! -e "$tmp/refused.$target"
done
# tf.keras 2.10: Normalization's int64 count, Bidirectional, TimeDistributed, optimizer_v2 RMSprop
for f in k2mix.h5 k2mix.legacy_weights.h5; do
  check "inspect_$f" 0 "^ok $f\$" -- sh -c "'$bin/kcb-inspect' checkpoint '$dir/$f' --json | $py '$here/synth_inspect_check.py' '$dir/expected.json' $f"
done
check diff_k2mix 0 'every variable identical' -- "$bin/kcb-inspect" diff "$dir/k2mix.h5" "$dir/k2mix.legacy_weights.h5"
mkdir -p "$tmp/k2" && cp "$dir/k2mix.h5" "$tmp/k2/k2mix-val_loss=0.2.h5"
for target in weights.h5 keras; do
  check "k2mix_to_$target" 0 'every variable identical' -- sh -c "'$bin/kcb-restore' '$tmp/k2' --output '$tmp/k2mix.$target' >/dev/null && '$bin/kcb-inspect' diff '$dir/k2mix.h5' '$tmp/k2mix.$target'"
done
finish synth_checkpoints
