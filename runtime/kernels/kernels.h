// The run-time half of each op: validate the actual inputs, allocate the output under the memory cap,
// dispatch to the target's implementation. One file per op; the table in kernels.cc lists them.
#ifndef HALOGEN_RUNTIME_KERNELS_KERNELS_H_
#define HALOGEN_RUNTIME_KERNELS_KERNELS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "halogen/dsl/graph.h"
#include "halogen/runtime/client_session.h"

namespace halogen {

struct KernelContext {
  const SessionOptions& options;
  bool verbose;  // options.verbose or HALOGEN_VERBOSE=1
};

using OpKernelFn = absl::StatusOr<Tensor> (*)(const Node& node, absl::Span<const Tensor* const> inputs,
                                              const KernelContext& context);

// The kernel for a graph op (Placeholder and Const are handled by the session), or nullptr.
OpKernelFn FindOpKernel(absl::string_view op);

absl::StatusOr<Tensor> DepthwiseConv2dNativeBackpropFilterKernel(const Node& node,
                                                                 absl::Span<const Tensor* const> inputs,
                                                                 const KernelContext& context);

}  // namespace halogen

#endif  // HALOGEN_RUNTIME_KERNELS_KERNELS_H_
