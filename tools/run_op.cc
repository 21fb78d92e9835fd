// halogen run-op: one op on .npy files, its flags named after the block's pins.
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "halogen/dsl/block.h"
#include "halogen/dsl/ops/basic.h"
#include "halogen/runtime/client_session.h"
#include "halogen/runtime/npy.h"
#include "tools/cli.h"

namespace halogen {
namespace cli {
namespace {

constexpr char kUsage[] = R"(usage: halogen run-op DepthwiseConv2dNativeBackpropFilter \
           --input X.npy --filter_sizes 3,3,32,1 --out_backprop DY.npy \
           --strides 1,2,2,1 --padding SAME [--attrs "data_format_ = NHWC;"] \
           --output DW.npy [--target host|host-opencl|host-cuda|reference] [--threads N]

Computes the filter gradient of a depthwise 2-D convolution and writes it as .npy [FH, FW, C, M].
Flags are the block's pins and take the block's text:
  --input         .npy, float32 or float64, NHWC [N,H,W,C] or NCHW [N,C,H,W]
  --filter_sizes  FH,FW,C,M as a list ("3,3,32,1", "[3, 3, 32, 1]") or an int32 .npy
  --out_backprop  .npy, the same dtype as --input
  --strides       4 ints in data_format order, e.g. 1,2,2,1
  --padding       SAME, VALID or EXPLICIT
  --attrs         "data_format_ = NHWC; dilations_ = 1,1,1,1; explicit_paddings_ = [...];"
  --output        the .npy to write (written whole or not at all)
  --target        where to run (default host)
  --threads       worker threads (default: one per core)
)";

absl::StatusOr<Tensor> FilterSizesFromFlag(const std::string& text, int64_t cap) {
  if (absl::EndsWith(text, ".npy")) return ReadNpyFile(text, cap);
  absl::StatusOr<std::vector<int>> values = ParseIntListPin("filter_sizes", text);
  if (!values.ok()) return values.status();
  return Tensor::FromVector<int32_t>(std::vector<int32_t>(values->begin(), values->end()),
                                     TensorShape({static_cast<int64_t>(values->size())}));
}

absl::Status RunDepthwiseBackpropFilter(const Flags& flags, std::ostream& out) {
  for (const char* required : {"input", "filter_sizes", "out_backprop", "strides", "padding", "output"}) {
    if (!flags.has(required)) return absl::InvalidArgumentError(absl::StrCat("missing --", required));
  }
  SessionOptions options;
  if (flags.has("target")) {
    absl::StatusOr<Target> target = ParseTarget(flags.get("target"));
    if (!target.ok()) return target.status();
    options.target = *target;
  }
  if (flags.has("threads")) {
    int threads = 0;
    if (!absl::SimpleAtoi(flags.get("threads"), &threads) || threads < 1 || threads > 1024) {
      return absl::InvalidArgumentError(
          absl::StrCat("--threads must be an integer from 1 to 1024, got '", flags.get("threads"), "'"));
    }
    options.num_threads = threads;
  }
  const int64_t cap = options.memory_cap_bytes;
  absl::StatusOr<Tensor> input = ReadNpyFile(flags.get("input"), cap);
  if (!input.ok()) return input.status();
  absl::StatusOr<Tensor> out_backprop = ReadNpyFile(flags.get("out_backprop"), cap);
  if (!out_backprop.ok()) return out_backprop.status();
  absl::StatusOr<Tensor> filter_sizes = FilterSizesFromFlag(flags.get("filter_sizes"), cap);
  if (!filter_sizes.ok()) return filter_sizes.status();

  Scope scope = Scope::NewRootScope();
  ops::DepthwiseConv2dNativeBackpropFilterBlock block;
  block.block_id = "run-op";
  block.input = ops::Const(scope.WithOpName("input"), *input);
  block.filter_sizes = ops::Const(scope.WithOpName("filter_sizes"), *filter_sizes);
  block.out_backprop = ops::Const(scope.WithOpName("out_backprop"), *out_backprop);
  block.strides = flags.get("strides");
  block.padding = flags.get("padding");
  block.attrs = flags.has("attrs") ? flags.get("attrs") : "";
  absl::StatusOr<Output> result = ops::FromBlock(scope, block);
  if (!result.ok()) return result.status();

  ClientSession session(scope, options);
  std::vector<Tensor> outputs;
  if (absl::Status s = session.Run({*result}, &outputs); !s.ok()) return s;
  if (absl::Status s = WriteNpyFile(flags.get("output"), outputs[0]); !s.ok()) return s;
  out << "wrote " << flags.get("output") << ": " << DataTypeName(outputs[0].dtype()) << " "
      << outputs[0].shape().DebugString() << "\n";
  return absl::OkStatus();
}

}  // namespace

int RunOp(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    (args.empty() ? err : out) << kUsage;
    return args.empty() ? kExitBadInput : kExitOk;
  }
  const std::string& op = args[0];
  absl::StatusOr<Flags> flags =
      Flags::Parse(std::vector<std::string>(args.begin() + 1, args.end()),
                   {"input", "filter_sizes", "out_backprop", "strides", "padding", "attrs", "output",
                    "target", "threads"});
  if (!flags.ok()) return ReportError(flags.status(), err);
  if (flags->help()) {
    out << kUsage;
    return kExitOk;
  }
  if (op != "DepthwiseConv2dNativeBackpropFilter") {
    return ReportError(absl::InvalidArgumentError(absl::StrCat(
                           "unknown op '", op, "' (run-op knows DepthwiseConv2dNativeBackpropFilter)")),
                       err);
  }
  if (absl::Status s = RunDepthwiseBackpropFilter(*flags, out); !s.ok()) return ReportError(s, err);
  return kExitOk;
}

}  // namespace cli
}  // namespace halogen
