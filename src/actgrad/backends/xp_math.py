"""The vectorised math of ``src/kernels/vecmath.hpp``, against the Array API.

The Array API kernels (``xp_kernels``) run where actgrad's C++ cannot (JAX on
an accelerator, torch on other devices, CUDA without CuPy).  To give the
ufuncs' accuracy there they follow the C++ algorithms step for step, with
the same building blocks, written here with ``xp`` operations:

* ``exp_parts``: exp and expm1 from one Cody-Waite reduction and the fitted
  expm1 polynomial of vecmath_coeffs.hpp, returned as parts m 2^n (m in
  [0.7, 1.42], with its low part ml) so that a kernel multiplies m by its
  other factors and scales by 2^n last.  No intermediate is then subnormal
  where the result is normal, so a library that flushes subnormals to zero
  (XLA on CPU, and GPUs in fast modes) cannot zero a normal result, and a
  result in the subnormal range is rounded once.  The library's own exp is
  never called on an argument whose exp is subnormal.
* ``log1p_unit`` (fdlibm's scheme with the fitted atanh series), ``horner``.
* double-double steps: ``two_sum`` (Knuth), ``two_prod`` (Dekker's product
  with Veltkamp's splitting: the Array API has no fused multiply-add, so
  wherever the C++ uses std::fma for an exact product or a remainder, an
  exact split product stands in), ``fma`` (a b + c to about one rounding,
  from the exact product and TwoSum), ``mul_dd``, ``div_dd`` and the
  powers of 1 + e of vecmath.hpp.

Constants and polynomials come from the C++ headers (``coeffs``), never
from a second copy.  ``Math(xp, dtype)`` binds these to one namespace and one
working dtype: float64, or float32 with float's constants and the ``*_f``
polynomials (as the C++ computes float32 in float), for libraries that have
no float64 (JAX without x64, torch on MPS).

JAX: XLA folds chains of constants, (x - h) - l into x - (h + l), which
rounds h + l back to h; ``barrier`` keeps such steps as written (and keeps
Veltkamp's split out of any fused multiply-add).
"""

from __future__ import annotations

import math
import struct
from decimal import Context

from .coeffs import coeffs

__all__ = ["Math", "barrier", "bitcast", "is_jax"]

_LN2 = Context(prec=60).ln(2)
LN2_HI = float(_LN2)
LN2_LO = float(_LN2 - Context(prec=60).create_decimal(LN2_HI))


def _f32(v: float) -> float:
    """v rounded to the nearest float32 (as a Python float)."""
    return struct.unpack("f", struct.pack("f", v))[0]


def _round_bits(v: float, bits: int) -> float:
    """v rounded to `bits` significant bits."""
    m, e = math.frexp(v)
    return math.ldexp(round(math.ldexp(m, bits)), e - bits)


def is_jax(xp) -> bool:
    return getattr(xp, "__name__", "").startswith("jax")


def barrier(xp, v):
    """v kept as computed (JAX: an optimization barrier; elsewhere v)."""
    if is_jax(xp):
        import jax

        return jax.lax.optimization_barrier(v)
    return v


def bitcast(xp, k, dtype):
    """The integer array k reinterpreted as floats of `dtype` (same width)."""
    if is_jax(xp):
        import jax

        return jax.lax.bitcast_convert_type(k, dtype)
    return k.view(dtype)  # torch, NumPy, CuPy


class _FP:
    """Per-type constants (vecmath.hpp's FP<W>) for the working dtype."""

    def __init__(self, single: bool):
        c = coeffs()
        r = _f32 if single else float
        self.single = single
        if single:
            self.mant, self.bias, self.min_exponent = 23, 127, -125
            self.exp_lo, self.exp_hi, self.em1_n_min = -150.0, 89.0, -30
            self.big, self.subnormal_n = 1e30, -120
            self.cw_bits = 24 - 9      # n * ln2_cw_hi exact for |n| < 2^9
            self.veltkamp = 4097.0     # 2^12 + 1
            self.split_big = 2.0**114  # above, Veltkamp's product would overflow
            self.split_shift = 14
        else:
            self.mant, self.bias, self.min_exponent = 52, 1023, -1021
            self.exp_lo, self.exp_hi, self.em1_n_min = -800.0, 710.0, -60
            self.big, self.subnormal_n = 1e300, -1000
            self.cw_bits = 53 - 12     # |n| < 2^12
            self.veltkamp = 134217729.0  # 2^27 + 1
            self.split_big = 2.0**995
            self.split_shift = 28
        self.tail_x = 800.0
        self.inv_ln2 = r(1.4426950408889634)
        # Cody-Waite: ln2 = cw_hi + cw_lo with n cw_hi exact (no fma to make
        # x - n ln2_hi exact, as the C++ does)
        self.cw_hi = _round_bits(LN2_HI, self.cw_bits)
        self.cw_lo = r((LN2_HI - self.cw_hi) + LN2_LO)
        # ln2 as hi + lo in W (log1p_unit)
        self.ln2_hi = r(LN2_HI)
        self.ln2_lo = r((LN2_HI - self.ln2_hi) + LN2_LO)
        digits = self.mant + 1
        # vanish_x<W> of logistic.hpp: below it e^x c is 0 for every c < 2^(digits - min_exponent + 1)
        self.vanish_x = r(r(-2.0 * (digits - self.min_exponent + 1)) * r(0.6931471805599453))
        suffix = "_f" if single else ""
        self.poly = {name: c[name + suffix] for name in
                     ("expm1_q", "log1p_s", "tanhshrink_p", "erfcx_t", "gelu_grad_q")}
        self.round = r


_FPS = {False: None, True: None}


def _fp(single: bool) -> _FP:
    if _FPS[single] is None:
        _FPS[single] = _FP(single)
    return _FPS[single]


class Math:
    """vecmath.hpp's building blocks for arrays of one namespace and dtype."""

    def __init__(self, xp, dtype):
        self.xp = xp
        self.dtype = dtype
        self.single = dtype == xp.float32
        self.fp = _fp(self.single)
        self.int = xp.int32 if self.single else xp.int64

    # -- small helpers --------------------------------------------------------

    def where(self, c, a, b):
        if isinstance(c, bool):
            return a if c else b
        return self.xp.where(c, a, b)

    def barrier(self, v):
        return barrier(self.xp, v)

    def const(self, v: float) -> float:
        """A double constant rounded to the working dtype (W(v))."""
        return self.fp.round(v)

    def dd(self, hi: float, lo: float):
        """A double-double constant as W's hi + lo (vecmath.hpp's dd_split)."""
        h = self.fp.round(hi)
        return h, self.fp.round((hi - h) + lo)

    def copysign(self, m, s):
        """|m| with the sign of s (either may be a Python float)."""
        if isinstance(s, float):
            return abs(m) if math.copysign(1.0, s) > 0 else -abs(m)
        if isinstance(m, float):
            m = self.xp.full_like(s, m)
        return self.xp.copysign(m, s)

    def horner(self, x, c):
        """c[0] + x (c[1] + x (c[2] + ...)), a product and a sum per step."""
        p = c[-1]
        for ci in c[-2::-1]:
            p = p * x + ci
        return p

    # -- double-double --------------------------------------------------------

    def _split_scalar(self, v: float):
        r = self.fp.round
        c = r(self.fp.veltkamp * v)
        hi = r(c - r(c - v))
        return hi, r(v - hi)

    def split(self, v, bounded=False):
        """Veltkamp: v = hi + lo with hi of half the significand (exact).
        Values near the overflow edge are split at a power-of-two scale,
        unless the caller knows |v| < split_big (bounded: 5 operations
        fewer)."""
        if isinstance(v, float):
            return self._split_scalar(v)
        xp, fp = self.xp, self.fp
        if bounded:
            c = self.barrier(fp.veltkamp * v)
            hi = self.barrier(c - self.barrier(c - v))
            return hi, v - hi
        big = xp.abs(v) > fp.split_big
        down, up = 2.0**-fp.split_shift, 2.0**fp.split_shift
        s = xp.where(big, v * down, v)
        c = self.barrier(fp.veltkamp * s)
        hi = self.barrier(c - self.barrier(c - s))
        lo = s - hi
        return xp.where(big, hi * up, hi), xp.where(big, lo * up, lo)

    def two_prod(self, a, b, bounded=False):
        """a b = p + e exactly (Dekker), unless a b overflows or underflows;
        bounded: both |a|, |b| < 2^995 (float: 2^114)."""
        p = self.barrier(a * b)
        ah, al = self.split(a, bounded)
        bh, bl = self.split(b, bounded)
        return p, (((self.barrier(ah * bh) - p) + ah * bl) + al * bh) + al * bl

    def two_sum(self, a, b):
        """a + b = s + e exactly (Knuth's TwoSum)."""
        s = self.barrier(a + b)
        bb = self.barrier(s - a)
        return s, (a - (s - bb)) + (b - bb)

    def fma(self, a, b, c, bounded=False):
        """a b + c with the product exact and one more rounding than std::fma
        at most (inf where a b is); bounded as for two_prod."""
        p, e = self.two_prod(a, b, bounded)
        s, t = self.two_sum(p, c)
        return self.where(self.xp.isfinite(p), s + (t + e), p + c)

    def mul_dd(self, ah, al, b, bounded=False):
        """(ah + al) b as h + l: the leading product exact."""
        h, e = self.two_prod(ah, b, bounded)
        return h, e + al * b

    def div_dd(self, ah, al, bh, bl):
        """(ah + al) / (bh + bl) rounded about once (the remainder of the
        leading quotient exact).  This and the helpers below take operands
        of moderate size (the kernels' numerators and powers of 1 + e)."""
        q = ah / bh
        p, e = self.two_prod(q, bh, True)
        r = (((ah - p) - e) + al) - q * bl
        return q + r / bh

    def one_plus_pow_dd(self, k, eh, el):
        """(1 + eh + el)^k for k = 2, 3 and 0 <= eh <= 1, as h + l."""
        s, sl = self.two_sum(1.0, eh)
        sl = sl + el
        if k == 2:
            h, l = self.two_prod(s, s, True)
            return h, l + (2 * s) * sl
        p, pl = self.two_prod(s, s, True)
        pl = pl + (2 * s) * sl
        h, l = self.two_prod(p, s, True)
        return h, (l + p * sl) + pl * s

    def one_plus_sq(self, e):
        """(1 + e)^2 for 0 <= e <= 1 as 1 + (small part)."""
        return e * (2 + e) + 1

    def one_plus_cube(self, e):
        return e * (e * (3 + e) + 3) + 1

    def one_plus_sq_exact(self, e):
        """(1 + e)^2 with 2e + e^2 and the sum exact: rounded once."""
        qh, ql = self.two_prod(e, e, True)
        ah, al = self.two_sum(2 * e, qh)
        dh, dl = self.two_sum(1.0, ah)
        return dh + (dl + (al + ql))

    def _quadratic_dd(self, e, c1, c2):
        qh, ql = self.two_prod(e, e, True)
        ah, al = self.two_sum(c1 * e, c2 * qh)  # c1, c2 powers of two: exact
        al = al + c2 * ql
        dh, dl = self.two_sum(1.0, ah)
        return dh, dl + al

    def quadratic_squared_dd(self, e, c1, c2):
        """(1 + c1 e + c2 e^2)^2 as h + l."""
        dh, dl = self._quadratic_dd(e, c1, c2)
        h, l = self.two_prod(dh, dh, True)
        return h, l + (2 * dh) * dl

    def quadratic_cubed_dd(self, e, c1, c2):
        """(1 + c1 e + c2 e^2)^3 as h + l (a rounded 1 + ... cubed is 3 ulp off)."""
        dh, dl = self._quadratic_dd(e, c1, c2)
        ph, pl = self.two_prod(dh, dh, True)
        ch, cl = self.two_prod(ph, dh, True)
        return ch, (cl + pl * dh) + (3 * ph) * dl

    # -- roots and patches ------------------------------------------------------

    def minus_root(self, x, hi: float, lo: float):
        """x - (hi + lo), the first subtraction exact near the root (Sterbenz)."""
        h, l = self.dd(hi, lo)
        return self.barrier(x - h) - l

    def patch(self, x, hi: float, lo: float, c):
        """(x - root) Q(x - root): Q at the exact x - hi, and the product
        corrected for the root's low part (vecmath.hpp's patch)."""
        h, l = self.dd(hi, lo)
        d = self.barrier(x - h)
        # far outside a patch (where the kernels never select it) d is set
        # to 0: Q(d) would overflow, and autodiff through the select would
        # turn that into NaN gradients (a derivative beyond f'' on torch/JAX)
        d = self.xp.where(self.xp.abs(d) < 8, d, 0.0)
        q = self.horner(d, c)
        return self.fma(d, q, -l * q, True)

    # -- exp, expm1, log1p ------------------------------------------------------

    def pow2i(self, k):
        """2^k for k in the normal exponent range, from its bit pattern."""
        fp = self.fp
        return bitcast(self.xp, (k + fp.bias) * (1 << fp.mant), self.dtype)

    def scale(self, m, n):
        """m 2^n for n in [-1160, 1100] (float: [-250, 250]), rounded once:
        two power-of-two factors, each normal, the first keeping m 2^(n/2)
        normal wherever m 2^n is."""
        n1 = n // 2
        return (m * self.pow2i(n1)) * self.pow2i(n - n1)

    def scale_low(self, l, n):
        """l 2^n for a low part whose scaled sum meets O(1) terms: 0 where it
        is below 2^-2p of them."""
        k = -2 * self.fp.mant
        return self.where(n < k, 0.0, l * self.pow2i(self.where(n < k, k, n)))

    def exp_parts(self, xh, xl=None, precise=True):
        """exp(xh + xl) = (m + ml) 2^n and expm1(xh + xl) = em1 (vecmath.hpp's
        exp_parts): x = n ln2 + r, |r| <= ln2/2, expm1(r) = r + r^2 (1/2 +
        r Q(r)); m = 1 + expm1(r) with its rounding error in ml (precise);
        expm1 = (2^n - 1) + 2^n expm1(r), the first sum exact.  Arguments are
        clamped to [exp_lo, exp_hi] (exp is 0 or overflows beyond), NaN
        passes through.  Returns (m, n, em1, ml); n is an integer array."""
        xp, fp = self.xp, self.fp
        low = xh < fp.exp_lo
        high = xh > fp.exp_hi
        x = xp.where(low, fp.exp_lo, xp.where(high, fp.exp_hi, xh))
        nd = xp.round(x * fp.inv_ln2)
        nd = xp.where(xp.isnan(nd), 0.0, nd)
        n = xp.astype(nd, self.int)
        u = self.barrier(x - nd * fp.cw_hi)  # exact: n cw_hi is, and Sterbenz
        v = -nd * fp.cw_lo
        if xl is not None:
            v = v + xp.where(low | high, 0.0, xl)
        r = self.barrier(u + v)
        P = self.horner(r, fp.poly["expm1_q"])
        q = (r * r) * (r * P + 0.5)
        ph = self.barrier(r + q)
        pl = (r - ph) + q  # Fast2Sum: |r| > |q|
        if precise:
            rb = self.barrier(r - u)
            rl = (u - (r - rb)) + (v - rb)  # r + rl = u + v exactly
            pl = pl + rl * (1 + ph)
            mh = self.barrier(1 + ph)
            corr = ((1 - mh) + ph) + pl
            m = self.barrier(mh + corr)
            ml = (mh - m) + corr
        else:
            m = 1 + ph
            ml = xp.zeros_like(m)
        nc = xp.where(n < fp.em1_n_min, fp.em1_n_min, n)
        two_n = self.pow2i(nc)
        a = two_n - 1
        s, err = self.two_sum(a, two_n * ph)
        em1 = s + (two_n * pl + err)
        return m, n, em1, ml

    def exp(self, x, precise=True):
        m, n, _, _ = self.exp_parts(x, precise=precise)
        return self.scale(m, n)

    def expm1(self, x):
        return self.exp_parts(x)[2]

    def log1p_unit(self, e):
        """log1p(e) for e in [0, 1] (fdlibm's scheme): for e > 1/2,
        1 + e = 2 (1 + f) with f = (e - 1)/2 exact; log1p(f) = f - (f^2/2 -
        s (f^2/2 + R)), s = f/(2 + f), 2 atanh(s) = 2s + s R(s^2)."""
        xp, fp = self.xp, self.fp
        big = e > 0.5
        f = xp.where(big, (e - 1) * 0.5, e)
        k = xp.astype(big, self.dtype)
        s = f / (2 + f)
        z = s * s
        hfsq = 0.5 * f * f
        R = z * self.horner(z, fp.poly["log1p_s"])
        return k * fp.ln2_hi - ((hfsq - (s * (hfsq + R) + k * fp.ln2_lo)) - f)
