// Scalar math written so that GCC vectorises it: branch-free selects, range
// reduction by the "shifter" trick and bit manipulation (no float<->int64
// conversions, which AVX2 lacks), polynomials from tools/fit_polynomials.py,
// no libm calls.  Only the float64 ("double") versions are hand-written:
//
//   * float32 and float16 kernels compute in double (work_t<float> = double)
//     and round once at the end.  The double algorithms below are accurate to
//     about 1 ulp of double, so float results are correctly rounded but for
//     the rarest of double-rounding cases (< 1 ulp), and no float-specific
//     tail handling (subnormals, overflow edges) is needed: every float
//     subnormal is a normal double.
//   * long double falls back to the std:: functions (not vectorised), with
//     the same formulas on top.
//
// Every function here is exact in its special values: NaN in gives NaN out,
// +-inf give the mathematical limits, and nothing raises an FP exception that
// the loops do not clear.  The loops compile with GCC's default
// -ffp-contract=fast, so the FMA clones contract a*b+c; every algorithm below
// stays correct under contraction (splits are done by bit masks, not by
// Veltkamp's multiplication, and no step relies on a product being rounded).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "vecmath_coeffs.hpp"

// Everything here is forced inline: the loops are compiled once per target
// (target_clones), and an out-of-line call would both run baseline code and
// stop the loop from vectorising.
#if defined(__GNUC__)
#define ACTGRAD_VM_INLINE inline __attribute__((always_inline))
#else
#define ACTGRAD_VM_INLINE inline
#endif

namespace actgrad::vm {

// The type a kernel computes in, for the type it is called with.
template <class T> struct Work { using type = T; };
template <> struct Work<float> { using type = double; };
template <class T> using work_t = typename Work<T>::type;

template <class W> inline constexpr bool is_double = std::is_same_v<W, double>;

template <class To, class From> ACTGRAD_VM_INLINE To bit_cast(From v) {
    static_assert(sizeof(To) == sizeof(From), "bit_cast needs equal sizes");
    To t;
    std::memcpy(&t, &v, sizeof t);
    return t;
}

// Selects that keep NaN: a NaN x fails every comparison and passes through.
template <class W> ACTGRAD_VM_INLINE W clamp(W x, W lo, W hi) { return x < lo ? lo : (x > hi ? hi : x); }

// |x| and copysign through the sign bit (for double; vectorises as and/or).
ACTGRAD_VM_INLINE double abs(double x) {
    return bit_cast<double>(bit_cast<std::uint64_t>(x) & 0x7fffffffffffffffULL);
}
ACTGRAD_VM_INLINE long double abs(long double x) { return std::fabs(x); }
ACTGRAD_VM_INLINE double copysign(double magnitude, double sign) {
    return bit_cast<double>((bit_cast<std::uint64_t>(magnitude) & 0x7fffffffffffffffULL) |
                            (bit_cast<std::uint64_t>(sign) & 0x8000000000000000ULL));
}
ACTGRAD_VM_INLINE long double copysign(long double magnitude, long double sign) {
    return std::copysign(magnitude, sign);
}

// Horner's scheme, unrolled at compile time: c[0] + x (c[1] + x (c[2] + ...)).
template <std::size_t I = 0, class W, std::size_t N> ACTGRAD_VM_INLINE W horner(W x, const double (&c)[N]) {
    if constexpr (I + 1 == N) {
        return W(c[I]);
    } else {
        return W(c[I]) + x * horner<I + 1>(x, c);
    }
}

// ---------------------------------------------------------------------------
// Double-double helpers.

// a = hi + lo with hi holding the top 26 significant bits (a bit mask, so the
// split is exact and immune to FMA contraction).
ACTGRAD_VM_INLINE void split(double a, double &hi, double &lo) {
    hi = bit_cast<double>(bit_cast<std::uint64_t>(a) & 0xfffffffff8000000ULL);
    lo = a - hi;
}

// a * b = p + e exactly (Dekker), for |a b| below 2^995 and not underflowing.
ACTGRAD_VM_INLINE void two_prod(double a, double b, double &p, double &e) {
    double ah, al, bh, bl;
    split(a, ah, al);
    split(b, bh, bl);
    p = a * b;
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}
ACTGRAD_VM_INLINE void two_prod(long double a, long double b, long double &p, long double &e) {
    p = a * b;
    e = std::fma(a, b, -p);
}

// ---------------------------------------------------------------------------
// exp and expm1 from one range reduction.
//
// x = n ln2 + r with |r| <= ln2/2 (Cody-Waite, ln2 split so that n*LN2_HI is
// exact); expm1(r) = r + r^2/2 + r^3 Q(r) (minimax, error < 2^-60); then
//   exp(x)   = 2^n (1 + expm1(r))          -> returned as parts (m, n)
//   expm1(x) = 2^n expm1(r) + (2^n - 1).
// The parts let a caller multiply the mantissa m by other factors before the
// final scaling by 2^n, so that results in the subnormal range are rounded
// once (x e^x, e^x / (1 + e^x)^2, ... for x near -745).

inline constexpr double INV_LN2 = 1.4426950408889634;
inline constexpr double LN2_HI = 6.93147180369123816490e-01;  // 32 significant bits
inline constexpr double LN2_LO = 1.90821492927058770002e-10;
inline constexpr double SHIFTER = 0x1.8p52;                    // rounds to an integer

template <class W> struct ExpParts {
    W m;               // 2^-n exp(x), in [0.7, 1.42]
    std::int64_t n;    // the exponent
    W em1;             // expm1(x); valid for x <= 700
    W ml;              // m + ml is 2^-n exp(x) to about 2^-60 relative
};

// 2^k for k in [-1022, 1023], built from its bit pattern.
ACTGRAD_VM_INLINE double pow2i(std::int64_t k) { return bit_cast<double>(std::uint64_t(k + 1023) << 52); }

// m 2^n for n in [-1160, 1100], rounded once (two exact power-of-two factors).
ACTGRAD_VM_INLINE double scale(double m, std::int64_t n) {
    const std::int64_t n1 = n >> 1;
    return m * pow2i(n1) * pow2i(n - n1);
}
ACTGRAD_VM_INLINE long double scale(long double m, std::int64_t) { return m; }

// exp(xh + xl) for a double-double argument (xl may be 0): exp and expm1
// parts.  Arguments are clamped to [-800, 710] first (exp rounds to 0 below
// -745.2; callers treat larger arguments themselves), and NaN passes through.
ACTGRAD_VM_INLINE ExpParts<double> exp_parts(double xh, double xl = 0.0) {
    const bool low = xh < -800.0, high = xh > 710.0;
    const double x = low ? -800.0 : (high ? 710.0 : xh);
    const double lo = (low || high) ? 0.0 : xl;
    const double t = x * INV_LN2 + SHIFTER;
    const double nd = t - SHIFTER;
    const std::int64_t n = bit_cast<std::int64_t>(t) - bit_cast<std::int64_t>(SHIFTER);
    // r = x - n ln2 as a double-double (TwoSum): the first difference is exact
    const double u = x - nd * LN2_HI, v = lo - nd * LN2_LO;
    const double r = u + v;
    const double rb = r - u;
    const double rl = (u - (r - rb)) + (v - rb);
    // expm1(r + rl) = ph + pl (Fast2Sum: |r| > |q|), so that the sums below
    // round once
    const double q = r * r * (0.5 + r * horner(r, coeffs::expm1_q));
    const double ph = r + q;
    const double pl = ((r - ph) + q) + rl * (1.0 + ph);
    const double mh = 1.0 + ph;
    const double corr = ((1.0 - mh) + ph) + pl;
    const double m = mh + corr;
    const double ml = (mh - m) + corr;
    // expm1 = (2^n - 1) + 2^n (ph + pl), the first sum exact (TwoSum); below
    // n = -60 expm1 is -1 to double precision.
    const std::int64_t nc = n < -60 ? -60 : n;
    const double two_n = pow2i(nc);
    const double a = two_n - 1.0, b = two_n * ph;
    const double s = a + b;
    const double bb = s - a;
    const double err = (a - (s - bb)) + (b - bb);
    const double em1 = s + (err + two_n * pl);
    return {m, n, em1, ml};
}

// (1 + e)^2 and (1 + e)^3 for 0 <= e <= 1, as 1 + (small part): one rounding
// of the leading 1 instead of the three of (1 + e) (1 + e) (1 + e).
template <class W> ACTGRAD_VM_INLINE W one_plus_sq(W e) { return W(1) + e * (W(2) + e); }
template <class W> ACTGRAD_VM_INLINE W one_plus_cube(W e) { return W(1) + e * (W(3) + e * (W(3) + e)); }
ACTGRAD_VM_INLINE ExpParts<long double> exp_parts(long double xh, long double xl = 0.0L) {
    const long double x = xh + xl;
    return {std::exp(x), 0, std::expm1(x), 0.0L};
}

template <class W> ACTGRAD_VM_INLINE W exp(W x) {
    const ExpParts<W> e = exp_parts(x);
    return scale(e.m, e.n);
}
template <class W> ACTGRAD_VM_INLINE W expm1(W x) { return exp_parts(x).em1; }

// ---------------------------------------------------------------------------
// log1p(e) for e in [0, 1] (the only range the activations need: e is
// always exp(-|x|)).  For e > 1/2, 1 + e = 2 (1 + f) with f = (e - 1)/2 in
// [-1/4, 0] (exact); else f = e.  Then log1p(f) = f - (f^2/2 - s (f^2/2 + R))
// with s = f/(2 + f) and 2 atanh(s) = 2s + s R(s^2) (fdlibm's scheme: the
// leading f is exact, so the result is within about 1 ulp).
ACTGRAD_VM_INLINE double log1p_unit(double e) {
    const bool big = e > 0.5;
    const double f = big ? (e - 1.0) * 0.5 : e;
    const double k = big ? 1.0 : 0.0;
    const double s = f / (2.0 + f);
    const double z = s * s;
    const double hfsq = 0.5 * f * f;
    const double R = z * horner(z, coeffs::log1p_s);
    return k * LN2_HI - ((hfsq - (s * (hfsq + R) + k * LN2_LO)) - f);
}
ACTGRAD_VM_INLINE long double log1p_unit(long double e) { return std::log1p(e); }

}  // namespace actgrad::vm

// Inside a kernel struct: f, df, d2f for any T that call the implementations
// f_, df_, d2f_ in work_t<T> and round once.
#define ACTGRAD_WORK_FORMS(IMPL_F, IMPL_DF, IMPL_D2F)                                       \
    template <class T, class... P> ACTGRAD_VM_INLINE static T f(T x, P... p) {                                \
        using W = vm::work_t<T>;                                                            \
        return T(IMPL_F(W(x), W(p)...));                                                    \
    }                                                                                       \
    template <class T, class... P> ACTGRAD_VM_INLINE static T df(T x, P... p) {                               \
        using W = vm::work_t<T>;                                                            \
        return T(IMPL_DF(W(x), W(p)...));                                                   \
    }                                                                                       \
    template <class T, class... P> ACTGRAD_VM_INLINE static T d2f(T x, P... p) {                              \
        using W = vm::work_t<T>;                                                            \
        return T(IMPL_D2F(W(x), W(p)...));                                                  \
    }

