#include "halogen/runtime/reference_kernels.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"

namespace halogen {
namespace {

// The first and one-past-last output positions whose tap `k` reads inside [0, in_size):
// 0 <= o*stride + k*dilation - pad < in_size. Computing the range once per tap keeps the inner loops
// free of bounds tests, and padded taps are never multiplied at all.
struct Range {
  int64_t begin, end;
};
Range ValidOutputRange(int64_t in_size, int64_t out_size, int64_t stride, int64_t offset) {
  // offset = k*dilation - pad; need o*stride >= -offset and o*stride <= in_size - 1 - offset.
  const auto ceil_div = [](int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); };
  const auto floor_div = [](int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); };
  const int64_t begin = std::max<int64_t>(0, ceil_div(-offset, stride));
  const int64_t end = std::min<int64_t>(out_size, floor_div(in_size - 1 - offset, stride) + 1);
  return {begin, std::max(begin, end)};
}

template <typename T>
void Compute(const DepthwiseConvGeometry& g, const T* input, const T* out_backprop, double* sums) {
  const int64_t C = g.channels, M = g.multiplier, depth = g.out_depth();
  const bool nhwc = g.format == DataFormat::kNHWC;
  // Element strides of the two tensors in either layout.
  const int64_t in_n = g.in_rows * g.in_cols * C;
  const int64_t in_h = nhwc ? g.in_cols * C : g.in_cols;
  const int64_t in_w = nhwc ? C : 1;
  const int64_t in_c = nhwc ? 1 : g.in_rows * g.in_cols;
  const int64_t dy_n = g.out_rows * g.out_cols * depth;
  const int64_t dy_h = nhwc ? g.out_cols * depth : g.out_cols;
  const int64_t dy_w = nhwc ? depth : 1;
  const int64_t dy_c = nhwc ? 1 : g.out_rows * g.out_cols;
  for (int64_t kh = 0; kh < g.filter_rows; ++kh) {
    const Range rows = ValidOutputRange(g.in_rows, g.out_rows, g.stride, kh * g.dilation_rows - g.pad_top);
    for (int64_t kw = 0; kw < g.filter_cols; ++kw) {
      const Range cols =
          ValidOutputRange(g.in_cols, g.out_cols, g.stride, kw * g.dilation_cols - g.pad_left);
      double* tap = sums + (kh * g.filter_cols + kw) * depth;
      for (int64_t n = 0; n < g.batch; ++n) {
        for (int64_t oh = rows.begin; oh < rows.end; ++oh) {
          const int64_t ih = oh * g.stride + kh * g.dilation_rows - g.pad_top;
          for (int64_t ow = cols.begin; ow < cols.end; ++ow) {
            const int64_t iw = ow * g.stride + kw * g.dilation_cols - g.pad_left;
            const T* x = input + n * in_n + ih * in_h + iw * in_w;
            const T* dy = out_backprop + n * dy_n + oh * dy_h + ow * dy_w;
            for (int64_t c = 0; c < C; ++c) {
              const double xv = static_cast<double>(x[c * in_c]);
              for (int64_t m = 0; m < M; ++m) {
                tap[c * M + m] += xv * static_cast<double>(dy[(c * M + m) * dy_c]);
              }
            }
          }
        }
      }
    }
  }
}

}  // namespace

absl::Status DepthwiseConv2dNativeBackpropFilterReference(const DepthwiseConvGeometry& geometry,
                                                          const Tensor& input, const Tensor& out_backprop,
                                                          Tensor* filter_grad) {
  const int64_t count = geometry.filter_rows * geometry.filter_cols * geometry.out_depth();
  if (filter_grad->NumElements() != count || filter_grad->dtype() != input.dtype() ||
      out_backprop.dtype() != input.dtype()) {
    return absl::InternalError(absl::StrCat("reference kernel called with mismatched tensors: ",
                                            filter_grad->DebugString(0), " for ", input.DebugString(0)));
  }
  std::vector<double> sums(static_cast<size_t>(count), 0.0);
  if (input.dtype() == DataType::kFloat) {
    Compute<float>(geometry, input.flat<float>().data(), out_backprop.flat<float>().data(), sums.data());
    std::copy(sums.begin(), sums.end(), filter_grad->flat<float>().begin());
  } else {
    Compute<double>(geometry, input.flat<double>().data(), out_backprop.flat<double>().data(), sums.data());
    std::copy(sums.begin(), sums.end(), filter_grad->flat<double>().begin());
  }
  return absl::OkStatus();
}

}  // namespace halogen
