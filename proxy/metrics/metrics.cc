#include "proxy/metrics/metrics.h"

#include <prometheus/text_serializer.h>

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
    case Route::kOther: return "other";
  }
  return "other";
}

static const char* kStatusClassNames[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
static constexpr int kFailureKinds = static_cast<int>(upstream::FailureKind::kStatus) + 1;

int Metrics::StatusIndex(unsigned status) {
  int i = static_cast<int>(status / 100) - 1;
  return i < 0 ? 4 : (i >= kStatusClasses ? 4 : i);
}

Metrics::Metrics(const Runtime& runtime) : registry_(std::make_shared<prometheus::Registry>()) {
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
                  .Help("Proxied API requests, by model, upstream and status class")
                  .Register(*registry_);
  const auto& upstreams = runtime.config().upstreams;
  for (const auto& model : runtime.models()) {
    ByStatus series{};
    for (int s = 0; s < kStatusClasses; ++s)
      series[s] = &api.Add({{"model", model.config->name},
                            {"upstream", model.config->upstream},
                            {"status_class", kStatusClassNames[s]}});
    api_requests_.push_back(series);
  }
  ByStatus unrouted{};
  for (int s = 0; s < kStatusClasses; ++s)
    unrouted[s] = &api.Add({{"model", ""}, {"upstream", ""}, {"status_class", kStatusClassNames[s]}});
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
                      &cost.Add({{"model", name}, {"upstream", upstream}})});
  }

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
  s.cost_usd->Increment(static_cast<double>(cost_nano_usd) / accounting::kNanoPerUsd);
}

void Metrics::RecordUpstreamConnectionOpened(std::size_t upstream_index) {
  upstream_connections_[upstream_index]->Increment();
}

std::string Metrics::Serialize() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace switchyard
