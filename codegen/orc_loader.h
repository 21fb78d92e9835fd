// Loads cached kernel objects into this process with LLVM's ORC LLJIT, beside one Halide runtime object,
// so a later process runs a kernel without compiling it again. Each kernel lives in its own JITDylib
// linked against the runtime's, so a kernel that fails to load (wrong format, missing or duplicate
// symbol) is dropped alone and the caller recompiles.
#ifndef HALOGEN_CODEGEN_ORC_LOADER_H_
#define HALOGEN_CODEGEN_ORC_LOADER_H_

#include <string>

#include "HalideRuntime.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "halogen/codegen/depthwise_kernel_args.h"  // DepthwiseKernelFn

namespace halogen {
namespace codegen {

// The loaded runtime's entry points that halogen calls.
struct LoadedRuntime {
  int (*set_num_threads)(int) = nullptr;
};

// Loads the Halide runtime object once per process: once it has loaded, later calls return it and ignore
// `object`; after a failure, the next call tries again with its own object.
absl::StatusOr<LoadedRuntime> LoadRuntimeObject(absl::string_view object);

// Loads a kernel object and returns its function `symbol`. Requires the runtime to be loaded.
absl::StatusOr<DepthwiseKernelFn> LoadKernelObject(absl::string_view object, const std::string& symbol);

// Run-time errors of loaded kernels, reported through the loaded runtime's error handler: the messages
// since the last call on this thread.
std::string TakeLoadedKernelErrors();

// What the loader's code-generation assumptions are, for the cache key: LLVM version, relocation model
// and code model.
std::string LoaderSignature();

}  // namespace codegen
}  // namespace halogen

#endif  // HALOGEN_CODEGEN_ORC_LOADER_H_
