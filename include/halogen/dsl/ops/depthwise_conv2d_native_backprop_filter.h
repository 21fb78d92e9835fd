// ops::DepthwiseConv2dNativeBackpropFilter — the gradient of a depthwise 2-D convolution with respect
// to its filter (TensorFlow's op of the same name; contract in SPEC.md).
//
//   auto dw = ops::DepthwiseConv2dNativeBackpropFilter(
//       scope, input, {3, 3, 32, 1}, out_backprop, {1, 2, 2, 1}, "SAME",
//       ops::DepthwiseConv2dNativeBackpropFilter::Attrs().DataFormat("NHWC"));
//
// input [N,H,W,C] (NCHW: [N,C,H,W]), filter_sizes int32 [FH,FW,C,M], out_backprop [N,OH,OW,C*M]
// (NCHW: [N,C*M,OH,OW]); the output is [FH,FW,C,M] in either layout. Attribute errors are reported
// when the node is built; shape errors as soon as the shapes are known (build time for Consts and
// shaped Placeholders, otherwise when the session runs).
#ifndef HALOGEN_DSL_OPS_DEPTHWISE_CONV2D_NATIVE_BACKPROP_FILTER_H_
#define HALOGEN_DSL_OPS_DEPTHWISE_CONV2D_NATIVE_BACKPROP_FILTER_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "halogen/dsl/graph.h"
#include "halogen/dsl/scope.h"

namespace halogen {
namespace ops {

class DepthwiseConv2dNativeBackpropFilter {
 public:
  static constexpr const char* kOpName = "DepthwiseConv2dNativeBackpropFilter";

  struct Attrs {
    // "NHWC" (default) or "NCHW": the layout of input and out_backprop, and of strides and dilations.
    Attrs DataFormat(absl::string_view x) const {
      Attrs copy = *this;
      copy.data_format_ = std::string(x);
      return copy;
    }
    // 4 ints in data_format order; default 1,1,1,1.
    Attrs Dilations(absl::Span<const int> x) const {
      Attrs copy = *this;
      copy.dilations_.assign(x.begin(), x.end());
      return copy;
    }
    // 8 ints, (before, after) per dimension in data_format order; only with padding "EXPLICIT".
    Attrs ExplicitPaddings(absl::Span<const int> x) const {
      Attrs copy = *this;
      copy.explicit_paddings_.assign(x.begin(), x.end());
      return copy;
    }

    std::string data_format_ = "NHWC";
    std::vector<int64_t> dilations_ = {1, 1, 1, 1};
    std::vector<int64_t> explicit_paddings_;
  };
  static Attrs DataFormat(absl::string_view x) { return Attrs().DataFormat(x); }
  static Attrs Dilations(absl::Span<const int> x) { return Attrs().Dilations(x); }
  static Attrs ExplicitPaddings(absl::Span<const int> x) { return Attrs().ExplicitPaddings(x); }

  DepthwiseConv2dNativeBackpropFilter(const Scope& scope, Input input, Input filter_sizes,
                                      Input out_backprop, absl::Span<const int> strides,
                                      absl::string_view padding, const Attrs& attrs);
  DepthwiseConv2dNativeBackpropFilter(const Scope& scope, Input input, Input filter_sizes,
                                      Input out_backprop, absl::Span<const int> strides,
                                      absl::string_view padding);

  operator Output() const { return output; }  // NOLINT: implicit, as in TensorFlow
  Node* node() const { return output.node(); }

  Output output;  // [FH, FW, C, M], the dtype of input
};

}  // namespace ops
}  // namespace halogen

#endif  // HALOGEN_DSL_OPS_DEPTHWISE_CONV2D_NATIVE_BACKPROP_FILTER_H_
