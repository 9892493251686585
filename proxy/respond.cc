#include "proxy/respond.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/write.hpp>

namespace switchyard {

namespace asio = boost::asio;
namespace http = boost::beast::http;

asio::awaitable<void> Respond(RequestContext& ctx, http::status status,
                              std::string_view content_type, std::string body) {
  http::response<http::string_body> res{status, 11};
  res.set(http::field::content_type, content_type);
  res.set("x-request-id", ctx.request_id);
  res.keep_alive(ctx.keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  ctx.status = res.result_int();
  ctx.client.expires_after(std::chrono::seconds(30));
  auto [ec, n] = co_await http::async_write(ctx.client, res, asio::as_tuple(asio::use_awaitable));
  ctx.bytes_out += n;
  if (ec) ctx.client_gone = true;
}

asio::awaitable<void> RespondError(RequestContext& ctx, const openai::ApiError& error) {
  ctx.error_code = error.code.empty() ? error.type : error.code;
  co_await Respond(ctx, error.status, "application/json", openai::ErrorBody(error));
}

}  // namespace switchyard
