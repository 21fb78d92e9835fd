// Runs one host kernel through a session and prints the kernel-cache counters and a checksum of the
// result, for tests/cache/disk_cache_test.sh to compare across processes.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "halogen/codegen/kernel_cache.h"
#include "halogen/dsl/ops/basic.h"
#include "halogen/dsl/ops/depthwise_conv2d_native_backprop_filter.h"
#include "halogen/runtime/client_session.h"

int main() {
  using namespace halogen;  // NOLINT
  std::vector<float> x(2 * 10 * 10 * 8), dy(2 * 10 * 10 * 8);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 7919) % 1000) / 1000.0f - 0.5f;
  for (size_t i = 0; i < dy.size(); ++i) dy[i] = static_cast<float>((i * 104729) % 1000) / 1000.0f - 0.5f;
  Scope scope = Scope::NewRootScope();
  auto dw = ops::DepthwiseConv2dNativeBackpropFilter(scope, ops::Const(scope, x, {2, 10, 10, 8}), {3, 3, 8, 1},
                                                     ops::Const(scope, dy, {2, 10, 10, 8}), {1, 1, 1, 1}, "SAME");
  std::vector<Tensor> outputs;
  if (absl::Status s = ClientSession(scope).Run({dw}, &outputs); !s.ok()) {
    std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
    return 1;
  }
  uint64_t checksum = 0xcbf29ce484222325ull;
  const auto* bytes = static_cast<const unsigned char*>(outputs[0].data());
  for (int64_t i = 0; i < outputs[0].TotalBytes(); ++i) checksum = (checksum ^ bytes[i]) * 0x100000001b3ull;
  const codegen::KernelCacheStats stats = codegen::GetKernelCacheStats();
  std::printf("halide_compiles=%lld disk_hits=%lld disk_writes=%lld disk_rejected=%lld checksum=%016llx\n",
              static_cast<long long>(stats.halide_compiles), static_cast<long long>(stats.disk_hits),
              static_cast<long long>(stats.disk_writes), static_cast<long long>(stats.disk_rejected),
              static_cast<unsigned long long>(checksum));
  return 0;
}
