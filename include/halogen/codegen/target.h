// Where a kernel runs.
#ifndef HALOGEN_CODEGEN_TARGET_H_
#define HALOGEN_CODEGEN_TARGET_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace halogen {

enum class Target {
  kHost,        // "host": the CPU, compiled for its own features
  kHostOpenCL,  // "host-opencl": GPU-style schedules through OpenCL (PoCL on a CPU-only machine)
  kHostCuda,    // "host-cuda": an NVIDIA GPU through CUDA
  kReference,   // "reference": the plain C++ kernels, float64 accumulation; the oracle
};

const char* TargetName(Target target);
// Errors name the value and list the valid ones.
absl::StatusOr<Target> ParseTarget(absl::string_view text);

}  // namespace halogen

#endif  // HALOGEN_CODEGEN_TARGET_H_
