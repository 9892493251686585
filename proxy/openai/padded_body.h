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

struct PaddedStringBody {
  using value_type = std::string;

  static std::uint64_t size(const value_type& body) { return body.size(); }

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(boost::beast::http::header<isRequest, Fields>&, value_type& body) : body_(body) {}

    void init(const boost::optional<std::uint64_t>& length, boost::system::error_code& ec) {
      ec = {};
      if (!length) return;
      if (*length > body_.max_size() - kJsonPadding) {
        ec = boost::beast::http::error::buffer_overflow;
        return;
      }
      body_.reserve(static_cast<std::size_t>(*length) + kJsonPadding);
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
      const std::size_t extra = boost::asio::buffer_size(buffers);
      const std::size_t size = body_.size();
      if (extra > body_.max_size() - kJsonPadding - size) {
        ec = boost::beast::http::error::buffer_overflow;
        return 0;
      }
      ec = {};
      // Without a length (chunked), grow geometrically as std::string would, padding included.
      if (body_.capacity() < size + extra + kJsonPadding)
        body_.reserve(std::max(body_.capacity() * 2, size + extra + kJsonPadding));
      body_.resize(size + extra);
      char* out = body_.data() + size;
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
