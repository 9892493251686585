// Thresholds that split a profile's recent traffic into its target shares per tier (RouteLLM's
// calibration): the quantiles of the last kWindow scores, recomputed every kRefreshEvery new
// scores once kMinSamples were seen. Until then, the config's starting thresholds hold.
// One per worker thread and profile (each calibrates on its own share of the traffic):
// not thread-safe.
#pragma once

#include <cstddef>
#include <vector>

namespace switchyard::routing {

class Calibrator {
 public:
  static constexpr std::size_t kWindow = 4096;
  static constexpr std::size_t kRefreshEvery = 256;
  static constexpr std::size_t kMinSamples = 512;

  // `shares`: tier 1 first, summing to 1; `initial`: thresholds before enough traffic.
  Calibrator(std::vector<double> shares, std::vector<double> initial);

  const std::vector<double>& thresholds() const { return thresholds_; }
  void Observe(double score);

 private:
  void Recompute();

  std::vector<double> shares_;
  std::vector<double> thresholds_;
  std::vector<double> window_;   // a ring of the last kWindow scores
  std::vector<double> scratch_;  // reused for nth_element
  std::size_t next_ = 0;
  std::size_t seen_ = 0;
};

}  // namespace switchyard::routing
