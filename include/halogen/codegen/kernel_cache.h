// The kernel caches. In memory, each kernel is built once per key (op, dtype, layout, target, schedule)
// and reused by every session and thread of the process. On disk, host kernels are kept as object files
// that a later process loads through LLVM's ORC JIT instead of compiling them again. The counters show
// what was compiled, loaded and reused.
#ifndef HALOGEN_CODEGEN_KERNEL_CACHE_H_
#define HALOGEN_CODEGEN_KERNEL_CACHE_H_

#include <cstdint>
#include <map>
#include <string>

namespace halogen {
namespace codegen {

struct KernelCacheStats {
  int64_t hits = 0;             // in-memory lookups that found a built (or building) kernel
  int64_t misses = 0;           // in-memory lookups that built one: by compiling or from the disk cache
  int64_t halide_compiles = 0;  // kernels (and runtimes) Halide compiled
  int64_t disk_hits = 0;        // kernels loaded from the disk cache, with no compilation
  int64_t disk_writes = 0;      // entries written to the disk cache
  int64_t disk_rejected = 0;    // entries found corrupt, stale or unloadable, removed and rebuilt
  double compile_seconds = 0;   // total time Halide spent compiling
  double disk_load_seconds = 0; // total time spent loading kernels from the disk cache
  std::map<std::string, int> compiles_per_key;  // how often each key was compiled (at most 1)
  std::map<std::string, double> compile_seconds_per_key;
};

KernelCacheStats GetKernelCacheStats();

struct DiskCacheOptions {
  bool enabled = true;
  std::string dir;                      // where entries live
  int64_t max_bytes = int64_t{512} << 20;  // the oldest entries go beyond this
};

// From the environment: HALOGEN_CACHE_DIR (default $XDG_CACHE_HOME/halogen/kernels, else
// ~/.cache/halogen/kernels), HALOGEN_CACHE_MAX_BYTES, and HALOGEN_DISABLE_DISK_CACHE=1 to turn it off.
DiskCacheOptions DiskCacheOptionsFromEnvironment();

// The process's disk-cache options: from the environment until SetDiskCacheOptions is called. Kernels
// already built are not affected.
DiskCacheOptions GetDiskCacheOptions();
void SetDiskCacheOptions(const DiskCacheOptions& options);

}  // namespace codegen
}  // namespace halogen

#endif  // HALOGEN_CODEGEN_KERNEL_CACHE_H_
