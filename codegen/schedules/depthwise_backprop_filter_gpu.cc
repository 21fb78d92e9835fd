#include "codegen/schedules/depthwise_backprop_filter_schedules.h"

namespace halogen {
namespace codegen {

using Halide::RVar;
using Halide::TailStrategy;
using Halide::Var;

void ScheduleGpuRowChunks(DepthwiseBackpropFilterAlgorithm& a, const Halide::Target& target) {
  Halide::Func& dw = a.filter_grad;
  constexpr int kThreads = 32;
  RVar rows("rows"), chunk("chunk"), row("row");
  Var u("u"), taps("taps"), d_block("d_block"), d_thread("d_thread");

  dw.update(0).fuse(a.rows.y, a.rows.z, rows).split(rows, chunk, row, a.rows_per_chunk, TailStrategy::GuardWithIf);
  Halide::Func partial = dw.update(0).rfactor(chunk, u);
  partial.compute_root().bound(u, 0, a.chunks);
  partial.split(a.d, d_block, d_thread, kThreads, TailStrategy::GuardWithIf)
      .fuse(a.kw, a.kh, taps)
      .gpu_blocks(d_block, taps, u)
      .gpu_threads(d_thread);
  // Each thread sums its (channel, tap) over its chunk's rows, in row order.
  partial.update()
      .split(a.d, d_block, d_thread, kThreads, TailStrategy::GuardWithIf)
      .fuse(a.kw, a.kh, taps)
      .reorder(a.rows.x, row, d_thread, d_block, taps, u)
      .gpu_blocks(d_block, taps, u)
      .gpu_threads(d_thread);

  dw.split(a.d, d_block, d_thread, kThreads, TailStrategy::GuardWithIf)
      .fuse(a.kw, a.kh, taps)
      .gpu_blocks(d_block, taps)
      .gpu_threads(d_thread);
  dw.update(0)
      .split(a.d, d_block, d_thread, kThreads, TailStrategy::GuardWithIf)
      .fuse(a.kw, a.kh, taps)
      .reorder(chunk, d_thread, d_block, taps)
      .gpu_blocks(d_block, taps)
      .gpu_threads(d_thread);
}

}  // namespace codegen
}  // namespace halogen
