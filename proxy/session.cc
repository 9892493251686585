#include "proxy/session.h"

#include <fmt/format.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/parser.hpp>
#include <array>
#include <random>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "proxy/accounting/spend_report.h"
#include "proxy/http_read.h"
#include "proxy/pipeline.h"
#include "proxy/respond.h"
#include "proxy/server.h"

namespace switchyard {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using upstream::kAwait;

std::string RequestIdFor(std::string_view client_value) {
  const bool sane = !client_value.empty() && client_value.size() <= 128 &&
                    std::all_of(client_value.begin(), client_value.end(), [](char c) {
                      return c > 0x20 && c < 0x7f && c != '"' && c != '\\';
                    });
  if (sane) return std::string(client_value);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (std::size_t half = 0; half < 32; half += 16)
    for (std::uint64_t bits = rng(), i = 16; i-- > 0; bits >>= 4) id[half + i] = kHex[bits & 15];
  return id;
}

struct Endpoint {
  Route route;
  http::verb method;
  bool proxied;
};

static Endpoint Classify(std::string_view path) {
  if (path == "/v1/chat/completions") return {Route::kChatCompletions, http::verb::post, true};
  if (path == "/v1/completions") return {Route::kCompletions, http::verb::post, true};
  if (path == "/v1/embeddings") return {Route::kEmbeddings, http::verb::post, true};
  if (path == "/v1/models" || path.starts_with("/v1/models/")) return {Route::kModels, http::verb::get, false};
  if (path == "/v1/route/explain") return {Route::kRouteExplain, http::verb::post, false};
  if (path == "/healthz" || path == "/readyz") return {Route::kHealth, http::verb::get, false};
  if (path == "/metrics") return {Route::kMetrics, http::verb::get, false};
  if (path == "/v1/spend") return {Route::kSpend, http::verb::get, false};
  return {Route::kOther, http::verb::unknown, false};
}

// Ready: the config is loaded and at least one upstream is usable (its connections are not
// failing). The body lists each upstream's state.
static Reply Readiness(const RequestContext& ctx) {
  const auto& upstreams = ctx.runtime->upstreams();
  const auto now = std::chrono::steady_clock::now();
  bool any_usable = false;
  std::string body = R"({"upstreams":{)";
  for (std::size_t i = 0; i < upstreams.size(); ++i) {
    const bool usable = upstreams[i].health->Routable(now);
    any_usable |= usable;
    // "up", "down" (circuit open, or paused by a retry-after), "probing" (half-open)
    const auto state = upstreams[i].health->state(now);
    const char* name = usable || state != upstream::UpstreamHealth::State::kClosed
                           ? upstream::UpstreamHealth::StateName(state)
                           : "down";
    fmt::format_to(std::back_inserter(body), R"({}"{}":"{}")", i ? "," : "",
                   upstreams[i].config->name, name);
  }
  fmt::format_to(std::back_inserter(body), R"(}},"status":"{}"}})", any_usable ? "ready" : "not ready");
  return {any_usable ? http::status::ok : http::status::service_unavailable, "application/json",
          std::move(body)};
}

// The proxy's own endpoints: health, metrics, the models this config exposes.
static Reply LocalReply(const RequestContext& ctx) {
  const Runtime& rt = *ctx.runtime;
  if (ctx.path == "/healthz") return {http::status::ok, "application/json", R"({"status":"ok"})"};
  if (ctx.path == "/readyz") return Readiness(ctx);
  if (ctx.path == "/metrics") {
    ctx.worker.server().RefreshGauges();
    return {http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
            ctx.runtime->metrics().Serialize()};
  }
  if (ctx.path == "/v1/models") return {http::status::ok, "application/json", rt.models_list_json()};
  // /v1/models/{id}; ids may contain '/', as in "meta-llama/Llama-3.1-8B"
  const std::string_view id = ctx.path.substr(std::string_view("/v1/models/").size());
  if (const ModelRuntime* model = rt.FindModel(id))
    return {http::status::ok, "application/json", model->json};
  if (const ProfileRuntime* profile = rt.FindProfile(id))
    return {http::status::ok, "application/json", profile->json};
  const openai::ApiError error = openai::NotFound(
      fmt::format("The model '{}' does not exist.", id.substr(0, 256)), "model_not_found");
  return {error.status, "application/json", openai::ErrorBody(error)};
}

static std::string_view QueryParam(std::string_view target, std::string_view name) {
  const std::size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=')
      return pair.substr(name.size() + 1);
  }
  return {};
}

static Reply ErrorReply(RequestContext& ctx, const openai::ApiError& error) {
  ctx.error_code = error.code;
  return {error.status, "application/json", openai::ErrorBody(error), error.should_retry};
}

// The ledger query behind /v1/spend, on the server's admin thread: it waits for the writer
// and scans the ledger, which must not stall a worker's connections.
static asio::awaitable<Reply> QuerySpend(accounting::Ledger* ledger, accounting::SpendGroupBy by,
                                         std::int64_t since) {
  try {
    ledger->Flush();  // the answer includes every request that has ended
    auto lines = accounting::Ledger::Spend(ledger->path(), by, since);
    co_return Reply{http::status::ok, "application/json", accounting::SpendJson(lines, by, since)};
  } catch (const std::exception&) {
    openai::ApiError error{http::status::internal_server_error, "server_error",
                           "ledger_unreadable", "The ledger could not be read.", {}, true};
    co_return Reply{error.status, "application/json", openai::ErrorBody(error)};
  }
}

// GET /v1/spend?by=model&since=7d: the ledger's totals (by default this month's), for the
// admin key only.
static asio::awaitable<Reply> SpendReply(RequestContext& ctx) {
  const std::string& admin_key = ctx.runtime->config().accounting.admin_key;
  accounting::Ledger* ledger = ctx.worker.server().ledger();
  if (admin_key.empty() || !ledger)
    co_return ErrorReply(ctx, {http::status::not_found, "invalid_request_error", "spend_unavailable",
                               "GET /v1/spend needs the ledger and accounting.admin_key_env in the config.",
                               {}, false});
  std::string_view presented = ctx.request[http::field::authorization];
  if (presented.size() > 7 && beast::iequals(presented.substr(0, 7), "Bearer ")) presented.remove_prefix(7);
  // Compared as digests, in constant time.
  unsigned char want[SHA256_DIGEST_LENGTH], got[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(admin_key.data()), admin_key.size(), want);
  SHA256(reinterpret_cast<const unsigned char*>(presented.data()), presented.size(), got);
  if (CRYPTO_memcmp(want, got, sizeof want) != 0)
    co_return ErrorReply(ctx, {http::status::unauthorized, "invalid_request_error", "invalid_api_key",
                               "GET /v1/spend needs the admin key.", {}, false});
  const std::string_view target = ctx.request.target();
  accounting::SpendGroupBy by = accounting::SpendGroupBy::kModel;
  const std::string_view by_text = QueryParam(target, "by");
  if (!by_text.empty() && !accounting::ParseGroupBy(by_text, &by))
    co_return ErrorReply(ctx, openai::BadRequest("by must be key, tenant, model, upstream or day.",
                                                 "invalid_parameter", "by"));
  const std::int64_t now = accounting::NowMs();
  std::int64_t since = accounting::Budgets::PeriodStartMs(config::BudgetPeriod::kMonth, now);
  const std::string_view since_text = QueryParam(target, "since");
  if (!since_text.empty() && !accounting::ParseSince(since_text, now, &since))
    co_return ErrorReply(ctx, openai::BadRequest(
        "since must be a date (2026-11-01), a time (2026-11-01T12:00:00Z) or an age (24h, 7d).",
        "invalid_parameter", "since"));
  Reply reply = co_await asio::co_spawn(ctx.worker.server().admin_executor(),
                                        QuerySpend(ledger, by, since), asio::use_awaitable);
  if (reply.status != http::status::ok) ctx.error_code = "ledger_unreadable";
  co_return reply;
}

// Requests for no known endpoint, or with the wrong method.
static std::optional<openai::ApiError> CheckEndpoint(const RequestContext& ctx, const Endpoint& e) {
  if (e.route == Route::kOther)
    return openai::NotFound(fmt::format("Unknown request URL: {} {}.",
                                        std::string_view(ctx.request.method_string()),
                                        ctx.path.substr(0, 256)),
                            "unknown_url");
  if (ctx.request.method() != e.method)
    return openai::ApiError{http::status::method_not_allowed, "invalid_request_error",
                            "method_not_allowed",
                            fmt::format("{} is not allowed on {}; use {}.",
                                        std::string_view(ctx.request.method_string()), ctx.path,
                                        std::string_view(http::to_string(e.method))),
                            {}};
  return std::nullopt;
}

// The client's key, when keys are configured: "Authorization: Bearer <key>", or "api-key:
// <key>" as Azure OpenAI clients send it. The key itself is never echoed or logged.
static std::optional<openai::ApiError> Authenticate(RequestContext& ctx) {
  if (ctx.runtime->open_mode()) return std::nullopt;
  std::string_view presented = ctx.request[http::field::authorization];
  if (presented.size() > 7 && beast::iequals(presented.substr(0, 7), "Bearer "))
    presented.remove_prefix(7);
  else
    presented = ctx.request["api-key"];
  while (!presented.empty() && presented.front() == ' ') presented.remove_prefix(1);
  if (presented.empty())
    return openai::ApiError{http::status::unauthorized, "invalid_request_error", "missing_api_key",
                            "You didn't provide an API key. Send it in the Authorization header "
                            "as 'Bearer YOUR_KEY'.",
                            {}, false};
  ctx.key = ctx.runtime->FindKey(presented);
  if (!ctx.key)
    return openai::ApiError{http::status::unauthorized, "invalid_request_error", "invalid_api_key",
                            "Incorrect API key provided.", {}, false};
  return std::nullopt;
}

// Whether a route is part of the API clients use with their key (not health or metrics).
static bool NeedsClientKey(Route route) {
  return route == Route::kChatCompletions || route == Route::kCompletions ||
         route == Route::kEmbeddings || route == Route::kModels || route == Route::kRouteExplain;
}

static asio::awaitable<void> Dispatch(RequestContext& ctx) {
  const Endpoint endpoint = Classify(ctx.path);
  ctx.route = endpoint.route;
  std::optional<openai::ApiError> error = CheckEndpoint(ctx, endpoint);
  if (!error && NeedsClientKey(endpoint.route)) error = Authenticate(ctx);
  if (error) {
    co_await RespondError(ctx, std::move(*error));
  } else if (endpoint.route == Route::kSpend) {
    Reply reply = co_await SpendReply(ctx);
    co_await Respond(ctx, std::move(reply));
  } else if (endpoint.route == Route::kRouteExplain) {
    Reply reply = ExplainRoute(ctx);
    co_await Respond(ctx, std::move(reply));
  } else if (endpoint.proxied) {
    GaugeScope active(ctx.runtime->metrics().active_requests());
    co_await RunPipeline(ctx);
  } else {
    Reply reply = LocalReply(ctx);
    if (reply.status == http::status::not_found) ctx.error_code = "model_not_found";
    co_await Respond(ctx, std::move(reply));
  }
}

// Accounts a request on every way out of its scope, including the coroutine frame's
// destruction when a shutdown's grace runs out mid-request.
struct AccountOnExit {
  RequestContext& ctx;
  ~AccountOnExit() { Account(ctx); }
};

// A read error the client should hear about: a refused request, as opposed to a connection
// that broke or a request that did not arrive within header_timeout (the stream has already
// closed the socket then, as nginx does).
static bool Answerable(beast::error_code ec) {
  return ec.category() == http::make_error_code(http::error::body_limit).category();
}

// Answers a request the parser refused, then the connection closes.
static asio::awaitable<void> RespondToReadError(Worker& worker, DeadlineStream& stream,
                                                ClientRequest request,
                                                beast::error_code ec) {
  openai::ApiError error;
  RequestContext ctx{worker, stream, worker.current(), std::move(request)};
  const auto& listener = ctx.runtime->config().listener;
  if (ec == http::error::body_limit)
    error = {http::status::payload_too_large, "invalid_request_error", "request_too_large",
             fmt::format("Request body exceeds the limit of {} bytes.", listener.max_body_bytes), {}};
  else if (ec == http::error::header_limit)
    error = {http::status::request_header_fields_too_large, "invalid_request_error",
             "headers_too_large",
             fmt::format("Request headers exceed the limit of {} bytes.", listener.max_header_bytes),
             {}};
  else
    error = openai::BadRequest(fmt::format("Malformed HTTP request: {}.", ec.message()), "bad_http");
  ctx.request_id = RequestIdFor("");
  ctx.keep_alive = false;
  AccountOnExit account{ctx};
  co_await RespondError(ctx, std::move(error));
}

// After refusing a request whose body is still arriving (413): closing at once would reset
// the connection, and the client would see the reset instead of the answer. Read and drop
// what keeps coming for a short while first, as nginx's lingering_close does.
static asio::awaitable<void> LingeringClose(DeadlineStream& stream) {
  static constexpr std::size_t kMaxDrain = 64 * 1024 * 1024;
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  stream.expires_after(std::chrono::seconds(5));
  std::array<char, 16 * 1024> sink;
  for (std::size_t drained = 0; drained < kMaxDrain;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), kAwait);
    if (ec) break;
    drained += n;
  }
}

asio::awaitable<void> RunSession(Worker& worker, DeadlineStream stream) {
  // Registered for drains and counted for shutdown, undone on every way out of the frame.
  struct Registration {
    Worker& worker;
    std::list<SessionSlot>::iterator slot;
    Registration(Worker& w, DeadlineStream& s) : worker(w), slot(w.AddSession(s)) {
      worker.server().SessionStarted();
    }
    ~Registration() {
      worker.RemoveSession(slot);
      worker.server().SessionEnded();
    }
  } registration(worker, stream);
  auto slot = registration.slot;
  GaugeScope connections(worker.current()->runtime->metrics().client_connections());
  beast::error_code nodelay_ec;
  stream.socket().set_option(asio::ip::tcp::no_delay(true), nodelay_ec);
  // Bounded: Beast limits neither chunk-extension lines nor trailers, so an unbounded buffer
  // would grow for as long as a client kept sending one.
  beast::flat_buffer buffer(worker.current()->runtime->config().listener.max_header_bytes + 64 * 1024);
  bool first = true;
  for (;;) {
    // Held while reading: a reload may come meanwhile. The request itself then starts on the
    // config current when it has arrived.
    const std::shared_ptr<WorkerRuntime> reading = worker.current();
    const auto& listener = reading->runtime->config().listener;
    if (buffer.size() == 0) {  // wait for the next request, idle
      slot->idle = true;
      if (worker.draining()) break;
      stream.expires_after(first ? listener.header_timeout : listener.keep_alive_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kAwait);
      slot->idle = false;
      if (ec) break;  // closed, idle too long, or closed by a drain
      buffer.commit(n);
    }
    first = false;
    RequestParser parser;
    parser.header_limit(static_cast<std::uint32_t>(listener.max_header_bytes));
    parser.body_limit(listener.max_body_bytes);
    stream.expires_after(listener.header_timeout);
    auto [ec, n] = co_await ReadHttp(stream, buffer, parser, ReadUntil::kHeader);
    if (!ec && parser.fields().Find(http::field::expect) == "100-continue") {
      // curl sends large bodies only after this (or after waiting a second for it).
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      std::tie(ec, n) = co_await asio::async_write(stream, asio::buffer(kContinue), kAwait);
    }
    if (!ec) std::tie(ec, n) = co_await ReadHttp(stream, buffer, parser, ReadUntil::kMessage);
    if (ec == http::error::end_of_stream || ec == asio::error::eof) break;
    if (ec) {
      if (!Answerable(ec)) break;  // the connection itself failed: nobody to answer
      auto request = parser.release();
      co_await RespondToReadError(worker, stream, std::move(request), ec);
      co_await LingeringClose(stream);
      break;
    }
    RequestContext ctx{worker, stream, worker.current(), parser.release()};
    ctx.path = std::string_view(ctx.request.target()).substr(0, ctx.request.target().find('?'));
    ctx.request_id = RequestIdFor(ctx.request["x-request-id"]);
    ctx.keep_alive = ctx.request.keep_alive() && !worker.draining();
    {
      AccountOnExit account{ctx};
      co_await Dispatch(ctx);
    }
    if (!ctx.keep_alive || ctx.client_gone) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

}  // namespace switchyard
