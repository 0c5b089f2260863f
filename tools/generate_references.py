"""Generate the mpmath reference values the accuracy tests hold actgrad to.

Usage: python tools/generate_references.py [CASE ...]

Writes src/actgrad/tests/data/references.npz: for every smooth activation
(and every variant of one, at its default parameters), for float16, float32
and float64, a fixed, seeded sample of inputs of that dtype and the value of
f, f' and f'' there as double-doubles (hi + lo, from mpmath at 50 digits):

  * uniform in [-10, 10] and in [-1, 1] (the roots of the derivatives and
    the region where most activations bend),
  * log-spaced magnitudes of both signs from the smallest subnormal to the
    largest finite number,
  * the tails where exp over- and underflows for that dtype,
  * subnormals, +-0, the kinks and a few exact integers.

The values come from tools/mpmath_reference.py only, never from actgrad.
Running it again with the same numpy and mpmath gives the same file.
"""

from __future__ import annotations

import math
import os
import sys
import zlib

import mpmath as mp
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from mpmath_reference import CASES  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "src", "actgrad", "tests", "data",
                   "references.npz")
DTYPES = (np.float16, np.float32, np.float64)
FORMS = ("f", "grad", "grad2")


def sample(dtype, case, seed):
    info = np.finfo(dtype)
    rng = np.random.default_rng(seed)
    big = float(info.max)
    tiny = float(info.smallest_subnormal)
    exp_edge = math.log(float(info.max))          # 88.7 for float32
    exp_low = -math.log(tiny)                      # 103.3 for float32
    hi_lim = min(10.0, big)
    pts = [rng.uniform(-hi_lim, hi_lim, 120), rng.uniform(-1, 1, 40)]
    mags = np.exp(rng.uniform(math.log(tiny), math.log(big), 120))
    pts.append(mags * rng.choice([-1.0, 1.0], mags.size))
    tail = rng.uniform(0.8 * exp_edge, 1.2 * exp_low, 40)
    pts.append(tail * rng.choice([-1.0, 1.0], tail.size))
    pts.append(np.exp(rng.uniform(math.log(tiny), math.log(float(info.smallest_normal)), 8)))
    pts.append(np.array([0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, -3.0, 20.0, -20.0]))
    pts.append(np.array(case.get("points", ()), dtype=float))
    x = np.concatenate(pts).astype(dtype)
    x = x[np.isfinite(x)]
    # unique, keeping -0.0 apart from 0.0
    _, idx = np.unique(x.view(np.uint16 if dtype == np.float16 else
                              np.uint32 if dtype == np.float32 else np.uint64),
                       return_index=True)
    return np.sort(x[np.sort(idx)])


def double_double(v):
    if mp.isinf(v) or mp.isnan(v):
        return float(v), 0.0
    hi = float(v)
    if math.isinf(hi):
        return hi, 0.0
    return hi, float(v - mp.mpf(hi))


def generate(names=None):
    data = {}
    for name, case in CASES.items():
        if names and name not in names:
            continue
        for dtype in DTYPES:
            dname = np.dtype(dtype).name
            seed = zlib.crc32(f"{name}/{dname}".encode())
            x = sample(dtype, case, seed)
            data[f"{name}/{dname}/x"] = x
            for form, func in zip(FORMS, case["forms"]):
                hi = np.empty(x.size)
                lo = np.empty(x.size)
                for i, xi in enumerate(x):
                    v = func(mp.mpf(float(xi)), dtype=dtype)
                    hi[i], lo[i] = double_double(v)
                data[f"{name}/{dname}/{form}_hi"] = hi
                if dtype == np.float64:
                    data[f"{name}/{dname}/{form}_lo"] = lo
            print(f"{name} {dname}: {x.size} points", file=sys.stderr)
    return data


if __name__ == "__main__":
    names = sys.argv[1:]
    data = generate(names)
    if names and os.path.exists(OUT):
        with np.load(OUT) as old:
            merged = {k: old[k] for k in old.files if k.split("/")[0] not in names}
        merged.update(data)
        data = merged
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    np.savez_compressed(OUT, **dict(sorted(data.items())))
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)", file=sys.stderr)
