// halogen aot: ahead-of-time kernel libraries for programs that link neither Halide nor LLVM.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "halogen/codegen/aot.h"
#include "tools/cli.h"

namespace halogen {
namespace cli {
namespace {

constexpr char kUsage[] = R"(usage: halogen aot kernel --name NAME --out DIR [--dtype float|double] [--layout NHWC|NCHW]
                          [--target host|host-cuda|host-opencl] [--features avx512,avx2]
                          [--schedule NAME]
       halogen aot runtime --out DIR [--name halogen_runtime] [--target host|host-cuda|host-opencl]

kernel:  DIR/NAME.a (the DepthwiseConv2dNativeBackpropFilter kernel, without the Halide runtime),
         DIR/NAME.h (its C entry point), DIR/NAME_halogen.h (a C++ wrapper: NAME_run(input,
         out_backprop, filter_grad, shape)) and DIR/include (the headers they need).
         --features builds one variant per CPU feature set, dispatched at run time, plus a baseline.
runtime: DIR/NAME.a, the Halide runtime to link once per program, whatever number of kernel libraries
         it links (a host-cuda or host-opencl runtime also serves host kernels).
In CMake, cmake/HalogenKernels.cmake wraps both (halogen_add_kernel_library, halogen_add_kernel_runtime).
)";

}  // namespace

int Aot(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    (args.empty() ? err : out) << kUsage;
    return args.empty() ? kExitBadInput : kExitOk;
  }
  const std::string what = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  absl::StatusOr<Flags> flags =
      Flags::Parse(rest, {"name", "out", "dtype", "layout", "target", "features", "schedule"});
  if (!flags.ok()) return ReportError(flags.status(), err);
  if (flags->help()) {
    out << kUsage;
    return kExitOk;
  }
  if (what != "kernel" && what != "runtime") {
    return ReportError(absl::InvalidArgumentError(absl::StrCat("unknown aot command '", what,
                                                               "' (expected kernel or runtime)")),
                       err);
  }
  if (!flags->has("out")) return ReportError(absl::InvalidArgumentError("missing --out"), err);
  Target target = Target::kHost;
  if (flags->has("target")) {
    absl::StatusOr<Target> parsed = ParseTarget(flags->get("target"));
    if (!parsed.ok()) return ReportError(parsed.status(), err);
    target = *parsed;
  }
  if (what == "runtime") {
    const std::string name = flags->has("name") ? flags->get("name") : "halogen_runtime";
    if (absl::Status s = codegen::GenerateAotRuntime(target, flags->get("out"), name); !s.ok()) {
      return ReportError(s, err);
    }
    out << "wrote " << flags->get("out") << "/" << name << ".a\n";
    return kExitOk;
  }
  if (!flags->has("name")) return ReportError(absl::InvalidArgumentError("missing --name"), err);
  codegen::AotKernelRequest request;
  request.name = flags->get("name");
  request.out_dir = flags->get("out");
  request.target = target;
  const std::string dtype = flags->has("dtype") ? flags->get("dtype") : "float";
  if (dtype != "float" && dtype != "double") {
    return ReportError(absl::InvalidArgumentError(absl::StrCat("--dtype must be float or double, got '", dtype, "'")),
                       err);
  }
  request.dtype = dtype == "double" ? DataType::kDouble : DataType::kFloat;
  absl::StatusOr<DataFormat> format = ParseDataFormat(flags->has("layout") ? flags->get("layout") : "NHWC");
  if (!format.ok()) return ReportError(format.status(), err);
  request.format = *format;
  if (flags->has("features")) request.cpu_features = absl::StrSplit(flags->get("features"), ',', absl::SkipEmpty());
  if (flags->has("schedule")) {
    absl::StatusOr<codegen::DepthwiseBackpropFilterSchedule> schedule = codegen::ParseSchedule(flags->get("schedule"));
    if (!schedule.ok()) return ReportError(schedule.status(), err);
    request.schedule = *schedule;
  }
  if (absl::Status s = codegen::GenerateAotKernel(request); !s.ok()) return ReportError(s, err);
  out << "wrote " << request.out_dir << "/" << request.name << ".a, " << request.name << ".h and " << request.name
      << "_halogen.h\n";
  return kExitOk;
}

}  // namespace cli
}  // namespace halogen
