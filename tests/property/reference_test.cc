// The reference kernel against SPEC's formula evaluated literally (tests/test_util.h), on random shapes
// in both layouts, both dtypes, all paddings, strides 1-3, dilations 1-3 and multipliers 1-4.
#include <catch2/catch.hpp>

#include <random>

#include "halogen/dsl/ops/basic.h"
#include "halogen/dsl/ops/depthwise_conv2d_native_backprop_filter.h"
#include "halogen/runtime/client_session.h"
#include "tests/test_util.h"

using namespace halogen;  // NOLINT
using Op = ops::DepthwiseConv2dNativeBackpropFilter;

namespace {

template <typename T>
void CheckRandomCases(DataFormat format, uint64_t seed, int count) {
  std::mt19937_64 rng(seed);
  for (int i = 0; i < count; ++i) {
    const testing::RandomCase c = testing::DrawRandomCase(rng, format);
    const DepthwiseConvGeometry& g = c.geometry;
    const Tensor x = testing::RandomTensor<T>(testing::InputShape(g), rng);
    const Tensor dy = testing::RandomTensor<T>(testing::OutBackpropShape(g), rng);
    INFO("case " << i << ": " << x.shape().DebugString() << " filter " << g.filter_rows << "x" << g.filter_cols
                 << " m" << g.multiplier << " stride " << g.stride << " dilation " << g.dilation_rows << ","
                 << g.dilation_cols << " " << c.padding << " " << DataFormatName(format));
    SessionOptions options;
    options.target = Target::kReference;
    absl::StatusOr<Tensor> got = testing::RunCase(c, x, dy, options);
    REQUIRE(got.ok());
    REQUIRE(testing::CompareWithDirectDefinition<T>(g, x, dy, *got) == "");
  }
}

}  // namespace

TEST_CASE("reference kernel matches the direct definition: NHWC float") { CheckRandomCases<float>(DataFormat::kNHWC, 1, 150); }
TEST_CASE("reference kernel matches the direct definition: NCHW float") { CheckRandomCases<float>(DataFormat::kNCHW, 2, 150); }
TEST_CASE("reference kernel matches the direct definition: NHWC double") { CheckRandomCases<double>(DataFormat::kNHWC, 3, 150); }
TEST_CASE("reference kernel matches the direct definition: NCHW double") { CheckRandomCases<double>(DataFormat::kNCHW, 4, 150); }

TEST_CASE("TensorFlow's hand-computed 2x2 filter case, as a filter gradient") {
  // testConv2D2x2Filter: input [1,2,3,2] = 1..12, filter [2,2,2,2] = 1..16, VALID gives
  // y = [196, 216, 272, 296, 252, 280, 344, 376] (shape [1,1,2,4]). For L = <y, dy> with dy = y, the
  // filter gradient is dW[kh,kw,c,m] = sum_ow x[kh, ow+kw, c] * y[ow, c*2+m].
  std::vector<double> x(12), y = {196, 216, 272, 296, 252, 280, 344, 376};
  for (int i = 0; i < 12; ++i) x[i] = i + 1;
  Scope root = Scope::NewRootScope();
  auto dw = Op(root, ops::Const(root, x, {1, 2, 3, 2}), {2, 2, 2, 2}, ops::Const(root, y, {1, 1, 2, 4}),
               {1, 1, 1, 1}, "VALID");
  std::vector<Tensor> outputs;
  REQUIRE(ClientSession(root).Run({dw}, &outputs).ok());
  const auto got = outputs[0].flat<double>();
  auto X = [&](int h, int w, int c) { return x[(h * 3 + w) * 2 + c]; };
  for (int kh = 0; kh < 2; ++kh)
    for (int kw = 0; kw < 2; ++kw)
      for (int c = 0; c < 2; ++c)
        for (int m = 0; m < 2; ++m) {
          double want = 0;
          for (int ow = 0; ow < 2; ++ow) want += X(kh, ow + kw, c) * y[ow * 4 + c * 2 + m];
          CHECK(got[((kh * 2 + kw) * 2 + c) * 2 + m] == want);
        }
  // And the forward values themselves follow from the same data: y[0] = sum x[kh,kw,0]*w[kh,kw,0,0].
  double y0 = 0;
  for (int kh = 0; kh < 2; ++kh)
    for (int kw = 0; kw < 2; ++kw) y0 += X(kh, kw, 0) * (((kh * 2 + kw) * 2 + 0) * 2 + 0 + 1);
  CHECK(y0 == 196);
}
