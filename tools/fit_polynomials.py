"""Fit the polynomial coefficients of src/kernels/vecmath_coeffs.hpp.

Usage: python tools/fit_polynomials.py [--check] > src/kernels/vecmath_coeffs.hpp

Every polynomial the vectorised math evaluates is fitted here, from mpmath at
50 digits, so that the header can be regenerated and audited.  The fit is a
near-minimax relative-error fit: Lawson's iteratively reweighted least
squares on a dense Chebyshev grid, with the residuals computed in mpmath and
the least-squares corrections solved in float64 (iterative refinement), so
the approximation error is far below the rounding of the coefficients.

Each fit reports its approximation error (with the coefficients rounded to
double) on stderr; it must be well below 2^-53 for the kernels to meet the
4-ulp bound.
"""

from __future__ import annotations

import sys

import mpmath as mp
import numpy as np

mp.mp.dps = 50


def fit(func, lo, hi, degree, *, lead=(), points=600, iterations=40, relative=True):
    """Coefficients c (low to high) minimising max |P(v) - func(v)| / |func(v)|
    on [lo, hi], where P(v) = sum(lead[i] v^i) + sum(c[j] v^(len(lead)+j)).
    `lead` fixes the first coefficients exactly (for example 1/2 for expm1)."""
    lo, hi = mp.mpf(lo), mp.mpf(hi)
    k = np.arange(points)
    nodes = [(lo + hi) / 2 + (hi - lo) / 2 * mp.cos(mp.pi * (mp.mpf(int(i)) + 0.5) / points)
             for i in k]
    fx = [func(v) for v in nodes]
    base = [mp.fsum(mp.mpf(c) * v**i for i, c in enumerate(lead)) for v in nodes]
    p0 = len(lead)
    powers = list(range(p0, p0 + degree + 1))
    scale = float(max(abs(lo), abs(hi))) or 1.0
    # The design matrix in scaled powers (better conditioned), float64.
    A = np.array([[float(v / scale) ** p for p in powers] for v in nodes])
    target = [fx[i] - base[i] for i in range(points)]
    den = [abs(f) if relative else mp.mpf(1) for f in fx]
    w = np.ones(points)
    coef = [mp.mpf(0)] * len(powers)  # in scaled variables
    for _ in range(iterations):
        for _refine in range(3):
            resid = [target[i] - mp.fsum(coef[j] * (nodes[i] / scale) ** powers[j]
                                         for j in range(len(powers)))
                     for i in range(points)]
            r = np.array([float(resid[i] / den[i]) for i in range(points)])
            Aw = A / np.array([float(d) for d in den])[:, None] * np.sqrt(w)[:, None]
            delta, *_ = np.linalg.lstsq(Aw, r * np.sqrt(w), rcond=None)
            coef = [coef[j] + mp.mpf(float(delta[j])) for j in range(len(powers))]
        err = np.abs(r)
        w = w * (err / err.max() + 1e-300)
        w /= w.sum()
    out = [coef[j] / mp.mpf(scale) ** powers[j] for j in range(len(powers))]
    return out


def max_error(func, lo, hi, coeffs, *, lead=(), points=3000, relative=True, dtype=float):
    """Max relative error with coefficients rounded to `dtype`, evaluated exactly."""
    lo, hi = mp.mpf(lo), mp.mpf(hi)
    rounded = [mp.mpf(dtype(c)) for c in lead] + [mp.mpf(dtype(c)) for c in coeffs]
    worst = mp.mpf(0)
    for i in range(points):
        v = lo + (hi - lo) * i / (points - 1)
        p = mp.polyval(rounded[::-1], v)
        f = func(v)
        e = abs(p - f) / (abs(f) if relative else 1)
        worst = max(worst, e)
    return float(worst)


def _expm1_q(r):
    # (expm1(r) - r - r^2/2) / r^3, with its limit 1/6 at 0
    if abs(r) < mp.mpf(10) ** -12:
        return mp.mpf(1) / 6 + r / 24
    return (mp.expm1(r) - r - r * r / 2) / r**3


def _log1p_s(z):
    # log1p(f) = f - f^2/2 + s (f^2/2 + z S(z)),  s = f / (2 + f), z = s^2:
    # 2 atanh(s) = 2 s + s z S(z), so S(z) = (2 atanh(s) - 2 s) / s^3
    if z < mp.mpf(10) ** -30:
        return mp.mpf(2) / 3 + 2 * z / 5
    s = mp.sqrt(z)
    return (2 * mp.atanh(s) - 2 * s) / s**3


def _tanhshrink_p(z):
    # x - tanh(x) = x^3 P(x^2), P(0) = 1/3
    if z < mp.mpf(10) ** -20:
        return mp.mpf(1) / 3 - 2 * z / 15 + 17 * z * z / 315
    x = mp.sqrt(z)
    return (x - mp.tanh(x)) / x**3


FITS = {}


def register(name, doc, func, lo, hi, degree, lead=(), relative=True, **options):
    FITS[name] = (doc, func, lo, hi, degree, lead, relative, options)


LN2_HALF = float(mp.log(2) / 2) * (1 + 2**-20)  # reduced arguments, with slack
register("expm1_q", "expm1(r) = r + r^2/2 + r^3 Q(r) on |r| <= ln2/2",
         _expm1_q, -LN2_HALF, LN2_HALF, 10)
register("log1p_s", "2 atanh(s) = 2 s + s^3 S(s^2), s in [-1/7, 1/5]",
         _log1p_s, 0.0, 0.2**2 * (1 + 2**-20), 7)
# float versions: errors far below 2^-24
# float: degree 7 in all (1.7e-9 relative error of expm1 with float-rounded
# coefficients, 0.03 float ulp); one degree less would be 0.8 ulp.
register("expm1_q_f", "float: expm1(r) = r + r^2/2 + r^3 Q(r) on |r| <= ln2/2",
         _expm1_q, -LN2_HALF, LN2_HALF, 4)
register("log1p_s_f", "float: 2 atanh(s) = 2 s + s^3 S(s^2), s in [-1/7, 1/5]",
         _log1p_s, 0.0, 0.2**2 * (1 + 2**-20), 4)


CONSTANTS = {}


def constant(name, doc, value):
    """A constant as a double-double: NAME (nearest double) and NAME_lo (the rest)."""
    CONSTANTS[name] = (doc, value)


# Roots of derivatives, where the kernels re-centre to keep relative accuracy.
_silu_root = mp.findroot(lambda x: 1 + x + mp.exp(x), -1.28)
constant("silu_grad_root", "root of silu': 1 + x + e^x = 0", _silu_root)
constant("silu_grad_root_exp", "e^x at the root of silu'", mp.exp(_silu_root))
_silu2_root = mp.findroot(lambda a: (2 - a) + mp.exp(-a) * (2 + a), 2.4)
constant("silu_grad2_root", "root a of silu'' in a = |x|: (2 - a) + e^-a (2 + a) = 0", _silu2_root)
constant("silu_grad2_root_m2", "that root minus 2", _silu2_root - 2)
constant("silu_grad2_root_exp", "e^-a at that root", mp.exp(-_silu2_root))

TANHSHRINK_CUT = 0.95
register("tanhshrink_p", f"x - tanh(x) = x^3 P(x^2) for |x| < {TANHSHRINK_CUT}",
         _tanhshrink_p, 0.0, TANHSHRINK_CUT**2, 15)
register("tanhshrink_p_f", "float: the same", _tanhshrink_p, 0.0, TANHSHRINK_CUT**2, 8)


# gelu: erfcx(z) (1 + z) as a polynomial in t = (z - K)/(z + K) for
# z = |x|/sqrt(2) in [0, 40/sqrt(2)] (below x = -40 gelu underflows).
ERFCX_K = mp.mpf("3.5")
ERFCX_ZMAX = mp.mpf(40) / mp.sqrt(2)


def _erfcx_t(t):
    z = ERFCX_K * (1 + t) / (1 - t)
    return mp.erfc(z) * mp.exp(z * z) * (1 + z)


register("erfcx_t", f"erfcx(z) (1 + z) in t = (z - {ERFCX_K})/(z + {ERFCX_K}), z <= 40/sqrt(2)",
         _erfcx_t, -1.0, float((ERFCX_ZMAX - ERFCX_K) / (ERFCX_ZMAX + ERFCX_K)), 22)

register("erfcx_t_f", "float: the same", _erfcx_t, -1.0,
         float((ERFCX_ZMAX - ERFCX_K) / (ERFCX_ZMAX + ERFCX_K)), 12)

_gelu_root = mp.findroot(lambda x: mp.ncdf(x) + x * mp.npdf(x), -0.75)
constant("gelu_grad_root", "root of gelu': Phi(x) + x phi(x) = 0", _gelu_root)
# The kernels use the patch on [-1.1, -0.2] only (Horner's scheme loses up to
# 10x its rounding at -1.8, |d| = 1.05); the fit covers the wider interval.
GELU_PATCH = (-1.8, -0.2)


def _gelu_grad_q(d):
    if abs(d) < mp.mpf(10) ** -30:
        d = mp.mpf(10) ** -30
    x = _gelu_root + d
    return (mp.ncdf(x) + x * mp.npdf(x)) / d


register("gelu_grad_q", f"gelu'(x0 + d) = d Q(d) for x0 + d in {GELU_PATCH}", _gelu_grad_q,
         GELU_PATCH[0] - float(_gelu_root), GELU_PATCH[1] - float(_gelu_root), 19)
# gelu with approximate="tanh": f = x s(v), v = 2 sqrt(2/pi) (x + 0.044715 x^3)
GT_C = mp.mpf("0.044715")
GT_K2 = 2 * mp.sqrt(2 / mp.pi)
constant("gelu_tanh_c", "0.044715", GT_C)
constant("gelu_tanh_k2", "2 sqrt(2/pi)", GT_K2)


def _sig(v):
    return 1 / (1 + mp.exp(-v))


def _gt_v(x):
    return GT_K2 * (x + GT_C * x**3)


def _gt_v1(x):
    return GT_K2 * (1 + 3 * GT_C * x * x)


def _gt_d1(x):
    v = _gt_v(x)
    return _sig(v) + x * _gt_v1(x) * _sig(v) * _sig(-v)


def _gt_d2(x):
    v = _gt_v(x)
    return _sig(v) * _sig(-v) * (2 * _gt_v1(x) + 6 * GT_K2 * GT_C * x * x
                                 - x * _gt_v1(x) ** 2 * mp.tanh(v / 2))


def _patch(func, root):
    def q(d):
        if abs(d) < mp.mpf(10) ** -30:
            d = mp.mpf(10) ** -30
        return func(root + d) / d
    return q


_gt_root1 = mp.findroot(_gt_d1, -0.75)
_gt_root2 = mp.findroot(_gt_d2, 1.42)
constant("gelu_tanh_grad_root", "root of gelu_tanh'", _gt_root1)
constant("gelu_tanh_grad2_root", "positive root of gelu_tanh'' (it is even)", _gt_root2)
GT_PATCH1 = (-1.8, -0.2)
GT_PATCH2 = (0.7, 3.4)


def _gt_b1(x):
    # gelu_tanh'(x) = e B1 / (1 + e)^2 for x < 0, e = exp(-|v|): B1 = 1 + e - |x| v'
    a = abs(x)
    return 1 + mp.exp(-_gt_v(a)) - a * _gt_v1(a)


def _gt_b2(a):
    # gelu_tanh''(x) = e B2 / (1 + e)^2, a = |x|: B2 = 2 v' + 6 K2 c a^2 - a v'^2 tanh(v/2)
    return (2 * _gt_v1(a) + 6 * GT_K2 * GT_C * a * a
            - a * _gt_v1(a) ** 2 * mp.tanh(_gt_v(a) / 2))


register("gelu_tanh_b1_q", f"B1(x0 + d) = d Q(d) for x0 + d in {GT_PATCH1}",
         _patch(_gt_b1, _gt_root1), GT_PATCH1[0] - float(_gt_root1),
         GT_PATCH1[1] - float(_gt_root1), 18)
register("gelu_tanh_b2_q", f"B2(a0 + d) = d Q(d) for a0 + d in {GT_PATCH2}",
         _patch(_gt_b2, _gt_root2), GT_PATCH2[0] - float(_gt_root2),
         GT_PATCH2[1] - float(_gt_root2), 24, points=200, iterations=10)
# mish: the brackets of f' and f'' (polynomials in e and x, entire), fitted as
# d Q(d) around their roots where their terms cancel.
def _mish_b(x):  # f' = e B / (w + 2)^2 for x < 0, e = exp(x)
    e = mp.exp(x)
    return 4 * (x + 1) + e * (6 + 4 * x) + 4 * e * e + e**3


def _mish_hn(x):  # f'' = 4 e Hn / (w + 2)^3 for x < 0, e = exp(x)
    e = mp.exp(x)
    return 2 * (x + 2) + e * ((8 + 2 * x) + e * (6 - 3 * x) + e * e * (2 - 2 * x))


def _mish_hp(x):  # f'' = 4 e^2 Hp / D^3 for x >= 0, e = exp(-x)
    e = mp.exp(-x)
    return 2 * (1 - x) + e * (6 - 3 * x) + e * e * (8 + 2 * x) + e**3 * (4 + 2 * x)


MISH_PATCHES = {"mish_b": (_mish_b, -1.19, (-1.55, -0.9), 13),
                "mish_hn": (_mish_hn, -2.25, (-2.8, -1.8), 15),
                "mish_hp": (_mish_hp, 1.49, (1.15, 2.0), 15)}
for _name, (_f, _guess, (_lo, _hi), _deg) in MISH_PATCHES.items():
    _root = mp.findroot(_f, _guess)
    constant(_name + "_root", f"root of {_name}", _root)
    register(_name + "_q", f"{_name}(x0 + d) = d Q(d) for x0 + d in {(_lo, _hi)}",
             _patch(_f, _root), _lo - float(_root), _hi - float(_root), _deg)
register("gelu_grad_q_f", "float: the same", _gelu_grad_q,
         GELU_PATCH[0] - float(_gelu_root), GELU_PATCH[1] - float(_gelu_root), 11)
constant("inv_sqrt_2pi", "1/sqrt(2 pi)", 1 / mp.sqrt(2 * mp.pi))
constant("inv_sqrt2", "1/sqrt(2)", 1 / mp.sqrt(2))
constant("sqrt2", "sqrt(2)", mp.sqrt(2))


def emit():
    lines = ["// Generated by tools/fit_polynomials.py from mpmath (50 digits); do not edit.",
             "// Coefficients from the constant term up.", "#pragma once", "",
             "namespace actgrad::vm::coeffs {", ""]
    for name, (doc, func, lo, hi, degree, lead, relative, options) in FITS.items():
        c = fit(func, lo, hi, degree, lead=lead, relative=relative, **options)
        err = max_error(func, lo, hi, c, lead=lead, relative=relative)
        print(f"{name}: degree {degree}, max error {err:.3g} ({err / 2**-53:.3g} ulp)",
              file=sys.stderr)
        lines.append(f"// {doc}; max {'relative ' if relative else ''}error {err:.2g}")
        vals = ",\n    ".join(repr(float(v)) for v in list(lead) + c)
        lines.append(f"inline constexpr double {name}[] = {{\n    {vals},\n}};")
        lines.append("")
    for name, (doc, value) in CONSTANTS.items():
        hi = float(value)
        lo = float(value - hi)
        lines.append(f"// {doc}")
        lines.append(f"inline constexpr double {name} = {hi!r};")
        lines.append(f"inline constexpr double {name}_lo = {lo!r};")
    lines.append("")
    lines.append("}  // namespace actgrad::vm::coeffs")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if len(sys.argv) > 1:  # fit only the named polynomials (to update the header by hand)
        FITS = {k: v for k, v in FITS.items() if k in sys.argv[1:]}
        CONSTANTS = {}
    sys.stdout.write(emit())
