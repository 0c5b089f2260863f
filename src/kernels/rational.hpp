// Activations built from +, *, / and clamps: hardsigmoid, hardswish, softsign.
//
// All compute in the input's own type (float for float32 and float16, as
// PyTorch does), branch-free, within 1-2 ulp without any special function.
#pragma once

#include <limits>

#include "common.hpp"
#include "vecmath.hpp"

namespace actgrad::kernels {

// hardsigmoid(x) = min(max(x + 3, 0), 6) / 6, PyTorch's expression with the
// division by 6 as a product by 1/6 (within 1.5 ulp; a division costs more).
//   f' = 1/6 for -3 < x < 3, else 0 (0 at both kinks, as PyTorch);  f'' = 0.
struct hardsigmoid {
    template <class T> ACTGRAD_VM_INLINE static T f(T x) {
        const T y = x + T(3);
        return (y <= T(0) ? T(0) : (y >= T(6) ? T(6) : y)) * (T(1) / T(6));
    }
    template <class T> ACTGRAD_VM_INLINE static T df(T x) {
        return (x > T(-3) && x < T(3)) ? T(1) / T(6) : nan_or(x, T(0));
    }
    template <class T> ACTGRAD_VM_INLINE static T d2f(T x) { return nan_or(x, T(0)); }
};

// hardswish(x) = x min(max(x + 3, 0), 6) / 6.
//   f' = 0 for x <= -3, (2x + 3)/6 for -3 < x < 3, 1 for x >= 3
//        (PyTorch 2.13: f'(-3) = 0, f'(3) = 1).  PyTorch writes x/3 + 1/2,
//        which cancels near the root x = -3/2; 2x + 3 is exact there.
//   f'' = 1/3 for -3 < x < 3, else 0 (the branches of f').
struct hardswish {
    template <class T> ACTGRAD_VM_INLINE static T f(T x) {
        const T y = x + T(3);
        return x > T(-3) ? (x < T(3) ? x * y * (T(1) / T(6)) : x) : nan_or(x, T(0));
    }
    template <class T> ACTGRAD_VM_INLINE static T df(T x) {
        return x > T(-3) ? (x < T(3) ? (T(2) * x + T(3)) / T(6) : T(1)) : nan_or(x, T(0));
    }
    template <class T> ACTGRAD_VM_INLINE static T d2f(T x) {
        return (x > T(-3) && x < T(3)) ? T(1) / T(3) : nan_or(x, T(0));
    }
};

// softsign(x) = x / (1 + |x|), with u = 1/(1 + |x|):
//   f   = sign(x) (1 - u) for |x| > 1 (exactly +-1 at +-inf), x u below;
//   f'  = u^2 (no overflow of (1 + |x|)^2: subnormal results are right);
//   f'' = -2 sign(x) u^3, and 0 at x = 0 where f'' jumps from 2 to -2
//         (PyTorch's double backward gives 0 there too).
struct softsign {
    // 1 + |x| = s + sl exactly (TwoSum), so that 1/(1 + |x|)^k rounds about once
    template <class W> ACTGRAD_VM_INLINE static void one_plus(W a, W &s, W &sl) {
        s = W(1) + a;
        const W b = s - W(1);
        sl = a < W(1e300) ? (W(1) - (s - b)) + (a - b) : W(0);  // inf - inf
    }
    template <class W> ACTGRAD_VM_INLINE static W f_(W x) {
        const W a = vm::abs(x);
        W s, sl;
        one_plus(a, s, sl);
        const W u = W(1) / s;
        // |x| > 1: 1 - 1/(1 + |x|); below: |x|/(1 + |x|) (corrected for sl)
        const W m = a > W(1) ? W(1) - (u - u * u * sl) : a * u * (W(1) - sl * u);
        return vm::copysign(m, x);
    }
    template <class W> ACTGRAD_VM_INLINE static W df_(W x) {
        W s, sl, p, pe;
        one_plus(vm::abs(x), s, sl);
        vm::two_prod(s, s, p, pe);
        const W den = p + (pe + W(2) * s * sl);  // (1 + |x|)^2
        // beyond sqrt(max) (1 + |x|)^2 overflows: square the reciprocal instead
        const W big = std::is_same_v<W, float> ? W(1e18) : W(1e150);
        return s > big ? (W(1) / s) * (W(1) / s) : W(1) / den;
    }
    template <class W> ACTGRAD_VM_INLINE static W d2f_(W x) {
        W s, sl, p, pe, c, ce;
        one_plus(vm::abs(x), s, sl);
        vm::two_prod(s, s, p, pe);
        vm::two_prod(p, s, c, ce);
        const W den = c + (ce + pe * s + W(3) * p * sl);  // (1 + |x|)^3
        // beyond big (1 + |x|)^3 would overflow: 2 / (s + sl)^3 from the
        // reciprocal 1/(s + sl) = inv + il (the remainder of the quotient is
        // exact by fma) cubed with the products carried to twice the
        // precision, so that it is rounded about once (inv^3 rounded three
        // times gave 3.2 ulp at |x| = 1.75e12, float); the reciprocal is
        // taken times 2^k (float 2^20, double 2^60) so that the products stay
        // normal where the result is subnormal
        constexpr W k = std::is_same_v<W, float> ? W(0x1p20) : W(0x1p60);
        constexpr W k3 = W(1) / (k * k * k);
        // (s = inf: sc = max, so that inv = 1/max and r = 0, not 0 * inf)
        const W sc = s > std::numeric_limits<W>::max() ? std::numeric_limits<W>::max() : s;
        const W inv = W(1) / sc;
        const W il = (std::fma(-inv, sc, W(1)) * inv - sl * (inv * inv)) * k;
        const W ik = inv * k;
        W th, tl, ch, cl;
        vm::two_prod(ik, ik, th, tl);
        tl = std::fma(W(2) * ik, il, tl);
        vm::two_prod(th, ik, ch, cl);
        cl = std::fma(th, il, std::fma(tl, ik, cl));
        const W big = std::is_same_v<W, float> ? W(1e12) : W(1e100);
        const W r = s > big ? (W(2) * (ch + cl)) * k3 : W(2) / den;
        return x > W(0) ? -r : (x < W(0) ? r : nan_or(x, W(0)));
    }
    ACTGRAD_WORK_FORMS(f_, df_, d2f_)
};

}  // namespace actgrad::kernels
