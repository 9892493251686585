#include "proxy/openai/request.h"

#include <simdjson.h>

namespace switchyard::openai {

namespace ondemand = simdjson::ondemand;

void ReservePadding(std::string& body) { body.reserve(body.size() + simdjson::SIMDJSON_PADDING); }

static ondemand::parser& ThreadParser() {
  thread_local ondemand::parser parser;
  return parser;
}

static ApiError Malformed() {
  return BadRequest(
      "We could not parse the JSON body of your request. The body must be a valid JSON object.",
      "invalid_json");
}

// The token's text without the whitespace simdjson's raw_json_token keeps after it.
static std::string_view TrimRight(std::string_view token) {
  while (!token.empty() && (token.back() == ' ' || token.back() == '\n' || token.back() == '\r' ||
                            token.back() == '\t'))
    token.remove_suffix(1);
  return token;
}

boost::system::result<ParsedRequest, ApiError> ParseRequest(const std::string& body) {
  if (body.capacity() < body.size() + simdjson::SIMDJSON_PADDING) return Malformed();
  ondemand::document doc;
  if (ThreadParser().iterate(body.data(), body.size(), body.capacity()).get(doc)) return Malformed();
  ondemand::object object;
  if (doc.get_object().get(object)) return Malformed();

  ParsedRequest parsed;
  bool has_model = false;
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
  if (!has_model)
    return BadRequest("You must provide a model parameter.", "missing_required_parameter",
                      "model");
  return parsed;
}

SplicedBody SpliceModel(std::string_view body, const ParsedRequest& request,
                        std::string_view quoted_model) {
  return {body.substr(0, request.model_offset), quoted_model,
          body.substr(request.model_offset + request.model_length)};
}

}  // namespace switchyard::openai
