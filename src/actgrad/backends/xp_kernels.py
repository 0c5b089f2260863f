"""The Array API kernels: every activation written once against ``xp``.

Arrays that actgrad's C++ kernels cannot reach (JAX on an accelerator, torch
on a device without a C++ path, CUDA without CuPy; ``actgrad.backends.xp``
decides)
are computed by their own library with these kernels.  Each class below is the
Array API twin of the C++ kernel struct of the same name in
``src/kernels/*.hpp`` (the table's ``Activation.kernel_struct``): static
``f``, ``df`` and ``d2f`` taking ``(xp, x, *params)``, written as the same
chain of selects, so that NaN propagation, -0.0 and the conventions at kinks
are those of the ufuncs, bit for bit, and with the same algorithms (the
smooth families below), so that the values are held to the ufuncs' bound
(tests/test_xp_fallback_accuracy.py: 4 ulp of mpmath).  ``x`` arrives in its compute dtype
(float16 and bfloat16 are computed in float32) and every scalar parameter as
a Python float already rounded to that dtype, so ``x * slope`` rounds exactly
as the C++ loop does.  A parameter may also be an array of the compute dtype.

The backward pass is not declared here: it is ``select_backward`` over
``df``, as in ``forms.hpp``.

Adding an activation to the table takes one class here, named like its C++
struct.  A class may also declare ``native``: backend name -> function
``(module, x, *params)`` that computes ``f`` with the library's own function,
for the backends where that function's results are the same as ``f`` here
(the tests hold every such declaration against the NumPy ufunc, signs of
zeros and NaN included).  Derivatives always come from the class, so
autograd through actgrad's functions follows actgrad's conventions.

This module imports no array library: it only receives namespaces.  The
smooth kernels take vecmath.hpp's building blocks from ``xp_math`` and the
C++ constants from ``coeffs`` (parsed from the headers).
"""

from __future__ import annotations

import math

from .coeffs import coeffs, selu_constants
from .xp_math import Math, barrier

__all__ = ["KERNELS", "kernel_for", "nan_or", "select", "select_backward", "special"]


def select(xp, cond, a, b):
    """``a where cond else b``; ``cond`` may be a Python bool (scalar parameters)."""
    if isinstance(cond, bool):
        return a if cond else b
    return xp.where(cond, a, b)


def nan_or(xp, x, value):
    """``value``, except NaN where ``x`` is NaN (common.hpp's ``nan_or``)."""
    return xp.where(xp.isnan(x), x, value)


def select_backward(xp, g, d):
    """``g * d``, except exactly 0 where ``d == 0`` (forms.hpp's backward)."""
    return xp.where(d == 0, 0, g * d)


def piecewise_linear_grad2(xp, x):
    return nan_or(xp, x, 0)


def special(xp, name: str):
    """A special function outside the Array API standard (``erf``, ``erfc``,
    ...), from the library behind ``xp``: ``special(xp, "erfc")(x)``."""
    module = getattr(xp, "__name__", "")
    if "torch" in module:
        import torch

        return getattr(torch.special, name)
    if module.startswith("jax"):
        import jax.scipy.special

        return getattr(jax.scipy.special, name)
    if "cupy" in module:
        import cupyx.scipy.special

        return getattr(cupyx.scipy.special, name)
    import scipy.special

    return getattr(scipy.special, name)


# --- the piecewise-linear family (src/kernels/piecewise_linear.hpp) ---------


class relu:
    @staticmethod
    def f(xp, x):
        return xp.where(x <= 0, 0, x)

    @staticmethod
    def df(xp, x):
        return xp.where(x > 0, 1, nan_or(xp, x, 0))

    @staticmethod
    def d2f(xp, x):
        return piecewise_linear_grad2(xp, x)

    # jax.nn.relu is maximum(x, 0): NaN stays NaN and -0.0 becomes +0.0.
    # (torch.relu keeps -0.0, so torch takes the select above.)
    native = {"jax": lambda jax, x: jax.nn.relu(x)}


class relu6:
    @staticmethod
    def f(xp, x):
        return xp.where(x <= 0, 0, xp.where(x >= 6, 6, x))

    @staticmethod
    def df(xp, x):
        return xp.where((x > 0) & (x < 6), 1, nan_or(xp, x, 0))

    @staticmethod
    def d2f(xp, x):
        return piecewise_linear_grad2(xp, x)

    native = {"jax": lambda jax, x: jax.nn.relu6(x)}


class leaky_relu:
    @staticmethod
    def f(xp, x, slope):
        # slope == 0 is relu: select 0 rather than compute -inf * 0 = NaN.
        return xp.where(x > 0, x, select(xp, slope == 0, nan_or(xp, x, 0), x * slope))

    @staticmethod
    def df(xp, x, slope):
        return xp.where(x > 0, 1, nan_or(xp, x, slope))

    @staticmethod
    def d2f(xp, x, slope):
        return piecewise_linear_grad2(xp, x)


class hardtanh:
    @staticmethod
    def f(xp, x, lo, hi):
        return xp.where(x <= lo, lo, xp.where(x >= hi, hi, x))

    @staticmethod
    def df(xp, x, lo, hi):
        return xp.where((x > lo) & (x < hi), 1, nan_or(xp, x, 0))

    @staticmethod
    def d2f(xp, x, lo, hi):
        return piecewise_linear_grad2(xp, x)

    # Not torch.clamp nor jnp.clip: hardtanh(-0.0, min_val=0.0) is +0.0 here,
    # -0.0 from torch.clamp; jnp.clip(0.0, -0.0, 0.0) is +0.0, here -0.0.


class threshold:
    @staticmethod
    def f(xp, x, th, value):
        return xp.where(x > th, x, nan_or(xp, x, value))

    @staticmethod
    def df(xp, x, th, value):
        return xp.where(x > th, 1, nan_or(xp, x, 0))

    @staticmethod
    def d2f(xp, x, th, value):
        return piecewise_linear_grad2(xp, x)


class hardshrink:
    @staticmethod
    def f(xp, x, lambd):
        return xp.where((x >= -lambd) & (x <= lambd), 0, x)

    @staticmethod
    def df(xp, x, lambd):
        return xp.where((x >= -lambd) & (x <= lambd), 0, nan_or(xp, x, 1))

    @staticmethod
    def d2f(xp, x, lambd):
        return piecewise_linear_grad2(xp, x)

    native = {"torch": lambda torch, x, lambd: torch.nn.functional.hardshrink(x, lambd)}


class softshrink:
    @staticmethod
    def f(xp, x, lambd):
        return xp.where(x > lambd, x - lambd, xp.where(x < -lambd, x + lambd, nan_or(xp, x, 0)))

    @staticmethod
    def df(xp, x, lambd):
        return xp.where((x > lambd) | (x < -lambd), 1, nan_or(xp, x, 0))

    @staticmethod
    def d2f(xp, x, lambd):
        return piecewise_linear_grad2(xp, x)


# --- the smooth families (logistic.hpp, exp_linear.hpp, rational.hpp,
# gelu.hpp, mish.hpp) --------------------------------------------------------
#
# Each kernel below follows its C++ struct step for step (the comments of the
# headers give the stable forms and why; they are not repeated here), with
# vecmath.hpp's building blocks from ``xp_math.Math``: exp and expm1 as parts
# m 2^n, scaled last, so that no intermediate is subnormal where the result
# is normal (a library that flushes subnormals cannot zero it); the same
# patches around the roots of the derivatives, with the coefficients of
# vecmath_coeffs.hpp; the same double-double chains, with Dekker's exact
# product where the C++ uses std::fma.  float32 is computed in float64 where
# the library has it (then rounded once), else in float32 with float's
# constants and polynomials, as the C++ computes float; float16/bfloat16
# arrive as float32.


def _has_float64(xp) -> bool:
    module = getattr(xp, "__name__", "")
    if module.startswith("jax"):
        import jax

        return bool(jax.config.jax_enable_x64)
    return True


def _widen(xp, v):
    if isinstance(v, (bool, int, float)) or v.dtype != xp.float32 or not _has_float64(xp):
        return v
    return xp.astype(v, xp.float64)


def _wide(fn):
    """f(xp, x, *p) computed in float64 for float32 x (where available)."""
    def wrapped(xp, x, *params):
        w = _widen(xp, x)
        out = fn(xp, w, *(_widen(xp, p) for p in params))
        return out if out.dtype == x.dtype else xp.astype(out, x.dtype)
    return staticmethod(wrapped)


def _barrier(xp, v):
    """v, kept as it is (see xp_math.barrier)."""
    return barrier(xp, v)


def _e(xp, x, k=1.0):
    """exp(-k |x|): 0 at +-inf, NaN for NaN (scaled: see xp_math)."""
    return Math(xp, x.dtype).exp(-k * xp.abs(x))


def _clip(xp, x, lo, hi):
    # NaN passes through (comparisons fail)
    return xp.where(x < lo, lo, xp.where(x > hi, hi, x))


def _split(xp, v):
    """Veltkamp: v = hi + lo, hi with half the significand (xp_math)."""
    return Math(xp, v.dtype).split(v)


def _two_prod(xp, a, b):
    """a b = p + err exactly (Dekker; no FMA needed)."""
    return Math(xp, (b if isinstance(a, float) else a).dtype).two_prod(a, b)


_C = coeffs()
_TAIL_X = 800.0  # FP<W>::tail_x: x e^-|x| is 0 beyond, and inf * 0 would be NaN


class sigmoid:
    @staticmethod
    def _f(xp, x):
        M = Math(xp, x.dtype)
        m, n, _, _ = M.exp_parts(-xp.abs(x), precise=False)
        e = M.scale(m, n)
        return xp.where(x >= 0, 1.0, e) / (1 + e)

    @staticmethod
    def _df(xp, x):
        M = Math(xp, x.dtype)
        m, n, _, _ = M.exp_parts(-xp.abs(x), precise=False)
        e = M.scale(m, n)
        return e / M.one_plus_sq(e)

    @staticmethod
    def _d2f(xp, x):
        M = Math(xp, x.dtype)
        m, n, em1, _ = M.exp_parts(-xp.abs(x), precise=False)
        e = M.scale(m, n)
        r = e * (xp.abs(em1) / M.one_plus_cube(e))
        return xp.where(x > 0, -r, r)

    f = _wide(_f.__func__)
    df = _wide(_df.__func__)
    d2f = _wide(_d2f.__func__)


class logsigmoid:
    @staticmethod
    def _f(xp, x):
        M = Math(xp, x.dtype)
        e = M.exp(-xp.abs(x))
        return xp.where(x < 0, x, 0.0) - M.log1p_unit(e)

    @staticmethod
    def _df(xp, x):
        M = Math(xp, x.dtype)
        m, n, _, _ = M.exp_parts(-xp.abs(x), precise=False)
        e = M.scale(m, n)
        return xp.where(x < 0, 1.0, e) / (1 + e)

    f = _wide(_f.__func__)
    df = _wide(_df.__func__)
    d2f = _wide(lambda xp, x: -sigmoid._df(xp, x))


class tanh:
    @staticmethod
    def _f(xp, x):
        M = Math(xp, x.dtype)
        m, n, em1, _ = M.exp_parts(-2 * xp.abs(x), precise=False)
        e = M.scale(m, n)
        small = xp.abs(x) < 0.55
        q = xp.where(small, -em1, 2 * e) / xp.where(small, 2 + em1, 1 + e)
        return xp.copysign(xp.where(small, q, 1 - q), x)

    @staticmethod
    def _df(xp, x):
        M = Math(xp, x.dtype)
        m, n, _, _ = M.exp_parts(-2 * xp.abs(x), precise=False)
        return M.scale(4 * m / M.one_plus_sq(M.scale(m, n)), n)

    @staticmethod
    def _d2f(xp, x):
        M = Math(xp, x.dtype)
        m, n, em1, _ = M.exp_parts(-2 * xp.abs(x), precise=False)
        r = M.scale(8 * m * xp.abs(em1) / M.one_plus_cube(M.scale(m, n)), n)
        return xp.where(x > 0, -r, r)

    f = _wide(_f.__func__)
    df = _wide(_df.__func__)
    d2f = _wide(_d2f.__func__)


class silu:
    @staticmethod
    def _f(xp, x):
        M = Math(xp, x.dtype)
        m, n, _, _ = M.exp_parts(-xp.abs(x), precise=False)
        d = 1 + M.scale(m, n)
        neg = x < 0
        xc = xp.where(x < -_TAIL_X, -_TAIL_X, x)
        q = xp.where(neg, xc * m, x) / d
        return xp.where(neg, M.scale(q, n), q)

    @staticmethod
    def _df(xp, x):
        M = Math(xp, x.dtype)
        dr = M.minus_root(x, _C["silu_grad_root"], _C["silu_grad_root_lo"])
        patch = xp.abs(dr) < 0.5
        m, n, em1, ml = M.exp_parts(xp.where(patch, dr, -xp.abs(x)))
        root_exp = M.const(_C["silu_grad_root_exp"])
        em = xp.where(patch, root_exp * m, m)
        e = M.scale(em, n)
        xc = _clip(xp, x, -_TAIL_X, _TAIL_X)
        neg = x < 0
        g = xp.where(patch, root_exp * em1 + dr, (1 + xc) + e)
        eml = xp.where(patch, root_exp * ml, ml)
        nh, nl = M.mul_dd(em, eml, g, True)
        nh = xp.where(neg, nh, M.fma(e, 1 + xc, 1.0, True))
        nl = xp.where(neg, nl, 0.0)
        dh, dl = M.one_plus_pow_dd(2, e, M.scale(eml, n))
        q = M.div_dd(nh, nl, dh, dl)
        return xp.where(neg, M.scale(q, n), q)

    @staticmethod
    def _d2f(xp, x):
        M = Math(xp, x.dtype)
        a = xp.abs(x)
        dr = M.minus_root(a, _C["silu_grad2_root"], _C["silu_grad2_root_lo"])
        patch = xp.abs(dr) < 1.2
        m, n, em1, ml = M.exp_parts(xp.where(patch, -dr, -a))
        root_exp = M.const(_C["silu_grad2_root_exp"])
        em = xp.where(patch, root_exp * m, m)
        e = M.scale(em, n)
        ac = xp.where(a > _TAIL_X, _TAIL_X, a)
        N = xp.where(patch, M.const(_C["silu_grad2_root_m2"]) * em1 + dr * (e - 1),
                     e * (2 + ac) + (2 - ac))
        eml = xp.where(patch, root_exp * ml, ml)
        nh, nl = M.mul_dd(em, eml, N, True)
        dh, dl = M.one_plus_pow_dd(3, e, M.scale(eml, n))
        return M.scale(M.div_dd(nh, nl, dh, dl), n)

    f = _wide(_f.__func__)
    df = _wide(_df.__func__)
    d2f = _wide(_d2f.__func__)


class softplus:
    @staticmethod
    def _parts(M, x, beta, precise=True):
        xp, fp = M.xp, M.fp
        yh, yl = M.two_prod(beta, x)
        exact = (x == 0) | (xp.abs(x) == math.inf)
        yh = xp.where(exact, x, yh)
        yl = xp.where(~exact & (xp.abs(yh) < fp.big), yl, 0.0)  # inf, NaN or near overflow
        return M.exp_parts(-xp.abs(yh), xp.where(yh >= 0, -yl, yl), precise=precise)

    @staticmethod
    def _vanishes(M, x, beta):
        a = M.xp.abs(x)
        return (a == math.inf) | (a * beta > -M.fp.vanish_x)

    @staticmethod
    def _f(xp, x, beta):
        M = Math(xp, x.dtype)
        m, n, _, _ = softplus._parts(M, x, beta)
        e = M.scale(m, n)
        tail = xp.where(n < M.fp.subnormal_n, M.scale(m / beta, n), M.log1p_unit(e) / beta)
        return xp.where(x > 0, x, 0.0) + xp.where(softplus._vanishes(M, x, beta), 0.0, tail)

    @staticmethod
    def _df(xp, x, beta):
        M = Math(xp, x.dtype)
        m, n, _, _ = softplus._parts(M, x, beta, precise=False)
        e = xp.where(softplus._vanishes(M, x, beta), 0.0, M.scale(m, n))
        return xp.where(x >= 0, 1.0, e) / (1 + e)

    @staticmethod
    def _d2f(xp, x, beta):
        M = Math(xp, x.dtype)
        m, n, _, _ = softplus._parts(M, x, beta)
        # beta (m/2) 2^(n+1): beta m would overflow for beta near the max
        r = M.scale(beta * (m * 0.5) / M.one_plus_sq(M.scale(m, n)), n + 1)
        return xp.where(softplus._vanishes(M, x, beta), 0.0, r)

    f = _wide(_f.__func__)
    df = _wide(_df.__func__)
    d2f = _wide(_d2f.__func__)


class softplus_threshold:
    # beta x is rounded in the compute dtype (float32 for float16), as PyTorch.
    @staticmethod
    def f(xp, x, beta, threshold):
        return xp.where(x * beta > threshold, x, softplus.f(xp, x, beta))

    @staticmethod
    def df(xp, x, beta, threshold):
        return xp.where(x * beta > threshold, 1.0, softplus.df(xp, x, beta))

    @staticmethod
    def d2f(xp, x, beta, threshold):
        return xp.where(x * beta > threshold, 0.0, softplus.d2f(xp, x, beta))


class tanhshrink:
    _CUT = 0.95

    @staticmethod
    def _small_part(M, a):
        """a^3 P(a^2) = qh + ql, a^2 exact and a^3 to twice the precision
        (for a < cut; 0 above, where it is not selected: no overflow, whose
        NaNs autodiff would carry through the selects)."""
        a = M.xp.where(a < tanhshrink._CUT, a, 0.0)
        zh, zl = M.two_prod(a, a, True)
        P = M.horner(zh, M.fp.poly["tanhshrink_p"])
        ch, cl = M.mul_dd(zh, zl, a, True)
        qh, qe = M.two_prod(ch, P, True)
        return qh, qe + cl * P

    @staticmethod
    def _tanh_abs(M, a, e):
        """tanh(a) = th + tl for a >= 0: a - a^3 P(a^2) or 1 - 2e/(1 + e)."""
        xp = M.xp
        qh, ql = tanhshrink._small_part(M, a)
        small = a < tanhshrink._CUT
        q = xp.where(small, qh, 2 * e / (1 + e))
        th, tl = M.two_sum(xp.where(small, a, 1.0), -q)
        return th, xp.where(small, tl - ql, tl)

    @staticmethod
    def _f(xp, x):
        M = Math(xp, x.dtype)
        a = xp.abs(x)
        qh, ql = tanhshrink._small_part(M, a)
        e = M.exp(-2 * a, precise=False)
        m = xp.where(a < tanhshrink._CUT, qh + ql, (a - 1) + 2 * e / (1 + e))
        return xp.copysign(m, x)

    @staticmethod
    def _df(xp, x):
        M = Math(xp, x.dtype)
        a = xp.abs(x)
        th, tl = tanhshrink._tanh_abs(M, a, M.exp(-2 * a, precise=False))
        return M.fma(th, th, 2 * th * tl, True)  # (th + tl)^2, about one rounding

    @staticmethod
    def _d2f(xp, x):
        M = Math(xp, x.dtype)
        a = xp.abs(x)
        m, n, _, _ = M.exp_parts(-2 * a, precise=False)
        e = M.scale(m, n)
        th, tl = tanhshrink._tanh_abs(M, a, e)
        return xp.copysign(M.scale(8 * (th + tl) * m / M.one_plus_sq(e), n), x)

    f = _wide(_f.__func__)
    df = _wide(_df.__func__)
    d2f = _wide(_d2f.__func__)


def _elu_left(M, x, alpha):
    """alpha exp(x), 0 below vanish_x: alpha (m/2) 2^(n+1) (alpha m would
    overflow for alpha near the max)."""
    m, n, _, _ = M.exp_parts(x, precise=False)
    return M.xp.where(x < M.fp.vanish_x, 0.0, M.scale(alpha * (m * 0.5), n + 1))


class elu:
    @staticmethod
    def _f(xp, x, alpha):
        M = Math(xp, x.dtype)
        em1 = M.expm1(x)
        # at x = +-0: +-0 times alpha's sign (alpha may have rounded to inf)
        r = xp.where(em1 == 0, M.copysign(1.0, alpha) * em1, alpha * em1)
        return xp.where(x > 0, x, r)

    @staticmethod
    def _df(xp, x, alpha):
        return xp.where(x > 0, 1.0, _elu_left(Math(xp, x.dtype), x, alpha))

    @staticmethod
    def _d2f(xp, x, alpha):
        return xp.where(x > 0, 0.0, _elu_left(Math(xp, x.dtype), x, alpha))

    f = _wide(_f.__func__)
    df = _wide(_df.__func__)
    d2f = _wide(_d2f.__func__)


_SELU_ALPHA, _SELU_SCALE = selu_constants()


class selu:
    # f'(0) = scale alpha, the product rounded once (PyTorch's negcoef)
    _SA = _SELU_ALPHA * _SELU_SCALE

    @staticmethod
    def _f(xp, x):
        M = Math(xp, x.dtype)
        return xp.where(x > 0, M.const(_SELU_SCALE) * x, M.const(selu._SA) * M.expm1(x))

    @staticmethod
    def _df(xp, x):
        M = Math(xp, x.dtype)
        return xp.where(x > 0, M.const(_SELU_SCALE), _elu_left(M, x, M.const(selu._SA)))

    @staticmethod
    def _d2f(xp, x):
        M = Math(xp, x.dtype)
        return xp.where(x > 0, 0.0, _elu_left(M, x, M.const(selu._SA)))

    f = _wide(_f.__func__)
    df = _wide(_df.__func__)
    d2f = _wide(_d2f.__func__)


class celu:
    @staticmethod
    def _parts(M, x, alpha):
        """exp parts of x/alpha as a double-double q = qh + ql, and qh."""
        xp, fp = M.xp, M.fp
        exact = (x == 0) | (xp.abs(x) == math.inf)
        qh = xp.where(exact, x, x / alpha)
        p, e = M.two_prod(qh, alpha)
        finite_alpha = alpha <= float(xp.finfo(M.dtype).max)
        refine = ~exact & (xp.abs(qh) < fp.big) & finite_alpha
        ql = xp.where(refine, ((x - p) - e) / alpha, 0.0)
        return M.exp_parts(qh, ql), qh

    @staticmethod
    def _f(xp, x, alpha):
        M = Math(xp, x.dtype)
        (_, _, em1, _), _ = celu._parts(M, x, alpha)
        return xp.where((x > 0) | (alpha == math.inf), x, alpha * em1)

    @staticmethod
    def _df(xp, x, alpha):
        M = Math(xp, x.dtype)
        (m, n, _, _), q = celu._parts(M, x, alpha)
        return xp.where(x > 0, 1.0, xp.where(q < M.fp.vanish_x, 0.0, M.scale(m, n)))

    @staticmethod
    def _d2f(xp, x, alpha):
        M = Math(xp, x.dtype)
        (m, n, _, _), q = celu._parts(M, x, alpha)
        return xp.where(x > 0, 0.0, xp.where(q < M.fp.vanish_x, 0.0, M.scale(m / alpha, n)))

    f = _wide(_f.__func__)
    df = _wide(_df.__func__)
    d2f = _wide(_d2f.__func__)


def _const(xp, value, x):
    """`value` rounded to x's dtype, as a 0-d array on x's device."""
    if "torch" in getattr(xp, "__name__", ""):
        return xp.asarray(value, dtype=x.dtype, device=x.device)
    return xp.asarray(value, dtype=x.dtype)


class hardsigmoid:
    # in the compute dtype, as rational.hpp (the constant 1/6 in that dtype)
    @staticmethod
    def f(xp, x):
        y = x + 3
        sixth = _const(xp, 1 / 6, x)
        return xp.where(y <= 0, 0.0, xp.where(y >= 6, 6.0, y)) * sixth

    @staticmethod
    def df(xp, x):
        return xp.where((x > -3) & (x < 3), _const(xp, 1 / 6, x), nan_or(xp, x, 0))

    @staticmethod
    def d2f(xp, x):
        return nan_or(xp, x, 0)


class hardswish:
    @staticmethod
    def f(xp, x):
        sixth = _const(xp, 1 / 6, x)
        return xp.where(x > -3, xp.where(x < 3, x * (x + 3) * sixth, x), nan_or(xp, x, 0))

    @staticmethod
    def df(xp, x):
        return xp.where(x > -3, xp.where(x < 3, (2 * x + 3) / 6, 1.0), nan_or(xp, x, 0))

    @staticmethod
    def d2f(xp, x):
        return xp.where((x > -3) & (x < 3), _const(xp, 1 / 3, x), nan_or(xp, x, 0))


class softsign:
    @staticmethod
    def _one_plus(M, a):
        """1 + |x| = s + sl exactly (TwoSum; 0 low part beyond 1e300)."""
        s = M.barrier(1 + a)
        b = M.barrier(s - 1)
        big = math.inf if M.single else 1e300  # (float(1e300) is inf in the C++)
        return s, M.xp.where(a < big, (1 - (s - b)) + (a - b), 0.0)

    @staticmethod
    def _f(xp, x):
        M = Math(xp, x.dtype)
        a = xp.abs(x)
        s, sl = softsign._one_plus(M, a)
        u = 1 / s
        m = xp.where(a > 1, 1 - (u - u * u * sl), a * u * (1 - sl * u))
        return xp.copysign(m, x)

    @staticmethod
    def _df(xp, x):
        M = Math(xp, x.dtype)
        s, sl = softsign._one_plus(M, xp.abs(x))
        # beyond sqrt(max) (1 + |x|)^2 overflows: square the reciprocal
        # instead (and keep the overflow out of the other branch, whose NaNs
        # autodiff would carry through the select)
        big = 1e18 if M.single else 1e150
        sc = xp.where(s > big, 1.0, s)
        p, pe = M.two_prod(sc, sc, True)
        den = p + (pe + 2 * sc * sl)  # (1 + |x|)^2
        return xp.where(s > big, (1 / s) * (1 / s), 1 / den)

    @staticmethod
    def _d2f(xp, x):
        M = Math(xp, x.dtype)
        s, sl = softsign._one_plus(M, xp.abs(x))
        big = 1e12 if M.single else 1e100
        sc = xp.where(s > big, 1.0, s)
        p, pe = M.two_prod(sc, sc, True)
        c, ce = M.two_prod(p, sc, True)
        den = c + (ce + pe * sc + 3 * p * sl)  # (1 + |x|)^3
        inv = 1 / s
        r = xp.where(s > big, 2 * (inv * inv * inv), 2 / den)
        return xp.where(x > 0, -r, xp.where(x < 0, r, nan_or(xp, x, 0)))

    f = _wide(_f.__func__)
    df = _wide(_df.__func__)
    d2f = _wide(_d2f.__func__)


class gelu:
    _A_MAX = 40.0  # |x| clamped (inf * 0 would be NaN) where every result is 0

    @staticmethod
    def _pieces(M, x):
        """(a, em, eml, hm, hl, n): exp(-x^2/2) = (em + eml) 2^n and
        erfc(a/sqrt2)/2 = (hm + hl) 2^n, a = |x| clamped."""
        xp = M.xp
        a = xp.abs(x)
        a = xp.where(a > gelu._A_MAX, gelu._A_MAX, a)
        sh, sl = M.two_prod(a, a, True)
        m, n, _, ml = M.exp_parts(-0.5 * sh, -0.5 * sl)
        kh, kl = M.dd(_C["inv_sqrt2"], _C["inv_sqrt2_lo"])
        zh, zl = M.two_prod(a, kh, True)
        zl = zl + a * kl
        t = (zh - 3.5) / (zh + 3.5)
        P = M.horner(t, M.fp.poly["erfcx_t"])  # erfcx(z) (1 + z)
        s, sb = M.two_sum(1.0, zh)             # 1 + z = s + sb
        sb = sb + zl
        gh = P / s                             # erfcx(z) = gh + gl
        p, pe = M.two_prod(gh, s, True)
        gl = (((P - p) - pe) - gh * sb) / s
        hh, hl = M.mul_dd(gh, gl, m, True)
        hl = hl + gh * ml
        return a, m, ml, 0.5 * hh, 0.5 * hl, n

    @staticmethod
    def _f(xp, x):
        M = Math(xp, x.dtype)
        a, _, _, hm, hl, n = gelu._pieces(M, x)
        neg = -M.fma(a, hm, a * hl, True)
        # Phi = 1 - erfc/2 = rh + rl (TwoSum), times x with about one rounding
        rh, rl = M.two_sum(1.0, -M.scale(hm, n))
        rl = rl - M.scale_low(hl, n)
        pos = xp.copysign(M.fma(x, rh, a * rl), x)
        return xp.where(x < 0, M.scale(neg, n), pos)

    @staticmethod
    def _df(xp, x):
        M = Math(xp, x.dtype)
        a, em, eml, hm, hl, n = gelu._pieces(M, x)
        # a phi(x) 2^-n = ah + al, carried to twice the precision like erfc/2
        kh, kl = M.dd(_C["inv_sqrt_2pi"], _C["inv_sqrt_2pi_lo"])
        ph, pl = M.two_prod(a, kh, True)
        pl = pl + a * kl
        ah, al = M.mul_dd(ph, pl, em, True)
        al = al + ph * eml
        pos = ((1 - M.scale(hm, n)) + M.scale(ah, n)) + M.scale_low(al - hl, n)
        neg = M.scale((hm - ah) + (hl - al), n)
        q = M.fp.poly["gelu_grad_q"]
        patch = M.patch(x, _C["gelu_grad_root"], _C["gelu_grad_root_lo"], q)
        return xp.where(x < 0, xp.where((x >= -1.1) & (x <= -0.2), patch, neg), pos)

    @staticmethod
    def _d2f(xp, x):
        M = Math(xp, x.dtype)
        a, em, eml, _, _, n = gelu._pieces(M, x)
        sh, sl = M.two_prod(a, a, True)
        vh, vl = M.two_sum(2.0, -sh)  # 2 - x^2, exact through the roots
        vl = vl - sl
        kh, kl = M.dd(_C["inv_sqrt_2pi"], _C["inv_sqrt_2pi_lo"])
        th, tl = M.mul_dd(vh, vl, kh, True)
        tl = tl + vh * kl
        rh, re = M.two_prod(th, em, True)
        return M.scale(rh + (re + (th * eml + tl * em)), n)

    f = _wide(_f.__func__)
    df = _wide(_df.__func__)
    d2f = _wide(_d2f.__func__)


class gelu_tanh:
    """x s(v), v = 2 sqrt(2/pi) x (1 + c x^2): PyTorch's tanh form."""

    _A_MAX = 30.0  # |v(30)| > 1900: exp(-|v|) = 0

    @staticmethod
    def _pieces(M, x):
        """(a, v1, v1sq, m, e, n, ml, v1h, v1l): v' = K2 (1 + 3 c x^2) (also
        as the double-double v1h + v1l), its square, exp(-|v|) = (m + ml) 2^n
        = e, v a double-double."""
        xp = M.xp
        a = xp.abs(x)
        a = xp.where(a > gelu_tanh._A_MAX, gelu_tanh._A_MAX, a)
        ch, cl = M.dd(_C["gelu_tanh_c"], _C["gelu_tanh_c_lo"])
        kh, kl = M.dd(_C["gelu_tanh_k2"], _C["gelu_tanh_k2_lo"])
        qh, ql = M.two_prod(a, a, True)
        ph, pl = M.two_prod(ch, qh, True)
        pl = pl + (ch * ql + cl * qh)
        sh, sl = M.two_sum(1.0, ph)  # 1 + c x^2
        sl = sl + pl
        yh, yl = M.two_prod(a, sh, True)
        yl = yl + a * sl
        vh, vl = M.two_prod(kh, yh, True)
        vl = vl + (kh * yl + kl * yh)
        m, n, _, ml = M.exp_parts(-vh, -vl)
        # v' = K2 ((1 + c x^2) + 2 c x^2) as a double-double
        wh, wl = M.two_sum(sh, 2 * ph)
        wl = wl + (sl + 2 * pl)
        v1h, v1l = M.two_prod(kh, wh, True)
        v1l = v1l + (kh * wl + kl * wh)
        v1 = v1h + v1l
        v1sq = v1h * v1h + 2 * v1h * v1l
        return a, v1, v1sq, m, M.scale(m, n), n, ml, v1h, v1l

    @staticmethod
    def _f(xp, x):
        M = Math(xp, x.dtype)
        a, _, _, m, e, n, *_ = gelu_tanh._pieces(M, x)
        q = xp.where(x < 0, -a * m, x) / (1 + e)
        return xp.where(x < 0, M.scale(q, n), q)

    @staticmethod
    def _df(xp, x):
        # gelu.hpp's double/float branch: B1 = ((1 - ph) + e) - pl with
        # a v' = ph + pl, the patch on [-1.2, -0.3] only, then m B1 / (1 + e)^2
        # as double-doubles
        M = Math(xp, x.dtype)
        a, v1, _, m, e, n, ml, v1h, v1l = gelu_tanh._pieces(M, x)
        dh, dl = M.one_plus_pow_dd(2, e, M.scale_low(ml, n))
        pos = (1 + e * (1 + a * v1)) / (dh + dl)
        ph, pl = M.two_prod(a, v1h, True)
        pl = M.fma(a, v1l, pl, True)
        patch = M.patch(x, _C["gelu_tanh_grad_root"], _C["gelu_tanh_grad_root_lo"],
                        _C["gelu_tanh_b1_q"])
        b1 = xp.where((x >= -1.2) & (x <= -0.3), patch, ((1 - ph) + e) - pl)
        nh, nl = M.mul_dd(m, ml, b1, True)
        return xp.where(x < 0, M.scale(M.div_dd(nh, nl, dh, dl), n), pos)

    @staticmethod
    def _d2f(xp, x):
        # gelu.hpp's double/float branch: beyond the patch B2 = (t1 - S) + S q,
        # S = a v'^2 a double-double, q = 2e / (1 + e)
        M = Math(xp, x.dtype)
        a, v1, _, m, e, n, ml, v1h, v1l = gelu_tanh._pieces(M, x)
        k6c = M.const(6 * M.const(_C["gelu_tanh_k2"]) * M.const(_C["gelu_tanh_c"]))
        t1 = 2 * v1 + k6c * (a * a)
        patch = M.patch(a, _C["gelu_tanh_grad2_root"], _C["gelu_tanh_grad2_root_lo"],
                        _C["gelu_tanh_b2_q"])
        sh, sl = M.two_prod(v1h, v1h, True)
        sl = M.fma(2 * v1h, v1l, sl, True)
        Sh, Sl = M.mul_dd(sh, sl, a, True)
        q = 2 * e / (1 + e)
        bh, bl = M.two_sum(t1, -Sh)
        far = bh + ((bl - Sl) + M.fma(Sh, q, Sl * q, True))
        b2 = xp.where((a >= 0.7) & (a <= 3.4), patch, far)
        nh, nl = M.mul_dd(m, ml, b2, True)
        dh, dl = M.one_plus_pow_dd(2, e, M.scale_low(ml, n))
        return M.scale(M.div_dd(nh, nl, dh, dl), n)

    f = _wide(_f.__func__)
    df = _wide(_df.__func__)
    d2f = _wide(_d2f.__func__)


class mish:
    """x tanh(softplus(x)), rational in e = exp(-|x|) (mish.hpp)."""

    @staticmethod
    def _f(xp, x):
        M = Math(xp, x.dtype)
        m, n, _, _ = M.exp_parts(-xp.abs(x))
        e = M.scale(m, n)
        xc = xp.where(x < -_TAIL_X, -_TAIL_X, x)
        D = 1 + 2 * e * (1 + e)
        w2 = e * (e + 2) + 2
        neg = x < 0
        q = xp.where(neg, xc * m * (e + 2), 2 * e * e) / xp.where(neg, w2, D)
        return xp.where(neg, M.scale(q, n), x * (1 - q))

    @staticmethod
    def _df(xp, x):
        M = Math(xp, x.dtype)
        m, n, _, ml = M.exp_parts(-xp.abs(x))
        e = M.scale(m, n)
        xc = _clip(xp, x, -_TAIL_X, _TAIL_X)
        D = 1 + 2 * e * (1 + e)
        patch = M.patch(x, _C["mish_b_root"], _C["mish_b_root_lo"], _C["mish_b_q"])
        B = xp.where((x >= -1.55) & (x <= -0.9), patch,
                     e * (e * (4 + e) + (6 + 4 * xc)) + 4 * (xc + 1))
        nh, nl = M.mul_dd(m, ml, 0.25 * B, True)
        dh, dl = M.quadratic_squared_dd(e, 1.0, 0.5)
        neg = M.scale(M.div_dd(nh, nl, dh, dl), n)
        pos = 1 + e * e * (4 * xc * (1 + e) / D - 2) / D
        return xp.where(x < 0, neg, pos)

    @staticmethod
    def _d2f(xp, x):
        M = Math(xp, x.dtype)
        m, n, _, ml = M.exp_parts(-xp.abs(x))
        e = M.scale(m, n)
        xc = _clip(xp, x, -_TAIL_X, _TAIL_X)
        hn_patch = M.patch(x, _C["mish_hn_root"], _C["mish_hn_root_lo"], _C["mish_hn_q"])
        hn = xp.where((x >= -2.8) & (x <= -1.8), hn_patch,
                      2 * (xc + 2) + e * ((8 + 2 * xc) + e * ((6 - 3 * xc) + e * (2 - 2 * xc))))
        hp_patch = M.patch(x, _C["mish_hp_root"], _C["mish_hp_root_lo"], _C["mish_hp_q"])
        hp = xp.where((x >= 1.15) & (x <= 2.0), hp_patch,
                      2 * (1 - xc) + e * ((6 - 3 * xc) + e * ((8 + 2 * xc) + e * (4 + 2 * xc))))
        # (w + 2)^3 = 8 (1 + e + e^2/2)^3 and D^3, inner sums and cubes as double-doubles
        nh, nl = M.mul_dd(m, ml, 0.5 * hn, True)
        dh, dl = M.quadratic_cubed_dd(e, 1.0, 0.5)
        neg = M.scale(M.div_dd(nh, nl, dh, dl), n)
        # 4 e^2 hp / D^3, e^2 = (m + ml)^2 2^2n with the low part of m
        mh, mm = M.two_prod(m, m, True)
        mm = mm + (2 * m) * ml
        nh, nl = M.mul_dd(mh, mm, 4 * hp, True)
        dh, dl = M.quadratic_cubed_dd(e, 2.0, 2.0)
        pos = M.scale(M.scale(M.div_dd(nh, nl, dh, dl), n), n)
        return xp.where(x < 0, neg, pos)

    f = _wide(_f.__func__)
    df = _wide(_df.__func__)
    d2f = _wide(_d2f.__func__)


# --- appended: squareplus (squareplus.hpp), sparse_plus and sparse_sigmoid
# (sparse.hpp).  float32 is computed in float64 (_wide), so the plain
# formulas below round once in the end.


class squareplus:
    # squareplus.hpp's algorithm: x and b scaled by a power of two s (exact;
    # f is homogeneous: f(s x, s^2 b) = s f(x, b)) so that r = sqrt(x^2 + b)
    # lies well inside the range, q = x^2 + b carried as qh + ql (Dekker,
    # TwoSum); for x < 0 the quotient forms of (x + r)(r - x) = b, which do
    # not cancel; f'' = b / (2 q r) with q r to twice the precision.  The
    # scale comes from max(|x|, sqrt(b)) in three steps (the Array API has
    # no frexp).  b = inf (float32's rounding of a huge b) takes the limits.
    @staticmethod
    def _scaled(xp, x, b):
        M = Math(xp, x.dtype)
        sb = xp.sqrt(b) if not isinstance(b, (int, float)) else b ** 0.5
        # +-inf and NaN computed as 0, their values selected at the end
        xf = xp.where(xp.isfinite(x), x, 0.0)
        m = xp.maximum(xp.abs(xf), xp.asarray(sb, dtype=x.dtype) if isinstance(sb, float)
                       else sb)
        lv = (80, 35, 100, 57) if M.single else (600, 300, 800, 450)
        # (the scales as arrays of x's dtype: torch.where of two Python floats
        # would make a float32 tensor, where 2^450 overflows)
        one = xp.ones_like(xf)
        s = xp.where(m > 2.0 ** lv[0], 2.0 ** -lv[2] * one,
                     xp.where(m > 2.0 ** lv[1], 2.0 ** -lv[3] * one,
                              xp.where(m < 2.0 ** -lv[1], 2.0 ** lv[3] * one, one)))
        xs = xf * s
        b1 = b * s
        bs = b1 * s
        p, pe = M.two_prod(xs, xs, True)
        qh, qe = M.two_sum(p, bs)
        ql = qe + pe
        r = xp.sqrt(qh)
        return M, s, xs, b1, bs, qh, ql, r

    @staticmethod
    def _f(xp, x, b):
        M, s, xs, b1, bs, qh, ql, r = squareplus._scaled(xp, x, b)
        # (the other branch's divisor is 1 where it is not taken: no 0 there)
        y = xp.where(x >= 0, ((xs + r) * 0.5) / s, b1 / (2 * xp.where(x >= 0, 1.0, r - xs)))
        y = nan_or(xp, x, xp.where(x == math.inf, math.inf, xp.where(x == -math.inf, 0.0, y)))
        return select(xp, b == math.inf, nan_or(xp, x, math.inf), y)

    @staticmethod
    def _df(xp, x, b):
        M, s, xs, b1, bs, qh, ql, r = squareplus._scaled(xp, x, b)
        pos = 0.5 + 0.5 * (xs / r)
        neg = bs / (2 * xp.where(x >= 0, 1.0, M.fma(r, -xs, qh, True) + ql))
        y = xp.where(x >= 0, pos, neg)
        y = nan_or(xp, x, xp.where(x == math.inf, 1.0, xp.where(x == -math.inf, 0.0, y)))
        return select(xp, b == math.inf, nan_or(xp, x, 0.5), y)

    @staticmethod
    def _d2f(xp, x, b):
        M, s, xs, b1, bs, qh, ql, r = squareplus._scaled(xp, x, b)
        res = M.fma(-r, r, qh, True)  # qh - r^2
        mh, me = M.two_prod(qh, r, True)
        qr = mh + (me + r * (1.5 * ql + 0.5 * res))
        y = ((b1 / (2 * qr)) * s) * s
        y = nan_or(xp, x, xp.where(xp.isinf(x), 0.0, y))
        return select(xp, b == math.inf, nan_or(xp, x, 0.0), y)

    f = _wide(_f.__func__)
    df = _wide(_df.__func__)
    d2f = _wide(_d2f.__func__)


class sparse_plus:
    @staticmethod
    def _f(xp, x):
        y = x + 1
        return xp.where(x <= -1, 0.0, xp.where(x >= 1, x, (y * y) / 4))

    @staticmethod
    def _df(xp, x):
        return xp.where(x <= -1, 0.0, xp.where(x >= 1, 1.0, (x + 1) / 2))

    @staticmethod
    def _d2f(xp, x):
        return xp.where((x > -1) & (x < 1), 0.5, nan_or(xp, x, 0.0))

    f = _wide(_f.__func__)
    df = _wide(_df.__func__)
    d2f = _wide(_d2f.__func__)


class sparse_sigmoid:
    f = sparse_plus.df
    df = sparse_plus.d2f

    @staticmethod
    def d2f(xp, x):
        return piecewise_linear_grad2(xp, x)


KERNELS: dict[str, type] = {
    name: obj for name, obj in list(globals().items())
    if isinstance(obj, type) and hasattr(obj, "f") and hasattr(obj, "df")
}


def kernel_for(act):
    """The Array API kernel of a table entry, or a clear error if none is declared."""
    try:
        return KERNELS[act.kernel_struct]
    except KeyError:
        raise NotImplementedError(
            f"actgrad.{act.name} has no Array API kernel yet, so it cannot compute "
            f"on torch, JAX or CuPy arrays; declare class {act.kernel_struct} in "
            "actgrad/backends/xp_kernels.py (or pass a NumPy array)"
        ) from None
