// One pass over a message's text: counts for the transparent features (lengths, code, math,
// LaTeX, cue words, lists) and, optionally, the normalised word tokens that the learned model
// hashes. Multiple-choice scaffolding ("A. ", "(b) ", a closing "Answer:" line) is neutralised:
// option labels are skipped and counted, never emitted as tokens. Pure functions, no
// allocation, safe from any thread.
#pragma once

#include <cstdint>
#include <string_view>

namespace switchyard::classifiers {

struct TextStats {
  int64_t bytes = 0;
  int64_t digits = 0;
  int64_t upper = 0;
  int64_t non_ascii = 0;
  int64_t words = 0;
  int64_t word_bytes = 0;
  int64_t long_words = 0;  // >= 9 letters
  int64_t numbers = 0;
  int64_t math_ops = 0;  // = + * / ^ < > between operands
  int64_t latex = 0;     // $ and \commands
  int64_t code_fences = 0;
  int64_t code_symbols = 0;  // ; { } [ ] and friends
  int64_t questions = 0;
  int64_t sentences = 0;
  int64_t list_items = 0;
  int64_t choice_options = 0;
  int64_t answer_lines = 0;
  int64_t emphatic_negations = 0;  // NOT, EXCEPT, LEAST, FALSE, ... written in capitals
  int64_t statements = 0;          // "Statement 2", "Scenario 1", "II.", "(iii)": claims to weigh
  // Cue words (lower-cased, whole words).
  int64_t reasoning_cues = 0;
  int64_t math_words = 0;
  int64_t negations = 0;
  int64_t constraint_cues = 0;
  int64_t code_cues = 0;
  int64_t simple_task_cues = 0;  // translate, summarize, extract, classify, ...
  int64_t chit_chat_cues = 0;    // hi, thanks, ok, bye, ...
  int64_t design_cues = 0;       // architecture, distributed, trade-off, latency, ...
  int64_t step_cues = 0;         // then, first, finally, each, plan, ...
  int64_t proof_cues = 0;        // prove, proof, derive, "show that", ...
  uint32_t code_languages = 0;   // bit set of languages named or used as a fence tag

  // What scanning another text into the same stats adds (ScanText only adds to them).
  void Add(const TextStats& o);
};

// Receives each normalised token: lower-cased words (at most kMaxTokenBytes bytes), numbers as
// a shape ("<n1>" .. "<n4>" by digit count), and single math/code symbols.
class TokenSink {
 public:
  static constexpr int kMaxTokenBytes = 32;
  virtual ~TokenSink() = default;
  // `hash` is Fnv1a32(token).
  virtual void Token(std::string_view token, uint32_t hash) = 0;
};

// Scans `text`, adding to `stats`. Tokens go to `sink` (may be null) for the first
// `max_token_bytes` bytes of the text only, which bounds the learned scorer's work.
void ScanText(std::string_view text, TextStats* stats, TokenSink* sink, int64_t max_token_bytes);

// Stable 32-bit FNV-1a, used for the hashed features (identical on every platform).
constexpr uint32_t Fnv1a32(std::string_view s, uint32_t h = 2166136261u) {
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 16777619u;
  }
  return h;
}

// Number of languages in a TextStats::code_languages bit set.
int CountLanguages(uint32_t bits);

}  // namespace switchyard::classifiers
