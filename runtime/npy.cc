#include "halogen/runtime/npy.h"

#include <cstring>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "halogen/dsl/atomic_file.h"

namespace halogen {
namespace {

constexpr absl::string_view kMagic("\x93NUMPY", 6);

absl::Status Malformed(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("malformed .npy: ", why));
}

// The header is a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// A small strict scanner reads exactly that grammar; anything else is an error.
class HeaderScanner {
 public:
  explicit HeaderScanner(absl::string_view text) : text_(text) {}

  void SkipSpace() {
    while (pos_ < text_.size() && absl::ascii_isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool Consume(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool Peek(char c) {
    SkipSpace();
    return pos_ < text_.size() && text_[pos_] == c;
  }
  absl::StatusOr<std::string> String() {
    SkipSpace();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) {
      return Malformed("expected a quoted string in the header");
    }
    const char quote = text_[pos_++];
    const size_t end = text_.find(quote, pos_);
    if (end == absl::string_view::npos) return Malformed("unterminated string in the header");
    std::string value(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return value;
  }
  absl::StatusOr<bool> Bool() {
    SkipSpace();
    for (const auto& [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
      if (text_.substr(pos_).substr(0, std::strlen(word)) == word) {
        pos_ += std::strlen(word);
        return value;
      }
    }
    return Malformed("fortran_order must be True or False");
  }
  absl::StatusOr<std::vector<int64_t>> Shape() {
    if (!Consume('(')) return Malformed("shape must be a tuple");
    std::vector<int64_t> dims;
    while (!Consume(')')) {
      SkipSpace();
      size_t end = pos_;
      while (end < text_.size() && absl::ascii_isdigit(static_cast<unsigned char>(text_[end]))) ++end;
      int64_t dim = 0;
      if (end == pos_ || !absl::SimpleAtoi(text_.substr(pos_, end - pos_), &dim)) {
        return Malformed("shape must hold non-negative integers that fit int64");
      }
      dims.push_back(dim);
      pos_ = end;
      if (!Consume(',') && !Peek(')')) return Malformed("shape entries must be separated by ','");
      if (dims.size() > 32) return Malformed("shape has more than 32 dimensions");
    }
    return dims;
  }
  bool AtEnd() {
    SkipSpace();
    return pos_ == text_.size();
  }

 private:
  absl::string_view text_;
  size_t pos_ = 0;
};

struct NpyHeader {
  DataType dtype = DataType::kFloat;
  std::vector<int64_t> shape;
};

absl::StatusOr<NpyHeader> ParseHeader(absl::string_view text) {
  HeaderScanner scan(text);
  if (!scan.Consume('{')) return Malformed("header is not a dict");
  std::optional<std::string> descr;
  std::optional<bool> fortran_order;
  std::optional<std::vector<int64_t>> shape;
  while (!scan.Consume('}')) {
    absl::StatusOr<std::string> key = scan.String();
    if (!key.ok()) return key.status();
    if (!scan.Consume(':')) return Malformed(absl::StrCat("expected ':' after '", *key, "'"));
    if (*key == "descr" && !descr) {
      absl::StatusOr<std::string> value = scan.String();
      if (!value.ok()) return value.status();
      descr = *value;
    } else if (*key == "fortran_order" && !fortran_order) {
      absl::StatusOr<bool> value = scan.Bool();
      if (!value.ok()) return value.status();
      fortran_order = *value;
    } else if (*key == "shape" && !shape) {
      absl::StatusOr<std::vector<int64_t>> value = scan.Shape();
      if (!value.ok()) return value.status();
      shape = *value;
    } else {
      return Malformed(absl::StrCat("unexpected or repeated key '", *key, "' in the header"));
    }
    if (!scan.Consume(',') && !scan.Peek('}')) return Malformed("header entries must be separated by ','");
  }
  if (!scan.AtEnd()) return Malformed("trailing characters after the header dict");
  if (!descr || !fortran_order || !shape) {
    return Malformed("header must have 'descr', 'fortran_order' and 'shape'");
  }
  if (*fortran_order) {
    return absl::InvalidArgumentError(".npy in Fortran order is not supported; save it in C order");
  }
  NpyHeader header;
  if (*descr == "<f4") {
    header.dtype = DataType::kFloat;
  } else if (*descr == "<f8") {
    header.dtype = DataType::kDouble;
  } else if (*descr == "<i4") {
    header.dtype = DataType::kInt32;
  } else if (!descr->empty() && descr->front() == '>') {
    return absl::InvalidArgumentError(
        absl::StrCat(".npy dtype '", *descr, "' is big-endian; only little-endian data is supported"));
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(".npy dtype '", *descr, "' is not supported (use <f4, <f8 or <i4)"));
  }
  header.shape = *std::move(shape);
  return header;
}

}  // namespace

absl::StatusOr<Tensor> DecodeNpy(absl::string_view bytes, int64_t max_bytes) {
  if (bytes.size() < 10 || bytes.substr(0, 6) != kMagic) return Malformed("missing the \\x93NUMPY magic");
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(bytes[i]); };
  const int major = byte(6);
  size_t header_len = 0;
  size_t header_start = 0;
  if (major == 1) {
    header_len = byte(8) | (byte(9) << 8);
    header_start = 10;
  } else if (major == 2) {
    if (bytes.size() < 12) return Malformed("truncated version 2.0 preamble");
    header_len = static_cast<size_t>(byte(8)) | (static_cast<size_t>(byte(9)) << 8) |
                 (static_cast<size_t>(byte(10)) << 16) | (static_cast<size_t>(byte(11)) << 24);
    header_start = 12;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(".npy format version ", major, ".", static_cast<int>(byte(7)),
                     " is not supported (1.0 or 2.0)"));
  }
  if (header_len > bytes.size() - header_start) return Malformed("header is longer than the file");
  absl::StatusOr<NpyHeader> header = ParseHeader(bytes.substr(header_start, header_len));
  if (!header.ok()) return header.status();
  absl::StatusOr<TensorShape> shape = TensorShape::Make(header->shape);
  if (!shape.ok()) return shape.status();
  const size_t data_start = header_start + header_len;
  const int64_t element_size = DataTypeSize(header->dtype);
  if (shape->num_elements() > INT64_MAX / element_size) {
    return absl::InvalidArgumentError(absl::StrCat(".npy shape ", shape->DebugString(), " is too large"));
  }
  const int64_t want = shape->num_elements() * element_size;
  const int64_t have = static_cast<int64_t>(bytes.size() - data_start);
  if (want != have) {
    return absl::InvalidArgumentError(absl::StrCat(".npy header says shape ", shape->DebugString(), " (", want,
                                                   " bytes of data) but the file holds ", have,
                                                   " bytes of data"));
  }
  absl::StatusOr<Tensor> tensor = Tensor::Zeros(header->dtype, *shape, max_bytes);
  if (!tensor.ok()) return tensor.status();
  if (want > 0) std::memcpy(tensor->data(), bytes.data() + data_start, static_cast<size_t>(want));
  return tensor;
}

std::string EncodeNpy(const Tensor& tensor) {
  const char* descr = tensor.dtype() == DataType::kFloat    ? "<f4"
                      : tensor.dtype() == DataType::kDouble ? "<f8"
                                                            : "<i4";
  const auto dims = tensor.shape().dim_sizes();
  std::string shape = absl::StrJoin(dims, ", ");
  if (dims.size() == 1) shape += ",";
  std::string header =
      absl::StrCat("{'descr': '", descr, "', 'fortran_order': False, 'shape': (", shape, "), }");
  // Pad with spaces so the data starts on a 64-byte boundary, ending the header with '\n'.
  const size_t unpadded = kMagic.size() + 4 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::string out(kMagic);
  out.push_back('\x01');
  out.push_back('\x00');
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>((header.size() >> 8) & 0xff));
  out += header;
  out.append(static_cast<const char*>(tensor.data()), static_cast<size_t>(tensor.TotalBytes()));
  return out;
}

absl::StatusOr<Tensor> ReadNpyFile(const std::string& path, int64_t max_bytes) {
  // The file can be at most the data plus a header; a generous header bound keeps the read bounded.
  const int64_t file_limit = max_bytes > INT64_MAX - (1 << 20) ? INT64_MAX : max_bytes + (1 << 20);
  absl::StatusOr<std::string> bytes = ReadWholeFile(path, file_limit);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<Tensor> tensor = DecodeNpy(*bytes, max_bytes);
  if (!tensor.ok()) {
    return absl::Status(tensor.status().code(), absl::StrCat(path, ": ", tensor.status().message()));
  }
  return tensor;
}

absl::Status WriteNpyFile(const std::string& path, const Tensor& tensor) {
  return WriteFileAtomically(path, EncodeNpy(tensor));
}

}  // namespace halogen
