// A client's HTTP request as the proxy keeps it: the request line, the fields (HeaderFields)
// and the body, filled by RequestParser in one pass, with simdjson's padding reserved behind
// the body as it arrives. The accessors read like Beast's message, whose place it takes.
#pragma once

#include <boost/beast/http/verb.hpp>
#include <string>
#include <string_view>

#include "proxy/http_fields.h"

namespace switchyard {

class ClientRequest {
 public:
  boost::beast::http::verb method() const { return method_; }
  std::string_view method_string() const { return method_string_; }
  std::string_view target() const { return target_; }
  int version() const { return version_; }  // 11 for HTTP/1.1
  // HTTP/1.1 without `Connection: close`, or HTTP/1.0 with `Connection: keep-alive`.
  bool keep_alive() const { return keep_alive_; }
  const HeaderFields& fields() const { return fields_; }
  // The first field of that name, "" if there is none (as Beast's message[] answers).
  std::string_view operator[](boost::beast::http::field name) const {
    return fields_.Find(name).value_or(std::string_view());
  }
  std::string_view operator[](std::string_view name) const {
    return fields_.Find(name).value_or(std::string_view());
  }
  std::string& body() { return body_; }
  const std::string& body() const { return body_; }

 private:
  friend class RequestParser;
  boost::beast::http::verb method_ = boost::beast::http::verb::unknown;
  std::string method_string_;
  std::string target_;
  int version_ = 0;
  bool keep_alive_ = false;
  HeaderFields fields_;
  std::string body_;
};

class RequestParser final : public FieldsParser<true> {
 public:
  // The request read so far (all of it once is_done()); the parser is spent afterwards.
  ClientRequest release() {
    request_.fields_ = std::move(fields_);
    return std::move(request_);
  }

 private:
  void on_request_impl(boost::beast::http::verb method, string_view method_string,
                       string_view target, int version, boost::system::error_code& ec) override;
  void on_response_impl(int, string_view, int, boost::system::error_code&) override {}
  // Taken here, not at release: Beast also applies a trailer's Connection field to keep_alive().
  void on_header_impl(boost::system::error_code&) override { request_.keep_alive_ = keep_alive(); }
  void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                         boost::system::error_code& ec) override;
  std::size_t on_body_impl(string_view data, boost::system::error_code& ec) override;

  ClientRequest request_;
};

}  // namespace switchyard
