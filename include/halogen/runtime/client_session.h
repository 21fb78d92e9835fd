// ClientSession: runs a graph built with a Scope, as TensorFlow's ClientSession does.
//
//   ClientSession session(scope);
//   std::vector<Tensor> outputs;
//   absl::Status status = session.Run({{x, x_value}}, {dw}, &outputs);
#ifndef HALOGEN_RUNTIME_CLIENT_SESSION_H_
#define HALOGEN_RUNTIME_CLIENT_SESSION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "halogen/dsl/graph.h"
#include "halogen/dsl/scope.h"
#include "halogen/dsl/tensor.h"
#include "halogen/codegen/target.h"

namespace halogen {

struct SessionOptions {
  // Where kernels run; see target.h.
  Target target = Target::kHost;
  // Threads for a kernel, the caller's included; 0 = HL_NUM_THREADS if set, else one per core.
  int num_threads = 0;
  // No single run allocates more than this for its outputs and scratch; past it Run returns
  // ResourceExhausted before allocating. The default is half of the machine's physical memory.
  int64_t memory_cap_bytes = DefaultMemoryCapBytes();
  // Log which kernel ran on which target (also on when HALOGEN_VERBOSE=1).
  bool verbose = false;
  // A schedule name (codegen/depthwise_conv2d_native_backprop_filter.h) to use instead of the policy's
  // choice; empty: the policy decides.
  std::string schedule;

  static int64_t DefaultMemoryCapBytes();
};

class ClientSession {
 public:
  using FeedType = absl::flat_hash_map<Output, Tensor>;

  explicit ClientSession(const Scope& scope, const SessionOptions& options = SessionOptions());
  ~ClientSession();

  // Evaluates `fetch_outputs`, feeding each Placeholder from `inputs`. On success `outputs` holds one
  // tensor per fetch; on error it is left untouched. Errors: the scope's first build error, a missing or
  // mistyped feed, any op's run-time validation (InvalidArgument), the memory cap (ResourceExhausted).
  absl::Status Run(const FeedType& inputs, const std::vector<Output>& fetch_outputs,
                   std::vector<Tensor>* outputs) const;
  absl::Status Run(const std::vector<Output>& fetch_outputs, std::vector<Tensor>* outputs) const {
    return Run(FeedType(), fetch_outputs, outputs);
  }

  const SessionOptions& options() const { return options_; }

 private:
  Scope scope_;
  SessionOptions options_;
};

}  // namespace halogen

#endif  // HALOGEN_RUNTIME_CLIENT_SESSION_H_
