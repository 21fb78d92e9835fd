#include "codegen/depthwise_conv2d_native_backprop_filter_algorithm.h"

namespace halogen {
namespace codegen {

using Halide::Expr;
using Halide::Func;

std::vector<Halide::Argument> DepthwiseBackpropFilterAlgorithm::arguments() const {
  return {input,      out_backprop, stride,    dilation_rows,  dilation_cols, pad_top, pad_left,
          multiplier, row_begin,    row_count, rows_per_chunk, chunks,     block_rows};
}

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

  // Only the spatial dimensions can be read out of range; channels and batch are left unbounded, so their
  // indexing stays a plain load. The interior rows bound only the width.
  Halide::Region width_only(4, Halide::Range(Expr(), Expr()));
  width_only[w_dim] = Halide::Range(0, in_cols);
  Halide::Region spatial = width_only;
  spatial[h_dim] = Halide::Range(0, in_rows);
  Func x_cols_padded =
      Halide::BoundaryConditions::constant_exterior(a.input, Halide::cast(type, 0), width_only);
  Func x_padded = Halide::BoundaryConditions::constant_exterior(a.input, Halide::cast(type, 0), spatial);

  a.filter_grad = Func("filter_grad");
  a.filter_grad(a.d, a.kw, a.kh) = Halide::cast(type, 0);

  // The interior rows: every row read is inside the input by construction (work_split::InteriorOf), which the
  // promise tells Halide's bounds inference.
  a.interior = Halide::RDom(0, out_cols, a.row_begin, a.row_count, 0, batch, "interior");
  {
    const Expr ow = a.interior.x, oh = a.interior.y, n = a.interior.z;
    const Expr ih = Halide::unsafe_promise_clamped(in_row(oh), 0, in_rows - 1);
    a.filter_grad(a.d, a.kw, a.kh) += x_at(x_cols_padded, in_col(ow), ih, n) * dy_at(ow, oh, n);
  }
  // The border rows: rows before the interior, then rows after it.
  a.border_rows = Halide::RDom(0, out_cols, 0, out_rows - a.row_count, 0, batch, "border_rows");
  {
    const Expr ow = a.border_rows.x, n = a.border_rows.z;
    const Expr oh = Halide::select(a.border_rows.y < a.row_begin, a.border_rows.y,
                                   a.border_rows.y + a.row_count);
    a.filter_grad(a.d, a.kw, a.kh) += x_at(x_padded, in_col(ow), in_row(oh), n) * dy_at(ow, oh, n);
  }
  return a;
}

}  // namespace codegen
}  // namespace halogen
