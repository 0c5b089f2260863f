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
//
// Loop::run splits a loop over many elements across actgrad's thread pool
// (pool.hpp) when the caller allowed more than one thread.
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
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

#if defined(__SSE2__) || defined(_M_X64)
#include <xmmintrin.h>
#endif
#include "pool.hpp"

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

// bfloat16 (ml_dtypes.bfloat16, a NumPy user dtype) is the top half of a
// float32: loaded exactly by a shift, computed in float32 and rounded once to
// nearest even on the way out.  A NaN stays a NaN of the same sign (quiet,
// with the top of its payload), which the rounding add could otherwise turn
// into an infinity.
struct bfloat16 {
    std::uint16_t bits;
};
template <> inline float load<bfloat16, float>(const char *p) {
    std::uint16_t b;
    std::memcpy(&b, p, sizeof b);
    const std::uint32_t u = std::uint32_t(b) << 16;
    float v;
    std::memcpy(&v, &u, sizeof v);
    return v;
}
template <> inline void store<float, bfloat16>(char *p, float v) {
    std::uint32_t u;
    std::memcpy(&u, &v, sizeof u);
    const std::uint16_t b =
        (u & 0x7fffffffu) > 0x7f800000u
            ? std::uint16_t((u >> 16) | 0x0040u)
            : std::uint16_t((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
    std::memcpy(p, &b, sizeof b);
}

// Parameters always arrive as float64 and are rounded once to the compute
// type, except that a nonzero one never rounds to 0: it becomes the smallest
// subnormal of its sign, so that a slope or scale of 1e-300 still decides the
// limits in float (leaky_relu(-inf, 1e-300) is -inf, not relu's 0).  One
// beyond the type's range becomes +-inf, where the kernels take the limits.
// (Parameters only exist for floating compute types.)
struct ParamStorage {};
template <class C> inline C load_param(const char *p) {
    const double v = *reinterpret_cast<const double *>(p);
    const C c = static_cast<C>(v);
    return (c == C(0) && v != 0.0) ? std::copysign(std::numeric_limits<C>::denorm_min(), c) : c;
}
template <> inline float load<ParamStorage, float>(const char *p) { return load_param<float>(p); }
template <> inline double load<ParamStorage, double>(const char *p) { return load_param<double>(p); }
template <> inline long double load<ParamStorage, long double>(const char *p) {
    return load_param<long double>(p);
}

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
    // `whole` is the length of the whole loop that [out, out + n) is a part
    // of (the threads' parts of a large output are streamed too).
    static void contiguous(int isa, const C *const *in, const C *param, C *out, npy_intp n,
                           npy_intp whole) {
        const UniformFn run = uniform(isa);
        const std::size_t bytes = std::size_t(whole) * sizeof(C);
        const std::uintptr_t addr = reinterpret_cast<std::uintptr_t>(out);
        if (!StreamCopy::available || bytes < stream_min_bytes || addr % sizeof(C) != 0) {
            run(in, param, out, n);
            return;
        }
        constexpr npy_intp chunk = npy_intp(stream_chunk_bytes / sizeof(C));
        const npy_intp to_align =
            npy_intp((stream_align - addr % stream_align) % stream_align / sizeof(C));
        const npy_intp head = to_align < n ? to_align : n;
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

// The kernels compute with subnormals: a caller whose thread flushes them to
// zero (XLA's threads, so a JAX callback; a process that loaded code built
// with -ffast-math) would otherwise get 0 where a result or an intermediate
// is subnormal, and read subnormal inputs as 0.  Every inner loop therefore
// runs with x86's flush-to-zero (MXCSR bit 15) and denormals-are-zero (bit 6)
// off, restored afterwards.  (Elsewhere the caller's mode stands.)
class ExactSubnormals {
#if defined(__SSE2__) || defined(_M_X64)
    static constexpr unsigned flush = 0x8040u;
    unsigned saved_;

  public:
    ExactSubnormals() : saved_(_mm_getcsr()) {
        if (saved_ & flush) _mm_setcsr(saved_ & ~flush);
    }
    ~ExactSubnormals() {
        if (saved_ & flush) _mm_setcsr(saved_);
    }
#endif
};

// The inner loop NumPy calls, for storage types S (inputs) and O (output).
template <class Op, class S, class C, class O, std::size_t NP>
struct Loop {
    static constexpr std::size_t NA = Op::n_arrays;
    static constexpr npy_intp block = 256;
    using K = Kernel<Op, C, NP>;

    static void run(char **args, npy_intp const *dims, npy_intp const *steps, void *) {
        const ExactSubnormals exact;
        const npy_intp n = dims[0];
        const int threads = num_threads.load(std::memory_order_relaxed);
        const npy_intp parts = parallel_parts(n, threads);
        Job job{args, n, steps, parts};
        if (parts <= 1 || !pool_instance()->run(&run_part, &job, parts, threads)) {
            run_impl(args, n, n, steps, std::make_index_sequence<NA>{},
                     std::make_index_sequence<NP>{});
        }
        // Ordered compares on NaN set the invalid flag; every result here is
        // already what the contract asks for, so no warning may escape.
        npy_clear_floatstatus_barrier(reinterpret_cast<char *>(args));
    }

    // One thread's share of a loop split by the pool: elements [begin, end).
    struct Job {
        char **args;
        npy_intp n;
        npy_intp const *steps;
        npy_intp parts;
    };
    static void run_part(void *context, npy_intp part) {
        const ExactSubnormals exact;
        const Job &job = *static_cast<const Job *>(context);
        char *const out = job.args[NA + NP];
        const npy_intp out_step = job.steps[NA + NP];
        const npy_intp begin = part_start(job.n, job.parts, part, out, out_step);
        const npy_intp end = part_start(job.n, job.parts, part + 1, out, out_step);
        if (end <= begin) return;
        std::array<char *, NA + NP + 1> args;
        for (std::size_t k = 0; k < NA + NP + 1; ++k) args[k] = job.args[k] + begin * job.steps[k];
        run_impl(args.data(), end - begin, job.n, job.steps, std::make_index_sequence<NA>{},
                 std::make_index_sequence<NP>{});
    }

    template <std::size_t... A, std::size_t... P>
    ACTGRAD_INLINE static void run_impl(char **args, npy_intp n, npy_intp whole,
                                        npy_intp const *steps,
                                        std::index_sequence<A...>, std::index_sequence<P...>) {
        char *out = args[NA + NP];
        const npy_intp out_step = steps[NA + NP];
        const bool uniform = ((steps[NA + P] == 0) && ... && true);
        std::array<C, NP + 1> scalar{load<ParamStorage, C>(args[NA + P])..., C(0)};
        const int isa = current_isa();
        (void)whole;
        if constexpr (std::is_same_v<S, C> && std::is_same_v<O, C>) {
            const bool contiguous = ((steps[A] == npy_intp(sizeof(S))) && ... && true) &&
                                    out_step == npy_intp(sizeof(O));
            if (contiguous && uniform) {
                const std::array<const C *, NA> in{reinterpret_cast<const C *>(args[A])...};
                K::contiguous(isa, in.data(), scalar.data(), reinterpret_cast<C *>(out), n, whole);
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
    // The bfloat16 loop, registered for ml_dtypes' type number when a
    // bfloat16 array first arrives (module.cpp); in bfloat16_types, -1
    // stands for that type number.
    PyUFuncGenericFunction bfloat16_function = nullptr;
    std::vector<int> bfloat16_types;
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
    set.bfloat16_function = &Loop<Op, bfloat16, float, bfloat16, NP>::run;
    set.bfloat16_types.assign(Op::n_arrays, -1);
    set.bfloat16_types.insert(set.bfloat16_types.end(), NP, NPY_DOUBLE);
    set.bfloat16_types.push_back(-1);
    return set;
}

}  // namespace actgrad
