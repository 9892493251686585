// Training the learned scorer: labelled prompts are encoded once (dense features plus sparse
// hashed n-grams), then a logistic model is fitted by AdaGrad SGD with L2 regularisation (dense
// weights are pulled towards hand-set priors and kept to their expected sign; hashed ones
// towards 0), and its score scale calibrated on the training prompts. Deterministic: the same
// examples, options and seed give bit-identical weights. Single-threaded; no shared state.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "classifiers/dataset.h"
#include "classifiers/model.h"

namespace switchyard::classifiers {

// SplitMix64: a tiny PRNG whose output is the same on every platform and standard library.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  size_t Below(size_t n) { return static_cast<size_t>(Next() % n); }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

// What the model learns to predict from the two correctness columns.
enum class Target {
  kWeakWrong,   // P(the weak model is wrong)
  kStrongGain,  // P(only the strong model is right); both-wrong prompts count half
  kGain,        // (1 + strong - weak) / 2: the expected gain of calling the strong model
};

struct TrainOptions {
  uint64_t seed = 1;
  uint32_t hash_bits = 16;
  int epochs = 10;
  double learning_rate = 0.05;
  double l2_dense = 1e-4;  // per example and step, towards the prior
  double l2_hashed = 0.1;  // per example and step, towards 0
  Target target = Target::kGain;
  bool sign_constraints = true;  // dense weights keep the sign DenseSign() gives them
  bool ngrams = true;            // false: dense features only (hashed weights stay 0)
  uint64_t dense_mask =
      ~uint64_t{0};  // dense features to fit (bit i = DenseFeature i); others weigh 0
  // The blend with the hand-set rules (see ModelParams): weights of the learned model's
  // calibrated logit and of the rule evidence. Chosen with `switchyard eval` on held-out MMLU
  // subjects under the constraint that tests/classifiers/sanity_set.jsonl ranks sensibly.
  double learned_weight = 3.0;
  double rules_weight = 1.0;
};

struct EncodedExample {
  std::array<float, kDenseFeatureCount> dense{};
  std::vector<std::pair<uint32_t, float>> sparse;  // (hashed index, value), sorted by index
  float target = 0.0f;
  float weight = 1.0f;
};

// Encodes prompts as single-user-message requests.
std::vector<EncodedExample> EncodeExamples(const std::vector<LabeledPrompt>& data,
                                           const TrainOptions& options);

// Fits on the examples at `indexes` (all of them when empty).
ModelParams Fit(const std::vector<EncodedExample>& examples, const std::vector<size_t>& indexes,
                const TrainOptions& options);

// The hand-set weight of a dense feature, in calibrated-score logit units per raw unit: what it
// counts when the training data never varies it (tools, JSON schema, turns, code blocks,
// images, ...), and what the data must argue its weight away from otherwise.
float DensePrior(int feature);

// +1: the feature can only raise the score (weight >= 0); -1: only lower it; 0: free. Domain
// knowledge that keeps quirks of one data set (e.g. MMLU's maths questions, which the strong
// model answered worse than the weak one) from teaching "maths is easy": digits, numbers,
// operators and maths words can only raise a score (free, the digit share alone would cost a
// maths word problem ~0.7 logit; constrained it costs ~0.005 APGR on held-out MMLU subjects).
int DenseSign(int feature);

// Target/weight of one labelled prompt.
std::pair<float, float> TargetFor(const LabeledPrompt& p, Target target);

std::string TargetName(Target target);

}  // namespace switchyard::classifiers
