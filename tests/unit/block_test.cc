// The block's text pins: int lists, attrs, and building the node from a block.
#include <catch2/catch.hpp>

#include "halogen/dsl/block.h"
#include "halogen/dsl/ops/basic.h"
#include "halogen/dsl/ops/depthwise_conv_geometry.h"

using namespace halogen;  // NOLINT

TEST_CASE("int list pins accept every documented spelling") {
  const std::vector<int> want = {1, 2, 2, 1};
  for (const char* text : {"1,2,2,1", "1;2;2;1", "[1, 2, 2, 1]", " 1 , 2 ,2, 1 ", "[1;2;2;1]", "[ 1,2,2,1 ]"}) {
    INFO(text);
    auto parsed = ParseIntListPin("strides", text);
    REQUIRE(parsed.ok());
    CHECK(*parsed == want);
  }
  CHECK(ParseIntListPin("explicit_paddings_", "")->empty());
  CHECK(ParseIntListPin("explicit_paddings_", "[]")->empty());
  CHECK(*ParseIntListPin("x", "-3, 2147483647") == std::vector<int>{-3, 2147483647});
}

TEST_CASE("malformed int lists are errors naming the pin") {
  for (const char* text : {"1,2,,1", "1,2,2,", "1 2 2 1", "1,2;2,1", "[1,2,2,1", "1,2,2,1]", "a,b", "1.5,2",
                           "+1,2", "2147483648", "0x10", "1,-,2"}) {
    INFO(text);
    auto parsed = ParseIntListPin("strides", text);
    REQUIRE(parsed.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(parsed.status().message().find("pin 'strides'") != std::string::npos);
  }
}

TEST_CASE("attrs pins parse key = value pairs") {
  auto one = ParseAttrsPin("attrs", "data_format_ = NHWC;");
  REQUIRE(one.ok());
  REQUIRE(one->size() == 1);
  CHECK((*one)[0] == std::pair<std::string, std::string>("data_format_", "NHWC"));
  auto many = ParseAttrsPin("attrs", " data_format_=NCHW ; dilations_ = [1;1;2;2]; explicit_paddings_ = 0,0,0,0,1,1,2,2");
  REQUIRE(many.ok());
  REQUIRE(many->size() == 3);
  CHECK((*many)[1].second == "[1;1;2;2]");
  CHECK((*many)[2].second == "0,0,0,0,1,1,2,2");
  CHECK(ParseAttrsPin("attrs", "")->empty());
}

TEST_CASE("malformed attrs are errors naming the key") {
  struct Bad {
    const char* text;
    const char* phrase;
  };
  for (const Bad& bad : {Bad{"data_format_ NHWC;", "key = value"}, Bad{"data_format_ = ;", "has no value"},
                         Bad{"= NHWC;", "not a valid key"}, Bad{"data format_ = NHWC", "not a valid key"},
                         Bad{"data_format_ = NHWC; data_format_ = NCHW;", "'data_format_' is repeated"},
                         Bad{"dilations_ = [1,1,1,1;", "closing"}, Bad{"dilations_ = 1,1]", "opening"}}) {
    INFO(bad.text);
    auto parsed = ParseAttrsPin("attrs", bad.text);
    REQUIRE(parsed.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(parsed.status().message().find("pin 'attrs'") != std::string::npos);
    CHECK(parsed.status().message().find(bad.phrase) != std::string::npos);
  }
}

namespace {

ops::DepthwiseConv2dNativeBackpropFilterBlock MakeBlock(const Scope& scope) {
  ops::DepthwiseConv2dNativeBackpropFilterBlock block;
  block.block_id = "dw_grad_7";
  block.input = ops::Placeholder(scope, DataType::kFloat, ops::Placeholder::Shape({1, 2, 8, 8}));
  block.filter_sizes = ops::Const(scope, *Tensor::FromVector<int32_t>({3, 3, 2, 2}, TensorShape({4})));
  block.out_backprop = ops::Placeholder(scope, DataType::kFloat, ops::Placeholder::Shape({1, 4, 4, 4}));
  block.strides = "1;1;2;2";
  block.padding = "SAME";
  block.attrs = "data_format_ = NCHW; dilations_ = [1,1,1,1];";
  return block;
}

}  // namespace

TEST_CASE("a block's pins build the node with the parsed attributes") {
  Scope root = Scope::NewRootScope();
  auto result = ops::FromBlock(root, MakeBlock(root));
  REQUIRE(result.ok());
  REQUIRE(root.ok());
  const auto& params = std::any_cast<const DepthwiseConvParams&>(result->node()->attrs());
  CHECK(params.format == DataFormat::kNCHW);
  CHECK(params.stride == 2);
  CHECK(params.padding == Padding::kSame);
  CHECK(*result->node()->shape() == TensorShape({3, 3, 2, 2}));
}

TEST_CASE("block errors name the block and the pin") {
  struct Mutation {
    void (*apply)(ops::DepthwiseConv2dNativeBackpropFilterBlock&);
    std::vector<std::string> phrases;
  };
  const std::vector<Mutation> mutations = {
      {[](auto& b) { b.input.reset(); }, {"block 'dw_grad_7'", "pin 'input' is not connected"}},
      {[](auto& b) { b.filter_sizes.reset(); }, {"pin 'filter_sizes' is not connected"}},
      {[](auto& b) { b.out_backprop.reset(); }, {"pin 'out_backprop' is not connected"}},
      {[](auto& b) { b.strides = "1,1,2"; }, {"block 'dw_grad_7'", "Sliding window strides"}},
      {[](auto& b) { b.strides = "1,1,x,2"; }, {"pin 'strides'", "'x' is not an int32"}},
      {[](auto& b) { b.padding = ""; }, {"pin 'padding' is empty"}},
      {[](auto& b) { b.padding = "FULL"; }, {"padding", "FULL"}},
      {[](auto& b) { b.attrs = "data_fromat_ = NHWC;"; }, {"pin 'attrs'", "unknown key 'data_fromat_'"}},
      {[](auto& b) { b.attrs = "data_format_ = NHWC; data_format_ = NCHW;"; }, {"'data_format_' is repeated"}},
      {[](auto& b) { b.attrs = "dilations_ = 1,1,two,1;"; }, {"dilations_", "'two' is not an int32"}},
      {[](auto& b) { b.attrs = "data_format_ = NHCW;"; }, {"Invalid data format", "NHCW"}},
  };
  for (const Mutation& mutation : mutations) {
    Scope root = Scope::NewRootScope();
    auto block = MakeBlock(root);
    mutation.apply(block);
    auto result = ops::FromBlock(root, block);
    INFO(result.status().ToString());
    REQUIRE(result.status().code() == absl::StatusCode::kInvalidArgument);
    for (const std::string& phrase : mutation.phrases) {
      CHECK(result.status().message().find(phrase) != std::string::npos);
    }
  }
}
