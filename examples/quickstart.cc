// The seed example: the filter gradient of a stride-2 SAME depthwise convolution, built and run the way
// a TensorFlow C++ user would write it.
#include <cstdio>
#include <vector>

#include "halogen/dsl/ops/basic.h"
#include "halogen/dsl/ops/depthwise_conv2d_native_backprop_filter.h"
#include "halogen/dsl/scope.h"
#include "halogen/runtime/client_session.h"

int main() {
  using namespace halogen;  // NOLINT: an example
  Scope scope = Scope::NewRootScope();

  // A batch of 2 images, 8x8, 4 channels (NHWC), and the gradient flowing back from a 3x3, stride-2,
  // SAME depthwise convolution with depth multiplier 1: 4x4 outputs.
  std::vector<float> x_values(2 * 8 * 8 * 4), dy_values(2 * 4 * 4 * 4);
  for (size_t i = 0; i < x_values.size(); ++i) x_values[i] = static_cast<float>(i % 7) / 7.0f;
  for (size_t i = 0; i < dy_values.size(); ++i) dy_values[i] = static_cast<float>(i % 5) / 5.0f - 0.4f;

  auto input = ops::Const(scope.WithOpName("input"), x_values, {2, 8, 8, 4});
  auto out_backprop = ops::Const(scope.WithOpName("out_backprop"), dy_values, {2, 4, 4, 4});
  auto filter_grad = ops::DepthwiseConv2dNativeBackpropFilter(
      scope.WithOpName("filter_grad"), input, /*filter_sizes=*/{3, 3, 4, 1}, out_backprop,
      /*strides=*/{1, 2, 2, 1}, "SAME",
      ops::DepthwiseConv2dNativeBackpropFilter::Attrs().DataFormat("NHWC"));

  ClientSession session(scope);
  std::vector<Tensor> outputs;
  if (absl::Status status = session.Run({filter_grad}, &outputs); !status.ok()) {
    std::fprintf(stderr, "error: %s\n", status.ToString().c_str());
    return 1;
  }
  const Tensor& dw = outputs[0];
  std::printf("filter gradient: %s %s\n", DataTypeName(dw.dtype()), dw.shape().DebugString().c_str());
  auto values = dw.flat<float>();
  std::printf("dW[0, 0, :, 0] = %.6f %.6f %.6f %.6f\n", values[0], values[1], values[2], values[3]);
  std::printf("dW[1, 1, :, 0] = %.6f %.6f %.6f %.6f\n", values[16], values[17], values[18], values[19]);
  return 0;
}
