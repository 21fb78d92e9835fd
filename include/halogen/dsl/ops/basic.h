// Graph inputs: Placeholder (fed at run time) and Const (a value fixed when the graph is built).
#ifndef HALOGEN_DSL_OPS_BASIC_H_
#define HALOGEN_DSL_OPS_BASIC_H_

#include <optional>
#include <vector>

#include "halogen/dsl/graph.h"
#include "halogen/dsl/scope.h"
#include "halogen/dsl/tensor.h"

namespace halogen {
namespace ops {

// A value fed by ClientSession::Run. With a Shape attr, the feed must have exactly that shape, and
// ops built on it can check their shapes when the graph is built.
class Placeholder {
 public:
  struct Attrs {
    Attrs Shape(const TensorShape& shape) const {
      Attrs copy = *this;
      copy.shape_ = shape;
      return copy;
    }
    std::optional<TensorShape> shape_;
  };
  static Attrs Shape(const TensorShape& shape) { return Attrs().Shape(shape); }

  Placeholder(const Scope& scope, DataType dtype, const Attrs& attrs = Attrs());
  operator Output() const { return output; }  // NOLINT
  Node* node() const { return output.node(); }

  Output output;
};

// A constant tensor.
Output Const(const Scope& scope, const Tensor& value);

template <typename T>
Output Const(const Scope& scope, const std::vector<T>& values, const TensorShape& shape) {
  absl::StatusOr<Tensor> tensor = Tensor::FromVector<T>(values, shape);
  if (!tensor.ok()) {
    scope.UpdateStatus(tensor.status());
    return Output();
  }
  return Const(scope, *tensor);
}

// The Output an Input stands for, adding a Const node when it holds a constant.
Output AsOutput(const Scope& scope, const Input& input);

}  // namespace ops
}  // namespace halogen

#endif  // HALOGEN_DSL_OPS_BASIC_H_
