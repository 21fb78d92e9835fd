#include "codegen/schedules/depthwise_backprop_filter_schedules.h"

#include <utility>
#include <vector>

namespace halogen {
namespace codegen {

using Halide::RVar;
using Halide::TailStrategy;
using Halide::Var;

namespace {

constexpr int kThreads = 32;  // channels per block: one warp reads 32 consecutive NHWC channels

// The output's pure definition: one thread per (channel, tap) zeroes it.
void ScheduleOutputZero(DepthwiseBackpropFilterAlgorithm& a) {
  Var taps("taps"), d_block("d_block"), d_thread("d_thread");
  a.filter_grad.split(a.d, d_block, d_thread, kThreads, TailStrategy::GuardWithIf)
      .fuse(a.kw, a.kh, taps)
      .gpu_blocks(d_block, taps)
      .gpu_threads(d_thread);
}

// The output's update (`sum`, its default or a specialised branch): one thread per (channel, tap) adds the
// last level's sums over `last`, in order.
void ScheduleFinalSum(DepthwiseBackpropFilterAlgorithm& a, Halide::Stage sum, const RVar& last) {
  Var taps("taps"), d_block("d_block"), d_thread("d_thread");
  sum.split(a.d, d_block, d_thread, kThreads, TailStrategy::GuardWithIf)
      .fuse(a.kw, a.kh, taps)
      .reorder(last, d_thread, d_block, taps)
      .gpu_blocks(d_block, taps)
      .gpu_threads(d_thread);
}

// The output from partial sums that its update reads over `chunk` (one per chunk, in global memory), added
// in two levels with registers for the sums: a thread per (channel, tap, group) adds every kGroups-th
// chunk, kUnroll loads at a time, then a thread per (channel, tap) adds the groups. Two short chains
// instead of one long one, since a GPU thread waits out a load's whole latency at each step of a chain.
// (The second level is an rfactor over an RVar of extent 1, so that it too is a Func of its own, held in
// registers by the output's own update, which then adds it once; as a kernel of its own it cost a launch
// per call: 1-6% on an H100.)
void SumChunksInTwoLevels(DepthwiseBackpropFilterAlgorithm& a, Halide::Stage sum, const RVar& chunk) {
  constexpr int kGroups = kGpuRowGroups, kUnroll = 8, kGroupsPerBlock = 8;
  RVar group_outer("group_outer"), group_inner("group_inner"), single("single"), group("group");
  RVar step("step"), step_lane("step_lane");
  Var v("v"), w("w"), taps("taps"), d_block("d_block"), d_thread("d_thread");
  sum.split(chunk, group_outer, group_inner, kGroups, TailStrategy::GuardWithIf);
  Halide::Func group_sums = sum.rfactor(group_inner, v);
  sum.split(group_inner, single, group, kGroups, TailStrategy::GuardWithIf);
  Halide::Func total = sum.rfactor(single, w);
  // Level one: a kernel of its own (`group_sums` in registers, copied out by its wrapper), eight groups per
  // block: with one group per block of 32 threads, block scheduling alone took 14 us for a 5x5 layer.
  Halide::Func group_sums_out = group_sums.in();
  Var v_block("v_block"), v_thread("v_thread");
  group_sums_out.compute_root()
      .split(a.d, d_block, d_thread, kThreads, TailStrategy::GuardWithIf)
      .split(v, v_block, v_thread, kGroupsPerBlock, TailStrategy::GuardWithIf)
      .fuse(a.kw, a.kh, taps)
      .reorder(d_thread, v_thread, d_block, taps, v_block)
      .gpu_blocks(d_block, taps, v_block)
      .gpu_threads(d_thread, v_thread);
  group_sums.compute_at(group_sums_out, d_thread);
  group_sums.update().split(group_outer, step, step_lane, kUnroll, TailStrategy::GuardWithIf).unroll(step_lane);
  // Level two, inside the output's update.
  ScheduleFinalSum(a, sum, single);
  total.compute_at(a.filter_grad, d_thread);
  total.update().split(group, step, step_lane, kUnroll, TailStrategy::GuardWithIf).unroll(step_lane);
}

// NCHW on small work (see ScheduleGpuRegisterTaps): threads along the channels would touch 32 lines per load
// in NCHW, so `readers` (the sweeps in registers) read both tensors copied channel-innermost, in tiles of 32
// positions x 32 channels staged in shared memory (read along the row, written along the channels: both
// coalesced). The positions are 32 columns of a row, or, for images narrower than that, 32 consecutive
// positions of the flattened plane, which would otherwise leave most of a tile's lanes idle.
void CopyNchwChannelInnermost(DepthwiseBackpropFilterAlgorithm& a, const std::vector<Halide::Func>& readers) {
  constexpr int kTile = 32;
  const std::pair<Halide::Func, Halide::ImageParam> tensors[] = {{a.input_cols_zeroed, a.input},
                                                                 {a.out_backprop_cols_zeroed, a.out_backprop}};
  for (auto [source, tensor] : tensors) {
    const std::vector<Var> v = source.args();  // (w, h, c, n)
    Var rows("rows"), plane("plane"), p_block("p_block"), p_thread("p_thread"), c_block("c_block"),
        c_thread("c_thread");
    Halide::Func copy = source.in(readers);  // what the sweeps in registers read
    copy.compute_root().reorder_storage(v[2], v[0], v[1], v[3]);
    copy.specialize(tensor.dim(0).extent() >= kTile)
        .fuse(v[1], v[3], rows)
        .split(v[0], p_block, p_thread, kTile, TailStrategy::GuardWithIf)
        .split(v[2], c_block, c_thread, kTile, TailStrategy::GuardWithIf)
        .reorder(c_thread, p_thread, c_block, p_block, rows)
        .gpu_blocks(c_block, p_block, rows)
        .gpu_threads(c_thread, p_thread);
    copy.fuse(v[0], v[1], plane)
        .split(plane, p_block, p_thread, kTile, TailStrategy::GuardWithIf)
        .split(v[2], c_block, c_thread, kTile, TailStrategy::GuardWithIf)
        .reorder(c_thread, p_thread, c_block, p_block, v[3])
        .gpu_blocks(c_block, p_block, v[3])
        .gpu_threads(c_thread, p_thread);
    // The tile, staged: `source` itself stays inline for the sweeps that read the tensors in place.
    source.in(copy).compute_at(copy, c_block).reorder(v[0], v[2], v[1], v[3]).gpu_threads(v[0], v[2]);
  }
}

// gpu_register_taps for one branch of the output's update (`sum`): one chunk per row of the algorithm's flat
// rows and, unless `segment_columns` is 0, its columns in segments of that many. Returns the Func that reads
// the tensors.
Halide::Func SweepInRegisters(DepthwiseBackpropFilterAlgorithm& a, Halide::Stage sum, int segment_columns) {
  constexpr int kChunkThreads = 4;  // chunks per block
  constexpr int kMinRegisterThreads = 32768;
  RVar segment("segment"), column("column"), pieces("pieces");
  Var u("u"), q("q"), u_block("u_block"), u_thread("u_thread"), taps("taps"), tq("tq"), d_block("d_block"),
      d_thread("d_thread");
  const bool segments = segment_columns > 0;
  const RVar chunk = a.rows.y;  // the flat rows, a whole number of groups (kGroups)
  if (segments) sum.split(a.rows.x, segment, column, segment_columns, TailStrategy::GuardWithIf);
  // `partial` is each thread's own sum over its chunk (and segment); `chunk_sums`, a copy of it in global
  // memory, is the kernel that computes it (one thread per channel, chunk and segment) and what the next
  // level reads.
  Halide::Func partial = segments ? sum.rfactor({{chunk, u}, {segment, q}}) : sum.rfactor(chunk, u);
  Halide::Func chunk_sums = partial.in();
  chunk_sums.compute_root();
  // 3x3 and 5x5: every tap of the thread's channel in registers (the loops over the taps have constant
  // extents in these branches, so `partial` is 9 or 25 registers), each input row read once per thread.
  // Not for small work (a small batch): a thread per row and channel would leave most of the GPU idle, and
  // a thread per tap, as for other filters, has FH x FW times as many.
  const Halide::Expr threads = chunk.extent() * a.filter_grad.output_buffer().dim(0).extent() *
                               (segments ? (a.rows.x.extent() + segment_columns - 1) / segment_columns : 1);
  for (int size : {3, 5}) {
    Halide::Stage branch = chunk_sums.specialize(a.filter_rows() == size && a.filter_cols() == size &&
                                                 threads >= kMinRegisterThreads);
    branch.split(a.d, d_block, d_thread, kThreads, TailStrategy::GuardWithIf)
        .split(u, u_block, u_thread, kChunkThreads, TailStrategy::GuardWithIf)
        .unroll(a.kw)
        .unroll(a.kh)
        .gpu_threads(d_thread, u_thread);
    if (segments) {
      branch.reorder(a.kw, a.kh, d_thread, u_thread, d_block, u_block, q).gpu_blocks(d_block, u_block, q);
    } else {
      branch.reorder(a.kw, a.kh, d_thread, u_thread, d_block, u_block).gpu_blocks(d_block, u_block);
    }
  }
  // Other filters: one thread per (channel, tap, chunk, segment), as gpu_row_chunks.
  chunk_sums.split(a.d, d_block, d_thread, kThreads, TailStrategy::GuardWithIf).fuse(a.kw, a.kh, taps);
  if (segments) {
    chunk_sums.fuse(taps, q, tq).gpu_blocks(d_block, tq, u).gpu_threads(d_thread);
  } else {
    chunk_sums.gpu_blocks(d_block, taps, u).gpu_threads(d_thread);
  }
  // Inside a thread the channel, chunk and segment are fixed; only the taps remain (one of them in the
  // generic case). (Four columns per step, to have more loads in flight, was 20-40% slower on an H200; two
  // or four with a stride-1 specialisation, on an H100, 5-15% faster on 112x112x32 and 9-40% slower on
  // 56x56x144 and the 5x5 layers, for their registers.)
  partial.compute_at(chunk_sums, d_thread).unroll(a.kw).unroll(a.kh);
  if (segments) {
    partial.update().reorder(a.kw, a.kh, column, a.d, u, q).unroll(a.kw).unroll(a.kh);
    sum.fuse(segment, chunk, pieces);
    SumChunksInTwoLevels(a, sum, pieces);
  } else {
    partial.update().reorder(a.kw, a.kh, a.rows.x, a.d, u).unroll(a.kw).unroll(a.kh);
    SumChunksInTwoLevels(a, sum, chunk);
  }
  return partial;
}

// NCHW read in place, for large work: a block's 128 threads take `lane_cols` neighbouring columns of
// 128 / lane_cols consecutive output rows of one channel's plane, a warp's 32 threads one contiguous run of
// memory (rows of a plane follow one another, so a narrow image's few columns still fill a warp), and the
// block's warps share the input rows between their output rows while those rows are in cache. Each thread
// sweeps its column of kSerialRows of the block's row steps with every 3x3 or 5x5 tap in registers,
// stepping lane_cols columns at a time across wider rows; the sums of every (thread, chunk of rows) are
// then added as gpu_register_taps adds its chunks'. Each of a warp's loads is one or two cache lines, as in
// the NHWC sweep, with neither tensor copied (on an H100, batch 32: 112x112x96 stride 2 0.58 -> 0.18 ms,
// 112x112x32 0.34 -> 0.20, 7x7x960 0.072 -> 0.048 against the copies). The columns run up to whole lanes
// (the algorithm's lane columns): where a row ended inside a step, Halide gave the threads with one step
// fewer a code path of their own, and a warp ran both paths one after the other (112x112x32 under Nsight
// Compute: 16 of 32 threads active on average).
void SweepPlaneLanes(DepthwiseBackpropFilterAlgorithm& a, Halide::Stage sum, int lane_cols) {
  // Serial rows: 64 was slower on 13 of the 15 layers (112x112x32 0.20 -> 0.30 ms), 8 and 16 slower or
  // no faster on all but two (fewer rows per thread, more partial sums).
  constexpr int kBlockThreads = 128, kSerialRows = 32;
  const int block_rows = kBlockThreads / lane_cols;
  RVar col_step("col_step"), col_lane("col_lane"), chunk("chunk"), chunk_row("chunk_row"), row_step("row_step"),
      row_lane("row_lane"), lanes("lanes"), pieces("pieces");
  Var l("l"), m("m"), u("u"), taps("taps"), tu("tu");
  sum.split(a.rows.x, col_step, col_lane, lane_cols, TailStrategy::GuardWithIf)
      .split(a.rows.y, chunk, chunk_row, block_rows * kSerialRows, TailStrategy::GuardWithIf)
      .split(chunk_row, row_step, row_lane, block_rows, TailStrategy::GuardWithIf);
  Halide::Func partial = sum.rfactor({{col_lane, l}, {row_lane, m}, {chunk, u}});
  Halide::Func chunk_sums = partial.in();
  chunk_sums.compute_root();
  for (int size : {3, 5}) {
    chunk_sums.specialize(a.filter_rows() == size && a.filter_cols() == size)
        .unroll(a.kw)
        .unroll(a.kh)
        .reorder(a.kw, a.kh, l, m, a.d, u)
        .gpu_blocks(a.d, u)
        .gpu_threads(l, m);
  }
  // Other filters: a thread per tap as well.
  chunk_sums.fuse(a.kw, a.kh, taps).reorder(l, m, a.d, taps, u).fuse(taps, u, tu).gpu_blocks(a.d, tu)
      .gpu_threads(l, m);
  partial.compute_at(chunk_sums, l).unroll(a.kw).unroll(a.kh);
  partial.update().reorder(a.kw, a.kh, col_step, row_step, a.d, l, m, u).unroll(a.kw).unroll(a.kh);
  sum.fuse(col_lane, row_lane, lanes).fuse(lanes, chunk, pieces);
  SumChunksInTwoLevels(a, sum, pieces);
}

}  // namespace

void ScheduleGpuRowChunks(DepthwiseBackpropFilterAlgorithm& a, const Halide::Target& target) {
  Halide::Func& dw = a.filter_grad;
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

  ScheduleOutputZero(a);
  ScheduleFinalSum(a, dw.update(0), chunk);
}

void ScheduleGpuRegisterTaps(DepthwiseBackpropFilterAlgorithm& a, const Halide::Target& target) {
  // With few rows (a small batch), threads sweep segments of 32 columns: more threads, shorter sweeps
  // (56x56x144 at batch 1: 0.049 -> 0.035 ms on an H200). With many rows, they sweep whole rows: there are
  // threads enough, and segments would only multiply the partial sums (112x112x32 at batch 32: 0.10 -> 0.15
  // ms). (A segment width chosen at run time cost the whole-row case 10-30%; hence two branches.) Images at
  // most 32 columns wide have one segment per row, so they take the whole-row branch whatever their rows.
  constexpr int kSegmentColumns = 32, kManyRows = 1024;
  ScheduleOutputZero(a);
  const Halide::Expr total_rows = a.rows.y.extent(), columns = a.rows.x.extent();
  Halide::Stage dw = a.filter_grad.update(0);
  if (a.format == DataFormat::kNCHW) {
    // Each lane width's own branch, whose rows are a whole number of its steps (see lane_width()).
    for (int width : a.kLaneWidths) {
      SweepPlaneLanes(a, dw.specialize(a.lane_columns && a.lane_width_fits(width)), width);
    }
  }
  const std::vector<Halide::Func> readers = {
      SweepInRegisters(a, dw.specialize(total_rows <= kManyRows && columns > kSegmentColumns), kSegmentColumns),
      SweepInRegisters(a, dw, 0)};
  if (a.format == DataFormat::kNCHW) CopyNchwChannelInnermost(a, readers);
}

}  // namespace codegen
}  // namespace halogen
