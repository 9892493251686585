// The path of one proxied API request, as named phases over its RequestContext:
// Parse -> Admit -> Route -> Forward, then Account on every path. Runs on the request's
// worker thread.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "proxy/request_context.h"

namespace switchyard {

boost::asio::awaitable<void> RunPipeline(RequestContext& ctx);

// Metrics and the access-log line; runs for every request, proxied or local.
void Account(const RequestContext& ctx);

}  // namespace switchyard
