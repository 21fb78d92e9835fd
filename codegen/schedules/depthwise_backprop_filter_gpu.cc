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

void ScheduleGpuRegisterTaps(DepthwiseBackpropFilterAlgorithm& a, const Halide::Target& target) {
  Halide::Func& dw = a.filter_grad;
  constexpr int kThreads = 32;
  RVar rows("rows"), chunk("chunk"), row("row");
  Var u("u"), taps("taps"), d_block("d_block"), d_thread("d_thread");

  dw.update(0).fuse(a.rows.y, a.rows.z, rows).split(rows, chunk, row, a.rows_per_chunk, TailStrategy::GuardWithIf);
  // `partial` is each thread's own sum over its chunk; `chunk_sums`, a copy of it in global memory, is the
  // kernel that computes it (one thread per channel and chunk) and what the final sum reads.
  Halide::Func partial = dw.update(0).rfactor(chunk, u);
  Halide::Func chunk_sums = partial.in();
  chunk_sums.compute_root().bound(u, 0, a.chunks);
  // 3x3 and 5x5: every tap of the thread's channel in registers (the loops over the taps have constant
  // extents in these branches, so `partial` is 9 or 25 registers), each input row read once per thread.
  for (int size : {3, 5}) {
    chunk_sums.specialize(a.filter_rows() == size && a.filter_cols() == size)
        .split(a.d, d_block, d_thread, kThreads, TailStrategy::GuardWithIf)
        .reorder(a.kw, a.kh, d_thread, d_block, u)
        .unroll(a.kw)
        .unroll(a.kh)
        .gpu_blocks(d_block, u)
        .gpu_threads(d_thread);
  }
  // Other filters: one thread per (channel, tap, chunk), as gpu_row_chunks.
  chunk_sums.split(a.d, d_block, d_thread, kThreads, TailStrategy::GuardWithIf)
      .fuse(a.kw, a.kh, taps)
      .gpu_blocks(d_block, taps, u)
      .gpu_threads(d_thread);
  // Inside a thread the channel and chunk are fixed; only the taps remain (one of them in the generic case).
  partial.compute_at(chunk_sums, d_thread).unroll(a.kw).unroll(a.kh);
  partial.update().reorder(a.kw, a.kh, a.rows.x, row, a.d, u).unroll(a.kw).unroll(a.kh);

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
