// The graph: nodes that produce tensors, and the handles (Output, Input) that connect them.
// Users rarely touch Graph or Node directly: Scope and the ops/ builders create them.
#ifndef HALOGEN_DSL_GRAPH_H_
#define HALOGEN_DSL_GRAPH_H_

#include <any>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "halogen/dsl/tensor.h"
#include "halogen/dsl/types.h"

namespace halogen {

class Node;

// One output of a node: what a later node consumes and what a session fetches.
class Output {
 public:
  Output() = default;
  Output(Node* node, int index = 0) : node_(node), index_(index) {}  // NOLINT: implicit, as in TF

  Node* node() const { return node_; }
  int index() const { return index_; }
  const std::string& name() const;  // the node's name
  DataType dtype() const;
  bool valid() const { return node_ != nullptr; }

  bool operator==(const Output& other) const {
    return node_ == other.node_ && index_ == other.index_;
  }
  template <typename H> friend H AbslHashValue(H h, const Output& o) {
    return H::combine(std::move(h), o.node_, o.index_);
  }

 private:
  Node* node_ = nullptr;
  int index_ = 0;
};

// What an op builder accepts as an operand: another node's Output, or a constant that the builder
// turns into a Const node (a Tensor, or an int32 list such as filter_sizes {3, 3, 32, 1}).
class Input {
 public:
  Input(Output output) : output_(output) {}                        // NOLINT
  template <typename OpT, typename = decltype(std::declval<OpT>().output)>
  Input(const OpT& op) : output_(op.output) {}                     // NOLINT: any op with .output
  Input(Tensor constant) : constant_(std::move(constant)) {}       // NOLINT
  Input(std::initializer_list<int32_t> int32_values);              // NOLINT: a 1-D int32 constant

  const Output& output() const { return output_; }
  const std::optional<Tensor>& constant() const { return constant_; }

 private:
  Output output_;
  std::optional<Tensor> constant_;
};

// Everything one node needs to be added to a graph.
struct NodeDef {
  std::string name;
  std::string op;
  std::vector<Output> inputs;
  DataType dtype = DataType::kFloat;
  std::optional<TensorShape> shape;  // the output shape, when build-time inference could decide it
  std::any attrs;                    // the op's own attribute struct; read it with std::any_cast
  std::optional<Tensor> value;       // the value of a Const node
};

// A node: an op name, its operands, its attributes (an op-specific struct) and what shape inference
// learnt about its single output.
class Node {
 public:
  int id() const { return id_; }
  const std::string& name() const { return def_.name; }
  const std::string& op() const { return def_.op; }
  const std::vector<Output>& inputs() const { return def_.inputs; }
  DataType dtype() const { return def_.dtype; }
  const std::optional<TensorShape>& shape() const { return def_.shape; }
  // The op's attributes; each op defines its own struct (e.g. DepthwiseConv2dNativeBackpropFilter's
  // validated parameters). Read it with std::any_cast.
  const std::any& attrs() const { return def_.attrs; }
  const std::optional<Tensor>& value() const { return def_.value; }

 private:
  friend class Graph;
  int id_ = 0;
  NodeDef def_;
};

// Owns the nodes. Nodes are only appended, so ids are a topological order and Node pointers stay valid
// for the graph's lifetime.
class Graph {
 public:
  Node* AddNode(NodeDef def);
  int num_nodes() const { return static_cast<int>(nodes_.size()); }
  Node* node(int id) const { return nodes_[id].get(); }
  // "name" if unused, else "name_1", "name_2", ... (TensorFlow's rule).
  std::string UniqueName(const std::string& name);

 private:
  std::vector<std::unique_ptr<Node>> nodes_;
  absl::flat_hash_map<std::string, int> name_counts_;
};

}  // namespace halogen

#endif  // HALOGEN_DSL_GRAPH_H_
