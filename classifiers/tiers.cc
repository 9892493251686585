#include "classifiers/tiers.h"

namespace switchyard::classifiers {

int TierFor(double score, std::span<const double> ascending_thresholds) {
  int tier = 1;
  for (double t : ascending_thresholds)
    if (score >= t) ++tier;
  return tier;
}

}  // namespace switchyard::classifiers
