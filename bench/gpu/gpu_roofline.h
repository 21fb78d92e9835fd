// The GPU's own limits, measured in the benchmark's run: streaming-read bandwidth and float32 FMA peak.
#ifndef HALOGEN_BENCH_GPU_GPU_ROOFLINE_H_
#define HALOGEN_BENCH_GPU_GPU_ROOFLINE_H_

#include <string>

namespace halogen {
namespace bench {

struct GpuRoofline {
  double peak_gflops = 0;    // float32 FMAs, every multiprocessor busy
  double bandwidth_gbs = 0;  // reading a buffer far larger than L2 once
  std::string error;         // empty when both were measured
};

// Uses the current CUDA device; takes about a second.
GpuRoofline MeasureGpuRoofline();

}  // namespace bench
}  // namespace halogen

#endif  // HALOGEN_BENCH_GPU_GPU_ROOFLINE_H_
