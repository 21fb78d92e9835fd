// Ahead-of-time generation for every DepthwiseConv2dNativeBackpropFilter node of a DSL graph, and the
// generator's refusals.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "halogen/codegen/aot.h"
#include "halogen/dsl/ops/basic.h"
#include "halogen/dsl/ops/depthwise_conv2d_native_backprop_filter.h"

using namespace halogen;  // NOLINT
using Op = ops::DepthwiseConv2dNativeBackpropFilter;

namespace {

std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("aot: one kernel per node of a graph, with the node's dtype and layout") {
  Scope root = Scope::NewRootScope();
  auto x = ops::Placeholder(root, DataType::kFloat);
  auto dy = ops::Placeholder(root, DataType::kFloat);
  auto x64 = ops::Placeholder(root, DataType::kDouble);
  auto dy64 = ops::Placeholder(root, DataType::kDouble);
  Op(root.WithOpName("layer1/grad"), x, {3, 3, 8, 1}, dy, {1, 1, 1, 1}, "SAME");
  Op(root.WithOpName("2nd"), x64, {5, 5, 4, 2}, dy64, {1, 1, 2, 2}, "VALID", Op::DataFormat("NCHW"));
  REQUIRE(root.ok());
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "halogen_aot_graph_test";
  std::filesystem::remove_all(dir);
  absl::StatusOr<std::vector<std::string>> names =
      codegen::GenerateAotKernelsForGraph(*root.graph(), Target::kHost, {}, dir.string());
  REQUIRE(names.ok());
  REQUIRE(*names == std::vector<std::string>{"layer1_grad", "_2nd"});
  for (const std::string& name : *names) {
    INFO(name);
    CHECK(std::filesystem::file_size(dir / (name + ".a")) > 0);
    CHECK(Slurp(dir / (name + ".h")).find("int " + name + "(") != std::string::npos);
    CHECK(Slurp(dir / (name + "_halogen.h")).find(name + "_run(") != std::string::npos);
  }
  CHECK(Slurp(dir / "layer1_grad_halogen.h").find("float") != std::string::npos);
  CHECK(Slurp(dir / "_2nd_halogen.h").find("double") != std::string::npos);
  CHECK(Slurp(dir / "_2nd_halogen.h").find("NCHW") != std::string::npos);
  CHECK(std::filesystem::exists(dir / "include" / "HalideRuntime.h"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("aot: bad requests are refused") {
  codegen::AotKernelRequest request;
  request.out_dir = (std::filesystem::temp_directory_path() / "halogen_aot_refused").string();
  request.name = "not a name";
  CHECK(codegen::GenerateAotKernel(request).code() == absl::StatusCode::kInvalidArgument);
  request.name = "ok";
  request.target = Target::kReference;
  CHECK(codegen::GenerateAotKernel(request).code() == absl::StatusCode::kInvalidArgument);
  request.target = Target::kHost;
  request.cpu_features = {"avx9000"};
  CHECK(codegen::GenerateAotKernel(request).code() == absl::StatusCode::kInvalidArgument);
  request.cpu_features = {};
  request.schedule = codegen::DepthwiseBackpropFilterSchedule::kGpuRowChunks;
  CHECK(codegen::GenerateAotKernel(request).code() == absl::StatusCode::kInvalidArgument);
  CHECK_FALSE(std::filesystem::exists(std::filesystem::path(request.out_dir) / "ok.a"));
}
