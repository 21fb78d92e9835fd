// Schedules for DepthwiseConv2dNativeBackpropFilter, one per layout family and target family, and the
// shape-dependent parameters come from depthwise_work_split.h. Every schedule is deterministic: each output element is summed in
// an order fixed by the shape alone (partial sums over fixed row chunks or vector lanes, combined in a
// fixed order), never by the thread count, and no schedule uses atomics.
#ifndef HALOGEN_CODEGEN_SCHEDULES_DEPTHWISE_BACKPROP_FILTER_SCHEDULES_H_
#define HALOGEN_CODEGEN_SCHEDULES_DEPTHWISE_BACKPROP_FILTER_SCHEDULES_H_

#include <cstdint>

#include "Halide.h"
#include "absl/status/status.h"
#include "codegen/depthwise_conv2d_native_backprop_filter_algorithm.h"
#include "halogen/codegen/depthwise_conv2d_native_backprop_filter.h"

namespace halogen {
namespace codegen {

// NHWC on a CPU. The interior is split into fixed chunks of (batch, row), one parallel task each; inside
// a chunk a cache-sized block of rows is swept once per (vector of channels, filter row) with that
// filter row's accumulators in registers, 3- and 5-wide filters unrolled. Chunks are combined in order.
// The border updates run in parallel over channel vectors.
void ScheduleCpuChannelTaps(DepthwiseBackpropFilterAlgorithm& a, const Halide::Target& target);

// NCHW on a CPU: one parallel task per output channel; the interior reduction along each row is
// vectorised with one partial sum per vector lane (all taps' accumulators in registers), the lanes added
// up in order at the end; the borders are summed per channel.
void ScheduleCpuWidthLanes(DepthwiseBackpropFilterAlgorithm& a, const Halide::Target& target);

// Either layout on a GPU (CUDA, OpenCL): the interior as partial sums over row chunks, one thread per
// (channel, tap, chunk) summing its rows in order, then one thread per (channel, tap) adding the chunks
// in order and its borders.
void ScheduleGpuRowChunks(DepthwiseBackpropFilterAlgorithm& a, const Halide::Target& target);

// InvalidArgument for a GPU schedule on a CPU target or the reverse.
absl::Status CheckScheduleFitsTarget(DepthwiseBackpropFilterSchedule schedule, Target target);

// Applies `schedule` (the caller has checked that it fits the target).
void ApplySchedule(DepthwiseBackpropFilterSchedule schedule, DepthwiseBackpropFilterAlgorithm& a,
                   const Halide::Target& target);

}  // namespace codegen
}  // namespace halogen

#endif  // HALOGEN_CODEGEN_SCHEDULES_DEPTHWISE_BACKPROP_FILTER_SCHEDULES_H_
