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

struct RandomCase {
  DepthwiseConvGeometry geometry;
  std::vector<int> strides;
  std::string padding;
  Op::Attrs attrs;
};

// Draws a valid case; the geometry comes from the library's own arithmetic, which has its own tests.
RandomCase Draw(std::mt19937_64& rng, DataFormat format) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (;;) {
    RandomCase c;
    const int stride = pick(1, 3), dh = pick(1, 3), dw = pick(1, 3);
    const int kh = pick(1, 5), kw = pick(1, 5);
    const int n = pick(0, 3), h = pick(1, 13), w = pick(1, 13), ch = pick(1, 9), m = pick(1, 4);
    const int padding = pick(0, 2);
    const bool nhwc = format == DataFormat::kNHWC;
    c.strides = nhwc ? std::vector<int>{1, stride, stride, 1} : std::vector<int>{1, 1, stride, stride};
    c.attrs = Op::DataFormat(nhwc ? "NHWC" : "NCHW")
                  .Dilations(nhwc ? std::vector<int>{1, dh, dw, 1} : std::vector<int>{1, 1, dh, dw});
    DepthwiseConvParams params;
    params.format = format;
    params.stride = stride;
    params.dilation_rows = dh;
    params.dilation_cols = dw;
    params.padding = padding == 0 ? Padding::kSame : padding == 1 ? Padding::kValid : Padding::kExplicit;
    c.padding = PaddingName(params.padding);
    if (params.padding == Padding::kExplicit) {
      const int t = pick(0, 4), b = pick(0, 4), l = pick(0, 4), r = pick(0, 4);
      params.explicit_paddings = nhwc ? std::vector<int64_t>{0, 0, t, b, l, r, 0, 0}
                                      : std::vector<int64_t>{0, 0, 0, 0, t, b, l, r};
      c.attrs = c.attrs.ExplicitPaddings(std::vector<int>(params.explicit_paddings.begin(),
                                                          params.explicit_paddings.end()));
    }
    const int64_t sizes[] = {kh, kw, ch, m};
    // Output rows/cols are what the op computes; a first pass with a placeholder out_backprop shape
    // learns them from the error-free arithmetic.
    auto rows = ComputeWindowedDim(h, kh, dh, stride, params.padding,
                                   params.explicit_paddings.empty() ? 0 : params.explicit_paddings[nhwc ? 2 : 4],
                                   params.explicit_paddings.empty() ? 0 : params.explicit_paddings[nhwc ? 3 : 5]);
    auto cols = ComputeWindowedDim(w, kw, dw, stride, params.padding,
                                   params.explicit_paddings.empty() ? 0 : params.explicit_paddings[nhwc ? 4 : 6],
                                   params.explicit_paddings.empty() ? 0 : params.explicit_paddings[nhwc ? 5 : 7]);
    if (!rows.ok() || !cols.ok()) continue;  // filter larger than a VALID input: draw again
    const TensorShape in_shape = nhwc ? TensorShape{n, h, w, ch} : TensorShape{n, ch, h, w};
    const TensorShape dy_shape = nhwc ? TensorShape{n, rows->output_size, cols->output_size, ch * m}
                                      : TensorShape{n, ch * m, rows->output_size, cols->output_size};
    auto geometry = ComputeDepthwiseConvGeometry(params, in_shape, sizes, dy_shape);
    REQUIRE(geometry.ok());
    c.geometry = *geometry;
    return c;
  }
}

template <typename T>
void CheckRandomCases(DataFormat format, uint64_t seed, int count) {
  std::mt19937_64 rng(seed);
  for (int i = 0; i < count; ++i) {
    const RandomCase c = Draw(rng, format);
    const DepthwiseConvGeometry& g = c.geometry;
    const bool nhwc = format == DataFormat::kNHWC;
    const Tensor x = testing::RandomTensor<T>(nhwc ? TensorShape{g.batch, g.in_rows, g.in_cols, g.channels}
                                                   : TensorShape{g.batch, g.channels, g.in_rows, g.in_cols}, rng);
    const Tensor dy = testing::RandomTensor<T>(
        nhwc ? TensorShape{g.batch, g.out_rows, g.out_cols, g.out_depth()}
             : TensorShape{g.batch, g.out_depth(), g.out_rows, g.out_cols}, rng);
    Scope root = Scope::NewRootScope();
    auto dw = Op(root, ops::Const(root, x),
                 {static_cast<int32_t>(g.filter_rows), static_cast<int32_t>(g.filter_cols),
                  static_cast<int32_t>(g.channels), static_cast<int32_t>(g.multiplier)},
                 ops::Const(root, dy), c.strides, c.padding, c.attrs);
    INFO("case " << i << ": " << x.shape().DebugString() << " filter " << g.filter_rows << "x" << g.filter_cols
                 << " m" << g.multiplier << " stride " << g.stride << " dilation " << g.dilation_rows << ","
                 << g.dilation_cols << " " << c.padding << " " << DataFormatName(format));
    REQUIRE(root.ok());
    SessionOptions options;
    options.target = Target::kReference;
    std::vector<Tensor> outputs;
    REQUIRE(ClientSession(root, options).Run({dw}, &outputs).ok());
    const testing::DirectResult want = testing::DirectDefinition<T>(g, x, dy);
    const auto got = outputs[0].flat<T>();
    REQUIRE(got.size() == want.value.size());
    for (size_t k = 0; k < got.size(); ++k) {
      const double error = std::abs(static_cast<double>(got[k]) - static_cast<double>(want.value[k]));
      REQUIRE(error <= testing::AllowedError<T>(want.magnitude[k], want.reduction_length));
    }
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
