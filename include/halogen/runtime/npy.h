// NumPy .npy files (format versions 1.0 and 2.0): little-endian float32, float64 and int32 in C order.
// Everything else (Fortran order, big-endian, other dtypes, truncated or oversized data, a malformed
// header) is an InvalidArgument error; nothing is allocated before the header has been checked.
#ifndef HALOGEN_RUNTIME_NPY_H_
#define HALOGEN_RUNTIME_NPY_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "halogen/dsl/tensor.h"

namespace halogen {

absl::StatusOr<Tensor> DecodeNpy(absl::string_view bytes, int64_t max_bytes = INT64_MAX);
std::string EncodeNpy(const Tensor& tensor);  // version 1.0

absl::StatusOr<Tensor> ReadNpyFile(const std::string& path, int64_t max_bytes = INT64_MAX);
// Writes to a temporary file beside `path`, then renames it over `path`: readers see the old file or
// the complete new one, never a partial one.
absl::Status WriteNpyFile(const std::string& path, const Tensor& tensor);

}  // namespace halogen

#endif  // HALOGEN_RUNTIME_NPY_H_
