#include "codegen/depthwise_conv2d_native_backprop_filter_algorithm.h"

namespace halogen {
namespace codegen {

using Halide::Expr;
using Halide::Func;

std::vector<Halide::Argument> DepthwiseBackpropFilterAlgorithm::arguments() const {
  return {input, out_backprop, stride, dilation_rows, dilation_cols, pad_top, pad_left, multiplier,
          rows_per_chunk};
}

DepthwiseBackpropFilterAlgorithm DefineDepthwiseBackpropFilter(DataType dtype, DataFormat format) {
  const Halide::Type type = dtype == DataType::kDouble ? Halide::Float(64) : Halide::Float(32);
  DepthwiseBackpropFilterAlgorithm a;
  a.format = format;
  a.input = Halide::ImageParam(type, 4, "input");
  a.out_backprop = Halide::ImageParam(type, 4, "out_backprop");
  const bool nhwc = format == DataFormat::kNHWC;
  // Extents in NHWC terms, whatever the layout.
  const int w_dim = nhwc ? 1 : 0, h_dim = nhwc ? 2 : 1;
  const Expr out_cols = a.out_backprop.dim(w_dim).extent();
  const Expr out_rows = a.out_backprop.dim(h_dim).extent();
  const Expr batch = a.out_backprop.dim(3).extent();
  a.r = Halide::RDom(0, out_cols, 0, out_rows, 0, batch, "r");

  // Only the spatial dimensions can be read out of range; channels and batch are left unbounded, so their
  // indexing stays a plain load.
  Halide::Region spatial(4, Halide::Range(Expr(), Expr()));
  spatial[w_dim] = Halide::Range(0, a.input.dim(w_dim).extent());
  spatial[h_dim] = Halide::Range(0, a.input.dim(h_dim).extent());
  Func x_padded = Halide::BoundaryConditions::constant_exterior(a.input, Halide::cast(type, 0), spatial);
  const Expr ow = a.r.x, oh = a.r.y, n = a.r.z;
  const Expr iw = ow * a.stride + a.kw * a.dilation_cols - a.pad_left;
  const Expr ih = oh * a.stride + a.kh * a.dilation_rows - a.pad_top;
  // Schedules specialise multiplier == 1, the common case, where this division folds away.
  const Expr c = a.d / a.multiplier;
  const Expr x = nhwc ? x_padded(c, iw, ih, n) : x_padded(iw, ih, c, n);
  const Expr dy = nhwc ? a.out_backprop(a.d, ow, oh, n) : a.out_backprop(ow, oh, a.d, n);

  a.filter_grad = Func("filter_grad");
  a.filter_grad(a.d, a.kw, a.kh) = Halide::cast(type, 0);
  a.filter_grad(a.d, a.kw, a.kh) += x * dy;
  return a;
}

}  // namespace codegen
}  // namespace halogen
