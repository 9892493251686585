// Many slow streams held open at once (see modes.h, RunStreams).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>

#include "bench/load/modes.h"

namespace switchyard::load {
namespace {

using Samples = std::vector<std::pair<std::string, uint64_t>>;

struct StreamsRun {
  const StreamsOptions* o = nullptr;
  asio::io_context* io = nullptr;
  tcp::endpoint endpoint;
  Clock::duration gap{};
  Clock::duration threshold{};
  std::vector<std::shared_ptr<tcp::socket>> sockets;
  int finished = 0, ok = 0, failed = 0, first_events = 0, open_now = 0, max_open = 0;
  uint64_t events = 0, delayed = 0;
  std::map<int, int> statuses;
  std::string first_error;
  std::vector<uint32_t> gaps, excess, ttfb;  // excess: observed gap - configured gap, >= 0
  Samples rss_all_open, rss_peak, rss_at_max_open, ticks0, ticks1;
  int open_at_all_open_sample = 0;
  bool all_open = false;
  bool stopped = false;
  std::FILE* trace = nullptr;  // --events-out
  Clock::time_point start{}, all_open_at{}, end{};

  void SampleRss() {
    if (!o->watch) return;
    Samples now = o->watch->RssKb();
    if (rss_peak.empty()) rss_peak = now;
    for (std::size_t i = 0; i < now.size() && i < rss_peak.size(); ++i)
      rss_peak[i].second = std::max(rss_peak[i].second, now[i].second);
    if (open_now >= max_open) rss_at_max_open = now;
  }
  void Finish(bool success, const std::string& error) {
    ++finished;
    success ? ++ok : ++failed;
    if (!success && first_error.empty()) first_error = error;
    if (finished == o->streams) Stop();
  }
  void Stop() {
    if (stopped) return;
    stopped = true;
    end = Clock::now();
    if (o->watch) ticks1 = o->watch->Ticks();
    for (auto& s : sockets) {
      boost::system::error_code ignored;
      s->close(ignored);
    }
    io->stop();
  }
};

class StreamSink : public BodySink {
 public:
  StreamSink(StreamsRun* run, int index, Clock::time_point sent)
      : run_(run), index_(index), sent_(sent) {}
  void OnBody(std::string_view bytes, Clock::time_point at) override {
    sse_.Feed(bytes, at, [this](Clock::time_point t, bool done) { OnEvent(t, done); });
  }
  bool saw_done() const { return saw_done_; }

 private:
  void OnEvent(Clock::time_point at, bool done) {
    StreamsRun& run = *run_;
    ++run.events;
    if (done) saw_done_ = true;
    if (run.trace)  // stream, event, microseconds since the start
      std::fprintf(
          run.trace, "%d %d %lld\n", index_, events_++,
          static_cast<long long>(
              std::chrono::duration_cast<std::chrono::microseconds>(at - run.start).count()));
    if (!prev_) {
      run.ttfb.push_back(Micros(at - sent_));
      if (++run.first_events == run.o->streams && !run.all_open) {
        run.all_open = true;
        run.all_open_at = at;
        run.open_at_all_open_sample = run.open_now;
        if (run.o->watch) run.rss_all_open = run.o->watch->RssKb();
      }
    } else {
      const Clock::duration observed = at - *prev_;
      run.gaps.push_back(Micros(observed));
      const Clock::duration over = observed - run.gap;
      run.excess.push_back(Micros(over));  // clamped at 0
      if (over > run.threshold) ++run.delayed;
    }
    prev_ = at;
  }

  StreamsRun* run_;
  int index_;
  int events_ = 0;
  Clock::time_point sent_;
  SseCounter sse_;
  std::optional<Clock::time_point> prev_;
  bool saw_done_ = false;
};

asio::awaitable<void> OneStream(StreamsRun* run, int index, std::shared_ptr<tcp::socket> socket,
                                Clock::time_point at) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_at(at);
  co_await timer.async_wait(kAwait);
  auto [ec] = co_await socket->async_connect(run->endpoint, kAwait);
  if (ec) {
    run->Finish(false, "connect: " + ec.message());
    co_return;
  }
  socket->set_option(tcp::no_delay(true), ec);
  const auto sent = Clock::now();
  auto [wec, wn] = co_await asio::async_write(*socket, asio::buffer(run->o->request), kAwait);
  if (wec) {
    run->Finish(false, "write: " + wec.message());
    co_return;
  }
  ++run->open_now;
  run->max_open = std::max(run->max_open, run->open_now);
  beast::flat_buffer buffer;
  StreamSink sink(run, index, sent);
  ResponseResult r = co_await ReadResponse(socket.get(), &buffer, &sink);
  --run->open_now;
  ++run->statuses[r.status];
  if (r.ec) {
    run->Finish(false, "read: " + r.ec.message());
  } else if (r.status != 200) {
    run->Finish(false, "status " + std::to_string(r.status));
  } else {
    run->Finish(sink.saw_done(), "stream ended without [DONE]");
  }
  boost::system::error_code ignored;
  socket->close(ignored);
}

asio::awaitable<void> Sampler(StreamsRun* run) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto deadline = run->start + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(run->o->timeout_s));
  while (Clock::now() < deadline) {
    run->SampleRss();
    timer.expires_after(std::chrono::milliseconds(100));
    co_await timer.async_wait(kAwait);
  }
  if (run->first_error.empty()) run->first_error = "timed out";
  run->Stop();
}

}  // namespace

int RunStreams(const StreamsOptions& o) {
  asio::io_context io(1);
  StreamsRun run;
  run.o = &o;
  run.io = &io;
  run.endpoint = tcp::endpoint(asio::ip::make_address(o.target.host), o.target.port);
  run.gap = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double, std::milli>(o.gap_ms));
  run.threshold = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double, std::milli>(o.threshold_ms));
  run.start = Clock::now() + std::chrono::milliseconds(10);
  if (!o.events_out.empty() && !(run.trace = std::fopen(o.events_out.c_str(), "w")))
    throw std::runtime_error("cannot write " + o.events_out);
  if (o.watch) run.ticks0 = o.watch->Ticks();
  for (int i = 0; i < o.streams; ++i) {
    auto socket = std::make_shared<tcp::socket>(io);
    run.sockets.push_back(socket);
    const auto at = run.start + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(o.ramp_s * i / o.streams));
    asio::co_spawn(io, OneStream(&run, i, socket, at), asio::detached);
  }
  asio::co_spawn(io, Sampler(&run), asio::detached);
  io.run();
  if (run.trace) std::fclose(run.trace);

  // Streams cut by the timeout never called Finish.
  const int unfinished = o.streams - run.finished;
  Samples cpu;
  for (std::size_t i = 0; i < run.ticks0.size() && i < run.ticks1.size(); ++i)
    cpu.emplace_back(run.ticks0[i].first, run.ticks1[i].second - run.ticks0[i].second);
  if (!o.delays_out.empty()) {
    std::ofstream out(o.delays_out);
    for (uint32_t v : run.excess) out << v << '\n';
  }
  std::string statuses = "{";
  for (const auto& [status, count] : run.statuses) {
    if (statuses.size() > 1) statuses += ',';
    statuses += "\"" + std::to_string(status) + "\":" + std::to_string(count);
  }
  statuses += "}";
  const Summary excess = Summarize(run.excess);
  std::printf(
      "LOADJSON {\"mode\":\"streams\",\"streams\":%d,\"ok\":%d,\"failed\":%d,\"unfinished\":%d,"
      "\"statuses\":%s,\"events\":%llu,\"gap_ms\":%.3f,\"threshold_ms\":%.3f,\"delayed\":%llu,"
      "\"max_delay_us\":%llu,\"delay_us\":%s,\"observed_gap_us\":%s,\"ttfb_us\":%s,"
      "\"all_open\":%s,\"all_open_after_ms\":%.1f,\"open_at_sample\":%d,\"max_open\":%d,"
      "\"rss_kb_all_open\":%s,\"rss_kb_at_max_open\":%s,\"rss_kb_peak\":%s,\"cpu_ticks\":%s,"
      "\"wall_s\":%.3f,\"first_error\":%s}\n",
      o.streams, run.ok, run.failed, unfinished, statuses.c_str(),
      static_cast<unsigned long long>(run.events), o.gap_ms, o.threshold_ms,
      static_cast<unsigned long long>(run.delayed), static_cast<unsigned long long>(excess.max),
      SummaryJson(excess).c_str(), SummaryJson(Summarize(run.gaps)).c_str(),
      SummaryJson(Summarize(run.ttfb)).c_str(), run.all_open ? "true" : "false",
      run.all_open ? std::chrono::duration<double, std::milli>(run.all_open_at - run.start).count()
                   : -1.0,
      run.open_at_all_open_sample, run.max_open, LabelsJson(run.rss_all_open).c_str(),
      LabelsJson(run.rss_at_max_open).c_str(), LabelsJson(run.rss_peak).c_str(),
      LabelsJson(cpu).c_str(), std::chrono::duration<double>(run.end - run.start).count(),
      JsonString(run.first_error).c_str());
  std::fflush(stdout);
  return run.ok == o.streams ? 0 : 1;
}

}  // namespace switchyard::load
