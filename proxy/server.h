// The listening server: N worker threads, each running its own io_context with its own
// upstream connection pools (Envoy's worker model: no locks and no cross-thread hand-offs on
// the request path). One acceptor hands connections to workers in turn. Graceful shutdown:
// stop accepting, close idle keep-alive connections, let in-flight requests finish within
// the grace period. Start/Shutdown/Wait may be called from any thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <thread>
#include <vector>

#include "proxy/access_log.h"
#include "proxy/accounting/budgets.h"
#include "proxy/accounting/ledger.h"
#include "proxy/metrics/metrics.h"
#include "proxy/routing/calibrator.h"
#include "proxy/runtime.h"
#include "proxy/upstream/capacity.h"
#include "proxy/upstream/health.h"
#include "proxy/upstream/pool.h"

namespace switchyard {

class Server;

// A client connection's entry in its worker's registry, so a drain can close idle ones.
struct SessionSlot {
  boost::beast::tcp_stream* stream = nullptr;
  bool idle = false;  // waiting for the next request on a kept-alive connection
};

class Worker {
 public:
  Worker(Server& server, std::shared_ptr<const Runtime> runtime, Metrics& metrics,
         const AccessLog& access_log, int worker_index, int worker_count);
  ~Worker();

  boost::asio::io_context& io() { return io_; }
  const std::shared_ptr<const Runtime>& runtime() const { return runtime_; }
  upstream::Pool& pool(std::size_t upstream_index) { return *pools_[upstream_index]; }
  // The thresholds a profile with target shares uses on this worker (null: fixed thresholds).
  routing::Calibrator* calibrator(std::size_t profile_index) {
    return calibrators_[profile_index].get();
  }
  Metrics& metrics() { return metrics_; }
  const AccessLog& access_log() const { return access_log_; }
  bool draining() const;
  Server& server() { return server_; }

  std::list<SessionSlot>::iterator AddSession(boost::beast::tcp_stream& stream);
  void RemoveSession(std::list<SessionSlot>::iterator slot);
  void CloseIdleSessions();  // on this worker's thread

 private:
  Server& server_;
  std::shared_ptr<const Runtime> runtime_;
  Metrics& metrics_;
  const AccessLog& access_log_;
  // Everything coroutine frames touch is declared before io_: io_ is destroyed first, and
  // the frames it destroys still release connections into (closed) pools and unregister
  // their sessions.
  std::vector<std::unique_ptr<upstream::Pool>> pools_;
  std::vector<std::unique_ptr<routing::Calibrator>> calibrators_;  // by profile index
  std::list<SessionSlot> sessions_;
  boost::asio::io_context io_{1};
};

struct ServerOptions {
  int threads = 0;         // 0: the config's listen.threads, else one per core
  int access_log_fd = 1;   // -1: off
};

class Server {
 public:
  Server(std::shared_ptr<const Runtime> runtime, ServerOptions options = {});
  ~Server();

  // Binds the listener (port 0 picks one) and starts the workers. Throws on bind errors.
  void Start();
  uint16_t port() const { return port_; }
  // Begins a graceful shutdown; returns at once.
  void Shutdown();
  // Blocks until every worker has stopped.
  void Wait();
  // Start, call `on_started`, serve until SIGINT/SIGTERM, drain, return.
  void Run(const std::function<void()>& on_started = {});

  bool draining() const { return draining_.load(); }
  Metrics& metrics() { return metrics_; }
  accounting::Budgets& budgets() { return budgets_; }
  accounting::Ledger* ledger() { return ledger_.get(); }  // null when the ledger is off
  // A thread for admin work that may block (ledger queries), off the workers' threads.
  boost::asio::thread_pool::executor_type admin_executor() { return admin_pool_.get_executor(); }
  // Sets the gauges that show state (upstreams up, budgets left, ledger rows) before a scrape.
  void RefreshGauges();
  int worker_count() const { return static_cast<int>(workers_.size()); }

  // Each upstream's circuit breaker, rate-limit pause and latency; and its capacity.
  upstream::UpstreamHealth& health(std::size_t upstream_index) { return *health_[upstream_index]; }
  upstream::CapacityGate& capacity(std::size_t upstream_index) { return *capacity_[upstream_index]; }
  bool UpstreamUsable(std::size_t upstream_index) const {
    return health_[upstream_index]->Routable(std::chrono::steady_clock::now());
  }
  double UpstreamLatency(std::size_t upstream_index) const {
    return health_[upstream_index]->latency_seconds();
  }

  // Sessions call these (from their worker threads).
  void SessionStarted() { active_sessions_.fetch_add(1); }
  void SessionEnded();

 private:
  void StopWorkers();
  void OpenLedger();
  // GET the upstream's health_check.path every interval on the first worker, until it stops.
  boost::asio::awaitable<void> CheckHealth(std::size_t upstream_index);
  boost::asio::awaitable<void> Accept();

  std::shared_ptr<const Runtime> runtime_;
  ServerOptions options_;
  Metrics metrics_;
  AccessLog access_log_;
  // Declared before the workers: requests still account into them while workers are destroyed.
  std::unique_ptr<accounting::Ledger> ledger_;
  accounting::Budgets budgets_;
  boost::asio::thread_pool admin_pool_{1};
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::vector<std::thread> threads_;
  std::unique_ptr<boost::asio::steady_timer> grace_timer_;
  std::atomic<bool> draining_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<int> active_sessions_{0};
  std::vector<std::unique_ptr<upstream::UpstreamHealth>> health_;   // by upstream index
  std::vector<std::unique_ptr<upstream::CapacityGate>> capacity_;    // by upstream index
  uint16_t port_ = 0;
  std::size_t next_worker_ = 0;
};

}  // namespace switchyard
