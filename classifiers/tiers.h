// Score -> required quality tier (1 = small/edge, 2 = mid, 3 = frontier). Thresholds are
// ascending scores: tier = 1 + the number of thresholds the score reaches. Pure functions.
#pragma once

#include <span>

namespace switchyard::classifiers {

// Built-in thresholds used when no routing config gives its own. The model's score is
// calibrated so that it roughly equals the share of reference prompts scoring lower: about 45%
// of MMLU-like traffic needs tier 1, 30% tier 2 and 25% tier 3.
inline constexpr double kDefaultTierThresholds[] = {0.45, 0.75};

int TierFor(double score, std::span<const double> ascending_thresholds);

inline int DefaultTierFor(double score) { return TierFor(score, kDefaultTierThresholds); }

}  // namespace switchyard::classifiers
