// The algorithm of DepthwiseConv2dNativeBackpropFilter as a Halide Func, apart from any schedule.
//
// Halide indexes innermost dimension first, so the tensors appear as
//   NHWC input (c, w, h, n)    NHWC out_backprop (d, ow, oh, n)
//   NCHW input (w, h, c, n)    NCHW out_backprop (ow, oh, d, n)
// and the filter gradient [FH, FW, C, M] as (d, kw, kh) with d = c * M + m, which is the same memory.
//
// The reduction over (n, oh, ow) is one update definition. Padding rows are masked per (row, filter row),
// one AND per vector, which lets a schedule sweep every row once, in order; padding columns read through
// zero boundaries (Halide splits the column loop into a test-free middle and short edges). An NCHW kernel
// may add the plane sums for shapes with small planes: the same sum over each plane's positions in memory
// order, vectorised along the plane at stride 1 (see use_plane_sums) or along each row at stride 2 (see
// use_strided_plane_sums). An NHWC kernel may add the column-phase sums for stride 2, which read each
// input row in memory order (see use_phase_sums). Either may add the padded-image sums for 5x5 filters,
// which read a zero-padded copy of each image and mask nothing (see use_padded_sums).
#ifndef HALOGEN_CODEGEN_DEPTHWISE_CONV2D_NATIVE_BACKPROP_FILTER_ALGORITHM_H_
#define HALOGEN_CODEGEN_DEPTHWISE_CONV2D_NATIVE_BACKPROP_FILTER_ALGORITHM_H_

#include <vector>

#include "Halide.h"
#include "halogen/dsl/conv_arithmetic.h"
#include "halogen/dsl/ops/depthwise_conv_geometry.h"
#include "halogen/dsl/types.h"

namespace halogen {
namespace codegen {

// Part of every kernel cache key: bump it whenever the algorithm, its arguments or a schedule changes, so
// that a kernel an older build left in the disk cache is never loaded. Never reuse a number: 55 and 66 were
// schedules later reverted.
inline constexpr int kDepthwiseBackpropFilterRevision = 69;

struct DepthwiseBackpropFilterAlgorithm {
  DataFormat format = DataFormat::kNHWC;
  Halide::ImageParam input;
  Halide::ImageParam out_backprop;
  // The same two tensors seen as (value of an image, image): NCHW planes are contiguous, so a tap is one
  // fixed offset within a plane. Every kernel takes them; only the plane sums read them.
  Halide::ImageParam input_images;
  Halide::ImageParam out_backprop_images;
  // Everything else about the shape is a run-time parameter, so one compiled kernel serves every shape.
  Halide::Param<int32_t> stride{"stride"}, dilation_rows{"dilation_rows"}, dilation_cols{"dilation_cols"};
  Halide::Param<int32_t> pad_top{"pad_top"}, pad_left{"pad_left"}, multiplier{"multiplier"};
  // Rows (batch x output rows) per partial sum; chosen from the shape alone, never from the thread count,
  // so results do not depend on how many threads run. gpu_row_chunks splits the fused (batch, row) loop by
  // it (gpu_register_taps takes one row per chunk of its flat rows and ignores it); the NHWC CPU schedule
  // takes it as whole images per chunk, or rows per band of one image when it is smaller than an image.
  Halide::Param<int32_t> rows_per_chunk{"rows_per_chunk"};
  // The number of chunks, at least 1: it sizes the partial sums (a GPU runtime refuses zero-sized buffers).
  Halide::Param<int32_t> chunks{"chunks"};
  // 1: every tap that falls on padding is masked in both factors. 0: a kernel may instead multiply
  // out_backprop by zeros standing for the padding (the padded-image sums) or by masked-out inputs (the
  // plane sums, which also multiply the positions that round a plane up to whole vectors, read from the
  // next channel's plane, by zeros), which is exact unless such an out_backprop value is Inf or NaN; the
  // result then holds a NaN, and the caller runs the kernel again with 1 (CallDepthwiseKernel).
  Halide::Param<int32_t> mask_padding{"mask_padding"};
  // The bytes of L1 data cache per core of the host that runs the kernel (the caller reads it, see
  // depthwise_kernel_args.h): which of two CPU sweeps wins depends on it (see kPadded3x3L1Percent).
  Halide::Param<int32_t> l1_data_bytes{"l1_data_bytes"};

  // What the definition reads: the tensors themselves (NHWC), or with the channel index clamped (NCHW).
  Halide::Func input_source, out_backprop_source;
  // The tensors as update 0 reads them: input_source zero outside its columns, and out_backprop_source (zero
  // outside its columns too with lane columns, below). A schedule can copy them for some of update 0's
  // readers alone (Func::in with those readers).
  Halide::Func input_cols_zeroed, out_backprop_cols_zeroed;

  Halide::Var d{"d"}, kw{"kw"}, kh{"kh"};
  // (ow, oh, n): every output position; with `flat_rows`, (ow, r): r is n * OH + oh, run up to a multiple of
  // the variant's flat_rows_multiple, and the rows past the last are masked out.
  Halide::RDom rows;
  // Whether a shape takes one of the other updates below (plane, strided plane, phase or padded-image sums)
  // instead of update 0, whose reduction is then empty.
  Halide::Expr use_other_sums;
  bool flat_rows = false;
  // With lane columns (DepthwiseBackpropFilterVariants::lane_columns_min_work), whether a shape takes them:
  // update 0's columns then run up to a whole number of lanes of lane_width() columns, those past the last
  // masked in both factors. Otherwise false.
  Halide::Expr lane_columns;
  // With padding_by_select, whether update 0 keeps the AND masks anyway (5x5 filters). A schedule's branch
  // that does not fix the filter's size folds the choice away only after a branch specialised on exactly
  // this Expr; otherwise it computes both forms and selects between them per term.
  Halide::Expr keeps_padding_masks;
  Halide::Func filter_grad;  // (d, kw, kh); update 0 sums over `rows`

  // With plane sums (NCHW only), update `plane_sums_update` sums over `plane_positions` instead of update 0
  // whenever `use_plane_sums` holds (mask_padding 0, stride 1, undilated, output rows as wide as the
  // input's, at most 5x5 taps, small planes); the other update's reduction is then empty. A position's taps
  // are read at fixed offsets in the plane, their inputs masked by `plane_mask` (p, kw, kh): all ones where
  // the tap falls inside the image, else zero, and zero for the positions that round the plane up to whole
  // vectors. 3x3 filters take the same mask as two factors, `plane_mask_factors` (p, tap, axis): axis 0 the
  // rows of filter row `tap`, axis 1 the columns of filter column `tap`, each zero past the plane as well.
  bool has_plane_sums = false;
  int plane_sums_update = 0;  // and the next two updates, the strided plane sums and the row sums
  Halide::Expr use_plane_sums;
  Halide::RDom plane_positions;  // (p, n): every position of a plane, rounded up to whole vectors
  Halide::Func plane_mask, plane_mask_factors;
  Halide::Func input_image_source, out_backprop_image_source;  // the images, zero outside them
  // Where plane sums win, from this machine's measurements at two threads (batch 32, against the
  // channel-block sweep): 3x3 on 7x7 to 28x28 planes (7x7x960: 1.7 against 3.1 ms; 28x28x192: 2.9 against
  // 2.6-2.9) and 5x5 on 14x14 (14x14x672: 10.9 against 12.8 ms), but not 5x5 on 28x28 (9.9 against 6.2 ms):
  // every tap cost two masking ANDs per vector (one since out_backprop is not masked), so for larger filters
  // the limit is on positions times taps. 5x5 at stride 1 and multiplier 1 takes the padded-image sums
  // instead, on any plane (see has_padded_sums).
  static constexpr int kMaxPlaneTapPositions = 1024 * 9;
  // Filters of at most nine taps take the plane sums on planes up to 4096 positions: with a multiplier above
  // 1 the channel-block sweep is slower still (56x56x144, multiplier 2: plane sums 12.2 against 19.2 ms), and
  // at multiplier 1 too on such planes (ahead-of-time builds alternated call by call, two threads, batch 32
  // cold: 56x56x144 12.8-13.8 -> 11.9-12.0 ms, 64x64x64 7.3 -> 6.8, 40x40x96 5.3 -> 5.1; batch 1 56x56x144
  // cold 0.91 -> 0.79, hot 0.39 -> 0.30). The mask's storage is this large.
  static constexpr int kMaxNineTapPlanePositions = 4096;
  static constexpr int kMaxPlaneTaps = 5;  // per filter row and column
  // At stride 2, the next update sums the same way whenever `use_strided_plane_sums` holds (mask_padding 0,
  // undilated, the same limits on the output plane with its rows rounded up to whole vectors), but along
  // each output row: a vector of output columns reads every other value of an input row. The mask's
  // positions are then rows of whole vectors, or of half vectors where `strided_narrow_rows` holds (the
  // last vector of a row would be at most half full).
  Halide::Expr use_strided_plane_sums;
  // Measured at two threads against the channel-block sweep: 14x14x576 (7 rows of 8) 1.8 against 2.3 ms,
  // 28x28x192 (14 rows of 16) 1.6-1.9 against 1.9-2.4, but 56x56x144 (28 rows of 32) 3.9 against 3.6.
  static constexpr int kMaxStridedPlanePositions = 512;
  Halide::RDom strided_plane_positions;  // (ow, oh, n), ow rounded up to whole (or half) vectors
  // Rows of more than one vector (here and in the row sums below) mask their taps by a row mask and
  // `column_mask` (ow, kw), all ones where the output column is real and its tap inside the row, at the
  // call's stride; a schedule specialises this update on `strided_wide_rows` so that each kind of row has one
  // mask.
  Halide::Func column_mask;
  Halide::Expr strided_wide_rows;
  Halide::Expr strided_narrow_rows;  // rows in half vectors (a schedule specialises on it)
  // 3x3 planes at stride 1 too large for the plane sums, with rows of more than one vector and not narrow
  // (up to kMaxStridedPlanePositions columns), take the update after those, `use_row_sums`: the same sums
  // along each output row in whole vectors, each tap a dense load in place, masked by its row and by
  // `column_mask`. An update of its own rather than a stride of the strided plane sums: with the
  // stride left to the schedule's branches, the stride-2 rows lost the constant stride of their loads or the
  // partition that keeps the images' boundary out of their steady state (2.5-3x the time).
  Halide::Expr use_row_sums;
  Halide::RDom row_positions;  // (ow, oh, n), ow rounded up to whole vectors

  // With column-phase sums (NHWC only), update 1 sums over `phase_rows` instead of update 0 whenever
  // `use_phase_sums` holds (stride 2, undilated, multiplier 1, three filter columns, left padding 0 or 1,
  // input rows of an even width). A row of W columns of C channels is read as W / 2 runs of 2 * C values,
  // each an even column and the odd column after it (its `phase`): input column 2j + phase meets output
  // column j - shift + pad_left, the filter column kw = 2 * shift + phase - pad_left, so `phase_sums`
  // (d, phase, shift, kh) holds every tap, plus one combination that is no tap (kw = -1 or 3) and is never
  // read. A schedule can then sweep each run contiguously with one load per filter row and value, which
  // keeps the hardware prefetchers streaming: a stride-2 sweep over output columns reads each row as three
  // interleaved streams that skip a column at every step (on this machine from DRAM at about half the
  // rate). Terms whose output column falls outside the image are masked in both factors.
  bool has_phase_sums = false;
  Halide::Expr use_phase_sums;
  Halide::RDom phase_rows;  // (j, oh, n): every run of two input columns, for every output row
  Halide::Var phase{"phase"}, shift{"shift"};
  Halide::Func phase_sums;  // (d, phase, shift, kh)

  // With padded-image sums, update `padded_sums_update` sums over `padded_rows` instead of update 0
  // whenever `use_padded_sums` holds (mask_padding 0, stride 1, undilated, multiplier 1, 5x5 taps, or in
  // NHWC 3x3 taps on deep positions of small images, below; in NHWC a depth of whole `padded_vector`s, in
  // NCHW any 5x5 plane, see below). The input is read through `padded_input`, the image with zeros around
  // it, which a schedule can copy once per image: a sweep of it needs neither the per-column masks at the
  // row ends (on a 14-wide row, 4 of its 14 columns) nor the row masks. out_backprop is read through
  // `padded_out_backprop`, a copy of the tensor that a schedule can place apart from update 0's.
  bool has_padded_sums = false;
  // NCHW 5x5 planes small enough for the plane sums take the padded-image sums instead, at any batch: a
  // padded sweep needs none of the plane sums' masking ANDs (two per tap and vector), and since its copies
  // keep up and its accumulators are apart per column parity (see the NCHW schedule) it is the faster at
  // batch 32 too. Ahead-of-time builds alternated call by call at two threads, cold, padded / plane sums:
  // batch 32 14x14x672 0.89-0.91 (hot 0.81-0.87), 14x14x480 0.87-0.91, 7x7x1152 0.90-0.93; batch 8 14x14x672
  // 0.85-0.96, batch 4 0.82-0.83. (With one set of accumulators and a copy of one block per step, the plane
  // sums had won from batch 4: 7x7x1152 0.74 against 0.94 ms, batch 32 4.0 against 8.0.)
  // NHWC 3x3 images of at most kMaxPadded3x3Positions output positions, at batches of at least
  // kMinPadded3x3Batch and on deep positions (below), take the padded-image sums as
  // 5x5 does: each image copied once, then a register sweep per block of channels that makes no store per
  // multiply-add (the L1 sweep makes one per tap and row pair, and keeps 9 x depth accumulators in L1 beside
  // the rows it reads). Ahead-of-time builds alternated call by call on an AMD EPYC (Zen 4, 32 KiB L1, 1 MiB
  // L2), two threads, tensors aligned to 128 bytes, batch 32, new / old time hot and cold: 14x14x576 0.83-0.87
  // / 0.87-0.98, 14x14x512 0.85 / 1.01, 7x7x576 0.89 / 0.96, 14x14x768 0.84 / 0.75, 7x7x960 0.98-1.07 /
  // 0.90-0.97; batch 16 14x14x576 0.89 / 0.97. Not taken then (one filter row per pass of the sweep): shallower
  // positions, whose tensors stay in the last level cache between calls and whose rows the L1 sweep reads in
  // place as fast (14x14x384 1.01-1.11 / 0.90, 14x14x256 1.16 / 0.99, 14x14x160 0.98 / 1.11, 14x14x64 0.90 /
  // 1.14; batch 16 14x14x384 1.32 / 0.99), larger images (28x28x192 1.03 / 1.06; 56x56x144 hot 1.22), and small
  // batches, whose copies' first read from DRAM is not hidden by other images' sweeps (batch 8 cold: 14x14x576
  // 1.06, 7x7x960 1.07). The copies first ran one load and one store per step, at half the memory's speed (see
  // the NHWC schedule), and then lost at every depth (14x14x576 1.06 / 1.09).
  static constexpr int kMaxPadded3x3Positions = 196;
  static constexpr int kMinPadded3x3Batch = 16;
  // Which positions take them depends on the host's L1 data cache: the L1 sweep keeps nine accumulators per
  // channel (9 x depth values) in L1 beside the rows it reads, and the deeper the positions, the less room the
  // rows have. Positions whose accumulators take more than kPadded3x3L1Percent of the L1 take the padded-image
  // sums. On an AMD EPYC (Zen 4, 32 KiB of L1), since the sweep keeps all nine taps' accumulators through each
  // image (see the NHWC schedule), 14x14x384 (13.5 KiB of accumulators, 42% of L1) took 0.78-0.83 / 0.85-0.92
  // of the L1 sweep's time, batch 16 0.86 / 0.93, 7x7x384 0.77 / 0.95, and 14x14x256 (28%) was level (1.02 /
  // 0.96). On an Intel Xeon (family 6 model 207, 48 KiB of L1) the L1 sweep won up to 38% and lost from
  // 42%: L1 sweep over padded sums, cold / hot, each in both orders of the pair, 14x14x384 (28%) 0.91 /
  // 0.68-0.69, batch 16 0.85-1.13 / 0.60-0.74, 7x7x384 0.94-0.95 / 0.88-0.93, 14x14x512 (38%) 0.79-0.85 /
  // 0.80-0.82; 7x7x576 (42%) 1.08-1.17 / 0.98-1.01, 14x14x576 0.90-1.05 / 0.86-0.91, 7x7x960 (the deep
  // register sweep, 70%) 1.03-1.04 / 1.10-1.16.
  static constexpr int kPadded3x3L1Percent = 40;

  int padded_sums_update = 0;
  Halide::Expr use_padded_sums;
  Halide::RDom padded_rows;   // (ow, oh, n): every output position
  // The input, zero outside the image, and out_backprop: in NCHW laid out as the tensors, (w, h, c, n); in
  // NHWC in blocks of one `padded_vector` of channels, (c % vector, w, h, c / vector, n), so that a sweep of
  // one block can read copies of its own in memory order.
  Halide::Func padded_input;
  Halide::Func padded_out_backprop;
  Halide::Func padded_input_source;  // the input as padded_input reads it (NCHW: a copy a schedule can place)

  // Lanes of 32, 16 or 8 columns: the widest of which the output rows hold more than half (8 for rows of at
  // most 8 columns).
  // lane_width_fits(w) is that rule's test for width w of kLaneWidths, taken in order; lane_width() its pick.
  static constexpr int kLaneWidths[] = {32, 16, 8};
  Halide::Expr lane_width_fits(int width) const;
  Halide::Expr lane_width() const;
  Halide::Expr out_cols() const { return out_backprop.dim(format == DataFormat::kNHWC ? 1 : 0).extent(); }
  Halide::Expr filter_rows() const { return filter_grad.output_buffer().dim(2).extent(); }
  Halide::Expr filter_cols() const { return filter_grad.output_buffer().dim(1).extent(); }

  // Arguments in the order the compiled kernel takes them after the two buffers.
  std::vector<Halide::Argument> arguments() const;
};

// The Halide type of a tensor of `dtype` (float or double).
inline Halide::Type HalideType(DataType dtype) {
  return dtype == DataType::kDouble ? Halide::Float(64) : Halide::Float(32);
}

// The optional reductions a schedule may ask for: the plane sums are updates 1 (stride 1) and 2 (stride 2)
// of an NCHW kernel, the column-phase sums update 1 of an NHWC one.
struct DepthwiseBackpropFilterVariants {
  int plane_vector = 0;     // > 0: NCHW plane sums, in vectors of this many values
  bool phase_sums = false;  // NHWC column-phase sums for stride 2
  int padded_vector = 0;    // > 0: padded-image sums; in NHWC for depths that are a multiple of this many values
  // > 0: update 0's rows flat (`rows` is (ow, r)) and a multiple of this many, so that a schedule can split
  // them, and the sums over them, by a factor of it with no tail to test.
  int flat_rows_multiple = 0;
  // > 0 (with flat rows): lane columns for every shape whose out_backprop depth times flat rows is at least
  // this, so that a GPU schedule can give a warp's threads neighbouring columns with no tail to test (a tail
  // that depends on the thread splits the warp into two paths run one after the other).
  int lane_columns_min_work = 0;
  // Update 0 zeroes a padded tap's two factors with selects on the tap's row and column being inside the
  // image, rather than ANDing them with all-ones or all-zeros masks. On AVX-512 a select against zero is a
  // zero-masking load or multiply, with no instruction of its own, where each AND took a slot on the ports
  // that also do the multiply-adds. 5x5 filters keep the ANDs (see DefineDepthwiseBackpropFilter).
  bool padding_by_select = false;
};

// Defines the gradient for `dtype` (float or double), accumulating in that dtype, with the `variants`
// that apply to `format`.
DepthwiseBackpropFilterAlgorithm DefineDepthwiseBackpropFilter(DataType dtype, DataFormat format,
                                                               DepthwiseBackpropFilterVariants variants = {});

}  // namespace codegen
}  // namespace halogen

#endif  // HALOGEN_CODEGEN_DEPTHWISE_CONV2D_NATIVE_BACKPROP_FILTER_ALGORITHM_H_
