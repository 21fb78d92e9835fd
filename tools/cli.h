// The `halogen` command line, as a library so that tests can drive it in-process too.
// Conventions (SPEC.md section 3): `--flag value` or `--flag=value`; errors are one stderr line starting
// with "error:"; exit 2 for bad input, 1 for an internal failure, 0 for success.
#ifndef HALOGEN_TOOLS_CLI_H_
#define HALOGEN_TOOLS_CLI_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace halogen {
namespace cli {

constexpr int kExitOk = 0;
constexpr int kExitInternal = 1;
constexpr int kExitBadInput = 2;

// Parsed `--name value` pairs of one subcommand; rejects flags not in `known` and repeated flags.
class Flags {
 public:
  static absl::StatusOr<Flags> Parse(const std::vector<std::string>& args,
                                     const std::vector<std::string>& known);
  bool has(const std::string& name) const { return values_.contains(name); }
  const std::string& get(const std::string& name) const { return values_.at(name); }
  bool help() const { return help_; }

 private:
  absl::flat_hash_map<std::string, std::string> values_;
  bool help_ = false;
};

// Prints "error: <message>" and returns the exit code that the status's code calls for.
int ReportError(const absl::Status& status, std::ostream& err);

// `halogen <args...>`; args excludes the program name.
int Main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// Subcommands.
int RunOp(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int Bench(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int Aot(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace cli
}  // namespace halogen

#endif  // HALOGEN_TOOLS_CLI_H_
