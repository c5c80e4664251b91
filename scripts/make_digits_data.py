#!/usr/bin/env python3
"""Writes data/digits/{digits.csv,labels.txt} from the copy of the UCI optical digits test set that
scikit-learn ships (sklearn/datasets/data/digits.csv.gz: 1797 rows, 64 pixels then the label)."""
import gzip
import os
import sys

import sklearn.datasets

src = os.path.join(os.path.dirname(sklearn.datasets.__file__), "data", "digits.csv.gz")
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "digits")
os.makedirs(out, exist_ok=True)
pixels, labels = [], []
with gzip.open(src, "rt") as f:
    for line in f:
        values = line.strip().split(",")
        if len(values) != 65:
            sys.exit(f"{src}: expected 65 values per row, got {len(values)}")
        pixels.append(",".join(str(int(float(v))) for v in values[:64]))
        labels.append(str(int(float(values[64]))))
with open(os.path.join(out, "digits.csv"), "w") as f:
    f.write("\n".join(pixels) + "\n")
with open(os.path.join(out, "labels.txt"), "w") as f:
    f.write("\n".join(labels) + "\n")
print(f"wrote {len(pixels)} samples to {out}")
