// MockUpstream over real sockets (port 0) with a Beast client: OpenAI response shapes,
// streaming order, fault injection, keep-alive, recording, TLS and Stop().
#include "bench/mock_upstream.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <simdjson.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace switchyard::mock {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kChatBody =
    R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello there"}]})";

struct Reply {
  boost::system::error_code ec;
  http::response<http::string_body> res;       // partial when ec is set
  std::vector<Clock::time_point> chunk_times;  // arrival of each complete SSE event
  Clock::time_point header_time;
};

http::request<http::string_body> MakeRequest(http::verb method, std::string_view target,
                                             std::string_view body, const Headers& headers) {
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) req.set(name, value);
  if (method == http::verb::post) {
    req.set(http::field::content_type, "application/json");
    req.body() = std::string(body);
    req.prepare_payload();
  }
  return req;
}

// Runs `ioc` until the pending operations finish (their own deadlines bound it).
void RunAll(asio::io_context& ioc) {
  ioc.restart();
  ioc.run();
}

// One client connection; plain or TLS. Every operation is bounded by `timeout`.
template <typename Stream>
Reply Exchange(asio::io_context& ioc, Stream& stream, beast::flat_buffer& buffer,
               const http::request<http::string_body>& req, Ms timeout) {
  Reply reply;
  beast::get_lowest_layer(stream).expires_after(timeout);
  http::async_write(stream, req, [&](boost::system::error_code ec, std::size_t) { reply.ec = ec; });
  RunAll(ioc);
  if (reply.ec) return reply;
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);
  std::string body;
  auto on_chunk = [&](std::uint64_t, std::string_view data, boost::system::error_code&) {
    body.append(data);
    if (body.ends_with("\n\n")) reply.chunk_times.push_back(Clock::now());  // an event ended
    return data.size();
  };
  parser.on_chunk_body(on_chunk);
  beast::get_lowest_layer(stream).expires_after(timeout);
  http::async_read_header(stream, buffer, parser,
                          [&](boost::system::error_code ec, std::size_t) { reply.ec = ec; });
  RunAll(ioc);
  reply.header_time = Clock::now();
  if (!reply.ec && !parser.is_done()) {
    http::async_read(stream, buffer, parser,
                     [&](boost::system::error_code ec, std::size_t) { reply.ec = ec; });
    RunAll(ioc);
  }
  reply.res = parser.release();
  if (reply.res.chunked()) reply.res.body() = std::move(body);
  return reply;
}

class Client {
 public:
  Client(asio::io_context& ioc, uint16_t port) : ioc_(ioc), stream_(ioc) {
    stream_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  Reply Send(http::verb method, std::string_view target, std::string_view body = "",
             const Headers& headers = {}, Ms timeout = Ms(5000)) {
    return Exchange(ioc_, stream_, buffer_, MakeRequest(method, target, body, headers), timeout);
  }
  Reply Post(std::string_view target, std::string_view body, const Headers& headers = {},
             Ms timeout = Ms(5000)) {
    return Send(http::verb::post, target, body, headers, timeout);
  }
  // Reads once more: returns the error the connection ends with (eof, reset, timeout).
  boost::system::error_code ReadEnd(Ms timeout = Ms(5000)) {
    boost::system::error_code result;
    stream_.expires_after(timeout);
    stream_.async_read_some(buffer_.prepare(1024),
                            [&](boost::system::error_code ec, std::size_t) { result = ec; });
    RunAll(ioc_);
    return result;
  }

 private:
  asio::io_context& ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

std::vector<std::string> SseData(const std::string& body) {
  std::vector<std::string> events;
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t end = body.find("\n\n", pos);
    if (end == std::string::npos) end = body.size();
    std::string event = body.substr(pos, end - pos);
    if (event.rfind("data: ", 0) == 0) events.push_back(event.substr(6));
    pos = end + 2;
  }
  return events;
}

class MockUpstreamTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(MockOptions{}); }
  void TearDown() override { mock_->Stop(); }

  void Start(MockOptions options) {
    if (mock_) mock_->Stop();
    mock_ = std::make_unique<MockUpstream>(std::move(options));
    mock_->Start();
  }
  Client Connect() { return Client(ioc_, mock_->port()); }
  Reply Post(std::string_view target, std::string_view body, const Headers& headers = {}) {
    Client client = Connect();
    return client.Post(target, body, headers);
  }

  simdjson::dom::element Parse(const std::string& json) {
    return parser_.parse(json);  // throws simdjson_error on invalid JSON
  }

  asio::io_context ioc_;
  std::unique_ptr<MockUpstream> mock_;
  simdjson::dom::parser parser_;
};

TEST_F(MockUpstreamTest, ChatCompletionHasOpenAIShapeAndUsage) {
  Reply r = Post("/v1/chat/completions", kChatBody);
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.res.result_int(), 200);
  EXPECT_EQ(r.res[http::field::content_type], "application/json");
  EXPECT_FALSE(r.res[http::field::content_length].empty());
  auto doc = Parse(r.res.body());
  EXPECT_EQ(std::string_view(doc["id"]).rfind("chatcmpl-", 0), 0u);
  EXPECT_EQ(std::string_view(doc["object"]), "chat.completion");
  EXPECT_GT(int64_t(doc["created"]), 1'600'000'000);
  EXPECT_EQ(std::string_view(doc["model"]), "gpt-4o-mini");
  auto choice = doc["choices"].at(0);
  EXPECT_EQ(int64_t(choice["index"]), 0);
  EXPECT_EQ(std::string_view(choice["message"]["role"]), "assistant");
  std::string_view content = choice["message"]["content"];
  EXPECT_EQ(content.substr(0, 8), "The mock");
  EXPECT_EQ(std::string_view(choice["finish_reason"]), "stop");
  auto usage = doc["usage"];
  EXPECT_EQ(int64_t(usage["prompt_tokens"]), static_cast<int64_t>(kChatBody.size() / 4));
  EXPECT_EQ(int64_t(usage["completion_tokens"]), 16);
  EXPECT_EQ(int64_t(usage["total_tokens"]), int64_t(usage["prompt_tokens"]) + 16);
  EXPECT_EQ(int64_t(usage["prompt_tokens_details"]["cached_tokens"]), 0);
  EXPECT_EQ(int64_t(usage["completion_tokens_details"]["reasoning_tokens"]), 0);
  // completion_tokens counts the words of the content.
  EXPECT_EQ(std::count(content.begin(), content.end(), ' '), 15);
}

TEST_F(MockUpstreamTest, EchoesTheRequestModelJsonEscaped) {
  Reply r = Post("/v1/chat/completions", R"({"model":"we\"ird\\model","messages":[]})");
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(std::string_view(Parse(r.res.body())["model"]), "we\"ird\\model");
}

TEST_F(MockUpstreamTest, MaxTokensCutsTheCompletionWithFinishReasonLength) {
  for (std::string_view field : {"max_tokens", "max_completion_tokens"}) {
    std::string body =
        std::string(R"({"model":"m","messages":[],")") + std::string(field) + R"(":3})";
    Reply r = Post("/v1/chat/completions", body);
    ASSERT_FALSE(r.ec);
    auto doc = Parse(r.res.body());
    EXPECT_EQ(std::string_view(doc["choices"].at(0)["finish_reason"]), "length") << field;
    EXPECT_EQ(std::string_view(doc["choices"].at(0)["message"]["content"]), "The mock upstream");
    EXPECT_EQ(int64_t(doc["usage"]["completion_tokens"]), 3);
  }
  // A max_tokens at or above the natural length leaves finish_reason "stop".
  Reply r = Post("/v1/chat/completions", R"({"model":"m","messages":[],"max_tokens":16})");
  EXPECT_EQ(std::string_view(Parse(r.res.body())["choices"].at(0)["finish_reason"]), "stop");
}

TEST_F(MockUpstreamTest, MockTokensHeaderSetsTheCompletionLength) {
  Reply r = Post("/v1/chat/completions", kChatBody, {{"x-mock-tokens", "40"}});
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(int64_t(Parse(r.res.body())["usage"]["completion_tokens"]), 40);
}

TEST_F(MockUpstreamTest, StreamsRoleContentFinishUsageThenDone) {
  Reply r = Post("/v1/chat/completions",
                 R"({"model":"gpt-4o","messages":[],"stream":true,)"
                 R"("stream_options":{"include_usage":true}})",
                 {{"x-mock-tokens", "3"}});
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.res.result_int(), 200);
  EXPECT_EQ(r.res[http::field::content_type], "text/event-stream");
  EXPECT_TRUE(r.res.chunked());
  std::vector<std::string> events = SseData(r.res.body());
  ASSERT_EQ(events.size(), 1u + 3u + 1u + 1u + 1u);  // role, 3 content, finish, usage, DONE
  EXPECT_EQ(events.back(), "[DONE]");
  std::string content;
  std::string id;
  for (std::size_t i = 0; i + 1 < events.size(); ++i) {
    auto chunk = Parse(events[i]);
    EXPECT_EQ(std::string_view(chunk["object"]), "chat.completion.chunk");
    EXPECT_EQ(std::string_view(chunk["model"]), "gpt-4o");
    if (i == 0) id = std::string(std::string_view(chunk["id"]));
    EXPECT_EQ(std::string_view(chunk["id"]), id);
    auto choices = simdjson::dom::array(chunk["choices"]);
    if (i + 2 < events.size()) {
      EXPECT_TRUE(chunk["usage"].is_null()) << events[i];
      ASSERT_EQ(choices.size(), 1u);
    }
    if (i == 0) {
      EXPECT_EQ(std::string_view(choices.at(0)["delta"]["role"]), "assistant");
      EXPECT_EQ(std::string_view(choices.at(0)["delta"]["content"]), "");
    } else if (i <= 3) {
      EXPECT_TRUE(choices.at(0)["finish_reason"].is_null());
      content += std::string_view(choices.at(0)["delta"]["content"]);
    } else if (i == 4) {
      EXPECT_EQ(std::string_view(choices.at(0)["finish_reason"]), "stop");
      EXPECT_EQ(simdjson::dom::object(choices.at(0)["delta"]).size(), 0u);
    } else {
      EXPECT_EQ(choices.size(), 0u);
      EXPECT_EQ(int64_t(chunk["usage"]["completion_tokens"]), 3);
      EXPECT_GE(int64_t(chunk["usage"]["prompt_tokens"]), 1);
    }
  }
  EXPECT_EQ(content, "The mock upstream");
}

TEST_F(MockUpstreamTest, StreamOmitsUsageWithoutIncludeUsage) {
  Reply r = Post("/v1/chat/completions", R"({"model":"m","messages":[],"stream":true})",
                 {{"x-mock-tokens", "2"}});
  ASSERT_FALSE(r.ec);
  std::vector<std::string> events = SseData(r.res.body());
  ASSERT_EQ(events.size(), 5u);  // role, 2 content, finish, DONE
  for (std::size_t i = 0; i + 1 < events.size(); ++i) {
    EXPECT_EQ(events[i].find("usage"), std::string::npos) << events[i];
  }
  EXPECT_EQ(std::string_view(Parse(events[3])["choices"].at(0)["finish_reason"]), "stop");
}

TEST_F(MockUpstreamTest, StreamHonoursTtfbBeforeTheFirstEventAndGapBetweenEvents) {
  Client client = Connect();
  Clock::time_point start = Clock::now();
  Reply r =
      client.Post("/v1/chat/completions", R"({"model":"m","messages":[],"stream":true})",
                  {{"x-mock-ttfb-ms", "300"}, {"x-mock-gap-ms", "60"}, {"x-mock-tokens", "2"}});
  ASSERT_FALSE(r.ec) << r.ec.message();
  // Headers are sent at once, event i no earlier than ttfb + i * gap after the request.
  EXPECT_LT(r.header_time - start, Ms(250));
  ASSERT_EQ(r.chunk_times.size(), 5u);  // role, 2 content, finish, [DONE]
  for (std::size_t i = 0; i < r.chunk_times.size(); ++i) {
    EXPECT_GE(r.chunk_times[i] - start, Ms(300 + 60 * static_cast<int>(i))) << i;
  }
}

TEST_F(MockUpstreamTest, LatencyHeaderDelaysTheResponse) {
  Clock::time_point start = Clock::now();
  Reply r = Post("/v1/chat/completions", kChatBody, {{"x-mock-latency-ms", "150"}});
  ASSERT_FALSE(r.ec);
  EXPECT_GE(Clock::now() - start, Ms(150));
}

TEST_F(MockUpstreamTest, TextCompletionsServeTextCompletionObjects) {
  Reply r = Post("/v1/completions", R"({"model":"davinci","prompt":"Say","max_tokens":2})");
  ASSERT_FALSE(r.ec);
  auto doc = Parse(r.res.body());
  EXPECT_EQ(std::string_view(doc["object"]), "text_completion");
  EXPECT_EQ(std::string_view(doc["id"]).rfind("cmpl-", 0), 0u);
  EXPECT_EQ(std::string_view(doc["choices"].at(0)["text"]), "The mock");
  EXPECT_EQ(std::string_view(doc["choices"].at(0)["finish_reason"]), "length");
  EXPECT_EQ(int64_t(doc["usage"]["completion_tokens"]), 2);

  r = Post(
      "/v1/completions",
      R"({"model":"davinci","prompt":"Say","stream":true,"stream_options":{"include_usage":true}})",
      {{"x-mock-tokens", "2"}});
  ASSERT_FALSE(r.ec);
  std::vector<std::string> events = SseData(r.res.body());
  ASSERT_EQ(events.size(), 5u);  // 2 text, finish, usage, DONE
  EXPECT_EQ(std::string_view(Parse(events[1])["choices"].at(0)["text"]), " mock");
  EXPECT_EQ(std::string_view(Parse(events[2])["choices"].at(0)["finish_reason"]), "stop");
  EXPECT_EQ(int64_t(Parse(events[3])["usage"]["completion_tokens"]), 2);
  EXPECT_EQ(events[4], "[DONE]");
}

TEST_F(MockUpstreamTest, EmbeddingsReturnFloatArraysOfTheRequestedDimension) {
  Reply r = Post("/v1/embeddings", R"({"model":"text-embedding-3-small","input":"hello world"})");
  ASSERT_FALSE(r.ec);
  auto doc = Parse(r.res.body());
  EXPECT_EQ(std::string_view(doc["object"]), "list");
  EXPECT_EQ(std::string_view(doc["model"]), "text-embedding-3-small");
  EXPECT_EQ(std::string_view(doc["data"].at(0)["object"]), "embedding");
  EXPECT_EQ(simdjson::dom::array(doc["data"].at(0)["embedding"]).size(), 8u);
  EXPECT_EQ(int64_t(doc["usage"]["prompt_tokens"]), 2);  // 11 bytes / 4
  EXPECT_EQ(int64_t(doc["usage"]["total_tokens"]), 2);

  r = Post("/v1/embeddings", R"({"model":"e","input":["a","b","a"],"dimensions":3})");
  ASSERT_FALSE(r.ec);
  doc = Parse(r.res.body());
  auto data = simdjson::dom::array(doc["data"]);
  ASSERT_EQ(data.size(), 3u);
  EXPECT_EQ(int64_t(data.at(2)["index"]), 2);
  EXPECT_EQ(simdjson::dom::array(data.at(0)["embedding"]).size(), 3u);
  // Deterministic: the same input gives the same vector; a unit vector.
  EXPECT_EQ(simdjson::to_string(data.at(0)["embedding"]),
            simdjson::to_string(data.at(2)["embedding"]));
  EXPECT_NE(simdjson::to_string(data.at(0)["embedding"]),
            simdjson::to_string(data.at(1)["embedding"]));
  double norm = 0;
  for (double v : simdjson::dom::array(data.at(1)["embedding"])) norm += v * v;
  EXPECT_NEAR(norm, 1.0, 1e-4);
}

TEST_F(MockUpstreamTest, EmbeddingsBase64IsLittleEndianFloat32OfTheSameVector) {
  Reply floats = Post("/v1/embeddings", R"({"model":"e","input":"abc"})");
  Reply b64 = Post("/v1/embeddings", R"({"model":"e","input":"abc","encoding_format":"base64"})");
  ASSERT_FALSE(floats.ec);
  ASSERT_FALSE(b64.ec);
  std::vector<double> expected;
  for (double v : simdjson::dom::array(Parse(floats.res.body())["data"].at(0)["embedding"])) {
    expected.push_back(v);
  }
  std::string encoded(std::string_view(Parse(b64.res.body())["data"].at(0)["embedding"]));
  ASSERT_EQ(encoded.size(), 44u);  // 32 bytes
  unsigned char raw[64];
  int n = EVP_DecodeBlock(raw, reinterpret_cast<const unsigned char*>(encoded.data()),
                          static_cast<int>(encoded.size()));
  ASSERT_GE(n, 32);  // EVP_DecodeBlock counts the padding
  ASSERT_EQ(expected.size(), 8u);
  for (std::size_t i = 0; i < 8; ++i) {
    uint32_t bits = raw[4 * i] | (raw[4 * i + 1] << 8) | (raw[4 * i + 2] << 16) |
                    (uint32_t(raw[4 * i + 3]) << 24);
    float f;
    std::memcpy(&f, &bits, 4);
    EXPECT_FLOAT_EQ(f, static_cast<float>(expected[i])) << i;
  }
}

TEST_F(MockUpstreamTest, ListsModelsAndRetrievesOneById) {
  Client client = Connect();
  Reply r = client.Send(http::verb::get, "/v1/models");
  ASSERT_FALSE(r.ec);
  auto doc = Parse(r.res.body());
  EXPECT_EQ(std::string_view(doc["object"]), "list");
  auto data = simdjson::dom::array(doc["data"]);
  EXPECT_GE(data.size(), 3u);
  EXPECT_EQ(std::string_view(data.at(0)["object"]), "model");
  std::string id(std::string_view(data.at(0)["id"]));

  r = client.Send(http::verb::get, "/v1/models/" + id);
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.result_int(), 200);
  EXPECT_EQ(std::string_view(Parse(r.res.body())["id"]), id);

  r = client.Send(http::verb::get, "/v1/models/no-such-model");
  EXPECT_EQ(r.res.result_int(), 404);
  EXPECT_EQ(std::string_view(Parse(r.res.body())["error"]["code"]), "model_not_found");
}

TEST_F(MockUpstreamTest, UnknownPathIs404WithAnOpenAIError) {
  Reply r = Post("/v1/nope", "{}");
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.result_int(), 404);
  auto error = Parse(r.res.body())["error"];
  EXPECT_EQ(std::string_view(error["message"]), "Invalid URL (POST /v1/nope)");
  EXPECT_EQ(std::string_view(error["type"]), "invalid_request_error");
  EXPECT_TRUE(error["param"].is_null());
  EXPECT_EQ(std::string_view(error["code"]), "not_found");
}

TEST_F(MockUpstreamTest, BadJsonIs400WithAnOpenAIError) {
  for (std::string_view body : {R"({"model": )", "not json", "", "[1,2]"}) {
    Reply r = Post("/v1/chat/completions", body);
    ASSERT_FALSE(r.ec);
    EXPECT_EQ(r.res.result_int(), 400) << body;
    auto error = Parse(r.res.body())["error"];
    EXPECT_EQ(std::string_view(error["type"]), "invalid_request_error");
    EXPECT_FALSE(std::string_view(error["message"]).empty());
    EXPECT_TRUE(error["param"].is_null());
    EXPECT_TRUE(error["code"].is_null());
  }
}

TEST_F(MockUpstreamTest, MissingRequiredParameterIs400NamingIt) {
  Reply r = Post("/v1/chat/completions", R"({"model":"m"})");
  EXPECT_EQ(r.res.result_int(), 400);
  auto error = Parse(r.res.body())["error"];
  EXPECT_EQ(std::string_view(error["param"]), "messages");
  EXPECT_EQ(std::string_view(error["code"]), "missing_required_parameter");
}

TEST_F(MockUpstreamTest, MockStatusHeaderRespondsWithThatStatusAndAnOpenAIError) {
  Reply r = Post("/v1/chat/completions", kChatBody, {{"x-mock-status", "503"}});
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.result_int(), 503);
  EXPECT_EQ(std::string_view(Parse(r.res.body())["error"]["type"]), "server_error");

  r = Post("/v1/chat/completions", kChatBody, {{"x-mock-status", "429"}});
  EXPECT_EQ(r.res.result_int(), 429);
  EXPECT_EQ(r.res["retry-after"], "1");
  EXPECT_EQ(std::string_view(Parse(r.res.body())["error"]["code"]), "rate_limit_exceeded");
}

TEST_F(MockUpstreamTest, ResetBeforeClosesTheConnectionWithoutAResponse) {
  Reply r = Post("/v1/chat/completions", kChatBody, {{"x-mock-fault", "reset-before"}});
  EXPECT_TRUE(r.ec);
  EXPECT_NE(r.ec, beast::error::timeout);
  EXPECT_EQ(r.res.result_int(), 200);  // the parser's default: nothing was received
  EXPECT_TRUE(r.res.body().empty());
  EXPECT_EQ(mock_->requests_served(), 1u);
}

TEST_F(MockUpstreamTest, ResetMidSendsSomeEventsThenResets) {
  Reply r = Post("/v1/chat/completions", R"({"model":"m","messages":[],"stream":true})",
                 {{"x-mock-fault", "reset-mid"}, {"x-mock-tokens", "8"}});
  ASSERT_TRUE(r.ec);
  EXPECT_NE(r.ec, beast::error::timeout);
  std::vector<std::string> events = SseData(r.res.body());
  EXPECT_EQ(events.size(), 5u);  // role + 4 of 8 content chunks
  EXPECT_EQ(r.res.body().find("[DONE]"), std::string::npos);
}

TEST_F(MockUpstreamTest, StallMidSendsSomeEventsThenGoesSilent) {
  Client client = Connect();
  Reply r = client.Post("/v1/chat/completions", R"({"model":"m","messages":[],"stream":true})",
                        {{"x-mock-fault", "stall-mid"}, {"x-mock-tokens", "4"}}, Ms(300));
  EXPECT_EQ(r.ec, beast::error::timeout);
  EXPECT_EQ(SseData(r.res.body()).size(), 3u);  // role + 2 of 4
}

TEST_F(MockUpstreamTest, TruncateEndsTheStreamWithoutFinishChunkOrDone) {
  Reply r =
      Post("/v1/chat/completions",
           R"({"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":true}})",
           {{"x-mock-fault", "truncate"}, {"x-mock-tokens", "3"}});
  ASSERT_FALSE(r.ec);  // the HTTP message itself is complete
  std::vector<std::string> events = SseData(r.res.body());
  ASSERT_EQ(events.size(), 4u);  // role + 3 content
  for (const std::string& e : events) {
    EXPECT_TRUE(Parse(e)["choices"].at(0)["finish_reason"].is_null());
  }
}

TEST_F(MockUpstreamTest, NoUsageFaultOmitsUsageEverywhere) {
  Reply r = Post("/v1/chat/completions", kChatBody, {{"x-mock-fault", "no-usage"}});
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.body().find("usage"), std::string::npos);
  Parse(r.res.body());
  r = Post("/v1/chat/completions",
           R"({"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":true}})",
           {{"x-mock-fault", "no-usage"}});
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.body().find("usage"), std::string::npos);
  EXPECT_EQ(SseData(r.res.body()).back(), "[DONE]");
}

TEST_F(MockUpstreamTest, MalformedFaultReturns200WithInvalidJson) {
  Reply r = Post("/v1/chat/completions", kChatBody, {{"x-mock-fault", "malformed"}});
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.result_int(), 200);
  EXPECT_THROW(Parse(r.res.body()), simdjson::simdjson_error);
}

TEST_F(MockUpstreamTest, RandomFaultsHitAboutTheirShareOfRequestsThatAskForNone) {
  MockOptions options;
  options.random_faults = {{0.25, 503, ""}, {0.25, 0, "no-usage"}};
  Start(options);
  Client client = Connect();
  int errors = 0, no_usage = 0;
  for (int i = 0; i < 400; ++i) {
    Reply r = client.Post("/v1/chat/completions", kChatBody);
    ASSERT_FALSE(r.ec);
    if (r.res.result_int() == 503)
      ++errors;
    else if (r.res.body().find("usage") == std::string::npos)
      ++no_usage;
  }
  EXPECT_GT(errors, 60);  // 100 expected
  EXPECT_LT(errors, 140);
  EXPECT_GT(no_usage, 60);
  EXPECT_LT(no_usage, 140);
  EXPECT_EQ(mock_->faults_injected(), static_cast<uint64_t>(errors + no_usage));
  // A request that asks for its own status or fault, and a GET, get nothing more.
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(
        client.Post("/v1/chat/completions", kChatBody, {{"x-mock-status", "429"}}).res.result_int(),
        429);
    EXPECT_EQ(client.Send(http::verb::get, "/v1/models").res.result_int(), 200);
  }
  EXPECT_EQ(mock_->faults_injected(), static_cast<uint64_t>(errors + no_usage));
}

TEST_F(MockUpstreamTest, StallBeforeHoldsTheConnectionAndStopStillReturnsPromptly) {
  Client client = Connect();
  Reply r =
      client.Post("/v1/chat/completions", kChatBody, {{"x-mock-fault", "stall-before"}}, Ms(200));
  EXPECT_EQ(r.ec, beast::error::timeout);
  EXPECT_EQ(mock_->requests_served(), 1u);
  Client idle = Connect();  // a second, idle keep-alive connection
  Clock::time_point start = Clock::now();
  mock_->Stop();
  EXPECT_LT(Clock::now() - start, Ms(1000));
  EXPECT_EQ(mock_->open_connections(), 0);
  boost::system::error_code end = idle.ReadEnd();
  EXPECT_TRUE(end == asio::error::eof || end == asio::error::connection_reset) << end.message();
}

TEST_F(MockUpstreamTest, KeepAliveServesTwoRequestsOnOneConnection) {
  Client client = Connect();
  Reply first = client.Post("/v1/chat/completions", kChatBody);
  Reply second = client.Send(http::verb::get, "/v1/models");
  ASSERT_FALSE(first.ec);
  ASSERT_FALSE(second.ec);
  EXPECT_EQ(first.res.result_int(), 200);
  EXPECT_EQ(second.res.result_int(), 200);
  EXPECT_EQ(mock_->connections_accepted(), 1u);
  EXPECT_EQ(mock_->requests_served(), 2u);
}

TEST_F(MockUpstreamTest, ConnectionCloseIsHonoured) {
  Client client = Connect();
  Reply r = client.Post("/v1/chat/completions", kChatBody, {{"connection", "close"}});
  ASSERT_FALSE(r.ec);
  EXPECT_FALSE(r.res.keep_alive());
  EXPECT_EQ(client.ReadEnd(), asio::error::eof);
}

TEST_F(MockUpstreamTest, RecordsMethodTargetHeadersAndBody) {
  Reply r = Post("/v1/chat/completions?x=1", kChatBody,
                 {{"Authorization", "Bearer sk-test"}, {"X-Custom", "A"}});
  ASSERT_FALSE(r.ec);
  Client client = Connect();
  client.Send(http::verb::get, "/v1/models");
  std::vector<RecordedRequest> recorded = mock_->recorded_requests();
  ASSERT_EQ(recorded.size(), 2u);
  EXPECT_EQ(recorded[0].method, "POST");
  EXPECT_EQ(recorded[0].target, "/v1/chat/completions?x=1");
  EXPECT_EQ(recorded[0].authorization, "Bearer sk-test");
  EXPECT_EQ(recorded[0].headers.at("x-custom"), "A");
  EXPECT_EQ(recorded[0].headers.at("content-type"), "application/json");
  EXPECT_EQ(recorded[0].body, kChatBody);
  EXPECT_EQ(recorded[1].method, "GET");
  EXPECT_EQ(recorded[1].target, "/v1/models");
  EXPECT_TRUE(recorded[1].authorization.empty());
  mock_->ClearRecordedRequests();
  EXPECT_TRUE(mock_->recorded_requests().empty());
}

TEST_F(MockUpstreamTest, RecordedRequestsKeepOnlyTheLastN) {
  MockOptions options;
  options.max_recorded = 3;
  Start(options);
  Client client = Connect();
  for (int i = 0; i < 5; ++i) {
    client.Post("/v1/embeddings", R"({"model":"e","input":")" + std::to_string(i) + R"("})");
  }
  std::vector<RecordedRequest> recorded = mock_->recorded_requests();
  ASSERT_EQ(recorded.size(), 3u);
  EXPECT_NE(recorded[0].body.find("\"2\""), std::string::npos);
  EXPECT_NE(recorded[2].body.find("\"4\""), std::string::npos);
}

TEST_F(MockUpstreamTest, OversizedBodyIs413AndCloses) {
  MockOptions options;
  options.max_body_bytes = 1024;
  Start(options);
  Client client = Connect();
  Reply r = client.Post("/v1/chat/completions", std::string(4 << 20, ' '));
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.res.result_int(), 413);
  EXPECT_EQ(std::string_view(Parse(r.res.body())["error"]["type"]), "invalid_request_error");
  EXPECT_FALSE(r.res.keep_alive());
}

TEST_F(MockUpstreamTest, OversizedHeadersAre431AndClose) {
  MockOptions options;
  options.max_header_bytes = 1024;
  Start(options);
  Client client = Connect();
  Reply r = client.Post("/v1/chat/completions", kChatBody, {{"x-big", std::string(4096, 'a')}});
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.res.result_int(), 431);
  EXPECT_FALSE(r.res.keep_alive());
  EXPECT_EQ(client.ReadEnd(), asio::error::eof);
}

TEST_F(MockUpstreamTest, Http10StreamIsCloseDelimitedWithoutChunking) {
  tcp::socket socket(ioc_);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), mock_->port()));
  std::string body = R"({"model":"m","messages":[],"stream":true})";
  std::string request =
      "POST /v1/chat/completions HTTP/1.0\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nx-mock-tokens: 2\r\n\r\n" + body;
  asio::write(socket, asio::buffer(request));
  std::string response;
  boost::system::error_code ec;
  asio::read(socket, asio::dynamic_buffer(response), ec);  // until the server closes
  EXPECT_EQ(ec, asio::error::eof);
  EXPECT_EQ(response.find("transfer-encoding"), std::string::npos);
  std::string payload = response.substr(response.find("\r\n\r\n") + 4);
  std::vector<std::string> events = SseData(payload);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events.back(), "[DONE]");
}

TEST_F(MockUpstreamTest, ServesManyConnectionsOnSeveralThreads) {
  MockOptions options;
  options.threads = 3;
  Start(options);
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int c = 0; c < 6; ++c) {
    clients.emplace_back([&] {
      asio::io_context ioc;
      Client client(ioc, mock_->port());
      for (int i = 0; i < 20; ++i) {
        Reply r = client.Post("/v1/chat/completions", kChatBody);
        if (!r.ec && r.res.result_int() == 200) ++ok;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 120);
  EXPECT_EQ(mock_->connections_accepted(), 6u);
  EXPECT_EQ(mock_->requests_served(), 120u);
}

TEST_F(MockUpstreamTest, ServesHttpsWithASelfSignedCertificate) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("switchyard-mock-tls-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
  std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=localhost -keyout '" +
      key + "' -out '" + cert + "' >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << "needs the openssl CLI";
  MockOptions options;
  options.tls_cert_file = cert;
  options.tls_key_file = key;
  Start(options);
  EXPECT_TRUE(mock_->tls());

  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_verify_mode(asio::ssl::verify_none);
  beast::ssl_stream<beast::tcp_stream> stream(ioc_, ctx);
  beast::get_lowest_layer(stream).connect(
      tcp::endpoint(asio::ip::make_address("127.0.0.1"), mock_->port()));
  stream.handshake(asio::ssl::stream_base::client);
  beast::flat_buffer buffer;
  Reply r =
      Exchange(ioc_, stream, buffer,
               MakeRequest(http::verb::post, "/v1/chat/completions", kChatBody, {}), Ms(5000));
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.res.result_int(), 200);
  EXPECT_EQ(std::string_view(Parse(r.res.body())["object"]), "chat.completion");
  // Keep-alive works over TLS too, streaming included.
  r = Exchange(ioc_, stream, buffer,
               MakeRequest(http::verb::post, "/v1/chat/completions",
                           R"({"model":"m","messages":[],"stream":true})", {}),
               Ms(5000));
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(SseData(r.res.body()).back(), "[DONE]");
  EXPECT_EQ(mock_->connections_accepted(), 1u);
  std::filesystem::remove_all(dir);
}

TEST(MockUpstreamLifecycleTest, StartThrowsWhenThePortIsTaken) {
  MockUpstream first(MockOptions{});
  first.Start();
  MockOptions options;
  options.port = first.port();
  MockUpstream second(options);
  EXPECT_THROW(second.Start(), std::exception);
}

}  // namespace
}  // namespace switchyard::mock
