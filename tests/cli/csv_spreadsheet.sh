#!/usr/bin/env bash
# csv_spreadsheet.sh — a CSV written by kcb-train's CSVLogger imports into spreadsheets: Python's csv
# module parses it with the right cells, and LibreOffice converts it to xlsx whose cells hold the
# same numbers (csv_cells.py reads both). Exit 77 (ctest: skipped) without the data or LibreOffice.
# Usage: tests/cli/csv_spreadsheet.sh PATH_TO_KCB_TRAIN
set -eu
train=${1:?usage: csv_spreadsheet.sh KCB_TRAIN}
here=$(cd "$(dirname "$0")" && pwd)
data=/usr/share/datasets/fashion-mnist
if [ ! -d "$data" ]; then
  echo "csv_spreadsheet: SKIP ($data is missing; install dataset-fashion-mnist)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$train" --train-limit 600 --epochs 3 --verbose 0 --batch-size 64 --model flatten,16:relu,10:softmax \
  --reduce-lr-on-plateau --lr-patience 1 --factor 0.5 --csv "$tmp/log.csv" >"$tmp/out" 2>&1 ||
  { echo "csv_spreadsheet: kcb-train failed:"; cat "$tmp/out"; exit 1; }
/usr/bin/python3 "$here/csv_cells.py" csv "$tmp/log.csv"
# the file with the edge cases (NA, nan, inf, -0.0, 1e-07, 2.5e+16) that test_csv checks kcb writes
cp "$here/../data/builtin_callbacks/basic.csv" "$tmp/basic.csv"
/usr/bin/python3 "$here/csv_cells.py" csv "$tmp/basic.csv"

soffice=$(command -v soffice || command -v libreoffice || true)
if [ -z "$soffice" ]; then
  echo "csv_spreadsheet: SKIP the xlsx check (no soffice; install libreoffice-calc-nogui)"
  exit 77
fi
# to_xlsx NAME: converts $tmp/NAME.csv and checks the cells. LibreOffice needs a writable HOME and
# profile; the CSV filter options: separator ',' (44), quote '"' (34), UTF-8 (76), from line 1.
to_xlsx() {
  HOME=$tmp/home timeout 180 "$soffice" --headless --norestore "-env:UserInstallation=file://$tmp/profile" \
    --infilter="CSV:44,34,76,1" --convert-to xlsx --outdir "$tmp" "$tmp/$1.csv" >"$tmp/lo.out" 2>&1 ||
    { echo "csv_spreadsheet: LibreOffice failed:"; cat "$tmp/lo.out"; exit 1; }
  [ -s "$tmp/$1.xlsx" ] || { echo "csv_spreadsheet: no xlsx written:"; cat "$tmp/lo.out"; exit 1; }
  /usr/bin/python3 "$here/csv_cells.py" xlsx "$tmp/$1.csv" "$tmp/$1.xlsx"
}
to_xlsx log
to_xlsx basic
echo "csv_spreadsheet: ok"
