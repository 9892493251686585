#include "classifiers/trainer.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <tuple>

#include "classifiers/rules.h"

namespace switchyard::classifiers {
namespace {

class CollectingHasher final : public NgramHasher {
 public:
  explicit CollectingHasher(uint32_t bits) : NgramHasher(bits) {}
  std::vector<uint32_t> indexes;

 protected:
  void Feature(uint32_t index, std::string_view, bool) override { indexes.push_back(index); }
};

double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// Evidence (logit without the intercept) of an encoded example.
double Evidence(const EncodedExample& e, const ModelParams& p) {
  double sum = 0.0;
  for (int f = 0; f < kDenseFeatureCount; ++f)
    sum += p.dense[f] * (e.dense[f] - p.mean[f]) * p.inv_scale[f];
  for (const auto& [index, value] : e.sparse) sum += p.hashed[index] * value;
  return sum;
}

// (center, scale) mapping the median of `evidence` to logit 0 and its 90th percentile to
// logit ln 9 (score 0.9).
std::pair<float, float> Calibration(std::vector<double> evidence) {
  if (evidence.size() < 2) return {0.0f, 1.0f};
  std::sort(evidence.begin(), evidence.end());
  const double median = evidence[evidence.size() / 2];
  const double q90 = evidence[evidence.size() * 9 / 10];
  return {static_cast<float>(median),
          q90 > median ? static_cast<float>(std::log(9.0) / (q90 - median)) : 1.0f};
}

void Calibrate(const std::vector<EncodedExample>& examples, const std::vector<size_t>& order,
               ModelParams* params) {
  std::vector<double> evidence;
  for (size_t i : order) evidence.push_back(Evidence(examples[i], *params));
  std::tie(params->score_center, params->score_scale) = Calibration(std::move(evidence));
}

// Sets the blend weights and calibrates the blended evidence (what Model::Score computes).
void CalibrateBlend(const std::vector<EncodedExample>& examples, const std::vector<size_t>& order,
                    const TrainOptions& options, ModelParams* params) {
  params->learned_weight = static_cast<float>(options.learned_weight);
  params->rules_weight = static_cast<float>(options.rules_weight);
  std::vector<double> evidence;
  for (size_t i : order) {
    const double learned =
        (Evidence(examples[i], *params) - params->score_center) * params->score_scale;
    evidence.push_back(params->learned_weight * learned +
                       params->rules_weight * RuleEvidence(examples[i].dense, nullptr).size);
  }
  std::tie(params->blend_center, params->blend_scale) = Calibration(std::move(evidence));
}

}  // namespace

float DensePrior(int feature) {
  switch (feature) {
    case kHasTools:
      return 1.0f;
    case kToolCount:
      return 0.3f;
    case kJsonSchema:
      return 0.8f;
    case kJsonObject:
      return 0.3f;
    case kToolMessages:
      return 0.3f;
    case kImageParts:
      return 0.5f;
    case kUserTurns:
      return 0.5f;
    case kAssistantTurns:
      return 0.3f;
    case kCodeBlocks:
      return 0.8f;
    case kCodeLanguages:
      return 0.4f;
    case kCodeCues:
      return 0.3f;
    case kReasoningCues:
      return 0.4f;
    case kProofCues:
      return 0.6f;
    case kLatex:
      return 0.3f;
    case kMathWords:
      return 0.2f;
    case kConstraintCues:
      return 0.2f;
    case kListItems:
      return 0.2f;
    case kSystemTokens:
      return 0.08f;
    case kMaxTokens:
      return 0.05f;
    case kSimpleTaskCues:
      return -0.8f;
    case kChitChatCues:
      return -1.0f;
    case kDesignCues:
      return 0.4f;
    case kStepCues:
      return 0.1f;
    case kStatements:
      return 0.3f;
    case kEmphaticNegations:
      return 0.2f;
    default:
      return 0.0f;
  }
}

int DenseSign(int feature) {
  switch (feature) {
    case kAvgWordLength:
    case kLongWordShare:
    case kUpperShare:
    case kNonAsciiShare:
    case kSentences:
    case kWordsPerSentence:
    case kQuestions:
    case kChoiceOptions:
      return 0;
    case kSimpleTaskCues:
    case kChitChatCues:
      return -1;
    default:
      return 1;
  }
}

std::string TargetName(Target target) {
  switch (target) {
    case Target::kWeakWrong:
      return "weak-wrong";
    case Target::kStrongGain:
      return "strong-gain";
    case Target::kGain:
      return "gain";
  }
  return "?";
}

std::pair<float, float> TargetFor(const LabeledPrompt& p, Target target) {
  if (target == Target::kWeakWrong) return {p.weak_correct ? 0.0f : 1.0f, 1.0f};
  if (target == Target::kGain)
    return {(1.0f + static_cast<float>(p.strong_correct) - static_cast<float>(p.weak_correct)) / 2,
            1.0f};
  if (p.strong_correct && !p.weak_correct) return {1.0f, 1.0f};
  if (!p.strong_correct && !p.weak_correct) return {0.5f, 1.0f};
  return {0.0f, 1.0f};
}

std::vector<EncodedExample> EncodeExamples(const std::vector<LabeledPrompt>& data,
                                           const TrainOptions& options) {
  std::vector<EncodedExample> out(data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    EncodedExample& e = out[i];
    Features features;
    CollectingHasher h(options.hash_bits);
    ExtractFeatures(SingleUserRequest(data[i].prompt), &features, options.ngrams ? &h : nullptr);
    e.dense = features.dense;
    std::sort(h.indexes.begin(), h.indexes.end());
    const float scale = static_cast<float>(NgramScale(h.count()));
    for (uint32_t index : h.indexes) {
      if (!e.sparse.empty() && e.sparse.back().first == index)
        e.sparse.back().second += scale;
      else
        e.sparse.emplace_back(index, scale);
    }
    std::tie(e.target, e.weight) = TargetFor(data[i], options.target);
  }
  return out;
}

namespace {

// One training run; `anchors` are the values dense weights are pulled towards (per
// standardised unit); features the training data never varies are set to their anchor.
ModelParams FitPass(const std::vector<EncodedExample>& examples, std::vector<size_t> order,
                    const TrainOptions& options,
                    const std::array<double, kDenseFeatureCount>& anchors) {
  ModelParams params;
  params.hash_bits = options.hash_bits;
  params.hashed.assign(size_t{1} << options.hash_bits, 0.0f);
  std::array<bool, kDenseFeatureCount> varies{};
  for (size_t i : order)
    for (int f = 0; f < kDenseFeatureCount; ++f)
      varies[f] = varies[f] || examples[i].dense[f] != examples[order[0]].dense[f];
  for (int f = 0; f < kDenseFeatureCount; ++f) {
    params.mean[f] = DenseFeatureCenter(f);
    params.inv_scale[f] = (options.dense_mask >> f & 1) ? 1.0f / DenseFeatureSpread(f) : 0.0f;
  }
  std::array<double, kDenseFeatureCount> w = anchors, g2_dense{};
  std::vector<double> v(params.hashed.size(), 0.0), g2_hashed(params.hashed.size(), 0.0);
  double bias = 0.0, g2_bias = 0.0;
  constexpr double kEps = 1e-8;
  const double lr = options.learning_rate;
  SplitMix64 rng(options.seed);
  std::array<float, kDenseFeatureCount> z{};
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.Below(i)]);
    for (size_t i : order) {
      const EncodedExample& e = examples[i];
      double logit = bias;
      for (int f = 0; f < kDenseFeatureCount; ++f) {
        z[f] = (e.dense[f] - params.mean[f]) * params.inv_scale[f];
        logit += w[f] * z[f];
      }
      for (const auto& [index, value] : e.sparse) logit += v[index] * value;
      const double g = e.weight * (Sigmoid(logit) - e.target);
      g2_bias += g * g;
      bias -= lr * g / std::sqrt(g2_bias + kEps);
      for (int f = 0; f < kDenseFeatureCount; ++f) {
        if (!varies[f] || params.inv_scale[f] == 0.0f) continue;
        const double grad = g * z[f] + options.l2_dense * (w[f] - anchors[f]);
        g2_dense[f] += grad * grad;
        w[f] -= lr * grad / std::sqrt(g2_dense[f] + kEps);
        if (options.sign_constraints && DenseSign(f) * w[f] < 0) w[f] = 0.0;
      }
      for (const auto& [index, value] : e.sparse) {
        const double grad = g * value + options.l2_hashed * v[index];
        g2_hashed[index] += grad * grad;
        v[index] -= lr * grad / std::sqrt(g2_hashed[index] + kEps);
      }
    }
  }
  params.bias = static_cast<float>(bias);
  for (int f = 0; f < kDenseFeatureCount; ++f) params.dense[f] = static_cast<float>(w[f]);
  for (size_t j = 0; j < v.size(); ++j) params.hashed[j] = static_cast<float>(v[j]);
  Calibrate(examples, order, &params);
  return params;
}

}  // namespace

ModelParams Fit(const std::vector<EncodedExample>& examples, const std::vector<size_t>& indexes,
                const TrainOptions& options) {
  std::vector<size_t> order = indexes;
  if (order.empty()) {
    order.resize(examples.size());
    std::iota(order.begin(), order.end(), size_t{0});
  }
  if (order.empty()) return ModelParams();
  // Pass 1 learns from the data alone and fixes the score scale; pass 2 restarts with the priors
  // (given in calibrated-score units) converted to that scale as anchors.
  std::array<double, kDenseFeatureCount> anchors{};
  const ModelParams first = FitPass(examples, order, options, anchors);
  for (int f = 0; f < kDenseFeatureCount; ++f)
    anchors[f] = (options.dense_mask >> f & 1)
                     ? DensePrior(f) * DenseFeatureSpread(f) / first.score_scale
                     : 0.0;
  ModelParams params = FitPass(examples, order, options, anchors);
  CalibrateBlend(examples, order, options, &params);
  return params;
}

}  // namespace switchyard::classifiers
