// The piecewise-linear activations: relu family, hardtanh, threshold, shrinks.
//
// Each kernel is a struct of scalar templates f, df, d2f over the compute
// type T (and the activation's parameters, also of type T).  They are written
// as chains of selects with no early return so that the contiguous loops
// vectorise into compare + blend.  Conventions at kinks follow PyTorch 2.13's
// autograd formulas; NaN propagates through every branch.
#pragma once

#include "common.hpp"

namespace actgrad::kernels {

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
    // slope == 0 is relu: select 0 rather than compute -inf * 0 = NaN.
    template <class T> static T f(T x, T slope) {
        return x > T(0) ? x : (slope == T(0) ? nan_or(x, T(0)) : x * slope);
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

struct threshold {
    template <class T> static T f(T x, T th, T value) {
        return x > th ? x : nan_or(x, value);
    }
    template <class T> static T df(T x, T th, T) {
        return x > th ? T(1) : nan_or(x, T(0));
    }
    template <class T> static T d2f(T x, T, T) { return piecewise_linear_grad2(x); }
};

struct hardshrink {
    template <class T> static T f(T x, T lambd) {
        return (x >= -lambd && x <= lambd) ? T(0) : x;
    }
    template <class T> static T df(T x, T lambd) {
        return (x >= -lambd && x <= lambd) ? T(0) : nan_or(x, T(1));
    }
    template <class T> static T d2f(T x, T) { return piecewise_linear_grad2(x); }
};

struct softshrink {
    template <class T> static T f(T x, T lambd) {
        return x > lambd ? x - lambd : (x < -lambd ? x + lambd : nan_or(x, T(0)));
    }
    template <class T> static T df(T x, T lambd) {
        return (x > lambd || x < -lambd) ? T(1) : nan_or(x, T(0));
    }
    template <class T> static T d2f(T x, T) { return piecewise_linear_grad2(x); }
};

}  // namespace actgrad::kernels
