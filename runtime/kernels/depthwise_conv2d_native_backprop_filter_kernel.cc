#include <any>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "halogen/codegen/depthwise_conv2d_native_backprop_filter.h"
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

  // The output plus scratch must fit under the cap: the reference kernel keeps a float64 accumulator per
  // output element, the generated kernels up to 256 partial sums of the output's dtype per element.
  const bool reference = context.options.target == Target::kReference;
  const int64_t scratch_per_element = reference ? 8 : 256 * DataTypeSize(input.dtype());
  const int64_t cap = context.options.memory_cap_bytes;
  const int64_t output_elements = output_shape->num_elements();
  const int64_t scratch_bytes =
      output_elements > cap / scratch_per_element ? cap + 1 : output_elements * scratch_per_element;
  if (scratch_bytes > cap) {
    return absl::ResourceExhaustedError(absl::StrCat(
        node.name(), ": the filter gradient ", output_shape->DebugString(),
        " needs more scratch memory than the session's memory cap of ", cap, " bytes"));
  }
  absl::StatusOr<Tensor> output = Tensor::Zeros(input.dtype(), *output_shape, cap - scratch_bytes);
  if (!output.ok()) return output.status();
  absl::Status status;
  if (reference) {
    if (context.verbose) {
      std::fprintf(stderr, "[halogen] %s: DepthwiseConv2dNativeBackpropFilter %s %s on reference\n",
                   node.name().c_str(), DataTypeName(input.dtype()), DataFormatName(params->format));
    }
    status = DepthwiseConv2dNativeBackpropFilterReference(*geometry, input, out_backprop, &*output);
  } else {
    codegen::KernelOptions kernel_options;
    kernel_options.target = context.options.target;
    kernel_options.num_threads = context.options.num_threads;
    kernel_options.verbose = context.verbose;
    if (!context.options.schedule.empty()) {
      absl::StatusOr<codegen::DepthwiseBackpropFilterSchedule> schedule =
          codegen::ParseSchedule(context.options.schedule);
      if (!schedule.ok()) return schedule.status();
      kernel_options.schedule = *schedule;
    }
    status = codegen::RunDepthwiseConv2dNativeBackpropFilter(*geometry, input, out_backprop, kernel_options,
                                                             &*output);
  }
  if (!status.ok()) return absl::Status(status.code(), absl::StrCat(node.name(), ": ", status.message()));
  return output;
}

}  // namespace halogen
