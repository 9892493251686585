// A string body for Beast's parser whose capacity keeps room past its end for simdjson, which
// reads up to kJsonPadding bytes beyond a document. Bodies are parsed as they arrived, so
// the room is reserved while they are read, not added by a copy afterwards (a 128 KB prompt
// was copied once more for its padding, request and response alike).
#pragma once

#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>
#include <algorithm>
#include <cstdint>
#include <string>

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

// Grows `body` by `extra` bytes, its padding kept in the capacity, and returns where they go;
// null with buffer_overflow if too long. Without a length (chunked) it grows geometrically, as
// std::string would, padding included.
inline char* GrowPadded(std::string& body, std::size_t extra, boost::system::error_code& ec) {
  const std::size_t size = body.size();
  if (extra > body.max_size() - kJsonPadding - size) {
    ec = boost::beast::http::error::buffer_overflow;
    return nullptr;
  }
  ec = {};
  if (body.capacity() < size + extra + kJsonPadding)
    body.reserve(std::max(body.capacity() * 2, size + extra + kJsonPadding));
  body.resize(size + extra);
  return body.data() + size;
}

struct PaddedStringBody {
  using value_type = std::string;

  static std::uint64_t size(const value_type& body) { return body.size(); }

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(boost::beast::http::header<isRequest, Fields>&, value_type& body) : body_(body) {}

    void init(const boost::optional<std::uint64_t>& length, boost::system::error_code& ec) {
      ec = {};
      if (length) ReservePadded(body_, *length, ec);
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
      const std::size_t extra = boost::asio::buffer_size(buffers);
      char* out = GrowPadded(body_, extra, ec);
      if (!out) return 0;
      for (const auto b : boost::beast::buffers_range_ref(buffers)) {
        out = std::copy_n(static_cast<const char*>(b.data()), b.size(), out);
      }
      return extra;
    }

    void finish(boost::system::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

}  // namespace switchyard::openai
