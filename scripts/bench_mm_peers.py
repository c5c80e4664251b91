#!/usr/bin/env python3
"""Times the peers of our Matrix Market reader on the file the benchmark reads:
fast_matrix_market (read_coo, 1 and 2 threads) and scipy.io.mmread. Median of 5, MB/s of text.

  SHRINK_BENCH_KEEP_MTX=/tmp/bench.mtx build/default/bench/shrink_bench --benchmark_filter=MatrixMarket
  python3 scripts/bench_mm_peers.py /tmp/bench.mtx
Needs: pip install fast_matrix_market scipy"""
import os
import statistics
import sys
import time


def timed(fn, repeat=5):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(path):
    mb = os.path.getsize(path) / 1e6
    print(f"file {path}: {mb:.1f} MB")
    try:
        import fast_matrix_market as fmm

        for threads in (1, 2):
            t = timed(lambda: fmm.read_coo(path, parallelism=threads))
            print(f"fast_matrix_market {fmm.__version__} read_coo, {threads} thread(s): {mb / t:8.0f} MB/s ({t * 1e3:.1f} ms)")
    except ImportError:
        print("fast_matrix_market not installed")
    import scipy
    import scipy.io

    t = timed(lambda: scipy.io.mmread(path), repeat=3)
    print(f"scipy {scipy.__version__} mmread: {mb / t:8.0f} MB/s ({t * 1e3:.1f} ms)")


if __name__ == "__main__":
    main(sys.argv[1])
