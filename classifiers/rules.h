// The transparent scorer: hand-set, documented weights over the dense features (no training).
// It carries what labelled MMLU data cannot teach: greetings, thanks and simple transformations
// need a small model; proofs, design, code, maths, multi-step instructions, tools, long
// conversations and large requested outputs need a strong one. Pure functions, thread-safe.
#pragma once

#include <array>

#include "classifiers/features.h"

namespace switchyard::classifiers {

// A rule: contribution = weight * (feature value - pivot), in logit units. Intent rules (cue
// words, code, maths, tools, schemas, turns, max_tokens: what a request asks for) add straight to
// the final calibrated logit; size rules (lengths, sentence and word shapes, which the learned
// model also sees) are blended with the learned model before calibration.
struct Rule {
  float weight = 0.0f;
  float pivot = 0.0f;
  bool intent = false;
};

struct RuleSums {
  double size = 0.0;
  double intent = 0.0;
};

// The rule of each dense feature (weight 0 = the feature is ignored).
const Rule& RuleFor(int feature);

// Sum of the rule contributions for `dense` (0 for a typical ~100-token single-turn prompt
// without cue words). `contributions` (may be null) receives each feature's share.
RuleSums RuleEvidence(const std::array<float, kDenseFeatureCount>& dense,
                      std::array<float, kDenseFeatureCount>* contributions);

}  // namespace switchyard::classifiers
