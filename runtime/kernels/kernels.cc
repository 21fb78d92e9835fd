#include "runtime/kernels/kernels.h"

#include "halogen/dsl/ops/depthwise_conv2d_native_backprop_filter.h"

namespace halogen {

OpKernelFn FindOpKernel(absl::string_view op) {
  if (op == ops::DepthwiseConv2dNativeBackpropFilter::kOpName) return &DepthwiseConv2dNativeBackpropFilterKernel;
  return nullptr;
}

}  // namespace halogen
