// How a DepthwiseConv2dNativeBackpropFilter kernel divides its work: the interior rows, the row chunks
// of its partial sums and its cache blocks. Plain C++ with no dependencies, because the JIT path and the
// wrappers of ahead-of-time kernels (which must build with nothing else) both use it. Every value is a
// function of the shape alone, which keeps results independent of the thread count.
#ifndef HALOGEN_CODEGEN_DEPTHWISE_WORK_SPLIT_H_
#define HALOGEN_CODEGEN_DEPTHWISE_WORK_SPLIT_H_

#include <stdint.h>

namespace halogen {
namespace work_split {

// The interior of one spatial dimension: the outputs o in [begin, begin + count) whose every tap reads
// inside the input: 0 <= o*stride - pad and o*stride - pad + (K-1)*dilation < in_size.
struct InteriorRange {
  int64_t begin;
  int64_t count;
};
inline InteriorRange InteriorOf(int64_t in_size, int64_t out_size, int64_t filter_size, int64_t stride,
                                int64_t dilation, int64_t pad_before) {
  int64_t begin = (pad_before + stride - 1) / stride;
  const int64_t last_start = in_size - 1 - (filter_size - 1) * dilation + pad_before;
  int64_t end = last_start < 0 ? 0 : last_start / stride + 1;
  if (end > out_size) end = out_size;
  if (begin > out_size) begin = out_size;
  return end <= begin ? InteriorRange{begin, 0} : InteriorRange{begin, end - begin};
}

// Rows (batch x interior rows) per partial sum: 16 chunks on a CPU, 256 on a GPU.
inline int32_t RowsPerChunk(bool gpu, int64_t total_rows) {
  const int64_t chunks = gpu ? 256 : 16;
  int64_t rows = (total_rows + chunks - 1) / chunks;
  if (rows < 1) rows = 1;
  return static_cast<int32_t>(rows > 0x7fffffff ? 0x7fffffff : rows);
}

// The number of chunks, at least 1 (a GPU runtime refuses zero-sized buffers).
inline int32_t ChunkCount(int64_t total_rows, int32_t rows_per_chunk) {
  const int64_t chunks = (total_rows + rows_per_chunk - 1) / rows_per_chunk;
  return static_cast<int32_t>(chunks < 1 ? 1 : chunks);
}

// Rows per cache block for a row of `row_bytes` (input plus out_backprop): about 256 KiB, half of a
// typical L2, leaving room for the accumulators.
inline int32_t BlockRows(int64_t row_bytes) {
  const int64_t block_bytes = 256 << 10;
  int64_t rows = block_bytes / (row_bytes > 0 ? row_bytes : 1);
  if (rows < 1) rows = 1;
  return static_cast<int32_t>(rows > 4096 ? 4096 : rows);
}

}  // namespace work_split
}  // namespace halogen

#endif  // HALOGEN_CODEGEN_DEPTHWISE_WORK_SPLIT_H_
