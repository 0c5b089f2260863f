// Stress test of src/ufuncs/pool.hpp under the sanitizers (no Python needed):
//   g++ -std=c++17 -O1 -g -fsanitize=thread -Isrc/ufuncs -I$(python -c "import numpy; print(numpy.get_include())")
//       -I$(python -c "import sysconfig; print(sysconfig.get_paths()['include'])") tools/pool_stress.cpp -o /tmp/pool_stress -lpthread
//   TSAN_OPTIONS=die_after_fork=0 /tmp/pool_stress   (or -fsanitize=address,undefined, ASAN_OPTIONS=detect_leaks=0:
//   the pool is leaked on purpose)
// thread counts, fork, shutdown.
#include <sys/wait.h>
#include <unistd.h>
#include <cstdio>
#include <vector>
#include <atomic>
#include "pool.hpp"
using namespace actgrad;
struct Ctx { std::vector<int> *v; npy_intp n, parts; };
static void task(void *c, npy_intp p) {
    Ctx &x = *static_cast<Ctx *>(c);
    npy_intp b = part_start(x.n, x.parts, p, nullptr, 0), e = part_start(x.n, x.parts, p + 1, nullptr, 0);
    for (npy_intp i = b; i < e; ++i) (*x.v)[i] += 1;
}
static int job(npy_intp n) {
    std::vector<int> v(n, 0);
    const int threads = num_threads.load();
    npy_intp parts = parallel_parts(n, threads);
    Ctx c{&v, n, parts};
    if (parts <= 1 || !pool_instance()->run(&task, &c, parts, threads)) {
        Ctx alone{&v, n, 1};
        task(&alone, 0);
    }
    for (auto x : v) if (x != 1) return 1;
    return 0;
}
int main() {
    parallel_min.store(64);
    std::atomic<int> bad{0};
    std::vector<std::thread> callers;
    for (int t = 0; t < 4; ++t)
        callers.emplace_back([&, t] {
            for (int k = 0; k < 300; ++k) {
                if (t == 0) num_threads.store(1 + k % 6);
                bad += job(1000 + 37 * k);
            }
        });
    for (auto &c : callers) c.join();
    pid_t pid = fork();
    if (pid == 0) { num_threads.store(3); int b = 0; for (int k = 0; k < 50; ++k) b += job(5000); _exit(b); }
    int status = 0; waitpid(pid, &status, 0);
    bad += job(5000);
    pool_shutdown();
    std::printf("bad=%d child=%d\n", bad.load(), WEXITSTATUS(status));
    return bad || WEXITSTATUS(status);
}
