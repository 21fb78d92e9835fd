// The algorithm of DepthwiseConv2dNativeBackpropFilter as a Halide Func, apart from any schedule.
//
// Halide indexes innermost dimension first, so the tensors appear as
//   NHWC input (c, w, h, n)    NHWC out_backprop (d, ow, oh, n)
//   NCHW input (w, h, c, n)    NCHW out_backprop (ow, oh, d, n)
// and the filter gradient [FH, FW, C, M] as (d, kw, kh) with d = c * M + m, which is the same memory.
#ifndef HALOGEN_CODEGEN_DEPTHWISE_CONV2D_NATIVE_BACKPROP_FILTER_ALGORITHM_H_
#define HALOGEN_CODEGEN_DEPTHWISE_CONV2D_NATIVE_BACKPROP_FILTER_ALGORITHM_H_

#include <vector>

#include "Halide.h"
#include "halogen/dsl/conv_arithmetic.h"
#include "halogen/dsl/types.h"

namespace halogen {
namespace codegen {

struct DepthwiseBackpropFilterAlgorithm {
  DataFormat format = DataFormat::kNHWC;
  Halide::ImageParam input;
  Halide::ImageParam out_backprop;
  // Everything else about the shape is a run-time parameter, so one compiled kernel serves every shape.
  Halide::Param<int32_t> stride{"stride"}, dilation_rows{"dilation_rows"}, dilation_cols{"dilation_cols"};
  Halide::Param<int32_t> pad_top{"pad_top"}, pad_left{"pad_left"}, multiplier{"multiplier"};
  // Rows (batch x output rows, fused) per partial sum; chosen from the shape alone, never from the
  // thread count, so results do not depend on how many threads run.
  Halide::Param<int32_t> rows_per_chunk{"rows_per_chunk"};

  Halide::Var d{"d"}, kw{"kw"}, kh{"kh"};
  Halide::RDom r;            // (ow, oh, n)
  Halide::Func filter_grad;  // (d, kw, kh)

  // Arguments in the order the compiled kernel takes them after the two buffers.
  std::vector<Halide::Argument> arguments() const;
};

// Defines filter_grad(d, kw, kh) = sum over (n, oh, ow) of x(...) * dy(...) for `dtype` (float or double),
// accumulating in that dtype. Reads outside the input are zero, through a boundary condition that reads
// only clamped (in-range) coordinates.
DepthwiseBackpropFilterAlgorithm DefineDepthwiseBackpropFilter(DataType dtype, DataFormat format);

}  // namespace codegen
}  // namespace halogen

#endif  // HALOGEN_CODEGEN_DEPTHWISE_CONV2D_NATIVE_BACKPROP_FILTER_ALGORITHM_H_
