#include "proxy/accounting/tokenizer.h"

#include <unicode/uchar.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <queue>

// The rank files (`base64-token rank` lines), embedded by the generated tokenizer_data.cc.
extern "C" const char switchyard_tokenizer_o200k_base_begin[];
extern "C" const char switchyard_tokenizer_o200k_base_end[];
extern "C" const char switchyard_tokenizer_cl100k_base_begin[];
extern "C" const char switchyard_tokenizer_cl100k_base_end[];

namespace switchyard::accounting {
namespace {

// ---- Unicode classes the two pre-tokenizer regexes use -------------------------------------

enum : std::uint8_t {
  kLetter = 1,     // \p{L}
  kNumber = 2,     // \p{N}
  kSpace = 4,      // \s: the White_Space property, as in Rust's regex (tiktoken)
  kNewline = 8,    // [\r\n]
  kUpperish = 16,  // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
  kLowerish = 32,  // [\p{Ll}\p{Lm}\p{Lo}\p{M}]
};

std::uint8_t ClassifyWithIcu(UChar32 c) {
  std::uint8_t cls = 0;
  switch (u_charType(c)) {
    case U_UPPERCASE_LETTER:
    case U_TITLECASE_LETTER:
      cls = kLetter | kUpperish;
      break;
    case U_LOWERCASE_LETTER:
      cls = kLetter | kLowerish;
      break;
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER:
      cls = kLetter | kUpperish | kLowerish;
      break;
    case U_NON_SPACING_MARK:
    case U_ENCLOSING_MARK:
    case U_COMBINING_SPACING_MARK:
      cls = kUpperish | kLowerish;
      break;
    case U_DECIMAL_DIGIT_NUMBER:
    case U_LETTER_NUMBER:
    case U_OTHER_NUMBER:
      cls = kNumber;
      break;
    default:
      break;
  }
  if (u_isUWhiteSpace(c)) cls |= kSpace;
  if (c == '\r' || c == '\n') cls |= kNewline;
  return cls;
}

// The Basic Multilingual Plane, classified once; the rarer planes ask ICU each time.
const std::array<std::uint8_t, 0x10000>& BmpClasses() {
  static const auto* const table = [] {
    auto* t = new std::array<std::uint8_t, 0x10000>;
    for (UChar32 c = 0; c < 0x10000; ++c) (*t)[c] = ClassifyWithIcu(c);
    return t;
  }();
  return *table;
}

// ---- UTF-8 -----------------------------------------------------------------------------------

// The end of the longest well-formed UTF-8 prefix of [pos, end) (no overlongs, surrogates or
// code points above U+10FFFF).
std::size_t EndOfValidUtf8(const unsigned char* s, std::size_t pos, std::size_t end) {
  while (pos < end) {
    if (s[pos] < 0x80) {
      ++pos;
      continue;
    }
    const unsigned b0 = s[pos];
    std::size_t len;
    unsigned lo = 0x80, hi = 0xBF;  // the valid range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3;
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    } else {
      return pos;
    }
    if (end - pos < len || s[pos + 1] < lo || s[pos + 1] > hi) return pos;
    for (std::size_t i = 2; i < len; ++i) {
      if ((s[pos + i] & 0xC0) != 0x80) return pos;
    }
    pos += len;
  }
  return end;
}

struct Char {
  std::uint8_t cls;
  std::uint8_t size;
};

// Scans one well-formed UTF-8 segment [.., end_) into the pieces of an encoding's regex.
// Each Next*(pos) returns the end of the piece starting at pos < end_, exactly as the first
// match of tiktoken's regex (leftmost alternative first, with its backtracking) would.
class PreTokenizer {
 public:
  PreTokenizer(const unsigned char* s, std::size_t end)
      : s_(s), end_(end), bmp_(BmpClasses().data()) {}

  // '(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|
  // \s*[\r\n]|\s+(?!\S)|\s+
  std::size_t NextCl100k(std::size_t pos) const {
    const Char c = At(pos);
    if (const std::size_t n = Contraction(pos)) return pos + n;
    if (c.cls & kLetter) return RunOf(kLetter, pos);
    if (!(c.cls & (kLetter | kNumber | kNewline)) && pos + c.size < end_ &&
        (At(pos + c.size).cls & kLetter)) {
      return RunOf(kLetter, pos + c.size);
    }
    if (c.cls & kNumber) return Digits(pos);
    if (const std::size_t e = Punctuation(pos, /*slash=*/false)) return e;
    return Whitespace(pos);
  }

  // [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|
  // 've|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*
  // (?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
  std::size_t NextO200k(std::size_t pos) const {
    const Char c = At(pos);
    // The optional prefix is not possessive: without it, a mark can start the word itself.
    const bool prefix = !(c.cls & (kLetter | kNumber | kNewline));
    const std::size_t after = pos + c.size;
    std::size_t e;
    if (prefix && (e = CasedWord(after))) return e;
    if ((e = CasedWord(pos))) return e;
    if (prefix && (e = UpperWord(after))) return e;
    if ((e = UpperWord(pos))) return e;
    if (c.cls & kNumber) return Digits(pos);
    if ((e = Punctuation(pos, /*slash=*/true))) return e;
    return Whitespace(pos);
  }

 private:
  Char At(std::size_t pos) const {
    const unsigned b0 = s_[pos];
    if (b0 < 0x80) return {bmp_[b0], 1};
    UChar32 c;
    std::uint8_t size;
    if (b0 < 0xE0) {
      c = (b0 & 0x1F) << 6 | (s_[pos + 1] & 0x3F);
      size = 2;
    } else if (b0 < 0xF0) {
      c = (b0 & 0x0F) << 12 | (s_[pos + 1] & 0x3F) << 6 | (s_[pos + 2] & 0x3F);
      size = 3;
    } else {
      c = (b0 & 0x07) << 18 | (s_[pos + 1] & 0x3F) << 12 | (s_[pos + 2] & 0x3F) << 6 |
          (s_[pos + 3] & 0x3F);
      return {ClassifyWithIcu(c), 4};
    }
    return {bmp_[c], size};
  }

  // The end of the run of characters having any of `cls` that starts at pos.
  std::size_t RunOf(std::uint8_t cls, std::size_t pos) const {
    while (pos < end_) {
      const Char c = At(pos);
      if (!(c.cls & cls)) break;
      pos += c.size;
    }
    return pos;
  }

  // The size of (?i:'s|'t|'re|'ve|'m|'ll|'d) at pos, or 0. Case folding makes 's' also
  // match U+017F (long s); no other fold reaches these letters.
  std::size_t Contraction(std::size_t pos) const {
    if (pos + 1 >= end_ || s_[pos] != '\'') return 0;
    const unsigned a = s_[pos + 1] | 0x20;
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if (pos + 2 >= end_) return 0;
    const unsigned b = s_[pos + 2] | 0x20;
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    if (s_[pos + 1] == 0xC5 && s_[pos + 2] == 0xBF) return 3;
    return 0;
  }

  std::size_t Digits(std::size_t pos) const {
    for (int i = 0; i < 3 && pos < end_; ++i) {
      const Char c = At(pos);
      if (!(c.cls & kNumber)) break;
      pos += c.size;
    }
    return pos;
  }

  // ` ?[^\s\p{L}\p{N}]+[\r\n]*` (with `/` in the tail set for o200k), or 0.
  std::size_t Punctuation(std::size_t pos, bool slash) const {
    if (s_[pos] == ' ') ++pos;
    std::size_t e = pos;
    while (e < end_) {
      const Char c = At(e);
      if (c.cls & (kSpace | kLetter | kNumber)) break;
      e += c.size;
    }
    if (e == pos) return 0;
    while (e < end_ && (s_[e] == '\r' || s_[e] == '\n' || (slash && s_[e] == '/'))) ++e;
    return e;
  }

  // \s*[\r\n]+ (up to the run's last newline) | \s+(?!\S) (all but the character before a
  // non-space) | \s+. Only reached at a space: every other character matched before.
  std::size_t Whitespace(std::size_t pos) const {
    std::size_t e = pos, last = pos, after_newline = 0;
    while (e < end_) {
      const Char c = At(e);
      if (!(c.cls & kSpace)) break;
      if (c.cls & kNewline) after_newline = e + 1;
      last = e;
      e += c.size;
    }
    if (after_newline) return after_newline;
    if (e == pos) return pos + At(pos).size;  // unreachable; never loop without progress
    if (e == end_ || last == pos) return e;
    return last;
  }

  // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+ + contraction, or 0. The greedy
  // star backtracks to the last lowerish character of its run if the run is not followed by one.
  std::size_t CasedWord(std::size_t pos) const {
    std::size_t e = pos, after_lowerish = 0;
    while (e < end_) {
      const Char c = At(e);
      if (!(c.cls & kUpperish)) break;
      e += c.size;
      if (c.cls & kLowerish) after_lowerish = e;
    }
    if (e < end_ && (At(e).cls & kLowerish)) {
      e = RunOf(kLowerish, e);
    } else if (after_lowerish) {
      e = after_lowerish;
    } else {
      return 0;
    }
    return e + Contraction(e);
  }

  // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]* + contraction, or 0.
  std::size_t UpperWord(std::size_t pos) const {
    std::size_t e = RunOf(kUpperish, pos);
    if (e == pos) return 0;
    e = RunOf(kLowerish, e);
    return e + Contraction(e);
  }

  const unsigned char* s_;
  std::size_t end_;
  const std::uint8_t* bmp_;
};

// ---- Loading ---------------------------------------------------------------------------------

constexpr std::uint64_t kEmptySlot = ~std::uint64_t{0};
constexpr std::size_t kShortPiece = 128;  // longer pieces merge with a heap

std::uint64_t Load64(const unsigned char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

std::uint64_t Load32(const unsigned char* p) {
  std::uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}

// The up to 7 bytes [p, p + n) as one word, read with at most two loads (overlapping ones for
// n >= 4): distinct for distinct byte strings of the same size.
std::uint64_t LoadTail(const unsigned char* p, std::size_t n) {
  if (n >= 4) return Load32(p) | Load32(p + n - 4) << 32;
  if (n == 0) return 0;
  return std::uint64_t{p[0]} | std::uint64_t{p[n / 2]} << 8 | std::uint64_t{p[n - 1]} << 16;
}

std::uint64_t Hash(const unsigned char* p, std::size_t n) {
  constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15ull;
  std::uint64_t h = n * kMul;
  for (; n >= 8; p += 8, n -= 8) {
    h = (h ^ Load64(p)) * kMul;
    h ^= h >> 29;
  }
  h = (h ^ LoadTail(p, n)) * kMul;
  h ^= h >> 32;
  h *= 0xD6E8FEB86659FD93ull;
  return h ^ (h >> 32);
}

bool Equal(const unsigned char* a, const unsigned char* b, std::size_t n) {
  for (; n >= 8; a += 8, b += 8, n -= 8) {
    if (Load64(a) != Load64(b)) return false;
  }
  return LoadTail(a, n) == LoadTail(b, n);
}

[[noreturn]] void Corrupt(Encoding encoding, const char* what) {
  std::fprintf(stderr, "switchyard: embedded %s rank file is corrupt: %s\n", EncodingName(encoding),
               what);
  std::abort();
}

constexpr std::array<std::int8_t, 256> kBase64Values = [] {
  std::array<std::int8_t, 256> values{};
  values.fill(-1);
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    values[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  }
  return values;
}();

// Writes the bytes of standard base64 `in` (padded or not) to `out`, which has room for
// in.size() * 3 / 4 of them; returns how many, or -1 if `in` is malformed.
std::ptrdiff_t DecodeBase64(std::string_view in, char* out) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  char* const start = out;
  std::uint32_t bits = 0;
  int count = 0;
  for (const char ch : in) {
    const int v = kBase64Values[static_cast<unsigned char>(ch)];
    if (v < 0) return -1;
    bits = bits << 6 | static_cast<std::uint32_t>(v);
    if ((count += 6) >= 8) {
      count -= 8;
      *out++ = static_cast<char>(bits >> count & 0xFF);
    }
  }
  return out - start;
}

}  // namespace

std::optional<Encoding> ParseEncoding(std::string_view name) {
  if (name == "o200k_base") return Encoding::kO200kBase;
  if (name == "cl100k_base") return Encoding::kCl100kBase;
  return std::nullopt;
}

const char* EncodingName(Encoding encoding) {
  return encoding == Encoding::kO200kBase ? "o200k_base" : "cl100k_base";
}

const Tokenizer& Tokenizer::Get(Encoding encoding) {
  // Function-local statics: initialized once, thread-safe, never destroyed.
  if (encoding == Encoding::kO200kBase) {
    static const Tokenizer* const o200k =
        new Tokenizer(encoding, {switchyard_tokenizer_o200k_base_begin,
                                 static_cast<std::size_t>(switchyard_tokenizer_o200k_base_end -
                                                          switchyard_tokenizer_o200k_base_begin)});
    return *o200k;
  }
  static const Tokenizer* const cl100k =
      new Tokenizer(encoding, {switchyard_tokenizer_cl100k_base_begin,
                               static_cast<std::size_t>(switchyard_tokenizer_cl100k_base_end -
                                                        switchyard_tokenizer_cl100k_base_begin)});
  return *cl100k;
}

Tokenizer::Tokenizer(Encoding encoding, std::string_view rank_file) : encoding_(encoding) {
  const std::size_t lines = std::count(rank_file.begin(), rank_file.end(), '\n') + 1;
  arena_.resize(rank_file.size() * 3 / 4);  // more than the decoded tokens take
  offsets_.reserve(lines + 1);
  offsets_.push_back(0);
  std::size_t used = 0;
  while (!rank_file.empty()) {
    std::size_t eol = rank_file.find('\n');
    if (eol == std::string_view::npos) eol = rank_file.size();
    std::string_view line = rank_file.substr(0, eol);
    rank_file.remove_prefix(std::min(eol + 1, rank_file.size()));
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos) Corrupt(encoding, "a line without a rank");
    std::uint64_t rank = 0;
    for (const char ch : line.substr(space + 1)) {
      if (ch < '0' || ch > '9' || rank > kNoRank) Corrupt(encoding, "a malformed rank");
      rank = rank * 10 + static_cast<unsigned>(ch - '0');
    }
    // Every shipped encoding numbers its tokens 0, 1, 2, ... in file order.
    if (rank != offsets_.size() - 1) Corrupt(encoding, "ranks are not 0, 1, 2, ...");
    const std::ptrdiff_t size = DecodeBase64(line.substr(0, space), arena_.data() + used);
    if (size <= 0) Corrupt(encoding, "a malformed base64 token");
    used += static_cast<std::size_t>(size);
    max_token_size_ = std::max(max_token_size_, static_cast<std::size_t>(size));
    offsets_.push_back(static_cast<std::uint32_t>(used));
  }
  arena_.resize(used);
  arena_.shrink_to_fit();

  std::size_t slot_count = 1024;
  while (slot_count < 2 * VocabularySize()) slot_count *= 2;
  slots_.assign(slot_count, kEmptySlot);
  slot_mask_ = slot_count - 1;
  const auto* bytes = reinterpret_cast<const unsigned char*>(arena_.data());
  std::vector<std::uint64_t> hashes(VocabularySize());
  for (std::uint32_t id = 0; id < VocabularySize(); ++id) {
    hashes[id] = Hash(bytes + offsets_[id], offsets_[id + 1] - offsets_[id]);
  }
  constexpr std::uint32_t kAhead = 16;  // slots are random reads: ask for them early
  for (std::uint32_t id = 0; id < VocabularySize(); ++id) {
    if (id + kAhead < VocabularySize()) {
      __builtin_prefetch(&slots_[hashes[id + kAhead] & slot_mask_], 1);
    }
    const std::uint64_t hash = hashes[id];
    std::uint64_t i = hash & slot_mask_;
    for (; slots_[i] != kEmptySlot; i = (i + 1) & slot_mask_) {
      const auto other = static_cast<std::uint32_t>(slots_[i]);
      if (slots_[i] >> 32 == hash >> 32 && TokenBytes(other) == TokenBytes(id)) {
        Corrupt(encoding, "a duplicate token");
      }
    }
    slots_[i] = (hash >> 32) << 32 | id;
  }
  for (unsigned b = 0; b < 256; ++b) {
    const unsigned char byte = static_cast<unsigned char>(b);
    if ((byte_ids_[b] = Find(&byte, 1)) == kNoRank) Corrupt(encoding, "a byte has no token");
  }
  BmpClasses();  // the pre-tokenizer's table: built here so that the first Encode is fast
}

std::string_view Tokenizer::TokenBytes(std::uint32_t id) const {
  if (id >= VocabularySize()) return {};
  return std::string_view(arena_).substr(offsets_[id], offsets_[id + 1] - offsets_[id]);
}

std::optional<std::uint32_t> Tokenizer::TokenId(std::string_view bytes) const {
  const std::uint32_t id = Find(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  if (id == kNoRank) return std::nullopt;
  return id;
}

std::uint32_t Tokenizer::Find(const unsigned char* data, std::size_t size) const {
  if (size > max_token_size_) return kNoRank;
  const std::uint64_t hash = Hash(data, size);
  const std::uint64_t tag = hash >> 32;
  for (std::uint64_t i = hash & slot_mask_;; i = (i + 1) & slot_mask_) {
    const std::uint64_t slot = slots_[i];
    if (slot == kEmptySlot) return kNoRank;
    if (slot >> 32 != tag) continue;
    const auto id = static_cast<std::uint32_t>(slot);
    if (offsets_[id + 1] - offsets_[id] == size &&
        Equal(reinterpret_cast<const unsigned char*>(arena_.data()) + offsets_[id], data, size)) {
      return id;
    }
  }
}

// ---- Encoding --------------------------------------------------------------------------------

template <typename Sink>
void Tokenizer::EncodeTo(std::string_view text, Sink& sink) const {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t size = text.size();
  std::size_t pos = 0;
  while (pos < size) {
    // Each well-formed stretch is pre-tokenized on its own; a byte that is not UTF-8 is a
    // piece of its own (tiktoken cannot be given such text at all).
    const std::size_t end = EndOfValidUtf8(s, pos, size);
    const PreTokenizer scanner(s, end);
    while (pos < end) {
      const std::size_t next =
          encoding_ == Encoding::kO200kBase ? scanner.NextO200k(pos) : scanner.NextCl100k(pos);
      EncodePiece(s + pos, next - pos, sink);
      pos = next;
    }
    if (pos < size) sink(byte_ids_[s[pos++]]);
  }
}

template <typename Sink>
void Tokenizer::EncodePiece(const unsigned char* piece, std::size_t size, Sink& sink) const {
  if (size == 1) return sink(byte_ids_[piece[0]]);
  if (const std::uint32_t id = Find(piece, size); id != kNoRank) return sink(id);
  if (size <= kShortPiece) return MergeShort(piece, size, sink);
  MergeLong(piece, size, sink);
}

// tiktoken's merge: start from single bytes; repeatedly merge the adjacent pair whose joined
// bytes have the lowest rank (the leftmost on a tie) until no joined pair is a token. Linear
// scans over a short array are the fastest for the pieces text usually has.
template <typename Sink>
void Tokenizer::MergeShort(const unsigned char* piece, std::size_t size, Sink& sink) const {
  std::uint32_t start[kShortPiece + 1];  // part i is piece[start[i], start[i + 1])
  std::uint32_t id[kShortPiece];         // its token
  std::uint32_t pair[kShortPiece];       // the rank of parts i and i + 1 joined, or kNoRank
  std::size_t parts = size;
  for (std::size_t i = 0; i <= size; ++i) start[i] = static_cast<std::uint32_t>(i);
  for (std::size_t i = 0; i < size; ++i) id[i] = byte_ids_[piece[i]];
  const auto joined = [&](std::size_t i) {
    return i + 1 < parts ? Find(piece + start[i], start[i + 2] - start[i]) : kNoRank;
  };
  for (std::size_t i = 0; i < parts; ++i) pair[i] = joined(i);
  for (;;) {
    std::size_t best = 0;
    for (std::size_t i = 1; i + 1 < parts; ++i) {
      if (pair[i] < pair[best]) best = i;
    }
    if (pair[best] == kNoRank) break;
    id[best] = pair[best];
    const std::size_t tail = parts - best - 2;  // parts after the one merged away
    std::memmove(start + best + 1, start + best + 2, (tail + 1) * sizeof start[0]);
    std::memmove(id + best + 1, id + best + 2, tail * sizeof id[0]);
    std::memmove(pair + best + 1, pair + best + 2, tail * sizeof pair[0]);
    --parts;
    pair[best] = joined(best);
    if (best > 0) pair[best - 1] = joined(best - 1);
  }
  for (std::size_t i = 0; i < parts; ++i) sink(id[i]);
}

// The same merge for long pieces (a run of 10k spaces, a 100 KB "word"): a linked list of
// parts and a min-heap of (rank, start) pairs keep it O(n log n).
template <typename Sink>
void Tokenizer::MergeLong(const unsigned char* piece, std::size_t size, Sink& sink) const {
  constexpr std::uint32_t kNone = 0xffffffffu;
  std::vector<std::uint32_t> next(size), prev(size), id(size), pair(size);
  const auto joined = [&](std::uint32_t i) {
    if (next[i] == kNone) return kNoRank;
    const std::uint32_t end = next[next[i]] == kNone ? size : next[next[i]];
    return Find(piece + i, end - i);
  };
  std::vector<std::uint64_t> heap;  // rank << 32 | start, smallest first
  for (std::uint32_t i = 0; i < size; ++i) {
    next[i] = i + 1 < size ? i + 1 : kNone;
    prev[i] = i > 0 ? i - 1 : kNone;
    id[i] = byte_ids_[piece[i]];
  }
  for (std::uint32_t i = 0; i < size; ++i) {
    if ((pair[i] = joined(i)) != kNoRank) heap.push_back(std::uint64_t{pair[i]} << 32 | i);
  }
  std::priority_queue queue(std::greater<std::uint64_t>(), std::move(heap));
  while (!queue.empty()) {
    const std::uint64_t top = queue.top();
    queue.pop();
    const auto i = static_cast<std::uint32_t>(top);
    const auto rank = static_cast<std::uint32_t>(top >> 32);
    if (pair[i] != rank) continue;  // stale: part i was merged away or has grown since
    const std::uint32_t gone = next[i];
    id[i] = rank;
    next[i] = next[gone];
    if (next[i] != kNone) prev[next[i]] = i;
    pair[gone] = kNoRank;
    if ((pair[i] = joined(i)) != kNoRank) queue.push(std::uint64_t{pair[i]} << 32 | i);
    if (const std::uint32_t p = prev[i]; p != kNone) {
      if ((pair[p] = joined(p)) != kNoRank) queue.push(std::uint64_t{pair[p]} << 32 | p);
    }
  }
  for (std::uint32_t i = 0; i != kNone; i = next[i]) sink(id[i]);
}

std::vector<std::uint32_t> Tokenizer::Encode(std::string_view text) const {
  std::vector<std::uint32_t> ids;
  ids.reserve(text.size() / 4 + 1);
  auto push = [&ids](std::uint32_t id) { ids.push_back(id); };
  EncodeTo(text, push);
  return ids;
}

std::size_t Tokenizer::Count(std::string_view text) const {
  std::size_t count = 0;
  auto add = [&count](std::uint32_t) { ++count; };
  EncodeTo(text, add);
  return count;
}

}  // namespace switchyard::accounting
