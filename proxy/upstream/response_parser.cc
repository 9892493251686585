#include "proxy/upstream/response_parser.h"

#include <boost/beast/http/error.hpp>
#include <cstring>

#include "proxy/openai/padded_body.h"

namespace switchyard::upstream {

namespace http = boost::beast::http;

void ResponseParser::on_response_impl(int code, string_view, int, boost::system::error_code&) {
  status_ = static_cast<unsigned>(code);
}

void ResponseParser::on_body_init_impl(const boost::optional<std::uint64_t>& length,
                                       boost::system::error_code& ec) {
  ec = {};
  if (length && !to_buffer_) openai::ReservePadded(body_, *length, ec);
}

std::size_t ResponseParser::on_body_impl(string_view data, boost::system::error_code& ec) {
  if (!to_buffer_) return openai::AppendPadded(body_, data, ec);
  const std::size_t n = std::min(room_, data.size());
  if (n > 0) std::memcpy(out_, data.data(), n);
  out_ += n;
  room_ -= n;
  ec = n < data.size() ? http::error::need_buffer : boost::system::error_code{};
  return n;
}

}  // namespace switchyard::upstream
