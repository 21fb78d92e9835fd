// The kernel cache behind kernel_cache.h: compile-once per key, safe from many threads (a second caller
// for a key being compiled waits for that compile instead of starting another).
#ifndef HALOGEN_CODEGEN_JIT_CACHE_H_
#define HALOGEN_CODEGEN_JIT_CACHE_H_

#include <functional>
#include <memory>
#include <string>

#include "Halide.h"
#include "absl/status/statusor.h"

namespace halogen {
namespace codegen {

struct JitKernel {
  std::string key;
  Halide::Callable callable;
  double compile_seconds = 0;
};

using KernelCompiler = std::function<absl::StatusOr<Halide::Callable>()>;

absl::StatusOr<std::shared_ptr<const JitKernel>> GetOrCompileKernel(const std::string& key,
                                                                   const KernelCompiler& compile,
                                                                   bool verbose);

// Runs `body` with any Halide exception turned into an InternalError naming `what`, so no exception
// crosses halogen's API.
absl::Status CatchHalideErrors(const std::string& what, const std::function<absl::Status()>& body);

}  // namespace codegen
}  // namespace halogen

#endif  // HALOGEN_CODEGEN_JIT_CACHE_H_
