// The definition of DepthwiseConv2dNativeBackpropFilter in plain loops with float64 sums, for checking
// ahead-of-time kernels in programs that link nothing but them (this example, and tests/aot).
#ifndef HALOGEN_EXAMPLES_EMBED_AOT_DEPTHWISE_DEFINITION_H_
#define HALOGEN_EXAMPLES_EMBED_AOT_DEPTHWISE_DEFINITION_H_

#include <cstddef>
#include <vector>

#include "halogen/codegen/depthwise_kernel_args.h"

// filter_grad[kh][kw][c][m] = sum over n, oh, ow of x * dy, reading zero outside the input.
template <typename T>
std::vector<double> Definition(const halogen::DepthwiseShape& s, const std::vector<T>& x, const std::vector<T>& dy) {
  const int depth = s.channels * s.multiplier;
  std::vector<double> dw(static_cast<size_t>(s.filter_rows) * s.filter_cols * depth, 0.0);
  for (int n = 0; n < s.batch; ++n)
    for (int oh = 0; oh < s.out_rows; ++oh)
      for (int ow = 0; ow < s.out_cols; ++ow)
        for (int kh = 0; kh < s.filter_rows; ++kh)
          for (int kw = 0; kw < s.filter_cols; ++kw) {
            const int ih = oh * s.stride + kh * s.dilation_rows - s.pad_top;
            const int iw = ow * s.stride + kw * s.dilation_cols - s.pad_left;
            if (ih < 0 || ih >= s.in_rows || iw < 0 || iw >= s.in_cols) continue;
            for (int d = 0; d < depth; ++d) {
              const int c = d / s.multiplier;
              const size_t xi = s.nhwc ? ((size_t(n) * s.in_rows + ih) * s.in_cols + iw) * s.channels + c
                                       : ((size_t(n) * s.channels + c) * s.in_rows + ih) * s.in_cols + iw;
              const size_t yi = s.nhwc ? ((size_t(n) * s.out_rows + oh) * s.out_cols + ow) * depth + d
                                       : ((size_t(n) * depth + d) * s.out_rows + oh) * s.out_cols + ow;
              dw[(size_t(kh) * s.filter_cols + kw) * depth + d] += double(x[xi]) * double(dy[yi]);
            }
          }
  return dw;
}

#endif  // HALOGEN_EXAMPLES_EMBED_AOT_DEPTHWISE_DEFINITION_H_
