#include "codegen/halide_target.h"

#include <dlfcn.h>

#include <mutex>

#include "absl/strings/str_cat.h"

namespace halogen {
namespace codegen {

absl::StatusOr<Halide::Target> ToHalideTarget(Target target, bool large_buffers) {
  Halide::Target t = Halide::get_host_target();
  if (large_buffers) t = t.with_feature(Halide::Target::LargeBuffers);
  switch (target) {
    case Target::kHost:
      return t;
    case Target::kHostOpenCL:
      return t.with_feature(Halide::Target::OpenCL).with_feature(Halide::Target::CLDoubles);
    case Target::kHostCuda:
      return t.with_feature(Halide::Target::CUDA).with_feature(Halide::Target::CUDACapability70);
    case Target::kReference:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("target ", TargetName(target), " is not a code-generation target"));
}

bool IsGpuTarget(Target target) { return target == Target::kHostOpenCL || target == Target::kHostCuda; }

namespace {

// Asks the CUDA driver directly, so the answer does not depend on Halide's runtime printing errors.
absl::Status CheckCudaDevice() {
  void* driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (driver == nullptr) {
    return absl::FailedPreconditionError(
        "target host-cuda needs an NVIDIA GPU and its driver, but the CUDA driver library libcuda.so.1 "
        "is not installed on this machine");
  }
  using InitFn = int (*)(unsigned);
  using CountFn = int (*)(int*);
  auto init = reinterpret_cast<InitFn>(dlsym(driver, "cuInit"));
  auto count = reinterpret_cast<CountFn>(dlsym(driver, "cuDeviceGetCount"));
  int devices = 0;
  if (init == nullptr || count == nullptr || init(0) != 0 || count(&devices) != 0 || devices == 0) {
    return absl::FailedPreconditionError(
        "target host-cuda needs an NVIDIA GPU, but the CUDA driver reports no usable device");
  }
  return absl::OkStatus();  // the library stays loaded: Halide's CUDA runtime uses it
}

absl::Status CheckOpenCLPlatform() {
  void* library = dlopen("libOpenCL.so.1", RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    return absl::FailedPreconditionError(
        "target host-opencl needs an OpenCL runtime, but libOpenCL.so.1 is not installed "
        "(Debian: ocl-icd-libopencl1 with pocl-opencl-icd)");
  }
  using PlatformsFn = int (*)(unsigned, void**, unsigned*);
  auto platforms = reinterpret_cast<PlatformsFn>(dlsym(library, "clGetPlatformIDs"));
  unsigned found = 0;
  if (platforms == nullptr || platforms(0, nullptr, &found) != 0 || found == 0) {
    return absl::FailedPreconditionError(
        "target host-opencl needs an OpenCL platform, but none is installed (Debian: pocl-opencl-icd)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckDeviceAvailable(Target target) {
  // The answers cannot change while the process runs; ask each driver once.
  static std::once_flag cuda_once, opencl_once;
  static absl::Status* cuda_status = nullptr;
  static absl::Status* opencl_status = nullptr;
  switch (target) {
    case Target::kHostCuda:
      std::call_once(cuda_once, [] { cuda_status = new absl::Status(CheckCudaDevice()); });
      return *cuda_status;
    case Target::kHostOpenCL:
      std::call_once(opencl_once, [] { opencl_status = new absl::Status(CheckOpenCLPlatform()); });
      return *opencl_status;
    default:
      return absl::OkStatus();
  }
}

}  // namespace codegen
}  // namespace halogen
