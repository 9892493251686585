#include "proxy/accounting/usage.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <ostream>
#include <string>

namespace switchyard::accounting {

void PrintTo(const Usage& u, std::ostream* os) {
  *os << "{prompt=" << u.prompt_tokens << " cached=" << u.cached_tokens
      << " completion=" << u.completion_tokens << " reasoning=" << u.reasoning_tokens
      << " present=" << u.present << "}";
}

namespace {

Usage Make(std::int64_t prompt, std::int64_t cached, std::int64_t completion,
           std::int64_t reasoning) {
  return {prompt, cached, completion, reasoning, true};
}

class UsageFromBodyTest : public ::testing::Test {
 protected:
  Usage Parse(std::string body) {
    body_ = std::move(body);
    body_.reserve(body_.size() + simdjson::SIMDJSON_PADDING);
    return ParseUsageFromBody(body_);
  }
  std::string body_;
};

TEST_F(UsageFromBodyTest, ReadsAllFourCountsOfAChatCompletion) {
  EXPECT_EQ(Parse(R"({"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o",
    "choices":[{"index":0,"message":{"role":"assistant","content":"{\"usage\":1}"},"finish_reason":"stop"}],
    "usage":{"prompt_tokens":1200,"completion_tokens":300,"total_tokens":1500,
      "prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},
      "completion_tokens_details":{"reasoning_tokens":128,"audio_tokens":0,
        "accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},
    "system_fingerprint":"fp_1"})"),
            Make(1200, 1024, 300, 128));
}

TEST_F(UsageFromBodyTest, EmbeddingsUsageHasNoCompletionTokens) {
  EXPECT_EQ(
      Parse(R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,-0.2]}],
    "model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}})"),
      Make(8, 0, 0, 0));
}

TEST_F(UsageFromBodyTest, MissingOrNullFieldsCountZero) {
  EXPECT_EQ(Parse(R"({"usage":{"prompt_tokens":5,"completion_tokens":null,
    "prompt_tokens_details":null,"completion_tokens_details":{}}})"),
            Make(5, 0, 0, 0));
  EXPECT_EQ(Parse(R"({"usage":{}})"), Make(0, 0, 0, 0));
}

TEST_F(UsageFromBodyTest, OddlyTypedCountsAreZeroButIntegralFloatsAreAccepted) {
  EXPECT_EQ(Parse(R"({"usage":{"prompt_tokens":"12","completion_tokens":-3,
    "prompt_tokens_details":{"cached_tokens":[1]},"completion_tokens_details":{"reasoning_tokens":1.5}}})"),
            Make(0, 0, 0, 0));
  EXPECT_EQ(Parse(R"({"usage":{"prompt_tokens":12.0,"completion_tokens":7e1}})"),
            Make(12, 0, 70, 0));
}

TEST_F(UsageFromBodyTest, UsageMayComeBeforeTheChoices) {
  EXPECT_EQ(Parse(R"({"usage":{"completion_tokens":2,"prompt_tokens":3},"choices":[]})"),
            Make(3, 0, 2, 0));
}

TEST_F(UsageFromBodyTest, NoUsageOrNullUsageIsNotPresent) {
  EXPECT_FALSE(Parse(R"({"choices":[]})").present);
  EXPECT_FALSE(Parse(R"({"usage":null})").present);
  EXPECT_FALSE(Parse(R"({"usage":42})").present);
  EXPECT_FALSE(Parse(R"({"error":{"message":"x","type":"server_error"}})").present);
}

TEST_F(UsageFromBodyTest, MalformedJsonIsNotPresentAndNeverCrashes) {
  for (const char* body :
       {"", "{", "[]", "null", "\"usage\"", "{\"usage\":{\"prompt_tokens\":1}",
        "{\"usage\":{\"prompt_tokens\":1}} trailing", "{\"usage\":{\"prompt_tokens\":1,}}",
        "{\"usage\":{\"prompt_tokens\":1}, \"choices\":[1,2}", "{\"usage\":{\"prompt_tokens\":}}",
        "{\"usage\":{\"prompt_tokens_details\":{\"cached_tokens\":1}", "\xff\xfe{}"}) {
    EXPECT_FALSE(Parse(body).present) << body;
  }
}

TEST_F(UsageFromBodyTest, BodyWithoutPaddingCapacityIsNotPresent) {
  std::string body = R"({"usage":{"prompt_tokens":1}})";
  body.shrink_to_fit();
  if (body.capacity() >= body.size() + simdjson::SIMDJSON_PADDING) GTEST_SKIP();
  EXPECT_FALSE(ParseUsageFromBody(body).present);
}

TEST_F(UsageFromBodyTest, CountsUpToInt64MaxAreReadAndLargerOnesCountZero) {
  EXPECT_EQ(
      Parse(
          R"({"usage":{"prompt_tokens":9223372036854775807,"completion_tokens":18446744073709551615}})"),
      Make(INT64_MAX, 0, 0, 0));  // beyond int64: counts 0
}

class UsageFromEventTest : public ::testing::Test {};

constexpr const char* kUsageChunk =
    R"(data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini",)"
    R"("choices":[],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,)"
    R"("prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}})";

TEST_F(UsageFromEventTest, ReadsTheFinalUsageChunk) {
  EXPECT_EQ(ParseUsageFromEvent(kUsageChunk), Make(19, 0, 10, 0));
  EXPECT_TRUE(IsUsageOnlyChunk(kUsageChunk));
}

TEST_F(UsageFromEventTest, ContentChunkWithNullUsageIsNotPresentNorUsageOnly) {
  std::string_view chunk =
      R"(data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"usage":null})";
  EXPECT_FALSE(ParseUsageFromEvent(chunk).present);
  EXPECT_FALSE(IsUsageOnlyChunk(chunk));
}

TEST_F(UsageFromEventTest, DoneIsNotPresent) {
  EXPECT_FALSE(ParseUsageFromEvent("data: [DONE]").present);
  EXPECT_FALSE(IsUsageOnlyChunk("data: [DONE]"));
  EXPECT_FALSE(ParseUsageFromEvent("data:[DONE]\r").present);
}

TEST_F(UsageFromEventTest, JoinsSeveralDataLinesAndIgnoresOtherFields) {
  std::string_view event =
      ": keep-alive\r\nevent: message\r\nid: 7\r\ndata: {\"choices\":[],\r\n"
      "data: \"usage\":{\"prompt_tokens\":4,\"completion_tokens\":2,\r\n"
      "data:\"completion_tokens_details\":{\"reasoning_tokens\":1}}}";
  EXPECT_EQ(ParseUsageFromEvent(event), Make(4, 0, 2, 1));
  EXPECT_TRUE(IsUsageOnlyChunk(event));
}

TEST_F(UsageFromEventTest, UsageOnAChunkWithChoicesIsPresentButNotUsageOnly) {
  // Some servers put usage on the last content chunk instead of a separate one.
  std::string_view chunk =
      R"(data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}})";
  EXPECT_EQ(ParseUsageFromEvent(chunk), Make(3, 0, 1, 0));
  EXPECT_FALSE(IsUsageOnlyChunk(chunk));
}

TEST_F(UsageFromEventTest, EmptyChoicesWithoutUsageObjectIsNotUsageOnly) {
  EXPECT_FALSE(IsUsageOnlyChunk(R"(data: {"choices":[],"usage":null})"));
  EXPECT_FALSE(IsUsageOnlyChunk(R"(data: {"choices":[]})"));
  EXPECT_FALSE(IsUsageOnlyChunk(R"(data: {"usage":{"prompt_tokens":1}})"));  // no choices
  EXPECT_FALSE(IsUsageOnlyChunk(R"(data: {"choices":null,"usage":{"prompt_tokens":1}})"));
}

TEST_F(UsageFromEventTest, InspectStreamEventAnswersBothInOneParse) {
  StreamEventUsage r = InspectStreamEvent(kUsageChunk);
  EXPECT_TRUE(r.usage_only_chunk);
  EXPECT_EQ(r.usage, Make(19, 0, 10, 0));
}

TEST_F(UsageFromEventTest, MalformedOrDatalessEventsAreNotPresent) {
  for (std::string_view event :
       {std::string_view{}, std::string_view{": comment"}, std::string_view{"event: ping"},
        std::string_view{"data: "}, std::string_view{"data: {\"choices\":[],\"usage\":{"},
        std::string_view{"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1}} x"},
        std::string_view{"data: not json"}, std::string_view{"data"}}) {
    EXPECT_FALSE(ParseUsageFromEvent(event).present) << event;
    EXPECT_FALSE(IsUsageOnlyChunk(event)) << event;
  }
}

TEST_F(UsageFromEventTest, ALongEventAfterAShortOneStillParses) {
  // The thread_local buffer grows; a short event after a long one must not see stale bytes.
  std::string long_event = "data: {\"pad\":\"" + std::string(10000, 'x') +
                           "\",\"choices\":[],\"usage\":{\"prompt_tokens\":9}}";
  EXPECT_EQ(ParseUsageFromEvent("data: {\"usage\":{\"prompt_tokens\":1}}"), Make(1, 0, 0, 0));
  EXPECT_EQ(ParseUsageFromEvent(long_event), Make(9, 0, 0, 0));
  EXPECT_EQ(ParseUsageFromEvent("data: {\"usage\":{\"prompt_tokens\":2}}"), Make(2, 0, 0, 0));
}

}  // namespace
TEST(GeneratedTextTest, CollectsContentArgumentsAndReasoningUnescaped) {
  std::string text;
  const std::string events =
      "data: {\"choices\":[{\"delta\":{\"content\":\"Hi \\\"you\\\"\\n\"}}]}\n\n"
      "data: {\"choices\":[{\"delta\":{\"reasoning_content\":\"caf\\u00e9 \\ud83d\\ude00\"}}]}\n\n"
      "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"function\":{\"arguments\":\"{\\\"a\\\":1}\"}}]}}]}\n\n"
      "data: {\"choices\":[{\"delta\":{\"content\":null}}]}\n\n";
  EXPECT_EQ(AppendGeneratedText(events, &text, 1 << 20), 0u);
  EXPECT_EQ(text, "Hi \"you\"\n{\"a\":1}caf\xC3\xA9 \xF0\x9F\x98\x80");
}

TEST(GeneratedTextTest, StopsAtTheLimitAndCountsWhatDidNotFit) {
  std::string text;
  EXPECT_EQ(AppendGeneratedText(R"({"content":"abcdefghij"})", &text, 4), 6u);
  EXPECT_EQ(text, "abcd");
  EXPECT_EQ(AppendGeneratedText(R"({"content":"xy"})", &text, 4), 2u);
}

TEST(StreamEventsTest, HidesWhatAskingForUsageAddedAndNotesTheUsage) {
  const std::string events =
      "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}],\"usage\":null}\n\n"
      "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":1}}\n\n"
      "data: [DONE]\n\n";
  Usage usage;
  std::string text, scratch;
  std::size_t overflow = 0;
  const StreamNotes notes{&usage, &text, &overflow, 1024};
  EXPECT_EQ(StreamEvents(events, /*hide_usage=*/true, notes, scratch),
            "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: [DONE]\n\n");
  EXPECT_EQ(usage, Make(7, 0, 1, 0));
  EXPECT_EQ(text, "Hi");
  // A client that asked for usage gets every byte.
  EXPECT_EQ(StreamEvents(events, /*hide_usage=*/false, notes, scratch), events);
}

}  // namespace switchyard::accounting
