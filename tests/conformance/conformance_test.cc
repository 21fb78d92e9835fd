// Every recorded TensorFlow case, in both layouts, on host, host-opencl and reference, within SPEC's
// tolerance; and every recorded bad case rejected with InvalidArgument and TensorFlow's message.
// HALOGEN_CONFORMANCE_DIR points the suite at another data set (the live slice that CI records).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>

#include "absl/strings/str_split.h"
#include "halogen/codegen/kernel_cache.h"
#include "halogen/dsl/conv_arithmetic.h"
#include "halogen/dsl/ops/basic.h"
#include "halogen/dsl/ops/depthwise_conv2d_native_backprop_filter.h"
#include "halogen/runtime/client_session.h"
#include "tests/conformance/conformance_data.h"

using namespace halogen;  // NOLINT
using Op = ops::DepthwiseConv2dNativeBackpropFilter;

namespace {

std::string DataDir() {
  const char* dir = std::getenv("HALOGEN_CONFORMANCE_DIR");
  return dir != nullptr && dir[0] != '\0' ? dir : HALOGEN_CONFORMANCE_DATA_DIR;
}

const std::vector<conformance::Case>& Cases() {
  static const auto* cases = new std::vector<conformance::Case>(conformance::LoadCases(DataDir()));
  return *cases;
}

// Runs one recorded case in one layout; returns "" or what went wrong.
template <typename T>
std::string RunRecordedCase(const conformance::Case& c, DataFormat format, Target target) {
  const int64_t n = c.get("n"), h = c.get("h"), w = c.get("w"), ch = c.get("c"), m = c.get("m");
  const int64_t oh = c.get("oh"), ow = c.get("ow"), s = c.get("stride");
  Tensor x = conformance::SeededTensor<T>(c.get("seed_x"), TensorShape({n, h, w, ch}));
  Tensor dy = conformance::SeededTensor<T>(c.get("seed_dy"), TensorShape({n, oh, ow, ch * m}));
  const bool nhwc = format == DataFormat::kNHWC;
  if (!nhwc) {
    x = conformance::ToNchw<T>(x);
    dy = conformance::ToNchw<T>(dy);
  }
  const int dil_h = static_cast<int>(c.get("dil_h")), dil_w = static_cast<int>(c.get("dil_w"));
  Op::Attrs attrs = Op::DataFormat(nhwc ? "NHWC" : "NCHW")
                        .Dilations(nhwc ? std::vector<int>{1, dil_h, dil_w, 1} : std::vector<int>{1, 1, dil_h, dil_w});
  if (c.str("padding") == "EXPLICIT") {
    const int t = static_cast<int>(c.get("pad_top")), b = static_cast<int>(c.get("pad_bottom"));
    const int l = static_cast<int>(c.get("pad_left")), r = static_cast<int>(c.get("pad_right"));
    attrs = attrs.ExplicitPaddings(nhwc ? std::vector<int>{0, 0, t, b, l, r, 0, 0}
                                        : std::vector<int>{0, 0, 0, 0, t, b, l, r});
  }
  const int stride = static_cast<int>(s);
  Scope root = Scope::NewRootScope();
  auto dw = Op(root, ops::Const(root, x),
               {static_cast<int32_t>(c.get("fh")), static_cast<int32_t>(c.get("fw")), static_cast<int32_t>(ch),
                static_cast<int32_t>(m)},
               ops::Const(root, dy), nhwc ? std::vector<int>{1, stride, stride, 1} : std::vector<int>{1, 1, stride, stride},
               c.str("padding"), attrs);
  SessionOptions options;
  options.target = target;
  std::vector<Tensor> outputs;
  if (absl::Status st = ClientSession(root, options).Run({dw}, &outputs); !st.ok()) return st.ToString();
  const auto got = outputs[0].flat<T>();
  if (got.size() != c.want.size()) return "wrong output size";
  const double reduction = static_cast<double>(std::max<int64_t>(n * oh * ow, 1));
  for (size_t k = 0; k < got.size(); ++k) {
    // SPEC: float32 within 1e-5 * sqrt(R) * sum|x*dy| + 1e-6; float64 within 1e-12 relative.
    const double allowed = sizeof(T) == 4 ? 1e-5 * std::sqrt(reduction) * c.magnitude[k] + 1e-6
                                          : 1e-12 * c.magnitude[k] + 1e-300;
    const double error = std::abs(static_cast<double>(got[k]) - c.want[k]);
    if (!(error <= allowed)) {
      return "element " + std::to_string(k) + ": got " + std::to_string(static_cast<double>(got[k])) + ", want " +
             std::to_string(c.want[k]) + " (error " + std::to_string(error) + " > " + std::to_string(allowed) + ")";
    }
  }
  return "";
}

void RunAllRecordedCases(Target target) {
  const auto& cases = Cases();
  REQUIRE_FALSE(cases.empty());
  int run = 0;
  for (const conformance::Case& c : cases) {
    for (DataFormat format : {DataFormat::kNHWC, DataFormat::kNCHW}) {
      INFO("case " << c.str("id") << " (" << c.str("source") << ", " << c.str("dtype") << ", "
                   << DataFormatName(format) << ", n" << c.str("n") << " h" << c.str("h") << " w" << c.str("w")
                   << " c" << c.str("c") << " filter " << c.str("fh") << "x" << c.str("fw") << " m" << c.str("m")
                   << " stride " << c.str("stride") << " " << c.str("padding") << " dilation " << c.str("dil_h")
                   << "," << c.str("dil_w") << ") on " << TargetName(target));
      const std::string failure = c.str("dtype") == "float32" ? RunRecordedCase<float>(c, format, target)
                                                              : RunRecordedCase<double>(c, format, target);
      REQUIRE(failure == "");
      ++run;
    }
  }
  // Shape-generic kernels: one compile per (dtype, layout) however many shapes ran.
  for (const auto& [key, compiles] : codegen::GetKernelCacheStats().compiles_per_key) {
    INFO(key);
    REQUIRE(compiles == 1);
  }
  std::printf("conformance: %d recorded cases passed on %s (data: %s)\n", run, TargetName(target), DataDir().c_str());
}

std::vector<int64_t> Ints(const std::string& text) {
  std::vector<int64_t> values;
  if (text == "-") return values;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    int64_t v = 0;
    (void)absl::SimpleAtoi(part, &v);
    values.push_back(v);
  }
  return values;
}

}  // namespace

TEST_CASE("TensorFlow conformance on host") { RunAllRecordedCases(Target::kHost); }
TEST_CASE("TensorFlow conformance on host-opencl") { RunAllRecordedCases(Target::kHostOpenCL); }
TEST_CASE("TensorFlow conformance on reference") { RunAllRecordedCases(Target::kReference); }

TEST_CASE("TensorFlow's bad cases are rejected with its message") {
  const auto rows = conformance::ReadTsv(DataDir() + "/bad_cases.tsv");
  if (std::getenv("HALOGEN_CONFORMANCE_DIR") != nullptr && rows.empty()) {
    WARN("SKIPPED: this data set records no bad cases");
    return;
  }
  REQUIRE(rows.size() >= 20);
  for (const auto& row : rows) {
    INFO(row.at("name") << ": TensorFlow said " << row.at("tf_error") << ": " << row.at("tf_message"));
    const DataType x_type = row.at("input_dtype") == "float64" ? DataType::kDouble : DataType::kFloat;
    const DataType dy_type = row.at("out_backprop_dtype") == "float64" ? DataType::kDouble : DataType::kFloat;
    const auto x_shape = *TensorShape::Make(Ints(row.at("input_shape")));
    const auto dy_shape = *TensorShape::Make(Ints(row.at("out_backprop_shape")));
    const auto sizes_shape = *TensorShape::Make(Ints(row.at("filter_sizes_shape")));
    std::vector<int32_t> sizes;
    for (int64_t v : Ints(row.at("filter_sizes"))) sizes.push_back(static_cast<int32_t>(v));
    std::vector<int> strides, pads;
    for (int64_t v : Ints(row.at("strides"))) strides.push_back(static_cast<int>(v));
    for (int64_t v : Ints(row.at("explicit_paddings"))) pads.push_back(static_cast<int>(v));

    Scope root = Scope::NewRootScope();
    auto dw = Op(root, ops::Const(root, *Tensor::Zeros(x_type, x_shape)),
                 ops::Const(root, *Tensor::FromVector<int32_t>(sizes, sizes_shape)),
                 ops::Const(root, *Tensor::Zeros(dy_type, dy_shape)), strides, row.at("padding"),
                 Op::DataFormat(row.at("data_format")).ExplicitPaddings(pads));
    std::vector<Tensor> outputs;
    const absl::Status status = ClientSession(root).Run({dw}, &outputs);
    INFO("halogen said " << status.ToString());
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(status.message()).find(row.at("tf_message")) != std::string::npos);
  }
}
