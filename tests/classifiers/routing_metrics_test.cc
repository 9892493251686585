#include "classifiers/routing_metrics.h"

#include <gtest/gtest.h>

namespace switchyard::classifiers {
namespace {

// Four prompts (worked by hand in the comments):
//   score 0.4: weak wrong, strong right   (the one worth a strong call)
//   score 0.3: both wrong
//   score 0.2, 0.1: both right
// weak accuracy 0.5, strong 0.75. Cut points 0.1, 0.13, ..., 0.37, 0.4 give strong shares
// 1, .75 x3, .5 x3, .25 x3, 0 with accuracy .75 everywhere but 0 strong calls (.5).
// AUC = .25 * (.5 + .75) / 2 + .75 * .75 = .71875; APGR = (.71875 - .5) / (.75 - .5) = .875.
// CPT(50%): level .625 is crossed between (0, .5) and (.25, .75): .125. CPT(80%): level .7: .2.
TEST(RoutingMetricsTest, HandWorkedExample) {
  const RoutingMetrics m = ComputeRoutingMetrics({0.4, 0.3, 0.2, 0.1}, {false, false, true, true},
                                                 {true, false, true, true});
  EXPECT_DOUBLE_EQ(m.weak_accuracy, 0.5);
  EXPECT_DOUBLE_EQ(m.strong_accuracy, 0.75);
  ASSERT_EQ(m.curve.size(), 11u);
  EXPECT_DOUBLE_EQ(m.curve.front().strong_share, 0.0);
  EXPECT_DOUBLE_EQ(m.curve.front().accuracy, 0.5);
  EXPECT_DOUBLE_EQ(m.curve.back().strong_share, 1.0);
  EXPECT_DOUBLE_EQ(m.curve.back().accuracy, 0.75);
  EXPECT_NEAR(m.apgr, 0.875, 1e-12);
  EXPECT_NEAR(m.cpt50, 0.125, 1e-12);
  EXPECT_NEAR(m.cpt80, 0.2, 1e-12);
}

TEST(RoutingMetricsTest, ReversedRouterScoresBelowHalf) {
  // The prompt that needs the strong model gets the lowest score: strong calls are wasted until
  // the very end.
  const RoutingMetrics m = ComputeRoutingMetrics({0.1, 0.2, 0.3, 0.4}, {false, true, true, true},
                                                 {true, true, true, true});
  EXPECT_LT(m.apgr, 0.5);
  EXPECT_GT(m.cpt50, 0.5);
}

TEST(RoutingMetricsTest, TiedScoresRouteTogether) {
  // All scores equal: every cut point but the last routes everything to the strong model, so
  // the curve is the straight line from (0, weak) to (1, strong): a random router's.
  const RoutingMetrics m =
      ComputeRoutingMetrics({1, 1, 1, 1}, {true, false, true, false}, {true, true, true, true});
  EXPECT_DOUBLE_EQ(m.apgr, 0.5);
  EXPECT_DOUBLE_EQ(m.cpt50, 0.5);
}

TEST(RoutingMetricsTest, QuantileInterpolatesLinearly) {
  EXPECT_DOUBLE_EQ(Quantile({1, 2, 3, 4}, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(Quantile({1, 2, 3, 4}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(Quantile({1, 2, 3, 4}, 1.0), 4.0);
}

}  // namespace
}  // namespace switchyard::classifiers
