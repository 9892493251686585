// Open-loop fixed-rate load (see modes.h).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>
#include <cmath>
#include <cstdio>
#include <deque>
#include <fstream>
#include <map>
#include <memory>

#include "bench/load/modes.h"

namespace switchyard::load {
namespace {

struct Conn {
  explicit Conn(asio::any_io_executor executor) : socket(std::move(executor)) {}
  tcp::socket socket;
  beast::flat_buffer buffer;
};
using ConnPtr = std::shared_ptr<Conn>;

struct Job {
  Clock::time_point due;
  bool measured = false;
  std::size_t request = 0;  // index into RateOptions::requests
};

// Every request of one kind, warm-up included: how each ended.
struct Tally {
  uint64_t sent = 0;               // written completely
  uint64_t errors = 0;             // sent, but the connection failed before a complete response
  uint64_t unsent = 0;             // the connect or the write failed
  std::map<int, uint64_t> status;  // complete responses by status
};

struct RateRun {
  const RateOptions* o = nullptr;
  asio::io_context* io = nullptr;
  tcp::endpoint endpoint;
  std::vector<ConnPtr> idle;
  std::vector<std::weak_ptr<Conn>> all;
  std::deque<Job> backlog;
  int open = 0, max_open = 0;
  bool stopping = false;
  uint64_t measured_due = 0, measured_done = 0, errors = 0, non_2xx = 0, queued = 0;
  uint64_t connects = 0, connect_errors = 0;
  std::string first_error;
  std::vector<uint32_t> latency, service, ttfb;
  std::vector<Tally> tallies;                   // per RateOptions::requests entry
  std::map<std::string, uint64_t> error_kinds;  // transport errors by message, warm-up included
  Clock::time_point measure_start{}, last_done{};

  // `written`: the whole request went out (false when the connect or the write failed).
  void Record(const Job& job, Clock::time_point sent, const ResponseResult& r,
              Clock::time_point done, bool written);
  void Submit(Job job);
  ConnPtr NewConn() {
    auto c = std::make_shared<Conn>(io->get_executor());
    all.push_back(c);
    ++open;
    max_open = std::max(max_open, open);
    return c;
  }
};

void RateRun::Record(const Job& job, Clock::time_point sent, const ResponseResult& r,
                     Clock::time_point done, bool written) {
  Tally& tally = tallies[job.request];
  if (!written) {
    ++tally.unsent;
  } else {
    ++tally.sent;
    r.ec ? ++tally.errors : ++tally.status[r.status];
  }
  if (r.ec) ++error_kinds[r.ec.message()];
  if (!job.measured) return;
  if (r.ec) {
    ++errors;
    if (first_error.empty()) first_error = r.ec.message();
    return;
  }
  ++measured_done;
  if (r.status < 200 || r.status > 299) ++non_2xx;
  latency.push_back(Micros(done - job.due));
  service.push_back(Micros(done - sent));
  if (r.first_body_byte) ttfb.push_back(Micros(*r.first_body_byte - job.due));
  last_done = std::max(last_done, done);
}

asio::awaitable<void> Serve(RateRun* run, ConnPtr conn, Job job);

void RateRun::Submit(Job job) {
  if (job.measured) ++measured_due;
  if (!idle.empty()) {
    ConnPtr c = std::move(idle.back());
    idle.pop_back();
    asio::co_spawn(*io, Serve(this, std::move(c), job), asio::detached);
  } else if (open < o->max_connections) {
    asio::co_spawn(*io, Serve(this, NewConn(), job), asio::detached);
  } else {
    if (job.measured) ++queued;
    backlog.push_back(job);
  }
}

// Runs `job` on `conn` (connecting it first if needed), then whatever waits in the backlog;
// parks the connection as idle when there is nothing left to do.
asio::awaitable<void> Serve(RateRun* run, ConnPtr conn, Job job) {
  for (;;) {
    if (!conn->socket.is_open()) {
      ++run->connects;
      auto [ec] = co_await conn->socket.async_connect(run->endpoint, kAwait);
      if (ec) {
        ++run->connect_errors;
        ResponseResult failed;
        failed.ec = ec;
        run->Record(job, Clock::now(), failed, Clock::now(), false);
        --run->open;
        co_return;  // the backlog waits for the next Submit to open a connection
      }
      conn->socket.set_option(tcp::no_delay(true), ec);
    }
    const auto sent = Clock::now();
    auto [wec, wn] = co_await asio::async_write(
        conn->socket, asio::buffer(run->o->requests[job.request].bytes), kAwait);
    ResponseResult r;
    if (wec) {
      r.ec = wec;
    } else {
      r = co_await ReadResponse(&conn->socket, &conn->buffer, nullptr);
    }
    run->Record(job, sent, r, Clock::now(), !wec);
    if (run->stopping) co_return;
    if (r.ec || !r.keep_alive) {
      boost::system::error_code ignored;
      conn->socket.close(ignored);
      conn->buffer.clear();
      --run->open;
      if (run->backlog.empty()) co_return;
      job = run->backlog.front();
      run->backlog.pop_front();
      conn = run->NewConn();
      continue;
    }
    if (run->backlog.empty()) {
      run->idle.push_back(std::move(conn));
      co_return;
    }
    job = run->backlog.front();
    run->backlog.pop_front();
  }
}

// Submits the requests at their due times, waits for the measured ones, then samples the
// watched processes and stops everything.
asio::awaitable<void> Dispatch(RateRun* run, std::vector<std::pair<std::string, uint64_t>>* t0,
                               std::vector<std::pair<std::string, uint64_t>>* t1,
                               std::vector<std::pair<std::string, uint64_t>>* rss) {
  const RateOptions& o = *run->o;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto interval = std::chrono::duration<double>(1.0 / o.rate);
  const auto start = Clock::now() + std::chrono::milliseconds(10);
  auto due_at = [&](uint64_t i) {
    return start + std::chrono::duration_cast<Clock::duration>(interval * static_cast<double>(i));
  };
  const uint64_t warmup_n = static_cast<uint64_t>(std::llround(o.warmup_s * o.rate));
  const uint64_t total = warmup_n + static_cast<uint64_t>(std::llround(o.duration_s * o.rate));
  run->measure_start = due_at(warmup_n);
  bool sampled = false;
  for (uint64_t i = 0; i < total;) {
    const auto due = due_at(i);
    if (due > Clock::now()) {
      timer.expires_at(due);
      co_await timer.async_wait(kAwait);
    }
    const auto now = Clock::now();
    if (!sampled && i >= warmup_n && o.watch) {
      *t0 = o.watch->Ticks();
      sampled = true;
    }
    for (; i < total && due_at(i) <= now; ++i)
      run->Submit(Job{due_at(i), i >= warmup_n, i % o.requests.size()});
  }
  // Wait for the measured requests still running (bounded by drain_s).
  const auto drain_until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                              std::chrono::duration<double>(o.drain_s));
  while (run->measured_done + run->errors < run->measured_due && Clock::now() < drain_until) {
    timer.expires_after(std::chrono::milliseconds(2));
    co_await timer.async_wait(kAwait);
  }
  if (o.watch) {
    *t1 = o.watch->Ticks();
    *rss = o.watch->RssKb();
  }
  run->stopping = true;
  for (auto& weak : run->all) {
    if (auto c = weak.lock()) {
      boost::system::error_code ignored;
      c->socket.close(ignored);
    }
  }
  run->io->stop();
}

}  // namespace

int RunRate(const RateOptions& o) {
  asio::io_context io(1);
  RateRun run;
  run.o = &o;
  run.io = &io;
  run.endpoint = tcp::endpoint(asio::ip::make_address(o.target.host), o.target.port);
  run.latency.reserve(static_cast<std::size_t>(o.rate * o.duration_s) + 16);
  run.service.reserve(run.latency.capacity());
  run.ttfb.reserve(run.latency.capacity());
  run.tallies.resize(o.requests.size());
  std::vector<std::pair<std::string, uint64_t>> t0, t1, rss;
  asio::co_spawn(io, Dispatch(&run, &t0, &t1, &rss), asio::detached);
  io.run();

  const uint64_t unfinished = run.measured_due - run.measured_done - run.errors;
  const double window_s = std::max(
      o.duration_s, std::chrono::duration<double>(run.last_done - run.measure_start).count());
  std::vector<std::pair<std::string, uint64_t>> cpu;
  for (std::size_t i = 0; i < t0.size() && i < t1.size(); ++i)
    cpu.emplace_back(t0[i].first, t1[i].second - t0[i].second);
  if (!o.latencies_out.empty()) {
    std::ofstream out(o.latencies_out);
    for (uint32_t v : run.latency) out << v << '\n';
  }
  // Warm-up included: per request kind, then the totals.
  Tally total;
  std::string by_request = "[";
  for (std::size_t i = 0; i < run.tallies.size(); ++i) {
    const Tally& t = run.tallies[i];
    total.sent += t.sent;
    total.errors += t.errors;
    total.unsent += t.unsent;
    std::vector<std::pair<std::string, uint64_t>> status;
    for (const auto& [code, n] : t.status) {
      status.emplace_back(std::to_string(code), n);
      total.status[code] += n;
    }
    by_request +=
        (i ? ",{\"label\":" : "{\"label\":") + JsonString(o.requests[i].label) +
        ",\"sent\":" + std::to_string(t.sent) + ",\"errors\":" + std::to_string(t.errors) +
        ",\"unsent\":" + std::to_string(t.unsent) + ",\"status\":" + LabelsJson(status) + "}";
  }
  by_request += "]";
  std::vector<std::pair<std::string, uint64_t>> status_total, error_kinds;
  for (const auto& [code, n] : total.status) status_total.emplace_back(std::to_string(code), n);
  for (const auto& [message, n] : run.error_kinds) error_kinds.emplace_back(message, n);
  std::printf(
      "LOADJSON {\"mode\":\"rate\",\"offered_rps\":%.1f,\"duration_s\":%.3f,\"window_s\":%.3f,"
      "\"requests\":%llu,\"rps\":%.2f,\"errors\":%llu,\"unfinished\":%llu,\"non_2xx\":%llu,"
      "\"queued\":%llu,\"connections_max\":%d,\"connects\":%llu,\"connect_errors\":%llu,"
      "\"latency_us\":%s,\"service_us\":%s,\"ttfb_us\":%s,\"cpu_ticks\":%s,\"rss_kb\":%s,"
      "\"first_error\":%s,\"sent_total\":%llu,\"errors_total\":%llu,\"unsent_total\":%llu,"
      "\"status_total\":%s,\"error_kinds\":%s,\"by_request\":%s}\n",
      o.rate, o.duration_s, window_s, static_cast<unsigned long long>(run.measured_done),
      static_cast<double>(run.measured_done) / window_s,
      static_cast<unsigned long long>(run.errors), static_cast<unsigned long long>(unfinished),
      static_cast<unsigned long long>(run.non_2xx), static_cast<unsigned long long>(run.queued),
      run.max_open, static_cast<unsigned long long>(run.connects),
      static_cast<unsigned long long>(run.connect_errors),
      SummaryJson(Summarize(run.latency)).c_str(), SummaryJson(Summarize(run.service)).c_str(),
      SummaryJson(Summarize(run.ttfb)).c_str(), LabelsJson(cpu).c_str(), LabelsJson(rss).c_str(),
      JsonString(run.first_error).c_str(), static_cast<unsigned long long>(total.sent),
      static_cast<unsigned long long>(total.errors), static_cast<unsigned long long>(total.unsent),
      LabelsJson(status_total).c_str(), LabelsJson(error_kinds).c_str(), by_request.c_str());
  std::fflush(stdout);
  return run.measured_done > 0 ? 0 : 1;
}

}  // namespace switchyard::load
