#!/usr/bin/env bash
# Hostile inputs (issue 15), one section per class: crafted files (made by hostile_make.py with
# independent writers: h5py, hand-framed records) and flags. Every case ends in a clear error naming
# the file, or a correct result; `timeout` turns a hang into a failure.
# Usage: tests/cli/hostile.sh TOOLS_DIR TESTS_DIR
set -u
tools=$1 tests=$2 here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
train=$tools/kcb-train inspect=$tools/kcb-inspect restore=$tools/kcb-restore
T() { timeout 20 "$@"; } # a hang is exit 124: never the code a case expects
make() { /usr/bin/python3 "$here/hostile_make.py" "$@"; }
mkdir -p "$tmp/data" && make mnist "$tmp/data" || { echo "hostile_make.py failed"; exit 1; }
small=(--data "$tmp/data" --model flatten,4:relu,10:softmax --verbose 0)

# ---- 3. only regular files are read: a FIFO never blocks -------------------------------------------
mkdir -p "$tmp/fifo/run"
mkfifo "$tmp/fifo/run/events.out.tfevents.1.host" "$tmp/fifo/conf" "$tmp/fifo/log.csv" "$tmp/fifo/w.weights.h5" \
  "$tmp/fifo/m.keras" "$tmp/fifo/train-images-idx3-ubyte"
check fifo_validate 1 'events\.out\.tfevents\.1\.host: cannot open: a FIFO, not a regular file' -- \
  T "$inspect" validate "$tmp/fifo/run/events.out.tfevents.1.host"
for c in text scalars histograms images; do
  check "fifo_listing_$c" 1 'no event files' -- T "$inspect" "$c" "$tmp/fifo" --tag x
done
for c in hparams runs; do check "fifo_listing_$c" 1 'no event files' -- T "$inspect" "$c" "$tmp/fifo"; done
check fifo_config 2 "--config '$tmp/fifo/conf': a FIFO, not a regular file" -- T "$train" --config "$tmp/fifo/conf"
check fifo_csv 1 "log\.csv: cannot open: a FIFO" -- T "$inspect" csv "$tmp/fifo/log.csv"
check fifo_weights 1 "w\.weights\.h5: cannot open: a FIFO" -- T "$inspect" checkpoint "$tmp/fifo/w.weights.h5"
check fifo_keras 1 "m\.keras: cannot open: a FIFO" -- T "$inspect" checkpoint "$tmp/fifo/m.keras"
check fifo_initial_weights 1 "w\.weights\.h5: cannot open: a FIFO" -- \
  T "$train" "${small[@]}" --epochs 1 --initial-weights "$tmp/fifo/w.weights.h5"
check fifo_data 1 "train-images-idx3-ubyte: cannot open: a FIFO" -- T "$train" --data "$tmp/fifo" --epochs 1
check fifo_restore_dir 1 "w\.weights\.h5: cannot open: a FIFO" -- T "$restore" "$tmp/fifo"
check fifo_csv_output 1 "CSVLogger: cannot open .*log\.csv for writing: No such device or address \(a FIFO nobody reads\)" -- \
  T "$train" "${small[@]}" --epochs 1 --csv "$tmp/fifo/log.csv"
check fifo_csv_append 1 "CSVLogger: cannot append: .*log\.csv: cannot open: a FIFO" -- \
  T "$train" "${small[@]}" --epochs 1 --csv "$tmp/fifo/log.csv" --csv-append
check csv_to_dev_null 0 'test_loss=' -- T "$train" "${small[@]}" --epochs 1 --csv /dev/null
check dev_zero_csv 1 "/dev/zero: cannot open: a character device" -- T "$inspect" csv /dev/zero
check dir_as_config 2 "--config '$tmp/fifo': a directory, not a regular file" -- T "$train" --config "$tmp/fifo"

# ---- 1. nesting bounded before a recursive parser recurses -----------------------------------------
mkdir -p "$tmp/deep" && make deep_hparams "$tmp/deep/events.out.tfevents.1.deep" 100000
deep_msg='events\.out\.tfevents\.1\.deep: decoding the record at offset 40: hparams plugin data nested more than 100 messages deep'
for c in text histograms images; do check "deep_hparams_$c" 1 "$deep_msg" -- T "$inspect" "$c" "$tmp/deep" --tag x; done
check deep_hparams_hparams 1 "$deep_msg" -- T "$inspect" hparams "$tmp/deep"
mkdir -p "$tmp/shallow" && make deep_hparams "$tmp/shallow/events.out.tfevents.1.ok" 40
check shallow_hparams 0 '^\. ' -- T "$inspect" hparams "$tmp/shallow"
make deep_json_h5 "$tmp/deep/deep.h5" 100000
check deep_json_checkpoint 1 'deep\.h5.*maximum parsing depth' -- T "$inspect" checkpoint "$tmp/deep/deep.h5"
check deep_json_train 1 'deep\.h5: Layer count mismatch' -- T "$train" "${small[@]}" --epochs 0 --initial-weights "$tmp/deep/deep.h5"

# ---- 4. absurd sizes: overflow-safe products, a bound on the parameter count, "too large" in words ---
for d in "100000 100000" "1000000000 1000000000" "4294967296 4294967296"; do
  make shape_h5 "$tmp/shape.h5" $d
  # kcb-inspect lists the file as stored (it builds no model from the config, so nothing is allocated);
  # building the model is refused in words (tests/test_hostile.c, kcb_model_new / kcb_model_load)
  check "shape_${d// /x}" 0 "^  config: [0-9]+ bytes of JSON" -- T "$inspect" checkpoint "$tmp/shape.h5"
done
check huge_units 2 "layer 'dense_1' \(Dense, 100000 x 100000\): the model is too large: [0-9]+ parameters, more than the limit of 100000000" -- \
  T "$train" --data "$tmp/data" --model flatten,100000:relu,100000:relu,10:softmax --epochs 1 --verbose 0
check huge_units_env 2 "more than the limit of 5000 " -- \
  env KCB_MAX_PARAMS=5000 "$train" --data "$tmp/data" --model flatten,1000:relu,10:softmax --epochs 1 --verbose 0
check within_env 0 'test_loss=' -- env KCB_MAX_PARAMS=5000 "$train" "${small[@]}" --epochs 1
T "$train" "${small[@]}" --epochs 1 --checkpoint "$tmp/c.{epoch}.weights.h5" --save "$tmp/c.keras" >/dev/null 2>&1
make patch_h5 "$tmp/epoch.weights.h5" "$tmp/c.1.weights.h5" attr:kcb_epoch=9223372036854775807:i8
check epoch_int64_max 1 "epoch\.weights\.h5: attribute 'kcb_epoch' is 9223372036854775807: expected a count from 0 to 2147483646" -- \
  T "$restore" "$tmp/epoch.weights.h5"
check epoch_int64_max_inspect 1 "epoch\.weights\.h5: attribute 'kcb_epoch' is 9223372036854775807: expected a count from 0 to 2147483646" -- \
  T "$inspect" checkpoint "$tmp/epoch.weights.h5"
# a file size limit (ulimit -f) fails the write with a message and leaves no temporary, as a full disk
# does, instead of SIGXFSZ killing the tool in the middle of it
check file_size_limit 1 "xfsz\.weights\.h5: .*File too large" -- bash -c "ulimit -f 1; cd '$tmp' && '$restore' c.1.weights.h5 -o xfsz.weights.h5"
check file_size_limit_no_temp 0 "^none$" -- sh -c "! ls -a '$tmp' | grep 'xfsz' && echo none"
make patch_h5 "$tmp/itattr.weights.h5" "$tmp/c.1.weights.h5" attr:kcb_iterations=1152921504606846976:i8
check iterations_attribute 1 "itattr\.weights\.h5: attribute 'kcb_iterations' is 1152921504606846976: expected a count" -- \
  T "$inspect" checkpoint "$tmp/itattr.weights.h5"
# an iteration count stored as a float (Keras keeps an int64) must still count steps to be written on
make patch_h5 "$tmp/itnan.weights.h5" "$tmp/c.1.weights.h5" ds:optimizer/vars/0=nan:f8
check iteration_nan 1 "the optimizer's iteration count \(/optimizer/vars/0\) in .*itnan\.weights\.h5 is nan: expected a whole number" -- \
  T "$restore" "$tmp/itnan.weights.h5" -o "$tmp/itnan-out.weights.h5"
# a user block (h5py's userblock_size) moves the superblock to 512, 1024, ...: read there, in a file
# and inside a .keras archive, with the same checks as at 0
/usr/bin/python3 -c "
import shutil, zipfile
data = open('$tmp/c.1.weights.h5', 'rb').read()
open('$tmp/ub.weights.h5', 'wb').write(bytes(512) + data)
with zipfile.ZipFile('$tmp/ub.keras', 'w') as z:
    z.writestr('metadata.json', '{\"keras_version\": \"3.15.1\"}')
    z.writestr('config.json', zipfile.ZipFile('$tmp/c.keras').read('config.json'))
    z.writestr('model.weights.h5', bytes(512) + zipfile.ZipFile('$tmp/c.keras').read('model.weights.h5'))"
check user_block_file 0 "4 weights" -- T "$inspect" checkpoint "$tmp/ub.weights.h5"
check user_block_in_archive 0 "4 weights" -- T "$inspect" checkpoint "$tmp/ub.keras"
# an archive zipped from outside its folder (zip -r x.keras folder/): Keras's message, and where the file is
/usr/bin/python3 -c "
import zipfile
src = zipfile.ZipFile('$tmp/c.keras')
with zipfile.ZipFile('$tmp/nested.keras', 'w') as z:
    for n in src.namelist():
        z.writestr('c/' + n, src.read(n))"
check keras_in_folder 1 "nested\.keras: Expected a model\.weights\.h5 file in the \.keras archive; it is in the folder 'c'" -- \
  T "$inspect" checkpoint "$tmp/nested.keras"
# ... but an archive that only holds some other file of that name in a folder gets Keras's words alone
/usr/bin/python3 -c "
import zipfile
src = zipfile.ZipFile('$tmp/c.keras')
with zipfile.ZipFile('$tmp/asset.keras', 'w') as z:
    for n in ('metadata.json', 'config.json'):
        z.writestr(n, src.read(n))
    z.writestr('assets/model.weights.h5', src.read('model.weights.h5'))"
check keras_asset_named_weights 1 "asset\.keras: Expected a model\.weights\.h5 file in the \.keras archive \(KCB_EFORMAT\)" -- \
  T "$inspect" checkpoint "$tmp/asset.keras"

# a backup's own state is checked as its weights are: a generator stuck at zero (shuffling would
# spin forever), a running mean that is not a number
for k in "rngzero the shuffle generator's state is all zeros" "meansnan kcb_epoch_means: the running mean 0 is \\(nan, 10\\)"; do
  make backup_state "$tmp/state-${k%% *}.weights.h5" "$tmp/c.1.weights.h5" "${k%% *}"
  check "backup_state_${k%% *}" 1 "state-${k%% *}\.weights\.h5: .*${k#* }" -- \
    T "$train" "${small[@]}" --epochs 1 --initial-weights "$tmp/state-${k%% *}.weights.h5"
done
# a store whose groups hard-link into a graph (2^30 paths in a few kilobytes) is refused at once
make hardlink_dag "$tmp/dag.weights.h5" "$tmp/c.1.weights.h5" 30
check hardlink_dag 1 "dag\.weights\.h5: the group '/layers/chain/a/.*/b' was already read under another name" -- \
  T "$inspect" checkpoint "$tmp/dag.weights.h5"
# a legacy .h5 listing a layer of 3,000 bytes: its group is there, but its path is longer than kcb
# reads, which is said (not "has no group", and not cut off by the name); a listed layer that is
# really missing is named, its name cut at 200 bytes
/usr/bin/python3 -c "
import h5py, numpy as np
for path, missing in (('$tmp/longname.h5', False), ('$tmp/longmissing.h5', True)):
    with h5py.File(path, 'w') as f:
        g = f.create_group('model_weights'); name = 'a' * (500 if missing else 3000)
        g.attrs['layer_names'] = [name.encode()]
        if not missing:
            g.create_group(name).attrs['weight_names'] = [b'k']; g[name]['k'] = np.ones(2, 'f4')"
check long_layer_name_path 1 "longname\.h5: the HDF5 path 'a+\.\.\.' is 3000 bytes, more than the [0-9]+ kcb reads" -- T "$inspect" checkpoint "$tmp/longname.h5"
check long_layer_name_missing 1 "longmissing\.h5: layer 'a{200}\.\.\.' is listed in layer_names but has no group" -- T "$inspect" checkpoint "$tmp/longmissing.h5"
# a Keras backup's training_metadata.json cut short: an error, not a silent restart at epoch 1
mkdir -p "$tmp/kmeta"
/usr/bin/python3 -c "
import h5py, shutil
shutil.copyfile('$tmp/c.1.weights.h5', '$tmp/kmeta/latest.weights.h5')
with h5py.File('$tmp/kmeta/latest.weights.h5', 'r+') as f:
    for k in list(f.attrs):
        if k.startswith('kcb_'): del f.attrs[k]"
printf '{"epoch": 2, "bat' > "$tmp/kmeta/training_metadata.json"
check keras_metadata_cut 1 "kmeta/training_metadata\.json: not JSON" -- T "$train" "${small[@]}" --epochs 4 --backup-dir "$tmp/kmeta"
# a backup whose weights were deleted, its position kept: an error naming them, the CSV log's rows
# kept (a silent restart would train the done epochs again and overwrite the log)
T "$train" "${small[@]}" --epochs 2 --backup-dir "$tmp/lost" --csv "$tmp/lost.csv" >/dev/null 2>&1
printf '{"epoch": 2, "batch": 0}' > "$tmp/lost/training_metadata.json"
rm -f "$tmp/lost/completed.json" "$tmp/lost/latest.weights.h5"
cp "$tmp/lost.csv" "$tmp/lost.before"
check backup_weights_missing 1 "lost/latest\.weights\.h5 is missing, but .*training_metadata\.json says .* was to resume in epoch 3" -- \
  T "$train" "${small[@]}" --epochs 4 --backup-dir "$tmp/lost" --csv "$tmp/lost.csv"
check backup_weights_missing_log_kept 0 '^same$' -- sh -c "cmp -s '$tmp/lost.before' '$tmp/lost.csv' && echo same"
# a Keras model saved before its first step (its optimizer: the iteration and rate alone) trains at
# the rate its compile settings hold, as Keras's load_model compiles it; another optimizer does not
T "$train" "${small[@]}" --epochs 1 --lr 0.01 --save "$tmp/fresh.h5" >/dev/null 2>&1
/usr/bin/python3 -c "
import h5py
with h5py.File('$tmp/fresh.h5', 'a') as f:
    g = f['optimizer_weights']; names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs['weight_names']]
    for n in names[2:]: del g[n]
    g.attrs['weight_names'] = [n.encode() for n in names[:2]]"
check fresh_optimizer_rate 0 "note: training at the learning rate 0\.01 of .*fresh\.h5's compile settings" -- \
  T "$train" "${small[@]}" --epochs 1 --initial-weights "$tmp/fresh.h5"
check fresh_optimizer_other_kind 0 "^notes=0$" -- sh -c "n=\$('$train' ${small[*]} --epochs 1 --optimizer sgd \
  --initial-weights '$tmp/fresh.h5' 2>&1 | grep -c 'learning rate 0\.01'); echo notes=\$n"
# a .keras whose config.json holds NaN (as Python writes it): --initial-weights cannot check the
# model against it, and says so instead of skipping the check
T "$train" "${small[@]}" --epochs 1 --save "$tmp/nan-src.keras" >/dev/null 2>&1
make keras_members "$tmp/nan.keras" "$tmp/nan-src.keras" nan_config
check nan_config_initial_weights 1 "nan\.keras: the model config holds NaN or Infinity" -- \
  T "$train" "${small[@]}" --epochs 1 --initial-weights "$tmp/nan.keras"

# an event record claiming more bytes than any file holds, under a correct length CRC: a truncation,
# not a checksum failure
mkdir -p "$tmp/huge"
make huge_length "$tmp/huge/events.out.tfevents.1.a" 18446744073709551615
check huge_record_length 1 "truncated record at offset [0-9]+ \(it claims 18446744073709551615 bytes.*\(KCB_ETRUNC\)" -- \
  T "$inspect" validate "$tmp/huge"

# ---- 5. restored optimizer scalars validated as the setters validate them --------------------------
for e in "iterations ds:optimizer/vars/0=nan:f8" "iterations ds:optimizer/vars/0=-5:i8" "iterations ds:optimizer/vars/0=9223372036854775807:i8" \
  "learning_rate ds:optimizer/vars/1=nan:f4" "learning_rate ds:optimizer/vars/1=-1e30:f4" "learning_rate ds:optimizer/vars/1=inf:f4"; do
  set -- $e
  make patch_h5 "$tmp/opt.weights.h5" "$tmp/c.1.weights.h5" "$2"
  check "restored_${2#ds:optimizer/vars/}" 1 "opt\.weights\.h5: optimizer variable '$1' is .*expected|opt\.weights\.h5: optimizer variable '$1' is .*must be a finite number" -- \
    T "$train" "${small[@]}" --epochs 1 --initial-weights "$tmp/opt.weights.h5"
done
make patch_h5 "$tmp/slot.weights.h5" "$tmp/c.1.weights.h5" ds:optimizer/vars/3=-1:f4
check restored_slot_negative_v 1 "slot\.weights\.h5: optimizer state 'v' \(slot 1\) holds -1 at index 0: expected a finite number >= 0" -- \
  T "$train" "${small[@]}" --epochs 1 --initial-weights "$tmp/slot.weights.h5"
make patch_h5 "$tmp/slot.weights.h5" "$tmp/c.1.weights.h5" ds:optimizer/vars/2=nan:f4
check restored_slot_nan_m 1 "slot\.weights\.h5: optimizer state 'm' \(slot 0\) holds nan at index 0" -- \
  T "$train" "${small[@]}" --epochs 1 --initial-weights "$tmp/slot.weights.h5"
check restored_ok 0 'test_loss=[0-9]' -- T "$train" "${small[@]}" --epochs 1 --initial-weights "$tmp/c.1.weights.h5"

# ---- 8. HDF5 features that reach outside the file: refused for every checkpoint read --------------
mkdir -p "$tmp/out"
for k in external elink soft filter scaleoffset virtual family; do
  f="$tmp/out/$k.weights.h5"
  [ "$k" = family ] && f="$tmp/out/fam0.weights.h5"
  make outside_h5 "$f" "$tmp/c.1.weights.h5" "$k" || { echo "FAIL outside_$k: not made"; failed=$((failed + 1)); continue; }
  case $k in
    external) why="an external file list: data stored in other files, which kcb does not read" ;;
    elink) why="corrupt HDF5 link in the object header at offset [0-9]*: an external link, which would open another file: kcb follows only hard links" ;;
    soft) why="'/layers/dense/vars/0' is a soft or external link" ;;
    filter) why="dataset '/layers/dense/vars/0' uses HDF5 filter 32001, not one built into HDF5" ;;
    scaleoffset) why="filter 0 is HDF5 filter 6 \\(scale-offset\\), which kcb does not read \\(the header of '/layers/dense/vars/0'\\)" ;;
    virtual) why="a virtual dataset \\(mapped from other files\\)" ;;
    family) why="the HDF5 superblock names a file driver" ;;
  esac
  check "outside_${k}_train" 1 "$why" -- T "$train" "${small[@]}" --epochs 1 --initial-weights "$f"
  check "outside_${k}_inspect" 1 "$why" -- T "$inspect" checkpoint "$f"
  check "outside_${k}_restore" 1 "$why" -- T "$restore" --output "$tmp/out/x.weights.h5" "$f"
done
# a model-name attribute that holds no string: only a hint, which Keras never reads
make null_vars_name "$tmp/out/nullname.weights.h5" "$tmp/c.1.weights.h5"
check null_vars_name_inspect 0 "4 weights" -- T "$inspect" checkpoint "$tmp/out/nullname.weights.h5"
check null_vars_name_restore 0 "nullname\.weights\.h5" -- T "$restore" --output "$tmp/out/y.weights.h5" "$tmp/out/nullname.weights.h5"
# the same file packed into a .keras archive: the HDF5 image is read through the same guard
T "$train" "${small[@]}" --epochs 1 --save "$tmp/out/full.keras" >/dev/null 2>&1
/usr/bin/python3 - "$tmp/out/full.keras" "$tmp/out/external.weights.h5" "$tmp/out/ext.keras" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as src, zipfile.ZipFile(sys.argv[3], "w") as z:
    for i in src.infolist():
        if i.filename != "model.weights.h5":
            z.writestr(i.filename, src.read(i.filename))
    z.write(sys.argv[2], "model.weights.h5")
PY
check outside_external_keras 1 "ext\\.keras: unsupported HDF5 external file list in the object header at offset [0-9]*: an external file list" -- \
  T "$train" "${small[@]}" --epochs 1 --initial-weights "$tmp/out/ext.keras"

# ---- 6. errors not swallowed: a CSV log named with --csv gives its own error ---------------------
printf 'epoch,loss,val_loss\n0,1,2\n1,2\n' >"$tmp/ragged.csv"
printf 'epoch,loss\n0,1\n' >"$tmp/nocol.csv"
printf 'epoch,val_loss\n0,"1\n' >"$tmp/openquote.csv"
check restore_csv_ragged 1 "ragged\.csv:3: 2 fields, but the header has 3 columns \(KCB_EFORMAT\)" -- T "$restore" --csv "$tmp/ragged.csv" "$tmp/c.1.weights.h5"
check restore_csv_column 1 "nocol\.csv: no column 'val_loss'" -- T "$restore" --csv "$tmp/nocol.csv" "$tmp/c.1.weights.h5"
check restore_csv_quote 1 "openquote\.csv:[0-9]+: .*quote" -- T "$restore" --csv "$tmp/openquote.csv" "$tmp/c.1.weights.h5"
check restore_csv_missing 1 "none\.csv: cannot open: No such file" -- T "$restore" --csv "$tmp/none.csv" "$tmp/c.1.weights.h5"
check restore_csv_fifo 1 "log\.csv: cannot open: a FIFO" -- T "$restore" --csv "$tmp/fifo/log.csv" "$tmp/c.1.weights.h5"

# ---- 7. appending to a CSV log kcb did not write as expected -----------------------------------------
T "$train" "${small[@]}" --epochs 2 --csv "$tmp/log.csv" >/dev/null 2>&1
head -c -2 "$tmp/log.csv" >"$tmp/noeol.csv" # the last row without its line end
check append_noeol 0 'test_loss=' -- T "$train" "${small[@]}" --epochs 1 --csv "$tmp/noeol.csv" --csv-append
assert append_noeol_rows /usr/bin/python3 -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert len(rows) == 4 and all(len(r) == len(rows[0]) for r in rows), rows
assert [r[0] for r in rows[1:]] == ["0", "1", "0"], rows
float(rows[2][1]); float(rows[3][1])' "$tmp/noeol.csv"
# a log a spreadsheet saved again with a byte order mark first: its header is still this run's
{ printf '\357\273\277'; cat "$tmp/log.csv"; } >"$tmp/bom.csv"
check append_bom 0 'test_loss=' -- T "$train" "${small[@]}" --epochs 1 --csv "$tmp/bom.csv" --csv-append
assert append_bom_rows /usr/bin/python3 -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8-sig")))
assert [r[0] for r in rows] == ["epoch", "0", "1", "0"] and all(len(r) == len(rows[0]) for r in rows), rows' "$tmp/bom.csv"
sed '1s/.*/epoch,loss,val_loss\r/' "$tmp/log.csv" >"$tmp/otherhdr.csv"
sed '1s/,/;/g' "$tmp/log.csv" >"$tmp/othersep.csv"
{ cat "$tmp/log.csv"; printf '2,"0.5'; } >"$tmp/quote.csv"
for f in otherhdr othersep; do
  cp "$tmp/$f.csv" "$tmp/$f.before"
  # another separator is known from the header's start, before any epoch is trained
  why="its header '.*' is not this run's 'epoch,accuracy,loss,val_accuracy,val_loss' \(other columns or another separator\)"
  [ $f = othersep ] && why="its header 'epoch;.*' is not a CSVLogger header with the separator ','"
  check "append_$f" 1 "CSVLogger: cannot append to .*$f\.csv: $why.*; the file is unchanged" -- \
    T "$train" "${small[@]}" --epochs 1 --csv "$tmp/$f.csv" --csv-append
  assert "append_${f}_unchanged" cmp "$tmp/$f.csv" "$tmp/$f.before"
done
cp "$tmp/quote.csv" "$tmp/quote.before"
# a log saved with \r line ends alone (a spreadsheet's "CSV (Macintosh)"): its header is its first
# line, and the rows appended read back with it
printf 'epoch,accuracy,loss,val_accuracy,val_loss\r0,0.5,1.5,0.5,1.5\r' >"$tmp/mac.csv"
check append_cr_only 0 "^3 rows$" -- sh -c "'$train' ${small[*]} --epochs 2 --csv '$tmp/mac.csv' --csv-append >/dev/null 2>&1 && \
  /usr/bin/python3 -c \"import csv; print(len(list(csv.reader(open('$tmp/mac.csv', newline=''))))-1, 'rows')\""
check append_open_quote 1 "CSVLogger: cannot append to .*quote\.csv: it ends inside a quoted field \(an open quote\); the file is unchanged" -- \
  T "$train" "${small[@]}" --epochs 1 --csv "$tmp/quote.csv" --csv-append
assert append_open_quote_unchanged cmp "$tmp/quote.csv" "$tmp/quote.before"
cp "$tmp/log.csv" "$tmp/same.csv"
check append_same 0 'test_loss=' -- T "$train" "${small[@]}" --epochs 1 --csv "$tmp/same.csv" --csv-append
assert append_same_rows test "$(wc -l <"$tmp/same.csv")" -eq 4
check append_sep_matches 0 'test_loss=' -- T "$train" "${small[@]}" --epochs 1 --csv "$tmp/othersep.csv" --csv-append --csv-separator ';'

# ---- 9. file content shown on a terminal: control characters escaped, nothing cut at a NUL ---------
mkdir -p "$tmp/esc" && make escapes "$tmp/esc/events.out.tfevents.1.esc"
no_controls() { ! LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177\233]')" "$out"; }
bad_tag="loss$(printf '\033]0;pwned\007\033[2J\233')"
esc_pat='x1b\]0;pwned\\x07\\x1b\[2J\\x9b'
check escaped_text 0 "$esc_pat" -- T "$inspect" text "$tmp/esc"
check escaped_runs 0 "$esc_pat" -- T "$inspect" runs "$tmp/esc"
check escaped_scalars 0 "$esc_pat" -- T "$inspect" scalars "$tmp/esc" --tag "$bad_tag"
check escaped_diff 0 "$esc_pat" -- T "$inspect" diff "$tmp/esc" "$tmp/esc"
check escaped_text_nul 0 '^  red \\x1b\[31mtext\\x00after the NUL$' -- T "$inspect" text "$tmp/esc"
check escaped_text_lines 0 '^  line 2$' -- T "$inspect" text "$tmp/esc"
T "$inspect" text "$tmp/esc" >"$out" 2>&1; assert escaped_text_raw no_controls
T "$inspect" runs "$tmp/esc" >"$out" 2>&1; assert escaped_runs_raw no_controls
T "$inspect" scalars "$tmp/esc" --tag "$bad_tag" >"$out" 2>&1; assert escaped_scalars_raw no_controls
check escaped_json 0 '"note\\u001b\]0;pwned\\u0007' -- T "$inspect" text "$tmp/esc" --json
# text longer than the tools show whole is cut visibly, at "...", never silently
mkdir -p "$tmp/longtag" && make long_tag "$tmp/longtag/events.out.tfevents.1.long" 6000
long_tag=$(printf 'L%.0s' $(seq 6000))!
check long_tag_whole 0 "L{6000}!  scalar" -- T "$inspect" runs "$tmp/longtag"
check long_tag_marked 0 'L{1000,}\.\.\.  \(1 points\)' -- T "$inspect" scalars "$tmp/longtag" --tag "$long_tag"
# test images of another size than the training images: refused, naming both files
mkdir -p "$tmp/data_other" && make mnist "$tmp/data_other" 4x3
check test_images_other_size 1 't10k-images-idx3-ubyte holds 4x3 images but .*train-images-idx3-ubyte holds 4x4' -- T "$train" "${small[@]}" --data "$tmp/data_other" --epochs 1
# labels that do not match the images in number are said with --train-limit too (only the first
# samples take memory, but each file is read and checked whole)
mkdir -p "$tmp/data_labels" && make mnist "$tmp/data_labels" && /usr/bin/python3 -c "
import sys; sys.path.insert(0, '$here'); import hostile_make as h
h.idx('$tmp/data_labels/train-labels-idx1-ubyte', (39,), [i % 10 for i in range(39)])"
check label_count_with_limit 1 'train-images-idx3-ubyte has 40 images but .*train-labels-idx1-ubyte has 39 labels' -- \
  T "$train" "${small[@]}" --data "$tmp/data_labels" --train-limit 10 --epochs 1
# an image whose size strings are not whole numbers (or too long) has an unknown size, not the
# digits they start with
mkdir -p "$tmp/imgsize/run" && make image_sizes "$tmp/imgsize/run/events.out.tfevents.1.size"
check image_size_unknown 0 "^run +pic +0 +0 +\? +8 +png$" -- T "$inspect" images "$tmp/imgsize"
mkdir -p "$tmp/textshape" && make text_shapes "$tmp/textshape/events.out.tfevents.1.shape"
check text_lying_shape 0 '^  cell3$' -- T "$inspect" text "$tmp/textshape"
# a text tensor of rank 3: TensorBoard's first 2-D slice, under a note, as it shows it
mkdir -p "$tmp/textcube" && make text_rank3 "$tmp/textcube/events.out.tfevents.1.cube"
check text_rank3_note 0 'a text tensor of rank 3: as TensorBoard, only its first 2-D slice' -- T "$inspect" text "$tmp/textcube"
check text_rank3_slice 0 '^  c3 +c4 +c5$' -- T "$inspect" text "$tmp/textcube"
assert text_rank3_slice_only bash -c '! grep -q c6 "$1"' _ "$out"
# a tag that is not UTF-8: the JSON writes its bytes as lone surrogates, which Python turns back into
# the bytes (surrogateescape), so a script can pass the tag on to --tag
mkdir -p "$tmp/latin" && make latin_tag "$tmp/latin/events.out.tfevents.1.latin"
check latin_tag_round_trip 0 '^1\.5$' -- T /usr/bin/python3 -c "
import json, subprocess, sys
d = json.loads(subprocess.run(['$inspect', 'runs', '$tmp/latin', '--json'], capture_output=True, check=True).stdout)
tag = d['runs'][0]['tags'][0]['tag']
assert tag.encode('utf-8', 'surrogateescape') == b'bad\xff\xfe', ascii(tag)
s = json.loads(subprocess.run(['$inspect', 'scalars', '$tmp/latin', '--tag', tag, '--format', 'json'], capture_output=True, check=True).stdout)
print(s['runs']['.'][0][2])"
# diff's change column: a ratio beyond a million percent in powers of ten, with its '%', not cut digits
mkdir -p "$tmp/pctA" "$tmp/pctB" && make scalar_value "$tmp/pctA/events.out.tfevents.1.a" tiny 1e-30 &&
  make scalar_value "$tmp/pctB/events.out.tfevents.1.b" tiny 1
check diff_change_huge 0 '^tiny +1 +1e-30 +1 +1 +1 +\+1e\+32%$' -- T "$inspect" diff "$tmp/pctA" "$tmp/pctB"
# two projector embeddings the projector takes for one tensor ("w" and "w:0"): the second is a problem
mkdir -p "$tmp/projdup" && printf '1\t2\n3\t4\n' >"$tmp/projdup/a.tsv" && cp "$tmp/projdup/a.tsv" "$tmp/projdup/b.tsv" &&
  printf 'embeddings { tensor_name: "w" tensor_path: "a.tsv" }\nembeddings { tensor_name: "w:0" tensor_path: "b.tsv" }\n' \
    >"$tmp/projdup/projector_config.pbtxt"
check projector_same_tensor 1 "problem: the projector takes 'w:0' for the embedding 'w' before it" -- T "$inspect" plugins "$tmp/projdup"
# a histograms-plugin tensor that is no [k,3] table is skipped with a warning naming it, not in silence
mkdir -p "$tmp/histshape" && make histogram_shapes "$tmp/histshape/events.out.tfevents.1.shape"
check histogram_bad_shape 1 "skipped 2 values of the histograms plugin .* tag 'badshape' at step 0, has shape \[2,2\]" -- \
  T "$inspect" histograms "$tmp/histshape"
check histogram_good_kept 1 '^\. +good +1 +4 +0 +1 ' -- T "$inspect" histograms "$tmp/histshape"
cp "$tmp/c.1.weights.h5" "$tmp/esc/$(printf 'w\033[2J').weights.h5"
check escaped_restore_path 0 'w\\x1b\[2J\.weights\.h5' -- T "$restore" "$tmp/esc"
T "$restore" "$tmp/esc" >"$out" 2>&1; assert escaped_restore_raw no_controls

# ---- 10. lenient parsing: binary junk in --config, .keras members twice or missing --------------------
printf 'epochs = 1\n\000\001\002junk\n' >"$tmp/junk.conf"
check config_nul_line 2 "junk\.conf:2 '': binary data: control character 0x00 at column 1" -- T "$train" --config "$tmp/junk.conf"
printf 'epochs = 1\033[2J\n' >"$tmp/esc.conf"
check config_control 2 "esc\.conf:1 '': binary data: control character 0x1b at column 11" -- T "$train" --config "$tmp/esc.conf"
printf 'epochs = 1\r\nverbose = 0\r\n' >"$tmp/crlf.conf"
check config_crlf_ok 0 'test_loss=' -- T "$train" "${small[@]}" --config "$tmp/crlf.conf"
# a quoted value keeps its spaces and '#'; the quotes are not part of it
printf 'epochs = 1  # one\nverbose = 0\ncsv = "%s/q dir #2/log.csv"  # quoted\nmetrics = '"'"'accuracy'"'"'\n' "$tmp" >"$tmp/quoted.conf"
check config_quoted_value 0 '^epoch,' -- sh -c "'$train' ${small[*]} --config '$tmp/quoted.conf' >/dev/null && head -1 '$tmp/q dir #2/log.csv'"
# a quote opened and not closed is an error on its line, not a file named after the quote
printf 'csv = "%s/open #2/log.csv\n' "$tmp" >"$tmp/open-quote.conf"
check config_open_quote 2 "open-quote\.conf:1: --csv '\"[^']*': the value opens a quote but does not close it on its line" -- \
  T "$train" ${small[*]} --config "$tmp/open-quote.conf"
# an apostrophe inside a value is a character, and '#' after it still starts a comment
printf "epochs = 1\nverbose = 0\ncsv = %s/o'brien.csv  # the log\n" "$tmp" >"$tmp/apostrophe.conf"
check config_apostrophe_value 0 '^epoch,' -- sh -c "'$train' ${small[*]} --config '$tmp/apostrophe.conf' >/dev/null && head -1 \"$tmp/o'brien.csv\""
printf '\357\273\277epochs = 1\nverbose = 0\n' >"$tmp/bom.conf" # a UTF-8 byte order mark first
check config_bom_ok 0 'test_loss=' -- T "$train" "${small[@]}" --config "$tmp/bom.conf"
mkdir -p "$tmp/confdir"
printf 'config = inner.conf\n' >"$tmp/confdir/outer.conf" # found beside outer.conf, wherever kcb-train runs
printf 'epochs = 1\nverbose = 0\n' >"$tmp/confdir/inner.conf"
check config_include_relative 0 'test_loss=' -- T "$train" "${small[@]}" --config "$tmp/confdir/outer.conf"
for k in dup noconfig; do
  make keras_members "$tmp/$k.keras" "$tests/data/saving/m.keras" "$k"
done
make keras_members "$tmp/array.keras" "$tmp/nan-src.keras" array_config
check keras_array_config 1 "array\.keras: config\.json is an array in JSON, not an object" -- T "$inspect" checkpoint "$tmp/array.keras"
check keras_array_config_train 1 "array\.keras: the model config is an array in JSON, not an object, so kcb cannot tell" -- \
  T "$train" "${small[@]}" --epochs 1 --initial-weights "$tmp/array.keras"
check keras_dup_config 1 "dup\.keras: the archive has 2 members named 'config\.json'" -- T "$inspect" checkpoint "$tmp/dup.keras"
check keras_dup_config_train 1 "dup\.keras: the archive has 2 members named 'config\.json'" -- \
  T "$train" "${small[@]}" --epochs 1 --initial-weights "$tmp/dup.keras"
check keras_no_config 1 "noconfig\.keras: the \.keras archive has no config\.json" -- T "$inspect" checkpoint "$tmp/noconfig.keras"
check keras_no_config_restore 1 "noconfig\.keras: the \.keras archive has no config\.json" -- T "$restore" "$tmp/noconfig.keras"
# deflate bombs within deflate's ratio: refused by the bound of what the member can need, before allocating
make keras_members "$tmp/lzma.keras" "$tests/data/saving/m.keras" lzma
check keras_lzma_named 1 "lzma\.keras: member '[^']+' is compressed with LZMA \(method 14\), which this build cannot read; re-zip" -- \
  T "$inspect" checkpoint "$tmp/lzma.keras"
# a member that claims more compressed bytes than the whole archive holds: said so
make zip_comp_size "$tmp/compsize.keras" "$tests/data/saving/m.keras"
check keras_comp_size 1 "compsize\.keras: member 'model\.weights\.h5' claims 4294967280 compressed bytes, more than the whole archive's [0-9]+: the archive is cut short" -- \
  T "$inspect" checkpoint "$tmp/compsize.keras"
for k in bomb_weights bomb_config; do make keras_members "$tmp/$k.keras" "$tests/data/saving/m.keras" "$k"; done
check keras_bomb_weights 1 "bomb_weights\.keras: member 'model\.weights\.h5' inflates to 8[0-9]{7} bytes, more than the 6[0-9]{7} bytes the weights .*KCB_MAX_PARAMS" -- \
  env KCB_MAX_PARAMS=1000 timeout 20 "$inspect" checkpoint "$tmp/bomb_weights.keras"
check keras_bomb_config 1 "bomb_config\.keras: member 'config\.json' inflates to 8[0-9]{7} bytes, more than the 67108864 bytes" -- \
  T "$train" "${small[@]}" --epochs 1 --initial-weights "$tmp/bomb_config.keras"

# ---- 11. output names unique: no image overwrites another ---------------------------------------------
mkdir -p "$tmp/img" && make image_names "$tmp/img/events.out.tfevents.1.img"
check images_unique 0 'a_b__3~3\.png' -- T "$inspect" images "$tmp/img" -o "$tmp/imgout"
assert images_three_files test "$(ls "$tmp/imgout" | wc -l)" -eq 3
assert images_contents bash -c 'cd "$1" && [ "$(tail -c 5 a_b__3.png)" = first ] && [ "$(tail -c 6 a_b__3~2.png)" = second ] && [ "$(tail -c 5 a_b__3~3.png)" = third ]' _ "$tmp/imgout"
check images_unique_json 0 '"file": ".*a_b__3~2\.png"' -- T "$inspect" images "$tmp/img" -o "$tmp/imgout2" --json
# tags longer than a file name: cut, with a hash of the whole, so two stay apart and the images after
# them are written too
mkdir -p "$tmp/longimg" && make long_image_tags "$tmp/longimg/events.out.tfevents.1.img"
check images_long_tags 0 'after__1\.png' -- T "$inspect" images "$tmp/longimg" -o "$tmp/longimgout"
assert images_long_tags_four_files test "$(ls "$tmp/longimgout" | wc -l)" -eq 4
assert images_long_tags_names_fit bash -c '! ls "$1" | grep -qE "^.{256,}"' _ "$tmp/longimgout"

# ---- 12. datatype messages checked before libhdf5 decodes them ----------------------------------------
for k in committed noterm outside; do
  make dtype_h5 "$tmp/dt-$k.weights.h5" "$tmp/c.1.weights.h5" "$k"
  case $k in
    committed) why="its datatype is shared \\(a committed datatype elsewhere\\)" ;;
    noterm) why="corrupt HDF5 datatype in the object header at offset [0-9]+: a compound member" ;;
    outside) why="a compound member of 4 bytes at offset 1000 lies outside its 4-byte compound" ;;
  esac
  check "datatype_${k}_train" 1 "dt-$k\\.weights\\.h5: corrupt HDF5 datatype .*$why|dt-$k\\.weights\\.h5: .*$why" -- \
    T "$train" "${small[@]}" --epochs 1 --initial-weights "$tmp/dt-$k.weights.h5"
  check "datatype_${k}_inspect" 1 "$why" -- T "$inspect" checkpoint "$tmp/dt-$k.weights.h5"
done

# a dataset with no data at all, one of 9 dimensions, one of 10^12 values never written: refused by every reader, naming the whole path
# diff --json: a variable not compared (missing in B) has null differences, not NaN (a NaN difference);
# the same numbers stored in another dtype are a difference, named
/usr/bin/python3 -c "
import h5py, shutil
shutil.copyfile('$tmp/c.1.weights.h5', '$tmp/diffed.weights.h5')
with h5py.File('$tmp/diffed.weights.h5', 'r+') as f:
    del f['layers/dense/vars/1']
    k = f['layers/dense/vars/0'][()]
    del f['layers/dense/vars/0']
    f['layers/dense/vars/0'] = k.astype('float64')"
check diff_not_compared_null 0 '"status": "missing in B", "max_abs": null, "rel_l2": null' -- T "$inspect" diff "$tmp/c.1.weights.h5" "$tmp/diffed.weights.h5" --json
check diff_dtype_changed 0 '"status": "dtype changed", "max_abs": 0\.0, "rel_l2": 0\.0, "dtypes": "float32 -> float64"' -- \
  T "$inspect" diff "$tmp/c.1.weights.h5" "$tmp/diffed.weights.h5" --json
# ... and a dtype change is said in the table when the values changed too
/usr/bin/python3 -c "
import h5py
with h5py.File('$tmp/diffed.weights.h5', 'r+') as f:
    k = f['layers/dense/vars/0'][()]
    del f['layers/dense/vars/0']
    f['layers/dense/vars/0'] = k + 1"
check diff_dtype_and_values_changed 0 "dense/kernel +\(changed: float32 -> float64\)" -- T "$inspect" diff "$tmp/c.1.weights.h5" "$tmp/diffed.weights.h5"
for k in null rank9 huge; do
  make dtype_h5 "$tmp/dt-$k.weights.h5" "$tmp/c.1.weights.h5" "$k"
  case $k in
    null) why="dataset '/layers/dense/vars/0' holds no data \\(an empty dataspace" ;;
    rank9) why="dataset '/layers/dense/vars/0' has 9 dimensions; kcb reads at most 8" ;;
    huge) why="dataset '/layers/dense/vars/0' holds 1000000000000 values, more than kcb_max_params\\(\\) = 100000000" ;;
  esac
  check "dataspace_${k}_inspect" 1 "dt-$k\\.weights\\.h5: $why" -- T "$inspect" checkpoint "$tmp/dt-$k.weights.h5"
  check "dataspace_${k}_diff" 1 "$why" -- T "$inspect" diff "$tmp/dt-$k.weights.h5" "$tmp/c.1.weights.h5"
  [ $k = huge ] && why="value.shape=\\(1000000, 1000000\\)" # the loader compares shapes first
  check "dataspace_${k}_train" 1 "$why" -- T "$train" "${small[@]}" --epochs 1 --initial-weights "$tmp/dt-$k.weights.h5"
done

# bfloat16 weights load as Keras loads them (cast on assign): each value is its float32's upper half
make dtype_h5 "$tmp/dt-bf16.weights.h5" "$tmp/c.1.weights.h5" bf16
check bf16_initial_weights 0 'test_loss=' -- T "$train" "${small[@]}" --epochs 0 --initial-weights "$tmp/dt-bf16.weights.h5" --save "$tmp/bf16-out.weights.h5"
check bf16_values 0 '^same$' -- /usr/bin/python3 -c "
import h5py, numpy as np
a = h5py.File('$tmp/dt-bf16.weights.h5')['layers/dense/vars/0'][()].view('<u2').astype('<u4') << 16
b = h5py.File('$tmp/bf16-out.weights.h5')['layers/dense/vars/0'][()]
print('same' if b.dtype == np.float32 and np.array_equal(a.view('<f4'), b) else 'differ')"

# non-finite weights: the statistics are over the finite values, and the counts are said
make dtype_h5 "$tmp/dt-naninf.weights.h5" "$tmp/c.1.weights.h5" naninf
check naninf_warning 0 "warning: .*kernel holds 2 NaN and 3 infinite values" -- T "$inspect" checkpoint "$tmp/dt-naninf.weights.h5"
check naninf_json 0 '"nan_count": 2, "inf_count": 3' -- T "$inspect" checkpoint "$tmp/dt-naninf.weights.h5" --json

make float_fields "$tmp/dt-float.weights.h5" "$tmp/c.1.weights.h5"
check datatype_float_fields 1 "dt-float\.weights\.h5: corrupt HDF5 datatype .*a float type whose exponent \(8 bits at 30\) or mantissa \(23 bits at 0\) lies outside its 32 bits" -- \
  T "$inspect" checkpoint "$tmp/dt-float.weights.h5"

# ---- 13. other tools' files: named for what they are, not "not an HDF5 file" ----------------------------
mkdir -p "$tmp/foreign/saved_model/variables" "$tmp/foreign/tf_ckpts" && /usr/bin/python3 -c "
import io, json, pickle, struct, sys, zipfile
import numpy as np
d = sys.argv[1]
open(d + '/saved_model/saved_model.pb', 'wb').write(b'\\x08\\x01')
with zipfile.ZipFile(d + '/model.pt', 'w') as z:  # torch.save's archive: NAME/data.pkl, NAME/data/0, ...
    z.writestr('model/data.pkl', pickle.dumps({'w': 1}, protocol=2))
    z.writestr('model/version', '3')
open(d + '/old.pt', 'wb').write(pickle.dumps({'w': 1}, protocol=2))
np.save(d + '/w.npy', np.zeros(3, 'float32'))
header = json.dumps({'w': {'dtype': 'F32', 'shape': [3], 'data_offsets': [0, 12]}}).encode()
open(d + '/model.safetensors', 'wb').write(struct.pack('<Q', len(header)) + header + bytes(12))
for name in ('ckpt-5.index', 'ckpt-5.data-00000-of-00001', 'tf_ckpts/ckpt-1.index'):
    open(d + '/' + name, 'wb').write(bytes(48))
open(d + '/tf_ckpts/checkpoint', 'w').write('model_checkpoint_path: \\"ckpt-1\\"\\n')
" "$tmp/foreign" || { echo "FAIL foreign files"; exit 1; }
for case in "saved_model|a TensorFlow SavedModel directory" "saved_model/saved_model.pb|a TensorFlow protocol buffer" \
  "model.pt|a PyTorch checkpoint" "old.pt|a Python pickle" "w.npy|a NumPy .npy array" "model.safetensors|a safetensors file" \
  "ckpt-5|the prefix of a TensorFlow checkpoint" "ckpt-5.index|the index of a TensorFlow checkpoint" \
  "ckpt-5.data-00000-of-00001|a data shard of a TensorFlow checkpoint" "tf_ckpts|a directory of TensorFlow checkpoints"; do
  file=${case%%|*} kind=${case#*|}
  check "foreign_${file//[.\/-]/_}" 1 "foreign/$file: $kind[^;]*, not a Keras checkpoint; kcb reads Keras's" -- \
    T "$inspect" checkpoint "$tmp/foreign/$file"
done
check foreign_restore_dir 1 "skipping .*foreign/saved_model: a TensorFlow SavedModel directory" -- T "$restore" "$tmp/foreign/saved_model"
# the bare path form and the other commands say the same: the checkpoint command takes another
# tool's file; a directory without event files says what it is
check foreign_bare_path 1 "foreign/w\.npy: a NumPy \.npy array, not a Keras checkpoint" -- T "$inspect" "$tmp/foreign/w.npy"
check foreign_diff 1 "foreign/model\.pt: a PyTorch checkpoint" -- T "$inspect" diff "$tests/data/zoo/cnn.h5" "$tmp/foreign/model.pt"
cp "$tests/data/zoo/cnn.h5" "$tmp/foreign/hdf5_named.pb" # the content decides, not the name
check foreign_name_hdf5_content 0 "every variable identical" -- T "$inspect" diff "$tmp/foreign/hdf5_named.pb" "$tests/data/zoo/cnn.h5"
check foreign_diff_first 1 "foreign/w\.npy: a NumPy \.npy array" -- T "$inspect" diff "$tmp/foreign/w.npy" "$tmp/foreign/model.pt"
check foreign_runs_dir 1 "saved_model: no event files .*; it is a TensorFlow SavedModel directory" -- \
  T "$inspect" "$tmp/foreign/saved_model"
check foreign_initial_weights 1 "model\.pt: a PyTorch checkpoint" -- T "$train" "${small[@]}" --epochs 1 --initial-weights "$tmp/foreign/model.pt"
# ... but a Keras file is never taken for one: checkpoints beside TensorFlow's files are found, a
# directory's name says nothing of its files, and a damaged .h5 keeps its own message
zoo=$tests/data/zoo
mkdir -p "$tmp/foreign/mixed" "$tmp/foreign/run.tfevents.d" && cp "$zoo/cnn.weights.h5" "$tmp/foreign/mixed/w-0.3.weights.h5" \
  && cp "$tmp/foreign/tf_ckpts/checkpoint" "$tmp/foreign/tf_ckpts/ckpt-1.index" "$tmp/foreign/mixed/" \
  && cp "$zoo/cnn.h5" "$tmp/foreign/run.tfevents.d/m-0.31.h5" && cp "$zoo/cnn.h5" "$tmp/foreign/model.index" \
  && head -c 20000 "$zoo/cnn.h5" >"$tmp/foreign/run.tfevents.d/cut.h5"
check foreign_mixed_dir_searched 0 "^1 +$tmp/foreign/mixed/w-0\.3\.weights\.h5 " -- T "$restore" "$tmp/foreign/mixed"
check foreign_dir_name_no_kind 0 "^1 +$tmp/foreign/run\.tfevents\.d/m-0\.31\.h5 " -- T "$restore" "$tmp/foreign/run.tfevents.d/m-0.31.h5"
check foreign_damaged_keeps_message 1 "cut\.h5: cannot open the HDF5 file \(corrupt or truncated\)" -- \
  T "$inspect" checkpoint "$tmp/foreign/run.tfevents.d/cut.h5"
check foreign_h5_named_index 1 "^- +$tmp/foreign/model\.index +h5 " -- T "$restore" "$tmp/foreign/model.index"

finish hostile
