#include "classifiers/features.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "classifiers/text_scan.h"

namespace switchyard::classifiers {
namespace {

class TokenCollector : public TokenSink {
 public:
  void Token(std::string_view token, uint32_t hash) override {
    EXPECT_EQ(hash, Fnv1a32(token));
    tokens.emplace_back(token);
  }
  std::vector<std::string> tokens;
};

class FeaturesTest : public ::testing::Test {
 protected:
  Features Extract(const ChatRequest& request) {
    Features f;
    ExtractFeatures(request, &f, &tokens_);
    return f;
  }
  Features ExtractText(std::string_view text) { return Extract(SingleUserRequest(text)); }
  bool HasToken(std::string_view t) const {
    return std::find(tokens_.tokens.begin(), tokens_.tokens.end(), t) != tokens_.tokens.end();
  }
  TokenCollector tokens_;
};

TEST_F(FeaturesTest, LengthsAndTurnsCoverTheWholeConversation) {
  ChatRequest r;
  r.messages = {{"system", std::string(400, 's'), 0, false},
                {"user", std::string(40, 'a'), 0, false},
                {"assistant", std::string(80, 'b'), 0, false},
                {"user", std::string(200, 'c'), 0, false}};
  const Features f = Extract(r);
  EXPECT_FLOAT_EQ(f.dense[kLastUserTokens], std::log1p(50.0f));
  EXPECT_FLOAT_EQ(f.dense[kSystemTokens], std::log1p(100.0f));
  EXPECT_FLOAT_EQ(f.dense[kConversationTokens], std::log1p(180.0f));
  EXPECT_FLOAT_EQ(f.dense[kUserTurns], std::log1p(2.0f));
  EXPECT_FLOAT_EQ(f.dense[kAssistantTurns], std::log1p(1.0f));
  EXPECT_EQ(f.estimated_prompt_tokens, 180 + 16);
}

TEST_F(FeaturesTest, CodeBlocksAndLanguages) {
  const Features f = ExtractText(
      "Fix this Rust bug:\n```rust\nfn main() { let x = 1; }\n```\nand port it to python.");
  EXPECT_FLOAT_EQ(f.dense[kCodeBlocks], std::log1p(1.0f));
  EXPECT_FLOAT_EQ(f.dense[kCodeLanguages], 2.0f);  // rust (fence and word), python
  EXPECT_GT(f.dense[kCodeSymbolShare], 0.0f);
  EXPECT_GT(f.dense[kCodeCues], 0.0f);  // "bug"
}

TEST_F(FeaturesTest, MathLatexAndNumbers) {
  const Features f = ExtractText("Solve $x^2 + 3x = \\frac{1}{2}$ for x, then compute 12.5 * 40.");
  EXPECT_FLOAT_EQ(f.dense[kLatex], std::log1p(3.0f));  // $, \frac, $
  EXPECT_GE(f.dense[kMathOperators], std::log1p(4.0f));
  EXPECT_GT(f.dense[kNumbers], 0.0f);
  EXPECT_FLOAT_EQ(f.dense[kMathWords], std::log1p(2.0f));  // solve, compute
  EXPECT_TRUE(HasToken("<n3>"));                           // 12.5 keeps its shape
  EXPECT_TRUE(HasToken("frac"));
}

TEST_F(FeaturesTest, ReasoningCuesIncludeStepByStep) {
  const Features f = ExtractText("Prove the claim and explain why. Think step by step.");
  EXPECT_FLOAT_EQ(f.dense[kReasoningCues], std::log1p(3.0f));  // explain, why, step by step
  EXPECT_FLOAT_EQ(f.dense[kProofCues], std::log1p(1.0f));      // prove
  EXPECT_FLOAT_EQ(f.dense[kSentences], std::log1p(2.0f));
}

TEST_F(FeaturesTest, ProofCuesIncludeShowThat) {
  EXPECT_FLOAT_EQ(ExtractText("Show that the sum of two odd numbers is even.").dense[kProofCues],
                  std::log1p(1.0f));
  EXPECT_FLOAT_EQ(ExtractText("Derive the formula, then prove it.").dense[kProofCues],
                  std::log1p(2.0f));
  EXPECT_FLOAT_EQ(ExtractText("Show me that photo again, please.").dense[kProofCues], 0.0f);
}

TEST_F(FeaturesTest, ConstraintsListsToolsAndSchema) {
  ChatRequest r = SingleUserRequest(
      "Write exactly three bullet points:\n- one\n- two\n1. three\nYou must not use jargon.");
  r.tool_count = 3;
  r.has_response_format_json_schema = true;
  r.max_tokens = 1000;
  const Features f = Extract(r);
  EXPECT_FLOAT_EQ(f.dense[kListItems], std::log1p(3.0f));
  EXPECT_FLOAT_EQ(f.dense[kConstraintCues], std::log1p(3.0f));  // exactly, bullet, must
  EXPECT_FLOAT_EQ(f.dense[kNegations], std::log1p(1.0f));
  EXPECT_EQ(f.dense[kHasTools], 1.0f);
  EXPECT_FLOAT_EQ(f.dense[kToolCount], std::log1p(3.0f));
  EXPECT_EQ(f.dense[kJsonSchema], 1.0f);
  EXPECT_FLOAT_EQ(f.dense[kMaxTokens], std::log1p(1000.0f));
}

TEST_F(FeaturesTest, MultipleChoiceScaffoldingIsNeutralised) {
  const Features f = ExtractText(
      "Which gas do plants absorb?\nA. oxygen\nB. carbon dioxide\n"
      "(c) helium\nD) neon\nAnswer:");
  EXPECT_FLOAT_EQ(f.dense[kChoiceOptions], std::log1p(4.0f));
  EXPECT_TRUE(HasToken("oxygen"));
  EXPECT_TRUE(HasToken("neon"));
  for (const char* scaffold : {"a", "b", "c", "d", "answer"})
    EXPECT_FALSE(HasToken(scaffold)) << scaffold;
  // The same question without the scaffolding gives the same tokens.
  TokenCollector plain;
  Features g;
  ExtractFeatures(
      SingleUserRequest("Which gas do plants absorb?\noxygen\ncarbon dioxide\nhelium\nneon"), &g,
      &plain);
  EXPECT_EQ(plain.tokens, tokens_.tokens);
}

TEST_F(FeaturesTest, OnlyTheLastUserMessageIsTokenised) {
  ChatRequest r;
  r.messages = {{"system", "alpha", 0, false},
                {"user", "beta", 0, false},
                {"assistant", "gamma", 0, false},
                {"user", "delta", 0, false}};
  Extract(r);
  EXPECT_EQ(tokens_.tokens, std::vector<std::string>{"delta"});
}

TEST_F(FeaturesTest, ASystemPromptSeenBeforeCountsTheSameAndOthersOfItsLengthDoNot) {
  auto with_system = [](std::string system) {
    ChatRequest r = SingleUserRequest("Sort these names.");
    r.messages.insert(r.messages.begin(), ChatMessage{"system", std::move(system), 0, false});
    return r;
  };
  // Same length, different cues: a table keyed on length alone would mix them up.
  const std::string reasoning = "Explain why, step by step, and prove it.";
  const std::string plain = "Answer in a friendly tone, please, dear.";
  ASSERT_EQ(reasoning.size(), plain.size());
  const Features first = Extract(with_system(reasoning));
  const Features again = Extract(with_system(reasoning));
  const Features other = Extract(with_system(plain));
  EXPECT_EQ(first.dense, again.dense);
  EXPECT_GT(first.dense[kReasoningCues], 0.0f);
  EXPECT_GT(first.dense[kProofCues], 0.0f);
  EXPECT_EQ(other.dense[kReasoningCues], 0.0f);
  EXPECT_EQ(other.dense[kProofCues], 0.0f);
  // The system prompt's stats add to the user message's, as if scanned with it.
  TextStats together, user;
  ScanText(reasoning, &together, nullptr, 0);
  ScanText("Sort these names.", &together, nullptr, 0);
  ScanText("Sort these names.", &user, nullptr, 0);
  TextStats system;
  ScanText(reasoning, &system, nullptr, 0);
  user.Add(system);
  EXPECT_EQ(user.words, together.words);
  EXPECT_EQ(user.reasoning_cues, together.reasoning_cues);
  EXPECT_EQ(user.bytes, together.bytes);
}

TEST_F(FeaturesTest, EveryDenseFeatureHasAName) {
  for (int i = 0; i < kDenseFeatureCount; ++i) EXPECT_STRNE(DenseFeatureName(i), "?");
}

TEST(RuleCuesTest, CountsChitChatDesignAndStepCuesAndShrinksSharesOfShortTexts) {
  Features f;
  ExtractFeatures(SingleUserRequest("Hi! Thanks."), &f, nullptr);
  EXPECT_FLOAT_EQ(f.dense[kChitChatCues], std::log1p(2.0f));
  // "Hi!" has 1 upper-case letter in 3 bytes (33 per 100): shrunk most of the way to typical.
  EXPECT_LT(f.dense[kUpperShare], 10.0f);
  ExtractFeatures(SingleUserRequest("Design it first, then discuss the trade-offs."), &f, nullptr);
  EXPECT_FLOAT_EQ(f.dense[kDesignCues], std::log1p(2.0f));
  EXPECT_FLOAT_EQ(f.dense[kStepCues], std::log1p(2.0f));
}

TEST(RuleCuesTest, ChitChatCountsOnlyInShortMessages) {
  Features f;
  ExtractFeatures(SingleUserRequest("Great, thanks!"), &f, nullptr);
  EXPECT_FLOAT_EQ(f.dense[kChitChatCues], std::log1p(2.0f));
  ExtractFeatures(SingleUserRequest("Great, thanks! Now explain how the Great Depression changed "
                                    "monetary policy in the United States and in Europe."),
                  &f, nullptr);
  EXPECT_FLOAT_EQ(f.dense[kChitChatCues], 0.0f);
}

TEST(RuleCuesTest, EmphaticNegationsAndStatements) {
  Features f;
  ExtractFeatures(SingleUserRequest("Which of these is NOT a prime? All are, except one: not 9."),
                  &f, nullptr);
  EXPECT_FLOAT_EQ(f.dense[kEmphaticNegations], std::log1p(1.0f));  // NOT; "except", "not" are plain
  EXPECT_FLOAT_EQ(f.dense[kNegations], std::log1p(3.0f));
  ExtractFeatures(SingleUserRequest("Statement 1 | Every group is abelian. Statement 2 | Some "
                                    "ring is a field.\nI. only\nII. both\n(iii) neither"),
                  &f, nullptr);
  // "I." opening a line reads as option label I; II. and (iii) are statements.
  EXPECT_FLOAT_EQ(f.dense[kStatements], std::log1p(4.0f));
  ExtractFeatures(SingleUserRequest("I think I. Am I right? Step 2 of the plan."), &f, nullptr);
  EXPECT_FLOAT_EQ(f.dense[kStatements], 0.0f);  // the pronoun "I." and a plain step number
}

}  // namespace
}  // namespace switchyard::classifiers
