// The header fields of one HTTP message as they arrived, kept in one string: each name and
// value back to back, with an index of offsets. A parser fills it once per message. Beast's
// basic_fields allocates a node per field and sorts it into a case-insensitive tree, which
// the proxy, reading each message's fields once or twice, has no use for (about 500
// instructions per field, callgrind). Field order and repeated fields are kept.
#pragma once

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/field.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard {

class HeaderFields {
 public:
  using Field = boost::beast::http::field;

  struct View {
    Field name;  // field::unknown for names Beast does not know
    std::string_view name_string;
    std::string_view value;
  };

  HeaderFields() {
    text_.reserve(1024);
    index_.reserve(24);
  }

  // Views of the fields stay valid until the next Add.
  void Add(Field name, std::string_view name_string, std::string_view value);

  std::size_t size() const { return index_.size(); }
  View operator[](std::size_t i) const;
  // The first field named `name` (case-insensitive), if any.
  std::optional<std::string_view> Find(std::string_view name) const;
  std::optional<std::string_view> Find(Field name) const;
  // Whether a Connection field lists `name`: such a field is for this hop only (RFC 9110 7.6.1).
  bool ListedInConnection(std::string_view name) const;

 private:
  struct Entry {
    Field name;
    std::uint32_t at, name_size, value_size;  // the name at `at` in text_, the value right after
  };
  std::string text_;
  std::vector<Entry> index_;
};

// What the proxy's two parsers (RequestParser, upstream::ResponseParser) share: the fields go
// into fields(), and chunk data goes to on_body_impl like any other body bytes.
template <bool isRequest>
class FieldsParser : public boost::beast::http::basic_parser<isRequest> {
 public:
  const HeaderFields& fields() const { return fields_; }

 protected:
  using string_view = boost::beast::string_view;  // Beast's, which the hooks take
  HeaderFields fields_;

 private:
  void on_field_impl(HeaderFields::Field name, string_view name_string, string_view value,
                     boost::system::error_code&) final {
    // Trailers (fields after a chunked body) come through here too: dropped, so that nothing
    // sent after the header can add to what the header said.
    if (!this->is_header_done()) fields_.Add(name, name_string, value);
  }
  void on_chunk_header_impl(std::uint64_t, string_view, boost::system::error_code&) final {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view data,
                                 boost::system::error_code& ec) final {
    return this->on_body_impl(data, ec);
  }
  void on_finish_impl(boost::system::error_code&) final {}
};

}  // namespace switchyard
