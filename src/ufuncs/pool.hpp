// The opt-in thread pool of the elementwise loops (actgrad.set_num_threads).
//
// A loop over at least `parallel_min` elements, called while more than one
// thread is allowed, is split into contiguous ranges, a few per thread; the
// calling thread and persistent workers claim them in turn.
// Every result is elementwise, so the bits do not depend on the split; the
// ranges still start at 64-byte boundaries of the output, so that each
// thread's streaming stores and vector loops see whole cache lines.
//
// Safety:
//   - one job at a time: a caller that finds the pool busy (another Python
//     thread's loop) computes its loop alone rather than wait, so concurrent
//     callers can never deadlock and never oversubscribe;
//   - fork: the child abandons the parent's pool (its workers do not exist
//     there, its mutexes may be held) and starts a fresh one when needed;
//   - exit: Py_AtExit waits for a running job, then stops and joins workers.
// The pool is never freed, so a worker never touches freed memory.
#pragma once

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#include <numpy/npy_common.h>

namespace actgrad {

// The number of threads a loop may use (1: the calling thread alone).
inline std::atomic<int> num_threads{1};
inline constexpr int max_threads = 1024;

// Loops over fewer elements stay on the calling thread: waking a worker
// costs some microseconds, as much as the cheapest kernels take for ~10^5
// elements.
inline std::atomic<npy_intp> parallel_min{npy_intp(1) << 17};

class Pool {
  public:
    using Task = void (*)(void *context, npy_intp part);

    // Run task(context, p) for p in [0, parts) on the calling thread and
    // threads - 1 workers, each claiming the next part when done with one
    // (so a thread that the OS preempts leaves its parts to the others).
    // False (nothing run) when the pool is busy.
    bool run(Task task, void *context, npy_intp parts, int threads) {
        std::unique_lock<std::mutex> job(job_mutex_, std::try_to_lock);
        if (!job.owns_lock()) return false;
        std::uint64_t job_generation;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            if (stopping_) return false;
            grow(threads - 1);
            task_ = task;
            context_ = context;
            parts_ = parts;
            next_ = 1;
            pending_ = parts - 1;
            ++generation_;
            job_generation = generation_;
        }
        wake_.notify_all();
        task(context, 0);
        // The caller also takes the parts that no worker has claimed yet.
        for (npy_intp p; (p = claim(job_generation)) >= 0;) {
            task(context, p);
            finish_part();
        }
        std::unique_lock<std::mutex> lock(mutex_);
        done_.wait(lock, [this] { return pending_ == 0; });
        task_ = nullptr;
        return true;
    }

    // Waits for a running job, then stops and joins the workers.
    void stop() {
        std::lock_guard<std::mutex> job(job_mutex_);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        for (std::thread &t : workers_) t.join();
        workers_.clear();
    }

    // How many workers exist (threadpoolctl and the tests).
    int workers() {
        std::lock_guard<std::mutex> lock(mutex_);
        return int(workers_.size());
    }

  private:
    // Called with mutex_ held.
    void grow(int n) {
        while (int(workers_.size()) < n) {
            workers_.emplace_back(&Pool::work, this, generation_);
        }
    }

    // The next unclaimed part of job `generation`, or -1 (a worker that woke
    // late must not take a part of a later job with an earlier job's task).
    npy_intp claim(std::uint64_t generation) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (generation != generation_ || next_ >= parts_) return -1;
        return next_++;
    }

    void finish_part() {
        std::lock_guard<std::mutex> lock(mutex_);
        if (--pending_ == 0) done_.notify_one();
    }

    void work(std::uint64_t seen) {
        for (;;) {
            Task task;
            void *context;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
                if (stopping_) return;
                seen = generation_;
                task = task_;
                context = context_;
            }
            for (npy_intp p; (p = claim(seen)) >= 0;) {
                task(context, p);
                finish_part();
            }
        }
    }

    std::mutex job_mutex_;  // held by the caller for a whole job
    std::mutex mutex_;      // guards everything below
    std::condition_variable wake_, done_;
    std::vector<std::thread> workers_;
    std::uint64_t generation_ = 0;
    Task task_ = nullptr;
    void *context_ = nullptr;
    npy_intp parts_ = 0;
    npy_intp pending_ = 0;
    npy_intp next_ = 0;
    bool stopping_ = false;
};

// The process's pool, made on first use; abandoned (never freed) in a fork
// child and stopped at exit.  Only touched through pool_instance().
inline std::atomic<Pool *> &pool_slot() {
    static std::atomic<Pool *> slot{nullptr};
    return slot;
}
inline std::mutex &pool_slot_mutex() {
    static std::mutex *m = new std::mutex;  // never destroyed: usable at exit
    return *m;
}

inline void pool_after_fork_child() {
    // The parent's workers are not in this process; its mutexes may be held.
    // Leak it and its mutex: the child makes new ones on first use.
    pool_slot().store(nullptr, std::memory_order_relaxed);
    new (&pool_slot_mutex()) std::mutex;
}

inline Pool *pool_instance() {
    Pool *pool = pool_slot().load(std::memory_order_acquire);
    if (pool != nullptr) return pool;
    std::lock_guard<std::mutex> lock(pool_slot_mutex());
    pool = pool_slot().load(std::memory_order_relaxed);
    if (pool == nullptr) {
        static const bool registered = [] {
            return pthread_atfork(nullptr, nullptr, &pool_after_fork_child) == 0;
        }();
        (void)registered;
        pool = new Pool;
        pool_slot().store(pool, std::memory_order_release);
    }
    return pool;
}

// At interpreter exit: stop the workers (after any running job).
inline void pool_shutdown() {
    Pool *pool = pool_slot().exchange(nullptr, std::memory_order_acq_rel);
    if (pool != nullptr) pool->stop();  // the Pool itself is leaked on purpose
}

// Parts per thread: a few, so that the threads balance their loads.
inline constexpr npy_intp parts_per_thread = 4;

// How many parts a loop over n elements on `threads` threads is split into
// (1: not split).  Each part has at least parallel_min / 8 elements.
inline npy_intp parallel_parts(npy_intp n, int threads) {
    const npy_intp min = parallel_min.load(std::memory_order_relaxed);
    if (threads <= 1 || n < min) return 1;
    return std::max<npy_intp>(
        1, std::min<npy_intp>(threads * parts_per_thread, n / std::max<npy_intp>(1, min / 8)));
}

// Split [0, n) into `parts` ranges whose starts (but the first) put the
// output `out` (element size `size`) at a 64-byte boundary where it can be.
inline npy_intp part_start(npy_intp n, npy_intp parts, npy_intp p, const char *out,
                           npy_intp out_step) {
    if (p == 0) return 0;
    if (p >= parts) return n;
    npy_intp start = n / parts * p;
    if (out_step > 0 && 64 % out_step == 0) {
        const std::uintptr_t addr = reinterpret_cast<std::uintptr_t>(out) + std::uintptr_t(start * out_step);
        if (addr % std::uintptr_t(out_step) == 0) {
            start += npy_intp((64 - addr % 64) % 64) / out_step;
        }
    }
    return std::min(start, n);
}

}  // namespace actgrad
