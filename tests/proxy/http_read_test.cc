// ReadHttp (proxy/http_read.h) over a real loopback connection: what arrives how.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>
#include <thread>

#include "proxy/client_request.h"
#include "proxy/http_read.h"
#include "proxy/openai/padded_body.h"

namespace switchyard {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using boost::system::error_code;

// A connected pair: `reader` for ReadHttp, `writer` written to from the test's thread.
class HttpReadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tcp::acceptor acceptor(io_, {asio::ip::make_address("127.0.0.1"), 0});
    writer_.connect(acceptor.local_endpoint());
    acceptor.accept(reader_);
    writer_.set_option(tcp::no_delay(true));
  }

  void Send(std::string_view bytes) { asio::write(writer_, asio::buffer(bytes)); }

  // Runs one ReadHttp to completion on the test's io_context.
  template <class Parser>
  std::tuple<error_code, std::size_t> Read(Parser& parser, ReadUntil until) {
    auto done = asio::co_spawn(io_, ReadHttp(reader_, buffer_, parser, until), asio::use_future);
    io_.restart();
    io_.run();
    return done.get();
  }

  asio::io_context io_;
  tcp::socket reader_{io_};
  tcp::socket writer_{io_};
  boost::beast::flat_buffer buffer_{64 * 1024};
};

constexpr std::string_view kPost =
    "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";

TEST_F(HttpReadTest, TwoPipelinedRequestsComeOutOneAtATimeAndThenTheCloseIsEndOfStream) {
  Send(std::string(kPost) + std::string(kPost));
  writer_.shutdown(tcp::socket::shutdown_send);
  for (int i = 0; i < 2; ++i) {
    http::request_parser<http::string_body> parser;
    auto [ec, n] = Read(parser, ReadUntil::kMessage);
    ASSERT_FALSE(ec) << i << ": " << ec.message();
    EXPECT_EQ(n, kPost.size());
    EXPECT_EQ(parser.get().body(), "hello");
  }
  http::request_parser<http::string_body> parser;
  auto [ec, n] = Read(parser, ReadUntil::kMessage);
  EXPECT_EQ(ec, http::error::end_of_stream);
}

TEST_F(HttpReadTest, AHeaderArrivingByteByByteIsReadWholeAndLeavesTheBodyUnparsed) {
  std::thread slow([&] {
    for (char c : kPost) {
      Send({&c, 1});
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  http::request_parser<http::string_body> parser;
  auto [ec, n] = Read(parser, ReadUntil::kHeader);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_TRUE(parser.is_header_done());
  EXPECT_FALSE(parser.is_done());
  EXPECT_EQ(parser.get()[http::field::host], "x");
  std::tie(ec, n) = Read(parser, ReadUntil::kMessage);
  slow.join();
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(parser.get().body(), "hello");
}

TEST_F(HttpReadTest, ABodyWithoutALengthEndsAtTheClose) {
  Send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"a\":");
  Send("1}");
  writer_.shutdown(tcp::socket::shutdown_send);
  http::response_parser<http::string_body> parser;
  auto [ec, n] = Read(parser, ReadUntil::kMessage);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(parser.get().body(), "{\"a\":1}");
}

TEST_F(HttpReadTest, ACloseMidBodyIsAPartialMessage) {
  Send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part");
  writer_.shutdown(tcp::socket::shutdown_send);
  http::response_parser<http::string_body> parser;
  auto [ec, n] = Read(parser, ReadUntil::kMessage);
  EXPECT_EQ(ec, http::error::partial_message);
}

TEST_F(HttpReadTest, AHeaderLargerThanTheBufferIsABufferOverflow) {
  buffer_ = boost::beast::flat_buffer(1024);
  std::string huge = "GET / HTTP/1.1\r\nx-big: " + std::string(4096, 'a') + "\r\n\r\n";
  std::thread writer([&] {
    error_code ignored;
    asio::write(writer_, asio::buffer(huge), ignored);
  });
  http::request_parser<http::string_body> parser;
  parser.header_limit(1 << 20);
  auto [ec, n] = Read(parser, ReadUntil::kHeader);
  EXPECT_EQ(ec, http::error::buffer_overflow);
  reader_.close();
  writer.join();
}

TEST_F(HttpReadTest, ReadingSomeOfAChunkedBodyYieldsEachChunkAndNeedBufferWhenTheBufferIsFull) {
  Send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n");
  http::response_parser<http::buffer_body> parser;
  auto [ec, n] = Read(parser, ReadUntil::kHeader);
  ASSERT_FALSE(ec) << ec.message();
  char out[64];
  std::string body;
  auto read_some = [&](std::size_t room) {
    parser.get().body().data = out;
    parser.get().body().size = room;
    auto result = Read(parser, ReadUntil::kSome);
    body.append(out, room - parser.get().body().size);
    return std::get<0>(result);
  };
  // Each call takes one step of the parser: a chunk's size line, or its data.
  auto read_data = [&](std::size_t room) {
    const std::size_t before = body.size();
    error_code ec;
    do ec = read_some(room);
    while (!ec && body.size() == before && !parser.is_done());
    return ec;
  };
  EXPECT_FALSE(read_data(sizeof out));
  EXPECT_EQ(body, "first");
  Send("6\r\nsecond\r\n0\r\n\r\n");
  EXPECT_EQ(read_data(3), http::error::need_buffer);  // "sec"; the rest waits for room
  EXPECT_EQ(body, "firstsec");
  while (!parser.is_done()) {
    const error_code some = read_some(sizeof out);
    ASSERT_TRUE(!some || some == http::error::need_buffer) << some.message();
  }
  EXPECT_EQ(body, "firstsecond");
}

TEST_F(HttpReadTest, APaddedBodyHasRoomForSimdjsonWithOrWithoutALength) {
  Send(kPost);
  RequestParser sized;
  auto [ec, n] = Read(sized, ReadUntil::kMessage);
  ASSERT_FALSE(ec) << ec.message();
  const ClientRequest small = sized.release();
  EXPECT_EQ(small.body(), "hello");
  EXPECT_GE(small.body().capacity(), 5 + openai::kJsonPadding);

  const std::string chunk(100, 'x');
  Send("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
  // Two chunks: a plain string's growth would leave its capacity at exactly 200.
  for (int i = 0; i < 2; ++i) Send("64\r\n" + chunk + "\r\n");
  Send("0\r\n\r\n");
  RequestParser chunked;
  std::tie(ec, n) = Read(chunked, ReadUntil::kMessage);
  ASSERT_FALSE(ec) << ec.message();
  const ClientRequest two_chunks = chunked.release();
  EXPECT_EQ(two_chunks.body(), chunk + chunk);
  EXPECT_GE(two_chunks.body().capacity(), 200 + openai::kJsonPadding);
}

}  // namespace
}  // namespace switchyard
