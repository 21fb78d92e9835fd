#include "codegen/schedules/depthwise_backprop_filter_schedules.h"

namespace halogen {
namespace codegen {

using Halide::RVar;
using Halide::TailStrategy;
using Halide::Var;

void ScheduleCpuChannelRowChunks(DepthwiseBackpropFilterAlgorithm& a, const Halide::Target& target) {
  Halide::Func& dw = a.filter_grad;
  const int lanes = target.natural_vector_size(a.input.type());
  RVar rows("rows"), chunk("chunk"), row("row");
  Var u("u"), d_outer("d_outer"), d_inner("d_inner");

  dw.update().fuse(a.r.y, a.r.z, rows).split(rows, chunk, row, a.rows_per_chunk, TailStrategy::GuardWithIf);
  Halide::Func partial = dw.update().rfactor(chunk, u);
  partial.compute_root();
  partial.split(a.d, d_outer, d_inner, lanes, TailStrategy::GuardWithIf).vectorize(d_inner).parallel(u);
  // Per chunk: for each input row position, every tap and every channel; the chunk's accumulators
  // (FH * FW * C * M values) stay in cache while the row streams through.
  partial.update()
      .split(a.d, d_outer, d_inner, lanes, TailStrategy::GuardWithIf)
      .reorder(d_inner, d_outer, a.kw, a.kh, a.r.x, row, u)
      .vectorize(d_inner)
      .parallel(u);
  partial.update().specialize(a.multiplier == 1);

  // Combine the chunks in chunk order.
  dw.split(a.d, d_outer, d_inner, lanes, TailStrategy::GuardWithIf).vectorize(d_inner);
  dw.update()
      .split(a.d, d_outer, d_inner, lanes, TailStrategy::GuardWithIf)
      .reorder(d_inner, chunk, d_outer, a.kw, a.kh)
      .vectorize(d_inner);
}

}  // namespace codegen
}  // namespace halogen
