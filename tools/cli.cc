#include "tools/cli.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace halogen {
namespace cli {
namespace {

constexpr char kUsage[] = R"(halogen — fast, validated kernels for neural-network graphs

usage: halogen <command> [flags]
       halogen --help | --version

commands:
  run-op    run one op on .npy files (halogen run-op --help)
  bench     time halogen against TensorFlow, oneDNN and the reference (halogen bench --help)
  aot       generate kernel libraries that embed without Halide or LLVM (halogen aot --help)

Each command takes --help. Errors print one line starting with "error:" and exit with
code 2 for bad input, 1 for an internal failure.
)";

}  // namespace

absl::StatusOr<Flags> Flags::Parse(const std::vector<std::string>& args, const std::vector<std::string>& known) {
  Flags flags;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      flags.help_ = true;
      continue;
    }
    if (!absl::StartsWith(arg, "--") || arg.size() == 2) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", arg, "'"));
    }
    std::string name = arg.substr(2);
    std::string value;
    if (const size_t equals = name.find('='); equals != std::string::npos) {
      value = name.substr(equals + 1);
      name.resize(equals);
    } else {
      if (i + 1 >= args.size()) return absl::InvalidArgumentError(absl::StrCat("flag --", name, " needs a value"));
      value = args[++i];
    }
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    if (!flags.values_.emplace(name, value).second) {
      return absl::InvalidArgumentError(absl::StrCat("flag --", name, " is given twice"));
    }
  }
  return flags;
}

int ReportError(const absl::Status& status, std::ostream& err) {
  err << "error: " << status.message() << "\n";
  switch (status.code()) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
      return kExitInternal;
    default:
      return kExitBadInput;
  }
}

int Main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    err << kUsage;
    return kExitBadInput;
  }
  const std::string& command = args[0];
  if (command == "--help" || command == "-h" || command == "help") {
    out << kUsage;
    return kExitOk;
  }
  if (command == "--version") {
    out << "halogen " << HALOGEN_VERSION << "\n";
    return kExitOk;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "run-op") return RunOp(rest, out, err);
  if (command == "bench") return Bench(rest, out, err);
  if (command == "aot") return Aot(rest, out, err);
  return ReportError(absl::InvalidArgumentError(absl::StrCat(
                         "unknown command '", command, "' (try halogen --help)")),
                     err);
}

}  // namespace cli
}  // namespace halogen
