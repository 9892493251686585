#include "proxy/upstream/response_parser.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <cstring>

#include "proxy/openai/padded_body.h"

namespace switchyard::upstream {

namespace http = boost::beast::http;

ResponseParser::FieldView ResponseParser::field(std::size_t i) const {
  const StoredField& f = fields_[i];
  const std::string_view text(text_);
  return {f.name, text.substr(f.at, f.name_size), text.substr(f.at + f.name_size, f.value_size)};
}

std::optional<std::string_view> ResponseParser::Find(std::string_view name) const {
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    const FieldView f = field(i);
    if (boost::beast::iequals(f.name_string, name)) return f.value;
  }
  return std::nullopt;
}

std::optional<std::string_view> ResponseParser::Find(Field name) const {
  for (std::size_t i = 0; i < fields_.size(); ++i)
    if (fields_[i].name == name) return field(i).value;
  return std::nullopt;
}

void ResponseParser::on_response_impl(int code, string_view, int, boost::system::error_code&) {
  status_ = static_cast<unsigned>(code);
}

void ResponseParser::on_field_impl(Field name, string_view name_string, string_view value,
                                   boost::system::error_code&) {
  // Offsets fit in 32 bits: Beast's header_limit, which bounds the whole header, is 32 bits.
  fields_.push_back({name, static_cast<std::uint32_t>(text_.size()),
                     static_cast<std::uint32_t>(name_string.size()),
                     static_cast<std::uint32_t>(value.size())});
  text_.append(name_string.data(), name_string.size());
  text_.append(value.data(), value.size());
}

void ResponseParser::on_body_init_impl(const boost::optional<std::uint64_t>& length,
                                       boost::system::error_code& ec) {
  ec = {};
  if (length && !to_buffer_) openai::ReservePadded(body_, *length, ec);
}

std::size_t ResponseParser::on_body_impl(string_view data, boost::system::error_code& ec) {
  if (!to_buffer_) {
    char* out = openai::GrowPadded(body_, data.size(), ec);
    if (!out) return 0;
    std::memcpy(out, data.data(), data.size());
    return data.size();
  }
  const std::size_t n = std::min(room_, data.size());
  if (n > 0) std::memcpy(out_, data.data(), n);
  out_ += n;
  room_ -= n;
  ec = n < data.size() ? http::error::need_buffer : boost::system::error_code{};
  return n;
}

}  // namespace switchyard::upstream
