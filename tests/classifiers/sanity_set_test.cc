// Ordinary-traffic sanity check of the committed model: tests/classifiers/sanity_set.jsonl holds
// 50 hand-made chat requests (greetings, thanks, translation, extraction, short facts, summaries,
// word problems, proofs, code and system design, multi-turn chat and debugging, long-context
// analysis, tools / JSON schema), each labelled with the tier a sensible router needs (field
// "tier": 1 = small, 2 = mid, 3 = frontier). The labels were written by hand before tuning (the
// last 10, short proofs, maths word problems and multi-turn chats, were added later, labelled
// before scoring) and the set is never trained on. The score must rank them sensibly.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "classifiers/chat_request.h"
#include "classifiers/model_io.h"
#include "classifiers/tiers.h"

namespace switchyard::classifiers {
namespace {

struct Labeled {
  int tier = 0;
  double score = 0.0;
  std::string line;
};

// Average ranks (ties share their mean rank).
std::vector<double> Ranks(const std::vector<double>& v) {
  std::vector<size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), size_t{0});
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j + 1 < idx.size() && v[idx[j + 1]] == v[idx[i]]) ++j;
    for (size_t k = i; k <= j; ++k) r[idx[k]] = (i + j) / 2.0;
    i = j + 1;
  }
  return r;
}

double Spearman(const std::vector<double>& a, const std::vector<double>& b) {
  const std::vector<double> ra = Ranks(a), rb = Ranks(b);
  const double ma = std::accumulate(ra.begin(), ra.end(), 0.0) / ra.size();
  const double mb = std::accumulate(rb.begin(), rb.end(), 0.0) / rb.size();
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < ra.size(); ++i) {
    sab += (ra[i] - ma) * (rb[i] - mb);
    saa += (ra[i] - ma) * (ra[i] - ma);
    sbb += (rb[i] - mb) * (rb[i] - mb);
  }
  return sab / std::sqrt(saa * sbb);
}

class SanitySetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::shared_ptr<const Model> model;
    const Status s = LoadModel(SWITCHYARD_CLASSIFIER_MODEL, &model);
    ASSERT_TRUE(s.ok()) << s.message();
    std::ifstream in(SWITCHYARD_SANITY_SET);
    ASSERT_TRUE(in) << SWITCHYARD_SANITY_SET;
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      Labeled l;
      const size_t at = line.find("\"tier\": ");
      ASSERT_NE(at, std::string::npos) << line;
      l.tier = line[at + 8] - '0';
      ASSERT_TRUE(l.tier >= 1 && l.tier <= 3) << line;
      l.line = line.substr(0, 120);
      ChatRequest request;
      const Status parsed = ParseChatRequest(line, &request);
      ASSERT_TRUE(parsed.ok()) << parsed.message();
      l.score = model->Score(request).score;
      set_.push_back(l);
    }
  }
  double MeanScore(int tier) const {
    double sum = 0;
    int n = 0;
    for (const Labeled& l : set_)
      if (l.tier == tier) sum += l.score, ++n;
    return n ? sum / n : 0.0;
  }
  std::vector<Labeled> set_;
};

TEST_F(SanitySetTest, HasAboutFortyPromptsOfEveryTier) {
  EXPECT_GE(set_.size(), 36u);
  for (int tier = 1; tier <= 3; ++tier)
    EXPECT_GE(std::count_if(set_.begin(), set_.end(), [&](const Labeled& l) { return l.tier == tier; }), 8)
        << tier;
}

TEST_F(SanitySetTest, MeanScoreRisesByTier) {
  EXPECT_LT(MeanScore(1) + 0.1, MeanScore(2));
  EXPECT_LT(MeanScore(2) + 0.1, MeanScore(3));
}

TEST_F(SanitySetTest, TierOnePromptsScoreBelowTierThreePrompts) {
  int inversions = 0;
  for (const Labeled& a : set_)
    for (const Labeled& b : set_)
      if (a.tier == 1 && b.tier == 3 && a.score >= b.score) {
        ++inversions;
        ADD_FAILURE() << "tier 1 " << a.score << " " << a.line << "\n >= tier 3 " << b.score
                      << " " << b.line;
      }
  EXPECT_LE(inversions, 2);
}

TEST_F(SanitySetTest, ScoresCorrelateWithLabels) {
  std::vector<double> tiers, scores;
  for (const Labeled& l : set_) {
    tiers.push_back(l.tier);
    scores.push_back(l.score);
  }
  const double rho = Spearman(tiers, scores);
  EXPECT_GE(rho, 0.7);
  std::cout << "sanity set: " << set_.size() << " prompts, Spearman " << rho << ", mean score by tier "
            << MeanScore(1) << " / " << MeanScore(2) << " / " << MeanScore(3) << "\n";
}

TEST_F(SanitySetTest, DefaultTiersKeepChitChatSmallAndHardWorkOffTheSmallModel) {
  int tier1_on_frontier = 0, tier3_on_small = 0;
  for (const Labeled& l : set_) {
    const int routed = DefaultTierFor(l.score);
    if (l.tier == 1 && routed == 3) ++tier1_on_frontier;
    if (l.tier == 3 && routed == 1) ++tier3_on_small;
  }
  EXPECT_EQ(tier1_on_frontier, 0);
  EXPECT_LE(tier3_on_small, 4);
}

}  // namespace
}  // namespace switchyard::classifiers
