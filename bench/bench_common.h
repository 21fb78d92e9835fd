// Shared pieces of the benchmark harness (halogen bench) and its peer programs: the shape file, hot and
// cold timing, the machine's measured roofline, and the JSON record every implementation reports.
#ifndef HALOGEN_BENCH_BENCH_COMMON_H_
#define HALOGEN_BENCH_BENCH_COMMON_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace halogen {
namespace bench {

// One benchmark layer; the file format is one per line:
//   name n h w c m fh fw stride padding        (# starts a comment)
struct BenchShape {
  std::string name;
  int64_t n = 1, h = 1, w = 1, c = 1, m = 1, fh = 3, fw = 3, stride = 1;
  std::string padding = "SAME";

  int64_t out_rows() const;
  int64_t out_cols() const;
  int64_t pad_top() const;   // SAME: TensorFlow's rule; VALID: 0
  int64_t pad_left() const;
  int64_t pad_bottom() const;
  int64_t pad_right() const;
  double flops() const;  // 2 * N * OH * OW * C * M * FH * FW
  double bytes() const;  // 4 * (|X| + |dY| + |dW|), float32
};

absl::StatusOr<std::vector<BenchShape>> ReadShapeFile(const std::string& path);
absl::StatusOr<BenchShape> ParseShapeLine(const std::string& line);

struct Timing {
  double median_cold_ms = 0;  // a buffer larger than the last-level cache written before each run
  double median_hot_ms = 0;   // back to back
};

// Runs `body` warmup times, then `runs` timed runs cold and `runs` hot; medians in milliseconds. The hot
// runs follow at least `warmup` untimed calls and 20 ms of them (at most 1000 calls): right after the cold
// runs, back-to-back calls take about ten calls to reach their steady time.
Timing TimeRuns(const std::function<void()>& body, int runs, int warmup = 2);

// The machine, measured now with `threads` threads: FMA peak (GFLOP/s, float32, in the widest vectors the
// host offers, as the kernels' are) and streaming-read bandwidth (GB/s).
struct Roofline {
  double peak_gflops = 0;
  double bandwidth_gbs = 0;
  double Bound(double flops, double bytes) const;  // GFLOP/s a kernel can reach at best
};
Roofline MeasureRoofline(int threads);
// The median peak and the median bandwidth of several measurements (one per round); {} for none.
Roofline MedianRoofline(const std::vector<Roofline>& measurements);

// How long `bytes` take just to be read, in memory order, by `threads` threads, timed as TimeRuns times the
// kernels (cold: after the same eviction; hot: back to back). With `bytes` a layer's tensors this is the
// floor a cold call cannot beat, measured at that size and under that protocol, which the roofline's 1 GiB
// read is not (the eviction leaves the caches full of modified lines, written back as reads displace
// them). InvalidArgument for bytes < 1, threads < 1 or runs < 1; ResourceExhausted if the buffer cannot be
// allocated.
absl::StatusOr<Timing> TimeStreamingRead(double bytes, int threads, int runs);

// The processor as /proc/cpuinfo names it and the widest vector instructions it offers ("AVX-512", "AVX2"
// or "no AVX2"), which decide the kernels' vector width: figures from hosts that differ in it are not
// comparable. "unknown" where /proc/cpuinfo cannot be read.
std::string HostProcessor();

// One result line, as JSON.
struct Record {
  BenchShape shape;
  std::string layout;  // NHWC or NCHW
  int threads = 1;
  std::string impl;
  Timing timing;
  std::string note;  // e.g. the oneDNN kernel name
  int rounds = 1;    // how many rounds' medians `timing` is the median of (see MergeRounds)
};
std::string ToJson(const Record& record);

// One record per shape, layout, thread count and implementation, in the order first seen, whose cold and hot
// times are the medians of that implementation's records (one per round; the mean of the middle two for
// an even count). On a host whose speed drifts over minutes, rounds that alternate the implementations
// keep one slow spell from landing on a single implementation.
std::vector<Record> MergeRounds(const std::vector<Record>& records);
absl::StatusOr<Record> FromJson(const std::string& line);

// "--flag value" arguments shared by the peers: --shapes FILE --threads N --runs R.
struct PeerArgs {
  std::string shapes;
  int threads = 1;
  int runs = 10;
  std::vector<std::string> layouts = {"NHWC", "NCHW"};
};
absl::StatusOr<PeerArgs> ParsePeerArgs(int argc, char** argv);

// A peer program's start: its arguments and the shapes they name, or false after an "error:" line.
bool LoadPeerInputs(int argc, char** argv, PeerArgs* args, std::vector<BenchShape>* shapes);

}  // namespace bench
}  // namespace halogen

#endif  // HALOGEN_BENCH_BENCH_COMMON_H_
