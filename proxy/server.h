// The listening server: N worker threads, each running its own io_context with its own
// upstream connection pools (Envoy's worker model: no locks and no cross-thread hand-offs on
// the request path). One acceptor hands connections to workers in turn. Graceful shutdown:
// stop accepting, close idle keep-alive connections, let in-flight requests finish within
// the grace period. Hot reload: a new Runtime for new requests, the old one for those in
// flight. Start/Shutdown/Wait/Reload may be called from any thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "proxy/access_log.h"
#include "proxy/accounting/ledger.h"
#include "proxy/deadline_stream.h"
#include "proxy/routing/calibrator.h"
#include "proxy/runtime.h"
#include "proxy/upstream/pool.h"

namespace switchyard {

class Server;

// A Runtime as one worker serves it: with this worker's connection pools and routing
// calibrators. A request keeps the one it started on until it ends; a reload gives the worker
// a new one that keeps the pools of unchanged upstreams (and their idle connections).
struct WorkerRuntime {
  std::shared_ptr<const Runtime> runtime;
  std::vector<std::shared_ptr<upstream::Pool>> pools;  // by upstream index
  // By profile index; null for a profile with fixed thresholds.
  std::vector<std::shared_ptr<routing::Calibrator>> calibrators;
};

// A client connection's entry in its worker's registry, so a drain can close idle ones.
struct SessionSlot {
  DeadlineStream* stream = nullptr;
  bool idle = false;  // waiting for the next request on a kept-alive connection
};

class Worker {
 public:
  Worker(Server& server, std::shared_ptr<const Runtime> runtime, const AccessLog& access_log,
         int worker_index, int worker_count);
  ~Worker();

  boost::asio::io_context& io() { return io_; }
  // What requests starting now on this worker are served with. On this worker's thread.
  const std::shared_ptr<WorkerRuntime>& current() const { return current_; }
  // Serves new requests with `runtime` from now on. On this worker's thread.
  void Adopt(std::shared_ptr<const Runtime> runtime);
  const AccessLog& access_log() const { return access_log_; }
  bool draining() const;
  Server& server() { return server_; }

  std::list<SessionSlot>::iterator AddSession(DeadlineStream& stream);
  void RemoveSession(std::list<SessionSlot>::iterator slot);
  void CloseIdleSessions();  // on this worker's thread

 private:
  // Every second: closes pooled upstream connections idle past their timeout, which a release
  // or a reuse would otherwise only close when the next request comes. Pools a reload retired
  // are swept while requests of the old config still hold them.
  void SweepIdleConnections();

  Server& server_;
  const AccessLog& access_log_;
  const int worker_index_;
  const int worker_count_;
  // Declared before io_, so destroyed after it: the coroutine frames io_ destroys still
  // release connections into pools and unregister their sessions. Frames own the
  // WorkerRuntime they started on.
  std::shared_ptr<WorkerRuntime> current_;
  std::vector<std::weak_ptr<upstream::Pool>> retired_pools_;  // dropped by a reload
  std::list<SessionSlot> sessions_;
  boost::asio::io_context io_{1};
  boost::asio::steady_timer pool_sweep_{io_};  // after io_: cancelled before io_ is destroyed
};

struct ServerOptions {
  int threads = 0;         // 0: the config's listen.threads, else one per core
  int access_log_fd = 1;   // -1: off
  // Run() reloads on SIGHUP with this: the next Runtime built from `current` and the config
  // file, or null when the file is not valid (the function logs why). Unset: SIGHUP is ignored.
  std::function<std::shared_ptr<const Runtime>(const Runtime& current)> reload;
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
  // Start, call `on_started`, serve until SIGINT/SIGTERM (reloading on SIGHUP), drain, return.
  void Run(const std::function<void()>& on_started = {});

  // The config new requests start on.
  std::shared_ptr<const Runtime> runtime() const;
  // Switches to `next` (built from the current runtime): new requests use it; requests and
  // streams in flight finish on the config they started with. Budgets the new config adds are
  // restored from the ledger first. The listener and the ledger stay as they were started.
  // Any thread.
  void Reload(std::shared_ptr<const Runtime> next);
  // Reloads with options.reload, off the workers' threads. Any thread.
  void ReloadFromOptions();

  bool draining() const { return draining_.load(); }
  accounting::Ledger* ledger() { return ledger_.get(); }  // null when the ledger is off
  // A thread for admin work that may block (ledger queries), off the workers' threads.
  boost::asio::thread_pool::executor_type admin_executor() { return admin_pool_.get_executor(); }
  // Sets the gauges that show state (upstreams up, budgets left, ledger rows) before a scrape.
  void RefreshGauges();
  int worker_count() const { return static_cast<int>(workers_.size()); }

  // Sessions call these (from their worker threads).
  void SessionStarted() { active_sessions_.fetch_add(1); }
  void SessionEnded();

 private:
  void StopWorkers();
  // Rebuilds the spend this period of `runtime`'s budgets not restored yet from the ledger,
  // so neither a restart nor a reload forgets any.
  void RestoreBudgets(const Runtime& runtime);
  void StartHealthChecks(const std::shared_ptr<const Runtime>& runtime);
  // GET the upstream's health_check.path every interval on the first worker, until it stops
  // or a reload replaces `runtime`.
  boost::asio::awaitable<void> CheckHealth(std::shared_ptr<const Runtime> runtime,
                                           std::size_t upstream_index);
  boost::asio::awaitable<void> Accept();
  // Every 30 s on the admin thread: hands the memory that bursts of large bodies left free in
  // malloc's heaps back to the OS, which glibc would keep (a burst of 128 KB prompts left
  // RSS 11 MB higher for good).
  void TrimFreedMemoryLater();

  mutable std::mutex runtime_mutex_;
  std::shared_ptr<const Runtime> runtime_;  // under runtime_mutex_
  std::mutex reload_mutex_;                 // one reload at a time
  ServerOptions options_;
  AccessLog access_log_;
  // Declared before the workers: requests still account into them while workers are destroyed.
  std::unique_ptr<accounting::Ledger> ledger_;
  boost::asio::thread_pool admin_pool_{1};
  boost::asio::steady_timer trim_timer_{admin_pool_};  // used on the admin thread only
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::vector<std::thread> threads_;
  std::unique_ptr<boost::asio::steady_timer> grace_timer_;
  std::atomic<bool> draining_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<int> active_sessions_{0};
  uint16_t port_ = 0;
  std::size_t next_worker_ = 0;
};

}  // namespace switchyard
