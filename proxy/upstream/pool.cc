#include "proxy/upstream/pool.h"

#include "proxy/upstream/exchange.h"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cerrno>


#include <boost/asio/ssl/host_name_verification.hpp>

namespace switchyard::upstream {

namespace ssl = asio::ssl;
using boost::system::error_code;

Pool::Pool(asio::any_io_executor executor, std::shared_ptr<const UpstreamRuntime> upstream,
           int max_connections, std::function<void(bool ok)> on_connect)
    : executor_(executor),
      upstream_(std::move(upstream)),
      max_connections_(std::max(1, max_connections)),
      on_connect_(std::move(on_connect)) {}

bool Connection::StillOpen() {
  char byte;
  const ssize_t n = ::recv(tcp().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

bool Pool::IdleTooLong(const Connection& c, Clock::time_point now) const {
  return now - c.idle_since >= upstream_->config->idle_connection_timeout;
}

void Pool::Close() {
  closed_ = true;
  open_ -= static_cast<int>(idle_.size());
  idle_.clear();
  while (!waiters_.empty()) WakeOneWaiter();
}

void Pool::WakeOneWaiter() {
  if (waiters_.empty()) return;
  waiters_.front()->woken = true;
  waiters_.front()->timer.cancel();
  waiters_.pop_front();
}

void Pool::Release(ConnectionPtr connection, bool reusable) {
  const auto now = Clock::now();
  if (reusable && !closed_ && !connection->has_unread_bytes()) {
    connection->idle_since = now;
    idle_.push_back(std::move(connection));
  } else {
    --open_;
  }
  // Reuse takes the newest, so the oldest would wait for the pool to be used that deep: close
  // those idle too long now instead of holding them half-closed.
  CloseIdleTooLong(now);
  WakeOneWaiter();
}

void Pool::CloseIdleTooLong(Clock::time_point now) {
  while (!idle_.empty() && IdleTooLong(*idle_.front(), now)) {  // oldest at the front
    idle_.pop_front();
    --open_;
  }
}

asio::awaitable<ConnectionPtr> Pool::Acquire(Clock::time_point deadline, bool fresh_only,
                                             Failure& failure) {
  const auto& cfg = *upstream_->config;
  for (;;) {
    if (closed_) {
      failure = {FailureKind::kConnect, "the proxy is shutting down"};
      co_return nullptr;
    }
    // Reuse the most recently used idle connection; drop those idle too long (the
    // upstream has likely closed them).
    const auto now = Clock::now();
    while (!fresh_only && !idle_.empty()) {
      ConnectionPtr c = std::move(idle_.back());
      idle_.pop_back();
      if (IdleTooLong(*c, now) || !c->StillOpen()) {
        --open_;
        continue;
      }
      co_return c;
    }
    if (open_ < max_connections_) break;
    if (fresh_only && !idle_.empty()) {  // make room: the oldest idle one goes
      idle_.pop_front();
      --open_;
      break;
    }
    // Waiting for a busy connection is bounded like connecting would be.
    Waiter waiter{asio::steady_timer(executor_, std::min(deadline, now + cfg.timeouts.connect))};
    auto it = waiters_.insert(waiters_.end(), &waiter);
    co_await waiter.timer.async_wait(kAwait);
    if (!waiter.woken) {
      waiters_.erase(it);
      failure = {FailureKind::kPoolTimeout,
                 fmt::format("all {} connections stayed busy", max_connections_)};
      co_return nullptr;
    }
  }
  if (Clock::now() >= deadline) {  // nothing left to connect with: not the upstream's fault
    failure = {FailureKind::kTotalTimeout, "total deadline passed before connecting"};
    co_return nullptr;
  }
  ++open_;
  ConnectionPtr c = co_await Connect(deadline, failure);
  if (on_connect_) on_connect_(c != nullptr);
  if (!c) {
    --open_;
    WakeOneWaiter();
  }
  co_return c;
}

asio::awaitable<ConnectionPtr> Pool::Connect(Clock::time_point deadline, Failure& failure) {
  const auto& cfg = *upstream_->config;
  // A resolver per new connection: the pool holds no I/O object that could outlive the
  // io_context (see Close()).
  asio::ip::tcp::resolver resolver(executor_);
  auto [rec, endpoints] =
      co_await resolver.async_resolve(cfg.url.host, std::to_string(cfg.url.port), kAwait);
  if (rec) {
    failure = {FailureKind::kResolve, fmt::format("cannot resolve {}: {}", cfg.url.host, rec.message())};
    co_return nullptr;
  }
  TcpStream tcp(executor_);
  bool total_first = false;
  tcp.expires_after(Budget(cfg.timeouts.connect, deadline, total_first));
  auto [cec, endpoint] = co_await tcp.async_connect(endpoints, kAwait);
  if (cec == beast::error::timeout) {
    failure = total_first ? Failure{FailureKind::kTotalTimeout, "total deadline passed while connecting"}
                          : Failure{FailureKind::kConnectTimeout,
                                    fmt::format("connect timeout ({} ms)", cfg.timeouts.connect.count())};
    co_return nullptr;
  }
  if (cec) {
    failure = {FailureKind::kConnect, fmt::format("cannot connect to {}:{}: {}", cfg.url.host,
                                                  cfg.url.port, cec.message())};
    co_return nullptr;
  }
  error_code nodelay_ec;  // best effort; never worth failing the request
  tcp.socket().set_option(asio::ip::tcp::no_delay(true), nodelay_ec);
  if (!upstream_->tls) co_return std::make_unique<Connection>(std::move(tcp));

  TlsStream tls(std::move(tcp), *upstream_->tls);
  error_code ip_ec;
  asio::ip::make_address(cfg.url.host, ip_ec);
  if (ip_ec)  // SNI carries host names only, never addresses (RFC 6066)
    SSL_set_tlsext_host_name(tls.native_handle(), cfg.url.host.c_str());
  if (!cfg.insecure_skip_verify) tls.set_verify_callback(ssl::host_name_verification(cfg.url.host));
  beast::get_lowest_layer(tls).expires_after(Budget(cfg.timeouts.tls_handshake, deadline, total_first));
  auto [hec] = co_await tls.async_handshake(ssl::stream_base::client, kAwait);
  if (hec == beast::error::timeout) {
    failure = total_first ? Failure{FailureKind::kTotalTimeout, "total deadline passed during TLS handshake"}
                          : Failure{FailureKind::kTlsTimeout,
                                    fmt::format("TLS handshake timeout ({} ms)",
                                                cfg.timeouts.tls_handshake.count())};
    co_return nullptr;
  }
  if (hec) {
    failure = {FailureKind::kTls, fmt::format("TLS handshake with {} failed: {}", cfg.url.host,
                                              hec.message())};
    co_return nullptr;
  }
  co_return std::make_unique<Connection>(std::move(tls));
}

}  // namespace switchyard::upstream
