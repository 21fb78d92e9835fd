#include "codegen/depthwise_conv2d_native_backprop_filter_algorithm.h"

#include <iterator>

namespace halogen {
namespace codegen {

using Halide::Expr;
using Halide::Func;

std::vector<Halide::Argument> DepthwiseBackpropFilterAlgorithm::arguments() const {
  return {input,         out_backprop,  input_images, out_backprop_images, stride,         dilation_rows,
          dilation_cols, pad_top,       pad_left,     multiplier,          rows_per_chunk, chunks,
          mask_padding,  l1_data_bytes};
}

namespace {

// `value` with its bits ANDed with `mask` (all ones or all zeros): one AND per vector, where a select costs a
// blend without AVX-512's masks (see DepthwiseBackpropFilterVariants::padding_by_select) and a multiplication
// by a 0/1 factor would turn Inf into NaN.
Expr Masked(const Expr& value, const Expr& mask) {
  return Halide::reinterpret(value.type(), Halide::reinterpret(mask.type(), value) & mask);
}

// `value` where `inside` holds, else zero: Masked with the mask as a condition (padding_by_select).
Expr ZeroUnless(const Expr& inside, const Expr& value) {
  return Halide::select(inside, value, Halide::cast(value.type(), 0));
}

}  // namespace

Expr DepthwiseBackpropFilterAlgorithm::lane_width_fits(int width) const {
  return width == kLaneWidths[std::size(kLaneWidths) - 1] ? Halide::cast<bool>(true) : out_cols() > width / 2;
}

Expr DepthwiseBackpropFilterAlgorithm::lane_width() const {
  Expr width = kLaneWidths[std::size(kLaneWidths) - 1];
  for (int i = static_cast<int>(std::size(kLaneWidths)) - 2; i >= 0; --i) {
    width = Halide::select(lane_width_fits(kLaneWidths[i]), kLaneWidths[i], width);
  }
  return width;
}

DepthwiseBackpropFilterAlgorithm DefineDepthwiseBackpropFilter(DataType dtype, DataFormat format,
                                                               DepthwiseBackpropFilterVariants variants) {
  const Halide::Type type = HalideType(dtype);
  DepthwiseBackpropFilterAlgorithm a;
  a.format = format;
  a.input = Halide::ImageParam(type, 4, "input");
  a.out_backprop = Halide::ImageParam(type, 4, "out_backprop");
  a.input_images = Halide::ImageParam(type, 2, "input_images");
  a.out_backprop_images = Halide::ImageParam(type, 2, "out_backprop_images");
  const bool nhwc = format == DataFormat::kNHWC;
  // Positions of the width and height dimensions, the same in input and out_backprop.
  const int w_dim = nhwc ? 1 : 0, h_dim = nhwc ? 2 : 1;
  const Expr in_cols = a.input.dim(w_dim).extent(), in_rows = a.input.dim(h_dim).extent();
  const Expr out_cols = a.out_backprop.dim(w_dim).extent(), out_rows = a.out_backprop.dim(h_dim).extent();
  const Expr batch = a.out_backprop.dim(3).extent();

  // Schedules specialise multiplier == 1, the common case, where this division folds away.
  const Expr c = a.d / a.multiplier;
  const auto x_at = [&](const Func& x, const Expr& iw, const Expr& ih, const Expr& n) {
    return nhwc ? x(c, iw, ih, n) : x(iw, ih, c, n);
  };
  // NCHW reads both tensors through copies whose channel index is clamped: the channel is not the vector
  // dimension there, so the clamp is free, and it lets a schedule stage whole blocks of channels in cache
  // past the last channel (their sums are never stored). NHWC reads the tensors directly.
  // Each call makes a Func of its own, so that a schedule can place each reader's copy where it reads it.
  const auto source = [&](const Halide::ImageParam& tensor) {
    if (nhwc) return Func(tensor);
    Halide::Region channels(4, Halide::Range(Expr(), Expr()));
    channels[2] = Halide::Range(0, tensor.dim(2).extent());
    return Halide::BoundaryConditions::repeat_edge(tensor, channels);
  };
  a.input_source = source(a.input);
  a.out_backprop_source = source(a.out_backprop);
  const auto dy_of = [&](const Func& dy, const Expr& ow, const Expr& oh, const Expr& n) {
    return nhwc ? dy(a.d, ow, oh, n) : dy(ow, oh, a.d, n);
  };
  const auto in_col = [&](const Expr& ow) { return ow * a.stride + a.kw * a.dilation_cols - a.pad_left; };
  const auto in_row = [&](const Expr& oh) { return oh * a.stride + a.kh * a.dilation_rows - a.pad_top; };

  // A tap that falls on padding contributes +0.0 * +0.0: both factors are masked, so an Inf or NaN in
  // either tensor never leaks into a padded tap. Rows: the tap reads the nearest real row and a mask that
  // depends only on the row and the filter row, loop-invariant in the column sweep, zeroes it; every row,
  // border or not, is handled in the same pass while it is in cache. Columns: the input and a column mask
  // read through zero boundaries, which Halide splits off the column loop as short edges (with a constant
  // stride), leaving a middle free of tests.
  const Halide::Type bits = Halide::UInt(type.bits());
  // `tensor` read as zero outside columns [0, cols) (and, given `rows`, outside rows [0, rows)), and a mask
  // that is all ones inside the columns.
  const auto zero_outside = [&](const Func& tensor, const Expr& cols, const Expr& rows = Expr()) {
    Halide::Region inside(4, Halide::Range(Expr(), Expr()));
    inside[w_dim] = Halide::Range(0, cols);
    if (rows.defined()) inside[h_dim] = Halide::Range(0, rows);
    return Halide::BoundaryConditions::constant_exterior(tensor, Halide::cast(type, 0), inside);
  };
  Func all_ones("all_ones");
  Halide::Var i("i");
  all_ones(i) = bits.max();
  const auto columns_inside = [&](const Expr& cols) {
    return Halide::BoundaryConditions::constant_exterior(all_ones, Halide::cast(bits, 0), {{0, cols}});
  };
  a.input_cols_zeroed = zero_outside(a.input_source, in_cols);
  Func column_mask = columns_inside(in_cols);

  a.filter_grad = Func("filter_grad");
  a.filter_grad(a.d, a.kw, a.kh) = Halide::cast(type, 0);
  // Every caller's buffers start at zero (FillDepthwiseKernelArgs); stating it lets each tap's offsets fold
  // into constants.
  for (int i = 0; i < 3; ++i) a.filter_grad.output_buffer().dim(i).set_min(0);
  for (int i = 0; i < 2; ++i) {
    a.input_images.dim(i).set_min(0);
    a.out_backprop_images.dim(i).set_min(0);
  }
  const int plane_vector = variants.plane_vector;
  a.has_plane_sums = plane_vector > 0 && !nhwc;
  a.has_phase_sums = variants.phase_sums && nhwc;
  a.has_padded_sums = variants.padded_vector > 0;
  const Expr undilated = a.dilation_rows == 1 && a.dilation_cols == 1;
  const Expr out_plane = out_rows * out_cols;
  // The image views must hold whole images: one of more than 2^31 - 1 values is cut short by the caller.
  const auto whole_images = [](const Halide::ImageParam& images, const Halide::ImageParam& tensor) {
    Expr values = Halide::cast<int64_t>(tensor.dim(0).extent());
    for (int i = 1; i < 3; ++i) values *= Halide::cast<int64_t>(tensor.dim(i).extent());
    return Halide::cast<int64_t>(images.dim(0).extent()) == values;
  };
  const auto small_planes = [&](const Expr& positions) {
    const Expr taps = a.filter_rows() * a.filter_cols();
    const Expr within_limits =
        positions * taps <= a.kMaxPlaneTapPositions || (taps <= 9 && positions <= a.kMaxNineTapPlanePositions);
    return within_limits && a.filter_rows() <= a.kMaxPlaneTaps && a.filter_cols() <= a.kMaxPlaneTaps;
  };
  // Stride 2 sweeps the output plane by rows of whole vectors: `padded_cols` positions per row. Rows whose
  // last vector would be at most half full (`narrow_rows`: 7 output columns in vectors of 16) take vectors of
  // half the size instead, so that fewer of their lanes are padding. Stated as a remainder rather than as
  // 2 * out_cols <= plane_vector: from that bound Halide proves a row one vector long and drops the loop over
  // its vectors, and with it the partition that keeps the images' boundary out of the steady state (twice
  // the time, 14x14x576).
  const auto round_up = [](const Expr& value, int multiple) { return (value + multiple - 1) / multiple * multiple; };
  const Expr narrow_rows = plane_vector >= 2 ? (out_cols + plane_vector - 1) % plane_vector < plane_vector / 2
                                             : Halide::cast<bool>(false);
  // Output rows rounded up to whole vectors (the row sums), or to half vectors where narrow (the strided sums).
  const Expr whole_vector_cols = plane_vector > 0 ? round_up(out_cols, plane_vector) : Expr(0);
  Expr padded_cols = whole_vector_cols;
  if (plane_vector >= 2) padded_cols = Halide::select(narrow_rows, round_up(out_cols, plane_vector / 2), padded_cols);
  const Expr planes_whole =
      whole_images(a.input_images, a.input) && whole_images(a.out_backprop_images, a.out_backprop);
  // The shapes the padded-image sums can take, apart from the choice against the plane sums.
  const Expr small_3x3_images =
      nhwc ? a.filter_rows() == 3 && a.filter_cols() == 3 && out_rows * out_cols <= a.kMaxPadded3x3Positions &&
                 batch >= a.kMinPadded3x3Batch &&
                 Halide::cast<int64_t>(9 * type.bytes()) * a.input.dim(0).extent() * 100 >
                     Halide::cast<int64_t>(a.l1_data_bytes) * a.kPadded3x3L1Percent
           : Halide::cast<bool>(false);
  const Expr padded_fits = a.mask_padding == 0 && a.stride == 1 && undilated && a.multiplier == 1 &&
                           ((a.filter_rows() == 5 && a.filter_cols() == 5) || small_3x3_images) &&
                           (!nhwc || a.out_backprop.dim(0).extent() % variants.padded_vector == 0);
  a.use_padded_sums = a.has_padded_sums ? padded_fits : Halide::cast<bool>(false);
  // The plane sums give way to the padded-image sums, which NCHW 5x5 planes take whatever their size (see
  // has_padded_sums).
  a.use_plane_sums = a.has_plane_sums ? (a.mask_padding == 0 && a.stride == 1 && undilated && out_cols == in_cols &&
                                         small_planes(out_plane) && planes_whole && !a.use_padded_sums)
                                      : Halide::cast<bool>(false);
  a.use_strided_plane_sums =
      a.has_plane_sums ? (a.mask_padding == 0 && a.stride == 2 && undilated &&
                          out_rows * padded_cols <= a.kMaxStridedPlanePositions &&
                          small_planes(out_rows * padded_cols) && planes_whole)
                       : Halide::cast<bool>(false);
  a.use_row_sums = a.has_plane_sums
                       ? (a.mask_padding == 0 && a.stride == 1 && undilated && a.filter_rows() == 3 &&
                          a.filter_cols() == 3 && !a.use_plane_sums && !narrow_rows &&
                          whole_vector_cols > plane_vector && whole_vector_cols <= a.kMaxStridedPlanePositions &&
                          planes_whole)
                       : Halide::cast<bool>(false);
  a.use_phase_sums = a.has_phase_sums ? (a.stride == 2 && undilated && a.multiplier == 1 && a.filter_cols() == 3 &&
                                         a.pad_left >= 0 && a.pad_left <= 1 && in_cols % 2 == 0)
                                      : Halide::cast<bool>(false);
  a.use_other_sums =
      a.use_plane_sums || a.use_strided_plane_sums || a.use_row_sums || a.use_phase_sums || a.use_padded_sums;
  const Expr& other_sums = a.use_other_sums;
  const Expr image_rows = batch * out_rows;
  a.flat_rows = variants.flat_rows_multiple > 0;
  a.lane_columns = Halide::cast<bool>(false);
  a.out_backprop_cols_zeroed = a.out_backprop_source;
  if (a.flat_rows) {
    const int multiple = variants.flat_rows_multiple;
    const Expr flat_rows = (image_rows + multiple - 1) / multiple * multiple;
    Expr cols = out_cols;
    if (variants.lane_columns_min_work > 0) {
      const Expr depth = a.filter_grad.output_buffer().dim(0).extent();
      a.lane_columns = depth * flat_rows >= variants.lane_columns_min_work;
      cols = Halide::select(a.lane_columns, (out_cols + a.lane_width() - 1) / a.lane_width() * a.lane_width(),
                            out_cols);
      a.out_backprop_cols_zeroed = zero_outside(a.out_backprop_source, out_cols);
    }
    a.rows = Halide::RDom(0, cols, 0, Halide::select(other_sums, 0, flat_rows), "rows");
  } else {
    a.rows = Halide::RDom(0, out_cols, 0, out_rows, 0, Halide::select(other_sums, 0, batch), "rows");
  }
  const auto row_mask = [&](const Expr& ih) {
    return Halide::select(ih >= 0 && ih < in_rows, bits.max(), Halide::cast(bits, 0));
  };
  {
    const Expr ow = a.rows.x;
    const Expr oh = a.flat_rows ? a.rows.y % out_rows : a.rows.y;
    const Expr n = a.flat_rows ? Halide::min(a.rows.y / out_rows, batch - 1) : a.rows.z;
    const Expr ih = in_row(oh), iw = in_col(ow);
    const Expr x = x_at(a.input_cols_zeroed, iw, Halide::clamp(ih, 0, in_rows - 1), n);
    // A flat row past the last reads the last image's rows, masked out like padding; so are the columns past
    // the last with lane columns.
    Expr mask = a.flat_rows ? Halide::select(a.rows.y < image_rows, row_mask(ih), Halide::cast(bits, 0))
                            : row_mask(ih);
    if (variants.lane_columns_min_work > 0) mask = mask & columns_inside(out_cols)(ow);
    const Expr dy = dy_of(a.out_backprop_cols_zeroed, ow, oh, n);
    Expr term = Masked(x, mask) * Masked(dy, mask & column_mask(iw));
    if (variants.padding_by_select) {
      // The masks are all ones or all zeros per tap and position, so each is a scalar condition, and on
      // AVX-512 the selects compile to a zero-masking multiply and a merge-masking multiply-add per pair of
      // products: the L1 sweep's step of three taps and two rows went from 8 ANDs and 6 multiply-adds on the
      // ports both use to 9 multiplies and adds. Ahead-of-time builds alternated call by call, two threads,
      // batch 32 hot, three runs: 14x14x576 5-9% faster, 28x28x192 6-7%, 7x7x960 8-10%, 112x112x32 6%,
      // multiplier 2 on 56x56x144 7%; batch 1 56x56x144 14%. 5x5 filters keep the ANDs: their register sweeps
      // reuse each masked vector for several taps, where the selects became a masked multiply per product
      // (56x56x144 stride 2: 14% slower). The choice folds away in the schedules' specialisations.
      Expr inside = ih >= 0 && ih < in_rows;  // `mask` as a condition
      if (a.flat_rows) inside = a.rows.y < image_rows && inside;
      if (variants.lane_columns_min_work > 0) inside = inside && columns_inside(out_cols)(ow) != 0;
      const Expr by_select = ZeroUnless(inside, x) * ZeroUnless(inside && column_mask(iw) != Halide::cast(bits, 0), dy);
      a.keeps_padding_masks = a.filter_rows() == 5 && a.filter_cols() == 5;
      term = Halide::select(a.keeps_padding_masks, term, by_select);
    }
    a.filter_grad(a.d, a.kw, a.kh) += term;
  }
  if (a.has_phase_sums) {
    // Column-phase sums: input column 2j + phase against output column j - shift + pad_left. Every input
    // column read is real; an output column outside the image (at a row's ends) masks both factors, as
    // does a padding row.
    Func dy_cols_padded = zero_outside(a.out_backprop_source, out_cols);
    Func out_column_mask = columns_inside(out_cols);
    a.phase_rows = Halide::RDom(0, in_cols / 2, 0, out_rows, 0, Halide::select(a.use_phase_sums, batch, 0),
                                "phase_rows");
    const Expr j = a.phase_rows.x, oh = a.phase_rows.y, n = a.phase_rows.z;
    const Expr ih = in_row(oh), ow = j - a.shift + a.pad_left;
    const Expr mask = row_mask(ih) & out_column_mask(ow);
    a.phase_sums = Func("phase_sums");
    a.phase_sums(a.d, a.phase, a.shift, a.kh) = Halide::cast(type, 0);
    const Expr x = a.input_source(c, 2 * j + a.phase, Halide::clamp(ih, 0, in_rows - 1), n);
    const Expr dy = dy_cols_padded(a.d, ow, oh, n);
    if (variants.padding_by_select) {
      // As in update 0 (three taps, no register sweep here): 56x56x144 batch 32 hot 1.97 -> 1.70 ms, 112x112x96
      // 9.7 -> 8.1, 14x14x576 0.49 -> 0.43, the same results to the bit.
      const Expr inside = ih >= 0 && ih < in_rows && out_column_mask(ow) != Halide::cast(bits, 0);
      a.phase_sums(a.d, a.phase, a.shift, a.kh) += ZeroUnless(inside, x) * ZeroUnless(inside, dy);
    } else {
      a.phase_sums(a.d, a.phase, a.shift, a.kh) += Masked(x, mask) * Masked(dy, mask);
    }
    // Filter column kw is (phase, shift) = ((kw + pad_left) % 2, (kw + pad_left) / 2); the clamp only keeps
    // the read inside the two shifts for shapes that do not take the phase sums (whose sums are all zero).
    const Expr kw_padded = a.kw + a.pad_left;
    a.filter_grad(a.d, a.kw, a.kh) += a.phase_sums(a.d, kw_padded % 2, Halide::clamp(kw_padded / 2, 0, 1), a.kh);
  }
  if (a.has_padded_sums) {
    // Padded-image sums: the same terms as update 0 with the padding read as zeros and nothing masked.
    a.padded_input = Func("padded_input");
    a.padded_input_source = source(a.input);
    Func image_padded = zero_outside(a.padded_input_source, in_cols, in_rows);
    a.padded_out_backprop = Func("padded_out_backprop");
    Halide::Var v0("v0"), v1("v1"), v2("v2"), v3("v3"), v4("v4");
    a.padded_rows =
        Halide::RDom(0, out_cols, 0, out_rows, 0, Halide::select(a.use_padded_sums, batch, 0), "padded_rows");
    const Expr ow = a.padded_rows.x, oh = a.padded_rows.y, n = a.padded_rows.z;
    a.padded_sums_update = a.has_phase_sums ? 2 : 1;
    if (nhwc) {
      // Both tensors in blocks of one vector of channels, (lane, w, h, block, n). NHWC takes these sums only
      // on whole vectors of channels, so every channel a copy reads is real when the sums are taken; the
      // promise says so to bounds inference, which otherwise widens the tensors' required regions to whole
      // blocks for the shapes that leave the copies empty (3 channels, multiplier 2: channels 0-7).
      const int vector = variants.padded_vector;
      const auto in_blocks = [&](Func& blocked, const Func& tensor, const Expr& channels) {
        const Expr channel = Halide::unsafe_promise_clamped(v3 * vector + v0, 0, channels - 1);
        blocked(v0, v1, v2, v3, v4) = tensor(channel, v1, v2, v4);
      };
      in_blocks(a.padded_input, image_padded, a.input.dim(0).extent());
      in_blocks(a.padded_out_backprop, source(a.out_backprop), a.out_backprop.dim(0).extent());
      // Multiplier 1 (the only one these sums take): channel c is d.
      a.filter_grad(a.d, a.kw, a.kh) += a.padded_input(c % vector, in_col(ow), in_row(oh), c / vector, n) *
                                        a.padded_out_backprop(a.d % vector, ow, oh, a.d / vector, n);
    } else {
      a.padded_input(v0, v1, v2, v3) = image_padded(v0, v1, v2, v3);
      a.padded_out_backprop(v0, v1, v2, v3) = source(a.out_backprop)(v0, v1, v2, v3);
      a.filter_grad(a.d, a.kw, a.kh) +=
          x_at(a.padded_input, in_col(ow), in_row(oh), n) * dy_of(a.padded_out_backprop, ow, oh, n);
    }
  }
  if (!a.has_plane_sums) return a;
  a.plane_sums_update = a.has_padded_sums ? 2 : 1;

  // Plane sums. Output position p of a plane is (p / OW, p % OW); as OW == W and the stride is 1, its tap
  // (kh, kw) is input position p + (kh - pad_top) * W + (kw - pad_left) of the same plane. The mask zeroes
  // the input of a tap that falls outside the image (on a padding row, or across a row's end) and of the
  // positions that round the plane up to whole vectors, and only the input: out_backprop unmasked saves one
  // AND per tap and vector (batch 32: 14x14x384 5-10% faster, 28x28x192 3-5%, 14x14x672 5x5 3%, 7x7x960 and
  // 56x56x144 within noise). That is exact for finite values, so these sums run only with mask_padding 0: an
  // Inf or NaN in out_backprop against a masked input (padding, or the next channel's first positions read
  // past a plane's end) makes a NaN, and the call is run again with mask_padding 1, through update 0.
  const Expr positions = Halide::select(
      a.use_plane_sums, (out_plane + plane_vector - 1) / plane_vector * plane_vector, 0);
  {
    // Position p of the mask is (p / pitch, p % pitch): rows of the output plane (stride 1) or of whole
    // vectors (stride 2); the columns past the output's are masked.
    Halide::Var p("p"), tap_col("tap_col"), tap_row("tap_row");
    const Expr pitch = Halide::select(a.stride == 1, out_cols, padded_cols);
    // p / pitch through a float division: exact for these sizes (the quotient of p + 0.5 is at least
    // 0.5 / pitch from an integer, far more than its rounding error), and a vector instruction, where an
    // integer division by a run-time value is one scalar division per lane (about 100 microseconds per call
    // for the whole table).
    const Expr out_row =
        Halide::cast<int32_t>(Halide::floor((Halide::cast<float>(p) + 0.5f) / Halide::cast<float>(pitch)));
    const Expr out_col = p - out_row * pitch;
    const Expr in_plane = out_row < out_rows && out_col < out_cols;
    const auto row_inside = [&](const Expr& filter_row) {
      const Expr row = a.stride * out_row + filter_row - a.pad_top;
      return row >= 0 && row < in_rows;
    };
    const auto col_inside = [&](const Expr& filter_col) {
      const Expr col = a.stride * out_col + filter_col - a.pad_left;
      return col >= 0 && col < in_cols;
    };
    a.plane_mask = Func("plane_mask");
    a.plane_mask(p, tap_col, tap_row) = Halide::select(in_plane && row_inside(tap_row) && col_inside(tap_col),
                                                       bits.max(), Halide::cast(bits, 0));
    Halide::Var tap("tap"), axis("axis");
    a.plane_mask_factors = Func("plane_mask_factors");
    a.plane_mask_factors(p, tap, axis) =
        Halide::select(in_plane && Halide::select(axis == 0, row_inside(tap), col_inside(tap)), bits.max(),
                       Halide::cast(bits, 0));
    // Column ow of a row of whole vectors (stride 2: the strided plane sums; stride 1: the row sums) against
    // filter column tap_col.
    const Expr col = a.stride * p + tap_col - a.pad_left;
    a.column_mask = Func("column_mask");
    a.column_mask(p, tap_col) =
        Halide::select(p < out_cols && col >= 0 && col < in_cols, bits.max(), Halide::cast(bits, 0));
  }
  // Reads before a plane's start or past its end land in the neighbouring planes (masked); only those
  // before an image's first plane or past its last one need the zero boundary.
  const auto zero_outside_images = [&](const Halide::ImageParam& images) {
    const Halide::Region region = {{0, images.dim(0).extent()}, {Expr(), Expr()}};
    return Halide::BoundaryConditions::constant_exterior(images, Halide::cast(type, 0), region);
  };
  a.input_image_source = zero_outside_images(a.input_images);
  a.out_backprop_image_source = zero_outside_images(a.out_backprop_images);
  a.plane_positions = Halide::RDom(0, positions, 0, Halide::select(a.use_plane_sums, batch, 0), "plane_positions");
  {
    const Expr p = a.plane_positions.x, n = a.plane_positions.y;
    const Expr offset = (a.kh - a.pad_top) * in_cols + a.kw - a.pad_left;
    // The taps clamped into the mask's constant extents: larger filters never take this update.
    const Expr tap_col = Halide::min(a.kw, a.kMaxPlaneTaps - 1), tap_row = Halide::min(a.kh, a.kMaxPlaneTaps - 1);
    // 3x3: the mask as the AND of its row and column factors. A vector's nine taps then load three row and
    // three column masks instead of nine masks, for nine more ANDs: the step was bound by its loads (9 of
    // the input, 9 of masks, 1 of out_backprop per 9 multiply-adds). Ahead-of-time builds alternated call by
    // call, same results to the bit; two threads, batch 32 cold: 28x28x192 3.53 -> 3.09 ms, 14x14x384 2.26 ->
    // 1.97, 14x14x576 3.11 -> 2.83, 56x56x144 9.10 -> 8.72, 7x7x960 within noise; batch 1 56x56x144 hot 0.214
    // -> 0.192, cold 0.437 -> 0.407. 5x5, one filter row per pass (six loads for five taps against five):
    // 14x14x672 4% faster and 7x7x1152 6% slower at one thread, so it keeps the table. The condition folds
    // away in the 3x3 and 5x5 specialisations.
    const Expr three_by_three = a.filter_rows() == 3 && a.filter_cols() == 3;
    const Expr mask = Halide::select(three_by_three,
                                     a.plane_mask_factors(p, tap_row, 0) & a.plane_mask_factors(p, tap_col, 1),
                                     a.plane_mask(p, tap_col, tap_row));
    a.filter_grad(a.d, a.kw, a.kh) += Masked(a.input_image_source(c * (in_rows * in_cols) + p + offset, n), mask) *
                                      a.out_backprop_image_source(a.d * out_plane + p, n);
  }

  // A tap's masked product at input (ih, iw) and output (oh, ow) of image n, read in place: the strided plane
  // sums and the row sums.
  const auto add_row_product = [&](const Expr& ih, const Expr& iw, const Expr& oh, const Expr& ow, const Expr& n,
                                   const Expr& mask) {
    const Expr x = a.input_image_source(c * (in_rows * in_cols) + ih * in_cols + iw, n);
    const Expr dy = a.out_backprop_image_source(a.d * out_plane + oh * out_cols + ow, n);
    a.filter_grad(a.d, a.kw, a.kh) += Masked(x, mask) * dy;
  };

  // Stride 2 (update 2): the same sums along each output row in whole vectors. A vector of output columns
  // reads its taps as every other value of an input row (a strided load, no copy); the columns past the
  // row's end read the next row, and their inputs are masked (out_backprop is not, as at stride 1).
  // Unused, every extent is 0: even empty loops over rows and images cost time per channel.
  a.strided_plane_positions =
      Halide::RDom(0, Halide::select(a.use_strided_plane_sums, padded_cols, 0), 0,
                   Halide::select(a.use_strided_plane_sums, out_rows, 0), 0,
                   Halide::select(a.use_strided_plane_sums, batch, 0), "strided_plane_positions");
  {
    const Expr ow = a.strided_plane_positions.x, oh = a.strided_plane_positions.y, n = a.strided_plane_positions.z;
    // Rows of more than one vector take the mask as a row's bits (a scalar per filter row) ANDed with a
    // column's (per vector and filter column, the same in every row, so kept in registers down the rows):
    // no loads. A row of one vector keeps the table, which measured faster there (14x14x576 at one thread
    // 2.8 against 3.1 ms; 28x28x192 3.9 against 4.2 the other way).
    a.strided_wide_rows = padded_cols > plane_vector;
    a.strided_narrow_rows = narrow_rows;
    const Expr tap_col = Halide::min(a.kw, a.kMaxPlaneTaps - 1), tap_row = Halide::min(a.kh, a.kMaxPlaneTaps - 1);
    // The table's position promised to lie in the output plane: on calls that skip these sums (no rows), the
    // bounds of rows in half vectors reached one row before the table's start.
    const Expr last_position = Halide::select(a.use_strided_plane_sums, out_rows * padded_cols - 1, 0);
    const Expr table_position = Halide::unsafe_promise_clamped(oh * padded_cols + ow, 0, last_position);
    // Stride 2 and no dilation written out, so that the load is a constant-stride one.
    const Expr ih = 2 * oh + a.kh - a.pad_top;
    const Expr mask = Halide::select(a.strided_wide_rows, row_mask(ih) & a.column_mask(ow, tap_col),
                                     a.plane_mask(table_position, tap_col, tap_row));
    add_row_product(ih, 2 * ow + a.kw - a.pad_left, oh, ow, n, mask);
  }

  // Row sums (the update after the strided plane sums): 3x3 at stride 1 along each output row in whole
  // vectors, read in place. The columns past the row's end read the next row; their inputs are masked, as are
  // the taps outside the image's rows and columns (out_backprop is not, as in the plane sums). Unused, every
  // extent is 0.
  a.row_positions = Halide::RDom(0, Halide::select(a.use_row_sums, whole_vector_cols, 0), 0,
                                 Halide::select(a.use_row_sums, out_rows, 0), 0,
                                 Halide::select(a.use_row_sums, batch, 0), "row_positions");
  {
    const Expr ow = a.row_positions.x, oh = a.row_positions.y, n = a.row_positions.z;
    const Expr tap_col = Halide::min(a.kw, a.kMaxPlaneTaps - 1);
    const Expr ih = oh + a.kh - a.pad_top;
    add_row_product(ih, ow + a.kw - a.pad_left, oh, ow, n, row_mask(ih) & a.column_mask(ow, tap_col));
  }
  return a;
}

}  // namespace codegen
}  // namespace halogen
