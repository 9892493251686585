#include "proxy/respond.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/write.hpp>

#include "proxy/server.h"

namespace switchyard {

namespace asio = boost::asio;
namespace http = boost::beast::http;

// A client that takes no bytes for this long is gone.
static constexpr std::chrono::seconds kClientWriteTimeout{30};

asio::awaitable<void> Respond(RequestContext& ctx, Reply reply) {
  http::response<http::string_body> res{reply.status, 11};
  res.set(http::field::content_type, reply.content_type);
  res.set("x-request-id", ctx.request_id);
  if (!reply.should_retry) res.set("x-should-retry", "false");
  ctx.keep_alive = ctx.keep_alive && !ctx.worker.draining();  // a drain may have begun since
  res.keep_alive(ctx.keep_alive);
  res.body() = std::move(reply.body);
  res.prepare_payload();
  if (ctx.request.method() == http::verb::head) res.body().clear();  // the length stays
  ctx.status = res.result_int();
  ctx.client.expires_after(kClientWriteTimeout);
  auto [ec, n] = co_await http::async_write(ctx.client, res, asio::as_tuple(asio::use_awaitable));
  ctx.bytes_out += n;
  if (ec) ctx.client_gone = true;
}

asio::awaitable<void> RespondError(RequestContext& ctx, openai::ApiError error) {
  ctx.error_code = error.code.empty() ? error.type : error.code;
  Reply reply{error.status, "application/json", openai::ErrorBody(error), error.should_retry};
  co_await Respond(ctx, std::move(reply));
}

}  // namespace switchyard
