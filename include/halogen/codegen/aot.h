// Ahead-of-time kernels: a static library, its C header and a thin C++ wrapper per kernel, built so that
// a program embeds them with neither Halide nor LLVM. Kernels are generated without the Halide runtime;
// one runtime library (GenerateAotRuntime) serves every kernel library linked into the same program.
#ifndef HALOGEN_CODEGEN_AOT_H_
#define HALOGEN_CODEGEN_AOT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "halogen/codegen/depthwise_conv2d_native_backprop_filter.h"
#include "halogen/dsl/graph.h"

namespace halogen {
namespace codegen {

struct AotKernelRequest {
  std::string name;  // the C function and file stem, a C identifier
  DataType dtype = DataType::kFloat;
  DataFormat format = DataFormat::kNHWC;
  Target target = Target::kHost;
  // CPU variants with runtime dispatch between them, most capable first, e.g. {"avx512", "avx2"}; a
  // baseline x86-64 variant is always added last. Empty: this machine's own features only. Known names:
  // sse41, avx2, avx512.
  std::vector<std::string> cpu_features;
  std::optional<DepthwiseBackpropFilterSchedule> schedule;  // unset: DefaultSchedule
  std::string out_dir;
};

// Writes out_dir/NAME.a, out_dir/NAME.h (the C entry point) and out_dir/NAME_halogen.h (a C++ wrapper
// taking pointers and a DepthwiseShape), plus the headers they include under out_dir/include.
absl::Status GenerateAotKernel(const AotKernelRequest& request);

// One kernel per DepthwiseConv2dNativeBackpropFilter node of `graph`, with the node's dtype and layout,
// named after the node (characters outside [A-Za-z0-9_] become '_', and a leading digit gets a '_').
// Returns the kernel names written.
absl::StatusOr<std::vector<std::string>> GenerateAotKernelsForGraph(const Graph& graph, Target target,
                                                                   const std::vector<std::string>& cpu_features,
                                                                   const std::string& out_dir);

// Writes out_dir/NAME.a: the Halide runtime for `target` (a host-cuda or host-opencl runtime also
// serves host kernels), to link once per program.
absl::Status GenerateAotRuntime(Target target, const std::string& out_dir, const std::string& name);

}  // namespace codegen
}  // namespace halogen

#endif  // HALOGEN_CODEGEN_AOT_H_
