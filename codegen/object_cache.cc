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

// Compiles an object file with `write` and returns its bytes, counting the time as a compile of `key`.
absl::StatusOr<std::string> CountedCompile(const std::string& key,
                                           const std::function<void(const std::string& path)>& write) {
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::string> bytes = CompileToBytes(write, ".o");
  RecordHalideCompile(key, SecondsSince(start));
  return bytes;
}

// CachedOrMade, then `load`. An entry that passed its checksum but does not load (written by a build that
// links differently) is removed and built afresh, once.
template <typename Loaded>
absl::StatusOr<Loaded> LoadCachedOrMade(const DiskCacheOptions& disk, const std::string& key,
                                        const std::function<absl::StatusOr<std::string>()>& make,
                                        const std::function<absl::StatusOr<Loaded>(const std::string& object)>& load,
                                        const char* what, bool verbose, bool* from_cache) {
  absl::StatusOr<std::string> object = CachedOrMade(disk, key, make, from_cache);
  if (!object.ok()) return object.status();
  absl::StatusOr<Loaded> loaded = load(*object);
  if (loaded.ok() || !*from_cache) return loaded;
  if (verbose) {
    std::fprintf(stderr, "[halogen] cached %s did not load (%s); building it again\n", what,
                 std::string(loaded.status().message()).c_str());
  }
  std::remove(DiskCacheEntryPath(disk.dir, key).c_str());
  RecordDiskRejected();
  object = CachedOrMade(disk, key, make, from_cache);
  if (!object.ok()) return object.status();
  return load(*object);
}

absl::Status EnsureRuntimeLoaded(const Halide::Target& target, const DiskCacheOptions& disk, bool verbose) {
  const Halide::Target runtime_target = target.without_feature(Halide::Target::NoRuntime);
  const std::string key = absl::StrCat("halide-runtime/", runtime_target.to_string(), "/", Versions());
  const auto compile = [&] {
    return CountedCompile(key,
                          [&](const std::string& path) { Halide::compile_standalone_runtime(path, runtime_target); });
  };
  bool from_cache = false;
  absl::StatusOr<LoadedRuntime> runtime =
      LoadCachedOrMade<LoadedRuntime>(disk, key, compile, LoadRuntimeObject, "runtime", verbose, &from_cache);
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
  const auto compile = [&] {
    return CountedCompile(key, [&](const std::string& path) { compile_object(path, symbol); });
  };
  const auto load = [&](const std::string& object) { return LoadKernelObject(object, symbol); };
  bool from_cache = false;
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<DepthwiseKernelFn> fn =
      LoadCachedOrMade<DepthwiseKernelFn>(disk, full_key, compile, load, "kernel", verbose, &from_cache);
  if (!fn.ok()) return fn.status();
  if (from_cache) RecordDiskHit(SecondsSince(start));
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
