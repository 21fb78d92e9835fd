#include "halogen/codegen/target.h"

#include "absl/strings/str_cat.h"

namespace halogen {

const char* TargetName(Target target) {
  switch (target) {
    case Target::kHost: return "host";
    case Target::kHostOpenCL: return "host-opencl";
    case Target::kHostCuda: return "host-cuda";
    case Target::kReference: return "reference";
  }
  return "?";
}

absl::StatusOr<Target> ParseTarget(absl::string_view text) {
  for (Target target : {Target::kHost, Target::kHostOpenCL, Target::kHostCuda, Target::kReference}) {
    if (text == TargetName(target)) return target;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown target '", text, "' (expected host, host-opencl, host-cuda or reference)"));
}

}  // namespace halogen
