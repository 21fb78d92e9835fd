// One test per validation rule of SPEC.md: the status code, TensorFlow's key phrase, and the offending
// value in the message. Shape rules are checked both when the graph is built (Const inputs) and when
// the session runs (unshaped Placeholders), since both paths must reject them.
#include <catch2/catch.hpp>

#include "halogen/dsl/ops/basic.h"
#include "halogen/dsl/ops/depthwise_conv2d_native_backprop_filter.h"
#include "halogen/runtime/client_session.h"

using namespace halogen;  // NOLINT
using Op = ops::DepthwiseConv2dNativeBackpropFilter;

namespace {

struct Call {
  TensorShape input{1, 5, 5, 2};
  std::vector<int32_t> filter_sizes{3, 3, 2, 1};
  TensorShape filter_sizes_shape{4};
  TensorShape out_backprop{1, 5, 5, 2};
  std::vector<int> strides{1, 1, 1, 1};
  std::string padding = "SAME";
  Op::Attrs attrs;
  DataType input_dtype = DataType::kFloat;
  DataType out_backprop_dtype = DataType::kFloat;
};

// Builds with everything constant, so errors surface in the scope.
absl::Status BuildTime(const Call& call) {
  Scope root = Scope::NewRootScope();
  auto x = ops::Const(root, *Tensor::Zeros(call.input_dtype, call.input));
  auto sizes = ops::Const(root, *Tensor::FromVector<int32_t>(call.filter_sizes, call.filter_sizes_shape));
  auto dy = ops::Const(root, *Tensor::Zeros(call.out_backprop_dtype, call.out_backprop));
  Op(root, x, sizes, dy, call.strides, call.padding, call.attrs);
  return root.status();
}

// Builds on unshaped Placeholders, so shape errors surface when the session runs.
absl::Status RunTime(const Call& call) {
  Scope root = Scope::NewRootScope();
  auto x = ops::Placeholder(root, call.input_dtype);
  auto sizes = ops::Placeholder(root, DataType::kInt32);
  auto dy = ops::Placeholder(root, call.out_backprop_dtype);
  auto dw = Op(root, x, sizes, dy, call.strides, call.padding, call.attrs);
  if (!root.ok()) return absl::InternalError("unexpected build error: " + std::string(root.status().message()));
  std::vector<Tensor> outputs;
  return ClientSession(root).Run({{x, *Tensor::Zeros(call.input_dtype, call.input)},
                                  {sizes, *Tensor::FromVector<int32_t>(call.filter_sizes, call.filter_sizes_shape)},
                                  {dy, *Tensor::Zeros(call.out_backprop_dtype, call.out_backprop)}},
                                 {dw}, &outputs);
}

void ExpectError(const absl::Status& status, absl::StatusCode code, const std::vector<std::string>& phrases) {
  INFO("status: " << status.ToString());
  REQUIRE(status.code() == code);
  for (const std::string& phrase : phrases) CHECK(std::string(status.message()).find(phrase) != std::string::npos);
}

void ExpectShapeError(const Call& call, const std::vector<std::string>& phrases,
                      absl::StatusCode code = absl::StatusCode::kInvalidArgument) {
  ExpectError(BuildTime(call), code, phrases);
  ExpectError(RunTime(call), code, phrases);
}

}  // namespace

TEST_CASE("a valid call passes both paths") {
  CHECK(BuildTime(Call()).ok());
  CHECK(RunTime(Call()).ok());
}

TEST_CASE("rule: strides has 4 entries") {
  Call call;
  call.strides = {1, 1, 1};
  ExpectError(BuildTime(call), absl::StatusCode::kInvalidArgument,
              {"Sliding window strides field must specify 4 dimensions", "[1, 1, 1]"});
  call.strides = {};
  ExpectError(BuildTime(call), absl::StatusCode::kInvalidArgument, {"must specify 4 dimensions", "[]"});
}

TEST_CASE("rule: data_format is NHWC or NCHW") {
  Call call;
  call.attrs = Op::DataFormat("NDHWC");
  ExpectError(BuildTime(call), absl::StatusCode::kInvalidArgument, {"Invalid data format", "NDHWC"});
}

TEST_CASE("rule: row stride equals column stride") {
  Call call;
  call.strides = {1, 2, 3, 1};
  ExpectError(BuildTime(call), absl::StatusCode::kInvalidArgument,
              {"Current implementation only supports equal length strides in the row and column dimensions.",
               "[1, 2, 3, 1]"});
  call.strides = {1, 1, 2, 2};  // NCHW order: rows and cols are the last two
  call.attrs = Op::DataFormat("NCHW");
  call.input = {1, 2, 5, 5};
  call.out_backprop = {1, 2, 3, 3};
  CHECK(BuildTime(call).ok());
}

TEST_CASE("rule: batch and depth strides are 1") {
  Call call;
  call.strides = {2, 1, 1, 1};
  ExpectError(BuildTime(call), absl::StatusCode::kInvalidArgument,
              {"Current implementation does not yet support strides in the batch and depth dimensions.",
               "[2, 1, 1, 1]"});
  call.strides = {1, 1, 1, 3};
  ExpectError(BuildTime(call), absl::StatusCode::kInvalidArgument, {"batch and depth dimensions"});
}

TEST_CASE("rule: strides are positive") {
  Call call;
  call.strides = {1, 0, 0, 1};
  ExpectError(BuildTime(call), absl::StatusCode::kInvalidArgument, {"Stride must be > 0, but got 0"});
  call.strides = {1, -2, -2, 1};
  ExpectError(BuildTime(call), absl::StatusCode::kInvalidArgument, {"Stride must be > 0, but got -2"});
}

TEST_CASE("rule: padding is SAME, VALID or EXPLICIT") {
  Call call;
  call.padding = "same";
  ExpectError(BuildTime(call), absl::StatusCode::kInvalidArgument, {"padding", "\"same\""});
}

TEST_CASE("rule: EXPLICIT needs 8 pads") {
  Call call;
  call.padding = "EXPLICIT";
  call.attrs = Op::ExplicitPaddings({0, 0, 1, 1, 1, 1});
  ExpectError(BuildTime(call), absl::StatusCode::kInvalidArgument,
              {"explicit_paddings attribute must contain 8 values, but got: 6"});
}

TEST_CASE("rule: pads are non-negative") {
  Call call;
  call.padding = "EXPLICIT";
  call.attrs = Op::ExplicitPaddings({0, 0, 1, -1, 1, 1, 0, 0});
  ExpectError(BuildTime(call), absl::StatusCode::kInvalidArgument,
              {"All elements of explicit_paddings must be nonnegative", "-1"});
}

TEST_CASE("rule: batch and depth pads are zero") {
  Call call;
  call.padding = "EXPLICIT";
  call.attrs = Op::ExplicitPaddings({0, 0, 1, 1, 1, 1, 0, 1});
  ExpectError(BuildTime(call), absl::StatusCode::kInvalidArgument,
              {"Nonzero explicit padding in the batch or depth dimensions is not supported"});
  call.attrs = Op::ExplicitPaddings({0, 0, 0, 1, 1, 1, 1, 1}).DataFormat("NCHW");  // NCHW: depth is dim 1
  ExpectError(BuildTime(call), absl::StatusCode::kInvalidArgument, {"Nonzero explicit padding"});
}

TEST_CASE("rule: no pads unless EXPLICIT") {
  Call call;
  call.attrs = Op::ExplicitPaddings({0, 0, 1, 1, 1, 1, 0, 0});
  ExpectError(BuildTime(call), absl::StatusCode::kInvalidArgument,
              {"explicit_paddings attribute must be empty if the padding attribute is not EXPLICIT"});
}

TEST_CASE("rule: dilations have 4 entries, all >= 1, batch and depth 1") {
  Call call;
  call.attrs = Op::Dilations({1, 2, 2});
  ExpectError(BuildTime(call), absl::StatusCode::kInvalidArgument, {"dilations", "4 dimensions"});
  call.attrs = Op::Dilations({1, 0, 1, 1});
  ExpectError(BuildTime(call), absl::StatusCode::kInvalidArgument,
              {"Dilation rate must be >= 1, but got 0", "dilations"});
  call.attrs = Op::Dilations({1, 1, 1, 2});
  ExpectError(BuildTime(call), absl::StatusCode::kInvalidArgument, {"dilations", "batch and depth"});
}

TEST_CASE("rule: filter_sizes is a vector") {
  Call call;
  call.filter_sizes_shape = {2, 2};
  ExpectShapeError(call, {"Conv2DBackpropFilter: filter_sizes input must be 1-dim, not 2"});
}

TEST_CASE("rule: each filter_sizes value is >= 0") {
  Call call;
  call.filter_sizes = {3, -3, 2, 1};
  ExpectShapeError(call, {"Dimension 1 of filter_sizes must be >= 0", "-3"});
}

TEST_CASE("rule: input, filter and out_backprop are 4-D") {
  Call call;
  call.input = {5, 5, 2};
  ExpectShapeError(call, {"DepthwiseConv2DBackpropFilter: input must be 4-dimensional", "[5, 5, 2]"});
  call = Call();
  call.filter_sizes = {3, 3, 2};
  call.filter_sizes_shape = {3};
  ExpectShapeError(call, {"DepthwiseConv2DBackpropFilter: filter must be 4-dimensional", "3 values"});
  call = Call();
  call.out_backprop = {};
  ExpectShapeError(call, {"DepthwiseConv2DBackpropFilter: out_backprop must be 4-dimensional", "[]"});
}

TEST_CASE("rule: batches agree") {
  Call call;
  call.out_backprop = {2, 5, 5, 2};
  ExpectShapeError(call, {"DepthwiseConv2DBackpropFilter: input and out_backprop must have the same batch size",
                          "1", "2"});
}

TEST_CASE("rule: input depth equals the third filter size") {
  Call call;
  call.filter_sizes = {3, 3, 3, 1};
  ExpectShapeError(call, {"DepthwiseConv2DBackpropFilter: input and filter must have the same in_depth",
                          "filter_sizes[2] is 3"});
}

TEST_CASE("rule: out_backprop depth equals C * M") {
  Call call;
  call.filter_sizes = {3, 3, 2, 2};
  ExpectShapeError(call, {"DepthwiseConv2DBackpropFilter: depth_multiplier * in_depth not equal to out_depth",
                          "2 * 2 != 2"});
}

TEST_CASE("rule: output size not negative") {
  Call call;
  call.padding = "VALID";
  call.filter_sizes = {7, 3, 2, 1};
  ExpectShapeError(call, {"Computed output size would be negative: -1"});
}

TEST_CASE("rule: out_backprop rows and cols equal the computed ones") {
  Call call;
  call.out_backprop = {1, 4, 5, 2};
  ExpectShapeError(call, {"DepthwiseConv2DBackpropFilter: Number of rows of out_backprop doesn't match computed: "
                          "actual = 4, computed = 5"});
  call.out_backprop = {1, 5, 6, 2};
  ExpectShapeError(call, {"Number of cols of out_backprop doesn't match computed: actual = 6, computed = 5"});
}

TEST_CASE("rule: dtypes agree and are supported") {
  Call call;
  call.out_backprop_dtype = DataType::kDouble;
  ExpectError(BuildTime(call), absl::StatusCode::kInvalidArgument,
              {"cannot compute DepthwiseConv2dNativeBackpropFilter as input #2(zero-based) was expected to be a "
               "float tensor but is a double tensor"});
  call = Call();
  call.input_dtype = call.out_backprop_dtype = DataType::kInt32;
  ExpectError(BuildTime(call), absl::StatusCode::kInvalidArgument, {"int32", "not supported"});
}

TEST_CASE("rule: sizes that overflow or exceed the cap are clean errors") {
  // TensorFlow's crash report: a 13-element filter_sizes of 1879048192.
  Call call;
  call.filter_sizes.assign(13, 1879048192);
  call.filter_sizes_shape = {13};
  ExpectShapeError(call, {"Encountered overflow when multiplying 3530822107858468864 with 1879048192", "13 values"});
  // Four huge sizes whose product overflows int64 (the inputs are empty, so they can exist).
  call = Call();
  call.input = {1, 0, 0, 1879048192};
  call.out_backprop = {1, 0, 0, 1879048192};
  call.filter_sizes = {1879048192, 1879048192, 1879048192, 1};
  ExpectShapeError(call, {"Encountered overflow when multiplying 3530822107858468864 with 1879048192"});
  // A reduction whose multiply-add count (2^80) overflows int64; shapes only, nothing allocated.
  Scope root = Scope::NewRootScope();
  auto x = ops::Placeholder(root, DataType::kFloat, ops::Placeholder::Shape({1 << 20, 0, 0, 1}));
  auto dy = ops::Placeholder(root, DataType::kFloat, ops::Placeholder::Shape({1 << 20, 1 << 20, 1 << 20, 1}));
  Op(root, x, {1 << 20, 1, 1, 1}, dy, {1, 1, 1, 1}, "EXPLICIT",
     Op::ExplicitPaddings({0, 0, (1 << 21) - 1, 0, 1 << 20, 0, 0, 0}));
  ExpectError(root.status(), absl::StatusCode::kResourceExhausted, {"overflows int64"});
}
