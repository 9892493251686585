#include "proxy/routing/router.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

#include "proxy/openai/errors.h"

namespace switchyard::routing {

int RequiredTier(double score, const std::vector<double>& ascending_thresholds) {
  int tier = 1;
  for (double t : ascending_thresholds)
    if (score >= t) ++tier;
  return tier;
}

static std::int64_t ExpectedOutputTokens(const config::Model& model, const config::Profile& profile,
                                         const RequestTraits& traits) {
  std::int64_t tokens = profile.expected_output_tokens;
  if (traits.max_tokens >= 0) tokens = std::min(tokens, traits.max_tokens);
  return std::min(tokens, model.max_output_tokens);
}

double ExpectedCostUsd(const config::Model& model, const config::Profile& profile,
                       const RequestTraits& traits) {
  const double output = static_cast<double>(ExpectedOutputTokens(model, profile, traits));
  return (static_cast<double>(traits.estimated_prompt_tokens) * model.prices.input +
          output * model.prices.output) /
         1e6;
}

static bool KindAllowed(const config::Profile& profile, config::ModelKind kind) {
  return profile.kinds.empty() ||
         std::find(profile.kinds.begin(), profile.kinds.end(), kind) != profile.kinds.end();
}

// Why `model` cannot serve this request, or null.
static const char* DropReason(const config::Model& model, const config::Profile& profile,
                              int required_tier, const RequestTraits& traits,
                              const UpstreamView& upstreams) {
  if (model.tier == 0) return "not a routing candidate (no tier)";
  if (!KindAllowed(profile, model.kind)) return "kind not allowed by the profile";
  if (model.tier < required_tier) return "tier below the required tier";
  const std::int64_t completion = traits.max_tokens >= 0 ? traits.max_tokens : 0;
  if (traits.estimated_prompt_tokens + completion > model.context_window)
    return "context window too small";
  if (traits.max_tokens > model.max_output_tokens) return "max_tokens above the model's output limit";
  if (traits.tools && !model.supports.tools) return "no tool support";
  if (traits.vision && !model.supports.vision) return "no image input";
  if (traits.json_schema && !model.supports.json_schema) return "no JSON schema support";
  if (traits.stream && !model.supports.streaming) return "no streaming";
  if (upstreams.usable && !upstreams.usable(model.upstream_index)) return "upstream unusable";
  return nullptr;
}

Decision Decide(const Runtime& runtime, const config::Profile& profile,
                const std::vector<double>& thresholds, double score, int min_tier,
                const RequestTraits& traits, const UpstreamView& upstreams) {
  Decision d;
  d.score = score;
  d.required_tier = std::max(RequiredTier(score, thresholds), min_tier);
  d.verdicts.reserve(runtime.models().size());
  d.chosen.reserve(static_cast<std::size_t>(std::max(profile.max_attempts, 0)));
  for (const ModelRuntime& m : runtime.models()) {
    Verdict v{&m, ExpectedCostUsd(*m.config, profile, traits),
              DropReason(*m.config, profile, d.required_tier, traits, upstreams)};
    if (m.config->tier > 0) d.verdicts.push_back(v);  // name-only models are not listed
  }
  auto latency = [&](const Verdict& v) {
    return upstreams.latency_seconds ? upstreams.latency_seconds(v.model->config->upstream_index)
                                     : 0.0;
  };
  // Last by position in the config (models() is one array): the order a stable sort would
  // keep, without the buffer std::stable_sort allocates.
  std::sort(d.verdicts.begin(), d.verdicts.end(), [&](const Verdict& a, const Verdict& b) {
    if ((a.dropped == nullptr) != (b.dropped == nullptr)) return a.dropped == nullptr;
    if (a.expected_cost_usd != b.expected_cost_usd) return a.expected_cost_usd < b.expected_cost_usd;
    const double la = latency(a), lb = latency(b);
    if (la != lb) return la < lb;
    return std::less<>()(a.model, b.model);
  });
  for (const Verdict& v : d.verdicts)
    if (!v.dropped && static_cast<int>(d.chosen.size()) < profile.max_attempts)
      d.chosen.push_back(v.model);
  return d;
}

std::string DecisionJson(const Decision& d, const config::Profile& profile) {
  std::string out = R"({"profile":")";
  openai::AppendJsonEscaped(out, profile.name);
  fmt::format_to(std::back_inserter(out), R"(","score":{:.4f},"required_tier":{},"candidates":[)",
                 d.score, d.required_tier);
  for (std::size_t i = 0; i < d.verdicts.size(); ++i) {
    const Verdict& v = d.verdicts[i];
    const auto& m = *v.model->config;
    out += i ? ",{" : "{";
    out += R"("model":")";
    openai::AppendJsonEscaped(out, m.name);
    out += R"(","upstream":")";
    openai::AppendJsonEscaped(out, m.upstream);
    fmt::format_to(std::back_inserter(out), R"(","tier":{},"expected_cost_usd":{:.8f},"kept":{})",
                   m.tier, v.expected_cost_usd, v.dropped == nullptr);
    if (v.dropped) fmt::format_to(std::back_inserter(out), R"(,"dropped":"{}")", v.dropped);
    out += '}';
  }
  out += R"(],"choice":)";
  if (d.chosen.empty()) {
    out += "null";
  } else {
    out += '"';
    openai::AppendJsonEscaped(out, d.chosen.front()->config->name);
    out += '"';
  }
  out += R"(,"fallbacks":[)";
  for (std::size_t i = 1; i < d.chosen.size(); ++i) {
    if (i > 1) out += ',';
    out += '"';
    openai::AppendJsonEscaped(out, d.chosen[i]->config->name);
    out += '"';
  }
  out += "]}";
  return out;
}

}  // namespace switchyard::routing
