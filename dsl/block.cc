#include "halogen/dsl/block.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "halogen/dsl/ops/depthwise_conv2d_native_backprop_filter.h"

namespace halogen {
namespace {

absl::Status PinError(absl::string_view pin, absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("pin '", pin, "': ", why, " in \"", text, "\""));
}

bool IsIdentifier(absl::string_view key) {
  if (key.empty() || absl::ascii_isdigit(static_cast<unsigned char>(key[0]))) return false;
  for (char c : key) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::vector<int>> ParseIntListPin(absl::string_view pin, absl::string_view text) {
  absl::string_view body = absl::StripAsciiWhitespace(text);
  if (absl::ConsumePrefix(&body, "[")) {
    if (!absl::ConsumeSuffix(&body, "]")) return PinError(pin, text, "'[' without a closing ']'");
    body = absl::StripAsciiWhitespace(body);
  }
  std::vector<int> values;
  if (body.empty()) return values;
  const bool uses_comma = body.find(',') != absl::string_view::npos;
  const bool uses_semicolon = body.find(';') != absl::string_view::npos;
  if (uses_comma && uses_semicolon) return PinError(pin, text, "mixes ',' and ';' separators");
  const char separator = uses_semicolon ? ';' : ',';
  for (absl::string_view item : absl::StrSplit(body, separator)) {
    item = absl::StripAsciiWhitespace(item);
    int value = 0;
    if (item.empty()) return PinError(pin, text, "an empty list entry");
    // SimpleAtoi would also take "+1" and surrounding spaces; require a plain optionally-signed integer.
    const absl::string_view digits = item[0] == '-' ? item.substr(1) : item;
    bool all_digits = !digits.empty();
    for (char c : digits) all_digits = all_digits && absl::ascii_isdigit(static_cast<unsigned char>(c));
    if (!all_digits || !absl::SimpleAtoi(item, &value)) {
      return PinError(pin, text, absl::StrCat("'", item, "' is not an int32"));
    }
    values.push_back(value);
  }
  return values;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseAttrsPin(absl::string_view pin,
                                                                              absl::string_view text) {
  // Split on ';' outside brackets, so "dilations_ = [1;2;2;1];" is one entry.
  std::vector<absl::string_view> entries;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '[') ++depth;
    if (text[i] == ']' && --depth < 0) return PinError(pin, text, "']' without an opening '['");
    if (text[i] == ';' && depth == 0) {
      entries.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  if (depth != 0) return PinError(pin, text, "'[' without a closing ']'");
  entries.push_back(text.substr(start));

  std::vector<std::pair<std::string, std::string>> pairs;
  absl::flat_hash_set<std::string> seen;
  for (absl::string_view entry : entries) {
    entry = absl::StripAsciiWhitespace(entry);
    if (entry.empty()) continue;  // the optional final ';' (or stray ones)
    const size_t equals = entry.find('=');
    if (equals == absl::string_view::npos) {
      return PinError(pin, text, absl::StrCat("'", entry, "' is not of the form key = value"));
    }
    std::string key(absl::StripAsciiWhitespace(entry.substr(0, equals)));
    absl::string_view value = absl::StripAsciiWhitespace(entry.substr(equals + 1));
    if (!IsIdentifier(key)) return PinError(pin, text, absl::StrCat("'", key, "' is not a valid key"));
    if (value.empty()) return PinError(pin, text, absl::StrCat("key '", key, "' has no value"));
    if (!seen.insert(key).second) return PinError(pin, text, absl::StrCat("key '", key, "' is repeated"));
    pairs.emplace_back(std::move(key), std::string(value));
  }
  return pairs;
}

namespace ops {

absl::StatusOr<Output> FromBlock(const Scope& scope, const DepthwiseConv2dNativeBackpropFilterBlock& block) {
  const auto block_error = [&](const absl::Status& status) {
    return absl::Status(status.code(), absl::StrCat("block '", block.block_id, "': ", status.message()));
  };
  for (const auto& [pin, output] : {std::pair{"input", &block.input}, std::pair{"filter_sizes", &block.filter_sizes},
                                    std::pair{"out_backprop", &block.out_backprop}}) {
    if (!output->has_value() || !(*output)->valid()) {
      return absl::InvalidArgumentError(
          absl::StrCat("block '", block.block_id, "': pin '", pin, "' is not connected"));
    }
  }
  absl::StatusOr<std::vector<int>> strides = ParseIntListPin("strides", block.strides);
  if (!strides.ok()) return block_error(strides.status());
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> pairs =
      ParseAttrsPin("attrs", block.attrs);
  if (!pairs.ok()) return block_error(pairs.status());

  DepthwiseConv2dNativeBackpropFilter::Attrs attrs;
  for (const auto& [key, value] : *pairs) {
    if (key == "data_format_") {
      attrs = attrs.DataFormat(absl::StripSuffix(absl::StripPrefix(value, "\""), "\""));
    } else if (key == "dilations_" || key == "explicit_paddings_") {
      absl::StatusOr<std::vector<int>> list = ParseIntListPin(absl::StrCat("attrs: ", key), value);
      if (!list.ok()) return block_error(list.status());
      attrs = key == "dilations_" ? attrs.Dilations(*list) : attrs.ExplicitPaddings(*list);
    } else {
      return block_error(absl::InvalidArgumentError(absl::StrCat(
          "pin 'attrs': unknown key '", key, "' (expected data_format_, dilations_ or explicit_paddings_)")));
    }
  }
  const absl::string_view padding = absl::StripAsciiWhitespace(block.padding);
  if (padding.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("block '", block.block_id, "': pin 'padding' is empty"));
  }
  DepthwiseConv2dNativeBackpropFilter node(scope, *block.input, *block.filter_sizes, *block.out_backprop,
                                           *strides, padding, attrs);
  if (!scope.ok()) return block_error(scope.status());
  return node.output;
}

}  // namespace ops
}  // namespace halogen
