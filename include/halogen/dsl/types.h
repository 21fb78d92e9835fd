// Element types and shapes: the vocabulary every other halogen header speaks.
#ifndef HALOGEN_DSL_TYPES_H_
#define HALOGEN_DSL_TYPES_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace halogen {

enum class DataType { kFloat, kDouble, kInt32 };

// "float", "double", "int32" — the names used in messages and on the command line.
const char* DataTypeName(DataType dtype);
// Bytes per element.
int64_t DataTypeSize(DataType dtype);

template <typename T> struct DataTypeOf;
template <> struct DataTypeOf<float> { static constexpr DataType value = DataType::kFloat; };
template <> struct DataTypeOf<double> { static constexpr DataType value = DataType::kDouble; };
template <> struct DataTypeOf<int32_t> { static constexpr DataType value = DataType::kInt32; };

// A tensor's dimensions. Every dimension is >= 0; the element count is checked against int64 overflow
// when the shape is made, so a TensorShape that exists always has a representable NumElements().
class TensorShape {
 public:
  TensorShape() = default;  // a scalar
  // Fails with InvalidArgument for a negative dimension, ResourceExhausted when the product overflows.
  static absl::StatusOr<TensorShape> Make(absl::Span<const int64_t> dims);
  // For literal shapes in code; a negative or overflowing literal is a programming error and is
  // clamped to an empty shape {0} so nothing downstream ever sees it (Make reports it properly).
  TensorShape(std::initializer_list<int64_t> dims);

  int dims() const { return static_cast<int>(dims_.size()); }
  int64_t dim_size(int i) const { return dims_[i]; }
  absl::Span<const int64_t> dim_sizes() const { return dims_; }
  int64_t num_elements() const { return num_elements_; }

  std::string DebugString() const;  // "[2, 3, 4]"
  bool operator==(const TensorShape& other) const { return dims_ == other.dims_; }
  bool operator!=(const TensorShape& other) const { return !(*this == other); }

 private:
  std::vector<int64_t> dims_;
  int64_t num_elements_ = 1;
};

}  // namespace halogen

#endif  // HALOGEN_DSL_TYPES_H_
