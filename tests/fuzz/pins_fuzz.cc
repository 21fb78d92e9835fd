// libFuzzer target: the block's text pins. Any text gives values or an error naming the pin, never a
// crash; an accepted int list re-parses to the same values from its canonical spelling.
#include <cstdlib>
#include <string>

#include "absl/strings/str_join.h"
#include "halogen/dsl/block.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::vector<int>> list = halogen::ParseIntListPin("strides", text);
  if (list.ok()) {
    absl::StatusOr<std::vector<int>> again = halogen::ParseIntListPin("strides", absl::StrJoin(*list, ","));
    if (!again.ok() || *again != *list) std::abort();
  } else if (list.status().message().find("pin 'strides'") == std::string::npos) {
    std::abort();
  }
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> attrs = halogen::ParseAttrsPin("attrs", text);
  if (!attrs.ok() && attrs.status().message().find("pin 'attrs'") == std::string::npos) std::abort();
  return 0;
}
