// The GPU half of `halogen bench`: halogen's CUDA kernels (generated ahead of time, every GPU schedule, with
// a sweep of rows per chunk where the kernel takes it) and cuDNN's grouped backward-filter convolution, on
// the same device buffers.
// Every result is checked against a float64 reference; times are CUDA-event medians, hot (back to back)
// and cold (L2 flushed by writing a buffer four times its size first, outside the timed region).
//
//   halogen-bench-gpu --shapes bench/shapes.txt [--runs 20] [--layouts NHWC,NCHW]
//
// One JSON record per (shape, layout, implementation) on stdout; progress on stderr. `halogen-cuda` is the
// default schedule with the default rows per chunk (depthwise_work_split.h), `halogen-cuda-sweep` every
// (schedule, rows per chunk) tried, `cudnn` cuDNN's fastest algorithm in true float32 (FMA math, no TF32),
// each algorithm that runs timed here. The progress log also breaks one cold call of the default schedule
// down into its kernels, each timed by CUDA events.
#include <cuda.h>
#include <cuda_runtime.h>
#include <dlfcn.h>
#include <cudnn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "HalideRuntimeCuda.h"
#include "bench/bench_common.h"
#include "bench/gpu/gpu_roofline.h"
#include "gpu_kernel_headers.inc"  // each kernel's NAME_halogen.h, which includes depthwise_kernel_args.h

using namespace halogen::bench;  // NOLINT

namespace {

struct GpuKernel {
  const char* name;
  const char* layout;
  const char* schedule;
  halogen::DepthwiseKernelFn fn;
  halogen::work_split::RowSplit row_split;  // the schedule's own rows per chunk, from the AOT wrapper
};
#define HALOGEN_GPU_KERNEL(name, layout, schedule) \
  {#name, layout, schedule, &name, halogen_aot::name##_row_split},
const GpuKernel kKernels[] = {
#include "gpu_kernels.inc"
};
#undef HALOGEN_GPU_KERNEL

// The schedule `halogen::codegen::DefaultSchedule` gives a GPU target.
constexpr const char* kDefaultSchedule = "gpu_register_taps";

// Halide's CUDA runtime runs in the context the CUDA runtime API made current (the device's primary
// context), so its kernels and cuDNN's share buffers and the default stream.
void* g_context = nullptr;
int AcquirePrimaryContext(void*, void** context, bool) {
  *context = g_context;
  return 0;
}
int ReleaseNothing(void*) { return 0; }

// Per-kernel times. Halide's CUDA runtime finds the driver's functions through halide_cuda_get_symbol,
// which this program replaces so that, while `g_kernel_times.recording`, each kernel launch is bracketed by
// CUDA events on its stream.
struct KernelLaunch {
  CUfunction function;
  cudaEvent_t start, stop;
};
struct KernelTimes {
  bool recording = false;
  std::vector<KernelLaunch> launches;
  CUresult (*launch)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, CUstream,
                     void**, void**) = nullptr;
  CUresult (*function_name)(const char**, CUfunction) = nullptr;  // CUDA 12.3 and later
};
KernelTimes g_kernel_times;

CUresult LaunchTimed(CUfunction f, unsigned grid_x, unsigned grid_y, unsigned grid_z, unsigned block_x,
                     unsigned block_y, unsigned block_z, unsigned shared_bytes, CUstream stream, void** params,
                     void** extra) {
  if (!g_kernel_times.recording) {
    return g_kernel_times.launch(f, grid_x, grid_y, grid_z, block_x, block_y, block_z, shared_bytes, stream, params,
                                 extra);
  }
  KernelLaunch k{f, nullptr, nullptr};
  cudaEventCreate(&k.start);
  cudaEventCreate(&k.stop);
  cudaEventRecord(k.start, reinterpret_cast<cudaStream_t>(stream));
  const CUresult result = g_kernel_times.launch(f, grid_x, grid_y, grid_z, block_x, block_y, block_z, shared_bytes,
                                                stream, params, extra);
  cudaEventRecord(k.stop, reinterpret_cast<cudaStream_t>(stream));
  g_kernel_times.launches.push_back(k);
  return result;
}

}  // namespace

extern "C" void* halide_cuda_get_symbol(void*, const char* name) {
  static void* driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_GLOBAL);
  void* symbol = driver ? dlsym(driver, name) : nullptr;
  if (symbol != nullptr && std::string(name) == "cuLaunchKernel") {
    g_kernel_times.launch = reinterpret_cast<decltype(g_kernel_times.launch)>(symbol);
    return reinterpret_cast<void*>(&LaunchTimed);
  }
  return symbol;
}

namespace {

bool CudaOk(cudaError_t e, const std::string& what) {
  if (e == cudaSuccess) return true;
  std::fprintf(stderr, "error: %s: %s\n", what.c_str(), cudaGetErrorString(e));
  return false;
}

// A device allocation freed at scope exit.
struct DeviceBuffer {
  void* ptr = nullptr;
  size_t bytes = 0;
  explicit DeviceBuffer(size_t n) : bytes(n) {
    if (cudaMalloc(&ptr, n) != cudaSuccess) ptr = nullptr;
  }
  ~DeviceBuffer() { cudaFree(ptr); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  float* f() const { return static_cast<float*>(ptr); }
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Prints each kernel that `call` launches, with its time, after flushing the L2 as the cold timings do.
void PrintKernelTimes(const std::function<void()>& call, const DeviceBuffer& flush) {
  cudaMemsetAsync(flush.ptr, 0x5a, flush.bytes, 0);
  g_kernel_times.launches.clear();
  g_kernel_times.recording = true;
  call();
  g_kernel_times.recording = false;
  cudaDeviceSynchronize();
  for (const KernelLaunch& k : g_kernel_times.launches) {
    float ms = 0;
    cudaEventElapsedTime(&ms, k.start, k.stop);
    const char* name = "?";
    if (g_kernel_times.function_name != nullptr) g_kernel_times.function_name(&name, k.function);
    std::fprintf(stderr, "[gpu]     kernel %8.4f ms  %s\n", ms, name);
    cudaEventDestroy(k.start);
    cudaEventDestroy(k.stop);
  }
  g_kernel_times.launches.clear();
}

// Medians of `runs` CUDA-event timings of `launch` on the default stream, cold and hot.
Timing TimeOnGpu(const std::function<void()>& launch, int runs, const DeviceBuffer& flush) {
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  const auto timed = [&] {
    cudaEventRecord(start, 0);
    launch();
    cudaEventRecord(stop, 0);
    cudaEventSynchronize(stop);
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    return double{ms};
  };
  for (int i = 0; i < 3; ++i) launch();
  std::vector<double> cold, hot;
  for (int i = 0; i < runs; ++i) {
    cudaMemsetAsync(flush.ptr, i & 0xff, flush.bytes, 0);
    cold.push_back(timed());
  }
  for (int i = 0; i < runs; ++i) hot.push_back(timed());
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  Timing t;
  t.median_cold_ms = Median(cold);
  t.median_hot_ms = Median(hot);
  return t;
}

// The float64 reference in NHWC, and per output the sum of |x * dy| that scales its rounding error.
struct Reference {
  std::vector<double> grad, magnitude;
};
Reference ComputeReference(const BenchShape& s, const std::vector<float>& x, const std::vector<float>& dy) {
  const int64_t depth = s.c * s.m, oh_n = s.out_rows(), ow_n = s.out_cols();
  Reference r;
  r.grad.assign(s.fh * s.fw * depth, 0.0);
  r.magnitude.assign(s.fh * s.fw * depth, 0.0);
  for (int64_t n = 0; n < s.n; ++n) {
    for (int64_t oh = 0; oh < oh_n; ++oh) {
      for (int64_t kh = 0; kh < s.fh; ++kh) {
        const int64_t ih = oh * s.stride + kh - s.pad_top();
        if (ih < 0 || ih >= s.h) continue;
        for (int64_t ow = 0; ow < ow_n; ++ow) {
          const float* g = &dy[((n * oh_n + oh) * ow_n + ow) * depth];
          for (int64_t kw = 0; kw < s.fw; ++kw) {
            const int64_t iw = ow * s.stride + kw - s.pad_left();
            if (iw < 0 || iw >= s.w) continue;
            const float* in = &x[((n * s.h + ih) * s.w + iw) * s.c];
            double* out = &r.grad[(kh * s.fw + kw) * depth];
            double* mag = &r.magnitude[(kh * s.fw + kw) * depth];
            for (int64_t d = 0; d < depth; ++d) {
              const double p = double{in[d / s.m]} * g[d];
              out[d] += p;
              mag[d] += std::fabs(p);
            }
          }
        }
      }
    }
  }
  return r;
}

// The largest error relative to its output's magnitude; `at(kh, kw, d)` reads the result under test.
double WorstError(const BenchShape& s, const Reference& ref, const std::function<double(int64_t)>& at) {
  double worst = 0;
  for (size_t i = 0; i < ref.grad.size(); ++i) {
    worst = std::max(worst, std::fabs(at(static_cast<int64_t>(i)) - ref.grad[i]) / (ref.magnitude[i] + 1e-30));
  }
  return worst;
}

// NHWC data as NCHW.
std::vector<float> ToNchw(const std::vector<float>& nhwc, int64_t n, int64_t h, int64_t w, int64_t c) {
  std::vector<float> out(nhwc.size());
  for (int64_t b = 0; b < n; ++b)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        for (int64_t k = 0; k < c; ++k) out[((b * c + k) * h + y) * w + x] = nhwc[((b * h + y) * w + x) * c + k];
  return out;
}

struct Context {
  PeerArgs args;
  GpuRoofline roofline;
  std::string device;
  cudnnHandle_t cudnn = nullptr;
  DeviceBuffer* flush = nullptr;
  DeviceBuffer* workspace = nullptr;
};

void Emit(const Context& ctx, const Record& r, double max_error) {
  const BenchShape& s = r.shape;
  const double gflops = s.flops() / (r.timing.median_cold_ms * 1e6);
  const double bound = std::min(ctx.roofline.peak_gflops, ctx.roofline.bandwidth_gbs * s.flops() / s.bytes());
  const double gbs = s.bytes() / (r.timing.median_cold_ms * 1e6);
  std::string json = ToJson(r);
  json.pop_back();  // the closing brace: the GPU fields follow
  char error_text[32] = "null";  // JSON has no NaN: an error not compared is null
  if (!std::isnan(max_error)) std::snprintf(error_text, sizeof error_text, "%.3g", max_error);
  char extra[512];
  std::snprintf(extra, sizeof extra,
                ", \"device\": \"%s\", \"max_error\": %s, \"roofline_gflops\": %.6g, \"percent_of_roofline\": %.4g, "
                "\"percent_of_bandwidth\": %.4g, \"peak_gflops\": %.6g, \"bandwidth_gbs\": %.6g}",
                ctx.device.c_str(), error_text, bound, 100 * gflops / bound, 100 * gbs / ctx.roofline.bandwidth_gbs,
                ctx.roofline.peak_gflops, ctx.roofline.bandwidth_gbs);
  std::printf("%s%s\n", json.c_str(), extra);
  std::fflush(stdout);
}

// Every GPU schedule of `layout`, over a range of rows per chunk; returns the default's cold time.
double RunHalogen(const Context& ctx, const BenchShape& s, const std::string& layout, const Reference& ref,
                  float* x, float* dy, float* dw) {
  halogen::DepthwiseShape shape{static_cast<int32_t>(s.n), static_cast<int32_t>(s.h), static_cast<int32_t>(s.w),
                                static_cast<int32_t>(s.c), static_cast<int32_t>(s.m), static_cast<int32_t>(s.fh),
                                static_cast<int32_t>(s.fw), static_cast<int32_t>(s.out_rows()),
                                static_cast<int32_t>(s.out_cols()), static_cast<int32_t>(s.stride), 1, 1,
                                static_cast<int32_t>(s.pad_top()), static_cast<int32_t>(s.pad_left()),
                                layout == "NHWC"};
  const int64_t total_rows = s.n * s.out_rows();
  const int64_t depth = s.c * s.m;
  std::vector<float> got(s.fh * s.fw * depth);
  double default_ms = 0;
  for (const GpuKernel& kernel : kKernels) {
    if (layout != kernel.layout) continue;
    // The schedule's own rows per chunk first, then, where the kernel takes it as an argument
    // (gpu_row_chunks; gpu_register_taps is built for one row per chunk), the others tried.
    const int32_t default_rows = halogen::work_split::RowsPerChunk(kernel.row_split, total_rows);
    std::vector<int32_t> candidates = {default_rows};
    for (int32_t rows : {1, 2, 4, 16, 64}) {
      if (kernel.row_split == halogen::work_split::RowSplit::kGpuChunks && rows != default_rows &&
          rows <= total_rows) {
        candidates.push_back(rows);
      }
    }
    for (int32_t rows : candidates) {
      halogen::DepthwiseKernelArgs args;
      // No host data: the buffers are wrapped around device memory below (the split only sets host flags;
      // with no host result, CallDepthwiseKernel leaves the result check to the device's masked kernels).
      halogen::FillDepthwiseKernelArgs<float>(shape, nullptr, nullptr, nullptr,
                                              halogen::work_split::RowSplit::kCpuChunks, &args);
      args.rows_per_chunk = rows;
      args.chunks = halogen::work_split::ChunkCount(total_rows, rows);
      halide_cuda_wrap_device_ptr(nullptr, &args.input, reinterpret_cast<uintptr_t>(x));
      halide_cuda_wrap_device_ptr(nullptr, &args.out_backprop, reinterpret_cast<uintptr_t>(dy));
      halide_cuda_wrap_device_ptr(nullptr, &args.filter_grad, reinterpret_cast<uintptr_t>(dw));
      int status = 0;
      const auto launch = [&] {
        if (status == 0) status = halogen::CallDepthwiseKernel(kernel.fn, args);
      };
      cudaMemset(dw, 0xff, got.size() * sizeof(float));  // NaN: every element must be written
      launch();
      cudaDeviceSynchronize();
      cudaMemcpy(got.data(), dw, got.size() * sizeof(float), cudaMemcpyDeviceToHost);
      const double error = WorstError(s, ref, [&](int64_t i) { return got[i]; });
      Record r;
      r.shape = s;
      r.layout = layout;
      r.threads = 0;
      r.timing = TimeOnGpu(launch, ctx.args.runs, *ctx.flush);
      // Host time per call, back to back: what launching costs the caller.
      const int calls = 50;
      const auto begin = std::chrono::steady_clock::now();
      for (int i = 0; i < calls; ++i) launch();
      const double call_us =
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - begin).count() / calls;
      cudaDeviceSynchronize();
      const bool is_default = rows == default_rows && std::string(kernel.schedule) == kDefaultSchedule;
      if (is_default && status == 0) {
        std::fprintf(stderr, "[gpu]   %s, one cold call:\n", kernel.schedule);
        PrintKernelTimes(launch, *ctx.flush);
      }
      for (halide_buffer_t* b : {&args.input, &args.out_backprop, &args.filter_grad}) {
        halide_cuda_detach_device_ptr(nullptr, b);
      }
      if (status != 0 || cudaGetLastError() != cudaSuccess) {
        std::fprintf(stderr, "[gpu]   %s rows %d: failed (Halide error %d)\n", kernel.name, rows, status);
        continue;
      }
      char note[256];
      std::snprintf(note, sizeof note, "%s, rows_per_chunk %d, %d chunks, launch %.1f us", kernel.schedule, rows,
                    args.chunks, call_us);
      r.note = note;
      r.impl = "halogen-cuda-sweep";
      Emit(ctx, r, error);
      if (is_default) {
        r.impl = "halogen-cuda";
        Emit(ctx, r, error);
        default_ms = r.timing.median_cold_ms;
      }
      std::fprintf(stderr, "[gpu]   %-28s rows %3d: cold %8.4f ms, hot %8.4f ms, %6.1f%% of bandwidth, error %.2g%s\n",
                   kernel.schedule, rows, r.timing.median_cold_ms, r.timing.median_hot_ms,
                   100 * s.bytes() / (r.timing.median_cold_ms * 1e6) / ctx.roofline.bandwidth_gbs, error,
                   error > 1e-4 ? "  MISMATCH" : "");

    }
  }
  return default_ms;
}

bool CudnnOk(cudnnStatus_t status, const std::string& what) {
  if (status == CUDNN_STATUS_SUCCESS) return true;
  std::fprintf(stderr, "[gpu]   cudnn: %s: %s\n", what.c_str(), cudnnGetErrorString(status));
  return false;
}

// cuDNN's grouped convolution, backward filter. cuDNN pads symmetrically: where TensorFlow's SAME pads one
// more row or column at the bottom or right (even sizes at stride 2), cuDNN runs with the larger pad on
// both sides, the same sizes and work, and its result is not compared (TensorFlow pads the input first).
double RunCudnn(const Context& ctx, const BenchShape& s, const std::string& layout, const Reference& ref, float* x,
                float* dy, float* dw) {
  const cudnnTensorFormat_t format = layout == "NHWC" ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
  const int depth = static_cast<int>(s.c * s.m);
  const bool symmetric = s.pad_top() == s.pad_bottom() && s.pad_left() == s.pad_right();
  const int pad_h = static_cast<int>(std::max(s.pad_top(), s.pad_bottom()));
  const int pad_w = static_cast<int>(std::max(s.pad_left(), s.pad_right()));
  cudnnTensorDescriptor_t x_desc, dy_desc;
  cudnnFilterDescriptor_t w_desc;
  cudnnConvolutionDescriptor_t conv;
  cudnnCreateTensorDescriptor(&x_desc);
  cudnnCreateTensorDescriptor(&dy_desc);
  cudnnCreateFilterDescriptor(&w_desc);
  cudnnCreateConvolutionDescriptor(&conv);
  double ms = 0;
  do {
    if (!CudnnOk(cudnnSetTensor4dDescriptor(x_desc, format, CUDNN_DATA_FLOAT, s.n, s.c, s.h, s.w), "input") ||
        !CudnnOk(cudnnSetTensor4dDescriptor(dy_desc, format, CUDNN_DATA_FLOAT, s.n, depth, s.out_rows(),
                                            s.out_cols()), "out_backprop") ||
        !CudnnOk(cudnnSetFilter4dDescriptor(w_desc, CUDNN_DATA_FLOAT, format, depth, 1, s.fh, s.fw), "filter") ||
        !CudnnOk(cudnnSetConvolution2dDescriptor(conv, pad_h, pad_w, s.stride, s.stride, 1, 1,
                                                 CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT), "convolution") ||
        !CudnnOk(cudnnSetConvolutionGroupCount(conv, static_cast<int>(s.c)), "groups") ||
        !CudnnOk(cudnnSetConvolutionMathType(conv, CUDNN_FMA_MATH), "math type")) {
      break;
    }
    int on, oc, oh, ow;
    cudnnGetConvolution2dForwardOutputDim(conv, x_desc, w_desc, &on, &oc, &oh, &ow);
    if (oh != s.out_rows() || ow != s.out_cols()) {
      std::fprintf(stderr, "[gpu]   cudnn: output %dx%d, expected %lldx%lld: skipped\n", oh, ow,
                   static_cast<long long>(s.out_rows()), static_cast<long long>(s.out_cols()));
      break;
    }
    cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    int returned = 0;
    if (!CudnnOk(cudnnFindConvolutionBackwardFilterAlgorithmEx(
                     ctx.cudnn, x_desc, x, dy_desc, dy, conv, w_desc, dw, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT,
                     &returned, perf, ctx.workspace->ptr, ctx.workspace->bytes),
                 "find algorithm")) {
      break;
    }
    // Every algorithm that runs, each timed here: Find's own single timings are noisy enough that its first
    // choice was at times several times slower than another algorithm (14x14x384 NHWC: 0.20 against 0.027
    // ms between runs). The fastest cold median is cuDNN's figure, the most favourable reading for it.
    const float one = 1, zero = 0;
    Record best;
    int best_algo = -1;
    size_t best_memory = 0;
    for (int i = 0; i < returned; ++i) {
      if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > ctx.workspace->bytes) continue;
      cudnnStatus_t status = CUDNN_STATUS_SUCCESS;
      const auto launch = [&] {
        if (status == CUDNN_STATUS_SUCCESS) {
          status = cudnnConvolutionBackwardFilter(ctx.cudnn, &one, x_desc, x, dy_desc, dy, conv, perf[i].algo,
                                                  ctx.workspace->ptr, perf[i].memory, &zero, w_desc, dw);
        }
      };
      const Timing timing = TimeOnGpu(launch, ctx.args.runs, *ctx.flush);
      if (status != CUDNN_STATUS_SUCCESS) continue;
      if (best_algo < 0 || timing.median_cold_ms < best.timing.median_cold_ms) {
        best.timing = timing;
        best_algo = static_cast<int>(perf[i].algo);
        best_memory = perf[i].memory;
      }
    }
    if (best_algo < 0) {
      std::fprintf(stderr, "[gpu]   cudnn: no algorithm runs this shape\n");
      break;
    }
    // The fastest algorithm's result, against the reference.
    if (!CudnnOk(cudnnConvolutionBackwardFilter(ctx.cudnn, &one, x_desc, x, dy_desc, dy, conv,
                                                static_cast<cudnnConvolutionBwdFilterAlgo_t>(best_algo),
                                                ctx.workspace->ptr, best_memory, &zero, w_desc, dw),
                 "backward filter")) {
      break;
    }
    cudaDeviceSynchronize();
    // cuDNN's filter is [C*M, FH, FW] in either format (one input channel per group).
    std::vector<float> got(s.fh * s.fw * depth);
    cudaMemcpy(got.data(), dw, got.size() * sizeof(float), cudaMemcpyDeviceToHost);
    const double error = symmetric ? WorstError(s, ref, [&](int64_t i) {
      const int64_t d = i % depth, tap = i / depth;
      return got[d * s.fh * s.fw + tap];
    }) : std::nan("");
    Record& r = best;
    r.shape = s;
    r.layout = layout;
    r.threads = 0;
    r.impl = "cudnn";
    char note[256];
    std::snprintf(note, sizeof note, "cuDNN %zu, algorithm %d (fastest of %d timed), workspace %zu bytes%s",
                  cudnnGetVersion(), best_algo, returned, best_memory,
                  symmetric ? "" : ", symmetric padding (not compared)");
    r.note = note;
    Emit(ctx, r, error);
    ms = r.timing.median_cold_ms;
    std::fprintf(stderr, "[gpu]   %-28s          cold %8.4f ms, hot %8.4f ms, %6.1f%% of bandwidth, error %.2g%s\n",
                 "cudnn", r.timing.median_cold_ms, r.timing.median_hot_ms,
                 100 * s.bytes() / (r.timing.median_cold_ms * 1e6) / ctx.roofline.bandwidth_gbs, error,
                 error > 1e-4 ? "  MISMATCH" : "");
  } while (false);
  cudnnDestroyTensorDescriptor(x_desc);
  cudnnDestroyTensorDescriptor(dy_desc);
  cudnnDestroyFilterDescriptor(w_desc);
  cudnnDestroyConvolutionDescriptor(conv);
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  PeerArgs args;
  std::vector<BenchShape> shapes;
  if (!LoadPeerInputs(argc, argv, &args, &shapes)) return 2;
  if (!CudaOk(cudaSetDevice(0), "no usable CUDA device") || !CudaOk(cudaFree(nullptr), "CUDA initialisation")) {
    return 2;
  }
  Context ctx;
  ctx.args = args;
  // The driver library, opened globally: Halide's runtime looks its functions up in the process first.
  void* driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_GLOBAL);
  auto get_current = driver ? reinterpret_cast<int (*)(void**)>(dlsym(driver, "cuCtxGetCurrent")) : nullptr;
  if (get_current == nullptr || get_current(&g_context) != 0 || g_context == nullptr) {
    std::fprintf(stderr, "error: cannot reach the CUDA driver's current context\n");
    return 2;
  }
  g_kernel_times.function_name =
      reinterpret_cast<decltype(g_kernel_times.function_name)>(dlsym(driver, "cuFuncGetName"));
  halide_set_cuda_acquire_context(AcquirePrimaryContext);
  halide_set_cuda_release_context(ReleaseNothing);
  halide_reuse_device_allocations(nullptr, true);  // the partial sums' buffers, once per shape
  cudaDeviceProp prop;
  cudaGetDeviceProperties(&prop, 0);
  ctx.device = prop.name;
  if (!CudnnOk(cudnnCreate(&ctx.cudnn), "create")) return 2;
  std::fprintf(stderr, "[gpu] %s: %d multiprocessors, %d MB L2; cuDNN %zu; measuring the roofline\n", prop.name,
               prop.multiProcessorCount, prop.l2CacheSize >> 20, cudnnGetVersion());
  ctx.roofline = MeasureGpuRoofline();
  if (!ctx.roofline.error.empty()) {
    std::fprintf(stderr, "error: %s\n", ctx.roofline.error.c_str());
    return 2;
  }
  std::fprintf(stderr, "[gpu] FMA peak %.0f GFLOP/s, read bandwidth %.0f GB/s\n", ctx.roofline.peak_gflops,
               ctx.roofline.bandwidth_gbs);
  DeviceBuffer flush(size_t{4} * prop.l2CacheSize), workspace(size_t{1} << 30);
  if (flush.ptr == nullptr || workspace.ptr == nullptr) {
    std::fprintf(stderr, "error: cannot allocate the cache-flush buffer and cuDNN's workspace on the GPU\n");
    return 2;
  }
  ctx.flush = &flush;
  ctx.workspace = &workspace;

  for (const BenchShape& s : shapes) {
    const int64_t x_count = s.n * s.h * s.w * s.c, dy_count = s.n * s.out_rows() * s.out_cols() * s.c * s.m;
    std::vector<float> x(x_count), dy(dy_count);
    for (int64_t i = 0; i < x_count; ++i) x[i] = static_cast<float>((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    for (int64_t i = 0; i < dy_count; ++i) dy[i] = static_cast<float>((i * 40503u + 7) % 1000) / 1000.0f - 0.5f;
    const Reference ref = ComputeReference(s, x, dy);
    DeviceBuffer dx(x_count * sizeof(float)), ddy(dy_count * sizeof(float)),
        ddw(s.fh * s.fw * s.c * s.m * sizeof(float));
    if (dx.ptr == nullptr || ddy.ptr == nullptr || ddw.ptr == nullptr) {
      std::fprintf(stderr, "error: %s: cannot allocate its tensors on the GPU\n", s.name.c_str());
      return 2;
    }
    for (const std::string& layout : args.layouts) {
      const bool nhwc = layout == "NHWC";
      const std::vector<float> x_in = nhwc ? x : ToNchw(x, s.n, s.h, s.w, s.c);
      const std::vector<float> dy_in = nhwc ? dy : ToNchw(dy, s.n, s.out_rows(), s.out_cols(), s.c * s.m);
      cudaMemcpy(dx.ptr, x_in.data(), dx.bytes, cudaMemcpyHostToDevice);
      cudaMemcpy(ddy.ptr, dy_in.data(), ddy.bytes, cudaMemcpyHostToDevice);
      std::fprintf(stderr, "[gpu] %s %s (%.1f MB)\n", s.name.c_str(), layout.c_str(), s.bytes() / 1e6);
      const double halogen_ms = RunHalogen(ctx, s, layout, ref, dx.f(), ddy.f(), ddw.f());
      const double cudnn_ms = RunCudnn(ctx, s, layout, ref, dx.f(), ddy.f(), ddw.f());
      if (halogen_ms > 0 && cudnn_ms > 0) {
        std::fprintf(stderr, "[gpu]   => halogen %.4f ms, cuDNN %.4f ms: %.2fx\n", halogen_ms, cudnn_ms,
                     cudnn_ms / halogen_ms);
      }
    }
  }
  cudnnDestroy(ctx.cudnn);
  return 0;
}
