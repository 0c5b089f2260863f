// Standalone harness for the kernel headers (not part of the build): runs one
// kernel over a file of float32/float64 values, or times every kernel against
// memcpy (min of repeats, one thread).  Build it for each instruction set:
//   for m in x86-64-v4 x86-64-v3 x86-64; do
//     g++ -O3 -std=c++17 -ffp-contract=off -fno-trapping-math -Wall -Wextra \
//         -march=$m -Isrc tools/kernel_harness.cpp -o /tmp/h_$m; done
// Usage: h FUNC ORDER DTYPE IN OUT   (ORDER 0, 1, 2; DTYPE f or d)
//        h bench N [NAMES]            (time / memcpy time, f f' f'')
// Accuracy is measured on the built extension: actgrad accuracy --sweep.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>
#include <algorithm>
#include <cmath>
#include "kernels/logistic.hpp"
#include "kernels/gelu.hpp"
#include "kernels/mish.hpp"
#include "kernels/exp_linear.hpp"
#include "kernels/rational.hpp"
using namespace actgrad::kernels;
template <class K, int O, class T> __attribute__((noinline)) void run(const T *x, T *y, long n) {
    for (long i = 0; i < n; ++i) {
        if constexpr (O == 0) y[i] = K::f(x[i]);
        else if constexpr (O == 1) y[i] = K::df(x[i]);
        else y[i] = K::d2f(x[i]);
    }
}
struct softplus1 { template<class T> static T f(T x){return softplus::f(x,T(1));} template<class T> static T df(T x){return softplus::df(x,T(1));} template<class T> static T d2f(T x){return softplus::d2f(x,T(1));} };
struct celu1 { template<class T> static T f(T x){return celu::f(x,T(1));} template<class T> static T df(T x){return celu::df(x,T(1));} template<class T> static T d2f(T x){return celu::d2f(x,T(1));} };
struct celu3 { template<class T> static T f(T x){return celu::f(x,T(3));} template<class T> static T df(T x){return celu::df(x,T(3));} template<class T> static T d2f(T x){return celu::d2f(x,T(3));} };
struct elu1 { template<class T> static T f(T x){return elu::f(x,T(1));} template<class T> static T df(T x){return elu::df(x,T(1));} template<class T> static T d2f(T x){return elu::d2f(x,T(1));} };
template <class T> using Fn = void (*)(const T *, T *, long);
struct Entry { const char *name; Fn<float> f[3]; Fn<double> d[3]; };
#define E(N, K) {N, {run<K,0,float>, run<K,1,float>, run<K,2,float>}, {run<K,0,double>, run<K,1,double>, run<K,2,double>}}
Entry table[] = {E("sigmoid", sigmoid), E("logsigmoid", logsigmoid), E("tanh", actgrad::kernels::tanh), E("silu", silu),
                 E("softplus", softplus1), E("tanhshrink", tanhshrink), E("gelu", gelu), E("gelu_tanh", gelu_tanh),
                 E("mish", mish), E("elu", elu1), E("celu", celu1), E("celu3", celu3), E("softsign", softsign)};
template <class T> double tmed(Fn<T> fn, const T *x, T *y, long n, int reps) {
    std::vector<double> t;
    for (int r = 0; r < reps; ++r) {
        auto a = std::chrono::steady_clock::now();
        fn(x, y, n);
        auto b = std::chrono::steady_clock::now();
        t.push_back(std::chrono::duration<double>(b - a).count());
    }
    std::sort(t.begin(), t.end());
    return t[0];  // min: robust to the other sessions on this machine
}
template <class T> void bench(long n, const char *only) {
    std::vector<T> x(n), y(n);
    // normal(0, 3), as actgrad bench --catalogue (Box-Muller on a fixed LCG)
    unsigned long long st = 12345;
    auto u01 = [&] { st = st * 6364136223846793005ULL + 1442695040888963407ULL; return ((st >> 11) + 0.5) / 9007199254740992.0; };
    for (long i = 0; i < n; ++i) x[i] = T(3.0 * std::sqrt(-2.0 * std::log(u01())) * std::cos(6.283185307179586 * u01()));
    auto cp = [](const T *a, T *b, long m) { std::memcpy(b, a, m * sizeof(T)); };
    double tc = tmed<T>(cp, x.data(), y.data(), n, 41);
    for (auto &e : table) {
        if (only && !strstr(only, e.name)) continue;
        printf("%-11s %s", e.name, sizeof(T) == 4 ? "f32" : "f64");
        for (int o = 0; o < 3; ++o) {
            Fn<T> fn; if constexpr (sizeof(T) == 4) fn = e.f[o]; else fn = e.d[o];
            printf(" %6.2f", tmed<T>(fn, x.data(), y.data(), n, 21) / tc);
        }
        printf("\n");
    }
}
int main(int argc, char **argv) {
    if (std::string(argv[1]) == "bench") {
        long n = atol(argv[2]);
        const char *only = argc > 3 ? argv[3] : nullptr;
        bench<float>(n, only); bench<double>(n, only);
        return 0;
    }
    std::string name = argv[1]; int o = atoi(argv[2]); bool f = argv[3][0] == 'f';
    FILE *fi = fopen(argv[4], "rb"); fseek(fi, 0, SEEK_END); long bytes = ftell(fi); fseek(fi, 0, SEEK_SET);
    std::vector<char> in(bytes), out(bytes);
    if (fread(in.data(), 1, bytes, fi) != size_t(bytes)) return 2;
    fclose(fi);
    for (auto &e : table) if (name == e.name) {
        if (f) e.f[o]((float *)in.data(), (float *)out.data(), bytes / 4);
        else e.d[o]((double *)in.data(), (double *)out.data(), bytes / 8);
    }
    FILE *fo = fopen(argv[5], "wb"); fwrite(out.data(), 1, bytes, fo); fclose(fo);
}
