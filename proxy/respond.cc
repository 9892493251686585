#include "proxy/respond.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/status.hpp>
#include <algorithm>
#include <array>
#include <charconv>

#include "proxy/server.h"

namespace switchyard {

namespace asio = boost::asio;
namespace http = boost::beast::http;

// A client that takes no bytes for this long is gone.
static constexpr std::chrono::seconds kClientWriteTimeout{30};

ResponseHead::ResponseHead(unsigned status) : status_(status) {
  const http::status known = http::int_to_status(status);
  // An empty reason phrase is valid HTTP; Beast's "<unknown-status>" is not a reason.
  const std::string_view reason = known == http::status::unknown ? "" : http::obsolete_reason(known);
  text_.reserve(512);
  text_ += "HTTP/1.1 ";
  text_ += std::to_string(status);
  text_ += ' ';
  text_ += reason;
  text_ += "\r\n";
}

void AppendHeaderField(std::string& head, std::string_view name, std::string_view value) {
  // One size check and two copies; four appends checked the capacity four times.
  const std::size_t at = head.size();
  head.resize(at + name.size() + value.size() + 4);
  char* out = std::copy(name.begin(), name.end(), head.data() + at);
  *out++ = ':';
  *out++ = ' ';
  out = std::copy(value.begin(), value.end(), out);
  *out++ = '\r';
  *out = '\n';
}

void AppendHeaderField(std::string& head, std::string_view name, std::uint64_t value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  AppendHeaderField(head, name, {digits, static_cast<std::size_t>(end - digits)});
}

const std::string& ResponseHead::Finish(bool keep_alive, std::size_t content_length) {
  if (status_ >= 200 && status_ != 204 && status_ != 304)
    AppendHeaderField(text_, "Content-Length", content_length);
  if (!keep_alive) Add("Connection", "close");
  text_ += "\r\n";
  return text_;
}

const std::string& ResponseHead::FinishChunked(bool keep_alive) {
  Add("Transfer-Encoding", "chunked");
  if (!keep_alive) Add("Connection", "close");
  text_ += "\r\n";
  return text_;
}

asio::awaitable<void> Respond(RequestContext& ctx, Reply reply) {
  ResponseHead head(static_cast<unsigned>(reply.status));
  head.Add("Content-Type", reply.content_type);
  head.Add("x-request-id", ctx.request_id);
  if (!reply.should_retry) head.Add("x-should-retry", "false");
  ctx.keep_alive = ctx.keep_alive && !ctx.worker.draining();  // a drain may have begun since
  const std::string& text = head.Finish(ctx.keep_alive, reply.body.size());
  // HEAD: the length of the body it would have had, and no body.
  const std::string_view body =
      ctx.request.method() == http::verb::head ? std::string_view() : reply.body;
  ctx.status = static_cast<unsigned>(reply.status);
  ctx.client.expires_after(kClientWriteTimeout);
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(text), asio::buffer(body)};
  auto [ec, n] = co_await asio::async_write(ctx.client, buffers, asio::as_tuple(asio::use_awaitable));
  ctx.bytes_out += n;
  if (ec) ctx.client_gone = true;
}

asio::awaitable<void> RespondError(RequestContext& ctx, openai::ApiError error) {
  ctx.error_code = error.code.empty() ? error.type : error.code;
  Reply reply{error.status, "application/json", openai::ErrorBody(error), error.should_retry};
  co_await Respond(ctx, std::move(reply));
}

}  // namespace switchyard
