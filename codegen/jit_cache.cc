#include "codegen/jit_cache.h"

#include <chrono>
#include <cstdio>
#include <future>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "halogen/codegen/kernel_cache.h"

namespace halogen {
namespace codegen {
namespace {

using KernelResult = absl::StatusOr<std::shared_ptr<const JitKernel>>;

struct Cache {
  std::mutex mutex;
  absl::flat_hash_map<std::string, std::shared_future<KernelResult>> kernels;
  KernelCacheStats stats;
};

Cache& TheCache() {
  static Cache* const cache = new Cache();  // never destroyed: kernels may run during exit
  return *cache;
}

}  // namespace

absl::Status CatchHalideErrors(const std::string& what, const std::function<absl::Status()>& body) {
  try {
    return body();
  } catch (const Halide::Error& e) {
    return absl::InternalError(absl::StrCat(what, ": Halide: ", e.what()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(what, ": ", e.what()));
  }
}

KernelResult GetOrCompileKernel(const std::string& key, const KernelCompiler& compile, bool verbose) {
  Cache& cache = TheCache();
  std::promise<KernelResult> promise;
  std::shared_future<KernelResult> future;
  bool compile_here = false;
  {
    std::lock_guard<std::mutex> lock(cache.mutex);
    auto it = cache.kernels.find(key);
    if (it != cache.kernels.end()) {
      ++cache.stats.hits;
      future = it->second;
    } else {
      ++cache.stats.misses;
      future = promise.get_future().share();
      cache.kernels.emplace(key, future);
      compile_here = true;
    }
  }
  if (!compile_here) {
    if (verbose) std::fprintf(stderr, "[halogen] kernel cache hit: %s\n", key.c_str());
    return future.get();
  }

  const auto start = std::chrono::steady_clock::now();
  Halide::Callable callable;
  const absl::Status status = CatchHalideErrors("compiling " + key, [&]() -> absl::Status {
    absl::StatusOr<Halide::Callable> compiled = compile();
    if (!compiled.ok()) return compiled.status();
    callable = *std::move(compiled);
    return absl::OkStatus();
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  KernelResult result = absl::UnknownError("unset");
  if (!status.ok()) {
    result = status;
  } else {
    auto kernel = std::make_shared<JitKernel>();
    kernel->key = key;
    kernel->callable = std::move(callable);
    kernel->compile_seconds = seconds;
    result = std::shared_ptr<const JitKernel>(std::move(kernel));
  }
  {
    std::lock_guard<std::mutex> lock(cache.mutex);
    ++cache.stats.compiles_per_key[key];
    cache.stats.compile_seconds += seconds;
    cache.stats.compile_seconds_per_key[key] += seconds;
    // A failed compile is not cached: the next caller tries again (and gets the same error quickly
    // when it is a property of the request).
    if (!status.ok()) cache.kernels.erase(key);
  }
  if (verbose) {
    std::fprintf(stderr, "[halogen] kernel cache miss: %s compiled in %.3f s%s\n", key.c_str(), seconds,
                 status.ok() ? "" : " (failed)");
  }
  promise.set_value(result);
  return result;
}

KernelCacheStats GetKernelCacheStats() {
  Cache& cache = TheCache();
  std::lock_guard<std::mutex> lock(cache.mutex);
  return cache.stats;
}

}  // namespace codegen
}  // namespace halogen
