// Each call of a CPU kernel hands the thread pool one parallel loop with work in it, in both layouts: a
// parallel loop costs a call its hand-over and a wait for its slowest task, which at batch 1 had been most
// of the call. Counted through the runtime's custom do_par_for hook; every result is also checked against
// the float64 definition (examples/embed_aot/depthwise_definition.h), so that the count is of kernels
// that compute the right thing. NHWC runs twice: the host's widest vectors, and AVX2 at most
// (dw_nhwc_avx2), whose 16 vector registers make some sweeps take other forms (the 5x5 padded-image sums:
// one filter row per pass) that an AVX-512 host would otherwise never run.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "HalideRuntime.h"
#include "depthwise_definition.h"
#include "dw_nchw_halogen.h"
#include "dw_nhwc_avx2_halogen.h"
#include "dw_nhwc_halogen.h"

namespace {

int loops_with_work = 0;

int CountingDoParFor(void* user_context, halide_task_t task, int min, int size, uint8_t* closure) {
  if (size > 0) ++loops_with_work;
  return halide_default_do_par_for(user_context, task, min, size, closure);
}

// A kernel's wrapper, as the ahead-of-time build generates it, and the layout it takes.
struct Kernel {
  const char* name;
  bool nhwc;
  int (*run)(const float* input, const float* out_backprop, float* filter_grad, const halogen::DepthwiseShape&);
};

struct Case {
  const char* name;
  int batch, rows, channels, taps, stride;
};

}  // namespace

int main() {
  halide_set_num_threads(2);
  halide_set_custom_do_par_for(CountingDoParFor);
  // Shapes that take each update of each layout: NHWC's register sweep (positions of at most 128 bytes),
  // column-phase sums (stride 2), padded-image sums (5x5, and 3x3 on deep positions of small images from
  // batch 16: 640 deep on any host of up to 56 KiB of L1) and L1 sweep (the others); NCHW's plane sums
  // (small planes), strided plane sums (stride 2) and channel-block sweep (large planes).
  const Case cases[] = {{"3x3 stride 1", 1, 14, 32, 3, 1},         {"3x3 stride 2", 1, 28, 48, 3, 2},
                        {"5x5 stride 1", 1, 14, 32, 5, 1},         {"3x3 stride 1, 40x40", 1, 40, 16, 3, 1},
                        {"3x3 stride 1, batch 4", 4, 56, 48, 3, 1},
                        {"3x3 stride 1, 16x7x7x640", 16, 7, 640, 3, 1}};
  const Kernel kernels[] = {{"NHWC", true, halogen_aot::dw_nhwc_run},
                            {"NHWC AVX2", true, halogen_aot::dw_nhwc_avx2_run},
                            {"NCHW", false, halogen_aot::dw_nchw_run}};
  int failures = 0;
  for (const Case& k : cases) {
    const int out_rows = (k.rows + k.stride - 1) / k.stride;
    const int pad = std::max((out_rows - 1) * k.stride + k.taps - k.rows, 0) / 2;
    const double reduction = double(k.batch) * out_rows * out_rows;
    for (const Kernel& kernel : kernels) {
      const halogen::DepthwiseShape s{k.batch,  k.rows,   k.rows, k.channels, 1,   k.taps, k.taps,     out_rows,
                                      out_rows, k.stride, 1,      1,          pad, pad,    kernel.nhwc};
      std::vector<float> x(size_t(k.batch) * k.rows * k.rows * k.channels);
      std::vector<float> dy(size_t(k.batch) * out_rows * out_rows * k.channels);
      for (size_t i = 0; i < x.size(); ++i) x[i] = float((i * 7919) % 1000) / 1000.0f - 0.5f;
      for (size_t i = 0; i < dy.size(); ++i) dy[i] = float((i * 104729) % 1000) / 1000.0f - 0.5f;
      const std::vector<double> expected = Definition(s, x, dy);
      std::vector<float> dw(expected.size());
      loops_with_work = 0;
      const int error = kernel.run(x.data(), dy.data(), dw.data(), s);
      double worst = 0;
      for (size_t i = 0; i < dw.size(); ++i) worst = std::fmax(worst, std::fabs(dw[i] - expected[i]));
      // SPEC's float32 bound for a sum of `reduction` products of values under 0.5 in magnitude.
      const double bound = 1e-5 * std::sqrt(reduction) * reduction * 0.25 + 1e-6;
      const bool ok = error == 0 && worst <= bound && loops_with_work == 1;
      std::printf("%-24s %-9s: %d parallel loop(s) with work, max error %.3g (bound %.3g)%s\n", k.name,
                  kernel.name, loops_with_work, worst, bound, ok ? "" : "  FAIL");
      if (!ok) ++failures;
    }
  }
  std::printf(failures == 0 ? "parallel loops: OK\n" : "parallel loops: %d failure(s)\n", failures);
  return failures == 0 ? 0 : 1;
}
