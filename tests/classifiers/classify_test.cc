#include <gtest/gtest.h>

#include <sstream>

#include "classifiers/commands.h"
#include "classifiers/tiers.h"
#include "classifiers/trainer.h"
#include "test_util.h"

namespace switchyard::classifiers {
namespace {

TEST(ClassifyTest, WritesOneJsonObjectPerRequestLine) {
  const auto data = testing::SyntheticData();
  const TrainOptions o = testing::SmallOptions();
  const Model model(Fit(EncodeExamples(data, o), {}, o));
  std::istringstream in(
      "{\"model\":\"auto\",\"messages\":[{\"role\":\"user\",\"content\":\"the manifold?\"}]}\n"
      "\n"
      "{broken\n"
      "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":[{}]}\n");
  std::ostringstream out;
  const double thresholds[] = {0.5, 0.9};
  EXPECT_EQ(ClassifyStream(in, out, model, thresholds), 1);
  std::istringstream lines(out.str());
  std::string line;
  std::vector<std::string> all;
  while (std::getline(lines, line)) all.push_back(line);
  ASSERT_EQ(all.size(), 3u) << out.str();
  EXPECT_EQ(all[0].rfind("{\"score\":", 0), 0u) << all[0];
  EXPECT_NE(all[0].find("\"tier\":"), std::string::npos);
  EXPECT_NE(all[0].find("\"features\":[{\"name\":"), std::string::npos);
  EXPECT_EQ(all[1].rfind("{\"error\":", 0), 0u) << all[1];
  EXPECT_NE(all[2].find("has_tools"), std::string::npos) << all[2];
}

TEST(TiersTest, ThresholdsMapScoresToTiers) {
  const double thresholds[] = {0.3, 0.7};
  EXPECT_EQ(TierFor(0.0, thresholds), 1);
  EXPECT_EQ(TierFor(0.3, thresholds), 2);
  EXPECT_EQ(TierFor(0.69, thresholds), 2);
  EXPECT_EQ(TierFor(0.7, thresholds), 3);
  EXPECT_EQ(TierFor(1.0, {}), 1);
  EXPECT_EQ(DefaultTierFor(0.0), 1);
  EXPECT_EQ(DefaultTierFor(1.0), 3);
}

}  // namespace
}  // namespace switchyard::classifiers
