// sparse_plus and sparse_sigmoid (JAX's jax.nn.sparse_plus / sparse_sigmoid;
// Blondel et al., Learning with Fenchel-Young Losses, 2020, section 6.2):
// the piecewise-quadratic twin of softplus and its derivative.
//
//   sparse_plus(x)    = 0 for x <= -1, (x + 1)^2 / 4 on (-1, 1), x for x >= 1
//   sparse_sigmoid(x) = 0 for x <= -1, (x + 1) / 2  on (-1, 1), 1 for x >= 1
//
// sparse_plus is C^1: its f' is sparse_sigmoid, continuous at +-1, and f''
// jumps from 0 to 1/2 at -1 and back at 1, where it takes the outer branch
// (0), as JAX's double grad of its jnp.where does; sparse_sigmoid' takes the
// same branch, so that sparse_sigmoid_grad == sparse_plus_grad2 everywhere
// (JAX's jnp.clip splits the tie: 1/4 at +-1).
#pragma once

#include "common.hpp"
#include "vecmath.hpp"

namespace actgrad::kernels {

struct sparse_plus {
    // (x + 1)^2 / 4 with x + 1 = y + yl exactly (TwoSum) and y^2 exact (fma):
    // one rounding, where the plain square of the rounded x + 1 makes three.
    // The comparisons fail for NaN, which takes the middle branch.
    template <class W> ACTGRAD_VM_INLINE static W f_(W x) {
        W y, yl, p, pe;
        vm::two_sum(x, W(1), y, yl);
        vm::two_prod(y, y, p, pe);
        const W mid = (p + (pe + W(2) * y * yl)) * W(0.25);
        return x <= W(-1) ? W(0) : (x >= W(1) ? x : mid);
    }
    // (x + 1)/2 rounds once (the halving is exact above the subnormals)
    template <class W> ACTGRAD_VM_INLINE static W df_(W x) {
        return x <= W(-1) ? W(0) : (x >= W(1) ? W(1) : (x + W(1)) * W(0.5));
    }
    template <class W> ACTGRAD_VM_INLINE static W d2f_(W x) {
        return (x > W(-1) && x < W(1)) ? W(0.5) : nan_or(x, W(0));
    }
    ACTGRAD_WORK_FORMS(f_, df_, d2f_)
};

// The derivative of sparse_plus, whose f' and f'' it reuses.
struct sparse_sigmoid {
    template <class W> ACTGRAD_VM_INLINE static W f_(W x) { return sparse_plus::df_(x); }
    template <class W> ACTGRAD_VM_INLINE static W df_(W x) { return sparse_plus::d2f_(x); }
    template <class W> ACTGRAD_VM_INLINE static W d2f_(W x) { return nan_or(x, W(0)); }
    ACTGRAD_WORK_FORMS(f_, df_, d2f_)
};

}  // namespace actgrad::kernels
