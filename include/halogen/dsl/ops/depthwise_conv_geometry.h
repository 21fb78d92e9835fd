// The validated form of a DepthwiseConv2dNativeBackpropFilter node, shared by build-time shape inference,
// the session's run-time checks, the reference kernel and the code generator, so every rule of SPEC.md
// is written once.
#ifndef HALOGEN_DSL_OPS_DEPTHWISE_CONV_GEOMETRY_H_
#define HALOGEN_DSL_OPS_DEPTHWISE_CONV_GEOMETRY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "halogen/dsl/conv_arithmetic.h"
#include "halogen/dsl/ops/depthwise_conv2d_native_backprop_filter.h"
#include "halogen/dsl/tensor.h"

namespace halogen {

// The node's attributes after the attr rules passed (stored as the node's attrs()).
struct DepthwiseConvParams {
  DataFormat format = DataFormat::kNHWC;
  int64_t stride = 1;                    // rows == cols, checked
  int64_t dilation_rows = 1;
  int64_t dilation_cols = 1;
  Padding padding = Padding::kSame;
  std::vector<int64_t> explicit_paddings;  // 8 values for kExplicit, empty otherwise
};

// Every attr rule (strides, data_format, padding, explicit_paddings, dilations).
absl::StatusOr<DepthwiseConvParams> ValidateDepthwiseConvAttrs(
    absl::Span<const int> strides, absl::string_view padding,
    const ops::DepthwiseConv2dNativeBackpropFilter::Attrs& attrs);

// Every size of one evaluation, all in elements.
struct DepthwiseConvGeometry {
  DataFormat format = DataFormat::kNHWC;
  int64_t batch = 0, in_rows = 0, in_cols = 0, channels = 0, multiplier = 0;
  int64_t filter_rows = 0, filter_cols = 0, out_rows = 0, out_cols = 0;
  int64_t stride = 1, dilation_rows = 1, dilation_cols = 1;
  int64_t pad_top = 0, pad_left = 0;  // the bottom/right pads follow from the sizes

  int64_t out_depth() const { return channels * multiplier; }
  // Multiply-adds of the whole reduction (FLOPs / 2).
  int64_t multiply_adds() const {
    return batch * out_rows * out_cols * channels * multiplier * filter_rows * filter_cols;
  }
};

// filter_sizes must be an int32 vector of non-negative values.
absl::StatusOr<std::vector<int64_t>> ValidateFilterSizes(const Tensor& filter_sizes);

// The shape rules: ranks, batch, depths, output size, out_backprop rows/cols, int64 overflow.
absl::StatusOr<DepthwiseConvGeometry> ComputeDepthwiseConvGeometry(
    const DepthwiseConvParams& params, const TensorShape& input_shape,
    absl::Span<const int64_t> filter_sizes, const TensorShape& out_backprop_shape);

// The dtype rules: input and out_backprop agree and are float or double.
absl::Status ValidateDepthwiseConvDtypes(DataType input, DataType out_backprop);

}  // namespace halogen

#endif  // HALOGEN_DSL_OPS_DEPTHWISE_CONV_GEOMETRY_H_
