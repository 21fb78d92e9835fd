#include "codegen/jit_cache.h"

#include <chrono>
#include <cstdio>
#include <future>
#include <cstdlib>
#include <mutex>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
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

KernelResult GetOrBuildKernel(const std::string& key, const KernelBuilder& build, bool verbose) {
  Cache& cache = TheCache();
  std::promise<KernelResult> promise;
  std::shared_future<KernelResult> future;
  bool build_here = false;
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
      build_here = true;
    }
  }
  if (!build_here) {
    if (verbose) std::fprintf(stderr, "[halogen] kernel cache hit: %s\n", key.c_str());
    return future.get();
  }

  const auto start = std::chrono::steady_clock::now();
  auto kernel = std::make_shared<JitKernel>();
  kernel->key = key;
  const absl::Status status = CatchHalideErrors("building " + key, [&] { return build(*kernel); });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  KernelResult result = absl::UnknownError("unset");
  if (status.ok()) {
    result = std::shared_ptr<const JitKernel>(std::move(kernel));
  } else {
    result = status;
    // A failed build is not cached: the next caller tries again (and gets the same error quickly when it
    // is a property of the request).
    std::lock_guard<std::mutex> lock(cache.mutex);
    cache.kernels.erase(key);
  }
  if (verbose) {
    std::fprintf(stderr, "[halogen] kernel cache miss: %s built in %.3f s%s\n", key.c_str(), seconds,
                 status.ok() ? "" : " (failed)");
  }
  promise.set_value(result);
  return result;
}

void RecordHalideCompile(const std::string& key, double seconds) {
  Cache& cache = TheCache();
  std::lock_guard<std::mutex> lock(cache.mutex);
  ++cache.stats.halide_compiles;
  ++cache.stats.compiles_per_key[key];
  cache.stats.compile_seconds += seconds;
  cache.stats.compile_seconds_per_key[key] += seconds;
}

void RecordDiskHit(double seconds) {
  std::lock_guard<std::mutex> lock(TheCache().mutex);
  ++TheCache().stats.disk_hits;
  TheCache().stats.disk_load_seconds += seconds;
}

void RecordDiskWrite() {
  std::lock_guard<std::mutex> lock(TheCache().mutex);
  ++TheCache().stats.disk_writes;
}

void RecordDiskRejected() {
  std::lock_guard<std::mutex> lock(TheCache().mutex);
  ++TheCache().stats.disk_rejected;
}

DiskCacheOptions DiskCacheOptionsFromEnvironment() {
  DiskCacheOptions options;
  const char* disable = std::getenv("HALOGEN_DISABLE_DISK_CACHE");
  options.enabled = disable == nullptr || disable[0] == '\0' || disable[0] == '0';
  if (const char* dir = std::getenv("HALOGEN_CACHE_DIR"); dir != nullptr && dir[0] != '\0') {
    options.dir = dir;
  } else if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && xdg[0] != '\0') {
    options.dir = std::string(xdg) + "/halogen/kernels";
  } else if (const char* home = std::getenv("HOME"); home != nullptr && home[0] != '\0') {
    options.dir = std::string(home) + "/.cache/halogen/kernels";
  } else {
    options.enabled = false;  // nowhere to keep it
  }
  if (const char* max = std::getenv("HALOGEN_CACHE_MAX_BYTES"); max != nullptr) {
    int64_t bytes = 0;
    if (absl::SimpleAtoi(max, &bytes) && bytes > 0) options.max_bytes = bytes;
  }
  return options;
}

namespace {
std::mutex disk_options_mutex;
std::optional<DiskCacheOptions> disk_options;
}  // namespace

DiskCacheOptions GetDiskCacheOptions() {
  std::lock_guard<std::mutex> lock(disk_options_mutex);
  if (!disk_options) disk_options = DiskCacheOptionsFromEnvironment();
  return *disk_options;
}

void SetDiskCacheOptions(const DiskCacheOptions& options) {
  std::lock_guard<std::mutex> lock(disk_options_mutex);
  disk_options = options;
}

KernelCacheStats GetKernelCacheStats() {
  Cache& cache = TheCache();
  std::lock_guard<std::mutex> lock(cache.mutex);
  return cache.stats;
}

}  // namespace codegen
}  // namespace halogen
