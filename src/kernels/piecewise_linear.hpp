// The piecewise-linear activations: relu family, hardtanh, threshold, shrinks.
//
// Each kernel is a struct of scalar templates f, df, d2f over the compute
// type T (and the activation's parameters, also of type T).  They are written
// as chains of selects with no early return so that the contiguous loops
// vectorise into compare + blend.  Conventions at kinks follow PyTorch 2.13's
// autograd formulas; NaN propagates through every branch.
#pragma once

#include <limits>

#include "common.hpp"

namespace actgrad::kernels {

// Parameters arrive rounded to the compute type (float for float32/float16),
// so a finite parameter beyond float's range arrives as +-inf.  The
// parameters that are only compared with x (threshold, lambd) are finite by
// contract (the Python layer rejects inf), so one that arrives as +inf stands
// for a finite number above every finite x: the type's max compares the same.
template <class T> inline T finite_bound(T p) {
    return p < std::numeric_limits<T>::max() ? p : std::numeric_limits<T>::max();
}

struct relu {
    // `x <= 0` is false for NaN, so NaN passes through; -0.0 becomes +0.0.
    template <class T> static T f(T x) { return x <= T(0) ? T(0) : x; }
    template <class T> static T df(T x) { return x > T(0) ? T(1) : nan_or(x, T(0)); }
    template <class T> static T d2f(T x) { return piecewise_linear_grad2(x); }
};

struct relu6 {
    template <class T> static T f(T x) {
        return x <= T(0) ? T(0) : (x >= T(6) ? T(6) : x);
    }
    // hardtanh(x, 0, 6): derivative 0 at both kinks.
    template <class T> static T df(T x) {
        return (x > T(0) && x < T(6)) ? T(1) : nan_or(x, T(0));
    }
    template <class T> static T d2f(T x) { return piecewise_linear_grad2(x); }
};

struct leaky_relu {
    // slope == 0 is relu: select 0 rather than compute -inf * 0 = NaN.  At
    // x = +-0 the result is x times the sign of the slope, so that a finite
    // slope that rounded to +-inf (1e300 in float) gives +-0, not inf * 0.
    template <class T> static T f(T x, T slope) {
        const T s = x == T(0) ? (slope < T(0) ? T(-1) : T(1)) : slope;
        return x > T(0) ? x : (slope == T(0) ? nan_or(x, T(0)) : x * s);
    }
    // At the kink the left branch: f'(0) = slope.
    template <class T> static T df(T x, T slope) {
        return x > T(0) ? T(1) : nan_or(x, slope);
    }
    template <class T> static T d2f(T x, T) { return piecewise_linear_grad2(x); }
};

struct hardtanh {
    template <class T> static T f(T x, T lo, T hi) {
        return x <= lo ? lo : (x >= hi ? hi : x);
    }
    template <class T> static T df(T x, T lo, T hi) {
        return (x > lo && x < hi) ? T(1) : nan_or(x, T(0));
    }
    template <class T> static T d2f(T x, T, T) { return piecewise_linear_grad2(x); }
};

// th is finite (see finite_bound): threshold(+inf) = +inf for every th.
struct threshold {
    template <class T> static T f(T x, T th, T value) {
        return x > finite_bound(th) ? x : nan_or(x, value);
    }
    template <class T> static T df(T x, T th, T) {
        return x > finite_bound(th) ? T(1) : nan_or(x, T(0));
    }
    template <class T> static T d2f(T x, T, T) { return piecewise_linear_grad2(x); }
};

// lambd is finite (see finite_bound): +-inf lie outside the dead zone.
struct hardshrink {
    template <class T> static T f(T x, T lambd) {
        const T l = finite_bound(lambd);
        return (x >= -l && x <= l) ? T(0) : x;
    }
    template <class T> static T df(T x, T lambd) {
        const T l = finite_bound(lambd);
        return (x >= -l && x <= l) ? T(0) : nan_or(x, T(1));
    }
    template <class T> static T d2f(T x, T) { return piecewise_linear_grad2(x); }
};

struct softshrink {
    template <class T> static T f(T x, T lambd) {
        const T l = finite_bound(lambd);
        return x > l ? x - l : (x < -l ? x + l : nan_or(x, T(0)));
    }
    template <class T> static T df(T x, T lambd) {
        const T l = finite_bound(lambd);
        return (x > l || x < -l) ? T(1) : nan_or(x, T(0));
    }
    template <class T> static T d2f(T x, T) { return piecewise_linear_grad2(x); }
};

}  // namespace actgrad::kernels
