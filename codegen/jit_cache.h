// The in-memory kernel cache behind kernel_cache.h: built once per key, safe from many threads (a second
// caller for a key being built waits for that build instead of starting another).
#ifndef HALOGEN_CODEGEN_JIT_CACHE_H_
#define HALOGEN_CODEGEN_JIT_CACHE_H_

#include <functional>
#include <memory>
#include <string>

#include "Halide.h"
#include "absl/status/statusor.h"
#include "codegen/orc_loader.h"

namespace halogen {
namespace codegen {

// A built kernel: a Halide JIT callable, or a function loaded from a cached object.
struct JitKernel {
  std::string key;
  Halide::Callable callable;
  DepthwiseKernelFn loaded = nullptr;
};

using KernelBuilder = std::function<absl::Status(JitKernel& kernel)>;

absl::StatusOr<std::shared_ptr<const JitKernel>> GetOrBuildKernel(const std::string& key, const KernelBuilder& build,
                                                                  bool verbose);

// Builders report what they did, for the counters.
void RecordHalideCompile(const std::string& key, double seconds);
void RecordDiskHit(double seconds);  // a kernel loaded from the disk cache, and how long that took
void RecordDiskWrite();
void RecordDiskRejected();

// Runs `body` with any Halide exception turned into an InternalError naming `what`, so no exception
// crosses halogen's API.
absl::Status CatchHalideErrors(const std::string& what, const std::function<absl::Status()>& body);

}  // namespace codegen
}  // namespace halogen

#endif  // HALOGEN_CODEGEN_JIT_CACHE_H_
