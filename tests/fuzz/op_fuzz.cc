// libFuzzer target: the op end to end on small, arbitrary (often invalid) parameters. Every call either
// fails with a clean status or, on the generated host kernel, matches the direct definition within
// SPEC's float64 bound. Kernels compile once per key, so after warm-up this runs at full speed.
#include <cstdlib>
#include <random>

#include "tests/test_util.h"

using namespace halogen;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 16) return 0;
  const auto byte = [&](size_t i) { return static_cast<int>(data[i]); };
  const bool nhwc = byte(0) & 1;
  const int n = byte(1) % 3, h = byte(2) % 9, w = byte(3) % 9, c = 1 + byte(4) % 4, m = 1 + byte(5) % 3;
  const int fh = byte(6) % 5, fw = byte(7) % 5, stride = byte(8) % 4 - (byte(8) >= 250 ? 5 : 0);
  const int dil = 1 + byte(9) % 3 - (byte(9) >= 250 ? 2 : 0);
  const char* paddings[] = {"SAME", "VALID", "EXPLICIT", "BOGUS"};
  const std::string padding = paddings[byte(10) % 4];
  // Output rows/cols are taken from the bytes too, so mismatches are exercised as often as matches.
  const int oh = byte(11) % 10, ow = byte(12) % 10;
  std::vector<int> pads;
  if (padding == "EXPLICIT" || byte(13) % 8 == 0) {
    const int t = byte(13) % 4, b = byte(14) % 4, l = byte(15) % 4, r = (byte(13) / 4) % 4;
    pads = nhwc ? std::vector<int>{0, 0, t, b, l, r, 0, 0} : std::vector<int>{0, 0, 0, 0, t, b, l, r};
  }
  const TensorShape x_shape = nhwc ? TensorShape{n, h, w, c} : TensorShape{n, c, h, w};
  const TensorShape dy_shape = nhwc ? TensorShape{n, oh, ow, c * m} : TensorShape{n, c * m, oh, ow};
  std::mt19937_64 rng(size);
  const Tensor x = testing::RandomTensor<double>(x_shape, rng);
  const Tensor dy = testing::RandomTensor<double>(dy_shape, rng);
  Scope root = Scope::NewRootScope();
  auto dw = ops::DepthwiseConv2dNativeBackpropFilter(
      root, ops::Const(root, x), {fh, fw, c, m}, ops::Const(root, dy),
      nhwc ? std::vector<int>{1, stride, stride, 1} : std::vector<int>{1, 1, stride, stride}, padding,
      ops::DepthwiseConv2dNativeBackpropFilter::DataFormat(nhwc ? "NHWC" : "NCHW")
          .Dilations(nhwc ? std::vector<int>{1, dil, dil, 1} : std::vector<int>{1, 1, dil, dil})
          .ExplicitPaddings(pads));
  std::vector<Tensor> outputs;
  const absl::Status status = ClientSession(root).Run({dw}, &outputs);
  if (!status.ok()) {
    if (status.code() != absl::StatusCode::kInvalidArgument && status.code() != absl::StatusCode::kResourceExhausted) {
      std::abort();  // only bad input may fail
    }
    return 0;
  }
  // Valid: recompute the geometry the way the op does and compare with the definition.
  auto params = ValidateDepthwiseConvAttrs(
      nhwc ? std::vector<int>{1, stride, stride, 1} : std::vector<int>{1, 1, stride, stride}, padding,
      ops::DepthwiseConv2dNativeBackpropFilter::DataFormat(nhwc ? "NHWC" : "NCHW")
          .Dilations(nhwc ? std::vector<int>{1, dil, dil, 1} : std::vector<int>{1, 1, dil, dil})
          .ExplicitPaddings(pads));
  const int64_t sizes[] = {fh, fw, c, m};
  auto geometry = ComputeDepthwiseConvGeometry(*params, x_shape, sizes, dy_shape);
  if (!params.ok() || !geometry.ok()) std::abort();
  if (!testing::CompareWithDirectDefinition<double>(*geometry, x, dy, outputs[0]).empty()) std::abort();
  return 0;
}
