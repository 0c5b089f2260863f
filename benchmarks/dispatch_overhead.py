"""Cost of actgrad's dispatch: public function vs its raw ufunc, 10 float64 elements.

    python benchmarks/dispatch_overhead.py

Every statement is timed in interleaved rounds and the best round kept, so
that a busy machine slows all alike; the difference is what the Python layer adds on the NumPy
fast path (target: <= 0.2 us).
"""

from __future__ import annotations

import timeit

import numpy as np

import actgrad as ag
from actgrad import ufuncs as U

x = np.linspace(-2.0, 2.0, 10)
g = np.ones(10)
out = np.empty(10)
CASES = [
    ("ag.relu_grad(x)", "U.relu_grad(x)"),
    ("ag.relu_grad(x, out=out)", "U.relu_grad(x, out=out)"),
    ("ag.relu_backward(g, x)", "U.relu_backward(g, x)"),
    ("ag.leaky_relu_grad(x, negative_slope=0.2)", "U.leaky_relu_grad(x, 0.2)"),
    ("ag.hardtanh(x)", "U.hardtanh(x, -1.0, 1.0)"),
]


def main(rounds: int = 150, number: int = 1000) -> None:
    statements = [s for pair in CASES for s in pair] + ["np.exp(x)"]
    timers = {s: timeit.Timer(s, globals=globals()) for s in statements}
    best = dict.fromkeys(statements, float("inf"))
    for _ in range(rounds):  # interleaved: a busy machine slows every statement alike
        for s, timer in timers.items():
            best[s] = min(best[s], timer.timeit(number) / number * 1e9)
    print(f"{'public function':44s} {'ns':>6s}   {'raw ufunc':28s} {'ns':>6s}   overhead")
    for public, raw in CASES:
        print(f"{public:44s} {best[public]:6.0f}   {raw:28s} {best[raw]:6.0f}   "
              f"{best[public] - best[raw]:5.0f} ns")
    print(f"np.exp(x): {best['np.exp(x)']:.0f} ns")


if __name__ == "__main__":
    main()
