#include "proxy/openai/errors.h"

#include <fmt/format.h>

namespace switchyard::openai {

namespace http = boost::beast::http;

void AppendJsonEscaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        else
          out += c;
    }
  }
}

static void AppendNullableString(std::string& out, std::string_view value) {
  if (value.empty()) {
    out += "null";
    return;
  }
  out += '"';
  AppendJsonEscaped(out, value);
  out += '"';
}

std::string ErrorBody(const ApiError& error) {
  std::string out = R"({"error":{"message":")";
  AppendJsonEscaped(out, error.message);
  out += R"(","type":")";
  AppendJsonEscaped(out, error.type);
  out += R"(","param":)";
  AppendNullableString(out, error.param);
  out += R"(,"code":)";
  AppendNullableString(out, error.code);
  out += "}}";
  return out;
}

std::string ErrorEvent(const ApiError& error) { return "data: " + ErrorBody(error) + "\n\n"; }

ApiError BadRequest(std::string message, std::string code, std::string param) {
  return {http::status::bad_request, "invalid_request_error", std::move(code), std::move(message),
          std::move(param)};
}

ApiError NotFound(std::string message, std::string code) {
  return {http::status::not_found, "invalid_request_error", std::move(code), std::move(message), {}};
}

}  // namespace switchyard::openai
