// An upstream's HTTP response, parsed without a header container: the status line, then every
// field kept in wire order in one string, then the body. Beast's response_parser gives each
// field a node of its own (an allocation, and an insert into a case-insensitive tree) that the
// proxy reads once and drops; an OpenAI response carries about twenty fields.
// The body goes whole into body(), with simdjson's padding reserved, or, after ReadInto(), into
// the caller's buffer piece by piece, as a stream is relayed (need_buffer once it is full, as
// Beast's buffer_body does).
#pragma once

#include <boost/beast/http/basic_parser.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::upstream {

class ResponseParser final : public boost::beast::http::basic_parser<false> {
 public:
  using Field = boost::beast::http::field;

  struct FieldView {
    Field name;  // field::unknown for names Beast does not know
    std::string_view name_string;
    std::string_view value;
  };

  ResponseParser() {
    text_.reserve(1024);
    fields_.reserve(24);
  }

  unsigned status() const { return status_; }
  std::size_t field_count() const { return fields_.size(); }
  FieldView field(std::size_t i) const;
  // The first field named `name` (case-insensitive), if any.
  std::optional<std::string_view> Find(std::string_view name) const;
  std::optional<std::string_view> Find(Field name) const;

  std::string& body() { return body_; }
  // From now on the body goes into [data, data + size) instead of body().
  void ReadInto(char* data, std::size_t size) {
    out_ = data;
    room_ = size;
    to_buffer_ = true;
  }
  std::size_t room() const { return room_; }  // what is left of the ReadInto buffer

 private:
  struct StoredField {
    Field name;
    std::uint32_t at, name_size, value_size;  // the name at `at` in text_, the value after it
  };

  using string_view = boost::beast::string_view;  // Beast's, which the hooks take
  void on_request_impl(boost::beast::http::verb, string_view, string_view, int,
                       boost::system::error_code&) override {}
  void on_response_impl(int code, string_view, int, boost::system::error_code& ec) override;
  void on_field_impl(Field name, string_view name_string, string_view value,
                     boost::system::error_code& ec) override;
  void on_header_impl(boost::system::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                         boost::system::error_code& ec) override;
  std::size_t on_body_impl(string_view data, boost::system::error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t, string_view, boost::system::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view data,
                                 boost::system::error_code& ec) override {
    return on_body_impl(data, ec);
  }
  void on_finish_impl(boost::system::error_code&) override {}

  unsigned status_ = 0;
  std::string text_;  // each field's name then value, back to back
  std::vector<StoredField> fields_;
  std::string body_;
  bool to_buffer_ = false;
  char* out_ = nullptr;
  std::size_t room_ = 0;
};

}  // namespace switchyard::upstream
