#!/usr/bin/python3
"""csv_cells.py — checks a CSV written by kcb's CSVLogger with independent readers.

  csv_cells.py csv LOG.csv            Python's csv module: "\\r\\n" line ends, header "epoch" then
                                      sorted names, epoch 0-based, every other cell "NA" or the
                                      shortest text of its double (repr(float(cell)) == cell)
  csv_cells.py xlsx LOG.csv LOG.xlsx  the xlsx LibreOffice made of it (a zip of XML, read with
                                      zipfile + ElementTree) holds the same cells: names as text,
                                      numbers equal to the CSV's doubles (to the 15
                                      significant digits LibreOffice writes)
"""
import csv, math, re, sys, zipfile
import xml.etree.ElementTree as ET


def fail(msg):
    print(f"csv_cells: FAIL: {msg}")
    sys.exit(1)


def read_csv(path):
    raw = open(path, "rb").read()
    if not raw.endswith(b"\r\n") or raw.count(b"\n") != raw.count(b"\r\n"):
        fail(f"{path}: lines must end with \\r\\n")
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if len(rows) < 2:
        fail(f"{path}: {len(rows)} rows")
    return rows


def check_csv(path):
    rows = read_csv(path)
    header = rows[0]
    if header[0] != "epoch" or header[1:] != sorted(header[1:]):
        fail(f"header {header}: expected 'epoch' then sorted names")
    for i, row in enumerate(rows[1:]):
        if len(row) != len(header):
            fail(f"row {i}: {len(row)} cells for {len(header)} columns")
        if row[0] != str(i):
            fail(f"row {i}: epoch cell '{row[0]}'")
        for name, cell in zip(header[1:], row[1:]):
            if cell == "NA":
                continue
            if repr(float(cell)) != cell:
                fail(f"row {i} {name}: '{cell}' is not Python's shortest text of its value")
    print(f"csv_cells: {path}: {len(rows) - 1} rows x {len(header)} columns ok: {header}")
    return rows


NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def col_index(ref):
    letters = re.match(r"[A-Z]+", ref).group(0)
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1, int(ref[len(letters):]) - 1


def check_xlsx(csv_path, xlsx_path):
    rows = read_csv(csv_path)
    with zipfile.ZipFile(xlsx_path) as z:
        names = z.namelist()
        shared = []
        if "xl/sharedStrings.xml" in names:
            for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", NS):
                shared.append("".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")))
        sheet = ET.fromstring(z.read("xl/worksheets/sheet1.xml"))
    cells = {}
    for c in sheet.iter(f"{{{NS['m']}}}c"):
        v = c.find("m:v", NS)
        if v is None:
            continue
        t = c.get("t", "n")
        cells[col_index(c.get("r"))] = shared[int(v.text)] if t == "s" else (v.text if t == "str" else float(v.text))
    checked = 0
    for r, row in enumerate(rows):
        for k, text in enumerate(row):
            got = cells.get((k, r))
            # spreadsheets have no NaN or infinity: those cells stay text, as "NA" does
            if r == 0 or text in ("NA", "nan", "inf", "-inf"):
                if got != text:
                    fail(f"cell ({r},{k}): {got!r}, expected the text {text!r}")
            else:
                want = float(text)
                # LibreOffice writes xlsx numbers with 15 significant digits (its own limit, not the
                # CSV's: the CSV text round-trips exactly, checked above), so compare to that.
                if not isinstance(got, float) or not abs(got - want) <= 1e-14 * abs(want):
                    fail(f"cell ({r},{k}): {got!r}, expected the number {text}")
            checked += 1
    print(f"csv_cells: {xlsx_path}: {checked} cells match the CSV")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "csv":
        check_csv(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "xlsx":
        check_xlsx(sys.argv[2], sys.argv[3])
    else:
        print(__doc__)
        sys.exit(2)
