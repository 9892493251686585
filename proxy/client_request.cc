#include "proxy/client_request.h"

#include "proxy/openai/padded_body.h"

namespace switchyard {

void RequestParser::on_request_impl(boost::beast::http::verb method, string_view method_string,
                                    string_view target, int version, boost::system::error_code&) {
  request_.method_ = method;
  request_.version_ = version;
  request_.method_string_.assign(method_string.data(), method_string.size());
  request_.target_.assign(target.data(), target.size());
}

void RequestParser::on_body_init_impl(const boost::optional<std::uint64_t>& length,
                                      boost::system::error_code& ec) {
  ec = {};
  if (length) openai::ReservePadded(request_.body_, *length, ec);
}

std::size_t RequestParser::on_body_impl(string_view data, boost::system::error_code& ec) {
  return openai::AppendPadded(request_.body_, data, ec);
}

}  // namespace switchyard
