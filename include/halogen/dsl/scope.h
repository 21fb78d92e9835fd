// Scope: where ops are built, as in TensorFlow's C++ API. A scope carries the graph, a name prefix and
// a status that the first failing op sets; once it is set, later ops in any scope of the same graph
// build nothing and the error is reported by scope.status() and by ClientSession.
#ifndef HALOGEN_DSL_SCOPE_H_
#define HALOGEN_DSL_SCOPE_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "halogen/dsl/graph.h"

namespace halogen {

class Scope {
 public:
  static Scope NewRootScope();

  // The next op built with the returned scope gets this name (made unique if taken).
  Scope WithOpName(absl::string_view op_name) const;
  // Ops built with the returned scope are named "<prefix>/<child>/<op>".
  Scope NewSubScope(absl::string_view child_scope_name) const;

  bool ok() const { return shared_->status.ok(); }
  absl::Status status() const { return shared_->status; }
  // Records `status` unless an error is already recorded: the first error sticks.
  void UpdateStatus(const absl::Status& status) const;

  Graph* graph() const { return &shared_->graph; }
  std::shared_ptr<Graph> graph_as_shared_ptr() const;

  // The unique name for an op built in this scope: the WithOpName name, or `default_name`.
  std::string GetUniqueNameForOp(absl::string_view default_name) const;

 private:
  struct Shared {
    Graph graph;
    absl::Status status;
  };
  explicit Scope(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}

  std::shared_ptr<Shared> shared_;
  std::string prefix_;   // "a/b" for nested sub-scopes
  std::string op_name_;  // from WithOpName
};

}  // namespace halogen

#endif  // HALOGEN_DSL_SCOPE_H_
