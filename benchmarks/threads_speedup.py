"""Time with N threads over time with one, interleaved, medians; and against PyTorch.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/threads_speedup.py [N] [n]

Prints, per function, the median of (time with N threads) / (time with 1)
over interleaved repeats, then (where torch imports) the median of actgrad's
allocating call with N threads over PyTorch's own at its default thread
count (f: ``torch.nn.functional``; f': the aten backward op autograd uses,
with a gradient of ones), and the load average before and after.
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

try:
    import torch
except ImportError:
    torch = None
if torch is not None:
    t = torch.from_numpy(x)
    ones = torch.ones_like(t)
    F, aten = torch.nn.functional, torch.ops.aten
    pairs = {
        "gelu": (lambda: ag.gelu(x), lambda: F.gelu(t)),
        "gelu tanh": (lambda: ag.gelu(x, approximate="tanh"), lambda: F.gelu(t, approximate="tanh")),
        "mish": (lambda: ag.mish(x), lambda: F.mish(t)),
        "softplus": (lambda: ag.softplus(x), lambda: F.softplus(t)),
        "silu": (lambda: ag.silu(x), lambda: F.silu(t)),
        "gelu_grad": (lambda: ag.gelu_grad(x), lambda: aten.gelu_backward(ones, t)),
        "mish_grad": (lambda: ag.mish_grad(x), lambda: aten.mish_backward(ones, t)),
        "silu_grad": (lambda: ag.silu_grad(x), lambda: aten.silu_backward(ones, t)),
    }
    print(f"actgrad with {N} threads over torch with its default "
          f"{torch.get_num_threads()}, allocating calls:")
    ag.set_num_threads(N)
    for name, (mine, theirs) in pairs.items():
        mine(), theirs()
        ratios = []
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            mine()
            t1 = time.perf_counter()
            theirs()
            t2 = time.perf_counter()
            ratios.append((t1 - t0) / (t2 - t1))
        print(f"{name:<10} median actgrad/torch = {np.median(ratios):.2f}", flush=True)
    ag.set_num_threads(1)
print(f"load average after: {os.getloadavg()}")
