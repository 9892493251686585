#include "classifiers/chat_request.h"

#include <gtest/gtest.h>

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
