#include "proxy/pipeline.h"

#include <fmt/format.h>

#include <charconv>

#include "classifiers/chat_request.h"
#include "proxy/accounting/money.h"
#include "proxy/relay.h"
#include "proxy/respond.h"
#include "proxy/routing/router.h"
#include "proxy/server.h"

namespace switchyard {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using openai::ApiError;
using Result = std::optional<ApiError>;  // nullopt: continue with the next phase

// 1. Parse: the fields routing needs, in one pass; the body stays as it came.
static Result Parse(RequestContext& ctx) {
  std::string& body = ctx.request.body();
  openai::ReservePadding(body);
  auto parsed = openai::ParseRequest(body);
  if (!parsed) return parsed.error();
  ctx.parsed = std::move(*parsed);
  return std::nullopt;
}

// 2. Admit: client keys, tenants and budgets will decide here; every request is admitted.
static Result Admit(RequestContext&) { return std::nullopt; }

// The x-switchyard-min-tier header: 0 when absent.
static Result MinTier(const RequestContext& ctx, int* out) {
  const std::string_view value = ctx.request["x-switchyard-min-tier"];
  *out = 0;
  if (value.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), *out);
  if (ec != std::errc() || end != value.data() + value.size() || *out < 1 || *out > 100)
    return openai::BadRequest("x-switchyard-min-tier must be a tier number (1, 2, 3, ...).",
                              "invalid_header");
  return std::nullopt;
}

// Scores a chat request for `profile` and decides its candidates.
static Result Decide(RequestContext& ctx, const ProfileRuntime& profile,
                     classifiers::ScoreResult* score, routing::Decision* decision, bool explain) {
  if (ctx.route != Route::kChatCompletions && ctx.route != Route::kRouteExplain)
    return openai::BadRequest(fmt::format("The routing profile '{}' serves chat completions only.",
                                          profile.config->name),
                              "unsupported_route", "model");
  classifiers::ChatRequest chat;
  const std::string& body = ctx.request.body();
  const classifiers::Status parsed =
      classifiers::ParseChatRequest(body.data(), body.size(), body.capacity(), &chat);
  if (!parsed.ok()) return openai::BadRequest(parsed.message(), "invalid_request", "messages");
  int min_tier = 0;
  if (Result error = MinTier(ctx, &min_tier)) return error;
  *score = ctx.runtime->classifier()->Score(chat, explain);
  routing::RequestTraits traits;
  traits.estimated_prompt_tokens = score->estimated_prompt_tokens;
  traits.max_tokens = chat.max_tokens;
  traits.tools = chat.has_tools();
  traits.json_schema = chat.has_response_format_json_schema;
  traits.stream = chat.stream;
  for (const auto& m : chat.messages) traits.vision |= m.image_parts > 0;
  Server& server = ctx.worker.server();
  routing::UpstreamView upstreams{[&](std::size_t i) { return server.UpstreamUsable(i); },
                                  [&](std::size_t i) { return server.UpstreamLatency(i); }};
  routing::Calibrator* calibrator = ctx.worker.calibrator(profile.index);
  const std::vector<double>& thresholds =
      calibrator ? calibrator->thresholds() : profile.config->thresholds;
  *decision = routing::Decide(*ctx.runtime, *profile.config, thresholds, score->score, min_tier,
                              traits, upstreams);
  if (calibrator && !explain) calibrator->Observe(score->score);  // live traffic only
  return std::nullopt;
}

static ApiError NoCandidate(const routing::Decision& d, const ProfileRuntime& profile) {
  const bool unusable = std::any_of(d.verdicts.begin(), d.verdicts.end(), [](const auto& v) {
    return v.dropped && std::string_view(v.dropped) == "upstream unusable";
  });
  if (unusable)
    return {http::status::service_unavailable, "upstream_error", "no_upstream_available",
            fmt::format("No usable upstream can serve profile '{}' at tier {} or above right now.",
                        profile.config->name, d.required_tier),
            {}};
  return openai::BadRequest(
      fmt::format("No model of profile '{}' can serve this request (tier {} or above with the "
                  "features and context it needs). POST it to /v1/route/explain to see why.",
                  profile.config->name, d.required_tier),
      "no_model_available", "model");
}

// 3. Route: an explicit model goes straight to its upstream; a profile name goes to the
// cheapest capable model, with the next ones as fallbacks.
static Result RouteRequest(RequestContext& ctx) {
  if (const ModelRuntime* model = ctx.runtime->FindModel(ctx.parsed.model)) {
    ctx.candidates.assign(1, model);
    return std::nullopt;
  }
  const ProfileRuntime* profile = ctx.runtime->FindProfile(ctx.parsed.model);
  if (!profile)
    return openai::NotFound(
        fmt::format("The model '{}' does not exist or you do not have access to it.",
                    ctx.parsed.model.substr(0, 256)),
        "model_not_found");
  ctx.profile = profile;
  classifiers::ScoreResult score;
  routing::Decision decision;
  if (Result error = Decide(ctx, *profile, &score, &decision, /*explain=*/false)) return error;
  ctx.score = decision.score;
  ctx.required_tier = decision.required_tier;
  if (decision.chosen.empty()) return NoCandidate(decision, *profile);
  ctx.candidates = std::move(decision.chosen);
  return std::nullopt;
}

asio::awaitable<void> RunPipeline(RequestContext& ctx) {
  Result error = Parse(ctx);
  if (!error) error = Admit(ctx);
  if (!error) error = RouteRequest(ctx);
  if (error)
    co_await RespondError(ctx, std::move(*error));
  else
    co_await Forward(ctx);  // 4. relay.cc
}

Reply ExplainRoute(RequestContext& ctx) {
  Result error = Parse(ctx);
  const ProfileRuntime* profile = nullptr;
  if (!error) {
    profile = ctx.runtime->FindProfile(ctx.parsed.model);
    if (!profile)
      error = openai::NotFound(fmt::format("'{}' is not a routing profile.",
                                           ctx.parsed.model.substr(0, 256)),
                               "profile_not_found");
  }
  classifiers::ScoreResult score;
  routing::Decision decision;
  if (!error) error = Decide(ctx, *profile, &score, &decision, /*explain=*/true);
  if (error) {
    ctx.error_code = error->code;
    return {error->status, "application/json", openai::ErrorBody(*error)};
  }
  std::string body = routing::DecisionJson(decision, *profile->config);
  return {http::status::ok, "application/json", std::move(body)};
}

void Account(const RequestContext& ctx) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.start).count();
  // A client that left before any status was sent counts as 499, as in nginx.
  const unsigned status = ctx.status ? ctx.status : 499;
  Metrics& metrics = ctx.worker.metrics();
  metrics.RecordHttp(ctx.route, status, seconds);
  const bool api = ctx.route == Route::kChatCompletions || ctx.route == Route::kCompletions ||
                   ctx.route == Route::kEmbeddings;
  if (api) metrics.RecordApi(ctx.model, status);
  if (ctx.model && ctx.usage.present)
    metrics.RecordUsage(*ctx.model, ctx.usage, accounting::CostNanoUsd(ctx.model->prices, ctx.usage));
  AccessLogEntry entry;
  entry.request_id = ctx.request_id;
  entry.method = ctx.request.method_string();
  entry.path = ctx.path;
  if (ctx.profile) entry.profile = ctx.profile->config->name;
  if (ctx.model) {
    entry.model = ctx.model->config->name;
    entry.upstream = ctx.model->config->upstream;
  }
  entry.status = status;
  entry.duration_ms = seconds * 1e3;
  entry.bytes_in = ctx.request.body().size();
  entry.bytes_out = ctx.bytes_out;
  entry.stream = ctx.parsed.stream;
  entry.error = ctx.error_code;
  if (ctx.client_gone && ctx.error_code.empty()) entry.error = "client_closed";
  ctx.worker.access_log().Write(entry);
}

}  // namespace switchyard
