#include "proxy/upstream/failure.h"

#include <fmt/format.h>

namespace switchyard::upstream {

namespace http = boost::beast::http;

const char* KindName(FailureKind kind) {
  switch (kind) {
    case FailureKind::kNone: return "none";
    case FailureKind::kResolve: return "resolve";
    case FailureKind::kConnect: return "connect";
    case FailureKind::kConnectTimeout: return "connect_timeout";
    case FailureKind::kTls: return "tls";
    case FailureKind::kTlsTimeout: return "tls_timeout";
    case FailureKind::kPoolTimeout: return "pool_timeout";
    case FailureKind::kSend: return "send";
    case FailureKind::kFirstByteTimeout: return "first_byte_timeout";
    case FailureKind::kIdleTimeout: return "idle_timeout";
    case FailureKind::kTotalTimeout: return "total_timeout";
    case FailureKind::kBadResponse: return "bad_response";
    case FailureKind::kReset: return "reset";
    case FailureKind::kStatus: return "status";
  }
  return "unknown";
}

static bool IsTimeout(FailureKind kind) {
  switch (kind) {
    case FailureKind::kConnectTimeout:
    case FailureKind::kTlsTimeout:
    case FailureKind::kPoolTimeout:
    case FailureKind::kFirstByteTimeout:
    case FailureKind::kIdleTimeout:
    case FailureKind::kTotalTimeout: return true;
    default: return false;
  }
}

openai::ApiError ToApiError(const Failure& failure, const std::string& upstream_name) {
  const bool timeout = IsTimeout(failure.kind);
  std::string message = fmt::format("Upstream '{}' {}: {}.", upstream_name,
                                    timeout ? "timed out" : "failed", failure.detail);
  return {timeout ? http::status::gateway_timeout : http::status::bad_gateway,
          timeout ? "timeout_error" : "upstream_error",
          fmt::format("upstream_{}", KindName(failure.kind)), std::move(message), {}};
}

}  // namespace switchyard::upstream
