// Bodies kept in strings whose capacity has room past their end for simdjson, which reads up to
// kJsonPadding bytes beyond a document. The parsers (RequestParser, upstream::ResponseParser)
// reserve the room while a body arrives, instead of a copy adding it afterwards (a 128 KB
// prompt was copied once more for its padding, request and response alike).
#pragma once

#include <boost/beast/http/error.hpp>
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

namespace switchyard::openai {

inline constexpr std::size_t kJsonPadding = 64;  // simdjson::SIMDJSON_PADDING (checked in request.cc)

// Reserves room for a body of `length` bytes and its padding; buffer_overflow if too long.
inline void ReservePadded(std::string& body, std::uint64_t length, boost::system::error_code& ec) {
  ec = {};
  if (length > body.max_size() - kJsonPadding) {
    ec = boost::beast::http::error::buffer_overflow;
    return;
  }
  body.reserve(static_cast<std::size_t>(length) + kJsonPadding);
}

// Appends `data` to `body`, its padding kept in the capacity, and returns the bytes taken: all
// of them, or none with buffer_overflow if too long. Without a length (chunked) the string
// grows geometrically, as std::string would, padding included.
inline std::size_t AppendPadded(std::string& body, std::string_view data,
                                boost::system::error_code& ec) {
  const std::size_t size = body.size();
  if (data.size() > body.max_size() - kJsonPadding - size) {
    ec = boost::beast::http::error::buffer_overflow;
    return 0;
  }
  ec = {};
  if (body.capacity() < size + data.size() + kJsonPadding)
    body.reserve(std::max(body.capacity() * 2, size + data.size() + kJsonPadding));
  body.append(data);
  return data.size();
}

}  // namespace switchyard::openai
