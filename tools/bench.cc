// halogen bench: halogen against TensorFlow, oneDNN (newest and Debian's 2.6) and the reference kernel on
// a shape suite, timed cold and hot at each thread count, reported against this machine's roofline.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "bench/bench_common.h"
#include "halogen/codegen/kernel_cache.h"
#include "halogen/dsl/ops/basic.h"
#include "halogen/dsl/ops/depthwise_conv2d_native_backprop_filter.h"
#include "halogen/dsl/atomic_file.h"
#include "halogen/runtime/client_session.h"
#include "tools/cli.h"

namespace halogen {
namespace cli {
namespace {

using bench::BenchShape;
using bench::Record;

constexpr char kUsage[] = R"(usage: halogen bench [--shapes FILE] [--threads 1,2] [--runs 10] [--layouts NHWC,NCHW]
                     [--impls halogen,reference,onednn,onednn-2.6,tensorflow,tensorflow-eigen,cold-read]
                     [--reference_runs 3] [--rounds 1] [--out DIR] [--schedule NAME] [--kernels cached]

Times DepthwiseConv2dNativeBackpropFilter (float32) per shape, layout and thread count: halogen, the
reference kernel and the peers, each cold (every line of a buffer four times the last-level cache read and
written, on every core, before each run) and hot (back to back), medians after warm-up. Peak FLOP/s and
read bandwidth are measured in the same run; the roofline is min(peak, bandwidth * FLOP/byte) with
bytes = 4 * (|X| + |dY| + |dW|).
With --rounds R every implementation is timed R times, the rounds alternating them, and each figure is
the median of its R medians: on a host whose speed drifts over minutes, one slow spell then cannot land on
a single implementation. The peak and bandwidth are measured at the start of every round, and the roofline
takes their medians.
Prints a table and writes DIR/bench-<time>.json (default DIR: bench/results in the source tree); each
record names the host's processor and its widest vector instructions (AVX-512, AVX2), which set the
kernels' vector width, so that runs on different hosts are not compared as one.
`cold-read` is no kernel: it times a plain read of each layer's tensors (|X| + |dY| + |dW| bytes, in
memory order, all threads) cold and hot as the kernels are timed: the floor a cold call cannot beat, at
the layer's size and after the same eviction. The table's x column is then its time over halogen's.
halogen's kernels are built before the timings, which leave their JIT compile out; the run reports it
apart (stdout and every halogen record). --kernels cached (the default) loads kernels that an earlier
process compiled from the disk cache, so that nothing is compiled; --kernels fresh compiles them in this
run, into a temporary cache removed at the end, to time the compile.
Shape file lines: name n h w c m fh fw stride padding.
Peers that are not built or installed are reported as skipped.
)";

std::vector<std::string> List(const std::string& text) { return absl::StrSplit(text, ',', absl::SkipEmpty()); }

// For --kernels fresh: a disk cache of this run's own, which nothing has filled yet, removed when the run
// ends however it ends. Kernels built before it was set would not be compiled again: the bench builds
// none before.
class FreshKernelCache {
 public:
  static absl::StatusOr<std::unique_ptr<FreshKernelCache>> Create() {
    std::string dir = (std::filesystem::temp_directory_path() / "halogen_bench_kernels_XXXXXX").string();
    if (mkdtemp(dir.data()) == nullptr) {
      return absl::InternalError("cannot create a temporary directory for --kernels fresh");
    }
    auto cache = std::unique_ptr<FreshKernelCache>(new FreshKernelCache(std::move(dir)));
    codegen::DiskCacheOptions options = codegen::GetDiskCacheOptions();
    options.enabled = true;
    options.dir = cache->dir_;
    codegen::SetDiskCacheOptions(options);
    return cache;
  }
  ~FreshKernelCache() {
    codegen::SetDiskCacheOptions(previous_);
    std::error_code error;
    std::filesystem::remove_all(dir_, error);
  }
  FreshKernelCache(const FreshKernelCache&) = delete;
  FreshKernelCache& operator=(const FreshKernelCache&) = delete;

 private:
  explicit FreshKernelCache(std::string dir) : dir_(std::move(dir)), previous_(codegen::GetDiskCacheOptions()) {}
  std::string dir_;
  codegen::DiskCacheOptions previous_;
};

std::string ExecutableDir() {
  std::error_code error;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? "." : self.parent_path().string();
}

// Runs a peer program and collects its JSON lines; stderr passes through.
std::vector<Record> RunPeer(const std::string& command) {
  std::vector<Record> records;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return records;
  char line[8192];
  while (std::fgets(line, sizeof(line), pipe) != nullptr) {
    absl::StatusOr<Record> record = bench::FromJson(line);
    if (record.ok()) records.push_back(*record);
  }
  pclose(pipe);
  return records;
}

absl::StatusOr<Record> TimeSession(const BenchShape& s, const std::string& layout, int threads, Target target,
                                   int runs, const std::string& schedule) {
  const bool nhwc = layout == "NHWC";
  const TensorShape x_shape = nhwc ? TensorShape{s.n, s.h, s.w, s.c} : TensorShape{s.n, s.c, s.h, s.w};
  const TensorShape dy_shape = nhwc ? TensorShape{s.n, s.out_rows(), s.out_cols(), s.c * s.m}
                                    : TensorShape{s.n, s.c * s.m, s.out_rows(), s.out_cols()};
  absl::StatusOr<Tensor> x = Tensor::Zeros(DataType::kFloat, x_shape);
  absl::StatusOr<Tensor> dy = Tensor::Zeros(DataType::kFloat, dy_shape);
  if (!x.ok()) return x.status();
  if (!dy.ok()) return dy.status();
  auto xv = x->flat<float>();
  auto dyv = dy->flat<float>();
  for (size_t i = 0; i < xv.size(); ++i) xv[i] = static_cast<float>((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
  for (size_t i = 0; i < dyv.size(); ++i) dyv[i] = static_cast<float>((i * 40503u) % 1000) / 1000.0f - 0.5f;

  Scope root = Scope::NewRootScope();
  auto xp = ops::Placeholder(root.WithOpName("x"), DataType::kFloat, ops::Placeholder::Shape(x_shape));
  auto dyp = ops::Placeholder(root.WithOpName("dy"), DataType::kFloat, ops::Placeholder::Shape(dy_shape));
  const int st = static_cast<int>(s.stride);
  auto dw = ops::DepthwiseConv2dNativeBackpropFilter(
      root, xp, {static_cast<int32_t>(s.fh), static_cast<int32_t>(s.fw), static_cast<int32_t>(s.c), static_cast<int32_t>(s.m)},
      dyp, nhwc ? std::vector<int>{1, st, st, 1} : std::vector<int>{1, 1, st, st}, s.padding,
      ops::DepthwiseConv2dNativeBackpropFilter::DataFormat(layout));
  SessionOptions options;
  options.target = target;
  options.num_threads = threads;
  if (target != Target::kReference) options.schedule = schedule;
  ClientSession session(root, options);
  const ClientSession::FeedType feeds = {{xp, *x}, {dyp, *dy}};
  std::vector<Tensor> outputs;
  absl::Status status = session.Run(feeds, {dw}, &outputs);  // compiles; not timed
  if (!status.ok()) return status;
  Record r;
  r.shape = s;
  r.layout = layout;
  r.threads = threads;
  r.impl = target == Target::kReference ? "reference" : "halogen";
  r.timing = bench::TimeRuns([&] { (void)session.Run(feeds, {dw}, &outputs); }, runs, target == Target::kReference ? 0 : 2);
  return r;
}

std::string Fixed(double v, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", digits, v);
  return buffer;
}

// "peak P GFLOP/s, read bandwidth B GB/s", as the progress lines print a roofline.
std::string RooflineText(const bench::Roofline& roofline) {
  return absl::StrCat("peak ", Fixed(roofline.peak_gflops, 1), " GFLOP/s, read bandwidth ",
                      Fixed(roofline.bandwidth_gbs, 1), " GB/s");
}

}  // namespace

int Bench(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  absl::StatusOr<Flags> flags =
      Flags::Parse(args, {"shapes", "threads", "runs", "layouts", "impls", "reference_runs", "rounds", "out", "schedule",
                          "kernels"});
  if (!flags.ok()) return ReportError(flags.status(), err);
  if (flags->help()) {
    out << kUsage;
    return kExitOk;
  }
  const std::string source_dir = HALOGEN_SOURCE_DIR;
  const std::string shapes_path = flags->has("shapes") ? flags->get("shapes") : source_dir + "/bench/shapes.txt";
  absl::StatusOr<std::vector<BenchShape>> shapes = bench::ReadShapeFile(shapes_path);
  if (!shapes.ok()) return ReportError(shapes.status(), err);
  std::vector<int> thread_counts;
  for (const std::string& t : List(flags->has("threads") ? flags->get("threads") : "1,2")) {
    int value = 0;
    if (!absl::SimpleAtoi(t, &value) || value < 1 || value > 256) {
      return ReportError(absl::InvalidArgumentError("--threads takes a list of counts from 1 to 256"), err);
    }
    thread_counts.push_back(value);
  }
  int runs = 10, reference_runs = 3, rounds = 1;
  if (flags->has("runs") && (!absl::SimpleAtoi(flags->get("runs"), &runs) || runs < 1)) {
    return ReportError(absl::InvalidArgumentError("--runs must be a positive integer"), err);
  }
  if (flags->has("reference_runs") &&
      (!absl::SimpleAtoi(flags->get("reference_runs"), &reference_runs) || reference_runs < 1)) {
    return ReportError(absl::InvalidArgumentError("--reference_runs must be a positive integer"), err);
  }
  if (flags->has("rounds") && (!absl::SimpleAtoi(flags->get("rounds"), &rounds) || rounds < 1 || rounds > 100)) {
    return ReportError(absl::InvalidArgumentError("--rounds takes a count from 1 to 100"), err);
  }
  const std::vector<std::string> layouts = List(flags->has("layouts") ? flags->get("layouts") : "NHWC,NCHW");
  for (const std::string& layout : layouts) {
    if (layout != "NHWC" && layout != "NCHW") {
      return ReportError(absl::InvalidArgumentError("--layouts takes NHWC and/or NCHW"), err);
    }
  }
  constexpr char kAllImpls[] = "halogen,reference,onednn,onednn-2.6,tensorflow,tensorflow-eigen,cold-read";
  const std::vector<std::string> known = List(kAllImpls);
  const std::vector<std::string> impls = List(flags->has("impls") ? flags->get("impls") : kAllImpls);
  for (const std::string& impl : impls) {
    if (std::find(known.begin(), known.end(), impl) == known.end()) {
      return ReportError(absl::InvalidArgumentError(absl::StrCat("--impls: unknown implementation '", impl,
                                                                 "' (known: ", kAllImpls, ")")),
                         err);
    }
  }
  const auto wants = [&](const std::string& impl) { return std::find(impls.begin(), impls.end(), impl) != impls.end(); };
  const std::string out_dir = flags->has("out") ? flags->get("out") : source_dir + "/bench/results";
  const std::string kernels = flags->has("kernels") ? flags->get("kernels") : "cached";
  if (kernels != "cached" && kernels != "fresh") {
    return ReportError(absl::InvalidArgumentError("--kernels takes cached or fresh"), err);
  }
  std::unique_ptr<FreshKernelCache> fresh_cache;
  if (kernels == "fresh") {
    absl::StatusOr<std::unique_ptr<FreshKernelCache>> created = FreshKernelCache::Create();
    if (!created.ok()) return ReportError(created.status(), err);
    fresh_cache = *std::move(created);
  }

  std::vector<Record> records;
  std::map<int, bench::Roofline> rooflines;
  const std::string bin = ExecutableDir();
  const std::string python = source_dir + "/.venv/bin/python";
  const std::string layout_list = absl::StrJoin(layouts, ",");
  const std::string processor = bench::HostProcessor();
  err << "[bench] host: " << processor << "\n";
  for (int threads : thread_counts) {
    // The machine is measured at the start of every round, like the kernels, and the roofline is the median
    // of those measurements: on a host whose speed drifts, one measurement before the rounds set every
    // percentage of the run by a single moment.
    std::vector<bench::Roofline> round_rooflines;
    for (int round = 1; round <= rounds; ++round) {
      const std::string round_label = rounds > 1 ? absl::StrCat("round ", round, "/", rounds, ": ") : "";
      err << "[bench] " << round_label << "measuring the roofline with " << threads << " thread(s)...\n";
      const bench::Roofline measured = bench::MeasureRoofline(threads);
      round_rooflines.push_back(measured);
      err << "[bench]   " << RooflineText(measured) << "\n";
      // On a shared host a core can be taken away for a whole run: its FMA peak then stays near the smaller
      // thread count's, and every figure at this count is suspect.
      if (!rooflines.empty()) {
        const auto& [fewest, fewest_roofline] = *rooflines.begin();
        const double expected = fewest_roofline.peak_gflops * threads / fewest;
        if (fewest < threads && measured.peak_gflops < 0.75 * expected) {
          err << "[bench] warning: " << threads << " threads reached " << Fixed(measured.peak_gflops, 1)
              << " GFLOP/s against " << Fixed(expected, 1) << " expected from " << fewest
              << " thread(s): something else is using the cores; this round's " << threads
              << "-thread figures are not reliable\n";
        }
      }
      for (const BenchShape& s : *shapes) {
        for (const std::string& layout : layouts) {
          for (const auto& [impl, target, n] : {std::tuple{"halogen", Target::kHost, runs},
                                                std::tuple{"reference", Target::kReference, reference_runs}}) {
            if (!wants(impl)) continue;
            err << "[bench] " << round_label << impl << " " << s.name << " " << layout << " " << threads << "t\n";
            absl::StatusOr<Record> r =
                TimeSession(s, layout, threads, target, n, flags->has("schedule") ? flags->get("schedule") : "");
            if (!r.ok()) return ReportError(r.status(), err);
            records.push_back(*r);
          }
        }
      }
      if (wants("cold-read")) {
        for (const BenchShape& s : *shapes) {
          err << "[bench] " << round_label << "cold-read " << s.name << " " << threads << "t\n";
          absl::StatusOr<bench::Timing> timing = bench::TimeStreamingRead(s.bytes(), threads, runs);
          if (!timing.ok()) return ReportError(timing.status(), err);
          // The same bytes in either layout: one measurement, a record per layout for the table.
          for (const std::string& layout : layouts) {
            Record r;
            r.shape = s;
            r.layout = layout;
            r.threads = threads;
            r.impl = "cold-read";
            r.timing = *timing;
            r.note = absl::StrCat("a read of ", static_cast<int64_t>(s.bytes()), " bytes in memory order");
            records.push_back(r);
          }
        }
      }
      const std::string common = absl::StrCat(" --shapes '", shapes_path, "' --threads ", threads, " --runs ", runs);
      for (const auto& [impl, program] : {std::pair{"onednn", "halogen-bench-onednn"},
                                          std::pair{"onednn-2.6", "halogen-bench-onednn-2.6"}}) {
        if (!wants(impl)) continue;
        const std::string path = bin + "/" + program;
        if (access(path.c_str(), X_OK) != 0) {
          if (round == 1) err << "[bench] SKIPPED " << impl << ": " << path << " was not built\n";
          continue;
        }
        err << "[bench] " << round_label << impl << " (" << threads << "t)...\n";
        for (Record& r : RunPeer(absl::StrCat("OMP_NUM_THREADS=", threads, " '", path, "'", common, " --layouts ",
                                              layout_list))) {
          records.push_back(r);
        }
      }
      for (const auto& [impl, onednn_opts] : {std::pair{"tensorflow", "1"}, std::pair{"tensorflow-eigen", "0"}}) {
        if (!wants(impl)) continue;
        if (access(python.c_str(), X_OK) != 0) {
          if (round == 1) err << "[bench] SKIPPED " << impl << ": no " << python << "\n";
          continue;
        }
        err << "[bench] " << round_label << impl << " (" << threads << "t)...\n";
        for (Record& r : RunPeer(absl::StrCat("TF_ENABLE_ONEDNN_OPTS=", onednn_opts, " TF_CPP_MIN_LOG_LEVEL=2 '",
                                              python, "' '", source_dir, "/bench/tf_peer.py' --impl ", impl, common))) {
          records.push_back(r);
        }
      }
    }
    rooflines[threads] = bench::MedianRoofline(round_rooflines);
    if (rounds > 1) {
      err << "[bench] roofline with " << threads << " thread(s), the median of " << rounds
          << " rounds: " << RooflineText(rooflines[threads]) << "\n";
    }
  }

  records = bench::MergeRounds(records);

  // The table, with each implementation's ratio to halogen on the same shape, layout and threads.
  std::map<std::string, double> halogen_ms;
  const auto key = [](const Record& r) { return absl::StrCat(r.shape.name, "/", r.layout, "/", r.threads); };
  for (const Record& r : records) {
    if (r.impl == "halogen") halogen_ms[key(r)] = r.timing.median_cold_ms;
  }
  // What building halogen's kernels took, apart from the timings.
  const codegen::KernelCacheStats stats = codegen::GetKernelCacheStats();
  // Kernels, and the Halide runtime when the disk cache did not hold it.
  const int64_t objects_compiled = static_cast<int64_t>(stats.compiles_per_key.size());
  const std::string jit_fields =
      absl::StrCat(", \"jit_compile_s\": ", stats.compile_seconds, ", \"jit_compiles\": ", objects_compiled,
                   ", \"jit_kernels_loaded\": ", stats.disk_hits, ", \"jit_load_s\": ", stats.disk_load_seconds);
  out << absl::StrCat("shape                 layout thr impl              cold_ms    hot_ms  GFLOP/s  %roof  x_halogen\n");
  std::string json = "[\n";
  for (size_t i = 0; i < records.size(); ++i) {
    const Record& r = records[i];
    const double gflops = r.shape.flops() / (r.timing.median_cold_ms * 1e6);
    const double bound = rooflines[r.threads].Bound(r.shape.flops(), r.shape.bytes());
    const auto h = halogen_ms.find(key(r));
    const double ratio = h == halogen_ms.end() ? 0 : r.timing.median_cold_ms / h->second;
    char line[256];
    std::snprintf(line, sizeof(line), "%-21s %-6s %3d %-16s %8.3f %9.3f %8.2f %6.1f %9.2f\n", r.shape.name.c_str(),
                  r.layout.c_str(), r.threads, r.impl.c_str(), r.timing.median_cold_ms, r.timing.median_hot_ms, gflops,
                  100 * gflops / bound, ratio);
    out << line;
    std::string record_json = bench::ToJson(r);
    record_json.pop_back();
    absl::StrAppend(&json, "  ", record_json, ", \"roofline_gflops\": ", bound, ", \"percent_of_roofline\": ",
                    100 * gflops / bound, ", \"peak_gflops\": ", rooflines[r.threads].peak_gflops,
                    ", \"bandwidth_gbs\": ", rooflines[r.threads].bandwidth_gbs, ", \"roofline_rounds\": ", rounds,
                    ", \"cpu\": \"", processor, "\"", r.impl == "halogen" ? jit_fields : "",
                    "}", i + 1 < records.size() ? ",\n" : "\n");
  }
  json += "]\n";
  out << "JIT compile time (apart from the timings): " << Fixed(stats.compile_seconds, 2) << " s for "
      << objects_compiled << " compile(s) (kernels and the Halide runtime)";
  if (stats.disk_hits > 0) {
    out << "; " << stats.disk_hits << " kernel(s) loaded from the disk cache in " << Fixed(stats.disk_load_seconds, 3)
        << " s (--kernels fresh compiles them in the run, to time the compile)";
  }
  out << "\n";

  std::error_code error;
  std::filesystem::create_directories(out_dir, error);
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", std::gmtime(&now));
  const std::string path = absl::StrCat(out_dir, "/bench-", stamp, ".json");
  if (absl::Status s = WriteFileAtomically(path, json); !s.ok()) return ReportError(s, err);
  out << "wrote " << path << "\n";
  return kExitOk;
}

}  // namespace cli
}  // namespace halogen
