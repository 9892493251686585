// Writing whole responses to the client: JSON, text, and OpenAI-shaped errors, each with
// the request's x-request-id. Used on the request's worker thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <string_view>

#include "proxy/openai/errors.h"
#include "proxy/request_context.h"

namespace switchyard {

// Sends status + body, records the outcome in `ctx` (status, bytes, client_gone).
boost::asio::awaitable<void> Respond(RequestContext& ctx, boost::beast::http::status status,
                                     std::string_view content_type, std::string body);

// Sends `error` in OpenAI's shape and records its code in `ctx`.
boost::asio::awaitable<void> RespondError(RequestContext& ctx, const openai::ApiError& error);

}  // namespace switchyard
