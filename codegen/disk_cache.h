// The on-disk kernel cache: one file per key holding a compiled object, verified on every read.
//
// Entry file: the line "HALOGEN-KERNEL-CACHE 1", the key's length and bytes, the payload's length and its
// 64-bit FNV-1a checksum, then the payload. Files are written atomically (temporary + rename), so
// concurrent processes see an old entry, a new one or none, never a partial one; a file whose key,
// lengths or checksum do not match is removed and reported as DataLoss so the caller rebuilds it.
#ifndef HALOGEN_CODEGEN_DISK_CACHE_H_
#define HALOGEN_CODEGEN_DISK_CACHE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "halogen/codegen/kernel_cache.h"

namespace halogen {
namespace codegen {

// The file that holds `key` under `dir`.
std::string DiskCacheEntryPath(const std::string& dir, const std::string& key);

// NotFound when absent; DataLoss (after removing the file) when corrupt or written for another key.
absl::StatusOr<std::string> ReadDiskCacheEntry(const std::string& dir, const std::string& key);

// Writes the entry, then removes the oldest entries while the folder holds more than max_bytes.
absl::Status WriteDiskCacheEntry(const std::string& dir, const std::string& key, absl::string_view payload,
                                 int64_t max_bytes);

uint64_t Fnv1a64(absl::string_view bytes);

}  // namespace codegen
}  // namespace halogen

#endif  // HALOGEN_CODEGEN_DISK_CACHE_H_
