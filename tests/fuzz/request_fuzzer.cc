// Fuzzes request parsing and splicing (proxy/openai/request.h): whatever the body, ParseRequest
// must not crash, and a valid JSON body must stay valid JSON after SpliceModel, carry the new
// model, and ask for usage when the usage edit was applied to a stream. The nesting scan
// (proxy/openai/json_nesting.h) reads only the input's bytes, gives the same answers with every
// instruction set on any text, and on JSON finds exactly the depth a DOM parser builds.
#include <simdjson.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/openai/json_nesting.h"
#include "proxy/openai/request.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace dom = simdjson::dom;

dom::parser& Parser() {
  static dom::parser parser;
  return parser;
}

// The value of the last `key` of `object` (upstreams read the last of repeated keys, and so
// does ParseRequest); false if there is none.
bool LastField(dom::object object, std::string_view key, dom::element* out) {
  bool found = false;
  for (dom::key_value_pair field : object) {
    if (field.key != key) continue;
    *out = field.value;
    found = true;
  }
  return found;
}

// What the proxy reads must be what any JSON parser reads from the same body.
void CheckAgreesWithDom(dom::element root, const switchyard::openai::ParsedRequest& request) {
  dom::object object;
  FUZZ_CHECK(!root.get_object().get(object));
  dom::element model, stream;
  std::string_view model_name;
  FUZZ_CHECK(LastField(object, "model", &model) && !model.get_string().get(model_name));
  FUZZ_CHECK(model_name == request.model);
  bool streamed = false;
  if (LastField(object, "stream", &stream) && !stream.is_null())
    FUZZ_CHECK(!stream.get_bool().get(streamed));
  FUZZ_CHECK(streamed == request.stream);
}

// `spliced` is JSON whose model is "m"; with `wants_usage`, its last
// stream_options.include_usage is true.
void CheckSpliced(const std::string& spliced, bool wants_usage) {
  dom::element root;
  FUZZ_CHECK(!Parser().parse(spliced.data(), spliced.size()).get(root));
  dom::object object;
  FUZZ_CHECK(!root.get_object().get(object));
  dom::element model;
  std::string_view model_name;
  FUZZ_CHECK(LastField(object, "model", &model) && !model.get_string().get(model_name));
  FUZZ_CHECK(model_name == "m");
  if (!wants_usage) return;
  dom::element options, flag;
  dom::object options_object;
  bool include_usage = false;
  FUZZ_CHECK(LastField(object, "stream_options", &options));
  FUZZ_CHECK(!options.get_object().get(options_object));
  FUZZ_CHECK(LastField(options_object, "include_usage", &flag));
  FUZZ_CHECK(!flag.get_bool().get(include_usage) && include_usage);
}

// How deeply `element` nests arrays and objects ({} is 1; a scalar 0).
std::size_t DomDepth(dom::element element) {
  std::size_t deepest = 0;
  if (dom::array array; !element.get_array().get(array)) {
    for (dom::element child : array) deepest = std::max(deepest, DomDepth(child));
    return deepest + 1;
  }
  if (dom::object object; !element.get_object().get(object)) {
    for (dom::key_value_pair field : object) deepest = std::max(deepest, DomDepth(field.value));
    return deepest + 1;
  }
  return 0;
}

// Every scanner this CPU runs agrees with the portable one, on the input itself (not the
// padded copy) so that a sanitizer sees any read past its end.
void CheckNesting(std::string_view input) {
  static const std::vector<switchyard::openai::NestingScanner> scanners =
      switchyard::openai::NestingScanners();
  for (std::size_t max_depth : {0, 1, 2, 3, 8, 64, 128}) {
    const bool portable = scanners.back().within(input.data(), input.size(), max_depth);
    for (const auto& scanner : scanners)
      FUZZ_CHECK(scanner.within(input.data(), input.size(), max_depth) == portable);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  CheckNesting(input);
  std::string body(input);
  switchyard::openai::ReservePadding(body);
  // dom:: validates all of the input (on-demand skips what it does not read), so it decides
  // whether the input was JSON; a lenient parse of something else is not checked further.
  dom::element root;
  const bool valid_json = !Parser().parse(body.data(), body.size()).get(root);
  if (valid_json) {
    const std::size_t depth = DomDepth(root);
    FUZZ_CHECK(switchyard::openai::NestingWithin(input, depth));
    if (depth > 0) FUZZ_CHECK(!switchyard::openai::NestingWithin(input, depth - 1));
  }
  auto parsed = switchyard::openai::ParseRequest(body);
  if (!parsed) return 0;
  FUZZ_CHECK(
      switchyard::openai::NestingWithin(input, switchyard::openai::RequestLimits{}.max_depth));
  const switchyard::openai::ParsedRequest& request = *parsed;
  FUZZ_CHECK(request.model_offset + request.model_length <= body.size());
  if (request.usage_edit) {
    FUZZ_CHECK(request.stream);
    FUZZ_CHECK(request.usage_edit->offset + request.usage_edit->length <= body.size());
  }
  if (valid_json) CheckAgreesWithDom(root, request);
  for (bool ask_usage : {false, true}) {
    const auto spliced = switchyard::openai::SpliceModel(body, request, "\"m\"", ask_usage);
    const std::string text = spliced.ToString();
    FUZZ_CHECK(text.size() == spliced.size());
    // A stream spliced with ask_usage always asks for usage: the client did, or the edit does.
    if (valid_json) CheckSpliced(text, ask_usage && request.stream);
  }
  return 0;
}
