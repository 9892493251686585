// Sends one request upstream and reads the response head, on a pooled connection.
// A request that could not be written on a reused connection is sent once more on a fresh
// one; a written request is never repeated. Runs on the pool's worker.
#pragma once

#include <array>
#include <boost/asio/buffer.hpp>
#include <optional>
#include <string>

#include "proxy/openai/request.h"
#include "proxy/upstream/pool.h"
#include "proxy/upstream/response_parser.h"

namespace switchyard::upstream {

// Largest upstream body the proxy accepts (big embedding batches); streams have no limit.
inline constexpr std::uint64_t kMaxUpstreamBody = 256ull * 1024 * 1024;

struct OutgoingRequest {
  std::string head;  // request line and headers, ending in a blank line; holds the key
  openai::SplicedBody body;

  std::array<asio::const_buffer, 6> buffers() const {
    const auto& p = body.parts;
    return {asio::buffer(head), asio::buffer(p[0]), asio::buffer(p[1]),
            asio::buffer(p[2]), asio::buffer(p[3]), asio::buffer(p[4])};
  }
};

// The earlier of a phase's own timeout and the request's total deadline; `total_first`
// tells which one a timeout would mean.
Clock::duration Budget(Clock::duration phase, Clock::time_point deadline, bool& total_first);

// Returns the connection with `response` holding the parsed response head, or null with
// `failure` set. The caller reads the body into `response`, then releases the connection to
// `pool`.
asio::awaitable<ConnectionPtr> SendRequest(Pool& pool, const config::UpstreamTimeouts& timeouts,
                                           const OutgoingRequest& request,
                                           Clock::time_point deadline,
                                           std::optional<ResponseParser>& response,
                                           Failure& failure);

// Reads some of the body into `parser`, bounded by the idle and total timeouts. Maps read
// errors to a Failure (timeouts, resets, malformed responses).
template <class Parser>
asio::awaitable<Failure> ReadBodySome(Connection& connection, Parser& parser,
                                      const config::UpstreamTimeouts& timeouts,
                                      Clock::time_point deadline);

Failure BodyReadFailure(boost::system::error_code ec, bool total_first,
                        const config::UpstreamTimeouts& timeouts);

template <class Parser>
asio::awaitable<Failure> ReadBodySome(Connection& connection, Parser& parser,
                                      const config::UpstreamTimeouts& timeouts,
                                      Clock::time_point deadline) {
  bool total_first = false;
  connection.ExpiresAfter(Budget(timeouts.idle, deadline, total_first));
  auto [ec, n] = co_await connection.Read(parser, ReadUntil::kSome);
  if (ec == beast::http::error::need_buffer) ec = {};
  co_return BodyReadFailure(ec, total_first, timeouts);
}

}  // namespace switchyard::upstream
