#include "halogen/codegen/depthwise_conv2d_native_backprop_filter.h"

#include <chrono>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <iterator>
#include <mutex>
#include <string>

#include "HalideBuffer.h"
#include "absl/strings/str_cat.h"
#include "codegen/depthwise_conv2d_native_backprop_filter_algorithm.h"
#include "codegen/halide_target.h"
#include "codegen/jit_cache.h"
#include "codegen/object_cache.h"
#include "codegen/schedules/depthwise_backprop_filter_schedules.h"
#include "halogen/codegen/depthwise_kernel_args.h"
#include "halogen/codegen/kernel_scratch.h"
#include "halogen/codegen/kernel_threads.h"

namespace halogen {
namespace codegen {
namespace {

constexpr DepthwiseBackpropFilterSchedule kAllSchedules[] = {DepthwiseBackpropFilterSchedule::kCpuChannelTaps,
                                                             DepthwiseBackpropFilterSchedule::kCpuChannelBlocks,
                                                             DepthwiseBackpropFilterSchedule::kGpuRowChunks,
                                                             DepthwiseBackpropFilterSchedule::kGpuRegisterTaps};

bool IsGpuSchedule(DepthwiseBackpropFilterSchedule schedule) {
  return schedule == DepthwiseBackpropFilterSchedule::kGpuRowChunks ||
         schedule == DepthwiseBackpropFilterSchedule::kGpuRegisterTaps;
}

// A scheduled algorithm and the pipeline that compiles it. The algorithm stays beside the pipeline until
// compilation is done: a schedule may compute one Func at a loop of another Func's stage, and that
// placement does not outlive the algorithm's own handles on its Funcs.
struct ScheduledPipeline {
  DepthwiseBackpropFilterAlgorithm algorithm;
  std::vector<Halide::Argument> arguments;
  Halide::Pipeline pipeline;
};

ScheduledPipeline BuildPipeline(DataType dtype, DataFormat format, const Halide::Target& target,
                                DepthwiseBackpropFilterSchedule schedule) {
  ScheduledPipeline built{DefineScheduled(dtype, format, schedule, target), {}, {}};
  built.arguments = built.algorithm.arguments();
  built.pipeline = Halide::Pipeline(built.algorithm.filter_grad);
  return built;
}


// Halide reports run-time errors through a handler; keep the message for the returned status. The
// kernel's scratch comes from the per-thread blocks of kernel_scratch.h (as in the loaded runtime).
struct ErrorCapturingContext : Halide::JITUserContext {
  std::string message;
  ErrorCapturingContext() {
    handlers.custom_error = [](Halide::JITUserContext* context, const char* text) {
      static_cast<ErrorCapturingContext*>(context)->message += text;
    };
    handlers.custom_malloc = [](Halide::JITUserContext*, size_t bytes) { return ScratchAllocate(bytes); };
    handlers.custom_free = [](Halide::JITUserContext*, void* block) { ScratchRelease(block); };
  }
};

// The thread pools are process-wide; changing their size only changes speed, never results. Kernels
// loaded from the disk cache run on the pool of kernel_threads.h (their runtime's own pool takes the loops
// that find it taken); kernels compiled in memory, on Halide's JIT pool.
void UseThreads(int num_threads) {
  static std::mutex mutex;
  static int current = -1;
  std::lock_guard<std::mutex> lock(mutex);
  if (num_threads != current) {
    SetKernelThreads(num_threads);
    Halide::Internal::JITSharedRuntime::set_num_threads(num_threads);
    current = num_threads;
  }
  if (int (*set_loaded)(int) = LoadedRuntimeSetNumThreads(); set_loaded != nullptr) set_loaded(num_threads);
}

template <typename T>
absl::Status Execute(const JitKernel& kernel, const DepthwiseConvGeometry& g, const Tensor& input,
                     const Tensor& out_backprop, Tensor* filter_grad, work_split::RowSplit split) {
  const bool on_gpu = split != work_split::RowSplit::kCpuChunks;
  const auto i32 = [](int64_t v) { return static_cast<int32_t>(v); };
  const DepthwiseShape shape{i32(g.batch),       i32(g.in_rows),       i32(g.in_cols),       i32(g.channels),
                             i32(g.multiplier),  i32(g.filter_rows),   i32(g.filter_cols),   i32(g.out_rows),
                             i32(g.out_cols),    i32(g.stride),        i32(g.dilation_rows), i32(g.dilation_cols),
                             i32(g.pad_top),     i32(g.pad_left),      g.format == DataFormat::kNHWC};
  DepthwiseKernelArgs args;
  FillDepthwiseKernelArgs<T>(shape, input.flat<T>().data(), out_backprop.flat<T>().data(),
                             filter_grad->flat<T>().data(), split, &args);
  ErrorCapturingContext context;
  const int result =
      kernel.loaded != nullptr
          ? CallDepthwiseKernel(kernel.loaded, args)
          : CallDepthwiseKernel(
                [&](auto&&... a) { return kernel.callable(static_cast<Halide::JITUserContext*>(&context), a...); },
                args);
  if (kernel.loaded != nullptr) context.message += TakeLoadedKernelErrors();
  if (result != 0) {
    return absl::InternalError(absl::StrCat(kernel.key, ": kernel failed (Halide error ", result, "): ",
                                            context.message));
  }
  if (on_gpu) {
    // The result is on the device: bring it back, then release the device copies.
    halide_buffer_t& dw = args.filter_grad;
    const int copied = dw.device_interface != nullptr ? dw.device_interface->copy_to_host(&context, &dw) : 0;
    for (halide_buffer_t* b : {&args.filter_grad, &args.input, &args.out_backprop}) {
      if (b->device_interface != nullptr) b->device_interface->device_free(&context, b);
    }
    if (copied != 0) {
      return absl::InternalError(absl::StrCat(kernel.key, ": copying the result from the device failed: ",
                                              context.message));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckScheduleFitsTarget(DepthwiseBackpropFilterSchedule schedule, Target target) {
  if (IsGpuSchedule(schedule) != IsGpuTarget(target)) {
    return absl::InvalidArgumentError(absl::StrCat("schedule ", ScheduleName(schedule), " cannot run on target ",
                                                   TargetName(target)));
  }
  return absl::OkStatus();
}

DepthwiseBackpropFilterAlgorithm DefineScheduled(DataType dtype, DataFormat format,
                                                 DepthwiseBackpropFilterSchedule schedule,
                                                 const Halide::Target& target) {
  DepthwiseBackpropFilterVariants variants;
  if (schedule == DepthwiseBackpropFilterSchedule::kCpuChannelBlocks) {
    variants.plane_vector = target.natural_vector_size(HalideType(dtype));
    variants.padded_vector = target.natural_vector_size(HalideType(dtype));
  }
  if (schedule == DepthwiseBackpropFilterSchedule::kGpuRegisterTaps) {
    variants.flat_rows_multiple = kGpuRowGroups;
    if (format == DataFormat::kNCHW) variants.lane_columns_min_work = kGpuLaneColumnsMinWork;
  }
  if (schedule == DepthwiseBackpropFilterSchedule::kCpuChannelTaps) {
    variants.phase_sums = true;
    variants.padded_vector = target.natural_vector_size(HalideType(dtype));
    variants.padding_by_select = target.has_feature(Halide::Target::AVX512);
  }
  DepthwiseBackpropFilterAlgorithm a = DefineDepthwiseBackpropFilter(dtype, format, variants);
  ApplySchedule(schedule, a, target);
  return a;
}

void ApplySchedule(DepthwiseBackpropFilterSchedule schedule, DepthwiseBackpropFilterAlgorithm& a,
                   const Halide::Target& target) {
  switch (schedule) {
    case DepthwiseBackpropFilterSchedule::kCpuChannelTaps:
      ScheduleCpuChannelTaps(a, target);
      break;
    case DepthwiseBackpropFilterSchedule::kCpuChannelBlocks:
      ScheduleCpuChannelBlocks(a, target);
      break;
    case DepthwiseBackpropFilterSchedule::kGpuRowChunks:
      ScheduleGpuRowChunks(a, target);
      break;
    case DepthwiseBackpropFilterSchedule::kGpuRegisterTaps:
      ScheduleGpuRegisterTaps(a, target);
      break;
  }
}

const char* ScheduleName(DepthwiseBackpropFilterSchedule schedule) {
  switch (schedule) {
    case DepthwiseBackpropFilterSchedule::kCpuChannelTaps: return "cpu_channel_taps";
    case DepthwiseBackpropFilterSchedule::kCpuChannelBlocks: return "cpu_channel_blocks";
    case DepthwiseBackpropFilterSchedule::kGpuRowChunks: return "gpu_row_chunks";
    case DepthwiseBackpropFilterSchedule::kGpuRegisterTaps: return "gpu_register_taps";
  }
  return "?";
}

absl::StatusOr<DepthwiseBackpropFilterSchedule> ParseSchedule(absl::string_view name) {
  for (DepthwiseBackpropFilterSchedule schedule : kAllSchedules) {
    if (name == ScheduleName(schedule)) return schedule;
  }
  std::string expected;
  for (size_t i = 0; i < std::size(kAllSchedules); ++i) {
    absl::StrAppend(&expected, i == 0 ? "" : i + 1 == std::size(kAllSchedules) ? " or " : ", ",
                    ScheduleName(kAllSchedules[i]));
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown schedule '", name, "' (expected ", expected, ")"));
}

work_split::RowSplit ScheduleRowSplit(DepthwiseBackpropFilterSchedule schedule) {
  switch (schedule) {
    case DepthwiseBackpropFilterSchedule::kCpuChannelTaps:
    case DepthwiseBackpropFilterSchedule::kCpuChannelBlocks: return work_split::RowSplit::kCpuChunks;
    case DepthwiseBackpropFilterSchedule::kGpuRowChunks: return work_split::RowSplit::kGpuChunks;
    case DepthwiseBackpropFilterSchedule::kGpuRegisterTaps: return work_split::RowSplit::kGpuRows;
  }
  return work_split::RowSplit::kCpuChunks;
}

DepthwiseBackpropFilterSchedule DefaultSchedule(DataFormat format, Target target) {
  if (IsGpuTarget(target)) return DepthwiseBackpropFilterSchedule::kGpuRegisterTaps;
  return format == DataFormat::kNHWC ? DepthwiseBackpropFilterSchedule::kCpuChannelTaps
                                     : DepthwiseBackpropFilterSchedule::kCpuChannelBlocks;
}

absl::Status RunDepthwiseConv2dNativeBackpropFilter(const DepthwiseConvGeometry& g, const Tensor& input,
                                                    const Tensor& out_backprop, const KernelOptions& options,
                                                    Tensor* filter_grad) {
  const DepthwiseBackpropFilterSchedule schedule = options.schedule.value_or(DefaultSchedule(g.format, options.target));
  if (absl::Status s = CheckScheduleFitsTarget(schedule, options.target); !s.ok()) return s;
  if (absl::Status s = CheckDeviceAvailable(options.target); !s.ok()) return s;
  // An empty reduction (or an empty filter) leaves the caller's zeros: the correct gradient.
  if (input.NumElements() == 0 || out_backprop.NumElements() == 0 || filter_grad->NumElements() == 0) {
    return absl::OkStatus();
  }
  // Halide buffers hold int32 extents and, without LargeBuffers, at most 2^31 - 1 bytes.
  for (int64_t extent : {g.batch, g.in_rows, g.in_cols, g.channels, g.out_rows, g.out_cols, g.out_depth(),
                         g.filter_rows, g.filter_cols, g.stride, g.dilation_rows, g.dilation_cols, g.pad_top,
                         g.pad_left}) {
    if (extent > INT32_MAX) {
      return absl::InvalidArgumentError(absl::StrCat("a size of ", extent, " exceeds the generated kernels' int32 range"));
    }
  }
  const bool large_buffers = std::max({input.TotalBytes(), out_backprop.TotalBytes(), filter_grad->TotalBytes()}) >
                             int64_t{INT32_MAX};
  absl::StatusOr<Halide::Target> halide_target = ToHalideTarget(options.target, large_buffers);
  if (!halide_target.ok()) return halide_target.status();

  const std::string key =
      absl::StrCat("DepthwiseConv2dNativeBackpropFilter/r", kDepthwiseBackpropFilterRevision, "/",
                   DataTypeName(input.dtype()), "/", DataFormatName(g.format), "/", TargetName(options.target), "/",
                   ScheduleName(schedule), "/", halide_target->to_string());
  const DataType dtype = input.dtype();
  const DataFormat format = g.format;
  const Halide::Target target = *halide_target;
  absl::StatusOr<std::shared_ptr<const JitKernel>> kernel = GetOrBuildKernel(
      key,
      [&](JitKernel& built) -> absl::Status {
        // Host kernels go through the disk cache when it is on; GPU kernels (whose objects embed device
        // code and need a device runtime) are JIT-compiled.
        const DiskCacheOptions disk = GetDiskCacheOptions();
        if (disk.enabled && options.target == Target::kHost) {
          absl::Status cached = BuildFromObjectCache(
              key, target, disk,
              [&](const std::string& path, const std::string& symbol) {
                ScheduledPipeline p = BuildPipeline(dtype, format, target, schedule);
                p.pipeline.compile_to_object(path, p.arguments, symbol, target.with_feature(Halide::Target::NoRuntime));
              },
              options.verbose, built);
          if (cached.ok()) return cached;
          if (options.verbose) {
            std::fprintf(stderr, "[halogen] disk cache unavailable (%s); compiling in memory\n",
                         std::string(cached.message()).c_str());
          }
        }
        const auto start = std::chrono::steady_clock::now();
        ScheduledPipeline p = BuildPipeline(dtype, format, target, schedule);
        built.callable = p.pipeline.compile_to_callable(p.arguments, target);
        RecordHalideCompile(key, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        return absl::OkStatus();
      },
      options.verbose);
  if (!kernel.ok()) return kernel.status();

  UseThreads(options.num_threads);
  const auto start = std::chrono::steady_clock::now();
  absl::Status status = CatchHalideErrors(key, [&] {
    return dtype == DataType::kFloat
               ? Execute<float>(**kernel, g, input, out_backprop, filter_grad, ScheduleRowSplit(schedule))
               : Execute<double>(**kernel, g, input, out_backprop, filter_grad, ScheduleRowSplit(schedule));
  });
  if (options.verbose) {
    std::fprintf(stderr, "[halogen] ran %s (%s, schedule %s, target %s) in %.3f ms\n", key.c_str(),
                 DataFormatName(g.format), ScheduleName(schedule), TargetName(options.target),
                 std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  return status;
}

absl::StatusOr<std::string> CompileToAssembly(DataType dtype, DataFormat format, Target target,
                                              DepthwiseBackpropFilterSchedule schedule) {
  if (absl::Status s = CheckScheduleFitsTarget(schedule, target); !s.ok()) return s;
  absl::StatusOr<Halide::Target> halide_target = ToHalideTarget(target);
  if (!halide_target.ok()) return halide_target.status();
  std::string assembly;
  absl::Status status = CatchHalideErrors("compiling to assembly", [&]() -> absl::Status {
    ScheduledPipeline p = BuildPipeline(dtype, format, *halide_target, schedule);
    absl::StatusOr<std::string> text = CompileToBytes(
        [&](const std::string& path) {
          p.pipeline.compile_to_assembly(path, p.arguments, "depthwise_conv2d_native_backprop_filter", *halide_target);
        },
        ".s");
    if (!text.ok()) return text.status();
    assembly = *std::move(text);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return assembly;
}

}  // namespace codegen
}  // namespace halogen
