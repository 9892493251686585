#include "classifiers/chat_request.h"

#include <gtest/gtest.h>

#include <string>

#include "classifiers/chat_request_json.h"

namespace switchyard::classifiers {
namespace {

class ChatRequestTest : public ::testing::Test {
 protected:
  Status Parse(std::string body) { return ParseChatRequest(body, &request_); }
  ChatRequest request_;
};

TEST_F(ChatRequestTest, ReadsMessagesToolsResponseFormatAndMaxTokens) {
  ASSERT_TRUE(Parse(R"({"model":"auto","stream":true,"max_tokens":512,
      "messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi \"you\""}],
      "tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b"}}],
      "response_format":{"type":"json_schema","json_schema":{"name":"x"}}})")
                  .ok());
  EXPECT_EQ(request_.model, "auto");
  ASSERT_EQ(request_.messages.size(), 2u);
  EXPECT_EQ(request_.messages[0].role, "system");
  EXPECT_EQ(request_.messages[1].content, "Hi \"you\"");
  EXPECT_EQ(request_.tool_count, 2);
  EXPECT_TRUE(request_.has_tools());
  EXPECT_TRUE(request_.has_response_format_json_schema);
  EXPECT_FALSE(request_.has_response_format_json_object);
  EXPECT_EQ(request_.max_tokens, 512);
  EXPECT_TRUE(request_.stream);
}

// The proxy reads a body's fields first, then hands the same parse to the classifier.
TEST_F(ChatRequestTest, ReadsAParseAnotherReaderHasWalkedAsIfFresh) {
  std::string body = R"({"stream":false,"messages":[{"role":"user","content":[
      {"type":"text","text":"a\u00e9b"},{"type":"image_url","image_url":{"url":"http://x"}}]},
      {"role":"assistant","content":null,"tool_calls":[{"id":"1"}]}],"model":"auto",
      "max_completion_tokens":77,"functions":[{"name":"f"}]})";
  ChatRequest fresh;
  ASSERT_TRUE(ParseChatRequest(body, &fresh).ok());
  body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  ASSERT_FALSE(parser.iterate(body.data(), body.size(), body.capacity()).get(doc));
  for (auto field : doc.get_object()) {  // walked to the end, as the proxy's parse does
    std::string_view key;
    ASSERT_FALSE(field.unescaped_key().get(key));
  }
  ChatRequest shared;
  ASSERT_TRUE(ReadChatRequest(doc, &shared).ok());
  ASSERT_EQ(shared.messages.size(), 2u);
  EXPECT_EQ(shared.messages[0].content, fresh.messages[0].content);
  EXPECT_EQ(shared.messages[0].content, "a\xc3\xa9" "b");  // the escape, unescaped
  EXPECT_EQ(shared.messages[0].image_parts, 1);
  EXPECT_TRUE(shared.messages[1].has_tool_calls);
  EXPECT_EQ(shared.model, "auto");
  EXPECT_EQ(shared.max_tokens, 77);
  EXPECT_EQ(shared.tool_count, 1);
  // Read twice: each read rewinds.
  ChatRequest again;
  ASSERT_TRUE(ReadChatRequest(doc, &again).ok());
  EXPECT_EQ(again.messages.size(), 2u);
}

TEST_F(ChatRequestTest, JoinsTextPartsAndCountsOtherParts) {
  ASSERT_TRUE(Parse(R"({"messages":[{"role":"user","content":[
      {"type":"text","text":"first"},{"type":"image_url","image_url":{"url":"http://x"}},
      {"text":"second","type":"text"}]}]})")
                  .ok());
  ASSERT_EQ(request_.messages.size(), 1u);
  EXPECT_EQ(request_.messages[0].content, "first\nsecond");
  EXPECT_EQ(request_.messages[0].image_parts, 1);
}

TEST_F(ChatRequestTest, MaxCompletionTokensCountsAsMaxTokensAndNullContentIsEmpty) {
  ASSERT_TRUE(Parse(R"({"max_completion_tokens":77,"messages":[{"role":"assistant","content":null,
      "tool_calls":[{"id":"1"}]},{"role":"tool","content":"42"}]})")
                  .ok());
  EXPECT_EQ(request_.max_tokens, 77);
  EXPECT_EQ(request_.messages[0].content, "");
  EXPECT_TRUE(request_.messages[0].has_tool_calls);
  EXPECT_EQ(request_.messages[1].role, "tool");
}

TEST_F(ChatRequestTest, InvalidBodiesAreErrorsNotCrashes) {
  EXPECT_FALSE(Parse("not json").ok());
  EXPECT_FALSE(Parse("[1,2]").ok());
  EXPECT_FALSE(Parse(R"({"model":"auto"})").ok());
  EXPECT_FALSE(Parse(R"({"messages":[{"role":"user","content":"x"})").ok());
  EXPECT_FALSE(Parse(R"({"messages":"nope"})").ok());
  Status s = Parse(R"({"model":"auto"})");
  EXPECT_NE(s.message().find("messages"), std::string::npos) << s.message();
}

TEST_F(ChatRequestTest, RefusesABufferWithoutPadding) {
  const std::string body = R"({"messages":[]})";
  Status s = ParseChatRequest(body.data(), body.size(), body.size(), &request_);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("PADDING"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace switchyard::classifiers
