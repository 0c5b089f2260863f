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
import warnings
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

    @property
    def variant(self):
        """The table's variant (ufunc) that these parameters select."""
        return self.act.variant_for({**self.act.default_params(), **self.params})

    def raw_ufunc(self, form):
        """The ufunc behind it, which takes the parameters as trailing inputs.

        For an activation with a selector parameter (gelu, softplus) this is
        the ufunc of the selected variant; it takes `raw_params()`.
        """
        return getattr(ag.ufuncs, self.act.name + self.variant.suffix + form.suffix)

    def raw_params(self) -> tuple:
        """The numeric parameters the raw ufunc takes, in its order."""
        return tuple(self.params[n] for n in self.variant.params)

    @property
    def exact(self) -> bool:
        """Exact entries (the piecewise-linear family) are held bit for bit."""
        return self.act.tolerance_ulp == 0

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


# --------------------------------------------------------------------------
# Hand-derived references of the smooth entries: (f, f', f'') written out
# from their textbook formulas, evaluated in long double (x and the
# parameters are first rounded to x's dtype), or with mpmath where long
# double has too few digits (gelu's erfc in long double, x - tanh(x) near 0).
# They are within a few ulp of the true value; the tests compare them with
# `hand_ulp`, never bit for bit.  Their values at ±inf come from LIMITS.
# --------------------------------------------------------------------------

_L = np.longdouble
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_GELU_K = "0.797884560802865355879892119868763737"  # sqrt(2/pi), to long double
_GELU_C = "0.044715"
_SQRT_2PI = "2.50662827463100050241576528481104525"


def _mp_exact(v):
    """The exact value of a finite float (long double included) as an mpmath
    number: str() of a long double is only its shortest round-trip decimal,
    2^-65 off, which erfc(x) magnifies x**2 times."""
    import mpmath

    if v.dtype != _L:
        return mpmath.mpf(float(v))
    m, e = np.frexp(v)
    return mpmath.ldexp(mpmath.mpf(int(np.ldexp(m, 64))), int(e) - 64)


def _mp_map(fn, x):
    """fn (of an mpmath number, at 40 digits) over x, in long double."""
    import mpmath

    with mpmath.workdps(40):
        vals = [fn(_mp_exact(v)) if np.isfinite(v) else mpmath.mpf(0) for v in x.ravel()]
        with warnings.catch_warnings():  # beyond long double's range: inf, correctly rounded
            warnings.filterwarnings("ignore", "overflow encountered in conversion from string",
                                    RuntimeWarning)
            return np.array([_L(mpmath.nstr(v, 30)) for v in vals], dtype=_L).reshape(x.shape)


def _sig(z):
    return _L(1) / (_L(1) + np.exp(-z))


def _two_prod(a, b):
    """a * b = p + e exactly, in long double (Dekker's splitting: NumPy has no
    long double fma)."""
    split = _L(2**32 + 1)

    def halves(v):
        t = v * split
        hi = t - (t - v)
        return hi, v - hi
    ah, al = halves(a)
    bh, bl = halves(b)
    p = a * b
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _exp2(hi, lo):
    """exp(hi + lo) for |lo| << 1: exp of the rounded sum would carry |hi| ulp."""
    return np.exp(hi) * (1 + lo)


def _dsig(z):  # sigmoid'(z) = sigmoid(z) * sigmoid(-z), no cancellation
    return _sig(z) * _sig(-z)


def _sech2(z):  # 1 - tanh(z)**2 = 4 e / (1 + e)**2, e = exp(-2|z|)
    e = np.exp(-2 * np.abs(z))
    return 4 * e / (1 + e) ** 2


def _softplus_l(z):
    return np.maximum(z, _L(0)) + np.log1p(np.exp(-np.abs(z)))


def _sigmoid3(x):
    return _sig(x), _dsig(x), -_dsig(x) * np.tanh(x / 2)


def _logsigmoid3(x):
    return np.minimum(x, _L(0)) - np.log1p(np.exp(-np.abs(x))), _sig(-x), -_dsig(x)


def _tanh3(x):
    t = np.tanh(x)
    return t, _sech2(x), -2 * t * _sech2(x)


def _silu3(x):
    return x * _sig(x), _sig(x) * (1 + x * _sig(-x)), _dsig(x) * (2 - x * np.tanh(x / 2))


def _elu3(x, alpha):
    a = _L(alpha)
    neg = x <= 0
    return (np.where(neg, a * np.expm1(x), x), np.where(neg, a * np.exp(x), _L(1)),
            np.where(neg, a * np.exp(x), _L(0)))


def _selu3(x):
    a, s = _L(_SELU_ALPHA), _L(_SELU_SCALE)
    neg = x <= 0
    return (np.where(neg, s * a * np.expm1(x), s * x), np.where(neg, s * a * np.exp(x), s),
            np.where(neg, s * a * np.exp(x), _L(0)))


def _celu3(x, alpha):
    a = _L(alpha)
    neg = x <= 0
    # x / a as q + r/a (q a + r = x exactly): exp(x / a) keeps its digits for large |x / a|
    q = x / a
    p, e = _two_prod(q, a)
    ex = _exp2(q, ((x - p) - e) / a)
    return (np.where(neg, a * np.expm1(x / a), x), np.where(neg, ex, _L(1)),
            np.where(neg, ex / a, _L(0)))


def _hardsigmoid3(x):
    inside = (x > -3) & (x < 3)
    return (np.minimum(np.maximum(x + 3, _L(0)), _L(6)) / 6, np.where(inside, _L(1) / 6, _L(0)),
            np.zeros_like(x))


def _hardswish3(x):
    inside = (x > -3) & (x < 3)
    return (x * (np.minimum(np.maximum(x + 3, _L(0)), _L(6)) / 6),
            np.where(x <= -3, _L(0), np.where(x >= 3, _L(1), (2 * x + 3) / 6)),
            np.where(inside, _L(1) / 3, _L(0)))


def _softsign3(x):
    d = 1 + np.abs(x)
    return x / d, 1 / d**2, -2 * np.sign(x) / d**3


def _tanhshrink3(x):
    import mpmath

    small = np.abs(x) < 0.25  # x - tanh(x) cancels: mpmath there
    f = x - np.tanh(x)
    if small.any():
        def shrink(v):  # x - tanh(x) = x**3/3 + ...: 2 * log10(1/|x|) digits cancel
            if v == 0:
                return v
            with mpmath.workdps(40 + 2 * int(-mpmath.log10(abs(v)))):
                return +(v - mpmath.tanh(v))

        f[small] = _mp_map(shrink, x[small])
    t = np.tanh(x)
    return f, t * t, 2 * t * _sech2(x)


def _gelu3(x, approximate="none"):
    import mpmath

    if approximate == "tanh":
        k, c = _L(_GELU_K), _L(_GELU_C)
        g = 1 + 3 * c * x * x
        u2 = 2 * k * (x + c * x**3)
        S, dS = _sig(u2), _dsig(u2)  # 1 + tanh(u) = 2 S, 1 - tanh(u)**2 = 4 S'
        t = 2 * S - 1
        f, d, d2 = x * S, S + 2 * x * dS * k * g, 4 * dS * (k * g - x * t * k * k * g * g
                                                             + 3 * c * k * x * x)
        # u2 rounded carries |u2| ulp into exp(-|u2|): mpmath where |u2| > 16
        # (exp(-|u2|) is 0 in long double beyond |x| = 60, where f = max(x, 0),
        # f' = 1 or 0, f'' = 0, and x**3 may overflow)
        tail = (np.abs(x) > 3) & (np.abs(x) <= 60)
        if tail.any():
            def forms(v, i):  # (at _mp_map's 40 digits)
                K, C = mpmath.sqrt(2 / mpmath.pi), mpmath.mpf(_GELU_C)
                u = 2 * K * (v + C * v**3)
                G = 1 + 3 * C * v * v
                s, sm = 1 / (1 + mpmath.exp(-u)), 1 / (1 + mpmath.exp(u))
                return (v * s, s + 2 * v * s * sm * K * G,
                        4 * s * sm * (K * G - v * (s - sm) * K * K * G * G + 3 * C * K * v * v))[i]

            f, d, d2 = (np.where(tail, _mp_map(lambda v, i=i: forms(v, i), np.where(tail, x, _L(0))), r)
                        for i, r in enumerate((f, d, d2)))
        far = np.abs(x) > 60
        return (np.where(far, np.maximum(x, _L(0)), f), np.where(far, (x > 0).astype(_L), d),
                np.where(far, _L(0), d2))

    # no erfc in long double; Phi(x) is 0 or 1 and phi(x) 0 in long double
    # beyond |x| = 200.  phi(x) = exp(-x**2/2)/sqrt(2 pi) from x**2 exact (x**2
    # rounded would carry x**2/2 ulp) and sqrt(2 pi) to long double.
    big = np.abs(x) > 200
    sq, sq_lo = _two_prod(np.where(big, _L(0), x), np.where(big, _L(0), x))
    phi = np.where(big, _L(0), _exp2(-sq / 2, -sq_lo / 2) / _L(_SQRT_2PI))
    Phi = _mp_map(lambda v: mpmath.erfc(-v / mpmath.sqrt(2)) / 2, np.where(big, _L(0), x))
    Phi = np.where(big, np.where(x < 0, _L(0), _L(1)), Phi)
    return x * Phi, Phi + x * phi, phi * (2 - x * x)


def _mish3(x):
    sp = _softplus_l(x)
    t, q = np.tanh(sp), _sech2(sp)
    s, ds = _sig(x), _dsig(x)
    return x * t, t + x * q * s, 2 * q * s + x * q * (ds - 2 * t * s * s)


def _softplus3(x, beta, threshold=None, *, bx=None):
    b = _L(beta)
    z = b * x
    # max(z, 0) / b is x itself (and stays finite where b * x overflows)
    f = np.where(z > 0, x, _L(0)) + np.log1p(np.exp(-np.abs(z))) / b
    d, d2 = _sig(z), b * _dsig(z)
    if threshold is not None:
        lin = bx > threshold
        f, d, d2 = np.where(lin, x, f), np.where(lin, _L(1), d), np.where(lin, _L(0), d2)
    return f, d, d2


def _squareplus3(x, b):
    # r = hypot(x, sqrt b): no overflow of x**2 in long double inputs either;
    # for x < 0 the identity (x + r)(r - x) = b avoids the cancellation
    # (halved before the sum: x + r overflows at long double's max)
    bl = _L(b)
    r = np.hypot(x, np.sqrt(bl))
    pos = x >= 0
    den = r / 2 - x / 2  # (r - x) / 2
    h = bl / (2 * r)  # b / (2 r): f' = h / (r - x) for x < 0, f'' = h / r**2
    return (np.where(pos, x / 2 + r / 2, (bl / 4) / den),
            np.where(pos, (1 + x / r) / 2, (h / den) / 2), (h / r) / r)


def _sparse_plus3(x):
    inside = (x > -1) & (x < 1)
    return (np.where(x <= -1, _L(0), np.where(x >= 1, x, (x + 1) ** 2 / 4)),
            np.where(x <= -1, _L(0), np.where(x >= 1, _L(1), (x + 1) / 2)),
            np.where(inside, _L(0.5), _L(0)))


def _sparse_sigmoid3(x):
    _, d, d2 = _sparse_plus3(x)
    return d, d2, np.zeros_like(x)


SMOOTH = {
    "sigmoid": _sigmoid3,
    "logsigmoid": _logsigmoid3,
    "tanh": _tanh3,
    "silu": _silu3,
    "elu": _elu3,
    "selu": _selu3,
    "celu": _celu3,
    "hardsigmoid": _hardsigmoid3,
    "hardswish": _hardswish3,
    "softsign": _softsign3,
    "tanhshrink": _tanhshrink3,
    "gelu": _gelu3,
    "mish": _mish3,
    "softplus": _softplus3,
    "squareplus": _squareplus3,
    "sparse_plus": _sparse_plus3,
    "sparse_sigmoid": _sparse_sigmoid3,
}


def _smooth_reference(case, x):
    """(f, f', f'') of a smooth entry at x (any float dtype), in long double."""
    params = {k: (float(_typed(x, v)) if isinstance(v, float) else v)
              for k, v in case.params.items()}
    with np.errstate(invalid="ignore"):  # signalling NaNs in x raise FE_INVALID on widening
        xl = x.astype(_L)
    finite = np.isfinite(xl)
    xf = np.where(finite, xl, _L(0))
    if case.name == "softplus":
        with np.errstate(all="ignore"):
            # PyTorch's switch compares beta * x rounded in x's precision
            bx = (x * _typed(x, params["beta"])).astype(_L)
        bx = np.where(finite, bx, _L(0))
        with np.errstate(all="ignore"):
            out = SMOOTH["softplus"](xf, **params, bx=bx)
    else:
        with np.errstate(all="ignore"):
            out = SMOOTH[case.name](xf, **params)
    lim = LIMITS[case.name](**{**case.act.default_params(), **case.params})
    result = []
    for form_kind, r in zip(("f", "grad", "grad2"), out):
        r = np.asarray(r, dtype=_L)
        # A NaN at a finite x is 0 * inf in a formula whose underflowed factor
        # (exp(-x**2/2), sigmoid'(x), ...) makes the true value vanish.
        r = np.where(np.isnan(r) & finite, _L(0), r)
        if form_kind == "grad2":
            lo = hi = _L(0)
        else:
            lo, hi = (_L(v) for v in lim[form_kind])
        r = np.where(xl == -np.inf, lo, np.where(xl == np.inf, hi, r))
        result.append(np.where(np.isnan(xl), _L(np.nan), r))
    return result


def hand_flat(case, x):
    """Where the hand-derived f' is 0 (rounded to x's dtype): the flat pieces."""
    if case.name in SMOOTH:
        with np.errstate(all="ignore"):
            return _smooth_reference(case, x)[1].astype(x.dtype) == 0
    return HAND[case.name][1](x, **case.params) == 0


def hand_ulp(case, form=None, dtype=None) -> float:
    """How far (in ulp of the expected value) a result may be from HAND.

    0 for the exact entries; for the smooth ones the table's bound plus the
    reference's own rounding (the product of g and f' rounds once more).
    float16 results are within 1 ulp (docs/contract.rst "Accuracy"), plus the reference's half ulp.
    """
    if case.exact:
        return 0.0
    if dtype is not None and np.dtype(dtype) == np.float16:
        return 1.5
    if dtype is not None and np.dtype(dtype) == np.longdouble \
            and np.finfo(np.longdouble).nmant > np.finfo(np.float64).nmant:
        # docs/contract.rst "Accuracy": 4 ulp is for float32/float64; long double must be
        # computed in long double: 1024 ulp is half an ulp of float64, below
        # the error of a float64 computation (the long double loops of gelu,
        # mish, tanhshrink carry a few hundred ulp: float64-grade constants).
        # selu's constants are float64 literals in the table (its long double
        # loop has them to more digits).
        return 2**13 if case.name == "selu" else 1024.0
    return case.act.tolerance_ulp + 2 + (1 if form is not None and form.kind == "backward" else 0)


def hand_reference(case, form, x, g=None):
    """Hand-derived expected values of one form, in x's compute dtype.

    f'' is derived for the piecewise-linear entries only (0 everywhere, NaN at
    NaN); the backward pass is the select ``0 if f'(x) == 0 else g * f'(x)``.
    The smooth entries (SMOOTH) are rounded from long double once, to be
    compared within `hand_ulp`.
    """
    if case.name in SMOOTH:
        f, d, d2 = _smooth_reference(case, x)
        if form.kind == "backward":
            # the select is on f' as computed, i.e. rounded to x's dtype (it
            # underflows to 0 in the far tails: sigmoid_grad(-1e4) == 0)
            with np.errstate(all="ignore"):
                dx = d.astype(x.dtype)
                prod = g.astype(_L) * dx.astype(_L)
            r = np.where(dx == 0, _L(0), prod)
        else:
            r = {"f": f, "grad": d, "grad2": d2}[form.kind]
        with np.errstate(all="ignore"):
            return r.astype(x.dtype)
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
    # The smooth entries: docs/contract.rst "±inf and finite extremes" and the docstrings'
    # "Limits:" (f'' is 0 at both ends for every entry).
    "sigmoid": lambda: {"f": (0.0, 1.0), "grad": (0.0, 0.0)},
    "logsigmoid": lambda: {"f": (-inf, 0.0), "grad": (1.0, 0.0)},
    "tanh": lambda: {"f": (-1.0, 1.0), "grad": (0.0, 0.0)},
    "silu": lambda: {"f": (0.0, inf), "grad": (0.0, 1.0)},
    "elu": lambda alpha: {"f": (-alpha, inf), "grad": (0.0, 1.0)},
    "selu": lambda: {"f": (-_SELU_SCALE * _SELU_ALPHA, inf), "grad": (0.0, _SELU_SCALE)},
    "celu": lambda alpha: {"f": (-alpha, inf), "grad": (0.0, 1.0)},
    "hardsigmoid": lambda: {"f": (0.0, 1.0), "grad": (0.0, 0.0)},
    "hardswish": lambda: {"f": (0.0, inf), "grad": (0.0, 1.0)},
    "softsign": lambda: {"f": (-1.0, 1.0), "grad": (0.0, 0.0)},
    "tanhshrink": lambda: {"f": (-inf, inf), "grad": (1.0, 1.0)},
    "gelu": lambda approximate: {"f": (0.0, inf), "grad": (0.0, 1.0)},
    "mish": lambda: {"f": (0.0, inf), "grad": (0.0, 1.0)},
    "softplus": lambda beta, threshold: {"f": (0.0, inf), "grad": (0.0, 1.0)},
    "squareplus": lambda b: {"f": (0.0, inf), "grad": (0.0, 1.0)},
    "sparse_plus": lambda: {"f": (0.0, inf), "grad": (0.0, 1.0)},
    "sparse_sigmoid": lambda: {"f": (0.0, 1.0), "grad": (0.0, 0.0)},
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
            if actual.dtype == np.longdouble:
                # np.spacing is NaN for x87 long doubles whose significand is
                # all ones (0.49999999999999999997, ...): the step up instead
                mag = np.abs(expected.astype(actual.dtype))
                spacing = np.nextafter(mag, actual.dtype.type(np.inf)) - mag
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


#: The entries that PyTorch lacks (torch_name ""), from JAX's own functions
#: (jax.nn) and its autograd instead: name -> (jax.nn, params) -> function.
JAX_PEERS = {
    "squareplus": lambda nn, p: (lambda v: nn.squareplus(v, p["b"])),
    "sparse_plus": lambda nn, p: nn.sparse_plus,
    "sparse_sigmoid": lambda nn, p: nn.sparse_sigmoid,
}

#: Where JAX's autograd of its own function takes no branch at a kink:
#: sparse_sigmoid is 0.5 clip(x + 1, 0, 2), and JAX splits clip's tie (1/4)
#: wherever x + 1 rounds to 0 or 2 (at +-1, and at 1 - 2^-53); there the
#: derivative comes from JAX's autograd of the piecewise definition, written
#: out here (the outer branch at +-1, as sparse_plus_grad2).
#: test_catalogue.py checks that JAX really gives 1/4 there.
JAX_TIE_FORMS = {
    "sparse_sigmoid": lambda jnp: (
        lambda v: jnp.where(v <= -1, 0.0, jnp.where(v >= 1, 1.0, (v + 1) / 2))),
}


def jax_reference(case, x, g=None, second=False):
    """torch_reference for the entries of JAX_PEERS: f, g f' (and f'') from
    jax.grad, in x's dtype (f' of JAX_TIE_FORMS where JAX splits ties)."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    fn = JAX_PEERS[case.name](jax.nn, {**case.act.default_params(), **case.params})
    shape = np.shape(x)
    xj = jnp.asarray(np.array(x, copy=True).ravel())  # jax.grad per element, any shape

    def per_element(h):
        return np.asarray(jax.vmap(h)(xj)).reshape(shape)
    y, d = np.asarray(fn(xj)).reshape(shape), per_element(jax.grad(fn))
    if case.name in JAX_TIE_FORMS:
        d = per_element(jax.grad(JAX_TIE_FORMS[case.name](jnp)))
    out = [y, d if g is None else np.asarray(g) * d]
    if second:
        out.append(per_element(jax.grad(jax.grad(fn))))
    return tuple(out)


def torch_reference(torch, case, x, g=None, second=False):
    """f(x), g * f'(x) (g defaults to ones) and, if asked, f''(x) from autograd
    (JAX's, for the entries PyTorch lacks: jax_reference)."""
    if not case.act.torch_name:
        return jax_reference(case, x, g, second)
    F = torch.nn.functional
    fn = getattr(F, case.act.torch_name)
    params = dict(case.params)
    if case.name == "softplus" and params.get("threshold", 20.0) is None:
        params["threshold"] = math.inf  # the exact function: PyTorch never switches
    t = torch.from_numpy(np.array(x, copy=True)).requires_grad_(True)
    y = fn(t, **params)
    gt = torch.ones_like(y) if g is None else torch.from_numpy(np.array(g, copy=True))
    (d,) = torch.autograd.grad(y, t, gt, create_graph=second)
    out = [y.detach().numpy(), d.detach().numpy()]
    if second:
        try:
            if not d.requires_grad:
                raise LookupError
            (d2,) = torch.autograd.grad(d, t, torch.ones_like(d), allow_unused=True,
                                        materialize_grads=True)
            out.append(d2.detach().numpy())
        except RuntimeError:
            # PyTorch has no double backward for some piecewise-linear
            # functions (hardsigmoid): f'' is 0 there by the table's formula
            if case.act.second_derivative != "0":
                raise
            out.append(np.zeros_like(out[1]))
        except LookupError:  # f' does not depend on x: f'' is identically 0
            out.append(np.zeros_like(out[1]))
    return tuple(out)


#: PyTorch 2.13's CPU kernels of these multiply by a float32 constant (1/6;
#: celu's backward by 1/alpha rounded to float32, so that celu'(0) is
#: 0.99999998 for alpha = 1.35) even in float64, so they agree with the exact
#: value to float32's eps only
TORCH_FLOAT32_CONSTANTS = {"hardsigmoid", "hardswish", "celu"}

#: |x| up to which PyTorch's smooth functions are accurate enough to compare
TORCH_MODERATE = 10.0


def torch_moderate(case, x):
    """The inputs at which to compare with PyTorch: all of them for an exact
    entry; |x| <= TORCH_MODERATE for a smooth one (in the tails PyTorch's
    textbook formulas lose digits: sigmoid' = s * (1 - s))."""
    if case.exact:
        return np.ones(np.shape(x), bool)
    with np.errstate(all="ignore"):
        # softplus with threshold=None is PyTorch's with threshold=inf, whose
        # exp(beta x) overflows (0 * inf = NaN in its backward): moderate beta x
        scale = np.abs(case.params.get("beta", 1.0)) if case.name == "softplus" else 1.0
        return (np.abs(x) <= TORCH_MODERATE) & (np.abs(x) * scale <= TORCH_MODERATE)


def assert_matches_torch(case, actual, expected, x, g=None, inputs=None):
    """Exact entries: bit-for-bit values (NaN as NaN). Smooth entries: on
    moderate inputs, within 64 eps of the result's scale (max(|expected|, |g|,
    1)): PyTorch's own error there is well under that, and a wrong branch,
    parameter or convention is far over it."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    if case.exact:
        assert_values(actual, expected, inputs=inputs)
        return
    keep = torch_moderate(case, x)
    a, e = actual[keep], expected[keep]
    scale = np.maximum(np.abs(e), 1.0)
    if g is not None:
        scale = np.maximum(scale, np.abs(np.asarray(g)[keep]))
    eps = np.finfo(actual.dtype).eps
    if case.name in TORCH_FLOAT32_CONSTANTS and actual.dtype == np.float64:
        eps = np.finfo(np.float32).eps
    with np.errstate(all="ignore"):
        ok = (a == e) | (np.abs(a - e) <= 64 * eps * scale) | (np.isnan(a) & np.isnan(e))
    if not ok.all():
        sub = {k: np.broadcast_to(v, np.shape(x))[keep] for k, v in (inputs or {}).items()}
        pytest.fail(_describe_failures(~ok, a, e, sub), pytrace=False)
