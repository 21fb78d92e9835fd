// halogen targets as Halide targets, and the device checks that turn a missing GPU into a clear error.
#ifndef HALOGEN_CODEGEN_HALIDE_TARGET_H_
#define HALOGEN_CODEGEN_HALIDE_TARGET_H_

#include "Halide.h"
#include "absl/status/statusor.h"
#include "halogen/codegen/target.h"

namespace halogen {
namespace codegen {

// host: this CPU with all its features; host-opencl adds OpenCL (with doubles); host-cuda adds CUDA
// (PTX for compute capability 7.0, which later GPUs run too). large_buffers allows tensors over 2 GiB.
absl::StatusOr<Halide::Target> ToHalideTarget(Target target, bool large_buffers = false);

bool IsGpuTarget(Target target);

// OK when the target's device can run kernels here; FailedPrecondition naming what is missing otherwise.
absl::Status CheckDeviceAvailable(Target target);

}  // namespace codegen
}  // namespace halogen

#endif  // HALOGEN_CODEGEN_HALIDE_TARGET_H_
