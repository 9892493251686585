// Reading an HTTP message into Beast's parser with a plain loop: parse what the buffer holds,
// read from the stream only when the parser needs more. Beast's async_read_header,
// async_read and async_read_some stack three composed operations over the stream's own
// (executor copies and work guards at each level) and complete through the scheduler even
// when the buffer already holds the message, as a pipelined or small request does. The
// results match Beast's: the bytes parsed, and the same errors (end_of_stream on a clean
// close before a message, buffer_overflow, the parser's errors, need_buffer from a
// buffer_body parser whose buffer is full).
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <cstddef>
#include <tuple>

namespace switchyard {

enum class ReadUntil {
  kHeader,   // the header is complete (the body is left in the buffer)
  kMessage,  // the whole message is
  kSome,     // the parser took something: a piece of the body, or a chunk
};

template <class Stream, class DynamicBuffer, bool isRequest>
boost::asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> ReadHttp(
    Stream& stream, DynamicBuffer& buffer, boost::beast::http::basic_parser<isRequest>& parser,
    ReadUntil until) {
  namespace http = boost::beast::http;
  using boost::system::error_code;
  // Beast's own choice: a header alone is parsed without the body that follows it.
  if (until != ReadUntil::kSome) parser.eager(until == ReadUntil::kMessage);
  const auto finished = [&] {
    return until == ReadUntil::kHeader ? parser.is_header_done() : parser.is_done();
  };
  std::size_t parsed = 0;
  if (until != ReadUntil::kSome && finished()) co_return std::tuple(error_code{}, parsed);
  for (;;) {
    if (buffer.size() > 0) {
      error_code ec;
      const std::size_t used = parser.put(buffer.data(), ec);
      parsed += used;
      buffer.consume(used);
      if (ec && ec != http::error::need_more) co_return std::tuple(ec, parsed);
      if (!ec && used > 0) {
        if (until == ReadUntil::kSome || finished()) co_return std::tuple(ec, parsed);
        continue;  // more of the message may be buffered already
      }
    }
    const std::size_t room = boost::beast::read_size(buffer, 65536);
    if (room == 0) co_return std::tuple(error_code(http::error::buffer_overflow), parsed);
    auto [ec, n] = co_await stream.async_read_some(
        buffer.prepare(room), boost::asio::as_tuple(boost::asio::use_awaitable));
    buffer.commit(n);
    if (ec == boost::asio::error::eof) {
      // A close ends a message read until the close (a body without a length) ...
      if (parser.got_some()) {
        error_code eof_ec;
        parser.put_eof(eof_ec);
        co_return std::tuple(eof_ec, parsed);
      }
      // ... and between messages it is the peer's clean goodbye.
      co_return std::tuple(error_code(http::error::end_of_stream), parsed);
    }
    if (ec) co_return std::tuple(ec, parsed);
  }
}

}  // namespace switchyard
