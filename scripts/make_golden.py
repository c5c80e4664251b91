#!/usr/bin/env python3
"""Writes the golden I/O fixtures in tests/data/golden with SciPy/NumPy (independent readers and
writers), and golden.json with what the C++ tests must read back from each file.

Rerun after changing the fixtures:  python3 scripts/make_golden.py
Needs python3-scipy and python3-numpy (Debian) or scipy/numpy from PyPI."""
import json
import os

import numpy as np
import scipy.io
import scipy.sparse as sp

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "data", "golden")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(20261122)
golden = {}


def record(name, dense, extra=None):
    dense = np.asarray(dense, dtype=np.float64)
    entry = {
        "rows": int(dense.shape[0]),
        "cols": int(dense.shape[1]),
        "nnz": int(np.count_nonzero(dense)),
        "sum": float(dense.sum()),
        "sum_sq": float((dense * dense).sum()),
        "first_row": [float(v) for v in dense[0, : min(5, dense.shape[1])]] if dense.shape[0] else [],
        # Every non-zero, row-major: the C++ readers must reproduce the whole matrix, not a summary.
        "entries": [[int(r), int(c), float(dense[r, c])] for r, c in zip(*np.nonzero(dense))],
    }
    if extra:
        entry.update(extra)
    golden[name] = entry


# General real coordinate matrix, and its product with x_j = (j+1)/cols.
a = sp.random(40, 30, density=0.15, random_state=1, format="csr") * 10 - sp.random(40, 30, density=0.05, random_state=2, format="csr")
a = sp.csr_matrix(a)
a.sum_duplicates()
scipy.io.mmwrite(os.path.join(OUT, "general.mtx"), a, comment="golden general", precision=17)
x = (np.arange(a.shape[1]) + 1.0) / a.shape[1]
record("general.mtx", a.toarray(), {"y_for_x_ramp": [float(v) for v in a @ x]})

# Symmetric and skew-symmetric (lower triangle stored), pattern, integer.
s = sp.random(25, 25, density=0.2, random_state=3)
s = sp.csr_matrix(s + s.T)
scipy.io.mmwrite(os.path.join(OUT, "symmetric.mtx"), s, symmetry="symmetric", precision=17)
record("symmetric.mtx", s.toarray())
k = sp.tril(sp.random(20, 20, density=0.3, random_state=4), k=-1)
k = sp.csr_matrix(k - k.T)
scipy.io.mmwrite(os.path.join(OUT, "skew.mtx"), k, symmetry="skew-symmetric", precision=17)
record("skew.mtx", k.toarray())
p = sp.random(15, 12, density=0.25, random_state=5, format="csr")
p.data[:] = 1.0
scipy.io.mmwrite(os.path.join(OUT, "pattern.mtx"), p, field="pattern")
record("pattern.mtx", p.toarray())
i = sp.random(10, 10, density=0.3, random_state=6, format="csr")
i.data = np.round(i.data * 100) - 50
i.eliminate_zeros()
scipy.io.mmwrite(os.path.join(OUT, "integer.mtx"), i, field="integer")
record("integer.mtx", i.toarray())

# Dense array format (column-major in the file).
d = rng.standard_normal((7, 4))
scipy.io.mmwrite(os.path.join(OUT, "array.mtx"), d, precision=17)
record("array.mtx", d)

# .npy: C order f8 (v1), Fortran f4 (v2), big-endian f8 (v3), 1-D vector.
c = rng.standard_normal((6, 5))
np.save(os.path.join(OUT, "c_f8_v1.npy"), c)
record("c_f8_v1.npy", c)
f = np.asfortranarray(rng.standard_normal((5, 3)).astype(np.float32))
with open(os.path.join(OUT, "fortran_f4_v2.npy"), "wb") as fh:
    np.lib.format.write_array(fh, f, version=(2, 0))
record("fortran_f4_v2.npy", f)
b = rng.standard_normal((3, 4)).astype(">f8")
with open(os.path.join(OUT, "bigendian_f8_v3.npy"), "wb") as fh:
    np.lib.format.write_array(fh, b, version=(3, 0))
record("bigendian_f8_v3.npy", b)
v = rng.standard_normal(9)
np.save(os.path.join(OUT, "vector.npy"), v)
record("vector.npy", v.reshape(-1, 1))

# svmlight, zero-based, with qid and comments (written by hand: no sklearn needed).
sv = sp.random(8, 6, density=0.4, random_state=7, format="csr")
labels = np.arange(8) % 3 - 1.0
with open(os.path.join(OUT, "zero_based.svm"), "w") as fh:
    fh.write("# a comment line\n")
    for r in range(sv.shape[0]):
        lo, hi = sv.indptr[r], sv.indptr[r + 1]
        # float(): under NumPy 2 the repr of a NumPy scalar is "np.float64(...)", not a number.
        feats = " ".join(f"{int(j)}:{float(val)!r}" for j, val in zip(sv.indices[lo:hi], sv.data[lo:hi]))
        fh.write(f"{float(labels[r])!r} qid:{r // 4} {feats} # sample {r}\n")
dense_sv = sv.toarray()
if not (sv.indices == 0).any():
    raise SystemExit("fixture must use index 0 to be detected as zero-based")
# Columns are max index + 1.
used = int(sv.indices.max()) + 1
record("zero_based.svm", dense_sv[:, :used], {"labels": [float(l) for l in labels]})

# CSV with a header.
csv = rng.standard_normal((4, 3))
with open(os.path.join(OUT, "header.csv"), "w") as fh:
    fh.write('"a","b","c"\n')
    for row in csv:
        fh.write(",".join(repr(float(val)) for val in row) + "\n")
record("header.csv", csv, {"header": ["a", "b", "c"]})

with open(os.path.join(OUT, "golden.json"), "w") as fh:
    json.dump(golden, fh, indent=1, sort_keys=True)
print(f"wrote {len(golden)} fixtures to {os.path.normpath(OUT)}")
