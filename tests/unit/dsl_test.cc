// Scope, graph, tensors and build-time shape inference.
#include <catch2/catch.hpp>

#include "halogen/dsl/ops/basic.h"
#include "halogen/dsl/ops/depthwise_conv2d_native_backprop_filter.h"
#include "halogen/dsl/scope.h"
#include "halogen/runtime/client_session.h"

using namespace halogen;  // NOLINT
using Op = ops::DepthwiseConv2dNativeBackpropFilter;

TEST_CASE("tensors are 64-byte aligned, zeroed and typed") {
  for (int64_t n : {0, 1, 3, 17, 1000}) {
    auto t = Tensor::Zeros(DataType::kDouble, TensorShape({n, 2}));
    REQUIRE(t.ok());
    CHECK(reinterpret_cast<uintptr_t>(t->data()) % 64 == 0);
    CHECK(t->NumElements() == 2 * n);
    for (double v : t->flat<double>()) CHECK(v == 0.0);
  }
  auto made = Tensor::FromVector<int32_t>({1, 2, 3, 4, 5, 6}, TensorShape({2, 3}));
  REQUIRE(made.ok());
  CHECK(made->dtype() == DataType::kInt32);
  CHECK(made->flat<int32_t>()[5] == 6);
  CHECK(Tensor::FromVector<float>({1.f, 2.f}, TensorShape({3})).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("shapes reject negative dimensions and overflowing element counts") {
  CHECK(TensorShape::Make({2, -1}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(TensorShape::Make({1879048192, 1879048192, 1879048192}).status().code() ==
        absl::StatusCode::kResourceExhausted);
  CHECK(Tensor::Zeros(DataType::kFloat, TensorShape({1 << 20, 1 << 20})).status().code() ==
        absl::StatusCode::kResourceExhausted);  // 4 TiB: more than the machine has, refused before allocating
  CHECK(Tensor::Zeros(DataType::kFloat, TensorShape({1000}), 3999).status().code() ==
        absl::StatusCode::kResourceExhausted);
  CHECK(TensorShape({2, 3, 4}).num_elements() == 24);
  CHECK(TensorShape({2, 3, 4}).DebugString() == "[2, 3, 4]");
}

TEST_CASE("scope names ops uniquely, with sub-scopes as prefixes") {
  Scope root = Scope::NewRootScope();
  auto a = ops::Placeholder(root, DataType::kFloat);
  auto b = ops::Placeholder(root, DataType::kFloat);
  auto c = ops::Placeholder(root.WithOpName("x"), DataType::kFloat);
  auto d = ops::Placeholder(root.WithOpName("x"), DataType::kFloat);
  Scope layer = root.NewSubScope("layer1").NewSubScope("grad");
  auto e = ops::Const(layer, std::vector<float>{1.f}, TensorShape({1}));
  auto f = ops::Const(layer.WithOpName("k"), std::vector<float>{1.f}, TensorShape({1}));
  CHECK(a.node()->name() == "Placeholder");
  CHECK(b.node()->name() == "Placeholder_1");
  CHECK(c.node()->name() == "x");
  CHECK(d.node()->name() == "x_1");
  CHECK(e.name() == "layer1/grad/Const");
  CHECK(f.name() == "layer1/grad/k");
  CHECK(root.ok());
  CHECK(root.graph()->num_nodes() == 6);
}

TEST_CASE("the first error sticks and later ops build nothing") {
  Scope root = Scope::NewRootScope();
  auto x = ops::Placeholder(root, DataType::kFloat);
  auto dy = ops::Placeholder(root, DataType::kFloat);
  Op bad(root, x, {3, 3, 4, 1}, dy, {1, 2, 1, 1}, "SAME");  // unequal strides
  REQUIRE_FALSE(root.ok());
  const absl::Status first = root.status();
  CHECK_FALSE(bad.output.valid());
  const int nodes = root.graph()->num_nodes();
  Op also_bad(root.NewSubScope("s"), x, {3, 3, 4, 1}, dy, {1, 1, 1, 1}, "NOPE");
  auto later = ops::Placeholder(root, DataType::kFloat);
  CHECK_FALSE(also_bad.output.valid());
  CHECK_FALSE(later.output.valid());
  CHECK(root.graph()->num_nodes() == nodes);
  CHECK(root.status() == first);
  // The session reports the build error instead of running.
  ClientSession session(root);
  std::vector<Tensor> outputs;
  CHECK(session.Run({x}, &outputs) == first);
}

TEST_CASE("build-time shape inference gives the filter shape in either layout") {
  for (const char* format : {"NHWC", "NCHW"}) {
    Scope root = Scope::NewRootScope();
    const bool nhwc = std::string(format) == "NHWC";
    auto x = ops::Placeholder(root, DataType::kDouble,
                              ops::Placeholder::Shape(nhwc ? TensorShape{2, 9, 7, 3} : TensorShape{2, 3, 9, 7}));
    auto dy = ops::Placeholder(root, DataType::kDouble,
                               ops::Placeholder::Shape(nhwc ? TensorShape{2, 5, 4, 6} : TensorShape{2, 6, 5, 4}));
    auto dw = Op(root, x, {3, 2, 3, 2}, dy, nhwc ? std::vector<int>{1, 2, 2, 1} : std::vector<int>{1, 1, 2, 2},
                 "SAME", Op::DataFormat(format));
    INFO(root.status().ToString());
    REQUIRE(root.ok());
    REQUIRE(dw.node()->shape().has_value());
    CHECK(*dw.node()->shape() == TensorShape({3, 2, 3, 2}));
    CHECK(dw.output.dtype() == DataType::kDouble);
  }
  // filter_sizes from a Placeholder: the shape is unknown until run time.
  Scope root = Scope::NewRootScope();
  auto x = ops::Placeholder(root, DataType::kFloat);
  auto sizes = ops::Placeholder(root, DataType::kInt32);
  auto dy = ops::Placeholder(root, DataType::kFloat);
  auto dw = Op(root, x, sizes, dy, {1, 1, 1, 1}, "VALID");
  REQUIRE(root.ok());
  CHECK_FALSE(dw.node()->shape().has_value());
}

TEST_CASE("session checks feeds against their placeholders") {
  Scope root = Scope::NewRootScope();
  auto x = ops::Placeholder(root.WithOpName("x"), DataType::kFloat, ops::Placeholder::Shape({1, 4, 4, 2}));
  auto dy = ops::Placeholder(root.WithOpName("dy"), DataType::kFloat);
  auto k = ops::Const(root, std::vector<float>{1.f}, TensorShape({1}));
  auto dw = Op(root, x, {3, 3, 2, 1}, dy, {1, 1, 1, 1}, "SAME");
  REQUIRE(root.ok());
  ClientSession session(root);
  std::vector<Tensor> outputs;
  auto x_value = *Tensor::Zeros(DataType::kFloat, TensorShape({1, 4, 4, 2}));
  auto dy_value = *Tensor::Zeros(DataType::kFloat, TensorShape({1, 4, 4, 2}));

  absl::Status missing = session.Run({{x, x_value}}, {dw}, &outputs);
  CHECK(missing.code() == absl::StatusCode::kInvalidArgument);
  CHECK(missing.message().find("You must feed a value for placeholder tensor 'dy'") != std::string::npos);

  absl::Status wrong_shape =
      session.Run({{x, *Tensor::Zeros(DataType::kFloat, TensorShape({1, 4, 4, 3}))}, {dy, dy_value}}, {dw}, &outputs);
  CHECK(wrong_shape.code() == absl::StatusCode::kInvalidArgument);
  CHECK(wrong_shape.message().find("[1, 4, 4, 3]") != std::string::npos);

  absl::Status wrong_dtype =
      session.Run({{x, x_value}, {dy, *Tensor::Zeros(DataType::kDouble, TensorShape({1, 4, 4, 2}))}}, {dw}, &outputs);
  CHECK(wrong_dtype.code() == absl::StatusCode::kInvalidArgument);
  CHECK(wrong_dtype.message().find("double") != std::string::npos);

  absl::Status not_placeholder = session.Run({{x, x_value}, {dy, dy_value}, {k, x_value}}, {dw}, &outputs);
  CHECK(not_placeholder.code() == absl::StatusCode::kInvalidArgument);
  CHECK(outputs.empty());  // untouched on error

  REQUIRE(session.Run({{x, x_value}, {dy, dy_value}}, {dw, x}, &outputs).ok());
  REQUIRE(outputs.size() == 2);
  CHECK(outputs[0].shape() == TensorShape({3, 3, 2, 1}));
  CHECK(outputs[1].shape() == TensorShape({1, 4, 4, 2}));
}

TEST_CASE("empty reductions give a zero filter gradient") {
  // N = 0, and VALID with I=2, K=4, s=3 (OH = OW = 0).
  struct Empty {
    TensorShape x, dy;
    int stride;
    const char* padding;
  };
  for (const Empty& e : {Empty{{0, 5, 5, 2}, {0, 5, 5, 2}, 1, "SAME"}, Empty{{2, 2, 2, 2}, {2, 0, 0, 2}, 3, "VALID"}}) {
    Scope root = Scope::NewRootScope();
    auto x = ops::Const(root, *Tensor::Zeros(DataType::kFloat, e.x));
    auto dy = ops::Const(root, *Tensor::Zeros(DataType::kFloat, e.dy));
    auto dw = Op(root, x, {4, 4, 2, 1}, dy, {1, e.stride, e.stride, 1}, e.padding);
    REQUIRE(root.ok());
    std::vector<Tensor> outputs;
    REQUIRE(ClientSession(root).Run({dw}, &outputs).ok());
    REQUIRE(outputs[0].shape() == TensorShape({4, 4, 2, 1}));
    for (float v : outputs[0].flat<float>()) CHECK(v == 0.0f);
  }
}

TEST_CASE("the memory cap is checked before allocating") {
  Scope root = Scope::NewRootScope();
  auto x = ops::Placeholder(root, DataType::kFloat);
  auto dy = ops::Placeholder(root, DataType::kFloat);
  auto dw = Op(root, x, {64, 64, 64, 4}, dy, {1, 1, 1, 1}, "VALID");
  SessionOptions options;
  options.memory_cap_bytes = 1 << 20;  // the 4 MiB gradient (and its scratch) do not fit
  ClientSession session(root, options);
  std::vector<Tensor> outputs;
  absl::Status status = session.Run({{x, *Tensor::Zeros(DataType::kFloat, TensorShape({1, 64, 64, 64}))},
                                     {dy, *Tensor::Zeros(DataType::kFloat, TensorShape({1, 1, 1, 256}))}},
                                    {dw}, &outputs);
  CHECK(status.code() == absl::StatusCode::kResourceExhausted);
}
