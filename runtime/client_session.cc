#include "halogen/runtime/client_session.h"

#include <unistd.h>

#include <cstdlib>
#include <optional>

#include "absl/strings/str_cat.h"
#include "runtime/kernels/kernels.h"

namespace halogen {
namespace {

bool VerboseFromEnvironment() {
  const char* value = std::getenv("HALOGEN_VERBOSE");
  return value != nullptr && value[0] != '\0' && value[0] != '0';
}

absl::Status CheckFeed(const Node& placeholder, const Tensor& value) {
  if (value.dtype() != placeholder.dtype()) {
    return absl::InvalidArgumentError(absl::StrCat("feed for placeholder '", placeholder.name(), "' is ",
                                                   DataTypeName(value.dtype()), " but the placeholder is ",
                                                   DataTypeName(placeholder.dtype())));
  }
  if (placeholder.shape().has_value() && *placeholder.shape() != value.shape()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "feed for placeholder '", placeholder.name(), "' has shape ", value.shape().DebugString(),
        " but the placeholder's shape is ", placeholder.shape()->DebugString()));
  }
  return absl::OkStatus();
}

}  // namespace

int64_t SessionOptions::DefaultMemoryCapBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_size <= 0) return int64_t{4} << 30;
  return static_cast<int64_t>(pages) * page_size / 2;
}

ClientSession::ClientSession(const Scope& scope, const SessionOptions& options)
    : scope_(scope), options_(options) {}

ClientSession::~ClientSession() = default;

absl::Status ClientSession::Run(const FeedType& inputs, const std::vector<Output>& fetch_outputs,
                                std::vector<Tensor>* outputs) const {
  if (!scope_.ok()) return scope_.status();
  if (outputs == nullptr) return absl::InvalidArgumentError("ClientSession::Run: outputs is null");
  if (options_.num_threads < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("SessionOptions.num_threads must be >= 0, got ", options_.num_threads));
  }
  const Graph& graph = *scope_.graph();
  for (const auto& [output, value] : inputs) {
    if (!output.valid() || output.node()->id() >= graph.num_nodes() ||
        graph.node(output.node()->id()) != output.node()) {
      return absl::InvalidArgumentError("ClientSession::Run: a feed key is not a node of this session's graph");
    }
    if (output.node()->op() != "Placeholder") {
      return absl::InvalidArgumentError(
          absl::StrCat("ClientSession::Run: '", output.name(), "' is a ", output.node()->op(),
                       ", not a Placeholder, and cannot be fed"));
    }
    if (absl::Status s = CheckFeed(*output.node(), value); !s.ok()) return s;
  }

  // Mark what the fetches need; node ids are a topological order, so one backward sweep does it.
  std::vector<bool> needed(graph.num_nodes(), false);
  for (const Output& fetch : fetch_outputs) {
    if (!fetch.valid() || fetch.node()->id() >= graph.num_nodes() ||
        graph.node(fetch.node()->id()) != fetch.node()) {
      return absl::InvalidArgumentError("ClientSession::Run: a fetch is not a node of this session's graph");
    }
    needed[fetch.node()->id()] = true;
  }
  for (int id = graph.num_nodes() - 1; id >= 0; --id) {
    if (!needed[id]) continue;
    for (const Output& in : graph.node(id)->inputs()) needed[in.node()->id()] = true;
  }

  const KernelContext context{options_, options_.verbose || VerboseFromEnvironment()};
  std::vector<std::optional<Tensor>> values(graph.num_nodes());
  for (int id = 0; id < graph.num_nodes(); ++id) {
    if (!needed[id]) continue;
    const Node& node = *graph.node(id);
    if (node.op() == "Placeholder") {
      const auto fed = inputs.find(Output(graph.node(id)));
      if (fed == inputs.end()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "You must feed a value for placeholder tensor '", node.name(), "' with dtype ",
            DataTypeName(node.dtype())));
      }
      values[id] = fed->second;
      continue;
    }
    if (node.op() == "Const") {
      values[id] = node.value();
      continue;
    }
    const OpKernelFn kernel = FindOpKernel(node.op());
    if (kernel == nullptr) {
      return absl::UnimplementedError(absl::StrCat("no kernel for op '", node.op(), "' (node '", node.name(), "')"));
    }
    std::vector<const Tensor*> args;
    for (const Output& in : node.inputs()) args.push_back(&*values[in.node()->id()]);
    absl::StatusOr<Tensor> result = kernel(node, args, context);
    if (!result.ok()) return result.status();
    values[id] = *std::move(result);
  }

  std::vector<Tensor> fetched;
  fetched.reserve(fetch_outputs.size());
  for (const Output& fetch : fetch_outputs) fetched.push_back(*values[fetch.node()->id()]);
  *outputs = std::move(fetched);
  return absl::OkStatus();
}

}  // namespace halogen
