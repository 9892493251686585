#include "proxy/upstream/response_parser.h"

#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <string>
#include <string_view>

#include "proxy/openai/padded_body.h"

namespace switchyard::upstream {
namespace {

namespace http = boost::beast::http;

// Feeds `wire` to the parser in one piece; returns the bytes it took.
std::size_t Put(ResponseParser& p, std::string_view wire, boost::system::error_code& ec) {
  return p.put(boost::asio::buffer(wire.data(), wire.size()), ec);
}

TEST(ResponseParserTest, KeepsEveryFieldInOrderWithRepeatsAndUnknownNames) {
  ResponseParser p;
  p.eager(true);
  const std::string wire =
      "HTTP/1.1 429 Too Many Requests\r\n"
      "Content-Type: application/json\r\n"
      "x-ratelimit-remaining-requests: 0\r\n"
      "Set-Cookie: a=1\r\n"
      "set-cookie: b=2\r\n"
      "Retry-After: 7\r\n"
      "Content-Length: 2\r\n"
      "\r\n"
      "{}";
  boost::system::error_code ec;
  EXPECT_EQ(Put(p, wire, ec), wire.size());
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_TRUE(p.is_done());
  EXPECT_EQ(p.status(), 429u);
  ASSERT_EQ(p.fields().size(), 6u);
  EXPECT_EQ(p.fields()[0].name, http::field::content_type);
  EXPECT_EQ(p.fields()[0].value, "application/json");
  EXPECT_EQ(p.fields()[1].name, http::field::unknown);
  EXPECT_EQ(p.fields()[1].name_string, "x-ratelimit-remaining-requests");
  EXPECT_EQ(p.fields()[1].value, "0");
  EXPECT_EQ(p.fields()[2].value, "a=1");
  EXPECT_EQ(p.fields()[3].name_string, "set-cookie");
  EXPECT_EQ(p.fields()[3].value, "b=2");
  // Lookups ignore case and find the first of repeated fields.
  EXPECT_EQ(p.fields().Find("SET-COOKIE"), "a=1");
  EXPECT_EQ(p.fields().Find("retry-after"), "7");
  EXPECT_EQ(p.fields().Find(http::field::content_length), "2");
  EXPECT_EQ(p.fields().Find("x-request-id"), std::nullopt);
  EXPECT_EQ(p.body(), "{}");
  EXPECT_TRUE(p.keep_alive());
}

TEST(ResponseParserTest, ReadsAWholeBodyWithRoomForTheJsonPadding) {
  ResponseParser p;
  const std::string body(1000, 'x');
  const std::string wire = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + body;
  boost::system::error_code ec;
  // In three pieces, as reads bring it in.
  std::size_t used = 0;
  for (std::size_t end : {std::size_t{20}, std::size_t{500}, wire.size()}) {
    used += Put(p, std::string_view(wire).substr(used, end - used), ec);
    if (ec == http::error::need_more) ec = {};
    ASSERT_FALSE(ec) << ec.message();
  }
  ASSERT_TRUE(p.is_done());
  EXPECT_EQ(p.body(), body);
  EXPECT_GE(p.body().capacity(), body.size() + openai::kJsonPadding);
}

TEST(ResponseParserTest, FillsTheCallersBufferChunkByChunkAndAsksForAnotherWhenFull) {
  ResponseParser p;
  const std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
  boost::system::error_code ec;
  EXPECT_EQ(Put(p, head, ec), head.size());
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_TRUE(p.is_header_done());
  char buffer[8];
  p.ReadInto(buffer, sizeof buffer);
  const std::string chunks = "a\r\ndata: 12\n\n\r\n0\r\n\r\n";  // one 10-byte chunk, then the end
  // Each put takes one piece (a chunk header, then chunk data) until the buffer is full.
  std::size_t used = 0;
  while (!ec && used < chunks.size()) used += Put(p, std::string_view(chunks).substr(used), ec);
  EXPECT_EQ(ec, http::error::need_buffer);
  EXPECT_EQ(p.room(), 0u);
  EXPECT_EQ(std::string_view(buffer, 8), "data: 12");
  p.ReadInto(buffer, sizeof buffer);
  while (!p.is_done() && used < chunks.size()) {
    ec = {};
    used += Put(p, std::string_view(chunks).substr(used), ec);
    ASSERT_TRUE(!ec || ec == http::error::need_more) << ec.message();
  }
  EXPECT_TRUE(p.is_done());
  EXPECT_EQ(sizeof buffer - p.room(), 2u);
  EXPECT_EQ(std::string_view(buffer, 2), "\n\n");
  EXPECT_TRUE(p.body().empty());  // nothing went to the whole-body string
}

TEST(ResponseParserTest, DropsTrailersAfterAChunkedBody) {
  ResponseParser p;
  p.eager(true);
  const std::string wire =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nX-Extra: 1\r\n\r\n";
  boost::system::error_code ec;
  std::size_t used = 0;
  while (!ec && !p.is_done()) used += Put(p, std::string_view(wire).substr(used), ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(p.body(), "{}");
  EXPECT_EQ(p.fields().size(), 1u);
  EXPECT_EQ(p.fields().Find("x-extra"), std::nullopt);
}

}  // namespace
}  // namespace switchyard::upstream
