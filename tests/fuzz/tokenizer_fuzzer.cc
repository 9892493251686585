// Fuzzes the BPE tokenizers (proxy/accounting/tokenizer.h) with arbitrary bytes, valid UTF-8
// or not: Count agrees with Encode, and the tokens' bytes give back the input exactly.
#include <string>
#include <string_view>
#include <vector>

#include "proxy/accounting/tokenizer.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace accounting = switchyard::accounting;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (accounting::Encoding encoding :
       {accounting::Encoding::kO200kBase, accounting::Encoding::kCl100kBase}) {
    const accounting::Tokenizer& tokenizer = accounting::Tokenizer::Get(encoding);
    const std::vector<std::uint32_t> ids = tokenizer.Encode(text);
    FUZZ_CHECK(tokenizer.Count(text) == ids.size());
    std::string decoded;
    for (std::uint32_t id : ids) {
      FUZZ_CHECK(id < tokenizer.VocabularySize());
      const std::string_view bytes = tokenizer.TokenBytes(id);
      FUZZ_CHECK(!bytes.empty());
      FUZZ_CHECK(tokenizer.TokenId(bytes) == id);
      decoded.append(bytes);
    }
    FUZZ_CHECK(decoded == text);
  }
  return 0;
}
