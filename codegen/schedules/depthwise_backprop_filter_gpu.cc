#include "codegen/schedules/depthwise_backprop_filter_schedules.h"

namespace halogen {
namespace codegen {

using Halide::RVar;
using Halide::TailStrategy;
using Halide::Var;

namespace {

// The output: one thread per (channel, tap) zeroes it, then adds the last level's sums over `last` in order.
void ScheduleFinalSum(DepthwiseBackpropFilterAlgorithm& a, const RVar& last) {
  constexpr int kThreads = 32;
  Var taps("taps"), d_block("d_block"), d_thread("d_thread");
  a.filter_grad.split(a.d, d_block, d_thread, kThreads, TailStrategy::GuardWithIf)
      .fuse(a.kw, a.kh, taps)
      .gpu_blocks(d_block, taps)
      .gpu_threads(d_thread);
  a.filter_grad.update(0)
      .split(a.d, d_block, d_thread, kThreads, TailStrategy::GuardWithIf)
      .fuse(a.kw, a.kh, taps)
      .reorder(last, d_thread, d_block, taps)
      .gpu_blocks(d_block, taps)
      .gpu_threads(d_thread);
}

}  // namespace

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

  ScheduleFinalSum(a, chunk);
}

void ScheduleGpuRegisterTaps(DepthwiseBackpropFilterAlgorithm& a, const Halide::Target& target) {
  Halide::Func& dw = a.filter_grad;
  constexpr int kThreads = 32;      // channels per block: one warp reads 32 consecutive NHWC channels
  constexpr int kChunkThreads = 4;  // chunks per block
  constexpr int kGroups = 32;       // the chunks' sums are added in this many interleaved groups, then those
  constexpr int kUnroll = 8;        // loads in flight per thread while adding
  RVar rows("rows"), chunk("chunk"), row("row"), group_outer("group_outer"), group_inner("group_inner");
  RVar step("step"), step_lane("step_lane");
  Var u("u"), u_block("u_block"), u_thread("u_thread"), v("v"), taps("taps"), d_block("d_block"),
      d_thread("d_thread");

  dw.update(0).fuse(a.rows.y, a.rows.z, rows).split(rows, chunk, row, a.rows_per_chunk, TailStrategy::GuardWithIf);
  // `partial` is each thread's own sum over its chunk; `chunk_sums`, a copy of it in global memory, is the
  // kernel that computes it (one thread per channel and chunk) and what the next level reads.
  Halide::Func partial = dw.update(0).rfactor(chunk, u);
  Halide::Func chunk_sums = partial.in();
  chunk_sums.compute_root().bound(u, 0, a.chunks);
  // 3x3 and 5x5: every tap of the thread's channel in registers (the loops over the taps have constant
  // extents in these branches, so `partial` is 9 or 25 registers), each input row read once per thread.
  for (int size : {3, 5}) {
    chunk_sums.specialize(a.filter_rows() == size && a.filter_cols() == size)
        .split(a.d, d_block, d_thread, kThreads, TailStrategy::GuardWithIf)
        .split(u, u_block, u_thread, kChunkThreads, TailStrategy::GuardWithIf)
        .reorder(a.kw, a.kh, d_thread, u_thread, d_block, u_block)
        .unroll(a.kw)
        .unroll(a.kh)
        .gpu_blocks(d_block, u_block)
        .gpu_threads(d_thread, u_thread);
  }
  // Other filters: one thread per (channel, tap, chunk), as gpu_row_chunks.
  chunk_sums.split(a.d, d_block, d_thread, kThreads, TailStrategy::GuardWithIf)
      .fuse(a.kw, a.kh, taps)
      .gpu_blocks(d_block, taps, u)
      .gpu_threads(d_thread);
  // Inside a thread the channel and chunk are fixed; only the taps remain (one of them in the generic case).
  partial.compute_at(chunk_sums, d_thread).unroll(a.kw).unroll(a.kh);
  // (Four columns per step, to have more loads in flight, was 20-40% slower on an H200's larger layers.)
  partial.update().reorder(a.kw, a.kh, a.rows.x, row, a.d, u).unroll(a.kw).unroll(a.kh);

  // The chunks' sums, in two levels with registers for the sums: a thread per (channel, tap, group) adds
  // every kGroups-th chunk, kUnroll loads at a time, then a thread per (channel, tap) adds the groups. Two
  // short chains instead of one long one, since a GPU thread waits out a load's whole latency at each step
  // of a chain. (The second level is an rfactor over an RVar of extent 1, so that it too is a Func of its
  // own, computed in registers, and the output's own update is a copy.)
  dw.update(0).split(chunk, group_outer, group_inner, kGroups, TailStrategy::GuardWithIf);
  Halide::Func group_sums = dw.update(0).rfactor(group_inner, v);
  RVar single("single"), group("group");
  Var w("w");
  dw.update(0).split(group_inner, single, group, kGroups, TailStrategy::GuardWithIf);
  Halide::Func total = dw.update(0).rfactor(single, w);
  const auto sum_in_registers = [&](Halide::Func sum, const Var& index, const RVar& chain) {
    Halide::Func out = sum.in();
    out.compute_root()
        .split(a.d, d_block, d_thread, kThreads, TailStrategy::GuardWithIf)
        .fuse(a.kw, a.kh, taps)
        .gpu_blocks(d_block, taps, index)
        .gpu_threads(d_thread);
    sum.compute_at(out, d_thread);
    sum.update().split(chain, step, step_lane, kUnroll, TailStrategy::GuardWithIf).unroll(step_lane);
  };
  sum_in_registers(group_sums, v, group_outer);
  sum_in_registers(total, w, group);

  ScheduleFinalSum(a, single);
}

}  // namespace codegen
}  // namespace halogen
