// Byte-pair-encoding tokenizers in tiktoken's format (o200k_base, cl100k_base), for
// estimating usage when an upstream reports none. The rank files are embedded in the binary
// at build time; each encoding is loaded on first use (~20 ms) and lives until exit.
// Thread-safe: Get() may race, and a Tokenizer is immutable once returned.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::accounting {

enum class Encoding { kO200kBase, kCl100kBase };

// "o200k_base" / "cl100k_base"; nullopt for anything else.
std::optional<Encoding> ParseEncoding(std::string_view name);
const char* EncodingName(Encoding encoding);

class Tokenizer {
 public:
  // The encoding's tokenizer, loaded once (the first call pays the load).
  static const Tokenizer& Get(Encoding encoding);

  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Token ids of `text` (UTF-8; invalid bytes are encoded as bytes, never rejected), exactly
  // as tiktoken's encode_ordinary: special tokens such as <|endoftext|> are plain text here.
  std::vector<std::uint32_t> Encode(std::string_view text) const;
  // Encode(text).size(), without building the vector where that is cheaper.
  std::size_t Count(std::string_view text) const;

  // The bytes of token `id`; empty for an id outside the vocabulary. Concatenating them over
  // Encode(text) gives back `text`.
  std::string_view TokenBytes(std::uint32_t id) const;
  // The token whose bytes are exactly `bytes` (tiktoken's encode_single_token), if any.
  std::optional<std::uint32_t> TokenId(std::string_view bytes) const;
  // Ids are 0 .. VocabularySize() - 1 (the special tokens are not part of it).
  std::size_t VocabularySize() const { return offsets_.size() - 1; }
  Encoding encoding() const { return encoding_; }

 private:
  static constexpr std::uint32_t kNoRank = 0xffffffffu;

  Tokenizer(Encoding encoding, std::string_view rank_file);

  // The id of exactly the bytes [data, data + size), or kNoRank.
  std::uint32_t Find(const unsigned char* data, std::size_t size) const;
  // Calls sink(id) for each token of `text` / of one pre-tokenized piece.
  template <typename Sink>
  void EncodeTo(std::string_view text, Sink& sink) const;
  template <typename Sink>
  void EncodePiece(const unsigned char* piece, std::size_t size, Sink& sink) const;
  template <typename Sink>
  void MergeShort(const unsigned char* piece, std::size_t size, Sink& sink) const;
  template <typename Sink>
  void MergeLong(const unsigned char* piece, std::size_t size, Sink& sink) const;

  Encoding encoding_;
  std::string arena_;                   // every token's bytes back to back, in id order
  std::vector<std::uint32_t> offsets_;  // token i is arena_[offsets_[i], offsets_[i + 1])
  // Open addressing, linear probing: (hash >> 32) << 32 | id per slot, or kEmptySlot.
  std::vector<std::uint64_t> slots_;
  std::uint64_t slot_mask_ = 0;
  std::size_t max_token_size_ = 0;
  std::uint32_t byte_ids_[256] = {};  // the id of each single byte
};

}  // namespace switchyard::accounting
