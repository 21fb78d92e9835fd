// libFuzzer target: the .npy reader. Any bytes give a tensor or an error, never a crash; a tensor it
// accepts survives an encode/decode round trip unchanged.
#include <cstdlib>
#include <cstring>

#include "halogen/runtime/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<halogen::Tensor> tensor = halogen::DecodeNpy(bytes, /*max_bytes=*/1 << 24);
  if (!tensor.ok()) return 0;
  absl::StatusOr<halogen::Tensor> again = halogen::DecodeNpy(halogen::EncodeNpy(*tensor));
  if (!again.ok() || again->dtype() != tensor->dtype() || again->shape() != tensor->shape() ||
      std::memcmp(again->data(), tensor->data(), static_cast<size_t>(tensor->TotalBytes())) != 0) {
    std::abort();
  }
  return 0;
}
