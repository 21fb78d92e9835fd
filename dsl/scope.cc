#include "halogen/dsl/scope.h"

#include "absl/strings/str_cat.h"

namespace halogen {

Scope Scope::NewRootScope() { return Scope(std::make_shared<Shared>()); }

Scope Scope::WithOpName(absl::string_view op_name) const {
  Scope copy = *this;
  copy.op_name_ = std::string(op_name);
  return copy;
}

Scope Scope::NewSubScope(absl::string_view child_scope_name) const {
  Scope copy = *this;
  copy.op_name_.clear();
  if (!child_scope_name.empty()) {
    copy.prefix_ = prefix_.empty() ? std::string(child_scope_name)
                                   : absl::StrCat(prefix_, "/", child_scope_name);
  }
  return copy;
}

void Scope::UpdateStatus(const absl::Status& status) const {
  if (shared_->status.ok() && !status.ok()) shared_->status = status;
}

std::shared_ptr<Graph> Scope::graph_as_shared_ptr() const {
  return std::shared_ptr<Graph>(shared_, &shared_->graph);
}

std::string Scope::GetUniqueNameForOp(absl::string_view default_name) const {
  const std::string base(op_name_.empty() ? default_name : op_name_);
  return graph()->UniqueName(prefix_.empty() ? base : absl::StrCat(prefix_, "/", base));
}

}  // namespace halogen
