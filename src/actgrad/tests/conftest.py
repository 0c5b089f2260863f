"""Shared fixtures and helpers for actgrad's test suite.

The suite is parametrised over the activation table: every entry of
``ACTIVATIONS``, with its default parameters (when it has any) and each of its
``test_params``, is a :class:`Case`; every case is tested in every form of
``FORMS``.  A new table entry is therefore tested automatically.

Expected values never come from the code under test.  They come from PyTorch
autograd (the ``torch`` fixture), from the hand-derived references below
(``HAND``, ``LIMITS``), or, where NumPy tests its own ufuncs that way, from the
same function on a simpler input (contiguous vs strided, float32 vs float16).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np
import pytest

import actgrad as ag
from actgrad._table import ACTIVATIONS, FORMS

try:  # hypothesis is in the test extra; the suite still runs without it.
    from hypothesis import settings as _hyp_settings
except ImportError:  # pragma: no cover
    pass
else:
    _hyp_settings.register_profile(
        "actgrad", max_examples=40, deadline=None, database=None, derandomize=False
    )
    _hyp_settings.register_profile(
        "actgrad-thorough", max_examples=1000, deadline=None, database=None
    )
    _hyp_settings.load_profile(os.environ.get("ACTGRAD_HYPOTHESIS_PROFILE", "actgrad"))


# --------------------------------------------------------------------------
# The parametrisation: activation x parameter set x form
# --------------------------------------------------------------------------

FORMS_BY_KIND = {form.kind: form for form in FORMS}
FLOAT_DTYPES = (np.float16, np.float32, np.float64, np.longdouble)
INT_DTYPES = (
    np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32,
    np.int64, np.uint64, np.intp, np.uintp, np.longlong, np.ulonglong,
)
INT_AND_BOOL_DTYPES = (np.bool_, *INT_DTYPES)


def _fmt(value) -> str:
    return repr(value) if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class Case:
    """One activation with one set of parameters."""

    act: object
    params: dict = field(hash=False)

    @property
    def name(self) -> str:
        return self.act.name

    @property
    def id(self) -> str:
        if not self.params:
            return self.name
        return self.name + "(" + ",".join(f"{k}={_fmt(v)}" for k, v in self.params.items()) + ")"

    def function(self, form):
        """The public function ``actgrad.NAME<suffix>``."""
        return getattr(ag, self.act.function_name(form))

    def raw_ufunc(self, form):
        """The ufunc behind it, which takes the parameters as trailing inputs."""
        return getattr(ag.ufuncs, self.act.function_name(form))

    def __call__(self, form, *arrays, **ufunc_kwargs):
        return self.function(form)(*arrays, **self.params, **ufunc_kwargs)

    def kinks(self) -> tuple:
        return tuple(self.act.kink_points(**self.params))


def _param_sets(act):
    sets = []
    if all(not p.required for p in act.params):
        sets.append(act.default_params())
    sets.extend(dict(p) for p in act.test_params)
    return sets


CASES = [Case(act, params) for act in ACTIVATIONS for params in _param_sets(act)]
CASE_PARAMS = [pytest.param(case, id=case.id) for case in CASES]
FORM_PARAMS = [pytest.param(form, id=form.kind) for form in FORMS]
CASE_FORM_PARAMS = [
    pytest.param(case, form, id=f"{case.id}-{form.kind}") for case in CASES for form in FORMS
]
PARAMETERISED_CASE_PARAMS = [p for p in CASE_PARAMS if p.values[0].act.params]
#: the activation functions (ag.__all__ also holds helpers such as `ufuncs`)
PUBLIC_NAMES = [act.function_name(form) for act in ACTIVATIONS for form in FORMS]


def dtype_id(dtype) -> str:
    return np.dtype(dtype).name


def call_form(case, form, x, g=None, **kwargs):
    """Call one form; a backward pass gets ``g`` (default: ones) as grad_output."""
    if form.kind == "backward":
        if g is None:
            g = np.ones_like(x)
        return case(form, g, x, **kwargs)
    return case(form, x, **kwargs)


# --------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------


def compute_dtype(dtype):
    """float16 is computed in float32; every other float type in itself."""
    dtype = np.dtype(dtype)
    return np.dtype(np.float32) if dtype == np.float16 else dtype


def cast(a, dtype):
    """``a.astype(dtype)``, rounding out-of-range values to ±inf silently."""
    with np.errstate(over="ignore"):
        return np.asarray(a).astype(dtype)


def specials(dtype) -> np.ndarray:
    """Edge values of a float dtype: ±0, ±inf, NaN, tiny, subnormal, huge."""
    dtype = np.dtype(dtype)
    fi = np.finfo(dtype)
    vals = [0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 1.0, -1.0]
    arr = np.array(vals, dtype=dtype)
    extra = np.array(
        [fi.tiny, -fi.tiny, fi.smallest_subnormal, -fi.smallest_subnormal,
         fi.max, -fi.max, fi.eps, -fi.eps, fi.tiny / 4, -fi.tiny / 4],
        dtype=dtype,
    )
    return np.concatenate([arr, extra])


def grid(case, dtype, *, n_random=200, seed=0) -> np.ndarray:
    """Finite points: every kink exactly, its neighbours, edges and random points."""
    dtype = np.dtype(dtype)
    fi = np.finfo(dtype)
    rng = np.random.default_rng(seed)
    span = min(30.0, math.log(float(fi.max)) - 1)
    kinks = np.array(case.kinks(), dtype=dtype)
    pts = [
        kinks,
        np.nextafter(kinks, dtype.type(np.inf)),
        np.nextafter(kinks, dtype.type(-np.inf)),
        (kinks + dtype.type(1e-3)).astype(dtype),
        (kinks - dtype.type(1e-3)).astype(dtype),
        np.array([0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 2.0, -2.0, 3.0, -3.0, 6.0, -6.0,
                  5.5, 6.5, 20.0, -20.0, 1e4, -1e4], dtype=dtype),
        np.array([fi.tiny, -fi.tiny, fi.smallest_subnormal, -fi.smallest_subnormal,
                  fi.max, -fi.max, fi.max / 2, -fi.max / 2], dtype=dtype),
        (rng.standard_normal(n_random) * 4).astype(dtype),
        rng.uniform(-10, 10, n_random // 2).astype(dtype),
        (np.exp(rng.uniform(-span, span, n_random // 4))
         * rng.choice([-1.0, 1.0], n_random // 4)).astype(dtype),
    ]
    x = np.concatenate(pts)
    assert np.isfinite(x).all()
    return x


# --------------------------------------------------------------------------
# Hand-derived references (written here, not taken from actgrad)
# --------------------------------------------------------------------------
#
# Each entry is (f, f') for a NumPy array x, computed in x's dtype with the
# parameters rounded once to that dtype, as the contract asks.  NaN in x gives
# NaN; ±inf gives the mathematical limit.  Signs of zero are not modelled
# (compare values, not bits, against these).


def _typed(x, value):
    return x.dtype.type(value)


def _nan_through(x, r):
    r = np.asarray(r, dtype=x.dtype)
    return np.where(np.isnan(x), x.dtype.type(np.nan), r)


def _relu(x):
    return _nan_through(x, np.where(x > 0, x, _typed(x, 0)))


def _relu_d(x):
    return _nan_through(x, np.where(x > 0, _typed(x, 1), _typed(x, 0)))


def _relu6(x):
    return _nan_through(x, np.where(x > 6, _typed(x, 6), np.where(x > 0, x, _typed(x, 0))))


def _relu6_d(x):
    return _nan_through(x, np.where((x > 0) & (x < 6), _typed(x, 1), _typed(x, 0)))


def _leaky(x, negative_slope):
    s = _typed(x, negative_slope)
    with np.errstate(all="ignore"):
        neg = x * s if s != 0 else np.zeros_like(x)
    return _nan_through(x, np.where(x > 0, x, neg))


def _leaky_d(x, negative_slope):
    return _nan_through(x, np.where(x > 0, _typed(x, 1), _typed(x, negative_slope)))


def _hardtanh(x, min_val, max_val):
    lo, hi = _typed(x, min_val), _typed(x, max_val)
    return _nan_through(x, np.where(x < lo, lo, np.where(x > hi, hi, x)))


def _hardtanh_d(x, min_val, max_val):
    lo, hi = _typed(x, min_val), _typed(x, max_val)
    return _nan_through(x, np.where((x > lo) & (x < hi), _typed(x, 1), _typed(x, 0)))


def _threshold(x, threshold, value):
    th = _typed(x, threshold)
    return _nan_through(x, np.where(x > th, x, _typed(x, value)))


def _threshold_d(x, threshold, value):
    th = _typed(x, threshold)
    return _nan_through(x, np.where(x > th, _typed(x, 1), _typed(x, 0)))


def _hardshrink(x, lambd):
    lam = _typed(x, lambd)
    return _nan_through(x, np.where(np.abs(x) > lam, x, _typed(x, 0)))


def _shrink_d(x, lambd):
    lam = _typed(x, lambd)
    return _nan_through(x, np.where(np.abs(x) > lam, _typed(x, 1), _typed(x, 0)))


def _softshrink(x, lambd):
    lam = _typed(x, lambd)
    with np.errstate(all="ignore"):
        r = np.where(x > lam, x - lam, np.where(x < -lam, x + lam, _typed(x, 0)))
    return _nan_through(x, r)


HAND = {
    "relu": (_relu, _relu_d),
    "relu6": (_relu6, _relu6_d),
    "leaky_relu": (_leaky, _leaky_d),
    "hardtanh": (_hardtanh, _hardtanh_d),
    "threshold": (_threshold, _threshold_d),
    "hardshrink": (_hardshrink, _shrink_d),
    "softshrink": (_softshrink, _shrink_d),
}


def hand_reference(case, form, x, g=None):
    """Hand-derived expected values of one form, in x's compute dtype.

    f'' is derived for the piecewise-linear entries only (0 everywhere, NaN at
    NaN); the backward pass is the select ``0 if f'(x) == 0 else g * f'(x)``.
    """
    f, df = HAND[case.name]
    if form.kind == "f":
        return f(x, **case.params)
    if form.kind == "grad":
        return df(x, **case.params)
    if form.kind == "grad2":
        assert case.act.second_derivative == "0", "only piecewise-linear f'' is hand-derived"
        return _nan_through(x, np.zeros_like(x))
    d = df(x, **case.params)
    with np.errstate(all="ignore"):
        prod = g * d
    return np.where(d == 0, _typed(x, 0), prod).astype(x.dtype)


inf = math.inf

# The limits at -inf and +inf of f and f', as functions of the parameters.
# (f'' is 0 at both ends for every piecewise-linear entry.)
LIMITS = {
    "relu": lambda: {"f": (0.0, inf), "grad": (0.0, 1.0)},
    "relu6": lambda: {"f": (0.0, 6.0), "grad": (0.0, 0.0)},
    "leaky_relu": lambda negative_slope: {
        "f": (0.0 if negative_slope == 0 else -inf * negative_slope, inf),
        "grad": (negative_slope, 1.0),
    },
    "hardtanh": lambda min_val, max_val: {"f": (min_val, max_val), "grad": (0.0, 0.0)},
    "threshold": lambda threshold, value: {"f": (value, inf), "grad": (0.0, 1.0)},
    "hardshrink": lambda lambd: {"f": (-inf, inf), "grad": (1.0, 1.0)},
    "softshrink": lambda lambd: {"f": (-inf, inf), "grad": (1.0, 1.0)},
}


# --------------------------------------------------------------------------
# Assertions
# --------------------------------------------------------------------------


def _describe_failures(mask, actual, expected, inputs, limit=20):
    idx = np.flatnonzero(mask)
    lines = [f"{idx.size} of {mask.size} elements differ; first {min(limit, idx.size)}:"]
    flat_inputs = {k: np.broadcast_to(v, mask.shape).ravel() for k, v in inputs.items()}
    a, e = np.ravel(actual), np.ravel(expected)
    for i in idx[:limit]:
        where = ", ".join(f"{k}={v[i]!r}" for k, v in flat_inputs.items())
        lines.append(f"  [{i}] {where}: got {a[i]!r}, expected {e[i]!r}")
    return "\n".join(lines)


def assert_values(actual, expected, *, inputs=None, signed_zeros=False, ulp=0.0,
                  check_dtype=True):
    """Elementwise equality with NaN matched as NaN.

    ``signed_zeros=True`` also requires the sign of every zero to match (this,
    with NaN matched as a class, is bitwise equality without looking at the
    padding bytes of long double).  ``ulp > 0`` allows that many units in the
    last place of the expected value.
    """
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    if check_dtype:
        assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    a_nan, e_nan = np.isnan(actual), np.isnan(expected)
    with np.errstate(all="ignore"):
        if ulp:
            spacing = np.abs(np.spacing(expected.astype(actual.dtype)))
            close = np.abs(actual - expected) <= ulp * spacing
            equal = (actual == expected) | (close & np.isfinite(expected))
        else:
            equal = actual == expected
    ok = (a_nan & e_nan) | (~a_nan & ~e_nan & equal)
    if signed_zeros:
        ok &= ~((actual == 0) & (np.signbit(actual) != np.signbit(expected)))
    if not ok.all():
        pytest.fail(_describe_failures(~ok, actual, expected, inputs or {}), pytrace=False)


def assert_identical(actual, expected, **kwargs):
    """Same dtype, shape and bits (NaN matched as NaN, zeros by sign)."""
    assert_values(actual, expected, signed_zeros=True, **kwargs)


# --------------------------------------------------------------------------
# PyTorch, the independent reference for values and first derivatives
# --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def torch():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch


def torch_reference(torch, case, x, g=None, second=False):
    """f(x), g * f'(x) (g defaults to ones) and, if asked, f''(x) from autograd."""
    F = torch.nn.functional
    fn = getattr(F, case.act.torch_name)
    t = torch.from_numpy(np.array(x, copy=True)).requires_grad_(True)
    y = fn(t, **case.params)
    gt = torch.ones_like(y) if g is None else torch.from_numpy(np.array(g, copy=True))
    (d,) = torch.autograd.grad(y, t, gt, create_graph=second)
    out = [y.detach().numpy(), d.detach().numpy()]
    if second:
        if d.requires_grad:
            (d2,) = torch.autograd.grad(d, t, torch.ones_like(d), allow_unused=True,
                                        materialize_grads=True)
            out.append(d2.detach().numpy())
        else:  # f' does not depend on x: f'' is identically 0
            out.append(np.zeros_like(out[1]))
    return tuple(out)
