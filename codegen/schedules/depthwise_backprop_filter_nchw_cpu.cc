#include "codegen/schedules/depthwise_backprop_filter_schedules.h"

#include <algorithm>
#include <string>

namespace halogen {
namespace codegen {

using Halide::Expr;
using Halide::TailStrategy;
using Halide::Var;

namespace {

// The plane sums of an NCHW kernel, where the algorithm has them: update 1 over the positions of each
// plane (stride 1), update 2 along each output row (stride 2).
void SchedulePlaneSums(DepthwiseBackpropFilterAlgorithm& a, const Halide::Target& target) {
  Halide::Func& dw = a.filter_grad;
  const int lanes = target.natural_vector_size(a.input.type());
  Var lane("lane");

  // One parallel task per block of channels: per image, each channel's sums per vector lane (positions p with
  // the same p % lanes), one accumulator vector per tap in registers, then the lanes of each tap added. Each
  // plane is read contiguously, and an image's planes for the block one after another (with a task per channel,
  // sweeping one small plane in every image, each plane waited on memory: 7x7 to 14x14 layers were 1.1-1.4x
  // slower than with blocks of 8 channels). Blocks of 16 make each image's read of a block twice as long a
  // stream (ahead-of-time builds alternated call by call, two threads, batch 32 cold: 7x7x960 2.00 -> 1.74 and
  // 1.96 -> 1.69 ms, 14x14x576 stride 2 2.02 -> 1.91, the other layers 1-3% faster or within noise; batch 1
  // 7x7x960 hot 0.070 -> 0.057). The constant extents (`taps`: 3 or 5 for those specialisations, else 0) give
  // every tap's accumulator a fixed place, which lets it stay in a register. `positions` is the RVar along a
  // plane or a row; `rows` the output rows (the strided plane sums and the row sums) or none; `images` the
  // batch; `vector_lanes` and `channel_block`, where not 0, replace the vector's lanes and kChannelBlock;
  // `rows_outside` puts the rows outside the loop over a row's vectors (the row sums: in memory order).
  //
  // Stride-2 rows in half vectors (see strided_narrow_rows) take blocks of 32 channels: each image's read of
  // a block is then a stream of 25 KB on 14x14 (ahead-of-time builds alternated call by call, two threads,
  // batch 32, new / old time hot and cold: 14x14x576 stride 2 0.64-0.73 / 0.70-0.78, of which half vectors
  // alone 0.71-0.79 / 0.83-0.85; batch 1 hot 0.63, cold 0.80-0.83). Blocks of 48 were level with 32; blocks
  // of 32 in the other plane sums were level or slower (28x28x192 stride 2 1.14 cold).
  constexpr int kChannelBlock = 16;
  constexpr int kNarrowRowChannelBlock = 32;
  constexpr int kMinPairedPlanePositions = 2048;
  Var d_block("d_block"), d_in("d_in");
  const auto sweep = [&](Halide::Stage sums, int taps, const Halide::RVar& positions,
                         const std::vector<Halide::RVar>& rows, const Halide::RVar& images,
                         bool channel_pairs = false, int vector_lanes = 0, int channel_block = 0,
                         bool rows_outside = false) {
    if (vector_lanes == 0) vector_lanes = lanes;
    if (channel_block == 0) channel_block = kChannelBlock;
    // Names of their own for other vector sizes: the sums of lanes after an rfactor in one branch took the
    // extent of a same-named split from another (16 lanes, where the branch had 8).
    const std::string suffix = vector_lanes == lanes ? "" : "_of_" + std::to_string(vector_lanes);
    Halide::RVar position_vector("position_vector" + suffix), position_lane("position_lane" + suffix);
    sums.split(positions, position_vector, position_lane, vector_lanes);
    Halide::Func lane_sums = sums.rfactor(position_lane, lane);
    sums.reorder(position_lane, a.kw, a.kh, a.d)
        .split(a.d, d_block, d_in, channel_block, TailStrategy::GuardWithIf)
        .parallel(d_block);
    lane_sums.compute_at(dw, d_block)
        .reorder_storage(lane, a.kw, a.kh, a.d)
        .bound_extent(lane, vector_lanes)
        .vectorize(lane);
    Halide::Stage update = lane_sums.update();
    std::vector<Halide::VarOrRVar> order = {lane, a.kw};
    // The positions' loops, innermost first. Along the short rows of stride 2 the rows run inside its
    // vectors: Halide computes where the loop just outside the taps reads past the images (the boundary's
    // edges) from every tap's offsets, each time it starts that loop; once per row of one or two vectors,
    // that was about 40% of the time (14x14x576, 7 rows of one vector). The row sums' long rows run outside
    // their vectors: inside, each step read a new line 448 bytes past the last (112x112x32: 1.73-1.81x).
    std::vector<Halide::VarOrRVar> sweep(rows.begin(), rows.end());
    sweep.insert(rows_outside ? sweep.begin() : sweep.end(), position_vector);
    Halide::VarOrRVar channels = a.d;
    if (channel_pairs) {
      // Two channels per step, 18 accumulators: the masks' loads and ANDs serve both, and at multiplier 2
      // the input's loads too. Taken only where every block is whole (see below).
      Var d_pair("d_pair"), d_of_pair("d_of_pair");
      lane_sums.bound_extent(a.d, kChannelBlock);
      update.split(a.d, d_pair, d_of_pair, 2).unroll(d_of_pair);
      sweep.insert(sweep.begin(), d_of_pair);
      channels = d_pair;
    }
    if (taps == 5) {
      // 25 accumulators would spill: one filter row at a time (the plane is in L1 after the first).
      order.insert(order.end(), sweep.begin(), sweep.end());
      order.push_back(a.kh);
    } else {
      order.push_back(a.kh);
      order.insert(order.end(), sweep.begin(), sweep.end());
    }
    order.push_back(channels);
    order.push_back(images);
    update.reorder(order);
    if (taps != 0) {
      lane_sums.bound_extent(a.kw, taps).bound_extent(a.kh, taps).unroll(a.kw).unroll(a.kh);
      update.unroll(a.kw);
      if (taps == 3) update.unroll(a.kh);
    }
    update.vectorize(lane);
    update.partition(position_vector, Halide::Partition::Always);
    // Stride 2: one branch per kind of mask (see strided_wide_rows), each with the schedule above.
    if (!rows.empty() && !rows_outside) update.specialize(a.strided_wide_rows);
  };
  const Halide::RDom& plane = a.plane_positions;            // (p, n)
  const Halide::RDom& strided = a.strided_plane_positions;  // (ow, oh, n)
  // Declared before the other strided sums, so that the branches after it know the rows are not narrow: as
  // a flat `fits && narrow` branch, the wider rows kept the select of their length and were 8-15% slower
  // (28x28x192 stride 2).
  Halide::Stage narrow_sums = dw.update(a.plane_sums_update + 1);
  if (lanes >= 2) narrow_sums = narrow_sums.specialize(a.strided_narrow_rows);
  for (int taps : {3, 5, 0}) {
    const Expr fits = taps == 0 ? Expr(true) : a.filter_cols() == taps && a.filter_rows() == taps;
    Halide::Stage plane_sums = dw.update(a.plane_sums_update), strided_sums = dw.update(a.plane_sums_update + 1);
    // 3x3 on planes of kMinPairedPlanePositions or more: channel pairs (ahead-of-time builds alternated call
    // by call, two threads, batch 32, cold / hot: 56x56x144 multiplier 2 11.5 / 11.9 -> 10.2 / 9.9 ms,
    // multiplier 1 6.5 / 5.9 -> 6.2 / 5.1; 48x48x144 2.0 -> 1.7, 64x64x144 4.2 -> 3.7 at batch 16; batch 1
    // 56x56x144 multiplier 2 hot 0.208 -> 0.176). On smaller planes they were slower (28x28x192 2.10 -> 2.38,
    // 14x14x576 1.66 -> 1.87, 28x28x96 multiplier 2 1.78 -> 1.93), and mixed on 32x32. Only whole blocks of
    // channels: a block past the last channel reads outside the images, through the boundary's slow path
    // (50x50x37 at batch 3 took 3.4x as long with its last block run whole).
    if (taps == 3) {
      const Expr whole_blocks = a.out_backprop.dim(2).extent() % kChannelBlock == 0;
      sweep(plane_sums.specialize(fits && whole_blocks && plane.x.extent() >= kMinPairedPlanePositions), taps,
            plane.x, {}, plane.y, /*channel_pairs=*/true);
    }
    sweep(taps == 0 ? plane_sums : plane_sums.specialize(fits), taps, plane.x, {}, plane.y);
    if (lanes >= 2) {
      sweep(taps == 0 ? narrow_sums : narrow_sums.specialize(fits), taps, strided.x, {strided.y}, strided.z,
            /*channel_pairs=*/false, lanes / 2, kNarrowRowChannelBlock);
    }
    sweep(taps == 0 ? strided_sums : strided_sums.specialize(fits), taps, strided.x, {strided.y}, strided.z);
  }

  // Row sums (3x3 at stride 1 on planes past the plane sums' limits, see use_row_sums): each plane read in
  // place, row after row, in blocks of 8 channels, so that 32 channels make four tasks. Ahead-of-time builds
  // alternated call by call, two threads, new / old time against the channel-block sweep (staged copies),
  // cold: 112x112x32 batch 32 0.73-0.87 (hot 0.80-0.81; blocks of 16: 0.72-0.80, hot 0.80-0.85), batch 16
  // 80x80x32 0.81, 96x96x48 0.91, 128x128x16 0.87 (blocks of 16: 1.02 and 1.41, one task for two threads);
  // batch 1 112x112x32 cold 0.69, hot 1.08-1.15.
  constexpr int kRowSumChannelBlock = 8;
  const Halide::RDom& row = a.row_positions;  // (ow, oh, n)
  Halide::Stage row_sums = dw.update(a.plane_sums_update + 2);
  sweep(row_sums.specialize(a.filter_cols() == 3 && a.filter_rows() == 3), 3, row.x, {row.y}, row.z,
        /*channel_pairs=*/false, 0, kRowSumChannelBlock, /*rows_outside=*/true);
  // Only 3x3 filters take these sums (the empty branch comes first): no code for other filters.
  row_sums.specialize_fail("row sums taken by a filter other than 3x3");

  // The masks' storage (the table and its 3x3 factors) has constant extents, so that every tap's row of it
  // is a constant offset from one pointer; only the positions and taps of the call's shape are computed
  // (none when the plane sums are not taken). Each row is a cache line longer than its positions: rows
  // 16 KiB apart put a vector's nine taps in one set of the 8-way L1, which then misses on every step (3-7%
  // of the 3x3 NCHW layers).
  constexpr int kMaskRowPadding = 16;
  const std::vector<Var> m = a.plane_mask.args();  // (p, kw, kh)
  a.plane_mask.compute_root()
      .bound_storage(m[0], a.kMaxNineTapPlanePositions + kMaskRowPadding)
      .bound_storage(m[1], a.kMaxPlaneTaps)
      .vectorize(m[0], lanes);
  const std::vector<Var> f = a.plane_mask_factors.args();  // (p, tap, axis)
  a.plane_mask_factors.compute_root()
      .bound_storage(f[0], a.kMaxNineTapPlanePositions + kMaskRowPadding)
      .bound_storage(f[1], a.kMaxPlaneTaps)
      .bound(f[2], 0, 2)
      .vectorize(f[0], lanes);
  const std::vector<Var> c = a.column_mask.args();  // (ow, kw)
  a.column_mask.compute_root()
      .bound_storage(c[0], a.kMaxStridedPlanePositions + kMaskRowPadding)
      .bound_storage(c[1], a.kMaxPlaneTaps)
      .vectorize(c[0], lanes);
}

}  // namespace

void ScheduleCpuChannelBlocks(DepthwiseBackpropFilterAlgorithm& a, const Halide::Target& target) {
  Halide::Func& dw = a.filter_grad;
  const Halide::RDom& r = a.rows;  // (ow, oh, n)
  // Blocks of at most 8 channels, half a vector where vectors hold 16: each image's staged copy then reads 8
  // planes at a time rather than 16, into a buffer half the size (AVX-512 host, two threads, batch 32,
  // ahead-of-time builds alternated call by call, cold: 112x112x32 9.1 -> 6.9 ms, 56x56x144 stride 2 8.1 ->
  // 4.6, 112x112x96 stride 2 12.7 -> 10.5, 28x28x240 5x5 7.8 -> 6.2; batch 1 14x14x672 5x5 0.37 -> 0.27
  // cold, 0.107 -> 0.117 hot). The plane sums keep whole vectors along the plane.
  const int lanes = std::min(target.natural_vector_size(a.input.type()), 8);
  Var d_outer("d_outer"), d_inner("d_inner"), image("image");

  // One parallel task per block of output channels, over every image in order. Zeroing the result runs on
  // the calling thread: as a parallel loop over channels inside the taps' loops it handed nine (3x3) or 25
  // (5x5) loops per call to the thread pool, each waited for (see SumPerChunk in the NHWC schedule).
  dw.split(a.d, d_outer, d_inner, lanes, TailStrategy::GuardWithIf).vectorize(d_inner);
  // Every update is a parallel loop over blocks of channels, but a shape takes only one of them: the others
  // have no images, and their empty branch below is a serial loop, since an empty parallel loop over the
  // channels still costs its hand-over to the thread pool. Declared first, so that it is tested first.
  const auto serial_when_empty = [&](int update, const Expr& empty, const Halide::RVar& images) {
    dw.update(update).specialize(empty).reorder(a.d, a.kw, a.kh, images);
  };
  serial_when_empty(0, a.use_other_sums, r.z);
  if (a.has_padded_sums) serial_when_empty(a.padded_sums_update, !a.use_padded_sums, a.padded_rows.z);
  if (a.has_plane_sums) {
    serial_when_empty(a.plane_sums_update, !a.use_plane_sums, a.plane_positions.y);
    serial_when_empty(a.plane_sums_update + 1, !a.use_strided_plane_sums, a.strided_plane_positions.z);
    serial_when_empty(a.plane_sums_update + 2, !a.use_row_sums, a.row_positions.z);
  }
  // `order`: the stage's loops inside the block, innermost first.
  const auto per_block = [&](Halide::Stage stage, std::vector<Halide::VarOrRVar> order) {
    order.push_back(d_outer);
    stage.split(a.d, d_outer, d_inner, lanes, TailStrategy::GuardWithIf)
        .reorder(order)
        .vectorize(d_inner)
        .parallel(d_outer);
  };
  // Per image, the block's planes of both tensors are copied into a channel-innermost buffer (reading
  // each plane row contiguously, a short row's tail with masked loads; writing whole blocks of channels),
  // so the sweep over the image gets one block per position as in NHWC, from L2. Whole blocks of channels
  // are staged, the sources' clamped channel index keeping the last block inside the tensors. Only the
  // loads are masked: the buffer is rounded up to whole blocks of columns, because masked stores are
  // microcoded on AMD's cores (7x7x960: 3.6 -> 1.9 ms with unmasked stores).
  // `prefetched`, where given, is the tensor that the copy reads: each vector of the copy then prefetches the
  // same columns of the next image (see the padded-image sums).
  const auto stage_per_image = [&](Halide::Func source, const Halide::RVar& images,
                                   const Halide::ImageParam* prefetched = nullptr) {
    const std::vector<Var> v = source.args();  // (w, h, c, n)
    source.compute_at(dw, images)
        .reorder_storage(v[2], v[0], v[1], v[3])
        .bound_extent(v[2], lanes)
        .reorder(v[2], v[0], v[1], v[3])
        .unroll(v[2])
        .vectorize(v[0], lanes, TailStrategy::PredicateLoads);
    if (prefetched != nullptr) source.prefetch(*prefetched, v[0], v[3], 1);
  };
  stage_per_image(a.input_source, r.z);
  stage_per_image(a.out_backprop_source, r.z);
  // 5x5: 25 accumulators would spill, so each filter row is summed on its own sweep of the staged image,
  // `columns` output columns per step sharing their input loads, as in NHWC (two: 13-20% faster than one).
  // Even and odd columns keep apart accumulators (`column_sums`, 10 vectors), added once per filter row:
  // with one set, each accumulator took two dependent multiply-adds per step, and vectors of 8 lanes need
  // eight independent ones in flight to keep both of the core's multiply-add pipes busy (4 cycles each).
  // Ahead-of-time builds alternated call by call, two threads, batch 32, new / old time cold and hot:
  // 28x28x240 0.89-0.91 / 0.85-0.87, then four columns per step against two 0.95 / 0.96 (at stride 2, on
  // 56x56x144, four were 1.10-1.12 and two apart accumulators level, 0.98-1.01). `rows` is the update's
  // (ow, oh, n).
  const auto sum_filter_rows = [&](Halide::Func image_sums, const Halide::RDom& rows, int columns) {
    Halide::RVar column_step("column_step"), column("column"), column_pair("column_pair"), parity("parity");
    Var column_parity("column_parity");
    image_sums.update()
        .split(rows.x, column_step, column, columns, TailStrategy::GuardWithIf)
        .split(column, column_pair, parity, 2);
    Halide::Func column_sums = image_sums.update().rfactor(parity, column_parity);
    image_sums.compute_at(dw, a.kh).bound_extent(a.d, lanes).bound_extent(a.kw, 5).vectorize(a.d).unroll(a.kw);
    image_sums.update().reorder(a.d, a.kw, parity).vectorize(a.d).unroll(a.kw).unroll(parity);
    column_sums.compute_at(dw, a.kh)
        .bound_extent(a.d, lanes)
        .bound_extent(a.kw, 5)
        .bound(column_parity, 0, 2)
        .vectorize(a.d)
        .unroll(a.kw)
        .unroll(column_parity);
    column_sums.update()
        .reorder(a.d, a.kw, column_parity, a.kh, column_pair, column_step, rows.y)
        .vectorize(a.d)
        .unroll(a.kw)
        .unroll(column_parity)
        .unroll(a.kh)
        .unroll(column_pair);
  };
  // 3x3 and 5x5 with constant strides (and multiplier 1 or, for 3x3, 2): each image's sums are their own
  // reduction, with the accumulators in registers along the image (3x3: all 9 taps per vector; 5x5: one
  // filter row at a time), the column edges peeled off by Halide. The sums' extents are stated as
  // constants: otherwise their buffer has run-time strides and every multiply-add goes through memory.
  const Expr undilated = a.dilation_rows == 1 && a.dilation_cols == 1;
  for (int taps : {3, 5}) {
    for (int stride : {1, 2}) {
      for (int multiplier : {1, 2}) {
        if (taps == 5 && multiplier != 1) continue;
        Halide::Stage stage = dw.update(0).specialize(a.filter_cols() == taps && a.filter_rows() == taps &&
                                                      a.stride == stride && a.multiplier == multiplier && undilated);
        Halide::Func image_sums = stage.rfactor(r.z, image);
        per_block(stage, {d_inner, a.kw, a.kh, r.z});
        if (taps == 5) {
          sum_filter_rows(image_sums, r, stride == 1 ? 4 : 2);
          continue;
        }
        image_sums.compute_at(dw, r.z)
            .bound_extent(a.d, lanes)
            .bound_extent(a.kw, taps)
            .bound_extent(a.kh, taps)
            .vectorize(a.d)
            .unroll(a.kw)
            .unroll(a.kh);
        image_sums.update().reorder(a.d, a.kw, a.kh, r.x, r.y).vectorize(a.d).unroll(a.kw).unroll(a.kh);
      }
    }
  }
  // Other filters accumulate into the block's part of the result, in L1; a constant multiplier turns the
  // channel index d / M into a dense load and a shuffle instead of a gather.
  const std::vector<Halide::VarOrRVar> sweep = {d_inner, a.kw, a.kh, r.x, r.y, r.z};
  for (int multiplier : {1, 2, 4}) per_block(dw.update(0).specialize(a.multiplier == multiplier), sweep);
  per_block(dw.update(0), sweep);

  // The padded-image sums (5x5, stride 1, planes too large for the plane sums): the same sweep of
  // per-image copies, here of the zero-padded input, so that it needs no masks. The padded copy is made
  // from the staged, channel-innermost one, a whole block of channels at a time; made straight from the
  // planes, its vectors along a row straddled the padding (28x28x240: 6.9 ms against 6.0 with masks; 5.3
  // this way).
  if (a.has_padded_sums) {
    const Halide::RDom& padded = a.padded_rows;  // (ow, oh, n)
    // Each image's copies prefetch the next image's planes of the block, which then arrive from DRAM while
    // this image is swept (one prefetch per vector of 8 columns and plane, so every line is asked for: at a
    // row's start only, Halide's prefetch left most lines of the 28-wide rows out). Ahead-of-time builds
    // alternated call by call, two threads, batch 32, new / old time cold: 14x14x672 0.80-0.88, 28x28x240
    // 0.93-0.96; prefetching only the input 0.87-0.94 and 0.95-0.98. It costs the copies' loop time where
    // the planes are already in cache (batch 2 hot 1.06-1.14; batch 1, whose one image has no next, 1.04-1.08
    // cold and hot); the channel-block sweep of large 3x3 planes, whose next image (400 KB a tensor on
    // 112x112) does not fit in L2 beside this one, was slower with it (112x112x32 1.03-1.17, 112x112x96
    // stride 2 1.13-1.17).
    stage_per_image(a.padded_input_source, padded.z, &a.input);
    stage_per_image(a.padded_out_backprop, padded.z, &a.out_backprop);
    {
      const std::vector<Var> v = a.padded_input.args();  // (w, h, c, n)
      a.padded_input.compute_at(dw, padded.z)
          .reorder_storage(v[2], v[0], v[1], v[3])
          .bound_extent(v[2], lanes)
          .reorder(v[2], v[0], v[1], v[3])
          .vectorize(v[2]);
      // Two positions per step, as the NHWC copies take two blocks (see there): 0.96-0.98 of the time
      // (28x28x240, two threads, batch 32 cold and hot; batch 1 hot 0.96); four per step 1.01-1.05.
      Var column_pair("column_pair"), column_of_pair("column_of_pair");
      a.padded_input.split(v[0], column_pair, column_of_pair, 2, TailStrategy::GuardWithIf).unroll(column_of_pair);
    }
    Halide::Stage stage = dw.update(a.padded_sums_update)
                              .specialize(a.use_padded_sums && a.filter_cols() == 5 && a.filter_rows() == 5 &&
                                          a.multiplier == 1);
    Halide::Func image_sums = stage.rfactor(padded.z, image);
    per_block(stage, {d_inner, a.kw, a.kh, padded.z});
    sum_filter_rows(image_sums, padded, 4);
    // Never run: use_padded_sums implies the branch above.
    per_block(dw.update(a.padded_sums_update), {d_inner, a.kw, a.kh, padded.x, padded.y, padded.z});
  }
  if (a.has_plane_sums) SchedulePlaneSums(a, target);
}


}  // namespace codegen
}  // namespace halogen
