// One loop template turns a scalar kernel into NumPy ufunc inner loops.
//
//   Form<K>   (forms.hpp) adapts kernel K to one of the four public forms
//             (f, f', f'', backward) with a uniform `call(arrays..., params...)`.
//   Kernel<..> is the one vectorised loop per operation and compute type,
//             compiled for each instruction set (isa.hpp: AVX-512, AVX2,
//             baseline; long double for the baseline only).
//   Loop<..>  is the inner loop NumPy calls: Kernel directly when every array
//             is contiguous in the compute type, otherwise blocks that gather
//             strided or converted (float16, integer) inputs into small
//             contiguous buffers, run Kernel on them and scatter the result.
//   LoopSet   collects the (function, type signature) pairs of one ufunc.
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <array>
#include <cstddef>
#include <deque>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <numpy/ndarraytypes.h>
#include <numpy/halffloat.h>
#include <numpy/npy_math.h>
#include <numpy/ufuncobject.h>

#include "forms.hpp"
#include "isa.hpp"

namespace actgrad {

// Storage <-> compute conversions.  float16 is computed in float32.  (npy_half
// is uint16 in C; integer loops compute in their own type or in double, so
// the float specialisations below only ever see half floats.)
template <class S, class C> inline C load(const char *p) {
    return static_cast<C>(*reinterpret_cast<const S *>(p));
}
template <> inline float load<npy_half, float>(const char *p) {
    return npy_half_to_float(*reinterpret_cast<const npy_half *>(p));
}
template <class C, class O> inline void store(char *p, C v) {
    *reinterpret_cast<O *>(p) = static_cast<O>(v);
}
template <> inline void store<float, npy_half>(char *p, float v) {
    *reinterpret_cast<npy_half *>(p) = npy_float_to_half(v);
}

// Parameters always arrive as float64 and are rounded once to the compute type.
using ParamStorage = double;

// Compute types whose loops the compiler vectorises, so that they are worth
// compiling for more than the baseline (long double is x87 arithmetic).
template <class C> inline constexpr bool vectorisable = !std::is_same_v<C, long double>;

// The one vectorised loop of an operation in compute type C:
// out[i] = Op(in_0[i], ..., p...).  Every ufunc loop that computes in C calls
// it, directly on contiguous arrays and on gathered blocks otherwise, so the
// kernel is compiled once per instruction set (not once per storage type) and
// a result never depends on the layout or dtype of the arrays it came from.
template <class Op, class C, std::size_t NP>
struct Kernel {
    static constexpr std::size_t NA = Op::n_arrays;

    // Parameters that are the same for every element (the usual case).
    ACTGRAD_ISA_VARIANTS(uniform, void, (const C *const *in, const C *param, C *out, npy_intp n),
                         (in, param, out, n, std::make_index_sequence<NA>{},
                          std::make_index_sequence<NP>{}))
    // Parameters that vary along the loop (parameter arrays that broadcast).
    ACTGRAD_ISA_VARIANTS(varying, void,
                         (const C *const *in, const C *const *param, C *out, npy_intp n),
                         (in, param, out, n, std::make_index_sequence<NA>{},
                          std::make_index_sequence<NP>{}))

    using UniformFn = void (*)(const C *const *, const C *, C *, npy_intp);
    static UniformFn uniform(int isa) {
        if constexpr (vectorisable<C>) return uniform_for(isa);
        (void)isa;
        return &uniform_baseline;
    }
    using VaryingFn = void (*)(const C *const *, const C *const *, C *, npy_intp);
    static VaryingFn varying(int isa) {
        if constexpr (vectorisable<C>) return varying_for(isa);
        (void)isa;
        return &varying_baseline;
    }

    template <std::size_t... A, std::size_t... P>
    ACTGRAD_INLINE static void uniform_impl(const C *const *in, const C *param, C *out, npy_intp n,
                                            std::index_sequence<A...>, std::index_sequence<P...>) {
        (void)param;
        const std::array<const C *, NA> x{in[A]...};
        const std::array<C, NP> p{param[P]...};
        for (npy_intp i = 0; i < n; ++i) {
            out[i] = Op::call(x[A][i]..., p[P]...);
        }
    }

    template <std::size_t... A, std::size_t... P>
    ACTGRAD_INLINE static void varying_impl(const C *const *in, const C *const *param, C *out,
                                            npy_intp n, std::index_sequence<A...>,
                                            std::index_sequence<P...>) {
        (void)param;
        const std::array<const C *, NA> x{in[A]...};
        const std::array<const C *, NP> p{param[P]...};
        for (npy_intp i = 0; i < n; ++i) {
            out[i] = Op::call(x[A][i]..., p[P][i]...);
        }
    }

    // uniform() on contiguous arrays, with streaming stores when the output
    // is large: chunks are computed into a buffer in L1 and streamed out.
    static void contiguous(int isa, const C *const *in, const C *param, C *out, npy_intp n) {
        const UniformFn run = uniform(isa);
        const std::size_t bytes = std::size_t(n) * sizeof(C);
        const std::uintptr_t addr = reinterpret_cast<std::uintptr_t>(out);
        if (!StreamCopy::available || bytes < stream_min_bytes || addr % sizeof(C) != 0) {
            run(in, param, out, n);
            return;
        }
        constexpr npy_intp chunk = npy_intp(stream_chunk_bytes / sizeof(C));
        const npy_intp head = npy_intp((stream_align - addr % stream_align) % stream_align / sizeof(C));
        run(in, param, out, head);
        alignas(stream_align) C buf[chunk];
        const auto copy = StreamCopy::copy_for(isa);
        std::array<const C *, NA> at;
        npy_intp i = head;
        for (; i + chunk <= n; i += chunk) {
            for (std::size_t a = 0; a < NA; ++a) at[a] = in[a] + i;
            run(at.data(), param, buf, chunk);
            copy(reinterpret_cast<char *>(out + i), reinterpret_cast<const char *>(buf),
                 stream_chunk_bytes);
        }
        for (std::size_t a = 0; a < NA; ++a) at[a] = in[a] + i;
        run(at.data(), param, out + i, n - i);
        StreamCopy::fence();
    }
};

// The inner loop NumPy calls, for storage types S (inputs) and O (output).
template <class Op, class S, class C, class O, std::size_t NP>
struct Loop {
    static constexpr std::size_t NA = Op::n_arrays;
    static constexpr npy_intp block = 256;
    using K = Kernel<Op, C, NP>;

    static void run(char **args, npy_intp const *dims, npy_intp const *steps, void *) {
        run_impl(args, dims[0], steps, std::make_index_sequence<NA>{},
                 std::make_index_sequence<NP>{});
        // Ordered compares on NaN set the invalid flag; every result here is
        // already what the contract asks for, so no warning may escape.
        npy_clear_floatstatus_barrier(reinterpret_cast<char *>(args));
    }

    template <std::size_t... A, std::size_t... P>
    ACTGRAD_INLINE static void run_impl(char **args, npy_intp n, npy_intp const *steps,
                                        std::index_sequence<A...>, std::index_sequence<P...>) {
        char *out = args[NA + NP];
        const npy_intp out_step = steps[NA + NP];
        const bool uniform = ((steps[NA + P] == 0) && ... && true);
        std::array<C, NP + 1> scalar{load<ParamStorage, C>(args[NA + P])..., C(0)};
        const int isa = current_isa();
        if constexpr (std::is_same_v<S, C> && std::is_same_v<O, C>) {
            const bool contiguous = ((steps[A] == npy_intp(sizeof(S))) && ... && true) &&
                                    out_step == npy_intp(sizeof(O));
            if (contiguous && uniform) {
                const std::array<const C *, NA> in{reinterpret_cast<const C *>(args[A])...};
                K::contiguous(isa, in.data(), scalar.data(), reinterpret_cast<C *>(out), n);
                return;
            }
        }
        const auto run_uniform = K::uniform(isa);
        std::array<std::array<C, block>, NA> in;
        std::array<std::array<C, block>, NP + 1> param;
        std::array<C, block> res;
        const std::array<const C *, NA> in_ptr{in[A].data()...};
        const std::array<const C *, NP + 1> param_ptr{param[P].data()..., nullptr};
        (void)param;
        for (npy_intp start = 0; start < n; start += block) {
            const npy_intp m = n - start < block ? n - start : block;
            (gather<S>(in[A], args[A] + start * steps[A], steps[A], m), ...);
            if (uniform) {
                run_uniform(in_ptr.data(), scalar.data(), res.data(), m);
            } else if constexpr (NP > 0) {
                (gather<ParamStorage>(param[P], args[NA + P] + start * steps[NA + P],
                                      steps[NA + P], m), ...);
                K::varying(isa)(in_ptr.data(), param_ptr.data(), res.data(), m);
            }
            char *o = out + start * out_step;
            for (npy_intp j = 0; j < m; ++j) {
                store<C, O>(o + j * out_step, res[j]);
            }
        }
    }

    template <class From>
    ACTGRAD_INLINE static void gather(std::array<C, block> &buf, const char *p, npy_intp step,
                                      npy_intp m) {
        for (npy_intp j = 0; j < m; ++j) {
            buf[j] = load<From, C>(p + j * step);
        }
    }
};

// The loops and type signatures of one ufunc.  NumPy keeps pointers to these
// arrays for the life of the ufunc, so LoopSets live in a never-freed deque.
struct LoopSet {
    std::vector<PyUFuncGenericFunction> functions;
    std::vector<void *> data;
    std::vector<char> types;
    int n_in = 0;
    int n_out = 1;
};

// A storage type with its NumPy type code (npy_bool and npy_ubyte share a C type).
template <class S, char Code> struct Storage {
    using type = S;
    static constexpr char code = Code;
};

using IntegerStorages = std::tuple<
    Storage<npy_bool, NPY_BOOL>, Storage<npy_byte, NPY_BYTE>, Storage<npy_ubyte, NPY_UBYTE>,
    Storage<npy_short, NPY_SHORT>, Storage<npy_ushort, NPY_USHORT>, Storage<npy_int, NPY_INT>,
    Storage<npy_uint, NPY_UINT>, Storage<npy_long, NPY_LONG>, Storage<npy_ulong, NPY_ULONG>,
    Storage<npy_longlong, NPY_LONGLONG>, Storage<npy_ulonglong, NPY_ULONGLONG>>;

template <class Op, class S, class C, class O, std::size_t NP>
void add_loop(LoopSet &set, char in_code, char out_code) {
    set.functions.push_back(&Loop<Op, S, C, O, NP>::run);
    set.data.push_back(nullptr);
    for (std::size_t a = 0; a < Op::n_arrays; ++a) set.types.push_back(in_code);
    for (std::size_t p = 0; p < NP; ++p) set.types.push_back(NPY_DOUBLE);
    set.types.push_back(out_code);
    set.n_in = int(Op::n_arrays + NP);
}

// Bool and integer inputs: either the kernel runs in the integer type itself
// (relu, relu6: exact there, like np.maximum), or in float64, as np.exp does
// for int64.  Integer loops come before the float ones, or bool and int8
// would resolve to float16.
template <class Op, std::size_t NP, bool keep_integers, class... I>
void add_integer_loops(LoopSet &set, std::tuple<I...>) {
    if constexpr (keep_integers) {
        (add_loop<Op, typename I::type, typename I::type, typename I::type, NP>(set, I::code, I::code),
         ...);
    } else {
        (add_loop<Op, typename I::type, double, double, NP>(set, I::code, NPY_DOUBLE), ...);
    }
}

template <class Op, std::size_t NP, bool keep_integers>
LoopSet make_loops() {
    LoopSet set;
    add_integer_loops<Op, NP, keep_integers>(set, IntegerStorages{});
    add_loop<Op, npy_half, float, npy_half, NP>(set, NPY_HALF, NPY_HALF);
    add_loop<Op, float, float, float, NP>(set, NPY_FLOAT, NPY_FLOAT);
    add_loop<Op, double, double, double, NP>(set, NPY_DOUBLE, NPY_DOUBLE);
    add_loop<Op, long double, long double, long double, NP>(set, NPY_LONGDOUBLE, NPY_LONGDOUBLE);
    return set;
}

}  // namespace actgrad
