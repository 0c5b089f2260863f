"""The Array API kernels: every activation written once against ``xp``.

torch tensors, JAX arrays and CuPy arrays never reach the C++ ufuncs; they are
computed by their own library (see ``actgrad._xp``).  Each class below is the
Array API twin of the C++ kernel struct of the same name in
``src/kernels/*.hpp`` (the table's ``Activation.kernel_struct``): static
``f``, ``df`` and ``d2f`` taking ``(xp, x, *params)``, written as the same
chain of selects, so that NaN propagation, -0.0 and the conventions at kinks
are those of the ufuncs, bit for bit.  ``x`` arrives in its compute dtype
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

This module imports nothing: it only receives namespaces.
"""

from __future__ import annotations

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
# The same numerically stable forms as the C++ kernels, written with the
# library's exp/expm1/log1p/tanh/erfc: everything in terms of a = |x| and
# e = exp(-a) <= 1, so nothing overflows and +-inf give the exact limits.
# float32 is computed in float64 where the library has it (as the C++ kernels
# compute in double, or to absorb the library's own exp/erfc error), then
# rounded once; float16/bfloat16 arrive as float32.


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
    """v, kept as it is: XLA folds (x - hi) - lo into x - (hi + lo), which
    loses the low part of a double-double constant."""
    if getattr(xp, "__name__", "").startswith("jax"):
        import jax

        return jax.lax.optimization_barrier(v)
    return v


def _e(xp, x, k=1.0):
    """exp(-k |x|): 0 at +-inf, NaN for NaN."""
    return xp.exp(-k * xp.abs(x))


def _clip(xp, x, lo, hi):
    # NaN passes through (comparisons fail)
    return xp.where(x < lo, lo, xp.where(x > hi, hi, x))


class sigmoid:
    @staticmethod
    def _df(xp, x):
        e = _e(xp, x)
        return e / ((1 + e) * (1 + e))

    @staticmethod
    def _d2f(xp, x):
        # s'(x) (1 - 2 s(x)) = -sign(x) e |expm1(-a)| / (1 + e)^3
        e = _e(xp, x)
        r = e * (xp.abs(xp.expm1(-xp.abs(x))) / ((1 + e) * (1 + e) * (1 + e)))
        return xp.where(x > 0, -r, r)

    f = _wide(lambda xp, x: xp.where(x >= 0, 1.0, _e(xp, x)) / (1 + _e(xp, x)))
    df = _wide(_df.__func__)
    d2f = _wide(_d2f.__func__)


class logsigmoid:
    f = _wide(lambda xp, x: xp.where(x < 0, x, 0.0) - xp.log1p(_e(xp, x)))
    df = _wide(lambda xp, x: xp.where(x < 0, 1.0, _e(xp, x)) / (1 + _e(xp, x)))
    d2f = _wide(lambda xp, x: -sigmoid._df(xp, x))


class tanh:
    @staticmethod
    def _sech2(xp, x):
        e = _e(xp, x, 2.0)
        return 4 * e / ((1 + e) * (1 + e))

    @staticmethod
    def _d2f(xp, x):
        e = _e(xp, x, 2.0)
        r = 8 * e * xp.abs(xp.expm1(-2 * xp.abs(x))) / ((1 + e) * (1 + e) * (1 + e))
        return xp.where(x > 0, -r, r)

    f = _wide(lambda xp, x: xp.tanh(x))
    df = _wide(_sech2.__func__)
    d2f = _wide(_d2f.__func__)


# silu'' around its root |x| = a0 (silu_grad2_root in vecmath_coeffs.hpp),
# where (2 - a) + e (2 + a) cancels: (a0 - 2) expm1(-d) + d expm1(-a), d = a - a0.
_SILU_A0, _SILU_A0_LO = 2.3993572805154675, 1.8464872855353363e-16
_SILU_A0_M2, _SILU_A0_EXP = 0.39935728051546765, 0.0907762782268676


class silu:
    @staticmethod
    def _f(xp, x):
        e = _e(xp, x)
        xc = xp.where(x < -800, -800.0, x)  # -inf * 0 would be NaN
        return xp.where(x < 0, xc * e, x) / (1 + e)

    @staticmethod
    def _df(xp, x):
        e = _e(xp, x)
        xc = _clip(xp, x, -800.0, 800.0)
        den = (1 + e) * (1 + e)
        neg = e * ((1 + xc) + e) / den
        pos = (1 + e * (1 + xc)) / den
        return xp.where(x < 0, neg, pos)

    @staticmethod
    def _d2f(xp, x):
        a = xp.abs(x)
        e = xp.exp(-a)
        ac = xp.where(a > 800, 800.0, a)
        d = _barrier(xp, a - _SILU_A0) - _SILU_A0_LO
        patch = xp.abs(d) < 1.2
        n_patch = _SILU_A0_M2 * xp.expm1(-d) + d * xp.expm1(-a)
        n_plain = (2 - ac) + e * (2 + ac)
        return e * xp.where(patch, n_patch, n_plain) / ((1 + e) * (1 + e) * (1 + e))

    f = _wide(_f.__func__)
    df = _wide(_df.__func__)
    d2f = _wide(_d2f.__func__)


class softplus:
    @staticmethod
    def _f(xp, x, beta):
        e = _e(xp, beta * x)
        return xp.where(x > 0, x, 0.0) + xp.log1p(e) / beta

    @staticmethod
    def _df(xp, x, beta):
        e = _e(xp, beta * x)
        return xp.where(x >= 0, 1.0, e) / (1 + e)

    @staticmethod
    def _d2f(xp, x, beta):
        e = _e(xp, beta * x)
        return beta * e / ((1 + e) * (1 + e))

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
    # x - tanh(x) cancels to x^3/3 near 0: there, x^3 P(x^2) (tanhshrink_p).
    _P = (0.3333333333333333, -0.13333333333333267, 0.05396825396819091,
          -0.021869488533791497, 0.008863235483227382, -0.0035921274772354366,
          0.0014558299680879538, -0.0005900031866672364, 0.00023903340246231634,
          -9.663772823142314e-05, 3.8678201583038664e-05, -1.4945895941294734e-05,
          5.266219781675131e-06, -1.5300934241820488e-06, 3.1191593615986337e-07,
          -3.219975685803472e-08)

    @staticmethod
    def _f(xp, x):
        a = xp.abs(x)
        z = a * a
        p = tanhshrink._P[-1]
        for c in tanhshrink._P[-2::-1]:
            p = c + z * p
        e = _e(xp, x, 2.0)
        m = xp.where(a < 0.95, a * z * p, (a - 1) + 2 * e / (1 + e))
        return xp.where(xp.isnan(x), x, xp.where(x < 0, -m, xp.where(x > 0, m, x)))

    @staticmethod
    def _df(xp, x):
        t = xp.tanh(x)
        return t * t

    @staticmethod
    def _d2f(xp, x):
        return 2 * xp.tanh(x) * tanh._sech2(xp, x)

    f = _wide(_f.__func__)
    df = _wide(_df.__func__)
    d2f = _wide(_d2f.__func__)


class elu:
    f = _wide(lambda xp, x, alpha: xp.where(x > 0, x, alpha * xp.expm1(x)))
    df = _wide(lambda xp, x, alpha: xp.where(x > 0, 1.0, alpha * xp.exp(x)))
    d2f = _wide(lambda xp, x, alpha: xp.where(x > 0, 0.0, alpha * xp.exp(x)))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class selu:
    f = _wide(lambda xp, x: xp.where(x > 0, _SELU_SCALE * x,
                                     (_SELU_ALPHA * _SELU_SCALE) * xp.expm1(x)))
    df = _wide(lambda xp, x: xp.where(x > 0, _SELU_SCALE,
                                      (_SELU_ALPHA * _SELU_SCALE) * xp.exp(x)))
    d2f = _wide(lambda xp, x: xp.where(x > 0, 0.0, (_SELU_ALPHA * _SELU_SCALE) * xp.exp(x)))


class celu:
    f = _wide(lambda xp, x, alpha: xp.where(x > 0, x, alpha * xp.expm1(x / alpha)))
    df = _wide(lambda xp, x, alpha: xp.where(x > 0, 1.0, xp.exp(x / alpha)))
    d2f = _wide(lambda xp, x, alpha: xp.where(x > 0, 0.0, xp.exp(x / alpha) / alpha))


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
    def _f(xp, x):
        a = xp.abs(x)
        u = 1 / (1 + a)
        m = xp.where(a > 1, 1 - u, a * u)
        return xp.where(xp.isnan(x), x, xp.where(x < 0, -m, xp.where(x > 0, m, x)))

    @staticmethod
    def _df(xp, x):
        u = 1 / (1 + xp.abs(x))
        return u * u

    @staticmethod
    def _d2f(xp, x):
        u = 1 / (1 + xp.abs(x))
        r = 2 * (u * u * u)
        return xp.where(x > 0, -r, xp.where(x < 0, r, nan_or(xp, x, 0)))

    f = _wide(_f.__func__)
    df = _wide(_df.__func__)
    d2f = _wide(_d2f.__func__)


_INV_SQRT2, _INV_SQRT2_LO = 0.7071067811865476, -4.833646656726457e-17
_INV_SQRT_2PI = 0.3989422804014327
_SQRT2, _SQRT2_LO = 1.4142135623730951, -9.667293313452913e-17


class gelu:
    @staticmethod
    def _pieces(xp, x):
        a = xp.abs(x)
        a = xp.where(a > 40, 40.0, a)  # gelu underflows below -38.5
        # z = a/sqrt2 = zh + dz exactly enough: erfc magnifies the rounding
        # error of a plain a/sqrt2 about 2 z^2 times (5 ulp at x = -3), so
        # erfc(z) = erfc(zh) - 2/sqrt(pi) exp(-zh^2) dz; likewise a^2 for phi.
        zh, zl = _two_prod(xp, a, _INV_SQRT2 + 0 * a)
        dz = zl + a * _INV_SQRT2_LO
        qh, ql = _two_prod(xp, a, a)
        g = xp.exp(-0.5 * qh) * (1 - 0.5 * ql)  # exp(-a^2/2) = exp(-zh^2) to first order
        half_erfc = 0.5 * special(xp, "erfc")(zh) - (_INV_SQRT_2PI * 1.4142135623730951) * g * dz
        phi = _INV_SQRT_2PI * g
        return a, half_erfc, phi

    @staticmethod
    def _f(xp, x):
        a, h, _ = gelu._pieces(xp, x)
        return xp.where(x < 0, -a * h, x * (1 - h))

    @staticmethod
    def _df(xp, x):
        a, h, phi = gelu._pieces(xp, x)
        return xp.where(x < 0, h - a * phi, (1 - h) + a * phi)

    @staticmethod
    def _d2f(xp, x):
        a, _, phi = gelu._pieces(xp, x)
        r = _barrier(xp, _SQRT2 - a) + _SQRT2_LO
        return phi * (r * (_SQRT2 + a))

    f = _wide(_f.__func__)
    df = _wide(_df.__func__)
    d2f = _wide(_d2f.__func__)


_GT_C, _GT_K2 = 0.044715, 1.5957691216057308  # PyTorch's c, 2 sqrt(2/pi)
_GT_C_LO, _GT_K2_LO = 2.1960211427085595e-18, -9.96930880911092e-17


def _split(xp, v):
    """Veltkamp: v = hi + lo, hi with 26 significant bits (float64)."""
    c = _barrier(xp, 134217729.0 * v)
    hi = _barrier(xp, c - _barrier(xp, c - v))
    return hi, v - hi


def _two_prod(xp, a, b):
    """a b = p + err exactly (Dekker; no FMA needed)."""
    p = _barrier(xp, a * b)
    ah, al = _split(xp, a)
    bh, bl = _split(xp, b)
    return p, ((_barrier(xp, ah * bh) - p) + ah * bl + al * bh) + al * bl


class gelu_tanh:
    """x s(v), v = 2 sqrt(2/pi) x (1 + c x^2): PyTorch's tanh form."""

    @staticmethod
    def _pieces(xp, x):
        a = xp.abs(x)
        a = xp.where(a > 30, 30.0, a)  # |v(30)| > 1900: exp(-|v|) = 0
        # v as a double-double, as gelu.hpp: exp would magnify the rounding
        # error of a plain v |v| times (30 ulp at x = 7).
        qh, ql = _two_prod(xp, a, a)
        ph, pl = _two_prod(xp, _GT_C + 0 * a, qh)
        pl = pl + (_GT_C * ql + _GT_C_LO * qh)
        sh = _barrier(xp, 1 + ph)
        bb = _barrier(xp, sh - 1)
        sl = ((1 - (sh - bb)) + (ph - bb)) + pl
        yh, yl = _two_prod(xp, a, sh)
        yl = yl + a * sl
        vh, vl = _two_prod(xp, _GT_K2 + 0 * a, yh)
        vl = vl + (_GT_K2 * yl + _GT_K2_LO * yh)
        e = xp.exp(-vh) * (1 - vl)
        v1 = _GT_K2 * (1 + 3 * _GT_C * (a * a))
        return a, v1, e

    @staticmethod
    def _f(xp, x):
        a, _, e = gelu_tanh._pieces(xp, x)
        return xp.where(x < 0, -a * e, x) / (1 + e)

    @staticmethod
    def _df(xp, x):
        a, v1, e = gelu_tanh._pieces(xp, x)
        den = (1 + e) * (1 + e)
        pos = (1 + e * (1 + a * v1)) / den
        neg = e * ((1 + e) - a * v1) / den
        return xp.where(x < 0, neg, pos)

    @staticmethod
    def _d2f(xp, x):
        a, v1, e = gelu_tanh._pieces(xp, x)
        th = 1 - 2 * e / (1 + e)  # tanh(|v|/2)
        b = 2 * v1 + 6 * _GT_K2 * _GT_C * (a * a) - a * (v1 * v1) * th
        return xp.where(xp.isnan(x), x, e * b / ((1 + e) * (1 + e)))

    f = _wide(_f.__func__)
    df = _wide(_df.__func__)
    d2f = _wide(_d2f.__func__)


class mish:
    """x tanh(softplus(x)), rational in e = exp(-|x|) (mish.hpp)."""

    @staticmethod
    def _f(xp, x):
        e = _e(xp, x)
        xc = xp.where(x < -800, -800.0, x)
        D = 1 + 2 * e * (1 + e)
        w2 = e * (e + 2) + 2
        neg = xc * e * (e + 2) / w2
        pos = x * (1 - 2 * e * e / D)
        return xp.where(x < 0, neg, pos)

    @staticmethod
    def _df(xp, x):
        e = _e(xp, x)
        xc = _clip(xp, x, -800.0, 800.0)
        D = 1 + 2 * e * (1 + e)
        B = 4 * (xc + 1) + e * (6 + 4 * xc) + e * e * (4 + e)
        u = 0.5 * e * (e + 2)
        neg = 0.25 * e * B / ((1 + u) * (1 + u))
        pos = 1 + e * e * (4 * xc * (1 + e) / D - 2) / D
        return xp.where(x < 0, neg, pos)

    @staticmethod
    def _d2f(xp, x):
        e = _e(xp, x)
        xc = _clip(xp, x, -800.0, 800.0)
        hn = 2 * (xc + 2) + e * ((8 + 2 * xc) + e * ((6 - 3 * xc) + e * (2 - 2 * xc)))
        hp = 2 * (1 - xc) + e * ((6 - 3 * xc) + e * ((8 + 2 * xc) + e * (4 + 2 * xc)))
        u = 0.5 * e * (e + 2)
        t = 2 * e * (1 + e)
        neg = 0.5 * e * hn / ((1 + u) * (1 + u) * (1 + u))
        pos = 4 * (e * e) * hp / ((1 + t) * (1 + t) * (1 + t))
        return xp.where(x < 0, neg, pos)

    f = _wide(_f.__func__)
    df = _wide(_df.__func__)
    d2f = _wide(_d2f.__func__)


# --- appended: squareplus (squareplus.hpp), sparse_plus and sparse_sigmoid
# (sparse.hpp).  float32 is computed in float64 (_wide), so the plain
# formulas below round once in the end.


class squareplus:
    # r = hypot(x, sqrt(b)): no overflow of x**2.  For x < 0 the identity
    # (x + r)(r - x) = b replaces the cancelling sum; the halved r - x
    # (den) keeps r - x from overflowing at x = -1e308.  b = 0 and b = inf
    # (float32's rounding of a tiny or huge b) take the C++ kernel's limits.
    @staticmethod
    def _parts(xp, x, b):
        sb = xp.asarray(b ** 0.5, dtype=x.dtype) if isinstance(b, (int, float)) else xp.sqrt(b)
        r = xp.hypot(x, sb)
        return r, r / 2 - x / 2

    @staticmethod
    def _f(xp, x, b):
        r, den = squareplus._parts(xp, x, b)
        y = xp.where(x >= 0, (x + r) / 2, (b / den) / 4)
        return select(xp, b == float("inf"), nan_or(xp, x, float("inf")), y)

    @staticmethod
    def _df(xp, x, b):
        r, den = squareplus._parts(xp, x, b)
        h = b / (2 * r)
        y = xp.where(x >= 0, xp.where(x == 0, 0.5, 0.5 + 0.5 * (x / r)), (h / den) / 2)
        y = xp.where(x == float("inf"), 1.0, y)
        return select(xp, b == float("inf"), nan_or(xp, x, 0.5), y)

    @staticmethod
    def _d2f(xp, x, b):
        r, _ = squareplus._parts(xp, x, b)
        y = ((b / (2 * r)) / r) / r
        y = select(xp, b == 0, xp.where(x == 0, float("inf"), nan_or(xp, x, 0.0)), y)
        return select(xp, b == float("inf"), nan_or(xp, x, 0.0), y)

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
            "actgrad/_xp_kernels.py (or pass a NumPy array)"
        ) from None
