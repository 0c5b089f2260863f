"""Accuracy harness: max error in ulp of every function against mpmath.

``python -m actgrad accuracy`` (or ``actgrad accuracy``) prints, for every
smooth activation, form (f, f', f'') and dtype, the largest error in units in
the last place of actgrad on the committed reference sample
(tests/data/references.npz, from tools/generate_references.py: mpmath at 50
digits on a seeded sample of each dtype's whole finite range), and the same
for PyTorch and JAX where they are installed (f through the library's own
function, f' and f'' through its autodiff).

The ulp of a true value v is that of the dtype at |v| (the spacing of the
subnormals below the smallest normal); NaN matches NaN, and an infinite
result counts as exact only where the true value rounds to the same
infinity.

``actgrad accuracy --sweep`` measures on a dense sweep instead (every k-th
float32 bit pattern, millions of float64 points, every float16; see
actgrad.commands.sweep) against an independent reference (actgrad.commands.sweep_reference:
python-flint balls where they decide, mpmath at the worst points), and
exits with status 1 where a function breaks its bound.
"""

from __future__ import annotations

import argparse
import math
import os
import sys

import numpy as np

DATA = os.path.join(os.path.dirname(os.path.dirname(__file__)), "tests", "data",
                    "references.npz")
FORMS = ("f", "grad", "grad2")
SUFFIX = {"f": "", "grad": "_grad", "grad2": "_grad2"}
DTYPES = ("float16", "float32", "float64")


def load_references(path: str = DATA) -> dict:
    """{case: {dtype: {"x": x, form: (hi, lo)}}} from the reference file."""
    out: dict = {}
    with np.load(path) as data:
        for key in data.files:
            case, dtype, item = key.split("/")
            entry = out.setdefault(case, {}).setdefault(dtype, {})
            entry[item] = data[key]
    for case in out.values():
        for entry in case.values():
            for form in FORMS:
                hi = entry.pop(form + "_hi")
                lo = entry.pop(form + "_lo", np.zeros_like(hi))
                entry[form] = (hi, lo)
    return out


def ulp_error(got, hi, lo, dtype) -> np.ndarray:
    """Error of `got` (of `dtype`) in ulps of the true value hi + lo."""
    info = np.finfo(dtype)
    got = np.asarray(got, dtype=dtype).astype(np.float64)
    target = hi.astype(dtype).astype(np.float64)  # the true value rounded
    with np.errstate(all="ignore"):
        mag = np.abs(hi)
        exponent = np.floor(np.log2(np.where(mag > 0, mag, 1.0)))
        exponent = np.maximum(exponent, info.minexp)
        ulp = np.exp2(exponent - info.nmant)
        err = np.abs((got - hi) - lo) / ulp
    special = ~np.isfinite(target) | ~np.isfinite(got)
    same = (got == target) | (np.isnan(got) & np.isnan(target))
    err = np.where(special, np.where(same, 0.0, np.inf), err)
    return err


def _cases() -> dict:
    from .._table import REFERENCE_CASES

    return {c.name: c for c in REFERENCE_CASES}


def actgrad_function(case: str, form: str):
    """The actgrad ufunc behind a reference case, with its parameters bound."""
    from .. import _ufuncs

    spec = _cases()[case]
    ufunc = getattr(_ufuncs, spec.ufunc + SUFFIX[form])
    values = tuple(spec.params.values())
    return lambda x: ufunc(x, *values)


def measure(refs: dict, evaluate) -> dict:
    """{(case, form, dtype): max ulp error} for evaluate(case, form, x)."""
    out = {}
    for case, by_dtype in refs.items():
        for dtype, entry in by_dtype.items():
            x = entry["x"]
            for form in FORMS:
                try:
                    got = evaluate(case, form, x)
                except Exception:  # a peer without the function
                    continue
                if got is None:
                    continue
                hi, lo = entry[form]
                out[case, form, dtype] = float(np.max(ulp_error(got, hi, lo, x.dtype)))
    return out


def _evaluate_actgrad(case, form, x):
    with np.errstate(all="raise"):
        return actgrad_function(case, form)(x)


def _torch_evaluator():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    cases = _cases()

    def evaluate(case, form, x):
        spec = cases[case].torch
        if spec is None:
            return None
        func = spec(torch)
        t = torch.tensor(x, requires_grad=form != "f")
        y = func(t)
        if form == "f":
            return y.detach().numpy()
        (g,) = torch.autograd.grad(y.sum(), t, create_graph=form == "grad2")
        if form == "grad":
            return g.detach().numpy()
        (g2,) = torch.autograd.grad(g.sum(), t)
        return g2.detach().numpy()
    return evaluate


def _jax_evaluator():
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    cases = _cases()

    def evaluate(case, form, x):
        spec = cases[case].jax
        if spec is None:
            return None
        func = spec(jax, jnp)
        if form != "f":
            func = jax.grad(func)
        if form == "grad2":
            func = jax.grad(func)
        return np.asarray(jax.jit(jax.vmap(func))(jnp.asarray(x)))
    return evaluate


def format_table(columns: dict, refs: dict, markdown: bool = False) -> str:
    """One row per case and form, one column per (library, dtype)."""
    libs = list(columns)
    header = ["function", "form"] + [f"{lib} {d[5:]}" for lib in libs for d in DTYPES]
    rows = []
    for case in refs:
        for form in FORMS:
            row = [case, form]
            for lib in libs:
                for dtype in DTYPES:
                    v = columns[lib].get((case, form, dtype))
                    row.append("-" if v is None else ("inf" if math.isinf(v) else
                                                      f"{v:.2f}" if v < 100 else f"{v:.3g}"))
            rows.append(row)
    if markdown:
        return "\n".join("| " + " | ".join(r) + " |" for r in
                         [header, ["---"] * 2 + ["---:"] * (len(header) - 2)] + rows)
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


DESCRIPTION = __doc__.split("\n\n")[0]


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of `actgrad accuracy` (registered in actgrad.__main__)."""
    p.add_argument("--no-peers", action="store_true", help="measure actgrad only")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table")
    from . import sweep as _sweep
    g = p.add_argument_group("dense sweep (--sweep)")
    g.add_argument("--sweep", action="store_true",
                   help="the dense sweep instead of the committed sample (actgrad only)")
    g.add_argument("--stride", type=int, default=_sweep.DEFAULT_STRIDE, metavar="K",
                   help="float32: every K-th bit pattern (1: every float; default %(default)s)")
    g.add_argument("--offset", type=int, default=None,
                   help="float32: the first bit pattern (default: an odd number below K)")
    g.add_argument("--points", type=int, default=_sweep.DEFAULT_POINTS, metavar="N",
                   help="float64: N seeded points (default %(default)s), plus roots and tails")
    g.add_argument("--seed", type=int, default=8, help="float64 sample seed")
    g.add_argument("--dtypes", nargs="+", choices=_sweep.DTYPES, help="default: all three")
    g.add_argument("--cases", nargs="+", metavar="CASE",
                   help="reference cases (as in the table) to sweep; default: all")
    g.add_argument("--forms", nargs="+", choices=FORMS, help="default: f grad grad2")
    g.add_argument("--json", metavar="PATH", help="also save the results as JSON")


def run(args) -> int:
    if getattr(args, "sweep", False):
        from . import sweep as _sweep
        if args.stride < 1 or args.points < 0:
            raise SystemExit("actgrad accuracy: --stride must be >= 1 and --points >= 0")
        return _sweep.run(args)
    refs = load_references()
    columns = {"actgrad": measure(refs, _evaluate_actgrad)}
    if not args.no_peers:
        for lib, make in (("torch", _torch_evaluator), ("jax", _jax_evaluator)):
            evaluate = make()
            if evaluate is not None:
                print(f"measuring {lib} ...", file=sys.stderr)
                with np.errstate(all="ignore"):
                    columns[lib] = measure(refs, evaluate)
    print(format_table(columns, refs, markdown=args.markdown))
    return 0


run_cli = run
