#include "proxy/pipeline.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <charconv>

#include "classifiers/chat_request_json.h"
#include "proxy/accounting/money.h"
#include "proxy/accounting/tokenizer.h"
#include "proxy/relay.h"
#include "proxy/respond.h"
#include "proxy/routing/router.h"
#include "proxy/server.h"

namespace switchyard {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using openai::ApiError;
using Result = std::optional<ApiError>;  // nullopt: continue with the next phase

static void WriteAccessLog(const RequestContext& ctx, unsigned status, double seconds) {
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

// 1. Parse: the fields routing needs, in one pass; the body stays as it came. `doc` keeps the
// parse for the classifier (step 3).
static Result Parse(RequestContext& ctx, simdjson::ondemand::document* doc) {
  std::string& body = ctx.request.body();
  openai::ReservePadding(body);
  const config::Listener& listener = ctx.runtime->config().listener;
  auto parsed = openai::ParseRequest(body, {listener.max_messages, listener.max_json_depth}, doc);
  if (!parsed) return parsed.error();
  ctx.parsed = std::move(*parsed);
  return std::nullopt;
}

// 2. Admit: the client's key was checked with the request's route (session.cc); here its
// budgets say whether routing must save money.
static Result Admit(RequestContext& ctx) {
  if (ctx.key && !ctx.key->budgets.empty())
    ctx.budget_soft = ctx.runtime->budgets().BelowSoftLimit(ctx.key->budgets, accounting::NowMs());
  return std::nullopt;
}

// Parts of a request whose tokens its bytes do not bound (an image URL of 40 bytes may cost
// a thousand tokens).
static bool HasMediaParts(std::string_view body) {
  for (std::string_view part : {R"("image_url")", R"("input_audio")", R"("file")", R"("input_image")"})
    if (body.find(part) != std::string_view::npos) return true;
  return false;
}

// The most `model` can cost for this request: every byte of the body a prompt token (a token
// is at least one byte; with images or audio, the whole context window), capped by the
// context window, plus every allowed output token of every choice of every prompt (n,
// best_of, prompt arrays) at the dearer of the output and reasoning prices.
static std::int64_t WorstCaseNanoUsd(const RequestContext& ctx, const ModelRuntime& model) {
  const config::Model& m = *model.config;
  const std::string& body = ctx.request.body();
  accounting::Usage usage;
  usage.prompt_tokens = HasMediaParts(body)
                            ? m.context_window
                            : std::min<std::int64_t>(static_cast<std::int64_t>(body.size()), m.context_window);
  if (ctx.route != Route::kEmbeddings) {
    const std::int64_t per_choice =
        ctx.parsed.max_tokens >= 0 ? std::min(ctx.parsed.max_tokens, m.max_output_tokens) : m.max_output_tokens;
    usage.completion_tokens = per_choice * ctx.parsed.choices * ctx.parsed.prompts;
  }
  if (model.prices.reasoning_pico > model.prices.output_pico)
    usage.reasoning_tokens = usage.completion_tokens;
  return accounting::CostNanoUsd(model.prices, usage);
}

static ApiError BudgetExceeded(const RequestContext& ctx, std::size_t budget) {
  const config::Budget& b = *ctx.runtime->FindBudget(budget);  // one of the key's
  const auto state = ctx.runtime->budgets().state(budget, accounting::NowMs());
  ApiError error{http::status::too_many_requests, "insufficient_quota", "budget_exceeded",
                 fmt::format("The {} budget of {} '{}' cannot cover this request: {} of {} USD "
                             "spent, {} USD held by requests in flight; it resets at {:%Y-%m-%dT%H:%M:%SZ}.",
                             b.period == config::BudgetPeriod::kDay ? "daily" : "monthly",
                             b.scope == config::Budget::Scope::kKey ? "key" : "tenant", b.name,
                             accounting::FormatUsd(state.spent_nano_usd),
                             accounting::FormatUsd(state.limit_nano_usd),
                             accounting::FormatUsd(state.reserved_nano_usd),
                             fmt::gmtime(static_cast<std::time_t>(state.period_end_ms / 1000))),
                 {}};
  error.should_retry = false;  // retrying cannot help before the period ends
  return error;
}

// 4. Reserve: the request's worst case on the most expensive candidate is held on every
// budget of the key, so requests racing each other cannot overspend.
static Result Reserve(RequestContext& ctx) {
  if (!ctx.key || ctx.key->budgets.empty()) return std::nullopt;
  std::int64_t worst = 0;
  for (const ModelRuntime* model : ctx.candidates) worst = std::max(worst, WorstCaseNanoUsd(ctx, *model));
  std::size_t refused = 0;
  ctx.reservation =
      ctx.runtime->budgets().Reserve(ctx.key->budgets, worst, accounting::NowMs(), &refused);
  if (!ctx.reservation) return BudgetExceeded(ctx, refused);
  return std::nullopt;
}

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

// Scores a chat request for `profile` and decides its candidates. `doc`: the body's parse
// from step 1.
static Result Decide(RequestContext& ctx, const ProfileRuntime& profile,
                     simdjson::ondemand::document& doc, classifiers::ScoreResult* score,
                     routing::Decision* decision, bool explain) {
  if (ctx.route != Route::kChatCompletions && ctx.route != Route::kRouteExplain)
    return openai::BadRequest(fmt::format("The routing profile '{}' serves chat completions only.",
                                          profile.config->name),
                              "unsupported_route", "model");
  classifiers::ChatRequest chat;
  const classifiers::Status parsed = classifiers::ReadChatRequest(doc, &chat);
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
  const auto& runtime_upstreams = ctx.runtime->upstreams();
  const auto now = std::chrono::steady_clock::now();
  routing::UpstreamView upstreams{
      [&](std::size_t i) { return runtime_upstreams[i].health->Routable(now); },
      [&](std::size_t i) { return runtime_upstreams[i].health->latency_seconds(); }};
  routing::Calibrator* calibrator = ctx.local->calibrators[profile.index].get();
  const std::vector<double>& thresholds =
      calibrator ? calibrator->thresholds() : profile.config->thresholds;
  // Near a budget's soft limit the request goes to the cheapest capable tier.
  const double routed_score = ctx.budget_soft && !explain ? 0.0 : score->score;
  *decision = routing::Decide(*ctx.runtime, *profile.config, thresholds, routed_score, min_tier,
                              traits, upstreams);
  decision->score = score->score;
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
static Result RouteRequest(RequestContext& ctx, simdjson::ondemand::document& doc) {
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
  if (Result error = Decide(ctx, *profile, doc, &score, &decision, /*explain=*/false)) return error;
  ctx.score = decision.score;
  ctx.required_tier = decision.required_tier;
  ctx.runtime->metrics().RecordDecision(*profile, decision.required_tier, decision.score);
  if (decision.chosen.empty()) return NoCandidate(decision, *profile);
  ctx.candidates = std::move(decision.chosen);
  return std::nullopt;
}

// Steps 1 to 4, with no suspension in between: the body's parse is a view into this thread's
// parser, which the next request on the thread reuses.
static Result Prepare(RequestContext& ctx) {
  simdjson::ondemand::document doc;
  Result error = Parse(ctx, &doc);
  if (!error) error = Admit(ctx);
  if (!error) error = RouteRequest(ctx, doc);
  if (!error) error = Reserve(ctx);
  return error;
}

asio::awaitable<void> RunPipeline(RequestContext& ctx) {
  Result error = Prepare(ctx);
  if (error)
    co_await RespondError(ctx, std::move(*error));
  else
    co_await Forward(ctx);  // 5. relay.cc
}

Reply ExplainRoute(RequestContext& ctx) {
  simdjson::ondemand::document doc;
  Result error = Parse(ctx, &doc);
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
  if (!error) error = Decide(ctx, *profile, doc, &score, &decision, /*explain=*/true);
  if (error) {
    ctx.error_code = error->code;
    return {error->status, "application/json", openai::ErrorBody(*error)};
  }
  std::string body = routing::DecisionJson(decision, *profile->config);
  return {http::status::ok, "application/json", std::move(body)};
}

// Usage when the upstream reported none: the prompt and the generated text through the
// model's tokenizer (OpenAI's chat framing: 3 tokens per message and 3 to prime the reply).
static accounting::Usage EstimateUsage(RequestContext& ctx) {
  const auto encoding = accounting::ParseEncoding(ctx.model->config->tokenizer);
  const accounting::Tokenizer& tokenizer =
      accounting::Tokenizer::Get(encoding.value_or(accounting::Encoding::kO200kBase));
  accounting::Usage usage;
  usage.present = true;
  classifiers::ChatRequest chat;
  std::string& body = ctx.request.body();
  if (ctx.route == Route::kChatCompletions &&
      classifiers::ParseChatRequest(body.data(), body.size(), body.capacity(), &chat).ok()) {
    usage.prompt_tokens = 3;
    for (const auto& m : chat.messages)
      usage.prompt_tokens += 3 + static_cast<std::int64_t>(tokenizer.Count(m.content));
  } else {
    usage.prompt_tokens = static_cast<std::int64_t>(tokenizer.Count(body));
  }
  usage.completion_tokens = static_cast<std::int64_t>(tokenizer.Count(ctx.generated_text) +
                                                      (ctx.generated_overflow + 3) / 4);
  return usage;
}

static double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

void Account(RequestContext& ctx) {
  const auto now = std::chrono::steady_clock::now();
  const double seconds = Seconds(now - ctx.start);
  // A client that left before any status was sent counts as 499, as in nginx.
  const unsigned status = ctx.status ? ctx.status : 499;
  Server& server = ctx.worker.server();
  Metrics& metrics = ctx.runtime->metrics();
  metrics.RecordHttp(ctx.route, status, seconds);
  const bool api = ctx.route == Route::kChatCompletions || ctx.route == Route::kCompletions ||
                   ctx.route == Route::kEmbeddings;
  if (!api) {
    WriteAccessLog(ctx, status, seconds);
    return;
  }
  metrics.RecordApi(ctx.model, status);

  // Usage: as reported, else estimated for an answer that produced tokens (a stream cut
  // short included); an error answer costs nothing.
  accounting::Usage usage = ctx.usage;
  auto source = usage.present ? accounting::UsageSource::kReported : accounting::UsageSource::kNone;
  if (!usage.present && ctx.model && ctx.upstream_answered && ctx.status < 400) {
    usage = EstimateUsage(ctx);
    source = accounting::UsageSource::kEstimated;
  }
  std::int64_t cost = 0, baseline = 0;
  if (ctx.model) {
    cost = accounting::CostNanoUsd(ctx.model->prices, usage);
    const ModelRuntime* reference = ctx.profile ? ctx.profile->baseline : nullptr;
    baseline = reference ? accounting::CostNanoUsd(reference->prices, usage) : cost;
    if (usage.present) metrics.RecordUsage(*ctx.model, usage, cost);
    metrics.RecordSpend(ctx.profile, ctx.key, cost, baseline);
  }
  if (ctx.reservation)
    ctx.runtime->budgets().Settle(*ctx.reservation, cost, ctx.start_ms, accounting::NowMs());
  ctx.reservation.reset();

  const bool sent = ctx.upstream_sent != std::chrono::steady_clock::time_point{};
  const double upstream_wait = sent ? Seconds(ctx.upstream_done - ctx.upstream_sent) : 0;
  const bool first_byte = ctx.first_byte != std::chrono::steady_clock::time_point{};
  const double ttft = first_byte ? Seconds(ctx.first_byte - ctx.start) : -1;
  metrics.RecordTimings(ctx.model, ttft, std::max(0.0, seconds - upstream_wait));

  if (accounting::Ledger* ledger = server.ledger()) {
    accounting::LedgerRow row;
    row.time_ms = ctx.start_ms;
    row.request_id = ctx.request_id;
    if (ctx.key) {
      row.key_id = ctx.key->config->id;
      row.tenant = ctx.key->config->tenant;
    }
    if (ctx.profile) {
      row.profile = ctx.profile->config->name;
      row.score = ctx.score;
    }
    if (ctx.model) {
      row.upstream = ctx.model->config->upstream;
      row.model = ctx.model->config->name;
      row.tier = ctx.model->config->tier;
    }
    row.prompt_tokens = usage.prompt_tokens;
    row.cached_tokens = usage.cached_tokens;
    row.completion_tokens = usage.completion_tokens;
    row.reasoning_tokens = usage.reasoning_tokens;
    row.usage_source = source;
    row.cost_nano_usd = cost;
    row.baseline_cost_nano_usd = baseline;
    row.duration_ms = seconds * 1e3;
    row.ttft_ms = ttft < 0 ? -1 : ttft * 1e3;
    row.status = static_cast<int>(status);
    row.error_kind = ctx.error_code;
    if (ctx.client_gone && row.error_kind.empty()) row.error_kind = "client_closed";
    ledger->Append(std::move(row));
  }
  WriteAccessLog(ctx, status, seconds);
}

}  // namespace switchyard
