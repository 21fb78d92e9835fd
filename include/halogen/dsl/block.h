// The text pins of enuSpaceTensorflow's visual blocks: int lists such as "1,2,2,1" and attrs such as
// "data_format_ = NHWC;". Every error names the pin (and the block) it came from.
#ifndef HALOGEN_DSL_BLOCK_H_
#define HALOGEN_DSL_BLOCK_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "halogen/dsl/graph.h"
#include "halogen/dsl/scope.h"

namespace halogen {

// "1,2,2,1", "1;2;2;1", "[1, 2, 2, 1]" (spaces anywhere). Values must fit int32. An empty text (or
// "[]") is an empty list.
absl::StatusOr<std::vector<int>> ParseIntListPin(absl::string_view pin, absl::string_view text);

// "key = value; key2 = value2;" with the final ';' optional. Lists inside brackets may use ';'.
// Keys must be identifiers and appear once; values must be non-empty.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseAttrsPin(absl::string_view pin,
                                                                              absl::string_view text);

namespace ops {

// The DepthwiseConv2dNativeBackpropFilter block: three connected pins and three text pins.
struct DepthwiseConv2dNativeBackpropFilterBlock {
  std::string block_id;               // named in errors
  std::optional<Output> input;        // connected pins; unset = unconnected
  std::optional<Output> filter_sizes;
  std::optional<Output> out_backprop;
  std::string strides;                // e.g. "1,2,2,1"
  std::string padding;                // "SAME", "VALID" or "EXPLICIT"
  std::string attrs;                  // e.g. "data_format_ = NHWC; dilations_ = 1,1,1,1;"
};

// Builds the node from a block's pins (the block's `result_output` is what a session returns for it).
// Pin errors name the block and the pin; op errors are those of the op builder.
absl::StatusOr<Output> FromBlock(const Scope& scope, const DepthwiseConv2dNativeBackpropFilterBlock& block);

}  // namespace ops
}  // namespace halogen

#endif  // HALOGEN_DSL_BLOCK_H_
