#include "codegen/schedules/depthwise_backprop_filter_schedules.h"

namespace halogen {
namespace codegen {

using Halide::Expr;
using Halide::RVar;
using Halide::TailStrategy;
using Halide::Var;

void ScheduleCpuWidthLanes(DepthwiseBackpropFilterAlgorithm& a, const Halide::Target& target) {
  Halide::Func& dw = a.filter_grad;
  const int lanes = target.natural_vector_size(a.input.type());
  RVar col_outer("col_outer"), col_lane("col_lane");
  Var lane("lane");

  dw.update(0).split(a.rows.x, col_outer, col_lane, lanes, TailStrategy::GuardWithIf);
  Halide::Func per_lane = dw.update(0).rfactor(col_lane, lane);
  // One output channel per task: its lane sums for every tap stay in registers while the channel's
  // plane streams past. (The lane sums of all channels are small: FH * FW * C * M vectors.)
  dw.parallel(a.d);
  dw.update(0).reorder(col_lane, a.kw, a.kh, a.d).parallel(a.d);
  per_lane.compute_root().reorder_storage(lane, a.kw, a.kh, a.d).vectorize(lane).parallel(a.d);
  const Expr plain = a.multiplier == 1 && a.dilation_rows == 1 && a.dilation_cols == 1;
  for (int taps : {3, 5}) {
    for (int stride : {1, 2}) {
      Halide::Stage stage =
          per_lane.update().specialize(a.filter_cols() == taps && a.filter_rows() == taps && a.stride == stride && plain);
      if (taps == 3) {  // 9 accumulators fit in registers: one pass over the plane
        stage.reorder(lane, a.kw, a.kh, col_outer, a.rows.y, a.rows.z, a.d)
            .vectorize(lane)
            .unroll(a.kw)
            .unroll(a.kh)
            .parallel(a.d);
      } else {  // 25 do not: one pass per filter row, 5 accumulators each
        stage.reorder(lane, a.kw, col_outer, a.rows.y, a.rows.z, a.kh, a.d)
            .vectorize(lane)
            .unroll(a.kw)
            .parallel(a.d);
      }
    }
  }
  per_lane.update()
      .reorder(lane, a.kw, a.kh, col_outer, a.rows.y, a.rows.z, a.d)
      .vectorize(lane)
      .parallel(a.d);
}

}  // namespace codegen
}  // namespace halogen
