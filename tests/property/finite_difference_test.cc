// The filter gradient is the gradient: for L(W) = <depthwise_conv(X, W), dY>,
// <dW, V> must equal (L(W + eps V) - L(W - eps V)) / (2 eps). The forward convolution is written here,
// independently of the library.
#include <catch2/catch.hpp>

#include <random>

#include "halogen/dsl/ops/basic.h"
#include "halogen/dsl/ops/depthwise_conv2d_native_backprop_filter.h"
#include "halogen/runtime/client_session.h"
#include "tests/test_util.h"

using namespace halogen;  // NOLINT
using Op = ops::DepthwiseConv2dNativeBackpropFilter;

namespace {

struct Loss {
  double value = 0;      // <conv(X, W), dY>
  double magnitude = 0;  // sum of |x * w * dy| over its terms: the scale of its rounding error
};

// Forward depthwise convolution contracted with dY, straight from the definition.
Loss ForwardLoss(const DepthwiseConvGeometry& g, const std::vector<double>& x, const std::vector<double>& w,
                 const std::vector<double>& dy) {
  Loss loss;
  const int64_t depth = g.channels * g.multiplier;
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t oh = 0; oh < g.out_rows; ++oh)
      for (int64_t ow = 0; ow < g.out_cols; ++ow)
        for (int64_t c = 0; c < g.channels; ++c)
          for (int64_t m = 0; m < g.multiplier; ++m) {
            double y = 0, y_magnitude = 0;
            for (int64_t kh = 0; kh < g.filter_rows; ++kh)
              for (int64_t kw = 0; kw < g.filter_cols; ++kw) {
                const int64_t ih = oh * g.stride + kh * g.dilation_rows - g.pad_top;
                const int64_t iw = ow * g.stride + kw * g.dilation_cols - g.pad_left;
                if (ih < 0 || ih >= g.in_rows || iw < 0 || iw >= g.in_cols) continue;
                const double term = x[testing::Offset(g.format, g.in_rows, g.in_cols, g.channels, n, ih, iw, c)] *
                                    w[((kh * g.filter_cols + kw) * g.channels + c) * g.multiplier + m];
                y += term;
                y_magnitude += std::abs(term);
              }
            const double d = dy[testing::Offset(g.format, g.out_rows, g.out_cols, depth, n, oh, ow, c * g.multiplier + m)];
            loss.value += y * d;
            loss.magnitude += y_magnitude * std::abs(d);
          }
  return loss;
}

struct FdCase {
  TensorShape input;  // NHWC
  std::vector<int32_t> filter_sizes;
  int stride;
  int dilation;
  std::string padding;
  std::vector<int> explicit_hw;  // top, bottom, left, right
};

}  // namespace

TEST_CASE("finite differences agree with the filter gradient") {
  const std::vector<FdCase> cases = {
      {{2, 7, 6, 3}, {3, 3, 3, 1}, 1, 1, "SAME", {}},
      {{1, 9, 9, 2}, {3, 3, 2, 2}, 2, 1, "SAME", {}},
      {{2, 8, 7, 1}, {4, 3, 1, 3}, 1, 2, "SAME", {}},
      {{1, 11, 10, 2}, {3, 2, 2, 1}, 3, 1, "VALID", {}},
      {{2, 5, 8, 2}, {2, 3, 2, 4}, 1, 1, "EXPLICIT", {1, 2, 0, 3}},
      {{1, 6, 6, 3}, {5, 5, 3, 1}, 2, 1, "SAME", {}},
  };
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> dist(-1, 1);
  for (const FdCase& c : cases) {
    for (const char* format : {"NHWC", "NCHW"}) {
      const bool nhwc = std::string(format) == "NHWC";
      const int64_t N = c.input.dim_size(0), H = c.input.dim_size(1), W = c.input.dim_size(2), C = c.input.dim_size(3);
      DepthwiseConvParams params;
      params.format = nhwc ? DataFormat::kNHWC : DataFormat::kNCHW;
      params.stride = c.stride;
      params.dilation_rows = params.dilation_cols = c.dilation;
      params.padding = *ParsePadding(c.padding);
      std::vector<int> pads;
      if (!c.explicit_hw.empty()) {
        pads = nhwc ? std::vector<int>{0, 0, c.explicit_hw[0], c.explicit_hw[1], c.explicit_hw[2], c.explicit_hw[3], 0, 0}
                    : std::vector<int>{0, 0, 0, 0, c.explicit_hw[0], c.explicit_hw[1], c.explicit_hw[2], c.explicit_hw[3]};
        params.explicit_paddings.assign(pads.begin(), pads.end());
      }
      const int64_t sizes[] = {c.filter_sizes[0], c.filter_sizes[1], c.filter_sizes[2], c.filter_sizes[3]};
      const TensorShape x_shape = nhwc ? TensorShape{N, H, W, C} : TensorShape{N, C, H, W};
      // The out_backprop shape from the op's arithmetic (VALID/SAME/EXPLICIT tested elsewhere).
      const int64_t dh = c.dilation;
      const int64_t pad_rows = pads.empty() ? 0 : c.explicit_hw[0] + c.explicit_hw[1];
      const int64_t pad_cols = pads.empty() ? 0 : c.explicit_hw[2] + c.explicit_hw[3];
      const int64_t keff_h = (sizes[0] - 1) * dh + 1, keff_w = (sizes[1] - 1) * dh + 1;
      const int64_t OH = c.padding == "SAME" ? (H + c.stride - 1) / c.stride : (H + pad_rows - keff_h + c.stride) / c.stride;
      const int64_t OW = c.padding == "SAME" ? (W + c.stride - 1) / c.stride : (W + pad_cols - keff_w + c.stride) / c.stride;
      const int64_t depth = C * sizes[3];
      const TensorShape dy_shape = nhwc ? TensorShape{N, OH, OW, depth} : TensorShape{N, depth, OH, OW};
      auto geometry = ComputeDepthwiseConvGeometry(params, x_shape, sizes, dy_shape);
      REQUIRE(geometry.ok());

      const Tensor x = testing::RandomTensor<double>(x_shape, rng);
      const Tensor dy = testing::RandomTensor<double>(dy_shape, rng);
      Scope root = Scope::NewRootScope();
      Op::Attrs attrs = Op::DataFormat(format).Dilations(nhwc ? std::vector<int>{1, c.dilation, c.dilation, 1}
                                                              : std::vector<int>{1, 1, c.dilation, c.dilation});
      if (!pads.empty()) attrs = attrs.ExplicitPaddings(pads);
      auto dw = Op(root, ops::Const(root, x), {c.filter_sizes[0], c.filter_sizes[1], c.filter_sizes[2], c.filter_sizes[3]},
                   ops::Const(root, dy), nhwc ? std::vector<int>{1, c.stride, c.stride, 1}
                                              : std::vector<int>{1, 1, c.stride, c.stride},
                   c.padding, attrs);
      REQUIRE(root.ok());
      std::vector<Tensor> outputs;
      REQUIRE(ClientSession(root).Run({dw}, &outputs).ok());
      const auto grad = outputs[0].flat<double>();

      const std::vector<double> xv(x.flat<double>().begin(), x.flat<double>().end());
      const std::vector<double> dyv(dy.flat<double>().begin(), dy.flat<double>().end());
      for (int trial = 0; trial < 3; ++trial) {
        std::vector<double> w(grad.size()), v(grad.size());
        for (double& e : w) e = dist(rng);
        for (double& e : v) e = dist(rng);
        const double eps = 1e-3;
        std::vector<double> plus = w, minus = w;
        for (size_t k = 0; k < w.size(); ++k) {
          plus[k] += eps * v[k];
          minus[k] -= eps * v[k];
        }
        const Loss lp = ForwardLoss(*geometry, xv, plus, dyv), lm = ForwardLoss(*geometry, xv, minus, dyv);
        const double numeric = (lp.value - lm.value) / (2 * eps);
        double analytic = 0;
        for (size_t k = 0; k < w.size(); ++k) analytic += grad[k] * v[k];
        // L is linear in W, so the difference quotient is exact up to rounding: each loss carries at most
        // ~1e-13 of its magnitude in error at these sizes, divided by 2*eps.
        const double tolerance = 1e-13 * (lp.magnitude + lm.magnitude) / (2 * eps) + 1e-12;
        INFO(format << " " << x_shape.DebugString() << " " << c.padding << " trial " << trial);
        CHECK(std::abs(numeric - analytic) <= tolerance);
        CHECK(std::abs(analytic) > 1e-6);  // a non-trivial direction
      }
    }
  }
}
