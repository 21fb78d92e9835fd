// Runs two ahead-of-time kernels (float NHWC, double NCHW) and checks each against the definition
// evaluated in plain loops (depthwise_definition.h). With a folder argument it also writes the float case's inputs and
// result as .npy, so they can be compared with `halogen run-op` (the JIT path).
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "depthwise_definition.h"
#include "dw_double_nchw_halogen.h"
#include "dw_float_nhwc_halogen.h"
#include "halogen/codegen/kernel_scratch.h"
#include "halogen/codegen/kernel_threads.h"

namespace {

template <typename T>
void Fill(std::vector<T>& v, unsigned seed) {
  for (size_t i = 0; i < v.size(); ++i) v[i] = T(((i * 2654435761u + seed) % 2001) / 1000.0 - 1.0);
}

void WriteNpy(const std::string& path, const char* descr, const std::vector<int>& shape, const void* data,
              size_t bytes) {
  std::string dims;
  for (int d : shape) dims += std::to_string(d) + ", ";
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  header.append(63 - (10 + header.size()) % 64, ' ');
  header += '\n';
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return;
  const unsigned short len = static_cast<unsigned short>(header.size());
  std::fwrite("\x93NUMPY\x01\x00", 1, 8, f);
  std::fwrite(&len, 2, 1, f);
  std::fwrite(header.data(), 1, header.size(), f);
  std::fwrite(data, 1, bytes, f);
  std::fclose(f);
}

template <typename T>
double MaxRelativeError(const std::vector<T>& got, const std::vector<double>& want) {
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    worst = std::fmax(worst, std::fabs(double(got[i]) - want[i]) / (1.0 + std::fabs(want[i])));
  }
  return worst;
}

}  // namespace

int main(int argc, char** argv) {
  // Before any Halide call: the kernels' scratch (per-image copies, per-chunk sums) then comes from blocks
  // kept per thread between calls instead of from malloc each time (see kernel_scratch.h).
  halogen::UseScratchInHalideRuntime();
  // Parallel loops on halogen's pool: each thread starts on the same share of a call's chunks every call,
  // so that it finds its rows in its own core's cache (see kernel_threads.h).
  halogen::UseKernelThreadsInHalideRuntime();
  // 2 x 9 x 11 x 24 input, 3x3 filter, stride 2, SAME: 5 x 6 outputs, pads 1 (top) and 1 (left).
  halogen::DepthwiseShape nhwc{2, 9, 11, 24, 1, 3, 3, 5, 6, 2, 1, 1, 1, 1, true};
  std::vector<float> x(2 * 9 * 11 * 24), dy(2 * 5 * 6 * 24), dw(3 * 3 * 24);
  Fill(x, 1);
  Fill(dy, 2);
  if (int error = halogen_aot::dw_float_nhwc_run(x.data(), dy.data(), dw.data(), nhwc); error != 0) {
    std::fprintf(stderr, "dw_float_nhwc failed: Halide error %d\n", error);
    return 1;
  }
  const double float_error = MaxRelativeError(dw, Definition(nhwc, x, dy));

  // 1 x 3 x 12 x 10 input (NCHW), 5x5 filter, multiplier 2, stride 1, VALID: 8 x 6 outputs.
  halogen::DepthwiseShape nchw{1, 12, 10, 3, 2, 5, 5, 8, 6, 1, 1, 1, 0, 0, false};
  std::vector<double> x2(1 * 3 * 12 * 10), dy2(1 * 6 * 8 * 6), dw2(5 * 5 * 6);
  Fill(x2, 3);
  Fill(dy2, 4);
  if (int error = halogen_aot::dw_double_nchw_run(x2.data(), dy2.data(), dw2.data(), nchw); error != 0) {
    std::fprintf(stderr, "dw_double_nchw failed: Halide error %d\n", error);
    return 1;
  }
  const double double_error = MaxRelativeError(dw2, Definition(nchw, x2, dy2));

  std::printf("dw_float_nhwc: max relative error %.3g; dw_double_nchw: max relative error %.3g\n", float_error,
              double_error);
  if (argc > 1) {
    const std::string dir = argv[1];
    WriteNpy(dir + "/x.npy", "<f4", {2, 9, 11, 24}, x.data(), x.size() * 4);
    WriteNpy(dir + "/dy.npy", "<f4", {2, 5, 6, 24}, dy.data(), dy.size() * 4);
    WriteNpy(dir + "/dw_aot.npy", "<f4", {3, 3, 24, 1}, dw.data(), dw.size() * 4);
  }
  const bool ok = float_error < 1e-5 && double_error < 1e-12;
  std::printf("%s\n", ok ? "embed_aot: OK" : "embed_aot: MISMATCH");
  return ok ? 0 : 1;
}
