// The generated kernels on host and host-opencl (PoCL here, so the GPU schedule really runs) against the
// direct definition, their determinism, the kernel cache's compile-once promise, and host-cuda: a clear
// error where there is no GPU, and PTX compiled all the same.
#include <catch2/catch.hpp>

#include <cstring>
#include <random>

#include "halogen/codegen/depthwise_conv2d_native_backprop_filter.h"
#include "halogen/codegen/kernel_cache.h"
#include "tests/test_util.h"

using namespace halogen;  // NOLINT

namespace {

// Each TEST_CASE runs in its own process under ctest, so the cache counters cover exactly that case: no
// key was compiled twice (a key may also have been loaded from the disk cache instead, not compiled).
void RequireEachKernelCompiledOnce() {
  const codegen::KernelCacheStats stats = codegen::GetKernelCacheStats();
  for (const auto& [key, compiles] : stats.compiles_per_key) {
    INFO(key);
    REQUIRE(compiles == 1);
  }
  REQUIRE(stats.misses <= stats.halide_compiles + stats.disk_hits);
}

template <typename T>
void CheckTargetAgainstDefinition(Target target, DataFormat format, uint64_t seed, int count) {
  std::mt19937_64 rng(seed);
  SessionOptions options;
  options.target = target;
  for (int i = 0; i < count; ++i) {
    const testing::RandomCase c = testing::DrawRandomCase(rng, format);
    const DepthwiseConvGeometry& g = c.geometry;
    const Tensor x = testing::RandomTensor<T>(testing::InputShape(g), rng);
    const Tensor dy = testing::RandomTensor<T>(testing::OutBackpropShape(g), rng);
    INFO(TargetName(target) << " case " << i << ": " << x.shape().DebugString() << " filter " << g.filter_rows
                            << "x" << g.filter_cols << " m" << g.multiplier << " stride " << g.stride
                            << " dilation " << g.dilation_rows << "," << g.dilation_cols << " " << c.padding << " "
                            << DataFormatName(format));
    absl::StatusOr<Tensor> got = testing::RunCase(c, x, dy, options);
    REQUIRE(got.status().ToString() == "OK");
    REQUIRE(testing::CompareWithDirectDefinition<T>(g, x, dy, *got) == "");
  }
}

void CheckAllLayoutsAndTypes(Target target, int count) {
  CheckTargetAgainstDefinition<float>(target, DataFormat::kNHWC, 10, count);
  CheckTargetAgainstDefinition<float>(target, DataFormat::kNCHW, 11, count);
  CheckTargetAgainstDefinition<double>(target, DataFormat::kNHWC, 12, count);
  CheckTargetAgainstDefinition<double>(target, DataFormat::kNCHW, 13, count);
  RequireEachKernelCompiledOnce();
}

// A case large enough that every schedule splits its reduction into many chunks and lanes.
testing::RandomCase LargeCase(DataFormat format) {
  testing::RandomCase c;
  const bool nhwc = format == DataFormat::kNHWC;
  c.strides = nhwc ? std::vector<int>{1, 1, 1, 1} : std::vector<int>{1, 1, 1, 1};
  c.padding = "SAME";
  c.attrs = ops::DepthwiseConv2dNativeBackpropFilter::DataFormat(nhwc ? "NHWC" : "NCHW");
  DepthwiseConvParams params;
  params.format = format;
  const int64_t sizes[] = {3, 3, 24, 1};
  const TensorShape x = nhwc ? TensorShape{4, 29, 31, 24} : TensorShape{4, 24, 29, 31};
  c.geometry = *ComputeDepthwiseConvGeometry(params, x, sizes, x);
  return c;
}

void CheckBitwiseDeterminism(Target target) {
  std::mt19937_64 rng(99);
  for (DataFormat format : {DataFormat::kNHWC, DataFormat::kNCHW}) {
    const testing::RandomCase c = LargeCase(format);
    const Tensor x = testing::RandomTensor<float>(testing::InputShape(c.geometry), rng);
    const Tensor dy = testing::RandomTensor<float>(testing::OutBackpropShape(c.geometry), rng);
    SessionOptions options;
    options.target = target;
    std::optional<Tensor> first;
    for (int threads : {1, 2, 3, 1, 2}) {
      options.num_threads = threads;
      absl::StatusOr<Tensor> got = testing::RunCase(c, x, dy, options);
      REQUIRE(got.ok());
      if (!first.has_value()) {
        first = *got;
        REQUIRE(testing::CompareWithDirectDefinition<float>(c.geometry, x, dy, *first) == "");
        continue;
      }
      INFO(TargetName(target) << " " << DataFormatName(format) << " threads " << threads);
      REQUIRE(std::memcmp(first->data(), got->data(), static_cast<size_t>(got->TotalBytes())) == 0);
    }
  }
  RequireEachKernelCompiledOnce();
}

}  // namespace

TEST_CASE("host kernels match the direct definition") { CheckAllLayoutsAndTypes(Target::kHost, 60); }
TEST_CASE("host-opencl kernels match the direct definition") { CheckAllLayoutsAndTypes(Target::kHostOpenCL, 25); }

TEST_CASE("host kernels are bitwise deterministic for any thread count") { CheckBitwiseDeterminism(Target::kHost); }
TEST_CASE("host-opencl kernels are bitwise deterministic for any thread count") {
  CheckBitwiseDeterminism(Target::kHostOpenCL);
}

TEST_CASE("a second session reuses the compiled kernel") {
  std::mt19937_64 rng(5);
  const testing::RandomCase c = LargeCase(DataFormat::kNHWC);
  const Tensor x = testing::RandomTensor<float>(testing::InputShape(c.geometry), rng);
  const Tensor dy = testing::RandomTensor<float>(testing::OutBackpropShape(c.geometry), rng);
  REQUIRE(testing::RunCase(c, x, dy, SessionOptions()).ok());  // compiles unless an earlier case did
  const codegen::KernelCacheStats before = codegen::GetKernelCacheStats();
  REQUIRE(testing::RunCase(c, x, dy, SessionOptions()).ok());
  const codegen::KernelCacheStats after = codegen::GetKernelCacheStats();
  CHECK(after.misses == before.misses);
  CHECK(after.hits == before.hits + 1);
  CHECK(after.compile_seconds == before.compile_seconds);
  RequireEachKernelCompiledOnce();
}

TEST_CASE("host-cuda without a GPU is a clear FailedPrecondition") {
  std::mt19937_64 rng(6);
  const testing::RandomCase c = LargeCase(DataFormat::kNHWC);
  const Tensor x = testing::RandomTensor<float>(testing::InputShape(c.geometry), rng);
  const Tensor dy = testing::RandomTensor<float>(testing::OutBackpropShape(c.geometry), rng);
  SessionOptions options;
  options.target = Target::kHostCuda;
  absl::StatusOr<Tensor> got = testing::RunCase(c, x, dy, options);
  if (got.ok()) {
    // A machine with an NVIDIA GPU: then the result must be right.
    REQUIRE(testing::CompareWithDirectDefinition<float>(c.geometry, x, dy, *got) == "");
    WARN("a CUDA device is present: ran host-cuda for real instead of checking the missing-device error");
  } else {
    CHECK(got.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(got.status().message().find("host-cuda") != std::string::npos);
    CHECK(got.status().message().find("GPU") != std::string::npos);
  }
}

TEST_CASE("the CUDA schedule compiles to PTX without a GPU") {
  for (DataFormat format : {DataFormat::kNHWC, DataFormat::kNCHW}) {
    absl::StatusOr<std::string> assembly = codegen::CompileToAssembly(
        DataType::kFloat, format, Target::kHostCuda, codegen::DepthwiseBackpropFilterSchedule::kGpuRowChunks);
    REQUIRE(assembly.ok());
    CHECK(assembly->find(".target sm_70") != std::string::npos);
    CHECK(assembly->find(".entry") != std::string::npos);
  }
}

TEST_CASE("a schedule that does not fit the target is refused") {
  CHECK(codegen::CompileToAssembly(DataType::kFloat, DataFormat::kNHWC, Target::kHost,
                                   codegen::DepthwiseBackpropFilterSchedule::kGpuRowChunks)
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
  CHECK(codegen::ParseSchedule("cpu_channel_taps").ok());
  CHECK(codegen::ParseSchedule("fastest").status().code() == absl::StatusCode::kInvalidArgument);
}
