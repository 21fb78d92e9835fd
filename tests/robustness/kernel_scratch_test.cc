// The kernels' scratch allocator: Halide's alignment and readable margins, reuse of large blocks per
// thread within its limits, refusal of impossible sizes, and a 5x5 call that keeps its copies' blocks for
// the next call rather than asking the system again. Cases about one thread's blocks run on a fresh
// thread (whose cache starts empty) and assert back on the test's thread.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "halogen/codegen/kernel_scratch.h"
#include "tests/test_util.h"

using namespace halogen;  // NOLINT

namespace {

// What `body` returns, computed on a thread of its own.
template <typename Body>
auto OnFreshThread(Body body) {
  std::optional<decltype(body())> result;
  std::thread([&] { result.emplace(body()); }).join();
  return std::move(*result);
}

constexpr size_t kMiB = size_t{1} << 20;

}  // namespace

TEST_CASE("scratch blocks: aligned, readable around, and the size asked for") {
  for (size_t bytes : {size_t{1}, size_t{100}, size_t{4096}, size_t{70000}, 3 * kMiB}) {
    INFO(bytes);
    auto* block = static_cast<unsigned char*>(ScratchAllocate(bytes));
    REQUIRE(block != nullptr);
    REQUIRE(reinterpret_cast<uintptr_t>(block) % 128 == 0);
    std::memset(block, 0xab, bytes);
    // Halide may read 8 bytes on either side of what it asked for (the sanitizer build checks these).
    volatile unsigned char around = block[-8];
    around = block[bytes + 7];
    (void)around;
    ScratchRelease(block);
  }
  ScratchRelease(nullptr);
  REQUIRE(ScratchAllocate(SIZE_MAX) == nullptr);
  REQUIRE(ScratchAllocate(SIZE_MAX - 64) == nullptr);
}

TEST_CASE("scratch blocks: a freed large block serves the next request of its size on the same thread") {
  struct Seen {
    int kept_at_start, kept_after_small, kept_after_large;
    size_t bytes_after_large;
    bool quarter_is_large, again_is_large;
    int kept_after_quarter, kept_after_again, kept_after_both;
    bool small_fit_is_large, between_is_smaller;
  };
  const Seen seen = OnFreshThread([] {
    Seen s{};
    s.kept_at_start = ScratchBlocksKept();
    ScratchRelease(ScratchAllocate(1000));
    s.kept_after_small = ScratchBlocksKept();  // small blocks go back to malloc
    void* large = ScratchAllocate(kMiB);
    ScratchRelease(large);
    s.kept_after_large = ScratchBlocksKept();
    s.bytes_after_large = ScratchBytesKept();
    // A request under half its size does not take it; one that fits does, the same block.
    void* quarter = ScratchAllocate(kMiB / 4);
    s.quarter_is_large = quarter == large;
    s.kept_after_quarter = ScratchBlocksKept();
    void* again = ScratchAllocate(kMiB - 1000);
    s.again_is_large = again == large;
    s.kept_after_again = ScratchBlocksKept();
    ScratchRelease(again);
    ScratchRelease(quarter);
    s.kept_after_both = ScratchBlocksKept();
    // Of a 1 MiB and a 256 KiB block, a 200 KiB request takes the 256 KiB one (the 1 MiB block is over
    // twice its size).
    void* small_fit = ScratchAllocate(200 << 10);
    s.small_fit_is_large = small_fit == large;
    ScratchRelease(small_fit);
    // Of a 1 MiB and a 600 KiB block, both holding a 520 KiB request within twice its size, the smaller.
    void* taken_large = ScratchAllocate(kMiB);  // the kept 1 MiB block, out of the way
    void* between = ScratchAllocate(600 << 10);  // a new block
    ScratchRelease(between);
    ScratchRelease(taken_large);
    void* request = ScratchAllocate(520 << 10);
    s.between_is_smaller = request == between && taken_large != between;
    ScratchRelease(request);
    return s;
  });
  REQUIRE(seen.kept_at_start == 0);
  REQUIRE(seen.kept_after_small == 0);
  REQUIRE(seen.kept_after_large == 1);
  REQUIRE(seen.bytes_after_large == kMiB);
  REQUIRE_FALSE(seen.quarter_is_large);
  REQUIRE(seen.kept_after_quarter == 1);
  REQUIRE(seen.again_is_large);
  REQUIRE(seen.kept_after_again == 0);
  REQUIRE(seen.kept_after_both == 2);
  REQUIRE_FALSE(seen.small_fit_is_large);
  REQUIRE(seen.between_is_smaller);
}

TEST_CASE("scratch blocks: a thread keeps at most its count and bytes") {
  struct Seen {
    int kept_after_many, kept_after_reuse, kept_after_huge;
    size_t bytes_after_huge;
  };
  const Seen seen = OnFreshThread([] {
    Seen s{};
    std::vector<void*> blocks;
    for (int i = 0; i < kScratchBlocksPerThread + 3; ++i) blocks.push_back(ScratchAllocate(kMiB));
    for (void* block : blocks) ScratchRelease(block);
    s.kept_after_many = ScratchBlocksKept();
    blocks.clear();
    for (int i = 0; i < kScratchBlocksPerThread; ++i) blocks.push_back(ScratchAllocate(kMiB));
    s.kept_after_reuse = ScratchBlocksKept();
    for (void* block : blocks) ScratchRelease(block);
    return s;
  });
  REQUIRE(seen.kept_after_many == kScratchBlocksPerThread);
  REQUIRE(seen.kept_after_reuse == 0);

  const Seen huge = OnFreshThread([] {
    Seen s{};
    void* block = ScratchAllocate(kScratchBytesPerThread + 1);
    if (block == nullptr) return Seen{-1, -1, -1, 0};
    ScratchRelease(block);
    s.kept_after_huge = ScratchBlocksKept();  // over the thread's bytes: back to the system
    s.bytes_after_huge = ScratchBytesKept();
    return s;
  });
  REQUIRE(huge.kept_after_huge == 0);
  REQUIRE(huge.bytes_after_huge == 0);
}

TEST_CASE("a 5x5 call on one thread keeps its copies' blocks, and the next call reuses them") {
  testing::RandomCase c;  // 16 x 28 x 28 x 32, 5x5, stride 1, SAME: one image per chunk
  c.strides = {1, 1, 1, 1};
  c.padding = "SAME";
  const int64_t sizes[] = {5, 5, 32, 1};
  auto geometry = ComputeDepthwiseConvGeometry(DepthwiseConvParams{}, TensorShape{16, 28, 28, 32}, sizes,
                                               TensorShape{16, 28, 28, 32});
  REQUIRE(geometry.ok());
  c.geometry = *geometry;
  std::mt19937_64 rng(29);
  const Tensor x = testing::RandomTensor<float>(testing::InputShape(c.geometry), rng);
  const Tensor dy = testing::RandomTensor<float>(testing::OutBackpropShape(c.geometry), rng);
  SessionOptions options;
  options.num_threads = 1;  // the kernel's tasks run on the calling thread

  struct Seen {
    absl::StatusOr<Tensor> first, second;
    int kept_after_first = 0, kept_after_second = 0;
    size_t bytes_after_first = 0, bytes_after_second = 0;
  };
  const Seen seen = OnFreshThread([&] {
    Seen s;
    s.first = testing::RunCase(c, x, dy, options);
    s.kept_after_first = ScratchBlocksKept();
    s.bytes_after_first = ScratchBytesKept();
    s.second = testing::RunCase(c, x, dy, options);
    s.kept_after_second = ScratchBlocksKept();
    s.bytes_after_second = ScratchBytesKept();
    return s;
  });
  REQUIRE(seen.first.ok());
  REQUIRE(seen.second.ok());
  // The padded input copy of one image is 32 x 32 x 32 floats (128 KiB, stored 33 x 33), out_backprop's
  // 98 KiB.
  REQUIRE(seen.kept_after_first > 0);
  REQUIRE(seen.bytes_after_first >= size_t{128} << 10);
  REQUIRE(seen.bytes_after_first <= kScratchBytesPerThread);
  REQUIRE(seen.kept_after_second == seen.kept_after_first);
  REQUIRE(seen.bytes_after_second == seen.bytes_after_first);
  const Tensor& result = *seen.first;
  REQUIRE(std::memcmp(seen.second->data(), result.data(), static_cast<size_t>(result.TotalBytes())) == 0);
  REQUIRE(testing::CompareWithDirectDefinition<float>(c.geometry, x, dy, result) == "");
}
