// The command line end to end: the real binary, run as a user runs it.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>

#include "bench/bench_common.h"
#include "halogen/dsl/ops/depthwise_conv_geometry.h"
#include "halogen/dsl/atomic_file.h"
#include "halogen/runtime/npy.h"
#include "tests/test_util.h"

using namespace halogen;  // NOLINT

namespace {

struct Result {
  int exit_code;
  std::string out, err;
};

class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/halogen_cli_XXXXXX";
    path_ = mkdtemp(name);
  }
  ~TempDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  std::string operator/(const std::string& file) const { return path_ + "/" + file; }
  int file_count() const {
    return static_cast<int>(std::distance(std::filesystem::directory_iterator(path_),
                                          std::filesystem::directory_iterator()));
  }

 private:
  std::string path_;
};

Result Run(const TempDir& dir, const std::string& args) {
  const std::string out = dir / "stdout.txt", err = dir / "stderr.txt";
  const int status = std::system((std::string(HALOGEN_BINARY) + " " + args + " >'" + out + "' 2>'" + err + "'").c_str());
  Result r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, *ReadWholeFile(out), *ReadWholeFile(err)};
  std::remove(out.c_str());
  std::remove(err.c_str());
  return r;
}

// The number after "key": in a bench JSON (its first record that has the key).
double JsonNumber(const std::string& json, const std::string& key) {
  const size_t at = json.find("\"" + key + "\": ");
  REQUIRE(at != std::string::npos);
  return std::stod(json.substr(at + key.size() + 4));
}

// Sets an environment variable that the binaries run here inherit, and puts back what it was when the scope
// ends, a failed REQUIRE included, so that later test cases see the environment ctest gave.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

bool Exists(const std::string& path) {
  struct stat info {};
  return stat(path.c_str(), &info) == 0;
}

}  // namespace

TEST_CASE("cli: --help and --version") {
  TempDir dir;
  Result help = Run(dir, "--help");
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("run-op") != std::string::npos);
  Result version = Run(dir, "--version");
  CHECK(version.exit_code == 0);
  CHECK(version.out.rfind("halogen ", 0) == 0);
  Result op_help = Run(dir, "run-op --help");
  CHECK(op_help.exit_code == 0);
  CHECK(op_help.out.find("--filter_sizes") != std::string::npos);
  Result unknown = Run(dir, "frobnicate");
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.rfind("error: ", 0) == 0);
}

TEST_CASE("cli: run-op writes the filter gradient") {
  TempDir dir;
  std::mt19937_64 rng(7);
  for (const char* format : {"NHWC", "NCHW"}) {
    const bool nhwc = std::string(format) == "NHWC";
    const Tensor x = testing::RandomTensor<double>(nhwc ? TensorShape{2, 9, 8, 3} : TensorShape{2, 3, 9, 8}, rng);
    const Tensor dy = testing::RandomTensor<double>(nhwc ? TensorShape{2, 5, 4, 6} : TensorShape{2, 6, 5, 4}, rng);
    REQUIRE(WriteNpyFile(dir / "x.npy", x).ok());
    REQUIRE(WriteNpyFile(dir / "dy.npy", dy).ok());
    REQUIRE(WriteNpyFile(dir / "sizes.npy", *Tensor::FromVector<int32_t>({3, 3, 3, 2}, TensorShape({4}))).ok());
    const std::string strides = nhwc ? "1,2,2,1" : "[1, 1, 2, 2]";
    for (const char* target : {"host", "reference", "host-opencl"}) {
      const char* sizes = std::string(target) == "reference" ? "SIZES" : "3,3,3,2";
      const std::string sizes_flag = std::string(sizes) == "SIZES" ? dir / "sizes.npy" : sizes;
      Result r = Run(dir, "run-op DepthwiseConv2dNativeBackpropFilter --input " + (dir / "x.npy") +
                              " --filter_sizes " + sizes_flag + " --out_backprop " + (dir / "dy.npy") +
                              " --strides '" + strides + "' --padding SAME --attrs 'data_format_ = " + format +
                              ";' --output " + (dir / "dw.npy") + " --threads 2 --target " + target);
      INFO(target << ": " << r.err);
      REQUIRE(r.exit_code == 0);
      auto dw = ReadNpyFile(dir / "dw.npy");
      REQUIRE(dw.ok());
      REQUIRE(dw->dtype() == DataType::kDouble);
      REQUIRE(dw->shape() == TensorShape({3, 3, 3, 2}));
      DepthwiseConvGeometry g;
      g.format = nhwc ? DataFormat::kNHWC : DataFormat::kNCHW;
      g.batch = 2, g.in_rows = 9, g.in_cols = 8, g.channels = 3, g.multiplier = 2;
      g.filter_rows = g.filter_cols = 3, g.out_rows = 5, g.out_cols = 4, g.stride = 2;
      g.pad_top = 1, g.pad_left = 0;  // SAME: rows (4*2+3-9)=2 -> 1,1; cols (3*2+3-8)=1 -> 0,1
      const testing::DirectResult want = testing::DirectDefinition<double>(g, x, dy);
      for (size_t i = 0; i < want.value.size(); ++i) {
        CHECK(std::abs(dw->flat<double>()[i] - static_cast<double>(want.value[i])) <=
              testing::AllowedError<double>(want.magnitude[i], want.reduction_length));
      }
    }
  }
}

TEST_CASE("cli: bad input gives exit 2, one error line, and no output file") {
  TempDir dir;
  std::mt19937_64 rng(3);
  REQUIRE(WriteNpyFile(dir / "x.npy", testing::RandomTensor<float>({1, 6, 6, 2}, rng)).ok());
  REQUIRE(WriteNpyFile(dir / "dy.npy", testing::RandomTensor<float>({1, 6, 6, 2}, rng)).ok());
  REQUIRE(WriteNpyFile(dir / "dy64.npy", testing::RandomTensor<double>({1, 6, 6, 2}, rng)).ok());
  REQUIRE(WriteFileAtomically(dir / "junk.npy", "not an npy file").ok());
  const std::string base = "run-op DepthwiseConv2dNativeBackpropFilter --input " + (dir / "x.npy") +
                           " --out_backprop " + (dir / "dy.npy") + " --output " + (dir / "dw.npy");
  struct Bad {
    std::string args;
    const char* phrase;
  };
  const std::vector<Bad> cases = {
      {base + " --filter_sizes 3,3,2,1 --strides 1,1,1,1", "missing --padding"},
      {base + " --filter_sizes 3,3,2,1 --strides 1,1,1 --padding SAME", "Sliding window strides"},
      {base + " --filter_sizes 3,3,2,1 --strides 1,1,1,1 --padding SAME --attrs 'colour_ = red;'", "unknown key"},
      {base + " --filter_sizes 3,3,3,1 --strides 1,1,1,1 --padding SAME", "same in_depth"},
      {base + " --filter_sizes 3,3,2 --strides 1,1,1,1 --padding SAME", "filter must be 4-dimensional"},
      {base + " --filter_sizes 3,3,2,1 --strides 1,2,2,1 --padding SAME", "Number of rows"},
      {base + " --filter_sizes 3,3,2,1 --strides 1,1,1,1 --padding SAME --threads 0", "--threads"},
      {base + " --filter_sizes 3,3,2,1 --strides 1,1,1,1 --padding SAME --target tpu", "unknown target"},
      {base + " --filter_sizes 3,3,2,1 --strides 1,1,1,1 --padding SAME --bogus 1", "unknown flag --bogus"},
      {base + " --filter_sizes " + (dir / "junk.npy") + " --strides 1,1,1,1 --padding SAME", "malformed .npy"},
      {"run-op DepthwiseConv2dNativeBackpropFilter --input " + (dir / "missing.npy") + " --out_backprop " +
           (dir / "dy.npy") + " --output " + (dir / "dw.npy") + " --filter_sizes 3,3,2,1 --strides 1,1,1,1 --padding SAME",
       "cannot open"},
      {"run-op DepthwiseConv2dNativeBackpropFilter --input " + (dir / "x.npy") + " --out_backprop " +
           (dir / "dy64.npy") + " --output " + (dir / "dw.npy") + " --filter_sizes 3,3,2,1 --strides 1,1,1,1 --padding SAME",
       "double"},
      {"run-op Conv2D --input x", "unknown op"},
  };
  const int files_before = dir.file_count();
  for (const Bad& bad : cases) {
    INFO(bad.args);
    Result r = Run(dir, bad.args);
    CHECK(r.exit_code == 2);
    CHECK(r.err.rfind("error: ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.err.find(bad.phrase) != std::string::npos);
    CHECK_FALSE(Exists(dir / "dw.npy"));
  }
  CHECK(dir.file_count() == files_before);  // no temporaries left behind either
}

TEST_CASE("cli: a failed run leaves an existing output file unchanged") {
  TempDir dir;
  std::mt19937_64 rng(5);
  REQUIRE(WriteNpyFile(dir / "x.npy", testing::RandomTensor<float>({1, 6, 6, 2}, rng)).ok());
  REQUIRE(WriteNpyFile(dir / "dy.npy", testing::RandomTensor<float>({1, 6, 6, 2}, rng)).ok());
  REQUIRE(WriteFileAtomically(dir / "dw.npy", "previous contents").ok());
  Result r = Run(dir, "run-op DepthwiseConv2dNativeBackpropFilter --input " + (dir / "x.npy") +
                          " --out_backprop " + (dir / "dy.npy") + " --output " + (dir / "dw.npy") +
                          " --filter_sizes 3,3,2,1 --strides 1,1,1,1 --padding VALID");
  CHECK(r.exit_code == 2);
  CHECK(*ReadWholeFile(dir / "dw.npy") == "previous contents");
}

TEST_CASE("bench: rounds merge into the median of each implementation's round medians") {
  const auto record = [](const std::string& name, const std::string& impl, double cold, double hot) {
    bench::Record r;
    r.shape.name = name;
    r.layout = "NHWC";
    r.threads = 2;
    r.impl = impl;
    r.timing = {cold, hot};
    return r;
  };
  // Three rounds of two implementations on one shape, one of another shape; the rounds interleaved as the
  // harness records them, one slow spell in each of the first two implementations' rounds.
  const std::vector<bench::Record> merged = bench::MergeRounds({
      record("a", "halogen", 1.0, 0.5), record("a", "onednn", 9.0, 4.0), record("b", "halogen", 3.0, 1.0),
      record("a", "halogen", 4.0, 0.7), record("a", "onednn", 2.0, 1.5),
      record("a", "halogen", 2.0, 0.6), record("a", "onednn", 3.0, 1.0),
  });
  REQUIRE(merged.size() == 3);
  CHECK(merged[0].impl == "halogen");
  CHECK(merged[0].shape.name == "a");
  CHECK(merged[0].timing.median_cold_ms == 2.0);
  CHECK(merged[0].timing.median_hot_ms == 0.6);
  CHECK(merged[0].rounds == 3);
  CHECK(merged[1].impl == "onednn");
  CHECK(merged[1].timing.median_cold_ms == 3.0);
  CHECK(merged[1].timing.median_hot_ms == 1.5);
  CHECK(merged[2].shape.name == "b");
  CHECK(merged[2].rounds == 1);
  CHECK(merged[2].timing.median_cold_ms == 3.0);
  // An even count takes the mean of the middle two.
  const std::vector<bench::Record> even =
      bench::MergeRounds({record("a", "halogen", 1.0, 1.0), record("a", "halogen", 2.0, 4.0)});
  REQUIRE(even.size() == 1);
  CHECK(even[0].timing.median_cold_ms == 1.5);
  CHECK(even[0].timing.median_hot_ms == 2.5);
  CHECK(bench::ToJson(even[0]).find("\"rounds\": 2") != std::string::npos);
}

TEST_CASE("bench: the roofline is the median of each round's measurement; the host is named") {
  // The unit: peak and bandwidth take their medians apart (an even count the mean of the middle two).
  const auto roofline = [](double peak, double bandwidth) {
    bench::Roofline r;
    r.peak_gflops = peak;
    r.bandwidth_gbs = bandwidth;
    return r;
  };
  const bench::Roofline odd = bench::MedianRoofline({roofline(180, 20), roofline(90, 30), roofline(185, 10)});
  CHECK(odd.peak_gflops == 180);
  CHECK(odd.bandwidth_gbs == 20);
  const bench::Roofline even = bench::MedianRoofline({roofline(100, 10), roofline(200, 30)});
  CHECK(even.peak_gflops == 150);
  CHECK(even.bandwidth_gbs == 20);

  // End to end: two rounds of one tiny shape (the reference only, so nothing is compiled) measure the
  // machine twice, and the JSON's figures are the median of what the rounds printed.
  TempDir dir;
  {
    std::ofstream shapes(dir / "shapes.txt");
    shapes << "tiny 1 6 6 8 1 3 3 1 SAME\n";
  }
  Result r = Run(dir, "bench --shapes " + (dir / "shapes.txt") + " --impls reference --layouts NHWC --threads 1 " +
                          "--runs 1 --reference_runs 1 --rounds 2 --out " + (dir / "results"));
  REQUIRE(r.exit_code == 0);
  std::vector<double> peaks, bandwidths;
  std::istringstream lines(r.err);
  for (std::string line; std::getline(lines, line);) {
    double peak = 0, bandwidth = 0;
    if (std::sscanf(line.c_str(), "[bench]   peak %lf GFLOP/s, read bandwidth %lf GB/s", &peak, &bandwidth) == 2) {
      peaks.push_back(peak);
      bandwidths.push_back(bandwidth);
    }
  }
  REQUIRE(peaks.size() == 2);
  CHECK(r.err.find("the median of 2 rounds") != std::string::npos);
  std::string json;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "results")) json = *ReadWholeFile(entry.path());
  const auto field = [&](const std::string& key) { return JsonNumber(json, key); };
  // The printed figures have one decimal.
  CHECK(std::fabs(field("peak_gflops") - (peaks[0] + peaks[1]) / 2) <= 0.051);
  CHECK(std::fabs(field("bandwidth_gbs") - (bandwidths[0] + bandwidths[1]) / 2) <= 0.051);

  // The host line names the processor as /proc/cpuinfo does, with its widest vectors, and the records
  // carry the same text.
  std::string model, flags;
  {
    std::ifstream cpuinfo("/proc/cpuinfo");
    for (std::string line; std::getline(cpuinfo, line);) {
      const auto value = [&] {
        std::string text = line.substr(line.find(": ") + 2);
        while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
        return text;
      };
      if (model.empty() && line.rfind("model name", 0) == 0) model = value();
      if (flags.empty() && line.rfind("flags", 0) == 0) flags = " " + value() + " ";
    }
  }
  const size_t host_at = r.err.find("[bench] host: ");
  REQUIRE(host_at != std::string::npos);
  const size_t host_start = host_at + std::string("[bench] host: ").size();
  const std::string host = r.err.substr(host_start, r.err.find('\n', host_start) - host_start);
  if (model.empty()) {
    CHECK(host == "unknown");
  } else {
    CHECK(host.rfind(model, 0) == 0);
    const std::string vectors = flags.find(" avx512f ") != std::string::npos ? "AVX-512"
                                : flags.find(" avx2 ") != std::string::npos  ? "AVX2"
                                                                             : "no AVX2";
    CHECK(host == model + ", " + vectors);
  }
  CHECK(json.find("\"cpu\": \"" + host + "\"") != std::string::npos);
}

TEST_CASE("bench: a bad --rounds or an unknown --impls name is an error line and exit code 2, before any timing") {
  TempDir dir;
  const struct {
    std::string flags, mentions;
  } cases[] = {{"--rounds 0", "--rounds"},
               {"--rounds 101", "--rounds"},
               {"--rounds two", "--rounds"},
               {"--impls halogn", "unknown implementation"},
               {"--impls halogen,cold_read", "unknown implementation"},
               {"--kernels warm", "--kernels"}};
  for (const auto& c : cases) {
    INFO(c.flags);
    Result r = Run(dir, "bench " + c.flags + " --out " + (dir / "results"));
    CHECK(r.exit_code == 2);
    CHECK(r.err.rfind("error: ", 0) == 0);
    CHECK(r.err.find(c.mentions) != std::string::npos);
    CHECK_FALSE(Exists(dir / "results"));
  }
}

TEST_CASE("bench: cold-read times a read of each layer's tensors, one record per layout and thread count") {
  CHECK(bench::TimeStreamingRead(0, 1, 1).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(bench::TimeStreamingRead(1024, 0, 1).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(bench::TimeStreamingRead(1024, 1, 0).status().code() == absl::StatusCode::kInvalidArgument);
  absl::StatusOr<bench::Timing> small = bench::TimeStreamingRead(1000, 2, 3);
  REQUIRE(small.ok());
  CHECK(small->median_cold_ms > 0);
  CHECK(small->median_hot_ms > 0);

  TempDir dir;
  {
    std::ofstream shapes(dir / "shapes.txt");
    shapes << "tiny 2 9 9 8 2 3 3 2 SAME\n";
  }
  Result r = Run(dir, "bench --shapes " + (dir / "shapes.txt") + " --impls cold-read --layouts NHWC,NCHW " +
                          "--threads 1,2 --runs 1 --out " + (dir / "results"));
  REQUIRE(r.exit_code == 0);
  std::string json;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "results")) json = *ReadWholeFile(entry.path());
  // Bytes of X (2x9x9x8), dY (2x5x5x16) and dW (3x3x8x2) in float32, counted here apart from the harness.
  const int64_t bytes = 4 * (2 * 9 * 9 * 8 + 2 * 5 * 5 * 16 + 3 * 3 * 8 * 2);
  int records = 0;
  for (size_t at = json.find("\"impl\": \"cold-read\""); at != std::string::npos;
       at = json.find("\"impl\": \"cold-read\"", at + 1)) {
    ++records;
  }
  CHECK(records == 4);  // NHWC and NCHW at 1 and 2 threads
  CHECK(json.find("a read of " + std::to_string(bytes) + " bytes") != std::string::npos);
  CHECK(json.find("\"impl\": \"halogen\"") == std::string::npos);
}

TEST_CASE("bench: halogen's JIT compile is reported apart from the timings and --kernels fresh compiles in the run") {
  // One small NCHW layer (the quicker kernel to compile), with a disk cache of the test's own: the first run
  // compiles into it, the second loads from it, and --kernels fresh compiles again into a temporary cache of
  // its own, which it removes, leaving the test's cache as it was.
  TempDir dir;
  {
    std::ofstream shapes(dir / "shapes.txt");
    shapes << "tiny 1 6 6 16 1 3 3 1 SAME\n";
  }
  std::filesystem::create_directories(dir / "cache");
  std::filesystem::create_directories(dir / "tmp");
  const ScopedEnv cache_dir("HALOGEN_CACHE_DIR", dir / "cache"), tmp_dir("TMPDIR", dir / "tmp");
  struct BenchRun {
    Result result;
    std::string json;
  };
  const auto bench = [&](const std::string& kernels) {
    std::filesystem::remove_all(dir / "results");
    BenchRun run{Run(dir, "bench --shapes " + (dir / "shapes.txt") + " --impls halogen --layouts NCHW --threads 1 --runs 1" +
                         kernels + " --out " + (dir / "results")),
            ""};
    for (const auto& entry : std::filesystem::directory_iterator(dir / "results")) run.json = *ReadWholeFile(entry.path());
    return run;
  };
  const auto field = JsonNumber;
  const auto entries = [](const std::string& path) {
    return std::distance(std::filesystem::directory_iterator(path), std::filesystem::directory_iterator());
  };

  const BenchRun first = bench("");
  REQUIRE(first.result.exit_code == 0);
  CHECK(field(first.json, "jit_compiles") >= 1);
  CHECK(field(first.json, "jit_compile_s") > 0);
  CHECK(field(first.json, "jit_kernels_loaded") == 0);
  CHECK(first.result.out.find("JIT compile time (apart from the timings)") != std::string::npos);
  const auto cached_entries = entries(dir / "cache");
  CHECK(cached_entries >= 1);

  const BenchRun second = bench("");
  REQUIRE(second.result.exit_code == 0);
  CHECK(field(second.json, "jit_compiles") == 0);
  CHECK(field(second.json, "jit_compile_s") == 0);
  CHECK(field(second.json, "jit_kernels_loaded") == 1);
  CHECK(second.result.out.find("1 kernel(s) loaded from the disk cache") != std::string::npos);

  const BenchRun fresh = bench(" --kernels fresh");
  REQUIRE(fresh.result.exit_code == 0);
  CHECK(field(fresh.json, "jit_compiles") >= 1);
  CHECK(field(fresh.json, "jit_compile_s") > 0);
  CHECK(field(fresh.json, "jit_kernels_loaded") == 0);
  CHECK(entries(dir / "cache") == cached_entries);
  CHECK(entries(dir / "tmp") == 0);
}
