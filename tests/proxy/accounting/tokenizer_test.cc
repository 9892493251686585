// Tokenizer tests: gpt-tokenizer's published test vectors (TestPlans.txt) for both encodings,
// the rank table round trip, and edge cases whose expected ids and counts were produced by
// tiktoken itself (its npm WASM build, 1.0.22, encode_ordinary).
#include "proxy/accounting/tokenizer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace switchyard::accounting {
namespace {

using Ids = std::vector<std::uint32_t>;

std::string Decode(const Tokenizer& tokenizer, const Ids& ids) {
  std::string text;
  for (const std::uint32_t id : ids) text += tokenizer.TokenBytes(id);
  return text;
}

struct TestPlan {
  std::string encoding;
  std::string sample;
  Ids expected;
};

// TestPlans.txt: blocks of "EncodingName: <name>", "Sample: <text>", "Encoded: [1, 2, 3]",
// separated by blank lines; a sample is the rest of its line.
std::vector<TestPlan> ReadTestPlans(const std::string& path) {
  std::vector<TestPlan> plans;
  std::ifstream in(path);
  std::string line;
  TestPlan plan;
  while (std::getline(in, line)) {
    if (line.rfind("EncodingName: ", 0) == 0) {
      plan = TestPlan{line.substr(14), "", {}};
    } else if (line.rfind("Sample: ", 0) == 0) {
      plan.sample = line.substr(8);
    } else if (line.rfind("Encoded: [", 0) == 0) {
      const std::string list = line.substr(10);
      std::size_t pos = 0;
      while (pos < list.size() && list[pos] != ']') {
        std::size_t used = 0;
        plan.expected.push_back(static_cast<std::uint32_t>(std::stoul(list.substr(pos), &used)));
        pos += used;
        while (pos < list.size() && (list[pos] == ',' || list[pos] == ' ')) ++pos;
      }
      plans.push_back(plan);
    }
  }
  return plans;
}

class TokenizerTest : public ::testing::TestWithParam<Encoding> {
 protected:
  const Tokenizer& tokenizer() const { return Tokenizer::Get(GetParam()); }
  bool o200k() const { return GetParam() == Encoding::kO200kBase; }
  Ids Encode(std::string_view text) const { return tokenizer().Encode(text); }
};

TEST_P(TokenizerTest, MatchesEveryTestPlanVector) {
#ifndef SWITCHYARD_TOKENIZER_TEST_PLANS
  GTEST_SKIP() << "built without SWITCHYARD_TOKENIZER_TEST_PLANS (see tokenizer.cmake)";
#else
  const std::string path = SWITCHYARD_TOKENIZER_TEST_PLANS;
  if (!std::ifstream(path)) {
    GTEST_SKIP() << "no test vectors at " << path
                 << "; `bash dev.sh test` fetches them (gpt-tokenizer's data/TestPlans.txt)";
  }
  int checked = 0;
  for (const TestPlan& plan : ReadTestPlans(path)) {
    if (plan.encoding != EncodingName(GetParam())) continue;
    SCOPED_TRACE(plan.sample);
    EXPECT_EQ(Encode(plan.sample), plan.expected);
    EXPECT_EQ(tokenizer().Count(plan.sample), plan.expected.size());
    ++checked;
  }
  EXPECT_GE(checked, 50) << "TestPlans.txt has fewer vectors for this encoding than expected";
#endif
}

TEST_P(TokenizerTest, EveryTokensBytesMapBackToItAndRoundTripThroughEncode) {
  const Tokenizer& t = tokenizer();
  EXPECT_EQ(t.VocabularySize(), o200k() ? 199998u : 100256u);
  std::size_t single = 0;
  for (std::uint32_t id = 0; id < t.VocabularySize(); ++id) {
    const std::string_view bytes = t.TokenBytes(id);
    ASSERT_FALSE(bytes.empty()) << id;
    ASSERT_EQ(t.TokenId(bytes), id);
    const Ids ids = t.Encode(bytes);
    ASSERT_EQ(Decode(t, ids), bytes) << id;
    // Encoded as text, a token is just itself unless the pre-tokenizer splits it (partial
    // UTF-8 sequences, "\n\n " and the like: about 0.7% of either vocabulary).
    single += ids == Ids{id};
  }
  EXPECT_GT(single, t.VocabularySize() * 99 / 100);
  EXPECT_TRUE(t.TokenBytes(static_cast<std::uint32_t>(t.VocabularySize())).empty());
  EXPECT_EQ(t.TokenId(""), std::nullopt);
  EXPECT_EQ(t.TokenId(std::string(200, 'x')), std::nullopt);
}

TEST_P(TokenizerTest, EncodesEmptyTextAsNoTokens) {
  EXPECT_TRUE(Encode("").empty());
  EXPECT_EQ(tokenizer().Count(""), 0u);
}

TEST_P(TokenizerTest, EncodesInvalidUtf8ByteByByteWithoutCrashing) {
  // A lone continuation byte, an overlong '/', a surrogate, a truncated 4-byte sequence, 0xFF.
  const std::string bad = "ok\x80 \xC0\xAF x\xED\xA0\x80y\xF0\x9F\x98 z\xFF";
  const Ids ids = Encode(bad);
  EXPECT_EQ(Decode(tokenizer(), ids), bad);
  EXPECT_EQ(tokenizer().Count(bad), ids.size());
  const Ids valid = Encode("ok");
  ASSERT_GE(ids.size(), valid.size() + 1);
  EXPECT_EQ(Ids(ids.begin(), ids.begin() + valid.size()), valid);
  EXPECT_EQ(ids[valid.size()], Encode("\x80")[0]);  // the bad byte is its own token
  for (int b = 0x80; b <= 0xFF; ++b) {
    const std::string one(1, static_cast<char>(b));
    ASSERT_EQ(Encode(one).size(), 1u) << b;
    EXPECT_EQ(tokenizer().TokenBytes(Encode(one)[0]), one);
  }
}

TEST_P(TokenizerTest, EncodesLongRunsExactlyAndQuickly) {
  const auto start = std::chrono::steady_clock::now();
  const std::string spaces(10000, ' ');
  const std::string word = [] {
    std::string w;
    for (int i = 0; i < 50000; ++i) w += "ab";
    return w;
  }();
  std::string mixed;
  for (int i = 0; i < 5000; ++i) mixed += " \t";
  // Counts from tiktoken.
  EXPECT_EQ(tokenizer().Count(spaces), 79u);
  EXPECT_EQ(tokenizer().Count(spaces + "x"), 80u);
  EXPECT_EQ(tokenizer().Count(std::string(10000, '\n')), o200k() ? 625u : 313u);
  EXPECT_EQ(tokenizer().Count(word), o200k() ? 25000u : 50000u);
  EXPECT_EQ(tokenizer().Count(mixed + "end"), 5000u);
  EXPECT_EQ(tokenizer().Count(std::string(10000, '1')), 3334u);
  EXPECT_EQ(Decode(tokenizer(), Encode(spaces + word)), spaces + word);
  // 256 KiB in one piece: well under a second (a few under sanitizers); a quadratic merge
  // would take minutes.
  const std::string huge(256 * 1024, ' ');
  EXPECT_EQ(Decode(tokenizer(), Encode(huge)), huge);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
}

TEST_P(TokenizerTest, EncodesEmojiCjkAndOtherScriptsLikeTiktoken) {
  const char* const cjk = "你好，世界 👋🏽 ありがとう";
  const char* const flags = "🇺🇳🏳️‍🌈 emoji👩‍👩‍👧";
  const char* const marks = "e\u0301te\u0301 \u01C4ungla \u02B0ello";
  if (o200k()) {
    EXPECT_EQ(Encode(cjk), (Ids{177519, 979, 28428, 61138, 233, 52622, 121, 220, 55300}));
    EXPECT_EQ(Encode(flags), (Ids{55506, 118, 55506, 111, 52622, 111, 15148, 2524, 64364, 230,
                                  74471, 28823, 102, 2524, 28823, 102, 2524, 28823, 100}));
    EXPECT_EQ(Encode(marks),
              (Ids{68, 13430, 411, 13430, 220, 131, 226, 988, 1675, 220, 134, 108, 6053}));
  } else {
    EXPECT_EQ(Encode(cjk),
              (Ids{57668, 53901, 3922, 3574, 244, 98220, 62904, 233, 9468, 237, 121, 220, 86790}));
    EXPECT_EQ(Encode(flags), (Ids{9468, 229,  118,  9468, 229, 111,   9468, 237, 111, 31643,
                                  378,  235,  9468, 234,  230, 43465, 9468, 239, 102, 378,
                                  235,  9468, 239,  102,  378, 235,   9468, 239, 100}));
    EXPECT_EQ(Encode(marks),
              (Ids{68, 54939, 668, 54939, 220, 131, 226, 2234, 4355, 220, 134, 108, 4896}));
  }
}

TEST_P(TokenizerTest, SplitsContractionsWhitespaceAndDigitsLikeTiktoken) {
  const char* const contractions = "don't DON'T We'Re they'll I'd";
  const char* const spaces = "x  \n\n  y\r\n\tz  ";
  const char* const digits = "1234567 \u0661\u0662\u0663\u0664";
  const char* const code = "path/to/file.txt\n//c <|endoftext|>";
  if (o200k()) {
    EXPECT_EQ(Encode(contractions), (Ids{91418, 153384, 1416, 146756, 57956, 18754}));
    EXPECT_EQ(Encode(spaces), (Ids{87, 11691, 220, 342, 370, 52196, 256}));
    EXPECT_EQ(Encode(digits), (Ids{7633, 19354, 22, 220, 46600, 53184, 81473, 98713}));
    EXPECT_EQ(Encode(code),
              (Ids{4189, 72231, 51766, 7186, 198, 393, 66, 464, 91, 419, 1440, 919, 91, 29}));
  } else {
    EXPECT_EQ(Encode(contractions),
              (Ids{15357, 956, 45373, 17773, 1226, 50527, 814, 3358, 358, 4265}));
    EXPECT_EQ(Encode(spaces), (Ids{87, 19124, 220, 379, 319, 21499, 256}));
    EXPECT_EQ(Encode(digits), (Ids{4513, 10961, 22, 220, 149, 94, 149, 95, 149, 96, 149, 97}));
    EXPECT_EQ(Encode(code),
              (Ids{2398, 33529, 24849, 3996, 198, 322, 66, 83739, 8862, 728, 428, 91, 29}));
  }
}

TEST_P(TokenizerTest, CountEqualsEncodeSize) {
  const std::vector<std::string> texts = {"",
                                          "a",
                                          "Hello, world!",
                                          "    indented\n\tcode();\n",
                                          "日本語のテキスト",
                                          "🙂🙃",
                                          std::string(300, ' ') + "x",
                                          std::string("bad\xFF\xFE") + "bytes"};
  for (const std::string& text : texts) {
    SCOPED_TRACE(text);
    EXPECT_EQ(tokenizer().Count(text), Encode(text).size());
  }
}

TEST_P(TokenizerTest, GetReturnsOneInstanceToConcurrentCallers) {
  std::vector<const Tokenizer*> seen(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&seen, i, encoding = GetParam()] {
      seen[i] = &Tokenizer::Get(encoding);
      seen[i]->Count("warm");
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const Tokenizer* t : seen) EXPECT_EQ(t, &tokenizer());
  EXPECT_EQ(tokenizer().encoding(), GetParam());
}

INSTANTIATE_TEST_SUITE_P(Encodings, TokenizerTest,
                         ::testing::Values(Encoding::kO200kBase, Encoding::kCl100kBase),
                         [](const ::testing::TestParamInfo<Encoding>& info) {
                           return std::string(EncodingName(info.param));
                         });

TEST(EncodingTest, ParsesAndNamesBothEncodings) {
  EXPECT_EQ(ParseEncoding("o200k_base"), Encoding::kO200kBase);
  EXPECT_EQ(ParseEncoding("cl100k_base"), Encoding::kCl100kBase);
  EXPECT_EQ(ParseEncoding("p50k_base"), std::nullopt);
  EXPECT_EQ(ParseEncoding(""), std::nullopt);
  EXPECT_STREQ(EncodingName(Encoding::kO200kBase), "o200k_base");
  EXPECT_STREQ(EncodingName(Encoding::kCl100kBase), "cl100k_base");
}

}  // namespace
}  // namespace switchyard::accounting
