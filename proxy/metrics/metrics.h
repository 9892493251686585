// The proxy's Prometheus metrics. Every labelled series is created once per loaded config
// (no Family::Add on the request path); recording is lock-free and thread-safe. Labels are
// bounded: model and upstream names from the config, route, status class. A reloaded config
// gets a new Metrics over the same registry: series it shares with the old config are the
// same series, so counters carry on.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "proxy/accounting/usage.h"
#include "proxy/runtime.h"
#include "proxy/upstream/failure.h"

namespace switchyard {

enum class Route {
  kChatCompletions,
  kCompletions,
  kEmbeddings,
  kModels,
  kRouteExplain,
  kHealth,
  kMetrics,
  kSpend,
  kOther
};
inline constexpr int kRouteCount = 9;
const char* RouteName(Route route);

// Holds a gauge one higher for as long as it lives (in-flight requests, open connections).
class GaugeScope {
 public:
  explicit GaugeScope(prometheus::Gauge& gauge) : gauge_(gauge) { gauge_.Increment(); }
  ~GaugeScope() { gauge_.Decrement(); }
  GaugeScope(const GaugeScope&) = delete;
  GaugeScope& operator=(const GaugeScope&) = delete;

 private:
  prometheus::Gauge& gauge_;
};

class Metrics {
 public:
  // Series for `runtime`'s models, upstreams, profiles and tenants in `registry` (null: a
  // new one).
  Metrics(const Runtime& runtime, std::shared_ptr<prometheus::Registry> registry);
  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }

  // Any HTTP request the server answered.
  void RecordHttp(Route route, unsigned status, double seconds);
  // A proxied API request; `model` is null when it failed before a model was chosen.
  void RecordApi(const ModelRuntime* model, unsigned status);
  void RecordUpstreamFailure(std::size_t upstream_index, upstream::FailureKind kind);
  // Tokens a request to `model` used (reported or estimated), and what they cost.
  void RecordUsage(const ModelRuntime& model, const accounting::Usage& usage, std::int64_t cost_nano_usd);
  // A routed request's cost next to its profile's baseline, and its tenant's (if any) spend.
  void RecordSpend(const ProfileRuntime* profile, const KeyRuntime* key, std::int64_t cost_nano_usd,
                   std::int64_t baseline_nano_usd);
  // A routing profile's decision.
  void RecordDecision(const ProfileRuntime& profile, int required_tier, double score);
  // Time to the first body byte (< 0: none) and time spent in the proxy, upstream excluded.
  void RecordTimings(const ModelRuntime* model, double ttft_seconds, double overhead_seconds);
  void RecordUpstreamConnectionOpened(std::size_t upstream_index);
  // A candidate passed over without an attempt: "circuit_open", "at_capacity", "queue_timeout".
  void RecordUpstreamSkip(std::size_t upstream_index, std::string_view reason);

  prometheus::Gauge& active_requests() { return *active_requests_; }
  prometheus::Gauge& client_connections() { return *client_connections_; }
  prometheus::Gauge& upstream_in_flight(std::size_t upstream_index) {
    return *upstream_in_flight_[upstream_index];
  }

  // State read when scraped: an upstream usable or not, a tenant's tightest budget, the ledger.
  void SetUpstreamUp(std::size_t upstream_index, bool up);
  void SetTenantBudget(std::size_t tenant_index, double remaining_usd, double limit_usd);
  void SetLedger(std::uint64_t rows, std::uint64_t write_errors);

  // Prometheus text exposition format.
  std::string Serialize() const;

 private:
  static constexpr int kStatusClasses = 5;  // 1xx..5xx
  using ByStatus = std::array<prometheus::Counter*, kStatusClasses>;
  static int StatusIndex(unsigned status);

  std::shared_ptr<prometheus::Registry> registry_;
  std::array<ByStatus, kRouteCount> http_requests_{};
  std::array<prometheus::Histogram*, kRouteCount> http_duration_{};
  std::vector<ByStatus> api_requests_;  // by model index; the last entry: no model
  std::vector<std::vector<prometheus::Counter*>> upstream_failures_;  // [upstream][kind]
  std::vector<prometheus::Counter*> upstream_connections_;
  struct UsageSeries {
    prometheus::Counter* prompt;
    prometheus::Counter* cached;
    prometheus::Counter* completion;
    prometheus::Counter* reasoning;
    prometheus::Counter* cost_usd;
  };
  std::vector<UsageSeries> usage_;  // by model index
  struct ProfileSeries {
    prometheus::Counter* cost_usd;
    prometheus::Counter* baseline_usd;
    prometheus::Counter* savings_usd;
    std::vector<prometheus::Counter*> decisions;  // by tier - 1
  };
  std::vector<ProfileSeries> profiles_;  // by profile index
  struct TenantSeries {
    prometheus::Counter* cost_usd;
    prometheus::Gauge* remaining_usd;  // null: the tenant has no budget
    prometheus::Gauge* limit_usd;
  };
  std::vector<TenantSeries> tenants_;  // by tenant index
  std::vector<prometheus::Histogram*> ttft_;  // by upstream index
  prometheus::Histogram* overhead_ = nullptr;
  prometheus::Histogram* classifier_score_ = nullptr;
  std::vector<prometheus::Gauge*> upstream_in_flight_;
  std::vector<prometheus::Gauge*> upstream_up_;
  std::vector<std::array<prometheus::Counter*, 3>> upstream_skips_;  // by upstream, by reason
  prometheus::Counter* ledger_rows_ = nullptr;
  prometheus::Counter* ledger_errors_ = nullptr;
  prometheus::Gauge* active_requests_ = nullptr;
  prometheus::Gauge* client_connections_ = nullptr;
};

}  // namespace switchyard
