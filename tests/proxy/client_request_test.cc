#include "proxy/client_request.h"

#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <string>
#include <string_view>

#include "proxy/openai/padded_body.h"

namespace switchyard {
namespace {

namespace http = boost::beast::http;

// Parses `wire` whole; the request, or a failed test.
ClientRequest Parse(std::string_view wire) {
  RequestParser parser;
  parser.eager(true);
  boost::system::error_code ec;
  std::size_t used = 0;
  while (!ec && used < wire.size() && !parser.is_done())
    used += parser.put(boost::asio::buffer(wire.substr(used)), ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(parser.is_done());
  return parser.release();
}

TEST(ClientRequestTest, KeepsTheRequestLineFieldsAndBody) {
  const ClientRequest r = Parse(
      "POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer k\r\n"
      "X-Switchyard-Min-Tier: 3\r\nx-custom: 1\r\nX-Custom: 2\r\nContent-Length: 7\r\n\r\n{\"a\":1}");
  EXPECT_EQ(r.method(), http::verb::post);
  EXPECT_EQ(r.method_string(), "POST");
  EXPECT_EQ(r.target(), "/v1/chat/completions?x=1");
  EXPECT_EQ(r.version(), 11);
  EXPECT_TRUE(r.keep_alive());
  EXPECT_EQ(r[http::field::authorization], "Bearer k");
  EXPECT_EQ(r["x-switchyard-min-tier"], "3");
  EXPECT_EQ(r["X-CUSTOM"], "1");  // the first of repeated fields
  EXPECT_EQ(r["api-key"], "");
  ASSERT_EQ(r.fields().size(), 6u);
  EXPECT_EQ(r.fields()[4].name_string, "X-Custom");
  EXPECT_EQ(r.body(), "{\"a\":1}");
  EXPECT_GE(r.body().capacity(), r.body().size() + openai::kJsonPadding);
}

TEST(ClientRequestTest, TellsWhichFieldsTheConnectionFieldsList) {
  const ClientRequest r = Parse(
      "GET / HTTP/1.1\r\nConnection: keep-alive,\tX-Hop \r\nX-Hop: 1\r\nconnection: Upgrade\r\n\r\n");
  EXPECT_TRUE(r.fields().ListedInConnection("x-hop"));
  EXPECT_TRUE(r.fields().ListedInConnection("upgrade"));  // the second Connection field
  EXPECT_TRUE(r.fields().ListedInConnection("Keep-Alive"));
  EXPECT_FALSE(r.fields().ListedInConnection("x-ho"));
  EXPECT_FALSE(Parse("GET / HTTP/1.1\r\nX-Hop: 1\r\n\r\n").fields().ListedInConnection("x-hop"));
}

TEST(ClientRequestTest, KeepAliveFollowsTheVersionAndConnectionField) {
  EXPECT_FALSE(Parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keep_alive());
  EXPECT_FALSE(Parse("GET / HTTP/1.0\r\n\r\n").keep_alive());
  EXPECT_TRUE(Parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive());
}

TEST(ClientRequestTest, ReadsAChunkedBodyAndDropsItsTrailers) {
  const ClientRequest r = Parse(
      "POST /v1/embeddings HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\n{\"a\r\n4\r\n\":1}\r\n0\r\nX-Switchyard-Min-Tier: 9\r\n\r\n");
  EXPECT_EQ(r.body(), "{\"a\":1}");
  // A field sent after the body cannot add to what the header asked for.
  EXPECT_EQ(r["x-switchyard-min-tier"], "");
  EXPECT_EQ(r.fields().size(), 1u);
  // Nor can a trailer end the connection the header kept alive.
  EXPECT_TRUE(Parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "1\r\nx\r\n0\r\nConnection: close\r\n\r\n")
                  .keep_alive());
}

}  // namespace
}  // namespace switchyard
