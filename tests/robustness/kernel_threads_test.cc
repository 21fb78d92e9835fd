// The pool that runs the kernels' parallel loops (kernel_threads.h): every iteration exactly once whatever
// the loop's size and the thread count, across the spin and the sleep between loops; a task's error
// returned; loops from several threads at once and loops inside a task (which the pool hands elsewhere)
// all complete. The concurrency test runs real kernels on it from eight threads.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "HalideRuntime.h"
#include "halogen/codegen/kernel_threads.h"

using namespace halogen;  // NOLINT

namespace {

// How many times each index from `first` on has run.
struct Counts {
  std::vector<std::atomic<int>> runs;
  int first;
  explicit Counts(int n, int first_index = 0) : runs(n), first(first_index) {}
};

int CountTask(void* user_context, int index, uint8_t* /*closure*/) {
  auto* counts = static_cast<Counts*>(user_context);
  counts->runs[index - counts->first].fetch_add(1);
  return 0;
}

// Restores the thread count when a case ends.
struct ThreadsRestored {
  int before = KernelThreads();
  ~ThreadsRestored() { SetKernelThreads(before); }
};

}  // namespace

TEST_CASE("kernel threads: every iteration runs once, for any loop size and thread count") {
  ThreadsRestored restore;
  for (int threads : {1, 2, 3, 5}) {
    SetKernelThreads(threads);
    REQUIRE(KernelThreads() == threads);
    for (int size : {0, 1, 2, 7, 16, 100}) {
      for (int call = 0; call < 40; ++call) {
        INFO("threads " << threads << ", size " << size << ", call " << call);
        const int min = call % 3 - 1;  // loops need not start at 0
        Counts counts(size + 2, min - 1);  // one index on either side of the loop's, which must not run
        const int error = KernelThreadsDoParFor(&counts, CountTask, min, size, nullptr);
        REQUIRE(error == 0);
        REQUIRE(counts.runs[0].load() == 0);
        for (int i = 1; i <= size; ++i) REQUIRE(counts.runs[i].load() == 1);
        REQUIRE(counts.runs[size + 1].load() == 0);
        // Now and then let the workers' spin run out, so that they sleep and are woken.
        if (call % 10 == 9) std::this_thread::sleep_for(std::chrono::microseconds(3 * kKernelThreadSpinMicros));
      }
    }
  }
}

TEST_CASE("kernel threads: a task's error is the loop's result, and the other tasks still run") {
  ThreadsRestored restore;
  SetKernelThreads(2);
  Counts counts(64);
  const int error = KernelThreadsDoParFor(&counts, [](void* uc, int index, uint8_t*) {
    CountTask(uc, index, nullptr);
    return index == 37 ? -17 : 0;
  }, 0, 64, nullptr);
  REQUIRE(error == -17);
  for (int i = 0; i < 64; ++i) REQUIRE(counts.runs[i].load() == 1);
}

TEST_CASE("kernel threads: the work of a loop is shared by the caller and the workers") {
  ThreadsRestored restore;
  SetKernelThreads(2);
  // Tasks long enough that a sleeping worker wakes while the caller is still on its own share.
  std::set<std::thread::id> seen_in_a_loop;
  size_t most_threads = 0;
  for (int call = 0; call < 20 && most_threads < 2; ++call) {
    struct Seen {
      std::mutex mutex;
      std::set<std::thread::id> ids;
    } seen;
    REQUIRE(KernelThreadsDoParFor(&seen, [](void* uc, int, uint8_t*) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      auto* s = static_cast<Seen*>(uc);
      std::lock_guard<std::mutex> lock(s->mutex);
      s->ids.insert(std::this_thread::get_id());
      return 0;
    }, 0, 8, nullptr) == 0);
    most_threads = std::max(most_threads, seen.ids.size());
  }
  REQUIRE(most_threads == 2);
}

TEST_CASE("kernel threads: loops from several threads at once and loops inside tasks all complete") {
  ThreadsRestored restore;
  SetKernelThreads(3);
  // Loops that find the pool taken go to the fallback (in the library and the embed example Halide's own
  // pool; here one that counts them and runs them on the calling thread).
  static std::atomic<int> handed_over{0};
  handed_over = 0;
  kernel_threads_internal::ThePool().SetFallback([](void* uc, halide_task_t task, int min, int size, uint8_t* closure) {
    handed_over.fetch_add(1);
    int error = 0;
    for (int i = min; i < min + size; ++i) error = error != 0 ? error : task(uc, i, closure);
    return error;
  });
  std::atomic<int> wrong{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&] {
      for (int call = 0; call < 200; ++call) {
        Counts outer(12);
        const int error = KernelThreadsDoParFor(&outer, [](void* uc, int index, uint8_t*) {
          // A loop inside a task: the pool is taken by this very loop.
          Counts inner(5);
          if (KernelThreadsDoParFor(&inner, CountTask, 0, 5, nullptr) != 0) return 1;
          for (auto& r : inner.runs) {
            if (r.load() != 1) return 2;
          }
          return CountTask(uc, index, nullptr);
        }, 0, 12, nullptr);
        bool once = true;
        for (auto& r : outer.runs) once = once && r.load() == 1;
        if (error != 0 || !once) wrong.fetch_add(1);
      }
    });
  }
  for (auto& c : callers) c.join();
  kernel_threads_internal::ThePool().SetFallback(nullptr);
  REQUIRE(wrong.load() == 0);
  // The loops inside the tasks of a loop on the pool found it taken (and the first loop is on the pool).
  REQUIRE(handed_over.load() > 0);
}
