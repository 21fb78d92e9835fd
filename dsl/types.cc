#include "halogen/dsl/types.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace halogen {

const char* DataTypeName(DataType dtype) {
  switch (dtype) {
    case DataType::kFloat: return "float";
    case DataType::kDouble: return "double";
    case DataType::kInt32: return "int32";
  }
  return "unknown";
}

int64_t DataTypeSize(DataType dtype) {
  switch (dtype) {
    case DataType::kFloat: return 4;
    case DataType::kDouble: return 8;
    case DataType::kInt32: return 4;
  }
  return 0;
}

absl::StatusOr<TensorShape> TensorShape::Make(absl::Span<const int64_t> dims) {
  TensorShape shape;
  int64_t count = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("Dimension ", i, " of shape [", absl::StrJoin(dims, ", "), "] is negative"));
    }
    if (dims[i] != 0 && count > std::numeric_limits<int64_t>::max() / dims[i]) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "shape [", absl::StrJoin(dims, ", "), "] has more elements than int64 can count"));
    }
    count *= dims[i];
  }
  shape.dims_.assign(dims.begin(), dims.end());
  shape.num_elements_ = count;
  return shape;
}

TensorShape::TensorShape(std::initializer_list<int64_t> dims) {
  absl::StatusOr<TensorShape> made = Make(absl::MakeConstSpan(dims.begin(), dims.size()));
  if (made.ok()) {
    *this = *std::move(made);
  } else {
    dims_ = {0};
    num_elements_ = 0;
  }
}

std::string TensorShape::DebugString() const {
  return absl::StrCat("[", absl::StrJoin(dims_, ", "), "]");
}

}  // namespace halogen
