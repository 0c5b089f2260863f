// The four public forms of every kernel: f, f', f'' and the fused backward
// pass.  Free of Python and NumPy, so that the CPU ufunc loops (loops.hpp) and
// the CuPy elementwise kernels (actgrad/backends/cupy_kernels.py) share this very code.
#pragma once

// Force inlining into the vectorised loops (not for NVRTC, which inlines anyway).
#ifndef ACTGRAD_INLINE
#if defined(__GNUC__) && !defined(__CUDACC_RTC__)
#define ACTGRAD_INLINE inline __attribute__((always_inline))
#else
#define ACTGRAD_INLINE inline
#endif
#endif

namespace actgrad {

enum class FormKind { f, grad, grad2, backward };

template <class K, FormKind F> struct Form;

template <class K> struct Form<K, FormKind::f> {
    static constexpr unsigned n_arrays = 1;
    template <class T, class... P> ACTGRAD_INLINE static T call(T x, P... p) { return K::f(x, p...); }
};

template <class K> struct Form<K, FormKind::grad> {
    static constexpr unsigned n_arrays = 1;
    template <class T, class... P> ACTGRAD_INLINE static T call(T x, P... p) { return K::df(x, p...); }
};

template <class K> struct Form<K, FormKind::grad2> {
    static constexpr unsigned n_arrays = 1;
    template <class T, class... P> ACTGRAD_INLINE static T call(T x, P... p) { return K::d2f(x, p...); }
};

// grad_output * f'(x), except a select to 0 where f'(x) is exactly 0, so that
// flat pieces swallow inf and NaN in grad_output.
template <class K> struct Form<K, FormKind::backward> {
    static constexpr unsigned n_arrays = 2;
    template <class T, class... P> ACTGRAD_INLINE static T call(T g, T x, P... p) {
        const T d = K::df(x, p...);
        return d == T(0) ? T(0) : g * d;
    }
};

}  // namespace actgrad
