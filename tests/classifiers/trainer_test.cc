#include "classifiers/trainer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "classifiers/evaluation.h"
#include "classifiers/model_io.h"
#include "test_util.h"

namespace switchyard::classifiers {
namespace {

TEST(TrainerTest, SameDataAndSeedGiveByteIdenticalModels) {
  const auto data = testing::SyntheticData();
  TrainOptions o = testing::SmallOptions();
  const std::string a = SerializeModel(Fit(EncodeExamples(data, o), {}, o));
  const std::string b = SerializeModel(Fit(EncodeExamples(data, o), {}, o));
  EXPECT_EQ(a, b);
  o.seed = 2;
  EXPECT_NE(SerializeModel(Fit(EncodeExamples(data, o), {}, o)), a);
}

TEST(TrainerTest, LearnsWordsThatNeedTheStrongModel) {
  const auto data = testing::SyntheticData();
  const TrainOptions o = testing::SmallOptions();
  const Model model(Fit(EncodeExamples(data, o), {}, o));
  const double hard =
      model.Score(SingleUserRequest("Question 7 about the manifold of topic 9?")).score;
  const double easy =
      model.Score(SingleUserRequest("Question 7 about the garden of topic 9?")).score;
  EXPECT_GT(hard, easy + 0.2);
  const ScoreResult r = model.Score(SingleUserRequest("Question 7 about the manifold of topic 9?"));
  ASSERT_GT(r.contribution_count, 0);
  bool named = false;
  for (int i = 0; i < r.contribution_count; ++i)
    named = named || r.contributions[i].name().find("manifold") != std::string_view::npos;
  EXPECT_TRUE(named) << "the explanation names the n-gram that drove the score";
}

TEST(TrainerTest, TargetsUseBothCorrectnessColumns) {
  LabeledPrompt p;
  p.weak_correct = false;
  p.strong_correct = true;
  EXPECT_EQ(TargetFor(p, Target::kGain).first, 1.0f);
  p.weak_correct = true;
  p.strong_correct = false;
  EXPECT_EQ(TargetFor(p, Target::kGain).first, 0.0f);
  p.strong_correct = true;
  EXPECT_EQ(TargetFor(p, Target::kGain).first, 0.5f);
  EXPECT_EQ(TargetFor(p, Target::kWeakWrong).first, 0.0f);
}

TEST(TrainerTest, FoldsHoldWholeSubjectsAndBalanceSizes) {
  auto data = testing::SyntheticData(5, 10);
  for (int i = 0; i < 60; ++i) data.push_back({"big", "x", true, true});
  const auto folds = AssignFolds(data, 2);
  ASSERT_EQ(folds.size(), 2u);
  EXPECT_EQ(folds[0], std::vector<std::string>{"big"});
  EXPECT_EQ(folds[1].size(), 5u);
}

TEST(TrainerTest, CrossValidationBeatsRandomOnHeldOutSubjects) {
  const auto data = testing::SyntheticData(4, 60);
  std::vector<double> scores;
  ASSERT_TRUE(CrossValidatedScores(data, 2, testing::SmallOptions(), &scores).ok());
  const EvaluationReport r = Evaluate(data, scores, 1);
  EXPECT_GT(r.router.apgr, 0.8);
  EXPECT_NEAR(r.random.apgr, 0.5, 0.1);
  EXPECT_FALSE(CrossValidatedScores(data, 9, testing::SmallOptions(), &scores).ok());
}

class DatasetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("classifier_dataset_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_ / "responses");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::filesystem::path& p, std::string_view text) { std::ofstream(p) << text; }
  std::filesystem::path dir_;
};

TEST_F(DatasetTest, ParsesQuotedMultilineCsvAndDropsContaminatedPrompts) {
  Write(dir_ / "responses" / "mmlu_physics.csv",
        "prompt,weak,strong\n\"Line one\nsays \"\"hi\"\", ok\nA. x\",True,False\nplain,False,True\n"
        "\"dropped\nprompt\",True,True\n");
  Write(dir_ / "contaminated_prompts.jsonl",
        "{\"train_prompt\":\"t\",\"eval_prompt\":\"dropped\\nprompt\"}\n");
  std::vector<LabeledPrompt> data;
  LoadReport report;
  Status s = LoadLabeledData({dir_.string()}, &data, &report);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(report.contaminated_dropped, 1);
  EXPECT_EQ(data[0].group, "physics");
  EXPECT_EQ(data[0].prompt, "Line one\nsays \"hi\", ok\nA. x");
  EXPECT_TRUE(data[0].weak_correct);
  EXPECT_FALSE(data[0].strong_correct);
  EXPECT_EQ(data[1].prompt, "plain");
}

TEST_F(DatasetTest, BadRowsAreErrorsWithTheirLocation) {
  Write(dir_ / "responses" / "bad.csv", "prompt,weak,strong\nq,maybe,True\n");
  std::vector<LabeledPrompt> data;
  LoadReport report;
  Status s = LoadLabeledData({dir_.string()}, &data, &report);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("bad.csv: row 2"), std::string::npos) << s.message();
  EXPECT_FALSE(LoadLabeledData({(dir_ / "nope").string()}, &data, &report).ok());
}

}  // namespace
}  // namespace switchyard::classifiers
