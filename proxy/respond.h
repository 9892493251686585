// Writing whole responses to the client: JSON, text, and OpenAI-shaped errors, each with
// the request's x-request-id. Used on the request's worker thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/openai/errors.h"
#include "proxy/request_context.h"

namespace switchyard {

// Appends "name: value\r\n" to an HTTP head being built as text. Names and values come from a
// parsed message or from the proxy: no CR or LF in them.
void AppendHeaderField(std::string& head, std::string_view name, std::string_view value);
void AppendHeaderField(std::string& head, std::string_view name, std::uint64_t value);

// A response head for the client, built as text in one string. Beast's serializer walks its
// nested buffer views per field and per byte range: about 19k instructions for a small
// response, a fifth of a proxied request's whole cost (callgrind).
class ResponseHead {
 public:
  explicit ResponseHead(unsigned status);
  void Add(std::string_view name, std::string_view value) { AppendHeaderField(text_, name, value); }
  // Ends the head with its framing: a Content-Length (none for 1xx, 204 and 304, which have
  // no body) or chunked transfer coding, and Connection: close when the connection ends.
  const std::string& Finish(bool keep_alive, std::size_t content_length);
  const std::string& FinishChunked(bool keep_alive);

 private:
  std::string text_;
  unsigned status_;
};

struct Reply {
  boost::beast::http::status status = boost::beast::http::status::ok;
  std::string_view content_type = "application/json";
  std::string body;
  bool should_retry = true;  // false: `x-should-retry: false` (a refusal retrying cannot fix)
};

// Sends the reply, records the outcome in `ctx` (status, bytes, client_gone).
// Callers pass named values, never temporaries built in the co_await expression (GCC 12
// destroys some of those twice).
boost::asio::awaitable<void> Respond(RequestContext& ctx, Reply reply);

// Sends `error` in OpenAI's shape and records its code in `ctx`.
boost::asio::awaitable<void> RespondError(RequestContext& ctx, openai::ApiError error);

}  // namespace switchyard
