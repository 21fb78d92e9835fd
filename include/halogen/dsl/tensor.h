// Tensor: an owning, 64-byte-aligned, typed n-dimensional array. Copies share the buffer (as in
// TensorFlow).
#ifndef HALOGEN_DSL_TENSOR_H_
#define HALOGEN_DSL_TENSOR_H_

#include <cassert>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "halogen/dsl/types.h"

namespace halogen {

class Tensor {
 public:
  static constexpr int64_t kAlignment = 64;

  Tensor() = default;  // an empty float scalar-less placeholder: dtype float, shape [0]

  // Zero-filled tensor. ResourceExhausted when the byte size overflows or the allocation fails,
  // or when it exceeds max_bytes (the session's memory cap passes through here).
  static absl::StatusOr<Tensor> Zeros(DataType dtype, const TensorShape& shape,
                                      int64_t max_bytes = INT64_MAX);

  // A tensor holding `values` (a vector, array or braced list) with `shape`; the counts must agree.
  template <typename T>
  static absl::StatusOr<Tensor> FromVector(absl::Span<const T> values, const TensorShape& shape);

  DataType dtype() const { return dtype_; }
  const TensorShape& shape() const { return shape_; }
  int dims() const { return shape_.dims(); }
  int64_t dim_size(int i) const { return shape_.dim_size(i); }
  int64_t NumElements() const { return shape_.num_elements(); }
  int64_t TotalBytes() const { return NumElements() * DataTypeSize(dtype_); }

  // Typed views of the elements in row-major order. T must match dtype() (asserted in debug builds;
  // every halogen entry point checks dtypes before it gets here).
  template <typename T> absl::Span<T> flat() {
    assert(DataTypeOf<T>::value == dtype_);
    return absl::Span<T>(static_cast<T*>(data()), static_cast<size_t>(NumElements()));
  }
  template <typename T> absl::Span<const T> flat() const {
    assert(DataTypeOf<T>::value == dtype_);
    return absl::Span<const T>(static_cast<const T*>(data()), static_cast<size_t>(NumElements()));
  }

  void* data() { return buffer_.get(); }
  const void* data() const { return buffer_.get(); }

  std::string DebugString(int max_values = 8) const;  // "float [2, 3] {0.5, 1, ...}"

 private:
  Tensor(DataType dtype, TensorShape shape, std::shared_ptr<void> buffer)
      : dtype_(dtype), shape_(std::move(shape)), buffer_(std::move(buffer)) {}

  DataType dtype_ = DataType::kFloat;
  TensorShape shape_{0};
  std::shared_ptr<void> buffer_;
};

template <typename T>
absl::StatusOr<Tensor> Tensor::FromVector(absl::Span<const T> values, const TensorShape& shape) {
  if (static_cast<int64_t>(values.size()) != shape.num_elements()) {
    return absl::InvalidArgumentError("Tensor::FromVector: " + std::to_string(values.size()) +
                                      " values do not fill shape " + shape.DebugString());
  }
  absl::StatusOr<Tensor> tensor = Zeros(DataTypeOf<T>::value, shape);
  if (!tensor.ok()) return tensor.status();
  std::copy(values.begin(), values.end(), tensor->flat<T>().begin());
  return tensor;
}

}  // namespace halogen

#endif  // HALOGEN_DSL_TENSOR_H_
