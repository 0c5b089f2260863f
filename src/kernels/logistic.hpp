// The exp/log1p family: sigmoid, logsigmoid, tanh, silu, softplus.
//
// Every kernel computes in work_t<T> (float for float32/float16, double,
// long double) and is written in terms of a = |x| and
// e = exp(-a) <= 1, so that no intermediate overflows for any input and no
// subtraction of nearly equal numbers happens in either tail.  The comments
// give, for each function, the numerically stable form chosen and why.
//
// "Scaled last": where a result can be subnormal (x near -745; long double:
// -11400), e is kept as parts m 2^n (vm::exp_parts) and every other factor
// multiplies m before the single final scaling, so that the result is rounded
// once.  Where x multiplies e it is clamped at FP<W>::tail_x (800; long double
// 12000), beyond which x e^-|x| is 0: inf * 0 would be NaN.
#pragma once

#include <limits>

#include "common.hpp"
#include "vecmath.hpp"

namespace actgrad::kernels {


// sigmoid(x) = 1/(1 + e^-x).
//   f   = 1/(1 + e)       for x >= 0,   e/(1 + e) for x < 0   (e = exp(-|x|))
//   f'  = s(x) s(-x) = e/(1 + e)^2 — symmetric, accurate in both tails.  The
//         textbook s (1 - s) is 0 from x ~ 37 on, where f' is ~1e-16.
//   f'' = s'(x) (1 - 2 s(x)) = -sign(x) s'(x) tanh(|x|/2), with
//         tanh(|x|/2) = -expm1(-|x|)/(2 + expm1(-|x|)): no cancellation near 0.
struct sigmoid {
    // Where e is subnormal, 1 + e == 1 and the results below are e (times a
    // factor <= 1) rounded once, so no final scaling is needed.
    template <class W> ACTGRAD_VM_INLINE static W f_(W x) {
        const auto p = vm::exp_parts_fast(-vm::abs(x));
        const W e = vm::scale_left(p.m, p.n);
        return (x >= W(0) ? W(1) : e) / (W(1) + e);
    }
    template <class W> ACTGRAD_VM_INLINE static W df_(W x) {
        const auto p = vm::exp_parts_fast(-vm::abs(x));
        const W e = vm::scale_left(p.m, p.n);
        return e / vm::one_plus_sq(e);
    }
    template <class W> ACTGRAD_VM_INLINE static W d2f_(W x) {
        // 2 + expm1(-|x|) = 1 + e
        W r;
        if constexpr (!std::is_same_v<W, float>) {
            const auto p = vm::exp_parts_fast(-vm::abs(x));
            const W e = vm::scale_left(p.m, p.n);
            r = e * (vm::abs(p.em1) / vm::one_plus_cube(e));
        } else {
            // float (goal 2 ulp; double, 3.05 ulp on the sweep, keeps the cheaper form):
            // m |expm1| / (1 + e)^3 with the product and the cube carried to
            // twice the precision (m + ml), scaled last: the roundings of
            // expm1 and the final one remain (2.83 ulp before)
            const auto p = vm::exp_parts(-vm::abs(x));
            const W e = vm::scale_left(p.m, p.n);
            W nh, nl, dh, dl;
            vm::mul_dd(p.m, p.ml, vm::abs(p.em1), nh, nl);
            vm::one_plus_pow_dd<3>(e, vm::scale_low(p.ml, p.n), dh, dl);
            r = vm::scale_left(vm::div_dd(nh, nl, dh, dl), p.n);
        }
        return x > W(0) ? -r : r;  // +0 at x = +-0
    }
    ACTGRAD_WORK_FORMS(f_, df_, d2f_)
};

// logsigmoid(x) = log(sigmoid(x)) = -softplus(-x).
//   f   = -log1p(e) for x >= 0,  x - log1p(e) for x < 0: both terms of the
//         same sign, so exact to the last bits; logsigmoid(-1e4) = -1e4.
//   f'  = s(-x): e/(1 + e) for x >= 0, 1/(1 + e) for x < 0.
//   f'' = -s'(x) = -e/(1 + e)^2.
struct logsigmoid {
    template <class W> ACTGRAD_VM_INLINE static W f_(W x) {
        const W e = vm::exp(-vm::abs(x));
        return (x < W(0) ? x : W(0)) - vm::log1p_unit(e);
    }
    template <class W> ACTGRAD_VM_INLINE static W df_(W x) {
        const auto p = vm::exp_parts_fast(-vm::abs(x));
        const W e = vm::scale_left(p.m, p.n);
        return (x < W(0) ? W(1) : e) / (W(1) + e);
    }
    template <class W> ACTGRAD_VM_INLINE static W d2f_(W x) { return -sigmoid::df_(x); }
    ACTGRAD_WORK_FORMS(f_, df_, d2f_)
};

// tanh(x), with E = expm1(-2|x|) and e = exp(-2|x|) from one reduction.
//   f   = sign(x) (-E)/(2 + E) for |x| < 0.55: relative accuracy near 0;
//         sign(x) (1 - 2e/(1 + e)) above: exactly +-1 in the tails.
//         tanh(-0.0) = -0.0.
//   f'  = 1 - tanh^2 = 4e/(1 + e)^2: the textbook 1 - t^2 is 0 from |x| ~ 19.
//   f'' = -2 tanh(x) f'(x).
struct tanh {
    template <class W> ACTGRAD_VM_INLINE static W f_(W x) {
        const auto p = vm::exp_parts_fast(W(-2) * vm::abs(x));
        const W e = vm::scale_left(p.m, p.n);
        // below |x| = 0.55 (tanh < 1/2) expm1 keeps the relative accuracy;
        // above, 1 - 2e/(1 + e) rounds the leading 1 once.
        // (the two conditions differ only for NaN, where both give NaN: one
        // condition twice would let GCC duplicate the division into both
        // arms of the select, two divisions per element)
        const bool small = vm::abs(x) < W(0.55);
        const W num = small ? -p.em1 : W(2) * e;
        const W den = small ? W(2) + p.em1 : W(1) + e;
        const W q = num / den;
        return vm::copysign(!(vm::abs(x) >= W(0.55)) ? q : W(1) - q, x);
    }
    template <class W> ACTGRAD_VM_INLINE static W df_(W x) {
        const auto p = vm::exp_parts_fast(W(-2) * vm::abs(x));
        return vm::scale_left(W(4) * p.m / vm::one_plus_sq(vm::scale_left(p.m, p.n)), p.n);
    }
    template <class W> ACTGRAD_VM_INLINE static W d2f_(W x) {
        W r;
        if constexpr (!std::is_same_v<W, float>) {
            const auto p = vm::exp_parts_fast(W(-2) * vm::abs(x));
            r = vm::scale_left(W(8) * p.m * vm::abs(p.em1) / vm::one_plus_cube(vm::scale_left(p.m, p.n)),
                               p.n);
        } else {
            // float (goal 2 ulp; double, 2.93 ulp on the sweep, keeps the cheaper form):
            // 8 m |E| / (1 + e)^3 with the product and the cube carried to
            // twice the precision (2.75 ulp before); below 2^-13 f'' =
            // -2x (1 - 8x^2/3 + ...) rounds to -2x, which the double-double
            // products would not keep for subnormal x
            const W a = vm::abs(x);
            const auto p = vm::exp_parts(W(-2) * a);
            W nh, nl, dh, dl;
            vm::mul_dd(p.m, p.ml, vm::abs(p.em1), nh, nl);
            vm::one_plus_pow_dd<3>(vm::scale_left(p.m, p.n), vm::scale_low(p.ml, p.n), dh, dl);
            r = vm::scale_left(W(8) * vm::div_dd(nh, nl, dh, dl), p.n);
            r = a < W(0x1p-13) ? W(2) * a : r;
        }
        return x > W(0) ? -r : r;  // +0 at x = +-0
    }
    ACTGRAD_WORK_FORMS(f_, df_, d2f_)
};

// silu(x) = x sigmoid(x).
//   f   = x/(1 + e) for x >= 0, x e/(1 + e) for x < 0 (scaled last).
//   f'  = s(x) + x s'(x) = (1 + e (1 + x))/(1 + e)^2 for x >= 0 and
//         e g/(1 + e)^2 for x < 0, with g = 1 + x + e^x.  g vanishes at the
//         root x0 = -1.2785 of f', where 1 + x and e^x cancel; around it
//         (|x - x0| < 1/2) the exact identity, with d = x - x0 (double-double)
//         and c = e^x0,
//             1 + x + e^x = d + c expm1(d)
//         adds two terms of the same sign, so f' keeps its relative accuracy
//         through the root.  e = c exp(d) there, from the same reduction.
//   f'' = s'(x) (2 - |x| tanh(|x|/2)) = e N/(1 + e)^3 with
//         N = (2 - a) + e (2 + a), a = |x|.  N vanishes at a0 = 2.3994; for
//         |a - a0| < 1.2, with d = a - a0 and e^-a0 = (a0 - 2)/(a0 + 2),
//             N = (a0 - 2) expm1(-d) + d expm1(-a)
//         again two terms of one sign.
struct silu {
    // f', f'' for float/double: numerator and (1 + e)^k carried to twice the precision
    // (m + ml from exp_parts, fma) and divided as double-doubles, so that
    // only the roundings of g, N (or the patches) and the final one remain;
    // long double: the plain quotients.
    // f: the plain quotients (within 3 ulp; the double-double form below
    // would take 40% longer for 2.3 ulp less)
    template <class W> ACTGRAD_VM_INLINE static W f_(W x) {
        const auto p = vm::exp_parts_fast(-vm::abs(x));
        const W d = W(1) + vm::scale_left(p.m, p.n);
        const bool neg = x < W(0);
        const W xc = x < -W(vm::FP<W>::tail_x) ? -W(vm::FP<W>::tail_x) : x;
        // !(x >= 0) is neg but for NaN (NaN either way): the same condition
        // twice would let GCC duplicate the division into both arms
        const W num = !(x >= W(0)) ? xc * p.m : x;
        const W q = num / d;
        return neg ? vm::scale_left(q, p.n) : q;
    }
    template <class W> ACTGRAD_VM_INLINE static W df_(W x) {
        const W dr = ACTGRAD_MINUS_ROOT(W, x, silu_grad_root);
        const bool patch = vm::abs(dr) < W(0.5);
        const auto p = vm::exp_parts(patch ? dr : -vm::abs(x));
        const W root_exp = ACTGRAD_CONST(W, silu_grad_root_exp);
        const W em = patch ? root_exp * p.m : p.m;
        const W e = vm::scale_left(em, p.n);
        const W xc = vm::clamp(x, -W(vm::FP<W>::tail_x), W(vm::FP<W>::tail_x));
        const bool neg = x < W(0);
        if constexpr (vm::is_ld<W>) {
            const W g = patch ? dr + root_exp * p.em1 : (W(1) + xc) + e;
            const W q = (neg ? em * g : W(1) + e * (W(1) + xc)) / vm::one_plus_sq(e);
            return neg ? vm::scale_left(q, p.n) : q;
        } else {
            const W g = patch ? std::fma(root_exp, p.em1, dr) : (W(1) + xc) + e;
            const W eml = patch ? root_exp * p.ml : p.ml;  // (the rounding of c m is 2^-p)
            W nh, nl, dh, dl;
            vm::mul_dd(em, eml, g, nh, nl);
            nh = neg ? nh : std::fma(e, W(1) + xc, W(1));
            nl = neg ? nl : W(0);
            vm::one_plus_pow_dd<2>(e, vm::scale_left(eml, p.n), dh, dl);
            const W q = vm::div_dd(nh, nl, dh, dl);
            return neg ? vm::scale_left(q, p.n) : q;
        }
    }
    template <class W> ACTGRAD_VM_INLINE static W d2f_(W x) {
        const W a = vm::abs(x);
        const W dr = ACTGRAD_MINUS_ROOT(W, a, silu_grad2_root);
        const bool patch = vm::abs(dr) < W(1.2);
        const auto p = vm::exp_parts(patch ? -dr : -a);
        const W root_exp = ACTGRAD_CONST(W, silu_grad2_root_exp);
        const W em = patch ? root_exp * p.m : p.m;
        const W e = vm::scale_left(em, p.n);
        const W ac = a > W(vm::FP<W>::tail_x) ? W(vm::FP<W>::tail_x) : a;
        if constexpr (vm::is_ld<W>) {
            const W N = patch ? ACTGRAD_CONST(W, silu_grad2_root_m2) * p.em1 + dr * (e - W(1))
                              : (W(2) - ac) + e * (W(2) + ac);
            return vm::scale_left(em * N / vm::one_plus_cube(e), p.n);
        } else {
            const W N = patch ? std::fma(W(vm::coeffs::silu_grad2_root_m2), p.em1, dr * (e - W(1)))
                              : std::fma(e, W(2) + ac, W(2) - ac);
            const W eml = patch ? root_exp * p.ml : p.ml;
            W nh, nl, dh, dl;
            vm::mul_dd(em, eml, N, nh, nl);
            vm::one_plus_pow_dd<3>(e, vm::scale_left(eml, p.n), dh, dl);
            return vm::scale_left(vm::div_dd(nh, nl, dh, dl), p.n);
        }
    }
    ACTGRAD_WORK_FORMS(f_, df_, d2f_)
};

// Below vanish_x<W>, e^x c rounds to 0 for every factor c up to 2^1075
// (float: 2^150), which covers a finite parameter and its reciprocal: the
// kernels that multiply e^x by a parameter take that limit explicitly, and
// above it compute e^x with vm::exp_parts_wide, whose argument is not
// clamped before vanish_x (the clamp of exp_parts at -800 would make
// e^-1000 times alpha = 1e300 3.7e-48, not 5.1e-135).
template <class W> inline constexpr W vanish_x =
    W(-2 * (std::numeric_limits<W>::digits - std::numeric_limits<W>::min_exponent + 1)) *
    W(0.6931471805599453);

// softplus(x, beta) = log1p(exp(beta x))/beta, exact everywhere.
//   y = beta x is formed as a double-double (its rounding error would
//   otherwise be magnified |y| times by exp in the left tail), e = exp(-|y|).
//   f   = max(x, 0) + log1p(e)/beta: two terms of one sign, so
//         softplus(1e4) == 1e4 exactly; below 2^-1000, log1p(e) = e is
//         scaled last.
//   f'  = sigmoid(beta x),  f'' = beta sigmoid'(beta x) = beta e/(1 + e)^2.
// beta is finite and > 0, but arrives rounded to the compute type: 1e300 is
// inf and 1e-300 is 0 in float.  So y = x where x is +-0 or +-inf (beta x has
// that value for every finite beta > 0; inf * 0 would be NaN), and every
// term with a factor e (times beta or 1/beta) is 0 where -|y| < vanish_x:
// softplus(-inf) = 0, f''(+-inf) = 0 exactly for every beta.
struct softplus {
    // exp(-|beta x|) down to vanish_x (exp_parts_wide): 1/beta and beta may
    // be huge factors, applied through split_pow2
    template <class W, bool precise = true>
    ACTGRAD_VM_INLINE static vm::ExpParts<W> parts(W x, W beta) {
        W yh, yl;
        vm::two_prod(beta, x, yh, yl);
        const bool exact = x == W(0) || vm::abs(x) == std::numeric_limits<W>::infinity();
        yh = exact ? x : yh;
        yl = !exact && vm::abs(yh) < W(vm::FP<W>::big) ? yl : W(0);  // inf, NaN or near overflow
        // -|y| = -|yh| - sign(yh) yl
        return vm::exp_parts_wide<W, precise>(-vm::abs(yh), yh >= W(0) ? -yl : yl);
    }
    // -|beta x| < vanish_x (or x = +-inf, also where beta rounded to 0):
    // e times any finite factor is 0
    template <class W> ACTGRAD_VM_INLINE static bool vanishes(W x, W beta) {
        const W a = vm::abs(x);
        return a == std::numeric_limits<W>::infinity() || a * beta > -vanish_x<W>;
    }
    template <class W> ACTGRAD_VM_INLINE static W f_(W x, W beta) {
        const auto p = parts(x, beta);
        const W e = vm::scale(p.m, p.n);  // (not used where n < subnormal_n)
        W bm;  // beta = bm 2^be: (m / bm) 2^(n - be)
        vm::exp_int_t<W> be;
        vm::split_pow2(beta, bm, be);
        const W tail = p.n < vm::FP<W>::subnormal_n ? vm::scale_clamped(p.m / bm, p.n - be)
                                                     : vm::log1p_unit(e) / beta;
        return (x > W(0) ? x : W(0)) + (vanishes(x, beta) ? W(0) : tail);
    }
    template <class W> ACTGRAD_VM_INLINE static W df_(W x, W beta) {
        // sigmoid(beta x): e/(1 + e) needs no final scaling (see sigmoid)
        const auto p = parts<W, false>(x, beta);
        const W e = vanishes(x, beta) ? W(0) : vm::scale_clamped(p.m, p.n);
        return (x >= W(0) ? W(1) : e) / (W(1) + e);
    }
    template <class W> ACTGRAD_VM_INLINE static W d2f_(W x, W beta) {
        const auto p = parts(x, beta);
        // beta = bm 2^be: (bm m) 2^(n + be), beta m cannot overflow
        W bm;
        vm::exp_int_t<W> be;
        vm::split_pow2(beta, bm, be);
        const W r = vm::scale_clamped(bm * p.m / vm::one_plus_sq(vm::scale_clamped(p.m, p.n)), p.n + be);
        return vanishes(x, beta) ? W(0) : r;
    }
    ACTGRAD_WORK_FORMS(f_, df_, d2f_)
};

// softplus(x, beta, threshold): PyTorch's linear switch.  Where beta x > threshold
// (beta x rounded in the input's own precision, float for float16, as PyTorch
// computes it) the result is x, f' = 1 and f'' = 0, bit for bit as in PyTorch;
// elsewhere the exact softplus above.
struct softplus_threshold {
    template <class T> ACTGRAD_VM_INLINE static T f(T x, T beta, T threshold) {
        const T y = x * beta;
        return y > threshold ? x : softplus::f(x, beta);
    }
    template <class T> ACTGRAD_VM_INLINE static T df(T x, T beta, T threshold) {
        const T y = x * beta;
        return y > threshold ? T(1) : softplus::df(x, beta);
    }
    template <class T> ACTGRAD_VM_INLINE static T d2f(T x, T beta, T threshold) {
        const T y = x * beta;
        return y > threshold ? T(0) : softplus::d2f(x, beta);
    }
};

// tanhshrink(x) = x - tanh(x), with a = |x|, e = exp(-2a):
//   f   = sign(x) a^3 P(a^2) for a < 0.95 (minimax; x - tanh(x) cancels to
//         x^3/3 near 0), sign(x) ((a - 1) + 2e/(1 + e)) above (a - 1 is
//         exact there and the terms cancel by at most 1.5x); a^3 carried
//         to twice the precision (float/double).
//   f'  = tanh(x)^2 with tanh(a) = a - a^3 P(a^2) or 1 - 2e/(1 + e), both
//         as double-doubles (a^3 and the difference carried to twice the
//         precision) and squared with one rounding.
//   f'' = 2 tanh(x) sech(x)^2, sech^2 = 4e/(1 + e)^2 (scaled last).
struct tanhshrink {
    static constexpr double cut = 0.95;
    // a^3 P(a^2) = qh + ql, with a^2 exact and a^3 carried to twice the
    // precision (float/double), so that only P's rounding and one more remain
    template <class W> ACTGRAD_VM_INLINE static void small_part(W a, W &qh, W &ql) {
        W zh, zl, ch, cl;
        vm::two_prod(a, a, zh, zl);
        const W P = ACTGRAD_POLY(W, zh, tanhshrink_p);
        vm::mul_dd(zh, zl, a, ch, cl);
        qh = ch * P;
        ql = std::fma(ch, P, -qh) + cl * P;
    }
    // tanh(a) = th + tl for a >= 0: a - a^3 P(a^2) or 1 - 2e/(1 + e) (TwoSum)
    template <class W> ACTGRAD_VM_INLINE static void tanh_abs(W a, W e, W &th, W &tl) {
        W qh, ql;
        small_part(a, qh, ql);
        const bool small = a < W(cut);
        const W q = small ? qh : W(2) * e / (W(1) + e);
        const W b = small ? a : W(1);
        vm::two_sum(b, -q, th, tl);
        tl = small ? tl - ql : tl;
    }
    template <class W> ACTGRAD_VM_INLINE static W shrink(W a) {  // a - tanh(a), a >= 0
        if constexpr (vm::is_ld<W>) {
            const W e = vm::exp_fast(W(-2) * a);
            const W z = a * a;
            return a < W(cut) ? a * z * ACTGRAD_POLY(W, z, tanhshrink_p)
                              : (a - W(1)) + W(2) * e / (W(1) + e);
        } else {
            W qh, ql;
            small_part(a, qh, ql);
            const W e = vm::exp_fast(W(-2) * a);
            return a < W(cut) ? qh + ql : (a - W(1)) + W(2) * e / (W(1) + e);
        }
    }
    template <class W> ACTGRAD_VM_INLINE static W tanh_abs_ld(W a, W e) {  // tanh(a), a >= 0
        const W z = a * a;
        const W q = (a < W(cut) ? a * z * ACTGRAD_POLY(W, z, tanhshrink_p) : W(2) * e) /
                    (a < W(cut) ? W(1) : W(1) + e);
        return a < W(cut) ? a - q : W(1) - q;
    }
    template <class W> ACTGRAD_VM_INLINE static W f_(W x) {
        return vm::copysign(shrink(vm::abs(x)), x);
    }
    template <class W> ACTGRAD_VM_INLINE static W df_(W x) {
        const W a = vm::abs(x);
        const W e = vm::exp_fast(W(-2) * a);
        if constexpr (vm::is_ld<W>) {
            const W t = tanh_abs_ld(a, e);
            return t * t;
        } else {
            W th, tl;
            tanh_abs(a, e, th, tl);
            return std::fma(th, th, W(2) * th * tl);  // (th + tl)^2, one rounding
        }
    }
    template <class W> ACTGRAD_VM_INLINE static W d2f_(W x) {
        const W a = vm::abs(x);
        if constexpr (vm::is_ld<W>) {
            const auto p = vm::exp_parts_fast(W(-2) * a);
            const W e = vm::scale_left(p.m, p.n);
            const W t = tanh_abs_ld(a, e);
            return vm::copysign(vm::scale_left(W(8) * t * p.m / vm::one_plus_sq(e), p.n), x);
        } else if constexpr (!std::is_same_v<W, float>) {
            const auto p = vm::exp_parts_fast(W(-2) * a);
            const W e = vm::scale_left(p.m, p.n);
            W th, tl;
            tanh_abs(a, e, th, tl);
            return vm::copysign(vm::scale_left(W(8) * (th + tl) * p.m / vm::one_plus_sq(e), p.n), x);
        } else {
            // float (goal 2 ulp): 8 (th + tl)(m + ml) / (1 + e)^2 with the
            // product and the square carried to twice the precision (2.98 ulp
            // before)
            const auto p = vm::exp_parts(W(-2) * a);
            const W e = vm::scale_left(p.m, p.n);
            W th, tl, nh, nl, dh, dl;
            tanh_abs(a, e, th, tl);
            vm::mul_dd(th, tl, p.m, nh, nl);
            nl = std::fma(th, p.ml, nl);
            vm::one_plus_pow_dd<2>(e, vm::scale_low(p.ml, p.n), dh, dl);
            const W r = vm::copysign(vm::scale_left(W(8) * vm::div_dd(nh, nl, dh, dl), p.n), x);
            // below 2^-13 f'' = 2x (1 - 4x^2/3 + ...) rounds to 2x, which the
            // double-double products would not keep where x is subnormal
            // (their low parts underflow)
            return a < W(0x1p-13) ? W(2) * x : r;
        }
    }
    ACTGRAD_WORK_FORMS(f_, df_, d2f_)
};

}  // namespace actgrad::kernels
