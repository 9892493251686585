// Where a request for a routing profile goes: the score sets a minimum tier; every model of
// the config is kept or dropped with a reason (tier, kind, context window, a feature the
// request uses, an unusable upstream); the kept ones are ordered by expected cost, then by
// observed latency. Pure functions over immutable config; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "proxy/runtime.h"

namespace switchyard::routing {

// What the request needs, read from its body.
struct RequestTraits {
  std::int64_t estimated_prompt_tokens = 0;
  std::int64_t max_tokens = -1;  // -1: not given
  bool tools = false;
  bool vision = false;
  bool json_schema = false;
  bool stream = false;
};

struct Verdict {
  const ModelRuntime* model = nullptr;
  double expected_cost_usd = 0;
  const char* dropped = nullptr;  // why it cannot serve the request; null when kept
};

struct Decision {
  double score = 0;
  int required_tier = 1;
  std::vector<Verdict> verdicts;            // kept ones first, cheapest first; then dropped
  std::vector<const ModelRuntime*> chosen;  // kept, in order, at most profile.max_attempts
};

// Live upstream state the decision reads (usable = not failing; latency for tie-breaks).
struct UpstreamView {
  std::function<bool(std::size_t upstream)> usable;
  std::function<double(std::size_t upstream)> latency_seconds;
};

int RequiredTier(double score, const std::vector<double>& ascending_thresholds);

// Prompt tokens at the input price plus expected completion tokens (the profile's expectation,
// capped by max_tokens and the model's limit) at the output price.
double ExpectedCostUsd(const config::Model& model, const config::Profile& profile,
                       const RequestTraits& traits);

// `thresholds` are the profile's (or its calibrator's); `min_tier` from the client (a header)
// raises the required tier; 0 = none.
Decision Decide(const Runtime& runtime, const config::Profile& profile,
                const std::vector<double>& thresholds, double score, int min_tier,
                const RequestTraits& traits, const UpstreamView& upstreams);

// The decision as JSON for /v1/route/explain (features are added by the caller).
std::string DecisionJson(const Decision& decision, const config::Profile& profile);

}  // namespace switchyard::routing
