#include "bench/bench_common.h"

#include <immintrin.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace halogen {
namespace bench {
namespace {

// Back-to-back calls before the hot runs (see TimeRuns).
constexpr double kSettleSeconds = 0.02;
constexpr int kMaxSettleCalls = 1000;

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n == 0 ? 0 : (n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]));
}

int64_t LastLevelCacheBytes() {
  for (int index = 3; index >= 0; --index) {
    std::ifstream in("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/size");
    std::string text;
    if (in >> text) {
      int64_t value = 0;
      const char unit = text.back();
      if (absl::SimpleAtoi(absl::string_view(text).substr(0, text.size() - 1), &value)) {
        return unit == 'M' ? value << 20 : unit == 'K' ? value << 10 : value;
      }
    }
  }
  return int64_t{64} << 20;
}

// Adds one to a byte of every 64-byte line of a buffer four times the last-level cache, on every core at
// once, evicting what the previous run left in the caches (and leaving them full of modified lines).
//
// Not memset: glibc writes a buffer that large with non-temporal stores, which do not pass through the
// caches and so leave their contents there. Read after a 128 MB memset, 4 MB that had been read just before
// came at 40-57 GB/s on one core of an AMD EPYC (Zen 4), against 78 hot and 21-23 after the loop below: a
// call timed "cold" after it found much of its tensors still cached. One thread per core, because each
// core's L2 is its own; a volatile access per line, because nothing reads the buffer afterwards.
void EvictCaches() {
  static const size_t bytes = static_cast<size_t>(std::max<int64_t>(LastLevelCacheBytes() * 4, 64 << 20));
  static char* const buffer = static_cast<char*>(std::calloc(bytes, 1));
  static const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  if (buffer == nullptr) {
    static bool warned = false;
    if (!warned) std::fprintf(stderr, "[bench] warning: no memory for the eviction buffer; cold figures are not cold\n");
    warned = true;
    return;
  }
  const auto touch_lines = [](size_t begin, size_t end) {
    volatile char* lines = buffer;
    for (size_t i = begin; i < end; i += 64) lines[i] = static_cast<char>(lines[i] + 1);
  };
  const size_t slice = (bytes / cores + 63) / 64 * 64;
  std::vector<std::thread> others;
  for (int t = 1; t < cores; ++t) {
    const size_t begin = std::min(bytes, t * slice), end = std::min(bytes, (t + 1) * slice);
    try {
      others.emplace_back(touch_lines, begin, end);
    } catch (const std::system_error&) {
      touch_lines(begin, end);  // no thread to spare: this core's L2 only, but every line still passes
    }
  }
  touch_lines(0, std::min(bytes, slice));
  for (std::thread& other : others) other.join();
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int64_t Get(const std::string& json, const std::string& key, int64_t fallback) {
  const std::string needle = "\"" + key + "\": ";
  const size_t at = json.find(needle);
  if (at == std::string::npos) return fallback;
  int64_t value = fallback;
  const size_t start = at + needle.size();
  const size_t end = json.find_first_of(",}", start);
  (void)absl::SimpleAtoi(json.substr(start, end - start), &value);
  return value;
}

double GetDouble(const std::string& json, const std::string& key) {
  const std::string needle = "\"" + key + "\": ";
  const size_t at = json.find(needle);
  if (at == std::string::npos) return 0;
  double value = 0;
  const size_t start = at + needle.size();
  const size_t end = json.find_first_of(",}", start);
  (void)absl::SimpleAtod(json.substr(start, end - start), &value);
  return value;
}

std::string GetString(const std::string& json, const std::string& key) {
  const std::string needle = "\"" + key + "\": \"";
  const size_t at = json.find(needle);
  if (at == std::string::npos) return "";
  const size_t start = at + needle.size();
  return json.substr(start, json.find('"', start) - start);
}

}  // namespace

std::string HostProcessor() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, model, flags;
  while (std::getline(in, line) && (model.empty() || flags.empty())) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key(absl::StripAsciiWhitespace(line.substr(0, colon)));
    const std::string value(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    if (key == "model name" && model.empty()) model = value;
    if (key == "flags" && flags.empty()) flags = " " + value + " ";
  }
  if (model.empty()) return "unknown";
  // The name goes into JSON as it is: keep only characters that need no escaping there.
  model.erase(std::remove_if(model.begin(), model.end(), [](char ch) { return ch == '"' || ch == '\\' || ch < ' '; }),
              model.end());
  const char* vectors = flags.find(" avx512f ") != std::string::npos ? "AVX-512"
                        : flags.find(" avx2 ") != std::string::npos ? "AVX2"
                                                                     : "no AVX2";
  return absl::StrCat(model, ", ", vectors);
}

int64_t BenchShape::out_rows() const { return padding == "SAME" ? (h + stride - 1) / stride : (h - fh + stride) / stride; }
int64_t BenchShape::out_cols() const { return padding == "SAME" ? (w + stride - 1) / stride : (w - fw + stride) / stride; }
int64_t BenchShape::pad_top() const {
  return padding == "SAME" ? std::max<int64_t>((out_rows() - 1) * stride + fh - h, 0) / 2 : 0;
}
int64_t BenchShape::pad_left() const {
  return padding == "SAME" ? std::max<int64_t>((out_cols() - 1) * stride + fw - w, 0) / 2 : 0;
}
int64_t BenchShape::pad_bottom() const {
  return padding == "SAME" ? std::max<int64_t>((out_rows() - 1) * stride + fh - h, 0) - pad_top() : 0;
}
int64_t BenchShape::pad_right() const {
  return padding == "SAME" ? std::max<int64_t>((out_cols() - 1) * stride + fw - w, 0) - pad_left() : 0;
}
double BenchShape::flops() const { return 2.0 * n * out_rows() * out_cols() * c * m * fh * fw; }
double BenchShape::bytes() const {
  return 4.0 * (static_cast<double>(n) * h * w * c + static_cast<double>(n) * out_rows() * out_cols() * c * m +
                static_cast<double>(fh) * fw * c * m);
}

absl::StatusOr<BenchShape> ParseShapeLine(const std::string& line) {
  std::vector<std::string> parts = absl::StrSplit(line, ' ', absl::SkipWhitespace());
  if (parts.size() != 10) {
    return absl::InvalidArgumentError(absl::StrCat(
        "shape line \"", line, "\" must have 10 fields: name n h w c m fh fw stride padding"));
  }
  BenchShape s;
  s.name = parts[0];
  int64_t* fields[] = {&s.n, &s.h, &s.w, &s.c, &s.m, &s.fh, &s.fw, &s.stride};
  for (int i = 0; i < 8; ++i) {
    if (!absl::SimpleAtoi(parts[i + 1], fields[i]) || *fields[i] < 1 || *fields[i] > (1 << 20)) {
      return absl::InvalidArgumentError(
          absl::StrCat("shape line \"", line, "\": field ", i + 2, " must be an integer from 1 to 1048576"));
    }
  }
  s.padding = parts[9];
  if (s.padding != "SAME" && s.padding != "VALID") {
    return absl::InvalidArgumentError(absl::StrCat("shape line \"", line, "\": padding must be SAME or VALID"));
  }
  if (s.out_rows() < 1 || s.out_cols() < 1) {
    return absl::InvalidArgumentError(absl::StrCat("shape line \"", line, "\": the output would be empty"));
  }
  return s;
}

absl::StatusOr<std::vector<BenchShape>> ReadShapeFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot open shape file '", path, "'"));
  std::vector<BenchShape> shapes;
  std::string line;
  while (std::getline(in, line)) {
    const std::string uncommented = line.substr(0, line.find('#'));
    const absl::string_view body = absl::StripAsciiWhitespace(uncommented);
    if (body.empty()) continue;
    absl::StatusOr<BenchShape> shape = ParseShapeLine(std::string(body));
    if (!shape.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", shape.status().message()));
    shapes.push_back(*shape);
  }
  if (shapes.empty()) return absl::InvalidArgumentError(absl::StrCat("shape file '", path, "' lists no shapes"));
  return shapes;
}

Timing TimeRuns(const std::function<void()>& body, int runs, int warmup) {
  for (int i = 0; i < warmup; ++i) body();
  std::vector<double> cold, hot;
  for (int i = 0; i < runs; ++i) {
    EvictCaches();
    const auto start = std::chrono::steady_clock::now();
    body();
    cold.push_back(SecondsSince(start) * 1e3);
  }
  // Back to back after an eviction, a call takes up to ten calls to reach its steady time (56x56x144 at
  // batch 1: 0.47 ms falling to 0.19 over the first ten), so ten hot runs right after the cold ones gave
  // a median halfway down. The hot runs start once the calls have run back to back for kSettleSeconds.
  const auto settle_start = std::chrono::steady_clock::now();
  for (int i = 0; i < kMaxSettleCalls && (i < warmup || SecondsSince(settle_start) < kSettleSeconds); ++i) body();
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    body();
    hot.push_back(SecondsSince(start) * 1e3);
  }
  return {Median(cold), Median(hot)};
}

namespace {

// 12 independent FMA chains per thread hide the FMA latency; 8 floats each on AVX2.
__attribute__((target("avx2,fma"))) double FmaLoopAvx2(int64_t iterations) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t it = 0; it < iterations; ++it) {
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  float sum = 0;
  for (int i = 0; i < 12; ++i) {
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, acc[i]);
    for (float v : lanes) sum += v;
  }
  return sum + static_cast<double>(iterations) * 12 * 8 * 2;  // flops, with the sum kept live
}

// The same on AVX-512, whose hosts the kernels run with 16-float vectors: an AVX2 loop there measures half
// the peak of cores with two 512-bit FMA units (an Intel Xeon of family 6 model 207: 85 against 170
// GFLOP/s on one core).
__attribute__((target("avx512f"))) double FmaLoopAvx512(int64_t iterations) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t it = 0; it < iterations; ++it) {
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  float sum = 0;
  for (int i = 0; i < 12; ++i) sum += _mm512_reduce_add_ps(acc[i]);
  return sum + static_cast<double>(iterations) * 12 * 16 * 2;
}

double FmaLoopScalar(int64_t iterations) {
  float acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = static_cast<float>(i);
  for (int64_t it = 0; it < iterations; ++it) {
    for (float& a : acc) a = a * 0.999999f + 1e-7f;
  }
  float sum = 0;
  for (float a : acc) sum += a;
  return sum + static_cast<double>(iterations) * 12 * 2;
}

// Sums `count` floats (a multiple of 32) from `data`, which is 32-byte aligned, in memory order. The loop
// must be limited by the memory and not by its adds: summed one float at a time (as the compiler left a
// plain loop), it measured 18 GB/s on one core of this project's machine against 22 for this one.
__attribute__((target("avx2"))) float SumAvx2(const float* data, size_t count) {
  __m256 sums[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  for (size_t i = 0; i < count; i += 32) {
    for (int k = 0; k < 4; ++k) sums[k] = _mm256_add_ps(sums[k], _mm256_load_ps(data + i + 8 * k));
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, _mm256_add_ps(_mm256_add_ps(sums[0], sums[1]), _mm256_add_ps(sums[2], sums[3])));
  float total = 0;
  for (float v : lanes) total += v;
  return total;
}

float SumScalar(const float* data, size_t count) {
  float sums[16] = {};
  for (size_t i = 0; i < count; i += 16) {
    for (int k = 0; k < 16; ++k) sums[k] += data[i + k];
  }
  float total = 0;
  for (float v : sums) total += v;
  return total;
}

template <typename Fn>
double ParallelRate(int threads, Fn&& work_per_thread) {
  std::vector<double> amounts(threads);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back([&, t] { amounts[t] = work_per_thread(t); });
  for (auto& th : pool) th.join();
  const double seconds = SecondsSince(start);
  double total = 0;
  for (double a : amounts) total += a;
  return total / seconds;
}

}  // namespace

double Roofline::Bound(double flops, double bytes) const {
  if (bandwidth_gbs <= 0) return peak_gflops;  // not measured
  return std::min(peak_gflops, bandwidth_gbs * flops / bytes);
}

Roofline MeasureRoofline(int threads) {
  Roofline r;
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool avx512 = __builtin_cpu_supports("avx512f");
  const int64_t iterations = 50'000'000;
  double best = 0;
  for (int trial = 0; trial < 3; ++trial) {
    best = std::max(best, ParallelRate(threads, [&](int) {
      const double flops = avx512 ? FmaLoopAvx512(iterations)
                           : avx2 ? FmaLoopAvx2(iterations)
                                  : FmaLoopScalar(iterations);
      return std::floor(flops / 1e6) * 1e6;  // drop the summed values again
    }));
  }
  r.peak_gflops = best / 1e9;

  // Streaming read of 1 GiB split across the threads, summed so the reads cannot be skipped.
  const size_t count = size_t{1} << 28;
  float* const data = static_cast<float*>(std::aligned_alloc(64, count * sizeof(float)));
  if (data == nullptr) return r;  // no bandwidth figure (0): the roofline is the peak alone
  for (size_t i = 0; i < count; ++i) data[i] = 1.0f;
  best = 0;
  for (int trial = 0; trial < 3; ++trial) {
    best = std::max(best, ParallelRate(threads, [&](int t) {
      // Each thread's part a multiple of 32 floats, so that every part starts on a 128-byte boundary.
      const size_t part = count / threads / 32 * 32, begin = part * t;
      const float total = avx2 ? SumAvx2(data + begin, part) : SumScalar(data + begin, part);
      return static_cast<double>(part) * 4.0 + (total < 0 ? 1 : 0);
    }));
  }
  std::free(data);
  r.bandwidth_gbs = best / 1e9;
  return r;
}

absl::StatusOr<Timing> TimeStreamingRead(double bytes, int threads, int runs) {
  if (!(bytes >= 1) || threads < 1 || runs < 1) {
    return absl::InvalidArgumentError(absl::StrCat("a streaming read needs bytes, threads and runs of at least 1 (",
                                                   bytes, ", ", threads, ", ", runs, ")"));
  }
  // Each thread's part a whole number of 32-float (128-byte) steps, the buffer rounded up to them.
  const size_t steps = static_cast<size_t>(std::ceil(bytes / 128.0));
  const size_t steps_per_thread = (steps + threads - 1) / threads;
  const size_t part = steps_per_thread * 32, count = part * threads;
  float* const data = static_cast<float*>(std::aligned_alloc(128, count * sizeof(float)));
  if (data == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat("cannot allocate ", count * sizeof(float),
                                                     " bytes for the streaming read"));
  }
  std::fill(data, data + count, 1.0f);
  const bool avx2 = __builtin_cpu_supports("avx2");
  const auto read_part = [&](int t) {
    const float* begin = data + part * t;
    return avx2 ? SumAvx2(begin, part) : SumScalar(begin, part);
  };
  // The other threads wait, spinning, for each run's signal, so that a run times the reads and not the
  // start of threads (tens of microseconds against a read of well under a millisecond).
  std::atomic<int> generation{0}, finished{0};
  std::atomic<bool> stop{false};
  std::vector<float> sums(threads);
  std::vector<std::thread> team;
  for (int t = 1; t < threads; ++t) {
    team.emplace_back([&, t] {
      for (int seen = 0;;) {
        while (generation.load(std::memory_order_acquire) == seen && !stop.load(std::memory_order_acquire)) {
          _mm_pause();
        }
        if (stop.load(std::memory_order_acquire)) return;
        seen = generation.load(std::memory_order_acquire);
        sums[t] += read_part(t);
        finished.fetch_add(1, std::memory_order_acq_rel);
      }
    });
  }
  const Timing timing = TimeRuns(
      [&] {
        finished.store(0, std::memory_order_release);
        generation.fetch_add(1, std::memory_order_acq_rel);
        sums[0] += read_part(0);
        while (finished.load(std::memory_order_acquire) < threads - 1) _mm_pause();
      },
      runs);
  stop.store(true, std::memory_order_release);
  for (std::thread& th : team) th.join();
  std::free(data);
  // The sums keep the reads from being dropped: every value read is 1.
  double total = 0;
  for (float sum : sums) total += sum;
  if (!(total > 0)) return absl::InternalError("the streaming read summed to nothing");
  return timing;
}

std::string ToJson(const Record& r) {
  const BenchShape& s = r.shape;
  const double gflops = r.timing.median_cold_ms > 0 ? s.flops() / (r.timing.median_cold_ms * 1e6) : 0;
  return absl::StrCat("{\"shape\": {\"name\": \"", s.name, "\", \"n\": ", s.n, ", \"h\": ", s.h, ", \"w\": ", s.w,
                      ", \"c\": ", s.c, ", \"m\": ", s.m, ", \"fh\": ", s.fh, ", \"fw\": ", s.fw,
                      ", \"stride\": ", s.stride, ", \"padding\": \"", s.padding, "\"}, \"layout\": \"", r.layout,
                      "\", \"threads\": ", r.threads, ", \"impl\": \"", r.impl,
                      "\", \"median_ms\": ", r.timing.median_cold_ms, ", \"median_hot_ms\": ",
                      r.timing.median_hot_ms, ", \"gflops\": ", gflops, ", \"rounds\": ", r.rounds,
                      ", \"note\": \"", r.note, "\"}");
}

Roofline MedianRoofline(const std::vector<Roofline>& measurements) {
  std::vector<double> peaks, bandwidths;
  for (const Roofline& r : measurements) {
    peaks.push_back(r.peak_gflops);
    bandwidths.push_back(r.bandwidth_gbs);
  }
  Roofline median;
  median.peak_gflops = Median(peaks);
  median.bandwidth_gbs = Median(bandwidths);
  return median;
}

std::vector<Record> MergeRounds(const std::vector<Record>& records) {
  std::vector<Record> merged;
  std::vector<std::vector<Timing>> timings;  // per merged record, every round's
  for (const Record& r : records) {
    const auto same = [&](const Record& m) {
      return m.shape.name == r.shape.name && m.layout == r.layout && m.threads == r.threads && m.impl == r.impl;
    };
    const auto it = std::find_if(merged.begin(), merged.end(), same);
    if (it == merged.end()) {
      merged.push_back(r);
      timings.push_back({r.timing});
    } else {
      timings[it - merged.begin()].push_back(r.timing);
    }
  }
  for (size_t i = 0; i < merged.size(); ++i) {
    std::vector<double> cold, hot;
    for (const Timing& t : timings[i]) {
      cold.push_back(t.median_cold_ms);
      hot.push_back(t.median_hot_ms);
    }
    merged[i].timing = {Median(cold), Median(hot)};
    merged[i].rounds = static_cast<int>(timings[i].size());
  }
  return merged;
}

absl::StatusOr<Record> FromJson(const std::string& line) {
  if (line.find("\"impl\"") == std::string::npos) return absl::InvalidArgumentError("not a record: " + line);
  Record r;
  BenchShape& s = r.shape;
  s.name = GetString(line, "name");
  s.n = Get(line, "n", 1), s.h = Get(line, "h", 1), s.w = Get(line, "w", 1), s.c = Get(line, "c", 1);
  s.m = Get(line, "m", 1), s.fh = Get(line, "fh", 1), s.fw = Get(line, "fw", 1), s.stride = Get(line, "stride", 1);
  s.padding = GetString(line, "padding");
  r.layout = GetString(line, "layout");
  r.threads = static_cast<int>(Get(line, "threads", 1));
  r.impl = GetString(line, "impl");
  r.timing.median_cold_ms = GetDouble(line, "median_ms");
  r.timing.median_hot_ms = GetDouble(line, "median_hot_ms");
  r.note = GetString(line, "note");
  return r;
}

absl::StatusOr<PeerArgs> ParsePeerArgs(int argc, char** argv) {
  PeerArgs args;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--shapes") {
      args.shapes = value;
    } else if (flag == "--threads" && absl::SimpleAtoi(value, &args.threads) && args.threads > 0) {
    } else if (flag == "--runs" && absl::SimpleAtoi(value, &args.runs) && args.runs > 0) {
    } else if (flag == "--layouts") {
      args.layouts = absl::StrSplit(value, ',');
    } else {
      return absl::InvalidArgumentError(absl::StrCat("bad argument ", flag, " ", value));
    }
  }
  if (args.shapes.empty()) return absl::InvalidArgumentError("usage: --shapes FILE [--threads N] [--runs R]");
  return args;
}

bool LoadPeerInputs(int argc, char** argv, PeerArgs* args, std::vector<BenchShape>* shapes) {
  absl::StatusOr<PeerArgs> parsed = ParsePeerArgs(argc, argv);
  absl::StatusOr<std::vector<BenchShape>> read =
      parsed.ok() ? ReadShapeFile(parsed->shapes) : absl::StatusOr<std::vector<BenchShape>>(parsed.status());
  if (!read.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(read.status().message()).c_str());
    return false;
  }
  *args = *parsed;
  *shapes = *read;
  return true;
}

}  // namespace bench
}  // namespace halogen
