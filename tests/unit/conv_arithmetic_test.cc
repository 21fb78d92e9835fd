// Output size and padding per spatial dimension, against values worked out by hand from SPEC's formulas
// (and, where noted, TensorFlow's own test shapes).
#include <catch2/catch.hpp>

#include "halogen/dsl/conv_arithmetic.h"

using halogen::ComputeWindowedDim;
using halogen::Padding;

namespace {

struct Case {
  int64_t input, filter, dilation, stride;
  Padding padding;
  int64_t pad_before_in, pad_after_in;
  int64_t output, pad_before, pad_after;
};

}  // namespace

TEST_CASE("windowed output size and padding") {
  const Case cases[] = {
      // SAME: O = ceil(I / s); the odd extra pad goes after.
      {5, 3, 1, 1, Padding::kSame, 0, 0, 5, 1, 1},
      {5, 3, 1, 2, Padding::kSame, 0, 0, 3, 1, 1},
      {6, 3, 1, 2, Padding::kSame, 0, 0, 3, 0, 1},
      {7, 3, 1, 3, Padding::kSame, 0, 0, 3, 1, 1},
      {7, 4, 1, 1, Padding::kSame, 0, 0, 7, 1, 2},
      {2, 5, 1, 1, Padding::kSame, 0, 0, 2, 2, 2},   // input smaller than the filter
      {5, 3, 2, 1, Padding::kSame, 0, 0, 5, 2, 2},   // dilation 2: effective filter 5
      {183, 5, 2, 1, Padding::kSame, 0, 0, 183, 4, 4},  // TF config [5,183,183,1] x [5,5], dilation 2
      {299, 3, 1, 2, Padding::kSame, 0, 0, 150, 1, 1},  // TF config [3,299,299,3], stride 2
      {8, 3, 1, 3, Padding::kSame, 0, 0, 3, 0, 1},
      {1, 1, 1, 1, Padding::kSame, 0, 0, 1, 0, 0},
      // VALID: O = (I - K_eff + s) / s, truncating.
      {5, 3, 1, 1, Padding::kValid, 0, 0, 3, 0, 0},
      {5, 3, 1, 2, Padding::kValid, 0, 0, 2, 0, 0},
      {5, 3, 1, 3, Padding::kValid, 0, 0, 1, 0, 0},
      {147, 3, 1, 3, Padding::kValid, 0, 0, 49, 0, 0},  // TF config [4,147,147,2], stride 3
      {41, 4, 3, 1, Padding::kValid, 0, 0, 32, 0, 0},   // TF config [5,41,35,2] x [4,7], dilations [3,2]
      {35, 7, 2, 1, Padding::kValid, 0, 0, 23, 0, 0},
      {10, 3, 3, 1, Padding::kValid, 0, 0, 4, 0, 0},
      {2, 4, 1, 3, Padding::kValid, 0, 0, 0, 0, 0},     // SPEC: a zero quotient is an empty dimension
      {0, 1, 1, 1, Padding::kValid, 0, 0, 0, 0, 0},
      // EXPLICIT: O = (I + before + after - K_eff + s) / s.
      {5, 3, 1, 1, Padding::kExplicit, 1, 2, 6, 1, 2},
      {1, 3, 1, 1, Padding::kExplicit, 10, 20, 29, 10, 20},  // TF explicit config [4,1,1,3]
      {299, 2, 1, 2, Padding::kExplicit, 3, 5, 153, 3, 5},
      {183, 5, 1, 3, Padding::kExplicit, 3, 2, 62, 3, 2},
      {29, 5, 2, 1, Padding::kExplicit, 3, 2, 26, 3, 2},
  };
  for (const Case& c : cases) {
    INFO("input " << c.input << " filter " << c.filter << " dilation " << c.dilation << " stride " << c.stride
                  << " padding " << halogen::PaddingName(c.padding));
    auto dim = ComputeWindowedDim(c.input, c.filter, c.dilation, c.stride, c.padding, c.pad_before_in,
                                  c.pad_after_in);
    REQUIRE(dim.ok());
    CHECK(dim->output_size == c.output);
    CHECK(dim->pad_before == c.pad_before);
    CHECK(dim->pad_after == c.pad_after);
  }
}

TEST_CASE("strides 1 to 3 over odd sizes agree with the closed forms") {
  for (int64_t input = 1; input <= 13; input += 2) {
    for (int64_t filter = 1; filter <= 5; ++filter) {
      for (int64_t stride = 1; stride <= 3; ++stride) {
        auto same = ComputeWindowedDim(input, filter, 1, stride, Padding::kSame);
        REQUIRE(same.ok());
        CHECK(same->output_size == (input + stride - 1) / stride);
        // Every SAME output position's window starts inside the padded input.
        CHECK((same->output_size - 1) * stride + filter <= input + same->pad_before + same->pad_after);
        CHECK(same->pad_after - same->pad_before >= 0);
        CHECK(same->pad_after - same->pad_before <= 1);
        auto valid = ComputeWindowedDim(input, filter, 1, stride, Padding::kValid);
        if ((input - filter + stride) / stride < 0) {  // C++ truncates toward zero, as TensorFlow does
          CHECK_FALSE(valid.ok());
        } else {
          REQUIRE(valid.ok());
          CHECK(valid->output_size == (input - filter + stride) / stride);
          if (valid->output_size > 0) CHECK((valid->output_size - 1) * stride + filter <= input);
        }
      }
    }
  }
}

TEST_CASE("negative output size and bad stride are errors") {
  auto negative = ComputeWindowedDim(2, 4, 1, 1, Padding::kValid);
  REQUIRE(negative.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(negative.status().message().find("Computed output size would be negative: -1") != std::string::npos);
  auto zero_stride = ComputeWindowedDim(5, 3, 1, 0, Padding::kSame);
  REQUIRE(zero_stride.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(zero_stride.status().message() == "Stride must be > 0, but got 0");
  auto zero_dilation = ComputeWindowedDim(5, 3, 0, 1, Padding::kSame);
  CHECK(zero_dilation.status().message() == "Dilation rate must be >= 1, but got 0");
  auto overflow = ComputeWindowedDim(INT64_MAX - 1, 3, 1, 1, Padding::kExplicit, INT64_MAX / 2, INT64_MAX / 2);
  CHECK(overflow.status().code() == absl::StatusCode::kResourceExhausted);
}
