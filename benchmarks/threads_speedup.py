"""Time with N threads over time with one, interleaved, medians.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/threads_speedup.py [N] [n]

Prints, per function, the median of (time with N threads) / (time with 1)
over interleaved repeats, and the load average before and after.
"""

import os
import sys
import time

import numpy as np

import actgrad as ag

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2
n = int(float(sys.argv[2])) if len(sys.argv) > 2 else 10**7
REPEATS = 15
x = np.random.default_rng(0).normal(0, 3, n).astype(np.float32)
out = np.empty_like(x)
functions = {
    "gelu": lambda: ag.gelu(x, out=out),
    "gelu tanh": lambda: ag.gelu(x, approximate="tanh", out=out),
    "mish": lambda: ag.mish(x, out=out),
    "softplus": lambda: ag.softplus(x, out=out),
    "silu": lambda: ag.silu(x, out=out),
    "gelu_grad": lambda: ag.gelu_grad(x, out=out),
    "mish_grad": lambda: ag.mish_grad(x, out=out),
}


def once(f, threads):
    ag.set_num_threads(threads)
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


print(f"load average before: {os.getloadavg()}; n={n:.0e} float32, {N} threads vs 1")
for name, f in functions.items():
    f()
    ratios, ones = [], []
    for _ in range(REPEATS):
        t1 = once(f, 1)
        tn = once(f, N)
        ratios.append(tn / t1)
        ones.append(t1)
    print(f"{name:<10} median t{N}/t1 = {np.median(ratios):.2f}  "
          f"(t1 median {np.median(ones) * 1e3:.1f} ms)", flush=True)
print(f"load average after: {os.getloadavg()}")
