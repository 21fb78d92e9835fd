#include <cuda_runtime.h>

#include <algorithm>

#include "bench/gpu/gpu_roofline.h"

namespace halogen {
namespace bench {
namespace {

// Each thread sums a grid-strided share of the buffer; the sums only reach memory in a case that never
// happens, so nothing but the reads is timed, and the compiler cannot drop them.
__global__ void ReadAll(const float4* data, size_t count, float* sink) {
  float4 sum = make_float4(0, 0, 0, 0);
  for (size_t i = blockIdx.x * size_t{blockDim.x} + threadIdx.x; i < count; i += size_t{gridDim.x} * blockDim.x) {
    const float4 v = data[i];
    sum.x += v.x, sum.y += v.y, sum.z += v.z, sum.w += v.w;
  }
  if (sum.x + sum.y + sum.z + sum.w == -1.0f) *sink = sum.x;
}

// Eight independent FMA chains per thread, enough to cover the FMA pipeline's latency.
constexpr int kChains = 8;
__global__ void FmaChains(int iterations, float* sink) {
  float acc[kChains];
  for (int k = 0; k < kChains; ++k) acc[k] = threadIdx.x * 1e-7f + k;
  const float a = 0.999999f, b = 1e-7f;
  for (int i = 0; i < iterations; ++i) {
#pragma unroll
    for (int k = 0; k < kChains; ++k) acc[k] = fmaf(acc[k], a, b);
  }
  float total = 0;
  for (int k = 0; k < kChains; ++k) total += acc[k];
  if (total == -1.0f) *sink = total;
}

// Best of `trials` of `launch`, in milliseconds of GPU time.
template <typename Launch>
float BestMs(int trials, Launch&& launch) {
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  float best = 1e30f;
  launch();  // warm-up
  for (int t = 0; t < trials; ++t) {
    cudaEventRecord(start);
    launch();
    cudaEventRecord(stop);
    cudaEventSynchronize(stop);
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    best = std::min(best, ms);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return best;
}

}  // namespace

GpuRoofline MeasureGpuRoofline() {
  GpuRoofline r;
  int device = 0, sms = 0;
  cudaGetDevice(&device);
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
  float* sink = nullptr;
  if (cudaMalloc(&sink, sizeof(float)) != cudaSuccess) {
    r.error = "cannot allocate on the GPU";
    return r;
  }
  const int iterations = 1 << 16, threads = 256, blocks = sms * 8;
  const float fma_ms = BestMs(5, [&] { FmaChains<<<blocks, threads>>>(iterations, sink); });
  r.peak_gflops = 2.0 * kChains * iterations * double(threads) * blocks / (fma_ms * 1e6);

  const size_t bytes = size_t{2} << 30;  // 2 GiB: far beyond any L2
  void* data = nullptr;
  if (cudaMalloc(&data, bytes) != cudaSuccess) {
    r.error = "cannot allocate 2 GiB on the GPU for the bandwidth measurement";
  } else {
    cudaMemset(data, 0, bytes);
    const float read_ms = BestMs(5, [&] {
      ReadAll<<<sms * 16, 512>>>(static_cast<const float4*>(data), bytes / sizeof(float4), sink);
    });
    r.bandwidth_gbs = bytes / (read_ms * 1e6);
    cudaFree(data);
  }
  if (cudaGetLastError() != cudaSuccess && r.error.empty()) r.error = "a roofline kernel failed";
  cudaFree(sink);
  return r;
}

}  // namespace bench
}  // namespace halogen
