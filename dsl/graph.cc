#include "halogen/dsl/graph.h"

#include "absl/strings/str_cat.h"

namespace halogen {

const std::string& Output::name() const {
  static const std::string* const kNone = new std::string("<invalid output>");
  return node_ != nullptr ? node_->name() : *kNone;
}

DataType Output::dtype() const { return node_ != nullptr ? node_->dtype() : DataType::kFloat; }

Input::Input(std::initializer_list<int32_t> int32_values) {
  absl::StatusOr<Tensor> tensor = Tensor::FromVector<int32_t>(
      absl::MakeConstSpan(int32_values.begin(), int32_values.size()),
      TensorShape({static_cast<int64_t>(int32_values.size())}));
  if (tensor.ok()) constant_ = *std::move(tensor);  // cannot fail: the count matches by construction
}

Node* Graph::AddNode(NodeDef def) {
  auto node = std::make_unique<Node>();
  node->id_ = num_nodes();
  node->def_ = std::move(def);
  nodes_.push_back(std::move(node));
  return nodes_.back().get();
}

std::string Graph::UniqueName(const std::string& name) {
  int& count = name_counts_[name];
  std::string unique = count == 0 ? name : absl::StrCat(name, "_", count);
  ++count;
  // "x_1" may itself have been taken by a user; keep counting until free.
  while (unique != name && name_counts_.contains(unique)) {
    unique = absl::StrCat(name, "_", count++);
  }
  if (unique != name) name_counts_[unique] = 1;
  return unique;
}

}  // namespace halogen
