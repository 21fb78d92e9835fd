// One ClientSession run from 8 threads at once, sharing the graph and the kernel cache: every thread gets
// the same (bitwise) result and each kernel is compiled at most once.
#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <thread>

#include "halogen/codegen/kernel_cache.h"
#include "tests/test_util.h"

using namespace halogen;  // NOLINT

TEST_CASE("one session from 8 threads: identical results, one compile per kernel") {
  std::mt19937_64 rng(17);
  Scope root = Scope::NewRootScope();
  auto x = ops::Placeholder(root.WithOpName("x"), DataType::kFloat, ops::Placeholder::Shape({2, 17, 13, 24}));
  auto dy = ops::Placeholder(root.WithOpName("dy"), DataType::kFloat, ops::Placeholder::Shape({2, 9, 7, 48}));
  auto dw = ops::DepthwiseConv2dNativeBackpropFilter(root, x, {3, 3, 24, 2}, dy, {1, 2, 2, 1}, "SAME");
  REQUIRE(root.ok());
  const Tensor x_value = testing::RandomTensor<float>({2, 17, 13, 24}, rng);
  const Tensor dy_value = testing::RandomTensor<float>({2, 9, 7, 48}, rng);
  SessionOptions options;
  options.num_threads = 2;
  const ClientSession session(root, options);

  constexpr int kThreads = 8, kRunsEach = 5;
  std::vector<std::vector<Tensor>> results(kThreads);
  std::vector<absl::Status> statuses(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int run = 0; run < kRunsEach && statuses[t].ok(); ++run) {
        std::vector<Tensor> outputs;
        statuses[t] = session.Run({{x, x_value}, {dy, dy_value}}, {dw}, &outputs);
        if (statuses[t].ok()) results[t].push_back(outputs[0]);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    INFO("thread " << t);
    REQUIRE(statuses[t].ok());
    REQUIRE(results[t].size() == kRunsEach);
    for (const Tensor& r : results[t]) {
      REQUIRE(std::memcmp(r.data(), results[0][0].data(), static_cast<size_t>(r.TotalBytes())) == 0);
    }
  }
  // And the shared result is right.
  DepthwiseConvParams params;
  params.stride = 2;
  const int64_t sizes[] = {3, 3, 24, 2};
  auto geometry = ComputeDepthwiseConvGeometry(params, x_value.shape(), sizes, dy_value.shape());
  REQUIRE(geometry.ok());
  REQUIRE(testing::CompareWithDirectDefinition<float>(*geometry, x_value, dy_value, results[0][0]) == "");
  for (const auto& [key, compiles] : codegen::GetKernelCacheStats().compiles_per_key) {
    INFO(key);
    REQUIRE(compiles == 1);
  }
}
