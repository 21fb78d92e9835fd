// The algorithm of DepthwiseConv2dNativeBackpropFilter as a Halide Func, apart from any schedule.
//
// Halide indexes innermost dimension first, so the tensors appear as
//   NHWC input (c, w, h, n)    NHWC out_backprop (d, ow, oh, n)
//   NCHW input (w, h, c, n)    NCHW out_backprop (ow, oh, d, n)
// and the filter gradient [FH, FW, C, M] as (d, kw, kh) with d = c * M + m, which is the same memory.
//
// The reduction over (n, oh, ow) is one update definition. Padding rows are masked per (row, filter row),
// one AND per vector, which lets a schedule sweep every row once, in order; padding columns read through
// zero boundaries (Halide splits the column loop into a test-free middle and short edges).
#ifndef HALOGEN_CODEGEN_DEPTHWISE_CONV2D_NATIVE_BACKPROP_FILTER_ALGORITHM_H_
#define HALOGEN_CODEGEN_DEPTHWISE_CONV2D_NATIVE_BACKPROP_FILTER_ALGORITHM_H_

#include <vector>

#include "Halide.h"
#include "halogen/dsl/conv_arithmetic.h"
#include "halogen/dsl/ops/depthwise_conv_geometry.h"
#include "halogen/dsl/types.h"

namespace halogen {
namespace codegen {

// Part of every kernel cache key: bump it whenever the algorithm, its arguments or a schedule changes, so
// that a kernel an older build left in the disk cache is never loaded.
inline constexpr int kDepthwiseBackpropFilterRevision = 16;

struct DepthwiseBackpropFilterAlgorithm {
  DataFormat format = DataFormat::kNHWC;
  Halide::ImageParam input;
  Halide::ImageParam out_backprop;
  // Everything else about the shape is a run-time parameter, so one compiled kernel serves every shape.
  Halide::Param<int32_t> stride{"stride"}, dilation_rows{"dilation_rows"}, dilation_cols{"dilation_cols"};
  Halide::Param<int32_t> pad_top{"pad_top"}, pad_left{"pad_left"}, multiplier{"multiplier"};
  // Rows (batch x output rows) per partial sum; chosen from the shape alone, never from the thread count,
  // so results do not depend on how many threads run. The GPU schedule splits the fused (batch, row)
  // loop by it; the NHWC CPU schedule takes it as whole images per chunk, or rows per band of one image
  // when it is smaller than an image.
  Halide::Param<int32_t> rows_per_chunk{"rows_per_chunk"};
  // The number of chunks, at least 1: it sizes the partial sums (a GPU runtime refuses zero-sized buffers).
  Halide::Param<int32_t> chunks{"chunks"};

  // What the definition reads: the tensors themselves (NHWC), or with the channel index clamped (NCHW).
  Halide::Func input_source, out_backprop_source;

  Halide::Var d{"d"}, kw{"kw"}, kh{"kh"};
  Halide::RDom rows;         // (ow, oh, n): every output position
  Halide::Func filter_grad;  // (d, kw, kh); update 0 sums over `rows`

  Halide::Expr filter_rows() const { return filter_grad.output_buffer().dim(2).extent(); }
  Halide::Expr filter_cols() const { return filter_grad.output_buffer().dim(1).extent(); }

  // Arguments in the order the compiled kernel takes them after the two buffers.
  std::vector<Halide::Argument> arguments() const;
};

// Defines the gradient for `dtype` (float or double), accumulating in that dtype.
DepthwiseBackpropFilterAlgorithm DefineDepthwiseBackpropFilter(DataType dtype, DataFormat format);

}  // namespace codegen
}  // namespace halogen

#endif  // HALOGEN_CODEGEN_DEPTHWISE_CONV2D_NATIVE_BACKPROP_FILTER_ALGORITHM_H_
