// .npy reading and writing: round trips, files written by NumPy's own layout, and every malformed form.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "halogen/dsl/atomic_file.h"
#include "halogen/runtime/npy.h"

using namespace halogen;  // NOLINT

namespace {

// A .npy built byte by byte, the way NumPy lays it out, with the parts under test control.
std::string RawNpy(const std::string& header, const std::string& data, int major = 1) {
  std::string out("\x93NUMPY", 6);
  out.push_back(static_cast<char>(major));
  out.push_back('\0');
  const size_t len = header.size();
  out.push_back(static_cast<char>(len & 0xff));
  out.push_back(static_cast<char>((len >> 8) & 0xff));
  if (major == 2) {
    out.push_back(static_cast<char>((len >> 16) & 0xff));
    out.push_back(static_cast<char>((len >> 24) & 0xff));
  }
  return out + header + data;
}

std::string FloatBytes(std::vector<float> values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

}  // namespace

TEST_CASE("npy round trip keeps dtype, shape and bits") {
  auto f = *Tensor::FromVector<float>({1.5f, -2.25f, 3e-38f, 0.f, 7.f, 8.f}, TensorShape({2, 3}));
  auto d = *Tensor::FromVector<double>({1e-300, -4.0}, TensorShape({2}));
  auto i = *Tensor::FromVector<int32_t>({3, 3, 32, 1}, TensorShape({4}));
  auto empty = *Tensor::Zeros(DataType::kFloat, TensorShape({0, 3}));
  auto scalar = *Tensor::FromVector<double>({42.0}, TensorShape());
  for (const Tensor& t : {f, d, i, empty, scalar}) {
    const std::string bytes = EncodeNpy(t);
    CHECK((bytes.size() - t.TotalBytes()) % 64 == 0);  // data aligned as NumPy aligns it
    auto back = DecodeNpy(bytes);
    REQUIRE(back.ok());
    CHECK(back->dtype() == t.dtype());
    CHECK(back->shape() == t.shape());
    CHECK(std::string(static_cast<const char*>(back->data()), back->TotalBytes()) ==
          std::string(static_cast<const char*>(t.data()), t.TotalBytes()));
  }
}

TEST_CASE("npy reads NumPy's header spellings, version 1.0 and 2.0") {
  const std::string data = FloatBytes({1, 2, 3, 4});
  for (int major : {1, 2}) {
    for (const char* header : {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }          \n",
                               "{\"shape\": (2,2), \"fortran_order\": False, \"descr\": \"<f4\"}\n",
                               "{'descr':'<f4','fortran_order':False,'shape':(4,)}"}) {
      INFO(header);
      auto t = DecodeNpy(RawNpy(header, data, major));
      REQUIRE(t.ok());
      CHECK(t->NumElements() == 4);
      CHECK(t->flat<float>()[3] == 4.0f);
    }
  }
}

TEST_CASE("malformed npy files are errors, never crashes") {
  const std::string good_header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n";
  const std::string two = FloatBytes({1, 2});
  struct Bad {
    std::string bytes;
    const char* phrase;
  };
  const std::vector<Bad> cases = {
      {"", "magic"},
      {"\x93NUMPZ\x01\x00\x10\x00", "magic"},
      {RawNpy(good_header, two).substr(0, 9), "magic"},
      {RawNpy(good_header, two, 3), "version 3.0"},
      {RawNpy(good_header, two).substr(0, 20), "longer than the file"},
      {RawNpy(good_header, two.substr(0, 7)), "holds 7 bytes"},
      {RawNpy(good_header, two + "xx"), "holds 10 bytes"},
      {RawNpy("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", two), "Fortran order"},
      {RawNpy("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", two), "big-endian"},
      {RawNpy("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", two), "not supported"},
      {RawNpy("{'descr': '|u1', 'fortran_order': False, 'shape': (8,), }", two), "not supported"},
      {RawNpy("{'descr': '<f4', 'fortran_order': False}", two), "must have"},
      {RawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", two), "non-negative integers"},
      {RawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2 2), }", two), "separated"},
      {RawNpy("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }", two), "True or False"},
      {RawNpy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", two), "repeated"},
      {RawNpy("{'descr': '<f4, 'fortran_order': False, 'shape': (2,), }", two), "separated"},
      {RawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } x", two), "trailing"},
      {RawNpy("['descr', '<f4']", two), "not a dict"},
      {RawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", two), "fit int64"},
      {RawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", two), "int64"},
      {RawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }", two), "holds 8 bytes"},
  };
  for (const Bad& bad : cases) {
    INFO(bad.phrase);
    auto t = DecodeNpy(bad.bytes);
    REQUIRE_FALSE(t.ok());
    CHECK(t.status().message().find(bad.phrase) != std::string::npos);
  }
}

TEST_CASE("npy files are written atomically") {
  char dir_template[] = "/tmp/halogen_npy_XXXXXX";
  REQUIRE(mkdtemp(dir_template) != nullptr);
  const std::string path = std::string(dir_template) + "/out.npy";
  auto t = *Tensor::FromVector<double>({1, 2, 3}, TensorShape({3}));
  REQUIRE(WriteNpyFile(path, t).ok());
  auto back = ReadNpyFile(path);
  REQUIRE(back.ok());
  CHECK(back->flat<double>()[2] == 3.0);
  // Overwriting replaces the whole file; a failed write (missing directory) creates nothing.
  REQUIRE(WriteNpyFile(path, *Tensor::FromVector<float>({5}, TensorShape({1}))).ok());
  CHECK(ReadNpyFile(path)->dtype() == DataType::kFloat);
  CHECK_FALSE(WriteNpyFile(std::string(dir_template) + "/missing/out.npy", t).ok());
  CHECK(ReadNpyFile(std::string(dir_template) + "/nope.npy").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ReadNpyFile(path, /*max_bytes=*/2).status().code() == absl::StatusCode::kResourceExhausted);
  std::remove(path.c_str());
  CHECK(rmdir(dir_template) == 0);  // no temporary left behind
}
