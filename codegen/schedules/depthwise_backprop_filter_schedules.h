// Schedules for DepthwiseConv2dNativeBackpropFilter, one per layout family and target family; their
// shape-dependent parameters come from depthwise_work_split.h. Every schedule is deterministic: each output
// element is summed in an order fixed by the shape alone (partial sums over fixed row chunks or vector
// lanes, combined in a fixed order), never by the thread count, and no schedule uses atomics.
#ifndef HALOGEN_CODEGEN_SCHEDULES_DEPTHWISE_BACKPROP_FILTER_SCHEDULES_H_
#define HALOGEN_CODEGEN_SCHEDULES_DEPTHWISE_BACKPROP_FILTER_SCHEDULES_H_

#include <cstdint>

#include "Halide.h"
#include "absl/status/status.h"
#include "codegen/depthwise_conv2d_native_backprop_filter_algorithm.h"
#include "halogen/codegen/depthwise_conv2d_native_backprop_filter.h"

namespace halogen {
namespace codegen {

// NHWC on a CPU. The rows are split into fixed chunks of whole images (or, for a small batch, bands of
// one image's rows), one parallel task each, combined in order. Inside a chunk, 3x3 and other filters
// sweep each row once with all of its channels and keep the accumulators in L1 (3x3 on shallow positions,
// or at stride 1 on deep ones: per two vectors of channels, in registers); 5x5 filters
// (stride 1 or 2) sum each row per (two vectors of channels, filter row), two columns per step, with the
// accumulators in registers (a depth of an odd number of vectors, or of half vectors: one vector or half
// vector, three columns). Stride-2 shapes that take the column-phase sums read each input row in memory
// order, two columns' channels at a time. 5x5 stride-1 shapes that take the padded-image sums copy each
// image once with zeros around it, then sweep the copy in registers with no masks, each block of one
// vector of channels over all of the chunk's rows, four columns per step.
void ScheduleCpuChannelTaps(DepthwiseBackpropFilterAlgorithm& a, const Halide::Target& target);

// NCHW on a CPU: one parallel task per block of output channels (a vector, at most 8), over the images in
// order. Each image's planes for those channels are copied channel-innermost into a buffer in L2 and swept
// like NHWC, with the 3x3 and 5x5 accumulators in registers (5x5 stride 1 on large planes: the padded-image
// sums, whose staged copy has zeros around the image, so that the sweep needs no masks). Shapes with small
// planes take the plane sums instead: one parallel task per block of 8 output channels sweeps each image's
// planes of those channels, in memory order, vectorised along the plane (stride 1) or along each output row
// (stride 2), with one accumulator vector per tap.
void ScheduleCpuChannelBlocks(DepthwiseBackpropFilterAlgorithm& a, const Halide::Target& target);

// Either layout on a GPU (CUDA, OpenCL): partial sums over row chunks, one thread per (channel, tap,
// chunk) summing its rows in order, then one thread per (channel, tap) adding the chunks in order.
void ScheduleGpuRowChunks(DepthwiseBackpropFilterAlgorithm& a, const Halide::Target& target);

// Either layout on a GPU: as gpu_row_chunks, but one row per chunk (the algorithm's flat rows), and one
// thread per (channel, row) holds all 3x3 or 5x5 taps in registers, so each input and gradient element is
// loaded once per thread instead of once per tap; with few rows of wide images, a thread takes 32-column
// segments of its row, and small work takes a thread per tap. The rows' sums are added in two
// register-held levels. NCHW is read in place from kGpuLaneColumnsMinWork on, a warp along a plane's
// columns; smaller NCHW work is first copied channel-innermost, so that a warp's loads are coalesced.
void ScheduleGpuRegisterTaps(DepthwiseBackpropFilterAlgorithm& a, const Halide::Target& target);

// The GPU schedules add their chunks' sums in this many interleaved groups. gpu_register_taps asks the
// algorithm for flat rows that are a multiple of it (one row per chunk), so that no level of its sums has a
// tail to test: Halide guards each load of a partial tail, and a guarded load is not issued before the
// previous one has returned, which made each level one load latency per sum.
inline constexpr int kGpuRowGroups = 32;

// gpu_register_taps sweeps NCHW tensors in place, a warp along a plane's columns, from this much work
// (out_backprop depth x flat rows; every MobileNetV2 layer at batch 32 has at least 114,688), and below it
// copies them channel-innermost first, which was as fast at batch 1 on an H100 (56x56x144, 9,216: 0.037 ms
// either way; 0.048-0.055 with fewer rows per thread in place) and keeps the small work's many threads.
inline constexpr int kGpuLaneColumnsMinWork = 65536;

// InvalidArgument for a GPU schedule on a CPU target or the reverse.
absl::Status CheckScheduleFitsTarget(DepthwiseBackpropFilterSchedule schedule, Target target);

// Applies `schedule` (the caller has checked that it fits the target).
void ApplySchedule(DepthwiseBackpropFilterSchedule schedule, DepthwiseBackpropFilterAlgorithm& a,
                   const Halide::Target& target);

// The algorithm as `schedule` needs it (cpu_channel_blocks adds the plane sums, cpu_channel_taps the
// column-phase sums), with `schedule` applied.
DepthwiseBackpropFilterAlgorithm DefineScheduled(DataType dtype, DataFormat format,
                                                 DepthwiseBackpropFilterSchedule schedule,
                                                 const Halide::Target& target);

}  // namespace codegen
}  // namespace halogen

#endif  // HALOGEN_CODEGEN_SCHEDULES_DEPTHWISE_BACKPROP_FILTER_SCHEDULES_H_
