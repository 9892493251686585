#include "proxy/http_fields.h"

#include <boost/assert.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>

namespace switchyard {

void HeaderFields::Add(Field name, std::string_view name_string, std::string_view value) {
  // Offsets fit in 32 bits: Beast's header_limit, which bounds a whole header, is 32 bits.
  const auto at = static_cast<std::uint32_t>(text_.size());
  text_.append(name_string);
  text_.append(value);  // before the entry: a throw leaves no entry past the end of text_
  index_.push_back({name, at, static_cast<std::uint32_t>(name_string.size()),
                    static_cast<std::uint32_t>(value.size())});
}

HeaderFields::View HeaderFields::operator[](std::size_t i) const {
  const Entry& e = index_[i];
  const std::string_view text(text_);
  return {e.name, text.substr(e.at, e.name_size), text.substr(e.at + e.name_size, e.value_size)};
}

std::optional<std::string_view> HeaderFields::Find(std::string_view name) const {
  for (std::size_t i = 0; i < index_.size(); ++i) {
    const View f = (*this)[i];
    if (boost::beast::iequals(f.name_string, name)) return f.value;
  }
  return std::nullopt;
}

std::optional<std::string_view> HeaderFields::Find(Field name) const {
  BOOST_ASSERT(name != Field::unknown);  // many names are unknown: look those up by string
  for (std::size_t i = 0; i < index_.size(); ++i)
    if (index_[i].name == name) return (*this)[i].value;
  return std::nullopt;
}

bool HeaderFields::ListedInConnection(std::string_view name) const {
  for (const Entry& e : index_) {
    if (e.name != Field::connection) continue;
    const std::string_view list = std::string_view(text_).substr(e.at + e.name_size, e.value_size);
    for (const auto token : boost::beast::http::token_list(list))
      if (boost::beast::iequals(token, name)) return true;
  }
  return false;
}

}  // namespace switchyard
