// mish(x) = x tanh(softplus(x)), computed in wide_t<T> (double for float32
// and float16: in float the long product chains below would not stay
// within the bound).
//
// With e = exp(-|x|) everything is rational in e, so nothing overflows and
// both tails keep their digits:
//   x >= 0: tanh(softplus(x)) = 1 - 2e^2/D,  D = 1 + 2e + 2e^2
//   x <  0: tanh(softplus(x)) = w/(w + 2),   w = e (e + 2)
//   f   = x tanh(softplus(x))                       (x < 0: scaled last)
//   f'  = 1 + e^2 (4x (1 + e)/D - 2)/D              for x >= 0
//         e B/(w + 2)^2,  B = 4(x + 1) + e(6 + 4x) + 4e^2 + e^3   for x < 0
//   f'' = 4e^2 Hp/D^3,  Hp = 2(1 - x) + e(6 - 3x) + e^2(8 + 2x) + e^3(4 + 2x)
//         4e Hn/(w + 2)^3,  Hn = 2(x + 2) + e((8 + 2x) + e(6 - 3x) + e^2(2 - 2x))
// The brackets B, Hn, Hp are written with their linear part first (x + 1,
// x + 2, 1 - x: exact where it matters) and vanish at the roots of f'
// (-1.1924) and f'' (-2.2564, 1.4906); around each root, where the terms
// cancel, the bracket is d Q(d) with d = x - root (minimax, tools/; long
// double: its own fits and roots, vecmath_coeffs_ld.hpp).  Where x multiplies
// e, it is clamped at FP<W>::tail_x (800; long double 12000): x e^-|x| is 0
// beyond, and inf * 0 would be NaN.
#pragma once

#include "common.hpp"
#include "vecmath.hpp"

namespace actgrad::kernels {

struct mish {
    template <class W> ACTGRAD_VM_INLINE static W f_(W x) {
        const auto p = vm::exp_parts(-vm::abs(x));
        const W e = vm::scale_left(p.m, p.n);
        const W xc = x < -W(vm::FP<W>::tail_x) ? -W(vm::FP<W>::tail_x) : x;
        const W D = W(1) + W(2) * e * (W(1) + e);
        const W w2 = e * (e + W(2)) + W(2);
        // !(x >= 0): x < 0 but for NaN (NaN either way), so that GCC does not
        // duplicate the division into both arms of the final select
        const bool neg = !(x >= W(0));
        const W q = (neg ? xc * p.m * (e + W(2)) : W(2) * e * e) / (neg ? w2 : D);
        return x < W(0) ? vm::scale_left(q, p.n) : x * (W(1) - q);
    }
    template <class W> ACTGRAD_VM_INLINE static W df_(W x) {
        const auto p = vm::exp_parts(-vm::abs(x));
        const W e = vm::scale_left(p.m, p.n);
        const W xc = vm::clamp(x, -W(vm::FP<W>::tail_x), W(vm::FP<W>::tail_x));
        const W D = W(1) + W(2) * e * (W(1) + e);
        const bool in_patch = x >= W(-1.55) && x <= W(-0.9);
        W neg;
        if constexpr (vm::is_ld<W>) {
            const W B = in_patch ? ACTGRAD_PATCH(W, x, mish_b, mish_b_q)
                                 : W(4) * (xc + W(1)) + e * (W(6) + W(4) * xc) + e * e * (W(4) + e);
            const W u = W(0.5) * e * (e + W(2));  // (w + 2)^2 = 4 (1 + u)^2
            neg = vm::scale_left(W(0.25) * p.m * B / vm::one_plus_sq(u), p.n);
        } else {
            // B by Horner's scheme in e (fma), and m B / (1 + e + e^2/2)^2 with
            // the product and the square carried to twice the precision
            const W B = in_patch ? ACTGRAD_PATCH(W, x, mish_b, mish_b_q)
                                 : std::fma(e, std::fma(e, W(4) + e, W(6) + W(4) * xc),
                                            W(4) * (xc + W(1)));
            W nh, nl, dh, dl;
            vm::mul_dd(p.m, p.ml, W(0.25) * B, nh, nl);
            vm::quadratic_squared_dd(e, W(1), W(0.5), dh, dl);
            neg = vm::scale_left(vm::div_dd(nh, nl, dh, dl), p.n);
        }
        const W pos = W(1) + e * e * (W(4) * xc * (W(1) + e) / D - W(2)) / D;
        return x < W(0) ? neg : pos;
    }
    template <class W> ACTGRAD_VM_INLINE static W d2f_(W x) {
        const auto p = vm::exp_parts(-vm::abs(x));
        const W e = vm::scale_left(p.m, p.n);
        const W xc = vm::clamp(x, -W(vm::FP<W>::tail_x), W(vm::FP<W>::tail_x));
        const W hn = (x >= W(-2.8) && x <= W(-1.8))
                         ? ACTGRAD_PATCH(W, x, mish_hn, mish_hn_q)
                         : W(2) * (xc + W(2)) +
                               e * ((W(8) + W(2) * xc) + e * ((W(6) - W(3) * xc) +
                                                              e * (W(2) - W(2) * xc)));
        const W hp = (x >= W(1.15) && x <= W(2.0))
                         ? ACTGRAD_PATCH(W, x, mish_hp, mish_hp_q)
                         : W(2) * (W(1) - xc) + e * ((W(6) - W(3) * xc) +
                                                     e * ((W(8) + W(2) * xc) + e * (W(4) + W(2) * xc)));
        // (w + 2)^3 = 8 (1 + e + e^2/2)^3 and D^3 = (1 + 2e + 2e^2)^3, the inner
        // sums and the cubes as double-doubles (a rounded D cubed is 3 ulp off)
        W neg;
        if constexpr (vm::is_ld<W>) {
            neg = vm::scale_left(W(0.5) * p.m * hn / vm::quadratic_cubed(e, W(1), W(0.5)), p.n);
        } else {
            W nh, nl, dh, dl;
            vm::mul_dd(p.m, p.ml, W(0.5) * hn, nh, nl);
            vm::quadratic_cubed_dd(e, W(1), W(0.5), dh, dl);
            neg = vm::scale_left(vm::div_dd(nh, nl, dh, dl), p.n);
        }
        // e^2 = (m + ml)^2 2^2n, with the low part of m: the product chain is long
        W pos;
        if constexpr (vm::is_ld<W>) {
            const W mm = p.m * p.m + W(2) * p.m * p.ml;
            pos = vm::scale_left(vm::scale_left(W(4) * mm * hp / vm::quadratic_cubed(e, W(2), W(2)), p.n), p.n);
        } else {
            // 4 e^2 hp / D^3 with e^2 and the product carried to twice the
            // precision and one division of double-doubles: the rounding of
            // hp is the only one left
            W mh, ml, nh, nl, dh, dl;
            vm::two_prod(p.m, p.m, mh, ml);
            ml = std::fma(W(2) * p.m, p.ml, ml);
            vm::mul_dd(mh, ml, W(4) * hp, nh, nl);
            vm::quadratic_cubed_dd(e, W(2), W(2), dh, dl);
            pos = vm::scale_left(vm::scale_left(vm::div_dd(nh, nl, dh, dl), p.n), p.n);
        }
        return x < W(0) ? neg : pos;
    }
    ACTGRAD_WIDE_FORMS(f_, df_, d2f_)
};

}  // namespace actgrad::kernels
