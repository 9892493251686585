#include "classifiers/features.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <string_view>

namespace switchyard::classifiers {
namespace {

constexpr const char* kNames[kDenseFeatureCount] = {
    "last_user_tokens", "system_tokens",      "conversation_tokens",
    "user_turns",       "assistant_turns",    "code_blocks",
    "code_languages",   "code_symbol_share",  "digit_share",
    "numbers",          "math_operators",     "latex",
    "math_words",       "reasoning_cues",     "questions",
    "negations",        "constraint_cues",    "list_items",
    "choice_options",   "has_tools",          "tool_count",
    "json_schema",      "json_object",        "tool_messages",
    "image_parts",      "max_tokens",         "avg_word_length",
    "long_word_share",  "upper_share",        "non_ascii_share",
    "sentences",        "words_per_sentence", "code_cues",
    "simple_task_cues", "chit_chat_cues",     "design_cues",
    "step_cues",        "emphatic_negations", "statements",
    "proof_cues"};

float ComputeLog1p(int64_t v) {
  return static_cast<float>(std::log1p(static_cast<double>(std::max<int64_t>(v, 0))));
}

// Most features are log1p of a small count: a table saves a libm call for each. Filled before
// main (not a function-local static, whose guard every lookup would check).
constexpr int64_t kLog1pTableSize = 512;
const std::array<float, kLog1pTableSize> kLog1pTable = [] {
  std::array<float, kLog1pTableSize> t{};
  for (int64_t v = 0; v < kLog1pTableSize; ++v) t[v] = ComputeLog1p(v);
  return t;
}();

float Log1p(int64_t v) {
  if (v >= 0 && v < kLog1pTableSize) return kLog1pTable[v];
  return ComputeLog1p(v);
}
float Per100(int64_t count, int64_t bytes) {
  return bytes > 0 ? 100.0f * static_cast<float>(count) / static_cast<float>(bytes) : 0.0f;
}
bool IsSystem(const std::string& role) { return role == "system" || role == "developer"; }

// Texts of about this many bytes count half their own share value and half the typical one.
constexpr float kShareShrinkBytes = 64.0f;

// Longest last user message (in words) whose greeting / thanks words count as chit-chat.
constexpr int64_t kChitChatWords = 16;

// A rate measured on `bytes` of text, shrunk towards the feature's typical value and capped.
float Shrunk(int feature, float raw, int64_t bytes, float cap) {
  const float b = static_cast<float>(bytes);
  const float trust = b / (b + kShareShrinkBytes);
  const float center = DenseFeatureCenter(feature);
  return center + (std::min(raw, cap) - center) * trust;
}

// The stats of a system prompt. Apps send the same one with every request, and it counts
// through its stats alone (no hashed tokens), so each thread scans a distinct prompt once and
// keeps its stats in a small table; a 64-bit hash and the length identify it.
const TextStats& SystemPromptStats(std::string_view text) {
  struct Entry {
    uint64_t hash = 0;
    size_t size = 0;
    bool used = false;
    TextStats stats;
  };
  thread_local std::array<Entry, 64> scanned;
  const uint64_t hash = std::hash<std::string_view>()(text);
  Entry& entry = scanned[hash % scanned.size()];
  if (!entry.used || entry.hash != hash || entry.size != text.size()) {
    entry.stats = TextStats();
    ScanText(text, &entry.stats, nullptr, 0);
    entry.hash = hash;
    entry.size = text.size();
    entry.used = true;
  }
  return entry.stats;
}

}  // namespace

float DenseFeatureSpread(int feature) {
  switch (feature) {
    case kCodeSymbolShare:
      return 2.0f;
    case kDigitShare:
      return 5.0f;
    case kUpperShare:
      return 3.0f;
    case kNonAsciiShare:
      return 2.0f;
    case kAvgWordLength:
      return 1.0f;
    case kLongWordShare:
      return 0.1f;
    default:
      return 1.0f;  // log1p counts and 0/1 flags
  }
}

float DenseFeatureCenter(int feature) {
  switch (feature) {
    case kLastUserTokens:
    case kConversationTokens:
      return 4.6f;  // log1p(100)
    case kUserTurns:
      return 0.693f;  // log1p(1)
    case kDigitShare:
      return 1.5f;
    case kUpperShare:
      return 2.5f;
    case kAvgWordLength:
      return 5.0f;
    case kLongWordShare:
      return 0.14f;
    case kSentences:
      return 1.4f;
    case kWordsPerSentence:
      return 2.8f;
    default:
      return 0.0f;
  }
}

const char* DenseFeatureName(int feature) {
  return feature >= 0 && feature < kDenseFeatureCount ? kNames[feature] : "?";
}

void ExtractFeatures(const ChatRequest& request, Features* out, TokenSink* sink) {
  // The task text is the last user message plus the system prompt; earlier turns count
  // through lengths and turn counts only.
  int last_user = -1;
  for (int i = static_cast<int>(request.messages.size()) - 1; i >= 0; --i) {
    if (request.messages[i].role == "user") {
      last_user = i;
      break;
    }
  }
  TextStats task;
  int64_t all_bytes = 0, system_bytes = 0, user_turns = 0, assistant_turns = 0;
  int64_t tool_messages = 0, images = 0, code_fences_elsewhere = 0, user_words = 0;
  for (int i = 0; i < static_cast<int>(request.messages.size()); ++i) {
    const ChatMessage& m = request.messages[i];
    all_bytes += static_cast<int64_t>(m.content.size());
    images += m.image_parts;
    if (m.role == "user") ++user_turns;
    if (m.role == "assistant") ++assistant_turns;
    if (m.role == "tool" || m.role == "function" || m.has_tool_calls) ++tool_messages;
    if (i == last_user) {
      const int64_t words_before = task.words;
      ScanText(m.content, &task, sink, kMaxHashedBytes);
      user_words = task.words - words_before;
    } else if (IsSystem(m.role)) {
      system_bytes += static_cast<int64_t>(m.content.size());
      task.Add(SystemPromptStats(m.content));
    } else if (m.content.find("```") != std::string::npos) {
      ++code_fences_elsewhere;
    }
  }
  const int64_t user_bytes = last_user >= 0 ? request.messages[last_user].content.size() : 0;
  auto& d = out->dense;
  d[kLastUserTokens] = Log1p(EstimateTokens(user_bytes));
  d[kSystemTokens] = Log1p(EstimateTokens(system_bytes));
  d[kConversationTokens] = Log1p(EstimateTokens(all_bytes));
  d[kUserTurns] = Log1p(user_turns);
  d[kAssistantTurns] = Log1p(assistant_turns);
  d[kCodeBlocks] = Log1p((task.code_fences + 1) / 2 + code_fences_elsewhere);
  d[kCodeLanguages] = static_cast<float>(std::min(CountLanguages(task.code_languages), 4));
  d[kCodeSymbolShare] =
      Shrunk(kCodeSymbolShare, Per100(task.code_symbols, task.bytes), task.bytes, 12.0f);
  d[kDigitShare] = Shrunk(kDigitShare, Per100(task.digits, task.bytes), task.bytes, 20.0f);
  d[kNumbers] = Log1p(task.numbers);
  d[kMathOperators] = Log1p(task.math_ops);
  d[kLatex] = Log1p(task.latex);
  d[kMathWords] = Log1p(task.math_words);
  d[kReasoningCues] = Log1p(task.reasoning_cues);
  d[kQuestions] = Log1p(task.questions);
  d[kNegations] = Log1p(task.negations);
  d[kConstraintCues] = Log1p(task.constraint_cues);
  d[kListItems] = Log1p(task.list_items);
  d[kChoiceOptions] = Log1p(task.choice_options);
  d[kHasTools] = request.has_tools() ? 1.0f : 0.0f;
  d[kToolCount] = Log1p(request.tool_count);
  d[kJsonSchema] = request.has_response_format_json_schema ? 1.0f : 0.0f;
  d[kJsonObject] = request.has_response_format_json_object ? 1.0f : 0.0f;
  d[kToolMessages] = Log1p(tool_messages);
  d[kImageParts] = Log1p(images);
  d[kMaxTokens] = request.max_tokens > 0 ? Log1p(request.max_tokens) : 0.0f;
  d[kAvgWordLength] = Shrunk(
      kAvgWordLength,
      task.words > 0 ? static_cast<float>(task.word_bytes) / static_cast<float>(task.words) : 0.0f,
      task.bytes, 12.0f);
  d[kLongWordShare] = Shrunk(
      kLongWordShare,
      task.words > 0 ? static_cast<float>(task.long_words) / static_cast<float>(task.words) : 0.0f,
      task.bytes, 1.0f);
  d[kUpperShare] = Shrunk(kUpperShare, Per100(task.upper, task.bytes), task.bytes, 10.0f);
  d[kNonAsciiShare] = Shrunk(kNonAsciiShare, Per100(task.non_ascii, task.bytes), task.bytes, 50.0f);
  d[kSentences] = Log1p(task.sentences);
  d[kWordsPerSentence] = Log1p(task.words / std::max<int64_t>(task.sentences, 1));
  d[kCodeCues] = Log1p(task.code_cues);
  d[kSimpleTaskCues] = Log1p(task.simple_task_cues);
  // Greetings and thanks say "small model" only when they are most of the message: "great" in
  // "the Great Depression" or "Thanks! Now design ..." asks for something else.
  d[kChitChatCues] = user_words <= kChitChatWords ? Log1p(task.chit_chat_cues) : 0.0f;
  d[kDesignCues] = Log1p(task.design_cues);
  d[kStepCues] = Log1p(task.step_cues);
  d[kEmphaticNegations] = Log1p(task.emphatic_negations);
  d[kStatements] = Log1p(task.statements);
  d[kProofCues] = Log1p(task.proof_cues);
  out->estimated_prompt_tokens =
      EstimateTokens(all_bytes) + 4 * static_cast<int64_t>(request.messages.size());
}

}  // namespace switchyard::classifiers
