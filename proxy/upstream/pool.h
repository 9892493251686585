// Keep-alive connections to one upstream, owned by one worker thread: reuses idle
// connections, opens new ones (TCP, then TLS with SNI and hostname verification) up to a
// maximum, and makes callers wait, bounded, when all are busy. Not thread-safe: every call
// happens on the owning worker's io_context. Close() before that io_context is destroyed.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <list>
#include <memory>

#include "proxy/runtime.h"
#include "proxy/upstream/connection.h"
#include "proxy/upstream/failure.h"

namespace switchyard::upstream {

using Clock = std::chrono::steady_clock;

class Pool {
 public:
  // `on_connect(ok)` runs after each attempt to open a connection (metrics, readiness).
  // `upstream` stays alive with the pool, which may outlive its config's other parts (a
  // reload keeps the pools of unchanged upstreams).
  Pool(asio::any_io_executor executor, std::shared_ptr<const UpstreamRuntime> upstream,
       int max_connections, std::function<void(bool ok)> on_connect = {});
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // An idle connection if one is fresh, else a new one. `deadline` bounds the whole wait
  // (the request's total deadline); `fresh_only` skips idle ones (retry after a stale reuse).
  // On failure returns null and fills `failure`.
  asio::awaitable<ConnectionPtr> Acquire(Clock::time_point deadline, bool fresh_only,
                                         Failure& failure);

  // Returns a connection after its response was read completely (reusable) or not.
  void Release(ConnectionPtr connection, bool reusable);

  // Closes the idle connections past the upstream's idle_connection_timeout. Release() calls it;
  // the worker's sweep calls it too, so they close when traffic stops as well.
  void CloseIdleTooLong(Clock::time_point now);

  // Drops idle connections; connections released later are dropped too.
  void Close();

 private:
  asio::awaitable<ConnectionPtr> Connect(Clock::time_point deadline, Failure& failure);
  void WakeOneWaiter();
  // Idle past the upstream's idle_connection_timeout: the upstream has likely closed it.
  bool IdleTooLong(const Connection& c, Clock::time_point now) const;

  asio::any_io_executor executor_;
  std::shared_ptr<const UpstreamRuntime> upstream_;
  const int max_connections_;
  std::deque<ConnectionPtr> idle_;  // most recently used at the back
  struct Waiter {
    asio::steady_timer timer;
    bool woken = false;  // by a release, as opposed to its deadline passing
  };
  std::list<Waiter*> waiters_;
  int open_ = 0;  // idle + in use + connecting
  std::function<void(bool ok)> on_connect_;
  bool closed_ = false;
};

}  // namespace switchyard::upstream
