// Generated kernels for DepthwiseConv2dNativeBackpropFilter: JIT-compiled Halide pipelines, one per
// (dtype, layout, target, schedule), cached for the process and shape-generic (every size is a run-time
// parameter). Users normally reach them through ClientSession; this header is for choosing schedules
// and for tools.
#ifndef HALOGEN_CODEGEN_DEPTHWISE_CONV2D_NATIVE_BACKPROP_FILTER_H_
#define HALOGEN_CODEGEN_DEPTHWISE_CONV2D_NATIVE_BACKPROP_FILTER_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "halogen/codegen/depthwise_work_split.h"
#include "halogen/codegen/target.h"
#include "halogen/dsl/ops/depthwise_conv_geometry.h"
#include "halogen/dsl/tensor.h"

namespace halogen {
namespace codegen {

enum class DepthwiseBackpropFilterSchedule {
  kCpuChannelTaps,    // "cpu_channel_taps": NHWC on a CPU
  kCpuChannelBlocks,  // "cpu_channel_blocks": NCHW on a CPU
  kGpuRowChunks,      // "gpu_row_chunks": either layout on CUDA or OpenCL
  kGpuRegisterTaps,   // "gpu_register_taps": either layout on CUDA or OpenCL, 3x3 and 5x5 taps in registers
};

const char* ScheduleName(DepthwiseBackpropFilterSchedule schedule);
absl::StatusOr<DepthwiseBackpropFilterSchedule> ParseSchedule(absl::string_view name);

// How `schedule` divides the rows among its partial sums (the kernel's rows_per_chunk argument).
work_split::RowSplit ScheduleRowSplit(DepthwiseBackpropFilterSchedule schedule);

// The policy: which schedule a layout gets on a target unless the caller (or, later, tuning data) says
// otherwise.
DepthwiseBackpropFilterSchedule DefaultSchedule(DataFormat format, Target target);

struct KernelOptions {
  Target target = Target::kHost;  // kReference is not a generated target
  int num_threads = 0;            // 0: HL_NUM_THREADS if set, else one per core
  bool verbose = false;           // log kernel, schedule, target, cache hits/misses and compile times
  std::optional<DepthwiseBackpropFilterSchedule> schedule;  // unset: DefaultSchedule
};

// Computes filter_grad ([FH, FW, C, M], zero-initialised by the caller) from validated sizes. Fails with
// FailedPrecondition when the target's device is missing and InvalidArgument for a schedule that does
// not fit the target (a GPU schedule on the CPU or the reverse).
absl::Status RunDepthwiseConv2dNativeBackpropFilter(const DepthwiseConvGeometry& geometry, const Tensor& input,
                                                    const Tensor& out_backprop, const KernelOptions& options,
                                                    Tensor* filter_grad);

// Compiles the kernel for `target` without running it (no device needed) and returns its assembly; for
// host-cuda this contains the PTX.
absl::StatusOr<std::string> CompileToAssembly(DataType dtype, DataFormat format, Target target,
                                              DepthwiseBackpropFilterSchedule schedule);

}  // namespace codegen
}  // namespace halogen

#endif  // HALOGEN_CODEGEN_DEPTHWISE_CONV2D_NATIVE_BACKPROP_FILTER_H_
