#include "proxy/pipeline.h"

#include <fmt/format.h>

#include "proxy/relay.h"
#include "proxy/respond.h"
#include "proxy/server.h"

namespace switchyard {

namespace asio = boost::asio;
using openai::ApiError;
using Result = std::optional<ApiError>;  // nullopt: continue with the next phase

// 1. Parse: the fields routing needs, in one pass; the body stays as it came.
static Result Parse(RequestContext& ctx) {
  std::string& body = ctx.request.body();
  openai::ReservePadding(body);
  auto parsed = openai::ParseRequest(body);
  if (!parsed) return parsed.error();
  ctx.parsed = std::move(*parsed);
  return std::nullopt;
}

// 2. Admit: client keys, tenants and budgets will decide here; every request is admitted.
static Result Admit(RequestContext&) { return std::nullopt; }

// 3. Route: the public model name picks the upstream and its model name.
static Result Route(RequestContext& ctx) {
  ctx.model = ctx.runtime->FindModel(ctx.parsed.model);
  if (ctx.model) return std::nullopt;
  return openai::NotFound(
      fmt::format("The model '{}' does not exist or you do not have access to it.",
                  ctx.parsed.model.substr(0, 256)),
      "model_not_found");
}

asio::awaitable<void> RunPipeline(RequestContext& ctx) {
  Result error = Parse(ctx);
  if (!error) error = Admit(ctx);
  if (!error) error = Route(ctx);
  if (error)
    co_await RespondError(ctx, std::move(*error));
  else
    co_await Forward(ctx);  // 4. relay.cc
}

void Account(const RequestContext& ctx) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.start).count();
  // A client that left before any status was sent counts as 499, as in nginx.
  const unsigned status = ctx.status ? ctx.status : 499;
  Metrics& metrics = ctx.worker.metrics();
  metrics.RecordHttp(ctx.route, status, seconds);
  const bool api = ctx.route == Route::kChatCompletions || ctx.route == Route::kCompletions ||
                   ctx.route == Route::kEmbeddings;
  if (api) metrics.RecordApi(ctx.model, status);
  AccessLogEntry entry;
  entry.request_id = ctx.request_id;
  entry.method = ctx.request.method_string();
  entry.path = ctx.path;
  if (ctx.model) {
    entry.model = ctx.model->config->name;
    entry.upstream = ctx.model->config->upstream;
  }
  entry.status = status;
  entry.duration_ms = seconds * 1e3;
  entry.bytes_in = ctx.request.body().size();
  entry.bytes_out = ctx.bytes_out;
  entry.stream = ctx.parsed.stream;
  entry.error = ctx.error_code;
  if (ctx.client_gone && ctx.error_code.empty()) entry.error = "client_closed";
  ctx.worker.access_log().Write(entry);
}

}  // namespace switchyard
