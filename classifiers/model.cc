#include "classifiers/model.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "classifiers/rules.h"

namespace switchyard::classifiers {
namespace {

uint32_t Mix(uint32_t a, uint32_t b) {
  uint32_t h = a * 0x9E3779B1u ^ (b + 0x7F4A7C15u + (a << 6) + (a >> 2));
  h ^= h >> 15;
  h *= 0x2C1B3C6Du;
  h ^= h >> 12;
  return h;
}

void SetName(Contribution* c, std::string_view prefix, std::string_view a, std::string_view b) {
  char* out = c->name_buffer.data();
  const size_t cap = c->name_buffer.size() - 1;
  size_t n = 0;
  for (std::string_view part :
       {prefix, a, b.empty() ? std::string_view() : std::string_view("_"), b}) {
    const size_t take = std::min(part.size(), cap - n);
    if (take > 0) std::memcpy(out + n, part.data(), take);  // an empty view may hold null
    n += take;
  }
  out[n] = '\0';
}

// Sums n-gram weights and remembers the n-grams with the largest total |weight| (a small
// fixed table: approximate when more than kSlots n-grams compete, exact otherwise).
class ScoringHasher final : public NgramHasher {
 public:
  static constexpr int kSlots = 8;
  ScoringHasher(const ModelParams& params, bool explain)
      : NgramHasher(params.hash_bits, explain), weights_(params.hashed.data()), explain_(explain) {}
  double sum() const { return sum_; }
  int slot_count() const { return used_; }
  const Contribution& slot(int i) const { return slots_[i]; }

 protected:
  void Feature(uint32_t index, std::string_view token, bool bigram) override {
    const float w = weights_[index];
    sum_ += w;
    // Fast path: an n-gram weaker than every remembered one (when the table is full) is only
    // summed. Repeats of a weak n-gram are therefore not accumulated: explanations are approximate.
    if (!explain_ || (used_ == kSlots && std::fabs(w) <= min_abs_)) return;
    for (int i = 0; i < used_; ++i) {
      if (indexes_[i] == index) {
        slots_[i].value += w;
        UpdateMin();
        return;
      }
    }
    int target = used_;
    if (used_ == kSlots) {
      target = 0;
      for (int i = 1; i < kSlots; ++i)
        if (std::fabs(slots_[i].value) < std::fabs(slots_[target].value)) target = i;
      if (std::fabs(slots_[target].value) >= std::fabs(w)) return;
    } else {
      ++used_;
    }
    indexes_[target] = index;
    slots_[target].value = w;
    if (bigram)
      SetName(&slots_[target], "words:", previous(), token);
    else
      SetName(&slots_[target], "word:", token, {});
    UpdateMin();
  }

 private:
  void UpdateMin() {
    if (used_ < kSlots) return;
    min_abs_ = std::fabs(slots_[0].value);
    for (int i = 1; i < kSlots; ++i) min_abs_ = std::min(min_abs_, std::fabs(slots_[i].value));
  }

  const float* weights_;
  bool explain_;
  float min_abs_ = 0.0f;
  double sum_ = 0.0;
  int used_ = 0;
  std::array<uint32_t, kSlots> indexes_{};
  std::array<Contribution, kSlots> slots_{};
};

void Offer(const Contribution& c, ScoreResult* result) {
  const float v = std::fabs(c.value);
  if (v < 1e-4f) return;
  int n = result->contribution_count;
  if (n == ScoreResult::kMaxContributions) {
    if (v <= std::fabs(result->contributions[n - 1].value)) return;
    --n;
  }
  int pos = n;
  while (pos > 0 && std::fabs(result->contributions[pos - 1].value) < v) {
    result->contributions[pos] = result->contributions[pos - 1];
    --pos;
  }
  result->contributions[pos] = c;
  result->contribution_count = n + 1;
}

}  // namespace

void NgramHasher::Token(std::string_view token, uint32_t h) {
  Feature(h & mask_, token, false);
  ++count_;
  if (has_prev_) {
    Feature(Mix(prev_hash_, h) & mask_, token, true);
    ++count_;
  }
  prev_hash_ = h;
  has_prev_ = true;
  if (keep_previous_text_) {
    prev_len_ = std::min(token.size(), prev_.size());
    std::memcpy(prev_.data(), token.data(), prev_len_);
  }
}

Model::Model(ModelParams params) : params_(std::move(params)) {
  params_.hashed.resize(size_t{1} << params_.hash_bits, 0.0f);
}

ScoreResult Model::Score(const ChatRequest& request, bool explain) const {
  ScoreResult result;
  Features features;
  ScoringHasher hasher(params_, explain);
  ExtractFeatures(request, &features, &hasher);
  result.estimated_prompt_tokens = features.estimated_prompt_tokens;
  // Learned part, in its own calibrated logit units.
  const double learned_unit = params_.score_scale * params_.learned_weight * params_.blend_scale;
  double learned = 0.0;
  for (int i = 0; i < kDenseFeatureCount; ++i) {
    const float z = (features.dense[i] - params_.mean[i]) * params_.inv_scale[i];
    const float c = params_.dense[i] * z;
    learned += c;
    if (!explain || c == 0.0f) continue;
    Contribution contribution;
    SetName(&contribution, DenseFeatureName(i), {}, {});
    contribution.value = static_cast<float>(c * learned_unit);
    Offer(contribution, &result);
  }
  const double scale = NgramScale(hasher.count());
  learned += hasher.sum() * scale;
  for (int i = 0; i < hasher.slot_count(); ++i) {
    Contribution contribution = hasher.slot(i);
    contribution.value = static_cast<float>(contribution.value * scale * learned_unit);
    Offer(contribution, &result);
  }
  const double learned_logit = (learned - params_.score_center) * params_.score_scale;
  // Transparent rules.
  RuleSums rules;
  if (params_.rules_weight != 0.0f) {
    std::array<float, kDenseFeatureCount> parts{};
    rules = RuleEvidence(features.dense, explain ? &parts : nullptr);
    for (int i = 0; explain && i < kDenseFeatureCount; ++i) {
      if (parts[i] == 0.0f) continue;
      Contribution contribution;
      SetName(&contribution, "rule:", DenseFeatureName(i), {});
      contribution.value = parts[i] * params_.rules_weight *
                           (RuleFor(i).intent ? 1.0f : params_.blend_scale);
      Offer(contribution, &result);
    }
  }
  const double blended = params_.learned_weight * learned_logit + params_.rules_weight * rules.size;
  result.logit = (blended - params_.blend_center) * params_.blend_scale +
                 params_.rules_weight * rules.intent;
  result.evidence = result.logit;
  result.score = 1.0 / (1.0 + std::exp(-result.logit));
  return result;
}

}  // namespace switchyard::classifiers
