#include "proxy/relay.h"

#include <fmt/format.h>

#include <boost/beast/core/string.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <random>

#include "proxy/accounting/usage.h"
#include "proxy/respond.h"
#include "proxy/server.h"
#include "proxy/sse.h"
#include "proxy/upstream/exchange.h"

namespace switchyard {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using upstream::Clock;
using upstream::kAwait;

static constexpr std::size_t kStreamReadSize = 8 * 1024;
// An SSE event still incomplete past this size is not an event stream worth relaying.
static constexpr std::size_t kMaxEventBytes = 1024 * 1024;
// Generated text kept per request for estimating usage (rarely needed: streams are asked for
// their usage); longer outputs are estimated from their length.
static constexpr std::size_t kMaxGeneratedText = 64 * 1024;

static bool IsHopByHop(http::field f) {
  switch (f) {
    case http::field::connection:
    case http::field::keep_alive:
    case http::field::proxy_authenticate:
    case http::field::proxy_authorization:
    case http::field::proxy_connection:
    case http::field::te:
    case http::field::trailer:
    case http::field::transfer_encoding:
    case http::field::upgrade:
    case http::field::content_length: return true;
    default: return false;
  }
}

bool ForwardsRequestHeader(http::field f, std::string_view name) {
  if (IsHopByHop(f)) return false;
  switch (f) {
    case http::field::host:
    case http::field::authorization:  // the client's key for the proxy, not the upstream's
    case http::field::cookie:
    case http::field::expect:
    case http::field::accept_encoding:  // the proxy reads bodies, so it asks for identity
      return false;
    default: break;
  }
  // Credentials and account selectors belong to the proxy's upstream key, not to clients.
  static constexpr std::string_view kDenied[] = {"x-request-id",   "api-key",
                                                 "x-api-key",      "x-goog-api-key",
                                                 "openai-organization", "openai-project"};
  return std::none_of(std::begin(kDenied), std::end(kDenied),
                      [&](std::string_view d) { return beast::iequals(name, d); });
}

bool RelaysResponseHeader(http::field f, std::string_view name) {
  if (IsHopByHop(f) || f == http::field::set_cookie || f == http::field::server) return false;
  // The proxy's own fields: they say where this request went, not where the upstream's went
  // (an upstream may be another switchyard).
  return !beast::iequals(name, "x-request-id") && !beast::iequals(name, "x-upstream-request-id") &&
         !(name.size() > 13 && beast::iequals(name.substr(0, 13), "x-switchyard-"));
}

std::string BuildUpstreamHead(const RequestContext& ctx, std::size_t content_length) {
  const UpstreamRuntime& up = ctx.runtime->upstreams()[ctx.model->config->upstream_index];
  const std::string_view target = ctx.request.target();
  std::string head;
  head.reserve(512 + up.fixed_headers.size() + target.size());
  // "/v1/chat/completions?x" -> "<prefix>/chat/completions?x"
  head += "POST ";
  head += up.config->url.path_prefix;
  head += target.substr(3);
  head += " HTTP/1.1\r\n";
  head += up.fixed_headers;
  const HeaderFields& fields = ctx.request.fields();
  const bool has_connection = fields.Find(http::field::connection).has_value();
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const auto field = fields[i];
    if (ForwardsRequestHeader(field.name, field.name_string) && !up.SetsHeader(field.name_string) &&
        !(has_connection && fields.ListedInConnection(field.name_string)))
      AppendHeaderField(head, field.name_string, field.value);
  }
  AppendHeaderField(head, "x-request-id", ctx.request_id);
  AppendHeaderField(head, "Content-Length", content_length);
  head += "\r\n";
  return head;
}

// The upstream's response fields the client gets, then the proxy's own.
static void AddResponseHeaders(const upstream::ResponseParser& from, ResponseHead& to,
                               RequestContext& ctx) {
  const HeaderFields& fields = from.fields();
  const bool has_connection = fields.Find(http::field::connection).has_value();
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const auto field = fields[i];
    if (RelaysResponseHeader(field.name, field.name_string) &&
        !(has_connection && fields.ListedInConnection(field.name_string)))
      to.Add(field.name_string, field.value);
  }
  if (auto id = fields.Find("x-request-id")) to.Add("x-upstream-request-id", *id);
  to.Add("x-request-id", ctx.request_id);
  ctx.keep_alive = ctx.keep_alive && !ctx.worker.draining();  // a drain may have begun since
  if (ctx.profile) {  // say where routing sent it
    char score[16];
    const auto end = std::to_chars(score, score + sizeof score, ctx.score, std::chars_format::fixed, 4).ptr;
    to.Add("x-switchyard-model", ctx.model->config->name);
    to.Add("x-switchyard-upstream", ctx.model->config->upstream);
    to.Add("x-switchyard-tier", std::to_string(ctx.model->config->tier));
    to.Add("x-switchyard-score", {score, static_cast<std::size_t>(end - score)});
  }
}

static bool IsEventStream(const upstream::ResponseParser& response) {
  const auto type = response.fields().Find(http::field::content_type);
  return type && beast::iequals(type->substr(0, 17), "text/event-stream");
}

// Counts the failure and records its code for the access log.
static void NoteFailure(RequestContext& ctx, const upstream::Failure& failure) {
  ctx.runtime->metrics().RecordUpstreamFailure(ctx.model->config->upstream_index, failure.kind);
  if (ctx.upstream_answered)  // a stream or body cut short: the upstream failed after all
    ctx.runtime->upstreams()[ctx.model->config->upstream_index].health->RecordFailure(false, Clock::now());
  ctx.error_code = fmt::format("upstream_{}", upstream::KindName(failure.kind));
}

// A JSON (or any non-SSE) response: read whole, then sent with a Content-Length.
static asio::awaitable<bool> RelayWhole(RequestContext& ctx, upstream::Connection& conn,
                                        upstream::ResponseParser& parser,
                                        const config::UpstreamTimeouts& timeouts,
                                        Clock::time_point deadline) {
  while (!parser.is_done()) {
    upstream::Failure failure = co_await upstream::ReadBodySome(conn, parser, timeouts, deadline);
    if (failure) {
      NoteFailure(ctx, failure);
      openai::ApiError error = upstream::ToApiError(failure, ctx.model->config->upstream);
      co_await RespondError(ctx, std::move(error));
      co_return false;
    }
  }
  ctx.upstream_done = Clock::now();
  std::string& body = parser.body();
  if (parser.status() < 400) {
    openai::ReservePadding(body);
    ctx.usage = accounting::ParseUsageFromBody(body);
    if (!ctx.usage.present)
      ctx.generated_overflow +=
          accounting::AppendGeneratedText(body, &ctx.generated_text, kMaxGeneratedText);
  }
  ctx.status = parser.status();
  ResponseHead res(ctx.status);
  AddResponseHeaders(parser, res, ctx);
  const std::string& res_head = res.Finish(ctx.keep_alive, body.size());
  if (ctx.status >= 400) ctx.error_code = fmt::format("upstream_status_{}", ctx.status);
  const bool reusable = parser.keep_alive();
  ctx.first_byte = Clock::now();
  ctx.client.expires_after(timeouts.idle);
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(res_head), asio::buffer(body)};
  auto [ec, n] = co_await asio::async_write(ctx.client, buffers, kAwait);
  ctx.bytes_out += n;
  if (ec) ctx.client_gone = true;
  co_return reusable;
}

// Notes the usage and generated text of a block of stream events; returns what the client
// gets of them (accounting::StreamEvents).
static std::string_view NoteStreamEvents(RequestContext& ctx, std::string_view events,
                                         std::string& scratch) {
  accounting::StreamNotes notes{&ctx.usage, &ctx.generated_text, &ctx.generated_overflow,
                                kMaxGeneratedText};
  return accounting::StreamEvents(events, ctx.hide_usage_chunk, notes, scratch);
}

// One chunk of chunked transfer coding: its size line, the data, CRLF.
class ChunkFrame {
 public:
  explicit ChunkFrame(std::size_t size) {
    char* end = std::to_chars(line_, line_ + sizeof line_ - 2, size, 16).ptr;
    *end++ = '\r';
    *end++ = '\n';
    line_size_ = static_cast<std::size_t>(end - line_);
  }
  std::array<asio::const_buffer, 3> Around(std::string_view data) const {
    return {asio::buffer(line_, line_size_), asio::buffer(data), asio::buffer("\r\n", 2)};
  }

 private:
  char line_[20];
  std::size_t line_size_;
};

// Writes one chunk to the client; false when the client is gone.
template <class Buffers>
static asio::awaitable<bool> WriteToClient(RequestContext& ctx, const Buffers& buffers,
                                           Clock::duration timeout) {
  ctx.client.expires_after(timeout);
  auto [ec, n] = co_await asio::async_write(ctx.client, buffers, kAwait);
  ctx.bytes_out += n;
  if (ec) ctx.client_gone = true;
  co_return !ec;
}

// An SSE response: each event goes to the client as soon as its last byte arrived.
static asio::awaitable<bool> RelayStream(RequestContext& ctx, upstream::Connection& conn,
                                         upstream::ResponseParser& parser,
                                         const config::UpstreamTimeouts& timeouts,
                                         Clock::time_point deadline) {
  ctx.status = parser.status();
  ResponseHead res(ctx.status);
  AddResponseHeaders(parser, res, ctx);
  const std::string& res_head = res.FinishChunked(ctx.keep_alive);
  ctx.client.expires_after(timeouts.idle);
  auto [hec, hn] = co_await asio::async_write(ctx.client, asio::buffer(res_head), kAwait);
  ctx.bytes_out += hn;
  if (hec) {
    ctx.client_gone = true;
    co_return false;
  }

  parser.body_limit(boost::none);  // a long stream is fine; each event is bounded below
  SseSplitter sse;
  std::string scratch;
  std::array<char, kStreamReadSize> buffer;
  upstream::Failure failure;
  while (!parser.is_done()) {
    // The parser yields one upstream chunk per call; drain every chunk one socket read
    // brought in before writing, so the client gets one write per read, not per event.
    std::size_t got = 0;
    do {
      parser.ReadInto(buffer.data() + got, buffer.size() - got);
      failure = co_await upstream::ReadBodySome(conn, parser, timeouts, deadline);
      got = buffer.size() - parser.room();
    } while (!failure && !parser.is_done() && conn.next_chunk_buffered() && got < buffer.size());
    const std::string_view events = sse.Feed({buffer.data(), got});
    if (!failure && sse.partial().size() > kMaxEventBytes)
      failure = {upstream::FailureKind::kBadResponse,
                 fmt::format("an SSE event longer than {} bytes", kMaxEventBytes)};
    const std::string_view relayed = NoteStreamEvents(ctx, events, scratch);
    if (!relayed.empty()) {
      if (ctx.first_byte == Clock::time_point{}) ctx.first_byte = Clock::now();
      const ChunkFrame frame(relayed.size());
      const auto chunk = frame.Around(relayed);
      if (!co_await WriteToClient(ctx, chunk, timeouts.idle))
        co_return false;  // the connection is dropped, which cancels the upstream request
    }
    if (failure) break;
  }
  ctx.upstream_done = Clock::now();
  std::string tail(sse.partial());  // a last event without its blank line
  if (!tail.empty()) {  // accounted (and hidden) like any other event
    tail += "\n\n";
    tail = std::string(NoteStreamEvents(ctx, tail, scratch));
  }
  if (failure) {
    NoteFailure(ctx, failure);
    tail += openai::ErrorEvent(upstream::ToApiError(failure, ctx.model->config->upstream));
  }
  if (!tail.empty()) {
    const ChunkFrame frame(tail.size());
    const auto chunk = frame.Around(tail);
    if (!co_await WriteToClient(ctx, chunk, timeouts.idle)) co_return false;
  }
  static constexpr std::string_view kLastChunk = "0\r\n\r\n";
  co_await WriteToClient(ctx, asio::buffer(kLastChunk), timeouts.idle);
  co_return !failure && parser.keep_alive();
}

// A response worth trying the next candidate for, as long as nothing went downstream.
static bool Retryable(unsigned status) { return status >= 500 || status == 429; }

// Failures after which the request may already be running on the model: trying another
// candidate could run it twice, so that needs the upstream's retry_unanswered.
static bool MayHaveReachedModel(upstream::FailureKind kind) {
  using K = upstream::FailureKind;
  return kind == K::kFirstByteTimeout || kind == K::kReset || kind == K::kBadResponse ||
         kind == K::kTotalTimeout;
}

// How long a 429 asks to be left alone: retry-after-ms, else retry-after in seconds; capped.
static Clock::duration RetryAfter(const upstream::ResponseParser& response) {
  auto number = [&](std::string_view name) -> long {
    const auto value = response.fields().Find(name);
    long v = -1;
    if (value) std::from_chars(value->data(), value->data() + value->size(), v);
    return v;
  };
  long ms = number("retry-after-ms");
  if (ms < 0) ms = std::max(number("retry-after"), 0L) * 1000;
  return std::chrono::milliseconds(std::min(ms, 60'000L));
}

// A candidate passed over without an attempt (circuit open, at capacity, queue timed out).
static void NoteSkip(RequestContext& ctx, std::size_t upstream_index, const char* reason) {
  ctx.runtime->metrics().RecordUpstreamSkip(upstream_index, reason);
}

static openai::ApiError Unavailable(const std::string& upstream, const char* why) {
  return {http::status::service_unavailable, "upstream_error", "upstream_unavailable",
          fmt::format("Upstream '{}' cannot take this request now: {}.", upstream, why), {}};
}

static openai::ApiError RefusedProxy(const std::string& upstream, unsigned status) {
  return {http::status::bad_gateway, "upstream_error", "upstream_auth_failed",
          fmt::format("Upstream '{}' refused the proxy's credentials ({}); check its api_key_env.",
                      upstream, status),
          {}};
}

// Waits a little before trying the same upstream again: exponential, with jitter.
static asio::awaitable<void> Backoff(RequestContext& ctx, std::size_t attempt,
                                     Clock::time_point deadline) {
  thread_local std::mt19937 rng{std::random_device{}()};
  const auto base = std::chrono::milliseconds(25) * (1 << std::min<std::size_t>(attempt, 5));
  const auto wait = std::chrono::duration_cast<Clock::duration>(
      base * std::uniform_real_distribution<double>(0.5, 1.5)(rng));
  asio::steady_timer timer(ctx.client.get_executor(), std::min(Clock::now() + wait, deadline));
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<void> Forward(RequestContext& ctx) {
  std::optional<openai::ApiError> refusal;  // why no candidate was tried, if none was
  for (std::size_t attempt = 0; attempt < ctx.candidates.size(); ++attempt) {
    const bool last = attempt + 1 == ctx.candidates.size();
    ctx.model = ctx.candidates[attempt];
    const std::size_t index = ctx.model->config->upstream_index;
    const UpstreamRuntime& up = ctx.runtime->upstreams()[index];
    const config::UpstreamTimeouts& timeouts = up.config->timeouts;
    const Clock::time_point deadline = ctx.start + timeouts.total;

    // Capacity: a routed request spills over to the next candidate; the last one (an explicit
    // model's only one) waits in the upstream's queue.
    upstream::CapacityGate& gate = *up.capacity;
    upstream::CapacitySlot slot;
    if (gate.limited()) {
      if (gate.TryAcquire()) {
        slot = upstream::CapacitySlot(&gate);
      } else if (!last) {
        NoteSkip(ctx, index, "at_capacity");
        continue;
      } else if (co_await gate.Acquire(std::min(deadline, Clock::now() + up.config->queue_timeout))) {
        slot = upstream::CapacitySlot(&gate);
      } else {
        NoteSkip(ctx, index, "queue_timeout");
        refusal = Unavailable(up.config->name, "it is at its max_concurrent and its queue did not move in time");
        break;
      }
    }
    upstream::UpstreamHealth& health = *up.health;
    bool probe = false;
    // The last candidate waits out a retry-after that ends soon enough; others are skipped.
    const auto resume = health.paused_until();
    if (last && resume > Clock::now() && resume <= std::min(deadline, Clock::now() + up.config->queue_timeout)) {
      asio::steady_timer pause(ctx.client.get_executor(), resume);
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (!health.BeginAttempt(Clock::now(), &probe)) {
      NoteSkip(ctx, index, "circuit_open");
      refusal = Unavailable(up.config->name, "it is failing (circuit open) or asked to be left alone (retry-after)");
      continue;
    }
    refusal.reset();

    upstream::OutgoingRequest out;
    // Streams always end with their usage: asked for upstream when the client did not ask.
    ctx.hide_usage_chunk = ctx.parsed.usage_edit.has_value() && up.config->ask_stream_usage;
    out.body = openai::SpliceModel(ctx.request.body(), ctx.parsed,
                                   ctx.model->quoted_upstream_model, ctx.hide_usage_chunk);
    out.head = BuildUpstreamHead(ctx, out.body.size());
    upstream::Pool& pool = *ctx.local->pools[index];
    GaugeScope in_flight(ctx.runtime->metrics().upstream_in_flight(index));
    std::optional<upstream::ResponseParser> response;
    upstream::Failure failure;
    const auto sent = ctx.upstream_sent = Clock::now();
    upstream::ConnectionPtr conn =
        co_await upstream::SendRequest(pool, timeouts, out, deadline, response, failure);
    const auto now = ctx.upstream_done = Clock::now();
    if (!conn) {
      NoteFailure(ctx, failure);
      if (failure.kind == upstream::FailureKind::kPoolTimeout)
        health.Abandon(probe);  // our own connection limit, not the upstream's fault
      else
        health.RecordFailure(probe, now);
      const bool safe = !MayHaveReachedModel(failure.kind) || up.config->retry_unanswered;
      if (!last && now < deadline && safe) {  // nothing reached the client: the next may serve
        const std::size_t next = ctx.candidates[attempt + 1]->config->upstream_index;
        if (next == index) co_await Backoff(ctx, attempt, deadline);
        continue;
      }
      openai::ApiError error = upstream::ToApiError(failure, up.config->name);
      co_await RespondError(ctx, std::move(error));
      co_return;
    }
    const unsigned status = response->status();
    // 401 and 403 judge the proxy's key for the upstream, not the client's: the upstream is
    // misconfigured, and its message (OpenAI's names part of the key) is not for the client.
    const bool refused_proxy = status == 401 || status == 403;
    health.RecordLatency(std::chrono::duration<double>(now - sent).count());
    if (status == 429) {
      health.PauseUntil(now + RetryAfter(*response));
      health.Abandon(probe);
    } else if (status >= 500 || refused_proxy) {
      health.RecordFailure(probe, now);
    } else {
      health.RecordSuccess(probe, now);
    }
    if (refused_proxy || (!last && Retryable(status))) {
      NoteFailure(ctx, {upstream::FailureKind::kStatus, fmt::format("answered {}", status)});
      pool.Release(std::move(conn), /*reusable=*/false);  // its body is not worth reading
      if (!last) continue;
      co_await RespondError(ctx, RefusedProxy(up.config->name, status));
      co_return;
    }
    ctx.error_code.clear();  // earlier candidates' failures are in the metrics, not this outcome
    ctx.upstream_answered = true;
    bool reusable = false;
    if (IsEventStream(*response))
      reusable = co_await RelayStream(ctx, *conn, *response, timeouts, deadline);
    else
      reusable = co_await RelayWhole(ctx, *conn, *response, timeouts, deadline);
    pool.Release(std::move(conn), reusable);
    co_return;
  }
  if (!refusal)
    refusal = Unavailable(ctx.model ? ctx.model->config->upstream : "", "no candidate could be tried");
  co_await RespondError(ctx, std::move(*refusal));
}

}  // namespace switchyard
