#include "classifiers/text_scan.h"

#include <array>
#include <bit>

namespace switchyard::classifiers {
namespace {

enum Cue : uint8_t {
  kNoCue = 0,
  kReasoning,
  kMath,
  kNegation,
  kConstraint,
  kCode,
  kSimpleTask,
  kChitChat,
  kDesign,
  kStep,
  kProof,
  kLanguage,  // code_languages bit = value - kLanguage
};

struct CueWord {
  std::string_view word;
  uint8_t cue;
};

// Languages first: their position is their bit in TextStats::code_languages.
constexpr std::string_view kLanguages[] = {
    "python", "javascript", "typescript", "java", "cpp",   "csharp", "golang", "rust",
    "sql",    "bash",       "ruby",       "php",  "swift", "kotlin", "scala",  "haskell",
    "html",   "css",        "matlab",     "perl", "lua",   "yaml",   "json",   "regex"};

// Cue words by category (whole words, lower-cased). A word belongs to one category.
constexpr CueWord kCueWords[] = {
    {"prove", kProof},
    {"proof", kProof},
    {"proofs", kProof},
    {"proving", kProof},
    {"disprove", kProof},
    {"why", kReasoning},
    {"explain", kReasoning},
    {"derive", kProof},
    {"derivation", kProof},
    {"justify", kReasoning},
    {"justifying", kReasoning},
    {"reasoning", kReasoning},
    {"analyze", kReasoning},
    {"analyse", kReasoning},
    {"analysis", kReasoning},
    {"compare", kReasoning},
    {"evaluate", kReasoning},
    {"deduce", kReasoning},
    {"infer", kReasoning},
    {"implies", kReasoning},
    {"therefore", kReasoning},
    {"critique", kReasoning},
    {"rigorous", kReasoning},
    {"rigorously", kReasoning},
    {"rigor", kReasoning},
    {"correctness", kReasoning},
    {"formally", kReasoning},
    {"counterexample", kReasoning},
    {"induction", kReasoning},
    {"design", kDesign},
    {"architecture", kDesign},
    {"architect", kDesign},
    {"scalable", kDesign},
    {"scalability", kDesign},
    {"distributed", kDesign},
    {"concurrency", kDesign},
    {"concurrent", kDesign},
    {"consistency", kDesign},
    {"latency", kDesign},
    {"throughput", kDesign},
    {"migration", kDesign},
    {"migrate", kDesign},
    {"sharded", kDesign},
    {"sharding", kDesign},
    {"replication", kDesign},
    {"replicated", kDesign},
    {"failover", kDesign},
    {"fault", kDesign},
    {"pseudocode", kDesign},
    {"optimize", kDesign},
    {"optimise", kDesign},
    {"optimization", kDesign},
    {"invariant", kDesign},
    {"invariants", kDesign},
    {"deadlock", kDesign},
    {"race", kDesign},
    {"protocol", kDesign},
    {"rollback", kDesign},
    {"tradeoff", kDesign},
    {"tradeoffs", kDesign},
    {"bottleneck", kDesign},
    {"bottlenecks", kDesign},
    {"asynchronous", kDesign},
    {"multithreaded", kDesign},
    {"then", kStep},
    {"first", kStep},
    {"finally", kStep},
    {"afterwards", kStep},
    {"next", kStep},
    {"each", kStep},
    {"every", kStep},
    {"steps", kStep},
    {"plan", kStep},
    {"strategy", kStep},
    {"roadmap", kStep},
    {"calculate", kMath},
    {"cost", kMath},
    {"costs", kMath},
    {"price", kMath},
    {"prices", kMath},
    {"profit", kMath},
    {"discount", kMath},
    {"interest", kMath},
    {"hours", kMath},
    {"minutes", kMath},
    {"speed", kMath},
    {"remainder", kMath},
    {"fraction", kMath},
    {"area", kMath},
    {"volume", kMath},
    {"perimeter", kMath},
    {"compute", kMath},
    {"solve", kMath},
    {"equation", kMath},
    {"equations", kMath},
    {"integral", kMath},
    {"derivative", kMath},
    {"probability", kMath},
    {"matrix", kMath},
    {"theorem", kMath},
    {"lemma", kMath},
    {"polynomial", kMath},
    {"sum", kMath},
    {"product", kMath},
    {"expected", kMath},
    {"variance", kMath},
    {"integer", kMath},
    {"prime", kMath},
    {"primes", kMath},
    {"ratio", kMath},
    {"percent", kMath},
    {"average", kMath},
    {"total", kMath},
    {"not", kNegation},
    {"except", kNegation},
    {"false", kNegation},
    {"incorrect", kNegation},
    {"never", kNegation},
    {"least", kNegation},
    {"must", kConstraint},
    {"should", kConstraint},
    {"exactly", kConstraint},
    {"without", kConstraint},
    {"only", kConstraint},
    {"format", kConstraint},
    {"words", kConstraint},
    {"sentences", kConstraint},
    {"bullet", kConstraint},
    {"maximum", kConstraint},
    {"minimum", kConstraint},
    {"ensure", kConstraint},
    {"include", kConstraint},
    {"avoid", kConstraint},
    {"limit", kConstraint},
    {"code", kCode},
    {"implement", kCode},
    {"debug", kCode},
    {"bug", kCode},
    {"compile", kCode},
    {"refactor", kCode},
    {"script", kCode},
    {"algorithm", kCode},
    {"function", kCode},
    {"segfault", kCode},
    {"crash", kCode},
    {"crashes", kCode},
    {"exception", kCode},
    {"stacktrace", kCode},
    {"regex", kCode},
    {"query", kCode},
    {"api", kCode},
    {"translate", kSimpleTask},
    {"translation", kSimpleTask},
    {"summarize", kSimpleTask},
    {"summarise", kSimpleTask},
    {"summary", kSimpleTask},
    {"tldr", kSimpleTask},
    {"rephrase", kSimpleTask},
    {"rewrite", kSimpleTask},
    {"paraphrase", kSimpleTask},
    {"spell", kSimpleTask},
    {"spelling", kSimpleTask},
    {"grammar", kSimpleTask},
    {"proofread", kSimpleTask},
    {"typo", kSimpleTask},
    {"joke", kSimpleTask},
    {"capital", kSimpleTask},
    {"extract", kSimpleTask},
    {"classify", kSimpleTask},
    {"sentiment", kSimpleTask},
    {"synonym", kSimpleTask},
    {"antonym", kSimpleTask},
    {"define", kSimpleTask},
    {"definition", kSimpleTask},
    {"convert", kSimpleTask},
    {"hi", kChitChat},
    {"hey", kChitChat},
    {"hello", kChitChat},
    {"hiya", kChitChat},
    {"howdy", kChitChat},
    {"thanks", kChitChat},
    {"thank", kChitChat},
    {"thx", kChitChat},
    {"ty", kChitChat},
    {"ok", kChitChat},
    {"okay", kChitChat},
    {"cool", kChitChat},
    {"great", kChitChat},
    {"awesome", kChitChat},
    {"perfect", kChitChat},
    {"nice", kChitChat},
    {"bye", kChitChat},
    {"goodbye", kChitChat},
    {"cheers", kChitChat},
    {"lol", kChitChat},
    {"haha", kChitChat},
    {"yo", kChitChat},
    {"sup", kChitChat},
    {"welcome", kChitChat},
};

// Open-addressing table from a word's hash to its cue, built once (thread-safe static init).
class CueTable {
 public:
  static constexpr uint32_t kSize = 1024;
  CueTable() {
    for (size_t i = 0; i < std::size(kLanguages); ++i) Insert(kLanguages[i], kLanguage + i);
    for (const CueWord& cue : kCueWords) Insert(cue.word, cue.cue);
  }
  uint8_t Find(std::string_view word) const { return Find(word, Fnv1a32(word)); }
  uint8_t Find(std::string_view word, uint32_t h) const {
    for (uint32_t slot = h % kSize;; slot = (slot + 1) % kSize) {
      if (slots_[slot].cue == kNoCue) return kNoCue;
      if (slots_[slot].hash == h && slots_[slot].word == word) return slots_[slot].cue;
    }
  }

 private:
  struct Slot {
    uint32_t hash = 0;
    std::string_view word;
    uint8_t cue = kNoCue;
  };
  void Insert(std::string_view word, size_t cue) {
    const uint32_t h = Fnv1a32(word);
    uint32_t slot = h % kSize;
    while (slots_[slot].cue != kNoCue) slot = (slot + 1) % kSize;
    slots_[slot] = Slot{h, word, static_cast<uint8_t>(cue)};
  }
  std::array<Slot, kSize> slots_{};
};

const CueTable& Cues() {
  static const CueTable table;
  return table;
}

bool IsWordByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '\'' || c >= 0x80;
}
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool IsSpace(unsigned char c) { return c == ' ' || c == '\t' || c == '\r'; }
char Lower(unsigned char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

void AddCue(uint8_t cue, TextStats* stats) {
  switch (cue) {
    case kNoCue:
      break;
    case kReasoning:
      ++stats->reasoning_cues;
      break;
    case kMath:
      ++stats->math_words;
      break;
    case kNegation:
      ++stats->negations;
      break;
    case kConstraint:
      ++stats->constraint_cues;
      break;
    case kCode:
      ++stats->code_cues;
      break;
    case kSimpleTask:
      ++stats->simple_task_cues;
      break;
    case kChitChat:
      ++stats->chit_chat_cues;
      break;
    case kDesign:
      ++stats->design_cues;
      break;
    case kStep:
      ++stats->step_cues;
      break;
    case kProof:
      ++stats->proof_cues;
      break;
    default:
      stats->code_languages |= 1u << (cue - kLanguage);
      break;
  }
}

// Fence tags that are too short or too common to count as words in prose.
uint32_t FenceLanguage(std::string_view tag) {
  if (tag.empty()) return 0;
  if (tag == "py") return 1u << 0;
  if (tag == "js") return 1u << 1;
  if (tag == "ts") return 1u << 2;
  if (tag == "c" || tag == "c++" || tag == "cc" || tag == "h") return 1u << 4;
  if (tag == "go") return 1u << 6;
  if (tag == "rs") return 1u << 7;
  if (tag == "sh" || tag == "shell" || tag == "zsh") return 1u << 9;
  const uint8_t cue = Cues().Find(tag);
  return cue >= kLanguage ? 1u << (cue - kLanguage) : 0;
}

// Handles what may open a line: code fences, "Answer:" lines, option labels and list markers.
// Returns the index where ordinary scanning continues.
size_t ScanLineStart(std::string_view text, size_t i, TextStats* stats) {
  const size_t n = text.size();
  while (i < n && IsSpace(text[i])) ++i;
  if (text.compare(i, 3, "```") == 0) {
    ++stats->code_fences;
    size_t j = i + 3;
    char tag[16];
    size_t len = 0;
    while (j < n && text[j] != '\n' && !IsSpace(text[j])) {
      if (len < sizeof(tag)) tag[len++] = Lower(text[j]);
      ++j;
    }
    stats->code_languages |= FenceLanguage(std::string_view(tag, len));
    return j;
  }
  // A line that is only "Answer:" (the prompt scaffolding of multiple-choice sets).
  if (n - i >= 7) {
    static constexpr std::string_view kAnswer = "answer:";
    bool match = true;
    for (size_t k = 0; k < kAnswer.size() && match; ++k) match = Lower(text[i + k]) == kAnswer[k];
    size_t j = i + kAnswer.size();
    while (match && j < n && IsSpace(text[j])) ++j;
    if (match && (j == n || text[j] == '\n')) {
      ++stats->answer_lines;
      return j;
    }
  }
  // Option labels: "A. ", "b) ", "(C) ".
  size_t k = i;
  if (k < n && text[k] == '(') ++k;
  if (k + 2 < n + 1 && k + 1 < n) {
    const char c = Lower(text[k]);
    const bool label = c >= 'a' && c <= 'j' && (text[k + 1] == '.' || text[k + 1] == ')') &&
                       (k + 2 == n || IsSpace(text[k + 2]));
    if (label) {
      ++stats->choice_options;
      return k + 2;
    }
  }
  // List markers: "- ", "* ", "1. ", "2) ".
  if (i + 1 < n && (text[i] == '-' || text[i] == '*') && IsSpace(text[i + 1])) {
    ++stats->list_items;
    return i + 2;
  }
  size_t d = i;
  while (d < n && d - i < 3 && IsDigit(text[d])) ++d;
  if (d > i && d + 1 < n && (text[d] == '.' || text[d] == ')') && IsSpace(text[d + 1])) {
    ++stats->list_items;
    return d + 2;
  }
  return i;
}

}  // namespace

int CountLanguages(uint32_t bits) { return std::popcount(bits); }

void TextStats::Add(const TextStats& o) {
  for (auto field : {&TextStats::bytes, &TextStats::digits, &TextStats::upper,
                     &TextStats::non_ascii, &TextStats::words, &TextStats::word_bytes,
                     &TextStats::long_words, &TextStats::numbers, &TextStats::math_ops,
                     &TextStats::latex, &TextStats::code_fences, &TextStats::code_symbols,
                     &TextStats::questions, &TextStats::sentences, &TextStats::list_items,
                     &TextStats::choice_options, &TextStats::answer_lines,
                     &TextStats::emphatic_negations, &TextStats::statements,
                     &TextStats::reasoning_cues, &TextStats::math_words, &TextStats::negations,
                     &TextStats::constraint_cues, &TextStats::code_cues,
                     &TextStats::simple_task_cues, &TextStats::chit_chat_cues,
                     &TextStats::design_cues, &TextStats::step_cues, &TextStats::proof_cues})
    this->*field += o.*field;
  code_languages |= o.code_languages;
}
// Every int64 count above, and the language bits: a new field must be added there too.
static_assert(sizeof(TextStats) == 29 * sizeof(int64_t) + 8);

void ScanText(std::string_view text, TextStats* stats, TokenSink* sink, int64_t max_token_bytes) {
  const CueTable& cues = Cues();
  const size_t n = text.size();
  stats->bytes += static_cast<int64_t>(n);
  uint32_t prev1 = 0, prev2 = 0;  // hashes of the two previous words ("step by step")
  static constexpr uint32_t kStepHash = Fnv1a32("step"), kBy = Fnv1a32("by");
  static constexpr uint32_t kShow = Fnv1a32("show"), kThat = Fnv1a32("that");
  static constexpr uint32_t kTrade = Fnv1a32("trade"), kOff = Fnv1a32("off"),
                            kOffs = Fnv1a32("offs");
  // Words that, followed by a number, label one of several claims to weigh together.
  static constexpr uint32_t kStatement = Fnv1a32("statement"), kScenario = Fnv1a32("scenario"),
                            kPremise = Fnv1a32("premise"), kClaim = Fnv1a32("claim");
  char word[TokenSink::kMaxTokenBytes];
  bool line_start = true;
  size_t i = 0;
  while (i < n) {
    if (line_start) {
      i = ScanLineStart(text, i, stats);
      line_start = false;
      continue;
    }
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == ' ') {  // a fifth of prose: nothing to count
      ++i;
      continue;
    }
    if (c == '\n') {
      line_start = true;
      ++i;
      continue;
    }
    const bool emit = sink != nullptr && static_cast<int64_t>(i) < max_token_bytes;
    if (IsWordByte(c)) {
      size_t j = i, len = 0, digits = 0, upper = 0;
      uint32_t h = Fnv1a32({});  // of the token as it is copied (Fnv1a32(token) below)
      while (j < n) {
        const unsigned char b = static_cast<unsigned char>(text[j]);
        if (b >= 'a' && b <= 'z') {  // most bytes of prose: nothing to count or lower
          if (len < sizeof(word)) {
            word[len++] = static_cast<char>(b);
            h = (h ^ b) * 16777619u;
          }
          ++j;
        } else if (IsWordByte(b)) {
          if (IsDigit(b))
            ++digits;
          else if (b >= 'A' && b <= 'Z')
            ++upper;
          else if (b >= 0x80)
            ++stats->non_ascii;
          if (len < sizeof(word)) {
            word[len++] = Lower(b);
            h = (h ^ static_cast<uint8_t>(word[len - 1])) * 16777619u;
          }
          ++j;
        } else if ((b == '.' || b == ',') && j > i && IsDigit(text[j - 1]) && j + 1 < n &&
                   IsDigit(text[j + 1])) {
          ++j;  // 3.14, 1,000
        } else {
          break;
        }
      }
      stats->digits += static_cast<int64_t>(digits);
      stats->upper += static_cast<int64_t>(upper);
      // Roman numeral labels "II." / "(iv)" / "III)" that enumerate statements.
      const bool labelled = j < n && (text[j] == '.' || text[j] == ')') &&
                            (j + 1 == n || IsSpace(text[j + 1]) || text[j + 1] == '\n');
      const size_t word_len = j - i;
      if (digits > 0 && digits + 0 == len) {
        ++stats->numbers;
        if (prev1 == kStatement || prev1 == kScenario || prev1 == kPremise || prev1 == kClaim)
          ++stats->statements;
        if (emit) {
          static constexpr std::string_view kShapes[] = {"<n1>", "<n2>", "<n3>", "<n4>"};
          static const uint32_t kShapeHashes[] = {Fnv1a32(kShapes[0]), Fnv1a32(kShapes[1]),
                                                  Fnv1a32(kShapes[2]), Fnv1a32(kShapes[3])};
          const size_t shape = digits > 4 ? 3 : digits - 1;
          sink->Token(kShapes[shape], kShapeHashes[shape]);
        }
        prev2 = prev1;
        prev1 = 0;
      } else {
        ++stats->words;
        stats->word_bytes += static_cast<int64_t>(word_len);
        if (word_len >= 9) ++stats->long_words;
        const std::string_view token(word, len);
        const uint8_t cue = cues.Find(token, h);
        AddCue(cue, stats);
        if (cue == kNegation && upper == len && len >= 3) ++stats->emphatic_negations;
        if (labelled && len <= 4 && (upper == len || upper == 0) &&
            (token == "ii" || token == "iii" || token == "iv" || token == "vi" ||
             (token == "i" && (upper == 0 || i == 0 || text[i - 1] == '(' || text[i - 1] == '\n'))))
          ++stats->statements;
        if (h == kStepHash && prev1 == kBy && prev2 == kStepHash) ++stats->reasoning_cues;
        if (h == kThat && prev1 == kShow) ++stats->proof_cues;                   // "show that ..."
        if ((h == kOff || h == kOffs) && prev1 == kTrade) ++stats->design_cues;  // trade-off(s)
        if (emit) sink->Token(token, h);
        prev2 = prev1;
        prev1 = h;
      }
      i = j;
      continue;
    }
    const bool at_boundary = i + 1 == n || IsSpace(text[i + 1]) || text[i + 1] == '\n';
    switch (c) {
      case '?':
        ++stats->questions;
        if (at_boundary) ++stats->sentences;
        if (emit) sink->Token("?", Fnv1a32("?"));
        break;
      case '.':
      case '!':
        if (at_boundary) ++stats->sentences;
        break;
      case '=':
      case '+':
      case '*':
      case '/':
      case '^':
      case '<':
      case '>':
        ++stats->math_ops;
        if (emit) sink->Token(text.substr(i, 1), Fnv1a32(text.substr(i, 1)));
        break;
      case '$':
        ++stats->latex;
        if (emit) sink->Token("$", Fnv1a32("$"));
        break;
      case '\\':
        if (i + 1 < n && ((text[i + 1] >= 'a' && text[i + 1] <= 'z') ||
                          (text[i + 1] >= 'A' && text[i + 1] <= 'Z'))) {
          ++stats->latex;
          if (emit) sink->Token("\\", Fnv1a32("\\"));
        }
        break;
      case ';':
      case '{':
      case '}':
      case '[':
      case ']':
        ++stats->code_symbols;
        if (emit && (c == ';' || c == '{'))
          sink->Token(text.substr(i, 1), Fnv1a32(text.substr(i, 1)));
        break;
      case '|':
        if (emit) sink->Token("|", Fnv1a32("|"));
        break;
      default:
        break;
    }
    ++i;
  }
}

}  // namespace switchyard::classifiers
