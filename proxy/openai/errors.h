// OpenAI-shaped errors: {"error":{"message","type","param","code"}} with an HTTP status.
// Plain values; thread-safe. Messages must never contain secrets or prompt text.
#pragma once

#include <boost/beast/http/status.hpp>
#include <string>
#include <string_view>

namespace switchyard::openai {

struct ApiError {
  boost::beast::http::status status = boost::beast::http::status::internal_server_error;
  std::string type;     // "invalid_request_error", "upstream_error", ...
  std::string code;     // machine-readable: "model_not_found", "upstream_timeout", ...
  std::string message;  // human-readable
  std::string param;    // offending request field, or "" for null
  bool should_retry = true;  // false: sent as `x-should-retry: false`, which OpenAI's SDKs obey
};

// The JSON body for `error`, e.g. {"error":{"message":"...","type":"...","param":null,"code":"..."}}.
std::string ErrorBody(const ApiError& error);

// The same error as one SSE event ("data: {...}\n\n"), for failures after a stream has started.
std::string ErrorEvent(const ApiError& error);

// Appends `text` to `out` as the inside of a JSON string (quotes not included).
void AppendJsonEscaped(std::string& out, std::string_view text);

ApiError BadRequest(std::string message, std::string code, std::string param = {});
ApiError NotFound(std::string message, std::string code);

}  // namespace switchyard::openai
