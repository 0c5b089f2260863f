// gelu, exact (x Phi(x)) and with PyTorch's tanh approximation.
//
// Computed in work_t<T> (float for float32/float16, double, long double).
// Polynomials and the roots of the derivatives come from
// tools/fit_polynomials.py.
#pragma once

#include "common.hpp"
#include "vecmath.hpp"

namespace actgrad::kernels {

// gelu(x) = x Phi(x), Phi the standard normal CDF, with a = |x|:
//   erfc(a/sqrt2) = exp(-x^2/2) erfcx(a/sqrt2): x^2 is formed exactly (a
//   double-double) so exp keeps its relative accuracy down to x = -38, where
//   x Phi(x) underflows (long double: -151); erfcx(z) (1 + z) is one
//   polynomial in t = (z - 3.5)/(z + 3.5) over the whole range (long double:
//   erfc(z) e^(z^2), then the asymptotic series; see erfcx_ld).
//   f   = x Phi(x): Phi(x) = erfc/2 for x < 0 (scaled last), 1 - erfc/2 for
//         x >= 0 (no cancellation: erfc/2 <= 1/2).
//   f'  = Phi(x) + x phi(x): a sum of positive terms for x >= 0 and
//         exp(-x^2/2) (erfcx/2 - a/sqrt(2 pi)) for x < 0, both terms carried
//         to twice the precision, except around the root x0 = -0.7518 of f'
//         (x in [-1.1, -0.2], where the two terms cancel; long double
//         [-1.8, -0.2]), where f' = d Q(d), d = x - x0 (double-double root).
//   f'' = phi(x) (2 - x^2): 2 - x^2 from the exact square (long double:
//         (sqrt2 - a)(sqrt2 + a) with a double-double sqrt2): exact at the
//         roots +-sqrt2.
struct gelu {
    // |x| is clamped (inf * 0 would be NaN) where exp(-x^2/2) and every result
    // is 0: double underflows below x = -38.5, long double below -151.
    template <class W>
    static constexpr W a_max = std::is_same_v<W, long double> ? W(160) : W(40);
    template <class W> struct Pieces {
        W a;             // |x|, clamped to a_max
        W em, eml;       // exp(-x^2/2) = (em + eml) 2^n (long double: eml = 0)
        W hm, hl;        // erfc(a/sqrt2)/2 = (hm + hl) 2^n (long double: hl = 0)
        vm::exp_int_t<W> n;
    };
    // float/double: z = a/sqrt2 and 1 + z are double-doubles and the
    // quotient P(t)/(1 + z) and the product with exp's m + ml are carried
    // to twice the precision, so that erfc/2 is within about 1 ulp (the
    // rounding of P) instead of the 3 of a plain product chain.
    template <class W> ACTGRAD_VM_INLINE static Pieces<W> pieces(W x) {
        namespace c = vm::coeffs;
        const W a0 = vm::abs(x);
        const W a = a0 > a_max<W> ? a_max<W> : a0;
        W sh, sl;
        vm::two_prod(a, a, sh, sl);
        const auto p = vm::exp_parts(W(-0.5) * sh, W(-0.5) * sl);
        if constexpr (vm::is_ld<W>) {
            const W g = erfcx_ld(a * vm::dd<W>(c::inv_sqrt2, c::inv_sqrt2_lo));  // erfcx(z)
            return {a, p.m, W(0), W(0.5) * g * p.m + W(0.5) * g * p.ml, W(0), p.n};
        } else {
            W kh, kl, zh, zl, s, sb, gl, hh, hl;
            vm::dd_split(c::inv_sqrt2, c::inv_sqrt2_lo, kh, kl);
            vm::mul_dd(a, W(0), kh, zh, zl);
            zl = std::fma(a, kl, zl);
            const W t = (zh - W(3.5)) / (zh + W(3.5));
            const W P = ACTGRAD_POLY(W, t, erfcx_t);  // erfcx(z) (1 + z)
            s = W(1) + zh;                             // 1 + z = s + sb (TwoSum)
            const W bb = s - zh;
            sb = ((W(1) - bb) + (zh - (s - bb))) + zl;
            const W gh = P / s;                        // erfcx(z) = gh + gl
            gl = (std::fma(-gh, s, P) - gh * sb) / s;
            vm::mul_dd(gh, gl, p.m, hh, hl);
            hl = std::fma(gh, p.ml, hl);
            return {a, p.m, p.ml, W(0.5) * hh, W(0.5) * hl, p.n};
        }
    }
    // long double erfcx(z) = e^(z^2) erfc(z) for z >= 0 (the polynomial above
    // is float64-grade and stops at z = 28): erfc(z) e^(z^2), z^2 exact, up to
    // z = 26 (erfc is the C library's), and above it the asymptotic series
    //   erfcx(z) = 1/(z sqrt(pi)) sum_k (-1)^k (2k-1)!! / (2 z^2)^k,
    // whose terms beyond k = 9 are below 2^-74 there.
    ACTGRAD_VM_INLINE static long double erfcx_ld(long double z) {
        if (z < 26.0L) {
            long double sh, sl;
            vm::two_prod(z, z, sh, sl);
            const long double e = std::exp(sh);
            return std::erfc(z) * (e + e * sl);
        }
        namespace c = vm::coeffs_ld;
        return c::inv_sqrt_pi * vm::horner(0.5L / (z * z), c::erfcx_asymptotic) / z;
    }
    template <class W> ACTGRAD_VM_INLINE static W f_(W x) {
        const auto p = pieces(x);
        const W neg = -vm::fma(p.a, p.hm, p.a * p.hl);
        if constexpr (vm::is_ld<W>) {
            return x < W(0) ? vm::scale_left(neg, p.n) : x * (W(1) - vm::scale_left(p.hm, p.n));
        } else {
            // Phi = 1 - erfc/2 = rh + rl (TwoSum), times x with one rounding
            W rh, rl;
            vm::two_sum(W(1), -vm::scale_left(p.hm, p.n), rh, rl);
            rl -= vm::scale_low(p.hl, p.n);
            // a clamped (no inf * 0); the sign of x for gelu(-0.0) = -0.0
            return x < W(0) ? vm::scale_left(neg, p.n) : vm::copysign(std::fma(x, rh, p.a * rl), x);
        }
    }
    template <class W> ACTGRAD_VM_INLINE static W df_(W x) {
        namespace c = vm::coeffs;
        const auto p = pieces(x);
        if constexpr (vm::is_ld<W>) {
            const W phi_a = p.a * vm::dd<W>(c::inv_sqrt_2pi, c::inv_sqrt_2pi_lo) * p.em;  // a phi(x) 2^-n
            const W pos = (W(1) - vm::scale_left(p.hm, p.n)) + vm::scale_left(phi_a, p.n);
            const W neg = vm::scale_left(p.hm - phi_a, p.n);
            const W patch = ACTGRAD_PATCH(W, x, gelu_grad, gelu_grad_q);
            return x < W(0) ? ((x >= W(-1.8) && x <= W(-0.2)) ? patch : neg) : pos;
        } else {
            // a phi(x) 2^-n = ah + al, carried to twice the precision like erfc/2
            W kh, kl, ph, pl, ah, al;
            vm::dd_split(c::inv_sqrt_2pi, c::inv_sqrt_2pi_lo, kh, kl);
            vm::mul_dd(p.a, W(0), kh, ph, pl);
            pl = std::fma(p.a, kl, pl);
            vm::mul_dd(ph, pl, p.em, ah, al);
            al = std::fma(ph, p.eml, al);
            const W pos = ((W(1) - vm::scale_left(p.hm, p.n)) + vm::scale_left(ah, p.n)) +
                          vm::scale_low(al - p.hl, p.n);
            const W neg = vm::scale_left((p.hm - ah) + (p.hl - al), p.n);
            // around the root only: beyond -1.1 neg loses less than 1.4x the
            // rounding of erfc/2 (and Horner's scheme in d more, toward -1.8)
            const W patch = std::is_same_v<W, float>
                                ? vm::patch(x, c::gelu_grad_root, c::gelu_grad_root_lo, c::gelu_grad_q_f)
                                : vm::patch(x, c::gelu_grad_root, c::gelu_grad_root_lo, c::gelu_grad_q);
            return x < W(0) ? ((x >= W(-1.1) && x <= W(-0.2)) ? patch : neg) : pos;
        }
    }
    template <class W> ACTGRAD_VM_INLINE static W d2f_(W x) {
        namespace c = vm::coeffs;
        const auto p = pieces(x);
        if constexpr (vm::is_ld<W>) {
            const W r = -ACTGRAD_MINUS_ROOT(W, p.a, sqrt2);  // sqrt2 - a
            return vm::scale_left(p.em * vm::dd<W>(c::inv_sqrt_2pi, c::inv_sqrt_2pi_lo) *
                                 (r * (vm::dd<W>(c::sqrt2, c::sqrt2_lo) + p.a)),
                             p.n);
        } else {
            // 2 - x^2 = vh + vl from the exact square (TwoSum), then
            // phi 2^-n = k (vh + vl) (em + eml) carried to twice the precision:
            // exact through the roots +-sqrt2, one rounding at the end
            W sh, sl, kh, kl, th, tl;
            vm::two_prod(p.a, p.a, sh, sl);
            W vh, vl;
            vm::two_sum(W(2), -sh, vh, vl);
            vl -= sl;
            vm::dd_split(c::inv_sqrt_2pi, c::inv_sqrt_2pi_lo, kh, kl);
            vm::mul_dd(vh, vl, kh, th, tl);
            tl = std::fma(vh, kl, tl);
            const W rh = th * p.em;
            const W rl = std::fma(th, p.em, -rh) + std::fma(th, p.eml, tl * p.em);
            return vm::scale_left(rh + rl, p.n);
        }
    }
    ACTGRAD_WORK_FORMS(f_, df_, d2f_)
};

// gelu(x, approximate="tanh") = x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
//                             = x s(v),  v = 2 sqrt(2/pi) x (1 + 0.044715 x^2),
// PyTorch's formula, with s the logistic sigmoid.  v is formed in
// double-double (its rounding error would be magnified |v| times by exp in
// the left tail); with e = exp(-|v|) and v' = 2 sqrt(2/pi) (1 + 3c x^2):
//   f   = x/(1 + e) for x >= 0, x e/(1 + e) for x < 0 (scaled last).
//   f'  = s(v) + x v' s'(v): (1 + e + a v' e)/(1 + e)^2 for x >= 0 and
//         e B1/(1 + e)^2 for x < 0, B1 = 1 + e - a v'.  B1 vanishes at
//         x0 = -0.7525, where its terms cancel: for x in [-1.2, -0.3] (long
//         double [-1.8, -0.2]), B1 = d Q(d), d = x - x0 (minimax, relative
//         accuracy through the root); outside, a v' is a double-double.
//   f'' = s'(v) B2, B2 = 2 v' + x v'' - a v'^2 tanh(|v|/2), even in x;
//         B2 = d Q(d) around its root |x| = 1.4185 (|x| in [0.7, 3.4]).
struct gelu_tanh {
    template <class W> struct Pieces {
        W a, v1, v1sq, m, e;  // |x| (clamped), v', v'^2, exp(-|v|) = m 2^n = e
        vm::exp_int_t<W> n;
        W ml;                 // the low part of m (exp_parts)
        W v1h, v1l;           // v' as a double-double (v1 = v1h + v1l rounded)
    };
    // |x| is clamped (inf * 0 would be NaN) where exp(-|v|) is 0: |v(30)| > 1900
    // (double), |v(60)| > 15000 (long double, which underflows at e^-11400)
    template <class W>
    static constexpr W a_max = std::is_same_v<W, long double> ? W(60) : W(30);
    template <class W> ACTGRAD_VM_INLINE static Pieces<W> pieces(W x) {
        namespace c = vm::coeffs;
        const W a0 = vm::abs(x);
        const W a = a0 > a_max<W> ? a_max<W> : a0;
        W qh, ql, ph, pl, yh, yl, vh, vl, ch, cl, kh, kl;
        vm::dd_split(c::gelu_tanh_c, c::gelu_tanh_c_lo, ch, cl);
        vm::dd_split(c::gelu_tanh_k2, c::gelu_tanh_k2_lo, kh, kl);
        vm::two_prod(a, a, qh, ql);
        vm::two_prod(ch, qh, ph, pl);
        pl += ch * ql + cl * qh;
        // 1 + c x^2 = sh + sl (TwoSum)
        const W sh = W(1) + ph;
        const W bb = sh - W(1);
        const W sl = ((W(1) - (sh - bb)) + (ph - bb)) + pl;
        vm::two_prod(a, sh, yh, yl);
        yl += a * sl;
        vm::two_prod(kh, yh, vh, vl);
        vl += kh * yl + kl * yh;
        const auto p = vm::exp_parts(-vh, -vl);
        // v' = K2 (1 + 3 c x^2) = K2 ((1 + c x^2) + 2 c x^2), as a double-double
        const W wh = sh + W(2) * ph;  // TwoSum: 2 c x^2 may exceed 1 + c x^2
        const W wb = wh - sh;
        const W wl = ((sh - (wh - wb)) + (W(2) * ph - wb)) + (sl + W(2) * pl);
        W v1h, v1l;
        vm::two_prod(kh, wh, v1h, v1l);
        v1l += kh * wl + kl * wh;
        const W v1 = v1h + v1l;
        const W v1sq = v1h * v1h + W(2) * v1h * v1l;  // v'^2
        return {a, v1, v1sq, p.m, vm::scale_left(p.m, p.n), p.n, p.ml, v1h, v1l};
    }
    template <class W> ACTGRAD_VM_INLINE static W f_(W x) {
        const auto p = pieces(x);
        // !(x >= 0): x < 0 but for NaN (NaN either way), so that GCC does not
        // duplicate the division into both arms of the final select
        const W q = (!(x >= W(0)) ? -p.a * p.m : x) / (W(1) + p.e);
        return x < W(0) ? vm::scale_left(q, p.n) : q;
    }
    template <class W> ACTGRAD_VM_INLINE static W df_(W x) {
        const auto p = pieces(x);
        if constexpr (vm::is_ld<W>) {
            const W den = vm::one_plus_sq_exact(p.e);
            const W pos = (W(1) + p.e * (W(1) + p.a * p.v1)) / den;
            const W b1 = (x >= W(-1.8) && x <= W(-0.2))
                             ? ACTGRAD_PATCH(W, x, gelu_tanh_grad, gelu_tanh_b1_q)
                             : (W(1) + p.e) - p.a * p.v1;
            return x < W(0) ? vm::scale_left(p.m * b1 / den, p.n) : pos;
        } else {
            W dh, dl;
            vm::one_plus_pow_dd<2>(p.e, vm::scale_low(p.ml, p.n), dh, dl);
            const W pos = (W(1) + p.e * (W(1) + p.a * p.v1)) / (dh + dl);
            // B1 = (1 + e) - a v' with a v' = ph + pl (fma): 1 - ph is exact
            // where B1 cancels (ph in [1/2, 2], Sterbenz), so B1 is rounded
            // about twice; only near the root, x in [-1.2, -0.3], does the
            // rounding of e matter, and the patch (fitted on [-1.8, -0.2],
            // whose Horner's scheme lost 4.3 ulp toward -1.8) takes over.
            // Then m B1 / (1 + e)^2 as double-doubles.
            W ph, pl, nh, nl;
            vm::two_prod(p.a, p.v1h, ph, pl);
            pl = std::fma(p.a, p.v1l, pl);
            const W b1 = (x >= W(-1.2) && x <= W(-0.3))
                             ? ACTGRAD_PATCH(W, x, gelu_tanh_grad, gelu_tanh_b1_q)
                             : ((W(1) - ph) + p.e) - pl;
            vm::mul_dd(p.m, p.ml, b1, nh, nl);
            return x < W(0) ? vm::scale_left(vm::div_dd(nh, nl, dh, dl), p.n) : pos;
        }
    }
    template <class W> ACTGRAD_VM_INLINE static W d2f_(W x) {
        namespace c = vm::coeffs;
        const auto p = pieces(x);
        const W t1 = W(2) * p.v1 + W(6) * vm::dd<W>(c::gelu_tanh_k2, c::gelu_tanh_k2_lo) *
                                       vm::dd<W>(c::gelu_tanh_c, c::gelu_tanh_c_lo) * (p.a * p.a);
        const bool in_patch = p.a >= W(0.7) && p.a <= W(3.4);
        const W patch = ACTGRAD_PATCH(W, p.a, gelu_tanh_grad2, gelu_tanh_b2_q);
        if constexpr (vm::is_ld<W>) {
            const W th = W(1) - W(2) * p.e / (W(1) + p.e);  // tanh(|v|/2)
            const W b2 = in_patch ? patch : t1 - p.a * p.v1sq * th;
            return vm::scale_left(p.m * b2 / vm::one_plus_sq_exact(p.e), p.n);
        } else {
            // beyond the patch b2 = (t1 - S) + S q, S = a v'^2 a double-double
            // and th = 1 - q, q = 2e/(1 + e): t1 - S by TwoSum, so that b2 is
            // rounded about once (S th rounded cost 4.6 ulp at |x| = 3.53);
            // then m b2 / (1 + e)^2 as double-doubles.
            W sh, sl, Sh, Sl, bh, bl, nh, nl, dh, dl;
            vm::two_prod(p.v1h, p.v1h, sh, sl);
            sl = std::fma(W(2) * p.v1h, p.v1l, sl);
            vm::mul_dd(sh, sl, p.a, Sh, Sl);
            const W q = W(2) * p.e / (W(1) + p.e);
            vm::two_sum(t1, -Sh, bh, bl);
            const W far = bh + ((bl - Sl) + std::fma(Sh, q, Sl * q));
            const W b2 = in_patch ? patch : far;
            vm::mul_dd(p.m, p.ml, b2, nh, nl);
            vm::one_plus_pow_dd<2>(p.e, vm::scale_low(p.ml, p.n), dh, dl);
            return vm::scale_left(vm::div_dd(nh, nl, dh, dl), p.n);
        }
    }
    // f in the input's precision (float: within 2.8 ulp on dense sweeps); f'
    // and f'' of float in double: in float their product chains (v', v'^2,
    // the patches) reach 4.8 ulp
    template <class T> ACTGRAD_VM_INLINE static T f(T x) { return T(f_(vm::work_t<T>(x))); }
    template <class T> ACTGRAD_VM_INLINE static T df(T x) { return T(df_(vm::wide_t<T>(x))); }
    template <class T> ACTGRAD_VM_INLINE static T d2f(T x) { return T(d2f_(vm::wide_t<T>(x))); }
};

}  // namespace actgrad::kernels
