// The RouteLLM scoring protocol for a router on labelled data: thresholds at the 11 cut points
// of the score deciles (min .. max), route score >= threshold to the strong model (the last cut
// point routes score > max, i.e. nothing), take each prompt's correctness from the model it was
// routed to, then CPT(x%) = strong-call share needed to recover x% of the weak-strong gap
// (linear interpolation at the first crossing) and APGR = (router AUC - weak AUC) / (strong AUC -
// weak AUC) over strong-call share (trapezoids). Pure functions.
#pragma once

#include <cstdint>
#include <vector>

namespace switchyard::classifiers {

struct CurvePoint {
  double threshold = 0.0;
  double strong_share = 0.0;  // fraction of prompts sent to the strong model
  double accuracy = 0.0;
};

struct RoutingMetrics {
  double weak_accuracy = 0.0;
  double strong_accuracy = 0.0;
  std::vector<CurvePoint> curve;  // sorted by strong_share
  double apgr = 0.0;
  double cpt50 = 0.0;  // fractions in [0, 1]; NaN when the curve never reaches the level
  double cpt80 = 0.0;
};

// `scores[i]` is the router's score for prompt i (higher = send to the strong model).
RoutingMetrics ComputeRoutingMetrics(const std::vector<double>& scores,
                                     const std::vector<bool>& weak_correct,
                                     const std::vector<bool>& strong_correct, int bins = 10);

// Linear-interpolation quantile (numpy's default) of sorted values, p in [0, 1].
double Quantile(const std::vector<double>& sorted, double p);

}  // namespace switchyard::classifiers
