// The path of one proxied API request, as named phases over its RequestContext:
// Parse -> Admit -> Route -> Forward, then Account on every path. Runs on the request's
// worker thread.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "proxy/request_context.h"
#include "proxy/respond.h"

namespace switchyard {

boost::asio::awaitable<void> RunPipeline(RequestContext& ctx);

// POST /v1/route/explain: the routing decision for a chat request naming a profile (score,
// features, required tier, every candidate and why it was kept or dropped), without calling
// an upstream.
Reply ExplainRoute(RequestContext& ctx);

// Runs for every request, proxied or local, whatever happened: metrics and the access-log
// line; for API requests also usage (estimated when none was reported), cost, the budget
// settlement and the ledger row. Settles ctx.reservation.
void Account(RequestContext& ctx);

}  // namespace switchyard
