#!/usr/bin/python3
"""Writes the expected CSV files of tests/test_csv.c the way Keras 3's CSVLogger writes them:
csv.DictWriter (excel dialect, lineterminator "\r\n") over the sorted keys of the first epoch,
values as Python's str(float), "NA" for a missing key. Independent of kcb; run it to regenerate."""
import csv, math

def keras_csv_logger(path, epochs, separator=",", mode="w", append_header=True):
    with open(path, mode, newline=None) as f:  # Keras opens in text mode; on Linux "\n" stays "\n"
        keys = sorted(epochs[0].keys())
        class D(csv.excel):
            delimiter = separator
        w = csv.DictWriter(f, fieldnames=["epoch"] + keys, dialect=D)
        if append_header:
            w.writeheader()
        for e, logs in enumerate(epochs):
            row = {"epoch": e}
            row.update((k, logs.get(k, "NA")) for k in keys)
            w.writerow(row)

BASIC = [
    {"accuracy": 0.5, "loss": 1 / 3, "val_accuracy": 0.1, "val_loss": 0.10000000149011612},
    {"accuracy": 1e-07, "loss": math.nan, "val_loss": math.inf, "zzz": 1.0},
    {"accuracy": 123456789.0, "loss": 2.5e16, "val_accuracy": -0.0, "val_loss": 0.001},
]
keras_csv_logger("basic.csv", BASIC)
keras_csv_logger("append.csv", BASIC)
keras_csv_logger("append.csv", BASIC[:2], mode="a", append_header=False)
keras_csv_logger("separator.csv", [{"a;b": 0.25, 'q"x': 0.75}, {"a;b": -1.5}], separator=";")
