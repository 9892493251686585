// Byte-pair-encoding tokenizers in tiktoken's format (o200k_base, cl100k_base), for
// estimating usage when an upstream reports none. The rank files are embedded in the binary
// at build time; each encoding is loaded on first use. Thread-safe; instances live forever.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
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

  // Token ids of `text` (UTF-8; invalid bytes are encoded as bytes, never rejected).
  std::vector<std::uint32_t> Encode(std::string_view text) const;
  // Encode(text).size(), without building the vector where that is cheaper.
  std::size_t Count(std::string_view text) const;
};

}  // namespace switchyard::accounting
