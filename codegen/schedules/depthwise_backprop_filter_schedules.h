// Schedules for DepthwiseConv2dNativeBackpropFilter, one per layout family and target family, and the
// policy that picks one. Every schedule is deterministic: each output element is summed in an order
// fixed by the shape alone (partial sums over fixed row chunks, combined in chunk order), never by the
// thread count, and no schedule uses atomics.
#ifndef HALOGEN_CODEGEN_SCHEDULES_DEPTHWISE_BACKPROP_FILTER_SCHEDULES_H_
#define HALOGEN_CODEGEN_SCHEDULES_DEPTHWISE_BACKPROP_FILTER_SCHEDULES_H_

#include <cstdint>

#include "Halide.h"
#include "absl/status/statusor.h"
#include "codegen/depthwise_conv2d_native_backprop_filter_algorithm.h"
#include "halogen/codegen/depthwise_conv2d_native_backprop_filter.h"

namespace halogen {
namespace codegen {

// NHWC on a CPU: partial sums over fixed chunks of (batch, output row), one chunk per parallel task;
// inside a chunk every tap and all channels of a row are accumulated while the row is in cache,
// vectorised along channels.
void ScheduleCpuChannelRowChunks(DepthwiseBackpropFilterAlgorithm& a, const Halide::Target& target);

// NCHW on a CPU: one parallel task per output channel; the reduction along each row is vectorised by
// keeping one partial sum per vector lane, added up lane by lane at the end.
void ScheduleCpuWidthLanes(DepthwiseBackpropFilterAlgorithm& a, const Halide::Target& target);

// Either layout on a GPU (CUDA, OpenCL): partial sums over row chunks, one thread per (channel, tap,
// chunk) summing its chunk serially, then one thread per (channel, tap) adding the chunks in order.
void ScheduleGpuRowChunks(DepthwiseBackpropFilterAlgorithm& a, const Halide::Target& target);

// How many rows each chunk holds for a reduction of `total_rows` = N * OH rows under `schedule`: a
// function of the shape only.
int32_t RowsPerChunk(DepthwiseBackpropFilterSchedule schedule, int64_t total_rows);

}  // namespace codegen
}  // namespace halogen

#endif  // HALOGEN_CODEGEN_SCHEDULES_DEPTHWISE_BACKPROP_FILTER_SCHEDULES_H_
