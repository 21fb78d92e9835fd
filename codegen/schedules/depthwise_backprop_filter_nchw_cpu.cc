#include "codegen/schedules/depthwise_backprop_filter_schedules.h"

namespace halogen {
namespace codegen {

using Halide::RVar;
using Halide::TailStrategy;
using Halide::Var;

void ScheduleCpuWidthLanes(DepthwiseBackpropFilterAlgorithm& a, const Halide::Target& target) {
  Halide::Func& dw = a.filter_grad;
  const int lanes = target.natural_vector_size(a.input.type());
  RVar col_outer("col_outer"), col_lane("col_lane");
  Var lane("lane");

  dw.update().split(a.r.x, col_outer, col_lane, lanes, TailStrategy::GuardWithIf);
  Halide::Func per_lane = dw.update().rfactor(col_lane, lane);
  // One output channel per task: its lane sums for all taps fit in registers or L1.
  dw.update().reorder(col_lane, a.kw, a.kh, a.d).parallel(a.d);
  per_lane.compute_at(dw, a.d);
  per_lane.vectorize(lane);
  per_lane.update().reorder(lane, a.kw, a.kh, col_outer, a.r.y, a.r.z).vectorize(lane);
  per_lane.update().specialize(a.multiplier == 1);
}

}  // namespace codegen
}  // namespace halogen
