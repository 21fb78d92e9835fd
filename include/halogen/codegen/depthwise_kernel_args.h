// The arguments of a generated DepthwiseConv2dNativeBackpropFilter kernel, laid out from plain pointers
// and sizes. Needs only HalideRuntime.h (a header), so the JIT path and the wrappers of ahead-of-time
// kernels, which build with neither Halide nor LLVM, fill them the same way.
#ifndef HALOGEN_CODEGEN_DEPTHWISE_KERNEL_ARGS_H_
#define HALOGEN_CODEGEN_DEPTHWISE_KERNEL_ARGS_H_

#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "HalideRuntime.h"
#include "halogen/codegen/depthwise_work_split.h"

namespace halogen {

// Sizes of one evaluation, as in SPEC.md; `nhwc` false means NCHW.
struct DepthwiseShape {
  int32_t batch, in_rows, in_cols, channels, multiplier;
  int32_t filter_rows, filter_cols, out_rows, out_cols;
  int32_t stride, dilation_rows, dilation_cols, pad_top, pad_left;
  bool nhwc;
};

struct DepthwiseKernelArgs {
  halide_dimension_t input_dims[4], out_backprop_dims[4], filter_grad_dims[3];
  halide_buffer_t input, out_backprop, filter_grad;
  // input and out_backprop again, as (value of an image, image) for NCHW kernels (a single value for NHWC,
  // whose kernels never read them).
  halide_dimension_t input_images_dims[2], out_backprop_images_dims[2];
  halide_buffer_t input_images, out_backprop_images;
  int32_t stride, dilation_rows, dilation_cols, pad_top, pad_left, multiplier;
  int32_t rows_per_chunk, chunks;
  // 0 lets a CPU kernel read padding as zeros (see CallDepthwiseKernel), 1 masks every padded tap.
  int32_t mask_padding;
  int32_t l1_data_bytes;  // the host's L1 data cache per core (HostL1DataBytes), which picks between CPU sweeps
  bool result_on_host;  // a CPU kernel writing to host memory: the result can be checked where it is
};

// A generated kernel's entry point, ahead-of-time or loaded from the JIT's object cache: the buffers and
// scalars of DepthwiseKernelArgs in the order CallDepthwiseKernel passes them.
using DepthwiseKernelFn = int (*)(halide_buffer_t* input, halide_buffer_t* out_backprop,
                                  halide_buffer_t* input_images, halide_buffer_t* out_backprop_images,
                                  int32_t stride, int32_t dilation_rows, int32_t dilation_cols, int32_t pad_top,
                                  int32_t pad_left, int32_t multiplier, int32_t rows_per_chunk, int32_t chunks,
                                  int32_t mask_padding, int32_t l1_data_bytes, halide_buffer_t* filter_grad);

namespace kernel_args_internal {
inline void Dense(halide_dimension_t* dims, int count, const int32_t* extents) {
  int32_t stride = 1;
  for (int i = 0; i < count; ++i) {
    dims[i].min = 0;
    dims[i].extent = extents[i];
    dims[i].stride = stride;
    dims[i].flags = 0;
    stride *= extents[i];
  }
}
inline int64_t Elements(const halide_buffer_t& b) {
  int64_t count = 1;
  for (int i = 0; i < b.dimensions; ++i) count *= b.dim[i].extent;
  return count;
}
// False if `b` (float or double, on the host) holds an Inf or a NaN: value * 0 is +-0 for every finite
// value and NaN otherwise. Eight independent sums, so that the compiler can keep them in one vector.
template <typename T>
bool AllFinite(const halide_buffer_t& b) {
  const T* values = reinterpret_cast<const T*>(b.host);
  const int64_t count = Elements(b);
  T sums[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= count; i += 8) {
    for (int j = 0; j < 8; ++j) sums[j] += values[i + j] * T(0);
  }
  for (; i < count; ++i) sums[0] += values[i] * T(0);
  T total = 0;
  for (int j = 0; j < 8; ++j) total += sums[j];
  return total == total;
}
// The L1 data cache of one core of this host, read once; 32 KiB where the system does not say.
inline int32_t HostL1DataBytes() {
  static const int32_t bytes = [] {
    long reported = -1;
#ifdef _SC_LEVEL1_DCACHE_SIZE
    reported = sysconf(_SC_LEVEL1_DCACHE_SIZE);
#endif
    return reported >= 4096 && reported <= (int32_t{1} << 30) ? static_cast<int32_t>(reported) : int32_t{32768};
  }();
  return bytes;
}
inline void Buffer(halide_buffer_t* b, void* data, halide_type_t type, halide_dimension_t* dims, int count) {
  *b = halide_buffer_t();
  b->host = static_cast<uint8_t*>(data);
  b->type = type;
  b->dimensions = count;
  b->dim = dims;
}
}  // namespace kernel_args_internal

// Halide lists dimensions innermost first; the data stays where the caller holds it. `args` must not move
// afterwards (the buffers point into it). `split` is the kernel's schedule's (work_split::RowSplit); a GPU
// split also marks the inputs as changed on the host, so the kernel copies them to the device.
template <typename T>
void FillDepthwiseKernelArgs(const DepthwiseShape& s, const T* input, const T* out_backprop, T* filter_grad,
                             work_split::RowSplit split, DepthwiseKernelArgs* args) {
  using kernel_args_internal::Buffer;
  using kernel_args_internal::Dense;
  const int32_t depth = s.channels * s.multiplier;
  const int32_t x_nhwc[4] = {s.channels, s.in_cols, s.in_rows, s.batch};
  const int32_t x_nchw[4] = {s.in_cols, s.in_rows, s.channels, s.batch};
  const int32_t dy_nhwc[4] = {depth, s.out_cols, s.out_rows, s.batch};
  const int32_t dy_nchw[4] = {s.out_cols, s.out_rows, depth, s.batch};
  const int32_t dw[3] = {depth, s.filter_cols, s.filter_rows};
  Dense(args->input_dims, 4, s.nhwc ? x_nhwc : x_nchw);
  Dense(args->out_backprop_dims, 4, s.nhwc ? dy_nhwc : dy_nchw);
  Dense(args->filter_grad_dims, 3, dw);
  const halide_type_t type(halide_type_float, sizeof(T) * 8);
  Buffer(&args->input, const_cast<T*>(input), type, args->input_dims, 4);
  Buffer(&args->out_backprop, const_cast<T*>(out_backprop), type, args->out_backprop_dims, 4);
  Buffer(&args->filter_grad, filter_grad, type, args->filter_grad_dims, 3);
  // An image of more than 2^31 - 1 values (which no plane sum would take) is cut short.
  const auto image = [&](int64_t values) {
    return static_cast<int32_t>(s.nhwc ? 1 : values > INT32_MAX ? INT32_MAX : values);
  };
  const int32_t x_images[2] = {image(static_cast<int64_t>(s.in_rows) * s.in_cols * s.channels), s.nhwc ? 1 : s.batch};
  const int32_t dy_images[2] = {image(static_cast<int64_t>(s.out_rows) * s.out_cols * depth), s.nhwc ? 1 : s.batch};
  Dense(args->input_images_dims, 2, x_images);
  Dense(args->out_backprop_images_dims, 2, dy_images);
  Buffer(&args->input_images, const_cast<T*>(input), type, args->input_images_dims, 2);
  Buffer(&args->out_backprop_images, const_cast<T*>(out_backprop), type, args->out_backprop_images_dims, 2);
  if (split != work_split::RowSplit::kCpuChunks) {
    args->input.flags |= halide_buffer_flag_host_dirty;
    args->out_backprop.flags |= halide_buffer_flag_host_dirty;
  }
  args->stride = s.stride;
  args->dilation_rows = s.dilation_rows;
  args->dilation_cols = s.dilation_cols;
  args->pad_top = s.pad_top;
  args->pad_left = s.pad_left;
  args->multiplier = s.multiplier;
  const int64_t total_rows = static_cast<int64_t>(s.batch) * s.out_rows;
  args->rows_per_chunk = work_split::RowsPerChunk(split, total_rows);
  args->chunks = work_split::ChunkCount(total_rows, args->rows_per_chunk);
  args->mask_padding = 0;
  args->l1_data_bytes = kernel_args_internal::HostL1DataBytes();
  args->result_on_host = split == work_split::RowSplit::kCpuChunks;
}

// Calls `kernel` (a generated function or a JIT callable wrapper) with the arguments in the generated
// kernels' order. An empty input or out_backprop makes the whole gradient zero; the kernel, whose padding
// rows read the nearest input row, needs at least one row, so it is not called then.
//
// A CPU kernel is first called with mask_padding 0, which lets it multiply out_backprop by zeros standing
// for the padding (or, in NCHW, for the values past a plane's end that round it up to whole vectors):
// exact, except that an Inf or NaN in out_backprop next to the padding (or at the start of the next
// channel's plane) turns a padded tap into NaN where nothing should have been added. Any such result
// holds a NaN, so a result with an Inf or NaN anywhere is computed again with every padded tap masked
// (twice the time, for such results only; the check reads the result once, FH * FW * C * M values).
template <typename Kernel>
int CallDepthwiseKernel(Kernel&& kernel, DepthwiseKernelArgs& a) {
  using kernel_args_internal::AllFinite;
  using kernel_args_internal::Elements;
  if (Elements(a.input) == 0 || Elements(a.out_backprop) == 0) {
    memset(a.filter_grad.host, 0, static_cast<size_t>(Elements(a.filter_grad)) * a.filter_grad.type.bytes());
    return 0;
  }
  const auto call = [&] {
    return kernel(&a.input, &a.out_backprop, &a.input_images, &a.out_backprop_images, a.stride, a.dilation_rows,
                  a.dilation_cols, a.pad_top, a.pad_left, a.multiplier, a.rows_per_chunk, a.chunks, a.mask_padding,
                  a.l1_data_bytes, &a.filter_grad);
  };
  int result = call();
  if (result == 0 && a.result_on_host && a.filter_grad.host != nullptr && a.mask_padding == 0) {
    const bool finite =
        a.filter_grad.type.bits == 64 ? AllFinite<double>(a.filter_grad) : AllFinite<float>(a.filter_grad);
    if (!finite) {
      a.mask_padding = 1;
      result = call();
    }
  }
  return result;
}

}  // namespace halogen

#endif  // HALOGEN_CODEGEN_DEPTHWISE_KERNEL_ARGS_H_
