// An upstream's HTTP response, parsed into the status, its fields (fields(): an OpenAI
// response carries about twenty) and the body, by one parser from the status line to the last
// byte. The body goes whole into body(), with simdjson's padding reserved, or, after
// ReadInto(), into the caller's buffer piece by piece, as a stream is relayed (need_buffer once
// it is full, as Beast's buffer_body does).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "proxy/http_fields.h"

namespace switchyard::upstream {

class ResponseParser final : public FieldsParser<false> {
 public:
  unsigned status() const { return status_; }

  std::string& body() { return body_; }
  // From now on the body goes into [data, data + size) instead of body(); the buffer must
  // outlive the reads. Set before the body's first byte is parsed (SendRequest reads the
  // header alone), or that byte goes to body().
  void ReadInto(char* data, std::size_t size) {
    out_ = data;
    room_ = size;
    to_buffer_ = true;
  }
  std::size_t room() const { return room_; }  // what is left of the ReadInto buffer

 private:
  void on_request_impl(boost::beast::http::verb, string_view, string_view, int,
                       boost::system::error_code&) override {}
  void on_response_impl(int code, string_view, int, boost::system::error_code& ec) override;
  void on_header_impl(boost::system::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                         boost::system::error_code& ec) override;
  std::size_t on_body_impl(string_view data, boost::system::error_code& ec) override;

  unsigned status_ = 0;
  std::string body_;
  bool to_buffer_ = false;
  char* out_ = nullptr;
  std::size_t room_ = 0;
};

}  // namespace switchyard::upstream
