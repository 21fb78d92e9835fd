// Reads the recorded TensorFlow answers (scripts/make_conformance_data.py) and regenerates each case's
// inputs from its seeds exactly as the recorder did.
#ifndef HALOGEN_TESTS_CONFORMANCE_CONFORMANCE_DATA_H_
#define HALOGEN_TESTS_CONFORMANCE_CONFORMANCE_DATA_H_

#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "halogen/dsl/tensor.h"
#include "halogen/dsl/atomic_file.h"

namespace halogen {
namespace conformance {

// float64 in [-1, 1): splitmix64 of (seed << 32) ^ index, top 53 bits (scripts/conformance_cases.py).
inline double SeededValue(uint64_t seed, uint64_t index) {
  uint64_t z = (seed << 32) ^ index;
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53 * 2.0 - 1.0;
}

struct Case {
  std::map<std::string, std::string> fields;  // every column of cases.tsv
  std::vector<double> want;                    // TensorFlow's float64 answer, [FH, FW, C, M]
  std::vector<float> magnitude;                // sum |x * dy| per element
  int64_t get(const std::string& name) const {
    int64_t v = 0;
    (void)absl::SimpleAtoi(fields.at(name), &v);
    return v;
  }
  const std::string& str(const std::string& name) const { return fields.at(name); }
};

inline std::vector<std::map<std::string, std::string>> ReadTsv(const std::string& path) {
  std::vector<std::map<std::string, std::string>> rows;
  std::ifstream in(path);
  std::string line;
  std::vector<std::string> header;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> cells = absl::StrSplit(line, '\t');
    if (header.empty()) {
      header = cells;
      continue;
    }
    std::map<std::string, std::string> row;
    for (size_t i = 0; i < header.size() && i < cells.size(); ++i) row[header[i]] = cells[i];
    rows.push_back(std::move(row));
  }
  return rows;
}

// The cases of `dir` with their answers; empty if the directory has none.
inline std::vector<Case> LoadCases(const std::string& dir) {
  std::vector<Case> cases;
  absl::StatusOr<std::string> answers = ReadWholeFile(dir + "/answers.bin");
  if (!answers.ok()) return cases;
  for (auto& row : ReadTsv(dir + "/cases.tsv")) {
    Case c;
    c.fields = std::move(row);
    const int64_t offset = c.get("offset"), count = c.get("count");
    if (offset < 0 || offset + count * 12 > static_cast<int64_t>(answers->size())) return {};
    c.want.resize(static_cast<size_t>(count));
    c.magnitude.resize(static_cast<size_t>(count));
    std::memcpy(c.want.data(), answers->data() + offset, static_cast<size_t>(count) * 8);
    std::memcpy(c.magnitude.data(), answers->data() + offset + count * 8, static_cast<size_t>(count) * 4);
    cases.push_back(std::move(c));
  }
  return cases;
}

// [d0, d1, d2, d3] filled from the seed in row-major order, rounded to T.
template <typename T>
Tensor SeededTensor(uint64_t seed, const TensorShape& shape) {
  Tensor t = *Tensor::Zeros(DataTypeOf<T>::value, shape);
  auto values = t.flat<T>();
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<T>(SeededValue(seed, i));
  return t;
}

// NHWC [N, H, W, C] -> NCHW [N, C, H, W].
template <typename T>
Tensor ToNchw(const Tensor& nhwc) {
  const int64_t N = nhwc.dim_size(0), H = nhwc.dim_size(1), W = nhwc.dim_size(2), C = nhwc.dim_size(3);
  Tensor out = *Tensor::Zeros(nhwc.dtype(), TensorShape({N, C, H, W}));
  auto src = nhwc.flat<T>();
  auto dst = out.flat<T>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t w = 0; w < W; ++w)
        for (int64_t c = 0; c < C; ++c) dst[((n * C + c) * H + h) * W + w] = src[((n * H + h) * W + w) * C + c];
  return out;
}

}  // namespace conformance
}  // namespace halogen

#endif  // HALOGEN_TESTS_CONFORMANCE_CONFORMANCE_DATA_H_
