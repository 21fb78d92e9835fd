// Peer for `halogen bench`: oneDNN's convolution backward-weights with groups = C, through its C++ API.
// Built twice, against the newest oneDNN (the onednn-devel wheel) and against Debian's 2.6; prints one JSON
// record per shape and layout. Timed: the primitive alone, with oneDNN choosing its weights layout (the
// most favourable reading for oneDNN; halogen writes TensorFlow's [FH, FW, C, M] directly).
#include <sched.h>

#include <cstdio>
#include <vector>

#include "bench/bench_common.h"
#include "oneapi/dnnl/dnnl.hpp"

using namespace halogen::bench;  // NOLINT
using dnnl::memory;

namespace {

Record Run(const BenchShape& s, const std::string& layout, const PeerArgs& args, dnnl::engine& engine,
           dnnl::stream& stream) {
  const memory::format_tag act = layout == "NHWC" ? memory::format_tag::nhwc : memory::format_tag::nchw;
  const memory::dims src_dims = {s.n, s.c, s.h, s.w};
  const memory::dims dst_dims = {s.n, s.c * s.m, s.out_rows(), s.out_cols()};
  const memory::dims wei_dims = {s.c, s.m, 1, s.fh, s.fw};  // groups, out per group, in per group, kh, kw
  const memory::dims strides = {s.stride, s.stride}, dilates = {0, 0};
  const memory::dims pad_l = {s.pad_top(), s.pad_left()}, pad_r = {s.pad_bottom(), s.pad_right()};
  const auto f32 = memory::data_type::f32;
  memory::desc src_md(src_dims, f32, act), dst_md(dst_dims, f32, act);
  memory::desc wei_any(wei_dims, f32, memory::format_tag::any);

#if DNNL_VERSION_MAJOR >= 3
  auto fwd_pd = dnnl::convolution_forward::primitive_desc(engine, dnnl::prop_kind::forward_training,
                                                          dnnl::algorithm::convolution_direct, src_md, wei_any,
                                                          dst_md, strides, dilates, pad_l, pad_r);
  auto bwd_pd = dnnl::convolution_backward_weights::primitive_desc(engine, dnnl::algorithm::convolution_direct,
                                                                   src_md, wei_any, dst_md, strides, dilates, pad_l,
                                                                   pad_r, fwd_pd);
#else
  auto fwd_pd = dnnl::convolution_forward::primitive_desc(
      dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                      src_md, wei_any, dst_md, strides, dilates, pad_l, pad_r),
      engine);
  auto bwd_pd = dnnl::convolution_backward_weights::primitive_desc(
      dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, src_md, wei_any, dst_md,
                                               strides, dilates, pad_l, pad_r),
      engine, fwd_pd);
#endif
  memory src(bwd_pd.src_desc(), engine), diff_dst(bwd_pd.diff_dst_desc(), engine);
  memory diff_wei(bwd_pd.diff_weights_desc(), engine);
  for (memory* mem : {&src, &diff_dst}) {
    float* p = static_cast<float*>(mem->get_data_handle());
    const size_t count = mem->get_desc().get_size() / sizeof(float);
    for (size_t i = 0; i < count; ++i) p[i] = static_cast<float>((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
  }
  dnnl::convolution_backward_weights primitive(bwd_pd);
  Record r;
  r.shape = s;
  r.layout = layout;
  r.threads = args.threads;
  r.timing = TimeRuns(
      [&] {
        primitive.execute(stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_DIFF_WEIGHTS, diff_wei}});
        stream.wait();
      },
      args.runs);
  const dnnl_version_t* version = dnnl_version();
  r.note = std::string(bwd_pd.impl_info_str()) + " (oneDNN " + std::to_string(version->major) + "." +
           std::to_string(version->minor) + "." + std::to_string(version->patch) + ")";
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  PeerArgs args;
  std::vector<BenchShape> shapes;
  if (!LoadPeerInputs(argc, argv, &args, &shapes)) return 2;
  // Both builds' threading runtimes (OpenMP for Debian's, TBB for the wheel) size their pools from the
  // process's CPU mask, so restricting it gives each the requested thread count.
  cpu_set_t mask;
  CPU_ZERO(&mask);
  for (int cpu = 0; cpu < args.threads; ++cpu) CPU_SET(cpu, &mask);
  sched_setaffinity(0, sizeof(mask), &mask);
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const std::string impl = DNNL_VERSION_MAJOR >= 3 ? "onednn" : "onednn-2.6";
  for (const BenchShape& s : shapes) {
    for (const std::string& layout : args.layouts) {
      try {
        Record r = Run(s, layout, args, engine, stream);
        r.impl = impl;
        std::printf("%s\n", ToJson(r).c_str());
        std::fflush(stdout);
      } catch (const dnnl::error& e) {
        std::fprintf(stderr, "%s: %s %s: %s\n", impl.c_str(), s.name.c_str(), layout.c_str(), e.what());
      }
    }
  }
  return 0;
}
