#!/usr/bin/env bash
# cnn_kcb_train.sh — kcb-train with convolutional specs: the preset `--model cnn` trains (a slice of
# Fashion-MNIST, one epoch) and prints Keras's summary of it; a spec with its own input shape and
# every new item builds; bad items and shapes are refused with a message naming them (exit 1).
# Usage: cnn_kcb_train.sh KCB_TRAIN. Exit 77 (skipped) without the data.
set -u
train=${1:?usage: cnn_kcb_train.sh KCB_TRAIN}
data=/usr/share/datasets/fashion-mnist
[ -d "$data" ] || { echo "cnn_kcb_train: skipped ($data is missing)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
"$train" --model cnn --train-limit 300 --epochs 1 --verbose 1 --save "$tmp/cnn.keras" >"$tmp/out.txt" 2>"$tmp/err.txt"
rc=$?
[ $rc -eq 0 ] && ok || bad "--model cnn exited $rc: $(head -c 300 "$tmp/err.txt")"
grep -q "conv2d_1 (Conv2D)" "$tmp/out.txt" && ok || bad "no conv2d_1 row in the summary"
grep -q "Non-trainable params: 192 (768.00 B)" "$tmp/out.txt" && ok || bad "no non-trainable count"
grep -q "^test_loss=[0-9.]* test_accuracy=0\.[0-9]*$" "$tmp/out.txt" && ok || bad "no test evaluation line"
[ -s "$tmp/cnn.keras" ] && ok || bad "no saved model"
spec='28x28x1,zeropad:1,conv:8:3x3:same:s2:relu,bn,avgpool:2:1:same,conv:8:1:nobias,ln,spatialdropout:0.1,gmp,10:softmax'
"$train" --model "$spec" --train-limit 100 --epochs 1 --verbose 0 >"$tmp/out2.txt" 2>"$tmp/err2.txt" && ok || bad "spec $spec: $(head -c 300 "$tmp/err2.txt")"
# (28, 28) images without a shape are rank 2: conv, maxpool and gap take their 1D forms
"$train" --model 'conv:4:3:relu,maxpool:2,gap,10:softmax' --train-limit 100 --epochs 1 --verbose 1 \
  >"$tmp/out3.txt" 2>"$tmp/err3.txt" && grep -q "(GlobalAveragePooling1D)" "$tmp/out3.txt" \
  && ok || bad "1D spec: $(head -c 300 "$tmp/err3.txt")"
# a bad --model is a usage error (exit 2), as every bad flag value
"$train" --model 'flatten,conv:4:3,10' --train-limit 50 --epochs 1 --verbose 0 >/dev/null 2>"$tmp/err4.txt"
[ $? -eq 2 ] && grep -q "conv works on (steps, channels) per sample (1D) or (height, width, channels) (2D), but the output before it has rank 1" "$tmp/err4.txt" && ok || bad "conv after flatten: $(cat "$tmp/err4.txt")"
"$train" --model '28x28x1,conv:4:3:sideways,10' --train-limit 50 --epochs 1 --verbose 0 >/dev/null 2>"$tmp/err5.txt"
[ $? -eq 2 ] && grep -q "conv option 'sideways'" "$tmp/err5.txt" && ok || bad "bad conv option: $(cat "$tmp/err5.txt")"
"$train" --model '27x27x1,flatten,10' --train-limit 50 --epochs 1 --verbose 0 >/dev/null 2>"$tmp/err6.txt"
[ $? -eq 2 ] && grep -q "holds 729 values per sample, the data 784" "$tmp/err6.txt" && ok || bad "wrong input shape: $(cat "$tmp/err6.txt")"
# causal padding: Conv1D's (784 steps of one channel), refused for Conv2D and pooling
"$train" --model '784x1,conv:4:5:causal:d2:relu,conv:4:4:causal:s2,maxpool:2,gap,10:softmax' --train-limit 100 \
  --epochs 1 --verbose 1 >"$tmp/out7.txt" 2>"$tmp/err7.txt" && grep -q "(None, 392, 4)" "$tmp/out7.txt" \
  && ok || bad "causal Conv1D: $(head -c 300 "$tmp/err7.txt")"
"$train" --model '28x28x1,conv:4:3:causal,10' --train-limit 50 --epochs 1 --verbose 0 >/dev/null 2>"$tmp/err8.txt"
[ $? -eq 2 ] && grep -q "padding causal is for Conv1D only" "$tmp/err8.txt" && ok || bad "causal Conv2D: $(cat "$tmp/err8.txt")"
"$train" --model '784x1,maxpool:2:causal,10' --train-limit 50 --epochs 1 --verbose 0 >/dev/null 2>"$tmp/err9.txt"
[ $? -eq 2 ] && grep -q "MaxPooling1D: padding must be valid or same, got causal" "$tmp/err9.txt" && ok || bad "causal pooling: $(cat "$tmp/err9.txt")"
# strict specs: empty items or options, a repeated option, an option where none is taken, a bad
# shape, a shape alone; reshape's inferred -1
for bad in '28x28x1,,conv:2:3,gap,10|an empty item' '28x28x1,conv::2:3,gap,10|has an empty option' \
           '28x28x1,conv:4:3:relu:tanh,gap,10|gives the activation a second time' \
           '28x28x1,gap:foo,10|gap takes one option, keepdims; got .foo.' '28x28x1,bn:x,flatten,10|bn takes no options' \
           '28xx28x1,flatten,10|is not a valid input shape' '28x28x1|has an input shape but no layers' \
           '28x28x1,maxpool:2:same:valid,flatten,10|gives the padding a second time' \
           '28x28x1,rescale,flatten,10|rescale needs SCALE' '28x28x1,rescale:x,flatten,10|rescale needs SCALE' \
           '28x28x1,conv:4:3:s2x1:d1x2,flatten,10|strides > 1 together with dilation_rate > 1' \
           '784x1,conv:4:3x5,flatten,10|is Conv1D, whose kernel, strides and dilation are one number each' \
           '784x1,conv:4:3:s1x4,flatten,10|is Conv1D' '784x1,maxpool:2x7,flatten,10|pooling on (steps, channels) is 1D' \
           '28x28x1,zeropad:1x2,flatten,10|zeropad needs one whole number' \
           "28x28x1,conv:0:3,gap,10|conv's FILTERS '0' is not a whole number from 1 to 1000000" \
           "28x28x1,conv:4:3x0,gap,10|conv's KERNEL '3x0' is not a size" \
           "28x28x1,conv:4:3:s0,gap,10|conv option 's0': the strides must be a whole number" \
           "28x28x1,conv:4:3:g99999999999,gap,10|conv option 'g99999999999': the groups must be" \
           "28x28x1,maxpool:2:0,flatten,10|pooling's STRIDES '0' is not a whole number" \
           "28x28x1,conv:4:3:sme,gap,10|conv option 'sme' (did you mean same?) is not same/valid/causal" \
           "28x28x1,maxpool:2:vaild,flatten,10|pooling option 'vaild' (did you mean valid?) is not POOL" \
           '28x28x1,reshape:7x7x17,flatten,10|the input (28, 28, 1) holds 784 values per sample, which the target (7, 7, 17) cannot hold' \
           '28x28x1,reshape:-1x5,flatten,10|cannot hold whatever size -1 stands for' \
           '28x28x1,reshape:-1x2x-1,flatten,10|has more than one -1' \
           '28x28x1,flatten,reshape:2x2x2x2x7x7,flatten,10|reshape:2x2x2x2x7x7 has 6 dimensions; a sample.s shape has at most 5' \
           '784x1,maxpool:785,flatten,10|MaxPooling1D: a pool of 785 does not fit an input of 784 steps' \
           '784x1,conv:2:3:d400,flatten,10|Conv1D: a kernel of 3 (dilation 400) does not fit an input of 784 steps'; do
  "$train" --model "${bad%%|*}" --train-limit 50 --epochs 1 --verbose 0 >/dev/null 2>"$tmp/err10.txt"
  [ $? -eq 2 ] && grep -q -- "${bad#*|}" "$tmp/err10.txt" && ok || bad "spec ${bad%%|*}: $(cat "$tmp/err10.txt")"
done
"$train" --model '28x28x1,conv:4:3,reshape:-1x4,gap,10:softmax' --train-limit 100 --epochs 1 --verbose 1 >"$tmp/out11.txt" 2>&1 \
  && grep -q "(None, 676, 4)" "$tmp/out11.txt" && ok || bad "reshape -1: $(tail -3 "$tmp/out11.txt")"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
