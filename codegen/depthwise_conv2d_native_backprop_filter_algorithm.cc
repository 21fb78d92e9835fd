#include "codegen/depthwise_conv2d_native_backprop_filter_algorithm.h"

namespace halogen {
namespace codegen {

using Halide::Expr;
using Halide::Func;

std::vector<Halide::Argument> DepthwiseBackpropFilterAlgorithm::arguments() const {
  return {input, out_backprop, stride, dilation_rows, dilation_cols, pad_top, pad_left, multiplier, rows_per_chunk,
          chunks};
}

namespace {

// `value` where `keep` holds, else +0.0, as a bitwise mask: one AND per vector, where a select would cost a
// blend and a multiplication by a 0/1 factor would turn Inf into NaN.
Expr ZeroUnless(const Expr& keep, const Expr& value) {
  const Halide::Type bits = Halide::UInt(value.type().bits());
  const Expr mask = Halide::select(keep, bits.max(), Halide::cast(bits, 0));
  return Halide::reinterpret(value.type(), Halide::reinterpret(bits, value) & mask);
}

}  // namespace

DepthwiseBackpropFilterAlgorithm DefineDepthwiseBackpropFilter(DataType dtype, DataFormat format) {
  const Halide::Type type = dtype == DataType::kDouble ? Halide::Float(64) : Halide::Float(32);
  DepthwiseBackpropFilterAlgorithm a;
  a.format = format;
  a.input = Halide::ImageParam(type, 4, "input");
  a.out_backprop = Halide::ImageParam(type, 4, "out_backprop");
  const bool nhwc = format == DataFormat::kNHWC;
  // Positions of the width and height dimensions, the same in input and out_backprop.
  const int w_dim = nhwc ? 1 : 0, h_dim = nhwc ? 2 : 1;
  const Expr in_cols = a.input.dim(w_dim).extent(), in_rows = a.input.dim(h_dim).extent();
  const Expr out_cols = a.out_backprop.dim(w_dim).extent(), out_rows = a.out_backprop.dim(h_dim).extent();
  const Expr batch = a.out_backprop.dim(3).extent();

  // Schedules specialise multiplier == 1, the common case, where this division folds away.
  const Expr c = a.d / a.multiplier;
  const auto x_at = [&](const Func& x, const Expr& iw, const Expr& ih, const Expr& n) {
    return nhwc ? x(c, iw, ih, n) : x(iw, ih, c, n);
  };
  const auto dy_at = [&](const Expr& ow, const Expr& oh, const Expr& n) {
    return nhwc ? a.out_backprop(a.d, ow, oh, n) : a.out_backprop(ow, oh, a.d, n);
  };
  const auto in_col = [&](const Expr& ow) { return ow * a.stride + a.kw * a.dilation_cols - a.pad_left; };
  const auto in_row = [&](const Expr& oh) { return oh * a.stride + a.kh * a.dilation_rows - a.pad_top; };

  // Columns read through a zero boundary: with a constant stride Halide splits the column loop into a
  // test-free middle and short edges. Channels and batch are never out of range and stay plain loads.
  Halide::Region width_only(4, Halide::Range(Expr(), Expr()));
  width_only[w_dim] = Halide::Range(0, in_cols);
  Func x_cols_padded =
      Halide::BoundaryConditions::constant_exterior(a.input, Halide::cast(type, 0), width_only);

  a.filter_grad = Func("filter_grad");
  a.filter_grad(a.d, a.kw, a.kh) = Halide::cast(type, 0);

  // Rows: a tap that falls on a padding row reads the nearest real row and both factors are masked to zero
  // (+0.0 * +0.0, so an Inf or NaN in either tensor never leaks into a padded tap). The mask depends only on
  // the row and the filter row, so it is loop-invariant in the column sweep and every row, border or not,
  // is handled in the same pass while it is in cache.
  a.rows = Halide::RDom(0, out_cols, 0, out_rows, 0, batch, "rows");
  {
    const Expr ow = a.rows.x, oh = a.rows.y, n = a.rows.z;
    const Expr ih = in_row(oh);
    const Expr row_inside = ih >= 0 && ih < in_rows;
    const Expr x = x_at(x_cols_padded, in_col(ow), Halide::clamp(ih, 0, in_rows - 1), n);
    a.filter_grad(a.d, a.kw, a.kh) += ZeroUnless(row_inside, x) * ZeroUnless(row_inside, dy_at(ow, oh, n));
  }
  return a;
}

}  // namespace codegen
}  // namespace halogen
