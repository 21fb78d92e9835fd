#include "codegen/object_cache.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "codegen/disk_cache.h"
#include "codegen/orc_loader.h"
#include "halogen/dsl/atomic_file.h"

namespace halogen {
namespace codegen {
namespace {

std::atomic<int (*)(int)> loaded_set_num_threads{nullptr};

std::string Versions() {
  return absl::StrCat("halide-", HALIDE_VERSION_MAJOR, ".", HALIDE_VERSION_MINOR, ".", HALIDE_VERSION_PATCH, "/",
                      LoaderSignature(), "/halogen-", HALOGEN_VERSION);
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Reads `key` from the cache, or builds it with `make` and writes it. `rejected` says whether a bad entry
// was found (and removed) on the way.
absl::StatusOr<std::string> CachedOrMade(const DiskCacheOptions& disk, const std::string& key,
                                         const std::function<absl::StatusOr<std::string>()>& make, bool* from_cache) {
  absl::StatusOr<std::string> cached = ReadDiskCacheEntry(disk.dir, key);
  if (cached.ok()) {
    *from_cache = true;
    return cached;
  }
  if (cached.status().code() == absl::StatusCode::kDataLoss) RecordDiskRejected();
  *from_cache = false;
  absl::StatusOr<std::string> made = make();
  if (!made.ok()) return made;
  // A cache that cannot be written (read-only home, full disk) costs speed, not correctness.
  if (WriteDiskCacheEntry(disk.dir, key, *made, disk.max_bytes).ok()) RecordDiskWrite();
  return made;
}

absl::Status EnsureRuntimeLoaded(const Halide::Target& target, const DiskCacheOptions& disk, bool verbose) {
  const Halide::Target runtime_target = target.without_feature(Halide::Target::NoRuntime);
  const std::string key = absl::StrCat("halide-runtime/", runtime_target.to_string(), "/", Versions());
  const auto compile = [&]() -> absl::StatusOr<std::string> {
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<std::string> bytes = CompileToBytes(
        [&](const std::string& path) { Halide::compile_standalone_runtime(path, runtime_target); }, ".o");
    RecordHalideCompile(key, SecondsSince(start));
    return bytes;
  };
  bool from_cache = false;
  absl::StatusOr<std::string> object = CachedOrMade(disk, key, compile, &from_cache);
  if (!object.ok()) return object.status();
  absl::StatusOr<LoadedRuntime> runtime = LoadRuntimeObject(*object);
  if (!runtime.ok() && from_cache) {
    // A cached runtime that does not load: drop it, build a fresh one and try that.
    if (verbose) std::fprintf(stderr, "[halogen] cached runtime did not load (%s); rebuilding\n", std::string(runtime.status().message()).c_str());
    std::remove(DiskCacheEntryPath(disk.dir, key).c_str());
    RecordDiskRejected();
    object = CachedOrMade(disk, key, compile, &from_cache);
    if (!object.ok()) return object.status();
    runtime = LoadRuntimeObject(*object);
  }
  if (!runtime.ok()) return runtime.status();
  loaded_set_num_threads.store(runtime->set_num_threads);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> CompileToBytes(const std::function<void(const std::string& path)>& write,
                                           const char* suffix) {
  std::string path = absl::StrCat("/tmp/halogen_object_XXXXXX", suffix);
  const int fd = mkstemps(path.data(), static_cast<int>(std::string(suffix).size()));
  if (fd < 0) return absl::InternalError("cannot create a temporary file for a compiled kernel");
  close(fd);
  write(path);
  absl::StatusOr<std::string> bytes = ReadWholeFile(path);
  std::remove(path.c_str());
  return bytes;
}

absl::Status BuildFromObjectCache(const std::string& key, const Halide::Target& target, const DiskCacheOptions& disk,
                                  const std::function<void(const std::string& path, const std::string& symbol)>& compile_object,
                                  bool verbose, JitKernel& kernel) {
  if (absl::Status s = EnsureRuntimeLoaded(target, disk, verbose); !s.ok()) return s;
  const std::string full_key = absl::StrCat(key, "/", Versions());
  const std::string symbol = absl::StrFormat("halogen_kernel_%016x", Fnv1a64(full_key));
  const auto compile = [&]() -> absl::StatusOr<std::string> {
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<std::string> bytes = CompileToBytes([&](const std::string& path) { compile_object(path, symbol); }, ".o");
    RecordHalideCompile(key, SecondsSince(start));
    return bytes;
  };
  bool from_cache = false;
  absl::StatusOr<std::string> object = CachedOrMade(disk, full_key, compile, &from_cache);
  if (!object.ok()) return object.status();
  absl::StatusOr<DepthwiseKernelFn> fn = LoadKernelObject(*object, symbol);
  if (!fn.ok() && from_cache) {
    // An entry that passed its checksum but does not load (written by a build that links differently):
    // drop it and compile afresh.
    if (verbose) std::fprintf(stderr, "[halogen] cached kernel did not load (%s); recompiling\n", std::string(fn.status().message()).c_str());
    std::remove(DiskCacheEntryPath(disk.dir, full_key).c_str());
    RecordDiskRejected();
    object = CachedOrMade(disk, full_key, compile, &from_cache);
    if (!object.ok()) return object.status();
    fn = LoadKernelObject(*object, symbol);
  }
  if (!fn.ok()) return fn.status();
  if (from_cache) RecordDiskHit();
  if (verbose) {
    std::fprintf(stderr, "[halogen] kernel %s %s the disk cache (%s)\n", key.c_str(),
                 from_cache ? "loaded from" : "compiled into", DiskCacheEntryPath(disk.dir, full_key).c_str());
  }
  kernel.loaded = *fn;
  return absl::OkStatus();
}

int (*LoadedRuntimeSetNumThreads())(int) { return loaded_set_num_threads.load(); }

}  // namespace codegen
}  // namespace halogen
