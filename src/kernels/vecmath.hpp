// Scalar math written so that GCC vectorises it: branch-free selects, range
// reduction by the "shifter" trick and bit manipulation (no float<->int64
// conversions, which AVX2 lacks), polynomials from tools/fit_polynomials.py,
// no libm calls but std::fma.  One algorithm per function, for W = float
// (float32 and float16) and W = double, with per-type constants (FP<W>) and
// polynomials sized for each type:
//
//   * float32 and float16 compute in float (work_t<float> = float) with the
//     *_f polynomials, sized for float; the few kernels whose float formulas
//     would not stay within the bound compute in wide_t (double for float)
//     and say so.
//   * long double falls back to the std:: functions (not vectorised), with
//     the same formulas on top, except for what is float64-grade here: the
//     patches around roots and their roots come from vecmath_coeffs_ld.hpp
//     (tools/fit_longdouble.py), double-double constants are summed (dd),
//     and exp_parts scales its parts in long double's own far tail (down to
//     e^-11400, where float64 stops at e^-745).
//
// Every function here is exact in its special values: NaN in gives NaN out,
// +-inf give the mathematical limits, and nothing raises an FP exception that
// the loops do not clear.  The extension compiles with -ffp-contract=off, so
// that the AVX-512, AVX2 and baseline clones of a loop give the same bits:
// every fused multiply-add is written as std::fma (one instruction on FMA
// targets, a libm call on the baseline one, which is then slower but
// identical), and every other product and sum is rounded as written.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "vecmath_coeffs.hpp"
#include "vecmath_coeffs_ld.hpp"

// Everything here is forced inline: the loops are compiled once per
// instruction set (src/ufuncs/isa.hpp), and an out-of-line call would both
// run baseline code and stop the loop from vectorising.
#if defined(__GNUC__)
#define ACTGRAD_VM_INLINE inline __attribute__((always_inline))
#else
#define ACTGRAD_VM_INLINE inline
#endif

namespace actgrad::vm {

// The type a kernel computes in, for the type it is called with: its own
// (float, double, long double; integers arrive as double), or, for the few
// kernels whose float formulas would not stay within 4 ulp, wide_t (double
// for float).
template <class T> struct Work { using type = T; };
template <class T> using work_t = typename Work<T>::type;
template <class T> struct Wide { using type = T; };
template <> struct Wide<float> { using type = double; };
template <class T> using wide_t = typename Wide<T>::type;

// Per-type constants of the vectorised math.
template <class W> struct FP;
template <> struct FP<double> {
    using U = std::uint64_t;
    using I = std::int64_t;
    static constexpr int mant = 52, bias = 1023;
    static constexpr U sign = 0x8000000000000000ULL;
    static constexpr double shifter = 0x1.8p52;             // t + shifter rounds t to an integer
    static constexpr double inv_ln2 = 1.4426950408889634;
    static constexpr double ln2_hi = 0x1.62e42fefa39efp-1;  // ln2 rounded: x - n ln2_hi is exact by fma
    static constexpr double ln2_lo = 0x1.abc9e3b39803fp-56;  // ln2 - ln2_hi
    static constexpr double exp_lo = -800.0, exp_hi = 710.0;      // exp's argument clamps
    static constexpr double exp_lo_wide = -1500.0;  // exp_parts_wide: below vanish_x (-1490)
    static constexpr I em1_n_min = -60;                           // expm1 = -1 below
    static constexpr double big = 1e300;        // double-double products overflow above
    static constexpr I subnormal_n = -1000;     // m 2^n nears the subnormals below
    static constexpr double tail_x = 800.0;     // x e^-x (x^3 e^-2x, ...) is 0 for x above
};
template <> struct FP<float> {
    using U = std::uint32_t;
    using I = std::int32_t;
    static constexpr int mant = 23, bias = 127;
    static constexpr U sign = 0x80000000U;
    static constexpr float shifter = 0x1.8p23f;
    static constexpr float inv_ln2 = 1.44269504f;
    static constexpr float ln2_hi = 0x1.62e430p-1f;   // ln2 rounded
    static constexpr float ln2_lo = -0x1.05c610p-29f;  // ln2 - ln2_hi
    static constexpr float exp_lo = -150.0f, exp_hi = 89.0f;
    static constexpr float exp_lo_wide = -210.0f;  // below vanish_x (-207.9)
    static constexpr I em1_n_min = -30;
    static constexpr float big = 1e30f;
    static constexpr I subnormal_n = -120;
    static constexpr float tail_x = 800.0f;
};
// long double: the exponent range of x87's 80-bit format (and of IEEE quad)
// reaches e^-11399, so the tails are longer than double's.
template <> struct FP<long double> {
    using I = std::int64_t;
    static constexpr long double big = 1e300L;  // only guards two_prod (an fma) against inf
    static constexpr I subnormal_n = -1000;
    static constexpr long double tail_x = 12000.0L;  // x e^-x rounds to 0 above 11410
};

template <class W> inline constexpr bool is_double = std::is_same_v<W, double>;
template <class W> inline constexpr bool is_ld = std::is_same_v<W, long double>;

// A constant given as a double-double (hi + lo, vecmath_coeffs.hpp): hi, or in
// long double hi + lo (hi alone is up to 2^10 long double ulp off).
template <class W> ACTGRAD_VM_INLINE constexpr W dd(double hi, double lo) {
    if constexpr (is_ld<W>) {
        return W(hi) + W(lo);
    } else {
        (void)lo;
        return W(hi);
    }
}

template <class To, class From> ACTGRAD_VM_INLINE To bit_cast(From v) {
    static_assert(sizeof(To) == sizeof(From), "bit_cast needs equal sizes");
    To t;
    std::memcpy(&t, &v, sizeof t);
    return t;
}

// Selects that keep NaN: a NaN x fails every comparison and passes through.
template <class W> ACTGRAD_VM_INLINE W clamp(W x, W lo, W hi) { return x < lo ? lo : (x > hi ? hi : x); }

// |x| and copysign through the sign bit (vectorises as and/or).
template <class W> ACTGRAD_VM_INLINE W abs(W x) {
    using U = typename FP<W>::U;
    return bit_cast<W>(bit_cast<U>(x) & U(~FP<W>::sign));
}
ACTGRAD_VM_INLINE long double abs(long double x) { return std::fabs(x); }
template <class W> ACTGRAD_VM_INLINE W copysign(W magnitude, W sign) {
    using U = typename FP<W>::U;
    return bit_cast<W>((bit_cast<U>(magnitude) & U(~FP<W>::sign)) |
                       (bit_cast<U>(sign) & FP<W>::sign));
}
ACTGRAD_VM_INLINE long double copysign(long double magnitude, long double sign) {
    return std::copysign(magnitude, sign);
}

// a b + c rounded once (float, double), or as written (long double, whose
// results stay those of its own tests).
template <class W> ACTGRAD_VM_INLINE W fma(W a, W b, W c) {
    if constexpr (std::is_same_v<W, long double>) {
        return a * b + c;
    } else {
        return std::fma(a, b, c);
    }
}

// Horner's scheme, unrolled at compile time: c[0] + x (c[1] + x (c[2] + ...)),
// one fma per coefficient (long double: a product and a sum).
template <std::size_t I = 0, class W, std::size_t N> ACTGRAD_VM_INLINE W horner(W x, const double (&c)[N]) {
    if constexpr (I + 1 == N) {
        return W(c[I]);
    } else {
        return fma(x, horner<I + 1>(x, c), W(c[I]));
    }
}

// long double coefficients (vecmath_coeffs_ld.hpp), for long double only.
template <std::size_t I = 0, std::size_t N>
ACTGRAD_VM_INLINE long double horner(long double x, const long double (&c)[N]) {
    if constexpr (I + 1 == N) {
        return c[I];
    } else {
        return c[I] + x * horner<I + 1>(x, c);
    }
}

// The float or the double version of a fitted polynomial:
// ACTGRAD_POLY(W, x, name) evaluates coeffs::name_f for float, coeffs::name else.
#define ACTGRAD_POLY(W, x, name)                                                 \
    (std::is_same_v<W, float> ? ::actgrad::vm::horner(x, ::actgrad::vm::coeffs::name##_f) \
                              : ::actgrad::vm::horner(x, ::actgrad::vm::coeffs::name))

// x - (hi + lo) for a double-double constant, in W: for float the constant is
// re-split into two floats (the subtraction of the first is exact near the
// root it stands for, Sterbenz).
template <class W> ACTGRAD_VM_INLINE W minus_dd(W x, double hi, double lo) {
    const W h = W(hi);
    const W l = W((hi - double(h)) + lo);
    return (x - h) - l;
}

// long double: the root as two long doubles (vecmath_coeffs_ld.hpp); x - hi is
// exact near the root (Sterbenz).
ACTGRAD_VM_INLINE long double minus_dd(long double x, long double hi, long double lo) {
    return (x - hi) - lo;
}

// (x - root) Q(x - root) for a polynomial patch around a root given as a
// double-double: Q is evaluated at the exact x - hi, and the product takes
// the low part of the root into account, so that the result does not carry
// the rounding of x - root.
template <class W, std::size_t N>
ACTGRAD_VM_INLINE W patch(W x, double hi, double lo, const double (&c)[N]) {
    const W h = W(hi);
    const W l = W((hi - double(h)) + lo);
    const W d = x - h;
    const W q = horner(d, c);
    return fma(d, q, -l * q);
}
template <std::size_t N>
ACTGRAD_VM_INLINE long double patch(long double x, long double hi, long double lo,
                                    const long double (&c)[N]) {
    const long double d = minus_dd(x, hi, lo);
    return d * horner(d, c);
}

// x - NAME for the double-double NAME, NAME_lo of vecmath_coeffs.hpp, or in long
// double for the pair of vecmath_coeffs_ld.hpp (128 bits: the 106 of a
// double-double would leave 2^-42 relative errors at the long double nearest
// a root).
template <class W>
ACTGRAD_VM_INLINE W minus_root(W x, double hi, double lo, long double hi_ld, long double lo_ld) {
    if constexpr (is_ld<W>) {
        return minus_dd(x, hi_ld, lo_ld);
    } else {
        (void)hi_ld, (void)lo_ld;
        return minus_dd(x, hi, lo);
    }
}
#define ACTGRAD_MINUS_ROOT(W, x, name)                                                        \
    ::actgrad::vm::minus_root<W>(x, ::actgrad::vm::coeffs::name, ::actgrad::vm::coeffs::name##_lo, \
                                 ::actgrad::vm::coeffs_ld::name, ::actgrad::vm::coeffs_ld::name##_lo)

// The constant NAME for W: the double of vecmath_coeffs.hpp, or the long double
// of vecmath_coeffs_ld.hpp.
template <class W> ACTGRAD_VM_INLINE constexpr W pick(double d, long double ld) {
    if constexpr (is_ld<W>) {
        (void)d;
        return ld;
    } else {
        (void)ld;
        return W(d);
    }
}
#define ACTGRAD_CONST(W, name) ::actgrad::vm::pick<W>(::actgrad::vm::coeffs::name, ::actgrad::vm::coeffs_ld::name)

// The patch NAME (NAME_root, NAME_root_lo, the polynomial Q) for W: from
// vecmath_coeffs.hpp, or for long double from vecmath_coeffs_ld.hpp.
template <class W, std::size_t N, std::size_t M>
ACTGRAD_VM_INLINE W root_patch(W x, double hi, double lo, const double (&c)[N], long double hi_ld,
                               long double lo_ld, const long double (&c_ld)[M]) {
    if constexpr (is_ld<W>) {
        return patch(x, hi_ld, lo_ld, c_ld);
    } else {
        (void)hi_ld, (void)lo_ld, (void)c_ld;
        return patch(x, hi, lo, c);
    }
}
#define ACTGRAD_PATCH(W, x, name, q)                                                          \
    ::actgrad::vm::root_patch<W>(x, ::actgrad::vm::coeffs::name##_root,                      \
                                 ::actgrad::vm::coeffs::name##_root_lo, ::actgrad::vm::coeffs::q, \
                                 ::actgrad::vm::coeffs_ld::name##_root,                      \
                                 ::actgrad::vm::coeffs_ld::name##_root_lo,                   \
                                 ::actgrad::vm::coeffs_ld::q)

// ---------------------------------------------------------------------------
// Double-double helpers.

// a * b = p + e exactly (the fma rounds a b - p once, and that is exact),
// unless a b underflows or overflows.
template <class W> ACTGRAD_VM_INLINE void two_prod(W a, W b, W &p, W &e) {
    p = a * b;
    e = std::fma(a, b, -p);
}
ACTGRAD_VM_INLINE void two_prod(long double a, long double b, long double &p, long double &e) {
    p = a * b;
    e = std::fma(a, b, -p);
}

// a + b = s + e exactly (Knuth's TwoSum, any magnitudes).
template <class W> ACTGRAD_VM_INLINE void two_sum(W a, W b, W &s, W &e) {
    s = a + b;
    const W bb = s - a;
    e = (a - (s - bb)) + (b - bb);
}

// A double-double constant split for W: hi = W(hi + lo), lo = the rest, so
// that products with it can be carried to twice W's precision (float: the
// double constant re-split into two floats).
template <class W> ACTGRAD_VM_INLINE void dd_split(double hi, double lo, W &h, W &l) {
    h = W(hi);
    l = W((hi - double(h)) + lo);
}

// (ah + al) b as hi + lo: the product of the leading parts exact (fma), the
// cross term rounded (relative 2^-2p).
template <class W> ACTGRAD_VM_INLINE void mul_dd(W ah, W al, W b, W &h, W &l) {
    h = ah * b;
    l = std::fma(ah, b, -h) + al * b;
}

// (ah + al) / (bh + bl) rounded about once: the remainder of the leading
// quotient is exact (fma), so only the final sum rounds (plus 2^-2p terms).
template <class W> ACTGRAD_VM_INLINE W div_dd(W ah, W al, W bh, W bl) {
    const W q = ah / bh;
    const W r = (std::fma(-q, bh, ah) + al) - q * bl;
    return q + r / bh;
}

// (1 + eh + el)^K for K = 1, 2, 3 and 0 <= eh <= 1 as h + l, to about 2^-2p:
// 1 + eh exact (TwoSum) and the powers carried as double-doubles (fma).
template <int K, class W> ACTGRAD_VM_INLINE void one_plus_pow_dd(W eh, W el, W &h, W &l) {
    W s, sl;
    two_sum(W(1), eh, s, sl);
    sl += el;
    if constexpr (K == 1) {
        h = s, l = sl;
    } else if constexpr (K == 2) {
        two_prod(s, s, h, l);
        l = std::fma(W(2) * s, sl, l);
    } else {
        W p, pl;
        two_prod(s, s, p, pl);
        pl = std::fma(W(2) * s, sl, pl);
        two_prod(p, s, h, l);
        l = std::fma(pl, s, std::fma(p, sl, l));
    }
}

// (1 + e)^2 for 0 <= e <= 1 with 2e + e^2 and the sum exact: rounded once.
template <class W> ACTGRAD_VM_INLINE W one_plus_sq_exact(W e) {
    W qh, ql, ah, al, dh, dl;
    two_prod(e, e, qh, ql);
    two_sum(W(2) * e, qh, ah, al);
    two_sum(W(1), ah, dh, dl);
    return dh + (dl + (al + ql));
}

// (1 + c1 e + c2 e^2)^3 for 0 <= e <= 1, with the inner sum and the cube as
// double-doubles: h + l to about 2^-2p, but for the rounding of 1 + ... (the
// cube of a rounded 1 + ... would be 3 ulp off); quadratic_cubed rounds it.
template <class W> ACTGRAD_VM_INLINE void quadratic_cubed_dd(W e, W c1, W c2, W &h, W &l) {
    W qh, ql, ah, al, dh, dl, ph, pl, ch, cl;
    two_prod(e, e, qh, ql);
    two_sum(c1 * e, c2 * qh, ah, al);  // c1, c2 powers of two: exact products
    al = fma(c2, ql, al);
    two_sum(W(1), ah, dh, dl);
    dl += al;
    two_prod(dh, dh, ph, pl);
    two_prod(ph, dh, ch, cl);
    h = ch;
    l = fma(W(3) * ph, dl, fma(pl, dh, cl));  // long double: as summed before
}
// (1 + c1 e + c2 e^2)^2 in the same way (float and double only).
template <class W> ACTGRAD_VM_INLINE void quadratic_squared_dd(W e, W c1, W c2, W &h, W &l) {
    W qh, ql, ah, al, dh, dl;
    two_prod(e, e, qh, ql);
    two_sum(c1 * e, c2 * qh, ah, al);
    al = fma(c2, ql, al);
    two_sum(W(1), ah, dh, dl);
    dl += al;
    two_prod(dh, dh, h, l);
    l = fma(W(2) * dh, dl, l);
}
template <class W> ACTGRAD_VM_INLINE W quadratic_cubed(W e, W c1, W c2) {
    W h, l;
    quadratic_cubed_dd(e, c1, c2, h, l);
    return h + l;
}


// ---------------------------------------------------------------------------
// exp and expm1 from one range reduction.
//
// x = n ln2 + r with |r| <= ln2/2 (Cody-Waite with fma: ln2 = ln2_hi + ln2_lo
// and x - n ln2_hi exact); expm1(r) = r + r^2/2 + r^3 Q(r) (minimax, relative
// error 2^-60 for double, degree 13; 2^-29 for float, degree 7); then
//   exp(x)   = 2^n (1 + expm1(r))          -> returned as parts (m, n)
//   expm1(x) = 2^n expm1(r) + (2^n - 1).
// The parts let a caller multiply the mantissa m by other factors before the
// final scaling by 2^n, so that results in the subnormal range are rounded
// once (x e^x, e^x / (1 + e^x)^2, ... for x near -745).

template <class W> struct ExpInt { using type = typename FP<W>::I; };
template <class W> using exp_int_t = typename ExpInt<W>::type;

template <class W> struct ExpParts {
    W m;               // 2^-n exp(x), in [0.7, 1.42] (long double: see exp_parts)
    exp_int_t<W> n;    // the exponent
    W em1;             // expm1(x); valid for x well below the overflow edge
    W ml;              // m + ml is 2^-n exp(x) to about 2^-60 (2^-29 for float)
};

// 2^k for k in the normal exponent range, built from its bit pattern.
template <class W> ACTGRAD_VM_INLINE W pow2i(exp_int_t<W> k) {
    using U = typename FP<W>::U;
    return bit_cast<W>(U(k + FP<W>::bias) << FP<W>::mant);
}

// m 2^n for n in [-1160, 1100] (float: [-250, 250]), rounded once (two
// exact power-of-two factors).
template <class W> ACTGRAD_VM_INLINE W scale(W m, exp_int_t<W> n) {
    const exp_int_t<W> n1 = n >> 1;
    return m * pow2i<W>(n1) * pow2i<W>(n - n1);
}
// m 2^n as scale, for n in [-1222, 823] (float [-226, 27]), the exponents
// of e^-|x| and of its products: m 2^(n + K) times the constant 2^-K
// (K = 200, float 100).  The first product is the result times 2^K, exact
// wherever the result is a nonzero double below 2^823 (float 2^27), so the
// second rounds once, into the subnormals too: scale's bits, with two
// integer operations and two products instead of six and two.
template <class W> ACTGRAD_VM_INLINE W scale_left(W m, exp_int_t<W> n) {
    constexpr exp_int_t<W> K = is_double<W> ? 200 : 100;
    return (m * pow2i<W>(n + K)) * pow2i<W>(-K);
}
ACTGRAD_VM_INLINE long double scale_left(long double m, std::int64_t n) {
    return n == 0 ? m : std::ldexp(m, int(n));
}
// l 2^n for the low part l of a double-double whose scaled sum meets O(1)
// terms: 0 where it is below 2^-2p of them (no subnormal operands, which cost
// a microcode assist per instruction on x86).
template <class W> ACTGRAD_VM_INLINE W scale_low(W l, exp_int_t<W> n) {
    constexpr exp_int_t<W> k = -2 * FP<W>::mant;
    return n < k ? W(0) : l * pow2i<W>(n < k ? k : n);
}
ACTGRAD_VM_INLINE long double scale(long double m, std::int64_t n) {
    return n == 0 ? m : std::ldexp(m, int(n));
}

// m 2^n for n of exp_parts_wide plus a factor's exponent (split_pow2), |m|
// in [1/8, 8]: n is raised to -1100 (float -200), below which m 2^n is 0 all
// the same, so that scale's two factors stay normal.  (n stays below 2047,
// float 255: x <= exp_hi and a factor below 2^1024 keep it there.)
template <class W> ACTGRAD_VM_INLINE W scale_clamped(W m, exp_int_t<W> n) {
    constexpr exp_int_t<W> k = is_double<W> ? -1100 : -200;
    return scale(m, n < k ? k : n);
}
ACTGRAD_VM_INLINE long double scale_clamped(long double m, std::int64_t n) { return scale(m, n); }

// f = fm 2^fe with |fm| in [1, 2) for a finite nonzero f (subnormals
// included), read from its bits; fm = f and fe = 0 for 0, inf and NaN.  A
// factor far from 1 (a parameter, or its reciprocal) is applied as fm to a
// mantissa and as fe to the exponent of scale_clamped, so that the product
// neither overflows nor is scaled from a clamped exponential.
template <class W> ACTGRAD_VM_INLINE void split_pow2(W f, W &fm, exp_int_t<W> &fe) {
    using U = typename FP<W>::U;
    using I = exp_int_t<W>;
    constexpr U emask = U((U(1) << (sizeof(W) * 8 - 1 - FP<W>::mant)) - 1) << FP<W>::mant;
    constexpr int lift = FP<W>::mant + 1;  // a subnormal times 2^lift is normal
    const W a = abs(f);
    const bool sub = a < W(is_double<W> ? 0x1p-1022 : 0x1p-126);  // (NVRTC's shim lacks min())
    const W g = sub ? f * pow2i<W>(lift) : f;
    const U b = bit_cast<U>(g);
    // (the integer selects as products: GCC 12 does not vectorise a select
    // of integers on a loop-invariant condition, as for a uniform parameter)
    const I e = I((b & emask) >> FP<W>::mant) - FP<W>::bias - I(sub) * lift;
    const bool plain = (f == W(0)) | !(a <= std::numeric_limits<W>::max());
    fm = plain ? f : bit_cast<W>((b & ~emask) | (U(FP<W>::bias) << FP<W>::mant));
    fe = e * I(!plain);
}
ACTGRAD_VM_INLINE void split_pow2(long double f, long double &fm, std::int64_t &fe) {
    fm = f;
    fe = 0;
}

// exp(xh + xl) for a double-double argument (xl = 0 by the one-argument
// form, which then spends nothing on it): exp and expm1 parts.  Arguments are
// clamped to [exp_lo, exp_hi] first (exp rounds to 0 or overflows beyond),
// and NaN passes through.  precise = false drops the double-double
// refinements of m (about 0.3 ulp less accurate, for kernels with error to
// spare; em1 is as accurate either way).
template <class W, bool precise, bool has_lo, bool wide = false>
ACTGRAD_VM_INLINE ExpParts<W> exp_parts_impl(W xh, W xl) {
    using F = FP<W>;
    using I = typename F::I;
    constexpr W lo = wide ? F::exp_lo_wide : F::exp_lo;
    const bool low = xh < lo, high = xh > F::exp_hi;
    const W x = low ? lo : (high ? F::exp_hi : xh);
    // n = round(x / ln2) by the shifter; u = x - n ln2_hi exactly (the fma
    // rounds once, and |u| < 0.35 keeps every bit of the difference)
    const W t = std::fma(x, F::inv_ln2, F::shifter);
    const W nd = t - F::shifter;
    const I n = bit_cast<I>(t) - bit_cast<I>(F::shifter);
    const W u = std::fma(-nd, F::ln2_hi, x);
    // r + rl = u - n ln2_lo + xl, a double-double (TwoSum) when precise
    W v = -nd * F::ln2_lo;
    if constexpr (has_lo) {
        v += (low || high) ? W(0) : xl;
    }
    const W r = u + v;
    // expm1(r) = r + q, q = r^2 (1/2 + r Q(r)); ph + pl = r + q (Fast2Sum:
    // |r| > |q|), so that the sums below round once
    W P;
    if constexpr (std::is_same_v<W, double>) {
        P = horner(r, coeffs::expm1_q);
    } else {
        P = horner(r, coeffs::expm1_q_f);
    }
    const W q = (r * r) * std::fma(r, P, W(0.5));
    const W ph = r + q;
    W pl = (r - ph) + q;
    W m, ml;
    if constexpr (precise) {
        const W rb = r - u;
        const W rl = (u - (r - rb)) + (v - rb);
        pl = std::fma(rl, W(1) + ph, pl);
        const W mh = W(1) + ph;
        const W corr = ((W(1) - mh) + ph) + pl;
        m = mh + corr;
        ml = (mh - m) + corr;
    } else {
        m = W(1) + ph;  // (ph + pl rounds to ph)
        ml = W(0);
    }
    // expm1 = (2^n - 1) + 2^n (ph + pl), the first sum exact (TwoSum); below
    // em1_n_min expm1 is -1 to working precision.
    const I nc = n < F::em1_n_min ? F::em1_n_min : n;
    const W two_n = pow2i<W>(nc);
    const W a = two_n - W(1), b = two_n * ph;
    const W s = a + b;
    const W bb = s - a;
    const W err = (a - (s - bb)) + (b - bb);
    const W em1 = s + std::fma(two_n, pl, err);
    return {m, n, em1, ml};
}
template <class W> ACTGRAD_VM_INLINE ExpParts<W> exp_parts(W x) {
    return exp_parts_impl<W, true, false>(x, W(0));
}
template <class W> ACTGRAD_VM_INLINE ExpParts<W> exp_parts(W xh, W xl) {
    return exp_parts_impl<W, true, true>(xh, xl);
}

// (1 + e)^2 and (1 + e)^3 for 0 <= e <= 1, as 1 + (small part): one rounding
// of the leading 1 instead of the three of (1 + e) (1 + e) (1 + e).
template <class W> ACTGRAD_VM_INLINE W one_plus_sq(W e) { return fma(e, W(2) + e, W(1)); }
template <class W> ACTGRAD_VM_INLINE W one_plus_cube(W e) { return fma(e, fma(e, W(3) + e, W(3)), W(1)); }
// long double: m = exp(xh) (1 + xl) and n = 0 (exp(xh + xl) with the sum
// rounded would lose |x| ulp: 2^13 at x = -11000), except in the left tail,
// where results (x e^x, e^2x, ...) near and below the smallest normal must be
// rounded once: for xh < -4096 (80-bit and quad formats; elsewhere, such as
// long double == double, there is no such tail) n = -8192 and
//   m = exp(xh + C) (1 + xl - d),  C = 8192 ln2 + d,
// C rounded to a multiple of ulp(2^13), so that xh + C is exact for
// xh in [-16384, -4096]; below, every result is 0 anyway (C and d from
// mpmath).
ACTGRAD_VM_INLINE ExpParts<long double> exp_parts(long double xh, long double xl = 0.0L) {
    const long double em1 = std::expm1(xh + xl);
#if defined(__LDBL_MANT_DIG__) && (__LDBL_MANT_DIG__ == 64 || __LDBL_MANT_DIG__ == 113)
#if __LDBL_MANT_DIG__ == 64
    constexpr long double C = 0x58b90bfbe8e7bcd6p-50L;  // 8192 ln2 + d, to 2^-50
    constexpr long double d = 9.386682553793521918718198e-17L;
#else
    constexpr long double C = 0xb17217f7d1cf79abc9e3b39803f3p-99L;  // to 2^-99
    constexpr long double d = 5.741067857551020165867653e-32L;
#endif
    if (xh < -4096.0L) {
        const long double E = std::exp(xh + C);
        return {E + E * (xl - d), -8192, em1, 0.0L};
    }
#endif
    const long double E = std::exp(xh);
    // (E is inf for large xh, where xl may be of either sign: no inf - inf;
    // E - E == 0 tests for a finite E, as the GPU's headers lack isinf)
    return {xl != 0.0L && E - E == 0.0L ? E + E * xl : E, 0, em1, 0.0L};
}

// exp_parts without the double-double refinements of m (about 0.3 ulp less
// accurate, faster), for kernels with error to spare.
template <class W> ACTGRAD_VM_INLINE ExpParts<W> exp_parts_fast(W x) {
    return exp_parts_impl<W, false, false>(x, W(0));
}
template <class W> ACTGRAD_VM_INLINE ExpParts<W> exp_parts_fast(W xh, W xl) {
    return exp_parts_impl<W, false, true>(xh, xl);
}
ACTGRAD_VM_INLINE ExpParts<long double> exp_parts_fast(long double xh, long double xl = 0.0L) {
    return exp_parts(xh, xl);
}

// exp_parts whose argument reaches exp_lo_wide (double -1500, float -210)
// instead of exp_lo: n down to -2165 (float -303), for the kernels that
// multiply m by a factor up to 2^1075 (a parameter or its reciprocal, see
// split_pow2) and scale with scale_clamped; below vanish_x (logistic.hpp)
// they take the limit 0 explicitly.  e^-800 times alpha = 1e300 would be
// 3.7e-48 where e^-1000 alpha is 5.1e-135.  (The narrow range of exp_parts
// keeps scale's exponent in range without a clamp.)
template <class W, bool precise = true> ACTGRAD_VM_INLINE ExpParts<W> exp_parts_wide(W x) {
    if constexpr (is_ld<W>) {
        return exp_parts(x);
    } else {
        return exp_parts_impl<W, precise, false, true>(x, W(0));
    }
}
template <class W, bool precise = true> ACTGRAD_VM_INLINE ExpParts<W> exp_parts_wide(W xh, W xl) {
    if constexpr (is_ld<W>) {
        return exp_parts(xh, xl);
    } else {
        return exp_parts_impl<W, precise, true, true>(xh, xl);
    }
}

template <class W> ACTGRAD_VM_INLINE W exp(W x) {
    const ExpParts<W> e = exp_parts(x);
    return scale(e.m, e.n);
}
template <class W> ACTGRAD_VM_INLINE W exp_fast(W x) {
    const ExpParts<W> e = exp_parts_fast(x);
    return scale(e.m, e.n);
}
template <class W> ACTGRAD_VM_INLINE W expm1(W x) { return exp_parts(x).em1; }

// ---------------------------------------------------------------------------
// log1p(e) for e in [0, 1] (the only range the activations need: e is
// always exp(-|x|)).  For e > 1/2, 1 + e = 2 (1 + f) with f = (e - 1)/2 in
// [-1/4, 0] (exact); else f = e.  Then log1p(f) = f - (f^2/2 - s (f^2/2 + R))
// with s = f/(2 + f) and 2 atanh(s) = 2s + s R(s^2) (fdlibm's scheme: the
// leading f is exact, so the result is within about 1 ulp).
template <class W> ACTGRAD_VM_INLINE W log1p_unit(W e) {
    const bool big = e > W(0.5);
    const W f = big ? (e - W(1)) * W(0.5) : e;
    const W k = big ? W(1) : W(0);
    const W s = f / (W(2) + f);
    const W z = s * s;
    const W hfsq = W(0.5) * f * f;
    W R;
    if constexpr (std::is_same_v<W, double>) {
        R = z * horner(z, coeffs::log1p_s);
    } else {
        R = z * horner(z, coeffs::log1p_s_f);
    }
    return k * FP<W>::ln2_hi - ((hfsq - (s * (hfsq + R) + k * FP<W>::ln2_lo)) - f);
}
ACTGRAD_VM_INLINE long double log1p_unit(long double e) { return std::log1p(e); }

}  // namespace actgrad::vm

// Inside a kernel struct: f, df, d2f for any T that call the implementations
// f_, df_, d2f_ in work_t<T> and round once.
#define ACTGRAD_WORK_FORMS(IMPL_F, IMPL_DF, IMPL_D2F) ACTGRAD_FORMS_IN(work_t, IMPL_F, IMPL_DF, IMPL_D2F)
#define ACTGRAD_WIDE_FORMS(IMPL_F, IMPL_DF, IMPL_D2F) ACTGRAD_FORMS_IN(wide_t, IMPL_F, IMPL_DF, IMPL_D2F)
#define ACTGRAD_FORMS_IN(WT, IMPL_F, IMPL_DF, IMPL_D2F)                                       \
    template <class T, class... P> ACTGRAD_VM_INLINE static T f(T x, P... p) {                                \
        using W = vm::WT<T>;                                                            \
        return T(IMPL_F(W(x), W(p)...));                                                    \
    }                                                                                       \
    template <class T, class... P> ACTGRAD_VM_INLINE static T df(T x, P... p) {                               \
        using W = vm::WT<T>;                                                            \
        return T(IMPL_DF(W(x), W(p)...));                                                   \
    }                                                                                       \
    template <class T, class... P> ACTGRAD_VM_INLINE static T d2f(T x, P... p) {                              \
        using W = vm::WT<T>;                                                            \
        return T(IMPL_D2F(W(x), W(p)...));                                                  \
    }

