"""Independent reference values for the dense accuracy sweep (``actgrad accuracy --sweep``).

Nothing here calls actgrad: every activation, derivative and second
derivative is written once more below (``FORMULAS``), from the mathematical
definitions, in numerically stable forms, against a small set of primitives
that two backends provide:

* ``NumpyBackend``: vectorised NumPy in a *working* precision wider than the
  dtype under test (float64 for float16/float32, x87 long double for float64),
  as ``Tracked`` arrays that carry a first-order bound on their absolute
  error along with the value (running error analysis: every rounding adds
  u |v|, every libm call ``LIBM_ULPS`` ulps, and errors of the operands are
  propagated through the operation's derivative).  Where that bound is not
  small against the ulp of the dtype under test (near a root, where a
  difference cancels; where an argument error is amplified, as in exp(x/3)
  at x = -2000), the sweep asks the ball-arithmetic backend instead.
* ``ArbBackend``: python-flint's ``arb`` balls, evaluated at increasing
  precision until the ball is narrower than 1/1000 of an ulp of the dtype
  under test (``arb_reference``): a rigorous enclosure of the same closed
  form, used wherever it decides.

The formulas are checked against the mpmath oracle (``mpmath_reference``,
written independently) in tests/test_accuracy_sweep.py, which also checks that
the tracked error bounds hold.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

#: rounding error of one libm call (exp, expm1, log1p), in ulps of the
#: working precision; glibc documents at most 1-2 ulp for these in double
#: and long double on x86-64.
LIBM_ULPS = 4.0


# ---------------------------------------------------------------------------
# NumPy backend: values with a running error bound


class Tracked:
    """A NumPy array v of the working dtype with an absolute error bound e."""

    __slots__ = ("v", "e", "B")

    def __init__(self, v, e, B):
        self.v, self.e, self.B = v, e, B

    def _lift(self, other):
        if isinstance(other, Tracked):
            return other
        return self.B.exact(other)

    def __add__(self, other):
        o = self._lift(other)
        v = self.v + o.v
        return Tracked(v, self.e + o.e + self.B.u * np.abs(v), self.B)

    __radd__ = __add__

    def __neg__(self):
        return Tracked(-self.v, self.e, self.B)

    def __sub__(self, other):
        return self + (-self._lift(other))

    def __rsub__(self, other):
        return self._lift(other) + (-self)

    def __mul__(self, other):
        if isinstance(other, (int, float)) and other != 0 and \
                math.frexp(abs(other))[0] == 0.5:  # a power of 2: exact
            return Tracked(self.v * other, self.e * abs(other) + self.B.tiny, self.B)
        o = self._lift(other)
        v = self.v * o.v
        e = np.abs(self.v) * o.e + np.abs(o.v) * self.e + self.e * o.e + self.B.u * np.abs(v)
        return Tracked(v, e, self.B)

    __rmul__ = __mul__

    def __truediv__(self, other):
        o = self._lift(other)
        v = self.v / o.v
        den = np.abs(o.v) - o.e
        e = np.where(den > 0, (self.e + np.abs(v) * o.e) / np.where(den > 0, den, 1), np.inf)
        return Tracked(v, e + self.B.u * np.abs(v), self.B)

    def __rtruediv__(self, other):
        return self._lift(other) / self

    def __abs__(self):
        return Tracked(np.abs(self.v), self.e, self.B)

    # comparisons are only ever made on the exact input x
    def __lt__(self, c):
        return self.v < c

    def __le__(self, c):
        return self.v <= c

    def __gt__(self, c):
        return self.v > c

    def __ge__(self, c):
        return self.v >= c


def _tanh_series_minus_x(n_terms: int) -> list[Fraction]:
    """c_k with x - tanh(x) = x^3 sum_k c_k (x^2)^k, from the Bernoulli numbers."""
    # tanh x = sum_{n>=1} 2^{2n} (2^{2n} - 1) B_{2n} x^{2n-1} / (2n)!
    m = 2 * (n_terms + 2)
    a = [Fraction(0)] * (m + 1)
    bern = []
    for i in range(m + 1):  # Akiyama-Tanigawa
        a[i] = Fraction(1, i + 1)
        for j in range(i, 0, -1):
            a[j - 1] = j * (a[j - 1] - a[j])
        bern.append(a[0])  # B_i with B_1 = +1/2
    out = []
    for n in range(2, n_terms + 2):
        c = Fraction(2 ** (2 * n) * (2 ** (2 * n) - 1)) * bern[2 * n] / math.factorial(2 * n)
        out.append(-c)
    return out


TANH_SERIES = _tanh_series_minus_x(60)   # |x| < 1: ratio (2x/pi)^2 < 0.41, 60 terms: 1e-23
# Phi(x) - 1/2 = phi(x) S(x), S(x) = sum x^{2n+1} / (2n+1)!!: positive terms,
# 48 of them reach 1e-22 for |x| <= 3
NCDF_SERIES = [Fraction(1, math.prod(range(1, 2 * n + 2, 2))) for n in range(48)]


class NumpyBackend:
    """The primitives on Tracked arrays of one working dtype."""

    def __init__(self, dtype, target):
        self.dtype = np.dtype(dtype)
        self.target = np.dtype(target)
        info = np.finfo(self.dtype)
        self.u = self.dtype.type(info.eps) / 2
        self.tiny = self.dtype.type(info.smallest_subnormal)
        p = info.nmant + 1
        self.splitter = self.dtype.type(2.0 ** ((p + 1) // 2) + 1)
        self.exact_arb = False
        self._consts = {}

    # -- constants
    def exact(self, c):
        v = np.asarray(c, dtype=self.dtype)
        assert float(v) == c or not math.isfinite(c), c  # exactly representable
        return Tracked(v, self.dtype.type(0), self)

    def const(self, text: str):
        """A decimal or Fraction constant, rounded to the working precision."""
        key = text
        if key not in self._consts:
            if isinstance(text, Fraction):
                import mpmath as mp
                with mp.workdps(40):
                    text = mp.nstr(mp.mpf(text.numerator) / text.denominator, 36)
            v = self.dtype.type(text)
            self._consts[key] = Tracked(np.asarray(v), self.u * abs(v), self)
        return self._consts[key]

    def input(self, x):
        return Tracked(np.asarray(x, dtype=self.dtype), np.zeros(np.shape(x), self.dtype), self)

    # -- elementwise choice on conditions of the exact input
    def where(self, cond, a, b):
        a, b = self._lift(a), self._lift(b)
        return Tracked(np.where(cond, a.v, b.v), np.where(cond, a.e, b.e), self)

    def _lift(self, a):
        return a if isinstance(a, Tracked) else self.exact(a)

    # -- libm functions
    @staticmethod
    def _exp_spread(a):
        """A bound on |exp(a.v + d) - exp(a.v)| for |d| <= a.e (no inf * 0 where
        exp(a.v) underflows and a.e is large)."""
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            return np.where(a.e < 1, np.exp(a.v) * np.expm1(np.minimum(a.e, 1)),
                            np.exp(a.v + a.e))

    def exp(self, a):
        with np.errstate(over="ignore", under="ignore"):
            v = np.exp(a.v)
            e = self._exp_spread(a) + LIBM_ULPS * self.u * np.abs(v) + self.tiny
        return Tracked(v, e, self)

    def expm1(self, a):
        with np.errstate(over="ignore", under="ignore"):
            v = np.expm1(a.v)
            e = self._exp_spread(a) + LIBM_ULPS * self.u * np.abs(v) + self.tiny
        return Tracked(v, e, self)

    def log1p(self, a):
        v = np.log1p(a.v)
        e = a.e / (1 + a.v - a.e) + LIBM_ULPS * self.u * np.abs(v)
        return Tracked(v, e, self)

    def sqrt(self, a):
        """sqrt (correctly rounded by IEEE 754); the operand's error enters as
        |sqrt(v + d) - sqrt(v)| <= |d| / (sqrt(v - |d|) + sqrt(v))."""
        v = np.sqrt(a.v)
        low = np.sqrt(np.maximum(a.v - a.e, 0))
        with np.errstate(divide="ignore", invalid="ignore"):
            spread = np.where(low + v > 0, a.e / (low + v), np.sqrt(a.e))
        return Tracked(v, spread + self.u * v, self)

    def horner(self, y, coeffs):
        """sum_k coeffs[k] y^k, for series whose terms decrease fast: the
        rounding error of the steps is charged as 4 u |sum|, and the error of y
        through the derivative (evaluated alongside)."""
        acc = np.zeros_like(y.v)
        der = np.zeros_like(y.v)
        for c in reversed(coeffs):
            der = der * y.v + acc
            acc = acc * y.v + self.const(c).v
        return Tracked(acc, 4 * self.u * np.abs(acc) + np.abs(der) * y.e, self)

    # -- the building blocks of the formulas
    def sig_pair(self, x):
        """(s(x), s(-x)) with s the logistic function, from e = exp(-|x|) <= 1."""
        e = self.exp(-abs(x))
        one = 1 / (1 + e)
        other = e / (1 + e)
        return self.where(x >= 0, one, other), self.where(x >= 0, other, one)

    def tanh(self, x):
        """tanh(x) = -expm1(-2|x|) / (2 + expm1(-2|x|)), odd."""
        m = self.expm1(-2 * abs(x))
        t = -m / (2 + m)
        return self.where(x >= 0, t, -t)

    def x_minus_tanh(self, x):
        """x - tanh(x): the series x^3 (1/3 - 2x^2/15 + ...) for |x| < 1, where
        the difference would cancel."""
        small = np.abs(x.v) < 1
        xs = self.where(small, x, 0.5)
        series = xs * xs * xs * self.horner(xs * xs, TANH_SERIES)
        return self.where(small, series, x - self.tanh(x))

    def npdf(self, x):
        """phi(x) = exp(-x^2/2) / sqrt(2 pi), with x^2 split exactly into hi + lo
        (Dekker) so that the rounding of x^2 is not amplified by exp at x = -38."""
        xv = np.clip(x.v, -1e6, 1e6)  # phi is 0 there in any precision
        c = self.splitter * xv
        xh = c - (c - xv)
        xl = xv - xh
        hi = xv * xv
        lo = ((xh * xh - hi) + 2 * xh * xl) + xl * xl
        with np.errstate(under="ignore"):
            v = np.exp(-hi / 2) * (1 - lo / 2)
        base = Tracked(v, LIBM_ULPS * self.u * np.abs(v) + 2 * self.u * np.abs(v) + self.tiny, self)
        return base * self.const("0.398942280401432677939946059934381868475858631164934657666")

    def ncdf(self, x):
        """Phi(x) for exact x: 1/2 + phi(x) S(x) (S a series of positive terms) on
        (-1.5, 3); phi(|x|) R(|x|) below and 1 - phi(x) R(x) above, where R is the
        Mills ratio from Laplace's continued fraction R(z) = 1/(z+1/(z+2/(z+...))),
        truncated after K(z) terms (K checked against mpmath to 1e-21)."""
        xv = x.v
        z = np.abs(xv)
        phi = self.npdf(x)
        # series part
        mid = (xv > -1.5) & (xv < 3)
        xm = self.where(mid, x, 0.5)
        s = xm * self.horner(xm * xm, NCDF_SERIES)
        series = 0.5 + phi * s
        # continued fraction part
        r = np.ones_like(xv)
        for lo_z, hi_z, k in ((1.5, 2, 323), (2, 3, 187), (3, 4.5, 90), (4.5, 8, 47),
                              (8, 16, 23), (16, np.inf, 15)):
            sel = (~mid) & (z >= lo_z) & (z < hi_z)
            if not sel.any():
                continue
            zz = z[sel]
            t = zz.copy()
            for j in range(k, 0, -1):
                t = zz + j / t
            r[sel] = 1 / t
        rr = Tracked(r, 8 * self.u * r, self)
        tail = phi * rr
        return self.where(mid, series, self.where(xv < 0, tail, 1 - tail))

    def threshold_hit(self, x, beta, threshold):
        """PyTorch's switch: beta * x, rounded in the input's precision (float32
        for float16), exceeds threshold."""
        t = np.float32 if self.target in (np.float16, np.float32) else np.float64
        return (t(beta) * np.asarray(x.v, dtype=self.target).astype(t)) > threshold


# ---------------------------------------------------------------------------
# arb backend: one point at a time, as a rigorous ball


class ArbBackend:
    """The same primitives on python-flint arb balls (one point at a time)."""

    exact_arb = True

    def __init__(self, target, prec):
        import flint
        self.flint = flint
        self.arb = flint.arb
        self.target = np.dtype(target)
        self.prec = prec

    def exact(self, c):
        return self.arb(c)

    def const(self, text):
        if isinstance(text, Fraction):
            return self.arb(text.numerator) / text.denominator
        return self.arb(text)

    def input(self, x):
        self.x_float = float(x)
        return self.arb(float(x))

    def where(self, cond, a, b):
        return a if cond else b

    def exp(self, a):
        return self.arb(a).exp()

    def expm1(self, a):
        return self.arb(a).expm1()

    def log1p(self, a):
        return self.arb(a).log1p()

    def sqrt(self, a):
        return self.arb(a).sqrt()

    def sig_pair(self, x):
        e = (-abs(x)).exp()
        one, other = 1 / (1 + e), e / (1 + e)
        return (one, other) if x >= 0 else (other, one)

    def tanh(self, x):
        return x.tanh()

    def x_minus_tanh(self, x):
        return x - x.tanh()

    def npdf(self, x):
        return (-x * x / 2).exp() / (2 * self.arb.pi()).sqrt()

    def ncdf(self, x):
        return (-x / self.arb(2).sqrt()).erfc() / 2

    def threshold_hit(self, x, beta, threshold):
        t = np.float32 if self.target in (np.float16, np.float32) else np.float64
        return bool(t(beta) * t(np.asarray(self.x_float, dtype=self.target)) > threshold)


# ---------------------------------------------------------------------------
# The formulas: FORMULAS[ufunc] = (f, f', f''), each (B, x, **params) -> value.
# x is exact; comparisons are made on x only.


def _sigmoid(B, x):
    return B.sig_pair(x)[0]


def _sigmoid1(B, x):
    s, m = B.sig_pair(x)
    return s * m


def _sigmoid2(B, x):  # s'(x) (1 - 2 s(x)) = -s'(x) tanh(x/2)
    s, m = B.sig_pair(x)
    return -(s * m) * B.tanh(x * 0.5)


def _logsigmoid(B, x):  # -softplus(-x) = min(x, 0) - log1p(exp(-|x|))
    lp = B.log1p(B.exp(-abs(x)))
    return B.where(x < 0, x - lp, -lp)


def _tanh1(B, x):  # sech^2 x = 4 e / (1 + e)^2, e = exp(-2|x|)
    e = B.exp(-2 * abs(x))
    return 4 * e / ((1 + e) * (1 + e))


def _tanh2(B, x):
    return -2 * B.tanh(x) * _tanh1(B, x)


def _silu(B, x):
    return x * B.sig_pair(x)[0]


def _silu1(B, x):  # s(x) (1 + x s(-x)): cancels at the root -1.278
    s, m = B.sig_pair(x)
    return s * (1 + x * m)


def _silu2(B, x):  # s'(x) (2 - |x| tanh(|x|/2)): roots at +-2.3994
    s, m = B.sig_pair(x)
    return (s * m) * (2 - abs(x) * B.tanh(abs(x) * 0.5))


def _softplus(B, x, beta=1.0):  # (max(y, 0) + log1p(exp(-|y|))) / beta
    y = x * beta
    lp = B.log1p(B.exp(-abs(y)))
    return B.where(x > 0, y + lp, lp) / beta


def _softplus1(B, x, beta=1.0):
    return B.sig_pair(x * beta)[0]


def _softplus2(B, x, beta=1.0):
    s, m = B.sig_pair(x * beta)
    return (s * m) * beta


def _thresholded(form):
    exact = (_softplus, _softplus1, _softplus2)[form]

    def g(B, x, beta=1.0, threshold=20.0):
        hit = B.threshold_hit(x, beta, threshold)
        linear = (x, 1, 0)[form]
        return B.where(hit, linear, exact(B, x, beta))
    return g


def _elu(B, x, alpha=1.0):
    return B.where(x > 0, x, B.expm1(x) * alpha)


def _elu1(B, x, alpha=1.0):  # at 0 from the left branch (PyTorch's choice)
    return B.where(x > 0, 1, B.exp(x) * alpha)


def _elu2(B, x, alpha=1.0):
    return B.where(x > 0, 0, B.exp(x) * alpha)


SELU_ALPHA = "1.6732632423543772848170429916717"
SELU_SCALE = "1.0507009873554804934193349852946"


def _selu(B, x):
    scale = B.const(SELU_SCALE)
    return B.where(x > 0, x * scale, B.expm1(x) * (scale * B.const(SELU_ALPHA)))


def _selu1(B, x):
    scale = B.const(SELU_SCALE)
    return B.where(x > 0, scale, B.exp(x) * (scale * B.const(SELU_ALPHA)))


def _selu2(B, x):
    return B.where(x > 0, 0, B.exp(x) * (B.const(SELU_SCALE) * B.const(SELU_ALPHA)))


def _celu(B, x, alpha=1.0):
    return B.where(x > 0, x, B.expm1(x / alpha) * alpha)


def _celu1(B, x, alpha=1.0):
    return B.where(x > 0, 1, B.exp(x / alpha))


def _celu2(B, x, alpha=1.0):
    return B.where(x > 0, 0, B.exp(x / alpha) / alpha)


def _hardsigmoid(B, x):  # (x + 3) / 6: x + 3 is exact near -3
    return B.where(x <= -3, 0, B.where(x >= 3, 1, (x + 3) / 6))


def _hardsigmoid2(B, x):
    return x * 0


def _inside3(B, x):
    return (x > -3) & (x < 3) if not B.exact_arb else bool(-3 < x < 3)


def _hardswish(B, x):
    return B.where(x <= -3, 0, B.where(x >= 3, x, x * (x + 3) / 6))


def _hardswish1(B, x):  # (2x + 3) / 6: exact difference near the root -1.5
    return B.where(x <= -3, 0, B.where(x >= 3, 1, (2 * x + 3) / 6))


def _hardswish2(B, x):
    return B.where(_inside3(B, x), B.const(Fraction(1, 3)), 0)


def _softsign(B, x):
    return x / (1 + abs(x))


def _softsign1(B, x):
    d = 1 + abs(x)
    return 1 / (d * d)


def _softsign2(B, x):
    d = 1 + abs(x)
    r = 2 / (d * d * d)
    return B.where(x > 0, -r, B.where(x < 0, r, x * 0))


def _tanhshrink(B, x):
    return B.x_minus_tanh(x)


def _tanhshrink1(B, x):
    t = B.tanh(x)
    return t * t


def _tanhshrink2(B, x):
    return 2 * B.tanh(x) * _tanh1(B, x)


def _gelu(B, x):
    return x * B.ncdf(x)


def _gelu1(B, x):  # Phi + x phi: cancels at the root -0.7518
    return B.ncdf(x) + x * B.npdf(x)


def _gelu2(B, x):  # phi (2 - x^2): roots at +-sqrt(2)
    return B.npdf(x) * (2 - x * x)


GT_C = "0.044715"
GT_K = "0.797884560802865355879892119868763736951717262329869315331851659"  # sqrt(2/pi)


def _gt_parts(B, x):
    """v = 2 sqrt(2/pi) (x + 0.044715 x^3), v' and s(v), s(-v); for |x| > 1e30
    the parts are clamped to where s(v) is already 0 or 1 in any precision."""
    if B.exact_arb:
        xc = x
    else:
        xc = B.where(np.abs(x.v) < 1e30, x, B.input(np.sign(x.v) * 1e30))
    k, c = B.const(GT_K), B.const(GT_C)
    v = 2 * k * (xc + c * xc * xc * xc)
    v1 = 2 * k * (1 + 3 * c * xc * xc)
    s, m = B.sig_pair(v)
    return xc, v, v1, s, m


def _gelu_tanh(B, x):  # x/2 (1 + tanh(u)) = x s(2u)
    return x * _gt_parts(B, x)[3]


def _gelu_tanh1(B, x):
    xc, v, v1, s, m = _gt_parts(B, x)
    return s + xc * v1 * (s * m)


def _gelu_tanh2(B, x):
    xc, v, v1, s, m = _gt_parts(B, x)
    k, c = B.const(GT_K), B.const(GT_C)
    # tanh(v/2) = s(v) - s(-v)
    inner = 2 * v1 + 12 * k * c * xc * xc - xc * v1 * v1 * (s - m)
    return (s * m) * inner


def _mish_parts(B, x):
    """T = tanh(softplus(x)), sech^2(softplus(x)), s(x), s(-x) from one exp:
    with e = exp(x) (x <= 0): T = n / (n + 2), n = e (e + 2), sech^2 = 4 (1+e)^2 / (n+2)^2;
    with e = exp(-x) (x > 0): T = (1 + 2e) / (1 + 2e + 2e^2), sech^2 = 4 (1+e)^2 e^2 / (...)^2."""
    e = B.exp(-abs(x))
    n = e * (e + 2)
    t_neg = n / (n + 2)
    d_pos = 1 + 2 * e + 2 * e * e
    t_pos = (1 + 2 * e) / d_pos
    q_neg = (1 + e) / (n + 2)
    q_pos = (1 + e) * e / d_pos
    T = B.where(x > 0, t_pos, t_neg)
    q = B.where(x > 0, q_pos, q_neg)
    s, m = B.sig_pair(x)
    return T, 4 * q * q, s, m


def _mish(B, x):
    return x * _mish_parts(B, x)[0]


def _mish1(B, x):
    T, s2, s, m = _mish_parts(B, x)
    return T + x * s2 * s


def _mish2(B, x):  # sech^2 s (2 + x (s(-x) - 2 T s))
    T, s2, s, m = _mish_parts(B, x)
    return s2 * s * (2 + x * (m - 2 * T * s))


# squareplus: r = sqrt(x^2 + b) (x^2 does not overflow in the working
# precision); for x < 0 the quotient forms of (x + r)(r - x) = b, which do
# not cancel.
def _squareplus(B, x, b=4.0):
    r = B.sqrt(x * x + b)
    return B.where(x >= 0, (x + r) * 0.5, b / ((r - x) * 2))


def _squareplus1(B, x, b=4.0):
    r = B.sqrt(x * x + b)
    return B.where(x >= 0, (1 + x / r) * 0.5, b / ((r * (r - x)) * 2))


def _squareplus2(B, x, b=4.0):
    r = B.sqrt(x * x + b)
    return b / ((r * r * r) * 2)


def _sparse_plus(B, x):
    y = x + 1
    return B.where(x <= -1, 0, B.where(x >= 1, x, y * y * 0.25))


def _sparse_sigmoid(B, x):  # sparse_plus'
    return B.where(x <= -1, 0, B.where(x >= 1, 1, (x + 1) * 0.5))


def _sparse_sigmoid1(B, x):  # sparse_plus''; the outer branch at +-1
    inside = (x > -1) & (x < 1) if not B.exact_arb else bool(-1 < x < 1)
    return B.where(inside, B.const("0.5"), 0)


FORMULAS = {
    "sigmoid": (_sigmoid, _sigmoid1, _sigmoid2),
    "logsigmoid": (_logsigmoid, lambda B, x: B.sig_pair(x)[1], lambda B, x: -_sigmoid1(B, x)),
    "tanh": (lambda B, x: B.tanh(x), _tanh1, _tanh2),
    "silu": (_silu, _silu1, _silu2),
    "softplus": (_softplus, _softplus1, _softplus2),
    "softplus_threshold": tuple(_thresholded(i) for i in range(3)),
    "elu": (_elu, _elu1, _elu2),
    "selu": (_selu, _selu1, _selu2),
    "celu": (_celu, _celu1, _celu2),
    "hardsigmoid": (_hardsigmoid,
                    lambda B, x: B.where(_inside3(B, x), B.const(Fraction(1, 6)), 0),
                    _hardsigmoid2),
    "hardswish": (_hardswish, _hardswish1, _hardswish2),
    "softsign": (_softsign, _softsign1, _softsign2),
    "tanhshrink": (_tanhshrink, _tanhshrink1, _tanhshrink2),
    "gelu": (_gelu, _gelu1, _gelu2),
    "gelu_tanh": (_gelu_tanh, _gelu_tanh1, _gelu_tanh2),
    "mish": (_mish, _mish1, _mish2),
    "squareplus": (_squareplus, _squareplus1, _squareplus2),
    "sparse_plus": (_sparse_plus, _sparse_sigmoid, _sparse_sigmoid1),
    "sparse_sigmoid": (_sparse_sigmoid, _sparse_sigmoid1, lambda B, x: x * 0),
}

FORM_INDEX = {"f": 0, "grad": 1, "grad2": 2}


def working_dtype(target) -> np.dtype:
    """The precision the vectorised reference computes in for `target`."""
    target = np.dtype(target)
    if target == np.float64:
        return np.dtype(np.longdouble)
    return np.dtype(np.float64)


def longdouble_is_wide() -> bool:
    """True where long double has at least 11 bits more than double (x87)."""
    return np.finfo(np.longdouble).nmant >= 63


def numpy_reference(ufunc: str, form: str, params: dict, x, target):
    """(value, error bound) of the working precision at the exact inputs x."""
    B = NumpyBackend(working_dtype(target), target)
    func = FORMULAS[ufunc][FORM_INDEX[form]]
    with np.errstate(all="ignore"):
        out = func(B, B.input(x), **params)
        if not isinstance(out, Tracked):
            out = B.exact(out)
        v = np.broadcast_to(out.v, np.shape(x)).astype(B.dtype)
        e = np.broadcast_to(out.e, np.shape(x)).astype(B.dtype)
    return v, e


def target_ulp(value, target) -> np.ndarray:
    """ulp in `target` at |value| (subnormal spacing below the smallest normal)."""
    info = np.finfo(target)
    with np.errstate(all="ignore"):
        mag = np.abs(np.asarray(value, dtype=np.float64))
        exponent = np.floor(np.log2(np.where(mag > 0, mag, 1.0)))
        exponent = np.maximum(exponent, info.minexp)
        return np.exp2(exponent - info.nmant)


def scalar_ulp(value: float, target) -> float:
    """target_ulp for one Python float."""
    info = np.finfo(target)
    mag = abs(value)
    if not math.isfinite(mag):
        return math.inf
    exponent = math.frexp(mag)[1] - 1 if mag > 0 else info.minexp
    return math.ldexp(1.0, max(exponent, info.minexp) - info.nmant)


def arb_reference(ufunc: str, form: str, params: dict, x: float, target,
                  rel_ulp: float = 1e-3):
    """(hi, lo): the double-double midpoint of an arb ball of the true value at x,
    narrower than rel_ulp ulps of `target`; precision doubles until it is."""
    import flint

    func = FORMULAS[ufunc][FORM_INDEX[form]]
    prec = 96
    old = flint.ctx.prec
    try:
        while True:
            flint.ctx.prec = prec
            B = ArbBackend(target, prec)
            v = func(B, B.input(x), **params)
            v = flint.arb(v)
            mid = v.mid()
            hi = float(mid)
            lo = float(mid - hi) if math.isfinite(hi) else 0.0
            rad = float(v.rad())
            ulp = scalar_ulp(hi, target)
            if rad <= rel_ulp * ulp:
                return hi, lo
            if prec >= 8192:
                raise ArithmeticError(f"arb reference of {ufunc}{form} at {x!r} did not converge")
            prec *= 2
    finally:
        flint.ctx.prec = old
