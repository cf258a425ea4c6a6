#!/usr/bin/env python3
"""Single-threaded numpy/OpenBLAS sgemm GFLOP/s at the simd engine's benchmark shapes.

For the closing comparison only (never run by tests or CI). Run as
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 python3 scripts/bench-numpy-sgemm.py
Prints one JSON object: {"blas": ..., "shapes": [{"m", "n", "k", "trans", "gflops", "ms_median"}, ...]}.
"""
import json
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402  (the thread count must be set before numpy loads OpenBLAS)

SHAPES = [
    (32, 1024, 256, ""), (32, 1024, 512, ""), (4096, 1024, 256, ""), (4096, 1024, 512, ""),
    (32, 256, 1024, "B"), (256, 1024, 4096, "A"), (4096, 256, 1024, "B"), (4096, 65, 256, ""),
]


def bench(m, n, k, trans, reps):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((k, m) if trans == "A" else (m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if trans == "B" else (k, n), dtype=np.float32)
    op_a = a.T if trans == "A" else a
    op_b = b.T if trans == "B" else b
    c = np.empty((m, n), dtype=np.float32)
    warm_until = time.perf_counter() + 0.2
    while time.perf_counter() < warm_until:
        np.matmul(op_a, op_b, out=c)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        np.matmul(op_a, op_b, out=c)
        times.append(time.perf_counter() - t0)
    times.sort()
    ms = times[len(times) // 2] * 1e3
    return {"m": m, "n": n, "k": k, "trans": trans, "gflops": round(2 * m * n * k / ms / 1e6, 2), "ms_median": round(ms, 4)}


def blas_info():
    """The BLAS numpy loaded, from the process's mapped libraries (OpenBLAS names its core)."""
    import ctypes
    libs = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if ("blas" in path or "lapack" in path) and path not in libs:
                libs.append(path)
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_config.restype = ctypes.c_char_p
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return f"{lib.openblas_get_config().decode()} core={lib.openblas_get_corename().decode()} ({path})"
        except (OSError, AttributeError):
            continue
    return ", ".join(libs) or "unknown"


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 21
    rows = [bench(m, n, k, t, reps if m * n * k < 1e8 else max(5, reps // 3)) for m, n, k, t in SHAPES]
    print(json.dumps({"blas": blas_info(), "threads_env": os.environ.get("OPENBLAS_NUM_THREADS"), "shapes": rows}))


if __name__ == "__main__":
    main()
