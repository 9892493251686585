// Phase 4 of the pipeline: forward the request to its upstream on a pooled connection and
// relay the response to the client, whole (JSON) or event by event (SSE), with backpressure:
// nothing more is read upstream until the client took the last write. Runs on the
// request's worker thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <string>

#include "proxy/request_context.h"

namespace switchyard {

boost::asio::awaitable<void> Forward(RequestContext& ctx);

// The upstream request head: request line, the upstream's fixed headers (Host, key,
// extras), the client's end-to-end headers (not its credentials, hop-by-hop headers or
// Accept-Encoding), x-request-id and Content-Length.
std::string BuildUpstreamHead(const RequestContext& ctx, std::size_t content_length);

// Whether a client request header is forwarded upstream.
bool ForwardsRequestHeader(boost::beast::http::field name, std::string_view name_string);
// Whether an upstream response header is relayed to the client.
bool RelaysResponseHeader(boost::beast::http::field name, std::string_view name_string);

}  // namespace switchyard
