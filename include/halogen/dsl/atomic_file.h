// Whole-file reads and crash-safe writes.
#ifndef HALOGEN_DSL_ATOMIC_FILE_H_
#define HALOGEN_DSL_ATOMIC_FILE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace halogen {

// Writes `bytes` to a fresh temporary file in the directory of `path`, flushes it to disk and renames
// it over `path`. A crash at any point leaves either the old file or the new one, and at worst a
// temporary named "<path>.tmp.*" that no reader opens.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view bytes);

// Reads a whole file; fails with ResourceExhausted rather than reading more than max_bytes.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path, int64_t max_bytes = INT64_MAX);

}  // namespace halogen

#endif  // HALOGEN_DSL_ATOMIC_FILE_H_
