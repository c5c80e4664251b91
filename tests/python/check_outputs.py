#!/usr/bin/env python3
"""The program's outputs as NumPy, SciPy and pandas users load them: .npy with np.load, .npz with
scipy.sparse.load_npz, .csv with pandas.read_csv (every CSV has a header row; numpy.loadtxt skips
it), .txt with numpy.loadtxt, each equal to the Matrix Market source read by scipy.io.mmread. Run by ctest with the shrink program's
path; exits 77 (skipped) when NumPy, SciPy or pandas is missing."""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import pandas as pd
    import scipy.io
    import scipy.sparse
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)

shrink = sys.argv[1]
golden = sys.argv[2]
with tempfile.TemporaryDirectory() as d:
    src = os.path.join(golden, "general.mtx")
    want = scipy.io.mmread(src).toarray()

    def convert(ext):
        out = os.path.join(d, "m" + ext)
        subprocess.run([shrink, "convert", src, out], check=True, stdout=subprocess.DEVNULL)
        return out

    assert np.array_equal(np.load(convert(".npy")), want), ".npy differs"
    s = scipy.sparse.load_npz(convert(".npz"))
    assert s.format == "csr" and np.array_equal(s.toarray(), want), ".npz differs"
    csv = convert(".csv")
    assert np.array_equal(pd.read_csv(csv).to_numpy(), want), ".csv differs in pandas"
    assert np.array_equal(np.loadtxt(csv, delimiter=",", ndmin=2, skiprows=1), want), ".csv differs in NumPy"
    assert np.array_equal(np.loadtxt(convert(".txt"), ndmin=2), want), ".txt differs"
    # A pandas frame written by pandas, read by shrink, written back as CSV, read by pandas.
    frame = pd.DataFrame(want, columns=[f"c{j}" for j in range(want.shape[1])])
    frame.to_csv(os.path.join(d, "frame.csv"))
    subprocess.run([shrink, "convert", os.path.join(d, "frame.csv"), os.path.join(d, "back.csv")], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    back = pd.read_csv(os.path.join(d, "back.csv"))
    assert list(back.columns) == list(frame.columns), f"names {list(back.columns)}"
    assert np.array_equal(back.to_numpy(), want), "pandas round trip differs"
    # pandas' decimal commas (to_csv(sep=";", decimal=","), as many locales' spreadsheets write):
    # read as the same numbers, with and without the index (a one-column y under its name: below).
    for sep, index in ((";", True), ("\t", False), (",", False)):
        path = os.path.join(d, "comma.csv")
        frame.to_csv(path, sep=sep, decimal=",", index=index)
        subprocess.run([shrink, "convert", path, os.path.join(d, "back.npy")], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert np.array_equal(np.load(os.path.join(d, "back.npy")), want), f"decimal commas, sep {sep!r}"
    # Lasso coefficients to .npy and .npz.
    x = np.random.default_rng(1).normal(size=(50, 7))
    y = x @ np.arange(7.0) + 0.1
    np.save(os.path.join(d, "x.npy"), x)
    np.savetxt(os.path.join(d, "y.txt"), y)
    for ext in (".npy", ".npz", ".csv"):
        out = os.path.join(d, "coef" + ext)
        subprocess.run([shrink, "lasso", os.path.join(d, "x.npy"), os.path.join(d, "y.txt"), "--n-lambdas", "5",
                        "--out", out], check=True, stdout=subprocess.DEVNULL)
        if ext == ".csv":  # one named column per lambda: pandas takes no coefficient for a name
            frame = pd.read_csv(out)
            assert list(frame.columns) == [f"lambda_{k}" for k in range(5)], f"names {list(frame.columns)}"
            coef = frame.to_numpy()
        else:
            coef = np.load(out) if ext == ".npy" else scipy.sparse.load_npz(out).toarray()
        assert coef.shape == (7, 5), f"{ext}: shape {coef.shape}"
    # A predict's CSV: one column named prediction, a value for each row of X.
    subprocess.run([shrink, "lasso", os.path.join(d, "x.npy"), os.path.join(d, "y.txt"), "--n-lambdas", "5",
                    "--save-model", os.path.join(d, "m.json")], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([shrink, "predict", os.path.join(d, "m.json"), os.path.join(d, "x.npy"), "--out",
                    os.path.join(d, "p.csv")], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pred = pd.read_csv(os.path.join(d, "p.csv"))
    assert list(pred.columns) == ["prediction"] and len(pred) == 50, f"predictions {pred.shape}"
    # The same fit from X and y that pandas wrote with decimal commas: the same coefficients.
    pd.DataFrame(x).to_csv(os.path.join(d, "xc.csv"), sep=";", decimal=",", index=False)
    pd.Series(y, name="y").to_csv(os.path.join(d, "yc.csv"), sep=";", decimal=",", index=False)
    for xf, yf, out in (("x.npy", "y.txt", "c1.npy"), ("xc.csv", "yc.csv", "c2.npy")):
        subprocess.run([shrink, "lasso", os.path.join(d, xf), os.path.join(d, yf), "--n-lambdas", "5", "--out",
                        os.path.join(d, out)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert np.allclose(np.load(os.path.join(d, "c1.npy")), np.load(os.path.join(d, "c2.npy")), rtol=1e-9, atol=1e-12), \
        "decimal-comma X, y fit differently"
print("ok: .npy, .npz, .csv, .txt load in NumPy, SciPy and pandas; pandas' decimal-comma CSVs are read")
