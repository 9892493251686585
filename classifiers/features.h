// The transparent features of a chat request: named dense values (lengths, turns, code, math,
// cue words, tools, JSON schema, max_tokens, ...) computed in one pass over the messages, plus
// the token stream of the last user message that the learned model hashes. Pure functions,
// safe from any thread; nothing is kept after the call returns.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "classifiers/chat_request.h"
#include "classifiers/text_scan.h"

namespace switchyard::classifiers {

enum DenseFeature : int {
  kLastUserTokens,      // log1p(estimated tokens of the last user message)
  kSystemTokens,        // log1p(estimated tokens of system/developer messages)
  kConversationTokens,  // log1p(estimated tokens of all messages)
  kUserTurns,           // log1p(user messages)
  kAssistantTurns,      // log1p(assistant messages)
  kCodeBlocks,          // log1p(fenced code blocks)
  kCodeLanguages,       // programming languages named or used as fence tags
  kCodeSymbolShare,     // ; { } [ ] per 100 bytes
  kDigitShare,          // digits per 100 bytes
  kNumbers,             // log1p(numbers)
  kMathOperators,       // log1p(= + * / ^ < >)
  kLatex,               // log1p($ and \commands)
  kMathWords,           // log1p(calculate, solve, probability, ...)
  kReasoningCues,       // log1p(prove, why, explain, step by step, ...)
  kQuestions,           // log1p(question marks)
  kNegations,           // log1p(not, except, false, least, ...)
  kConstraintCues,      // log1p(must, exactly, format, only, ...)
  kListItems,           // log1p(list lines)
  kChoiceOptions,       // log1p(option lines "A. ...")
  kHasTools,
  kToolCount,  // log1p(tools)
  kJsonSchema,
  kJsonObject,
  kToolMessages,  // log1p(tool results and assistant tool calls)
  kImageParts,    // log1p(non-text content parts)
  kMaxTokens,     // log1p(max_tokens), 0 when absent
  // The share features below are shrunk towards their typical value for short texts (a 3-byte
  // "Hi!" says little about upper-case or digit rates) and capped, so no learned weight can
  // extrapolate from them on text unlike the training data.
  kAvgWordLength,
  kLongWordShare,      // words of >= 9 letters per word
  kUpperShare,         // upper-case letters per 100 bytes
  kNonAsciiShare,      // non-ASCII bytes per 100 bytes
  kSentences,          // log1p(sentences)
  kWordsPerSentence,   // log1p(words / sentences)
  kCodeCues,           // log1p(code, implement, debug, ...)
  kSimpleTaskCues,     // log1p(translate, summarize, extract, classify, ...)
  kChitChatCues,       // log1p(hi, thanks, ok, bye, ...)
  kDesignCues,         // log1p(architecture, distributed, trade-off, latency, ...)
  kStepCues,           // log1p(then, first, finally, each, plan, ...)
  kEmphaticNegations,  // log1p(NOT, EXCEPT, LEAST, ... in capitals): an inverted question
  kStatements,         // log1p("Statement 1", "Scenario 2", "II.", ...): claims judged together
  kProofCues,          // log1p(prove, proof, derive, "show that", ...): a proof is asked for
  kDenseFeatureCount
};

const char* DenseFeatureName(int feature);

// A fixed, hand-set typical spread of each dense feature: the model multiplies the raw value by
// 1 / DenseFeatureSpread before its weight. Fixed (not fitted per training set) so that models
// trained on different data map features to scores the same way.
float DenseFeatureSpread(int feature);

// A fixed, hand-set typical value (a single-turn prompt of about 100 tokens): features are
// centred on it, so explanations read "compared with a typical prompt".
float DenseFeatureCenter(int feature);

struct Features {
  std::array<float, kDenseFeatureCount> dense{};
  int64_t estimated_prompt_tokens = 0;
};

// Token-hashing budget: only the first this-many bytes of the last user message are tokenised
// for the learned model (the dense scan always covers everything).
inline constexpr int64_t kMaxHashedBytes = 16 * 1024;

// Estimated tokens for `bytes` of text (about 4 bytes per token for English and code).
inline int64_t EstimateTokens(int64_t bytes) { return (bytes + 3) / 4; }

// Computes the dense features of `request`; the last user message's tokens go to `sink`
// (may be null).
void ExtractFeatures(const ChatRequest& request, Features* out, TokenSink* sink);

}  // namespace switchyard::classifiers
