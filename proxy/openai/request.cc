#include "proxy/openai/request.h"

#include <fmt/format.h>
#include <algorithm>

#include "proxy/openai/json_nesting.h"
#include "proxy/openai/padded_body.h"

namespace switchyard::openai {

namespace ondemand = simdjson::ondemand;

static_assert(kJsonPadding >= simdjson::SIMDJSON_PADDING);

void ReservePadding(std::string& body) { body.reserve(body.size() + kJsonPadding); }

static ondemand::parser& ThreadParser() {
  thread_local ondemand::parser parser;
  return parser;
}

static ApiError Malformed() {
  return BadRequest(
      "We could not parse the JSON body of your request. The body must be a valid JSON object.",
      "invalid_json");
}

static ApiError TooDeep(std::size_t max_depth) {
  return BadRequest(fmt::format("The JSON body nests arrays and objects more than {} levels deep, "
                                "the most this server accepts.",
                                max_depth),
                    "json_too_deep");
}

// OpenAI's own words and code for a `messages` array over its limit (2048).
static ApiError TooManyMessages(std::size_t max_messages, std::size_t count) {
  return BadRequest(
      fmt::format("Invalid 'messages': array too long. Expected an array with maximum "
                  "length {}, but got an array with length {} instead.",
                  max_messages, count),
      "array_above_max_length", "messages");
}

// The token's text without the whitespace simdjson's raw_json_token keeps after it.
static std::string_view TrimRight(std::string_view token) {
  while (!token.empty() && (token.back() == ' ' || token.back() == '\n' || token.back() == '\r' ||
                            token.back() == '\t'))
    token.remove_suffix(1);
  return token;
}

// stream_options: records whether the client asked for usage, and otherwise the edit that
// asks for it while keeping the client's other options.
static std::optional<ApiError> ReadStreamOptions(const std::string& body, ondemand::value value,
                                                 ParsedRequest* parsed) {
  parsed->client_wants_usage = false;  // a repeated stream_options: the last one counts
  parsed->usage_edit.reset();
  ondemand::json_type type;
  if (value.type().get(type)) return Malformed();
  const std::string_view token = TrimRight(value.raw_json_token());
  const auto offset = static_cast<std::size_t>(token.data() - body.data());
  if (type == ondemand::json_type::null) {
    parsed->usage_edit = BodyEdit{offset, token.size(), R"({"include_usage":true})"};
    return std::nullopt;
  }
  ondemand::object options;
  if (type != ondemand::json_type::object || value.get_object().get(options))
    return BadRequest("'stream_options' must be an object.", "invalid_type", "stream_options");
  // Upstreams read the last of repeated keys, so the last include_usage decides.
  bool empty = true, given = false;
  std::string_view flag;  // the last include_usage value's token
  for (auto field : options) {
    empty = false;
    std::string_view key;
    ondemand::value v;
    if (field.unescaped_key().get(key) || field.value().get(v)) return Malformed();
    if (key != "include_usage") continue;
    flag = TrimRight(v.raw_json_token());
    ondemand::json_type flag_type;
    if (v.type().get(flag_type)) return Malformed();
    bool wants = false;  // null: not asked
    if (flag_type != ondemand::json_type::null && v.get_bool().get(wants))
      return BadRequest("'stream_options.include_usage' must be a boolean.", "invalid_type",
                        "stream_options");
    parsed->client_wants_usage = wants;
    given = true;
  }
  if (parsed->client_wants_usage) return std::nullopt;
  if (given)  // false or null: turned into true
    parsed->usage_edit =
        BodyEdit{static_cast<std::size_t>(flag.data() - body.data()), flag.size(), "true"};
  else  // absent: added first inside the braces
    parsed->usage_edit =
        BodyEdit{offset + 1, 0, empty ? R"("include_usage":true)" : R"("include_usage":true,)"};
  return std::nullopt;
}

boost::system::result<ParsedRequest, ApiError> ParseRequest(const std::string& body,
                                                            const RequestLimits& limits) {
  ondemand::document doc;
  return ParseRequest(body, limits, &doc);
}

boost::system::result<ParsedRequest, ApiError> ParseRequest(const std::string& body,
                                                            const RequestLimits& limits,
                                                            ondemand::document* out_doc) {
  if (body.capacity() < body.size() + simdjson::SIMDJSON_PADDING) return Malformed();
  // First, over the whole body: simdjson skips the values it does not read without checking
  // their depth, and the upstream's parser, which reads them all, may recurse.
  if (!NestingWithin(body, limits.max_depth)) return TooDeep(limits.max_depth);
  ondemand::document& doc = *out_doc;
  if (ThreadParser().iterate(body.data(), body.size(), body.capacity()).get(doc)) return Malformed();
  ondemand::object object;
  if (doc.get_object().get(object)) return Malformed();

  ParsedRequest parsed;
  bool has_model = false;
  bool saw_stream_options = false;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return Malformed();
    ondemand::value value;
    if (field.value().get(value)) return Malformed();
    if (key == "model") {
      // Upstreams differ on which of two `model` keys wins: route on none.
      if (has_model) return BadRequest("'model' is given twice.", "duplicate_parameter", "model");
      ondemand::json_type type;
      if (value.type().get(type)) return Malformed();
      if (type != ondemand::json_type::string)
        return BadRequest("'model' must be a string naming the model to use.", "invalid_type",
                          "model");
      std::string_view token = TrimRight(value.raw_json_token());
      std::string_view name;
      if (value.get_string().get(name)) return Malformed();
      parsed.model.assign(name);
      parsed.model_offset = static_cast<std::size_t>(token.data() - body.data());
      parsed.model_length = token.size();
      has_model = true;
    } else if (key == "max_tokens" || key == "max_completion_tokens") {
      ondemand::json_type type;
      if (value.type().get(type)) return Malformed();
      if (type == ondemand::json_type::null) continue;
      std::int64_t n = 0;
      if (value.get_int64().get(n) || n < 0)
        return BadRequest(fmt::format("'{}' must be a non-negative integer.", key), "invalid_type",
                          std::string(key));
      // The largest of every occurrence of both names: upstreams differ on which they honour,
      // and the budget's worst case must hold for all of them.
      parsed.max_tokens = std::max(parsed.max_tokens, n);
    } else if (key == "n" || key == "best_of") {
      ondemand::json_type type;
      if (value.type().get(type)) return Malformed();
      if (type == ondemand::json_type::null) continue;
      std::int64_t n = 0;
      if (value.get_int64().get(n) || n < 1 || n > 128)
        return BadRequest(fmt::format("'{}' must be an integer from 1 to 128.", key), "invalid_type",
                          std::string(key));
      parsed.choices = std::max(parsed.choices, n);
    } else if (key == "prompt") {  // /v1/completions: one completion per prompt of an array
      ondemand::json_type type;
      if (value.type().get(type)) return Malformed();
      if (type == ondemand::json_type::array) {  // strings or token arrays; numbers: one prompt
        ondemand::array prompts;
        if (value.get_array().get(prompts)) return Malformed();
        std::int64_t count = 0;
        bool tokens = false;
        for (auto element : prompts) {
          ondemand::json_type element_type;
          if (element.type().get(element_type)) return Malformed();
          tokens |= element_type == ondemand::json_type::number;
          ++count;
        }
        parsed.prompts = tokens ? 1 : std::max<std::int64_t>(1, count);
      }
    } else if (key == "messages") {  // only counted: the classifier reads them, when it runs
      ondemand::json_type type;
      if (value.type().get(type)) return Malformed();
      if (type != ondemand::json_type::array) continue;
      ondemand::array messages;
      if (value.get_array().get(messages)) return Malformed();
      std::size_t count = 0;
      for (auto message : messages) {
        if (message.error()) return Malformed();
        ++count;
      }
      if (count > limits.max_messages) return TooManyMessages(limits.max_messages, count);
    } else if (key == "stream_options") {
      saw_stream_options = true;
      if (auto error = ReadStreamOptions(body, value, &parsed)) return *error;
    } else if (key == "stream") {
      ondemand::json_type type;
      if (value.type().get(type)) return Malformed();
      if (type == ondemand::json_type::null) continue;
      if (value.get_bool().get(parsed.stream))
        return BadRequest("'stream' must be a boolean.", "invalid_type", "stream");
    }  // other fields are skipped by the iteration, which still checks their structure
  }
  // Anything after the closing brace is an error too.
  if (!doc.current_location().error()) return Malformed();
  if (!parsed.stream) {
    parsed.usage_edit.reset();
    parsed.client_wants_usage = false;
  } else if (!saw_stream_options) {  // insert the option before the closing brace
    const std::size_t close = body.find_last_not_of(" \t\r\n");
    parsed.usage_edit = BodyEdit{close, 0, R"(,"stream_options":{"include_usage":true})"};
  }
  if (!has_model)
    return BadRequest("You must provide a model parameter.", "missing_required_parameter",
                      "model");
  return parsed;
}

std::size_t SplicedBody::size() const {
  std::size_t n = 0;
  for (std::string_view part : parts) n += part.size();
  return n;
}

std::string SplicedBody::ToString() const {
  std::string s;
  for (std::string_view part : parts) s += part;
  return s;
}

SplicedBody SpliceModel(std::string_view body, const ParsedRequest& request,
                        std::string_view quoted_model, bool ask_usage) {
  BodyEdit edits[2] = {{request.model_offset, request.model_length, quoted_model}, {}};
  std::size_t count = 1;
  if (ask_usage && request.usage_edit) {
    edits[1] = *request.usage_edit;
    if (edits[1].offset < edits[0].offset) std::swap(edits[0], edits[1]);
    count = 2;
  }
  SplicedBody out;
  std::size_t at = 0, part = 0;
  for (std::size_t i = 0; i < count; ++i) {
    out.parts[part++] = body.substr(at, edits[i].offset - at);
    out.parts[part++] = edits[i].text;
    at = edits[i].offset + edits[i].length;
  }
  out.parts[part] = body.substr(at);
  return out;
}

}  // namespace switchyard::openai
