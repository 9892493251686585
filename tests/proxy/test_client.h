// A small blocking HTTP/1.1 client for tests: whole requests, and streams read piece by
// piece. Each instance owns its io_context and one connection; not thread-safe.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <optional>
#include <string>

namespace switchyard::testing {

namespace beast = boost::beast;
namespace http = beast::http;
using Headers = std::map<std::string, std::string>;

struct Reply {
  unsigned status = 0;
  http::fields headers;
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : std::string(it->value());
  }
};

class TestClient {
 public:
  explicit TestClient(uint16_t port) : stream_(io_) {
    stream_.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  }

  void Send(http::verb verb, std::string target, std::string body, const Headers& headers = {}) {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = std::move(body);
    req.prepare_payload();
    http::write(stream_, req);
  }

  void WriteRaw(std::string_view bytes) { boost::asio::write(stream_, boost::asio::buffer(bytes)); }

  Reply Receive() {
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    http::read(stream_, buffer_, parser);
    auto res = parser.release();
    return {res.result_int(), res.base(), std::move(res.body())};
  }

  Reply Request(http::verb verb, std::string target, std::string body = "",
                const Headers& headers = {}) {
    Send(verb, std::move(target), std::move(body), headers);
    return Receive();
  }

  Reply Post(std::string target, std::string body, const Headers& headers = {}) {
    return Request(http::verb::post, std::move(target), std::move(body), headers);
  }

  // Streaming: read the head, then body pieces as they arrive.
  unsigned ReadHead() {
    stream_parser_.emplace();
    stream_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    http::read_header(stream_, buffer_, *stream_parser_);
    return stream_parser_->get().result_int();
  }
  const http::fields& stream_headers() { return stream_parser_->get().base(); }

  // The next body bytes, or nullopt at the end of the body (or on a broken connection).
  std::optional<std::string> ReadSome() {
    char chunk[8192];
    while (!stream_parser_->is_done()) {
      stream_parser_->get().body().data = chunk;
      stream_parser_->get().body().size = sizeof chunk;
      beast::error_code ec;
      http::read_some(stream_, buffer_, *stream_parser_, ec);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) return std::nullopt;
      const std::size_t n = sizeof chunk - stream_parser_->get().body().size;
      if (n) return std::string(chunk, n);
    }
    return std::nullopt;
  }

  std::string ReadToEnd() {
    std::string all;
    while (auto piece = ReadSome()) all += *piece;
    return all;
  }

  bool stream_complete() const { return stream_parser_ && stream_parser_->is_done(); }
  void Close() { stream_.close(); }

 private:
  boost::asio::io_context io_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::buffer_body>> stream_parser_;
};

}  // namespace switchyard::testing
