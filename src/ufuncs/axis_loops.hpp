// Generalized-ufunc loops for the activations along an axis.
//
//   Row<S, C, K>      reads a row of storage type S as compute type C (K: the
//                     row is contiguous, so the stride is a constant);
//   OutRow<O, C, K>   writes one; `scratch()` says whether it stores C exactly
//                     and is no input, so that a kernel may keep intermediates
//                     there;
//   AxisOp<K, kind>   adapts a kernel of kernels/axis.hpp to a gufunc
//                     signature (see the table's AxisForm.signature);
//   GufuncLoop        the outer loop over the broadcast (non-core) dimensions.
//
// float16 and bfloat16 are computed in float32 and rounded once; integer and bool inputs
// are computed in float64, as in loops.hpp.
#pragma once

#include "loops.hpp"

#include <memory>
#include <new>
#include <type_traits>

#include "axis.hpp"

namespace actgrad {

template <class S, class C, bool Contig> struct Row {
    template <class T> static constexpr bool direct = Contig && std::is_same_v<S, T>;
    const char *p;
    npy_intp step;
    const S *data() const { return reinterpret_cast<const S *>(p); }
    ACTGRAD_INLINE C operator[](npy_intp i) const {
        return load<S, C>(p + i * (Contig ? npy_intp(sizeof(S)) : step));
    }
};

template <class O, class C, bool Contig> struct OutRow {
    using value_type = C;
    char *p;
    npy_intp step;
    // False when the output is also an input read after the write (NumPy
    // passes an operand given as both input and out= without copying it).
    bool may_keep = true;
    // Whether the kernel may keep intermediates of type C in the output.
    ACTGRAD_INLINE bool scratch() const { return std::is_same_v<O, C> && may_keep; }
    ACTGRAD_INLINE char *at(npy_intp i) const {
        return p + i * (Contig ? npy_intp(sizeof(O)) : step);
    }
    ACTGRAD_INLINE void set(npy_intp i, C v) const { store<C, O>(at(i), v); }
    ACTGRAD_INLINE C get(npy_intp i) const { return *reinterpret_cast<const C *>(at(i)); }
};

enum class AxisKind { f, grad, backward };

template <class K, AxisKind kind> struct AxisOp;

// softmax, log_softmax: "(n)->(n)" and "(n),(n)->(n)" (grad_output, x).
template <class K> struct RowOp {
    template <class S, class C, class O, bool Contig>
    ACTGRAD_INLINE static void f(char **a, npy_intp n, npy_intp const *st) {
        K::template f<C>(Row<S, C, Contig>{a[0], st[0]}, OutRow<O, C, Contig>{a[1], st[1]}, n);
    }
    template <class S, class C, class O, bool Contig>
    ACTGRAD_INLINE static void backward(char **a, npy_intp n, npy_intp const *st) {
        // grad_output is read again after the output is written: no scratch
        // when they are the same memory.
        K::template backward<C>(Row<S, C, Contig>{a[0], st[0]}, Row<S, C, Contig>{a[1], st[1]},
                                OutRow<O, C, Contig>{a[2], st[2], a[2] != a[0]}, n);
    }
};

template <class K> struct AxisOp<K, AxisKind::f> {
    static constexpr int n_in = 1, n_out = 1;
    static bool empty(npy_intp const *core) { return core[0] == 0; }
    template <class S, class C, class O>
    ACTGRAD_INLINE static void row(char **a, npy_intp const *dims, npy_intp const *st) {
        if (st[0] == npy_intp(sizeof(S)) && st[1] == npy_intp(sizeof(O))) {
            RowOp<K>::template f<S, C, O, true>(a, dims[0], st);
        } else {
            RowOp<K>::template f<S, C, O, false>(a, dims[0], st);
        }
    }
};

template <class K> struct AxisOp<K, AxisKind::backward> {
    static constexpr int n_in = 2, n_out = 1;
    static bool empty(npy_intp const *core) { return core[0] == 0; }
    template <class S, class C, class O>
    ACTGRAD_INLINE static void row(char **a, npy_intp const *dims, npy_intp const *st) {
        if (st[0] == npy_intp(sizeof(S)) && st[1] == npy_intp(sizeof(S)) &&
            st[2] == npy_intp(sizeof(O))) {
            RowOp<K>::template backward<S, C, O, true>(a, dims[0], st);
        } else {
            RowOp<K>::template backward<S, C, O, false>(a, dims[0], st);
        }
    }
};

// glu: "(2,n)->(n)", x split into halves a = x[0], b = x[1].
template <> struct AxisOp<kernels::glu, AxisKind::f> {
    static constexpr int n_in = 1, n_out = 1;
    static bool empty(npy_intp const *core) { return core[1] == 0; }  // (2, n)
    template <class S, class C, class O, bool K>
    ACTGRAD_INLINE static void run(char **a, npy_intp n, npy_intp const *st) {
        const Row<S, C, K> x0{a[0], st[1]}, x1{a[0] + st[0], st[1]};
        const OutRow<O, C, K> out{a[1], st[2]};
        for (npy_intp i = 0; i < n; ++i) out.set(i, kernels::glu::f(x0[i], x1[i]));
    }
    // dims: (2, n); steps: x (half, n), out (n)
    template <class S, class C, class O>
    ACTGRAD_INLINE static void row(char **a, npy_intp const *dims, npy_intp const *st) {
        if (st[1] == npy_intp(sizeof(S)) && st[2] == npy_intp(sizeof(O))) {
            run<S, C, O, true>(a, dims[1], st);
        } else {
            run<S, C, O, false>(a, dims[1], st);
        }
    }
};

// glu backward: "(n),(2,n)->(2,n)" (grad_output, x) -> (grad_a, grad_b).
template <> struct AxisOp<kernels::glu, AxisKind::backward> {
    static constexpr int n_in = 2, n_out = 1;
    static bool empty(npy_intp const *core) { return core[0] == 0; }  // (n, 2)
    template <class S, class C, class O, bool K>
    ACTGRAD_INLINE static void run(char **a, npy_intp n, npy_intp const *st) {
        const Row<S, C, K> g{a[0], st[0]}, x0{a[1], st[2]}, x1{a[1] + st[1], st[2]};
        const OutRow<O, C, K> o0{a[2], st[4]}, o1{a[2] + st[3], st[4]};
        for (npy_intp i = 0; i < n; ++i) {
            const C gi = g[i], ai = x0[i], bi = x1[i];
            o0.set(i, kernels::glu::grad_a(gi, ai, bi));
            o1.set(i, kernels::glu::grad_b(gi, ai, bi));
        }
    }
    // dims: (n, 2); steps: g (n), x (half, n), out (half, n)
    template <class S, class C, class O>
    ACTGRAD_INLINE static void row(char **a, npy_intp const *dims, npy_intp const *st) {
        if (st[0] == npy_intp(sizeof(S)) && st[2] == npy_intp(sizeof(S)) &&
            st[4] == npy_intp(sizeof(O))) {
            run<S, C, O, true>(a, dims[0], st);
        } else {
            run<S, C, O, false>(a, dims[0], st);
        }
    }
};

// prelu and its derivative are elementwise in (x, weight): plain ufunc loops
// (loops.hpp) over two arrays.
template <> struct AxisOp<kernels::prelu, AxisKind::f> {
    static constexpr std::size_t n_arrays = 2;
    template <class T> static T call(T x, T w) { return kernels::prelu::f(x, w); }
};
template <> struct AxisOp<kernels::prelu, AxisKind::grad> {
    static constexpr std::size_t n_arrays = 2;
    template <class T> static T call(T x, T w) { return kernels::prelu::df(x, w); }
};

// prelu backward: "(m,c,n),(m,c,n),(c)->(m,c,n),(c)" over x viewed as
// (batch, channel, rest): grad_input, and grad_weight summed per channel in one
// pass.  Each (batch, channel) block of n elements is summed on its own, then
// added to its channel's compensated sum; the blocks are visited in memory
// order when a channel-sized scratch can be had, else channel by channel.
template <> struct AxisOp<kernels::prelu, AxisKind::backward> {
    static constexpr int n_in = 3, n_out = 2;
    // grad_weight (c) is written even when the blocks are empty (see run)
    static bool empty(npy_intp const *) { return false; }

    template <class S, class C, class O, bool K>
    ACTGRAD_INLINE static C block(char **a, npy_intp const *st, npy_intp i, npy_intp c,
                                  npy_intp n) {
        const npy_intp off_g = i * st[0] + c * st[1], off_x = i * st[3] + c * st[4];
        const Row<S, C, K> g{a[0] + off_g, st[2]}, x{a[1] + off_x, st[5]};
        const C w = load<S, C>(a[2] + c * st[6]);
        const OutRow<O, C, K> gi{a[3] + i * st[7] + c * st[8], st[9]};
        kernels::LaneSum<C> sum;
        kernels::lane_loop<kernels::lanes<C>>(n, [&](npy_intp j, int lane) ACTGRAD_LAMBDA {
            const C gj = g[j], xj = x[j];
            gi.set(j, kernels::prelu::backward_x(gj, xj, w));
            sum.add(lane, kernels::prelu::backward_w(gj, xj));
        });
        return sum.value();
    }

    template <class S, class C, class O, bool K>
    static void run(char **a, npy_intp const *dims, npy_intp const *st) {
        // empty blocks (n = 0) add nothing: grad_weight is 0 without visiting
        // the m * c of them
        const npy_intp n = dims[2], m = n == 0 ? 0 : dims[0], nc = dims[1];
        char *gw = a[4];
        const npy_intp gw_step = st[10];
        std::unique_ptr<kernels::Neumaier<C>[]> acc(new (std::nothrow) kernels::Neumaier<C>[nc]);
        if (acc) {
            for (npy_intp i = 0; i < m; ++i)
                for (npy_intp c = 0; c < nc; ++c) acc[c].add(block<S, C, O, K>(a, st, i, c, n));
            for (npy_intp c = 0; c < nc; ++c) store<C, O>(gw + c * gw_step, acc[c].value());
        } else {
            for (npy_intp c = 0; c < nc; ++c) {
                kernels::Neumaier<C> sum;
                for (npy_intp i = 0; i < m; ++i) sum.add(block<S, C, O, K>(a, st, i, c, n));
                store<C, O>(gw + c * gw_step, sum.value());
            }
        }
    }

    // dims: (m, c, n); steps: g (m, c, n), x (m, c, n), w (c), gi (m, c, n), gw (c)
    template <class S, class C, class O>
    ACTGRAD_INLINE static void row(char **a, npy_intp const *dims, npy_intp const *st) {
        if (st[2] == npy_intp(sizeof(S)) && st[5] == npy_intp(sizeof(S)) &&
            st[9] == npy_intp(sizeof(O))) {
            run<S, C, O, true>(a, dims, st);
        } else {
            run<S, C, O, false>(a, dims, st);
        }
    }
};

// The outer loop: dims[0] rows, then the core dimensions; steps: one outer
// step per operand, then the core steps of each operand in signature order.
template <class Op, class S, class C, class O> struct GufuncLoop {
    static constexpr int n_args = Op::n_in + Op::n_out;
    // Only float32 and float64 rows are worth more than the baseline: float16
    // and integer rows convert every element through a call or a cast.
    static constexpr bool vectorised =
        std::is_same_v<S, C> && (std::is_same_v<C, float> || std::is_same_v<C, double>);

    ACTGRAD_INLINE static void rows_impl(char **args, npy_intp const *dims, npy_intp const *steps) {
        char *a[n_args];
        for (npy_intp r = 0; r < dims[0]; ++r) {
            for (int k = 0; k < n_args; ++k) a[k] = args[k] + r * steps[k];
            Op::template row<S, C, O>(a, dims + 1, steps + n_args);
        }
    }
    ACTGRAD_ISA_VARIANTS(rows, void, (char **args, npy_intp const *dims, npy_intp const *steps),
                         (args, dims, steps))

    static void run(char **args, npy_intp const *dims, npy_intp const *steps, void *) {
        // A zero-length core dimension leaves every output empty: no row is
        // visited (np.empty((10**9, 0)) would be 10**9 calls doing nothing).
        if (Op::empty(dims + 1)) return;
        const ExactSubnormals exact;
        if constexpr (vectorised) {
            rows_for(current_isa())(args, dims, steps);
        } else {
            rows_baseline(args, dims, steps);
        }
        // exp of -inf, TwoSum on infinities and compares on NaN raise FP flags;
        // every result is already what the contract asks for.
        npy_clear_floatstatus_barrier(reinterpret_cast<char *>(args));
    }
};

template <class Op, class S, class C, class O>
void add_gufunc_loop(LoopSet &set, char in_code, char out_code) {
    set.functions.push_back(&GufuncLoop<Op, S, C, O>::run);
    set.data.push_back(nullptr);
    for (int k = 0; k < Op::n_in; ++k) set.types.push_back(in_code);
    for (int k = 0; k < Op::n_out; ++k) set.types.push_back(out_code);
    set.n_in = Op::n_in;
    set.n_out = Op::n_out;
}

template <class Op, class... I> void add_gufunc_integer_loops(LoopSet &set, std::tuple<I...>) {
    (add_gufunc_loop<Op, typename I::type, double, double>(set, I::code, NPY_DOUBLE), ...);
}

template <class Op> LoopSet make_gufunc_loops() {
    LoopSet set;
    add_gufunc_integer_loops<Op>(set, IntegerStorages{});
    add_gufunc_loop<Op, npy_half, float, npy_half>(set, NPY_HALF, NPY_HALF);
    add_gufunc_loop<Op, float, float, float>(set, NPY_FLOAT, NPY_FLOAT);
    add_gufunc_loop<Op, double, double, double>(set, NPY_DOUBLE, NPY_DOUBLE);
    add_gufunc_loop<Op, long double, long double, long double>(set, NPY_LONGDOUBLE, NPY_LONGDOUBLE);
    // bfloat16 rows are read into float32 and rounded once on the way out.
    set.bfloat16_function = &GufuncLoop<Op, bfloat16, float, bfloat16>::run;
    set.bfloat16_types.assign(std::size_t(Op::n_in + Op::n_out), -1);
    return set;
}

}  // namespace actgrad
