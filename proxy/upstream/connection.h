// One connection to an upstream, plain TCP or TLS, with the operations the proxy needs
// written once over both. Not thread-safe: used by one request at a time on its worker.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <memory>
#include <variant>

#include "proxy/deadline_stream.h"
#include "proxy/http_read.h"

namespace switchyard::upstream {

namespace asio = boost::asio;
namespace beast = boost::beast;
inline constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

using TcpStream = DeadlineStream;
using TlsStream = beast::ssl_stream<DeadlineStream>;

class Connection {
 public:
  explicit Connection(TcpStream tcp) : stream_(std::move(tcp)) { buffer_.reserve(kReadBytes); }
  explicit Connection(TlsStream tls) : stream_(std::move(tls)) { buffer_.reserve(kReadBytes); }

  TcpStream& tcp() {
    return std::visit([](auto& s) -> TcpStream& { return beast::get_lowest_layer(s); }, stream_);
  }
  void ExpiresAfter(std::chrono::steady_clock::duration d) { tcp().expires_after(d); }

  template <class Buffers>
  asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> Write(const Buffers& b) {
    return std::visit([&](auto& s) { return asio::async_write(s, b, kAwait); }, stream_);
  }
  template <class Parser>
  asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> Read(Parser& p, ReadUntil until) {
    return std::visit([&](auto& s) { return ReadHttp(s, buffer_, p, until); }, stream_);
  }

  // Bytes already read past the previous response: a reusable connection has none.
  bool has_unread_bytes() const { return buffer_.size() != 0; }
  // Read but not yet parsed: more than a chunk's trailing CRLF means the next chunk has
  // started arriving, so parsing on will not wait for the network.
  bool next_chunk_buffered() const { return buffer_.size() > 2; }

  // An idle connection is usable if the upstream has neither closed it nor sent anything
  // (a close_notify or stray bytes) since its last response. One non-blocking peek when it is
  // taken from the pool tells. A readiness wait kept pending in the reactor instead costs an
  // epoll_ctl per reuse all the same, and misses a close the reactor has not polled yet.
  bool StillOpen();

  std::chrono::steady_clock::time_point idle_since{};
  int requests = 0;  // served on this connection so far; > 0 means reused

 private:
  // Beast reads what the buffer has room for, at least 512 bytes: room for a typical
  // response (headers included) makes it one read instead of two or three. Small, since a
  // thousand open streams hold a thousand of these.
  static constexpr std::size_t kReadBytes = 4 * 1024;
  std::variant<TcpStream, TlsStream> stream_;
  // Bounded: Beast limits neither chunk-extension lines nor trailers.
  beast::flat_buffer buffer_{1024 * 1024};
};

using ConnectionPtr = std::unique_ptr<Connection>;

}  // namespace switchyard::upstream
