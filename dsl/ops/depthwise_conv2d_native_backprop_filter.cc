#include "halogen/dsl/ops/depthwise_conv2d_native_backprop_filter.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "halogen/dsl/ops/basic.h"
#include "halogen/dsl/ops/depthwise_conv_geometry.h"

namespace halogen {
namespace {

constexpr char kLabel[] = "DepthwiseConv2DBackpropFilter: ";

// Positions of the dimensions in a 4-D data_format-ordered list.
struct DimIndex {
  int batch, rows, cols, depth;
};
DimIndex IndexOf(DataFormat format) {
  return format == DataFormat::kNHWC ? DimIndex{0, 1, 2, 3} : DimIndex{0, 2, 3, 1};
}

template <typename T>
std::string List(absl::Span<const T> values) {
  return absl::StrCat("[", absl::StrJoin(values, ", "), "]");
}

absl::Status CheckExplicitPaddings(Padding padding, absl::Span<const int64_t> pads, DimIndex index) {
  if (padding != Padding::kExplicit) {
    if (pads.empty()) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(
        "explicit_paddings attribute must be empty if the padding attribute is not EXPLICIT, but got ",
        List(pads)));
  }
  if (pads.size() != 8) {
    return absl::InvalidArgumentError(
        absl::StrCat("explicit_paddings attribute must contain 8 values, but got: ", pads.size()));
  }
  for (int64_t pad : pads) {
    if (pad < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "All elements of explicit_paddings must be nonnegative, but explicit_paddings is ", List(pads)));
    }
  }
  if (pads[2 * index.batch] != 0 || pads[2 * index.batch + 1] != 0 || pads[2 * index.depth] != 0 ||
      pads[2 * index.depth + 1] != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Nonzero explicit padding in the batch or depth dimensions is not supported: explicit_paddings ",
        List(pads)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DepthwiseConvParams> ValidateDepthwiseConvAttrs(
    absl::Span<const int> strides, absl::string_view padding,
    const ops::DepthwiseConv2dNativeBackpropFilter::Attrs& attrs) {
  if (strides.size() != 4) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Sliding window strides field must specify 4 dimensions, but strides is ", List(strides)));
  }
  DepthwiseConvParams params;
  absl::StatusOr<DataFormat> format = ParseDataFormat(attrs.data_format_);
  if (!format.ok()) return format.status();
  params.format = *format;
  const DimIndex index = IndexOf(params.format);
  if (strides[index.rows] != strides[index.cols]) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Current implementation only supports equal length strides in the row and column dimensions. "
        "strides is ", List(strides)));
  }
  if (strides[index.batch] != 1 || strides[index.depth] != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Current implementation does not yet support strides in the batch and depth dimensions. "
        "strides is ", List(strides)));
  }
  if (strides[index.rows] <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("Stride must be > 0, but got ", strides[index.rows]));
  }
  params.stride = strides[index.rows];

  absl::StatusOr<Padding> parsed_padding = ParsePadding(padding);
  if (!parsed_padding.ok()) return parsed_padding.status();
  params.padding = *parsed_padding;
  if (absl::Status s = CheckExplicitPaddings(params.padding, attrs.explicit_paddings_, index); !s.ok()) {
    return s;
  }
  params.explicit_paddings = attrs.explicit_paddings_;

  const std::vector<int64_t>& dilations = attrs.dilations_;
  if (dilations.size() != 4) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dilations field must specify 4 dimensions, but dilations is ", List<int64_t>(dilations)));
  }
  for (int64_t d : dilations) {
    if (d < 1) {
      return absl::InvalidArgumentError(absl::StrCat("Dilation rate must be >= 1, but got ", d,
                                                     " in dilations ", List<int64_t>(dilations)));
    }
  }
  if (dilations[index.batch] != 1 || dilations[index.depth] != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Current implementation does not yet support dilations in the batch and depth dimensions. "
        "dilations is ", List<int64_t>(dilations)));
  }
  params.dilation_rows = dilations[index.rows];
  params.dilation_cols = dilations[index.cols];
  return params;
}

absl::StatusOr<std::vector<int64_t>> ValidateFilterSizes(const Tensor& filter_sizes) {
  if (filter_sizes.dtype() != DataType::kInt32) {
    return absl::InvalidArgumentError(absl::StrCat("filter_sizes must be int32, but it is ",
                                                   DataTypeName(filter_sizes.dtype())));
  }
  if (filter_sizes.dims() != 1) {
    return absl::InvalidArgumentError(absl::StrCat("Conv2DBackpropFilter: filter_sizes input must be 1-dim, not ",
                                                   filter_sizes.dims()));
  }
  std::vector<int64_t> sizes;
  absl::Span<const int32_t> values = filter_sizes.flat<int32_t>();
  // Checked element by element as TensorFlow builds the filter shape: sign, then the running element
  // count, which a long list of huge values overflows (TensorFlow once crashed there).
  int64_t count = 1;
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("Dimension ", i, " of filter_sizes must be >= 0, but got ", values[i]));
    }
    int64_t next = 0;
    if (__builtin_mul_overflow(count, int64_t{values[i]}, &next)) {
      return absl::InvalidArgumentError(absl::StrCat("Encountered overflow when multiplying ", count, " with ",
                                                     values[i], ", result: -1 (filter_sizes has ",
                                                     values.size(), " values)"));
    }
    count = next;
    sizes.push_back(values[i]);
  }
  return sizes;
}

absl::StatusOr<DepthwiseConvGeometry> ComputeDepthwiseConvGeometry(
    const DepthwiseConvParams& params, const TensorShape& input_shape,
    absl::Span<const int64_t> filter_sizes, const TensorShape& out_backprop_shape) {
  if (input_shape.dims() != 4) {
    return absl::InvalidArgumentError(absl::StrCat(kLabel, "input must be 4-dimensional, but input has shape ",
                                                   input_shape.DebugString()));
  }
  if (filter_sizes.size() != 4) {
    return absl::InvalidArgumentError(absl::StrCat(
        kLabel, "filter must be 4-dimensional, but filter_sizes has ", filter_sizes.size(), " values"));
  }
  if (out_backprop_shape.dims() != 4) {
    return absl::InvalidArgumentError(absl::StrCat(kLabel,
                                                   "out_backprop must be 4-dimensional, but out_backprop has shape ",
                                                   out_backprop_shape.DebugString()));
  }
  const DimIndex index = IndexOf(params.format);
  DepthwiseConvGeometry g;
  g.format = params.format;
  g.batch = input_shape.dim_size(index.batch);
  if (g.batch != out_backprop_shape.dim_size(index.batch)) {
    return absl::InvalidArgumentError(absl::StrCat(
        kLabel, "input and out_backprop must have the same batch size, but input has ", g.batch,
        " and out_backprop has ", out_backprop_shape.dim_size(index.batch)));
  }
  g.in_rows = input_shape.dim_size(index.rows);
  g.in_cols = input_shape.dim_size(index.cols);
  g.channels = input_shape.dim_size(index.depth);
  g.filter_rows = filter_sizes[0];
  g.filter_cols = filter_sizes[1];
  if (g.channels != filter_sizes[2]) {
    return absl::InvalidArgumentError(
        absl::StrCat(kLabel, "input and filter must have the same in_depth, but input has ", g.channels,
                     " and filter_sizes[2] is ", filter_sizes[2]));
  }
  g.multiplier = filter_sizes[3];
  const int64_t out_depth = out_backprop_shape.dim_size(index.depth);
  // Both factors are int32 (filter_sizes), so the product fits int64.
  if (g.multiplier * g.channels != out_depth) {
    return absl::InvalidArgumentError(absl::StrCat(
        kLabel, "depth_multiplier * in_depth not equal to out_depth: ", g.multiplier, " * ", g.channels,
        " != ", out_depth));
  }
  // The filter's element count must be representable (four int32 factors can overflow int64).
  if (absl::StatusOr<TensorShape> filter = TensorShape::Make(filter_sizes); !filter.ok()) {
    return filter.status();
  }
  g.stride = params.stride;
  g.dilation_rows = params.dilation_rows;
  g.dilation_cols = params.dilation_cols;
  const bool is_explicit = params.padding == Padding::kExplicit;
  const auto pad = [&](int dim, int side) -> int64_t {
    return is_explicit ? params.explicit_paddings[2 * dim + side] : 0;
  };
  absl::StatusOr<WindowedDim> rows = ComputeWindowedDim(g.in_rows, g.filter_rows, g.dilation_rows, g.stride,
                                                        params.padding, pad(index.rows, 0), pad(index.rows, 1));
  if (!rows.ok()) return rows.status();
  absl::StatusOr<WindowedDim> cols = ComputeWindowedDim(g.in_cols, g.filter_cols, g.dilation_cols, g.stride,
                                                        params.padding, pad(index.cols, 0), pad(index.cols, 1));
  if (!cols.ok()) return cols.status();
  g.out_rows = rows->output_size;
  g.out_cols = cols->output_size;
  g.pad_top = rows->pad_before;
  g.pad_left = cols->pad_before;
  if (out_backprop_shape.dim_size(index.rows) != g.out_rows) {
    return absl::InvalidArgumentError(absl::StrCat(
        kLabel, "Number of rows of out_backprop doesn't match computed: actual = ",
        out_backprop_shape.dim_size(index.rows), ", computed = ", g.out_rows));
  }
  if (out_backprop_shape.dim_size(index.cols) != g.out_cols) {
    return absl::InvalidArgumentError(absl::StrCat(
        kLabel, "Number of cols of out_backprop doesn't match computed: actual = ",
        out_backprop_shape.dim_size(index.cols), ", computed = ", g.out_cols));
  }
  // The reduction's multiply-add count must be representable too (it sizes work splits and FLOP counts).
  int64_t work = 1;
  for (int64_t factor : {g.batch, g.out_rows, g.out_cols, out_depth, g.filter_rows, g.filter_cols}) {
    if (__builtin_mul_overflow(work, factor, &work)) {
      return absl::ResourceExhaustedError(
          absl::StrCat(kLabel, "the reduction's size overflows int64 for input ", input_shape.DebugString(),
                       " and out_backprop ", out_backprop_shape.DebugString()));
    }
  }
  return g;
}

absl::Status ValidateDepthwiseConvDtypes(DataType input, DataType out_backprop) {
  if (input != DataType::kFloat && input != DataType::kDouble) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DepthwiseConv2dNativeBackpropFilter: input dtype ", DataTypeName(input),
        " is not supported (float or double), out_backprop dtype is ", DataTypeName(out_backprop)));
  }
  if (input != out_backprop) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot compute DepthwiseConv2dNativeBackpropFilter as input #2(zero-based) was expected to be a ",
        DataTypeName(input), " tensor but is a ", DataTypeName(out_backprop),
        " tensor: input and out_backprop must have the same dtype"));
  }
  return absl::OkStatus();
}

namespace ops {

DepthwiseConv2dNativeBackpropFilter::DepthwiseConv2dNativeBackpropFilter(
    const Scope& scope, Input input, Input filter_sizes, Input out_backprop,
    absl::Span<const int> strides, absl::string_view padding)
    : DepthwiseConv2dNativeBackpropFilter(scope, std::move(input), std::move(filter_sizes),
                                          std::move(out_backprop), strides, padding, Attrs()) {}

DepthwiseConv2dNativeBackpropFilter::DepthwiseConv2dNativeBackpropFilter(
    const Scope& scope, Input input, Input filter_sizes, Input out_backprop,
    absl::Span<const int> strides, absl::string_view padding, const Attrs& attrs) {
  if (!scope.ok()) return;
  absl::StatusOr<DepthwiseConvParams> params = ValidateDepthwiseConvAttrs(strides, padding, attrs);
  if (!params.ok()) {
    scope.UpdateStatus(params.status());
    return;
  }
  // Reserve the op's name first, so constants made from literal operands are named after it.
  const std::string name = scope.GetUniqueNameForOp(kOpName);
  const Scope operands = scope.NewSubScope(name);
  const Output input_out = AsOutput(operands.WithOpName("input"), input);
  const Output sizes_out = AsOutput(operands.WithOpName("filter_sizes"), filter_sizes);
  const Output backprop_out = AsOutput(operands.WithOpName("out_backprop"), out_backprop);
  if (!scope.ok()) return;
  for (const auto& [pin, output] : {std::pair{"input", input_out}, std::pair{"filter_sizes", sizes_out},
                                    std::pair{"out_backprop", backprop_out}}) {
    if (!output.valid()) {
      scope.UpdateStatus(absl::InvalidArgumentError(
          absl::StrCat(kOpName, ": operand '", pin, "' is not connected to any node")));
      return;
    }
  }
  if (absl::Status s = ValidateDepthwiseConvDtypes(input_out.dtype(), backprop_out.dtype()); !s.ok()) {
    scope.UpdateStatus(s);
    return;
  }
  if (sizes_out.dtype() != DataType::kInt32) {
    scope.UpdateStatus(absl::InvalidArgumentError(absl::StrCat(
        "filter_sizes must be int32, but it is ", DataTypeName(sizes_out.dtype()))));
    return;
  }

  // Build-time shape inference: as much as the known values allow.
  NodeDef def;
  const std::optional<Tensor>& sizes_value = sizes_out.node()->value();
  if (sizes_value.has_value()) {
    absl::StatusOr<std::vector<int64_t>> sizes = ValidateFilterSizes(*sizes_value);
    if (!sizes.ok()) {
      scope.UpdateStatus(sizes.status());
      return;
    }
    const std::optional<TensorShape>& input_shape = input_out.node()->shape();
    const std::optional<TensorShape>& backprop_shape = backprop_out.node()->shape();
    if (input_shape.has_value() && backprop_shape.has_value()) {
      absl::StatusOr<DepthwiseConvGeometry> geometry =
          ComputeDepthwiseConvGeometry(*params, *input_shape, *sizes, *backprop_shape);
      if (!geometry.ok()) {
        scope.UpdateStatus(geometry.status());
        return;
      }
    } else if (sizes->size() != 4) {
      scope.UpdateStatus(absl::InvalidArgumentError(absl::StrCat(
          kLabel, "filter must be 4-dimensional, but filter_sizes has ", sizes->size(), " values")));
      return;
    }
    absl::StatusOr<TensorShape> output_shape = TensorShape::Make(*sizes);
    if (!output_shape.ok()) {
      scope.UpdateStatus(output_shape.status());
      return;
    }
    def.shape = *output_shape;
  }
  def.name = name;
  def.op = kOpName;
  def.inputs = {input_out, sizes_out, backprop_out};
  def.dtype = input_out.dtype();
  def.attrs = *params;
  output = Output(scope.graph()->AddNode(std::move(def)));
}

}  // namespace ops
}  // namespace halogen
