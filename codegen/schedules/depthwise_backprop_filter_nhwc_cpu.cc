#include "codegen/schedules/depthwise_backprop_filter_schedules.h"

namespace halogen {
namespace codegen {

using Halide::Expr;
using Halide::RVar;
using Halide::TailStrategy;
using Halide::Var;

void ScheduleCpuChannelTaps(DepthwiseBackpropFilterAlgorithm& a, const Halide::Target& target) {
  Halide::Func& dw = a.filter_grad;
  const int lanes = target.natural_vector_size(a.input.type());
  const int border_block = 8 * lanes;  // channels per parallel task in the border rows
  RVar rows("rows"), chunk("chunk"), row("row");
  Var u("u"), d_block("d_block"), d_rest("d_rest"), d_outer("d_outer"), d_inner("d_inner");

  // The interior, as partial sums over fixed chunks of (batch, row).
  dw.update(0).fuse(a.interior.y, a.interior.z, rows).split(rows, chunk, row, a.rows_per_chunk,
                                                            TailStrategy::GuardWithIf);
  Halide::Func partial = dw.update(0).rfactor(chunk, u);
  partial.compute_root();
  partial.split(a.d, d_outer, d_inner, lanes, TailStrategy::GuardWithIf).vectorize(d_inner).parallel(u);
  // Per output position: each vector of channels loads its out_backprop vector once and applies it to
  // every tap; the chunk's accumulators (FH * FW * C * M values) stay in L1 while the rows stream by
  // once, so x and out_backprop are each read from memory exactly once.
  // Many taps (5x5) would overflow L1 with every channel's accumulators: there, channels are taken a
  // block at a time over a block of rows that stays in L2.
  RVar block("block"), block_row("block_row");
  Var d_block_i("d_block_i");
  const auto sweep = [&](Halide::Stage stage, bool unroll_taps, int channel_block) {
    if (channel_block > 0) {
      stage.split(row, block, block_row, a.block_rows, TailStrategy::GuardWithIf)
          .split(a.d, d_block, d_rest, channel_block, TailStrategy::GuardWithIf)
          .split(d_rest, d_outer, d_inner, lanes, TailStrategy::GuardWithIf)
          .reorder(d_inner, a.kw, a.kh, d_outer, a.interior.x, block_row, d_block, block, u);
    } else {
      stage.split(a.d, d_outer, d_inner, lanes, TailStrategy::GuardWithIf)
          .reorder(d_inner, a.kw, a.kh, d_outer, a.interior.x, row, u);
    }
    stage.vectorize(d_inner).parallel(u);
    if (unroll_taps) stage.unroll(a.kw).unroll(a.kh);
  };
  // Constant strides let Halide peel the column edges off the column loop.
  const Expr plain = a.multiplier == 1 && a.dilation_rows == 1 && a.dilation_cols == 1;
  for (int taps : {3, 5}) {
    for (int stride : {1, 2}) {
      // 16 KiB of accumulators per channel block.
      const int channel_block = taps == 5 ? (16 << 10) / (25 * 4 * lanes) * lanes : 0;
      sweep(partial.update().specialize(a.filter_cols() == taps && a.filter_rows() == taps && a.stride == stride &&
                                        plain),
            true, channel_block);
    }
  }
  // Constant multipliers turn the channel index d / M into a dense load and a shuffle instead of a gather.
  for (int multiplier : {1, 2, 4}) sweep(partial.update().specialize(a.multiplier == multiplier), false, 0);
  sweep(partial.update(), false, 0);

  // Combine the chunks in chunk order.
  dw.split(a.d, d_outer, d_inner, lanes, TailStrategy::GuardWithIf).vectorize(d_inner).parallel(d_outer);
  dw.update(0)
      .split(a.d, d_outer, d_inner, lanes, TailStrategy::GuardWithIf)
      .reorder(d_inner, chunk, a.kw, a.kh, d_outer)
      .vectorize(d_inner)
      .parallel(d_outer);
  // The border rows: blocks of channels in parallel; all of a block's channels per position and tap, so the
  // boundary arithmetic is paid once per position and tap.
  {
    const Halide::RDom& r = a.border_rows;
    const int k = 1;
    const auto border = [&](Halide::Stage stage) {
      stage.split(a.d, d_block, d_rest, border_block, TailStrategy::GuardWithIf)
          .split(d_rest, d_outer, d_inner, lanes, TailStrategy::GuardWithIf)
          .reorder(d_inner, d_outer, a.kw, a.kh, r.x, r.y, r.z, d_block)
          .vectorize(d_inner)
          .parallel(d_block);
    };
    // A constant multiplier makes a vector of output channels read its input channels with a plain load.
    for (int multiplier : {1, 2, 4}) border(dw.update(k).specialize(a.multiplier == multiplier));
    border(dw.update(k));
  }
}

}  // namespace codegen
}  // namespace halogen
