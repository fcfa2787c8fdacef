#!/usr/bin/env bash
# kcb-train's TensorBoard plugin options end to end: --pr-curves, the default custom-scalars
# layout, --embeddings, --profile-batch; the files read back by kcb-inspect plugins and by
# independent readers (tfrecord_check.py + protoc for the events, Python's gzip + json for the
# trace, protoc's text-format parser for the projector config).
# Usage: tests/cli/tbplugins_train.sh BIN_DIR TFEVENTS_DATA_DIR TBPLUGINS_DATA_DIR
set -u
bin=$1 tools=$2 data=$3
. "$(dirname "$0")/lib.sh"
train=$bin/kcb-train inspect=$bin/kcb-inspect

check pr_needs_logdir 2 "--pr-curves needs --logdir DIR" -- "$train" --pr-curves
check embeddings_needs_logdir 2 "--embeddings needs --logdir DIR" -- "$train" --embeddings 10
check profile_bad_range 2 "kcb-train: --profile-batch '3,2': expected START,STOP" -- "$train" --logdir "$tmp/x" --profile-batch 3,2
check profile_bad_text 2 "kcb-train: --profile-batch 'a': expected START,STOP" -- "$train" --logdir "$tmp/x" --profile-batch a
check embeddings_range 2 "kcb-train: --embeddings '200000': expected a whole number from 0 to 100000" -- \
  "$train" --logdir "$tmp/x" --embeddings 200000
check help_plugins 0 "--pr-curves +per-class PR curves" -- "$train" --help

logs=$tmp/logs
check train 0 "profile +.*/train/plugins/profile/[0-9_]+/.*\.trace\.json\.gz" -- \
  "$train" --train-limit 1200 --epochs 2 --verbose 2 --logdir "$logs" --pr-curves --embeddings 50 \
  --profile-batch 2,3 --update-freq batch --class-names a,b,c,d,e,f,g,h,i,j
cp "$out" "$tmp/train.out"
check train_lists_projector 0 "projector +.*/projector_config.pbtxt" -- cat "$tmp/train.out"
check inspect_pr 0 "pr_curves/j +201 +2 +1 +[0-9.e-]+$" -- "$inspect" plugins "$logs"
check inspect_layout 0 "metrics \(train and validation\) / loss: multiline epoch_loss" -- "$inspect" plugins "$logs"
check inspect_projector 0 "test_features: tensor 50 x 128 \(binary\), metadata 50 rows, columns: label, class, sprite 224x224 of 28x28 images" -- \
  "$inspect" plugins "$logs"
check inspect_profile 0 "train/plugins/profile/.*\.trace\.json\.gz" -- "$inspect" plugins "$logs" --run train
# a run trained again into the same directory: TensorBoard keeps one value a step (a later value at
# step s replaces the earlier ones at steps >= s), and so do histograms, images and PR curves here
for lr in 0.01 0.001; do
  "$train" --train-limit 500 --epochs 2 --batch-size 100 --verbose 0 --lr $lr --logdir "$tmp/twice" --histogram-freq 1 \
    --write-images --pr-curves >/dev/null 2>&1
done
check histograms_replaced 0 '^2$' -- sh -c "'$inspect' histograms '$tmp/twice' --tag sequential/dense_1/bias/histogram --json |
  /usr/bin/python3 -c 'import json, sys; print(len(json.load(sys.stdin)[\"histograms\"]))'"
check images_replaced 0 '^2$' -- sh -c "'$inspect' images '$tmp/twice' --tag sequential/dense_1/bias/image --json |
  /usr/bin/python3 -c 'import json, sys; print(len(json.load(sys.stdin)[\"images\"]))'"
check pr_curves_replaced 0 'pr_curves/Bag +201 +2 +1 ' -- "$inspect" plugins "$tmp/twice"

# on the directory above, the projector of a log directory that is no run is not TensorBoard's to show: said
check inspect_projector_hidden 0 "note: .*/logs holds no event file, so TensorBoard started on .* does not show its projector" -- \
  "$inspect" plugins "$tmp"
check inspect_json 0 '"num_thresholds": 201' -- "$inspect" plugins "$logs" --json
check inspect_bad_run 1 "" -- "$inspect" plugins "$logs" --run nope
# a projector config alone (no event files) is read; a path out of its directory is a problem (exit 1)
mkdir -p "$tmp/proj" && printf 'embeddings {\n  tensor_name: "x"\n  metadata_path: "../secret.tsv"\n}\n' >"$tmp/proj/projector_config.pbtxt"
check inspect_outside_path 1 "problem: path '../secret.tsv' resolves outside the config's directory" -- "$inspect" plugins "$tmp/proj"
# as TensorBoard resolves them: an absolute path or a '..' that stays inside is read; a link that
# leads out is refused (the plugin compares real paths)
printf 'a\nb\n' >"$tmp/proj/meta.tsv" && mkdir -p "$tmp/proj/sub" "$tmp/outdir" && printf 'a\nb\n' >"$tmp/outdir/meta.tsv"
ln -s "$tmp/outdir" "$tmp/proj/link"
printf 'embeddings {\n  tensor_name: "x"\n  metadata_path: "%s/proj/sub/../meta.tsv"\n}\n' "$tmp" >"$tmp/proj/projector_config.pbtxt"
check inspect_absolute_inside 0 "metadata 2 rows" -- "$inspect" plugins "$tmp/proj"
printf 'embeddings {\n  tensor_name: "x"\n  metadata_path: "link/meta.tsv"\n}\n' >"$tmp/proj/projector_config.pbtxt"
check inspect_link_outside 1 "problem: path 'link/meta.tsv' resolves outside the config's directory" -- "$inspect" plugins "$tmp/proj"
# TensorBoard expands '~user' as os.path.expanduser does: root's home is outside
printf 'embeddings {\n  tensor_name: "x"\n  metadata_path: "~root/meta.tsv"\n}\n' >"$tmp/proj/projector_config.pbtxt"
check inspect_tilde_user_outside 1 "problem: path '~root/meta.tsv' resolves outside the config's directory" -- "$inspect" plugins "$tmp/proj"
# a TSV tensor as the projector parses it: lines of any length, every row as wide as the first,
# every cell a number, and a tensor_shape that agrees
/usr/bin/python3 -c "print('\t'.join(['0.5'] * 5000)); print('\t'.join(['1'] * 5000))" >"$tmp/proj/wide.tsv"
printf 'embeddings {\n  tensor_name: "w"\n  tensor_path: "wide.tsv"\n}\n' >"$tmp/proj/projector_config.pbtxt"
check inspect_tsv_wide_lines 0 "tensor 2 x 5000 \(tsv\)" -- "$inspect" plugins "$tmp/proj"
printf '1\t2\n3\n' >"$tmp/proj/ragged.tsv"
printf 'embeddings {\n  tensor_name: "r"\n  tensor_path: "ragged.tsv"\n}\n' >"$tmp/proj/projector_config.pbtxt"
check inspect_tsv_ragged 1 "problem: TSV tensor line 2 has 1 values, the first row 2" -- "$inspect" plugins "$tmp/proj"
printf '1\t2\n3\tx\n' >"$tmp/proj/words.tsv"
printf 'embeddings {\n  tensor_name: "r"\n  tensor_path: "words.tsv"\n}\n' >"$tmp/proj/projector_config.pbtxt"
check inspect_tsv_not_number 1 "problem: TSV tensor line 2, column 2 is not a number" -- "$inspect" plugins "$tmp/proj"
# cells as the projector reads them, with Python's float(): underscores between digits are a number,
# C's "nan(1)" and hex are not
printf '1_0\t-Infinity\n 2.5 \t1e3\n' >"$tmp/proj/words.tsv"
check inspect_tsv_python_numbers 0 "tensor 2 x 2 \(tsv\)" -- "$inspect" plugins "$tmp/proj"
for cell in 'nan(1)' '0x10' '1__0'; do
  printf '1\t%s\n' "$cell" >"$tmp/proj/words.tsv"
  check "inspect_tsv_not_python_number_$cell" 1 "problem: TSV tensor line 1, column 2 is not a number" -- "$inspect" plugins "$tmp/proj"
done
printf 'embeddings {\n  tensor_name: "r"\n  tensor_path: "wide.tsv"\n  tensor_shape: 2\n  tensor_shape: 8\n}\n' >"$tmp/proj/projector_config.pbtxt"
check inspect_tsv_shape_disagrees 1 "problem: TSV tensor is 2 x 5000, tensor_shape says \[2, 8\]" -- "$inspect" plugins "$tmp/proj"
# protobuf's text format as TensorBoard's parser takes it: a repeated field as a list, adjacent strings joined
printf 'embeddings {\n  tensor_name: "w"\n  tensor_path: "wi" "de.tsv"\n  tensor_shape: [2, 5000]\n}\n' >"$tmp/proj/projector_config.pbtxt"
check inspect_pbtxt_list_and_joined_strings 0 "tensor 2 x 5000 \(tsv\)" -- "$inspect" plugins "$tmp/proj"
# a path into a directory that does not exist is inside (TensorBoard resolves it without the file):
# the file is missing, not refused
printf 'embeddings {\n  tensor_name: "x"\n  metadata_path: "missing_dir/meta.tsv"\n}\n' >"$tmp/proj/projector_config.pbtxt"
check inspect_missing_dir_inside 1 "problem: metadata file: .*missing_dir/meta\.tsv" -- "$inspect" plugins "$tmp/proj"
# a FIFO in place of the config is refused at once, not waited on
mkdir -p "$tmp/fifo" && mkfifo "$tmp/fifo/projector_config.pbtxt"
check inspect_fifo 1 "not a regular file" -- timeout 10 "$inspect" plugins "$tmp/fifo"

assert independent_readers env LOGS="$logs" TOOLS="$tools" DATA="$data" /usr/bin/python3 -c '
import glob, gzip, json, os, re, struct, subprocess, sys
logs, tools, data = os.environ["LOGS"], os.environ["TOOLS"], os.environ["DATA"]
# the trace: gzip, JSON, complete events of every phase
trace = glob.glob(logs + "/train/plugins/profile/*/*.trace.json.gz")
assert len(trace) == 1, trace
ev = json.load(gzip.open(trace[0]))["traceEvents"]
x = [e for e in ev if e["ph"] == "X"]
names = {e["name"] for e in x}
for want in ["forward", "backward", "optimizer", "TensorBoard.on_train_batch_end", "TensorBoard.on_train_batch_begin",
             "event write (queue)", "event write (disk)", "train_batch"]:
    assert want in names, (want, names)
assert all(isinstance(e["ts"], (int, float)) and e["dur"] >= 0 and e["pid"] == 1 for e in x)
batches = sorted(e["args"]["batch"] for e in x if e["name"] == "train_batch")
assert batches == [2, 3], batches
assert sum(e["name"] == "optimizer" for e in x) == 2, "two traced batches, one optimizer step each"
# the last traced batch ends in the trace too: its TensorBoard hook (the trace stops inside it) and its writes
ends = sorted(e["ts"] for e in x if e["name"] == "TensorBoard.on_train_batch_end")
assert len(ends) == 2, ("one TensorBoard.on_train_batch_end per traced batch", ends)
assert any(e["name"] == "event write (disk)" and e["tid"] == 2 for e in x)
# PR curves: per class, TP[0] + FN[0] = its positives; summed over the classes, the validation set
val = glob.glob(logs + "/validation/*tfevents*")[0]
text = subprocess.run([sys.executable, tools + "/tfrecord_check.py", "--decode", val], capture_output=True, check=True, text=True).stdout
recs = [r for r in re.split(r"^# record .*\n", text, flags=re.M) if "pr_curves/" in r]
assert len(recs) == 20, len(recs)
import codecs
for step in (0, 1):
    pos = 0
    for r in [r for r in recs if ("step: %d\n" % step) in r or (step == 0 and "step:" not in r)]:
        c = codecs.escape_decode(re.search(r"tensor_content: \"((?:[^\"\\\\]|\\.)*)\"", r).group(1).encode("latin-1"))[0]
        v = struct.unpack("<%df" % (6 * 201), c)
        tp0, fp0, tn0, fn0 = v[0], v[201], v[402], v[603]
        assert tn0 == 0 and fn0 == 0, "threshold 0 takes every sample"
        pos += tp0
        n = tp0 + fp0
    assert pos == n == 120, (pos, n)
# projector config through protoc text format
cfg = subprocess.run(["protoc", "-I", data, "--encode=kcbcheck.ProjectorConfig", data + "/plugins_check.proto"],
                     stdin=open(logs + "/projector_config.pbtxt", "rb"), capture_output=True)
assert cfg.returncode == 0, cfg.stderr
meta = open(logs + "/test_features/metadata.tsv").read().splitlines()
assert meta[0] == "label\tclass" and len(meta) == 51 and all(l.split("\t")[0] == "abcdefghij"[int(l.split("\t")[1])] for l in meta[1:])
assert os.path.getsize(logs + "/test_features/tensor.bin") == 50 * 128 * 4
'
finish tbplugins_train
