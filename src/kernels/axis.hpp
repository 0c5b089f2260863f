// The activations along an axis: softmax, log_softmax, glu, prelu.
//
// Row kernels are templates over the compute type T and over accessors:
// an input row `x` with `x[i]` (and, where `X::direct<T>`, `x.data()`: the
// row as contiguous T), an output row `out` with `out.set(i, v)`
// and, where `out.scratch()` is true (the output stores T exactly and is no
// input), `out.get(i)`, so that a kernel may park an intermediate there
// instead of recomputing it.  An output may be the very memory of an input
// (NumPy does not copy an operand passed as both): every kernel reads x[i]
// and g[i] before it writes out[i], and reads no input at i after that unless
// scratch() is false.
// No Python, no NumPy; the adapters in ufuncs/axis_loops.hpp supply the rows.
//
// Accuracy (checked against mpmath in tests/test_axis.py):
//   - x_i - max is formed exactly as hi + lo (TwoSum), and exp(x_i - max)
//     as exp(hi) * (1 + lo), so a large spread in the row costs no digits;
//   - sums are compensated (Neumaier), and the row's maximum term 1 is kept
//     out of the sum S of the others, so log(1 + S) is log1p(S): exact to a
//     few ulp even when S is tiny;
//   - log_softmax = (hi - log1p(S)) + lo adds two non-positive numbers.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "piecewise_linear.hpp"

#ifndef ACTGRAD_LANE_VECTORS
#if defined(__GNUC__) && !defined(__clang__)
#define ACTGRAD_LANE_VECTORS 1
#else
#define ACTGRAD_LANE_VECTORS 0
#endif
#endif
#include "vecmath.hpp"

// The row kernels are inlined into the loops that call them, which are built
// once per target (AVX-512, AVX2, baseline): a kernel left out of line would
// run at the baseline target.
#if defined(__GNUC__)
#define ACTGRAD_KERNEL inline __attribute__((always_inline))
#define ACTGRAD_LAMBDA __attribute__((always_inline))
#else
#define ACTGRAD_KERNEL inline
#define ACTGRAD_LAMBDA
#endif

namespace actgrad::kernels {

using index_t = std::ptrdiff_t;

// The elementary functions of this file, behind one name each so that a
// vectorised implementation can replace them without touching the kernels.
// Every argument here is <= 0 (x - max, -|b|): vm::exp is exact to < 1 ulp
// there and vectorises; log1p runs once per row.
template <class T> inline T axis_exp(T x) { return vm::exp(x); }
template <class T> inline T axis_log1p(T x) { return std::log1p(x); }

template <class T> constexpr T inf_v = std::numeric_limits<T>::infinity();
template <class T> constexpr T nan_v = std::numeric_limits<T>::quiet_NaN();

// Below this, exp(x) is subnormal: log of the smallest normal number.
template <class T>
constexpr T exp_subnormal_below = T(std::numeric_limits<T>::min_exponent - 1) *
                                  T(0.693147180559945309417232121458176568L);

// One step of compensated (Neumaier) summation: the error of s + v goes to c.
template <class T> ACTGRAD_KERNEL void neumaier_add(T &s, T &c, T v) {
    const T t = s + v;
    c += std::fabs(s) >= std::fabs(v) ? (s - t) + v : (v - t) + s;
    s = t;
}

// Once the running sum is +-inf or NaN, the correction is NaN (inf - inf) and
// means nothing: the sum itself is then the value, as for a plain sum.
template <class T> ACTGRAD_KERNEL T corrected(T s, T c) {
    return s - s == T(0) ? s + c : s;
}

template <class T> struct Neumaier {
    T s = T(0);
    T c = T(0);
    void add(T v) { neumaier_add(s, c, v); }
    T value() const { return corrected(s, c); }
};

// The row loops keep one accumulator per lane, element i in lane i % lanes:
// no dependence from one element to the next, so that a contiguous loop
// vectorises (and a scalar one overlaps its exp calls), in the same order,
// to the same bits, for every stride and input dtype.
template <class T> constexpr int lanes = sizeof(T) >= 16 ? 4 : int(64 / sizeof(T));

template <int L, class Body> ACTGRAD_KERNEL void lane_loop(index_t n, Body &&body) {
    index_t i = 0;
    for (; i + L <= n; i += L) {
        for (int j = 0; j < L; ++j) body(i + j, j);
    }
    for (int j = 0; i < n; ++i, ++j) body(i, j);
}

// The lanes of float and double as one 64-byte vector (GCC's vector types,
// whose selects C++ Clang lacks; GCC splits it for narrower registers), where
// the compiler would not vectorise the selects of a lane loop by itself.
// Lane j of the vector is lane j of the scalar loops: the same bits.
#if ACTGRAD_LANE_VECTORS
typedef float lanes_of_float __attribute__((vector_size(64)));
typedef double lanes_of_double __attribute__((vector_size(64)));
typedef std::int32_t lanes_of_int32 __attribute__((vector_size(64)));
typedef std::int64_t lanes_of_int64 __attribute__((vector_size(64)));
template <class T> struct LaneVector {};
template <> struct LaneVector<float> {
    using type = lanes_of_float;
    using count = lanes_of_int32;
};
template <> struct LaneVector<double> {
    using type = lanes_of_double;
    using count = lanes_of_int64;
};
template <class T>
constexpr bool has_lane_vector = std::is_same_v<T, float> || std::is_same_v<T, double>;

// (Vectors pass by reference: a 64-byte vector by value has an ABI that
// depends on the target, and these are built for several.)
template <class V> ACTGRAD_KERNEL void load_lanes(V &v, const void *p) { __builtin_memcpy(&v, p, sizeof v); }
template <class V> ACTGRAD_KERNEL void store_lanes(void *p, const V &v) { __builtin_memcpy(p, &v, sizeof v); }

// neumaier_add on every lane.
template <class V> ACTGRAD_KERNEL void neumaier_add_lanes(V &s, V &c, const V &v) {
    const V t = s + v;
    const V abs_s = s < 0 ? -s : s;
    const V abs_v = v < 0 ? -v : v;
    c += abs_s >= abs_v ? (s - t) + v : (v - t) + s;
    s = t;
}
#else
template <class T> constexpr bool has_lane_vector = false;
#endif

// A lane's count of row elements (of the tops of a row).
template <class T> using lane_count_t = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;

// A compensated sum in lanes.
template <class T> struct LaneSum {
    static constexpr int L = lanes<T>;
    T s[L] = {};
    T c[L] = {};
    void add(int j, T v) { neumaier_add(s[j], c[j], v); }
    // v[0..len) of a block that starts at a multiple of L.
    ACTGRAD_KERNEL void add_block(const T *v, int len) {
#if ACTGRAD_LANE_VECTORS
        if constexpr (has_lane_vector<T>) {
            using V = typename LaneVector<T>::type;
            if (len % L == 0) {
                V vs, vc, vv;
                load_lanes(vs, s);
                load_lanes(vc, c);
                for (int k = 0; k < len; k += L) {
                    load_lanes(vv, v + k);
                    neumaier_add_lanes(vs, vc, vv);
                }
                store_lanes(s, vs);
                store_lanes(c, vc);
                return;
            }
        }
#endif
        for (int k = 0; k < len; ++k) add(k % L, v[k]);
    }
    T value(T first = T(0)) const {
        Neumaier<T> z;
        z.add(first);
        for (int j = 0; j < L; ++j) z.add(s[j]);
        if (!(z.s - z.s == T(0))) return z.s;  // a lane reached +-inf or NaN
        for (int j = 0; j < L; ++j) z.add(c[j]);
        return z.value();
    }
};

// x - m (m the row maximum, finite or +inf) as hi + lo with hi + lo exact
// (Knuth's TwoSum).  x == m gives (0, 0), also for x = m = +inf; where hi is
// -inf, lo is 0.
template <class T> struct Diff {
    T hi, lo;
};
template <class T> ACTGRAD_KERNEL Diff<T> diff_from_max(T x, T m) {
    const T hi = x - m;
    const T bb = hi - x;
    const T lo = (x - (hi - bb)) + (-m - bb);
    const bool top = x == m;
    return {top ? T(0) : hi, (top || !(hi > -inf_v<T>)) ? T(0) : lo};
}

// exp(x - m) to about 1 ulp however far x lies below m.
template <class T> ACTGRAD_KERNEL T exp_from_max(T x, T m) {
    const Diff<T> d = diff_from_max(x, m);
    const T e = axis_exp(d.hi);
    return e + e * d.lo;
}

template <class Out> ACTGRAD_KERNEL void fill_row(const Out &out, index_t n, typename Out::value_type v) {
    for (index_t i = 0; i < n; ++i) out.set(i, v);
}

// Pass 1 of every softmax kernel: the row maximum, and whether x holds a NaN.
// The maximum skips NaN (m < NaN is false) and a separate lane flag records
// one: a compare, a select and an or per element, which vectorise (a select
// that lets NaN win does not: x86's max instruction is not symmetric in NaN).
template <class T> struct RowMax {
    T m;
    bool nan;
};
#if ACTGRAD_LANE_VECTORS
// The same pass over a contiguous row of T, written with vector types: the
// compiler does not vectorise the lane loop below (its selects stay scalar).
template <class T, bool negate = false> ACTGRAD_KERNEL RowMax<T> row_max_direct(const T *x, index_t n) {
    using V = typename LaneVector<T>::type;
    constexpr int L = int(sizeof(V) / sizeof(T));
    V m = V{} - inf_v<T>;
    V unordered = V{};
    index_t i = 0;
    for (; i + L <= n; i += L) {
        V v;
        load_lanes(v, x + i);
        if constexpr (negate) v = -v;
        m = m < v ? v : m;
        unordered += v != v ? v : V{};
    }
    T r = -inf_v<T>;
    bool nan = false;
    for (int j = 0; j < L; ++j) {
        r = r < m[j] ? m[j] : r;
        nan = nan || unordered[j] != unordered[j];
    }
    for (; i < n; ++i) {
        const T v = negate ? -x[i] : x[i];
        r = r < v ? v : r;
        nan = nan || v != v;
    }
    return {r, nan};
}
#endif

template <class X> struct NegatedRow;
template <class X> struct is_negated_row : std::false_type {};
template <class X> struct is_negated_row<NegatedRow<X>> : std::true_type {};

template <class T, class X> ACTGRAD_KERNEL RowMax<T> row_max(const X &x, index_t n) {
#if ACTGRAD_LANE_VECTORS
    if constexpr (X::template direct<T> && (std::is_same_v<T, float> || std::is_same_v<T, double>)) {
        return row_max_direct(x.data(), n);
    }
    // softmin's -x over a contiguous row: the maximum of -x from the same
    // vector pass, negating as it loads
    if constexpr (is_negated_row<X>::value) {
        if constexpr (std::decay_t<decltype(x.x)>::template direct<T> &&
                      (std::is_same_v<T, float> || std::is_same_v<T, double>)) {
            return row_max_direct<T, true>(x.x.data(), n);
        }
    }
#endif
    constexpr int L = lanes<T>;
    T m[L];
    T unordered[L];  // NaN once a NaN was met in the lane, else 0
    for (int j = 0; j < L; ++j) m[j] = -inf_v<T>;
    for (int j = 0; j < L; ++j) unordered[j] = T(0);
    lane_loop<L>(n, [&](index_t i, int j) ACTGRAD_LAMBDA {
        const T v = x[i];
        m[j] = m[j] < v ? v : m[j];
        unordered[j] += v != v ? v : T(0);
    });
    T r = m[0];
    bool nan = false;
    for (int j = 1; j < L; ++j) r = r < m[j] ? m[j] : r;
    for (int j = 0; j < L; ++j) nan = nan || unordered[j] != unordered[j];
    return {r, nan};
}

// Pass 2: the terms e_i = exp(x_i - m).  `top` counts the x_i equal to m (each
// term exactly 1); `rest` sums the others, so that the sum is top + rest.
template <class T> struct RowSum {
    static constexpr int L = lanes<T>;
    lane_count_t<T> top[L] = {};
    LaneSum<T> rest;
    void add(int j, T x, T m, T e) {
        const bool is_top = x == m;
        top[j] += is_top;
        rest.add(j, is_top ? T(0) : e);
    }
    // x[0..len) and their terms e, of a block that starts at a multiple of L.
    ACTGRAD_KERNEL void add_block(const T *x, const T *e, int len, T m) {
#if ACTGRAD_LANE_VECTORS
        if constexpr (has_lane_vector<T>) {
            using V = typename LaneVector<T>::type;
            using N = typename LaneVector<T>::count;
            if (len % L == 0) {
                V vs, vc, xv, ev;
                N vt;
                load_lanes(vs, rest.s);
                load_lanes(vc, rest.c);
                load_lanes(vt, top);
                for (int k = 0; k < len; k += L) {
                    load_lanes(xv, x + k);
                    load_lanes(ev, e + k);
                    const N is_top = xv == m;  // -1 or 0 per lane
                    vt -= is_top;
                    const V term = is_top ? V{} : ev;
                    neumaier_add_lanes(vs, vc, term);
                }
                store_lanes(rest.s, vs);
                store_lanes(rest.c, vc);
                store_lanes(top, vt);
                return;
            }
        }
#endif
        for (int k = 0; k < len; ++k) add(k % L, x[k], m, e[k]);
    }
    index_t tops() const {
        index_t t = 0;
        for (int j = 0; j < L; ++j) t += top[j];
        return t;
    }
    T total() const { return rest.value(T(tops())); }  // sum of all terms, >= 1
    // log(total) = log1p(sum of all terms but one top)
    T log_total() const { return axis_log1p(rest.value(T(tops() - 1))); }
};

// Pass 2 runs over blocks of the row: first x and exp(x - m) into small
// buffers (a loop of exp alone), then `body(start, len, v, e)` accumulates
// them lane by lane.  Blocks start at multiples of the lane count, so element
// i stays in lane i % L.
template <class T> constexpr int block_length = 4 * lanes<T>;

template <class T, class X, class Body>
ACTGRAD_KERNEL void exp_blocks(const X &x, index_t n, T m, Body &&body) {
    constexpr int B = block_length<T>;
    T v[B], e[B];
    index_t start = 0;
    for (; start + B <= n; start += B) {  // whole blocks: a constant trip count
        for (int k = 0; k < B; ++k) v[k] = x[start + k];
        for (int k = 0; k < B; ++k) e[k] = exp_from_max(v[k], m);
        body(start, B, static_cast<const T *>(v), static_cast<const T *>(e));
    }
    if (start < n) {
        const int len = int(n - start);
        for (int k = 0; k < len; ++k) v[k] = x[start + k];
        for (int k = 0; k < len; ++k) e[k] = exp_from_max(v[k], m);
        body(start, len, static_cast<const T *>(v), static_cast<const T *>(e));
    }
}

// Pass 2 parks the terms e of a block in the output where it may (scratch);
// pass 3 maps every term e_i to out_i = fn(i, e_i), reading e_i back from the
// output or, where it was not parked, recomputing it from x.
template <class T, class Out> ACTGRAD_KERNEL void park_terms(const Out &out, index_t start, int len, const T *e) {
    if (out.scratch()) {
        for (int k = 0; k < len; ++k) out.set(start + k, e[k]);
    }
}
template <class T, class X, class Out, class Fn>
ACTGRAD_KERNEL void map_terms(const X &x, const Out &out, index_t n, T m, Fn &&fn) {
    if (out.scratch()) {
        for (index_t i = 0; i < n; ++i) out.set(i, fn(i, out.get(i)));
    } else {
        for (index_t i = 0; i < n; ++i) out.set(i, fn(i, exp_from_max(T(x[i]), m)));
    }
}

// The special rows, shared by all four softmax kernels.  Returns true when the
// row is done: NaN anywhere in x gives a NaN row; a row of -inf (fully masked)
// gives `masked` (0 for softmax and both backward passes, -inf for log_softmax).
template <class T, class Out>
ACTGRAD_KERNEL bool special_row(const RowMax<T> &r, const Out &out, index_t n, T masked) {
    if (r.nan) {
        fill_row(out, n, nan_v<T>);
        return true;
    }
    if (!(r.m > -inf_v<T>)) {
        fill_row(out, n, masked);
        return true;
    }
    return false;
}

// softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m).  Entries at +inf share the
// row equally (the limit of softmax as they grow together); the rest get 0.
struct softmax {
    template <class T, class X, class Out> ACTGRAD_KERNEL static void f(const X &x, const Out &out, index_t n) {
        const RowMax<T> r = row_max<T>(x, n);
        if (special_row(r, out, n, T(0))) return;
        RowSum<T> sum;
        exp_blocks(x, n, r.m, [&](index_t start, int len, const T *v, const T *e) ACTGRAD_LAMBDA {
            sum.add_block(v, e, len, r.m);
            park_terms(out, start, len, e);
        });
        const T z = sum.total();
        map_terms(x, out, n, r.m, [&](index_t, T e) ACTGRAD_LAMBDA { return e / z; });
    }

    // grad_x = s * (g - sum(g * s)).  Where s is 0 the result is 0, whatever g.
    template <class T, class G, class X, class Out>
    ACTGRAD_KERNEL static void backward(const G &g, const X &x, const Out &out, index_t n) {
        const RowMax<T> r = row_max<T>(x, n);
        if (special_row(r, out, n, T(0))) return;
        RowSum<T> sum;
        LaneSum<T> dot;  // sum of g * e
        exp_blocks(x, n, r.m, [&](index_t start, int len, const T *v, const T *e) ACTGRAD_LAMBDA {
            T ge[block_length<T>];
            for (int k = 0; k < len; ++k) ge[k] = e[k] == T(0) ? T(0) : T(g[start + k]) * e[k];
            sum.add_block(v, e, len, r.m);
            dot.add_block(ge, len);
            park_terms(out, start, len, e);
        });
        const T z = sum.total();
        const T gs = dot.value() / z;  // sum(g * s)
        map_terms(x, out, n, r.m, [&](index_t i, T e) ACTGRAD_LAMBDA {
            const T s = e / z;
            return s == T(0) ? T(0) : s * (T(g[i]) - gs);
        });
    }
};

// log_softmax(x)_i = (x_i - m) - log(sum_j exp(x_j - m)).
struct log_softmax {
    template <class T, class X, class Out> ACTGRAD_KERNEL static void f(const X &x, const Out &out, index_t n) {
        const RowMax<T> r = row_max<T>(x, n);
        if (special_row(r, out, n, -inf_v<T>)) return;
        RowSum<T> sum;
        exp_blocks(x, n, r.m, [&](index_t, int len, const T *v, const T *e) ACTGRAD_LAMBDA {
            sum.add_block(v, e, len, r.m);
        });
        const T lse = sum.log_total();
        for (index_t i = 0; i < n; ++i) {
            const Diff<T> d = diff_from_max(T(x[i]), r.m);
            out.set(i, (d.hi - lse) + d.lo);
        }
    }

    // grad_x = g - s * sum(g).  Where s is 0 the result is g.
    template <class T, class G, class X, class Out>
    ACTGRAD_KERNEL static void backward(const G &g, const X &x, const Out &out, index_t n) {
        const RowMax<T> r = row_max<T>(x, n);
        if (special_row(r, out, n, T(0))) return;
        RowSum<T> sum;
        LaneSum<T> gsum;
        exp_blocks(x, n, r.m, [&](index_t start, int len, const T *v, const T *e) ACTGRAD_LAMBDA {
            T gv[block_length<T>];
            for (int k = 0; k < len; ++k) gv[k] = g[start + k];
            sum.add_block(v, e, len, r.m);
            gsum.add_block(gv, len);
            park_terms(out, start, len, e);
        });
        const T z = sum.total();
        const T gt = gsum.value();
        map_terms(x, out, n, r.m, [&](index_t i, T e) ACTGRAD_LAMBDA {
            const T s = e / z;
            const T gi = g[i];
            return s == T(0) ? gi : gi - s * gt;
        });
    }
};

// softmin(x) = softmax(-x): softmax's kernels through a view that negates x
// (and, for the backward pass, one that negates what is written and read
// back: the Jacobian of softmin at x is minus softmax's at -x).  Negation is
// exact, so softmin is softmax at -x bit for bit, its conventions included: a
// row of +inf is the masked row (zeros), entries at -inf share their row.
// Where s is 0 the backward pass is -0.0, as PyTorch's autograd through
// softmax(-x) gives.
template <class X> struct NegatedRow {
    template <class T> static constexpr bool direct = false;
    const X &x;
    ACTGRAD_KERNEL auto operator[](index_t i) const { return -x[i]; }
};
template <class Out> struct NegatedOut {
    using value_type = typename Out::value_type;
    const Out &out;
    ACTGRAD_KERNEL bool scratch() const { return out.scratch(); }
    ACTGRAD_KERNEL void set(index_t i, value_type v) const { out.set(i, -v); }
    ACTGRAD_KERNEL value_type get(index_t i) const { return -out.get(i); }
};

struct softmin {
    template <class T, class X, class Out> ACTGRAD_KERNEL static void f(const X &x, const Out &out, index_t n) {
        softmax::f<T>(NegatedRow<X>{x}, out, n);
    }
    template <class T, class G, class X, class Out>
    ACTGRAD_KERNEL static void backward(const G &g, const X &x, const Out &out, index_t n) {
        softmax::backward<T>(g, NegatedRow<X>{x}, NegatedOut<Out>{out}, n);
    }
};

// a * sigmoid(b), accurate to a few ulp for all a and b: sigmoid(b) is
// 1 / (1 + e) for b >= 0 and e / (1 + e) for b < 0, e = exp(-|b|) <= 1; where
// e would be subnormal, a * exp(b) is formed as (a * t) * t, t = exp(b / 2).
// One exp per element, of -|b| or, where that would be subnormal, of -|b|/2
// (the argument is selected, not the branch taken: the loops over a row
// vectorise).
template <class T> ACTGRAD_KERNEL T exp_or_half(T nb, bool tiny) {
    return axis_exp(tiny ? nb / T(2) : nb);
}

template <class T> ACTGRAD_KERNEL T mul_sigmoid(T a, T b) {
    const T nb = -std::fabs(b);
    const bool tiny = nb < exp_subnormal_below<T>;
    const T e = exp_or_half(nb, tiny);  // t = exp(b / 2) where tiny
    // where tiny, 1 + e rounds to 1 for b > 0
    return tiny ? (b > T(0) ? a : (a * e) * e) : (b >= T(0) ? a : a * e) / (T(1) + e);
}

// g * a * sigmoid'(b), with sigmoid'(b) = e / (1 + e)^2, e = exp(-|b|), which
// keeps its digits in both tails (unlike s * (1 - s)).
template <class T> ACTGRAD_KERNEL T mul_dsigmoid(T g, T a, T b) {
    const T nb = -std::fabs(b);
    const bool tiny = nb < exp_subnormal_below<T>;
    const T e = exp_or_half(nb, tiny);
    const T q = T(1) + e;
    return tiny ? (g * e) * (a * e) : (g * (e / (q * q))) * a;
}

// glu(x) = a * sigmoid(b), (a, b) the two halves of x along the axis.
struct glu {
    // a = ±inf gives ±inf for any b but -inf and NaN (sigmoid(b) > 0 there).
    template <class T> ACTGRAD_KERNEL static T f(T a, T b) {
        const T r = mul_sigmoid(a, b);
        return (std::fabs(a) == inf_v<T> && b > -inf_v<T>) ? a : r;
    }
    // d/da = sigmoid(b): 0 at b = -inf, whatever g.
    template <class T> ACTGRAD_KERNEL static T grad_a(T g, T a, T b) {
        const T r = mul_sigmoid(g, b);
        return a != a ? a : (b == -inf_v<T> ? T(0) : r);
    }
    // d/db = a * sigmoid'(b): 0 at b = ±inf and at a = 0, whatever g.
    template <class T> ACTGRAD_KERNEL static T grad_b(T g, T a, T b) {
        const T r = mul_dsigmoid(g, a, b);
        const bool flat = a == T(0) || std::fabs(b) == inf_v<T>;
        return (a != a || b != b) ? a + b : (flat ? T(0) : r);
    }
};

// prelu(x, w) = x if x > 0 else w * x: leaky_relu with a learnable slope.
struct prelu {
    template <class T> static T f(T x, T w) { return leaky_relu::f(x, w); }
    // d/dx: 1 if x > 0 else w (w at the kink, as in PyTorch).
    template <class T> static T df(T x, T w) { return leaky_relu::df(x, w); }
    // grad_output * d/dx, 0 where d/dx is 0 whatever grad_output.
    template <class T> static T backward_x(T g, T x, T w) {
        const T d = df(x, w);
        return d == T(0) ? T(0) : g * d;
    }
    // grad_output * d/dw: d/dw = x for x < 0, 0 for x >= 0 (then 0 whatever g).
    template <class T> static T backward_w(T g, T x) {
        return x >= T(0) ? T(0) : g * x;
    }
};

}  // namespace actgrad::kernels
