#include <any>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "halogen/dsl/ops/depthwise_conv_geometry.h"
#include "halogen/runtime/reference_kernels.h"
#include "runtime/kernels/kernels.h"

namespace halogen {

absl::StatusOr<Tensor> DepthwiseConv2dNativeBackpropFilterKernel(const Node& node,
                                                                 absl::Span<const Tensor* const> inputs,
                                                                 const KernelContext& context) {
  const Tensor& input = *inputs[0];
  const Tensor& filter_sizes = *inputs[1];
  const Tensor& out_backprop = *inputs[2];
  const auto* params = std::any_cast<DepthwiseConvParams>(&node.attrs());
  if (params == nullptr) return absl::InternalError(absl::StrCat(node.name(), ": node has no parameters"));

  if (absl::Status s = ValidateDepthwiseConvDtypes(input.dtype(), out_backprop.dtype()); !s.ok()) return s;
  absl::StatusOr<std::vector<int64_t>> sizes = ValidateFilterSizes(filter_sizes);
  if (!sizes.ok()) return sizes.status();
  absl::StatusOr<DepthwiseConvGeometry> geometry =
      ComputeDepthwiseConvGeometry(*params, input.shape(), *sizes, out_backprop.shape());
  if (!geometry.ok()) return geometry.status();
  absl::StatusOr<TensorShape> output_shape = TensorShape::Make(*sizes);
  if (!output_shape.ok()) return output_shape.status();

  if (context.options.target == Target::kHostOpenCL || context.options.target == Target::kHostCuda) {
    return absl::UnimplementedError(absl::StrCat(node.name(), ": target ", TargetName(context.options.target),
                                                 " has no kernel for this op yet; use host or reference"));
  }
  // The output plus the reference kernel's float64 accumulators must fit under the cap.
  const int64_t cap = context.options.memory_cap_bytes;
  const int64_t output_elements = output_shape->num_elements();
  const int64_t scratch_bytes = output_elements > cap / 8 ? cap + 1 : output_elements * 8;
  if (scratch_bytes > cap) {
    return absl::ResourceExhaustedError(absl::StrCat(
        node.name(), ": the filter gradient ", output_shape->DebugString(),
        " needs more scratch memory than the session's memory cap of ", cap, " bytes"));
  }
  absl::StatusOr<Tensor> output = Tensor::Zeros(input.dtype(), *output_shape, cap - scratch_bytes);
  if (!output.ok()) return output.status();
  if (context.verbose) {
    std::fprintf(stderr, "[halogen] %s: DepthwiseConv2dNativeBackpropFilter %s %s on reference\n",
                 node.name().c_str(), DataTypeName(input.dtype()), DataFormatName(params->format));
  }
  if (absl::Status s = DepthwiseConv2dNativeBackpropFilterReference(*geometry, input, out_backprop, &*output);
      !s.ok()) {
    return s;
  }
  return output;
}

}  // namespace halogen
