// The complexity scorer: a blend of (1) a learned logistic model over the standardised dense
// features plus hashed word unigrams and bigrams of the last user message and (2) the
// transparent hand-set rules of rules.h, each in logit units, then calibrated. A Model is
// immutable once built or loaded:
// share it as std::shared_ptr<const Model> across threads; Score() is reentrant, allocates
// nothing and reads only the request it is given.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "classifiers/chat_request.h"
#include "classifiers/features.h"

namespace switchyard::classifiers {

struct ModelParams {
  uint32_t hash_bits = 16;  // hashed weights: 1 << hash_bits floats
  float bias = 0.0f;
  // score = sigmoid((evidence - score_center) * score_scale): set after training so that the
  // median training prompt scores 0.5 and the 90th percentile 0.9 (score ~ "harder than this
  // share of the reference prompts"), whatever the target's base rate.
  float score_center = 0.0f;
  float score_scale = 1.0f;
  // The blend: logit = (learned_weight * learned calibrated logit + rules_weight * size rules
  // - blend_center) * blend_scale + rules_weight * intent rules (rules.h), score =
  // sigmoid(logit); blend_center and blend_scale are set after training like score_center /
  // score_scale (median training prompt 0.5, 90th percentile 0.9) on the logit without the
  // intent rules. The defaults are the learned model alone.
  float learned_weight = 1.0f;
  float rules_weight = 0.0f;
  float blend_center = 0.0f;
  float blend_scale = 1.0f;
  std::array<float, kDenseFeatureCount> mean{};  // dense standardisation: (x - mean) * inv_scale
  std::array<float, kDenseFeatureCount> inv_scale{};
  std::array<float, kDenseFeatureCount> dense{};  // weights of the standardised dense features
  std::vector<float> hashed;                      // weights of the hashed n-grams
  std::string description;                        // how it was trained (free text, one line)
};

// One feature's share of a score, in calibrated logit units (score = sigmoid of their sum
// minus the calibration centre). `name` is a dense feature's name or an
// n-gram as "word:<token>" / "words:<a>_<b>".
struct Contribution {
  std::array<char, 48> name_buffer{};
  float value = 0.0f;
  std::string_view name() const { return std::string_view(name_buffer.data()); }
};

struct ScoreResult {
  static constexpr int kMaxContributions = 6;
  double score = 0.0;  // in [0, 1], monotone in evidence; higher = needs a stronger model
  double logit = 0.0;     // the calibrated logit: score = sigmoid(logit)
  double evidence = 0.0;  // what ranks requests: the logit plus a constant (same order as score)
  int64_t estimated_prompt_tokens = 0;
  int contribution_count = 0;  // the largest |contributions|, largest first
  std::array<Contribution, kMaxContributions> contributions;
};

// Calls `fn(index)` for each hashed feature of a token stream (unigrams and bigrams), masked
// to `hash_bits`. Shared by training and scoring so both see exactly the same features.
class NgramHasher : public TokenSink {
 public:
  // `keep_previous_text`: previous() is needed (explanations name bigrams).
  explicit NgramHasher(uint32_t hash_bits, bool keep_previous_text = false)
      : mask_((1u << hash_bits) - 1), keep_previous_text_(keep_previous_text) {}
  void Token(std::string_view token, uint32_t hash) override;
  int64_t count() const { return count_; }
  // The previous token's text, for explanations; empty unless kept.
  std::string_view previous() const { return std::string_view(prev_.data(), prev_len_); }

 protected:
  virtual void Feature(uint32_t index, std::string_view token, bool bigram) = 0;

 private:
  uint32_t mask_;
  bool keep_previous_text_;
  uint32_t prev_hash_ = 0;
  bool has_prev_ = false;
  int64_t count_ = 0;
  std::array<char, TokenSink::kMaxTokenBytes> prev_{};
  size_t prev_len_ = 0;
};

// The weight of n-gram features: each occurrence counts 1 / sqrt(n-grams in the message), but
// never more than 1 / sqrt(kMinNgramNorm): a message of one or two words ("Hi!") cannot let a
// single n-gram's weight decide its score.
inline constexpr int64_t kMinNgramNorm = 16;
inline double NgramScale(int64_t count) {
  return count > 0 ? 1.0 / std::sqrt(static_cast<double>(std::max(count, kMinNgramNorm))) : 0.0;
}

class Model {
 public:
  explicit Model(ModelParams params);

  // `explain` = false skips the contributions (a little faster).
  ScoreResult Score(const ChatRequest& request, bool explain = true) const;
  const ModelParams& params() const { return params_; }

 private:
  ModelParams params_;
};

}  // namespace switchyard::classifiers
