"""Softmax's error in ulp on wide float32 rows: actgrad, PyTorch and JAX against mpmath.

    python benchmarks/softmax_accuracy.py [--rows 20] [--spread 30]

Rows of 1000 normal values times `spread`: x - max is then inexact in
float32, and exp magnifies that error by |x - max|.  Prints the largest error
over all normal results of each library (those installed).
"""

from __future__ import annotations

import argparse

import mpmath
import numpy as np

import actgrad as ag


def exact_softmax(row):
    mpmath.mp.dps = 50
    xs = [mpmath.mpf(float(v)) for v in row]
    m = max(xs)
    z = mpmath.fsum(mpmath.exp(v - m) for v in xs)
    return np.array([float(mpmath.exp(v - m) / z) for v in xs])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20)
    parser.add_argument("--spread", type=float, default=30.0)
    args = parser.parse_args()
    x = (np.random.default_rng(0).standard_normal((args.rows, 1000)) * args.spread).astype(np.float32)
    results = {"actgrad": ag.softmax(x)}
    try:
        import torch

        results["torch"] = torch.softmax(torch.from_numpy(x), -1).numpy()
    except ImportError:
        pass
    try:
        import jax
        import jax.numpy as jnp

        results["jax"] = np.asarray(jax.nn.softmax(jnp.asarray(x)))
    except ImportError:
        pass
    worst = dict.fromkeys(results, 0.0)
    for r in range(args.rows):
        exact = exact_softmax(x[r])
        normal = exact >= np.finfo(np.float32).tiny
        ulp = np.spacing(exact[normal].astype(np.float32)).astype(np.float64)
        for name, values in results.items():
            err = np.abs(values[r][normal].astype(np.float64) - exact[normal]) / ulp
            worst[name] = max(worst[name], float(err.max()))
    for name, w in worst.items():
        print(f"{name:8} {w:8.1f} ulp")


if __name__ == "__main__":
    main()
