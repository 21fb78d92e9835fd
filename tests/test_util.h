// Test helpers: random tensors, an independent direct-definition oracle for the op, and SPEC's
// accuracy bound.
#ifndef HALOGEN_TESTS_TEST_UTIL_H_
#define HALOGEN_TESTS_TEST_UTIL_H_

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "halogen/dsl/ops/depthwise_conv_geometry.h"
#include "halogen/dsl/tensor.h"

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

}  // namespace testing
}  // namespace halogen

#endif  // HALOGEN_TESTS_TEST_UTIL_H_
