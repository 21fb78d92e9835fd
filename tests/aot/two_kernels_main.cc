// A CUDA kernel and a host kernel in one program with one runtime; on a GPU machine, their results agree.
#include <cmath>
#include <cstdio>
#include <vector>

#include "dw_cuda_halogen.h"
#include "dw_host_halogen.h"

int main() {
  halogen::DepthwiseShape s{4, 28, 28, 32, 1, 3, 3, 28, 28, 1, 1, 1, 1, 1, true};
  std::vector<float> x(4 * 28 * 28 * 32), dy(4 * 28 * 28 * 32), host(3 * 3 * 32), cuda(3 * 3 * 32);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float((i * 7919) % 1000) / 1000.0f - 0.5f;
  for (size_t i = 0; i < dy.size(); ++i) dy[i] = float((i * 104729) % 1000) / 1000.0f - 0.5f;
  if (halogen_aot::dw_host_run(x.data(), dy.data(), host.data(), s) != 0) return 1;
  if (int error = halogen_aot::dw_cuda_run(x.data(), dy.data(), cuda.data(), s); error != 0) {
    std::fprintf(stderr, "CUDA kernel failed: Halide error %d\n", error);
    return 1;
  }
  double worst = 0;
  for (size_t i = 0; i < host.size(); ++i) worst = std::fmax(worst, std::fabs(host[i] - cuda[i]) / (1 + std::fabs(host[i])));
  std::printf("CUDA vs host: max relative difference %.3g\n", worst);
  return worst < 1e-4 ? 0 : 1;
}
