#include "proxy/openai/request.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "config/config.h"
#include "proxy/openai/json_nesting.h"

namespace switchyard::openai {
namespace {

class ParseRequestTest : public ::testing::Test {
 protected:
  boost::system::result<ParsedRequest, ApiError> Parse(std::string body) {
    body_ = std::move(body);
    ReservePadding(body_);
    return ParseRequest(body_);
  }
  std::string Spliced(const ParsedRequest& parsed, std::string_view quoted, bool ask_usage = false) {
    return SpliceModel(body_, parsed, quoted, ask_usage).ToString();
  }
  std::string body_;
};

TEST_F(ParseRequestTest, ReadsModelAndStream) {
  auto r = Parse(R"({"messages":[{"role":"user","content":"hi"}],"model":"gpt-4o","stream":true})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->model, "gpt-4o");
  EXPECT_TRUE(r->stream);
}

TEST_F(ParseRequestTest, SplicesOnlyTheModelValueKeepingEveryOtherByte) {
  auto r = Parse("{ \"model\" :  \"gpt-4o\"  ,\n \"temperature\": 0.25, \"x\": [1, {\"model\":\"inner\"}] }");
  ASSERT_TRUE(r);
  EXPECT_EQ(Spliced(*r, "\"llama3.2:3b\""),
            "{ \"model\" :  \"llama3.2:3b\"  ,\n \"temperature\": 0.25, \"x\": [1, {\"model\":\"inner\"}] }");
}

TEST_F(ParseRequestTest, UnescapesTheModelNameButSplicesTheWholeToken) {
  auto r = Parse(R"({"model":"gpt\u002d4o","n":1})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->model, "gpt-4o");
  EXPECT_EQ(Spliced(*r, "\"m\""), R"({"model":"m","n":1})");
}

TEST_F(ParseRequestTest, StreamDefaultsToFalseAndNullMeansFalse) {
  auto r = Parse(R"({"model":"m","stream":null})");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->stream);
}

TEST_F(ParseRequestTest, RejectsMalformedJsonAs400) {
  for (const char* body : {"", "{", "{\"model\":\"x\"", "[1,2]", "\"model\"", "{\"model\":\"x\"} trailing",
                           "{\"model\":\"x\",}", "{\"a\":[1,2}"}) {
    auto r = Parse(body);
    ASSERT_FALSE(r) << body;
    EXPECT_EQ(r.error().status, boost::beast::http::status::bad_request) << body;
    EXPECT_EQ(r.error().code, "invalid_json") << body;
  }
}

TEST_F(ParseRequestTest, RejectsATwiceGivenModel) {
  auto r = Parse(R"({"model":"cheap","messages":[],"model":"expensive"})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "duplicate_parameter");
}

TEST_F(ParseRequestTest, RejectsMissingModel) {
  auto r = Parse(R"({"messages":[]})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "missing_required_parameter");
  EXPECT_EQ(r.error().param, "model");
}

TEST_F(ParseRequestTest, RejectsNonStringModelAndNonBooleanStream) {
  auto model = Parse(R"({"model":42})");
  ASSERT_FALSE(model);
  EXPECT_EQ(model.error().param, "model");
  auto stream = Parse(R"({"model":"m","stream":"yes"})");
  ASSERT_FALSE(stream);
  EXPECT_EQ(stream.error().param, "stream");
}

TEST_F(ParseRequestTest, RefusesABodyWithoutPadding) {
  std::string body = R"({"model":"m"})";
  body.shrink_to_fit();
  if (body.capacity() >= body.size() + 64) GTEST_SKIP() << "the string kept spare capacity";
  EXPECT_FALSE(ParseRequest(body));
}

TEST(ErrorBodyTest, HasOpenAiShapeWithEscapedMessageAndNullParam) {
  ApiError e{boost::beast::http::status::not_found, "invalid_request_error", "model_not_found",
             "no \"x\"\n", {}};
  EXPECT_EQ(ErrorBody(e),
            R"({"error":{"message":"no \"x\"\n","type":"invalid_request_error","param":null,"code":"model_not_found"}})");
  EXPECT_EQ(ErrorEvent(e), "data: " + ErrorBody(e) + "\n\n");
}

}  // namespace
TEST_F(ParseRequestTest, AsksForStreamUsageWhenTheClientDidNot) {
  auto parsed = Parse(R"({"model":"auto","stream":true,"messages":[]} )");
  ASSERT_TRUE(parsed);
  EXPECT_FALSE(parsed->client_wants_usage);
  EXPECT_EQ(Spliced(*parsed, R"("m")", true),
            R"({"model":"m","stream":true,"messages":[],"stream_options":{"include_usage":true}} )");
  EXPECT_EQ(Spliced(*parsed, R"("m")", false), R"({"model":"m","stream":true,"messages":[]} )");
}

TEST_F(ParseRequestTest, KeepsTheClientsOtherStreamOptions) {
  auto parsed = Parse(R"({"stream_options":{"x":1},"model":"a","stream":true})");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(Spliced(*parsed, R"("bb")", true),
            R"({"stream_options":{"include_usage":true,"x":1},"model":"bb","stream":true})");
  parsed = Parse(R"({"model":"a","stream":true,"stream_options": {} })");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(Spliced(*parsed, R"("b")", true),
            R"({"model":"b","stream":true,"stream_options": {"include_usage":true} })");
  parsed = Parse(R"({"model":"a","stream":true,"stream_options":null})");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(Spliced(*parsed, R"("b")", true),
            R"({"model":"b","stream":true,"stream_options":{"include_usage":true}})");
}

TEST_F(ParseRequestTest, TurnsIncludeUsageFalseIntoTrueAndLeavesTrueAlone) {
  auto parsed = Parse(R"({"model":"a","stream":true,"stream_options":{"include_usage":false}})");
  ASSERT_TRUE(parsed);
  EXPECT_FALSE(parsed->client_wants_usage);
  EXPECT_EQ(Spliced(*parsed, R"("b")", true),
            R"({"model":"b","stream":true,"stream_options":{"include_usage":true}})");
  parsed = Parse(R"({"model":"a","stream":true,"stream_options":{"include_usage":true}})");
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->client_wants_usage);
  EXPECT_FALSE(parsed->usage_edit);
}

TEST_F(ParseRequestTest, LeavesNonStreamingBodiesAloneAndReadsMaxTokens) {
  auto parsed = Parse(R"({"model":"a","stream_options":{"include_usage":false},"max_tokens":50})");
  ASSERT_TRUE(parsed);
  EXPECT_FALSE(parsed->usage_edit);
  EXPECT_EQ(parsed->max_tokens, 50);
  parsed = Parse(R"({"model":"a","max_completion_tokens":70,"max_tokens":50})");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->max_tokens, 70);
  EXPECT_FALSE(Parse(R"({"model":"a","max_tokens":-1})"));
  EXPECT_FALSE(Parse(R"({"model":"a","max_tokens":"9"})"));
  EXPECT_FALSE(Parse(R"({"model":"a","stream":true,"stream_options":[]})"));
  EXPECT_FALSE(Parse(R"({"model":"a","stream":true,"stream_options":{"include_usage":1}})"));
}

TEST_F(ParseRequestTest, TheLastOfRepeatedIncludeUsageDecides) {
  auto parsed = Parse(R"({"model":"a","stream":true,"stream_options":{"include_usage":true,"include_usage":false}})");
  ASSERT_TRUE(parsed);
  EXPECT_FALSE(parsed->client_wants_usage);
  EXPECT_EQ(Spliced(*parsed, R"("b")", true),
            R"({"model":"b","stream":true,"stream_options":{"include_usage":true,"include_usage":true}})");
  parsed = Parse(R"({"model":"a","stream":true,"stream_options":{"include_usage":null}})");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(Spliced(*parsed, R"("b")", true),
            R"({"model":"b","stream":true,"stream_options":{"include_usage":true}})");
}

TEST_F(ParseRequestTest, BoundsTheOutputOfEveryChoiceAndPrompt) {
  auto parsed = Parse(R"({"model":"a","max_tokens":1,"max_tokens":900,"max_completion_tokens":5,"n":3})");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->max_tokens, 900);  // the largest: upstreams differ on which one they honour
  EXPECT_EQ(parsed->choices, 3);
  parsed = Parse(R"({"model":"a","prompt":["x","y","z","w"],"best_of":2,"n":1})");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->prompts, 4);
  EXPECT_EQ(parsed->choices, 2);
  parsed = Parse(R"({"model":"a","prompt":[101,202,303]})");  // one prompt as token ids
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->prompts, 1);
  EXPECT_FALSE(Parse(R"({"model":"a","n":0})"));
}

}  // namespace switchyard::openai

namespace switchyard::openai {
namespace {

// A chat body with `count` messages.
std::string WithMessages(std::size_t count) {
  std::string body = R"({"model":"m","messages":[)";
  for (std::size_t i = 0; i < count; ++i)
    body += i ? R"(,{"role":"user","content":"hi"})" : R"({"role":"user","content":"hi"})";
  return body + "]}";
}

// A body `depth` deep: the top object holding `depth - 1` nested arrays in an unknown field,
// which simdjson skips without checking their depth.
std::string NestedBody(std::size_t depth) {
  return R"({"model":"m","metadata_x":)" + std::string(depth - 1, '[') +
         std::string(depth - 1, ']') + "}";
}

class RequestLimitsTest : public ParseRequestTest {};

TEST_F(RequestLimitsTest, DefaultsAreTheConfigDefaults) {
  const config::Listener listener;
  EXPECT_EQ(RequestLimits{}.max_messages, listener.max_messages);
  EXPECT_EQ(RequestLimits{}.max_depth, listener.max_json_depth);
}

TEST_F(RequestLimitsTest, AcceptsMessagesUpToTheLimitAndRejectsOneMoreAsOpenAiDoes) {
  ASSERT_TRUE(Parse(WithMessages(2048))) << "OpenAI's own limit";
  auto over = Parse(WithMessages(2049));
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().status, boost::beast::http::status::bad_request);
  EXPECT_EQ(over.error().type, "invalid_request_error");
  EXPECT_EQ(over.error().code, "array_above_max_length");
  EXPECT_EQ(over.error().param, "messages");
  EXPECT_EQ(over.error().message,
            "Invalid 'messages': array too long. Expected an array with maximum length 2048, but "
            "got an array with length 2049 instead.");
  body_ = WithMessages(3);
  ReservePadding(body_);
  EXPECT_TRUE(ParseRequest(body_, {.max_messages = 3, .max_depth = 128}));
  body_ = WithMessages(4);
  ReservePadding(body_);
  auto small = ParseRequest(body_, {.max_messages = 3, .max_depth = 128});
  ASSERT_FALSE(small);
  EXPECT_NE(small.error().message.find("maximum length 3, but got an array with length 4"),
            std::string::npos);
}

TEST_F(RequestLimitsTest, CountsOnlyTheTopLevelMessagesArray) {
  const RequestLimits one{.max_messages = 1, .max_depth = 128};
  for (const char* body : {
           R"({"model":"m","messages":[{"role":"user","content":"a"}]})",
           R"({"model":"m","messages":[],"extra":{"messages":[1,2,3]}})",  // nested: not counted
           R"({"model":"m","messages":"two, three"})",  // not an array: the upstream says so
           R"({"model":"m","prompt":["a","b","c"]})",
       }) {
    body_ = body;
    ReservePadding(body_);
    EXPECT_TRUE(ParseRequest(body_, one)) << body;
  }
  // Each of two `messages` keys is bounded (upstreams differ on which one they read).
  body_ = R"({"model":"m","messages":[1,2],"messages":[1]})";
  ReservePadding(body_);
  auto twice = ParseRequest(body_, one);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, "array_above_max_length");
}

TEST_F(RequestLimitsTest, BoundsTheDepthInsideSkippedFieldsAtTheLimitAndOnePast) {
  ASSERT_TRUE(Parse(NestedBody(128)));
  auto over = Parse(NestedBody(129));
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().status, boost::beast::http::status::bad_request);
  EXPECT_EQ(over.error().type, "invalid_request_error");
  EXPECT_EQ(over.error().code, "json_too_deep");
  EXPECT_EQ(over.error().param, "");
  EXPECT_NE(over.error().message.find("more than 128 levels deep"), std::string::npos);
  EXPECT_FALSE(Parse(NestedBody(200))) << "simdjson alone accepts this";
  body_ = NestedBody(5);
  ReservePadding(body_);
  EXPECT_TRUE(ParseRequest(body_, {.max_messages = 2048, .max_depth = 5}));
  EXPECT_FALSE(ParseRequest(body_, {.max_messages = 2048, .max_depth = 4}));
}

TEST_F(RequestLimitsTest, CountsObjectsAndArraysAlike) {
  const RequestLimits three{.max_messages = 2048, .max_depth = 3};
  body_ = R"({"model":"m","a":{"b":[1,{}]}})";  // 4 deep
  ReservePadding(body_);
  EXPECT_FALSE(ParseRequest(body_, three));
  body_ = R"({"model":"m","a":{"b":[1,2]},"c":[{},[],{"d":0}]})";  // 3 deep, twice
  ReservePadding(body_);
  EXPECT_TRUE(ParseRequest(body_, three));
}

TEST_F(RequestLimitsTest, IgnoresBracketsInStringsAndEscapedQuotes) {
  const RequestLimits two{.max_messages = 2048, .max_depth = 2};
  // Brackets in strings, an escaped quote (which does not end the string), an escaped
  // backslash before the real end, and keys with brackets: all one level deep.
  body_ = R"({"model":"m","code":"if (a[i]) { b[[c]] = {}; } \"[[[{{{\" \\","[[{":"x\\\"]]]"})";
  ReservePadding(body_);
  auto parsed = ParseRequest(body_, {.max_messages = 2048, .max_depth = 1});
  EXPECT_TRUE(parsed) << parsed.error().message;
  // An escaped backslash ends in a real quote: the brackets after it count.
  body_ = R"({"model":"m","a":"x\\","b":[[1]]})";
  ReservePadding(body_);
  EXPECT_FALSE(ParseRequest(body_, two));
  // A long prompt whose brackets sit far past the first 64 bytes, then real nesting.
  body_ = R"({"model":"m","messages":[{"role":"user","content":")" + std::string(300, 'x') +
          R"(\"{[{[{[\\\"]]]]}}}}\\)" + std::string(200, ' ') + R"("}],"n":1})";
  ReservePadding(body_);
  parsed = ParseRequest(body_, {.max_messages = 2048, .max_depth = 3});
  EXPECT_TRUE(parsed) << parsed.error().message;
  EXPECT_FALSE(ParseRequest(body_, two));
}

TEST_F(RequestLimitsTest, ChecksDepthBeforeParsing) {
  // Too deep and malformed: the cheap check answers first.
  body_ = R"({"model":"m","x":)" + std::string(1000, '[');
  ReservePadding(body_);
  auto r = ParseRequest(body_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "json_too_deep");
}

// The byte-at-a-time reference for NestingWithin: a backslash escapes the next byte, strings
// hide brackets, a closer at depth 0 is ignored.
bool ReferenceWithin(std::string_view text, std::size_t max_depth) {
  std::size_t depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (escaped) {
      escaped = false;
    } else if (c == '\\') {
      escaped = true;
    } else if (c == '"') {
      in_string = !in_string;
    } else if (!in_string && (c == '[' || c == '{')) {
      if (++depth > max_depth) return false;
    } else if (!in_string && (c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return true;
}

TEST(NestingWithinTest, AnswersForEdgeCases) {
  EXPECT_TRUE(NestingWithin("", 0));
  EXPECT_TRUE(NestingWithin("42", 0));
  EXPECT_FALSE(NestingWithin("{}", 0));
  EXPECT_TRUE(NestingWithin("{}", 1));
  EXPECT_TRUE(NestingWithin("]]]]}}}}[]", 1)) << "stray closers are ignored";
  EXPECT_TRUE(NestingWithin(R"(["[[[[)", 1)) << "an unterminated string runs to the end";
  EXPECT_TRUE(NestingWithin(R"(\[\[\{)", 0)) << "escaped brackets outside strings";
  EXPECT_FALSE(NestingWithin(std::string(64, ' ') + "[[", 1)) << "in the second block";
  EXPECT_FALSE(NestingWithin(std::string(63, ' ') + "[[", 1)) << "across the block boundary";
}

// Every scanner this CPU runs (AVX-512, AVX2, the portable loop) agrees with the reference on
// text built to cross 64-byte blocks in every way: long strings (memchr), backslash runs over a
// boundary, deep runs.
TEST(NestingWithinTest, AgreesWithTheReferenceOnRandomText) {
  const std::vector<NestingScanner> scanners = NestingScanners();
  ASSERT_EQ(scanners.back().name, "portable");
  std::mt19937 random(20240601);
  constexpr std::string_view kAlphabet = "\"\\[]{}a ,:";
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    const int pieces = static_cast<int>(random() % 12);
    for (int piece = 0; piece < pieces; ++piece) {
      const std::size_t length = random() % 90;
      switch (random() % 5) {
        case 0:
          text.append(length, 'x');
          break;
        case 1:
          text.append(length % 40, '\\');
          break;
        case 2:
          text.append(length % 70, random() % 2 ? '[' : '{');
          break;
        case 3:
          text.append(length % 70, random() % 2 ? ']' : '}');
          break;
        default:
          for (std::size_t i = 0; i < length; ++i) text += kAlphabet[random() % kAlphabet.size()];
      }
    }
    // An exactly sized heap copy, so that a sanitizer build sees any read past the end.
    const std::vector<char> exact(text.begin(), text.end());
    const std::string_view view(exact.data(), exact.size());
    for (std::size_t max_depth : {0, 1, 2, 5, 30, 64, 100}) {
      const bool expected = ReferenceWithin(text, max_depth);
      ASSERT_EQ(NestingWithin(view, max_depth), expected) << max_depth << ": " << text;
      for (const NestingScanner& scanner : scanners)
        ASSERT_EQ(scanner.within(view.data(), view.size(), max_depth), expected)
            << scanner.name << ", " << max_depth << ": " << text;
    }
  }
}

}  // namespace
}  // namespace switchyard::openai
