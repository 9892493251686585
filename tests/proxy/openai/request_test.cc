#include "proxy/openai/request.h"

#include <gtest/gtest.h>

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
