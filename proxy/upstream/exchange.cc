#include "proxy/upstream/exchange.h"

#include <fmt/format.h>

#include <boost/asio/write.hpp>

namespace switchyard::upstream {

namespace http = beast::http;
using boost::system::error_code;

Clock::duration Budget(Clock::duration phase, Clock::time_point deadline, bool& total_first) {
  const auto left = deadline - Clock::now();
  total_first = left < phase;
  return std::max(Clock::duration::zero(), std::min(phase, left));
}

static Failure TotalTimeout(const config::UpstreamTimeouts& timeouts) {
  return {FailureKind::kTotalTimeout,
          fmt::format("total timeout ({} ms) reached", timeouts.total.count())};
}

Failure BodyReadFailure(error_code ec, bool total_first, const config::UpstreamTimeouts& timeouts) {
  if (!ec) return {};
  if (ec == beast::error::timeout)
    return total_first ? TotalTimeout(timeouts)
                       : Failure{FailureKind::kIdleTimeout,
                                 fmt::format("no data for {} ms (idle timeout)", timeouts.idle.count())};
  if (ec.category() == http::make_error_code(http::error::end_of_stream).category() && ec != http::error::end_of_stream &&
      ec != http::error::partial_message)
    return {FailureKind::kBadResponse, fmt::format("malformed response: {}", ec.message())};
  return {FailureKind::kReset, fmt::format("connection lost mid-response: {}", ec.message())};
}

asio::awaitable<ConnectionPtr> SendRequest(Pool& pool, const config::UpstreamTimeouts& timeouts,
                                           const OutgoingRequest& request,
                                           Clock::time_point deadline,
                                           std::optional<ResponseParser>& response,
                                           Failure& failure) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    ConnectionPtr c = co_await pool.Acquire(deadline, /*fresh_only=*/attempt > 0, failure);
    if (!c) co_return nullptr;
    response.emplace();
    response->body_limit(kMaxUpstreamBody);  // Beast's default (8 MB) would refuse big embeddings
    bool total_first = false;
    c->ExpiresAfter(Budget(timeouts.first_byte, deadline, total_first));
    auto [wec, written] = co_await c->Write(request.buffers());
    error_code ec = wec;
    if (!ec) std::tie(ec, std::ignore) = co_await c->Read(*response, ReadUntil::kHeader);
    while (!ec && response->status() / 100 == 1) {  // 100 Continue, 103 Early Hints
      response.emplace();
      response->body_limit(kMaxUpstreamBody);
      std::tie(ec, std::ignore) = co_await c->Read(*response, ReadUntil::kHeader);
    }
    // Beast takes any three digits; a status HTTP does not define cannot be relayed.
    if (!ec && (response->status() < 200 || response->status() > 599))
      ec = http::error::bad_status;
    if (!ec) {
      ++c->requests;
      co_return c;
    }
    // A reused connection that cannot even take the request was closed by the upstream
    // while idle: the request never left, so a fresh connection may carry it. Once written,
    // a request may have reached the model and is never sent twice.
    const bool retry = wec && c->requests > 0;
    pool.Release(std::move(c), /*reusable=*/false);
    if (retry) continue;
    if (ec == beast::error::timeout)
      failure = total_first ? TotalTimeout(timeouts)
                            : Failure{FailureKind::kFirstByteTimeout,
                                      fmt::format("no response within {} ms (first_byte timeout)",
                                                  timeouts.first_byte.count())};
    else if (wec)
      failure = {FailureKind::kSend, fmt::format("cannot send the request: {}", ec.message())};
    else
      failure = BodyReadFailure(ec, false, timeouts);
    co_return nullptr;
  }
  failure = {FailureKind::kSend, "cannot send the request on a fresh connection either"};
  co_return nullptr;
}

}  // namespace switchyard::upstream
