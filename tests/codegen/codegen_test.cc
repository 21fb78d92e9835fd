// The generated kernels on host and host-opencl (PoCL here, so the GPU schedule really runs) against the
// direct definition, their determinism, the kernel cache's compile-once promise, and host-cuda: a clear
// error where there is no GPU, and PTX compiled all the same.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <random>

#include "halogen/codegen/depthwise_conv2d_native_backprop_filter.h"
#include "halogen/codegen/depthwise_kernel_args.h"
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
void CheckTargetAgainstDefinition(Target target, DataFormat format, uint64_t seed, int count,
                                  const std::string& schedule = "") {
  std::mt19937_64 rng(seed);
  SessionOptions options;
  options.target = target;
  options.schedule = schedule;
  for (int i = 0; i < count; ++i) {
    const testing::RandomCase c = testing::DrawRandomCase(rng, format);
    const DepthwiseConvGeometry& g = c.geometry;
    const Tensor x = testing::RandomTensor<T>(testing::InputShape(g), rng);
    const Tensor dy = testing::RandomTensor<T>(testing::OutBackpropShape(g), rng);
    INFO(TargetName(target) << " " << schedule << " case " << i << ": " << x.shape().DebugString() << " filter "
                            << g.filter_rows << "x" << g.filter_cols << " m" << g.multiplier << " stride " << g.stride
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

// A SAME case with a k x k filter, stride and multiplier on n x h x w x c, in `format`.
testing::RandomCase SameCase(DataFormat format, int64_t k, int stride, int64_t multiplier, int64_t n, int64_t h,
                             int64_t w, int64_t c_in) {
  testing::RandomCase c;
  const bool nhwc = format == DataFormat::kNHWC;
  c.strides = nhwc ? std::vector<int>{1, stride, stride, 1} : std::vector<int>{1, 1, stride, stride};
  c.padding = "SAME";
  c.attrs = ops::DepthwiseConv2dNativeBackpropFilter::DataFormat(nhwc ? "NHWC" : "NCHW");
  DepthwiseConvParams params;
  params.format = format;
  params.stride = stride;
  const int64_t sizes[] = {k, k, c_in, multiplier};
  const int64_t out_h = (h + stride - 1) / stride, out_w = (w + stride - 1) / stride;
  const TensorShape x = nhwc ? TensorShape{n, h, w, c_in} : TensorShape{n, c_in, h, w};
  const TensorShape dy = nhwc ? TensorShape{n, out_h, out_w, c_in * multiplier}
                              : TensorShape{n, c_in * multiplier, out_h, out_w};
  c.geometry = *ComputeDepthwiseConvGeometry(params, x, sizes, dy);
  return c;
}

// A case large enough that every schedule splits its reduction into many chunks and lanes; at stride 2
// an even width, which NHWC sums by column phases.
testing::RandomCase LargeCase(DataFormat format, int stride = 1) {
  return SameCase(format, 3, stride, 1, 4, 29, stride == 1 ? 31 : 30, 24);
}

void CheckBitwiseDeterminism(Target target) {
  std::mt19937_64 rng(99);
  for (const testing::RandomCase& c : {LargeCase(DataFormat::kNHWC), LargeCase(DataFormat::kNCHW),
                                       LargeCase(DataFormat::kNHWC, 2)}) {
    const DataFormat format = c.geometry.format;
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

// A kh x kw case (multiplier 1) with explicit padding {top, bottom, left, right}, in `format`.
testing::RandomCase ExplicitCase(DataFormat format, int64_t kh, int64_t kw, int stride, int64_t n, int64_t h,
                                 int64_t w, int64_t c_in, const std::vector<int64_t>& pads) {
  testing::RandomCase c;
  const bool nhwc = format == DataFormat::kNHWC;
  c.strides = nhwc ? std::vector<int>{1, stride, stride, 1} : std::vector<int>{1, 1, stride, stride};
  c.padding = "EXPLICIT";
  DepthwiseConvParams params;
  params.format = format;
  params.stride = stride;
  params.padding = Padding::kExplicit;
  params.explicit_paddings = nhwc ? std::vector<int64_t>{0, 0, pads[0], pads[1], pads[2], pads[3], 0, 0}
                                  : std::vector<int64_t>{0, 0, 0, 0, pads[0], pads[1], pads[2], pads[3]};
  c.attrs = ops::DepthwiseConv2dNativeBackpropFilter::DataFormat(nhwc ? "NHWC" : "NCHW")
                .ExplicitPaddings(std::vector<int>(params.explicit_paddings.begin(), params.explicit_paddings.end()));
  const int64_t sizes[] = {kh, kw, c_in, 1};
  const int64_t out_h = (h + pads[0] + pads[1] - kh) / stride + 1, out_w = (w + pads[2] + pads[3] - kw) / stride + 1;
  const TensorShape x = nhwc ? TensorShape{n, h, w, c_in} : TensorShape{n, c_in, h, w};
  const TensorShape dy = nhwc ? TensorShape{n, out_h, out_w, c_in} : TensorShape{n, c_in, out_h, out_w};
  c.geometry = *ComputeDepthwiseConvGeometry(params, x, sizes, dy);
  return c;
}

// A SAME case of size k x k and stride s on 2 x 9 x 9 x 16, whose taps at the borders read padding.
testing::RandomCase PaddedCase(DataFormat format, int64_t k, int stride) {
  return SameCase(format, k, stride, 1, 2, 9, 9, 16);
}

// Positive values in [0.5, 1), +Inf where `infinite(h, w)` holds; [N, H, W, C] positions in `format`.
Tensor PositiveWithInfinities(const TensorShape& shape, DataFormat format, std::mt19937_64& rng,
                              const std::function<bool(int64_t, int64_t)>& infinite) {
  const bool nhwc = format == DataFormat::kNHWC;
  const int64_t N = shape.dim_size(0), C = shape.dim_size(nhwc ? 3 : 1);
  const int64_t H = shape.dim_size(nhwc ? 1 : 2), W = shape.dim_size(nhwc ? 2 : 3);
  std::uniform_real_distribution<float> dist(0.5f, 1.0f);
  std::vector<float> values(static_cast<size_t>(shape.num_elements()));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t w = 0; w < W; ++w)
        for (int64_t c = 0; c < C; ++c) {
          values[static_cast<size_t>(testing::Offset(format, H, W, C, n, h, w, c))] =
              infinite(h, w) ? std::numeric_limits<float>::infinity() : dist(rng);
        }
  return *Tensor::FromVector<float>(values, shape);
}

// Requires `got` to match the direct definition where it is finite and to be +Inf where it is infinite;
// returns how many elements are of each kind.
std::pair<int, int> RequireMatchWithInfinities(const DepthwiseConvGeometry& g, const Tensor& x, const Tensor& dy,
                                               const Tensor& got) {
  const testing::DirectResult want = testing::DirectDefinition<float>(g, x, dy);
  const auto values = got.flat<float>();
  int finite = 0, infinite = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    INFO("element " << i << ": got " << values[i] << ", want " << static_cast<double>(want.value[i]));
    if (std::isfinite(static_cast<double>(want.value[i]))) {
      ++finite;
      REQUIRE(std::abs(values[i] - static_cast<double>(want.value[i])) <=
              testing::AllowedError<float>(want.magnitude[i], want.reduction_length));
    } else {
      ++infinite;
      REQUIRE(values[i] == std::numeric_limits<float>::infinity());
    }
  }
  return {finite, infinite};
}

}  // namespace

// The CPU's chunks: no more than chunks of 8 rows would make (a short band rereads FH - stride rows), at
// most 16, the rows spread evenly over them, and a count that any power-of-two team of threads splits
// evenly, whatever the batch and height.
TEST_CASE("CPU row chunks number a power of two and spread the rows evenly") {
  using work_split::RowSplit;
  for (int64_t total_rows = 1; total_rows <= 4096; ++total_rows) {
    const int32_t rows = work_split::RowsPerChunk(RowSplit::kCpuChunks, total_rows);
    const int32_t chunks = work_split::ChunkCount(total_rows, rows);
    INFO("total rows " << total_rows << ": " << chunks << " chunks of " << rows);
    REQUIRE(chunks <= std::max<int64_t>(1, (total_rows + 7) / 8));
    REQUIRE(int64_t{rows} * chunks >= total_rows);
    REQUIRE(int64_t{rows} * (chunks - 1) < total_rows);
    REQUIRE(chunks <= 16);
    REQUIRE((chunks & (chunks - 1)) == 0);
    // Spread evenly: the last chunk is short by fewer rows than there are chunks.
    REQUIRE(int64_t{rows} - (total_rows - int64_t{rows} * (chunks - 1)) < chunks);
  }
  // A 56-row image at batch 1: four chunks of 14 (it had been seven of 8, four for one of two threads).
  REQUIRE(work_split::RowsPerChunk(RowSplit::kCpuChunks, 56) == 14);
  REQUIRE(work_split::RowsPerChunk(RowSplit::kCpuChunks, 32 * 56) == 112);
  REQUIRE(work_split::RowsPerChunk(RowSplit::kCpuChunks, 14) == 7);
}

// CallDepthwiseKernel checks a CPU result for Inf and NaN where it was written. A caller that hands a kernel
// buffers wrapped around device memory (the GPU benchmark) has no host copy to read: the call must leave the
// result alone, not read through a null pointer, and run the kernel once.
TEST_CASE("CallDepthwiseKernel reads no result that is only on the device") {
  const DepthwiseShape shape{1, 4, 4, 2, 1, 3, 3, 4, 4, 1, 1, 1, 1, 1, true};
  for (const work_split::RowSplit split : {work_split::RowSplit::kCpuChunks, work_split::RowSplit::kGpuRows}) {
    DepthwiseKernelArgs args;
    FillDepthwiseKernelArgs<float>(shape, nullptr, nullptr, nullptr, split, &args);
    int calls = 0;
    const auto kernel = [&](halide_buffer_t*, halide_buffer_t*, halide_buffer_t*, halide_buffer_t*, int32_t, int32_t,
                            int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t mask_padding,
                            int32_t l1_data_bytes, halide_buffer_t*) {
      ++calls;
      REQUIRE(mask_padding == 0);
      REQUIRE(l1_data_bytes == kernel_args_internal::HostL1DataBytes());
      REQUIRE(l1_data_bytes >= 4096);
      return 0;
    };
    REQUIRE(CallDepthwiseKernel(kernel, args) == 0);
    REQUIRE(calls == 1);
  }
}

// Padding contributes nothing, even next to an Inf: a kernel that read a real row or column for a padded
// tap and multiplied it by zero would turn those taps into NaN. The first row and column of one tensor
// are +Inf and everything else positive, so the definition's sums are finite, or exactly +Inf where a tap
// really reads an Inf.
TEST_CASE("padded taps stay exact next to Inf in either tensor") {
  std::mt19937_64 rng(5);
  std::vector<testing::RandomCase> cases;
  for (DataFormat format : {DataFormat::kNHWC, DataFormat::kNCHW}) {
    for (int64_t k : {3, 5}) {
      for (int stride : {1, 2}) cases.push_back(PaddedCase(format, k, stride));
    }
  }
  // NHWC stride 2 on even widths takes the column-phase sums, whose output columns run past both ends of
  // the row (left padding 0 and 1).
  cases.push_back(SameCase(DataFormat::kNHWC, 3, 2, 1, 2, 10, 10, 16));
  cases.push_back(ExplicitCase(DataFormat::kNHWC, 3, 3, 2, 2, 9, 10, 16, {1, 1, 1, 0}));
  // NCHW stride 2 on rows of more than one vector masks each tap by its row and its column, not the table.
  // So do rows in half vectors (20 columns: three of them), and 3x3 rows at stride 1 on a large plane.
  for (int64_t k : {3, 5}) {
    cases.push_back(SameCase(DataFormat::kNCHW, k, 2, 1, 2, 9, 20, 16));
    cases.push_back(SameCase(DataFormat::kNCHW, k, 2, 1, 2, 9, 40, 16));
  }
  cases.push_back(SameCase(DataFormat::kNCHW, 3, 1, 1, 1, 66, 76, 8));
  // 5x5 stride 1 takes the padded-image sums (in NCHW only on planes too large for the plane sums, or at
  // batches of one or two): their padded taps next to an Inf gradient turn into NaN until the call is run
  // again with masks. So do the NCHW plane sums (the 9x9 cases above), which mask only the input.
  for (DataFormat format : {DataFormat::kNHWC, DataFormat::kNCHW}) {
    cases.push_back(SameCase(format, 5, 1, 1, 1, 20, 20, 8));
  }
  // NHWC with a depth of one vector: run again through the register sweep of one vector per block.
  cases.push_back(SameCase(DataFormat::kNHWC, 5, 1, 1, 1, 20, 20, 16));
  cases.push_back(SameCase(DataFormat::kNCHW, 5, 1, 1, 2, 9, 9, 8));
  // gpu_register_taps (on PoCL) runs its rows up to a multiple of 32 and masks the extra ones, which read
  // the last image's rows again: with 3 x 7 rows, five of them read its first row, the one with the Infs.
  SessionOptions gpu;
  gpu.target = Target::kHostOpenCL;
  gpu.schedule = "gpu_register_taps";
  std::vector<std::pair<testing::RandomCase, SessionOptions>> runs;
  for (const testing::RandomCase& c : cases) runs.emplace_back(c, SessionOptions());
  for (DataFormat format : {DataFormat::kNHWC, DataFormat::kNCHW}) {
    for (int64_t k : {3, 5}) runs.emplace_back(SameCase(format, k, 1, 1, 3, 7, 9, 8), gpu);
  }
  for (const auto& [c, options] : runs) {
    const DepthwiseConvGeometry& g = c.geometry;
    for (bool inf_in_input : {true, false}) {
      const Tensor x = PositiveWithInfinities(testing::InputShape(g), g.format, rng, [&](int64_t h, int64_t w) {
        return inf_in_input && (h == 0 || w == 0);
      });
      const Tensor dy =
          PositiveWithInfinities(testing::OutBackpropShape(g), g.format, rng,
                                 [&](int64_t h, int64_t w) { return !inf_in_input && (h == 0 || w == 0); });
      INFO(DataFormatName(g.format) << " " << x.shape().DebugString() << " " << g.filter_rows << "x"
                                    << g.filter_cols << " stride " << g.stride << " " << c.padding << " Inf in "
                                    << (inf_in_input ? "input" : "out_backprop") << " on "
                                    << TargetName(options.target));
      absl::StatusOr<Tensor> got = testing::RunCase(c, x, dy, options);
      REQUIRE(got.ok());
      const auto [finite, infinite] = RequireMatchWithInfinities(g, x, dy, *got);
      // Both kinds of tap occur, so the case checks what it claims; but with no left padding every tap
      // reads out_backprop's first column against a real input column, so all of them are infinite.
      if (inf_in_input || g.pad_left > 0) REQUIRE(finite > 0);
      REQUIRE(infinite > 0);
    }
  }
}

// The NCHW plane sums round each plane up to whole vectors, and those positions read out_backprop from the
// next channel's plane against masked inputs. An Inf there, on a position that meets no padding (the image
// has no padding rows), is exact in its own channel, +Inf on all nine taps, and must leave the channel
// before it finite: the first call's NaN there sends the call through the masked path again.
TEST_CASE("NCHW plane sums: an Inf read past a plane's end leaves the channel before it finite") {
  std::mt19937_64 rng(23);
  // Padding only left and right. 9 x 7 input: 7 x 7 output planes, rounded up to 56 positions, so the
  // channel before reads the first seven of the next one's (its first row). 51 x 45: 49 x 45 planes, large
  // enough for channel pairs, the channel before and the infinite one a pair.
  const testing::RandomCase c = GENERATE(ExplicitCase(DataFormat::kNCHW, 3, 3, 1, 1, 9, 7, 16, {0, 0, 1, 1}),
                                         ExplicitCase(DataFormat::kNCHW, 3, 3, 1, 1, 51, 45, 16, {0, 0, 1, 1}));
  const DepthwiseConvGeometry& g = c.geometry;
  INFO(g.out_rows << " x " << g.out_cols << " planes");
  REQUIRE(g.out_rows * g.out_cols % 8 != 0);
  const auto nowhere = [](int64_t, int64_t) { return false; };
  const Tensor x = PositiveWithInfinities(testing::InputShape(g), g.format, rng, nowhere);
  std::vector<float> dy_values(static_cast<size_t>(testing::OutBackpropShape(g).num_elements()), 0.75f);
  const int64_t infinite_channel = 5;
  dy_values[static_cast<size_t>(testing::Offset(g.format, g.out_rows, g.out_cols, g.channels, 0, 0, 3,
                                                infinite_channel))] = std::numeric_limits<float>::infinity();
  const Tensor dy = *Tensor::FromVector<float>(dy_values, testing::OutBackpropShape(g));
  absl::StatusOr<Tensor> got = testing::RunCase(c, x, dy, SessionOptions());
  REQUIRE(got.ok());
  const auto [finite, infinite] = RequireMatchWithInfinities(g, x, dy, *got);
  REQUIRE(infinite == 9);
  REQUIRE(finite == 9 * (g.channels - 1));
  // [FH, FW, C, 1]: the channel before the infinite one, every tap.
  const auto values = got->flat<float>();
  for (int64_t tap = 0; tap < 9; ++tap) REQUIRE(std::isfinite(values[tap * g.channels + infinite_channel - 1]));
}

// The random cases have few channels, so most of the CPU schedules' specialisations (3x3 and 5x5, strides
// 1 and 2, multipliers 1 and 2, a depth of an even or an odd number of vectors, tensors small and shallow
// enough for the register sweep or not, images split into bands or grouped into chunks) are reached only by
// shapes like these.
TEST_CASE("every CPU specialisation matches the direct definition") {
  std::mt19937_64 rng(17);
  struct Shape {
    int64_t k;
    int stride;
    int64_t multiplier, n, h, w, c;
  };
  const Shape shapes[] = {
      {3, 1, 1, 3, 13, 11, 32},  {3, 2, 1, 3, 13, 11, 32},  {3, 1, 2, 3, 13, 11, 16}, {3, 2, 2, 2, 12, 13, 16},
      {5, 1, 1, 3, 13, 11, 32},  {5, 2, 1, 2, 14, 13, 32},  {3, 1, 1, 1, 64, 61, 48}, {3, 1, 1, 3, 64, 65, 96},
      {3, 2, 1, 3, 64, 61, 96},  {5, 1, 1, 1, 29, 30, 64},
      // NHWC 5x5 on a depth of an odd number of vectors: the register sweep of one vector per block (at
      // stride 1 only when the call is run again with masks, see the padded taps' test).
      {5, 2, 1, 2, 14, 13, 48},  {5, 2, 1, 1, 20, 21, 16},
      // and of half vectors, stride 1 and 2.
      {5, 1, 1, 2, 12, 13, 40},  {5, 2, 1, 1, 14, 13, 24},
      // The 3x3 register sweep takes positions of up to 128 bytes: 32 floats (above) or 16 doubles; a deeper
      // one (48 floats, above) takes the L1 sweep. Any tensor size: inputs of 4.5 MiB at strides 1 and 2
      // (odd widths: even ones at stride 2 take the column-phase sums).
      {3, 1, 1, 3, 13, 11, 16},  {3, 2, 1, 3, 13, 11, 16},  {3, 1, 1, 9, 64, 64, 32},  {3, 2, 1, 9, 63, 65, 32},
      // It takes positions of 3 KiB or more at stride 1 (768 floats), of any tensor size.
      {3, 1, 1, 2, 5, 6, 768},   {3, 1, 1, 1, 4, 3, 800},
      // The NHWC stride-1 pair sums in half vectors: a depth of 40 (below), and 40 at multiplier 2.
      {3, 1, 2, 2, 9, 10, 20},
      // NCHW plane sums (stride 1; at most 9216 position-taps, or 4096 positions for filters of at most nine
      // taps): planes that are not whole vectors, taps that cross into the neighbouring planes of the first
      // and last channels, a multiplier of 2, filters other than 3x3 and 5x5 (an even one pads unevenly),
      // the largest planes either side of the limits (5x5 at multiplier 2: at multiplier 1 it takes the
      // padded-image sums).
      {3, 1, 1, 2, 7, 7, 40},    {5, 1, 2, 3, 14, 14, 12}, {3, 1, 2, 1, 5, 6, 3},    {4, 1, 1, 2, 9, 10, 8},
      {1, 1, 1, 2, 7, 9, 16},    {2, 1, 1, 1, 6, 5, 9},    {3, 1, 1, 1, 64, 64, 8},  {3, 1, 1, 1, 64, 65, 8},
      {5, 1, 2, 3, 19, 19, 4},   {5, 1, 2, 3, 19, 20, 4},
      // NCHW 5x5 planes that the plane sums could take, at multiplier 1: the padded-image sums, at any batch.
      {5, 1, 1, 1, 7, 7, 40},    {5, 1, 1, 2, 14, 14, 24},  {5, 1, 1, 3, 14, 14, 24}, {5, 1, 1, 3, 19, 19, 8},
      // NCHW stride-2 plane sums (output rows rounded up to whole vectors, at most 512 positions): the
      // largest either side of the limit (16 rows of 32, 17 rows of 32); 5x5 on rows of two vectors (masked
      // by row and column) and of one (masked from the table).
      {3, 2, 1, 1, 32, 63, 9},   {3, 2, 1, 1, 34, 63, 9},   {5, 2, 1, 2, 20, 30, 8},  {5, 2, 1, 2, 11, 9, 8},
      // and rows of half vectors (their last whole vector would be at most half full): 7 columns in a block
      // of 32 channels and a part of one (40), 20 columns in three half vectors (masked by row and column).
      {3, 2, 1, 2, 14, 14, 40},  {3, 2, 1, 2, 9, 40, 8},    {5, 2, 1, 2, 9, 40, 8},
      // 3x3 planes at stride 1 past the plane sums' limits, along rows of whole vectors (76 columns in 80):
      // blocks of 8 channels and a part of one (20), multiplier 2; 100 columns (narrow rows) do not take them.
      {3, 1, 1, 2, 66, 76, 20},  {3, 1, 2, 1, 66, 76, 4},   {3, 1, 1, 1, 66, 100, 8},
      // Multiplier 2, either side of the nine-tap limit, and a 5x5 filter on a plane past the other.
      {3, 1, 2, 1, 64, 64, 2},   {3, 1, 2, 1, 64, 65, 2},   {5, 1, 2, 1, 40, 40, 2},
      // NCHW 5x5 at stride 2 past the strided plane sums' limit (the image sums of update 0, an odd number
      // of output columns: the last pair of columns is half empty).
      {5, 2, 1, 2, 40, 41, 8},
      // 3x3 plane sums two channels per step (planes of 2048 positions or more, whole blocks of 16 output
      // channels), multipliers 1 and 2; and beside them a plane just under that size.
      {3, 1, 1, 2, 47, 45, 32},  {3, 1, 2, 1, 46, 50, 8},   {3, 1, 1, 2, 45, 45, 16},
      // NHWC column-phase sums (stride 2, even widths): whole vectors, a depth that is not (13), many
      // rows per image (bands); and beside them the even-width shapes that do not take them (multiplier 2,
      // 5x5), whose phase sums are empty.
      {3, 2, 1, 2, 12, 14, 32},  {3, 2, 1, 3, 13, 10, 13}, {3, 2, 1, 3, 64, 62, 40}, {3, 2, 2, 2, 12, 14, 16},
      // and on deep positions, summed over groups of four column pairs: a row of seven pairs (a group and a
      // part), one of whole groups, and a depth that is not whole vectors.
      {3, 2, 1, 2, 7, 14, 384},  {3, 2, 1, 1, 6, 16, 400}, {3, 2, 1, 1, 5, 14, 390},
      {5, 2, 1, 2, 14, 14, 32},
      // NHWC padded-image sums (5x5, stride 1, whole vectors of channels; four columns per step): a depth
      // that is not whole vectors (13) and one of single vectors (8, 24), widths that are not whole steps,
      // images split into bands (batch 1) and grouped two to a chunk. NCHW takes them for every 5x5 shape
      // of multiplier 1 at stride 1, these and those above.
      {5, 1, 1, 3, 13, 10, 13},  {5, 1, 1, 1, 40, 9, 8},    {5, 1, 1, 34, 6, 7, 24},
      // and NHWC 3x3 small images from batch 16 on deep positions (kMaxPadded3x3Positions; depths of 640
      // take them on any host with up to 56 KiB of L1, kPadded3x3L1Percent): widths of whole steps of three
      // columns and not (nine taps' accumulators through each image); a batch just under the limit; depths
      // that take them or the L1 sweep, depending on the host's L1.
      {3, 1, 1, 16, 7, 6, 640},  {3, 1, 1, 16, 5, 7, 640},  {3, 1, 1, 15, 7, 6, 640},  {3, 1, 1, 16, 7, 6, 368},
      {3, 1, 1, 16, 5, 7, 384},  {3, 1, 1, 16, 7, 6, 512},
  };
  // `zero` only names the element type (float or double).
  const auto check_case = [&](auto zero, const testing::RandomCase& c) {
    using T = decltype(zero);
    const DepthwiseConvGeometry& g = c.geometry;
    const Tensor x = testing::RandomTensor<T>(testing::InputShape(c.geometry), rng);
    const Tensor dy = testing::RandomTensor<T>(testing::OutBackpropShape(c.geometry), rng);
    INFO(DataFormatName(g.format) << " " << (sizeof(T) == 8 ? "double " : "") << x.shape().DebugString()
                                  << " filter " << g.filter_rows << "x" << g.filter_cols << " m" << g.multiplier
                                  << " stride " << g.stride << " " << c.padding << " pad_left " << g.pad_left);
    absl::StatusOr<Tensor> got = testing::RunCase(c, x, dy, SessionOptions());
    REQUIRE(got.status().ToString() == "OK");
    REQUIRE(testing::CompareWithDirectDefinition<T>(c.geometry, x, dy, *got) == "");
  };
  const auto check = [&](auto zero, DataFormat format, const Shape& s) {
    check_case(zero, SameCase(format, s.k, s.stride, s.multiplier, s.n, s.h, s.w, s.c));
  };
  for (DataFormat format : {DataFormat::kNHWC, DataFormat::kNCHW}) {
    for (const Shape& s : shapes) check(0.0f, format, s);
    // Column-phase sums with explicit padding: left padding 1; 0 with the last run of columns past the
    // output (VALID-like); filters of 5 and 1 rows; and left padding 2, which does not take them.
    check_case(0.0f, ExplicitCase(format, 3, 3, 2, 2, 9, 10, 16, {1, 1, 1, 0}));
    check_case(0.0f, ExplicitCase(format, 3, 3, 2, 2, 10, 12, 8, {0, 0, 0, 0}));
    check_case(0.0f, ExplicitCase(format, 5, 3, 2, 2, 11, 12, 24, {2, 2, 1, 1}));
    check_case(0.0f, ExplicitCase(format, 1, 3, 2, 1, 6, 8, 8, {0, 0, 0, 1}));
    check_case(0.0f, ExplicitCase(format, 3, 3, 2, 1, 8, 8, 8, {1, 1, 2, 2}));
    // Padded-image sums with uneven explicit padding (more on one side than the filter reaches) and none.
    check_case(0.0f, ExplicitCase(format, 5, 5, 1, 2, 9, 10, 16, {0, 3, 4, 1}));
    check_case(0.0f, ExplicitCase(format, 5, 5, 1, 2, 9, 10, 16, {0, 0, 0, 0}));
    // NCHW row sums where output rows are shorter than input rows (none: 76 of 78 columns), and with padding
    // past the filter's reach on top and at the right (the first row's two upper taps and the last column's
    // right taps all outside).
    check_case(0.0f, ExplicitCase(format, 3, 3, 1, 2, 66, 78, 12, {0, 0, 0, 0}));
    check_case(0.0f, ExplicitCase(format, 3, 3, 1, 1, 66, 76, 12, {2, 0, 0, 2}));
  }
  // Plane sums (stride 1 and 2, rows of half vectors, rows at stride 1, pairs of channels), NCHW padded-image
  // sums and column-phase sums in double: half as many lanes to a vector as in float.
  for (const Shape& s : {Shape{3, 1, 1, 2, 7, 7, 12}, Shape{5, 1, 1, 3, 9, 11, 5}, Shape{5, 1, 2, 3, 9, 11, 3},
                         Shape{3, 2, 1, 2, 11, 10, 6}, Shape{3, 2, 1, 2, 8, 7, 6}, Shape{3, 1, 1, 1, 66, 78, 5},
                         Shape{5, 1, 1, 2, 20, 21, 5}, Shape{3, 1, 2, 1, 47, 45, 8}}) {
    check(0.0, DataFormat::kNCHW, s);
  }
  check(0.0, DataFormat::kNHWC, Shape{3, 2, 1, 2, 12, 14, 12});
  check(0.0, DataFormat::kNHWC, Shape{5, 1, 1, 2, 9, 11, 12});
  check(0.0, DataFormat::kNHWC, Shape{5, 2, 1, 2, 14, 13, 8});
  check(0.0, DataFormat::kNHWC, Shape{3, 1, 1, 1, 5, 4, 384});
  check(0.0, DataFormat::kNHWC, Shape{3, 1, 1, 2, 9, 10, 12});
  check(0.0, DataFormat::kNHWC, Shape{5, 2, 1, 1, 12, 13, 12});
  check_case(0.0, ExplicitCase(DataFormat::kNHWC, 3, 3, 2, 2, 9, 10, 6, {1, 1, 1, 0}));
  RequireEachKernelCompiledOnce();
}

TEST_CASE("host kernels match the direct definition") { CheckAllLayoutsAndTypes(Target::kHost, 60); }
TEST_CASE("host-opencl kernels match the direct definition") { CheckAllLayoutsAndTypes(Target::kHostOpenCL, 25); }

// Every GPU schedule on PoCL: random cases (mostly filters other than 3x3 and 5x5, the generic branches)
// and SAME cases with 3x3 and 5x5 filters, strides and multipliers 1 and 2: small ones, which
// gpu_register_taps sweeps a tap per thread, and large ones (at least 32768 rows x channels x segments)
// that reach its register branches.
TEST_CASE("host-opencl: every GPU schedule matches the direct definition") {
  for (const std::string schedule : {"gpu_row_chunks", "gpu_register_taps"}) {
    CheckTargetAgainstDefinition<float>(Target::kHostOpenCL, DataFormat::kNHWC, 20, 8, schedule);
    CheckTargetAgainstDefinition<float>(Target::kHostOpenCL, DataFormat::kNCHW, 21, 8, schedule);
    CheckTargetAgainstDefinition<double>(Target::kHostOpenCL, DataFormat::kNCHW, 22, 4, schedule);
    std::mt19937_64 rng(23);
    SessionOptions options;
    options.target = Target::kHostOpenCL;
    options.schedule = schedule;
    // Narrow and wide images (NCHW copies tiles of the plane or of each row), each small and large.
    // gpu_register_taps sweeps 32-column segments of images wider than 32 columns with at most 1024 rows
    // (the wide case), and whole rows otherwise: narrow images, and the 5x5 stride-1 case with more than
    // 1024 rows.
    struct Size {
      int64_t n, h, w, c;
    };
    const Size five_by_five[] = {{40, 30, 9, 8}, {40, 30, 9, 32}};
    const Size wide_image[] = {{2, 5, 41, 36}, {8, 40, 41, 144}};
    const Size narrow_image[] = {{3, 13, 11, 40}, {12, 52, 11, 160}};
    for (DataFormat format : {DataFormat::kNHWC, DataFormat::kNCHW}) {
      for (int64_t k : {3, 5}) {
        for (int stride : {1, 2}) {
          for (const bool large : {false, true}) {
            const bool wide = (k == 3) == (stride == 1);
            const Size z = stride == 1 && k == 5 ? five_by_five[large]
                           : wide                ? wide_image[large]
                                                 : narrow_image[large];
            const int64_t multiplier = stride == 1 && k == 5 ? 1 : stride;
            const testing::RandomCase c = SameCase(format, k, stride, multiplier, z.n, z.h, z.w, z.c);
            const Tensor x = testing::RandomTensor<float>(testing::InputShape(c.geometry), rng);
            const Tensor dy = testing::RandomTensor<float>(testing::OutBackpropShape(c.geometry), rng);
            INFO(schedule << " " << DataFormatName(format) << " " << k << "x" << k << " stride " << stride
                          << (large ? " large" : " small"));
            absl::StatusOr<Tensor> got = testing::RunCase(c, x, dy, options);
            REQUIRE(got.status().ToString() == "OK");
            REQUIRE(testing::CompareWithDirectDefinition<float>(c.geometry, x, dy, *got) == "");
          }
        }
      }
    }
  }
  RequireEachKernelCompiledOnce();
}

// gpu_register_taps sweeps NCHW in place once out_backprop's depth times its rows (rounded up to 32) reach
// 65536 (kGpuLaneColumnsMinWork): a warp along 32, 16 or 8 columns by the output's width, the columns run up
// to whole lanes and the extra ones masked. Each lane width, 3x3 at strides 1 and 2, 5x5, a multiplier of 2
// and a 2x3 filter with explicit padding (the tap-per-thread branch), all just above that work; then an Inf
// in the last input column, which the first masked column's taps would read.
TEST_CASE("host-opencl: gpu_register_taps sweeps large NCHW work in place") {
  std::mt19937_64 rng(31);
  SessionOptions options;
  options.target = Target::kHostOpenCL;
  options.schedule = "gpu_register_taps";
  const DataFormat nchw = DataFormat::kNCHW;
  const testing::RandomCase lanes_32 = SameCase(nchw, 3, 1, 1, 32, 33, 40, 64);  // 40 columns: two steps of 32
  const testing::RandomCase cases[] = {
      lanes_32,
      SameCase(nchw, 3, 2, 1, 32, 66, 40, 64),         // 20 output columns, one step of 32
      SameCase(nchw, 3, 1, 1, 32, 33, 12, 64),         // lanes of 16
      SameCase(nchw, 5, 1, 1, 64, 17, 6, 64),          // lanes of 8
      SameCase(nchw, 3, 2, 1, 64, 34, 7, 64),          // 4 output columns
      SameCase(nchw, 3, 1, 2, 32, 33, 40, 32),         // multiplier 2
      ExplicitCase(nchw, 2, 3, 1, 32, 33, 12, 64, {1, 0, 0, 1}),
  };
  for (const testing::RandomCase& c : cases) {
    const DepthwiseConvGeometry& g = c.geometry;
    const int64_t rows = (g.batch * g.out_rows + 31) / 32 * 32;
    REQUIRE(g.channels * g.multiplier * rows >= 65536);
    const Tensor x = testing::RandomTensor<float>(testing::InputShape(g), rng);
    const Tensor dy = testing::RandomTensor<float>(testing::OutBackpropShape(g), rng);
    INFO(x.shape().DebugString() << " " << g.filter_rows << "x" << g.filter_cols << " stride " << g.stride
                                 << " multiplier " << g.multiplier);
    absl::StatusOr<Tensor> got = testing::RunCase(c, x, dy, options);
    REQUIRE(got.status().ToString() == "OK");
    REQUIRE(testing::CompareWithDirectDefinition<float>(g, x, dy, *got) == "");
  }
  const DepthwiseConvGeometry& g = lanes_32.geometry;
  const Tensor x = PositiveWithInfinities(testing::InputShape(g), nchw, rng,
                                          [&](int64_t, int64_t w) { return w == g.in_cols - 1; });
  const Tensor dy = PositiveWithInfinities(testing::OutBackpropShape(g), nchw, rng, [](int64_t, int64_t) {
    return false;
  });
  absl::StatusOr<Tensor> got = testing::RunCase(lanes_32, x, dy, options);
  REQUIRE(got.ok());
  const auto [finite, infinite] = RequireMatchWithInfinities(g, x, dy, *got);
  REQUIRE(finite > 0);  // filter column 0 never reads the last input column from a real output column
  REQUIRE(infinite > 0);
  RequireEachKernelCompiledOnce();
}

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
