// The instruction sets the vectorised loops are compiled for, and the one the
// loops run with.
//
// On x86-64 Linux with GCC every vectorisable loop is compiled three times:
// for x86-64-v4 (AVX-512), x86-64-v3 (AVX2, FMA) and the baseline.  At import
// the module picks the best level the CPU supports, or a lower one named by
// the environment variable ACTGRAD_CPU (baseline, avx2, avx512), and tests
// and benchmarks may switch levels at run time (actgrad._ufuncs._set_isa).
// Every level computes the same bits: the kernels contract a*b+c only where
// they call std::fma, and nothing depends on the vector width.
//
// Large contiguous outputs are written with streaming (non-temporal) stores:
// a result that cannot stay in cache would otherwise be read into it first.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define ACTGRAD_X86_ISAS 1
#include <immintrin.h>
#define ACTGRAD_TARGET_AVX512 __attribute__((target("arch=x86-64-v4")))
#define ACTGRAD_TARGET_AVX2 __attribute__((target("arch=x86-64-v3")))
#else
#define ACTGRAD_X86_ISAS 0
#endif

#if defined(__GNUC__)
#define ACTGRAD_NOINLINE __attribute__((noinline))
#else
#define ACTGRAD_NOINLINE
#endif

namespace actgrad {

enum Isa : int { isa_baseline = 0, isa_avx2 = 1, isa_avx512 = 2 };
inline constexpr const char *isa_names[] = {"baseline", "avx2", "avx512"};

// The level the loops run with; set once at import (and by _set_isa).
inline std::atomic<int> active_isa{isa_baseline};

inline int current_isa() { return active_isa.load(std::memory_order_relaxed); }

// The best level this CPU and this build support.
inline int best_isa() {
#if ACTGRAD_X86_ISAS
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4")) return isa_avx512;
    if (__builtin_cpu_supports("x86-64-v3")) return isa_avx2;
#endif
    return isa_baseline;
}

// Defines static member functions NAME_baseline (and NAME_avx2, NAME_avx512
// on x86-64) whose body is NAME_impl(ARGS), compiled for that level, and
// NAME_for(isa), the one to call.  Only what is called is instantiated.
#if ACTGRAD_X86_ISAS
#define ACTGRAD_ISA_VARIANTS(NAME, RET, PARAMS, ARGS)                                          \
    ACTGRAD_NOINLINE static RET NAME##_baseline PARAMS { return NAME##_impl ARGS; }             \
    ACTGRAD_TARGET_AVX2 ACTGRAD_NOINLINE static RET NAME##_avx2 PARAMS { return NAME##_impl ARGS; } \
    ACTGRAD_TARGET_AVX512 ACTGRAD_NOINLINE static RET NAME##_avx512 PARAMS {                  \
        return NAME##_impl ARGS;                                                               \
    }                                                                                          \
    static auto NAME##_for(int isa) {                                                          \
        return isa == isa_avx512 ? &NAME##_avx512 : isa == isa_avx2 ? &NAME##_avx2 : &NAME##_baseline; \
    }
#else
#define ACTGRAD_ISA_VARIANTS(NAME, RET, PARAMS, ARGS)                                          \
    ACTGRAD_NOINLINE static RET NAME##_baseline PARAMS { return NAME##_impl ARGS; }             \
    static auto NAME##_for(int) { return &NAME##_baseline; }
#endif

// ---------------------------------------------------------------------------
// Streaming stores.

// Outputs at least this large are streamed.  Below it they may still be in
// cache when the caller reads them; above it they are not, and ordinary
// stores would first read every line of the output into the cache.
inline constexpr std::size_t stream_min_bytes = std::size_t(16) << 20;
// Bytes computed into a buffer in L1 before they are streamed out.
inline constexpr std::size_t stream_chunk_bytes = 4096;
inline constexpr std::size_t stream_align = 64;

// copy_for(isa)(dst, src, bytes): dst and bytes are multiples of 64, src is
// 64-aligned; no fence (see fence()).
struct StreamCopy {
#if ACTGRAD_X86_ISAS
    ACTGRAD_NOINLINE static void copy_baseline(char *dst, const char *src, std::size_t bytes) {
        for (std::size_t i = 0; i < bytes; i += 16) {
            _mm_stream_si128(reinterpret_cast<__m128i *>(dst + i),
                             _mm_load_si128(reinterpret_cast<const __m128i *>(src + i)));
        }
    }
    ACTGRAD_TARGET_AVX2 ACTGRAD_NOINLINE static void copy_avx2(char *dst, const char *src,
                                                               std::size_t bytes) {
        for (std::size_t i = 0; i < bytes; i += 32) {
            _mm256_stream_si256(reinterpret_cast<__m256i *>(dst + i),
                                _mm256_load_si256(reinterpret_cast<const __m256i *>(src + i)));
        }
    }
    ACTGRAD_TARGET_AVX512 ACTGRAD_NOINLINE static void copy_avx512(char *dst, const char *src,
                                                                   std::size_t bytes) {
        for (std::size_t i = 0; i < bytes; i += 64) {
            _mm512_stream_si512(reinterpret_cast<__m512i *>(dst + i),
                                _mm512_load_si512(reinterpret_cast<const void *>(src + i)));
        }
    }
    static auto copy_for(int isa) {
        return isa == isa_avx512 ? &copy_avx512 : isa == isa_avx2 ? &copy_avx2 : &copy_baseline;
    }
    // Streaming stores are weakly ordered: fence before the results are used.
    static void fence() { _mm_sfence(); }
    static constexpr bool available = true;
#else
    // ordinary stores: without x86 intrinsics there is no streaming store
    static void copy_generic(char *dst, const char *src, std::size_t bytes) {
        std::memcpy(dst, src, bytes);
    }
    static auto copy_for(int) { return &copy_generic; }
    static void fence() {}
    static constexpr bool available = false;
#endif
};

}  // namespace actgrad
