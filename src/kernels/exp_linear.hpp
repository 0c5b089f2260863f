// The exponential linear units: elu, selu, celu.
//
// Linear for x > 0, a scaled expm1 below; computed in work_t<T> (float for
// float32/float16, double, long double).  At the kink x = 0 the derivatives take the left branch,
// as PyTorch's elu_backward does (x <= 0 ? alpha exp(x) : 1), and f'' takes
// the same branch as f' (PyTorch's own f''(0) is 0).
#pragma once

#include <limits>

#include "common.hpp"
#include "logistic.hpp"
#include "vecmath.hpp"

namespace actgrad::kernels {

// elu(x, alpha) = x if x > 0 else alpha expm1(x)
//   f'  = 1 if x > 0 else alpha exp(x)   (f'(0) = alpha)
//   f'' = 0 if x > 0 else alpha exp(x)   (scaled last: subnormal-exact)
// alpha is finite, but arrives rounded to the compute type (1e300 is inf in
// float): at x = +-0, f is +-0 times alpha's sign (not inf * 0), and
// alpha exp(x) is 0 below vanish_x for every alpha (the limit taken, not
// alpha times the clamped exp).
struct elu {
    template <class W> ACTGRAD_VM_INLINE static W f_(W x, W alpha) {
        const W em1 = vm::expm1(x);
        const W a = em1 == W(0) ? vm::copysign(W(1), alpha) : alpha;
        return x > W(0) ? x : a * em1;
    }
    template <class W> ACTGRAD_VM_INLINE static W left(W x, W alpha) {
        // alpha = am 2^ae: (am m) 2^(n + ae), so that alpha m cannot overflow
        // and e^x is not clamped where alpha is huge (x down to vanish_x)
        const auto p = vm::exp_parts_wide<W, false>(x);
        W am;
        vm::exp_int_t<W> ae;
        vm::split_pow2(alpha, am, ae);
        return x < vanish_x<W> ? W(0) : vm::scale_clamped(am * p.m, p.n + ae);
    }
    template <class W> ACTGRAD_VM_INLINE static W df_(W x, W alpha) {
        return x > W(0) ? W(1) : left(x, alpha);
    }
    template <class W> ACTGRAD_VM_INLINE static W d2f_(W x, W alpha) {
        return x > W(0) ? W(0) : left(x, alpha);
    }
    ACTGRAD_WORK_FORMS(f_, df_, d2f_)
};

// selu(x) = scale elu(x, alpha) with the constants of Klambauer et al. (as
// PyTorch has them); f'(0) = scale alpha (the product rounded once, as
// PyTorch's negcoef).
struct selu {
    static constexpr double alpha = 1.6732632423543772848170429916717;
    static constexpr double scale = 1.0507009873554804934193349852946;
    static constexpr double scale_alpha = alpha * scale;
    template <class W> ACTGRAD_VM_INLINE static W f_(W x) {
        return x > W(0) ? W(scale) * x : W(scale_alpha) * vm::expm1(x);
    }
    template <class W> ACTGRAD_VM_INLINE static W df_(W x) {
        return x > W(0) ? W(scale) : elu::left(x, W(scale_alpha));
    }
    template <class W> ACTGRAD_VM_INLINE static W d2f_(W x) {
        return x > W(0) ? W(0) : elu::left(x, W(scale_alpha));
    }
    ACTGRAD_WORK_FORMS(f_, df_, d2f_)
};

// celu(x, alpha) = x if x > 0 else alpha expm1(x / alpha)
//   f' = exp(x/alpha), f'' = exp(x/alpha)/alpha for x <= 0.
// x/alpha is formed as a double-double q = qh + ql (ql = (x - qh alpha)/alpha
// from an exact product): exp magnifies the rounding error of a plain
// quotient |x/alpha| times.
// alpha is finite and > 0 but arrives rounded to the compute type (1e300 is
// inf and 1e-300 is 0 in float), so the limits are taken explicitly: q = x
// where x is +-0 or +-inf (x/alpha has that value for every such alpha);
// alpha = inf gives f = x (alpha expm1(x/alpha) -> x), and exp(q) (times
// 1/alpha) is 0 below vanish_x.
struct celu {
    template <class W> ACTGRAD_VM_INLINE static vm::ExpParts<W> parts(W x, W alpha, W &q) {
        const bool exact = x == W(0) || vm::abs(x) == std::numeric_limits<W>::infinity();
        const W qh = exact ? x : x / alpha;
        W p, e;
        vm::two_prod(qh, alpha, p, e);
        // ql, a correction below ulp(qh), times 1/alpha (its relative error
        // 2^-p is 2^-2p of q): one division per element, not two, where
        // alpha is uniform (1/alpha is computed once for the loop)
        const W inv = W(1) / alpha;
        // (& rather than &&: the short circuit on the loop-invariant tests
        // stopped GCC 12 from vectorising the loop)
        const bool refine = !exact & (vm::abs(qh) < W(vm::FP<W>::big)) &
                            (alpha <= std::numeric_limits<W>::max()) &
                            (vm::abs(inv) <= std::numeric_limits<W>::max());
        const W ql = refine ? ((x - p) - e) * inv : W(0);
        q = qh;
        return vm::exp_parts_wide(qh, ql);  // down to vanish_x: d2f's 1/alpha may be huge
    }
    template <class W> ACTGRAD_VM_INLINE static W f_(W x, W alpha) {
        W q;
        const auto p = parts(x, alpha, q);
        const bool linear = x > W(0) || alpha == std::numeric_limits<W>::infinity();
        return linear ? x : alpha * p.em1;
    }
    template <class W> ACTGRAD_VM_INLINE static W df_(W x, W alpha) {
        W q;
        const auto p = parts(x, alpha, q);
        return x > W(0) ? W(1) : (q < vanish_x<W> ? W(0) : vm::scale_clamped(p.m, p.n));
    }
    template <class W> ACTGRAD_VM_INLINE static W d2f_(W x, W alpha) {
        W q;
        const auto p = parts(x, alpha, q);
        W am;  // alpha = am 2^ae: (m / am) 2^(n - ae)
        vm::exp_int_t<W> ae;
        vm::split_pow2(alpha, am, ae);
        return x > W(0) ? W(0) : (q < vanish_x<W> ? W(0) : vm::scale_clamped(p.m / am, p.n - ae));
    }
    ACTGRAD_WORK_FORMS(f_, df_, d2f_)
};

}  // namespace actgrad::kernels
