#include "halogen/dsl/conv_arithmetic.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace halogen {

absl::StatusOr<Padding> ParsePadding(absl::string_view text) {
  if (text == "SAME") return Padding::kSame;
  if (text == "VALID") return Padding::kValid;
  if (text == "EXPLICIT") return Padding::kExplicit;
  return absl::InvalidArgumentError(absl::StrCat(
      "Value for attr 'padding' of \"", text,
      "\" is not in the list of allowed values: \"SAME\", \"VALID\", \"EXPLICIT\""));
}

absl::StatusOr<DataFormat> ParseDataFormat(absl::string_view text) {
  if (text == "NHWC") return DataFormat::kNHWC;
  if (text == "NCHW") return DataFormat::kNCHW;
  return absl::InvalidArgumentError(absl::StrCat("Invalid data format: Value for attr 'data_format' of \"", text,
                                                 "\" is not in the list of allowed values: \"NHWC\", \"NCHW\""));
}

const char* PaddingName(Padding padding) {
  switch (padding) {
    case Padding::kSame: return "SAME";
    case Padding::kValid: return "VALID";
    case Padding::kExplicit: return "EXPLICIT";
  }
  return "?";
}

const char* DataFormatName(DataFormat format) {
  return format == DataFormat::kNHWC ? "NHWC" : "NCHW";
}

absl::StatusOr<WindowedDim> ComputeWindowedDim(int64_t input_size, int64_t filter_size, int64_t dilation,
                                               int64_t stride, Padding padding, int64_t pad_before,
                                               int64_t pad_after) {
  if (stride <= 0) return absl::InvalidArgumentError(absl::StrCat("Stride must be > 0, but got ", stride));
  if (dilation < 1) {
    return absl::InvalidArgumentError(absl::StrCat("Dilation rate must be >= 1, but got ", dilation));
  }
  const auto overflow = [&] {
    return absl::ResourceExhaustedError(absl::StrCat(
        "window arithmetic overflows int64 [input_size: ", input_size, ", filter_size: ", filter_size,
        ", dilation: ", dilation, ", stride: ", stride, "]"));
  };
  int64_t effective_filter = 0;
  if (__builtin_mul_overflow(filter_size - 1, dilation, &effective_filter) ||
      __builtin_add_overflow(effective_filter, 1, &effective_filter)) {
    return overflow();
  }
  WindowedDim dim;
  // numerator = padded input - effective filter + stride; every step checked, since sizes may come
  // from untrusted shapes and attrs.
  int64_t numerator = 0;
  switch (padding) {
    case Padding::kValid:
      if (__builtin_sub_overflow(input_size, effective_filter, &numerator) ||
          __builtin_add_overflow(numerator, stride, &numerator)) {
        return overflow();
      }
      dim.output_size = numerator / stride;
      break;
    case Padding::kExplicit:
      if (__builtin_add_overflow(input_size, pad_before, &numerator) ||
          __builtin_add_overflow(numerator, pad_after, &numerator) ||
          __builtin_sub_overflow(numerator, effective_filter, &numerator) ||
          __builtin_add_overflow(numerator, stride, &numerator)) {
        return overflow();
      }
      dim.output_size = numerator / stride;
      dim.pad_before = pad_before;
      dim.pad_after = pad_after;
      break;
    case Padding::kSame: {
      if (__builtin_add_overflow(input_size, stride - 1, &numerator)) return overflow();
      dim.output_size = numerator / stride;
      int64_t needed = 0;
      if (dim.output_size > 0 &&
          (__builtin_mul_overflow(dim.output_size - 1, stride, &needed) ||
           __builtin_add_overflow(needed, effective_filter - input_size, &needed))) {
        return overflow();
      }
      needed = std::max<int64_t>(needed, 0);
      dim.pad_before = needed / 2;
      dim.pad_after = needed - dim.pad_before;
      break;
    }
  }
  if (dim.output_size < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Computed output size would be negative: ", dim.output_size, " [input_size: ", input_size,
        ", effective_filter_size: ", effective_filter, ", stride: ", stride, "]"));
  }
  return dim;
}

}  // namespace halogen
