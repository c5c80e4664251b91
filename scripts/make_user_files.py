#!/usr/bin/env python3
"""Writes tests/data/user: matrices saved the way users save them (pandas to_csv in its common
forms, numpy.savetxt, integer / bool / Fortran-order .npy, np.savez archives), and expected.json with the matrix each
must read as, its column names and whether an index column is dropped. Rerun:
python3 scripts/make_user_files.py (needs numpy and pandas)."""
import gzip
import io
import json
import os

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
D = os.path.join(HERE, "..", "tests", "data", "user")
os.makedirs(D, exist_ok=True)
rng = np.random.default_rng(7)
X = np.round(rng.normal(size=(6, 3)), 6)
y = np.round(rng.normal(size=6), 6)
names = ["age", "bmi", "bp"]
expected = {}


def record(name, matrix, columns=None, dropped_index=False):
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim == 1:
        m = m.reshape(-1, 1)
    expected[name] = {"rows": int(m.shape[0]), "cols": int(m.shape[1]), "values": m.ravel().tolist(),
                      "names": columns or [], "dropped_index": dropped_index}


pd.DataFrame(X).to_csv(os.path.join(D, "pandas_frame.csv"))  # ",0,1,2" over an index column
record("pandas_frame.csv", X, ["0", "1", "2"], True)
pd.DataFrame(X, columns=names).to_csv(os.path.join(D, "pandas_named.csv"))
record("pandas_named.csv", X, names, True)
pd.DataFrame(X).to_csv(os.path.join(D, "pandas_noindex.csv"), index=False)  # "0,1,2"
record("pandas_noindex.csv", X, ["0", "1", "2"])
pd.DataFrame(X, columns=names).to_csv(os.path.join(D, "pandas_semicolon.csv"), sep=";", index=False)
record("pandas_semicolon.csv", X, names)
pd.DataFrame(X, columns=names).to_csv(os.path.join(D, "pandas_tab.csv"), sep="\t")
record("pandas_tab.csv", X, names, True)
pd.Series(y).to_csv(os.path.join(D, "pandas_series.csv"))  # ",0" over an index
record("pandas_series.csv", y, ["0"], True)
pd.Series(y, name="target").to_csv(os.path.join(D, "pandas_series_named.csv"))
record("pandas_series_named.csv", y, ["target"], True)
# An index that is not 0..n-1 (rows filtered before saving).
pd.DataFrame(X, columns=names, index=[3, 5, 8, 9, 12, 20]).to_csv(os.path.join(D, "pandas_filtered.csv"))
record("pandas_filtered.csv", X, names, True)
np.savetxt(os.path.join(D, "savetxt_comma.csv"), X, delimiter=",")
record("savetxt_comma.csv", X)
np.savetxt(os.path.join(D, "savetxt_space.csv"), X, delimiter=" ")
record("savetxt_space.csv", X)
with open(os.path.join(D, "crlf_quoted.csv"), "w", newline="") as f:
    f.write('"age","b,mi","bp"\r\n' + "".join(",".join(repr(float(v)) for v in row) + "\r\n" for row in X))
record("crlf_quoted.csv", X, ["age", "b,mi", "bp"])

ints = rng.integers(-1000, 1000, size=(4, 3))
for dtype in ["int64", "int32", "int16", "int8", "uint8", "uint32"]:
    a = np.abs(ints).astype(dtype) if dtype.startswith("u") else ints.astype(dtype)
    np.save(os.path.join(D, f"{dtype}.npy"), a if dtype != "int8" else (ints % 100).astype(dtype))
    record(f"{dtype}.npy", a if dtype != "int8" else (ints % 100).astype(dtype))
mask = ints > 0
np.save(os.path.join(D, "bool.npy"), mask)
record("bool.npy", mask)
np.save(os.path.join(D, "float32_fortran.npy"), np.asfortranarray(X.astype(np.float32)))
record("float32_fortran.npy", X.astype(np.float32))
np.save(os.path.join(D, "big_endian.npy"), X.astype(">f8"))
record("big_endian.npy", X)

# SciPy's sparse .npz in each format it writes, compressed (the default) and not.
import scipy.sparse as sp

S = sp.random(7, 5, density=0.4, random_state=3, format="csr")
S.data = np.round(S.data, 6)
sp.save_npz(os.path.join(D, "scipy_csr.npz"), S)
record("scipy_csr.npz", S.toarray())
sp.save_npz(os.path.join(D, "scipy_csc_stored.npz"), S.tocsc(), compressed=False)
record("scipy_csc_stored.npz", S.toarray())
sp.save_npz(os.path.join(D, "scipy_coo.npz"), S.tocoo())
record("scipy_coo.npz", S.toarray())
wide = S.copy()
wide.indices = wide.indices.astype(np.int64)
wide.indptr = wide.indptr.astype(np.int64)
sp.save_npz(os.path.join(D, "scipy_csr_int64.npz"), wide)
record("scipy_csr_int64.npz", S.toarray())

# NumPy's own .npz (dense arrays under their names): one array, X beside y, compressed.
np.savez(os.path.join(D, "numpy_one.npz"), X)  # saved as arr_0
record("numpy_one.npz", X)
np.savez(os.path.join(D, "numpy_xy.npz"), X=X, y=y)
record("numpy_xy.npz", X)
np.savez_compressed(os.path.join(D, "numpy_xy_compressed.npz"), y=y, X=X.astype(np.float32))
record("numpy_xy_compressed.npz", X.astype(np.float32))
np.savez(os.path.join(D, "numpy_unnamed.npz"), X, y)  # arr_0, arr_1: which is X is not known

# float16 (read exactly: every float16 is a float32), and a frame that keeps its response as a column
# (`shrink lasso FILE --y-column target`).
np.save(os.path.join(D, "float16.npy"), X.astype(np.float16))
record("float16.npy", X.astype(np.float16))
frame = pd.DataFrame(X, columns=names)
frame["target"] = y
frame.to_csv(os.path.join(D, "pandas_with_target.csv"))
record("pandas_with_target.csv", frame.to_numpy(), names + ["target"], True)

# gzip-compressed, as pandas (compression inferred from .gz), np.savetxt and the gzip module write
# them; the .mtx in two gzip members (as pigz or cat a.gz b.gz leave it).
frame.to_csv(os.path.join(D, "pandas_with_target.csv.gz"), compression={"method": "gzip", "mtime": 0})
record("pandas_with_target.csv.gz", frame.to_numpy(), names + ["target"], True)
saved = io.BytesIO()
np.savetxt(saved, X)
with open(os.path.join(D, "savetxt_space.txt.gz"), "wb") as f:
    f.write(gzip.compress(saved.getvalue(), mtime=0))
record("savetxt_space.txt.gz", X)
with gzip.GzipFile(os.path.join(D, "float64.npy.gz"), "wb", mtime=0) as f:
    np.save(f, X)
record("float64.npy.gz", X)
import scipy.io  # noqa: E402

text = io.BytesIO()
scipy.io.mmwrite(text, sp.coo_matrix(X))
raw = text.getvalue()
half = len(raw) // 2
with open(os.path.join(D, "two_members.mtx.gz"), "wb") as f:
    f.write(gzip.compress(raw[:half], mtime=0) + gzip.compress(raw[half:], mtime=0))
record("two_members.mtx.gz", X)

with open(os.path.join(D, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1)
print(f"wrote {len(expected)} files to {D}")
