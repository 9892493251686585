#include "classifiers/routing_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace switchyard::classifiers {
namespace {

double CallsToRecover(const std::vector<CurvePoint>& curve, double level) {
  for (size_t i = 0; i < curve.size(); ++i) {
    if (curve[i].accuracy < level) continue;
    if (i == 0) return curve[0].strong_share;
    const CurvePoint& a = curve[i - 1];
    const CurvePoint& b = curve[i];
    if (b.accuracy == a.accuracy) return b.strong_share;
    return a.strong_share +
           (level - a.accuracy) * (b.strong_share - a.strong_share) / (b.accuracy - a.accuracy);
  }
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

double Quantile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0.0;
  const double pos = p * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  if (lo + 1 >= sorted.size()) return sorted.back();
  return sorted[lo] + (sorted[lo + 1] - sorted[lo]) * (pos - static_cast<double>(lo));
}

RoutingMetrics ComputeRoutingMetrics(const std::vector<double>& scores,
                                     const std::vector<bool>& weak_correct,
                                     const std::vector<bool>& strong_correct, int bins) {
  RoutingMetrics m;
  const size_t n = scores.size();
  if (n == 0 || weak_correct.size() != n || strong_correct.size() != n || bins < 1) return m;
  int64_t weak = 0, strong = 0;
  for (size_t i = 0; i < n; ++i) {
    weak += weak_correct[i];
    strong += strong_correct[i];
  }
  m.weak_accuracy = static_cast<double>(weak) / n;
  m.strong_accuracy = static_cast<double>(strong) / n;
  std::vector<double> sorted = scores;
  std::sort(sorted.begin(), sorted.end());
  for (int k = 0; k <= bins; ++k) {
    const double t = Quantile(sorted, static_cast<double>(k) / bins);
    int64_t routed = 0, correct = 0;
    for (size_t i = 0; i < n; ++i) {
      const bool to_strong = k < bins ? scores[i] >= t : scores[i] > t;
      routed += to_strong;
      correct += to_strong ? strong_correct[i] : weak_correct[i];
    }
    m.curve.push_back({t, static_cast<double>(routed) / n, static_cast<double>(correct) / n});
  }
  std::stable_sort(m.curve.begin(), m.curve.end(), [](const CurvePoint& a, const CurvePoint& b) {
    return a.strong_share < b.strong_share;
  });
  double auc = 0.0;
  for (size_t i = 1; i < m.curve.size(); ++i)
    auc += (m.curve[i].strong_share - m.curve[i - 1].strong_share) *
           (m.curve[i].accuracy + m.curve[i - 1].accuracy) / 2.0;
  const double span = m.curve.back().strong_share - m.curve.front().strong_share;
  const double gap = (m.strong_accuracy - m.weak_accuracy) * span;
  m.apgr = gap != 0.0 ? (auc - m.weak_accuracy * span) / gap : 0.0;
  const double diff = m.strong_accuracy - m.weak_accuracy;
  m.cpt50 = CallsToRecover(m.curve, m.weak_accuracy + 0.5 * diff);
  m.cpt80 = CallsToRecover(m.curve, m.weak_accuracy + 0.8 * diff);
  return m;
}

}  // namespace switchyard::classifiers
