// Fuzzes the classifier (classifiers/): ParseChatRequest on the input as a request body, and
// the committed model scoring that request and the input as a bare prompt. Scores must be
// finite, in [0, 1], and the same with and without explanations.
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include "classifiers/chat_request.h"
#include "classifiers/model.h"
#include "classifiers/model_io.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace classifiers = switchyard::classifiers;

// A model of this build's feature schema with every weight non-zero, for when the committed
// one does not load (a feature change not yet retrained): scoring is still fuzzed.
std::shared_ptr<const classifiers::Model> StandInModel() {
  classifiers::ModelParams params;
  params.hash_bits = 12;
  params.rules_weight = 1.0f;
  params.score_scale = 1.5f;
  for (int i = 0; i < classifiers::kDenseFeatureCount; ++i) {
    params.inv_scale[i] = 1.0f / static_cast<float>(i + 1);
    params.dense[i] = (i % 2 ? 0.5f : -0.25f) * static_cast<float>(i % 7);
  }
  params.hashed.resize(std::size_t{1} << params.hash_bits);
  for (std::size_t i = 0; i < params.hashed.size(); ++i)
    params.hashed[i] = static_cast<float>(static_cast<int>(i % 13) - 6) / 8.0f;
  return std::make_shared<const classifiers::Model>(std::move(params));
}

const classifiers::Model& CommittedModel() {
  static const std::shared_ptr<const classifiers::Model> model = [] {
    std::shared_ptr<const classifiers::Model> loaded;
    const classifiers::Status s = classifiers::LoadModel(classifiers::DefaultModelPath(), &loaded);
    if (s.ok()) return loaded;
    std::fprintf(stderr, "warning: %s; scoring with a stand-in model\n", s.message().c_str());
    return StandInModel();
  }();
  return *model;
}

void CheckScore(const classifiers::ChatRequest& request) {
  const classifiers::ScoreResult explained = CommittedModel().Score(request, true);
  FUZZ_CHECK(std::isfinite(explained.score));
  FUZZ_CHECK(explained.score >= 0.0 && explained.score <= 1.0);
  FUZZ_CHECK(explained.estimated_prompt_tokens >= 0);
  FUZZ_CHECK(explained.contribution_count >= 0 &&
             explained.contribution_count <= classifiers::ScoreResult::kMaxContributions);
  const classifiers::ScoreResult plain = CommittedModel().Score(request, false);
  FUZZ_CHECK(plain.score == explained.score);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string body(reinterpret_cast<const char*>(data), size);
  classifiers::ChatRequest request;
  if (classifiers::ParseChatRequest(body, &request).ok()) CheckScore(request);
  CheckScore(classifiers::SingleUserRequest(body));
  return 0;
}
