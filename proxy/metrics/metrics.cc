#include "proxy/metrics/metrics.h"

#include <prometheus/text_serializer.h>

#include <mutex>

namespace switchyard {

const char* RouteName(Route route) {
  switch (route) {
    case Route::kChatCompletions: return "chat_completions";
    case Route::kCompletions: return "completions";
    case Route::kEmbeddings: return "embeddings";
    case Route::kModels: return "models";
    case Route::kRouteExplain: return "route_explain";
    case Route::kHealth: return "health";
    case Route::kMetrics: return "metrics";
    case Route::kSpend: return "spend";
    case Route::kOther: return "other";
  }
  return "other";
}

static double Usd(std::int64_t nano_usd) {
  return static_cast<double>(nano_usd) / static_cast<double>(accounting::kNanoPerUsd);
}

static const char* kStatusClassNames[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
static constexpr int kFailureKinds = static_cast<int>(upstream::FailureKind::kStatus) + 1;

int Metrics::StatusIndex(unsigned status) {
  int i = static_cast<int>(status / 100) - 1;
  return i < 0 ? 4 : (i >= kStatusClasses ? 4 : i);
}

Metrics::Metrics(const Runtime& runtime, std::shared_ptr<prometheus::Registry> registry)
    : registry_(registry ? std::move(registry) : std::make_shared<prometheus::Registry>()) {
  using prometheus::BuildCounter;
  auto& http = BuildCounter()
                   .Name("switchyard_http_requests_total")
                   .Help("HTTP requests answered, by route and status class")
                   .Register(*registry_);
  auto& duration = prometheus::BuildHistogram()
                       .Name("switchyard_request_duration_seconds")
                       .Help("Time from request read to response end, by route")
                       .Register(*registry_);
  const prometheus::Histogram::BucketBoundaries buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                        0.05,   0.1,   0.25,   0.5,   1,    2.5,
                                                        5,      10,    30,     60,    120};
  for (int r = 0; r < kRouteCount; ++r) {
    const char* route = RouteName(static_cast<Route>(r));
    for (int s = 0; s < kStatusClasses; ++s)
      http_requests_[r][s] = &http.Add({{"route", route}, {"status_class", kStatusClassNames[s]}});
    http_duration_[r] = &duration.Add({{"route", route}}, buckets);
  }

  auto& api = BuildCounter()
                  .Name("switchyard_requests_total")
                  .Help("Proxied API requests, by model, upstream, tier and status class")
                  .Register(*registry_);
  const auto& upstreams = runtime.config().upstreams;
  for (const auto& model : runtime.models()) {
    ByStatus series{};
    const std::string tier = model.config->tier ? std::to_string(model.config->tier) : "";
    for (int s = 0; s < kStatusClasses; ++s)
      series[s] = &api.Add({{"model", model.config->name},
                            {"upstream", model.config->upstream},
                            {"tier", tier},
                            {"status_class", kStatusClassNames[s]}});
    api_requests_.push_back(series);
  }
  ByStatus unrouted{};
  for (int s = 0; s < kStatusClasses; ++s)
    unrouted[s] = &api.Add(
        {{"model", ""}, {"upstream", ""}, {"tier", ""}, {"status_class", kStatusClassNames[s]}});
  api_requests_.push_back(unrouted);

  auto& tokens = BuildCounter()
                     .Name("switchyard_tokens_total")
                     .Help("Tokens the upstreams reported, by model, upstream and type")
                     .Register(*registry_);
  auto& cost = BuildCounter()
                   .Name("switchyard_cost_usd_total")
                   .Help("Spend in USD at the config's prices, by model and upstream")
                   .Register(*registry_);
  for (const auto& model : runtime.models()) {
    const std::string& name = model.config->name;
    const std::string& upstream = model.config->upstream;
    auto series = [&](const char* type) -> prometheus::Counter* {
      return &tokens.Add({{"model", name}, {"upstream", upstream}, {"type", type}});
    };
    usage_.push_back({series("prompt"), series("cached"), series("completion"),
                      series("reasoning"), &cost.Add({{"model", name}, {"upstream", upstream}})});
  }

  // An edge or self-hosted machine's own cost, apart from its tokens: constant per config.
  auto& fixed = prometheus::BuildGauge()
                    .Name("switchyard_model_fixed_cost_usd_per_hour")
                    .Help("A model's fixed cost per hour (its machine), reported apart from tokens")
                    .Register(*registry_);
  for (const auto& model : runtime.models())
    if (model.config->prices.fixed_usd_per_hour > 0)
      fixed.Add({{"model", model.config->name}, {"upstream", model.config->upstream}})
          .Set(model.config->prices.fixed_usd_per_hour);

  auto& profile_cost = BuildCounter()
                           .Name("switchyard_profile_cost_usd_total")
                           .Help("Spend in USD of requests routed by each profile")
                           .Register(*registry_);
  auto& baseline = BuildCounter()
                       .Name("switchyard_baseline_cost_usd_total")
                       .Help("What the profile's requests would have cost on its baseline model")
                       .Register(*registry_);
  auto& savings = BuildCounter()
                      .Name("switchyard_savings_usd_total")
                      .Help("Baseline cost minus actual cost, summed over requests that cost less "
                            "than their baseline")
                      .Register(*registry_);
  auto& decisions = BuildCounter()
                        .Name("switchyard_route_decisions_total")
                        .Help("Routing decisions, by profile and required tier")
                        .Register(*registry_);
  int max_tier = 1;
  for (const auto& model : runtime.models()) max_tier = std::max(max_tier, model.config->tier);
  for (const auto& profile : runtime.profiles()) {
    const std::string& name = profile.config->name;
    ProfileSeries series{&profile_cost.Add({{"profile", name}}), &baseline.Add({{"profile", name}}),
                         &savings.Add({{"profile", name}}), {}};
    for (int tier = 1; tier <= max_tier; ++tier)
      series.decisions.push_back(&decisions.Add({{"profile", name}, {"tier", std::to_string(tier)}}));
    profiles_.push_back(std::move(series));
  }

  auto& tenant_cost = BuildCounter()
                          .Name("switchyard_tenant_cost_usd_total")
                          .Help("Spend in USD by tenant (tenants of the configured keys)")
                          .Register(*registry_);
  auto& remaining = prometheus::BuildGauge()
                        .Name("switchyard_budget_remaining_usd")
                        .Help("What the tenant's tightest budget has left this period")
                        .Register(*registry_);
  auto& limit = prometheus::BuildGauge()
                    .Name("switchyard_budget_limit_usd")
                    .Help("The limit of the tenant's tightest budget")
                    .Register(*registry_);
  for (const auto& tenant : runtime.tenants()) {
    TenantSeries series{&tenant_cost.Add({{"tenant", tenant.name}}), nullptr, nullptr};
    if (!tenant.budgets.empty()) {
      series.remaining_usd = &remaining.Add({{"tenant", tenant.name}});
      series.limit_usd = &limit.Add({{"tenant", tenant.name}});
    }
    tenants_.push_back(series);
  }

  const prometheus::Histogram::BucketBoundaries ttft_buckets{
      0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 60};
  auto& ttft = prometheus::BuildHistogram()
                   .Name("switchyard_time_to_first_token_seconds")
                   .Help("Time from request read to the first body byte sent, by upstream")
                   .Register(*registry_);
  auto& in_flight = prometheus::BuildGauge()
                        .Name("switchyard_upstream_in_flight")
                        .Help("Requests being sent to or answered by the upstream")
                        .Register(*registry_);
  auto& up = prometheus::BuildGauge()
                 .Name("switchyard_upstream_up")
                 .Help("1 when the upstream is usable, 0 while its connections are failing")
                 .Register(*registry_);
  auto& skips = BuildCounter()
                    .Name("switchyard_upstream_skipped_total")
                    .Help("Candidates passed over without an attempt, by upstream and reason")
                    .Register(*registry_);
  for (const auto& upstream : upstreams) {
    upstream_skips_.push_back({&skips.Add({{"upstream", upstream.name}, {"reason", "circuit_open"}}),
                               &skips.Add({{"upstream", upstream.name}, {"reason", "at_capacity"}}),
                               &skips.Add({{"upstream", upstream.name}, {"reason", "queue_timeout"}})});
    ttft_.push_back(&ttft.Add({{"upstream", upstream.name}}, ttft_buckets));
    upstream_in_flight_.push_back(&in_flight.Add({{"upstream", upstream.name}}));
    upstream_up_.push_back(&up.Add({{"upstream", upstream.name}}));
    upstream_up_.back()->Set(1);
  }
  overhead_ = &prometheus::BuildHistogram()
                   .Name("switchyard_overhead_seconds")
                   .Help("Time a request spent in the proxy itself, upstream waits excluded")
                   .Register(*registry_)
                   .Add({}, prometheus::Histogram::BucketBoundaries{
                                0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                0.0025, 0.005, 0.01, 0.025, 0.1});
  classifier_score_ = &prometheus::BuildHistogram()
                           .Name("switchyard_classifier_score")
                           .Help("The classifier's scores of routed requests")
                           .Register(*registry_)
                           .Add({}, prometheus::Histogram::BucketBoundaries{
                                        0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1});
  ledger_rows_ = &BuildCounter()
                      .Name("switchyard_ledger_rows_total")
                      .Help("Rows committed to the spend ledger")
                      .Register(*registry_)
                      .Add({});
  ledger_errors_ = &BuildCounter()
                        .Name("switchyard_ledger_write_errors_total")
                        .Help("Ledger commits that failed (their rows stay queued and are retried)")
                        .Register(*registry_)
                        .Add({});

  auto& failures = BuildCounter()
                       .Name("switchyard_upstream_failures_total")
                       .Help("Failed exchanges with an upstream, by kind")
                       .Register(*registry_);
  auto& opened = BuildCounter()
                     .Name("switchyard_upstream_connections_opened_total")
                     .Help("New connections to an upstream (pooled connections are reused)")
                     .Register(*registry_);
  for (const auto& upstream : upstreams) {
    std::vector<prometheus::Counter*> by_kind(kFailureKinds, nullptr);
    for (int k = 1; k < kFailureKinds; ++k)
      by_kind[k] = &failures.Add(
          {{"upstream", upstream.name},
           {"kind", upstream::KindName(static_cast<upstream::FailureKind>(k))}});
    upstream_failures_.push_back(std::move(by_kind));
    upstream_connections_.push_back(&opened.Add({{"upstream", upstream.name}}));
  }

  active_requests_ = &prometheus::BuildGauge()
                          .Name("switchyard_active_requests")
                          .Help("API requests in flight")
                          .Register(*registry_)
                          .Add({});
  client_connections_ = &prometheus::BuildGauge()
                             .Name("switchyard_client_connections")
                             .Help("Open client connections")
                             .Register(*registry_)
                             .Add({});
}

void Metrics::RecordHttp(Route route, unsigned status, double seconds) {
  const int r = static_cast<int>(route);
  http_requests_[r][StatusIndex(status)]->Increment();
  http_duration_[r]->Observe(seconds);
}

void Metrics::RecordApi(const ModelRuntime* model, unsigned status) {
  const std::size_t i = model ? model->index : api_requests_.size() - 1;
  api_requests_[i][StatusIndex(status)]->Increment();
}

void Metrics::RecordUpstreamFailure(std::size_t upstream_index, upstream::FailureKind kind) {
  const int k = static_cast<int>(kind);
  if (k > 0 && k < kFailureKinds) upstream_failures_[upstream_index][k]->Increment();
}

void Metrics::RecordUsage(const ModelRuntime& model, const accounting::Usage& usage,
                          std::int64_t cost_nano_usd) {
  const UsageSeries& s = usage_[model.index];
  s.prompt->Increment(static_cast<double>(usage.prompt_tokens));
  s.cached->Increment(static_cast<double>(usage.cached_tokens));
  s.completion->Increment(static_cast<double>(usage.completion_tokens));
  s.reasoning->Increment(static_cast<double>(usage.reasoning_tokens));
  s.cost_usd->Increment(Usd(cost_nano_usd));
}

void Metrics::RecordSpend(const ProfileRuntime* profile, const KeyRuntime* key,
                          std::int64_t cost_nano_usd, std::int64_t baseline_nano_usd) {
  if (profile) {
    const ProfileSeries& s = profiles_[profile->index];
    s.cost_usd->Increment(Usd(cost_nano_usd));
    s.baseline_usd->Increment(Usd(baseline_nano_usd));
    if (baseline_nano_usd > cost_nano_usd) s.savings_usd->Increment(Usd(baseline_nano_usd - cost_nano_usd));
  }
  if (key) tenants_[key->tenant_index].cost_usd->Increment(Usd(cost_nano_usd));
}

void Metrics::RecordDecision(const ProfileRuntime& profile, int required_tier, double score) {
  const auto& decisions = profiles_[profile.index].decisions;
  const std::size_t i = static_cast<std::size_t>(std::max(required_tier, 1) - 1);
  decisions[std::min(i, decisions.size() - 1)]->Increment();
  classifier_score_->Observe(score);
}

void Metrics::RecordTimings(const ModelRuntime* model, double ttft_seconds, double overhead_seconds) {
  if (model && ttft_seconds >= 0) ttft_[model->config->upstream_index]->Observe(ttft_seconds);
  overhead_->Observe(overhead_seconds);
}

void Metrics::RecordUpstreamSkip(std::size_t upstream_index, std::string_view reason) {
  const std::size_t r = reason == "circuit_open" ? 0 : reason == "at_capacity" ? 1 : 2;
  upstream_skips_[upstream_index][r]->Increment();
}

void Metrics::SetUpstreamUp(std::size_t upstream_index, bool up) {
  upstream_up_[upstream_index]->Set(up ? 1 : 0);
}

void Metrics::SetTenantBudget(std::size_t tenant_index, double remaining_usd, double limit_usd) {
  const TenantSeries& s = tenants_[tenant_index];
  if (!s.remaining_usd) return;
  s.remaining_usd->Set(remaining_usd);
  s.limit_usd->Set(limit_usd);
}

void Metrics::SetLedger(std::uint64_t rows, std::uint64_t write_errors) {
  // Counters only go up: add what is new since the last scrape.
  auto catch_up = [](prometheus::Counter* c, std::uint64_t total) {
    const double delta = static_cast<double>(total) - c->Value();
    if (delta > 0) c->Increment(delta);
  };
  // Two scrapes at once (through any config's view) would both add the same delta.
  static std::mutex scrape_mutex;
  std::lock_guard lock(scrape_mutex);
  catch_up(ledger_rows_, rows);
  catch_up(ledger_errors_, write_errors);
}

void Metrics::RecordUpstreamConnectionOpened(std::size_t upstream_index) {
  upstream_connections_[upstream_index]->Increment();
}

std::string Metrics::Serialize() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace switchyard
