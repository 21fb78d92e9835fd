// The threads that run a generated CPU kernel's parallel loop. Needs only HalideRuntime.h and the C++
// standard library, so the loaded runtime of the JIT path and the wrappers of ahead-of-time kernels use the
// same pool.
//
// Why: each call of a kernel is one parallel loop over fixed chunks of rows (codegen/schedules). Halide's
// own pool hands the chunks out in whatever order its threads come for them, so from one call to the
// next a chunk lands on either core, and a sleeping worker wakes about 15 us after the call starts. On a
// problem that fits in the cores' caches (batch 1 of a MobileNet layer: 3.6 MB, two 2 MiB L2s) every call
// then read half its rows from the other core's cache, and a call of two threads was no faster than one.
// Here thread t of T starts on the t-th contiguous share of the chunks, the same share every call, so each
// core keeps its own rows in its own cache; a thread that finishes its share takes what is left of the
// others' (a late or descheduled thread delays nothing). Workers spin for kKernelThreadSpinMicros after a
// loop before they sleep, so that back-to-back calls find them awake.
#ifndef HALOGEN_CODEGEN_KERNEL_THREADS_H_
#define HALOGEN_CODEGEN_KERNEL_THREADS_H_

#include <stdint.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>

#include "HalideRuntime.h"

namespace halogen {

// How long an idle worker waits for the next parallel loop before it sleeps.
inline constexpr int kKernelThreadSpinMicros = 200;
// The most threads a parallel loop uses, the caller's included.
inline constexpr int kMaxKernelThreads = 256;

namespace kernel_threads_internal {

inline void PauseInSpin() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Spins until done() for up to kKernelThreadSpinMicros; returns done()'s last answer.
template <typename Done>
bool SpinUntil(const Done& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(kKernelThreadSpinMicros);
  for (int i = 1;; ++i) {
    if (done()) return true;
    PauseInSpin();
    if (i % 64 == 0 && std::chrono::steady_clock::now() > deadline) return done();
  }
}

// One thread's share of a loop's iterations; the share's own thread and the others all take from `next`.
struct alignas(64) Share {
  std::atomic<int> next{0};
  int end = 0;
};

class Pool {
 public:
  // 0: HL_NUM_THREADS if it is set, as for Halide's pool, else one thread per hardware thread.
  void SetThreads(int threads) {
    if (threads <= 0) {
      const char* env = std::getenv("HL_NUM_THREADS");
      threads = env != nullptr ? std::atoi(env) : 0;
    }
    if (threads <= 0) threads = static_cast<int>(std::thread::hardware_concurrency());
    threads_.store(threads < 1 ? 1 : threads > kMaxKernelThreads ? kMaxKernelThreads : threads);
  }
  int Threads() const { return threads_.load(); }

  // Where the pool is taken (another thread's loop, or a loop inside a task), loops go to `fallback`, or
  // run on the calling thread when it is null.
  void SetFallback(halide_do_par_for_t fallback) { fallback_.store(fallback); }

  int DoParFor(void* user_context, halide_task_t task, int min, int size, uint8_t* closure) {
    if (size <= 0) return 0;
    const int threads = size < Threads() ? size : Threads();
    if (threads <= 1 || busy_.exchange(true, std::memory_order_acquire)) {
      return Elsewhere(user_context, task, min, size, closure, threads);
    }
    if (!StartWorkers(threads - 1)) {
      busy_.store(false, std::memory_order_release);
      return Elsewhere(user_context, task, min, size, closure, 1);
    }
    job_ = Job{user_context, task, closure, min, threads};
    error_.store(0, std::memory_order_relaxed);
    for (int t = 0; t < threads; ++t) {
      shares_[t].next.store(static_cast<int>(int64_t{size} * t / threads), std::memory_order_relaxed);
      shares_[t].end = static_cast<int>(int64_t{size} * (t + 1) / threads);
    }
    const uint64_t generation = generation_.load(std::memory_order_relaxed) + 1;
    entry_.store(generation << 32, std::memory_order_relaxed);
    generation_.store(generation);  // publishes the job (sequentially consistent: see Worker)
    if (sleepers_.load() > 0) {
      { std::lock_guard<std::mutex> lock(mutex_); }
      wake_.notify_all();
    }
    Run(0);
    // Close the loop to latecomers, then wait for the workers inside it: the closure lives on the
    // caller's stack.
    uint64_t entry = entry_.fetch_or(kClosed, std::memory_order_acq_rel);
    if ((entry & kCountMask) != 0) {
      SpinUntil([&] { return (entry_.load(std::memory_order_acquire) & kCountMask) == 0; });
      while ((entry_.load(std::memory_order_acquire) & kCountMask) != 0) std::this_thread::yield();
    }
    const int error = error_.load(std::memory_order_relaxed);
    busy_.store(false, std::memory_order_release);
    return error;
  }

 private:
  static constexpr uint64_t kClosed = uint64_t{1} << 31;
  static constexpr uint64_t kCountMask = kClosed - 1;

  struct Job {
    void* user_context = nullptr;
    halide_task_t task = nullptr;
    uint8_t* closure = nullptr;
    int min = 0;
    int threads = 0;
  };

  int Elsewhere(void* user_context, halide_task_t task, int min, int size, uint8_t* closure, int threads) {
    if (halide_do_par_for_t fallback = fallback_.load(); fallback != nullptr && threads > 1) {
      return fallback(user_context, task, min, size, closure);
    }
    int error = 0;
    for (int i = 0; i < size; ++i) {
      if (int e = task(user_context, min + i, closure); e != 0 && error == 0) error = e;
    }
    return error;
  }

  // Thread `index` takes its own share first, then what is left of the others'.
  void Run(int index) {
    const Job& job = job_;
    for (int k = 0; k < job.threads; ++k) {
      Share& share = shares_[(index + k) % job.threads];
      for (int i = share.next.fetch_add(1, std::memory_order_relaxed); i < share.end;
           i = share.next.fetch_add(1, std::memory_order_relaxed)) {
        if (int e = job.task(job.user_context, job.min + i, job.closure); e != 0) {
          int none = 0;
          error_.compare_exchange_strong(none, e, std::memory_order_relaxed);
        }
      }
    }
  }

  // Enters the loop of `generation` unless it is closed or already another one.
  bool Enter(uint64_t generation) {
    uint64_t entry = entry_.load(std::memory_order_relaxed);
    while ((entry >> 32) == (generation & 0xffffffffu) && (entry & kClosed) == 0) {
      if (entry_.compare_exchange_weak(entry, entry + 1, std::memory_order_acq_rel)) return true;
    }
    return false;
  }

  void Worker(int index) {
    uint64_t seen = generation_.load();
    for (;;) {
      if (!SpinUntil([&] { return generation_.load(std::memory_order_acquire) != seen; })) {
        std::unique_lock<std::mutex> lock(mutex_);
        sleepers_.fetch_add(1);
        wake_.wait(lock, [&] { return generation_.load() != seen; });
        sleepers_.fetch_sub(1);
      }
      seen = generation_.load(std::memory_order_acquire);
      if (!Enter(seen)) continue;
      if (index < job_.threads) Run(index);
      entry_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  // Workers 1..count exist afterwards; false if the system would not start a thread.
  bool StartWorkers(int count) {
    while (workers_ < count) {
      const int index = workers_ + 1;
      try {
        std::thread([this, index] { Worker(index); }).detach();
      } catch (const std::system_error&) {
        return false;
      }
      ++workers_;
    }
    return true;
  }

  std::atomic<int> threads_{1};
  std::atomic<halide_do_par_for_t> fallback_{nullptr};
  std::atomic<bool> busy_{false};
  std::atomic<uint64_t> generation_{0};
  // The generation of the current loop (high 32 bits), whether it is closed, and how many workers are in it.
  std::atomic<uint64_t> entry_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<int> error_{0};
  Job job_;
  Share shares_[kMaxKernelThreads];
  int workers_ = 0;  // started, all still running (only the thread that holds busy_ starts them)
  std::mutex mutex_;
  std::condition_variable wake_;
};

inline Pool& ThePool() {
  static Pool* const pool = [] {
    Pool* p = new Pool();  // never destroyed: its workers run until the process ends
    p->SetThreads(0);
    return p;
  }();
  return *pool;
}

}  // namespace kernel_threads_internal

// How many threads a kernel's parallel loop uses, the caller's included; 0: HL_NUM_THREADS if set, else one
// per hardware thread.
inline void SetKernelThreads(int threads) { kernel_threads_internal::ThePool().SetThreads(threads); }
inline int KernelThreads() { return kernel_threads_internal::ThePool().Threads(); }

// With halide_do_par_for's signature.
inline int KernelThreadsDoParFor(void* user_context, halide_task_t task, int min, int size, uint8_t* closure) {
  return kernel_threads_internal::ThePool().DoParFor(user_context, task, min, size, closure);
}

// For ahead-of-time kernels, whose Halide runtime is the program's own: runs their parallel loops on the
// pool above (halide_set_num_threads then no longer applies to them; SetKernelThreads does). Loops that
// find the pool taken go to Halide's own pool.
inline void UseKernelThreadsInHalideRuntime() {
  kernel_threads_internal::ThePool().SetFallback(&halide_default_do_par_for);
  halide_set_custom_do_par_for(&KernelThreadsDoParFor);
}

}  // namespace halogen

#endif  // HALOGEN_CODEGEN_KERNEL_THREADS_H_
