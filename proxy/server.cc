#include "proxy/server.h"

#include <fmt/format.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "proxy/accounting/money.h"
#include "proxy/accounting/tokenizer.h"
#include "proxy/session.h"
#include "proxy/upstream/exchange.h"

namespace switchyard {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;
using upstream::kAwait;

Worker::Worker(Server& server, std::shared_ptr<const Runtime> runtime, Metrics& metrics,
               const AccessLog& access_log, int worker_index, int worker_count)
    : server_(server), runtime_(std::move(runtime)), metrics_(metrics), access_log_(access_log) {
  const auto& upstreams = runtime_->upstreams();
  for (std::size_t i = 0; i < upstreams.size(); ++i) {
    // The configured maximum is for the whole process: workers share it out (the first ones
    // take the remainder), each with at least one.
    const int max = upstreams[i].config->max_connections;
    const int share = std::max(1, max / worker_count + (worker_index < max % worker_count ? 1 : 0));
    pools_.push_back(std::make_unique<upstream::Pool>(
        io_.get_executor(), upstreams[i], share, [this, i](bool ok) {
          if (ok) metrics_.RecordUpstreamConnectionOpened(i);
        }));
  }
  for (const auto& profile : runtime_->profiles())
    calibrators_.push_back(profile.config->shares.empty()
                               ? nullptr
                               : std::make_unique<routing::Calibrator>(profile.config->shares,
                                                                       profile.config->thresholds));
}

Worker::~Worker() {
  for (auto& pool : pools_) pool->Close();
}

bool Worker::draining() const { return server_.draining(); }

std::list<SessionSlot>::iterator Worker::AddSession(beast::tcp_stream& stream) {
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

Server::Server(std::shared_ptr<const Runtime> runtime, ServerOptions options)
    : runtime_(std::move(runtime)),
      options_(options),
      metrics_(*runtime_),
      access_log_(options.access_log_fd),
      budgets_(runtime_->config().budgets) {
  for (const auto& up : runtime_->config().upstreams) {
    health_.push_back(std::make_unique<upstream::UpstreamHealth>(up.circuit_breaker));
    capacity_.push_back(std::make_unique<upstream::CapacityGate>(up.max_concurrent, up.max_queue));
  }
  OpenLedger();
  // Load the models' tokenizers now (tens of ms), not in the first request that needs one.
  for (const auto& model : runtime_->config().models)
    if (auto encoding = accounting::ParseEncoding(model.tokenizer)) accounting::Tokenizer::Get(*encoding);
  const int n = WorkerCount(*runtime_, options_);
  for (int i = 0; i < n; ++i)
    workers_.push_back(std::make_unique<Worker>(*this, runtime_, metrics_, access_log_, i, n));
}

// Opens the ledger and rebuilds each budget's spend this period from it, so a restart
// forgets nothing.
void Server::OpenLedger() {
  const config::Accounting& accounting = runtime_->config().accounting;
  if (accounting.ledger == "off") return;
  ledger_ = accounting::Ledger::Open(accounting.ledger, accounting.flush_interval);
  const auto& budgets = runtime_->config().budgets;
  if (budgets.empty()) return;
  const std::int64_t now = accounting::NowMs();
  for (const auto period : {config::BudgetPeriod::kDay, config::BudgetPeriod::kMonth}) {
    const auto totals =
        accounting::Ledger::CostSince(accounting.ledger, accounting::Budgets::PeriodStartMs(period, now));
    for (std::size_t i = 0; i < budgets.size(); ++i) {
      if (budgets[i].period != period) continue;
      const auto& spent =
          budgets[i].scope == config::Budget::Scope::kKey ? totals.by_key : totals.by_tenant;
      for (const auto& [name, nano] : spent)
        if (name == budgets[i].name) budgets_.Restore(i, nano, now);
    }
  }
}

void Server::RefreshGauges() {
  for (std::size_t i = 0; i < runtime_->upstreams().size(); ++i)
    metrics_.SetUpstreamUp(i, UpstreamUsable(i));
  const std::int64_t now = accounting::NowMs();
  const auto& tenants = runtime_->tenants();
  for (std::size_t t = 0; t < tenants.size(); ++t) {
    if (tenants[t].budgets.empty()) continue;
    // The tightest budget: the one with the least left.
    double remaining = 0, limit = 0;
    bool first = true;
    for (std::size_t b : tenants[t].budgets) {
      const auto state = budgets_.state(b, now);
      const double left =
          static_cast<double>(state.limit_nano_usd - state.spent_nano_usd - state.reserved_nano_usd) /
          accounting::kNanoPerUsd;
      if (first || left < remaining) {
        remaining = left;
        limit = static_cast<double>(state.limit_nano_usd) / accounting::kNanoPerUsd;
        first = false;
      }
    }
    metrics_.SetTenantBudget(t, remaining, limit);
  }
  if (ledger_) metrics_.SetLedger(ledger_->rows_written(), ledger_->write_errors());
}

Server::~Server() {
  StopWorkers();
  Wait();
  grace_timer_.reset();
  acceptor_.reset();
  workers_.clear();
  admin_pool_.join();  // a ledger query in flight ends before the ledger closes
  if (ledger_) ledger_->Close();  // every row, including those of requests cut off above
}

void Server::Start() {
  const auto& listener = runtime_->config().listener;
  asio::io_context& io = workers_[0]->io();
  const tcp::endpoint endpoint(asio::ip::make_address(listener.address), listener.port);
  acceptor_ = std::make_unique<tcp::acceptor>(io);
  acceptor_->open(endpoint.protocol());
  acceptor_->set_option(asio::socket_base::reuse_address(true));
  acceptor_->bind(endpoint);
  acceptor_->listen(asio::socket_base::max_listen_connections);
  port_ = acceptor_->local_endpoint().port();
  asio::co_spawn(io, Accept(), asio::detached);
  for (std::size_t i = 0; i < runtime_->upstreams().size(); ++i)
    if (runtime_->upstreams()[i].config->health_check.interval.count() > 0)
      asio::co_spawn(io, CheckHealth(i), asio::detached);
  for (auto& worker : workers_) {
    threads_.emplace_back([w = worker.get()] {
      auto guard = asio::make_work_guard(w->io());  // idle workers keep running
      w->io().run();
    });
  }
}

asio::awaitable<void> Server::CheckHealth(std::size_t index) {
  const UpstreamRuntime& up = runtime_->upstreams()[index];
  const config::HealthCheck& check = up.config->health_check;
  config::UpstreamTimeouts timeouts = up.config->timeouts;
  timeouts.connect = timeouts.tls_handshake = timeouts.first_byte = timeouts.idle =
      timeouts.total = check.timeout;
  upstream::OutgoingRequest request;
  request.head = fmt::format("GET {}{} HTTP/1.1\r\n{}Content-Length: 0\r\n\r\n",
                             up.config->url.path_prefix, check.path, up.fixed_headers);
  asio::steady_timer timer(workers_[0]->io());
  while (!draining()) {
    std::optional<upstream::HeadParser> head;
    upstream::Failure failure;
    const auto deadline = std::chrono::steady_clock::now() + check.timeout;
    upstream::ConnectionPtr conn = co_await upstream::SendRequest(
        workers_[0]->pool(index), timeouts, request, deadline, head, failure);
    const bool ok = conn && head->get().result_int() / 100 == 2;
    if (conn) workers_[0]->pool(index).Release(std::move(conn), /*reusable=*/false);
    health_[index]->RecordCheck(ok, std::chrono::steady_clock::now());
    timer.expires_after(check.interval);
    co_await timer.async_wait(kAwait);
  }
}

asio::awaitable<void> Server::Accept() {
  const int max_connections = runtime_->config().listener.max_connections;
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
    if (active_sessions_.load() >= max_connections) continue;  // socket closes here
    beast::tcp_stream stream(std::move(socket));
    asio::co_spawn(worker.io(), RunSession(worker, std::move(stream)), LogEscapedException);
  }
}

void Server::Shutdown() {
  if (draining_.exchange(true) || workers_.empty()) return;
  asio::io_context& io = workers_[0]->io();
  asio::post(io, [this, &io] {
    if (acceptor_) acceptor_->close();
    grace_timer_ = std::make_unique<asio::steady_timer>(io, runtime_->config().listener.shutdown_grace);
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
}

void Server::Wait() {
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void Server::Run(const std::function<void()>& on_started) {
  asio::signal_set signals(workers_[0]->io(), SIGINT, SIGTERM);
  signals.async_wait([this, &signals](boost::system::error_code ec, int) {
    if (ec) return;
    Shutdown();
    signals.async_wait([this](boost::system::error_code ec2, int) {
      if (!ec2) StopWorkers();  // a second signal: stop now, without waiting for the drain
    });
  });
  Start();
  if (on_started) on_started();
  Wait();
}

}  // namespace switchyard
