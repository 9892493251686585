// Writing whole responses to the client: JSON, text, and OpenAI-shaped errors, each with
// the request's x-request-id. Used on the request's worker thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <string_view>

#include "proxy/openai/errors.h"
#include "proxy/request_context.h"

namespace switchyard {

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
