#include <gtest/gtest.h>

#include "proxy/relay.h"
#include "proxy/respond.h"
#include "proxy/session.h"

namespace switchyard {
namespace {

namespace http = boost::beast::http;

bool Forwards(std::string_view name) { return ForwardsRequestHeader(http::string_to_field(name), name); }

bool Relays(std::string_view name) { return RelaysResponseHeader(http::string_to_field(name), name); }

TEST(RelayHeadersTest, DropsClientCredentialsAccountSelectorsAndHopByHopHeaders) {
  for (auto name : {"Authorization", "authorization", "Api-Key", "X-Api-Key", "Cookie", "Host",
                    "Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Upgrade",
                    "Content-Length", "Proxy-Authorization", "Accept-Encoding", "x-request-id",
                    "OpenAI-Organization", "OpenAI-Project", "x-goog-api-key"})
    EXPECT_FALSE(Forwards(name)) << name;
}

TEST(RelayHeadersTest, ForwardsEndToEndHeaders) {
  for (auto name : {"Content-Type", "OpenAI-Beta", "User-Agent",
                    "x-stainless-lang", "x-mock-tokens"})
    EXPECT_TRUE(Forwards(name)) << name;
}

TEST(RelayHeadersTest, RelaysRateLimitHeadersButNotHopByHopOnes) {
  EXPECT_TRUE(Relays("x-ratelimit-remaining-requests"));
  EXPECT_TRUE(Relays("openai-processing-ms"));
  EXPECT_TRUE(Relays("retry-after"));
  EXPECT_FALSE(Relays("Transfer-Encoding"));
  EXPECT_FALSE(Relays("Connection"));
  EXPECT_FALSE(Relays("Set-Cookie"));
  EXPECT_FALSE(Relays("x-request-id"));  // ours replaces it; theirs becomes x-upstream-request-id
}

TEST(RelayHeadersTest, DropsTheProxysOwnFieldsFromAnUpstreamThatIsAnotherProxy) {
  for (auto name : {"x-upstream-request-id", "X-Switchyard-Model", "x-switchyard-score",
                    "x-switchyard-tier", "x-switchyard-upstream"})
    EXPECT_FALSE(Relays(name)) << name;
  EXPECT_TRUE(Relays("x-switchyard"));
}

TEST(ResponseHeadTest, FramesABodyWithItsLengthAndClosesWhenAsked) {
  ResponseHead head(200);
  head.Add("Content-Type", "application/json");
  EXPECT_EQ(head.Finish(/*keep_alive=*/true, 42),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 42\r\n\r\n");
  ResponseHead closing(429);
  EXPECT_EQ(closing.Finish(/*keep_alive=*/false, 0),
            "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}

TEST(ResponseHeadTest, NoLengthForStatusesWithoutABodyAndChunkedForStreams) {
  EXPECT_EQ(ResponseHead(204).Finish(true, 0), "HTTP/1.1 204 No Content\r\n\r\n");
  EXPECT_EQ(ResponseHead(304).Finish(true, 0), "HTTP/1.1 304 Not Modified\r\n\r\n");
  ResponseHead stream(200);
  stream.Add("Content-Type", "text/event-stream");
  EXPECT_EQ(stream.FinishChunked(true),
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(ResponseHead(597).Finish(true, 0), "HTTP/1.1 597 \r\nContent-Length: 0\r\n\r\n");
}

TEST(RequestIdTest, KeepsASaneClientIdAndGeneratesOtherwise) {
  EXPECT_EQ(RequestIdFor("req-123_abc"), "req-123_abc");
  const std::string generated = RequestIdFor("");
  EXPECT_EQ(generated.size(), 32u);
  EXPECT_NE(generated, RequestIdFor(""));
  EXPECT_NE(RequestIdFor("has space"), "has space");
  EXPECT_NE(RequestIdFor(std::string(300, 'a')), std::string(300, 'a'));
}

}  // namespace
}  // namespace switchyard
