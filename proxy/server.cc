#include "proxy/server.h"

#include <fmt/format.h>
#include <malloc.h>

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "proxy/accounting/money.h"
#include "proxy/metrics/metrics.h"
#include "proxy/accounting/tokenizer.h"
#include "proxy/session.h"
#include "proxy/upstream/exchange.h"

namespace switchyard {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;
using upstream::kAwait;

Worker::Worker(Server& server, std::shared_ptr<const Runtime> runtime, const AccessLog& access_log,
               int worker_index, int worker_count)
    : server_(server),
      access_log_(access_log),
      worker_index_(worker_index),
      worker_count_(worker_count) {
  Adopt(std::move(runtime));
  SweepIdleConnections();
}

void Worker::SweepIdleConnections() {
  pool_sweep_.expires_after(std::chrono::seconds(1));
  pool_sweep_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;  // cancelled: the worker is going away
    const auto now = upstream::Clock::now();
    for (auto& pool : current_->pools) pool->CloseIdleTooLong(now);
    std::erase_if(retired_pools_, [&](const std::weak_ptr<upstream::Pool>& retired) {
      const auto pool = retired.lock();
      if (pool) pool->CloseIdleTooLong(now);
      return !pool;
    });
    SweepIdleConnections();
  });
}

Worker::~Worker() {
  // Idle connections go now, while io_ lives, those of pools that only older configs still use
  // too.
  for (auto& pool : current_->pools) pool->Close();
  for (auto& retired : retired_pools_)
    if (const auto pool = retired.lock()) pool->Close();
}

// Whether a pool for `before` can serve `now`: the same endpoint, reached the same way.
static bool SameConnections(const config::Upstream& before, const config::Upstream& now) {
  return before.base_url == now.base_url && before.ca_file == now.ca_file &&
         before.insecure_skip_verify == now.insecure_skip_verify &&
         before.max_connections == now.max_connections &&
         before.idle_connection_timeout == now.idle_connection_timeout &&
         before.timeouts.connect == now.timeouts.connect &&
         before.timeouts.tls_handshake == now.timeouts.tls_handshake;
}

void Worker::Adopt(std::shared_ptr<const Runtime> runtime) {
  auto next = std::make_shared<WorkerRuntime>();
  next->runtime = runtime;
  const WorkerRuntime* before = current_.get();
  const auto& upstreams = runtime->upstreams();
  for (std::size_t i = 0; i < upstreams.size(); ++i) {
    const config::Upstream& cfg = *upstreams[i].config;
    std::shared_ptr<upstream::Pool> pool;
    for (std::size_t j = 0; before && j < before->pools.size(); ++j) {
      const config::Upstream& old = *before->runtime->upstreams()[j].config;
      if (old.name == cfg.name && SameConnections(old, cfg)) pool = before->pools[j];
    }
    if (!pool) {
      // The configured maximum is for the whole process: workers share it out (the first
      // ones take the remainder), each with at least one.
      const int max = cfg.max_connections;
      const int share =
          std::max(1, max / worker_count_ + (worker_index_ < max % worker_count_ ? 1 : 0));
      Metrics* metrics = &runtime->metrics();  // the pool keeps its runtime alive
      pool = std::make_shared<upstream::Pool>(
          io_.get_executor(), std::shared_ptr<const UpstreamRuntime>(runtime, &upstreams[i]), share,
          [metrics, i](bool ok) {
            if (ok) metrics->RecordUpstreamConnectionOpened(i);
          });
    }
    next->pools.push_back(std::move(pool));
  }
  for (const auto& profile : runtime->profiles()) {
    std::shared_ptr<routing::Calibrator> calibrator;
    const config::Profile& cfg = *profile.config;
    for (std::size_t j = 0; before && j < before->calibrators.size(); ++j) {
      const config::Profile& old = *before->runtime->profiles()[j].config;
      if (before->calibrators[j] && old.name == cfg.name && old.shares == cfg.shares &&
          old.thresholds == cfg.thresholds)
        calibrator = before->calibrators[j];  // keeps what it learnt of the scores
    }
    if (!calibrator && !cfg.shares.empty())
      calibrator = std::make_shared<routing::Calibrator>(cfg.shares, cfg.thresholds);
    next->calibrators.push_back(std::move(calibrator));
  }
  // A pool the new config dropped lives on, open, while requests of the old one still hold it
  // (one may yet fall back to it); its connections close with its last user.
  for (std::size_t j = 0; before && j < before->pools.size(); ++j)
    if (std::find(next->pools.begin(), next->pools.end(), before->pools[j]) == next->pools.end())
      retired_pools_.push_back(before->pools[j]);
  current_ = std::move(next);
}

bool Worker::draining() const { return server_.draining(); }

std::list<SessionSlot>::iterator Worker::AddSession(DeadlineStream& stream) {
  return sessions_.insert(sessions_.end(), SessionSlot{&stream, false});
}

void Worker::RemoveSession(std::list<SessionSlot>::iterator slot) { sessions_.erase(slot); }

void Worker::CloseIdleSessions() {
  for (auto& slot : sessions_)
    if (slot.idle) slot.stream->cancel();
}

// Sessions report errors as codes; an exception escaping one is a bug worth a log line.
static void LogEscapedException(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    fmt::print(stderr, "switchyard: a session ended with an exception: {}\n", ex.what());
  } catch (...) {
    fmt::print(stderr, "switchyard: a session ended with an unknown exception\n");
  }
}

static int WorkerCount(const Runtime& runtime, const ServerOptions& options) {
  if (options.threads > 0) return options.threads;
  if (runtime.config().listener.threads > 0) return runtime.config().listener.threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

// Loads the models' tokenizers now (tens of ms), not in the first request that needs one.
static void PreloadTokenizers(const Runtime& runtime) {
  for (const auto& model : runtime.config().models)
    if (auto encoding = accounting::ParseEncoding(model.tokenizer)) accounting::Tokenizer::Get(*encoding);
}

Server::Server(std::shared_ptr<const Runtime> runtime, ServerOptions options)
    : runtime_(std::move(runtime)), options_(std::move(options)), access_log_(options_.access_log_fd) {
  const config::Accounting& accounting = runtime_->config().accounting;
  if (accounting.ledger != "off")
    ledger_ = accounting::Ledger::Open(accounting.ledger, accounting.flush_interval);
  RestoreBudgets(*runtime_);
  PreloadTokenizers(*runtime_);
  const int n = WorkerCount(*runtime_, options_);
  for (int i = 0; i < n; ++i)
    workers_.push_back(std::make_unique<Worker>(*this, runtime_, access_log_, i, n));
}

std::shared_ptr<const Runtime> Server::runtime() const {
  std::lock_guard lock(runtime_mutex_);
  return runtime_;
}

void Server::RestoreBudgets(const Runtime& runtime) {
  const auto& budgets = runtime.config().budgets;
  if (!ledger_ || budgets.empty()) return;
  ledger_->Flush();  // the spend of every request that has ended counts
  const std::int64_t now = accounting::NowMs();
  for (const auto period : {config::BudgetPeriod::kDay, config::BudgetPeriod::kMonth}) {
    std::optional<accounting::Ledger::Totals> totals;  // queried once, if a budget needs it
    for (std::size_t i = 0; i < budgets.size(); ++i) {
      const std::size_t id = runtime.budget_ids()[i];
      if (budgets[i].period != period || runtime.budgets().restored(id)) continue;
      if (!totals)
        totals = accounting::Ledger::CostSince(ledger_->path(),
                                               accounting::Budgets::PeriodStartMs(period, now));
      const auto& spent =
          budgets[i].scope == config::Budget::Scope::kKey ? totals->by_key : totals->by_tenant;
      std::int64_t nano = 0;
      for (const auto& [name, cost] : spent)
        if (name == budgets[i].name) nano = cost;
      runtime.budgets().Restore(id, nano, now);
    }
  }
}

void Server::RefreshGauges() {
  const auto runtime = this->runtime();
  Metrics& metrics = runtime->metrics();
  const auto& upstreams = runtime->upstreams();
  for (std::size_t i = 0; i < upstreams.size(); ++i)
    metrics.SetUpstreamUp(i, upstreams[i].health->Routable(std::chrono::steady_clock::now()));
  const std::int64_t now = accounting::NowMs();
  const auto& tenants = runtime->tenants();
  for (std::size_t t = 0; t < tenants.size(); ++t) {
    if (tenants[t].budgets.empty()) continue;
    // The tightest budget: the one with the least left.
    double remaining = 0, limit = 0;
    bool first = true;
    for (std::size_t b : tenants[t].budgets) {
      const auto state = runtime->budgets().state(b, now);
      const double left =
          static_cast<double>(state.limit_nano_usd - state.spent_nano_usd - state.reserved_nano_usd) /
          accounting::kNanoPerUsd;
      if (first || left < remaining) {
        remaining = left;
        limit = static_cast<double>(state.limit_nano_usd) / accounting::kNanoPerUsd;
        first = false;
      }
    }
    metrics.SetTenantBudget(t, remaining, limit);
  }
  if (ledger_) metrics.SetLedger(ledger_->rows_written(), ledger_->write_errors());
}

Server::~Server() {
  StopWorkers();
  Wait();
  // A ledger query or a reload in flight ends while the workers it posts to still exist.
  admin_pool_.join();
  grace_timer_.reset();
  acceptor_.reset();
  workers_.clear();
  if (ledger_) ledger_->Close();  // every row, including those of requests cut off above
}

void Server::Start() {
  const auto runtime = this->runtime();
  const auto& listener = runtime->config().listener;
  asio::io_context& io = workers_[0]->io();
  const tcp::endpoint endpoint(asio::ip::make_address(listener.address), listener.port);
  acceptor_ = std::make_unique<tcp::acceptor>(io);
  acceptor_->open(endpoint.protocol());
  acceptor_->set_option(asio::socket_base::reuse_address(true));
  acceptor_->bind(endpoint);
  acceptor_->listen(asio::socket_base::max_listen_connections);
  port_ = acceptor_->local_endpoint().port();
  asio::co_spawn(io, Accept(), asio::detached);
  StartHealthChecks(runtime);
  asio::post(admin_pool_, [this] { TrimFreedMemoryLater(); });
  for (auto& worker : workers_) {
    threads_.emplace_back([w = worker.get()] {
      auto guard = asio::make_work_guard(w->io());  // idle workers keep running
      w->io().run();
    });
  }
}

void Server::StartHealthChecks(const std::shared_ptr<const Runtime>& runtime) {
  for (std::size_t i = 0; i < runtime->upstreams().size(); ++i)
    if (runtime->upstreams()[i].config->health_check.interval.count() > 0)
      asio::co_spawn(workers_[0]->io(), CheckHealth(runtime, i), asio::detached);
}

void Server::Reload(std::shared_ptr<const Runtime> next) {
  std::lock_guard reloading(reload_mutex_);
  RestoreBudgets(*next);  // before any request can spend on a budget the reload adds
  {
    std::lock_guard lock(runtime_mutex_);
    runtime_ = next;
  }
  PreloadTokenizers(*next);
  for (auto& worker : workers_)
    asio::post(worker->io(), [w = worker.get(), next] { w->Adopt(next); });
  // The old config's checks end at their next tick; these start on the first worker, once
  // it serves the new config (posted after its Adopt).
  asio::post(workers_[0]->io(), [this, next] {
    if (!draining()) StartHealthChecks(next);
  });
}

void Server::ReloadFromOptions() {
  if (!options_.reload) return;
  asio::post(admin_pool_, [this] {
    try {
      auto next = options_.reload(*runtime());
      if (!next) return;  // the reload function said why
      Reload(next);
      fmt::print(stderr, "switchyard: config reloaded ({} models, {} upstreams)\n",
                 next->models().size(), next->upstreams().size());
    } catch (const std::exception& e) {
      fmt::print(stderr, "switchyard: reload failed, still serving the previous config: {}\n",
                 e.what());
    }
  });
}

asio::awaitable<void> Server::CheckHealth(std::shared_ptr<const Runtime> runtime, std::size_t index) {
  const UpstreamRuntime& up = runtime->upstreams()[index];
  const config::HealthCheck& check = up.config->health_check;
  config::UpstreamTimeouts timeouts = up.config->timeouts;
  timeouts.connect = timeouts.tls_handshake = timeouts.first_byte = timeouts.idle =
      timeouts.total = check.timeout;
  upstream::OutgoingRequest request;
  request.head = fmt::format("GET {}{} HTTP/1.1\r\n{}Content-Length: 0\r\n\r\n",
                             up.config->url.path_prefix, check.path, up.fixed_headers);
  // The first worker's pool for this upstream in this config (the loop runs on that worker).
  const std::shared_ptr<WorkerRuntime> local = workers_[0]->current();
  upstream::Pool& pool = *local->pools[index];
  asio::steady_timer timer(workers_[0]->io());
  while (!draining() && this->runtime() == runtime) {
    std::optional<upstream::ResponseParser> response;
    upstream::Failure failure;
    const auto deadline = std::chrono::steady_clock::now() + check.timeout;
    upstream::ConnectionPtr conn =
        co_await upstream::SendRequest(pool, timeouts, request, deadline, response, failure);
    const bool ok = conn && response->status() / 100 == 2;
    if (conn) pool.Release(std::move(conn), /*reusable=*/false);
    up.health->RecordCheck(ok, std::chrono::steady_clock::now());
    timer.expires_after(check.interval);
    co_await timer.async_wait(kAwait);
  }
}

asio::awaitable<void> Server::Accept() {
  for (;;) {
    Worker& worker = *workers_[next_worker_++ % workers_.size()];
    tcp::socket socket(worker.io());
    auto [ec] = co_await acceptor_->async_accept(socket, kAwait);
    if (ec == asio::error::operation_aborted || !acceptor_->is_open()) co_return;
    if (ec) {  // e.g. out of file descriptors: back off instead of spinning
      asio::steady_timer pause(acceptor_->get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(kAwait);
      continue;
    }
    if (active_sessions_.load() >= runtime()->config().listener.max_connections)
      continue;  // the socket closes here
    DeadlineStream stream(std::move(socket));
    asio::co_spawn(worker.io(), RunSession(worker, std::move(stream)), LogEscapedException);
  }
}

void Server::Shutdown() {
  if (draining_.exchange(true) || workers_.empty()) return;
  asio::io_context& io = workers_[0]->io();
  asio::post(io, [this, &io] {
    if (acceptor_) acceptor_->close();
    grace_timer_ =
        std::make_unique<asio::steady_timer>(io, runtime()->config().listener.shutdown_grace);
    grace_timer_->async_wait([this](boost::system::error_code ec) {
      if (!ec) StopWorkers();  // in-flight requests ran out of time
    });
  });
  for (auto& worker : workers_) asio::post(worker->io(), [w = worker.get()] { w->CloseIdleSessions(); });
  if (active_sessions_.load() == 0) StopWorkers();
}

void Server::SessionEnded() {
  if (active_sessions_.fetch_sub(1) == 1 && draining()) StopWorkers();
}

void Server::StopWorkers() {
  if (stopped_.exchange(true)) return;
  for (auto& worker : workers_) worker->io().stop();
  asio::post(admin_pool_, [this] { trim_timer_.cancel(); });
}

void Server::TrimFreedMemoryLater() {
  static constexpr std::chrono::seconds kTrimInterval{30};
  trim_timer_.expires_after(kTrimInterval);
  trim_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) return;
    ::malloc_trim(0);  // 0.1-1.6 ms with a heap of about 35 MB, while the worker ran
    TrimFreedMemoryLater();
  });
}

void Server::Wait() {
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void Server::Run(const std::function<void()>& on_started) {
  asio::signal_set reloads(workers_[0]->io(), SIGHUP);
  std::function<void(boost::system::error_code, int)> on_hangup = [&](boost::system::error_code ec, int) {
    if (ec) return;
    ReloadFromOptions();
    reloads.async_wait(on_hangup);
  };
  reloads.async_wait(on_hangup);
  asio::signal_set signals(workers_[0]->io(), SIGINT, SIGTERM);
  signals.async_wait([this, &signals, &reloads](boost::system::error_code ec, int) {
    if (ec) return;
    Shutdown();
    reloads.cancel();
    signals.async_wait([this](boost::system::error_code ec2, int) {
      if (!ec2) StopWorkers();  // a second signal: stop now, without waiting for the drain
    });
  });
  Start();
  if (on_started) on_started();
  Wait();
}

}  // namespace switchyard
