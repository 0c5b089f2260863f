"""What each array library's path through actgrad costs: gelu, float32, one core.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE taskset -c 1 python benchmarks/backend_paths.py

For 10 and 10^6 elements, the median time per call (interleaved rounds) of
actgrad's function on each kind of array, beside the library's own gelu on
the same array.  torch CPU tensors and JAX CPU arrays run actgrad's C++ ufunc
on the array's memory: torch through a torch operator (with autograd: the
forward and backward pass), JAX through a callback, which XLA cannot fuse
with the operations around it (the jit rows compute ``gelu(x) * 2 + 1``).
Prints a Markdown table.
"""

from __future__ import annotations

import os
import statistics
import sys
import timeit

import numpy as np

import actgrad as ag

SIZES = (10, 10**6)


def cases(n):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n).astype(np.float32) * 3
    rows = [("NumPy ndarray", lambda: ag.gelu(x), None)]
    try:
        import torch

        torch.set_num_threads(1)
        t = torch.from_numpy(x)
        tg = t.clone().requires_grad_()
        ones = torch.ones_like(t)
        F = torch.nn.functional

        def torch_backward(f):
            def run():
                (d,) = torch.autograd.grad(f(tg), tg, ones)
                return d
            return run

        rows += [("torch CPU tensor", lambda: ag.gelu(t), lambda: F.gelu(t)),
                 ("torch CPU, forward + backward", torch_backward(ag.gelu),
                  torch_backward(F.gelu))]
    except ImportError:
        pass
    try:
        import jax
        import jax.numpy as jnp

        j = jnp.asarray(x)
        mine = jax.jit(lambda v: ag.gelu(v) * 2 + 1)
        theirs = jax.jit(lambda v: jax.nn.gelu(v, approximate=False) * 2 + 1)
        own = jax.jit(lambda v: jax.nn.gelu(v, approximate=False))
        rows += [("JAX CPU array", lambda: ag.gelu(j).block_until_ready(),
                  lambda: own(j).block_until_ready()),
                 ("JAX, inside jit (gelu(x) * 2 + 1)", lambda: mine(j).block_until_ready(),
                  lambda: theirs(j).block_until_ready())]
    except ImportError:
        pass
    return rows


def median_us(fns, rounds):
    for f in fns:  # warm up: compile, allocate
        f(), f()
    number = {f: max(1, int(0.02 / max(timeit.timeit(f, number=1), 1e-7))) for f in fns}
    samples = {f: [] for f in fns}
    for _ in range(rounds):
        for f in fns:
            samples[f].append(timeit.timeit(f, number=number[f]) / number[f] * 1e6)
    return [statistics.median(samples[f]) for f in fns]


def main(rounds: int = 15) -> None:
    print(f"gelu, float32, one core; median us per call of {rounds} interleaved rounds; "
          f"load average {os.getloadavg()[0]:.1f}\n")
    header = "| array | " + " | ".join(
        f"actgrad, {n:.0e} | own gelu, {n:.0e}".replace("e+0", "e") for n in SIZES) + " |"
    print(header)
    print("|" + "---|" * (1 + 2 * len(SIZES)))
    table = {}
    for n in SIZES:
        for name, mine, theirs in cases(n):
            fns = [mine] + ([theirs] if theirs else [])
            times = median_us(fns, rounds)
            table.setdefault(name, []).extend(
                [f"{times[0]:.1f}", f"{times[1]:.1f}" if theirs else "-"])
    for name, cells in table.items():
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
