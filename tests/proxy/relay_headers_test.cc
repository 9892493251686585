#include <gtest/gtest.h>

#include "proxy/relay.h"
#include "proxy/session.h"

namespace switchyard {
namespace {

namespace http = boost::beast::http;

bool Forwards(std::string_view name) {
  http::fields f;
  f.insert(name, "v");
  return ForwardsRequestHeader(*f.begin());
}

bool Relays(std::string_view name) {
  http::fields f;
  f.insert(name, "v");
  return RelaysResponseHeader(*f.begin());
}

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
