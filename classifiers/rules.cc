#include "classifiers/rules.h"

#include <cmath>

namespace switchyard::classifiers {
namespace {

// Weights are logit units per raw feature unit; most features are log1p(count), so a weight w
// means "the first occurrence adds 0.69 w, ten add 2.4 w". Pivots are the values of a typical
// prompt (DenseFeatureCenter) unless noted. Chosen by hand from what each cue means for the
// strength of model a request needs, then checked against tests/classifiers/sanity_set.jsonl;
// never fitted to a labelled set.
std::array<Rule, kDenseFeatureCount> MakeRules() {
  std::array<Rule, kDenseFeatureCount> r{};
  for (int f = 0; f < kDenseFeatureCount; ++f) r[f].pivot = DenseFeatureCenter(f);
  // Size of the task: a 5-token message is ~-2 against a 100-token one, a 2k-token one ~+1.5.
  r[kLastUserTokens].weight = 0.35f;
  r[kConversationTokens].weight = 0.15f;
  r[kSystemTokens].weight = 0.08f;
  r[kSentences].weight = 0.15f;
  // Conversations: each further turn is more context to keep straight.
  r[kUserTurns].weight = 0.5f;
  r[kAssistantTurns].weight = 0.2f;
  // Code.
  r[kCodeBlocks].weight = 0.6f;
  r[kCodeLanguages].weight = 0.35f;
  r[kCodeCues].weight = 0.7f;
  r[kCodeSymbolShare].weight = 0.05f;
  // Maths.
  r[kMathWords].weight = 0.6f;
  r[kMathOperators].weight = 0.25f;
  r[kLatex].weight = 0.3f;
  r[kNumbers].weight = 0.1f;
  // Reasoning, design and multi-step structure.
  r[kReasoningCues].weight = 1.2f;
  // A proof asked for is hard however short the request ("Prove there are infinitely many
  // primes"): it outweighs the short-message size rules and the learned length weights.
  r[kProofCues].weight = 2.4f;
  r[kDesignCues].weight = 1.0f;
  r[kStepCues].weight = 0.3f;
  r[kConstraintCues].weight = 0.3f;
  r[kListItems].weight = 0.2f;
  r[kQuestions].weight = 0.1f;
  r[kLongWordShare].weight = 2.0f;
  r[kAvgWordLength].weight = 0.2f;
  // Tools, structured output, images.
  r[kHasTools].weight = 0.5f;
  r[kToolCount].weight = 0.2f;
  r[kJsonSchema].weight = 0.6f;
  r[kJsonObject].weight = 0.25f;
  r[kToolMessages].weight = 0.2f;
  r[kImageParts].weight = 0.3f;
  // Requested output: pivot log1p(1000); absent max_tokens (value 0) is neutral (see below).
  r[kMaxTokens] = {0.3f, 6.9f};
  // Pushes down: chit-chat and simple transformations.
  r[kChitChatCues].weight = -1.5f;
  r[kSimpleTaskCues].weight = -1.2f;
  for (int f :
       {kUserTurns, kAssistantTurns, kCodeBlocks, kCodeLanguages, kCodeCues, kLatex, kReasoningCues,
        kProofCues, kDesignCues, kHasTools, kToolCount, kJsonSchema, kJsonObject, kToolMessages,
        kImageParts, kMaxTokens, kChitChatCues, kSimpleTaskCues})
    r[f].intent = true;
  return r;
}

const std::array<Rule, kDenseFeatureCount>& Rules() {
  static const std::array<Rule, kDenseFeatureCount> rules = MakeRules();
  return rules;
}

}  // namespace

const Rule& RuleFor(int feature) { return Rules()[feature]; }

RuleSums RuleEvidence(const std::array<float, kDenseFeatureCount>& dense,
                      std::array<float, kDenseFeatureCount>* contributions) {
  const auto& rules = Rules();
  RuleSums sum;
  for (int f = 0; f < kDenseFeatureCount; ++f) {
    float c = 0.0f;
    if (rules[f].weight != 0.0f && !(f == kMaxTokens && dense[f] == 0.0f))
      c = rules[f].weight * (dense[f] - rules[f].pivot);
    (rules[f].intent ? sum.intent : sum.size) += c;
    if (contributions) (*contributions)[f] = c;
  }
  return sum;
}

}  // namespace switchyard::classifiers
