#include "halogen/dsl/tensor.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace halogen {

absl::StatusOr<Tensor> Tensor::Zeros(DataType dtype, const TensorShape& shape, int64_t max_bytes) {
  const int64_t element_size = DataTypeSize(dtype);
  if (shape.num_elements() > INT64_MAX / element_size) {
    return absl::ResourceExhaustedError(
        absl::StrCat("tensor of shape ", shape.DebugString(), " has more bytes than int64 can count"));
  }
  const int64_t bytes = shape.num_elements() * element_size;
  if (bytes > max_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat("tensor of shape ", shape.DebugString(), " needs ",
                                                     bytes, " bytes, over the memory cap of ",
                                                     max_bytes, " bytes"));
  }
  // Never ask for more than the machine has: such a request can only fail, or succeed on paper and
  // fail later when the memory is touched.
  static const int64_t physical_bytes = [] {
    const long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
    return pages > 0 && page_size > 0 ? static_cast<int64_t>(pages) * page_size : INT64_MAX;
  }();
  if (bytes > physical_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat("tensor of shape ", shape.DebugString(), " needs ", bytes,
                                                     " bytes, more than this machine's ", physical_bytes,
                                                     " bytes of memory"));
  }
  // Round up so aligned_alloc's size rule holds; allocate at least one block so data() is never null.
  const int64_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void* raw = std::aligned_alloc(kAlignment, static_cast<size_t>(rounded > 0 ? rounded : kAlignment));
  if (raw == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("could not allocate ", bytes, " bytes for a tensor of shape ", shape.DebugString()));
  }
  std::memset(raw, 0, static_cast<size_t>(bytes));
  return Tensor(dtype, shape, std::shared_ptr<void>(raw, [](void* p) { std::free(p); }));
}

std::string Tensor::DebugString(int max_values) const {
  std::string out = absl::StrCat(DataTypeName(dtype_), " ", shape_.DebugString(), " {");
  const int64_t shown = std::min<int64_t>(NumElements(), max_values);
  for (int64_t i = 0; i < shown; ++i) {
    if (i > 0) absl::StrAppend(&out, ", ");
    switch (dtype_) {
      case DataType::kFloat: absl::StrAppend(&out, flat<float>()[i]); break;
      case DataType::kDouble: absl::StrAppend(&out, flat<double>()[i]); break;
      case DataType::kInt32: absl::StrAppend(&out, flat<int32_t>()[i]); break;
    }
  }
  if (NumElements() > shown) absl::StrAppend(&out, ", ...");
  absl::StrAppend(&out, "}");
  return out;
}

}  // namespace halogen
