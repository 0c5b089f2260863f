// squareplus(x, b) = (x + sqrt(x^2 + b)) / 2, b > 0 (JAX's jax.nn.squareplus,
// Barron 2021): a ReLU smoothed by a square root instead of an exp.
//
// With r = sqrt(x^2 + b):
//   f   = (x + r)/2 for x >= 0.  For x < 0 that sum cancels (r ~ |x|), and
//         (x + r)(r - x) = b gives f = b / (2 (r - x)): a quotient of
//         positive terms, no cancellation (f(-1e300) = 1e-300, not 0).
//   f'  = (1 + x/r)/2 for x >= 0; for x < 0 the same identity gives
//         (r + x)/(2r) = b / (2 r (r - x)) = b / (2 (q + r|x|)), q = x^2 + b
//         (carried as q + ql exactly, so that only r's rounding enters, at
//         half weight).
//   f'' = b / (2 r^3) = b / (2 q r), the product q r taken to twice the
//         working precision: q r = qh rh + rh (3/2 ql + 1/2 (qh - rh^2)),
//         the first-order correction of rh = sqrt(qh) to sqrt(qh + ql)
//         (no division for it), so that f'' rounds about twice.
//
// No overflow of x^2 and no digits lost in the subnormals: f is homogeneous
// (f(s x, s^2 b) = s f(x, b); f' of degree 0, f'' of degree -1), so x and b
// are first scaled by a power of two s (exact) that brings max(|x|, sqrt b)
// to [1, 2), as hypot does, and the result is scaled back.
//
// Limits: f(-inf) = 0, f(+inf) = +inf; f'(-inf) = 0, f'(+inf) = 1;
// f''(+-inf) = 0 (the formulas give inf/inf there: selected).  b is finite
// and > 0 by contract; in float it may round to inf (b > 3.4e38), and the
// kernels take the limits there: f = +inf, f' = 1/2, f'' = 0 (a tiny b never
// arrives as 0: the parameters are rounded to the smallest subnormal, not 0).
#pragma once

#include <limits>

#include "common.hpp"
#include "vecmath.hpp"

namespace actgrad::kernels {

struct squareplus {
    // s = 2^-e and si = 2^e, e the exponent of max(|x|, sqrt(b)), clamped to
    // the normal range: |x s| < 2 and b s^2 < 8 (or smaller, where x or b is
    // subnormal), so that q = (x s)^2 + b s^2 and q r neither overflow nor
    // underflow.  float and double read the exponents from the bits (this
    // vectorises); long double, whose loops are scalar, uses frexp.
    template <class W> ACTGRAD_VM_INLINE static void scale(W ax, W b, W &s, W &si) {
        if constexpr (std::numeric_limits<W>::digits > 53) {
            int ex = 0, eb = 0;
            (void)std::frexp(ax, &ex);
            (void)std::frexp(b, &eb);
            int e = ex > eb / 2 ? ex : eb / 2;
            e = e > 16000 ? 16000 : (e < -16000 ? -16000 : e);  // inf, NaN: any
            s = std::ldexp(W(1), -e);
            si = std::ldexp(W(1), e);
        } else {
            using U = typename vm::FP<W>::U;
            using I = typename vm::FP<W>::I;
            constexpr int mant = vm::FP<W>::mant;
            constexpr I bias = vm::FP<W>::bias;
            const I ex = I(vm::bit_cast<U>(ax) >> mant) - bias;
            const I eb = (I(vm::bit_cast<U>(b) >> mant) - bias) / 2;
            I e = ex > eb ? ex : eb;
            e = e > bias - 1 ? bias - 1 : (e < 1 - bias ? 1 - bias : e);
            s = vm::bit_cast<W>(U(bias - e) << mant);
            si = vm::bit_cast<W>(U(bias + e) << mant);
        }
    }
    // b rounded to inf (float): not a number <= max
    template <class W> ACTGRAD_VM_INLINE static bool b_inf(W b) {
        return !(b <= std::numeric_limits<W>::max());
    }

    template <class W> ACTGRAD_VM_INLINE static W f_(W x, W b) {
        W s, si;
        scale(vm::abs(x), b, s, si);
        const W xs = x * s, b1 = b * s, bs = b1 * s;
        const W r = std::sqrt(vm::fma(xs, xs, bs));
        // x < 0: b s / (2 (r - x s)) is f itself (the s of the numerator and
        // the 1/s of the scaled quotient cancel); NaN takes this branch
        const W y = x >= W(0) ? (xs + r) * W(0.5) * si : b1 / (W(2) * (r - xs));
        return b_inf(b) ? b : y;
    }
    // (the selects are written one after the other, not nested: GCC if-converts
    // and vectorises that form)
    template <class W> ACTGRAD_VM_INLINE static W df_(W x, W b) {
        W s, si, p, pe, qh, qe;
        scale(vm::abs(x), b, s, si);
        const W xs = x * s, bs = b * s * s;
        vm::two_prod(xs, xs, p, pe);
        vm::two_sum(p, bs, qh, qe);
        const W ql = qe + pe;
        const W r = std::sqrt(qh);
        const W pos = W(0.5) + W(0.5) * (xs / r);
        const W neg = bs / (W(2) * (vm::fma(r, -xs, qh) + ql));
        const W inf = std::numeric_limits<W>::infinity();
        W y = x >= W(0) ? pos : neg;
        y = x == inf ? W(1) : y;
        y = x == -inf ? W(0) : y;
        const W half = x == x ? W(0.5) : x;
        return b_inf(b) ? half : y;
    }
    template <class W> ACTGRAD_VM_INLINE static W d2f_(W x, W b) {
        W s, si, p, pe, qh, qe, m, me;
        scale(vm::abs(x), b, s, si);
        const W xs = x * s, b1 = b * s, bs = b1 * s;
        vm::two_prod(xs, xs, p, pe);
        vm::two_sum(p, bs, qh, qe);
        const W ql = qe + pe;
        const W r = std::sqrt(qh);
        const W res = vm::fma(-r, r, qh);  // qh - r^2, exact
        vm::two_prod(qh, r, m, me);
        const W qr = m + (me + r * (W(1.5) * ql + W(0.5) * res));
        // f''(x, b) = s f''(x s, b s^2) = s^2 (b s) / (2 q r)
        const W y = ((b1 / (W(2) * qr)) * s) * s;
        const W inf = std::numeric_limits<W>::infinity();
        const W zero = x == x ? W(0) : x;
        const W d = (x == inf || x == -inf) ? W(0) : y;
        return b_inf(b) ? zero : d;
    }
    ACTGRAD_WORK_FORMS(f_, df_, d2f_)
};

}  // namespace actgrad::kernels
