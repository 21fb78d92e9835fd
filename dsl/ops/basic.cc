#include "halogen/dsl/ops/basic.h"

namespace halogen {
namespace ops {

Placeholder::Placeholder(const Scope& scope, DataType dtype, const Attrs& attrs) {
  if (!scope.ok()) return;
  NodeDef def;
  def.name = scope.GetUniqueNameForOp("Placeholder");
  def.op = "Placeholder";
  def.dtype = dtype;
  def.shape = attrs.shape_;
  output = Output(scope.graph()->AddNode(std::move(def)));
}

Output Const(const Scope& scope, const Tensor& value) {
  if (!scope.ok()) return Output();
  NodeDef def;
  def.name = scope.GetUniqueNameForOp("Const");
  def.op = "Const";
  def.dtype = value.dtype();
  def.shape = value.shape();
  def.value = value;
  return Output(scope.graph()->AddNode(std::move(def)));
}

Output AsOutput(const Scope& scope, const Input& input) {
  if (input.constant().has_value()) return Const(scope, *input.constant());
  return input.output();
}

}  // namespace ops
}  // namespace halogen
