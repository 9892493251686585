#include "classifiers/model_io.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "classifiers/trainer.h"
#include "test_util.h"

namespace switchyard::classifiers {
namespace {

class ModelIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto data = testing::SyntheticData();
    params_ = Fit(EncodeExamples(data, testing::SmallOptions()), {}, testing::SmallOptions());
    params_.description = "test model";
    path_ = (std::filesystem::temp_directory_path() /
             ("classifier_model_io_test_" + std::to_string(::getpid()) + ".model"))
                .string();
  }
  void TearDown() override { std::filesystem::remove(path_); }
  void WriteBytes(const std::string& bytes) {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << bytes;
  }

  ModelParams params_;
  std::string path_;
};

TEST_F(ModelIoTest, SaveLoadRoundTripGivesIdenticalScores) {
  ASSERT_TRUE(SaveModel(params_, path_).ok());
  std::shared_ptr<const Model> loaded;
  Status s = LoadModel(path_, &loaded);
  ASSERT_TRUE(s.ok()) << s.message();
  const Model original(params_);
  for (const char* prompt : {"What about the tensor of topic 3?", "hello", "", "an apple a day"}) {
    const ScoreResult a = original.Score(SingleUserRequest(prompt));
    const ScoreResult b = loaded->Score(SingleUserRequest(prompt));
    EXPECT_EQ(a.score, b.score) << prompt;
    EXPECT_EQ(a.logit, b.logit) << prompt;
  }
  EXPECT_EQ(loaded->params().description, "test model");
  EXPECT_EQ(SerializeModel(loaded->params()), SerializeModel(params_));
}

TEST_F(ModelIoTest, AFlippedByteIsAChecksumError) {
  std::string bytes = SerializeModel(params_);
  bytes[bytes.size() / 2] ^= 0x01;
  WriteBytes(bytes);
  std::shared_ptr<const Model> loaded;
  Status s = LoadModel(path_, &loaded);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("checksum"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(path_), std::string::npos) << s.message();
  EXPECT_EQ(loaded, nullptr);
}

TEST_F(ModelIoTest, TruncatedFilesAreErrors) {
  const std::string bytes = SerializeModel(params_);
  for (size_t keep :
       {size_t{0}, size_t{5}, size_t{12}, size_t{40}, bytes.size() / 2, bytes.size() - 1}) {
    std::shared_ptr<const Model> loaded;
    Status s = ParseModel(std::string_view(bytes).substr(0, keep), &loaded);
    EXPECT_FALSE(s.ok()) << keep;
    EXPECT_NE(s.message().find("invalid classifier model"), std::string::npos) << s.message();
  }
}

TEST_F(ModelIoTest, WrongMagicAndVersionAreNamed) {
  std::shared_ptr<const Model> loaded;
  Status s = ParseModel("PK\x03\x04 this is a zip file", &loaded);
  EXPECT_NE(s.message().find("magic"), std::string::npos) << s.message();
  std::string bytes = SerializeModel(params_);
  bytes[8] = 9;  // format version 9
  s = ParseModel(bytes, &loaded);
  EXPECT_NE(s.message().find("version 9"), std::string::npos) << s.message();
  bytes[8] = static_cast<char>(kModelFormatVersion - 1);  // a model from an older build
  s = ParseModel(bytes, &loaded);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("retrain"), std::string::npos) << s.message();
}

TEST_F(ModelIoTest, MissingFileIsAnError) {
  std::shared_ptr<const Model> loaded;
  Status s = LoadModel(path_ + ".missing", &loaded);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cannot open"), std::string::npos) << s.message();
}

TEST(CommittedModelTest, LoadsAndIsSmall) {
  std::shared_ptr<const Model> model;
  Status s = LoadModel(DefaultModelPath(), &model);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_LT(std::filesystem::file_size(DefaultModelPath()), 2u << 20);
  const ScoreResult r = model->Score(SingleUserRequest("hi"));
  EXPECT_GE(r.score, 0.0);
  EXPECT_LE(r.score, 1.0);
}

}  // namespace
TEST(EmbeddedModelTest, IsTheCommittedFileByteForByteAndLoads) {
  std::ifstream file(DefaultModelPath(), std::ios::binary);
  const std::string committed((std::istreambuf_iterator<char>(file)), {});
  ASSERT_FALSE(committed.empty());
  EXPECT_TRUE(EmbeddedModelBytes() == committed);
  std::shared_ptr<const Model> model;
  EXPECT_TRUE(LoadEmbeddedModel(&model).ok());
  EXPECT_NE(model, nullptr);
}

}  // namespace switchyard::classifiers
