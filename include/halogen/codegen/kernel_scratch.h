// The memory a generated kernel asks for while it runs (its per-image copies, its per-chunk sums), kept
// per thread between calls. Needs only HalideRuntime.h and the C++ standard library, so the JIT path and
// the wrappers of ahead-of-time kernels use the same allocator.
//
// Why: a kernel allocates its scratch inside its parallel loop and frees it at the end of each task,
// some of it a MiB or more per image (the 5x5 padded copies). glibc's malloc hands blocks that large back
// to the system and takes them again, so a part of every call's copies went to page faults and to zeroing
// fresh pages (28x28x240 5x5 at batch 32: about 190 faults and 10-15% of the call), and with
// M_MMAP_THRESHOLD or M_TRIM_THRESHOLD set alone every allocation faulted (4x slower). Each thread here
// keeps up to kScratchBlocksPerThread freed blocks, kScratchBytesPerThread bytes in all, for its next
// allocations; smaller blocks go straight to malloc, which already reuses them.
#ifndef HALOGEN_CODEGEN_KERNEL_SCRATCH_H_
#define HALOGEN_CODEGEN_KERNEL_SCRATCH_H_

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "HalideRuntime.h"

namespace halogen {

// Blocks of at least this many bytes are kept for reuse when freed.
inline constexpr size_t kScratchMinCachedBytes = size_t{64} << 10;
inline constexpr int kScratchBlocksPerThread = 8;
inline constexpr size_t kScratchBytesPerThread = size_t{64} << 20;

namespace kernel_scratch_internal {

// Halide's contract for halide_malloc: aligned to the widest vector, a size that is a multiple of that
// alignment, and 8 bytes readable before the start and past the end. Each block is aligned within what
// malloc returned, its size rounded up, the header below lies before it and one alignment unit after it.
inline constexpr size_t kAlignment = 128;

struct Header {
  void* base;       // what malloc returned
  size_t capacity;  // usable bytes from the aligned pointer
};

inline Header& HeaderOf(void* block) { return reinterpret_cast<Header*>(block)[-1]; }

struct Cache {
  void* blocks[kScratchBlocksPerThread] = {};
  size_t bytes = 0;
  int count = 0;
  ~Cache() {
    for (int i = 0; i < count; ++i) free(HeaderOf(blocks[i]).base);
  }
};

inline Cache& ThreadCache() {
  thread_local Cache cache;
  return cache;
}

}  // namespace kernel_scratch_internal

// Like malloc, with Halide's alignment; nullptr when the system has no memory.
inline void* ScratchAllocate(size_t bytes) {
  using namespace kernel_scratch_internal;
  const size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  if (rounded < bytes || rounded > SIZE_MAX - 3 * kAlignment) return nullptr;
  if (rounded >= kScratchMinCachedBytes) {
    // The smallest kept block that holds the request and is at most twice its size.
    Cache& cache = ThreadCache();
    int best = -1;
    for (int i = 0; i < cache.count; ++i) {
      const size_t capacity = HeaderOf(cache.blocks[i]).capacity;
      if (capacity >= rounded && capacity / 2 <= rounded &&
          (best < 0 || capacity < HeaderOf(cache.blocks[best]).capacity)) {
        best = i;
      }
    }
    if (best >= 0) {
      void* block = cache.blocks[best];
      cache.blocks[best] = cache.blocks[--cache.count];
      cache.bytes -= HeaderOf(block).capacity;
      return block;
    }
  }
  // Room for the header before the aligned pointer and one alignment unit past the block.
  void* base = malloc(rounded + 3 * kAlignment);
  if (base == nullptr) return nullptr;
  const uintptr_t first = reinterpret_cast<uintptr_t>(base) + sizeof(Header);
  void* block = reinterpret_cast<void*>((first + kAlignment - 1) / kAlignment * kAlignment);
  HeaderOf(block) = Header{base, rounded};
  return block;
}

// Frees what ScratchAllocate returned (nullptr is ignored); large blocks are kept for this thread.
inline void ScratchRelease(void* block) {
  using namespace kernel_scratch_internal;
  if (block == nullptr) return;
  const Header header = HeaderOf(block);
  Cache& cache = ThreadCache();
  if (header.capacity >= kScratchMinCachedBytes && cache.count < kScratchBlocksPerThread &&
      cache.bytes + header.capacity <= kScratchBytesPerThread) {
    cache.blocks[cache.count++] = block;
    cache.bytes += header.capacity;
    return;
  }
  free(header.base);
}

// The blocks and bytes this thread keeps for its next allocations.
inline int ScratchBlocksKept() { return kernel_scratch_internal::ThreadCache().count; }
inline size_t ScratchBytesKept() { return kernel_scratch_internal::ThreadCache().bytes; }

// The two with halide_malloc's and halide_free's signatures.
inline void* ScratchHalideMalloc(void* /*user_context*/, size_t bytes) { return ScratchAllocate(bytes); }
inline void ScratchHalideFree(void* /*user_context*/, void* block) { ScratchRelease(block); }

// For ahead-of-time kernels, whose Halide runtime is the program's own: makes it allocate through the
// blocks above. The JIT path does so by itself. Call it before the program's first Halide call, since a
// block must be freed by the allocator that made it; after it, halide_set_custom_malloc and
// halide_set_custom_free choose another pair again.
inline void UseScratchInHalideRuntime() {
  halide_set_custom_malloc(&ScratchHalideMalloc);
  halide_set_custom_free(&ScratchHalideFree);
}

}  // namespace halogen

#endif  // HALOGEN_CODEGEN_KERNEL_SCRATCH_H_
