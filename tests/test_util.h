// Test helpers: random tensors, an independent direct-definition oracle for the op, and SPEC's
// accuracy bound.
#ifndef HALOGEN_TESTS_TEST_UTIL_H_
#define HALOGEN_TESTS_TEST_UTIL_H_

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "halogen/dsl/ops/depthwise_conv2d_native_backprop_filter.h"
#include "halogen/dsl/ops/depthwise_conv_geometry.h"
#include "halogen/dsl/ops/basic.h"
#include "halogen/dsl/tensor.h"
#include "halogen/runtime/client_session.h"

namespace halogen {
namespace testing {

template <typename T>
Tensor RandomTensor(const TensorShape& shape, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<T> values(static_cast<size_t>(shape.num_elements()));
  for (T& v : values) v = static_cast<T>(dist(rng));
  return *Tensor::FromVector<T>(values, shape);
}

// Index of element (n, h, w, c) of a [N, H, W, C]-sized tensor stored in `format`.
inline int64_t Offset(DataFormat format, int64_t H, int64_t W, int64_t C, int64_t n, int64_t h, int64_t w,
                      int64_t c) {
  return format == DataFormat::kNHWC ? ((n * H + h) * W + w) * C + c : ((n * C + c) * H + h) * W + w;
}

// SPEC's formula, evaluated literally: every tap of every output position, reading zero outside the
// input. Returns, per filter element, the sum (in long double) and the sum of |x*dy| (for the bound).
struct DirectResult {
  std::vector<long double> value;
  std::vector<long double> magnitude;
  int64_t reduction_length = 0;
};
template <typename T>
DirectResult DirectDefinition(const DepthwiseConvGeometry& g, const Tensor& input, const Tensor& out_backprop) {
  const auto x = input.flat<T>();
  const auto dy = out_backprop.flat<T>();
  const int64_t depth = g.channels * g.multiplier;
  DirectResult r;
  r.value.assign(static_cast<size_t>(g.filter_rows * g.filter_cols * depth), 0);
  r.magnitude = r.value;
  r.reduction_length = g.batch * g.out_rows * g.out_cols;
  for (int64_t kh = 0; kh < g.filter_rows; ++kh)
    for (int64_t kw = 0; kw < g.filter_cols; ++kw)
      for (int64_t c = 0; c < g.channels; ++c)
        for (int64_t m = 0; m < g.multiplier; ++m) {
          long double sum = 0, mag = 0;
          for (int64_t n = 0; n < g.batch; ++n)
            for (int64_t oh = 0; oh < g.out_rows; ++oh)
              for (int64_t ow = 0; ow < g.out_cols; ++ow) {
                const int64_t ih = oh * g.stride + kh * g.dilation_rows - g.pad_top;
                const int64_t iw = ow * g.stride + kw * g.dilation_cols - g.pad_left;
                if (ih < 0 || ih >= g.in_rows || iw < 0 || iw >= g.in_cols) continue;
                const long double p =
                    static_cast<long double>(x[Offset(g.format, g.in_rows, g.in_cols, g.channels, n, ih, iw, c)]) *
                    dy[Offset(g.format, g.out_rows, g.out_cols, depth, n, oh, ow, c * g.multiplier + m)];
                sum += p;
                mag += std::fabs(p);
              }
          const size_t index = static_cast<size_t>(((kh * g.filter_cols + kw) * g.channels + c) * g.multiplier + m);
          r.value[index] = sum;
          r.magnitude[index] = mag;
        }
  return r;
}

// SPEC's bound: float32 |got - want| <= 1e-5 * sqrt(R) * sum|x*dy| + 1e-6; float64 within 1e-12 relative
// (of the same magnitude sum, which bounds |want|).
template <typename T>
double AllowedError(long double magnitude, int64_t reduction_length) {
  if (sizeof(T) == 4) {
    return 1e-5 * std::sqrt(static_cast<double>(std::max<int64_t>(reduction_length, 1))) *
               static_cast<double>(magnitude) + 1e-6;
  }
  return 1e-12 * static_cast<double>(magnitude) + 1e-300;
}

// A valid random case: N 0-3, H and W 1-13, C 1-9, M 1-4, filters 1-5, strides and dilations 1-3,
// any padding. The geometry comes from the library's arithmetic, which has its own tests.
struct RandomCase {
  DepthwiseConvGeometry geometry;
  std::vector<int> strides;
  std::string padding;
  ops::DepthwiseConv2dNativeBackpropFilter::Attrs attrs;
};

inline RandomCase DrawRandomCase(std::mt19937_64& rng, DataFormat format) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (;;) {
    RandomCase c;
    const int stride = pick(1, 3), dh = pick(1, 3), dw = pick(1, 3);
    const int kh = pick(1, 5), kw = pick(1, 5);
    const int n = pick(0, 3), h = pick(1, 13), w = pick(1, 13), ch = pick(1, 9), m = pick(1, 4);
    const int padding = pick(0, 2);
    const bool nhwc = format == DataFormat::kNHWC;
    c.strides = nhwc ? std::vector<int>{1, stride, stride, 1} : std::vector<int>{1, 1, stride, stride};
    c.attrs = ops::DepthwiseConv2dNativeBackpropFilter::DataFormat(nhwc ? "NHWC" : "NCHW")
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
    // out_backprop's rows and cols are whatever the window arithmetic gives.
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
    if (!geometry.ok()) continue;  // not expected: the sizes above were made to agree
    c.geometry = *geometry;
    return c;
  }
}

// Input and out_backprop shapes of a geometry in its layout.
inline TensorShape InputShape(const DepthwiseConvGeometry& g) {
  return g.format == DataFormat::kNHWC ? TensorShape{g.batch, g.in_rows, g.in_cols, g.channels}
                                       : TensorShape{g.batch, g.channels, g.in_rows, g.in_cols};
}
inline TensorShape OutBackpropShape(const DepthwiseConvGeometry& g) {
  return g.format == DataFormat::kNHWC ? TensorShape{g.batch, g.out_rows, g.out_cols, g.out_depth()}
                                       : TensorShape{g.batch, g.out_depth(), g.out_rows, g.out_cols};
}

// Builds the case's node on constant inputs and runs it in a session with `options`.
inline absl::StatusOr<Tensor> RunCase(const RandomCase& c, const Tensor& x, const Tensor& dy,
                                      const SessionOptions& options) {
  const DepthwiseConvGeometry& g = c.geometry;
  Scope root = Scope::NewRootScope();
  auto dw = ops::DepthwiseConv2dNativeBackpropFilter(
      root, ops::Const(root, x),
      {static_cast<int32_t>(g.filter_rows), static_cast<int32_t>(g.filter_cols), static_cast<int32_t>(g.channels),
       static_cast<int32_t>(g.multiplier)},
      ops::Const(root, dy), c.strides, c.padding, c.attrs);
  std::vector<Tensor> outputs;
  if (absl::Status s = ClientSession(root, options).Run({dw}, &outputs); !s.ok()) return s;
  return outputs[0];
}

// Every element of `got` within SPEC's bound of the direct definition; returns the first failure.
template <typename T>
std::string CompareWithDirectDefinition(const DepthwiseConvGeometry& g, const Tensor& x, const Tensor& dy,
                                        const Tensor& got) {
  const DirectResult want = DirectDefinition<T>(g, x, dy);
  const auto values = got.flat<T>();
  if (values.size() != want.value.size()) return "wrong number of elements";
  for (size_t k = 0; k < values.size(); ++k) {
    const double error = std::abs(static_cast<double>(values[k]) - static_cast<double>(want.value[k]));
    const double allowed = AllowedError<T>(want.magnitude[k], want.reduction_length);
    if (!(error <= allowed)) {
      return "element " + std::to_string(k) + ": got " + std::to_string(static_cast<double>(values[k])) +
             ", want " + std::to_string(static_cast<double>(want.value[k])) + ", error " + std::to_string(error) +
             " > allowed " + std::to_string(allowed);
    }
  }
  return "";
}

}  // namespace testing
}  // namespace halogen

#endif  // HALOGEN_TESTS_TEST_UTIL_H_
