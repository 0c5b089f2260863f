// Small helpers shared by the activation kernels.  No Python, no NumPy.
#pragma once

namespace actgrad::kernels {

// `value`, except that a NaN input stays NaN.  Every kernel below ends its
// select chain with this, so NaN is never turned into a finite number.
template <class T>
inline T nan_or(T x, T value) {
    return x == x ? value : x;
}

// Second derivative of any piecewise-linear function: zero on every piece
// (and at every kink, since f'' takes the branch f' took), NaN for NaN.
template <class T>
inline T piecewise_linear_grad2(T x) {
    return nan_or(x, T(0));
}

}  // namespace actgrad::kernels
