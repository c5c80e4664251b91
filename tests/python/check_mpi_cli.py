"""`mpirun -np 2 shrink lasso` gives the same coefficients file as `shrink lasso`, to the certificate.

usage: check_mpi_cli.py SHRINK MPIEXEC RANKS
Each input format is tried (CSV written by pandas with its index, C- and Fortran-order .npy,
svmlight, Matrix Market); the ranks' JSON must report `ranks` and `row_ranges` that tile the rows.
A file with a bad row fails with the same exit code under mpirun as alone. Exit 77 (skip) without
NumPy or SciPy.
"""
import gzip
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import scipy.io
    import scipy.sparse as sp
except ImportError:
    sys.exit(77)


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def main():
    shrink, mpiexec, ranks = sys.argv[1], sys.argv[2], sys.argv[3]
    rng = np.random.default_rng(5)
    n, p = 501, 12
    x = rng.standard_normal((n, p))
    x[rng.random((n, p)) < 0.3] = 0
    y = x[:, :4] @ np.array([1.5, -2.0, 1.0, 0.5]) + 0.2 * rng.standard_normal(n) + 3
    failures = []
    with tempfile.TemporaryDirectory() as d:
        f = lambda name: os.path.join(d, name)
        np.savetxt(f("y.txt"), y)
        np.save(f("x.npy"), x)
        np.save(f("xf.npy"), np.asfortranarray(x))
        scipy.io.mmwrite(f("x.mtx"), sp.csr_matrix(x))
        with open(f("x.csv"), "w") as out:  # as pandas writes a frame: an unnamed index column
            out.write("," + ",".join(f"c{j}" for j in range(p)) + "\n")
            for i in range(n):
                out.write(str(i) + "," + ",".join(repr(float(v)) for v in x[i]) + "\n")
        with open(f("x.svm"), "w") as out:
            for i in range(n):
                out.write(repr(float(y[i])) + " " + " ".join(f"{j + 1}:{float(x[i, j])!r}" for j in range(p) if x[i, j] != 0) + "\n")
        # y kept as a column of X (--y-column): by header name in a CSV, by index in the others.
        xy = np.insert(x, 5, y, axis=1)
        with open(f("xy.csv"), "w") as out:
            names = [f"c{j}" for j in range(5)] + ["target"] + [f"c{j}" for j in range(5, p)]
            out.write(",".join(names) + "\n")
            for i in range(n):
                out.write(",".join(repr(float(v)) for v in xy[i]) + "\n")
        with open(f("xy.csv"), "rb") as plain, gzip.open(f("xy.csv.gz"), "wb") as packed:
            packed.write(plain.read())
        np.save(f("xy.npy"), xy)
        scipy.io.mmwrite(f("xy.mtx"), sp.csr_matrix(xy))
        inputs = {name: [] if name.endswith(".svm") else [f("y.txt")] for name in ["x.csv", "x.npy", "xf.npy", "x.svm", "x.mtx"]}
        inputs.update({"xy.csv": ["--y-column", "target"], "xy.csv.gz": ["--y-column", "target"],
                       "xy.npy": ["--y-column", "5"], "xy.mtx": ["--y-column", "-8"]})
        objectives = {}
        for name, response in inputs.items():
            for solver in ["auto", "ws-gram"]:
                args = [f(name)] + response
                args += ["--tol", "1e-10", "--solver", solver, "--json"]
                c1, o1, e1 = run([shrink, "lasso"] + args + ["--out", f("one.mtx")])
                cn, on, en = run([mpiexec, "-n", ranks, shrink, "lasso"] + args + ["--out", f("many.mtx")])
                what = f"{name} {solver}"
                if c1 != 0 or cn != 0:
                    failures.append(f"{what}: exit {c1} alone, {cn} under mpiexec: {e1} {en}")
                    continue
                a, b = json.loads(o1), json.loads(on)
                objectives[(name, solver)] = a["objective"]
                if b.get("ranks") != int(ranks):
                    failures.append(f"{what}: ranks {b.get('ranks')}")
                ranges = b.get("row_ranges", [])
                if not ranges or ranges[0][0] != 0 or ranges[-1][1] != n or any(
                        r[1] != s[0] for r, s in zip(ranges, ranges[1:])):
                    failures.append(f"{what}: row_ranges {ranges} do not tile [0, {n})")
                for l, (u, v) in enumerate(zip(a["objective"], b["objective"])):
                    if abs(u - v) > 1e-9 * abs(u):
                        failures.append(f"{what}: objective {l}: {u} alone, {v} under mpiexec")
                        break
                c_one = scipy.io.mmread(f("one.mtx")).toarray()
                c_many = scipy.io.mmread(f("many.mtx")).toarray()
                # Both certified to a relative gap of 1e-10: coefficients within sqrt-of-gap terms.
                if c_one.shape != c_many.shape or np.abs(c_one - c_many).max() > 1e-6:
                    failures.append(f"{what}: coefficients differ by {np.abs(c_one - c_many).max()}")
        for name in ["xy.csv", "xy.csv.gz", "xy.npy", "xy.mtx"]:  # the same fit as X and y in two files
            u, v = objectives.get((name, "auto")), objectives.get(("x.npy", "auto"))
            if u is None or v is None or any(abs(s - t) > 1e-9 * abs(t) for s, t in zip(u, v)):
                failures.append(f"{name} --y-column: objectives differ from x.npy with y.txt")
        # Cross-validation: the same folds, errors and choice.
        args = [f("x.npy"), f("y.txt"), "--cv", "3", "--tol", "1e-10", "--json"]
        c1, o1, e1 = run([shrink, "lasso"] + args)
        cn, on, en = run([mpiexec, "-n", ranks, shrink, "lasso"] + args)
        if c1 != 0 or cn != 0:
            failures.append(f"cv: exit {c1} alone, {cn} under mpiexec: {e1} {en}")
        else:
            a, b = json.loads(o1), json.loads(on)
            if a["index_min"] != b["index_min"] or max(
                    abs(u - v) / u for u, v in zip(a["cv_mean"], b["cv_mean"])) > 1e-6:
                failures.append(f"cv: index_min {a['index_min']} alone, {b['index_min']} under mpiexec")
        # A batch (Y with several columns): the problems are split, the answers equal.
        np.savetxt(f("Y.txt"), np.column_stack([y, 2 * y - 1, -y]))
        args = [f("x.npy"), f("Y.txt"), "--lambda", "0.05", "--json"]
        c1, o1, e1 = run([shrink, "lasso"] + args + ["--out", f("one.mtx")])
        cn, on, en = run([mpiexec, "-n", ranks, shrink, "lasso"] + args + ["--out", f("many.mtx")])
        if c1 != 0 or cn != 0:
            failures.append(f"batch: exit {c1} alone, {cn} under mpiexec: {e1} {en}")
        else:
            a, b = json.loads(o1), json.loads(on)
            if b.get("ranks") != int(ranks) or len(b.get("problem_ranges", [])) != int(ranks):
                failures.append(f"batch: ranks {b.get('ranks')}, problem_ranges {b.get('problem_ranges')}")
            diff = np.abs(scipy.io.mmread(f("one.mtx")).toarray() - scipy.io.mmread(f("many.mtx")).toarray()).max()
            if diff > 1e-9:
                failures.append(f"batch: coefficients differ by {diff}")
        # A bad row: the same exit code (and one report) under mpiexec as alone.
        lines = open(f("x.csv")).read().splitlines()
        lines[n // 2 + 1] = "1,2,3"
        with open(f("bad.csv"), "w") as out:
            out.write("\n".join(lines) + "\n")
        c1, _, _ = run([shrink, "lasso", f("bad.csv"), f("y.txt")])
        cn, _, en = run([mpiexec, "-n", ranks, shrink, "lasso", f("bad.csv"), f("y.txt")])
        if c1 == 0 or cn != c1:
            failures.append(f"bad row: exit {c1} alone, {cn} under mpiexec")
        if en.count("row has 3 fields, expected 13") != 1:
            failures.append(f"bad row: expected one report from rank 0, got: {en}")
    for m in failures:
        print("FAIL:", m)
    print(f"mpi cli: {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
