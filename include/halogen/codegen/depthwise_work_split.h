// How a DepthwiseConv2dNativeBackpropFilter kernel divides its work: the row chunks of its partial sums.
// Plain C++ with no dependencies, because the JIT path and the wrappers of ahead-of-time kernels (which
// must build with nothing else) both use it. Every value is a function of the shape alone, which keeps
// results independent of the thread count.
#ifndef HALOGEN_CODEGEN_DEPTHWISE_WORK_SPLIT_H_
#define HALOGEN_CODEGEN_DEPTHWISE_WORK_SPLIT_H_

#include <stdint.h>

namespace halogen {
namespace work_split {

// How a schedule divides the rows among its partial sums; each generated kernel is compiled for one.
enum class RowSplit : int32_t {
  kCpuChunks,  // the CPU schedules: at most 16 chunks, a power of two in number
  kGpuChunks,  // gpu_row_chunks: 256 chunks, each thread adding its tap over a chunk's rows in order
  kGpuRows,    // gpu_register_taps: one row per chunk (its kernels are built for it and ignore the argument)
};

// Rows (batch x output rows) per partial sum. A CPU has at most 16 chunks, each of at least 8 rows (or all of
// them): a band of a small batch's image reads FH - stride rows beyond its own, so one-row bands of a 5x5
// filter would read the input five times (14x14x672 at batch 1: 0.47 -> 0.37 ms). gpu_register_taps takes
// one row per chunk: its threads need the parallelism, and the chunks' sums are added in two short levels.
// The CPU's rows are then spread evenly over that many chunks: a 14-row image at batch 1 is two chunks of 7
// rather than 8 and 6, which two threads finish together (14x14x576 at two threads 0.086-0.112 -> 0.079-0.083
// ms, 14x14x672 5x5 0.18-0.20 -> 0.17). Before that spread, a count above two is rounded down to a power of
// two, so that any power-of-two team splits the chunks evenly: a 56-row image at batch 1 had been 7 chunks of
// 8 rows, four for one thread and three for the other, and is now 4 of 14 (ahead-of-time builds alternated
// call by call, two threads, hot: 56x56x144 0.095 -> 0.084 ms, multiplier 2 0.166 -> 0.144, 5x5 0.213 ->
// 0.196; one thread unchanged; cold 0.57 -> 0.48).
// On an H200 one row was the fastest of 1, 2, 4, 16 and 64 on 19 of bench/shapes.txt's 30 layer/layout
// pairs and within 9% on the others (so its kernels now take one row per chunk by construction, which lets
// its sums run with no tail tests); 256 chunks was up to 7.6x slower (112x112x32). gpu_row_chunks, whose
// final sum is one chain over the chunks, keeps 256 (112x112x32: 0.26 ms; one row per chunk 1.40 ms).
inline int32_t RowsPerChunk(RowSplit split, int64_t total_rows) {
  if (split == RowSplit::kGpuRows) return 1;
  const int64_t chunks = split == RowSplit::kGpuChunks ? 256 : 16;
  const int64_t min_rows = split == RowSplit::kCpuChunks ? (total_rows < 8 ? total_rows : 8) : 1;
  int64_t rows = (total_rows + chunks - 1) / chunks;
  if (rows < min_rows) rows = min_rows;
  if (rows < 1) rows = 1;
  if (split == RowSplit::kCpuChunks && total_rows > 0) {
    int64_t chunk_count = (total_rows + rows - 1) / rows;
    if (chunk_count > 2) {
      int64_t power = 2;
      while (power * 2 <= chunk_count) power *= 2;
      chunk_count = power;
    }
    rows = (total_rows + chunk_count - 1) / chunk_count;
  }
  return static_cast<int32_t>(rows > 0x7fffffff ? 0x7fffffff : rows);
}

// The number of chunks, at least 1 (a GPU runtime refuses zero-sized buffers).
inline int32_t ChunkCount(int64_t total_rows, int32_t rows_per_chunk) {
  const int64_t chunks = (total_rows + rows_per_chunk - 1) / rows_per_chunk;
  return static_cast<int32_t>(chunks < 1 ? 1 : chunks);
}

}  // namespace work_split
}  // namespace halogen

#endif  // HALOGEN_CODEGEN_DEPTHWISE_WORK_SPLIT_H_
