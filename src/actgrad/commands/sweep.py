"""Dense accuracy sweep: ``actgrad accuracy --sweep``.

For every reference case of the table (``_table.REFERENCE_CASES``: each smooth
activation at the parameters sampled there), every form (f, f', f'') and
dtype, the largest error in ulp of actgrad over a dense set of inputs:

* float16: every finite bit pattern (63,488 of them);
* float32: every ``stride``-th bit pattern of the whole 32-bit range (offset
  by ``offset``, so that the low bits of the inputs are not all 0; stride 1 is
  every float), plus the points listed below;
* float64: ``points`` inputs (seeded): half with log-uniform magnitudes over
  the whole finite range, a quarter log-uniform in [2^-8, 2^11], a quarter
  uniform in [-40, 40], both signs;

and, for float32 and float64, dense points around every root of the form
(2048 consecutive floats, and for float64 also log-spaced relative offsets
out to 1e-2), uniform points through both tails where the result falls
through the subnormals to 0, and the inputs of ``KNOWN_POINTS`` (worst points
found earlier) with their neighbours.

The true values come from ``sweep_reference`` (never from actgrad): a
vectorised evaluation in a wider precision (float64 for float16/float32,
long double for float64) that carries an error bound; wherever that bound
exceeds ``UNC_TOL`` ulp, or the error it shows is within a quarter of the
bound of failing, or the point is among the worst of its group, python-flint's
ball arithmetic decides (to 1/1000 ulp).  The worst point of every group is
re-checked with the mpmath oracle at 60 digits.

The ulp convention is ``accuracy.ulp_error``'s.  actgrad's loops run with
the instruction set picked at import (ACTGRAD_CPU chooses a lower one; every
clone gives the same bits, tests/test_isa.py).
"""

from __future__ import annotations

import json
import math
import sys
import time

import numpy as np

from . import sweep_reference as ref
from .accuracy import FORMS, actgrad_function, ulp_error

DTYPES = ("float16", "float32", "float64")
#: default float32 stride and float64 point count: a full sweep in minutes on one core
DEFAULT_STRIDE = 1024
DEFAULT_POINTS = 1_000_000
#: tracked reference error (in ulp of the dtype) above which arb decides
UNC_TOL = 1 / 16
#: worst points per group that arb decides (and mpmath re-checks, the first)
TOP = 5
ROOT_HALF_WIDTH = 1024

#: worst points reported before (issue 8), swept explicitly with their neighbours
KNOWN_POINTS = {
    ("silu", "grad", "float32"): (-0.8412367,),
    ("gelu", "f", "float32"): (-11.08748, -1.827301),
    ("gelu", "f", "float64"): (-11.2128715,),
    ("gelu", "grad", "float64"): (-1.7952208,),
    ("gelu_tanh", "grad2", "float64"): (-3.5408116,),
    ("mish", "grad2", "float64"): (1.2791043,),
    ("mish", "grad", "float64"): (-0.2271990,),
    ("silu", "grad2", "float64"): (2.8799461,),
}

_UINT = {np.dtype(np.float16): np.uint16, np.dtype(np.float32): np.uint32,
         np.dtype(np.float64): np.uint64}


def _cases():
    from .._table import REFERENCE_CASES
    return REFERENCE_CASES


def bound_of(case, dtype) -> float:
    """The contract: 1 ulp for float16, the table's tolerance otherwise."""
    if np.dtype(dtype) == np.float16:
        return 1.0
    from .._table import ACTIVATIONS
    for act in ACTIVATIONS:
        for v in act.ufunc_variants():
            if act.name + v.suffix == case.ufunc:
                return float(act.tolerance_ulp)
    raise KeyError(case.ufunc)


# ---------------------------------------------------------------------------
# The inputs


def _neighbours(x, dtype, half_width):
    """The 2 half_width floats of `dtype` around each of x (same sign)."""
    dtype = np.dtype(dtype)
    ut = _UINT[dtype]
    x = np.asarray(x, dtype=dtype)
    mag = np.abs(x).view(ut).astype(np.int64)
    offs = np.arange(-half_width, half_width, dtype=np.int64)
    top = np.int64(np.asarray(np.finfo(dtype).max, dtype=dtype).view(ut))
    m = np.clip(mag[:, None] + offs[None, :], 0, top).astype(ut).view(dtype)
    return (m * np.where(np.signbit(x), -1, 1)[:, None].astype(dtype)).ravel()


def float16_points():
    x = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16)
    return x[np.isfinite(x)]


def default_offset(stride: int) -> int:
    """An odd first pattern below stride (so the inputs' low bits are not all 0)."""
    return (0x9E3779B9 % stride) | 1 if stride > 1 else 0


def float32_chunks(stride, offset, chunk=1 << 20):
    """Every stride-th float32 bit pattern from `offset`, finite ones, in chunks."""
    n = ((1 << 32) - offset + stride - 1) // stride
    for start in range(0, n, chunk):
        i = np.arange(start, min(start + chunk, n), dtype=np.uint64)
        x = (np.uint64(offset) + np.uint64(stride) * i).astype(np.uint32).view(np.float32)
        yield x[np.isfinite(x)]


def float64_points(n, seed):
    rng = np.random.default_rng(seed)
    info = np.finfo(np.float64)
    n_log, n_mid = n // 2, n // 4
    n_uni = n - n_log - n_mid
    lo, hi = math.log(float(info.smallest_subnormal)), math.log(float(info.max))
    mags = np.concatenate([np.exp(rng.uniform(lo, hi, n_log)),
                           np.exp2(rng.uniform(-8, 11, n_mid))])
    x = np.concatenate([mags * rng.choice([-1.0, 1.0], mags.size), rng.uniform(-40, 40, n_uni)])
    return x[np.isfinite(x)]


_ROOTS: dict = {}


def find_roots(case, form, limit=12):
    """Sign changes of the form on [-64, 64] (roots, and kinks where it leaves 0),
    located by bisection of the float64 reference; the `limit` nearest 0."""
    key = (case.name, form)
    if key not in _ROOTS:
        grid = np.linspace(-64.0, 64.0, (1 << 16) + 1)
        v, _ = ref.numpy_reference(case.ufunc, form, case.params, grid, np.float32)
        sg = np.sign(v)
        idx = np.flatnonzero(sg[:-1] != sg[1:])
        a, b = grid[idx], grid[idx + 1]
        sa = sg[idx]
        for _ in range(64):
            m = (a + b) / 2
            sm = np.sign(ref.numpy_reference(case.ufunc, form, case.params, m, np.float32)[0])
            left = sm == sa
            a, b = np.where(left, m, a), np.where(left, b, m)
        roots = np.unique((a + b) / 2)
        _ROOTS[key] = roots[np.argsort(np.abs(roots))][:limit]
    return _ROOTS[key]


def tail_interval(case, form, dtype, side):
    """[a, b] (|x|) on one side where |form| falls from 4 smallest normals to 0
    in `dtype`, or None where it does not."""
    info = np.finfo(dtype)
    grid = side * np.exp2(np.arange(0, 13 * 64 + 1) / 64.0)
    v, _ = ref.numpy_reference(case.ufunc, form, case.params, grid.astype(dtype), dtype)
    mag = np.abs(v.astype(np.float64))
    zero = mag < float(info.smallest_subnormal) / 2
    big = mag >= 4 * float(info.smallest_normal)
    if not zero[-1] or not big.any():
        return None
    last_big = np.flatnonzero(big)[-1]
    after = np.flatnonzero(zero[last_big:])
    end = last_big + after[0] if after.size else grid.size - 1
    return abs(grid[last_big]), abs(grid[min(end + 1, grid.size - 1)])


def extra_points(case, form, dtype, n_points, seed):
    """Roots, tails and known points of one group (float32 and float64)."""
    dtype = np.dtype(dtype)
    rng = np.random.default_rng(seed)
    parts = []
    roots = find_roots(case, form)
    if roots.size:
        parts.append(_neighbours(roots, dtype, ROOT_HALF_WIDTH))
        if dtype == np.float64:
            k = max(n_points // 200, 64)
            rel = np.exp(rng.uniform(math.log(1e-15), math.log(1e-2), (roots.size, k)))
            parts.append((roots[:, None] * (1 + rel * rng.choice([-1.0, 1.0], rel.shape))).ravel())
    n_tail = max(n_points // 40, 4096) if dtype == np.float64 else 4096
    for side in (-1.0, 1.0):
        iv = tail_interval(case, form, dtype, side)
        if iv is not None:
            parts.append(side * rng.uniform(iv[0] * 0.98, iv[1] * 1.02, n_tail))
    known = KNOWN_POINTS.get((case.name, form, dtype.name), ())
    if known:
        parts.append(_neighbours(np.array(known, dtype=dtype), dtype,
                                 2048 if dtype == np.float64 else 256))
    if not parts:
        return np.zeros(0, dtype)
    x = np.concatenate(parts).astype(dtype)
    return x[np.isfinite(x)]


# ---------------------------------------------------------------------------
# Measuring one group


class Group:
    """The running result of one (case, form, dtype)."""

    def __init__(self, case, form, dtype, func=None):
        """`func(x)` computes the form (default: the ufunc; the backend tests
        pass torch's and JAX's computations)."""
        self.case, self.form, self.dtype = case, form, np.dtype(dtype)
        self.bound = bound_of(case, dtype)
        self.points = 0
        self.decided = 0
        self.over = {}      # x -> err, decided by arb
        self.top = []       # [(err, x, decided)]
        self.func = func if func is not None else actgrad_function(case.name, form)

    def _arb_errors(self, x, got):
        """ulp errors of got at the points x against arb."""
        hl = [ref.arb_reference(self.case.ufunc, self.form, self.case.params, float(xi),
                                self.dtype) for xi in x]
        hi = np.array([h for h, _ in hl], dtype=np.float64).reshape(np.shape(x))
        lo = np.array([l for _, l in hl], dtype=np.float64).reshape(np.shape(x))
        return ulp_error(np.asarray(got), hi, lo, self.dtype)

    def add(self, x):
        if x.size == 0:
            return
        dtype = self.dtype
        with np.errstate(all="ignore"):
            got = self.func(x)
        v, e = ref.numpy_reference(self.case.ufunc, self.form, self.case.params, x, dtype)
        with np.errstate(all="ignore"):  # long double beyond float64's range: inf
            hi = v.astype(np.float64)
            lo = (v - hi).astype(np.float64) if v.dtype != np.float64 else np.zeros_like(hi)
            err = ulp_error(got, hi, lo, dtype)
            unc = e.astype(np.float64) / ref.target_ulp(hi, dtype)
            flag = (~np.isfinite(hi) | ~(unc <= UNC_TOL)
                    | ~(err + unc <= self.bound * 0.75))
        decided = flag
        idx = np.flatnonzero(flag)
        if idx.size:
            err[idx] = self._arb_errors(x[idx], got[idx])
            for i in idx[~(err[idx] <= self.bound)]:
                self.over[float(x[i])] = float(err[i])
        self.points += x.size
        self.decided += int(flag.sum())
        # keep the TOP worst (ties: the first)
        k = min(TOP, x.size)
        sel = np.argpartition(np.where(np.isnan(err), np.inf, -err), k - 1)[:k]
        self.top = sorted(self.top + [(float(err[i]), x[i], bool(decided[i]), got[i]) for i in sel],
                          key=lambda t: -t[0])[:TOP]

    def finish(self):
        """arb for the top points not yet decided; mpmath at 60 digits for the worst."""
        top = []
        for err, x, decided, got in self.top:
            if not decided:
                err = float(self._arb_errors(np.array([x]), np.array([got]))[0])
                self.decided += 1
                if not err <= self.bound:
                    self.over[float(x)] = err
            top.append((err, x, got))
        top.sort(key=lambda t: -t[0])
        worst_err, worst_x, worst_got = top[0] if top else (0.0, np.nan, np.nan)
        mp_err = mpmath_error(self.case, self.form, self.dtype, worst_x, worst_got) if top else None
        return {
            "case": self.case.name, "form": self.form, "dtype": self.dtype.name,
            "bound": self.bound, "points": self.points, "decided": self.decided,
            "max_ulp": worst_err, "x": float(worst_x), "mpmath_ulp": mp_err,
            "over_bound": len(self.over),
            "over_points": sorted(self.over.items(), key=lambda t: -t[1])[:20],
            "top": [(float(x), e) for e, x, _ in top],
        }


def mpmath_error(case, form, dtype, x, got) -> float:
    """ulp error of `got` at x against the mpmath oracle at 60 digits."""
    import mpmath as mp

    from .mpmath_reference import CASES
    func = CASES[case.name]["forms"][FORMS.index(form)]
    with mp.workdps(60):
        t = func(mp.mpf(float(x)), dtype=np.dtype(dtype).type)
        hi = float(t)
        lo = float(t - mp.mpf(hi)) if math.isfinite(hi) else 0.0
    return float(ulp_error(np.array([got]), np.array([hi]), np.array([lo]), dtype)[0])


# ---------------------------------------------------------------------------
# The sweep


def sweep(dtypes=DTYPES, cases=None, forms=FORMS, stride=DEFAULT_STRIDE, offset=None,
          points=DEFAULT_POINTS, seed=8, log=None):
    """A list of result dicts (Group.finish), one per (case, form, dtype)."""
    if offset is None:
        offset = default_offset(stride)
    all_cases = _cases()
    if cases:
        unknown = set(cases) - {c.name for c in all_cases}
        if unknown:
            raise ValueError(f"actgrad accuracy --sweep: unknown cases {sorted(unknown)}")
        all_cases = [c for c in all_cases if c.name in cases]
    if "float64" in dtypes and not ref.longdouble_is_wide():
        raise RuntimeError("actgrad accuracy --sweep: float64 needs an x87 long double "
                           "reference (np.longdouble has %d bits here)"
                           % (np.finfo(np.longdouble).nmant + 1))
    results = []
    base64 = float64_points(points, seed) if "float64" in dtypes else None
    for dtype in dtypes:
        for case in all_cases:
            t0 = time.perf_counter()
            for form in forms:
                g = Group(case, form, dtype)
                if dtype == "float16":
                    g.add(float16_points())
                elif dtype == "float32":
                    for x in float32_chunks(stride, offset):
                        g.add(x)
                    g.add(extra_points(case, form, dtype, 0, seed))
                else:
                    for start in range(0, base64.size, 1 << 18):
                        g.add(base64[start:start + (1 << 18)])
                    g.add(extra_points(case, form, dtype, points, seed))
                results.append(g.finish())
            if log is not None:
                row = [r for r in results[-len(forms):]]
                print(f"{dtype} {case.name}: " + ", ".join(
                    f"{r['form']} {r['max_ulp']:.2f}" for r in row)
                    + f" ({time.perf_counter() - t0:.1f} s)", file=log, flush=True)
    return results


# ---------------------------------------------------------------------------
# Output


def _fmt_ulp(v):
    return "inf" if v is None or math.isinf(v) else f"{v:.2f}" if v < 100 else f"{v:.3g}"


def format_results(results, markdown=False, header="") -> str:
    dtypes = [d for d in DTYPES if any(r["dtype"] == d for r in results)]
    by = {(r["case"], r["form"], r["dtype"]): r for r in results}
    keys = []
    for r in results:
        if (r["case"], r["form"]) not in keys:
            keys.append((r["case"], r["form"]))
    head = ["function", "form"]
    for d in dtypes:
        head += [f"{d} ulp", "at x"]
    rows = []
    for case, form in keys:
        row = [case, form]
        for d in dtypes:
            r = by.get((case, form, d))
            if r is None:
                row += ["-", ""]
                continue
            cell = _fmt_ulp(r["max_ulp"])
            if not r["max_ulp"] <= r["bound"]:
                cell = f"**{cell}**" if markdown else cell + " !"
            row += [cell, f"{r['x']:.8g}"]
        rows.append(row)
    if markdown:
        lines = ["| " + " | ".join(head) + " |",
                 "|" + "|".join(["---"] * 2 + ["---:"] * (len(head) - 2)) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
    else:
        widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
        line = lambda r: "  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                                   for i, (c, w) in enumerate(zip(r, widths)))
        lines = [line(head), line(["-" * w for w in widths])] + [line(r) for r in rows]
    over = [r for r in results if r["over_bound"]]
    tail = []
    for r in over:
        pts = ", ".join(f"{e:.2f} at {x!r}" for x, e in r["over_points"][:5])
        tail.append(f"over the {r['bound']:g}-ulp bound: {r['case']} {r['form']} {r['dtype']}: "
                    f"{r['over_bound']} points ({pts})")
    bad_mp = [r for r in results if r["mpmath_ulp"] is not None and math.isfinite(r["max_ulp"])
              and abs(r["mpmath_ulp"] - r["max_ulp"]) > 0.01]
    for r in bad_mp:
        tail.append(f"mpmath disagrees: {r['case']} {r['form']} {r['dtype']} at {r['x']!r}: "
                    f"arb {r['max_ulp']:.3f}, mpmath {r['mpmath_ulp']:.3f} ulp")
    return "\n".join(([header, ""] if header else []) + lines + ([""] + tail if tail else []))


def run(args) -> int:
    dtypes = tuple(args.dtypes) if args.dtypes else DTYPES
    forms = tuple(args.forms) if args.forms else FORMS
    t0 = time.perf_counter()
    results = sweep(dtypes=dtypes, cases=args.cases, forms=forms, stride=args.stride,
                    offset=args.offset, points=args.points, seed=args.seed, log=sys.stderr)
    seconds = time.perf_counter() - t0
    offset = args.offset if args.offset is not None else default_offset(args.stride)
    from .. import _ufuncs
    isa = _ufuncs._get_isa() if hasattr(_ufuncs, "_get_isa") else "default"
    what = {"float16": "float16 every pattern",
            "float32": f"float32 every {args.stride}-th pattern from {offset}",
            "float64": f"float64 {args.points} points (seed {args.seed})"}
    header = (f"Dense sweep ({seconds:.0f} s, {isa} loops): "
              + "; ".join(what[d] for d in DTYPES if d in dtypes)
              + "; plus roots, tails and known points. Worst ulp, arb-decided, "
              "re-checked with mpmath at 60 digits.")
    print(format_results(results, markdown=args.markdown, header=header))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"parameters": {"stride": args.stride, "offset": offset,
                                      "points": args.points, "seed": args.seed,
                                      "dtypes": list(dtypes), "forms": list(forms),
                                      "cases": args.cases, "seconds": seconds,
                                      "isa": isa},
                       "results": results}, fh, indent=1)
    return 1 if any(r["over_bound"] for r in results) else 0
