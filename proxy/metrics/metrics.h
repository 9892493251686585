// The proxy's Prometheus metrics. Every labelled series is created once at start-up from the
// config (no Family::Add on the request path); recording is lock-free and thread-safe.
// Labels are bounded: model and upstream names from the config, route, status class.
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
  kOther
};
inline constexpr int kRouteCount = 8;
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
  explicit Metrics(const Runtime& runtime);

  // Any HTTP request the server answered.
  void RecordHttp(Route route, unsigned status, double seconds);
  // A proxied API request; `model` is null when it failed before a model was chosen.
  void RecordApi(const ModelRuntime* model, unsigned status);
  void RecordUpstreamFailure(std::size_t upstream_index, upstream::FailureKind kind);
  // Tokens an upstream reported for a request to `model`, and what they cost.
  void RecordUsage(const ModelRuntime& model, const accounting::Usage& usage, std::int64_t cost_nano_usd);
  void RecordUpstreamConnectionOpened(std::size_t upstream_index);

  prometheus::Gauge& active_requests() { return *active_requests_; }
  prometheus::Gauge& client_connections() { return *client_connections_; }

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
    prometheus::Counter* cost_usd;
  };
  std::vector<UsageSeries> usage_;  // by model index
  prometheus::Gauge* active_requests_ = nullptr;
  prometheus::Gauge* client_connections_ = nullptr;
};

}  // namespace switchyard
