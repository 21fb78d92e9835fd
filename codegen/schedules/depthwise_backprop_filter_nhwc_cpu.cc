#include "codegen/schedules/depthwise_backprop_filter_schedules.h"

#include <tuple>
#include <vector>

namespace halogen {
namespace codegen {

using Halide::Expr;
using Halide::RVar;
using Halide::TailStrategy;
using Halide::Var;

namespace {

// The deepest position (channels x bytes) that the 3x3 register sweep takes at either stride, and the
// shallowest that it takes at stride 1 (see ScheduleCpuChannelTaps); tensors of any size.
constexpr int kMaxRegisterSweepPositionBytes = 128;
constexpr int kMinDeepRegisterSweepPositionBytes = 3072;
// The shallowest position (channels x bytes) whose 3x3 column-phase sums are first summed in registers over
// groups of kPhaseGroupColumnPairs pairs of input columns (see SchedulePhaseSums).
constexpr int kMinGroupedPhasePositionBytes = 1536;
constexpr int kPhaseGroupColumnPairs = 4;

// The loops of a reduction over (columns, rows, images) split into fixed chunks of rows.
struct RowChunks {
  RVar image_chunk{"image_chunk"}, image{"image"}, row_chunk{"row_chunk"}, row{"row"};
  Var u{"u"}, w{"w"}, z{"z"}, d_outer{"d_outer"}, d_inner{"d_inner"};
};

// Partial sums over fixed chunks of rows, one parallel task each, combined in chunk order. A chunk holds
// whole images, or for a small batch a band of one image's rows: either way the rows inside it are a
// plain (image, row) loop nest, so per row the kernel neither divides a fused index nor lets bounds
// inference widen a row's footprint to the whole image. rows_per_chunk (batch x rows / 16) fixes both.
// Returns the partial sums (computed at root, their pure definition vectorised over channels); the
// caller schedules their update, whose chunk loops are c.w and c.u.
//
// Only the sweeps are parallel loops. Each parallel loop costs a call a hand-over to the thread pool and
// a wait for its slowest task, whatever its work: zeroing the result had been FH * FW of them per call (its
// channel loop, parallel, inside the taps' loops), and zeroing the chunk sums and adding them one each per
// update, taken or not. Those loops touch FH * FW * C values per chunk, microseconds of work, so they run
// on the calling thread: 13 (3x3) or 29 (5x5) parallel loops per call -> 1 (14x14x576 batch 1 at two
// threads 0.10-0.15 -> 0.07-0.09 ms).
Halide::Func SumPerChunk(Halide::Stage stage, const Halide::RDom& rows, const RowChunks& c,
                         DepthwiseBackpropFilterAlgorithm& a, int lanes) {
  const Expr out_rows = a.out_backprop.dim(2).extent();
  const Expr images_per_chunk = Halide::max(a.rows_per_chunk / out_rows, 1);
  const Expr rows_per_band = Halide::min(a.rows_per_chunk, out_rows);
  stage.split(rows.z, c.image_chunk, c.image, images_per_chunk, TailStrategy::GuardWithIf)
      .split(rows.y, c.row_chunk, c.row, rows_per_band, TailStrategy::GuardWithIf)
      .reorder(rows.x, c.row, c.image, c.row_chunk, c.image_chunk);
  Halide::Func partial = stage.rfactor({{c.image_chunk, c.u}, {c.row_chunk, c.w}});
  partial.compute_root();
  partial.split(a.d, c.d_outer, c.d_inner, lanes, TailStrategy::GuardWithIf).vectorize(c.d_inner);
  return partial;
}

// How a register sweep (below) lays out its work.
struct RegisterSweep {
  int vectors = 2;  // vectors of channels per block; the accumulators are vectors * FW
  int columns = 2;  // output columns per step, sharing their input loads
  // Each block of channels sweeps all of the chunk's rows before the next block, rather than each row
  // taking every block in turn.
  bool channels_outside_rows = false;
  // The accumulators of every filter row stay in registers through a whole image (FH * FW * vectors of
  // them), rather than one filter row's through one output row; implies channels_outside_rows.
  bool image_in_registers = false;
};

// Accumulators in registers: 25 taps do too much arithmetic per byte for the L1 sweep (two loads and a
// store per multiply-add). Each row's sums become their own reduction over the columns, computed per
// (block of channels, filter row): vectors * FW accumulators that stay in registers along the row. Columns
// per step share their input loads (with two vectors, two columns: a 5-tap row needs 6 input vectors for 10
// multiply-adds instead of 10, 12-14% faster than one column; four or more spill). With the blocks outside
// the rows, the five input rows of one output row are still in L1 for the next four (a block of a padded
// 14x14x672 image is 10-20 KiB; the whole image, 0.9 MB, is not even in L2); one vector and four columns
// per step then keep every accumulator in registers (two vectors and two columns spilled three per step):
// 14x14x672 4.2 -> 3.75 ms, 28x28x240 4.6 -> 4.2 at two threads. With image_in_registers each image's sums
// are the reduction instead, over its rows and columns, computed per block of channels (FH * FW * vectors
// accumulators).
void SweepInRegisters(Halide::Stage stage, Halide::Func partial, const Halide::RDom& rows,
                      DepthwiseBackpropFilterAlgorithm& a, const RowChunks& c, int lanes, const RegisterSweep& sweep) {
  Var v("v"), y("y"), d_vector("d_vector"), d_lane("d_lane");
  const RVar &image = c.image, &row = c.row;
  const Var &u = c.u, &w = c.w, &z = c.z, &d_outer = c.d_outer, &d_inner = c.d_inner;
  const bool whole_image = sweep.image_in_registers;
  Halide::Func sums = whole_image ? stage.rfactor({{image, y}}) : stage.rfactor({{row, v}, {image, y}});
  stage.split(a.d, d_outer, d_inner, sweep.vectors * lanes, TailStrategy::RoundUp);
  if (whole_image) {
    stage.reorder(d_inner, a.kw, a.kh, d_outer, image, w, u).unroll(a.kh);
  } else if (sweep.channels_outside_rows) {
    stage.reorder(d_inner, a.kw, a.kh, row, d_outer, image, w, u);
  } else {
    stage.reorder(d_inner, a.kw, a.kh, d_outer, row, image, w, u);
  }
  stage.vectorize(d_inner).unroll(a.kw).fuse(w, u, z).parallel(z);
  sums.compute_at(partial, whole_image ? d_outer : a.kh)
      .split(a.d, d_vector, d_lane, lanes)
      .vectorize(d_lane)
      .unroll(d_vector)
      .unroll(a.kw)
      .unroll(a.kh);
  RVar column_step("column_step"), column("column");
  std::vector<Halide::VarOrRVar> order = {d_lane, d_vector, a.kw, column, a.kh, column_step};
  if (whole_image) order.push_back(row);
  sums.update()
      .split(a.d, d_vector, d_lane, lanes)
      .split(rows.x, column_step, column, sweep.columns, TailStrategy::GuardWithIf)
      .reorder(order)
      .vectorize(d_lane)
      .unroll(d_vector)
      .unroll(a.kw)
      .unroll(column)
      .unroll(a.kh);
}

// The column-phase sums (update 1 of filter_grad, stride 2), over the same chunks of rows as update 0:
// per row and run of two input columns, each phase's channels in order, so that each input row is one
// stream read in memory order (one load per filter row and value, shared by both shifts).
void SchedulePhaseSums(DepthwiseBackpropFilterAlgorithm& a, const Halide::Target& target) {
  Halide::Func& sums = a.phase_sums;
  const Halide::RDom& r = a.phase_rows;  // (j, oh, n)
  const int lanes = target.natural_vector_size(a.input.type());
  const RowChunks c;
  const RVar &image_chunk = c.image_chunk, &image = c.image, &row_chunk = c.row_chunk, &row = c.row;
  const Var &u = c.u, &w = c.w, &z = c.z, &d_outer = c.d_outer, &d_inner = c.d_inner;

  sums.bound(a.phase, 0, 2).bound(a.shift, 0, 2).compute_root();
  Halide::Func partial = SumPerChunk(sums.update(), r, c, a, lanes);
  // The phase loop stays a loop (not unrolled): one load instruction then walks the run contiguously,
  // which is what the prefetchers follow.
  const auto sweep = [&](Halide::Stage stage, bool unroll_taps) {
    stage.split(a.d, d_outer, d_inner, lanes, TailStrategy::GuardWithIf)
        .reorder(d_inner, a.shift, a.kh, d_outer, a.phase, r.x, row, image, w, u)
        .vectorize(d_inner)
        .unroll(a.shift);
    if (unroll_taps) stage.unroll(a.kh);
    stage.fuse(w, u, z).parallel(z);
  };
  // Deep positions first sum a group of column pairs in registers (`group_sums`: 12 vectors, both phases,
  // both shifts, three filter rows), then add them to the chunk's sums once per group instead of once per
  // pair. The chunk's sums hold 12 x depth values, at 576 floats 27 KiB of L1's 32, so beside the rows
  // streaming past each of their loads and stores was likely to miss. The group's channels are still read
  // in runs of whole positions, which the prefetchers follow. Ahead-of-time builds alternated call by call
  // on an AMD EPYC (Zen 4), two threads, batch 32, grouped in fours / not, hot and cold, stride 2:
  // 14x14x576 0.63-0.66 / 0.80-0.81, 14x14x384 0.63-0.67 / 0.88-0.94, 28x28x384 0.85 / 0.95 (in sevens,
  // 14x14x960 cold 0.90). Shallower positions keep the pairs: 28x28x256 0.96 / 1.08, 56x56x256 1.12 / 1.02,
  // 28x28x192 in twos or sevens 1.07-1.25 / 1.33. Groups of four against seven (a 14-wide row's seven
  // pairs) 1.02-1.05 hot; groups of two against none 0.78-0.79 / 0.83-0.87 (14x14x576). Whole vectors only:
  // a group's sums are a full vector.
  const Expr depth = a.filter_grad.output_buffer().dim(0).extent();
  Halide::Stage grouped = partial.update().specialize(
      a.filter_rows() == 3 && a.multiplier == 1 && depth % lanes == 0 &&
      depth * a.input.type().bytes() >= kMinGroupedPhasePositionBytes);
  {
    RVar pair_group("pair_group"), pair_in_group("pair_in_group");
    Var group_v("group_v"), row_v("row_v"), image_v("image_v");
    grouped.split(r.x, pair_group, pair_in_group, kPhaseGroupColumnPairs, TailStrategy::GuardWithIf);
    Halide::Func group_sums = grouped.rfactor({{pair_group, group_v}, {row, row_v}, {image, image_v}});
    grouped.split(a.d, d_outer, d_inner, lanes, TailStrategy::GuardWithIf)
        .reorder(d_inner, a.shift, a.kh, d_outer, a.phase, pair_group, row, image, w, u)
        .vectorize(d_inner)
        .unroll(a.shift)
        .unroll(a.kh)
        .fuse(w, u, z)
        .parallel(z);
    // The group's loops are each one iteration here; saying so keeps the sums a constant size, in registers.
    group_sums.compute_at(partial, d_outer)
        .bound_extent(a.d, lanes)
        .bound_extent(group_v, 1)
        .bound_extent(row_v, 1)
        .bound_extent(image_v, 1)
        .vectorize(a.d)
        .unroll(a.shift)
        .unroll(a.kh)
        .unroll(a.phase);
    group_sums.update()
        .reorder(a.d, a.shift, a.kh, pair_in_group, a.phase)
        .vectorize(a.d)
        .unroll(a.shift)
        .unroll(a.kh)
        .unroll(a.phase)
        .unroll(pair_in_group);
  }
  // Multiplier 1 (the only one that takes the phase sums) turns the channel index d / M into a dense load.
  sweep(partial.update().specialize(a.filter_rows() == 3 && a.multiplier == 1), true);
  sweep(partial.update().specialize(a.multiplier == 1), false);
  sweep(partial.update(), false);

  sums.split(a.d, d_outer, d_inner, lanes, TailStrategy::GuardWithIf).vectorize(d_inner);
  sums.update()
      .split(a.d, d_outer, d_inner, lanes, TailStrategy::GuardWithIf)
      .reorder(d_inner, row_chunk, image_chunk, a.phase, a.shift, a.kh, d_outer)
      .vectorize(d_inner);
  a.filter_grad.update(1)
      .split(a.d, d_outer, d_inner, lanes, TailStrategy::GuardWithIf)
      .reorder(d_inner, a.kw, a.kh, d_outer)
      .vectorize(d_inner);
}

}  // namespace

void ScheduleCpuChannelTaps(DepthwiseBackpropFilterAlgorithm& a, const Halide::Target& target) {
  Halide::Func& dw = a.filter_grad;
  const int lanes = target.natural_vector_size(a.input.type());
  const RowChunks c;
  const RVar &image_chunk = c.image_chunk, &image = c.image, &row_chunk = c.row_chunk, &row = c.row;
  const Var &u = c.u, &w = c.w, &z = c.z, &d_outer = c.d_outer, &d_inner = c.d_inner;

  Halide::Func partial = SumPerChunk(dw.update(0), a.rows, c, a, lanes);
  // When another update takes the sums, this one sweeps no images (a.rows), in a serial loop. Its own
  // branch first, so that the branches below know it is not taken: a condition that the specialisations'
  // own terms do not settle (the 3x3 padded-image sums depend on the batch and depth) would otherwise
  // leave their image count a run-time select, whose guard kept the register sweep's row sums on the
  // stack (14x14x576 batch 4 hot 0.15 -> 0.33 ms).
  partial.update().specialize(a.use_other_sums);

  // Accumulators in L1: per output position, each vector of channels loads its out_backprop vector once
  // and applies it to every tap, so each row streams past once, contiguously, with all its channels. The
  // chunk's accumulators (FH * FW * C * M values) stay in L1. This suits few taps, where the kernel is
  // bound by memory bandwidth anyway. With the taps unrolled, two output rows share each step (3x3 layers
  // 1-18% faster at batch 32; three or four rows were slower): the rows' common input rows are loaded once,
  // and the pair's products for a vector of channels are first summed in registers (`pair_sums`, constant
  // extents inside the specialisation), so each tap's accumulator takes one load and one store per pair.
  // Adding the pair straight into the accumulators had left a load and a store per row: the accumulators
  // of different taps lie a run-time stride apart, so the compiler could not tell them apart and merge
  // the two (3x3 stride-1 layers a further 1-11% faster, 5-6% at 56x56 and 112x112).
  //
  // With multiplier 1 each filter row then takes its own pass over the channels (`rows_of_taps_apart`):
  // a step of all nine taps read 23 streams (12 input, 2 out_backprop, 9 accumulators) at run-time
  // strides, more pointers than registers, and a profile of its loop was mostly pointers and vectors
  // spilled and reloaded from the stack (about 40 loads and 13 stores per 18 multiply-adds). A filter
  // row's step reads 11 streams and spills nothing (33 loads and 9 stores per 18, the input rows shared
  // by two filter rows loaded twice, from L1). Ahead-of-time builds alternated call by call, two threads,
  // batch 32 cold: 56x56x144 12.1 -> 10.4 ms, 28x28x192 4.4 -> 4.0, 14x14x384 3.2 -> 2.6 (2-11% in three
  // later runs), 14x14x576 4.0 -> 3.5, 112x112x32 and 7x7x960 within noise; batch 1 56x56x144 hot 0.240 ->
  // 0.212, cold unchanged (0.52). Multiplier 2, whose input vectors are shuffled from dense loads, was 4-5%
  // slower that way (56x56x144 17.1 -> 17.9 ms), so it keeps the step of nine taps. Two columns per step
  // beside it (15 streams) were up to 30% slower, three rows per step 8-40% slower.
  const Expr depth = dw.output_buffer().dim(0).extent();
  // The channel blocks that the 3x3 pair sums and the 5x5 one-block register sweep take: a vector, and where
  // vectors hold 8 or more lanes, half of one (a depth of whole half vectors: 40, 72, 120 floats on 16 lanes).
  std::vector<int> block_widths = {lanes};
  if (lanes >= 8) block_widths.push_back(lanes / 2);
  // `pair_sums`: stride 1 only; at stride 2, where a pair shares one input row of three, they were 5% slower.
  const auto sweep_in_l1 = [&](Halide::Stage stage, bool unroll_taps, bool use_pair_sums = false,
                               bool rows_of_taps_apart = false) {
    const auto finish = [&](Halide::Stage st) { st.vectorize(d_inner).fuse(w, u, z).parallel(z); };
    if (!unroll_taps) {
      stage.split(a.d, d_outer, d_inner, lanes, TailStrategy::GuardWithIf)
          .reorder(d_inner, a.kw, a.kh, d_outer, a.rows.x, row, image, w, u);
      finish(stage);
      return;
    }
    RVar row_pair("row_pair"), row_in_pair("row_in_pair");
    // Whole vectors of channels only: the pair sums are always a full vector (a constant extent keeps them
    // in registers; with a guarded last vector they were allocated per step and 3x3 layers ran up to 50%
    // slower), and past the last channel there is no input to read. A depth of whole half vectors (40, 72,
    // 120 floats on 16-lane vectors) takes them in half vectors rather than the guarded sweep below.
    // Ahead-of-time builds alternated call by call, two threads, hot: 56x56x40 batch 8 0.360 -> 0.224 ms
    // (56x56x48: 0.229), 28x28x72 0.139 -> 0.106, 14x14x120 0.064 -> 0.053, multiplier 2 on 56x56x20 1.12 ->
    // 0.22; cold 56x56x40 batch 32 1.99 -> 1.71.
    for (int vector : use_pair_sums ? block_widths : std::vector<int>()) {
      Halide::Stage whole = stage.specialize(depth % vector == 0);
      Var column_v("column_v"), pair_v("pair_v"), image_v("image_v");
      whole.split(row, row_pair, row_in_pair, 2, TailStrategy::GuardWithIf);
      Halide::Func pair_sums = whole.rfactor({{a.rows.x, column_v}, {row_pair, pair_v}, {image, image_v}});
      whole.split(a.d, d_outer, d_inner, vector, TailStrategy::GuardWithIf);
      if (rows_of_taps_apart) {
        whole.reorder(d_inner, a.kw, d_outer, a.kh, a.rows.x, row_pair, image, w, u);
      } else {
        whole.reorder(d_inner, a.kw, a.kh, d_outer, a.rows.x, row_pair, image, w, u);
      }
      whole.unroll(a.kw).unroll(a.kh);
      finish(whole);
      pair_sums.compute_at(partial, d_outer).bound_extent(a.d, vector).vectorize(a.d).unroll(a.kw).unroll(a.kh);
      pair_sums.update()
          .reorder(a.d, a.kw, a.kh, row_in_pair)
          .vectorize(a.d)
          .unroll(a.kw)
          .unroll(a.kh)
          .unroll(row_in_pair);
    }
    stage.split(a.d, d_outer, d_inner, lanes, TailStrategy::GuardWithIf)
        .split(row, row_pair, row_in_pair, 2, TailStrategy::GuardWithIf)
        .reorder(d_inner, a.kw, a.kh, row_in_pair, d_outer, a.rows.x, row_pair, image, w, u)
        .unroll(row_in_pair)
        .unroll(a.kw)
        .unroll(a.kh);
    finish(stage);
  };
  // Constant strides let Halide peel the column edges off the column loop; constant multipliers turn the
  // channel index d / M into a dense load and a shuffle instead of a gather.
  const Expr undilated = a.dilation_rows == 1 && a.dilation_cols == 1;
  // The register sweep makes no store per multiply-add; the L1 sweep makes one per tap and row pair. But
  // each pass of the register sweep reads one block of two vectors of channels of every position, so a row
  // of deeper positions is first touched at a stride of a position, which the hardware prefetchers do not
  // follow far (a 4 KiB page holds a few positions): cold, those reads wait on DRAM one after another. So
  // positions of at most 128 bytes take it, one block then being the whole position (two lines, which the
  // prefetchers fetch as a pair), read in memory order as the L1 sweep reads it. Ahead-of-time builds
  // alternated call by call at two threads, batch 1, cold / hot ms, register sweep against L1 sweep:
  // 56x56x144 1.00 / 0.22 against 0.53 / 0.25, 14x14x576 0.52 / 0.085 against 0.31 / 0.084, 56x56x64 0.39 /
  // 0.073 against 0.26 / 0.079, 7x7x960 0.21 / 0.092 against 0.14 / 0.072; 112x112x32 0.44 / 0.14 against
  // 0.45 / 0.20. Shallow positions had taken it only in tensors of at most 4 MiB; on an AMD EPYC (Zen 4,
  // 32 KiB L1, 1 MiB L2), with tensors aligned to 128 bytes, it is faster at any size: batch 32, new / old
  // time, hot and cold, 112x112x32 0.87 / 0.87 (one thread cold 0.74), 56x56x32 0.60 / 0.74; at stride 2
  // on odd widths (even ones take the column-phase sums) 111x111x32 0.89 / 0.95, 55x55x32 0.99 / 0.78.
  // The limits are tuner parameters.
  const Expr shallow_positions = depth * a.input.type().bytes() <= kMaxRegisterSweepPositionBytes;
  // Deep positions take it too, at stride 1: the L1 sweep keeps all nine taps' accumulators of a chunk in
  // L1 (9 x depth values), which at 960 floats is 34 KiB of the 48, and the rows it reads no longer fit
  // beside them. Ahead-of-time builds alternated call by call, two threads, cold / hot ms:
  // 7x7x960 batch 32 0.94 / 0.49 -> 0.75 / 0.41 (0.77 -> 0.59 cold in a second run), 10x10x960 1.60 -> 1.25,
  // 14x14x960 3.25 / 1.80 -> 2.80 / 1.48, 7x7x1280 batch 16 0.72 -> 0.50; batch 1 7x7x960 0.056 / 0.028 ->
  // 0.045 / 0.024. Shallower, the L1 sweep stays ahead: 7x7x576 hot 0.24 -> 0.29, 14x14x576 0.82 -> 0.93,
  // 14x14x384 cold 1.12 -> 1.34, 28x28x192 2.0 -> 2.7; so does stride 2 (15x15x960 1.33 -> 1.62).
  const Expr deep_positions = depth * a.input.type().bytes() >= kMinDeepRegisterSweepPositionBytes;
  for (int stride : {1, 2}) {
    const Expr takes_it = stride == 1 ? shallow_positions || deep_positions : shallow_positions;
    SweepInRegisters(partial.update().specialize(a.filter_cols() == 3 && a.filter_rows() == 3 && a.stride == stride &&
                                                 a.multiplier == 1 && undilated && depth % (2 * lanes) == 0 &&
                                                 takes_it),
                     partial, a.rows, a, c, lanes, RegisterSweep());
  }
  for (int stride : {1, 2}) {
    for (int multiplier : {1, 2}) {
      sweep_in_l1(partial.update().specialize(a.filter_cols() == 3 && a.filter_rows() == 3 && a.stride == stride &&
                                              a.multiplier == multiplier && undilated),
                  true, stride == 1, stride == 1 && multiplier == 1);
    }
    SweepInRegisters(partial.update().specialize(a.filter_cols() == 5 && a.filter_rows() == 5 && a.stride == stride &&
                                                 a.multiplier == 1 && undilated && depth % (2 * lanes) == 0),
                     partial, a.rows, a, c, lanes, RegisterSweep());
    // A depth of an odd number of vectors (EfficientNet-B0's 56x56x144 5x5 stride 2) in blocks of one
    // vector, three columns per step (15 accumulators); it had gone to the L1 sweep. Ahead-of-time builds
    // alternated call by call, two threads: 56x56x144 stride 2 batch 32 cold 8.7 -> 5.7 ms, batch 8 hot 1.71
    // -> 0.55; 14x14x48 batch 8 hot 0.041 -> 0.022. Two and four columns per step were 3-10% slower.
    RegisterSweep one_vector;
    one_vector.vectors = 1;
    one_vector.columns = 3;
    // A depth of whole half vectors takes the same in half vectors: 14x14x40 batch 8 hot 0.141 -> 0.058 ms
    // (14x14x48: 0.033), 28x28x72 0.87 -> 0.30, 28x28x40 stride 2 0.146 -> 0.068, 28x28x40 batch 32 cold 2.26
    // -> 0.93; it too had gone to the L1 sweep.
    for (int vector : block_widths) {
      SweepInRegisters(partial.update().specialize(a.filter_cols() == 5 && a.filter_rows() == 5 &&
                                                   a.stride == stride && a.multiplier == 1 && undilated &&
                                                   depth % vector == 0),
                       partial, a.rows, a, c, vector, one_vector);
    }
  }
  // The shapes left (other filters, dilations, other multipliers, depths of no whole half vectors), with 5x5
  // filters apart: see keeps_padding_masks. Without that branch, multiplier 4 on 28x28x48 3x3 was 11% slower
  // with padding_by_select, 7x7 filters and 5x5 multiplier 2 5%.
  std::vector<Halide::Stage> rest = {partial.update()};
  if (a.keeps_padding_masks.defined()) rest.insert(rest.begin(), partial.update().specialize(a.keeps_padding_masks));
  for (Halide::Stage& stage : rest) {
    for (int multiplier : {1, 2, 4}) sweep_in_l1(stage.specialize(a.multiplier == multiplier), false);
    sweep_in_l1(stage, false);
  }

  // The result's zeroing and each update's sum of its chunks run on the calling thread (see SumPerChunk).
  dw.split(a.d, d_outer, d_inner, lanes, TailStrategy::GuardWithIf).vectorize(d_inner);
  // Each update adds its chunks' partial sums in chunk order.
  const auto add_chunks = [&](Halide::Stage stage) {
    stage.split(a.d, d_outer, d_inner, lanes, TailStrategy::GuardWithIf)
        .reorder(d_inner, row_chunk, image_chunk, a.kw, a.kh, d_outer)
        .vectorize(d_inner);
  };
  add_chunks(dw.update(0));
  if (a.has_phase_sums) SchedulePhaseSums(a, target);
  if (a.has_padded_sums) {
    // Each image's padded copy is made once, in memory order, by the task that sweeps it. Only 5x5 filters
    // (and 3x3 on deep positions of small images) of multiplier 1 on whole vectors of channels take these
    // sums; the other branch is never run. With use_padded_sums itself in the condition, the sums' extents
    // are exact inside the branch: the guard of the image loop folds away and the row sums stay in
    // registers (without it, a loop over a run-time count of images kept them on the stack: 14x14x672 at
    // one thread 17 against 7 ms).
    //
    // Both copies are in blocks of one vector of channels (see padded_input), made per image reading the
    // tensors in memory order (a position's blocks innermost), so that each block's sweep reads its own
    // contiguous copies. Copies that kept the tensors' layout (one of the input, none of out_backprop) gave
    // each block one vector of every 64-byte line, each line read twice, once per block, from L2 or L3: the
    // sweep stalled on those loads, out_backprop's most (a position apart on every column). Ahead-of-time
    // builds alternated call by call, cold, medians at two threads (one): blocking the input 28x28x240 9.8 ->
    // 9.6 ms, 14x14x672 8.8 -> 8.0 (one thread 4-14% faster), then adding the blocked out_backprop 10.3 ->
    // 8.3 and 8.3 -> 6.4 (14.8 -> 12.2 and 11.0 -> 8.1); batch 1 14x14x672 cold 0.49 -> 0.48 (0.48 -> 0.42),
    // hot 0.148 -> 0.152 (0.206 -> 0.215). Copying one block at a time (positions innermost: a strided read
    // of the tensor) was 25-40% slower, and groups of eight blocks per copy, sized to stay in L2, up to 25%.
    //
    // A copy writes each position's blocks one after another, a block's plane apart. Where that distance is
    // a multiple of 1 KiB (planes of a multiple of 32 positions of 32 bytes, as 28x28 padded to 32x32), the
    // blocks fall in at most four of L1's 4 KiB-periodic sets, more lines than their ways hold, and each
    // store missed L1: copying a 32x32x240 image into blocks 32 KiB apart took 2.4x as long as 33x33 apart
    // (a microbenchmark, from L3). Such planes are stored with an odd number of columns and of rows, so
    // their blocks spread over every set. Ahead-of-time builds alternated call by call, cold: 28x28x240
    // at batch 32, two threads 5.9 -> 5.4 and 6.6 -> 5.9 ms in two runs, one thread 11.5 -> 10.2; its
    // stride-2 form and 14x14x672 (18x18 planes, not padded) unchanged.
    const Expr out_cols = a.out_backprop.dim(1).extent(), out_rows = a.out_backprop.dim(2).extent();
    const auto extent_of_taps = [&](const Expr& outputs, const Expr& taps, const Expr& dilation) {
      return (outputs - 1) * a.stride + (taps - 1) * dilation + 1;
    };
    const Expr padded_width = extent_of_taps(out_cols, a.filter_cols(), a.dilation_cols);
    const Expr padded_height = extent_of_taps(out_rows, a.filter_rows(), a.dilation_rows);
    Halide::Func padded_partial = SumPerChunk(dw.update(a.padded_sums_update), a.padded_rows, c, a, lanes);
    for (auto [copy, cols, rows] : {std::tuple{a.padded_input, padded_width, padded_height},
                                    std::tuple{a.padded_out_backprop, out_cols, out_rows}}) {
      const std::vector<Var> v = copy.args();  // (lane, w, h, block, n)
      copy.compute_at(padded_partial, image).bound(v[0], 0, lanes).reorder(v[0], v[3], v[1], v[2]).vectorize(v[0]);
      const Expr shares_sets = (cols * rows) % 32 == 0;
      const auto odd = [&](const Expr& extent) { return Halide::select(shares_sets, extent | 1, 1); };
      copy.align_storage(v[1], odd(cols)).align_storage(v[2], odd(rows));
      // Two blocks per step, both loads ahead of both stores. With one load and one store per step the copy
      // ran at half the memory's speed on an AMD EPYC (Zen 4), its loads 64-byte aligned like its stores;
      // the same loop on a tensor 16 bytes off alignment ran 1.8x as fast, and so did two loads per step or
      // a software prefetch. (Likely the core's guess of which loads depend on older stores, made on the
      // low 12 address bits, which aligned loads and stores often share: each load then waits on a store
      // that waits on the load before it, and the DRAM reads go one at a time.) A microbenchmark at two
      // threads, 14x14x672 images from DRAM: 16 -> 26-29 GB/s, 30 off alignment. Ahead-of-time builds
      // alternated call by call, two threads, batch 32, hot / cold: 14x14x672 0.81-0.84 / 0.87-0.97 of the
      // time, 28x28x240 0.89 / 0.92; batch 1 14x14x672 0.93 / 0.97. Six blocks per step were no faster.
      Var block_pair("block_pair"), block_in_pair("block_in_pair");
      copy.split(v[3], block_pair, block_in_pair, 2, TailStrategy::GuardWithIf).unroll(block_in_pair);
    }
    RegisterSweep padded_5x5_sweep;
    padded_5x5_sweep.vectors = 1;
    padded_5x5_sweep.columns = 4;
    padded_5x5_sweep.channels_outside_rows = true;
    // With 32 vector registers (AVX-512), 5x5 keeps all 25 taps' accumulators in registers through the image
    // too, two columns per step (25 accumulators, two out_backprop vectors, five registers for inputs; most
    // inputs are read as memory operands of the multiply-adds). Each filter row's pass had held five
    // accumulators fed by four columns per step, chains four multiply-adds deep: a profile at one thread
    // (14x14x672 hot) had the sweep at about one multiply-add per cycle and the copies at nearly half of the
    // time. Ahead-of-time builds alternated call by call on an Intel Xeon (family 6 model 207), two threads,
    // batch 32, new / old time in both orders, cold and hot: 14x14x672 0.89-0.99 / 0.89-0.93, 28x28x240
    // 0.92-0.95 / 0.91-0.92; batch 8 28x28x240 hot 0.89; batch 1 14x14x672 hot 0.92-0.96 (cold within noise).
    // Three columns per step against two were level (0.95-1.05). On an AMD EPYC (Zen 4) the same sweep was
    // level with the passes (0.95-1.00). With 16 registers the 25 accumulators would spill, so AVX2 keeps the
    // passes per filter row.
    if (target.has_feature(Halide::Target::AVX512)) {
      padded_5x5_sweep.columns = 2;
      padded_5x5_sweep.image_in_registers = true;
    }
    // The 3x3 images that take these sums (see kMaxPadded3x3Positions) keep all nine taps' accumulators in
    // registers through the image, three columns per step (18 loads for 27 multiply-adds). Swept one filter
    // row per output row, as 5x5 is without AVX-512, each pass held three accumulators, which four columns
    // per step fed through chains four multiply-adds deep, and then added them to the image's sums; on rows
    // of 7 or 14 columns that left the core waiting on its multiply-adds' latency (a step of 12 multiply-adds
    // that 4-cycle chains stretch to 16 cycles) and on the passes' starts and ends. Ahead-of-time builds
    // alternated call by call on an AMD EPYC (Zen 4), two threads, new / old time, hot and cold: batch 32
    // 7x7x960 0.80-0.81 / 0.89, 14x14x576 0.87-0.88 / 0.89-0.90, 7x7x576 hot 0.79, 14x14x768 batch 16 hot
    // 0.83-0.86. Three columns per step against two: 7x7x960 0.91, 14x14x576 0.99; four against three
    // 1.00-1.03. 5x5 takes the same on AVX-512 (padded_5x5_sweep, above).
    RegisterSweep padded_3x3_sweep;
    padded_3x3_sweep.vectors = 1;
    padded_3x3_sweep.columns = 3;
    padded_3x3_sweep.image_in_registers = true;
    for (int taps : {5, 3}) {
      SweepInRegisters(padded_partial.update().specialize(a.use_padded_sums && a.filter_cols() == taps &&
                                                          a.filter_rows() == taps && a.multiplier == 1 &&
                                                          depth % lanes == 0),
                       padded_partial, a.padded_rows, a, c, lanes, taps == 3 ? padded_3x3_sweep : padded_5x5_sweep);
    }
    add_chunks(dw.update(a.padded_sums_update));
  }
}

}  // namespace codegen
}  // namespace halogen
