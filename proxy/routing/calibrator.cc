#include "proxy/routing/calibrator.h"

#include <algorithm>

namespace switchyard::routing {

Calibrator::Calibrator(std::vector<double> shares, std::vector<double> initial)
    : shares_(std::move(shares)), thresholds_(std::move(initial)) {
  thresholds_.resize(shares_.empty() ? 0 : shares_.size() - 1, 1.0);
  window_.reserve(kWindow);
}

void Calibrator::Observe(double score) {
  if (window_.size() < kWindow)
    window_.push_back(score);
  else
    window_[next_] = score;
  next_ = (next_ + 1) % kWindow;
  if (++seen_ >= kMinSamples && seen_ % kRefreshEvery == 0) Recompute();
}

void Calibrator::Recompute() {
  scratch_.assign(window_.begin(), window_.end());
  const std::size_t n = scratch_.size();
  double cumulative = 0;
  for (std::size_t i = 0; i + 1 < shares_.size(); ++i) {
    cumulative += shares_[i];
    // The score below which `cumulative` of recent requests fall: those need tier <= i + 1.
    const std::size_t k = std::min(n - 1, static_cast<std::size_t>(cumulative * n));
    std::nth_element(scratch_.begin(), scratch_.begin() + k, scratch_.end());
    thresholds_[i] = scratch_[k];
  }
  // Equal scores can make neighbouring quantiles equal; RequiredTier counts each reached one.
}

}  // namespace switchyard::routing
