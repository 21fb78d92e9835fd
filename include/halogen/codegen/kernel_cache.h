// The process-wide cache of JIT-compiled kernels: each kernel is compiled once per key
// (op, dtype, layout, target, schedule) and reused by every session and thread. Its counters show
// what was compiled and when it was reused.
#ifndef HALOGEN_CODEGEN_KERNEL_CACHE_H_
#define HALOGEN_CODEGEN_KERNEL_CACHE_H_

#include <cstdint>
#include <map>
#include <string>

namespace halogen {
namespace codegen {

struct KernelCacheStats {
  int64_t hits = 0;      // lookups that found a compiled (or compiling) kernel
  int64_t misses = 0;    // lookups that compiled
  double compile_seconds = 0;                 // total time spent compiling
  std::map<std::string, int> compiles_per_key;  // how often each key was compiled (1 unless a bug)
  std::map<std::string, double> compile_seconds_per_key;
};

KernelCacheStats GetKernelCacheStats();

}  // namespace codegen
}  // namespace halogen

#endif  // HALOGEN_CODEGEN_KERNEL_CACHE_H_
