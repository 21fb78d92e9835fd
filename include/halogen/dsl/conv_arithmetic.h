// Window arithmetic shared by convolution-like ops: output size and padding per spatial dimension,
// exactly as TensorFlow computes them (SPEC.md, "Arithmetic").
#ifndef HALOGEN_DSL_CONV_ARITHMETIC_H_
#define HALOGEN_DSL_CONV_ARITHMETIC_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace halogen {

enum class Padding { kSame, kValid, kExplicit };
enum class DataFormat { kNHWC, kNCHW };

// Parses "SAME" / "VALID" / "EXPLICIT" and "NHWC" / "NCHW"; errors name the attr and the value.
absl::StatusOr<Padding> ParsePadding(absl::string_view text);
absl::StatusOr<DataFormat> ParseDataFormat(absl::string_view text);
const char* PaddingName(Padding padding);
const char* DataFormatName(DataFormat format);

struct WindowedDim {
  int64_t output_size = 0;
  int64_t pad_before = 0;
  int64_t pad_after = 0;
};

// One spatial dimension. `pad_before`/`pad_after` are read only for kExplicit.
// Errors (InvalidArgument): "Stride must be > 0, but got S", "Computed output size would be negative: ...",
// and ResourceExhausted if a size overflows int64.
absl::StatusOr<WindowedDim> ComputeWindowedDim(int64_t input_size, int64_t filter_size, int64_t dilation,
                                               int64_t stride, Padding padding,
                                               int64_t pad_before = 0, int64_t pad_after = 0);

}  // namespace halogen

#endif  // HALOGEN_DSL_CONV_ARITHMETIC_H_
