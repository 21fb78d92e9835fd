// Host kernels through the disk cache: load a cached object with ORC, or compile one, cache it and load it.
#ifndef HALOGEN_CODEGEN_OBJECT_CACHE_H_
#define HALOGEN_CODEGEN_OBJECT_CACHE_H_

#include <functional>
#include <string>

#include "Halide.h"
#include "absl/status/statusor.h"
#include "codegen/jit_cache.h"
#include "halogen/codegen/kernel_cache.h"

namespace halogen {
namespace codegen {

// Writes a file through `write` (given a fresh temporary path ending in `suffix`), returns its bytes and
// removes it.
absl::StatusOr<std::string> CompileToBytes(const std::function<void(const std::string& path)>& write,
                                           const char* suffix);

// Fills kernel.loaded. `compile_object(path, symbol)` writes an object file (without the Halide runtime)
// defining `symbol`; it runs only when the cache has no loadable entry. Everything that shapes the code
// is in the entry's key: `key` (op, dtype, layout, target with its CPU features, schedule) plus the
// Halide, LLVM and halogen versions and the loader's relocation and code model.
absl::Status BuildFromObjectCache(const std::string& key, const Halide::Target& target, const DiskCacheOptions& disk,
                                  const std::function<void(const std::string& path, const std::string& symbol)>& compile_object,
                                  bool verbose, JitKernel& kernel);

// The loaded runtime's thread-count setter, once a kernel has been loaded (else nullptr).
int (*LoadedRuntimeSetNumThreads())(int);

}  // namespace codegen
}  // namespace halogen

#endif  // HALOGEN_CODEGEN_OBJECT_CACHE_H_
